//! Wiring: build the pipeline and its adapters from configuration and options, start it on its
//! own thread, and hand front-ends an `AppHandle` (subscribe to events, send commands). Front-ends
//! never touch an adapter; they only see this handle.

use ccp_adapters::embedded::fleet_spec::FleetSpec;
use ccp_adapters::embedded::local_lock::LocalLockManager;
use ccp_adapters::embedded::memory_registry::MemoryRegistry;
use ccp_adapters::embedded::paced_clock::{Pace, PacedClock};
use ccp_adapters::lock_keeper::KeptLocks;
use ccp_adapters::redis_lock::{RedisLockManager, RedisTimeouts};
use ccp_adapters::redis_registry::{RedisRegistry, DEFAULT_OP_TTL_MS};
use ccp_config::{Config, Environment, LockBackend};
use ccp_core::bus::EventBus;
use ccp_core::clock::Clock;
use ccp_core::detect::DetectionSettings;
use ccp_core::events::{Command, Event};
use ccp_core::gates::GateThresholds;
use ccp_webhooks::alertmanager::{AlertInbox, LabelMapping};
mod backends;
pub mod cicd_desk;
pub mod crash_recovery;
pub mod desk;
pub mod report;
pub use backends::PortOverrides;

use anyhow::{bail, Context, Result};
use ccp_core::pipeline::{ApprovalPolicy, Pipeline, PipelineSettings, RunReport, StagePacing};
use ccp_core::ports::{LockManager, OperationRegistry};
use ccp_core::risk::StrategyThresholds;
use ccp_core::stats::judge::JudgeConfig;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;

/// Failures `--inject-failure` knows, with what each does.
pub const INJECTABLE_FAILURES: &[(&str, &str)] = &[(
    "canary_regression",
    "the fix generator ships a patch that passes the unit tests but rejects +tag e-mail addresses, so the canary gets worse and is rolled back",
)];

/// Options of one run: the embedded demo, a scenario of the failure matrix, or a run on the
/// backends the configuration names (`ccp run`, `ccp serve`): they differ only in configuration.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Seed for the fleet noise and ids; `None` uses the fleet file's.
    pub seed: Option<u64>,
    /// Pace.
    pub pace: Pace,
    /// Failure to inject.
    pub inject_failure: Option<String>,
    /// Where `audit.jsonl` goes.
    pub state_dir: PathBuf,
    /// Loaded configuration (defaults when no file was given).
    pub config: Config,
}

/// A running pipeline as front-ends see it.
pub struct AppHandle {
    bus: EventBus,
    commands: Sender<Command>,
    thread: Option<JoinHandle<RunReport>>,
    start: Option<Sender<()>>,
    /// The demo repository, the webhook server…: they live as long as the run.
    _keep: Vec<Box<dyn std::any::Any + Send>>,
    /// Path of the audit log this run appends to.
    pub audit_path: PathBuf,
    /// Pace name for status lines.
    pub pace: &'static str,
}

impl AppHandle {
    /// A receiver of every event from now on. Subscribe before [`AppHandle::start`] to see them all.
    pub fn subscribe(&self) -> Receiver<Event> {
        self.bus.subscribe()
    }

    /// Let the pipeline begin (it waits so front-ends can subscribe first).
    pub fn start(&mut self) {
        if let Some(tx) = self.start.take() {
            let _ = tx.send(());
        }
    }

    /// Send a command; false if the pipeline has already finished.
    pub fn send(&self, cmd: Command) -> bool {
        self.commands.send(cmd).is_ok()
    }

    /// A sender front-ends can move into their own threads.
    pub fn command_sender(&self) -> Sender<Command> {
        self.commands.clone()
    }

    /// Wait for the run to end.
    pub fn join(mut self) -> Result<RunReport> {
        self.start();
        match self.thread.take() {
            Some(t) => t
                .join()
                .map_err(|_| anyhow::anyhow!("the pipeline thread panicked; see the log file")),
            None => bail!("pipeline already joined"),
        }
    }
}

/// Where the demo's files are: `$CCP_DEMO_DIR`, `./demo`, or the source tree's `demo/`.
pub fn demo_dir() -> Result<PathBuf> {
    if let Ok(d) = std::env::var("CCP_DEMO_DIR") {
        return Ok(PathBuf::from(d));
    }
    let local = PathBuf::from("demo");
    if local.join("fleet.yaml").is_file() {
        return Ok(local);
    }
    let built = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../demo"));
    if built.join("fleet.yaml").is_file() {
        return Ok(built);
    }
    bail!("demo files not found: set CCP_DEMO_DIR to the directory holding fleet.yaml and payment-service/")
}

