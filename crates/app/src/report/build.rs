//! From audit records to the report model: each record of the incident is read back as the
//! pipeline Event it was written from ([`ccp_audit::replay::event_of`]), so the report sees
//! exactly the typed data the cockpit saw, and sorted into its section.

use super::model::*;
use super::source::{Loaded, Source};
use crate::crash_recovery::ACTOR as RECOVER_ACTOR;
use ccp_audit::replay::event_of;
use ccp_core::events::{Event, EventKind};
use ccp_core::projection::IncidentState;
use serde::Serialize;

pub(super) use ccp_core::clock::seconds_between;

/// A serde enum's wire spelling (`critical`, `CANARY_10`), so the report uses the log's words.
pub(super) fn wire_str<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

fn at_of(l: &Loaded) -> At {
    At {
        seq: l.record.seq,
        ts: l.record.ts.clone(),
        actor: l.record.actor.clone(),
        verified: l.verified,
    }
}

fn incident_of(l: &Loaded) -> &str {
    l.record
        .data
        .get("incident")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
}

/// Build the report of `incident` (which the caller has checked is in the log).
pub(super) fn build(audit_file: &str, source: &Source, incident: &str) -> Report {
    let mut r = Report {
        report_version: REPORT_VERSION,
        audit_file: audit_file.to_string(),
        integrity: source.integrity.clone(),
        header: Header {
            incident: incident.to_string(),
            service: None,
            severity: None,
            title: None,
            error_rate: None,
            opened_at: None,
            closed_at: None,
            outcome: None,
            final_state: None,
            mttr_seconds: None,
        },
        timeline: Vec::new(),
        diagnosis: Diagnosis::default(),
        decisions: Vec::new(),
        gates: Gates::default(),
        approvals: Approvals::default(),
        canary_windows: Vec::new(),
        verifications: Vec::new(),
        deployments: Vec::new(),
        locks: Vec::new(),
        rollbacks: Vec::new(),
        notifications: Vec::new(),
        recovery: Vec::new(),
        notes: Vec::new(),
        outcome: None,
        unread: Vec::new(),
    };
    let mut facts = IncidentState::default();
    let mut first_ts: Option<String> = None;
    for l in &source.records {
        let inc = incident_of(l);
        if inc.is_empty() && l.record.actor == RECOVER_ACTOR {
            r.recovery.push(RecoveryEntry {
                at: at_of(l),
                kind: l.record.kind.clone(),
                summary: summary_of_data(&l.record.data),
                log_level: true,
            });
            continue;
        }
        if inc != incident {
            continue;
        }
        first_ts.get_or_insert_with(|| l.record.ts.clone());
        let Some(ev) = event_of(&l.record) else {
            r.unread.push(UnreadRecord {
                at: at_of(l),
                kind: l.record.kind.clone(),
            });
            continue;
        };
        if l.record.actor == RECOVER_ACTOR {
            r.recovery.push(RecoveryEntry {
                at: at_of(l),
                kind: l.record.kind.clone(),
                summary: summary_of_event(&ev),
                log_level: false,
            });
        }
        facts.apply(&ev);
        apply(&mut r, at_of(l), ev);
    }
    header_from(&mut r.header, &facts, first_ts);
    finish_timeline(&mut r);
    r
}

/// The header's facts come from core's projection of the same events, so the report and the
/// cockpit cannot disagree on what state an incident ended in. Before `incident_opened` (a log
/// cut at the front) it opened, as far as anyone can tell, at its first record.
fn header_from(h: &mut Header, facts: &IncidentState, first_ts: Option<String>) {
    // The incident is about the service at fault: the top root cause where RCA named one (the
    // first alert often comes from a caller), else the service it was opened on.
    h.service = facts
        .root_service()
        .map(str::to_string)
        .or_else(|| Some(facts.service.clone()).filter(|s| !s.is_empty()));
    h.severity = facts.severity.map(|s| wire_str(&s));
    h.title = Some(facts.title.clone()).filter(|t| !t.is_empty());
    h.error_rate = facts.error_rate;
    h.opened_at = Some(facts.opened_ts.clone())
        .filter(|t| !t.is_empty())
        .or(first_ts);
    h.final_state = facts.state.map(|s| s.as_str().to_string());
    h.outcome = facts.outcome().map(|o| o.as_str().to_string());
    h.closed_at = facts.finished.as_ref().map(|f| f.ts.clone());
}

