//! Walks a validated decision tree for one case and records every node it visits — with its
//! result, its phase and its timing — so the path taken can be read back afterwards, in the
//! cockpit, in `/api/state` and in the audit log.
//!
//! Two guards sit in front of every action, from the environment's policy: the zero-downtime
//! check (an action, or a parallel node's branches together, may not take capacity under the
//! floor or the last healthy instance out; refused steps take `on_failure`) and, where the policy
//! requires approval, a *policy gate* before each disruptive step that an approved gate has not
//! just covered (an approval covers the next disruptive step only). Rejecting a policy gate stops
//! the case (`rejected`); a timeout escalates it.

use super::actions::{ActionReport, ActionRequest, RecoveryActions};
use super::expr::Facts;
use super::phase::Phase;
use super::policy::{Capacity, EnvPolicy};
use super::tree::{ActionNode, EndOutcome, Join, Node, Tree};
use ccp_core::events::AutoAnswer;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// A question for a human at a gate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GateRequest {
    /// Recovery case id.
    pub case_id: String,
    /// Gate node id (for a policy gate: the node it guards).
    pub node: String,
    /// What is asked.
    pub reason: String,
    /// How long to wait.
    #[serde(skip)]
    pub timeout: Duration,
    /// True for a gate the policy inserted before a disruptive step.
    pub policy: bool,
}

/// A human's (or a stand-in's) answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GateAnswer {
    /// Go ahead.
    Approved {
        /// Who.
        actor: String,
        /// Why.
        comment: String,
    },
    /// Do not.
    Rejected {
        /// Who.
        actor: String,
        /// Why.
        comment: String,
    },
    /// Nobody answered in time.
    TimedOut,
}

/// Answers gates: a person over HTTP, a flag on the command line, a script in tests.
pub trait Approver: Send + Sync {
    /// Block until the gate is answered or `req.timeout` passes.
    fn ask(&self, req: &GateRequest) -> GateAnswer;
}

/// The command line's answer: always approve, always reject, or nobody there (times out at once).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutoApprover {
    /// Approve as `auto`.
    Approve,
    /// Reject as `auto`.
    Reject,
    /// No one to ask: every gate times out immediately.
    Nobody,
}

impl From<Option<AutoAnswer>> for AutoApprover {
    /// The command line's answer: `--auto-approve`, `--auto-reject`, or neither (nobody there).
    fn from(a: Option<AutoAnswer>) -> Self {
        match a {
            Some(AutoAnswer::Approve) => AutoApprover::Approve,
            Some(AutoAnswer::Reject) => AutoApprover::Reject,
            None => AutoApprover::Nobody,
        }
    }
}

impl Approver for AutoApprover {
    fn ask(&self, _req: &GateRequest) -> GateAnswer {
        match self {
            AutoApprover::Approve => GateAnswer::Approved {
                actor: "auto".into(),
                comment: String::new(),
            },
            AutoApprover::Reject => GateAnswer::Rejected {
                actor: "auto".into(),
                comment: String::new(),
            },
            AutoApprover::Nobody => GateAnswer::TimedOut,
        }
    }
}

/// What a step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepResult {
    /// The orchestrator's plan (first step).
    Planned,
    /// A condition held.
    True,
    /// A condition did not hold.
    False,
    /// An action succeeded.
    Ok,
    /// An action failed.
    Failed,
    /// A guard refused the step before it ran.
    Refused,
    /// A gate was approved.
    Approved,
    /// A gate was rejected.
    Rejected,
    /// Nobody answered a gate in time.
    TimedOut,
    /// A gate the environment's policy does not require was passed.
    Skipped,
    /// A parallel node started its branches.
    Forked,
    /// Its branches joined successfully.
    Joined,
    /// Its branches did not satisfy the join.
    JoinFailed,
    /// The case was handed to a human.
    Escalated,
    /// An end node.
    Ended,
    /// The orchestrator's summary (last step).
    Summary,
}

