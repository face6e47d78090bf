//! The null/None/nil/undefined template, in every language `ccp localize` reads.
//!
//! Python keeps the original [`super::null_check`] (it handles multi-line statements and all
//! its refusals); Java, Go and JavaScript/TypeScript wrap the one-line culprit statement in
//! `if (x != null)` / `if x != nil` (JS uses optional chaining when the value flows on); Rust
//! replaces an `Option` `.unwrap()` with `?` or `let … else` according to the function's
//! return type. The template refuses when it cannot tell which value was null, when the value
//! cannot be null, and when the guard is already there.

use super::code::{expr_start, find_word, first_word, quoted, Code};
use super::null_check;
use super::stmt::{classify, refuse_unwrappable, used_later, StmtKind};
use super::template::{FixInput, FixTemplate, Language, Patch, Refusal, SignalKind};

/// Template name recorded in [`Patch::template`].
pub const NAME: &str = "null_guard";

/// The null/None/nil/undefined guard template.
pub struct NullGuard;

impl FixTemplate for NullGuard {
    fn name(&self) -> &'static str {
        NAME
    }

    fn signal_fit(&self, signal: SignalKind) -> (f64, &'static str) {
        match signal {
            SignalKind::Errors => (
                1.0,
                "a missing value crashes requests: an error-rate signal",
            ),
            _ => (
                0.2,
                "a null dereference shows up as errors, not as latency or saturation",
            ),
        }
    }

    fn propose(&self, input: &FixInput<'_>) -> Result<Patch, Refusal> {
        null_guard(input)
    }
}

/// Guard the value that was null at the culprit line. Why a template: the change is small,
/// reviewable, and every case where it could be wrong is refused with a reason.
pub fn null_guard(input: &FixInput<'_>) -> Result<Patch, Refusal> {
    let evidence = evidence_fit(input);
    match input.language {
        Language::Python => python(input, evidence),
        Language::Rust => rust(input, evidence),
        _ => brace(input, evidence),
    }
}

/// How strongly the error itself says "a value was null", in `[0, 1]`.
fn evidence_fit(input: &FixInput<'_>) -> f64 {
    let text = input.evidence_text();
    let null_words = [
        "nonetype",
        "nullpointerexception",
        "nil pointer",
        "of undefined",
        "of null",
        "is undefined",
        "is null",
        "on a `none` value",
    ];
    if null_words.iter().any(|w| text.contains(w)) {
        0.9
    } else {
        0.4
    }
}

fn python(input: &FixInput<'_>, evidence: f64) -> Result<Patch, Refusal> {
    let code = Code::parse(input.source, Language::Python);
    let idx = code.culprit(input.line)?;
    let attr = quoted_after(input.message, "attribute '").ok_or_else(|| Refusal::EvidenceMismatch {
        why: "the Python error does not name the attribute looked up on None (expected \"'NoneType' object has no attribute '…'\")".into(),
    })?;
    let fix = null_check(input.file, input.source, input.line, &attr)?;
    if let Some(h) = code.enclosing_header(idx) {
        if code.code(h) == format!("if {} is not None:", fix.guarded_expr) {
            return Err(Refusal::AlreadyApplied {
                why: format!(
                    "the statement is already inside `if {} is not None:`",
                    fix.guarded_expr
                ),
            });
        }
    }
    Ok(Patch::new(
        NAME,
        input,
        fix.new_source,
        fix.description,
        evidence,
    ))
}

/// The text between `prefix` and the next `'` or `"`, e.g. the attribute in an AttributeError.
fn quoted_after(message: &str, prefix: &str) -> Option<String> {
    let rest = &message[message.find(prefix)? + prefix.len()..];
    let end = rest.find(['\'', '"'])?;
    Some(rest[..end].to_string())
}

