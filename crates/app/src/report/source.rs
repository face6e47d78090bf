//! Reading an audit log for a report: verify the chain, then read every record that can be read.
//!
//! Unlike [`ccp_audit::read_records`], a bad line does not stop the reading: a report about a
//! damaged log is exactly when a reviewer needs to see what is left, so bad lines are counted
//! and later records still shown, marked as unverified.

use super::model::{ChainBreak, Integrity, UnreadableLine};
use super::ReportError;
use ccp_audit::{verify_lines, AuditRecord, VerifyReport};
use std::path::Path;

/// One record with where it sits and whether the chain vouches for it.
#[derive(Debug, Clone)]
pub(super) struct Loaded {
    /// The record.
    pub record: AuditRecord,
    /// True when it comes before the first break of the chain.
    pub verified: bool,
}

/// Everything read from the file.
#[derive(Debug, Clone)]
pub(super) struct Source {
    /// Readable records in file order.
    pub records: Vec<Loaded>,
    /// The chain's verdict.
    pub integrity: Integrity,
}

/// Read and verify `path`. Verification and reading use the same bytes, so a log appended to
/// while the report is made cannot make the two disagree.
pub(super) fn load(path: &Path) -> Result<Source, ReportError> {
    let bytes = std::fs::read(path).map_err(|error| ReportError::Read {
        path: path.to_path_buf(),
        error,
    })?;
    let verdict = verify_lines(bytes.as_slice());
    let break_line = match &verdict {
        VerifyReport::Intact { .. } => None,
        VerifyReport::Broken { line, .. } => Some(*line),
    };
    let mut records = Vec::new();
    let mut unreadable = Vec::new();
    for (i, raw) in bytes.split(|b| *b == b'\n').enumerate() {
        let line = i as u64 + 1;
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<AuditRecord>(raw) {
            Ok(record) => records.push(Loaded {
                record,
                verified: break_line.is_none_or(|b| line < b),
            }),
            Err(e) => unreadable.push(UnreadableLine {
                line,
                detail: e.to_string(),
            }),
        }
    }
    let integrity = match verdict {
        VerifyReport::Intact { records: n, .. } => Integrity {
            verified: unreadable.is_empty(),
            records: records.len() as u64,
            verified_records: n,
            broken: None,
            unreadable_lines: unreadable,
        },
        VerifyReport::Broken {
            seq,
            line,
            reason,
            intact_before,
        } => Integrity {
            verified: false,
            records: records.len() as u64,
            verified_records: intact_before,
            broken: Some(ChainBreak {
                seq,
                line,
                kind: reason.label().to_string(),
                message: reason.to_string(),
            }),
            unreadable_lines: unreadable,
        },
    };
    Ok(Source { records, integrity })
}
