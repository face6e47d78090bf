//! Fix generation: turn a localized failure into a small, reviewable patch.
//!
//! Pure on purpose: templates take the file's text and return new text plus a unified diff; the
//! adapters write files and run the gates. That keeps every template testable without Python,
//! git or a file system, and makes "what exactly will be changed" a value that can be audited.
//!
//! Two generations live here. [`null_check`] is the original Python-only template the pipeline
//! uses today. [`templates`] lists the six multi-language templates (null guard, resource leak,
//! timeout, error handling, retry, circuit breaker) behind [`FixTemplate`]: each is a pure
//! function from a [`FixInput`] to a [`Patch`] or a typed [`Refusal`], and [`rank`] runs them
//! all on the evidence and orders the patches by confidence for a [`SignalKind`], keeping the
//! refusals and their reasons for the decision record.

mod circuit_breaker;
mod code;
pub mod diff;
mod error_handling;
mod inject;
mod null_check;
mod null_guard;
mod pysource;
mod rank;
mod resource_leak;
mod retry;
mod stmt;
mod template;
mod timeout;

use serde::{Deserialize, Serialize};

pub use inject::{inject_regression, INJECTED_HELPER, INJECTION_MARKER};
pub use null_check::{null_check, TEMPLATE as NULL_CHECK_TEMPLATE};
pub use null_guard::NAME as NULL_GUARD_TEMPLATE;
pub use rank::{rank, Candidate, Ranking, Refused};
pub use template::{
    template_named, templates, FixInput, FixTemplate, Language, Patch, Refusal, SignalKind,
};

/// A proposed fix for one file. Carries both full texts (so gates can run on the patched copy
/// without re-applying the diff) and the diff (what a human reviews and the audit log keeps).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixProposal {
    /// Template that produced it, e.g. `"null_check"`.
    pub template: String,
    /// Path of the patched file as given to the template (repository-relative in the pipeline).
    pub file: String,
    /// 1-based line the failure was localized to.
    pub line: u32,
    /// The file before the fix.
    pub old_source: String,
    /// The file after the fix.
    pub new_source: String,
    /// Unified diff (`--- a/…`, `+++ b/…`, `@@` hunks, 3 lines of context).
    pub diff: String,
    /// One paragraph for the reviewer: what failed, what changes, what happens in the new branch.
    pub description: String,
    /// The expression now checked against None, e.g. `user.email`.
    pub guarded_expr: String,
    /// Lines added by the diff.
    pub lines_added: u32,
    /// Lines removed by the diff.
    pub lines_removed: u32,
}

/// Why no fix was produced. Refusals are normal outcomes: each says why the template does not
/// apply, so the on-call engineer knows the incident needs a human fix instead.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FixError {
    /// The trace names a line the file does not have.
    #[error("{file} has {lines} lines but the stack trace points at line {line}: the deployed code and the repository probably differ (wrong revision?)")]
    LineOutOfRange {
        /// File given to the template.
        file: String,
        /// Requested line.
        line: u32,
        /// Lines the file has.
        lines: usize,
    },
    /// The line is blank or only a comment.
    #[error("{file}:{line} is blank or a comment, not code: the deployed code and the repository probably differ (wrong revision?)")]
    NotCode {
        /// File given to the template.
        file: String,
        /// Requested line.
        line: u32,
    },
    /// Module-level or class-body code.
    #[error("{file}:{line} is not inside a function (module or class level); the null_check template only guards statements inside functions, where skipping one stays local")]
    NotInFunction {
        /// File given to the template.
        file: String,
        /// Requested line.
        line: u32,
    },
    /// The attribute from the error message does not appear on the line.
    #[error("no attribute access matching the error was found on {file}:{line} (outside strings and comments): the trace and the source disagree, so the template will not guess")]
    AttributeNotFound {
        /// File given to the template.
        file: String,
        /// Requested line.
        line: u32,
    },
    /// Several different expressions use that attribute on the line.
    #[error("{file}:{line} accesses the attribute on several expressions (`{receivers}`) and the trace does not say which was None; fix this one by hand")]
    AmbiguousReceiver {
        /// File given to the template.
        file: String,
        /// Requested line.
        line: u32,
        /// The candidate expressions, joined for the message.
        receivers: String,
    },
    /// The None expression contains a call, which the guard would evaluate twice.
    #[error("the None value at {file}:{line} comes from `{expr}`, which contains a call: checking it and then using it would call it twice (side effects, different results); fix this one by hand")]
    ReceiverHasCall {
        /// File given to the template.
        file: String,
        /// Requested line.
        line: u32,
        /// The expression.
        expr: String,
    },
    /// The expression starts on an earlier line.
    #[error("the expression that was None at {file}:{line} starts on an earlier line; the template only handles expressions written on the failing line")]
    ReceiverSpansLines {
        /// File given to the template.
        file: String,
        /// Requested line.
        line: u32,
    },
    /// The statement's kind makes skipping it unsafe.
    #[error("the null_check template does not apply to {file}:{line}: {why} (guarding `{expr}`)")]
    TemplateDoesNotApply {
        /// File given to the template.
        file: String,
        /// Requested line.
        line: u32,
        /// The expression that was None.
        expr: String,
        /// Why the statement cannot simply be skipped.
        why: String,
    },
    /// Failure injection could not find the guard it builds on.
    #[error("cannot inject the canary_regression failure into the patch for {file}: {why}")]
    InjectionNotPossible {
        /// File of the proposal.
        file: String,
        /// What was missing.
        why: String,
    },
}

#[cfg(test)]
mod template_tests;
#[cfg(test)]
mod tests;
