//! What the cockpit shows, folded from pipeline Events and nothing else. The cockpit never asks an
//! adapter anything: if it is on the screen, it came through an Event, so a replay of the audit log
//! draws exactly what the live run drew.

use crate::theme::Status;
use ccp_core::domain::{Outcome, RcaCandidate, ServiceHealth, Severity, WindowStats};
use ccp_core::event_text as text;
use ccp_core::events::{Event, EventKind, GateOutcome};
use ccp_core::explain::Justification;
use ccp_core::state::State;
use ccp_core::stats::judge::MetricResult;

/// One row of the Incidents pane.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentRow {
    /// `INC-…`.
    pub id: String,
    /// Service the first alert named.
    pub service: String,
    /// Severity of the first alert.
    pub severity: Severity,
    /// One-line title.
    pub title: String,
    /// Current pipeline state of this incident.
    pub state: State,
    /// When it opened (ms since the epoch, pipeline clock).
    pub opened_ms: i64,
    /// Outcome once finished.
    pub outcome: Option<Outcome>,
}

/// Where the fault is in code.
#[derive(Debug, Clone, PartialEq)]
pub struct LocationView {
    /// Repository-relative file.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// Function.
    pub function: String,
    /// Exception and message, e.g. `AttributeError: 'NoneType' object…`.
    pub error: String,
    /// `1b7919b by Dana Okafor`, when blame worked.
    pub blame: Option<String>,
}

/// The proposed patch.
#[derive(Debug, Clone, PartialEq)]
pub struct FixView {
    /// Template name (`null_check`).
    pub template: String,
    /// File patched.
    pub file: String,
    /// Line patched.
    pub line: u32,
    /// Why this patch.
    pub description: String,
    /// Lines added.
    pub added: u32,
    /// Lines removed.
    pub removed: u32,
    /// The unified diff.
    pub diff: String,
}

/// Metrics of one canary step (or the final verification window).
#[derive(Debug, Clone, PartialEq)]
pub struct StepMetrics {
    /// `CANARY_10`, `CANARY_50`, `CANARY_100`, `VERIFICATION`.
    pub step: String,
    /// Traffic on the new version.
    pub percent: u8,
    /// Baseline summary.
    pub baseline: WindowStats,
    /// Canary summary.
    pub canary: WindowStats,
    /// Index into the series where this step's seconds start (for step markers on charts).
    pub series_start: usize,
}

/// One statistical verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct VerdictView {
    /// `health_check_10`, `final`.
    pub phase: String,
    /// `pass` / `fail` / `inconclusive`.
    pub verdict: String,
    /// Voting score.
    pub score: f64,
    /// Why.
    pub reason: String,
    /// Per-signal statistics (p-values, medians, CIs).
    pub metrics: Vec<MetricResult>,
}

/// One step an external deploy tool ran (`deploy_step`), as the Canary pane and its details show it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeployStepView {
    /// `shift`, `promote`, `rollback`.
    pub action: String,
    /// Traffic share the step aimed for.
    pub percent: u8,
    /// Whether it succeeded.
    pub ok: bool,
    /// Exit code; `None` when the command was killed.
    pub exit_code: Option<i32>,
    /// How long it ran, ms.
    pub duration_ms: u64,
    /// The command line.
    pub command: String,
    /// End of what it printed.
    pub output: String,
    /// Why it failed.
    pub error: Option<String>,
}

/// Everything the Canary pane charts.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CanaryView {
    /// Traffic currently on the new version.
    pub traffic_pct: u8,
    /// Steps observed so far.
    pub steps: Vec<StepMetrics>,
    /// Per-second error rates, all steps concatenated.
    pub baseline_errors: Vec<f64>,
    /// Same for the canary.
    pub canary_errors: Vec<f64>,
    /// Per-second p99 latency, ms, baseline.
    pub baseline_p99: Vec<f64>,
    /// Same for the canary.
    pub canary_p99: Vec<f64>,
    /// Verdicts, oldest first.
    pub verdicts: Vec<VerdictView>,
    /// Steps run by an external deploy tool, oldest first (empty with the simulated fleet).
    pub deploy_steps: Vec<DeployStepView>,
}

