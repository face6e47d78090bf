//! The error-handling template: catch the failure at the culprit statement, log it with
//! context, and hand the caller a typed error instead of crashing.
//!
//! Python, Java and JavaScript/TypeScript wrap the statement in `try`/`except`/`catch` and
//! re-raise the module's own domain error when the file defines or imports one (else the
//! language's standard wrapper, with lower confidence). Go and Rust have no exceptions: Go turns
//! an ignored `err`, a `panic`/`log.Fatal` or an unchecked type assertion into `return …,
//! fmt.Errorf("…: %w", err)`; Rust turns a `Result` `.unwrap()` into `?` with context. Both
//! refuse when the function has no error in its signature to return.

use super::code::{find_word, first_word, indented, is_ident, quoted, Code};
use super::null_guard::{rust_return_type, the_unwrap};
use super::stmt::{classify, refuse_unwrappable, used_later, StmtKind};
use super::template::{FixInput, FixTemplate, Language, Patch, Refusal, SignalKind};

/// Template name recorded in [`Patch::template`].
pub const NAME: &str = "error_handling";

/// The error-handling template.
pub struct ErrorHandling;

impl FixTemplate for ErrorHandling {
    fn name(&self) -> &'static str {
        NAME
    }

    fn signal_fit(&self, signal: SignalKind) -> (f64, &'static str) {
        match signal {
            SignalKind::Errors => (0.9, "an unhandled failure is an error-rate signal; a typed error turns a crash into a handled response"),
            _ => (0.2, "handling the error does not make a slow or exhausted dependency faster"),
        }
    }

    fn propose(&self, input: &FixInput<'_>) -> Result<Patch, Refusal> {
        error_handling(input)
    }
}

/// Handle the failure at the culprit statement in the language's idiom.
pub fn error_handling(input: &FixInput<'_>) -> Result<Patch, Refusal> {
    let (mut code, idx) = Code::at_culprit(input)?;
    let (how, certainty) = match input.language {
        Language::Python => python(&mut code, idx, input)?,
        Language::Java => java(&mut code, idx, input)?,
        Language::Go => go(&mut code, idx, input)?,
        Language::JavaScript | Language::TypeScript => js(&mut code, idx, input)?,
        Language::Rust => rust(&mut code, idx, input)?,
    };
    let rationale = format!(
        "the statement at {}:{} failed with `{}`; {how}.",
        input.file,
        input.line,
        short_type(input.error_type)
    );
    Ok(Patch::new(
        NAME,
        input,
        code.render(),
        rationale,
        0.55 * certainty,
    ))
}

fn short_type(error_type: &str) -> &str {
    let t = error_type.rsplit('.').next().unwrap_or(error_type);
    if t.is_empty() {
        "the statement"
    } else {
        t
    }
}

/// Name of the function around `idx`, for messages.
fn function_name(code: &Code, idx: usize) -> Result<String, Refusal> {
    let header = code
        .function_header(idx)
        .ok_or_else(|| Refusal::UnsafeStatement {
            why: "the statement is not inside a function; there is no caller to hand an error to"
                .into(),
        })?;
    let h = code.code(header);
    let before_paren = match code.lang {
        Language::Go => {
            let rest = h.trim_start_matches("func ").trim_start();
            let rest = if rest.starts_with('(') {
                super::code::matching_close(rest, 0).map_or(rest, |c| &rest[c + 1..])
            } else {
                rest
            };
            rest.split('(').next().unwrap_or("")
        }
        _ => h.split('(').next().unwrap_or(""),
    };
    let name = before_paren
        .trim()
        .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$'))
        .next()
        .unwrap_or("")
        .to_string();
    Ok(if name.is_empty() {
        "the handler".to_string()
    } else {
        name
    })
}

fn already_in_try(code: &Code, idx: usize) -> Result<(), Refusal> {
    if let Some(h) = code.enclosing_header(idx) {
        let head = code.code(h);
        if head == "try:" || head.starts_with("try {") || head.starts_with("try (") {
            return Err(Refusal::AlreadyApplied {
                why: format!(
                    "the statement already sits in the `try` block at line {}",
                    h + 1
                ),
            });
        }
    }
    Ok(())
}

