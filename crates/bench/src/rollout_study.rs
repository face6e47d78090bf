//! The canary judge measured the way the pipeline uses it: whole rollouts, not single looks.
//!
//! A rollout is judged several times (each canary step, then the final verification), and any
//! look that does not pass stops it. So the false-rollback rate that matters to an on-call
//! engineer is per rollout, and so is detection. Each trial here walks the shipped canary steps
//! with windows sized by the pipeline's own evidence rule, judges each step with the pipeline's
//! own `judge_windows` and the same per-rollout correction, then runs the final verification
//! (a control window of the old version against the new version at 100 %).

use ccp_app as app;
use ccp_config::Config;
use ccp_core::domain::Sample;
use ccp_core::pipeline::rollout::{effective_errors, judge_windows, looks_in};
use ccp_core::stats::judge::{JudgeConfig, Verdict};
use ccp_core::stats::rng::Rng;
use serde::Serialize;

/// One cell of the study: a base error rate and what the new version does differently.
#[derive(Debug, Clone, Serialize)]
pub struct RolloutRow {
    /// Baseline error rate.
    pub base_error_rate: f64,
    /// `A/A`, `errors ×1.5`, `errors ×2`, `latency ×1.2`, `latency ×1.5`.
    pub effect: String,
    /// Rollouts simulated.
    pub trials: usize,
    /// Fraction stopped by a Fail verdict (a rollback). On A/A rows: false rollbacks.
    pub rolled_back: f64,
    /// The same rollouts (identical traffic) judged without the correction across looks, each
    /// look at the full alpha: what a per-step judge would roll back.
    pub rolled_back_uncorrected: f64,
    /// Fraction stopped by an Inconclusive verdict (a human is asked).
    pub asked_human: f64,
    /// Fraction that passed every look and stayed at 100 %.
    pub promoted: f64,
    /// Of the stopped rollouts, the fraction stopped at each look (canary steps, verification).
    pub stopped_at: Vec<f64>,
    /// Seconds of traffic each canary step was observed (the evidence rule's window).
    pub step_windows_s: Vec<usize>,
}

/// Per-second traffic of a payment-service-like service, split between two cohorts.
pub(crate) struct Traffic {
    /// Requests per second, both cohorts together.
    pub rps: f64,
    /// Share of requests on the canary.
    pub canary_share: f64,
    /// The old version's error rate.
    pub base_error: f64,
    /// The old version's median latency.
    pub p50_ms: f64,
    /// Log-normal spread of the per-second median.
    pub sigma: f64,
}

impl Traffic {
    /// `window_s` seconds of (baseline, canary) samples; the canary's error rate and latency are
    /// multiplied by the given factors. Same generative model as the simulated fleet.
    pub fn windows(
        &self,
        rng: &mut Rng,
        window_s: usize,
        err_factor: f64,
        lat_factor: f64,
        cpu_factor: f64,
    ) -> (Vec<Sample>, Vec<Sample>) {
        let mut base = Vec::with_capacity(window_s);
        let mut can = Vec::with_capacity(window_s);
        for t in 0..window_s {
            let total = rng.poisson(self.rps);
            let n_can = rng.binomial(total, self.canary_share);
            let n_base = total - n_can;
            let mut second = |n: u64, p: f64, lat: f64, cpu: f64| {
                let p50 = rng.lognormal((self.p50_ms * lat).ln(), self.sigma);
                let p99 = p50 * (2.5 + rng.normal(0.0, 0.25).abs());
                let errors = rng.binomial(n, p) as u32;
                // The fleet's model for the signals that only vote lightly.
                let p95 = (p50 * (1.8 + rng.normal(0.0, 0.2).abs())).min(p99);
                let cpu_cores =
                    n as f64 * CPU_MS_PER_REQUEST * cpu / 1000.0 * rng.lognormal(0.0, 0.1);
                let memory_mb = MEMORY_MB * rng.lognormal(0.0, 0.02);
                Sample {
                    t_ms: t as i64 * 1000,
                    requests: n as u32,
                    errors,
                    latency_p50_ms: p50,
                    latency_p95_ms: p95,
                    latency_p99_ms: p99,
                    cpu_cores,
                    memory_mb,
                }
            };
            base.push(second(n_base, self.base_error, 1.0, 1.0));
            can.push(second(
                n_can,
                (self.base_error * err_factor).min(1.0),
                lat_factor,
                cpu_factor,
            ));
        }
        (base, can)
    }
}

/// What the new version does differently: name, error-rate, latency and CPU factors.
const EFFECTS: [(&str, f64, f64, f64); 6] = [
    ("A/A", 1.0, 1.0, 1.0),
    ("errors ×1.5", 1.5, 1.0, 1.0),
    ("errors ×2", 2.0, 1.0, 1.0),
    ("latency ×1.2", 1.0, 1.2, 1.0),
    ("latency ×1.5", 1.0, 1.5, 1.0),
    ("CPU ×2", 1.0, 1.0, 2.0),
];

/// CPU per request and memory of the simulated service (the fleet's defaults).
const CPU_MS_PER_REQUEST: f64 = 2.0;
const MEMORY_MB: f64 = 256.0;

/// Requests per second of the simulated service.
const RPS: f64 = 120.0;