/// Why the pipeline is waiting for a human.
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalRequest {
    /// Reasons review is required (risk factors, override conditions, policy).
    pub reasons: Vec<String>,
    /// Risk score in [0,1].
    pub risk_score: f64,
    /// Rollout strategy the risk score chose.
    pub strategy: String,
    /// One-line patch summary.
    pub diff_summary: String,
    /// `12/12 gates passed`.
    pub gates_summary: String,
}

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

/// A lock the pipeline holds.
#[derive(Debug, Clone, PartialEq)]
pub struct LockView {
    /// `service:payment-service`.
    pub resource: String,
    /// Holder.
    pub owner: String,
    /// Fencing token.
    pub fence: u64,
}

/// How the run ended.
#[derive(Debug, Clone, PartialEq)]
pub struct FinishedView {
    /// Outcome.
    pub outcome: Outcome,
    /// Final state.
    pub state: State,
    /// Why.
    pub reason: String,
}

/// Everything the cockpit draws. `apply` is the only way it changes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ViewModel {
    /// Incidents, newest last.
    pub incidents: Vec<IncidentRow>,
    /// Current state of the active incident.
    pub state: Option<State>,
    /// States visited, with the pipeline time they were entered.
    pub path: Vec<(State, i64)>,
    /// Services with their health.
    pub services: Vec<ServiceHealth>,
    /// Calls, caller → callee.
    pub edges: Vec<(String, String)>,
    /// Root-cause candidates, best first.
    pub rca: Vec<RcaCandidate>,
    /// Localized fault.
    pub location: Option<LocationView>,
    /// Proposed patch.
    pub fix: Option<FixView>,
    /// Gate results in order.
    pub gates: Vec<GateOutcome>,
    /// Canary observations.
    pub canary: CanaryView,
    /// Every event, summarised.
    pub timeline: Vec<TimelineEntry>,
    /// Set while the pipeline waits at PAUSED_FOR_HUMAN_REVIEW.
    pub approval: Option<ApprovalRequest>,
    /// The human decision, once made: (decision, actor, comment).
    pub decision: Option<(String, String, String)>,
    /// Locks held now.
    pub locks: Vec<LockView>,
    /// The operator paused the pipeline.
    pub paused: bool,
    /// Set when the run is over.
    pub finished: Option<FinishedView>,
    /// Pipeline clock: time of the latest event, ms since the epoch.
    pub now_ms: i64,
    /// Refused transitions (should stay empty; shown loudly if not).
    pub refused: Vec<String>,
    /// Bumped on every applied event, so the loop redraws only on change.
    pub version: u64,
}

