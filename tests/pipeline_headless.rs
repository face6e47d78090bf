//! End-to-end headless demo runs through the real binary: the Contract's JSON event stream, the
//! state sequence of each outcome, reproducibility, and the audit log they leave behind.

mod common;

use common::{headless_demo, json_events};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn run_demo(state: &Path, extra: &[&str]) -> Vec<Value> {
    run_demo_env(state, extra, &[])
}

fn run_demo_env(state: &Path, extra: &[&str], env: &[(&str, &str)]) -> Vec<Value> {
    json_events(
        headless_demo(state)
            .args(["--seed", "7"])
            .args(extra)
            .envs(env.iter().copied()),
    )
}

fn states(events: &[Value]) -> Vec<String> {
    let mut v = Vec::new();
    for e in events.iter().filter(|e| e["type"] == "state_changed") {
        if v.is_empty() {
            v.push(e["from"].as_str().unwrap_or_default().to_string());
        }
        v.push(e["to"].as_str().unwrap_or_default().to_string());
    }
    v
}

fn last(events: &[Value]) -> &Value {
    events.last().expect("at least one event")
}

fn of_type<'a>(events: &'a [Value], t: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == t).collect()
}

#[test]
fn auto_approve_resolves_through_every_contract_state() {
    if !common::python_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let ev = run_demo(dir.path(), &["--auto-approve"]);
    assert_eq!(states(&ev), common::DEMO_HAPPY_PATH);
    assert_eq!(last(&ev)["type"], "finished");
    assert_eq!(last(&ev)["outcome"], "resolved");
    // envelope of every event
    for (i, e) in ev.iter().enumerate() {
        assert_eq!(e["seq"].as_u64(), Some(i as u64));
        assert!(
            e["ts"]
                .as_str()
                .is_some_and(|t| t.ends_with('Z') && t.len() == 24),
            "{e}"
        );
        assert!(
            e["incident"]
                .as_str()
                .is_some_and(|i| i.starts_with("INC-")),
            "{e}"
        );
    }
    // the story: payment-service, the receipts commit, line 45, a null check, ~0.3 % after
    let rca = of_type(&ev, "rca_ranked");
    let top = &rca[0]["candidates"][0];
    assert_eq!(top["service"], "payment-service");
    assert!(
        top["confidence"].as_f64().is_some_and(|c| c >= 0.7),
        "{top}"
    );
    let loc = of_type(&ev, "localized");
    assert_eq!(
        loc[0]["file"],
        "payment-service/payments/payment_processor.py"
    );
    assert_eq!(loc[0]["line"], 45);
    assert_eq!(
        loc[0]["blame_commit"], top["commit"],
        "RCA and blame agree on the commit"
    );
    let fix = of_type(&ev, "fix_proposed");
    assert_eq!(fix[0]["template"], "null_check");
    assert!(fix[0]["diff"]
        .as_str()
        .is_some_and(|d| d.contains("+") && d.contains("is not None")));
    let gates = of_type(&ev, "gate_result");
    assert!(
        gates.len() >= 10,
        "syntax, tests, lint, security, risk and six policy gates"
    );
    assert!(gates.iter().all(|g| g["passed"] == true));
    let tests_gate = gates
        .iter()
        .find(|g| g["gate"] == "tests")
        .expect("tests gate ran");
    assert!(tests_gate["value"]["tests_run"]
        .as_u64()
        .is_some_and(|n| n > 0));
    let approval = of_type(&ev, "approval");
    assert_eq!(approval[0]["actor"], "auto");
    assert_eq!(approval[0]["decision"], "approve");
    assert_eq!(of_type(&ev, "awaiting_approval").len(), 1);
    let deployed: Vec<u64> = of_type(&ev, "deployed")
        .iter()
        .filter_map(|d| d["percent"].as_u64())
        .collect();
    assert_eq!(deployed, vec![10, 50, 100]);
    let verif = of_type(&ev, "verification");
    assert_eq!(verif.len(), 3);
    assert!(verif.iter().all(|v| v["verdict"] == "pass"), "{verif:?}");
    let metrics = of_type(&ev, "canary_metrics");
    let after = metrics.last().expect("verification metrics")["canary"]["error_rate"]
        .as_f64()
        .expect("rate");
    let before = metrics.last().expect("verification metrics")["baseline"]["error_rate"]
        .as_f64()
        .expect("rate");
    assert!(after < 0.01, "error rate after the fix {after}");
    assert!(before > 0.10, "error rate during the incident {before}");
    assert_eq!(
        of_type(&ev, "lock_acquired").len(),
        of_type(&ev, "lock_released").len()
    );
    // the audit log holds the same events and verifies
    let audit = dir.path().join("audit.jsonl");
    let lines = std::fs::read_to_string(&audit).expect("audit log written");
    assert_eq!(lines.lines().count(), ev.len());
    let v = Command::new(env!("CARGO_BIN_EXE_ccp"))
        .args(["audit", "verify"])
        .arg(&audit)
        .output()
        .expect("verify runs");
    assert_eq!(
        v.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&v.stdout)
    );
}

