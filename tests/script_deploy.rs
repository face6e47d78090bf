//! `deploy.backend: script` with real shell scripts: the exact environment of every step, a
//! whole pipeline rolled out (and rolled back) through a script while the simulated fleet keeps
//! providing the metrics, timeouts that stop a whole process group, stale fences refused before
//! anything runs, output captured into the `deploy_step` event and the audit log, and the three
//! documented examples in config/ run against a fake kubectl.
//!
//! The pipeline tests need python3 (the fleet runs the demo's real Python code), like the other
//! end-to-end tests.

mod common;

use ccp_adapters::embedded::sim_fleet::SimFleet;
use ccp_adapters::script_deployer::{ScriptDeployer, OUTPUT_TAIL_BYTES};
use ccp_config::{load_str, DeployConfig};
use ccp_core::bus::EventBus;
use ccp_core::domain::{FixPlan, Outcome};
use ccp_core::events::{Command, Event, EventKind};
use ccp_core::pipeline::{Pipeline, PipelineSettings};
use ccp_core::ports::{patch_version, DeployAction, DeployStep, Deployer, PortResult, StepReport};
use common::fleet::{demo_fleet, DemoFleet};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::mpsc::channel;
use std::sync::Arc;
use std::time::{Duration, Instant};

// ------------------------------------------------------------------ helpers

const SERVICE: &str = "payment-service";
const FILE: &str = "payments/payment_processor.py";
/// A whole rollout that is then undone: every action, in the order a pipeline takes them.
const ROLLOUT_AND_BACK: [(DeployAction, u8); 4] = [
    (DeployAction::Shift, 10),
    (DeployAction::Shift, 50),
    (DeployAction::Promote, 100),
    (DeployAction::Rollback, 0),
];

fn plan() -> FixPlan {
    FixPlan {
        template: "null_check".into(),
        file: FILE.into(),
        line: 45,
        diff: "--- a\n+++ b\n".into(),
        description: "guard the e-mail".into(),
        new_source: "def charge(user):\n    if user.email is not None:\n        pass\n".into(),
        lines_added: 1,
        lines_removed: 0,
        confidence: 0.9,
        alternatives: Vec::new(),
    }
}

fn deployer(script: &str, timeout_s: u64) -> ScriptDeployer {
    let cfg = DeployConfig {
        script: Some(script.to_string()),
        step_timeout_s: timeout_s,
        ..DeployConfig::default()
    };
    ScriptDeployer::from_config(&cfg)
        .expect("valid deploy config")
        .with_term_grace(Duration::from_millis(300))
}

fn step<'a>(
    action: DeployAction,
    percent: u8,
    fence: u64,
    plan: Option<&'a FixPlan>,
    version: &'a str,
) -> DeployStep<'a> {
    DeployStep {
        action,
        service: SERVICE,
        plan,
        percent,
        fence,
        version,
        incident: Some("INC-7"),
    }
}

/// One step of the test plan (fence 1) through a deployer running `script`.
fn run_one(script: &str, timeout_s: u64, action: DeployAction, percent: u8) -> StepReport {
    let p = plan();
    deployer(script, timeout_s).run_step(&step(action, percent, 1, Some(&p), "v1"))
}

/// What went wrong, as the pipeline would report it; empty when nothing did.
fn error_text(r: &StepReport) -> String {
    r.error.as_ref().map(|e| e.to_string()).unwrap_or_default()
}

/// A script that appends one `|`-separated line of its environment per step to `log`, copies
/// the plan it was given next to it, and remembers the plan file's path.
fn env_logger(dir: &Path) -> String {
    format!(
        r#"log="{dir}/steps.log"
printf '%s|%s|%s|%s|%s|%s|%s\n' "$CCP_ACTION" "$CCP_PERCENT" "$CCP_FENCE" "$CCP_SERVICE" "$CCP_VERSION" "${{CCP_INCIDENT-unset}}" "${{CCP_PATCHED_FILE-unset}}" >> "$log"
if [ -n "$CCP_PLAN_FILE" ]; then cp "$CCP_PLAN_FILE" "{dir}/plan-$CCP_ACTION-$CCP_PERCENT.json"; echo "$CCP_PLAN_FILE" >> "{dir}/plan-paths"; fi
echo "step $CCP_ACTION $CCP_PERCENT done"
"#,
        dir = dir.display()
    )
}

