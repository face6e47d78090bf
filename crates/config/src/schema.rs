//! The typed configuration schema with its embedded defaults.
//!
//! Every section is optional and every struct rejects unknown keys, so a typo
//! is an error instead of a silently ignored setting. `Config::default()` is
//! exactly what an empty file produces.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Implements `as_str` and `Display` with the same spelling as the YAML, so
/// the cockpit can show settings exactly as the operator would write them.
macro_rules! yaml_names {
    ($ty:ident { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// The name as written in the config file.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name,)+
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// The whole `ccp` configuration file.
///
/// Change it per deployment of the cockpit: which backends are real, how
/// strict the safety gates are, and where notifications go.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Which kind of environment this cockpit acts on; `production` requires
    /// human approval for critical services. Lower it only for staging or
    /// local development, where speed matters more than ceremony.
    pub environment: Environment,
    /// Who approves actions from this cockpit, recorded in the audit log.
    /// Set it when `$USER` is shared (bastion hosts, containers); `None`
    /// means `$USER` at runtime.
    pub actor: Option<String>,
    /// Where runtime state (locks, caches, history) is kept. Set it to a
    /// persistent volume when running in a container; `None` means the
    /// platform default.
    pub state_dir: Option<PathBuf>,
    /// When a metric deviation becomes an incident.
    pub detection: DetectionConfig,
    /// The service dependency graph used for root-cause and blast radius.
    pub graph: GraphConfig,
    /// Mutual exclusion between concurrent remediation operations.
    pub locks: LocksConfig,
    /// Where metrics come from.
    pub metrics: MetricsConfig,
    /// Where alerts come from.
    pub alerts: AlertsConfig,
    /// Where error reports (stack traces) come from.
    pub logs: LogsConfig,
    /// The code repository patches are made against.
    pub repo: RepoConfig,
    /// How fixes are rolled out.
    pub deploy: DeployConfig,
    /// Pre-deployment safety gates.
    pub gates: GatesConfig,
    /// Abort thresholds while a canary is live.
    pub canary: CanaryConfig,
    /// Statistical post-deployment verification.
    pub verification: VerificationConfig,
    /// When a human must approve an action.
    pub approval: ApprovalConfig,
    /// Where incident notifications go.
    pub notifications: NotificationsConfig,
    /// Inbound CI/CD webhooks.
    pub webhooks: WebhooksConfig,
    /// The tamper-evident audit log.
    pub audit: AuditConfig,
    /// Terminal UI preferences.
    pub tui: TuiConfig,
    /// Deployment failure recovery: what `ccp serve` does with a failed CI pipeline or
    /// deployment (rules, decision trees, actions, per-environment policy).
    pub recovery: crate::cicd_recovery::RecoveryConfig,
    /// Who may watch and act through `ccp serve`'s API and attached cockpits. Empty: commands
    /// over HTTP are refused (the embedded cockpit needs no tokens; its user is `$USER`).
    pub auth: AuthConfig,
}

/// Operators of a long-running service, each with a bearer token and roles.
///
/// The file holds only SHA-256 hashes of tokens, or `${VAR}` references substituted at load
/// (or the name of a variable in `token_env`), so a leaked config grants nothing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// The operators. An identity recorded in the audit log is one of these names.
    pub operators: Vec<OperatorConfig>,
    /// Which operations need two different approvers before any lock is taken. Unset:
    /// `critical` when operators are configured, else `none` (one local user cannot be two).
    pub two_person_rule: Option<TwoPersonRule>,
    /// Seconds an approval request waits before it expires and escalates; overrides
    /// `approval.timeout_s` when set.
    pub approval_ttl_s: Option<u64>,
}

/// Which operations the two-person rule covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TwoPersonRule {
    /// One approver is enough.
    None,
    /// Incidents of CRITICAL severity need two.
    Critical,
    /// Every approval needs two.
    All,
}

/// What an operator may do, from least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads incidents and follows the event stream.
    Viewer,
    /// Also pauses, resumes and aborts operations.
    Operator,
    /// Also approves and rejects changes.
    Approver,
}

