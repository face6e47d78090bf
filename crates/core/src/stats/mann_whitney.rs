//! Mann–Whitney U test (Wilcoxon rank-sum), the judge's primary test.
//!
//! Why rank-based: latency and error-rate samples are skewed, heavy-tailed
//! and full of ties (many seconds with zero errors). A rank test makes no
//! normality assumption and one slow request cannot dominate it.

use serde::{Deserialize, Serialize};
use statrs::function::erf::erfc;

/// Result of [`mann_whitney_u`], oriented on the canary sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MannWhitney {
    /// U of the canary: `R_canary − n_c(n_c+1)/2`. Above `n_c·n_b/2` means
    /// canary values tend to be larger than baseline values.
    pub u: f64,
    /// Signed, continuity-corrected z: `sign(U−μ)·max(|U−μ|−0.5, 0)/σ`.
    /// Positive means the canary is shifted up.
    pub z: f64,
    /// Two-sided p-value from the normal approximation, in [0, 1].
    pub p_value: f64,
}

/// Rank sum of the canary and tie term Σ(t³ − t) over tie groups.
struct RankSummary {
    canary_rank_sum: f64,
    tie_term: f64,
}

/// Ranks the pooled sample with average ranks for ties.
///
/// Why average ranks: tied values carry no ordering information, so each
/// gets the mean of the positions it spans; that keeps U unbiased and is
/// what SciPy's `rankdata` does.
fn rank_summary(baseline: &[f64], canary: &[f64]) -> RankSummary {
    // Each side is sorted on its own as integer keys (several times faster than sorting the
    // pooled floats with a comparator), then the two runs are merged, one group of equal values
    // at a time: its members share the average of the ranks the group spans. Large sides are
    // sorted on two threads: the sorts are independent and are nearly all of the work.
    let keys = |xs: &[f64]| {
        let mut k: Vec<u64> = xs.iter().map(|&x| order_key(x)).collect();
        k.sort_unstable();
        k
    };
    let (c, b) = if canary.len().min(baseline.len()) >= PARALLEL_SORT_MIN {
        std::thread::scope(|s| {
            let c = s.spawn(|| keys(canary));
            let b = keys(baseline);
            // A panic in the sort is a bug, not input: sort the canary here as a fallback.
            (c.join().unwrap_or_else(|_| keys(canary)), b)
        })
    } else {
        (keys(canary), keys(baseline))
    };
    let mut summary = RankSummary {
        canary_rank_sum: 0.0,
        tie_term: 0.0,
    };
    let (mut i, mut j, mut pos) = (0usize, 0usize, 0usize);
    while i < c.len() || j < b.len() {
        let v = match (c.get(i), b.get(j)) {
            (Some(&x), Some(&y)) => x.min(y),
            (Some(&x), None) => x,
            (None, Some(&y)) => y,
            (None, None) => break,
        };
        let i0 = i;
        while i < c.len() && c[i] == v {
            i += 1;
        }
        let j0 = j;
        while j < b.len() && b[j] == v {
            j += 1;
        }
        let canaries = (i - i0) as f64;
        let t = ((i - i0) + (j - j0)) as f64;
        // Ranks are 1-based: the group covers ranks pos+1 ..= pos+t.
        let avg_rank = pos as f64 + (t + 1.0) / 2.0;
        summary.canary_rank_sum += avg_rank * canaries;
        summary.tie_term += t * t * t - t;
        pos += (i - i0) + (j - j0);
    }
    summary
}

/// Sides at least this long are sorted in parallel: below it a thread costs more than it saves.
const PARALLEL_SORT_MIN: usize = 20_000;

