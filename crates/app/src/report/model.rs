//! The report's data: everything a reviewer needs to judge one incident's decisions, folded from
//! its audit records. The JSON output is this structure serialized, and the markdown renderer
//! reads only this, so both formats always carry the same content.

use ccp_core::domain::{RcaCandidate, WindowStats};
use ccp_core::explain::Justification;
use ccp_core::stats::judge::MetricResult;
use serde::Serialize;

/// Version of the JSON document's shape, so scripts can tell when it changes.
pub const REPORT_VERSION: u32 = 1;

/// Where an entry came from in the log, and whether the chain vouches for it.
///
/// Every entry carries this so a reader can go back to the exact record, and so entries read
/// after a chain break are visibly marked instead of mixed in with trusted ones.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct At {
    /// The record's `seq`.
    pub seq: u64,
    /// The record's `ts` (the log's time, not the time the report was made).
    pub ts: String,
    /// Who the record says caused it (`ccp`, `auto`, an operator, `ccp-recover`).
    pub actor: String,
    /// False when the record sits at or after the first break in the hash chain.
    pub verified: bool,
}

/// The whole decision-justification report of one incident.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Shape version ([`REPORT_VERSION`]).
    pub report_version: u32,
    /// The audit log the report was made from, as given.
    pub audit_file: String,
    /// Whether the hash chain verified, and where it broke if not.
    pub integrity: Integrity,
    /// Incident id, service, times, outcome, MTTR.
    pub header: Header,
    /// Pipeline stages in order, with how long each lasted.
    pub timeline: Vec<Stage>,
    /// Alerts, root-cause ranking, code location and the fix.
    pub diagnosis: Diagnosis,
    /// Every decision with its justification, in log order.
    pub decisions: Vec<DecisionEntry>,
    /// Gate results with a tally.
    pub gates: Gates,
    /// Requests for a human, then the answers.
    pub approvals: Approvals,
    /// Canary observation windows (baseline vs canary numbers).
    pub canary_windows: Vec<CanaryWindow>,
    /// Statistical verdicts (health checks and final verification) with per-metric statistics.
    pub verifications: Vec<VerificationEntry>,
    /// Traffic shifts and external deploy steps.
    pub deployments: Vec<DeploymentEntry>,
    /// Locks taken and given back.
    pub locks: Vec<LockEntry>,
    /// Rollbacks performed.
    pub rollbacks: Vec<RollbackEntry>,
    /// Notifications sent (or not) per channel.
    pub notifications: Vec<NotificationEntry>,
    /// Records written by crash recovery (`ccp-recover`) for this incident, and log-level
    /// recovery notes (a quarantined torn line) that concern every incident in the log.
    pub recovery: Vec<RecoveryEntry>,
    /// Notes, pauses, resumes and refused transitions.
    pub notes: Vec<NoteEntry>,
    /// How the incident ended, when the log says so.
    pub outcome: Option<OutcomeEntry>,
    /// Records of this incident that this ccp could not read as events (another version?).
    pub unread: Vec<UnreadRecord>,
}

/// The hash chain's verdict over the whole file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Integrity {
    /// True only when every line of the file verified.
    pub verified: bool,
    /// Records read from the file (all incidents).
    pub records: u64,
    /// Records before the first break (all of them when intact).
    pub verified_records: u64,
    /// The first break, when there is one.
    pub broken: Option<ChainBreak>,
    /// Lines that are not records at all (skipped, but counted so nothing is silently lost).
    pub unreadable_lines: Vec<UnreadableLine>,
}

/// Where and why the chain broke.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChainBreak {
    /// The seq of the bad line (claimed, or expected when unreadable).
    pub seq: u64,
    /// 1-based line number.
    pub line: u64,
    /// Stable label (`hash mismatch`, `torn line` …), as `ccp audit verify` prints.
    pub kind: String,
    /// The full explanation.
    pub message: String,
}

/// A line that could not be read as a record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnreadableLine {
    /// 1-based line number.
    pub line: u64,
    /// What is wrong with it.
    pub detail: String,
}

