//! Code-side integration tests: the demo service, its history, localization, the null-check fix
//! and the Python gates, end to end through the public `ccp::…` API.
//!
//! Tests that need Python print a skip note and return when `python3` (or `$CCP_PYTHON`) is absent.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ccp_adapters::embedded::demo_repo::{build_demo_repo, DemoRepo};
use ccp_adapters::git_history::{blame_line, commits_since, files_at_head, read_file_at_head};
use ccp_adapters::probe::{run_probe, ProbeResult};
use ccp_adapters::python_checks::{
    prepare_patched_copy, python_available, run_unit_tests, syntax_check, CheckOutcome,
};
use ccp_core::fix::{inject_regression, null_check, FixProposal};
use ccp_core::localize::{culprit_frame, none_receiver, parse_python_traceback};

const INCIDENT: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z
const PROCESSOR: &str = "payments/payment_processor.py";
const TEST_TIMEOUT: Duration = Duration::from_secs(120);

fn demo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("demo")
}

fn service_dir() -> PathBuf {
    demo_dir().join("payment-service")
}

fn no_python(test: &str) -> bool {
    if python_available() {
        return false;
    }
    eprintln!(
        "SKIP {test}: python3 not found on PATH (or $CCP_PYTHON); Python gates not exercised"
    );
    true
}

fn demo_source() -> String {
    fs::read_to_string(service_dir().join(PROCESSOR)).expect("demo source")
}

fn demo_fix() -> FixProposal {
    null_check(PROCESSOR, &demo_source(), 45, "strip").expect("null_check on the demo")
}

fn unpatched_copy() -> tempfile::TempDir {
    prepare_patched_copy(&service_dir(), PROCESSOR, &demo_source()).expect("copy")
}

fn probe(dir: &Path) -> ProbeResult {
    run_probe(dir, 1000, 7).expect("probe")
}

fn tests_in(dir: &Path) -> CheckOutcome {
    run_unit_tests(dir, TEST_TIMEOUT)
}

#[test]
fn real_probe_traceback_parses_to_line_45() {
    if no_python("real_probe_traceback_parses_to_line_45") {
        return;
    }
    let copy = unpatched_copy();
    let result = probe(copy.path());
    let text = result
        .sample_traceback
        .expect("a traceback from the buggy service");
    let trace = parse_python_traceback(&text).expect("parse");
    let inner = trace.frames.last().expect("frames");
    assert!(
        inner.file.ends_with("/payments/payment_processor.py"),
        "{}",
        inner.file
    );
    assert_eq!(inner.line, 45);
    assert_eq!(inner.function, "process_payment");
    assert_eq!(trace.exception_type, "AttributeError");
    assert_eq!(trace.message, "'NoneType' object has no attribute 'strip'");
    assert_eq!(none_receiver(&trace).as_deref(), Some("strip"));

    let repo_files = vec![
        "payment-service/probe.py".to_string(),
        "payment-service/payments/payment_processor.py".to_string(),
    ];
    let (frame, path) = culprit_frame(&trace, &repo_files).expect("culprit");
    assert_eq!(
        (frame.line, path.as_str()),
        (45, "payment-service/payments/payment_processor.py")
    );
}

#[test]
fn chained_traceback_with_absolute_paths_maps_into_the_repo() {
    let text = "Traceback (most recent call last):
  File \"/srv/app/payment-service/payments/gateway.py\", line 51, in charge
    return self._charge_once(card_token, amount_cents, currency, idempotency_key)
TimeoutError: acquirer timed out

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File \"/srv/app/payment-service/probe.py\", line 72, in replay
    process_payment(user, request, gateway)
  File \"/srv/app/payment-service/payments/payment_processor.py\", line 45, in process_payment
    send_receipt(user.email.strip().lower(), charge.id)
  File \"/usr/lib/python3.11/logging/__init__.py\", line 1489, in info
    self._log(INFO, msg, args, **kwargs)
AttributeError: 'NoneType' object has no attribute 'strip'
";
    let trace = parse_python_traceback(text).expect("parse");
    assert_eq!(trace.frames.len(), 3);
    let files = vec![
        "payment-service/payments/payment_processor.py".to_string(),
        "payment-service/payments/gateway.py".to_string(),
        "payment-service/probe.py".to_string(),
    ];
    let (frame, path) = culprit_frame(&trace, &files).expect("culprit");
    assert_eq!(frame.function, "process_payment");
    assert_eq!(path, "payment-service/payments/payment_processor.py");
}

