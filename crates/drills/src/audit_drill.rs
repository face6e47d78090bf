//! The audit-tampering drill: run an incident, then tamper with copies of its log the four ways
//! an attacker (or a careless hand) would, and check that verification names the exact place —
//! or, for a cut-off tail that a bare chain cannot see, that the anchor (the last hash printed
//! at the end of the run and kept elsewhere) catches it.

use super::{CheckResult, Human, Observed, Scenario};
use anyhow::{bail, Context, Result};
use ccp_audit::{verify_file, VerifyReport};
use std::path::Path;

/// The record the drill tampers with (any mid-run record would do).
const TARGET: usize = 12;

pub(crate) fn run(_sc: &Scenario) -> Result<Observed> {
    let mut world = super::drive::world(ccp_config::Config::default())?;
    world.config.environment = ccp_config::Environment::Staging;
    let state = super::drive::state_dir()?;
    super::drive::run_world(&world, Human::Approve, 7, state.path())?;
    let log = state.path().join("audit.jsonl");
    let text = std::fs::read_to_string(&log).context("reading the drill's audit log")?;
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() < TARGET + 6 {
        bail!("the drill's run wrote only {} records", lines.len());
    }
    let anchor = match verify_file(&log)? {
        VerifyReport::Intact { last_hash, .. } => last_hash,
        broken => bail!("the untouched log does not verify: {broken}"),
    };

    let mut edited: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    edited[TARGET] = edited[TARGET].replacen("\"actor\":\"ccp\"", "\"actor\":\"mallory\"", 1);
    let mut deleted: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    deleted.remove(TARGET);
    let mut reordered: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    reordered.swap(TARGET, TARGET + 1);
    let truncated: Vec<String> = lines[..lines.len() - 3]
        .iter()
        .map(|l| l.to_string())
        .collect();

    let dir = state.path();
    let checks = vec![
        check_break(dir, "edit", &edited, TARGET as u64, TARGET as u64 + 1)?,
        check_break(
            dir,
            "deletion",
            &deleted,
            TARGET as u64 + 1,
            TARGET as u64 + 1,
        )?,
        check_break(
            dir,
            "reordering",
            &reordered,
            TARGET as u64 + 1,
            TARGET as u64 + 1,
        )?,
        check_truncation(dir, &truncated, &anchor)?,
    ];
    let all_ok = checks.iter().all(|c| c.ok);
    Ok(Observed {
        outcome: if all_ok {
            "tamper_detected".into()
        } else {
            "tamper_missed".into()
        },
        state: format!("{} records tampered four ways", lines.len()),
        reason: format!("anchor {anchor}"),
        checks,
    })
}

fn write(dir: &Path, name: &str, lines: &[String]) -> Result<std::path::PathBuf> {
    let path = dir.join(format!("tampered-{name}.jsonl"));
    let mut body = lines.join("\n");
    body.push('\n');
    std::fs::write(&path, body).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// Verification must break at `seq` on 1-based `line`.
fn check_break(
    dir: &Path,
    kind: &str,
    lines: &[String],
    seq: u64,
    line: u64,
) -> Result<CheckResult> {
    let report = verify_file(&write(dir, kind, lines)?)?;
    let ok =
        matches!(report, VerifyReport::Broken { seq: s, line: l, .. } if s == seq && l == line);
    Ok(CheckResult {
        what: format!("{kind}: verify reports seq {seq} on line {line} (got: {report})"),
        ok,
    })
}

/// A cut-off tail still chains; only the anchor shows the missing records.
fn check_truncation(dir: &Path, lines: &[String], anchor: &str) -> Result<CheckResult> {
    let report = verify_file(&write(dir, "truncation", lines)?)?;
    let ok = matches!(&report, VerifyReport::Intact { last_hash, .. } if last_hash != anchor);
    Ok(CheckResult {
        what: format!(
            "truncation: the chain verifies but its last hash differs from the anchor (got: {report})"
        ),
        ok,
    })
}
