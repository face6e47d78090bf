//! `POST /webhooks/{github,gitlab,jenkins,azure,circleci,generic}`: CI/CD deliveries into a sink
//! that can open recovery cases. A delivery is authenticated, then parsed completely, and only
//! then handed to the sink, so every refusal has no side effect:
//!
//! | answer | when                                                        |
//! |--------|-------------------------------------------------------------|
//! | 200    | accepted; the sink got exactly one [`CiEvent`] (and its body) |
//! | 400    | authenticated, but the body is not that provider's payload  |
//! | 401    | signature / token missing, malformed or wrong               |
//! | 404    | the provider is not configured (or has an empty secret)     |
//! | 413    | the body is over `webhooks.max_body_bytes`                  |

use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use ccp_config::WebhooksConfig;
use ccp_webhooks::{CiEvent, Provider, Receiver};
use std::sync::Arc;

/// Where accepted CI events go. Called on the HTTP runtime once per accepted delivery: it must
/// not block (push into a channel or a queue).
pub type CiSink = Arc<dyn Fn(CiEvent) + Send + Sync>;

/// Like [`CiSink`], with the delivery's JSON body too: a recovery case needs the failure text
/// (job logs, failure reasons, messages) that the provider put in its payload and [`CiEvent`]
/// does not keep. Same rules: called once per accepted delivery, must not block.
pub type CiDeliverySink = Arc<dyn Fn(CiEvent, serde_json::Value) + Send + Sync>;

/// The six CI receivers, with the body limit applied; merge it into `ccp serve`'s router.
/// Providers absent from `cfg` still get a route, answering 404 with the key to set, so a
/// misconfigured sender gets a clear message instead of a bare "not found".
pub fn router(cfg: &WebhooksConfig, sink: CiSink) -> Router {
    router_with_payload(cfg, Arc::new(move |event, _payload| sink(event)))
}

/// [`router`] for a sink that also wants each accepted delivery's JSON body.
pub fn router_with_payload(cfg: &WebhooksConfig, sink: CiDeliverySink) -> Router {
    let mut router = Router::new();
    for provider in Provider::ALL {
        let path = format!("/webhooks/{}", provider.name());
        router = match Receiver::from_config(provider, cfg) {
            Ok(receiver) => {
                let receiver = Arc::new(receiver);
                let sink = sink.clone();
                router.route(
                    &path,
                    post(move |headers: HeaderMap, body: Bytes| {
                        let (receiver, sink) = (receiver.clone(), sink.clone());
                        async move { receive(&receiver, &sink, &headers, &body) }
                    }),
                )
            }
            Err(why) => {
                let message = why.to_string();
                router.route(
                    &path,
                    post(move || {
                        let message = message.clone();
                        async move { error(StatusCode::NOT_FOUND, message) }
                    }),
                )
            }
        };
    }
    router.layer(DefaultBodyLimit::max(cfg.max_body_bytes))
}

fn receive(
    receiver: &Receiver,
    sink: &CiDeliverySink,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let provider = receiver.provider();
    match receiver.receive(headers, body) {
        Ok(event) => {
            tracing::info!(
                %provider,
                event = event.event,
                kind = ?event.kind,
                project = event.project,
                run = event.run_id.as_deref().unwrap_or(""),
                "CI webhook accepted"
            );
            let receipt = serde_json::json!({
                "accepted": true,
                "provider": provider,
                "event": event.event,
                "kind": event.kind,
                "project": event.project,
                "run_id": event.run_id,
            });
            // Parsed already by the receiver, so this cannot fail; Null keeps the type honest.
            let payload = serde_json::from_slice(body).unwrap_or(serde_json::Value::Null);
            sink(event, payload);
            (StatusCode::OK, Json(receipt)).into_response()
        }
        Err(e) if e.is_unauthorized() => {
            tracing::warn!(%provider, "refused CI webhook: {e}");
            let mut response = error(StatusCode::UNAUTHORIZED, e.to_string());
            if provider == Provider::Azure {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"ccp\""),
                );
            }
            response
        }
        Err(e) => {
            tracing::warn!(%provider, "refused CI webhook: {e}");
            error(StatusCode::BAD_REQUEST, e.to_string())
        }
    }
}

fn error(status: StatusCode, message: String) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}
