//! Notifiers end to end: whole embedded demo runs whose notification URLs point at a local HTTP
//! receiver in this test, which records every request. What arrived is checked against the
//! channels' formats (Slack blocks, PagerDuty Events v2 with one dedup key, a Teams Adaptive Card,
//! a signed generic webhook), retries against a receiver that fails first, and a black-hole or
//! refused receiver against the promise that a failing channel never blocks the pipeline.
//!
//! E-mail goes to a real SMTP server (aiosmtpd, started by tests/run.sh: `CCP_TEST_SMTP_ADDR`,
//! its maildir in `CCP_TEST_SMTP_MAILDIR`). Without it that test says so and passes, unless
//! `CCP_REQUIRE_SERVERS` is set, as tests/run.sh does.

mod common;

use ccp_adapters::embedded::paced_clock::Pace;
use ccp_app::{self as app, RunOptions};
use ccp_config::{
    Config, EmailConfig, PagerDutyConfig, SlackConfig, TeamsConfig, WebhookNotifyConfig,
};
use ccp_core::domain::Outcome;
use ccp_core::events::{Command, Event, EventKind};
use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

// ------------------------------------------------------------------ receiver

/// One request as the receiver saw it.
#[derive(Debug, Clone)]
struct Hit {
    path: String,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

impl Hit {
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// How the receiver answers one request.
#[derive(Debug, Clone)]
enum Reply {
    /// Status code and extra headers.
    Status(u16, Vec<(&'static str, &'static str)>),
    /// Read the request, then never answer (and never close).
    Hole,
}

#[derive(Default)]
struct Books {
    hits: Vec<Hit>,
    scripts: HashMap<String, VecDeque<Reply>>,
    defaults: HashMap<String, Reply>,
    /// Connections held open by `Reply::Hole`.
    held: Vec<TcpStream>,
}

/// A tiny HTTP/1.1 server on 127.0.0.1:0: one request per connection, answered from a script per
/// path (then the path's default, then 200 `ok`).
#[derive(Clone)]
struct Receiver {
    addr: SocketAddr,
    books: Arc<Mutex<Books>>,
}

impl Receiver {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let r = Receiver {
            addr,
            books: Arc::default(),
        };
        let me = r.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let me = me.clone();
                std::thread::spawn(move || me.serve(conn));
            }
        });
        r
    }

    fn books(&self) -> MutexGuard<'_, Books> {
        self.books.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Answer the next requests to `path` with `replies`, in order.
    fn script(&self, path: &str, replies: Vec<Reply>) {
        self.books()
            .scripts
            .insert(path.to_string(), replies.into());
    }

    /// Answer every request to `path` (once its script is used up) with `reply`.
    fn always(&self, path: &str, reply: Reply) {
        self.books().defaults.insert(path.to_string(), reply);
    }

    fn hits(&self, path: &str) -> Vec<Hit> {
        self.books()
            .hits
            .iter()
            .filter(|h| h.path == path)
            .cloned()
            .collect()
    }

    fn serve(&self, mut conn: TcpStream) {
        let Some(hit) = read_request(&conn) else {
            return;
        };
        let reply = {
            let mut b = self.books();
            let path = hit.path.clone();
            b.hits.push(hit);
            let scripted = b.scripts.get_mut(&path).and_then(VecDeque::pop_front);
            scripted
                .or_else(|| b.defaults.get(&path).cloned())
                .unwrap_or(Reply::Status(200, vec![]))
        };
        match reply {
            Reply::Hole => {
                if let Ok(c) = conn.try_clone() {
                    self.books().held.push(c);
                }
            }
            Reply::Status(code, headers) => {
                let body = if code < 300 { "ok" } else { "scripted failure" };
                let mut head = format!(
                    "HTTP/1.1 {code} X\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n",
                    body.len()
                );
                for (k, v) in headers {
                    head.push_str(&format!("{k}: {v}\r\n"));
                }
                head.push_str("\r\n");
                let _ = conn.write_all(head.as_bytes());
                let _ = conn.write_all(body.as_bytes());
            }
        }
    }
}

