//! `ccp serve` as a process: it runs the embedded pipeline, answers `/healthz`, `/api/state` and
//! `/metrics` (checked with promtool when tests/run.sh provides it), takes approvals over HTTP,
//! and stops cleanly on SIGTERM.

use std::io::{BufRead, BufReader, Write};

mod common;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// SHA-256 of `oncall-token`, the approver's bearer token in these tests.
const ONCALL_SHA: &str = "d46538dc7de07d04913624720ec6ad07c7f42b1f0f8a00bff24261fd770620f4";

fn http(addr: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    http_with(addr, method, path, &[bearer()], body)
}

fn bearer() -> (&'static str, String) {
    ("Authorization", "Bearer oncall-token".to_string())
}

fn http_with(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &str,
) -> (u16, String) {
    let r = common::http::request(addr, method, path, headers, body.as_bytes());
    (r.status, r.body)
}

#[test]
fn serve_runs_the_pipeline_reports_it_and_takes_approvals_over_http() {
    if !common::python_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut served = common::serve::Served::start(
        dir.path(),
        &format!(
            "environment: production\nwebhooks:\n  github:\n    secret: \"s3cret\"\nauth:\n  two_person_rule: none\n  operators:\n    - {{ name: oncall, roles: [approver], token_sha256: \"{}\" }}\n",
            ONCALL_SHA
        ),
        "fast",
        Stdio::piped(),
    );
    let addr = served.addr.clone();
    let child = &mut served.child;
    assert_eq!(http(&addr, "GET", "/healthz", "").0, 200);

    // A signed GitHub delivery is recorded; an unsigned one is 401 and recorded nowhere.
    let body = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/webhooks/github_workflow_run_failed.json"
    ))
    .unwrap();
    let sig = format!(
        "sha256={}",
        ccp_webhooks::sign_sha256_hex(b"s3cret", body.as_bytes())
    );
    let event = ("X-GitHub-Event", "workflow_run".to_string());
    let (code, reply) = http_with(
        &addr,
        "POST",
        "/webhooks/github",
        std::slice::from_ref(&event),
        &body,
    );
    assert_eq!(code, 401, "{reply}");
    let (code, reply) = http_with(
        &addr,
        "POST",
        "/webhooks/github",
        &[event, ("X-Hub-Signature-256", sig)],
        &body,
    );
    assert_eq!(code, 200, "{reply}");
    let st: serde_json::Value =
        serde_json::from_str(&http(&addr, "GET", "/api/state", "").1).unwrap();
    assert_eq!(st["ci_events"].as_array().map(Vec::len), Some(1), "{st}");
    assert_eq!(st["ci_events"][0]["kind"], "pipeline_failed");

    // The demo pauses for a human (production, critical service): approve it over HTTP.
    let events = BufReader::new(child.stdout.take().unwrap());
    let mut incident = String::new();
    let mut outcome = String::new();
    let deadline = Instant::now() + Duration::from_secs(240);
    for l in events.lines() {
        let ev: serde_json::Value = serde_json::from_str(&l.unwrap()).unwrap();
        match ev["type"].as_str() {
            Some("awaiting_approval") => {
                incident = ev["incident"].as_str().unwrap().to_string();
                let (code, body) = http(&addr, "GET", "/api/state", "");
                assert_eq!(code, 200);
                let st: serde_json::Value = serde_json::from_str(&body).unwrap();
                let inc = &st["incidents"][0];
                assert_eq!(inc["id"], incident.as_str());
                assert_eq!(inc["state"], "PAUSED_FOR_HUMAN_REVIEW");
                assert!(inc["awaiting_approval"]
                    .as_array()
                    .is_some_and(|r| !r.is_empty()));
                assert_eq!(
                    http(&addr, "POST", "/api/incidents/INC-nope/approve", "{}").0,
                    404
                );
                let path = format!("/api/incidents/{incident}/approve");
                assert_eq!(http_with(&addr, "POST", &path, &[], "{}").0, 401);
                let (code, body) = http(
                    &addr,
                    "POST",
                    &path,
                    r#"{"actor":"someone-else","comment":"looks right"}"#,
                );
                assert_eq!(code, 202, "{body}");
            }
            Some("approval") => {
                assert_eq!(ev["actor"], "oncall");
                assert_eq!(ev["comment"], "looks right");
            }
            Some("finished") if ev["incident"] == incident.as_str() => {
                outcome = ev["outcome"].as_str().unwrap().to_string();
                break;
            }
            _ => {}
        }
        assert!(Instant::now() < deadline, "the run did not finish");
    }
    assert_eq!(outcome, "resolved");

    let (code, body) = http(&addr, "GET", "/api/state", "");
    assert_eq!(code, 200);
    let st: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(st["incidents"][0]["outcome"], "resolved");
    assert_eq!(
        st["kpis"]["incidents_opened"].as_u64().map(|n| n >= 1),
        Some(true)
    );

    let (code, metrics) = http(&addr, "GET", "/metrics", "");
    assert_eq!(code, 200);
    for want in [
        "ccp_incidents_finished_total{outcome=\"resolved\"} 1\n",
        "ccp_operations_paused_total 1\n",
        "ccp_incident_resolution_seconds_count 1\n",
        "ccp_hash_chain_valid 1\n",
        "ccp_active_locks 0\n",
        "ccp_ci_events_total{provider=\"github\",kind=\"pipeline_failed\"} 1\n",
    ] {
        assert!(metrics.contains(want), "missing {want:?} in\n{metrics}");
    }
    // Approved by a human, so not auto-resolved.
    assert!(
        metrics.contains("ccp_incidents_auto_resolved_total 0\n"),
        "{metrics}"
    );
    // The audit anchor is exported, so monitoring can keep a copy of it elsewhere.
    let hash = metrics
        .lines()
        .find_map(|l| l.strip_prefix("ccp_audit_last_hash_info{hash=\""))
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no anchor in\n{metrics}"))
        .to_string();
    assert_eq!(hash.len(), 64, "{hash}");
    assert!(metrics.contains("ccp_audit_records "), "{metrics}");
    if let Ok(promtool) = std::env::var("CCP_TEST_PROMTOOL") {
        let mut p = Command::new(promtool)
            .args(["check", "metrics"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        p.stdin
            .take()
            .unwrap()
            .write_all(metrics.as_bytes())
            .unwrap();
        let out = p.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "promtool: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // SIGTERM: the next pipeline (waiting for its approval or an alert) is aborted, exit 0.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("ccp serve did not stop within 60 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status:?}");
}

/// An idle service is quiet: with detection off and no alerts, the runs that find nothing leave
/// no record in the audit log and count no finished incident.
#[test]
fn an_idle_serve_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut served = common::serve::Served::start(
        dir.path(),
        "detection:\n  enabled: false\n",
        "instant",
        Stdio::null(),
    );
    // Long enough at instant pace for many empty runs (the issue saw 40 in 10 s).
    std::thread::sleep(Duration::from_secs(3));
    let (status, metrics) = http(&served.addr, "GET", "/metrics", "");
    assert_eq!(status, 200);
    assert!(
        metrics.contains("ccp_incidents_finished_total{outcome=\"failed\"} 0"),
        "{metrics}"
    );
    assert!(
        metrics.contains("ccp_incidents_opened_total 0"),
        "{metrics}"
    );
    served.stop(Duration::from_secs(10));
    let audit = std::fs::read_to_string(dir.path().join("state/audit.jsonl")).unwrap_or_default();
    assert!(
        !audit.contains("\"finished\""),
        "an idle service wrote finished records:\n{audit}"
    );
}

