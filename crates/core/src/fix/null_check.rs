//! The `null_check` template: guard the statement whose `<expr>.<attr>` access hit `None`.
//!
//! Output for the demo (4-space indentation, module logger `logger`):
//!
//! ```text
//!     if user.email is not None:
//!         send_receipt(user.email.strip().lower(), charge.id)
//!     else:
//!         logger.warning("user.email is None; skipped send_receipt() (ccp null_check)")
//! ```
//!
//! The template refuses (with a reason) whenever skipping the statement would change behaviour
//! in a way a reviewer might not see: returns, yields, raises, asserts, block headers, several
//! statements on one line, or an assignment whose variable is read later.

use super::pysource::{is_ident_byte, trim_start_bytes, PySource, Stmt};
use super::{diff, FixError, FixProposal};

/// Template name recorded in [`FixProposal::template`].
pub const TEMPLATE: &str = "null_check";

const BLOCK_KEYWORDS: [&str; 12] = [
    "if", "elif", "else", "for", "while", "with", "try", "except", "finally", "def", "class",
    "async",
];

/// The function a statement lives in, and the nearest block header around it.
struct Scope {
    function: String,
    function_line: usize,
    nearest_header_line: usize,
}

/// Build a null-check fix for `file` (used for diff headers and messages) whose content is
/// `source`, at 1-based `line`, where `.none_attr` was looked up on `None`.
///
/// Why a template and not free-form generation: the change is small, explainable and reviewable,
/// and every way it could be wrong is checked here and refused with a reason.
pub fn null_check(
    file: &str,
    source: &str,
    line: u32,
    none_attr: &str,
) -> Result<FixProposal, FixError> {
    let py = PySource::parse(source);
    let idx = line_index(&py, file, line)?;
    let stmt_index = py.statement_at(idx).ok_or_else(|| FixError::NotCode {
        file: file.to_string(),
        line,
    })?;
    let stmt = py.statements[stmt_index];
    let scope = enclosing_scope(&py, stmt_index).ok_or_else(|| FixError::NotInFunction {
        file: file.to_string(),
        line,
    })?;
    let expr = find_receiver(&py, idx, none_attr).map_err(|e| e.at(file, line))?;
    check_statement(&py, stmt, &scope, &expr).map_err(|e| e.at(file, line))?;
    let unit = indent_unit(&py, stmt.first, scope.nearest_header_line);
    let logger = module_logger(&py);
    let label = statement_label(&py, stmt);
    let new_source = rewrite(&py, stmt, &expr, &unit, logger.as_deref(), &label);
    Ok(proposal(
        file, line, source, new_source, &expr, &scope, none_attr, logger,
    ))
}

fn line_index(py: &PySource, file: &str, line: u32) -> Result<usize, FixError> {
    let count = py.line_count();
    match usize::try_from(line) {
        Ok(l) if l >= 1 && l <= count => Ok(l - 1),
        _ => Err(FixError::LineOutOfRange {
            file: file.to_string(),
            line,
            lines: count,
        }),
    }
}

/// Walk outwards through less-indented statements. The innermost `def` wins; a `class` reached
/// first means the line is in a class body, which is not a function.
fn enclosing_scope(py: &PySource, stmt_index: usize) -> Option<Scope> {
    let mut current = py.indent_cols(py.statements[stmt_index].first);
    let mut nearest_header_line = None;
    for stmt in py.statements[..stmt_index].iter().rev() {
        let cols = py.indent_cols(stmt.first);
        if cols >= current {
            continue;
        }
        current = cols;
        nearest_header_line.get_or_insert(stmt.first);
        match py.first_word(*stmt).as_str() {
            "def" | "async" if is_def(py, *stmt) => {
                return Some(Scope {
                    function: function_name(py, *stmt),
                    function_line: stmt.first,
                    nearest_header_line: nearest_header_line.unwrap_or(stmt.first),
                })
            }
            "class" => return None,
            _ if cols == 0 => return None,
            _ => {}
        }
    }
    None
}

fn is_def(py: &PySource, stmt: Stmt) -> bool {
    let text = String::from_utf8_lossy(py.masked_lines(stmt.first, stmt.first)).to_string();
    let t = text.trim_start();
    t.starts_with("def ") || t.starts_with("async def ")
}

fn function_name(py: &PySource, stmt: Stmt) -> String {
    let text = String::from_utf8_lossy(py.masked_lines(stmt.first, stmt.first)).to_string();
    let after = text.split_once("def ").map_or("", |(_, rest)| rest);
    after
        .trim_start()
        .split(|c: char| c == '(' || c.is_whitespace())
        .next()
        .unwrap_or("")
        .to_string()
}

