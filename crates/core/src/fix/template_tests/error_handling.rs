use super::super::error_handling::error_handling;
use super::super::template::Refusal;
use super::{assert_changes, expected, fixtures::*, patched, reapply, refused};

const KEY_ERROR: (&str, &str) = ("KeyError", "'apple'");
const NFE: (&str, &str) = ("java.lang.NumberFormatException", "For input string: \"x\"");
const GO_PANIC: (&str, &str) = ("panic", "strconv.Atoi: parsing \"x\": invalid syntax");
const RS_ERR_PANIC: (&str, &str) = (
    "panic",
    "called `Result::unwrap()` on an `Err` value: ParseIntError",
);

#[test]
fn python_wraps_and_reraises_the_domain_error() {
    let p = patched(error_handling, "pricing.py", PY_ERR, KEY_ERROR, 11);
    assert_eq!(p.new_source, expected::PY_ERR);
    assert_changes(
        &p,
        &["    cost = table[item]"],
        &[
            "    try:",
            "        cost = table[item]",
            "    except KeyError as exc:",
            "        logger.exception(\"price() failed at pricing.py:11\")",
            "        raise PricingError(f\"price() failed at pricing.py:11: {exc}\") from exc",
        ],
    );
    let again = reapply(error_handling, &p, KEY_ERROR, "        cost = table[item]");
    assert!(matches!(again, Refusal::AlreadyApplied { .. }), "{again:?}");
}

#[test]
fn python_without_logger_or_domain_error_imports_logging_and_uses_runtime_error() {
    let src = "import json\n\n\ndef load(raw):\n    return json.loads(raw)\n";
    let p = patched(
        error_handling,
        "load.py",
        src,
        ("json.decoder.JSONDecodeError", "Expecting value"),
        5,
    );
    assert_eq!(
        p.new_source,
        "import json\nimport logging\n\n\ndef load(raw):\n    try:\n        return json.loads(raw)\n    except json.decoder.JSONDecodeError as exc:\n        logging.getLogger(__name__).exception(\"load() failed at load.py:5\")\n        raise RuntimeError(f\"load() failed at load.py:5: {exc}\") from exc\n"
    );
    let full = patched(error_handling, "pricing.py", PY_ERR, KEY_ERROR, 11);
    assert!(
        p.confidence < full.confidence,
        "no domain error is a weaker fix"
    );
}

#[test]
fn python_refuses_module_level_and_block_headers() {
    let r = refused(error_handling, "m.py", "x = {}['k']\n", KEY_ERROR, 1);
    assert!(
        matches!(&r, Refusal::UnsafeStatement { why } if why.contains("not inside a function")),
        "{r:?}"
    );
    let r = refused(
        error_handling,
        "m.py",
        "def f(d):\n    if d['k']:\n        return 1\n",
        KEY_ERROR,
        2,
    );
    assert!(
        matches!(&r, Refusal::UnsafeStatement { why } if why.contains("block header")),
        "{r:?}"
    );
    let r = refused(
        error_handling,
        "m.py",
        "def f(d):\n    raise KeyError('k')\n",
        KEY_ERROR,
        2,
    );
    assert!(
        matches!(&r, Refusal::UnsafeStatement { why } if why.contains("swallow")),
        "{r:?}"
    );
}

#[test]
fn java_splits_the_declaration_and_rethrows_with_context() {
    let p = patched(error_handling, "Pricing.java", JAVA_ERR, NFE, 5);
    assert_eq!(p.new_source, expected::JAVA_ERR);
    assert_changes(
        &p,
        &["        int value = Integer.parseInt(raw);"],
        &[
            "        int value;",
            "        try {",
            "            value = Integer.parseInt(raw);",
            "        } catch (NumberFormatException e) {",
            "            throw new IllegalStateException(\"parse failed at Pricing.java:5\", e);",
            "        }",
        ],
    );
    let again = reapply(error_handling, &p, NFE, "value = Integer.parseInt(raw);");
    assert!(matches!(again, Refusal::AlreadyApplied { .. }), "{again:?}");
}

