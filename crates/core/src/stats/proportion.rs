//! Error rates are proportions, and comparing per-second *rates* across cohorts of different
//! size is wrong: a 10 % canary's seconds sit on a coarser grid (1/12, 2/12…) than the
//! baseline's, so even identical versions look different to a rank test (measured: 25 % false
//! rollbacks at 10 % traffic and 0.3 % errors, see BENCHMARKS.md). This module compares the
//! counts instead, with the conditional binomial test for two Poisson rates: given the total
//! number of errors, under "same rate" the canary's share of them is Binomial(total, canary
//! requests / all requests). It is exact for any count, including none.

use super::judge::{Classification, Direction, JudgeConfig, MetricResult, MetricVerdict};
use statrs::distribution::{Binomial, DiscreteCDF};

/// Events and trials of one cohort over a window (errors and requests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Events (errors).
    pub events: u64,
    /// Trials (requests).
    pub trials: u64,
}

impl Counts {
    fn rate(self) -> f64 {
        if self.trials == 0 {
            0.0
        } else {
            self.events as f64 / self.trials as f64
        }
    }
}

/// Two-sided p-value of the conditional binomial test: the canary got `canary.events` of all
/// events; under equal rates it expects a share proportional to its trials.
pub fn conditional_binomial_p(baseline: Counts, canary: Counts) -> f64 {
    let total = baseline.events + canary.events;
    let trials = baseline.trials + canary.trials;
    if total == 0 || trials == 0 || canary.trials == 0 || baseline.trials == 0 {
        return 1.0;
    }
    let share = canary.trials as f64 / trials as f64;
    let Ok(b) = Binomial::new(share, total) else {
        return 1.0;
    };
    let k = canary.events;
    let lower = b.cdf(k);
    let upper = if k == 0 { 1.0 } else { 1.0 - b.cdf(k - 1) };
    (2.0 * lower.min(upper)).clamp(0.0, 1.0)
}

/// Judge a proportion metric (error rate) from counts. Fail needs all three, as for sampled
/// metrics: p < alpha, the shift goes the bad way, and it is larger than `tolerance ×` the
/// baseline rate (so a tiny significant change on huge traffic does not roll back).
pub fn judge_counts(
    name: &str,
    baseline: Counts,
    canary: Counts,
    direction: Direction,
    cfg: &JudgeConfig,
) -> MetricResult {
    let (r1, r2) = (baseline.rate(), canary.rate());
    let base = MetricResult {
        name: name.to_string(),
        n_baseline: baseline.trials as usize,
        n_canary: canary.trials as usize,
        baseline_median: Some(r1),
        canary_median: Some(r2),
        mann_whitney_u: None,
        p_value: None,
        p_exact: None,
        p_adjusted: None,
        welch_t: None,
        welch_p: None,
        effect: Some(r2 - r1),
        hodges_lehmann: None,
        ci95: None,
        ci95_median: None,
        direction,
        verdict: MetricVerdict::NoData,
        classification: Classification::NoData,
        weight: 1.0,
        reason: String::new(),
    };
    if baseline.trials == 0 || canary.trials == 0 {
        return MetricResult {
            reason: format!(
                "no requests on the {} side: cannot compare {name}",
                if baseline.trials == 0 {
                    "baseline"
                } else {
                    "canary"
                }
            ),
            ..base
        };
    }
    let p = conditional_binomial_p(baseline, canary);
    let shift = r2 - r1;
    let se =
        (r1 * (1.0 - r1) / baseline.trials as f64 + r2 * (1.0 - r2) / canary.trials as f64).sqrt();
    let material = shift.abs() > cfg.tolerance * r1.abs();
    let worse = p < cfg.alpha && direction.is_bad(shift) && material;
    let ratio = if r1 > 0.0 {
        format!("×{:.2}", r2 / r1)
    } else if r2 > 0.0 {
        "from zero".to_string()
    } else {
        "both zero".to_string()
    };
    let judgement = if worse {
        "significantly worse"
    } else if p < cfg.alpha && !material {
        "significant but within tolerance"
    } else if p < cfg.alpha && !direction.is_bad(shift) {
        "significantly better"
    } else {
        "no significant difference"
    };
    MetricResult {
        p_value: Some(p),
        ci95: Some([shift - 1.96 * se, shift + 1.96 * se]),
        verdict: if worse {
            MetricVerdict::Fail
        } else {
            MetricVerdict::Pass
        },
        classification: if p < cfg.alpha && material && shift != 0.0 {
            Classification::of_shift(shift)
        } else {
            Classification::Pass
        },
        reason: format!(
            "canary {name} {:.3}% ({}/{}) vs baseline {:.3}% ({}/{}), {ratio}, p={p:.3} (conditional binomial test on counts): {judgement}",
            r2 * 100.0,
            canary.events,
            canary.trials,
            r1 * 100.0,
            baseline.events,
            baseline.trials
        ),
        ..base
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(events: u64, trials: u64) -> Counts {
        Counts { events, trials }
    }

    #[test]
    fn reference_p_values() {
        // Two-sided p doubles the smaller tail, 2·min(P(X≤k), P(X≥k)). Worked by hand:
        // k=10 of 12 events, canary share 0.5: P(X≥10) = (66+12+1)/4096 = 79/4096.
        let p = conditional_binomial_p(c(2, 1000), c(10, 1000));
        assert!((p - 2.0 * 79.0 / 4096.0).abs() < 1e-12, "{p}");
        // No events at all: nothing to see.
        assert_eq!(conditional_binomial_p(c(0, 1000), c(0, 100)), 1.0);
        // Equal shares: p = 1.
        let p = conditional_binomial_p(c(5, 100), c(5, 100));
        assert!((p - 1.0).abs() < 1e-12, "{p}");
    }

    #[test]
    fn unequal_cohorts_with_equal_rates_pass() {
        let cfg = JudgeConfig::default();
        let r = judge_counts(
            "error_rate",
            c(97, 32_400),
            c(11, 3_600),
            Direction::IncreaseIsBad,
            &cfg,
        );
        assert_eq!(r.verdict, MetricVerdict::Pass, "{}", r.reason);
    }

    #[test]
    fn doubled_errors_on_enough_traffic_fail() {
        let cfg = JudgeConfig::default();
        let r = judge_counts(
            "error_rate",
            c(300, 100_000),
            c(120, 20_000),
            Direction::IncreaseIsBad,
            &cfg,
        );
        assert_eq!(r.verdict, MetricVerdict::Fail, "{}", r.reason);
        assert!(r.reason.contains("×2.00"), "{}", r.reason);
    }

    #[test]
    fn better_canary_passes_and_empty_side_is_no_data() {
        let cfg = JudgeConfig::default();
        let r = judge_counts(
            "error_rate",
            c(1_500, 10_000),
            c(3, 1_000),
            Direction::IncreaseIsBad,
            &cfg,
        );
        assert_eq!(r.verdict, MetricVerdict::Pass);
        assert!(r.reason.contains("significantly better"), "{}", r.reason);
        let r = judge_counts(
            "error_rate",
            c(1, 100),
            c(0, 0),
            Direction::IncreaseIsBad,
            &cfg,
        );
        assert_eq!(r.verdict, MetricVerdict::NoData);
    }
}
