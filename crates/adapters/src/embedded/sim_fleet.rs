//! The simulated fleet: the demo's production. It generates per-second traffic for every service
//! from seeded distributions (Poisson request counts, binomial errors, log-normal latency), lets
//! faults propagate from callees to callers along the call graph, and acts as the deployer:
//! traffic splits between the running version and the patched one.
//!
//! Code faults are not scripted numbers. A service with code in the demo repository has its error
//! rate *measured* by replaying a request corpus through that code (`probe.py`); a canary's error
//! rate is measured the same way on the patched copy. So the canary improves exactly when the patch
//! really removes the fault, and a bad patch really makes it worse.
//!
//! Every second's numbers are a pure function of (seed, service, cohort, second, rollout state),
//! so windows can be read in any order and runs repeat exactly.

use super::fleet_spec::{FaultEffect, FaultSpec, FleetSpec, ServiceSpec};
use crate::{probe, python_checks};
use ccp_core::clock::Clock;
use ccp_core::domain::{Cohort, FixPlan, Millis, PolicyInputs, Sample};
use ccp_core::locks::FenceGuard;
use ccp_core::ports::{
    Deployer, ErrorLogSource, MetricsSource, PolicySource, PortError, PortResult,
};
use ccp_core::stats::rng::Rng;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

/// Requests replayed through a service's code to measure its error rate.
const PROBE_REQUESTS: u32 = 1000;
/// Upper bound on how deep fault propagation follows calls (the graph is a DAG; this is a guard).
const MAX_DEPTH: usize = 16;

/// FNV-1a over byte strings: a stable hash we own, so the noise never changes with a toolchain.
fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.iter().chain(std::iter::once(&0xffu8)) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// Sum of two amounts where NaN means unknown: an unknown side adds nothing, and only two unknowns
/// make an unknown total (CPU and memory of cohorts add up; a cohort with no instances has none).
fn add_known(a: f64, b: f64) -> f64 {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => f64::NAN,
        (true, false) => b,
        (false, true) => a,
        (false, false) => a + b,
    }
}

/// Traffic split of one service from a point in time.
#[derive(Debug, Clone, PartialEq)]
struct Rollout {
    from_ms: Millis,
    canary_pct: u8,
    canary_code_error: f64,
}

/// Measured behaviour of a version of a service's code.
#[derive(Debug, Clone, Default)]
struct CodeProfile {
    error_rate: f64,
    traceback: Option<String>,
}

#[derive(Default)]
struct FleetState {
    rollouts: HashMap<String, Vec<Rollout>>,
    fences: FenceGuard,
    prod_code: HashMap<String, CodeProfile>,
    probe_cache: HashMap<u64, CodeProfile>,
}

/// The simulated fleet.
pub struct SimFleet {
    spec: FleetSpec,
    seed: u64,
    clock: Arc<dyn Clock>,
    start_ms: Millis,
    repo_root: PathBuf,
    state: Mutex<FleetState>,
}

impl SimFleet {
    /// Build a fleet whose code-backed services live under `repo_root`. Production code is probed
    /// once here, so a broken demo checkout fails at start, not mid-incident.
    pub fn new(
        spec: FleetSpec,
        seed: u64,
        clock: Arc<dyn Clock>,
        repo_root: PathBuf,
        fleet_dir: &std::path::Path,
    ) -> Result<Self, PortError> {
        let start_ms = clock.now_ms();
        let fleet = Self {
            spec,
            seed,
            clock,
            start_ms,
            repo_root,
            state: Mutex::new(FleetState::default()),
        };
        for s in fleet.spec.services.clone() {
            if let Some(dir) = &s.code {
                let profile = match fleet.probe_dir(&fleet.repo_root.join(dir), dir) {
                    Ok(p) => p,
                    Err(e) => fleet.recorded_profile(&s.name, fleet_dir).ok_or(e)?,
                };
                fleet.lock().prod_code.insert(s.name.clone(), profile);
            }
        }
        Ok(fleet)
    }

