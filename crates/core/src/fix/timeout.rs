//! The timeout template: bound the HTTP, database or socket call at the culprit line.
//!
//! Why: a call without a timeout waits as long as its dependency does, so one slow dependency
//! holds threads, connections and the caller's own deadline. The template adds the client
//! library's own timeout (never a home-made one) and refuses when the call already has one or
//! when no call on the line accepts one.

use super::code::{calls, has_word, Call, Code};
use super::stmt::{classify, StmtKind};
use super::template::{FixInput, FixTemplate, Language, Patch, Refusal, SignalKind};

/// Template name recorded in [`Patch::template`].
pub const NAME: &str = "timeout";

/// Seconds used for new timeouts: a starting bound, which the rationale asks to tune to the
/// dependency's p99.
pub const TIMEOUT_SECS: u32 = 10;

/// The call-timeout template.
pub struct Timeout;

impl FixTemplate for Timeout {
    fn name(&self) -> &'static str {
        NAME
    }

    fn signal_fit(&self, signal: SignalKind) -> (f64, &'static str) {
        match signal {
            SignalKind::Latency => (
                1.0,
                "an unbounded call is the classic cause of a latency spike",
            ),
            SignalKind::Saturation => (
                0.8,
                "calls that hang hold threads and connections until the pool runs out",
            ),
            SignalKind::Errors => (
                0.6,
                "timeouts help errors only when the errors are themselves timeouts",
            ),
        }
    }

    fn propose(&self, input: &FixInput<'_>) -> Result<Patch, Refusal> {
        timeout(input)
    }
}

/// Add a timeout to the call at the culprit line, in the call's own API.
pub fn timeout(input: &FixInput<'_>) -> Result<Patch, Refusal> {
    let (mut code, idx) = Code::at_culprit(input)?;
    let found = calls(&code.masked[idx]);
    let how = match input.language {
        Language::Python => python(&mut code, idx, &found)?,
        Language::Java => java(&mut code, idx, &found)?,
        Language::Go => go(&mut code, idx, &found)?,
        Language::JavaScript | Language::TypeScript => js(&mut code, idx, &found)?,
        Language::Rust => rust(&mut code, idx, &found)?,
    };
    let text = input.evidence_text();
    let evidence = if ["timeout", "timed out", "deadline", "etimedout", "too slow"]
        .iter()
        .any(|w| text.contains(w))
    {
        0.85
    } else {
        0.5
    };
    let rationale = format!(
        "{how} at {}:{}, so a slow dependency fails fast instead of holding the caller; {TIMEOUT_SECS} s is a starting bound, tune it to the dependency's p99.",
        input.file, input.line
    );
    Ok(Patch::new(NAME, input, code.render(), rationale, evidence))
}

fn no_parameter(found: &[Call]) -> Refusal {
    let why = if found.is_empty() {
        "there is no call on the line".to_string()
    } else {
        format!(
            "none of the calls on the line (`{}`) is a client call the template knows a timeout parameter for",
            found.iter().map(|c| format!("{}()", c.callee)).collect::<Vec<_>>().join("`, `")
        )
    };
    Refusal::NoTimeoutParameter { why }
}

fn already(call: &str, what: &str) -> Refusal {
    Refusal::AlreadyHasTimeout {
        why: format!("`{call}` already sets {what}"),
    }
}

/// Top-level comma-separated arguments of a call, trimmed, from the original line.
pub(crate) fn arg_list(code: &Code, idx: usize, call: &Call) -> Vec<String> {
    let masked = &code.masked[idx][call.open + 1..call.close];
    let line = &code.lines[idx][call.open + 1..call.close];
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, b) in masked.bytes().enumerate() {
        match b {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            b',' if depth == 0 => {
                out.push(line[start..i].trim().to_string());
                start = i + 1;
            }
            _ => {}
        }
    }
    let last = line[start..].trim();
    if !last.is_empty() {
        out.push(last.to_string());
    }
    out
}

fn insert_at(code: &mut Code, idx: usize, at: usize, text: &str) {
    let line = &code.lines[idx];
    let new = format!("{}{text}{}", &line[..at], &line[at..]);
    code.splice(idx..idx + 1, vec![new]);
}

const PY_HTTP_METHODS: [&str; 8] = [
    "get", "post", "put", "delete", "head", "patch", "options", "request",
];

/// Whether a Python callee is an HTTP client call that takes `timeout=`.
pub(crate) fn python_http(call: &Call) -> bool {
    let recv = call.receiver();
    PY_HTTP_METHODS.contains(&call.method())
        && (matches!(recv, "requests" | "httpx") || recv.to_ascii_lowercase().ends_with("session"))
}

