//! The incident desk: a long-running service's way of handling incidents *concurrently*.
//!
//! One dispatcher polls the configured alert sources for everybody. An alert for a service that
//! has no incident in flight queues one; up to `locks.max_concurrent_operations` pipelines run at
//! once, each owning the incident of one service and paused only by its own approval. An alert
//! for a service whose incident is queued or running joins it: it never opens a duplicate. After
//! an incident ends, its service re-arms once a poll finds it quiet, so an alert that is still
//! firing (a rollback, an escalation) does not page again in a loop.
//!
//! The pipelines share the backends (fleet, graph, locks, the operations registry, which is how
//! conflict detection and the override rules act between them) and one audit log. Every event
//! goes into one numbered [`stream::EventStream`] that front-ends follow and resume.

pub mod routed;
pub mod stream;

use crate::backends::{self, BuildInputs};
use crate::{PortOverrides, RunOptions, ServeApproval};
use anyhow::{Context, Result};
use ccp_core::bus::EventBus;
use ccp_core::clock::Clock;
use ccp_core::domain::Alert;
use ccp_core::events::{Command, Event, EventKind};
use ccp_core::pipeline::{Pipeline, Ports};
use ccp_core::ports::{AlertSource, Notifier};
use ccp_webhooks::alertmanager::AlertInbox;
use routed::{RoutedAlerts, SharedAudit};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use stream::EventStream;

/// How long the dependency graph read for alert correlation is reused.
const GRAPH_TTL: Duration = Duration::from_secs(30);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// An incident whose pipeline is running.
struct Running {
    service: String,
    commands: Sender<Command>,
    alerts: Arc<RoutedAlerts>,
    thread: JoinHandle<()>,
    /// Alerts that joined it (`HighLatency on payment-service`, `HighErrorRate on api`): later
    /// alerts on its service and alerts on its callers, never a new incident.
    joined: BTreeSet<String>,
}

/// An alert waiting for a free slot.
struct Queued {
    service: String,
    alerts: Vec<Alert>,
    /// Alerts on callers that joined as symptoms (`HighErrorRate on api`).
    symptoms: BTreeSet<String>,
    since_ms: i64,
}

/// What `/api/state`, `/metrics` and the cockpit show of the desk.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct DeskSnapshot {
    /// Incidents running now, oldest first.
    pub running: Vec<RunningInfo>,
    /// Services waiting for a free slot, first in line first.
    pub queued: Vec<QueuedInfo>,
    /// Pipelines allowed at once.
    pub max_concurrent: usize,
    /// Services whose incident ended while their alert still fired: no new incident until a
    /// poll finds them quiet.
    pub cooling: Vec<String>,
    /// Alerts that joined an incident already queued or running, since start.
    pub alerts_joined: u64,
}

impl DeskSnapshot {
    /// The running set and the queue in one line, for a cockpit: `2 running · 1 queued: api`.
    pub fn line(&self) -> String {
        let mut s = format!("{} running", self.running.len());
        if !self.queued.is_empty() {
            let names: Vec<&str> = self.queued.iter().map(|q| q.service.as_str()).collect();
            s.push_str(&format!(" · {} queued: {}", names.len(), names.join(", ")));
        }
        s
    }
}

/// One running incident.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct RunningInfo {
    /// Incident id.
    pub incident: String,
    /// Service.
    pub service: String,
    /// Alerts that joined it (`HighErrorRate on api`).
    pub joined: Vec<String>,
}

/// One queued service.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct QueuedInfo {
    /// Service.
    pub service: String,
    /// Alerts waiting (`HighErrorRate on payment-service`), symptoms on callers included.
    pub alerts: Vec<String>,
    /// When it queued (ms since the epoch, service clock).
    pub since_ms: i64,
}

/// Why a command was not delivered.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CommandRefused {
    /// No such incident (ever).
    #[error("no incident {0}")]
    Unknown(String),
    /// The incident exists but this command has nothing to act on (finished, or not waiting).
    #[error("{0}")]
    NothingWaiting(String),
}

/// Options of a desk.
pub struct DeskOptions {
    /// What each pipeline is built from (configuration, state dir, pace, seed).
    pub run: RunOptions,
    /// How approvals are answered.
    pub approval: ServeApproval,
    /// Alertmanager's webhook inbox, when the front-end receives it.
    pub inbox: Option<Arc<AlertInbox>>,
    /// Stop dispatching once this many incidents have ended (`ccp serve --once`: 1).
    pub stop_after: Option<usize>,
}