/// Java, Go, JavaScript/TypeScript.
fn brace(input: &FixInput<'_>, evidence: f64) -> Result<Patch, Refusal> {
    let mut code = Code::parse(input.source, input.language);
    let idx = code.culprit(input.line)?;
    code.require_one_line(idx, input.line)?;
    let kind = classify(&code, idx);
    let lang = input.language;
    let receivers = match lang {
        Language::Go => go_receivers(&code, idx)?,
        _ => vec![receiver(&code, idx, input)?],
    };
    let null = if lang == Language::Go { "nil" } else { "null" };
    // `!= null` is true for neither null nor undefined; say both so the log is not misleading.
    let missing = if lang.is_js() {
        "null or undefined"
    } else {
        null
    };
    let condition = receivers
        .iter()
        .map(|r| format!("{r} != {null}"))
        .collect::<Vec<_>>()
        .join(" && ");
    if let Some(h) = code.enclosing_header(idx) {
        if code.code(h).contains(&condition) {
            return Err(Refusal::AlreadyApplied {
                why: format!("the statement is already guarded by `{condition}`"),
            });
        }
    }
    let blocking = match &kind {
        StmtKind::Declaration { names, .. } => {
            names.iter().find(|n| used_later(&code, idx, n)).cloned()
        }
        _ => None,
    };
    let flows_on = matches!(kind, StmtKind::Return) || blocking.is_some();
    if lang.is_js() && flows_on {
        return js_optional_chain(input, code, idx, &receivers[0], evidence);
    }
    refuse_unwrappable(&kind, NAME)?;
    if let Some(name) = blocking {
        return Err(Refusal::UnsafeStatement {
            why: format!("it declares `{name}`, which is read later; skipping the declaration when the value is {null} would only move the crash (or not compile)"),
        });
    }
    let indent = code.indent(idx).to_string();
    let unit = code.unit();
    let stmt = code.lines[idx].trim_start().to_string();
    let label = format!(
        "{} is {missing}; skipped the statement at line {} (ccp null_guard)",
        receivers.join(" or "),
        input.line
    );
    let log = else_log(&code, &label);
    let open = if lang == Language::Go {
        format!("{indent}if {condition} {{")
    } else {
        format!("{indent}if ({condition}) {{")
    };
    let mut new = vec![open, format!("{indent}{unit}{stmt}")];
    match &log {
        Some(call) => {
            new.push(format!("{indent}}} else {{"));
            new.push(format!("{indent}{unit}{call}"));
            new.push(format!("{indent}}}"));
        }
        None => new.push(format!("{indent}}}")),
    }
    code.splice(idx..idx + 1, new);
    let logged = match log {
        Some(_) => "otherwise it is skipped and a warning is logged",
        None => "otherwise it is skipped (no logger in the file, so nothing is logged)",
    };
    let rationale = format!(
        "`{}` was {missing} at {}:{}; the statement now runs only when `{condition}`; {logged}.",
        receivers.join("` or `"),
        input.file,
        input.line
    );
    let certainty = if lang == Language::Go { 0.8 } else { 1.0 };
    Ok(Patch::new(
        NAME,
        input,
        code.render(),
        rationale,
        evidence * certainty,
    ))
}

