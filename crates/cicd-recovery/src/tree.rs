//! Decision trees: YAML files that say, for a kind of failure, what to do and in which order.
//! They are loaded and validated completely before they can run — unknown node ids, cycles,
//! unreachable nodes, missing branches, bad expressions and phases that go backwards are errors
//! with `file:line:col` — because a mistake found while production is failing is found too late.
//!
//! ```yaml
//! name: rollback-on-deploy-failure   # unique; a user tree with the same name replaces a default
//! description: ...
//! priority: 10                       # the matching tree with the highest priority is chosen
//! match:                             # all given conditions must hold (empty = any failure)
//!   categories: [application, configuration]
//!   kinds: [deployment_failed]       # pipeline_failed | deployment_failed
//!   min_severity: medium
//!   when: 'confidence >= 0.5'        # any condition expression (see expr.rs)
//! start: assess
//! nodes:                             # node id → node
//!   assess:   { type: condition, if: 'severity >= "high"', then: ask, else: retry }
//!   ask:      { type: gate, reason: "roll back?", timeout_s: 900, then: rollback,
//!               else: give_up, on_timeout: give_up, always: false }
//!   rollback: { type: action, action: rollback_deployment, params: {strategy: blue_green},
//!               phase: immediate_response, disruptive: true, takes_out: 0, retries: 1,
//!               next: checks, on_failure: give_up }
//!   checks:   { type: parallel, join: all, branches: [health, smoke], next: done,
//!               on_failure: give_up }
//!   health:   { type: action, action: health_check }      # branch: actions only, chained by
//!   smoke:    { type: action, action: run_smoke_tests }   # `next`, ending without one
//!   retry:    { type: action, action: retry_pipeline, next: done }
//!   give_up:  { type: escalate, to: oncall, reason: "automatic recovery failed" }
//!   done:     { type: end, outcome: recovered }
//! ```
//!
//! Six node types, as in the seed: `condition`, `action`, `gate` (alias `approval`),
//! `parallel`, `escalate`, `end`. Trees cannot loop (retries are an action's `retries`), so every
//! run ends.

use super::actions;
use super::category::{Category, Severity};
use super::expr::{self, Expr, Facts};
use super::phase::Phase;
use ccp_config::{invalid_at, load_yaml_str, process_env, ConfigError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

/// How long a gate waits for a human when the tree does not say.
pub const DEFAULT_GATE_TIMEOUT: Duration = Duration::from_secs(900);

/// The node types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeType {
    /// Branch on an expression.
    Condition,
    /// Perform an action.
    Action,
    /// Ask a human (pauses the case).
    #[serde(alias = "approval")]
    Gate,
    /// Run branches at once, then join.
    Parallel,
    /// Hand the case to a human and stop.
    Escalate,
    /// Stop with an outcome.
    End,
}

impl NodeType {
    fn as_str(self) -> &'static str {
        match self {
            NodeType::Condition => "condition",
            NodeType::Action => "action",
            NodeType::Gate => "gate",
            NodeType::Parallel => "parallel",
            NodeType::Escalate => "escalate",
            NodeType::End => "end",
        }
    }
}

/// How a parallel node joins its branches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Join {
    /// Every branch must succeed.
    #[default]
    All,
    /// One successful branch is enough.
    Any,
}

/// How an `end` node finishes the case.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndOutcome {
    /// The failure is dealt with.
    #[default]
    Recovered,
    /// The tree gave up without escalating.
    Failed,
}

/// A scalar parameter as written (number, bool or text), kept as text.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
enum Scalar {
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
}

