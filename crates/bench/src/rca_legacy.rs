//! The RCA ranking before issue 9, kept verbatim (minus its justification) as the baseline
//! `ccp bench --rca` measures the new ranking against: before/after means per metric, a
//! "callee anomalous too" discount, and commit recency.

use ccp_core::domain::RcaCandidate;
use ccp_core::rca::{BundleDeploy, RcaBundle};
use std::collections::BTreeMap;

/// Window before the incident start treated as "during the incident", seconds.
const INCIDENT_WINDOW_S: f64 = 60.0;
/// An error-rate increase of this many absolute points counts as fully anomalous.
const FULL_ERROR_DELTA: f64 = 0.05;
/// Anomalies below this are noise and never become candidates.
const MIN_ANOMALY: f64 = 0.05;

/// Anomaly of one metric series in [0,1] plus a description.
fn metric_anomaly(name: &str, series: &[(f64, f64)], start: f64) -> Option<(f64, String)> {
    if series.is_empty() {
        return None;
    }
    let cut = start - INCIDENT_WINDOW_S;
    let before: Vec<f64> = series
        .iter()
        .filter(|(t, _)| *t < cut)
        .map(|p| p.1)
        .collect();
    let during: Vec<f64> = series
        .iter()
        .filter(|(t, _)| *t >= cut)
        .map(|p| p.1)
        .collect();
    let (before, during) = match (before.is_empty(), during.is_empty()) {
        (false, false) => (mean(&before), mean(&during)),
        _ => (series[0].1, series[series.len() - 1].1),
    };
    if name.starts_with("error") {
        let delta = during - before;
        let score = (delta / FULL_ERROR_DELTA).clamp(0.0, 1.0);
        Some((
            score,
            format!(
                "{name} {:.2}% → {:.2}% ({:+.2} pp)",
                before * 100.0,
                during * 100.0,
                delta * 100.0
            ),
        ))
    } else {
        let ratio = if before > 0.0 { during / before } else { 1.0 };
        // Latency wobbles ±20 % on its own; only a clear slowdown counts, fully at 2×.
        let score = ((ratio - 1.2) / 0.8).clamp(0.0, 1.0);
        Some((
            score,
            format!("{name} {before:.0} → {during:.0} (×{ratio:.2})"),
        ))
    }
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// Per-service anomaly: the strongest metric wins.
fn service_anomaly(b: &RcaBundle, service: &str) -> (f64, Option<String>) {
    let Some(metrics) = b.metrics.get(service) else {
        return (0.0, None);
    };
    metrics
        .iter()
        .filter_map(|(name, s)| metric_anomaly(name, s, b.incident_start as f64))
        .fold((0.0, None), |acc, (score, why)| {
            if score > acc.0 || acc.1.is_none() {
                (score.max(acc.0), Some(why))
            } else {
                acc
            }
        })
}

/// Does a trace file name this deploy's file (suffix match either way)?
fn touches_trace(d: &BundleDeploy, trace_files: &[String]) -> Option<String> {
    d.files
        .iter()
        .find(|f| {
            trace_files
                .iter()
                .any(|t| t.ends_with(f.as_str()) || f.ends_with(t.as_str()))
        })
        .cloned()
}

/// Best commit for a service: touching a traced file beats recency; recency beats size.
fn best_change<'a>(b: &'a RcaBundle, service: &str) -> Option<(&'a BundleDeploy, f64, String)> {
    let start = b.incident_start;
    b.deploy_list()
        .iter()
        .filter(|d| d.service == service && d.at <= start && start - d.at <= 86_400)
        .map(|d| {
            let age_min = (start - d.at) as f64 / 60.0;
            let recency = if age_min <= 60.0 { 0.75 } else { 0.4 };
            let traced = touches_trace(d, &b.trace_files);
            let score = recency + if traced.is_some() { 0.25 } else { 0.0 };
            let msg = d.message.as_deref().map(|m| format!(" “{m}”")).unwrap_or_default();
            let why = match traced {
                Some(f) => format!(
                    "commit {}{msg} ({age_min:.0} min before) changed {f}, which is in the stack trace",
                    short(&d.commit)
                ),
                None => format!(
                    "commit {}{msg} deployed {age_min:.0} min before the incident",
                    short(&d.commit)
                ),
            };
            (d, score, why)
        })
        .max_by(|a, b| {
            a.1.partial_cmp(&b.1)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(a.0.at.cmp(&b.0.at))
        })
}

fn short(id: &str) -> String {
    id.chars().take(7).collect()
}

/// The previous ranking, unchanged. Services with no anomaly at all are left out.
pub fn rank(b: &RcaBundle) -> Vec<RcaCandidate> {
    let mut names: Vec<String> = b.services.iter().map(|s| s.name.clone()).collect();
    for k in b.metrics.keys() {
        if !names.contains(k) {
            names.push(k.clone());
        }
    }
    let anomalies: BTreeMap<String, (f64, Option<String>)> = names
        .iter()
        .map(|n| (n.clone(), service_anomaly(b, n)))
        .collect();
    let mut candidates = Vec::new();
    for name in &names {
        let (anom, why) = anomalies.get(name).cloned().unwrap_or((0.0, None));
        if anom < MIN_ANOMALY {
            continue;
        }
        let mut evidence = Vec::new();
        if let Some(w) = why {
            evidence.push(w);
        }
        let worst_callee = b
            .edges
            .iter()
            .filter(|e| e.from == *name)
            .filter_map(|e| anomalies.get(&e.to).map(|a| (e.to.clone(), a.0)))
            .max_by(|a, b| a.1.partial_cmp(&b.1).unwrap_or(std::cmp::Ordering::Equal));
        let explained = match &worst_callee {
            Some((callee, a)) if *a >= 0.5 * anom => {
                evidence.push(format!(
                    "its callee {callee} is anomalous too ({:.0}%): likely propagated",
                    a * 100.0
                ));
                (a / anom).min(1.0)
            }
            _ => {
                evidence.push("none of its callees is anomalous: fault originates here".into());
                0.0
            }
        };
        let own = anom * (1.0 - 0.85 * explained);
        let change = best_change(b, name);
        let change_score = change.as_ref().map(|c| c.1).unwrap_or(0.0);
        if let Some((_, _, why)) = &change {
            evidence.push(why.clone());
        } else if !b.has_deploy_data() {
            evidence.push("no deploy data in the bundle: confidence lowered".into());
        }
        let alerted = b.alerts.iter().any(|a| a.service == *name);
        if alerted {
            evidence.push("alerting".into());
        }
        let confidence =
            (0.55 * own + 0.35 * change_score + if alerted { 0.07 } else { 0.0 }).clamp(0.0, 0.97);
        candidates.push(RcaCandidate {
            service: name.clone(),
            commit: change.map(|c| short(&c.0.commit)),
            confidence: (confidence * 1000.0).round() / 1000.0,
            evidence,
        });
    }
    candidates.sort_by(|a, b| {
        b.confidence
            .partial_cmp(&a.confidence)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.service.cmp(&b.service))
    });
    candidates
}