/// The first class the file defines or imports whose name ends with one of `suffixes`: the
/// module's own domain error, which callers already know how to handle.
fn domain_error(code: &Code, suffixes: &[&str], skip_prefix: &str) -> Option<String> {
    for (i, l) in code.masked.iter().enumerate() {
        let t = l.trim();
        let candidate =
            if t.starts_with("class ") || t.starts_with("export class ") || t.contains(" class ") {
                t.split("class ").nth(1).map(|r| {
                    r.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .next()
                        .unwrap_or("")
                })
            } else if t.starts_with("import ") && !code.lines[i].contains(skip_prefix) {
                code.lines[i]
                    .trim_end_matches(';')
                    .rsplit(['.', ' ', '{', ','])
                    .find(|w| {
                        !w.trim().is_empty()
                            && !w.contains('\'')
                            && !w.contains('"')
                            && !w.contains('}')
                    })
            } else {
                None
            };
        if let Some(c) = candidate {
            if suffixes.iter().any(|s| c.ends_with(s) && c.len() > s.len()) {
                return Some(c.to_string());
            }
        }
    }
    None
}

const PY_BUILTIN_ERRORS: [&str; 16] = [
    "KeyError",
    "ValueError",
    "TypeError",
    "IndexError",
    "AttributeError",
    "ZeroDivisionError",
    "LookupError",
    "RuntimeError",
    "OSError",
    "IOError",
    "ConnectionError",
    "TimeoutError",
    "FileNotFoundError",
    "PermissionError",
    "UnicodeDecodeError",
    "ArithmeticError",
];

fn python(code: &mut Code, idx: usize, input: &FixInput<'_>) -> Result<(String, f64), Refusal> {
    let kind = classify(code, idx);
    if kind != StmtKind::Return {
        refuse_unwrappable(&kind, NAME)?;
    }
    already_in_try(code, idx)?;
    let function = function_name(code, idx)?;
    let catch = python_catch_type(code, input.error_type);
    let domain = domain_error(code, &["Error", "Exception"], "\u{0}");
    let (raise, certainty) = match &domain {
        Some(d) if *d != catch => (d.clone(), 1.0),
        _ => ("RuntimeError".to_string(), 0.7),
    };
    let (indent, unit) = (code.indent(idx).to_string(), code.unit());
    let stmt = code.lines[idx].trim_start().to_string();
    let context = quoted(&format!(
        "{function}() failed at {}:{}",
        input.file, input.line
    ));
    let mut added_import = false;
    let logger = match code.logger() {
        Some(l) => l.to_string(),
        None => {
            added_import = true;
            "logging.getLogger(__name__)".to_string()
        }
    };
    let body = vec![
        format!("{indent}try:"),
        format!("{indent}{unit}{stmt}"),
        format!("{indent}except {catch} as exc:"),
        format!("{indent}{unit}{logger}.exception(\"{context}\")"),
        format!("{indent}{unit}raise {raise}(f\"{context}: {{exc}}\") from exc"),
    ];
    code.splice(idx..idx + 1, body);
    if added_import {
        code.ensure_import("logging");
    }
    let typed = match domain {
        Some(d) if d == raise => format!("re-raises it as the module's own `{d}` (with the cause chained)"),
        _ => "re-raises it as `RuntimeError` with the cause chained (the module defines no domain error, so callers may still need a handler)".to_string(),
    };
    Ok((
        format!("it now catches `{catch}`, logs it with the function and location, and {typed}"),
        certainty,
    ))
}

/// The exception class to catch, spelled so the file can name it: a builtin, a class the file
/// defines or imports by name, or a dotted path under a module the file imports; otherwise
/// `Exception`. Why: `requests.exceptions.ConnectionError` is not the builtin `ConnectionError`,
/// so matching on the short name alone would catch the wrong thing.
fn python_catch_type(code: &Code, error_type: &str) -> String {
    let short = short_type(error_type);
    let dotted = error_type.contains('.') && !error_type.starts_with("builtins.");
    let named_in_file = code.masked.iter().any(|l| {
        find_word(l, short).is_some() && (l.starts_with("from ") || l.starts_with("class "))
    });
    if named_in_file || (!dotted && PY_BUILTIN_ERRORS.contains(&short)) {
        return short.to_string();
    }
    let module = error_type.split('.').next().unwrap_or("");
    let module_imported = code.lines.iter().any(|l| {
        l.strip_prefix("import ")
            .is_some_and(|names| names.split(',').any(|n| n.trim() == module))
    });
    if dotted && module_imported {
        error_type.to_string()
    } else {
        "Exception".to_string()
    }
}

