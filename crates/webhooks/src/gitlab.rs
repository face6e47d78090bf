//! GitLab deliveries: `Pipeline Hook`, `Job Hook` and `Deployment Hook`. The payload's
//! `object_kind` decides how it is read (it is always present; the `X-Gitlab-Event` header only
//! names the event). A failed job with `allow_failure` set does not fail its pipeline, so it is
//! neither reported as a failure nor listed among a pipeline's failed jobs.

use super::fields::{at, branch, event, first, object, required, summarize, text};
use super::{CiEvent, CiEventKind, Provider};
use serde_json::Value;

fn project(v: &Value) -> Result<String, String> {
    first([
        text(v, &["project", "path_with_namespace"]),
        text(v, &["project_name"]),
    ])
    .ok_or_else(|| "missing `project.path_with_namespace`".to_string())
}

pub(super) fn parse(
    header_event: Option<String>,
    v: &Value,
    delivery: Option<String>,
) -> Result<CiEvent, String> {
    let kind_name = required(v, &["object_kind"])?;
    let name = header_event.unwrap_or_else(|| kind_name.clone());
    let mut e = match kind_name.as_str() {
        "pipeline" => pipeline(name, v)?,
        "build" => job(name, v)?,
        "deployment" => deployment(name, v)?,
        _ => {
            let project = project(v).unwrap_or_default();
            let mut e = event(
                Provider::Gitlab,
                CiEventKind::Other,
                name,
                String::new(),
                project,
            );
            e.summary = summarize(&e, &format!("`{kind_name}` event"));
            e
        }
    };
    e.delivery_id = delivery;
    Ok(e)
}

fn pipeline(name: String, v: &Value) -> Result<CiEvent, String> {
    let attrs = object(v, &["object_attributes"])?;
    let status = required(attrs, &["status"])?;
    let kind = match status.as_str() {
        "failed" => CiEventKind::PipelineFailed,
        "success" => CiEventKind::PipelineSucceeded,
        _ => CiEventKind::Other,
    };
    let mut e = event(Provider::Gitlab, kind, name, status, project(v)?);
    e.run_id = text(attrs, &["id"]);
    e.git_ref = branch(text(attrs, &["ref"]));
    e.commit = first([text(attrs, &["sha"]), text(v, &["commit", "id"])]);
    e.url = text(attrs, &["url"]);
    if kind == CiEventKind::PipelineFailed {
        let stages: Vec<String> = at(attrs, &["stages"])
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let builds = at(v, &["builds"]).and_then(Value::as_array);
        let mut earliest: Option<(usize, String)> = None;
        for b in builds.into_iter().flatten() {
            let failed = text(b, &["status"]).as_deref() == Some("failed");
            let allowed = at(b, &["allow_failure"]).and_then(Value::as_bool) == Some(true);
            if !failed || allowed {
                continue;
            }
            if let Some(job) = text(b, &["name"]) {
                if !e.failed_jobs.contains(&job) {
                    e.failed_jobs.push(job);
                }
            }
            if let Some(stage) = text(b, &["stage"]) {
                let rank = stages
                    .iter()
                    .position(|s| *s == stage)
                    .unwrap_or(usize::MAX);
                let better = match &earliest {
                    Some((r, _)) => rank < *r,
                    None => true,
                };
                if better {
                    earliest = Some((rank, stage));
                }
            }
        }
        e.failed_stage = earliest.map(|(_, s)| s);
    }
    let title = text(attrs, &["name"]).unwrap_or_else(|| "pipeline".into());
    e.summary = summarize(&e, &format!("`{title}`"));
    Ok(e)
}

fn job(name: String, v: &Value) -> Result<CiEvent, String> {
    let status = required(v, &["build_status"])?;
    let allowed = at(v, &["build_allow_failure"]).and_then(Value::as_bool) == Some(true);
    let kind = match status.as_str() {
        "failed" if !allowed => CiEventKind::PipelineFailed,
        _ => CiEventKind::Other,
    };
    let job_name = text(v, &["build_name"]).unwrap_or_else(|| "job".into());
    let mut e = event(Provider::Gitlab, kind, name, status, project(v)?);
    e.run_id = text(v, &["pipeline_id"]);
    e.git_ref = branch(text(v, &["ref"]));
    e.commit = text(v, &["sha"]);
    e.url = match (text(v, &["project", "web_url"]), text(v, &["build_id"])) {
        (Some(web), Some(id)) => Some(format!("{}/-/jobs/{id}", web.trim_end_matches('/'))),
        _ => None,
    };
    if kind == CiEventKind::PipelineFailed {
        e.failed_jobs = vec![job_name.clone()];
        e.failed_stage = text(v, &["build_stage"]);
    }
    e.summary = summarize(&e, &format!("job `{job_name}`"));
    Ok(e)
}

fn deployment(name: String, v: &Value) -> Result<CiEvent, String> {
    let status = required(v, &["status"])?;
    let kind = match status.as_str() {
        "failed" => CiEventKind::DeploymentFailed,
        "success" => CiEventKind::DeploymentSucceeded,
        _ => CiEventKind::Other,
    };
    let mut e = event(Provider::Gitlab, kind, name, status, project(v)?);
    e.run_id = text(v, &["deployment_id"]);
    e.environment = text(v, &["environment"]);
    e.git_ref = branch(text(v, &["ref"]));
    // The payload carries the full SHA only at the end of `commit_url`.
    let from_url = text(v, &["commit_url"])
        .and_then(|u| u.rsplit('/').next().map(str::to_string))
        .filter(|s| s.len() >= 7 && s.chars().all(|c| c.is_ascii_hexdigit()));
    e.commit = first([from_url, text(v, &["short_sha"])]);
    e.url = first([
        text(v, &["deployable_url"]),
        text(v, &["environment_external_url"]),
    ]);
    e.summary = summarize(&e, "deployment");
    Ok(e)
}
