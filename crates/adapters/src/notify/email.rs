//! E-mail over SMTP with lettre (synchronous transport, rustls on the `ring` provider: the one
//! TLS stack the rest of ccp uses). Plain SMTP suits a relay on loopback or in the same host;
//! `starttls: true` upgrades the session and refuses to go on without TLS, for any relay across a
//! network. Every notice of one incident carries the same `References` header, so mail clients
//! thread them into one conversation.

use super::dispatch::Channel;
use super::retry::Failure;
use super::wording::one_line;
use super::NotifyError;
use ccp_config::EmailConfig;
use ccp_core::notice::Notification;
use lettre::message::{header::ContentType, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Message, SmtpTransport, Transport};
use std::time::Duration;

/// The subject line: the moment, the incident id and the service.
pub fn subject(n: &Notification) -> String {
    one_line(n)
}

/// The plain-text body: what happened, the facts, the incident's title.
pub fn text(n: &Notification) -> String {
    let mut rows = vec![
        ("Incident".to_string(), n.incident.clone()),
        ("Service".to_string(), n.service.clone()),
        ("Severity".to_string(), n.severity.as_str().to_string()),
    ];
    rows.extend(n.facts.iter().filter(|(_, v)| !v.is_empty()).cloned());
    rows.push(("Time".to_string(), n.ts.clone()));
    let width = rows
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0)
        + 1;
    let mut out = format!("{}\n\n", n.headline);
    for (k, v) in rows {
        out.push_str(&format!("{:<width$} {v}\n", format!("{k}:")));
    }
    out.push_str(&format!("\n{}\n\n-- \nccp incident cockpit\n", n.title));
    out
}

/// The thread id every notice of one incident refers to.
pub fn thread_id(incident: &str) -> String {
    format!("<{incident}@ccp.incident>")
}

/// A fresh `Message-ID` under the incident's thread domain: unique per message (time and a
/// process counter), so relays never take two notices for one duplicate.
fn message_id(n: &Notification) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "<{}.{}.{nanos:x}.{}.{}@ccp.incident>",
        n.incident,
        n.kind.as_str(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// The whole message for `n`.
pub fn message(n: &Notification, from: &Mailbox, to: &[Mailbox]) -> Result<Message, String> {
    let mut b = Message::builder()
        .from(from.clone())
        .subject(subject(n))
        .message_id(Some(message_id(n)))
        .references(thread_id(&n.incident))
        .header(ContentType::TEXT_PLAIN);
    for rcpt in to {
        b = b.to(rcpt.clone());
    }
    b.body(text(n)).map_err(|e| e.to_string())
}

/// The e-mail channel.
pub struct EmailChannel {
    transport: SmtpTransport,
    from: Mailbox,
    to: Vec<Mailbox>,
    shown: String,
}

impl EmailChannel {
    /// From configuration: addresses are parsed now so a typo fails at start, not mid-incident.
    pub fn new(cfg: &EmailConfig, timeout: Duration) -> Result<Self, NotifyError> {
        let parse = |key: &'static str, addr: &str| {
            addr.trim()
                .parse::<Mailbox>()
                .map_err(|e| NotifyError::BadAddress {
                    key,
                    address: addr.to_string(),
                    message: e.to_string(),
                })
        };
        let from = parse("notifications.email.from", &cfg.from)?;
        let to = cfg
            .to
            .iter()
            .map(|a| parse("notifications.email.to", a))
            .collect::<Result<Vec<_>, _>>()?;
        let host = cfg.smtp_host.trim();
        let builder = if cfg.starttls {
            crate::tls::ensure_crypto_provider();
            SmtpTransport::starttls_relay(host).map_err(|e| NotifyError::Client {
                channel: "email",
                message: e.to_string(),
            })?
        } else {
            SmtpTransport::builder_dangerous(host)
        };
        let mut builder = builder.port(cfg.smtp_port).timeout(Some(timeout));
        if let Some(user) = cfg.username.as_deref().filter(|u| !u.is_empty()) {
            builder = builder.credentials(Credentials::new(
                user.to_string(),
                cfg.password.clone().unwrap_or_default(),
            ));
        }
        Ok(EmailChannel {
            transport: builder.build(),
            from,
            to,
            shown: format!("{host}:{}", cfg.smtp_port),
        })
    }
}

impl Channel for EmailChannel {
    type Message = Message;

    fn name(&self) -> &'static str {
        "email"
    }

    fn render(&self, notice: &Notification) -> Option<Result<Message, String>> {
        Some(message(notice, &self.from, &self.to))
    }

    fn deliver(&self, message: &Message) -> Result<String, Failure> {
        match self.transport.send(message) {
            Ok(resp) => Ok(format!(
                "SMTP {} from {} ({} recipient(s))",
                resp.code(),
                self.shown,
                self.to.len()
            )),
            Err(e) => {
                let message = format!("SMTP {}: {e}", self.shown);
                // 5xx replies, unparseable replies and TLS or client errors repeat; a 4xx reply,
                // a timeout or a lost connection may pass.
                let permanent = e.is_permanent() || e.is_response() || e.is_tls() || e.is_client();
                Err(if permanent {
                    Failure::permanent(message)
                } else {
                    Failure::transient(message)
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::test_notice;

    #[test]
    fn subject_and_body_name_the_incident() {
        let n = test_notice();
        assert_eq!(
            subject(&n),
            "[ccp] Incident opened: INC-20260101-ABCD on payment-service (critical)"
        );
        let t = text(&n);
        assert!(
            t.starts_with("Incident opened; ccp is diagnosing it\n\n"),
            "{t}"
        );
        assert!(t.contains("\nIncident:   INC-20260101-ABCD\n"), "{t}");
        assert!(t.contains("\nError rate: 15.0%\n"), "{t}");
        assert!(t.ends_with("\n-- \nccp incident cockpit\n"), "{t}");
    }

    #[test]
    fn message_has_sender_recipients_and_thread() {
        let n = test_notice();
        let from: Mailbox = "ccp <ccp@example.com>".parse().unwrap();
        let to: Vec<Mailbox> = ["a@example.com", "b@example.com"]
            .iter()
            .map(|a| a.parse().unwrap())
            .collect();
        let m = message(&n, &from, &to).unwrap();
        let raw = String::from_utf8(m.formatted()).unwrap();
        assert!(raw.contains("From: ccp <ccp@example.com>\r\n"), "{raw}");
        assert!(
            raw.contains("To: a@example.com, b@example.com\r\n"),
            "{raw}"
        );
        assert!(
            raw.contains("References: <INC-20260101-ABCD@ccp.incident>\r\n"),
            "{raw}"
        );
        assert!(
            raw.contains("Message-ID: <INC-20260101-ABCD.incident_opened."),
            "{raw}"
        );
        assert!(
            raw.contains("Subject: [ccp] Incident opened: INC-20260101-ABCD"),
            "{raw}"
        );
        assert_eq!(m.envelope().to().len(), 2);
    }

    #[test]
    fn bad_addresses_fail_at_start_naming_the_key() {
        let cfg = EmailConfig {
            smtp_host: "127.0.0.1".into(),
            smtp_port: 25,
            from: "not an address".into(),
            to: vec!["a@example.com".into()],
            starttls: false,
            username: None,
            password: None,
        };
        let e = EmailChannel::new(&cfg, Duration::from_secs(1))
            .err()
            .expect("bad from");
        assert!(e.to_string().contains("notifications.email.from"), "{e}");
    }
}
