//! A client of a running `ccp serve`: follows its event stream (`/api/events`, Server-Sent
//! Events) and sends commands (`POST /api/incidents/{id}/{verb}`) under a bearer token. What an
//! attached cockpit talks to instead of an in-process pipeline.
//!
//! The stream is followed on a thread that reconnects on its own, resuming from the last id it
//! saw, so a dropped connection loses nothing and repeats nothing; every loss and recovery of the
//! link is reported, so the cockpit can say its picture may be stale. The token is sent only in
//! the `Authorization` header and never appears in an error.

use ccp_core::events::Event;
use std::io::{BufRead, BufReader, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::Duration;

/// Longest SSE line accepted (an event with a large diff fits many times over).
const MAX_LINE: usize = 4 * 1024 * 1024;

/// What the follower reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Link {
    /// Connected (again); events follow.
    Up,
    /// The connection failed or dropped; it is retried. The reason is for the operator.
    Down(String),
    /// The server's stream started over (it restarted): forget what was shown, events from
    /// the beginning follow.
    Reset,
    /// One event, with its stream id.
    Event(u64, Box<Event>),
}

/// Why a command was not taken, in the operator's words.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// A client of one server.
pub struct DeskClient {
    base: String,
    token: Option<String>,
    commands: reqwest::blocking::Client,
    stream: reqwest::blocking::Client,
}