struct Shared {
    running: Mutex<BTreeMap<String, Running>>,
    queue: Mutex<VecDeque<Queued>>,
    cooling: Mutex<BTreeSet<String>>,
    joined_total: Mutex<u64>,
    /// Services with a finished incident, by incident id (commands to those answer 409).
    finished: Mutex<BTreeMap<String, String>>,
    stream: EventStream,
    stop: AtomicBool,
    ended: Mutex<usize>,
    /// Approvals delivered per incident: a second one from the same person is refused at once,
    /// even before the pipeline has recorded the first.
    approvers: Mutex<BTreeMap<String, BTreeSet<String>>>,
}

/// A running desk. Dropping it does not stop the pipelines: call [`Desk::shutdown`].
pub struct Desk {
    shared: Arc<Shared>,
    dispatcher: Mutex<Option<JoinHandle<()>>>,
    hub: Mutex<Option<JoinHandle<()>>>,
    /// Where every pipeline's records go.
    pub audit_path: PathBuf,
    /// Pipelines allowed at once.
    pub max_concurrent: usize,
    /// Last stream id read back from the audit log at start (events up to it happened before
    /// this process).
    pub history_end: u64,
    _keep: Mutex<Vec<Box<dyn std::any::Any + Send>>>,
}

impl Desk {
    /// Build the backends once and start dispatching. Alerts are polled from now on.
    pub fn start(opts: DeskOptions) -> Result<Self> {
        let cfg = opts.run.config.clone();
        let demo = crate::demo_dir()?;
        let spec_path = crate::fleet_path(&cfg, &demo)?;
        let spec = ccp_adapters::embedded::fleet_spec::FleetSpec::load(&spec_path)?;
        let seed = opts.run.seed.unwrap_or(spec.seed);
        let clock = crate::run_clock(&opts.run);
        std::fs::create_dir_all(&opts.run.state_dir).with_context(|| {
            format!("creating state directory {}", opts.run.state_dir.display())
        })?;
        let audit_path = cfg.audit_path(&opts.run.state_dir);
        let fleet_dir = spec_path
            .parent()
            .unwrap_or(std::path::Path::new("."))
            .to_path_buf();
        let built = backends::build(BuildInputs {
            cfg: &cfg,
            spec,
            fleet_dir: &fleet_dir,
            demo_dir: &demo,
            external_inbox: opts.inbox.clone(),
            seed,
            clock: clock.clone(),
            audit_path: &audit_path,
            inject_regression: false,
            overrides: PortOverrides::default(),
        })?;
        let max_concurrent = (cfg.locks.max_concurrent_operations as usize).max(1);
        let shared = Arc::new(Shared {
            running: Mutex::new(BTreeMap::new()),
            queue: Mutex::new(VecDeque::new()),
            cooling: Mutex::new(BTreeSet::new()),
            joined_total: Mutex::new(0),
            finished: Mutex::new(BTreeMap::new()),
            stream: EventStream::starting_at(
                u64::try_from(ccp_core::clock::wall_now_ms())
                    .unwrap_or(1)
                    .saturating_mul(1000),
            ),
            stop: AtomicBool::new(false),
            ended: Mutex::new(0),
            approvers: Mutex::new(BTreeMap::new()),
        });
        seed_from_audit(&shared.stream, &audit_path);
        let history_end = shared.stream.latest();
        let bus = EventBus::new();
        let hub = spawn_hub(bus.clone(), shared.clone(), opts.approval)?;
        let mut settings = crate::settings_from(&cfg, seed);
        settings.taken_incident_ids = crate::incidents_in(&audit_path);
        let ports = built.ports;
        let template = Template {
            clock: clock.clone(),
            source: ports.alerts.clone(),
            ports: PortsTemplate {
                audit: SharedAudit(Arc::new(Mutex::new(ports.audit))),
                clock: ports.clock,
                metrics: ports.metrics,
                errors: ports.errors,
                graph: ports.graph,
                repo: ports.repo,
                fixer: ports.fixer,
                checks: ports.checks,
                deployer: ports.deployer,
                locks: ports.locks,
                policy: ports.policy,
                registry: ports.registry,
            },
            notifier: built.notifier,
            settings,
            bus,
            poll_ms: cfg.detection.poll_interval_s.saturating_mul(1000).max(100),
            max_concurrent,
            stop_after: opts.stop_after,
        };
        let d_shared = shared.clone();
        let dispatcher = std::thread::Builder::new()
            .name("ccp-desk".into())
            .spawn(move || dispatch(template, d_shared))
            .context("starting the incident dispatcher")?;
        Ok(Self {
            shared,
            dispatcher: Mutex::new(Some(dispatcher)),
            hub: Mutex::new(Some(hub)),
            audit_path,
            max_concurrent,
            history_end,
            _keep: Mutex::new(built.keep),
        })
    }

