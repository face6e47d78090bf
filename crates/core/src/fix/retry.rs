//! The retry template: retry the dependency call at the culprit line with bounded exponential
//! backoff and full jitter — only when the call is idempotent.
//!
//! Why so careful: retrying a POST or an INSERT can charge a card twice. The template decides
//! idempotency from what it can see (HTTP verb, SQL verb, JDBC method, an idempotency key),
//! says in the rationale how it decided, and refuses when the call is not idempotent or when it
//! cannot tell. Retries are bounded (3 attempts, 200 ms doubling to at most 2 s, full jitter)
//! so they never multiply load on a dependency that is down.

use super::code::{calls, find_word, first_word, helper_lines, Call, Code};
use super::stmt::{classify, StmtKind};
use super::template::{unsupported, FixInput, FixTemplate, Language, Patch, Refusal, SignalKind};
use super::timeout::python_http;

/// Template name recorded in [`Patch::template`].
pub const NAME: &str = "retry";

/// The retry-with-backoff template.
pub struct Retry;

impl FixTemplate for Retry {
    fn name(&self) -> &'static str {
        NAME
    }

    fn signal_fit(&self, signal: SignalKind) -> (f64, &'static str) {
        match signal {
            SignalKind::Errors => (
                0.8,
                "transient dependency errors are what bounded retries absorb",
            ),
            SignalKind::Latency => (
                0.3,
                "retries add latency to slow calls rather than removing it",
            ),
            SignalKind::Saturation => (0.2, "retries add load to a saturated dependency"),
        }
    }

    fn propose(&self, input: &FixInput<'_>) -> Result<Patch, Refusal> {
        retry(input)
    }
}

/// What kind of dependency a call reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DepKind {
    /// An HTTP request.
    Http,
    /// A SQL statement.
    Sql,
}

/// A call to an external dependency found on the culprit line.
#[derive(Clone, Debug)]
pub(crate) struct DepCall {
    /// The call.
    pub call: Call,
    /// HTTP or SQL.
    pub kind: DepKind,
}

/// The first call on the line that reaches an HTTP service or a database, in the languages'
/// common client libraries. Why a closed list: wrapping an arbitrary call in a retry or a
/// breaker is a guess; these are the calls whose failure modes are known.
pub(crate) fn dependency_call(code: &Code, idx: usize) -> Option<DepCall> {
    let found = calls(&code.masked[idx]);
    found.into_iter().find_map(|call| {
        let m = call.method().to_string();
        let recv = call.receiver().to_string();
        let kind = match code.lang {
            Language::Python if python_http(&call) || m == "urlopen" => Some(DepKind::Http),
            Language::Python if matches!(m.as_str(), "execute" | "executemany") => {
                Some(DepKind::Sql)
            }
            Language::Java
                if matches!(m.as_str(), "send" | "sendAsync")
                    || recv.ends_with("restTemplate")
                    || recv.ends_with("RestTemplate") =>
            {
                Some(DepKind::Http)
            }
            Language::Java if m.starts_with("execute") => Some(DepKind::Sql),
            Language::Go
                if matches!(
                    call.callee.as_str(),
                    "http.Get" | "http.Head" | "http.Post" | "http.PostForm"
                ) || m == "Do" && !recv.is_empty() =>
            {
                Some(DepKind::Http)
            }
            Language::Go
                if matches!(
                    m.as_str(),
                    "Query"
                        | "QueryRow"
                        | "QueryContext"
                        | "QueryRowContext"
                        | "Exec"
                        | "ExecContext"
                ) && !recv.is_empty() =>
            {
                Some(DepKind::Sql)
            }
            Language::JavaScript | Language::TypeScript
                if call.callee == "fetch" || recv == "axios" || call.callee == "axios" =>
            {
                Some(DepKind::Http)
            }
            Language::JavaScript | Language::TypeScript if m == "query" || m == "execute" => {
                Some(DepKind::Sql)
            }
            _ => None,
        }?;
        Some(DepCall { call, kind })
    })
}

const IDEMPOTENT_HTTP: [&str; 5] = ["GET", "HEAD", "PUT", "DELETE", "OPTIONS"];
const READ_SQL: [&str; 5] = ["SELECT", "SHOW", "EXPLAIN", "DESCRIBE", "VALUES"];

