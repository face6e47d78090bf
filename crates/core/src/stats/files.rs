//! The `ccp judge` input format and the file-level judge.
//!
//! Why a dedicated format: baseline and canary samples are exported by
//! different collectors at different times; pairing them by metric name
//! (and saying clearly when one side is missing) is where real-world
//! mistakes happen, so it gets its own validated entry point.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::judge::{empty_for_missing, judge_metric, summarize, Direction, JudgeConfig, Judgement};

/// Largest per-metric weight: votes are relative, and huge ones overflow the weighted sum.
pub const MAX_WEIGHT: f64 = 1e6;
use super::StatsError;

/// Per-metric options in a sample file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MetricConfig {
    /// Which direction of change is bad (default `increase_is_bad`).
    pub direction: Direction,
    /// The metric's vote in the score (default 1): Kayenta-style, a team weighs the signals it
    /// trusts more.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<f64>,
    /// Relative practical-significance threshold for this metric, overriding the judge's
    /// `tolerance`: a quiet metric may deserve 0.05, a jumpy p99 0.3.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tolerance: Option<f64>,
}

/// One side's samples: `{"metrics": {"latency_ms": [..]}, "config":
/// {"throughput": {"direction": "decrease_is_bad"}}}`. Unknown fields are
/// ignored so exporters may add metadata (timestamps, host names).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SampleFile {
    /// Samples per metric name.
    pub metrics: BTreeMap<String, Vec<f64>>,
    /// Optional per-metric options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<BTreeMap<String, MetricConfig>>,
}

impl SampleFile {
    /// This file's options for `name`, if any.
    fn options(&self, name: &str) -> Option<&MetricConfig> {
        self.config.as_ref()?.get(name)
    }

    /// Weights and tolerances that would make a verdict meaningless, named by metric. A weight
    /// is a relative vote: above a million the sum of a few overflows into a score of nothing.
    fn check_options(&self, side: &'static str) -> Result<(), StatsError> {
        for (metric, c) in self.config.iter().flatten() {
            if let Some(w) = c
                .weight
                .filter(|w| !(w.is_finite() && *w > 0.0 && *w <= MAX_WEIGHT))
            {
                return Err(StatsError::InvalidConfig(format!(
                    "{side} config for {metric}: weight must be a number > 0 and at most {MAX_WEIGHT}, got {w}"
                )));
            }
            if let Some(t) = c.tolerance.filter(|t| !(t.is_finite() && *t >= 0.0)) {
                return Err(StatsError::InvalidConfig(format!(
                    "{side} config for {metric}: tolerance must be a finite number >= 0, got {t}"
                )));
            }
        }
        Ok(())
    }

    /// First non-finite sample, as an error naming side, metric and index,
    /// so the operator can find the bad number in the file.
    fn check_finite(&self, side: &'static str) -> Result<(), StatsError> {
        for (metric, xs) in &self.metrics {
            if let Some((index, &value)) = xs.iter().enumerate().find(|(_, x)| !x.is_finite()) {
                return Err(StatsError::NonFinite {
                    side,
                    metric: metric.clone(),
                    index,
                    value,
                });
            }
        }
        Ok(())
    }
}

/// Judges two sample files, pairing metrics by name (sorted by name).
///
/// A metric present in only one file is NoData with a reason naming the
/// missing side (never silently dropped: a missing error metric must be
/// visible). Each option (direction, weight, tolerance) comes from the canary
/// file's config, else the baseline's, else the default, because the canary
/// export is the newer, more deliberate one. Errors on an invalid config or
/// non-finite samples.
pub fn judge_files(
    baseline: &SampleFile,
    canary: &SampleFile,
    cfg: &JudgeConfig,
) -> Result<Judgement, StatsError> {
    cfg.validate()?;
    baseline.check_finite("baseline")?;
    canary.check_finite("canary")?;
    baseline.check_options("baseline")?;
    canary.check_options("canary")?;
    let names: BTreeSet<&String> = baseline
        .metrics
        .keys()
        .chain(canary.metrics.keys())
        .collect();
    let results = names
        .into_iter()
        .map(|name| {
            let pick = |f: fn(&MetricConfig) -> Option<f64>| {
                canary
                    .options(name)
                    .and_then(f)
                    .or_else(|| baseline.options(name).and_then(f))
            };
            let dir = canary
                .options(name)
                .or_else(|| baseline.options(name))
                .map(|c| c.direction)
                .unwrap_or_default();
            let metric_cfg = JudgeConfig {
                tolerance: pick(|c| c.tolerance).unwrap_or(cfg.tolerance),
                ..cfg.clone()
            };
            let mut result = match (baseline.metrics.get(name), canary.metrics.get(name)) {
                (Some(b), Some(c)) => judge_metric(name, b, c, dir, &metric_cfg),
                (b, c) => empty_for_missing(name, b.map(Vec::as_slice), c.map(Vec::as_slice), dir),
            };
            result.weight = pick(|c| c.weight).unwrap_or(1.0);
            result
        })
        .collect();
    Ok(summarize(results, cfg))
}