/// The expression that was null, from the message when it names it, else from the line.
fn receiver(code: &Code, idx: usize, input: &FixInput<'_>) -> Result<String, Refusal> {
    let line = &code.lines[idx];
    let masked = &code.masked[idx];
    // Java's helpful NPE: `… because "user.email" is null`.
    if let Some(named) = quoted_after(input.message, "because \"") {
        if named.starts_with("the return value")
            || input.message.contains("because the return value")
        {
            return Err(Refusal::UnsafeStatement {
                why: "the null value is a method's return value; guarding it would call the method twice (side effects, different results)".into(),
            });
        }
        if !named.starts_with('<') {
            let bare = named.strip_prefix("this.").unwrap_or(&named);
            for candidate in [named.as_str(), bare] {
                if find_word(masked, candidate).is_some() {
                    not_nullable(code, idx, candidate)?;
                    return Ok(candidate.to_string());
                }
            }
        }
    }
    let attr = member_from_message(input.message);
    let mut found: Vec<String> = Vec::new();
    let mut optional = false;
    for (dot, _) in masked.match_indices('.') {
        let after = &masked[dot + 1..];
        let name_len = after
            .bytes()
            .take_while(|b| super::code::is_ident(*b))
            .count();
        if name_len == 0 || attr.as_deref().is_some_and(|a| a != &after[..name_len]) {
            continue;
        }
        if dot > 0 && masked.as_bytes()[dot - 1] == b'?' {
            optional = true;
            continue;
        }
        let start = expr_start(masked, dot);
        let expr = line[start..dot].trim().to_string();
        let static_like =
            expr.starts_with(|c: char| c.is_ascii_uppercase()) || expr == "this" || expr.is_empty();
        if !static_like && !found.contains(&expr) {
            found.push(expr);
        }
    }
    if attr.is_some() {
        // Keep only the outermost receivers when nested (`a` inside `a.b`).
        let all = found.clone();
        found.retain(|e| {
            !all.iter()
                .any(|o| o != e && o.starts_with(&format!("{e}.")))
        });
    }
    match found.len() {
        0 if optional => Err(Refusal::AlreadyApplied {
            why: "the member is already accessed with optional chaining (`?.`)".into(),
        }),
        0 => Err(Refusal::NoNullableValue {
            why: format!(
                "no member access{} on the line",
                attr.map(|a| format!(" to `.{a}`")).unwrap_or_default()
            ),
        }),
        1 => {
            let expr = found.remove(0);
            if expr.contains('(') {
                return Err(Refusal::UnsafeStatement {
                    why: format!("the null value comes from `{expr}`, which contains a call: checking it and then using it would call it twice"),
                });
            }
            not_nullable(code, idx, &expr)?;
            Ok(expr)
        }
        _ => Err(Refusal::Ambiguous {
            candidates: found.join("`, `"),
        }),
    }
}

/// The member the message says was read: JS `(reading 'x')`, `property 'x'`, Java
/// `Cannot invoke "T.x()"` / `Cannot read field "x"`.
fn member_from_message(message: &str) -> Option<String> {
    if let Some(a) =
        quoted_after(message, "reading '").or_else(|| quoted_after(message, "setting '"))
    {
        return Some(a);
    }
    if let Some(a) = quoted_after(message, "property '") {
        return Some(a);
    }
    if let Some(sig) = quoted_after(message, "Cannot invoke \"") {
        let method = sig.split('(').next()?.rsplit('.').next()?;
        return Some(method.to_string());
    }
    quoted_after(message, "field \"")
}

/// Refuse when the root variable is declared with a type that cannot be null.
fn not_nullable(code: &Code, idx: usize, expr: &str) -> Result<(), Refusal> {
    let root = expr.split(['.', '[']).next().unwrap_or(expr);
    if root != expr {
        return Ok(());
    }
    let header = code.function_header(idx).unwrap_or(0);
    for i in header..=idx {
        let l = &code.masked[i];
        let Some(at) = find_word(l, root) else {
            continue;
        };
        let before = l[..at].trim_end();
        let after = l[at + root.len()..].trim_start();
        let why = match code.lang {
            Language::Java => {
                let ty = before.rsplit([' ', '(', ',']).next().unwrap_or("");
                PRIMITIVES
                    .contains(&ty)
                    .then(|| format!("`{root}` is declared as the primitive `{ty}`, which Java never sets to null"))
            }
            Language::JavaScript | Language::TypeScript => {
                let literal = ["{", "[", "\"", "'", "`", "new "];
                (matches!(first_word(before.trim_start()), "const") && after.starts_with('=')
                    && literal.iter().any(|p| after[1..].trim_start().starts_with(p)))
                .then(|| format!("`{root}` is a const initialised to a literal or `new` object; it can never be null or undefined"))
            }
            _ => None,
        };
        if let Some(why) = why {
            return Err(Refusal::NotNullable { why });
        }
    }
    Ok(())
}

const PRIMITIVES: [&str; 8] = [
    "int", "long", "double", "float", "boolean", "char", "byte", "short",
];

