//! What an ended incident means for the people on call, in three parts: what happened, why (one
//! line, from the run's own reason), and the next step a human should take, chosen from the typed
//! cause. The cockpit's outcome banner and the headless summary both print it, so an operator
//! reads the same words wherever the run was watched.

use crate::domain::Outcome;
use crate::events::EndCause;
use crate::projection::IncidentState;

/// An ended incident, summed up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ending {
    /// `RESOLVED`, `ROLLED BACK`, `ESCALATED`, `REJECTED`, `FAILED`.
    pub title: &'static str,
    /// The run's reason, whole (front-ends wrap it, never cut it).
    pub why: String,
    /// What a human should do now.
    pub next: String,
    /// The service is still unhealthy: nothing fixed it.
    pub still_unhealthy: bool,
}

/// The ending of `inc`, once it has finished.
pub fn ending(inc: &IncidentState) -> Option<Ending> {
    let fin = inc.finished.as_ref()?;
    let service = if inc.service.is_empty() {
        "the service".to_string()
    } else {
        inc.service.clone()
    };
    let title = match fin.outcome {
        Outcome::Resolved => "RESOLVED",
        Outcome::RolledBack => "ROLLED BACK",
        Outcome::Escalated => "ESCALATED",
        Outcome::Rejected => "REJECTED",
        Outcome::Failed => "FAILED",
    };
    let next = match (&fin.cause, fin.outcome) {
        (_, Outcome::Resolved) => match &inc.fix_commit {
            Some(c) => format!(
                "review and merge the fix: commit {} on branch {}",
                c.commit, c.branch
            ),
            None => "review the fix in the Diff pane and merge it".to_string(),
        },
        (Some(EndCause::LockUnavailable { resource }), _)
        | (Some(EndCause::LockLost { resource }), _) => format!(
            "`ccp lock list` shows who holds {resource}; if that holder is gone: `ccp lock release --force {resource}`"
        ),
        (Some(EndCause::StoodDown { other_incident, .. }), _) => format!(
            "{other_incident} is already remediating {service}: follow that incident instead"
        ),
        (Some(EndCause::VerdictFailed { .. }), _) => format!(
            "{service} is still unhealthy and on the previous version: read the canary statistics (Enter on Canary) and fix by hand"
        ),
        (Some(EndCause::MetricsOutage { .. }), _) => format!(
            "the metrics source stopped answering during the rollout: check it, then rerun; {service} is still unhealthy"
        ),
        (Some(EndCause::GatesFailed { gates }), _) => format!(
            "nothing was deployed: the {} gate(s) failed; fix the patch or the gate, then rerun",
            gates.join(", ")
        ),
        (Some(EndCause::Rejected { actor }), _) => format!(
            "{actor} rejected the fix; nothing was deployed and {service} is still unhealthy: take it over by hand"
        ),
        (Some(EndCause::NoStackTrace { .. }), _)
        | (Some(EndCause::NoFixTemplate), _)
        | (Some(EndCause::NoRootCause), _) => format!(
            "no automatic fix: the RCA and Timeline panes have what was found; {service} is still unhealthy"
        ),
        (Some(EndCause::RollbackFailed), _) => format!(
            "the rollback failed: {service} may still run the patch; roll back by hand now"
        ),
        (Some(EndCause::BackendUnavailable { port }), _) => {
            format!("the {port} backend did not answer: fix it, then rerun")
        }
        (Some(EndCause::Aborted { actor }), _) => {
            format!("stopped by {actor}; {service} is still unhealthy")
        }
        (Some(EndCause::ApprovalTimeout), _) | (Some(EndCause::NoApprover), _) => {
            format!("nobody answered the approval: decide by hand; {service} is still unhealthy")
        }
        _ => format!("a human decides what is left to do on {service}"),
    };
    Some(Ending {
        title,
        why: fin.reason.clone(),
        next,
        still_unhealthy: fin.outcome != Outcome::Resolved,
    })
}

/// Five lines to paste into an incident channel: the incident with its times (dates and time
/// zone, MTTR), the root cause with its commit and author, the fix and its branch, the outcome
/// with its reason, and the next step.
pub fn summary(inc: &IncidentState) -> Option<Vec<String>> {
    let end = ending(inc)?;
    let fin = inc.finished.as_ref()?;
    let when = |ts: &str| {
        ts.get(..19)
            .map(|t| format!("{} UTC", t.replace('T', " ")))
            .unwrap_or_else(|| ts.to_string())
    };
    let mttr = crate::clock::seconds_between(&inc.opened_ts, &fin.ts)
        .map(|s| format!(" (MTTR {s:.0} s)"))
        .unwrap_or_default();
    let cause = match (inc.rca.first(), &inc.location) {
        (Some(c), loc) => {
            let commit = c
                .commit
                .as_deref()
                .map(|x| format!(" @ {x}"))
                .unwrap_or_default();
            let author = loc
                .as_ref()
                .and_then(|l| l.blame_author.as_deref())
                .map(|a| format!(" by {a}"))
                .unwrap_or_default();
            let at = loc
                .as_ref()
                .map(|l| format!(" — {}:{} {}", l.file, l.line, l.error()))
                .unwrap_or_default();
            format!(
                "{} ({:.0}%){commit}{author}{at}",
                c.service,
                c.confidence * 100.0
            )
        }
        (None, _) => "not found".to_string(),
    };
    let fix = match (&inc.fix, &inc.fix_commit) {
        (Some(f), Some(c)) => format!(
            "{} on {}:{} · commit {} on {}",
            f.template, f.file, f.line, c.commit, c.branch
        ),
        (Some(f), None) => format!("{} on {}:{} (not committed)", f.template, f.file, f.line),
        (None, _) => "none".to_string(),
    };
    Some(vec![
        format!(
            "incident  {}  {}  {} → {}{mttr}",
            inc.id,
            inc.service,
            when(&inc.opened_ts),
            when(&fin.ts)
        ),
        format!("cause     {cause}"),
        format!("fix       {fix}"),
        format!("outcome   {} — {}", end.title, end.why),
        format!("next      {}", end.next),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{Event, EventKind};
    use crate::projection::Projection;
    use crate::state::State;

    fn ended(outcome: Outcome, cause: EndCause, reason: &str) -> IncidentState {
        let ev = Event {
            seq: 1,
            ts: "2026-12-07T10:00:00Z".into(),
            kind: EventKind::Finished {
                outcome,
                state: State::Escalated,
                reason: reason.into(),
                cause: Some(cause),
            },
            incident: "INC-1".into(),
        };
        Projection::of(&[ev]).latest().cloned().expect("incident")
    }

    #[test]
    fn a_held_lock_names_the_release_command() {
        let e = ending(&ended(
            Outcome::Escalated,
            EndCause::LockUnavailable {
                resource: "service:payment-service".into(),
            },
            "could not take lock service:payment-service: held by someone else for 41 s",
        ))
        .expect("ended");
        assert_eq!(e.title, "ESCALATED");
        assert!(e
            .next
            .contains("ccp lock release --force service:payment-service"));
        assert!(e.why.contains("41 s"), "the reason is kept whole");
        assert!(e.still_unhealthy);
    }

    #[test]
    fn only_a_finished_incident_has_an_ending() {
        assert_eq!(ending(&IncidentState::default()), None);
    }
}