#[test]
fn auto_reject_ends_rejected_with_nothing_deployed() {
    if !common::python_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let ev = run_demo(dir.path(), &["--auto-reject"]);
    let s = states(&ev);
    assert_eq!(&s[s.len() - 2..], ["PAUSED_FOR_HUMAN_REVIEW", "REJECTED"]);
    assert_eq!(last(&ev)["outcome"], "rejected");
    assert!(of_type(&ev, "deployed").is_empty());
    assert!(of_type(&ev, "lock_acquired").is_empty());
    assert_eq!(of_type(&ev, "approval")[0]["actor"], "auto");
}

#[test]
fn without_automatic_rollback_a_failed_canary_escalates_with_the_patch_in_place() {
    if !common::python_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("ccp.yaml");
    std::fs::write(&cfg, "deploy:\n  rollback_on_fail: false\n").expect("write config");
    let cfg_arg = cfg.display().to_string();
    let ev = run_demo(
        dir.path(),
        &[
            "--config",
            &cfg_arg,
            "--auto-approve",
            "--inject-failure",
            "canary_regression",
        ],
    );
    let s = states(&ev);
    assert_eq!(
        &s[s.len() - 3..],
        ["CANARY_10", "HEALTH_CHECK", "ESCALATED"]
    );
    assert_eq!(last(&ev)["outcome"], "escalated");
    assert!(of_type(&ev, "rolled_back").is_empty());
    let reason = last(&ev)["reason"].as_str().expect("reason").to_string();
    assert!(
        reason.contains("rollback_on_fail is off") && reason.contains("10% of traffic"),
        "{reason}"
    );
}

#[test]
fn canary_regression_is_rolled_back() {
    if !common::python_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let ev = run_demo(
        dir.path(),
        &["--auto-approve", "--inject-failure", "canary_regression"],
    );
    let s = states(&ev);
    assert_eq!(
        &s[s.len() - 4..],
        ["CANARY_10", "HEALTH_CHECK", "ROLLBACK", "ROLLED_BACK"]
    );
    assert_eq!(last(&ev)["outcome"], "rolled_back");
    let verdict = of_type(&ev, "verification");
    assert_eq!(verdict[0]["verdict"], "fail");
    let m = of_type(&ev, "canary_metrics");
    let (b, c) = (
        m[0]["baseline"]["error_rate"].as_f64().expect("b"),
        m[0]["canary"]["error_rate"].as_f64().expect("c"),
    );
    assert!(
        c > b,
        "the injected patch makes the canary worse: {c} vs {b}"
    );
    assert_eq!(of_type(&ev, "rolled_back").len(), 1);
    let deployed: Vec<u64> = of_type(&ev, "deployed")
        .iter()
        .filter_map(|d| d["percent"].as_u64())
        .collect();
    assert_eq!(deployed, vec![10], "no step after the failed health check");
}

