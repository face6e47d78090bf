//! Reading fields out of provider JSON without trusting it: ids may be numbers or strings, any
//! field may be missing or null, and text that will reach a terminal must not carry escape
//! sequences.

use super::{CiEvent, CiEventKind, Provider};
use serde_json::Value;

/// Longest kept string field, in characters; enough for any ref, URL or job name.
const MAX_FIELD_CHARS: usize = 512;

/// The value at `path` (object keys), if every step exists.
pub(super) fn at<'v>(v: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(v, |cur, key| cur.get(key))
}

/// The text at `path`: a non-empty string, or a number / boolean rendered as text; cleaned.
pub(super) fn text(v: &Value, path: &[&str]) -> Option<String> {
    let s = match at(v, path)? {
        Value::String(s) => clean(s),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    (!s.is_empty()).then_some(s)
}

/// The text at `path`, or an error naming the missing field.
pub(super) fn required(v: &Value, path: &[&str]) -> Result<String, String> {
    text(v, path).ok_or_else(|| format!("missing `{}`", path.join(".")))
}

/// The object at `path`, or an error naming it.
pub(super) fn object<'v>(v: &'v Value, path: &[&str]) -> Result<&'v Value, String> {
    at(v, path)
        .filter(|o| o.is_object())
        .ok_or_else(|| format!("missing object `{}`", path.join(".")))
}

/// Replace control characters (ESC, newlines, …) with spaces, trim, and cap the length.
pub(super) fn clean(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_FIELD_CHARS)
        .collect();
    out.truncate(out.trim_end().len());
    out.trim_start().to_string()
}

/// A branch name without `refs/heads/`; tags and other refs stay as sent.
pub(super) fn branch(r: Option<String>) -> Option<String> {
    r.map(|r| match r.strip_prefix("refs/heads/") {
        Some(b) => b.to_string(),
        None => r,
    })
    .filter(|r| !r.is_empty())
}

/// First of several candidates that is present.
pub(super) fn first(candidates: impl IntoIterator<Item = Option<String>>) -> Option<String> {
    candidates.into_iter().flatten().next()
}

/// An event with every optional field empty; providers fill in what their payload has.
pub(super) fn event(
    provider: Provider,
    kind: CiEventKind,
    event: String,
    status: String,
    project: String,
) -> CiEvent {
    CiEvent {
        provider,
        kind,
        event,
        status,
        project,
        run_id: None,
        git_ref: None,
        commit: None,
        url: None,
        environment: None,
        failed_jobs: Vec::new(),
        failed_stage: None,
        attempt: None,
        delivery_id: None,
        summary: String::new(),
    }
}

/// One line for a human, built from what the event says:
/// "GitHub workflow `test` failure: octo-org/octo-repo @ master (3484a3fb)".
pub(super) fn summarize(e: &CiEvent, what: &str) -> String {
    let mut s = format!("{} {what} {}", e.provider.label(), e.status);
    if !e.project.is_empty() {
        s.push_str(": ");
        s.push_str(&e.project);
    }
    if let Some(env) = &e.environment {
        s.push_str(&format!(" → {env}"));
    }
    if let Some(r) = &e.git_ref {
        s.push_str(&format!(" @ {r}"));
    }
    if let Some(c) = &e.commit {
        let short: String = c.chars().take(8).collect();
        s.push_str(&format!(" ({short})"));
    }
    if let Some(stage) = &e.failed_stage {
        s.push_str(&format!(", stage {stage}"));
    }
    if !e.failed_jobs.is_empty() {
        s.push_str(&format!(", failed: {}", e.failed_jobs.join(", ")));
    }
    clean(&s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_accepts_numbers_and_rejects_structures() {
        let v = json!({"a": {"id": 31, "s": "x", "e": "", "n": null, "o": {}}});
        assert_eq!(text(&v, &["a", "id"]).as_deref(), Some("31"));
        assert_eq!(text(&v, &["a", "s"]).as_deref(), Some("x"));
        assert_eq!(text(&v, &["a", "e"]), None);
        assert_eq!(text(&v, &["a", "n"]), None);
        assert_eq!(text(&v, &["a", "o"]), None);
        assert_eq!(text(&v, &["a", "missing"]), None);
        assert_eq!(required(&v, &["a", "nope"]), Err("missing `a.nope`".into()));
    }

    #[test]
    fn clean_defuses_terminal_escapes_and_caps_length() {
        assert_eq!(clean("\u{1b}[2Jboom\nline"), "[2Jboom line");
        assert_eq!(clean(&"x".repeat(5000)).len(), MAX_FIELD_CHARS);
    }

    #[test]
    fn branches_lose_refs_heads() {
        assert_eq!(
            branch(Some("refs/heads/main".into())).as_deref(),
            Some("main")
        );
        assert_eq!(
            branch(Some("refs/tags/v1".into())).as_deref(),
            Some("refs/tags/v1")
        );
        assert_eq!(branch(Some("refs/heads/".into())), None);
    }
}
