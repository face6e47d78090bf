use super::super::null_guard::null_guard;
use super::super::template::Refusal;
use super::{assert_changes, expected, fixtures::*, patched, reapply, refused};

#[test]
fn python_keeps_the_original_null_check_and_refuses_twice() {
    let p = patched(null_guard, "app/notify.py", PY_NULL, PY_NONE_ERR, 7);
    assert_eq!(p.new_source, expected::PY_NULL);
    assert_eq!(p.template, "null_guard");
    assert_changes(
        &p,
        &["    send(user.email.strip())"],
        &[
            "    if user.email is not None:",
            "        send(user.email.strip())",
            "    else:",
            "        logger.warning(\"user.email is None; skipped send() (ccp null_check)\")",
        ],
    );
    let again = reapply(null_guard, &p, PY_NONE_ERR, "        send(user.email");
    assert!(matches!(again, Refusal::AlreadyApplied { .. }), "{again:?}");
}

#[test]
fn python_without_the_attribute_in_the_message_is_refused() {
    let r = refused(
        null_guard,
        "app/notify.py",
        PY_NULL,
        ("TypeError", "unsupported operand"),
        7,
    );
    assert!(matches!(r, Refusal::EvidenceMismatch { .. }), "{r:?}");
    // The original template's own refusals come through unchanged.
    let r = refused(null_guard, "app/notify.py", PY_NULL, PY_NONE_ERR, 8);
    assert!(matches!(r, Refusal::NullCheck(_)), "{r:?}");
}

#[test]
fn java_guards_the_expression_the_helpful_npe_names() {
    let p = patched(null_guard, "src/Mailer.java", JAVA_NULL, JAVA_NPE, 13);
    assert_eq!(p.new_source, expected::JAVA_NULL);
    assert_changes(
        &p,
        &["        send(user.email.trim());"],
        &[
            "        if (user.email != null) {",
            "            send(user.email.trim());",
            "        } else {",
            "            log.warning(\"user.email is null; skipped the statement at line 13 (ccp null_guard)\");",
            "        }",
        ],
    );
    let again = reapply(null_guard, &p, JAVA_NPE, "            send(user.email");
    assert!(matches!(again, Refusal::AlreadyApplied { .. }), "{again:?}");
}

#[test]
fn java_refusals_name_the_reason() {
    let primitive =
        "class A {\n    void f(int count) {\n        show(count.toString());\n    }\n}\n";
    let r = refused(
        null_guard,
        "A.java",
        primitive,
        (
            "java.lang.NullPointerException",
            "Cannot invoke \"Object.toString()\" because \"count\" is null",
        ),
        3,
    );
    assert!(
        matches!(&r, Refusal::NotNullable { why } if why.contains("primitive `int`")),
        "{r:?}"
    );
    assert!(r.to_string().starts_with("the variable is not nullable"));

    let ret = "class A {\n    String f(User u) {\n        return u.name.trim();\n    }\n}\n";
    let r = refused(
        null_guard,
        "A.java",
        ret,
        (
            "java.lang.NullPointerException",
            "Cannot invoke \"String.trim()\" because \"u.name\" is null",
        ),
        3,
    );
    assert!(
        matches!(&r, Refusal::UnsafeStatement { why } if why.contains("`return`")),
        "{r:?}"
    );

    let call = "class A {\n    void f(Repo r) {\n        show(r.find().name);\n    }\n}\n";
    let r = refused(
        null_guard,
        "A.java",
        call,
        (
            "java.lang.NullPointerException",
            "Cannot read field \"name\" because the return value of \"Repo.find()\" is null",
        ),
        3,
    );
    assert!(
        matches!(&r, Refusal::UnsafeStatement { why } if why.contains("twice")),
        "{r:?}"
    );

    let used = "class A {\n    void f(User u) {\n        String n = u.name.trim();\n        show(n);\n    }\n}\n";
    let r = refused(
        null_guard,
        "A.java",
        used,
        (
            "java.lang.NullPointerException",
            "Cannot invoke \"String.trim()\" because \"u.name\" is null",
        ),
        3,
    );
    assert!(
        matches!(&r, Refusal::UnsafeStatement { why } if why.contains("`n`")),
        "{r:?}"
    );

    let two = "class A {\n    void f(User a, User b) {\n        show(a.name, b.name);\n    }\n}\n";
    let r = refused(
        null_guard,
        "A.java",
        two,
        ("java.lang.NullPointerException", ""),
        3,
    );
    assert!(
        matches!(&r, Refusal::Ambiguous { candidates } if candidates == "a`, `b"),
        "{r:?}"
    );

    let spans =
        "class A {\n    void f(User u) {\n        show(u.name,\n            u.age);\n    }\n}\n";
    let r = refused(
        null_guard,
        "A.java",
        spans,
        ("java.lang.NullPointerException", ""),
        3,
    );
    assert_eq!(r, Refusal::StatementSpansLines { line: 3 });
}

