//! Keeping an incident's diagnosis to what can explain it. When several incidents run at once
//! (a desk of pipelines, each owning one service's incident), the ranker sees every anomaly in
//! the fleet; a root cause for *this* incident must be its own service or something it calls,
//! directly or not. Anything else is another incident's, and remediating it from here would
//! make two operations fight over one service.

use super::{Pipeline, Step, Stop};
use crate::domain::Outcome;
use crate::events::EndCause;
use crate::rca::RcaResult;
use std::collections::BTreeSet;

/// `service` and every service it reaches through calls (caller → callee edges).
pub(crate) fn reachable_from(service: &str, edges: &[(String, String)]) -> BTreeSet<String> {
    let mut seen = BTreeSet::from([service.to_string()]);
    let mut todo = vec![service.to_string()];
    while let Some(n) = todo.pop() {
        for (from, to) in edges {
            if *from == n && seen.insert(to.clone()) {
                todo.push(to.clone());
            }
        }
    }
    seen
}

/// Drop candidates outside `reach`, saying which and why in the justification. Confidences are
/// left as ranked (not renormalized), so dropping others' anomalies never makes this one look
/// surer than the evidence says.
pub(crate) fn keep_reachable(
    mut r: RcaResult,
    service: &str,
    reach: &BTreeSet<String>,
) -> RcaResult {
    let (kept, dropped): (Vec<_>, Vec<_>) = r
        .candidates
        .into_iter()
        .partition(|c| reach.contains(&c.service));
    if !dropped.is_empty() {
        let names: Vec<&str> = dropped.iter().map(|c| c.service.as_str()).collect();
        r.justification = r.justification.constraint(format!(
            "scoped to {service} and what it calls: {} cannot cause its symptoms (another incident's anomaly)",
            names.join(", ")
        ));
    }
    r.candidates = kept;
    r
}

impl Pipeline {
    /// Scope the ranking to the incident's service when this pipeline owns one service's
    /// incident among several; unchanged otherwise.
    pub(super) fn scoped(&self, r: RcaResult) -> Step<RcaResult> {
        let Some(service) = self.settings.only_service.as_deref() else {
            return Ok(r);
        };
        let edges = self.ports.graph.edges().map_err(|e| {
            Stop::new(
                Outcome::Escalated,
                EndCause::BackendUnavailable {
                    port: "graph".into(),
                },
                format!("RCA could not read the dependency graph: {e}"),
            )
        })?;
        Ok(keep_reachable(r, service, &reachable_from(service, &edges)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::RcaCandidate;
    use crate::explain::Justification;

    fn cand(service: &str, confidence: f64) -> RcaCandidate {
        RcaCandidate {
            service: service.into(),
            commit: None,
            confidence,
            evidence: Vec::new(),
        }
    }

    #[test]
    fn another_incidents_anomaly_is_dropped_and_said() {
        let edges: Vec<(String, String)> = [("payment", "db"), ("web", "catalog")]
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        let reach = reachable_from("payment", &edges);
        assert_eq!(
            reach,
            BTreeSet::from(["payment".to_string(), "db".to_string()])
        );
        let r = RcaResult {
            candidates: vec![cand("catalog", 0.6), cand("payment", 0.3), cand("db", 0.1)],
            justification: Justification::new("rca", "x"),
        };
        let out = keep_reachable(r, "payment", &reach);
        let names: Vec<&str> = out.candidates.iter().map(|c| c.service.as_str()).collect();
        assert_eq!(names, vec!["payment", "db"]);
        assert!(
            (out.candidates[0].confidence - 0.3).abs() < 1e-12,
            "not renormalized"
        );
        assert!(out
            .justification
            .constraints
            .iter()
            .any(|c| c.contains("catalog cannot cause")));
    }
}
