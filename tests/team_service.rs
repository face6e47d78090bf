//! `ccp serve` as a team's desk: two incidents at once on demo/team-fleet.yaml, operators with
//! bearer tokens and roles, the two-person rule, alerts joining an incident in flight, the event
//! stream resumed without gap or duplicate, and an unanswered request that expires.
//!
//! Needs python3 (the fleet runs the demo's real Python code), like the other end-to-end tests.

mod common;

use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

fn sha(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn team_config(extra: &str) -> String {
    format!(
        "environment: production\nmetrics:\n  fleet: \"{fleet}\"\nauth:\n  two_person_rule: critical\n{extra}  operators:\n    - {{ name: alice, roles: [approver], token_sha256: \"{a}\" }}\n    - {{ name: bob, roles: [approver], token_sha256: \"{b}\" }}\n    - {{ name: oscar, roles: [operator], token_sha256: \"{o}\", services: [catalog-service] }}\n    - {{ name: vera, roles: [viewer], token_sha256: \"{v}\" }}\n",
        fleet = common::demo_dir().join("team-fleet.yaml").display(),
        a = sha("alice-token"),
        b = sha("bob-token"),
        o = sha("oscar-token"),
        v = sha("vera-token"),
    )
}

/// `METHOD path` with an optional bearer token and a JSON body.
fn call(addr: &str, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, Value) {
    let mut headers = vec![("Content-Type", "application/json".to_string())];
    if let Some(t) = token {
        headers.push(("Authorization", format!("Bearer {t}")));
    }
    let r = common::http::request(addr, method, path, &headers, body.as_bytes());
    (
        r.status,
        serde_json::from_str(&r.body).unwrap_or(Value::String(r.body)),
    )
}

/// The pipeline events `ccp serve` prints on stdout, one JSON object per line.
fn stdout_events(child: &mut std::process::Child) -> Receiver<Value> {
    let out = child.stdout.take().expect("stdout piped");
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                if tx.send(v).is_err() {
                    return;
                }
            }
        }
    });
    rx
}

