use super::super::rank::rank;
use super::super::template::{FixInput, Refusal, SignalKind};
use super::fixtures::*;

fn names(r: &super::super::rank::Ranking) -> Vec<&str> {
    r.candidates
        .iter()
        .map(|c| c.patch.template.as_str())
        .collect()
}

#[test]
fn latency_on_an_http_get_puts_the_timeout_first() {
    let input =
        FixInput::new("fetch.py", PY_TIMEOUT, TIMEOUT_ERR.0, TIMEOUT_ERR.1, 7).expect("python");
    let ranking = rank(&input, SignalKind::Latency);
    assert_eq!(
        names(&ranking),
        ["timeout", "circuit_breaker", "retry", "error_handling"]
    );
    let top = &ranking.candidates[0];
    assert!(
        top.reasons.iter().any(|r| r.contains("latency")),
        "{:?}",
        top.reasons
    );
    assert!(ranking
        .candidates
        .windows(2)
        .all(|w| w[0].confidence >= w[1].confidence));
    let refused: Vec<&str> = ranking.refusals.iter().map(|r| r.template).collect();
    assert_eq!(refused, ["null_guard", "resource_leak"]);
    assert!(matches!(
        ranking.refusals[1].refusal,
        Refusal::NoResourceOpened { .. }
    ));
    assert!(ranking.refusals[1]
        .reason
        .starts_with("no resource is opened"));
}

#[test]
fn errors_on_a_none_attribute_put_the_null_guard_first() {
    let input =
        FixInput::new("app/notify.py", PY_NULL, PY_NONE_ERR.0, PY_NONE_ERR.1, 7).expect("python");
    let ranking = rank(&input, SignalKind::Errors);
    assert_eq!(names(&ranking)[0], "null_guard");
    assert!(ranking.candidates[0].confidence > 0.8);
    assert!(ranking.refusals.iter().any(|r| r.template == "retry"));
}

#[test]
fn saturation_on_an_open_file_puts_the_leak_fix_first() {
    let input = FixInput::new("cfg.py", PY_LEAK, LEAK_ERR.0, LEAK_ERR.1, 2).expect("python");
    let ranking = rank(&input, SignalKind::Saturation);
    assert_eq!(names(&ranking)[0], "resource_leak");
}

#[test]
fn the_signal_changes_the_order() {
    let input = FixInput::new("status.go", GO_RETRY, TRANSIENT.0, TRANSIENT.1, 6).expect("go");
    let errors = rank(&input, SignalKind::Errors);
    let latency = rank(&input, SignalKind::Latency);
    assert_eq!(names(&errors)[0], "retry");
    assert_eq!(names(&latency)[0], "timeout");
}

/// The demo service's incident: the null guard leads, and its patch is the original
/// null_check's, so the pipeline's existing behaviour is the top candidate.
#[test]
fn demo_incident_ranks_the_null_guard_first_with_the_original_patch() {
    const DEMO: &str =
        include_str!("../../../../../demo/payment-service/payments/payment_processor.py");
    const PATH: &str = "payment-service/payments/payment_processor.py";
    let err = (
        "AttributeError",
        "'NoneType' object has no attribute 'strip'",
    );
    let input = FixInput::new(PATH, DEMO, err.0, err.1, 45).expect("python");
    let ranking = rank(&input, SignalKind::Errors);
    let top = &ranking.candidates[0];
    assert_eq!(top.patch.template, "null_guard");
    let original = super::super::null_check(PATH, DEMO, 45, "strip").expect("fix");
    assert_eq!(top.patch.new_source, original.new_source);
    assert_eq!(top.patch.diff, original.diff);
    for refused in &ranking.refusals {
        assert!(!refused.reason.is_empty(), "{}", refused.template);
    }
}
