//! Go panics and fatal errors.
//!
//! Go prints `panic: <value>` (nested panics as `panic: a [recovered]` then an indented
//! `panic: b`), an optional `[signal …]` line, then one block per goroutine:
//! `goroutine 7 [running]:` followed by pairs of a call line (`main.skuPattern(...)`) and a
//! tab-indented location (`\t/srv/app/main.go:12 +0x1d`), ending with `created by …` for
//! goroutines started with `go`. The first goroutine after the panic is the one that panicked.

use super::location;
use super::paths;
use super::{any_line, Frame, LocalizeError, ParsedTrace, TraceParser};

const LANGUAGE: &str = "go";

/// Parser for Go panics. Stateless; use the unit value.
#[derive(Clone, Copy, Debug, Default)]
pub struct GoPanicParser;

impl TraceParser for GoPanicParser {
    fn language(&self) -> &'static str {
        LANGUAGE
    }

    fn recognizes(&self, text: &str) -> bool {
        any_line(text, is_goroutine_header)
    }

    fn parse(&self, text: &str) -> Result<ParsedTrace, LocalizeError> {
        let lines: Vec<&str> = text.lines().collect();
        let (panic_index, header) = lines
            .iter()
            .enumerate()
            .rev()
            .find_map(|(i, line)| panic_header(line.trim()).map(|header| (i, header)))
            .ok_or(LocalizeError::NoException {
                language: LANGUAGE,
                example: "panic: …",
            })?;
        let goroutine = lines[panic_index..]
            .iter()
            .position(|line| is_goroutine_header(line.trim()))
            .map(|offset| panic_index + offset)
            .ok_or(LocalizeError::NoFrames {
                language: LANGUAGE,
                frame_shape: "`goroutine N [running]:` and `pkg.func(...)` / `\\t/path/file.go:N`",
            })?;
        let frames = goroutine_frames(&lines[goroutine + 1..]);
        if frames.is_empty() {
            return Err(LocalizeError::NoFrames {
                language: LANGUAGE,
                frame_shape: "`pkg.func(...)` followed by `\\t/path/file.go:N`",
            });
        }
        Ok(ParsedTrace::innermost_first(LANGUAGE, header, frames))
    }

    /// The runtime (`runtime.…` functions) and everything under GOROOT (`…/go/src/regexp/…`,
    /// `/usr/lib/go-1.19/src/…`), plus vendored packages.
    fn is_runtime_frame(&self, frame: &Frame) -> bool {
        let function = frame.function.trim_start_matches("created by ");
        function.starts_with("runtime.") || in_goroot(&frame.file) || is_vendored(&frame.file)
    }
}

/// `goroutine 7 [running]:` (also `[chan receive, 2 minutes]:`).
fn is_goroutine_header(trimmed: &str) -> bool {
    let Some(rest) = trimmed.strip_prefix("goroutine ") else {
        return false;
    };
    let Some((number, state)) = rest.split_once(' ') else {
        return false;
    };
    number.bytes().all(|b| b.is_ascii_digit())
        && !number.is_empty()
        && state.starts_with('[')
        && state.ends_with("]:")
}

/// `panic: value` (minus ` [recovered]`), `fatal error: message`, or a signal dump `SIGQUIT: quit`.
fn panic_header(trimmed: &str) -> Option<(String, String)> {
    if let Some(value) = trimmed.strip_prefix("panic: ") {
        let value = value.strip_suffix(" [recovered]").unwrap_or(value);
        return Some(("panic".to_string(), value.trim().to_string()));
    }
    if let Some(message) = trimmed.strip_prefix("fatal error: ") {
        return Some(("fatal error".to_string(), message.trim().to_string()));
    }
    let (signal, message) = trimmed.split_once(": ")?;
    let is_signal = signal.len() > 3
        && signal.starts_with("SIG")
        && signal.bytes().all(|b| b.is_ascii_uppercase());
    is_signal.then(|| (signal.to_string(), message.trim().to_string()))
}

