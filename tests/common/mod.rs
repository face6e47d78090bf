//! Helpers shared by integration tests. Each file under tests/ is its own crate and includes
//! this with `mod common;`, so a given test crate uses only some of what is here.
#![allow(dead_code)]

pub mod cockpit;
pub mod fleet;
pub mod http;
pub mod serve;
pub mod tmux;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The states of the demo's incident when a human approves the fix and it heals.
pub const DEMO_HAPPY_PATH: [&str; 17] = [
    "DETECTED",
    "ANALYZING",
    "RCA_COMPLETE",
    "CODE_LOCATED",
    "FIX_PLANNED",
    "PATCH_READY",
    "GATES_PASSED",
    "PAUSED_FOR_HUMAN_REVIEW",
    "LOCKED",
    "CANARY_10",
    "HEALTH_CHECK",
    "CANARY_50",
    "HEALTH_CHECK",
    "FULL_DEPLOY",
    "VERIFICATION",
    "SUCCESS",
    "CLOSED",
];

/// The repository's demo: its fleet file and the code of its services.
pub fn demo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("demo")
}

/// Whether `program arg` (e.g. `python3 --version`) runs and succeeds.
pub fn have(program: &str, arg: &str) -> bool {
    Command::new(program)
        .arg(arg)
        .output()
        .is_ok_and(|o| o.status.success())
}

fn have_python() -> bool {
    have("python3", "--version")
}

/// Whether python3 is there. Without it the test should return: it says it is skipped, except
/// under tests/run.sh (`CCP_REQUIRE_SERVERS`), where a missing python3 fails it.
pub fn python_or_skip() -> bool {
    if have_python() {
        return true;
    }
    assert!(
        std::env::var_os("CCP_REQUIRE_SERVERS").is_none(),
        "python3 is required here"
    );
    eprintln!("skipped: python3 not on PATH");
    false
}

/// `ccp demo --headless --json --pace instant` on the repository's demo, its state (the audit
/// log) kept in `state`. Callers add what differs (`--auto-approve`, `--seed`, `--config`, …).
pub fn headless_demo(state: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ccp"));
    cmd.args(["demo", "--headless", "--json", "--pace", "instant"])
        .env("CCP_STATE_DIR", state)
        .env("CCP_DEMO_DIR", demo_dir());
    cmd
}

/// Run a headless `ccp demo` and require that it ran to an outcome: exit 0 resolved, 4 rolled
/// back, 5 escalated, 6 rejected, 7 failed (the JSON events are checked against the code).
pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("ccp runs");
    let code = out.status.code();
    assert!(
        matches!(code, Some(0 | 4 | 5 | 6 | 7)),
        "ccp demo did not run to an outcome (exit {code:?}): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let finished = String::from_utf8_lossy(&out.stdout)
        .lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["type"] == "finished");
    if let Some(f) = finished {
        let want = match f["outcome"].as_str() {
            Some("resolved") => 0,
            Some("rolled_back") => 4,
            Some("escalated") => 5,
            Some("rejected") => 6,
            _ => 7,
        };
        assert_eq!(code, Some(want), "exit code for outcome {}", f["outcome"]);
    }
    out
}

/// Run a `ccp demo … --json` command, require that it succeeds, and return the events it
/// printed, one JSON object a line.
pub fn json_events(cmd: &mut Command) -> Vec<Value> {
    String::from_utf8(run_ok(cmd).stdout)
        .expect("utf8")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}
