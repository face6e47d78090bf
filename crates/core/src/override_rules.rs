//! The human-override rules: when automation must stop and ask a person before deploying.
//!
//! The seeds list five conditions (conflict severity HIGH or CRITICAL, error budget exhausted,
//! more than two consecutive failures, blast radius above ten services, RCA confidence under
//! 70 %). They used to be checked in three different pipeline stages; here they are one pure
//! function so the rules, their boundaries and their wording are decided and tested in one place.
//! Limits come from [`ApprovalPolicy`], so `approval.*` in the config file tunes them.
//!
//! The risk-score (manual review) and production-policy reasons stay in the approval step: they
//! depend on the strategy decision and the environment, not on these facts.

use super::conflict::Conflict;
use super::events::PauseRule;
use super::pipeline::ApprovalPolicy;
use serde::{Deserialize, Serialize};

/// Which rule asked for a human, as a stable id for the audit log and filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverrideRule {
    /// A HIGH or CRITICAL conflict with another operation.
    Conflict,
    /// The error-budget gate failed: there is no budget left to risk automatically.
    ErrorBudgetExhausted,
    /// Automation kept failing on this service.
    ConsecutiveFailures,
    /// Too many services depend on the one being changed.
    BlastRadius,
    /// The diagnosis itself is doubtful.
    LowRcaConfidence,
}

impl OverrideRule {
    /// The stable id (`error_budget_exhausted`), the same as the serde spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            OverrideRule::Conflict => "conflict",
            OverrideRule::ErrorBudgetExhausted => "error_budget_exhausted",
            OverrideRule::ConsecutiveFailures => "consecutive_failures",
            OverrideRule::BlastRadius => "blast_radius",
            OverrideRule::LowRcaConfidence => "low_rca_confidence",
        }
    }
}

/// One reason to pause: the rule, the same as a fact with its numbers, and a sentence an
/// operator can act on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverrideReason {
    /// The rule that fired.
    pub rule: OverrideRule,
    /// What was observed against which limit, as data (goes into `awaiting_approval.rules`).
    pub fact: PauseRule,
    /// What was observed against which limit.
    pub message: String,
}

/// The facts the rules look at, gathered by the pipeline from its stages.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OverrideInputs<'a> {
    /// Conflicts with other operations in flight.
    pub conflicts: &'a [Conflict],
    /// `Some(gate reason)` when the error-budget gate failed. The gate owns the comparison, so the
    /// rule only carries its verdict and words.
    pub error_budget_exhausted: Option<&'a str>,
    /// Consecutive failed operations on the service.
    pub consecutive_failures: u32,
    /// Services in the blast radius of the change.
    pub blast_radius_services: usize,
    /// Confidence of the top root-cause candidate, in [0,1].
    pub rca_confidence: f64,
}

/// Every override reason that holds, in rule order (conflicts first, most severe first as given).
/// Empty means no rule asks for a human.
pub fn override_reasons(
    inputs: &OverrideInputs<'_>,
    policy: &ApprovalPolicy,
) -> Vec<OverrideReason> {
    let mut out = Vec::new();
    for c in inputs.conflicts.iter().filter(|c| c.needs_human()) {
        let with = if c.other_incident.is_empty() {
            String::new()
        } else {
            format!(" with {} on {}", c.other_incident, c.other_service)
        };
        out.push(OverrideReason {
            rule: OverrideRule::Conflict,
            fact: PauseRule::Conflict {
                kind: c.kind.as_str().to_string(),
                severity: c.severity.to_string(),
                other_incident: c.other_incident.clone(),
                other_service: c.other_service.clone(),
            },
            message: format!(
                "{} conflict{with} ({}): {}",
                c.kind.as_str(),
                c.severity,
                c.detail
            ),
        });
    }
    if let Some(why) = inputs.error_budget_exhausted {
        out.push(OverrideReason {
            rule: OverrideRule::ErrorBudgetExhausted,
            fact: PauseRule::ErrorBudgetExhausted,
            message: format!("error budget exhausted ({why}): only a human may spend more of it"),
        });
    }
    if inputs.consecutive_failures > policy.max_consecutive_failures {
        out.push(OverrideReason {
            rule: OverrideRule::ConsecutiveFailures,
            fact: PauseRule::ConsecutiveFailures {
                count: inputs.consecutive_failures,
                limit: policy.max_consecutive_failures,
            },
            message: format!(
                "{} consecutive failed operations on this service (more than {})",
                inputs.consecutive_failures, policy.max_consecutive_failures
            ),
        });
    }
    if inputs.blast_radius_services > policy.max_blast_radius_services {
        out.push(OverrideReason {
            rule: OverrideRule::BlastRadius,
            fact: PauseRule::BlastRadius {
                services: inputs.blast_radius_services,
                limit: policy.max_blast_radius_services,
            },
            message: format!(
                "blast radius {} services is above {}",
                inputs.blast_radius_services, policy.max_blast_radius_services
            ),
        });
    }
    if inputs.rca_confidence < policy.min_rca_confidence {
        out.push(OverrideReason {
            rule: OverrideRule::LowRcaConfidence,
            fact: PauseRule::LowRcaConfidence {
                confidence: inputs.rca_confidence,
                threshold: policy.min_rca_confidence,
            },
            message: format!(
                "RCA confidence {:.0}% is below {:.0}%",
                inputs.rca_confidence * 100.0,
                policy.min_rca_confidence * 100.0
            ),
        });
    }
    out
}

