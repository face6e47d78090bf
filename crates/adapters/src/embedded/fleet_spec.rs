//! The simulated fleet's description (`demo/fleet.yaml`): services, call graph, traffic shapes,
//! operating history and injected faults. Kept as plain serde types so scenarios are just YAML.

use serde::{Deserialize, Serialize};
use std::path::Path;

/// A call from one service to another: `share` of the caller's requests hit the callee, so that
/// share of the callee's errors shows up in the caller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallSpec {
    /// Callee.
    pub to: String,
    /// Fraction of the caller's requests that call it.
    pub share: f64,
}

/// Operating history feeding the policy gates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicySpec {
    /// Error budget used, percent.
    pub error_budget_used_pct: f64,
    /// Seconds since the last automated operation when the demo starts.
    pub last_operation_s_ago: f64,
    /// Failed operations in the last hour.
    pub recent_failures: u32,
    /// Consecutive failed operations.
    pub consecutive_failures: u32,
    /// Capacity headroom, percent.
    pub capacity_headroom_pct: f64,
    /// Incidents in the last hour before this one.
    pub incidents_last_hour: u32,
}

impl Default for PolicySpec {
    fn default() -> Self {
        Self {
            error_budget_used_pct: 0.5,
            last_operation_s_ago: 3600.0,
            recent_failures: 0,
            consecutive_failures: 0,
            capacity_headroom_pct: 40.0,
            incidents_last_hour: 1,
        }
    }
}

/// One service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    /// Unique name.
    pub name: String,
    /// Criticality in [0,1].
    #[serde(default = "half")]
    pub criticality: f64,
    /// Mean requests per second now.
    pub rps: f64,
    /// Daily peak requests per second (timing factor of the risk formula).
    #[serde(default)]
    pub peak_rps: Option<f64>,
    /// Error rate when healthy.
    #[serde(default = "base_err")]
    pub base_error_rate: f64,
    /// Median latency when healthy, ms.
    pub latency_p50_ms: f64,
    /// Log-normal spread of per-second latency.
    #[serde(default = "sigma")]
    pub latency_sigma: f64,
    /// Downstream calls.
    #[serde(default)]
    pub calls: Vec<CallSpec>,
    /// Shared resources (for conflict detection).
    #[serde(default)]
    pub resources: Vec<String>,
    /// Directory of this service's code in the demo repository; when set, the service's error
    /// rate under a `code` fault is measured by running that code.
    #[serde(default)]
    pub code: Option<String>,
    /// Operating history.
    #[serde(default)]
    pub policy: PolicySpec,
    /// CPU milliseconds one request costs when healthy: the fleet's CPU use follows its traffic,
    /// so a canary that needs more CPU per request stands out against its baseline.
    #[serde(default = "cpu_ms")]
    pub cpu_ms_per_request: f64,
    /// Resident memory of one cohort's instances when healthy, MB. Each cohort (the running
    /// version and the canary) runs its own instances of this size, so the two compare directly.
    #[serde(default = "memory_mb")]
    pub memory_mb: f64,
}

fn half() -> f64 {
    0.5
}
fn base_err() -> f64 {
    0.002
}
fn sigma() -> f64 {
    0.2
}
fn cpu_ms() -> f64 {
    DEFAULT_CPU_MS_PER_REQUEST
}
fn memory_mb() -> f64 {
    DEFAULT_MEMORY_MB
}

/// CPU per request of a service whose file does not say: a small web handler's cost, so CPU
/// charts have a plausible scale without every fleet file having to spell it out.
pub const DEFAULT_CPU_MS_PER_REQUEST: f64 = 2.0;
/// Memory of a cohort whose service does not say, MB: a small service's resident size.
pub const DEFAULT_MEMORY_MB: f64 = 256.0;

