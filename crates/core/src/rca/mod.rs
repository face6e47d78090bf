//! Root-cause ranking over the dependency graph, metrics, recent changes, alerts and stack traces.
//!
//! The idea, in the order an experienced on-call engineer reasons:
//! 1. *Who changed behaviour, and when?* ([`anomaly`]) Each metric is scored by a robust z
//!    against the pre-incident window and a CUSUM change point gives its onset.
//! 2. *Is it a victim?* ([`graph`]) Faults propagate from callee back to caller, so blame flows
//!    from each anomalous service to the dependencies that explain it (anomalous no later than
//!    it); a service with healthy dependencies keeps its blame. Services without metrics are
//!    inferred from their callers.
//! 3. *What changed?* ([`change`]) A recent deploy of the service before its onset raises the
//!    odds; one that touched a file in the stack trace most.
//! 4. *How sure?* ([`calibrate`]) Weights become confidences in [0,1] that reflect the margin
//!    over the runner-up; missing data lowers them instead of failing.
//!
//! The input is the Contract's RCA bundle, so `ccp rca` and the pipeline share this code.

pub mod anomaly;
pub mod calibrate;
pub mod change;
mod evidence;
pub mod graph;
pub mod logs;

use crate::domain::RcaCandidate;
use crate::explain::Justification;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

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

/// One error line or stack trace a service logged: what an on-call engineer reads to tell "the
/// store failed" from "its caller failed".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BundleLogLine {
    /// When (unix seconds); absent when the source does not say (then it is taken as recent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<i64>,
    /// The line, or a whole stack trace (newlines kept).
    pub text: String,
}

/// The Contract's RCA bundle, plus optional stack-trace files and error logs. Unknown fields
/// are ignored.
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
    /// Recent deploys/commits. Absent means the producer has no deploy data (confidence is
    /// lowered, absence of a deploy says nothing); an empty list means it looked and nothing
    /// was deployed, which is evidence against a code change in any service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deploys: Option<Vec<BundleDeploy>>,
    /// Alerts.
    #[serde(default)]
    pub alerts: Vec<BundleAlert>,
    /// Files named in the stack trace (repository-relative or absolute).
    #[serde(default)]
    pub trace_files: Vec<String>,
    /// service → its recent error lines or stack traces. Optional: when a caller's errors name
    /// the dependency that failed (host, connection string, client library, port), that
    /// dependency is raised and the caller lowered. Parsing is bounded (see [`logs`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub logs: BTreeMap<String, Vec<BundleLogLine>>,
}

impl RcaBundle {
    /// The deploys, empty when the bundle has none or no deploy data.
    pub fn deploy_list(&self) -> &[BundleDeploy] {
        self.deploys.as_deref().unwrap_or(&[])
    }

    /// Whether the producer supplied deploy data (possibly an empty list).
    pub fn has_deploy_data(&self) -> bool {
        self.deploys.is_some()
    }
}

/// RCA output: ranked candidates and the justification of the ranking.
#[derive(Debug, Clone, PartialEq)]
pub struct RcaResult {
    /// Candidates, best first.
    pub candidates: Vec<RcaCandidate>,
    /// Why this ranking.
    pub justification: Justification,
}

/// In a cold start, the part of an alerting service's weight kept when a service it calls alerts
/// too (it is probably that one's symptom).
const COLD_SYMPTOM_SHARE: f64 = 0.3;

/// Blame mass below this is noise: such services are not candidates.
const MIN_MASS: f64 = 0.05;
/// A silent service some caller points at is a candidate from this share of the largest mass.
const SILENT_RELATIVE: f64 = 0.05;
/// Candidates reported at most (confidences are still computed over all of them): on a large
/// graph thousands of victims carry a little blame, and nobody reads past the first few.
pub const MAX_CANDIDATES: usize = 20;

/// One scored service before sorting.
struct Scored {
    id: usize,
    weight: f64,
    candidate: RcaCandidate,
}

/// Rank root-cause candidates. Services with no anomaly (observed, inferred or named by a
/// caller's error log) are left out, except that while some service is alerting there is
/// always a candidate: with no usable history the alerting services are ranked from their
/// alerts, logs and deploys, at a confidence that says a human has to look.
pub fn rank(b: &RcaBundle) -> RcaResult {
    rank_detailed(b, Some(&calibrate::COEFFICIENTS)).0
}

