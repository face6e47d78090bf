//! Alertmanager's `/api/v2/alerts`, polled: for setups where Alertmanager cannot reach ccp (no
//! webhook route) but ccp can reach it. The list feeds the same inbox the webhook feeds.

use ccp_core::domain::{Alert, Millis};
use ccp_core::ports::{AlertSource, PortError, PortResult};
use ccp_webhooks::alertmanager::{AlertInbox, AmAlert};

/// Reads Alertmanager's active alerts over its v2 API into an inbox at every poll, for setups
/// where Alertmanager cannot reach ccp (no webhook route) but ccp can reach it.
pub struct AlertmanagerPoller {
    base: String,
    http: reqwest::blocking::Client,
    inbox: std::sync::Arc<AlertInbox>,
}

impl AlertmanagerPoller {
    /// Poll `base_url` (`http://127.0.0.1:9093`) into `inbox`.
    pub fn new(
        base_url: &str,
        inbox: std::sync::Arc<AlertInbox>,
        timeout: std::time::Duration,
    ) -> Result<Self, PortError> {
        let http = crate::tls::blocking_client(timeout)
            .map_err(|e| PortError::new("alerts", e.to_string()))?;
        Ok(Self {
            base: base_url.trim_end_matches('/').to_string(),
            http,
            inbox,
        })
    }

    fn fetch(&self, now_ms: Millis) -> PortResult<()> {
        let url = format!(
            "{}/api/v2/alerts?active=true&silenced=false&inhibited=false",
            self.base
        );
        let where_ = crate::url_redact::redact_url(&self.base);
        let resp = self.http.get(&url).send().map_err(|e| {
            PortError::new(
                "alerts",
                format!("cannot reach Alertmanager at {where_}: {e}"),
            )
        })?;
        if !resp.status().is_success() {
            return Err(PortError::new(
                "alerts",
                format!("Alertmanager at {where_} answered HTTP {}", resp.status()),
            ));
        }
        let active: Vec<AmAlert> = resp.json().map_err(|e| {
            PortError::new(
                "alerts",
                format!("Alertmanager at {where_}: bad alert list: {e}"),
            )
        })?;
        self.inbox.receive_active_list(&active, now_ms);
        Ok(())
    }
}

impl AlertSource for AlertmanagerPoller {
    fn poll(&self, now_ms: Millis) -> PortResult<Vec<Alert>> {
        self.fetch(now_ms)?;
        self.inbox.poll(now_ms)
    }

    fn resolved(&self) -> Vec<Alert> {
        self.inbox.resolved()
    }
}
