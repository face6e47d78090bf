//! Safety gates and the human approval step.

use super::{Pipeline, Step, Stop};
use crate::conflict::{self, Conflict, ConflictKind, ConflictLimits, GraphView, Operation};
use crate::domain::{CheckKind, FixPlan, Outcome, Severity, Strategy};
use crate::events::{Command, EndCause, EventKind, GateOutcome, PauseRule};
use crate::explain::Justification;
use crate::gates;
use crate::override_rules::{self, OverrideInputs};
use crate::ports::FixCommitRequest;
use crate::risk::{self, RiskInputs};
use crate::state::State;
use std::time::{Duration, Instant};

/// Longest line the lint accepts in added code.
const LINT_MAX_LINE: usize = 120;

impl Pipeline {
    /// Run every gate; any hard failure ends in GATES_FAILED, a failed error-budget gate asks a
    /// human at the approval step instead. Passing registers the operation (intent to deploy).
    pub(super) fn run_gates(&mut self) -> Step<()> {
        let Some(plan) = self.found.plan.clone() else {
            return Err(Stop::new(
                Outcome::Failed,
                EndCause::Internal,
                "internal: no fix plan",
            ));
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
            let g = self.tool_or_heuristic(&service, &plan, CheckKind::Lint);
            results.push(self.gate_step(g)?);
        }
        if self.settings.run_security {
            let g = self.tool_or_heuristic(&service, &plan, CheckKind::Security);
            results.push(self.gate_step(g)?);
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
                    EndCause::BackendUnavailable {
                        port: "policy".into(),
                    },
                    format!("policy inputs unavailable: {e}"),
                )
            })?;
        self.found.policy = Some(policy.clone());
        for pg in gates::policy_gates(&policy, blast, fleet, &self.settings.gates) {
            results.push(self.gate_step(pg)?);
        }
        // A failed soft gate (the error budget) becomes an override reason: a human may still
        // approve. Every other failure blocks.
        self.found.error_budget_exhausted = results
            .iter()
            .find(|g| !g.passed && gates::is_soft(&g.gate))
            .map(|g| g.reason.clone());
        let failed: Vec<&GateOutcome> = results
            .iter()
            .filter(|g| !g.passed && !gates::is_soft(&g.gate))
            .collect();
        self.emit(EventKind::Decision {
            justification: gates_justification(&results),
        })?;
        let passed = results.iter().filter(|g| g.passed).count();
        self.found.gates_summary = format!("{passed}/{} gates passed", results.len());
        if passed + failed.len() < results.len() {
            self.found
                .gates_summary
                .push_str(" (a failed error_budget gate needs a human)");
        }
        if !failed.is_empty() {
            let failed_gates = failed.iter().map(|g| g.gate.clone()).collect();
            let names = failed
                .iter()
                .map(|g| format!("{} ({})", g.gate, g.reason))
                .collect::<Vec<_>>()
                .join("; ");
            self.go(State::GatesFailed)?;
            return Err(Stop::new(
                Outcome::Failed,
                EndCause::GatesFailed {
                    gates: failed_gates,
                },
                format!("safety gates failed, nothing deployed: {names}"),
            ));
        }
        self.go(State::GatesPassed)?;
        self.commit_fix(&plan)?;
        self.register_operation()
    }

    /// Lint or security scan: the configured tool when the check runner has one for this patch
    /// (its summary names the command), else the in-process heuristic over the added lines (its
    /// reason says so).
    fn tool_or_heuristic(&self, service: &str, plan: &FixPlan, kind: CheckKind) -> GateOutcome {
        if self.ports.checks.handles(service, plan, kind) {
            let report = self.ports.checks.run(service, plan, kind);
            return gates::check_gate(kind.as_str(), &report);
        }
        match kind {
            CheckKind::Security => gates::security_gate(&plan.diff),
            _ => gates::lint_gate(&plan.diff, LINT_MAX_LINE),
        }
    }

    /// Commit the fix that passed the gates on `ccp/fix-<incident>`, so the change exists in git
    /// (reviewable while the human decides, and deployable by commit id) and the audit log links
    /// incident and commit. A repository that cannot commit is noted, not fatal: the patch is in
    /// the audit log either way, and the deployer says if it needs a commit.
    fn commit_fix(&mut self, plan: &FixPlan) -> Step<()> {
        let req = FixCommitRequest {
            incident: self.incident_id.clone(),
            branch: fix_branch(&self.incident_id),
            file: plan.file.clone(),
            new_source: plan.new_source.clone(),
            message: self.fix_commit_message(plan),
            time_unix: self.ports.clock.now_ms().div_euclid(1000),
        };
        match self.ports.repo.commit_fix(&req) {
            Ok(Some(c)) => {
                self.emit(EventKind::FixCommitted {
                    branch: c.branch.clone(),
                    commit: c.commit.clone(),
                    file: plan.file.clone(),
                    reused: c.reused,
                    pushed_to: c.pushed_to.clone(),
                    push_error: c.push_error.clone(),
                })?;
                self.found.fix_commit = Some(c);
            }
            Ok(None) => {}
            Err(e) => self.emit(EventKind::Note {
                message: format!(
                    "could not commit the fix on {} ({e}); continuing without a fix commit (the patch is in the audit log)",
                    req.branch
                ),
            })?,
        }
        Ok(())
    }

    /// Summary line saying what was fixed; body linking the incident, the fault, the root cause
    /// and the gates, so `git log` alone explains the commit.
    fn fix_commit_message(&self, plan: &FixPlan) -> String {
        let service = self.root_service();
        let loc = self.found.location.as_ref();
        let exception = loc
            .map(|l| l.exception.as_str())
            .filter(|e| !e.is_empty())
            .unwrap_or("fault");
        let base = plan.file.rsplit('/').next().unwrap_or(&plan.file);
        let mut m = format!(
            "fix({service}): {exception} at {base}:{} ({})

{}

Incident: {}
Template: {}
Location: {}:{}",
            plan.line,
            plan.template,
            plan.description,
            self.incident_id,
            plan.template,
            plan.file,
            plan.line
        );
        if let Some(l) = loc {
            if !l.function.is_empty() {
                m.push_str(&format!(" in {}()", l.function));
            }
            m.push_str(&format!(
                "
Error: {}: {}",
                l.exception, l.message
            ));
            if let Some(c) = &l.blame_commit {
                m.push_str(&format!(
                    "
Line last changed in: {c}"
                ));
                if let Some(a) = &l.blame_author {
                    m.push_str(&format!(" by {a}"));
                }
            }
        }
        if let Some(c) = self.found.rca.first() {
            m.push_str(&format!(
                "
Root cause: {}{} (confidence {:.0}%)",
                c.service,
                c.commit
                    .as_deref()
                    .map(|x| format!(" @ {x}"))
                    .unwrap_or_default(),
                c.confidence * 100.0
            ));
        }
        if !self.found.gates_summary.is_empty() {
            m.push_str(&format!(
                "
Gates: {}",
                self.found.gates_summary
            ));
        }
        m.push_str(
            "

Committed by ccp on its own branch; HEAD is unchanged. Review before merging.
",
        );
        m
    }

    /// Announce the intent to deploy in the operations registry, so operations that reach their
    /// approval after this one see it. Registering before reading `active()` (in
    /// [`Pipeline::detect_conflicts`]) means two concurrent operations cannot both miss each other.
    fn register_operation(&mut self) -> Step<()> {
        let service = self.root_service();
        let resources = self
            .ports
            .graph
            .nodes()
            .map_err(|e| {
                Stop::new(
                    Outcome::Escalated,
                    EndCause::BackendUnavailable {
                        port: "registry".into(),
                    },
                    format!("conflict inputs unavailable: {e}"),
                )
            })?
            .into_iter()
            .find(|n| n.name == service)
            .map(|n| n.resources)
            .unwrap_or_default();
        let op = Operation::new(
            self.incident_id.clone(),
            service,
            resources,
            self.ports.clock.now_ms(),
            self.state().as_str(),
        );
        match self.ports.registry.register(&op) {
            Ok(()) => self.found.registered = true,
            Err(e) => {
                self.found.registry_error = Some(e.to_string());
                self.emit(EventKind::Note {
                    message: format!(
                        "could not register the operation ({e}): conflicts with other operations are unknown, so a human will be asked"
                    ),
                })?;
            }
        }
        self.found.operation = Some(op);
        Ok(())
    }

    /// Compare this operation with every other one in flight and record why in a justification.
    fn detect_conflicts(&mut self) -> Step<Vec<Conflict>> {
        let limits = ConflictLimits {
            max_concurrent: self.settings.max_concurrent_operations,
        };
        let op = self.found.operation.clone();
        let active = match (&op, &self.found.registry_error) {
            (Some(_), None) => match self.ports.registry.active() {
                Ok(a) => Some(a),
                Err(e) => {
                    self.found.registry_error = Some(e.to_string());
                    None
                }
            },
            _ => None,
        };
        let (Some(op), Some(active)) = (op, active) else {
            let why = self
                .found
                .registry_error
                .clone()
                .unwrap_or_else(|| "no operation registered".into());
            self.emit(EventKind::Decision {
                justification: Justification::new("conflict_detection", "unknown: ask a human")
                    .input("registry_error", &why)
                    .reasoning(format!(
                        "the operations registry could not be read ({why}), so other operations in flight are unknown"
                    ))
                    .confidence(0.0),
            })?;
            return Ok(Vec::new());
        };
        let edges = self.ports.graph.edges().map_err(|e| {
            Stop::new(
                Outcome::Escalated,
                EndCause::BackendUnavailable {
                    port: "graph".into(),
                },
                format!("conflict detection could not read the dependency graph: {e}"),
            )
        })?;
        let conflicts = conflict::detect_conflicts(&op, &active, &GraphView::new(&edges), limits);
        // Who came first, for the stand-down rule: of two operations on one service, only the
        // later one stands down (both see each other when they register at the same moment).
        self.found.earlier_operations = active
            .iter()
            .filter(|o| {
                o.incident != op.incident
                    && (o.started_ms, o.incident.as_str()) < (op.started_ms, op.incident.as_str())
            })
            .map(|o| o.incident.clone())
            .collect();
        let others: Vec<String> = active
            .iter()
            .filter(|o| o.incident != op.incident)
            .map(|o| format!("{} on {} ({})", o.incident, o.service, o.phase))
            .collect();
        let pauses = conflicts.iter().any(Conflict::needs_human);
        let mut j = Justification::new(
            "conflict_detection",
            match (conflicts.is_empty(), pauses) {
                (true, _) => "no conflicts".to_string(),
                (false, true) => format!(
                    "{} conflict(s), worst {}: pause for human review",
                    conflicts.len(),
                    conflicts[0].severity
                ),
                (false, false) => format!(
                    "{} low-severity conflict(s): proceed",
                    conflicts.len()
                ),
            },
        )
        // Without the registration time: justifications of seeded runs must repeat exactly.
        .input("service", &op.service)
        .input("resources", &op.resources)
        .input("scope", op.scope)
        .input("active_operations", &others)
        .input("conflicts", &conflicts)
        .input("max_concurrent_operations", limits.max_concurrent)
        .constraint(format!(
            "severity by kind: {}",
            ConflictKind::ALL
                .iter()
                .map(|k| format!("{} {}", k.as_str(), k.severity()))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .constraint("HIGH or CRITICAL pauses for a human")
        .constraint("direct and dependency conflicts also take the other service's lock, so the two deploys never overlap");
        if !others.is_empty() && conflicts.is_empty() {
            j = j.alternative("treat every concurrent operation as a conflict: rejected, unrelated services would queue for nothing");
        }
        let reasoning = if others.is_empty() {
            "no other operation in flight".to_string()
        } else if conflicts.is_empty() {
            format!(
                "{} other operation(s) in flight, none related to {}",
                others.len(),
                op.service
            )
        } else {
            conflicts
                .iter()
                .map(|c| format!("{} ({}): {}", c.kind.as_str(), c.severity, c.detail))
                .collect::<Vec<_>>()
                .join("; ")
        };
        self.emit(EventKind::Decision {
            justification: j.reasoning(reasoning).confidence(1.0),
        })?;
        Ok(conflicts)
    }

    fn gate_step(&mut self, g: GateOutcome) -> Step<GateOutcome> {
        self.emit(EventKind::GateResult(g.clone()))?;
        self.pace(self.settings.pacing.gate_ms)?;
        Ok(g)
    }

    /// Risk inputs plus blast radius size and fleet size.
    fn risk_inputs(&self, plan: &FixPlan) -> Step<(RiskInputs, usize, usize)> {
        let service = self.root_service();
        let err = |e: crate::ports::PortError| {
            Stop::new(
                Outcome::Escalated,
                EndCause::BackendUnavailable {
                    port: "graph".into(),
                },
                format!("risk inputs unavailable: {e}"),
            )
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
            .unwrap_or(crate::domain::Severity::High);
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
            return Err(Stop::new(
                Outcome::Failed,
                EndCause::Internal,
                "internal: no fix plan",
            ));
        };
        let (inputs, blast, _) = self.risk_inputs(&plan)?;
        let s = risk::strategy_score(&inputs, self.settings.strategy);
        self.emit(EventKind::Decision {
            justification: s.justification.clone(),
        })?;
        self.found.strategy = Some(s.strategy);
        let conflicts = self.detect_conflicts()?;
        self.found.conflicts = conflicts.clone();
        // The seed's rule for two operations on the same service: the second stands down. Its fix
        // would land on code the first is already changing, and one fix at a time is what the
        // canary comparison can attribute; a human decides whether anything is left to do.
        if let Some(c) = conflicts.iter().find(|c| {
            c.kind == ConflictKind::Direct
                && self.found.earlier_operations.contains(&c.other_incident)
        }) {
            self.go(State::Escalated)?;
            return Err(Stop::new(
                Outcome::Escalated,
                EndCause::StoodDown {
                    other_incident: c.other_incident.clone(),
                    other_service: c.other_service.clone(),
                },
                format!(
                    "{} is already remediating {} ({}): this operation stands down, nothing deployed; a human decides whether anything is left to do",
                    c.other_incident, c.other_service, c.detail
                ),
            ));
        }
        let pol = self.settings.approval.clone();
        let consecutive_failures = self
            .found
            .policy
            .as_ref()
            .map(|p| p.consecutive_failures)
            .unwrap_or(0);
        let rca_confidence = self.found.rca.first().map(|c| c.confidence).unwrap_or(0.0);
        let overrides = override_rules::override_reasons(
            &OverrideInputs {
                conflicts: &conflicts,
                error_budget_exhausted: self.found.error_budget_exhausted.as_deref(),
                consecutive_failures,
                blast_radius_services: blast,
                rca_confidence,
            },
            &pol,
        );
        let mut reasons: Vec<String> = overrides.iter().map(|r| r.message.clone()).collect();
        let mut rules: Vec<PauseRule> = overrides.iter().map(|r| r.fact.clone()).collect();
        if let Some(e) = &self.found.registry_error {
            rules.push(PauseRule::RegistryUnavailable);
            reasons.push(format!(
                "operations registry unavailable ({e}): a human must check that no other operation is changing related services"
            ));
        }
        if s.strategy == Strategy::ManualReview {
            rules.push(PauseRule::RiskManualReview {
                score: gates::round3(s.score),
                line: self.settings.strategy.manual_review,
            });
            reasons.push(format!(
                "risk score {:.2} is above the manual-review line {:.2}",
                s.score, self.settings.strategy.manual_review
            ));
        }
        if pol.production
            && pol.require_for_production
            && inputs.criticality >= pol.criticality_threshold
        {
            rules.push(PauseRule::ProductionPolicy {
                service: self.root_service(),
                criticality: inputs.criticality,
                threshold: pol.criticality_threshold,
            });
            reasons.push(format!(
                "production policy: {} has criticality {:.2} ≥ {:.2}, so changes need a human",
                self.root_service(),
                inputs.criticality,
                pol.criticality_threshold
            ));
        }
        let needs_human = !reasons.is_empty();
        self.emit(EventKind::Decision {
            justification: Justification::new(
                "approval_policy",
                if needs_human {
                    "pause for human review"
                } else {
                    "proceed automatically"
                },
            )
            .input("strategy", risk::strategy_name(s.strategy))
            .input("risk_score", s.score)
            .input("criticality", inputs.criticality)
            .input("blast_radius_services", blast)
            .input("rca_confidence", rca_confidence)
            .input("consecutive_failures", consecutive_failures)
            .input(
                "error_budget_exhausted",
                self.found.error_budget_exhausted.is_some(),
            )
            .input("conflicts", conflicts.len())
            .input(
                "override_rules",
                overrides
                    .iter()
                    .map(|r| r.rule.as_str())
                    .collect::<Vec<_>>(),
            )
            .constraint(override_rules::describe(&pol))
            .constraint("production policy: critical services need approval")
            .reasoning(if needs_human {
                reasons.join("; ")
            } else {
                "no override condition holds".into()
            }),
        })?;
        if !needs_human {
            return Ok(());
        }
        self.go(State::PausedForHumanReview)?;
        let critical = self
            .found
            .incident
            .as_ref()
            .is_some_and(|i| i.severity == Severity::Critical);
        let required = pol.two_person.approvers(critical);
        let expires_ms = self
            .ports
            .clock
            .now_ms()
            .saturating_add(i64::try_from(pol.timeout_ms).unwrap_or(i64::MAX));
        self.emit(EventKind::AwaitingApproval {
            reasons,
            rules,
            risk_score: gates::round3(s.score),
            strategy: risk::strategy_name(s.strategy).into(),
            diff_summary: format!(
                "{} template on {}:{} (+{} −{})",
                plan.template, plan.file, plan.line, plan.lines_added, plan.lines_removed
            ),
            gates_summary: self.found.gates_summary.clone(),
            approvals_required: required,
            expires_at: Some(crate::clock::rfc3339(expires_ms)),
        })?;
        // The whole request expires at once: a first approval does not restart the clock.
        let deadline = Instant::now() + Duration::from_millis(pol.timeout_ms);
        let mut approvers: Vec<String> = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.wait_for_decision(left)? {
                Some(Command::Approve { actor, comment }) => {
                    if approvers.contains(&actor) {
                        self.emit(EventKind::Note {
                            message: format!(
                                "{actor} has already approved: the two-person rule needs {required} different approvers"
                            ),
                        })?;
                        continue;
                    }
                    approvers.push(actor.clone());
                    let given = u8::try_from(approvers.len()).unwrap_or(u8::MAX);
                    if given < required {
                        self.emit(EventKind::ApprovalCounted {
                            actor,
                            comment,
                            given,
                            required,
                        })?;
                        continue;
                    }
                    self.emit(EventKind::Approval {
                        decision: "approve".into(),
                        actor,
                        comment,
                    })?;
                    return Ok(());
                }
                Some(Command::Reject { actor, comment }) => {
                    self.emit(EventKind::Approval {
                        decision: "reject".into(),
                        actor: actor.clone(),
                        comment: comment.clone(),
                    })?;
                    self.go(State::Rejected)?;
                    return Err(Stop::new(
                        Outcome::Rejected,
                        EndCause::Rejected {
                            actor: actor.clone(),
                        },
                        if comment.is_empty() {
                            format!("rejected by {actor}; nothing deployed")
                        } else {
                            format!("rejected by {actor} (“{comment}”); nothing deployed")
                        },
                    ));
                }
                _ => {
                    self.go(State::Escalated)?;
                    let partial = if approvers.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " ({} of {required} approvals: {})",
                            approvers.len(),
                            approvers.join(", ")
                        )
                    };
                    return Err(Stop::new(
                        Outcome::Escalated,
                        EndCause::ApprovalTimeout,
                        format!(
                            "no decision within {} s{partial}: the request expired and escalated to a human, nothing deployed",
                            pol.timeout_ms / 1000
                        ),
                    ));
                }
            }
        }
    }
}

