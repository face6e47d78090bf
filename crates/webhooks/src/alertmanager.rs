//! Alerts from Alertmanager: its webhook payload (version 4), the same alerts as its
//! `/api/v2/alerts` endpoint lists them, and an inbox that turns both into the pipeline's
//! `AlertSource`. Pure: the HTTP front-end pushes deliveries in, and the poller in the adapters
//! crate pushes the API's list in; neither needs the other.
//!
//! Alertmanager re-sends a group on every `group_interval` and `repeat_interval`, so the inbox
//! deduplicates by fingerprint: an alert opens at most one incident however often it is sent.
//! An alert that resolves before the pipeline picked it up never opens one; one that resolves
//! later is handed to the pipeline once, so the incident's timeline says so.

use ccp_core::domain::{Alert, Millis, Severity};
use ccp_core::ports::{AlertSource, PortResult};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;
use time::format_description::well_known::Rfc3339;

/// One alert as Alertmanager sends it in a webhook or lists it in `/api/v2/alerts`.
#[derive(Debug, Clone, Deserialize)]
pub struct AmAlert {
    /// `firing` or `resolved` (webhook); the API puts the state under `status.state` instead.
    #[serde(default)]
    pub status: AmStatus,
    /// Identifying labels (`alertname`, `service`, `severity`…).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Descriptive annotations (`summary`, and optionally `value` / `threshold`).
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// RFC 3339 time the alert started firing.
    #[serde(default, rename = "startsAt")]
    pub starts_at: String,
    /// Alertmanager's hash of the label set; computed from the labels when absent.
    #[serde(default)]
    pub fingerprint: String,
}

/// `status` is a string in webhooks and an object in the v2 API; accept both.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(untagged)]
pub enum AmStatus {
    /// Webhook form.
    Text(String),
    /// API form: `{"state":"active"|"suppressed"|"unprocessed"}`.
    Object {
        /// The state.
        state: String,
    },
    /// Missing.
    #[default]
    Missing,
}

impl AmStatus {
    fn firing(&self) -> bool {
        match self {
            AmStatus::Text(s) => s == "firing",
            AmStatus::Object { state } => state == "active",
            AmStatus::Missing => true,
        }
    }
}

/// The webhook body (Alertmanager's `version: "4"`).
#[derive(Debug, Clone, Deserialize)]
pub struct WebhookPayload {
    /// Payload format version; only "4" exists.
    pub version: String,
    /// Group the alerts were sent as, for the audit trail.
    #[serde(default, rename = "groupKey")]
    pub group_key: String,
    /// Alerts Alertmanager left out because of `max_alerts`.
    #[serde(default, rename = "truncatedAlerts")]
    pub truncated_alerts: u64,
    /// Alerts in the group.
    pub alerts: Vec<AmAlert>,
}

/// Why a payload was refused (the HTTP layer turns this into 400 and changes nothing).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// Not JSON, or not this shape.
    #[error("not an Alertmanager webhook payload: {0}")]
    Malformed(String),
    /// A format version this receiver does not know.
    #[error("unsupported Alertmanager webhook version `{0}` (expected \"4\")")]
    Version(String),
}

/// Parse and check a webhook body; nothing is recorded until it has passed.
pub fn parse_webhook(body: &[u8]) -> Result<WebhookPayload, PayloadError> {
    let p: WebhookPayload =
        serde_json::from_slice(body).map_err(|e| PayloadError::Malformed(e.to_string()))?;
    if p.version != "4" {
        return Err(PayloadError::Version(p.version));
    }
    Ok(p)
}

/// How an alert's labels map to ccp's alert: which label names the service.
#[derive(Debug, Clone)]
pub struct LabelMapping {
    /// Label holding the service name (`service` by default; `job` or `app` are common).
    pub service_label: String,
    /// Services ccp can remediate (the fleet file's); alerts about others are ignored with a
    /// reason instead of opening an incident nothing can fix. Empty = accept every service.
    pub known_services: std::collections::BTreeSet<String>,
}

impl Default for LabelMapping {
    fn default() -> Self {
        Self {
            service_label: "service".into(),
            known_services: Default::default(),
        }
    }
}

fn severity_of(labels: &BTreeMap<String, String>) -> Severity {
    match labels
        .get("severity")
        .map(|s| s.to_ascii_lowercase())
        .as_deref()
    {
        Some("critical") | Some("page") | Some("p1") => Severity::Critical,
        Some("high") | Some("error") | Some("p2") => Severity::High,
        Some("warning") | Some("medium") | Some("p3") => Severity::Medium,
        Some("low") | Some("p4") => Severity::Low,
        Some("info") | Some("none") => Severity::Info,
        _ => Severity::High,
    }
}

