//! Events (pipeline → front-ends, audit log) and Commands (front-ends → pipeline). Their JSON shape
//! is the Contract: `{"seq":N,"ts":"…","type":"snake_case","incident":"INC-…", …}`.

use super::domain::{Alert, Outcome, RcaCandidate, ServiceHealth, Severity, WindowStats};
use super::explain::Justification;
use super::state::State;
use super::stats::judge::MetricResult;
use serde::{Deserialize, Serialize};

/// One event with its envelope. `seq` counts events within a run; the audit log keeps its own
/// sequence because one log spans many runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Position in this run's stream, from 0.
    pub seq: u64,
    /// RFC 3339 time on the pipeline clock.
    pub ts: String,
    /// The payload; flattened so `type` sits beside `seq` as the Contract shows.
    #[serde(flatten)]
    pub kind: EventKind,
    /// Incident id (empty before one is opened).
    pub incident: String,
}

/// Result of one gate, shared by events and the approval dialog's summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateOutcome {
    /// Gate name (`syntax`, `tests`, `error_budget`…).
    pub gate: String,
    /// Pass or fail.
    pub passed: bool,
    /// Observed value.
    pub value: serde_json::Value,
    /// Threshold it was held to.
    pub threshold: serde_json::Value,
    /// Why, in words.
    pub reason: String,
    /// What a real check printed (bounded, head and tail kept), for the cockpit's gate details
    /// and the audit log; absent for gates computed in-process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
}
/// Every kind of event, tagged by `type` in snake_case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// An alert arrived from a source.
    AlertReceived { alert: Alert },
    /// An alert the incident was opened on (or one that arrived with it) stopped firing: the
    /// symptom went away, which the person approving the fix should know.
    AlertResolved { alert: Alert },
    /// An incident was opened for it.
    IncidentOpened {
        service: String,
        severity: Severity,
        title: String,
        error_rate: f64,
    },
    /// The service graph with each service's recent health, so front-ends can draw it without
    /// touching the graph adapter. Sent when the incident opens and again at the end.
    Topology {
        /// Every service with its health over the last detection window.
        services: Vec<ServiceHealth>,
        /// Calls, caller → callee.
        edges: Vec<(String, String)>,
    },
    /// The state machine moved.
    StateChanged { from: State, to: State },
    /// Someone asked for an illegal move; it was refused and the state is unchanged.
    TransitionRefused {
        from: State,
        to: State,
        reason: String,
    },
    /// Root-cause candidates, best first.
    RcaRanked { candidates: Vec<RcaCandidate> },
    /// The fault was localized in code.
    Localized {
        file: String,
        line: u32,
        function: String,
        code: Option<String>,
        exception: String,
        message: String,
        blame_commit: Option<String>,
        blame_author: Option<String>,
    },
    /// A fix was proposed.
    FixProposed {
        template: String,
        file: String,
        line: u32,
        description: String,
        lines_added: u32,
        lines_removed: u32,
        diff: String,
        /// The other templates' answers (a candidate with its confidence, or why it declined).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        alternatives: Vec<String>,
    },
    /// One gate's result.
    GateResult(GateOutcome),
    /// The fix that passed the gates was committed on its own branch; `commit` is the version a
    /// deployer ships and the audit log's link from incident to code.
    FixCommitted {
        branch: String,
        commit: String,
        file: String,
        reused: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pushed_to: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        push_error: Option<String>,
    },
    /// A decision and its justification record.
    Decision { justification: Justification },
    /// The run is waiting for a human.
    AwaitingApproval {
        reasons: Vec<String>,
        /// The same reasons as facts, one per reason, in the same order (absent in logs from
        /// before they were recorded).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        rules: Vec<PauseRule>,
        risk_score: f64,
        strategy: String,
        diff_summary: String,
        gates_summary: String,
        /// Different approvers the decision needs: 2 under the two-person rule for CRITICAL
        /// incidents (absent, meaning 1, in logs from before the rule).
        #[serde(default = "one", skip_serializing_if = "is_one")]
        approvals_required: u8,
        /// When the request expires and the run escalates (RFC 3339 on the pipeline clock), so
        /// every cockpit can show the same countdown.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expires_at: Option<String>,
    },
    /// One approval of several the two-person rule needs: the request stays open, and every
    /// cockpit shows who has approved so far.
    ApprovalCounted {
        actor: String,
        comment: String,
        given: u8,
        required: u8,
    },
    /// A human (or `auto`) decided.
    Approval {
        decision: String,
        actor: String,
        comment: String,
    },
    /// A lock was taken.
    LockAcquired {
        resource: String,
        owner: String,
        fence: u64,
        waited_ms: u64,
    },
    /// A lock was given back.
    LockReleased { resource: String, owner: String },
    /// Traffic was shifted to the new version.
    Deployed {
        service: String,
        percent: u8,
        fence: u64,
    },
    /// An external deploy tool ran one step (`deploy.backend: script`): what ran, how it ended
    /// and the end of what it printed, so the operator sees the tool's own words in the cockpit
    /// and the audit log keeps them. In-process deployers (the simulated fleet) send none.
    DeployStep {
        /// `shift`, `promote` or `rollback`.
        action: String,
        service: String,
        /// Traffic share on the patched version the step aimed for (0 for a rollback).
        percent: u8,
        fence: u64,
        /// Patch id the tool received as `CCP_VERSION`.
        version: String,
        /// The command line that ran.
        command: String,
        ok: bool,
        /// `None` when the command was killed (timeout, signal).
        exit_code: Option<i32>,
        duration_ms: u64,
        /// Last part of stdout and stderr, interleaved (bounded).
        output: String,
        /// Why the step failed, when it did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// Baseline vs canary numbers over an observation window.
    CanaryMetrics {
        step: String,
        percent: u8,
        baseline: WindowStats,
        canary: WindowStats,
        /// Per-second canary error rates, for charts.
        canary_error_series: Vec<f64>,
        /// Per-second baseline error rates, for charts.
        baseline_error_series: Vec<f64>,
        /// Per-second p99 latency of the canary, ms, same seconds as the error series.
        #[serde(default)]
        canary_p99_series: Vec<f64>,
        /// Per-second p99 latency of the baseline, ms.
        #[serde(default)]
        baseline_p99_series: Vec<f64>,
    },
    /// A statistical verdict (health check or final verification).
    Verification {
        phase: String,
        verdict: String,
        score: f64,
        reason: String,
        metrics: Vec<MetricResult>,
    },
    /// Traffic went back to the previous version.
    RolledBack { service: String, reason: String },
    /// The pipeline was paused or resumed by a command.
    PipelinePaused { by: String },
    /// The pipeline resumed.
    PipelineResumed { by: String },
    /// The rollout stays at a step instead of judging it now (too little evidence yet, or no
    /// metrics), or picks up again when the metrics return.
    RolloutHeld {
        /// Traffic share held.
        percent: u8,
        /// Why.
        hold: HoldReason,
        /// How long it has waited so far, s.
        waited_s: u64,
        /// Longest it will wait, s.
        limit_s: u64,
        /// The same in an operator's words, with the numbers that decided it.
        message: String,
    },
    /// A note for the timeline that needs no structure (e.g. waiting for a lock).
    Note { message: String },
    /// Last event of a run.
    Finished {
        outcome: Outcome,
        state: State,
        reason: String,
        /// Why, as a fact a program can act on; `reason` says it in words (absent in logs from
        /// before causes were recorded).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cause: Option<EndCause>,
    },
    /// What became of one notification on one channel (Slack, PagerDuty, e-mail…), so the
    /// audit log says who was told what, and a channel that failed is visible, not silent.
    NotificationSent {
        /// Channel name (`slack`, `pagerduty`, `teams`, `email`, `webhook`).
        channel: String,
        /// Which notice (`incident_opened`, `awaiting_approval`, `approved`, `finished`…).
        notice: String,
        /// Whether the receiver accepted it.
        ok: bool,
        /// Attempts made, retries included (0: dropped before any, e.g. a full queue).
        attempts: u32,
        /// What happened (`HTTP 200 from https://hooks.slack.com`), never with a secret.
        detail: String,
    },
}