/// [`rank`], with the calibration map to apply (`None`: the raw shares, for fitting one) and the
/// features the map read for the top candidate.
pub fn rank_detailed(
    b: &RcaBundle,
    map: Option<&[f64; calibrate::FEATURES]>,
) -> (RcaResult, Option<calibrate::Features>) {
    let start = b.incident_start as f64;
    let g = graph::Graph::build(
        b.services
            .iter()
            .map(|s| s.name.as_str())
            .chain(b.metrics.keys().map(String::as_str))
            .chain(b.alerts.iter().map(|a| a.service.as_str())),
        b.edges.iter().map(|e| (e.from.as_str(), e.to.as_str())),
    );
    let an: Vec<anomaly::ServiceAnomaly> = g
        .names
        .iter()
        .map(|n| anomaly::service_anomaly(b.metrics.get(n), start))
        .collect();
    let bl = graph::blame(&g, &an);
    let mut deploys: HashMap<&str, Vec<&BundleDeploy>> = HashMap::new();
    for d in b.deploy_list() {
        deploys.entry(d.service.as_str()).or_default().push(d);
    }
    let mut alerts: HashMap<&str, &BundleAlert> = HashMap::new();
    for a in &b.alerts {
        alerts.entry(a.service.as_str()).or_insert(a);
    }
    let found = logs::findings(&g, &b.logs, b.incident_start);
    let loud: Vec<bool> = g
        .names
        .iter()
        .enumerate()
        .map(|(i, n)| an[i].score >= anomaly::MIN_ANOMALY || alerts.contains_key(n.as_str()))
        .collect();
    let mut named = vec![0.0f64; g.len()];
    let mut names = vec![0.0f64; g.len()];
    for f in &found {
        let s = calibrate::log_strength(loud[f.from], f.direct, f.how, f.entries);
        named[f.to] = 1.0 - (1.0 - named[f.to]) * (1.0 - s);
        names[f.from] = names[f.from].max(s);
    }
    // Cold start: nothing moved against a history (there is none, or too little), yet services
    // alert. They are the candidates, from what there is.
    let cold = !bl.iter().any(|x| x.mass >= MIN_MASS) && named.iter().all(|&x| x <= 0.0);
    let max_mass = bl
        .iter()
        .map(|x| x.mass)
        .filter(|m| m.is_finite())
        .fold(0.0f64, f64::max);
    // Weights for every service with blame; evidence only for those reported.
    let mut scored: Vec<Scored> = Vec::new();
    for (id, name) in g.names.iter().enumerate() {
        let blame = &bl[id];
        let mut mass = blame.mass;
        if named[id] > 0.0 {
            mass = mass.max(calibrate::NAMED_MASS * named[id]);
        }
        if cold && alerts.contains_key(name.as_str()) {
            // A service whose callees alert too is more likely their symptom than the cause:
            // the alerting service furthest down the calls leads, as an on-call engineer reads
            // an alert storm.
            let symptom = alerts.keys().any(|other| {
                *other != name.as_str()
                    && g.names
                        .iter()
                        .position(|n| n == other)
                        .is_some_and(|o| g.reaches(id, o))
            });
            let share = if symptom { COLD_SYMPTOM_SHARE } else { 1.0 };
            mass = mass.max(calibrate::ALERT_ONLY_MASS * share);
        }
        // NaN-safe: a non-finite mass is no candidate. A silent dependency some caller points
        // at stays a (weak) candidate even below the floor: it cannot be ruled out.
        let silent_floor = if !an[id].observed && blame.support > 0.0 {
            MIN_MASS.min(SILENT_RELATIVE * max_mass)
        } else {
            MIN_MASS
        };
        if mass.is_nan() || mass < silent_floor || mass <= 0.0 {
            continue;
        }
        let reference = blame.onset.unwrap_or(start);
        let own = deploys.get(name.as_str()).map(Vec::as_slice).unwrap_or(&[]);
        let change = change::best_change(own, reference, &b.trace_files);
        let weight = calibrate::weight(
            mass,
            match &change {
                Some(c) => Some((c.score, c.recency)),
                // Without deploy data, absence of a deploy says nothing.
                None if !b.has_deploy_data() => Some((0.0, 1.0)),
                None => None,
            },
            alerts.contains_key(name.as_str()),
            !an[id].observed,
        ) * calibrate::log_odds(named[id], names[id]).exp();
        scored.push(Scored {
            id,
            weight,
            candidate: RcaCandidate {
                service: name.clone(),
                commit: change
                    .as_ref()
                    .map(|c| c.deploy.commit.chars().take(7).collect()),
                confidence: 0.0,
                evidence: change
                    .map(|c| vec![change::describe(&c)])
                    .unwrap_or_default(),
            },
        });
    }
    let null = calibrate::NULL_WEIGHT
        + if !b.has_deploy_data() {
            calibrate::NO_DEPLOYS_NULL_WEIGHT
        } else {
            0.0
        };
    let weights: Vec<f64> = scored.iter().map(|s| s.weight).collect();
    for (s, c) in scored
        .iter_mut()
        .zip(calibrate::confidences(&weights, null))
    {
        s.candidate.confidence = c;
    }
    scored.sort_by(|x, y| {
        y.candidate
            .confidence
            .total_cmp(&x.candidate.confidence)
            .then(y.weight.total_cmp(&x.weight))
            .then_with(|| x.candidate.service.cmp(&y.candidate.service))
    });
    let features = scored.first().map(|top| {
        let second = scored.get(1);
        let adjacent = second.is_some_and(|s| {
            g.callees[top.id].contains(&s.id) || g.callers[top.id].contains(&s.id)
        });
        let silent_pair =
            adjacent && second.is_some_and(|s| !an[top.id].observed || !an[s.id].observed);
        // The silent member of a silent pair and the other one (its caller, if the pair is
        // caller and silent callee).
        let pair = second.filter(|_| silent_pair).map(|s| {
            if an[top.id].observed {
                (s.id, top.id)
            } else {
                (top.id, s.id)
            }
        });
        let single_witness = pair.is_some_and(|(silent, other)| {
            g.callers[silent].contains(&other)
                && !g.callers[silent]
                    .iter()
                    .any(|&p| p != other && an[p].score >= anomaly::MIN_ANOMALY)
        });
        let sole_caller =
            single_witness && pair.is_some_and(|(silent, other)| g.callers[silent] == [other]);
        // A store private to one service and that service predict the same data whichever
        // failed: unless a log names one of them, their shares are one share, split evenly.
        let tie = sole_caller && named[top.id] <= 0.0 && names[top.id] <= 0.0;
        let raw_top = match second {
            Some(s) if tie => (top.candidate.confidence + s.candidate.confidence) / 2.0,
            _ => top.candidate.confidence,
        };
        calibrate::Features {
            raw_top,
            raw_second: second.map_or(0.0, |s| s.candidate.confidence),
            history_points: history_points(b, bl[top.id].onset.unwrap_or(start) - 1.0),
            gap_fraction: gap_fraction(b),
            inferred_top: !an[top.id].observed,
            adjacent_runner_up: adjacent,
            silent_pair,
            single_witness,
            sole_caller,
            named_top: named[top.id],
            top_names_other: names[top.id],
            deploy_data: b.has_deploy_data(),
            cold,
        }
    });
    if let (Some(map), Some(f)) = (map, &features) {
        let confs: Vec<f64> = scored.iter().map(|s| s.candidate.confidence).collect();
        for (s, c) in scored
            .iter_mut()
            .zip(calibrate::recalibrate(&confs, f, map))
        {
            s.candidate.confidence = c;
        }
    }
    for s in &mut scored {
        s.candidate.confidence = (s.candidate.confidence * 1000.0).round() / 1000.0;
    }
    let omitted = scored.len().saturating_sub(MAX_CANDIDATES);
    scored.truncate(MAX_CANDIDATES);
    for s in &mut scored {
        let id = s.id;
        let name = s.candidate.service.as_str();
        let change_line = std::mem::take(&mut s.candidate.evidence);
        let mut evidence = Vec::new();
        // The two strongest metrics: enough to check on a dashboard, short enough to read.
        for m in an[id].metrics.iter().take(2) {
            evidence.push(evidence::metric(m, start));
        }
        evidence.push(evidence::origin(&g, &an, &bl, id, start));
        if let Some(v) = evidence::victims(&g, &an, &bl, id) {
            evidence.push(v);
        }
        let mut by_logs: Vec<&logs::Finding> = found.iter().filter(|f| f.to == id).collect();
        by_logs.sort_by(|a, b| b.how.cmp(&a.how).then(b.entries.cmp(&a.entries)));
        for f in by_logs.iter().take(2) {
            evidence.push(logs::describe_named(&g, f));
        }
        if let Some(f) = found
            .iter()
            .filter(|f| f.from == id)
            .max_by(|a, b| a.how.cmp(&b.how).then(a.entries.cmp(&b.entries)))
        {
            evidence.push(logs::describe_names(&g, f));
        }
        if cold {
            evidence.push(
                "no usable history before the incident: ranked from its alert, logs and deploys only; a human has to confirm"
                    .into(),
            );
        }
        if !change_line.is_empty() {
            evidence.extend(change_line);
        } else if !b.has_deploy_data() {
            evidence.push("no deploy data in the bundle: confidence lowered".into());
        } else {
            evidence.push(format!("no deploy of {name} shortly before the anomaly"));
        }
        if let Some(a) = alerts.get(name) {
            let sev = if a.severity.is_empty() {
                String::new()
            } else {
                format!(" ({})", a.severity)
            };
            evidence.push(format!("alerting: {}{sev}", a.name));
        }
        s.candidate.evidence = evidence;
    }
    let mut justification = justify(b, &g, &an, &scored)
        .input("candidates_not_reported", omitted)
        .input("log_findings", found.len());
    if let Some(f) = &features {
        justification = justification
            .input("history_points", f.history_points)
            .input("gap_fraction", (f.gap_fraction * 1000.0).round() / 1000.0)
            .input("cold_start", f.cold);
    }
    (
        RcaResult {
            candidates: scored.into_iter().map(|s| s.candidate).collect(),
            justification,
        },
        features,
    )
}

