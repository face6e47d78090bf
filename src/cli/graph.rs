//! `ccp graph load` / `ccp graph show`: the operator's side of the graph backend. `load` pushes a
//! fleet file's topology into the configured Bolt database, `show` prints what ccp reads back,
//! which is exactly what root-cause analysis and the blast-radius gate will see.

use super::args::GraphCmd;
use super::load_config;
use anyhow::Result;
use std::process::ExitCode;

use ccp_adapters::embedded::fleet_spec::FleetSpec;
use ccp_adapters::neo4j_graph::{Duplicates, LoadReport, Neo4jGraph};
use ccp_config::Config;
use ccp_core::domain::ServiceNode;
use ccp_core::ports::{DependencyGraph, PortError};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Why a graph command failed; the two kinds exit differently so scripts can tell a mistake in
/// their input from a database that is down.
#[derive(Debug, thiserror::Error)]
pub enum GraphCmdError {
    /// Bad configuration or fleet file: exit 2, like every other input error of ccp.
    #[error("{0}")]
    Input(String),
    /// The database could not be reached or refused a query: exit 1.
    #[error(transparent)]
    Graph(#[from] PortError),
}

impl GraphCmdError {
    /// The process exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            GraphCmdError::Input(_) => 2,
            GraphCmdError::Graph(_) => 1,
        }
    }
}

/// What `ccp graph load` did, printed for the operator (or as JSON).
#[derive(Debug, Clone, Serialize)]
pub struct LoadOutcome {
    /// Server, without password.
    pub url: String,
    /// Database written to.
    pub database: String,
    /// Fleet file read.
    pub fleet: PathBuf,
    /// Counts.
    #[serde(flatten)]
    pub report: LoadReport,
}

/// What `ccp graph show` read: the same shape as the `services` and `edges` of an RCA bundle, so
/// the output can seed one.
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    /// Server, without password.
    pub url: String,
    /// Database read.
    pub database: String,
    /// Every service, sorted by name.
    pub services: Vec<ServiceNode>,
    /// Every call edge, sorted.
    pub edges: Vec<EdgeOut>,
    /// Names and calls stored more than once (read as one); empty when only ccp writes the graph.
    pub duplicates: Duplicates,
}

/// One call edge as printed: `from` calls `to`.
#[derive(Debug, Clone, Serialize)]
pub struct EdgeOut {
    /// Caller.
    pub from: String,
    /// Callee.
    pub to: String,
}

/// The fleet file `load` reads when none is given: `metrics.fleet` if it exists, else the demo's.
pub fn default_fleet(cfg: &Config) -> Result<PathBuf, GraphCmdError> {
    let configured = &cfg.metrics.fleet;
    if configured.is_absolute() || configured.exists() {
        return Ok(configured.clone());
    }
    ccp_app::demo_dir()
        .map(|d| d.join("fleet.yaml"))
        .map_err(|e| GraphCmdError::Input(format!("no fleet file given and none found: {e:#}")))
}

fn open(cfg: &Config) -> Result<Neo4jGraph, GraphCmdError> {
    if cfg.graph.backend != ccp_config::GraphBackend::Neo4j {
        return Err(GraphCmdError::Input(format!(
            "graph.backend is `{}`: set it to `neo4j` (with graph.uri, graph.user, graph.password, graph.database) to use a graph database",
            cfg.graph.backend
        )));
    }
    Neo4jGraph::from_config(&cfg.graph).map_err(|e| GraphCmdError::Input(e.to_string()))
}

/// `ccp graph load`: MERGE the fleet file's services and calls into the database in one
/// transaction; with `prune`, also delete calls the file no longer has.
pub fn load(cfg: &Config, fleet: &Path, prune: bool) -> Result<LoadOutcome, GraphCmdError> {
    let spec = FleetSpec::load(fleet).map_err(|e| GraphCmdError::Input(e.to_string()))?;
    let graph = open(cfg)?;
    let report = graph.load_fleet(&spec, prune)?;
    Ok(LoadOutcome {
        url: graph.url().to_string(),
        database: graph.database().to_string(),
        fleet: fleet.to_path_buf(),
        report,
    })
}

