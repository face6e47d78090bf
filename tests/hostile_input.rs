//! Hostile input, property-tested: every parser that reads something an outsider controls —
//! configuration, decision trees and their expressions, stack traces, RCA bundles, canary
//! samples and sample files, Alertmanager and CI/CD webhook payloads, the audit log, the fleet
//! file — must answer garbage with a value or a clear error,
//! never a panic, and what it returns must still make sense (confidences in [0,1], p-values in
//! [0,1], a bad signature refused).
//!
//! CI runs proptest's default 256 cases per property. Long runs:
//! `PROPTEST_CASES=200000 cargo test --release --test hostile_input` (documented in README).
//! Fuzzing with cargo-fuzz needs a nightly toolchain, which CI does not have; these properties
//! cover the same entry points with structure-aware generators.

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use ccp_config::{GitlabWebhook, SignedWebhook, WebhookSecret, WebhooksConfig};
use ccp_core::rca::{rank, RcaBundle};
use ccp_core::stats::judge::{judge, Direction, JudgeConfig};
use ccp_webhooks::alertmanager::{parse_webhook, to_alert, LabelMapping};
use ccp_webhooks::{Provider, Receiver};
use proptest::prelude::*;

/// Strings assembled from the pieces a format is made of: far more likely than random bytes to
/// get past the first check and into the interesting parts of a parser.
fn tokens(pieces: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => prop::sample::select(pieces).prop_map(str::to_string),
            1 => "[0-9]{1,6}",
            1 => any::<String>(),
        ],
        0..48,
    )
    .prop_map(|v| v.concat())
}

const YAML: &[&str] = &[
    "detection:\n",
    "  enabled: ",
    "true",
    "false",
    "gates:\n",
    "  max_error_budget_pct: ",
    "locks:\n",
    "  backend: ",
    "redis",
    "local",
    "  ttl_ms: ",
    "-1",
    "1e309",
    "0x10",
    "\n",
    ": ",
    "- ",
    "  ",
    "\t",
    "[",
    "]",
    "{",
    "}",
    "\"",
    "'",
    "#",
    "&a ",
    "*a",
    "!!str ",
    "${HOME}",
    "${X:-",
    "${",
    "}",
    "webhooks:\n",
    "  github:\n",
    "    secret: ",
    "notifications:\n",
    "environment: ",
    "production",
    "approval:\n",
    "  timeout_s: ",
    "~",
    "null",
    "---\n",
    "...\n",
    "canary:\n",
    "  max_error_rate: ",
    "deploy:\n",
    "  steps: [10, 50, 100]\n",
    "audit:\n",
];

const TRACE: &[&str] = &[
    "Traceback (most recent call last):\n",
    "  File \"",
    "/srv/app/x.py",
    "\", line ",
    ", in ",
    "main\n",
    "    x.strip()\n",
    "AttributeError: 'NoneType' object has no attribute 'strip'\n",
    "goroutine 1 [running]:\n",
    "panic: runtime error: invalid memory address\n",
    "main.main()\n",
    "\t/app/main.go:",
    " +0x1d\n",
    "Exception in thread \"main\" java.lang.NullPointerException\n",
    "\tat com.acme.Pay.charge(Pay.java:",
    ")\n",
    "Caused by: ",
    "thread 'main' panicked at ",
    "src/main.rs:",
    ":5:\n",
    "    at Object.<anonymous> (/app/index.js:",
    ":7)\n",
    "TypeError: ",
    "During handling of the above exception, another exception occurred:\n",
    "\n",
    "^^^^\n",
];

const JSON: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "\"alerts\"",
    "\"status\"",
    "\"firing\"",
    "\"resolved\"",
    "\"labels\"",
    "\"annotations\"",
    "\"startsAt\"",
    "\"2026-01-01T00:00:00Z\"",
    "\"version\"",
    "\"4\"",
    "\"fingerprint\"",
    "\"service\"",
    "\"workflow_run\"",
    "\"conclusion\"",
    "\"failure\"",
    "\"object_kind\"",
    "\"pipeline\"",
    "\"build\"",
    "\"phase\"",
    "\"FINALIZED\"",
    "\"resource\"",
    "\"result\"",
    "\"failed\"",
    "\"workflow\"",
    "\"type\"",
    "null",
    "true",
    "1e999",
    "-0",
    "\"\\u0000\"",
    "\"\\ud800\"",
];

fn headers(pairs: &[(&str, String)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        if let (Ok(k), Ok(v)) = (HeaderName::try_from(*k), HeaderValue::from_str(v)) {
            h.insert(k, v);
        }
    }
    h
}

fn webhooks() -> WebhooksConfig {
    WebhooksConfig {
        max_body_bytes: 1 << 20,
        github: Some(WebhookSecret {
            secret: "gh".into(),
        }),
        gitlab: Some(GitlabWebhook { token: "gl".into() }),
        jenkins: Some(SignedWebhook {
            secret: "jk".into(),
            header: None,
        }),
        azure: Some(WebhookSecret {
            secret: "az".into(),
        }),
        circleci: Some(WebhookSecret {
            secret: "cc".into(),
        }),
        generic: Some(SignedWebhook {
            secret: "gen".into(),
            header: Some("X-Sig".into()),
        }),
    }
}