/// Decide whether the call is safe to repeat; `Ok` carries the sentence explaining how.
pub(crate) fn idempotency(code: &Code, idx: usize, dep: &DepCall) -> Result<String, Refusal> {
    let header = code.function_header(idx).unwrap_or(0);
    let function_text: String = code.lines[header..=idx].join("\n");
    let line = &code.lines[idx];
    let call_text = dep.call.text(line).to_string();
    let key = function_text.to_ascii_lowercase().contains("idempotency");
    match dep.kind {
        DepKind::Http => {
            let verb = http_verb(code, idx, dep, &function_text);
            match verb {
                Some((v, from)) if IDEMPOTENT_HTTP.contains(&v.as_str()) => Ok(format!("HTTP {v} is idempotent ({from})")),
                Some((v, from)) if key => Ok(format!("HTTP {v} ({from}) is not idempotent by itself, but the request carries an idempotency key, so the server deduplicates repeats")),
                Some((v, from)) => Err(Refusal::NotIdempotent {
                    why: format!("`{call_text}` sends HTTP {v} ({from}) without an idempotency key; a retry could repeat its side effect"),
                }),
                None => Err(Refusal::IdempotencyUnknown { call: call_text }),
            }
        }
        DepKind::Sql => {
            let m = dep.call.method();
            if code.lang == Language::Java && m == "executeQuery" {
                return Ok("JDBC `executeQuery` only runs queries that return rows (reads)".into());
            }
            if code.lang == Language::Go
                && m.starts_with("Query")
                && sql_verb(line).is_none_or(|v| READ_SQL.contains(&v.as_str()))
            {
                return Ok(format!("Go `{m}` runs a query that returns rows (a read)"));
            }
            let verb = sql_verb(line).or_else(|| sql_verb(&function_text));
            match verb {
                Some(v) if READ_SQL.contains(&v.as_str()) => {
                    Ok(format!("the SQL statement is a read (`{v}`)"))
                }
                Some(v) if key => Ok(format!(
                    "the SQL statement writes (`{v}`) but carries an idempotency key"
                )),
                Some(v) => Err(Refusal::NotIdempotent {
                    why: format!(
                        "the SQL statement is a write (`{v}`); repeating it could apply it twice"
                    ),
                }),
                None => Err(Refusal::IdempotencyUnknown { call: call_text }),
            }
        }
    }
}

/// The HTTP verb of the call and where it was read from.
fn http_verb(
    code: &Code,
    idx: usize,
    dep: &DepCall,
    function_text: &str,
) -> Option<(String, String)> {
    let m = dep.call.method();
    let line = &code.lines[idx];
    let named = ["get", "head", "put", "delete", "options", "post", "patch"];
    let by_name = |what: &str| {
        Some((
            m.to_ascii_uppercase(),
            format!("{what} `{}`", dep.call.callee),
        ))
    };
    match code.lang {
        Language::Python | Language::JavaScript | Language::TypeScript if named.contains(&m) => {
            by_name("method name")
        }
        Language::Go if dep.call.callee.starts_with("http.") => {
            let v = m.trim_end_matches("Form").to_ascii_uppercase();
            Some((v, format!("`{}`", dep.call.callee)))
        }
        Language::JavaScript | Language::TypeScript => {
            let args = super::timeout::arg_list(code, idx, &dep.call);
            let options = args.get(1).map(String::as_str).unwrap_or("");
            if let Some(v) = quoted_verb_after(options, "method") {
                return Some((v, "its `method` option".into()));
            }
            if super::code::has_word(options, "method") {
                return None; // the method is a variable: cannot tell
            }
            if options.is_empty() || options.starts_with('{') && !options.contains("...") {
                return Some((
                    "GET".into(),
                    "fetch without a `method` option defaults to GET".into(),
                ));
            }
            // Options built elsewhere in the function: only a literal method there decides.
            quoted_verb_after(function_text, "method").map(|v| {
                (
                    v,
                    "the `method` of the options built in the function".into(),
                )
            })
        }
        Language::Java => {
            for v in ["GET", "HEAD", "PUT", "DELETE", "POST", "PATCH"] {
                if function_text.contains(&format!(".{v}(")) {
                    return Some((v.into(), format!("the request is built with `.{v}(…)`")));
                }
            }
            if let Some(v) = quoted_verb_after(function_text, ".method(") {
                return Some((v, "the request is built with `.method(…)`".into()));
            }
            function_text.contains("HttpRequest.newBuilder").then(|| {
                (
                    "GET".into(),
                    "HttpRequest.newBuilder defaults to GET".into(),
                )
            })
        }
        Language::Go => {
            for v in ["GET", "HEAD", "PUT", "DELETE", "POST", "PATCH"] {
                let constant = format!("http.Method{}{}", &v[..1], v[1..].to_ascii_lowercase());
                if function_text.contains(&format!("NewRequest(\"{v}\""))
                    || function_text.contains(&format!(", \"{v}\","))
                    || function_text.contains(&constant)
                {
                    return Some((v.into(), "the request is built with that method".into()));
                }
            }
            None
        }
        Language::Python => {
            let v = quoted_verb_after(dep.call.args(line), "")?;
            Some((v, "its method argument".into()))
        }
        Language::Rust => None,
    }
}

