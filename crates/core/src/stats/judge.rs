//! The canary verdict, modelled on Kayenta-style judging: classify each
//! metric Pass/Fail/NoData, score the fraction that passed, then apply
//! thresholds and a "critical metric" override.
//!
//! Why this shape: a per-metric verdict with a readable reason lets on-call
//! engineers see *which* signal blocked a rollout, and the score gives a
//! single go/no-go number that is stable across small metric sets.

use serde::{Deserialize, Serialize};

use super::bootstrap::bootstrap_median_shift_ci;
use super::describe::{mean, median};
use super::explain::{self, Outcome};
use super::hodges_lehmann::hodges_lehmann_ci;
use super::mann_whitney::{exact_p_value, mann_whitney_u};
use super::rng::Rng;
use super::welch::welch_t_test;
use super::StatsError;

/// Floor for the tolerance scale, so a baseline median of 0 (error rates
/// are usually 0) still yields a finite, tiny threshold rather than none.
const TINY: f64 = 1e-12;

/// Confidence of the reported `ci95` interval.
const CI_LEVEL: f64 = 0.95;

/// Which way a metric's change hurts users.
///
/// Why it matters: a significant drop in latency is good news, a
/// significant drop in throughput is not; the same test result must be
/// judged differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Higher is worse (latency, error rate): the common case, so default.
    #[default]
    IncreaseIsBad,
    /// Lower is worse (throughput, success rate, cache hit ratio).
    DecreaseIsBad,
    /// Any significant change is suspicious (e.g. request mix).
    Both,
}

impl Direction {
    /// Whether a non-zero `shift` (canary − baseline) moves the bad way.
    pub fn is_bad(self, shift: f64) -> bool {
        match self {
            Direction::IncreaseIsBad => shift > 0.0,
            Direction::DecreaseIsBad => shift < 0.0,
            Direction::Both => shift != 0.0,
        }
    }
}

/// Judge thresholds. `#[serde(default)]` so a config file may set only the
/// values it wants to change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct JudgeConfig {
    /// Significance level for Mann–Whitney (0.05: the conventional 1-in-20
    /// false-alarm rate per metric).
    pub alpha: f64,
    /// Fewer samples than this on either side → NoData: the normal
    /// approximation is meaningless on a handful of points.
    pub min_samples: usize,
    /// Bootstrap resamples for the optional `ci95_median` (a percentile-bootstrap interval of
    /// the median shift); 0, the default, skips it. `ci95` needs no resampling: it is the
    /// Mann–Whitney interval of the Hodges–Lehmann shift, exact and seed-free, and 2 000
    /// resamples of 2×100 k values cost a second and a half where it costs milliseconds.
    pub bootstrap_resamples: usize,
    /// Seed for the bootstrap, so the same inputs give the same report.
    pub seed: u64,
    /// Score at or above which the canary passes.
    pub pass_score: f64,
    /// Score below which the canary fails; in between is Inconclusive.
    pub marginal_score: f64,
    /// Relative tolerance on the median shift: a statistically significant
    /// change smaller than `tolerance × |baseline median|` is treated as
    /// "no meaningful change" (large samples make tiny shifts significant).
    pub tolerance: f64,
    /// How many times the same rollout is judged (a canary with two steps and a final
    /// verification looks three times). Every look is another chance of a false rollback, so
    /// p-values are Bonferroni-adjusted across looks on top of Holm across metrics: the whole
    /// rollout, not each look, keeps its false-rollback rate at `alpha`.
    pub looks: u32,
}

impl Default for JudgeConfig {
    fn default() -> Self {
        JudgeConfig {
            alpha: 0.05,
            min_samples: 5,
            bootstrap_resamples: 0,
            seed: 0,
            pass_score: 75.0,
            marginal_score: 50.0,
            tolerance: 0.0,
            looks: 1,
        }
    }
}

impl JudgeConfig {
    /// Rejects values that would make the verdict meaningless (e.g. an
    /// alpha of 2 fails everything), so a typo cannot gate a rollout.
    pub fn validate(&self) -> Result<(), StatsError> {
        let bad = |msg: String| Err(StatsError::InvalidConfig(msg));
        if !(self.alpha > 0.0 && self.alpha < 1.0) {
            return bad(format!("alpha must be in (0, 1), got {}", self.alpha));
        }
        if !(0.0..=100.0).contains(&self.marginal_score)
            || !(0.0..=100.0).contains(&self.pass_score)
            || self.marginal_score > self.pass_score
        {
            return bad(format!(
                "need 0 <= marginal_score ({}) <= pass_score ({}) <= 100",
                self.marginal_score, self.pass_score
            ));
        }
        if self.looks == 0 {
            return bad("looks must be at least 1".to_string());
        }
        if !(self.tolerance >= 0.0 && self.tolerance.is_finite()) {
            return bad(format!(
                "tolerance must be finite and >= 0, got {}",
                self.tolerance
            ));
        }
        Ok(())
    }
}

