//! What a failure looks like to the categorizer and to decision trees: log lines plus named
//! facts (`metadata`). It is built from a CI/CD webhook (the [`CiEvent`] and the provider's raw
//! payload, which carries the failure text the event does not keep) or read from a JSON file, so
//! `ccp recovery categorize` and `ccp serve` judge the same evidence the same way.

use ccp_config::{SignedWebhook, WebhookSecret, WebhooksConfig};
use ccp_webhooks::{CiEvent, Provider, Receiver};
use http::{HeaderMap, HeaderName, HeaderValue};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// Most log lines kept per case (the last ones): enough for the tail of a failed job, small
/// enough for `/api/state` and the audit log.
pub const MAX_LOG_LINES: usize = 400;
/// Longest kept log line, in characters.
pub const MAX_LINE_CHARS: usize = 1000;

/// The evidence of one failure.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FailureInput {
    /// Log lines, oldest first, cleaned of control characters.
    pub logs: Vec<String>,
    /// Named facts (`exit_code`, `status`, `failed_stage`, `environment`, `replicas`, …), all as
    /// text so rules and expressions treat every source alike.
    pub metadata: BTreeMap<String, String>,
}

/// Why an input file could not be read as a failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// Not a JSON object.
    #[error("the input is not a JSON object")]
    NotAnObject,
    /// A field has the wrong shape.
    #[error("`{0}` must be {1}")]
    Shape(&'static str, &'static str),
    /// It looks like a webhook payload of `provider`, but that provider's parser refused it.
    #[error("not a usable {0} webhook payload: {1}")]
    Webhook(&'static str, String),
}

impl FailureInput {
    /// Append log lines (split on newlines), cleaned and capped; the oldest go first when over
    /// [`MAX_LOG_LINES`].
    pub fn push_log(&mut self, text: &str) {
        for line in text.lines() {
            let line = clean_line(line);
            if !line.is_empty() {
                self.logs.push(line);
            }
        }
        if self.logs.len() > MAX_LOG_LINES {
            let excess = self.logs.len() - MAX_LOG_LINES;
            self.logs.drain(..excess);
        }
    }

    /// Set a fact unless it is already known (earlier sources win), ignoring empty values.
    pub fn fact(&mut self, key: &str, value: impl Into<String>) {
        let value = clean_line(&value.into());
        if !value.is_empty() {
            self.metadata.entry(key.to_string()).or_insert(value);
        }
    }

    /// The evidence of an authenticated CI/CD delivery: the event's fields as facts, its summary
    /// as the first log line, and the failure text each provider puts in its payload
    /// (`payload`, the delivery's JSON body).
    pub fn from_ci(event: &CiEvent, payload: &Value) -> FailureInput {
        let mut input = FailureInput::default();
        input.fact("provider", event.provider.name());
        input.fact("kind", kind_name(event));
        input.fact("event", event.event.clone());
        input.fact("status", event.status.clone());
        input.fact("project", event.project.clone());
        for (key, value) in [
            ("environment", &event.environment),
            ("failed_stage", &event.failed_stage),
            ("ref", &event.git_ref),
            ("commit", &event.commit),
            ("run_id", &event.run_id),
            ("url", &event.url),
        ] {
            if let Some(v) = value {
                input.fact(key, v.clone());
            }
        }
        if !event.failed_jobs.is_empty() {
            input.fact("failed_jobs", event.failed_jobs.join(", "));
        }
        input.push_log(&event.summary);
        provider_evidence(&mut input, event.provider, payload);
        input
    }

    /// Read a failure from JSON: either ccp's own input (`{"logs": [..] | "..", "metadata":
    /// {..}}`) or a webhook payload of any supported provider (recognised by its shape, or named
    /// by `provider`). Returns the CI event too when it was a webhook payload.
    pub fn from_json(
        v: &Value,
        provider: Option<Provider>,
    ) -> Result<(FailureInput, Option<CiEvent>), InputError> {
        if !v.is_object() {
            return Err(InputError::NotAnObject);
        }
        let provider = provider.or_else(|| guess_provider(v));
        let Some(provider) = provider else {
            let mut input = FailureInput::default();
            own_fields(&mut input, v)?;
            return Ok((input, None));
        };
        let event = parse_payload(provider, v)?;
        let mut input = FailureInput::from_ci(&event, v);
        if provider != Provider::Generic {
            // ccp's own fields may ride along on any payload (a test harness, a wrapper step).
            own_fields(&mut input, v)?;
        }
        Ok((input, Some(event)))
    }
}

