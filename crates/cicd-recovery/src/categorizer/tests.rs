//! Table tests: one realistic failure per category through the embedded rules, with the expected
//! category, severity and the evidence that decided it; ambiguity lowers confidence; user files
//! extend, replace and disable defaults; bad rule files are refused with file:line:col.

use super::*;
use crate::case::FailureInput;

fn input(logs: &[&str], metadata: &[(&str, &str)]) -> FailureInput {
    let mut i = FailureInput::default();
    for l in logs {
        i.push_log(l);
    }
    for (k, v) in metadata {
        i.fact(k, *v);
    }
    i
}

struct Case {
    name: &'static str,
    logs: &'static [&'static str],
    metadata: &'static [(&'static str, &'static str)],
    category: Category,
    severity: Severity,
    /// (rule, source) of the winner's first evidence.
    evidence: (&'static str, &'static str),
}

const TABLE: &[Case] = &[
    Case {
        name: "node not ready",
        logs: &[
            "Warning  FailedScheduling  default-scheduler  0/3 nodes are available: 3 node(s) had untolerated taint",
            "node ip-10-0-3-17 status is now: NodeNotReady",
        ],
        metadata: &[],
        category: Category::Infrastructure,
        severity: Severity::High,
        evidence: ("node-not-ready", "log:1"),
    },
    Case {
        name: "missing variable",
        logs: &[
            "Starting api v2.3.1",
            "Error: environment variable DATABASE_URL is not set",
        ],
        metadata: &[],
        category: Category::Configuration,
        severity: Severity::Medium,
        evidence: ("missing-variable", "log:2"),
    },
    Case {
        name: "image pull",
        logs: &[
            "Failed to pull image \"registry.example.com/shop/api:9fceb02\": manifest unknown",
            "Back-off pulling image: ImagePullBackOff",
        ],
        metadata: &[("kind", "deployment_failed")],
        category: Category::Dependency,
        severity: Severity::High,
        evidence: ("image-pull", "log:1"),
    },
    Case {
        name: "oom killed",
        logs: &["Last State: Terminated  Reason: OOMKilled"],
        metadata: &[("exit_code", "137")],
        category: Category::Resource,
        severity: Severity::High,
        evidence: ("out-of-memory", "log:1"),
    },
    Case {
        name: "python crash",
        logs: &[
            "Traceback (most recent call last):",
            "  File \"/app/pay.py\", line 42, in charge",
            "AttributeError: 'NoneType' object has no attribute 'amount'",
        ],
        metadata: &[],
        category: Category::Application,
        severity: Severity::High,
        evidence: ("crash", "log:1"),
    },
    Case {
        name: "migration",
        logs: &[
            "Running migration 0042_add_invoice_index",
            "ERROR: migration 0042 failed: relation \"invoices\" does not exist",
        ],
        metadata: &[],
        category: Category::Data,
        severity: Severity::High,
        evidence: ("migration", "log:2"),
    },
    Case {
        name: "expired token",
        logs: &["Error from server (Forbidden): the service account token has expired"],
        metadata: &[],
        category: Category::Security,
        severity: Severity::High,
        evidence: ("access-denied", "log:1"),
    },
    Case {
        name: "dns",
        logs: &["curl: (6) Could not resolve host: payments.internal"],
        metadata: &[],
        category: Category::Network,
        severity: Severity::High,
        evidence: ("dns", "log:1"),
    },
    Case {
        name: "github timeout",
        logs: &["GitHub workflow `e2e` timed_out: shop/api @ main"],
        metadata: &[("conclusion", "timed_out")],
        category: Category::Timing,
        severity: Severity::Medium,
        evidence: ("timeout", "metadata.conclusion"),
    },
    Case {
        name: "wrong cluster",
        logs: &["helm upgrade --kube-context prod-eu: deployed to the wrong cluster, aborting"],
        metadata: &[],
        category: Category::HumanError,
        severity: Severity::Medium,
        evidence: ("manual-action", "log:1"),
    },
];

#[test]
fn every_category_has_a_realistic_sample_that_lands_on_it() {
    let c = Categorizer::embedded().unwrap();
    let mut seen = BTreeSet::new();
    for case in TABLE {
        let got = c.categorize(&input(case.logs, case.metadata));
        assert_eq!(got.category, case.category, "{}: {got:?}", case.name);
        assert_eq!(got.severity, case.severity, "{}: {got:?}", case.name);
        let first = &got.evidence[0];
        assert_eq!(
            (first.rule.as_str(), first.source.as_str()),
            case.evidence,
            "{}: {got:?}",
            case.name
        );
        assert_eq!(first.category, Some(case.category), "{}", case.name);
        assert!(got.confidence >= 0.9, "{}: {got:?}", case.name);
        seen.insert(case.category);
    }
    assert_eq!(seen.len(), 10, "one sample per category");
}

