//! The failure-injection matrix as a test: `ccp inject --all --json` runs the seed matrix's 20
//! scenarios and the ones ccp adds on the embedded fleet, and every row must show its expected
//! outcome with every check holding. `ccp scenarios` must list the same rows, and bad names must be refused.
//!
//! Needs python3 (the fleet runs the demo's real Python code), like the other end-to-end tests.

mod common;

use common::python_or_skip;
use serde_json::Value;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_ccp");

/// The seed matrix's rows, as ccp names them, with the outcome each must end in.
const MATRIX: &[(&str, &str)] = &[
    ("high_error_rate", "resolved"),
    ("high_latency", "escalated"),
    ("null_pointer", "resolved"),
    ("db_pool_exhausted", "escalated"),
    ("concurrent_same_service", "escalated"),
    ("concurrent_dependency", "resolved"),
    ("gate_error_budget", "rejected"),
    ("gate_blast_radius", "failed"),
    ("gate_cooldown", "failed"),
    ("canary_error_rate", "rolled_back"),
    ("canary_latency", "rolled_back"),
    ("verification_failure", "rolled_back"),
    ("lock_timeout", "escalated"),
    ("audit_tampering", "tamper_detected"),
    ("crash_recovery", "rolled_back"),
    ("redis_partition", "escalated"),
    ("consecutive_failures", "rejected"),
    ("high_blast_radius", "resolved"),
    ("unknown_pattern", "escalated"),
    ("human_override", "resolved"),
    ("metrics_outage", "resolved"),
    ("metrics_outage_long", "rolled_back"),
];

#[test]
fn scenarios_lists_the_whole_matrix() {
    let out = Command::new(BIN)
        .args(["scenarios", "--json"])
        .output()
        .expect("run ccp scenarios");
    assert!(out.status.success());
    let list: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let rows: Vec<(String, String)> = list
        .as_array()
        .expect("an array")
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap_or("").to_string(),
                r["expected"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = MATRIX
        .iter()
        .map(|(n, o)| (n.to_string(), o.to_string()))
        .collect();
    assert_eq!(rows, want);
}

#[test]
fn every_scenario_behaves_as_expected() {
    if !python_or_skip() {
        return;
    }
    let state = tempfile::tempdir().expect("tempdir");
    let out = Command::new(BIN)
        .args(["inject", "--all", "--json"])
        .env("CCP_STATE_DIR", state.path())
        .output()
        .expect("run ccp inject");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let rows = doc["scenarios"].as_array().expect("scenarios");
    assert_eq!(rows.len(), MATRIX.len());
    let mut failures = Vec::new();
    for (row, (name, outcome)) in rows.iter().zip(MATRIX) {
        assert_eq!(row["name"], *name);
        assert_eq!(row["expected"], *outcome);
        let checks = row["checks"].as_array().expect("checks");
        assert!(!checks.is_empty(), "{name} checks nothing");
        if row["pass"] != true || row["observed"] != *outcome {
            failures.push(format!("{row:#}"));
        }
    }
    assert!(
        failures.is_empty(),
        "failing rows:\n{}",
        failures.join("\n")
    );
    assert_eq!(doc["passed"], MATRIX.len());
    assert_eq!(out.status.code(), Some(0));
}

/// `ccp inject` with these scenario names, as JSON rows.
fn inject_rows(names: &[&str]) -> Vec<Value> {
    let state = tempfile::tempdir().expect("tempdir");
    let mut cmd = Command::new(BIN);
    cmd.args(["inject", "--json"])
        .env("CCP_STATE_DIR", state.path());
    for n in names {
        cmd.args(["--scenario", n]);
    }
    let out = cmd.output().expect("run ccp inject");
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    doc["scenarios"].as_array().expect("scenarios").clone()
}

#[test]
fn scenarios_run_side_by_side_give_the_serial_results_in_order() {
    if !python_or_skip() {
        return;
    }
    // Several scenarios in one process run on every core; one per process runs alone.
    let names = [
        "null_pointer",
        "gate_cooldown",
        "canary_latency",
        "human_override",
    ];
    let together = inject_rows(&names);
    let alone: Vec<Value> = names.iter().flat_map(|n| inject_rows(&[n])).collect();
    assert_eq!(together.len(), names.len());
    for ((t, a), n) in together.iter().zip(&alone).zip(names) {
        assert_eq!(t["name"], n, "rows keep the order asked for");
        assert_eq!(t, a, "{n}: concurrent and serial runs differ");
    }
}

#[test]
fn an_unknown_scenario_is_refused_with_the_known_names() {
    let out = Command::new(BIN)
        .args(["inject", "--scenario", "no_such_thing"])
        .output()
        .expect("run ccp inject");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown scenario `no_such_thing`") && err.contains("crash_recovery"),
        "{err}"
    );
}

#[test]
fn inject_needs_all_or_a_scenario() {
    let out = Command::new(BIN)
        .args(["inject"])
        .output()
        .expect("run ccp inject");
    assert_eq!(out.status.code(), Some(2));
}

/// A presenter can watch any pipeline scenario: `ccp demo --scenario NAME` runs its world.
#[test]
fn demo_runs_a_scenario_world() {
    if !python_or_skip() {
        return;
    }
    let state = tempfile::tempdir().expect("tempdir");
    let out = common::headless_demo(state.path())
        .args(["--auto-approve", "--scenario", "canary_latency"])
        .output()
        .expect("run ccp demo");
    // The scenario's canary regresses: the run ends rolled back, exit 4.
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let last = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .map(str::to_string)
        .unwrap_or_default();
    let fin: Value = serde_json::from_str(&last).expect("a JSON event");
    assert_eq!(fin["type"], "finished");
    assert_eq!(fin["outcome"], "rolled_back", "{fin}");

    let drill = Command::new(BIN)
        .args(["demo", "--headless", "--scenario", "crash_recovery"])
        .env("CCP_STATE_DIR", state.path())
        .output()
        .expect("run ccp demo");
    assert_eq!(drill.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&drill.stderr).contains("is a drill"));
}

/// Chaos mode runs at least one random failure and reports the KPIs, with every run as expected.
#[test]
fn chaos_reports_kpis() {
    if !python_or_skip() {
        return;
    }
    let state = tempfile::tempdir().expect("tempdir");
    let out = Command::new(BIN)
        .args([
            "inject",
            "--chaos",
            "--duration",
            "1",
            "--seed",
            "3",
            "--json",
        ])
        .env("CCP_STATE_DIR", state.path())
        .output()
        .expect("run ccp inject --chaos");
    let r: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(out.status.code(), Some(0), "{r:#}");
    let runs = r["runs"].as_u64().expect("runs");
    assert!(runs >= 1);
    assert_eq!(r["unexpected"].as_array().map(Vec::len), Some(0), "{r:#}");
    let outcomes: u64 = r["kpis"]["outcomes"]
        .as_object()
        .expect("outcomes")
        .values()
        .filter_map(Value::as_u64)
        .sum();
    assert_eq!(outcomes, runs);
    let rate = r["kpis"]["auto_heal_rate"].as_f64().expect("rate");
    assert!((0.0..=1.0).contains(&rate));
    assert!(r["kpis"]["human_interventions"].is_u64());
}
