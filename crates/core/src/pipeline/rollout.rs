//! Locks, canary steps with health checks, full deploy, verification and rollback: everything that
//! touches production traffic, always under a lock and a fencing token.

use super::{Pipeline, Step, Stop};
use crate::domain::{Cohort, FixPlan, Outcome, Sample, Strategy, WindowStats};
use crate::events::{EndCause, EventKind, HoldReason};
use crate::explain::Justification;
use crate::locks::{Resource, Scope};
use crate::ports::{patch_version, DeployAction, DeployStep, StepReport};
use crate::state::State;
use crate::stats::judge::{judge_metric, summarize, Direction, JudgeConfig, Judgement, Verdict};
use crate::stats::proportion::{judge_counts, Counts};
use std::collections::BTreeSet;

/// Which pair of windows a verdict compares.
#[derive(Debug, Clone, Copy)]
enum Windows {
    /// Baseline and canary cohorts over the last observation window.
    Canary,
    /// The control window before the first shift and the window after full deploy.
    Verification,
}

/// How much evidence two error counts carry for comparing their rates: `λc·λb / (λc + λb)` for
/// the canary's expected count `λc` (at the baseline's rate) and the baseline's count `λb`. A
/// comparison is as uncertain as its smaller side, so a 50 % canary needs more errors than a
/// 10 % one, whose baseline rate is known almost exactly.
pub fn effective_errors(canary_expected: f64, baseline: f64) -> f64 {
    let sum = canary_expected + baseline;
    if sum > 0.0 {
        canary_expected * baseline / sum
    } else {
        0.0
    }
}

/// Seconds right after a traffic shift that no verdict reads: a scraped metrics pipeline (an
/// exporter, a 1 s scrape, `irate`) still reports the old split for a moment, and judging it
/// would blame the new version for the old one's errors (or the reverse).
const SETTLE_MS: i64 = 3_000;

/// Start of a window that begins at a shift made at `shift_ms`, past the settling time, unless
/// that is already in the future.
fn settled(shift_ms: i64, now: i64) -> i64 {
    let from = shift_ms + SETTLE_MS;
    if from < now {
        from
    } else {
        shift_ms
    }
}

/// How often a rollout holding for metrics looks again, ms.
const HOLD_POLL_MS: u64 = 10_000;

impl Pipeline {
    /// Take the service lock, then the incident lock (the ordering rule's order). Services with a
    /// direct or dependency conflict are locked too, all service locks by name before the incident
    /// lock, so two related deploys never overlap even when a human approved both.
    pub(super) fn lock(&mut self) -> Step<()> {
        let service = self.root_service();
        let mut services = BTreeSet::from([service.clone()]);
        for c in self.found.conflicts.clone() {
            if c.kind.exclusive() && !c.other_service.is_empty() && c.other_service != service {
                services.insert(c.other_service.clone());
                let message = format!(
                    "also locking service:{}: {} is changing it ({} conflict), so the two deploys take turns",
                    c.other_service,
                    c.other_incident,
                    c.kind.as_str()
                );
                self.emit(EventKind::Note { message })?;
            }
        }
        let mut wanted: Vec<Resource> = services
            .into_iter()
            .map(|s| Resource::new(Scope::Service, s))
            .collect();
        wanted.push(Resource::new(Scope::Incident, self.incident_id.clone()));
        self.pace(self.settings.pacing.lock_ms)?;
        for r in wanted {
            let held: Vec<Resource> = self
                .found
                .leases
                .iter()
                .map(|l| l.resource.clone())
                .collect();
            let owner = self.owner();
            match self.ports.locks.acquire(
                &r,
                &owner,
                &held,
                self.settings.lock_ttl_ms,
                self.settings.lock_wait_ms,
            ) {
                Ok(lease) => {
                    self.emit(EventKind::LockAcquired {
                        resource: lease.resource.to_string(),
                        owner,
                        fence: lease.fence,
                        waited_ms: lease.waited_ms,
                    })?;
                    self.found.leases.push(lease);
                }
                Err(e) => {
                    self.release_locks();
                    self.go(State::Escalated)?;
                    return Err(Stop::new(
                        Outcome::Escalated,
                        EndCause::LockUnavailable {
                            resource: r.to_string(),
                        },
                        format!("could not take lock {r}: {e}; nothing deployed"),
                    ));
                }
            }
        }
        self.go(State::Locked)
    }

