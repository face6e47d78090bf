//! Policy inputs for real services from the fleet file's `policy:` blocks: the operating history
//! (error budget used, last operation, recent failures, capacity) as the team declares it, plus
//! the time that has passed since ccp started. The simulated fleet reads the same blocks, so the
//! gates behave the same against the demo and against a fleet described by hand.

use crate::embedded::fleet_spec::FleetSpec;
use ccp_core::domain::{Millis, PolicyInputs};
use ccp_core::ports::{PolicySource, PortError, PortResult};

/// Policy from a fleet file.
pub struct FleetFilePolicy {
    spec: FleetSpec,
    start_ms: Millis,
}

impl FleetFilePolicy {
    /// Policy for `spec`, whose `last_operation_s_ago` values count from `start_ms`.
    pub fn new(spec: FleetSpec, start_ms: Millis) -> Self {
        Self { spec, start_ms }
    }
}

/// The inputs one service's declared history gives at `now_ms`; shared with the simulated fleet.
pub fn inputs_from_spec(
    spec: &FleetSpec,
    service: &str,
    start_ms: Millis,
    now_ms: Millis,
) -> PortResult<PolicyInputs> {
    let s = spec.service(service).ok_or_else(|| {
        PortError::new(
            "policy",
            format!("unknown service `{service}` (not in the fleet file)"),
        )
    })?;
    let p = &s.policy;
    Ok(PolicyInputs {
        error_budget_used_pct: p.error_budget_used_pct,
        seconds_since_last_operation: p.last_operation_s_ago
            + ((now_ms - start_ms) as f64 / 1000.0).max(0.0),
        recent_failures: p.recent_failures,
        consecutive_failures: p.consecutive_failures,
        capacity_headroom_pct: p.capacity_headroom_pct,
        incidents_last_hour: p.incidents_last_hour + 1,
        traffic_vs_peak: s
            .peak_rps
            .map(|pk| if pk > 0.0 { (s.rps / pk).min(1.0) } else { 1.0 })
            .unwrap_or(0.5),
    })
}

impl PolicySource for FleetFilePolicy {
    fn policy_inputs(&self, service: &str, now_ms: Millis) -> PortResult<PolicyInputs> {
        inputs_from_spec(&self.spec, service, self.start_ms, now_ms)
    }
}
