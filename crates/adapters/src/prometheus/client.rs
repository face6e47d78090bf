//! A small blocking client for the Prometheus query API. Blocking because ports are synchronous
//! (the pipeline runs on its own thread); every request has a timeout so a hung server turns into
//! an error the pipeline can report instead of a frozen cockpit.

use super::api::{parse_response, ApiError, Series};
use crate::tls::blocking_client;
use crate::url_redact::redact_url;
use std::time::Duration;

/// Why a query failed, in words that say what to check.
#[derive(Debug, thiserror::Error)]
pub enum PromError {
    /// The server could not be reached or did not answer in time.
    #[error("cannot reach Prometheus at {url}: {detail}")]
    Unreachable {
        /// Base URL, without credentials.
        url: String,
        /// What the HTTP stack said.
        detail: String,
    },
    /// The server answered with something unusable.
    #[error("{0}")]
    Api(#[from] ApiError),
    /// The configured URL is not usable.
    #[error("bad Prometheus URL `{0}`: expected http(s)://host:port")]
    BadUrl(String),
}

/// A Prometheus server (or anything speaking its API: Thanos, Mimir, VictoriaMetrics).
#[derive(Clone)]
pub struct PromClient {
    base: String,
    http: reqwest::blocking::Client,
}

impl PromClient {
    /// A client for `base_url` (`http://127.0.0.1:9090`) with a per-request timeout.
    pub fn new(base_url: &str, timeout: Duration) -> Result<Self, PromError> {
        let base = base_url.trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(PromError::BadUrl(redact_url(base_url)));
        }
        let http = blocking_client(timeout).map_err(|e| PromError::Unreachable {
            url: redact_url(&base),
            detail: e.to_string(),
        })?;
        Ok(Self { base, http })
    }

    /// Base URL without credentials, for messages.
    pub fn display_url(&self) -> String {
        redact_url(&self.base)
    }

    fn get(&self, path: &str, params: &[(&str, String)]) -> Result<Vec<Series>, PromError> {
        let url = format!("{}{path}", self.base);
        let unreachable = |e: reqwest::Error| PromError::Unreachable {
            url: self.display_url(),
            detail: e.to_string(),
        };
        let resp = self
            .http
            .get(&url)
            .query(params)
            .send()
            .map_err(unreachable)?;
        let status = resp.status();
        let body = resp.bytes().map_err(unreachable)?;
        // Prometheus sends its JSON error document with 400/422/503; anything else without JSON is
        // a proxy or the wrong server, and the parser says so with the body's first bytes.
        match parse_response(&body) {
            Ok(s) => Ok(s),
            Err(e) if status.is_success() => Err(e.into()),
            Err(ApiError::Malformed(m)) => Err(PromError::Unreachable {
                url: self.display_url(),
                detail: format!("HTTP {status}: {m}"),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// Evaluate `expr` at every `step_s` seconds from `start` to `end` (unix seconds, inclusive).
    pub fn query_range(
        &self,
        expr: &str,
        start: f64,
        end: f64,
        step_s: f64,
    ) -> Result<Vec<Series>, PromError> {
        self.get(
            "/api/v1/query_range",
            &[
                ("query", expr.to_string()),
                ("start", format!("{start:.3}")),
                ("end", format!("{end:.3}")),
                ("step", format!("{step_s}")),
            ],
        )
    }

    /// Evaluate `expr` at one instant (unix seconds).
    pub fn query(&self, expr: &str, at: f64) -> Result<Vec<Series>, PromError> {
        self.get(
            "/api/v1/query",
            &[("query", expr.to_string()), ("time", format!("{at:.3}"))],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_urls_without_scheme() {
        assert!(matches!(
            PromClient::new("127.0.0.1:9090", Duration::from_secs(1)),
            Err(PromError::BadUrl(_))
        ));
    }

    #[test]
    fn closed_port_is_an_error_naming_the_server() {
        let c = PromClient::new("http://127.0.0.1:1", Duration::from_millis(500)).unwrap();
        let e = c.query("up", 0.0).unwrap_err().to_string();
        assert!(
            e.starts_with("cannot reach Prometheus at http://127.0.0.1:1"),
            "{e}"
        );
    }
}
