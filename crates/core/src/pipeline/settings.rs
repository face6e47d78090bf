//! Settings the orchestrator needs, decoupled from the config file format so the core never
//! depends on how (or whether) configuration was read.

use crate::detect::DetectionSettings;
use crate::gates::GateThresholds;
use crate::risk::StrategyThresholds;
use crate::stats::judge::JudgeConfig;

/// When a human must approve.
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalPolicy {
    /// Running against production.
    pub production: bool,
    /// In production, services at or above this criticality need approval.
    pub criticality_threshold: f64,
    /// Whether production changes to critical services need approval at all.
    pub require_for_production: bool,
    /// RCA confidence below this needs a human.
    pub min_rca_confidence: f64,
    /// Blast radius (services) above this needs a human.
    pub max_blast_radius_services: usize,
    /// Consecutive failures above this need a human.
    pub max_consecutive_failures: u32,
    /// How long to wait for a decision before escalating.
    pub timeout_ms: u64,
    /// Which changes need two different approvers before any lock is taken; off for a single
    /// operator at a local cockpit.
    pub two_person: TwoPersonRule,
}

/// Which approvals need two different people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TwoPersonRule {
    /// One approver is enough.
    #[default]
    None,
    /// CRITICAL incidents need two.
    Critical,
    /// Every approval needs two.
    All,
}

impl TwoPersonRule {
    /// Approvers needed for an incident of this severity.
    pub fn approvers(self, critical: bool) -> u8 {
        match self {
            TwoPersonRule::All => 2,
            TwoPersonRule::Critical if critical => 2,
            _ => 1,
        }
    }
}

impl Default for ApprovalPolicy {
    fn default() -> Self {
        Self {
            production: true,
            criticality_threshold: 0.8,
            require_for_production: true,
            min_rca_confidence: 0.7,
            max_blast_radius_services: 10,
            max_consecutive_failures: 2,
            timeout_ms: 900_000,
            two_person: TwoPersonRule::None,
        }
    }
}

/// Pipeline-time spent in each stage. The realtime demo takes these literally, fast pace a tenth,
/// instant none; they stand for the work a real system waits on (queries, builds, rollouts).
#[derive(Debug, Clone, PartialEq)]
pub struct StagePacing {
    /// Detector polling interval.
    pub poll_ms: u64,
    /// Give up if nothing is detected within this.
    pub detect_timeout_ms: u64,
    /// Collecting observability data and ranking.
    pub analyze_ms: u64,
    /// Parsing traces and blaming.
    pub localize_ms: u64,
    /// Choosing a template and generating the diff.
    pub plan_ms: u64,
    /// Between gates.
    pub gate_ms: u64,
    /// Taking locks.
    pub lock_ms: u64,
    /// Observation window at each canary step and at verification.
    pub observe_ms: u64,
    /// Closing the incident.
    pub close_ms: u64,
}

impl Default for StagePacing {
    fn default() -> Self {
        Self {
            poll_ms: 5_000,
            detect_timeout_ms: 600_000,
            analyze_ms: 3_000,
            localize_ms: 2_000,
            plan_ms: 2_000,
            gate_ms: 500,
            lock_ms: 1_000,
            observe_ms: 30_000,
            close_ms: 1_000,
        }
    }
}

/// All settings.
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineSettings {
    /// Seed; makes ids and the simulated fleet reproducible.
    pub seed: u64,
    /// Gate thresholds.
    pub gates: GateThresholds,
    /// Which gates run.
    pub run_syntax: bool,
    /// Run unit tests.
    pub run_tests: bool,
    /// Run the lint.
    pub run_lint: bool,
    /// Run the security scan.
    pub run_security: bool,
    /// Strategy bands.
    pub strategy: StrategyThresholds,
    /// Approval policy.
    pub approval: ApprovalPolicy,
    /// Canary traffic steps in percent, last = 100.
    pub canary_steps: Vec<u8>,
    /// Canary absolute error-rate ceiling.
    pub canary_max_error_rate: f64,
    /// Canary absolute p99 ceiling, ms.
    pub canary_max_latency_p99_ms: f64,
    /// How long a rollout holds its split while metrics are missing or stale, ms.
    pub metrics_hold_ms: u64,
    /// Errors the canary must be expected to show (at the baseline's rate) before a step is
    /// judged; 0 = judge after `observe_ms`.
    pub min_expected_errors: f64,
    /// Cap on one canary step's observation, ms.
    pub max_observe_ms: u64,
    /// Statistical judge settings.
    pub judge: JudgeConfig,
    /// Verification window, ms.
    pub verification_window_ms: u64,
    /// Lock TTL, ms.
    pub lock_ttl_ms: u64,
    /// Max lock wait, ms.
    pub lock_wait_ms: u64,
    /// Operations allowed in flight at once across the fleet (`locks.max_concurrent_operations`);
    /// a new operation that would exceed it has a HIGH `concurrency_limit` conflict and pauses.
    pub max_concurrent_operations: usize,
    /// Only open incidents on this service. Lets several pipelines share one fleet, each owning
    /// one incident (concurrent-incident drills and tests); `None` takes the worst alert.
    pub only_service: Option<String>,
    /// The id to open the incident under, chosen by whoever runs several pipelines at once (so
    /// two never pick the same); `None` derives it from the seed.
    pub incident_id: Option<String>,
    /// Incident ids the audit log already holds. Ids come from the seed, so a seeded run is
    /// reproducible; when a log already has that id the run takes the next free `-2`, `-3`…,
    /// because two runs must never share an id in one log.
    pub taken_incident_ids: std::collections::BTreeSet<String>,
    /// Roll back automatically when a step fails. Off only where rolling back is riskier than
    /// the failure (a schema migration): the run then escalates with the partial rollout in place.
    pub rollback_on_fail: bool,
    /// Stage pacing.
    pub pacing: StagePacing,
    /// Detection thresholds, reused to colour services healthy or not in `topology` events.
    pub detection: DetectionSettings,
}

impl Default for PipelineSettings {
    fn default() -> Self {
        Self {
            seed: 42,
            gates: GateThresholds::default(),
            run_syntax: true,
            run_tests: true,
            run_lint: true,
            run_security: true,
            strategy: StrategyThresholds::default(),
            approval: ApprovalPolicy::default(),
            detection: DetectionSettings::default(),
            canary_steps: vec![10, 50, 100],
            canary_max_error_rate: 0.02,
            canary_max_latency_p99_ms: 500.0,
            metrics_hold_ms: 90_000,
            min_expected_errors: 0.0,
            max_observe_ms: 1_200_000,
            judge: JudgeConfig::default(),
            verification_window_ms: 30_000,
            lock_ttl_ms: 30_000,
            lock_wait_ms: 10_000,
            max_concurrent_operations: 3,
            only_service: None,
            incident_id: None,
            taken_incident_ids: std::collections::BTreeSet::new(),
            rollback_on_fail: true,
            pacing: StagePacing::default(),
        }
    }
}
