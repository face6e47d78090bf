//! Tamper-evident audit log.
//!
//! Every action the cockpit takes or a human approves is appended as one JSON
//! line, chained by SHA-256 over the RFC 8785 canonical form:
//!
//! ```text
//! {"seq":0,"ts":"…","actor":"…","type":"…","data":{…},"prev":"<64 hex>","hash":"<64 hex>"}
//! hash = hex(SHA-256(prev ‖ JCS(record without "hash")))
//! ```
//!
//! The format is intentionally boring so that anyone can re-verify a log with
//! a few lines of any language (see `tests/audit_independent_verify.py`)
//! without trusting this code. Writes are append-only and fsync'd; a damaged
//! log is reported and never truncated or repaired.

mod chain;
mod fast;
mod file_log;
mod jcs;
mod parse;
mod port;
pub mod replay;
#[cfg(test)]
mod tests;

pub use chain::{
    compute_hash, verify_file, verify_lines, AuditRecord, BreakReason, VerifyReport, GENESIS_PREV,
};
pub use file_log::{log_in_use, read_records, FileAuditLog};
pub use jcs::{canonicalize, JcsError};

use std::io;
use std::path::{Path, PathBuf};

/// Everything that can go wrong reading or writing an audit log.
///
/// Messages are written for an on-call engineer at 3 a.m.: each names the
/// file (and line, where there is one) and, where it matters, what to do next.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// Another writer holds the log: two would interleave seqs and break the chain.
    #[error(
        "audit log {} is being written by another ccp process{}: one writer per log. Stop it, or give this run its own --state-dir (or audit.path).",
        path.display(),
        holder.map(|p| format!(" (PID {p})")).unwrap_or_default()
    )]
    InUse {
        /// The log file.
        path: PathBuf,
        /// The holder's process id, where the OS tells it.
        holder: Option<u32>,
    },
    /// The operating system refused an operation on the log file.
    #[error("could not {action} audit log {}: {error}", path.display())]
    Io {
        /// The log file (or its directory).
        path: PathBuf,
        /// What we were doing, e.g. "open", "append to".
        action: &'static str,
        /// The underlying error.
        error: io::Error,
    },
    /// The existing log does not verify, so appending would extend a chain
    /// nobody can trust; nothing was written.
    #[error(
        "refusing to append to audit log {path}: its hash chain is broken at seq {seq} (line {line}): {reason}. \
         Nothing was written and the file was not modified. Run `ccp audit verify {path}` for details, \
         then move the file aside (e.g. `mv {path} {path}.broken`) and keep it as evidence; \
         ccp will start a fresh log. Do not edit or truncate it.",
        path = path.display()
    )]
    ChainBroken {
        /// The log file.
        path: PathBuf,
        /// The seq reported by verification.
        seq: u64,
        /// 1-based line number.
        line: u64,
        /// What verification found.
        reason: BreakReason,
    },
    /// A line could not be read as a record (used by [`read_records`]).
    #[error(
        "audit log {} line {line} is not a readable record: {detail}. Run `ccp audit verify {}` for details.",
        path.display(),
        path.display()
    )]
    Malformed {
        /// The log file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What is wrong with it.
        detail: String,
    },
    /// An earlier append failed part-way, so the file may end in a torn line.
    #[error(
        "audit log {} is not accepting appends: an earlier write failed ({detail}) and may have left a torn line. \
         Restart ccp; it re-verifies the log when opening it.",
        path.display()
    )]
    Poisoned {
        /// The log file.
        path: PathBuf,
        /// The original failure.
        detail: String,
    },
    /// A record could not be encoded (a bug, or data with no JSON form).
    #[error("could not encode a record for audit log {}: {detail}; nothing was written", path.display())]
    Encode {
        /// The log file.
        path: PathBuf,
        /// What went wrong.
        detail: String,
    },
    /// Canonicalization failed outside the context of a file.
    #[error("could not canonicalize an audit record: {0}")]
    Jcs(#[from] JcsError),
}

impl AuditError {
    fn io(path: &Path, action: &'static str, error: io::Error) -> Self {
        AuditError::Io {
            path: path.to_path_buf(),
            action,
            error,
        }
    }
}
