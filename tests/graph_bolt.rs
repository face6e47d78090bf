//! The Bolt graph adapter (`graph.backend: neo4j`) and `ccp graph load/show` against a real Bolt
//! server (ArcadeDB with its Bolt plugin, started by tests/run.sh; address in
//! `CCP_TEST_BOLT_URL`): the fleet topology round-trips, reloads are idempotent, walks honour
//! their depth, the blast radius equals the in-memory graph's, names reach Cypher only as
//! parameters, and an unreachable server is a prompt, readable error.
//!
//! Every test writes services under its own name prefix and deletes them afterwards, so the
//! tests can run in parallel against one database (and leave it as they found it). Outside
//! tests/run.sh (no server) the server tests say so and pass, unless `CCP_REQUIRE_SERVERS` is
//! set, which tests/run.sh does: there a missing server is a failure.

use ccp_adapters::embedded::fleet_spec::FleetSpec;
use ccp_adapters::embedded::memory_graph::MemoryGraph;
use ccp_adapters::neo4j_graph::{Neo4jGraph, Neo4jSettings, MAX_WALK_DEPTH};
use ccp_config::{GraphBackend, GraphConfig};
use ccp_core::domain::ServiceNode;
use ccp_core::ports::DependencyGraph;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

const CCP: &str = env!("CARGO_BIN_EXE_ccp");

fn server_settings() -> Option<Neo4jSettings> {
    match std::env::var("CCP_TEST_BOLT_URL") {
        Ok(uri) => Some(Neo4jSettings {
            uri,
            user: std::env::var("CCP_TEST_BOLT_USER").unwrap_or_else(|_| "root".into()),
            password: std::env::var("CCP_TEST_BOLT_PASSWORD").unwrap_or_default(),
            database: std::env::var("CCP_TEST_BOLT_DATABASE").unwrap_or_else(|_| "ccp".into()),
            timeout: Duration::from_secs(20),
        }),
        Err(_) if std::env::var_os("CCP_REQUIRE_SERVERS").is_some() => {
            panic!("CCP_TEST_BOLT_URL is not set but servers are required (run tests/run.sh)")
        }
        Err(_) => {
            eprintln!("skipped: no Bolt server (run tests/run.sh to start one)");
            None
        }
    }
}

/// A name prefix no other test (or earlier run against the same database) uses.
fn unique_prefix(what: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "t-{what}-{}-{nanos}-{}/",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// The graph plus the names a test wrote, deleted on drop even when the test fails.
struct Scoped {
    graph: Neo4jGraph,
    prefix: String,
}

impl Scoped {
    fn new(settings: &Neo4jSettings, what: &str) -> Self {
        Scoped {
            graph: Neo4jGraph::connect(settings).expect("graph from settings"),
            prefix: unique_prefix(what),
        }
    }

    fn name(&self, n: &str) -> String {
        format!("{}{n}", self.prefix)
    }

    /// Nodes and edges of this test only, sorted.
    fn own(&self) -> (Vec<ServiceNode>, Vec<(String, String)>) {
        let mut nodes: Vec<ServiceNode> = self
            .graph
            .nodes()
            .expect("nodes")
            .into_iter()
            .filter(|n| n.name.starts_with(&self.prefix))
            .collect();
        nodes.sort_by(|a, b| a.name.cmp(&b.name));
        let mut edges: Vec<(String, String)> = self
            .graph
            .edges()
            .expect("edges")
            .into_iter()
            .filter(|(f, t)| f.starts_with(&self.prefix) || t.starts_with(&self.prefix))
            .collect();
        edges.sort();
        (nodes, edges)
    }

    fn cleanup(&self) {
        let names: Vec<String> = self
            .graph
            .nodes()
            .map(|ns| {
                ns.into_iter()
                    .map(|n| n.name)
                    .filter(|n| n.starts_with(&self.prefix))
                    .collect()
            })
            .unwrap_or_default();
        if !names.is_empty() {
            let _ = self.graph.remove_services(&names);
        }
    }
}

impl Drop for Scoped {
    fn drop(&mut self) {
        self.cleanup();
    }
}

fn demo_fleet_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/fleet.yaml")
}

