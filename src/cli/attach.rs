//! `ccp attach URL`: the cockpit over a running `ccp serve`. Events come from the server's
//! stream, commands go to its API under the operator's token; quitting detaches and leaves the
//! operations running at the server.

use super::load_config;
use super::session::cockpit_themes;
use anyhow::Result;
use ccp_adapters::desk_client::{DeskClient, Link};
use ccp_app::desk::DeskSnapshot;
use ccp_core::events::Command;
use ccp_tui::run::{CommandSink, Remote, RemoteMsg};
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Commands to the server: each becomes `POST /api/incidents/{id}/{verb}`, sent from a thread
/// of its own (the cockpit's loop must never wait on the network); the answer comes back to the
/// cockpit as a message. The actor is not sent: the server records whoever the token identifies.
struct ServerSink(std::sync::Mutex<std::sync::mpsc::Sender<(String, Command)>>);

impl CommandSink for ServerSink {
    fn send(&self, incident: &str, cmd: &Command) -> Result<(), String> {
        self.0
            .lock()
            .map_err(|_| "the command sender failed".to_string())?
            .send((incident.to_string(), cmd.clone()))
            .map_err(|_| "the command sender has stopped".to_string())
    }
}

/// Send queued commands one by one, reporting each answer.
fn spawn_sender(
    client: Arc<DeskClient>,
    answers: std::sync::mpsc::Sender<RemoteMsg>,
) -> Result<std::sync::mpsc::Sender<(String, Command)>> {
    let (tx, rx) = std::sync::mpsc::channel::<(String, Command)>();
    std::thread::Builder::new()
        .name("ccp-attach-commands".into())
        .spawn(move || {
            for (incident, cmd) in rx {
                let (verb, body) = match &cmd {
                    Command::Approve { comment, .. } => {
                        ("approve", serde_json::json!({ "comment": comment }))
                    }
                    Command::Reject { comment, .. } => {
                        ("reject", serde_json::json!({ "comment": comment }))
                    }
                    Command::Pause { .. } => ("pause", serde_json::json!({})),
                    Command::Resume { .. } => ("resume", serde_json::json!({})),
                    Command::Abort { reason, .. } => {
                        ("abort", serde_json::json!({ "reason": reason }))
                    }
                };
                let answer = client
                    .command(&incident, verb, body)
                    .map(|()| format!("{verb} sent for {incident}; the server recorded it under your identity"))
                    .map_err(|e| e.to_string());
                if answers.send(RemoteMsg::Answer(answer)).is_err() {
                    return;
                }
            }
        })?;
    Ok(tx)
}

/// The server's running set and queue (not events: they change without one), every 2 s.
fn spawn_desk_poller(
    client: Arc<DeskClient>,
    out: std::sync::mpsc::Sender<RemoteMsg>,
    stop: Arc<AtomicBool>,
) -> Result<()> {
    std::thread::Builder::new()
        .name("ccp-attach-desk".into())
        .spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let snap = client
                    .state()
                    .ok()
                    .and_then(|st| serde_json::from_value::<DeskSnapshot>(st).ok());
                if let Some(d) = snap {
                    if out.send(RemoteMsg::Desk(d.line())).is_err() {
                        return;
                    }
                }
                std::thread::sleep(std::time::Duration::from_secs(2));
            }
        })?;
    Ok(())
}

/// `ccp attach`: exit 2 when the server refuses the token or cannot be reached at start.
pub(super) fn command(
    url: &str,
    token_env: &str,
    read_only: bool,
    config: Option<&Path>,
) -> Result<ExitCode> {
    let cfg = match load_config(config) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let token = std::env::var(token_env).ok().filter(|t| !t.is_empty());
    let client = match DeskClient::new(url, token) {
        Ok(c) => Arc::new(c),
        Err(e) => {
            eprintln!("ccp attach: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let (name, role) = match client.whoami() {
        Ok(w) => w,
        Err(e) => {
            eprintln!("ccp attach: {url}: {e} (token from ${token_env})");
            return Ok(ExitCode::from(2));
        }
    };
    let read_only = read_only || role == "viewer";
    let actor = name.unwrap_or_else(|| "local".into());
    let (link_tx, link_rx) = std::sync::mpsc::channel::<Link>();
    let stop = Arc::new(AtomicBool::new(false));
    client.clone().follow(link_tx, stop.clone())?;
    let (tx, rx) = std::sync::mpsc::channel::<RemoteMsg>();
    let commands = spawn_sender(client.clone(), tx.clone())?;
    spawn_desk_poller(client.clone(), tx.clone(), stop.clone())?;
    std::thread::Builder::new()
        .name("ccp-attach-map".into())
        .spawn(move || {
            for l in link_rx {
                let m = match l {
                    Link::Up => RemoteMsg::Up,
                    Link::Down(why) => RemoteMsg::Down(why),
                    Link::Reset => RemoteMsg::Reset,
                    Link::Event(_, ev) => RemoteMsg::Event(ev),
                };
                if tx.send(m).is_err() {
                    return;
                }
            }
        })?;
    let result = ccp_tui::run::attach(
        Remote {
            events: rx,
            sink: Arc::new(ServerSink(std::sync::Mutex::new(commands))),
            url: Some(url.to_string()),
            read_only,
        },
        ccp_tui::run::CockpitOptions {
            themes: cockpit_themes(&cfg)?,
            pace: role,
            actor,
            fps: cfg.tui.fps,
            mouse: cfg.tui.mouse,
            record: None,
            alarm: None,
        },
    );
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    result?;
    Ok(ExitCode::SUCCESS)
}
