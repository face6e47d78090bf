//! What the cockpit shows, folded from pipeline Events and nothing else. The cockpit never asks an
//! adapter anything: if it is on the screen, it came through an Event, so a replay of the audit log
//! (or a stream from `ccp serve`) draws exactly what the live run drew.
//!
//! The facts come from core's one projection; this module adds only what is the cockpit's own:
//! the timeline's rows with their colour hints, and a version to redraw on change.

use crate::theme::Status;
use ccp_core::domain::{Outcome, ServiceHealth};
use ccp_core::event_text as text;
use ccp_core::events::{Event, EventKind};
use ccp_core::explain::Justification;
use ccp_core::projection::{IncidentState, Projection, Verdict};
use ccp_core::state::State;
use std::sync::LazyLock;

/// One row of the Timeline pane.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineEntry {
    /// Event sequence number.
    pub seq: u64,
    /// `HH:MM:SS` of the pipeline clock.
    pub time: String,
    /// Short kind label (`state`, `gate`, `decision`…).
    pub label: String,
    /// One-line summary.
    pub summary: String,
    /// Further lines (RCA candidates, diff, approval reasons) shown in details.
    pub more: Vec<String>,
    /// Colour hint.
    pub status: Status,
    /// The decision record, for `decision` events: Enter shows it.
    pub justification: Option<Justification>,
}

/// Everything the cockpit draws. `apply` is the only way it changes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ViewModel {
    /// Every incident and the fleet, folded by core's projection.
    pub projection: Projection,
    /// Every event, summarised.
    pub timeline: Vec<TimelineEntry>,
    /// Bumped on every applied event, so the loop redraws only on change.
    pub version: u64,
    /// The incident every pane shows, picked in the Incidents pane; `None` shows the newest.
    pub focus: Option<String>,
    /// What a desk of concurrent incidents reports beside its events (`2 running · 1 queued:
    /// api`), for the Incidents pane's title; `None` with a single pipeline.
    pub desk: Option<String>,
}

/// What the panes show before any incident has opened.
static NO_INCIDENT: LazyLock<IncidentState> = LazyLock::new(IncidentState::default);

impl ViewModel {
    /// Fold one event in.
    pub fn apply(&mut self, ev: &Event) {
        self.version += 1;
        self.timeline.push(timeline_entry(ev));
        self.projection.apply(ev);
    }

    /// The incident on screen (the picked one, else the newest), or an empty one before any
    /// opened.
    pub fn run(&self) -> &IncidentState {
        self.active_incident().unwrap_or(&NO_INCIDENT)
    }

    /// Incidents, oldest first.
    pub fn incidents(&self) -> &[IncidentState] {
        self.projection.incidents()
    }

    /// The incident on screen (the picked one, else the newest), if one has opened.
    pub fn active_incident(&self) -> Option<&IncidentState> {
        self.focus
            .as_deref()
            .and_then(|id| self.projection.get(id))
            .or_else(|| self.projection.latest())
    }

    /// Services with their health, as last reported.
    pub fn services(&self) -> &[ServiceHealth] {
        &self.projection.services
    }

    /// Calls, caller → callee.
    pub fn edges(&self) -> &[(String, String)] {
        &self.projection.edges
    }

    /// Pipeline clock: time of the latest event, ms since the epoch.
    pub fn now_ms(&self) -> i64 {
        self.projection.now_ms
    }

    /// Suspected root cause: the top RCA candidate.
    pub fn root_service(&self) -> Option<&str> {
        self.run().root_service()
    }

    /// Whether something is changing production right now (quitting should ask first).
    pub fn operation_in_flight(&self) -> bool {
        self.run().finished.is_none() && self.run().state.is_some()
    }