/// Per-metric outcome. NoData is separate from Pass so that missing
/// telemetry never counts as evidence that the canary is healthy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricVerdict {
    /// No meaningful change in the bad direction.
    Pass,
    /// Significant, material change in the bad direction.
    Fail,
    /// Not enough (or no usable) data to judge.
    NoData,
}

/// Kayenta's per-metric classification, independent of harm: did the canary move significantly
/// and materially up (`high`), down (`low`), or not at all (`pass`)? A reader sees at a glance
/// that latency went *down* (good news, still worth knowing) without decoding `effect` signs; the
/// verdict then says whether that direction hurts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Classification {
    /// Canary significantly and materially higher (after correction).
    High,
    /// Canary significantly and materially lower (after correction).
    Low,
    /// No significant, material change.
    #[default]
    Pass,
    /// Not judged.
    NoData,
}

impl Classification {
    /// The class of a significant, material `shift` (canary − baseline).
    pub(crate) fn of_shift(shift: f64) -> Self {
        if shift > 0.0 {
            Classification::High
        } else {
            Classification::Low
        }
    }
}

fn one() -> f64 {
    1.0
}

/// Overall canary outcome. Inconclusive exists so the cockpit can ask a
/// human instead of guessing when evidence is mixed or missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Promote the canary.
    Pass,
    /// Roll the canary back.
    Fail,
    /// A human should decide.
    Inconclusive,
}

/// One metric's evidence and verdict. Field names are the `ccp judge
/// --json` contract; unavailable values are `None` (JSON `null`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricResult {
    /// Metric name.
    pub name: String,
    /// Baseline sample count.
    pub n_baseline: usize,
    /// Canary sample count.
    pub n_canary: usize,
    /// Baseline median (None if no baseline samples).
    pub baseline_median: Option<f64>,
    /// Canary median (None if no canary samples).
    pub canary_median: Option<f64>,
    /// Mann–Whitney U of the canary sample.
    pub mann_whitney_u: Option<f64>,
    /// Two-sided Mann–Whitney p-value, tie-corrected normal approximation (the Contract's
    /// statistic, comparable with SciPy's `method="asymptotic"` at any size).
    pub p_value: Option<f64>,
    /// Exact two-sided Mann–Whitney p-value, present when one side has at most 8 samples and
    /// nothing is tied (SciPy's `method="exact"`/`"auto"` there). The normal approximation is
    /// off by tens of percent on so few points, so when present this is what the verdict uses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_exact: Option<f64>,
    /// `p_value` after Holm's correction across the metrics judged together: what the verdict
    /// is actually decided on, so that judging more signals does not mean more false rollbacks.
    #[serde(default)]
    pub p_adjusted: Option<f64>,
    /// Welch t (canary − baseline); None if infinite or unavailable.
    pub welch_t: Option<f64>,
    /// Two-sided Welch p-value (informational).
    pub welch_p: Option<f64>,
    /// Median shift, canary − baseline.
    pub effect: Option<f64>,
    /// Hodges–Lehmann shift, canary − baseline: the median of all pairwise differences, the
    /// point estimate `ci95` is built around (Kayenta's and R's `wilcox.test` estimate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hodges_lehmann: Option<f64>,
    /// 95% interval of the shift, by inverting the Mann–Whitney test (R's
    /// `wilcox.test(canary, baseline, conf.int = TRUE)`; exact below 50 values a side without
    /// ties). For a proportion metric, the Wald interval of the difference in rates.
    pub ci95: Option<[f64; 2]>,
    /// 95% percentile-bootstrap interval of the median shift, when `bootstrap_resamples` asks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci95_median: Option<[f64; 2]>,
    /// Which direction is bad for this metric.
    pub direction: Direction,
    /// This metric's verdict.
    pub verdict: MetricVerdict,
    /// Kayenta-style `high` / `low` / `pass` / `no_data`, whichever way is harmful.
    #[serde(default)]
    pub classification: Classification,
    /// This metric's vote in the score (default 1): a team can make p99 count more than p50.
    #[serde(default = "one")]
    pub weight: f64,
    /// Plain-language explanation with numbers, for the on-call engineer.
    pub reason: String,
}

/// The overall verdict with its per-metric evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Judgement {
    /// Overall outcome.
    pub verdict: Verdict,
    /// `100 × Σ weight(passed) / Σ weight(passed + failed)`, 0 when nothing could be judged.
    pub score: f64,
    /// Per-metric results, in input order.
    pub metrics: Vec<MetricResult>,
    /// Why the overall verdict was reached.
    pub reason: String,
}

/// Judges every `(name, baseline, canary, direction)` and combines them.
pub fn judge(metrics: &[(String, Vec<f64>, Vec<f64>, Direction)], cfg: &JudgeConfig) -> Judgement {
    let results = metrics
        .iter()
        .map(|(name, b, c, dir)| judge_metric(name, b, c, *dir, cfg))
        .collect();
    summarize(results, cfg)
}