/// One operator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorConfig {
    /// The identity written to the audit log (`alice`, `oncall-bot`).
    pub name: String,
    /// What the operator may do; the highest role listed counts.
    pub roles: Vec<Role>,
    /// The token, as a `${VAR}` reference substituted at load (never the token written here).
    #[serde(default)]
    pub token: Option<String>,
    /// Or: hex SHA-256 of the token (`printf %s "$TOKEN" | sha256sum`).
    #[serde(default)]
    pub token_sha256: Option<String>,
    /// Or: the name of the environment variable holding the token, read when the service starts.
    #[serde(default)]
    pub token_env: Option<String>,
    /// Services this operator may act on; empty or `"*"` means every service.
    #[serde(default)]
    pub services: Vec<String>,
    /// Highest service criticality (0..1) this operator may act on; unset means any.
    #[serde(default)]
    pub max_criticality: Option<f64>,
}

impl OperatorConfig {
    /// The highest role listed (viewer when none is).
    pub fn role(&self) -> Role {
        self.roles.iter().copied().max().unwrap_or(Role::Viewer)
    }
}

impl Config {
    /// The audit log this configuration writes: `audit.path`, else `audit.jsonl` in the state
    /// directory. Every command that reads or appends the log asks here, so they never disagree.
    pub fn audit_path(&self, state_dir: &std::path::Path) -> std::path::PathBuf {
        self.audit
            .path
            .clone()
            .unwrap_or_else(|| state_dir.join("audit.jsonl"))
    }
}

/// The kind of environment the cockpit operates on.
///
/// Drives how much human approval is required; choose the most cautious one
/// that honestly describes the target.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Environment {
    /// Real users: critical services need human approval.
    #[default]
    Production,
    /// Pre-production: approvals relaxed.
    Staging,
    /// A laptop or sandbox: no ceremony.
    Development,
}

yaml_names!(Environment { Production => "production", Staging => "staging", Development => "development" });

/// Anomaly detection thresholds.
///
/// Tune them to the service's normal noise: too low pages on noise, too high
/// misses real incidents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetectionConfig {
    /// Run ccp's own threshold detector over the metrics backend. Turn it
    /// off when Alertmanager already pages on these services, so one symptom
    /// does not open two incidents.
    pub enabled: bool,
    /// Error fraction (0..1) above which a service is anomalous; raise it for
    /// services whose baseline error rate is naturally high.
    pub error_rate_threshold: f64,
    /// p99 latency in milliseconds above which a service is anomalous; set it
    /// to the service's latency SLO.
    pub latency_p99_threshold_ms: f64,
    /// Seconds of metrics each evaluation looks at; longer smooths spikes but
    /// detects later.
    pub window_s: u64,
    /// Requests needed in the window before judging; avoids paging on a
    /// single failed request of an idle service.
    pub min_requests: u64,
    /// Seconds between metric polls; lower detects faster at more load on
    /// the metrics backend.
    pub poll_interval_s: u64,
}

impl Default for DetectionConfig {
    fn default() -> Self {
        DetectionConfig {
            enabled: true,
            error_rate_threshold: 0.02,
            latency_p99_threshold_ms: 500.0,
            window_s: 60,
            min_requests: 100,
            poll_interval_s: 5,
        }
    }
}

/// Where the service dependency graph lives.
///
/// Switch to `neo4j` when the topology is maintained elsewhere and too large
/// to describe in the fleet file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GraphConfig {
    /// `memory` (built from the fleet file) or `neo4j`.
    pub backend: GraphBackend,
    /// Bolt URI of the Neo4j server; only used with `backend: neo4j`.
    pub uri: String,
    /// Neo4j user name.
    pub user: String,
    /// Neo4j password; inject it with `${NEO4J_PASSWORD}` rather than
    /// committing it.
    pub password: String,
    /// Database (graph) name on the server; change it when the topology is
    /// not kept in the server's default database (ArcadeDB names its
    /// databases, Neo4j Enterprise hosts several).
    pub database: String,
    /// Longest wait (ms) for one answer from the graph server; an unreachable
    /// server becomes an error after this instead of stalling the pipeline.
    pub timeout_ms: u64,
}

