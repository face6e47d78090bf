//! Safety gates and the human approval step.

use super::{Pipeline, Step, Stop};
use crate::core::domain::{CheckKind, FixPlan, Outcome, Strategy};
use crate::core::events::{Command, EventKind, GateOutcome};
use crate::core::explain::Justification;
use crate::core::gates;
use crate::core::risk::{self, RiskInputs};
use crate::core::state::State;
use std::time::Duration;

/// Longest line the lint accepts in added code.
const LINT_MAX_LINE: usize = 120;

impl Pipeline {
    /// Run every gate; any failure ends in GATES_FAILED.
    pub(super) fn run_gates(&mut self) -> Step<()> {
        let Some(plan) = self.found.plan.clone() else {
            return Err(Stop::new(Outcome::Failed, "internal: no fix plan"));
        };
        let service = self.root_service();
        let mut results: Vec<GateOutcome> = Vec::new();
        if self.settings.run_syntax {
            let r = self.ports.checks.run(&service, &plan, CheckKind::Syntax);
            results.push(self.gate_step(gates::check_gate("syntax", &r))?);
        }
        if self.settings.run_tests {
            let r = self.ports.checks.run(&service, &plan, CheckKind::Tests);
            results.push(self.gate_step(gates::check_gate("tests", &r))?);
        }
        if self.settings.run_lint {
            results.push(self.gate_step(gates::lint_gate(&plan.diff, LINT_MAX_LINE))?);
        }
        if self.settings.run_security {
            results.push(self.gate_step(gates::security_gate(&plan.diff))?);
        }
        let (inputs, blast, fleet) = self.risk_inputs(&plan)?;
        let g = risk::gate_risk(&inputs);
        self.emit(EventKind::Decision {
            justification: g.justification.clone(),
        })?;
        results.push(self.gate_step(gates::risk_gate(g.score, &self.settings.gates))?);
        let policy = self
            .ports
            .policy
            .policy_inputs(&service, self.ports.clock.now_ms())
            .map_err(|e| {
                Stop::new(
                    Outcome::Escalated,
                    format!("policy inputs unavailable: {e}"),
                )
            })?;
        if policy.consecutive_failures > self.settings.approval.max_consecutive_failures {
            self.found.override_reasons.push(format!(
                "{} consecutive failed operations on {service} (more than {})",
                policy.consecutive_failures, self.settings.approval.max_consecutive_failures
            ));
        }
        for pg in gates::policy_gates(&policy, blast, fleet, &self.settings.gates) {
            results.push(self.gate_step(pg)?);
        }
        let failed: Vec<&GateOutcome> = results.iter().filter(|g| !g.passed).collect();
        self.emit(EventKind::Decision {
            justification: gates_justification(&results),
        })?;
        self.found.gates_summary = format!(
            "{}/{} gates passed",
            results.len() - failed.len(),
            results.len()
        );
        if !failed.is_empty() {
            let names = failed
                .iter()
                .map(|g| format!("{} ({})", g.gate, g.reason))
                .collect::<Vec<_>>()
                .join("; ");
            self.go(State::GatesFailed)?;
            return Err(Stop::new(
                Outcome::Failed,
                format!("safety gates failed, nothing deployed: {names}"),
            ));
        }
        self.go(State::GatesPassed)
    }

    fn gate_step(&mut self, g: GateOutcome) -> Step<GateOutcome> {
        self.emit(EventKind::GateResult(g.clone()))?;
        self.pace(self.settings.pacing.gate_ms)?;
        Ok(g)
    }

    /// Risk inputs plus blast radius size and fleet size.
    fn risk_inputs(&self, plan: &FixPlan) -> Step<(RiskInputs, usize, usize)> {
        let service = self.root_service();
        let err = |e: crate::core::ports::PortError| {
            Stop::new(Outcome::Escalated, format!("risk inputs unavailable: {e}"))
        };
        let nodes = self.ports.graph.nodes().map_err(err)?;
        let blast = self.ports.graph.blast_radius(&service).map_err(err)?.len();
        let criticality = nodes
            .iter()
            .find(|n| n.name == service)
            .map(|n| n.criticality)
            .unwrap_or(1.0);
        let policy = self
            .ports
            .policy
            .policy_inputs(&service, self.ports.clock.now_ms())
            .map_err(err)?;
        let rca_conf = self.found.rca.first().map(|c| c.confidence).unwrap_or(0.0);
        let severity = self
            .found
            .incident
            .as_ref()
            .map(|i| i.severity)
            .unwrap_or(crate::core::domain::Severity::High);
        Ok((
            RiskInputs {
                criticality,
                lines_changed: plan.lines_added + plan.lines_removed,
                severity,
                traffic_vs_peak: policy.traffic_vs_peak,
                blast_fraction: if nodes.is_empty() {
                    0.0
                } else {
                    blast as f64 / nodes.len() as f64
                },
                confidence: rca_conf.min(plan.confidence),
            },
            blast,
            nodes.len(),
        ))
    }