/// Judges one metric.
///
/// Fail requires all three: Mann–Whitney p < alpha (the change is real),
/// the shift goes the bad way (median shift, or the mean shift when the
/// medians tie, which is common for mostly-zero error rates), and
/// |shift| exceeds the tolerance (the change matters). Everything else,
/// including "significantly better", passes.
pub fn judge_metric(
    name: &str,
    baseline: &[f64],
    canary: &[f64],
    direction: Direction,
    cfg: &JudgeConfig,
) -> MetricResult {
    let mut result = empty_result(name, baseline, canary, direction);
    if let Some(reason) = non_finite_reason(name, baseline, canary) {
        result.reason = reason;
        return result;
    }
    let (Some(bm), Some(cm), Some(mw)) = (
        result.baseline_median,
        result.canary_median,
        mann_whitney_u(baseline, canary),
    ) else {
        result.reason = format!("{name}: no usable samples");
        return result;
    };
    let welch = welch_t_test(baseline, canary);
    result.mann_whitney_u = Some(mw.u);
    result.p_value = Some(mw.p_value);
    result.p_exact = exact_p_value(baseline, canary);
    result.welch_t = welch.map(|w| w.t).filter(|t| t.is_finite());
    result.welch_p = welch.map(|w| w.p_value);
    result.effect = Some(cm - bm);
    // Too few samples: the statistics are still shown (someone comparing with SciPy, or
    // wondering what a short window said, should see them), but they decide nothing.
    if let Some(reason) = too_few_reason(name, baseline, canary, cfg) {
        result.reason = reason;
        return result;
    }
    if let Some(hl) = hodges_lehmann_ci(baseline, canary, CI_LEVEL) {
        result.hodges_lehmann = Some(hl.estimate);
        result.ci95 = Some([hl.lo, hl.hi]);
    }
    result.ci95_median = bootstrap_ci(name, baseline, canary, cfg);
    let p = result.p_exact.unwrap_or(mw.p_value);
    let shift = decision_shift(baseline, canary, cm - bm);
    let outcome = classify(p, shift, bm, direction, cfg);
    result.verdict = outcome.verdict();
    result.classification = outcome.classification(shift);
    result.reason = explain::metric_reason(
        name,
        &explain::Evidence {
            baseline_median: bm,
            canary_median: cm,
            shift,
            medians_tied: cm == bm,
            p_value: p,
            percent: explain::is_fraction_metric(name, baseline, canary),
            tolerance: cfg.tolerance,
        },
        outcome,
    );
    result
}

/// A NoData result carrying whatever counts and medians exist.
fn empty_result(
    name: &str,
    baseline: &[f64],
    canary: &[f64],
    direction: Direction,
) -> MetricResult {
    MetricResult {
        name: name.to_string(),
        n_baseline: baseline.len(),
        n_canary: canary.len(),
        baseline_median: finite_median(baseline),
        canary_median: finite_median(canary),
        mann_whitney_u: None,
        p_value: None,
        p_exact: None,
        p_adjusted: None,
        welch_t: None,
        welch_p: None,
        effect: None,
        hodges_lehmann: None,
        ci95: None,
        ci95_median: None,
        direction,
        verdict: MetricVerdict::NoData,
        classification: Classification::NoData,
        weight: 1.0,
        reason: String::new(),
    }
}

/// NoData result for a metric present in only one sample file.
pub(crate) fn empty_for_missing(
    name: &str,
    baseline: Option<&[f64]>,
    canary: Option<&[f64]>,
    direction: Direction,
) -> MetricResult {
    let mut result = empty_result(
        name,
        baseline.unwrap_or_default(),
        canary.unwrap_or_default(),
        direction,
    );
    let (missing, present) = if canary.is_none() {
        ("canary", "baseline")
    } else {
        ("baseline", "canary")
    };
    result.reason = format!(
        "{name}: missing from the {missing} samples (only the {present} file has it); not judged"
    );
    result
}

/// Median only when every value is finite (a NaN median would serialize
/// as a misleading `null`-looking number downstream).
fn finite_median(xs: &[f64]) -> Option<f64> {
    if xs.iter().all(|x| x.is_finite()) {
        median(xs)
    } else {
        None
    }
}

/// Why a metric's samples cannot be used at all: a non-finite value, named by side and index.
fn non_finite_reason(name: &str, baseline: &[f64], canary: &[f64]) -> Option<String> {
    for (side, xs) in [("baseline", baseline), ("canary", canary)] {
        if let Some(i) = xs.iter().position(|x| !x.is_finite()) {
            return Some(format!(
                "{name}: {side} value at index {i} is not a finite number ({}); not judged",
                xs[i]
            ));
        }
    }
    None
}

/// Why a metric has too few samples to decide anything, if it has.
fn too_few_reason(
    name: &str,
    baseline: &[f64],
    canary: &[f64],
    cfg: &JudgeConfig,
) -> Option<String> {
    let need = cfg.min_samples.max(1);
    if baseline.len() < need || canary.len() < need {
        return Some(format!(
            "{name}: too few samples to judge (baseline {}, canary {}; need at least {need} each)",
            baseline.len(),
            canary.len()
        ));
    }
    None
}

