//! The generic webhook: ccp's own JSON for tooling of your own (a ticket bot, a status page). The
//! body holds the notice in plain fields and the pipeline event it comes from in the Contract's
//! shape; with a secret, `X-CCP-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>` lets the
//! receiver check it came from this ccp, signed exactly the way ccp's own receivers verify.

use super::http::{HttpBody, HttpChannel};
use super::wording::label;
use super::NotifyError;
use ccp_config::WebhookNotifyConfig;
use ccp_core::notice::Notification;
use serde_json::{json, Map, Value};
use std::time::Duration;

/// Header carrying the body's signature.
pub const SIGNATURE_HEADER: &str = "X-CCP-Signature-256";

/// The body for `n`.
pub fn body(n: &Notification) -> Value {
    let facts: Map<String, Value> = n
        .facts
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    json!({
        "source": "ccp",
        "notice": n.kind.as_str(),
        "label": label(n.kind),
        "incident": n.incident,
        "service": n.service,
        "severity": n.severity.as_str(),
        "title": n.title,
        "headline": n.headline,
        "facts": facts,
        "ts": n.ts,
        "event": serde_json::to_value(&n.event).unwrap_or(Value::Null),
    })
}

/// The request for `n`: the body, signed when there is a secret.
pub fn request(n: &Notification, secret: Option<&str>) -> HttpBody {
    let mut req = HttpBody::json(&body(n));
    if let Some(secret) = secret.filter(|s| !s.is_empty()) {
        let sig = ccp_webhooks::sign_sha256_hex(secret.as_bytes(), &req.body);
        req.headers
            .push((SIGNATURE_HEADER, format!("sha256={sig}")));
    }
    req
}

/// The generic webhook channel from its configuration.
pub fn channel(cfg: &WebhookNotifyConfig, timeout: Duration) -> Result<HttpChannel, NotifyError> {
    let secret = cfg.secret.clone();
    HttpChannel::new(
        "webhook",
        "notifications.webhook.url",
        &cfg.url,
        timeout,
        Box::new(move |n| Some(request(n, secret.as_deref()))),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::test_notice;

    #[test]
    fn body_has_the_notice_and_the_contract_event() {
        let b = body(&test_notice());
        assert_eq!(b["source"], "ccp");
        assert_eq!(b["notice"], "incident_opened");
        assert_eq!(b["incident"], "INC-20260101-ABCD");
        assert_eq!(b["service"], "payment-service");
        assert_eq!(b["severity"], "critical");
        assert_eq!(b["facts"], json!({"Error rate": "15.0%"}));
        assert_eq!(b["event"]["type"], "incident_opened");
        assert_eq!(b["event"]["service"], "payment-service");
    }

    #[test]
    fn signed_only_with_a_secret() {
        let n = test_notice();
        assert!(request(&n, None).headers.is_empty());
        assert!(request(&n, Some("")).headers.is_empty());
        let r = request(&n, Some("s3cret"));
        let expected = format!(
            "sha256={}",
            ccp_webhooks::sign_sha256_hex(b"s3cret", &r.body)
        );
        assert_eq!(r.headers, vec![(SIGNATURE_HEADER, expected)]);
    }
}