impl Scalar {
    fn text(&self) -> String {
        match self {
            Scalar::Bool(b) => b.to_string(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::Text(s) => s.clone(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TreeFile {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    priority: i32,
    #[serde(default, rename = "match")]
    matches: MatchSpec,
    start: String,
    nodes: BTreeMap<String, NodeSpec>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MatchSpec {
    #[serde(default)]
    categories: Vec<Category>,
    #[serde(default)]
    kinds: Vec<CaseKind>,
    #[serde(default)]
    min_severity: Option<Severity>,
    #[serde(default)]
    when: Option<String>,
}

/// The two kinds of CI failure a case can come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseKind {
    /// A pipeline, workflow or job failed.
    PipelineFailed,
    /// A deployment failed.
    DeploymentFailed,
}

impl CaseKind {
    /// The name used in YAML and facts.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseKind::PipelineFailed => "pipeline_failed",
            CaseKind::DeploymentFailed => "deployment_failed",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeSpec {
    #[serde(rename = "type")]
    kind: NodeType,
    /// Documentation for readers of the file; accepted and not used.
    #[serde(default, rename = "description")]
    _description: Option<String>,
    #[serde(default, rename = "if")]
    condition: Option<String>,
    #[serde(default)]
    then: Option<String>,
    #[serde(default, rename = "else")]
    otherwise: Option<String>,
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    params: Option<BTreeMap<String, Scalar>>,
    #[serde(default)]
    phase: Option<Phase>,
    #[serde(default)]
    disruptive: Option<bool>,
    #[serde(default)]
    takes_out: Option<u32>,
    #[serde(default)]
    retries: Option<u32>,
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    on_failure: Option<String>,
    #[serde(default)]
    branches: Option<Vec<String>>,
    #[serde(default)]
    join: Option<Join>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    timeout_s: Option<u64>,
    #[serde(default)]
    on_timeout: Option<String>,
    #[serde(default)]
    always: Option<bool>,
    #[serde(default)]
    to: Option<String>,
    #[serde(default)]
    outcome: Option<EndOutcome>,
}

impl NodeSpec {
    /// The keys this node sets, by name.
    fn keys(&self) -> Vec<&'static str> {
        let mut k = Vec::new();
        let mut add = |set: bool, name: &'static str| {
            if set {
                k.push(name);
            }
        };
        add(self.condition.is_some(), "if");
        add(self.then.is_some(), "then");
        add(self.otherwise.is_some(), "else");
        add(self.action.is_some(), "action");
        add(self.params.is_some(), "params");
        add(self.phase.is_some(), "phase");
        add(self.disruptive.is_some(), "disruptive");
        add(self.takes_out.is_some(), "takes_out");
        add(self.retries.is_some(), "retries");
        add(self.next.is_some(), "next");
        add(self.on_failure.is_some(), "on_failure");
        add(self.branches.is_some(), "branches");
        add(self.join.is_some(), "join");
        add(self.reason.is_some(), "reason");
        add(self.timeout_s.is_some(), "timeout_s");
        add(self.on_timeout.is_some(), "on_timeout");
        add(self.always.is_some(), "always");
        add(self.to.is_some(), "to");
        add(self.outcome.is_some(), "outcome");
        k
    }
}

/// (keys required, keys allowed besides `type` and `description`) per node type.
fn shape(t: NodeType) -> (&'static [&'static str], &'static [&'static str]) {
    match t {
        NodeType::Condition => (&["if", "then", "else"], &["if", "then", "else"]),
        NodeType::Action => (
            &["action"],
            &[
                "action",
                "params",
                "phase",
                "disruptive",
                "takes_out",
                "retries",
                "next",
                "on_failure",
            ],
        ),
        NodeType::Gate => (
            &["then", "else"],
            &[
                "reason",
                "timeout_s",
                "then",
                "else",
                "on_timeout",
                "always",
            ],
        ),
        NodeType::Parallel => (
            &["branches", "next"],
            &["branches", "join", "next", "on_failure"],
        ),
        NodeType::Escalate => (&[], &["to", "reason"]),
        NodeType::End => (&[], &["outcome", "reason"]),
    }
}

/// An action node.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionNode {
    /// Action name.
    pub action: String,
    /// Parameters, as text.
    pub params: BTreeMap<String, String>,
    /// Phase it runs in.
    pub phase: Phase,
    /// Whether it can interrupt serving.
    pub disruptive: bool,
    /// Instances out of service while it runs.
    pub takes_out: u32,
    /// Extra attempts after a failure.
    pub retries: u32,
    /// Where to go on success (`None` only at the end of a parallel branch).
    pub next: Option<String>,
    /// Where to go on failure (`None`: the case fails).
    pub on_failure: Option<String>,
}

/// A validated node.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// Branch on an expression.
    Condition {
        /// Parsed expression.
        expr: Expr,
        /// As written.
        text: String,
        /// When true.
        then: String,
        /// When false.
        otherwise: String,
    },
    /// Perform an action.
    Action(ActionNode),
    /// Ask a human.
    Gate {
        /// What the human is asked.
        reason: String,
        /// How long to wait.
        timeout: Duration,
        /// Ask even where the environment's policy does not require approvals.
        always: bool,
        /// On approval.
        approved: String,
        /// On rejection.
        rejected: String,
        /// On timeout (`None`: escalate).
        on_timeout: Option<String>,
    },
    /// Run branches at once.
    Parallel {
        /// First node of each branch.
        branches: Vec<String>,
        /// How the branches join.
        join: Join,
        /// After a successful join.
        next: String,
        /// After a failed join (`None`: the case fails).
        on_failure: Option<String>,
    },
    /// Hand over to a human.
    Escalate {
        /// Who.
        to: String,
        /// Why.
        reason: String,
    },
    /// Stop.
    End {
        /// How.
        outcome: EndOutcome,
        /// Why, for the trace.
        reason: Option<String>,
    },
}