/// Same seed ⇒ same events apart from timestamps and what is derived from them: the incident id
/// carries the date, and the demo repository's commit ids hash their commit times (which are
/// relative to the run's start).
#[test]
fn seeded_runs_are_reproducible() {
    if !common::python_or_skip() {
        return;
    }
    let strip = |ev: Vec<Value>| {
        let mut ids: Vec<String> = Vec::new();
        for e in &ev {
            for k in ["commit", "blame_commit"] {
                if let Some(s) = e[k].as_str() {
                    ids.push(s.to_string());
                }
            }
            for c in e["candidates"].as_array().into_iter().flatten() {
                if let Some(s) = c["commit"].as_str() {
                    ids.push(s.to_string());
                }
            }
        }
        let mut ev: Vec<Value> = ev
            .into_iter()
            .map(|e| {
                let mut text = e.to_string();
                for id in &ids {
                    text = text.replace(id.as_str(), "<commit>");
                }
                serde_json::from_str(&text).expect("still JSON")
            })
            .collect();
        for e in &mut ev {
            if let Some(o) = e.as_object_mut() {
                o.remove("ts");
                // On the pipeline clock like `ts`: it moves with the run's start second.
                o.remove("expires_at");
                o.remove("incident");
                if let Some(a) = o.get_mut("alert").and_then(|a| a.as_object_mut()) {
                    a.remove("at_ms");
                }
            }
        }
        ev
    };
    let a = tempfile::tempdir().expect("tempdir");
    let b = tempfile::tempdir().expect("tempdir");
    let x = strip(run_demo(a.path(), &["--auto-approve"]));
    let y = strip(run_demo(b.path(), &["--auto-approve"]));
    assert_eq!(x.len(), y.len());
    for (p, q) in x.iter().zip(&y) {
        assert_eq!(p, q);
    }
}

#[test]
fn unknown_injection_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_ccp"))
        .args([
            "demo",
            "--headless",
            "--json",
            "--pace",
            "instant",
            "--inject-failure",
            "gremlins",
        ])
        .env("CCP_STATE_DIR", dir.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("gremlins") && err.contains("canary_regression"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

/// Without a Python interpreter the patch cannot be checked: the gates fail and say so, and
/// nothing is deployed.
#[test]
fn missing_python_fails_the_gates_with_the_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ev = run_demo_env(
        dir.path(),
        &["--auto-approve"],
        &[("CCP_PYTHON", "/nonexistent/python3")],
    );
    assert_eq!(states(&ev).last().map(String::as_str), Some("GATES_FAILED"));
    assert_eq!(last(&ev)["outcome"], "failed");
    let gates = of_type(&ev, "gate_result");
    let syntax = gates
        .iter()
        .find(|g| g["gate"] == "syntax")
        .expect("syntax gate");
    assert_eq!(syntax["passed"], false);
    assert!(
        syntax["reason"]
            .as_str()
            .is_some_and(|r| r.contains("python3 not found")),
        "{syntax}"
    );
    assert!(of_type(&ev, "deployed").is_empty());
    assert!(
        of_type(&ev, "awaiting_approval").is_empty(),
        "no approval is asked for a failed patch"
    );
}

/// An exhausted error budget is a human-override condition, not a hard block: the gate still
/// reports its failure, the run pauses for review with the reason, and an approval lets the fix
/// proceed under the usual locks (a rejection would end it with nothing deployed).
#[test]
fn exhausted_error_budget_pauses_for_a_human_instead_of_failing_the_gates() {
    if !common::python_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo");
    let fleet = std::fs::read_to_string(demo.join("fleet.yaml")).expect("demo fleet");
    let exhausted = fleet.replace(
        "      error_budget_used_pct: 0.5\n",
        "      error_budget_used_pct: 2.5\n",
    );
    assert_ne!(
        fleet, exhausted,
        "the demo fleet sets payment-service's error budget"
    );
    let fleet_path = dir.path().join("fleet.yaml");
    std::fs::write(&fleet_path, exhausted).expect("write fleet");
    let cfg = dir.path().join("ccp.yaml");
    std::fs::write(
        &cfg,
        format!("metrics:\n  fleet: \"{}\"\n", fleet_path.display()),
    )
    .expect("write config");
    let state = dir.path().join("state");
    let cfg_arg = cfg.display().to_string();
    let ev = run_demo(&state, &["--config", &cfg_arg, "--auto-approve"]);
    let budget = of_type(&ev, "gate_result")
        .into_iter()
        .find(|g| g["gate"] == "error_budget")
        .expect("error budget gate ran");
    assert_eq!(budget["passed"], false, "{budget}");
    let s = states(&ev);
    assert!(!s.contains(&"GATES_FAILED".to_string()), "{s:?}");
    let paused = s
        .iter()
        .position(|x| x == "PAUSED_FOR_HUMAN_REVIEW")
        .expect("paused for review");
    assert_eq!(s[paused - 1], "GATES_PASSED");
    assert_eq!(s[paused + 1], "LOCKED");
    let reasons = of_type(&ev, "awaiting_approval")[0]["reasons"].clone();
    assert!(
        reasons.as_array().is_some_and(|r| r.iter().any(|x| x
            .as_str()
            .is_some_and(|x| x.starts_with("error budget exhausted")))),
        "{reasons}"
    );
    let policy = of_type(&ev, "decision")
        .into_iter()
        .find(|d| d["justification"]["decision"] == "approval_policy")
        .expect("approval policy decision");
    assert!(policy["justification"]["inputs"]["override_rules"]
        .as_array()
        .is_some_and(|r| r.iter().any(|x| x == "error_budget_exhausted")));
    assert!(
        !of_type(&ev, "deployed").is_empty(),
        "approved, so it deploys"
    );
}

/// The text run ends with the audit anchor: the log's last hash, to keep elsewhere (a cut-off
/// log still chains; only a copy of its last hash shows the cut).
#[test]
fn text_run_prints_the_audit_anchor() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state");
    let out = Command::new(env!("CARGO_BIN_EXE_ccp"))
        .args(["demo", "--headless", "--pace", "instant", "--auto-approve"])
        .env("CCP_STATE_DIR", &state)
        .output()
        .expect("run ccp demo");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("audit anchor: "))
        .unwrap_or_else(|| panic!("no anchor line:\n{text}"));
    let records = ccp_audit::read_records(&state.join("audit.jsonl")).expect("log");
    let last = records.last().expect("records");
    assert!(
        line.contains(&format!(
            "{} records, last hash {}",
            records.len(),
            last.hash
        )),
        "{line}"
    );

    // The anchor catches what the chain alone cannot: cut the last three records off, and the
    // log still verifies on its own, but not against the anchor or the count.
    let log = state.join("audit.jsonl");
    let verify = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_ccp"))
            .args(["audit", "verify"])
            .arg(&log)
            .args(extra)
            .output()
            .expect("verify runs")
    };
    let n = records.len().to_string();
    let anchored = ["--anchor", last.hash.as_str(), "--expect-count", n.as_str()];
    assert!(verify(&anchored).status.success());
    let text = std::fs::read_to_string(&log).expect("log");
    let kept: Vec<&str> = text.lines().collect();
    std::fs::write(&log, kept[..kept.len() - 3].join("\n") + "\n").expect("cut");
    assert!(
        verify(&[]).status.success(),
        "a cut chain still verifies alone"
    );
    let cut = verify(&["--anchor", last.hash.as_str()]);
    assert_eq!(cut.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&cut.stdout).contains("ANCHOR MISSING"));
    let short = verify(&["--expect-count", n.as_str()]);
    assert_eq!(short.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&short.stdout).contains("CUT"));
    // An older anchor still holds for a log that only grew.
    let earlier = &records[records.len() - 4].hash;
    assert!(verify(&["--anchor", earlier.as_str()]).status.success());
}