/// Go prints no variable name for nil dereferences, so guard every pointer on the line: the
/// roots of selector chains that are not package names, and any field the file declares as a
/// pointer along the chain. Values declared as struct values are not nullable and skipped.
fn go_receivers(code: &Code, idx: usize) -> Result<Vec<String>, Refusal> {
    let packages = go_package_names(code);
    let line = &code.lines[idx];
    let masked = &code.masked[idx];
    let b = masked.as_bytes();
    let mut out: Vec<String> = Vec::new();
    let mut skipped: Vec<String> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if !super::code::is_ident(b[i])
            || (i > 0 && (super::code::is_ident(b[i - 1]) || b[i - 1] == b'.'))
        {
            i += 1;
            continue;
        }
        let mut end = i;
        while end < b.len() && (super::code::is_ident(b[end]) || b[end] == b'.') {
            end += 1;
        }
        let chain: Vec<&str> = line[i..end].trim_end_matches('.').split('.').collect();
        i = end;
        if chain.len() < 2
            || packages.iter().any(|p| p == chain[0])
            || chain[0].starts_with(|c: char| c.is_ascii_digit())
        {
            continue;
        }
        if go_value_declared(code, idx, chain[0]) {
            skipped.push(chain[0].to_string());
        } else if !out.contains(&chain[0].to_string()) {
            out.push(chain[0].to_string());
        }
        for k in 1..chain.len() - 1 {
            let field_is_pointer = code.masked.iter().any(|l| {
                let t = l.trim();
                t.starts_with(&format!("{} *", chain[k]))
                    || t.starts_with(&format!("{}\t*", chain[k]))
            });
            let prefix = chain[..=k].join(".");
            if field_is_pointer && !out.contains(&prefix) {
                out.push(prefix);
            }
        }
    }
    if out.is_empty() {
        return Err(match skipped.first() {
            Some(v) => Refusal::NotNullable {
                why: format!(
                    "`{v}` is declared as a struct value, not a pointer; it cannot be nil"
                ),
            },
            None => Refusal::NoNullableValue {
                why: "no pointer dereference (`x.field` / `x.Method()` on a variable) on the line"
                    .into(),
            },
        });
    }
    Ok(out)
}

fn go_value_declared(code: &Code, idx: usize, name: &str) -> bool {
    let header = code.function_header(idx).unwrap_or(0);
    (header..=idx).any(|i| {
        let l = &code.masked[i];
        let Some(at) = find_word(l, name) else {
            return false;
        };
        let after = l[at + name.len()..].trim_start();
        let value_literal = after
            .strip_prefix(":=")
            .map(str::trim_start)
            .is_some_and(|v| {
                v.starts_with(|c: char| c.is_ascii_uppercase())
                    && v.contains('{')
                    && !v.contains('(')
            });
        let value_param = i == header
            && after.starts_with(|c: char| c.is_ascii_uppercase())
            && !after.starts_with("*");
        value_literal || value_param
    })
}

/// Names Go code uses for imported packages (last path segment, or the alias).
pub(crate) fn go_package_names(code: &Code) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_block = false;
    for l in &code.lines {
        let t = l.trim();
        if t == "import (" {
            in_block = true;
            continue;
        }
        if in_block && t == ")" {
            in_block = false;
            continue;
        }
        let spec = if in_block {
            t
        } else if let Some(s) = t.strip_prefix("import ") {
            s
        } else {
            continue;
        };
        let Some(q) = spec.find('"') else { continue };
        let alias = spec[..q].trim();
        let path = spec[q..].trim_matches('"');
        let name = if alias.is_empty() {
            let last = path.rsplit('/').next().unwrap_or(path);
            if last.starts_with('v') && last[1..].bytes().all(|b| b.is_ascii_digit()) {
                path.rsplit('/').nth(1).unwrap_or(last)
            } else {
                last
            }
        } else {
            alias
        };
        out.push(name.to_string());
    }
    out
}

/// The log call for the skipped branch in the file's own logging style, if it has one.
fn else_log(code: &Code, message: &str) -> Option<String> {
    let msg = quoted(message);
    match code.lang {
        Language::Java => {
            let logger = code.logger()?;
            let method = if code.text_contains("java.util.logging") {
                "warning"
            } else {
                "warn"
            };
            Some(format!("{logger}.{method}(\"{msg}\");"))
        }
        Language::Go => {
            let packages = go_package_names(code);
            if packages.iter().any(|p| p == "slog") {
                Some(format!("slog.Warn(\"{msg}\")"))
            } else if packages.iter().any(|p| p == "log") {
                Some(format!("log.Printf(\"{msg}\")"))
            } else {
                None
            }
        }
        _ => {
            let logger = code.logger().unwrap_or("console");
            Some(format!("{logger}.warn(\"{msg}\");"))
        }
    }
}

