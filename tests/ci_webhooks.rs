//! The CI/CD receivers over real HTTP: a correctly signed delivery from each provider reaches the
//! sink exactly once; unsigned, wrongly signed, wrong-token, malformed, oversized and unconfigured
//! deliveries are refused (401 / 400 / 413 / 404) and the sink never hears of them.

use ccp_config::{GitlabWebhook, SignedWebhook, WebhookSecret, WebhooksConfig};
use ccp_http::ci_hooks;
use ccp_http::HttpServer;
use ccp_webhooks::{sign_sha256_hex, CiEvent, CiEventKind, Provider};
use common::http::Reply;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

mod common;

const MAX_BODY: usize = 16 * 1024;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/webhooks/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn post(addr: SocketAddr, path: &str, headers: &[(&str, String)], body: &[u8]) -> Reply {
    common::http::request(addr, "POST", path, headers, body)
}

fn config() -> WebhooksConfig {
    WebhooksConfig {
        max_body_bytes: MAX_BODY,
        github: Some(WebhookSecret {
            secret: "gh-secret".into(),
        }),
        gitlab: Some(GitlabWebhook {
            token: "gl-token".into(),
        }),
        jenkins: Some(SignedWebhook {
            secret: "jk-secret".into(),
            header: None,
        }),
        azure: Some(WebhookSecret {
            secret: "az-secret".into(),
        }),
        circleci: Some(WebhookSecret {
            secret: "cc-secret".into(),
        }),
        generic: Some(SignedWebhook {
            secret: "gen-secret".into(),
            header: Some("X-Build-Signature".into()),
        }),
    }
}

type Seen = Arc<Mutex<Vec<CiEvent>>>;

fn start(cfg: &WebhooksConfig) -> (HttpServer, Seen) {
    let seen: Seen = Arc::new(Mutex::new(Vec::new()));
    let sink = {
        let seen = seen.clone();
        Arc::new(move |e: CiEvent| seen.lock().unwrap().push(e))
    };
    let server = HttpServer::start("127.0.0.1:0", ci_hooks::router(cfg, sink)).unwrap();
    (server, seen)
}