    /// The numbered stream of every incident's events.
    pub fn stream(&self) -> &EventStream {
        &self.shared.stream
    }

    /// The running set, the queue and what joined.
    pub fn snapshot(&self) -> DeskSnapshot {
        snapshot(&self.shared, self.max_concurrent)
    }

    /// Deliver a command to an incident's pipeline. Approve and reject need the incident to be
    /// waiting for a decision; pause, resume and abort need it running.
    pub fn command(&self, incident: &str, cmd: Command) -> Result<(), CommandRefused> {
        let projection = self.shared.stream.projection();
        let Some(state) = projection.get(incident) else {
            return Err(CommandRefused::Unknown(incident.to_string()));
        };
        if state.finished.is_some() {
            return Err(CommandRefused::NothingWaiting(format!(
                "{incident} has already finished"
            )));
        }
        if matches!(cmd, Command::Approve { .. } | Command::Reject { .. })
            && state.approval.is_none()
        {
            return Err(CommandRefused::NothingWaiting(format!(
                "{incident} is not waiting for approval"
            )));
        }
        let running = lock(&self.shared.running);
        if let (Command::Approve { actor, .. }, Some(a)) = (&cmd, &state.approval) {
            let mut given = lock(&self.shared.approvers);
            let mine = given.entry(incident.to_string()).or_default();
            if a.approved_by.contains(actor) || mine.contains(actor) {
                return Err(CommandRefused::NothingWaiting(format!(
                    "{actor} has already approved {incident}: the two-person rule needs {} different approvers",
                    a.required
                )));
            }
            if running.contains_key(incident) {
                mine.insert(actor.clone());
            }
        }
        match running.get(incident) {
            Some(r) if r.commands.send(cmd).is_ok() => Ok(()),
            _ => Err(CommandRefused::NothingWaiting(format!(
                "{incident} is not running"
            ))),
        }
    }

    /// Whether the desk has stopped on its own (`stop_after` reached).
    pub fn finished(&self) -> bool {
        lock(&self.dispatcher)
            .as_ref()
            .is_none_or(|d| d.is_finished())
    }

    /// Stop taking alerts, abort every running pipeline at its next safe point (a live canary
    /// rolls back; otherwise it escalates) in `actor`'s name, and wait until each has said how
    /// it ended.
    pub fn shutdown(&self, actor: &str, why: &str) {
        self.shared.stop.store(true, Ordering::SeqCst);
        for r in lock(&self.shared.running).values() {
            let _ = r.commands.send(Command::Abort {
                actor: actor.to_string(),
                reason: why.to_string(),
            });
        }
        self.join();
    }

    /// Pipelines running now (what a shutdown will have to stop).
    pub fn running(&self) -> usize {
        lock(&self.shared.running).len()
    }

    /// Wait for the dispatcher (it ends on shutdown or after `stop_after` incidents) and for
    /// the last event to be numbered.
    pub fn join(&self) {
        let d = lock(&self.dispatcher).take();
        if let Some(d) = d {
            let _ = d.join();
        }
        let h = lock(&self.hub).take();
        if let Some(h) = h {
            // The hub ends when the bus has no publisher left; the dispatcher held the last.
            let _ = h.join();
        }
    }
}

