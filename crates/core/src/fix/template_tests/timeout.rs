use super::super::template::Refusal;
use super::super::timeout::timeout;
use super::{assert_changes, expected, fixtures::*, patched, reapply, refused};

#[test]
fn python_requests_gets_a_timeout_once() {
    let p = patched(timeout, "fetch.py", PY_TIMEOUT, TIMEOUT_ERR, 7);
    assert_eq!(p.new_source, expected::PY_TIMEOUT);
    assert_changes(
        &p,
        &["    resp = requests.get(url)"],
        &["    resp = requests.get(url, timeout=10)"],
    );
    assert!(
        p.confidence > 0.8,
        "a ReadTimeout is direct evidence: {}",
        p.confidence
    );
    let again = reapply(timeout, &p, TIMEOUT_ERR, "requests.get(");
    assert!(
        matches!(&again, Refusal::AlreadyHasTimeout { why } if why.contains("requests.get")),
        "{again:?}"
    );
}

#[test]
fn python_urlopen_and_sessions() {
    let src = "def f(u, s):\n    body = urllib.request.urlopen(u).read()\n    r = s.http_session.get(u)\n    return body, r\n";
    let p = patched(timeout, "f.py", src, TIMEOUT_ERR, 2);
    assert_changes(
        &p,
        &["    body = urllib.request.urlopen(u).read()"],
        &["    body = urllib.request.urlopen(u, timeout=10).read()"],
    );
    let p = patched(timeout, "f.py", src, TIMEOUT_ERR, 3);
    assert_changes(
        &p,
        &["    r = s.http_session.get(u)"],
        &["    r = s.http_session.get(u, timeout=10)"],
    );
}

#[test]
fn no_known_call_means_no_timeout_parameter() {
    let r = refused(timeout, "fetch.py", PY_TIMEOUT, TIMEOUT_ERR, 8);
    assert!(
        matches!(&r, Refusal::NoTimeoutParameter { why } if why.contains("json.loads()")),
        "{r:?}"
    );
    assert!(r.to_string().starts_with("no timeout parameter exists"));
    let r = refused(timeout, "f.py", "def f():\n    x = 1\n", TIMEOUT_ERR, 2);
    assert!(
        matches!(&r, Refusal::NoTimeoutParameter { why } if why.contains("no call")),
        "{r:?}"
    );
}

#[test]
fn java_request_builder_gets_timeout_and_import() {
    let p = patched(timeout, "Client.java", JAVA_TIMEOUT, TIMEOUT_ERR, 9);
    assert_eq!(p.new_source, expected::JAVA_TIMEOUT_HTTP);
    assert_changes(
        &p,
        &["        HttpRequest request = HttpRequest.newBuilder(URI.create(url)).GET().build();"],
        &[
            "import java.time.Duration;",
            "        HttpRequest request = HttpRequest.newBuilder(URI.create(url)).GET().timeout(Duration.ofSeconds(10)).build();",
        ],
    );
    let again = reapply(timeout, &p, TIMEOUT_ERR, "HttpRequest request =");
    assert!(
        matches!(again, Refusal::AlreadyHasTimeout { .. }),
        "{again:?}"
    );
}

#[test]
fn java_jdbc_sets_query_timeout_and_http_client_connect_timeout() {
    let p = patched(timeout, "Client.java", JAVA_TIMEOUT, TIMEOUT_ERR, 14);
    assert_eq!(p.new_source, expected::JAVA_TIMEOUT_JDBC);
    assert_changes(&p, &[], &["        stmt.setQueryTimeout(10);"]);
    let again = reapply(timeout, &p, TIMEOUT_ERR, "stmt.executeQuery()");
    assert!(
        matches!(again, Refusal::AlreadyHasTimeout { .. }),
        "{again:?}"
    );

    let src =
        "import java.time.*;\n\nclass C {\n    HttpClient c = HttpClient.newHttpClient();\n}\n";
    let p = patched(timeout, "C.java", src, TIMEOUT_ERR, 4);
    assert_changes(
        &p,
        &["    HttpClient c = HttpClient.newHttpClient();"],
        &["    HttpClient c = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();"],
    );
}

#[test]
fn java_send_has_no_timeout_parameter() {
    let src = "class C {\n    String f(HttpRequest r) throws Exception {\n        return client.send(r, BodyHandlers.ofString()).body();\n    }\n}\n";
    let r = refused(timeout, "C.java", src, TIMEOUT_ERR, 3);
    assert!(
        matches!(&r, Refusal::NoTimeoutParameter { why } if why.contains("HttpRequest builder")),
        "{r:?}"
    );
}

#[test]
fn go_default_client_gets_a_timeout() {
    let p = patched(timeout, "fetch.go", GO_TIMEOUT, TIMEOUT_ERR, 9);
    assert_eq!(p.new_source, expected::GO_TIMEOUT);
    assert_changes(
        &p,
        &["\tresp, err := http.Get(url)"],
        &[
            "\t\"time\"",
            "\tresp, err := (&http.Client{Timeout: 10 * time.Second}).Get(url)",
        ],
    );
    let again = reapply(timeout, &p, TIMEOUT_ERR, "resp, err :=");
    assert!(
        matches!(
            again,
            Refusal::NoTimeoutParameter { .. } | Refusal::AlreadyHasTimeout { .. }
        ),
        "{again:?}"
    );
}