/// The metric's bootstrap CI, seeded per metric *name* (not position) so
/// reordering metrics in a file never changes any interval.
fn bootstrap_ci(
    name: &str,
    baseline: &[f64],
    canary: &[f64],
    cfg: &JudgeConfig,
) -> Option<[f64; 2]> {
    let seed = Rng::new(cfg.seed).fork(fnv1a(name)).next_u64();
    bootstrap_median_shift_ci(baseline, canary, cfg.bootstrap_resamples, CI_LEVEL, seed)
        .map(|(lo, hi)| [lo, hi])
}

/// FNV-1a hash of a name: stable across Rust versions, unlike `DefaultHasher`.
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The shift used for direction: the median shift, or the mean shift when
/// the medians tie (e.g. both 0 for sparse errors) so a real rise in rare
/// errors is not hidden by a zero median.
fn decision_shift(baseline: &[f64], canary: &[f64], median_shift: f64) -> f64 {
    if median_shift != 0.0 {
        return median_shift;
    }
    match (mean(canary), mean(baseline)) {
        (Some(c), Some(b)) => c - b,
        _ => 0.0,
    }
}

impl Outcome {
    /// Only `Worse` fails the metric.
    fn verdict(self) -> MetricVerdict {
        match self {
            Outcome::Worse => MetricVerdict::Fail,
            _ => MetricVerdict::Pass,
        }
    }

    /// Kayenta's class: a significant, material move either way is high or low.
    fn classification(self, shift: f64) -> Classification {
        match self {
            Outcome::Worse | Outcome::Better => Classification::of_shift(shift),
            _ => Classification::Pass,
        }
    }
}

/// Applies the three-part Fail rule.
fn classify(
    p: f64,
    shift: f64,
    baseline_median: f64,
    dir: Direction,
    cfg: &JudgeConfig,
) -> Outcome {
    if p >= cfg.alpha {
        return Outcome::NoSignificantChange;
    }
    let threshold = cfg.tolerance * baseline_median.abs().max(TINY);
    if shift == 0.0 || shift.abs() <= threshold {
        return Outcome::WithinTolerance;
    }
    if dir.is_bad(shift) {
        Outcome::Worse
    } else {
        Outcome::Better
    }
}

/// Counts of judged metrics.
struct Tally {
    passed: usize,
    failed: usize,
    no_data: usize,
}

/// Counts verdicts.
fn tally(results: &[MetricResult]) -> Tally {
    let count = |v| results.iter().filter(|r| r.verdict == v).count();
    Tally {
        passed: count(MetricVerdict::Pass),
        failed: count(MetricVerdict::Fail),
        no_data: count(MetricVerdict::NoData),
    }
}

/// Error signals are critical: any failed metric whose name starts with
/// `error` fails the canary regardless of score, because users notice
/// errors long before they notice a slightly worse average elsewhere.
pub fn is_critical(name: &str) -> bool {
    name.to_ascii_lowercase().starts_with("error")
}

/// The p-value a metric's verdict is decided on: the exact one when it exists.
fn decision_p(r: &MetricResult) -> Option<f64> {
    r.p_exact.or(r.p_value).filter(|p| p.is_finite())
}

/// Holm's step-down correction over every judged metric, times the number of looks at the
/// rollout (Bonferroni across looks): each metric is judged at `alpha` per rollout, not per
/// metric per look, so adding signals or steps does not add false rollbacks. A metric that
/// failed on its own p-value but not on the adjusted one passes, and says why.
fn correct_family_wise(results: &mut [MetricResult], cfg: &JudgeConfig) {
    let mut order: Vec<(usize, f64)> = results
        .iter()
        .enumerate()
        .filter(|(_, r)| r.verdict != MetricVerdict::NoData)
        .filter_map(|(i, r)| decision_p(r).map(|p| (i, p)))
        .collect();
    order.sort_by(|a, b| a.1.total_cmp(&b.1));
    let k = order.len();
    let looks = f64::from(cfg.looks.max(1));
    let family = if cfg.looks > 1 {
        format!(
            "{k} metric(s) judged together and {} looks at this rollout",
            cfg.looks
        )
    } else {
        format!("{k} metric(s) judged together")
    };
    let mut running: f64 = 0.0;
    for (rank, (i, p)) in order.into_iter().enumerate() {
        running = running.max(((k - rank) as f64 * looks * p).min(1.0));
        let r = &mut results[i];
        r.p_adjusted = Some(running);
        if running < cfg.alpha {
            continue;
        }
        r.classification = Classification::Pass;
        if r.verdict == MetricVerdict::Fail {
            r.verdict = MetricVerdict::Pass;
            r.reason.push_str(&format!(
                "; not significant once corrected for {family} (adjusted p={} ≥ {})",
                explain::fmt_num(running),
                explain::fmt_num(cfg.alpha)
            ));
        }
    }
}

