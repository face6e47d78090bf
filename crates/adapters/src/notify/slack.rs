//! Slack incoming webhooks: a `text` line (what notifications and old clients show) and Block
//! Kit `blocks` (header, the incident's title and what happened, a fields grid, a context line).
//! Slack answers 200 `ok`, 4xx with a word such as `invalid_payload` or `no_service`, and 429
//! with `Retry-After` when rate limited.

use super::http::{HttpBody, HttpChannel};
use super::wording::{clip, label, one_line, tone, Tone};
use super::NotifyError;
use ccp_config::SlackConfig;
use ccp_core::notice::Notification;
use serde_json::{json, Value};
use std::time::Duration;

/// Slack's limits: header text 150 characters, section text 3000, a field 2000, 10 fields.
const HEADER_MAX: usize = 150;
const TEXT_MAX: usize = 3000;
const FIELD_MAX: usize = 2000;
const FIELDS_MAX: usize = 10;

/// The webhook body for `n`; `channel` overrides the webhook's default channel (honoured by
/// legacy webhooks, ignored by app webhooks).
pub fn payload(n: &Notification, channel: Option<&str>) -> Value {
    let mark = match tone(n.kind) {
        Tone::Bad => ":red_circle:",
        Tone::Attention => ":warning:",
        Tone::Good => ":white_check_mark:",
        Tone::Info => ":information_source:",
    };
    let mut fields = vec![
        field("Service", &n.service),
        field("Severity", n.severity.as_str()),
    ];
    fields.extend(
        n.facts
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| field(k, v)),
    );
    fields.truncate(FIELDS_MAX);
    let mut body = json!({
        "text": one_line(n),
        "blocks": [
            {"type": "header",
             "text": {"type": "plain_text", "emoji": true,
                      "text": clip(&format!("{} {}", label(n.kind), n.incident), HEADER_MAX)}},
            {"type": "section",
             "text": {"type": "mrkdwn",
                      "text": clip(&format!("{mark} *{}*\n{}", escape(&n.title), escape(&n.headline)), TEXT_MAX)}},
            {"type": "section", "fields": fields},
            {"type": "context",
             "elements": [{"type": "mrkdwn",
                           "text": format!("ccp · {} · {}", escape(&n.incident), escape(&n.ts))}]},
        ],
    });
    if let (Some(ch), Some(obj)) = (
        channel.filter(|c| !c.trim().is_empty()),
        body.as_object_mut(),
    ) {
        obj.insert("channel".into(), Value::String(ch.trim().to_string()));
    }
    body
}

fn field(name: &str, value: &str) -> Value {
    json!({"type": "mrkdwn", "text": clip(&format!("*{}*\n{}", escape(name), escape(value)), FIELD_MAX)})
}

/// Slack's mrkdwn treats `&`, `<` and `>` as control characters; everything else is literal.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The Slack channel from its configuration.
pub fn channel(cfg: &SlackConfig, timeout: Duration) -> Result<HttpChannel, NotifyError> {
    let target = cfg.channel.clone();
    HttpChannel::new(
        "slack",
        "notifications.slack.webhook_url",
        &cfg.webhook_url,
        timeout,
        Box::new(move |n| Some(HttpBody::json(&payload(n, target.as_deref())))),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::test_notice;

    #[test]
    fn blocks_name_the_incident_service_and_moment() {
        let n = test_notice();
        let p = payload(&n, Some("#incidents"));
        assert_eq!(
            p["text"],
            "[ccp] Incident opened: INC-20260101-ABCD on payment-service (critical)"
        );
        assert_eq!(p["channel"], "#incidents");
        let blocks = p["blocks"].as_array().expect("blocks");
        assert_eq!(blocks.len(), 4);
        assert_eq!(blocks[0]["type"], "header");
        assert_eq!(blocks[0]["text"]["type"], "plain_text");
        assert_eq!(
            blocks[0]["text"]["text"],
            "Incident opened INC-20260101-ABCD"
        );
        assert_eq!(blocks[1]["type"], "section");
        assert_eq!(blocks[1]["text"]["type"], "mrkdwn");
        assert_eq!(
            blocks[1]["text"]["text"],
            ":red_circle: *HighErrorRate on payment-service: 15.0% errors &lt;&gt; &amp;*\nIncident opened; ccp is diagnosing it"
        );
        let fields = blocks[2]["fields"].as_array().expect("fields");
        assert_eq!(fields[0]["text"], "*Service*\npayment-service");
        assert_eq!(fields[1]["text"], "*Severity*\ncritical");
        assert_eq!(fields[2]["text"], "*Error rate*\n15.0%");
        assert_eq!(
            blocks[3]["elements"][0]["text"],
            "ccp · INC-20260101-ABCD · 2026-01-01T10:00:00.000Z"
        );
    }

    #[test]
    fn no_channel_key_without_an_override_and_limits_hold() {
        let mut n = test_notice();
        n.facts = (0..20)
            .map(|i| (format!("k{i}"), "x".repeat(5000)))
            .collect();
        let p = payload(&n, None);
        assert!(p.get("channel").is_none());
        let fields = p["blocks"][2]["fields"].as_array().expect("fields");
        assert_eq!(fields.len(), FIELDS_MAX);
        assert!(fields.iter().all(|f| f["text"]
            .as_str()
            .is_some_and(|t| t.chars().count() <= FIELD_MAX)));
    }
}