/// Event headers each provider's parser reads, so random bodies reach the body parsers.
fn event_headers(p: Provider) -> Vec<(&'static str, String)> {
    match p {
        Provider::Github => vec![("X-GitHub-Event", "workflow_run".into())],
        Provider::Gitlab => vec![("X-Gitlab-Event", "Pipeline Hook".into())],
        Provider::Circleci => vec![("circleci-event-type", "workflow-completed".into())],
        _ => Vec::new(),
    }
}

const PROVIDERS: [Provider; 6] = [
    Provider::Github,
    Provider::Gitlab,
    Provider::Jenkins,
    Provider::Azure,
    Provider::Circleci,
    Provider::Generic,
];

fn finite() -> impl Strategy<Value = f64> {
    prop_oneof![
        -1e6..1e6f64,
        Just(0.0),
        Just(1e300),
        Just(-1e300),
        Just(f64::MIN_POSITIVE)
    ]
}

fn any_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        8 => finite(),
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
    ]
}

const NAMES: &[&str] = &["api", "db", "pay", "queue", "cache", "web", ""];

fn bundle() -> impl Strategy<Value = RcaBundle> {
    let name = prop::sample::select(NAMES).prop_map(str::to_string);
    let series = || {
        prop::collection::vec((0i64..4000, finite()), 0..20).prop_map(|v| {
            v.into_iter()
                .map(|(t, x)| (1_700_000_000.0 + t as f64 - 2000.0, x))
                .collect::<Vec<(f64, f64)>>()
        })
    };
    (
        prop::collection::vec((name.clone(), 0.0..1.0f64), 0..7),
        prop::collection::vec((name.clone(), name.clone()), 0..14),
        prop::collection::vec((name.clone(), series(), series()), 0..7),
        prop::collection::vec((name, -100_000i64..100_000, 0u64..5000), 0..5),
    )
        .prop_map(|(services, edges, metrics, deploys)| {
            let json = serde_json::json!({
                "incident_start": 1_700_000_000i64,
                "services": services.iter().map(|(n, c)| serde_json::json!({"name": n, "criticality": c})).collect::<Vec<_>>(),
                "edges": edges.iter().map(|(a, b)| serde_json::json!({"from": a, "to": b})).collect::<Vec<_>>(),
                "metrics": metrics.iter().map(|(n, e, l)| (n.clone(), serde_json::json!({"error_rate": e, "latency_p99_ms": l}))).collect::<serde_json::Map<_, _>>(),
                "deploys": deploys.iter().map(|(n, dt, lines)| serde_json::json!({"service": n, "at": 1_700_000_000i64 + dt, "commit": "abc1234", "files": ["src/x.py"], "lines_changed": lines})).collect::<Vec<_>>(),
            });
            serde_json::from_value(json).expect("the generator writes the bundle format")
        })
}

/// Pieces of decision trees and their `if:` expressions.
const TREE: &[&str] = &[
    "name: t\n",
    "priority: 1\n",
    "match:\n  categories: [network]\n",
    "start: c\n",
    "nodes:\n",
    "  c:\n",
    "    type: condition\n",
    "    type: escalate\n",
    "    type: action\n",
    "    if: '",
    "'\n",
    "    then: done\n",
    "    else: c\n",
    "  done:\n",
    "    to: oncall\n",
    "    reason: x\n",
    "attempt < 3",
    " && ",
    " || ",
    "!",
    "(",
    ")",
    "category == \"network\"",
    "1e999",
    "[",
    "{",
    "\n",
];

/// Pieces of `ccp judge` sample files.
const SAMPLES: &[&str] = &[
    "{\"metrics\": {",
    "\"latency_ms\": [",
    "\"error_rate\": [",
    "1.5, ",
    "-0, ",
    "1e308, ",
    "NaN",
    "]",
    "}",
    ", \"config\": {\"latency_ms\": {\"direction\": \"decrease_is_bad\", \"weight\": ",
    "1e300",
    "0",
    "\"tolerance\": -1",
    "}}",
    "[",
    "{",
];

