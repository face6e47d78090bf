//! Azure DevOps service-hook deliveries ("Web Hooks" service), read by `eventType`:
//! `build.complete`, `ms.vss-pipelines.run-state-changed-event`, `…stage-state-changed-event`,
//! `…job-state-changed-event` and `ms.vss-release.deployment-completed-event`.
//!
//! Authentication: Azure DevOps documents no payload signature for service hooks, only HTTP basic
//! authentication (and free-form extra headers), so the receiver checks the basic-auth password
//! against `webhooks.azure.secret` and ignores the user name. Basic credentials travel in clear
//! text: put ccp behind HTTPS, as Microsoft requires for basic authentication on a webhook.
//!
//! "Project" is the Azure DevOps project and pipeline joined (`Fabrikam/api-ci`) when both are in
//! the payload, else whichever is (the classic `build.complete` payload names only the pipeline
//! definition).

use super::fields::{branch, event, first, object, required, summarize, text};
use super::{CiEvent, CiEventKind, Provider};
use serde_json::Value;

fn joined(project: Option<String>, pipeline: Option<String>) -> String {
    match (project, pipeline) {
        (Some(p), Some(d)) => format!("{p}/{d}"),
        (Some(p), None) => p,
        (None, Some(d)) => d,
        (None, None) => String::new(),
    }
}

fn result_kind(result: Option<&str>) -> CiEventKind {
    match result {
        Some("failed") => CiEventKind::PipelineFailed,
        Some("succeeded") => CiEventKind::PipelineSucceeded,
        _ => CiEventKind::Other,
    }
}

pub(super) fn parse(v: &Value) -> Result<CiEvent, String> {
    let event_type = required(v, &["eventType"])?;
    let message = text(v, &["message", "text"]);
    let team_project = text(v, &["resource", "project", "name"]);
    let mut e = match event_type.as_str() {
        "build.complete" => {
            let r = object(v, &["resource"])?;
            let result = first([text(r, &["result"]), text(r, &["status"])]);
            let kind = result_kind(result.as_deref());
            let project = joined(
                first([team_project, text(r, &["project", "name"])]),
                text(r, &["definition", "name"]),
            );
            let mut e = event(
                Provider::Azure,
                kind,
                event_type.clone(),
                result.unwrap_or_default(),
                project,
            );
            e.run_id = first([text(r, &["id"]), text(r, &["buildNumber"])]);
            // Classic payloads pack ref and commit into `sourceGetVersion`: "LG:<ref>:<sha>".
            let packed = text(r, &["sourceGetVersion"]);
            let mut parts = packed.as_deref().unwrap_or_default().splitn(3, ':').skip(1);
            let (packed_ref, packed_sha) = (
                parts.next().map(str::to_string),
                parts.next().map(str::to_string),
            );
            e.git_ref = branch(first([text(r, &["sourceBranch"]), packed_ref]));
            e.commit = first([text(r, &["sourceVersion"]), packed_sha]);
            e.url = first([text(r, &["_links", "web", "href"]), text(r, &["url"])]);
            e
        }
        "ms.vss-pipelines.run-state-changed-event" => {
            let run = object(v, &["resource", "run"])?;
            let completed = text(run, &["state"]).as_deref() == Some("completed");
            let result = text(run, &["result"]);
            let kind = if completed {
                result_kind(result.as_deref())
            } else {
                CiEventKind::Other
            };
            let status = first([result, text(run, &["state"])]).unwrap_or_default();
            let project = joined(
                team_project,
                first([
                    text(v, &["resource", "pipeline", "name"]),
                    text(run, &["pipeline", "name"]),
                ]),
            );
            let mut e = event(Provider::Azure, kind, event_type.clone(), status, project);
            e.run_id = text(run, &["id"]);
            e.url = first([text(run, &["_links", "web", "href"]), text(run, &["url"])]);
            e
        }
        "ms.vss-pipelines.stage-state-changed-event"
        | "ms.vss-pipelines.job-state-changed-event" => {
            let is_job = event_type.ends_with("job-state-changed-event");
            let part = if is_job {
                object(v, &["resource", "job"])?
            } else {
                object(v, &["resource", "stage"])?
            };
            let result = text(part, &["result"]);
            // A stage or job that succeeded says nothing about the run; only failures matter here.
            let kind = match result.as_deref() {
                Some("failed") => CiEventKind::PipelineFailed,
                _ => CiEventKind::Other,
            };
            let status = first([result, text(part, &["state"])]).unwrap_or_default();
            let project = joined(
                team_project,
                first([
                    text(v, &["resource", "pipeline", "name"]),
                    text(v, &["resource", "run", "pipeline", "name"]),
                ]),
            );
            let mut e = event(Provider::Azure, kind, event_type.clone(), status, project);
            e.run_id = text(v, &["resource", "run", "id"]);
            e.url = first([
                text(part, &["_links", "web", "href"]),
                text(v, &["resource", "run", "_links", "web", "href"]),
            ]);
            if kind == CiEventKind::PipelineFailed {
                if is_job {
                    e.failed_jobs = text(part, &["name"]).into_iter().collect();
                    e.failed_stage = text(v, &["resource", "stage", "name"]);
                } else {
                    e.failed_stage = text(part, &["name"]);
                }
            }
            e
        }
        "ms.vss-release.deployment-completed-event" => {
            let env = object(v, &["resource", "environment"])?;
            let status = required(env, &["status"])?;
            let kind = match status.as_str() {
                "rejected" | "failed" => CiEventKind::DeploymentFailed,
                "succeeded" => CiEventKind::DeploymentSucceeded,
                _ => CiEventKind::Other,
            };
            let project = joined(
                team_project,
                first([
                    text(env, &["releaseDefinition", "name"]),
                    text(v, &["resource", "deployment", "releaseDefinition", "name"]),
                ]),
            );
            let mut e = event(Provider::Azure, kind, event_type.clone(), status, project);
            e.environment = text(env, &["name"]);
            e.run_id = first([
                text(env, &["release", "id"]),
                text(v, &["resource", "deployment", "release", "id"]),
            ]);
            e.url = first([
                text(env, &["release", "_links", "web", "href"]),
                text(env, &["release", "url"]),
            ]);
            e
        }
        _ => {
            let mut e = event(
                Provider::Azure,
                CiEventKind::Other,
                event_type.clone(),
                String::new(),
                team_project.unwrap_or_default(),
            );
            e.summary = summarize(&e, &format!("`{event_type}` event"));
            e
        }
    };
    e.delivery_id = text(v, &["id"]);
    if e.summary.is_empty() {
        let what = match e.kind {
            CiEventKind::DeploymentFailed | CiEventKind::DeploymentSucceeded => "deployment",
            _ => "pipeline",
        };
        let generated = summarize(&e, what);
        // Azure's own one-liner ("Build 20150407.2 failed") is better than ours when present.
        e.summary = match message {
            Some(m) if !e.project.is_empty() => format!("Azure DevOps {}: {m}", e.project),
            Some(m) => format!("Azure DevOps: {m}"),
            None => generated,
        };
    }
    Ok(e)
}
