//! `GET /api/events`: every incident's events as Server-Sent Events. Each carries its stream id;
//! a client resumes with `Last-Event-ID` (or `?since=ID`) and gets exactly the events after it,
//! with no gap and no duplicate. A client that falls more than [`super::CLIENT_LAG_LIMIT`]
//! events behind is sent a `dropped` event saying why and where to resume, and disconnected:
//! the pipelines never wait for anyone.

use super::{bearer, denied, Shared};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use ccp_app::desk::stream::Streamed;
use ccp_config::Role;
use futures_util::stream;
use serde::Deserialize;
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::broadcast::Receiver;

#[derive(Deserialize, Default)]
pub(super) struct Since {
    since: Option<u64>,
}

/// One stream event: `id:` the stream id, `data:` the event as the Contract writes it.
fn sse_of(s: &Streamed) -> SseEvent {
    let data = serde_json::to_string(&s.event).unwrap_or_else(|_| "{}".into());
    SseEvent::default().id(s.id.to_string()).data(data)
}

struct Follow {
    reset: Option<SseEvent>,
    backlog: std::vec::IntoIter<Streamed>,
    live: Receiver<Arc<Streamed>>,
    closing: tokio::sync::watch::Receiver<bool>,
    last: u64,
    done: bool,
}

/// `GET /api/events[?since=ID]`, `Last-Event-ID: ID`.
pub(super) async fn events(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(q): Query<Since>,
) -> Response {
    if let Err(d) = s.auth.require(bearer(&headers), None, Role::Viewer) {
        return denied(&d).into_response();
    }
    let header_id = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let mut after = header_id.or(q.since).unwrap_or(0);
    // A resume point beyond the newest id comes from before a restart: this server's stream
    // started over, so the client is told to forget what it shows and gets everything again.
    let restarted = after > s.desk.stream().latest();
    if restarted {
        after = 0;
    }
    // Subscribe before reading the history: anything numbered after the history was read
    // arrives live; anything in both is skipped by id.
    let live = s.live.subscribe();
    let backlog = match s.desk.stream().since(after) {
        Ok(b) => b,
        Err(too_old) => {
            return (
                StatusCode::GONE,
                Json(serde_json::json!({"error": too_old.to_string(), "oldest": too_old.oldest, "latest": too_old.latest})),
            )
                .into_response()
        }
    };
    let last = backlog.last().map(|x| x.id).unwrap_or(after);
    let reset = restarted.then(|| SseEvent::default().event("reset").data("{}"));
    let state = Follow {
        reset,
        backlog: backlog.into_iter(),
        live,
        closing: s.closing.subscribe(),
        last,
        done: false,
    };
    let body = stream::unfold(state, |mut st| async move {
        if st.done {
            return None;
        }
        if let Some(r) = st.reset.take() {
            return Some((Ok(r), st));
        }
        if let Some(x) = st.backlog.next() {
            let ev = sse_of(&x);
            return Some((Ok::<_, std::convert::Infallible>(ev), st));
        }
        loop {
            let next = tokio::select! {
                n = st.live.recv() => n,
                _ = st.closing.changed() => return None,
            };
            match next {
                Ok(x) if x.id <= st.last => continue,
                Ok(x) => {
                    st.last = x.id;
                    let ev = sse_of(&x);
                    return Some((Ok(ev), st));
                }
                Err(RecvError::Lagged(n)) => {
                    st.done = true;
                    tracing::warn!(
                        behind = n,
                        resume = st.last,
                        "event stream client dropped: too slow"
                    );
                    let why = serde_json::json!({
                        "reason": format!("this client fell {n} events behind and was dropped so the pipelines never wait; reconnect with Last-Event-ID: {}", st.last),
                        "resume_from": st.last,
                    });
                    let ev = SseEvent::default().event("dropped").data(why.to_string());
                    return Some((Ok(ev), st));
                }
                Err(RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(body)
        .keep_alive(KeepAlive::default())
        .into_response()
}