    /// Decide the strategy and whether a human must approve; wait for them if so.
    pub(super) fn approve(&mut self) -> Step<()> {
        let Some(plan) = self.found.plan.clone() else {
            return Err(Stop::new(Outcome::Failed, "internal: no fix plan"));
        };
        let (inputs, blast, _) = self.risk_inputs(&plan)?;
        let s = risk::strategy_score(&inputs, self.settings.strategy);
        self.emit(EventKind::Decision {
            justification: s.justification.clone(),
        })?;
        self.found.strategy = Some(s.strategy);
        let mut reasons = self.found.override_reasons.clone();
        let pol = self.settings.approval.clone();
        if s.strategy == Strategy::ManualReview {
            reasons.push(format!(
                "risk score {:.2} is above the manual-review line {:.2}",
                s.score, self.settings.strategy.manual_review
            ));
        }
        if pol.production
            && pol.require_for_production
            && inputs.criticality >= pol.criticality_threshold
        {
            reasons.push(format!(
                "production policy: {} has criticality {:.2} ≥ {:.2}, so changes need a human",
                self.root_service(),
                inputs.criticality,
                pol.criticality_threshold
            ));
        }
        if blast > pol.max_blast_radius_services {
            reasons.push(format!(
                "blast radius {blast} services is above {}",
                pol.max_blast_radius_services
            ));
        }
        let needs_human = !reasons.is_empty();
        self.emit(EventKind::Decision {
            justification: Justification::new(
                "approval_policy",
                if needs_human { "pause for human review" } else { "proceed automatically" },
            )
            .input("strategy", risk::strategy_name(s.strategy))
            .input("risk_score", s.score)
            .input("criticality", inputs.criticality)
            .input("blast_radius_services", blast)
            .constraint("override: conflict HIGH/CRITICAL, error budget exhausted, >2 consecutive failures, blast radius >10 services, RCA confidence <70%")
            .constraint("production policy: critical services need approval")
            .reasoning(if needs_human { reasons.join("; ") } else { "no override condition holds".into() }),
        })?;
        if !needs_human {
            return Ok(());
        }
        self.go(State::PausedForHumanReview)?;
        self.emit(EventKind::AwaitingApproval {
            reasons,
            risk_score: gates::round3(s.score),
            strategy: risk::strategy_name(s.strategy).into(),
            diff_summary: format!(
                "{} template on {}:{} (+{} −{})",
                plan.template, plan.file, plan.line, plan.lines_added, plan.lines_removed
            ),
            gates_summary: self.found.gates_summary.clone(),
        })?;
        let timeout = Duration::from_millis(pol.timeout_ms);
        match self.wait_for_decision(timeout)? {
            Some(Command::Approve { actor, comment }) => {
                self.emit(EventKind::Approval {
                    decision: "approve".into(),
                    actor,
                    comment,
                })?;
                Ok(())
            }
            Some(Command::Reject { actor, comment }) => {
                self.emit(EventKind::Approval {
                    decision: "reject".into(),
                    actor: actor.clone(),
                    comment: comment.clone(),
                })?;
                self.go(State::Rejected)?;
                Err(Stop::new(
                    Outcome::Rejected,
                    if comment.is_empty() {
                        format!("rejected by {actor}; nothing deployed")
                    } else {
                        format!("rejected by {actor} (“{comment}”); nothing deployed")
                    },
                ))
            }
            _ => {
                self.go(State::Escalated)?;
                Err(Stop::new(
                    Outcome::Escalated,
                    format!(
                        "no decision within {} s: escalated to a human, nothing deployed",
                        pol.timeout_ms / 1000
                    ),
                ))
            }
        }
    }
}

fn gates_justification(results: &[GateOutcome]) -> Justification {
    let passed = results.iter().filter(|g| g.passed).count();
    let mut j = Justification::new(
        "safety_gates",
        if passed == results.len() {
            "proceed"
        } else {
            "block"
        },
    )
    .input("gates", results.len())
    .input("passed", passed);
    for g in results {
        j = j.constraint(format!("{}: {}", g.gate, g.reason));
    }
    j.reasoning(format!("{passed}/{} gates passed", results.len()))
        .confidence(1.0)
}
