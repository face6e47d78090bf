//! `kill -9` of a real `ccp` child in each of the Contract's states, then `ccp recover`.
//!
//! What must hold after every kill: no event the dead process published is missing from the
//! audit log (it is written before it is published); recovery exits 0 and brings the incident to
//! the safe end its last logged state calls for — roll back when code may be live, close when
//! verification had passed, escalate when nothing was deployed, just finish when the run had
//! ended; it never deploys anything; and the chain verifies afterwards.
//!
//! Needs python3 (the demo fleet runs the demo's real Python code), like the other end-to-end
//! tests. A torn last line cannot be produced on purpose by a kill; the crash drill in
//! `ccp inject --scenario crash_recovery` and `torn_last_line_is_quarantined_and_recorded` below
//! cover it.

mod common;

use ccp_audit::{read_records, verify_file};
use ccp_core::state::State;
use common::python_or_skip;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_ccp");

/// Run the paced demo and kill it with SIGKILL as soon as it reports entering `target`. Returns
/// the events it printed before dying.
fn run_and_kill(state: &Path, target: &str) -> Vec<Value> {
    let mut child = Command::new(BIN)
        .args([
            "demo",
            "--headless",
            "--json",
            "--pace",
            "fast",
            "--auto-approve",
            "--seed",
            "5",
        ])
        .env("CCP_STATE_DIR", state)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn ccp demo");
    let stdout = child.stdout.take().expect("stdout");
    let mut printed = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("read a line");
        let ev: Value = serde_json::from_str(&line).expect("a JSON event");
        let hit = ev["type"] == "state_changed" && ev["to"] == target;
        let finished = ev["type"] == "finished";
        printed.push(ev);
        if hit {
            child.kill().expect("SIGKILL");
            break;
        }
        assert!(!finished, "the run finished without entering {target}");
    }
    let status = child.wait().expect("wait");
    assert!(!status.success(), "the child was not killed: {status}");
    printed
}

/// What recovery must do given the state the log ends in and how much was deployed.
fn expected_action(last: State, deployed: u64) -> (&'static str, &'static str) {
    if last.is_terminal() {
        let outcome = match last {
            State::Closed => "resolved",
            State::RolledBack => "rolled_back",
            State::Rejected => "rejected",
            State::GatesFailed => "failed",
            _ => "escalated",
        };
        ("finished", outcome)
    } else if last == State::Success {
        ("closed", "resolved")
    } else if last.has_deployed_code() || last == State::Rollback || deployed > 0 {
        ("rolled_back", "rolled_back")
    } else {
        ("escalated", "escalated")
    }
}

fn kill_and_recover(target: &str) {
    if !python_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state");
    let printed = run_and_kill(&state, target);
    let log = state.join("audit.jsonl");
    let before = read_records(&log).expect("the dead process's log is readable");

    // Nothing published is missing from the log, in the same order.
    let printed_types: Vec<&str> = printed.iter().filter_map(|e| e["type"].as_str()).collect();
    let logged_types: Vec<&str> = before.iter().map(|r| r.kind.as_str()).collect();
    assert!(
        logged_types.len() >= printed_types.len()
            && logged_types[..printed_types.len()] == printed_types[..],
        "published events missing from the log:\nprinted {printed_types:?}\nlogged  {logged_types:?}"
    );

    let last_state: State = before
        .iter()
        .rev()
        .find(|r| r.kind == "state_changed")
        .map(|r| serde_json::from_value(r.data["to"].clone()).expect("a state"))
        .expect("a state change was logged");
    let deployed = before
        .iter()
        .filter(|r| r.kind == "deployed")
        .filter_map(|r| r.data["percent"].as_u64())
        .max()
        .unwrap_or(0);
    let (action, outcome) = expected_action(last_state, deployed);

    let out = Command::new(BIN)
        .args(["recover", "--json"])
        .env("CCP_STATE_DIR", &state)
        .output()
        .expect("run ccp recover");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "recover failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_str(&stdout).expect("a JSON report");
    assert_eq!(report["safe"], true, "{report}");
    let incidents = report["incidents"].as_array().expect("incidents");
    assert_eq!(incidents.len(), 1, "one incident in flight: {report}");
    assert_eq!(incidents[0]["found_state"], last_state.as_str(), "{report}");
    assert_eq!(
        incidents[0]["action"], action,
        "after {last_state}: {report}"
    );
    assert_eq!(
        incidents[0]["outcome"], outcome,
        "after {last_state}: {report}"
    );

    let after = read_records(&log).expect("log after recovery");
    assert!(verify_file(&log).expect("verify").is_intact());
    assert_eq!(
        &after[..before.len()],
        &before[..],
        "recovery rewrote history"
    );
    let added = &after[before.len()..];
    assert!(
        !added.iter().any(|r| r.kind == "deployed"),
        "recovery deployed something"
    );
    let fin = added.last().expect("recovery appended records");
    assert_eq!(fin.kind, "finished");
    assert_eq!(fin.data["outcome"], outcome);
    assert!(added.iter().all(|r| r.actor == "ccp-recover"));

    // A second recovery finds nothing left to do.
    let again = Command::new(BIN)
        .args(["recover", "--json"])
        .env("CCP_STATE_DIR", &state)
        .output()
        .expect("run ccp recover again");
    let again: Value = serde_json::from_slice(&again.stdout).expect("JSON");
    assert_eq!(again["incidents"].as_array().map(Vec::len), Some(0));
    assert_eq!(read_records(&log).expect("log").len(), after.len());
}

