//! The one orchestrator. The cockpit, `ccp demo --headless`, `ccp serve` and the tests all run
//! this, differing only in the ports they plug in and the front-end reading the events.
//!
//! It runs on its own thread, walks the state machine stage by stage, emits every step as an
//! Event (audited first, then published) and obeys Commands at safe points. Anything unexpected
//! ends the run on a safe exit: before deploy → ESCALATED; with code in production → ROLLBACK.

mod analyze;
mod gating;
mod notify;
pub mod rollout;
mod scope;
mod settings;

pub use settings::{ApprovalPolicy, PipelineSettings, StagePacing, TwoPersonRule};

use super::bus::EventBus;
use super::clock::{rfc3339, Clock};
use super::conflict::{Conflict, Operation};
use super::domain::{CodeLocation, FixPlan, Incident, Outcome, PolicyInputs, RcaCandidate};
use super::events::{Command, EndCause, Event, EventKind};
use super::locks::LockLease;
use super::ports::{
    AlertSource, AuditLog, CheckRunner, CodeRepo, DependencyGraph, Deployer, ErrorLogSource,
    FixGenerator, LockManager, MetricsSource, OperationRegistry, PolicySource,
};
use super::state::{State, StateMachine};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The id an incident opened at `now_ms` gets: `INC-<date>-<4 hex from the seed>`, so a seeded
/// run is reproducible, with `-2`, `-3`… when `taken` (the audit log's ids, or the ids a service
/// running several pipelines has handed out) already holds it: two runs never share an id.
pub fn incident_id(seed: u64, now_ms: i64, taken: &std::collections::BTreeSet<String>) -> String {
    let base = format!(
        "INC-{}-{:04X}",
        super::clock::yyyymmdd(now_ms),
        (seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 48) & 0xFFFF
    );
    let mut id = base.clone();
    let mut n = 1;
    while taken.contains(&id) {
        n += 1;
        id = format!("{base}-{n}");
    }
    id
}

/// Everything the pipeline talks to.
pub struct Ports {
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Alerts.
    pub alerts: Arc<dyn AlertSource>,
    /// Traffic numbers.
    pub metrics: Arc<dyn MetricsSource>,
    /// Stack traces.
    pub errors: Arc<dyn ErrorLogSource>,
    /// Dependency graph.
    pub graph: Arc<dyn DependencyGraph>,
    /// Source and history.
    pub repo: Arc<dyn CodeRepo>,
    /// Fix templates.
    pub fixer: Arc<dyn FixGenerator>,
    /// Syntax and test runner.
    pub checks: Arc<dyn CheckRunner>,
    /// Traffic shifting.
    pub deployer: Arc<dyn Deployer>,
    /// Locks.
    pub locks: Arc<dyn LockManager>,
    /// Operating history for policy gates.
    pub policy: Arc<dyn PolicySource>,
    /// Operations in flight, shared with every pipeline acting on the same fleet (conflicts).
    pub registry: Arc<dyn OperationRegistry>,
    /// Audit trail.
    pub audit: Box<dyn AuditLog>,
}

/// What a finished run reports besides its events: the numbers benchmarks need.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// Final outcome.
    pub outcome: Outcome,
    /// Final state.
    pub state: State,
    /// Wall-clock compute time spent in each state, in order of visit.
    pub stage_wall: Vec<(State, Duration)>,
    /// Number of events emitted.
    pub events: u64,
}

/// Why a stage stopped the run early. Carries the safe exit to take.
#[derive(Debug)]
pub(crate) struct Stop {
    pub(crate) outcome: Outcome,
    pub(crate) reason: String,
    pub(crate) cause: EndCause,
}

impl Stop {
    pub(crate) fn new(outcome: Outcome, cause: EndCause, reason: impl Into<String>) -> Self {
        Self {
            outcome,
            reason: reason.into(),
            cause,
        }
    }
}

pub(crate) type Step<T> = Result<T, Stop>;