/// Pipeline settings from configuration.
pub fn settings_from(cfg: &Config, seed: u64) -> PipelineSettings {
    let g = &cfg.gates;
    let v = &cfg.verification;
    let a = &cfg.approval;
    PipelineSettings {
        seed,
        detection: detection_from(cfg),
        gates: GateThresholds {
            max_error_budget_pct: g.max_error_budget_pct,
            max_blast_radius_pct: g.max_blast_radius_pct,
            min_cooldown_s: g.min_cooldown_s as f64,
            max_recent_failures: g.max_recent_failures,
            min_capacity_headroom_pct: g.min_capacity_headroom_pct,
            max_incident_rate_per_h: g.max_incident_rate_per_h,
            risk_max: g.risk_max,
        },
        run_syntax: g.syntax,
        run_tests: g.tests,
        run_lint: g.lint,
        run_security: g.security,
        strategy: StrategyThresholds {
            manual_review: a.risk_manual_review,
            canary: a.risk_canary,
        },
        approval: ApprovalPolicy {
            production: cfg.environment == Environment::Production,
            criticality_threshold: a.criticality_threshold,
            require_for_production: a.require_for_production,
            min_rca_confidence: a.min_rca_confidence,
            max_blast_radius_services: a.max_blast_radius_services as usize,
            max_consecutive_failures: a.max_consecutive_failures,
            timeout_ms: cfg
                .auth
                .approval_ttl_s
                .unwrap_or(a.timeout_s)
                .saturating_mul(1000),
            two_person: {
                use ccp_config::TwoPersonRule as C;
                use ccp_core::pipeline::TwoPersonRule as R;
                match cfg.auth.two_person_rule {
                    Some(C::None) => R::None,
                    Some(C::Critical) => R::Critical,
                    Some(C::All) => R::All,
                    None if cfg.auth.operators.is_empty() => R::None,
                    None => R::Critical,
                }
            },
        },
        canary_steps: cfg
            .deploy
            .steps
            .iter()
            .map(|s| (*s).min(100) as u8)
            .collect(),
        canary_max_error_rate: cfg.canary.max_error_rate,
        canary_max_latency_p99_ms: cfg.canary.max_latency_p99_ms,
        metrics_hold_ms: cfg.canary.metrics_hold_s.saturating_mul(1000),
        min_expected_errors: cfg.canary.min_expected_errors,
        max_observe_ms: cfg.canary.max_observe_s.saturating_mul(1000),
        judge: JudgeConfig {
            alpha: v.alpha,
            min_samples: v.min_samples,
            bootstrap_resamples: v.bootstrap_resamples,
            seed,
            pass_score: v.pass_score,
            marginal_score: v.marginal_score,
            tolerance: v.tolerance,
            // Set per rollout by the pipeline, from its number of judged steps.
            looks: 1,
        },
        verification_window_ms: v.window_s.saturating_mul(1000),
        lock_ttl_ms: cfg.locks.ttl_ms,
        lock_wait_ms: cfg.locks.wait_ms,
        max_concurrent_operations: cfg.locks.max_concurrent_operations as usize,
        only_service: None,
        incident_id: None,
        taken_incident_ids: Default::default(),
        rollback_on_fail: cfg.deploy.rollback_on_fail,
        pacing: StagePacing {
            poll_ms: cfg.detection.poll_interval_s.saturating_mul(1000),
            observe_ms: cfg.deploy.observe_s.saturating_mul(1000),
            // Against real alert sources a quiet hour is normal: keep waiting.
            detect_timeout_ms: if watches_real_fleet(cfg) {
                u64::MAX
            } else {
                StagePacing::default().detect_timeout_ms
            },
            ..StagePacing::default()
        },
    }
}

/// True when alerts can come from outside the embedded fleet.
fn watches_real_fleet(cfg: &Config) -> bool {
    cfg.metrics.backend == ccp_config::MetricsBackend::Prometheus
        || cfg.alerts.listen.is_some()
        || cfg.alerts.alertmanager_url.is_some()
}

fn detection_from(cfg: &Config) -> DetectionSettings {
    DetectionSettings {
        error_rate_threshold: cfg.detection.error_rate_threshold,
        latency_p99_threshold_ms: cfg.detection.latency_p99_threshold_ms,
        window_ms: cfg.detection.window_s.saturating_mul(1000) as i64,
        min_requests: cfg.detection.min_requests,
    }
}