#[test]
fn null_check_diff_guards_user_email_and_compiles() {
    let fix = demo_fix();
    let added: Vec<&str> = fix.diff.lines().filter(|l| l.starts_with('+')).collect();
    assert!(
        added
            .iter()
            .any(|l| l.contains("if user.email is not None:")),
        "{}",
        fix.diff
    );
    assert!(fix.diff.starts_with(
        "diff --git a/payments/payment_processor.py b/payments/payment_processor.py\n--- a/payments/payment_processor.py\n+++ b/payments/payment_processor.py\n@@"
    ));
    if no_python("null_check_diff_guards_user_email_and_compiles") {
        return;
    }
    let copy = prepare_patched_copy(&service_dir(), &fix.file, &fix.new_source).expect("copy");
    let syntax = syntax_check(copy.path(), std::slice::from_ref(&fix.file));
    assert!(syntax.passed, "{syntax:?}");
}

#[test]
fn generated_patch_fixes_the_failing_unit_test() {
    if no_python("generated_patch_fixes_the_failing_unit_test") {
        return;
    }
    let buggy = unpatched_copy();
    let before = tests_in(buggy.path());
    assert!(!before.passed, "{before:?}");
    assert!(before.failures.unwrap_or(0) >= 1, "{before:?}");
    assert!(
        before
            .summary
            .contains("test_process_payment_without_email"),
        "{}",
        before.summary
    );
    assert!(before.detail.contains("test_process_payment_without_email"));

    let fix = demo_fix();
    let patched = prepare_patched_copy(&service_dir(), &fix.file, &fix.new_source).expect("copy");
    let after = tests_in(patched.path());
    assert!(after.passed, "{after:?}");
    assert_eq!(after.failures, Some(0));
    assert!(after.tests_run.unwrap_or(0) >= 10, "{after:?}");
}

#[test]
fn probe_error_rates_buggy_fixed_and_injected() {
    if no_python("probe_error_rates_buggy_fixed_and_injected") {
        return;
    }
    let buggy = probe(unpatched_copy().path());
    assert_eq!(buggy.total, 1000);
    assert!((0.12..=0.18).contains(&buggy.error_rate), "{buggy:?}");
    assert_eq!(buggy.error_types.get("AttributeError"), Some(&buggy.errors));

    let fix = demo_fix();
    let patched = prepare_patched_copy(&service_dir(), &fix.file, &fix.new_source).expect("copy");
    let fixed = probe(patched.path());
    assert_eq!(fixed.error_rate, 0.0, "{fixed:?}");
    assert_eq!(fixed.sample_traceback, None);

    let injected = inject_regression(&fix).expect("inject");
    let bad =
        prepare_patched_copy(&service_dir(), &injected.file, &injected.new_source).expect("copy");
    let gates = tests_in(bad.path());
    assert!(
        gates.passed,
        "the injected regression must pass the unit tests: {gates:?}"
    );
    let worse = probe(bad.path());
    assert!(worse.error_rate >= 0.2, "{worse:?}");
    assert!(worse.error_types.contains_key("ValueError"), "{worse:?}");
}

fn build_demo() -> (tempfile::TempDir, DemoRepo) {
    let dest = tempfile::tempdir().expect("tempdir");
    let repo = build_demo_repo(&demo_dir(), &dest.path().join("repo"), INCIDENT).expect("build");
    (dest, repo)
}