/// The demo fleet with every service name prefixed (faults dropped: only the topology matters).
fn prefixed_demo_fleet(prefix: &str) -> FleetSpec {
    let mut spec = FleetSpec::load(&demo_fleet_path()).expect("demo fleet");
    for s in &mut spec.services {
        s.name = format!("{prefix}{}", s.name);
        for c in &mut s.calls {
            c.to = format!("{prefix}{}", c.to);
        }
    }
    spec.faults.clear();
    spec
}

fn sorted_memory(m: &MemoryGraph) -> (Vec<ServiceNode>, Vec<(String, String)>) {
    let mut nodes = m.nodes().expect("memory nodes");
    nodes.sort_by(|a, b| a.name.cmp(&b.name));
    let mut edges = m.edges().expect("memory edges");
    edges.sort();
    (nodes, edges)
}

fn node(name: String, criticality: f64) -> ServiceNode {
    ServiceNode {
        name,
        criticality,
        resources: Vec::new(),
    }
}

#[test]
fn demo_fleet_round_trips() {
    let Some(settings) = server_settings() else {
        return;
    };
    let g = Scoped::new(&settings, "roundtrip");
    g.graph.ping().expect("the server answers");
    let spec = prefixed_demo_fleet(&g.prefix);
    let t = Instant::now();
    let report = g.graph.load_fleet(&spec, false).expect("load");
    eprintln!("demo fleet: load in {:?}", t.elapsed());
    assert_eq!(report.services, spec.services.len());
    let memory = MemoryGraph::from_fleet(&spec);
    let (want_nodes, want_edges) = sorted_memory(&memory);
    assert_eq!(report.edges, want_edges.len());
    let (nodes, edges) = g.own();
    assert_eq!(nodes, want_nodes, "services read back differ from the file");
    assert_eq!(
        edges, want_edges,
        "call edges read back differ from the file"
    );
    assert!(
        nodes.iter().any(|n| !n.resources.is_empty()),
        "resources (lists) survive the round trip"
    );
    // Direct neighbours come from their own queries; they agree with the edges.
    let api = g.name("api");
    let mut callees: Vec<String> = want_edges
        .iter()
        .filter(|(f, _)| *f == api)
        .map(|(_, t)| t.clone())
        .collect();
    callees.sort();
    assert_eq!(g.graph.callees(&api).expect("callees"), callees);
    let pg = g.name("postgres_primary");
    let mut callers: Vec<String> = want_edges
        .iter()
        .filter(|(_, t)| *t == pg)
        .map(|(f, _)| f.clone())
        .collect();
    callers.sort();
    assert_eq!(g.graph.callers(&pg).expect("callers"), callers);
}

#[test]
fn reload_is_idempotent_and_prune_follows_removed_calls() {
    let Some(settings) = server_settings() else {
        return;
    };
    let g = Scoped::new(&settings, "reload");
    let mut spec = prefixed_demo_fleet(&g.prefix);
    g.graph.load_fleet(&spec, false).expect("first load");
    let first = g.own();
    let again = g.graph.load_fleet(&spec, true).expect("second load");
    assert_eq!(again.edges_removed, 0, "nothing to prune on a reload");
    assert_eq!(g.own(), first, "a reload changes nothing");
    let dups = g.graph.duplicates().expect("duplicates");
    let ours = |n: &String| n.starts_with(&g.prefix);
    assert!(
        !dups.services.iter().any(ours) && !dups.edges.iter().any(|(f, _)| ours(f)),
        "no duplicate nodes or edges after a reload: {dups:?}"
    );

    // Change the file: a criticality, and a call removed.
    let api = g.name("api");
    let gone = g.name("recommendation-service");
    let s = spec
        .services
        .iter_mut()
        .find(|s| s.name == api)
        .expect("api in fleet");
    s.criticality = 0.42;
    s.calls.retain(|c| c.to != gone);
    // Without prune the removed call stays; properties are updated either way.
    g.graph
        .load_fleet(&spec, false)
        .expect("load without prune");
    let (nodes, edges) = g.own();
    assert!(edges.contains(&(api.clone(), gone.clone())));
    let api_node = nodes.iter().find(|n| n.name == api).expect("api node");
    assert_eq!(api_node.criticality, 0.42);
    // With prune it goes, and only it.
    let report = g.graph.load_fleet(&spec, true).expect("load with prune");
    assert_eq!(report.edges_removed, 1);
    let (_, edges) = g.own();
    let (_, want) = sorted_memory(&MemoryGraph::from_fleet(&spec));
    assert_eq!(edges, want);
}