/// A web page cannot drive approvals: a cross-site or non-JSON command is refused before the
/// handler runs (403 / 415, where the handler says 404: without operators a loopback command is
/// taken as the local user's, and no incident INC-nope exists).
#[test]
fn cross_site_and_non_json_commands_are_refused_before_anything_runs() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let mut served = common::serve::Served::start(
        dir.path(),
        "detection:\n  enabled: false\n",
        "instant",
        Stdio::null(),
    );
    let raw = |headers: &str| {
        let mut s = std::net::TcpStream::connect(&served.addr).expect("connect");
        let body = "{}";
        write!(
            s,
            "POST /api/incidents/INC-nope/approve HTTP/1.1\r\nHost: {}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            served.addr,
            body.len()
        )
        .expect("send");
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out.split_whitespace()
            .nth(1)
            .and_then(|c| c.parse::<u16>().ok())
            .unwrap_or(0)
    };
    assert_eq!(raw("Content-Type: application/json\r\n"), 404);
    assert_eq!(
        raw("Content-Type: application/json\r\nOrigin: https://evil.example\r\n"),
        403
    );
    assert_eq!(raw("Content-Type: text/plain\r\n"), 415);
    assert_eq!(raw(""), 415);
    let same = format!(
        "Content-Type: application/json\r\nOrigin: http://{}\r\n",
        served.addr
    );
    assert_eq!(raw(&same), 404);
    served.stop(Duration::from_secs(10));
}
