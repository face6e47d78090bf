//! The crash drill: what `kill -9` mid-canary leaves behind is a prefix of the audit log, maybe
//! with a half-written last line. The drill cuts a real run's log at its 50 % canary step, tears
//! the next line, and runs crash recovery on it with a script deployer that records what it is
//! told, so the rollback, its fence and the log's integrity can all be checked.

use super::{CheckResult, Human, Observed, Scenario};
use anyhow::{bail, Context, Result};
use ccp_adapters::embedded::local_lock::LocalLockManager;
use ccp_adapters::script_deployer::ScriptDeployer;
use ccp_app::crash_recovery::{recover, RecoveryPorts};
use ccp_audit::{read_records, verify_file, VerifyReport};
use ccp_config::{DeployBackend, DeployConfig};
use std::sync::Arc;

pub(crate) fn run(_sc: &Scenario) -> Result<Observed> {
    let mut world = super::drive::world(ccp_config::Config::default())?;
    world.config.environment = ccp_config::Environment::Staging;
    let full = super::drive::state_dir()?;
    super::drive::run_world(&world, Human::Approve, 11, full.path())?;
    let text = std::fs::read_to_string(full.path().join("audit.jsonl"))
        .context("reading the drill's audit log")?;
    let lines: Vec<&str> = text.lines().collect();
    let Some(cut) = lines
        .iter()
        .position(|l| l.contains("\"type\":\"deployed\"") && l.contains("\"percent\":50"))
    else {
        bail!("the drill's run never deployed to 50 %")
    };
    let crashed_fences: u64 = lines[..=cut]
        .iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "lock_acquired")
        .filter_map(|v| v["data"]["fence"].as_u64())
        .max()
        .unwrap_or(0);

    let dir = super::drive::state_dir()?;
    let log = dir.path().join("audit.jsonl");
    let torn = &lines[cut + 1][..lines[cut + 1].len() / 2];
    let mut crashed = lines[..=cut].join("\n");
    crashed.push('\n');
    crashed.push_str(torn);
    std::fs::write(&log, crashed).context("writing the crashed log")?;

    let record = dir.path().join("deploy-calls.txt");
    let deploy = DeployConfig {
        backend: DeployBackend::Script,
        script: Some(format!(
            "echo \"$CCP_ACTION $CCP_SERVICE $CCP_FENCE $CCP_INCIDENT\" >> '{}'",
            record.display()
        )),
        ..DeployConfig::default()
    };
    let ports = RecoveryPorts {
        deployer: Some(Arc::new(ScriptDeployer::from_config(&deploy)?)),
        locks: Arc::new(LocalLockManager::new()),
        lock_ttl_ms: 30_000,
        lock_wait_ms: 1_000,
        fsync: false,
    };
    let report = recover(&log, &ports)?;
    let again = recover(&log, &ports)?;

    let inc = report.incidents.first();
    let fence = inc.and_then(|i| i.fence).unwrap_or(0);
    let calls = std::fs::read_to_string(&record).unwrap_or_default();
    let after = verify_file(&log)?;
    let last = read_records(&log)?.pop();
    let mut checks = vec![
        CheckResult {
            what: format!(
                "the torn line is reported as seq {} and quarantined byte for byte",
                cut + 1
            ),
            ok: report.torn_tail.as_ref().is_some_and(|t| {
                t.seq == (cut + 1) as u64
                    && std::fs::read_to_string(&t.quarantined_to).ok().as_deref() == Some(torn)
            }),
        },
        CheckResult {
            what: "exactly one incident was in flight, found in CANARY_50 at 50 %".into(),
            ok: report.incidents.len() == 1
                && inc.is_some_and(|i| {
                    i.found_state.as_deref() == Some("CANARY_50") && i.deployed_percent == 50
                }),
        },
        CheckResult {
            what: format!(
                "the deploy tool was told exactly once to roll back, with a fence above the crashed run's {crashed_fences} (got: {})",
                calls.trim()
            ),
            ok: calls.lines().count() == 1
                && calls.starts_with(&format!("rollback payment-service {fence} "))
                && fence > crashed_fences,
        },
        CheckResult {
            what: format!("the log verifies after recovery (got: {after})"),
            ok: after.is_intact(),
        },
        CheckResult {
            what: "the log's last record is `finished` with outcome rolled_back".into(),
            ok: last.is_some_and(|r| r.kind == "finished" && r.data["outcome"] == "rolled_back"),
        },
        CheckResult {
            what: "recovering again finds nothing to do".into(),
            ok: again.incidents.is_empty() && again.torn_tail.is_none(),
        },
    ];
    if let VerifyReport::Broken { .. } = after {
        checks.push(CheckResult {
            what: "recovery left a broken chain".into(),
            ok: false,
        });
    }
    Ok(Observed {
        outcome: inc
            .map(|i| i.outcome.clone())
            .unwrap_or_else(|| "nothing_recovered".into()),
        state: inc.and_then(|i| i.found_state.clone()).unwrap_or_default(),
        reason: report.summary(),
        checks,
    })
}