/// a → b → c → d, a → e → d, d → f: walks by depth in both directions.
#[test]
fn walks_up_and_down_honour_depth() {
    let Some(settings) = server_settings() else {
        return;
    };
    let g = Scoped::new(&settings, "walk");
    let n = |x: &str| g.name(x);
    let nodes: Vec<ServiceNode> = ["a", "b", "c", "d", "e", "f"]
        .iter()
        .map(|x| node(n(x), 0.5))
        .collect();
    let edges: Vec<(String, String)> = [
        ("a", "b"),
        ("b", "c"),
        ("c", "d"),
        ("a", "e"),
        ("e", "d"),
        ("d", "f"),
    ]
    .iter()
    .map(|(f, t)| (n(f), n(t)))
    .collect();
    g.graph.load_topology(&nodes, &edges, false).expect("load");
    let names = |xs: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = xs.iter().map(|x| n(x)).collect();
        v.sort();
        v
    };
    let down = |s: &str, d: u32| g.graph.callees_transitive(&n(s), d).expect("down");
    let up = |s: &str, d: u32| g.graph.callers_transitive(&n(s), d).expect("up");
    assert_eq!(down("a", 0), Vec::<String>::new());
    assert_eq!(down("a", 1), names(&["b", "e"]));
    assert_eq!(down("a", 2), names(&["b", "c", "d", "e"]));
    assert_eq!(down("a", 3), names(&["b", "c", "d", "e", "f"]));
    assert_eq!(down("a", MAX_WALK_DEPTH), names(&["b", "c", "d", "e", "f"]));
    assert_eq!(down("f", 5), Vec::<String>::new());
    assert_eq!(up("f", 1), names(&["d"]));
    assert_eq!(up("f", 2), names(&["c", "d", "e"]));
    assert_eq!(up("f", 3), names(&["a", "b", "c", "d", "e"]));
    assert_eq!(up("d", 1), names(&["c", "e"]));
    assert_eq!(up("a", 4), Vec::<String>::new());
    assert_eq!(
        g.graph.callers(&n("d")).expect("callers"),
        names(&["c", "e"])
    );
    assert_eq!(g.graph.callees(&n("d")).expect("callees"), names(&["f"]));
    let e = g
        .graph
        .callers_transitive(&n("f"), MAX_WALK_DEPTH + 1)
        .expect_err("too deep");
    assert!(e.to_string().contains("limit"), "{e}");
    // An unknown service has no neighbours rather than an error.
    assert_eq!(down("nobody", 3), Vec::<String>::new());
    assert_eq!(
        g.graph.blast_radius(&n("nobody")).expect("blast"),
        Vec::<String>::new()
    );
}

fn assert_blast_radius_matches(g: &Scoped, graph: &Neo4jGraph, memory: &MemoryGraph) {
    for s in memory.nodes().expect("nodes") {
        let want = memory.blast_radius(&s.name).expect("memory blast radius");
        let got = graph.blast_radius(&s.name).expect("bolt blast radius");
        assert_eq!(
            got, want,
            "blast radius of {} (prefix {})",
            s.name, g.prefix
        );
    }
}

