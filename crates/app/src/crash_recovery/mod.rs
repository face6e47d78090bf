//! Crash recovery (`ccp recover`, and the first thing every start does): rebuild what a killed
//! process left in flight from its audit log and bring each such incident to a safe end.
//!
//! The rules, in the order an on-call engineer would apply them:
//! - a log whose chain is broken (other than a torn last line) is not trusted: nothing is done
//!   and the exit is non-zero;
//! - a torn last line is quarantined and the fact recorded in the chain (see [`tail`]);
//! - an incident whose code may be serving traffic (a canary step, full deploy, verification,
//!   a rollback under way) is rolled back under a *new* fence — never re-deployed, since nobody
//!   verified what was running when the process died;
//! - one that had passed verification is closed as resolved;
//! - one that had deployed nothing is escalated: a human decides whether to run it again;
//! - one that had reached a terminal state but not written `finished` gets its `finished`.
//!
//! Locks the dead process held are not released (their owner tokens died with it): they expire
//! by TTL, and recovery waits for them when it needs the same lock.

pub mod scan;
pub mod tail;

use ccp_audit::{read_records, verify_file, BreakReason, FileAuditLog, VerifyReport};
use ccp_core::clock::rfc3339;
use ccp_core::domain::Outcome;
use ccp_core::events::{EndCause, Event, EventKind};
use ccp_core::locks::{Resource, Scope};
use ccp_core::ports::{DeployAction, DeployStep, Deployer, LockManager};
use ccp_core::state::State;
use scan::IncidentTrail;
use serde::Serialize;
use std::path::Path;
use std::sync::Arc;
use tail::TornTail;

/// Who recovery signs as in the audit log.
pub const ACTOR: &str = "ccp-recover";

/// What recovery needs besides the log.
pub struct RecoveryPorts {
    /// The deployer the configuration names; `None` for the simulated fleet, whose traffic
    /// lived inside the process that died.
    pub deployer: Option<Arc<dyn Deployer>>,
    /// Locks, to fence the rollback against anything still acting.
    pub locks: Arc<dyn LockManager>,
    /// Lease length for recovery's own lock.
    pub lock_ttl_ms: u64,
    /// How long to wait for a dead owner's lease to expire.
    pub lock_wait_ms: u64,
    /// fsync appends.
    pub fsync: bool,
}

/// What recovery did to one incident.
#[derive(Debug, Clone, Serialize)]
pub struct RecoveredIncident {
    /// Incident id.
    pub incident: String,
    /// State the log showed.
    pub found_state: Option<String>,
    /// Traffic share the new version had.
    pub deployed_percent: u8,
    /// What recovery did: `rolled_back`, `closed`, `escalated`, `finished`.
    pub action: String,
    /// Outcome recorded in the `finished` record.
    pub outcome: String,
    /// Why, in words.
    pub reason: String,
    /// Fence the rollback carried, when there was one.
    pub fence: Option<u64>,
    /// False when the incident could not be brought to a safe end.
    pub safe: bool,
}

/// The whole recovery.
#[derive(Debug, Clone, Serialize)]
pub struct RecoveryReport {
    /// The log recovered from.
    pub audit: String,
    /// Why nothing was done, when a live process is writing the log: its operations are
    /// running, not abandoned.
    pub skipped: Option<String>,
    /// A torn last line that was quarantined.
    pub torn_tail: Option<TornTail>,
    /// Incidents that were in flight.
    pub incidents: Vec<RecoveredIncident>,
    /// True when everything found was brought to a safe end.
    pub safe: bool,
}

impl RecoveryReport {
    /// One line per finding, for people.
    pub fn summary(&self) -> String {
        let mut out = Vec::new();
        if let Some(s) = &self.skipped {
            out.push(format!("{}: {s}", self.audit));
        }
        if let Some(t) = &self.torn_tail {
            out.push(format!(
                "torn last line (seq {}, {} bytes, sha256 {}) quarantined to {}",
                t.seq,
                t.bytes,
                t.sha256,
                t.quarantined_to.display()
            ));
        }
        for i in &self.incidents {
            out.push(format!(
                "{}: found in {}, {}% deployed → {} ({}): {}",
                i.incident,
                i.found_state.as_deref().unwrap_or("no state"),
                i.deployed_percent,
                i.action,
                i.outcome,
                i.reason
            ));
        }
        if out.is_empty() && self.skipped.is_none() {
            out.push(format!("{}: nothing in flight", self.audit));
        }
        out.join("\n")
    }
}

