//! Statistics for canary verification: a seeded PRNG, descriptive stats,
//! Mann–Whitney U, Welch's t, a bootstrap CI and the Kayenta-style judge.
//!
//! Why a self-contained, pure module: a canary verdict gates a production
//! rollout, so it must be reproducible from its inputs alone (no I/O, no
//! clocks, no global RNG) and testable against reference values (SciPy).

pub mod bootstrap;
pub mod describe;
mod explain;
pub mod files;
pub mod hodges_lehmann;
pub mod judge;
pub mod mann_whitney;
pub mod proportion;
pub mod rng;
pub mod welch;

pub use bootstrap::{bootstrap_median_shift_ci, median_shift};
pub use describe::{mean, median, p99, quantile, variance};
pub use files::{judge_files, MetricConfig, SampleFile};
pub use judge::{
    judge, judge_metric, Direction, JudgeConfig, Judgement, MetricResult, MetricVerdict, Verdict,
};
pub use mann_whitney::{mann_whitney_u, MannWhitney};
pub use rng::Rng;
pub use welch::{welch_t_test, Welch};

/// Errors from validating judge inputs.
///
/// Why a typed error rather than a panic or a silent skip: a malformed
/// sample file must stop `ccp judge` with a message that tells the operator
/// exactly which number to fix, instead of yielding a verdict built on NaN.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StatsError {
    /// A sample value is NaN or infinite; ranks and means would be garbage.
    #[error(
        "{side} samples: metric `{metric}` has a non-finite value ({value}) at index {index}; \
         all samples must be finite numbers"
    )]
    NonFinite {
        /// Which file: `"baseline"` or `"canary"`.
        side: &'static str,
        /// Metric name as written in the file.
        metric: String,
        /// Zero-based position within the metric's sample list.
        index: usize,
        /// The offending value (NaN or ±inf).
        value: f64,
    },
    /// A judge configuration value is out of its meaningful range.
    #[error("invalid judge config: {0}")]
    InvalidConfig(String),
}

/// Relative comparison used by the reference-value tests; an expected exact
/// 0 must be matched exactly (relative error is undefined there).
#[cfg(test)]
pub(crate) fn assert_rel(actual: f64, expected: f64, tol: f64) {
    let ok = if expected == 0.0 {
        actual == 0.0
    } else {
        (actual - expected).abs() <= tol * expected.abs()
    };
    assert!(ok, "actual {actual} expected {expected}");
}

/// Reference samples shared by the Mann-Whitney and Welch tests, so both tests are checked
/// against SciPy on exactly the same data.
#[cfg(test)]
pub(crate) mod samples {
    /// Interleaved, no ties.
    pub const NO_TIES: (&[f64], &[f64]) = (
        &[1.1, 2.3, 3.7, 4.2, 5.9, 6.4, 7.8, 8.5],
        &[2.0, 3.1, 4.9, 6.6, 9.2, 10.4, 11.3, 12.7],
    );
    /// Per-second error counts: mostly zeros.
    pub const MANY_ZEROS: (&[f64], &[f64]) = (
        &[
            0., 0., 0., 0., 0., 0., 0., 1., 0., 0., 2., 0., 0., 0., 1., 0., 0., 0., 0., 0.,
        ],
        &[
            0., 1., 0., 2., 3., 0., 1., 0., 4., 2., 0., 1., 3., 0., 0., 5.,
        ],
    );
    /// 15 baseline values against 4 canary values.
    pub const UNEQUAL: (&[f64], &[f64]) = (
        &[
            12.0, 15.5, 11.2, 14.8, 13.3, 16.1, 12.9, 15.0, 14.2, 13.7, 11.8, 15.9, 12.4, 14.5,
            13.1,
        ],
        &[17.2, 18.9, 16.4, 19.5],
    );
    /// Canary lower than baseline, with ties.
    pub const CANARY_LOWER: (&[f64], &[f64]) = (
        &[5., 5., 6., 6., 7., 7., 8., 8., 9., 9.],
        &[4., 4., 5., 5., 5., 6., 6., 6., 7., 7.],
    );
}