fn python(code: &mut Code, idx: usize, found: &[Call]) -> Result<String, Refusal> {
    let call = found
        .iter()
        .find(|c| python_http(c) || matches!(c.method(), "urlopen" | "create_connection"))
        .ok_or_else(|| no_parameter(found))?;
    let args = arg_list(code, idx, call);
    let positional_timeout = call.method() == "urlopen"
        && args.iter().filter(|a| !a.contains('=')).count() >= 3
        || call.method() == "create_connection"
            && args.iter().filter(|a| !a.contains('=')).count() >= 2;
    if args.iter().any(|a| a.starts_with("timeout")) || positional_timeout {
        return Err(already(&call.callee, "a timeout"));
    }
    let sep = if args.is_empty() { "" } else { ", " };
    let callee = call.callee.clone();
    insert_at(
        code,
        idx,
        call.close,
        &format!("{sep}timeout={TIMEOUT_SECS}"),
    );
    Ok(format!("`{callee}()` now passes `timeout={TIMEOUT_SECS}`"))
}

fn java(code: &mut Code, idx: usize, found: &[Call]) -> Result<String, Refusal> {
    let masked = code.masked[idx].clone();
    let duration = format!("Duration.ofSeconds({TIMEOUT_SECS})");
    let builder = |code: &mut Code, start: &str, method: &str| -> Result<String, Refusal> {
        let from = masked.find(start).unwrap_or(0);
        if masked[from..].contains(&format!(".{method}(")) {
            return Err(already(
                start.trim_end_matches('('),
                &format!("`.{method}(…)`"),
            ));
        }
        let build = masked[from..]
            .find(".build()")
            .map(|p| from + p)
            .ok_or_else(|| Refusal::NoTimeoutParameter {
                why: format!("the `{start}…` chain is not built on this line, so the template cannot see where to add `.{method}(…)`"),
            })?;
        insert_at(code, idx, build, &format!(".{method}({duration})"));
        java_duration_import(code);
        Ok(format!(
            "the `{}` now sets `.{method}({duration})`",
            start.trim_end_matches('(')
        ))
    };
    if masked.contains("HttpRequest.newBuilder(") {
        return builder(code, "HttpRequest.newBuilder(", "timeout");
    }
    if masked.contains("HttpClient.newBuilder(") {
        return builder(code, "HttpClient.newBuilder(", "connectTimeout");
    }
    if let Some(p) = masked.find("HttpClient.newHttpClient()") {
        let line = code.lines[idx].clone();
        let new = format!(
            "{}HttpClient.newBuilder().connectTimeout({duration}).build(){}",
            &line[..p],
            &line[p + "HttpClient.newHttpClient()".len()..]
        );
        code.splice(idx..idx + 1, vec![new]);
        java_duration_import(code);
        return Ok(format!(
            "the HttpClient is now built with `connectTimeout({duration})`"
        ));
    }
    if let Some(call) = found.iter().find(|c| c.method().starts_with("execute")) {
        let recv = call.receiver().to_string();
        if recv.is_empty() || !recv.bytes().all(super::code::is_ident) {
            return Err(Refusal::NoTimeoutParameter {
                why: format!("`{}` runs on a statement that is not held in a variable, so `setQueryTimeout` cannot be called on it first", call.callee),
            });
        }
        if code.file_contains(&format!("{recv}.setQueryTimeout(")) {
            return Err(already(&recv, "`setQueryTimeout`"));
        }
        let indent = code.indent(idx).to_string();
        code.insert(
            idx,
            vec![format!("{indent}{recv}.setQueryTimeout({TIMEOUT_SECS});")],
        );
        return Ok(format!("the JDBC statement `{recv}` now calls `setQueryTimeout({TIMEOUT_SECS})` (seconds) before `{}`", call.method()));
    }
    if let Some(call) = found
        .iter()
        .find(|c| matches!(c.method(), "send" | "sendAsync"))
    {
        return Err(Refusal::NoTimeoutParameter {
            why: format!("`{}` takes no timeout; it belongs on the HttpRequest builder (`.timeout(…)`) where the request is built", call.callee),
        });
    }
    Err(no_parameter(found))
}

fn java_duration_import(code: &mut Code) {
    if !code.text_contains("import java.time.*;") {
        code.ensure_import("java.time.Duration");
    }
}

