//! Each provider's published sample (tests/fixtures/webhooks) parses into the expected event, and
//! each authentication scheme accepts the right credential and refuses the wrong ones.

use super::*;
use ccp_config::{GitlabWebhook, SignedWebhook, WebhookSecret};
use http::{HeaderName, HeaderValue};

macro_rules! fixture {
    ($name:literal) => {
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/webhooks/",
            $name
        ))
        .as_slice()
    };
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    h
}

fn config() -> WebhooksConfig {
    WebhooksConfig {
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
        ..WebhooksConfig::default()
    }
}

fn receiver(p: Provider) -> Receiver {
    Receiver::from_config(p, &config()).unwrap()
}

fn parse(p: Provider, event_headers: &[(&str, &str)], body: &[u8]) -> CiEvent {
    receiver(p).parse(&headers(event_headers), body).unwrap()
}

// ------------------------------------------------------------------ authentication

#[test]
fn github_example_signature_from_the_docs() {
    let cfg = WebhooksConfig {
        github: Some(WebhookSecret {
            secret: "It's a Secret to Everybody".into(),
        }),
        ..WebhooksConfig::default()
    };
    let r = Receiver::from_config(Provider::Github, &cfg).unwrap();
    let good = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    let sig = |s: &str| headers(&[("X-Hub-Signature-256", s)]);
    assert_eq!(r.authenticate(&sig(good), b"Hello, World!"), Ok(()));
    // One byte changed in the body, then in the signature.
    assert_eq!(
        r.authenticate(&sig(good), b"Hello, World?"),
        Err(WebhookError::Mismatch("X-Hub-Signature-256".into()))
    );
    let tampered = good.replace("757107", "757108");
    assert_eq!(
        r.authenticate(&sig(&tampered), b"Hello, World!"),
        Err(WebhookError::Mismatch("X-Hub-Signature-256".into()))
    );
    // GitHub always sends the prefix; a bare digest is malformed, not merely wrong.
    let bare = &good["sha256=".len()..];
    assert!(matches!(
        r.authenticate(&sig(bare), b"Hello, World!"),
        Err(WebhookError::MalformedCredential { .. })
    ));
    assert_eq!(
        r.authenticate(&HeaderMap::new(), b"Hello, World!"),
        Err(WebhookError::MissingCredential(
            "X-Hub-Signature-256".into()
        ))
    );
}

#[test]
fn every_scheme_accepts_its_credential_and_nothing_else() {
    let body = br#"{"object_kind":"x"}"#;
    let sign = |secret: &str| sign_sha256_hex(secret.as_bytes(), body);
    // user:az-secret and user:wrong
    let basic_good = "Basic dXNlcjphei1zZWNyZXQ=";
    let basic_bad = "Basic dXNlcjp3cm9uZw==";
    type Headers<'a> = Vec<(&'a str, String)>;
    let cases: Vec<(Provider, Headers, Headers)> = vec![
        (
            Provider::Github,
            vec![(
                "X-Hub-Signature-256",
                format!("sha256={}", sign("gh-secret")),
            )],
            vec![(
                "X-Hub-Signature-256",
                format!("sha256={}", sign("gh-secreT")),
            )],
        ),
        (
            Provider::Gitlab,
            vec![("X-Gitlab-Token", "gl-token".into())],
            vec![("X-Gitlab-Token", "gl-token2".into())],
        ),
        (
            Provider::Jenkins,
            vec![(
                "X-Jenkins-Signature",
                format!("sha256={}", sign("jk-secret")),
            )],
            vec![("X-Jenkins-Signature", sign("gh-secret"))],
        ),
        (
            Provider::Azure,
            vec![("Authorization", basic_good.into())],
            vec![("Authorization", basic_bad.into())],
        ),
        (
            Provider::Circleci,
            vec![(
                "circleci-signature",
                format!("v1={},v2=ignored", sign("cc-secret")),
            )],
            vec![("circleci-signature", format!("v1={}", sign("gh-secret")))],
        ),
        (
            Provider::Generic,
            vec![("X-Build-Signature", sign("gen-secret"))],
            vec![("X-Signature-256", sign("gen-secret"))],
        ),
    ];
    for (p, good, bad) in cases {
        let r = receiver(p);
        let h = |pairs: &[(&str, String)]| {
            let v: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            headers(&v)
        };
        assert_eq!(r.authenticate(&h(&good), body), Ok(()), "{p}");
        let refused = r.authenticate(&h(&bad), body).unwrap_err();
        assert!(refused.is_unauthorized(), "{p}: {refused}");
        let missing = r.authenticate(&HeaderMap::new(), body).unwrap_err();
        assert!(
            matches!(missing, WebhookError::MissingCredential(_)),
            "{p}: {missing}"
        );
    }
}