/// Refusal reasons found before the file and line are known to the helper; `at` adds them.
pub(crate) enum Refusal {
    NotFound,
    Ambiguous(Vec<String>),
    HasCall(String),
    SpansLines,
    Unsafe { expr: String, why: String },
}

impl Refusal {
    fn at(self, file: &str, line: u32) -> FixError {
        let file = file.to_string();
        match self {
            Refusal::NotFound => FixError::AttributeNotFound { file, line },
            Refusal::Ambiguous(receivers) => FixError::AmbiguousReceiver {
                file,
                line,
                receivers: receivers.join("`, `"),
            },
            Refusal::HasCall(expr) => FixError::ReceiverHasCall { file, line, expr },
            Refusal::SpansLines => FixError::ReceiverSpansLines { file, line },
            Refusal::Unsafe { expr, why } => FixError::TemplateDoesNotApply {
                file,
                line,
                expr,
                why,
            },
        }
    }
}

/// The expression before `.attr` on the line, e.g. `user.email` in `user.email.strip()`.
fn find_receiver(py: &PySource, idx: usize, attr: &str) -> Result<String, Refusal> {
    let (start, end) = py.line_range(idx);
    let mut found: Vec<String> = Vec::new();
    for dot in start..end {
        if !is_attr_access(py, dot, end, attr) {
            continue;
        }
        let receiver_start = receiver_start(&py.masked, start, dot)?;
        let text = py.text[receiver_start..dot].trim().to_string();
        if !text.is_empty() && !found.contains(&text) {
            found.push(text);
        }
    }
    match found.len() {
        0 => Err(Refusal::NotFound),
        1 => {
            let expr = found.remove(0);
            if expr.contains('(') {
                Err(Refusal::HasCall(expr))
            } else {
                Ok(expr)
            }
        }
        _ => Err(Refusal::Ambiguous(found)),
    }
}

fn is_attr_access(py: &PySource, dot: usize, end: usize, attr: &str) -> bool {
    let after = dot + 1 + attr.len();
    py.masked[dot] == b'.'
        && after <= end
        && &py.masked[dot + 1..after] == attr.as_bytes()
        && py.masked.get(after).is_none_or(|b| !is_ident_byte(*b))
}

/// Walk back from the dot over names, dots and bracket groups (calls, subscripts).
fn receiver_start(masked: &[u8], line_start: usize, dot: usize) -> Result<usize, Refusal> {
    let mut pos = dot;
    while pos > line_start {
        let c = masked[pos - 1];
        if is_ident_byte(c) {
            let mut s = pos - 1;
            while s > line_start && is_ident_byte(masked[s - 1]) {
                s -= 1;
            }
            if masked[s].is_ascii_digit() {
                break;
            }
            pos = s;
            if pos > line_start && masked[pos - 1] == b'.' {
                pos -= 1;
                continue;
            }
            break;
        } else if c == b')' || c == b']' {
            pos = matching_open(masked, line_start, pos - 1).ok_or(Refusal::SpansLines)?;
        } else {
            break;
        }
    }
    Ok(pos)
}

