//! Bootstrap confidence interval for the median shift.
//!
//! Why: a p-value says *whether* the canary differs; on-call engineers also
//! need *how much*, with an honest range. The median shift has no simple
//! closed-form CI for arbitrary distributions, so we resample.

use super::describe::{median, median_in_place, quantile_sorted, sorted};
use super::rng::Rng;

/// Draws `out.len()` values from `xs` with replacement into `out`.
fn resample_into(rng: &mut Rng, xs: &[f64], out: &mut [f64]) {
    let n = xs.len() as u64;
    for slot in out.iter_mut() {
        // `below(n) < n == xs.len()`, so the index is always in range.
        *slot = xs[rng.below(n) as usize];
    }
}

/// Percentile bootstrap CI of `median(canary*) − median(baseline*)`.
///
/// Each resample draws both groups independently with replacement (they
/// are independent populations). The interval is the type-7
/// `(1−c)/2` and `(1+c)/2` quantiles of the resampled shifts. Percentile
/// (not BCa) because it is simple, transformation-respecting and good
/// enough for a go/no-go display.
///
/// Deterministic for a `seed` (our own [`Rng`]). `None` when a sample is
/// empty, `resamples == 0`, or `confidence` is not in (0, 1).
pub fn bootstrap_median_shift_ci(
    baseline: &[f64],
    canary: &[f64],
    resamples: usize,
    confidence: f64,
    seed: u64,
) -> Option<(f64, f64)> {
    if baseline.is_empty() || canary.is_empty() || resamples == 0 {
        return None;
    }
    if !(confidence > 0.0 && confidence < 1.0) {
        return None;
    }
    let shifts = sorted(&resampled_shifts(baseline, canary, resamples, seed));
    let alpha = 1.0 - confidence;
    let lo = quantile_sorted(&shifts, alpha / 2.0)?;
    let hi = quantile_sorted(&shifts, 1.0 - alpha / 2.0)?;
    Some((lo, hi))
}

/// The `resamples` bootstrap replicates of the median shift.
///
/// Why two halves on two threads: every replicate is a full pass over both samples, so the
/// work is `resamples × (n + m)` and nothing shrinks it but cores. The halves draw from their
/// own forks of the seed, so the result does not depend on how many cores there are.
fn resampled_shifts(baseline: &[f64], canary: &[f64], resamples: usize, seed: u64) -> Vec<f64> {
    let half = resamples / 2;
    let run = |count: usize, stream: u64| {
        let mut rng = Rng::new(seed).fork(stream);
        let mut b_buf = vec![0.0; baseline.len()];
        let mut c_buf = vec![0.0; canary.len()];
        (0..count)
            .map(|_| {
                resample_into(&mut rng, baseline, &mut b_buf);
                resample_into(&mut rng, canary, &mut c_buf);
                median_in_place(&mut c_buf) - median_in_place(&mut b_buf)
            })
            .collect::<Vec<f64>>()
    };
    std::thread::scope(|s| {
        let second = s.spawn(move || run(resamples - half, 2));
        let mut shifts = run(half, 1);
        // A panic here is a bug, not input: redo the half on this thread.
        shifts.extend(second.join().unwrap_or_else(|_| run(resamples - half, 2)));
        shifts
    })
}

/// Point estimate matching the CI: `median(canary) − median(baseline)`.
/// Why exposed: the judge reports this as `effect` next to the interval.
pub fn median_shift(baseline: &[f64], canary: &[f64]) -> Option<f64> {
    Some(median(canary)? - median(baseline)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn synthetic(seed: u64, n: usize, shift: f64) -> (Vec<f64>, Vec<f64>) {
        let mut rng = Rng::new(seed);
        let b = (0..n).map(|_| rng.normal(100.0, 10.0)).collect();
        let c = (0..n).map(|_| rng.normal(100.0 + shift, 10.0)).collect();
        (b, c)
    }

    #[test]
    fn deterministic_for_a_seed() {
        let (b, c) = synthetic(1, 60, 5.0);
        let a = bootstrap_median_shift_ci(&b, &c, 500, 0.95, 77);
        let a2 = bootstrap_median_shift_ci(&b, &c, 500, 0.95, 77);
        let other = bootstrap_median_shift_ci(&b, &c, 500, 0.95, 78);
        assert!(a.is_some());
        assert_eq!(a, a2);
        assert_ne!(a, other);
    }

    #[test]
    fn contains_true_shift_on_synthetic_data() {
        let (b, c) = synthetic(3, 400, 15.0);
        let (lo, hi) = bootstrap_median_shift_ci(&b, &c, 2000, 0.95, 9).expect("ci");
        assert!(lo < 15.0 && 15.0 < hi, "[{lo}, {hi}]");
        assert!(
            lo > 0.0,
            "a 1.5-sd shift with n=400 must exclude 0: [{lo}, {hi}]"
        );
        let point = median_shift(&b, &c).expect("point");
        assert!(lo <= point && point <= hi);
    }

    #[test]
    fn degenerate_inputs() {
        assert_eq!(bootstrap_median_shift_ci(&[], &[1.0], 10, 0.95, 1), None);
        assert_eq!(bootstrap_median_shift_ci(&[1.0], &[1.0], 0, 0.95, 1), None);
        assert_eq!(bootstrap_median_shift_ci(&[1.0], &[1.0], 10, 1.0, 1), None);
        assert_eq!(
            bootstrap_median_shift_ci(&[2.0; 4], &[5.0; 3], 50, 0.95, 1),
            Some((3.0, 3.0))
        );
    }
}