#[test]
fn evidence_quotes_the_matched_line() {
    let c = Categorizer::embedded().unwrap();
    let got = c.categorize(&input(
        &["ok", "curl: (6) Could not resolve host: payments.internal"],
        &[],
    ));
    assert_eq!(
        got.evidence,
        vec![Evidence {
            rule: "dns".into(),
            category: Some(Category::Network),
            source: "log:2".into(),
            text: "curl: (6) Could not resolve host: payments.internal".into(),
        }]
    );
    assert_eq!(got.confidence, 1.0);
}

#[test]
fn ambiguous_input_is_less_confident() {
    let c = Categorizer::embedded().unwrap();
    let clear = c.categorize(&input(&["dial tcp 10.0.0.7:5432: connection refused"], &[]));
    let both = c.categorize(&input(
        &[
            "dial tcp 10.0.0.7:5432: connection refused",
            "Last State: Terminated  Reason: OOMKilled",
        ],
        &[],
    ));
    assert_eq!(clear.confidence, 1.0);
    assert_eq!(both.confidence, 0.5, "{both:?}");
    assert_eq!(both.scores.len(), 2);
    // A lone weak hint is weak too.
    let weak = c.categorize(&input(&[], &[("failure_reason", "script_failure")]));
    assert_eq!(weak.category, Category::Application);
    assert_eq!(weak.confidence, 0.3);
}

#[test]
fn nothing_matched_is_a_zero_confidence_guess() {
    let got = Categorizer::embedded()
        .unwrap()
        .categorize(&input(&["all good"], &[]));
    assert_eq!(
        (got.category, got.severity, got.confidence),
        (Category::Application, Severity::Medium, 0.0)
    );
    assert!(got.evidence.is_empty());
}

#[test]
fn modifiers_raise_severity_without_voting() {
    let c = Categorizer::embedded().unwrap();
    let got = c.categorize(&input(
        &["Error: environment variable DATABASE_URL is not set"],
        &[("kind", "deployment_failed"), ("environment", "production")],
    ));
    assert_eq!(got.category, Category::Configuration);
    assert_eq!(got.severity, Severity::High);
    assert_eq!(got.evidence[1].rule, "production-deployment");
    assert_eq!(got.confidence, 1.0);
}

#[test]
fn a_user_file_adds_replaces_and_disables_rules() {
    let mut c = Categorizer::embedded().unwrap();
    let user = "\
rules:
  feature-flag-service:
    category: dependency
    severity: low
    logs: ['flagd: unavailable']
  dns:
    category: network
    severity: critical
    logs: ['(?i)NXDOMAIN']
disable: [race]
";
    c.extend_from_str(user, "mine.yaml", true).unwrap();
    let got = c.categorize(&input(&["flagd: unavailable (attempt 3)"], &[]));
    assert_eq!(
        (got.category, got.severity),
        (Category::Dependency, Severity::Low)
    );
    // Replaced: the default's "could not resolve host" pattern is gone, the new one is critical.
    let old = c.categorize(&input(&["Could not resolve host: x"], &[]));
    assert_eq!(old.confidence, 0.0);
    let new = c.categorize(&input(&["lookup x: NXDOMAIN"], &[]));
    assert_eq!(
        (new.category, new.severity),
        (Category::Network, Severity::Critical)
    );
    assert!(!c.rule_ids().contains(&"race"));
}

#[test]
fn bad_rule_files_name_file_line_and_column() {
    let mut c = Categorizer::embedded().unwrap();
    let bad_regex = "rules:\n  mine:\n    category: network\n    logs: ['(unclosed']\n";
    let e = c
        .extend_from_str(bad_regex, "mine.yaml", true)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("mine.yaml:4:5: rule `mine`: bad regex `(unclosed`: "),
        "{e}"
    );
    let bad_category = "rules:\n  mine:\n    category: netwrok\n    logs: ['x']\n";
    let e = c
        .extend_from_str(bad_category, "mine.yaml", true)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("mine.yaml:3:15: "), "{e}");
    assert!(e.contains("netwrok"), "{e}");
    let no_matcher = "rules:\n  mine:\n    category: data\n";
    assert_eq!(
        c.extend_from_str(no_matcher, "mine.yaml", true)
            .unwrap_err()
            .to_string(),
        "mine.yaml:2:3: rule `mine` matches nothing: give it `logs` or `metadata` patterns"
    );
    let unknown = "disable: [nope]\n";
    assert_eq!(
        c.extend_from_str(unknown, "mine.yaml", true)
            .unwrap_err()
            .to_string(),
        "mine.yaml:1:1: `disable` names `nope`, which is not a loaded rule"
    );
}