#[test]
fn java_uses_the_domain_exception_and_logger() {
    let src = "package p;\n\nimport com.acme.billing.BillingException;\n\nclass B {\n    private static final Logger log = LoggerFactory.getLogger(B.class);\n\n    void charge(Card c) {\n        gateway.charge(c);\n    }\n}\n";
    let p = patched(
        error_handling,
        "B.java",
        src,
        ("com.acme.gateway.GatewayException", "declined"),
        9,
    );
    assert_changes(
        &p,
        &["        gateway.charge(c);"],
        &[
            "        try {",
            "            gateway.charge(c);",
            "        } catch (com.acme.gateway.GatewayException e) {",
            "            log.error(\"charge failed at B.java:9\", e);",
            "            throw new BillingException(\"charge failed at B.java:9\", e);",
            "        }",
        ],
    );
    let var = "class V {\n    int f(String s) {\n        var n = Integer.parseInt(s);\n        return n;\n    }\n}\n";
    let r = refused(error_handling, "V.java", var, NFE, 3);
    assert!(
        matches!(&r, Refusal::UnsafeStatement { why } if why.contains("`var n`")),
        "{r:?}"
    );
}

#[test]
fn go_checks_the_discarded_error_and_refuses_without_error_result() {
    let p = patched(error_handling, "pricing.go", GO_ERR, GO_PANIC, 6);
    assert_eq!(p.new_source, expected::GO_ERR);
    assert_changes(
        &p,
        &["\tn, _ := strconv.Atoi(raw)"],
        &[
            "import \"fmt\"",
            "\tn, err := strconv.Atoi(raw)",
            "\tif err != nil {",
            "\t\treturn 0, fmt.Errorf(\"parse at pricing.go:6: %w\", err)",
            "\t}",
        ],
    );
    let again = reapply(error_handling, &p, GO_PANIC, "n, err := strconv.Atoi");
    assert!(
        matches!(again, Refusal::UnsafeStatement { .. }),
        "{again:?}"
    );

    let r = refused(error_handling, "pricing.go", GO_ERR, GO_PANIC, 11);
    assert!(
        matches!(&r, Refusal::NoErrorChannel { why } if why.contains("mustParse")),
        "{r:?}"
    );
}

#[test]
fn go_panics_and_type_assertions_become_returned_errors() {
    let src = "package p\n\nimport \"fmt\"\n\nfunc load(v any, name string) (*Config, string, error) {\n\tc := v.(*Config)\n\tif c == nil {\n\t\tpanic(fmt.Sprintf(\"no config %s\", name))\n\t}\n\treturn c, name, nil\n}\n";
    let p = patched(
        error_handling,
        "p.go",
        src,
        ("panic", "interface conversion"),
        6,
    );
    assert_changes(
        &p,
        &["\tc := v.(*Config)"],
        &[
            "\tc, ok := v.(*Config)",
            "\tif !ok {",
            "\t\treturn nil, \"\", fmt.Errorf(\"load at p.go:6: unexpected type %T\", v)",
            "\t}",
        ],
    );
    let p = patched(error_handling, "p.go", src, ("panic", "no config"), 8);
    assert_changes(
        &p,
        &["\t\tpanic(fmt.Sprintf(\"no config %s\", name))"],
        &["\t\treturn nil, \"\", fmt.Errorf(\"no config %s\", name)"],
    );
}

#[test]
fn javascript_rethrows_the_domain_error() {
    let p = patched(
        error_handling,
        "config.js",
        JS_ERR,
        ("SyntaxError", "Unexpected token"),
        4,
    );
    assert_eq!(p.new_source, expected::JS_ERR);
    assert_changes(
        &p,
        &["  const cfg = JSON.parse(raw);"],
        &[
            "  let cfg;",
            "  try {",
            "    cfg = JSON.parse(raw);",
            "  } catch (err) {",
            "    console.error(\"loadConfig failed at config.js:4\", err);",
            "    throw new ConfigError(`loadConfig failed at config.js:4: ${String(err)}`);",
            "  }",
        ],
    );
    let again = reapply(
        error_handling,
        &p,
        ("SyntaxError", "x"),
        "cfg = JSON.parse(raw);",
    );
    assert!(matches!(again, Refusal::AlreadyApplied { .. }), "{again:?}");
}

