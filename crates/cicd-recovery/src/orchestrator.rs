//! The recovery orchestrator: one case from plan to report, in the seven phases. It chooses the
//! decision tree, states the plan and the environment's policy as the first step (preparation),
//! runs the tree under that policy, and closes with a summary (post-recovery); in between, each
//! action lands in its own phase. The report lists all seven phases in order with what happened
//! in each — done, stopped (where a case that did not recover ended), skipped (passed over) or
//! not reached — so an operator sees at a glance how far recovery got.

use super::actions::RecoveryActions;
use super::case::FailureInput;
use super::categorizer::Categorization;
use super::exec::{self, Approver, Context, Outcome, StepResult, Trace, TraceEntry};
use super::expr::{Facts, Value};
use super::phase::Phase;
use super::policy::{Capacity, EnvClass, EnvPolicy, Policies};
use super::tree::{Tree, TreeSet};
use serde::Serialize;
use std::collections::BTreeMap;

/// One recovery case: a failure, how it was categorized, and where it happened.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecoveryCase {
    /// Case id (`REC-…`).
    pub id: String,
    /// The evidence.
    pub input: FailureInput,
    /// The categorizer's answer.
    pub categorization: Categorization,
    /// Environment name (`production` when the failure does not name one).
    pub environment: String,
}

impl RecoveryCase {
    /// A case whose environment is the failure's own (`metadata.environment`) or `default_env`.
    pub fn new(
        id: String,
        input: FailureInput,
        categorization: Categorization,
        default_env: &str,
    ) -> Self {
        let environment = input
            .metadata
            .get("environment")
            .cloned()
            .unwrap_or_else(|| default_env.to_string());
        RecoveryCase {
            id,
            input,
            categorization,
            environment,
        }
    }

    /// Serving capacity from `metadata.replicas` / `metadata.healthy_replicas`.
    pub fn capacity(&self) -> Option<Capacity> {
        let m = &self.input.metadata;
        Capacity::from_facts(
            m.get("replicas").map(String::as_str),
            m.get("healthy_replicas").map(String::as_str),
        )
    }

    /// What conditions see: the fields of `expr::FIELDS` and `metadata.<key>`.
    pub fn facts(&self) -> Facts {
        let c = &self.categorization;
        let mut f = Facts::new();
        for (k, v) in &self.input.metadata {
            f.insert(format!("metadata.{k}"), Value::Str(v.clone()));
            let is_field = super::expr::FIELDS.contains(&k.as_str());
            if is_field {
                let value = match v.trim().parse::<f64>() {
                    Ok(n) if k.ends_with("replicas") => Value::Num(n),
                    _ => Value::Str(v.clone()),
                };
                f.insert(k.clone(), value);
            }
        }
        f.insert("category".into(), Value::Str(c.category.as_str().into()));
        f.insert("severity".into(), Value::Sev(c.severity));
        f.insert("confidence".into(), Value::Num(c.confidence));
        f.insert("environment".into(), Value::Str(self.environment.clone()));
        f
    }

    /// What actions are told: every metadata fact plus category, severity, confidence and
    /// environment.
    pub fn action_facts(&self) -> BTreeMap<String, String> {
        let c = &self.categorization;
        let mut f = self.input.metadata.clone();
        f.insert("category".into(), c.category.as_str().into());
        f.insert("severity".into(), c.severity.as_str().into());
        f.insert("confidence".into(), c.confidence.to_string());
        f.insert("environment".into(), self.environment.clone());
        f
    }
}

/// How far a phase got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PhaseStatus {
    /// Its steps ran and the case went on (or recovered).
    Done,
    /// The case ended here without recovering.
    Stopped,
    /// The case passed it with no steps.
    Skipped,
    /// The case ended before it.
    NotReached,
}

/// One phase in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PhaseReport {
    /// Which.
    pub phase: Phase,
    /// How far it got.
    pub status: PhaseStatus,
    /// Its steps (trace `seq`s).
    pub steps: Vec<usize>,
}

/// The whole recovery, for humans, JSON and the audit log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecoveryReport {
    /// Case id.
    pub case_id: String,
    /// Tree run (`None` when no tree takes the case).
    pub tree: Option<String>,
    /// File the tree came from.
    pub tree_source: Option<String>,
    /// Environment name.
    pub environment: String,
    /// Its class.
    pub env_class: EnvClass,
    /// The policy applied.
    pub policy: EnvPolicy,
    /// Capacity, when known.
    pub capacity: Option<Capacity>,
    /// How it ended.
    pub outcome: Outcome,
    /// Why.
    pub reason: String,
    /// The seven phases, in order.
    pub phases: Vec<PhaseReport>,
    /// Every step.
    pub trace: Vec<TraceEntry>,
}

/// Runs cases: the trees to choose from, who acts, who approves, and the policies.
pub struct Orchestrator<'a> {
    /// Trees to choose from.
    pub trees: &'a TreeSet,
    /// Who acts.
    pub actions: &'a dyn RecoveryActions,
    /// Who answers gates.
    pub approver: &'a dyn Approver,
    /// Per-environment policies.
    pub policies: &'a Policies,
}

