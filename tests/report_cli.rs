//! `ccp report` on real audit logs written by the headless demo: the report must say what the log
//! says (incident, outcome, stages in order, gates, who approved, a decision's own reasoning),
//! say loudly when the chain is broken, and refuse unknown incidents with exit 2.

mod common;

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn report(audit: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ccp"))
        .arg("report")
        .arg("--audit")
        .arg(audit)
        .args(extra)
        .output()
        .expect("ccp runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json_report(audit: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["--format", "json"];
    args.extend_from_slice(extra);
    let o = report(audit, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_str(&stdout(&o)).unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(&o)))
}

/// The events of one type, from the demo's own JSON lines.
fn of_type<'a>(events: &'a [Value], ty: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == ty).collect()
}

#[test]
fn a_resolved_demo_is_reported_as_the_log_has_it_and_tampering_is_announced() {
    if !common::python_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let events = common::json_events(common::headless_demo(&state).arg("--auto-approve"));
    let audit = state.join("audit.jsonl");
    let finished = of_type(&events, "finished")[0];
    let id = finished["incident"].as_str().unwrap();
    assert_eq!(finished["outcome"], "resolved");

    // JSON, incident named.
    let v = json_report(&audit, &["--incident", id]);
    assert_eq!(v["integrity"]["verified"], true);
    assert_eq!(v["header"]["incident"], id);
    assert_eq!(v["header"]["service"], "payment-service");
    assert_eq!(v["header"]["outcome"], "resolved");
    assert_eq!(v["header"]["final_state"], "CLOSED");
    assert!(v["header"]["mttr_seconds"]
        .as_f64()
        .is_some_and(|s| s > 0.0));
    let stages: Vec<&str> = v["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["state"].as_str().unwrap())
        .collect();
    assert_eq!(stages, common::DEMO_HAPPY_PATH);
    let gate_events = of_type(&events, "gate_result");
    assert_eq!(gate_events.len(), 11);
    assert_eq!(v["gates"]["total"], 11);
    assert_eq!(v["gates"]["passed"], 11);
    assert_eq!(v["gates"]["results"].as_array().map(Vec::len), Some(11));
    assert_eq!(v["approvals"]["decisions"][0]["actor"], "auto");
    assert_eq!(v["approvals"]["decisions"][0]["decision"], "approve");
    let risk = of_type(&events, "decision")
        .into_iter()
        .find(|d| d["justification"]["decision"] == "risk_score")
        .expect("a risk_score decision");
    let reasoning = risk["justification"]["reasoning"].as_str().unwrap();
    assert!(!reasoning.is_empty());
    let decisions = v["decisions"].as_array().unwrap();
    assert_eq!(decisions.len(), of_type(&events, "decision").len());
    let reported = decisions
        .iter()
        .find(|d| d["justification"]["decision"] == "risk_score")
        .unwrap();
    assert_eq!(reported["justification"]["reasoning"], reasoning);
    assert_eq!(reported["justification"], risk["justification"]);
    assert_eq!(
        v["verifications"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["verdict"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["pass", "pass", "pass"]
    );
    assert_eq!(v["locks"].as_array().map(Vec::len), Some(4));
    assert_eq!(v["outcome"]["reason"], "incident resolved and closed");

    // Markdown, incident left out (the log holds one).
    let o = report(&audit, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let md = stdout(&o);
    assert!(md.starts_with(&format!(
        "# Incident report: {id}\n\nAudit chain: **verified**"
    )));
    assert!(md.contains("| Outcome | **resolved** |"), "{md}");
    assert!(md.contains("| Final state | CLOSED |"));
    assert!(md.contains("## Safety gates (11 evaluated: 11 passed, 0 failed)"));
    assert!(md.contains("| auto | approve | --auto-approve |"), "{md}");
    assert!(md.contains(&format!("**Reasoning:** {reasoning}")), "{md}");
    assert!(md.contains("| 10 | CANARY_10 |"), "{md}");

    // Unknown incident: exit 2, and the log's incidents listed.
    let o = report(&audit, &["--incident", "INC-00000000-NOPE"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(&format!("incidents in this log: {id}")),
        "{}",
        stderr(&o)
    );
    assert!(o.stdout.is_empty());
    // Missing file: exit 2 naming it.
    let o = report(&dir.path().join("missing.jsonl"), &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("missing.jsonl"), "{}", stderr(&o));

    // A tampered copy: the approval's actor changed after the fact.
    let text = std::fs::read_to_string(&audit).unwrap();
    let (idx, line) = text
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains("\"type\":\"approval\""))
        .unwrap();
    let seq = serde_json::from_str::<Value>(line).unwrap()["seq"]
        .as_u64()
        .unwrap();
    let forged: String = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            let l = if i == idx {
                l.replace("\"actor\":\"auto\"", "\"actor\":\"mallory\"")
            } else {
                l.to_string()
            };
            l + "\n"
        })
        .collect();
    assert_ne!(forged, text);
    let copy = dir.path().join("tampered.jsonl");
    std::fs::write(&copy, forged).unwrap();
    let o = report(&copy, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let md = stdout(&o);
    let warning = md.lines().nth(2).unwrap_or_default();
    assert!(
        warning.starts_with(&format!(
            "> **⚠ AUDIT CHAIN BROKEN at seq {seq} (line {}): hash mismatch.**",
            idx + 1
        )),
        "{md}"
    );
    assert!(md.contains("| mallory | approve | --auto-approve |"));
    assert!(md.contains(&format!("{seq} ⚠ unverified")), "{md}");
    assert!(md.contains("| Outcome | **resolved** |"));
    assert!(stderr(&o).contains(&format!("broken at seq {seq}")));
    let v = json_report(&copy, &[]);
    assert_eq!(v["integrity"]["verified"], false);
    assert_eq!(v["integrity"]["broken"]["seq"], seq);
    assert_eq!(v["approvals"]["decisions"][0]["verified"], false);
    assert_eq!(v["timeline"][0]["verified"], true);
}

#[test]
fn a_canary_regression_is_reported_rolled_back_with_the_failing_verification() {
    if !common::python_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    common::run_ok(common::headless_demo(&state).args([
        "--auto-approve",
        "--inject-failure",
        "canary_regression",
    ]));
    let audit = state.join("audit.jsonl");
    let v = json_report(&audit, &[]);
    assert_eq!(v["header"]["outcome"], "rolled_back");
    assert_eq!(v["header"]["final_state"], "ROLLED_BACK");
    let failed: Vec<&Value> = v["verifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["verdict"] == "fail")
        .collect();
    assert_eq!(failed.len(), 1, "{v}");
    let bad_metric = failed[0]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["verdict"] == "fail")
        .expect("a failing metric");
    assert_eq!(bad_metric["name"], "error_rate");
    assert!(bad_metric["p_value"].as_f64().is_some_and(|p| p < 0.05));
    assert_eq!(v["rollbacks"].as_array().map(Vec::len), Some(1));
    let phase = failed[0]["phase"].as_str().unwrap();
    assert!(v["rollbacks"][0]["reason"]
        .as_str()
        .is_some_and(|r| r.starts_with(&format!("{phase} fail"))));
    let states: Vec<&str> = v["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["state"].as_str().unwrap())
        .collect();
    assert_eq!(states[states.len() - 2..], ["ROLLBACK", "ROLLED_BACK"]);

    let o = report(&audit, &["--format", "md"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let md = stdout(&o);
    assert!(md.contains("| Outcome | **rolled_back** |"), "{md}");
    assert!(md.contains(&format!("### {phase}: **fail**")), "{md}");
    assert!(md.contains("| error_rate | **fail** |"), "{md}");
    assert!(
        md.contains("## Rollbacks\n\n- payment-service rolled back at"),
        "{md}"
    );
}