/// A directory and a deployer running [`env_logger`] into it.
fn logging_deployer() -> (tempfile::TempDir, ScriptDeployer) {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = deployer(&env_logger(dir.path()), 30);
    (dir, d)
}

/// The logged steps: (action, percent, fence, service, version, incident, patched file).
fn logged(dir: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(dir.join("steps.log"))
        .unwrap_or_default()
        .lines()
        .map(|l| l.split('|').map(str::to_string).collect())
        .collect()
}

/// What [`logged`] should read for `(action, percent)` steps on the payment service that share
/// the rest.
fn rows(
    steps: &[(&str, u8)],
    fence: u64,
    version: &str,
    incident: &str,
    file: &str,
) -> Vec<Vec<String>> {
    steps
        .iter()
        .map(|(action, pct)| {
            [
                action.to_string(),
                pct.to_string(),
                fence.to_string(),
                SERVICE.to_string(),
                version.to_string(),
                incident.to_string(),
                file.to_string(),
            ]
            .into()
        })
        .collect()
}

/// Whether a process is gone (or only a zombie nobody has reaped yet).
fn is_dead(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.trim_start().starts_with('Z'))
            .unwrap_or(false),
    }
}

/// Poll for an outcome that takes effect asynchronously (the kernel delivering signals).
fn eventually(mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    check()
}

/// The background child a script started, known by the pid it wrote.
struct Child {
    _dir: tempfile::TempDir,
    pidfile: PathBuf,
}

impl Child {
    /// The child is gone (soon).
    fn assert_gone(&self, otherwise: &str) {
        let child = std::fs::read_to_string(&self.pidfile).expect("child pid written");
        let child = child.trim().to_string();
        assert!(eventually(|| is_dead(&child)), "child {child} {otherwise}");
    }
}

/// One step, as [`run_one`], of a script that starts a background child and writes its pid to
/// `$PIDFILE`.
fn run_with_child(
    script: &str,
    timeout_s: u64,
    action: DeployAction,
    percent: u8,
) -> (StepReport, Child) {
    let dir = tempfile::tempdir().expect("tempdir");
    let pidfile = dir.path().join("child.pid");
    let script = format!("PIDFILE='{}'\n{script}", pidfile.display());
    let report = run_one(&script, timeout_s, action, percent);
    let child = Child { _dir: dir, pidfile };
    (report, child)
}

// ------------------------------------------------------- the deployer alone

#[test]
fn every_step_gets_its_exact_environment() {
    let (dir, d) = logging_deployer();
    let p = plan();
    let v = patch_version(&p, None);
    for (action, pct) in ROLLOUT_AND_BACK {
        let r = d.run_step(&step(action, pct, 3, Some(&p), &v));
        assert!(r.ok(), "{action:?} {pct}: {r:?}");
        assert_eq!(r.exit_code, Some(0));
        assert_eq!(
            r.output.trim(),
            format!("step {} {pct} done", action.as_str())
        );
        assert!(r.command.is_some());
    }
    assert_eq!(
        logged(dir.path()),
        rows(
            &[
                ("shift", 10),
                ("shift", 50),
                ("promote", 100),
                ("rollback", 0)
            ],
            3,
            &v,
            "INC-7",
            FILE
        )
    );
    // The plan file held the plan, and lived only for its step.
    let copied = std::fs::read_to_string(dir.path().join("plan-shift-50.json")).expect("copied");
    let back: FixPlan = serde_json::from_str(&copied).expect("plan JSON");
    assert_eq!(back, p);
    let paths = std::fs::read_to_string(dir.path().join("plan-paths")).expect("paths");
    for path in paths.lines() {
        assert!(!Path::new(path).exists(), "{path} outlived its step");
    }
}