fn number(annotations: &BTreeMap<String, String>, key: &str) -> f64 {
    annotations
        .get(key)
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite())
        .unwrap_or(0.0)
}

fn fingerprint_of(a: &AmAlert) -> String {
    if !a.fingerprint.is_empty() {
        return a.fingerprint.clone();
    }
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for (k, v) in &a.labels {
        h.update(k.as_bytes());
        h.update([0xff]);
        h.update(v.as_bytes());
        h.update([0xfe]);
    }
    h.finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// ccp's alert for an Alertmanager alert, or why it cannot be used.
pub fn to_alert(a: &AmAlert, map: &LabelMapping, now_ms: Millis) -> Result<Alert, String> {
    let name = a
        .labels
        .get("alertname")
        .cloned()
        .ok_or("alert has no `alertname` label")?;
    let service = a.labels.get(&map.service_label).cloned().ok_or_else(|| {
        format!(
            "alert `{name}` has no `{}` label, so ccp cannot tell which service to remediate (set alerts.service_label)",
            map.service_label
        )
    })?;
    if !map.known_services.is_empty() && !map.known_services.contains(&service) {
        return Err(format!(
            "alert `{name}` is about `{service}`, which is not in the fleet file, so ccp cannot remediate it"
        ));
    }
    let at_ms = time::OffsetDateTime::parse(&a.starts_at, &Rfc3339)
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as Millis)
        .unwrap_or(now_ms);
    Ok(Alert {
        name,
        service,
        severity: severity_of(&a.labels),
        value: number(&a.annotations, "value"),
        threshold: number(&a.annotations, "threshold"),
        source: "alertmanager".into(),
        at_ms,
    })
}

/// What one delivery did, returned to the sender (and logged).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Receipt {
    /// Firing alerts seen for the first time.
    pub new: usize,
    /// Firing alerts already known (re-sends).
    pub duplicate: usize,
    /// Alerts that resolved.
    pub resolved: usize,
    /// Alerts that could not be used, with why.
    pub ignored: Vec<String>,
}

#[derive(Debug, Clone)]
struct Entry {
    alert: Alert,
    firing: bool,
    delivered: bool,
}

/// Every alert an inbox was ever handed, by what became of it: the `/metrics` account that lets
/// a sender check nothing it posted was lost (`new + duplicate + resolved + ignored + refused`
/// is every alert delivered).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct InboxCounts {
    /// Firing alerts seen for the first time (or firing again after resolving).
    pub new: u64,
    /// Re-sends of alerts already firing.
    pub duplicate: u64,
    /// Resolutions, including of alerts never seen firing.
    pub resolved: u64,
    /// Alerts that could not be used (no service label, …).
    pub ignored: u64,
    /// Alerts in deliveries refused whole because the inbox was full (the sender retries).
    pub refused: u64,
}

#[derive(Debug, Default)]
struct InboxState {
    counts: InboxCounts,
    entries: HashMap<String, Entry>,
    /// Fingerprints of firing alerts not yet handed to the pipeline, oldest first.
    pending: VecDeque<String>,
    /// Alerts that resolved after the pipeline took them.
    resolved: Vec<Alert>,
}

/// Alerts an inbox tracks at most (firing, or resolved and not yet forgotten). Far above any
/// real fleet's; a sender that would go past it is asked to retry later instead of growing the
/// service's memory without bound.
pub const INBOX_CAPACITY: usize = 10_000;

/// The inbox is full: nothing of the delivery was recorded; retry later.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the alert inbox is full ({tracked} alerts tracked, at most {capacity}); nothing of this delivery was recorded, retry later")]
pub struct InboxFull {
    /// Alerts tracked now.
    pub tracked: usize,
    /// The bound.
    pub capacity: usize,
}

/// Alerts received from Alertmanager, waiting for the pipeline to poll them.
#[derive(Debug)]
pub struct AlertInbox {
    map: LabelMapping,
    state: Mutex<InboxState>,
    capacity: usize,
}

impl Default for AlertInbox {
    fn default() -> Self {
        Self::new(LabelMapping::default())
    }
}

impl AlertInbox {
    /// An empty inbox with a label mapping.
    pub fn new(map: LabelMapping) -> Self {
        Self::with_capacity(map, INBOX_CAPACITY)
    }

