//! Rust panics, with or without a `RUST_BACKTRACE` backtrace.
//!
//! The panic line names the exact location (`thread 'main' panicked at src/main.rs:5:18:`, with a
//! thread id since Rust 1.92ish, or `panicked at 'msg', src/main.rs:5:18` before 1.73). Without a
//! backtrace that location is the only frame, and its function is unknown (empty). With
//! `RUST_BACKTRACE=1` or `full`, the numbered frames (`  4: main::parse_port` followed by
//! `at ./src/main.rs:5:18`) give the call chain; symbol hashes and crate disambiguators of
//! `full` backtraces are removed so names read as in the source.

use super::location;
use super::paths;
use super::{Frame, LocalizeError, ParsedTrace, TraceParser};

const LANGUAGE: &str = "rust";
const PANICKED_AT: &str = " panicked at ";

/// Parser for Rust panic messages. Stateless; use the unit value.
#[derive(Clone, Copy, Debug, Default)]
pub struct RustPanicParser;

impl TraceParser for RustPanicParser {
    fn language(&self) -> &'static str {
        LANGUAGE
    }

    fn recognizes(&self, text: &str) -> bool {
        text.lines().any(is_panic_line)
    }

    fn parse(&self, text: &str) -> Result<ParsedTrace, LocalizeError> {
        let lines: Vec<&str> = text.lines().collect();
        let index =
            lines
                .iter()
                .rposition(|line| is_panic_line(line))
                .ok_or(LocalizeError::NoTrace {
                    language: LANGUAGE,
                    marker: "thread '…' panicked at",
                })?;
        let line = lines[index];
        let after = line
            .find(PANICKED_AT)
            .map_or("", |at| &line[at + PANICKED_AT.len()..]);
        let (place, inline_message) = split_panic_line(after);
        let at = location::parse(place).ok_or(LocalizeError::NoFrames {
            language: LANGUAGE,
            frame_shape: "a `panicked at file:line:col` location",
        })?;
        let rest = &lines[index + 1..];
        let message = inline_message
            .map(str::to_string)
            .or_else(|| {
                rest.first()
                    .filter(|next| !next.starts_with("note:") && next.trim() != "stack backtrace:")
                    .map(|next| next.trim().to_string())
            })
            .unwrap_or_default();
        let mut frames = backtrace(rest);
        let panic_site_listed = frames
            .iter()
            .any(|frame| frame.line == at.line && paths::same_file(&frame.file, at.file));
        if !panic_site_listed {
            frames.insert(
                0,
                Frame {
                    file: at.file.to_string(),
                    line: at.line,
                    function: String::new(),
                    code: None,
                },
            );
        }
        Ok(ParsedTrace::innermost_first(
            LANGUAGE,
            ("panic".to_string(), message),
            frames,
        ))
    }

    /// The standard library and C runtime: `/rustc/<hash>/library/…` paths are caught by the
    /// generic rules; this adds `std::`/`core::`/`alloc::` symbols printed without a location and
    /// C symbols such as `main`, `_start` or `__libc_start_main_impl` (Rust symbols always
    /// contain `::`).
    fn is_runtime_frame(&self, frame: &Frame) -> bool {
        let function = frame.function.as_str();
        if function.is_empty() {
            return false;
        }
        let std_paths = [
            "std::",
            "core::",
            "alloc::",
            "__rustc::",
            "<std::",
            "<core::",
            "<alloc::",
        ];
        !function.contains("::") || std_paths.iter().any(|p| function.starts_with(p))
    }
}

fn is_panic_line(line: &str) -> bool {
    line.contains("thread '") && line.contains(PANICKED_AT)
}

/// `src/main.rs:5:18:` (message on the next line) or the pre-1.73 `'msg', src/main.rs:5:18`.
fn split_panic_line(after: &str) -> (&str, Option<&str>) {
    let after = after.trim();
    if let Some(quoted) = after.strip_prefix('\'') {
        if let Some((message, place)) = quoted.rsplit_once("', ") {
            return (place.trim(), Some(message));
        }
    }
    (after.strip_suffix(':').unwrap_or(after), None)
}