#[test]
fn version_is_the_fix_commit_or_a_short_content_hash() {
    use sha2::{Digest, Sha256};
    let p = plan();
    let v = patch_version(&p, None);
    let full: String = Sha256::digest(p.new_source.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(v, full[..12]);
    assert_eq!(
        patch_version(&p, Some("1b7919bdeadbeef")),
        "1b7919bdeadbeef"
    );
    assert_eq!(
        patch_version(&p, Some("  ")),
        v,
        "a blank commit is no commit"
    );
}

#[test]
fn bare_port_calls_fill_in_what_they_can() {
    // `shift` and `rollback` without context: no incident, and the rollback reuses the version
    // and plan of the last step on the service.
    let (dir, d) = logging_deployer();
    let p = plan();
    d.shift(SERVICE, &p, 10, 4).expect("shift");
    d.rollback(SERVICE, 4).expect("rollback");
    let v = patch_version(&p, None);
    assert_eq!(
        logged(dir.path()),
        rows(&[("shift", 10), ("rollback", 0)], 4, &v, "unset", FILE)
    );
}

#[test]
fn per_action_commands_override_the_script() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cfg = DeployConfig {
        script: Some(env_logger(dir.path())),
        ..DeployConfig::default()
    };
    cfg.commands.rollback = Some(format!(
        "echo \"undo $CCP_SERVICE at $CCP_PERCENT\" >> {}/steps.log",
        dir.path().display()
    ));
    let d = ScriptDeployer::from_config(&cfg).expect("valid");
    let p = plan();
    let v = patch_version(&p, None);
    assert!(d
        .run_step(&step(DeployAction::Shift, 10, 1, Some(&p), &v))
        .ok());
    assert!(d
        .run_step(&step(DeployAction::Rollback, 0, 1, Some(&p), &v))
        .ok());
    let log = std::fs::read_to_string(dir.path().join("steps.log")).expect("log");
    let lines: Vec<&str> = log.lines().collect();
    assert!(lines[0].starts_with("shift|10|1|"), "{log}");
    assert_eq!(lines[1], "undo payment-service at 0");
}

#[test]
fn a_failing_command_reports_its_exit_code_and_last_lines() {
    let r = run_one(
        "for i in 1 2 3 4 5 6 7; do echo \"line $i\"; done; echo 'no such rollout' >&2; exit 3",
        30,
        DeployAction::Shift,
        50,
    );
    assert!(!r.ok());
    assert_eq!(r.exit_code, Some(3));
    let msg = error_text(&r);
    assert!(msg.contains("exited with code 3"), "{msg}");
    assert!(msg.contains("shift to 50 % of payment-service"), "{msg}");
    assert!(msg.contains("line 7 | no such rollout"), "{msg}");
    assert!(!msg.contains("line 2"), "only the last lines: {msg}");
    assert!(r.output.contains("line 1\n"), "{}", r.output);
    assert!(r.output.contains("no such rollout"), "stderr is captured");
}

#[test]
fn a_timeout_stops_the_command_and_its_children() {
    let (r, child) = run_with_child(
        "sleep 1000 & echo $! > \"$PIDFILE\"; echo started; sleep 1000",
        1,
        DeployAction::Shift,
        10,
    );
    assert!(!r.ok());
    assert_eq!(r.exit_code, None, "a killed command has no exit code");
    let msg = error_text(&r);
    assert!(msg.contains("timed out after 1 s"), "{msg}");
    assert!(
        msg.contains("started"),
        "the output so far is quoted: {msg}"
    );
    child.assert_gone("in the background survived");
}

#[test]
fn a_command_ignoring_sigterm_is_killed() {
    let (r, child) = run_with_child(
        "trap '' TERM; sleep 1000 & echo $! > \"$PIDFILE\"; wait",
        1,
        DeployAction::Promote,
        100,
    );
    let msg = error_text(&r);
    assert!(msg.contains("timed out after 1 s"), "{msg}");
    child.assert_gone("ignored SIGTERM and survived SIGKILL");
}

