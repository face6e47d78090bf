//! The layers of DESIGN.md, held by the crates' manifests: a crate cannot import what it does not
//! depend on, so checking each `[dependencies]` list checks the architecture. Reads
//! `cargo metadata` (no network, no build) and fails naming the crate and the forbidden edge.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// Which workspace crates each crate may depend on (normal dependencies; tests may use more).
/// A crate missing here fails the test: every new crate takes a place in the layers on purpose.
const ALLOWED: &[(&str, &[&str])] = &[
    ("ccp-core", &[]),
    ("ccp-config", &[]),
    ("ccp-audit", &["ccp-core"]),
    ("ccp-webhooks", &["ccp-core", "ccp-config"]),
    (
        "ccp-cicd-recovery",
        &["ccp-core", "ccp-config", "ccp-webhooks"],
    ),
    (
        "ccp-adapters",
        &[
            "ccp-core",
            "ccp-audit",
            "ccp-config",
            "ccp-webhooks",
            "ccp-cicd-recovery",
        ],
    ),
    (
        "ccp-app",
        &[
            "ccp-core",
            "ccp-audit",
            "ccp-config",
            "ccp-webhooks",
            "ccp-cicd-recovery",
            "ccp-adapters",
        ],
    ),
    // Front-ends: events in, commands out, through the app; never an adapter.
    ("ccp-headless", &["ccp-core", "ccp-app"]),
    ("ccp-tui", &["ccp-core", "ccp-app"]),
    (
        "ccp-http",
        &[
            "ccp-core",
            "ccp-app",
            "ccp-audit",
            "ccp-config",
            "ccp-webhooks",
            "ccp-cicd-recovery",
        ],
    ),
    // The simulated fleet as its own process: an adapter served over HTTP.
    ("ccp-fleet", &["ccp-core", "ccp-adapters", "ccp-http"]),
    (
        "ccp-drills",
        &[
            "ccp-core",
            "ccp-app",
            "ccp-adapters",
            "ccp-audit",
            "ccp-config",
        ],
    ),
    (
        "ccp-bench",
        &[
            "ccp-core",
            "ccp-app",
            "ccp-adapters",
            "ccp-config",
            "ccp-headless",
            "ccp-tui",
        ],
    ),
];

/// Outside crates that do I/O or own a terminal: core must stay deterministic without them.
const IO_CRATES: &[&str] = &[
    "tokio",
    "reqwest",
    "redis",
    "neo4rs",
    "git2",
    "axum",
    "ratatui",
    "crossterm",
    "lettre",
    "hyper",
    "libc",
    "tempfile",
];

/// Backends' client libraries: a front-end that links one is talking to a backend directly.
const BACKEND_CLIENTS: &[&str] = &["reqwest", "redis", "neo4rs", "git2", "lettre"];

struct Manifest {
    normal: BTreeSet<String>,
}

fn workspace() -> BTreeMap<String, Manifest> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON");
    let mut crates = BTreeMap::new();
    for pkg in meta["packages"].as_array().expect("packages") {
        let name = pkg["name"].as_str().expect("name").to_string();
        let normal = pkg["dependencies"]
            .as_array()
            .expect("dependencies")
            .iter()
            .filter(|d| d["kind"].is_null())
            .map(|d| d["name"].as_str().expect("dependency name").to_string())
            .collect();
        crates.insert(name, Manifest { normal });
    }
    crates
}

fn allowed() -> BTreeMap<&'static str, BTreeSet<&'static str>> {
    ALLOWED
        .iter()
        .map(|(k, v)| (*k, v.iter().copied().collect()))
        .collect()
}

#[test]
fn every_crate_has_a_place_in_the_layers() {
    let ws = workspace();
    let allowed = allowed();
    for name in ws.keys() {
        if name == "ccp" {
            continue;
        }
        assert!(
            allowed.contains_key(name.as_str()),
            "{name} is not placed in the layers: add it to ALLOWED in tests/layers.rs"
        );
    }
    for name in allowed.keys() {
        assert!(
            ws.contains_key(*name),
            "{name} is listed but no longer exists"
        );
    }
}

/// Every edge between workspace crates that the layers do not allow, as `from -> to`.
fn forbidden_edges(ws: &BTreeMap<String, Manifest>) -> Vec<String> {
    let allowed = allowed();
    let mut broken = Vec::new();
    for (name, m) in ws {
        let Some(ok) = allowed.get(name.as_str()) else {
            continue;
        };
        for dep in m.normal.iter().filter(|d| d.starts_with("ccp-")) {
            if !ok.contains(dep.as_str()) {
                broken.push(format!("{name} -> {dep}"));
            }
        }
    }
    broken
}

#[test]
fn no_crate_depends_on_a_layer_above_it() {
    let broken = forbidden_edges(&workspace());
    assert!(broken.is_empty(), "forbidden edges: {broken:?}");
}

#[test]
fn core_does_no_io() {
    let ws = workspace();
    let core = &ws["ccp-core"];
    let io: Vec<&String> = core
        .normal
        .iter()
        .filter(|d| IO_CRATES.contains(&d.as_str()))
        .collect();
    assert!(io.is_empty(), "ccp-core depends on {io:?}");
}

#[test]
fn front_ends_link_no_backend_client() {
    let ws = workspace();
    for fe in ["ccp-tui", "ccp-headless", "ccp-http"] {
        let found: Vec<&String> = ws[fe]
            .normal
            .iter()
            .filter(|d| BACKEND_CLIENTS.contains(&d.as_str()) || *d == "ccp-adapters")
            .collect();
        assert!(found.is_empty(), "{fe} depends on {found:?}");
    }
}

/// The check above can fail: the same workspace with the cockpit linking an adapter, or core
/// linking the app, is reported edge by edge.
#[test]
fn a_forbidden_edge_is_reported() {
    let mut ws = workspace();
    assert!(forbidden_edges(&ws).is_empty());
    ws.get_mut("ccp-tui")
        .expect("ccp-tui")
        .normal
        .insert("ccp-adapters".into());
    ws.get_mut("ccp-core")
        .expect("ccp-core")
        .normal
        .insert("ccp-app".into());
    assert_eq!(
        forbidden_edges(&ws),
        vec![
            "ccp-core -> ccp-app".to_string(),
            "ccp-tui -> ccp-adapters".to_string()
        ]
    );
}