/// The rules in one sentence with the configured limits, for justification records.
pub fn describe(policy: &ApprovalPolicy) -> String {
    format!(
        "override: conflict HIGH/CRITICAL, error budget exhausted, >{} consecutive failures, blast radius >{} services, RCA confidence <{:.0}%",
        policy.max_consecutive_failures,
        policy.max_blast_radius_services,
        policy.min_rca_confidence * 100.0
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conflict::{ConflictKind, ConflictSeverity};

    fn calm() -> OverrideInputs<'static> {
        OverrideInputs {
            conflicts: &[],
            error_budget_exhausted: None,
            consecutive_failures: 0,
            blast_radius_services: 3,
            rca_confidence: 0.9,
        }
    }

    fn conflict(kind: ConflictKind) -> Conflict {
        Conflict {
            kind,
            other_incident: "INC-OTHER".into(),
            other_service: "user-service".into(),
            severity: kind.severity(),
            detail: "user-service calls payment-service directly".into(),
        }
    }

    fn rules(inputs: &OverrideInputs<'_>) -> Vec<OverrideRule> {
        override_reasons(inputs, &ApprovalPolicy::default())
            .into_iter()
            .map(|r| r.rule)
            .collect()
    }

    #[test]
    fn nothing_fires_when_calm() {
        assert!(rules(&calm()).is_empty());
    }

    #[test]
    fn boundaries_of_the_numeric_rules() {
        use OverrideRule::*;
        // (consecutive failures, blast radius, rca confidence, expected)
        let cases: &[(u32, usize, f64, &[OverrideRule])] = &[
            (2, 3, 0.9, &[]),
            (3, 3, 0.9, &[ConsecutiveFailures]),
            (0, 10, 0.9, &[]),
            (0, 11, 0.9, &[BlastRadius]),
            (0, 3, 0.70, &[]),
            (0, 3, 0.69, &[LowRcaConfidence]),
            (0, 3, 0.0, &[LowRcaConfidence]),
            (
                7,
                15,
                0.5,
                &[ConsecutiveFailures, BlastRadius, LowRcaConfidence],
            ),
        ];
        for &(failures, blast, conf, want) in cases {
            let i = OverrideInputs {
                consecutive_failures: failures,
                blast_radius_services: blast,
                rca_confidence: conf,
                ..calm()
            };
            assert_eq!(
                rules(&i),
                want,
                "failures {failures}, blast {blast}, conf {conf}"
            );
        }
    }

    #[test]
    fn only_high_and_critical_conflicts_pause() {
        for kind in ConflictKind::ALL {
            let c = [conflict(kind)];
            let i = OverrideInputs {
                conflicts: &c,
                ..calm()
            };
            let fired = rules(&i) == [OverrideRule::Conflict];
            assert_eq!(
                fired,
                kind.severity() >= ConflictSeverity::High,
                "{kind:?} ({:?})",
                kind.severity()
            );
        }
    }

    #[test]
    fn conflict_message_names_the_kind_and_the_other_operation() {
        let c = [conflict(ConflictKind::Dependency)];
        let r = override_reasons(
            &OverrideInputs {
                conflicts: &c,
                ..calm()
            },
            &ApprovalPolicy::default(),
        );
        assert_eq!(r.len(), 1);
        assert!(
            r[0].message
                .starts_with("dependency conflict with INC-OTHER on user-service (HIGH)"),
            "{}",
            r[0].message
        );
    }

    #[test]
    fn error_budget_exhausted_pauses_with_the_gate_reason() {
        let i = OverrideInputs {
            error_budget_exhausted: Some("2.50% of the error budget used > max 2.00%"),
            ..calm()
        };
        let r = override_reasons(&i, &ApprovalPolicy::default());
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].rule, OverrideRule::ErrorBudgetExhausted);
        assert!(r[0].message.contains("2.50%"));
    }

    #[test]
    fn limits_come_from_the_policy() {
        let strict = ApprovalPolicy {
            max_consecutive_failures: 0,
            max_blast_radius_services: 2,
            min_rca_confidence: 0.95,
            ..ApprovalPolicy::default()
        };
        let i = OverrideInputs {
            consecutive_failures: 1,
            ..calm()
        };
        let got: Vec<OverrideRule> = override_reasons(&i, &strict)
            .into_iter()
            .map(|r| r.rule)
            .collect();
        assert_eq!(
            got,
            [
                OverrideRule::ConsecutiveFailures,
                OverrideRule::BlastRadius,
                OverrideRule::LowRcaConfidence
            ]
        );
        assert!(describe(&strict).contains(">0 consecutive") && describe(&strict).contains("<95%"));
    }
}