/// One visited node.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TraceEntry {
    /// Position in the trace, from 0.
    pub seq: usize,
    /// Node id (`(orchestrator)` for the plan and summary).
    pub node: String,
    /// Node type, `policy_gate`, `plan` or `summary`.
    pub kind: String,
    /// Phase the case was in.
    pub phase: Phase,
    /// What happened.
    pub result: StepResult,
    /// One line: the condition and the way taken, the action's report, who decided.
    pub detail: String,
    /// The parallel node whose branch ran this step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// Attempt number of an action (1 = first try).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    /// The action's report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<ActionReport>,
    /// Milliseconds since the case started.
    pub started_ms: u64,
    /// How long the step took.
    pub duration_ms: u64,
}

/// How a case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Dealt with.
    Recovered,
    /// Handed to a human.
    Escalated,
    /// A human said no to a disruptive step.
    Rejected,
    /// An action or join failed with nowhere to go.
    Failed,
}

impl Outcome {
    /// Every outcome, for metrics.
    pub const ALL: [Outcome; 4] = [
        Outcome::Recovered,
        Outcome::Escalated,
        Outcome::Rejected,
        Outcome::Failed,
    ];

    /// The name in JSON and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Recovered => "recovered",
            Outcome::Escalated => "escalated",
            Outcome::Rejected => "rejected",
            Outcome::Failed => "failed",
        }
    }
}

/// The trace being written, with the clock and the listener that sees each step as it lands.
pub struct Trace<'a> {
    entries: Vec<TraceEntry>,
    started: Instant,
    phase: Phase,
    observer: &'a (dyn Fn(&TraceEntry) + Sync),
}

impl<'a> Trace<'a> {
    /// An empty trace starting now; `observer` is told of every entry.
    pub fn new(observer: &'a (dyn Fn(&TraceEntry) + Sync)) -> Self {
        Trace {
            entries: Vec::new(),
            started: Instant::now(),
            phase: Phase::Preparation,
            observer,
        }
    }

    /// Milliseconds since the start.
    fn now_ms(&self) -> u64 {
        ms(self.started.elapsed())
    }

    /// The phase the case is in.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Move to `phase` (never back).
    pub fn enter(&mut self, phase: Phase) {
        self.phase = self.phase.max(phase);
    }

    /// Append a step that started `started_ms` after the case began.
    pub fn push(
        &mut self,
        node: &str,
        kind: &str,
        result: StepResult,
        detail: String,
        started_ms: u64,
    ) {
        let now = self.now_ms();
        self.push_entry(TraceEntry {
            seq: 0,
            node: node.to_string(),
            kind: kind.to_string(),
            phase: self.phase,
            result,
            detail,
            branch: None,
            attempt: None,
            report: None,
            started_ms,
            duration_ms: now.saturating_sub(started_ms),
        });
    }

    fn push_entry(&mut self, mut e: TraceEntry) {
        e.seq = self.entries.len();
        (self.observer)(&e);
        self.entries.push(e);
    }

    /// The steps so far.
    pub fn entries(&self) -> &[TraceEntry] {
        &self.entries
    }

    /// The finished trace.
    pub fn into_entries(self) -> Vec<TraceEntry> {
        self.entries
    }
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Everything a tree runs against.
pub struct Context<'a> {
    /// Recovery case id.
    pub case_id: &'a str,
    /// Environment name as the case gives it.
    pub env: &'a str,
    /// Its policy.
    pub policy: &'a EnvPolicy,
    /// Serving capacity, when known.
    pub capacity: Option<Capacity>,
    /// What conditions see.
    pub facts: &'a Facts,
    /// What actions are told (`CCP_*` variables for scripts).
    pub action_facts: &'a BTreeMap<String, String>,
    /// Who acts.
    pub actions: &'a dyn RecoveryActions,
    /// Who answers gates.
    pub approver: &'a dyn Approver,
}

/// What the guards in front of a step decided.
enum Verdict {
    /// Run it.
    Go,
    /// The zero-downtime check refused it (already in the trace); take `on_failure`.
    Refused(String),
    /// A policy gate was rejected or not answered: the case stops.
    Stop(Outcome, String),
}

