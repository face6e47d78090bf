//! Conflict detection between remediation operations in flight.
//!
//! A lock on the service being changed stops two operations from deploying the *same* service at
//! once, but services also interfere through calls, shared databases and common callers. Before a
//! human (or the policy) lets an operation deploy, the pipeline compares it with every other
//! active operation and classifies each relation into one of the seven conflict kinds of the
//! design, each with a fixed severity:
//!
//! | kind | when | severity |
//! |---|---|---|
//! | `direct` | same service | CRITICAL |
//! | `dependency` | one calls the other directly | HIGH |
//! | `transitive_dependency` | one reaches the other through ≥ 2 calls | MEDIUM |
//! | `shared_resource` | both declare the same resource (`postgres_primary`) | HIGH |
//! | `blast_radius_overlap` | their blast radii intersect, no other relation | LOW |
//! | `concurrency_limit` | active operations ≥ the configured maximum | HIGH |
//! | `system_freeze` | either operation holds the system scope | CRITICAL |
//!
//! Pure: the graph comes in as plain edges ([`GraphView`]) so the rules are table-testable and the
//! same code judges conflicts whichever graph backend (memory, Neo4j) and registry (memory, Redis)
//! supplied the data.

use super::domain::Millis;
use super::locks::Scope;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;

/// One remediation operation as other operations see it: what it changes and since when. It is
/// what the operations registry stores, so it is plain serde data that any backend can keep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Operation {
    /// Incident the operation remediates; also its identity (one operation per incident).
    pub incident: String,
    /// Service the operation deploys to.
    pub service: String,
    /// Shared resources the service declares (databases, queues), for shared-resource conflicts.
    #[serde(default)]
    pub resources: Vec<String>,
    /// When the operation registered, on the pipeline clock.
    pub started_ms: Millis,
    /// Current pipeline state name (`GATES_PASSED`, `CANARY_10`…), so a conflict can say how far
    /// the other operation has got.
    pub phase: String,
    /// Lock scope the operation claims: `service` normally, `system` for a fleet-wide change or
    /// freeze that must exclude every other operation.
    #[serde(default = "service_scope")]
    pub scope: Scope,
}

fn service_scope() -> Scope {
    Scope::Service
}

impl Operation {
    /// An ordinary service-scoped operation; the fields most callers set, in one place.
    pub fn new(
        incident: impl Into<String>,
        service: impl Into<String>,
        resources: Vec<String>,
        started_ms: Millis,
        phase: impl Into<String>,
    ) -> Self {
        Self {
            incident: incident.into(),
            service: service.into(),
            resources,
            started_ms,
            phase: phase.into(),
            scope: Scope::Service,
        }
    }
}

/// How bad a conflict is. Ordered so rules read naturally (`severity >= High` pauses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictSeverity {
    /// Worth knowing; never stops anything.
    Low,
    /// Worth a look in the justification; does not pause on its own.
    Medium,
    /// A human must review before deploying.
    High,
    /// A human must review; the operations must never overlap.
    Critical,
}

impl ConflictSeverity {
    /// The spelling operators know from the runbooks (`HIGH`), for messages.
    pub fn as_str(self) -> &'static str {
        match self {
            ConflictSeverity::Low => "LOW",
            ConflictSeverity::Medium => "MEDIUM",
            ConflictSeverity::High => "HIGH",
            ConflictSeverity::Critical => "CRITICAL",
        }
    }
}