fn go(code: &mut Code, idx: usize, found: &[Call]) -> Result<String, Refusal> {
    let line = code.lines[idx].clone();
    let masked = code.masked[idx].clone();
    let client = format!("http.Client{{Timeout: {TIMEOUT_SECS} * time.Second}}");
    if let Some(p) = masked.find("http.Client{") {
        let close = super::code::matching_close(&masked, p + "http.Client".len()).unwrap_or(p);
        if masked[p..close].contains("Timeout") {
            return Err(already("http.Client", "`Timeout`"));
        }
        let fields = line[p + "http.Client{".len()..close].trim();
        let client = if fields.is_empty() {
            client
        } else {
            format!("http.Client{{Timeout: {TIMEOUT_SECS} * time.Second, {fields}}}")
        };
        let new = format!("{}{client}{}", &line[..p], &line[close + 1..]);
        code.splice(idx..idx + 1, vec![new]);
        code.ensure_import("time");
        return Ok(format!(
            "the http.Client now has `Timeout: {TIMEOUT_SECS} * time.Second`"
        ));
    }
    if let Some(call) = found.iter().find(|c| {
        matches!(
            c.callee.as_str(),
            "http.Get" | "http.Head" | "http.Post" | "http.PostForm" | "http.DefaultClient.Do"
        )
    }) {
        let method = call.method().to_string();
        let new = format!(
            "{}(&{client}).{method}{}",
            &line[..call.start],
            &line[call.open..]
        );
        code.splice(idx..idx + 1, vec![new]);
        code.ensure_import("time");
        return Ok(format!("`{}` (the default client has no timeout) now goes through an `http.Client` with `Timeout: {TIMEOUT_SECS} * time.Second`", call.callee));
    }
    if let Some(call) = found.iter().find(|c| c.callee == "net.Dial") {
        let new = format!(
            "{}net.DialTimeout({}, {TIMEOUT_SECS}*time.Second){}",
            &line[..call.start],
            call.args(&line),
            &line[call.close + 1..]
        );
        code.splice(idx..idx + 1, vec![new]);
        code.ensure_import("time");
        return Ok(format!(
            "`net.Dial` became `net.DialTimeout(…, {TIMEOUT_SECS}*time.Second)`"
        ));
    }
    if let Some(call) = found.iter().find(|c| {
        matches!(
            c.method(),
            "QueryContext" | "QueryRowContext" | "ExecContext"
        )
    }) {
        return Err(Refusal::AlreadyHasTimeout {
            why: format!(
                "`{}` already takes a context; bound that context's deadline where it is created",
                call.callee
            ),
        });
    }
    if let Some(call) = found
        .iter()
        .find(|c| matches!(c.method(), "Query" | "QueryRow" | "Exec") && !c.receiver().is_empty())
    {
        if classify(code, idx) == StmtKind::Return {
            return Err(Refusal::UnsafeStatement {
                why: "the query result is returned; a deferred cancel would end its context while the caller still reads it".into(),
            });
        }
        let header = code.function_header(idx).unwrap_or(0);
        if (header..idx).any(|i| {
            code.masked[i].contains("context.WithTimeout")
                || code.masked[i].contains("context.WithDeadline")
        }) {
            return Err(already("the function", "a context deadline"));
        }
        let parent = if code.masked[header].contains("ctx context.Context") {
            "ctx"
        } else {
            "context.Background()"
        };
        let indent = code.indent(idx).to_string();
        let method = call.method();
        let new = format!(
            "{}{}Context(timeoutCtx, {}",
            &line[..call.start],
            call.callee,
            &line[call.open + 1..]
        );
        let new = if call.args(&line).trim().is_empty() {
            new.replacen("(timeoutCtx, ", "(timeoutCtx", 1)
        } else {
            new
        };
        code.splice(
            idx..idx + 1,
            vec![
                format!("{indent}timeoutCtx, cancelTimeout := context.WithTimeout({parent}, {TIMEOUT_SECS}*time.Second)"),
                format!("{indent}defer cancelTimeout()"),
                new,
            ],
        );
        code.ensure_import("context");
        code.ensure_import("time");
        return Ok(format!("`{method}` became `{method}Context` with a context bounded by `context.WithTimeout(…, {TIMEOUT_SECS}*time.Second)`"));
    }
    Err(no_parameter(found))
}