/// What a fault does.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultEffect {
    /// The deployed code is buggy: its error rate is measured by replaying requests through it.
    Code,
    /// A fixed extra error rate.
    ErrorRate {
        /// Extra error rate.
        value: f64,
    },
    /// Extra latency.
    Latency {
        /// Added ms.
        add_ms: f64,
    },
    /// The service's metrics stop answering: what a scrape outage or a dead exporter looks
    /// like to the pipeline.
    MetricsOutage,
    /// Each request costs `factor` times the CPU (a hot loop, a lost cache): the version
    /// serves as well as before and only its CPU gives it away.
    Cpu {
        /// Multiplier of CPU per request.
        factor: f64,
    },
    /// Resident memory grows by `mb_per_min` for every minute since the fault began (from
    /// `start_s`, or from the first shift to `new_version_from_percent`).
    MemoryLeak {
        /// Growth, MB per minute.
        mb_per_min: f64,
    },
}

/// Fault kinds as written in YAML.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// See [`FaultEffect::Code`].
    Code,
    /// See [`FaultEffect::ErrorRate`]; needs `value`.
    ErrorRate,
    /// See [`FaultEffect::Latency`]; needs `add_ms`.
    Latency,
    /// See [`FaultEffect::MetricsOutage`]; `duration_s` bounds it.
    MetricsOutage,
    /// See [`FaultEffect::Cpu`]; needs `value`, the CPU multiplier (> 0).
    Cpu,
    /// See [`FaultEffect::MemoryLeak`]; needs `value`, MB per minute (≥ 0).
    MemoryLeak,
}

/// A fault injected into one service from a point in time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// Service hit.
    pub service: String,
    /// Seconds after the demo starts (negative = already running).
    pub start_s: f64,
    /// What kind of fault.
    pub kind: FaultKind,
    /// Extra error rate (kind `error_rate`), CPU multiplier (kind `cpu`) or MB per minute
    /// (kind `memory_leak`).
    #[serde(default)]
    pub value: Option<f64>,
    /// Extra latency in ms (kind `latency`).
    #[serde(default)]
    pub add_ms: Option<f64>,
    /// Kind `code` when the code cannot be run (no python3): the error rate last measured.
    #[serde(default)]
    pub recorded_error_rate: Option<f64>,
    /// Kind `code` when the code cannot be run: a traceback captured from a real run, relative to
    /// the fleet file. Used so the pipeline still reaches its gates, which then fail and say why.
    #[serde(default)]
    pub recorded_traceback: Option<String>,
    /// When set, the fault is in the *new* version only, and only once that version serves at
    /// least this percent of traffic: a fix that is slow from the first request (`1`), or one
    /// that breaks only at full load (`100`, e.g. a pool sized for the canary's share).
    #[serde(default)]
    pub new_version_from_percent: Option<u8>,
    /// A stack trace the service logs while an `error_rate` fault is active (code faults log
    /// what their code raises): how a failure the fix templates do not know is injected.
    #[serde(default)]
    pub traceback: Option<String>,
    /// How long a `metrics_outage` lasts, seconds (from `start_s`, or from the first traffic
    /// shift when `new_version_from_percent` is set); unset = until the run ends.
    #[serde(default)]
    pub duration_s: Option<f64>,
}

impl FaultSpec {
    /// A fault on `service` of `kind` that began 50 s before the run (like the demo's: recent
    /// enough that the history before it is healthy, which is what RCA compares against),
    /// everything else unset: scenarios build faults in code and set the fields they need.
    pub fn new(service: &str, kind: FaultKind) -> Self {
        Self {
            service: service.to_string(),
            start_s: -50.0,
            kind,
            value: None,
            add_ms: None,
            recorded_error_rate: None,
            recorded_traceback: None,
            new_version_from_percent: None,
            traceback: None,
            duration_s: None,
        }
    }

    /// Whether the fault touches the given version of the service when the new version serves
    /// `new_pct` percent of traffic.
    pub fn applies_to(&self, new_version: bool, new_pct: u8) -> bool {
        match self.new_version_from_percent {
            None => true,
            Some(p) => new_version && new_pct >= p.max(1),
        }
    }
}

