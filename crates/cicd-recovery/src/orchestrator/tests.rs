//! The orchestrator on the shipped trees: the seven phases in order with their steps; production
//! pauses for approval where staging does not; a zero-downtime violation is refused with its
//! reason.

use super::*;
use crate::actions::SimulatedActions;
use crate::categorizer::Categorizer;
use crate::exec::{AutoApprover, GateAnswer, GateRequest};
use std::sync::Mutex;

fn case(logs: &[&str], metadata: &[(&str, &str)]) -> RecoveryCase {
    let mut input = FailureInput::default();
    for l in logs {
        input.push_log(l);
    }
    for (k, v) in metadata {
        input.fact(k, *v);
    }
    let cat = Categorizer::embedded().unwrap().categorize(&input);
    RecoveryCase::new("REC-test".into(), input, cat, "production")
}

fn bad_deploy(env: &str) -> RecoveryCase {
    case(
        &[
            "Error: environment variable DATABASE_URL is not set",
            "deployment shop-api: all pods unavailable",
        ],
        &[
            ("kind", "deployment_failed"),
            ("environment", env),
            ("project", "shop/api"),
        ],
    )
}

struct Counting {
    asked: Mutex<Vec<String>>,
    answer: AutoApprover,
}

impl Approver for Counting {
    fn ask(&self, req: &GateRequest) -> GateAnswer {
        self.asked.lock().unwrap().push(req.node.clone());
        self.answer.ask(req)
    }
}

fn run(c: &RecoveryCase, answer: AutoApprover) -> (RecoveryReport, Vec<String>) {
    let trees = TreeSet::embedded().unwrap();
    let approver = Counting {
        asked: Mutex::new(Vec::new()),
        answer,
    };
    let actions = SimulatedActions::new();
    let policies = Policies::default();
    let o = Orchestrator {
        trees: &trees,
        actions: &actions,
        approver: &approver,
        policies: &policies,
    };
    let report = o.run(c, None, &|_| {});
    let asked = approver.asked.lock().unwrap().clone();
    (report, asked)
}

fn statuses(r: &RecoveryReport) -> Vec<(Phase, PhaseStatus)> {
    r.phases.iter().map(|p| (p.phase, p.status)).collect()
}

#[test]
fn a_recovered_case_walks_the_seven_phases_in_order() {
    let (r, asked) = run(&bad_deploy("production"), AutoApprover::Approve);
    assert_eq!(r.tree.as_deref(), Some("rollback-on-deploy-failure"));
    assert_eq!(r.outcome, Outcome::Recovered);
    use PhaseStatus::*;
    assert_eq!(
        statuses(&r),
        [
            (Phase::Preparation, Done),
            (Phase::ImmediateResponse, Done),
            (Phase::Stabilization, Skipped),
            (Phase::Validation, Done),
            (Phase::Optimization, Skipped),
            (Phase::Cleanup, Done),
            (Phase::PostRecovery, Done),
        ]
    );
    // Steps never go back a phase, and every step is in exactly one phase.
    let phases: Vec<Phase> = r.trace.iter().map(|e| e.phase).collect();
    assert!(phases.windows(2).all(|w| w[0] <= w[1]), "{phases:?}");
    let listed: usize = r.phases.iter().map(|p| p.steps.len()).sum();
    assert_eq!(listed, r.trace.len());
    let nodes: Vec<&str> = r.trace.iter().map(|e| e.node.as_str()).collect();
    assert_eq!(
        nodes,
        [
            ORCHESTRATOR,
            "prepare",
            "snapshot",
            "notify",
            "prepare",
            "assess",
            "approve_rollback",
            "rollback",
            "verify",
            "health",
            "smoke",
            "verify",
            "cleanup",
            "report",
            "done",
            ORCHESTRATOR
        ]
    );
    assert!(r.trace[0].detail.starts_with(
        "configuration/critical (confidence 1) → tree `rollback-on-deploy-failure`; production policy (production): approval before disruptive steps, capacity floor 75%, capacity unknown"
    ), "{}", r.trace[0].detail);
    assert_eq!(asked, ["approve_rollback"]);
    assert_eq!(
        r.trace.last().map(|e| e.detail.as_str()),
        Some("recovered: the previous version is serving and its checks are green")
    );
}

