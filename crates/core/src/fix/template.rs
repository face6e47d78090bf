//! The fix-template contract: one pure function per kind of fix, many languages each.
//!
//! Why a trait and a registry: the ranking step (see [`super::rank`]) runs every template on the
//! same evidence and keeps both the patches and the refusals, so a reviewer sees not only the
//! chosen fix but why the others did not apply. Each template is a unit struct so the registry is
//! a plain static slice, with no allocation and no configuration.

use serde::{Deserialize, Serialize};

use super::{diff, FixError};

/// A source language the templates understand, decided from the file extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    /// `.py`
    Python,
    /// `.java`
    Java,
    /// `.go`
    Go,
    /// `.js`, `.mjs`, `.cjs`, `.jsx`
    JavaScript,
    /// `.ts`, `.tsx`, `.mts`, `.cts`: same templates as JavaScript, plus type annotations in
    /// inserted helpers so `tsc --strict` accepts them.
    TypeScript,
    /// `.rs`
    Rust,
}

impl Language {
    /// The language of `path` from its extension; `None` for anything else. Why the extension
    /// and not the trace: the patch is applied to this file, so its syntax is what matters.
    pub fn from_path(path: &str) -> Option<Language> {
        let ext = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase())?;
        match ext.as_str() {
            "py" => Some(Language::Python),
            "java" => Some(Language::Java),
            "go" => Some(Language::Go),
            "js" | "mjs" | "cjs" | "jsx" => Some(Language::JavaScript),
            "ts" | "tsx" | "mts" | "cts" => Some(Language::TypeScript),
            "rs" => Some(Language::Rust),
            _ => None,
        }
    }

    /// Whether it is JavaScript or TypeScript, which share every template.
    pub fn is_js(self) -> bool {
        matches!(self, Language::JavaScript | Language::TypeScript)
    }

    /// Lower-case name used in messages and serialized evidence.
    pub fn name(self) -> &'static str {
        match self {
            Language::Python => "python",
            Language::Java => "java",
            Language::Go => "go",
            Language::JavaScript => "javascript",
            Language::TypeScript => "typescript",
            Language::Rust => "rust",
        }
    }
}

impl std::fmt::Display for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The coarse shape of the incident's metrics. Why: the same stack line can deserve a timeout
/// (latency), a leak fix (saturation) or a guard (errors); ranking weighs templates by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    /// Error rate went up (exceptions, 5xx).
    Errors,
    /// Latency went up.
    Latency,
    /// A resource ran out (connections, file descriptors, threads, memory).
    Saturation,
}

/// Everything a template may look at. Borrowed, so running six templates copies nothing.
#[derive(Clone, Copy, Debug)]
pub struct FixInput<'a> {
    /// Path of the file (repository-relative in the pipeline); used for diff headers.
    pub file: &'a str,
    /// The file's text.
    pub source: &'a str,
    /// Exception type as the trace printed it (`AttributeError`, `java.lang.NullPointerException`,
    /// `TypeError`, `panic`).
    pub error_type: &'a str,
    /// The exception message (first line).
    pub message: &'a str,
    /// 1-based culprit line, from localization.
    pub line: u32,
    /// Language of `file`.
    pub language: Language,
}

impl<'a> FixInput<'a> {
    /// Input with the language taken from the file extension. Why fallible: a file the
    /// templates cannot read must be refused with a reason, not guessed at.
    pub fn new(
        file: &'a str,
        source: &'a str,
        error_type: &'a str,
        message: &'a str,
        line: u32,
    ) -> Result<Self, Refusal> {
        let language = Language::from_path(file).ok_or_else(|| Refusal::UnknownLanguage {
            file: file.to_string(),
        })?;
        Ok(FixInput {
            file,
            source,
            error_type,
            message,
            line,
            language,
        })
    }

    /// Error type and message in one lower-case string, for keyword checks on the evidence.
    pub(crate) fn evidence_text(&self) -> String {
        format!("{} {}", self.error_type, self.message).to_ascii_lowercase()
    }
}

/// A template's patch for one file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Patch {
    /// Template name, e.g. `"timeout"`.
    pub template: String,
    /// Language the patch is written in.
    pub language: Language,
    /// Path of the patched file, as given.
    pub file: String,
    /// 1-based culprit line.
    pub line: u32,
    /// The file before the fix.
    pub old_source: String,
    /// The file after the fix: gates run on this copy without re-applying the diff.
    pub new_source: String,
    /// Unified diff, git style (what the reviewer reads and the audit log keeps).
    pub diff: String,
    /// Short human explanation: what changes and how the template decided.
    pub rationale: String,
    /// How likely this patch is the right fix, in `[0, 1]`, from the evidence and from how
    /// much the template had to assume.
    pub confidence: f64,
    /// Lines added by the diff.
    pub lines_added: u32,
    /// Lines removed by the diff.
    pub lines_removed: u32,
}

impl Patch {
    /// Build a patch from the input and the new text, computing diff and line counts. Why one
    /// constructor: every template reports the same facts the same way.
    pub(crate) fn new(
        template: &str,
        input: &FixInput<'_>,
        new_source: String,
        rationale: String,
        confidence: f64,
    ) -> Patch {
        let (lines_added, lines_removed) = diff::line_counts(input.source, &new_source);
        Patch {
            template: template.to_string(),
            language: input.language,
            file: input.file.to_string(),
            line: input.line,
            old_source: input.source.to_string(),
            diff: diff::unified(input.file, input.source, &new_source),
            new_source,
            rationale,
            confidence: confidence.clamp(0.0, 1.0),
            lines_added,
            lines_removed,
        }
    }
}