/// The ports every pipeline shares, without the alert source each gets its own of.
struct PortsTemplate {
    audit: SharedAudit,
    clock: Arc<dyn Clock>,
    metrics: Arc<dyn ccp_core::ports::MetricsSource>,
    errors: Arc<dyn ccp_core::ports::ErrorLogSource>,
    graph: Arc<dyn ccp_core::ports::DependencyGraph>,
    repo: Arc<dyn ccp_core::ports::CodeRepo>,
    fixer: Arc<dyn ccp_core::ports::FixGenerator>,
    checks: Arc<dyn ccp_core::ports::CheckRunner>,
    deployer: Arc<dyn ccp_core::ports::Deployer>,
    locks: Arc<dyn ccp_core::ports::LockManager>,
    policy: Arc<dyn ccp_core::ports::PolicySource>,
    registry: Arc<dyn ccp_core::ports::OperationRegistry>,
}

impl PortsTemplate {
    fn for_incident(&self, alerts: Arc<RoutedAlerts>) -> Ports {
        Ports {
            clock: self.clock.clone(),
            alerts,
            metrics: self.metrics.clone(),
            errors: self.errors.clone(),
            graph: self.graph.clone(),
            repo: self.repo.clone(),
            fixer: self.fixer.clone(),
            checks: self.checks.clone(),
            deployer: self.deployer.clone(),
            locks: self.locks.clone(),
            policy: self.policy.clone(),
            registry: self.registry.clone(),
            audit: Box::new(self.audit.clone()),
        }
    }
}

/// What the dispatcher starts pipelines from.
struct Template {
    clock: Arc<dyn Clock>,
    source: Arc<dyn AlertSource>,
    ports: PortsTemplate,
    notifier: Arc<dyn Notifier>,
    settings: ccp_core::pipeline::PipelineSettings,
    bus: EventBus,
    poll_ms: u64,
    max_concurrent: usize,
    stop_after: Option<usize>,
}

fn snapshot(shared: &Shared, max_concurrent: usize) -> DeskSnapshot {
    DeskSnapshot {
        running: lock(&shared.running)
            .iter()
            .map(|(id, r)| RunningInfo {
                incident: id.clone(),
                service: r.service.clone(),
                joined: r.joined.iter().cloned().collect(),
            })
            .collect(),
        queued: lock(&shared.queue)
            .iter()
            .map(|q| QueuedInfo {
                service: q.service.clone(),
                alerts: q
                    .alerts
                    .iter()
                    .map(joined_label)
                    .chain(q.symptoms.iter().cloned())
                    .collect(),
                since_ms: q.since_ms,
            })
            .collect(),
        max_concurrent,
        cooling: lock(&shared.cooling).iter().cloned().collect(),
        alerts_joined: *lock(&shared.joined_total),
    }
}

/// Services each service reaches through its calls (transitively): where its symptoms can come
/// from. Built from the dependency graph's edges (caller → callee).
pub fn downstream_of(edges: &[(String, String)]) -> BTreeMap<String, BTreeSet<String>> {
    let mut direct: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (from, to) in edges {
        direct.entry(from.as_str()).or_default().push(to.as_str());
    }
    let mut out = BTreeMap::new();
    for start in direct.keys() {
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut todo: Vec<&str> = direct.get(start).cloned().unwrap_or_default();
        while let Some(n) = todo.pop() {
            if n != *start && seen.insert(n.to_string()) {
                todo.extend(direct.get(n).cloned().unwrap_or_default());
            }
        }
        out.insert(start.to_string(), seen);
    }
    out
}

/// The label an alert joins an incident under.
fn joined_label(a: &Alert) -> String {
    format!("{} on {}", a.name, a.service)
}

