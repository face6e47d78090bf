//! Java (and other JVM languages') stack traces, as `Throwable.printStackTrace()` and logging
//! frameworks write them.
//!
//! Handles `Exception in thread "main" …` headers and bare logged `pkg.SomeException: …` lines,
//! `Caused by:` chains with their `... N more` elisions (the elided frames are the enclosing
//! trace's last N, so they are put back), `Suppressed:` blocks (skipped: they did not crash
//! anything), module prefixes (`java.base/java.lang.Integer.parseInt`) and frames without a line
//! (`Native Method`, `Unknown Source`).
//!
//! The culprit comes from the deepest cause: a wrapping `RuntimeException("checkout failed")` says
//! where the error was noticed, its root cause says where it happened.

use super::{any_line, Frame, LocalizeError, ParsedTrace, PathMatch, TraceParser};

const LANGUAGE: &str = "java";
const THREAD_PREFIX: &str = "Exception in thread \"";
const CAUSED_BY: &str = "Caused by: ";
const SUPPRESSED: &str = "Suppressed: ";
/// Packages of the JDK and of language runtimes: never the project's code.
const RUNTIME_PACKAGES: &[&str] = &[
    "java.", "javax.", "jdk.", "sun.", "com.sun.", "kotlin.", "kotlinx.", "scala.",
];

/// Parser for JVM stack traces. Stateless; use the unit value.
#[derive(Clone, Copy, Debug, Default)]
pub struct JavaTraceParser;

impl TraceParser for JavaTraceParser {
    fn language(&self) -> &'static str {
        LANGUAGE
    }

    fn recognizes(&self, text: &str) -> bool {
        any_line(text, |line| {
            line.contains(THREAD_PREFIX) || parse_frame(line).is_some()
        })
    }

    fn parse(&self, text: &str) -> Result<ParsedTrace, LocalizeError> {
        let lines: Vec<&str> = text.lines().collect();
        let Some(chain) = split_traces(&lines).pop() else {
            return Err(no_frames_or_trace(&lines));
        };
        let Some(deepest) = chain.last() else {
            return Err(no_frames_or_trace(&lines));
        };
        let header = deepest.header.clone().ok_or(LocalizeError::NoException {
            language: LANGUAGE,
            example: "java.lang.IllegalStateException: …",
        })?;
        Ok(ParsedTrace::innermost_first(
            LANGUAGE,
            header,
            full_frames(&chain),
        ))
    }

    fn is_runtime_frame(&self, frame: &Frame) -> bool {
        RUNTIME_PACKAGES
            .iter()
            .any(|package| frame.function.starts_with(package))
    }

    fn path_match(&self) -> PathMatch {
        PathMatch::WholeFramePath
    }
}

/// A header with no frames is a trace cut short; no header at all is not a Java trace.
fn no_frames_or_trace(lines: &[&str]) -> LocalizeError {
    if lines.iter().any(|line| parse_header(line).is_some()) {
        LocalizeError::NoFrames {
            language: LANGUAGE,
            frame_shape: "`at pkg.Class.method(File.java:N)`",
        }
    } else {
        LocalizeError::NoTrace {
            language: LANGUAGE,
            marker: "at pkg.Class.method(File.java:N)",
        }
    }
}

/// One exception of a chain: the top one or a `Caused by:`.
#[derive(Debug)]
struct Block {
    /// `(type, message)` when the header line could be read.
    header: Option<(String, String)>,
    /// Frames as printed, innermost first.
    frames: Vec<Frame>,
    /// The `... N more` count: frames shared with the enclosing exception.
    more: usize,
}

impl Block {
    fn new(header: Option<(String, String)>) -> Self {
        Block {
            header,
            frames: Vec::new(),
            more: 0,
        }
    }
}