#[test]
fn go_queries_get_a_context_deadline() {
    let src = "package db\n\nimport (\n\t\"context\"\n\t\"database/sql\"\n)\n\nfunc names(ctx context.Context, db *sql.DB) error {\n\trows, err := db.Query(\"SELECT name FROM users\")\n\tif err != nil {\n\t\treturn err\n\t}\n\treturn rows.Close()\n}\n";
    let p = patched(timeout, "db.go", src, TIMEOUT_ERR, 9);
    assert_changes(
        &p,
        &["\trows, err := db.Query(\"SELECT name FROM users\")"],
        &[
            "\t\"time\"",
            "\ttimeoutCtx, cancelTimeout := context.WithTimeout(ctx, 10*time.Second)",
            "\tdefer cancelTimeout()",
            "\trows, err := db.QueryContext(timeoutCtx, \"SELECT name FROM users\")",
        ],
    );
    let again = reapply(timeout, &p, TIMEOUT_ERR, "db.QueryContext");
    assert!(
        matches!(again, Refusal::AlreadyHasTimeout { .. }),
        "{again:?}"
    );
    let empty_client = "package c\n\nimport \"net/http\"\n\nvar client = &http.Client{}\n";
    let p = patched(timeout, "c.go", empty_client, TIMEOUT_ERR, 5);
    assert!(
        p.new_source
            .contains("var client = &http.Client{Timeout: 10 * time.Second}\n"),
        "{}",
        p.new_source
    );
    assert!(
        p.new_source.contains("import \"time\"\n"),
        "{}",
        p.new_source
    );
}

#[test]
fn javascript_fetch_gets_an_abort_signal() {
    let p = patched(timeout, "load.js", JS_TIMEOUT, TIMEOUT_ERR, 2);
    assert_eq!(p.new_source, expected::JS_TIMEOUT);
    assert_changes(
        &p,
        &["  const res = await fetch(url);"],
        &["  const res = await fetch(url, { signal: AbortSignal.timeout(10000) });"],
    );
    let again = reapply(timeout, &p, TIMEOUT_ERR, "const res =");
    assert!(
        matches!(again, Refusal::AlreadyHasTimeout { .. }),
        "{again:?}"
    );

    let p = patched(timeout, "load.js", JS_TIMEOUT, TIMEOUT_ERR, 3);
    assert_eq!(p.new_source, expected::JS_TIMEOUT_OPTS);
    let src = "async function f(u, opts) {\n  return fetch(u, opts);\n}\n";
    let p = patched(timeout, "f.ts", src, TIMEOUT_ERR, 2);
    assert_changes(
        &p,
        &["  return fetch(u, opts);"],
        &["  return fetch(u, { ...opts, signal: AbortSignal.timeout(10000) });"],
    );
}

#[test]
fn javascript_axios_gets_timeout_in_the_config_position() {
    let src =
        "async function f(u, body) {\n  await axios.get(u);\n  await axios.post(u, body);\n}\n";
    let p = patched(timeout, "f.js", src, TIMEOUT_ERR, 2);
    assert_changes(
        &p,
        &["  await axios.get(u);"],
        &["  await axios.get(u, { timeout: 10000 });"],
    );
    let p = patched(timeout, "f.js", src, TIMEOUT_ERR, 3);
    assert_changes(
        &p,
        &["  await axios.post(u, body);"],
        &["  await axios.post(u, body, { timeout: 10000 });"],
    );
}

#[test]
fn rust_request_builder_gets_timeout_and_use() {
    let p = patched(timeout, "src/fetch.rs", RS_TIMEOUT, TIMEOUT_ERR, 2);
    assert_eq!(p.new_source, expected::RS_TIMEOUT);
    assert_changes(
        &p,
        &["    let body = client.get(url).send()?.text()?;"],
        &[
            "use std::time::Duration;",
            "",
            "    let body = client.get(url).timeout(Duration::from_secs(10)).send()?.text()?;",
        ],
    );
    let again = reapply(timeout, &p, TIMEOUT_ERR, "let body =");
    assert!(
        matches!(again, Refusal::AlreadyHasTimeout { .. }),
        "{again:?}"
    );
}

#[test]
fn rust_client_new_becomes_a_builder() {
    let src = "use std::time::Duration;\n\nfn client() -> Client {\n    Client::new()\n}\n";
    let p = patched(timeout, "src/c.rs", src, TIMEOUT_ERR, 4);
    assert_changes(
        &p,
        &["    Client::new()"],
        &["    Client::builder().timeout(Duration::from_secs(10)).build().expect(\"HTTP client with a timeout (ccp timeout)\")"],
    );
    let r = refused(
        timeout,
        "src/c.rs",
        "fn f() -> u8 {\n    compute(1)\n}\n",
        TIMEOUT_ERR,
        2,
    );
    assert!(matches!(r, Refusal::NoTimeoutParameter { .. }), "{r:?}");
}

#[test]
fn go_client_literal_with_fields_gets_timeout_first() {
    let src = "package c\n\nimport \"net/http\"\n\nvar client = &http.Client{Transport: tr}\n";
    let p = patched(timeout, "c.go", src, TIMEOUT_ERR, 5);
    assert!(
        p.new_source
            .contains("var client = &http.Client{Timeout: 10 * time.Second, Transport: tr}\n"),
        "{}",
        p.new_source
    );
}

#[test]
fn crlf_files_keep_their_line_endings() {
    let src = PY_TIMEOUT.replace('\n', "\r\n");
    let p = patched(timeout, "fetch.py", &src, TIMEOUT_ERR, 7);
    assert_eq!(p.new_source, expected::PY_TIMEOUT.replace('\n', "\r\n"));
}