/// Why recovery could not even start.
#[derive(Debug, thiserror::Error)]
pub enum RecoverError {
    /// The chain is broken somewhere other than a torn last line.
    #[error("{path}: audit chain broken at seq {seq} (line {line}): {reason}; not recovering from a log that may have been tampered with — run `ccp audit verify` and investigate")]
    Untrusted {
        /// Log.
        path: String,
        /// Seq.
        seq: u64,
        /// Line.
        line: u64,
        /// Why.
        reason: BreakReason,
    },
    /// Quarantining the torn tail failed.
    #[error(transparent)]
    Tail(#[from] tail::TailError),
    /// Reading or appending the log failed.
    #[error(transparent)]
    Audit(#[from] ccp_audit::AuditError),
}

/// Recover every incident `audit` shows in flight. A missing log is nothing to recover.
pub fn recover(audit: &Path, ports: &RecoveryPorts) -> Result<RecoveryReport, RecoverError> {
    let mut report = RecoveryReport {
        audit: audit.display().to_string(),
        skipped: None,
        torn_tail: None,
        incidents: Vec::new(),
        safe: true,
    };
    if !audit.exists() {
        return Ok(report);
    }
    if ccp_audit::log_in_use(audit)? {
        report.skipped = Some(
            "another ccp process is writing this log; its operations are live, so nothing was recovered".into(),
        );
        return Ok(report);
    }
    match verify_file(audit)? {
        VerifyReport::Intact { .. } => {}
        VerifyReport::Broken {
            seq,
            reason: BreakReason::TornLine { .. },
            ..
        } => report.torn_tail = tail::quarantine_torn_tail(audit, seq)?,
        VerifyReport::Broken {
            seq, line, reason, ..
        } => {
            return Err(RecoverError::Untrusted {
                path: audit.display().to_string(),
                seq,
                line,
                reason,
            })
        }
    }
    let mut log = Writer {
        log: FileAuditLog::open(audit, ports.fsync)?,
    };
    if let Some(t) = &report.torn_tail {
        log.emit(
            "",
            EventKind::Note {
                message: format!(
                    "recovery: the last record (seq {}) was torn by a crash; its {} bytes (sha256 {}) were moved to {} and are not part of the chain",
                    t.seq,
                    t.bytes,
                    t.sha256,
                    t.quarantined_to.display()
                ),
            },
        )?;
    }
    let records = read_records(audit)?;
    for trail in scan::trails(&records).into_iter().filter(|t| t.in_flight()) {
        let r = recover_one(&mut log, &trail, ports)?;
        report.safe &= r.safe;
        report.incidents.push(r);
    }
    Ok(report)
}

/// Appends recovery's events to the chain in the pipeline's own envelope.
struct Writer {
    log: FileAuditLog,
}

impl Writer {
    fn emit(&mut self, incident: &str, kind: EventKind) -> Result<(), RecoverError> {
        let now = ccp_core::clock::wall_now_ms();
        let ev = Event {
            seq: 0,
            ts: rfc3339(now),
            kind,
            incident: incident.to_string(),
        };
        let mut data = serde_json::to_value(&ev).unwrap_or(serde_json::Value::Null);
        if let Some(obj) = data.as_object_mut() {
            obj.remove("seq");
            obj.remove("ts");
            obj.remove("type");
        }
        self.log
            .append(&ev.ts, ACTOR, ev.kind.type_name(), data)
            .map(|_| ())
            .map_err(RecoverError::from)
    }

    fn go(&mut self, incident: &str, from: State, to: State) -> Result<(), RecoverError> {
        self.emit(incident, EventKind::StateChanged { from, to })
    }

    fn finish(
        &mut self,
        incident: &str,
        outcome: Outcome,
        state: State,
        reason: &str,
    ) -> Result<(), RecoverError> {
        self.emit(
            incident,
            EventKind::Finished {
                outcome,
                state,
                reason: reason.to_string(),
                cause: Some(EndCause::CrashRecovery),
            },
        )
    }
}

fn recover_one(
    log: &mut Writer,
    t: &IncidentTrail,
    ports: &RecoveryPorts,
) -> Result<RecoveredIncident, RecoverError> {
    let id = t.incident.as_str();
    let found = t.last_state;
    let mut out = RecoveredIncident {
        incident: id.to_string(),
        found_state: found.map(|s| s.to_string()),
        deployed_percent: t.deployed_percent,
        action: String::new(),
        outcome: String::new(),
        reason: String::new(),
        fence: None,
        safe: true,
    };
    let live_code = found.is_some_and(|s| s.has_deployed_code() || s == State::Rollback)
        || t.deployed_percent > 0;
    let (action, outcome, reason) = match found {
        Some(s) if s.is_terminal() => {
            let outcome = terminal_outcome(s);
            let reason = format!("recovered after a crash: the run had already reached {s}");
            log.finish(id, outcome, s, &reason)?;
            ("finished", outcome, reason)
        }
        Some(State::Success) => {
            let reason =
                "recovered after a crash: verification had passed, so the incident is closed"
                    .to_string();
            log.go(id, State::Success, State::Closed)?;
            log.finish(id, Outcome::Resolved, State::Closed, &reason)?;
            ("closed", Outcome::Resolved, reason)
        }
        _ if live_code => {
            let (outcome, reason, fence, safe) = roll_back(log, t, ports)?;
            out.fence = fence;
            out.safe = safe;
            ("rolled_back", outcome, reason)
        }
        _ => {
            let at = found
                .map(|s| s.to_string())
                .unwrap_or_else(|| "DETECTED".into());
            let reason = format!(
                "recovered after a crash in {at}: nothing had been deployed; escalated so a human decides whether to run it again"
            );
            if let Some(s) = found.filter(|s| s.can_go_to(State::Escalated)) {
                log.go(id, s, State::Escalated)?;
            }
            log.finish(id, Outcome::Escalated, State::Escalated, &reason)?;
            ("escalated", Outcome::Escalated, reason)
        }
    };
    out.action = action.into();
    out.outcome = outcome.as_str().into();
    out.reason = reason;
    Ok(out)
}

fn terminal_outcome(s: State) -> Outcome {
    match s {
        State::Closed => Outcome::Resolved,
        State::RolledBack => Outcome::RolledBack,
        State::Rejected => Outcome::Rejected,
        State::GatesFailed => Outcome::Failed,
        _ => Outcome::Escalated,
    }
}

/// Roll the incident's service back under a fresh fence. Returns the outcome, reason, fence and
/// whether it ended safely.
fn roll_back(
    log: &mut Writer,
    t: &IncidentTrail,
    ports: &RecoveryPorts,
) -> Result<(Outcome, String, Option<u64>, bool), RecoverError> {
    let id = t.incident.as_str();
    let from = t.last_state.unwrap_or(State::Canary10);
    if from != State::Rollback {
        log.go(id, from, State::Rollback)?;
    }
    let Some(service) = t.service.clone() else {
        let reason = "recovered after a crash with code possibly live, but the log does not say which service: escalated, roll back by hand".to_string();
        log.go(id, State::Rollback, State::Escalated)?;
        log.finish(id, Outcome::Escalated, State::Escalated, &reason)?;
        return Ok((Outcome::Escalated, reason, None, false));
    };
    let owner = format!("{ACTOR}-{id}");
    let resource = Resource::new(Scope::Service, service.clone());
    let lease = match ports.locks.acquire(
        &resource,
        &owner,
        &[],
        ports.lock_ttl_ms,
        ports.lock_wait_ms.saturating_add(ports.lock_ttl_ms),
    ) {
        Ok(l) => l,
        Err(e) => {
            let reason = format!(
                "recovered after a crash in {from} with {}% on the new version, but could not take {resource} to roll back ({e}): escalated, roll back by hand",
                t.deployed_percent
            );
            log.go(id, State::Rollback, State::Escalated)?;
            log.finish(id, Outcome::Escalated, State::Escalated, &reason)?;
            return Ok((Outcome::Escalated, reason, None, false));
        }
    };
    // A lock service that restarted with the process hands out small fences again; the log
    // knows every fence the dead process used, so recovery's must be above them all.
    let fence = lease.fence.max(t.max_fence.saturating_add(1));
    log.emit(
        id,
        EventKind::LockAcquired {
            resource: resource.to_string(),
            owner: owner.clone(),
            fence,
            waited_ms: lease.waited_ms,
        },
    )?;
    let result = match &ports.deployer {
        Some(d) => {
            let step = DeployStep {
                action: DeployAction::Rollback,
                service: &service,
                plan: None,
                percent: 0,
                fence,
                version: "",
                incident: Some(id),
            };
            let report = d.run_step(&step);
            if let Some(ev) = report.event(&step) {
                log.emit(id, ev)?;
            }
            match report.error {
                None => Ok("traffic routed back to the previous version".to_string()),
                Some(e) => Err(e.message),
            }
        }
        None => Ok("the simulated fleet ran inside the process that died, so its canary traffic ended with it: nothing external to roll back".to_string()),
    };
    let released = ports.locks.release(&lease);
    let outcome = match result {
        Ok(what) => {
            let reason = format!(
                "recovered after a crash in {from} with {}% on the new version: {what}; the new version was never verified, so it is not re-deployed",
                t.deployed_percent
            );
            log.emit(
                id,
                EventKind::RolledBack {
                    service: service.clone(),
                    reason: reason.clone(),
                },
            )?;
            log.go(id, State::Rollback, State::RolledBack)?;
            (Outcome::RolledBack, reason, true)
        }
        Err(e) => {
            let reason = format!(
                "recovered after a crash in {from}, but the rollback failed ({e}): escalated, roll back by hand"
            );
            log.go(id, State::Rollback, State::Escalated)?;
            (Outcome::Escalated, reason, false)
        }
    };
    if released.is_ok() {
        log.emit(
            id,
            EventKind::LockReleased {
                resource: resource.to_string(),
                owner,
            },
        )?;
    }
    let state = if outcome.0 == Outcome::RolledBack {
        State::RolledBack
    } else {
        State::Escalated
    };
    log.finish(id, outcome.0, state, &outcome.1)?;
    Ok((outcome.0, outcome.1, Some(fence), outcome.2))
}
