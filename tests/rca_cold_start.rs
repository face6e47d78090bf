//! Cold start (issue 19, item 5): the fleet, its metrics and ccp start within a second, so there
//! is no healthy history before the fault. RCA ranks from what there is (the alerting service,
//! its errors, recent deploys) with low confidence, and the pipeline pauses for a human instead
//! of escalating with "no anomalous service".

mod common;

use serde_json::Value;
use std::path::Path;

#[test]
fn a_fault_older_than_the_history_pauses_for_a_human_instead_of_escalating() {
    let dir = tempfile::tempdir().expect("tempdir");
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo");
    let fleet = std::fs::read_to_string(demo.join("fleet.yaml")).expect("demo fleet");
    // The demo's fault began 50 s before the run; here it began an hour before, so every point
    // RCA reads (the last 5 minutes) is already faulty: nothing changes against a baseline.
    let cold = fleet.replace(
        "  - service: payment-service\n    start_s: -50\n",
        "  - service: payment-service\n    start_s: -3600\n",
    );
    assert_ne!(fleet, cold, "the demo fleet's fault starts at -50 s");
    let fleet_path = dir.path().join("fleet.yaml");
    std::fs::write(&fleet_path, cold).expect("write fleet");
    let cfg = dir.path().join("ccp.yaml");
    std::fs::write(
        &cfg,
        format!("metrics:\n  fleet: \"{}\"\n", fleet_path.display()),
    )
    .expect("write config");
    let state = dir.path().join("state");
    let cfg_arg = cfg.display().to_string();
    let ev: Vec<Value> = common::json_events(common::headless_demo(&state).args([
        "--seed",
        "7",
        "--config",
        &cfg_arg,
        "--auto-reject",
    ]));
    let states: Vec<String> = ev
        .iter()
        .filter(|e| e["type"] == "state_changed")
        .filter_map(|e| e["to"].as_str().map(String::from))
        .collect();
    assert!(
        states.iter().any(|s| s == "RCA_COMPLETE"),
        "RCA ranked a candidate: {states:?}"
    );
    assert!(
        states.iter().any(|s| s == "PAUSED_FOR_HUMAN_REVIEW"),
        "paused for a human: {states:?}"
    );
    let paused = states
        .iter()
        .position(|s| s == "PAUSED_FOR_HUMAN_REVIEW")
        .unwrap_or(usize::MAX);
    assert!(
        !states[..paused.min(states.len())]
            .iter()
            .any(|s| s == "ESCALATED"),
        "{states:?}"
    );
    let ranked = ev
        .iter()
        .find(|e| e["type"] == "rca_ranked")
        .expect("rca_ranked event");
    let top = &ranked["candidates"][0];
    assert_eq!(top["service"], "payment-service", "{ranked}");
    let conf = top["confidence"].as_f64().unwrap_or(1.0);
    assert!(conf < 0.7, "{top}");
    let reasons = ev
        .iter()
        .find(|e| e["type"] == "awaiting_approval")
        .map(|e| e["reasons"].to_string())
        .unwrap_or_default();
    assert!(reasons.to_lowercase().contains("confidence"), "{reasons}");
}
