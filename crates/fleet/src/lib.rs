//! `ccp fleet`: the embedded simulated fleet as a process of its own, so the whole real chain can
//! run on one machine: the fleet exports Prometheus metrics, Prometheus scrapes it and fires
//! alert rules, Alertmanager posts to `ccp run`, and `ccp run` reads Prometheus back and deploys
//! through a script that calls `ccp fleet shift`, which drives this process's traffic split.

pub mod exposition;

use anyhow::{bail, Context, Result};
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use ccp_adapters::embedded::demo_repo::build_demo_repo;
use ccp_adapters::embedded::fleet_spec::FleetSpec;
use ccp_adapters::embedded::sim_fleet::SimFleet;
use ccp_core::clock::Clock;
use ccp_core::domain::FixPlan;
use ccp_core::ports::{Deployer, ErrorLogSource};
use ccp_http::HttpServer;
use exposition::Accumulator;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Options of `ccp fleet serve`.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Fleet file.
    pub fleet: PathBuf,
    /// Where to build the demo repository (the code the fleet runs and a cockpit patches).
    pub repo_dir: PathBuf,
    /// Listen address.
    pub listen: String,
    /// Noise seed; the fleet file's when `None`.
    pub seed: Option<u64>,
    /// Seconds the fleet runs healthy before its faults begin (each fault starts this much later
    /// than the file says, and never before), so Prometheus has a healthy history to compare the
    /// incident with: the demo's faults are active from the start.
    pub fault_delay_s: f64,
}

struct FleetApp {
    fleet: SimFleet,
    clock: Arc<dyn Clock>,
    acc: Mutex<Accumulator>,
}

/// A deploy request from `ccp fleet shift` (or any script): the same fields the script deployer
/// puts in the environment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeployRequest {
    /// `shift`, `promote` or `rollback`.
    pub action: String,
    /// Service to act on.
    pub service: String,
    /// Traffic share for the patched version (`shift`; `promote` means 100).
    #[serde(default)]
    pub percent: u8,
    /// Fencing token of the deployer's lock.
    pub fence: u64,
    /// The patch (`shift` and `promote`).
    #[serde(default)]
    pub plan: Option<FixPlan>,
}

async fn metrics(State(app): State<Arc<FleetApp>>) -> impl IntoResponse {
    let body = tokio::task::spawn_blocking(move || {
        let mut acc = app.acc.lock().unwrap_or_else(|p| p.into_inner());
        acc.advance(&app.fleet, app.clock.now_ms());
        exposition::render(&acc, &|s| app.fleet.canary_percent(s))
    })
    .await
    .unwrap_or_default();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
}

#[derive(Deserialize)]
struct ErrorsQuery {
    service: String,
}

async fn errors(
    State(app): State<Arc<FleetApp>>,
    Query(q): Query<ErrorsQuery>,
) -> impl IntoResponse {
    match app.fleet.recent_errors(&q.service) {
        Ok(e) => (StatusCode::OK, Json(serde_json::json!({ "errors": e }))),
        Err(e) => (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({ "error": e.to_string() })),
        ),
    }
}

async fn deploy(
    State(app): State<Arc<FleetApp>>,
    Json(req): Json<DeployRequest>,
) -> impl IntoResponse {
    let outcome = tokio::task::spawn_blocking(move || apply(&app.fleet, &req)).await;
    match outcome {
        Ok(Ok(msg)) => (StatusCode::OK, Json(serde_json::json!({ "ok": msg }))),
        Ok(Err((code, msg))) => (code, Json(serde_json::json!({ "error": msg }))),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(serde_json::json!({ "error": e.to_string() })),
        ),
    }
}

fn apply(fleet: &SimFleet, req: &DeployRequest) -> Result<String, (StatusCode, String)> {
    let conflict = |e: ccp_core::ports::PortError| (StatusCode::CONFLICT, e.message);
    match req.action.as_str() {
        "shift" | "promote" => {
            let plan = req.plan.as_ref().ok_or((
                StatusCode::BAD_REQUEST,
                format!("`{}` needs the fix plan", req.action),
            ))?;
            let pct = if req.action == "promote" {
                100
            } else {
                req.percent
            };
            fleet
                .shift(&req.service, plan, pct, req.fence)
                .map_err(conflict)?;
            Ok(format!("{} now {pct}% patched", req.service))
        }
        "rollback" => {
            fleet.rollback(&req.service, req.fence).map_err(conflict)?;
            Ok(format!("{} rolled back", req.service))
        }
        other => Err((
            StatusCode::BAD_REQUEST,
            format!("unknown action `{other}` (shift, promote, rollback)"),
        )),
    }
}

