//! Risk scoring with both formulas from the seeds, each producing a justification record.
//!
//! * Strategy score: `criticality·0.4 + change_size·0.3 + severity·0.2 + timing·0.1`, which picks
//!   MANUAL_REVIEW (> 0.7), CANARY_DEPLOY (> 0.4) or DIRECT_DEPLOY. It answers "how carefully do we
//!   roll this out?".
//! * Gate score: `Impact × (1 − Confidence) × Complexity`, held against `gates.risk_max`. It answers
//!   "how much could go wrong that we are unsure about?" — a certain, tiny fix to a critical
//!   service is low risk even though its strategy score is high.

use super::domain::{Severity, Strategy};
use super::explain::Justification;

/// Inputs to both formulas.
#[derive(Debug, Clone, PartialEq)]
pub struct RiskInputs {
    /// Service criticality in [0,1].
    pub criticality: f64,
    /// Lines added + removed by the patch.
    pub lines_changed: u32,
    /// Incident severity.
    pub severity: Severity,
    /// Traffic now relative to the daily peak, [0,1] (peak hours are riskier).
    pub traffic_vs_peak: f64,
    /// Fraction of the fleet that transitively depends on the service, [0,1].
    pub blast_fraction: f64,
    /// Confidence in the diagnosis and fix (min of RCA and template confidence), [0,1].
    pub confidence: f64,
}

/// Thresholds of the strategy formula.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StrategyThresholds {
    /// Above this: manual review.
    pub manual_review: f64,
    /// Above this: canary.
    pub canary: f64,
}

impl Default for StrategyThresholds {
    fn default() -> Self {
        Self {
            manual_review: 0.7,
            canary: 0.4,
        }
    }
}

/// Result of the strategy formula.
#[derive(Debug, Clone, PartialEq)]
pub struct StrategyScore {
    /// Weighted sum in [0,1].
    pub score: f64,
    /// Chosen strategy.
    pub strategy: Strategy,
    /// Why.
    pub justification: Justification,
}

/// Result of the gate formula.
#[derive(Debug, Clone, PartialEq)]
pub struct GateRisk {
    /// Impact × (1 − Confidence) × Complexity, in [0,1].
    pub score: f64,
    /// Why.
    pub justification: Justification,
}

/// Change size in [0,1]: one line is trivial, a hundred lines is as big as the formula cares.
pub fn change_size(lines: u32) -> f64 {
    (f64::from(lines) / 100.0).min(1.0)
}

/// The weighted strategy formula.
pub fn strategy_score(inp: &RiskInputs, th: StrategyThresholds) -> StrategyScore {
    let crit = inp.criticality.clamp(0.0, 1.0);
    let size = change_size(inp.lines_changed);
    let sev = inp.severity.weight();
    let timing = inp.traffic_vs_peak.clamp(0.0, 1.0);
    let score = crit * 0.4 + size * 0.3 + sev * 0.2 + timing * 0.1;
    let strategy = if score > th.manual_review {
        Strategy::ManualReview
    } else if score > th.canary {
        Strategy::CanaryDeploy
    } else {
        Strategy::DirectDeploy
    };
    let name = strategy_name(strategy);
    let justification = Justification::new("risk_score", name)
        .input("criticality", crit)
        .input("lines_changed", inp.lines_changed)
        .input("severity", inp.severity)
        .input("traffic_vs_peak", timing)
        .factor("criticality", crit, 0.4, "business criticality of the service")
        .factor(
            "change_size",
            size,
            0.3,
            format!("{} changed lines / 100, capped at 1", inp.lines_changed),
        )
        .factor(
            "severity",
            sev,
            0.2,
            format!("incident severity {}", inp.severity.as_str()),
        )
        .factor(
            "timing",
            timing,
            0.1,
            "current traffic relative to the daily peak",
        )
        .constraint(format!("> {} → MANUAL_REVIEW", th.manual_review))
        .constraint(format!("> {} → CANARY_DEPLOY", th.canary))
        .alternative(alternatives_text(strategy))
        .reasoning(format!(
            "score {score:.3} = {crit:.2}·0.4 + {size:.2}·0.3 + {sev:.2}·0.2 + {timing:.2}·0.1 → {name}"
        ))
        .confidence(1.0);
    StrategyScore {
        score,
        strategy,
        justification,
    }
}

/// Complexity in [0.1,1]: even a one-line change carries some complexity.
pub fn complexity(lines: u32) -> f64 {
    0.1 + 0.9 * (f64::from(lines) / 50.0).min(1.0)
}

