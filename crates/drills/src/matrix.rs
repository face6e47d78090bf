//! The seed matrix's 20 scenarios in its order, then the ones ccp adds.

use super::checks::Check;
use super::drive::{Setup, World};
use super::fleets::{demo_fault, error_rate, grow, latency, policy};
use super::{Human, Kind, Scenario};
use anyhow::Result;
use ccp_adapters::embedded::fleet_spec::{FaultKind, FaultSpec};
use ccp_config::{Environment, LockBackend};
use ccp_core::conflict::Operation;
use ccp_core::domain::Outcome;
use ccp_core::events::{EndCause, HoldReason, PauseRule};
use ccp_core::locks::{Resource, Scope};
use ccp_core::state::State;

/// A trace the fix templates do not know: the acquirer client giving up after its retries.
const GATEWAY_TRACE: &str = "Traceback (most recent call last):
  File \"/srv/payment-service/payments/payment_processor.py\", line 40, in process_payment
    charge = gateway.charge(request.card_token, request.amount_cents, request.currency, key)
  File \"/srv/payment-service/payments/gateway.py\", line 50, in charge
    raise GatewayError(f\"gave up after {MAX_ATTEMPTS} attempts: {last_error}\")
payments.gateway.GatewayError: gave up after 3 attempts: acquirer timed out after 10 s
";

fn pipeline(
    name: &'static str,
    seed_row: &'static str,
    expect: &'static str,
    outcome: Outcome,
    human: Human,
    prepare: impl Fn(&mut World) -> Result<()> + Send + Sync + 'static,
    checks: Vec<Check>,
) -> Scenario {
    Scenario {
        name,
        seed_row,
        expect,
        outcome: outcome.as_str(),
        kind: Kind::Pipeline(Setup::new(human, prepare)),
        checks,
    }
}

fn staging(w: &mut World) {
    w.config.environment = Environment::Staging;
}

fn only(w: &mut World, faults: Vec<FaultSpec>) {
    w.spec.faults = faults;
}

/// A loopback port nothing listens on: connecting to it is refused at once.
fn refused_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

/// Every scenario, in the seed matrix's order.
pub fn all() -> Vec<Scenario> {
    vec![
        pipeline(
            "high_error_rate",
            "High error rate — payment-service",
            "detect, RCA, patch, canary 10→50→100, verify; in staging no human is needed",
            Outcome::Resolved,
            Human::Approve,
            |w| {
                staging(w);
                Ok(())
            },
            vec![
                Check::incident_on("payment-service"),
                Check::rca_top("payment-service"),
                Check::no_human_needed(),
                Check::max_deployed(100),
                Check::verdict("final", "pass"),
                Check::locks_released(),
            ],
        ),
        pipeline(
            "high_latency",
            "High latency — order-service",
            "detect and rank order-service first; with no stack trace there is no code to patch, so escalate with the RCA instead of guessing a timeout change (the seed auto-resolves)",
            Outcome::Escalated,
            Human::Approve,
            |w| {
                only(w, vec![latency("order-service", 900.0)]);
                Ok(())
            },
            vec![
                Check::incident_on("order-service"),
                Check::rca_top("order-service"),
                Check::nothing_deployed(),
                Check::ended_because("no stack trace could be parsed", |c| {
                    matches!(c, EndCause::NoStackTrace { .. })
                }),
            ],
        ),
        pipeline(
            "null_pointer",
            "Null-pointer exception — add a null check",
            "localize the AttributeError on None, propose the null_check template, pause for approval (production, critical service), then roll out",
            Outcome::Resolved,
            Human::Approve,
            |_| Ok(()),
            vec![
                Check::new("the fault is localized to payment_processor.py", |evs| {
                    evs.iter().any(|e| matches!(&e.kind, ccp_core::events::EventKind::Localized { file, exception, .. } if file.ends_with("payment_processor.py") && exception == "AttributeError"))
                }),
                Check::new("the null_check template is proposed", |evs| {
                    evs.iter().any(|e| matches!(&e.kind, ccp_core::events::EventKind::FixProposed { template, .. } if template == "null_check"))
                }),
                Check::paused_because("production policy", |r| {
                    matches!(r, PauseRule::ProductionPolicy { .. })
                }),
                Check::held(10, HoldReason::LowEvidence),
                Check::max_deployed(100),
            ],
        ),
        pipeline(
            "db_pool_exhausted",
            "Database connection pool exhausted — postgres",
            "every caller of postgres_primary errors; RCA must name the database, not a caller; a datastore has no code here, so escalate (the seed resizes the pool blindly)",
            Outcome::Escalated,
            Human::Approve,
            |w| {
                only(w, vec![error_rate("postgres_primary", 0.3)]);
                Ok(())
            },
            vec![
                Check::rca_top("postgres_primary"),
                Check::nothing_deployed(),
            ],
        ),
        pipeline(
            "concurrent_same_service",
            "Concurrent incident on the same service",
            "another operation is already remediating payment-service: this one stands down, nothing deployed",
            Outcome::Escalated,
            Human::Approve,
            |w| {
                w.registry.register(&Operation::new(
                    "INC-OTHER-SAME",
                    "payment-service",
                    vec!["postgres_primary".into()],
                    0,
                    "CANARY_10",
                ))?;
                Ok(())
            },
            vec![
                Check::ended_because("it stands down for INC-OTHER-SAME", |c| {
                    matches!(c, EndCause::StoodDown { other_incident, .. } if other_incident == "INC-OTHER-SAME")
                }),
                Check::nothing_deployed(),
            ],
        ),
        pipeline(
            "concurrent_dependency",
            "Concurrent incident on a dependency — user-service and payment-service",
            "an operation on user-service (a caller) is in flight: pause for review naming it; once approved, lock both services so the deploys take turns",
            Outcome::Resolved,
            Human::Approve,
            |w| {
                w.registry.register(&Operation::new(
                    "INC-OTHER-DEP",
                    "user-service",
                    Vec::new(),
                    0,
                    "CANARY_50",
                ))?;
                Ok(())
            },
            vec![
                Check::paused_because("a conflict with INC-OTHER-DEP", |r| {
                    matches!(r, PauseRule::Conflict { other_incident, .. } if other_incident == "INC-OTHER-DEP")
                }),
                Check::new("both services are locked", |evs| {
                    evs.iter().any(|e| matches!(&e.kind, ccp_core::events::EventKind::LockAcquired { resource, .. } if resource == "service:user-service"))
                }),
                Check::locks_released(),
            ],
        ),
        pipeline(
            "gate_error_budget",
            "Safety gate — error budget exhausted",
            "the error-budget gate fails and the run pauses (a soft gate); the human rejects and nothing is deployed",
            Outcome::Rejected,
            Human::Reject,
            |w| policy(&mut w.spec, "payment-service", |p| p.error_budget_used_pct = 2.5),
            vec![
                Check::gate_failed("error_budget"),
                Check::paused_because("the exhausted error budget", |r| {
                    matches!(r, PauseRule::ErrorBudgetExhausted)
                }),
                Check::nothing_deployed(),
            ],
        ),
        pipeline(
            "gate_blast_radius",
            "Safety gate — blast radius above 20 % of the fleet",
            "postgres_primary's callers are a large share of the fleet: the blast-radius gate blocks (a hard gate here; the seed pauses)",
            Outcome::Failed,
            Human::Approve,
            |w| {
                w.config.gates.max_blast_radius_pct = 5.0;
                Ok(())
            },
            vec![
                Check::gate_failed("blast_radius"),
                Check::reached(State::GatesFailed),
                Check::nothing_deployed(),
            ],
        ),
        pipeline(
            "gate_cooldown",
            "Safety gate — cooldown (last operation under 300 s ago)",
            "the cooldown gate blocks: nothing deployed",
            Outcome::Failed,
            Human::Approve,
            |w| policy(&mut w.spec, "payment-service", |p| p.last_operation_s_ago = 60.0),
            vec![
                Check::gate_failed("cooldown"),
                Check::reached(State::GatesFailed),
                Check::nothing_deployed(),
            ],
        ),
        pipeline(
            "canary_error_rate",
            "Canary failure — error rate (bad patch)",
            "the patch passes the unit tests but rejects valid addresses: the canary is worse than the baseline and is rolled back before 100 %",
            Outcome::RolledBack,
            Human::Approve,
            |w| {
                w.inject_failure = Some("canary_regression".into());
                Ok(())
            },
            vec![
                Check::rolled_back(),
                Check::never(State::FullDeploy),
                Check::reached(State::RolledBack),
            ],
        ),
        pipeline(
            "canary_latency",
            "Canary failure — latency (slow code)",
            "the new version adds 600 ms: the canary's p99 breaks the ceiling at 10 % and is rolled back",
            Outcome::RolledBack,
            Human::Approve,
            |w| {
                let mut slow = latency("payment-service", 600.0);
                slow.new_version_from_percent = Some(1);
                let bug = demo_fault(&w.spec)?;
                only(w, vec![bug, slow]);
                Ok(())
            },
            vec![
                Check::max_deployed(10),
                Check::verdict("health_check_10", "fail"),
                Check::rolled_back(),
            ],
        ),
        pipeline(
            "verification_failure",
            "Verification failure — health check fails after full rollout",
            "the new version is healthy at 10 % and 50 % but fails at 100 % (sized for a canary's share): final verification fails and traffic is rolled back",
            Outcome::RolledBack,
            Human::Approve,
            |w| {
                let mut at_full = error_rate("payment-service", 0.25);
                at_full.new_version_from_percent = Some(100);
                let bug = demo_fault(&w.spec)?;
                only(w, vec![bug, at_full]);
                Ok(())
            },
            vec![
                Check::verdict("health_check_50", "pass"),
                Check::max_deployed(100),
                Check::verdict("final", "fail"),
                Check::rolled_back(),
            ],
        ),
        pipeline(
            "lock_timeout",
            "Lock timeout — a stuck lock",
            "another owner holds service:payment-service and never lets go: the wait times out, the run escalates, nothing deployed",
            Outcome::Escalated,
            Human::Approve,
            |w| {
                w.config.locks.wait_ms = 300;
                w.locks.acquire(
                    &Resource::new(Scope::Service, "payment-service"),
                    "ccp-op-INC-STUCK",
                    &[],
                    3_600_000,
                    0,
                )?;
                Ok(())
            },
            vec![
                Check::ended_because("service:payment-service could not be locked", |c| {
                    matches!(c, EndCause::LockUnavailable { resource } if resource == "service:payment-service")
                }),
                Check::nothing_deployed(),
            ],
        ),
        Scenario {
            name: "audit_tampering",
            seed_row: "Audit log tampering",
            expect: "edit, delete, reorder: `audit verify` names the exact seq; truncation is caught by the anchor (the last hash kept elsewhere)",
            outcome: "tamper_detected",
            kind: Kind::Drill(super::audit_drill::run),
            checks: Vec::new(),
        },
        Scenario {
            name: "crash_recovery",
            seed_row: "State-machine crash — recovery from the audit log",
            expect: "a crash mid-canary leaves a log ending in CANARY_50 (and a torn line); recovery reports the torn line, rolls the canary back under a new fence and closes the incident in the log",
            outcome: "rolled_back",
            kind: Kind::Drill(super::crash_drill::run),
            checks: Vec::new(),
        },
        pipeline(
            "redis_partition",
            "Network partition — Redis unreachable",
            "the registry and the lock service are down: the run pauses (conflicts unknown), and once approved the lock cannot be taken, so it escalates with nothing deployed",
            Outcome::Escalated,
            Human::Approve,
            |w| {
                w.config.locks.backend = LockBackend::Redis;
                w.config.locks.redis_url = format!("redis://127.0.0.1:{}", refused_port()?);
                w.config.locks.wait_ms = 300;
                w.shared_ports = false;
                Ok(())
            },
            vec![
                Check::paused_because("the unavailable operations registry", |r| {
                    matches!(r, PauseRule::RegistryUnavailable)
                }),
                Check::ended_because("a lock could not be taken", |c| {
                    matches!(c, EndCause::LockUnavailable { .. })
                }),
                Check::nothing_deployed(),
            ],
        ),
        pipeline(
            "consecutive_failures",
            "Multiple consecutive failures on the same service",
            "three failed operations in a row: pause for a human, who rejects",
            Outcome::Rejected,
            Human::Reject,
            |w| {
                policy(&mut w.spec, "payment-service", |p| p.consecutive_failures = 3)?;
                staging(w);
                Ok(())
            },
            vec![
                Check::paused_because("consecutive failures", |r| {
                    matches!(r, PauseRule::ConsecutiveFailures { .. })
                }),
                Check::nothing_deployed(),
            ],
        ),
        pipeline(
            "high_blast_radius",
            "High blast radius — 15 services depend on the fix",
            "15 more services call payment-service (a fleet of 100+, so under the fleet-share gate): pause for review; approved, the rollout proceeds",
            Outcome::Resolved,
            Human::Approve,
            |w| {
                grow(&mut w.spec, "payment-service", 15, 70);
                staging(w);
                Ok(())
            },
            vec![
                Check::paused_because("the blast radius", |r| {
                    matches!(r, PauseRule::BlastRadius { .. })
                }),
                Check::max_deployed(100),
            ],
        ),
        pipeline(
            "unknown_pattern",
            "Unknown error pattern — no template applies",
            "an error the fix templates do not know (the acquirer client giving up): localize it, then escalate instead of guessing a fix",
            Outcome::Escalated,
            Human::Approve,
            |w| {
                let mut f = error_rate("payment-service", 0.2);
                f.traceback = Some(GATEWAY_TRACE.to_string());
                only(w, vec![f]);
                Ok(())
            },
            vec![
                Check::new("the fault is localized to gateway.py", |evs| {
                    evs.iter().any(|e| matches!(&e.kind, ccp_core::events::EventKind::Localized { file, .. } if file.ends_with("gateway.py")))
                }),
                Check::ended_because("no fix template applies", |c| {
                    matches!(c, EndCause::NoFixTemplate)
                }),
                Check::nothing_deployed(),
            ],
        ),
        pipeline(
            "human_override",
            "Human override — pause and resume",
            "the on-call engineer pauses at the first canary step; nothing moves until they resume; the rollout then completes",
            Outcome::Resolved,
            Human::PauseAtCanaryThenResume,
            |w| {
                staging(w);
                Ok(())
            },
            vec![Check::held_still_while_paused(), Check::max_deployed(100)],
        ),
        pipeline(
            "metrics_outage",
            "Beyond the seed: the metrics source drops out for 40 s at the first canary step",
            "hold the 10 % split and wait instead of judging blind; when the numbers are back, judge and carry on",
            Outcome::Resolved,
            Human::Approve,
            |w| {
                staging(w);
                let mut gap = FaultSpec::new("payment-service", FaultKind::MetricsOutage);
                gap.new_version_from_percent = Some(1);
                gap.duration_s = Some(40.0);
                w.spec.faults.push(gap);
                Ok(())
            },
            vec![
                Check::held(10, HoldReason::MetricsUnavailable),
                Check::held(10, HoldReason::MetricsBack),
                Check::max_deployed(100),
            ],
        ),
        pipeline(
            "metrics_outage_long",
            "Beyond the seed: the metrics source stays down after the first canary step",
            "hold the 10 % split for canary.metrics_hold_s, then roll back rather than guess",
            Outcome::RolledBack,
            Human::Approve,
            |w| {
                staging(w);
                let mut gap = FaultSpec::new("payment-service", FaultKind::MetricsOutage);
                gap.new_version_from_percent = Some(1);
                w.spec.faults.push(gap);
                Ok(())
            },
            vec![
                Check::held(10, HoldReason::MetricsUnavailable),
                Check::max_deployed(10),
                Check::ended_because("the metrics stayed away too long", |c| {
                    matches!(c, EndCause::MetricsOutage { .. })
                }),
                Check::rolled_back(),
            ],
        ),
    ]
}
