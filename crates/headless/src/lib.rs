//! The headless front-end: events as JSON lines (the Contract) or readable text, approvals from a
//! flag or from standard input.

use anyhow::{Context, Result};
use ccp_app::AppHandle;
use ccp_core::domain::Outcome;
use ccp_core::event_text as text;
use ccp_core::events::{AutoAnswer, Command, EventKind};
use ccp_core::pipeline::RunReport;
use std::io::{BufRead, Write};
use std::sync::mpsc::Sender;

/// Who answers the approval dialog in headless mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApprovalMode {
    /// Answer as actor `auto`.
    Auto(AutoAnswer),
    /// Ask on stderr, read `a`/`r` (optionally followed by a comment) from stdin as `actor`.
    Stdin {
        /// Who is answering.
        actor: String,
    },
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON document per line.
    Json,
    /// One readable line per event.
    Text,
}

/// Run to the end, writing events to `out`. Returns the outcome of the `finished` event and the
/// pipeline's own report (stage timings for benchmarks).
pub fn run(
    mut app: AppHandle,
    format: Format,
    approval: ApprovalMode,
    out: &mut dyn Write,
) -> Result<(Outcome, RunReport)> {
    let events = app.subscribe();
    let commands = app.command_sender();
    app.start();
    let mut outcome = Outcome::Failed;
    for ev in events.iter() {
        match format {
            Format::Json => {
                let line = serde_json::to_string(&ev).context("encoding an event")?;
                writeln!(out, "{line}").context("writing to stdout")?;
            }
            Format::Text => {
                if let Some(line) = text::describe(&ev) {
                    writeln!(out, "{line}").context("writing to stdout")?;
                }
            }
        }
        out.flush().ok();
        match &ev.kind {
            EventKind::AwaitingApproval { .. } => answer(&approval, &commands),
            EventKind::Finished { outcome: o, .. } => {
                outcome = *o;
                break;
            }
            _ => {}
        }
    }
    let audit = app.audit_path.clone();
    let report = app.join()?;
    tracing::info!(?report.outcome, events = report.events, audit = %audit.display(), "run finished");
    Ok((outcome, report))
}

fn answer(mode: &ApprovalMode, commands: &Sender<Command>) {
    let cmd = match mode {
        ApprovalMode::Auto(a) => a.command(),
        ApprovalMode::Stdin { actor } => {
            let actor = actor.clone();
            let tx = commands.clone();
            // Read on a side thread so events keep flowing (and a closed stdin escalates cleanly).
            std::thread::spawn(move || prompt(&actor, &tx));
            return;
        }
    };
    let _ = commands.send(cmd);
}

fn prompt(actor: &str, tx: &Sender<Command>) {
    let stdin = std::io::stdin();
    loop {
        eprint!("approve or reject? [a]pprove / [r]eject, optionally followed by a comment: ");
        let mut line = String::new();
        match stdin.lock().read_line(&mut line) {
            Ok(0) | Err(_) => {
                eprintln!("\nstdin closed without a decision; the pipeline will escalate when its approval timeout passes (or rerun with --auto-approve / --auto-reject)");
                let _ = tx.send(Command::Abort {
                    actor: actor.to_string(),
                    reason: "stdin closed without an approval decision".into(),
                });
                return;
            }
            Ok(_) => {}
        }
        let line = line.trim();
        let (word, comment) = line.split_once(' ').unwrap_or((line, ""));
        let comment = comment.trim().to_string();
        let actor = actor.to_string();
        let cmd = match word {
            "a" | "approve" => Command::Approve { actor, comment },
            "r" | "reject" => Command::Reject { actor, comment },
            _ => {
                eprintln!("please answer `a` or `r`");
                continue;
            }
        };
        let _ = tx.send(cmd);
        return;
    }
}