/// An integer whose order is the floats' total order, with −0.0 folded into +0.0 so the two
/// zeros tie, as they compare equal.
pub(crate) fn order_key(x: f64) -> u64 {
    let bits = (x + 0.0).to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

/// Standard normal upper tail `P(Z > z)`, via `erfc` so tiny p-values keep
/// their relative precision instead of rounding to 0 as `1 − Φ(z)` would.
pub(crate) fn normal_sf(z: f64) -> f64 {
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

/// How the two-sided p-value is computed; mirrors SciPy's `method`
/// argument of `mannwhitneyu` so results can be checked one-to-one.
///
/// Why a choice at all: the normal approximation is what the judge has
/// always used and is accurate for the sample sizes a canary usually has,
/// but with a handful of samples per side it is noticeably off (it can
/// only approximate a distribution with a few dozen atoms), and the exact
/// null distribution is cheap to compute there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Normal approximation with tie and continuity corrections (SciPy
    /// `method="asymptotic", use_continuity=True`); what [`mann_whitney_u`]
    /// uses.
    Asymptotic,
    /// Exact null distribution of U, *without* any tie correction (SciPy
    /// `method="exact"`). With ties, U is truncated to an integer before the
    /// tail is read, exactly as SciPy does; that is only meaningful without
    /// ties, which is why [`Method::Auto`] never picks it then.
    ///
    /// Cost is O(min(n_b, n_c) · min(U, n_b·n_c − U)) time and
    /// O(min(U, n_b·n_c − U)) memory, so choose it explicitly only for
    /// modest sample sizes (say n_b·n_c up to a few million).
    Exact,
    /// SciPy's default: [`Method::Exact`] when at least one sample has at
    /// most [`EXACT_MAX_SMALLER_SIZE`] values and the pooled sample has no
    /// ties, else [`Method::Asymptotic`] (see [`Method::resolve`]).
    Auto,
}

/// The largest size of the smaller sample for which [`Method::Auto`] uses
/// the exact distribution (SciPy `_mwu_choose_method`: asymptotic only when
/// *both* sizes exceed 8). Why this value: mirroring SciPy exactly keeps our
/// p-values comparable with the reference implementation operators use.
pub const EXACT_MAX_SMALLER_SIZE: usize = 8;

impl Method {
    /// The concrete method (`Asymptotic` or `Exact`) used for samples of
    /// these sizes; `has_ties` is whether any value occurs more than once
    /// in the pooled sample.
    ///
    /// Mirrors SciPy 1.17 `scipy/stats/_mannwhitneyu.py::_mwu_choose_method`:
    /// `if n1 > 8 and n2 > 8: "asymptotic"; elif ties: "asymptotic";
    /// else: "exact"`. Why no exact path with ties: the exact distribution
    /// assumes distinct values, and with ties it is conservative in an
    /// uncontrolled way, while the tie-corrected normal approximation is
    /// well understood.
    pub fn resolve(self, n_baseline: usize, n_canary: usize, has_ties: bool) -> Method {
        match self {
            Method::Auto => {
                let both_large =
                    n_baseline > EXACT_MAX_SMALLER_SIZE && n_canary > EXACT_MAX_SMALLER_SIZE;
                if both_large || has_ties {
                    Method::Asymptotic
                } else {
                    Method::Exact
                }
            }
            concrete => concrete,
        }
    }
}

/// Mann–Whitney U test of `canary` against `baseline`.
///
/// Matches SciPy `mannwhitneyu(canary, baseline, alternative="two-sided",
/// method="asymptotic", use_continuity=True)`:
/// * the variance gets the tie correction, because per-second error rates
///   are mostly zeros and the uncorrected variance would make p too large;
/// * the 0.5 continuity correction is applied, because U is discrete and
///   without it small samples look more significant than they are.
///
/// Returns `None` if either sample is empty; p = 1 when every value is tied
/// (no information at all). Non-finite inputs are the caller's problem
/// (they are ordered by IEEE total order).
pub fn mann_whitney_u(baseline: &[f64], canary: &[f64]) -> Option<MannWhitney> {
    mann_whitney_u_with(baseline, canary, Method::Asymptotic)
}

/// Mann–Whitney U test choosing exact or asymptotic p like SciPy's default.
///
/// Matches SciPy `mannwhitneyu(canary, baseline, alternative="two-sided",
/// method="auto", use_continuity=True)`. Why: with at most 8 samples on one
/// side and no ties the normal approximation's p-value can be off by tens
/// of percent, and the exact one costs at most O(8 · 4·n) operations there.
/// `None` if either sample is empty; see [`mann_whitney_u_with`].
pub fn mann_whitney_u_auto(baseline: &[f64], canary: &[f64]) -> Option<MannWhitney> {
    mann_whitney_u_with(baseline, canary, Method::Auto)
}

/// Mann–Whitney U test of `canary` against `baseline` with an explicit
/// [`Method`], so callers (and the SciPy reference tests) can pin the path.
///
/// `u` is always the canary's U and `z` always the signed,
/// continuity-corrected normal score, whichever method produced `p_value`:
/// that keeps the meaning of the reported statistics independent of the
/// sample sizes. Returns `None` if either sample is empty. Non-finite
/// inputs are the caller's problem (they are ordered by IEEE total order).
pub fn mann_whitney_u_with(
    baseline: &[f64],
    canary: &[f64],
    method: Method,
) -> Option<MannWhitney> {
    if baseline.is_empty() || canary.is_empty() {
        return None;
    }
    let n_c = canary.len() as f64;
    let n_b = baseline.len() as f64;
    let n = n_c + n_b;
    let ranks = rank_summary(baseline, canary);
    let u = ranks.canary_rank_sum - n_c * (n_c + 1.0) / 2.0;
    let mu = n_c * n_b / 2.0;
    let var = n_c * n_b / 12.0 * ((n + 1.0) - ranks.tie_term / (n * (n - 1.0)));
    let z = if var <= 0.0 || !var.is_finite() {
        0.0
    } else {
        let diff = u - mu;
        diff.signum() * (diff.abs() - 0.5).max(0.0) / var.sqrt()
    };
    let has_ties = ranks.tie_term > 0.0;
    let p_value = match method.resolve(baseline.len(), canary.len(), has_ties) {
        Method::Exact => exact_two_sided_p(baseline.len(), canary.len(), u),
        _ if var <= 0.0 || !var.is_finite() => 1.0,
        _ => (2.0 * normal_sf(z.abs())).clamp(0.0, 1.0),
    };
    Some(MannWhitney { u, z, p_value })
}

/// The exact two-sided p-value where SciPy's `method="auto"` would use it (one side has at most
/// [`EXACT_MAX_SMALLER_SIZE`] values and nothing is tied), else `None`. Why a separate entry
/// point: the judge reports the Contract's asymptotic p-value always, and decides on this one
/// when it exists, without ranking large samples twice.
pub fn exact_p_value(baseline: &[f64], canary: &[f64]) -> Option<f64> {
    if baseline.is_empty()
        || canary.is_empty()
        || baseline.len().min(canary.len()) > EXACT_MAX_SMALLER_SIZE
    {
        return None;
    }
    let ranks = rank_summary(baseline, canary);
    if Method::Auto.resolve(baseline.len(), canary.len(), ranks.tie_term > 0.0) != Method::Exact {
        return None;
    }
    let n_c = canary.len() as f64;
    let u = ranks.canary_rank_sum - n_c * (n_c + 1.0) / 2.0;
    Some(exact_two_sided_p(baseline.len(), canary.len(), u))
}

/// Exact two-sided p-value of U for sample sizes `n1`, `n2` under H0 (all
/// orderings equally likely): `min(1, 2·P(U ≤ n1·n2 − ⌊max(U, n1·n2 − U)⌋))`,
/// which by the symmetry of U is SciPy's `2·sf(⌊max(U1, U2)⌋)`, including
/// its truncation of a tie-averaged U (the truncation is why the floor is
/// taken on the larger U, not the smaller).
fn exact_two_sided_p(n1: usize, n2: usize, u: f64) -> f64 {
    let mn = n1 as f64 * n2 as f64;
    let upper = u.max(mn - u).trunc();
    // `upper` ≥ mn/2, so the lower tail bound `mn − upper` is in [0, mn/2].
    let lower = (mn - upper).max(0.0) as usize;
    let lower_cdf: f64 = u_null_pmf(n1.min(n2), n1.max(n2), lower).iter().sum();
    (2.0 * lower_cdf).clamp(0.0, 1.0)
}

/// `P(U = k)` for `k = 0..=max_k` under H0 with sample sizes `m ≤ n`.
///
/// The count of arrangements with U = k is the coefficient of q^k in the
/// Gaussian binomial `[m+n choose m]_q = Π_{i=1..m} (1 − q^{n+i}) / (1 − q^i)`.
/// We build that product one factor at a time, reusing the previous
/// factor's coefficients (a rolling pair of buffers), truncated at
/// `max_k`: multiplying by `(1 − q^{n+i})` and dividing by `(1 − q^i)` only
/// ever look at lower powers, so truncation is exact. That costs
/// O(m · max_k) — within, and for the Auto path (m ≤ 8) far below, the
/// O(m · n · max_k) of the textbook recurrence
/// `f(m, n, k) = f(m−1, n, k−n) + f(m, n−1, k)` — and O(max_k) memory.
///
/// Why probabilities rather than counts: the counts reach C(m+n, m), which
/// overflows u128 for two samples of ~65 and f64 for ~520; rescaling step i
/// by `i / (n+i)` (= C(n+i−1, i−1) / C(n+i, i)) keeps every coefficient a
/// probability, so only genuinely negligible tail terms (< 1e−308) can
/// underflow. The lower tail is summed smallest-first by the caller; the
/// only subtraction (`− q^{n+i}` term) occurs for k ≥ n+i, where the
/// coefficients are of the same magnitude as the result, so no significant
/// cancellation occurs (checked against exact integer counts in the tests).
pub(crate) fn u_null_pmf(m: usize, n: usize, max_k: usize) -> Vec<f64> {
    let len = max_k + 1;
    let mut prev = vec![0.0; len];
    let mut next = vec![0.0; len];
    prev[0] = 1.0;
    for i in 1..=m {
        let scale = i as f64 / (n + i) as f64;
        let shift = n + i;
        for k in 0..len {
            let carried = if k >= i { next[k - i] } else { 0.0 };
            let removed = if k >= shift { prev[k - shift] } else { 0.0 };
            next[k] = carried + scale * (prev[k] - removed);
        }
        std::mem::swap(&mut prev, &mut next);
    }
    prev
}

#[cfg(test)]
mod tests {
    use super::super::assert_rel;
    use super::*;

    #[test]
    fn signed_zeros_tie_and_order_matches_the_floats() {
        // −0.0 == 0.0, so they share a rank, as SciPy's rankdata gives them.
        let a = mann_whitney_u(&[-0.0, 1.0], &[0.0, 2.0]).expect("samples");
        let b = mann_whitney_u(&[0.0, 1.0], &[0.0, 2.0]).expect("samples");
        assert_eq!((a.u, a.p_value), (b.u, b.p_value));
        let mut keys: Vec<f64> = vec![3.5, -1e300, -2.0, 0.0, 1e-300, -1e-300, f64::INFINITY];
        keys.sort_by_key(|x| order_key(*x));
        assert_eq!(
            keys,
            [-1e300, -2.0, -1e-300, 0.0, 1e-300, 3.5, f64::INFINITY]
        );
    }

    fn check(baseline: &[f64], canary: &[f64], u: f64, p: f64, z: f64) {
        let r = mann_whitney_u(baseline, canary).expect("non-empty samples");
        assert_rel(r.u, u, 1e-9);
        assert_rel(r.p_value, p, 1e-6);
        assert_rel(r.z, z, 1e-9);
    }

    #[test]
    fn no_ties() {
        // scipy 1.17.1: mannwhitneyu(c, b, alternative="two-sided",
        //   method="asymptotic", use_continuity=True)
        //   -> U=45.0 p=0.18926296331502546; z (our formula) = 1.3127625787762591
        let (b, c) = super::super::samples::NO_TIES;
        check(
            b,
            c,
            45.0,
            0.189_262_963_315_025_46,
            1.312_762_578_776_259_1,
        );
    }

    #[test]
    fn heavy_ties_many_zeros() {
        // Per-second error counts: mostly zeros.
        // scipy 1.17.1 mannwhitneyu(c, b, alternative="two-sided",
        //   method="asymptotic", use_continuity=True)
        //   -> U=232.5 p=0.006178399265904346; z=2.7381600868387928
        let (b, c) = super::super::samples::MANY_ZEROS;
        check(
            b,
            c,
            232.5,
            0.006_178_399_265_904_346,
            2.738_160_086_838_792_8,
        );
    }

    #[test]
    fn unequal_sizes() {
        // scipy 1.17.1 mannwhitneyu(c, b, alternative="two-sided",
        //   method="asymptotic", use_continuity=True)
        //   -> U=60.0 p=0.0031777392947297334; z=2.95
        let (b, c) = super::super::samples::UNEQUAL;
        check(b, c, 60.0, 0.003_177_739_294_729_733_4, 2.95);
    }

    #[test]
    fn canary_lower_with_ties_gives_negative_z() {
        // scipy 1.17.1 mannwhitneyu(c, b, alternative="two-sided",
        //   method="asymptotic", use_continuity=True)
        //   -> U=22.0 p=0.0338793351434717; z=-2.1215049105190174
        let (b, c) = super::super::samples::CANARY_LOWER;
        check(
            b,
            c,
            22.0,
            0.033_879_335_143_471_7,
            -2.121_504_910_519_017_4,
        );
    }

    #[test]
    fn far_apart_tiny_p_keeps_relative_precision() {
        // b = [i*0.1 for i in range(30)], c = [2.5 + i*0.13 for i in range(25)]
        // scipy 1.17.1 mannwhitneyu(c, b, alternative="two-sided",
        //   method="asymptotic", use_continuity=True)
        //   -> U=739.5 p=7.611047922980484e-10
        let b: Vec<f64> = (0..30).map(|i| f64::from(i) * 0.1).collect();
        let c: Vec<f64> = (0..25).map(|i| 2.5 + f64::from(i) * 0.13).collect();
        let r = mann_whitney_u(&b, &c).expect("non-empty");
        assert_rel(r.u, 739.5, 1e-9);
        assert_rel(r.p_value, 7.611_047_922_980_484e-10, 1e-6);
    }

    #[test]
    fn identical_samples_give_p_one() {
        // scipy 1.17.1: constant [3]*5 vs [3]*3 -> U=7.5 p=1.0;
        // [1,2,3,4,5] vs itself -> U=12.5 p=1.0
        check(&[3.0; 5], &[3.0; 3], 7.5, 1.0, 0.0);
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        check(&x, &x, 12.5, 1.0, 0.0);
    }

    #[test]
    fn tiny_samples() {
        // scipy 1.17.1 mannwhitneyu([3,4,5], [1,2], alternative="two-sided",
        //   method="asymptotic", use_continuity=True)
        //   -> U=6.0 p=0.14891467317876572; z=1.4433756729740645
        check(
            &[1.0, 2.0],
            &[3.0, 4.0, 5.0],
            6.0,
            0.148_914_673_178_765_72,
            1.443_375_672_974_064_5,
        );
        // scipy: mannwhitneyu([2.0], [1.0], ...) -> U=1.0 p=1.0
        check(&[1.0], &[2.0], 1.0, 1.0, 0.0);
    }

    #[test]
    fn empty_sample_is_none() {
        assert_eq!(mann_whitney_u(&[], &[1.0]), None);
        assert_eq!(mann_whitney_u(&[1.0], &[]), None);
    }

    /// Exact counts of U = k for sizes (m, n), k ≤ max_k, by the textbook
    /// recurrence in u128: an independent check of the rescaled q-binomial
    /// product (no rescaling, no subtraction).
    fn textbook_counts(m: usize, n: usize, max_k: usize) -> (Vec<u128>, u128) {
        // f[j][k] for the current n' = 0: only U = 0, once.
        let mut f = vec![vec![0u128; max_k + 1]; m + 1];
        for row in &mut f {
            row[0] = 1;
        }
        for n_cur in 1..=n {
            // f(j, n_cur, k) = f(j, n_cur − 1, k) + f(j − 1, n_cur, k − n_cur):
            // ascending j so f[j − 1] already holds n_cur.
            for j in 1..=m {
                for k in (n_cur..=max_k).rev() {
                    f[j][k] += f[j - 1][k - n_cur];
                }
            }
        }
        let total = (1..=m as u128).fold(1u128, |acc, i| acc * (n as u128 + i) / i);
        (f.swap_remove(m), total)
    }

    #[test]
    fn exact_null_distribution_matches_integer_counts() {
        let sizes = (1..=12).flat_map(|m| (m..=16).map(move |n| (m, n))).chain([
            (8, 400),
            (20, 60),
            (30, 30),
            (1, 1000),
        ]);
        for (m, n) in sizes {
            let max_k = m * n / 2;
            let pmf = u_null_pmf(m, n, max_k);
            let (counts, total) = textbook_counts(m, n, max_k);
            for (k, (&p, &c)) in pmf.iter().zip(&counts).enumerate() {
                let expected = c as f64 / total as f64;
                assert!(
                    (p - expected).abs() <= 1e-12 * expected,
                    "m={m} n={n} k={k}: {p:e} vs {expected:e}"
                );
            }
        }
    }

    #[test]
    fn exact_p_matches_scipy() {
        // scipy 1.17.1 mannwhitneyu(c, b, alternative="two-sided",
        //   method="exact"): [3,4,5] vs [1,2] -> U=6.0 p=0.2 (= 2 · 1/C(5,2))
        let exact = |b: &[f64], c: &[f64]| {
            mann_whitney_u_with(b, c, Method::Exact).expect("non-empty samples")
        };
        let r = exact(&[1.0, 2.0], &[3.0, 4.0, 5.0]);
        assert_rel(r.u, 6.0, 1e-12);
        assert_rel(r.p_value, 0.2, 1e-12);
        // samples::NO_TIES -> U=45.0 p=0.19487179487179485
        let (b, c) = super::super::samples::NO_TIES;
        assert_rel(exact(b, c).p_value, 0.194_871_794_871_794_85, 1e-12);
        // samples::UNEQUAL -> U=60.0 p=0.0005159958720330237
        let (b, c) = super::super::samples::UNEQUAL;
        assert_rel(exact(b, c).p_value, 5.159_958_720_330_237e-4, 1e-12);
        // Fully separated 8 vs 8: the smallest possible p, 2/C(16,8).
        let b: Vec<f64> = (0..8).map(f64::from).collect();
        let c: Vec<f64> = (0..8).map(|i| f64::from(i) + 100.5).collect();
        assert_rel(exact(&b, &c).p_value, 2.0 / 12_870.0, 1e-12);
        // With ties SciPy truncates U=15.5 to 15 before reading the tail:
        // [2,4,5,6] vs [1,2,2,3,5] -> p=0.2857142857142857
        let r = exact(&[1.0, 2.0, 2.0, 3.0, 5.0], &[2.0, 4.0, 5.0, 6.0]);
        assert_rel(r.u, 15.5, 1e-12);
        assert_rel(r.p_value, 0.285_714_285_714_285_7, 1e-12);
        // U exactly at the centre: p clamps to 1.
        assert_eq!(exact(&[1.0, 4.0], &[2.0, 3.0]).p_value, 1.0);
    }

    #[test]
    fn auto_rule_mirrors_scipy() {
        use Method::{Asymptotic, Auto, Exact};
        // Exact needs min(n_b, n_c) ≤ 8 and no ties (SciPy _mwu_choose_method).
        assert_eq!(Auto.resolve(8, 8, false), Exact);
        assert_eq!(Auto.resolve(8, 1000, false), Exact);
        assert_eq!(Auto.resolve(1000, 1, false), Exact);
        assert_eq!(Auto.resolve(9, 9, false), Asymptotic);
        assert_eq!(Auto.resolve(3, 3, true), Asymptotic);
        assert_eq!(Exact.resolve(100, 100, true), Exact);
        assert_eq!(Asymptotic.resolve(2, 2, false), Asymptotic);
    }

    #[test]
    fn auto_picks_the_path_scipy_picks() {
        // No ties, 8 vs 8: exact, while U and z stay the asymptotic ones.
        let (b, c) = super::super::samples::NO_TIES;
        let auto = mann_whitney_u_auto(b, c).expect("non-empty");
        let asym = mann_whitney_u(b, c).expect("non-empty");
        assert_rel(auto.p_value, 0.194_871_794_871_794_85, 1e-12);
        assert_eq!((auto.u, auto.z), (asym.u, asym.z));
        // Ties: asymptotic, identical to the legacy function.
        let (b, c) = super::super::samples::MANY_ZEROS;
        assert_eq!(mann_whitney_u_auto(b, c), mann_whitney_u(b, c));
        assert_eq!(mann_whitney_u_auto(&[], &[1.0]), None);
    }

    #[test]
    fn two_thread_ranking_matches_a_pooled_sort() {
        // Sides above PARALLEL_SORT_MIN, with ties and both zeros: U and the tie term must equal
        // what a plain pooled sort with average ranks gives.
        let mut rng = crate::stats::rng::Rng::new(11);
        let mut draw = |n: usize, mu: f64| -> Vec<f64> {
            (0..n)
                .map(|i| match i % 50 {
                    0 => 0.0,
                    1 => -0.0,
                    _ => (rng.lognormal(mu, 0.5) * 10.0).round() / 10.0,
                })
                .collect()
        };
        let (b, c) = (
            draw(PARALLEL_SORT_MIN + 7, 4.0),
            draw(PARALLEL_SORT_MIN + 3_001, 4.02),
        );
        let mut pooled: Vec<(f64, bool)> = b
            .iter()
            .map(|&x| (x + 0.0, false))
            .chain(c.iter().map(|&x| (x + 0.0, true)))
            .collect();
        pooled.sort_by(|x, y| x.0.total_cmp(&y.0));
        let (mut rank_sum, mut ties, mut i) = (0.0, 0.0, 0usize);
        while i < pooled.len() {
            let j = (i..pooled.len())
                .find(|&j| pooled[j].0 != pooled[i].0)
                .unwrap_or(pooled.len());
            let t = (j - i) as f64;
            let avg = i as f64 + (t + 1.0) / 2.0;
            rank_sum += avg * pooled[i..j].iter().filter(|p| p.1).count() as f64;
            ties += t * t * t - t;
            i = j;
        }
        let r = rank_summary(&b, &c);
        assert_eq!(r.canary_rank_sum, rank_sum);
        assert_eq!(r.tie_term, ties);
    }

    #[test]
    fn u_is_symmetric_complement() {
        let b = [1.0, 5.0, 2.0, 2.0, 8.0];
        let c = [3.0, 2.0, 9.0];
        let r1 = mann_whitney_u(&b, &c).expect("non-empty");
        let r2 = mann_whitney_u(&c, &b).expect("non-empty");
        assert_rel(r1.u + r2.u, 15.0, 1e-12);
        assert_rel(r1.p_value, r2.p_value, 1e-12);
    }
}
