//! Chaos mode (`ccp inject --chaos --duration S`): one random failure after another, each on a
//! fresh fleet with its own noise seed, for as long as asked; then the KPIs the seeds name —
//! MTTR, auto-heal rate, false rollbacks, human interventions, lock wait — over every run. A run
//! whose outcome differs from its scenario's expectation is listed, and fails the command.

use super::{drive, InjectEnv, Kind, Scenario};
use ccp_core::clock::seconds_between;
use ccp_core::events::{Event, EventKind};
use ccp_core::stats::rng::Rng;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// One run that did not end as its scenario expects.
#[derive(Debug, Clone, Serialize)]
pub struct Unexpected {
    /// Scenario.
    pub scenario: String,
    /// Fleet seed of the run, to reproduce it with `ccp inject --scenario S --seed N`.
    pub seed: u64,
    /// Expected outcome.
    pub expected: String,
    /// What happened (or the error that stopped the run).
    pub observed: String,
}

/// The KPIs over all runs.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Kpis {
    /// Runs by outcome.
    pub outcomes: BTreeMap<String, usize>,
    /// Mean time from incident opened to resolved, pipeline seconds, over resolved runs.
    pub mttr_s_mean: Option<f64>,
    /// Median of the same.
    pub mttr_s_p50: Option<f64>,
    /// 95th percentile of the same.
    pub mttr_s_p95: Option<f64>,
    /// Share of runs resolved with no human asked.
    pub auto_heal_rate: f64,
    /// Rollbacks in total.
    pub rollbacks: usize,
    /// Rollbacks in runs whose fix was good (the scenario did not expect a rollback).
    pub false_rollbacks: usize,
    /// Times a human was asked to decide, plus pauses a human made.
    pub human_interventions: usize,
    /// Mean wait for a lock, ms, over every lock taken.
    pub lock_wait_ms_mean: Option<f64>,
    /// Longest wait for a lock, ms.
    pub lock_wait_ms_max: Option<u64>,
}

/// What `--chaos` prints.
#[derive(Debug, Clone, Serialize)]
pub struct ChaosReport {
    /// Seed of the scenario picker.
    pub seed: u64,
    /// Seconds asked for.
    pub duration_s: u64,
    /// Runs made.
    pub runs: usize,
    /// Runs per scenario.
    pub by_scenario: BTreeMap<String, usize>,
    /// The KPIs.
    pub kpis: Kpis,
    /// Runs that did not end as expected.
    pub unexpected: Vec<Unexpected>,
}

/// Facts of one run the KPIs are made of.
struct RunFacts {
    outcome: String,
    expected_rollback: bool,
    mttr_s: Option<f64>,
    asked_human: usize,
    paused_by_human: usize,
    rolled_back: bool,
    lock_waits: Vec<u64>,
}

fn facts(outcome: &str, expected: &str, events: &[Event]) -> RunFacts {
    let opened = events.iter().find_map(|e| match &e.kind {
        EventKind::IncidentOpened { .. } => Some(e.ts.as_str()),
        _ => None,
    });
    let finished = events.iter().rev().find_map(|e| match &e.kind {
        EventKind::Finished { .. } => Some(e.ts.as_str()),
        _ => None,
    });
    let mttr_s = match (outcome, opened, finished) {
        ("resolved", Some(a), Some(b)) => seconds_between(a, b),
        _ => None,
    };
    let count = |f: fn(&EventKind) -> bool| events.iter().filter(|e| f(&e.kind)).count();
    RunFacts {
        outcome: outcome.to_string(),
        expected_rollback: expected == "rolled_back",
        mttr_s,
        asked_human: count(|k| matches!(k, EventKind::AwaitingApproval { .. })),
        paused_by_human: count(|k| matches!(k, EventKind::PipelinePaused { .. })),
        rolled_back: count(|k| matches!(k, EventKind::RolledBack { .. })) > 0,
        lock_waits: events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::LockAcquired { waited_ms, .. } => Some(*waited_ms),
                _ => None,
            })
            .collect(),
    }
}

fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * (sorted.len() - 1) as f64).round() as usize;
    sorted.get(rank.min(sorted.len() - 1)).copied()
}

