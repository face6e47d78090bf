//! End to end in a real terminal: the cockpit runs in a tmux pane, keys go in with send-keys and
//! the screen comes back with capture-pane — what an on-call engineer would see and do.
//! tests/run.sh installs tmux; without it these tests fail with that reason.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

mod common;

use common::tmux::Pane;

/// The cockpit in a tmux pane with its own state directory.
struct Tmux {
    pane: Pane,
    state: tempfile::TempDir,
}

impl Tmux {
    fn start(name: &str, w: u16, h: u16, args: &str) -> Tmux {
        let state = tempfile::tempdir().expect("temp dir");
        let bin = env!("CARGO_BIN_EXE_ccp");
        let args = args.replace("{state}", &state.path().display().to_string());
        let cmd = format!(
            "cd {root} && USER=e2e-tester CCP_STATE_DIR={state} {env} {bin} {args}; echo EXIT=$?; sleep 120",
            env = if name == "panic" { "CCP_TEST_PANIC=1 RUST_BACKTRACE=0" } else { "" },
            root = env!("CARGO_MANIFEST_DIR"),
            state = state.path().display(),
        );
        Tmux {
            pane: Pane::spawn(name, w, h, &cmd),
            state,
        }
    }

    fn capture(&self) -> String {
        self.pane.capture()
    }

    fn keys(&self, keys: &[&str]) {
        self.pane.keys(keys)
    }

    fn wait_for(&self, text: &str, timeout: Duration) -> String {
        self.pane.wait_for(text, timeout)
    }

    fn audit(&self) -> PathBuf {
        self.state.path().join("audit.jsonl")
    }
}

fn audit_text(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

/// `data` of every audit record of a type.
fn audit_records(p: &Path, ty: &str) -> Vec<serde_json::Value> {
    audit_text(p)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == ty)
        .map(|v| v["data"].clone())
        .collect()
}

const MINUTE: Duration = Duration::from_secs(60);

#[test]
fn approve_in_the_dialog_ends_in_success() {
    let t = Tmux::start(
        "approve",
        160,
        48,
        "demo --pace fast --seed 11 --record {state}/demo.cast",
    );
    let screen = t.wait_for("Approval required", MINUTE);
    assert!(screen.contains("production policy"), "{screen}");
    // Gates sits under the dialog at this size; the rest frame it.
    for title in [
        "Incidents",
        "Dependency Graph",
        "RCA",
        "Diff",
        "Canary",
        "Timeline",
    ] {
        assert!(screen.contains(title), "missing pane {title}:\n{screen}");
    }
    t.keys(&["c"]);
    t.keys(&["-l", "ship it"]);
    t.keys(&["Escape"]);
    t.wait_for("ship it", MINUTE);
    t.keys(&["a"]);
    let screen = t.wait_for("CLOSED · resolved", 4 * MINUTE);
    assert!(
        screen.contains("✓ SUCCESS") || screen.contains("SUCCESS"),
        "{screen}"
    );
    assert!(
        screen.contains("final PASS") || screen.contains("PASS"),
        "{screen}"
    );
    t.keys(&["q"]);
    let after = t.wait_for("EXIT=0", MINUTE);
    assert!(after.contains("outcome: resolved"), "{after}");
    assert!(
        !after.contains("Dependency Graph"),
        "terminal not restored:\n{after}"
    );
    let cast = std::fs::read_to_string(t.state.path().join("demo.cast")).unwrap_or_default();
    let mut lines = cast.lines();
    let header: serde_json::Value =
        serde_json::from_str(lines.next().unwrap_or_default()).expect("cast header is JSON");
    assert_eq!(header["version"], 2);
    assert_eq!(header["width"], 160);
    let frames: Vec<serde_json::Value> =
        lines.filter_map(|l| serde_json::from_str(l).ok()).collect();
    assert!(frames.len() > 10, "recording has {} events", frames.len());
    assert!(frames.iter().all(|f| f[1] == "o" || f[1] == "r"));
    assert!(frames.iter().any(|f| f[2]
        .as_str()
        .is_some_and(|s| s.contains("Approval required"))));
    let approvals = audit_records(&t.audit(), "approval");
    assert_eq!(approvals.len(), 1, "{approvals:?}");
    assert_eq!(approvals[0]["decision"], "approve");
    assert_eq!(approvals[0]["actor"], "e2e-tester");
    assert_eq!(approvals[0]["comment"], "ship it");
}

