//! `deploy.backend: script`: the generic path to real deploy tooling. Each deploy step runs a
//! configured shell command (`sh -c`) that drives whatever the platform uses — Argo Rollouts,
//! Flagger, plain kubectl, a CI job — and tells it what to do through the environment:
//!
//! | variable | value |
//! |---|---|
//! | `CCP_ACTION` | `shift` (a canary step below 100 %), `promote` (the 100 % step) or `rollback` |
//! | `CCP_SERVICE` | service to act on |
//! | `CCP_VERSION` | stable id of the patch ([`patch_version`]): the fix commit, else a content hash |
//! | `CCP_PERCENT` | traffic share on the patched version after the step (0 for `rollback`) |
//! | `CCP_FENCE` | fencing token of the service lock; pass it on if your tooling can check it |
//! | `CCP_INCIDENT` | incident id, when known |
//! | `CCP_PLAN_FILE` | the fix plan as JSON (a temp file that lives for the step), when known |
//! | `CCP_PATCHED_FILE` | repository-relative path of the changed file, when known |
//!
//! One command may do everything (`deploy.script`, switching on `CCP_ACTION`); per-action
//! commands (`deploy.commands.{shift,promote,rollback}`) override it for their action. A step
//! fails on a non-zero exit (the error names the code and the last lines printed) or when it
//! outlives `deploy.step_timeout_s`, in which case its whole process group is stopped (SIGTERM,
//! then SIGKILL), so a stuck `kubectl ... --watch` and its children cannot linger; background
//! processes still holding the command's output shortly after it exits are killed too, so a step
//! always ends. A fencing token older than one already seen is refused before anything runs.
//! What the command printed (stdout and stderr interleaved, the last [`OUTPUT_TAIL_BYTES`]) comes
//! back in the [`StepReport`], which the pipeline turns into a `deploy_step` event: cockpit and
//! audit log.

use crate::subprocess::{run_bounded, Limits};
use ccp_config::DeployConfig;
use ccp_core::domain::FixPlan;
use ccp_core::locks::FenceGuard;
use ccp_core::ports::{
    patch_version, DeployAction, DeployStep, Deployer, PortError, PortResult, StepReport,
};
use std::collections::HashMap;
use std::io::Write;
use std::process::Command;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How much of a command's output is kept: enough for the tail of a verbose `kubectl` run,
/// small enough for an audit record.
pub const OUTPUT_TAIL_BYTES: usize = 64 * 1024;

/// Lines of output quoted in a failed step's error message (the report keeps all of the tail).
const ERROR_TAIL_LINES: usize = 5;

/// Grace between SIGTERM and SIGKILL when a step is stopped: long enough for a tool to print why
/// it stopped, short enough not to hold up the rollback.
const DEFAULT_TERM_GRACE: Duration = Duration::from_secs(5);

/// Why a script deployer cannot be built from a config. The config validator reports the same
/// problems with file positions; this is the last line of defence for programmatic configs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScriptDeployError {
    /// An action has neither its own command nor `deploy.script` to fall back to.
    #[error("no command for `{0}`: set `deploy.script` or `deploy.commands.{0}`")]
    MissingCommand(&'static str),
    /// A step without a deadline could hang the rollout forever.
    #[error("`deploy.step_timeout_s` must be at least 1")]
    ZeroTimeout,
}

/// The command each action runs, resolved from `deploy.commands` and `deploy.script`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ActionCommands {
    shift: String,
    promote: String,
    rollback: String,
}

impl ActionCommands {
    fn get(&self, action: DeployAction) -> &str {
        match action {
            DeployAction::Shift => &self.shift,
            DeployAction::Promote => &self.promote,
            DeployAction::Rollback => &self.rollback,
        }
    }
}

/// What the deployer remembers of the last step on a service, so a bare
/// [`Deployer::rollback`] (which carries no plan) still gives the command the version and plan
/// it is undoing.
#[derive(Debug, Clone)]
struct LastStep {
    version: String,
    plan: FixPlan,
    incident: Option<String>,
}

/// A [`Deployer`] that runs configured shell commands for each step. Build it with
/// [`ScriptDeployer::from_config`].
#[derive(Debug)]
pub struct ScriptDeployer {
    commands: ActionCommands,
    timeout: Duration,
    term_grace: Duration,
    fences: Mutex<FenceGuard>,
    last: Mutex<HashMap<String, LastStep>>,
}