impl Node {
    /// The node type.
    pub fn kind(&self) -> NodeType {
        match self {
            Node::Condition { .. } => NodeType::Condition,
            Node::Action(_) => NodeType::Action,
            Node::Gate { .. } => NodeType::Gate,
            Node::Parallel { .. } => NodeType::Parallel,
            Node::Escalate { .. } => NodeType::Escalate,
            Node::End { .. } => NodeType::End,
        }
    }

    /// Every node id this node can lead to, with the key that names it.
    fn edges(&self) -> Vec<(&'static str, &str)> {
        let mut out = Vec::new();
        match self {
            Node::Condition {
                then, otherwise, ..
            } => {
                out.push(("then", then.as_str()));
                out.push(("else", otherwise.as_str()));
            }
            Node::Action(a) => {
                out.extend(a.next.as_deref().map(|n| ("next", n)));
                out.extend(a.on_failure.as_deref().map(|n| ("on_failure", n)));
            }
            Node::Gate {
                approved,
                rejected,
                on_timeout,
                ..
            } => {
                out.push(("then", approved.as_str()));
                out.push(("else", rejected.as_str()));
                out.extend(on_timeout.as_deref().map(|n| ("on_timeout", n)));
            }
            Node::Parallel {
                branches,
                next,
                on_failure,
                ..
            } => {
                out.extend(branches.iter().map(|b| ("branches", b.as_str())));
                out.push(("next", next.as_str()));
                out.extend(on_failure.as_deref().map(|n| ("on_failure", n)));
            }
            Node::Escalate { .. } | Node::End { .. } => {}
        }
        out
    }
}

/// Which cases a tree takes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Match {
    /// Categories (empty = any).
    pub categories: Vec<Category>,
    /// Case kinds (empty = any).
    pub kinds: Vec<CaseKind>,
    /// Lowest severity.
    pub min_severity: Option<Severity>,
    /// Extra condition.
    pub when: Option<Expr>,
}

/// A validated decision tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Tree {
    /// Unique name.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Higher wins among matching trees.
    pub priority: i32,
    /// Which cases it takes.
    pub matches: Match,
    /// First node.
    pub start: String,
    /// Nodes by id.
    pub nodes: BTreeMap<String, Node>,
    /// File it came from.
    pub source: String,
}

/// A problem at a key path, turned into a positioned error at the end.
struct Issue {
    path: Vec<String>,
    message: String,
}

fn issue(path: &[&str], message: impl Into<String>) -> Issue {
    Issue {
        path: path.iter().map(|s| s.to_string()).collect(),
        message: message.into(),
    }
}