fn kind_name(event: &CiEvent) -> String {
    serde_json::to_value(event.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// `logs` and `metadata` as ccp's own input (and the generic webhook) carry them.
fn own_fields(input: &mut FailureInput, v: &Value) -> Result<(), InputError> {
    match v.get("logs") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) => input.push_log(s),
        Some(Value::Array(lines)) => {
            for line in lines {
                match line {
                    Value::String(s) => input.push_log(s),
                    _ => return Err(InputError::Shape("logs", "a string or a list of strings")),
                }
            }
        }
        Some(_) => return Err(InputError::Shape("logs", "a string or a list of strings")),
    }
    match v.get("metadata") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (k, value) in m {
                match scalar(value) {
                    Some(s) => input.fact(k, s),
                    None if value.is_null() => {}
                    None => {
                        return Err(InputError::Shape(
                            "metadata",
                            "an object of strings, numbers or booleans",
                        ))
                    }
                }
            }
        }
        Some(_) => {
            return Err(InputError::Shape(
                "metadata",
                "an object of strings, numbers or booleans",
            ))
        }
    }
    if let Some(code) = v.get("exit_code").and_then(scalar) {
        input.fact("exit_code", code);
    }
    Ok(())
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn text_at<'v>(v: &'v Value, path: &[&str]) -> Option<&'v str> {
    path.iter()
        .try_fold(v, |cur, key| cur.get(key))
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

/// The failure text each provider's payload carries beyond what [`CiEvent`] keeps.
fn provider_evidence(input: &mut FailureInput, provider: Provider, v: &Value) {
    match provider {
        Provider::Github => {
            if let Some(c) = text_at(v, &["workflow_run", "conclusion"])
                .or_else(|| text_at(v, &["check_run", "conclusion"]))
            {
                input.fact("conclusion", c);
            }
            for path in [
                &["workflow_run", "display_title"][..],
                &["check_run", "output", "title"],
                &["check_run", "output", "summary"],
                &["check_run", "output", "text"],
                &["deployment_status", "description"],
            ] {
                if let Some(t) = text_at(v, path) {
                    input.push_log(t);
                }
            }
        }
        Provider::Gitlab => {
            if let Some(r) = text_at(v, &["build_failure_reason"]) {
                input.fact("failure_reason", r);
                input.push_log(&format!("job failure reason: {r}"));
            }
            if let Some(builds) = v.get("builds").and_then(Value::as_array) {
                for b in builds {
                    if let Some(r) = text_at(b, &["failure_reason"]) {
                        input.fact("failure_reason", r);
                        let name = text_at(b, &["name"]).unwrap_or("job");
                        input.push_log(&format!("job {name} failure reason: {r}"));
                    }
                }
            }
        }
        Provider::Jenkins => {
            if let Some(log) = text_at(v, &["build", "log"]) {
                input.push_log(log);
            }
        }
        Provider::Azure => {
            for path in [
                &["message", "text"][..],
                &["detailedMessage", "text"],
                &["resource", "result"],
            ] {
                if let Some(t) = text_at(v, path) {
                    input.push_log(t);
                }
            }
        }
        Provider::Circleci => {
            if let Some(s) = text_at(v, &["job", "status"]) {
                input.fact("job_status", s);
            }
        }
        Provider::Generic => {
            // `logs`, `metadata` and `exit_code` are part of the generic format; a malformed
            // `logs` field only loses its evidence, the case still opens.
            let _ = own_fields(input, v);
        }
    }
}

/// Which provider sent `v`, judged by the keys only that provider's payloads have.
fn guess_provider(v: &Value) -> Option<Provider> {
    let has = |k: &str| v.get(k).is_some();
    if has("project") && has("status") && !has("object_kind") {
        Some(Provider::Generic)
    } else if has("workflow_run")
        || has("check_run")
        || has("check_suite")
        || has("deployment_status")
    {
        Some(Provider::Github)
    } else if has("object_kind") {
        Some(Provider::Gitlab)
    } else if has("eventType") && has("resource") {
        Some(Provider::Azure)
    } else if has("happened_at") && (has("workflow") || has("job")) {
        Some(Provider::Circleci)
    } else if has("build") && has("name") {
        Some(Provider::Jenkins)
    } else {
        None
    }
}