    /// An empty inbox tracking at most `capacity` alerts.
    pub fn with_capacity(map: LabelMapping, capacity: usize) -> Self {
        Self {
            map,
            state: Mutex::new(InboxState::default()),
            capacity,
        }
    }

    /// Record a batch of alerts (a webhook's or an API poll's). Re-sends are counted, not
    /// queued again. A batch that would take the inbox past its capacity is refused whole,
    /// after forgetting alerts that resolved (they need no tracking once delivered or moot).
    pub fn receive(&self, alerts: &[AmAlert], now_ms: Millis) -> Result<Receipt, InboxFull> {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let fresh: std::collections::HashSet<String> = alerts
            .iter()
            .map(fingerprint_of)
            .filter(|fp| !st.entries.contains_key(fp))
            .collect();
        if st.entries.len() + fresh.len() > self.capacity {
            // Resolved alerts need no tracking: delivered ones are closed through `resolved`,
            // undelivered ones are moot (`poll` skips what is gone or no longer firing).
            st.entries.retain(|_, e| e.firing);
            if st.entries.len() + fresh.len() > self.capacity {
                st.counts.refused += alerts.len() as u64;
                return Err(InboxFull {
                    tracked: st.entries.len(),
                    capacity: self.capacity,
                });
            }
        }
        let mut r = Receipt::default();
        for a in alerts {
            let fp = fingerprint_of(a);
            let alert = match to_alert(a, &self.map, now_ms) {
                Ok(al) => al,
                Err(why) => {
                    tracing::warn!(fingerprint = fp, "ignored Alertmanager alert: {why}");
                    r.ignored.push(why);
                    continue;
                }
            };
            let firing = a.status.firing();
            match st.entries.get_mut(&fp) {
                Some(e) if firing && e.firing => r.duplicate += 1,
                Some(e) if firing => {
                    // Fired again after resolving: a new episode.
                    e.firing = true;
                    e.delivered = false;
                    e.alert = alert;
                    st.pending.push_back(fp);
                    r.new += 1;
                }
                Some(e) => {
                    if e.firing {
                        e.firing = false;
                        r.resolved += 1;
                        if e.delivered {
                            st.resolved.push(alert);
                        }
                    }
                }
                None if firing => {
                    st.entries.insert(
                        fp.clone(),
                        Entry {
                            alert,
                            firing: true,
                            delivered: false,
                        },
                    );
                    st.pending.push_back(fp);
                    r.new += 1;
                }
                // Resolved and never seen firing: nothing to close.
                None => r.resolved += 1,
            }
        }
        let c = &mut st.counts;
        c.new += r.new as u64;
        c.duplicate += r.duplicate as u64;
        c.resolved += r.resolved as u64;
        c.ignored += r.ignored.len() as u64;
        Ok(r)
    }

    /// What became of every alert handed to the inbox so far.
    pub fn counts(&self) -> InboxCounts {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).counts
    }

    /// Alerts still firing that the pipeline has not taken yet.
    pub fn pending(&self) -> usize {
        let st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        st.pending
            .iter()
            .filter(|fp| {
                st.entries
                    .get(*fp)
                    .is_some_and(|e| e.firing && !e.delivered)
            })
            .count()
    }
}

impl AlertInbox {
    /// Take Alertmanager's whole list of active alerts (its `/api/v2/alerts`): each is received
    /// as if delivered by webhook, and every firing alert missing from the list has resolved.
    pub fn receive_active_list(&self, active: &[AmAlert], now_ms: Millis) {
        let active_fps: std::collections::HashSet<String> =
            active.iter().map(fingerprint_of).collect();
        let gone: Vec<AmAlert> = {
            let st = self.state.lock().unwrap_or_else(|p| p.into_inner());
            st.entries
                .iter()
                .filter(|(fp, e)| e.firing && !active_fps.contains(*fp))
                .map(|(fp, e)| AmAlert {
                    status: AmStatus::Text("resolved".into()),
                    labels: [
                        ("alertname".to_string(), e.alert.name.clone()),
                        (self.map.service_label.clone(), e.alert.service.clone()),
                    ]
                    .into_iter()
                    .collect(),
                    annotations: BTreeMap::new(),
                    starts_at: String::new(),
                    fingerprint: fp.clone(),
                })
                .collect()
        };
        for batch in [active, &gone[..]] {
            if let Err(e) = self.receive(batch, now_ms) {
                tracing::warn!("Alertmanager poll: {e}");
            }
        }
    }
}

