//! Ports: the traits through which the core reaches the world. Embedded adapters (simulated
//! fleet, in-memory graph, in-process locks, file audit) implement them for the zero-setup demo;
//! real adapters (Redis, Neo4j, Prometheus, git, scripts) implement the same traits. The core
//! never knows which it has.
//!
//! Ports are synchronous: the orchestrator runs on its own thread and blocks at clear points, which
//! keeps the core free of an async runtime and deterministic under the virtual clock. Adapters that
//! speak async protocols bridge internally.

use super::conflict::{GraphView, Operation};
use super::domain::{
    Alert, CheckKind, CheckReport, Cohort, Commit, FixCommit, FixPlan, Millis, PolicyInputs,
    Sample, ServiceNode,
};
use super::locks::{LockInfo, LockLease, Resource};

/// Error from any adapter. A string message is enough at this boundary: the pipeline's job is to
/// record it and fail safe, and the adapter already knows how to say what went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{port}: {message}")]
pub struct PortError {
    /// Which port failed (`metrics`, `deployer`, `locks`…).
    pub port: &'static str,
    /// What happened, in operator words.
    pub message: String,
}

impl PortError {
    /// Shorthand constructor.
    pub fn new(port: &'static str, message: impl Into<String>) -> Self {
        Self {
            port,
            message: message.into(),
        }
    }
}

/// Result alias for ports.
pub type PortResult<T> = Result<T, PortError>;

/// Per-second traffic numbers per service and cohort.
pub trait MetricsSource: Send + Sync {
    /// Names of the services this source can describe.
    fn services(&self) -> Vec<String>;
    /// Samples in `[from, to)`, one per second.
    fn samples(
        &self,
        service: &str,
        cohort: Cohort,
        from_ms: Millis,
        to_ms: Millis,
    ) -> PortResult<Vec<Sample>>;
}

/// Where alerts come from.
pub trait AlertSource: Send + Sync {
    /// Alerts firing at `now_ms` (empty when healthy).
    fn poll(&self, now_ms: Millis) -> PortResult<Vec<Alert>>;

    /// Alerts handed out earlier that have resolved since the last call, so the incident's
    /// timeline can say the symptom went away. Sources that cannot tell return nothing.
    fn resolved(&self) -> Vec<Alert> {
        Vec::new()
    }
}

/// Recent error reports (stack traces) per service: the input of code localization.
pub trait ErrorLogSource: Send + Sync {
    /// Recent error texts for a service, newest first.
    fn recent_errors(&self, service: &str) -> PortResult<Vec<String>>;
}

/// The service dependency graph. An edge `from → to` means *from calls to*; faults propagate from
/// `to` back to `from`.
pub trait DependencyGraph: Send + Sync {
    /// All services.
    fn nodes(&self) -> PortResult<Vec<ServiceNode>>;
    /// All call edges.
    fn edges(&self) -> PortResult<Vec<(String, String)>>;

    /// Direct callees of `service`.
    fn callees(&self, service: &str) -> PortResult<Vec<String>> {
        Ok(self
            .edges()?
            .into_iter()
            .filter(|(f, _)| f == service)
            .map(|(_, t)| t)
            .collect())
    }

    /// Direct callers of `service`.
    fn callers(&self, service: &str) -> PortResult<Vec<String>> {
        Ok(self
            .edges()?
            .into_iter()
            .filter(|(_, t)| t == service)
            .map(|(f, _)| f)
            .collect())
    }

    /// Every service that transitively calls `service`: who suffers if it breaks. Computed by the
    /// same pure code conflict detection uses, so gate and conflicts agree on the number.
    fn blast_radius(&self, service: &str) -> PortResult<Vec<String>> {
        Ok(GraphView::new(&self.edges()?)
            .blast_radius(service)
            .into_iter()
            .collect())
    }
}

/// The service source code and its history.
pub trait CodeRepo: Send + Sync {
    /// Directory of a service inside the repository (`payment-service`), if the repo holds it.
    fn service_dir(&self, service: &str) -> Option<String>;
    /// Repository-relative paths of all tracked files.
    fn files(&self) -> PortResult<Vec<String>>;
    /// Commits since `since_unix`, newest first.
    fn commits_since(&self, since_unix: i64) -> PortResult<Vec<Commit>>;
    /// The commit that last changed `file:line`.
    fn blame(&self, file: &str, line: u32) -> PortResult<Commit>;
    /// Current content of a file.
    fn read_file(&self, file: &str) -> PortResult<String>;

