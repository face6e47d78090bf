//! The recovery desk of `ccp serve`: every failed pipeline or deployment a CI webhook reports
//! becomes a recovery case — categorized, given a decision tree, and run by the orchestrator on
//! its own thread, so a slow rollback or a gate waiting for a human never holds up the webhook or
//! the incident pipeline. Cases show in `/api/state` (`recoveries`) as they progress; a gate
//! waits for `POST /api/recoveries/{id}/approve|reject` (or `--auto-approve|--auto-reject`);
//! `/metrics` counts cases and outcomes.
//!
//! Audit: each case's opening, every step and its end are appended to `recovery-audit.jsonl`,
//! next to the pipeline's `audit.jsonl`, in the same hash-chained format (`ccp audit verify`
//! checks it). It is a separate chain because the audit log has exactly one writer per file and
//! the incident pipeline holds that writer for the whole of each run; a second writer on the same
//! file would break the chain.

use crate::ServeApproval;
use ccp_adapters::recovery_scripts::ScriptActions;
use ccp_audit::FileAuditLog;
use ccp_cicd_recovery::actions::{RecoveryActions, SimulatedActions};
use ccp_cicd_recovery::case::FailureInput;
use ccp_cicd_recovery::categorizer::{Categorizer, Evidence};
use ccp_cicd_recovery::category::{Category, Severity};
use ccp_cicd_recovery::exec::{
    Approver, AutoApprover, GateAnswer, GateRequest, Outcome, TraceEntry,
};
use ccp_cicd_recovery::orchestrator::{Orchestrator, PhaseReport, RecoveryCase, RecoveryReport};
use ccp_cicd_recovery::phase::Phase;
use ccp_cicd_recovery::policy::Policies;
use ccp_cicd_recovery::tree::TreeSet;
use ccp_config::cicd_recovery::{ActionsBackend, RecoveryConfig};
use ccp_core::exposition::{Exposition, Kind};
use ccp_webhooks::CiEvent;
use serde::Serialize;
use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Arc, Mutex, MutexGuard};
use time::format_description::well_known::Rfc3339;

/// Cases kept in `/api/state`, newest last.
const CASES_KEPT: usize = 100;
/// Cases running at once; more are recorded but not started (a webhook storm must not become a
/// thread storm).
pub const MAX_RUNNING: usize = 8;
/// Delivery ids remembered to ignore a provider's retried delivery.
const DELIVERIES_KEPT: usize = 500;

/// A gate waiting for a human.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WaitingGate {
    /// Gate node (or the node a policy gate guards).
    pub node: String,
    /// What is asked.
    pub reason: String,
    /// Whether the policy inserted it.
    pub policy: bool,
    /// Seconds it waits before the tree's timeout path.
    pub timeout_s: u64,
}

/// One recovery case as `/api/state` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseView {
    /// `REC-0001`, …
    pub id: String,
    /// CI provider.
    pub provider: String,
    /// Repository or pipeline.
    pub project: String,
    /// `pipeline_failed` or `deployment_failed`.
    pub kind: String,
    /// Environment the case runs under.
    pub environment: String,
    /// The CI event's one-line summary.
    pub summary: String,
    /// Link to the run.
    pub url: Option<String>,
    /// Category.
    pub category: Category,
    /// Severity.
    pub severity: Severity,
    /// Confidence.
    pub confidence: f64,
    /// What decided the category.
    pub evidence: Vec<Evidence>,
    /// Decision tree chosen.
    pub tree: Option<String>,
    /// Phase now.
    pub phase: Phase,
    /// `running`, `awaiting_approval`, `not_started`, or the outcome.
    pub status: String,
    /// The gate it waits at.
    pub awaiting_approval: Option<WaitingGate>,
    /// Every step so far.
    pub trace: Vec<TraceEntry>,
    /// The seven phases, once finished.
    pub phases: Vec<PhaseReport>,
    /// Why it finished.
    pub reason: Option<String>,
    /// When it opened (RFC 3339).
    pub opened_at: String,
    /// When it finished.
    pub finished_at: Option<String>,
}

#[derive(Debug, Default)]
struct Counters {
    cases: BTreeMap<(Category, Severity), u64>,
    outcomes: BTreeMap<Outcome, u64>,
}