/// Run `tree` from its start; returns how it ended and why.
pub fn execute(tree: &Tree, ctx: &Context<'_>, trace: &mut Trace<'_>) -> (Outcome, String) {
    let mut cur = tree.start.clone();
    // An approved gate covers the next disruptive step.
    let mut covered = false;
    // Trees are acyclic, so no path is longer than the node count; the bound is a second guard.
    for _ in 0..=tree.nodes.len() {
        let Some(node) = tree.nodes.get(&cur) else {
            return (Outcome::Failed, format!("node `{cur}` is not in the tree"));
        };
        let t0 = trace.now_ms();
        let next: Result<String, (Outcome, String)> = match node {
            Node::Condition {
                expr,
                text,
                then,
                otherwise,
            } => {
                let holds = expr.eval(ctx.facts);
                let (result, to) = if holds {
                    (StepResult::True, then)
                } else {
                    (StepResult::False, otherwise)
                };
                trace.push(&cur, "condition", result, format!("{text} → {to}"), t0);
                Ok(to.clone())
            }
            Node::Gate {
                reason,
                timeout,
                always,
                approved,
                rejected,
                on_timeout,
            } => {
                if !ctx.policy.requires_approval && !always {
                    trace.push(
                        &cur,
                        "gate",
                        StepResult::Skipped,
                        format!("{} policy does not require approval → {approved}", ctx.env),
                        t0,
                    );
                    Ok(approved.clone())
                } else {
                    let req = GateRequest {
                        case_id: ctx.case_id.to_string(),
                        node: cur.clone(),
                        reason: reason.clone(),
                        timeout: *timeout,
                        policy: false,
                    };
                    match ctx.approver.ask(&req) {
                        GateAnswer::Approved { actor, comment } => {
                            covered = true;
                            let detail = decided(&actor, &comment, approved);
                            trace.push(&cur, "gate", StepResult::Approved, detail, t0);
                            Ok(approved.clone())
                        }
                        GateAnswer::Rejected { actor, comment } => {
                            let detail = decided(&actor, &comment, rejected);
                            trace.push(&cur, "gate", StepResult::Rejected, detail, t0);
                            Ok(rejected.clone())
                        }
                        GateAnswer::TimedOut => {
                            let to = on_timeout.as_deref().unwrap_or("(escalate)");
                            let detail = format!("no answer within {} s → {to}", timeout.as_secs());
                            trace.push(&cur, "gate", StepResult::TimedOut, detail, t0);
                            on_timeout.clone().ok_or((
                                Outcome::Escalated,
                                format!("nobody answered gate `{cur}` in time"),
                            ))
                        }
                    }
                }
            }
            Node::Action(a) => match guard(ctx, trace, &cur, &[a], &mut covered, t0) {
                Verdict::Stop(o, why) => Err((o, why)),
                Verdict::Refused(why) => a.on_failure.clone().ok_or((Outcome::Failed, why)),
                Verdict::Go => {
                    trace.enter(a.phase);
                    let (ok, entries) = run_action(ctx, &cur, a, trace.started, None);
                    for e in entries {
                        trace.push_entry(e);
                    }
                    if ok {
                        Ok(a.next.clone().unwrap_or_default())
                    } else {
                        a.on_failure.clone().ok_or((
                            Outcome::Failed,
                            format!("action `{}` ({cur}) failed", a.action),
                        ))
                    }
                }
            },
            Node::Parallel {
                branches,
                join,
                next,
                on_failure,
            } => {
                let chains: Vec<Vec<(&str, &ActionNode)>> =
                    branches.iter().map(|b| chain(tree, b)).collect();
                let all: Vec<&ActionNode> = chains.iter().flatten().map(|(_, a)| *a).collect();
                match guard(ctx, trace, &cur, &all, &mut covered, t0) {
                    Verdict::Stop(o, why) => Err((o, why)),
                    Verdict::Refused(why) => on_failure.clone().ok_or((Outcome::Failed, why)),
                    Verdict::Go => {
                        // The fork belongs to the phase its branches start in.
                        if let Some(p) = all.iter().map(|a| a.phase).min() {
                            trace.enter(p);
                        }
                        let join_word = match join {
                            Join::All => "all",
                            Join::Any => "any",
                        };
                        trace.push(
                            &cur,
                            "parallel",
                            StepResult::Forked,
                            format!("branches {} (join {join_word})", branches.join(", ")),
                            t0,
                        );
                        let (oks, last_phase) = run_branches(ctx, &cur, &chains, trace);
                        trace.enter(last_phase);
                        let passed = oks.iter().filter(|o| **o).count();
                        let joined = match join {
                            Join::All => passed == oks.len(),
                            Join::Any => passed > 0,
                        };
                        let to = if joined {
                            next.as_str()
                        } else {
                            on_failure.as_deref().unwrap_or("(fail)")
                        };
                        trace.push(
                            &cur,
                            "parallel",
                            if joined {
                                StepResult::Joined
                            } else {
                                StepResult::JoinFailed
                            },
                            format!("{passed}/{} branches succeeded → {to}", oks.len()),
                            t0,
                        );
                        if joined {
                            Ok(next.clone())
                        } else {
                            on_failure.clone().ok_or((
                                Outcome::Failed,
                                format!(
                                    "parallel node `{cur}`: {passed}/{} branches succeeded",
                                    oks.len()
                                ),
                            ))
                        }
                    }
                }
            }
            Node::Escalate { to, reason } => {
                trace.push(
                    &cur,
                    "escalate",
                    StepResult::Escalated,
                    format!("to {to}: {reason}"),
                    t0,
                );
                Err((Outcome::Escalated, format!("escalated to {to}: {reason}")))
            }
            Node::End { outcome, reason } => {
                let o = match outcome {
                    EndOutcome::Recovered => Outcome::Recovered,
                    EndOutcome::Failed => Outcome::Failed,
                };
                let why = reason.clone().unwrap_or_else(|| o.as_str().to_string());
                trace.push(&cur, "end", StepResult::Ended, why.clone(), t0);
                Err((o, why))
            }
        };
        match next {
            Ok(n) => cur = n,
            Err(done) => return done,
        }
    }
    (
        Outcome::Failed,
        "the tree did not reach an end node".to_string(),
    )
}