    /// Commit a patched file on its own branch without touching the working tree or the
    /// checked-out branch, so the fix is reviewable and deployable by commit id. `Ok(None)` means
    /// this repository does not record fixes (the default: read-only or simulated sources).
    fn commit_fix(&self, req: &FixCommitRequest) -> PortResult<Option<FixCommit>> {
        let _ = req;
        Ok(None)
    }
}

/// What [`CodeRepo::commit_fix`] is asked to commit. The core decides branch name and message so
/// every repository adapter records fixes the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixCommitRequest {
    /// Incident the fix belongs to.
    pub incident: String,
    /// Branch to create or update (`ccp/fix-<incident>`).
    pub branch: String,
    /// Repository-relative path of the patched file.
    pub file: String,
    /// Whole patched content of that file.
    pub new_source: String,
    /// Commit message: a summary line, a blank line, a body linking the incident.
    pub message: String,
    /// Commit time (seconds since the epoch, pipeline clock).
    pub time_unix: i64,
}

/// What a fix generator is given.
#[derive(Debug, Clone)]
pub struct FixRequest {
    /// Service being fixed.
    pub service: String,
    /// Repository-relative file.
    pub file: String,
    /// Faulting line.
    pub line: u32,
    /// Current file content.
    pub source: String,
    /// Exception type (`AttributeError`…).
    pub exception: String,
    /// Exception message.
    pub message: String,
}

/// Turns a localized fault into a patch.
pub trait FixGenerator: Send + Sync {
    /// Propose a fix, or say why no template applies.
    fn propose(&self, req: &FixRequest) -> PortResult<FixPlan>;
}

/// Runs a real check (syntax, unit tests, lint, security scan) on a patched copy of the service.
pub trait CheckRunner: Send + Sync {
    /// Run one check; failures to run are a failed report, not an error, so the gate can say why.
    fn run(&self, service: &str, plan: &FixPlan, kind: CheckKind) -> CheckReport;

    /// Whether this runner has a real check of `kind` for this patch. Lint and security have an
    /// in-process heuristic the pipeline falls back to when no real tool is configured; syntax
    /// and tests have none, so runners answer for them by default.
    fn handles(&self, service: &str, plan: &FixPlan, kind: CheckKind) -> bool {
        let _ = (service, plan);
        matches!(kind, CheckKind::Syntax | CheckKind::Tests)
    }
}

/// Ships a patch to production traffic.
pub trait Deployer: Send + Sync {
    /// Route `percent` of `service`'s traffic to the patched version. `fence` is the lock's
    /// fencing token; a deployer must refuse a token lower than one it has already seen.
    fn shift(&self, service: &str, plan: &FixPlan, percent: u8, fence: u64) -> PortResult<()>;
    /// Route all traffic back to the previous version.
    fn rollback(&self, service: &str, fence: u64) -> PortResult<()>;

    /// Run one deploy step with its full context and report what the tooling did. This is what
    /// the pipeline calls: external tools need more than `shift` carries (incident, version,
    /// whether this is the final promotion), and what they print belongs in the cockpit and the
    /// audit log. Failures are a failed report, not an error, so the output of a failing command
    /// is recorded too. The default forwards to [`Deployer::shift`] / [`Deployer::rollback`] and
    /// reports no command, which is all an in-process deployer has to say.
    fn run_step(&self, step: &DeployStep<'_>) -> StepReport {
        let result = match (step.action, step.plan) {
            (DeployAction::Rollback, _) => self.rollback(step.service, step.fence),
            (_, Some(plan)) => self.shift(step.service, plan, step.percent, step.fence),
            (action, None) => Err(PortError::new(
                "deployer",
                format!("`{}` needs the fix plan", action.as_str()),
            )),
        };
        StepReport::from_result(result)
    }
}

