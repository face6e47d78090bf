//! Choosing each port's adapter from configuration. Every backend is picked on its own: the
//! embedded demo is simply the configuration where everything is simulated, and `ccp run` can
//! mix, e.g. Prometheus metrics with the simulated deployer while a team migrates.

use super::lock_manager;
use super::registry;
use anyhow::{bail, Context, Result};
use ccp_adapters::alertmanager_poller::AlertmanagerPoller;
use ccp_adapters::command_checks::CommandCheckRunner;
use ccp_adapters::embedded::demo_repo::build_demo_repo;
use ccp_adapters::embedded::fleet_spec::FleetSpec;
use ccp_adapters::embedded::memory_graph::MemoryGraph;
use ccp_adapters::embedded::sim_fleet::SimFleet;
use ccp_adapters::embedded::template_fixer::TemplateFixer;
use ccp_adapters::fleet_policy::FleetFilePolicy;
use ccp_adapters::git_repo::{FixCommitSettings, GitRepo};
use ccp_adapters::http_errors::{HttpErrorLog, NoErrorLog};
use ccp_adapters::merged_alerts::MergedAlerts;
use ccp_adapters::neo4j_graph::Neo4jGraph;
use ccp_adapters::prometheus::{PromClient, PrometheusMetrics};
use ccp_adapters::script_deployer::ScriptDeployer;
use ccp_audit::FileAuditLog;
use ccp_config::{Config, DeployBackend, GraphBackend, MetricsBackend};
use ccp_core::clock::Clock;
use ccp_core::detect::ThresholdDetector;
use ccp_core::pipeline::Ports;
use ccp_core::ports::{
    AlertSource, DependencyGraph, Deployer, ErrorLogSource, LockManager, MetricsSource,
    OperationRegistry, PolicySource,
};
use ccp_webhooks::alertmanager::{AlertInbox, LabelMapping};
use std::any::Any;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Timeout of one HTTP request to Prometheus, Alertmanager or the error log.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// What a run needs besides its ports: things that must live as long as it does.
pub struct Built {
    /// The ports.
    pub ports: Ports,
    /// The demo repository, webhook server…: dropped when the run ends.
    pub keep: Vec<Box<dyn Any + Send>>,
    /// Where incident notifications go (nowhere unless `notifications` names a channel).
    pub notifier: Arc<dyn ccp_core::ports::Notifier>,
}

/// Inputs of [`build`].
pub struct BuildInputs<'a> {
    /// Configuration.
    pub cfg: &'a Config,
    /// The fleet file, parsed.
    pub spec: FleetSpec,
    /// Where the fleet file is (its `recorded/` traces are relative to it).
    pub fleet_dir: &'a Path,
    /// The demo's directory (its `history.yaml` builds the demo repository).
    pub demo_dir: &'a Path,
    /// Noise seed of the simulated fleet.
    pub seed: u64,
    /// The run's clock.
    pub clock: Arc<dyn Clock>,
    /// Audit log path.
    pub audit_path: &'a Path,
    /// Inject the regressing patch (demo drills).
    pub inject_regression: bool,
    /// An inbox fed by someone else's webhook server (`ccp serve`); it is then always an alert
    /// source and `alerts.listen` starts no server of its own.
    pub external_inbox: Option<Arc<AlertInbox>>,
    /// Ports supplied by the caller instead of built from configuration.
    pub overrides: PortOverrides,
}

/// Ports a caller brings itself. The failure-injection matrix shares one lock manager and one
/// operations registry between the run and the "other operator" it plays, so a held lock or a
/// concurrent operation is a real one, not a flag the pipeline is told about.
#[derive(Default, Clone)]
pub struct PortOverrides {
    /// Lock manager to use instead of `locks.backend`.
    pub locks: Option<Arc<dyn LockManager>>,
    /// Operations registry to use instead of the one `locks.backend` implies.
    pub registry: Option<Arc<dyn OperationRegistry>>,
}