impl FaultSpec {
    /// The effect, or what is missing for this kind.
    pub fn effect(&self) -> Result<FaultEffect, String> {
        match (self.kind, self.value, self.add_ms) {
            (FaultKind::Code, _, _) => Ok(FaultEffect::Code),
            (FaultKind::ErrorRate, Some(v), _) if (0.0..=1.0).contains(&v) => {
                Ok(FaultEffect::ErrorRate { value: v })
            }
            (FaultKind::ErrorRate, _, _) => Err(format!(
                "fault on `{}`: kind error_rate needs `value` in [0,1]",
                self.service
            )),
            (FaultKind::Latency, _, Some(a)) if a >= 0.0 => Ok(FaultEffect::Latency { add_ms: a }),
            (FaultKind::MetricsOutage, _, _) => Ok(FaultEffect::MetricsOutage),
            (FaultKind::Latency, _, _) => Err(format!(
                "fault on `{}`: kind latency needs `add_ms` ≥ 0",
                self.service
            )),
            (FaultKind::Cpu, Some(v), _) if v > 0.0 && v.is_finite() => {
                Ok(FaultEffect::Cpu { factor: v })
            }
            (FaultKind::Cpu, _, _) => Err(format!(
                "fault on `{}`: kind cpu needs `value` > 0 (the CPU multiplier, e.g. 2.0)",
                self.service
            )),
            (FaultKind::MemoryLeak, Some(v), _) if v >= 0.0 && v.is_finite() => {
                Ok(FaultEffect::MemoryLeak { mb_per_min: v })
            }
            (FaultKind::MemoryLeak, _, _) => Err(format!(
                "fault on `{}`: kind memory_leak needs `value` ≥ 0 (MB per minute)",
                self.service
            )),
        }
    }
}

/// The whole fleet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetSpec {
    /// Seed of the traffic noise (overridden by `--seed`).
    #[serde(default)]
    pub seed: u64,
    /// Services.
    pub services: Vec<ServiceSpec>,
    /// Faults.
    #[serde(default)]
    pub faults: Vec<FaultSpec>,
}

/// Why a fleet file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    /// Unreadable file.
    #[error("cannot read fleet file {path}: {source}")]
    Read {
        /// File.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// Bad YAML or schema.
    #[error("{path}:{line}:{col}: {message}")]
    Parse {
        /// File.
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        col: usize,
        /// What is wrong.
        message: String,
    },
    /// Inconsistent content.
    #[error("{path}: {message}")]
    Invalid {
        /// File.
        path: String,
        /// What is wrong.
        message: String,
    },
}

impl FleetSpec {
    /// Load and validate a fleet file.
    pub fn load(path: &Path) -> Result<Self, FleetError> {
        let p = path.display().to_string();
        let text = ccp_config::read_capped(path, ccp_config::MAX_YAML_BYTES).map_err(|source| {
            FleetError::Read {
                path: p.clone(),
                source,
            }
        })?;
        Self::parse(&text, &p)
    }

    /// Parse and validate fleet YAML; `name` is used in messages.
    pub fn parse(text: &str, name: &str) -> Result<Self, FleetError> {
        if let Err(ccp_config::ConfigError::At { pos, message, .. }) =
            ccp_config::check_flow_depth(text)
        {
            return Err(FleetError::Parse {
                path: name.to_string(),
                line: pos.line,
                col: pos.col,
                message,
            });
        }
        let spec: FleetSpec = serde_yaml::from_str(text).map_err(|e| {
            let (line, col) = e
                .location()
                .map(|l| (l.line(), l.column()))
                .unwrap_or((1, 1));
            FleetError::Parse {
                path: name.to_string(),
                line,
                col,
                message: e.to_string(),
            }
        })?;
        spec.validate(name)?;
        Ok(spec)
    }

