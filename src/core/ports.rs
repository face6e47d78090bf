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
    Alert, CheckKind, CheckReport, Cohort, Commit, FixPlan, Millis, PolicyInputs, Sample,
    ServiceNode,
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

/// Runs a real check (syntax, unit tests) on a patched copy of the service.
pub trait CheckRunner: Send + Sync {
    /// Run one check; failures to run are a failed report, not an error, so the gate can say why.
    fn run(&self, service: &str, plan: &FixPlan, kind: CheckKind) -> CheckReport;
}

/// Ships a patch to production traffic.
pub trait Deployer: Send + Sync {
    /// Route `percent` of `service`'s traffic to the patched version. `fence` is the lock's
    /// fencing token; a deployer must refuse a token lower than one it has already seen.
    fn shift(&self, service: &str, plan: &FixPlan, percent: u8, fence: u64) -> PortResult<()>;
    /// Route all traffic back to the previous version.
    fn rollback(&self, service: &str, fence: u64) -> PortResult<()>;
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
