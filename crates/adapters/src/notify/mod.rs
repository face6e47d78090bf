//! Notifiers: Slack, PagerDuty, Microsoft Teams, a generic webhook and e-mail, behind the core's
//! [`Notifier`] port. The pipeline decides *what* to tell ([`ccp_core::notice`]); this module
//! decides *how* each channel words it and gets it there: one thread and bounded queue per
//! channel ([`dispatch`]), retries with exponential backoff ([`retry`]), per-attempt timeouts,
//! and delivery results the pipeline audits as `notification_sent` events.

pub mod dispatch;
pub mod email;
pub mod http;
pub mod pagerduty;
pub mod retry;
pub mod slack;
pub mod teams;
pub mod webhook;
pub mod wording;

use ccp_config::NotificationsConfig;
use ccp_core::ports::{NoNotifier, Notifier};
use dispatch::Dispatcher;
use retry::RetryPolicy;
use std::sync::Arc;
use std::time::Duration;

/// Why the notifiers could not be set up. Each names the config key to fix and never the secret
/// it holds.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// A URL that is not http(s).
    #[error("`{key}` is not an http(s) URL ({shown})")]
    BadUrl {
        /// Config key.
        key: &'static str,
        /// The URL's origin only.
        shown: String,
    },
    /// An e-mail address that does not parse.
    #[error("`{key}`: `{address}` is not an e-mail address: {message}")]
    BadAddress {
        /// Config key.
        key: &'static str,
        /// The address as written.
        address: String,
        /// The parser's words.
        message: String,
    },
    /// The HTTP or SMTP client could not be built.
    #[error("notifications.{channel}: {message}")]
    Client {
        /// Channel name.
        channel: &'static str,
        /// What failed.
        message: String,
    },
    /// A channel thread could not be started.
    #[error("notifications: could not start the {channel} thread: {source}")]
    Thread {
        /// Channel name.
        channel: &'static str,
        /// The OS error.
        source: std::io::Error,
    },
}

/// The notifier the configuration describes: the channels it names behind one dispatcher, or
/// [`NoNotifier`] when it names none (the demo), so nothing changes for runs without channels.
pub fn from_config(cfg: &NotificationsConfig) -> Result<Arc<dyn Notifier>, NotifyError> {
    let timeout = Duration::from_millis(cfg.timeout_ms.max(1));
    let policy = RetryPolicy {
        attempts: cfg.attempts.max(1),
        base: Duration::from_millis(cfg.backoff_ms),
        max: Duration::from_millis(cfg.max_backoff_ms.max(cfg.backoff_ms)),
    };
    let mut d = Dispatcher::new(Duration::from_millis(cfg.final_wait_ms));
    let q = cfg.queue_size;
    let started = |channel: &'static str| move |source| NotifyError::Thread { channel, source };
    if let Some(c) = &cfg.slack {
        d.add(slack::channel(c, timeout)?, policy, q)
            .map_err(started("slack"))?;
    }
    if let Some(c) = &cfg.pagerduty {
        d.add(pagerduty::channel(c, timeout)?, policy, q)
            .map_err(started("pagerduty"))?;
    }
    if let Some(c) = &cfg.teams {
        d.add(teams::channel(c, timeout)?, policy, q)
            .map_err(started("teams"))?;
    }
    if let Some(c) = &cfg.webhook {
        d.add(webhook::channel(c, timeout)?, policy, q)
            .map_err(started("webhook"))?;
    }
    if let Some(c) = &cfg.email {
        d.add(email::EmailChannel::new(c, timeout)?, policy, q)
            .map_err(started("email"))?;
    }
    if d.channels().is_empty() {
        return Ok(Arc::new(NoNotifier));
    }
    tracing::info!("notifications go to: {}", d.channels().join(", "));
    Ok(Arc::new(d))
}

/// A notice every channel's tests render: an incident opened on payment-service.
#[cfg(test)]
pub(crate) fn test_notice() -> ccp_core::notice::Notification {
    use ccp_core::domain::Severity;
    use ccp_core::events::EventKind;
    use ccp_core::notice::{NoticeKind, Notification};
    Notification {
        kind: NoticeKind::Opened,
        incident: "INC-20260101-ABCD".into(),
        service: "payment-service".into(),
        severity: Severity::Critical,
        title: "HighErrorRate on payment-service: 15.0% errors <> &".into(),
        headline: "Incident opened; ccp is diagnosing it".into(),
        facts: vec![("Error rate".into(), "15.0%".into())],
        ts: "2026-01-01T10:00:00.000Z".into(),
        event: EventKind::IncidentOpened {
            service: "payment-service".into(),
            severity: Severity::Critical,
            title: "HighErrorRate on payment-service: 15.0% errors <> &".into(),
            error_rate: 0.15,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_channel_means_the_silent_default() {
        let n = from_config(&NotificationsConfig::default()).unwrap();
        assert_eq!(n.settle(), 0);
        assert!(n.deliveries().is_empty());
    }

    #[test]
    fn a_non_http_url_is_refused_without_showing_its_path() {
        let cfg = NotificationsConfig {
            slack: Some(ccp_config::SlackConfig {
                webhook_url: "ftp://hooks.example.com/services/SECRET".into(),
                channel: None,
            }),
            ..NotificationsConfig::default()
        };
        let e = from_config(&cfg).err().expect("refused");
        let shown = e.to_string();
        assert!(shown.contains("notifications.slack.webhook_url"), "{shown}");
        assert!(!shown.contains("SECRET"), "{shown}");
    }
}