/// Route one poll's alerts: join, queue, or hold back while cooling.
///
/// Alerts are correlated through the dependency graph, as an on-call engineer would: an alert on
/// a service whose callees are alerting too (or already have an incident) is a symptom and joins
/// the incident of the failing callee rather than opening its own. Only the most downstream
/// alerting services open incidents; RCA inside each incident still decides the root cause.
fn route(
    shared: &Shared,
    alerts: Vec<Alert>,
    now_ms: i64,
    downstream: &BTreeMap<String, BTreeSet<String>>,
) {
    let firing: BTreeSet<String> = alerts.iter().map(|a| a.service.clone()).collect();
    lock(&shared.cooling).retain(|s| firing.contains(s));
    let below = |s: &str| downstream.get(s);
    // Symptoms last: services with fewer alerting services below them first.
    let mut alerts = alerts;
    alerts.sort_by_key(|a| {
        below(&a.service)
            .map(|d| d.iter().filter(|x| firing.contains(*x)).count())
            .unwrap_or(0)
    });
    let mut running = lock(&shared.running);
    let mut queue = lock(&shared.queue);
    let cooling = lock(&shared.cooling);
    let mut joined_total = lock(&shared.joined_total);
    for a in alerts {
        let label = joined_label(&a);
        let mine = |svc: &str| svc == a.service;
        let beneath = |svc: &str| below(&a.service).is_some_and(|d| d.contains(svc));
        if let Some(r) = running.values_mut().find(|r| mine(&r.service)) {
            if r.joined.insert(label) {
                *joined_total += 1;
            }
        } else if let Some(q) = queue.iter_mut().find(|q| mine(&q.service)) {
            if !q.alerts.iter().any(|x| x.name == a.name) {
                *joined_total += 1;
                q.alerts.push(a);
            }
        } else if cooling.contains(&a.service) {
            tracing::debug!(
                service = a.service,
                "alert held back: its incident just ended"
            );
        } else if let Some(r) = running.values_mut().find(|r| beneath(&r.service)) {
            if r.joined.insert(label) {
                *joined_total += 1;
            }
        } else if let Some(q) = queue.iter_mut().find(|q| beneath(&q.service)) {
            if q.symptoms.insert(label) {
                *joined_total += 1;
            }
        } else if cooling.iter().any(|c| beneath(c)) {
            tracing::debug!(
                service = a.service,
                "alert held back: a service it calls just ended its incident"
            );
        } else {
            queue.push_back(Queued {
                service: a.service.clone(),
                alerts: vec![a],
                symptoms: BTreeSet::new(),
                since_ms: now_ms,
            });
        }
    }
}

fn dispatch(mut t: Template, shared: Arc<Shared>) {
    let mut n: u64 = 0;
    let mut ids_given: BTreeSet<String> = t.settings.taken_incident_ids.clone();
    let mut downstream = BTreeMap::new();
    let mut graph_read: Option<std::time::Instant> = None;
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            // Told to stop: the running pipelines were aborted; wait until each has reached
            // its safe exit (rolled back or escalated) and said so.
            let all: Vec<Running> = std::mem::take(&mut *lock(&shared.running))
                .into_values()
                .collect();
            for r in all {
                let _ = r.thread.join();
            }
            break;
        }
        let now = t.clock.now_ms();
        match t.source.poll(now) {
            Ok(alerts) => {
                if !alerts.is_empty() && graph_read.is_none_or(|at| at.elapsed() > GRAPH_TTL) {
                    match t.ports.graph.edges() {
                        Ok(e) => downstream = downstream_of(&e),
                        Err(e) => tracing::warn!(
                            "dependency graph unreadable, alerts not correlated: {e}"
                        ),
                    }
                    graph_read = Some(std::time::Instant::now());
                }
                route(&shared, alerts, now, &downstream)
            }
            Err(e) => tracing::warn!("alert sources: {e}"),
        }
        for a in t.source.resolved() {
            if let Some(r) = lock(&shared.running)
                .values()
                .find(|r| r.service == a.service)
            {
                r.alerts.resolve(a);
            }
        }
        // Reap.
        let done: Vec<String> = lock(&shared.running)
            .iter()
            .filter(|(_, r)| r.thread.is_finished())
            .map(|(id, _)| id.clone())
            .collect();
        for id in done {
            let r = lock(&shared.running).remove(&id);
            if let Some(r) = r {
                let _ = r.thread.join();
                // Its service and the callers whose alerts joined it re-arm once quiet.
                let mut cooling = lock(&shared.cooling);
                cooling.insert(r.service.clone());
                for j in &r.joined {
                    if let Some((_, svc)) = j.rsplit_once(" on ") {
                        cooling.insert(svc.to_string());
                    }
                }
                drop(cooling);
                lock(&shared.approvers).remove(&id);
                lock(&shared.finished).insert(id, r.service);
                *lock(&shared.ended) += 1;
            }
        }
        if t.stop_after.is_some_and(|k| *lock(&shared.ended) >= k)
            && lock(&shared.running).is_empty()
        {
            break;
        }
        // Start what fits.
        loop {
            let (free, head) = {
                let running = lock(&shared.running);
                let free = running.len() < t.max_concurrent;
                let head = if free {
                    lock(&shared.queue).pop_front()
                } else {
                    None
                };
                (free, head)
            };
            let (true, Some(q)) = (free, head) else { break };
            if t.stop_after.is_some_and(|k| n as usize >= k) {
                break;
            }
            let id = ccp_core::pipeline::incident_id(
                t.settings.seed.wrapping_add(n),
                t.clock.now_ms(),
                &ids_given,
            );
            ids_given.insert(id.clone());
            match start_one(&mut t, &id, q, n) {
                Ok((r, go)) => {
                    lock(&shared.running).insert(id, r);
                    let _ = go.send(());
                }
                Err(e) => tracing::error!("could not start a pipeline for {id}: {e:#}"),
            }
            n += 1;
        }
        // An idle desk moves a paced clock itself (the pipelines do while they run); a wall
        // clock just sleeps.
        if lock(&shared.running).is_empty() {
            t.clock.sleep_ms(t.poll_ms);
            if t.clock.pace() == "instant" {
                std::thread::sleep(Duration::from_millis(5));
            }
        } else {
            std::thread::sleep(Duration::from_millis(match t.clock.pace() {
                "realtime" | "wall" => t.poll_ms.min(1000),
                _ => 50,
            }));
        }
    }
}