/// Why the pipeline asks a human before deploying, one fact per reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum PauseRule {
    /// A HIGH or CRITICAL conflict with another operation (`other_incident` empty for the
    /// concurrency limit, which is about all of them).
    Conflict {
        kind: String,
        severity: String,
        other_incident: String,
        other_service: String,
    },
    /// The error budget is spent.
    ErrorBudgetExhausted,
    /// Automation kept failing on this service.
    ConsecutiveFailures { count: u32, limit: u32 },
    /// Too many services depend on the one being changed.
    BlastRadius { services: usize, limit: usize },
    /// The diagnosis is doubtful.
    LowRcaConfidence { confidence: f64, threshold: f64 },
    /// The shared operations registry did not answer, so conflicts are unknown.
    RegistryUnavailable,
    /// The risk score chose manual review.
    RiskManualReview { score: f64, line: f64 },
    /// Production policy: critical services need a human.
    ProductionPolicy {
        service: String,
        criticality: f64,
        threshold: f64,
    },
}

/// Why a rollout holds a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldReason {
    /// Too few requests yet to tell a regression from noise: observing longer.
    LowEvidence,
    /// The metrics source stopped answering: holding the split instead of judging blind.
    MetricsUnavailable,
    /// The metrics are back: judging the step now.
    MetricsBack,
}

