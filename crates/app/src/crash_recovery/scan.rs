//! Reading what a dead process left in flight out of its audit log. The log is the only state
//! that survives `kill -9`: every event is appended (and fsync'd) before anything acts on it, so
//! the last state an incident's records show is at least as far as the process really got.

use ccp_audit::AuditRecord;
use ccp_core::state::State;
use serde_json::Value;
use std::collections::BTreeMap;

/// One incident's progress as the log shows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IncidentTrail {
    /// Incident id.
    pub incident: String,
    /// Service the incident is about (from `incident_opened` or a deploy record).
    pub service: Option<String>,
    /// Last state entered, if any `state_changed` was recorded.
    pub last_state: Option<State>,
    /// Whether the run's `finished` record is in the log.
    pub finished: bool,
    /// Highest traffic share the new version was given since the last rollback.
    pub deployed_percent: u8,
    /// Highest fencing token any of the run's locks carried.
    pub max_fence: u64,
    /// Resources locked and not released, as `scope:name`.
    pub held_locks: Vec<String>,
    /// Seq of the incident's last record.
    pub last_seq: u64,
}

impl IncidentTrail {
    /// The run did not end: there is something to recover.
    pub fn in_flight(&self) -> bool {
        !self.finished
    }
}

fn data_str<'a>(d: &'a Value, key: &str) -> Option<&'a str> {
    d.get(key).and_then(Value::as_str)
}

fn state_of(v: Option<&Value>) -> Option<State> {
    v.cloned().and_then(|v| serde_json::from_value(v).ok())
}

/// Every incident in the log with how far it got, in order of first appearance.
pub fn trails(records: &[AuditRecord]) -> Vec<IncidentTrail> {
    let mut order: Vec<String> = Vec::new();
    let mut by_id: BTreeMap<String, IncidentTrail> = BTreeMap::new();
    for r in records {
        let Some(id) = data_str(&r.data, "incident").filter(|s| !s.is_empty()) else {
            continue;
        };
        let t = by_id.entry(id.to_string()).or_insert_with(|| {
            order.push(id.to_string());
            IncidentTrail {
                incident: id.to_string(),
                ..IncidentTrail::default()
            }
        });
        t.last_seq = r.seq;
        let d = &r.data;
        match r.kind.as_str() {
            "incident_opened" => t.service = data_str(d, "service").map(str::to_string),
            "state_changed" => {
                if let Some(s) = state_of(d.get("to")) {
                    t.last_state = Some(s);
                }
            }
            "deployed" => {
                let pct = d.get("percent").and_then(Value::as_u64).unwrap_or(0);
                t.deployed_percent = t.deployed_percent.max(pct.min(100) as u8);
                if t.service.is_none() {
                    t.service = data_str(d, "service").map(str::to_string);
                }
            }
            "rolled_back" => t.deployed_percent = 0,
            "lock_acquired" => {
                if let Some(res) = data_str(d, "resource") {
                    t.held_locks.push(res.to_string());
                }
                let fence = d.get("fence").and_then(Value::as_u64).unwrap_or(0);
                t.max_fence = t.max_fence.max(fence);
            }
            "lock_released" => {
                if let Some(res) = data_str(d, "resource") {
                    if let Some(i) = t.held_locks.iter().position(|h| h == res) {
                        t.held_locks.remove(i);
                    }
                }
            }
            "finished" => t.finished = true,
            _ => {}
        }
    }
    order
        .into_iter()
        .filter_map(|id| by_id.remove(&id))
        .collect()
}