impl ViewModel {
    /// Fold one event in.
    pub fn apply(&mut self, ev: &Event) {
        self.version += 1;
        if let Some(ms) = parse_ts(&ev.ts) {
            self.now_ms = self.now_ms.max(ms);
        }
        self.timeline.push(timeline_entry(ev));
        match &ev.kind {
            EventKind::IncidentOpened {
                service,
                severity,
                title,
                ..
            } => {
                self.incidents.push(IncidentRow {
                    id: ev.incident.clone(),
                    service: service.clone(),
                    severity: *severity,
                    title: title.clone(),
                    state: State::Detected,
                    opened_ms: parse_ts(&ev.ts).unwrap_or(self.now_ms),
                    outcome: None,
                });
                self.state = Some(State::Detected);
                self.path = vec![(State::Detected, self.now_ms)];
            }
            EventKind::Topology { services, edges } => {
                self.services = services.clone();
                self.edges = edges.clone();
            }
            EventKind::StateChanged { to, .. } => {
                self.state = Some(*to);
                self.path.push((*to, self.now_ms));
                if let Some(row) = self.incident_mut(&ev.incident) {
                    row.state = *to;
                }
                if *to != State::PausedForHumanReview {
                    self.approval = None;
                }
            }
            EventKind::TransitionRefused { reason, .. } => self.refused.push(reason.clone()),
            EventKind::RcaRanked { candidates } => self.rca = candidates.clone(),
            EventKind::Localized {
                file,
                line,
                function,
                exception,
                message,
                blame_commit,
                blame_author,
                ..
            } => {
                self.location = Some(LocationView {
                    file: file.clone(),
                    line: *line,
                    function: function.clone(),
                    error: format!("{exception}: {message}"),
                    blame: match (blame_commit, blame_author) {
                        (Some(c), Some(a)) => Some(format!("{c} by {a}")),
                        (Some(c), None) => Some(c.clone()),
                        _ => None,
                    },
                })
            }
            EventKind::FixProposed {
                template,
                file,
                line,
                description,
                lines_added,
                lines_removed,
                diff,
            } => {
                self.fix = Some(FixView {
                    template: template.clone(),
                    file: file.clone(),
                    line: *line,
                    description: description.clone(),
                    added: *lines_added,
                    removed: *lines_removed,
                    diff: diff.clone(),
                })
            }
            EventKind::GateResult(g) => self.gates.push(g.clone()),
            EventKind::AwaitingApproval {
                reasons,
                risk_score,
                strategy,
                diff_summary,
                gates_summary,
            } => {
                self.approval = Some(ApprovalRequest {
                    reasons: reasons.clone(),
                    risk_score: *risk_score,
                    strategy: strategy.clone(),
                    diff_summary: diff_summary.clone(),
                    gates_summary: gates_summary.clone(),
                })
            }
            EventKind::Approval {
                decision,
                actor,
                comment,
            } => {
                self.approval = None;
                self.decision = Some((decision.clone(), actor.clone(), comment.clone()));
            }
            EventKind::LockAcquired {
                resource,
                owner,
                fence,
                ..
            } => self.locks.push(LockView {
                resource: resource.clone(),
                owner: owner.clone(),
                fence: *fence,
            }),
            EventKind::LockReleased { resource, .. } => {
                self.locks.retain(|l| &l.resource != resource)
            }
            EventKind::Deployed { percent, .. } => self.canary.traffic_pct = *percent,
            EventKind::DeployStep {
                action,
                percent,
                command,
                ok,
                exit_code,
                duration_ms,
                output,
                error,
                ..
            } => self.canary.deploy_steps.push(DeployStepView {
                action: action.clone(),
                percent: *percent,
                ok: *ok,
                exit_code: *exit_code,
                duration_ms: *duration_ms,
                command: command.clone(),
                output: output.clone(),
                error: error.clone(),
            }),
            EventKind::CanaryMetrics {
                step,
                percent,
                baseline,
                canary,
                canary_error_series,
                baseline_error_series,
                canary_p99_series,
                baseline_p99_series,
            } => {
                let c = &mut self.canary;
                c.steps.push(StepMetrics {
                    step: step.clone(),
                    percent: *percent,
                    baseline: *baseline,
                    canary: *canary,
                    series_start: c.canary_errors.len(),
                });
                // Align the two series on the same seconds so the chart compares like with like.
                let n = canary_error_series.len().max(baseline_error_series.len());
                c.canary_errors.extend(pad(canary_error_series, n));
                c.baseline_errors.extend(pad(baseline_error_series, n));
                c.canary_p99.extend(pad(canary_p99_series, n));
                c.baseline_p99.extend(pad(baseline_p99_series, n));
            }
            EventKind::Verification {
                phase,
                verdict,
                score,
                reason,
                metrics,
            } => self.canary.verdicts.push(VerdictView {
                phase: phase.clone(),
                verdict: verdict.clone(),
                score: *score,
                reason: reason.clone(),
                metrics: metrics.clone(),
            }),
            EventKind::RolledBack { .. } => self.canary.traffic_pct = 0,
            EventKind::PipelinePaused { .. } => self.paused = true,
            EventKind::PipelineResumed { .. } => self.paused = false,
            EventKind::Finished {
                outcome,
                state,
                reason,
            } => {
                self.paused = false;
                self.approval = None;
                if let Some(row) = self.incident_mut(&ev.incident) {
                    row.outcome = Some(*outcome);
                    row.state = *state;
                }
                self.finished = Some(FinishedView {
                    outcome: *outcome,
                    state: *state,
                    reason: reason.clone(),
                });
            }
            EventKind::AlertReceived { .. }
            | EventKind::AlertResolved { .. }
            | EventKind::FixCommitted { .. }
            | EventKind::Decision { .. }
            | EventKind::Note { .. }
            | EventKind::NotificationSent { .. } => {}
        }
    }