/// The orchestrator's own node name in the trace.
pub const ORCHESTRATOR: &str = "(orchestrator)";

impl Orchestrator<'_> {
    /// The tree that would run `case` (highest priority among those that take it).
    pub fn choose<'t>(&'t self, case: &RecoveryCase) -> Option<&'t Tree> {
        let c = &case.categorization;
        self.trees.choose(c.category, c.severity, &case.facts())
    }

    /// Run `case` with `tree` (or the chosen one), telling `observer` of each step as it lands.
    pub fn run(
        &self,
        case: &RecoveryCase,
        tree: Option<&Tree>,
        observer: &(dyn Fn(&TraceEntry) + Sync),
    ) -> RecoveryReport {
        let tree = tree.or_else(|| self.choose(case));
        let policy = self.policies.for_env(&case.environment).clone();
        let env_class = EnvClass::of(&case.environment);
        let capacity = case.capacity();
        let c = &case.categorization;
        let mut trace = Trace::new(observer);
        let plan = format!(
            "{}/{} (confidence {}) → tree {}; {} policy ({}): {}, capacity floor {}%{}",
            c.category,
            c.severity,
            c.confidence,
            tree.map_or("(none)".to_string(), |t| format!("`{}`", t.name)),
            case.environment,
            env_class.as_str(),
            if policy.requires_approval {
                "approval before disruptive steps"
            } else {
                "no approvals required"
            },
            policy.min_capacity_pct,
            capacity.map_or(", capacity unknown".to_string(), |c| format!(
                ", {} of {} instances healthy",
                c.healthy, c.total
            )),
        );
        trace.push(ORCHESTRATOR, "plan", StepResult::Planned, plan, 0);
        let (outcome, reason) = match tree {
            Some(t) => {
                let facts = case.facts();
                let action_facts = case.action_facts();
                let ctx = Context {
                    case_id: &case.id,
                    env: &case.environment,
                    policy: &policy,
                    capacity,
                    facts: &facts,
                    action_facts: &action_facts,
                    actions: self.actions,
                    approver: self.approver,
                };
                exec::execute(t, &ctx, &mut trace)
            }
            None => (
                Outcome::Escalated,
                "no decision tree takes this case".to_string(),
            ),
        };
        let stopped_in = trace.phase();
        trace.enter(Phase::PostRecovery);
        let t0 = trace
            .entries()
            .last()
            .map_or(0, |e| e.started_ms + e.duration_ms);
        trace.push(
            ORCHESTRATOR,
            "summary",
            StepResult::Summary,
            format!("{}: {reason}", outcome.as_str()),
            t0,
        );
        let trace = trace.into_entries();
        let phases = phase_reports(&trace, outcome, stopped_in);
        RecoveryReport {
            case_id: case.id.clone(),
            tree: tree.map(|t| t.name.clone()),
            tree_source: tree.map(|t| t.source.clone()),
            environment: case.environment.clone(),
            env_class,
            policy,
            capacity,
            outcome,
            reason,
            phases,
            trace,
        }
    }
}

fn phase_reports(trace: &[TraceEntry], outcome: Outcome, stopped_in: Phase) -> Vec<PhaseReport> {
    Phase::ALL
        .into_iter()
        .map(|phase| {
            let steps: Vec<usize> = trace
                .iter()
                .filter(|e| e.phase == phase)
                .map(|e| e.seq)
                .collect();
            let status = if phase == Phase::PostRecovery {
                PhaseStatus::Done
            } else if phase == stopped_in && outcome != Outcome::Recovered {
                PhaseStatus::Stopped
            } else if !steps.is_empty() {
                PhaseStatus::Done
            } else if phase < stopped_in || outcome == Outcome::Recovered {
                PhaseStatus::Skipped
            } else {
                PhaseStatus::NotReached
            };
            PhaseReport {
                phase,
                status,
                steps,
            }
        })
        .collect()
}

/// The report as text, phase by phase, for `ccp recovery run`.
pub fn render(report: &RecoveryReport) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "recovery {} — tree {} — {} ({})",
        report.case_id,
        report.tree.as_deref().unwrap_or("(none)"),
        report.environment,
        report.env_class.as_str()
    );
    for p in &report.phases {
        let status = serde_json::to_value(p.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let _ = writeln!(out, "{:<19} {status}", p.phase.as_str());
        for seq in &p.steps {
            if let Some(e) = report.trace.get(*seq) {
                let result = serde_json::to_value(e.result)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                let branch = e
                    .branch
                    .as_deref()
                    .map_or(String::new(), |b| format!(" [{b}]"));
                let _ = writeln!(
                    out,
                    "  {:>3} {:<12} {:<22} {:<10} {}{branch}",
                    e.seq, e.kind, e.node, result, e.detail
                );
            }
        }
    }
    let _ = writeln!(
        out,
        "outcome: {} — {}",
        report.outcome.as_str(),
        report.reason
    );
    out
}

#[cfg(test)]
mod tests;