fn read_request(conn: &TcpStream) -> Option<Hit> {
    let mut r = BufReader::new(conn.try_clone().ok()?);
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    let path = line.split_whitespace().nth(1)?.to_string();
    let mut headers = HashMap::new();
    loop {
        line.clear();
        r.read_line(&mut line).ok()?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    r.read_exact(&mut body).ok()?;
    Some(Hit {
        path,
        headers,
        body,
    })
}

/// A loopback port nothing listens on.
fn refused_url() -> String {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = l.local_addr().expect("addr");
    drop(l);
    format!("http://{addr}/nobody-home")
}

// ------------------------------------------------------------------ runs

/// Demo runs one at a time: the machine is shared, and timeouts here should not compete with
/// other runs for the CPU.
static RUNS: Mutex<()> = Mutex::new(());

const SECRET_PATH: &str = "/services/T000/B000/XXSECRETXX";
const ROUTING_KEY: &str = "R0UTINGKEY0123456789abcdef012345";
const HMAC_SECRET: &str = "hmac-s3cret";

/// A config whose delivery settings suit a test: short timeouts and backoffs.
fn quick_config() -> Config {
    let mut cfg = Config::default();
    let n = &mut cfg.notifications;
    n.timeout_ms = 1_500;
    n.attempts = 3;
    n.backoff_ms = 20;
    n.max_backoff_ms = 200;
    n.final_wait_ms = 10_000;
    cfg
}

/// Run the embedded demo to its end, approving when asked. `None` without python3 (the gates
/// run real Python checks).
fn run(cfg: Config, state: &Path) -> Option<Vec<Event>> {
    if !common::python_or_skip() {
        return None;
    }
    let _one_at_a_time = RUNS.lock().unwrap_or_else(|e| e.into_inner());
    let opts = RunOptions {
        seed: Some(7),
        pace: Pace::Instant,
        inject_failure: None,
        state_dir: state.to_path_buf(),
        config: cfg,
    };
    let events = app::collect_events(&opts, |_| {
        Some(Command::Approve {
            actor: "tester".into(),
            comment: "ship it".into(),
        })
    })
    .expect("demo runs");
    Some(events)
}

fn outcome(events: &[Event]) -> Outcome {
    match events.last().map(|e| &e.kind) {
        Some(EventKind::Finished { outcome, .. }) => *outcome,
        other => panic!("the last event is not finished: {other:?}"),
    }
}

/// `notification_sent` events as (channel, notice, ok, attempts, detail).
fn sent(events: &[Event]) -> Vec<(String, String, bool, u32, String)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::NotificationSent {
                channel,
                notice,
                ok,
                attempts,
                detail,
            } => Some((
                channel.clone(),
                notice.clone(),
                *ok,
                *attempts,
                detail.clone(),
            )),
            _ => None,
        })
        .collect()
}

fn of_channel(events: &[Event], channel: &str) -> Vec<(String, String, bool, u32, String)> {
    sent(events)
        .into_iter()
        .filter(|s| s.0 == channel)
        .collect()
}

fn incident(events: &[Event]) -> String {
    events
        .iter()
        .find(|e| matches!(e.kind, EventKind::IncidentOpened { .. }))
        .map(|e| e.incident.clone())
        .expect("an incident opened")
}

fn audit_text(state: &Path) -> String {
    std::fs::read_to_string(state.join("audit.jsonl")).expect("audit log")
}

// ------------------------------------------------------------------ tests

