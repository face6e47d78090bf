//! Two pipelines at once on one embedded fleet: shared simulated fleet (metrics, deployer,
//! policy), shared dependency graph, shared local locks and a shared operations registry, each
//! pipeline owning the incident of one service (`only_service`).
//!
//! The interleaving is made deterministic by the deployer: the first operation's first traffic
//! shift blocks until the test lets it go. The second operation is started while the first is
//! mid-deploy, so it must see the first in the registry, pause for a human with a conflict
//! reason, and — once approved — wait for the first operation's locks. The event streams must
//! then show deploy intervals (first `deployed` .. the release of the service lock) that never
//! overlap.
//!
//! Needs python3 (the fleet runs the demo's real Python code), like the other end-to-end tests.

mod common;

use ccp_adapters::embedded::fleet_spec::{FaultKind, FaultSpec, FleetSpec};
use ccp_adapters::embedded::sim_fleet::SimFleet;
use ccp_core::bus::EventBus;
use ccp_core::clock::Clock;
use ccp_core::domain::FixPlan;
use ccp_core::events::{Command, Event, EventKind};
use ccp_core::pipeline::{Pipeline, PipelineSettings};
use ccp_core::ports::{Deployer, OperationRegistry, PortResult};
use common::fleet::{demo_fleet, DemoFleet};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the test loop hears: pipeline events, and the gated deployer saying it is holding the
/// first operation's first traffic shift.
enum Msg {
    Event(usize, Box<Event>),
    ShiftHeld,
}

/// The shared fleet as deployer, except that the first shift of `hold_service` waits until the
/// test releases it: a deploy that is slow to start, at a moment the test chooses.
struct GatedDeployer {
    inner: Arc<SimFleet>,
    hold_service: String,
    held: Mutex<Option<(Sender<Msg>, Receiver<()>)>>,
}

impl Deployer for GatedDeployer {
    fn shift(&self, service: &str, plan: &FixPlan, percent: u8, fence: u64) -> PortResult<()> {
        if service == self.hold_service {
            let gate = self.held.lock().map(|mut g| g.take()).unwrap_or(None);
            if let Some((notify, release)) = gate {
                let _ = notify.send(Msg::ShiftHeld);
                let _ = release.recv();
            }
        }
        self.inner.shift(service, plan, percent, fence)
    }

    fn rollback(&self, service: &str, fence: u64) -> PortResult<()> {
        self.inner.rollback(service, fence)
    }
}

/// Everything the two pipelines share.
struct World {
    dir: tempfile::TempDir,
    shared: DemoFleet,
    deployer: Arc<GatedDeployer>,
}

impl World {
    fn new(
        spec: FleetSpec,
        hold_service: &str,
        notify: Sender<Msg>,
        release: Receiver<()>,
    ) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let shared = DemoFleet::new(spec, dir.path());
        let deployer = Arc::new(GatedDeployer {
            inner: shared.fleet.clone(),
            hold_service: hold_service.to_string(),
            held: Mutex::new(Some((notify, release))),
        });
        Self {
            dir,
            shared,
            deployer,
        }
    }

    /// Start a pipeline owning `service`'s incident; its events go to `out` tagged `idx`.
    fn start(
        &self,
        idx: usize,
        service: &str,
        seed: u64,
        out: Sender<Msg>,
    ) -> (Sender<Command>, std::thread::JoinHandle<()>) {
        let settings = PipelineSettings {
            seed,
            only_service: Some(service.to_string()),
            // Generous: the first operation holds its locks while the test keeps it waiting.
            lock_ttl_ms: 120_000,
            lock_wait_ms: 60_000,
            ..PipelineSettings::default()
        };
        let bus = EventBus::new();
        let events = bus.subscribe();
        let (cmd_tx, cmd_rx) = channel();
        let audit = self.dir.path().join(format!("audit-{idx}.jsonl"));
        let ports = self.shared.ports(self.deployer.clone(), &audit);
        let pipeline = Pipeline::new(settings, ports, bus, cmd_rx);
        let handle = std::thread::spawn(move || {
            let runner = std::thread::spawn(move || pipeline.run());
            for ev in events.iter() {
                let done = matches!(ev.kind, EventKind::Finished { .. });
                if out.send(Msg::Event(idx, Box::new(ev))).is_err() || done {
                    break;
                }
            }
            let _ = runner.join();
        });
        (cmd_tx, handle)
    }
}

fn code_fault(service: &str, start_s: f64) -> FaultSpec {
    FaultSpec {
        start_s,
        ..FaultSpec::new(service, FaultKind::Code)
    }
}