/// The incident at a glance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Header {
    /// Incident id.
    pub incident: String,
    /// Service it was opened on.
    pub service: Option<String>,
    /// Severity at opening.
    pub severity: Option<String>,
    /// One-line title.
    pub title: Option<String>,
    /// Error rate that opened it.
    pub error_rate: Option<f64>,
    /// When it was opened (`incident_opened`, else its first record).
    pub opened_at: Option<String>,
    /// When it finished (`finished`).
    pub closed_at: Option<String>,
    /// `resolved`, `rolled_back`, `escalated`, `rejected`, `failed`; none while in flight.
    pub outcome: Option<String>,
    /// Last pipeline state.
    pub final_state: Option<String>,
    /// Opened to finished, seconds of the log's clock.
    pub mttr_seconds: Option<f64>,
}

/// One stay in one pipeline state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stage {
    /// Record that entered the state.
    #[serde(flatten)]
    pub at: At,
    /// The state (`ANALYZING`, `CANARY_10` …).
    pub state: String,
    /// When the next state was entered (or the incident finished).
    pub left_at: Option<String>,
    /// Time spent, seconds of the log's clock.
    pub duration_seconds: Option<f64>,
}

/// What the pipeline believed was wrong and what it changed.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Diagnosis {
    /// Alerts received for the incident.
    pub alerts: Vec<AlertEntry>,
    /// Root-cause candidates of the last ranking, best first.
    pub rca_candidates: Vec<RcaCandidate>,
    /// Culprit line in code.
    pub localized: Option<LocalizedEntry>,
    /// The fix that was proposed.
    pub fix: Option<FixEntry>,
    /// Where the fix was committed.
    pub commit: Option<CommitEntry>,
}

/// One alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertEntry {
    /// Record.
    #[serde(flatten)]
    pub at: At,
    /// Alert name.
    pub name: String,
    /// Service it fired on.
    pub service: String,
    /// Its severity.
    pub severity: String,
    /// Observed value.
    pub value: f64,
    /// Threshold it crossed.
    pub threshold: f64,
    /// True for `alert_resolved` (the symptom went away).
    pub resolved: bool,
}

/// The culprit frame.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LocalizedEntry {
    /// Record.
    #[serde(flatten)]
    pub at: At,
    /// File.
    pub file: String,
    /// Line.
    pub line: u32,
    /// Function.
    pub function: String,
    /// Exception type and message.
    pub exception: String,
    /// Last commit touching the line.
    pub blame_commit: Option<String>,
    /// Its author.
    pub blame_author: Option<String>,
}

/// The proposed fix, without its diff body (the log keeps it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FixEntry {
    /// Record.
    #[serde(flatten)]
    pub at: At,
    /// Fix template.
    pub template: String,
    /// File changed.
    pub file: String,
    /// Line.
    pub line: u32,
    /// What the change does.
    pub description: String,
    /// Lines added.
    pub lines_added: u32,
    /// Lines removed.
    pub lines_removed: u32,
}

/// The commit that carries the fix.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommitEntry {
    /// Record.
    #[serde(flatten)]
    pub at: At,
    /// Branch.
    pub branch: String,
    /// Commit id.
    pub commit: String,
    /// Remote pushed to.
    pub pushed_to: Option<String>,
    /// Why a push failed.
    pub push_error: Option<String>,
}

/// One decision and its justification record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecisionEntry {
    /// Record.
    #[serde(flatten)]
    pub at: At,
    /// Inputs, weighted factors, constraints, alternatives, reasoning, confidence.
    pub justification: Justification,
}

/// Gate results and their tally.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Gates {
    /// Gates evaluated.
    pub total: usize,
    /// Of which passed.
    pub passed: usize,
    /// Of which failed.
    pub failed: usize,
    /// Each result, in log order.
    pub results: Vec<GateEntry>,
}

/// One gate result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GateEntry {
    /// Record.
    #[serde(flatten)]
    pub at: At,
    /// Gate name.
    pub gate: String,
    /// Pass or fail.
    pub passed: bool,
    /// Observed value.
    pub value: serde_json::Value,
    /// Threshold.
    pub threshold: serde_json::Value,
    /// Why.
    pub reason: String,
}

/// Requests for a human and the answers given.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Approvals {
    /// Each time the run waited for a human.
    pub requests: Vec<ApprovalRequest>,
    /// Each answer (human or `auto`).
    pub decisions: Vec<ApprovalEntry>,
}

