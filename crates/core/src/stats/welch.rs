//! Welch's unequal-variances t-test, reported beside Mann–Whitney.
//!
//! Why both: Mann–Whitney decides (robust to skew), while Welch answers the
//! question engineers often ask ("did the *mean* move?") and flags cases
//! where a few huge outliers move the mean but not the ranks.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

use super::describe::{mean, variance};

/// Result of [`welch_t_test`], oriented canary − baseline.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Welch {
    /// `(mean_c − mean_b) / sqrt(s_c²/n_c + s_b²/n_b)`; positive means the
    /// canary mean is higher.
    pub t: f64,
    /// Welch–Satterthwaite degrees of freedom.
    pub df: f64,
    /// Two-sided p-value from Student's t with `df` degrees of freedom.
    pub p_value: f64,
}

/// Per-sample summary needed by the test.
struct Moments {
    mean: f64,
    var_of_mean: f64,
    n: f64,
}

/// Mean and squared standard error; `None` when n < 2.
fn moments(xs: &[f64]) -> Option<Moments> {
    let n = xs.len() as f64;
    Some(Moments {
        mean: mean(xs)?,
        var_of_mean: variance(xs)? / n,
        n,
    })
}

/// Welch's t-test of `canary` against `baseline`.
///
/// Matches SciPy `ttest_ind(canary, baseline, equal_var=False)`. Why Welch
/// and not Student: a canary serves a fraction of traffic, so its sample
/// size and variance routinely differ from the baseline's, which breaks
/// the equal-variance assumption.
///
/// `None` when either sample has fewer than two values (no variance).
/// When both variances are 0 (SciPy returns NaN), we return t = 0,
/// df = n_c + n_b − 2 and p = 1 if the means are equal, else t = ±∞ and
/// p = 0: two constant samples that differ are as different as it gets.
pub fn welch_t_test(baseline: &[f64], canary: &[f64]) -> Option<Welch> {
    let b = moments(baseline)?;
    let c = moments(canary)?;
    let se2 = c.var_of_mean + b.var_of_mean;
    let diff = c.mean - b.mean;
    if se2 <= 0.0 {
        return Some(degenerate(diff, b.n + c.n - 2.0));
    }
    let t = diff / se2.sqrt();
    let df = se2 * se2
        / (c.var_of_mean * c.var_of_mean / (c.n - 1.0)
            + b.var_of_mean * b.var_of_mean / (b.n - 1.0));
    let dist = StudentsT::new(0.0, 1.0, df).ok()?;
    let p_value = (2.0 * dist.sf(t.abs())).clamp(0.0, 1.0);
    Some(Welch { t, df, p_value })
}

/// Result for two zero-variance samples (see [`welch_t_test`]).
fn degenerate(diff: f64, df: f64) -> Welch {
    if diff == 0.0 {
        Welch {
            t: 0.0,
            df,
            p_value: 1.0,
        }
    } else {
        Welch {
            t: f64::INFINITY.copysign(diff),
            df,
            p_value: 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::assert_rel;
    use super::*;

    fn check(baseline: &[f64], canary: &[f64], t: f64, df: f64, p: f64) {
        let r = welch_t_test(baseline, canary).expect("n >= 2");
        assert_rel(r.t, t, 1e-9);
        assert_rel(r.df, df, 1e-9);
        assert_rel(r.p_value, p, 1e-6);
    }

    #[test]
    fn no_ties() {
        // scipy 1.17.1 ttest_ind(c, b, equal_var=False)
        //   -> t=1.5123826475624411 df=12.11062387228918 p=0.15608553790779892
        let (b, c) = super::super::samples::NO_TIES;
        check(
            b,
            c,
            1.512_382_647_562_441_1,
            12.110_623_872_289_18,
            0.156_085_537_907_798_92,
        );
    }

    #[test]
    fn heavy_ties_many_zeros() {
        // scipy 1.17.1 ttest_ind(c, b, equal_var=False)
        //   -> t=2.7748311895714006 df=17.486804387680184 p=0.012731567277157255
        let (b, c) = super::super::samples::MANY_ZEROS;
        check(
            b,
            c,
            2.774_831_189_571_400_6,
            17.486_804_387_680_184,
            0.012_731_567_277_157_255,
        );
    }

    #[test]
    fn unequal_sizes() {
        // scipy 1.17.1 ttest_ind(c, b, equal_var=False)
        //   -> t=5.143088016288184 df=4.9940227541175615 p=0.0036484159363830014
        let (b, c) = super::super::samples::UNEQUAL;
        check(
            b,
            c,
            5.143_088_016_288_184,
            4.994_022_754_117_561_5,
            0.003_648_415_936_383_001_4,
        );
    }

    #[test]
    fn canary_lower_gives_negative_t() {
        // scipy 1.17.1 ttest_ind(c, b, equal_var=False)
        //   -> t=-2.576692504412407 df=16.40813326800588 p=0.019990678902630225
        let (b, c) = super::super::samples::CANARY_LOWER;
        check(
            b,
            c,
            -2.576_692_504_412_407,
            16.408_133_268_005_88,
            0.019_990_678_902_630_225,
        );
    }

    #[test]
    fn far_apart_tiny_p() {
        // b = [i*0.1 for i in range(30)], c = [2.5 + i*0.13 for i in range(25)]
        // scipy 1.17.1 ttest_ind(c, b, equal_var=False)
        //   -> t=10.444178507271566 df=49.44328982246944 p=4.1807779654389684e-14
        let b: Vec<f64> = (0..30).map(|i| f64::from(i) * 0.1).collect();
        let c: Vec<f64> = (0..25).map(|i| 2.5 + f64::from(i) * 0.13).collect();
        check(
            &b,
            &c,
            10.444_178_507_271_566,
            49.443_289_822_469_44,
            4.180_777_965_438_968_4e-14,
        );
    }

    #[test]
    fn tiny_samples() {
        // scipy 1.17.1 ttest_ind([3,4,5], [1,2], equal_var=False)
        //   -> t=3.273268353539886 df=2.8823529411764697 p=0.04941625686257753
        check(
            &[1.0, 2.0],
            &[3.0, 4.0, 5.0],
            3.273_268_353_539_886,
            2.882_352_941_176_469_7,
            0.049_416_256_862_577_53,
        );
        assert_eq!(welch_t_test(&[1.0], &[1.0, 2.0]), None);
        assert_eq!(welch_t_test(&[1.0, 2.0], &[]), None);
    }

    #[test]
    fn identical_samples() {
        // scipy 1.17.1 ttest_ind(x, x, equal_var=False) with x=[1..5]
        //   -> t=0.0 df=8.0 p=1.0
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        check(&x, &x, 0.0, 8.0, 1.0);
        // Both constant: SciPy gives NaN; we define p=1 for equal means.
        let r = welch_t_test(&[3.0; 5], &[3.0; 3]).expect("n >= 2");
        assert_eq!((r.t, r.p_value), (0.0, 1.0));
        let r = welch_t_test(&[3.0; 5], &[4.0; 3]).expect("n >= 2");
        assert_eq!(r.p_value, 0.0);
        assert!(r.t.is_infinite() && r.t > 0.0);
    }
}