/// JavaScript: the value flows on (returned, or declared and used later), so skipping the
/// statement is not possible; `?.` makes it `undefined` instead of throwing.
fn js_optional_chain(
    input: &FixInput<'_>,
    mut code: Code,
    idx: usize,
    receiver: &str,
    evidence: f64,
) -> Result<Patch, Refusal> {
    let line = code.lines[idx].clone();
    let masked = code.masked[idx].clone();
    let mut at = None;
    let mut from = 0;
    while let Some(p) = masked[from..].find(receiver) {
        let pos = from + p;
        let end = pos + receiver.len();
        if masked[end..].starts_with('.')
            && (pos == 0 || !super::code::is_ident(masked.as_bytes()[pos - 1]))
        {
            at = Some(end);
            break;
        }
        from = pos + 1;
    }
    let Some(dot) = at else {
        return Err(Refusal::NoNullableValue {
            why: format!("`{receiver}.` not found on the line"),
        });
    };
    let new_line = format!("{}?{}", &line[..dot], &line[dot..]);
    code.splice(idx..idx + 1, vec![new_line]);
    let rationale = format!(
        "`{receiver}` was null/undefined at {}:{}; its value flows on (returned or used later), so the statement cannot be skipped: `{receiver}?.` now yields `undefined` instead of throwing, and callers must accept `undefined`.",
        input.file, input.line
    );
    Ok(Patch::new(
        NAME,
        input,
        code.render(),
        rationale,
        evidence * 0.7,
    ))
}

/// Rust: an `Option` `.unwrap()`/`.expect()` at the culprit line becomes `?`, `ok_or…?` or a
/// `let … else` according to what the function returns.
fn rust(input: &FixInput<'_>, evidence: f64) -> Result<Patch, Refusal> {
    let text = input.evidence_text();
    if text.contains("result::unwrap") || text.contains("on an `err` value") {
        return Err(Refusal::NotNullable {
            why: "the panic is a `Result` unwrap on `Err`, not an `Option` on `None`; the error_handling template applies".into(),
        });
    }
    let mut code = Code::parse(input.source, Language::Rust);
    let idx = code.culprit(input.line)?;
    code.require_one_line(idx, input.line)?;
    let masked = code.masked[idx].clone();
    let line = code.lines[idx].clone();
    let (start, end) = the_unwrap(&line, &masked, |why| Refusal::NoNullableValue { why })?;
    let value_start = expr_start(&masked, start);
    let value = line[value_start..start].trim().to_string();
    let ret = rust_return_type(&code, idx);
    let msg = quoted(&format!(
        "{value} was None at {}:{} (ccp null_guard)",
        input.file, input.line
    ));
    let (new_line, how, certainty) = match ret.as_deref() {
        Some(r) if r.starts_with("Option<") => (
            format!("{}?{}", &line[..start], &line[end..]),
            "the function returns Option, so `?` returns None to the caller".to_string(),
            1.0,
        ),
        Some(r) if r.starts_with("Result<") && r.replace(' ', "").ends_with(",String>") => (
            format!("{}.ok_or_else(|| \"{msg}\".to_string())?{}", &line[..start], &line[end..]),
            "the function returns Result<_, String>, so the None becomes an Err with context".to_string(),
            1.0,
        ),
        Some(r) if r.starts_with("Result<") && r.contains("Box<dyn") => (
            format!("{}.ok_or(\"{msg}\")?{}", &line[..start], &line[end..]),
            "the function returns Result<_, Box<dyn Error>>, so the None becomes an Err with context".to_string(),
            1.0,
        ),
        Some(r) if r.starts_with("anyhow::Result<") || r.starts_with("Result<") && !r.contains(',') && code.text_contains("anyhow") => (
            format!("{}.ok_or_else(|| anyhow::anyhow!(\"{msg}\"))?{}", &line[..start], &line[end..]),
            "the function returns anyhow::Result, so the None becomes an error with context".to_string(),
            0.9,
        ),
        None => {
            let kind = classify(&code, idx);
            let StmtKind::Declaration { target, .. } = kind else {
                return Err(Refusal::NoErrorChannel {
                    why: "the function returns nothing and the unwrap is not a `let` binding, so there is no value to bind or return early with".into(),
                });
            };
            let indent = code.indent(idx).to_string();
            let pattern = target.trim_start_matches("let ").split(':').next().unwrap_or("").trim().to_string();
            let expr = line[value_start..start].trim_start_matches([' ', '=']);
            let rest = &line[end..];
            if rest.trim() != ";" {
                return Err(Refusal::UnsafeStatement {
                    why: "the unwrapped value is used further in the expression; `let … else` needs the unwrap to end the statement".into(),
                });
            }
            (
                format!("{indent}let Some({pattern}) = {} else {{ return; }};", expr.trim()),
                "the function returns (), so it now returns early when the value is None instead of panicking".to_string(),
                0.6,
            )
        }
        Some(other) => {
            return Err(Refusal::NoErrorChannel {
                why: format!("the function returns `{other}`; the template cannot build that error type from a None"),
            })
        }
    };
    code.splice(idx..idx + 1, vec![new_line]);
    let rationale = format!(
        "`{value}` was None at {}:{} and `.unwrap()` panicked; {how}.",
        input.file, input.line
    );
    Ok(Patch::new(
        NAME,
        input,
        code.render(),
        rationale,
        evidence * certainty,
    ))
}

