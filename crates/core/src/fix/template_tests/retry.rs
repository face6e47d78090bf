use super::super::retry::retry;
use super::super::template::{Language, Refusal};
use super::{assert_changes_include, expected, fixtures::*, patched, reapply, refused};

#[test]
fn python_get_is_retried_through_a_helper() {
    let p = patched(retry, "price.py", PY_RETRY, TRANSIENT, 5);
    assert_eq!(p.new_source, expected::PY_RETRY);
    assert_changes_include(
        &p,
        &["    resp = requests.get(url, timeout=5)"],
        &[
            "import random",
            "import time",
            "def _ccp_retry(call, attempts=3, base_delay=0.2, max_delay=2.0):",
            "            time.sleep(random.uniform(0, min(max_delay, base_delay * 2**attempt)))",
            "    resp = _ccp_retry(lambda: requests.get(url, timeout=5))",
        ],
    );
    assert!(
        p.rationale
            .contains("HTTP GET is idempotent (method name `requests.get`)"),
        "{}",
        p.rationale
    );
    let again = reapply(retry, &p, TRANSIENT, "resp = _ccp_retry");
    assert!(matches!(again, Refusal::AlreadyApplied { .. }), "{again:?}");
}

#[test]
fn post_is_refused_unless_an_idempotency_key_is_sent() {
    let r = refused(retry, "price.py", PY_RETRY, TRANSIENT, 10);
    assert!(
        matches!(&r, Refusal::NotIdempotent { why } if why.contains("HTTP POST")),
        "{r:?}"
    );
    assert!(r.to_string().starts_with("the call is not idempotent"));

    let keyed = "import requests\n\n\ndef pay(url, body, key):\n    headers = {\"Idempotency-Key\": key}\n    return requests.post(url, json=body, headers=headers, timeout=5)\n";
    let p = patched(retry, "pay.py", keyed, TRANSIENT, 6);
    assert!(p.rationale.contains("idempotency key"), "{}", p.rationale);
    assert!(p.new_source.contains("    return _ccp_retry(lambda: requests.post(url, json=body, headers=headers, timeout=5))\n"));
}

#[test]
fn sql_reads_are_retried_and_writes_refused() {
    let src = "def f(cur, uid):\n    cur.execute(\"SELECT name FROM users WHERE id = %s\", (uid,))\n    cur.execute(\"UPDATE users SET seen = now() WHERE id = %s\", (uid,))\n    return cur.fetchone()\n";
    let p = patched(retry, "f.py", src, TRANSIENT, 2);
    assert!(p.rationale.contains("read (`SELECT`)"), "{}", p.rationale);
    let r = refused(retry, "f.py", src, TRANSIENT, 3);
    assert!(
        matches!(&r, Refusal::NotIdempotent { why } if why.contains("`UPDATE`")),
        "{r:?}"
    );
    let unknown = "def f(cur, q):\n    cur.execute(q)\n";
    let r = refused(retry, "f.py", unknown, TRANSIENT, 2);
    assert!(
        matches!(&r, Refusal::IdempotencyUnknown { call } if call == "cur.execute(q)"),
        "{r:?}"
    );
    let none = "def f(x):\n    return compute(x)\n";
    let r = refused(retry, "f.py", none, TRANSIENT, 2);
    assert!(matches!(r, Refusal::NoDependencyCall { .. }), "{r:?}");
}

#[test]
fn java_get_is_retried_and_helper_added_once() {
    let p = patched(retry, "Catalog.java", JAVA_RETRY, TRANSIENT, 13);
    assert_eq!(p.new_source, expected::JAVA_RETRY);
    assert_changes_include(
        &p,
        &["        HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());"],
        &[
            "        HttpResponse<String> response = ccpRetry(() -> client.send(request, HttpResponse.BodyHandlers.ofString()));",
            "    private static <T> T ccpRetry(java.util.concurrent.Callable<T> call) {",
            "            ceilingMillis = Math.min(ceilingMillis * 2, 2000);",
        ],
    );
    assert!(
        p.rationale.contains("built with `.GET(…)`"),
        "{}",
        p.rationale
    );
    let again = reapply(retry, &p, TRANSIENT, "response = ccpRetry");
    assert!(matches!(again, Refusal::AlreadyApplied { .. }), "{again:?}");
}