/// Every trace in the text, each as its chain of blocks (top exception first, deepest cause
/// last). A trace starts at a frame line and ends at the first line that is none of: a frame, a
/// `Caused by:`, a `... N more`, a `Suppressed:` block or a cause's message continuation.
fn split_traces(lines: &[&str]) -> Vec<Vec<Block>> {
    let mut traces: Vec<Vec<Block>> = Vec::new();
    let mut open = false;
    let mut search_from = 0;
    let mut suppressed_indent: Option<usize> = None;
    for (index, line) in lines.iter().enumerate() {
        let trimmed = line.trim();
        let indent = line.len() - line.trim_start().len();
        if open {
            if let Some(depth) = suppressed_indent {
                if indent > depth {
                    continue;
                }
                suppressed_indent = None;
            }
            if trimmed.starts_with(SUPPRESSED) {
                suppressed_indent = Some(indent);
                continue;
            }
            if let Some(rest) = trimmed.strip_prefix(CAUSED_BY) {
                let header = parse_header(rest).or_else(|| Some((rest.to_string(), String::new())));
                if let Some(chain) = traces.last_mut() {
                    chain.push(Block::new(header));
                }
                continue;
            }
        }
        if let Some(frame) = parse_frame(trimmed) {
            if !open {
                let header = lines[search_from..index]
                    .iter()
                    .rev()
                    .find_map(|l| parse_header(l));
                traces.push(vec![Block::new(header)]);
                open = true;
            }
            if let Some(block) = traces.last_mut().and_then(|chain| chain.last_mut()) {
                block.frames.push(frame);
            }
            continue;
        }
        if !open {
            continue;
        }
        let Some(block) = traces.last_mut().and_then(|chain| chain.last_mut()) else {
            continue;
        };
        if let Some(more) = elided_count(trimmed) {
            block.more = more;
        } else if !block.frames.is_empty() || block.more > 0 {
            // Anything else after frames ends this trace; before them it is a cause's message.
            open = false;
            search_from = index;
        }
    }
    traces
}

/// Each block's frames with its `... N more` tail restored from the enclosing block; returns the
/// deepest block's complete stack, innermost first.
fn full_frames(chain: &[Block]) -> Vec<Frame> {
    let mut enclosing: Vec<Frame> = Vec::new();
    for block in chain {
        let mut frames = block.frames.clone();
        let shared = block.more.min(enclosing.len());
        frames.extend_from_slice(&enclosing[enclosing.len() - shared..]);
        enclosing = frames;
    }
    enclosing
}

/// `... 8 more` (printStackTrace) or `... 8 common frames omitted` (Logback).
fn elided_count(trimmed: &str) -> Option<usize> {
    let rest = trimmed.strip_prefix("... ")?;
    let count = rest
        .strip_suffix(" more")
        .or_else(|| rest.strip_suffix(" common frames omitted"))?;
    count.parse().ok()
}

/// `at [module/]pkg.Class.method(File.java:12)`; also `(Native Method)` and `(Unknown Source)`,
/// which give line 0. The file becomes the package path (`com/acme/Foo.java`), because Java
/// prints only the file name and the package is what tells two `Foo.java` apart.
fn parse_frame(trimmed: &str) -> Option<Frame> {
    let rest = trimmed.strip_prefix("at ")?;
    let open = rest.find('(')?;
    let close = open + rest[open..].find(')')?;
    let qualified = &rest[..open];
    if qualified.is_empty() || qualified.contains(char::is_whitespace) {
        return None;
    }
    let name = qualified.rsplit('/').next().unwrap_or(qualified);
    let (class, method) = name.rsplit_once('.')?;
    if class.is_empty() || method.is_empty() {
        return None;
    }
    let location = &rest[open + 1..close];
    let (file_name, line) = match location.rsplit_once(':') {
        Some((file, line)) => (file, line.parse::<u32>().ok()?),
        None => (location, 0),
    };
    let is_file = file_name.contains('.') && !file_name.contains(char::is_whitespace);
    if !is_file && !matches!(file_name, "Native Method" | "Unknown Source") {
        return None;
    }
    let file = if is_file {
        package_path(class, file_name)
    } else {
        String::new()
    };
    Some(Frame {
        file,
        line,
        function: name.to_string(),
        code: None,
    })
}

/// `com.acme.Foo$Inner` + `Foo.java` → `com/acme/Foo.java`.
fn package_path(class: &str, file_name: &str) -> String {
    match class.rsplit_once('.') {
        Some((package, _)) => format!("{}/{file_name}", package.replace('.', "/")),
        None => file_name.to_string(),
    }
}

/// An exception line: `pkg.Type: message` or `pkg.Type`, optionally after `Caused by: `,
/// `Exception in thread "name" ` or a log prefix (then the type must be package-qualified, so
/// that ordinary log text is not taken for an exception).
fn parse_header(line: &str) -> Option<(String, String)> {
    let trimmed = line.trim();
    let trimmed = trimmed.strip_prefix(CAUSED_BY).unwrap_or(trimmed);
    let trimmed = strip_thread_prefix(trimmed);
    exception_at(trimmed, false).or_else(|| {
        trimmed
            .match_indices(' ')
            .find_map(|(at, _)| exception_at(strip_thread_prefix(&trimmed[at + 1..]), true))
    })
}

fn strip_thread_prefix(text: &str) -> &str {
    text.strip_prefix(THREAD_PREFIX)
        .and_then(|rest| rest.find("\" ").map(|end| &rest[end + 2..]))
        .unwrap_or(text)
}

