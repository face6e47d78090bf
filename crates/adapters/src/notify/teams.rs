//! Microsoft Teams through a Workflows webhook ("When a Teams webhook request is received"): a
//! `message` whose one attachment is an Adaptive Card (schema 1.4). Microsoft is retiring the
//! Office 365 connectors and their MessageCard format, and Workflows accept Adaptive Cards only,
//! so this is the format that works with webhooks created today. A workflow answers 202 when it
//! accepted the request.

use super::http::{HttpBody, HttpChannel};
use super::wording::{label, tone, Tone};
use super::NotifyError;
use ccp_config::TeamsConfig;
use ccp_core::notice::Notification;
use serde_json::{json, Value};
use std::time::Duration;

/// The webhook body for `n`.
pub fn payload(n: &Notification) -> Value {
    let color = match tone(n.kind) {
        Tone::Bad => "Attention",
        Tone::Attention => "Warning",
        Tone::Good => "Good",
        Tone::Info => "Accent",
    };
    let mut facts = vec![
        json!({"title": "Incident", "value": n.incident}),
        json!({"title": "Service", "value": n.service}),
        json!({"title": "Severity", "value": n.severity.as_str()}),
    ];
    facts.extend(
        n.facts
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| json!({"title": k, "value": v})),
    );
    facts.push(json!({"title": "Time", "value": n.ts}));
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "msteams": {"width": "Full"},
                "body": [
                    {"type": "TextBlock", "size": "Medium", "weight": "Bolder", "wrap": true,
                     "color": color, "text": format!("{}: {}", label(n.kind), n.incident)},
                    {"type": "TextBlock", "wrap": true, "text": n.title},
                    {"type": "TextBlock", "wrap": true, "isSubtle": true, "text": n.headline},
                    {"type": "FactSet", "facts": facts},
                ],
            },
        }],
    })
}

/// The Teams channel from its configuration.
pub fn channel(cfg: &TeamsConfig, timeout: Duration) -> Result<HttpChannel, NotifyError> {
    HttpChannel::new(
        "teams",
        "notifications.teams.webhook_url",
        &cfg.webhook_url,
        timeout,
        Box::new(|n| Some(HttpBody::json(&payload(n)))),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::test_notice;

    #[test]
    fn an_adaptive_card_in_a_message() {
        let p = payload(&test_notice());
        assert_eq!(p["type"], "message");
        let att = &p["attachments"][0];
        assert_eq!(
            att["contentType"],
            "application/vnd.microsoft.card.adaptive"
        );
        assert_eq!(att["contentUrl"], Value::Null);
        let card = &att["content"];
        assert_eq!(card["type"], "AdaptiveCard");
        assert_eq!(card["version"], "1.4");
        assert_eq!(
            card["$schema"],
            "http://adaptivecards.io/schemas/adaptive-card.json"
        );
        assert_eq!(
            card["body"][0]["text"],
            "Incident opened: INC-20260101-ABCD"
        );
        assert_eq!(card["body"][0]["color"], "Attention");
        assert_eq!(
            card["body"][1]["text"],
            "HighErrorRate on payment-service: 15.0% errors <> &"
        );
        assert_eq!(card["body"][3]["type"], "FactSet");
        assert_eq!(
            card["body"][3]["facts"],
            json!([
                {"title": "Incident", "value": "INC-20260101-ABCD"},
                {"title": "Service", "value": "payment-service"},
                {"title": "Severity", "value": "critical"},
                {"title": "Error rate", "value": "15.0%"},
                {"title": "Time", "value": "2026-01-01T10:00:00.000Z"},
            ])
        );
    }
}