/// Which move a deploy step makes. Deploy tools distinguish them (Argo Rollouts sets a weight,
/// then promotes, or aborts), so the pipeline names the move instead of leaving tools to infer
/// it from the percentage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeployAction {
    /// Route a partial share of traffic (a canary step below 100 %) to the patched version.
    Shift,
    /// Send all traffic to the patched version: the last step.
    Promote,
    /// Route all traffic back to the previous version.
    Rollback,
}

impl DeployAction {
    /// The word tools receive (`CCP_ACTION`) and events record.
    pub fn as_str(self) -> &'static str {
        match self {
            DeployAction::Shift => "shift",
            DeployAction::Promote => "promote",
            DeployAction::Rollback => "rollback",
        }
    }

    /// The move that puts `percent` of traffic on the patched version: 100 % is a promotion.
    pub fn for_percent(percent: u8) -> Self {
        if percent >= 100 {
            DeployAction::Promote
        } else {
            DeployAction::Shift
        }
    }
}

/// One deploy step and everything a deploy tool may need to carry it out, so adapters never
/// reach back into the pipeline for context.
#[derive(Debug, Clone, Copy)]
pub struct DeployStep<'a> {
    /// What to do.
    pub action: DeployAction,
    /// Service to act on.
    pub service: &'a str,
    /// The patch being shipped (or rolled back); `None` only when a caller has none to give.
    pub plan: Option<&'a FixPlan>,
    /// Traffic share on the patched version after the step (0 for a rollback).
    pub percent: u8,
    /// Fencing token of the service lock; deployers refuse tokens older than one they saw.
    pub fence: u64,
    /// Stable id of the patch ([`patch_version`]), so tools can tag images and find what to undo.
    pub version: &'a str,
    /// Incident the step belongs to, when known, for the tool's own logs and annotations.
    pub incident: Option<&'a str>,
}

/// What one deploy step did, as far as the deployer can tell. An external tool's output is
/// evidence the operator needs when a step fails, and the audit log must say what actually ran.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepReport {
    /// Command that ran; `None` when no external tool was involved (simulated fleet) or the step
    /// was refused before anything ran (stale fence).
    pub command: Option<String>,
    /// Exit code of the command; `None` when it was killed by a signal, timed out or never ran.
    pub exit_code: Option<i32>,
    /// Wall-clock time the step took, ms.
    pub duration_ms: u64,
    /// The end of what the command printed (stdout and stderr interleaved), bounded.
    pub output: String,
    /// Why the step failed; `None` means it succeeded.
    pub error: Option<PortError>,
}

impl StepReport {
    /// The `deploy_step` event recording what the tool did for `step`, or `None` when no tool
    /// ran (an in-process deployer has nothing to add). One place builds it, so the pipeline and
    /// crash recovery record rollbacks identically.
    pub fn event(&self, step: &DeployStep<'_>) -> Option<super::events::EventKind> {
        let command = self.command.as_ref()?;
        Some(super::events::EventKind::DeployStep {
            action: step.action.as_str().to_string(),
            service: step.service.to_string(),
            percent: step.percent,
            fence: step.fence,
            version: step.version.to_string(),
            command: command.clone(),
            ok: self.ok(),
            exit_code: self.exit_code,
            duration_ms: self.duration_ms,
            output: self.output.clone(),
            error: self.error.as_ref().map(|e| e.message.clone()),
        })
    }

    /// A report that only says whether an in-process step worked.
    pub fn from_result(result: PortResult<()>) -> Self {
        StepReport {
            error: result.err(),
            ..StepReport::default()
        }
    }

    /// Whether the step succeeded.
    pub fn ok(&self) -> bool {
        self.error.is_none()
    }
}

