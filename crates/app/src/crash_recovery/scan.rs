//! Reading what a dead process left in flight out of its audit log. The log is the only state
//! that survives `kill -9`: every event is appended (and fsync'd) before anything acts on it, so
//! the last state an incident's records show is at least as far as the process really got.

use ccp_audit::replay::event_of;
use ccp_audit::AuditRecord;
use ccp_core::projection::{IncidentState, Projection};
use ccp_core::state::State;

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

/// Every incident in the log with how far it got, in order of first appearance. The records are
/// read back as the events they were written from and folded by core's projection, the same fold
/// the cockpit and `ccp serve` use, so recovery acts on exactly what an operator saw.
pub fn trails(records: &[AuditRecord]) -> Vec<IncidentTrail> {
    let mut p = Projection::default();
    for r in records {
        if let Some(ev) = event_of(r) {
            p.apply(&ev);
        }
    }
    p.incidents().iter().map(trail_of).collect()
}

fn trail_of(i: &IncidentState) -> IncidentTrail {
    IncidentTrail {
        incident: i.id.clone(),
        service: Some(i.service.clone()).filter(|s| !s.is_empty()),
        // The last state entered; a `finished` record's final state counts too, and a finished
        // incident is not in flight whatever it says.
        last_state: i.state,
        finished: i.finished.is_some(),
        deployed_percent: i.rollout.deployed_percent,
        max_fence: i.max_fence,
        held_locks: i.locks.iter().map(|l| l.resource.clone()).collect(),
        last_seq: i.last_seq,
    }
}