impl fmt::Display for ConflictSeverity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The seven kinds of conflict (see the module table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictKind {
    /// Both operations change the same service.
    Direct,
    /// One service calls the other directly.
    Dependency,
    /// One service reaches the other through two or more calls.
    TransitiveDependency,
    /// Both services use the same declared shared resource.
    SharedResource,
    /// The services share callers that would suffer from either change, with no closer relation.
    BlastRadiusOverlap,
    /// Too many operations are in flight at once.
    ConcurrencyLimit,
    /// One of the operations holds the system scope (fleet-wide change or freeze).
    SystemFreeze,
}

impl ConflictKind {
    /// Every kind, for tables and documentation that must not drift from the enum.
    pub const ALL: [ConflictKind; 7] = [
        ConflictKind::Direct,
        ConflictKind::Dependency,
        ConflictKind::TransitiveDependency,
        ConflictKind::SharedResource,
        ConflictKind::BlastRadiusOverlap,
        ConflictKind::ConcurrencyLimit,
        ConflictKind::SystemFreeze,
    ];

    /// The fixed severity of the kind: one table, so every backend judges alike.
    pub fn severity(self) -> ConflictSeverity {
        match self {
            ConflictKind::Direct | ConflictKind::SystemFreeze => ConflictSeverity::Critical,
            ConflictKind::Dependency
            | ConflictKind::SharedResource
            | ConflictKind::ConcurrencyLimit => ConflictSeverity::High,
            ConflictKind::TransitiveDependency => ConflictSeverity::Medium,
            ConflictKind::BlastRadiusOverlap => ConflictSeverity::Low,
        }
    }

    /// Words for messages (`dependency conflict`).
    pub fn as_str(self) -> &'static str {
        match self {
            ConflictKind::Direct => "direct",
            ConflictKind::Dependency => "dependency",
            ConflictKind::TransitiveDependency => "transitive dependency",
            ConflictKind::SharedResource => "shared resource",
            ConflictKind::BlastRadiusOverlap => "blast radius overlap",
            ConflictKind::ConcurrencyLimit => "concurrency limit",
            ConflictKind::SystemFreeze => "system freeze",
        }
    }

    /// Whether the two deploys must be mutually exclusive, not just reviewed: changing a service
    /// while its direct caller or callee (or itself) is mid-canary makes both canaries unreadable
    /// and can compound the outage. The pipeline then also takes the other service's lock.
    pub fn exclusive(self) -> bool {
        matches!(self, ConflictKind::Direct | ConflictKind::Dependency)
    }
}

/// One conflict between the new operation and another one (or the fleet, for the concurrency
/// limit).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conflict {
    /// What kind of relation.
    pub kind: ConflictKind,
    /// Incident of the other operation; empty for `concurrency_limit`, which is about all of them.
    pub other_incident: String,
    /// Service of the other operation; empty for `concurrency_limit`.
    pub other_service: String,
    /// The kind's severity, stored so consumers need not know the table.
    pub severity: ConflictSeverity,
    /// What exactly relates the two, in operator words.
    pub detail: String,
}

impl Conflict {
    fn new(kind: ConflictKind, other: Option<&Operation>, detail: String) -> Self {
        Self {
            kind,
            other_incident: other.map(|o| o.incident.clone()).unwrap_or_default(),
            other_service: other.map(|o| o.service.clone()).unwrap_or_default(),
            severity: kind.severity(),
            detail,
        }
    }

    /// Whether this conflict alone needs a human (the seeds' rule: HIGH or CRITICAL).
    pub fn needs_human(&self) -> bool {
        self.severity >= ConflictSeverity::High
    }
}

/// The call graph as plain data: edges `from → to` mean *from calls to*, as everywhere else.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GraphView {
    callees: BTreeMap<String, BTreeSet<String>>,
    callers: BTreeMap<String, BTreeSet<String>>,
}

impl GraphView {
    /// Index the edges once so the queries below are cheap.
    pub fn new(edges: &[(String, String)]) -> Self {
        let mut g = Self::default();
        for (from, to) in edges {
            g.callees
                .entry(from.clone())
                .or_default()
                .insert(to.clone());
            g.callers
                .entry(to.clone())
                .or_default()
                .insert(from.clone());
        }
        g
    }

    /// Does `from` call `to` directly?
    pub fn calls(&self, from: &str, to: &str) -> bool {
        self.callees.get(from).is_some_and(|c| c.contains(to))
    }

    /// Length of the shortest call path `from →…→ to` (1 = direct call), if any.
    pub fn path_len(&self, from: &str, to: &str) -> Option<usize> {
        let mut seen = BTreeSet::from([from.to_string()]);
        let mut queue = VecDeque::from([(from.to_string(), 0usize)]);
        while let Some((s, d)) = queue.pop_front() {
            for next in self.callees.get(&s).into_iter().flatten() {
                if next == to {
                    return Some(d + 1);
                }
                if seen.insert(next.clone()) {
                    queue.push_back((next.clone(), d + 1));
                }
            }
        }
        None
    }