#[test]
fn go_guards_the_pointer_chain_and_refuses_struct_values() {
    let p = patched(null_guard, "notify.go", GO_NULL, GO_NIL, 14);
    assert_eq!(p.new_source, expected::GO_NULL);
    assert_changes(
        &p,
        &["\tfmt.Println(u.Profile.Email)"],
        &[
            "\tif u != nil && u.Profile != nil {",
            "\t\tfmt.Println(u.Profile.Email)",
            "\t}",
        ],
    );
    let again = reapply(null_guard, &p, GO_NIL, "\t\tfmt.Println(u.Profile");
    assert!(matches!(again, Refusal::AlreadyApplied { .. }), "{again:?}");

    let r = refused(null_guard, "notify.go", GO_NULL, GO_NIL, 18);
    assert!(
        matches!(&r, Refusal::NotNullable { why } if why.contains("`u`")),
        "{r:?}"
    );
}

#[test]
fn go_logs_the_skip_when_the_file_uses_log() {
    let src = "package main\n\nimport \"log\"\n\nfunc f(c *Config) {\n\tlog.Println(c.Name)\n}\n";
    let p = patched(null_guard, "f.go", src, GO_NIL, 6);
    assert_eq!(
        p.new_source,
        "package main\n\nimport \"log\"\n\nfunc f(c *Config) {\n\tif c != nil {\n\t\tlog.Println(c.Name)\n\t} else {\n\t\tlog.Printf(\"c is nil; skipped the statement at line 6 (ccp null_guard)\")\n\t}\n}\n"
    );
    let r = refused(
        null_guard,
        "f.go",
        "package main\n\nfunc f() {\n\tx := 1\n}\n",
        GO_NIL,
        4,
    );
    assert!(matches!(r, Refusal::NoNullableValue { .. }), "{r:?}");
}

#[test]
fn javascript_guards_statements_and_chains_values_that_flow_on() {
    let p = patched(null_guard, "greet.js", JS_NULL, JS_UNDEF, 2);
    assert_eq!(p.new_source, expected::JS_NULL);
    assert_changes(
        &p,
        &["  console.log(user.profile.name.toUpperCase());"],
        &[
            "  if (user.profile != null) {",
            "    console.log(user.profile.name.toUpperCase());",
            "  } else {",
            "    console.warn(\"user.profile is null or undefined; skipped the statement at line 2 (ccp null_guard)\");",
            "  }",
        ],
    );
    let again = reapply(null_guard, &p, JS_UNDEF, "    console.log(user.profile");
    assert!(matches!(again, Refusal::AlreadyApplied { .. }), "{again:?}");

    let p = patched(null_guard, "greet.ts", JS_NULL, JS_UNDEF, 6);
    assert_eq!(p.new_source, expected::JS_NULL_RETURN);
    assert_changes(
        &p,
        &["  return user.profile.name;"],
        &["  return user.profile?.name;"],
    );
    assert!(p.rationale.contains("undefined"), "{}", p.rationale);
    let again = reapply(null_guard, &p, JS_UNDEF, "return user.profile?.name");
    assert!(matches!(again, Refusal::AlreadyApplied { .. }), "{again:?}");
}

