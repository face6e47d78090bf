//! The one fold from events to what each incident is now. Every reader of events needs the same
//! facts (which state, what was deployed, which locks are still held, how it ended), and before
//! this fold each wrote its own: the cockpit, `ccp serve`, crash recovery, the failure matrix's
//! checks and the report. Adding a fact to an event now means adding it here, once, as a typed
//! field, not parsing it back out of prose in six places.
//!
//! Pure: events in, state out. Live runs, audit-log replays and the HTTP event stream all fold
//! the same `Event`s, so they agree by construction.

use crate::domain::{CodeLocation, Outcome, RcaCandidate, ServiceHealth, Severity, WindowStats};
use crate::events::{EndCause, Event, EventKind, GateOutcome, HoldReason, PauseRule};
use crate::explain::Justification;
use crate::state::State;
use crate::stats::judge::MetricResult;

/// The proposed patch.
#[derive(Debug, Clone, PartialEq)]
pub struct ProposedFix {
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
    /// The other templates' answers, best first (Enter on the Diff pane lists them).
    pub alternatives: Vec<String>,
}

/// The commit that carries the fix.
#[derive(Debug, Clone, PartialEq)]
pub struct FixCommit {
    /// Branch (`ccp/fix-INC-…`).
    pub branch: String,
    /// Commit id: the version a deployer ships.
    pub commit: String,
    /// An earlier identical fix commit was reused.
    pub reused: bool,
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
pub struct Verdict {
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

/// One step an external deploy tool ran.
#[derive(Debug, Clone, PartialEq)]
pub struct DeployStepRun {
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

/// A step held instead of judged now (or picked up again).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hold {
    /// Traffic share held.
    pub percent: u8,
    /// Why.
    pub reason: HoldReason,
}

/// Everything observed of the rollout.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Rollout {
    /// Traffic on the new version now.
    pub traffic_pct: u8,
    /// Most traffic the new version had since the last rollback (0 after one): whether code
    /// may be live, which is what crash recovery must undo.
    pub deployed_percent: u8,
    /// Most traffic the new version ever had.
    pub max_percent: u8,
    /// Rollbacks performed, with their reasons.
    pub rollbacks: Vec<String>,
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
    pub verdicts: Vec<Verdict>,
    /// Steps run by an external deploy tool, oldest first (empty with the simulated fleet).
    pub deploy_steps: Vec<DeployStepRun>,
    /// Every time a step was held (or picked up again), oldest first.
    pub holds: Vec<Hold>,
}

impl Rollout {
    /// The verdict of `phase`, if one was reached.
    pub fn verdict_of(&self, phase: &str) -> Option<&Verdict> {
        self.verdicts.iter().find(|v| v.phase == phase)
    }
}

/// Why the pipeline is waiting for a human.
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalRequest {
    /// Reasons review is required (risk factors, override conditions, policy).
    pub reasons: Vec<String>,
    /// The same reasons as facts.
    pub rules: Vec<PauseRule>,
    /// Risk score in [0,1].
    pub risk_score: f64,
    /// Rollout strategy the risk score chose.
    pub strategy: String,
    /// One-line patch summary.
    pub diff_summary: String,
    /// `12/12 gates passed`.
    pub gates_summary: String,
    /// Different approvers needed (2 under the two-person rule).
    pub required: u8,
    /// Who has approved so far, while more approvals are needed.
    pub approved_by: Vec<String>,
    /// When the request expires and escalates (RFC 3339), if known.
    pub expires_at: Option<String>,
}

/// A human's (or `auto`'s) answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalDecision {
    /// `approve` or `reject`.
    pub decision: String,
    /// Who.
    pub actor: String,
    /// Why, in their words.
    pub comment: String,
    /// When (RFC 3339).
    pub ts: String,
}

impl ApprovalDecision {
    /// A person decided, not the `auto` front-end mode.
    pub fn by_a_human(&self) -> bool {
        self.actor != "auto"
    }
}

