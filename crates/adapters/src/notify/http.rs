//! JSON over HTTPS for the chat, paging and webhook channels: one POST per attempt, answers
//! sorted into delivered / worth retrying / permanent, and every message naming the receiver by
//! its origin only. A Slack or Teams webhook URL carries its secret in the path, so the path (and
//! any `user:password@`) never reaches an event, a log line or an error.

use super::dispatch::Channel;
use super::retry::{parse_retry_after, Failure};
use super::NotifyError;
use ccp_core::notice::Notification;
use std::time::Duration;

/// A rendered request body and its extra headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpBody {
    /// The JSON bytes exactly as sent (what a signature covers).
    pub body: Vec<u8>,
    /// Headers beside `Content-Type: application/json`.
    pub headers: Vec<(&'static str, String)>,
}

impl HttpBody {
    /// A JSON body with no extra header.
    pub fn json(value: &serde_json::Value) -> Self {
        HttpBody {
            body: value.to_string().into_bytes(),
            headers: Vec::new(),
        }
    }
}

/// Builds a channel's body for a notice; `None` when the channel skips that kind of notice.
pub type Render = Box<dyn Fn(&Notification) -> Option<HttpBody> + Send>;

/// A channel that POSTs JSON to one URL.
pub struct HttpChannel {
    name: &'static str,
    client: reqwest::blocking::Client,
    url: reqwest::Url,
    shown: String,
    timeout: Duration,
    render: Render,
}

impl HttpChannel {
    /// A channel `name` posting what `render` builds to `url`, each attempt bounded by `timeout`.
    /// Fails on a URL that is not http(s), naming the config key `key`.
    pub fn new(
        name: &'static str,
        key: &'static str,
        url: &str,
        timeout: Duration,
        render: Render,
    ) -> Result<Self, NotifyError> {
        let shown = origin(url);
        let parsed = reqwest::Url::parse(url.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| NotifyError::BadUrl {
                key,
                shown: shown.clone(),
            })?;
        let client = crate::tls::blocking_client(timeout).map_err(|e| NotifyError::Client {
            channel: name,
            message: e.without_url().to_string(),
        })?;
        Ok(HttpChannel {
            name,
            client,
            url: parsed,
            shown,
            timeout,
            render,
        })
    }
}

impl Channel for HttpChannel {
    type Message = HttpBody;

    fn name(&self) -> &'static str {
        self.name
    }

    fn render(&self, notice: &Notification) -> Option<Result<HttpBody, String>> {
        (self.render)(notice).map(Ok)
    }

    fn deliver(&self, message: &HttpBody) -> Result<String, Failure> {
        let mut req = self
            .client
            .post(self.url.clone())
            .header("Content-Type", "application/json")
            .header(
                "User-Agent",
                concat!("ccp/", env!("CARGO_PKG_VERSION"), " (notifications)"),
            )
            .body(message.body.clone());
        for (k, v) in &message.headers {
            req = req.header(*k, v.as_str());
        }
        match req.send() {
            Ok(resp) => judge_response(resp, &self.shown),
            Err(e) => Err(transport_failure(&e, &self.shown, self.timeout)),
        }
    }
}

/// Sort an answer: 2xx delivered; 408, 429 and 5xx worth another try (honouring `Retry-After`);
/// any other status will not change by retrying.
fn judge_response(resp: reqwest::blocking::Response, shown: &str) -> Result<String, Failure> {
    let status = resp.status();
    if status.is_success() {
        return Ok(format!("HTTP {} from {shown}", status.as_u16()));
    }
    let retry_after = resp
        .headers()
        .get("Retry-After")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_retry_after);
    // The receiver's own words help (Slack: `invalid_payload`, PagerDuty: `Event object is
    // invalid`); bounded, on one line.
    let said: String = resp
        .text()
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(200)
        .collect();
    let mut message = format!("HTTP {} from {shown}", status.as_u16());
    if !said.is_empty() {
        message.push_str(&format!(": {said}"));
    }
    let code = status.as_u16();
    let retryable = code == 408 || code == 429 || status.is_server_error();
    Err(Failure {
        message,
        retryable,
        retry_after,
    })
}

/// A request that got no answer: no connection, a timeout, a TLS failure. All may pass, except a
/// request reqwest could not even build.
fn transport_failure(e: &reqwest::Error, shown: &str, timeout: Duration) -> Failure {
    if e.is_timeout() {
        return Failure::transient(format!(
            "no answer from {shown} within {} ms",
            timeout.as_millis()
        ));
    }
    let mut cause = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    let what = if e.is_connect() {
        "could not connect to"
    } else {
        "request failed to"
    };
    let message = if cause.is_empty() {
        format!("{what} {shown}")
    } else {
        format!("{what} {shown}: {cause}")
    };
    if e.is_builder() {
        Failure::permanent(message)
    } else {
        Failure::transient(message)
    }
}

/// `scheme://host[:port]` of a URL, the only part of a notification URL safe to show.
pub fn origin(url: &str) -> String {
    let bare = crate::url_redact::redact_url(url.trim());
    match reqwest::Url::parse(&bare) {
        Ok(u) if u.host_str().is_some() => u.origin().ascii_serialization(),
        _ => "(unparseable URL)".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::origin;

    #[test]
    fn only_the_origin_of_a_webhook_url_is_shown() {
        assert_eq!(
            origin("https://hooks.slack.com/services/T000/B000/XXXXSECRET"),
            "https://hooks.slack.com"
        );
        assert_eq!(
            origin("http://user:pw@127.0.0.1:8080/hook?token=abc"),
            "http://127.0.0.1:8080"
        );
        assert_eq!(origin("not a url"), "(unparseable URL)");
    }
}