    fn validate(&self, name: &str) -> Result<(), FleetError> {
        let invalid = |message: String| FleetError::Invalid {
            path: name.to_string(),
            message,
        };
        let names: Vec<&str> = self.services.iter().map(|s| s.name.as_str()).collect();
        for (i, s) in self.services.iter().enumerate() {
            if names[..i].contains(&s.name.as_str()) {
                return Err(invalid(format!("service `{}` is declared twice", s.name)));
            }
            if !(0.0..=1.0).contains(&s.base_error_rate) || s.rps < 0.0 {
                return Err(invalid(format!(
                    "service `{}`: base_error_rate must be in [0,1] and rps ≥ 0",
                    s.name
                )));
            }
            let finite_non_negative = |v: f64| v.is_finite() && v >= 0.0;
            if !finite_non_negative(s.cpu_ms_per_request) || !finite_non_negative(s.memory_mb) {
                return Err(invalid(format!(
                    "service `{}`: cpu_ms_per_request and memory_mb must be numbers ≥ 0",
                    s.name
                )));
            }
            for c in &s.calls {
                if !names.contains(&c.to.as_str()) {
                    return Err(invalid(format!(
                        "service `{}` calls unknown service `{}`",
                        s.name, c.to
                    )));
                }
            }
        }
        for f in &self.faults {
            if !names.contains(&f.service.as_str()) {
                return Err(invalid(format!(
                    "fault targets unknown service `{}`",
                    f.service
                )));
            }
            f.effect().map_err(invalid)?;
        }
        if self.has_cycle() {
            return Err(invalid(
                "the call graph has a cycle; calls must form a DAG".into(),
            ));
        }
        Ok(())
    }

    fn has_cycle(&self) -> bool {
        fn visit(
            spec: &FleetSpec,
            n: &str,
            stack: &mut Vec<String>,
            done: &mut Vec<String>,
        ) -> bool {
            if stack.iter().any(|s| s == n) {
                return true;
            }
            if done.iter().any(|s| s == n) {
                return false;
            }
            stack.push(n.to_string());
            let calls = spec
                .services
                .iter()
                .find(|s| s.name == n)
                .map(|s| s.calls.clone())
                .unwrap_or_default();
            let cyc = calls.iter().any(|c| visit(spec, &c.to, stack, done));
            stack.pop();
            done.push(n.to_string());
            cyc
        }
        let mut done = Vec::new();
        self.services
            .iter()
            .any(|s| visit(self, &s.name, &mut Vec::new(), &mut done))
    }

    /// Service by name.
    pub fn service(&self, name: &str) -> Option<&ServiceSpec> {
        self.services.iter().find(|s| s.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(service: &str, fault: &str) -> Result<FleetSpec, String> {
        let yaml = format!(
            "services:\n  - {{ name: web, rps: 10, latency_p50_ms: 5{service} }}\nfaults: [{fault}]\n"
        );
        FleetSpec::parse(&yaml, "f.yaml").map_err(|e| e.to_string())
    }

    #[test]
    fn cpu_and_memory_faults_need_a_value() {
        let ok = parse("", "{ service: web, start_s: 0, kind: cpu, value: 2.0 }").expect("valid");
        assert_eq!(ok.faults[0].effect(), Ok(FaultEffect::Cpu { factor: 2.0 }));
        let leak = parse(
            "",
            "{ service: web, start_s: 0, kind: memory_leak, value: 8 }",
        )
        .expect("valid");
        assert_eq!(
            leak.faults[0].effect(),
            Ok(FaultEffect::MemoryLeak { mb_per_min: 8.0 })
        );
        let e = parse("", "{ service: web, start_s: 0, kind: cpu }").unwrap_err();
        assert!(e.contains("kind cpu needs `value` > 0"), "{e}");
        let e = parse("", "{ service: web, start_s: 0, kind: cpu, value: 0 }").unwrap_err();
        assert!(e.contains("kind cpu needs"), "{e}");
        let e = parse(
            "",
            "{ service: web, start_s: 0, kind: memory_leak, value: -1 }",
        )
        .unwrap_err();
        assert!(e.contains("kind memory_leak needs `value` ≥ 0"), "{e}");
    }

    #[test]
    fn cpu_and_memory_of_a_service_default_and_are_checked() {
        let spec = parse("", "").expect("valid");
        let web = &spec.services[0];
        assert_eq!(
            (web.cpu_ms_per_request, web.memory_mb),
            (DEFAULT_CPU_MS_PER_REQUEST, DEFAULT_MEMORY_MB)
        );
        let spec = parse(", cpu_ms_per_request: 0.5, memory_mb: 1024", "").expect("valid");
        assert_eq!(spec.services[0].memory_mb, 1024.0);
        let e = parse(", memory_mb: -3", "").unwrap_err();
        assert!(e.contains("memory_mb must be"), "{e}");
    }
}