impl Tree {
    /// Parse and validate the tree in `text`, reporting errors as `file:line:col: message`.
    pub fn from_str(text: &str, file: &str) -> Result<Tree, ConfigError> {
        let spec: TreeFile = load_yaml_str(text, file, &process_env)?;
        build(spec, file).map_err(|i| {
            let path: Vec<&str> = i.path.iter().map(String::as_str).collect();
            invalid_at(text, file, &path, i.message)
        })
    }

    /// Read and validate the tree file at `path`.
    pub fn from_file(path: &Path) -> Result<Tree, ConfigError> {
        let text = ccp_config::read_capped(path, ccp_config::MAX_YAML_BYTES).map_err(|error| {
            ConfigError::Read {
                path: path.to_path_buf(),
                error,
            }
        })?;
        Tree::from_str(&text, &path.display().to_string())
    }

    /// Whether this tree takes a case with these facts (see [`super::exec::case_facts`]).
    pub fn takes(&self, category: Category, severity: Severity, facts: &Facts) -> bool {
        let m = &self.matches;
        let kind_ok = m.kinds.is_empty()
            || m.kinds
                .iter()
                .any(|k| matches!(facts.get("kind"), Some(expr::Value::Str(s)) if s == k.as_str()));
        (m.categories.is_empty() || m.categories.contains(&category))
            && kind_ok
            && m.min_severity.is_none_or(|min| severity >= min)
            && m.when.as_ref().is_none_or(|w| w.eval(facts))
    }
}

fn build(spec: TreeFile, file: &str) -> Result<Tree, Issue> {
    if spec.name.trim().is_empty() {
        return Err(issue(&["name"], "`name` must not be empty"));
    }
    if spec.nodes.is_empty() {
        return Err(issue(&["nodes"], "a tree needs at least one node"));
    }
    let when = spec
        .matches
        .when
        .as_deref()
        .map(expr::parse)
        .transpose()
        .map_err(|e| issue(&["match", "when"], e.to_string()))?;
    let mut nodes = BTreeMap::new();
    for (id, n) in &spec.nodes {
        nodes.insert(id.clone(), node(id, n)?);
    }
    let ids: Vec<&str> = nodes.keys().map(String::as_str).collect();
    if !nodes.contains_key(&spec.start) {
        return Err(issue(&["start"], unknown_id("start", &spec.start, &ids)));
    }
    for (id, n) in &nodes {
        for (key, target) in n.edges() {
            if !nodes.contains_key(target) {
                return Err(issue(&["nodes", id, key], unknown_id(key, target, &ids)));
            }
        }
    }
    check_branches(&nodes)?;
    check_cycles(&spec.start, &nodes)?;
    check_reachable(&spec.start, &nodes)?;
    check_phases(&nodes)?;
    Ok(Tree {
        name: spec.name,
        description: spec.description,
        priority: spec.priority,
        matches: Match {
            categories: spec.matches.categories,
            kinds: spec.matches.kinds,
            min_severity: spec.matches.min_severity,
            when,
        },
        start: spec.start,
        nodes,
        source: file.to_string(),
    })
}

fn unknown_id(key: &str, target: &str, ids: &[&str]) -> String {
    let near = ids
        .iter()
        .map(|i| (ccp_config::levenshtein(i, target), *i))
        .filter(|(d, _)| *d <= 2)
        .min();
    let hint = match near {
        Some((_, i)) => format!("; did you mean `{i}`?"),
        None => format!("; nodes: {}", ids.join(", ")),
    };
    format!("`{key}` names `{target}`, which is not a node of this tree{hint}")
}