#[test]
fn java_post_and_jdbc_updates_are_refused_and_queries_retried() {
    let post = JAVA_RETRY.replace(
        ".GET()",
        ".POST(HttpRequest.BodyPublishers.ofString(\"{}\"))",
    );
    let r = refused(retry, "Catalog.java", &post, TRANSIENT, 13);
    assert!(
        matches!(&r, Refusal::NotIdempotent { why } if why.contains("POST")),
        "{r:?}"
    );
    let jdbc = "class D {\n    void f(PreparedStatement ps) throws Exception {\n        ResultSet rs = ps.executeQuery();\n        int n = ps.executeUpdate();\n    }\n}\n";
    let p = patched(retry, "D.java", jdbc, TRANSIENT, 3);
    assert!(
        p.new_source
            .contains("        ResultSet rs = ccpRetry(() -> ps.executeQuery());\n"),
        "{}",
        p.new_source
    );
    let r = refused(retry, "D.java", jdbc, TRANSIENT, 4);
    assert!(matches!(r, Refusal::IdempotencyUnknown { .. }), "{r:?}");
}

#[test]
fn go_get_is_retried_in_a_bounded_loop() {
    let p = patched(retry, "status.go", GO_RETRY, TRANSIENT, 6);
    assert_eq!(p.new_source, expected::GO_RETRY);
    assert_changes_include(
        &p,
        &[],
        &[
            "import \"math/rand\"",
            "import \"time\"",
            "\tfor attempt := 1; err != nil && attempt < 3; attempt++ {",
            "\t\tccpBackoff(attempt)",
            "\t\tresp, err = http.Get(url)",
            "func ccpBackoff(attempt int) {",
        ],
    );
    let again = reapply(retry, &p, TRANSIENT, "resp, err := http.Get(url)");
    assert!(matches!(again, Refusal::AlreadyApplied { .. }), "{again:?}");
    let post = GO_RETRY.replace("http.Get(url)", "http.Post(url, \"application/json\", nil)");
    let r = refused(retry, "status.go", &post, TRANSIENT, 6);
    assert!(
        matches!(&r, Refusal::NotIdempotent { why } if why.contains("POST")),
        "{r:?}"
    );
}

#[test]
fn javascript_fetch_get_is_retried_and_post_refused() {
    let p = patched(retry, "load.ts", JS_RETRY, TRANSIENT, 2);
    assert_eq!(p.new_source, expected::JS_RETRY);
    assert_eq!(p.language, Language::TypeScript);
    let again = reapply(retry, &p, TRANSIENT, "ccpRetry(() => fetch(url))");
    assert!(matches!(again, Refusal::AlreadyApplied { .. }), "{again:?}");

    let p = patched(retry, "load.js", JS_RETRY, TRANSIENT, 2);
    assert!(p
        .new_source
        .contains("async function ccpRetry(call, attempts = 3, baseMs = 200, maxMs = 2000) {"));
    assert!(p.rationale.contains("defaults to GET"), "{}", p.rationale);

    let post = "async function send(url, body) {\n  const res = await fetch(url, { method: 'POST', body });\n  return res.ok;\n}\n";
    let r = refused(retry, "send.js", post, TRANSIENT, 2);
    assert!(
        matches!(&r, Refusal::NotIdempotent { why } if why.contains("POST")),
        "{r:?}"
    );
    let not_awaited = "function f(url) {\n  const p = fetch(url);\n  return p;\n}\n";
    let r = refused(retry, "f.js", not_awaited, TRANSIENT, 2);
    assert!(
        matches!(&r, Refusal::UnsafeStatement { why } if why.contains("not awaited")),
        "{r:?}"
    );
}

#[test]
fn rust_is_not_templated() {
    let r = refused(retry, "src/lib.rs", "fn f() {\n    g();\n}\n", TRANSIENT, 2);
    assert!(
        matches!(
            r,
            Refusal::UnsupportedLanguage {
                language: Language::Rust,
                ..
            }
        ),
        "{r:?}"
    );
}

#[test]
fn javascript_options_from_elsewhere_leave_the_method_unknown() {
    let src =
        "async function f(url, opts) {\n  const res = await fetch(url, opts);\n  return res;\n}\n";
    let r = refused(retry, "f.js", src, TRANSIENT, 2);
    assert!(matches!(r, Refusal::IdempotencyUnknown { .. }), "{r:?}");
    let var = "async function f(url, m) {\n  const res = await fetch(url, { method: m });\n  return res;\n}\n";
    let r = refused(retry, "f.js", var, TRANSIENT, 2);
    assert!(matches!(r, Refusal::IdempotencyUnknown { .. }), "{r:?}");
}

#[test]
fn python_from_import_does_not_count_as_importing_the_module() {
    let src = "from time import sleep\nimport requests\n\n\ndef f(u):\n    return requests.get(u, timeout=1)\n";
    let p = patched(retry, "f.py", src, TRANSIENT, 6);
    assert!(
        p.new_source
            .starts_with("from time import sleep\nimport requests\nimport random\nimport time\n"),
        "{}",
        p.new_source
    );
}
