//! `ccp recover`, and the recovery every start runs first: bring operations a dead process left
//! in flight to a safe end, through the configured deployer and locks.

use anyhow::Result;
use ccp_app::crash_recovery::{recover, RecoverError, RecoveryPorts};
use ccp_config::{Config, DeployBackend};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

/// The ports crash recovery acts through, from configuration.
pub fn recovery_ports(cfg: &Config) -> Result<RecoveryPorts> {
    let deployer: Option<Arc<dyn ccp_core::ports::Deployer>> = match cfg.deploy.backend {
        DeployBackend::Simulated => None,
        DeployBackend::Script => Some(Arc::new(
            ccp_adapters::script_deployer::ScriptDeployer::from_config(&cfg.deploy)?,
        )),
    };
    Ok(RecoveryPorts {
        deployer,
        locks: ccp_app::lock_manager(cfg)?,
        lock_ttl_ms: cfg.locks.ttl_ms,
        lock_wait_ms: cfg.locks.wait_ms,
        fsync: cfg.audit.fsync,
    })
}

/// `ccp recover [--json]`: exit 0 when everything found was brought to a safe end, 1 otherwise
/// (including a log that cannot be trusted).
pub fn recover_cmd(cfg: &Config, state_dir: &Path, json: bool, out: &mut dyn Write) -> Result<u8> {
    let log = cfg.audit_path(state_dir);
    let ports = recovery_ports(cfg)?;
    match recover(&log, &ports) {
        Ok(report) => {
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
            } else {
                writeln!(out, "{}", report.summary())?;
            }
            Ok(if report.safe { 0 } else { 1 })
        }
        Err(e) => {
            if json {
                let doc = serde_json::json!({"audit": log.display().to_string(), "safe": false, "error": e.to_string()});
                writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
            } else {
                writeln!(out, "ccp recover: {e}")?;
            }
            Ok(1)
        }
    }
}

/// What every start does first: recover whatever a previous process left in flight, telling the
/// operator on stderr (before any cockpit takes the screen). An untrusted log stops the start.
pub fn recover_on_start(cfg: &Config, state_dir: &Path) -> Result<()> {
    let log = cfg.audit_path(state_dir);
    if !log.exists() {
        return Ok(());
    }
    let ports = recovery_ports(cfg)?;
    let report = recover(&log, &ports).map_err(|e| {
        // A log the OS will not let us read or write is not a broken chain: say which it is.
        let hint = match &e {
            RecoverError::Audit(ccp_audit::AuditError::Io { .. }) => {
                "the file could not be read or written: check its owner, permissions and the disk"
            }
            _ => "fix it or move it away; `ccp audit verify` shows where it breaks",
        };
        anyhow::Error::new(e).context(format!(
            "recovering {} before starting ({hint})",
            log.display()
        ))
    })?;
    if report.torn_tail.is_some() || !report.incidents.is_empty() {
        eprintln!(
            "ccp: recovered after an unclean stop:\n{}",
            report.summary()
        );
        tracing::warn!("recovered after an unclean stop: {}", report.summary());
    }
    if !report.safe {
        anyhow::bail!(
            "crash recovery could not bring every operation to a safe end; see above and the audit log"
        );
    }
    Ok(())
}
