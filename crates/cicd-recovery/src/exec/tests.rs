//! A decision tree with a parallel branch and an approval node, run down each of its paths —
//! approved, rejected, timed out — with the trace order asserted exactly; plus the policy gate
//! and the zero-downtime guard in front of actions.

use super::*;
use crate::actions::SimulatedActions;
use crate::category::Severity;
use crate::expr::Value;
use crate::policy::EnvPolicy;
use std::sync::Mutex;

const TREE: &str = "\
name: approval-test
start: prepare
nodes:
  prepare:
    type: parallel
    join: all
    branches: [snapshot, notify]
    next: assess
    on_failure: escalate
  snapshot:
    type: action
    action: snapshot_state
  notify:
    type: action
    action: notify_stakeholders
  assess:
    type: condition
    if: 'severity >= \"high\"'
    then: approve
    else: done
  approve:
    type: approval
    reason: roll back?
    timeout_s: 5
    then: rollback
    else: escalate
    on_timeout: nobody
  rollback:
    type: action
    action: rollback_deployment
    next: done
    on_failure: escalate
  done:
    type: end
  escalate:
    type: escalate
    to: oncall
    reason: not approved
  nobody:
    type: escalate
    to: oncall
    reason: nobody answered
";

/// Answers gates from a script and remembers what it was asked.
struct Scripted {
    answers: Mutex<Vec<GateAnswer>>,
    asked: Mutex<Vec<GateRequest>>,
}

impl Scripted {
    fn new(answers: Vec<GateAnswer>) -> Self {
        Scripted {
            answers: Mutex::new(answers),
            asked: Mutex::new(Vec::new()),
        }
    }
}

impl Approver for Scripted {
    fn ask(&self, req: &GateRequest) -> GateAnswer {
        self.asked.lock().unwrap().push(req.clone());
        let mut a = self.answers.lock().unwrap();
        if a.is_empty() {
            GateAnswer::TimedOut
        } else {
            a.remove(0)
        }
    }
}

fn approve() -> GateAnswer {
    GateAnswer::Approved {
        actor: "alice".into(),
        comment: "go".into(),
    }
}

fn reject() -> GateAnswer {
    GateAnswer::Rejected {
        actor: "bob".into(),
        comment: String::new(),
    }
}

struct Run {
    outcome: Outcome,
    reason: String,
    trace: Vec<TraceEntry>,
}

fn run_with(
    text: &str,
    policy: &EnvPolicy,
    capacity: Option<Capacity>,
    approver: &dyn Approver,
    actions: &dyn RecoveryActions,
) -> Run {
    let tree = Tree::from_str(text, "test.yaml").unwrap();
    let mut facts = Facts::new();
    facts.insert("severity".into(), Value::Sev(Severity::High));
    let action_facts = BTreeMap::from([("project".to_string(), "shop/api".to_string())]);
    let ctx = Context {
        case_id: "REC-1",
        env: "production",
        policy,
        capacity,
        facts: &facts,
        action_facts: &action_facts,
        actions,
        approver,
    };
    let seen = Mutex::new(Vec::new());
    let observer = |e: &TraceEntry| seen.lock().unwrap().push(e.seq);
    let mut trace = Trace::new(&observer);
    let (outcome, reason) = execute(&tree, &ctx, &mut trace);
    let trace = trace.into_entries();
    // The observer saw every entry, in order.
    assert_eq!(*seen.lock().unwrap(), (0..trace.len()).collect::<Vec<_>>());
    Run {
        outcome,
        reason,
        trace,
    }
}

fn run(approver: &dyn Approver) -> Run {
    run_with(
        TREE,
        &EnvPolicy::production(),
        None,
        approver,
        &SimulatedActions::new(),
    )
}

/// (node, result, branch) of every step.
fn path(r: &Run) -> Vec<(&str, StepResult, Option<&str>)> {
    r.trace
        .iter()
        .map(|e| (e.node.as_str(), e.result, e.branch.as_deref()))
        .collect()
}

use StepResult::*;

const PREFIX: [(&str, StepResult, Option<&str>); 5] = [
    ("prepare", Forked, None),
    ("snapshot", Ok, Some("prepare")),
    ("notify", Ok, Some("prepare")),
    ("prepare", Joined, None),
    ("assess", True, None),
];

fn with_prefix<'a>(
    rest: &[(&'a str, StepResult, Option<&'a str>)],
) -> Vec<(&'a str, StepResult, Option<&'a str>)> {
    PREFIX.iter().chain(rest).copied().collect()
}

#[test]
fn approved_path_rolls_back_without_asking_twice() {
    let approver = Scripted::new(vec![approve()]);
    let r = run(&approver);
    assert_eq!(
        path(&r),
        with_prefix(&[
            ("approve", Approved, None),
            ("rollback", Ok, None),
            ("done", Ended, None),
        ])
    );
    assert_eq!(r.outcome, Outcome::Recovered);
    // One question: the approval covered the disruptive rollback.
    let asked = approver.asked.lock().unwrap();
    assert_eq!(asked.len(), 1);
    assert_eq!(
        (
            asked[0].node.as_str(),
            asked[0].reason.as_str(),
            asked[0].policy
        ),
        ("approve", "roll back?", false)
    );
    assert_eq!(asked[0].timeout, Duration::from_secs(5));
    assert_eq!(r.trace[5].detail, "by alice (go) → rollback");
    let report = r.trace[6].report.as_ref().unwrap();
    assert!(report.simulated);
    assert_eq!(r.trace[6].phase, Phase::ImmediateResponse);
    assert_eq!(r.trace[1].phase, Phase::Preparation);
}

