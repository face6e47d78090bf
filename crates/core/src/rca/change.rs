//! Change evidence: most incidents follow a change, so a deploy of a service shortly before its
//! anomaly began raises its odds; a bigger change more than a one-liner; a change that touched a
//! file named in the stack trace most of all. A deploy *after* the onset cannot have caused it.

use super::BundleDeploy;

/// A deploy this long after the onset (seconds) may still be the cause (clock skew, bucketing).
const AFTER_ONSET_SLACK_S: f64 = 60.0;
/// Deploys older than this (seconds) are not considered.
const MAX_AGE_S: f64 = 86_400.0;
/// Recency half-life-like constant: a deploy this long before the onset counts half.
const RECENCY_S: f64 = 1_800.0;
/// Bonus when the change touched a file in the stack trace.
const TRACE_BONUS: f64 = 0.5;

/// The best change of one service.
#[derive(Debug, Clone, PartialEq)]
pub struct Change<'a> {
    /// The deploy.
    pub deploy: &'a BundleDeploy,
    /// Strength in [0, 1.5]: recency × size, plus the stack-trace bonus.
    pub score: f64,
    /// The traced file it changed, if any.
    pub traced: Option<String>,
    /// Seconds between the deploy and the onset (negative: after it).
    pub lead_s: f64,
    /// Recency in (0,1]: 1 right before the onset, ½ after `RECENCY_S`.
    pub recency: f64,
}

/// Does a trace file name this deploy's file (suffix match either way)?
fn touches_trace(d: &BundleDeploy, trace_files: &[String]) -> Option<String> {
    d.files
        .iter()
        .find(|f| {
            !f.is_empty()
                && trace_files
                    .iter()
                    .any(|t| !t.is_empty() && (t.ends_with(f.as_str()) || f.ends_with(t.as_str())))
        })
        .cloned()
}

/// Bigger changes break things more often; saturates at about a thousand lines.
fn size_factor(d: &BundleDeploy) -> f64 {
    let lines = f64::from(d.lines_changed);
    let files = d.files.len() as f64;
    let l = (1.0 + lines).ln() / 1001f64.ln();
    let f = (1.0 + files).ln() / 21f64.ln();
    0.6 + 0.4 * l.max(f).min(1.0)
}

/// Best change of `service` relative to `reference` (its onset, or the incident start).
pub fn best_change<'a>(
    deploys: &[&'a BundleDeploy],
    reference: f64,
    trace_files: &[String],
) -> Option<Change<'a>> {
    deploys
        .iter()
        .filter_map(|d| {
            let lead = reference - d.at as f64;
            if !(-AFTER_ONSET_SLACK_S..=MAX_AGE_S).contains(&lead) {
                return None;
            }
            let recency = 1.0 / (1.0 + lead.max(0.0) / RECENCY_S);
            let traced = touches_trace(d, trace_files);
            let score = recency * size_factor(d) + if traced.is_some() { TRACE_BONUS } else { 0.0 };
            Some(Change {
                deploy: d,
                score,
                traced,
                lead_s: lead,
                recency,
            })
        })
        .max_by(|a, b| {
            a.traced
                .is_some()
                .cmp(&b.traced.is_some())
                .then(a.score.total_cmp(&b.score))
                .then(a.deploy.at.cmp(&b.deploy.at))
        })
}

/// "4 min", "2 h", "35 s": how people say lead times.
pub fn human_duration(s: f64) -> String {
    let s = s.abs();
    if s < 90.0 {
        format!("{s:.0} s")
    } else if s < 5_400.0 {
        format!("{:.0} min", s / 60.0)
    } else {
        format!("{:.1} h", s / 3_600.0)
    }
}

/// The readable sentence for a change.
pub fn describe(c: &Change<'_>) -> String {
    let d = c.deploy;
    let id: String = d.commit.chars().take(7).collect();
    let msg = d
        .message
        .as_deref()
        .map(|m| format!(" “{m}”"))
        .unwrap_or_default();
    let when = if c.lead_s >= 0.0 {
        format!("{} before the anomaly began", human_duration(c.lead_s))
    } else {
        format!("{} after the anomaly began", human_duration(c.lead_s))
    };
    let size = match (d.lines_changed, d.files.len()) {
        (0, 0) => String::new(),
        (0, f) => format!(", {f} file(s)"),
        (l, f) => format!(", {l} lines in {f} file(s)"),
    };
    let traced = c
        .traced
        .as_deref()
        .map(|f| format!("; it changed {f}, which is in the stack trace"))
        .unwrap_or_default();
    format!("commit {id}{msg} deployed {when}{size}{traced}")
}