/// A lock the incident holds now.
#[derive(Debug, Clone, PartialEq)]
pub struct HeldLock {
    /// `service:payment-service`.
    pub resource: String,
    /// Holder.
    pub owner: String,
    /// Fencing token.
    pub fence: u64,
}

/// How the run ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Finish {
    /// Outcome.
    pub outcome: Outcome,
    /// Final state.
    pub state: State,
    /// Why.
    pub reason: String,
    /// Why, as a fact (absent in logs from before causes were recorded).
    pub cause: Option<EndCause>,
    /// When (RFC 3339).
    pub ts: String,
}

/// One incident, as its events tell it so far.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IncidentState {
    /// `INC-…`.
    pub id: String,
    /// Service the incident was opened on (empty if its opening was not seen).
    pub service: String,
    /// Severity at opening.
    pub severity: Option<Severity>,
    /// One-line title.
    pub title: String,
    /// Error rate that opened it.
    pub error_rate: Option<f64>,
    /// When it opened (RFC 3339; empty if not seen).
    pub opened_ts: String,
    /// When it opened, ms since the epoch on the pipeline clock.
    pub opened_ms: i64,
    /// Current pipeline state; `None` until a state is known.
    pub state: Option<State>,
    /// States entered, with the pipeline time they were entered.
    pub path: Vec<(State, i64)>,
    /// Root-cause candidates, best first.
    pub rca: Vec<RcaCandidate>,
    /// Localized fault.
    pub location: Option<CodeLocation>,
    /// Proposed patch.
    pub fix: Option<ProposedFix>,
    /// The fix's commit.
    pub fix_commit: Option<FixCommit>,
    /// Gate results in order.
    pub gates: Vec<GateOutcome>,
    /// Decision records, in order.
    pub justifications: Vec<Justification>,
    /// Set while the pipeline waits at PAUSED_FOR_HUMAN_REVIEW.
    pub approval: Option<ApprovalRequest>,
    /// Every time a human was asked (counted even after the answer).
    pub approvals_requested: u32,
    /// Why a human was asked, over every request, as facts.
    pub pause_rules: Vec<PauseRule>,
    /// Answers, oldest first.
    pub decisions: Vec<ApprovalDecision>,
    /// Locks held now.
    pub locks: Vec<HeldLock>,
    /// Locks taken over the whole run.
    pub locks_taken: u32,
    /// A release that matched no held lock (should never happen; checks look at it).
    pub unmatched_releases: u32,
    /// Highest fencing token any of its locks carried.
    pub max_fence: u64,
    /// Time spent waiting for locks, ms.
    pub lock_wait_ms: u64,
    /// Canary, rollout and verification.
    pub rollout: Rollout,
    /// The operator paused the pipeline.
    pub paused: bool,
    /// Times it was paused.
    pub pauses: u32,
    /// Set when the run is over.
    pub finished: Option<Finish>,
    /// Refused transitions (should stay empty; shown loudly if not).
    pub refused: Vec<String>,
    /// Timeline notes, in order.
    pub notes: Vec<String>,
    /// Seq of its latest event.
    pub last_seq: u64,
    /// Pipeline clock: time of its latest event, ms since the epoch.
    pub now_ms: i64,
}

impl IncidentState {
    /// Outcome, once finished.
    pub fn outcome(&self) -> Option<Outcome> {
        self.finished.as_ref().map(|f| f.outcome)
    }

    /// Still running: something may still change production.
    pub fn in_flight(&self) -> bool {
        self.finished.is_none()
    }

    /// The latest decision, if any.
    pub fn decision(&self) -> Option<&ApprovalDecision> {
        self.decisions.last()
    }

    /// Whether the state machine ever entered `state`.
    pub fn reached(&self, state: State) -> bool {
        self.path.iter().any(|(s, _)| *s == state)
    }

    /// Suspected root cause: the top RCA candidate's service.
    pub fn root_service(&self) -> Option<&str> {
        self.rca.first().map(|c| c.service.as_str())
    }