#[test]
fn demo_history_blames_the_receipts_commit_not_the_newest() {
    let (_guard, repo) = build_demo();
    assert!(repo.commits.len() >= 5);
    let file = "payment-service/payments/payment_processor.py";
    let culprit = blame_line(&repo.path, file, 45).expect("blame");
    assert!(
        culprit.message.starts_with("Send e-mail receipts"),
        "{culprit:?}"
    );
    let recent = commits_since(&repo.path, INCIDENT - 24 * 3600).expect("since");
    assert_ne!(
        recent[0].id, culprit.id,
        "the newest commit is not the culprit"
    );
    assert!(!recent[0].files.iter().any(|f| f == file));
    assert!(recent.iter().any(|c| c.id == culprit.id));
    assert!(recent.windows(2).all(|w| w[0].time_unix >= w[1].time_unix));
}

#[test]
fn demo_history_final_tree_equals_the_service() {
    let (_guard, repo) = build_demo();
    let files = files_at_head(&repo.path).expect("files");
    let prefix = format!("{}/", repo.service_dir);
    let mut expected = Vec::new();
    collect(&service_dir(), "", &mut expected);
    expected.sort();
    let actual: Vec<String> = files
        .iter()
        .filter_map(|f| f.strip_prefix(&prefix).map(str::to_string))
        .collect();
    assert_eq!(actual, expected);
    for f in &expected {
        let at_head = read_file_at_head(&repo.path, &format!("{prefix}{f}")).expect("read");
        let on_disk = fs::read_to_string(service_dir().join(f)).expect("disk");
        assert!(
            at_head == on_disk,
            "{f} differs between HEAD and demo/payment-service"
        );
    }
}

fn collect(dir: &Path, prefix: &str, out: &mut Vec<String>) {
    for entry in fs::read_dir(dir).expect("read_dir").flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name == "__pycache__" {
            continue;
        }
        let path = format!("{prefix}{name}");
        if entry.path().is_dir() {
            collect(&entry.path(), &format!("{path}/"), out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn full_code_side_pipeline_on_the_built_repo() {
    if no_python("full_code_side_pipeline_on_the_built_repo") {
        return;
    }
    let (_guard, repo) = build_demo();
    let service = repo.path.join(&repo.service_dir);
    let baseline = run_probe(&service, 1000, 7).expect("probe");
    let trace = parse_python_traceback(baseline.sample_traceback.as_deref().expect("trace"))
        .expect("parse");
    let files = files_at_head(&repo.path).expect("files");
    let (frame, path) = culprit_frame(&trace, &files).expect("culprit");
    let culprit = blame_line(&repo.path, &path, frame.line).expect("blame");
    assert_eq!(
        culprit.message,
        "Send e-mail receipts after successful charge"
    );
    let source = read_file_at_head(&repo.path, &path).expect("source");
    let attr = none_receiver(&trace).expect("attr");
    let fix = null_check(&path, &source, frame.line, &attr).expect("fix");
    assert_diff_applies_with_git(&repo.path, &fix);
    let copy = prepare_patched_copy(&service, &fix.file, &fix.new_source).expect("copy");
    assert!(syntax_check(copy.path(), std::slice::from_ref(&fix.file)).passed);
    assert!(tests_in(copy.path()).passed);
    assert_eq!(run_probe(copy.path(), 1000, 7).expect("probe").errors, 0);
    assert!(
        !service.join("payments/__pycache__").exists(),
        "gates must not litter the checkout"
    );
}

/// The diff must be something git itself accepts, not just text that looks like a diff.
fn assert_diff_applies_with_git(repo: &Path, fix: &FixProposal) {
    let repository = git2::Repository::open(repo).expect("open");
    let diff = git2::Diff::from_buffer(fix.diff.as_bytes()).expect("diff parses");
    repository
        .apply(&diff, git2::ApplyLocation::WorkDir, None)
        .expect("diff applies");
    let applied = fs::read_to_string(repo.join(&fix.file)).expect("read");
    assert_eq!(applied, fix.new_source);
    repository
        .checkout_head(Some(git2::build::CheckoutBuilder::new().force()))
        .expect("restore");
}
