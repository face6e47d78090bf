//! What people outside the cockpit hear about an incident, decided in one place so every channel
//! (chat, paging, e-mail, webhooks) tells the same story. Pure: it turns pipeline events into
//! [`Notification`]s; delivering them is an adapter's job behind the [`Notifier`] port.
//!
//! [`Notifier`]: super::ports::Notifier

use super::domain::{Incident, Outcome, Severity};
use super::events::EventKind;
use serde::{Deserialize, Serialize};

/// Which moment of an incident a notification announces. Channels decide per kind what to do:
/// PagerDuty pages on `Opened`, acknowledges on a human decision and resolves on a verified fix,
/// while chat and e-mail show every kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// A new incident: someone should know before anything is changed.
    Opened,
    /// The pipeline stopped for a human: the one notice that asks for action.
    AwaitingApproval,
    /// A human approved the fix (someone is on it).
    Approved,
    /// A human rejected the fix (someone is on it; nothing will be deployed).
    Rejected,
    /// A deployed fix was taken back out of production.
    RolledBack,
    /// The run ended, with the given outcome.
    Finished(Outcome),
}

impl NoticeKind {
    /// Stable snake_case name for events, payloads and logs (`finished` for every outcome: the
    /// outcome travels beside it).
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::Opened => "incident_opened",
            NoticeKind::AwaitingApproval => "awaiting_approval",
            NoticeKind::Approved => "approved",
            NoticeKind::Rejected => "rejected",
            NoticeKind::RolledBack => "rolled_back",
            NoticeKind::Finished(_) => "finished",
        }
    }
}

/// One thing to tell the outside world, with everything a channel needs to word it, so channel
/// adapters never reach back into the pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// Which moment this is.
    pub kind: NoticeKind,
    /// Incident id (PagerDuty's `dedup_key`, the e-mail subject, the thread everyone quotes).
    pub incident: String,
    /// Service the incident was opened on.
    pub service: String,
    /// Severity of the incident.
    pub severity: Severity,
    /// The incident's one-line title (what broke).
    pub title: String,
    /// What happened now, one line (`Fix approved by dana`).
    pub headline: String,
    /// Facts worth a glance, in display order (`Outcome` → `resolved`).
    pub facts: Vec<(String, String)>,
    /// RFC 3339 time on the pipeline clock.
    pub ts: String,
    /// The event this notice comes from, for receivers that want the Contract's own JSON.
    pub event: EventKind,
}

/// The notification an event calls for, if any. `incident` is the open incident (absent before
/// one opens: the `IncidentOpened` event carries its own facts). Events that only matter inside
/// the cockpit (gates, canary numbers, locks…) notify nobody: chat channels are read by people
/// between other work, so they get the moments that change what a person should do.
pub fn notice_for(
    kind: &EventKind,
    incident_id: &str,
    incident: Option<&Incident>,
    ts: &str,
) -> Option<Notification> {
    if incident_id.is_empty() {
        return None;
    }
    let (service, severity, title) = match (kind, incident) {
        (
            EventKind::IncidentOpened {
                service,
                severity,
                title,
                ..
            },
            _,
        ) => (service.clone(), *severity, title.clone()),
        (_, Some(i)) => (i.service.clone(), i.severity, i.title.clone()),
        (_, None) => return None,
    };
    let (notice, headline, facts) = describe(kind)?;
    Some(Notification {
        kind: notice,
        incident: incident_id.to_string(),
        service,
        severity,
        title,
        headline,
        facts,
        ts: ts.to_string(),
        event: kind.clone(),
    })
}

type Described = (NoticeKind, String, Vec<(String, String)>);

fn fact(name: &str, value: impl Into<String>) -> (String, String) {
    (name.to_string(), value.into())
}

