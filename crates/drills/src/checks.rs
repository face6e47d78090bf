//! Checks on a run's events. Each names what it looks for in words an on-call engineer would use,
//! so a failing row in `ccp inject` says what went wrong, not just that something did.

use ccp_core::events::{EndCause, Event, EventKind, HoldReason, PauseRule};
use ccp_core::projection::{IncidentState, Projection};
use ccp_core::state::State;

type Test = Box<dyn Fn(&[Event]) -> bool + Send + Sync>;
type Explain = Box<dyn Fn(&[Event]) -> String + Send + Sync>;

/// One expectation about a run's events.
pub struct Check {
    /// What is expected, in words.
    pub what: String,
    test: Test,
    /// What the run showed instead, for a failing check.
    explain: Option<Explain>,
}

impl Check {
    /// A check from a description and a predicate over the events.
    pub fn new(
        what: impl Into<String>,
        test: impl Fn(&[Event]) -> bool + Send + Sync + 'static,
    ) -> Self {
        Self {
            what: what.into(),
            test: Box::new(test),
            explain: None,
        }
    }

    /// Say what the run showed when the check fails.
    fn explained(mut self, f: impl Fn(&[Event]) -> String + Send + Sync + 'static) -> Self {
        self.explain = Some(Box::new(f));
        self
    }

    /// Evaluate on a run.
    pub fn holds(&self, events: &[Event]) -> bool {
        (self.test)(events)
    }

    /// The description, with what the run showed when the check fails.
    pub fn describe(&self, events: &[Event], ok: bool) -> String {
        match (&self.explain, ok) {
            (Some(f), false) => format!("{} (got: {})", self.what, f(events)),
            _ => self.what.clone(),
        }
    }

    /// A check on the incident's facts as core's projection folds them (the run's newest
    /// incident), rather than on the events one by one.
    pub fn on_incident(
        what: impl Into<String>,
        test: impl Fn(&IncidentState) -> bool + Send + Sync + 'static,
    ) -> Self {
        Self::new(what, move |evs| {
            Projection::of(evs).latest().is_some_and(&test)
        })
    }

    /// The incident was opened on `service`.
    pub fn incident_on(service: &'static str) -> Self {
        Self::on_incident(format!("the incident is opened on {service}"), move |i| {
            i.service == service && !i.opened_ts.is_empty()
        })
    }

    /// RCA ranked `service` first.
    pub fn rca_top(service: &'static str) -> Self {
        Self::on_incident(format!("RCA ranks {service} first"), move |i| {
            i.root_service() == Some(service)
        })
        .explained(|evs| {
            evs.iter()
                .find_map(|e| match &e.kind {
                    EventKind::RcaRanked { candidates } => Some(
                        candidates
                            .iter()
                            .take(3)
                            .map(|c| format!("{} {:.2}", c.service, c.confidence))
                            .collect::<Vec<_>>()
                            .join(", "),
                    ),
                    _ => None,
                })
                .unwrap_or_else(|| "no RCA ranking".into())
        })
    }

    /// The run passed through `state`.
    pub fn reached(state: State) -> Self {
        Self::on_incident(format!("the run reaches {state}"), move |i| {
            i.reached(state)
        })
    }

    /// The run never entered `state`.
    pub fn never(state: State) -> Self {
        Self::on_incident(format!("the run never enters {state}"), move |i| {
            !i.reached(state)
        })
    }

    /// No traffic ever went to a new version.
    pub fn nothing_deployed() -> Self {
        Self::on_incident("no traffic is shifted to a new version", |i| {
            i.rollout.max_percent == 0
        })
    }

    /// The highest traffic share the new version got is exactly `pct`.
    pub fn max_deployed(pct: u8) -> Self {
        Self::on_incident(
            format!("the new version gets at most {pct}% of traffic, and does get it"),
            move |i| pct > 0 && i.rollout.max_percent == pct,
        )
    }

    /// Traffic went back to the old version.
    pub fn rolled_back() -> Self {
        Self::on_incident("traffic is rolled back to the previous version", |i| {
            !i.rollout.rollbacks.is_empty()
        })
    }

    /// The run asked a human, for a reason that is `rule` (the typed fact, not its wording).
    pub fn paused_because(
        what: &'static str,
        rule: impl Fn(&PauseRule) -> bool + Send + Sync + 'static,
    ) -> Self {
        Self::on_incident(
            format!("the run pauses for a human because of {what}"),
            move |i| i.pause_rules.iter().any(&rule),
        )
        .explained(|evs| {
            Projection::of(evs)
                .latest()
                .map(|i| format!("{:?}", i.pause_rules))
                .unwrap_or_default()
        })
    }

    /// The run never asked a human.
    pub fn no_human_needed() -> Self {
        Self::on_incident("no human approval is requested", |i| {
            i.approvals_requested == 0
        })
    }

    /// The run ended for `cause` (the typed fact, not its wording).
    pub fn ended_because(
        what: &'static str,
        cause: impl Fn(&EndCause) -> bool + Send + Sync + 'static,
    ) -> Self {
        Self::on_incident(format!("the run ends because {what}"), move |i| {
            i.finished
                .as_ref()
                .and_then(|f| f.cause.as_ref())
                .is_some_and(&cause)
        })
        .explained(|evs| {
            Projection::of(evs)
                .latest()
                .and_then(|i| i.finished.clone())
                .map(|f| format!("{:?}: {}", f.cause, f.reason))
                .unwrap_or_else(|| "the run did not finish".into())
        })
    }

    /// The rollout held the `percent` step for `reason` at least once.
    pub fn held(percent: u8, reason: HoldReason) -> Self {
        Self::on_incident(
            format!("the rollout holds the {percent}% step ({reason:?})"),
            move |i| {
                i.rollout
                    .holds
                    .iter()
                    .any(|h| h.percent == percent && h.reason == reason)
            },
        )
    }