impl Default for GraphConfig {
    fn default() -> Self {
        GraphConfig {
            backend: GraphBackend::Memory,
            uri: "bolt://127.0.0.1:7687".to_string(),
            user: "neo4j".to_string(),
            password: String::new(),
            database: "neo4j".to_string(),
            timeout_ms: 5000,
        }
    }
}

/// Storage for the dependency graph.
///
/// `memory` needs nothing external; `neo4j` scales to real topologies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GraphBackend {
    /// In-process graph built from the fleet file.
    #[default]
    Memory,
    /// An external Neo4j database.
    Neo4j,
}

yaml_names!(GraphBackend { Memory => "memory", Neo4j => "neo4j" });

/// Distributed locking between remediation operations.
///
/// Use `redis` when several cockpits (several on-call engineers) can act on
/// the same fleet, so they never deploy over each other.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LocksConfig {
    /// `local` (one cockpit) or `redis` (shared between cockpits).
    pub backend: LockBackend,
    /// Redis URL; only used with `backend: redis`.
    pub redis_url: String,
    /// Lock lease in milliseconds; a crashed holder blocks others for at
    /// most this long. Must exceed `renew_every_ms`.
    pub ttl_ms: u64,
    /// How long to wait for a busy lock before giving up, in milliseconds.
    pub wait_ms: u64,
    /// How often a holder renews its lease, in milliseconds.
    pub renew_every_ms: u64,
    /// Operations allowed in flight at once across the fleet; lower it to
    /// limit the blast radius of automation.
    pub max_concurrent_operations: u32,
}

impl Default for LocksConfig {
    fn default() -> Self {
        LocksConfig {
            backend: LockBackend::Local,
            redis_url: "redis://127.0.0.1:6379".to_string(),
            ttl_ms: 30_000,
            wait_ms: 10_000,
            renew_every_ms: 10_000,
            max_concurrent_operations: 3,
        }
    }
}

/// Where locks are held.
///
/// `local` is enough for a single cockpit; `redis` coordinates several.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LockBackend {
    /// In-process locks plus a lock file in the state directory.
    #[default]
    Local,
    /// Redis-backed leases shared by all cockpits.
    Redis,
}

yaml_names!(LockBackend { Local => "local", Redis => "redis" });

/// The metrics source.
///
/// Keep `simulated` for demos and drills; use `prometheus` against a real
/// fleet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// `simulated` or `prometheus`.
    pub backend: MetricsBackend,
    /// Prometheus base URL; only used with `backend: prometheus`.
    pub prometheus_url: String,
    /// The fleet description (services, dependencies, criticality); point it
    /// at your own fleet file.
    pub fleet: PathBuf,
    /// Metric name → PromQL template; override when your metric names or
    /// labels differ from the built-in queries.
    pub queries: BTreeMap<String, String>,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            backend: MetricsBackend::Simulated,
            prometheus_url: "http://127.0.0.1:9090".to_string(),
            fleet: PathBuf::from("demo/fleet.yaml"),
            queries: BTreeMap::new(),
        }
    }
}

/// Where metrics are read from.
///
/// `simulated` needs nothing external; `prometheus` reads the real fleet.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricsBackend {
    /// Generated metrics with injectable faults.
    #[default]
    Simulated,
    /// A Prometheus-compatible HTTP API.
    Prometheus,
}

yaml_names!(MetricsBackend { Simulated => "simulated", Prometheus => "prometheus" });

/// Alert ingestion.
///
/// Set it to merge Alertmanager alerts with the cockpit's own detection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertsConfig {
    /// Alertmanager base URL; `None` disables alert polling.
    pub alertmanager_url: Option<String>,
    /// Address `ccp run` listens on for Alertmanager's webhook
    /// (`POST /webhooks/alertmanager`); `None` disables the receiver. Keep it
    /// on loopback or behind a proxy: the receiver has no authentication.
    pub listen: Option<String>,
    /// Alert label naming the service to remediate; set it to `job` or `app`
    /// if that is how your alerts say it.
    pub service_label: String,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        AlertsConfig {
            alertmanager_url: None,
            listen: None,
            service_label: "service".to_string(),
        }
    }
}