/// Pre-incident points: the median, over observed series, of the points before `before`.
fn history_points(b: &RcaBundle, before: f64) -> f64 {
    let mut counts: Vec<usize> = b
        .metrics
        .values()
        .flat_map(|m| m.values())
        .map(|s| s.iter().filter(|p| p.0 < before).count())
        .collect();
    if counts.is_empty() {
        return 0.0;
    }
    counts.sort_unstable();
    counts[(counts.len() - 1) / 2] as f64
}

/// Fraction of metric points missing (scrape gaps): per series, the points a regular grid at its
/// median spacing would hold and are absent; the median over series.
fn gap_fraction(b: &RcaBundle) -> f64 {
    let mut fr: Vec<f64> = b
        .metrics
        .values()
        .flat_map(|m| m.values())
        .filter(|s| s.len() >= 3)
        .map(|s| {
            let mut steps: Vec<f64> = s.windows(2).map(|w| w[1].0 - w[0].0).collect();
            steps.sort_by(f64::total_cmp);
            let step = steps[(steps.len() - 1) / 2];
            let span = s[s.len() - 1].0 - s[0].0;
            if !(step > 0.0 && span.is_finite()) {
                return 0.0;
            }
            let expected = (span / step).round() + 1.0;
            ((expected - s.len() as f64) / expected.max(1.0)).clamp(0.0, 1.0)
        })
        .collect();
    if fr.is_empty() {
        return 0.0;
    }
    fr.sort_by(f64::total_cmp);
    fr[(fr.len() - 1) / 2]
}