/// Combines per-metric results into the overall judgement.
pub fn summarize(mut results: Vec<MetricResult>, cfg: &JudgeConfig) -> Judgement {
    correct_family_wise(&mut results, cfg);
    let t = tally(&results);
    let judged = t.passed + t.failed;
    if judged == 0 {
        let reason = format!(
            "inconclusive: no metric had enough data to judge ({} without data)",
            t.no_data
        );
        return Judgement {
            verdict: Verdict::Inconclusive,
            score: 0.0,
            metrics: results,
            reason,
        };
    }
    let weight_of = |v: MetricVerdict| -> f64 {
        results
            .iter()
            .filter(|r| r.verdict == v)
            .map(|r| r.weight)
            .sum()
    };
    let (w_pass, w_fail) = (
        weight_of(MetricVerdict::Pass),
        weight_of(MetricVerdict::Fail),
    );
    // `+ 0.0` turns a negative zero into zero, so no report ever prints "score -0".
    let score = if w_pass + w_fail > 0.0 {
        (100.0 * w_pass / (w_pass + w_fail)).clamp(0.0, 100.0) + 0.0
    } else {
        0.0
    };
    let failed = names_with(&results, |r| r.verdict == MetricVerdict::Fail);
    let critical = names_with(&results, |r| {
        r.verdict == MetricVerdict::Fail && is_critical(&r.name)
    });
    let (verdict, why) = overall(score, &failed, &critical, cfg);
    let reason = format!(
        "{why}; score {} ({} passed, {} failed, {} without data)",
        explain::fmt_num(score),
        t.passed,
        t.failed,
        t.no_data
    );
    Judgement {
        verdict,
        score,
        metrics: results,
        reason,
    }
}

/// Names of results matching `pred`.
fn names_with(results: &[MetricResult], pred: impl Fn(&MetricResult) -> bool) -> Vec<String> {
    results
        .iter()
        .filter(|r| pred(r))
        .map(|r| r.name.clone())
        .collect()
}