/// Facts learnt along the way, shared between stages.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    pub(crate) incident: Option<Incident>,
    /// The alerts the incident opened with (the storm, when callers alert too).
    pub(crate) alerts: Vec<crate::domain::Alert>,
    pub(crate) rca: Vec<RcaCandidate>,
    pub(crate) location: Option<CodeLocation>,
    pub(crate) plan: Option<FixPlan>,
    /// Policy inputs the gates judged, reused by the override rules.
    pub(crate) policy: Option<PolicyInputs>,
    /// The error-budget gate's reason when it failed (a soft gate: it pauses, never blocks).
    pub(crate) error_budget_exhausted: Option<String>,
    /// This run's operation as announced to the registry.
    pub(crate) operation: Option<Operation>,
    /// Whether this run's operation is in the registry (so exits know to withdraw it).
    pub(crate) registered: bool,
    /// Why the registry could not be used, if it failed: conflicts are then unknown.
    pub(crate) registry_error: Option<String>,
    /// Conflicts found right before the approval decision.
    pub(crate) conflicts: Vec<Conflict>,
    /// Operations in flight that registered before this one (the stand-down rule's order).
    pub(crate) earlier_operations: std::collections::BTreeSet<String>,
    pub(crate) leases: Vec<LockLease>,
    pub(crate) deployed_percent: u8,
    pub(crate) deploy_started_ms: i64,
    /// When the current canary step's traffic shift landed: its window starts there.
    pub(crate) step_started_ms: i64,
    pub(crate) strategy: Option<crate::domain::Strategy>,
    pub(crate) gates_summary: String,
    /// The fix as committed on `ccp/fix-<incident>` once the gates passed; its `commit` is the
    /// version the rollout stage hands a deployer (`CCP_VERSION`). `None` when the repository
    /// does not record fixes or committing failed (a note says why).
    pub(crate) fix_commit: Option<crate::domain::FixCommit>,
}

/// The orchestrator.
pub struct Pipeline {
    settings: PipelineSettings,
    ports: Ports,
    bus: EventBus,
    commands: Receiver<Command>,
    sm: StateMachine,
    seq: u64,
    incident_id: String,
    paused: bool,
    abort: Option<Stop>,
    found: Findings,
    stage_started: Instant,
    stage_wall: Vec<(State, Duration)>,
    /// Where notifications go; nowhere unless [`Pipeline::with_notifier`] says otherwise.
    notifier: Arc<dyn super::ports::Notifier>,
}

impl Pipeline {
    /// Wire a pipeline. Events go to `bus`; commands come from `commands`.
    pub fn new(
        settings: PipelineSettings,
        ports: Ports,
        bus: EventBus,
        commands: Receiver<Command>,
    ) -> Self {
        Self {
            settings,
            ports,
            bus,
            commands,
            sm: StateMachine::new(),
            seq: 0,
            incident_id: String::new(),
            paused: false,
            abort: None,
            found: Findings::default(),
            stage_started: Instant::now(),
            stage_wall: Vec::new(),
            notifier: Arc::new(super::ports::NoNotifier),
        }
    }

    /// Tell people outside the cockpit (chat, paging, e-mail) through `notifier`. Separate from
    /// [`Ports`] so the pipelines that need no notifications (tests, benchmarks) are wired as
    /// before.
    pub fn with_notifier(mut self, notifier: Arc<dyn super::ports::Notifier>) -> Self {
        self.notifier = notifier;
        self
    }

    /// Run one incident from detection to a terminal state.
    pub fn run(mut self) -> RunReport {
        let result = self.run_stages();
        let (outcome, reason, cause) = match result {
            Ok(()) => (
                Outcome::Resolved,
                "incident resolved and closed".to_string(),
                EndCause::Resolved,
            ),
            Err(stop) => (stop.outcome, stop.reason, stop.cause),
        };
        self.release_locks();
        self.unregister_operation();
        if !self.incident_id.is_empty() {
            // Best effort: the graph's colours after the run; the end must be reported regardless.
            let _ = self.emit_topology(self.settings.verification_window_ms as i64);
        }
        self.close_stage(self.sm.current());
        let state = self.sm.current();
        let finished = EventKind::Finished {
            outcome,
            state,
            reason,
            cause: Some(cause),
        };
        if self.incident_id.is_empty() {
            // No incident was opened, so nothing happened: front-ends learn that the run is over,
            // but an idle service must not fill the audit log, its metrics or anyone's pager
            // with runs that found nothing.
            let ev = self.envelope(finished);
            self.bus.publish(&ev);
        } else {
            // Deliveries are audited before `finished`, which stays the last event of the run.
            self.notify_and_settle(&finished);
            // Emitted even if the audit log broke: front-ends must learn the end.
            self.emit_lossy(finished);
        }
        RunReport {
            outcome,
            state,
            stage_wall: self.stage_wall,
            events: self.seq,
        }
    }