#[cfg(test)]
mod tests {
    use super::super::judge::{MetricVerdict, Verdict};
    use super::*;

    fn parse(s: &str) -> SampleFile {
        serde_json::from_str(s).expect("valid sample file")
    }

    #[test]
    fn pairs_by_name_and_reports_missing_metrics() {
        let b = parse(
            r#"{"metrics": {"latency_ms": [10,11,12,13,14,15], "old_only": [1,2,3,4,5]},
                "exported_at": "ignored"}"#,
        );
        let c =
            parse(r#"{"metrics": {"latency_ms": [10,11,12,13,14,16], "new_only": [1,2,3,4,5]}}"#);
        let j = judge_files(&b, &c, &JudgeConfig::default()).expect("judged");
        let names: Vec<&str> = j.metrics.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["latency_ms", "new_only", "old_only"]);
        assert_eq!(j.metrics[0].verdict, MetricVerdict::Pass);
        assert_eq!(j.metrics[1].verdict, MetricVerdict::NoData);
        assert!(
            j.metrics[1].reason.contains("missing from the baseline"),
            "{}",
            j.metrics[1].reason
        );
        assert!(
            j.metrics[2].reason.contains("missing from the canary"),
            "{}",
            j.metrics[2].reason
        );
        assert_eq!(j.verdict, Verdict::Pass);
    }

    #[test]
    fn direction_from_canary_then_baseline_then_default() {
        let b = parse(
            r#"{"metrics": {"a": [1,2,3,4,5], "b": [1,2,3,4,5], "c": [1,2,3,4,5]},
                "config": {"a": {"direction": "both"}, "b": {"direction": "both"}}}"#,
        );
        let c = parse(
            r#"{"metrics": {"a": [1,2,3,4,5], "b": [1,2,3,4,5], "c": [1,2,3,4,5]},
                "config": {"a": {"direction": "decrease_is_bad"}, "c": {}}}"#,
        );
        let j = judge_files(&b, &c, &JudgeConfig::default()).expect("judged");
        let dirs: Vec<Direction> = j.metrics.iter().map(|m| m.direction).collect();
        assert_eq!(
            dirs,
            [
                Direction::DecreaseIsBad,
                Direction::Both,
                Direction::IncreaseIsBad
            ]
        );
    }

    #[test]
    fn weight_and_tolerance_per_metric() {
        // p99 up 10 %: significant on 40 points each, but within a 0.3 tolerance; p50 up 10 %
        // with the default tolerance 0 fails, and its weight 3 decides the score.
        let base: Vec<f64> = (0..40).map(|i| 100.0 + f64::from(i % 7)).collect();
        let up: Vec<f64> = base.iter().map(|x| x * 1.1).collect();
        let file = |xs: &Vec<f64>, config: &str| {
            parse(&format!(
                r#"{{"metrics": {{"p50": {xs:?}, "p99": {xs:?}}}, "config": {config}}}"#
            ))
        };
        let b = file(&base, "{}");
        let c = file(&up, r#"{"p50": {"weight": 3}, "p99": {"tolerance": 0.3}}"#);
        let j = judge_files(&b, &c, &JudgeConfig::default()).expect("judged");
        assert_eq!(j.metrics[0].verdict, MetricVerdict::Fail, "{j:?}");
        assert_eq!(j.metrics[0].weight, 3.0);
        assert_eq!(j.metrics[1].verdict, MetricVerdict::Pass, "{j:?}");
        assert!(
            j.metrics[1].reason.contains("tolerance"),
            "{}",
            j.metrics[1].reason
        );
        assert_eq!(j.score, 25.0);
        assert_eq!(j.verdict, Verdict::Fail);
        let bad = file(&up, r#"{"p50": {"weight": 0}}"#);
        let err = judge_files(&b, &bad, &JudgeConfig::default()).expect_err("weight 0");
        assert!(err.to_string().contains("p50: weight"), "{err}");
    }

    #[test]
    fn rejects_non_finite_with_metric_and_index() {
        let mut b = SampleFile::default();
        b.metrics
            .insert("latency_ms".into(), vec![1.0, 2.0, f64::INFINITY]);
        let c = SampleFile::default();
        let err = judge_files(&b, &c, &JudgeConfig::default()).expect_err("must reject");
        assert_eq!(
            err.to_string(),
            "baseline samples: metric `latency_ms` has a non-finite value (inf) at index 2; \
             all samples must be finite numbers"
        );
        let bad_cfg = JudgeConfig {
            alpha: 0.0,
            ..JudgeConfig::default()
        };
        assert!(matches!(
            judge_files(&c, &c, &bad_cfg),
            Err(StatsError::InvalidConfig(_))
        ));
    }
}