/// The README's first command: the binary with no arguments at all (state from `CCP_STATE_DIR`)
/// opens the cockpit on the embedded demo and gets as far as asking a human.
#[test]
fn plain_ccp_with_no_arguments_opens_the_cockpit() {
    let t = Tmux::start("bare", 120, 34, "");
    t.wait_for("Approval required", MINUTE);
    t.keys(&["r"]);
    t.wait_for("REJECTED · rejected", MINUTE);
    t.keys(&["q"]);
    let after = t.wait_for("EXIT=0", MINUTE);
    assert!(after.contains("outcome: rejected"), "{after}");
    assert_eq!(audit_records(&t.audit(), "approval").len(), 1);
}

#[test]
fn reject_in_the_dialog_ends_rejected() {
    let t = Tmux::start("reject", 160, 48, "demo --pace fast --seed 12");
    t.wait_for("Approval required", MINUTE);
    t.keys(&["r"]);
    let screen = t.wait_for("REJECTED · rejected", MINUTE);
    assert!(!screen.contains("Approval required"), "{screen}");
    t.keys(&["q"]);
    let after = t.wait_for("EXIT=0", MINUTE);
    assert!(after.contains("outcome: rejected"), "{after}");
    let approvals = audit_records(&t.audit(), "approval");
    assert_eq!(approvals.len(), 1, "{approvals:?}");
    assert_eq!(approvals[0]["decision"], "reject");
    assert_eq!(approvals[0]["actor"], "e2e-tester");
    assert!(
        audit_records(&t.audit(), "deployed").is_empty(),
        "nothing may be deployed"
    );
}

#[test]
fn quit_mid_run_asks_then_restores_the_terminal() {
    let t = Tmux::start("quit", 80, 24, "demo --pace fast --seed 13");
    let screen = t.wait_for("Approval required", MINUTE);
    assert!(
        screen.contains("Incidents │ Dependency Graph"),
        "compact tab strip:\n{screen}"
    );
    t.keys(&["q"]);
    t.wait_for("Quit?", MINUTE);
    t.keys(&["y"]);
    let after = t.wait_for("EXIT=0", MINUTE);
    assert!(
        !after.contains("Incidents │ Dependency Graph"),
        "terminal not restored:\n{after}"
    );
    assert!(after.contains("outcome: escalated"), "{after}");
    assert!(audit_text(&t.audit()).contains("the operator quit the cockpit"));
}

#[test]
fn a_panic_restores_the_terminal() {
    let t = Tmux::start("panic", 100, 30, "demo --pace fast --seed 14");
    // The cockpit panics after its first frame; the hook must leave the alternate screen and
    // raw mode before the message prints, so the shell line after it reads normally.
    let after = t.wait_for("EXIT=101", MINUTE);
    assert!(after.contains("CCP_TEST_PANIC is set"), "{after}");
    assert!(
        !after.contains("Dependency Graph"),
        "terminal not restored:\n{after}"
    );
}

/// The audit log of one auto-approved headless run, in a temporary state directory (kept alive
/// by the returned guard).
fn recorded_log() -> (tempfile::TempDir, PathBuf) {
    let state = tempfile::tempdir().expect("temp dir");
    let ok = Command::new(env!("CARGO_BIN_EXE_ccp"))
        .args([
            "demo",
            "--headless",
            "--json",
            "--pace",
            "instant",
            "--auto-approve",
        ])
        .arg("--state-dir")
        .arg(state.path())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(ok, "the headless run that writes the audit log failed");
    let log = state.path().join("audit.jsonl");
    (state, log)
}

#[test]
fn audit_replay_steps_through_a_recorded_run() {
    let (_state, log) = recorded_log();
    let t = Tmux::start(
        "replay",
        160,
        48,
        &format!("audit replay {}", log.display()),
    );
    // It opens on the end: the run as it finished.
    let screen = t.wait_for("replay of", MINUTE);
    assert!(
        screen.contains("CLOSED"),
        "opens on the last event:\n{screen}"
    );
    t.keys(&["Home"]);
    t.wait_for("replay 0/", MINUTE);
    for _ in 0..6 {
        t.keys(&["Right"]);
    }
    let screen = t.wait_for("replay 6/", MINUTE);
    assert!(
        screen.contains("INC-"),
        "the incident is open by event 6:\n{screen}"
    );
    assert!(!screen.contains("CLOSED · resolved"), "{screen}");
    t.keys(&["Left"]);
    t.wait_for("replay 5/", MINUTE);
    t.keys(&["PageDown"]);
    t.wait_for("replay 15/", MINUTE);
    t.keys(&["PageUp"]);
    t.wait_for("replay 5/", MINUTE);
    // Approving in a replay changes nothing.
    t.keys(&["a"]);
    t.wait_for("nothing is waiting for approval", MINUTE);
    t.keys(&["q"]);
    t.wait_for("EXIT=0", MINUTE);
}