/// Frames of a `stack backtrace:` block, innermost first (as printed). Each frame is a symbol
/// line (`  4: name`, or an unnumbered line for an inlined frame) optionally followed by an
/// `at file:line:col` line. The block ends at the first unindented line (`note: …`).
fn backtrace(rest: &[&str]) -> Vec<Frame> {
    let Some(start) = rest.iter().position(|l| l.trim() == "stack backtrace:") else {
        return Vec::new();
    };
    let mut frames: Vec<Frame> = Vec::new();
    for line in &rest[start + 1..] {
        if !line.starts_with(char::is_whitespace) {
            break;
        }
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        if let Some(place) = trimmed.strip_prefix("at ") {
            if let (Some(frame), Some(at)) = (frames.last_mut(), location::parse(place)) {
                if frame.line == 0 {
                    frame.file = at.file.to_string();
                    frame.line = at.line;
                }
            }
            continue;
        }
        let symbol = numbered(trimmed).unwrap_or(trimmed);
        frames.push(Frame {
            file: String::new(),
            line: 0,
            function: clean_symbol(strip_address(symbol)),
            code: None,
        });
    }
    frames
}

/// `12: body` → `body`.
fn numbered(trimmed: &str) -> Option<&str> {
    let (number, body) = trimmed.split_once(": ")?;
    (!number.is_empty() && number.bytes().all(|b| b.is_ascii_digit())).then_some(body.trim())
}

/// `0x5620f724094a - name` (full backtraces) → `name`.
fn strip_address(symbol: &str) -> &str {
    match symbol.split_once(" - ") {
        Some((address, name)) if address.trim().starts_with("0x") => name.trim(),
        _ => symbol,
    }
}

/// Drop the `::h0123456789abcdef` symbol hash and `[0123456789abcdef]` crate disambiguators.
fn clean_symbol(symbol: &str) -> String {
    let symbol = match symbol.rsplit_once("::h") {
        Some((head, hash)) if is_hex16(hash) => head,
        _ => symbol,
    };
    let mut out = String::with_capacity(symbol.len());
    let mut rest = symbol;
    while let Some(open) = rest.find('[') {
        let candidate = &rest[open + 1..];
        out.push_str(&rest[..open]);
        match candidate.get(..17) {
            Some(hash) if hash.ends_with(']') && is_hex16(&hash[..16]) => {
                rest = &candidate[17..];
            }
            _ => {
                out.push('[');
                rest = candidate;
            }
        }
    }
    out.push_str(rest);
    out
}

fn is_hex16(text: &str) -> bool {
    text.len() == 16 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_format_inline_message() {
        let text = "thread 'main' panicked at 'index out of bounds: the len is 3 but the index is 7', src/lib.rs:12:9\n";
        let trace = RustPanicParser.parse(text).expect("parse");
        assert_eq!(
            trace.message,
            "index out of bounds: the len is 3 but the index is 7"
        );
        assert_eq!(trace.frames.len(), 1);
        assert_eq!(
            (trace.frames[0].file.as_str(), trace.frames[0].line),
            ("src/lib.rs", 12)
        );
    }

    #[test]
    fn symbols_lose_hashes_and_disambiguators() {
        assert_eq!(
            clean_symbol("main::parse_port::hcf7e3e37d892e675"),
            "main::parse_port"
        );
        assert_eq!(
            clean_symbol("std[e28293b1aa0f68bd]::panicking::default_hook::{closure#0}"),
            "std::panicking::default_hook::{closure#0}"
        );
        assert_eq!(clean_symbol("<[u8] as Foo>::bar"), "<[u8] as Foo>::bar");
    }

    #[test]
    fn inlined_unnumbered_frames_and_panic_inside_a_dependency() {
        let text = "thread 'tokio-runtime-worker' panicked at /home/ci/.cargo/registry/src/index.crates.io-6f17d22bba15001f/serde_json-1.0.1/src/de.rs:10:5:
boom
stack backtrace:
   0: serde_json::de::from_str
             at /home/ci/.cargo/registry/src/index.crates.io-6f17d22bba15001f/serde_json-1.0.1/src/de.rs:10:5
      app::config::load
             at ./src/config.rs:22:9
   1: app::main
             at ./src/main.rs:3:5
note: Some details are omitted
";
        let trace = RustPanicParser.parse(text).expect("parse");
        let names: Vec<&str> = trace.frames.iter().map(|f| f.function.as_str()).collect();
        assert_eq!(
            names,
            ["app::main", "app::config::load", "serde_json::de::from_str"]
        );
        assert_eq!(trace.message, "boom");
        let culprit = super::super::likely_culprit(&trace).expect("culprit");
        assert_eq!(
            (culprit.file.as_str(), culprit.line),
            ("./src/config.rs", 22)
        );
    }
}