    /// Fold one event of this incident in.
    pub fn apply(&mut self, ev: &Event) {
        self.last_seq = self.last_seq.max(ev.seq);
        if let Some(ms) = crate::clock::parse_rfc3339_ms(&ev.ts) {
            self.now_ms = self.now_ms.max(ms);
        }
        match &ev.kind {
            EventKind::IncidentOpened {
                service,
                severity,
                title,
                error_rate,
            } => {
                self.error_rate = Some(*error_rate);
                self.service = service.clone();
                self.severity = Some(*severity);
                self.title = title.clone();
                self.opened_ts = ev.ts.clone();
                self.opened_ms = crate::clock::parse_rfc3339_ms(&ev.ts).unwrap_or(self.now_ms);
                self.state = Some(State::Detected);
                self.path = vec![(State::Detected, self.now_ms)];
            }
            EventKind::StateChanged { to, .. } => {
                self.state = Some(*to);
                self.path.push((*to, self.now_ms));
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
                code,
                exception,
                message,
                blame_commit,
                blame_author,
            } => {
                self.location = Some(CodeLocation {
                    file: file.clone(),
                    line: *line,
                    function: function.clone(),
                    code: code.clone(),
                    exception: exception.clone(),
                    message: message.clone(),
                    blame_commit: blame_commit.clone(),
                    blame_author: blame_author.clone(),
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
                alternatives,
            } => {
                self.fix = Some(ProposedFix {
                    template: template.clone(),
                    file: file.clone(),
                    line: *line,
                    description: description.clone(),
                    added: *lines_added,
                    removed: *lines_removed,
                    diff: diff.clone(),
                    alternatives: alternatives.clone(),
                })
            }
            EventKind::FixCommitted {
                branch,
                commit,
                reused,
                ..
            } => {
                self.fix_commit = Some(FixCommit {
                    branch: branch.clone(),
                    commit: commit.clone(),
                    reused: *reused,
                })
            }
            EventKind::GateResult(g) => self.gates.push(g.clone()),
            EventKind::Decision { justification } => {
                self.justifications.push(justification.clone())
            }
            EventKind::AwaitingApproval {
                reasons,
                rules,
                risk_score,
                strategy,
                diff_summary,
                gates_summary,
                approvals_required,
                expires_at,
            } => {
                self.approvals_requested += 1;
                self.pause_rules.extend(rules.iter().cloned());
                self.approval = Some(ApprovalRequest {
                    reasons: reasons.clone(),
                    rules: rules.clone(),
                    risk_score: *risk_score,
                    strategy: strategy.clone(),
                    diff_summary: diff_summary.clone(),
                    gates_summary: gates_summary.clone(),
                    required: *approvals_required,
                    approved_by: Vec::new(),
                    expires_at: expires_at.clone(),
                })
            }
            EventKind::ApprovalCounted { actor, .. } => {
                if let Some(a) = &mut self.approval {
                    a.approved_by.push(actor.clone());
                }
            }
            EventKind::Approval {
                decision,
                actor,
                comment,
            } => {
                self.approval = None;
                self.decisions.push(ApprovalDecision {
                    decision: decision.clone(),
                    actor: actor.clone(),
                    comment: comment.clone(),
                    ts: ev.ts.clone(),
                });
            }
            EventKind::LockAcquired {
                resource,
                owner,
                fence,
                waited_ms,
            } => {
                self.locks_taken += 1;
                self.max_fence = self.max_fence.max(*fence);
                self.lock_wait_ms += waited_ms;
                self.locks.push(HeldLock {
                    resource: resource.clone(),
                    owner: owner.clone(),
                    fence: *fence,
                })
            }
            EventKind::LockReleased { resource, owner } => {
                match self
                    .locks
                    .iter()
                    .position(|l| &l.resource == resource && &l.owner == owner)
                {
                    Some(i) => {
                        self.locks.remove(i);
                    }
                    None => self.unmatched_releases += 1,
                }
            }
            EventKind::Deployed {
                service,
                percent,
                fence,
            } => {
                if self.service.is_empty() {
                    self.service = service.clone();
                }
                let r = &mut self.rollout;
                r.traffic_pct = *percent;
                r.deployed_percent = r.deployed_percent.max(*percent);
                r.max_percent = r.max_percent.max(*percent);
                self.max_fence = self.max_fence.max(*fence);
            }
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
            } => self.rollout.deploy_steps.push(DeployStepRun {
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
                let r = &mut self.rollout;
                r.steps.push(StepMetrics {
                    step: step.clone(),
                    percent: *percent,
                    baseline: *baseline,
                    canary: *canary,
                    series_start: r.canary_errors.len(),
                });
                // Align the two series on the same seconds so charts compare like with like.
                let n = canary_error_series.len().max(baseline_error_series.len());
                r.canary_errors.extend(pad(canary_error_series, n));
                r.baseline_errors.extend(pad(baseline_error_series, n));
                r.canary_p99.extend(pad(canary_p99_series, n));
                r.baseline_p99.extend(pad(baseline_p99_series, n));
            }
            EventKind::Verification {
                phase,
                verdict,
                score,
                reason,
                metrics,
            } => self.rollout.verdicts.push(Verdict {
                phase: phase.clone(),
                verdict: verdict.clone(),
                score: *score,
                reason: reason.clone(),
                metrics: metrics.clone(),
            }),
            EventKind::RolledBack { reason, .. } => {
                let r = &mut self.rollout;
                r.traffic_pct = 0;
                r.deployed_percent = 0;
                r.rollbacks.push(reason.clone());
            }
            EventKind::PipelinePaused { .. } => {
                self.paused = true;
                self.pauses += 1;
            }
            EventKind::PipelineResumed { .. } => self.paused = false,
            EventKind::Note { message } => self.notes.push(message.clone()),
            EventKind::RolloutHeld { percent, hold, .. } => self.rollout.holds.push(Hold {
                percent: *percent,
                reason: *hold,
            }),
            EventKind::Finished {
                outcome,
                state,
                reason,
                cause,
            } => {
                self.paused = false;
                self.approval = None;
                self.state = Some(*state);
                self.finished = Some(Finish {
                    outcome: *outcome,
                    state: *state,
                    reason: reason.clone(),
                    cause: cause.clone(),
                    ts: ev.ts.clone(),
                });
            }
            EventKind::AlertReceived { .. }
            | EventKind::AlertResolved { .. }
            | EventKind::Topology { .. }
            | EventKind::NotificationSent { .. } => {}
        }
    }
}

fn pad(v: &[f64], n: usize) -> impl Iterator<Item = f64> + '_ {
    v.iter().copied().chain(std::iter::repeat(f64::NAN)).take(n)
}

/// Every incident seen, in order of first appearance, and the fleet as last reported.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Projection {
    incidents: Vec<IncidentState>,
    /// Services with their health, as last reported.
    pub services: Vec<ServiceHealth>,
    /// Calls, caller → callee.
    pub edges: Vec<(String, String)>,
    /// Alerts received, incident or not.
    pub alerts_received: u64,
    /// Pipeline clock: time of the latest event, ms since the epoch.
    pub now_ms: i64,
}