/// Shared between the webhook sink, the HTTP handlers and the case threads.
pub struct RecoveryDesk {
    categorizer: Categorizer,
    trees: TreeSet,
    actions: Arc<dyn RecoveryActions>,
    policies: Policies,
    default_env: String,
    approval: ServeApproval,
    cases: Mutex<Vec<CaseView>>,
    waiting: Mutex<BTreeMap<String, Sender<GateAnswer>>>,
    counters: Mutex<Counters>,
    deliveries: Mutex<VecDeque<String>>,
    audit: Mutex<Option<FileAuditLog>>,
    audit_path: PathBuf,
    next_id: Mutex<u64>,
}

/// Why the desk could not be set up (bad rule or tree files, bad action settings, an unreadable
/// recovery audit log); `ccp serve` refuses to start with it.
#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    /// A rule or tree file is invalid (`file:line:col: message`).
    #[error(transparent)]
    Config(#[from] ccp_config::ConfigError),
    /// `recovery.actions` cannot run scripts.
    #[error(transparent)]
    Actions(#[from] ccp_adapters::recovery_scripts::ScriptActionsError),
    /// The recovery audit log cannot be opened (or its chain is broken).
    #[error(transparent)]
    Audit(#[from] ccp_audit::AuditError),
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// Everything the desk reads from the files the configuration names (rules, trees, action
/// scripts), loaded and checked the way `ccp serve` loads them; `ccp config check` calls this so
/// that "ok" means serve would start.
pub fn load_recovery_files(
    cfg: &RecoveryConfig,
) -> Result<(Categorizer, TreeSet, Arc<dyn RecoveryActions>), DeskError> {
    let categorizer = match &cfg.rules {
        Some(p) => Categorizer::with_user_file(p)?,
        None => Categorizer::embedded()?,
    };
    let trees = TreeSet::with_files(&cfg.trees)?;
    let actions: Arc<dyn RecoveryActions> = match cfg.actions.backend {
        ActionsBackend::Simulated => Arc::new(SimulatedActions::new()),
        ActionsBackend::Script => Arc::new(ScriptActions::from_config(&cfg.actions)?),
    };
    Ok((categorizer, trees, actions))
}

/// `recovery-audit.jsonl` next to the pipeline's audit log.
pub fn audit_path_for(pipeline_audit: &Path) -> PathBuf {
    pipeline_audit.with_file_name("recovery-audit.jsonl")
}

impl RecoveryDesk {
    /// Load rules, trees and actions from `cfg`; `default_env` is the configuration's
    /// `environment`, used when a failure names none; `audit_path` is where steps are chained.
    pub fn new(
        cfg: &RecoveryConfig,
        default_env: &str,
        approval: ServeApproval,
        audit_path: &Path,
        fsync: bool,
    ) -> Result<RecoveryDesk, DeskError> {
        let (categorizer, trees, actions) = load_recovery_files(cfg)?;
        let audit = FileAuditLog::open(audit_path, fsync)?;
        Ok(RecoveryDesk {
            categorizer,
            trees,
            actions,
            policies: cfg.policies.clone(),
            default_env: default_env.to_string(),
            approval,
            cases: Mutex::new(Vec::new()),
            waiting: Mutex::new(BTreeMap::new()),
            counters: Mutex::new(Counters::default()),
            deliveries: Mutex::new(VecDeque::new()),
            audit: Mutex::new(Some(audit)),
            audit_path: audit_path.to_path_buf(),
            next_id: Mutex::new(1),
        })
    }

    /// The recovery audit log's path.
    pub fn audit_path(&self) -> &Path {
        &self.audit_path
    }

    /// The cases, oldest first.
    pub fn cases(&self) -> Vec<CaseView> {
        lock(&self.cases).clone()
    }

    fn audit(&self, kind: &str, actor: &str, data: serde_json::Value) {
        let mut guard = lock(&self.audit);
        if let Some(log) = guard.as_mut() {
            if let Err(e) = log.append(&now(), actor, kind, data) {
                // The log refuses further appends after a failed write; say so once, loudly.
                tracing::error!("recovery audit log: {e}");
                *guard = None;
            }
        }
    }

    fn update(&self, id: &str, f: impl FnOnce(&mut CaseView)) {
        if let Some(c) = lock(&self.cases).iter_mut().rev().find(|c| c.id == id) {
            f(c);
        }
    }

    /// Take an authenticated CI delivery: a failure opens a case (unless the same delivery was
    /// seen before) and starts it on its own thread; anything else is ignored. Returns the new
    /// case id. Never blocks for long: categorization is a few regexes.
    pub fn open(self: &Arc<Self>, event: &CiEvent, payload: &serde_json::Value) -> Option<String> {
        if !event.kind.is_failure() {
            return None;
        }
        // Sameness comes from the signed body, not from a delivery header the signature may not
        // cover: a replayed capture with a fresh header is still the same event.
        {
            let key = event.replay_key();
            let mut seen = lock(&self.deliveries);
            if seen.contains(&key) {
                tracing::info!(
                    key = key.as_str(),
                    "CI delivery already seen (a retry or a replay); its recovery case exists"
                );
                return None;
            }
            seen.push_back(key);
            if seen.len() > DELIVERIES_KEPT {
                seen.pop_front();
            }
        }
        let input = FailureInput::from_ci(event, payload);
        let cat = self.categorizer.categorize(&input);
        let id = {
            let mut n = lock(&self.next_id);
            let id = format!("REC-{:04}", *n);
            *n += 1;
            id
        };
        let case = RecoveryCase::new(id.clone(), input, cat.clone(), &self.default_env);
        let tree = Orchestrator {
            trees: &self.trees,
            actions: self.actions.as_ref(),
            approver: &AutoApprover::Nobody,
            policies: &self.policies,
        }
        .choose(&case)
        .map(|t| t.name.clone());
        let running = lock(&self.cases)
            .iter()
            .filter(|c| c.finished_at.is_none() && c.status != "not_started")
            .count();
        let start = running < MAX_RUNNING;
        let view = CaseView {
            id: id.clone(),
            provider: event.provider.name().to_string(),
            project: event.project.clone(),
            kind: case.input.metadata.get("kind").cloned().unwrap_or_default(),
            environment: case.environment.clone(),
            summary: event.summary.clone(),
            url: event.url.clone(),
            category: cat.category,
            severity: cat.severity,
            confidence: cat.confidence,
            evidence: cat.evidence.clone(),
            tree: tree.clone(),
            phase: Phase::Preparation,
            status: if start { "running" } else { "not_started" }.into(),
            awaiting_approval: None,
            trace: Vec::new(),
            phases: Vec::new(),
            reason: (!start).then(|| {
                format!("{MAX_RUNNING} recoveries are already running; handle this one by hand")
            }),
            opened_at: now(),
            finished_at: None,
        };
        {
            let mut cases = lock(&self.cases);
            cases.push(view);
            if cases.len() > CASES_KEPT {
                // Drop the oldest finished case; running ones stay visible.
                if let Some(i) = cases.iter().position(|c| c.finished_at.is_some()) {
                    cases.remove(i);
                }
            }
        }
        *lock(&self.counters)
            .cases
            .entry((cat.category, cat.severity))
            .or_default() += 1;
        let opened = serde_json::json!({
            "case": id, "provider": event.provider.name(), "project": event.project,
            "kind": case.input.metadata.get("kind"), "run_id": event.run_id,
            "environment": case.environment, "category": cat.category,
            "severity": cat.severity, "confidence": cat.confidence,
            "evidence": cat.evidence, "tree": tree, "started": start,
        });
        tracing::info!(
            case = id,
            category = cat.category.as_str(),
            severity = cat.severity.as_str(),
            "recovery case opened"
        );
        // Audit appends are fsync'd, so even the opening record is written off the HTTP thread.
        let desk = self.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("recovery-{id}"))
            .spawn(move || {
                desk.audit("recovery_opened", "ccp-serve", opened);
                if start {
                    desk.run(case);
                }
            });
        if let Err(e) = spawned {
            self.update(&id, |c| {
                c.status = "not_started".into();
                c.reason = Some(format!("could not start a thread: {e}"));
            });
        }
        Some(id)
    }

    /// Run one case to its end (on its own thread).
    fn run(self: Arc<Self>, case: RecoveryCase) {
        let approver: Box<dyn Approver> = match self.approval {
            ServeApproval::Http => Box::new(HttpApprover { desk: self.clone() }),
            ServeApproval::Auto(a) => Box::new(AutoApprover::from(Some(a))),
        };
        let orchestrator = Orchestrator {
            trees: &self.trees,
            actions: self.actions.as_ref(),
            approver: approver.as_ref(),
            policies: &self.policies,
        };
        let id = case.id.clone();
        let observer = |e: &TraceEntry| {
            self.audit(
                "recovery_step",
                "ccp-serve",
                serde_json::json!({"case": id, "step": e}),
            );
            self.update(&id, |c| {
                c.phase = e.phase;
                c.trace.push(e.clone());
            });
        };
        let report = orchestrator.run(&case, None, &observer);
        self.finish(&report);
    }

    fn finish(&self, report: &RecoveryReport) {
        // Audit first: once the state says finished, the chain already holds the whole case.
        self.audit(
            "recovery_finished",
            "ccp-serve",
            serde_json::json!({
                "case": report.case_id, "outcome": report.outcome, "reason": report.reason,
                "tree": report.tree, "environment": report.environment,
                "policy": report.policy, "phases": report.phases,
            }),
        );
        *lock(&self.counters)
            .outcomes
            .entry(report.outcome)
            .or_default() += 1;
        self.update(&report.case_id, |c| {
            c.status = report.outcome.as_str().to_string();
            c.reason = Some(report.reason.clone());
            c.phases = report.phases.clone();
            c.awaiting_approval = None;
            c.finished_at = Some(now());
        });
        tracing::info!(
            case = report.case_id,
            outcome = report.outcome.as_str(),
            "recovery case finished"
        );
    }

    /// Answer the gate case `id` waits at. `Err(404)` for an unknown case, `Err(409)` for one
    /// not waiting.
    pub fn decide(&self, id: &str, answer: GateAnswer) -> Result<(), u16> {
        if !lock(&self.cases).iter().any(|c| c.id == id) {
            return Err(404);
        }
        let tx = lock(&self.waiting).remove(id).ok_or(409u16)?;
        tx.send(answer).map_err(|_| 409u16)
    }

    /// The recovery families of `/metrics`.
    pub fn exposition(&self) -> String {
        let counters = lock(&self.counters);
        let waiting = lock(&self.waiting).len();
        let mut w = Exposition::default();
        w.family(
            "ccp_recovery_cases_total",
            Kind::Counter,
            "Recovery cases opened from failed CI pipelines and deployments, by category and severity.",
        );
        for ((c, s), n) in &counters.cases {
            w.row(
                "ccp_recovery_cases_total",
                &[("category", c.as_str()), ("severity", s.as_str())],
                n,
            );
        }
        w.family(
            "ccp_recovery_outcomes_total",
            Kind::Counter,
            "Finished recovery cases, by outcome.",
        );
        for o in Outcome::ALL {
            w.row(
                "ccp_recovery_outcomes_total",
                &[("outcome", o.as_str())],
                counters.outcomes.get(&o).copied().unwrap_or(0),
            );
        }
        w.single(
            "ccp_recovery_awaiting_approval",
            Kind::Gauge,
            "Recovery cases waiting for a human at a gate right now.",
            waiting,
        );
        w.finish()
    }
}

/// Waits for `POST /api/recoveries/{id}/approve|reject`, up to the gate's timeout.
struct HttpApprover {
    desk: Arc<RecoveryDesk>,
}

impl Approver for HttpApprover {
    fn ask(&self, req: &GateRequest) -> GateAnswer {
        let (tx, rx) = channel();
        let gate = WaitingGate {
            node: req.node.clone(),
            reason: req.reason.clone(),
            policy: req.policy,
            timeout_s: req.timeout.as_secs(),
        };
        // Listen before announcing, so a decision posted the moment the state shows the gate
        // finds it.
        lock(&self.desk.waiting).insert(req.case_id.clone(), tx);
        self.desk.update(&req.case_id, |c| {
            c.status = "awaiting_approval".into();
            c.awaiting_approval = Some(gate);
        });
        let answer = rx.recv_timeout(req.timeout).unwrap_or(GateAnswer::TimedOut);
        lock(&self.desk.waiting).remove(&req.case_id);
        self.desk.update(&req.case_id, |c| {
            c.status = "running".into();
            c.awaiting_approval = None;
        });
        answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ccp_webhooks::{CiEventKind, Provider};
    use std::time::{Duration, Instant};

    fn event(env: &str, delivery: &str) -> CiEvent {
        CiEvent {
            provider: Provider::Generic,
            kind: CiEventKind::DeploymentFailed,
            event: "deployment".into(),
            status: "failed".into(),
            project: "shop/api".into(),
            run_id: Some(format!("run-{delivery}")),
            git_ref: None,
            commit: None,
            url: None,
            environment: Some(env.into()),
            failed_jobs: vec![],
            failed_stage: None,
            attempt: None,
            delivery_id: Some(delivery.into()),
            summary: "CI deployment failed: shop/api".into(),
        }
    }

    #[test]
    fn a_rerun_of_the_same_pipeline_is_a_new_failure() {
        let dir = tempfile::tempdir().unwrap();
        let desk = Arc::new(
            RecoveryDesk::new(
                &RecoveryConfig::default(),
                "staging",
                ServeApproval::Auto(ccp_core::events::AutoAnswer::Approve),
                &dir.path().join("recovery-audit.jsonl"),
                false,
            )
            .unwrap(),
        );
        let payload = serde_json::json!({});
        assert!(desk.open(&event("staging", "d1"), &payload).is_some());
        assert_eq!(desk.open(&event("staging", "d1"), &payload), None);
        let mut rerun = event("staging", "d1");
        rerun.attempt = Some("2".into());
        assert!(desk.open(&rerun, &payload).is_some());
    }

    fn wait_for(desk: &RecoveryDesk, id: &str, status: &str) -> CaseView {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let c = desk.cases().into_iter().find(|c| c.id == id).unwrap();
            if c.status == status {
                return c;
            }
            assert!(
                Instant::now() < deadline,
                "{id} stuck in {}: {c:?}",
                c.status
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn a_production_case_waits_for_http_and_is_audited() {
        let dir = tempfile::tempdir().unwrap();
        let audit = dir.path().join("recovery-audit.jsonl");
        let desk = Arc::new(
            RecoveryDesk::new(
                &RecoveryConfig::default(),
                "production",
                ServeApproval::Http,
                &audit,
                false,
            )
            .unwrap(),
        );
        let payload =
            serde_json::json!({"logs": ["Error: environment variable DATABASE_URL is not set"]});
        let id = desk.open(&event("production", "d1"), &payload).unwrap();
        assert_eq!(id, "REC-0001");
        // A retried delivery opens nothing, and neither does a replay of the same signed body
        // under a fresh delivery header.
        assert_eq!(desk.open(&event("production", "d1"), &payload), None);
        let mut replayed = event("production", "d1");
        replayed.delivery_id = Some("a-fresh-header".into());
        assert_eq!(desk.open(&replayed, &payload), None);
        let c = wait_for(&desk, &id, "awaiting_approval");
        assert_eq!(c.category, Category::Configuration);
        assert_eq!(c.tree.as_deref(), Some("rollback-on-deploy-failure"));
        assert_eq!(
            c.awaiting_approval.map(|g| g.node),
            Some("approve_rollback".to_string())
        );
        assert_eq!(desk.decide("REC-9999", GateAnswer::TimedOut), Err(404));
        assert!(desk
            .exposition()
            .contains("ccp_recovery_awaiting_approval 1\n"));
        desk.decide(
            &id,
            GateAnswer::Approved {
                actor: "oncall".into(),
                comment: String::new(),
            },
        )
        .unwrap();
        let c = wait_for(&desk, &id, "recovered");
        assert_eq!(desk.decide(&id, GateAnswer::TimedOut), Err(409));
        assert_eq!(c.phases.len(), 7);
        let metrics = desk.exposition();
        for want in [
            "ccp_recovery_cases_total{category=\"configuration\",severity=\"high\"} 1\n",
            "ccp_recovery_outcomes_total{outcome=\"recovered\"} 1\n",
            "ccp_recovery_awaiting_approval 0\n",
        ] {
            assert!(metrics.contains(want), "missing {want:?} in\n{metrics}");
        }
        let report = ccp_audit::verify_file(&audit).unwrap();
        assert!(report.is_intact());
        let records = ccp_audit::read_records(&audit).unwrap();
        assert_eq!(
            records.first().map(|r| r.kind.as_str()),
            Some("recovery_opened")
        );
        assert_eq!(
            records.last().map(|r| r.kind.as_str()),
            Some("recovery_finished")
        );
        assert_eq!(records.len(), c.trace.len() + 2);
    }
}