    /// Every service that transitively calls `service` (without `service` itself): who suffers if
    /// it breaks. The same definition the `DependencyGraph` port uses for its gate.
    pub fn blast_radius(&self, service: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut queue = VecDeque::from([service.to_string()]);
        while let Some(s) = queue.pop_front() {
            for caller in self.callers.get(&s).into_iter().flatten() {
                if caller != service && seen.insert(caller.clone()) {
                    queue.push_back(caller.clone());
                }
            }
        }
        seen
    }
}

/// Limits that are policy rather than graph facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConflictLimits {
    /// Operations allowed in flight at once; reaching it with the others is a conflict.
    pub max_concurrent: usize,
}

impl Default for ConflictLimits {
    fn default() -> Self {
        Self { max_concurrent: 3 }
    }
}

/// Every conflict between `new_op` and the other `active` operations (an entry with the same
/// incident is the new operation itself and is skipped). Per other operation the closest call
/// relation wins (direct, else dependency, else transitive), a shared resource is reported beside
/// it, and a blast-radius overlap only when nothing closer relates the two. Sorted most severe
/// first, then by incident, so the first entry is the one to show.
pub fn detect_conflicts(
    new_op: &Operation,
    active: &[Operation],
    graph: &GraphView,
    limits: ConflictLimits,
) -> Vec<Conflict> {
    let others: Vec<&Operation> = active
        .iter()
        .filter(|o| o.incident != new_op.incident)
        .collect();
    let mut out = Vec::new();
    if others.len() >= limits.max_concurrent {
        let list = others
            .iter()
            .map(|o| format!("{} on {}", o.incident, o.service))
            .collect::<Vec<_>>()
            .join(", ");
        out.push(Conflict::new(
            ConflictKind::ConcurrencyLimit,
            None,
            format!(
                "{} operations already in flight ({list}), at or above the limit of {}",
                others.len(),
                limits.max_concurrent
            ),
        ));
    }
    let new_blast = graph.blast_radius(&new_op.service);
    for other in others {
        out.extend(pair_conflicts(new_op, &new_blast, other, graph));
    }
    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.other_incident.cmp(&b.other_incident))
            .then_with(|| a.kind.cmp(&b.kind))
    });
    out
}