/// Sort one event into its section.
fn apply(r: &mut Report, at: At, ev: Event) {
    match ev.kind {
        EventKind::AlertReceived { alert } => {
            r.diagnosis.alerts.push(alert_entry(at, alert, false))
        }
        EventKind::AlertResolved { alert } => r.diagnosis.alerts.push(alert_entry(at, alert, true)),
        EventKind::IncidentOpened { .. } => {
            r.timeline.push(Stage {
                at,
                state: "DETECTED".into(),
                left_at: None,
                duration_seconds: None,
            });
        }
        EventKind::StateChanged { to, .. } => {
            r.timeline.push(Stage {
                at,
                state: to.as_str().to_string(),
                left_at: None,
                duration_seconds: None,
            });
        }
        EventKind::TransitionRefused { from, to, reason } => r.notes.push(NoteEntry {
            at,
            kind: "transition_refused".into(),
            message: format!("{} → {} refused: {reason}", from.as_str(), to.as_str()),
        }),
        EventKind::RcaRanked { candidates } => r.diagnosis.rca_candidates = candidates,
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
            r.diagnosis.localized = Some(LocalizedEntry {
                at,
                file,
                line,
                function,
                exception: format!("{exception}: {message}"),
                blame_commit,
                blame_author,
            })
        }
        EventKind::FixProposed {
            template,
            file,
            line,
            description,
            lines_added,
            lines_removed,
            ..
        } => {
            r.diagnosis.fix = Some(FixEntry {
                at,
                template,
                file,
                line,
                description,
                lines_added,
                lines_removed,
            })
        }
        EventKind::FixCommitted {
            branch,
            commit,
            pushed_to,
            push_error,
            ..
        } => {
            r.diagnosis.commit = Some(CommitEntry {
                at,
                branch,
                commit,
                pushed_to,
                push_error,
            })
        }
        EventKind::GateResult(g) => {
            r.gates.total += 1;
            if g.passed {
                r.gates.passed += 1;
            } else {
                r.gates.failed += 1;
            }
            r.gates.results.push(GateEntry {
                at,
                gate: g.gate,
                passed: g.passed,
                value: g.value,
                threshold: g.threshold,
                reason: g.reason,
            });
        }
        EventKind::Decision { justification } => {
            r.decisions.push(DecisionEntry { at, justification })
        }
        EventKind::AwaitingApproval {
            reasons,
            risk_score,
            strategy,
            diff_summary,
            gates_summary,
            ..
        } => r.approvals.requests.push(ApprovalRequest {
            at,
            reasons,
            risk_score,
            strategy,
            diff_summary,
            gates_summary,
        }),
        EventKind::ApprovalCounted {
            actor,
            comment,
            given,
            required,
        } => r.approvals.decisions.push(ApprovalEntry {
            at,
            actor,
            decision: format!("approve ({given} of {required})"),
            comment,
        }),
        EventKind::Approval {
            decision,
            actor,
            comment,
        } => r.approvals.decisions.push(ApprovalEntry {
            at,
            actor,
            decision,
            comment,
        }),
        EventKind::LockAcquired {
            resource,
            owner,
            fence,
            waited_ms,
        } => r.locks.push(LockEntry {
            at,
            action: "acquired".into(),
            resource,
            owner,
            fence: Some(fence),
            waited_ms: Some(waited_ms),
        }),
        EventKind::LockReleased { resource, owner } => r.locks.push(LockEntry {
            at,
            action: "released".into(),
            resource,
            owner,
            fence: None,
            waited_ms: None,
        }),
        EventKind::Deployed {
            service,
            percent,
            fence,
        } => r.deployments.push(DeploymentEntry {
            at,
            action: "deployed".into(),
            service,
            percent,
            fence,
            ok: true,
            detail: None,
        }),
        EventKind::DeployStep {
            action,
            service,
            percent,
            fence,
            ok,
            error,
            exit_code,
            ..
        } => r.deployments.push(DeploymentEntry {
            at,
            action,
            service,
            percent,
            fence,
            ok,
            detail: error.or_else(|| exit_code.filter(|c| *c != 0).map(|c| format!("exit {c}"))),
        }),
        EventKind::CanaryMetrics {
            step,
            percent,
            baseline,
            canary,
            ..
        } => r.canary_windows.push(CanaryWindow {
            at,
            step,
            percent,
            baseline,
            canary,
        }),
        EventKind::Verification {
            phase,
            verdict,
            score,
            reason,
            metrics,
        } => r.verifications.push(VerificationEntry {
            at,
            phase,
            verdict,
            score,
            reason,
            metrics,
        }),
        EventKind::RolledBack { service, reason } => r.rollbacks.push(RollbackEntry {
            at,
            service,
            reason,
        }),
        EventKind::PipelinePaused { by } => r.notes.push(NoteEntry {
            at,
            kind: "pipeline_paused".into(),
            message: format!("paused by {by}"),
        }),
        EventKind::PipelineResumed { by } => r.notes.push(NoteEntry {
            at,
            kind: "pipeline_resumed".into(),
            message: format!("resumed by {by}"),
        }),
        EventKind::Note { message } => r.notes.push(NoteEntry {
            at,
            kind: "note".into(),
            message,
        }),
        EventKind::RolloutHeld { message, .. } => r.notes.push(NoteEntry {
            at,
            kind: "rollout_held".into(),
            message,
        }),
        EventKind::NotificationSent {
            channel,
            notice,
            ok,
            attempts,
            detail,
        } => r.notifications.push(NotificationEntry {
            at,
            channel,
            notice,
            ok,
            attempts,
            detail,
        }),
        EventKind::Finished {
            outcome,
            state,
            reason,
            ..
        } => {
            r.outcome = Some(OutcomeEntry {
                at,
                outcome: outcome.as_str().to_string(),
                state: state.as_str().to_string(),
                reason,
            });
        }
        EventKind::Topology { .. } => {}
    }
}