    /// The recorded error profile of a code fault, for machines that cannot run the code. The
    /// check runner will fail the gates on such a machine and say why; this only lets the run get
    /// that far instead of dying at start.
    fn recorded_profile(&self, service: &str, fleet_dir: &std::path::Path) -> Option<CodeProfile> {
        let f = self
            .spec
            .faults
            .iter()
            .find(|f| f.service == service && f.recorded_error_rate.is_some())?;
        let traceback = f
            .recorded_traceback
            .as_ref()
            .and_then(|p| std::fs::read_to_string(fleet_dir.join(p)).ok());
        tracing::warn!(
            service,
            "cannot run the service code; using the recorded error profile from the fleet file"
        );
        Some(CodeProfile {
            error_rate: f.recorded_error_rate?,
            traceback,
        })
    }

    fn lock(&self) -> MutexGuard<'_, FleetState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Measure the code in `dir`. Its traces are rewritten to the path the fleet "deploys" the
    /// service at (`/srv/<name>`), as production traces would read — never a local temp path.
    fn probe_dir(&self, dir: &std::path::Path, name: &str) -> PortResult<CodeProfile> {
        let r = probe::run_probe(dir, PROBE_REQUESTS, self.seed)
            .map_err(|e| PortError::new("fleet", format!("probing {}: {e}", dir.display())))?;
        let local = dir.display().to_string();
        Ok(CodeProfile {
            error_rate: r.error_rate,
            traceback: r
                .sample_traceback
                .map(|t| t.replace(local.trim_end_matches('/'), &format!("/srv/{name}"))),
        })
    }

    fn spec_of(&self, service: &str) -> PortResult<&ServiceSpec> {
        self.spec
            .service(service)
            .ok_or_else(|| PortError::new("fleet", format!("unknown service `{service}`")))
    }