/// The study with the shipped defaults: `trials` rollouts per base error rate and effect.
pub fn run(trials: usize, seed: u64) -> Vec<RolloutRow> {
    let settings = app::settings_from(&Config::default(), seed);
    let steps: Vec<u8> = settings
        .canary_steps
        .iter()
        .copied()
        .take_while(|p| *p < 100)
        .collect();
    let judge = JudgeConfig {
        looks: looks_in(&settings.canary_steps),
        // The interval is reported, never decided on; skipping it keeps the study fast.
        bootstrap_resamples: 0,
        ..settings.judge.clone()
    };
    let one_look = JudgeConfig {
        looks: 1,
        ..judge.clone()
    };
    let observe_s = (settings.pacing.observe_ms / 1000).max(1) as f64;
    let max_s = (settings.max_observe_ms / 1000).max(1) as f64;
    let verify_s = (settings.verification_window_ms / 1000).max(1) as usize;
    let mut rows = Vec::new();
    for (bi, base_error) in [0.003, 0.01, 0.05].into_iter().enumerate() {
        let traffic = |pct: u8| Traffic {
            rps: RPS,
            canary_share: f64::from(pct) / 100.0,
            base_error,
            p50_ms: 120.0,
            sigma: 0.15,
        };
        // The pipeline observes a step until the evidence rule is met; so does the study.
        let step_windows_s: Vec<usize> = steps
            .iter()
            .map(|&pct| {
                let share = f64::from(pct) / 100.0;
                let per_s =
                    effective_errors(RPS * share * base_error, RPS * (1.0 - share) * base_error);
                let needed = if per_s > 0.0 {
                    settings.min_expected_errors / per_s
                } else {
                    0.0
                };
                needed.ceil().clamp(observe_s, max_s) as usize
            })
            .collect();
        for (ei, (name, ef, lf, cf)) in EFFECTS.iter().enumerate() {
            let cell = Rng::new(seed).fork((bi * 10 + ei) as u64);
            let mut stopped_at = vec![0usize; steps.len() + 1];
            let (mut failed, mut asked, mut failed_uncorrected) = (0usize, 0usize, 0usize);
            for trial in 0..trials {
                let rollout = Rollout {
                    steps: &steps,
                    windows_s: &step_windows_s,
                    verify_s,
                    judge: &judge,
                    err_factor: *ef,
                    lat_factor: *lf,
                    cpu_factor: *cf,
                };
                // The same traffic judged as if each look were alone: the baseline that shows
                // what the correction across looks buys.
                let alone = Rollout {
                    judge: &one_look,
                    ..rollout
                };
                let mut same = cell.fork(trial as u64);
                if matches!(
                    alone.first_stop(&mut same, &traffic),
                    Some((_, Verdict::Fail))
                ) {
                    failed_uncorrected += 1;
                }
                let mut rng = cell.fork(trial as u64);
                let Some((look, verdict)) = rollout.first_stop(&mut rng, &traffic) else {
                    continue;
                };
                stopped_at[look] += 1;
                if verdict == Verdict::Fail {
                    failed += 1;
                } else {
                    asked += 1;
                }
            }
            let n = trials.max(1) as f64;
            let stopped = (failed + asked).max(1) as f64;
            rows.push(RolloutRow {
                base_error_rate: base_error,
                effect: (*name).to_string(),
                trials,
                rolled_back: failed as f64 / n,
                rolled_back_uncorrected: failed_uncorrected as f64 / n,
                asked_human: asked as f64 / n,
                promoted: (trials - failed - asked) as f64 / n,
                stopped_at: stopped_at.iter().map(|&k| k as f64 / stopped).collect(),
                step_windows_s: step_windows_s.clone(),
            });
        }
    }
    rows
}

/// One simulated rollout's plan.
#[derive(Clone, Copy)]
struct Rollout<'a> {
    steps: &'a [u8],
    windows_s: &'a [usize],
    verify_s: usize,
    judge: &'a JudgeConfig,
    err_factor: f64,
    lat_factor: f64,
    cpu_factor: f64,
}

impl Rollout<'_> {
    /// The first look that does not pass, with its verdict; `None` when the rollout completes.
    fn first_stop(
        &self,
        rng: &mut Rng,
        traffic: &dyn Fn(u8) -> Traffic,
    ) -> Option<(usize, Verdict)> {
        let (ef, lf, cf) = (self.err_factor, self.lat_factor, self.cpu_factor);
        for (look, (&pct, &w)) in self.steps.iter().zip(self.windows_s).enumerate() {
            let (b, c) = traffic(pct).windows(rng, w, ef, lf, cf);
            let v = judge_windows(&b, &c, self.judge).verdict;
            if v != Verdict::Pass {
                return Some((look, v));
            }
        }
        // Verification: the old version before the first shift against the new one at 100 %.
        let (control, _) = traffic(0).windows(rng, self.verify_s, 1.0, 1.0, 1.0);
        let (_, treated) = traffic(100).windows(rng, self.verify_s, ef, lf, cf);
        let v = judge_windows(&control, &treated, self.judge).verdict;
        (v != Verdict::Pass).then_some((self.steps.len(), v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_identical_new_version_is_mostly_promoted_and_a_broken_one_never() {
        let rows = run(20, 7);
        let row = |base: f64, effect: &str| {
            rows.iter()
                .find(|r| r.base_error_rate == base && r.effect == effect)
                .expect("row")
        };
        let aa = row(0.05, "A/A");
        assert!(aa.promoted >= 0.9, "{aa:?}");
        let bad = row(0.05, "errors ×2");
        assert_eq!(bad.promoted, 0.0, "{bad:?}");
        assert_eq!(bad.rolled_back, 1.0, "{bad:?}");
        assert_eq!(bad.step_windows_s.len(), 2);
        // The 10 % step needs more seconds than the 50 % one to see the same evidence.
        assert!(bad.step_windows_s[0] > bad.step_windows_s[1], "{bad:?}");
    }
}