/// Where error reports (stack traces) are read from for code localization.
///
/// Point it at your log system when services are real; the simulated fleet
/// needs nothing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogsConfig {
    /// URL answering `GET <url>?service=NAME` with `{"errors": ["<trace>", …]}`
    /// (newest first), e.g. a small adapter in front of Loki or
    /// Elasticsearch, or `ccp fleet serve`'s `/errors`. `None` = no error
    /// reports outside the simulated fleet.
    pub errors_url: Option<String>,
}

/// The service code repository.
///
/// Point it at the real repository so patches are made against real code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RepoConfig {
    /// Path of the git repository; `None` builds the demo repository at
    /// start.
    pub path: Option<PathBuf>,
    /// Commit each fix that passed the gates on its own branch
    /// `ccp/fix-<incident>` (HEAD and the working tree are left alone); turn
    /// it off only for a repository ccp must not write to.
    pub commit_fixes: bool,
    /// Author and committer name of fix commits; set it to a bot account your
    /// code review recognises.
    pub author_name: String,
    /// Author and committer e-mail of fix commits.
    pub author_email: String,
    /// Push the fix branch to `remote` after committing; off by default so
    /// nothing leaves the machine unless asked for.
    pub push: bool,
    /// Name of the git remote (as in `git remote -v`) fix branches are
    /// pushed to when `push` is on; nothing else is ever pushed to.
    pub remote: String,
}

impl Default for RepoConfig {
    fn default() -> Self {
        RepoConfig {
            path: None,
            commit_fixes: true,
            author_name: "ccp".to_string(),
            author_email: "ccp@localhost".to_string(),
            push: false,
            remote: "origin".to_string(),
        }
    }
}

/// How a fix is rolled out.
///
/// Change it to match how your services are actually deployed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeployConfig {
    /// `simulated` or `script` (runs `script` for each step).
    pub backend: DeployBackend,
    /// `canary`, `blue_green` or `rolling`.
    pub strategy: DeployStrategy,
    /// Command run (with `sh -c`) for each step with `backend: script`; it
    /// learns what to do from `CCP_ACTION` (`shift`, `promote`, `rollback`).
    /// Required then, unless `commands` names a command for every action.
    pub script: Option<String>,
    /// Per-action commands that override `script` for their action, for
    /// tools with one verb per move (set weight, promote, abort).
    pub commands: DeployCommands,
    /// Seconds a step's command may run before its whole process group is
    /// stopped (SIGTERM, then SIGKILL) and the step fails; set it above
    /// your tool's slowest honest rollout.
    pub step_timeout_s: u64,
    /// Traffic percentages of the rollout steps: strictly increasing, each
    /// in 1..=100, ending at 100. Use more steps for riskier services.
    pub steps: Vec<u32>,
    /// Seconds to observe each step before moving on; longer catches slow
    /// failures.
    pub observe_s: u64,
    /// Roll back automatically when a step fails; disable only if rollback
    /// itself is riskier than the failure.
    pub rollback_on_fail: bool,
}

impl Default for DeployConfig {
    fn default() -> Self {
        DeployConfig {
            backend: DeployBackend::Simulated,
            strategy: DeployStrategy::Canary,
            script: None,
            commands: DeployCommands::default(),
            step_timeout_s: 300,
            steps: vec![10, 50, 100],
            observe_s: 30,
            rollback_on_fail: true,
        }
    }
}

/// Per-action deploy commands (`deploy.commands`).
///
/// Set the ones your tooling spells differently; an unset one falls back to
/// `deploy.script`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeployCommands {
    /// Moves part of the traffic (canary steps below 100 %).
    pub shift: Option<String>,
    /// Sends all traffic to the patched version (the 100 % step).
    pub promote: Option<String>,
    /// Sends all traffic back to the previous version.
    pub rollback: Option<String>,
}