    /// Faults of `service` active at `t` in one version of it (`new_version` while the new
    /// version serves `new_pct` percent).
    fn faults_at<'a>(
        &'a self,
        service: &'a str,
        t: Millis,
        new_version: bool,
        new_pct: u8,
    ) -> impl Iterator<Item = &'a FaultSpec> + 'a {
        let rel_s = (t - self.start_ms) as f64 / 1000.0;
        self.spec.faults.iter().filter(move |f| {
            f.service == service && rel_s >= f.start_s && f.applies_to(new_version, new_pct)
        })
    }

    fn fault_active<'a>(
        &'a self,
        service: &'a str,
        t: Millis,
        new_version: bool,
        new_pct: u8,
    ) -> impl Iterator<Item = FaultEffect> + 'a {
        self.faults_at(service, t, new_version, new_pct)
            .filter_map(|f| f.effect().ok())
    }

    /// Whether a `metrics_outage` fault silences `service` at `t`.
    fn metrics_out(&self, st: &FleetState, service: &str, t: Millis) -> bool {
        self.spec
            .faults
            .iter()
            .filter(|f| f.service == service)
            .filter(|f| matches!(f.effect(), Ok(FaultEffect::MetricsOutage)))
            .any(|f| {
                let begin = match f.new_version_from_percent {
                    None => Some(self.start_ms + (f.start_s * 1000.0) as Millis),
                    Some(p) => st.rollouts.get(service).and_then(|v| {
                        v.iter()
                            .find(|r| r.canary_pct >= p.max(1))
                            .map(|r| r.from_ms)
                    }),
                };
                let Some(begin) = begin else {
                    return false;
                };
                let end = f.duration_s.map(|d| begin + (d * 1000.0) as Millis);
                t >= begin && end.is_none_or(|e| t < e)
            })
    }

    fn rollout_at(&self, st: &FleetState, service: &str, t: Millis) -> Rollout {
        st.rollouts
            .get(service)
            .and_then(|v| v.iter().rev().find(|r| r.from_ms <= t).cloned())
            .unwrap_or(Rollout {
                from_ms: Millis::MIN,
                canary_pct: 0,
                canary_code_error: 0.0,
            })
    }

    /// Error probability of one version of a service at `t`, including what its callees pass on.
    fn error_prob(
        &self,
        st: &FleetState,
        s: &ServiceSpec,
        canary: bool,
        t: Millis,
        depth: usize,
    ) -> f64 {
        let mut p = s.base_error_rate;
        let mut code_fault = false;
        let pct = self.rollout_at(st, &s.name, t).canary_pct;
        for f in self.fault_active(&s.name, t, canary, pct) {
            match f {
                FaultEffect::ErrorRate { value } => p += value,
                FaultEffect::Code => code_fault = true,
                FaultEffect::Latency { .. }
                | FaultEffect::MetricsOutage
                | FaultEffect::Cpu { .. }
                | FaultEffect::MemoryLeak { .. } => {}
            }
        }
        if canary {
            p += self.rollout_at(st, &s.name, t).canary_code_error;
        } else if code_fault {
            p += st
                .prod_code
                .get(&s.name)
                .map(|c| c.error_rate)
                .unwrap_or(0.0);
        }
        if depth < MAX_DEPTH {
            for c in &s.calls {
                if let Some(callee) = self.spec.service(&c.to) {
                    p += c.share * self.mixed_error_prob(st, callee, t, depth + 1);
                }
            }
        }
        p.clamp(0.0, 1.0)
    }

    fn mixed_error_prob(&self, st: &FleetState, s: &ServiceSpec, t: Millis, depth: usize) -> f64 {
        let w = f64::from(self.rollout_at(st, &s.name, t).canary_pct) / 100.0;
        let old = if w < 1.0 {
            self.error_prob(st, s, false, t, depth)
        } else {
            0.0
        };
        let new = if w > 0.0 {
            self.error_prob(st, s, true, t, depth)
        } else {
            0.0
        };
        old * (1.0 - w) + new * w
    }

    /// Latency added by faults to one version of `s` (callees count with their old version).
    fn added_latency(
        &self,
        st: &FleetState,
        s: &ServiceSpec,
        canary: bool,
        t: Millis,
        depth: usize,
    ) -> f64 {
        let pct = self.rollout_at(st, &s.name, t).canary_pct;
        let own: f64 = self
            .fault_active(&s.name, t, canary, pct)
            .map(|f| match f {
                FaultEffect::Latency { add_ms } => add_ms,
                _ => 0.0,
            })
            .sum();
        if depth >= MAX_DEPTH {
            return own;
        }
        own + s
            .calls
            .iter()
            .filter_map(|c| {
                self.spec
                    .service(&c.to)
                    .map(|x| c.share * self.added_latency(st, x, false, t, depth + 1))
            })
            .sum::<f64>()
    }

    /// CPU per request of one version of `s` relative to healthy (`cpu` faults multiply). Only the
    /// service's own faults count: a callee burning CPU costs its caller none.
    fn cpu_factor(&self, st: &FleetState, s: &ServiceSpec, canary: bool, t: Millis) -> f64 {
        let pct = self.rollout_at(st, &s.name, t).canary_pct;
        self.fault_active(&s.name, t, canary, pct)
            .map(|f| match f {
                FaultEffect::Cpu { factor } => factor,
                _ => 1.0,
            })
            .product()
    }

    /// When `f` began for the version it touches: at `start_s` for a fault of every version; for
    /// a fault of the new version only, at the latest shift that brought that version to
    /// `new_version_from_percent` (its instances start then, and start afresh after a rollback).
    fn fault_began(&self, st: &FleetState, f: &FaultSpec, t: Millis) -> Option<Millis> {
        let Some(p) = f.new_version_from_percent else {
            return Some(self.start_ms + (f.start_s * 1000.0) as Millis);
        };
        let mut began = None;
        for r in st
            .rollouts
            .get(&f.service)?
            .iter()
            .filter(|r| r.from_ms <= t)
        {
            if r.canary_pct >= p.max(1) {
                began.get_or_insert(r.from_ms);
            } else {
                began = None;
            }
        }
        began
    }

    /// Memory `memory_leak` faults have added to one version of `s` by `t`, MB.
    fn leaked_mb(&self, st: &FleetState, s: &ServiceSpec, canary: bool, t: Millis) -> f64 {
        let pct = self.rollout_at(st, &s.name, t).canary_pct;
        self.faults_at(&s.name, t, canary, pct)
            .filter_map(|f| match f.effect() {
                Ok(FaultEffect::MemoryLeak { mb_per_min }) => {
                    let began = self.fault_began(st, f, t)?;
                    Some(mb_per_min * (t - began).max(0) as f64 / 60_000.0)
                }
                _ => None,
            })
            .sum()
    }

    fn second(&self, st: &FleetState, s: &ServiceSpec, canary: bool, t: Millis) -> Sample {
        let pct = f64::from(self.rollout_at(st, &s.name, t).canary_pct) / 100.0;
        let share = if canary { pct } else { 1.0 - pct };
        // Keyed on seconds since start, not wall time, so seeded runs repeat exactly.
        let rel = (t - self.start_ms).div_euclid(1000);
        let key = fnv1a(&[s.name.as_bytes(), &[u8::from(canary)], &rel.to_le_bytes()]);
        let mut rng = Rng::new(self.seed).fork(key);
        let requests = if share > 0.0 {
            rng.poisson(s.rps * share) as u32
        } else {
            0
        };
        let p = self.error_prob(st, s, canary, t, 0);
        let errors = rng.binomial(u64::from(requests), p) as u32;
        let add = self.added_latency(st, s, canary, t, 0);
        let p50 = rng.lognormal(s.latency_p50_ms.max(0.1).ln(), s.latency_sigma) + add;
        let p99 = p50 * (2.5 + rng.normal(0.0, 0.25).abs());
        // Drawn after everything above, so seeded runs kept their requests, errors and p50/p99
        // when these signals were added.
        let p95 = (p50 * (1.8 + rng.normal(0.0, 0.2).abs())).min(p99);
        let cpu_noise = rng.lognormal(0.0, 0.1);
        let memory_noise = rng.lognormal(0.0, 0.02);
        // CPU follows requests, not latency: time added by a slow callee is spent waiting.
        let cpu_cores = f64::from(requests) * s.cpu_ms_per_request / 1000.0
            * self.cpu_factor(st, s, canary, t)
            * cpu_noise;
        // A cohort with no share of traffic has no instances, hence no memory to report.
        let memory_mb = if share > 0.0 {
            s.memory_mb * memory_noise + self.leaked_mb(st, s, canary, t)
        } else {
            f64::NAN
        };
        Sample {
            t_ms: t,
            requests,
            errors: errors.min(requests),
            latency_p50_ms: p50,
            latency_p99_ms: p99,
            latency_p95_ms: p95,
            cpu_cores,
            memory_mb,
        }
    }

    fn merge(a: Sample, b: Sample) -> Sample {
        let total = a.requests + b.requests;
        let w = |x: &Sample| {
            if total == 0 {
                0.5
            } else {
                f64::from(x.requests) / f64::from(total)
            }
        };
        Sample {
            t_ms: a.t_ms,
            requests: total,
            errors: a.errors + b.errors,
            latency_p50_ms: a.latency_p50_ms * w(&a) + b.latency_p50_ms * w(&b),
            latency_p99_ms: Self::tail(&a, &b, |x| x.latency_p99_ms),
            latency_p95_ms: Self::tail(&a, &b, |x| x.latency_p95_ms),
            cpu_cores: add_known(a.cpu_cores, b.cpu_cores),
            memory_mb: add_known(a.memory_mb, b.memory_mb),
        }
    }

    /// A tail latency of two cohorts together: the worse of the busy ones (an idle cohort's number
    /// describes no request). `f64::max` skips an unknown side.
    fn tail(a: &Sample, b: &Sample, of: impl Fn(&Sample) -> f64) -> f64 {
        if b.requests == 0 {
            of(a)
        } else if a.requests == 0 {
            of(b)
        } else {
            of(a).max(of(b))
        }
    }

    /// Measure a patched version (cached by content, since probing runs Python).
    fn profile_patch(&self, s: &ServiceSpec, plan: &FixPlan) -> PortResult<CodeProfile> {
        let Some(dir) = &s.code else {
            return Ok(CodeProfile::default());
        };
        let key = fnv1a(&[plan.file.as_bytes(), plan.new_source.as_bytes()]);
        if let Some(p) = self.lock().probe_cache.get(&key) {
            return Ok(p.clone());
        }
        let prefix = format!("{}/", dir.trim_end_matches('/'));
        let inner = plan.file.strip_prefix(&prefix).unwrap_or(&plan.file);
        let copy =
            python_checks::prepare_patched_copy(&self.repo_root.join(dir), inner, &plan.new_source)
                .map_err(|e| {
                    PortError::new("deployer", format!("building the patched artifact: {e}"))
                })?;
        let profile = self.probe_dir(copy.path(), dir)?;
        self.lock().probe_cache.insert(key, profile.clone());
        Ok(profile)
    }

    fn check_fence(st: &mut FleetState, service: &str, fence: u64) -> PortResult<()> {
        st.fences
            .check(service, fence)
            .map_err(|e| PortError::new("deployer", e.to_string()))
    }

    /// Current canary percent of a service (for the cockpit and tests).
    pub fn canary_percent(&self, service: &str) -> u8 {
        let st = self.lock();
        self.rollout_at(&st, service, self.clock.now_ms())
            .canary_pct
    }
}