fn guard<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl ScriptDeployer {
    /// Build the deployer `deploy:` describes: each action's command is
    /// `deploy.commands.<action>`, else `deploy.script`; steps time out after
    /// `deploy.step_timeout_s`. Works whatever `deploy.backend` says, so callers decide when to
    /// use it.
    pub fn from_config(cfg: &DeployConfig) -> Result<Self, ScriptDeployError> {
        let pick = |own: &Option<String>, action: &'static str| {
            own.as_deref()
                .or(cfg.script.as_deref())
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .ok_or(ScriptDeployError::MissingCommand(action))
        };
        let commands = ActionCommands {
            shift: pick(&cfg.commands.shift, "shift")?,
            promote: pick(&cfg.commands.promote, "promote")?,
            rollback: pick(&cfg.commands.rollback, "rollback")?,
        };
        if cfg.step_timeout_s == 0 {
            return Err(ScriptDeployError::ZeroTimeout);
        }
        Ok(Self {
            commands,
            timeout: Duration::from_secs(cfg.step_timeout_s),
            term_grace: DEFAULT_TERM_GRACE,
            fences: Mutex::new(FenceGuard::default()),
            last: Mutex::new(HashMap::new()),
        })
    }

    /// Change how long a stopped step gets between SIGTERM and SIGKILL (default 5 s); tests and
    /// tools that trap SIGTERM to clean up may want another value.
    pub fn with_term_grace(mut self, grace: Duration) -> Self {
        self.term_grace = grace;
        self
    }

    /// Fill in what a context-free call left out from the last step on the same service.
    fn complete<'a>(&self, step: &DeployStep<'a>, last: &'a Option<LastStep>) -> DeployStep<'a> {
        let mut s = *step;
        if let Some(l) = last {
            if s.plan.is_none() {
                s.plan = Some(&l.plan);
            }
            if s.version.is_empty() {
                s.version = &l.version;
            }
            if s.incident.is_none() {
                s.incident = l.incident.as_deref();
            }
        }
        s
    }

    fn remember(&self, step: &DeployStep<'_>) {
        if let (DeployAction::Shift | DeployAction::Promote, Some(plan)) = (step.action, step.plan)
        {
            guard(&self.last).insert(
                step.service.to_string(),
                LastStep {
                    version: step.version.to_string(),
                    plan: plan.clone(),
                    incident: step.incident.map(str::to_string),
                },
            );
        }
    }

    fn execute(&self, step: &DeployStep<'_>) -> StepReport {
        if let Err(e) = guard(&self.fences).check(step.service, step.fence) {
            return StepReport::from_result(Err(PortError::new("deployer", e.to_string())));
        }
        let last = guard(&self.last).get(step.service).cloned();
        let step = self.complete(step, &last);
        self.remember(&step);
        let command = self.commands.get(step.action).to_string();
        let failed = |message: String| StepReport {
            command: Some(command.clone()),
            error: Some(PortError::new("deployer", message)),
            ..StepReport::default()
        };
        // The plan file must outlive the command; it is removed when `plan_file` drops.
        let plan_file = match step.plan.map(write_plan).transpose() {
            Ok(f) => f,
            Err(e) => return failed(format!("writing the fix plan for the deploy command: {e}")),
        };
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(&command)
            .env("CCP_ACTION", step.action.as_str())
            .env("CCP_SERVICE", step.service)
            .env("CCP_VERSION", step.version)
            .env("CCP_PERCENT", step.percent.to_string())
            .env("CCP_FENCE", step.fence.to_string());
        for var in ["CCP_INCIDENT", "CCP_PLAN_FILE", "CCP_PATCHED_FILE"] {
            cmd.env_remove(var);
        }
        if let Some(incident) = step.incident {
            cmd.env("CCP_INCIDENT", incident);
        }
        if let (Some(f), Some(plan)) = (&plan_file, step.plan) {
            cmd.env("CCP_PLAN_FILE", f.path())
                .env("CCP_PATCHED_FILE", &plan.file);
        }
        let started = Instant::now();
        let limits = Limits {
            head_bytes: 0,
            tail_bytes: OUTPUT_TAIL_BYTES,
            ..Limits::new(self.timeout, self.term_grace)
        };
        let run = match run_bounded(&mut cmd, &limits) {
            Ok(r) => r,
            Err(e) => return failed(format!("could not start `sh -c {command}`: {e}")),
        };
        let what = describe(&step);
        let error = if run.timed_out {
            Some(format!(
                "{what} timed out after {} s; its process group was stopped{}",
                self.timeout.as_secs(),
                last_lines(&run.output)
            ))
        } else {
            match run.status.map(|s| (s.success(), s.code())) {
                Some((true, _)) => None,
                Some((false, Some(code))) => Some(format!(
                    "{what} exited with code {code}{}",
                    last_lines(&run.output)
                )),
                Some((false, None)) => Some(format!(
                    "{what} was killed by a signal{}",
                    last_lines(&run.output)
                )),
                None => Some(format!("{what}: lost track of the process")),
            }
        };
        StepReport {
            command: Some(command),
            exit_code: run.status.and_then(|s| s.code()).filter(|_| !run.timed_out),
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            output: run.output,
            error: error.map(|m| PortError::new("deployer", m)),
        }
    }
}