    fn incident_mut(&mut self, id: &str) -> Option<&mut IncidentRow> {
        self.incidents.iter_mut().find(|r| r.id == id)
    }

    /// The incident on screen (the newest).
    pub fn active_incident(&self) -> Option<&IncidentRow> {
        self.incidents.last()
    }

    /// Suspected root cause: the top RCA candidate.
    pub fn root_service(&self) -> Option<&str> {
        self.rca.first().map(|c| c.service.as_str())
    }

    /// Whether something is changing production right now (quitting should ask first).
    pub fn operation_in_flight(&self) -> bool {
        self.finished.is_none() && self.state.is_some()
    }

    /// The latest verdict, if any.
    pub fn last_verdict(&self) -> Option<&VerdictView> {
        self.canary.verdicts.last()
    }
}

fn pad(v: &[f64], n: usize) -> impl Iterator<Item = f64> + '_ {
    v.iter().copied().chain(std::iter::repeat(f64::NAN)).take(n)
}

/// Milliseconds since the epoch of an RFC 3339 timestamp.
pub fn parse_ts(ts: &str) -> Option<i64> {
    let t = time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
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
    use ccp_core::domain::Severity;

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
        assert_eq!(vm.incidents[0].state, State::Analyzing);
        vm.apply(&ev(
            2,
            EventKind::AwaitingApproval {
                reasons: vec!["critical".into()],
                risk_score: 0.5,
                strategy: "canary".into(),
                diff_summary: "d".into(),
                gates_summary: "g".into(),
            },
        ));
        assert!(vm.approval.is_some());
        vm.apply(&ev(
            3,
            EventKind::Approval {
                decision: "approve".into(),
                actor: "dana".into(),
                comment: "ok".into(),
            },
        ));
        assert!(vm.approval.is_none());
        assert_eq!(vm.decision.as_ref().map(|d| d.1.as_str()), Some("dana"));
        vm.apply(&ev(
            4,
            EventKind::Finished {
                outcome: Outcome::Resolved,
                state: State::Closed,
                reason: "done".into(),
            },
        ));
        assert_eq!(vm.incidents[0].outcome, Some(Outcome::Resolved));
        assert!(!vm.operation_in_flight());
        assert_eq!(vm.timeline.len(), 5);
        assert_eq!(vm.timeline[1].label, "state");
        assert_eq!(vm.version, 5);
        assert_eq!(vm.now_ms, parse_ts("2026-11-23T10:00:04.000Z").unwrap_or(0));
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
        let c = &vm.canary;
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
        let d = &vm.canary.deploy_steps[0];
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
        assert_eq!(vm.locks.len(), 1);
        vm.apply(&ev(
            1,
            EventKind::LockReleased {
                resource: "service:payment-service".into(),
                owner: "ccp".into(),
            },
        ));
        assert!(vm.locks.is_empty());
    }
}