#[test]
fn a_stale_fence_is_refused_before_anything_runs() {
    let (dir, d) = logging_deployer();
    let p = plan();
    assert!(d
        .run_step(&step(DeployAction::Shift, 10, 5, Some(&p), "v"))
        .ok());
    for action in [DeployAction::Shift, DeployAction::Rollback] {
        let r = d.run_step(&step(action, 50, 4, Some(&p), "v"));
        let msg = error_text(&r);
        assert!(msg.contains("stale fencing token 4"), "{msg}");
        assert_eq!(r.command, None, "nothing ran");
    }
    assert_eq!(
        logged(dir.path()).len(),
        1,
        "the command ran only for fence 5"
    );
    // Another service has its own fence history.
    let other = DeployStep {
        service: "users",
        ..step(DeployAction::Shift, 10, 1, Some(&p), "v")
    };
    assert!(d.run_step(&other).ok());
}

#[test]
fn output_is_bounded_to_its_tail() {
    let r = run_one(
        "head -c 200000 /dev/zero | tr '\\0' x; echo; echo LAST LINE",
        30,
        DeployAction::Shift,
        10,
    );
    assert!(r.ok(), "{r:?}");
    assert!(r.output.ends_with("LAST LINE\n"), "the end is kept");
    assert!(
        r.output.len() <= OUTPUT_TAIL_BYTES + 64,
        "{}",
        r.output.len()
    );
    assert!(
        r.output.starts_with("… [") && r.output.contains(" bytes omitted] …"),
        "says what it dropped"
    );
}

#[test]
fn a_background_process_holding_the_pipes_does_not_hang_the_step() {
    let (r, child) = run_with_child(
        "sleep 1000 & echo $! > \"$PIDFILE\"; echo done",
        600,
        DeployAction::Shift,
        10,
    );
    assert!(r.ok(), "the command itself succeeded: {r:?}");
    assert_eq!(r.output.trim(), "done");
    child.assert_gone("was left over, not cleaned up");
}

// --------------------------------------------------------- whole pipelines

/// The script deploys; when it succeeds, the same step is mirrored into the simulated fleet so
/// its metrics follow the traffic the script claims to have moved.
struct Mirrored {
    script: ScriptDeployer,
    fleet: Arc<SimFleet>,
}

impl Deployer for Mirrored {
    fn shift(&self, service: &str, plan: &FixPlan, percent: u8, fence: u64) -> PortResult<()> {
        self.script.shift(service, plan, percent, fence)?;
        self.fleet.shift(service, plan, percent, fence)
    }

    fn rollback(&self, service: &str, fence: u64) -> PortResult<()> {
        self.script.rollback(service, fence)?;
        self.fleet.rollback(service, fence)
    }

    fn run_step(&self, step: &DeployStep<'_>) -> StepReport {
        let report = self.script.run_step(step);
        if !report.ok() {
            return report;
        }
        let mirrored = match (step.action, step.plan) {
            (DeployAction::Rollback, _) => self.fleet.rollback(step.service, step.fence),
            (_, Some(plan)) => self
                .fleet
                .shift(step.service, plan, step.percent, step.fence),
            (_, None) => Ok(()),
        };
        match mirrored {
            Ok(()) => report,
            Err(e) => StepReport {
                error: Some(e),
                ..report
            },
        }
    }
}

struct Run {
    events: Vec<Event>,
    audit: Vec<Value>,
}

