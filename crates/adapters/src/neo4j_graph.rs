//! The dependency graph kept in a Bolt graph database (Neo4j 4/5, or ArcadeDB with its Bolt
//! plugin), for fleets whose topology is maintained outside the fleet file or is too large for it.
//!
//! Schema: `(:Service {name, criticality, resources})-[:CALLS]->(:Service)`; an edge from → to
//! means *from calls to*, as everywhere in ccp. The adapter reads whatever the database holds
//! ([`DependencyGraph::nodes`], [`DependencyGraph::edges`]), walks it with variable-length paths,
//! and can push a fleet file's topology into it ([`Neo4jGraph::load_topology`]).
//!
//! Ports are synchronous and the pipeline calls them from a plain thread, so the adapter owns a
//! one-worker tokio runtime and blocks on the async driver (neo4rs). Every Bolt round trip has a
//! timeout, so an unreachable server is an error in seconds, never a stalled pipeline. Every
//! value reaches Cypher as a parameter; the only numbers written into query text are depth
//! bounds, which Cypher does not accept as parameters and which this module range-checks.
//! The Cypher is plain openCypher (no APOC, no vendor procedures) so Neo4j and ArcadeDB both run it.

use super::embedded::fleet_spec::FleetSpec;
use super::embedded::memory_graph::MemoryGraph;
use super::url_redact::redact_url;
use ccp_config::GraphConfig;
use ccp_core::domain::ServiceNode;
use ccp_core::ports::{DependencyGraph, PortError, PortResult};
use neo4rs::{query, BoltMap, BoltType, ConfigBuilder, Graph, Query, Row, Txn};
use std::collections::BTreeSet;
use std::future::Future;
use std::time::Duration;

/// Port name in errors, as the pipeline reports them.
const PORT: &str = "graph";

/// Deepest walk [`Neo4jGraph::callers_transitive`] / [`Neo4jGraph::callees_transitive`] accept:
/// variable-length matches cost grows with depth, and no real call chain is this long.
pub const MAX_WALK_DEPTH: u32 = 64;

/// Hops one blast-radius query follows before the closure check; deeper graphs take more rounds
/// (the answer stays exact), shallower bounds keep each query cheap on dense graphs.
pub const DEFAULT_BLAST_DEPTH: u32 = 8;

/// Criticality given to a service node that has none in the database, the same default a fleet
/// file gives a service without one.
const DEFAULT_CRITICALITY: f64 = 0.5;

/// Why a [`Neo4jGraph`] could not be built from configuration. Construction touches no network
/// (the driver connects on first use), so these are all configuration mistakes.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// The URI, user or database is unusable.
    #[error("graph: {0}")]
    Config(String),
    /// The runtime the adapter drives the driver with could not start (out of threads, …).
    #[error("graph: cannot start the Bolt client runtime: {0}")]
    Runtime(#[from] std::io::Error),
}

/// What [`Neo4jGraph::load_topology`] changed, so an operator sees that a reload was a no-op.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct LoadReport {
    /// Services written (created or updated).
    pub services: usize,
    /// Call edges written (created or already there).
    pub edges: usize,
    /// Call edges deleted because the loaded topology no longer has them (prune only).
    pub edges_removed: usize,
}

/// Duplicates found by [`Neo4jGraph::duplicates`]; empty in a graph only ccp has written.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Duplicates {
    /// Names held by more than one `:Service` node.
    pub services: Vec<String>,
    /// (caller, callee) pairs joined by more than one `CALLS` relationship.
    pub edges: Vec<(String, String)>,
}

impl Duplicates {
    /// Whether the graph is free of duplicates.
    pub fn is_empty(&self) -> bool {
        self.services.is_empty() && self.edges.is_empty()
    }
}

/// Settings of a [`Neo4jGraph`], separate from [`GraphConfig`] so tests and tools can build one
/// without a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Neo4jSettings {
    /// Bolt URI (`bolt://host:7687`).
    pub uri: String,
    /// User name.
    pub user: String,
    /// Password.
    pub password: String,
    /// Database (graph) name on the server.
    pub database: String,
    /// Longest wait for one answer from the server.
    pub timeout: Duration,
}

impl From<&GraphConfig> for Neo4jSettings {
    fn from(cfg: &GraphConfig) -> Self {
        Self {
            uri: cfg.uri.clone(),
            user: cfg.user.clone(),
            password: cfg.password.clone(),
            database: cfg.database.clone(),
            timeout: Duration::from_millis(cfg.timeout_ms),
        }
    }
}

