//! What recovery actions *do*, behind one trait: [`RecoveryActions`]. The executor never knows
//! whether an action rolled a real deployment back or only described it, but the report says so:
//! [`SimulatedActions`] (demo, tests) marks every report `simulated` and never claims real work;
//! [`super::script_actions::ScriptActions`] runs the operator's commands.
//!
//! The catalogue gives known action names their defaults — the phase they belong to, whether
//! they disrupt serving (and so need approval in production), and how many instances they take
//! out of service at once (for the zero-downtime check). A tree may override each per node, and
//! may name actions the catalogue does not know (they default to an immediate response that
//! disrupts nothing, which a script must then implement).

use super::phase::Phase;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Defaults of a known action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionDefaults {
    /// Phase it runs in.
    pub phase: Phase,
    /// Whether it can interrupt serving (restarts, rollbacks, failovers).
    pub disruptive: bool,
    /// Instances it takes out of service while it runs.
    pub takes_out: u32,
}

const fn d(phase: Phase, disruptive: bool, takes_out: u32) -> ActionDefaults {
    ActionDefaults {
        phase,
        disruptive,
        takes_out,
    }
}

/// Known actions and their defaults, by name.
pub const CATALOGUE: &[(&str, ActionDefaults)] = &[
    ("snapshot_state", d(Phase::Preparation, false, 0)),
    ("notify_stakeholders", d(Phase::Preparation, false, 0)),
    ("freeze_deploys", d(Phase::Preparation, false, 0)),
    ("collect_diagnostics", d(Phase::Preparation, false, 0)),
    // Blue-green switch back: the old version is still running, so nothing leaves service.
    ("rollback_deployment", d(Phase::ImmediateResponse, true, 0)),
    ("retry_pipeline", d(Phase::ImmediateResponse, false, 0)),
    ("retry_deployment", d(Phase::ImmediateResponse, true, 0)),
    // Rolling restart: one instance at a time.
    ("restart_service", d(Phase::ImmediateResponse, true, 1)),
    ("revert_config", d(Phase::ImmediateResponse, true, 0)),
    ("rotate_credentials", d(Phase::ImmediateResponse, true, 0)),
    ("isolate_service", d(Phase::ImmediateResponse, true, 0)),
    ("failover_region", d(Phase::ImmediateResponse, true, 0)),
    ("scale_out", d(Phase::Stabilization, false, 0)),
    ("enable_circuit_breaker", d(Phase::Stabilization, false, 0)),
    ("drain_instance", d(Phase::Stabilization, true, 1)),
    ("clear_cache", d(Phase::Stabilization, false, 0)),
    ("health_check", d(Phase::Validation, false, 0)),
    ("run_smoke_tests", d(Phase::Validation, false, 0)),
    ("verify_metrics", d(Phase::Validation, false, 0)),
    ("tune_resources", d(Phase::Optimization, false, 0)),
    ("scale_in", d(Phase::Optimization, true, 1)),
    ("remove_temporary_resources", d(Phase::Cleanup, false, 0)),
    ("unfreeze_deploys", d(Phase::Cleanup, false, 0)),
    ("write_report", d(Phase::PostRecovery, false, 0)),
    ("open_postmortem", d(Phase::PostRecovery, false, 0)),
];

/// Defaults of an action not in the catalogue.
pub const UNKNOWN_ACTION: ActionDefaults = d(Phase::ImmediateResponse, false, 0);

/// The defaults of `name`.
pub fn defaults(name: &str) -> ActionDefaults {
    CATALOGUE
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(UNKNOWN_ACTION, |(_, d)| *d)
}

/// One action to perform, with the case it is for.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActionRequest {
    /// Action name (`rollback_deployment`).
    pub action: String,
    /// The tree node that asked for it.
    pub node: String,
    /// Parameters from the tree.
    pub params: BTreeMap<String, String>,
    /// Recovery case id.
    pub case_id: String,
    /// Case facts a command may need (`project`, `environment`, `commit`, `category`, …).
    pub facts: BTreeMap<String, String>,
    /// 1 for the first try, 2 for the first retry, …
    pub attempt: u32,
}

/// What an action did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ActionReport {
    /// Whether it succeeded.
    pub ok: bool,
    /// True when nothing real was done (the simulated implementation).
    pub simulated: bool,
    /// One line for the trace.
    pub detail: String,
    /// The command run, for script actions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// Exit code, for script actions that exited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// The tail of what the command printed.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub output: String,
}

/// Performs recovery actions. Called from several threads at once for a parallel node.
pub trait RecoveryActions: Send + Sync {
    /// Perform `req` and say what happened; never panic, report a failure instead.
    fn run(&self, req: &ActionRequest) -> ActionReport;
}

/// Deterministic stand-in for real actions: every action succeeds except the ones named to fail,
/// and every report says it was simulated and what would have been done.
#[derive(Debug, Clone, Default)]
pub struct SimulatedActions {
    failing: BTreeSet<String>,
    /// Failures left per action before it starts succeeding (for retry demos and tests).
    flaky: BTreeMap<String, u32>,
}

impl SimulatedActions {
    /// All actions succeed.
    pub fn new() -> Self {
        Self::default()
    }

    /// These actions always fail (to drive a tree down its failure paths).
    pub fn failing<I, S>(mut self, actions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.failing.extend(actions.into_iter().map(Into::into));
        self
    }

    /// `action` fails on its first `times` attempts, then succeeds.
    pub fn flaky(mut self, action: &str, times: u32) -> Self {
        self.flaky.insert(action.to_string(), times);
        self
    }
}

impl RecoveryActions for SimulatedActions {
    fn run(&self, req: &ActionRequest) -> ActionReport {
        let target = req
            .facts
            .get("project")
            .map(String::as_str)
            .filter(|p| !p.is_empty())
            .unwrap_or("the service");
        let env = req
            .facts
            .get("environment")
            .map_or(String::new(), |e| format!(" in {e}"));
        let fails = self.failing.contains(&req.action)
            || self
                .flaky
                .get(&req.action)
                .is_some_and(|n| req.attempt <= *n);
        let detail = if fails {
            format!(
                "simulated: {} of {target}{env} failed (attempt {})",
                req.action, req.attempt
            )
        } else {
            format!(
                "simulated: would run {} for {target}{env}; nothing was changed",
                req.action
            )
        };
        ActionReport {
            ok: !fails,
            simulated: true,
            detail,
            ..ActionReport::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simulated_reports_say_they_are_simulated() {
        let req = ActionRequest {
            action: "rollback_deployment".into(),
            node: "rollback".into(),
            params: BTreeMap::new(),
            case_id: "REC-1".into(),
            facts: BTreeMap::from([("project".into(), "shop/api".into())]),
            attempt: 1,
        };
        let r = SimulatedActions::new().run(&req);
        assert!(r.ok && r.simulated);
        assert_eq!(
            r.detail,
            "simulated: would run rollback_deployment for shop/api; nothing was changed"
        );
        let flaky = SimulatedActions::new().flaky("rollback_deployment", 1);
        assert!(!flaky.run(&req).ok);
        assert!(
            flaky
                .run(&ActionRequest {
                    attempt: 2,
                    ..req.clone()
                })
                .ok
        );
        assert!(defaults("restart_service").disruptive);
        assert_eq!(defaults("my_own").phase, Phase::ImmediateResponse);
    }
}