/// One incident on the demo fleet, deployed by `script`; approvals are granted.
fn run_pipeline(dir: &Path, script: &str) -> Run {
    let shared = DemoFleet::new(demo_fleet(), dir);
    let deployer = Arc::new(Mirrored {
        script: deployer(script, 60),
        fleet: shared.fleet.clone(),
    });
    let audit_path = dir.join("audit.jsonl");
    let ports = shared.ports(deployer, &audit_path);
    let bus = EventBus::new();
    let rx = bus.subscribe();
    let (cmd_tx, cmd_rx) = channel();
    let pipeline = Pipeline::new(PipelineSettings::default(), ports, bus, cmd_rx);
    let runner = std::thread::spawn(move || pipeline.run());
    let mut events = Vec::new();
    loop {
        let ev = rx
            .recv_timeout(Duration::from_secs(300))
            .expect("pipeline stalled");
        if matches!(ev.kind, EventKind::AwaitingApproval { .. }) {
            let _ = cmd_tx.send(Command::Approve {
                actor: "tester".into(),
                comment: "script deploy test".into(),
            });
        }
        let done = matches!(ev.kind, EventKind::Finished { .. });
        events.push(ev);
        if done {
            break;
        }
    }
    runner.join().expect("pipeline thread");
    let audit = std::fs::read_to_string(&audit_path)
        .expect("audit log")
        .lines()
        .map(|l| serde_json::from_str(l).expect("audit JSON"))
        .collect();
    Run { events, audit }
}

fn outcome(run: &Run) -> (Outcome, String) {
    run.events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::Finished {
                outcome, reason, ..
            } => Some((*outcome, reason.clone())),
            _ => None,
        })
        .expect("finished event")
}

/// The version the pipeline should have shipped: the fix commit when one was made, else the
/// content hash of the plan the script received.
fn expected_version(run: &Run, dir: &Path) -> String {
    let commit = run.events.iter().find_map(|e| {
        let v = serde_json::to_value(e).ok()?;
        (v["type"] == "fix_committed").then(|| v["commit"].as_str().map(str::to_string))?
    });
    commit.unwrap_or_else(|| {
        let text = std::fs::read_to_string(dir.join("plan-shift-10.json")).expect("plan copied");
        let plan: FixPlan = serde_json::from_str(&text).expect("plan JSON");
        patch_version(&plan, None)
    })
}

/// The repository-relative file the proposed fix changes.
fn patched_file(run: &Run) -> String {
    run.events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::FixProposed { file, .. } => Some(file.clone()),
            _ => None,
        })
        .expect("a fix was proposed")
}

fn fence_of(run: &Run) -> u64 {
    run.events
        .iter()
        .find_map(|e| match &e.kind {
            EventKind::LockAcquired {
                resource, fence, ..
            } if resource.starts_with("service:") => Some(*fence),
            _ => None,
        })
        .expect("service lock taken")
}

/// What the script should have logged for the `(action, percent)` steps of `run`, each with the
/// run's fence, version, incident and patched file.
fn expected_log(run: &Run, dir: &Path, steps: &[(&str, u8)]) -> Vec<Vec<String>> {
    let incident = run
        .events
        .last()
        .map(|e| e.incident.clone())
        .unwrap_or_default();
    rows(
        steps,
        fence_of(run),
        &expected_version(run, dir),
        &incident,
        &patched_file(run),
    )
}

