//! `ccp serve`: the pipeline without the cockpit, behind HTTP. Webhooks feed alerts in,
//! `/api/state` and `/metrics` tell what happened, and a paused operation is answered with
//! `POST /api/incidents/{id}/approve|reject` (or automatically, when asked to). One pipeline runs
//! at a time; when it finishes the next one starts and waits for the next alert.
//!
//! Failed CI pipelines and deployments (`/webhooks/<provider>`) open recovery cases that run
//! beside the pipeline (see [`recovery`]), answered at `POST /api/recoveries/{id}/approve|reject`.

pub mod state;

use crate::{alertmanager_hook, HttpServer};
use anyhow::{Context, Result};
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use ccp_app::{self as app, RunOptions};
use ccp_core::events::{Command, EventKind};
use ccp_webhooks::alertmanager::AlertInbox;
use serde::Deserialize;
use state::ServeState;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};

pub use ccp_app::ServeApproval;

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

/// What HTTP handlers share with the run loop.
struct Shared {
    state: Mutex<ServeState>,
    /// Commands of the pipeline running now, with the incident it is on.
    current: Mutex<Option<(String, Sender<Command>)>>,
    inbox: Arc<AlertInbox>,
    audit_path: Mutex<Option<PathBuf>>,
    /// Recovery cases (`None` when `recovery.enabled` is off).
    recoveries: Option<Arc<ccp_app::cicd_desk::RecoveryDesk>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

async fn api_state(State(s): State<Arc<Shared>>) -> impl IntoResponse {
    let st = lock(&s.state).clone();
    let current = lock(&s.current).as_ref().map(|(id, _)| id.clone());
    Json(serde_json::json!({
        "incidents": st.incidents(),
        "current_incident": current,
        "alerts_pending": s.inbox.pending(),
        "ci_events": st.ci_events,
        "kpis": st.kpis,
        "recoveries": s.recoveries.as_ref().map(|d| d.cases()).unwrap_or_default(),
    }))
}

async fn metrics(State(s): State<Arc<Shared>>) -> impl IntoResponse {
    let audit = lock(&s.audit_path).clone();
    let shared = s.clone();
    let body = tokio::task::spawn_blocking(move || {
        let chain = audit.and_then(|p| ccp_audit::verify_file(&p).ok());
        let mut body = lock(&shared.state).exposition(chain.as_ref(), shared.inbox.pending());
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

#[derive(Deserialize, Default)]
struct Decision {
    #[serde(default)]
    actor: Option<String>,
    #[serde(default)]
    comment: String,
}

async fn decide(
    State(s): State<Arc<Shared>>,
    UrlPath((incident, verb)): UrlPath<(String, String)>,
    body: Option<Json<Decision>>,
) -> impl IntoResponse {
    let d = body.map(|Json(d)| d).unwrap_or_default();
    let actor = d.actor.unwrap_or_else(|| "http".into());
    let waiting = lock(&s.state).awaits_approval(&incident);
    let cmd = match verb.as_str() {
        "approve" => Command::Approve {
            actor,
            comment: d.comment,
        },
        "reject" => Command::Reject {
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
    let current = lock(&s.current).clone();
    match current {
        Some((id, tx)) if id == incident && waiting => {
            if tx.send(cmd).is_ok() {
                (
                    StatusCode::ACCEPTED,
                    Json(serde_json::json!({"sent": verb})),
                )
            } else {
                (
                    StatusCode::CONFLICT,
                    Json(serde_json::json!({"error": "the pipeline already finished"})),
                )
            }
        }
        _ => (
            StatusCode::CONFLICT,
            Json(serde_json::json!({"error": format!("{incident} is not waiting for approval")})),
        ),
    }
}

/// `POST /api/recoveries/{id}/approve|reject`: 202 sent to the waiting case, 404 no such case
/// (or recovery is off, or another verb), 409 the case is not waiting at a gate.
async fn decide_recovery(
    State(s): State<Arc<Shared>>,
    UrlPath((id, verb)): UrlPath<(String, String)>,
    body: Option<Json<Decision>>,
) -> impl IntoResponse {
    use ccp_cicd_recovery::exec::GateAnswer;
    let d = body.map(|Json(d)| d).unwrap_or_default();
    let actor = d.actor.unwrap_or_else(|| "http".into());
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
pub fn serve(mut opts: ServeOptions, ready: impl FnOnce(std::net::SocketAddr)) -> Result<()> {
    let cfg = opts.run.config.clone();
    let spec = app::load_fleet_spec(&cfg)?;
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
    let shared = Arc::new(Shared {
        state: Mutex::new(ServeState::default()),
        current: Mutex::new(None),
        inbox: inbox.clone(),
        audit_path: Mutex::new(None),
        recoveries,
    });
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
    let router = Router::new()
        .merge(crate::ci_hooks::router_with_payload(&cfg.webhooks, sink))
        .merge(alertmanager_hook::router(
            inbox.clone(),
            cfg.webhooks.max_body_bytes,
        ))
        .merge(
            Router::new()
                .route("/api/state", get(api_state))
                .route("/metrics", get(metrics))
                .route(
                    "/api/incidents/{id}/{verb}",
                    post(decide).layer(axum::middleware::from_fn(crate::same_origin::guard)),
                )
                .route(
                    "/api/recoveries/{id}/{verb}",
                    post(decide_recovery)
                        .layer(axum::middleware::from_fn(crate::same_origin::guard)),
                )
                .with_state(shared.clone()),
        );
    let server = HttpServer::start(&opts.listen, router)?;
    ready(server.addr());

    let stop = Arc::new(AtomicBool::new(false));
    spawn_signal_watcher(stop.clone(), shared.clone());
    let base_seed = opts.run.seed.unwrap_or(spec.seed);
    let stdout = std::io::stdout();
    for n in 0.. {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        // Each run gets its own seed so incident ids differ.
        opts.run.seed = Some(base_seed.wrapping_add(n));
        let mut handle =
            app::start_with_inbox(&opts.run, Some(inbox.clone())).context("starting a pipeline")?;
        *lock(&shared.audit_path) = Some(handle.audit_path.clone());
        let events = handle.subscribe();
        let commands = handle.command_sender();
        *lock(&shared.current) = Some((String::new(), commands.clone()));
        // A stop that came while no pipeline was registered: abort this one at once (the
        // watcher sets `stop` before it looks at `current`, so one of the two always sees it).
        if stop.load(Ordering::SeqCst) {
            let _ = commands.send(shutdown_abort());
        }
        handle.start();
        for ev in events.iter() {
            lock(&shared.state).apply(&ev);
            if let Some(cur) = lock(&shared.current).as_mut() {
                cur.0.clone_from(&ev.incident);
            }
            if let Ok(line) = serde_json::to_string(&ev) {
                let mut out = stdout.lock();
                let _ = writeln!(out, "{line}");
                let _ = out.flush();
            }
            match &ev.kind {
                EventKind::AwaitingApproval { .. } => {
                    let answer = match opts.approval {
                        ServeApproval::Http => None,
                        ServeApproval::Auto(a) => Some(a.command()),
                    };
                    if let Some(c) = answer {
                        let _ = commands.send(c);
                    }
                }
                EventKind::Finished { .. } => break,
                _ => {}
            }
        }
        *lock(&shared.current) = None;
        handle.join()?;
        if opts.once {
            break;
        }
    }
    drop(server);
    Ok(())
}

/// On SIGINT/SIGTERM: stop starting pipelines and abort the running one safely (it rolls back
/// whatever it deployed and escalates).
fn spawn_signal_watcher(stop: Arc<AtomicBool>, shared: Arc<Shared>) {
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
        if let Some((_, tx)) = lock(&shared.current).as_ref() {
            let _ = tx.send(shutdown_abort());
        }
    });
}

fn shutdown_abort() -> Command {
    Command::Abort {
        actor: "ccp-serve".into(),
        reason: "ccp serve is shutting down".into(),
    }
}
