//! GitHub deliveries (event name from `X-GitHub-Event`). A finished Actions run (`workflow_run`),
//! check run or check suite reports a pipeline; `deployment_status` reports a deployment. Runs
//! count only once `action` is `completed`: a requested or in-progress run has no conclusion yet.

use super::fields::{branch, event, first, object, required, summarize, text};
use super::{CiEvent, CiEventKind, Provider};
use serde_json::Value;

fn conclusion_kind(action: Option<&str>, conclusion: Option<&str>) -> CiEventKind {
    if action != Some("completed") {
        return CiEventKind::Other;
    }
    match conclusion {
        Some("failure" | "timed_out" | "startup_failure") => CiEventKind::PipelineFailed,
        Some("success") => CiEventKind::PipelineSucceeded,
        _ => CiEventKind::Other,
    }
}

pub(super) fn parse(name: &str, v: &Value, delivery: Option<String>) -> Result<CiEvent, String> {
    let action = text(v, &["action"]);
    let mut e = match name {
        "workflow_run" => {
            let run = object(v, &["workflow_run"])?;
            let conclusion = text(run, &["conclusion"]);
            let kind = conclusion_kind(action.as_deref(), conclusion.as_deref());
            let status = first([conclusion, text(run, &["status"]), action]).unwrap_or_default();
            let project = required(v, &["repository", "full_name"])?;
            let mut e = event(Provider::Github, kind, name.into(), status, project);
            e.run_id = text(run, &["id"]);
            e.attempt = text(run, &["run_attempt"]);
            e.git_ref = branch(text(run, &["head_branch"]));
            e.commit = text(run, &["head_sha"]);
            e.url = text(run, &["html_url"]);
            let workflow = first([text(run, &["name"]), text(v, &["workflow", "name"])])
                .unwrap_or_else(|| "run".into());
            e.summary = summarize(&e, &format!("workflow `{workflow}`"));
            e
        }
        "check_run" => {
            let run = object(v, &["check_run"])?;
            let conclusion = text(run, &["conclusion"]);
            let kind = conclusion_kind(action.as_deref(), conclusion.as_deref());
            let status = first([conclusion, text(run, &["status"]), action]).unwrap_or_default();
            let project = required(v, &["repository", "full_name"])?;
            let check = text(run, &["name"]).unwrap_or_else(|| "check".into());
            let mut e = event(Provider::Github, kind, name.into(), status, project);
            e.run_id = text(run, &["id"]);
            e.git_ref = branch(text(run, &["check_suite", "head_branch"]));
            e.commit = text(run, &["head_sha"]);
            e.url = first([text(run, &["html_url"]), text(run, &["details_url"])]);
            if kind == CiEventKind::PipelineFailed {
                e.failed_jobs = vec![check.clone()];
            }
            e.summary = summarize(&e, &format!("check `{check}`"));
            e
        }
        "check_suite" => {
            let suite = object(v, &["check_suite"])?;
            let conclusion = text(suite, &["conclusion"]);
            let kind = conclusion_kind(action.as_deref(), conclusion.as_deref());
            let status = first([conclusion, text(suite, &["status"]), action]).unwrap_or_default();
            let project = required(v, &["repository", "full_name"])?;
            let mut e = event(Provider::Github, kind, name.into(), status, project);
            e.run_id = text(suite, &["id"]);
            e.git_ref = branch(text(suite, &["head_branch"]));
            e.commit = text(suite, &["head_sha"]);
            e.summary = summarize(&e, "check suite");
            e
        }
        "deployment_status" => {
            let status_obj = object(v, &["deployment_status"])?;
            let deployment = object(v, &["deployment"])?;
            let state = required(status_obj, &["state"])?;
            let kind = match state.as_str() {
                "failure" | "error" => CiEventKind::DeploymentFailed,
                "success" => CiEventKind::DeploymentSucceeded,
                _ => CiEventKind::Other,
            };
            let project = required(v, &["repository", "full_name"])?;
            let mut e = event(Provider::Github, kind, name.into(), state, project);
            e.run_id = text(deployment, &["id"]);
            e.git_ref = branch(text(deployment, &["ref"]));
            e.commit = text(deployment, &["sha"]);
            e.environment = first([
                text(status_obj, &["environment"]),
                text(deployment, &["environment"]),
            ]);
            e.url = first([
                text(status_obj, &["target_url"]),
                text(status_obj, &["log_url"]),
                text(status_obj, &["environment_url"]),
            ]);
            e.summary = summarize(&e, "deployment");
            e
        }
        _ => {
            // ping, push, … : accepted so GitHub shows the hook as healthy, but nothing to do.
            let project = text(v, &["repository", "full_name"]).unwrap_or_default();
            let status = action.unwrap_or_default();
            let mut e = event(
                Provider::Github,
                CiEventKind::Other,
                name.into(),
                status,
                project,
            );
            e.summary = summarize(&e, &format!("`{name}` event"));
            e
        }
    };
    e.delivery_id = delivery;
    Ok(e)
}