/// The GitHub event name a payload belongs to (GitHub sends it only as a header).
fn github_event(v: &Value) -> &'static str {
    [
        "workflow_run",
        "check_run",
        "check_suite",
        "deployment_status",
    ]
    .into_iter()
    .find(|k| v.get(k).is_some())
    .unwrap_or("workflow_run")
}

/// Parse a payload read from a file (not a delivery: nothing to authenticate) with the same
/// parser the webhook routes use.
fn parse_payload(provider: Provider, v: &Value) -> Result<CiEvent, InputError> {
    let secret = || WebhookSecret {
        secret: "unused".into(),
    };
    let signed = || SignedWebhook {
        secret: "unused".into(),
        header: None,
    };
    let cfg = WebhooksConfig {
        github: Some(secret()),
        gitlab: Some(ccp_config::GitlabWebhook {
            token: "unused".into(),
        }),
        jenkins: Some(signed()),
        azure: Some(secret()),
        circleci: Some(secret()),
        generic: Some(signed()),
        ..WebhooksConfig::default()
    };
    let refuse = |why: String| InputError::Webhook(provider.name(), why);
    let receiver = Receiver::from_config(provider, &cfg).map_err(|e| refuse(e.to_string()))?;
    let mut headers = HeaderMap::new();
    if provider == Provider::Github {
        headers.insert(
            HeaderName::from_static("x-github-event"),
            HeaderValue::from_static(github_event(v)),
        );
    }
    let body = serde_json::to_vec(v).map_err(|e| refuse(e.to_string()))?;
    receiver
        .parse(&headers, &body)
        .map_err(|e| refuse(e.to_string()))
}

/// Control characters (terminal escapes) become spaces; trimmed; capped.
fn clean_line(s: &str) -> String {
    let out: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_LINE_CHARS)
        .collect();
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn own_input_reads_logs_metadata_and_exit_code() {
        let v = json!({"logs": "a\n\u{1b}[31mb\n\n", "metadata": {"replicas": 4, "step": "deploy"},
                       "exit_code": 137});
        let (input, event) = FailureInput::from_json(&v, None).unwrap();
        assert!(event.is_none());
        assert_eq!(input.logs, vec!["a", "[31mb"]);
        assert_eq!(input.metadata["replicas"], "4");
        assert_eq!(input.metadata["exit_code"], "137");
        let bad = json!({"logs": 3});
        assert_eq!(
            FailureInput::from_json(&bad, None).unwrap_err().to_string(),
            "`logs` must be a string or a list of strings"
        );
    }

    #[test]
    fn webhook_payloads_are_recognised_and_keep_their_failure_text() {
        let gitlab: Value = serde_json::from_str(include_str!(
            "../../../tests/fixtures/webhooks/gitlab_pipeline_failed.json"
        ))
        .unwrap();
        let (input, event) = FailureInput::from_json(&gitlab, None).unwrap();
        assert_eq!(event.map(|e| e.provider), Some(Provider::Gitlab));
        assert_eq!(input.metadata["failure_reason"], "script_failure");
        assert_eq!(input.metadata["kind"], "pipeline_failed");

        let generic = json!({"kind": "deployment", "status": "failed", "project": "shop/api",
                             "environment": "production", "logs": ["OOMKilled"]});
        let (input, event) = FailureInput::from_json(&generic, None).unwrap();
        assert_eq!(event.map(|e| e.provider), Some(Provider::Generic));
        assert_eq!(input.metadata["kind"], "deployment_failed");
        assert_eq!(input.metadata["environment"], "production");
        assert!(input.logs.iter().any(|l| l == "OOMKilled"));
    }

    #[test]
    fn logs_are_capped_to_the_newest_lines() {
        let mut input = FailureInput::default();
        let text: Vec<String> = (0..MAX_LOG_LINES + 5).map(|i| format!("l{i}")).collect();
        input.push_log(&text.join("\n"));
        assert_eq!(input.logs.len(), MAX_LOG_LINES);
        assert_eq!(input.logs[0], "l5");
    }
}