/// What executes a deployment.
///
/// `script` hands each step to your own tooling.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeployBackend {
    /// Deployments are simulated against the simulated metrics.
    #[default]
    Simulated,
    /// `deploy.script` is run for each step.
    Script,
}

yaml_names!(DeployBackend { Simulated => "simulated", Script => "script" });

/// How traffic moves to the new version.
///
/// Pick the strategy your platform supports; `canary` is the most cautious.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeployStrategy {
    /// Gradual traffic shift through `deploy.steps`.
    #[default]
    Canary,
    /// Full switch between two environments.
    BlueGreen,
    /// Instance-by-instance replacement.
    Rolling,
}

yaml_names!(DeployStrategy { Canary => "canary", BlueGreen => "blue_green", Rolling => "rolling" });

/// Safety gates a patch must pass before it may be deployed.
///
/// Loosen them only with a reason; each one exists because skipping it has
/// caused an outage somewhere.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GatesConfig {
    /// Check that the patched code parses; disable only for languages the
    /// checker does not support.
    pub syntax: bool,
    /// Run the test suite; disable only when the repository has none.
    pub tests: bool,
    /// Run the linter; disable when the repository's lint baseline is red.
    pub lint: bool,
    /// Run the security scan.
    pub security: bool,
    /// Seconds before the test run is killed; raise it for slow suites.
    pub test_timeout_s: u64,
    /// Maximum patch risk score (0..1) allowed to deploy.
    pub risk_max: f64,
    /// Maximum share of the error budget (percent) a deployment may burn.
    pub max_error_budget_pct: f64,
    /// Maximum share of the fleet (percent) a change may affect.
    pub max_blast_radius_pct: f64,
    /// Seconds that must pass after a deployment before the next one.
    pub min_cooldown_s: u64,
    /// Recent failed deployments after which automation stops.
    pub max_recent_failures: u32,
    /// Spare capacity (percent) required before shifting traffic.
    pub min_capacity_headroom_pct: f64,
    /// Incidents per hour above which the fleet is too unstable to change.
    pub max_incident_rate_per_h: u32,
    /// Seconds before a syntax, lint or security command is killed (with
    /// its whole process group); tests use `test_timeout_s`.
    pub check_timeout_s: u64,
    /// What is copied and patched for the checks: `service` (the service's
    /// directory) or `repo` (the whole repository, for workspaces whose
    /// checks need sibling directories). Commands run in the service's
    /// directory of the copy either way.
    pub check_scope: CheckScope,
    /// Check commands per language (`python`, `rust`, `go`, …; the language
    /// comes from the patched file's extension or `languages`). Keys:
    /// `syntax`, `tests`, `lint`, `security`; each a shell command where
    /// `{files}` expands to the changed files (shell-quoted, relative to the
    /// service directory), `{dir}` to the service directory, `{root}` to the
    /// copy's root and `{python}` to the Python interpreter. A configured
    /// `lint`/`security` command replaces the built-in heuristic; without
    /// `syntax`/`tests` commands Python uses the built-in `py_compile` and
    /// `unittest` checks.
    pub commands: BTreeMap<String, GateCommands>,
    /// Service → language, for services whose file extensions do not say
    /// (e.g. scripts without one).
    pub languages: BTreeMap<String, String>,
}

/// Check commands for one language; unset keys keep the built-in behaviour.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GateCommands {
    /// Does the patched code parse/compile, e.g. `cargo check --quiet`.
    pub syntax: Option<String>,
    /// The test suite, e.g. `python3 -m pytest -q`.
    pub tests: Option<String>,
    /// A linter, e.g. `ruff check {files}`; replaces the built-in heuristic.
    pub lint: Option<String>,
    /// A security scanner, e.g. `bandit -q {files}`; replaces the heuristic.
    pub security: Option<String>,
}

/// What the gate checks copy before patching.
///
/// `repo` costs more disk and time; use it when checks need more than the
/// service's own directory.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckScope {
    /// The service's directory only.
    #[default]
    Service,
    /// The whole repository.
    Repo,
}