impl DeskClient {
    /// A client for `base` (`http://127.0.0.1:9099`), with the bearer token if any.
    pub fn new(base: &str, token: Option<String>) -> Result<Self, String> {
        crate::tls::ensure_crypto_provider();
        let commands = crate::tls::blocking_client(Duration::from_secs(10))
            .map_err(|e| format!("HTTP client: {e}"))?;
        // No overall timeout on the stream: it is meant to stay open.
        let stream = reqwest::blocking::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(None::<Duration>)
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Self {
            base: base.trim_end_matches('/').to_string(),
            token,
            commands,
            stream,
        })
    }

    fn auth(&self, r: reqwest::blocking::RequestBuilder) -> reqwest::blocking::RequestBuilder {
        match &self.token {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
    }

    /// `GET path` as JSON, or the server's refusal in words.
    fn get_json(&self, path: &str) -> Result<serde_json::Value, Refused> {
        let r = self
            .auth(self.commands.get(format!("{}{path}", self.base)))
            .send()
            .map_err(|e| Refused(format!("cannot reach {}: {}", self.base, e.without_url())))?;
        let status = r.status().as_u16();
        let v: serde_json::Value = r.json().unwrap_or_default();
        if status != 200 {
            return Err(Refused(message(status, &v)));
        }
        Ok(v)
    }

    /// Who the token says we are (`GET /api/whoami`): name and role, for the status bar.
    pub fn whoami(&self) -> Result<(Option<String>, String), Refused> {
        let v = self.get_json("/api/whoami")?;
        Ok((
            v["name"].as_str().map(str::to_string),
            v["role"].as_str().unwrap_or("viewer").to_string(),
        ))
    }

    /// `GET /api/state`: the server's running set, queue, incidents and KPIs.
    pub fn state(&self) -> Result<serde_json::Value, Refused> {
        self.get_json("/api/state")
    }

    /// `POST /api/incidents/{incident}/{verb}` with `body`; the server's refusal in words.
    pub fn command(
        &self,
        incident: &str,
        verb: &str,
        body: serde_json::Value,
    ) -> Result<(), Refused> {
        let url = format!("{}/api/incidents/{incident}/{verb}", self.base);
        let r = self
            .auth(self.commands.post(url))
            .json(&body)
            .send()
            .map_err(|e| {
                Refused(format!(
                    "not sent, {} unreachable: {}",
                    self.base,
                    e.without_url()
                ))
            })?;
        let status = r.status().as_u16();
        if status == 202 {
            return Ok(());
        }
        let v: serde_json::Value = r.json().unwrap_or_default();
        Err(Refused(message(status, &v)))
    }

    /// Follow the stream on a thread until `stop` is set or `out` is gone, reconnecting with
    /// growing pauses (up to 5 s) and resuming after the last id seen.
    pub fn follow(
        self: Arc<Self>,
        out: Sender<Link>,
        stop: Arc<AtomicBool>,
    ) -> std::io::Result<std::thread::JoinHandle<()>> {
        std::thread::Builder::new()
            .name("ccp-attach".into())
            .spawn(move || {
                let mut last: u64 = 0;
                let mut pause = Duration::from_millis(200);
                while !stop.load(Ordering::Relaxed) {
                    match self.follow_once(&out, &mut last, &stop) {
                        Ok(()) => pause = Duration::from_millis(200),
                        Err(why) => {
                            if out.send(Link::Down(why)).is_err() {
                                return;
                            }
                        }
                    }
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_secs(5));
                }
            })
    }

    fn follow_once(
        &self,
        out: &Sender<Link>,
        last: &mut u64,
        stop: &AtomicBool,
    ) -> Result<(), String> {
        let mut req = self
            .auth(self.stream.get(format!("{}/api/events", self.base)))
            .header("Accept", "text/event-stream");
        if *last > 0 {
            req = req.header("Last-Event-ID", last.to_string());
        }
        let r = req
            .send()
            .map_err(|e| format!("cannot reach {}: {}", self.base, e.without_url()))?;
        let status = r.status().as_u16();
        if status == 410 {
            // Our resume point is gone: start over from what the server has.
            *last = 0;
            let _ = out.send(Link::Reset);
            return Err("the server no longer holds our resume point; reloading".into());
        }
        if status != 200 {
            let v: serde_json::Value = r.json().unwrap_or_default();
            return Err(message(status, &v));
        }
        if out.send(Link::Up).is_err() {
            return Ok(());
        }
        let mut reader = BufReader::new(r);
        let mut line = String::new();
        let (mut id, mut kind, mut data): (Option<u64>, String, String) =
            (None, String::new(), String::new());
        loop {
            if stop.load(Ordering::Relaxed) {
                return Ok(());
            }
            line.clear();
            let n = (&mut reader)
                .take(MAX_LINE as u64)
                .read_line(&mut line)
                .map_err(|e| format!("the event stream broke: {e}"))?;
            if n == 0 {
                return Err("the server closed the event stream".into());
            }
            let l = line.trim_end_matches(['\r', '\n']);
            if l.is_empty() {
                // End of one SSE event.
                match kind.as_str() {
                    "" | "message" => {
                        if let (Some(i), Ok(ev)) = (id, serde_json::from_str::<Event>(&data)) {
                            if i <= *last && *last > 0 {
                                // Already shown (the server resumed a little early).
                            } else {
                                if i < *last {
                                    let _ = out.send(Link::Reset);
                                }
                                *last = i;
                                if out.send(Link::Event(i, Box::new(ev))).is_err() {
                                    return Ok(());
                                }
                            }
                        }
                    }
                    "reset" => {
                        *last = 0;
                        if out.send(Link::Reset).is_err() {
                            return Ok(());
                        }
                    }
                    "dropped" => {
                        let why: serde_json::Value =
                            serde_json::from_str(&data).unwrap_or_default();
                        return Err(why["reason"]
                            .as_str()
                            .unwrap_or("the server dropped this client")
                            .to_string());
                    }
                    _ => {}
                }
                id = None;
                kind.clear();
                data.clear();
                continue;
            }
            if let Some(v) = l.strip_prefix("id:") {
                id = v.trim().parse().ok();
            } else if let Some(v) = l.strip_prefix("event:") {
                kind = v.trim().to_string();
            } else if let Some(v) = l.strip_prefix("data:") {
                if !data.is_empty() {
                    data.push('\n');
                }
                data.push_str(v.strip_prefix(' ').unwrap_or(v));
                if data.len() > MAX_LINE {
                    return Err("an event larger than 4 MiB: refusing it".into());
                }
            }
        }
    }
}

/// A refusal in words: the server's `error`, with what the status means.
fn message(status: u16, v: &serde_json::Value) -> String {
    let said = v["error"].as_str().unwrap_or("");
    let what = match status {
        401 => "not authenticated",
        403 => "not allowed",
        404 => "not found",
        409 => "nothing waits for that",
        410 => "gone",
        _ => "refused",
    };
    if said.is_empty() {
        format!("{what} (HTTP {status})")
    } else {
        format!("{what}: {said}")
    }
}
