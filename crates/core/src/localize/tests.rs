use super::*;

/// What `probe.py` prints for the demo (Python 3.11, service copied to /tmp/ccp-probe-x).
const PROBE_TRACE: &str = "Traceback (most recent call last):
  File \"/tmp/ccp-probe-x/probe.py\", line 72, in replay
    process_payment(user, request, gateway)
  File \"/tmp/ccp-probe-x/payments/payment_processor.py\", line 45, in process_payment
    send_receipt(user.email.strip().lower(), charge.id)
                 ^^^^^^^^^^^^^^^^
AttributeError: 'NoneType' object has no attribute 'strip'
";

fn repo_files() -> Vec<String> {
    [
        "payment-service/README.md",
        "payment-service/probe.py",
        "payment-service/payments/__init__.py",
        "payment-service/payments/payment_processor.py",
        "payment-service/payments/receipts.py",
        "payment-service/tests/__init__.py",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[test]
fn parses_the_demo_probe_traceback() {
    let trace = parse_python_traceback(PROBE_TRACE).expect("parse");
    assert_eq!(trace.language, "python");
    assert_eq!(trace.exception_type, "AttributeError");
    assert_eq!(trace.message, "'NoneType' object has no attribute 'strip'");
    assert_eq!(trace.frames.len(), 2);
    let inner = &trace.frames[1];
    assert_eq!(inner.file, "/tmp/ccp-probe-x/payments/payment_processor.py");
    assert_eq!(inner.line, 45);
    assert_eq!(inner.function, "process_payment");
    assert_eq!(
        inner.code.as_deref(),
        Some("send_receipt(user.email.strip().lower(), charge.id)")
    );
    assert_eq!(none_receiver(&trace).as_deref(), Some("strip"));
}

#[test]
fn chained_traceback_takes_the_last_one() {
    let text = "Traceback (most recent call last):
  File \"/srv/app/payments/gateway.py\", line 10, in charge
    raise GatewayError(\"timeout\")
payments.gateway.GatewayError: timeout

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File \"/srv/app/payments/payment_processor.py\", line 40, in process_payment
    charge = gateway.charge(token)
  File \"/usr/lib/python3.11/logging/__init__.py\", line 1518, in error
    self._log(ERROR, msg, args, **kwargs)
KeyError: 'order_id'
";
    let trace = parse_trace(text).expect("parse");
    assert_eq!(trace.exception_type, "KeyError");
    assert_eq!(trace.message, "'order_id'");
    assert_eq!(trace.frames.len(), 2);
    assert_eq!(trace.frames[0].line, 40);
    let files = vec!["payments/payment_processor.py".to_string()];
    let (frame, path) = culprit_frame(&trace, &files).expect("culprit");
    assert_eq!(frame.line, 40);
    assert_eq!(path, "payments/payment_processor.py");
    assert_eq!(none_receiver(&trace), None);
}

#[test]
fn direct_cause_chain_and_dotted_exception_type() {
    let text = "Traceback (most recent call last):
  File \"a.py\", line 1, in <module>
ValueError: x

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File \"b.py\", line 2, in main
payments.gateway.GatewayError: gave up after 3 attempts: timeout
";
    let trace = parse_python_traceback(text).expect("parse");
    assert_eq!(trace.exception_type, "payments.gateway.GatewayError");
    assert_eq!(trace.message, "gave up after 3 attempts: timeout");
    assert_eq!(trace.frames[0].file, "b.py");
    assert_eq!(trace.frames[0].code, None);
}

#[test]
fn tolerates_log_prefixes_with_changing_timestamps() {
    let text = "2024-05-01 12:00:00,123 ERROR [w1] payment failed
2024-05-01 12:00:00,123 ERROR [w1] Traceback (most recent call last):
2024-05-01 12:00:00,124 ERROR [w1]   File \"/srv/app/payment-service/payments/payment_processor.py\", line 45, in process_payment
2024-05-01 12:00:00,124 ERROR [w1]     send_receipt(user.email.strip().lower(), charge.id)
2024-05-01 12:00:00,125 ERROR [w1] AttributeError: 'NoneType' object has no attribute 'strip'
";
    let trace = parse_python_traceback(text).expect("parse");
    assert_eq!(trace.frames.len(), 1);
    assert_eq!(trace.frames[0].line, 45);
    assert_eq!(
        trace.frames[0].code.as_deref(),
        Some("send_receipt(user.email.strip().lower(), charge.id)")
    );
    assert_eq!(trace.exception_type, "AttributeError");
}

#[test]
fn syntax_error_frames_without_function_and_recursion_summary() {
    let text = "Traceback (most recent call last):
  File \"/app/x.py\", line 3, in f
    return f()
           ^^^
  [Previous line repeated 996 more times]
  File \"/app/y.py\", line 9
    def broken(:
               ^
SyntaxError: invalid syntax
";
    let trace = parse_python_traceback(text).expect("parse");
    assert_eq!(trace.frames.len(), 2);
    assert_eq!(trace.frames[1].function, "");
    assert_eq!(trace.frames[1].code.as_deref(), Some("def broken(:"));
    assert_eq!(trace.exception_type, "SyntaxError");
}

#[test]
fn errors_name_what_is_missing() {
    assert!(matches!(
        parse_python_traceback("nothing here"),
        Err(LocalizeError::NoTrace { .. })
    ));
    assert!(matches!(
        parse_python_traceback("Traceback (most recent call last):\nValueError: x"),
        Err(LocalizeError::NoFrames { .. })
    ));
    let truncated = "Traceback (most recent call last):\n  File \"a.py\", line 1, in f\n    x()\n";
    assert!(matches!(
        parse_python_traceback(truncated),
        Err(LocalizeError::NoException { .. })
    ));
    let unknown = parse_trace("panic: runtime error").expect_err("unknown");
    assert!(unknown.to_string().contains("python"), "{unknown}");
}

#[test]
fn culprit_maps_absolute_paths_by_longest_suffix() {
    let trace = parse_python_traceback(PROBE_TRACE).expect("parse");
    let (frame, path) = culprit_frame(&trace, &repo_files()).expect("culprit");
    assert_eq!(frame.line, 45);
    assert_eq!(path, "payment-service/payments/payment_processor.py");

    let srv = PROBE_TRACE.replace("/tmp/ccp-probe-x/", "/srv/app/payment-service/");
    let trace = parse_python_traceback(&srv).expect("parse");
    let (_, path) = culprit_frame(&trace, &repo_files()).expect("culprit");
    assert_eq!(path, "payment-service/payments/payment_processor.py");
}

#[test]
fn culprit_skips_stdlib_site_packages_and_ambiguous_frames() {
    let text = "Traceback (most recent call last):
  File \"/srv/app/payments/payment_processor.py\", line 45, in process_payment
    send_receipt(x)
  File \"/srv/app/payments/__init__.py\", line 3, in helper
    y()
  File \"/usr/local/lib/python3.11/site-packages/requests/api.py\", line 59, in get
    return request()
  File \"/usr/lib/python3.11/json/__init__.py\", line 346, in loads
    return _default_decoder.decode(s)
ValueError: boom
";
    let trace = parse_python_traceback(text).expect("parse");
    let files = vec![
        "svc/payments/payment_processor.py".to_string(),
        "svc/payments/__init__.py".to_string(),
        "json/__init__.py".to_string(),
    ];
    let (frame, path) = culprit_frame(&trace, &files).expect("culprit");
    assert_eq!((frame.line, path.as_str()), (3, "svc/payments/__init__.py"));

    let tie = vec!["a/__init__.py".to_string(), "b/__init__.py".to_string()];
    let (frame, _) = culprit_frame(&trace, &tie).map_or((None, None), |(f, p)| (Some(f), Some(p)));
    assert!(frame.is_none(), "tie on basename only must not be guessed");
}

#[test]
fn none_receiver_only_for_nonetype_attribute_errors() {
    let mut trace = parse_python_traceback(PROBE_TRACE).expect("parse");
    trace.message = "'NoneType' object has no attribute 'lower'. Did you mean: 'flower'?".into();
    assert_eq!(none_receiver(&trace).as_deref(), Some("lower"));
    trace.message = "'str' object has no attribute 'foo'".into();
    assert_eq!(none_receiver(&trace), None);
    trace.exception_type = "TypeError".into();
    trace.message = "'NoneType' object has no attribute 'strip'".into();
    assert_eq!(none_receiver(&trace), None);
}

fn files(paths: &[&str]) -> Vec<String> {
    paths.iter().map(|s| s.to_string()).collect()
}

#[test]
fn whole_path_match_breaks_ties_between_equal_suffixes() {
    let repo = files(&["src/main.rs", "tools/gen/src/main.rs"]);
    let rule = PathMatch::Suffix;
    assert_eq!(
        paths::map_to_repo("./src/main.rs", &repo, rule).as_deref(),
        Some("src/main.rs")
    );
    // A host path says nothing about which of two equally long matches it is, unless one of
    // them is matched as a whole.
    assert_eq!(
        paths::map_to_repo("/build/src/main.rs", &repo, rule).as_deref(),
        Some("src/main.rs")
    );
    assert_eq!(
        paths::map_to_repo("/build/gen/src/main.rs", &repo, rule).as_deref(),
        Some("tools/gen/src/main.rs")
    );
    let twins = files(&["a/src/main.rs", "b/src/main.rs"]);
    assert_eq!(paths::map_to_repo("./src/main.rs", &twins, rule), None);
}

#[test]
fn java_frames_need_their_whole_package_path_in_the_repo() {
    let trace = ParsedTrace {
        language: "java".into(),
        exception_type: "java.lang.IllegalStateException".into(),
        message: String::new(),
        frames: vec![
            Frame {
                file: "com/acme/shop/Orders.java".into(),
                line: 9,
                function: "com.acme.shop.Orders.quantity".into(),
                code: None,
            },
            Frame {
                file: "org/lib/Orders.java".into(),
                line: 3,
                function: "org.lib.Orders.parse".into(),
                code: None,
            },
        ],
    };
    let repo = files(&[
        "src/main/java/com/acme/shop/Orders.java",
        "tools/Orders.java",
    ]);
    let (frame, path) = culprit_frame(&trace, &repo).expect("culprit");
    assert_eq!(frame.line, 9);
    assert_eq!(path, "src/main/java/com/acme/shop/Orders.java");
    assert_eq!(
        repo_path(&trace, &trace.frames[1], &repo),
        None,
        "org/lib/Orders.java is not tools/Orders.java"
    );
}

#[test]
fn every_parser_is_picked_by_its_own_text() {
    let cases = [
        ("Traceback (most recent call last):\n  File \"a.py\", line 1, in f\nValueError: x\n", "python"),
        ("Exception in thread \"main\" java.lang.IllegalStateException: x\n\tat com.acme.A.f(A.java:3)\n", "java"),
        ("TypeError: x\n    at f (/srv/a.js:1:2)\n", "node"),
        ("thread 'main' panicked at src/main.rs:4:5:\nexplicit panic\n", "rust"),
        ("panic: x\n\ngoroutine 1 [running]:\nmain.main()\n\t/srv/main.go:5 +0x1d\n", "go"),
    ];
    for (text, language) in cases {
        let trace = parse_trace(text).unwrap_or_else(|e| panic!("{language}: {e}"));
        assert_eq!(trace.language, language);
        assert!(likely_culprit(&trace).is_some(), "{language}");
    }
}

/// Found by tests/hostile_input.rs: a Go panic cut off after a call line (no location line
/// follows) produced a frame with an empty file. Such a trace names no place in the code.
#[test]
fn go_call_line_without_location_is_not_a_frame() {
    let text =
        "panic: runtime error: invalid memory address\ngoroutine 1 [running]:\nmain.main()\n";
    match parse_trace(text) {
        Ok(t) => assert!(t.frames.iter().all(|f| !f.file.is_empty()), "{t:?}"),
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}