/// Overall verdict and its one-line justification.
fn overall(
    score: f64,
    failed: &[String],
    critical: &[String],
    cfg: &JudgeConfig,
) -> (Verdict, String) {
    if !critical.is_empty() {
        let why = format!("fail: error signal got worse ({})", critical.join(", "));
        return (Verdict::Fail, why);
    }
    if score < cfg.marginal_score {
        let why = format!(
            "fail: score below marginal threshold {} (failed: {})",
            explain::fmt_num(cfg.marginal_score),
            failed.join(", ")
        );
        return (Verdict::Fail, why);
    }
    if score >= cfg.pass_score {
        let why = if failed.is_empty() {
            "pass: no metric got significantly worse".to_string()
        } else {
            format!(
                "pass: score meets pass threshold despite: {}",
                failed.join(", ")
            )
        };
        return (Verdict::Pass, why);
    }
    let why = format!(
        "inconclusive: score between {} and {} (failed: {})",
        explain::fmt_num(cfg.marginal_score),
        explain::fmt_num(cfg.pass_score),
        failed.join(", ")
    );
    (Verdict::Inconclusive, why)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draws(seed: u64, n: usize, f: impl Fn(&mut Rng) -> f64) -> Vec<f64> {
        let mut rng = Rng::new(seed);
        (0..n).map(|_| f(&mut rng)).collect()
    }

    fn latency(seed: u64, mu: f64) -> Vec<f64> {
        draws(seed, 80, |r| r.lognormal(mu, 0.4))
    }

    fn metric(
        name: &str,
        b: Vec<f64>,
        c: Vec<f64>,
        d: Direction,
    ) -> (String, Vec<f64>, Vec<f64>, Direction) {
        (name.to_string(), b, c, d)
    }

    fn find<'a>(j: &'a Judgement, name: &str) -> &'a MetricResult {
        j.metrics
            .iter()
            .find(|m| m.name == name)
            .expect("metric present")
    }

    #[test]
    fn clearly_better_canary_passes() {
        let b = draws(1, 40, |r| r.normal(0.15, 0.01).clamp(0.0, 1.0));
        let c = draws(2, 40, |r| r.normal(0.003, 0.001).clamp(0.0, 1.0));
        let inputs = vec![
            metric("error_rate", b, c, Direction::IncreaseIsBad),
            metric(
                "latency_ms",
                latency(3, 5.0),
                latency(4, 5.0),
                Direction::IncreaseIsBad,
            ),
        ];
        let j = judge(&inputs, &JudgeConfig::default());
        assert_eq!(j.verdict, Verdict::Pass, "{}", j.reason);
        assert_eq!(j.score, 100.0);
        let e = find(&j, "error_rate");
        assert_eq!(e.verdict, MetricVerdict::Pass);
        assert!(e.p_value.unwrap_or(1.0) < 1e-6);
        assert!(e.effect.unwrap_or(0.0) < -0.1);
        assert!(e.reason.ends_with("significantly better"), "{}", e.reason);
        assert!(e.reason.contains("pp"), "{}", e.reason);
    }

    #[test]
    fn clearly_worse_error_rate_fails_even_with_good_score() {
        let b = draws(5, 60, |r| r.binomial(1000, 0.001) as f64 / 1000.0);
        let c = draws(6, 60, |r| r.binomial(1000, 0.02) as f64 / 1000.0);
        let inputs = vec![
            metric("error_rate", b, c, Direction::IncreaseIsBad),
            metric(
                "latency_ms",
                latency(7, 5.0),
                latency(8, 5.0),
                Direction::IncreaseIsBad,
            ),
            metric(
                "cpu",
                latency(9, 1.0),
                latency(10, 1.0),
                Direction::IncreaseIsBad,
            ),
        ];
        let j = judge(&inputs, &JudgeConfig::default());
        let e = find(&j, "error_rate");
        assert_eq!(e.verdict, MetricVerdict::Fail, "{}", e.reason);
        assert!(e.reason.ends_with("significantly worse"), "{}", e.reason);
        assert_eq!(find(&j, "latency_ms").verdict, MetricVerdict::Pass);
        assert_eq!(find(&j, "cpu").verdict, MetricVerdict::Pass);
        // 66.7 is above the marginal score: only the critical rule fails it.
        assert!((j.score - 200.0 / 3.0).abs() < 1e-9);
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(j.reason.contains("error_rate"), "{}", j.reason);
    }

    #[test]
    fn noisy_but_equal_passes() {
        let inputs = vec![
            metric(
                "latency_ms",
                latency(11, 5.0),
                latency(12, 5.0),
                Direction::IncreaseIsBad,
            ),
            metric(
                "throughput",
                draws(13, 80, |r| r.poisson(200.0) as f64),
                draws(14, 80, |r| r.poisson(200.0) as f64),
                Direction::DecreaseIsBad,
            ),
        ];
        let j = judge(&inputs, &JudgeConfig::default());
        assert_eq!(j.verdict, Verdict::Pass, "{}", j.reason);
        for m in &j.metrics {
            assert!(m.p_value.unwrap_or(0.0) >= 0.05, "{}", m.reason);
            assert!(
                m.reason.ends_with("no significant difference"),
                "{}",
                m.reason
            );
        }
    }

    #[test]
    fn too_few_samples_is_inconclusive() {
        let inputs = vec![
            metric(
                "error_rate",
                vec![0.0; 3],
                vec![0.5; 10],
                Direction::IncreaseIsBad,
            ),
            metric(
                "latency_ms",
                vec![1.0; 10],
                vec![],
                Direction::IncreaseIsBad,
            ),
        ];
        let j = judge(&inputs, &JudgeConfig::default());
        assert_eq!(j.verdict, Verdict::Inconclusive);
        assert_eq!(j.score, 0.0);
        let e = find(&j, "error_rate");
        assert_eq!(e.verdict, MetricVerdict::NoData);
        assert!(e.reason.contains("too few samples"), "{}", e.reason);
        // The statistics are shown, but they decide nothing and join no correction.
        assert!(e.p_value.is_some() && e.p_adjusted.is_none(), "{e:?}");
        assert_eq!(e.classification, Classification::NoData);
        assert_eq!(
            judge(&[], &JudgeConfig::default()).verdict,
            Verdict::Inconclusive
        );
    }

    #[test]
    fn score_thresholds_for_non_critical_failures() {
        let worse = || {
            metric(
                "latency_ms",
                latency(15, 5.0),
                latency(16, 5.5),
                Direction::IncreaseIsBad,
            )
        };
        let worse2 = || {
            metric(
                "cpu",
                latency(17, 1.0),
                latency(18, 1.5),
                Direction::IncreaseIsBad,
            )
        };
        let same = |n: &str| {
            metric(
                n,
                latency(19, 2.0),
                latency(20, 2.0),
                Direction::IncreaseIsBad,
            )
        };
        let cfg = JudgeConfig::default();
        let j = judge(&[worse(), same("a"), same("b")], &cfg);
        assert_eq!(j.verdict, Verdict::Inconclusive, "{}", j.reason);
        let j = judge(&[worse(), worse2(), same("a")], &cfg);
        assert_eq!(j.verdict, Verdict::Fail, "{}", j.reason);
        let j = judge(&[worse(), same("a"), same("b"), same("c")], &cfg);
        assert_eq!(j.verdict, Verdict::Pass, "{}", j.reason);
    }

    #[test]
    fn direction_decides_what_is_bad() {
        let b = draws(21, 50, |r| r.poisson(200.0) as f64);
        let c = draws(22, 50, |r| r.poisson(150.0) as f64);
        let cfg = JudgeConfig::default();
        let down_bad = judge_metric("throughput", &b, &c, Direction::DecreaseIsBad, &cfg);
        let up_bad = judge_metric("throughput", &b, &c, Direction::IncreaseIsBad, &cfg);
        let both = judge_metric("throughput", &b, &c, Direction::Both, &cfg);
        assert_eq!(down_bad.verdict, MetricVerdict::Fail);
        assert_eq!(up_bad.verdict, MetricVerdict::Pass);
        assert_eq!(both.verdict, MetricVerdict::Fail);
    }

    #[test]
    fn tolerance_absorbs_small_significant_shift() {
        // 1000 samples make a 0.5% shift highly significant (z ≈ 11).
        let b = draws(23, 1000, |r| r.normal(100.0, 1.0));
        let c = draws(24, 1000, |r| r.normal(100.5, 1.0));
        let strict_cfg = JudgeConfig {
            bootstrap_resamples: 200,
            ..JudgeConfig::default()
        };
        let strict = judge_metric("latency_ms", &b, &c, Direction::IncreaseIsBad, &strict_cfg);
        assert_eq!(strict.verdict, MetricVerdict::Fail);
        let lenient_cfg = JudgeConfig {
            tolerance: 0.02,
            ..strict_cfg
        };
        let lenient = judge_metric("latency_ms", &b, &c, Direction::IncreaseIsBad, &lenient_cfg);
        assert_eq!(lenient.verdict, MetricVerdict::Pass);
        assert!(
            lenient.reason.contains("within the 2% tolerance"),
            "{}",
            lenient.reason
        );
    }

    #[test]
    fn tied_zero_medians_fall_back_to_mean_shift() {
        // Sparse errors: both medians are 0 but the canary errors far more often.
        let mut b = vec![0.0; 40];
        b[..3].fill(1.0);
        let mut c = vec![0.0; 40];
        c[..18].fill(1.0);
        let r = judge_metric(
            "errors",
            &b,
            &c,
            Direction::IncreaseIsBad,
            &JudgeConfig::default(),
        );
        assert_eq!(r.effect, Some(0.0));
        assert_eq!(r.verdict, MetricVerdict::Fail, "{}", r.reason);
        assert!(
            r.reason.contains("median unchanged, mean +0.375"),
            "{}",
            r.reason
        );
    }

    #[test]
    fn non_finite_input_is_no_data() {
        let r = judge_metric(
            "x",
            &[1.0, f64::NAN, 2.0, 3.0, 4.0],
            &[1.0; 5],
            Direction::Both,
            &JudgeConfig::default(),
        );
        assert_eq!(r.verdict, MetricVerdict::NoData);
        assert!(r.reason.contains("index 1"), "{}", r.reason);
    }

    #[test]
    fn deterministic_and_order_independent() {
        let a = metric(
            "latency_ms",
            latency(25, 5.0),
            latency(26, 5.1),
            Direction::IncreaseIsBad,
        );
        let e = metric(
            "cpu",
            latency(27, 1.0),
            latency(28, 1.0),
            Direction::IncreaseIsBad,
        );
        let cfg = JudgeConfig {
            bootstrap_resamples: 300,
            ..JudgeConfig::default()
        };
        let j1 = judge(&[a.clone(), e.clone()], &cfg);
        let j2 = judge(&[e.clone(), a.clone()], &cfg);
        assert_eq!(find(&j1, "latency_ms"), find(&j2, "latency_ms"));
        assert_eq!(j1, judge(&[a.clone(), e.clone()], &cfg));
        let m = find(&j1, "latency_ms");
        let ([lo, hi], hl) = (m.ci95.expect("ci95"), m.hodges_lehmann.expect("estimate"));
        assert!(lo <= hl && hl <= hi, "{m:?}");
        assert!(m.ci95_median.is_some(), "asked-for bootstrap is reported");
        let plain = judge(&[a, e], &JudgeConfig::default());
        let m = find(&plain, "latency_ms");
        assert!(
            m.ci95.is_some() && m.ci95_median.is_none(),
            "no bootstrap unless asked"
        );
    }

    #[test]
    fn json_contract_field_names_and_nulls() {
        let inputs = vec![
            metric(
                "error_rate",
                vec![0.0; 2],
                vec![0.0; 9],
                Direction::IncreaseIsBad,
            ),
            metric(
                "latency_ms",
                latency(29, 5.0),
                latency(30, 5.0),
                Direction::DecreaseIsBad,
            ),
        ];
        let v =
            serde_json::to_value(judge(&inputs, &JudgeConfig::default())).expect("serializable");
        assert_eq!(v["verdict"], "pass");
        let m = &v["metrics"][1];
        for key in [
            "mann_whitney_u",
            "p_value",
            "welch_t",
            "welch_p",
            "effect",
            "ci95",
            "verdict",
        ] {
            assert!(!m[key].is_null(), "{key} missing in {m}");
        }
        assert_eq!(m["direction"], "decrease_is_bad");
        assert_eq!(m["ci95"].as_array().map(Vec::len), Some(2));
        let nd = &v["metrics"][0];
        assert_eq!(nd["verdict"], "no_data");
        assert!(nd["p_adjusted"].is_null() && nd["ci95"].is_null(), "{nd}");
        assert_eq!(nd["classification"], "no_data");
        assert_eq!(m["weight"], 1.0);
        let cfg: JudgeConfig = serde_json::from_str(r#"{"alpha": 0.01}"#).expect("partial config");
        assert_eq!((cfg.alpha, cfg.min_samples), (0.01, 5));
        assert!(JudgeConfig { alpha: 1.5, ..cfg }.validate().is_err());
    }

    fn failed(name: &str, p: f64) -> MetricResult {
        MetricResult {
            p_value: Some(p),
            verdict: MetricVerdict::Fail,
            reason: format!("{name} worse"),
            ..empty_result(name, &[1.0], &[2.0], Direction::IncreaseIsBad)
        }
    }

    #[test]
    fn holm_correction_spares_borderline_failures_across_metrics() {
        let cfg = JudgeConfig::default();
        // Sorted: 0.03 → 2 × 0.03 = 0.06, 0.04 → max(0.06, 0.04) = 0.06: neither survives.
        let j = summarize(
            vec![
                failed("latency_p99_ms", 0.04),
                failed("latency_p50_ms", 0.03),
            ],
            &cfg,
        );
        let adj: Vec<Option<f64>> = j.metrics.iter().map(|m| m.p_adjusted).collect();
        assert_eq!(adj, [Some(0.06), Some(0.06)]);
        assert!(j.metrics.iter().all(|m| m.verdict == MetricVerdict::Pass));
        assert!(
            j.metrics[0].reason.contains("adjusted p=0.06"),
            "{}",
            j.metrics[0].reason
        );
        assert_eq!(j.verdict, Verdict::Pass);
    }

    #[test]
    fn every_look_at_a_rollout_multiplies_the_correction() {
        let cfg = JudgeConfig {
            looks: 3,
            ..JudgeConfig::default()
        };
        // Alone and on one look, p=0.01 fails; on the third of three looks it is 0.03 < 0.05,
        // still failing; p=0.02 becomes 0.06 and passes, saying why.
        let j = summarize(vec![failed("error_rate", 0.01)], &cfg);
        assert_eq!(j.metrics[0].p_adjusted, Some(0.03));
        assert_eq!(j.verdict, Verdict::Fail);
        let j = summarize(vec![failed("error_rate", 0.02)], &cfg);
        assert!((j.metrics[0].p_adjusted.expect("adjusted") - 0.06).abs() < 1e-12);
        assert_eq!(j.metrics[0].verdict, MetricVerdict::Pass);
        assert!(
            j.metrics[0].reason.contains("3 looks at this rollout"),
            "{}",
            j.metrics[0].reason
        );
        assert!(JudgeConfig {
            looks: 0,
            ..JudgeConfig::default()
        }
        .validate()
        .is_err());
    }

    #[test]
    fn the_score_is_weighted_and_classes_say_which_way() {
        let cfg = JudgeConfig::default();
        let slow = |seed| latency(seed, 5.5);
        let mut p99 = judge_metric(
            "latency_p99_ms",
            &latency(1, 5.0),
            &slow(2),
            Direction::IncreaseIsBad,
            &cfg,
        );
        p99.weight = 1.0;
        let mut faster = judge_metric(
            "latency_p50_ms",
            &slow(3),
            &latency(4, 5.0),
            Direction::IncreaseIsBad,
            &cfg,
        );
        faster.weight = 3.0;
        assert_eq!(p99.classification, Classification::High);
        assert_eq!(faster.classification, Classification::Low);
        let j = summarize(vec![p99, faster], &cfg);
        // 3 of 4 weight units passed.
        assert_eq!(j.score, 75.0);
        assert_eq!(j.verdict, Verdict::Pass, "{}", j.reason);
    }

    #[test]
    fn small_untied_samples_are_decided_on_the_exact_p_value() {
        // 4 vs 4, complete separation: exact two-sided p = 2/70 ≈ 0.0286 (SciPy method="exact");
        // the normal approximation with continuity correction gives erfc(7.5/√12/√2) ≈ 0.0304.
        let cfg = JudgeConfig {
            min_samples: 4,
            ..JudgeConfig::default()
        };
        let r = judge_metric(
            "latency_ms",
            &[1.0, 2.0, 3.0, 4.0],
            &[5.0, 6.0, 7.0, 8.0],
            Direction::IncreaseIsBad,
            &cfg,
        );
        let exact = r.p_exact.expect("exact p on 4 vs 4 without ties");
        assert!((exact - 2.0 / 70.0).abs() < 1e-12, "{r:?}");
        assert!(
            (r.p_value.expect("asymptotic") - 0.03038282197657751).abs() < 1e-10,
            "{r:?}"
        );
        assert_eq!(r.verdict, MetricVerdict::Fail);
        // With a tie the exact distribution does not apply.
        let tied = judge_metric(
            "latency_ms",
            &[1.0, 2.0, 3.0, 5.0],
            &[5.0, 6.0, 7.0, 8.0],
            Direction::IncreaseIsBad,
            &cfg,
        );
        assert_eq!(tied.p_exact, None);
    }

    #[test]
    fn holm_correction_keeps_strong_failures() {
        let cfg = JudgeConfig::default();
        // 0.001 → 0.002 (fails); 0.04 → max(0.002, 0.04) = 0.04 (< 0.05: still fails).
        let j = summarize(
            vec![failed("error_rate", 0.001), failed("latency_p99_ms", 0.04)],
            &cfg,
        );
        assert_eq!(j.metrics[0].p_adjusted, Some(0.002));
        assert_eq!(j.metrics[1].p_adjusted, Some(0.04));
        assert!(j.metrics.iter().all(|m| m.verdict == MetricVerdict::Fail));
        assert_eq!(j.verdict, Verdict::Fail);
    }
}