/// The multiplicative gate formula.
pub fn gate_risk(inp: &RiskInputs) -> GateRisk {
    let impact = inp.criticality.max(inp.blast_fraction).clamp(0.0, 1.0);
    let conf = inp.confidence.clamp(0.0, 1.0);
    let cx = complexity(inp.lines_changed);
    let score = impact * (1.0 - conf) * cx;
    let justification = Justification::new("gate_risk", format!("{score:.3}"))
        .input("criticality", inp.criticality)
        .input("blast_fraction", inp.blast_fraction)
        .input("confidence", conf)
        .input("lines_changed", inp.lines_changed)
        .factor(
            "impact",
            impact,
            1.0,
            "max(criticality, share of fleet depending on the service)",
        )
        .factor(
            "uncertainty",
            1.0 - conf,
            1.0,
            "1 − min(RCA confidence, fix-template confidence)",
        )
        .factor("complexity", cx, 1.0, "0.1 + 0.9·min(1, lines/50)")
        .reasoning(format!(
            "risk {score:.3} = impact {impact:.2} × (1 − confidence {conf:.2}) × complexity {cx:.2}"
        ))
        .confidence(conf);
    GateRisk {
        score,
        justification,
    }
}

/// Contract spelling of a strategy.
pub fn strategy_name(s: Strategy) -> &'static str {
    match s {
        Strategy::ManualReview => "MANUAL_REVIEW",
        Strategy::CanaryDeploy => "CANARY_DEPLOY",
        Strategy::DirectDeploy => "DIRECT_DEPLOY",
    }
}

fn alternatives_text(chosen: Strategy) -> String {
    match chosen {
        Strategy::ManualReview => "CANARY_DEPLOY rejected: score above the manual-review line",
        Strategy::CanaryDeploy => {
            "DIRECT_DEPLOY rejected: score above the canary line; MANUAL_REVIEW not required by score"
        }
        Strategy::DirectDeploy => "CANARY_DEPLOY not needed: score at or below the canary line",
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(crit: f64, lines: u32, sev: Severity, timing: f64) -> RiskInputs {
        RiskInputs {
            criticality: crit,
            lines_changed: lines,
            severity: sev,
            traffic_vs_peak: timing,
            blast_fraction: 0.3,
            confidence: 0.9,
        }
    }

    #[test]
    fn strategy_formula_values_and_bands() {
        // 0.9·0.4 + 0.05·0.3 + 1.0·0.2 + 0.5·0.1 = 0.36 + 0.015 + 0.2 + 0.05 = 0.625
        let s = strategy_score(
            &inputs(0.9, 5, Severity::Critical, 0.5),
            StrategyThresholds::default(),
        );
        assert!((s.score - 0.625).abs() < 1e-12);
        assert_eq!(s.strategy, Strategy::CanaryDeploy);
        // 1·0.4 + 1·0.3 + 1·0.2 + 1·0.1 = 1.0
        let s = strategy_score(
            &inputs(1.0, 300, Severity::Critical, 1.0),
            StrategyThresholds::default(),
        );
        assert!((s.score - 1.0).abs() < 1e-12);
        assert_eq!(s.strategy, Strategy::ManualReview);
        // 0.2·0.4 + 0.01·0.3 + 0.3·0.2 + 0 = 0.143
        let s = strategy_score(
            &inputs(0.2, 1, Severity::Low, 0.0),
            StrategyThresholds::default(),
        );
        assert!((s.score - 0.143).abs() < 1e-12);
        assert_eq!(s.strategy, Strategy::DirectDeploy);
        assert_eq!(s.justification.factors.len(), 4);
    }

    #[test]
    fn boundaries_are_strict() {
        // exactly 0.4 is not "> 0.4"
        let i = RiskInputs {
            criticality: 1.0,
            lines_changed: 0,
            severity: Severity::Info,
            traffic_vs_peak: 0.0,
            blast_fraction: 0.0,
            confidence: 1.0,
        };
        let s = strategy_score(&i, StrategyThresholds::default());
        assert!((s.score - 0.42).abs() < 1e-12); // 0.4 + 0.02
        assert_eq!(s.strategy, Strategy::CanaryDeploy);
        let i2 = RiskInputs {
            severity: Severity::Info,
            criticality: 0.95,
            ..i
        };
        let s2 = strategy_score(&i2, StrategyThresholds::default());
        assert!((s2.score - 0.40).abs() < 1e-12);
        assert_eq!(s2.strategy, Strategy::DirectDeploy);
    }

    #[test]
    fn gate_formula_values() {
        // impact max(0.9,0.3)=0.9; (1-0.9)=0.1; complexity 0.1+0.9·(5/50)=0.19 → 0.0171
        let g = gate_risk(&inputs(0.9, 5, Severity::Critical, 0.5));
        assert!((g.score - 0.0171).abs() < 1e-12);
        let mut i = inputs(0.5, 100, Severity::High, 0.5);
        i.confidence = 0.0;
        i.blast_fraction = 0.8;
        let g = gate_risk(&i);
        assert!((g.score - 0.8).abs() < 1e-12);
    }
}