    fn run_stages(&mut self) -> Step<()> {
        self.detect()?;
        self.analyze()?;
        self.localize()?;
        self.plan_fix()?;
        self.run_gates()?;
        self.approve()?;
        self.lock()?;
        if let Err(stop) = self.roll_out() {
            return Err(self.roll_back(stop));
        }
        self.finish_success()
    }

    // ---- events -------------------------------------------------------------------------

    /// Audit, then publish. A failing audit log stops the run: we never act unrecorded.
    pub(crate) fn emit(&mut self, kind: EventKind) -> Step<()> {
        let actor = match &kind {
            EventKind::Approval { actor, .. } | EventKind::ApprovalCounted { actor, .. } => {
                actor.clone()
            }
            EventKind::PipelinePaused { by } | EventKind::PipelineResumed { by } => by.clone(),
            _ => "ccp".to_string(),
        };
        let ev = self.envelope(kind);
        let mut data = serde_json::to_value(&ev).unwrap_or(serde_json::Value::Null);
        if let Some(obj) = data.as_object_mut() {
            obj.remove("seq");
            obj.remove("ts");
            obj.remove("type");
        }
        if let Err(e) = self
            .ports
            .audit
            .append(&ev.ts, &actor, ev.kind.type_name(), data)
        {
            self.bus.publish(&ev);
            return Err(Stop::new(
                Outcome::Failed,
                EndCause::AuditUnavailable,
                format!("audit log append failed, stopping so nothing happens unrecorded: {e}"),
            ));
        }
        self.bus.publish(&ev);
        self.notify(&ev);
        Ok(())
    }

    fn emit_lossy(&mut self, kind: EventKind) {
        if self.emit(kind.clone()).is_err() {
            tracing::error!("could not audit final event {:?}", kind.type_name());
        }
    }

    fn envelope(&mut self, kind: EventKind) -> Event {
        let ev = Event {
            seq: self.seq,
            ts: rfc3339(self.ports.clock.now_ms()),
            kind,
            incident: self.incident_id.clone(),
        };
        self.seq += 1;
        ev
    }

    // ---- state --------------------------------------------------------------------------

    /// Move the state machine, recording refusal instead of applying an illegal move.
    pub(crate) fn go(&mut self, to: State) -> Step<()> {
        match self.sm.transition(to) {
            Ok(from) => {
                self.close_stage(from);
                if self.found.registered {
                    // Best effort: the phase only colours other operations' conflict messages.
                    if let Err(e) = self
                        .ports
                        .registry
                        .update_phase(&self.incident_id, to.as_str())
                    {
                        tracing::warn!("operations registry: could not record {to}: {e}");
                    }
                }
                self.emit(EventKind::StateChanged { from, to })
            }
            Err(e) => {
                let reason = e.to_string();
                self.emit(EventKind::TransitionRefused {
                    from: e.from,
                    to: e.to,
                    reason: reason.clone(),
                })?;
                Err(Stop::new(Outcome::Failed, EndCause::Internal, reason))
            }
        }
    }

    fn close_stage(&mut self, left: State) {
        let now = Instant::now();
        self.stage_wall
            .push((left, now.duration_since(self.stage_started)));
        self.stage_started = now;
    }

    /// Current state.
    pub(crate) fn state(&self) -> State {
        self.sm.current()
    }

    /// Let pipeline time pass for a stage, then honour commands.
    pub(crate) fn pace(&mut self, ms: u64) -> Step<()> {
        if ms > 0 {
            self.ports.clock.sleep_ms(ms);
        }
        self.checkpoint()
    }

    // ---- commands -----------------------------------------------------------------------

