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

/// Log-odds added to a service named as failing by other services' error logs (at full
/// strength: a loud direct caller naming it by host in several entries).
pub const LOG_NAMED_WEIGHT: f64 = 2.0;
/// Log-odds removed from a service whose own errors name a dependency as failing: it is
/// probably that dependency's victim.
pub const LOG_NAMES_PENALTY: f64 = 1.5;
/// Blame mass a service named by logs gets at least (times the naming strength): a silent store
/// named by its caller is a candidate even when its callers barely moved.
pub const NAMED_MASS: f64 = 0.3;
/// Blame mass of an alerting service when nothing moved against a history (cold start).
pub const ALERT_ONLY_MASS: f64 = 0.2;
/// Top confidence at most when there is no usable history (cold start, or fewer than three
/// points before the onset): below `approval.min_rca_confidence`, so a human confirms.
pub const NO_HISTORY_CAP: f64 = 0.5;
/// A logging service that is itself neither anomalous nor alerting counts this much: healthy
/// services log unrelated retries all the time.
const QUIET_LOGGER: f64 = 0.25;

/// How strongly one service's logs name another, in [0,1]: a loud caller, a direct dependency,
/// a host name and several entries count most.
pub fn log_strength(loud: bool, direct: bool, how: super::logs::How, entries: usize) -> f64 {
    use super::logs::How;
    let who = if loud { 1.0 } else { QUIET_LOGGER };
    let edge = if direct { 1.0 } else { 0.5 };
    let way = match how {
        How::Host => 1.0,
        How::Port => 0.8,
        How::Library => 0.6,
    };
    let n = i32::try_from(entries.min(16)).unwrap_or(16);
    who * edge * way * (1.0 - 0.4f64.powi(n))
}

/// Log-odds from logs: raised when named (`named` in [0,1]), lowered when naming another.
pub fn log_odds(named: f64, names: f64) -> f64 {
    let ok = |x: f64| {
        if x.is_finite() {
            x.clamp(0.0, 1.0)
        } else {
            0.0
        }
    };
    LOG_NAMED_WEIGHT * ok(named) - LOG_NAMES_PENALTY * ok(names)
}

/// What the calibration map reads about a ranking: the raw shares and what makes them more or
/// less trustworthy than they look.
#[derive(Debug, Clone, PartialEq)]
pub struct Features {
    /// The top candidate's raw share.
    pub raw_top: f64,
    /// The runner-up's raw share (0 without one).
    pub raw_second: f64,
    /// Pre-incident points (median over series of the points before the top's onset).
    pub history_points: f64,
    /// Fraction of metric points missing.
    pub gap_fraction: f64,
    /// Whether the top exports no metrics (its anomaly is inferred).
    pub inferred_top: bool,
    /// Whether the runner-up calls the top or is called by it.
    pub adjacent_runner_up: bool,
    /// Adjacent and one of the two is silent: the tie metrics cannot break.
    pub silent_pair: bool,
    /// A silent pair whose silent member has one observed anomalous caller only, the other one:
    /// "the store failed" and "its one caller failed" then predict exactly the same data.
    pub single_witness: bool,
    /// The silent member of the pair has no caller but the other member at all: no second
    /// witness can ever exist (a store private to one service).
    pub sole_caller: bool,
    /// How strongly logs name the top, in [0,1].
    pub named_top: f64,
    /// How strongly the top's own logs name another service, in [0,1].
    pub top_names_other: f64,
    /// Whether the bundle has deploy data.
    pub deploy_data: bool,
    /// Nothing moved against a history: alert-only ranking.
    pub cold: bool,
}

/// Length of [`Features::vector`].
pub const FEATURES: usize = 14;

fn logit(p: f64) -> f64 {
    let p = if p.is_finite() {
        p.clamp(1e-3, 1.0 - 1e-3)
    } else {
        0.5
    };
    (p / (1.0 - p)).ln()
}

impl Features {
    /// The map's inputs: bias, logit of the raw top share, the runner-up's share, shortness of
    /// the history (1 with none, 0 from 20 points on), gaps, and the indicators.
    pub fn vector(&self) -> [f64; FEATURES] {
        let b = |x: bool| f64::from(u8::from(x));
        let short = ((20.0 - self.history_points) / 20.0).clamp(0.0, 1.0);
        [
            1.0,
            logit(self.raw_top),
            self.raw_second.clamp(0.0, 1.0),
            short,
            self.gap_fraction.clamp(0.0, 1.0),
            b(self.inferred_top),
            b(self.silent_pair),
            b(self.single_witness),
            b(self.single_witness) * logit(self.raw_top),
            b(self.sole_caller),
            b(self.sole_caller && self.inferred_top),
            self.named_top.clamp(0.0, 1.0),
            self.top_names_other.clamp(0.0, 1.0),
            b(!self.deploy_data),
        ]
    }
}

/// The identity map: the raw top share, unchanged.
pub const IDENTITY: [f64; FEATURES] = [
    0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
];

/// The calibration map (logistic regression of "the top candidate is the root" on
/// [`Features::vector`]). Fitted by `ccp bench --rca-fit` on the *tuning* seed 20261124 only
/// (standard and hard conditions, generated and three published topologies); reported on the
/// held-out seed 20261125 and on hotel reservation, which the fit never saw.
pub const COEFFICIENTS: [f64; FEATURES] = [
    -0.8458, 1.6465, 2.0527, -0.4915, -0.2975, 2.0359, -0.6764, 1.9714, -0.7147, -0.8986, -1.5361,
    -0.6690, -2.1953, 0.0,
];

/// The top probability the map gives.
pub fn calibrated_top(f: &Features, map: &[f64; FEATURES]) -> f64 {
    let z: f64 = f.vector().iter().zip(map).map(|(x, w)| x * w).sum();
    let p = 1.0 / (1.0 + (-z).exp());
    let p = if p.is_finite() { p } else { 0.0 };
    if f.cold || f.history_points < 3.0 {
        p.min(NO_HISTORY_CAP)
    } else {
        p
    }
}

/// Every candidate's confidence after the map: the top gets [`calibrated_top`]; the others keep
/// their proportions, scaled so that none passes the top and the sum stays within 1.
pub fn recalibrate(raw: &[f64], f: &Features, map: &[f64; FEATURES]) -> Vec<f64> {
    let Some(&top) = raw.first() else {
        return Vec::new();
    };
    let new_top = calibrated_top(f, map);
    let rest: f64 = raw[1..].iter().filter(|x| x.is_finite()).sum();
    let mut k = if top > 0.0 { new_top / top } else { 1.0 };
    if rest > 0.0 {
        k = k.min((1.0 - new_top).max(0.0) / rest);
    }
    std::iter::once(new_top)
        .chain(raw[1..].iter().map(|&x| (x * k).clamp(0.0, new_top)))
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