fn decided(actor: &str, comment: &str, to: &str) -> String {
    if comment.is_empty() {
        format!("by {actor} → {to}")
    } else {
        format!("by {actor} ({comment}) → {to}")
    }
}

/// The actions of the branch starting at `start`, in order.
fn chain<'t>(tree: &'t Tree, start: &'t str) -> Vec<(&'t str, &'t ActionNode)> {
    let mut out = Vec::new();
    let mut cur = Some(start);
    while let Some(id) = cur {
        match tree.nodes.get_key_value(id) {
            Some((key, Node::Action(a))) if out.len() <= tree.nodes.len() => {
                out.push((key.as_str(), a));
                cur = a.next.as_deref();
            }
            _ => cur = None,
        }
    }
    out
}

/// The zero-downtime check, then the policy gate; both write their verdict to the trace.
fn guard(
    ctx: &Context<'_>,
    trace: &mut Trace<'_>,
    node: &str,
    actions: &[&ActionNode],
    covered: &mut bool,
    t0: u64,
) -> Verdict {
    let takes_out: u32 = actions.iter().map(|a| a.takes_out).sum();
    if let Err(why) = ctx.policy.check_capacity(ctx.env, ctx.capacity, takes_out) {
        let kind = if actions.len() == 1 {
            "action"
        } else {
            "parallel"
        };
        let why = format!("zero-downtime: {why}");
        trace.push(node, kind, StepResult::Refused, why.clone(), t0);
        return Verdict::Refused(why);
    }
    let disruptive: Vec<&str> = actions
        .iter()
        .filter(|a| a.disruptive)
        .map(|a| a.action.as_str())
        .collect();
    if disruptive.is_empty() {
        return Verdict::Go;
    }
    if !ctx.policy.requires_approval || std::mem::take(covered) {
        return Verdict::Go;
    }
    let reason = format!(
        "{} policy: `{}` is disruptive and needs approval",
        ctx.env,
        disruptive.join("`, `")
    );
    let req = GateRequest {
        case_id: ctx.case_id.to_string(),
        node: node.to_string(),
        reason: reason.clone(),
        timeout: super::tree::DEFAULT_GATE_TIMEOUT,
        policy: true,
    };
    match ctx.approver.ask(&req) {
        GateAnswer::Approved { actor, comment } => {
            trace.push(
                node,
                "policy_gate",
                StepResult::Approved,
                format!("{reason}; {}", decided(&actor, &comment, node)),
                t0,
            );
            Verdict::Go
        }
        GateAnswer::Rejected { actor, comment } => {
            trace.push(
                node,
                "policy_gate",
                StepResult::Rejected,
                format!("{reason}; {}", decided(&actor, &comment, "(stop)")),
                t0,
            );
            Verdict::Stop(
                Outcome::Rejected,
                format!("{actor} rejected `{}`", disruptive.join("`, `")),
            )
        }
        GateAnswer::TimedOut => {
            trace.push(
                node,
                "policy_gate",
                StepResult::TimedOut,
                format!("{reason}; no answer in time → (escalate)"),
                t0,
            );
            Verdict::Stop(
                Outcome::Escalated,
                format!("nobody approved `{}` in time", disruptive.join("`, `")),
            )
        }
    }
}