fn kpis(runs: &[RunFacts]) -> Kpis {
    let mut k = Kpis::default();
    for r in runs {
        *k.outcomes.entry(r.outcome.clone()).or_default() += 1;
    }
    let mut mttr: Vec<f64> = runs.iter().filter_map(|r| r.mttr_s).collect();
    mttr.sort_by(f64::total_cmp);
    if !mttr.is_empty() {
        k.mttr_s_mean = Some(mttr.iter().sum::<f64>() / mttr.len() as f64);
    }
    k.mttr_s_p50 = percentile(&mttr, 0.5);
    k.mttr_s_p95 = percentile(&mttr, 0.95);
    let healed = runs
        .iter()
        .filter(|r| r.outcome == "resolved" && r.asked_human == 0 && r.paused_by_human == 0)
        .count();
    k.auto_heal_rate = if runs.is_empty() {
        0.0
    } else {
        healed as f64 / runs.len() as f64
    };
    k.rollbacks = runs.iter().filter(|r| r.rolled_back).count();
    k.false_rollbacks = runs
        .iter()
        .filter(|r| r.rolled_back && !r.expected_rollback)
        .count();
    k.human_interventions = runs.iter().map(|r| r.asked_human + r.paused_by_human).sum();
    let waits: Vec<u64> = runs.iter().flat_map(|r| r.lock_waits.clone()).collect();
    if !waits.is_empty() {
        k.lock_wait_ms_mean = Some(waits.iter().sum::<u64>() as f64 / waits.len() as f64);
        k.lock_wait_ms_max = waits.iter().max().copied();
    }
    k
}

/// Run random pipeline scenarios until `duration` has passed (at least one run).
pub fn run(env: &InjectEnv, duration: Duration) -> ChaosReport {
    let pool: Vec<Scenario> = super::all()
        .into_iter()
        .filter(|s| matches!(s.kind, Kind::Pipeline(_)))
        .collect();
    let mut rng = Rng::new(env.seed);
    let started = Instant::now();
    let mut runs = Vec::new();
    let mut by_scenario: BTreeMap<String, usize> = BTreeMap::new();
    let mut unexpected = Vec::new();
    while !pool.is_empty() && (runs.is_empty() || started.elapsed() < duration) {
        let sc = &pool[rng.below(pool.len() as u64) as usize];
        let Kind::Pipeline(setup) = &sc.kind else {
            continue;
        };
        let seed = rng.below(1_000_000);
        *by_scenario.entry(sc.name.to_string()).or_default() += 1;
        let run_env = InjectEnv {
            config: env.config.clone(),
            seed,
        };
        tracing::info!(scenario = sc.name, seed, "chaos run");
        match drive::run_with_events(sc, setup, &run_env) {
            Ok((observed, events)) => {
                if observed.outcome != sc.outcome {
                    unexpected.push(Unexpected {
                        scenario: sc.name.into(),
                        seed,
                        expected: sc.outcome.into(),
                        observed: format!("{}: {}", observed.outcome, observed.reason),
                    });
                }
                runs.push(facts(&observed.outcome, sc.outcome, &events));
            }
            Err(e) => unexpected.push(Unexpected {
                scenario: sc.name.into(),
                seed,
                expected: sc.outcome.into(),
                observed: format!("did not run: {e:#}"),
            }),
        }
    }
    ChaosReport {
        seed: env.seed,
        duration_s: duration.as_secs(),
        runs: runs.len(),
        by_scenario,
        kpis: kpis(&runs),
        unexpected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact(outcome: &str, expected: &str, mttr: Option<f64>, asked: usize, rb: bool) -> RunFacts {
        RunFacts {
            outcome: outcome.into(),
            expected_rollback: expected == "rolled_back",
            mttr_s: mttr,
            asked_human: asked,
            paused_by_human: 0,
            rolled_back: rb,
            lock_waits: vec![10, 30],
        }
    }

    #[test]
    fn kpis_count_what_they_say() {
        let k = kpis(&[
            fact("resolved", "resolved", Some(60.0), 0, false),
            fact("resolved", "resolved", Some(100.0), 1, false),
            fact("rolled_back", "rolled_back", None, 0, true),
            fact("rolled_back", "resolved", None, 0, true),
        ]);
        assert_eq!(k.outcomes["resolved"], 2);
        assert_eq!(k.mttr_s_mean, Some(80.0));
        assert_eq!(k.mttr_s_p50, Some(100.0));
        assert_eq!(k.auto_heal_rate, 0.25);
        assert_eq!(k.rollbacks, 2);
        assert_eq!(k.false_rollbacks, 1);
        assert_eq!(k.human_interventions, 1);
        assert_eq!(k.lock_wait_ms_mean, Some(20.0));
        assert_eq!(k.lock_wait_ms_max, Some(30));
    }

    #[test]
    fn no_runs_no_rates() {
        let k = kpis(&[]);
        assert_eq!(k.auto_heal_rate, 0.0);
        assert_eq!(k.mttr_s_mean, None);
    }
}
