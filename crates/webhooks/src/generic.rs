//! ccp's own format, for any CI that can post signed JSON (a final pipeline step running `curl`):
//!
//! ```json
//! {
//!   "kind": "pipeline",            // or "deployment"; default "pipeline"
//!   "status": "failed",            // failed | failure | error → failed; success | succeeded |
//!                                  // passed → succeeded; anything else → Other
//!   "project": "shop/api",         // required
//!   "run_id": "1234",              // optional from here on
//!   "ref": "main",
//!   "commit": "9fceb02d0ae598e95dc970b74767f19372d61af8",
//!   "url": "https://ci.example.com/runs/1234",
//!   "environment": "production",
//!   "failed_jobs": ["integration-tests"],
//!   "failed_stage": "test",
//!   "summary": "integration tests failed",
//!   "event": "run-finished",
//!   "delivery_id": "3f0c…"
//! }
//! ```
//!
//! Signed like Jenkins deliveries: hex HMAC-SHA256(secret, body), optionally prefixed `sha256=`,
//! in `X-Signature-256` (or `webhooks.generic.header`).

use super::fields::{at, branch, event, first, required, summarize, text};
use super::{CiEvent, CiEventKind, Provider};
use serde_json::Value;

pub(super) fn parse(v: &Value) -> Result<CiEvent, String> {
    let deployment = match text(v, &["kind"]).as_deref() {
        None | Some("pipeline") => false,
        Some("deployment") => true,
        Some(other) => {
            return Err(format!(
                "`kind` must be \"pipeline\" or \"deployment\", not {other:?}"
            ))
        }
    };
    let status = required(v, &["status"])?;
    let failed = matches!(
        status.to_ascii_lowercase().as_str(),
        "failed" | "failure" | "error"
    );
    let succeeded = matches!(
        status.to_ascii_lowercase().as_str(),
        "success" | "succeeded" | "passed"
    );
    let kind = match (deployment, failed, succeeded) {
        (false, true, _) => CiEventKind::PipelineFailed,
        (true, true, _) => CiEventKind::DeploymentFailed,
        (false, _, true) => CiEventKind::PipelineSucceeded,
        (true, _, true) => CiEventKind::DeploymentSucceeded,
        _ => CiEventKind::Other,
    };
    let project = required(v, &["project"])?;
    let name = text(v, &["event"]).unwrap_or_else(|| {
        if deployment {
            "deployment".into()
        } else {
            "pipeline".into()
        }
    });
    let mut e = event(Provider::Generic, kind, name, status, project);
    e.run_id = text(v, &["run_id"]);
    e.git_ref = branch(text(v, &["ref"]));
    e.commit = text(v, &["commit"]);
    e.url = text(v, &["url"]);
    e.environment = text(v, &["environment"]);
    e.failed_stage = text(v, &["failed_stage"]);
    if let Some(jobs) = at(v, &["failed_jobs"]).filter(|j| !j.is_null()) {
        let jobs = jobs
            .as_array()
            .ok_or_else(|| "`failed_jobs` must be a list of strings".to_string())?;
        e.failed_jobs = jobs.iter().filter_map(|j| text(j, &[])).collect::<Vec<_>>();
    }
    e.delivery_id = text(v, &["delivery_id"]);
    let what = if deployment { "deployment" } else { "pipeline" };
    e.summary = first([text(v, &["summary"]), Some(summarize(&e, what))]).unwrap_or_default();
    Ok(e)
}