const JAVA_LANG: [&str; 14] = [
    "NullPointerException",
    "IllegalArgumentException",
    "IllegalStateException",
    "ArithmeticException",
    "ArrayIndexOutOfBoundsException",
    "IndexOutOfBoundsException",
    "NumberFormatException",
    "ClassCastException",
    "UnsupportedOperationException",
    "RuntimeException",
    "Exception",
    "StringIndexOutOfBoundsException",
    "SecurityException",
    "NegativeArraySizeException",
];

/// Split `Type x = value;` into `Type x;` before the wrapper and `x = value;` inside it, when
/// `x` is read later; `None` when no split is needed. Why: a declaration inside `try { }` is
/// invisible after it.
pub(crate) fn split_declaration(
    code: &Code,
    idx: usize,
    kind: &StmtKind,
) -> Result<Option<(String, String)>, Refusal> {
    let StmtKind::Declaration {
        names,
        target,
        value,
    } = kind
    else {
        return Ok(None);
    };
    let Some(name) = names.iter().find(|n| used_later(code, idx, n)) else {
        return Ok(None);
    };
    if names.len() != 1 {
        return Err(Refusal::UnsafeStatement {
            why: format!(
                "it declares several names (`{}`) used later; split the declaration by hand",
                names.join("`, `")
            ),
        });
    }
    let decl = match code.lang {
        Language::Java if first_word(target) == "var" || target.contains(" var ") => {
            return Err(Refusal::UnsafeStatement {
                why: format!("`var {name}` is used after the statement and `var` cannot be declared without its initialiser"),
            })
        }
        Language::Java => format!("{target};"),
        _ => {
            let w = first_word(target);
            format!("let {};", target[w.len()..].trim())
        }
    };
    Ok(Some((decl, format!("{name} = {value};"))))
}

fn java(code: &mut Code, idx: usize, input: &FixInput<'_>) -> Result<(String, f64), Refusal> {
    let kind = classify(code, idx);
    if kind != StmtKind::Return {
        refuse_unwrappable(&kind, NAME)?;
    }
    already_in_try(code, idx)?;
    let method = function_name(code, idx)?;
    let split = split_declaration(code, idx, &kind)?;
    let short = short_type(input.error_type).replace('$', ".");
    let catch = if JAVA_LANG.contains(&short.as_str())
        || code.lines.iter().any(|l| {
            l.starts_with("import ") && l.trim_end_matches(';').ends_with(&format!(".{short}"))
        }) {
        short
    } else if input.error_type.contains('.') {
        input.error_type.replace('$', ".")
    } else {
        "RuntimeException".to_string()
    };
    let domain = domain_error(code, &["Exception", "Error"], "import java.");
    let (throw, certainty) = match &domain {
        Some(d) if *d != catch && !catch.ends_with(&format!(".{d}")) => (d.clone(), 0.9),
        _ => ("IllegalStateException".to_string(), 0.7),
    };
    let (indent, unit) = (code.indent(idx).to_string(), code.unit());
    let context = quoted(&format!("{method} failed at {}:{}", input.file, input.line));
    let stmt = match &split {
        Some((_, assign)) => assign.clone(),
        None => code.lines[idx].trim_start().to_string(),
    };
    let mut new = Vec::new();
    if let Some((decl, _)) = &split {
        new.push(format!("{indent}{decl}"));
    }
    new.push(format!("{indent}try {{"));
    new.push(format!("{indent}{unit}{stmt}"));
    new.push(format!("{indent}}} catch ({catch} e) {{"));
    if let Some(logger) = code.logger() {
        let call = if code.text_contains("java.util.logging") {
            format!("{logger}.severe(\"{context}: \" + e);")
        } else {
            format!("{logger}.error(\"{context}\", e);")
        };
        new.push(format!("{indent}{unit}{call}"));
    }
    new.push(format!(
        "{indent}{unit}throw new {throw}(\"{context}\", e);"
    ));
    new.push(format!("{indent}}}"));
    code.splice(idx..idx + 1, new);
    let logged = if code.logger().is_some() {
        "logs it with the method and location, and "
    } else {
        ""
    };
    Ok((format!("it now catches `{catch}`, {logged}rethrows it as `{throw}` with that context and the cause"), certainty))
}