yaml_names!(CheckScope { Service => "service", Repo => "repo" });

impl Default for GatesConfig {
    fn default() -> Self {
        GatesConfig {
            syntax: true,
            tests: true,
            lint: true,
            security: true,
            test_timeout_s: 120,
            risk_max: 0.7,
            max_error_budget_pct: 2.0,
            max_blast_radius_pct: 20.0,
            min_cooldown_s: 300,
            max_recent_failures: 3,
            min_capacity_headroom_pct: 20.0,
            max_incident_rate_per_h: 5,
            check_timeout_s: 60,
            check_scope: CheckScope::Service,
            commands: BTreeMap::new(),
            languages: BTreeMap::new(),
        }
    }
}

/// Abort thresholds for a live canary.
///
/// Set them to the service's SLO so a bad canary is stopped before users
/// notice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CanaryConfig {
    /// Error fraction (0..1) of canary traffic that aborts the rollout.
    pub max_error_rate: f64,
    /// Canary p99 latency in milliseconds that aborts the rollout.
    pub max_latency_p99_ms: f64,
    /// Seconds the rollout holds its traffic split when the metrics source is missing or stale
    /// (no samples), waiting for numbers instead of guessing; after that it rolls back.
    pub metrics_hold_s: u64,
    /// A canary step is observed at least until the error counts carry this much evidence:
    /// `λc·λb/(λc+λb)` for the canary's expected errors `λc` at the baseline's rate and the
    /// baseline's errors `λb`. With less, no test can tell a 2× regression from noise, so a quiet
    /// low-traffic service gets a longer look instead of a coin toss. 0 turns it off.
    pub min_expected_errors: f64,
    /// Longest a canary step is observed while waiting for `min_expected_errors`, seconds.
    pub max_observe_s: u64,
}

impl Default for CanaryConfig {
    fn default() -> Self {
        CanaryConfig {
            max_error_rate: 0.02,
            max_latency_p99_ms: 500.0,
            metrics_hold_s: 90,
            min_expected_errors: 60.0,
            max_observe_s: 3600,
        }
    }
}

/// Statistical verification that a fix actually fixed the incident.
///
/// Tighten it for critical services, loosen it for noisy ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VerificationConfig {
    /// Significance level of the before/after test, in (0, 1); lower demands
    /// stronger evidence.
    pub alpha: f64,
    /// Seconds of post-deployment metrics to collect.
    pub window_s: u64,
    /// Samples needed before any verdict; low-traffic services need fewer.
    pub min_samples: usize,
    /// Bootstrap resamples for the extra median-shift interval; 0 (the default) skips it,
    /// because the Mann–Whitney interval every metric gets needs no resampling.
    pub bootstrap_resamples: usize,
    /// Score (0..100) at or above which the fix passes.
    pub pass_score: f64,
    /// Score (0..100) at or above which the fix is marginal; must not exceed
    /// `pass_score`.
    pub marginal_score: f64,
    /// Relative slack: a significant shift smaller than this fraction of the
    /// baseline median is not a regression. 0.2 kept the demo's false
    /// rollbacks at 0/40 seeds (0.0 gave 4/40) while still catching every
    /// injected regression; lower it for metrics with little noise.
    pub tolerance: f64,
}

impl Default for VerificationConfig {
    fn default() -> Self {
        VerificationConfig {
            alpha: 0.05,
            window_s: 30,
            min_samples: 10,
            bootstrap_resamples: 0,
            pass_score: 75.0,
            marginal_score: 50.0,
            tolerance: 0.2,
        }
    }
}

/// When a human must approve an action.
///
/// This is the main dial between automation speed and safety.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApprovalConfig {
    /// Require approval for critical services in `production`.
    pub require_for_production: bool,
    /// Service criticality (0..1) at or above which a service is critical.
    pub criticality_threshold: f64,
    /// Risk (0..1) at or above which a human must review the patch.
    pub risk_manual_review: f64,
    /// Risk (0..1) at or above which the rollout must be a canary.
    pub risk_canary: f64,
    /// Root-cause confidence (0..1) below which a human must confirm the
    /// diagnosis.
    pub min_rca_confidence: f64,
    /// Affected services above which a human must approve.
    pub max_blast_radius_services: u32,
    /// Consecutive failed fixes after which automation stops and asks.
    pub max_consecutive_failures: u32,
    /// Seconds an approval request waits before it expires.
    pub timeout_s: u64,
}