/// Build every port the configuration names.
pub fn build(inp: BuildInputs<'_>) -> Result<Built> {
    let cfg = inp.cfg;
    let mut keep: Vec<Box<dyn Any + Send>> = Vec::new();
    let service_dirs: HashMap<String, String> = inp
        .spec
        .services
        .iter()
        .filter_map(|s| s.code.clone().map(|c| (s.name.clone(), c)))
        .collect();

    // The code: the configured checkout, or the demo repository built for this run.
    let repo_root: PathBuf = match &cfg.repo.path {
        Some(p) => {
            git2::Repository::open(p)
                .with_context(|| format!("repo.path {} is not a git repository", p.display()))?;
            p.clone()
        }
        None => {
            let workdir = tempfile::Builder::new()
                .prefix("ccp-demo-")
                .tempdir()
                .context("creating a temporary directory for the demo repository")?;
            let repo = build_demo_repo(inp.demo_dir, workdir.path(), inp.clock.now_ms() / 1000)
                .context("building the demo git repository")?;
            keep.push(Box::new(workdir));
            repo.path
        }
    };

    // The simulated fleet, when any port is simulated.
    let needs_fleet = cfg.metrics.backend == MetricsBackend::Simulated
        || cfg.deploy.backend == DeployBackend::Simulated;
    let fleet = if needs_fleet {
        Some(Arc::new(
            SimFleet::new(
                inp.spec.clone(),
                inp.seed,
                inp.clock.clone(),
                repo_root.clone(),
                inp.fleet_dir,
            )
            .context("starting the simulated fleet")?,
        ))
    } else {
        None
    };
    let sim = |what: &str| {
        fleet
            .clone()
            .with_context(|| format!("internal: {what} wants the simulated fleet"))
    };

    let metrics: Arc<dyn MetricsSource> = match cfg.metrics.backend {
        MetricsBackend::Simulated => sim("metrics")?,
        MetricsBackend::Prometheus => {
            let client = PromClient::new(&cfg.metrics.prometheus_url, HTTP_TIMEOUT)?;
            let services = inp.spec.services.iter().map(|s| s.name.clone()).collect();
            Arc::new(
                PrometheusMetrics::new(client, services, &cfg.metrics.queries)
                    .map_err(anyhow::Error::msg)?,
            )
        }
    };

    // Alerts: the built-in detector and/or Alertmanager (webhook, API).
    let mut sources: Vec<Arc<dyn AlertSource>> = Vec::new();
    if cfg.detection.enabled {
        sources.push(Arc::new(ThresholdDetector::new(
            metrics.clone(),
            super::detection_from(cfg),
        )));
    }
    let external = inp.external_inbox.is_some();
    let inbox = inp.external_inbox.clone().unwrap_or_else(|| {
        Arc::new(AlertInbox::new(LabelMapping {
            service_label: cfg.alerts.service_label.clone(),
            known_services: inp.spec.services.iter().map(|s| s.name.clone()).collect(),
        }))
    });
    if external {
        sources.push(inbox.clone());
    } else if let Some(listen) = &cfg.alerts.listen {
        // Wiring speaks no HTTP: the front-end that owns the process listens and hands the inbox
        // in (`ccp run`, `ccp serve`). Reaching here means a caller forgot to.
        bail!("internal error: alerts.listen ({listen}) is set but this command started no webhook receiver for it; please report it. Meanwhile remove alerts.listen or use `ccp run` / `ccp serve`, which receive it");
    }
    if let Some(url) = &cfg.alerts.alertmanager_url {
        sources.push(Arc::new(AlertmanagerPoller::new(
            url,
            inbox.clone(),
            HTTP_TIMEOUT,
        )?));
    }
    if sources.is_empty() {
        bail!("no alert source: detection.enabled is false and neither alerts.listen nor alerts.alertmanager_url is set, so no incident could ever open");
    }
    let alerts: Arc<dyn AlertSource> = if sources.len() == 1 {
        sources.remove(0)
    } else {
        Arc::new(MergedAlerts::new(sources))
    };

    let errors: Arc<dyn ErrorLogSource> = match (&cfg.logs.errors_url, &fleet) {
        (Some(url), _) => Arc::new(HttpErrorLog::new(url, HTTP_TIMEOUT)?),
        (None, Some(f)) if cfg.metrics.backend == MetricsBackend::Simulated => f.clone(),
        (None, _) => Arc::new(NoErrorLog),
    };

    let graph: Arc<dyn DependencyGraph> = match cfg.graph.backend {
        GraphBackend::Memory => Arc::new(MemoryGraph::from_fleet(&inp.spec)),
        GraphBackend::Neo4j => {
            let g = Neo4jGraph::from_config(&cfg.graph)?;
            // Fail at start, not mid-incident, when the database is down or the password wrong.
            g.ping()?;
            Arc::new(g)
        }
    };

    let deployer: Arc<dyn Deployer> = match cfg.deploy.backend {
        DeployBackend::Simulated => sim("deploy")?,
        DeployBackend::Script => Arc::new(ScriptDeployer::from_config(&cfg.deploy)?),
    };

    let policy: Arc<dyn PolicySource> = match &fleet {
        Some(f) => f.clone(),
        None => Arc::new(FleetFilePolicy::new(inp.spec.clone(), inp.clock.now_ms())),
    };

    let audit = FileAuditLog::open(inp.audit_path, cfg.audit.fsync)?;
    let ports = Ports {
        clock: inp.clock.clone(),
        alerts,
        metrics,
        errors,
        graph,
        repo: Arc::new(
            GitRepo::new(repo_root.clone(), service_dirs.clone())
                .with_fix_commits(FixCommitSettings::from_config(&cfg.repo)),
        ),
        fixer: Arc::new(TemplateFixer {
            inject_regression: inp.inject_regression,
        }),
        checks: Arc::new(CommandCheckRunner::from_config(
            repo_root,
            service_dirs,
            &cfg.gates,
        )),
        deployer,
        locks: match inp.overrides.locks {
            Some(l) => l,
            None => lock_manager(cfg)?,
        },
        policy,
        registry: match inp.overrides.registry {
            Some(r) => r,
            None => registry(cfg)?,
        },
        audit: Box::new(audit),
    };
    Ok(Built {
        ports,
        keep,
        notifier: ccp_adapters::notify::from_config(&cfg.notifications)?,
    })
}