fn fleet_path(cfg: &Config, demo: &Path) -> Result<PathBuf> {
    let configured = &cfg.metrics.fleet;
    if configured.is_absolute() || configured.exists() {
        return Ok(configured.clone());
    }
    // Relative paths are read from the current directory; the demo's own files are also found
    // from wherever the demo is (`CCP_DEMO_DIR`), so `demo/…` works outside the source tree.
    if let Ok(rel) = configured.strip_prefix("demo") {
        let beside = demo.join(rel);
        if beside.exists() {
            return Ok(beside);
        }
    }
    bail!(
        "metrics.fleet: {} not found (relative paths are read from the current directory{}); give an absolute path or run from the directory it is relative to",
        configured.display(),
        std::env::current_dir()
            .map(|d| format!(", {}", d.display()))
            .unwrap_or_default()
    )
}

/// The clock a run (or a desk of runs) lives on: real systems are watched on the wall clock; the
/// embedded fleet on the paced timeline, started on a whole second so every run sees the same
/// per-second grid (reproducible seeds).
fn run_clock(opts: &RunOptions) -> Arc<dyn Clock> {
    if watches_real_fleet(&opts.config) {
        Arc::new(ccp_core::clock::WallClock)
    } else {
        let start_ms = ccp_core::clock::wall_now_ms() / 1000 * 1000;
        Arc::new(PacedClock::new(start_ms, opts.pace))
    }
}

/// The lock backend the config names, kept alive by a renewal thread per lease (see
/// `lock_keeper`): a canary observation window may be longer than a lease.
pub fn lock_manager(cfg: &Config) -> Result<Arc<dyn LockManager>> {
    let inner: Arc<dyn LockManager> = match cfg.locks.backend {
        LockBackend::Local => Arc::new(LocalLockManager::new()),
        LockBackend::Redis => Arc::new(RedisLockManager::new(
            &cfg.locks.redis_url,
            RedisTimeouts::default(),
        )?),
    };
    Ok(Arc::new(KeptLocks::new(
        inner,
        cfg.locks.ttl_ms,
        cfg.locks.renew_every_ms,
    )))
}

/// Where operations in flight are announced: in memory for one process, in Redis beside the
/// locks when several cockpits share a fleet (they must see each other to detect conflicts).
pub fn registry(cfg: &Config) -> Result<Arc<dyn OperationRegistry>> {
    Ok(match cfg.locks.backend {
        LockBackend::Local => Arc::new(MemoryRegistry::new()),
        LockBackend::Redis => Arc::new(RedisRegistry::new(
            &cfg.locks.redis_url,
            RedisTimeouts::default(),
            DEFAULT_OP_TTL_MS,
        )?),
    })
}

/// Build the run the configuration describes (the embedded demo when it names no backend:
/// simulated fleet, demo git repo, local locks, file audit) and start the pipeline thread, paused
/// until [`AppHandle::start`].
pub fn start(opts: &RunOptions) -> Result<AppHandle> {
    start_with_inbox(opts, None)
}

/// The fleet file the configuration names, parsed (what `ccp serve` needs before any run).
pub fn load_fleet_spec(cfg: &Config) -> Result<FleetSpec> {
    Ok(FleetSpec::load(&fleet_path(cfg, &demo_dir()?)?)?)
}

/// Incident ids an audit log already holds (none when it cannot be read: opening it for the run
/// verifies it anyway).
fn incidents_in(audit: &Path) -> std::collections::BTreeSet<String> {
    ccp_audit::read_records(audit)
        .map(|r| ccp_audit::replay::incidents(&r).into_iter().collect())
        .unwrap_or_default()
}

/// The inbox Alertmanager's deliveries are pushed into, labelled for this configuration's fleet.
/// A front-end that receives the webhook creates it and starts runs with [`start_with_inbox`].
pub fn alert_inbox(cfg: &Config, spec: &FleetSpec) -> Arc<AlertInbox> {
    Arc::new(AlertInbox::new(LabelMapping {
        service_label: cfg.alerts.service_label.clone(),
        known_services: spec.services.iter().map(|s| s.name.clone()).collect(),
    }))
}

