//! Fleets the scenarios run on: the demo fleet with its faults swapped, its operating history
//! changed, or grown into a larger estate.

use anyhow::{Context, Result};
use ccp_adapters::embedded::fleet_spec::{
    CallSpec, FaultKind, FaultSpec, FleetSpec, PolicySpec, ServiceSpec, DEFAULT_CPU_MS_PER_REQUEST,
    DEFAULT_MEMORY_MB,
};

/// The demo fleet as `demo/fleet.yaml` describes it (its fault: the payment-service bug).
pub(crate) fn demo_spec() -> Result<FleetSpec> {
    ccp_app::load_fleet_spec(&ccp_config::Config::default())
        .context("loading the demo fleet for the scenario")
}

/// The demo fleet's own fault (payment-service's buggy release), for scenarios that keep it.
pub(crate) fn demo_fault(spec: &FleetSpec) -> Result<FaultSpec> {
    spec.faults
        .iter()
        .find(|f| f.service == "payment-service")
        .cloned()
        .context("the demo fleet has no payment-service fault")
}

/// An extra error rate on `service`, already firing.
pub(crate) fn error_rate(service: &str, value: f64) -> FaultSpec {
    FaultSpec {
        value: Some(value),
        ..FaultSpec::new(service, FaultKind::ErrorRate)
    }
}

/// Extra latency on `service`, already firing.
pub(crate) fn latency(service: &str, add_ms: f64) -> FaultSpec {
    FaultSpec {
        add_ms: Some(add_ms),
        ..FaultSpec::new(service, FaultKind::Latency)
    }
}

/// Change one service's operating history.
pub(crate) fn policy(
    spec: &mut FleetSpec,
    service: &str,
    f: impl FnOnce(&mut PolicySpec),
) -> Result<()> {
    let s = spec
        .services
        .iter_mut()
        .find(|s| s.name == service)
        .with_context(|| format!("no service {service} in the fleet"))?;
    f(&mut s.policy);
    Ok(())
}

/// A service with no code and default history.
fn plain_service(name: String, rps: f64, calls: Vec<CallSpec>) -> ServiceSpec {
    ServiceSpec {
        name,
        criticality: 0.4,
        rps,
        peak_rps: None,
        base_error_rate: 0.001,
        latency_p50_ms: 25.0,
        latency_sigma: 0.2,
        calls,
        resources: Vec::new(),
        code: None,
        policy: PolicySpec::default(),
        cpu_ms_per_request: DEFAULT_CPU_MS_PER_REQUEST,
        memory_mb: DEFAULT_MEMORY_MB,
    }
}

/// Grow the fleet: `callers` new services that each call `callee`, plus `standalone` services
/// that touch nothing, so the fleet is large enough that the callers stay under the fleet-share
/// gate while their count alone is a big blast radius.
pub(crate) fn grow(spec: &mut FleetSpec, callee: &str, callers: usize, standalone: usize) {
    for i in 1..=callers {
        spec.services.push(plain_service(
            format!("storefront-{i:02}"),
            30.0,
            vec![CallSpec {
                to: callee.to_string(),
                share: 0.1,
            }],
        ));
    }
    for i in 1..=standalone {
        spec.services
            .push(plain_service(format!("batch-{i:02}"), 20.0, Vec::new()));
    }
}