impl AlertSource for AlertInbox {
    fn poll(&self, _now_ms: Millis) -> PortResult<Vec<Alert>> {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = Vec::new();
        while let Some(fp) = st.pending.pop_front() {
            if let Some(e) = st.entries.get_mut(&fp) {
                if e.firing && !e.delivered {
                    e.delivered = true;
                    out.push(e.alert.clone());
                }
            }
        }
        // Most severe first: the pipeline opens the incident on the first alert.
        out.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.at_ms.cmp(&b.at_ms)));
        Ok(out)
    }

    fn resolved(&self) -> Vec<Alert> {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        std::mem::take(&mut st.resolved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(status: &str, fp: &str, service: &str) -> String {
        format!(
            r#"{{"version":"4","groupKey":"{{}}:{{alertname=\"HighErrorRate\"}}","status":"{status}","receiver":"ccp",
            "alerts":[{{"status":"{status}","labels":{{"alertname":"HighErrorRate","service":"{service}","severity":"critical"}},
            "annotations":{{"value":"0.31","threshold":"0.02","summary":"errors"}},
            "startsAt":"2026-11-23T10:00:00Z","endsAt":"0001-01-01T00:00:00Z","fingerprint":"{fp}"}}]}}"#
        )
    }

    #[test]
    fn firing_alert_becomes_one_incident_alert() {
        let inbox = AlertInbox::default();
        let p = parse_webhook(payload("firing", "abc", "payment-service").as_bytes()).unwrap();
        assert_eq!(inbox.receive(&p.alerts, 0).expect("room").new, 1);
        // Re-sent on group_interval: not a second alert.
        let again = inbox.receive(&p.alerts, 0).expect("room");
        assert_eq!((again.new, again.duplicate), (0, 1));
        let got = inbox.poll(0).unwrap();
        assert_eq!(got.len(), 1);
        let a = &got[0];
        assert_eq!(
            (
                a.name.as_str(),
                a.service.as_str(),
                a.severity,
                a.value,
                a.threshold
            ),
            (
                "HighErrorRate",
                "payment-service",
                Severity::Critical,
                0.31,
                0.02
            )
        );
        assert_eq!(a.source, "alertmanager");
        assert_eq!(a.at_ms, 1_795_428_000_000);
        assert!(inbox.poll(0).unwrap().is_empty(), "delivered once");
    }

    #[test]
    fn resolved_before_pickup_never_opens_an_incident() {
        let inbox = AlertInbox::default();
        let f = parse_webhook(payload("firing", "a1", "api").as_bytes()).unwrap();
        let r = parse_webhook(payload("resolved", "a1", "api").as_bytes()).unwrap();
        inbox.receive(&f.alerts, 0).expect("room");
        assert_eq!(inbox.receive(&r.alerts, 0).expect("room").resolved, 1);
        assert!(inbox.poll(0).unwrap().is_empty());
        assert!(inbox.resolved().is_empty());
    }

    #[test]
    fn resolved_after_pickup_is_reported_once() {
        let inbox = AlertInbox::default();
        let f = parse_webhook(payload("firing", "a2", "api").as_bytes()).unwrap();
        let r = parse_webhook(payload("resolved", "a2", "api").as_bytes()).unwrap();
        inbox.receive(&f.alerts, 0).expect("room");
        assert_eq!(inbox.poll(0).unwrap().len(), 1);
        inbox.receive(&r.alerts, 0).expect("room");
        inbox.receive(&r.alerts, 0).expect("room");
        assert_eq!(inbox.resolved().len(), 1);
        assert!(inbox.resolved().is_empty());
        // Firing again is a new episode.
        assert_eq!(inbox.receive(&f.alerts, 0).expect("room").new, 1);
        assert_eq!(inbox.poll(0).unwrap().len(), 1);
    }

    #[test]
    fn bad_payloads_are_refused_before_anything_is_recorded() {
        assert!(matches!(
            parse_webhook(b"{"),
            Err(PayloadError::Malformed(_))
        ));
        assert!(matches!(
            parse_webhook(br#"{"version":"3","alerts":[]}"#),
            Err(PayloadError::Version(v)) if v == "3"
        ));
        assert!(matches!(
            parse_webhook(br#"{"version":"4"}"#),
            Err(PayloadError::Malformed(_))
        ));
    }

    #[test]
    fn alerts_without_a_service_are_ignored_with_a_reason() {
        let inbox = AlertInbox::default();
        let body = r#"{"version":"4","alerts":[{"status":"firing","labels":{"alertname":"X"}}]}"#;
        let p = parse_webhook(body.as_bytes()).unwrap();
        let r = inbox.receive(&p.alerts, 0).expect("room");
        assert_eq!(r.new, 0);
        assert!(
            r.ignored[0].contains("no `service` label"),
            "{:?}",
            r.ignored
        );
    }

    #[test]
    fn a_full_inbox_refuses_a_delivery_whole_after_forgetting_resolved_alerts() {
        let inbox = AlertInbox::with_capacity(LabelMapping::default(), 2);
        let a = parse_webhook(payload("firing", "a1", "api").as_bytes()).expect("a");
        let b = parse_webhook(payload("firing", "b1", "api").as_bytes()).expect("b");
        let c = parse_webhook(payload("firing", "c1", "api").as_bytes()).expect("c");
        inbox.receive(&a.alerts, 0).expect("room");
        inbox.receive(&b.alerts, 0).expect("room");
        let full = inbox.receive(&c.alerts, 0).expect_err("full");
        assert_eq!((full.tracked, full.capacity), (2, 2));
        assert_eq!(
            inbox.pending(),
            2,
            "nothing of the refused delivery was recorded"
        );
        // Re-sends of tracked alerts still count: they add nothing.
        assert_eq!(inbox.receive(&a.alerts, 0).expect("re-send").duplicate, 1);
        // Once a delivered alert resolves it is forgotten when room is needed.
        let _ = inbox.poll(0);
        let gone = parse_webhook(payload("resolved", "a1", "api").as_bytes()).expect("r");
        inbox.receive(&gone.alerts, 0).expect("room");
        assert_eq!(inbox.receive(&c.alerts, 0).expect("room now").new, 1);
        // Every alert handed over is in the account: a1, b1, c1 new; a1 once re-sent; a1
        // resolved; c1's first delivery refused.
        assert_eq!(
            inbox.counts(),
            InboxCounts {
                new: 3,
                duplicate: 1,
                resolved: 1,
                ignored: 0,
                refused: 1
            }
        );
    }

    #[test]
    fn a_resolved_undelivered_alert_is_forgotten_and_never_delivered() {
        let inbox = AlertInbox::with_capacity(LabelMapping::default(), 1);
        let a = parse_webhook(payload("firing", "a1", "api").as_bytes()).expect("a");
        let gone = parse_webhook(payload("resolved", "a1", "api").as_bytes()).expect("r");
        let b = parse_webhook(payload("firing", "b1", "web").as_bytes()).expect("b");
        inbox.receive(&a.alerts, 0).expect("room");
        inbox.receive(&gone.alerts, 0).expect("tracked");
        // Room is made by forgetting a1, which was never taken and is moot now.
        inbox.receive(&b.alerts, 0).expect("room after forgetting");
        let taken = inbox.poll(0).expect("poll");
        assert_eq!(
            taken.iter().map(|a| a.service.as_str()).collect::<Vec<_>>(),
            ["web"]
        );
        assert!(inbox.resolved().is_empty(), "a1 never reached a pipeline");
    }

    #[test]
    fn alerts_about_unknown_services_are_ignored_with_a_reason() {
        let inbox = AlertInbox::new(LabelMapping {
            known_services: ["api".to_string()].into_iter().collect(),
            ..LabelMapping::default()
        });
        let p = parse_webhook(payload("firing", "u1", "elsewhere").as_bytes()).unwrap();
        let r = inbox.receive(&p.alerts, 0).expect("room");
        assert_eq!(r.new, 0);
        assert!(
            r.ignored[0].contains("`elsewhere`, which is not in the fleet file"),
            "{:?}",
            r.ignored
        );
        let p = parse_webhook(payload("firing", "u2", "api").as_bytes()).unwrap();
        assert_eq!(inbox.receive(&p.alerts, 0).expect("room").new, 1);
    }

    #[test]
    fn fingerprint_falls_back_to_labels() {
        let mut a: AmAlert =
            serde_json::from_str(r#"{"labels":{"alertname":"X","service":"s"},"status":"firing"}"#)
                .unwrap();
        let f1 = fingerprint_of(&a);
        a.labels.insert("severity".into(), "low".into());
        assert_ne!(f1, fingerprint_of(&a));
        assert_eq!(f1.len(), 16);
    }
}