#[test]
fn blast_radius_equals_memory_graph_on_the_demo_fleet() {
    let Some(settings) = server_settings() else {
        return;
    };
    let g = Scoped::new(&settings, "blastdemo");
    let spec = prefixed_demo_fleet(&g.prefix);
    g.graph.load_fleet(&spec, false).expect("load");
    let memory = MemoryGraph::from_fleet(&spec);
    let t = Instant::now();
    assert_blast_radius_matches(&g, &g.graph, &memory);
    eprintln!(
        "demo fleet: blast radius of {} services in {:?}",
        spec.services.len(),
        t.elapsed()
    );
}

/// 30 services: a 30-long call chain (deeper than one blast-radius query goes), random forward
/// calls, and two back edges that close cycles. The answer must not depend on how many hops one
/// query follows.
#[test]
fn blast_radius_equals_memory_graph_on_a_synthetic_topology() {
    let Some(settings) = server_settings() else {
        return;
    };
    let g = Scoped::new(&settings, "blastsyn");
    const N: usize = 30;
    let names: Vec<String> = (0..N).map(|i| g.name(&format!("svc{i:02}"))).collect();
    let nodes: Vec<ServiceNode> = names
        .iter()
        .enumerate()
        .map(|(i, n)| node(n.clone(), (i % 10) as f64 / 10.0))
        .collect();
    let mut edges: Vec<(String, String)> = (0..N - 1)
        .map(|i| (names[i].clone(), names[i + 1].clone()))
        .collect();
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for i in 0..N {
        for j in i + 2..N {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if x % 100 < 12 {
                edges.push((names[i].clone(), names[j].clone()));
            }
        }
    }
    edges.push((names[20].clone(), names[5].clone()));
    edges.push((names[29].clone(), names[25].clone()));
    g.graph.load_topology(&nodes, &edges, false).expect("load");
    let memory = MemoryGraph::new(nodes.clone(), edges.clone());
    let (_, want_edges) = sorted_memory(&memory);
    assert_eq!(g.own().1, want_edges);
    for depth in [1, 3, 8] {
        let graph = Neo4jGraph::connect(&settings)
            .expect("graph")
            .with_blast_depth(depth);
        let t = Instant::now();
        assert_blast_radius_matches(&g, &graph, &memory);
        eprintln!(
            "synthetic: {N} services, {} edges, blast depth {depth}: all blast radii in {:?}",
            edges.len(),
            t.elapsed()
        );
    }
    // Walks agree with the closure when deep enough.
    let up = g
        .graph
        .callers_transitive(&names[N - 1], MAX_WALK_DEPTH)
        .expect("walk up");
    assert_eq!(up, memory.blast_radius(&names[N - 1]).expect("memory"));
}

#[test]
fn names_with_cypher_metacharacters_round_trip() {
    let Some(settings) = server_settings() else {
        return;
    };
    let g = Scoped::new(&settings, "quote");
    let odd = [
        "it's",
        "say \"hi\"",
        "x'}) DETACH DELETE n //",
        "back\\slash",
        "$name",
        "`tick`",
        "dépôt-服务 ✓",
        "line\nbreak",
        "semi; MATCH (m) DETACH DELETE m",
    ];
    let names: Vec<String> = odd.iter().map(|x| g.name(x)).collect();
    let nodes: Vec<ServiceNode> = names
        .iter()
        .map(|n| ServiceNode {
            name: n.clone(),
            criticality: 0.7,
            resources: vec![format!("{n} db"), "q'ueue".into()],
        })
        .collect();
    // A chain through all of them.
    let edges: Vec<(String, String)> = names
        .windows(2)
        .map(|w| (w[0].clone(), w[1].clone()))
        .collect();
    g.graph.load_topology(&nodes, &edges, false).expect("load");
    let (got_nodes, got_edges) = g.own();
    let mut want_nodes = nodes.clone();
    want_nodes.sort_by(|a, b| a.name.cmp(&b.name));
    let mut want_edges = edges.clone();
    want_edges.sort();
    assert_eq!(got_nodes, want_nodes);
    assert_eq!(got_edges, want_edges);
    let last = names.last().expect("names");
    let mut upstream = names[..names.len() - 1].to_vec();
    upstream.sort();
    assert_eq!(g.graph.blast_radius(last).expect("blast"), upstream);
    assert_eq!(
        g.graph.callees(&names[0]).expect("callees"),
        vec![names[1].clone()]
    );
    // Deleting by these names deletes exactly them.
    let removed = g.graph.remove_services(&names[..2]).expect("remove");
    assert_eq!(removed, 2);
    assert_eq!(g.own().0.len(), names.len() - 2);
}