/// Byte spans of `.unwrap()` and `.expect(…)` on a masked line.
/// The one `.unwrap()` / `.expect(…)` span on a Rust line that `?` can replace: refused with
/// `none(why)` when there is none, as ambiguous when there are several, and when it sits in a
/// closure (where `?` would return from the closure, not the function).
pub(crate) fn the_unwrap(
    line: &str,
    masked: &str,
    none: impl FnOnce(String) -> Refusal,
) -> Result<(usize, usize), Refusal> {
    let (start, end) = match unwrap_spans(masked).as_slice() {
        [one] => *one,
        [] => {
            return Err(none(
                "no `.unwrap()` or `.expect(…)` on the line (already handled?)".into(),
            ))
        }
        many => {
            return Err(Refusal::Ambiguous {
                candidates: many
                    .iter()
                    .map(|(s, e)| line[*s..*e].to_string())
                    .collect::<Vec<_>>()
                    .join("`, `"),
            })
        }
    };
    if masked[..start].contains('|') {
        return Err(Refusal::UnsafeStatement {
            why: "the unwrap is inside a closure; `?` would return from the closure, not the function".into(),
        });
    }
    Ok((start, end))
}

pub(crate) fn unwrap_spans(masked: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (dot, _) in masked.match_indices('.') {
        let rest = &masked[dot..];
        if rest.starts_with(".unwrap()") {
            out.push((dot, dot + ".unwrap()".len()));
        } else if rest.starts_with(".expect(") {
            if let Some(close) = super::code::matching_close(masked, dot + ".expect".len()) {
                out.push((dot, close + 1));
            }
        }
    }
    out
}

/// The return type of the Rust function around `idx` (text after `->`, before `{`/`where`),
/// or `None` when it returns `()`.
pub(crate) fn rust_return_type(code: &Code, idx: usize) -> Option<String> {
    let header = code.function_header(idx)?;
    let mut sig = String::new();
    for i in header..idx {
        sig.push_str(code.masked[i].trim());
        sig.push(' ');
        if code.masked[i].trim_end().ends_with('{') {
            break;
        }
    }
    let after = sig.split_once("->")?.1;
    let ty = after.split(" where ").next().unwrap_or(after);
    let ty = ty.trim().trim_end_matches('{').trim();
    (!ty.is_empty() && ty != "()").then(|| ty.to_string())
}
