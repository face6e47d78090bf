//! `ccp audit verify | show | replay`: the hash-chained audit log.

use anyhow::Result;
use ccp_config::Config;
use ccp_tui::run;
use ccp_tui::run::CockpitOptions;
use std::io::Write;
use std::process::ExitCode;

use super::args::AuditCmd;

pub(super) fn command(cmd: AuditCmd) -> Result<ExitCode> {
    match cmd {
        AuditCmd::Verify {
            file,
            anchor,
            expect_count,
        } => {
            let report = ccp_audit::verify_file(&file)?;
            println!("{}: {}", file.display(), report.message());
            let ccp_audit::VerifyReport::Intact { records, .. } = report else {
                return Ok(ExitCode::from(1));
            };
            // A chain verifies on its own even when its tail was cut or every hash recomputed;
            // only something kept elsewhere can tell.
            if let Some(n) = expect_count.filter(|n| records < *n) {
                println!(
                    "{}: CUT: {records} records, but {n} were expected: records were removed from the end",
                    file.display()
                );
                return Ok(ExitCode::from(1));
            }
            if let Some(want) = anchor {
                let found = ccp_audit::read_records(&file)?
                    .iter()
                    .position(|r| r.hash.eq_ignore_ascii_case(want.trim()));
                match found {
                    Some(i) => println!(
                        "{}: anchor found at seq {i}: the log still extends the anchored state",
                        file.display()
                    ),
                    None => {
                        println!(
                            "{}: ANCHOR MISSING: no record has hash {want}: the log was cut before it or rewritten",
                            file.display()
                        );
                        return Ok(ExitCode::from(1));
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        AuditCmd::Replay { file, incident } => {
            // A replay of a tampered log must not look like a trustworthy record.
            let alarm = match ccp_audit::verify_file(&file)? {
                ccp_audit::VerifyReport::Intact { .. } => None,
                broken @ ccp_audit::VerifyReport::Broken { seq, .. } => {
                    eprintln!("{}: {broken}", file.display());
                    Some(format!(
                        "AUDIT CHAIN BROKEN at seq {seq}: replay unverified"
                    ))
                }
            };
            let records = ccp_audit::read_records(&file)?;
            let Some(r) = ccp_audit::replay::replay(&records, incident.as_deref()) else {
                eprintln!(
                    "{}: no incident {}in this log; incidents: {}",
                    file.display(),
                    incident.map(|i| format!("{i} ")).unwrap_or_default(),
                    ccp_audit::replay::incidents(&records).join(", ")
                );
                return Ok(ExitCode::from(2));
            };
            if r.skipped > 0 {
                eprintln!(
                    "{}: skipped {} records of {} that this version of ccp cannot read as events (written by another version?)",
                    file.display(),
                    r.skipped,
                    r.incident
                );
            }
            use std::io::IsTerminal;
            if !(std::io::stdout().is_terminal() && std::io::stdin().is_terminal()) {
                eprintln!(
                    "ccp audit replay needs a terminal; use `ccp audit show` to print the log"
                );
                return Ok(ExitCode::from(2));
            }
            let cfg = Config::default();
            run::replay(
                r.events,
                CockpitOptions {
                    themes: super::session::cockpit_themes(&cfg)?,
                    pace: "replay".into(),
                    actor: "replay".into(),
                    fps: cfg.tui.fps,
                    mouse: cfg.tui.mouse,
                    record: None,
                    alarm,
                },
            )?;
            Ok(ExitCode::SUCCESS)
        }
        AuditCmd::Show { file, incident } => {
            let records = ccp_audit::read_records(&file)?;
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            for r in records {
                let inc = r
                    .data
                    .get("incident")
                    .and_then(|v| v.as_str())
                    .unwrap_or("");
                if incident.as_deref().is_some_and(|want| want != inc) {
                    continue;
                }
                writeln!(
                    out,
                    "{:>6}  {}  {:<8} {:<18} {}",
                    r.seq, r.ts, r.actor, r.kind, inc
                )?;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