/// Presenters get the payment story at a pace they can talk over: about 40 s end to end plus
/// the approval (37.6 s measured on the 2-core machine), between `fast` (about 14 s) and
/// `realtime`. The bounds are wide on purpose: sleeping can only make a run longer, never
/// shorter, and a loaded machine may add a little.
#[test]
fn present_pace_plays_the_story_in_about_forty_seconds() {
    if !common::python_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let start = std::time::Instant::now();
    let events = json_events(
        Command::new(env!("CARGO_BIN_EXE_ccp"))
            .args(["demo", "--headless", "--json", "--pace", "present"])
            .args(["--auto-approve", "--seed", "7"])
            .env("CCP_STATE_DIR", dir.path())
            .env("CCP_DEMO_DIR", common::demo_dir()),
    );
    let took = start.elapsed().as_secs_f64();
    assert_eq!(last(&events)["outcome"], "resolved");
    assert!((30.0..=90.0).contains(&took), "present took {took:.1} s");
}

/// Two runs never share an incident id in one audit log; a fresh log gives a seeded run the
/// same id every time.
#[test]
fn incident_ids_are_unique_in_a_log_and_seeded_runs_reproducible() {
    let dir = tempfile::tempdir().expect("tempdir");
    let id_of = |state: &Path| {
        let ev = run_demo(state, &["--auto-reject"]);
        last(&ev)["incident"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let first = id_of(dir.path());
    let second = id_of(dir.path());
    let third = id_of(dir.path());
    assert_ne!(first, second);
    assert_eq!(second, format!("{first}-2"));
    assert_eq!(third, format!("{first}-3"));
    let other = tempfile::tempdir().expect("tempdir");
    assert_eq!(
        id_of(other.path()),
        first,
        "a fresh log reproduces the seeded id"
    );
}
