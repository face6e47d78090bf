use super::super::circuit_breaker::circuit_breaker;
use super::super::template::{Language, Refusal};
use super::{assert_changes_include, expected, fixtures::*, patched, reapply, refused};

#[test]
fn python_local_helper_or_pybreaker() {
    let p = patched(circuit_breaker, "price.py", PY_RETRY, TRANSIENT, 5);
    assert_eq!(p.new_source, expected::PY_CB);
    assert_changes_include(
        &p,
        &["    resp = requests.get(url, timeout=5)"],
        &[
            "import time",
            "class _CcpCircuitBreaker:",
            "_ccp_breaker = _CcpCircuitBreaker()",
            "    resp = _ccp_breaker.call(lambda: requests.get(url, timeout=5))",
        ],
    );
    let again = reapply(circuit_breaker, &p, TRANSIENT, "resp = _ccp_breaker.call");
    assert!(matches!(again, Refusal::AlreadyApplied { .. }), "{again:?}");
    // A second call site reuses the breaker instead of adding another.
    let second = patched(
        circuit_breaker,
        "price.py",
        &p.new_source,
        TRANSIENT,
        super::line_of(&p.new_source, "return requests.post"),
    );
    assert_eq!(
        second
            .new_source
            .matches("class _CcpCircuitBreaker")
            .count(),
        1
    );

    let p = patched(circuit_breaker, "price.py", PY_CB_LIB, TRANSIENT, 6);
    assert_eq!(p.new_source, expected::PY_CB_LIB);
    assert!(p.rationale.contains("pybreaker"), "{}", p.rationale);
}

#[test]
fn java_local_helper_or_resilience4j() {
    let p = patched(circuit_breaker, "Catalog.java", JAVA_RETRY, TRANSIENT, 13);
    assert_eq!(p.new_source, expected::JAVA_CB);
    assert_changes_include(
        &p,
        &["        HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());"],
        &[
            "import java.util.concurrent.TimeUnit;",
            "        HttpResponse<String> response;",
            "        CCP_BREAKER.acquirePermission();",
            "            response = client.send(request, HttpResponse.BodyHandlers.ofString());",
            "            throw t;",
            "    private static final CcpCircuitBreaker CCP_BREAKER = new CcpCircuitBreaker();",
        ],
    );
    let again = reapply(circuit_breaker, &p, TRANSIENT, "response = client.send");
    assert!(matches!(again, Refusal::AlreadyApplied { .. }), "{again:?}");

    let p = patched(circuit_breaker, "Catalog.java", JAVA_CB_LIB, TRANSIENT, 12);
    assert_eq!(p.new_source, expected::JAVA_CB_LIB);
    assert!(p
        .new_source
        .contains("CircuitBreaker.ofDefaults(\"Catalog\")"));
    assert!(!p.new_source.contains("class CcpCircuitBreaker"));
}

#[test]
fn go_local_helper_or_gobreaker() {
    let p = patched(circuit_breaker, "status.go", GO_RETRY, TRANSIENT, 6);
    assert_eq!(p.new_source, expected::GO_CB);
    assert_changes_include(
        &p,
        &[],
        &[
            "\tccpDone, err := ccpBreaker.Allow()",
            "\t\treturn 0, err",
            "\tccpDone(err == nil)",
            "type ccpCircuitBreaker struct {",
        ],
    );
    let again = reapply(circuit_breaker, &p, TRANSIENT, "resp, err := http.Get(url)");
    assert!(matches!(again, Refusal::AlreadyApplied { .. }), "{again:?}");

    let p = patched(circuit_breaker, "status.go", GO_CB_LIB, TRANSIENT, 10);
    assert_eq!(p.new_source, expected::GO_CB_LIB);
    assert!(p.rationale.contains("gobreaker"), "{}", p.rationale);

    let no_err = "package c\n\nimport \"net/http\"\n\nfunc ping(u string) {\n\tresp, err := http.Get(u)\n\t_ = resp\n\t_ = err\n}\n";
    let r = refused(circuit_breaker, "c.go", no_err, TRANSIENT, 6);
    assert!(matches!(r, Refusal::NoErrorChannel { .. }), "{r:?}");
}

#[test]
fn javascript_local_helper_or_opossum() {
    let p = patched(circuit_breaker, "load.js", JS_RETRY, TRANSIENT, 2);
    assert_eq!(p.new_source, expected::JS_CB);
    let again = reapply(
        circuit_breaker,
        &p,
        TRANSIENT,
        "ccpBreaker.fire(() => fetch(url))",
    );
    assert!(matches!(again, Refusal::AlreadyApplied { .. }), "{again:?}");
    let p = patched(circuit_breaker, "load.ts", JS_RETRY, TRANSIENT, 2);
    assert_eq!(p.new_source, expected::TS_CB);
    let p = patched(circuit_breaker, "load.js", JS_CB_LIB, TRANSIENT, 4);
    assert_eq!(p.new_source, expected::JS_CB_LIB);
    assert!(p.rationale.contains("opossum"), "{}", p.rationale);
}

#[test]
fn refusals_name_the_reason() {
    let r = refused(
        circuit_breaker,
        "f.py",
        "def f(x):\n    return compute(x)\n",
        TRANSIENT,
        2,
    );
    assert!(matches!(&r, Refusal::NoDependencyCall { .. }), "{r:?}");
    assert!(r.to_string().starts_with("no dependency call on this line"));
    let r = refused(
        circuit_breaker,
        "src/lib.rs",
        "fn f() {\n    g();\n}\n",
        TRANSIENT,
        2,
    );
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
    let ret = "class C {\n    String f(HttpRequest r) throws Exception {\n        return client.send(r, BodyHandlers.ofString()).body();\n    }\n}\n";
    let r = refused(circuit_breaker, "C.java", ret, TRANSIENT, 3);
    assert!(
        matches!(&r, Refusal::UnsafeStatement { why } if why.contains("returned")),
        "{r:?}"
    );
}