/// Run the scenario: operation 0 on `first`, operation 1 on `second` started once operation 0's
/// first traffic shift is being held. `jump_to_s` moves the shared clock to that many seconds
/// after the fleet started before operation 1 starts (so a fault scheduled there is fresh for
/// it). Operation 0 is let go shortly after operation 1 was approved (or finished).
fn run_scenario(
    spec: FleetSpec,
    first: &str,
    second: &str,
    jump_to_s: Option<i64>,
) -> [Vec<Event>; 2] {
    let (tx, rx) = channel::<Msg>();
    let (release_tx, release_rx) = channel::<()>();
    let world = World::new(spec, first, tx.clone(), release_rx);
    let fleet_start = world.shared.clock.now_ms();
    let mut cmds: Vec<Sender<Command>> = Vec::new();
    let mut handles = Vec::new();
    let (c0, h0) = world.start(0, first, 1, tx.clone());
    cmds.push(c0);
    handles.push(h0);
    let mut events: [Vec<Event>; 2] = [Vec::new(), Vec::new()];
    let mut finished = [false, false];
    let mut released = false;
    let release = |released: &mut bool| {
        if !*released {
            *released = true;
            let _ = release_tx.send(());
        }
    };
    while !(finished[0] && finished[1]) {
        let msg = rx
            .recv_timeout(Duration::from_secs(120))
            .unwrap_or_else(|_| {
                panic!(
                    "scenario stalled; states so far: {:?} / {:?}",
                    states(&events[0]),
                    states(&events[1])
                )
            });
        match msg {
            Msg::ShiftHeld => {
                if let Some(s) = jump_to_s {
                    let target = fleet_start + s * 1000;
                    let now = world.shared.clock.now_ms();
                    if target > now {
                        world.shared.clock.advance((target - now) as u64);
                    }
                }
                let (c1, h1) = world.start(1, second, 2, tx.clone());
                cmds.push(c1);
                handles.push(h1);
            }
            Msg::Event(i, ev) => {
                match &ev.kind {
                    EventKind::AwaitingApproval { .. } => {
                        let _ = cmds[i].send(Command::Approve {
                            actor: "auto".into(),
                            comment: "test auto-approve".into(),
                        });
                    }
                    EventKind::Approval { .. } if i == 1 => {
                        // Let operation 1 reach its lock wait before operation 0 moves on.
                        std::thread::sleep(Duration::from_millis(300));
                        release(&mut released);
                    }
                    EventKind::Finished { .. } => {
                        finished[i] = true;
                        release(&mut released);
                    }
                    _ => {}
                }
                events[i].push(*ev);
            }
        }
        if handles.len() == 1 && finished[0] {
            panic!(
                "operation 0 finished before its first shift: {:?}",
                last_reason(&events[0])
            );
        }
    }
    for h in handles {
        h.join().expect("collector thread");
    }
    assert!(
        world.shared.registry.active().expect("registry").is_empty(),
        "every operation withdrew itself from the registry"
    );
    events
}

fn states(ev: &[Event]) -> Vec<String> {
    ev.iter()
        .filter_map(|e| match &e.kind {
            EventKind::StateChanged { to, .. } => Some(to.as_str().to_string()),
            _ => None,
        })
        .collect()
}