fn settings_at(uri: String, timeout: Duration) -> Neo4jSettings {
    Neo4jSettings {
        uri,
        user: "neo4j".into(),
        password: "hunter2-secret".into(),
        database: "neo4j".into(),
        timeout,
    }
}

/// Needs no server: a closed port is refused at once, a port that never answers times out; both
/// say where they tried and what to check, and never print the password.
#[test]
fn unreachable_server_is_a_clear_error_not_a_hang() {
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let g = Neo4jGraph::connect(&settings_at(
        format!("bolt://127.0.0.1:{closed}"),
        Duration::from_secs(5),
    ))
    .expect("construction is lazy");
    let t = Instant::now();
    let e = g.nodes().expect_err("nothing listens there").to_string();
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert!(e.starts_with("graph: "), "{e}");
    assert!(e.contains(&format!("127.0.0.1:{closed}")), "{e}");
    assert!(e.contains("is it running"), "{e}");
    assert!(!e.contains("hunter2"), "{e}");

    // Accepts TCP (the kernel completes the handshake) but never speaks Bolt.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = silent.local_addr().expect("addr").port();
    let g = Neo4jGraph::connect(&settings_at(
        format!("bolt://127.0.0.1:{port}"),
        Duration::from_millis(800),
    ))
    .expect("lazy");
    let t = Instant::now();
    let e = g
        .blast_radius("payment-service")
        .expect_err("silent server")
        .to_string();
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(700) && took < Duration::from_secs(4),
        "{took:?}"
    );
    assert!(e.contains("no answer within 800 ms"), "{e}");
    assert!(e.contains("graph.timeout_ms"), "{e}");
    drop(silent);

    // The password in a URI is not shown either.
    let g = Neo4jGraph::connect(&settings_at(
        format!("bolt://neo4j:hunter2-secret@127.0.0.1:{closed}"),
        Duration::from_secs(2),
    ));
    if let Ok(g) = g {
        let e = g.edges().expect_err("closed").to_string();
        assert!(!e.contains("hunter2"), "{e}");
    }
    // From the config section, as `ccp run` builds it.
    let cfg = GraphConfig {
        backend: GraphBackend::Neo4j,
        uri: format!("bolt://127.0.0.1:{closed}"),
        password: "hunter2-secret".into(),
        timeout_ms: 3000,
        ..GraphConfig::default()
    };
    let g = Neo4jGraph::from_config(&cfg).expect("lazy");
    let e = g.ping().expect_err("closed").to_string();
    assert!(e.contains("is it running") && !e.contains("hunter2"), "{e}");
    assert!(Neo4jGraph::connect(&settings_at(String::new(), Duration::from_secs(1))).is_err());
    assert!(Neo4jGraph::connect(&settings_at("bolt://x:1".into(), Duration::ZERO)).is_err());
}

fn write_config(dir: &Path, name: &str, s: &Neo4jSettings, backend: &str) -> PathBuf {
    let path = dir.join(name);
    let yaml = format!(
        "graph:\n  backend: {backend}\n  uri: {}\n  user: {}\n  password: {}\n  database: {}\n  timeout_ms: 20000\n",
        serde_json::to_string(&s.uri).expect("json"),
        serde_json::to_string(&s.user).expect("json"),
        serde_json::to_string(&s.password).expect("json"),
        serde_json::to_string(&s.database).expect("json"),
    );
    std::fs::write(&path, yaml).expect("write config");
    path
}

