//! `POST /webhooks/alertmanager`: Alertmanager's webhook (version 4) into the alert inbox. The
//! body is fully parsed and checked before anything is recorded, so a bad delivery (400) or an
//! oversized one (413) changes nothing.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use ccp_webhooks::alertmanager::{parse_webhook, AlertInbox};
use std::sync::Arc;

/// Largest accepted webhook body; Alertmanager's biggest groups stay far below it.
pub const DEFAULT_MAX_BODY: usize = 1 << 20;

async fn receive(State(inbox): State<Arc<AlertInbox>>, body: Bytes) -> axum::response::Response {
    match parse_webhook(&body) {
        Ok(p) => {
            let now = ccp_core::clock::wall_now_ms();
            let receipt = match inbox.receive(&p.alerts, now) {
                Ok(r) => r,
                Err(full) => {
                    // Alertmanager retries a 5xx: nothing is lost, and nothing grows past the
                    // bound meanwhile.
                    tracing::warn!("refused Alertmanager webhook: {full}");
                    return (
                        StatusCode::SERVICE_UNAVAILABLE,
                        [(header::RETRY_AFTER, "30")],
                        Json(serde_json::json!({ "error": full.to_string() })),
                    )
                        .into_response();
                }
            };
            // Alertmanager re-sends every group on its repeat interval: a delivery that changed
            // nothing is logged at debug, so the log holds what happened, not the heartbeat.
            let changed = receipt.new + receipt.resolved + receipt.ignored.len() > 0;
            macro_rules! log_receipt {
                ($level:ident) => {
                    tracing::$level!(
                        group = p.group_key,
                        new = receipt.new,
                        duplicate = receipt.duplicate,
                        resolved = receipt.resolved,
                        ignored = receipt.ignored.len(),
                        truncated = p.truncated_alerts,
                        "Alertmanager webhook"
                    )
                };
            }
            if changed {
                log_receipt!(info);
            } else {
                log_receipt!(debug);
            }
            (StatusCode::OK, Json(serde_json::json!(receipt))).into_response()
        }
        Err(e) => {
            tracing::warn!("refused Alertmanager webhook: {e}");
            (
                StatusCode::BAD_REQUEST,
                Json(serde_json::json!({ "error": e.to_string() })),
            )
                .into_response()
        }
    }
}

/// Routes for `ccp run`: the receiver and a health check.
pub fn router(inbox: Arc<AlertInbox>, max_body: usize) -> Router {
    Router::new()
        .route("/healthz", get(super::healthz))
        .route("/webhooks/alertmanager", post(receive))
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(inbox)
}