#[test]
fn javascript_without_domain_error_uses_error_cause() {
    let src = "export async function handler(req) {\n  await save(req.body);\n}\n";
    let p = patched(error_handling, "h.ts", src, ("Error", "db down"), 2);
    assert_eq!(
        p.new_source,
        "export async function handler(req) {\n  try {\n    await save(req.body);\n  } catch (err) {\n    console.error(\"handler failed at h.ts:2\", err);\n    throw new Error(\"handler failed at h.ts:2\", { cause: err });\n  }\n}\n"
    );
}

#[test]
fn rust_result_unwrap_becomes_question_mark_with_context() {
    let p = patched(error_handling, "src/port.rs", RS_ERR, RS_ERR_PANIC, 2);
    assert_eq!(p.new_source, expected::RS_ERR);
    assert_changes(
        &p,
        &["    let port: u16 = raw.trim().parse().unwrap();"],
        &["    let port: u16 = raw.trim().parse().map_err(|e| format!(\"parse_port at src/port.rs:2: {e}\"))?;"],
    );
    let again = reapply(error_handling, &p, RS_ERR_PANIC, "let port");
    assert!(
        matches!(again, Refusal::UnsafeStatement { .. }),
        "{again:?}"
    );
}

#[test]
fn rust_refuses_without_result_and_for_option_panics() {
    let src = "fn port(raw: &str) -> u16 {\n    raw.parse().unwrap()\n}\n";
    let r = refused(error_handling, "src/p.rs", src, RS_ERR_PANIC, 2);
    assert!(
        matches!(&r, Refusal::NoErrorChannel { why } if why.contains("`u16`")),
        "{r:?}"
    );
    let r = refused(
        error_handling,
        "src/p.rs",
        src,
        ("panic", "called `Option::unwrap()` on a `None` value"),
        2,
    );
    assert!(matches!(r, Refusal::EvidenceMismatch { .. }), "{r:?}");
    let other = "fn port(raw: &str) -> Result<u16, PortError> {\n    let p = raw.parse().unwrap();\n    Ok(p)\n}\n";
    let p = patched(error_handling, "src/p.rs", other, RS_ERR_PANIC, 2);
    assert_changes(
        &p,
        &["    let p = raw.parse().unwrap();"],
        &["    let p = raw.parse()?;"],
    );
    assert!(p.rationale.contains("From"), "{}", p.rationale);
}

#[test]
fn python_catches_library_errors_by_their_own_path() {
    let src = "import requests\n\n\ndef ping(u):\n    return requests.head(u, timeout=2)\n";
    let err = ("requests.exceptions.ConnectionError", "Connection refused");
    let p = patched(error_handling, "ping.py", src, err, 5);
    assert!(
        p.new_source
            .contains("    except requests.exceptions.ConnectionError as exc:\n"),
        "{}",
        p.new_source
    );
    // Without the module imported the builtin of the same short name would be wrong: catch all.
    let bare = src.replace(
        "import requests\n",
        "from requests import head as requests_head\n",
    );
    let p = patched(error_handling, "ping.py", &bare, err, 5);
    assert!(
        p.new_source.contains("    except Exception as exc:\n"),
        "{}",
        p.new_source
    );
}

#[test]
fn go_plain_assignment_keeps_equals_when_err_exists() {
    let src = "package p\n\nfunc f(raw string) (n int, err error) {\n\tn, _ = strconv.Atoi(raw)\n\treturn n, nil\n}\n";
    let p = patched(error_handling, "p.go", src, ("panic", "x"), 4);
    assert!(p.new_source.contains("\tn, err = strconv.Atoi(raw)\n\tif err != nil {\n\t\treturn 0, fmt.Errorf(\"f at p.go:4: %w\", err)\n\t}\n"), "{}", p.new_source);
}

#[test]
fn java_method_headers_with_annotation_arguments_are_functions() {
    let src = "class C {\n    String get(@RequestParam(name = \"id\") String id) {\n        return repo.find(id).name();\n    }\n}\n";
    let p = patched(
        error_handling,
        "C.java",
        src,
        ("java.util.NoSuchElementException", "none"),
        3,
    );
    assert!(
        p.new_source
            .contains("throw new IllegalStateException(\"get failed at C.java:3\", e);"),
        "{}",
        p.new_source
    );
}