impl MetricsSource for SimFleet {
    fn services(&self) -> Vec<String> {
        self.spec.services.iter().map(|s| s.name.clone()).collect()
    }

    fn samples(
        &self,
        service: &str,
        cohort: Cohort,
        from_ms: Millis,
        to_ms: Millis,
    ) -> PortResult<Vec<Sample>> {
        // A service the graph knows but the fleet does not (added by other tooling) is
        // unobserved, like a datastore that exports nothing: no samples, never an error.
        let Ok(s) = self.spec_of(service) else {
            tracing::debug!(service, "not in the fleet file: unobserved");
            return Ok(Vec::new());
        };
        let st = self.lock();
        if self.metrics_out(&st, service, self.clock.now_ms()) {
            return Err(PortError::new(
                "fleet",
                format!("the metrics endpoint of {service} is not answering (injected outage)"),
            ));
        }
        let first = from_ms.div_euclid(1000) * 1000;
        let mut out = Vec::new();
        let mut t = if first < from_ms { first + 1000 } else { first };
        while t < to_ms {
            let sample = match cohort {
                Cohort::Baseline => self.second(&st, s, false, t),
                Cohort::Canary => self.second(&st, s, true, t),
                Cohort::All => {
                    Self::merge(self.second(&st, s, false, t), self.second(&st, s, true, t))
                }
            };
            out.push(sample);
            t += 1000;
        }
        Ok(out)
    }
}

