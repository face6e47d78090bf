//! Node.js (V8) stack traces.
//!
//! Handles what `node app.js` prints for an uncaught error (the `file:line` and source echo, the
//! `TypeError: …` line, the `at …` frames, the `Node.js vX` trailer), frames with and without a
//! function name (`at fn (file:line:col)`, `at file:line:col`), `file://` URLs of ES modules,
//! locationless frames (`at Array.map (<anonymous>)`), and `[cause]:` chains (the deepest cause,
//! printed last, is where the error happened).

use super::location;
use super::{any_line, Frame, LocalizeError, ParsedTrace, TraceParser};

const LANGUAGE: &str = "node";

/// Parser for Node.js stack traces. Stateless; use the unit value.
#[derive(Clone, Copy, Debug, Default)]
pub struct NodeTraceParser;

impl TraceParser for NodeTraceParser {
    fn language(&self) -> &'static str {
        LANGUAGE
    }

    fn recognizes(&self, text: &str) -> bool {
        any_line(text, |line| {
            parse_frame(line).is_some_and(|frame| frame.line > 0)
        })
    }

    fn parse(&self, text: &str) -> Result<ParsedTrace, LocalizeError> {
        let lines: Vec<&str> = text.lines().collect();
        let (start, end, search_from) = last_frame_run(&lines).ok_or(LocalizeError::NoTrace {
            language: LANGUAGE,
            marker: "    at fn (file:line:col)",
        })?;
        let (header_index, header) = (search_from..start)
            .rev()
            .find_map(|i| parse_header(lines[i]).map(|header| (i, header)))
            .ok_or(LocalizeError::NoException {
                language: LANGUAGE,
                example: "TypeError: …",
            })?;
        let mut frames: Vec<Frame> = lines[start..end]
            .iter()
            .filter_map(|line| parse_frame(line.trim()))
            .collect();
        if let Some(innermost) = frames.first_mut() {
            innermost.code = echoed_source(&lines[search_from..header_index], innermost);
        }
        Ok(ParsedTrace::innermost_first(LANGUAGE, header, frames))
    }

    /// Node's own modules: `node:internal/…`, `node:events`, and the bare `events.js` /
    /// `internal/…` names older Node versions print. User code is always printed with an
    /// absolute path or a URL.
    fn is_runtime_frame(&self, frame: &Frame) -> bool {
        let file = frame.file.as_str();
        file.starts_with("node:")
            || file.starts_with("internal/")
            || file == "native"
            || !(file.contains('/') || file.contains('\\'))
    }
}

/// The last run of consecutive frame lines with at least one location: `(first line, one past
/// the last, where the search for its header may start)`. The last run is the deepest `[cause]`,
/// or the last error logged.
fn last_frame_run(lines: &[&str]) -> Option<(usize, usize, usize)> {
    let mut runs = Vec::new();
    let mut index = 0;
    let mut previous_end = 0;
    while index < lines.len() {
        if parse_frame(lines[index].trim()).is_none() {
            index += 1;
            continue;
        }
        let start = index;
        while index < lines.len() {
            let trimmed = lines[index].trim();
            if parse_frame(trimmed).is_none() && !is_elision(trimmed) {
                break;
            }
            index += 1;
        }
        // Prose such as `at noon (UTC)` parses as a locationless frame; a run needs a location.
        let located = lines[start..index]
            .iter()
            .any(|line| parse_frame(line.trim()).is_some_and(|frame| frame.line > 0));
        if located {
            runs.push((start, index, previous_end));
            previous_end = index;
        }
    }
    runs.pop()
}

/// `... 6 lines matching cause stack trace ...`: frames shared with the cause, not printed.
fn is_elision(trimmed: &str) -> bool {
    trimmed.starts_with("... ") && trimmed.ends_with(" ...")
}

/// `at fn (location)`, `at location`, `at async fn (location)`; locations are `file:line:col`,
/// `file://` URLs, `<anonymous>`, `native`, or `eval at … (…), <anonymous>:1:1`.
fn parse_frame(trimmed: &str) -> Option<Frame> {
    let rest = trimmed.strip_prefix("at ")?;
    // Node opens the error's own properties on the last frame line: `at … {`.
    let rest = rest.strip_suffix(" {").unwrap_or(rest);
    let named = rest
        .strip_suffix(')')
        .and_then(|inner| inner.split_once(" ("));
    let (function, place) = match named {
        Some((function, place)) => (function, place),
        None => ("", rest),
    };
    let place = place.rsplit_once("), ").map_or(place, |(_, last)| last);
    let (file, line) = match location::parse(place) {
        Some(at) => (at.file, at.line),
        None if !function.is_empty() => (place, 0),
        None => return None,
    };
    let file = file.strip_prefix("file://").unwrap_or(file);
    Some(Frame {
        file: file.to_string(),
        line,
        function: function.to_string(),
        code: None,
    })
}