fn js(code: &mut Code, idx: usize, input: &FixInput<'_>) -> Result<(String, f64), Refusal> {
    let kind = classify(code, idx);
    if kind != StmtKind::Return {
        refuse_unwrappable(&kind, NAME)?;
    }
    already_in_try(code, idx)?;
    let function = function_name(code, idx)?;
    let split = split_declaration(code, idx, &kind)?;
    let domain = domain_error(code, &["Error"], "\u{0}");
    let (indent, unit) = (code.indent(idx).to_string(), code.unit());
    let context = quoted(&format!(
        "{function} failed at {}:{}",
        input.file, input.line
    ));
    let (throw, certainty) = match &domain {
        Some(d) => (
            format!("throw new {d}(`{context}: ${{String(err)}}`);"),
            0.9,
        ),
        None => (
            format!("throw new Error(\"{context}\", {{ cause: err }});"),
            0.7,
        ),
    };
    let logger = code.logger().unwrap_or("console");
    let stmt = match &split {
        Some((_, assign)) => assign.clone(),
        None => code.lines[idx].trim_start().to_string(),
    };
    let mut new = Vec::new();
    if let Some((decl, _)) = &split {
        new.push(format!("{indent}{decl}"));
    }
    new.extend(indented(
        &[
            "try {".to_string(),
            format!("{unit}{stmt}"),
            "} catch (err) {".to_string(),
            format!("{unit}{logger}.error(\"{context}\", err);"),
            format!("{unit}{throw}"),
            "}".to_string(),
        ],
        &indent,
    ));
    code.splice(idx..idx + 1, new);
    let typed = domain.map_or(
        "rethrows an `Error` carrying that context and the cause".to_string(),
        |d| format!("rethrows it as the module's own `{d}`"),
    );
    Ok((format!("it now catches the failure, logs it with the function and location via `{logger}.error`, and {typed}"), certainty))
}

/// Result types of the Go function around `idx`, if it returns an `error` last.
pub(crate) fn go_result_types(code: &Code, idx: usize) -> Result<Vec<String>, Refusal> {
    let header = code
        .function_header(idx)
        .ok_or_else(|| Refusal::NoErrorChannel {
            why: "the statement is not inside a function".into(),
        })?;
    let h = code.code(header).trim_end_matches('{').trim_end();
    let rest = h.trim_start_matches("func").trim_start();
    let rest = if rest.starts_with('(') {
        super::code::matching_close(rest, 0).map_or(rest, |c| &rest[c + 1..])
    } else {
        rest
    };
    let open = rest.find('(').ok_or_else(|| Refusal::NoErrorChannel {
        why: "the function header spans lines".into(),
    })?;
    let close = super::code::matching_close(rest, open).ok_or_else(|| Refusal::NoErrorChannel {
        why: "the function header spans lines".into(),
    })?;
    let results = rest[close + 1..].trim();
    let list: Vec<String> = match results.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        Some(inner) => inner
            .split(',')
            .map(|p| p.trim().rsplit(' ').next().unwrap_or("").to_string())
            .collect(),
        None if results.is_empty() => Vec::new(),
        None => vec![results.to_string()],
    };
    if list.last().map(String::as_str) != Some("error") {
        return Err(Refusal::NoErrorChannel {
            why: format!(
                "`{}` does not return an `error`, so there is nowhere to send the failure without changing its signature and every caller",
                function_name(code, idx).unwrap_or_default()
            ),
        });
    }
    Ok(list)
}