/// Why a run ended, as a fact a program can act on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EndCause {
    /// The fix is live and verified.
    Resolved,
    /// No incident was detected.
    NothingDetected,
    /// A backend a stage needed did not answer (`port`: metrics, graph, registry, repository…).
    BackendUnavailable { port: String },
    /// RCA found no anomalous service.
    NoRootCause,
    /// No stack trace from the suspected service could be parsed.
    NoStackTrace { service: String },
    /// No fix template applies to the culprit code.
    NoFixTemplate,
    /// Safety gates failed.
    GatesFailed { gates: Vec<String> },
    /// Another operation is already remediating the service; this one stood down.
    StoodDown {
        other_incident: String,
        other_service: String,
    },
    /// A human rejected the plan.
    Rejected { actor: String },
    /// Nobody answered the approval request in time.
    ApprovalTimeout,
    /// No front-end was left to answer the approval request.
    NoApprover,
    /// An operator aborted the run.
    Aborted { actor: String },
    /// A lock could not be taken.
    LockUnavailable { resource: String },
    /// A lock was lost mid-operation.
    LockLost { resource: String },
    /// A deploy step failed.
    DeployFailed { percent: u8 },
    /// A verdict judged the new version worse (`phase`: `health_check_10`, `final`…).
    VerdictFailed { phase: String },
    /// The metrics stayed unavailable during the rollout for too long.
    MetricsOutage { seconds: u64 },
    /// Rolling back failed: production may still run the patch.
    RollbackFailed,
    /// The audit log could not be appended, so the run stopped before acting unrecorded.
    AuditUnavailable,
    /// Crash recovery brought an operation a dead process left in flight to an end.
    CrashRecovery,
    /// A bug or a misconfiguration (no plan where one must be, steps that never reach 100 %).
    Internal,
}

impl EndCause {
    /// The snake_case name, as serialized.
    pub fn name(&self) -> &'static str {
        match self {
            EndCause::Resolved => "resolved",
            EndCause::NothingDetected => "nothing_detected",
            EndCause::BackendUnavailable { .. } => "backend_unavailable",
            EndCause::NoRootCause => "no_root_cause",
            EndCause::NoStackTrace { .. } => "no_stack_trace",
            EndCause::NoFixTemplate => "no_fix_template",
            EndCause::GatesFailed { .. } => "gates_failed",
            EndCause::StoodDown { .. } => "stood_down",
            EndCause::Rejected { .. } => "rejected",
            EndCause::ApprovalTimeout => "approval_timeout",
            EndCause::NoApprover => "no_approver",
            EndCause::Aborted { .. } => "aborted",
            EndCause::LockUnavailable { .. } => "lock_unavailable",
            EndCause::LockLost { .. } => "lock_lost",
            EndCause::DeployFailed { .. } => "deploy_failed",
            EndCause::VerdictFailed { .. } => "verdict_failed",
            EndCause::MetricsOutage { .. } => "metrics_outage",
            EndCause::RollbackFailed => "rollback_failed",
            EndCause::AuditUnavailable => "audit_unavailable",
            EndCause::CrashRecovery => "crash_recovery",
            EndCause::Internal => "internal",
        }
    }
}

