//! Sentences an on-call engineer can check against a dashboard: which metric moved how far and
//! since when, why the service is (or is not) a victim, what changed.

use super::anomaly::{MetricAnomaly, ServiceAnomaly};
use super::change::human_duration;
use super::graph::{Blame, Graph};

/// How many names to list before "…".
const LIST_MAX: usize = 3;

/// "a, b, c and 2 more".
pub fn list(g: &Graph, ids: &[usize]) -> String {
    let mut names: Vec<&str> = ids
        .iter()
        .filter_map(|&i| g.names.get(i).map(String::as_str))
        .collect();
    names.sort_unstable();
    let more = names.len().saturating_sub(LIST_MAX);
    names.truncate(LIST_MAX);
    let mut s = names.join(", ");
    if more > 0 {
        s.push_str(&format!(" and {more} more"));
    }
    s
}

fn value(metric: &str, v: f64) -> String {
    let m = metric.to_ascii_lowercase();
    if (m.contains("error") || m.contains("fail") || m.contains("ratio")) && v.abs() <= 1.0 {
        format!("{:.2}%", v * 100.0)
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    }
}

/// When, relative to the incident start.
pub fn relative(t: f64, start: f64) -> String {
    let d = t - start;
    if d.abs() < 1.0 {
        "at the incident start".into()
    } else if d < 0.0 {
        format!("{} before the incident start", human_duration(d))
    } else {
        format!("{} after the incident start", human_duration(d))
    }
}

/// "error_rate 0.40% → 14.36% (robust z 35.2), from 50 s before the incident start".
pub fn metric(m: &MetricAnomaly, start: f64) -> String {
    let when = m
        .onset
        .map(|t| format!(", starting {}", relative(t, start)))
        .unwrap_or_default();
    let z = if m.z >= 49.95 {
        "≥ 50".to_string()
    } else {
        format!("{:.1}", m.z)
    };
    format!(
        "{} {} → {} (robust z {z} against the pre-incident median){when}",
        m.metric,
        value(&m.metric, m.baseline),
        value(&m.metric, m.current),
    )
}

/// Why this service is (or is not) where the fault starts.
pub fn origin(g: &Graph, an: &[ServiceAnomaly], bl: &[Blame], s: usize, start: f64) -> String {
    let b = &bl[s];
    if !an[s].observed {
        return format!(
            "exports no metrics: inferred from its callers — {} of {} observed callers are anomalous ({}) while their other dependencies look healthy",
            b.pointing_callers.len(),
            b.observed_callers,
            list(g, &b.pointing_callers)
        );
    }
    match b.explained_by {
        Some(d) if b.explained >= 0.3 => {
            let when = bl[d]
                .onset
                .map(|t| format!(" (starting {})", relative(t, start)))
                .unwrap_or_default();
            format!(
                "partly a victim: its dependency {} is anomalous too{when}, explaining about {:.0}% of it",
                g.names[d],
                b.explained * 100.0
            )
        }
        _ if g.callees[s].is_empty() => {
            "it calls nothing in the graph: the fault cannot come from a dependency".into()
        }
        _ => {
            let (seen, silent): (Vec<usize>, Vec<usize>) =
                g.callees[s].iter().partition(|&&c| an[c].observed);
            match (seen.is_empty(), silent.is_empty()) {
                (false, true) => format!(
                    "its dependencies look healthy ({}): the fault originates here",
                    list(g, &seen)
                ),
                (true, _) => format!(
                    "its dependencies export no metrics ({}): the fault is here or in them",
                    list(g, &silent)
                ),
                (false, false) => format!(
                    "its observed dependencies look healthy ({}); {} export(s) no metrics: the fault is here or there",
                    list(g, &seen),
                    list(g, &silent)
                ),
            }
        }
    }
}

/// "explains the anomalies of its callers a, b" when blame flowed here.
pub fn victims(g: &Graph, an: &[ServiceAnomaly], bl: &[Blame], s: usize) -> Option<String> {
    let v: Vec<usize> = g.callers[s]
        .iter()
        .copied()
        .filter(|&p| an[p].observed && bl[p].explained_by == Some(s) && bl[p].explained >= 0.3)
        .collect();
    (!v.is_empty()).then(|| {
        format!(
            "explains the anomaly of {} caller(s): {}",
            v.len(),
            list(g, &v)
        )
    })
}