impl ErrorLogSource for SimFleet {
    fn recent_errors(&self, service: &str) -> PortResult<Vec<String>> {
        let now = self.clock.now_ms();
        let mut out: Vec<String> = self
            .faults_at(service, now, false, 0)
            .filter_map(|f| f.traceback.clone())
            .collect();
        let code_fault = self
            .fault_active(service, now, false, 0)
            .any(|f| matches!(f, FaultEffect::Code));
        if code_fault {
            out.extend(
                self.lock()
                    .prod_code
                    .get(service)
                    .and_then(|c| c.traceback.clone()),
            );
        }
        Ok(out)
    }
}

impl Deployer for SimFleet {
    fn shift(&self, service: &str, plan: &FixPlan, percent: u8, fence: u64) -> PortResult<()> {
        let s = self.spec_of(service)?.clone();
        let profile = self.profile_patch(&s, plan)?;
        let now = self.clock.now_ms();
        let mut st = self.lock();
        Self::check_fence(&mut st, service, fence)?;
        st.rollouts
            .entry(service.to_string())
            .or_default()
            .push(Rollout {
                from_ms: now,
                canary_pct: percent.min(100),
                canary_code_error: profile.error_rate,
            });
        tracing::info!(
            service,
            percent,
            fence,
            canary_error = profile.error_rate,
            "traffic shifted"
        );
        Ok(())
    }