/// The service dependency graph in a Bolt graph database.
///
/// Build it outside any async runtime (it owns one and blocks on it) and call it from plain
/// threads, as the pipeline does.
pub struct Neo4jGraph {
    rt: Option<tokio::runtime::Runtime>,
    graph: Graph,
    database: String,
    shown_url: String,
    timeout: Duration,
    blast_depth: u32,
}

impl std::fmt::Debug for Neo4jGraph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Neo4jGraph")
            .field("url", &self.shown_url)
            .field("database", &self.database)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Neo4jGraph {
    /// The graph named by the `graph:` section of the configuration (its `backend` is not
    /// checked, so tools can address the database whatever the pipeline uses). Nothing is
    /// contacted yet: a cockpit may start before its database does.
    pub fn from_config(cfg: &GraphConfig) -> Result<Self, GraphError> {
        Self::connect(&Neo4jSettings::from(cfg))
    }

    /// The graph at `settings`; lazy like [`Neo4jGraph::from_config`].
    pub fn connect(settings: &Neo4jSettings) -> Result<Self, GraphError> {
        let shown_url = redact_url(&settings.uri);
        if settings.uri.trim().is_empty() {
            return Err(GraphError::Config(
                "graph.uri is empty; set it to the server's Bolt URI, e.g. bolt://127.0.0.1:7687"
                    .into(),
            ));
        }
        if settings.database.trim().is_empty() {
            return Err(GraphError::Config(
                "graph.database is empty; name the database that holds the topology".into(),
            ));
        }
        if settings.timeout.is_zero() {
            return Err(GraphError::Config(
                "graph.timeout_ms must be at least 1".into(),
            ));
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("ccp-graph")
            .enable_all()
            .build()?;
        let config = ConfigBuilder::default()
            .uri(settings.uri.as_str())
            .user(settings.user.as_str())
            .password(settings.password.as_str())
            .db(settings.database.as_str())
            .max_connections(4)
            .build()
            .map_err(|e| GraphError::Config(format!("bad graph settings for {shown_url}: {e}")))?;
        let graph = rt
            .block_on(Graph::connect(config))
            .map_err(|e| GraphError::Config(format!("bad graph.uri {shown_url}: {e}")))?;
        Ok(Self {
            rt: Some(rt),
            graph,
            database: settings.database.clone(),
            shown_url,
            timeout: settings.timeout,
            blast_depth: DEFAULT_BLAST_DEPTH,
        })
    }

    /// Follow at most `depth` hops per blast-radius query (1..=[`MAX_WALK_DEPTH`]); lower it for
    /// very dense graphs, where long variable-length matches get expensive. The answer stays exact.
    pub fn with_blast_depth(mut self, depth: u32) -> Self {
        self.blast_depth = depth.clamp(1, MAX_WALK_DEPTH);
        self
    }

    /// The server as shown to people: scheme, host and port, never the password.
    pub fn url(&self) -> &str {
        &self.shown_url
    }

    /// The database (graph) name queries run against.
    pub fn database(&self) -> &str {
        &self.database
    }

    /// Check that the server answers and accepts our credentials, so tools can fail early with
    /// one clear message.
    pub fn ping(&self) -> PortResult<()> {
        self.read_rows("checking the connection", query("RETURN 1 AS ok"))
            .map(|_| ())
    }

    /// Push a fleet file's topology (see [`Neo4jGraph::load_topology`]).
    pub fn load_fleet(&self, spec: &FleetSpec, prune: bool) -> PortResult<LoadReport> {
        let m = MemoryGraph::from_fleet(spec);
        self.load_topology(&m.nodes()?, &m.edges()?, prune)
    }

    /// Write services and call edges in one transaction, idempotently (MERGE on the service name
    /// and on the edge): loading the same topology twice leaves one node per service and one
    /// edge per call. Properties of existing services are updated. With `prune`, call edges
    /// leaving a service of `nodes` that `edges` no longer has are deleted, so a reload follows
    /// removed dependencies; services themselves are never deleted here (see
    /// [`Neo4jGraph::remove_services`]). Edges naming a service missing from `nodes` create it
    /// with default properties rather than being dropped silently.
    pub fn load_topology(
        &self,
        nodes: &[ServiceNode],
        edges: &[(String, String)],
        prune: bool,
    ) -> PortResult<LoadReport> {
        let mut names: BTreeSet<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
        for (from, to) in edges {
            names.insert(from);
            names.insert(to);
        }
        let service_rows: Vec<BoltType> = nodes
            .iter()
            .map(|n| {
                let mut m = BoltMap::new();
                m.put("name".into(), n.name.as_str().into());
                m.put("criticality".into(), n.criticality.into());
                m.put("resources".into(), n.resources.clone().into());
                BoltType::Map(m)
            })
            .collect();
        let declared: BTreeSet<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
        let implicit: Vec<String> = names
            .iter()
            .filter(|n| !declared.contains(*n))
            .map(|n| n.to_string())
            .collect();
        let unique_edges: BTreeSet<(&str, &str)> = edges
            .iter()
            .map(|(f, t)| (f.as_str(), t.as_str()))
            .collect();
        let edge_rows: Vec<BoltType> = unique_edges
            .iter()
            .map(|(f, t)| {
                let mut m = BoltMap::new();
                m.put("from".into(), (*f).into());
                m.put("to".into(), (*t).into());
                BoltType::Map(m)
            })
            .collect();

        let mut statements = vec![(
            "writing services",
            query(
                "UNWIND $rows AS row \
                 MERGE (s:Service {name: row.name}) \
                 SET s.criticality = row.criticality, s.resources = row.resources",
            )
            .param("rows", service_rows),
        )];
        if !implicit.is_empty() {
            statements.push((
                "writing services only named by edges",
                query("UNWIND $names AS name MERGE (:Service {name: name})")
                    .param("names", implicit),
            ));
        }
        if !edge_rows.is_empty() {
            statements.push((
                "writing call edges",
                query(
                    "UNWIND $rows AS row \
                     MATCH (a:Service {name: row.from}) \
                     MATCH (b:Service {name: row.to}) \
                     MERGE (a)-[:CALLS]->(b)",
                )
                .param("rows", edge_rows),
            ));
        }
        let mut counted = Vec::new();
        if prune {
            for n in nodes {
                let keep: Vec<String> = unique_edges
                    .iter()
                    .filter(|(f, _)| *f == n.name)
                    .map(|(_, t)| t.to_string())
                    .collect();
                counted.push((
                    "removing call edges no longer in the topology",
                    query(
                        "MATCH (a:Service {name: $name})-[r:CALLS]->(b:Service) \
                         WHERE NOT b.name IN $keep \
                         DELETE r \
                         RETURN count(*) AS removed",
                    )
                    .param("name", n.name.as_str())
                    .param("keep", keep),
                ));
            }
        }
        let removed = self.write_txn(statements, counted)?;
        Ok(LoadReport {
            services: names.len(),
            edges: unique_edges.len(),
            edges_removed: removed,
        })
    }

    /// Delete services and every edge touching them, for decommissioned services (and for tests
    /// that share one database). Returns how many were there.
    pub fn remove_services(&self, names: &[String]) -> PortResult<usize> {
        let counted = vec![(
            "removing services",
            query(
                "MATCH (s:Service) WHERE s.name IN $names \
                 DETACH DELETE s \
                 RETURN count(*) AS removed",
            )
            .param("names", names.to_vec()),
        )];
        self.write_txn(Vec::new(), counted)
    }

    /// Service names held by more than one node and calls recorded more than once. ccp reads
    /// them as one, but they mean something else writes the graph without MERGE, or that
    /// concurrent loads raced without a uniqueness constraint on `:Service(name)`.
    pub fn duplicates(&self) -> PortResult<Duplicates> {
        let services = self.names(
            "looking for duplicate services",
            query(
                "MATCH (s:Service) WITH s.name AS name, count(*) AS n WHERE n > 1 \
                 RETURN name",
            ),
        )?;
        let edges = self.read_edges(
            "looking for duplicate call edges",
            query(
                "MATCH (a:Service)-[r:CALLS]->(b:Service) \
                 WITH a.name AS caller, b.name AS callee, count(r) AS n WHERE n > 1 \
                 RETURN caller, callee",
            ),
        )?;
        let mut services = services;
        services.sort();
        services.dedup();
        Ok(Duplicates { services, edges })
    }

    /// Run a query returning `caller, callee` rows; edges sorted and unique.
    fn read_edges(&self, what: &str, q: neo4rs::Query) -> PortResult<Vec<(String, String)>> {
        let rows = self.read_rows(what, q)?;
        let mut edges = rows
            .iter()
            .map(|r| self.edge_of(what, r))
            .collect::<PortResult<Vec<_>>>()?;
        edges.sort();
        edges.dedup();
        Ok(edges)
    }

    fn edge_of(&self, what: &str, r: &Row) -> PortResult<(String, String)> {
        Ok((
            r.get::<String>("caller")
                .map_err(|e| self.err(what, format!("an edge without a caller name: {e}")))?,
            r.get::<String>("callee")
                .map_err(|e| self.err(what, format!("an edge without a callee name: {e}")))?,
        ))
    }

    /// Every service that calls `service` through at most `depth` calls (upstream: who sees its
    /// errors), without `service` itself, sorted. `depth` 0 is nobody; above
    /// [`MAX_WALK_DEPTH`] is an error.
    pub fn callers_transitive(&self, service: &str, depth: u32) -> PortResult<Vec<String>> {
        self.walk(service, depth, Direction::Up)
    }

    /// Every service `service` reaches through at most `depth` calls (downstream: what it
    /// depends on), without `service` itself, sorted. Same bounds as
    /// [`Neo4jGraph::callers_transitive`].
    pub fn callees_transitive(&self, service: &str, depth: u32) -> PortResult<Vec<String>> {
        self.walk(service, depth, Direction::Down)
    }

    fn walk(&self, service: &str, depth: u32, dir: Direction) -> PortResult<Vec<String>> {
        if depth == 0 {
            return Ok(Vec::new());
        }
        if depth > MAX_WALK_DEPTH {
            return Err(PortError::new(
                PORT,
                format!("walk depth {depth} is above the limit of {MAX_WALK_DEPTH}"),
            ));
        }
        // The bound is a checked integer: Cypher takes no parameter there.
        let pattern = match dir {
            Direction::Up => format!("(n:Service)-[:CALLS*1..{depth}]->(:Service {{name: $name}})"),
            Direction::Down => {
                format!("(:Service {{name: $name}})-[:CALLS*1..{depth}]->(n:Service)")
            }
        };
        let q = query(&format!(
            "MATCH {pattern} WHERE n.name <> $name RETURN DISTINCT n.name AS name"
        ))
        .param("name", service);
        let mut out = self.names("walking the call graph", q)?;
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Names from a query returning a `name` column.
    fn names(&self, what: &str, q: Query) -> PortResult<Vec<String>> {
        self.read_rows(what, q)?
            .iter()
            .map(|r| {
                r.get::<String>("name")
                    .map_err(|e| self.err(what, format!("a service without a name: {e}")))
            })
            .collect()
    }

    /// Run a read query and collect its rows, each Bolt round trip under the timeout. It runs in
    /// an explicit transaction because the driver's auto-commit path retries failed connections
    /// for a minute, which would hide "connection refused" or "wrong password" behind a timeout.
    fn read_rows(&self, what: &str, q: Query) -> PortResult<Vec<Row>> {
        // A read that meets a node another client is deleting fails with EntityNotFound on
        // ArcadeDB (seen when several writers share the database); that is transient, so the
        // read is tried again a few times before it becomes the pipeline's error.
        let mut attempt = 0;
        loop {
            match self.read_rows_once(what, q.clone()) {
                Err(e) if e.message.contains("EntityNotFound") && attempt < 3 => {
                    attempt += 1;
                    tracing::warn!(
                        attempt,
                        "graph read raced a concurrent delete, retrying: {e}"
                    );
                    std::thread::sleep(std::time::Duration::from_millis(50 * attempt));
                }
                other => return other,
            }
        }
    }

    fn read_rows_once(&self, what: &str, q: Query) -> PortResult<Vec<Row>> {
        self.block(what, async {
            let mut txn = self
                .timed(what, self.graph.start_txn_on(self.database.as_str()))
                .await?;
            let mut rows = Vec::new();
            let mut stream = self.timed(what, txn.execute(q)).await?;
            while let Some(row) = self.timed(what, stream.next(txn.handle())).await? {
                rows.push(row);
            }
            self.timed(what, txn.commit()).await?;
            Ok(rows)
        })
    }

    /// Run `plain` statements, then `counted` ones (each returning one `removed` count), in one
    /// transaction; the sum of the counts on success, nothing written on failure.
    fn write_txn(
        &self,
        plain: Vec<(&str, Query)>,
        counted: Vec<(&str, Query)>,
    ) -> PortResult<usize> {
        self.block("writing the topology", async {
            let mut txn = self
                .timed(
                    "starting a transaction",
                    self.graph.start_txn_on(self.database.as_str()),
                )
                .await?;
            let result = self.run_in(&mut txn, plain, counted).await;
            match result {
                Ok(removed) => {
                    self.timed("committing the transaction", txn.commit())
                        .await?;
                    Ok(removed)
                }
                Err(e) => {
                    // Best effort: a dead connection rolls back on the server by itself.
                    let _ = tokio::time::timeout(self.timeout, txn.rollback()).await;
                    Err(e)
                }
            }
        })
    }

    /// The statements of [`Neo4jGraph::write_txn`], inside its transaction.
    async fn run_in(
        &self,
        txn: &mut Txn,
        plain: Vec<(&str, Query)>,
        counted: Vec<(&str, Query)>,
    ) -> PortResult<usize> {
        for (what, q) in plain {
            self.timed(what, txn.run(q)).await?;
        }
        let mut removed = 0usize;
        for (what, q) in counted {
            let mut stream = self.timed(what, txn.execute(q)).await?;
            while let Some(row) = self.timed(what, stream.next(txn.handle())).await? {
                let n = row.get::<i64>("removed").unwrap_or(0);
                removed += usize::try_from(n).unwrap_or(0);
            }
        }
        Ok(removed)
    }

    /// One Bolt round trip under the timeout, its error in operator words.
    async fn timed<T>(
        &self,
        what: &str,
        fut: impl Future<Output = Result<T, neo4rs::Error>>,
    ) -> PortResult<T> {
        match tokio::time::timeout(self.timeout, fut).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(self.driver_err(what, &e)),
            Err(_) => Err(self.err(
                what,
                format!(
                    "no answer within {} ms: is the server up and is graph.uri its Bolt port (not its HTTP port)? Raise graph.timeout_ms for a slow link",
                    self.timeout.as_millis()
                ),
            )),
        }
    }

    fn block<T>(&self, what: &str, fut: impl Future<Output = PortResult<T>>) -> PortResult<T> {
        match &self.rt {
            Some(rt) => rt.block_on(fut),
            None => Err(self.err(what, "the graph client is shut down".into())),
        }
    }

    fn err(&self, what: &str, detail: String) -> PortError {
        PortError::new(
            PORT,
            format!(
                "{what} at {} (database `{}`): {detail}",
                self.shown_url, self.database
            ),
        )
    }

    fn driver_err(&self, what: &str, e: &neo4rs::Error) -> PortError {
        use neo4rs::Error as E;
        let hint = match e {
            E::IOError { .. } | E::ConnectionError => {
                "cannot reach the server: is it running, and is graph.uri its Bolt address?"
            }
            E::AuthenticationError(_) => "check graph.user and graph.password",
            E::UnsupportedVersion(_) => {
                "no Bolt 4.x handshake: is graph.uri the server's Bolt port (not its HTTP port)?"
            }
            E::UrlParseError(_) | E::UnsupportedScheme(_) | E::InvalidDnsName(_) => {
                "check graph.uri (bolt://host:port)"
            }
            E::Neo4j(n) if n.code().contains("Security") => {
                "check graph.user and graph.password, and the user's rights on the database"
            }
            E::Neo4j(n) if n.code().contains("Database") => "check graph.database",
            E::UnexpectedMessage(m) if m.contains("Database") => "check graph.database",
            E::UnexpectedMessage(m) if m.contains("Security") => {
                "check graph.user and graph.password, and the user's rights on the database"
            }
            _ => "",
        };
        let text = match e {
            E::UnexpectedMessage(m) => server_failure(m).unwrap_or_else(|| m.clone()),
            other => other.to_string(),
        };
        let detail = if hint.is_empty() {
            text
        } else {
            format!("{text} ({hint})")
        };
        self.err(what, detail)
    }
}

impl Drop for Neo4jGraph {
    fn drop(&mut self) {
        // Never block in drop: a graph dropped on an async thread must not panic there.
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// `code: message` of a server FAILURE the driver only hands over as its debug text (it does so
/// for a failed BEGIN), so the operator reads the server's words rather than the driver's structs.
fn server_failure(debug: &str) -> Option<String> {
    let mut strings = Vec::new();
    let mut rest = debug;
    while let Some(i) = rest.find("value: \"") {
        rest = &rest[i + "value: \"".len()..];
        let end = rest.find("\" }")?;
        strings.push(&rest[..end]);
        rest = &rest[end..];
    }
    let field = |key: &str| {
        strings
            .iter()
            .position(|s| *s == key)
            .and_then(|i| strings.get(i + 1))
    };
    match (field("code"), field("message")) {
        (Some(code), Some(message)) => Some(format!("{code}: {message}")),
        (None, Some(message)) => Some((*message).to_string()),
        _ => None,
    }
}

#[derive(Clone, Copy)]
enum Direction {
    Up,
    Down,
}

impl DependencyGraph for Neo4jGraph {
    fn nodes(&self) -> PortResult<Vec<ServiceNode>> {
        let what = "reading services";
        let rows = self.read_rows(
            what,
            query(
                "MATCH (s:Service) \
                 RETURN s.name AS name, s.criticality AS criticality, s.resources AS resources",
            ),
        )?;
        let mut nodes = Vec::with_capacity(rows.len());
        for r in rows {
            let name = r
                .get::<String>("name")
                .map_err(|e| self.err(what, format!("a service without a name: {e}")))?;
            let criticality = r
                .get::<Option<f64>>("criticality")
                .ok()
                .flatten()
                .unwrap_or(DEFAULT_CRITICALITY);
            let resources = r
                .get::<Option<Vec<String>>>("resources")
                .ok()
                .flatten()
                .unwrap_or_default();
            nodes.push(ServiceNode {
                name,
                criticality,
                resources,
            });
        }
        nodes.sort_by(|a, b| a.name.cmp(&b.name));
        nodes.dedup_by(|a, b| a.name == b.name);
        Ok(nodes)
    }

    fn edges(&self) -> PortResult<Vec<(String, String)>> {
        self.read_edges(
            "reading call edges",
            query(
                "MATCH (a:Service)-[:CALLS]->(b:Service) RETURN a.name AS caller, b.name AS callee",
            ),
        )
    }

    fn callees(&self, service: &str) -> PortResult<Vec<String>> {
        self.callees_transitive(service, 1)
    }

    fn callers(&self, service: &str) -> PortResult<Vec<String>> {
        self.callers_transitive(service, 1)
    }

    /// Callers within `blast_depth` hops in one variable-length query, then a one-hop check that
    /// nobody outside the set calls into it; if someone does, the walk continues from there. So
    /// the answer is the full transitive closure (what the pure `GraphView` computes) whatever
    /// the graph's depth, while each query stays bounded.
    fn blast_radius(&self, service: &str) -> PortResult<Vec<String>> {
        let depth = self.blast_depth;
        let mut seen: BTreeSet<String> = self
            .names(
                "computing the blast radius",
                query(&format!(
                    "MATCH (c:Service)-[:CALLS*1..{depth}]->(s:Service {{name: $name}}) \
                     RETURN DISTINCT c.name AS name"
                ))
                .param("name", service),
            )?
            .into_iter()
            .collect();
        seen.remove(service);
        loop {
            let mut set: Vec<String> = seen.iter().cloned().collect();
            set.push(service.to_string());
            let frontier: Vec<String> = self
                .names(
                    "computing the blast radius",
                    query(
                        "MATCH (c:Service)-[:CALLS]->(x:Service) \
                         WHERE x.name IN $set AND NOT c.name IN $set \
                         RETURN DISTINCT c.name AS name",
                    )
                    .param("set", set),
                )?
                .into_iter()
                .filter(|n| n != service && !seen.contains(n))
                .collect();
            if frontier.is_empty() {
                return Ok(seen.into_iter().collect());
            }
            let further = self.names(
                "computing the blast radius",
                query(&format!(
                    "MATCH (c:Service)-[:CALLS*1..{depth}]->(x:Service) \
                     WHERE x.name IN $frontier \
                     RETURN DISTINCT c.name AS name"
                ))
                .param("frontier", frontier.clone()),
            )?;
            seen.extend(frontier);
            seen.extend(further);
            seen.remove(service);
        }
    }
}