/// One node: the keys its type needs and allows, then the typed node.
fn node(id: &str, n: &NodeSpec) -> Result<Node, Issue> {
    let t = n.kind;
    let (required, allowed) = shape(t);
    let keys = n.keys();
    if let Some(extra) = keys.iter().find(|k| !allowed.contains(k)) {
        return Err(issue(
            &["nodes", id, extra],
            format!(
                "`{extra}` is not used by {} nodes (node `{id}`); they take: {}",
                t.as_str(),
                allowed.join(", ")
            ),
        ));
    }
    if let Some(missing) = required.iter().find(|k| !keys.contains(k)) {
        return Err(issue(
            &["nodes", id],
            format!("{} node `{id}` needs `{missing}`", t.as_str()),
        ));
    }
    let text = |o: &Option<String>| o.clone().unwrap_or_default();
    Ok(match t {
        NodeType::Condition => {
            let source = text(&n.condition);
            let expr =
                expr::parse(&source).map_err(|e| issue(&["nodes", id, "if"], e.to_string()))?;
            Node::Condition {
                expr,
                text: source,
                then: text(&n.then),
                otherwise: text(&n.otherwise),
            }
        }
        NodeType::Action => {
            let action = text(&n.action);
            let valid = !action.is_empty()
                && action
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !valid {
                return Err(issue(
                    &["nodes", id, "action"],
                    format!("action name `{action}` must be lower_snake_case"),
                ));
            }
            let d = actions::defaults(&action);
            Node::Action(ActionNode {
                params: n
                    .params
                    .iter()
                    .flatten()
                    .map(|(k, v)| (k.clone(), v.text()))
                    .collect(),
                phase: n.phase.unwrap_or(d.phase),
                disruptive: n.disruptive.unwrap_or(d.disruptive),
                takes_out: n.takes_out.unwrap_or(d.takes_out),
                retries: n.retries.unwrap_or(0),
                next: n.next.clone(),
                on_failure: n.on_failure.clone(),
                action,
            })
        }
        NodeType::Gate => Node::Gate {
            reason: n
                .reason
                .clone()
                .unwrap_or_else(|| format!("approve `{}`?", n.then.as_deref().unwrap_or(id))),
            timeout: n
                .timeout_s
                .map_or(DEFAULT_GATE_TIMEOUT, Duration::from_secs),
            always: n.always.unwrap_or(false),
            approved: text(&n.then),
            rejected: text(&n.otherwise),
            on_timeout: n.on_timeout.clone(),
        },
        NodeType::Parallel => {
            let branches = n.branches.clone().unwrap_or_default();
            if branches.len() < 2 {
                return Err(issue(
                    &["nodes", id, "branches"],
                    format!("parallel node `{id}` needs at least two branches"),
                ));
            }
            Node::Parallel {
                branches,
                join: n.join.unwrap_or_default(),
                next: text(&n.next),
                on_failure: n.on_failure.clone(),
            }
        }
        NodeType::Escalate => Node::Escalate {
            to: n.to.clone().unwrap_or_else(|| "oncall".into()),
            reason: n
                .reason
                .clone()
                .unwrap_or_else(|| "automatic recovery stopped here".into()),
        },
        NodeType::End => Node::End {
            outcome: n.outcome.unwrap_or_default(),
            reason: n.reason.clone(),
        },
    })
}

/// Which branch (parallel id, branch start) each branch node belongs to.
fn branch_members(nodes: &BTreeMap<String, Node>) -> BTreeMap<&str, &str> {
    let mut owner = BTreeMap::new();
    for (pid, n) in nodes {
        if let Node::Parallel { branches, .. } = n {
            for start in branches {
                let mut cur = Some(start.as_str());
                let mut seen = BTreeSet::new();
                while let Some(c) = cur {
                    if !seen.insert(c) {
                        break;
                    }
                    owner.entry(c).or_insert(pid.as_str());
                    cur = match nodes.get(c) {
                        Some(Node::Action(a)) => a.next.as_deref(),
                        _ => None,
                    };
                }
            }
        }
    }
    owner
}

