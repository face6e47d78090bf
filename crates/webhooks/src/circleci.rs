//! CircleCI outbound webhooks: `workflow-completed` and `job-completed` (the body's `type`, also
//! sent as `circleci-event-type`). A workflow ending `failed` or `error` is a failed pipeline; a
//! job ending `failed` is one too, naming the job. A successful job says nothing about its
//! workflow, so it is `Other`. Branch and commit come from `pipeline.vcs` (GitHub OAuth and
//! Bitbucket Cloud projects) or `pipeline.trigger_parameters.git` (GitLab, GitHub App).

use super::fields::{branch, event, first, object, required, summarize, text};
use super::{CiEvent, CiEventKind, Provider};
use serde_json::Value;

pub(super) fn parse(header_event: Option<String>, v: &Value) -> Result<CiEvent, String> {
    let name =
        first([text(v, &["type"]), header_event]).ok_or_else(|| "missing `type`".to_string())?;
    let (kind, status, what, failed_job) = match name.as_str() {
        "workflow-completed" => {
            let workflow = object(v, &["workflow"])?;
            let status = required(workflow, &["status"])?;
            let kind = match status.as_str() {
                "failed" | "error" => CiEventKind::PipelineFailed,
                "success" => CiEventKind::PipelineSucceeded,
                _ => CiEventKind::Other,
            };
            let title = text(workflow, &["name"]).unwrap_or_else(|| "workflow".into());
            (kind, status, format!("workflow `{title}`"), None)
        }
        "job-completed" => {
            let job = object(v, &["job"])?;
            let status = required(job, &["status"])?;
            let job_name = text(job, &["name"]).unwrap_or_else(|| "job".into());
            let kind = match status.as_str() {
                "failed" => CiEventKind::PipelineFailed,
                _ => CiEventKind::Other,
            };
            let failed = (kind == CiEventKind::PipelineFailed).then(|| job_name.clone());
            (kind, status, format!("job `{job_name}`"), failed)
        }
        other => (
            CiEventKind::Other,
            String::new(),
            format!("`{other}` event"),
            None,
        ),
    };
    let project = if kind == CiEventKind::Other {
        text(v, &["project", "name"]).unwrap_or_default()
    } else {
        required(v, &["project", "name"])?
    };
    let mut e = event(Provider::Circleci, kind, name, status, project);
    e.run_id = text(v, &["pipeline", "number"]);
    let vcs = |field: &str| text(v, &["pipeline", "vcs", field]);
    let git = |field: &str| text(v, &["pipeline", "trigger_parameters", "git", field]);
    e.git_ref = branch(first([
        vcs("branch"),
        vcs("tag"),
        git("branch"),
        git("tag"),
    ]));
    e.commit = first([vcs("revision"), git("checkout_sha")]);
    e.url = text(v, &["workflow", "url"]);
    e.failed_jobs = failed_job.into_iter().collect();
    e.delivery_id = text(v, &["id"]);
    e.summary = summarize(&e, &what);
    Ok(e)
}
