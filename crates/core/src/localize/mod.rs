//! Localization: from the text of a crash report (a stack trace) to the file and line that failed.
//!
//! Pure on purpose: everything here takes strings and returns data, with no file system or process
//! access, so it is cheap to test exhaustively and safe to run on whatever text production logs
//! hand us. Reading files and talking to git is the adapters' job.
//!
//! Each language has a [`TraceParser`]; [`PARSERS`] lists them (Python, Rust, Go, Java, Node.js)
//! and [`parse_trace`] picks the one that recognises the text, so callers never need to know
//! which runtime crashed. Every parser returns frames outermost first, whatever order its runtime
//! prints them in, so [`culprit_frame`] can walk from the innermost frame outwards.

pub mod go_panic;
pub mod java;
mod location;
pub mod node;
mod paths;
pub mod python;
pub mod rust_panic;

use serde::{Deserialize, Serialize};

pub use go_panic::GoPanicParser;
pub use java::JavaTraceParser;
pub use node::NodeTraceParser;
pub use python::PythonTraceParser;
pub use rust_panic::RustPanicParser;

/// One stack frame as the runtime printed it. `code` is the source line the runtime echoed, when
/// it did: it lets the cockpit show the failing line even before the repository is read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Frame {
    /// Path as printed (often absolute, from the production host). Java prints only a file
    /// name, so its parser prefixes the package path (`com/acme/Foo.java`); it is empty when the
    /// runtime printed no location at all.
    pub file: String,
    /// 1-based line number; 0 when the runtime printed none (`Native Method`, `<anonymous>`,
    /// a Rust frame without debug info). Such frames are never the culprit.
    pub line: u32,
    /// Function name (`<module>` for top-level code; empty when the runtime did not print one).
    pub function: String,
    /// The echoed source line, trimmed, if the trace included it.
    pub code: Option<String>,
}

/// A parsed stack trace. Frames are outermost first, the order Python prints them, so the last
/// frame is where the exception was raised (parsers for runtimes that print innermost first
/// reverse their frames).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParsedTrace {
    /// Which parser produced this (`"python"`, `"java"`, `"node"`, `"rust"`, `"go"`), so later
    /// stages can pick language-specific fixes.
    pub language: String,
    /// Exception class as printed, e.g. `AttributeError` or `payments.gateway.GatewayError`;
    /// for Java the deepest `Caused by:`; `panic` (or `fatal error`) for Rust and Go.
    pub exception_type: String,
    /// The exception message (first line), empty if the exception had none.
    pub message: String,
    /// Frames, outermost first.
    pub frames: Vec<Frame>,
}

impl ParsedTrace {
    /// A trace of frames printed innermost first, as Rust, Go, Java and Node print them: stored
    /// outermost first like every trace.
    fn innermost_first(language: &str, header: (String, String), mut frames: Vec<Frame>) -> Self {
        frames.reverse();
        Self::outermost_first(language, header, frames)
    }

    /// A trace of frames printed outermost first, as Python prints them. `header` is the
    /// exception's type and message.
    fn outermost_first(
        language: &str,
        (exception_type, message): (String, String),
        frames: Vec<Frame>,
    ) -> Self {
        ParsedTrace {
            language: language.to_string(),
            exception_type,
            message,
            frames,
        }
    }
}

/// Whether some line of `text`, trimmed, passes `is_marker`: how most parsers recognise their
/// language.
fn any_line(text: &str, is_marker: impl Fn(&str) -> bool) -> bool {
    text.lines().any(|line| is_marker(line.trim()))
}

/// Why a stack trace could not be understood. Each message says what was expected, because the
/// person reading it at 3 a.m. usually has to go and find a better copy of the trace.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LocalizeError {
    /// The text has no trace header at all.
    #[error("no {language} stack trace in the text: expected a line containing `{marker}` (was the trace cut off, or is it another language?)")]
    NoTrace {
        /// Parser that looked.
        language: &'static str,
        /// The header it looked for.
        marker: &'static str,
    },
    /// A header but no frame entries.
    #[error("the {language} stack trace has a header but no frames ({frame_shape}): the log line was probably truncated")]
    NoFrames {
        /// Parser that looked.
        language: &'static str,
        /// What a frame looks like in that language.
        frame_shape: &'static str,
    },
    /// Frames but no exception line.
    #[error("the {language} stack trace has frames but no exception line such as `{example}`: the log line was probably truncated")]
    NoException {
        /// Parser that looked.
        language: &'static str,
        /// What the missing line looks like in that language.
        example: &'static str,
    },
    /// No registered parser recognised the text.
    #[error(
        "unrecognised stack trace format: none of the known parsers ({known}) recognised the text"
    )]
    UnknownFormat {
        /// Comma-separated parser languages.
        known: String,
    },
}

