//! Turn audit records back into the pipeline Events they were written from, so a past run can be
//! replayed in the cockpit (`ccp audit replay`) exactly as it was watched live.

use super::AuditRecord;
use ccp_core::events::Event;
use serde_json::{Map, Value};

/// Events of one incident in an audit log, plus how many records could not be read as events
/// (written by a newer or older ccp, or not pipeline events at all).
#[derive(Debug, Clone, PartialEq)]
pub struct Replay {
    /// Incident id replayed.
    pub incident: String,
    /// Its events, in log order.
    pub events: Vec<Event>,
    /// Records of that incident that did not parse as events.
    pub skipped: usize,
}

/// Incident ids in order of first appearance.
pub fn incidents(records: &[AuditRecord]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in records {
        if let Some(id) = r.data.get("incident").and_then(Value::as_str) {
            if !id.is_empty() && !out.iter().any(|x| x == id) {
                out.push(id.to_string());
            }
        }
    }
    out
}

/// The events of `incident` (default: the last incident in the log). `None` when the log has
/// no such incident.
pub fn replay(records: &[AuditRecord], incident: Option<&str>) -> Option<Replay> {
    let ids = incidents(records);
    let id = match incident {
        Some(want) => ids.iter().find(|x| *x == want)?.clone(),
        None => ids.last()?.clone(),
    };
    let mut events = Vec::new();
    let mut skipped = 0;
    for r in records {
        if r.data.get("incident").and_then(Value::as_str) != Some(id.as_str()) {
            continue;
        }
        match event_of(r) {
            Some(e) => events.push(e),
            None => skipped += 1,
        }
    }
    Some(Replay {
        incident: id,
        events,
        skipped,
    })
}

/// One record as an Event: the record's `type`, `ts` and `seq` around its `data`.
pub fn event_of(r: &AuditRecord) -> Option<Event> {
    let mut obj: Map<String, Value> = r.data.as_object()?.clone();
    obj.insert("type".into(), Value::String(r.kind.clone()));
    obj.insert("ts".into(), Value::String(r.ts.clone()));
    obj.insert("seq".into(), Value::from(r.seq));
    serde_json::from_value(Value::Object(obj)).ok()
}