fn gates_justification(results: &[GateOutcome]) -> Justification {
    let passed = results.iter().filter(|g| g.passed).count();
    let soft = results
        .iter()
        .filter(|g| !g.passed && gates::is_soft(&g.gate))
        .count();
    let outcome = if passed == results.len() {
        "proceed"
    } else if passed + soft == results.len() {
        "proceed to human review"
    } else {
        "block"
    };
    let mut j = Justification::new("safety_gates", outcome)
        .input("gates", results.len())
        .input("passed", passed);
    for g in results {
        j = j.constraint(format!("{}: {}", g.gate, g.reason));
    }
    j = j.constraint("a failed error_budget gate pauses for a human instead of blocking");
    let soft_note = if soft > 0 {
        "; only the error budget failed, which a human may accept"
    } else {
        ""
    };
    j.reasoning(format!(
        "{passed}/{} gates passed{soft_note}",
        results.len()
    ))
    .confidence(1.0)
}

/// The branch a fix is committed on: `ccp/fix-<incident>`, with anything git would refuse in a
/// ref name replaced, so every incident id gives a valid branch.
pub(crate) fn fix_branch(incident: &str) -> String {
    let safe: String = incident
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!(
        "ccp/fix-{}",
        if safe.is_empty() { "unknown" } else { &safe }
    )
}
