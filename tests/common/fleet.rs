//! The demo fleet simulated in-process, for tests that run whole pipelines against it.

use super::demo_dir;
use ccp_adapters::embedded::demo_repo::build_demo_repo;
use ccp_adapters::embedded::fleet_spec::FleetSpec;
use ccp_adapters::embedded::local_lock::LocalLockManager;
use ccp_adapters::embedded::memory_graph::MemoryGraph;
use ccp_adapters::embedded::memory_registry::MemoryRegistry;
use ccp_adapters::embedded::python_runner::PythonCheckRunner;
use ccp_adapters::embedded::sim_fleet::SimFleet;
use ccp_adapters::embedded::template_fixer::TemplateFixer;
use ccp_adapters::git_repo::GitRepo;
use ccp_audit::FileAuditLog;
use ccp_core::clock::{Clock, VirtualClock};
use ccp_core::detect::{DetectionSettings, ThresholdDetector};
use ccp_core::pipeline::Ports;
use ccp_core::ports::Deployer;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The demo's own fleet file.
pub fn demo_fleet() -> FleetSpec {
    FleetSpec::load(&demo_dir().join("fleet.yaml")).expect("demo fleet parses")
}

/// A simulated fleet with a copy of the demo repository, and what pipelines acting on it share:
/// clock, dependency graph, repository, checks, locks and the operations registry.
pub struct DemoFleet {
    pub clock: Arc<VirtualClock>,
    pub fleet: Arc<SimFleet>,
    pub graph: Arc<MemoryGraph>,
    pub repo: Arc<GitRepo>,
    pub checks: Arc<PythonCheckRunner>,
    pub locks: Arc<LocalLockManager>,
    pub registry: Arc<MemoryRegistry>,
}

impl DemoFleet {
    /// `spec` simulated (seed 42) on a virtual clock starting now, in whole seconds, with its
    /// code in a fresh demo repository under `dir/repo`.
    pub fn new(spec: FleetSpec, dir: &Path) -> Self {
        let start_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock after 1970")
            .as_millis() as i64
            / 1000
            * 1000;
        let clock = Arc::new(VirtualClock::new(start_ms));
        let repo =
            build_demo_repo(&demo_dir(), &dir.join("repo"), start_ms / 1000).expect("demo repo");
        let service_dirs: HashMap<String, String> = spec
            .services
            .iter()
            .filter_map(|s| s.code.clone().map(|c| (s.name.clone(), c)))
            .collect();
        let graph = Arc::new(MemoryGraph::from_fleet(&spec));
        let dyn_clock: Arc<dyn Clock> = clock.clone();
        let fleet = Arc::new(
            SimFleet::new(spec, 42, dyn_clock, repo.path.clone(), &demo_dir()).expect("fleet"),
        );
        Self {
            clock,
            fleet,
            graph,
            repo: Arc::new(GitRepo::new(repo.path.clone(), service_dirs.clone())),
            checks: Arc::new(PythonCheckRunner::new(
                repo.path,
                service_dirs,
                Duration::from_secs(60),
            )),
            locks: Arc::new(LocalLockManager::new()),
            registry: Arc::new(MemoryRegistry::new()),
        }
    }

    /// The ports of one pipeline on this fleet: everything shared, except that it deploys
    /// through `deployer` and writes its own audit log at `audit`.
    pub fn ports(&self, deployer: Arc<dyn Deployer>, audit: &Path) -> Ports {
        Ports {
            clock: self.clock.clone(),
            alerts: Arc::new(ThresholdDetector::new(
                self.fleet.clone(),
                DetectionSettings::default(),
            )),
            metrics: self.fleet.clone(),
            errors: self.fleet.clone(),
            graph: self.graph.clone(),
            repo: self.repo.clone(),
            fixer: Arc::new(TemplateFixer::default()),
            checks: self.checks.clone(),
            deployer,
            locks: self.locks.clone(),
            policy: self.fleet.clone(),
            registry: self.registry.clone(),
            audit: Box::new(FileAuditLog::open(audit, false).expect("audit log")),
        }
    }
}