fn deploy_steps(run: &Run) -> Vec<(String, u8, bool, Option<i32>, String)> {
    run.events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::DeployStep {
                action,
                percent,
                ok,
                exit_code,
                output,
                ..
            } => Some((action.clone(), *percent, *ok, *exit_code, output.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn a_pipeline_rolls_out_through_the_script() {
    if !common::python_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let run = run_pipeline(dir.path(), &env_logger(dir.path()));
    let (out, reason) = outcome(&run);
    assert_eq!(out, Outcome::Resolved, "{reason}");
    assert_eq!(
        logged(dir.path()),
        expected_log(
            &run,
            dir.path(),
            &[("shift", 10), ("shift", 50), ("promote", 100)]
        )
    );
    // Each step's output is an event for the cockpit…
    let steps = deploy_steps(&run);
    let summary: Vec<(String, u8, bool, Option<i32>)> =
        steps.iter().map(|s| (s.0.clone(), s.1, s.2, s.3)).collect();
    assert_eq!(
        summary,
        vec![
            ("shift".into(), 10, true, Some(0)),
            ("shift".into(), 50, true, Some(0)),
            ("promote".into(), 100, true, Some(0)),
        ]
    );
    assert_eq!(steps[1].4.trim(), "step shift 50 done");
    // …and a record in the audit log.
    let audited: Vec<&Value> = run
        .audit
        .iter()
        .filter(|r| r["type"] == "deploy_step")
        .collect();
    assert_eq!(audited.len(), 3);
    assert_eq!(audited[2]["data"]["output"], "step promote 100 done\n");
    assert_eq!(
        audited[2]["data"]["version"],
        expected_version(&run, dir.path())
    );
    assert_eq!(audited[2]["data"]["exit_code"], 0);
    // The cockpit shows it: view model and the Canary pane's deploy line.
    let mut vm = ccp_tui::view_model::ViewModel::default();
    for e in &run.events {
        vm.apply(e);
    }
    assert_eq!(vm.run().rollout.deploy_steps.len(), 3);
    assert!(vm.run().rollout.deploy_steps.iter().all(|d| d.ok));
}

#[test]
fn a_step_failing_at_50_percent_rolls_back_through_the_script() {
    if !common::python_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let script = format!(
        "{}\nif [ \"$CCP_ACTION\" = shift ] && [ \"$CCP_PERCENT\" = 50 ]; then echo 'weight refused by the mesh' >&2; exit 7; fi",
        env_logger(dir.path())
    );
    let run = run_pipeline(dir.path(), &script);
    let (out, reason) = outcome(&run);
    assert_eq!(out, Outcome::RolledBack, "{reason}");
    assert!(reason.contains("exited with code 7"), "{reason}");
    assert!(reason.contains("weight refused by the mesh"), "{reason}");
    assert_eq!(
        logged(dir.path()),
        expected_log(
            &run,
            dir.path(),
            &[("shift", 10), ("shift", 50), ("rollback", 0)]
        ),
        "the rollback command ran with the same service, version, fence and incident"
    );
    let steps = deploy_steps(&run);
    assert_eq!(steps.len(), 3);
    assert_eq!((steps[1].2, steps[1].3), (false, Some(7)));
    assert!(steps[1].4.contains("weight refused by the mesh"));
    assert_eq!((steps[2].0.as_str(), steps[2].2), ("rollback", true));
    let states: Vec<String> = run
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::StateChanged { to, .. } => Some(to.as_str().to_string()),
            _ => None,
        })
        .collect();
    let tail: Vec<&str> = states
        .iter()
        .rev()
        .take(2)
        .rev()
        .map(String::as_str)
        .collect();
    assert_eq!(tail, ["ROLLBACK", "ROLLED_BACK"]);
    let failed = run
        .audit
        .iter()
        .find(|r| r["type"] == "deploy_step" && r["data"]["ok"] == false)
        .expect("the failed step is audited");
    assert_eq!(failed["data"]["exit_code"], 7);
    assert!(failed["data"]["error"]
        .as_str()
        .is_some_and(|e| e.contains("exited with code 7")));
}

// ------------------------------------------------------ the shipped examples

fn config_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/config"))
}

#[test]
fn every_shipped_config_passes_config_check() {
    let mut checked = 0;
    for entry in std::fs::read_dir(config_dir()).expect("config dir") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
            continue;
        }
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_ccp"))
            .args(["config", "check"])
            .arg(&path)
            .output()
            .expect("ccp runs");
        assert!(
            out.status.success(),
            "{}: {}{}",
            path.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        checked += 1;
    }
    assert!(checked >= 4, "ccp.yaml and the three deploy examples");
}