/// A replay of a tampered log says so in the cockpit, the whole time, with the seq where the
/// chain breaks — it must not look like a trustworthy record.
#[test]
fn replay_of_a_tampered_log_shows_the_broken_chain() {
    let (_state, log) = recorded_log();
    let text = std::fs::read_to_string(&log).expect("log");
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[9] = lines[9].replacen("\"actor\":\"ccp\"", "\"actor\":\"mallory\"", 1);
    assert!(lines[9].contains("mallory"), "record 9 has no ccp actor");
    std::fs::write(&log, lines.join("\n") + "\n").expect("write");
    let t = Tmux::start(
        "tampered",
        200,
        48,
        &format!("audit replay {}", log.display()),
    );
    let screen = t.wait_for("AUDIT CHAIN BROKEN", MINUTE);
    assert!(screen.contains("seq 9"), "{screen}");
    t.keys(&["Home"]);
    for _ in 0..3 {
        t.keys(&["Right"]);
    }
    let screen = t.wait_for("replay 3/", MINUTE);
    assert!(
        screen.contains("AUDIT CHAIN BROKEN"),
        "the alarm went away:\n{screen}"
    );
    t.keys(&["q"]);
    t.wait_for("EXIT=0", MINUTE);
}

/// `x` stops a live rollout on purpose: it asks first, naming the service and its traffic on the
/// patch, and only `y` rolls back.
#[test]
fn abort_key_asks_naming_the_service_then_rolls_back() {
    let t = Tmux::start("abort", 160, 48, "demo --pace fast --seed 12");
    t.wait_for("Approval required", MINUTE);
    t.keys(&["a"]);
    t.wait_for("% of traffic on the patched version", MINUTE);
    t.keys(&["x"]);
    let ask = t.wait_for("Roll back now?", MINUTE);
    assert!(
        ask.contains("payment-service has") && ask.contains("% of its traffic on the patch"),
        "{ask}"
    );
    t.keys(&["n"]);
    t.wait_for("abort cancelled", MINUTE);
    t.keys(&["x"]);
    t.wait_for("Roll back now?", MINUTE);
    t.keys(&["y"]);
    t.wait_for("ROLLED_BACK · rolled_back", MINUTE);
    let fin = audit_records(&t.audit(), "finished");
    assert_eq!(fin.len(), 1, "{fin:?}");
    assert_eq!(fin[0]["outcome"], "rolled_back");
    assert!(
        fin[0]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("aborted from the cockpit"),
        "{fin:?}"
    );
}

/// `:q` is a quit path like `q`: it asks while an operation is in flight.
#[test]
fn colon_q_asks_before_quitting_mid_run() {
    let t = Tmux::start("colonq", 120, 34, "demo --pace fast --seed 14");
    t.wait_for("Approval required", MINUTE);
    t.keys(&[":", "q", "Enter"]);
    let ask = t.wait_for("Quit?", MINUTE);
    assert!(ask.contains("Nothing is deployed"), "{ask}");
    t.keys(&["n"]);
    std::thread::sleep(Duration::from_millis(500));
    assert!(!t.capture().contains("EXIT="), "quit without asking");
}

/// A closed terminal (SIGHUP) cannot be asked: the pipeline stops at its next safe point and the
/// audit log says why.
#[test]
fn a_closed_terminal_stops_the_pipeline_and_says_so() {
    let t = Tmux::start("hup", 120, 34, "demo --pace fast --seed 15");
    t.wait_for("Approval required", MINUTE);
    t.pane.kill();
    let start = Instant::now();
    let fin = loop {
        let fin = audit_records(&t.audit(), "finished");
        if !fin.is_empty() {
            break fin;
        }
        assert!(start.elapsed() < MINUTE, "no finished record after SIGHUP");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(fin[0]["outcome"], "escalated");
    assert!(
        fin[0]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("SIGHUP"),
        "{fin:?}"
    );
}