impl Default for ApprovalConfig {
    fn default() -> Self {
        ApprovalConfig {
            require_for_production: true,
            criticality_threshold: 0.8,
            risk_manual_review: 0.7,
            risk_canary: 0.4,
            min_rca_confidence: 0.7,
            max_blast_radius_services: 10,
            max_consecutive_failures: 2,
            timeout_s: 900,
        }
    }
}

/// Outbound notification channels; each is off unless configured.
///
/// Configure the channels your on-call rotation actually watches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotificationsConfig {
    /// Slack incoming webhook.
    pub slack: Option<SlackConfig>,
    /// PagerDuty Events API v2.
    pub pagerduty: Option<PagerDutyConfig>,
    /// Microsoft Teams incoming webhook.
    pub teams: Option<TeamsConfig>,
    /// Plain SMTP email.
    pub email: Option<EmailConfig>,
    /// A generic JSON webhook.
    pub webhook: Option<WebhookNotifyConfig>,
    /// Deadline of one delivery attempt (HTTP request or SMTP session), ms; keeps a hung
    /// receiver from holding a channel's queue.
    pub timeout_ms: u64,
    /// Attempts per notification and channel, the first included; retries only follow failures
    /// that may pass (timeouts, refused connections, HTTP 408/429/5xx, SMTP 4xx).
    pub attempts: u32,
    /// Wait before the first retry, ms; doubled for each further retry. A `Retry-After` header
    /// (HTTP 429/503) replaces it.
    pub backoff_ms: u64,
    /// Longest wait between two attempts, ms, `Retry-After` included.
    pub max_backoff_ms: u64,
    /// Notifications waiting per channel; when full, new ones are dropped (and audited), never
    /// waited for.
    pub queue_size: usize,
    /// At the end of a run, how long to wait for deliveries still queued or in flight before
    /// the run reports its end, ms. What is still going then is not in the audit log.
    pub final_wait_ms: u64,
}

impl Default for NotificationsConfig {
    fn default() -> Self {
        NotificationsConfig {
            slack: None,
            pagerduty: None,
            teams: None,
            email: None,
            webhook: None,
            timeout_ms: 5_000,
            attempts: 3,
            backoff_ms: 500,
            max_backoff_ms: 30_000,
            queue_size: 64,
            final_wait_ms: 5_000,
        }
    }
}

/// Slack notifications.
///
/// Set when the team coordinates incidents in Slack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackConfig {
    /// Incoming-webhook URL (a secret: use `${SLACK_WEBHOOK_URL}`).
    pub webhook_url: String,
    /// Channel override; `None` posts to the webhook's default channel.
    #[serde(default)]
    pub channel: Option<String>,
}

/// PagerDuty notifications.
///
/// Set when incidents should page through PagerDuty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PagerDutyConfig {
    /// Integration routing key (a secret: use `${PAGERDUTY_ROUTING_KEY}`).
    pub routing_key: String,
    /// Events API endpoint; change it only for EU accounts or a proxy.
    #[serde(default = "default_pagerduty_url")]
    pub api_url: String,
}

fn default_pagerduty_url() -> String {
    "https://events.pagerduty.com/v2/enqueue".to_string()
}

/// Microsoft Teams notifications.
///
/// Set when the team coordinates incidents in Teams.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamsConfig {
    /// Incoming-webhook URL (a secret).
    pub webhook_url: String,
}

