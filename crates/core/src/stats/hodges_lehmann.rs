//! The Hodges–Lehmann shift with the confidence interval got by inverting the Mann–Whitney test.
//!
//! Why this interval: a p-value says *whether* the canary differs; the engineer also needs *how
//! much*, with an honest range. Kayenta reports exactly this pair, and it is R's
//! `wilcox.test(canary, baseline, conf.int = TRUE)`: the estimate is the median of all pairwise
//! differences `canary_j − baseline_i`, and the interval's ends are two of those differences, at
//! ranks the test's null distribution picks. It needs no resampling, so it is reproducible
//! without a seed, and with selection over the sorted samples it costs O((n + m) log range)
//! instead of the O(n·m) of listing the differences or the O(B·n) of a bootstrap.

use statrs::distribution::{ContinuousCDF, Normal};

use super::mann_whitney::{order_key, u_null_pmf};
use super::rng::Rng;

/// Below this many samples on both sides, with no ties, R uses the exact null distribution of
/// the statistic; so do we, so that the two agree on small canaries too.
const EXACT_BELOW: usize = 50;

/// Differences drawn to bracket a rank before bisecting.
const SAMPLE: usize = 4096;

/// Candidates at or below this count are listed and selected directly instead of bisected
/// further: listing is linear, and bisection steps cost a pass over both samples each.
const LIST_AT_MOST: u64 = 1 << 18;

/// The shift of the canary against the baseline with its interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShiftInterval {
    /// Hodges–Lehmann estimate: the median of the pairwise differences.
    pub estimate: f64,
    /// Lower end of the interval.
    pub lo: f64,
    /// Upper end of the interval.
    pub hi: f64,
    /// Whether the ranks came from the exact null distribution (small samples without ties)
    /// rather than its normal approximation.
    pub exact: bool,
}

/// Hodges–Lehmann estimate and `confidence` interval of `canary − baseline`.
///
/// `None` when a sample is empty, holds a non-finite value, or `confidence` is not in (0, 1).
pub fn hodges_lehmann_ci(
    baseline: &[f64],
    canary: &[f64],
    confidence: f64,
) -> Option<ShiftInterval> {
    if baseline.is_empty() || canary.is_empty() || !(confidence > 0.0 && confidence < 1.0) {
        return None;
    }
    if !baseline.iter().chain(canary).all(|x| x.is_finite()) {
        return None;
    }
    let (b, c) = (sorted_floats(baseline), sorted_floats(canary));
    let widest = [c[c.len() - 1] - b[0], c[0] - b[b.len() - 1]];
    if !widest.iter().all(|d| d.is_finite()) {
        // Differences overflow: no finite interval describes them.
        return None;
    }
    let pairs = Pairs {
        b: &b,
        c: &c,
        list_at_most: LIST_AT_MOST,
    };
    let total = pairs.total();
    let alpha = 1.0 - confidence;
    let tied = has_ties(&b) || has_ties(&c) || shares_a_value(&b, &c);
    let exact = b.len() < EXACT_BELOW && c.len() < EXACT_BELOW && !tied;
    let (k_lo, k_hi) = if exact {
        exact_ranks(b.len(), c.len(), alpha)
    } else {
        let sigma = rank_sum_sd(&b, &c);
        if sigma == 0.0 {
            // Every value on both sides is the same: every difference is this one.
            let d = c[0] - b[0];
            return Some(ShiftInterval {
                estimate: d,
                lo: d,
                hi: d,
                exact,
            });
        }
        asymptotic_ranks(total, sigma, alpha)
    };
    let half = total / 2;
    let (estimate, lo, hi) = std::thread::scope(|s| {
        // The three selections are independent; the ends run beside the middle on large inputs.
        let ends = (total > LIST_AT_MOST)
            .then(|| s.spawn(move || (pairs.select(k_lo, 1)[0], pairs.select(k_hi, 1)[0])));
        let estimate = if total % 2 == 1 {
            pairs.select(half + 1, 1)[0]
        } else {
            let mid = pairs.select(half, 2);
            mid[0] + 0.5 * (mid[1] - mid[0])
        };
        let (lo, hi) = match ends.map(|h| h.join()) {
            Some(Ok(ends)) => ends,
            _ => (pairs.select(k_lo, 1)[0], pairs.select(k_hi, 1)[0]),
        };
        (estimate, lo, hi)
    });
    Some(ShiftInterval {
        estimate,
        lo,
        hi,
        exact,
    })
}