/// Call/location pairs of one goroutine block, innermost first, up to the blank line that ends it.
fn goroutine_frames(lines: &[&str]) -> Vec<Frame> {
    let mut frames: Vec<Frame> = Vec::new();
    for line in lines {
        let trimmed = line.trim();
        if trimmed.is_empty() || is_goroutine_header(trimmed) {
            break;
        }
        if line.starts_with(char::is_whitespace) {
            let place = trimmed.split(' ').next().unwrap_or(trimmed);
            if let (Some(frame), Some(at)) = (frames.last_mut(), location::parse(place)) {
                if frame.line == 0 {
                    frame.file = at.file.to_string();
                    frame.line = at.line;
                }
            }
            continue;
        }
        if trimmed.starts_with("...") {
            continue; // `...additional frames elided...`
        }
        let function = match trimmed.strip_prefix("created by ") {
            Some(creator) => {
                let creator = creator.split(" in goroutine ").next().unwrap_or(creator);
                format!("created by {creator}")
            }
            // Every call line ends with its argument list; anything else (`exit status 2`
            // from `go run`, other output) ends the block.
            None if trimmed.ends_with(')') => strip_arguments(trimmed).to_string(),
            None => break,
        };
        frames.push(Frame {
            file: String::new(),
            line: 0,
            function,
            code: None,
        });
    }
    // A call line whose location line never came (a cut-off paste) names no place in the code:
    // keep only frames that say where they are.
    frames.retain(|f| !f.file.is_empty());
    frames
}

/// `main.(*Cart).Add(0xc000010000, {0x4b2087?, 0x0?})` → `main.(*Cart).Add`.
fn strip_arguments(call: &str) -> &str {
    if !call.ends_with(')') {
        return call;
    }
    let mut depth = 0usize;
    for (index, c) in call.char_indices().rev() {
        match c {
            ')' => depth += 1,
            '(' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return &call[..index];
                }
            }
            _ => {}
        }
    }
    call
}

/// `<root>/src/<std package>/…` where root is a Go installation (`go`, `go-1.19`, `golang`) and
/// the first package element has no dot (standard packages never do; `github.com/…` in an old
/// GOPATH layout does).
fn in_goroot(file: &str) -> bool {
    if file.starts_with("$GOROOT") {
        return true;
    }
    let parts = paths::components(file);
    parts.windows(3).any(|w| {
        let root = w[0] == "go" || w[0] == "golang" || w[0].starts_with("go-1") || w[0] == "goroot";
        root && w[1] == "src" && !w[2].contains('.')
    })
}

fn is_vendored(file: &str) -> bool {
    paths::components(file).contains(&"vendor")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_stripped_and_creators_named() {
        assert_eq!(
            strip_arguments("main.(*Cart).Add(0xc000010000, {0x4b2087?, 0x0?})"),
            "main.(*Cart).Add"
        );
        assert_eq!(strip_arguments("main.firstItem(...)"), "main.firstItem");
        let text = "panic: boom [recovered]
\tpanic: second

goroutine 18 [running]:
main.work.func1()
\t/srv/app/main.go:9 +0x25
created by main.main in goroutine 1
\t/srv/app/main.go:14 +0x3f
";
        let trace = GoPanicParser.parse(text).expect("parse");
        assert_eq!(trace.message, "second");
        assert_eq!(trace.frames[0].function, "created by main.main");
        assert_eq!(trace.frames[1].function, "main.work.func1");
        assert_eq!(trace.frames[1].line, 9);
    }

    #[test]
    fn goroot_detection() {
        assert!(in_goroot("/usr/lib/go-1.19/src/regexp/regexp.go"));
        assert!(in_goroot("/usr/local/go/src/runtime/panic.go"));
        assert!(!in_goroot("/home/me/go/src/github.com/me/app/main.go"));
        assert!(!in_goroot("/srv/app/main.go"));
    }

    #[test]
    fn missing_parts_are_named() {
        assert!(matches!(
            GoPanicParser.parse("goroutine 1 [running]:\nmain.main()\n"),
            Err(LocalizeError::NoException { .. })
        ));
        assert!(matches!(
            GoPanicParser.parse("panic: x\n\ngoroutine 1 [running]:\n"),
            Err(LocalizeError::NoFrames { .. })
        ));
    }
}