/// A stack-trace parser for one language. The trait keeps detection and parsing together so the
/// pipeline can try each parser in turn on text whose language it does not know.
pub trait TraceParser: Sync {
    /// Language tag written into [`ParsedTrace::language`].
    fn language(&self) -> &'static str;
    /// Cheap check: does this text look like this language's trace?
    fn recognizes(&self, text: &str) -> bool;
    /// Parse the (last) trace in the text.
    fn parse(&self, text: &str) -> Result<ParsedTrace, LocalizeError>;
    /// Language-specific "this is the runtime's or a dependency's code" rule (Java's `java.*`
    /// packages, Go's GOROOT, Node's `node:internal`). The generic rules (site-packages,
    /// node_modules, `.cargo/registry`, `/rustc/…`, pseudo-files) apply to every language on top.
    fn is_runtime_frame(&self, _frame: &Frame) -> bool {
        false
    }
    /// How this language's frame paths must match repository files.
    fn path_match(&self) -> PathMatch {
        PathMatch::Suffix
    }
}

pub use paths::Match as PathMatch;

/// Every parser ccp knows, tried in order by [`parse_trace`]. Add new languages here. Order
/// matters only for recognition: Rust and Go come before Node because a Rust backtrace's
/// `at ./src/main.rs:4:5` lines would also look like Node frames.
pub static PARSERS: &[&dyn TraceParser] = &[
    &PythonTraceParser,
    &RustPanicParser,
    &GoPanicParser,
    &JavaTraceParser,
    &NodeTraceParser,
];

/// Parse a stack trace of any supported language, picking the first parser that recognises it.
/// Used when the incident source does not say which runtime produced the trace.
pub fn parse_trace(text: &str) -> Result<ParsedTrace, LocalizeError> {
    match PARSERS.iter().find(|p| p.recognizes(text)) {
        Some(parser) => parser.parse(text),
        None => Err(LocalizeError::UnknownFormat {
            known: PARSERS
                .iter()
                .map(|p| p.language())
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// Parse a Python traceback (`traceback.format_exc()` text, possibly with log prefixes and
/// exception chains; the last traceback in the text wins because that is what crashed).
pub fn parse_python_traceback(text: &str) -> Result<ParsedTrace, LocalizeError> {
    PythonTraceParser.parse(text)
}

/// The parser that produced `trace`, looked up by its language tag.
fn parser_of(trace: &ParsedTrace) -> Option<&'static dyn TraceParser> {
    PARSERS
        .iter()
        .copied()
        .find(|p| p.language() == trace.language)
}

/// True when `frame` cannot be code the project can fix: it has no line, or it is in a standard
/// library, a runtime, a dependency directory or a pseudo-file. Why: these frames are skipped
/// when looking for the culprit, and shown as such to the operator.
pub fn is_library_frame(trace: &ParsedTrace, frame: &Frame) -> bool {
    frame.line == 0
        || paths::is_outside_project(&frame.file)
        || parser_of(trace).is_some_and(|p| p.is_runtime_frame(frame))
}

/// The repository-relative path of `frame` among `repo_files`, or `None` when it is a library
/// frame or matches no file (or several equally well). Why: the culprit search and the
/// per-frame `in_repo` flag of `ccp localize` must agree on what "in the repository" means.
pub fn repo_path(trace: &ParsedTrace, frame: &Frame, repo_files: &[String]) -> Option<String> {
    if is_library_frame(trace, frame) {
        return None;
    }
    let rule = parser_of(trace).map_or(PathMatch::Suffix, |p| p.path_match());
    paths::map_to_repo(&frame.file, repo_files, rule)
}

/// The innermost frame that belongs to the repository, with its repository-relative path.
///
/// Why innermost-in-repo: the raise site is often in the standard library or a dependency, but
/// the code we can fix is ours. Frame paths come from the production host (`/srv/app/…`), so they
/// are mapped to `repo_files` by the longest common path suffix; library frames (see
/// [`is_library_frame`]) are skipped. A frame whose best match is a tie between several
/// repository files is skipped as ambiguous rather than guessed.
pub fn culprit_frame<'a>(
    trace: &'a ParsedTrace,
    repo_files: &[String],
) -> Option<(&'a Frame, String)> {
    trace
        .frames
        .iter()
        .rev()
        .find_map(|frame| repo_path(trace, frame, repo_files).map(|path| (frame, path)))
}

/// The innermost frame that is not library code, for when no repository is at hand. Why: an
/// operator pasting a trace wants a best guess at once; with the file list, prefer
/// [`culprit_frame`], which also rules out dependencies vendored under unknown paths.
pub fn likely_culprit(trace: &ParsedTrace) -> Option<&Frame> {
    trace
        .frames
        .iter()
        .rev()
        .find(|frame| !is_library_frame(trace, frame))
}

/// The attribute that was looked up on `None`, e.g. `strip` for
/// `AttributeError: 'NoneType' object has no attribute 'strip'`.
///
/// Why: that attribute is how the null-check template finds the expression that was `None` on
/// the failing line. Returns `None` for any other kind of error.
pub fn none_receiver(trace: &ParsedTrace) -> Option<String> {
    let is_attribute_error = trace.exception_type == "AttributeError"
        || trace.exception_type.ends_with(".AttributeError");
    if !is_attribute_error {
        return None;
    }
    let rest = trace
        .message
        .strip_prefix("'NoneType' object has no attribute '")?;
    let attr = &rest[..rest.find('\'')?];
    let valid = !attr.is_empty() && attr.chars().all(|c| c.is_alphanumeric() || c == '_');
    valid.then(|| attr.to_string())
}

#[cfg(test)]
mod tests;