macro_rules! kill_in {
    ($($name:ident => $state:literal),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                kill_and_recover($state);
            }
        )*
    };
}

kill_in! {
    killed_in_analyzing => "ANALYZING",
    killed_in_rca_complete => "RCA_COMPLETE",
    killed_in_code_located => "CODE_LOCATED",
    killed_in_fix_planned => "FIX_PLANNED",
    killed_in_patch_ready => "PATCH_READY",
    killed_in_gates_passed => "GATES_PASSED",
    killed_in_paused_for_human_review => "PAUSED_FOR_HUMAN_REVIEW",
    killed_in_locked => "LOCKED",
    killed_in_canary_10 => "CANARY_10",
    killed_in_health_check => "HEALTH_CHECK",
    killed_in_canary_50 => "CANARY_50",
    killed_in_full_deploy => "FULL_DEPLOY",
    killed_in_verification => "VERIFICATION",
    killed_in_success => "SUCCESS",
}

/// The next start after a crash recovers first, then runs normally on the same log.
#[test]
fn the_next_start_recovers_then_runs() {
    if !python_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state");
    run_and_kill(&state, "CANARY_50");
    let out = common::headless_demo(&state)
        .arg("--auto-approve")
        .output()
        .expect("run ccp demo");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("recovered after an unclean stop") && stderr.contains("rolled_back"),
        "{stderr}"
    );
    let records = read_records(&state.join("audit.jsonl")).expect("log");
    assert!(verify_file(&state.join("audit.jsonl"))
        .expect("verify")
        .is_intact());
    let finished: Vec<&str> = records
        .iter()
        .filter(|r| r.kind == "finished")
        .filter_map(|r| r.data["outcome"].as_str())
        .collect();
    assert_eq!(finished, ["rolled_back", "resolved"]);
}

/// A log of three notes `n0`..`n2` about `incident`.
fn write_notes(log: &Path, incident: &str) {
    let mut w = ccp_audit::FileAuditLog::open(log, false).expect("open");
    for i in 0..3 {
        w.append(
            "2026-01-01T00:00:00Z",
            "ccp",
            "note",
            serde_json::json!({"incident": incident, "message": format!("n{i}")}),
        )
        .expect("append");
    }
}

/// A log cut mid-line: `ccp recover` quarantines the fragment byte for byte, records that in
/// the chain, and the log verifies again.
#[test]
fn torn_last_line_is_quarantined_and_recorded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state");
    std::fs::create_dir_all(&state).expect("mkdir");
    let log = state.join("audit.jsonl");
    write_notes(&log, "");
    let fragment = b"{\"seq\":3,\"ts\":\"2026-01-01T00:00:01Z\",\"actor\":\"cc";
    let mut bytes = std::fs::read(&log).expect("read");
    bytes.extend_from_slice(fragment);
    std::fs::write(&log, &bytes).expect("write");
    assert!(!verify_file(&log).expect("verify").is_intact());

    let out = Command::new(BIN)
        .args(["recover", "--json"])
        .env("CCP_STATE_DIR", &state)
        .output()
        .expect("run ccp recover");
    assert_eq!(out.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let torn = &report["torn_tail"];
    assert_eq!(torn["seq"], 3);
    assert_eq!(torn["bytes"], fragment.len());
    let quarantined = torn["quarantined_to"].as_str().expect("path");
    assert_eq!(
        std::fs::read(quarantined).expect("quarantine file"),
        fragment
    );
    assert!(verify_file(&log).expect("verify").is_intact());
    let records = read_records(&log).expect("records");
    assert_eq!(records.len(), 4);
    let note = records[3].data["message"].as_str().expect("a note");
    assert!(
        note.contains("seq 3") && note.contains(quarantined),
        "{note}"
    );
}

/// A tampered log is not recovered from: exit 1, nothing appended.
#[test]
fn a_tampered_log_is_not_recovered_from() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state");
    std::fs::create_dir_all(&state).expect("mkdir");
    let log = state.join("audit.jsonl");
    write_notes(&log, "INC-1");
    let text = std::fs::read_to_string(&log).expect("read");
    let tampered = text.replacen("\"n1\"", "\"n9\"", 1);
    std::fs::write(&log, &tampered).expect("write");
    let out = Command::new(BIN)
        .args(["recover"])
        .env("CCP_STATE_DIR", &state)
        .output()
        .expect("run ccp recover");
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("broken at seq 1"), "{stdout}");
    assert_eq!(std::fs::read_to_string(&log).expect("read"), tampered);
}