/// Branches are chains of actions owned by one parallel node: they run on their own threads, so
/// they cannot ask a human, branch, or jump into the rest of the tree.
fn check_branches(nodes: &BTreeMap<String, Node>) -> Result<(), Issue> {
    let owner = branch_members(nodes);
    for (member, pid) in &owner {
        match nodes.get(*member) {
            Some(Node::Action(a)) if a.on_failure.is_some() => {
                return Err(issue(
                    &["nodes", member, "on_failure"],
                    format!(
                        "`{member}` runs in a branch of parallel node `{pid}`, whose `join` \
                         decides what a failure means; remove `on_failure`"
                    ),
                ));
            }
            Some(Node::Action(_)) | None => {}
            Some(other) => {
                return Err(issue(
                    &["nodes", member, "type"],
                    format!(
                        "`{member}` runs in a branch of parallel node `{pid}` and must be an \
                         action, not a {}",
                        other.kind().as_str()
                    ),
                ))
            }
        }
    }
    for (id, n) in nodes {
        for (key, target) in n.edges() {
            let Some(pid) = owner.get(target) else {
                continue;
            };
            let from_owner = id == pid && key == "branches";
            let within = owner.get(id.as_str()) == Some(pid) && key == "next";
            if !(from_owner || within) {
                return Err(issue(
                    &["nodes", id, key],
                    format!(
                        "`{target}` belongs to a branch of parallel node `{pid}`; only that \
                         branch can lead to it"
                    ),
                ));
            }
        }
    }
    for (id, n) in nodes {
        if let Node::Action(a) = n {
            if a.next.is_none() && !owner.contains_key(id.as_str()) {
                return Err(issue(
                    &["nodes", id],
                    format!(
                        "action node `{id}` needs `next` (end the path with an `end` or \
                         `escalate` node)"
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn check_cycles(start: &str, nodes: &BTreeMap<String, Node>) -> Result<(), Issue> {
    // Iterative DFS with colours; a grey target closes a cycle.
    #[derive(Clone, Copy, PartialEq)]
    enum Colour {
        Grey,
        Black,
    }
    let mut colour: BTreeMap<&str, Colour> = BTreeMap::new();
    let roots = std::iter::once(start).chain(nodes.keys().map(String::as_str));
    for root in roots {
        if colour.contains_key(root) {
            continue;
        }
        let mut stack: Vec<(&str, usize)> = vec![(root, 0)];
        colour.insert(root, Colour::Grey);
        while let Some((id, i)) = stack.pop() {
            let edges = nodes.get(id).map(Node::edges).unwrap_or_default();
            if let Some((key, target)) = edges.get(i).copied() {
                stack.push((id, i + 1));
                match colour.get(target) {
                    Some(Colour::Grey) => {
                        return Err(issue(
                            &["nodes", id, key],
                            format!(
                                "`{key}` of `{id}` leads back to `{target}`: trees cannot loop \
                                 (use an action's `retries` to try again)"
                            ),
                        ))
                    }
                    Some(Colour::Black) => {}
                    None => {
                        colour.insert(target, Colour::Grey);
                        stack.push((target, 0));
                    }
                }
            } else {
                colour.insert(id, Colour::Black);
            }
        }
    }
    Ok(())
}

fn check_reachable(start: &str, nodes: &BTreeMap<String, Node>) -> Result<(), Issue> {
    let mut seen = BTreeSet::from([start]);
    let mut todo = vec![start];
    while let Some(id) = todo.pop() {
        for (_, t) in nodes.get(id).map(Node::edges).unwrap_or_default() {
            if seen.insert(t) {
                todo.push(t);
            }
        }
    }
    match nodes.keys().find(|id| !seen.contains(id.as_str())) {
        Some(id) => Err(issue(
            &["nodes", id],
            format!("node `{id}` is unreachable from `start` ({start})"),
        )),
        None => Ok(()),
    }
}

/// Phases only move forward: no action may lead (through conditions, gates and parallel joins)
/// to an action of an earlier phase.
fn check_phases(nodes: &BTreeMap<String, Node>) -> Result<(), Issue> {
    // For each node, the phases of the first actions reachable from it (itself if an action).
    fn first_phases<'a>(
        id: &'a str,
        nodes: &'a BTreeMap<String, Node>,
        memo: &mut BTreeMap<&'a str, BTreeSet<(Phase, &'a str)>>,
    ) -> BTreeSet<(Phase, &'a str)> {
        if let Some(m) = memo.get(id) {
            return m.clone();
        }
        let out = match nodes.get_key_value(id) {
            Some((key, Node::Action(a))) => BTreeSet::from([(a.phase, key.as_str())]),
            Some((_, n)) => {
                let mut s = BTreeSet::new();
                for (_, t) in n.edges() {
                    s.extend(first_phases(t, nodes, memo));
                }
                s
            }
            None => BTreeSet::new(),
        };
        memo.insert(id, out.clone());
        out
    }
    let mut memo = BTreeMap::new();
    for (id, n) in nodes {
        let (phase, successors): (Phase, Vec<(&str, &str)>) = match n {
            Node::Action(a) => (
                a.phase,
                a.next.iter().map(|t| ("next", t.as_str())).collect(),
            ),
            Node::Parallel {
                branches,
                next,
                on_failure,
                ..
            } => {
                let last = branches
                    .iter()
                    .flat_map(|b| first_phases(b, nodes, &mut memo))
                    .map(|(p, _)| p)
                    .max()
                    .unwrap_or(Phase::Preparation);
                let mut s = vec![("next", next.as_str())];
                s.extend(on_failure.as_deref().map(|t| ("on_failure", t)));
                (last, s)
            }
            _ => continue,
        };
        let mut successors = successors;
        if let Node::Action(a) = n {
            successors.extend(a.on_failure.as_deref().map(|t| ("on_failure", t)));
        }
        for (key, target) in successors {
            if let Some((p, later)) = first_phases(target, nodes, &mut memo)
                .into_iter()
                .find(|(p, _)| *p < phase)
            {
                return Err(issue(
                    &["nodes", id, key],
                    format!(
                        "`{id}` runs in {phase} but leads to `{later}` in {p}: phases only move \
                         forward ({})",
                        Phase::ALL.map(Phase::as_str).join(" → ")
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// The embedded default trees: (file name, text).
pub const DEFAULT_TREES: &[(&str, &str)] = &[
    (
        "config/recovery/rollback-on-deploy-failure.yaml",
        include_str!("../../../config/recovery/rollback-on-deploy-failure.yaml"),
    ),
    (
        "config/recovery/retry-flaky-timing.yaml",
        include_str!("../../../config/recovery/retry-flaky-timing.yaml"),
    ),
    (
        "config/recovery/infra-escalate.yaml",
        include_str!("../../../config/recovery/infra-escalate.yaml"),
    ),
    (
        "config/recovery/escalate-unknown.yaml",
        include_str!("../../../config/recovery/escalate-unknown.yaml"),
    ),
];

/// The trees a recovery can choose from.
#[derive(Debug, Clone, Default)]
pub struct TreeSet {
    trees: Vec<Tree>,
}

impl TreeSet {
    /// The embedded defaults.
    pub fn embedded() -> Result<TreeSet, ConfigError> {
        let mut set = TreeSet::default();
        for (file, text) in DEFAULT_TREES {
            set.add(Tree::from_str(text, file)?);
        }
        Ok(set)
    }

    /// Add a tree; one with the same name is replaced.
    pub fn add(&mut self, tree: Tree) {
        self.trees.retain(|t| t.name != tree.name);
        self.trees.push(tree);
    }

    /// The embedded defaults plus (replaced by) the trees in `files`.
    pub fn with_files(files: &[std::path::PathBuf]) -> Result<TreeSet, ConfigError> {
        let mut set = TreeSet::embedded()?;
        for f in files {
            set.add(Tree::from_file(f)?);
        }
        Ok(set)
    }

    /// All trees.
    pub fn trees(&self) -> &[Tree] {
        &self.trees
    }

    /// The tree for a case: the matching tree with the highest priority (ties: by name).
    pub fn choose(&self, category: Category, severity: Severity, facts: &Facts) -> Option<&Tree> {
        self.trees
            .iter()
            .filter(|t| t.takes(category, severity, facts))
            .max_by(|a, b| a.priority.cmp(&b.priority).then(b.name.cmp(&a.name)))
    }
}

#[cfg(test)]
mod tests;
