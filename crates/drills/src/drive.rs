//! Running one pipeline scenario: prepare the world (fleet, configuration, the other operators'
//! locks and operations), start the real pipeline at instant pace, play the scripted human, and
//! judge the events.

use super::{Human, Observed, Scenario};
use anyhow::{bail, Context, Result};
use ccp_adapters::embedded::fleet_spec::FleetSpec;
use ccp_adapters::embedded::local_lock::LocalLockManager;
use ccp_adapters::embedded::memory_registry::MemoryRegistry;
use ccp_adapters::embedded::paced_clock::Pace;
use ccp_app::{PortOverrides, RunOptions};
use ccp_config::Config;
use ccp_core::events::{Command, Event, EventKind};
use ccp_core::ports::{LockManager, OperationRegistry};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::Arc;
use std::time::Duration;

/// Longest silence tolerated from a running scenario before it is declared hung. Generous: the
/// gates run the demo service's real test suite.
const HANG_AFTER: Duration = Duration::from_secs(180);

/// Who the scripted human signs as in the audit log.
const ACTOR: &str = "scenario-oncall";

/// What a scenario changes before its run.
pub(crate) struct World {
    /// Configuration of the run.
    pub config: Config,
    /// The fleet.
    pub spec: FleetSpec,
    /// Locks shared with the "other operators" the scenario plays.
    pub locks: Arc<dyn LockManager>,
    /// Operations registry shared the same way.
    pub registry: Arc<dyn OperationRegistry>,
    /// False when the scenario wants the ports its configuration names (e.g. a Redis that is
    /// down) rather than the shared in-process ones.
    pub shared_ports: bool,
    /// `--inject-failure` of the run.
    pub inject_failure: Option<String>,
}

impl World {
    /// The ports the run gets from the world rather than from its configuration.
    fn overrides(&self) -> PortOverrides {
        if self.shared_ports {
            PortOverrides {
                locks: Some(self.locks.clone()),
                registry: Some(self.registry.clone()),
            }
        } else {
            PortOverrides::default()
        }
    }
}

type Prepare = Box<dyn Fn(&mut World) -> Result<()> + Send + Sync>;

/// A pipeline scenario: how to prepare the world and how the human behaves.
pub(crate) struct Setup {
    pub prepare: Prepare,
    pub human: Human,
}

impl Setup {
    pub(crate) fn new(
        human: Human,
        prepare: impl Fn(&mut World) -> Result<()> + Send + Sync + 'static,
    ) -> Self {
        Self {
            prepare: Box::new(prepare),
            human,
        }
    }
}

/// Prepare, run and judge.
pub(crate) fn run(sc: &Scenario, setup: &Setup, env: &super::InjectEnv) -> Result<Observed> {
    run_with_events(sc, setup, env).map(|(o, _)| o)
}

/// Like [`run`], also returning the run's events (chaos mode derives its KPIs from them).
pub(crate) fn run_with_events(
    sc: &Scenario,
    setup: &Setup,
    env: &super::InjectEnv,
) -> Result<(Observed, Vec<Event>)> {
    let mut world = world(env.config.clone())?;
    (setup.prepare)(&mut world).with_context(|| format!("preparing scenario {}", sc.name))?;
    let state = state_dir()?;
    let events = run_world(&world, setup.human, env.seed, state.path())?;
    Ok((observe(sc, &events)?, events))
}

/// A fresh state directory for one scenario run.
pub(crate) fn state_dir() -> Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix("ccp-inject-")
        .tempdir()
        .context("creating a state directory for the scenario")
}

/// A world with the demo fleet and configuration `config`, and fresh shared ports.
pub(crate) fn world(config: ccp_config::Config) -> Result<World> {
    Ok(World {
        config,
        spec: super::fleets::demo_spec()?,
        locks: Arc::new(LocalLockManager::new()),
        registry: Arc::new(MemoryRegistry::new()),
        shared_ports: true,
        inject_failure: None,
    })
}