/// The zero value of a Go type, as source.
pub(crate) fn go_zero_value(ty: &str) -> String {
    const NUMBERS: [&str; 17] = [
        "int",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "uintptr",
        "float32",
        "float64",
        "byte",
        "rune",
        "complex64",
        "complex128",
    ];
    match ty {
        t if NUMBERS.contains(&t) => "0".into(),
        "string" => "\"\"".into(),
        "bool" => "false".into(),
        "any" | "error" => "nil".into(),
        t if t.starts_with('*')
            || t.starts_with("[]")
            || t.starts_with("map[")
            || t.starts_with("chan ")
            || t.starts_with("func(")
            || t.starts_with("interface") =>
        {
            "nil".into()
        }
        t => format!("*new({t})"),
    }
}

fn go_return(results: &[String], err: &str) -> String {
    let mut parts: Vec<String> = results[..results.len() - 1]
        .iter()
        .map(|t| go_zero_value(t))
        .collect();
    parts.push(err.to_string());
    format!("return {}", parts.join(", "))
}

fn go(code: &mut Code, idx: usize, input: &FixInput<'_>) -> Result<(String, f64), Refusal> {
    let results = go_result_types(code, idx)?;
    let function = function_name(code, idx)?;
    let context = format!("{function} at {}:{}", input.file, input.line);
    let (indent, unit) = (code.indent(idx).to_string(), code.unit());
    let line = code.lines[idx].clone();
    let masked = code.masked[idx].clone();
    let t = masked.trim();
    let header = code.function_header(idx).unwrap_or(0);
    let err_declared = (header..idx).any(|i| {
        let l = &code.masked[i];
        find_word(l, "err").is_some()
            && (l.contains(":=") || l.contains("err error") || l.contains("var err"))
    });
    let (new, how): (Vec<String>, String) = if t.starts_with("panic(") || t.starts_with("log.Fatal")
    {
        let open = masked.find('(').unwrap_or(0);
        let close = super::code::matching_close(&masked, open).unwrap_or(masked.len() - 1);
        let arg = line[open + 1..close].trim().to_string();
        let is_err = arg == "err" || arg.ends_with("Err") || arg.ends_with("err");
        let wrapped = if is_err {
            format!("fmt.Errorf(\"{}: %w\", {arg})", quoted(&context))
        } else if first_word(t) == "log" && t.contains("Fatalf(") || t.contains("Sprintf(") {
            let inner = arg
                .strip_prefix("fmt.Sprintf(")
                .and_then(|a| a.strip_suffix(')'))
                .unwrap_or(&arg);
            format!("fmt.Errorf({inner})")
        } else {
            format!("fmt.Errorf(\"{}: %v\", {arg})", quoted(&context))
        };
        (
            vec![format!("{indent}{}", go_return(&results, &wrapped))],
            "the panic/log.Fatal that killed the process now returns a wrapped error to the caller"
                .to_string(),
        )
    } else if let Some((names, rest, defines)) = go_assignment_with_blank_error(&line, &masked) {
        // `:=` stays `:=` (its other names are new); `=` becomes `:=` only when `err` is new.
        let op = if (defines && !names.is_empty()) || !err_declared {
            ":="
        } else {
            "="
        };
        let targets = {
            let mut n = names.clone();
            n.push("err".to_string());
            n.join(", ")
        };
        (
            vec![
                format!("{indent}{targets} {op} {rest}"),
                format!("{indent}if err != nil {{"),
                format!("{indent}{unit}{}", go_return(&results, &format!("fmt.Errorf(\"{}: %w\", err)", quoted(&context)))),
                format!("{indent}}}"),
            ],
            "the error that was discarded with `_` is now checked and returned, wrapped with the function and location".to_string(),
        )
    } else if let Some((target, value, ty)) = go_type_assertion(&line, &masked) {
        (
            vec![
                format!("{indent}{target}, ok := {value}.({ty})"),
                format!("{indent}if !ok {{"),
                format!("{indent}{unit}{}", go_return(&results, &format!("fmt.Errorf(\"{}: unexpected type %T\", {value})", quoted(&context)))),
                format!("{indent}}}"),
            ],
            "the unchecked type assertion now uses the comma-ok form and returns an error instead of panicking".to_string(),
        )
    } else {
        return Err(Refusal::UnsafeStatement {
            why: "no discarded error (`_`), `panic`/`log.Fatal` or type assertion on the line: nothing the template can turn into a returned error".into(),
        });
    };
    code.splice(idx..idx + 1, new);
    code.ensure_import("fmt");
    Ok((how, 1.0))
}