fn exception_at(text: &str, require_package: bool) -> Option<(String, String)> {
    let (name, message) = match text.split_once(':') {
        Some((name, message)) => (name, message.trim()),
        None => (text, ""),
    };
    is_exception_class(name, require_package).then(|| (name.to_string(), message.to_string()))
}

/// A dotted Java identifier whose last part is capitalised, and which is package-qualified or
/// named like a throwable (`MyException`, `AssertionError`).
fn is_exception_class(name: &str, require_package: bool) -> bool {
    let well_formed = !name.is_empty()
        && name.split('.').all(|part| {
            part.chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_' || c == '$')
                && part
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '$')
        });
    let simple = name.rsplit('.').next().unwrap_or(name);
    let capitalised = simple.chars().next().is_some_and(char::is_uppercase);
    let qualified = name.contains('.');
    let throwable_name = ["Exception", "Error", "Throwable"]
        .iter()
        .any(|suffix| simple.ends_with(suffix));
    well_formed && capitalised && (qualified || (!require_package && throwable_name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> ParsedTrace {
        JavaTraceParser.parse(text).expect("parse")
    }

    #[test]
    fn frames_keep_package_paths_and_lineless_frames() {
        let frame = parse_frame("at app//com.acme.Foo$Inner.run(Foo.java:12)").expect("frame");
        assert_eq!(frame.file, "com/acme/Foo.java");
        assert_eq!(frame.line, 12);
        assert_eq!(frame.function, "com.acme.Foo$Inner.run");
        let native = parse_frame(
            "at java.base/jdk.internal.reflect.NativeMethodAccessorImpl.invoke0(Native Method)",
        )
        .expect("native");
        assert_eq!((native.file.as_str(), native.line), ("", 0));
        assert!(parse_frame("at Object.<anonymous> (/srv/app.js:1:2)").is_none());
        assert!(parse_frame("at shippingCity (/srv/app.js:5:23)").is_none());
    }

    #[test]
    fn logged_trace_with_suppressed_block_and_logback_elision() {
        let text = "2024-05-01 12:00:00.123 ERROR [http-1] c.a.OrderController - checkout failed
com.acme.shop.CheckoutException: checkout failed
\tat com.acme.shop.Checkout.run(Checkout.java:40)
\tat com.acme.shop.OrderController.post(OrderController.java:22)
\tSuppressed: java.io.IOException: close failed
\t\tat com.acme.shop.Db.close(Db.java:9)
\t\t... 2 common frames omitted
Caused by: org.postgresql.util.PSQLException: ERROR: duplicate key
  Detail: Key (id)=(7) already exists.
\tat org.postgresql.core.QueryExecutor.execute(QueryExecutor.java:2676)
\tat com.acme.shop.OrderRepo.save(OrderRepo.java:31)
\t... 2 common frames omitted
2024-05-01 12:00:00.200 INFO [http-2] c.a.Health - ok
";
        let trace = parse(text);
        assert_eq!(trace.exception_type, "org.postgresql.util.PSQLException");
        assert_eq!(trace.message, "ERROR: duplicate key");
        let lines: Vec<(u32, &str)> = trace
            .frames
            .iter()
            .map(|f| (f.line, f.function.as_str()))
            .collect();
        assert_eq!(
            lines,
            [
                (22, "com.acme.shop.OrderController.post"),
                (40, "com.acme.shop.Checkout.run"),
                (31, "com.acme.shop.OrderRepo.save"),
                (2676, "org.postgresql.core.QueryExecutor.execute"),
            ]
        );
    }

    #[test]
    fn header_only_is_no_frames_and_plain_text_is_no_trace() {
        let oom = "Exception in thread \"main\" java.lang.OutOfMemoryError: Java heap space\n";
        assert!(JavaTraceParser.recognizes(oom));
        assert!(matches!(
            JavaTraceParser.parse(oom),
            Err(LocalizeError::NoFrames { .. })
        ));
        assert!(matches!(
            JavaTraceParser.parse("all good"),
            Err(LocalizeError::NoTrace { .. })
        ));
        let headless = "\tat com.acme.Foo.bar(Foo.java:3)\n";
        assert!(matches!(
            JavaTraceParser.parse(headless),
            Err(LocalizeError::NoException { .. })
        ));
    }

    #[test]
    fn last_trace_in_the_log_wins() {
        let text = "java.lang.IllegalStateException: first
\tat com.acme.A.a(A.java:1)
some log line
Exception in thread \"worker-2\" java.lang.ArithmeticException: / by zero
\tat com.acme.B.b(B.java:2)
";
        let trace = parse(text);
        assert_eq!(trace.exception_type, "java.lang.ArithmeticException");
        assert_eq!(trace.message, "/ by zero");
        assert_eq!(trace.frames.len(), 1);
        assert_eq!(trace.frames[0].file, "com/acme/B.java");
    }
}
