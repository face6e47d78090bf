//! Commands that change production (approve, reject, and whatever comes next) must never be sent
//! by a web page an operator happens to have open. A browser adds `Origin` to cross-site POSTs and
//! cannot send `Content-Type: application/json` cross-site without a preflight this server never
//! answers, so a command is refused unless it is JSON and, when an `Origin` is given, from this
//! very host. Authentication is a separate, later check; this one stops the browser case even
//! where the network is trusted.

use axum::extract::Request;
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// Why a command request was refused, if it was.
pub fn refusal(headers: &HeaderMap) -> Option<(StatusCode, &'static str)> {
    let text = |h| headers.get(h).and_then(|v| v.to_str().ok());
    let json = text(header::CONTENT_TYPE).is_some_and(|ct| {
        ct.split(';')
            .next()
            .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
    });
    if !json {
        return Some((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "commands take a JSON body: send Content-Type: application/json",
        ));
    }
    if let Some(origin) = text(header::ORIGIN) {
        let host = text(header::HOST).unwrap_or_default();
        let origin_host = origin
            .split_once("://")
            .map_or(origin, |(_, rest)| rest)
            .trim_end_matches('/');
        if !origin_host.eq_ignore_ascii_case(host) {
            return Some((
                StatusCode::FORBIDDEN,
                "cross-site request refused: commands are only taken from this server's own origin or from non-browser clients",
            ));
        }
    }
    None
}

/// Middleware for the command routes: refuse before the handler runs, so nothing happens.
pub async fn guard(req: Request, next: Next) -> Response {
    match refusal(req.headers()) {
        Some((status, why)) => {
            tracing::warn!(%status, "refused a command request: {why}");
            (status, Json(serde_json::json!({ "error": why }))).into_response()
        }
        None => next.run(req).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(k.clone(), HeaderValue::from_str(v).expect("header"));
        }
        h
    }

    #[test]
    fn json_from_this_host_or_from_a_non_browser_client_passes() {
        let json = (header::CONTENT_TYPE, "application/json; charset=utf-8");
        assert_eq!(refusal(&headers(std::slice::from_ref(&json))), None);
        assert_eq!(
            refusal(&headers(&[
                json.clone(),
                (header::HOST, "127.0.0.1:9099"),
                (header::ORIGIN, "http://127.0.0.1:9099"),
            ])),
            None
        );
    }

    #[test]
    fn other_origins_and_non_json_bodies_are_refused() {
        let cross = refusal(&headers(&[
            (header::CONTENT_TYPE, "application/json"),
            (header::HOST, "127.0.0.1:9099"),
            (header::ORIGIN, "https://evil.example"),
        ]));
        assert_eq!(cross.map(|r| r.0), Some(StatusCode::FORBIDDEN));
        // A form post or a bodiless POST is what a page can send without a preflight.
        for ct in [
            None,
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
        ] {
            let h = match ct {
                Some(ct) => headers(&[(header::CONTENT_TYPE, ct)]),
                None => HeaderMap::new(),
            };
            assert_eq!(
                refusal(&h).map(|r| r.0),
                Some(StatusCode::UNSUPPORTED_MEDIA_TYPE),
                "{ct:?}"
            );
        }
    }
}