fn last_reason(ev: &[Event]) -> String {
    ev.iter()
        .rev()
        .find_map(|e| match &e.kind {
            EventKind::Finished { reason, .. } => Some(reason.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

fn incident_service(ev: &[Event]) -> String {
    ev.iter()
        .find_map(|e| match &e.kind {
            EventKind::IncidentOpened { service, .. } => Some(service.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

/// `[first deployed, last event while the own service lock was still held]` as RFC 3339 strings
/// (same format, so they compare as text), or `None` when nothing was deployed.
///
/// The end is the event *before* the own `lock_released`: it is stamped before the release, so
/// it cannot be later than the moment the other operation got the lock. The `lock_released` event
/// itself is stamped after the release, and on the shared virtual clock the other operation may
/// already have deployed and slept (moving the clock) by then; comparing with it would report an
/// overlap that never happened.
fn deploy_interval(ev: &[Event], service: &str) -> Option<(String, String)> {
    let start = ev
        .iter()
        .find(|e| matches!(e.kind, EventKind::Deployed { .. }))?
        .ts
        .clone();
    let own = format!("service:{service}");
    let released = ev.iter().position(|e| match &e.kind {
        EventKind::LockReleased { resource, .. } => *resource == own,
        _ => false,
    });
    let end = match released {
        Some(i) if i > 0 => ev[i - 1].ts.clone(),
        _ => ev.last()?.ts.clone(),
    };
    Some((start, end))
}

fn awaiting_reasons(ev: &[Event]) -> Vec<String> {
    ev.iter()
        .filter_map(|e| match &e.kind {
            EventKind::AwaitingApproval { reasons, .. } => Some(reasons.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

fn conflict_kinds(ev: &[Event]) -> Vec<String> {
    ev.iter()
        .filter_map(|e| match &e.kind {
            EventKind::Decision { justification }
                if justification.decision == "conflict_detection" =>
            {
                justification.inputs.get("conflicts").cloned()
            }
            _ => None,
        })
        .flat_map(|c| c.as_array().cloned().unwrap_or_default())
        .filter_map(|c| c["kind"].as_str().map(str::to_string))
        .collect()
}

fn lock_wait(ev: &[Event], resource: &str) -> Option<u64> {
    ev.iter().find_map(|e| match &e.kind {
        EventKind::LockAcquired {
            resource: r,
            waited_ms,
            ..
        } if r == resource => Some(*waited_ms),
        _ => None,
    })
}

fn assert_no_overlap(ev: &[Vec<Event>; 2], services: [&str; 2]) {
    let a = deploy_interval(&ev[0], services[0]);
    let b = deploy_interval(&ev[1], services[1]);
    let (Some(a), Some(b)) = (a, b) else {
        panic!(
            "both operations deploy after approval: {:?} ({}) / {:?} ({})",
            states(&ev[0]),
            last_reason(&ev[0]),
            states(&ev[1]),
            last_reason(&ev[1])
        );
    };
    assert!(
        a.1 <= b.0 || b.1 <= a.0,
        "deploy intervals overlap: {a:?} vs {b:?}"
    );
}

#[test]
fn dependent_services_pause_and_never_deploy_together() {
    if !common::python_or_skip() {
        return;
    }
    // user-service (runs the demo's payment code too) calls payment-service. Its fault is live
    // from the start; payment-service's starts 1000 s in, when the test moves the clock there.
    let mut spec = demo_fleet();
    for s in &mut spec.services {
        if s.name == "user-service" {
            s.code = Some("payment-service".into());
            for c in &mut s.calls {
                if c.to == "payment-service" {
                    c.share = 0.02;
                }
            }
        }
    }
    spec.faults = vec![
        code_fault("user-service", -50.0),
        code_fault("payment-service", 1000.0),
    ];
    let ev = run_scenario(spec, "user-service", "payment-service", Some(1000));
    assert_eq!(incident_service(&ev[0]), "user-service");
    assert_eq!(incident_service(&ev[1]), "payment-service");

    // The first saw nobody; the second saw the first mid-deploy.
    assert!(
        conflict_kinds(&ev[0]).is_empty(),
        "{:?}",
        conflict_kinds(&ev[0])
    );
    let kinds = conflict_kinds(&ev[1]);
    assert!(kinds.iter().any(|k| k == "dependency"), "{kinds:?}");
    let reasons = awaiting_reasons(&ev[1]);
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("dependency conflict with")),
        "{reasons:?}"
    );
    // Approved anyway, it took the other service's lock too and had to wait for it.
    let waited = lock_wait(&ev[1], "service:user-service");
    assert!(
        waited.is_some_and(|w| w >= 200),
        "waited {waited:?} ms for service:user-service; states {:?}",
        states(&ev[1])
    );
    assert!(lock_wait(&ev[1], "service:payment-service").is_some());
    assert_no_overlap(&ev, ["user-service", "payment-service"]);
}

#[test]
fn same_service_second_operation_stands_down() {
    if !common::python_or_skip() {
        return;
    }
    let ev = run_scenario(demo_fleet(), "payment-service", "payment-service", None);
    assert_eq!(incident_service(&ev[0]), "payment-service");
    assert_eq!(incident_service(&ev[1]), "payment-service");
    assert_ne!(ev[0][0].incident, ev[1][0].incident);
    assert!(conflict_kinds(&ev[0]).is_empty());
    assert!(conflict_kinds(&ev[1]).iter().any(|k| k == "direct"));
    // The seed's rule: the second operation on the same service is aborted before it deploys.
    assert_eq!(states(&ev[1]).last().map(String::as_str), Some("ESCALATED"));
    let reason = last_reason(&ev[1]);
    assert!(reason.contains("stands down"), "{reason}");
    assert!(reason.contains(&ev[0][0].incident), "{reason}");
    assert!(
        !ev[1]
            .iter()
            .any(|e| matches!(e.kind, EventKind::Deployed { .. })),
        "the second operation deployed nothing"
    );
    assert!(
        deploy_interval(&ev[0], "payment-service").is_some(),
        "the first went on to deploy"
    );
}