fn js(code: &mut Code, idx: usize, found: &[Call]) -> Result<String, Refusal> {
    let ms = TIMEOUT_SECS * 1000;
    if let Some(call) = found.iter().find(|c| {
        matches!(
            c.callee.as_str(),
            "fetch" | "globalThis.fetch" | "window.fetch"
        )
    }) {
        let args = arg_list(code, idx, call);
        if args
            .iter()
            .any(|a| has_word(a, "signal") || has_word(a, "timeout"))
        {
            return Err(already("fetch", "an abort signal"));
        }
        let signal = format!("signal: AbortSignal.timeout({ms})");
        return js_options(code, idx, call, &args, 1, &signal)
            .map(|_| format!("`fetch()` now passes `{{ {signal} }}`"));
    }
    if let Some(call) = found
        .iter()
        .find(|c| c.receiver() == "axios" || c.callee == "axios")
    {
        let args = arg_list(code, idx, call);
        if args.iter().any(|a| has_word(a, "timeout")) {
            return Err(already(&call.callee, "`timeout`"));
        }
        let config_at = match call.method() {
            "post" | "put" | "patch" => 2,
            "axios" | "request" => 0,
            _ => 1,
        };
        let option = format!("timeout: {ms}");
        return js_options(code, idx, call, &args, config_at, &option).map(|_| {
            format!(
                "`{}()` now passes `{{ {option} }}` (milliseconds)",
                call.callee
            )
        });
    }
    Err(no_parameter(found))
}

/// Put `option` into the options argument at position `at`: append an object, extend an object
/// literal, or spread an options variable into a new object.
fn js_options(
    code: &mut Code,
    idx: usize,
    call: &Call,
    args: &[String],
    at: usize,
    option: &str,
) -> Result<(), Refusal> {
    let mut args = args.to_vec();
    if args.len() < at {
        return Err(Refusal::NoTimeoutParameter {
            why: format!(
                "`{}` has fewer arguments than expected before its options",
                call.callee
            ),
        });
    }
    if args.len() == at {
        args.push(format!("{{ {option} }}"));
    } else {
        let existing = args[at].clone();
        args[at] = if let Some(inner) = existing.strip_prefix('{').and_then(|s| s.strip_suffix('}'))
        {
            if inner.trim().is_empty() {
                format!("{{ {option} }}")
            } else {
                format!("{{ {option}, {} }}", inner.trim())
            }
        } else {
            format!("{{ ...{existing}, {option} }}")
        };
    }
    let line = code.lines[idx].clone();
    let new = format!(
        "{}{}{}",
        &line[..=call.open],
        args.join(", "),
        &line[call.close..]
    );
    code.splice(idx..idx + 1, vec![new]);
    Ok(())
}

fn rust(code: &mut Code, idx: usize, found: &[Call]) -> Result<String, Refusal> {
    let line = code.lines[idx].clone();
    let masked = code.masked[idx].clone();
    let timeout = format!(".timeout(Duration::from_secs({TIMEOUT_SECS}))");
    if masked.contains(".timeout(") {
        return Err(already("the builder", "`.timeout(…)`"));
    }
    let how = if let Some(call) = found
        .iter()
        .find(|c| c.callee.ends_with("Client::new") && c.args(&masked).trim().is_empty())
    {
        let path = call.callee.trim_end_matches("::new");
        let new = format!(
            "{}{path}::builder(){timeout}.build().expect(\"HTTP client with a timeout (ccp timeout)\"){}",
            &line[..call.start],
            &line[call.close + 1..]
        );
        code.splice(idx..idx + 1, vec![new]);
        format!("`{}()` became a builder with `{timeout}`; `.expect` keeps `Client::new`'s own panic-on-TLS-failure behaviour", call.callee)
    } else if masked.contains("Client::builder()") && masked.contains(".build()") {
        let at = masked.rfind(".build()").unwrap_or(0);
        insert_at(code, idx, at, &timeout);
        format!("the client builder now sets `{timeout}`")
    } else if let Some(at) = masked.find(".send()") {
        if found.iter().all(|c| {
            !matches!(
                c.method(),
                "get" | "post" | "put" | "delete" | "head" | "patch" | "request"
            )
        }) {
            return Err(no_parameter(found));
        }
        if code.masked.iter().any(|l| l.contains("Client::builder()"))
            && code.file_contains(".timeout(")
        {
            return Err(already("the client", "a client-wide `.timeout(…)`"));
        }
        insert_at(code, idx, at, &timeout);
        format!("the request now sets `{timeout}` before `.send()`")
    } else {
        return Err(no_parameter(found));
    };
    if !code
        .lines
        .iter()
        .any(|l| l.starts_with("use ") && l.contains("Duration"))
    {
        code.ensure_import("std::time::Duration");
    }
    Ok(how)
}