/// The bracket opening the one that closes at `close`, looking back no further than
/// `line_start`.
pub(super) fn matching_open(masked: &[u8], line_start: usize, close: usize) -> Option<usize> {
    let mut depth = 0usize;
    for i in (line_start..=close).rev() {
        match masked[i] {
            b')' | b']' | b'}' => depth += 1,
            b'(' | b'[' | b'{' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Refuse statements whose skipping would silently change what the function does.
fn check_statement(py: &PySource, stmt: Stmt, scope: &Scope, expr: &str) -> Result<(), Refusal> {
    let unsafe_because = |why: String| Refusal::Unsafe {
        expr: expr.to_string(),
        why,
    };
    let word = py.first_word(stmt);
    let masked = py.masked_lines(stmt.first, stmt.last);
    if let Some(why) = keyword_refusal(&word, masked, expr) {
        return Err(unsafe_because(why));
    }
    if has_top_level(masked, b';') {
        return Err(unsafe_because(
            "the line holds several statements separated by `;`; split them first so the guard covers only the failing one".into(),
        ));
    }
    for name in assigned_names(masked) {
        if read_later(py, stmt, scope, &name) {
            return Err(unsafe_because(format!(
                "it assigns `{name}`, which `{}` reads later; skipping the assignment when `{expr}` is None would only move the crash there (NameError/UnboundLocalError)",
                scope.function
            )));
        }
    }
    Ok(())
}

fn keyword_refusal(word: &str, masked: &[u8], expr: &str) -> Option<String> {
    let reason = match word {
        "return" => format!("it is a `return` whose value depends on `{expr}`; guarding it would make the function fall through and return None instead, which callers do not expect"),
        "raise" => "it is a `raise`; guarding it would silently swallow the error it reports".into(),
        "assert" => "it is an `assert`; guarding it would silently skip the check".into(),
        w if BLOCK_KEYWORDS.contains(&w) || (matches!(w, "match" | "case") && ends_with_colon(masked)) => {
            format!("it is a block header (`{w} …:`); the template only wraps simple statements, and skipping a block header would change which code runs")
        }
        _ if trim_start_bytes(masked).starts_with(b"@") => {
            "it is a decorator line; the template only wraps simple statements".into()
        }
        _ if contains_word(masked, b"yield") => format!("it contains a `yield` whose value depends on `{expr}`; guarding it would change what the generator produces"),
        _ => return None,
    };
    Some(reason)
}

fn ends_with_colon(masked: &[u8]) -> bool {
    masked
        .iter()
        .rev()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b':')
}

fn contains_word(masked: &[u8], word: &[u8]) -> bool {
    masked.windows(word.len()).enumerate().any(|(i, w)| {
        w == word
            && (i == 0 || !is_ident_byte(masked[i - 1]))
            && masked
                .get(i + word.len())
                .is_none_or(|b| !is_ident_byte(*b))
    })
}

/// Whether `needle` occurs outside brackets (strings and comments are already masked).
fn has_top_level(masked: &[u8], needle: u8) -> bool {
    top_level_positions(masked).any(|i| masked[i] == needle)
}

/// Positions of bytes at bracket depth 0.
fn top_level_positions(masked: &[u8]) -> impl Iterator<Item = usize> + '_ {
    let mut depth = 0i32;
    masked.iter().enumerate().filter_map(move |(i, b)| {
        match b {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            _ => {}
        }
        (depth == 0).then_some(i)
    })
}

/// Plain names bound by an assignment statement (`x = …`, `a, b = …`, `x: int = …`, `x += …`).
/// Attribute and subscript targets bind no local name, so they are not reported.
fn assigned_names(masked: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    let mut segment_start = 0;
    for i in top_level_positions(masked).collect::<Vec<_>>() {
        if let Some(target_end) = assignment_operator_at(masked, i) {
            let target = &masked[segment_start..target_end];
            names.extend(target_names(target));
            segment_start = i + 1;
        }
    }
    names
}

/// If `masked[i]` is the `=` of an assignment operator, where its target text ends.
fn assignment_operator_at(masked: &[u8], i: usize) -> Option<usize> {
    if masked[i] != b'=' || masked.get(i + 1) == Some(&b'=') {
        return None;
    }
    let prev = i.checked_sub(1).map(|p| masked[p]);
    let prev2 = i.checked_sub(2).map(|p| masked[p]);
    match prev {
        Some(b'=' | b'!' | b':') => None,
        Some(c @ (b'<' | b'>')) if prev2 != Some(c) => None,
        Some(b'<' | b'>') => Some(i - 2),
        Some(b'/' | b'*') if prev2 == prev => Some(i - 2),
        Some(b'+' | b'-' | b'*' | b'/' | b'%' | b'&' | b'|' | b'^' | b'@') => Some(i - 1),
        _ => Some(i),
    }
}

fn target_names(target: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(target);
    let before_annotation = text.split(':').next().unwrap_or("");
    before_annotation
        .split(',')
        .map(|part| {
            part.trim()
                .trim_matches(|c| matches!(c, '(' | ')' | '[' | ']' | '*' | ' '))
        })
        .filter(|name| is_identifier(name))
        .map(str::to_string)
        .collect()
}

fn is_identifier(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_alphanumeric() || c == '_')
}

/// Is `name` read (as a bare name, not `obj.name`) after `stmt`, within the same function?
fn read_later(py: &PySource, stmt: Stmt, scope: &Scope, name: &str) -> bool {
    let function_cols = py.indent_cols(scope.function_line);
    let later = py.statements.iter().filter(|s| s.first > stmt.last);
    for s in later {
        if py.indent_cols(s.first) <= function_cols {
            break;
        }
        let masked = py.masked_lines(s.first, s.last);
        let hit = masked.windows(name.len()).enumerate().any(|(i, w)| {
            w == name.as_bytes()
                && (i == 0 || !(is_ident_byte(masked[i - 1]) || masked[i - 1] == b'.'))
                && masked
                    .get(i + name.len())
                    .is_none_or(|b| !is_ident_byte(*b))
        });
        if hit {
            return true;
        }
    }
    false
}

