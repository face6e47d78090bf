//! The circuit-breaker template: stop calling a dependency that keeps failing, and fail fast
//! instead, so its outage does not pile up threads, connections and latency in this service.
//!
//! Uses the language's common library when the file already imports it (pybreaker,
//! resilience4j, gobreaker, opossum), otherwise inserts a small local helper with the same
//! shape (opens after 5 consecutive failures, fails fast for 30 s, then lets calls through
//! again). Refuses when no known dependency call is on the line or when the call is already
//! behind the breaker.

use super::code::{file_stem, helper_lines, quoted, Code};
use super::error_handling::split_declaration;
use super::retry::{dependency_call, java_class_end, require_awaited, transient, DepCall};
use super::stmt::{classify, StmtKind};
use super::template::{unsupported, FixInput, FixTemplate, Language, Patch, Refusal, SignalKind};

/// Template name recorded in [`Patch::template`].
pub const NAME: &str = "circuit_breaker";

/// The circuit-breaker template.
pub struct CircuitBreaker;

impl FixTemplate for CircuitBreaker {
    fn name(&self) -> &'static str {
        NAME
    }

    fn signal_fit(&self, signal: SignalKind) -> (f64, &'static str) {
        match signal {
            SignalKind::Saturation => (
                0.8,
                "failing fast frees the threads and connections a failing dependency holds",
            ),
            SignalKind::Errors => (
                0.7,
                "a breaker turns a failing dependency's errors into fast, bounded failures",
            ),
            SignalKind::Latency => (
                0.7,
                "a breaker stops waiting on a dependency that is timing out",
            ),
        }
    }

    fn propose(&self, input: &FixInput<'_>) -> Result<Patch, Refusal> {
        circuit_breaker(input)
    }
}

/// Put the dependency call at the culprit line behind a circuit breaker.
pub fn circuit_breaker(input: &FixInput<'_>) -> Result<Patch, Refusal> {
    if input.language == Language::Rust {
        return Err(unsupported(
            NAME,
            input.language,
            "no Rust breaker crate is common enough to assume; not templated yet",
        ));
    }
    let (mut code, idx) = Code::at_culprit(input)?;
    let nearby = (idx.saturating_sub(4)..(idx + 2).min(code.lines.len())).any(|i| {
        code.masked[i].contains("ccpBreaker")
            || code.masked[i].contains("_ccp_breaker")
            || code.masked[i].contains("CCP_BREAKER")
    });
    if nearby {
        return Err(Refusal::AlreadyApplied {
            why: "the call is already behind the ccp circuit breaker".into(),
        });
    }
    let dep = dependency_call(&code, idx).ok_or_else(|| Refusal::NoDependencyCall {
        why: "no HTTP or database client call the template knows is on the line".into(),
    })?;
    let kind = classify(&code, idx);
    if matches!(kind, StmtKind::Header | StmtKind::Throw) {
        return Err(Refusal::UnsafeStatement {
            why: "the call sits in a block header or a throw; wrap it by hand".into(),
        });
    }
    let name = file_stem(input.file).to_string();
    let how = match input.language {
        Language::Python => python(&mut code, idx, &dep, &name),
        Language::Java => java(&mut code, idx, &kind, &name)?,
        Language::Go => go(&mut code, idx, &kind, &name)?,
        _ => js(&mut code, idx, &dep, input.language == Language::TypeScript)?,
    };
    let evidence = if transient(input) { 0.65 } else { 0.3 };
    let rationale = format!(
        "`{}` at {}:{} reaches a dependency; {how} After repeated failures calls fail fast instead of waiting on it, and are let through again after a cool-down.",
        dep.call.callee, input.file, input.line
    );
    Ok(Patch::new(NAME, input, code.render(), rationale, evidence))
}

const PY_HELPER: &str = "class _CcpCircuitBreaker:
{I}\"\"\"Opens after `fail_max` consecutive failures and fails fast for `reset_timeout` seconds, so a failing dependency is not hammered (ccp circuit_breaker).\"\"\"

{I}def __init__(self, fail_max=5, reset_timeout=30.0):
{I}{I}self.fail_max = fail_max
{I}{I}self.reset_timeout = reset_timeout
{I}{I}self.failures = 0
{I}{I}self.opened_at = None