/// The first quoted HTTP verb after `key` in `text`, upper-cased.
fn quoted_verb_after(text: &str, key: &str) -> Option<String> {
    let start = if key.is_empty() {
        0
    } else {
        text.find(key)? + key.len()
    };
    let rest = &text[start..];
    let q = rest.find(['\'', '"', '`'])?;
    let word: String = rest[q + 1..]
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    let v = word.to_ascii_uppercase();
    ["GET", "HEAD", "PUT", "DELETE", "OPTIONS", "POST", "PATCH"]
        .contains(&v.as_str())
        .then_some(v)
}

/// The SQL verb of the first string literal in `text` that starts with one.
fn sql_verb(text: &str) -> Option<String> {
    const VERBS: [&str; 15] = [
        "SELECT", "SHOW", "EXPLAIN", "DESCRIBE", "VALUES", "INSERT", "UPDATE", "DELETE", "MERGE",
        "REPLACE", "UPSERT", "CREATE", "DROP", "ALTER", "TRUNCATE",
    ];
    text.match_indices(['"', '\'', '`']).find_map(|(q, _)| {
        let word: String = text[q + 1..]
            .trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect();
        let v = word.to_ascii_uppercase();
        VERBS.contains(&v.as_str()).then_some(v)
    })
}

/// Evidence fit shared with the circuit breaker: transient dependency failures.
pub(crate) fn transient(input: &FixInput<'_>) -> bool {
    let text = input.evidence_text();
    [
        "connection reset",
        "connection refused",
        "econnreset",
        "econnrefused",
        "503",
        "502",
        "504",
        "429",
        "unavailable",
        "temporar",
        "timed out",
        "timeout",
        "connecterror",
        "connectexception",
        "broken pipe",
        "deadline",
        "transient",
    ]
    .iter()
    .any(|w| text.contains(w))
}

/// Retry the idempotent dependency call at the culprit line.
pub fn retry(input: &FixInput<'_>) -> Result<Patch, Refusal> {
    if input.language == Language::Rust {
        return Err(unsupported(NAME, input.language, "Rust retries need an async runtime choice and a backoff crate decision; not templated yet"));
    }
    let (mut code, idx) = Code::at_culprit(input)?;
    if code.masked[idx].contains("ccp_retry(")
        || code.masked[idx].contains("ccpRetry(")
        || code.file_contains("ccpBackoff(attempt)") && go_retry_loop_follows(&code, idx)
    {
        return Err(Refusal::AlreadyApplied {
            why: "the call is already wrapped in the ccp retry helper".into(),
        });
    }
    let dep = dependency_call(&code, idx).ok_or_else(|| Refusal::NoDependencyCall {
        why: "no HTTP or database client call the template knows is on the line".into(),
    })?;
    let decided = idempotency(&code, idx, &dep)?;
    let kind = classify(&code, idx);
    if matches!(kind, StmtKind::Header | StmtKind::Throw) {
        return Err(Refusal::UnsafeStatement {
            why: "the call sits in a block header or a throw; wrap it by hand".into(),
        });
    }
    let how = match input.language {
        Language::Python => python(&mut code, idx, &dep),
        Language::Java => java(&mut code, idx, &dep)?,
        Language::Go => go(&mut code, idx, &kind)?,
        _ => js(&mut code, idx, &dep, input.language == Language::TypeScript)?,
    };
    let evidence = if transient(input) { 0.75 } else { 0.35 };
    let rationale = format!(
        "`{}` at {}:{} is retried: {decided}. {how} Up to 3 attempts, backoff 200 ms doubling to at most 2 s with full jitter, so retries stay bounded and clients do not synchronise.",
        dep.call.callee, input.file, input.line
    );
    Ok(Patch::new(NAME, input, code.render(), rationale, evidence))
}

fn go_retry_loop_follows(code: &Code, idx: usize) -> bool {
    code.lines
        .get(idx + 1)
        .is_some_and(|l| l.contains("for attempt := 1; err != nil"))
}

const PY_HELPER: &str = "def _ccp_retry(call, attempts=3, base_delay=0.2, max_delay=2.0):
{I}\"\"\"Call an idempotent operation, retrying failures with bounded exponential backoff and full jitter (ccp retry).\"\"\"
{I}for attempt in range(attempts):
{I}{I}try:
{I}{I}{I}return call()
{I}{I}except Exception:
{I}{I}{I}if attempt == attempts - 1:
{I}{I}{I}{I}raise
{I}{I}{I}time.sleep(random.uniform(0, min(max_delay, base_delay * 2**attempt)))
";

