//! `/api/incidents`: read every incident, and command one. A command carries no actor of its own:
//! whoever the bearer token identifies is who the audit log records, whatever the body says.

use super::auth::role_name;
use super::{bearer, denied, lock, Decision, Shared};
use axum::extract::{ConnectInfo, Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use ccp_app::desk::CommandRefused;
use ccp_config::Role;
use ccp_core::events::Command;
use std::sync::Arc;

/// `GET /api/incidents`: every incident, live and finished, oldest first.
pub(super) async fn list(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Err(d) = s.auth.require(bearer(&headers), None, Role::Viewer) {
        return denied(&d).into_response();
    }
    let views = lock(&s.state).incidents();
    Json(serde_json::json!({ "incidents": views })).into_response()
}

/// `GET /api/incidents/{id}`: its state and every event so far (with stream ids).
pub(super) async fn one(
    State(s): State<Arc<Shared>>,
    UrlPath(id): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(d) = s.auth.require(bearer(&headers), None, Role::Viewer) {
        return denied(&d).into_response();
    }
    let projection = s.desk.stream().projection();
    let Some(inc) = projection.get(&id) else {
        return (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({"error": format!("no incident {id}")})),
        )
            .into_response();
    };
    let events = s.desk.stream().incident_events(&id);
    Json(serde_json::json!({
        "incident": super::state::incident_view(inc),
        "events": events,
    }))
    .into_response()
}

/// `GET /api/whoami`: the identity a token maps to (cockpits show it, and check a token before
/// the operator needs it).
pub(super) async fn whoami(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    match s.auth.require(bearer(&headers), None, Role::Viewer) {
        Ok(Some(who)) => Json(serde_json::json!({
            "name": who.name,
            "role": role_name(who.role),
            "services": who.services,
            "max_criticality": who.max_criticality,
        }))
        .into_response(),
        Ok(None) => Json(serde_json::json!({
            "name": null,
            "role": "viewer",
            "note": "no operators are configured: reads are open, commands are refused",
        }))
        .into_response(),
        Err(d) => denied(&d).into_response(),
    }
}

/// The role each verb needs.
fn role_for(verb: &str) -> Option<Role> {
    match verb {
        "approve" | "reject" => Some(Role::Approver),
        "pause" | "resume" | "abort" => Some(Role::Operator),
        _ => None,
    }
}

/// `POST /api/incidents/{id}/{approve|reject|pause|resume|abort}`: 202 delivered; 401 without a
/// valid token; 403 without the role or outside the identity's allow-list; 404 no such incident
/// or verb; 409 nothing waits for it (finished, or not awaiting approval).
pub(super) async fn command(
    State(s): State<Arc<Shared>>,
    UrlPath((incident, verb)): UrlPath<(String, String)>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    body: Option<Json<Decision>>,
) -> (StatusCode, Json<serde_json::Value>) {
    let Some(role) = role_for(&verb) else {
        return (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({"error": "use /approve, /reject, /pause, /resume or /abort"})),
        );
    };
    let who = match s.auth.require(bearer(&headers), Some(peer), role) {
        Ok(Some(w)) => w,
        Ok(None) => {
            return denied(&super::auth::Denied::Unauthenticated(
                "commands need an identity: configure auth.operators".into(),
            ))
        }
        Err(d) => return denied(&d),
    };
    let service = s
        .desk
        .stream()
        .projection()
        .get(&incident)
        .map(|i| i.service.clone());
    if let Some(service) = &service {
        if let Err(why) = who.may_act_on(service, s.criticality.get(service).copied()) {
            return denied(&super::auth::Denied::Forbidden(why));
        }
    }
    let d = body.map(|Json(d)| d).unwrap_or_default();
    let actor = who.name.clone();
    let cmd = match verb.as_str() {
        "approve" => Command::Approve {
            actor,
            comment: d.comment,
        },
        "reject" => Command::Reject {
            actor,
            comment: d.comment,
        },
        "pause" => Command::Pause { actor },
        "resume" => Command::Resume { actor },
        _ => Command::Abort {
            actor,
            reason: if d.reason.is_empty() {
                "aborted over the API".into()
            } else {
                d.reason
            },
        },
    };
    match s.desk.command(&incident, cmd) {
        Ok(()) => {
            tracing::info!(incident, verb, actor = who.name, "command delivered");
            (
                StatusCode::ACCEPTED,
                Json(serde_json::json!({"sent": verb, "actor": who.name})),
            )
        }
        Err(CommandRefused::Unknown(_)) => (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({"error": format!("no incident {incident}")})),
        ),
        Err(CommandRefused::NothingWaiting(why)) => (
            StatusCode::CONFLICT,
            Json(serde_json::json!({"error": why})),
        ),
    }
}