#[test]
fn rejected_path_escalates() {
    let r = run(&Scripted::new(vec![reject()]));
    assert_eq!(
        path(&r),
        with_prefix(&[("approve", Rejected, None), ("escalate", Escalated, None)])
    );
    assert_eq!(r.outcome, Outcome::Escalated);
    assert_eq!(r.reason, "escalated to oncall: not approved");
}

#[test]
fn timeout_path_takes_on_timeout() {
    let r = run(&Scripted::new(vec![]));
    assert_eq!(
        path(&r),
        with_prefix(&[("approve", TimedOut, None), ("nobody", Escalated, None)])
    );
    assert_eq!(r.trace[5].detail, "no answer within 5 s → nobody");
    assert_eq!(r.reason, "escalated to oncall: nobody answered");
}

#[test]
fn a_failed_branch_fails_the_join() {
    let actions = SimulatedActions::new().failing(["notify_stakeholders"]);
    let r = run_with(
        TREE,
        &EnvPolicy::production(),
        None,
        &Scripted::new(vec![]),
        &actions,
    );
    assert_eq!(
        path(&r),
        [
            ("prepare", Forked, None),
            ("snapshot", Ok, Some("prepare")),
            ("notify", Failed, Some("prepare")),
            ("prepare", JoinFailed, None),
            ("escalate", Escalated, None),
        ]
    );
    assert_eq!(r.trace[3].detail, "1/2 branches succeeded → escalate");
}

/// The same tree without its gate: the policy asks before the disruptive rollback.
fn ungated() -> String {
    TREE.replace("then: approve\n", "then: rollback\n")
        .replace(
            "  approve:\n    type: approval\n    reason: roll back?\n    timeout_s: 5\n    then: rollback\n    else: escalate\n    on_timeout: nobody\n",
            "",
        )
        .replace("  nobody:\n    type: escalate\n    to: oncall\n    reason: nobody answered\n", "")
}

#[test]
fn production_policy_gates_disruptive_actions_and_staging_does_not() {
    let tree = ungated();
    let approver = Scripted::new(vec![reject()]);
    let r = run_with(
        &tree,
        &EnvPolicy::production(),
        None,
        &approver,
        &SimulatedActions::new(),
    );
    assert_eq!(path(&r), with_prefix(&[("rollback", Rejected, None)]));
    assert_eq!(r.trace[5].kind, "policy_gate");
    assert_eq!(
        r.trace[5].detail,
        "production policy: `rollback_deployment` is disruptive and needs approval; by bob → (stop)"
    );
    assert_eq!(r.outcome, Outcome::Rejected);
    assert!(approver.asked.lock().unwrap()[0].policy);

    let nobody = Scripted::new(vec![]);
    let r = run_with(
        &tree,
        &EnvPolicy::staging(),
        None,
        &nobody,
        &SimulatedActions::new(),
    );
    assert_eq!(
        path(&r),
        with_prefix(&[("rollback", Ok, None), ("done", Ended, None)])
    );
    assert!(nobody.asked.lock().unwrap().is_empty());
}

#[test]
fn zero_downtime_refuses_and_takes_on_failure() {
    let tree = ungated().replace("action: rollback_deployment\n", "action: restart_service\n");
    let r = run_with(
        &tree,
        &EnvPolicy::production(),
        Capacity::from_facts(Some("4"), Some("3")),
        &Scripted::new(vec![approve()]),
        &SimulatedActions::new(),
    );
    assert_eq!(
        path(&r),
        with_prefix(&[("rollback", Refused, None), ("escalate", Escalated, None)])
    );
    assert_eq!(
        r.trace[5].detail,
        "zero-downtime: would leave 2 of 4 instances serving (50%); production keeps at least 75%"
    );
}

#[test]
fn retries_are_one_entry_per_attempt() {
    let tree = ungated().replace(
        "    action: rollback_deployment\n",
        "    action: rollback_deployment\n    retries: 2\n",
    );
    let actions = SimulatedActions::new().flaky("rollback_deployment", 1);
    let r = run_with(
        &tree,
        &EnvPolicy::staging(),
        None,
        &Scripted::new(vec![]),
        &actions,
    );
    let attempts: Vec<(StepResult, Option<u32>)> = r
        .trace
        .iter()
        .filter(|e| e.node == "rollback")
        .map(|e| (e.result, e.attempt))
        .collect();
    assert_eq!(attempts, [(Failed, Some(1)), (Ok, Some(2))]);
    assert_eq!(r.outcome, Outcome::Recovered);
}
