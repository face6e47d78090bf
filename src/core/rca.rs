//! Root-cause ranking over the dependency graph, metrics, recent changes, alerts and stack traces.
//!
//! The idea, in the order an experienced on-call engineer reasons:
//! 1. *Who changed behaviour?* Each service's anomaly score compares its metrics just before the
//!    incident with the period before that.
//! 2. *Is it a victim?* A service whose callee is at least as anomalous is probably suffering from
//!    that callee (faults propagate from callee back to caller), so its own score is discounted.
//! 3. *What changed?* A recent deploy or commit of the service raises confidence; the commit that
//!    touched a file in the stack trace is preferred over a merely newer one.
//! 4. Alerts on the service add a little; missing data lowers confidence instead of failing.
//!
//! The input is the Contract's RCA bundle, so `ccp rca` and the pipeline share this code.

use super::domain::RcaCandidate;
use super::explain::Justification;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A service in the bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BundleService {
    /// Name.
    pub name: String,
    /// Criticality in [0,1] (reported, not used for ranking: important ≠ guilty).
    #[serde(default)]
    pub criticality: f64,
}

/// A call edge `from → to`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BundleEdge {
    /// Caller.
    pub from: String,
    /// Callee.
    pub to: String,
}

/// A deploy (or commit) of a service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BundleDeploy {
    /// Service deployed.
    pub service: String,
    /// When (unix seconds).
    pub at: i64,
    /// Commit id.
    pub commit: String,
    /// Files changed.
    #[serde(default)]
    pub files: Vec<String>,
    /// Lines changed.
    #[serde(default)]
    pub lines_changed: u32,
    /// Commit message, when known.
    #[serde(default)]
    pub message: Option<String>,
}

/// An alert in the bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BundleAlert {
    /// Service.
    pub service: String,
    /// Alert name.
    pub name: String,
    /// When (unix seconds).
    pub at: i64,
    /// Severity word.
    #[serde(default)]
    pub severity: String,
}

/// The Contract's RCA bundle, plus optional stack-trace files. Unknown fields are ignored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RcaBundle {
    /// Incident start (unix seconds).
    pub incident_start: i64,
    /// Services.
    #[serde(default)]
    pub services: Vec<BundleService>,
    /// Call edges.
    #[serde(default)]
    pub edges: Vec<BundleEdge>,
    /// service → metric → [(unix seconds, value)].
    #[serde(default)]
    pub metrics: BTreeMap<String, BTreeMap<String, Vec<(f64, f64)>>>,
    /// Recent deploys/commits.
    #[serde(default)]
    pub deploys: Vec<BundleDeploy>,
    /// Alerts.
    #[serde(default)]
    pub alerts: Vec<BundleAlert>,
    /// Files named in the stack trace (repository-relative or absolute).
    #[serde(default)]
    pub trace_files: Vec<String>,
}

/// RCA output: ranked candidates and the justification of the ranking.
#[derive(Debug, Clone, PartialEq)]
pub struct RcaResult {
    /// Candidates, best first.
    pub candidates: Vec<RcaCandidate>,
    /// Why this ranking.
    pub justification: Justification,
}

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
    b.deploys
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

/// Rank root-cause candidates. Services with no anomaly at all are left out.
pub fn rank(b: &RcaBundle) -> RcaResult {
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
        } else if b.deploys.is_empty() {
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
    let justification = justify(b, &candidates);
    RcaResult {
        candidates,
        justification,
    }
}

fn justify(b: &RcaBundle, c: &[RcaCandidate]) -> Justification {
    let top = c.first();
    let mut j = Justification::new(
        "rca_ranking",
        top.map(|t| t.service.clone())
            .unwrap_or_else(|| "no candidate".into()),
    )
    .input("services", b.services.len())
    .input("edges", b.edges.len())
    .input("deploys", b.deploys.len())
    .input("alerts", b.alerts.len())
    .input("trace_files", &b.trace_files)
    .constraint("anomaly discounted by up to 85% when a callee is at least half as anomalous")
    .constraint("confidence = 0.55·own anomaly + 0.35·change evidence + 0.07·alert, capped at 0.97")
    .confidence(top.map(|t| t.confidence).unwrap_or(0.0));
    for alt in c.iter().skip(1).take(3) {
        j = j.alternative(format!("{} at {:.0}%", alt.service, alt.confidence * 100.0));
    }
    j.reasoning(match top {
        Some(t) => format!(
            "{} ranks first at {:.0}%: {}",
            t.service,
            t.confidence * 100.0,
            t.evidence.join("; ")
        ),
        None => "no service shows an anomaly in the given window".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed_bundle() -> RcaBundle {
        serde_json::from_str(
            r#"{"incident_start": 1700000000,
 "services": [{"name": "api", "criticality": 0.9}, {"name": "payments", "criticality": 0.9}, {"name": "db"}],
 "edges": [{"from": "api", "to": "payments"}, {"from": "payments", "to": "db"}],
 "metrics": {"payments": {"error_rate": [[1699999900, 0.002], [1700000000, 0.15]],
                          "latency_p99_ms": [[1699999900, 120], [1700000000, 900]]},
             "api": {"error_rate": [[1699999900, 0.001], [1700000000, 0.05]]},
             "db": {"error_rate": [[1699999900, 0.001], [1700000000, 0.001]]}},
 "deploys": [{"service": "payments", "at": 1699999800, "commit": "a1b2c3d", "files": ["src/pay.py"],
              "lines_changed": 12}],
 "alerts": [{"service": "api", "name": "HighErrorRate", "at": 1700000010, "severity": "critical"}],
 "extra_unknown_field": 1}"#,
        )
        .expect("bundle parses")
    }

    #[test]
    fn callee_fault_outranks_its_callers() {
        let r = rank(&seed_bundle());
        assert_eq!(r.candidates[0].service, "payments");
        assert_eq!(r.candidates[0].commit.as_deref(), Some("a1b2c3d"));
        assert!(r.candidates[0].confidence > 0.8, "{:?}", r.candidates[0]);
        let api = r
            .candidates
            .iter()
            .find(|c| c.service == "api")
            .expect("api ranked");
        assert!(api.confidence < r.candidates[0].confidence / 2.0);
        assert!(!r.candidates.iter().any(|c| c.service == "db"));
    }

    #[test]
    fn missing_parts_lower_confidence_without_failing() {
        let mut b = seed_bundle();
        let full = rank(&b).candidates[0].confidence;
        b.deploys.clear();
        b.alerts.clear();
        let r = rank(&b);
        assert_eq!(r.candidates[0].service, "payments");
        assert!(r.candidates[0].confidence < full);
        assert!(rank(&RcaBundle::default()).candidates.is_empty());
    }

    #[test]
    fn traced_commit_beats_newer_commit() {
        let mut b = seed_bundle();
        b.deploys.push(BundleDeploy {
            service: "payments".into(),
            at: 1_699_999_950,
            commit: "fffffff".into(),
            files: vec!["README.md".into()],
            lines_changed: 2,
            message: None,
        });
        b.trace_files = vec!["/srv/app/src/pay.py".into()];
        let r = rank(&b);
        assert_eq!(r.candidates[0].commit.as_deref(), Some("a1b2c3d"));
    }
}