/// `TypeError: message`, `Error [ERR_CODE]: message`, a bare `SomethingError`, optionally after
/// `[cause]: ` or `Uncaught `.
fn parse_header(line: &str) -> Option<(String, String)> {
    let trimmed = line.trim();
    let trimmed = trimmed.strip_prefix("[cause]: ").unwrap_or(trimmed);
    let trimmed = trimmed.strip_prefix("Uncaught ").unwrap_or(trimmed);
    let (head, message) = match trimmed.split_once(": ") {
        Some((head, message)) => (head, message.trim()),
        None => (trimmed.strip_suffix(':').unwrap_or(trimmed), ""),
    };
    let (name, code) = match head.split_once(" [") {
        Some((name, code)) => (name, Some(code.strip_suffix(']')?)),
        None => (head, None),
    };
    let identifier = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_uppercase() || c == '_' || c == '$')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    let code_ok = match code {
        None => true,
        Some(code) => {
            !code.is_empty()
                && code
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        }
    };
    let error_like = !message.is_empty() || name.contains("Error") || name.contains("Exception");
    (identifier && code_ok && error_like).then(|| (head.to_string(), message.to_string()))
}

/// Node echoes `file:line`, the source line and a caret above an uncaught error; that source
/// line belongs to the innermost frame when file and line agree.
fn echoed_source(lines: &[&str], innermost: &Frame) -> Option<String> {
    lines.windows(2).find_map(|pair| {
        let at = location::parse(pair[0].trim())?;
        let file = at.file.strip_prefix("file://").unwrap_or(at.file);
        (file == innermost.file && at.line == innermost.line).then(|| pair[1].trim().to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_shapes() {
        let frame = |text| parse_frame(text).expect("frame");
        let named = frame("at shippingCity (/srv/app.js:5:23)");
        assert_eq!(
            (named.file.as_str(), named.line, named.function.as_str()),
            ("/srv/app.js", 5, "shippingCity")
        );
        let bare = frame("at /srv/app.js:9:27");
        assert_eq!((bare.line, bare.function.as_str()), (9, ""));
        let esm = frame("at async load (file:///srv/app/x.mjs:3:7)");
        assert_eq!(
            (esm.file.as_str(), esm.function.as_str()),
            ("/srv/app/x.mjs", "async load")
        );
        let anon = frame("at Array.map (<anonymous>)");
        assert_eq!((anon.file.as_str(), anon.line), ("<anonymous>", 0));
        let eval = frame("at eval (eval at run (/srv/a.js:2:3), <anonymous>:1:1)");
        assert_eq!((eval.file.as_str(), eval.line), ("<anonymous>", 1));
        assert!(parse_frame("at com.acme.Foo.bar(Foo.java:3)").is_none());
        assert!(parse_frame("return user.address.city;").is_none());
    }

    #[test]
    fn deepest_cause_and_error_codes() {
        let text = "Error: checkout failed
    at checkout (/srv/shop/checkout.js:10:11)
    ... 6 lines matching cause stack trace ...
    at node:internal/main/run_main_module:28:49 {
  [cause]: RangeError [ERR_OUT_OF_RANGE]: qty must be >= 1
      at quantity (/srv/shop/cart.js:4:9)
      at checkout (/srv/shop/checkout.js:8:5)
      at node:internal/main/run_main_module:28:49
}

Node.js v20.20.2
";
        let trace = NodeTraceParser.parse(text).expect("parse");
        assert_eq!(trace.exception_type, "RangeError [ERR_OUT_OF_RANGE]");
        assert_eq!(trace.message, "qty must be >= 1");
        assert_eq!(trace.frames.len(), 3);
        assert_eq!(trace.frames[2].function, "quantity");
        let later_prose = format!("{text}retrying at noon (UTC)\n");
        let again = NodeTraceParser
            .parse(&later_prose)
            .expect("prose after the trace");
        assert_eq!(again.frames, trace.frames);
        assert!(NodeTraceParser.is_runtime_frame(&trace.frames[0]));
        assert!(!NodeTraceParser.is_runtime_frame(&trace.frames[2]));
    }

    #[test]
    fn headers() {
        let header = |text| parse_header(text);
        assert_eq!(
            header("TypeError: Cannot read properties of undefined (reading 'city')"),
            Some((
                "TypeError".into(),
                "Cannot read properties of undefined (reading 'city')".into()
            ))
        );
        assert_eq!(
            header("Uncaught ValidationError"),
            Some(("ValidationError".into(), String::new()))
        );
        assert_eq!(header("Node.js v20.20.2"), None);
        assert_eq!(header("  return user.address.city.toUpperCase();"), None);
        assert_eq!(header("Done"), None);
    }
}