fn start_one(t: &mut Template, id: &str, q: Queued, n: u64) -> Result<(Running, Sender<()>)> {
    let symptoms = q.symptoms;
    let alerts = Arc::new(RoutedAlerts::new(q.alerts));
    let mut settings = t.settings.clone();
    settings.seed = t.settings.seed.wrapping_add(n);
    settings.only_service = Some(q.service.clone());
    settings.incident_id = Some(id.to_string());
    let (tx, rx) = std::sync::mpsc::channel();
    let pipeline = Pipeline::new(
        settings,
        t.ports.for_incident(alerts.clone()),
        t.bus.clone(),
        rx,
    )
    .with_notifier(t.notifier.clone());
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let thread = std::thread::Builder::new()
        .name(format!("ccp-{id}"))
        .spawn(move || {
            // Held until the desk has it in its running set, so commands and automatic answers
            // always find it.
            let _ = go_rx.recv();
            pipeline.run();
        })
        .context("starting a pipeline thread")?;
    tracing::info!(incident = id, service = q.service, "incident started");
    Ok((
        Running {
            service: q.service,
            commands: tx,
            alerts,
            thread,
            joined: symptoms,
        },
        go_tx,
    ))
}

/// Number every pipeline's events into the stream and answer approvals when told to.
fn spawn_hub(
    bus: EventBus,
    shared: Arc<Shared>,
    approval: ServeApproval,
) -> Result<JoinHandle<()>> {
    let rx = bus.subscribe();
    std::thread::Builder::new()
        .name("ccp-desk-hub".into())
        .spawn(move || {
            for ev in rx {
                let auto = match (&ev.kind, approval) {
                    (EventKind::AwaitingApproval { .. }, ServeApproval::Auto(a)) => {
                        Some((ev.incident.clone(), a.command()))
                    }
                    _ => None,
                };
                shared.stream.push(ev);
                if let Some((incident, cmd)) = auto {
                    if let Some(r) = lock(&shared.running).get(&incident) {
                        let _ = r.commands.send(cmd);
                    }
                }
            }
        })
        .context("starting the event hub")
}

/// Put the audit log's events (the newest [`stream::HISTORY_LIMIT`]) into the stream before
/// anything new: a restarted service shows every incident it handled, with how each ended
/// (crash recovery has appended the ends of those a crash interrupted), and cockpits that
/// reattach see the same picture as before.
fn seed_from_audit(stream: &EventStream, audit: &std::path::Path) {
    let Ok(records) = ccp_audit::read_records(audit) else {
        return;
    };
    let events: Vec<Event> = records
        .iter()
        .filter_map(ccp_audit::replay::event_of)
        .collect();
    let skip = events.len().saturating_sub(stream::HISTORY_LIMIT);
    let n = events.len() - skip;
    for ev in events.into_iter().skip(skip) {
        stream.push(ev);
    }
    if n > 0 {
        tracing::info!(events = n, "event stream seeded from the audit log");
    }
}

