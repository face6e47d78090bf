//! PagerDuty Events API v2 (`POST /v2/enqueue`). The incident id is the `dedup_key`, so every
//! event of one incident lands on one PagerDuty alert:
//!
//! | notice | `event_action` | why |
//! |---|---|---|
//! | incident opened | `trigger` | page the on-call rotation |
//! | fix approved or rejected | `acknowledge` | a human is on it: stop escalating |
//! | finished `resolved` | `resolve` | the fix is verified in production |
//! | finished `rolled_back`, `escalated`, `failed` | `trigger` | still broken, say why on the same alert |
//! | anything else | — | chat says it; a pager need not |
//!
//! A rolled-back fix does not resolve the alert: traffic is back on the version that failed, so
//! the incident is still open. PagerDuty answers 202 when it accepts an event, 400 for an
//! invalid one (not retried), 429 when throttled and 5xx when it struggles (both retried).

use super::http::{HttpBody, HttpChannel};
use super::wording::{clip, label};
use super::NotifyError;
use ccp_config::PagerDutyConfig;
use ccp_core::domain::{Outcome, Severity};
use ccp_core::notice::{NoticeKind, Notification};
use serde_json::{json, Map, Value};
use std::time::Duration;

/// PagerDuty's limit on `payload.summary`.
const SUMMARY_MAX: usize = 1024;

/// The Events API action a notice calls for, if any.
pub fn action(kind: NoticeKind) -> Option<&'static str> {
    match kind {
        NoticeKind::Opened => Some("trigger"),
        NoticeKind::Approved | NoticeKind::Rejected => Some("acknowledge"),
        NoticeKind::Finished(Outcome::Resolved) => Some("resolve"),
        NoticeKind::Finished(Outcome::RolledBack | Outcome::Escalated | Outcome::Failed) => {
            Some("trigger")
        }
        NoticeKind::Finished(Outcome::Rejected)
        | NoticeKind::AwaitingApproval
        | NoticeKind::RolledBack => None,
    }
}

/// PagerDuty's four severities from ours.
fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::High => "error",
        Severity::Medium | Severity::Low => "warning",
        Severity::Info => "info",
    }
}

/// The Events API v2 body for `n`, or `None` when this notice does not page. Acknowledge and
/// resolve carry only the key and the action, as the API asks; triggers carry the payload.
pub fn event(n: &Notification, routing_key: &str) -> Option<Value> {
    let action = action(n.kind)?;
    let mut body = json!({
        "routing_key": routing_key,
        "event_action": action,
        "dedup_key": n.incident,
    });
    if action == "trigger" {
        let mut details = Map::new();
        details.insert("incident".into(), json!(n.incident));
        details.insert("notice".into(), json!(n.kind.as_str()));
        details.insert("what_happened".into(), json!(n.headline));
        for (k, v) in &n.facts {
            details.insert(k.clone(), json!(v));
        }
        let summary = if n.kind == NoticeKind::Opened {
            format!("{} [{}]", n.title, n.incident)
        } else {
            format!("{}: {} [{}]", label(n.kind), n.title, n.incident)
        };
        if let Some(obj) = body.as_object_mut() {
            obj.insert("client".into(), json!("ccp"));
            obj.insert(
                "payload".into(),
                json!({
                    "summary": clip(&summary, SUMMARY_MAX),
                    "source": n.service,
                    "severity": severity(n.severity),
                    "timestamp": n.ts,
                    "component": n.service,
                    "group": "ccp",
                    "class": "incident",
                    "custom_details": details,
                }),
            );
        }
    }
    Some(body)
}

/// The PagerDuty channel from its configuration.
pub fn channel(cfg: &PagerDutyConfig, timeout: Duration) -> Result<HttpChannel, NotifyError> {
    let key = cfg.routing_key.trim().to_string();
    HttpChannel::new(
        "pagerduty",
        "notifications.pagerduty.api_url",
        &cfg.api_url,
        timeout,
        Box::new(move |n| event(n, &key).map(|v| HttpBody::json(&v))),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::test_notice;

    #[test]
    fn trigger_has_the_v2_shape() {
        let n = test_notice();
        let e = event(&n, "R0UTING").expect("opened pages");
        assert_eq!(
            e,
            json!({
                "routing_key": "R0UTING",
                "event_action": "trigger",
                "dedup_key": "INC-20260101-ABCD",
                "client": "ccp",
                "payload": {
                    "summary": "HighErrorRate on payment-service: 15.0% errors <> & [INC-20260101-ABCD]",
                    "source": "payment-service",
                    "severity": "critical",
                    "timestamp": "2026-01-01T10:00:00.000Z",
                    "component": "payment-service",
                    "group": "ccp",
                    "class": "incident",
                    "custom_details": {
                        "incident": "INC-20260101-ABCD",
                        "notice": "incident_opened",
                        "what_happened": "Incident opened; ccp is diagnosing it",
                        "Error rate": "15.0%"
                    }
                }
            })
        );
    }

    #[test]
    fn acknowledge_and_resolve_carry_only_key_and_action() {
        let mut n = test_notice();
        n.kind = NoticeKind::Approved;
        assert_eq!(
            event(&n, "k"),
            Some(
                json!({"routing_key": "k", "event_action": "acknowledge", "dedup_key": "INC-20260101-ABCD"})
            )
        );
        n.kind = NoticeKind::Finished(Outcome::Resolved);
        assert_eq!(
            event(&n, "k"),
            Some(
                json!({"routing_key": "k", "event_action": "resolve", "dedup_key": "INC-20260101-ABCD"})
            )
        );
    }

    #[test]
    fn unresolved_ends_retrigger_and_progress_does_not_page() {
        let mut n = test_notice();
        n.kind = NoticeKind::Finished(Outcome::RolledBack);
        let e = event(&n, "k").expect("re-trigger");
        assert_eq!(e["event_action"], "trigger");
        assert!(e["payload"]["summary"]
            .as_str()
            .is_some_and(|s| s.starts_with("Rolled back: ")));
        for quiet in [
            NoticeKind::AwaitingApproval,
            NoticeKind::RolledBack,
            NoticeKind::Finished(Outcome::Rejected),
        ] {
            n.kind = quiet;
            assert_eq!(event(&n, "k"), None, "{quiet:?}");
        }
        assert_eq!(severity(Severity::High), "error");
        assert_eq!(severity(Severity::Low), "warning");
    }
}