/// `x, _ := call(…)` or `_ = call(…)` → the named targets (without the last `_`), the value,
/// and whether the statement declared (`:=`).
fn go_assignment_with_blank_error(line: &str, masked: &str) -> Option<(Vec<String>, String, bool)> {
    let (op_at, op_len) = masked.find(":=").map(|p| (p, 2)).or_else(|| {
        let p = masked.find(" = ")?;
        Some((p + 1, 1))
    })?;
    let targets: Vec<String> = masked[..op_at]
        .split(',')
        .map(|s| s.trim().to_string())
        .collect();
    if targets.last().map(String::as_str) != Some("_") || !masked[op_at..].contains('(') {
        return None;
    }
    let names = targets[..targets.len() - 1].to_vec();
    if names.iter().any(|n| !n.bytes().all(is_ident)) {
        return None;
    }
    Some((
        names,
        line[op_at + op_len..].trim().to_string(),
        op_len == 2,
    ))
}

/// `x := y.(T)` → (`x`, `y`, `T`).
fn go_type_assertion(line: &str, masked: &str) -> Option<(String, String, String)> {
    let op = masked.find(":=")?;
    let target = masked[..op].trim();
    if target.contains(',') {
        return None;
    }
    let value = masked[op + 2..].trim();
    let dot = value.rfind(".(")?;
    if !value.ends_with(')') || value[dot + 2..].starts_with("type") {
        return None;
    }
    let start = line.len() - line[op + 2..].trim_start().len();
    let v = &line[start..];
    Some((
        target.to_string(),
        v[..dot].to_string(),
        v[dot + 2..v.len() - 1].to_string(),
    ))
}

fn rust(code: &mut Code, idx: usize, input: &FixInput<'_>) -> Result<(String, f64), Refusal> {
    let text = input.evidence_text();
    if text.contains("option::unwrap") || text.contains("on a `none` value") {
        return Err(Refusal::EvidenceMismatch {
            why: "the panic is an `Option` unwrap on `None`; the null_guard template applies"
                .into(),
        });
    }
    let line = code.lines[idx].clone();
    let masked = code.masked[idx].clone();
    let (start, end) = the_unwrap(&line, &masked, |why| Refusal::UnsafeStatement { why })?;
    let function = function_name(code, idx)?;
    let context = quoted(&format!("{function} at {}:{}", input.file, input.line));
    let ret = rust_return_type(code, idx).unwrap_or_else(|| "()".to_string());
    let compact = ret.replace(' ', "");
    let (replacement, how, certainty) = if !compact.starts_with("Result<")
        && !compact.starts_with("anyhow::Result<")
        && !compact.starts_with("io::Result<")
    {
        return Err(Refusal::NoErrorChannel {
            why: format!("`{function}` returns `{ret}`, not a Result, so there is no error to return instead of panicking"),
        });
    } else if compact.ends_with(",String>") || compact.contains("Box<dyn") {
        (
            format!(".map_err(|e| format!(\"{context}: {{e}}\"))?"),
            "the error is returned to the caller with the function and location instead of panicking",
            1.0,
        )
    } else if compact.starts_with("anyhow::Result<")
        || (!compact.contains(',') && code.text_contains("anyhow"))
    {
        (
            format!(".map_err(|e| anyhow::anyhow!(\"{context}: {{e}}\"))?"),
            "the error is returned to the caller as an anyhow error with the function and location",
            1.0,
        )
    } else {
        (
            "?".to_string(),
            "the error is returned with `?`, converted by the function's error type's `From` impl (check it exists)",
            0.6,
        )
    };
    let new = format!("{}{replacement}{}", &line[..start], &line[end..]);
    code.splice(idx..idx + 1, vec![new]);
    Ok((how.to_string(), certainty))
}