impl Deployer for ScriptDeployer {
    fn shift(&self, service: &str, plan: &FixPlan, percent: u8, fence: u64) -> PortResult<()> {
        let version = patch_version(plan, None);
        let step = DeployStep {
            action: DeployAction::for_percent(percent),
            service,
            plan: Some(plan),
            percent,
            fence,
            version: &version,
            incident: None,
        };
        into_result(self.execute(&step))
    }

    fn rollback(&self, service: &str, fence: u64) -> PortResult<()> {
        let step = DeployStep {
            action: DeployAction::Rollback,
            service,
            plan: None,
            percent: 0,
            fence,
            version: "",
            incident: None,
        };
        into_result(self.execute(&step))
    }

    fn run_step(&self, step: &DeployStep<'_>) -> StepReport {
        self.execute(step)
    }
}

fn into_result(report: StepReport) -> PortResult<()> {
    match report.error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// `deploy command for shift to 50 % of payment-service`, the subject of every error.
fn describe(step: &DeployStep<'_>) -> String {
    match step.action {
        DeployAction::Rollback => format!("deploy command for rollback of {}", step.service),
        a => format!(
            "deploy command for {} to {} % of {}",
            a.as_str(),
            step.percent,
            step.service
        ),
    }
}

/// `; last output: a | b | c` from the last few non-empty lines, or nothing.
fn last_lines(output: &str) -> String {
    let lines: Vec<&str> = output
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() {
        return "; it printed nothing".to_string();
    }
    let tail = &lines[lines.len().saturating_sub(ERROR_TAIL_LINES)..];
    format!("; last output: {}", tail.join(" | "))
}

fn write_plan(plan: &FixPlan) -> std::io::Result<tempfile::NamedTempFile> {
    let mut f = tempfile::Builder::new()
        .prefix("ccp-plan-")
        .suffix(".json")
        .tempfile()?;
    let json = serde_json::to_vec_pretty(plan).map_err(std::io::Error::other)?;
    f.write_all(&json)?;
    f.flush()?;
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_commands_are_named() {
        let mut cfg = DeployConfig::default();
        cfg.commands.shift = Some("true".into());
        let e = ScriptDeployer::from_config(&cfg).expect_err("promote missing");
        assert_eq!(e, ScriptDeployError::MissingCommand("promote"));
        cfg.script = Some("./deploy.sh".into());
        let d = ScriptDeployer::from_config(&cfg).expect("script covers the rest");
        assert_eq!(d.commands.shift, "true");
        assert_eq!(d.commands.rollback, "./deploy.sh");
        cfg.step_timeout_s = 0;
        assert_eq!(
            ScriptDeployer::from_config(&cfg).expect_err("no deadline"),
            ScriptDeployError::ZeroTimeout
        );
    }

    #[test]
    fn last_lines_quote_the_end() {
        assert_eq!(last_lines(""), "; it printed nothing");
        let out = "a\n\nb\nc\nd\ne\nf\n";
        assert_eq!(last_lines(out), "; last output: b | c | d | e | f");
    }
}
