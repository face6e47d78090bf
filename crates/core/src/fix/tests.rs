use super::*;

const DEMO: &str = include_str!("../../../../demo/payment-service/payments/payment_processor.py");
const DEMO_PATH: &str = "payment-service/payments/payment_processor.py";

#[test]
fn demo_fix_guards_user_email_and_logs_the_skip() {
    let fix = null_check(DEMO_PATH, DEMO, 45, "strip").expect("fix");
    assert_eq!(fix.template, "null_check");
    assert_eq!(fix.guarded_expr, "user.email");
    assert_eq!((fix.lines_added, fix.lines_removed), (4, 1));
    let expected = "    logger.info(\"order %s charged as %s\", request.order_id, charge.id)
    if user.email is not None:
        send_receipt(user.email.strip().lower(), charge.id)
    else:
        logger.warning(\"user.email is None; skipped send_receipt() (ccp null_check)\")
    return PaymentResult(status=\"charged\", charge_id=charge.id)
";
    assert!(fix.new_source.ends_with(expected), "{}", fix.new_source);
    let header = format!(
        "diff --git a/{DEMO_PATH} b/{DEMO_PATH}\n--- a/{DEMO_PATH}\n+++ b/{DEMO_PATH}\n@@ "
    );
    assert!(fix.diff.starts_with(&header), "{}", fix.diff);
    assert!(fix.diff.contains("\n+    if user.email is not None:\n"));
    assert!(fix
        .diff
        .contains("\n-    send_receipt(user.email.strip().lower(), charge.id)\n"));
    assert!(
        fix.description.contains("process_payment"),
        "{}",
        fix.description
    );
}

#[test]
fn multi_line_statement_is_wrapped_whole_with_log_logger() {
    let src = "import logging\nlog = logging.getLogger(\"x\")\n\n\ndef f(user):\n    notify(\n        user.email.strip(),\n        \"hi\",\n    )\n    return 1\n";
    let fix = null_check("m.py", src, 7, "strip").expect("fix");
    let expected = "def f(user):\n    if user.email is not None:\n        notify(\n            user.email.strip(),\n            \"hi\",\n        )\n    else:\n        log.warning(\"user.email is None; skipped notify() (ccp null_check)\")\n    return 1\n";
    assert!(fix.new_source.ends_with(expected), "{}", fix.new_source);
}

#[test]
fn tabs_and_two_space_styles_are_kept_and_no_logger_means_no_else() {
    let tabs = "def f(u):\n\tif u:\n\t\tsend(u.email.lower())\n";
    let fix = null_check("t.py", tabs, 3, "lower").expect("fix");
    assert_eq!(
        fix.new_source,
        "def f(u):\n\tif u:\n\t\tif u.email is not None:\n\t\t\tsend(u.email.lower())\n"
    );
    let two = "class A:\n  def f(self):\n    self.cfg['k'].name.upper()\n";
    let fix = null_check("a.py", two, 3, "upper").expect("fix");
    assert_eq!(fix.guarded_expr, "self.cfg['k'].name");
    assert!(fix
        .new_source
        .contains("    if self.cfg['k'].name is not None:\n      self.cfg['k'].name.upper()\n"));
}

#[test]
fn string_continuation_lines_are_not_reindented_and_crlf_is_kept() {
    let src = "def f(u):\r\n    send(u.email.strip(), \"\"\"a\r\nb\"\"\")\r\n";
    let fix = null_check("s.py", src, 2, "strip").expect("fix");
    assert_eq!(
        fix.new_source,
        "def f(u):\r\n    if u.email is not None:\r\n        send(u.email.strip(), \"\"\"a\r\nb\"\"\")\r\n"
    );
}

#[test]
fn missing_final_newline_is_preserved() {
    let fix = null_check("n.py", "def f(u):\n    g(u.x.y)", 2, "y").expect("fix");
    assert_eq!(
        fix.new_source,
        "def f(u):\n    if u.x is not None:\n        g(u.x.y)"
    );
}

#[test]
fn assignment_is_allowed_only_when_the_name_is_not_read_later() {
    let unused = "def f(u):\n    tag = u.email.strip()\n    return 1\n";
    assert!(null_check("u.py", unused, 2, "strip").is_ok());
    let used = "def f(u):\n    tag = u.email.strip()\n    return tag\n";
    let err = null_check("u.py", used, 2, "strip").expect_err("refuse");
    assert!(err.to_string().contains("assigns `tag`"), "{err}");
    let attr_target = "def f(u):\n    u.tag = u.email.strip()\n    return u.tag\n";
    assert!(null_check("u.py", attr_target, 2, "strip").is_ok());
}

fn refusal(src: &str, line: u32, attr: &str) -> FixError {
    null_check("r.py", src, line, attr).expect_err("template must refuse")
}

#[test]
fn refusals_say_why() {
    let e = refusal("def f(u):\n    return u.email.strip()\n", 2, "strip");
    assert!(e.to_string().contains("`return`"), "{e}");
    let e = refusal("def f(u):\n    x = yield u.email.strip()\n", 2, "strip");
    assert!(e.to_string().contains("`yield`"), "{e}");
    let e = refusal("X = CONFIG.email.strip()\n", 1, "strip");
    assert!(matches!(e, FixError::NotInFunction { .. }), "{e}");
    let e = refusal("class A:\n    X = CONFIG.email.strip()\n", 2, "strip");
    assert!(matches!(e, FixError::NotInFunction { .. }), "{e}");
    let e = refusal("def f(u):\n    send(u.email)  # .strip here\n", 2, "strip");
    assert!(matches!(e, FixError::AttributeNotFound { .. }), "{e}");
    let e = refusal(
        "def f(u):\n    if u.email.strip():\n        pass\n",
        2,
        "strip",
    );
    assert!(e.to_string().contains("block header (`if …:`)"), "{e}");
    let e = refusal("def f(u):\n    send(get(u).email.strip())\n", 2, "strip");
    assert!(matches!(e, FixError::ReceiverHasCall { .. }), "{e}");
    let e = refusal(
        "def f(a, b):\n    send(a.x.strip() + b.strip())\n",
        2,
        "strip",
    );
    assert!(matches!(e, FixError::AmbiguousReceiver { .. }), "{e}");
    let e = refusal("def f(u):\n    a = 1; send(u.e.strip())\n", 2, "strip");
    assert!(e.to_string().contains("`;`"), "{e}");
    let e = refusal("def f(u):\n    raise ValueError(u.e.strip())\n", 2, "strip");
    assert!(e.to_string().contains("`raise`"), "{e}");
    let e = refusal("def f(u):\n\n    pass\n", 2, "strip");
    assert!(matches!(e, FixError::NotCode { .. }), "{e}");
    let e = refusal("def f(u):\n    pass\n", 9, "strip");
    assert!(e.to_string().contains("has 2 lines"), "{e}");
}

#[test]
fn injected_regression_marks_itself_and_keeps_the_guard() {
    let fix = null_check(DEMO_PATH, DEMO, 45, "strip").expect("fix");
    let bad = inject_regression(&fix).expect("inject");
    assert!(bad.new_source.contains(
        "    if user.email is not None:\n        _ccp_injected_strict_email(user.email)  # injected by ccp --inject-failure canary_regression\n        send_receipt("
    ));
    assert!(bad.new_source.contains("\n\n\n# injected by ccp --inject-failure canary_regression\ndef _ccp_injected_strict_email(address):\n"));
    assert!(bad.new_source.ends_with("    return address\n"));
    assert!(bad
        .diff
        .contains("+def _ccp_injected_strict_email(address):"));
    assert!(bad.description.contains("INJECTED REGRESSION"));
    assert!(bad.lines_added > fix.lines_added);
    let mut other = fix.clone();
    other.template = "something_else".into();
    assert!(inject_regression(&other).is_err());
}
