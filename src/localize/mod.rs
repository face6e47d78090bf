//! Localization: from the text of a crash report (a stack trace) to the file and line that failed.
//!
//! Pure on purpose: everything here takes strings and returns data, with no file system or process
//! access, so it is cheap to test exhaustively and safe to run on whatever text production logs
//! hand us. Reading files and talking to git is the adapters' job.
//!
//! Each language has a [`TraceParser`]; [`PARSERS`] lists them so Java, Go or JavaScript parsers
//! can be added beside [`python::PythonTraceParser`] without touching the callers.

mod paths;
pub mod python;

use serde::{Deserialize, Serialize};

pub use python::PythonTraceParser;

/// One stack frame as the runtime printed it. `code` is the source line the runtime echoed, when
/// it did: it lets the cockpit show the failing line even before the repository is read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Frame {
    /// Path exactly as printed (often absolute, from the production host).
    pub file: String,
    /// 1-based line number.
    pub line: u32,
    /// Function name (`<module>` for top-level code; empty when the runtime did not print one).
    pub function: String,
    /// The echoed source line, trimmed, if the trace included it.
    pub code: Option<String>,
}

/// A parsed stack trace. Frames are outermost first, the order Python prints them, so the last
/// frame is where the exception was raised.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParsedTrace {
    /// Which parser produced this (`"python"`), so later stages can pick language-specific fixes.
    pub language: String,
    /// Exception class as printed, e.g. `AttributeError` or `payments.gateway.GatewayError`.
    pub exception_type: String,
    /// The exception message (first line), empty if the exception had none.
    pub message: String,
    /// Frames, outermost first.
    pub frames: Vec<Frame>,
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
    /// A header but no `File "…", line N` entries.
    #[error("the {language} stack trace has a header but no frames (`File \"…\", line N, in …`): the log line was probably truncated")]
    NoFrames {
        /// Parser that looked.
        language: &'static str,
    },
    /// Frames but no final `ExceptionType: message` line.
    #[error("the {language} stack trace has frames but no exception line such as `ValueError: …` at the end: the log line was probably truncated")]
    NoException {
        /// Parser that looked.
        language: &'static str,
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
}

/// Every parser ccp knows, tried in order by [`parse_trace`]. Add new languages here.
pub static PARSERS: &[&dyn TraceParser] = &[&PythonTraceParser];

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

/// The innermost frame that belongs to the repository, with its repository-relative path.
///
/// Why innermost-in-repo: the raise site is often in the standard library or a dependency, but
/// the code we can fix is ours. Frame paths come from the production host (`/srv/app/…`), so they
/// are mapped to `repo_files` by the longest common path suffix; frames in site-packages,
/// dist-packages, the Python standard library or `<frozen …>` pseudo-files are skipped. A frame
/// whose best match is a tie between several repository files is skipped as ambiguous rather than
/// guessed.
pub fn culprit_frame<'a>(
    trace: &'a ParsedTrace,
    repo_files: &[String],
) -> Option<(&'a Frame, String)> {
    trace.frames.iter().rev().find_map(|frame| {
        if paths::is_outside_project(&frame.file) {
            return None;
        }
        paths::map_to_repo(&frame.file, repo_files).map(|repo_path| (frame, repo_path))
    })
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