/// Build the fleet and its HTTP server. Returns the server (dropping it stops serving) and the
/// repository path.
pub fn start(opts: &ServeOptions) -> Result<(HttpServer, PathBuf)> {
    let mut spec = FleetSpec::load(&opts.fleet)?;
    if opts.fault_delay_s > 0.0 {
        for f in &mut spec.faults {
            f.start_s = f.start_s.max(0.0) + opts.fault_delay_s;
        }
    }
    let fleet_dir = opts.fleet.parent().unwrap_or(Path::new(".")).to_path_buf();
    let seed = opts.seed.unwrap_or(spec.seed);
    let clock: Arc<dyn Clock> = Arc::new(ccp_core::clock::WallClock);
    std::fs::create_dir_all(&opts.repo_dir)
        .with_context(|| format!("creating {}", opts.repo_dir.display()))?;
    // A fleet with code (the demo) gets its repository built; one without runs on numbers alone.
    let repo_path = if fleet_dir.join("history.yaml").is_file() {
        build_demo_repo(&fleet_dir, &opts.repo_dir, clock.now_ms() / 1000)
            .context("building the fleet's code repository")?
            .path
    } else {
        opts.repo_dir.clone()
    };
    let fleet = SimFleet::new(spec, seed, clock.clone(), repo_path.clone(), &fleet_dir)
        .context("starting the simulated fleet")?;
    let app = Arc::new(FleetApp {
        fleet,
        acc: Mutex::new(Accumulator::new(clock.now_ms())),
        clock,
    });
    let router = Router::new()
        .route("/healthz", get(ccp_http::healthz))
        .route("/metrics", get(metrics))
        .route("/errors", get(errors))
        .route("/deploy", post(deploy))
        .with_state(app);
    Ok((HttpServer::start(&opts.listen, router)?, repo_path))
}

/// `ccp fleet shift`: send the step the script deployer describes in the environment
/// (`CCP_ACTION`, `CCP_SERVICE`, `CCP_PERCENT`, `CCP_FENCE`, `CCP_PLAN_FILE`) to a fleet.
pub fn shift_from_env(url: &str) -> Result<String> {
    let var = |k: &str| {
        std::env::var(k)
            .with_context(|| format!("{k} is not set: run this from a `deploy: script` step"))
    };
    let action = var("CCP_ACTION")?;
    let plan = match action.as_str() {
        "rollback" => None,
        _ => {
            let path = var("CCP_PLAN_FILE")?;
            let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
            Some(
                serde_json::from_str::<FixPlan>(&text)
                    .with_context(|| format!("{path} is not a fix plan"))?,
            )
        }
    };
    let req = DeployRequest {
        action,
        service: var("CCP_SERVICE")?,
        percent: std::env::var("CCP_PERCENT")
            .ok()
            .and_then(|p| p.parse().ok())
            .unwrap_or(0),
        fence: var("CCP_FENCE")?
            .parse()
            .context("CCP_FENCE is not a number")?,
        plan,
    };
    let http = ccp_adapters::tls::blocking_client(std::time::Duration::from_secs(30))?;
    let endpoint = format!("{}/deploy", url.trim_end_matches('/'));
    let resp = http
        .post(&endpoint)
        .json(&req)
        .send()
        .with_context(|| format!("cannot reach the fleet at {endpoint}"))?;
    let status = resp.status();
    let body: serde_json::Value = resp.json().unwrap_or_default();
    if !status.is_success() {
        bail!(
            "the fleet refused {} on {}: HTTP {status}: {}",
            req.action,
            req.service,
            body.get("error")
                .and_then(|e| e.as_str())
                .unwrap_or("no reason given")
        );
    }
    Ok(body
        .get("ok")
        .and_then(|e| e.as_str())
        .unwrap_or("done")
        .to_string())
}