fn describe(kind: &EventKind) -> Option<Described> {
    Some(match kind {
        EventKind::IncidentOpened { error_rate, .. } => {
            let mut facts = vec![fact("State", "DETECTED")];
            if *error_rate > 0.0 {
                facts.push(fact("Error rate", format!("{:.1}%", error_rate * 100.0)));
            }
            (
                NoticeKind::Opened,
                "Incident opened; ccp is diagnosing it".to_string(),
                facts,
            )
        }
        EventKind::AwaitingApproval {
            reasons,
            risk_score,
            strategy,
            diff_summary,
            ..
        } => (
            NoticeKind::AwaitingApproval,
            "A fix is ready and waits for a human to approve or reject it".to_string(),
            vec![
                fact("Why a human", reasons.join("; ")),
                fact("Risk", format!("{risk_score:.2}")),
                fact("Strategy", strategy.clone()),
                fact("Patch", diff_summary.clone()),
            ],
        ),
        EventKind::Approval {
            decision,
            actor,
            comment,
        } => {
            let approved = decision == "approve";
            let mut facts = vec![fact("Decided by", actor.clone())];
            if !comment.is_empty() {
                facts.push(fact("Comment", comment.clone()));
            }
            let (notice, verb) = if approved {
                (NoticeKind::Approved, "approved")
            } else {
                (NoticeKind::Rejected, "rejected")
            };
            (notice, format!("Fix {verb} by {actor}"), facts)
        }
        EventKind::RolledBack { reason, .. } => (
            NoticeKind::RolledBack,
            "The fix was rolled back: traffic is on the previous version again".to_string(),
            vec![fact("Reason", reason.clone())],
        ),
        EventKind::Finished {
            outcome,
            state,
            reason,
            ..
        } => (
            NoticeKind::Finished(*outcome),
            finished_headline(*outcome).to_string(),
            vec![
                fact("Outcome", outcome.as_str()),
                fact("Final state", state.as_str()),
                fact("Reason", reason.clone()),
            ],
        ),
        _ => return None,
    })
}

fn finished_headline(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Resolved => "Resolved: the fix is verified in production and the incident closed",
        Outcome::RolledBack => "Not fixed: the fix was rolled back, a human is needed",
        Outcome::Escalated => "Escalated: ccp stopped and hands the incident to a human",
        Outcome::Rejected => "Closed without a deploy: the fix was rejected",
        Outcome::Failed => "Not fixed: ccp could not produce a safe fix, a human is needed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::State;

    fn incident() -> Incident {
        Incident {
            id: "INC-1".into(),
            service: "payment-service".into(),
            severity: Severity::Critical,
            title: "HighErrorRate on payment-service".into(),
            opened_at_ms: 0,
            error_rate: 0.15,
        }
    }

    #[test]
    fn opened_carries_its_own_facts() {
        let kind = EventKind::IncidentOpened {
            service: "api".into(),
            severity: Severity::High,
            title: "HighErrorRate on api".into(),
            error_rate: 0.125,
        };
        let n = notice_for(&kind, "INC-9", None, "t").expect("opened notifies");
        assert_eq!(n.kind, NoticeKind::Opened);
        assert_eq!((n.service.as_str(), n.severity), ("api", Severity::High));
        assert!(n.facts.contains(&fact("Error rate", "12.5%")));
    }

    #[test]
    fn decisions_and_ends_notify_but_internals_do_not() {
        let i = incident();
        let approve = EventKind::Approval {
            decision: "approve".into(),
            actor: "dana".into(),
            comment: String::new(),
        };
        let n = notice_for(&approve, "INC-1", Some(&i), "t").expect("approval notifies");
        assert_eq!(n.kind, NoticeKind::Approved);
        assert_eq!(n.headline, "Fix approved by dana");
        let fin = EventKind::Finished {
            outcome: Outcome::RolledBack,
            state: State::RolledBack,
            reason: "canary worse".into(),
            cause: None,
        };
        let n = notice_for(&fin, "INC-1", Some(&i), "t").expect("finish notifies");
        assert_eq!(n.kind, NoticeKind::Finished(Outcome::RolledBack));
        assert_eq!(n.kind.as_str(), "finished");
        assert!(n.facts.contains(&fact("Outcome", "rolled_back")));
        let note = EventKind::Note {
            message: "x".into(),
        };
        assert!(notice_for(&note, "INC-1", Some(&i), "t").is_none());
        // No incident yet (nothing detected): nobody is told.
        assert!(notice_for(&fin, "", None, "t").is_none());
    }
}
