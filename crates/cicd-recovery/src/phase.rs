//! The seven phases of a recovery, in the order they run. Every action of a decision tree
//! belongs to one (its own `phase:` or its action's default), and phases only move forward, so the
//! trace reads like a runbook: prepare, respond, stabilise, check, tune, tidy up, report.

use serde::{Deserialize, Serialize};
use std::fmt;

/// One phase of a recovery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Record the state to return to, tell the people who need to know.
    Preparation,
    /// The primary strategy: roll back, retry, restart, rotate.
    ImmediateResponse,
    /// Fallbacks that keep the service up while it settles: scale out, circuit breakers.
    Stabilization,
    /// Prove it worked: health checks, smoke tests, metrics.
    Validation,
    /// Give back what recovery borrowed: right-size resources.
    Optimization,
    /// Remove temporary resources and freezes.
    Cleanup,
    /// Report and follow-up.
    PostRecovery,
}

impl Phase {
    /// All seven, in order.
    pub const ALL: [Phase; 7] = [
        Phase::Preparation,
        Phase::ImmediateResponse,
        Phase::Stabilization,
        Phase::Validation,
        Phase::Optimization,
        Phase::Cleanup,
        Phase::PostRecovery,
    ];

    /// The name used in YAML, JSON and traces.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Preparation => "preparation",
            Phase::ImmediateResponse => "immediate_response",
            Phase::Stabilization => "stabilization",
            Phase::Validation => "validation",
            Phase::Optimization => "optimization",
            Phase::Cleanup => "cleanup",
            Phase::PostRecovery => "post_recovery",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