/// Run the pipeline once on `world`, its audit log in `state/audit.jsonl`, and return its events,
/// last one `finished`.
pub(crate) fn run_world(
    world: &World,
    human: Human,
    seed: u64,
    state: &std::path::Path,
) -> Result<Vec<Event>> {
    let mut config = world.config.clone();
    // A scenario's log is its own, whatever the base configuration names.
    config.audit.path = None;
    let opts = RunOptions {
        seed: Some(seed),
        pace: Pace::Instant,
        inject_failure: world.inject_failure.clone(),
        state_dir: state.to_path_buf(),
        config,
    };
    let mut handle = ccp_app::start_scenario(&opts, world.spec.clone(), world.overrides())?;
    let rx = handle.subscribe();
    handle.start();
    let mut events = Vec::new();
    let mut pause_sent = false;
    loop {
        let ev = match rx.recv_timeout(HANG_AFTER) {
            Ok(ev) => ev,
            Err(RecvTimeoutError::Timeout) => {
                handle.send(Command::Abort {
                    actor: ACTOR.into(),
                    reason: "scenario hung".into(),
                });
                bail!("no event for {} s: the run hung", HANG_AFTER.as_secs())
            }
            Err(RecvTimeoutError::Disconnected) => break,
        };
        if let Some(cmd) = respond(human, &ev.kind, &mut pause_sent) {
            handle.send(cmd);
        }
        let done = matches!(ev.kind, EventKind::Finished { .. });
        events.push(ev);
        if done {
            break;
        }
    }
    handle.join()?;
    Ok(events)
}

/// The scripted human's answer to one event.
fn respond(human: Human, kind: &EventKind, pause_sent: &mut bool) -> Option<Command> {
    let approve = || Command::Approve {
        actor: ACTOR.into(),
        comment: "approved by the failure-injection drill".into(),
    };
    match (human, kind) {
        (Human::Reject, EventKind::AwaitingApproval { .. }) => Some(Command::Reject {
            actor: ACTOR.into(),
            comment: "rejected by the failure-injection drill".into(),
        }),
        (_, EventKind::AwaitingApproval { .. }) => Some(approve()),
        (Human::PauseAtCanaryThenResume, EventKind::Deployed { .. }) if !*pause_sent => {
            *pause_sent = true;
            Some(Command::Pause {
                actor: ACTOR.into(),
            })
        }
        (Human::PauseAtCanaryThenResume, EventKind::PipelinePaused { .. }) => {
            Some(Command::Resume {
                actor: ACTOR.into(),
            })
        }
        _ => None,
    }
}

/// Judge a finished run against the scenario's checks.
pub(crate) fn observe(sc: &Scenario, events: &[Event]) -> Result<Observed> {
    let Some((outcome, state, reason)) = events.iter().rev().find_map(|e| match &e.kind {
        EventKind::Finished {
            outcome,
            state,
            reason,
            ..
        } => Some((
            outcome.as_str().to_string(),
            state.to_string(),
            reason.clone(),
        )),
        _ => None,
    }) else {
        bail!("the run ended without a `finished` event")
    };
    let checks = sc
        .checks
        .iter()
        .map(|c| {
            let ok = c.holds(events);
            super::CheckResult {
                what: c.describe(events, ok),
                ok,
            }
        })
        .collect();
    Ok(Observed {
        outcome,
        state,
        reason,
        checks,
    })
}

/// Start `setup`'s world for a front-end: the configuration and seed the user chose, the
/// scenario's fleet, ports and injected failure on top.
pub(crate) fn start_in_cockpit(
    setup: &Setup,
    opts: &ccp_app::RunOptions,
) -> Result<ccp_app::AppHandle> {
    let mut w = world(opts.config.clone())?;
    (setup.prepare)(&mut w)?;
    let mut opts = opts.clone();
    opts.config = w.config.clone();
    if w.inject_failure.is_some() {
        opts.inject_failure = w.inject_failure.clone();
    }
    ccp_app::start_scenario(&opts, w.spec.clone(), w.overrides())
}