/// The stable id of a patch that deploy tools receive as `CCP_VERSION`: the fix commit id when
/// the fix was committed, else the first 12 hex digits of SHA-256 over the patched file's whole
/// new content (`printf %s "$NEW_SOURCE" | sha256sum | cut -c1-12`). Content-derived, so the same
/// patch gets the same id in every run and on every machine, and tools can tag artifacts with it.
pub fn patch_version(plan: &FixPlan, commit: Option<&str>) -> String {
    use sha2::{Digest, Sha256};
    if let Some(c) = commit.map(str::trim).filter(|c| !c.is_empty()) {
        return c.to_string();
    }
    Sha256::digest(plan.new_source.as_bytes())
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Distributed or local locks with TTL, owner tokens and fencing.
pub trait LockManager: Send + Sync {
    /// Take `resource` for `owner`, waiting at most `wait_ms`. `held` lists what this owner already
    /// holds so the ordering rule can be enforced.
    fn acquire(
        &self,
        resource: &Resource,
        owner: &str,
        held: &[Resource],
        ttl_ms: u64,
        wait_ms: u64,
    ) -> PortResult<LockLease>;
    /// Extend a lease we still own; an error means the lease is lost.
    fn renew(&self, lease: &LockLease, ttl_ms: u64) -> PortResult<()>;
    /// Release a lease we own (compare-and-delete).
    fn release(&self, lease: &LockLease) -> PortResult<()>;
    /// Everything held right now.
    fn list(&self) -> PortResult<Vec<LockInfo>>;
}

/// Append-only audit trail.
pub trait AuditLog: Send {
    /// Append one record. The pipeline fails closed when this fails.
    fn append(
        &mut self,
        ts: &str,
        actor: &str,
        kind: &str,
        data: serde_json::Value,
    ) -> PortResult<()>;
}

/// Operating history that policy gates need.
pub trait PolicySource: Send + Sync {
    /// Inputs for a service right now.
    fn policy_inputs(&self, service: &str, now_ms: Millis) -> PortResult<PolicyInputs>;
}

/// Remediation operations in flight, shared by every pipeline that can act on the same fleet, so
/// each can see what the others are changing before it deploys (conflict detection). The embedded
/// default keeps them in memory for the pipelines of one process; a shared backend (Redis) makes
/// several cockpits see each other.
///
/// A pipeline registers itself *before* it reads [`OperationRegistry::active`]; with a
/// linearizable backend that guarantees that of two concurrent operations at least one sees the
/// other, which is all mutual exclusion through the conflict locks needs.
pub trait OperationRegistry: Send + Sync {
    /// Announce an operation (replaces an earlier entry for the same incident).
    fn register(&self, op: &Operation) -> PortResult<()>;
    /// Record that an operation moved to another pipeline state; unknown incidents are ignored,
    /// since the entry may already be gone.
    fn update_phase(&self, incident: &str, phase: &str) -> PortResult<()>;
    /// Withdraw an operation; unregistering an unknown incident is not an error, so every exit
    /// path can call it.
    fn unregister(&self, incident: &str) -> PortResult<()>;
    /// Every registered operation, oldest first.
    fn active(&self) -> PortResult<Vec<Operation>>;
}

/// Where incident notifications go (chat, paging, e-mail, webhooks). Delivery is slow and fails
/// in ways the pipeline must never wait on, so [`Notifier::notify`] only enqueues; the pipeline
/// collects what happened with [`Notifier::deliveries`] at its safe points and audits each
/// delivery as a `notification_sent` event.
pub trait Notifier: Send + Sync {
    /// Queue a notification for every channel. Must return at once: a full queue drops the
    /// notice (reported as a failed delivery), it never blocks.
    fn notify(&self, notice: &super::notice::Notification);

    /// Deliveries that finished (delivered or given up) since the last call, oldest first.
    fn deliveries(&self) -> Vec<Delivery>;

    /// Wait a bounded time for queued deliveries to finish, at the end of a run, so the audit
    /// log can say what reached people. Returns how many were still in flight when the wait
    /// ended. The default has nothing in flight.
    fn settle(&self) -> usize {
        0
    }
}

/// What became of one notification on one channel: the audit record of who was told what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Channel name (`slack`, `pagerduty`, `teams`, `email`, `webhook`).
    pub channel: String,
    /// Which notice (`incident_opened`, `finished`…).
    pub notice: String,
    /// Whether the receiver accepted it.
    pub ok: bool,
    /// Attempts made (0 when it was dropped before any, e.g. a full queue).
    pub attempts: u32,
    /// What happened, in operator words, never with a secret (no webhook path, no routing key).
    pub detail: String,
}

/// The embedded default: no channel configured, nobody to tell. Keeps the demo self-contained.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoNotifier;

impl Notifier for NoNotifier {
    fn notify(&self, _notice: &super::notice::Notification) {}

    fn deliveries(&self) -> Vec<Delivery> {
        Vec::new()
    }
}