proptest! {
    #[test]
    fn decision_trees_never_panic(text in tokens(TREE)) {
        if let Err(e) = ccp_cicd_recovery::tree::Tree::from_str(&text, "tree.yaml") {
            prop_assert!(e.to_string().starts_with("tree.yaml:"), "{e}");
        }
    }

    #[test]
    fn expressions_never_panic(text in tokens(TREE)) {
        let _ = ccp_cicd_recovery::expr::parse(&text);
    }

    #[test]
    fn sample_files_never_panic(b in tokens(SAMPLES), c in tokens(SAMPLES)) {
        let parse = |t: &str| serde_json::from_str::<ccp_core::stats::SampleFile>(t);
        if let (Ok(b), Ok(c)) = (parse(&b), parse(&c)) {
            if let Ok(j) = ccp_core::stats::judge_files(&b, &c, &JudgeConfig::default()) {
                prop_assert!((0.0..=100.0).contains(&j.score), "score {}", j.score);
            }
        }
    }

    #[test]
    fn nesting_of_any_depth_is_answered_quickly(depth in 0usize..5_000, open in "[\\[{]") {
        let close = if open == "[" { "]" } else { "}" };
        let text = format!("detection: {}{}", open.repeat(depth), close.repeat(depth));
        let r = ccp_config::load_str(&text, "deep.yaml", &|_| None);
        if depth > ccp_config::MAX_FLOW_DEPTH {
            let e = r.expect_err("too deep").to_string();
            prop_assert!(e.contains("nested more than"), "{e}");
        }
    }
}

proptest! {
    #[test]
    fn config_text_never_panics(text in tokens(YAML)) {
        if let Err(e) = ccp_config::load_str(&text, "fuzz.yaml", &|_| None) {
            let msg = e.to_string();
            prop_assert!(msg.starts_with("fuzz.yaml:"), "error without a position: {msg}");
        }
    }

    #[test]
    fn stack_traces_never_panic(text in tokens(TRACE)) {
        if let Ok(t) = ccp_core::localize::parse_trace(&text) {
            for f in &t.frames {
                prop_assert!(!f.file.is_empty());
            }
            let _ = ccp_core::localize::likely_culprit(&t);
        }
    }

    #[test]
    fn rca_bundle_text_never_panics(text in tokens(JSON)) {
        if let Ok(b) = serde_json::from_str::<RcaBundle>(&text) {
            let _ = rank(&b);
        }
    }

    #[test]
    fn rca_ranks_any_bundle_with_calibrated_confidence(b in bundle()) {
        let r = rank(&b);
        for w in r.candidates.windows(2) {
            prop_assert!(w[0].confidence >= w[1].confidence, "not sorted best first");
        }
        for c in &r.candidates {
            prop_assert!(c.confidence.is_finite() && (0.0..=1.0).contains(&c.confidence), "{c:?}");
        }
    }

    #[test]
    fn canary_samples_never_panic(
        base in prop::collection::vec(any_f64(), 0..40),
        canary in prop::collection::vec(any_f64(), 0..40),
        dir in prop::sample::select(&[Direction::IncreaseIsBad, Direction::DecreaseIsBad, Direction::Both][..]),
    ) {
        let cfg = JudgeConfig { bootstrap_resamples: 50, ..JudgeConfig::default() };
        let j = judge(&[("m".to_string(), base, canary, dir)], &cfg);
        prop_assert!(j.score.is_finite() && (0.0..=100.0).contains(&j.score));
        for m in &j.metrics {
            for p in [m.p_value, m.welch_p].into_iter().flatten() {
                prop_assert!((0.0..=1.0).contains(&p), "p-value {p} out of range");
            }
        }
    }

    #[test]
    fn alertmanager_payloads_never_panic(text in tokens(JSON)) {
        if let Ok(p) = parse_webhook(text.as_bytes()) {
            let map = LabelMapping { service_label: "service".into(), known_services: ["api".to_string()].into_iter().collect() };
            for a in &p.alerts {
                let _ = to_alert(a, &map, 0);
            }
        }
    }

    #[test]
    fn alertmanager_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_webhook(&bytes);
    }

    #[test]
    fn ci_payloads_never_panic(text in tokens(JSON), which in 0usize..6) {
        let p = PROVIDERS[which];
        let r = Receiver::from_config(p, &webhooks()).expect("configured");
        let _ = r.parse(&headers(&event_headers(p)), text.as_bytes());
    }

    #[test]
    fn forged_signatures_are_refused(
        text in tokens(JSON),
        sig in "[a-zA-Z0-9=+/]{0,80}",
        which in 0usize..6,
    ) {
        let p = PROVIDERS[which];
        let r = Receiver::from_config(p, &webhooks()).expect("configured");
        let mut h = event_headers(p);
        for name in ["X-Hub-Signature-256", "X-Gitlab-Token", "X-Jenkins-Signature", "Authorization", "circleci-signature", "X-Sig"] {
            h.push((name, sig.clone()));
        }
        let got = r.receive(&headers(&h), text.as_bytes());
        prop_assert!(matches!(&got, Err(e) if e.is_unauthorized()), "{p:?} accepted a forged signature: {got:?}");
    }

    #[test]
    fn audit_logs_of_any_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = ccp_audit::verify_lines(std::io::Cursor::new(bytes));
    }

    #[test]
    fn fleet_files_never_panic(text in tokens(YAML)) {
        let _ = ccp_adapters::embedded::fleet_spec::FleetSpec::parse(&text, "fleet.yaml");
    }
}