/// A kubectl (and curl) that logs every call and keeps just enough state (images, annotations,
/// promotion) for the examples' scripts to take their normal path.
const FAKE_KUBECTL: &str = r#"#!/bin/sh
echo "kubectl $*" >> "$FAKE_DIR/calls.log"
st="$FAKE_DIR"
case "$*" in
  "argo rollouts set image "*) echo "${6#*=}" > "$st/image-$5" ;;
  "set image deployment/"*) d="${3#deployment/}"; echo "${4#*=}" > "$st/image-$d" ;;
  "get "*"containers[0].image"*) cat "$st/image-$3" 2>/dev/null || echo "registry.example.com/shop/old:1" ;;
  "get rollout "*"status.phase"*) echo Paused ;;
  "get canary "*"status.phase"*) if [ -f "$st/promoted" ]; then echo Succeeded; else echo Progressing; fi ;;
  "get canary "*"canaryWeight"*) echo 50 ;;
  "get deployment "*"previous-image"*) cat "$st/previous-$3" 2>/dev/null ;;
  "annotate "*)
    for a in "$@"; do
      case "$a" in ccp/previous-image=*) echo "${a#*=}" > "$st/previous-$3" ;; esac
    done ;;
esac
exit 0
"#;

const FAKE_CURL: &str = r#"#!/bin/sh
echo "curl $*" >> "$FAKE_DIR/calls.log"
case "$*" in *gate/open*) touch "$FAKE_DIR/promoted" ;; esac
echo ok
"#;

/// Load an example with KUBECTL and CURL pointing at the fakes, run shift 10, shift 50, promote
/// and rollback through it, and return the fake's call log.
fn run_example(name: &str, extra_env: &[(&str, &str)]) -> String {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).expect("bin dir");
    for (file, text) in [("kubectl", FAKE_KUBECTL), ("curl", FAKE_CURL)] {
        let p = bin.join(file);
        std::fs::write(&p, text).expect("write fake");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    // The fakes find their state through FAKE_DIR, which the scripts inherit; set it in the
    // command itself so tests running in parallel do not share it.
    let state = dir.path().display().to_string();
    let kubectl = format!("env FAKE_DIR={state} {}", bin.join("kubectl").display());
    let curl = format!("env FAKE_DIR={state} {}", bin.join("curl").display());
    let env = |n: &str| match n {
        "KUBECTL" => Some(kubectl.clone()),
        "CURL" => Some(curl.clone()),
        _ => extra_env
            .iter()
            .find(|(k, _)| *k == n)
            .map(|(_, v)| v.to_string()),
    };
    let text = std::fs::read_to_string(config_dir().join(name)).expect("example");
    let cfg = load_str(&text, name, &env).expect("example loads");
    let d = ScriptDeployer::from_config(&cfg.deploy).expect("example has every command");
    let p = plan();
    for (action, pct) in ROLLOUT_AND_BACK {
        let r = d.run_step(&step(action, pct, 9, Some(&p), "abc123"));
        assert!(r.ok(), "{name} {action:?} {pct}: {r:?}");
    }
    std::fs::read_to_string(dir.path().join("calls.log")).expect("calls logged")
}

fn assert_calls_in_order(log: &str, expected: &[&str]) {
    let mut rest = log;
    for want in expected {
        match rest.find(want) {
            Some(i) => rest = &rest[i + want.len()..],
            None => panic!("expected {want:?} (in this order) in:\n{log}"),
        }
    }
}

#[test]
fn the_argo_rollouts_example_drives_the_rollout() {
    let log = run_example("deploy-argo-rollouts.yaml", &[]);
    assert_calls_in_order(
        &log,
        &[
            "argo rollouts set image payment-service payment-service=registry.example.com/shop/payment-service:abc123 -n default",
            "get rollout payment-service -n default -o jsonpath={.status.phase}",
            "argo rollouts promote payment-service -n default",
            "argo rollouts promote payment-service --full -n default",
            "argo rollouts abort payment-service -n default",
            "argo rollouts undo payment-service -n default",
        ],
    );
    assert!(log.contains("ccp/fence=9"), "{log}");
}

#[test]
fn the_flagger_example_starts_the_canary_and_keeps_the_gates() {
    let log = run_example("deploy-flagger.yaml", &[]);
    assert_calls_in_order(
        &log,
        &[
            "/gate/close",
            "ccp/previous-image=registry.example.com/shop/old:1",
            "set image deployment/payment-service payment-service=registry.example.com/shop/payment-service:abc123 -n default",
            "get canary payment-service -n default -o jsonpath={.status.canaryWeight}",
            "/gate/open",
            // Rolled back after promotion: the previous image goes back in.
            "set image deployment/payment-service payment-service=registry.example.com/shop/old:1 -n default",
        ],
    );
}