impl Projection {
    /// Fold a whole stream.
    pub fn of<'a>(events: impl IntoIterator<Item = &'a Event>) -> Self {
        let mut p = Self::default();
        for ev in events {
            p.apply(ev);
        }
        p
    }

    /// Fold one event in; returns the incident it changed, if it belongs to one.
    pub fn apply(&mut self, ev: &Event) -> Option<&IncidentState> {
        if let Some(ms) = crate::clock::parse_rfc3339_ms(&ev.ts) {
            self.now_ms = self.now_ms.max(ms);
        }
        match &ev.kind {
            EventKind::Topology { services, edges } => {
                self.services = services.clone();
                self.edges = edges.clone();
            }
            EventKind::AlertReceived { .. } => self.alerts_received += 1,
            _ => {}
        }
        if ev.incident.is_empty() {
            return None;
        }
        let i = match self.incidents.iter().rposition(|i| i.id == ev.incident) {
            Some(i) => i,
            None => {
                self.incidents.push(IncidentState {
                    id: ev.incident.clone(),
                    ..IncidentState::default()
                });
                self.incidents.len() - 1
            }
        };
        self.incidents[i].apply(ev);
        Some(&self.incidents[i])
    }

    /// Incidents in order of first appearance.
    pub fn incidents(&self) -> &[IncidentState] {
        &self.incidents
    }

    /// One incident by id.
    pub fn get(&self, id: &str) -> Option<&IncidentState> {
        self.incidents.iter().rev().find(|i| i.id == id)
    }

    /// The newest incident.
    pub fn latest(&self) -> Option<&IncidentState> {
        self.incidents.last()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Severity;

    fn ev(seq: u64, incident: &str, kind: EventKind) -> Event {
        Event {
            seq,
            ts: format!("2026-12-07T10:00:{:02}Z", seq.min(59)),
            kind,
            incident: incident.into(),
        }
    }

    fn opened(seq: u64, id: &str, service: &str) -> Event {
        ev(
            seq,
            id,
            EventKind::IncidentOpened {
                service: service.into(),
                severity: Severity::High,
                title: "errors".into(),
                error_rate: 0.15,
            },
        )
    }

    #[test]
    fn incidents_are_kept_apart_and_in_order() {
        let p = Projection::of(&[
            opened(0, "INC-A", "payments"),
            opened(1, "INC-B", "orders"),
            ev(
                2,
                "INC-A",
                EventKind::StateChanged {
                    from: State::Detected,
                    to: State::Analyzing,
                },
            ),
        ]);
        let ids: Vec<&str> = p.incidents().iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ["INC-A", "INC-B"]);
        assert_eq!(p.get("INC-A").and_then(|i| i.state), Some(State::Analyzing));
        assert_eq!(p.get("INC-B").and_then(|i| i.state), Some(State::Detected));
        assert_eq!(p.get("INC-A").map(|i| i.last_seq), Some(2));
        assert_eq!(p.latest().map(|i| i.service.as_str()), Some("orders"));
    }

    #[test]
    fn deployed_share_resets_on_rollback_but_the_maximum_stays() {
        let mut p = Projection::default();
        p.apply(&opened(0, "INC-A", "payments"));
        for (seq, pct) in [(1, 10u8), (2, 50)] {
            p.apply(&ev(
                seq,
                "INC-A",
                EventKind::Deployed {
                    service: "payments".into(),
                    percent: pct,
                    fence: seq,
                },
            ));
        }
        p.apply(&ev(
            3,
            "INC-A",
            EventKind::RolledBack {
                service: "payments".into(),
                reason: "errors".into(),
            },
        ));
        let r = &p.get("INC-A").expect("incident").rollout;
        assert_eq!(
            (r.traffic_pct, r.deployed_percent, r.max_percent),
            (0, 0, 50)
        );
        assert_eq!(r.rollbacks, ["errors"]);
        assert_eq!(p.get("INC-A").map(|i| i.max_fence), Some(2));
    }

    #[test]
    fn locks_are_matched_to_their_holder() {
        let mut p = Projection::default();
        let take = |seq, owner: &str| {
            ev(
                seq,
                "INC-A",
                EventKind::LockAcquired {
                    resource: "service:a".into(),
                    owner: owner.into(),
                    fence: 7,
                    waited_ms: 250,
                },
            )
        };
        p.apply(&take(0, "me"));
        p.apply(&ev(
            1,
            "INC-A",
            EventKind::LockReleased {
                resource: "service:a".into(),
                owner: "someone-else".into(),
            },
        ));
        let i = p.get("INC-A").expect("incident");
        assert_eq!(i.locks.len(), 1);
        assert_eq!(i.unmatched_releases, 1);
        assert_eq!((i.locks_taken, i.max_fence, i.lock_wait_ms), (1, 7, 250));
    }

    #[test]
    fn events_without_an_incident_only_touch_the_fleet() {
        let mut p = Projection::default();
        assert!(p
            .apply(&ev(
                0,
                "",
                EventKind::Topology {
                    services: Vec::new(),
                    edges: vec![("a".into(), "b".into())],
                }
            ))
            .is_none());
        assert!(p.incidents().is_empty());
        assert_eq!(p.edges.len(), 1);
    }
}
