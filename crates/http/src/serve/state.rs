//! What `ccp serve` knows, folded from the pipeline's events: the `/api/state` snapshot and the
//! counters behind `/metrics`. Pure (events in, numbers out), so both are tested without HTTP.

use ccp_core::clock::seconds_between;
use ccp_core::domain::Outcome;
use ccp_core::events::{Event, EventKind};
use ccp_core::exposition::{Exposition, Kind};
use ccp_core::projection::{IncidentState, Projection};
use ccp_core::state::State;
use ccp_webhooks::CiEvent;
use serde::Serialize;
use std::collections::BTreeMap;

/// One incident as the API shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct IncidentView {
    /// Incident id.
    pub id: String,
    /// Service it was opened on.
    pub service: String,
    /// Pipeline state now.
    pub state: String,
    /// Outcome once finished.
    pub outcome: Option<String>,
    /// Why it finished (or why it waits).
    pub reason: Option<String>,
    /// Reasons a human is being asked, while it waits for approval.
    pub awaiting_approval: Option<Vec<String>>,
    /// When it opened (RFC 3339).
    pub opened_at: String,
    /// When it finished (RFC 3339).
    pub finished_at: Option<String>,
    /// Different approvers the open request needs (2 under the two-person rule).
    pub approvals_required: Option<u8>,
    /// Who has approved the open request so far.
    pub approved_by: Vec<String>,
    /// When the open request expires and escalates (RFC 3339).
    pub expires_at: Option<String>,
    /// An operator paused it.
    pub paused: bool,
    /// Who answered its approval request, and how (`approve by alice`).
    pub decided: Option<String>,
}

/// Counters and gauges, named as the seed's KPIs with the `ccp_` prefix.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Kpis {
    /// Alerts received by pipelines.
    pub alerts_received: u64,
    /// Incidents opened.
    pub incidents_opened: u64,
    /// Finished incidents by outcome.
    pub finished: BTreeMap<String, u64>,
    /// Resolved without a human approving anything.
    pub auto_resolved: u64,
    /// Rollbacks performed.
    pub rollbacks: u64,
    /// Times an operation paused for a human.
    pub paused: u64,
    /// Sum and count of detection-to-resolution times of resolved incidents, seconds.
    pub resolution_seconds: (f64, u64),
    /// Sum and count of lock waits, seconds.
    pub lock_wait_seconds: (f64, u64),
    /// Locks held right now.
    pub active_locks: i64,
    /// Failed gates by gate name.
    pub gate_failures: BTreeMap<String, u64>,
    /// Authenticated CI/CD deliveries by `provider/kind`.
    pub ci_events: BTreeMap<String, u64>,
}

/// How many CI/CD deliveries `/api/state` keeps, newest last.
const CI_EVENTS_KEPT: usize = 100;

/// Everything `ccp serve` reports.
#[derive(Debug, Clone, Default)]
pub struct ServeState {
    /// Every incident, folded by core's projection.
    projection: Projection,
    /// The KPIs.
    pub kpis: Kpis,
    /// Recent authenticated CI/CD deliveries; failed pipelines and deployments among them open
    /// recovery cases (see `ccp_app::cicd_desk`).
    pub ci_events: Vec<CiEvent>,
    /// Stream id of the last event folded in.
    pub seen: u64,
}

/// One incident as the API shows it, from the projection's facts.
fn view_of(i: &IncidentState) -> IncidentView {
    IncidentView {
        id: i.id.clone(),
        service: i.service.clone(),
        state: i.state.unwrap_or(State::Detected).as_str().to_string(),
        outcome: i.outcome().map(|o| o.as_str().to_string()),
        reason: i.finished.as_ref().map(|f| f.reason.clone()),
        awaiting_approval: i.approval.as_ref().map(|a| a.reasons.clone()),
        opened_at: i.opened_ts.clone(),
        finished_at: i.finished.as_ref().map(|f| f.ts.clone()),
        approvals_required: i.approval.as_ref().map(|a| a.required),
        approved_by: i
            .approval
            .as_ref()
            .map(|a| a.approved_by.clone())
            .unwrap_or_default(),
        expires_at: i.approval.as_ref().and_then(|a| a.expires_at.clone()),
        paused: i.paused,
        decided: i
            .decision()
            .map(|d| format!("{} by {}", d.decision, d.actor)),
    }
}

/// One incident as the API shows it.
pub fn incident_view(i: &IncidentState) -> IncidentView {
    view_of(i)
}

impl ServeState {
    /// Incidents, oldest first.
    pub fn incidents(&self) -> Vec<IncidentView> {
        self.projection.incidents().iter().map(view_of).collect()
    }

    /// Whether `incident` is waiting for a human's answer now.
    pub fn awaits_approval(&self, incident: &str) -> bool {
        self.projection
            .get(incident)
            .is_some_and(|i| i.approval.is_some())
    }