/// Email notifications.
///
/// Set for stakeholders who are not in chat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    /// SMTP relay host.
    pub smtp_host: String,
    /// SMTP port; 587 with `starttls: true` for most hosted relays.
    #[serde(default = "default_smtp_port")]
    pub smtp_port: u16,
    /// Sender address.
    pub from: String,
    /// Recipients; must not be empty.
    pub to: Vec<String>,
    /// Upgrade the connection with STARTTLS; enable for any relay off-host.
    #[serde(default)]
    pub starttls: bool,
    /// SMTP user name, for relays that require authentication (with `starttls: true`).
    #[serde(default)]
    pub username: Option<String>,
    /// SMTP password (a secret: use `${SMTP_PASSWORD}`).
    #[serde(default)]
    pub password: Option<String>,
}

fn default_smtp_port() -> u16 {
    25
}

/// Generic outbound webhook notifications.
///
/// Set to feed incidents into your own tooling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookNotifyConfig {
    /// Target URL.
    pub url: String,
    /// HMAC secret for signing the body; `None` sends unsigned requests.
    #[serde(default)]
    pub secret: Option<String>,
}

/// Inbound CI/CD webhooks; each provider is off unless configured.
///
/// Enable the providers whose deployments should be correlated with
/// incidents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhooksConfig {
    /// Largest accepted request body in bytes; guards against memory abuse.
    pub max_body_bytes: usize,
    /// GitHub webhook signature secret.
    pub github: Option<WebhookSecret>,
    /// GitLab webhook token.
    pub gitlab: Option<GitlabWebhook>,
    /// Jenkins webhook secret and the header carrying its HMAC signature.
    pub jenkins: Option<SignedWebhook>,
    /// Azure DevOps webhook secret.
    pub azure: Option<WebhookSecret>,
    /// CircleCI webhook secret.
    pub circleci: Option<WebhookSecret>,
    /// Secret (and signature header) for any other CI that can send signed
    /// JSON in ccp's generic format.
    pub generic: Option<SignedWebhook>,
}

impl Default for WebhooksConfig {
    fn default() -> Self {
        WebhooksConfig {
            max_body_bytes: 1_048_576,
            github: None,
            gitlab: None,
            jenkins: None,
            azure: None,
            circleci: None,
            generic: None,
        }
    }
}

/// A provider's shared secret for verifying inbound webhooks.
///
/// Without it, anyone who can reach the port could fake a deployment event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSecret {
    /// The shared secret (use `${…}` to inject it).
    pub secret: String,
}

/// A shared secret for senders whose signature header is not fixed by the
/// provider (Jenkins, the generic receiver).
///
/// The sender puts HMAC-SHA256(secret, raw body) as hex, optionally prefixed
/// with `sha256=`, in `header`; without it anyone who can reach the port could
/// fake a failed pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedWebhook {
    /// The shared secret (use `${…}` to inject it).
    pub secret: String,
    /// Header carrying the signature; `None` means the provider's default
    /// (`X-Jenkins-Signature` for Jenkins, `X-Signature-256` for generic).
    /// Set it when your sender can only use a fixed header name.
    #[serde(default)]
    pub header: Option<String>,
}

/// GitLab's webhook token (GitLab sends a token, not a signature).
///
/// Without it, anyone who can reach the port could fake a deployment event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GitlabWebhook {
    /// The `X-Gitlab-Token` value (use `${…}` to inject it).
    pub token: String,
}

/// The audit log of every decision and action.
///
/// Change the path to put the log on durable, backed-up storage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditConfig {
    /// Log file; `None` means a file in the state directory.
    pub path: Option<PathBuf>,
    /// fsync after every record; disable only on storage where that is too
    /// slow and losing the last records on a crash is acceptable.
    pub fsync: bool,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            path: None,
            fsync: true,
        }
    }
}

/// Terminal UI preferences.
///
/// Personal taste and terminal capabilities; no effect on safety.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TuiConfig {
    /// Colour theme name; `light` for light terminal backgrounds.
    pub theme: String,
    /// Redraws per second (1..=120); lower it over slow SSH links.
    pub fps: u32,
    /// Capture the mouse; disable to keep the terminal's own text selection.
    pub mouse: bool,
}

impl Default for TuiConfig {
    fn default() -> Self {
        TuiConfig {
            theme: "dark".to_string(),
            fps: 30,
            mouse: true,
        }
    }
}