#[test]
fn circleci_only_trusts_v1() {
    let r = receiver(Provider::Circleci);
    let body = b"{}";
    let good = sign_sha256_hex(b"cc-secret", body);
    let h = headers(&[("circleci-signature", &format!("v0={good}"))]);
    assert!(matches!(
        r.authenticate(&h, body),
        Err(WebhookError::MalformedCredential { .. })
    ));
}

#[test]
fn missing_empty_or_odd_configuration_is_reported() {
    let empty = WebhooksConfig::default();
    for p in Provider::ALL {
        let e = Receiver::from_config(p, &empty).unwrap_err();
        assert_eq!(e, NotConfigured::Absent(p.name()));
        assert!(e.to_string().contains(&format!("webhooks.{}", p.name())));
    }
    let cfg = WebhooksConfig {
        gitlab: Some(GitlabWebhook {
            token: String::new(),
        }),
        generic: Some(SignedWebhook {
            secret: "x".into(),
            header: Some("Bad Header".into()),
        }),
        ..WebhooksConfig::default()
    };
    assert_eq!(
        Receiver::from_config(Provider::Gitlab, &cfg).unwrap_err(),
        NotConfigured::EmptySecret("gitlab", "token")
    );
    assert!(matches!(
        Receiver::from_config(Provider::Generic, &cfg).unwrap_err(),
        NotConfigured::BadHeader("generic", _)
    ));
}

#[test]
fn debug_output_hides_the_secret() {
    let shown = format!("{:?}", receiver(Provider::Github));
    assert!(!shown.contains("gh-secret"), "{shown}");
}

// ------------------------------------------------------------------ parsing