impl EventKind {
    /// The snake_case type name, for audit records and filters.
    pub fn type_name(&self) -> &'static str {
        match self {
            EventKind::AlertReceived { .. } => "alert_received",
            EventKind::AlertResolved { .. } => "alert_resolved",
            EventKind::IncidentOpened { .. } => "incident_opened",
            EventKind::Topology { .. } => "topology",
            EventKind::StateChanged { .. } => "state_changed",
            EventKind::TransitionRefused { .. } => "transition_refused",
            EventKind::RcaRanked { .. } => "rca_ranked",
            EventKind::Localized { .. } => "localized",
            EventKind::FixProposed { .. } => "fix_proposed",
            EventKind::GateResult(_) => "gate_result",
            EventKind::FixCommitted { .. } => "fix_committed",
            EventKind::Decision { .. } => "decision",
            EventKind::AwaitingApproval { .. } => "awaiting_approval",
            EventKind::ApprovalCounted { .. } => "approval_counted",
            EventKind::Approval { .. } => "approval",
            EventKind::LockAcquired { .. } => "lock_acquired",
            EventKind::LockReleased { .. } => "lock_released",
            EventKind::Deployed { .. } => "deployed",
            EventKind::DeployStep { .. } => "deploy_step",
            EventKind::CanaryMetrics { .. } => "canary_metrics",
            EventKind::Verification { .. } => "verification",
            EventKind::RolledBack { .. } => "rolled_back",
            EventKind::PipelinePaused { .. } => "pipeline_paused",
            EventKind::PipelineResumed { .. } => "pipeline_resumed",
            EventKind::Note { .. } => "note",
            EventKind::RolloutHeld { .. } => "rollout_held",
            EventKind::Finished { .. } => "finished",
            EventKind::NotificationSent { .. } => "notification_sent",
        }
    }
}

/// A decision given without asking a person (`--auto-approve`, `--auto-reject`): the one
/// vocabulary the headless front-end, `ccp serve` and `ccp recovery run` share, recorded as actor
/// `auto` with the flag that asked for it as the comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoAnswer {
    /// Approve every request.
    Approve,
    /// Reject every request.
    Reject,
}

impl AutoAnswer {
    /// From the two command-line flags (approve wins; clap makes them exclusive anyway); `None`
    /// when neither is set, so a person answers.
    pub fn from_flags(approve: bool, reject: bool) -> Option<Self> {
        match (approve, reject) {
            (true, _) => Some(AutoAnswer::Approve),
            (_, true) => Some(AutoAnswer::Reject),
            _ => None,
        }
    }

    /// The command this answer sends to a paused pipeline.
    pub fn command(self) -> Command {
        let actor = "auto".to_string();
        match self {
            AutoAnswer::Approve => Command::Approve {
                actor,
                comment: "--auto-approve".into(),
            },
            AutoAnswer::Reject => Command::Reject {
                actor,
                comment: "--auto-reject".into(),
            },
        }
    }
}

/// What a front-end can ask of a running pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    /// Approve the paused operation.
    Approve { actor: String, comment: String },
    /// Reject the paused operation.
    Reject { actor: String, comment: String },
    /// Stop at the next safe point.
    Pause { actor: String },
    /// Continue after a pause.
    Resume { actor: String },
    /// Give up: roll back whatever is deployed and end escalated.
    Abort { actor: String, reason: String },
}

fn one() -> u8 {
    1
}

fn is_one(n: &u8) -> bool {
    *n == 1
}