#[test]
fn the_kubectl_example_splits_by_replicas_or_replaces() {
    let log = run_example("deploy-kubectl.yaml", &[]);
    assert_calls_in_order(
        &log,
        &[
            "set image deployment/payment-service-canary payment-service=registry.example.com/shop/payment-service:abc123",
            "scale deployment/payment-service-canary --replicas=1",
            "scale deployment/payment-service-stable --replicas=9",
            "scale deployment/payment-service-canary --replicas=5",
            "scale deployment/payment-service-stable --replicas=5",
            "set image deployment/payment-service-stable payment-service=registry.example.com/shop/payment-service:abc123",
            "scale deployment/payment-service-stable --replicas=10",
            "scale deployment/payment-service-canary --replicas=0",
            "rollout undo deployment/payment-service-stable",
        ],
    );
    let log = run_example("deploy-kubectl.yaml", &[("KUBECTL_MODE", "replace")]);
    assert_calls_in_order(
        &log,
        &[
            "set image deployment/payment-service payment-service=registry.example.com/shop/payment-service:abc123",
            "rollout status deployment/payment-service",
            "rollout undo deployment/payment-service",
        ],
    );
    assert!(!log.contains("scale"), "{log}");
}

// ------------------------------------------------------------- the cockpit

#[test]
fn the_canary_pane_and_its_details_show_what_the_tool_printed() {
    use ccp_tui::theme::Theme;
    use ccp_tui::ui_state::{Pane, UiState};
    use ccp_tui::view_model::ViewModel;
    use common::cockpit::{open_details, screen};

    let ev = |seq: u64, kind: EventKind| Event {
        seq,
        ts: format!("2026-11-23T10:00:{seq:02}.000Z"),
        kind,
        incident: "INC-1".into(),
    };
    let deploy_step = |action: &str, percent: u8, exit: i32, output: &str| EventKind::DeployStep {
        action: action.into(),
        service: "payment-service".into(),
        percent,
        fence: 3,
        version: "abc123".into(),
        command: "./deploy.sh".into(),
        ok: exit == 0,
        exit_code: Some(exit),
        duration_ms: 1200,
        output: output.into(),
        error: (exit != 0).then(|| {
            format!("deploy command for shift to 50 % of payment-service exited with code {exit}")
        }),
    };
    let mut vm = ViewModel::default();
    for (i, kind) in [
        deploy_step("shift", 10, 0, "rollout paused at 10%\n"),
        EventKind::Deployed {
            service: "payment-service".into(),
            percent: 10,
            fence: 3,
        },
        deploy_step(
            "shift",
            50,
            7,
            "setting weight\nweight refused by the mesh\n",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        vm.apply(&ev(i as u64, kind));
    }
    assert_eq!(vm.run().rollout.deploy_steps.len(), 2);
    assert!(!vm.run().rollout.deploy_steps[1].ok);

    let mut ui = UiState::new(vec![Theme::default_dark()], "fast", "tester");
    ui.follow = false;
    ui.focus = Pane::Canary;
    let shown = screen(&vm, &ui);
    assert!(
        shown.contains("deploy ✗ shift 50% exit 7 1.2s weight refused by the mesh"),
        "{shown}"
    );

    open_details(&mut ui, &vm);
    let shown = screen(&vm, &ui);
    assert!(shown.contains("deploy steps and statistics"), "{shown}");
    assert!(
        shown.contains("deploy shift 50% — FAILED (exit 7, 1.2 s)"),
        "{shown}"
    );
    assert!(shown.contains("│ weight refused by the mesh"), "{shown}");
    assert!(shown.contains("./deploy.sh"), "{shown}");
    assert!(
        shown.contains("deploy shift 10% — OK (exit 0, 1.2 s)"),
        "{shown}"
    );
}
