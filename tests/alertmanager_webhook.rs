//! The Alertmanager receiver over real HTTP: good deliveries are counted and deduplicated, and a
//! malformed, wrong-version or oversized body is refused (400 / 413) without recording anything.

use ccp_core::ports::AlertSource;
use ccp_http::{alertmanager_hook, HttpServer};
use ccp_webhooks::alertmanager::{AlertInbox, LabelMapping};
use std::sync::Arc;

mod common;

fn post(addr: std::net::SocketAddr, path: &str, body: &[u8]) -> (u16, String) {
    let r = common::http::request(addr, "POST", path, &[], body);
    (r.status, r.body)
}

fn payload(status: &str) -> String {
    format!(
        r#"{{"version":"4","groupKey":"g","status":"{status}","receiver":"ccp","alerts":[
        {{"status":"{status}","labels":{{"alertname":"HighErrorRate","service":"api","severity":"critical"}},
          "annotations":{{"value":"0.2","threshold":"0.02"}},"startsAt":"2026-11-23T10:00:00Z","fingerprint":"f1"}}]}}"#
    )
}

#[test]
fn deliveries_are_counted_and_bad_ones_change_nothing() {
    let inbox = Arc::new(AlertInbox::new(LabelMapping::default()));
    let server = HttpServer::start(
        "127.0.0.1:0",
        alertmanager_hook::router(inbox.clone(), 4096),
    )
    .unwrap();
    let addr = server.addr();

    // Refused: not JSON, another version, too big. Nothing reaches the inbox.
    let (code, body) = post(addr, "/webhooks/alertmanager", b"{not json");
    assert_eq!(code, 400, "{body}");
    assert!(
        body.contains("not an Alertmanager webhook payload"),
        "{body}"
    );
    let (code, body) = post(
        addr,
        "/webhooks/alertmanager",
        payload("firing")
            .replace(r#""version":"4""#, r#""version":"3""#)
            .as_bytes(),
    );
    assert_eq!(code, 400);
    assert!(
        body.contains("unsupported Alertmanager webhook version `3`"),
        "{body}"
    );
    let big = format!("{}{}", payload("firing"), " ".repeat(5000));
    assert_eq!(post(addr, "/webhooks/alertmanager", big.as_bytes()).0, 413);
    assert_eq!(inbox.pending(), 0);
    assert!(inbox.poll(0).unwrap().is_empty());

    // Accepted, then re-sent: one alert.
    let (code, body) = post(addr, "/webhooks/alertmanager", payload("firing").as_bytes());
    assert_eq!(code, 200);
    let receipt: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(receipt["new"], 1);
    let (_, body) = post(addr, "/webhooks/alertmanager", payload("firing").as_bytes());
    let receipt: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (receipt["new"].as_u64(), receipt["duplicate"].as_u64()),
        (Some(0), Some(1))
    );
    let got = inbox.poll(0).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].service.as_str(), got[0].value), ("api", 0.2));

    // Resolved after pickup: reported once for the timeline.
    let (_, body) = post(
        addr,
        "/webhooks/alertmanager",
        payload("resolved").as_bytes(),
    );
    let receipt: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(receipt["resolved"], 1);
    assert_eq!(inbox.resolved().len(), 1);

    // Health check answers.
    let r = common::http::request(addr, "GET", "/healthz", &[], b"");
    assert!(r.status == 200 && r.body == "ok\n", "{} {}", r.head, r.body);
}

#[test]
fn a_busy_port_is_an_error_at_start() {
    let inbox = Arc::new(AlertInbox::default());
    let first = HttpServer::start(
        "127.0.0.1:0",
        alertmanager_hook::router(inbox.clone(), 1024),
    )
    .unwrap();
    let taken = first.addr().to_string();
    let e = HttpServer::start(&taken, alertmanager_hook::router(inbox, 1024))
        .err()
        .unwrap();
    assert!(
        format!("{e:#}").contains(&format!("cannot listen on {taken}")),
        "{e:#}"
    );
}

/// A full inbox answers 503 with Retry-After (Alertmanager retries 5xx) and records nothing of
/// the refused delivery; the service's memory stays bounded whatever a sender does.
#[test]
fn a_full_inbox_answers_503_with_retry_after_and_records_nothing() {
    let inbox = Arc::new(AlertInbox::with_capacity(LabelMapping::default(), 1));
    let server = HttpServer::start(
        "127.0.0.1:0",
        alertmanager_hook::router(inbox.clone(), 4096),
    )
    .unwrap();
    let addr = server.addr();
    assert_eq!(
        post(addr, "/webhooks/alertmanager", payload("firing").as_bytes()).0,
        200
    );
    let second = payload("firing").replace("\"f1\"", "\"f2\"");
    let r = common::http::request(
        addr,
        "POST",
        "/webhooks/alertmanager",
        &[],
        second.as_bytes(),
    );
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(r.body.contains("inbox is full"), "{}", r.body);
    assert!(
        r.head.to_ascii_lowercase().contains("retry-after: 30"),
        "{}",
        r.head
    );
    assert_eq!(inbox.pending(), 1, "the refused alert was not recorded");
}

/// A client that sends its headers a byte at a time (slowloris) cannot hold a connection: the
/// server closes it once the header deadline passes, and keeps answering everyone else.
#[test]
fn a_client_that_never_finishes_its_headers_is_disconnected() {
    use std::io::{Read, Write};
    let inbox = Arc::new(AlertInbox::new(LabelMapping::default()));
    let server = HttpServer::start("127.0.0.1:0", alertmanager_hook::router(inbox, 4096)).unwrap();
    let addr = server.addr();
    let mut slow = std::net::TcpStream::connect(addr).expect("connect");
    slow.write_all(b"POST /webhooks/alertmanager HTTP/1.1\r\nHost: x\r\n")
        .expect("first bytes");
    // Others are served meanwhile.
    assert_eq!(
        post(addr, "/webhooks/alertmanager", payload("firing").as_bytes()).0,
        200
    );
    slow.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .expect("timeout");
    let mut buf = Vec::new();
    // EOF (Ok) means the server closed it; a read timeout (Err) means it was still held.
    let closed = slow.read_to_end(&mut buf);
    assert!(
        closed.is_ok(),
        "the half-sent request still held its connection: {closed:?}"
    );
    let reply = String::from_utf8_lossy(&buf);
    assert!(
        reply.is_empty() || reply.starts_with("HTTP/1.1 408"),
        "closed without serving the half-sent request: {reply}"
    );
}