    /// Some gate named `gate` failed.
    pub fn gate_failed(gate: &'static str) -> Self {
        Self::on_incident(format!("the {gate} gate fails"), move |i| {
            i.gates.iter().any(|g| g.gate == gate && !g.passed)
        })
    }

    /// A verification in `phase` ended with `verdict`.
    pub fn verdict(phase: &'static str, verdict: &'static str) -> Self {
        Self::on_incident(format!("verification {phase} says {verdict}"), move |i| {
            i.rollout
                .verdicts
                .iter()
                .any(|v| v.phase == phase && v.verdict == verdict)
        })
    }

    /// At least one lock was taken, and every lock taken was given back by the owner that took
    /// it, after taking it (a release of something never held counts as a fault too).
    pub fn locks_released() -> Self {
        Self::on_incident("every lock taken is released", |i| {
            i.locks_taken > 0 && i.locks.is_empty() && i.unmatched_releases == 0
        })
    }

    /// A pause and a resume were recorded, and nothing moved in between.
    pub fn held_still_while_paused() -> Self {
        Self::new(
            "the pipeline pauses, does nothing while paused, and resumes",
            |evs| {
                let paused = evs
                    .iter()
                    .position(|e| matches!(&e.kind, EventKind::PipelinePaused { .. }));
                let resumed = evs
                    .iter()
                    .position(|e| matches!(&e.kind, EventKind::PipelineResumed { .. }));
                match (paused, resumed) {
                    (Some(p), Some(r)) if p < r => !evs[p..r].iter().any(|e| {
                        matches!(
                            &e.kind,
                            EventKind::StateChanged { .. } | EventKind::Deployed { .. }
                        )
                    }),
                    _ => false,
                }
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: EventKind) -> Event {
        Event {
            seq: 0,
            ts: String::new(),
            kind,
            incident: "INC-1".into(),
        }
    }

    fn take(resource: &str, owner: &str) -> Event {
        ev(EventKind::LockAcquired {
            resource: resource.into(),
            owner: owner.into(),
            fence: 1,
            waited_ms: 0,
        })
    }

    fn give(resource: &str, owner: &str) -> Event {
        ev(EventKind::LockReleased {
            resource: resource.into(),
            owner: owner.into(),
        })
    }

    #[test]
    fn locks_released_needs_a_lock_and_each_one_back_from_its_holder() {
        let c = Check::locks_released();
        assert!(!c.holds(&[]), "no lock taken proves nothing");
        assert!(c.holds(&[take("service:a", "me"), give("service:a", "me")]));
        assert!(!c.holds(&[take("service:a", "me")]), "still held");
        assert!(
            !c.holds(&[
                take("service:a", "me"),
                take("incident:x", "me"),
                give("service:a", "me"),
                give("service:a", "me"),
            ]),
            "one released twice, the other never: the counts match but the locks do not"
        );
        assert!(
            !c.holds(&[give("service:a", "me"), take("service:a", "me")]),
            "released before it was taken"
        );
        assert!(!c.holds(&[take("service:a", "me"), give("service:a", "other")]));
    }

    fn finished(cause: Option<EndCause>, reason: &str) -> Event {
        ev(EventKind::Finished {
            outcome: ccp_core::domain::Outcome::Escalated,
            state: State::Escalated,
            reason: reason.into(),
            cause,
        })
    }

    #[test]
    fn causes_are_checked_as_facts_not_words() {
        let c = Check::ended_because("a lock could not be taken", |c| {
            matches!(c, EndCause::LockUnavailable { .. })
        });
        let locked = EndCause::LockUnavailable {
            resource: "service:a".into(),
        };
        assert!(c.holds(&[finished(Some(locked), "anything at all")]));
        // The words alone no longer pass: a reason that says it, without the fact, fails.
        assert!(!c.holds(&[finished(None, "could not take lock service:a")]));
        assert!(!c.holds(&[finished(
            Some(EndCause::NoFixTemplate),
            "could not take lock"
        )]));
        let explained = c.describe(&[finished(Some(EndCause::NoFixTemplate), "x")], false);
        assert!(explained.contains("NoFixTemplate"), "{explained}");
    }

    #[test]
    fn pause_rules_and_holds_are_facts_too() {
        let ask = ev(EventKind::AwaitingApproval {
            reasons: vec!["blast radius is large".into()],
            rules: vec![PauseRule::ErrorBudgetExhausted],
            risk_score: 0.5,
            strategy: "canary".into(),
            diff_summary: String::new(),
            gates_summary: String::new(),
            approvals_required: 1,
            expires_at: None,
        });
        let budget = Check::paused_because("the budget", |r| {
            matches!(r, PauseRule::ErrorBudgetExhausted)
        });
        let blast = Check::paused_because("the blast radius", |r| {
            matches!(r, PauseRule::BlastRadius { .. })
        });
        assert!(budget.holds(std::slice::from_ref(&ask)));
        assert!(
            !blast.holds(&[ask]),
            "the wording mentions it, the facts do not"
        );
        let held = ev(EventKind::RolloutHeld {
            percent: 10,
            hold: HoldReason::MetricsUnavailable,
            waited_s: 5,
            limit_s: 90,
            message: String::new(),
        });
        assert!(Check::held(10, HoldReason::MetricsUnavailable).holds(std::slice::from_ref(&held)));
        assert!(!Check::held(50, HoldReason::MetricsUnavailable).holds(std::slice::from_ref(&held)));
        assert!(!Check::held(10, HoldReason::MetricsBack).holds(&[held]));
    }
}