fn python(code: &mut Code, idx: usize, dep: &DepCall) -> String {
    wrap_call(code, idx, &dep.call, "_ccp_retry(lambda: ", ")");
    if !code.file_contains("def _ccp_retry(") {
        let at = code.after_imports();
        let unit = code.unit();
        let mut helper = vec![String::new(), String::new()];
        helper.extend(helper_lines(PY_HELPER, "", &unit));
        code.insert(at, helper);
        code.ensure_import("random");
        code.ensure_import("time");
    }
    "The call now goes through `_ccp_retry`, a small helper added after the imports, which re-raises the last failure.".into()
}

/// Replace the call's text with `prefix + call + suffix`.
fn wrap_call(code: &mut Code, idx: usize, call: &Call, prefix: &str, suffix: &str) {
    let line = code.lines[idx].clone();
    let new = format!(
        "{}{prefix}{}{suffix}{}",
        &line[..call.start],
        call.text(&line),
        &line[call.close + 1..]
    );
    code.splice(idx..idx + 1, vec![new]);
}

const JAVA_HELPER: &str = "/** Calls an idempotent operation up to 3 times with bounded exponential backoff and full jitter; rethrows the last failure unchanged (ccp retry). */
private static <T> T ccpRetry(java.util.concurrent.Callable<T> call) {
{I}long ceilingMillis = 200;
{I}for (int attempt = 1; ; attempt++) {
{I}{I}try {
{I}{I}{I}return call.call();
{I}{I}} catch (Exception e) {
{I}{I}{I}if (attempt >= 3) {
{I}{I}{I}{I}throw ccpSneakyThrow(e);
{I}{I}{I}}
{I}{I}}
{I}{I}try {
{I}{I}{I}Thread.sleep(java.util.concurrent.ThreadLocalRandom.current().nextLong(ceilingMillis + 1));
{I}{I}} catch (InterruptedException interrupted) {
{I}{I}{I}Thread.currentThread().interrupt();
{I}{I}{I}throw ccpSneakyThrow(interrupted);
{I}{I}}
{I}{I}ceilingMillis = Math.min(ceilingMillis * 2, 2000);
{I}}
}