/// The run paused for a human.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApprovalRequest {
    /// Record.
    #[serde(flatten)]
    pub at: At,
    /// Why a human was asked.
    pub reasons: Vec<String>,
    /// Risk score shown.
    pub risk_score: f64,
    /// Rollout strategy proposed.
    pub strategy: String,
    /// Diff summary shown.
    pub diff_summary: String,
    /// Gates summary shown.
    pub gates_summary: String,
}

/// An answer to an approval request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApprovalEntry {
    /// Record.
    #[serde(flatten)]
    pub at: At,
    /// Who answered (`auto` for --auto-approve/--auto-reject).
    pub actor: String,
    /// `approve` or `reject`.
    pub decision: String,
    /// Their comment.
    pub comment: String,
}

/// One canary observation window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CanaryWindow {
    /// Record.
    #[serde(flatten)]
    pub at: At,
    /// Step (`CANARY_10`, …).
    pub step: String,
    /// Traffic share on the canary.
    pub percent: u8,
    /// Baseline numbers.
    pub baseline: WindowStats,
    /// Canary numbers.
    pub canary: WindowStats,
}

/// One statistical verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerificationEntry {
    /// Record.
    #[serde(flatten)]
    pub at: At,
    /// `health_check_10`, `final` …
    pub phase: String,
    /// `pass`, `fail`, `inconclusive`.
    pub verdict: String,
    /// Score 0–100.
    pub score: f64,
    /// Why.
    pub reason: String,
    /// Per-metric statistics (U, p, Welch, effect, CI).
    pub metrics: Vec<MetricResult>,
}

/// A traffic shift or an external deploy step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeploymentEntry {
    /// Record.
    #[serde(flatten)]
    pub at: At,
    /// `deployed`, or the deploy step's action (`shift`, `promote`, `rollback`).
    pub action: String,
    /// Service.
    pub service: String,
    /// Traffic share on the new version.
    pub percent: u8,
    /// Fencing token it carried.
    pub fence: u64,
    /// False when an external step failed.
    pub ok: bool,
    /// What an external step said, when it failed.
    pub detail: Option<String>,
}

/// A lock taken or released.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LockEntry {
    /// Record.
    #[serde(flatten)]
    pub at: At,
    /// `acquired` or `released`.
    pub action: String,
    /// Resource (`service:payment-service`).
    pub resource: String,
    /// Owner token.
    pub owner: String,
    /// Fencing token (acquired only).
    pub fence: Option<u64>,
    /// How long it waited, ms (acquired only).
    pub waited_ms: Option<u64>,
}

/// A rollback.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RollbackEntry {
    /// Record.
    #[serde(flatten)]
    pub at: At,
    /// Service rolled back.
    pub service: String,
    /// Why.
    pub reason: String,
}

/// One notification on one channel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NotificationEntry {
    /// Record.
    #[serde(flatten)]
    pub at: At,
    /// Channel.
    pub channel: String,
    /// Which notice.
    pub notice: String,
    /// Accepted by the receiver.
    pub ok: bool,
    /// Attempts made.
    pub attempts: u32,
    /// What happened.
    pub detail: String,
}

/// A record crash recovery wrote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecoveryEntry {
    /// Record.
    #[serde(flatten)]
    pub at: At,
    /// Record type (`state_changed`, `rolled_back`, `finished`, `note` …).
    pub kind: String,
    /// What it says, in words.
    pub summary: String,
    /// True for a note about the whole log (no incident), e.g. a quarantined torn line.
    pub log_level: bool,
}

/// A note, pause, resume or refused transition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NoteEntry {
    /// Record.
    #[serde(flatten)]
    pub at: At,
    /// Record type.
    pub kind: String,
    /// What it says.
    pub message: String,
}

/// How the incident ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutcomeEntry {
    /// Record.
    #[serde(flatten)]
    pub at: At,
    /// Outcome.
    pub outcome: String,
    /// Final state.
    pub state: String,
    /// Why.
    pub reason: String,
}

/// A record of the incident that did not parse as an event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnreadRecord {
    /// Record.
    #[serde(flatten)]
    pub at: At,
    /// Its type.
    pub kind: String,
}