    /// Timeline rows that pass the `/` filter (indices into `timeline`).
    pub fn filtered_timeline(&self, filter: &str) -> Vec<usize> {
        let f = filter.to_lowercase();
        self.timeline
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                f.is_empty()
                    || e.summary.to_lowercase().contains(&f)
                    || e.label.to_lowercase().contains(&f)
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// The latest verdict, if any.
    pub fn last_verdict(&self) -> Option<&Verdict> {
        self.run().rollout.verdicts.last()
    }
}

/// Milliseconds since the epoch of an RFC 3339 timestamp.
pub fn parse_ts(ts: &str) -> Option<i64> {
    ccp_core::clock::parse_rfc3339_ms(ts)
}

fn timeline_entry(ev: &Event) -> TimelineEntry {
    let body = text::body(&ev.kind);
    let mut lines = body.lines();
    let first = lines.next().unwrap_or_default();
    let (label, summary) = match first.split_once(char::is_whitespace) {
        Some((l, rest)) => (l.to_string(), rest.trim_start().to_string()),
        None => (first.to_string(), String::new()),
    };
    let more = lines.map(|l| l.trim_start().to_string()).collect();
    TimelineEntry {
        seq: ev.seq,
        time: ev.ts.get(11..19).unwrap_or(&ev.ts).to_string(),
        label: label.to_lowercase(),
        summary,
        more,
        status: event_status(&ev.kind),
        justification: match &ev.kind {
            EventKind::Decision { justification } => Some(justification.clone()),
            _ => None,
        },
    }
}

/// Colour hint for a timeline row.
fn event_status(kind: &EventKind) -> Status {
    match kind {
        EventKind::GateResult(g) if !g.passed => Status::Bad,
        EventKind::GateResult(_) => Status::Ok,
        EventKind::DeployStep { ok: false, .. } => Status::Bad,
        EventKind::NotificationSent { ok: false, .. } => Status::Warn,
        EventKind::NotificationSent { .. } => Status::Muted,
        EventKind::AlertReceived { .. }
        | EventKind::IncidentOpened { .. }
        | EventKind::RolledBack { .. }
        | EventKind::TransitionRefused { .. } => Status::Bad,
        EventKind::AwaitingApproval { .. } | EventKind::PipelinePaused { .. } => Status::Warn,
        EventKind::Verification { verdict, .. } => match verdict.as_str() {
            "pass" => Status::Ok,
            "fail" => Status::Bad,
            _ => Status::Warn,
        },
        EventKind::Finished { outcome, .. } => outcome_status(*outcome),
        EventKind::Approval { decision, .. } if decision == "approve" => Status::Ok,
        EventKind::Approval { .. } => Status::Bad,
        EventKind::StateChanged { to, .. } => state_status(*to),
        EventKind::Decision { .. } | EventKind::Note { .. } | EventKind::CanaryMetrics { .. } => {
            Status::Muted
        }
        _ => Status::Info,
    }
}

/// Colour hint for an outcome.
pub fn outcome_status(o: Outcome) -> Status {
    match o {
        Outcome::Resolved => Status::Ok,
        Outcome::Rejected | Outcome::Escalated => Status::Warn,
        Outcome::RolledBack | Outcome::Failed => Status::Bad,
    }
}

/// Colour hint for a state.
pub fn state_status(s: State) -> Status {
    match s {
        State::Success | State::Closed => Status::Ok,
        State::PausedForHumanReview | State::Escalated | State::Rejected => Status::Warn,
        State::GatesFailed | State::Rollback | State::RolledBack => Status::Bad,
        _ => Status::Info,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ccp_core::domain::{Severity, WindowStats};

    fn ev(seq: u64, kind: EventKind) -> Event {
        Event {
            seq,
            ts: format!("2026-11-23T10:00:{:02}.000Z", seq.min(59)),
            kind,
            incident: "INC-1".into(),
        }
    }

    #[test]
    fn folds_the_incident_lifecycle() {
        let mut vm = ViewModel::default();
        vm.apply(&ev(
            0,
            EventKind::IncidentOpened {
                service: "payment-service".into(),
                severity: Severity::Critical,
                title: "HighErrorRate".into(),
                error_rate: 0.14,
            },
        ));
        vm.apply(&ev(
            1,
            EventKind::StateChanged {
                from: State::Detected,
                to: State::Analyzing,
            },
        ));
        assert_eq!(vm.incidents()[0].state, Some(State::Analyzing));
        vm.apply(&ev(
            2,
            EventKind::AwaitingApproval {
                reasons: vec!["critical".into()],
                rules: Vec::new(),
                risk_score: 0.5,
                strategy: "canary".into(),
                diff_summary: "d".into(),
                gates_summary: "g".into(),
                approvals_required: 1,
                expires_at: None,
            },
        ));
        assert!(vm.run().approval.is_some());
        vm.apply(&ev(
            3,
            EventKind::Approval {
                decision: "approve".into(),
                actor: "dana".into(),
                comment: "ok".into(),
            },
        ));
        assert!(vm.run().approval.is_none());
        assert_eq!(vm.run().decision().map(|d| d.actor.as_str()), Some("dana"));
        vm.apply(&ev(
            4,
            EventKind::Finished {
                outcome: Outcome::Resolved,
                state: State::Closed,
                reason: "done".into(),
                cause: None,
            },
        ));
        assert_eq!(vm.incidents()[0].outcome(), Some(Outcome::Resolved));
        assert!(!vm.operation_in_flight());
        assert_eq!(vm.timeline.len(), 5);
        assert_eq!(vm.timeline[1].label, "state");
        assert_eq!(vm.version, 5);
        assert_eq!(
            vm.now_ms(),
            parse_ts("2026-11-23T10:00:04.000Z").unwrap_or(0)
        );
    }

    #[test]
    fn canary_series_stay_aligned() {
        let mut vm = ViewModel::default();
        let w = WindowStats::of(&[]);
        vm.apply(&ev(
            0,
            EventKind::CanaryMetrics {
                step: "CANARY_10".into(),
                percent: 10,
                baseline: w,
                canary: w,
                canary_error_series: vec![0.1, 0.2],
                baseline_error_series: vec![0.1, 0.1, 0.1],
                canary_p99_series: vec![],
                baseline_p99_series: vec![100.0, 100.0, 100.0],
            },
        ));
        let c = &vm.run().rollout;
        assert_eq!(c.canary_errors.len(), 3);
        assert_eq!(c.baseline_errors.len(), 3);
        assert_eq!(c.canary_p99.len(), 3);
        assert!(c.canary_errors[2].is_nan());
        assert_eq!(c.steps[0].series_start, 0);
    }

    #[test]
    fn deploy_steps_keep_what_the_tool_printed() {
        let mut vm = ViewModel::default();
        vm.apply(&ev(
            0,
            EventKind::DeployStep {
                action: "shift".into(),
                service: "payment-service".into(),
                percent: 50,
                fence: 3,
                version: "abc123".into(),
                command: "./deploy.sh".into(),
                ok: false,
                exit_code: Some(7),
                duration_ms: 1200,
                output: "a\nb\nweight refused\n".into(),
                error: Some("exited with code 7".into()),
            },
        ));
        let d = &vm.run().rollout.deploy_steps[0];
        assert_eq!((d.action.as_str(), d.percent, d.ok), ("shift", 50, false));
        assert_eq!(d.exit_code, Some(7));
        let t = &vm.timeline[0];
        assert_eq!(t.label, "deploy");
        assert_eq!(t.status, Status::Bad);
        assert!(
            t.summary.contains("shift 50% on payment-service: FAILED"),
            "{}",
            t.summary
        );
        assert_eq!(t.more.last().map(String::as_str), Some("│ weight refused"));
    }

    #[test]
    fn locks_come_and_go() {
        let mut vm = ViewModel::default();
        vm.apply(&ev(
            0,
            EventKind::LockAcquired {
                resource: "service:payment-service".into(),
                owner: "ccp".into(),
                fence: 7,
                waited_ms: 0,
            },
        ));
        assert_eq!(vm.run().locks.len(), 1);
        vm.apply(&ev(
            1,
            EventKind::LockReleased {
                resource: "service:payment-service".into(),
                owner: "ccp".into(),
            },
        ));
        assert!(vm.run().locks.is_empty());
    }
}
