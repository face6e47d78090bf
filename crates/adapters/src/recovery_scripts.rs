//! `recovery.actions.backend: script`: each recovery action runs the operator's shell command
//! (`sh -c`), in the style of the script deployer — its own process group, stopped when it
//! outlives `recovery.actions.timeout_s`, output (stdout and stderr interleaved) captured into
//! the trace — and learns what to do from the environment:
//!
//! | variable | value |
//! |---|---|
//! | `CCP_ACTION` | action name (`rollback_deployment`, `retry_pipeline`, …) |
//! | `CCP_NODE` | tree node that asked for it |
//! | `CCP_CASE` | recovery case id |
//! | `CCP_ATTEMPT` | 1 for the first try, 2 for the first retry, … |
//! | `CCP_CATEGORY`, `CCP_SEVERITY`, `CCP_CONFIDENCE`, `CCP_ENVIRONMENT` | the case's verdict |
//! | `CCP_PROJECT`, `CCP_PROVIDER`, `CCP_COMMIT`, `CCP_REF`, `CCP_RUN_ID`, `CCP_URL`, … | every fact of the case, upper-cased |
//! | `CCP_PARAM_<NAME>` | each `params` entry of the node, upper-cased |
//!
//! Exit 0 is success; anything else, a signal or the timeout is a failure that names the code
//! and quotes the last lines printed.

use crate::subprocess::{run_bounded, Limits};
use ccp_cicd_recovery::actions::{ActionReport, ActionRequest, RecoveryActions};
use ccp_config::cicd_recovery::ActionsConfig;
use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

/// Grace between SIGTERM and SIGKILL for a stopped action.
const TERM_GRACE: Duration = Duration::from_secs(5);
/// Lines of output quoted in a failure's detail.
const DETAIL_LINES: usize = 3;

/// Why script actions cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScriptActionsError {
    /// Neither `script` nor any `commands` entry is set.
    #[error("recovery.actions.backend is script, but neither recovery.actions.script nor recovery.actions.commands is set")]
    NoCommands,
    /// A zero timeout would stop every action at once.
    #[error("recovery.actions.timeout_s must be at least 1")]
    ZeroTimeout,
}

/// Runs the configured command of each action.
#[derive(Debug, Clone)]
pub struct ScriptActions {
    script: Option<String>,
    commands: BTreeMap<String, String>,
    timeout: Duration,
}

impl ScriptActions {
    /// From `recovery.actions`.
    pub fn from_config(cfg: &ActionsConfig) -> Result<Self, ScriptActionsError> {
        let script = cfg
            .script
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        let commands: BTreeMap<String, String> = cfg
            .commands
            .iter()
            .filter(|(_, c)| !c.trim().is_empty())
            .map(|(a, c)| (a.clone(), c.clone()))
            .collect();
        if script.is_none() && commands.is_empty() {
            return Err(ScriptActionsError::NoCommands);
        }
        if cfg.timeout_s == 0 {
            return Err(ScriptActionsError::ZeroTimeout);
        }
        Ok(ScriptActions {
            script,
            commands,
            timeout: Duration::from_secs(cfg.timeout_s),
        })
    }
}

/// `CCP_<KEY>` with anything but letters and digits turned into `_`.
fn var_name(prefix: &str, key: &str) -> String {
    let key: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("{prefix}{key}")
}

fn last_lines(output: &str) -> String {
    let lines: Vec<&str> = output
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() {
        return "it printed nothing".into();
    }
    lines[lines.len().saturating_sub(DETAIL_LINES)..].join(" | ")
}