fn pair_conflicts(
    new_op: &Operation,
    new_blast: &BTreeSet<String>,
    other: &Operation,
    graph: &GraphView,
) -> Vec<Conflict> {
    let (a, b) = (new_op.service.as_str(), other.service.as_str());
    let at = |o: &Operation| format!("{} ({} on {})", o.incident, o.phase, o.service);
    if new_op.scope == Scope::System || other.scope == Scope::System {
        let holder = if other.scope == Scope::System {
            other
        } else {
            new_op
        };
        return vec![Conflict::new(
            ConflictKind::SystemFreeze,
            Some(other),
            format!(
                "{} holds the system scope: no other operation may run beside it",
                at(holder)
            ),
        )];
    }
    let mut out = Vec::new();
    let mut related = false;
    if a == b {
        related = true;
        out.push(Conflict::new(
            ConflictKind::Direct,
            Some(other),
            format!("{} is already changing {b}", at(other)),
        ));
    } else if graph.calls(a, b) || graph.calls(b, a) {
        related = true;
        let (caller, callee) = if graph.calls(a, b) { (a, b) } else { (b, a) };
        out.push(Conflict::new(
            ConflictKind::Dependency,
            Some(other),
            format!(
                "{caller} calls {callee} directly, and {} is changing {b}",
                at(other)
            ),
        ));
    } else {
        let path = match (graph.path_len(a, b), graph.path_len(b, a)) {
            (Some(n), _) => Some((a, b, n)),
            (None, Some(n)) => Some((b, a, n)),
            (None, None) => None,
        };
        if let Some((from, to, n)) = path {
            related = true;
            out.push(Conflict::new(
                ConflictKind::TransitiveDependency,
                Some(other),
                format!(
                    "{from} reaches {to} through {n} calls, and {} is changing {b}",
                    at(other)
                ),
            ));
        }
    }
    let shared: Vec<&str> = new_op
        .resources
        .iter()
        .filter(|r| other.resources.contains(r))
        .map(String::as_str)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // Same service: sharing its own resources is implied by the direct conflict.
    if !shared.is_empty() && a != b {
        related = true;
        out.push(Conflict::new(
            ConflictKind::SharedResource,
            Some(other),
            format!(
                "{a} and {b} both use {}, and {} is changing {b}",
                shared.join(", "),
                at(other)
            ),
        ));
    }
    if !related {
        let other_blast = graph.blast_radius(b);
        let overlap: Vec<&String> = new_blast.intersection(&other_blast).collect();
        if !overlap.is_empty() {
            let names = overlap
                .iter()
                .take(5)
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            let more = if overlap.len() > 5 { ", …" } else { "" };
            out.push(Conflict::new(
                ConflictKind::BlastRadiusOverlap,
                Some(other),
                format!(
                    "{} services depend on both {a} and {b} ({names}{more}); {} is changing {b}",
                    overlap.len(),
                    at(other)
                ),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small fleet shaped like the demo: gateway → api → {user, order}; user → payment;
    /// order → payment; payment → postgres; api → search; cache is an island.
    fn graph() -> GraphView {
        let e = |a: &str, b: &str| (a.to_string(), b.to_string());
        GraphView::new(&[
            e("gateway", "api"),
            e("api", "user"),
            e("api", "order"),
            e("api", "search"),
            e("user", "payment"),
            e("order", "payment"),
            e("payment", "postgres"),
        ])
    }

    fn op(incident: &str, service: &str, resources: &[&str]) -> Operation {
        Operation::new(
            incident,
            service,
            resources.iter().map(|r| r.to_string()).collect(),
            0,
            "GATES_PASSED",
        )
    }

    fn kinds(c: &[Conflict]) -> Vec<(ConflictKind, ConflictSeverity)> {
        c.iter().map(|c| (c.kind, c.severity)).collect()
    }

    /// (new service, its resources, other service, its resources, expected kinds and severities)
    type Case = (
        &'static str,
        &'static [&'static str],
        &'static str,
        &'static [&'static str],
        Vec<(ConflictKind, ConflictSeverity)>,
    );

    #[test]
    fn each_kind_and_its_severity() {
        use ConflictKind::*;
        use ConflictSeverity::*;
        let g = graph();
        let lim = ConflictLimits::default();
        let cases: Vec<Case> = vec![
            ("payment", &[], "payment", &[], vec![(Direct, Critical)]),
            (
                "payment",
                &["pg"],
                "payment",
                &["pg"],
                vec![(Direct, Critical)],
            ),
            ("user", &[], "payment", &[], vec![(Dependency, High)]),
            ("payment", &[], "user", &[], vec![(Dependency, High)]),
            (
                "api",
                &[],
                "payment",
                &[],
                vec![(TransitiveDependency, Medium)],
            ),
            (
                "postgres",
                &[],
                "gateway",
                &[],
                vec![(TransitiveDependency, Medium)],
            ),
            (
                "search",
                &["redis"],
                "cache",
                &["redis"],
                vec![(SharedResource, High)],
            ),
            (
                "user",
                &["pg", "redis"],
                "payment",
                &["pg"],
                vec![(Dependency, High), (SharedResource, High)],
            ),
            ("user", &[], "search", &[], vec![(BlastRadiusOverlap, Low)]),
            ("user", &[], "order", &[], vec![(BlastRadiusOverlap, Low)]),
            ("search", &[], "cache", &[], vec![]),
            ("gateway", &[], "cache", &[], vec![]),
        ];
        for (a, ra, b, rb, want) in cases {
            let got = detect_conflicts(&op("INC-NEW", a, ra), &[op("INC-OLD", b, rb)], &g, lim);
            assert_eq!(kinds(&got), want, "{a} vs {b}");
            for c in &got {
                assert_eq!(c.other_incident, "INC-OLD");
                assert_eq!(c.other_service, b);
                assert!(!c.detail.is_empty());
            }
        }
    }

    #[test]
    fn system_scope_freezes_everything_either_way() {
        let g = graph();
        let mut freeze = op("INC-FREEZE", "fleet", &[]);
        freeze.scope = Scope::System;
        let got = detect_conflicts(
            &op("INC-NEW", "cache", &[]),
            std::slice::from_ref(&freeze),
            &g,
            ConflictLimits::default(),
        );
        assert_eq!(
            kinds(&got),
            vec![(ConflictKind::SystemFreeze, ConflictSeverity::Critical)]
        );
        let got = detect_conflicts(
            &freeze,
            &[op("INC-OTHER", "cache", &[])],
            &g,
            ConflictLimits::default(),
        );
        assert_eq!(got[0].kind, ConflictKind::SystemFreeze);
        assert_eq!(got[0].other_incident, "INC-OTHER");
    }

    #[test]
    fn concurrency_limit_counts_others_not_itself() {
        let g = graph();
        let lim = ConflictLimits { max_concurrent: 2 };
        let new = op("INC-NEW", "cache", &[]);
        let one = [new.clone(), op("INC-1", "island-a", &[])];
        assert!(
            detect_conflicts(&new, &one, &g, lim).is_empty(),
            "itself never counts"
        );
        let two = [
            new.clone(),
            op("INC-1", "island-a", &[]),
            op("INC-2", "island-b", &[]),
        ];
        let got = detect_conflicts(&new, &two, &g, lim);
        assert_eq!(
            kinds(&got),
            vec![(ConflictKind::ConcurrencyLimit, ConflictSeverity::High)]
        );
        assert!(got[0].other_incident.is_empty());
        assert!(got[0].detail.contains("INC-1") && got[0].detail.contains("INC-2"));
    }

    #[test]
    fn sorted_most_severe_first() {
        let g = graph();
        let got = detect_conflicts(
            &op("INC-NEW", "user", &[]),
            &[
                op("INC-A", "search", &[]),
                op("INC-B", "payment", &[]),
                op("INC-C", "user", &[]),
            ],
            &g,
            ConflictLimits { max_concurrent: 10 },
        );
        let sev: Vec<ConflictSeverity> = got.iter().map(|c| c.severity).collect();
        assert_eq!(
            sev,
            vec![
                ConflictSeverity::Critical,
                ConflictSeverity::High,
                ConflictSeverity::Low
            ]
        );
        assert_eq!(got[0].other_incident, "INC-C");
        assert!(got[0].needs_human() && got[1].needs_human() && !got[2].needs_human());
    }

    #[test]
    fn graph_queries() {
        let g = graph();
        assert!(g.calls("user", "payment"));
        assert!(!g.calls("payment", "user"));
        assert_eq!(g.path_len("gateway", "postgres"), Some(4));
        assert_eq!(g.path_len("postgres", "gateway"), None);
        let br: Vec<String> = g.blast_radius("payment").into_iter().collect();
        assert_eq!(br, ["api", "gateway", "order", "user"]);
        assert!(g.blast_radius("gateway").is_empty());
    }

    #[test]
    fn every_kind_has_a_severity_and_serde_spelling() {
        for k in ConflictKind::ALL {
            let s = serde_json::to_value(k).expect("serializes");
            assert!(s
                .as_str()
                .is_some_and(|s| s.chars().all(|c| c.is_ascii_lowercase() || c == '_')));
            let _ = k.severity();
        }
        let o = op("INC-1", "payment", &["pg"]);
        let json = serde_json::to_string(&o).expect("serializes");
        let back: Operation = serde_json::from_str(&json).expect("parses");
        assert_eq!(back, o);
        let old: Operation = serde_json::from_str(
            r#"{"incident":"INC-2","service":"x","started_ms":5,"phase":"LOCKED"}"#,
        )
        .expect("scope and resources are optional");
        assert_eq!(old.scope, Scope::Service);
    }
}