    /// Record an authenticated CI/CD delivery.
    pub fn record_ci(&mut self, ev: CiEvent) {
        let kind = serde_json::to_value(ev.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        *self
            .kpis
            .ci_events
            .entry(format!("{}/{kind}", ev.provider.name()))
            .or_default() += 1;
        self.ci_events.push(ev);
        if self.ci_events.len() > CI_EVENTS_KEPT {
            self.ci_events.remove(0);
        }
    }

    /// Fold one event in: the incident's facts through the projection, the counters here.
    pub fn apply(&mut self, ev: &Event) {
        let Some(inc) = self.projection.apply(ev) else {
            if matches!(ev.kind, EventKind::AlertReceived { .. }) {
                self.kpis.alerts_received += 1;
            }
            return;
        };
        let k = &mut self.kpis;
        match &ev.kind {
            EventKind::AlertReceived { .. } => k.alerts_received += 1,
            EventKind::IncidentOpened { .. } => k.incidents_opened += 1,
            EventKind::AwaitingApproval { .. } => k.paused += 1,
            EventKind::LockAcquired { waited_ms, .. } => {
                k.active_locks += 1;
                k.lock_wait_seconds.0 += *waited_ms as f64 / 1000.0;
                k.lock_wait_seconds.1 += 1;
            }
            EventKind::LockReleased { .. } => k.active_locks = (k.active_locks - 1).max(0),
            EventKind::RolledBack { .. } => k.rollbacks += 1,
            EventKind::GateResult(g) if !g.passed => {
                *k.gate_failures.entry(g.gate.clone()).or_default() += 1;
            }
            EventKind::Finished { outcome, .. } => {
                *k.finished.entry(outcome.as_str().to_string()).or_default() += 1;
                if *outcome == Outcome::Resolved {
                    if let Some(s) = seconds_between(&inc.opened_ts, &ev.ts) {
                        k.resolution_seconds.0 += s;
                        k.resolution_seconds.1 += 1;
                        let human = inc
                            .decisions
                            .iter()
                            .any(|d| d.by_a_human() && d.decision == "approve");
                        if !human {
                            k.auto_resolved += 1;
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// `/metrics` in the Prometheus text format. `chain` is the audit log's verification (None
    /// when it could not be read).
    pub fn exposition(
        &self,
        chain: Option<&ccp_audit::VerifyReport>,
        pending_alerts: usize,
    ) -> String {
        let chain_valid = chain.map(|c| c.is_intact());
        let k = &self.kpis;
        let mut w = Exposition::default();
        w.single(
            "ccp_alerts_received_total",
            Kind::Counter,
            "Alerts the pipelines received.",
            k.alerts_received,
        );
        w.single(
            "ccp_incidents_opened_total",
            Kind::Counter,
            "Incidents opened.",
            k.incidents_opened,
        );
        w.family(
            "ccp_incidents_finished_total",
            Kind::Counter,
            "Incidents finished, by outcome.",
        );
        for o in ["resolved", "rolled_back", "escalated", "rejected", "failed"] {
            w.row(
                "ccp_incidents_finished_total",
                &[("outcome", o)],
                k.finished.get(o).copied().unwrap_or(0),
            );
        }
        w.single(
            "ccp_incidents_auto_resolved_total",
            Kind::Counter,
            "Incidents resolved without a human approving anything.",
            k.auto_resolved,
        );
        w.single(
            "ccp_rollbacks_total",
            Kind::Counter,
            "Rollbacks performed.",
            k.rollbacks,
        );
        w.single(
            "ccp_operations_paused_total",
            Kind::Counter,
            "Times an operation paused for human review.",
            k.paused,
        );
        w.summary(
            "ccp_incident_resolution_seconds",
            "Detection to resolution time of resolved incidents.",
            k.resolution_seconds,
        );
        w.summary(
            "ccp_lock_wait_seconds",
            "Time pipelines waited for locks.",
            k.lock_wait_seconds,
        );
        w.single(
            "ccp_active_locks",
            Kind::Gauge,
            "Locks held by this server's pipelines right now.",
            k.active_locks,
        );
        w.family(
            "ccp_gate_failures_total",
            Kind::Counter,
            "Failed safety gates, by gate.",
        );
        for (g, n) in &k.gate_failures {
            w.row("ccp_gate_failures_total", &[("gate", g.as_str())], n);
        }
        w.family(
            "ccp_ci_events_total",
            Kind::Counter,
            "Authenticated CI/CD webhook deliveries, by provider and kind.",
        );
        for (key, n) in &k.ci_events {
            let (provider, kind) = key.split_once('/').unwrap_or((key.as_str(), ""));
            w.row(
                "ccp_ci_events_total",
                &[("provider", provider), ("kind", kind)],
                n,
            );
        }
        w.single(
            "ccp_alerts_pending",
            Kind::Gauge,
            "Alertmanager alerts received but not yet taken by a pipeline.",
            pending_alerts,
        );
        if let Some(v) = chain_valid {
            w.single(
                "ccp_hash_chain_valid",
                Kind::Gauge,
                "1 when the audit log's hash chain verifies, 0 when it is broken.",
                u8::from(v),
            );
        }
        // The anchor, so monitoring keeps a copy elsewhere: a log cut at its end still chains,
        // and only a kept count and last hash show it (`ccp audit verify --anchor`).
        if let Some(ccp_audit::VerifyReport::Intact { records, last_hash }) = chain {
            w.single(
                "ccp_audit_records",
                Kind::Gauge,
                "Records in the audit log.",
                records,
            );
            w.family(
                "ccp_audit_last_hash_info",
                Kind::Gauge,
                "The audit log's last hash, as a label: keep it to check the log later.",
            );
            w.row("ccp_audit_last_hash_info", &[("hash", last_hash)], 1);
        }
        w.finish()
    }
}
