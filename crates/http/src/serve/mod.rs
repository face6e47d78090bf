//! `ccp serve`: the incident desk behind HTTP, for a team. Webhooks and the configured sources
//! feed alerts in; incidents run concurrently (up to `locks.max_concurrent_operations`, each
//! paused only by its own approval); `/api/incidents` and the `/api/events` stream tell what
//! happens; commands (`approve`, `reject`, `pause`, `resume`, `abort`) come from authenticated
//! operators and are recorded under their identity. Attached cockpits (`ccp attach`) use the
//! same API.
//!
//! Failed CI pipelines and deployments (`/webhooks/<provider>`) open recovery cases that run
//! beside the incidents (see `ccp_app::cicd_desk`), answered at `POST /api/recoveries/{id}/…`.

pub mod auth;
mod incidents;
mod sse;
pub mod state;

use crate::{alertmanager_hook, HttpServer};
use anyhow::{Context, Result};
use auth::{Authorizer, Denied};
use axum::extract::{ConnectInfo, Path as UrlPath, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use ccp_app::desk::stream::Streamed;
use ccp_app::desk::{Desk, DeskOptions};
use ccp_app::{self as app, RunOptions};
use ccp_config::Role;
use ccp_webhooks::alertmanager::AlertInbox;
use serde::Deserialize;
use state::ServeState;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

pub use ccp_app::ServeApproval;

/// Events a slow stream client may fall behind before it is dropped (it resumes from its last
/// id; the pipelines never wait for it).
pub const CLIENT_LAG_LIMIT: usize = 4096;

/// Options of `ccp serve`.
pub struct ServeOptions {
    /// Listen address.
    pub listen: String,
    /// What each pipeline run is built from.
    pub run: RunOptions,
    /// How approvals are answered.
    pub approval: ServeApproval,
    /// Stop after one incident (tests, drills).
    pub once: bool,
}

/// What HTTP handlers share.
pub(crate) struct Shared {
    state: Mutex<ServeState>,
    pub(crate) desk: Desk,
    pub(crate) auth: Authorizer,
    /// Every streamed event, fanned out to SSE clients (bounded per client).
    pub(crate) live: broadcast::Sender<Arc<Streamed>>,
    /// Set when the server stops, so open event streams end and the shutdown is not held up.
    pub(crate) closing: tokio::sync::watch::Sender<bool>,
    inbox: Arc<AlertInbox>,
    /// Service criticality from the fleet file, for allow-lists by criticality.
    pub(crate) criticality: std::collections::BTreeMap<String, f64>,
    /// Recovery cases (`None` when `recovery.enabled` is off).
    recoveries: Option<Arc<ccp_app::cicd_desk::RecoveryDesk>>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The answer to a refused request: 401 or 403 with the reason (never the token).
pub(crate) fn denied(d: &Denied) -> (StatusCode, Json<serde_json::Value>) {
    let status = match d {
        Denied::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        Denied::Forbidden(_) => StatusCode::FORBIDDEN,
    };
    (status, Json(serde_json::json!({"error": d.to_string()})))
}

pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
}

async fn api_state(State(s): State<Arc<Shared>>, headers: HeaderMap) -> axum::response::Response {
    if let Err(d) = s.auth.require(bearer(&headers), None, Role::Viewer) {
        return denied(&d).into_response();
    }
    let st = lock(&s.state).clone();
    let desk = s.desk.snapshot();
    let current = desk.running.first().map(|r| r.incident.clone());
    Json(serde_json::json!({
        "incidents": st.incidents(),
        "current_incident": current,
        "running": desk.running,
        "queued": desk.queued,
        "cooling": desk.cooling,
        "max_concurrent": desk.max_concurrent,
        "alerts_joined": desk.alerts_joined,
        "alerts_pending": s.inbox.pending(),
        "stream_latest": s.desk.stream().latest(),
        "ci_events": st.ci_events,
        "kpis": st.kpis,
        "recoveries": s.recoveries.as_ref().map(|d| d.cases()).unwrap_or_default(),
    }))
    .into_response()
}

async fn metrics(State(s): State<Arc<Shared>>) -> impl IntoResponse {
    let audit = s.desk.audit_path.clone();
    let shared = s.clone();
    let body = tokio::task::spawn_blocking(move || {
        let chain = ccp_audit::verify_file(&audit).ok();
        let mut body = lock(&shared.state).exposition(chain.as_ref(), shared.inbox.pending());
        body.push_str(&desk_exposition(&shared.desk.snapshot()));
        body.push_str(&inbox_exposition(&shared.inbox.counts()));
        if let Some(desk) = &shared.recoveries {
            body.push_str(&desk.exposition());
        }
        body
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

/// The desk's gauges: what runs, what waits.
fn desk_exposition(d: &ccp_app::desk::DeskSnapshot) -> String {
    use ccp_core::exposition::{Exposition, Kind};
    let mut w = Exposition::default();
    w.single(
        "ccp_incidents_running",
        Kind::Gauge,
        "Incidents whose pipeline is running now.",
        d.running.len(),
    );
    w.single(
        "ccp_incidents_queued",
        Kind::Gauge,
        "Services with an alert waiting for a free pipeline slot.",
        d.queued.len(),
    );
    w.single(
        "ccp_incidents_max_concurrent",
        Kind::Gauge,
        "Pipelines allowed at once (locks.max_concurrent_operations).",
        d.max_concurrent,
    );
    w.single(
        "ccp_alerts_joined_total",
        Kind::Counter,
        "Alerts that joined an incident already queued or running instead of opening one.",
        d.alerts_joined,
    );
    w.finish()
}

/// The Alertmanager intake's account: every alert posted, by what became of it.
fn inbox_exposition(c: &ccp_webhooks::alertmanager::InboxCounts) -> String {
    use ccp_core::exposition::{Exposition, Kind};
    let mut w = Exposition::default();
    w.family(
        "ccp_alertmanager_alerts_total",
        Kind::Counter,
        "Alerts delivered by Alertmanager (webhook or poll), by what became of them; refused ones were in deliveries turned away with 503 while the inbox was full.",
    );
    for (result, n) in [
        ("new", c.new),
        ("duplicate", c.duplicate),
        ("resolved", c.resolved),
        ("ignored", c.ignored),
        ("refused", c.refused),
    ] {
        w.row("ccp_alertmanager_alerts_total", &[("result", result)], n);
    }
    w.finish()
}

#[derive(Deserialize, Default)]
pub(crate) struct Decision {
    /// Ignored: the actor is the authenticated identity. Accepted so old clients still parse.
    #[serde(default)]
    #[allow(dead_code)]
    actor: Option<String>,
    #[serde(default)]
    pub(crate) comment: String,
    #[serde(default)]
    pub(crate) reason: String,
}

/// `POST /api/recoveries/{id}/approve|reject`: 202 sent to the waiting case, 404 no such case
/// (or recovery is off, or another verb), 409 the case is not waiting at a gate.
async fn decide_recovery(
    State(s): State<Arc<Shared>>,
    UrlPath((id, verb)): UrlPath<(String, String)>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    body: Option<Json<Decision>>,
) -> (StatusCode, Json<serde_json::Value>) {
    use ccp_cicd_recovery::exec::GateAnswer;
    let actor = match s.auth.require(bearer(&headers), Some(peer), Role::Approver) {
        Ok(who) => who.map(|w| w.name).unwrap_or_default(),
        Err(d) => return denied(&d),
    };
    let d = body.map(|Json(d)| d).unwrap_or_default();
    let answer = match verb.as_str() {
        "approve" => GateAnswer::Approved {
            actor,
            comment: d.comment,
        },
        "reject" => GateAnswer::Rejected {
            actor,
            comment: d.comment,
        },
        _ => {
            return (
                StatusCode::NOT_FOUND,
                Json(serde_json::json!({"error": "use /approve or /reject"})),
            )
        }
    };
    let Some(desk) = &s.recoveries else {
        return (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({"error": "recovery is off (recovery.enabled: false)"})),
        );
    };
    match desk.decide(&id, answer) {
        Ok(()) => (
            StatusCode::ACCEPTED,
            Json(serde_json::json!({"sent": verb})),
        ),
        Err(404) => (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({"error": format!("no recovery case {id}")})),
        ),
        Err(_) => (
            StatusCode::CONFLICT,
            Json(serde_json::json!({"error": format!("{id} is not waiting for approval")})),
        ),
    }
}

/// Run the server until SIGINT/SIGTERM (or after one incident with `once`). `ready` is told the
/// address once the listener is bound.
pub fn serve(opts: ServeOptions, ready: impl FnOnce(std::net::SocketAddr)) -> Result<()> {
    let cfg = opts.run.config.clone();
    let spec = app::load_fleet_spec(&cfg)?;
    let local_user = cfg
        .actor
        .clone()
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "local".into());
    let auth = Authorizer::new(&cfg.auth, &local_user, &|v| std::env::var(v).ok())?;

    let inbox = app::alert_inbox(&cfg, &spec);
    let recoveries = if cfg.recovery.enabled {
        let pipeline_audit = cfg.audit_path(&opts.run.state_dir);
        let desk = ccp_app::cicd_desk::RecoveryDesk::new(
            &cfg.recovery,
            cfg.environment.as_str(),
            opts.approval,
            &ccp_app::cicd_desk::audit_path_for(&pipeline_audit),
            cfg.audit.fsync,
        )
        .context("setting up deployment failure recovery")?;
        Some(Arc::new(desk))
    } else {
        None
    };
    let desk = Desk::start(DeskOptions {
        run: opts.run.clone(),
        approval: opts.approval,
        inbox: Some(inbox.clone()),
        stop_after: opts.once.then_some(1),
    })
    .context("starting the incident desk")?;
    let (live, _) = broadcast::channel(CLIENT_LAG_LIMIT);
    let shared = Arc::new(Shared {
        state: Mutex::new(ServeState::default()),
        desk,
        auth,
        live,
        closing: tokio::sync::watch::channel(false).0,
        inbox: inbox.clone(),
        criticality: spec
            .services
            .iter()
            .map(|s| (s.name.clone(), s.criticality))
            .collect(),
        recoveries,
    });
    spawn_fanout(shared.clone())?;
    let ci_state = shared.clone();
    let sink: crate::ci_hooks::CiDeliverySink = Arc::new(move |ev, payload| {
        tracing::info!(
            provider = ev.provider.name(),
            summary = ev.summary,
            "CI/CD webhook"
        );
        if let Some(desk) = &ci_state.recoveries {
            desk.open(&ev, &payload);
        }
        lock(&ci_state.state).record_ci(ev);
    });
    let guarded = || axum::middleware::from_fn(crate::same_origin::guard);
    let router = Router::new()
        .merge(crate::ci_hooks::router_with_payload(&cfg.webhooks, sink))
        .merge(alertmanager_hook::router(
            inbox.clone(),
            cfg.webhooks.max_body_bytes,
        ))
        .merge(
            Router::new()
                .route("/api/state", get(api_state))
                .route("/api/incidents", get(incidents::list))
                .route("/api/incidents/{id}", get(incidents::one))
                .route("/api/events", get(sse::events))
                .route("/api/whoami", get(incidents::whoami))
                .route("/metrics", get(metrics))
                .route(
                    "/api/incidents/{id}/{verb}",
                    post(incidents::command).layer(guarded()),
                )
                .route(
                    "/api/recoveries/{id}/{verb}",
                    post(decide_recovery).layer(guarded()),
                )
                .with_state(shared.clone()),
        );
    let server = HttpServer::start(&opts.listen, router)?;
    ready(server.addr());
    if !shared.auth.enabled() {
        // Not eprintln!: a supervisor that closed our stderr must not make this panic.
        let _ = writeln!(
            std::io::stderr(),
            "ccp serve: no auth.operators: commands are taken from loopback only, recorded as {local_user}"
        );
    }

    let stop = Arc::new(AtomicBool::new(false));
    spawn_signal_watcher(stop.clone());
    while !stop.load(Ordering::SeqCst) && !shared.desk.finished() {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // Stop the desk: running pipelines stop at their next safe point (a live canary rolls
    // back, otherwise the incident escalates) and the audit log says why.
    shared
        .desk
        .shutdown("ccp-serve", "ccp serve is shutting down");
    let _ = shared.closing.send(true);
    // Let the fan-out print the last events before the process ends.
    let latest = shared.desk.stream().latest();
    for _ in 0..50 {
        if lock(&shared.state).seen >= latest {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    drop(server);
    Ok(())
}

/// Follow the desk's stream: fold it into `/api/state`, print it as JSON lines, and fan it out
/// to stream clients.
fn spawn_fanout(shared: Arc<Shared>) -> Result<()> {
    let Ok((backlog, rx)) = shared.desk.stream().follow(0) else {
        anyhow::bail!("internal: the event stream refused its start");
    };
    let weak = Arc::downgrade(&shared);
    drop(shared);
    std::thread::Builder::new()
        .name("ccp-serve-fanout".into())
        .spawn(move || {
            let stdout = std::io::stdout();
            for s in backlog.into_iter().chain(rx) {
                let Some(shared) = weak.upgrade() else { return };
                {
                    let mut st = lock(&shared.state);
                    st.apply(&s.event);
                    st.seen = s.id;
                }
                // Events read back from the audit log at start are not news: only this
                // process's events go to stdout.
                let news = s.id > shared.desk.history_end;
                if let Some(line) = news.then(|| serde_json::to_string(&s.event).ok()).flatten() {
                    let mut out = stdout.lock();
                    let _ = writeln!(out, "{line}");
                    let _ = out.flush();
                }
                // No receiver is fine: nobody is attached.
                let _ = shared.live.send(Arc::new(s));
            }
        })
        .context("starting the event fan-out")?;
    Ok(())
}

/// On SIGINT/SIGTERM: set `stop`.
fn spawn_signal_watcher(stop: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        rt.block_on(async {
            let Ok(mut term) =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            else {
                return;
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {},
                _ = term.recv() => {},
            }
        });
        stop.store(true, Ordering::SeqCst);
    });
}