#[test]
fn github_workflow_run_failure() {
    let e = parse(
        Provider::Github,
        &[
            ("X-GitHub-Event", "workflow_run"),
            ("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
        ],
        fixture!("github_workflow_run_failed.json"),
    );
    assert_eq!(e.kind, CiEventKind::PipelineFailed);
    assert_eq!(e.project, "octo-org/octo-repo");
    assert_eq!(e.git_ref.as_deref(), Some("master"));
    assert_eq!(
        e.commit.as_deref(),
        Some("3484a3fb816e0859fd6e1cea078d76385ff50625")
    );
    assert_eq!(e.run_id.as_deref(), Some("289782451"));
    assert_eq!(
        e.url.as_deref(),
        Some("https://github.com/octo-org/octo-repo/actions/runs/289782451")
    );
    assert_eq!(e.status, "failure");
    assert_eq!(
        e.delivery_id.as_deref(),
        Some("72d3162e-cc78-11e3-81ab-4c9367dc0958")
    );
    assert_eq!(
        e.summary,
        "GitHub workflow `test` failure: octo-org/octo-repo @ master (3484a3fb)"
    );
}

#[test]
fn github_unfinished_or_green_runs_are_not_failures() {
    let body = String::from_utf8(fixture!("github_workflow_run_failed.json").to_vec()).unwrap();
    let green = body.replace(r#""conclusion": "failure""#, r#""conclusion": "success""#);
    let e = parse(
        Provider::Github,
        &[("X-GitHub-Event", "workflow_run")],
        green.as_bytes(),
    );
    assert_eq!(e.kind, CiEventKind::PipelineSucceeded);
    let running = body
        .replace(r#""action": "completed""#, r#""action": "in_progress""#)
        .replace(r#""conclusion": "failure""#, r#""conclusion": null"#);
    let e = parse(
        Provider::Github,
        &[("X-GitHub-Event", "workflow_run")],
        running.as_bytes(),
    );
    assert_eq!(
        (e.kind, e.status.as_str()),
        (CiEventKind::Other, "completed")
    );
}

#[test]
fn github_deployment_status_failure() {
    let e = parse(
        Provider::Github,
        &[("X-GitHub-Event", "deployment_status")],
        fixture!("github_deployment_status_failed.json"),
    );
    assert_eq!(e.kind, CiEventKind::DeploymentFailed);
    assert_eq!(e.project, "Codertocat/Hello-World");
    assert_eq!(e.environment.as_deref(), Some("production"));
    assert_eq!(e.git_ref.as_deref(), Some("master"));
    assert_eq!(
        e.commit.as_deref(),
        Some("f95f852bd8fca8fcc58a9a2d6c842781e32a215e")
    );
    assert_eq!(e.run_id.as_deref(), Some("145988746"));
    assert_eq!(e.url, None, "an empty target_url is no link");
}

#[test]
fn github_check_run_names_the_failed_check() {
    let body = br#"{"action":"completed","repository":{"full_name":"o/r"},
        "check_run":{"id":4,"name":"clippy","head_sha":"abc1234","status":"completed",
        "conclusion":"timed_out","html_url":"https://github.com/o/r/runs/4",
        "check_suite":{"head_branch":"feature/x"}}}"#;
    let e = parse(Provider::Github, &[("X-GitHub-Event", "check_run")], body);
    assert_eq!(e.kind, CiEventKind::PipelineFailed);
    assert_eq!(e.failed_jobs, ["clippy"]);
    assert_eq!(e.git_ref.as_deref(), Some("feature/x"));
}

#[test]
fn github_other_events_are_accepted_as_other() {
    let e = parse(
        Provider::Github,
        &[("X-GitHub-Event", "ping")],
        br#"{"zen":"Keep it logically awesome.","hook_id":1}"#,
    );
    assert_eq!((e.kind, e.project.as_str()), (CiEventKind::Other, ""));
}

#[test]
fn gitlab_pipeline_failure_names_failed_jobs_and_stage() {
    let e = parse(
        Provider::Gitlab,
        &[("X-Gitlab-Event", "Pipeline Hook")],
        fixture!("gitlab_pipeline_failed.json"),
    );
    assert_eq!(e.kind, CiEventKind::PipelineFailed);
    assert_eq!(e.event, "Pipeline Hook");
    assert_eq!(e.project, "gitlab-org/gitlab-test");
    assert_eq!(e.git_ref.as_deref(), Some("master"));
    assert_eq!(
        e.commit.as_deref(),
        Some("bcbb5ec396a2c0f828686f14fac9b80b780504f2")
    );
    assert_eq!(e.run_id.as_deref(), Some("31"));
    assert_eq!(e.failed_jobs, ["test-build"]);
    assert_eq!(e.failed_stage.as_deref(), Some("test"));
    assert_eq!(
        e.url.as_deref(),
        Some("http://example.com/gitlab-org/gitlab-test/-/pipelines/31")
    );
}

#[test]
fn gitlab_allowed_failures_do_not_count() {
    let body = String::from_utf8(fixture!("gitlab_job_failed.json").to_vec()).unwrap();
    let allowed = body.replace(
        r#""build_allow_failure": false"#,
        r#""build_allow_failure": true"#,
    );
    let e = parse(
        Provider::Gitlab,
        &[("X-Gitlab-Event", "Job Hook")],
        allowed.as_bytes(),
    );
    assert_eq!(e.kind, CiEventKind::Other);
}

#[test]
fn gitlab_job_failure() {
    let e = parse(
        Provider::Gitlab,
        &[
            ("X-Gitlab-Event", "Job Hook"),
            (
                "X-Gitlab-Event-UUID",
                "13792a34-cac6-4fda-95a8-c58e00a3954e",
            ),
        ],
        fixture!("gitlab_job_failed.json"),
    );
    assert_eq!(e.kind, CiEventKind::PipelineFailed);
    assert_eq!(e.project, "gitlab-org/gitlab-test");
    assert_eq!(e.git_ref.as_deref(), Some("gitlab-script-trigger"));
    assert_eq!(
        e.commit.as_deref(),
        Some("2293ada6b400935a1378653304eaf6221e0fdb8f")
    );
    assert_eq!(e.run_id.as_deref(), Some("2366"));
    assert_eq!(e.failed_jobs, ["test"]);
    assert_eq!(e.failed_stage.as_deref(), Some("test"));
    assert_eq!(
        e.url.as_deref(),
        Some("http://192.168.64.1:3005/gitlab-org/gitlab-test/-/jobs/1977")
    );
    assert!(e.delivery_id.is_some());
}

#[test]
fn gitlab_deployment_failure() {
    let e = parse(
        Provider::Gitlab,
        &[("X-Gitlab-Event", "Deployment Hook")],
        fixture!("gitlab_deployment_failed.json"),
    );
    assert_eq!(e.kind, CiEventKind::DeploymentFailed);
    assert_eq!(e.project, "root/test-deployment-webhooks");
    assert_eq!(e.environment.as_deref(), Some("staging"));
    assert_eq!(
        e.commit.as_deref(),
        Some("279484c09fbe69ededfced8c1bb6e6d24616b468")
    );
    assert_eq!(e.run_id.as_deref(), Some("15"));
}

#[test]
fn jenkins_failed_build() {
    let e = parse(
        Provider::Jenkins,
        &[],
        fixture!("jenkins_notification_failed.json"),
    );
    assert_eq!(e.kind, CiEventKind::PipelineFailed);
    assert_eq!(e.project, "shop-api");
    assert_eq!(e.git_ref.as_deref(), Some("main"));
    assert_eq!(
        e.commit.as_deref(),
        Some("9fceb02d0ae598e95dc970b74767f19372d61af8")
    );
    assert_eq!(e.run_id.as_deref(), Some("57"));
    assert_eq!(e.event, "build COMPLETED");
    assert_eq!(
        e.url.as_deref(),
        Some("https://jenkins.example.com/job/shop-api/57/")
    );
    let body = String::from_utf8(fixture!("jenkins_notification_failed.json").to_vec()).unwrap();
    let started = body
        .replace(r#""phase": "COMPLETED""#, r#""phase": "STARTED""#)
        .replace(r#""status": "FAILURE","#, "");
    let e = parse(Provider::Jenkins, &[], started.as_bytes());
    assert_eq!((e.kind, e.status.as_str()), (CiEventKind::Other, "STARTED"));
}

/// Jenkins signs nothing that names a delivery: one build reported as COMPLETED and again as
/// FINALIZED, or a captured body replayed, is one event; the next build is another.
#[test]
fn the_same_build_is_one_event_however_often_it_is_delivered() {
    let body = String::from_utf8(fixture!("jenkins_notification_failed.json").to_vec()).unwrap();
    let completed = parse(Provider::Jenkins, &[], body.as_bytes());
    let finalized = parse(
        Provider::Jenkins,
        &[],
        body.replace(r#""phase": "COMPLETED""#, r#""phase": "FINALIZED""#)
            .as_bytes(),
    );
    assert_eq!(completed.replay_key(), finalized.replay_key());
    let next = parse(
        Provider::Jenkins,
        &[],
        body.replace(r#""number": 57"#, r#""number": 58"#)
            .as_bytes(),
    );
    assert_ne!(completed.replay_key(), next.replay_key());
}

#[test]
fn azure_build_complete_failure() {
    let e = parse(
        Provider::Azure,
        &[],
        fixture!("azure_build_complete_failed.json"),
    );
    assert_eq!(e.kind, CiEventKind::PipelineFailed);
    assert_eq!(e.project, "ConsumerAddressModule");
    assert_eq!(e.git_ref.as_deref(), Some("master"));
    assert_eq!(
        e.commit.as_deref(),
        Some("600c52d2d5b655caa111abfd863e5a9bd304bb0e")
    );
    assert_eq!(e.run_id.as_deref(), Some("2"));
    assert_eq!(
        e.delivery_id.as_deref(),
        Some("4a5d99d6-1c75-4e53-91b9-ee80057d4ce3")
    );
    assert_eq!(
        e.summary,
        "Azure DevOps ConsumerAddressModule: Build ConsumerAddressModule_20150407.2 failed"
    );
}

#[test]
fn azure_release_rejected_is_a_failed_deployment() {
    let e = parse(
        Provider::Azure,
        &[],
        fixture!("azure_release_deployment_rejected.json"),
    );
    assert_eq!(e.kind, CiEventKind::DeploymentFailed);
    assert_eq!(e.project, "Fabrikam");
    assert_eq!(e.environment.as_deref(), Some("Dev"));
    assert_eq!(e.run_id.as_deref(), Some("1"));
}

#[test]
fn azure_failed_job_names_job_and_stage() {
    let e = parse(
        Provider::Azure,
        &[],
        fixture!("azure_job_state_changed_failed.json"),
    );
    assert_eq!(e.kind, CiEventKind::PipelineFailed);
    assert_eq!(e.project, "TEST-CI");
    assert_eq!(e.failed_jobs, ["Compile"]);
    assert_eq!(e.failed_stage.as_deref(), Some("Build"));
    assert_eq!(e.run_id.as_deref(), Some("2"));
}

#[test]
fn circleci_failed_workflow() {
    let e = parse(
        Provider::Circleci,
        &[("circleci-event-type", "workflow-completed")],
        fixture!("circleci_workflow_completed_failed.json"),
    );
    assert_eq!(e.kind, CiEventKind::PipelineFailed);
    assert_eq!(e.project, "hello-world");
    assert_eq!(e.git_ref.as_deref(), Some("main"));
    assert_eq!(
        e.commit.as_deref(),
        Some("850a1519f25d14e968649cc420d1bd381715c05c")
    );
    assert_eq!(e.run_id.as_deref(), Some("1"));
    assert_eq!(
        e.delivery_id.as_deref(),
        Some("cbabbb40-6084-4f91-8311-a326c0f4963a")
    );
}

#[test]
fn circleci_failed_job() {
    let e = parse(
        Provider::Circleci,
        &[],
        fixture!("circleci_job_completed_failed.json"),
    );
    assert_eq!(e.kind, CiEventKind::PipelineFailed);
    assert_eq!(e.project, "webhook-service");
    assert_eq!(e.failed_jobs, ["test"]);
    assert_eq!(e.git_ref.as_deref(), Some("main"));
    assert_eq!(
        e.commit.as_deref(),
        Some("1dc6aa69429bff4806ad6afe58d3d8f57e25973e")
    );
    assert_eq!(e.run_id.as_deref(), Some("130"));
}

#[test]
fn generic_deployment_failure() {
    let e = parse(
        Provider::Generic,
        &[],
        fixture!("generic_deployment_failed.json"),
    );
    assert_eq!(e.kind, CiEventKind::DeploymentFailed);
    assert_eq!(e.project, "shop/api");
    assert_eq!(e.git_ref.as_deref(), Some("main"));
    assert_eq!(e.environment.as_deref(), Some("production"));
    assert_eq!(e.failed_jobs, ["smoke-tests"]);
    assert_eq!(e.failed_stage.as_deref(), Some("verify"));
    assert_eq!(e.event, "deploy-finished");
}

#[test]
fn bodies_that_are_not_the_providers_payload_are_malformed() {
    type Case<'a> = (Provider, &'a [(&'a str, &'a str)], &'a [u8]);
    let cases: &[Case] = &[
        (
            Provider::Github,
            &[("X-GitHub-Event", "workflow_run")],
            b"{not json",
        ),
        (
            Provider::Github,
            &[("X-GitHub-Event", "workflow_run")],
            b"[1,2]",
        ),
        (Provider::Github, &[], br#"{"action":"completed"}"#),
        (
            Provider::Github,
            &[("X-GitHub-Event", "workflow_run")],
            br#"{"action":"completed","workflow_run":{"conclusion":"failure"}}"#,
        ),
        (Provider::Gitlab, &[], br#"{"object_attributes":{}}"#),
        (
            Provider::Gitlab,
            &[],
            br#"{"object_kind":"pipeline","object_attributes":{"status":"failed"}}"#,
        ),
        (
            Provider::Jenkins,
            &[],
            br#"{"build":{"phase":"COMPLETED"}}"#,
        ),
        (Provider::Azure, &[], br#"{"resource":{}}"#),
        (
            Provider::Circleci,
            &[],
            br#"{"type":"workflow-completed","workflow":{"status":"failed"}}"#,
        ),
        (Provider::Generic, &[], br#"{"status":"failed"}"#),
        (
            Provider::Generic,
            &[],
            br#"{"status":"failed","project":"p","kind":"release"}"#,
        ),
        (
            Provider::Generic,
            &[],
            br#"{"status":"failed","project":"p","failed_jobs":"a"}"#,
        ),
    ];
    for (p, h, body) in cases {
        let e = receiver(*p).parse(&headers(h), body).unwrap_err();
        assert!(
            !e.is_unauthorized(),
            "{p} {}: {e}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn form_encoded_github_deliveries_say_how_to_fix_the_hook() {
    let e = receiver(Provider::Github)
        .parse(
            &headers(&[("X-GitHub-Event", "ping")]),
            b"payload=%7B%22zen%22%3A%22x%22%7D",
        )
        .unwrap_err();
    assert!(e.to_string().contains("application/json"), "{e}");
}

#[test]
fn events_serialise_for_the_api() {
    let e = parse(
        Provider::Generic,
        &[],
        fixture!("generic_deployment_failed.json"),
    );
    let v = serde_json::to_value(&e).unwrap();
    assert_eq!(v["provider"], "generic");
    assert_eq!(v["kind"], "deployment_failed");
    assert_eq!(v["ref"], "main");
}