fn ccp(state: &Path, args: &[&str]) -> std::process::Output {
    Command::new(CCP)
        .args(args)
        .env("CCP_STATE_DIR", state)
        .output()
        .expect("run ccp")
}

#[test]
fn cli_graph_load_and_show() {
    let Some(settings) = server_settings() else {
        return;
    };
    let g = Scoped::new(&settings, "cli");
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state");
    let cfg = write_config(dir.path(), "ccp.yaml", &settings, "neo4j");
    let spec = prefixed_demo_fleet(&g.prefix);
    let fleet = dir.path().join("fleet.yaml");
    std::fs::write(&fleet, serde_yaml::to_string(&spec).expect("yaml")).expect("write fleet");
    let cfg_s = cfg.to_str().expect("utf-8");
    let fleet_s = fleet.to_str().expect("utf-8");

    let out = ccp(
        &state,
        &["graph", "load", "--config", cfg_s, "--fleet", fleet_s],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("24 services, 34 call edges"), "{text}");
    assert!(!text.contains(&settings.password) || settings.password.is_empty());

    let out = ccp(
        &state,
        &[
            "graph", "load", "--config", cfg_s, "--fleet", fleet_s, "--prune", "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("load --json is JSON");
    assert_eq!(v["services"], 24);
    assert_eq!(v["edges"], 34);
    assert_eq!(v["edges_removed"], 0);

    let out = ccp(&state, &["graph", "show", "--config", cfg_s, "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("show --json is JSON");
    let services: Vec<ServiceNode> =
        serde_json::from_value(v["services"].clone()).expect("services");
    let mut services: Vec<ServiceNode> = services
        .into_iter()
        .filter(|s| s.name.starts_with(&g.prefix))
        .collect();
    services.sort_by(|a, b| a.name.cmp(&b.name));
    let mut edges: Vec<(String, String)> = v["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| {
            (
                e["from"].as_str().expect("from").to_string(),
                e["to"].as_str().expect("to").to_string(),
            )
        })
        .filter(|(f, _)| f.starts_with(&g.prefix))
        .collect();
    edges.sort();
    let (want_nodes, want_edges) = sorted_memory(&MemoryGraph::from_fleet(&spec));
    assert_eq!(services, want_nodes);
    assert_eq!(edges, want_edges);

    let out = ccp(&state, &["graph", "show", "--config", cfg_s]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    let api_line = text
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{}api ", g.prefix)))
        .unwrap_or_else(|| panic!("api listed:\n{text}"));
    assert!(
        api_line.contains(&format!("→ {}auth-service", g.prefix)),
        "{api_line}"
    );

    // A memory backend has no database: input error, exit 2.
    let mem = write_config(dir.path(), "memory.yaml", &settings, "memory");
    let out = ccp(
        &state,
        &["graph", "show", "--config", mem.to_str().expect("utf-8")],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("neo4j"));

    // A bad fleet file is exit 2; a server that is not there is exit 1, promptly.
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "services: [{name: a, rps: 1, latency_p50_ms: 1, calls: [{to: b, share: 1}]}]\n",
    )
    .expect("write");
    let out = ccp(
        &state,
        &[
            "graph",
            "load",
            "--config",
            cfg.to_str().expect("utf-8"),
            "--fleet",
            bad.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let down = Neo4jSettings {
        uri: format!("bolt://127.0.0.1:{closed}"),
        ..settings.clone()
    };
    let cfg = write_config(dir.path(), "down.yaml", &down, "neo4j");
    let t = Instant::now();
    let out = ccp(
        &state,
        &["graph", "show", "--config", cfg.to_str().expect("utf-8")],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(t.elapsed() < Duration::from_secs(10));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("127.0.0.1:{closed}")), "{err}");
}