fn alert_entry(at: At, alert: ccp_core::domain::Alert, resolved: bool) -> AlertEntry {
    AlertEntry {
        at,
        name: alert.name,
        service: alert.service,
        severity: wire_str(&alert.severity),
        value: alert.value,
        threshold: alert.threshold,
        resolved,
    }
}

/// Durations between consecutive stages, the last one ending when the incident finished, and
/// MTTR from opening to finishing.
fn finish_timeline(r: &mut Report) {
    let end = r.outcome.as_ref().map(|o| o.at.ts.clone());
    let starts: Vec<String> = r.timeline.iter().map(|s| s.at.ts.clone()).collect();
    for (i, stage) in r.timeline.iter_mut().enumerate() {
        let next = starts.get(i + 1).cloned().or_else(|| end.clone());
        stage.duration_seconds = next
            .as_deref()
            .and_then(|n| seconds_between(&stage.at.ts, n));
        stage.left_at = next;
    }
    if let (Some(open), Some(close)) = (&r.header.opened_at, &r.header.closed_at) {
        r.header.mttr_seconds = seconds_between(open, close);
    }
}

/// One line describing an event, for the recovery section.
fn summary_of_event(ev: &Event) -> String {
    match &ev.kind {
        EventKind::StateChanged { from, to } => format!("{} → {}", from.as_str(), to.as_str()),
        EventKind::RolledBack { service, reason } => format!("rolled back {service}: {reason}"),
        EventKind::Finished {
            outcome,
            state,
            reason,
            ..
        } => format!(
            "finished {} in {}: {reason}",
            outcome.as_str(),
            state.as_str()
        ),
        EventKind::Note { message } => message.clone(),
        EventKind::LockAcquired {
            resource, fence, ..
        } => format!("took lock {resource} (fence {fence})"),
        EventKind::LockReleased { resource, .. } => format!("released lock {resource}"),
        EventKind::Deployed {
            service,
            percent,
            fence,
        } => format!("{service} at {percent}% (fence {fence})"),
        EventKind::DeployStep {
            action,
            service,
            percent,
            ok,
            ..
        } => format!(
            "deploy step {action} {service} {percent}%: {}",
            if *ok { "ok" } else { "failed" }
        ),
        other => other.type_name().to_string(),
    }
}

/// One line describing a record that is not tied to an incident.
fn summary_of_data(data: &serde_json::Value) -> String {
    data.get("message")
        .and_then(serde_json::Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| data.to_string())
}