type Headers = Vec<(&'static str, String)>;

/// How each provider authenticates `body`, correctly and with the wrong secret.
fn credentials(p: Provider, body: &[u8]) -> (Headers, Headers) {
    let sign = |secret: &str| sign_sha256_hex(secret.as_bytes(), body);
    match p {
        Provider::Github => (
            vec![
                ("X-GitHub-Event", "workflow_run".into()),
                (
                    "X-Hub-Signature-256",
                    format!("sha256={}", sign("gh-secret")),
                ),
            ],
            vec![
                ("X-GitHub-Event", "workflow_run".into()),
                ("X-Hub-Signature-256", format!("sha256={}", sign("not-it"))),
            ],
        ),
        Provider::Gitlab => (
            vec![
                ("X-Gitlab-Event", "Pipeline Hook".into()),
                ("X-Gitlab-Token", "gl-token".into()),
            ],
            vec![
                ("X-Gitlab-Event", "Pipeline Hook".into()),
                ("X-Gitlab-Token", "gl-tokem".into()),
            ],
        ),
        Provider::Jenkins => (
            vec![(
                "X-Jenkins-Signature",
                format!("sha256={}", sign("jk-secret")),
            )],
            vec![("X-Jenkins-Signature", format!("sha256={}", sign("not-it")))],
        ),
        Provider::Azure => (
            // "ado:az-secret" / "ado:az-secreT"
            vec![("Authorization", "Basic YWRvOmF6LXNlY3JldA==".into())],
            vec![("Authorization", "Basic YWRvOmF6LXNlY3JlVA==".into())],
        ),
        Provider::Circleci => (
            vec![
                ("circleci-event-type", "workflow-completed".into()),
                ("circleci-signature", format!("v1={}", sign("cc-secret"))),
            ],
            vec![
                ("circleci-event-type", "workflow-completed".into()),
                ("circleci-signature", format!("v1={}", sign("not-it"))),
            ],
        ),
        Provider::Generic => (
            vec![("X-Build-Signature", sign("gen-secret"))],
            vec![("X-Build-Signature", sign("not-it"))],
        ),
    }
}

/// The event headers alone (no credential), for the unsigned case.
fn unsigned(p: Provider, body: &[u8]) -> Headers {
    let (good, _) = credentials(p, body);
    good.into_iter()
        .filter(|(k, _)| k.ends_with("-Event") || *k == "circleci-event-type")
        .collect()
}

fn sample(p: Provider) -> (Vec<u8>, CiEventKind, &'static str) {
    match p {
        Provider::Github => (
            fixture("github_workflow_run_failed.json"),
            CiEventKind::PipelineFailed,
            "octo-org/octo-repo",
        ),
        Provider::Gitlab => (
            fixture("gitlab_pipeline_failed.json"),
            CiEventKind::PipelineFailed,
            "gitlab-org/gitlab-test",
        ),
        Provider::Jenkins => (
            fixture("jenkins_notification_failed.json"),
            CiEventKind::PipelineFailed,
            "shop-api",
        ),
        Provider::Azure => (
            fixture("azure_build_complete_failed.json"),
            CiEventKind::PipelineFailed,
            "ConsumerAddressModule",
        ),
        Provider::Circleci => (
            fixture("circleci_workflow_completed_failed.json"),
            CiEventKind::PipelineFailed,
            "hello-world",
        ),
        Provider::Generic => (
            fixture("generic_deployment_failed.json"),
            CiEventKind::DeploymentFailed,
            "shop/api",
        ),
    }
}

#[test]
fn each_provider_accepts_signed_deliveries_and_refuses_the_rest() {
    let (server, seen) = start(&config());
    let addr = server.addr();
    for p in Provider::ALL {
        let path = format!("/webhooks/{}", p.name());
        let (body, kind, project) = sample(p);
        let (good, bad) = credentials(p, &body);

        // Refusals first: none of them may reach the sink.
        let r = post(addr, &path, &unsigned(p, &body), &body);
        assert_eq!(r.status, 401, "{p} unsigned: {}", r.body);
        let r = post(addr, &path, &bad, &body);
        assert_eq!(r.status, 401, "{p} wrong secret: {}", r.body);
        assert!(r.body.contains("does not match"), "{p}: {}", r.body);
        // The right credential for a different body (tampered in transit); Azure's password does
        // not cover the body, so only the HMAC providers can tell.
        let mut tampered = body.clone();
        if let Some(b) = tampered.iter_mut().find(|b| **b == b'f') {
            *b = b'F';
        }
        assert_ne!(tampered, body, "{p}: nothing to tamper with");
        if p != Provider::Gitlab && p != Provider::Azure {
            let r = post(addr, &path, &good, &tampered);
            assert_eq!(r.status, 401, "{p} tampered body: {}", r.body);
        }
        assert!(
            seen.lock().unwrap().is_empty(),
            "{p}: a refusal reached the sink"
        );

        // Accepted: exactly one event, and a receipt saying what was understood.
        let r = post(addr, &path, &good, &body);
        assert_eq!(r.status, 200, "{p}: {}", r.body);
        let receipt: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(receipt["accepted"], true);
        assert_eq!(receipt["provider"], p.name());
        assert_eq!(receipt["project"], project);
        let mut got = std::mem::take(&mut *seen.lock().unwrap());
        assert_eq!(got.len(), 1, "{p}: {got:?}");
        let event = got.remove(0);
        assert_eq!(
            (event.provider, event.kind, event.project.as_str()),
            (p, kind, project)
        );
    }
}

#[test]
fn azure_refusals_ask_for_basic_credentials() {
    let (server, _seen) = start(&config());
    let (body, _, _) = sample(Provider::Azure);
    let r = post(server.addr(), "/webhooks/azure", &[], &body);
    assert_eq!(r.status, 401);
    assert!(
        r.head
            .to_ascii_lowercase()
            .contains("www-authenticate: basic realm=\"ccp\""),
        "{}",
        r.head
    );
}

#[test]
fn malformed_bodies_with_valid_signatures_are_400() {
    let (server, seen) = start(&config());
    let addr = server.addr();
    let not_json = b"{\"action\": \"completed\", ";
    let sig = |b: &[u8]| format!("sha256={}", sign_sha256_hex(b"gh-secret", b));
    let r = post(
        addr,
        "/webhooks/github",
        &[
            ("X-GitHub-Event", "workflow_run".into()),
            ("X-Hub-Signature-256", sig(not_json)),
        ],
        not_json,
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("invalid JSON"), "{}", r.body);

    // Valid JSON, but a workflow_run without its run.
    let hollow = br#"{"action":"completed","repository":{"full_name":"o/r"}}"#;
    let r = post(
        addr,
        "/webhooks/github",
        &[
            ("X-GitHub-Event", "workflow_run".into()),
            ("X-Hub-Signature-256", sig(hollow)),
        ],
        hollow,
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("workflow_run"), "{}", r.body);

    // GitLab: right token, body is not a GitLab event.
    let r = post(
        addr,
        "/webhooks/gitlab",
        &[("X-Gitlab-Token", "gl-token".into())],
        b"[]",
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(seen.lock().unwrap().is_empty());
}

#[test]
fn oversized_bodies_are_413_even_when_signed() {
    let (server, seen) = start(&config());
    let (body, _, _) = sample(Provider::Generic);
    let mut big = body.clone();
    big.extend(vec![b' '; MAX_BODY]);
    let (good, _) = credentials(Provider::Generic, &big);
    let r = post(server.addr(), "/webhooks/generic", &good, &big);
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(seen.lock().unwrap().is_empty());
}

#[test]
fn unconfigured_providers_are_404_with_the_key_to_set() {
    let cfg = WebhooksConfig {
        github: Some(WebhookSecret {
            secret: "gh-secret".into(),
        }),
        jenkins: Some(SignedWebhook {
            secret: String::new(),
            header: None,
        }),
        ..WebhooksConfig::default()
    };
    let (server, seen) = start(&cfg);
    for p in [
        Provider::Gitlab,
        Provider::Azure,
        Provider::Circleci,
        Provider::Generic,
    ] {
        let (body, _, _) = sample(p);
        let (good, _) = credentials(p, &body);
        let r = post(
            server.addr(),
            &format!("/webhooks/{}", p.name()),
            &good,
            &body,
        );
        assert_eq!(r.status, 404, "{p}: {}", r.body);
        assert!(
            r.body.contains(&format!("webhooks.{}", p.name())),
            "{p}: {}",
            r.body
        );
    }
    let r = post(server.addr(), "/webhooks/jenkins", &[], b"{}");
    assert_eq!(r.status, 404);
    assert!(
        r.body.contains("webhooks.jenkins.secret is empty"),
        "{}",
        r.body
    );
    assert!(seen.lock().unwrap().is_empty());
}

#[test]
fn signature_header_and_secret_come_from_the_yaml() {
    let yaml = "webhooks:\n  max_body_bytes: 4096\n  jenkins:\n    secret: \"${JK}\"\n    header: X-Hook-Sig\n";
    let env = |name: &str| (name == "JK").then(|| "from-env".to_string());
    let cfg = ccp_config::load_str(yaml, "ccp.yaml", &env).unwrap();
    let (server, seen) = start(&cfg.webhooks);
    let body = fixture("jenkins_notification_failed.json");
    let sig = sign_sha256_hex(b"from-env", &body);
    // The default header no longer counts once another is configured.
    let r = post(
        server.addr(),
        "/webhooks/jenkins",
        &[("X-Jenkins-Signature", sig.clone())],
        &body,
    );
    assert_eq!(r.status, 401, "{}", r.body);
    let r = post(
        server.addr(),
        "/webhooks/jenkins",
        &[("X-Hook-Sig", sig)],
        &body,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(seen.lock().unwrap().len(), 1);
}
