//! Python traceback parser.
//!
//! Handles what real logs contain: `traceback.format_exc()` text, chained exceptions ("During
//! handling of the above exception…", "The above exception was the direct cause…"; the last
//! traceback is the one that crashed), Python 3.11+ caret lines (`^^^^`, `~~~^^^`), recursion
//! summaries, and log prefixes such as `2024-05-01 12:00:00,123 ERROR [worker-3] ` on every line.

use super::{Frame, LocalizeError, ParsedTrace, TraceParser};

const HEADER: &str = "Traceback (most recent call last):";
const LANGUAGE: &str = "python";

/// Parser for CPython tracebacks. Stateless; use the unit value.
#[derive(Clone, Copy, Debug, Default)]
pub struct PythonTraceParser;

impl TraceParser for PythonTraceParser {
    fn language(&self) -> &'static str {
        LANGUAGE
    }

    fn recognizes(&self, text: &str) -> bool {
        text.contains(HEADER)
    }

    fn parse(&self, text: &str) -> Result<ParsedTrace, LocalizeError> {
        let lines: Vec<&str> = text.lines().collect();
        let (header_index, column) = last_header(&lines).ok_or(LocalizeError::NoTrace {
            language: LANGUAGE,
            marker: HEADER,
        })?;
        let prefix = &lines[header_index][..column];
        let body = lines[header_index + 1..]
            .iter()
            .map(|line| strip_log_prefix(line, prefix));
        parse_body(body)
    }
}

/// Index and column of the last traceback header: with chained exceptions the last one is the
/// exception that actually escaped.
fn last_header(lines: &[&str]) -> Option<(usize, usize)> {
    lines
        .iter()
        .enumerate()
        .rev()
        .find_map(|(i, line)| line.find(HEADER).map(|col| (i, col)))
}

/// Remove a log prefix. The header line's prefix is removed verbatim when it repeats, or when a
/// line starts with text of the same shape (digits where digits were, e.g. a later timestamp).
fn strip_log_prefix<'a>(line: &'a str, prefix: &str) -> &'a str {
    if prefix.is_empty() {
        return line;
    }
    if let Some(rest) = line.strip_prefix(prefix) {
        return rest;
    }
    match line.get(..prefix.len()) {
        Some(head) if same_shape(head, prefix) => &line[prefix.len()..],
        _ => line,
    }
}

/// Same length, same characters except that any digit may stand for any digit.
fn same_shape(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.chars()
            .zip(b.chars())
            .all(|(x, y)| x == y || (x.is_ascii_digit() && y.is_ascii_digit()))
}

/// Walk the lines after the header: frames, their echoed code, then the exception line.
fn parse_body<'a>(body: impl Iterator<Item = &'a str>) -> Result<ParsedTrace, LocalizeError> {
    let mut frames: Vec<Frame> = Vec::new();
    let mut exception: Option<(String, String)> = None;
    for line in body {
        let trimmed = line.trim();
        if trimmed.is_empty() || is_decoration(trimmed) {
            continue;
        }
        if let Some(frame) = parse_frame_line(trimmed) {
            frames.push(frame);
        } else if line.starts_with(char::is_whitespace) {
            attach_code(&mut frames, trimmed);
        } else if let Some(parsed) = parse_exception_line(trimmed) {
            exception = Some(parsed);
            break;
        }
    }
    if frames.is_empty() {
        return Err(LocalizeError::NoFrames {
            language: LANGUAGE,
            frame_shape: "`File \"…\", line N, in …`",
        });
    }
    let header = exception.ok_or(LocalizeError::NoException {
        language: LANGUAGE,
        example: "ValueError: …",
    })?;
    Ok(ParsedTrace::outermost_first(LANGUAGE, header, frames))
}

/// Caret/tilde markers under the failing expression and recursion summaries carry no location.
fn is_decoration(trimmed: &str) -> bool {
    trimmed.chars().all(|c| matches!(c, '^' | '~' | ' '))
        || (trimmed.starts_with("[Previous line repeated") && trimmed.ends_with(']'))
        || trimmed == "..."
}

/// The first indented non-frame line after a frame is that frame's source line.
fn attach_code(frames: &mut [Frame], trimmed: &str) {
    if let Some(last) = frames.last_mut() {
        if last.code.is_none() {
            last.code = Some(trimmed.to_string());
        }
    }
}

/// `File "path", line 45, in process_payment` (the `, in …` part is absent for SyntaxErrors).
fn parse_frame_line(trimmed: &str) -> Option<Frame> {
    let rest = trimmed.strip_prefix("File \"")?;
    let quote = rest.rfind("\", line ")?;
    let file = &rest[..quote];
    let after = &rest[quote + "\", line ".len()..];
    let digits_end = after
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(after.len());
    let line: u32 = after[..digits_end].parse().ok()?;
    let function = after[digits_end..]
        .strip_prefix(", in ")
        .unwrap_or("")
        .trim()
        .to_string();
    Some(Frame {
        file: file.to_string(),
        line,
        function,
        code: None,
    })
}

/// `Type: message` or a bare `Type`; the type must look like a (dotted) Python identifier.
fn parse_exception_line(trimmed: &str) -> Option<(String, String)> {
    let (name, message) = match trimmed.split_once(':') {
        Some((name, message)) => (name, message.trim()),
        None => (trimmed, ""),
    };
    is_dotted_identifier(name).then(|| (name.to_string(), message.to_string()))
}

fn is_dotted_identifier(name: &str) -> bool {
    !name.is_empty()
        && name.split('.').all(|part| {
            part.chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_')
                && part.chars().all(|c| c.is_alphanumeric() || c == '_')
        })
}