/// One indentation level in the file's own style: whatever the statement adds over its nearest
/// enclosing header (e.g. 4 spaces, 2 spaces or a tab).
fn indent_unit(py: &PySource, stmt_line: usize, header_line: usize) -> String {
    let inner = py.indent_of(stmt_line);
    let outer = py.indent_of(header_line);
    match inner.strip_prefix(outer) {
        Some(extra) if !extra.is_empty() => extra.to_string(),
        _ if inner.contains('\t') => "\t".to_string(),
        _ => "    ".to_string(),
    }
}

/// `logger` or `log` when the module defines one at top level (`logger = logging.getLogger(…)`),
/// so the skipped case leaves a trace in production logs.
fn module_logger(py: &PySource) -> Option<String> {
    let top_level: Vec<String> = py
        .statements
        .iter()
        .filter(|s| py.indent_cols(s.first) == 0)
        .flat_map(|s| assigned_names(py.masked_lines(s.first, s.last)))
        .collect();
    ["logger", "log"]
        .into_iter()
        .find(|name| top_level.iter().any(|n| n == name))
        .map(str::to_string)
}

/// `send_receipt()` when the statement is a call, else `the statement`; used in the log line.
fn statement_label(py: &PySource, stmt: Stmt) -> String {
    let masked = trim_start_bytes(py.masked_lines(stmt.first, stmt.last));
    let callee_len = masked
        .iter()
        .take_while(|b| is_ident_byte(**b) || **b == b'.')
        .count();
    if callee_len > 0 && masked.get(callee_len) == Some(&b'(') {
        format!("{}()", String::from_utf8_lossy(&masked[..callee_len]))
    } else {
        "the statement".to_string()
    }
}

fn rewrite(
    py: &PySource,
    stmt: Stmt,
    expr: &str,
    unit: &str,
    logger: Option<&str>,
    label: &str,
) -> String {
    let eol = if py.text.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let indent = py.indent_of(stmt.first);
    let (stmt_start, _) = py.line_range(stmt.first);
    let (_, stmt_end) = py.line_range(stmt.last);
    let mut out = String::with_capacity(py.text.len() + 200);
    out.push_str(&py.text[..stmt_start]);
    out.push_str(&format!("{indent}if {expr} is not None:{eol}"));
    for line in stmt.first..=stmt.last {
        let text = py.line_text(line);
        if !py.starts_in_string[line] && !text.trim().is_empty() {
            out.push_str(unit);
        }
        out.push_str(text);
    }
    let had_final_newline = py.text[..stmt_end].ends_with('\n');
    if !had_final_newline {
        out.push_str(eol);
    }
    if let Some(logger) = logger {
        let message =
            python_string_body(&format!("{expr} is None; skipped {label} (ccp null_check)"));
        out.push_str(&format!(
            "{indent}else:{eol}{indent}{unit}{logger}.warning(\"{message}\"){eol}"
        ));
    }
    if !had_final_newline {
        out.truncate(out.len() - eol.len());
    }
    out.push_str(&py.text[stmt_end..]);
    out
}

fn python_string_body(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

#[allow(clippy::too_many_arguments)]
fn proposal(
    file: &str,
    line: u32,
    old: &str,
    new: String,
    expr: &str,
    scope: &Scope,
    attr: &str,
    logger: Option<String>,
) -> FixProposal {
    let (lines_added, lines_removed) = diff::line_counts(old, &new);
    let otherwise = match logger {
        Some(logger) => format!("otherwise it is skipped and `{logger}.warning` records that"),
        None => "otherwise it is skipped (the module has no `logger`/`log`, so nothing is logged)"
            .to_string(),
    };
    FixProposal {
        template: TEMPLATE.to_string(),
        file: file.to_string(),
        line,
        diff: diff::unified(file, old, &new),
        old_source: old.to_string(),
        new_source: new,
        description: format!(
            "`{expr}` was None at {file}:{line} in `{}`, so `.{attr}` raised AttributeError. The statement now runs only when `{expr} is not None`; {otherwise}.",
            scope.function
        ),
        guarded_expr: expr.to_string(),
        lines_added,
        lines_removed,
    }
}