/// 1-based ranks of the interval's ends among the sorted differences, from the exact null
/// distribution: R's `qwilcox(alpha/2, n, m)` (at least 1) and its mirror.
fn exact_ranks(n_b: usize, n_c: usize, alpha: f64) -> (u64, u64) {
    let total = (n_b * n_c) as u64;
    let pmf = u_null_pmf(n_b.min(n_c), n_b.max(n_c), n_b * n_c);
    // R subtracts 10 machine epsilons so that a quantile sitting exactly on a cdf step is found.
    let target = alpha / 2.0 - 10.0 * f64::EPSILON;
    let mut cdf = 0.0;
    let mut q = 0u64;
    for (k, p) in pmf.iter().enumerate() {
        cdf += p;
        q = k as u64;
        if cdf >= target {
            break;
        }
    }
    let q = q.max(1);
    (q, total - q + 1)
}

/// 1-based ranks of the interval's ends from the normal approximation with continuity
/// correction: where R's `uniroot` on the corrected statistic lands, which is always at a jump
/// of the rank statistic, that is, at one of the differences.
fn asymptotic_ranks(total: u64, sigma: f64, alpha: f64) -> (u64, u64) {
    let z = Normal::standard().inverse_cdf(1.0 - alpha / 2.0);
    let n = total as f64;
    let clamp = |k: f64| (k.ceil().max(1.0) as u64).min(total);
    (
        clamp(n / 2.0 - 0.5 - z * sigma),
        clamp(n / 2.0 + 0.5 + z * sigma),
    )
}

/// Standard deviation of the rank sum under the null, with the tie correction. Between
/// differences no baseline value ties a shifted canary value, so only ties within a side count.
fn rank_sum_sd(b: &[f64], c: &[f64]) -> f64 {
    let (nb, nc) = (b.len() as f64, c.len() as f64);
    let n = nb + nc;
    let ties = tie_term(b) + tie_term(c);
    let correction = if n > 1.0 { ties / (n * (n - 1.0)) } else { 0.0 };
    ((nb * nc / 12.0) * ((n + 1.0) - correction))
        .max(0.0)
        .sqrt()
}

/// Σ (t³ − t) over the runs of equal values of a sorted sample.
fn tie_term(sorted: &[f64]) -> f64 {
    sorted
        .chunk_by(|a, b| a == b)
        .map(|run| {
            let t = run.len() as f64;
            t * t * t - t
        })
        .sum()
}

/// Whether a sorted sample repeats a value.
fn has_ties(sorted: &[f64]) -> bool {
    sorted.windows(2).any(|w| w[0] == w[1])
}

/// Whether two sorted samples share a value (a tie in the pooled ranking).
fn shares_a_value(a: &[f64], b: &[f64]) -> bool {
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].total_cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => return true,
        }
    }
    false
}

/// A sorted copy, sorted as integer keys (several times faster than a float comparator).
fn sorted_floats(xs: &[f64]) -> Vec<f64> {
    let mut keys: Vec<u64> = xs.iter().map(|&x| order_key(x)).collect();
    keys.sort_unstable();
    keys.into_iter().map(from_order_key).collect()
}

/// The float an [`order_key`] came from (−0.0 comes back as +0.0, which compares equal).
fn from_order_key(k: u64) -> f64 {
    if k >> 63 == 1 {
        f64::from_bits(k & !(1 << 63))
    } else {
        f64::from_bits(!k)
    }
}

/// Every difference `c[j] − b[i]` of two sorted samples, never listed in full.
///
/// Float subtraction rounds monotonically, so the computed differences are ordered along each
/// row and column exactly as the true ones are; counting them is a two-pointer walk.
#[derive(Clone, Copy)]
struct Pairs<'a> {
    b: &'a [f64],
    c: &'a [f64],
    /// [`LIST_AT_MOST`], smaller in tests so that they bisect on small inputs.
    list_at_most: u64,
}