#[test]
fn production_pauses_for_approval_and_staging_does_not() {
    let (prod, asked) = run(&bad_deploy("production"), AutoApprover::Reject);
    assert_eq!(asked, ["approve_rollback"]);
    assert_eq!(prod.outcome, Outcome::Escalated);
    assert_eq!(
        statuses(&prod)[..3],
        [
            (Phase::Preparation, PhaseStatus::Stopped),
            (Phase::ImmediateResponse, PhaseStatus::NotReached),
            (Phase::Stabilization, PhaseStatus::NotReached),
        ]
    );

    let (staging, asked) = run(&bad_deploy("staging"), AutoApprover::Reject);
    assert!(asked.is_empty(), "staging asked {asked:?}");
    assert_eq!(staging.outcome, Outcome::Recovered);
    let gate = staging
        .trace
        .iter()
        .find(|e| e.node == "approve_rollback")
        .unwrap();
    assert_eq!(gate.result, StepResult::Skipped);
    assert_eq!(
        gate.detail,
        "staging policy does not require approval → rollback"
    );
}

#[test]
fn a_zero_downtime_violation_is_refused_with_its_reason() {
    let c = case(
        &["Warning  FailedScheduling  0/3 nodes are available"],
        &[
            ("replicas", "4"),
            ("healthy_replicas", "3"),
            ("environment", "production"),
        ],
    );
    let (r, _) = run(&c, AutoApprover::Approve);
    assert_eq!(r.tree.as_deref(), Some("infra-escalate"));
    let refused = r
        .trace
        .iter()
        .find(|e| e.result == StepResult::Refused)
        .unwrap();
    assert_eq!(refused.node, "restart");
    assert_eq!(
        refused.detail,
        "zero-downtime: would leave 2 of 4 instances serving (50%); production keeps at least 75%"
    );
    assert_eq!(r.outcome, Outcome::Escalated);
    assert_eq!(
        r.reason,
        "escalated to platform: the platform did not recover automatically"
    );
    // Nothing disruptive ran: the refusal came before the policy gate.
    assert!(r
        .trace
        .iter()
        .all(|e| e.kind != "policy_gate" && e.node != "scale"));

    // The same failure in development (only the last instance is protected) restarts.
    let dev = case(
        &["Warning  FailedScheduling  0/3 nodes are available"],
        &[
            ("replicas", "4"),
            ("healthy_replicas", "3"),
            ("environment", "dev"),
        ],
    );
    let (r, asked) = run(&dev, AutoApprover::Nobody);
    assert!(asked.is_empty());
    assert_eq!(r.outcome, Outcome::Recovered);
}

#[test]
fn uncertain_failures_go_to_a_human_and_the_render_is_phase_by_phase() {
    let c = case(&["something odd happened"], &[("kind", "pipeline_failed")]);
    let (r, _) = run(&c, AutoApprover::Nobody);
    assert_eq!(r.tree.as_deref(), Some("escalate-unknown"));
    assert_eq!(r.outcome, Outcome::Escalated);
    assert_eq!(
        r.reason,
        "escalated to oncall: the failure could not be categorized with confidence"
    );
    let text = render(&r);
    let first: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with(' '))
        .map(|l| l.split_whitespace().next().unwrap_or(""))
        .collect();
    assert_eq!(
        first,
        [
            "recovery",
            "preparation",
            "immediate_response",
            "stabilization",
            "validation",
            "optimization",
            "cleanup",
            "post_recovery",
            "outcome:"
        ]
    );
}