    /// Safe point: apply queued commands; block while paused; stop on abort.
    pub(crate) fn checkpoint(&mut self) -> Step<()> {
        while let Ok(cmd) = self.commands.try_recv() {
            self.apply_command(cmd)?;
        }
        if !self.incident_id.is_empty() {
            for alert in self.ports.alerts.resolved() {
                self.emit(EventKind::AlertResolved { alert })?;
            }
        }
        self.report_deliveries()?;
        while self.paused && self.abort.is_none() {
            match self.commands.recv_timeout(Duration::from_millis(200)) {
                Ok(cmd) => self.apply_command(cmd)?,
                Err(RecvTimeoutError::Timeout) => self.report_deliveries()?,
                Err(RecvTimeoutError::Disconnected) => {
                    self.paused = false;
                    self.emit(EventKind::Note {
                        message: "every front-end went away while paused: resuming".into(),
                    })?;
                }
            }
        }
        match self.abort.take() {
            Some(stop) => Err(stop),
            None => Ok(()),
        }
    }

    fn apply_command(&mut self, cmd: Command) -> Step<()> {
        match cmd {
            Command::Pause { actor } if !self.paused => {
                self.paused = true;
                self.emit(EventKind::PipelinePaused { by: actor })
            }
            Command::Resume { actor } if self.paused => {
                self.paused = false;
                self.emit(EventKind::PipelineResumed { by: actor })
            }
            Command::Abort { actor, reason } => {
                self.abort = Some(Stop::new(
                    Outcome::Escalated,
                    EndCause::Aborted {
                        actor: actor.clone(),
                    },
                    format!("aborted by {actor}: {reason}"),
                ));
                Ok(())
            }
            Command::Approve { actor, .. } | Command::Reject { actor, .. } => {
                self.emit(EventKind::Note {
                    message: format!(
                        "decision from {actor} ignored: nothing is awaiting approval in {}",
                        self.sm.current()
                    ),
                })
            }
            Command::Pause { .. } | Command::Resume { .. } => Ok(()),
        }
    }

    /// Wait for an approval decision, honouring pause/abort meanwhile. `None` on timeout.
    pub(crate) fn wait_for_decision(&mut self, timeout: Duration) -> Step<Option<Command>> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            match self
                .commands
                .recv_timeout(left.min(Duration::from_millis(200)))
            {
                Ok(cmd @ (Command::Approve { .. } | Command::Reject { .. })) => {
                    return Ok(Some(cmd))
                }
                Ok(Command::Abort { actor, reason }) => {
                    return Err(Stop::new(
                        Outcome::Escalated,
                        EndCause::Aborted {
                            actor: actor.clone(),
                        },
                        format!("aborted by {actor}: {reason}"),
                    ))
                }
                Ok(other) => self.apply_command(other)?,
                Err(RecvTimeoutError::Timeout) => self.report_deliveries()?,
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(Stop::new(
                        Outcome::Escalated,
                        EndCause::NoApprover,
                        "no front-end left to approve or reject: escalating to a human",
                    ))
                }
            }
        }
    }

    // ---- end of run ---------------------------------------------------------------------

    fn finish_success(&mut self) -> Step<()> {
        self.go(State::Success)?;
        self.release_locks();
        self.unregister_operation();
        self.pace(self.settings.pacing.close_ms)?;
        self.go(State::Closed)
    }

    /// Release every lease, newest first (reverse of the ordering rule).
    pub(crate) fn release_locks(&mut self) {
        while let Some(lease) = self.found.leases.pop() {
            let owner = self.owner();
            match self.ports.locks.release(&lease) {
                Ok(()) => self.emit_lossy(EventKind::LockReleased {
                    resource: lease.resource.to_string(),
                    owner,
                }),
                Err(e) => self.emit_lossy(EventKind::Note {
                    message: format!(
                        "could not release {} (it will expire by TTL): {e}",
                        lease.resource
                    ),
                }),
            }
        }
    }

    /// Withdraw this run's operation from the registry (idempotent, every exit calls it). A
    /// failure is noted, not fatal: the operation is over either way, and a stale entry only
    /// makes others more careful.
    pub(crate) fn unregister_operation(&mut self) {
        if !self.found.registered {
            return;
        }
        self.found.registered = false;
        if let Err(e) = self.ports.registry.unregister(&self.incident_id) {
            self.emit_lossy(EventKind::Note {
                message: format!(
                    "could not withdraw {} from the operations registry ({e}): others may see a stale conflict",
                    self.incident_id
                ),
            });
        }
    }

    /// Lock owner name for this run.
    pub(crate) fn owner(&self) -> String {
        format!("ccp-op-{}", self.incident_id)
    }
}