#[test]
fn javascript_const_literal_is_not_nullable() {
    let src = "function f() {\n  const cfg = { port: 1 };\n  use(cfg.port);\n}\n";
    let r = refused(
        null_guard,
        "f.js",
        src,
        (
            "TypeError",
            "Cannot read properties of undefined (reading 'port')",
        ),
        3,
    );
    assert!(
        matches!(&r, Refusal::NotNullable { why } if why.contains("`cfg`")),
        "{r:?}"
    );
}

#[test]
fn rust_option_unwrap_follows_the_return_type() {
    let p = patched(null_guard, "src/lib.rs", RS_NULL, RS_NONE, 2);
    assert_eq!(p.new_source, expected::RS_NULL_OPT);
    assert_changes(
        &p,
        &["    let word = text.split_whitespace().next().unwrap();"],
        &["    let word = text.split_whitespace().next()?;"],
    );
    let again = reapply(null_guard, &p, RS_NONE, "next()?;");
    assert!(
        matches!(again, Refusal::NoNullableValue { .. }),
        "{again:?}"
    );

    let p = patched(null_guard, "src/lib.rs", RS_NULL, RS_NONE, 7);
    assert_eq!(p.new_source, expected::RS_NULL_RES);
    assert_changes(
        &p,
        &["    let c = text.chars().next().unwrap();"],
        &["    let c = text.chars().next().ok_or_else(|| \"text.chars().next() was None at src/lib.rs:7 (ccp null_guard)\".to_string())?;"],
    );

    let p = patched(null_guard, "src/lib.rs", RS_NULL, RS_NONE, 12);
    assert_eq!(p.new_source, expected::RS_NULL_UNIT);
    assert_changes(
        &p,
        &["    let word = text.split_whitespace().next().unwrap();"],
        &["    let Some(word) = text.split_whitespace().next() else { return; };"],
    );
    assert!(
        p.confidence < 0.6,
        "silent early return is a weaker fix: {}",
        p.confidence
    );
}

#[test]
fn rust_expect_is_handled_like_unwrap() {
    let src = "fn port(m: &Map) -> Option<u16> {\n    let p = m.get(\"port\").expect(\"port is set\");\n    Some(*p)\n}\n";
    let p = patched(null_guard, "src/lib.rs", src, ("panic", "port is set"), 2);
    assert_changes(
        &p,
        &["    let p = m.get(\"port\").expect(\"port is set\");"],
        &["    let p = m.get(\"port\")?;"],
    );
    assert!(
        p.confidence < 0.5,
        "the message does not say None: {}",
        p.confidence
    );
}

#[test]
fn rust_refusals_name_the_reason() {
    let r = refused(
        null_guard,
        "src/lib.rs",
        RS_NULL,
        (
            "panic",
            "called `Result::unwrap()` on an `Err` value: ParseIntError",
        ),
        2,
    );
    assert!(
        matches!(&r, Refusal::NotNullable { why } if why.contains("Result")),
        "{r:?}"
    );

    let closure = "fn f(v: &[Option<u8>]) -> Option<u8> {\n    let s: u8 = v.iter().map(|x| x.unwrap()).sum();\n    Some(s)\n}\n";
    let r = refused(null_guard, "src/lib.rs", closure, RS_NONE, 2);
    assert!(
        matches!(&r, Refusal::UnsafeStatement { why } if why.contains("closure")),
        "{r:?}"
    );

    let custom = "fn f(m: &Map) -> Result<u8, MyError> {\n    let v = m.get(\"k\").unwrap();\n    Ok(*v)\n}\n";
    let r = refused(null_guard, "src/lib.rs", custom, RS_NONE, 2);
    assert!(
        matches!(&r, Refusal::NoErrorChannel { why } if why.contains("MyError")),
        "{r:?}"
    );

    let two = "fn f(a: Option<u8>, b: Option<u8>) -> Option<u8> {\n    let s = a.unwrap() + b.unwrap();\n    Some(s)\n}\n";
    let r = refused(null_guard, "src/lib.rs", two, RS_NONE, 2);
    assert!(matches!(r, Refusal::Ambiguous { .. }), "{r:?}");
}
