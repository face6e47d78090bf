//! The pipeline's state machine, kept in one file so an operator can read every legal move at once
//! (the Argo Rollouts lesson). States and their spelling are part of the Contract.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Every state a remediation can be in. The `SCREAMING_SNAKE` spelling is the Contract's, used in
/// events, the audit log and the cockpit, so serde renames to exactly that.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum State {
    Detected,
    Analyzing,
    RcaComplete,
    CodeLocated,
    FixPlanned,
    PatchReady,
    GatesPassed,
    PausedForHumanReview,
    Locked,
    #[serde(rename = "CANARY_10")]
    Canary10,
    HealthCheck,
    #[serde(rename = "CANARY_50")]
    Canary50,
    FullDeploy,
    Verification,
    Success,
    Closed,
    GatesFailed,
    Rollback,
    RolledBack,
    Escalated,
    Rejected,
}

/// All states in Contract order, so tables and the cockpit can iterate them without drifting.
pub const ALL_STATES: [State; 21] = [
    State::Detected,
    State::Analyzing,
    State::RcaComplete,
    State::CodeLocated,
    State::FixPlanned,
    State::PatchReady,
    State::GatesPassed,
    State::PausedForHumanReview,
    State::Locked,
    State::Canary10,
    State::HealthCheck,
    State::Canary50,
    State::FullDeploy,
    State::Verification,
    State::Success,
    State::Closed,
    State::GatesFailed,
    State::Rollback,
    State::RolledBack,
    State::Escalated,
    State::Rejected,
];

impl State {
    /// The Contract spelling, for text output that must match the JSON.
    pub fn as_str(self) -> &'static str {
        use State::*;
        match self {
            Detected => "DETECTED",
            Analyzing => "ANALYZING",
            RcaComplete => "RCA_COMPLETE",
            CodeLocated => "CODE_LOCATED",
            FixPlanned => "FIX_PLANNED",
            PatchReady => "PATCH_READY",
            GatesPassed => "GATES_PASSED",
            PausedForHumanReview => "PAUSED_FOR_HUMAN_REVIEW",
            Locked => "LOCKED",
            Canary10 => "CANARY_10",
            HealthCheck => "HEALTH_CHECK",
            Canary50 => "CANARY_50",
            FullDeploy => "FULL_DEPLOY",
            Verification => "VERIFICATION",
            Success => "SUCCESS",
            Closed => "CLOSED",
            GatesFailed => "GATES_FAILED",
            Rollback => "ROLLBACK",
            RolledBack => "ROLLED_BACK",
            Escalated => "ESCALATED",
            Rejected => "REJECTED",
        }
    }

    /// Terminal states end a run; nothing may leave them, which is what makes the audit trail final.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            State::Closed
                | State::GatesFailed
                | State::RolledBack
                | State::Escalated
                | State::Rejected
        )
    }

    /// States during which production traffic runs code the pipeline deployed, so a crash or a
    /// lost lock there must lead to a rollback rather than a silent stop.
    pub fn has_deployed_code(self) -> bool {
        matches!(
            self,
            State::Canary10
                | State::HealthCheck
                | State::Canary50
                | State::FullDeploy
                | State::Verification
        )
    }

    /// The legal successors of a state. This table *is* the state machine: anything not listed is
    /// refused and recorded, never applied.
    pub fn successors(self) -> &'static [State] {
        use State::*;
        match self {
            Detected => &[Analyzing, Escalated],
            Analyzing => &[RcaComplete, Escalated],
            RcaComplete => &[CodeLocated, Escalated],
            CodeLocated => &[FixPlanned, Escalated],
            FixPlanned => &[PatchReady, Escalated],
            PatchReady => &[GatesPassed, GatesFailed, Escalated],
            GatesPassed => &[PausedForHumanReview, Locked, Escalated],
            PausedForHumanReview => &[Locked, Rejected, Escalated],
            Locked => &[Canary10, FullDeploy, PausedForHumanReview, Escalated],
            // Escalated mid-rollout only when automatic rollback is configured off.
            Canary10 => &[HealthCheck, Rollback, Escalated],
            HealthCheck => &[Canary50, FullDeploy, Rollback, Escalated],
            Canary50 => &[HealthCheck, Rollback, Escalated],
            FullDeploy => &[Verification, Rollback, Escalated],
            Verification => &[Success, Rollback, Escalated],
            Success => &[Closed],
            Rollback => &[RolledBack, Escalated],
            Closed | GatesFailed | RolledBack | Escalated | Rejected => &[],
        }
    }

    /// Whether `self → to` is a legal move.
    pub fn can_go_to(self, to: State) -> bool {
        self.successors().contains(&to)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a transition was refused. Kept as data (not a panic) because an illegal move is an event
/// worth auditing: it means a bug or a race, and the operator must see it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("illegal transition {from} → {to}: {from} may only go to {allowed}")]
pub struct TransitionError {
    /// The state the machine was in (and stays in).
    pub from: State,
    /// The state someone asked for.
    pub to: State,
    /// The legal successors, spelled out for the message.
    pub allowed: String,
}

/// The current state plus its history. History lets the cockpit draw the path taken and lets
/// recovery know how far a run got.
#[derive(Debug, Clone)]
pub struct StateMachine {
    current: State,
    history: Vec<State>,
}

impl Default for StateMachine {
    fn default() -> Self {
        Self::new()
    }
}

impl StateMachine {
    /// Every run starts at DETECTED: there is no remediation without an incident.
    pub fn new() -> Self {
        Self {
            current: State::Detected,
            history: vec![State::Detected],
        }
    }

    /// The state now.
    pub fn current(&self) -> State {
        self.current
    }

    /// Every state visited, in order, starting with DETECTED.
    pub fn history(&self) -> &[State] {
        &self.history
    }

    /// Move to `to` if legal; otherwise leave the state unchanged and say why.
    pub fn transition(&mut self, to: State) -> Result<State, TransitionError> {
        let from = self.current;
        if !from.can_go_to(to) {
            let allowed = from
                .successors()
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            return Err(TransitionError {
                from,
                to,
                allowed: if allowed.is_empty() {
                    "nothing (terminal state)".into()
                } else {
                    allowed
                },
            });
        }
        self.current = to;
        self.history.push(to);
        Ok(from)
    }
}
