//! Jenkins deliveries in the Notification plugin's JSON (`{name, url, build: {number, phase,
//! status, full_url, scm: {branch, commit}}}`, field names as its `JobState`/`BuildState` model
//! serialises them).
//!
//! Authentication is ccp's choice, because Jenkins signs nothing by itself: the body must come
//! with HMAC-SHA256(secret, body) as hex, optionally prefixed `sha256=`, in `X-Jenkins-Signature`
//! (or the header set in `webhooks.jenkins.header`). Send it from a pipeline step, e.g.
//! `sig=$(printf %s "$BODY" | openssl dgst -sha256 -hmac "$SECRET" -r | cut -d' ' -f1)` then
//! `curl -H "X-Jenkins-Signature: sha256=$sig" --data "$BODY" …/webhooks/jenkins`.
//!
//! Only a `COMPLETED` or `FINALIZED` phase carries a result; `FAILURE` is a failed pipeline,
//! `SUCCESS` a good one, and `UNSTABLE` / `ABORTED` / `NOT_BUILT` are `Other` (tests failing
//! without the build failing is not something a rollback fixes). The plugin sends both phases
//! when configured for all events; deduplicate on `(project, run_id, kind)`.

use super::fields::{event, first, object, required, summarize, text};
use super::{CiEvent, CiEventKind, Provider};
use serde_json::Value;

pub(super) fn parse(v: &Value) -> Result<CiEvent, String> {
    let project = required(v, &["name"])?;
    let build = object(v, &["build"])?;
    let phase = text(build, &["phase"]).unwrap_or_default();
    let result = text(build, &["status"]);
    let finished = matches!(phase.as_str(), "COMPLETED" | "FINALIZED");
    let kind = match (finished, result.as_deref()) {
        (true, Some("FAILURE")) => CiEventKind::PipelineFailed,
        (true, Some("SUCCESS")) => CiEventKind::PipelineSucceeded,
        _ => CiEventKind::Other,
    };
    let status = first([result, Some(phase.clone())]).unwrap_or_default();
    let event_name = if phase.is_empty() {
        "build".to_string()
    } else {
        format!("build {phase}")
    };
    let mut e = event(Provider::Jenkins, kind, event_name, status, project);
    e.run_id = text(build, &["number"]);
    e.git_ref = text(build, &["scm", "branch"]).map(|b| {
        let b = b.strip_prefix("origin/").unwrap_or(&b);
        b.strip_prefix("refs/heads/").unwrap_or(b).to_string()
    });
    e.commit = text(build, &["scm", "commit"]);
    e.url = first([text(build, &["full_url"]), text(v, &["url"])]);
    let number = e.run_id.clone().unwrap_or_default();
    e.summary = summarize(&e, &format!("build #{number}"));
    Ok(e)
}
