//! The failure-injection matrix (`ccp scenarios`, `ccp inject`): each scenario reshapes the
//! embedded fleet (a fault, a policy history, another operator's lock or operation, a broken
//! Redis, a tampered log, a crash), runs the real pipeline at instant pace, and compares what
//! happened with what an on-call engineer expects. A scenario passes only when the outcome *and*
//! every check on the events hold, so "it ended escalated" for the wrong reason is a failure.
//!
//! The seeds' 20-row matrix is the list; where ccp's expected reaction differs from the seed's
//! (e.g. no blind "increase pool size" without code to patch), the scenario says so in `expect`.

mod audit_drill;
pub mod chaos;
mod checks;
mod crash_drill;
mod drive;
mod fleets;
mod matrix;

pub use checks::Check;
pub use matrix::all;

use serde::Serialize;

/// What a scripted on-call engineer does when the run asks for a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Human {
    /// Approves every request.
    Approve,
    /// Rejects every request.
    Reject,
    /// Pauses the pipeline when the first traffic shift lands, resumes once the pause is
    /// recorded, and approves requests.
    PauseAtCanaryThenResume,
}

/// How a scenario is run.
pub(crate) enum Kind {
    /// One pipeline run on a prepared world.
    Pipeline(drive::Setup),
    /// Something that is not one pipeline run (tampering, crash and restart).
    Drill(fn(&Scenario) -> anyhow::Result<Observed>),
}

/// One row of the matrix.
pub struct Scenario {
    /// Stable name (`ccp inject --scenario NAME`).
    pub name: &'static str,
    /// The seed matrix row it stands for.
    pub seed_row: &'static str,
    /// What ccp is expected to do, in words.
    pub expect: &'static str,
    /// The outcome the run must end with: a pipeline outcome (`resolved`, `rolled_back`, …) or
    /// a drill's verdict (`tamper_detected`).
    pub outcome: &'static str,
    pub(crate) kind: Kind,
    pub(crate) checks: Vec<Check>,
}

/// What a scenario run produced.
#[derive(Debug, Clone, Serialize)]
pub struct Observed {
    /// Outcome of the run, or a drill's verdict.
    pub outcome: String,
    /// Final state or, for drills, a short summary.
    pub state: String,
    /// The run's closing reason.
    pub reason: String,
    /// Each check with its verdict.
    pub checks: Vec<CheckResult>,
}

/// One named check and whether it held.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    /// What was checked, in words.
    pub what: String,
    /// Whether it held.
    pub ok: bool,
}

/// A scenario's verdict, as `ccp inject --json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioResult {
    /// Scenario name.
    pub name: String,
    /// Expected outcome.
    pub expected: String,
    /// Observed outcome, or `None` when the scenario could not run at all.
    pub observed: Option<String>,
    /// True when the outcome matches and every check held.
    pub pass: bool,
    /// Final state or drill summary.
    pub state: String,
    /// Closing reason or the error that stopped the scenario.
    pub reason: String,
    /// The checks.
    pub checks: Vec<CheckResult>,
}

/// Scenario names with their expected outcomes, for `ccp scenarios`.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioInfo {
    /// Name.
    pub name: &'static str,
    /// Seed row.
    pub seed_row: &'static str,
    /// Expected outcome.
    pub expected: &'static str,
    /// Expected reaction in words.
    pub expect: &'static str,
}

impl Scenario {
    /// The listing entry.
    pub fn info(&self) -> ScenarioInfo {
        ScenarioInfo {
            name: self.name,
            seed_row: self.seed_row,
            expected: self.outcome,
            expect: self.expect,
        }
    }

    /// Run the scenario and judge it. Never panics on a failing scenario: a run that could not
    /// happen at all is a failed row with the error as its reason.
    pub fn run(&self, env: &InjectEnv) -> ScenarioResult {
        let observed = match &self.kind {
            Kind::Pipeline(setup) => drive::run(self, setup, env),
            Kind::Drill(f) => f(self),
        };
        match observed {
            Ok(o) => ScenarioResult {
                name: self.name.to_string(),
                expected: self.outcome.to_string(),
                pass: o.outcome == self.outcome && o.checks.iter().all(|c| c.ok),
                observed: Some(o.outcome),
                state: o.state,
                reason: o.reason,
                checks: o.checks,
            },
            Err(e) => ScenarioResult {
                name: self.name.to_string(),
                expected: self.outcome.to_string(),
                observed: None,
                pass: false,
                state: "not run".into(),
                reason: format!("{e:#}"),
                checks: Vec::new(),
            },
        }
    }
}

/// What every scenario run shares: where state goes and the base configuration.
#[derive(Debug, Clone)]
pub struct InjectEnv {
    /// Base configuration (scenarios change what they need on a copy).
    pub config: ccp_config::Config,
    /// Seed of the fleet noise.
    pub seed: u64,
}

/// Find a scenario by name.
pub fn find(name: &str) -> Option<Scenario> {
    all().into_iter().find(|s| s.name == name)
}

/// Names of every scenario, for error messages.
pub fn names() -> Vec<&'static str> {
    all().iter().map(|s| s.name).collect()
}

/// Refuse, before anything starts, a `ccp demo --scenario` name that is unknown or is a drill
/// (tampering and crash drills are not one pipeline run to watch).
pub fn check_playable(name: &str) -> anyhow::Result<()> {
    let Some(s) = find(name) else {
        anyhow::bail!("unknown scenario `{name}`; known: {}", names().join(", "))
    };
    if let Kind::Drill(_) = s.kind {
        anyhow::bail!(
            "`{name}` is a drill, not a run to watch: use `ccp inject --scenario {name}`"
        );
    }
    Ok(())
}

/// Start a run, on a scenario's world when one is named: the cockpit then shows that
/// failure and the person at the keyboard is the on-call engineer the matrix scripts.
pub fn start_scenario_or_run(
    opts: &ccp_app::RunOptions,
    scenario: Option<&str>,
) -> anyhow::Result<ccp_app::AppHandle> {
    let Some(name) = scenario else {
        return ccp_app::start(opts);
    };
    check_playable(name)?;
    let Some(Scenario {
        kind: Kind::Pipeline(setup),
        ..
    }) = find(name)
    else {
        anyhow::bail!("`{name}` is not a pipeline scenario")
    };
    drive::start_in_cockpit(&setup, opts)
}