/// Run one action with its retries; one trace entry per attempt.
fn run_action(
    ctx: &Context<'_>,
    id: &str,
    a: &ActionNode,
    started: Instant,
    branch: Option<&str>,
) -> (bool, Vec<TraceEntry>) {
    let mut entries = Vec::new();
    for attempt in 1..=a.retries.saturating_add(1) {
        let t0 = ms(started.elapsed());
        let req = ActionRequest {
            action: a.action.clone(),
            node: id.to_string(),
            params: a.params.clone(),
            case_id: ctx.case_id.to_string(),
            facts: ctx.action_facts.clone(),
            attempt,
        };
        let report = ctx.actions.run(&req);
        let ok = report.ok;
        let to = if ok {
            a.next.as_deref().unwrap_or("(branch end)")
        } else if attempt <= a.retries {
            "(retry)"
        } else {
            a.on_failure.as_deref().unwrap_or("(fail)")
        };
        entries.push(TraceEntry {
            seq: 0,
            node: id.to_string(),
            kind: "action".into(),
            phase: a.phase,
            result: if ok {
                StepResult::Ok
            } else {
                StepResult::Failed
            },
            detail: format!("{}: {} → {to}", a.action, report.detail),
            branch: branch.map(str::to_string),
            attempt: Some(attempt),
            report: Some(report),
            started_ms: t0,
            duration_ms: ms(started.elapsed()).saturating_sub(t0),
        });
        if ok {
            return (true, entries);
        }
    }
    (false, entries)
}

/// Run the branches on their own threads and append their steps in branch order.
fn run_branches(
    ctx: &Context<'_>,
    parallel: &str,
    chains: &[Vec<(&str, &ActionNode)>],
    trace: &mut Trace<'_>,
) -> (Vec<bool>, Phase) {
    let started = trace.started;
    let results: Vec<(bool, Vec<TraceEntry>)> = std::thread::scope(|s| {
        let handles: Vec<_> = chains
            .iter()
            .map(|c| {
                s.spawn(move || {
                    let mut all = Vec::new();
                    for (id, a) in c {
                        let (ok, entries) = run_action(ctx, id, a, started, Some(parallel));
                        all.extend(entries);
                        if !ok {
                            return (false, all);
                        }
                    }
                    (true, all)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or((false, Vec::new())))
            .collect()
    });
    let mut oks = Vec::new();
    let mut last = trace.phase();
    for (ok, entries) in results {
        oks.push(ok);
        for e in entries {
            last = last.max(e.phase);
            trace.push_entry(e);
        }
    }
    (oks, last)
}

#[cfg(test)]
mod tests;