/** Rethrows a checked exception without wrapping, so callers see exactly what the call threw (ccp retry). */
@SuppressWarnings(\"unchecked\")
private static <E extends Exception> RuntimeException ccpSneakyThrow(Exception e) throws E {
{I}throw (E) e;
}
";

/// Index of the closing brace of the file's last top-level class.
pub(crate) fn java_class_end(code: &Code) -> Result<usize, Refusal> {
    (0..code.lines.len())
        .rev()
        .find(|i| code.lines[*i].trim_end() == "}")
        .ok_or_else(|| Refusal::UnsafeStatement {
            why: "no top-level class closing brace found to add the helper before".into(),
        })
}

fn java(code: &mut Code, idx: usize, dep: &DepCall) -> Result<String, Refusal> {
    if code
        .enclosing_header(idx)
        .is_some_and(|h| code.code(h).starts_with("try"))
    {
        return Err(Refusal::UnsafeStatement {
            why: "the call sits directly in a `try` block whose `catch` may name checked exceptions only this call throws; moving it into a lambda would not compile, wrap it by hand".into(),
        });
    }
    let statement_is_call =
        code.code(idx).trim_end_matches(';') == dep.call.text(&code.lines[idx]).trim();
    if statement_is_call {
        let indent = code.indent(idx).to_string();
        let text = dep.call.text(&code.lines[idx]).to_string();
        code.splice(
            idx..idx + 1,
            vec![format!(
                "{indent}ccpRetry(() -> {{ {text}; return null; }});"
            )],
        );
    } else {
        wrap_call(code, idx, &dep.call, "ccpRetry(() -> ", ")");
    }
    if !code.file_contains("T ccpRetry(") {
        let end = java_class_end(code)?;
        let unit = code.unit();
        let mut helper = vec![String::new()];
        helper.extend(helper_lines(JAVA_HELPER, &unit, &unit));
        code.insert(end, helper);
    }
    Ok("The call now goes through `ccpRetry`, a private helper added to the class, which rethrows the last failure unchanged.".into())
}

const GO_HELPER: &str = "// ccpBackoff sleeps before retry number attempt: exponential from 200ms, capped at 2s, with full
// jitter so that retrying clients do not synchronise (ccp retry).
func ccpBackoff(attempt int) {
{I}ceiling := 200 * time.Millisecond << uint(attempt-1)
{I}if ceiling > 2*time.Second {
{I}{I}ceiling = 2 * time.Second
{I}}
{I}time.Sleep(time.Duration(rand.Int63n(int64(ceiling)) + 1))
}
";

fn go(code: &mut Code, idx: usize, kind: &StmtKind) -> Result<String, Refusal> {
    let line = code.lines[idx].clone();
    let masked = code.masked[idx].clone();
    let (targets, op_at, op_len) = match kind {
        StmtKind::Declaration { names, .. } if names.iter().any(|n| n == "err") => {
            let at = masked.find(":=").unwrap_or(0);
            (line[..at].trim().to_string(), at, 2)
        }
        _ => match masked.find(" = ") {
            Some(at) if find_word(&masked[..at], "err").is_some() => (line[..at].trim().to_string(), at + 1, 1),
            _ => {
                return Err(Refusal::UnsafeStatement {
                    why: "the call's error is not assigned to `err` on this line, so a retry loop has nothing to test".into(),
                })
            }
        },
    };
    let value = line[op_at + op_len..].trim().to_string();
    let (indent, unit) = (code.indent(idx).to_string(), code.unit());
    code.splice(
        idx..idx + 1,
        vec![
            line.clone(),
            format!("{indent}for attempt := 1; err != nil && attempt < 3; attempt++ {{"),
            format!("{indent}{unit}ccpBackoff(attempt)"),
            format!("{indent}{unit}{targets} = {value}"),
            format!("{indent}}}"),
        ],
    );
    if !code.file_contains("func ccpBackoff(") {
        let mut helper = vec![String::new()];
        helper.extend(helper_lines(GO_HELPER, "", &unit));
        while code.lines.last().is_some_and(|l| l.trim().is_empty()) {
            code.lines.pop();
            code.masked.pop();
        }
        let end = code.lines.len();
        code.insert(end, helper);
        code.trailing_newline = true;
        code.ensure_import("math/rand");
        code.ensure_import("time");
    }
    Ok("The call is repeated while it returns an error, sleeping via `ccpBackoff` (a helper added at the end of the file); only transport errors are retried, not HTTP error statuses.".into())
}

const JS_HELPER: &str = "// Calls an idempotent operation up to `attempts` times with bounded exponential backoff and full jitter (ccp retry).
async function ccpRetry(call, attempts = 3, baseMs = 200, maxMs = 2000) {
{I}for (let attempt = 1; ; attempt++) {
{I}{I}try {
{I}{I}{I}return await call();
{I}{I}} catch (err) {
{I}{I}{I}if (attempt >= attempts) throw err;
{I}{I}{I}const ceiling = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
{I}{I}{I}await new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling));
{I}{I}}
{I}}
}
";

/// JS/TS: the call must be awaited (or returned as a promise), since the helper is async.
pub(crate) fn require_awaited(code: &Code, idx: usize, call: &Call) -> Result<(), Refusal> {
    let before = code.masked[idx][..call.start].trim_end();
    if before.ends_with("await")
        || first_word(code.code(idx)) == "return" && before.ends_with("return")
    {
        Ok(())
    } else {
        Err(Refusal::UnsafeStatement {
            why: format!("`{}` is not awaited; wrapping it in an async helper would change what the statement gets (a promise)", call.callee),
        })
    }
}

fn js(code: &mut Code, idx: usize, dep: &DepCall, typescript: bool) -> Result<String, Refusal> {
    require_awaited(code, idx, &dep.call)?;
    wrap_call(code, idx, &dep.call, "ccpRetry(() => ", ")");
    if !code.file_contains("function ccpRetry(") && !code.file_contains("function ccpRetry<") {
        let text = if typescript {
            JS_HELPER.replace(
                "async function ccpRetry(call, attempts = 3, baseMs = 200, maxMs = 2000) {",
                "async function ccpRetry<T>(call: () => Promise<T>, attempts = 3, baseMs = 200, maxMs = 2000): Promise<T> {",
            )
        } else {
            JS_HELPER.to_string()
        };
        let unit = code.unit();
        let mut helper = vec![String::new()];
        helper.extend(helper_lines(&text, "", &unit));
        while code.lines.last().is_some_and(|l| l.trim().is_empty()) {
            code.lines.pop();
            code.masked.pop();
        }
        let end = code.lines.len();
        code.insert(end, helper);
        code.trailing_newline = true;
    }
    Ok("The call now goes through `ccpRetry`, an async helper added at the end of the module (function declarations are hoisted), which rethrows the last failure.".into())
}