impl Pairs<'_> {
    /// How many differences there are.
    fn total(&self) -> u64 {
        self.b.len() as u64 * self.c.len() as u64
    }

    /// How many differences are at most `d`.
    fn count_le(&self, d: f64) -> u64 {
        let mut j = 0;
        let mut count = 0u64;
        for &bi in self.b {
            while j < self.c.len() && self.c[j] - bi <= d {
                j += 1;
            }
            count += j as u64;
        }
        count
    }

    /// The differences in `(lo, hi]`.
    fn list_between(&self, lo: f64, hi: f64) -> Vec<f64> {
        let mut out = Vec::new();
        let (mut start, mut end) = (0, 0);
        for &bi in self.b {
            while start < self.c.len() && self.c[start] - bi <= lo {
                start += 1;
            }
            while end < self.c.len() && self.c[end] - bi <= hi {
                end += 1;
            }
            out.extend(self.c[start..end.max(start)].iter().map(|&cj| cj - bi));
        }
        out
    }

    /// The `len` (1 or 2) differences of 1-based ranks `k, k+1, …` in ascending order
    /// (`k + len − 1` ≤ [`Self::total`]).
    ///
    /// Bisects the value range until at most [`LIST_AT_MOST`] differences lie between the
    /// bounds, then lists those and selects among them. The bracket keeps
    /// `count_le(lo) < k` and `count_le(hi) ≥ k + len − 1`.
    fn select(&self, k: u64, len: u64) -> Vec<f64> {
        debug_assert!((1..=2).contains(&len));
        let last = k + len - 1;
        let (b, c) = (self.b, self.c);
        // `lo` starts one float below the smallest difference (below −0.0 too, which equals 0.0),
        // so nothing is at most it.
        let mut lo = (c[0] - b[b.len() - 1]).next_down();
        let mut below = 0u64;
        let mut hi = c[c.len() - 1] - b[0];
        let mut upto = self.total();
        // Each step picks a pivot by interpolating the count linearly between the bounds, aimed
        // a little outside the wanted ranks on the side with more to cut, so that one good guess
        // removes almost everything there; a step that cut less than half is followed by plain
        // bisection, which cannot stall on a lumpy distribution of differences.
        // Sampling pays only when there are far more differences than samples.
        if upto - below > self.list_at_most && self.total() > 16 * SAMPLE as u64 {
            ((lo, below), (hi, upto)) = self.sample_bracket(k, last, (lo, below), (hi, upto));
        }
        let margin = (self.list_at_most / 4) as f64;
        let mut bisect = false;
        while upto - below > self.list_at_most {
            let before = upto - below;
            let mut mid = if bisect {
                lo + 0.5 * (hi - lo)
            } else {
                let target = if k - below > upto - last {
                    k as f64 - margin
                } else {
                    last as f64 + margin
                };
                let frac = (target - below as f64) / (upto - below) as f64;
                lo + frac.clamp(0.0, 1.0) * (hi - lo)
            };
            if !(mid > lo && mid < hi) {
                mid = lo + 0.5 * (hi - lo);
            }
            if !(mid > lo && mid < hi) {
                // The bracket is down to few floats in value: halve it by bit pattern.
                let (a, z) = (order_key(lo), order_key(hi));
                mid = from_order_key(a + (z - a) / 2);
                if !(mid > lo && mid < hi) {
                    // `lo` and `hi` are adjacent floats: every difference between is `hi`.
                    return vec![hi; len as usize];
                }
            }
            let n = self.count_le(mid);
            if n < k {
                lo = mid;
                below = n;
            } else if n >= last {
                hi = mid;
                upto = n;
            } else {
                // Exactly k differences are at most `mid` and two ranks were asked for: the
                // first is the largest of them, the second the smallest above.
                return self.around(mid).to_vec();
            }
            bisect = (upto - below) * 2 > before;
        }
        let mut between = self.list_between(lo, hi);
        let first = (k - below - 1) as usize;
        between.select_nth_unstable_by(first, f64::total_cmp);
        let mut out = vec![between[first]];
        if len == 2 {
            let next = between[first + 1..].iter().copied().min_by(f64::total_cmp);
            out.push(next.unwrap_or(between[first]));
        }
        out
    }

    /// A tighter starting bracket for ranks `k..=last`, from the quantiles of a fixed
    /// pseudo-random sample of differences a few standard errors either side of the ranks'
    /// share. Why: the full range runs out to the tails, where interpolation guesses badly;
    /// two passes here save most of the bisection. A sample bound that does not hold is
    /// dropped, so the result is the same, only the work differs.
    fn sample_bracket(
        &self,
        k: u64,
        last: u64,
        lo: (f64, u64),
        hi: (f64, u64),
    ) -> ((f64, u64), (f64, u64)) {
        const SAMPLE: usize = 4096;
        let mut rng = Rng::new(k ^ 0x9e37_79b9_7f4a_7c15);
        let (nb, nc) = (self.b.len() as u64, self.c.len() as u64);
        let mut sample: Vec<f64> = (0..SAMPLE)
            .map(|_| self.c[rng.below(nc) as usize] - self.b[rng.below(nb) as usize])
            .collect();
        sample.sort_unstable_by(f64::total_cmp);
        let total = self.total() as f64;
        let at = |rank: u64, sign: f64| {
            let p = rank as f64 / total;
            let se = (p * (1.0 - p) / SAMPLE as f64)
                .sqrt()
                .max(1.0 / SAMPLE as f64);
            let q = (p + sign * 4.0 * se) * SAMPLE as f64;
            (q >= 0.0 && q < SAMPLE as f64).then(|| sample[q as usize])
        };
        let mut lo = lo;
        let mut hi = hi;
        if let Some(v) = at(k, -1.0).filter(|v| *v > lo.0 && *v < hi.0) {
            let n = self.count_le(v);
            if n < k {
                lo = (v, n);
            }
        }
        if let Some(v) = at(last, 1.0).filter(|v| *v > lo.0 && *v < hi.0) {
            let n = self.count_le(v);
            if n >= last {
                hi = (v, n);
            }
        }
        (lo, hi)
    }

    /// The largest difference at most `at` and the smallest above it.
    fn around(&self, at: f64) -> [f64; 2] {
        let (mut below, mut above) = (f64::NEG_INFINITY, f64::INFINITY);
        let mut j = 0;
        for &bi in self.b {
            while j < self.c.len() && self.c[j] - bi <= at {
                j += 1;
            }
            if j > 0 {
                below = below.max(self.c[j - 1] - bi);
            }
            if j < self.c.len() {
                above = above.min(self.c[j] - bi);
            }
        }
        [below, above]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::rng::Rng;

    /// Every difference, sorted: what R's `sort(outer(x, y, "-"))` lists.
    fn all_differences(b: &[f64], c: &[f64]) -> Vec<f64> {
        let mut d: Vec<f64> = c
            .iter()
            .flat_map(|&cj| b.iter().map(move |&bi| cj - bi))
            .collect();
        d.sort_by(f64::total_cmp);
        d
    }

    #[test]
    fn selection_matches_listing_every_difference() {
        let mut rng = Rng::new(11);
        for (nb, nc, ties) in [
            (1, 1, false),
            (3, 7, false),
            (40, 55, true),
            (300, 900, true),
            (700, 650, false),
        ] {
            let draw = |rng: &mut Rng| {
                let x = rng.normal(100.0, 15.0);
                if ties {
                    x.round()
                } else {
                    x
                }
            };
            let b: Vec<f64> = (0..nb).map(|_| draw(&mut rng)).collect();
            let c: Vec<f64> = (0..nc).map(|_| draw(&mut rng) + 3.0).collect();
            let all = all_differences(&b, &c);
            let (sb, sc) = (sorted_floats(&b), sorted_floats(&c));
            for list_at_most in [0, 7, LIST_AT_MOST] {
                let pairs = Pairs {
                    b: &sb,
                    c: &sc,
                    list_at_most,
                };
                let total = pairs.total();
                for k in [1, 2, total / 3, total / 2, total / 2 + 1, total - 1, total] {
                    if k == 0 || k > total {
                        continue;
                    }
                    let len = if k < total { 2 } else { 1 };
                    let got = pairs.select(k, len);
                    let want = &all[(k - 1) as usize..(k - 1 + len) as usize];
                    assert_eq!(got, want, "n=({nb},{nc}) k={k} list_at_most={list_at_most}");
                }
            }
        }
    }

    #[test]
    fn heavy_ties_and_signed_zeros_select_like_a_listing() {
        // Small integer samples: most differences tie, the smallest is often 0 (and −0.0 equals
        // it), and bisection runs down to adjacent floats.
        let mut rng = Rng::new(5);
        for round in 0..300 {
            let nb = 1 + rng.below(12) as usize;
            let nc = 1 + rng.below(12) as usize;
            let b: Vec<f64> = (0..nb).map(|_| rng.below(5) as f64).collect();
            let c: Vec<f64> = (0..nc)
                .map(|_| match rng.below(5) as f64 {
                    0.0 if round % 2 == 1 => -0.0,
                    v => v,
                })
                .collect();
            let all = all_differences(&b, &c);
            let (sb, sc) = (sorted_floats(&b), sorted_floats(&c));
            for list_at_most in [0, 3, LIST_AT_MOST] {
                let pairs = Pairs {
                    b: &sb,
                    c: &sc,
                    list_at_most,
                };
                for k in 1..=pairs.total() {
                    let got = pairs.select(k, 1)[0];
                    assert_eq!(
                        got,
                        all[(k - 1) as usize],
                        "round {round} k={k} b={b:?} c={c:?}"
                    );
                }
            }
        }
    }

    #[test]
    #[allow(clippy::approx_constant)] // 3.14 is a measurement in the data set, not π
    fn exact_interval_matches_r_on_a_textbook_pair() {
        // R 4.2: wilcox.test(c(1.83,0.50,1.62,2.48,1.68,1.88,1.55,3.06,1.30),
        //                    c(0.878,0.647,0.598,2.05,1.06,1.29,1.06,3.14,1.29), conf.int=TRUE)
        // has ties in y (1.06, 1.29), so R uses the normal approximation; the tie-free variant
        // below is checked against listed differences and qwilcox directly.
        let x = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30];
        let y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.07, 3.14, 1.28];
        let r = hodges_lehmann_ci(&y, &x, 0.95).expect("interval");
        assert!(r.exact);
        let all = all_differences(&y, &x);
        // qwilcox(0.025, 9, 9) = 18 in R.
        assert_eq!(exact_ranks(9, 9, 0.05), (18, 81 - 18 + 1));
        assert_eq!((r.lo, r.hi), (all[17], all[63]));
        assert_eq!(r.estimate, all[40]);
    }

    #[test]
    fn constant_samples_give_a_point_interval() {
        let r = hodges_lehmann_ci(&[2.0; 60], &[5.0; 70], 0.95).expect("interval");
        assert_eq!((r.estimate, r.lo, r.hi), (3.0, 3.0, 3.0));
    }

    #[test]
    fn degenerate_inputs() {
        assert_eq!(hodges_lehmann_ci(&[], &[1.0], 0.95), None);
        assert_eq!(hodges_lehmann_ci(&[1.0], &[1.0], 1.0), None);
        assert_eq!(hodges_lehmann_ci(&[1.0, f64::NAN], &[1.0], 0.95), None);
        let one = hodges_lehmann_ci(&[1.0], &[4.0], 0.95).expect("interval");
        assert_eq!((one.estimate, one.lo, one.hi), (3.0, 3.0, 3.0));
    }

    #[test]
    fn order_keys_round_trip() {
        for x in [-1e300, -2.5, -0.0, 0.0, 1e-310, 3.25, f64::MAX] {
            assert_eq!(from_order_key(order_key(x)), x + 0.0);
        }
    }
}