/// Like [`start`], with Alertmanager alerts taken from `inbox`, which outlives the run: a
/// server receives webhooks once and hands them to one pipeline after another.
pub fn start_with_inbox(
    opts: &RunOptions,
    inbox: Option<Arc<ccp_webhooks::alertmanager::AlertInbox>>,
) -> Result<AppHandle> {
    start_inner(opts, inbox, None, PortOverrides::default())
}

/// Like [`start`] on a fleet described in code rather than read from the fleet file, with
/// some ports supplied by the caller: the failure-injection matrix reshapes the fleet and plays
/// the other operators per scenario.
pub fn start_scenario(
    opts: &RunOptions,
    spec: FleetSpec,
    overrides: PortOverrides,
) -> Result<AppHandle> {
    start_inner(opts, None, Some(spec), overrides)
}

fn start_inner(
    opts: &RunOptions,
    inbox: Option<Arc<ccp_webhooks::alertmanager::AlertInbox>>,
    spec_override: Option<FleetSpec>,
    overrides: PortOverrides,
) -> Result<AppHandle> {
    let inject_regression = match opts.inject_failure.as_deref() {
        None => false,
        Some("canary_regression") => true,
        Some(other) => {
            let known: Vec<&str> = INJECTABLE_FAILURES.iter().map(|f| f.0).collect();
            bail!(
                "unknown failure `{other}` for --inject-failure; known: {}",
                known.join(", ")
            )
        }
    };
    let demo = demo_dir()?;
    let spec_path = fleet_path(&opts.config, &demo)?;
    let spec = match spec_override {
        Some(s) => s,
        None => FleetSpec::load(&spec_path)?,
    };
    let seed = opts.seed.unwrap_or(spec.seed);
    let clock = run_clock(opts);
    std::fs::create_dir_all(&opts.state_dir)
        .with_context(|| format!("creating state directory {}", opts.state_dir.display()))?;
    let audit_path = opts.config.audit_path(&opts.state_dir);
    let fleet_dir = spec_path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let built = backends::build(backends::BuildInputs {
        cfg: &opts.config,
        spec,
        fleet_dir: &fleet_dir,
        demo_dir: &demo,
        external_inbox: inbox,
        seed,
        clock: clock.clone(),
        audit_path: &audit_path,
        inject_regression,
        overrides,
    })?;
    let ports = built.ports;
    let bus = EventBus::new();
    let (cmd_tx, cmd_rx) = channel();
    let (start_tx, start_rx) = channel::<()>();
    let mut settings = settings_from(&opts.config, seed);
    settings.taken_incident_ids = incidents_in(&audit_path);
    let pipeline =
        Pipeline::new(settings, ports, bus.clone(), cmd_rx).with_notifier(built.notifier);
    let thread = std::thread::Builder::new()
        .name("ccp-pipeline".into())
        .spawn(move || {
            let _ = start_rx.recv();
            pipeline.run()
        })
        .context("starting the pipeline thread")?;
    Ok(AppHandle {
        bus,
        commands: cmd_tx,
        thread: Some(thread),
        start: Some(start_tx),
        _keep: built.keep,
        audit_path,
        pace: clock.pace(),
    })
}

/// Run a demo to its end on this thread's watch and return every event, answering an approval
/// request with `decide` (nothing sent when it returns `None`). For benchmarks, tests and tools
/// that need a whole run's events without a front-end.
pub fn collect_events(
    opts: &RunOptions,
    decide: impl Fn(&Event) -> Option<Command>,
) -> Result<Vec<Event>> {
    let mut handle = start(opts)?;
    let rx = handle.subscribe();
    handle.start();
    let mut out = Vec::new();
    for ev in rx.iter() {
        if matches!(
            ev.kind,
            ccp_core::events::EventKind::AwaitingApproval { .. }
        ) {
            if let Some(cmd) = decide(&ev) {
                handle.send(cmd);
            }
        }
        let done = matches!(ev.kind, ccp_core::events::EventKind::Finished { .. });
        out.push(ev);
        if done {
            break;
        }
    }
    handle.join()?;
    Ok(out)
}

/// How `ccp serve` answers paused operations and recovery gates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServeApproval {
    /// Wait for `POST /api/incidents/{id}/approve|reject` (or the approval timeout).
    Http,
    /// Answer as `auto`.
    Auto(ccp_core::events::AutoAnswer),
}

impl ServeApproval {
    /// From the command line's `--auto-approve` / `--auto-reject`.
    pub fn from_flags(approve: bool, reject: bool) -> Self {
        ccp_core::events::AutoAnswer::from_flags(approve, reject).map_or(Self::Http, Self::Auto)
    }
}
