//! `ccp report --audit FILE [--incident ID] [--format md|json]`: the decision-justification
//! report of one incident, made from its audit log alone.
//!
//! Why from the log alone: the log is the tamper-evident record, so a report anyone can rebuild
//! from it (and check against it) is worth more than one made from the process's memory. The
//! chain is verified first; a broken chain is announced at the top and everything read after
//! the break is marked unverified, but still shown, because a damaged log is exactly when a
//! reviewer needs to see what is left.
//!
//! Layout: [`source`] reads and verifies the file, [`build`] folds the incident's records into
//! the [`model`], [`markdown`] and [`json`] render it.

mod build;
mod json;
mod markdown;
pub mod model;
mod source;
#[cfg(test)]
mod tests;

use model::Report;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Exit code when the report was written (even for a broken chain: the report says so).
pub const EXIT_OK: u8 = 0;
/// Exit code for an unreadable file or an incident that is not in it.
pub const EXIT_BAD_INPUT: u8 = 2;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Markdown, for people and for pasting into a post-incident review.
    #[default]
    Md,
    /// One JSON document with the same content, for scripts.
    Json,
}

/// Why no report could be made. Each names the file, and where an incident is missing, the
/// incidents the log does hold, so the next command can be typed right away.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The file could not be read (missing, a directory, no permission).
    #[error("cannot read audit log {}: {error}", path.display())]
    Read {
        /// The file given.
        path: PathBuf,
        /// The I/O error.
        error: std::io::Error,
    },
    /// No record in the file names an incident.
    #[error("audit log {} holds no incidents{}", path.display(), unreadable_note(*unreadable))]
    NoIncidents {
        /// The file given.
        path: PathBuf,
        /// Lines that were not records.
        unreadable: usize,
    },
    /// The incident asked for is not in the log.
    #[error("no incident {wanted} in audit log {}; incidents in this log: {}", path.display(), available.join(", "))]
    UnknownIncident {
        /// The file given.
        path: PathBuf,
        /// The id asked for.
        wanted: String,
        /// Ids the log holds, in order of first appearance.
        available: Vec<String>,
    },
    /// `--incident` was left out but the log holds several.
    #[error("audit log {} holds {} incidents; choose one with --incident: {}", path.display(), available.len(), available.join(", "))]
    IncidentRequired {
        /// The file given.
        path: PathBuf,
        /// Ids the log holds.
        available: Vec<String>,
    },
}

fn unreadable_note(n: usize) -> String {
    if n == 0 {
        String::new()
    } else {
        format!(" ({n} lines are not audit records; is this an audit log?)")
    }
}

/// Make the report of `incident` (or of the only incident in the log).
pub fn make(path: &Path, incident: Option<&str>) -> Result<Report, ReportError> {
    let src = source::load(path)?;
    let records: Vec<_> = src.records.iter().map(|l| l.record.clone()).collect();
    let available = ccp_audit::replay::incidents(&records);
    let id = match incident {
        Some(want) => available
            .iter()
            .find(|x| *x == want)
            .cloned()
            .ok_or_else(|| ReportError::UnknownIncident {
                path: path.to_path_buf(),
                wanted: want.to_string(),
                available: available.clone(),
            })?,
        None => match available.as_slice() {
            [] => {
                return Err(ReportError::NoIncidents {
                    path: path.to_path_buf(),
                    unreadable: src.integrity.unreadable_lines.len(),
                })
            }
            [only] => only.clone(),
            _ => {
                return Err(ReportError::IncidentRequired {
                    path: path.to_path_buf(),
                    available,
                })
            }
        },
    };
    Ok(build::build(&path.display().to_string(), &src, &id))
}

/// Render a report in `format`.
pub fn render(report: &Report, format: Format) -> String {
    match format {
        Format::Md => markdown::render(report),
        Format::Json => json::render(report),
    }
}

/// The command: report on `out`, problems on `err`, and the Contract's exit code. A broken
/// chain still exits 0 (the report was made, and says loudly that it is unverified) but is also
/// repeated on `err` so a script or a terminal notices it.
pub fn run(
    path: &Path,
    incident: Option<&str>,
    format: Format,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> std::io::Result<u8> {
    let report = match make(path, incident) {
        Ok(r) => r,
        Err(e) => {
            writeln!(err, "ccp report: {e}")?;
            return Ok(EXIT_BAD_INPUT);
        }
    };
    if let Some(b) = &report.integrity.broken {
        writeln!(
            err,
            "ccp report: warning: the audit chain of {} is broken at seq {} (line {}): {}; records from there on are unverified",
            path.display(),
            b.seq,
            b.line,
            b.kind
        )?;
    }
    out.write_all(render(&report, format).as_bytes())?;
    out.flush()?;
    Ok(EXIT_OK)
}