    fn rollback(&self, service: &str, fence: u64) -> PortResult<()> {
        self.spec_of(service)?;
        let now = self.clock.now_ms();
        let mut st = self.lock();
        Self::check_fence(&mut st, service, fence)?;
        st.rollouts
            .entry(service.to_string())
            .or_default()
            .push(Rollout {
                from_ms: now,
                canary_pct: 0,
                canary_code_error: 0.0,
            });
        tracing::info!(service, fence, "rolled back");
        Ok(())
    }
}

impl PolicySource for SimFleet {
    fn policy_inputs(&self, service: &str, now_ms: Millis) -> PortResult<PolicyInputs> {
        crate::fleet_policy::inputs_from_spec(&self.spec, service, self.start_ms, now_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ccp_core::clock::VirtualClock;

    const START_MS: Millis = 1_700_000_000_000;

    /// A fleet of one busy service (4 ms of CPU a request, 512 MB a cohort) with `faults`.
    fn fleet(faults: &str) -> (SimFleet, Arc<VirtualClock>) {
        let yaml = format!(
            "seed: 3\nservices:\n  - {{ name: web, rps: 400, latency_p50_ms: 20, cpu_ms_per_request: 4, memory_mb: 512 }}\nfaults: {faults}\n"
        );
        let spec = FleetSpec::parse(&yaml, "test.yaml").expect("valid fleet");
        let clock = Arc::new(VirtualClock::new(START_MS));
        let dir = std::env::temp_dir();
        let f = SimFleet::new(spec, 3, clock.clone(), dir.clone(), &dir).expect("fleet");
        (f, clock)
    }

    fn plan() -> FixPlan {
        FixPlan {
            template: "t".into(),
            file: "f.py".into(),
            line: 1,
            diff: String::new(),
            description: String::new(),
            new_source: String::new(),
            lines_added: 0,
            lines_removed: 0,
            confidence: 1.0,
            alternatives: Vec::new(),
        }
    }

    fn read(f: &SimFleet, cohort: Cohort, from_s: i64, to_s: i64) -> Vec<Sample> {
        f.samples(
            "web",
            cohort,
            START_MS + from_s * 1000,
            START_MS + to_s * 1000,
        )
        .expect("samples")
    }

    #[test]
    fn a_service_only_the_graph_knows_is_unobserved_not_an_error() {
        let (f, _) = fleet("[]");
        let got = f.samples("billing-batch", Cohort::All, START_MS - 60_000, START_MS);
        assert_eq!(got.map(|v| v.len()).ok(), Some(0));
        assert!(
            !read(&f, Cohort::All, -60, 0).is_empty(),
            "known services still report"
        );
    }

    /// CPU milliseconds per request over a window.
    fn cpu_ms_per_request(v: &[Sample]) -> f64 {
        let cpu: f64 = v.iter().map(|s| s.cpu_cores).sum();
        let req: f64 = v.iter().map(|s| f64::from(s.requests)).sum();
        cpu * 1000.0 / req
    }

    fn mean_memory(v: &[Sample]) -> f64 {
        v.iter().map(|s| s.memory_mb).sum::<f64>() / v.len() as f64
    }

    #[test]
    fn the_new_signals_come_after_the_old_draws() {
        // Re-derive one second the way the fleet drew it before p95, CPU and memory existed.
        let (f, _) = fleet("[]");
        let s = read(&f, Cohort::Baseline, 7, 8)[0];
        let key = fnv1a(&[b"web", &[0u8], &7i64.to_le_bytes()]);
        let mut rng = Rng::new(3).fork(key);
        let requests = rng.poisson(400.0) as u32;
        let errors = rng.binomial(u64::from(requests), 0.002) as u32;
        let p50 = rng.lognormal(20f64.ln(), 0.2);
        let p99 = p50 * (2.5 + rng.normal(0.0, 0.25).abs());
        assert_eq!((s.requests, s.errors), (requests, errors));
        assert_eq!((s.latency_p50_ms, s.latency_p99_ms), (p50, p99));
    }

    #[test]
    fn tails_are_ordered_and_cpu_and_memory_follow_the_spec() {
        let (f, _) = fleet("[]");
        let base = read(&f, Cohort::Baseline, 0, 120);
        assert!(base
            .iter()
            .all(|s| s.latency_p50_ms <= s.latency_p95_ms && s.latency_p95_ms <= s.latency_p99_ms));
        // 4 ms a request: ~400 requests a second keep ~1.6 cores busy, noise averages out.
        let per_req = cpu_ms_per_request(&base);
        assert!((per_req - 4.0).abs() < 0.1, "{per_req} ms a request");
        for s in &base {
            let ratio = s.cpu_cores * 1000.0 / f64::from(s.requests) / 4.0;
            assert!((0.6..1.7).contains(&ratio), "{s:?}");
            assert!((480.0..545.0).contains(&s.memory_mb), "{s:?}");
        }
        // No canary: no instances, so no requests, no CPU and no memory to report.
        let canary = read(&f, Cohort::Canary, 0, 10);
        assert!(canary
            .iter()
            .all(|s| s.requests == 0 && s.cpu_cores == 0.0 && s.memory_mb.is_nan()));
        // Both cohorts together: the canary's missing memory adds nothing.
        let all = read(&f, Cohort::All, 0, 10);
        for (a, b) in all.iter().zip(&base) {
            assert_eq!((a.cpu_cores, a.memory_mb), (b.cpu_cores, b.memory_mb));
            assert_eq!(a.latency_p95_ms, b.latency_p95_ms);
        }
    }

    #[test]
    fn a_cpu_fault_in_the_new_version_burns_cpu_on_the_canary_only() {
        let (f, clock) = fleet(
            "[{ service: web, start_s: 0, kind: cpu, value: 2.0, new_version_from_percent: 1 }]",
        );
        clock.advance(60_000);
        f.shift("web", &plan(), 50, 1).expect("shift");
        let before = read(&f, Cohort::Baseline, 0, 60);
        let base = read(&f, Cohort::Baseline, 60, 180);
        let canary = read(&f, Cohort::Canary, 60, 180);
        let (b, c) = (cpu_ms_per_request(&base), cpu_ms_per_request(&canary));
        assert!((b - 4.0).abs() < 0.15, "baseline {b} ms a request");
        assert!((c - 8.0).abs() < 0.3, "canary {c} ms a request");
        assert!((cpu_ms_per_request(&before) - 4.0).abs() < 0.15);
        // Both cohorts run instances now, each of the service's size.
        assert!((mean_memory(&canary) - 512.0).abs() < 10.0);
        let all = read(&f, Cohort::All, 60, 70);
        assert!((mean_memory(&all) - 1024.0).abs() < 20.0);
    }

    #[test]
    fn a_memory_leak_grows_linearly_from_its_start() {
        // 30 MB a minute in every version from 60 s; a second leak only in the new version.
        let (f, clock) = fleet(
            "[{ service: web, start_s: 60, kind: memory_leak, value: 30 }, \
              { service: web, start_s: 0, kind: memory_leak, value: 60, new_version_from_percent: 1 }]",
        );
        let at = |from_s: i64| mean_memory(&read(&f, Cohort::Baseline, from_s, from_s + 30));
        let flat = at(0);
        assert!((flat - 512.0).abs() < 5.0, "{flat}");
        // Mean over a 30 s window is the leak at its middle: 5, 10 and 15 minutes of leaking.
        let (m5, m10, m15) = (at(345), at(645), at(945));
        for (m, minutes) in [(m5, 5.0), (m10, 10.0), (m15, 15.0)] {
            assert!(
                (m - flat - 30.0 * minutes).abs() < 6.0,
                "{m} after {minutes} min"
            );
        }
        assert!(
            ((m15 - m10) - (m10 - m5)).abs() < 6.0,
            "not linear: {m5} {m10} {m15}"
        );
        // The new version's instances start at the shift and leak both ways from there.
        clock.advance(1_200_000);
        f.shift("web", &plan(), 10, 1).expect("shift");
        let canary = mean_memory(&read(&f, Cohort::Canary, 1_200 + 45, 1_200 + 75));
        let expected = 512.0 + 30.0 * (21.0 - 1.0) + 60.0 * 1.0;
        assert!(
            (canary - expected).abs() < 6.0,
            "canary {canary}, expected {expected}"
        );
    }
}