/// Every event the desk's stream holds for `incident`, as plain events.
pub fn events_of(stream: &EventStream, incident: &str) -> Vec<Event> {
    stream
        .incident_events(incident)
        .into_iter()
        .map(|s| s.event)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(service: &str, name: &str) -> Alert {
        routed::test_alert(service, name)
    }

    fn shared() -> Shared {
        Shared {
            running: Mutex::new(BTreeMap::new()),
            queue: Mutex::new(VecDeque::new()),
            cooling: Mutex::new(BTreeSet::new()),
            joined_total: Mutex::new(0),
            finished: Mutex::new(BTreeMap::new()),
            stream: EventStream::new(),
            stop: AtomicBool::new(false),
            ended: Mutex::new(0),
            approvers: Mutex::new(BTreeMap::new()),
        }
    }

    fn edges() -> BTreeMap<String, BTreeSet<String>> {
        let e: Vec<(String, String)> = [
            ("gateway", "api"),
            ("api", "order"),
            ("order", "payment"),
            ("web", "catalog"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        downstream_of(&e)
    }

    fn queued(s: &Shared) -> Vec<(String, Vec<String>)> {
        lock(&s.queue)
            .iter()
            .map(|q| {
                let mut labels: Vec<String> = q.alerts.iter().map(joined_label).collect();
                labels.extend(q.symptoms.iter().cloned());
                (q.service.clone(), labels)
            })
            .collect()
    }

    #[test]
    fn downstream_is_transitive_and_ignores_cycles() {
        let mut e = vec![("a".to_string(), "b".to_string()), ("b".into(), "c".into())];
        e.push(("c".into(), "a".into()));
        let d = downstream_of(&e);
        assert_eq!(
            d.get("a").cloned().unwrap_or_default(),
            ["b", "c"].iter().map(|s| s.to_string()).collect()
        );
    }

    #[test]
    fn callers_alerts_join_the_failing_callee_and_independent_failures_open_their_own() {
        let s = shared();
        route(
            &s,
            vec![
                alert("api", "HighErrorRate"),
                alert("gateway", "HighErrorRate"),
                alert("payment", "HighErrorRate"),
                alert("web", "HighLatency"),
                alert("catalog", "HighErrorRate"),
                alert("payment", "HighLatency"),
            ],
            1,
            &edges(),
        );
        let q = queued(&s);
        assert_eq!(q.len(), 2, "{q:?}");
        assert_eq!(q[0].0, "payment");
        assert!(
            q[0].1.contains(&"HighErrorRate on api".to_string()),
            "{q:?}"
        );
        assert!(
            q[0].1.contains(&"HighErrorRate on gateway".to_string()),
            "{q:?}"
        );
        assert!(
            q[0].1.contains(&"HighLatency on payment".to_string()),
            "{q:?}"
        );
        assert_eq!(q[1].0, "catalog");
        assert_eq!(
            q[1].1,
            vec![
                "HighErrorRate on catalog".to_string(),
                "HighLatency on web".to_string()
            ]
        );
        assert_eq!(*lock(&s.joined_total), 4);
        // The same alerts again: nothing new queues, nothing counts twice.
        route(
            &s,
            vec![
                alert("api", "HighErrorRate"),
                alert("payment", "HighErrorRate"),
            ],
            2,
            &edges(),
        );
        assert_eq!(queued(&s).len(), 2);
        assert_eq!(*lock(&s.joined_total), 4);
    }

    #[test]
    fn a_service_re_arms_only_after_a_quiet_poll() {
        let s = shared();
        lock(&s.cooling).insert("payment".into());
        lock(&s.cooling).insert("api".into());
        route(&s, vec![alert("payment", "HighErrorRate")], 1, &edges());
        assert!(
            queued(&s).is_empty(),
            "still firing after its incident ended: held"
        );
        assert_eq!(
            lock(&s.cooling).iter().cloned().collect::<Vec<_>>(),
            vec!["payment".to_string()],
            "api was quiet, so it re-armed"
        );
        route(&s, vec![], 2, &edges());
        route(&s, vec![alert("payment", "HighErrorRate")], 3, &edges());
        assert_eq!(
            queued(&s).len(),
            1,
            "a new episode after a quiet poll opens"
        );
    }
}
