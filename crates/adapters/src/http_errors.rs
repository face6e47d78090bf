//! `logs.errors_url`: recent error reports (stack traces) fetched over HTTP, the input of code
//! localization when services are real. The contract is deliberately tiny (`GET
//! <url>?service=NAME` → `{"errors": ["<trace>", …]}`, newest first) so a few lines in front of
//! Loki, Elasticsearch or a crash reporter can serve it.

use crate::url_redact::redact_url;
use ccp_core::ports::{ErrorLogSource, PortError, PortResult};
use serde::Deserialize;
use std::time::Duration;

/// Reads error reports from an HTTP endpoint.
pub struct HttpErrorLog {
    url: String,
    http: reqwest::blocking::Client,
}

#[derive(Deserialize)]
struct Answer {
    errors: Vec<String>,
}

impl HttpErrorLog {
    /// A source for `url` with a per-request timeout.
    pub fn new(url: &str, timeout: Duration) -> Result<Self, PortError> {
        let http = crate::tls::blocking_client(timeout)
            .map_err(|e| PortError::new("logs", e.to_string()))?;
        Ok(Self {
            url: url.to_string(),
            http,
        })
    }
}

impl ErrorLogSource for HttpErrorLog {
    fn recent_errors(&self, service: &str) -> PortResult<Vec<String>> {
        let shown = redact_url(&self.url);
        let err = |m: String| PortError::new("logs", m);
        let resp = self
            .http
            .get(&self.url)
            .query(&[("service", service)])
            .send()
            .map_err(|e| err(format!("cannot reach the error log at {shown}: {e}")))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(err(format!(
                "the error log at {shown} answered HTTP {status} for {service}"
            )));
        }
        let a: Answer = resp.json().map_err(|e| {
            err(format!(
                "the error log at {shown} did not answer {{\"errors\": [...]}}: {e}"
            ))
        })?;
        Ok(a.errors)
    }
}

/// No error reports at all: localization then says there is no trace to work from, which is
/// the truth when nothing is configured.
pub struct NoErrorLog;

impl ErrorLogSource for NoErrorLog {
    fn recent_errors(&self, _service: &str) -> PortResult<Vec<String>> {
        Ok(Vec::new())
    }
}