#[test]
fn a_resolved_run_reaches_every_http_channel_in_its_own_format() {
    let rx = Receiver::start();
    rx.always("/pd", Reply::Status(202, vec![]));
    rx.always("/teams", Reply::Status(202, vec![]));
    let mut cfg = quick_config();
    let n = &mut cfg.notifications;
    n.slack = Some(SlackConfig {
        webhook_url: rx.url(SECRET_PATH),
        channel: Some("#incidents".into()),
    });
    n.pagerduty = Some(PagerDutyConfig {
        routing_key: ROUTING_KEY.into(),
        api_url: rx.url("/pd"),
    });
    n.teams = Some(TeamsConfig {
        webhook_url: rx.url("/teams"),
    });
    n.webhook = Some(WebhookNotifyConfig {
        url: rx.url("/hook"),
        secret: Some(HMAC_SECRET.into()),
    });
    let state = tempfile::tempdir().expect("tempdir");
    let Some(events) = run(cfg, state.path()) else {
        return;
    };
    assert_eq!(outcome(&events), Outcome::Resolved);
    let id = incident(&events);
    let notices = [
        "incident_opened",
        "awaiting_approval",
        "approved",
        "finished",
    ];

    // Slack: one post per notice, each with a fallback text and blocks naming incident and service.
    let slack = rx.hits(SECRET_PATH);
    let bodies: Vec<serde_json::Value> = slack.iter().map(Hit::json).collect();
    assert_eq!(bodies.len(), notices.len(), "{bodies:#?}");
    for b in &bodies {
        assert_eq!(b["channel"], "#incidents");
        let text = b["text"].as_str().expect("text");
        assert!(
            text.contains(&id) && text.contains("payment-service"),
            "{text}"
        );
        let blocks = b["blocks"].as_array().expect("blocks");
        assert_eq!(blocks[0]["type"], "header");
        assert!(blocks[0]["text"]["text"]
            .as_str()
            .is_some_and(|t| t.contains(&id)));
        assert!(blocks[2]["fields"][0]["text"]
            .as_str()
            .is_some_and(|t| t.contains("payment-service")));
    }
    assert!(bodies[0]["text"]
        .as_str()
        .is_some_and(|t| t.contains("Incident opened")));
    assert!(bodies[3]["text"]
        .as_str()
        .is_some_and(|t| t.contains("Resolved")));

    // PagerDuty: trigger, acknowledge (the approval), resolve, all on the incident's dedup key.
    let pd: Vec<serde_json::Value> = rx.hits("/pd").iter().map(Hit::json).collect();
    let actions: Vec<&str> = pd
        .iter()
        .filter_map(|b| b["event_action"].as_str())
        .collect();
    assert_eq!(actions, ["trigger", "acknowledge", "resolve"], "{pd:#?}");
    for b in &pd {
        assert_eq!(b["dedup_key"], id.as_str());
        assert_eq!(b["routing_key"], ROUTING_KEY);
    }
    let p = &pd[0]["payload"];
    assert_eq!(p["source"], "payment-service");
    assert_eq!(p["severity"], "critical");
    assert!(p["summary"].as_str().is_some_and(|s| s.contains(&id)));
    assert!(rx
        .hits("/pd")
        .iter()
        .all(|h| h.headers.get("content-type").map(String::as_str) == Some("application/json")));

    // Teams: an Adaptive Card per notice.
    let teams = rx.hits("/teams");
    assert_eq!(teams.len(), notices.len());
    assert!(teams.iter().all(|h| {
        let b = h.json();
        b["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
            && b["attachments"][0]["content"]["type"] == "AdaptiveCard"
    }));

    // Generic webhook: every body verifies against its signature, and carries the Contract event.
    let hooks = rx.hits("/hook");
    let got: Vec<String> = hooks
        .iter()
        .map(|h| h.json()["notice"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(got, notices);
    for h in &hooks {
        let sig = h.headers.get("x-ccp-signature-256").expect("signed");
        let expected = format!(
            "sha256={}",
            ccp_webhooks::sign_sha256_hex(HMAC_SECRET.as_bytes(), &h.body)
        );
        assert_eq!(sig, &expected);
        assert_eq!(h.json()["incident"], id.as_str());
    }
    assert_eq!(hooks[3].json()["event"]["type"], "finished");
    assert_eq!(hooks[3].json()["event"]["outcome"], "resolved");

    // Every delivery is audited, before `finished`, ok on the first attempt.
    let s = sent(&events);
    assert_eq!(s.len(), 4 + 3 + 4 + 4, "{s:#?}");
    assert!(s.iter().all(|d| d.2 && d.3 == 1), "{s:#?}");
    let slack_sent = of_channel(&events, "slack");
    assert_eq!(
        slack_sent.iter().map(|d| d.1.as_str()).collect::<Vec<_>>(),
        notices
    );
    assert!(
        slack_sent[0]
            .4
            .starts_with("HTTP 200 from http://127.0.0.1:"),
        "{:?}",
        slack_sent[0]
    );
    let last_sent = events
        .iter()
        .rposition(|e| matches!(e.kind, EventKind::NotificationSent { .. }))
        .expect("some");
    assert!(last_sent < events.len() - 1);

    // No secret in events or the audit log: not the webhook path, the routing key, the HMAC key.
    let audit = audit_text(state.path());
    assert!(audit.contains("\"type\":\"notification_sent\""));
    let shown = serde_json::to_string(&events).expect("json");
    for secret in ["XXSECRETXX", ROUTING_KEY, HMAC_SECRET] {
        assert!(!shown.contains(secret), "{secret} leaked into events");
        assert!(
            !audit.contains(secret),
            "{secret} leaked into the audit log"
        );
    }
}

#[test]
fn failures_that_may_pass_are_retried_and_others_reported_at_once() {
    let rx = Receiver::start();
    let fail = || Reply::Status(500, vec![]);
    rx.script("/slack", vec![fail(), fail()]);
    // Throttled once, with a Retry-After the dispatcher honours (0 s), then accepted.
    rx.script(
        "/hook",
        vec![Reply::Status(429, vec![("Retry-After", "0")])],
    );
    // A routing key PagerDuty refuses: 400 will not change by retrying.
    rx.always("/pd", Reply::Status(400, vec![]));
    let mut cfg = quick_config();
    let n = &mut cfg.notifications;
    n.slack = Some(SlackConfig {
        webhook_url: rx.url("/slack"),
        channel: None,
    });
    n.webhook = Some(WebhookNotifyConfig {
        url: rx.url("/hook"),
        secret: None,
    });
    n.pagerduty = Some(PagerDutyConfig {
        routing_key: ROUTING_KEY.into(),
        api_url: rx.url("/pd"),
    });
    let state = tempfile::tempdir().expect("tempdir");
    let Some(events) = run(cfg, state.path()) else {
        return;
    };
    assert_eq!(outcome(&events), Outcome::Resolved);

    // 500, 500, 200: delivered on the third attempt, and the same body was sent each time.
    let slack = of_channel(&events, "slack");
    assert_eq!(slack[0].1, "incident_opened");
    assert!(slack[0].2, "{:?}", slack[0]);
    assert_eq!(slack[0].3, 3, "{:?}", slack[0]);
    assert!(slack[1..].iter().all(|d| d.2 && d.3 == 1), "{slack:?}");
    let hits = rx.hits("/slack");
    assert_eq!(hits.len(), 3 + (slack.len() - 1));
    assert_eq!(hits[0].body, hits[1].body);
    assert_eq!(hits[1].body, hits[2].body);
    assert!(rx
        .hits("/hook")
        .iter()
        .all(|h| !h.headers.contains_key("x-ccp-signature-256")));

    let hook = of_channel(&events, "webhook");
    assert_eq!((hook[0].2, hook[0].3), (true, 2), "{:?}", hook[0]);

    // 400: given up after one attempt, the receiver's status in the detail.
    let pd = of_channel(&events, "pagerduty");
    assert_eq!(pd.len(), 3, "{pd:?}");
    for d in &pd {
        assert!(!d.2 && d.3 == 1, "{d:?}");
        assert!(d.4.starts_with("HTTP 400 from http://127.0.0.1:"), "{d:?}");
    }
    assert_eq!(rx.hits("/pd").len(), 3);
}

#[test]
fn a_receiver_that_never_answers_or_refuses_does_not_hold_up_the_run() {
    let rx = Receiver::start();
    rx.always("/hole", Reply::Hole);
    let mut cfg = quick_config();
    let n = &mut cfg.notifications;
    n.timeout_ms = 300;
    n.attempts = 2;
    n.final_wait_ms = 1_000;
    n.slack = Some(SlackConfig {
        webhook_url: rx.url("/hole"),
        channel: None,
    });
    n.webhook = Some(WebhookNotifyConfig {
        url: refused_url(),
        secret: None,
    });
    let state = tempfile::tempdir().expect("tempdir");
    let Some(events) = run(cfg, state.path()) else {
        return;
    };
    // The incident is handled exactly as without notifications.
    assert_eq!(outcome(&events), Outcome::Resolved);
    let states: Vec<String> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::StateChanged { to, .. } => Some(to.as_str().to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(states.last().map(String::as_str), Some("CLOSED"));

    // The refused port: every notice failed after both attempts, saying why.
    let hook = of_channel(&events, "webhook");
    assert!(!hook.is_empty());
    for d in &hook {
        assert!(!d.2 && d.3 == 2, "{d:?}");
        assert!(
            d.4.starts_with("could not connect to http://127.0.0.1:"),
            "{d:?}"
        );
        assert!(
            !d.4.contains("nobody-home"),
            "the URL path is not shown: {d:?}"
        );
    }

    // The black hole: what timed out is a failed delivery; what was still queued when the run
    // ended is a note. Either way the record says Slack did not get it.
    let slack = of_channel(&events, "slack");
    assert!(slack.iter().all(|d| !d.2), "{slack:?}");
    assert!(slack
        .iter()
        .all(|d| d.4.starts_with("no answer from http://127.0.0.1:")));
    let in_flight = events.iter().any(
        |e| matches!(&e.kind, EventKind::Note { message } if message.contains("still in flight")),
    );
    assert!(!slack.is_empty() || in_flight, "{events:#?}");
    assert!(!rx.hits("/hole").is_empty(), "the hole was reached");
}

// ------------------------------------------------------------------ e-mail

/// The SMTP server tests/run.sh started, and the maildir it delivers into.
fn smtp_server() -> Option<(String, u16, PathBuf)> {
    let addr = std::env::var("CCP_TEST_SMTP_ADDR").ok();
    let dir = std::env::var("CCP_TEST_SMTP_MAILDIR").ok();
    match (addr, dir) {
        (Some(a), Some(d)) => {
            let (host, port) = a.rsplit_once(':').expect("host:port");
            Some((
                host.to_string(),
                port.parse().expect("port"),
                PathBuf::from(d),
            ))
        }
        _ if std::env::var_os("CCP_REQUIRE_SERVERS").is_some() => {
            panic!("CCP_TEST_SMTP_ADDR / CCP_TEST_SMTP_MAILDIR are not set but servers are required (run tests/run.sh)")
        }
        _ => {
            eprintln!("skipped: no SMTP server (run tests/run.sh to start one)");
            None
        }
    }
}

/// Every message in the maildir (`new/` and `cur/`), as text.
fn maildir_messages(dir: &Path) -> Vec<String> {
    ["new", "cur"]
        .iter()
        .filter_map(|sub| std::fs::read_dir(dir.join(sub)).ok())
        .flatten()
        .flatten()
        .filter_map(|e| std::fs::read(e.path()).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .collect()
}

/// The value of header `name` in a raw message (first occurrence, unfolded).
fn header(raw: &str, name: &str) -> Option<String> {
    let head = raw.split("\r\n\r\n").next().unwrap_or(raw);
    let head = head
        .split("\n\n")
        .next()
        .unwrap_or(head)
        .replace("\r\n", "\n");
    let mut value: Option<String> = None;
    for line in head.lines() {
        if let Some(v) = value.as_mut() {
            if line.starts_with(' ') || line.starts_with('\t') {
                v.push(' ');
                v.push_str(line.trim());
                continue;
            }
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case(name) {
                value = Some(v.trim().to_string());
            }
        }
    }
    value
}

#[test]
fn incident_mail_reaches_a_real_smtp_server() {
    let Some((host, port, maildir)) = smtp_server() else {
        return;
    };
    // Recipients unique to this run, so mail from earlier runs in the same maildir is told apart.
    let nonce = format!(
        "{}{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
    );
    let oncall = format!("oncall+{nonce}@example.com");
    let lead = format!("lead+{nonce}@example.com");
    let mut cfg = quick_config();
    cfg.notifications.email = Some(EmailConfig {
        smtp_host: host,
        smtp_port: port,
        from: "ccp <ccp@ccp.test>".into(),
        to: vec![oncall.clone(), lead.clone()],
        starttls: false,
        username: None,
        password: None,
    });
    let state = tempfile::tempdir().expect("tempdir");
    let Some(events) = run(cfg, state.path()) else {
        return;
    };
    assert_eq!(outcome(&events), Outcome::Resolved);
    let id = incident(&events);
    let mail = of_channel(&events, "email");
    assert_eq!(mail.len(), 4, "{mail:?}");
    assert!(mail.iter().all(|d| d.2 && d.3 == 1), "{mail:?}");
    assert!(mail[0].4.starts_with("SMTP 250 from "), "{:?}", mail[0]);

    let ours: Vec<String> = maildir_messages(&maildir)
        .into_iter()
        .filter(|m| header(m, "To").is_some_and(|t| t.contains(&oncall)))
        .collect();
    assert_eq!(ours.len(), 4, "one message per notice");
    let opened = ours
        .iter()
        .find(|m| header(m, "Subject").is_some_and(|s| s.contains("Incident opened")))
        .expect("the incident-opened mail");
    let subject = header(opened, "Subject").unwrap_or_default();
    assert!(subject.contains(&id), "{subject}");
    assert!(subject.contains("payment-service"), "{subject}");
    assert_eq!(
        header(opened, "From").as_deref(),
        Some("ccp <ccp@ccp.test>")
    );
    assert_eq!(
        header(opened, "To").as_deref(),
        Some(format!("{oncall}, {lead}").as_str())
    );
    // The envelope aiosmtpd saw (its Mailbox handler records it in X- headers).
    assert_eq!(
        header(opened, "X-MailFrom").as_deref(),
        Some("ccp@ccp.test")
    );
    let rcpt = header(opened, "X-RcptTo").unwrap_or_default();
    assert!(rcpt.contains(&oncall) && rcpt.contains(&lead), "{rcpt}");
    assert!(
        opened.contains("Incident opened; ccp is diagnosing it"),
        "{opened}"
    );
    // All four notices of the incident thread together.
    let thread = format!("<{id}@ccp.incident>");
    assert!(ours
        .iter()
        .all(|m| header(m, "References").as_deref() == Some(thread.as_str())));
}

#[test]
fn an_unreachable_smtp_server_is_a_failed_delivery_not_a_failed_run() {
    let mut cfg = quick_config();
    let n = &mut cfg.notifications;
    n.attempts = 2;
    let refused = refused_url();
    let port: u16 = refused
        .trim_start_matches("http://127.0.0.1:")
        .trim_end_matches("/nobody-home")
        .parse()
        .expect("port");
    n.email = Some(EmailConfig {
        smtp_host: "127.0.0.1".into(),
        smtp_port: port,
        from: "ccp@ccp.test".into(),
        to: vec!["oncall@example.com".into()],
        starttls: false,
        username: None,
        password: None,
    });
    let state = tempfile::tempdir().expect("tempdir");
    let Some(events) = run(cfg, state.path()) else {
        return;
    };
    assert_eq!(outcome(&events), Outcome::Resolved);
    let mail = of_channel(&events, "email");
    assert_eq!(mail.len(), 4, "{mail:?}");
    assert!(mail.iter().all(|d| !d.2 && d.3 == 2), "{mail:?}");
    assert!(
        mail[0].4.starts_with(&format!("SMTP 127.0.0.1:{port}: ")),
        "{:?}",
        mail[0]
    );
}

// ------------------------------------------------------------------ config

fn no_env(_: &str) -> Option<String> {
    None
}

#[test]
fn a_channel_with_nowhere_to_send_is_a_config_error_at_its_key() {
    let cases = [
        (
            "notifications:\n  slack:\n    webhook_url: \"\"\n",
            "ccp.yaml:3:5: ",
            "notifications.slack.webhook_url",
        ),
        (
            "notifications:\n  pagerduty:\n    routing_key: \"  \"\n",
            "ccp.yaml:3:5: ",
            "notifications.pagerduty.routing_key",
        ),
        (
            "notifications:\n  teams: {webhook_url: \"\"}\n",
            "ccp.yaml:2:11: ",
            "notifications.teams.webhook_url",
        ),
        (
            "notifications:\n  webhook:\n    url: \"\"\n",
            "ccp.yaml:3:5: ",
            "notifications.webhook.url",
        ),
        (
            "notifications:\n  email:\n    smtp_host: h\n    from: \"\"\n    to: [a@x]\n",
            "ccp.yaml:4:5: ",
            "notifications.email.from",
        ),
        (
            "notifications:\n  email:\n    smtp_host: h\n    from: f@x\n    to: []\n",
            "ccp.yaml:5:5: ",
            "notifications.email.to",
        ),
        (
            "notifications:\n  attempts: 0\n",
            "ccp.yaml:2:3: ",
            "notifications.attempts",
        ),
    ];
    for (text, at, key) in cases {
        let e = ccp_config::load_str(text, "ccp.yaml", &no_env).expect_err(text);
        let shown = e.to_string();
        assert!(shown.starts_with(at), "{text}\n→ {shown}");
        assert!(shown.contains(key), "{text}\n→ {shown}");
    }
    let fine = "notifications:\n  slack: {webhook_url: \"https://hooks.example.com/x\"}\n  timeout_ms: 2000\n";
    let cfg = ccp_config::load_str(fine, "ccp.yaml", &no_env).expect("valid");
    assert_eq!(cfg.notifications.timeout_ms, 2000);
    assert_eq!(cfg.notifications.attempts, 3);
}