    /// Fencing token of the changed service's lock: every deploy step carries it.
    fn fence(&self) -> u64 {
        let service = self.root_service();
        self.found
            .leases
            .iter()
            .find(|l| l.resource.scope == Scope::Service && l.resource.name == service)
            .map(|l| l.fence)
            .unwrap_or(0)
    }

    /// Renew every lease; losing one means someone else may act, so we stop deploying.
    fn renew_locks(&mut self) -> Step<()> {
        for lease in self.found.leases.clone() {
            if let Err(e) = self.ports.locks.renew(&lease, self.settings.lock_ttl_ms) {
                return Err(Stop::new(
                    Outcome::RolledBack,
                    EndCause::LockLost {
                        resource: lease.resource.to_string(),
                    },
                    format!(
                        "lost lock {} mid-operation ({e}): no further deploy step",
                        lease.resource
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The traffic steps of this rollout: straight to 100 % for a direct deploy.
    fn rollout_steps(&self) -> Vec<u8> {
        if self.found.strategy == Some(Strategy::DirectDeploy) {
            vec![100]
        } else {
            self.settings.canary_steps.clone()
        }
    }

    /// The judge's thresholds for this rollout, corrected for its number of looks.
    fn judge_config(&self) -> JudgeConfig {
        JudgeConfig {
            looks: looks_in(&self.rollout_steps()),
            ..self.settings.judge.clone()
        }
    }

    /// Canary steps (or a direct deploy), then verification.
    pub(super) fn roll_out(&mut self) -> Step<()> {
        let steps = self.rollout_steps();
        self.found.deploy_started_ms = self.ports.clock.now_ms();
        for pct in steps {
            self.renew_locks()?;
            if pct >= 100 {
                self.go(State::FullDeploy)?;
                self.shift(pct)?;
                self.found.step_started_ms = self.ports.clock.now_ms();
                // The verification window must hold only seconds after the full shift, or the
                // last canary step's old-version traffic would be judged as the new version.
                self.pace(
                    self.settings
                        .pacing
                        .observe_ms
                        .max(self.settings.verification_window_ms)
                        + SETTLE_MS as u64,
                )?;
                return self.verify();
            }
            self.go(if pct <= 10 {
                State::Canary10
            } else {
                State::Canary50
            })?;
            self.shift(pct)?;
            self.found.step_started_ms = self.ports.clock.now_ms();
            self.pace(self.settings.pacing.observe_ms)?;
            self.observe_until_enough_errors(pct)?;
            self.go(State::HealthCheck)?;
            self.health_check(pct)?;
        }
        Err(Stop::new(
            Outcome::Failed,
            EndCause::Internal,
            "canary steps never reached 100%: check deploy.steps",
        ))
    }

    /// The id deploy tools receive as `CCP_VERSION`: the fix commit when the fix was committed,
    /// else a hash of the patched file (see [`patch_version`]).
    fn deploy_version(&self, plan: &FixPlan) -> String {
        let commit = self.found.fix_commit.as_ref().map(|c| c.commit.as_str());
        patch_version(plan, commit)
    }

    /// Run one deploy step through the deployer and record what its tool did (a `deploy_step`
    /// event, when a tool ran). Returns the report, whose error is for the caller to act on, and
    /// whether the record was written: a rollback must learn its result even if the audit broke.
    fn deploy_step(
        &mut self,
        action: DeployAction,
        pct: u8,
        plan: Option<&FixPlan>,
    ) -> (StepReport, Step<()>) {
        let service = self.root_service();
        let fence = self.fence();
        let version = plan.map(|p| self.deploy_version(p)).unwrap_or_default();
        let incident = self.incident_id.clone();
        let step = DeployStep {
            action,
            service: &service,
            plan,
            percent: pct,
            fence,
            version: &version,
            incident: (!incident.is_empty()).then_some(incident.as_str()),
        };
        let report = self.ports.deployer.run_step(&step);
        let mut recorded = Ok(());
        if let Some(ev) = report.event(&step) {
            recorded = self.emit(ev);
        }
        (report, recorded)
    }

    fn shift(&mut self, pct: u8) -> Step<()> {
        let Some(plan) = self.found.plan.clone() else {
            return Err(Stop::new(
                Outcome::Failed,
                EndCause::Internal,
                "internal: no fix plan",
            ));
        };
        let service = self.root_service();
        let fence = self.fence();
        let (report, recorded) = self.deploy_step(DeployAction::for_percent(pct), pct, Some(&plan));
        recorded?;
        if let Some(e) = report.error {
            // The canary state we are in counts as deployed code, so the caller rolls back even
            // when this was the first step: the tool may have moved some traffic before failing.
            return Err(Stop::new(
                Outcome::RolledBack,
                EndCause::DeployFailed { percent: pct },
                format!("deploy to {pct}% failed: {e}"),
            ));
        }
        self.found.deployed_percent = pct;
        self.emit(EventKind::Deployed {
            service,
            percent: pct,
            fence,
        })
    }

    /// Read the two windows a verdict compares, or say why they cannot be trusted: the source
    /// failed, or one window holds no samples at all (a stale source, a scrape gap).
    fn read_windows(&self, which: Windows, now: i64) -> Result<(Vec<Sample>, Vec<Sample>), String> {
        let svc = self.root_service();
        let read = |cohort: Cohort, from: i64, to: i64| {
            self.ports
                .metrics
                .samples(&svc, cohort, from, to)
                .map_err(|e| e.to_string())
        };
        let (a, b, what) = match which {
            Windows::Canary => {
                let from = settled(self.found.step_started_ms, now);
                (
                    read(Cohort::Baseline, from, now)?,
                    read(Cohort::Canary, from, now)?,
                    "baseline and canary",
                )
            }
            Windows::Verification => {
                let w = self.settings.verification_window_ms as i64;
                let start = self.found.deploy_started_ms;
                let after = (now - w).max(settled(self.found.step_started_ms, now));
                (
                    read(Cohort::All, start - w, start)?,
                    read(Cohort::All, after, now)?,
                    "control and post-deploy",
                )
            }
        };
        if a.is_empty() || b.is_empty() {
            return Err(format!(
                "no samples for {svc} in the {what} windows: the metrics source looks stale"
            ));
        }
        Ok((a, b))
    }

    /// Keep observing a canary step until the canary is expected to have shown
    /// `min_expected_errors` errors at the baseline's error rate (capped by `max_observe_ms`):
    /// a 30 s look at a quiet service sees one or two errors, and then a doubled error rate is
    /// invisible. A metrics failure here is left to the health check, which holds for metrics.
    fn observe_until_enough_errors(&mut self, pct: u8) -> Step<()> {
        let want = self.settings.min_expected_errors;
        if want <= 0.0 {
            return Ok(());
        }
        let start = self.found.step_started_ms;
        let mut told = false;
        loop {
            let now = self.ports.clock.now_ms();
            let Ok((base, canary)) = self.read_windows(Windows::Canary, now) else {
                return Ok(());
            };
            let b = WindowStats::of(&base);
            let c = WindowStats::of(&canary);
            let expected = effective_errors(c.requests as f64 * b.error_rate, b.errors as f64);
            let elapsed = (now - start).max(0) as u64;
            if expected >= want || elapsed >= self.settings.max_observe_ms {
                if told {
                    self.emit(EventKind::Note {
                        message: format!(
                            "{pct}% step observed {} s: {expected:.1} errors' worth of evidence at the baseline's rate",
                            elapsed / 1000
                        ),
                    })?;
                }
                return Ok(());
            }
            if !told {
                told = true;
                self.emit(EventKind::RolloutHeld {
                    percent: pct,
                    hold: HoldReason::LowEvidence,
                    waited_s: elapsed / 1000,
                    limit_s: self.settings.max_observe_ms / 1000,
                    message: format!(
                        "observing the {pct}% step longer: only {expected:.1} errors' worth of evidence so far at the baseline's {:.2}% error rate, {want:.0} needed to tell a 2× regression from noise (at most {} s)",
                        b.error_rate * 100.0,
                        self.settings.max_observe_ms / 1000
                    ),
                })?;
            }
            let left = self.settings.max_observe_ms.saturating_sub(elapsed);
            self.pace(HOLD_POLL_MS.min(left.max(1)))?;
            self.renew_locks()?;
        }
    }

    /// The windows for a verdict. While metrics are missing or stale the rollout holds its
    /// current traffic split and waits — judging without numbers would be a guess — for at most
    /// `metrics_hold_ms`; then it rolls back.
    fn windows_or_hold(&mut self, which: Windows, pct: u8) -> Step<(Vec<Sample>, Vec<Sample>)> {
        let limit = self.settings.metrics_hold_ms;
        let mut held: u64 = 0;
        loop {
            let now = self.ports.clock.now_ms();
            match self.read_windows(which, now) {
                Ok(w) => {
                    if held > 0 {
                        self.emit(EventKind::RolloutHeld {
                            percent: pct,
                            hold: HoldReason::MetricsBack,
                            waited_s: held / 1000,
                            limit_s: limit / 1000,
                            message: format!(
                                "metrics are back after {} s: judging the {pct}% step",
                                held / 1000
                            ),
                        })?;
                    }
                    return Ok(w);
                }
                Err(why) if held < limit => {
                    self.emit(EventKind::RolloutHeld {
                        percent: pct,
                        hold: HoldReason::MetricsUnavailable,
                        waited_s: held / 1000,
                        limit_s: limit / 1000,
                        message: format!(
                            "metrics unavailable ({why}): holding at {pct}% instead of judging blind ({} of {} s)",
                            held / 1000,
                            limit / 1000
                        ),
                    })?;
                    let step = HOLD_POLL_MS.min(limit - held);
                    self.pace(step)?;
                    held += step;
                    self.renew_locks()?;
                }
                Err(why) => {
                    return Err(Stop::new(
                        Outcome::RolledBack,
                        EndCause::MetricsOutage {
                            seconds: held / 1000,
                        },
                        format!(
                            "metrics unavailable for {} s during rollout ({why}): rolling back rather than guessing",
                            held / 1000
                        ),
                    ))
                }
            }
        }
    }

    /// Baseline vs canary over the last observation window.
    fn health_check(&mut self, pct: u8) -> Step<()> {
        let (base, canary) = self.windows_or_hold(Windows::Canary, pct)?;
        let cw = WindowStats::of(&canary);
        self.emit(canary_metrics(format!("CANARY_{pct}"), pct, &base, &canary))?;
        let j = judge_windows(&base, &canary, &self.judge_config());
        let slo = self.slo_breach(&cw);
        self.verdict(format!("health_check_{pct}"), j, slo)
    }

    /// Final verification: the new version's window against the control group (the old version
    /// during the incident window before the first traffic shift), plus absolute SLOs.
    fn verify(&mut self) -> Step<()> {
        self.go(State::Verification)?;
        let (control, treated) = self.windows_or_hold(Windows::Verification, 100)?;
        let tw = WindowStats::of(&treated);
        self.emit(canary_metrics(
            "VERIFICATION".into(),
            100,
            &control,
            &treated,
        ))?;
        let j = judge_windows(&control, &treated, &self.judge_config());
        let slo = self.slo_breach(&tw);
        self.verdict("final".into(), j, slo)
    }

    fn slo_breach(&self, w: &WindowStats) -> Option<String> {
        if w.error_rate > self.settings.canary_max_error_rate {
            Some(format!(
                "new version error rate {:.2}% is above the {:.2}% ceiling",
                w.error_rate * 100.0,
                self.settings.canary_max_error_rate * 100.0
            ))
        } else if w.latency_p99_ms > self.settings.canary_max_latency_p99_ms {
            Some(format!(
                "new version p99 {:.0} ms is above the {:.0} ms ceiling",
                w.latency_p99_ms, self.settings.canary_max_latency_p99_ms
            ))
        } else {
            None
        }
    }

    /// Emit the verdict; anything but a clean pass stops the rollout.
    fn verdict(&mut self, phase: String, j: Judgement, slo: Option<String>) -> Step<()> {
        let verdict = match (&j.verdict, &slo) {
            (Verdict::Pass, None) => "pass",
            (Verdict::Inconclusive, None) => "inconclusive",
            _ => "fail",
        };
        let reason = match &slo {
            Some(s) => format!("{s}; {}", j.reason),
            None => j.reason.clone(),
        };
        self.emit(EventKind::Verification {
            phase: phase.clone(),
            verdict: verdict.into(),
            score: j.score,
            reason: reason.clone(),
            metrics: j.metrics.clone(),
        })?;
        self.emit(EventKind::Decision {
            justification: Justification::new("canary_verdict", verdict)
                .input("phase", &phase)
                .input("score", j.score)
                .constraint(format!(
                    "a metric fails when its p-value, corrected across the metrics and the {} looks at this rollout, is below alpha {} and it moved the bad way",
                    self.judge_config().looks,
                    self.settings.judge.alpha
                ))
                .constraint(format!(
                    "absolute ceilings: error rate {:.2}%, p99 {:.0} ms",
                    self.settings.canary_max_error_rate * 100.0,
                    self.settings.canary_max_latency_p99_ms
                ))
                .reasoning(reason.clone())
                .confidence(j.score / 100.0),
        })?;
        if verdict == "pass" {
            Ok(())
        } else {
            Err(Stop::new(
                Outcome::RolledBack,
                EndCause::VerdictFailed {
                    phase: phase.to_string(),
                },
                format!("{phase} {verdict}: {reason}"),
            ))
        }
    }

    /// Take the safe exit after a failed rollout step: roll back when code is live.
    pub(super) fn roll_back(&mut self, stop: Stop) -> Stop {
        if self.found.deployed_percent == 0 && !self.state().has_deployed_code() {
            if self.state() != State::Escalated && self.go(State::Escalated).is_err() {
                return stop;
            }
            return Stop::new(Outcome::Escalated, stop.cause, stop.reason);
        }
        if !self.settings.rollback_on_fail {
            let _ = self.go(State::Escalated);
            return Stop::new(
                Outcome::Escalated,
                stop.cause,
                format!(
                    "{}; deploy.rollback_on_fail is off, so {}% of traffic stays on the patch until a human decides",
                    stop.reason, self.found.deployed_percent
                ),
            );
        }
        if self.go(State::Rollback).is_err() {
            return stop;
        }
        let service = self.root_service();
        let plan = self.found.plan.clone();
        // A broken audit log already ends the run; the rollback's own result decides the exit.
        let (report, _recorded) = self.deploy_step(DeployAction::Rollback, 0, plan.as_ref());
        match report.error.map_or(Ok(()), Err) {
            Ok(()) => {
                self.found.deployed_percent = 0;
                let _ = self.emit(EventKind::RolledBack {
                    service,
                    reason: stop.reason.clone(),
                });
                let _ = self.go(State::RolledBack);
                Stop::new(Outcome::RolledBack, stop.cause, stop.reason)
            }
            Err(e) => {
                let _ = self.go(State::Escalated);
                Stop::new(
                    Outcome::Escalated,
                    EndCause::RollbackFailed,
                    format!(
                        "rollback failed ({e}) after: {}; a human must intervene now",
                        stop.reason
                    ),
                )
            }
        }
    }
}

/// The chartable comparison of two windows: summary stats plus per-second series.
fn canary_metrics(step: String, percent: u8, base: &[Sample], canary: &[Sample]) -> EventKind {
    EventKind::CanaryMetrics {
        step,
        percent,
        baseline: WindowStats::of(base),
        canary: WindowStats::of(canary),
        canary_error_series: canary.iter().map(Sample::error_rate).collect(),
        baseline_error_series: base.iter().map(Sample::error_rate).collect(),
        canary_p99_series: canary.iter().map(|s| s.latency_p99_ms).collect(),
        baseline_p99_series: base.iter().map(|s| s.latency_p99_ms).collect(),
    }
}

/// The statistical comparison HEALTH_CHECK and VERIFICATION make between two windows of
/// per-second samples. Every signal the metrics port delivers votes, each judged on the seconds
/// that served requests and report it (a source without CPU or memory leaves those out as "no
/// data", never as evidence):
///
/// - the error rate, from counts (see stats::proportion for why not per-second rates); it is
///   critical: worse errors fail the canary whatever the score;
/// - latency p50, p95 and p99 (weight 2 each): one percentile alone scores 73, which asks a
///   human; two or more score below 50, which rolls back;
/// - CPU per request and memory (weight ¼ each): advisory. A fix that adds a retry may rightly
///   cost CPU, so alone they never stop a rollout, but beside a slower percentile they do.
///
/// Success rate is not a separate signal: it is the error rate's complement, and voting twice on
/// one count would double its weight. Public so the benchmark's study judges with exactly the
/// pipeline's code.
pub fn judge_windows(base: &[Sample], canary: &[Sample], cfg: &JudgeConfig) -> Judgement {
    let counts = |s: &[Sample]| Counts {
        events: s.iter().map(|x| u64::from(x.errors)).sum(),
        trials: s.iter().map(|x| u64::from(x.requests)).sum(),
    };
    let mut results = vec![judge_counts(
        "error_rate",
        counts(base),
        counts(canary),
        Direction::IncreaseIsBad,
        cfg,
    )];
    for (name, weight, value) in SIGNALS {
        let series = |s: &[Sample]| {
            s.iter()
                .filter(|x| x.requests > 0)
                .map(value)
                .filter(|v| v.is_finite())
                .collect::<Vec<_>>()
        };
        let mut r = judge_metric(
            name,
            &series(base),
            &series(canary),
            Direction::IncreaseIsBad,
            cfg,
        );
        r.weight = weight;
        results.push(r);
    }
    summarize(results, cfg)
}

/// A per-second signal: name, vote weight, value (NaN when the source does not report it).
type Signal = (&'static str, f64, fn(&Sample) -> f64);
/// The signals beside the error rate, with the weights [`judge_windows`] explains.
const SIGNALS: [Signal; 5] = [
    ("latency_p50_ms", 2.0, |s| s.latency_p50_ms),
    ("latency_p95_ms", 2.0, |s| s.latency_p95_ms),
    ("latency_p99_ms", 2.0, |s| s.latency_p99_ms),
    // Per request: the cohorts serve different shares of the traffic.
    ("cpu_ms_per_request", 0.25, |s| {
        1000.0 * s.cpu_cores / f64::from(s.requests)
    }),
    ("memory_mb", 0.25, |s| s.memory_mb),
];

/// How many verdicts a rollout through `steps` makes: one health check per canary step below
/// 100 %, and the final verification. The judge corrects for all of them at once.
pub fn looks_in(steps: &[u8]) -> u32 {
    let canary = steps.iter().take_while(|p| **p < 100).count();
    u32::try_from(canary + 1).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::effective_errors;

    #[test]
    fn evidence_is_limited_by_the_smaller_side() {
        // A 10 % canary: the baseline's rate is known almost exactly.
        assert!((effective_errors(10.0, 90.0) - 9.0).abs() < 1e-12);
        // A 50/50 split carries half of either side.
        assert!((effective_errors(30.0, 30.0) - 15.0).abs() < 1e-12);
        assert_eq!(effective_errors(0.0, 0.0), 0.0);
        assert_eq!(effective_errors(5.0, 0.0), 0.0);
    }

    /// 60 seconds of one cohort; `f` reshapes each second.
    fn window(seed: u64, f: impl Fn(&mut crate::domain::Sample)) -> Vec<crate::domain::Sample> {
        let mut rng = crate::stats::rng::Rng::new(seed);
        (0..60)
            .map(|t| {
                let p50 = rng.lognormal(100f64.ln(), 0.1);
                let mut s = crate::domain::Sample {
                    t_ms: t * 1000,
                    requests: 100,
                    errors: rng.binomial(100, 0.01) as u32,
                    latency_p50_ms: p50,
                    latency_p95_ms: p50 * 1.9,
                    latency_p99_ms: p50 * 2.6,
                    cpu_cores: 0.2 * rng.lognormal(0.0, 0.1),
                    memory_mb: f64::NAN,
                };
                f(&mut s);
                s
            })
            .collect()
    }

    #[test]
    fn signals_vote_one_slow_percentile_asks_all_of_them_roll_back_cpu_advises() {
        use super::judge_windows;
        use crate::stats::judge::{JudgeConfig, MetricVerdict, Verdict};
        let cfg = JudgeConfig::default();
        let base = window(1, |_| {});
        let verdict_of = |f: fn(&mut crate::domain::Sample)| {
            let j = judge_windows(&base, &window(2, f), &cfg);
            let failed: Vec<String> = j
                .metrics
                .iter()
                .filter(|m| m.verdict == MetricVerdict::Fail)
                .map(|m| m.name.clone())
                .collect();
            (j.verdict, failed, j)
        };
        let (v, failed, _) = verdict_of(|s| s.latency_p99_ms *= 1.5);
        assert_eq!(
            (v, failed.as_slice()),
            (
                Verdict::Inconclusive,
                ["latency_p99_ms".to_string()].as_slice()
            )
        );
        let (v, failed, _) = verdict_of(|s| {
            s.latency_p50_ms *= 1.5;
            s.latency_p95_ms *= 1.5;
            s.latency_p99_ms *= 1.5;
        });
        assert_eq!((v, failed.len()), (Verdict::Fail, 3));
        let (v, failed, j) = verdict_of(|s| s.cpu_cores *= 2.0);
        assert_eq!(v, Verdict::Pass);
        assert_eq!(failed, ["cpu_ms_per_request"]);
        assert!(
            j.reason.contains("despite: cpu_ms_per_request"),
            "{}",
            j.reason
        );
        // No memory reported: no data, never evidence either way.
        let mem = j
            .metrics
            .iter()
            .find(|m| m.name == "memory_mb")
            .expect("memory judged");
        assert_eq!(mem.verdict, MetricVerdict::NoData);
    }

    #[test]
    fn every_step_below_full_and_the_verification_is_a_look() {
        use super::looks_in;
        assert_eq!(looks_in(&[10, 50, 100]), 3);
        assert_eq!(looks_in(&[100]), 1);
        assert_eq!(looks_in(&[25, 100, 50]), 2);
    }
}