/// Read `/api/events` until the event with id `until` arrived: `(id, event)` pairs.
fn sse_until(addr: &str, token: &str, last_event_id: Option<u64>, until: u64) -> Vec<(u64, Value)> {
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let resume = last_event_id
        .map(|id| format!("Last-Event-ID: {id}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "GET /api/events HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\n{resume}\r\n"
    )
    .expect("send");
    let mut r = BufReader::new(s);
    let mut out = Vec::new();
    let mut id = None;
    let mut line = String::new();
    while out.last().is_none_or(|(i, _)| *i < until) {
        line.clear();
        match r.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        // Chunked transfer: size lines are hex alone; SSE fields start with a name and a colon.
        let l = line.trim_end();
        if let Some(v) = l.strip_prefix("id: ").or_else(|| l.strip_prefix("id:")) {
            id = v.trim().parse::<u64>().ok();
        } else if let Some(d) = l.strip_prefix("data: ").or_else(|| l.strip_prefix("data:")) {
            if let (Some(i), Ok(v)) = (id.take(), serde_json::from_str::<Value>(d)) {
                out.push((i, v));
            }
        }
    }
    out
}

/// Per incident: service, whether it asked for approval, how it finished.
#[derive(Default, Debug)]
struct Seen {
    service: String,
    asked: bool,
    asked_at: usize,
    finished: Option<String>,
    finished_at: usize,
}

#[test]
fn a_team_desk_runs_two_incidents_at_once_with_identities_and_the_two_person_rule() {
    if !common::python_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let mut served =
        common::serve::Served::start(dir.path(), &team_config(""), "fast", Stdio::piped());
    let addr = served.addr.clone();
    let events = stdout_events(&mut served.child);

    // Reads need a token once operators are configured; a viewer's is enough.
    assert_eq!(call(&addr, "GET", "/api/state", None, "").0, 401);
    assert_eq!(call(&addr, "GET", "/api/events", None, "").0, 401);
    let (code, me) = call(&addr, "GET", "/api/whoami", Some("vera-token"), "");
    assert_eq!(
        (code, me["name"].as_str(), me["role"].as_str()),
        (200, Some("vera"), Some("viewer"))
    );

    let mut seen: BTreeMap<String, Seen> = BTreeMap::new();
    let mut n = 0usize;
    let mut catalog_answered = false;
    let mut joined_checked = false;
    let deadline = Instant::now() + Duration::from_secs(300);
    let id_of = |seen: &BTreeMap<String, Seen>, svc: &str| {
        seen.iter()
            .find(|(_, s)| s.service == svc)
            .map(|(id, _)| id.clone())
    };
    loop {
        assert!(Instant::now() < deadline, "the desk stalled: {seen:?}");
        let Ok(ev) = events.recv_timeout(Duration::from_secs(60)) else {
            panic!("no event for 60 s: {seen:?}")
        };
        n += 1;
        let inc = ev["incident"].as_str().unwrap_or("").to_string();
        let entry = seen.entry(inc.clone()).or_default();
        match ev["type"].as_str() {
            Some("incident_opened") => {
                entry.service = ev["service"].as_str().unwrap_or("").to_string();
            }
            Some("awaiting_approval") => {
                entry.asked = true;
                entry.asked_at = n;
                assert_eq!(ev["approvals_required"], 2, "CRITICAL needs two: {ev}");
                assert!(ev["expires_at"].is_string(), "{ev}");
            }
            Some("finished") => {
                entry.finished = ev["outcome"].as_str().map(str::to_string);
                entry.finished_at = n;
            }
            _ => {}
        }
        let services: Vec<&str> = seen.values().map(|s| s.service.as_str()).collect();
        assert!(
            !services.iter().any(|s| [
                "api",
                "gateway",
                "user-service",
                "order-service",
                "web-frontend"
            ]
            .contains(s)),
            "a caller's alert opened its own incident instead of joining: {seen:?}"
        );

        // catalog-service: answer its request (if it asks) with every refusal first.
        if let Some(cat) = id_of(&seen, "catalog-service") {
            let s = &seen[&cat];
            if s.asked && !catalog_answered {
                catalog_answered = true;
                let path = format!("/api/incidents/{cat}/approve");
                assert_eq!(call(&addr, "POST", &path, None, "{}").0, 401);
                assert_eq!(call(&addr, "POST", &path, Some("not-a-token"), "{}").0, 401);
                let (code, why) = call(&addr, "POST", &path, Some("vera-token"), "{}");
                assert_eq!(code, 403, "{why}");
                assert_eq!(
                    call(&addr, "POST", &path, Some("oscar-token"), "{}").0,
                    403,
                    "an operator cannot approve"
                );
                let (code, why) = call(
                    &addr,
                    "POST",
                    &path,
                    Some("alice-token"),
                    r#"{"comment":"null check is right"}"#,
                );
                assert_eq!(code, 202, "{why}");
                let (code, why) = call(&addr, "POST", &path, Some("alice-token"), "{}");
                assert_eq!(code, 409, "the same person twice: {why}");
                // The first approval shows as soon as the pipeline has recorded it.
                let wait = Instant::now() + Duration::from_secs(20);
                let one = loop {
                    let (_, one) = call(
                        &addr,
                        "GET",
                        &format!("/api/incidents/{cat}"),
                        Some("vera-token"),
                        "",
                    );
                    if one["incident"]["approved_by"] == serde_json::json!(["alice"]) {
                        break one;
                    }
                    assert!(
                        Instant::now() < wait,
                        "alice's approval never showed: {}",
                        one["incident"]
                    );
                    std::thread::sleep(Duration::from_millis(100));
                };
                assert_eq!(one["incident"]["approvals_required"], 2);
                // The actor is the token's identity; the body's is ignored.
                let (code, why) = call(
                    &addr,
                    "POST",
                    &path,
                    Some("bob-token"),
                    r#"{"actor":"mallory","comment":"second"}"#,
                );
                assert_eq!(code, 202, "{why}");
            }
        }
        let Some(cat) = id_of(&seen, "catalog-service") else {
            continue;
        };
        let Some(pay) = id_of(&seen, "payment-service") else {
            continue;
        };
        // Alerts on a service in flight join its incident (checked once both run).
        if !joined_checked && seen[&pay].asked {
            joined_checked = true;
            let am = r#"{"version":"4","status":"firing","receiver":"ccp","alerts":[{"status":"firing","labels":{"alertname":"HighLatency","service":"payment-service","severity":"critical"},"annotations":{"value":"1900","threshold":"500"},"startsAt":"2026-12-07T10:00:00Z","endsAt":"0001-01-01T00:00:00Z","fingerprint":"team-1"}]}"#;
            let r = common::http::request(
                &addr,
                "POST",
                "/webhooks/alertmanager",
                &[("Content-Type", "application/json".into())],
                am.as_bytes(),
            );
            assert_eq!(r.status, 200, "{}", r.body);
            let wait = Instant::now() + Duration::from_secs(30);
            loop {
                let (_, st) = call(&addr, "GET", "/api/state", Some("vera-token"), "");
                let joined = st["running"]
                    .as_array()
                    .and_then(|r| r.iter().find(|x| x["service"] == "payment-service"))
                    .map(|x| x["joined"].to_string())
                    .unwrap_or_default();
                if joined.contains("HighLatency on payment-service") {
                    assert_eq!(st["incidents"].as_array().map(Vec::len), Some(2), "{st}");
                    break;
                }
                assert!(Instant::now() < wait, "the alert did not join: {st}");
                std::thread::sleep(Duration::from_millis(200));
            }
        }
        if seen[&cat].finished.is_some() && seen[&pay].asked && seen[&pay].finished.is_none() {
            break;
        }
    }
    let cat = id_of(&seen, "catalog-service").unwrap_or_default();
    let pay = id_of(&seen, "payment-service").unwrap_or_default();
    assert_eq!(seen[&cat].finished.as_deref(), Some("resolved"), "{seen:?}");
    // Concurrent: payment-service was already waiting when catalog-service finished, and still is.
    assert!(seen[&pay].asked_at < seen[&cat].finished_at, "{seen:?}");
    let (_, one) = call(
        &addr,
        "GET",
        &format!("/api/incidents/{pay}"),
        Some("vera-token"),
        "",
    );
    assert_eq!(one["incident"]["state"], "PAUSED_FOR_HUMAN_REVIEW", "{one}");
    // Nothing waits on a finished incident.
    assert_eq!(
        call(
            &addr,
            "POST",
            &format!("/api/incidents/{cat}/approve"),
            Some("alice-token"),
            "{}"
        )
        .0,
        409
    );
    assert_eq!(
        call(
            &addr,
            "POST",
            "/api/incidents/INC-nope/approve",
            Some("alice-token"),
            "{}"
        )
        .0,
        404
    );

    // Two different approvers for the CRITICAL payment-service incident.
    let path = format!("/api/incidents/{pay}/approve");
    assert_eq!(call(&addr, "POST", &path, Some("bob-token"), "{}").0, 202);
    assert_eq!(
        call(
            &addr,
            "POST",
            &path,
            Some("alice-token"),
            r#"{"actor":"root"}"#
        )
        .0,
        202
    );
    let mut approvals: Vec<Value> = Vec::new();
    loop {
        let Ok(ev) = events.recv_timeout(Duration::from_secs(120)) else {
            panic!("payment-service did not finish")
        };
        if matches!(
            ev["type"].as_str(),
            Some("approval") | Some("approval_counted")
        ) {
            approvals.push(ev.clone());
        }
        if ev["type"] == "finished" && ev["incident"] == pay.as_str() {
            assert_eq!(ev["outcome"], "resolved", "{ev}");
            break;
        }
    }
    let who: Vec<(String, String)> = approvals
        .iter()
        .filter(|e| e["incident"] == pay.as_str())
        .map(|e| {
            (
                e["type"].as_str().unwrap_or("").to_string(),
                e["actor"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        who,
        vec![
            ("approval_counted".to_string(), "bob".to_string()),
            ("approval".to_string(), "alice".to_string())
        ]
    );
    let audit = std::fs::read_to_string(dir.path().join("state/audit.jsonl")).expect("audit");
    assert!(
        !audit.contains("mallory") && !audit.contains("\"root\""),
        "a forged actor reached the audit log"
    );
    // No token anywhere the service writes: audit log, its log file, its event stream.
    let log = std::fs::read_to_string(dir.path().join("state/ccp.log")).unwrap_or_default();
    assert!(
        log.contains("command delivered"),
        "the log file is the one written: {log}"
    );
    for t in [
        "alice-token",
        "bob-token",
        "vera-token",
        "oscar-token",
        "not-a-token",
    ] {
        assert!(!audit.contains(t), "a token reached the audit log");
        assert!(!log.contains(t), "a token reached the log file");
    }

    // The stream: every event once, numbered consecutively; a resume picks up exactly after its id.
    let (_, st) = call(&addr, "GET", "/api/state", Some("vera-token"), "");
    let latest = st["stream_latest"].as_u64().expect("stream_latest");
    let all = sse_until(&addr, "vera-token", None, latest);
    let ids: Vec<u64> = all.iter().map(|(i, _)| *i).collect();
    let first = ids.first().copied().unwrap_or(0);
    assert!(ids.len() > 20, "{ids:?}");
    assert_eq!(
        ids,
        (first..=latest).collect::<Vec<_>>(),
        "consecutive, once each"
    );
    let resumed = sse_until(&addr, "vera-token", Some(latest - 5), latest);
    assert_eq!(
        resumed.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
        ((latest - 4)..=latest).collect::<Vec<_>>()
    );
    assert_eq!(
        resumed[0].1,
        all[(latest - 4 - first) as usize].1,
        "the same event under the same id"
    );

    // The finished pipeline leaves the running set at the dispatcher's next tick.
    let wait = Instant::now() + Duration::from_secs(10);
    let metrics = loop {
        let r = common::http::request(&addr, "GET", "/metrics", &[], b"");
        assert_eq!(r.status, 200);
        if r.body.contains("ccp_incidents_running 0\n") || Instant::now() > wait {
            break r.body;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(metrics.contains("ccp_incidents_running 0\n"), "{metrics}");
    assert!(
        metrics.contains("ccp_incidents_max_concurrent 3\n"),
        "{metrics}"
    );
    assert!(
        !metrics.contains("ccp_alerts_joined_total 0\n"),
        "{metrics}"
    );
}

#[test]
fn an_unanswered_request_expires_and_escalates() {
    if !common::python_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = team_config("  approval_ttl_s: 2\n").replace(
        &format!("{}", common::demo_dir().join("team-fleet.yaml").display()),
        &format!("{}", common::demo_dir().join("fleet.yaml").display()),
    );
    let mut served = common::serve::Served::start(dir.path(), &cfg, "fast", Stdio::piped());
    let events = stdout_events(&mut served.child);
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        assert!(Instant::now() < deadline, "no expiry");
        let Ok(ev) = events.recv_timeout(Duration::from_secs(60)) else {
            panic!("no event for 60 s")
        };
        if ev["type"] == "finished" {
            assert_eq!(ev["outcome"], "escalated", "{ev}");
            assert_eq!(ev["cause"]["kind"], "approval_timeout", "{ev}");
            let reason = ev["reason"].as_str().unwrap_or("");
            assert!(
                reason.contains("expired") && reason.contains("nothing deployed"),
                "{reason}"
            );
            break;
        }
    }
}