/// `ccp graph show`: read services and edges back from the database.
pub fn show(cfg: &Config) -> Result<Snapshot, GraphCmdError> {
    let graph = open(cfg)?;
    let services = graph.nodes()?;
    let edges = graph
        .edges()?
        .into_iter()
        .map(|(from, to)| EdgeOut { from, to })
        .collect();
    let duplicates = graph.duplicates()?;
    Ok(Snapshot {
        url: graph.url().to_string(),
        database: graph.database().to_string(),
        services,
        edges,
        duplicates,
    })
}

/// Human text for `load`.
pub fn render_load(o: &LoadOutcome) -> String {
    let mut s = format!(
        "loaded {} into {} (database `{}`): {} services, {} call edges",
        o.fleet.display(),
        o.url,
        o.database,
        o.report.services,
        o.report.edges
    );
    if o.report.edges_removed > 0 {
        let _ = write!(s, ", {} stale edges removed", o.report.edges_removed);
    }
    s.push('\n');
    s
}

/// Human text for `show`: services with criticality and resources, then each service's callees.
pub fn render_show(snap: &Snapshot) -> String {
    let mut s = format!(
        "{} (database `{}`): {} services, {} call edges\n",
        snap.url,
        snap.database,
        snap.services.len(),
        snap.edges.len()
    );
    let width = snap
        .services
        .iter()
        .map(|n| n.name.chars().count())
        .max()
        .unwrap_or(0);
    for n in &snap.services {
        let calls: Vec<&str> = snap
            .edges
            .iter()
            .filter(|e| e.from == n.name)
            .map(|e| e.to.as_str())
            .collect();
        let _ = write!(s, "  {:<width$}  {:.2}", n.name, n.criticality);
        if !calls.is_empty() {
            let _ = write!(s, "  → {}", calls.join(", "));
        }
        if !n.resources.is_empty() {
            let _ = write!(s, "  [uses {}]", n.resources.join(", "));
        }
        s.push('\n');
    }
    let d = &snap.duplicates;
    if !d.services.is_empty() {
        let _ = writeln!(
            s,
            "warning: services stored as several nodes (read as one): {}; add a uniqueness constraint on :Service(name)",
            d.services.join(", ")
        );
    }
    if !d.edges.is_empty() {
        let pairs: Vec<String> = d.edges.iter().map(|(f, t)| format!("{f} → {t}")).collect();
        let _ = writeln!(
            s,
            "warning: calls stored more than once (read as one): {}",
            pairs.join(", ")
        );
    }
    s
}

/// `ccp graph …`: exit 0, 1 when the database fails, 2 for bad config or fleet file.
pub(super) fn command(cmd: GraphCmd, config: Option<&Path>) -> Result<ExitCode> {
    let Some(path) = config else {
        eprintln!("ccp graph needs --config FILE with a `graph:` section (backend: neo4j)");
        return Ok(ExitCode::from(2));
    };
    let cfg = match load_config(Some(path)) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let result = match cmd {
        GraphCmd::Load { fleet, prune, json } => {
            let fleet = match fleet {
                Some(f) => Ok(f),
                None => default_fleet(&cfg),
            };
            fleet.and_then(|f| load(&cfg, &f, prune)).map(|o| {
                if json {
                    serde_json::to_string(&o).map(|j| format!("{j}\n"))
                } else {
                    Ok(render_load(&o))
                }
            })
        }
        GraphCmd::Show { json } => show(&cfg).map(|snap| {
            if json {
                serde_json::to_string(&snap).map(|j| format!("{j}\n"))
            } else {
                Ok(render_show(&snap))
            }
        }),
    };
    match result {
        Ok(text) => {
            print!("{}", text?);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("ccp: {e}");
            Ok(ExitCode::from(e.exit_code()))
        }
    }
}
