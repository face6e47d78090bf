//! Deployment failure recovery through `ccp serve`, as a process: a correctly signed GitHub
//! failure opens a recovery case with a category and a trace in `/api/state`; a bad signature is
//! 401 and opens nothing; a production deployment pauses at its gate until approved over HTTP
//! (404 for an unknown case, 409 once it no longer waits); `/metrics` counts cases and outcomes;
//! the recovery audit chain verifies.

use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

const SECRET: &[u8] = b"s3cret";

fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &str,
) -> (u16, String) {
    let r = common::http::request(addr, method, path, headers, body.as_bytes());
    (r.status, r.body)
}

/// The approver's bearer token header (its SHA-256 is in the served configuration).
fn oncall() -> (&'static str, String) {
    ("Authorization", "Bearer oncall-token".to_string())
}

fn state(addr: &str) -> Value {
    let (code, body) = http(addr, "GET", "/api/state", &[oncall()], "");
    assert_eq!(code, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

fn signed(event: &str, delivery: &str, body: &str) -> Vec<(&'static str, String)> {
    vec![
        ("X-GitHub-Event", event.to_string()),
        ("X-GitHub-Delivery", delivery.to_string()),
        (
            "X-Hub-Signature-256",
            format!(
                "sha256={}",
                ccp_webhooks::sign_sha256_hex(SECRET, body.as_bytes())
            ),
        ),
    ]
}

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/webhooks/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// Poll `/api/state` until case `id` has `status`.
fn wait_case(addr: &str, id: &str, status: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let st = state(addr);
        let case = st["recoveries"]
            .as_array()
            .and_then(|cs| cs.iter().find(|c| c["id"] == id).cloned());
        if let Some(c) = &case {
            if c["status"] == status {
                return c.clone();
            }
        }
        assert!(
            Instant::now() < deadline,
            "{id} never reached {status}: {case:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn ci_failures_become_recovery_cases_with_a_trace_and_an_http_gate() {
    if !common::python_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let state_dir = dir.path().join("state");
    let served = common::serve::Served::start(
        dir.path(),
        "environment: production\nwebhooks:\n  github:\n    secret: \"s3cret\"\nauth:\n  operators:\n    - { name: oncall, roles: [approver], token_sha256: \"d46538dc7de07d04913624720ec6ad07c7f42b1f0f8a00bff24261fd770620f4\" }\n",
        "fast",
        Stdio::null(),
    );
    let addr = served.addr.clone();

    // A bad signature: 401, and no case.
    let run = fixture("github_workflow_run_failed.json").to_string();
    let mut forged = signed("workflow_run", "d-forged", &run);
    forged[2].1 = format!("sha256={}", "0".repeat(64));
    let (code, reply) = http(&addr, "POST", "/webhooks/github", &forged, &run);
    assert_eq!(code, 401, "{reply}");
    assert_eq!(state(&addr)["recoveries"], serde_json::json!([]));

    // A signed workflow_run completed/failure: a case with a category and a trace. Nothing in
    // the payload says why it failed, so the category is a zero-confidence guess and the case
    // goes to a human.
    let (code, reply) = http(
        &addr,
        "POST",
        "/webhooks/github",
        &signed("workflow_run", "d-1", &run),
        &run,
    );
    assert_eq!(code, 200, "{reply}");
    let case = wait_case(&addr, "REC-0001", "escalated");
    assert_eq!(case["provider"], "github");
    assert_eq!(case["project"], "octo-org/octo-repo");
    assert_eq!(case["kind"], "pipeline_failed");
    assert_eq!(case["category"], "application");
    assert_eq!(case["confidence"], 0.0);
    assert_eq!(case["tree"], "escalate-unknown");
    let trace = case["trace"].as_array().unwrap();
    let nodes: Vec<&str> = trace.iter().map(|e| e["node"].as_str().unwrap()).collect();
    assert_eq!(
        nodes,
        [
            "(orchestrator)",
            "gather",
            "diagnostics",
            "notify",
            "gather",
            "sure",
            "uncertain",
            "(orchestrator)"
        ]
    );
    assert_eq!(case["phases"].as_array().map(Vec::len), Some(7));
    // The same delivery again (GitHub retries) opens nothing new.
    let (code, _) = http(
        &addr,
        "POST",
        "/webhooks/github",
        &signed("workflow_run", "d-1", &run),
        &run,
    );
    assert_eq!(code, 200);
    // Nor does a replay of the captured body under fresh delivery ids: the header is not
    // covered by GitHub's signature, the body's run id and attempt are.
    for fresh in ["d-replay-1", "d-replay-2", "d-replay-3"] {
        let (code, _) = http(
            &addr,
            "POST",
            "/webhooks/github",
            &signed("workflow_run", fresh, &run),
            &run,
        );
        assert_eq!(code, 200);
    }
    assert_eq!(
        state(&addr)["recoveries"].as_array().map(Vec::len),
        Some(1),
        "a replay opened a case"
    );

    // A timed-out run: timing, retried (simulated), recovered.
    let mut timed_out = fixture("github_workflow_run_failed.json");
    timed_out["workflow_run"]["conclusion"] = "timed_out".into();
    let timed_out = timed_out.to_string();
    http(
        &addr,
        "POST",
        "/webhooks/github",
        &signed("workflow_run", "d-2", &timed_out),
        &timed_out,
    );
    let case = wait_case(&addr, "REC-0002", "recovered");
    assert_eq!(case["category"], "timing");
    assert_eq!(case["tree"], "retry-flaky-timing");
    assert_eq!(case["evidence"][0]["source"], "metadata.conclusion");

    // A failed production deployment whose status says why: configuration; the rollback waits
    // at its gate until a human approves it over HTTP.
    let mut deploy = fixture("github_deployment_status_failed.json");
    deploy["deployment_status"]["description"] =
        "Error: environment variable DATABASE_URL is not set".into();
    let deploy = deploy.to_string();
    let (code, reply) = http(
        &addr,
        "POST",
        "/webhooks/github",
        &signed("deployment_status", "d-3", &deploy),
        &deploy,
    );
    assert_eq!(code, 200, "{reply}");
    let case = wait_case(&addr, "REC-0003", "awaiting_approval");
    assert_eq!(case["category"], "configuration");
    assert_eq!(case["severity"], "high");
    assert_eq!(case["environment"], "production");
    assert_eq!(case["tree"], "rollback-on-deploy-failure");
    assert_eq!(case["awaiting_approval"]["node"], "approve_rollback");
    assert_eq!(case["evidence"][0]["rule"], "missing-variable");

    let (_, metrics) = http(&addr, "GET", "/metrics", &[], "");
    assert!(
        metrics.contains("ccp_recovery_awaiting_approval 1\n"),
        "{metrics}"
    );
    assert_eq!(
        http(
            &addr,
            "POST",
            "/api/recoveries/REC-9999/approve",
            &[oncall()],
            "{}"
        )
        .0,
        404
    );
    assert_eq!(
        http(
            &addr,
            "POST",
            "/api/recoveries/REC-0001/approve",
            &[oncall()],
            "{}"
        )
        .0,
        409
    );
    let (code, body) = http(
        &addr,
        "POST",
        "/api/recoveries/REC-0003/approve",
        &[oncall()],
        r#"{"actor":"somebody","comment":"roll it back"}"#,
    );
    assert_eq!(code, 202, "{body}");
    let case = wait_case(&addr, "REC-0003", "recovered");
    let gate = case["trace"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"] == "approve_rollback")
        .cloned()
        .unwrap();
    assert_eq!(gate["result"], "approved");
    assert_eq!(gate["detail"], "by oncall (roll it back) → rollback");
    assert_eq!(
        http(
            &addr,
            "POST",
            "/api/recoveries/REC-0003/reject",
            &[oncall()],
            "{}"
        )
        .0,
        409
    );

    let (code, metrics) = http(&addr, "GET", "/metrics", &[], "");
    assert_eq!(code, 200);
    for want in [
        "ccp_recovery_cases_total{category=\"application\",severity=\"medium\"} 1\n",
        "ccp_recovery_cases_total{category=\"configuration\",severity=\"high\"} 1\n",
        "ccp_recovery_cases_total{category=\"timing\",severity=\"medium\"} 1\n",
        "ccp_recovery_outcomes_total{outcome=\"recovered\"} 2\n",
        "ccp_recovery_outcomes_total{outcome=\"escalated\"} 1\n",
        "ccp_recovery_awaiting_approval 0\n",
        // Six authenticated deliveries (three of them replays that opened nothing).
        "ccp_ci_events_total{provider=\"github\",kind=\"pipeline_failed\"} 6\n",
    ] {
        assert!(metrics.contains(want), "missing {want:?} in\n{metrics}");
    }

    // Every step is in the recovery audit chain, which verifies.
    let audit = state_dir.join("recovery-audit.jsonl");
    let out = Command::new(env!("CARGO_BIN_EXE_ccp"))
        .args(["audit", "verify"])
        .arg(&audit)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let records = ccp_audit::read_records(&audit).unwrap();
    let kinds = |k: &str| records.iter().filter(|r| r.kind == k).count();
    assert_eq!(kinds("recovery_opened"), 3);
    assert_eq!(kinds("recovery_finished"), 3);
}