fn justify(
    b: &RcaBundle,
    g: &graph::Graph,
    an: &[anomaly::ServiceAnomaly],
    c: &[Scored],
) -> Justification {
    let top = c.first().map(|s| &s.candidate);
    let unobserved = an.iter().filter(|a| !a.observed).count();
    let anomalous = an
        .iter()
        .filter(|a| a.score >= anomaly::MIN_ANOMALY)
        .count();
    let mut j = Justification::new(
        "rca_ranking",
        top.map(|t| t.service.clone())
            .unwrap_or_else(|| "no candidate".into()),
    )
    .input("services", g.len())
    .input("edges", b.edges.len())
    .input("anomalous_services", anomalous)
    .input("services_without_metrics", unobserved)
    .input("deploys", b.deploy_list().len())
    .input("deploy_data", b.has_deploy_data())
    .input("alerts", b.alerts.len())
    .input("trace_files", &b.trace_files)
    .constraint("anomaly = robust z (median/MAD of the window ending 60 s before the incident) with a CUSUM onset")
    .constraint("blame flows from each anomalous service to dependencies anomalous no later than it; at most 90% per hop")
    .constraint("services without metrics are inferred from callers whose other dependencies are healthy")
    .constraint(format!(
        "weight = blame · exp({}·change − {}·no change + {}·alert − {}·inferred); confidence = weight^{} / (Σ weight^{} + none-of-these^{})",
        calibrate::CHANGE_WEIGHT,
        calibrate::NO_CHANGE_PENALTY,
        calibrate::ALERT_WEIGHT,
        calibrate::INFERRED_PENALTY,
        calibrate::SHARPNESS,
        calibrate::SHARPNESS,
        calibrate::SHARPNESS
    ))
    .constraint(format!(
        "error logs: a dependency named by host, port or client library gains up to {} log-odds, the service naming it loses up to {}",
        calibrate::LOG_NAMED_WEIGHT,
        calibrate::LOG_NAMES_PENALTY
    ))
    .constraint(format!(
        "top confidence = calibration map fitted on tuning incidents (raw share, runner-up, history, gaps, silent pairs, logs); at most {} without usable history",
        calibrate::NO_HISTORY_CAP
    ))
    .confidence(top.map(|t| t.confidence).unwrap_or(0.0));
    if let Some(s) = c.first() {
        j = j.factor(
            "weight",
            s.weight,
            1.0,
            format!("{} (graph id {})", s.candidate.service, s.id),
        );
    }
    for alt in c.iter().skip(1).take(3) {
        j = j.alternative(format!(
            "{} at {:.0}%",
            alt.candidate.service,
            alt.candidate.confidence * 100.0
        ));
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

    /// The seed bundle with 20 more points of its first value before each series: a history
    /// long enough to be sure of.
    fn long_seed_bundle() -> RcaBundle {
        let mut b = seed_bundle();
        for m in b.metrics.values_mut() {
            for s in m.values_mut() {
                let (t0, v0) = s[0];
                let before: Vec<(f64, f64)> =
                    (1..=20).rev().map(|i| (t0 - 10.0 * i as f64, v0)).collect();
                s.splice(0..0, before);
            }
        }
        b
    }

    #[test]
    fn callee_fault_outranks_its_callers() {
        // One point before the incident: the right service, but too little history to be sure.
        let short = rank(&seed_bundle());
        assert_eq!(short.candidates[0].service, "payments");
        assert!(
            short.candidates[0].confidence <= calibrate::NO_HISTORY_CAP,
            "{:?}",
            short.candidates[0]
        );
        let r = rank(&long_seed_bundle());
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
        let mut b = long_seed_bundle();
        let full = rank(&b).candidates[0].confidence;
        b.deploys = None;
        b.alerts.clear();
        let r = rank(&b);
        assert_eq!(r.candidates[0].service, "payments");
        assert!(r.candidates[0].confidence < full);
        assert!(rank(&RcaBundle::default()).candidates.is_empty());
    }

    /// A service whose only dependency is a silent store: with deploy data that shows nothing
    /// was deployed, the store is the better bet (services mostly break after a change, stores
    /// without one); without deploy data the bundle says so and the top confidence is lower.
    #[test]
    fn an_empty_deploy_list_is_evidence_and_a_missing_one_is_not() {
        let with = |deploys: &str| -> RcaBundle {
            let text = format!(
                r#"{{"incident_start": 1700000000,
 "services": [{{"name": "front"}}, {{"name": "cart"}}, {{"name": "cart-redis"}}],
 "edges": [{{"from": "front", "to": "cart"}}, {{"from": "cart", "to": "cart-redis"}}],
 "metrics": {{"front": {{"error_rate": [[1699999700, 0.001], [1699999800, 0.001], [1699999900, 0.03], [1700000000, 0.03]]}},
             "cart": {{"error_rate": [[1699999700, 0.001], [1699999800, 0.001], [1699999900, 0.2], [1700000000, 0.2]]}}}}
 {deploys}}}"#
            );
            serde_json::from_str(&text).expect("bundle parses")
        };
        let none_deployed = rank(&with(r#", "deploys": []"#));
        assert_eq!(none_deployed.candidates[0].service, "cart-redis");
        let cart = none_deployed
            .candidates
            .iter()
            .find(|c| c.service == "cart")
            .expect("cart ranked");
        assert!(cart
            .evidence
            .iter()
            .any(|e| e == "no deploy of cart shortly before the anomaly"));
        let unknown = rank(&with(""));
        assert!(unknown.candidates[0]
            .evidence
            .iter()
            .any(|e| e.starts_with("no deploy data in the bundle")));
        assert!(unknown.candidates[0].confidence < none_deployed.candidates[0].confidence);
        assert_eq!(
            unknown.justification.inputs.get("deploy_data"),
            Some(&serde_json::Value::Bool(false))
        );
    }

    /// web → api → db, criticality 0.5 each: the cold-start tests' fleet.
    fn chain_services() -> Vec<BundleService> {
        ["web", "api", "db"]
            .iter()
            .map(|n| BundleService {
                name: (*n).into(),
                criticality: 0.5,
            })
            .collect()
    }

    fn chain_edges() -> Vec<BundleEdge> {
        [("web", "api"), ("api", "db")]
            .iter()
            .map(|(f, t)| BundleEdge {
                from: (*f).into(),
                to: (*t).into(),
            })
            .collect()
    }

    /// A bundle with 0–3 points of history per series (the fleet, Prometheus and ccp started
    /// within a second): nothing can move against a baseline, yet `api` alerts. It is ranked,
    /// below the approval threshold, with the reason in its evidence; an error log naming its
    /// dependency moves the blame there, still below the threshold.
    #[test]
    fn cold_start_ranks_the_alerting_service_below_the_approval_threshold() {
        for points in 0..=3usize {
            let series: Vec<(f64, f64)> = (0..points)
                .map(|i| (1_699_999_990.0 + 5.0 * i as f64, 0.2))
                .collect();
            let mut b = RcaBundle {
                incident_start: 1_700_000_000,
                services: chain_services(),
                edges: chain_edges(),
                metrics: BTreeMap::from([(
                    "api".to_string(),
                    BTreeMap::from([("error_rate".to_string(), series)]),
                )]),
                deploys: Some(Vec::new()),
                alerts: vec![BundleAlert {
                    service: "api".into(),
                    name: "incident".into(),
                    at: 1_700_000_000,
                    severity: "critical".into(),
                }],
                ..RcaBundle::default()
            };
            let r = rank(&b);
            let top = &r.candidates[0];
            assert_eq!(top.service, "api", "{points} points: {:?}", r.candidates);
            assert!(top.confidence < 0.7, "{points} points: {top:?}");
            assert!(top.confidence > 0.0, "{points} points: {top:?}");
            assert!(
                top.evidence
                    .iter()
                    .any(|e| e.starts_with("no usable history before the incident")),
                "{:?}",
                top.evidence
            );
            b.logs.insert(
                "api".into(),
                vec![BundleLogLine {
                    at: None,
                    text: r#"psycopg2.OperationalError: could not connect to server "db""#.into(),
                }],
            );
            let r = rank(&b);
            assert_eq!(r.candidates[0].service, "db", "{:?}", r.candidates);
            assert!(r.candidates[0].confidence < 0.7, "{:?}", r.candidates[0]);
            assert!(r.candidates[0]
                .evidence
                .iter()
                .any(|e| e.starts_with("api's error log names it (by host name")));
        }
        // An alert storm with no history: the caller's alert is read as its callee's symptom.
        let storm = RcaBundle {
            incident_start: 1_700_000_000,
            services: chain_services(),
            edges: chain_edges(),
            deploys: Some(Vec::new()),
            alerts: ["web", "api"]
                .iter()
                .map(|s| BundleAlert {
                    service: (*s).into(),
                    name: "HighErrorRate".into(),
                    at: 1_700_000_000,
                    severity: "critical".into(),
                })
                .collect(),
            ..RcaBundle::default()
        };
        let r = rank(&storm);
        assert_eq!(r.candidates[0].service, "api", "{:?}", r.candidates);
        assert!(r.candidates[0].confidence < 0.7, "{:?}", r.candidates[0]);
        // Nothing alerting and nothing moved: no candidate, and the pipeline escalates.
        assert!(rank(&RcaBundle {
            incident_start: 1_700_000_000,
            ..RcaBundle::default()
        })
        .candidates
        .is_empty());
    }

    #[test]
    fn traced_commit_beats_newer_commit() {
        let mut b = seed_bundle();
        b.deploys.get_or_insert_with(Vec::new).push(BundleDeploy {
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
