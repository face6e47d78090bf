use super::super::resource_leak::resource_leak;
use super::super::template::{Language, Refusal};
use super::{assert_changes, expected, fixtures::*, patched, reapply, refused};

#[test]
fn python_opens_in_with_and_drops_the_explicit_close() {
    let p = patched(resource_leak, "cfg.py", PY_LEAK, LEAK_ERR, 2);
    assert_eq!(p.new_source, expected::PY_LEAK);
    assert_changes(
        &p,
        &[
            "    f = open(path)",
            "    data = f.read()",
            "    f.close()",
            "    return parse(data)",
        ],
        &[
            "    with open(path) as f:",
            "        data = f.read()",
            "        return parse(data)",
        ],
    );
    let again = reapply(resource_leak, &p, LEAK_ERR, "with open(path)");
    assert!(matches!(again, Refusal::AlreadyApplied { .. }), "{again:?}");
    assert!(p.confidence > 0.8, "the error says too many open files");
}

#[test]
fn python_refuses_escaping_resources_and_lines_without_opener() {
    let r = refused(resource_leak, "cfg.py", PY_LEAK, LEAK_ERR, 9);
    assert!(
        matches!(&r, Refusal::ResourceEscapes { name, why } if name == "f" && why.contains("return f")),
        "{r:?}"
    );
    let r = refused(
        resource_leak,
        "cfg.py",
        "def f(p):\n    x = compute(p)\n    return x\n",
        LEAK_ERR,
        2,
    );
    assert!(
        matches!(&r, Refusal::NoResourceOpened { why } if why.contains("compute")),
        "{r:?}"
    );
    assert!(r
        .to_string()
        .starts_with("no resource is opened on this line"));
    let r = refused(
        resource_leak,
        "cfg.py",
        "def f(p):\n    print(p)\n",
        LEAK_ERR,
        2,
    );
    assert!(matches!(r, Refusal::NoResourceOpened { .. }), "{r:?}");
}

#[test]
fn java_uses_try_with_resources() {
    let p = patched(resource_leak, "Config.java", JAVA_LEAK, LEAK_ERR, 7);
    assert_eq!(p.new_source, expected::JAVA_LEAK);
    assert_changes(
        &p,
        &[
            "        BufferedReader reader = new BufferedReader(new FileReader(path));",
            "        String line = reader.readLine();",
            "        reader.close();",
            "        return line;",
        ],
        &[
            "        try (BufferedReader reader = new BufferedReader(new FileReader(path))) {",
            "            String line = reader.readLine();",
            "            return line;",
            "        }",
        ],
    );
    let again = reapply(resource_leak, &p, LEAK_ERR, "try (BufferedReader");
    assert!(matches!(again, Refusal::AlreadyApplied { .. }), "{again:?}");
}

#[test]
fn java_jdbc_connection_and_escape() {
    let src = "class D {\n    Connection open(DataSource ds) throws Exception {\n        Connection c = ds.getConnection();\n        return c;\n    }\n}\n";
    let r = refused(resource_leak, "D.java", src, LEAK_ERR, 3);
    assert!(
        matches!(&r, Refusal::ResourceEscapes { name, .. } if name == "c"),
        "{r:?}"
    );
    let src = "class D {\n    int count(DataSource ds) throws Exception {\n        Connection c = ds.getConnection();\n        return c.prepareStatement(\"SELECT 1\").executeQuery().getInt(1);\n    }\n}\n";
    let p = patched(resource_leak, "D.java", src, LEAK_ERR, 3);
    assert!(p.new_source.contains("        try (Connection c = ds.getConnection()) {\n            return c.prepareStatement"), "{}", p.new_source);
}

#[test]
fn go_defers_close_after_the_error_check() {
    let p = patched(resource_leak, "size.go", GO_LEAK, LEAK_ERR, 6);
    assert_eq!(p.new_source, expected::GO_LEAK);
    assert_changes(&p, &[], &["\tdefer f.Close()"]);
    let again = reapply(resource_leak, &p, LEAK_ERR, "f, err := os.Open");
    assert!(matches!(again, Refusal::AlreadyApplied { .. }), "{again:?}");
}

#[test]
fn go_http_response_bodies_are_closed_only_after_the_error_check() {
    let src = "package c\n\nimport \"net/http\"\n\nfunc ping(u string) error {\n\tresp, err := http.Get(u)\n\tif err != nil {\n\t\treturn err\n\t}\n\treturn nil\n}\n";
    let p = patched(resource_leak, "c.go", src, LEAK_ERR, 6);
    assert_changes(&p, &[], &["\tdefer resp.Body.Close()"]);
    assert!(
        p.new_source
            .contains("\t\treturn err\n\t}\n\tdefer resp.Body.Close()\n\treturn nil\n"),
        "{}",
        p.new_source
    );

    let unchecked = "package c\n\nimport \"net/http\"\n\nfunc ping(u string) error {\n\tresp, err := http.Get(u)\n\treturn err\n}\n";
    let r = refused(resource_leak, "c.go", unchecked, LEAK_ERR, 6);
    assert!(
        matches!(&r, Refusal::UnsafeStatement { why } if why.contains("nil")),
        "{r:?}"
    );
}

#[test]
fn javascript_closes_in_finally() {
    let p = patched(resource_leak, "first.js", JS_LEAK, LEAK_ERR, 4);
    assert_eq!(p.new_source, expected::JS_LEAK);
    assert_changes(
        &p,
        &[
            "  const buf = Buffer.alloc(1);",
            "  fs.readSync(fd, buf, 0, 1, 0);",
            "  return buf[0];",
        ],
        &[
            "  try {",
            "    const buf = Buffer.alloc(1);",
            "    fs.readSync(fd, buf, 0, 1, 0);",
            "    return buf[0];",
            "  } finally {",
            "    fs.closeSync(fd);",
            "  }",
        ],
    );
    let again = reapply(resource_leak, &p, LEAK_ERR, "const fd = fs.openSync");
    assert!(matches!(again, Refusal::AlreadyApplied { .. }), "{again:?}");
}

#[test]
fn javascript_pooled_connections_are_released() {
    let src = "async function q(pool) {\n  const client = await pool.connect();\n  const r = await client.query('SELECT 1');\n  return r.rows;\n}\n";
    let p = patched(
        resource_leak,
        "q.ts",
        src,
        ("Error", "timeout exceeded when trying to connect"),
        2,
    );
    assert!(
        p.new_source
            .ends_with("  } finally {\n    client.release();\n  }\n}\n"),
        "{}",
        p.new_source
    );
}

#[test]
fn rust_is_refused_because_raii_closes() {
    let src = "fn f() -> u8 {\n    let file = open_it();\n    1\n}\n";
    let r = refused(resource_leak, "src/lib.rs", src, LEAK_ERR, 2);
    assert!(
        matches!(&r, Refusal::UnsupportedLanguage { language: Language::Rust, why, .. } if why.contains("RAII")),
        "{r:?}"
    );
}
