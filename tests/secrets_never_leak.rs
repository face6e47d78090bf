//! Six secrets set through `${VAR}`, a served desk that uses every one of them (an operator's
//! token, a CI webhook secret, Slack's URL, PagerDuty's routing key, the SMTP password, the
//! outbound webhook's signing key) and fails with most (every notifier points at a closed
//! port, a webhook arrives with a bad signature, a request with a wrong token): no secret may
//! appear in anything the run wrote or answered.

mod common;

use common::serve::Served;
use std::process::Stdio;
use std::time::{Duration, Instant};

const SECRETS: [(&str, &str); 6] = [
    ("OPS_TOKEN", "tok-7f3a9c1e55d2b8a4"),
    ("GH_SECRET", "ghsec-c04e1d9b7a6f"),
    (
        "SLACK_URL",
        "http://127.0.0.1:9/services/T0/B0/slacksecret4d8e2f",
    ),
    ("PD_KEY", "pdkey-91b3e7c2a0d5"),
    ("SMTP_PW", "smtp-pw-5e1c8b3f"),
    ("HOOK_SECRET", "hooksec-a2d9f4e17b"),
];

fn config() -> String {
    "environment: production\n\
     auth:\n  operators:\n    - { name: alice, roles: [approver], token: \"${OPS_TOKEN}\" }\n\
     webhooks:\n  github: { secret: \"${GH_SECRET}\" }\n\
     notifications:\n\
     \x20 slack: { webhook_url: \"${SLACK_URL}\" }\n\
     \x20 pagerduty: { routing_key: \"${PD_KEY}\", api_url: \"http://127.0.0.1:9/v2/enqueue\" }\n\
     \x20 email: { smtp_host: \"127.0.0.1\", smtp_port: 9, from: \"ccp@example.com\", to: [\"oncall@example.com\"], starttls: true, username: ccp, password: \"${SMTP_PW}\" }\n\
     \x20 webhook: { url: \"http://127.0.0.1:9/ccp\", secret: \"${HOOK_SECRET}\" }\n"
        .to_string()
}

#[test]
fn no_secret_appears_in_any_output_of_a_run() {
    if !common::python_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let mut served = Served::start_env(
        dir.path(),
        &config(),
        "instant",
        Stdio::piped(),
        "127.0.0.1:0",
        &SECRETS,
    );
    let addr = served.addr.clone();
    let mut answers = Vec::new();
    let mut ask =
        |method: &str, path: &str, token: Option<&str>, extra: &[(&str, String)], body: &str| {
            let mut headers: Vec<(&str, String)> =
                vec![("Content-Type", "application/json".into())];
            if let Some(t) = token {
                headers.push(("Authorization", format!("Bearer {t}")));
            }
            headers.extend(extra.iter().cloned());
            let r = common::http::request(&addr, method, path, &headers, body.as_bytes());
            answers.push(format!("{method} {path} -> {} {}", r.status, r.body));
            r
        };
    // The pipeline opens an incident and pauses for approval; every notifier tries and fails.
    let deadline = Instant::now() + Duration::from_secs(60);
    let incident = loop {
        let r = ask("GET", "/api/incidents", Some(SECRETS[0].1), &[], "");
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_default();
        let waiting = v["incidents"].as_array().and_then(|a| {
            a.iter()
                .find(|i| i["state"] == "PAUSED_FOR_HUMAN_REVIEW")
                .and_then(|i| i["id"].as_str().map(str::to_string))
        });
        if let Some(id) = waiting {
            break id;
        }
        assert!(
            Instant::now() < deadline,
            "no incident paused for approval: {}",
            r.body
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(
        ask("GET", "/api/whoami", Some("not-the-token"), &[], "").status,
        401
    );
    let wrong = format!("{}x", SECRETS[0].1);
    let path = format!("/api/incidents/{incident}/approve");
    assert_eq!(ask("POST", &path, Some(&wrong), &[], "{}").status, 401);
    let bad_sig = [
        ("X-GitHub-Event", "workflow_run".to_string()),
        ("X-Hub-Signature-256", "sha256=00".to_string()),
    ];
    let r = ask(
        "POST",
        "/webhooks/github",
        None,
        &bad_sig,
        r#"{"action":"completed"}"#,
    );
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(
        ask(
            "POST",
            &path,
            Some(SECRETS[0].1),
            &[],
            r#"{"comment":"ok"}"#
        )
        .status,
        202
    );
    for p in ["/api/state", "/metrics", "/api/whoami"] {
        ask("GET", p, Some(SECRETS[0].1), &[], "");
    }
    // Let the notifiers retry and give up, then stop.
    std::thread::sleep(Duration::from_secs(3));
    served.stop(Duration::from_secs(30));
    let mut outputs = vec![("stderr".to_string(), served.stderr_text())];
    if let Some(mut out) = served.child.stdout.take() {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut out, &mut s);
        outputs.push(("stdout".into(), s));
    }
    outputs.push(("HTTP answers".into(), answers.join("\n")));
    for entry in std::fs::read_dir(dir.path().join("state"))
        .expect("state dir")
        .flatten()
    {
        if let Ok(text) = std::fs::read_to_string(entry.path()) {
            outputs.push((entry.path().display().to_string(), text));
        }
    }
    let log = outputs
        .iter()
        .find(|(n, _)| n.ends_with("ccp.log"))
        .map(|(_, t)| t.clone());
    let log = log.expect("serve writes ccp.log");
    assert!(
        log.contains("slack") || log.contains("Slack"),
        "the notifiers ran and failed, so the test saw their errors: {log}"
    );
    for (var, secret) in SECRETS {
        for (name, text) in &outputs {
            assert!(!text.contains(secret), "{var}'s value appears in {name}");
        }
    }
    // The Slack URL's secret part alone must not leak either (a redacted URL keeps its host).
    for (name, text) in &outputs {
        assert!(
            !text.contains("slacksecret4d8e2f"),
            "Slack's path appears in {name}"
        );
    }
}