/// Why a template produced no patch. Refusals are normal outcomes: each names the reason in
/// words an on-call engineer can act on, and the ranking keeps them next to the candidates.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The file extension is not one the templates read.
    #[error("{file}: unknown language (extension not .py/.java/.go/.js/.ts/.rs)")]
    UnknownLanguage {
        /// The file.
        file: String,
    },
    /// The template has no variant for this language.
    #[error("the {template} template has no {language} variant: {why}")]
    UnsupportedLanguage {
        /// Template name.
        template: &'static str,
        /// The language.
        language: Language,
        /// Why (e.g. RAII already closes resources in Rust).
        why: String,
    },
    /// The trace names a line the file does not have.
    #[error("the file has {lines} lines but the trace points at line {line}: deployed code and repository probably differ")]
    LineOutOfRange {
        /// Requested line.
        line: u32,
        /// Lines the file has.
        lines: usize,
    },
    /// Blank or comment-only line.
    #[error("line {line} is blank or a comment, not code")]
    NotCode {
        /// Requested line.
        line: u32,
    },
    /// The statement continues on other lines; the templates only rewrite one-line statements.
    #[error("the statement at line {line} spans several lines; the template only rewrites one-line statements")]
    StatementSpansLines {
        /// Requested line.
        line: u32,
    },
    /// The statement kind makes the rewrite unsafe.
    #[error("the statement cannot be rewritten safely: {why}")]
    UnsafeStatement {
        /// Why.
        why: String,
    },
    /// The value the template would guard cannot be null.
    #[error("the variable is not nullable: {why}")]
    NotNullable {
        /// Why.
        why: String,
    },
    /// No expression that could be the null/None/nil/undefined value was found.
    #[error("no nullable value found on the line: {why}")]
    NoNullableValue {
        /// Why.
        why: String,
    },
    /// Several expressions qualify and the evidence does not say which one failed.
    #[error("several candidates on the line (`{candidates}`) and the trace does not say which one failed")]
    Ambiguous {
        /// The candidates, joined.
        candidates: String,
    },
    /// The call is not idempotent, so retrying it could repeat a side effect.
    #[error("the call is not idempotent: {why}")]
    NotIdempotent {
        /// How the template decided.
        why: String,
    },
    /// The template cannot tell whether the call is idempotent, so it does not retry it.
    #[error("cannot tell whether `{call}` is idempotent; retrying an unknown call could repeat a side effect")]
    IdempotencyUnknown {
        /// The call.
        call: String,
    },
    /// The call on the line takes no timeout.
    #[error("no timeout parameter exists: {why}")]
    NoTimeoutParameter {
        /// Why.
        why: String,
    },
    /// The call already has a timeout; a second one would be noise.
    #[error("the call already has a timeout: {why}")]
    AlreadyHasTimeout {
        /// Where the timeout is.
        why: String,
    },
    /// No file, socket, connection or stream is opened on the line.
    #[error("no resource is opened on this line: {why}")]
    NoResourceOpened {
        /// Why.
        why: String,
    },
    /// The resource leaves the function, so closing it here would break its user.
    #[error("the resource `{name}` escapes the function ({why}); closing it here would break the caller")]
    ResourceEscapes {
        /// Variable holding the resource.
        name: String,
        /// How it escapes.
        why: String,
    },
    /// No call to an external dependency (HTTP, database, RPC) is on the line.
    #[error("no dependency call on this line: {why}")]
    NoDependencyCall {
        /// Why.
        why: String,
    },
    /// The function has no way to report an error to its caller.
    #[error("the function has no error channel: {why}")]
    NoErrorChannel {
        /// Why.
        why: String,
    },
    /// The code already has this fix; applying it twice would stack guards.
    #[error("already applied: {why}")]
    AlreadyApplied {
        /// What was found.
        why: String,
    },
    /// The evidence points at a different kind of failure.
    #[error("the evidence does not match this template: {why}")]
    EvidenceMismatch {
        /// Why.
        why: String,
    },
    /// The original Python null_check refused.
    #[error(transparent)]
    NullCheck(#[from] FixError),
}

/// One kind of fix. Implementations are pure: same input, same answer, no I/O.
pub trait FixTemplate: Sync {
    /// Stable name, recorded in [`Patch::template`] and the audit log.
    fn name(&self) -> &'static str;

    /// How well this kind of fix addresses a signal, in `[0, 1]`, with the reason. Why: a
    /// timeout answers latency, a leak fix answers saturation; ranking multiplies by this.
    fn signal_fit(&self, signal: SignalKind) -> (f64, &'static str);

    /// Propose a patch, or refuse with a reason.
    fn propose(&self, input: &FixInput<'_>) -> Result<Patch, Refusal>;
}

/// Every template, in a fixed order (ties in ranking keep this order).
pub fn templates() -> &'static [&'static dyn FixTemplate] {
    use super::{circuit_breaker, error_handling, null_guard, resource_leak, retry, timeout};
    &[
        &null_guard::NullGuard,
        &resource_leak::ResourceLeak,
        &timeout::Timeout,
        &error_handling::ErrorHandling,
        &retry::Retry,
        &circuit_breaker::CircuitBreaker,
    ]
}

/// The template called `name`, for a later step that retries one chosen candidate.
pub fn template_named(name: &str) -> Option<&'static dyn FixTemplate> {
    templates().iter().copied().find(|t| t.name() == name)
}

/// Shorthand for the common "no variant for this language" refusal.
pub(crate) fn unsupported(template: &'static str, language: Language, why: &str) -> Refusal {
    Refusal::UnsupportedLanguage {
        template,
        language,
        why: why.to_string(),
    }
}