impl RecoveryActions for ScriptActions {
    fn run(&self, req: &ActionRequest) -> ActionReport {
        let Some(command) = self
            .commands
            .get(&req.action)
            .or(self.script.as_ref())
            .cloned()
        else {
            return ActionReport {
                ok: false,
                detail: format!(
                    "no command for `{0}`: set recovery.actions.commands.{0} or recovery.actions.script",
                    req.action
                ),
                ..ActionReport::default()
            };
        };
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg(&command);
        // Facts first, so the fixed names below always win.
        for (k, v) in &req.facts {
            cmd.env(var_name("CCP_", k), v);
        }
        for (k, v) in &req.params {
            cmd.env(var_name("CCP_PARAM_", k), v);
        }
        cmd.env("CCP_ACTION", &req.action)
            .env("CCP_NODE", &req.node)
            .env("CCP_CASE", &req.case_id)
            .env("CCP_ATTEMPT", req.attempt.to_string());
        let run = match run_bounded(&mut cmd, &Limits::new(self.timeout, TERM_GRACE)) {
            Ok(r) => r,
            Err(e) => {
                return ActionReport {
                    ok: false,
                    detail: format!("could not start `sh -c {command}`: {e}"),
                    command: Some(command),
                    ..ActionReport::default()
                }
            }
        };
        let code = run.status.and_then(|s| s.code()).filter(|_| !run.timed_out);
        let ok = !run.timed_out && run.status.is_some_and(|s| s.success());
        let detail = if run.timed_out {
            format!(
                "timed out after {} s, its process group was stopped; {}",
                self.timeout.as_secs(),
                last_lines(&run.output)
            )
        } else {
            match code {
                Some(0) => format!("exit 0; {}", last_lines(&run.output)),
                Some(c) => format!("exit {c}; {}", last_lines(&run.output)),
                None => format!("killed by a signal; {}", last_lines(&run.output)),
            }
        };
        ActionReport {
            ok,
            simulated: false,
            detail,
            command: Some(command),
            exit_code: code,
            output: run.output,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(action: &str) -> ActionRequest {
        ActionRequest {
            action: action.into(),
            node: "n1".into(),
            params: BTreeMap::from([("strategy".into(), "blue_green".into())]),
            case_id: "REC-7".into(),
            facts: BTreeMap::from([
                ("project".into(), "shop/api".into()),
                ("failed-jobs".into(), "e2e".into()),
            ]),
            attempt: 2,
        }
    }

    fn actions(script: Option<&str>, commands: &[(&str, &str)], timeout_s: u64) -> ScriptActions {
        ScriptActions::from_config(&ActionsConfig {
            backend: ccp_config::cicd_recovery::ActionsBackend::Script,
            script: script.map(str::to_string),
            commands: commands
                .iter()
                .map(|(a, c)| (a.to_string(), c.to_string()))
                .collect(),
            timeout_s,
        })
        .unwrap()
    }

    #[test]
    fn commands_see_the_case_in_their_environment() {
        let a = actions(
            Some("echo \"$CCP_ACTION $CCP_CASE $CCP_ATTEMPT $CCP_PROJECT $CCP_FAILED_JOBS $CCP_PARAM_STRATEGY $CCP_NODE\""),
            &[("retry_pipeline", "echo retrying >&2; exit 3")],
            10,
        );
        let r = a.run(&req("rollback_deployment"));
        assert!(r.ok && !r.simulated, "{r:?}");
        assert_eq!(
            r.output,
            "rollback_deployment REC-7 2 shop/api e2e blue_green n1\n"
        );
        let r = a.run(&req("retry_pipeline"));
        assert!(!r.ok);
        assert_eq!(r.exit_code, Some(3));
        assert_eq!(r.detail, "exit 3; retrying");
    }

    #[test]
    fn a_slow_command_is_stopped_and_a_missing_one_is_named() {
        let a = actions(None, &[("health_check", "sleep 30")], 1);
        let r = a.run(&req("health_check"));
        assert!(!r.ok);
        assert!(r.detail.starts_with("timed out after 1 s"), "{}", r.detail);
        let r = a.run(&req("write_report"));
        assert!(!r.ok);
        assert_eq!(
            r.detail,
            "no command for `write_report`: set recovery.actions.commands.write_report or recovery.actions.script"
        );
        assert_eq!(
            ScriptActions::from_config(&ActionsConfig {
                backend: ccp_config::cicd_recovery::ActionsBackend::Script,
                ..ActionsConfig::default()
            })
            .unwrap_err(),
            ScriptActionsError::NoCommands
        );
    }
}