{I}def call(self, func):
{I}{I}if self.opened_at is not None:
{I}{I}{I}if time.monotonic() - self.opened_at < self.reset_timeout:
{I}{I}{I}{I}raise RuntimeError(\"circuit open: dependency failing, call skipped (ccp circuit_breaker)\")
{I}{I}{I}self.opened_at = None
{I}{I}try:
{I}{I}{I}result = func()
{I}{I}except Exception:
{I}{I}{I}self.failures += 1
{I}{I}{I}if self.failures >= self.fail_max:
{I}{I}{I}{I}self.opened_at = time.monotonic()
{I}{I}{I}raise
{I}{I}self.failures = 0
{I}{I}return result


_ccp_breaker = _CcpCircuitBreaker()
";

fn python(code: &mut Code, idx: usize, dep: &DepCall, name: &str) -> String {
    let line = code.lines[idx].clone();
    let new = format!(
        "{}_ccp_breaker.call(lambda: {}){}",
        &line[..dep.call.start],
        dep.call.text(&line),
        &line[dep.call.close + 1..]
    );
    code.splice(idx..idx + 1, vec![new]);
    if code.file_contains("_ccp_breaker = ") {
        return "it now goes through the module's existing `_ccp_breaker`.".into();
    }
    let library = code.lines.iter().any(|l| l.trim() == "import pybreaker");
    let at = code.after_imports();
    let unit = code.unit();
    let mut helper = vec![String::new(), String::new()];
    if library {
        helper.push(format!(
            "_ccp_breaker = pybreaker.CircuitBreaker(fail_max=5, reset_timeout=30, name=\"{}\")",
            quoted(name)
        ));
    } else {
        helper.extend(helper_lines(PY_HELPER, "", &unit));
    }
    code.insert(at, helper);
    if library {
        "it now goes through `_ccp_breaker.call`, a `pybreaker.CircuitBreaker` (the module already imports pybreaker).".into()
    } else {
        code.ensure_import("time");
        "it now goes through `_ccp_breaker.call`, a small local breaker added after the imports (the module imports no breaker library).".into()
    }
}

const JAVA_HELPER: &str = "/** Opens after 5 consecutive failures and fails fast for 30 s, so a failing dependency is not hammered; same calls as resilience4j's CircuitBreaker (ccp circuit_breaker). */
private static final class CcpCircuitBreaker {
{I}private int failures;
{I}private long openedAt;
{I}private boolean open;

{I}synchronized void acquirePermission() {
{I}{I}if (open && System.nanoTime() - openedAt < TimeUnit.SECONDS.toNanos(30)) {
{I}{I}{I}throw new IllegalStateException(\"circuit open: dependency failing, call skipped (ccp circuit_breaker)\");
{I}{I}}
{I}{I}open = false;
{I}}

{I}synchronized void onSuccess(long duration, TimeUnit unit) {
{I}{I}failures = 0;
{I}}

{I}synchronized void onError(long duration, TimeUnit unit, Throwable error) {
{I}{I}failures++;
{I}{I}if (failures >= 5) {
{I}{I}{I}open = true;
{I}{I}{I}openedAt = System.nanoTime();
{I}{I}}
{I}}
}

private static final CcpCircuitBreaker CCP_BREAKER = new CcpCircuitBreaker();
";

fn java(code: &mut Code, idx: usize, kind: &StmtKind, name: &str) -> Result<String, Refusal> {
    if *kind == StmtKind::Return {
        return Err(Refusal::UnsafeStatement {
            why: "the call's value is returned directly; recording success after it needs a local of its type, wrap it by hand".into(),
        });
    }
    let split = split_declaration(code, idx, kind)?;
    let (indent, unit) = (code.indent(idx).to_string(), code.unit());
    let stmt = match &split {
        Some((_, assign)) => assign.clone(),
        None => code.lines[idx].trim_start().to_string(),
    };
    let mut new = Vec::new();
    if let Some((decl, _)) = &split {
        new.push(format!("{indent}{decl}"));
    }
    for l in [
        "CCP_BREAKER.acquirePermission();".to_string(),
        "long ccpStart = System.nanoTime();".to_string(),
        "try {".to_string(),
        format!("{unit}{stmt}"),
        format!("{unit}CCP_BREAKER.onSuccess(System.nanoTime() - ccpStart, TimeUnit.NANOSECONDS);"),
        "} catch (Throwable t) {".to_string(),
        format!(
            "{unit}CCP_BREAKER.onError(System.nanoTime() - ccpStart, TimeUnit.NANOSECONDS, t);"
        ),
        format!("{unit}throw t;"),
        "}".to_string(),
    ] {
        new.push(format!("{indent}{l}"));
    }
    code.splice(idx..idx + 1, new);
    let library = code.text_contains("io.github.resilience4j");
    if !code.file_contains("CCP_BREAKER = ") {
        if library {
            let class_line = (0..code.lines.len())
                .find(|i| {
                    code.width(*i) == 0
                        && super::code::has_word(&code.masked[*i], "class")
                        && code.masked[*i].trim_end().ends_with('{')
                })
                .ok_or_else(|| Refusal::UnsafeStatement {
                    why: "no one-line top-level class header to add the breaker field to".into(),
                })?;
            code.insert(
                class_line + 1,
                vec![format!("{unit}private static final CircuitBreaker CCP_BREAKER = CircuitBreaker.ofDefaults(\"{}\");", quoted(name)), String::new()],
            );
            code.ensure_import("io.github.resilience4j.circuitbreaker.CircuitBreaker");
        } else {
            let end = java_class_end(code)?;
            let mut helper = vec![String::new()];
            helper.extend(helper_lines(JAVA_HELPER, &unit, &unit));
            code.insert(end, helper);
        }
    }
    if !code.text_contains("import java.util.concurrent.*;") {
        code.ensure_import("java.util.concurrent.TimeUnit");
    }
    Ok(if library {
        "it now asks a resilience4j `CircuitBreaker` (already a dependency) for permission and reports the outcome; the catch rethrows exactly what the call threw.".into()
    } else {
        "it now asks `CCP_BREAKER`, a small local breaker with resilience4j's method names, for permission and reports the outcome; the catch rethrows exactly what the call threw.".into()
    })
}

const GO_HELPER: &str = "// ccpCircuitBreaker opens after 5 consecutive failures and fails fast for 30s, so a failing
// dependency is not hammered; same two-step shape as gobreaker's TwoStepCircuitBreaker (ccp circuit_breaker).
type ccpCircuitBreaker struct {
{I}mu       sync.Mutex
{I}failures int
{I}openedAt time.Time
}

var errCcpCircuitOpen = errors.New(\"circuit open: dependency failing, call skipped (ccp circuit_breaker)\")

var ccpBreaker = &ccpCircuitBreaker{}

// Allow reports whether a call may proceed; call done with its outcome.
func (b *ccpCircuitBreaker) Allow() (done func(success bool), err error) {
{I}b.mu.Lock()
{I}defer b.mu.Unlock()
{I}if b.failures >= 5 && time.Since(b.openedAt) < 30*time.Second {
{I}{I}return nil, errCcpCircuitOpen
{I}}
{I}return b.done, nil
}

func (b *ccpCircuitBreaker) done(success bool) {
{I}b.mu.Lock()
{I}defer b.mu.Unlock()
{I}if success {
{I}{I}b.failures = 0
{I}{I}return
{I}}
{I}b.failures++
{I}if b.failures >= 5 {
{I}{I}b.openedAt = time.Now()
{I}}
}
";

fn go(code: &mut Code, idx: usize, kind: &StmtKind, name: &str) -> Result<String, Refusal> {
    let results = super::error_handling::go_result_types(code, idx)?;
    let assigns_err = match kind {
        StmtKind::Declaration { names, .. } => names.iter().any(|n| n == "err"),
        _ => code.masked[idx]
            .find(" = ")
            .is_some_and(|at| super::code::find_word(&code.masked[idx][..at], "err").is_some()),
    };
    if !assigns_err {
        return Err(Refusal::UnsafeStatement {
            why: "the call's error is not assigned to `err` on this line, so the breaker cannot be told whether it failed".into(),
        });
    }
    let (indent, unit) = (code.indent(idx).to_string(), code.unit());
    let mut stmt = code.lines[idx].trim_start().to_string();
    if let StmtKind::Declaration { names, .. } = kind {
        if names.len() == 1 {
            stmt = stmt.replacen(":=", "=", 1); // `err := f()` would redeclare the breaker's err
        }
    }
    let mut ret: Vec<String> = results[..results.len() - 1]
        .iter()
        .map(|t| super::error_handling::go_zero_value(t))
        .collect();
    ret.push("err".into());
    code.splice(
        idx..idx + 1,
        vec![
            format!("{indent}ccpDone, err := ccpBreaker.Allow()"),
            format!("{indent}if err != nil {{"),
            format!("{indent}{unit}return {}", ret.join(", ")),
            format!("{indent}}}"),
            format!("{indent}{stmt}"),
            format!("{indent}ccpDone(err == nil)"),
        ],
    );
    let gobreaker = code
        .lines
        .iter()
        .find(|l| l.contains("\"github.com/sony/gobreaker"))
        .cloned();
    if !code.file_contains("ccpBreaker = ") {
        match &gobreaker {
            Some(import) => {
                let generic = if import.contains("gobreaker/v2") {
                    "[any]"
                } else {
                    ""
                };
                let at = code
                    .lines
                    .iter()
                    .position(|l| l.trim() == ")" || l.starts_with("import \""))
                    .map_or(1, |p| p + 1);
                code.insert(
                    at,
                    vec![String::new(), format!("var ccpBreaker = gobreaker.NewTwoStepCircuitBreaker{generic}(gobreaker.Settings{{Name: \"{}\"}})", quoted(name))],
                );
            }
            None => {
                while code.lines.last().is_some_and(|l| l.trim().is_empty()) {
                    code.lines.pop();
                    code.masked.pop();
                }
                let end = code.lines.len();
                let mut helper = vec![String::new()];
                helper.extend(helper_lines(GO_HELPER, "", &unit));
                code.insert(end, helper);
                code.trailing_newline = true;
                code.ensure_import("errors");
                code.ensure_import("sync");
                code.ensure_import("time");
            }
        }
    }
    Ok(match gobreaker {
        Some(_) => "it now asks a gobreaker `TwoStepCircuitBreaker` (already imported) for permission, returns its error when open, and reports the outcome.".into(),
        None => "it now asks `ccpBreaker`, a small local breaker with gobreaker's two-step shape added at the end of the file, for permission, returns its error when open, and reports the outcome.".into(),
    })
}

const JS_HELPER: &str =
    "// Opens after 5 consecutive failures and fails fast for 30 s, so a failing dependency is not
// hammered; same `fire` call as opossum (ccp circuit_breaker).
const ccpBreaker = (() => {
{I}let failures = 0;
{I}let openedAt = 0;
{I}return {
{I}{I}async fire(call) {
{I}{I}{I}if (failures >= 5 && Date.now() - openedAt < 30000) {
{I}{I}{I}{I}throw new Error('circuit open: dependency failing, call skipped (ccp circuit_breaker)');
{I}{I}{I}}
{I}{I}{I}try {
{I}{I}{I}{I}const result = await call();
{I}{I}{I}{I}failures = 0;
{I}{I}{I}{I}return result;
{I}{I}{I}} catch (err) {
{I}{I}{I}{I}failures += 1;
{I}{I}{I}{I}if (failures >= 5) openedAt = Date.now();
{I}{I}{I}{I}throw err;
{I}{I}{I}}
{I}{I}},
{I}};
})();
";

fn js(code: &mut Code, idx: usize, dep: &DepCall, typescript: bool) -> Result<String, Refusal> {
    require_awaited(code, idx, &dep.call)?;
    let line = code.lines[idx].clone();
    let new = format!(
        "{}ccpBreaker.fire(() => {}){}",
        &line[..dep.call.start],
        dep.call.text(&line),
        &line[dep.call.close + 1..]
    );
    code.splice(idx..idx + 1, vec![new]);
    let opossum = code
        .lines
        .iter()
        .find(|l| l.contains("'opossum'") || l.contains("\"opossum\""))
        .and_then(|l| {
            let l = l.trim_start();
            let rest = l
                .strip_prefix("import ")
                .or_else(|| l.split_once(' ').map(|(_, r)| r))?;
            let name: String = rest
                .trim_start()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '$')
                .collect();
            (!name.is_empty()).then_some(name)
        });
    if !code.file_contains("ccpBreaker = ") {
        let at = code.after_imports();
        let unit = code.unit();
        let mut helper = vec![String::new()];
        match &opossum {
            Some(class) => {
                let call_ty = if typescript {
                    ": () => Promise<unknown>"
                } else {
                    ""
                };
                helper.push(format!("const ccpBreaker = new {class}((call{call_ty}) => call(), {{ resetTimeout: 30000 }});"));
            }
            None => {
                let text = if typescript {
                    JS_HELPER.replace(
                        "async fire(call) {",
                        "async fire<T>(call: () => Promise<T>): Promise<T> {",
                    )
                } else {
                    JS_HELPER.to_string()
                };
                helper.extend(helper_lines(&text, "", &unit));
            }
        }
        if at == 0 {
            helper.remove(0);
            helper.push(String::new());
        }
        code.insert(at, helper);
    }
    Ok(match opossum {
        Some(class) => format!("it now goes through `ccpBreaker.fire`, an opossum `{class}` (already imported)."),
        None => "it now goes through `ccpBreaker.fire`, a small local breaker with opossum's `fire` call, added after the imports.".into(),
    })
}
