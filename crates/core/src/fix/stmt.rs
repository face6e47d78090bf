//! What kind of statement sits on the culprit line, for the brace languages and Python.
//!
//! Why: wrapping a statement in `if`, `try` or a breaker is only safe when doing so keeps the
//! function's meaning — a wrapped `return` falls through, a wrapped declaration hides its
//! variable from later lines. Every template asks this one question the same way.

use super::code::{find_word, first_word, is_ident, Code};
use super::template::{Language, Refusal};

/// The statement's kind, as far as the wrapping templates care.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum StmtKind {
    /// `return …`
    Return,
    /// `throw …` / `raise …` / `panic(…)`
    Throw,
    /// A block header or closing brace (`if (…) {`, `} else {`, `for …:`).
    Header,
    /// A declaration: the names it binds, and the text before the first name (the Java/TS type
    /// or the JS keyword), used to split the declaration from its initialiser.
    Declaration {
        /// Names bound.
        names: Vec<String>,
        /// Text before the `=`: `String email`, `const email`, `x, err` (Go `:=`).
        target: String,
        /// Text after the `=` (or `:=`), without the final `;`.
        value: String,
    },
    /// Anything else: a call, an assignment to an existing variable.
    Expression,
}

const HEADER_WORDS: [&str; 17] = [
    "if", "else", "for", "while", "switch", "try", "catch", "finally", "do", "def", "class",
    "with", "elif", "except", "async", "match", "select",
];

/// Classify the statement at `idx` (a one-line statement).
pub(crate) fn classify(code: &Code, idx: usize) -> StmtKind {
    let text = code.code(idx);
    let word = first_word(text);
    if word == "return" {
        return StmtKind::Return;
    }
    if matches!(word, "throw" | "raise" | "panic") || text.starts_with("panic!") {
        return StmtKind::Throw;
    }
    let opens_block = match code.lang {
        Language::Python => text.ends_with(':'),
        _ => text.ends_with('{'),
    };
    if word == "}" || HEADER_WORDS.contains(&word) || opens_block || text.starts_with('@') {
        return StmtKind::Header;
    }
    declaration(code, idx).unwrap_or(StmtKind::Expression)
}

fn declaration(code: &Code, idx: usize) -> Option<StmtKind> {
    let masked = &code.masked[idx];
    let lead = masked.len() - masked.trim_start().len();
    let (eq, op_len) = assignment_op(masked, code.lang)?;
    let target = code.lines[idx][lead..eq].trim_end().to_string();
    let value = code.lines[idx][eq + op_len..]
        .trim()
        .trim_end_matches(';')
        .trim_end()
        .to_string();
    let names: Vec<String> = match code.lang {
        Language::Go if op_len == 2 => split_names(&target),
        Language::Go if target.starts_with("var ") => split_names(target[4..].split(' ').next()?),
        Language::JavaScript | Language::TypeScript => {
            let w = first_word(&target);
            if !matches!(w, "const" | "let" | "var") {
                return None;
            }
            split_names(target[w.len()..].split(':').next()?)
        }
        Language::Java => {
            let words: Vec<&str> = target.split_whitespace().collect();
            if words.len() < 2 || target.contains('.') && !target.contains('<') {
                return None;
            }
            split_names(words.last()?)
        }
        Language::Rust if first_word(&target) == "let" => split_names(
            target[3..]
                .trim_start()
                .trim_start_matches("mut ")
                .split(':')
                .next()?,
        ),
        Language::Python => split_names(&target),
        _ => return None,
    };
    (!names.is_empty()).then_some(StmtKind::Declaration {
        names,
        target,
        value,
    })
}

/// Offset and length of the first top-level `=` (or Go `:=`) that assigns, if any.
fn assignment_op(masked: &str, lang: Language) -> Option<(usize, usize)> {
    let b = masked.as_bytes();
    let mut depth = 0i32;
    for i in 0..b.len() {
        match b[i] {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            b'=' if depth == 0 => {
                let prev = if i > 0 { b[i - 1] } else { b' ' };
                let next = b.get(i + 1).copied().unwrap_or(b' ');
                if next == b'=' || next == b'>' || matches!(prev, b'=' | b'!' | b'<' | b'>') {
                    continue;
                }
                if prev == b':' && lang == Language::Go {
                    return Some((i - 1, 2));
                }
                if matches!(
                    prev,
                    b'+' | b'-' | b'*' | b'/' | b'%' | b'&' | b'|' | b'^' | b':'
                ) {
                    return None;
                }
                return Some((i, 1));
            }
            _ => {}
        }
    }
    None
}

fn split_names(text: &str) -> Vec<String> {
    text.split(',')
        .map(|n| {
            n.trim()
                .trim_matches(|c| matches!(c, '(' | ')' | '[' | ']' | '{' | '}' | ' '))
        })
        .filter(|n| !n.is_empty() && n.bytes().all(is_ident) && *n != "_")
        .map(str::to_string)
        .collect()
}

/// Whether `name` is read after line `idx` within the function that contains it (whole-word,
/// not as `obj.name`). Why: skipping or scoping a declaration whose variable is used later just
/// moves the crash or breaks compilation.
pub(crate) fn used_later(code: &Code, idx: usize, name: &str) -> bool {
    let end = match code.function_header(idx) {
        Some(h) => code.body_end(h),
        None => code.lines.len(),
    };
    (idx + 1..end.min(code.lines.len())).any(|i| {
        let l = &code.masked[i];
        let mut from = 0;
        while let Some(p) = l.get(from..).and_then(|h| find_word(h, name)) {
            let at = from + p;
            if at == 0 || l.as_bytes()[at - 1] != b'.' {
                return true;
            }
            from = at + name.len();
        }
        false
    })
}

/// Refuse statements no wrapper may touch: returns, throws and block headers. Why one check:
/// guarding a `return` makes the function fall through, guarding a `throw` swallows the error,
/// wrapping a header changes which code runs.
pub(crate) fn refuse_unwrappable(kind: &StmtKind, template: &str) -> Result<(), Refusal> {
    let why = match kind {
        StmtKind::Return => format!("it is a `return`; the {template} template would make the function fall through or need a value it cannot invent"),
        StmtKind::Throw => format!("it raises/throws on purpose; the {template} template would swallow the error it reports"),
        StmtKind::Header => format!("it is a block header or brace; the {template} template only wraps simple statements"),
        _ => return Ok(()),
    };
    Err(Refusal::UnsafeStatement { why })
}
