//! `ccp lock run | list | release --force`: the runbook side of the pipeline's locks. A human or
//! a script that must touch a service by hand takes the very lock the pipeline takes, so the two
//! never act at once; `list` shows who holds what; `release --force` clears a dead holder's lock
//! and records who did it in the audit log.

use super::actor_of;
use super::args::LockCmd;
use super::load_config;
use std::process::ExitCode;

use anyhow::{Context, Result};
use ccp_adapters::lock_keeper::KeptLocks;
use ccp_adapters::redis_lock::{RedisLockManager, RedisTimeouts};
use ccp_adapters::subprocess::{shell_code, ProcessGroup};
use ccp_audit::FileAuditLog;
use ccp_core::clock::rfc3339;
use ccp_core::locks::{LockInfo, Resource};
use ccp_core::ports::LockManager;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Exit code when the lock could not be taken, or was lost while CMD ran (BSD `EX_TEMPFAIL`:
/// try again later).
pub const EXIT_NOT_ACQUIRED: u8 = 75;

/// How long CMD gets between SIGTERM and SIGKILL once its lock is lost.
const TERM_GRACE: Duration = Duration::from_secs(5);

/// What `ccp lock run` needs.
#[derive(Debug, Clone)]
pub struct RunLocked<'a> {
    /// Redis URL.
    pub redis_url: &'a str,
    /// Resource to hold.
    pub resource: &'a Resource,
    /// Lease length; renewed every third of it while CMD runs.
    pub ttl_ms: u64,
    /// Longest wait for a busy lock.
    pub wait_ms: u64,
    /// Lock owner name (goes into the token, so `ccp lock list` shows who).
    pub owner: &'a str,
    /// Program and arguments.
    pub command: &'a [String],
}

/// How `ccp lock run` ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunOutcome {
    /// CMD ran under the lock and exited with this code.
    Finished(i32),
    /// The lock was busy (or Redis unreachable) for the whole wait.
    NotAcquired(String),
    /// The lock was lost while CMD ran; CMD was stopped.
    Lost(String),
}

impl RunOutcome {
    /// The process exit code the Contract gives this outcome.
    pub fn exit_code(&self) -> u8 {
        match self {
            RunOutcome::Finished(c) => u8::try_from(*c).unwrap_or(1),
            RunOutcome::NotAcquired(_) | RunOutcome::Lost(_) => EXIT_NOT_ACQUIRED,
        }
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Start CMD as the leader of its own process group, so that stopping it stops everything it
/// started: a lease lost mid-run must not leave a grandchild working unprotected. The leader also
/// dies with us (Linux), since our lock expires when we do.
fn spawn_child(cmd: &[String], env: &[(&str, String)]) -> Result<ProcessGroup> {
    let (prog, args) = cmd
        .split_first()
        .context("ccp lock run needs a command after `--`")?;
    let mut c = Command::new(prog);
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    ProcessGroup::spawn(&mut c, true).with_context(|| format!("starting `{prog}`"))
}

/// SIGTERM to CMD's whole group, a grace period, then SIGKILL to the group; CMD's exit code as a
/// shell reports it.
fn stop_child(child: &mut ProcessGroup) -> i32 {
    child.stop(TERM_GRACE).map(shell_code).unwrap_or(137)
}

/// Take the lock, run CMD with `CCP_LOCK_RESOURCE`, `CCP_LOCK_TOKEN` and `CCP_FENCE` in its
/// environment while a keeper renews the lease, then release. If the lease is lost, CMD is
/// stopped at once: it no longer has the exclusion it was promised. A lease found gone only at
/// release also counts as lost.
pub fn run_locked(req: &RunLocked<'_>) -> Result<RunOutcome> {
    let redis = RedisLockManager::new(req.redis_url, RedisTimeouts::default())?;
    let inner: Arc<dyn LockManager> = Arc::new(redis);
    // Renew at a third of the TTL, but at least every second: the renewal doubles as the check
    // that nobody took the lock away, and CMD should be stopped promptly when that happens.
    let every = (req.ttl_ms / 3).clamp(1, 1_000);
    let locks = KeptLocks::new(inner, req.ttl_ms, every);
    let lease = match locks.acquire(req.resource, req.owner, &[], req.ttl_ms, req.wait_ms) {
        Ok(l) => l,
        Err(e) => return Ok(RunOutcome::NotAcquired(e.message)),
    };
    tracing::info!(resource = %lease.resource, fence = lease.fence, waited_ms = lease.waited_ms, "lock taken for a command");
    let env = [
        ("CCP_LOCK_RESOURCE", lease.resource.to_string()),
        ("CCP_LOCK_TOKEN", lease.token.clone()),
        ("CCP_FENCE", lease.fence.to_string()),
    ];
    let mut child = match spawn_child(req.command, &env) {
        Ok(c) => c,
        Err(e) => {
            let _ = locks.release(&lease);
            return Err(e);
        }
    };
    let guard = Guard::start(child.pgid());
    let outcome = supervise(&locks, &lease, &mut child);
    guard.done();
    outcome
}

/// Pass signals on to CMD, watch the lease, and stop CMD the moment the lease is lost; then
/// release.
fn supervise(
    locks: &KeptLocks,
    lease: &ccp_core::locks::LockLease,
    child: &mut ProcessGroup,
) -> Result<RunOutcome> {
    // CMD has a process group of its own, so a terminal's Ctrl-C (or a SIGTERM or hang-up sent
    // to us) no longer reaches it directly: pass each one on, and let CMD decide how to end.
    let mut forwarded = Signals::new([SIGINT, SIGTERM, SIGHUP]).context("watching for signals")?;
    let outcome = loop {
        for sig in forwarded.pending() {
            child.signal(sig);
        }
        match child.try_wait() {
            Ok(Some(st)) => break RunOutcome::Finished(shell_code(st)),
            Ok(None) => {}
            Err(e) => {
                let code = stop_child(child);
                let _ = locks.release(lease);
                return Err(anyhow::anyhow!(
                    "lost track of the command ({e}); stopped it (exit {code})"
                ));
            }
        }
        if let Some(why) = locks.lost(lease) {
            let code = stop_child(child);
            break RunOutcome::Lost(format!(
                "{why}; the command was stopped (exit {code}) because it no longer held {}",
                lease.resource
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    match (locks.release(lease), outcome) {
        // CMD finished, but the lease had gone by then: part of its work ran unprotected, and
        // the caller must hear that rather than a clean exit code.
        (Err(e), RunOutcome::Finished(code)) => Ok(RunOutcome::Lost(format!(
            "{}; the command had finished with exit {code}, but not under the lock throughout",
            e.message
        ))),
        (_, outcome) => Ok(outcome),
    }
}

/// Every lock held in Redis now.
pub fn list(redis_url: &str) -> Result<Vec<LockInfo>> {
    let m = RedisLockManager::new(redis_url, RedisTimeouts::default())?;
    Ok(m.list()?)
}

/// Delete `resource`'s lock whoever holds it and record that in the audit log at `audit_path`
/// (type `lock_force_released`, with the actor and the token removed). The audit append comes
/// first: an unrecorded forced release must not happen.
pub fn force_release(
    redis_url: &str,
    resource: &Resource,
    actor: &str,
    audit_path: &Path,
) -> Result<Option<String>> {
    let m = RedisLockManager::new(redis_url, RedisTimeouts::default())?;
    let holder = m
        .list()?
        .into_iter()
        .find(|l| &l.resource == resource)
        .map(|l| l.token);
    let mut audit = FileAuditLog::open(audit_path, true)
        .with_context(|| format!("opening the audit log {}", audit_path.display()))?;
    audit
        .append(
            &rfc3339(now_ms()),
            actor,
            "lock_force_released",
            serde_json::json!({
                "resource": resource.to_string(),
                "token": holder,
                "redis": m.url(),
            }),
        )
        .context("recording the forced release in the audit log")?;
    Ok(m.force_release(resource)?)
}

/// Human-readable table for `ccp lock list`.
pub fn render_list(locks: &[LockInfo]) -> String {
    if locks.is_empty() {
        return "no locks held\n".into();
    }
    let w = locks
        .iter()
        .map(|l| l.resource.to_string().len())
        .max()
        .unwrap_or(8)
        .max(8);
    let mut out = format!("{:<w$}  {:>9}  OWNER TOKEN\n", "RESOURCE", "TTL");
    for l in locks {
        out.push_str(&format!(
            "{:<w$}  {:>7.1} s  {}\n",
            l.resource.to_string(),
            l.ttl_ms as f64 / 1000.0,
            l.token
        ));
    }
    out
}

/// `ccp lock …`. Bad input (resource, config) is exit 2 like everywhere else.
pub(super) fn command(cmd: LockCmd, config: Option<&Path>, state_dir: &Path) -> Result<ExitCode> {
    use ccp_core::locks::Resource;
    if let LockCmd::Guard { pgid } = cmd {
        return Ok(guard(pgid));
    }
    let cfg = match load_config(config) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let url = |r: Option<String>| r.unwrap_or_else(|| cfg.locks.redis_url.clone());
    let parse = |r: &str| -> Result<Resource> { Ok(r.parse::<Resource>()?) };
    match cmd {
        LockCmd::Run {
            resource,
            ttl_ms,
            wait_ms,
            redis,
            command,
        } => {
            let resource = parse(&resource)?;
            let url = url(redis);
            let user = actor_of(&cfg);
            let owner = format!("ccp-lock-run:{user}");
            let outcome = run_locked(&RunLocked {
                redis_url: &url,
                resource: &resource,
                ttl_ms: ttl_ms.unwrap_or(cfg.locks.ttl_ms).max(1),
                wait_ms: wait_ms.unwrap_or(cfg.locks.wait_ms),
                owner: &owner,
                command: &command,
            })?;
            match &outcome {
                RunOutcome::Finished(_) => {}
                RunOutcome::NotAcquired(why) => eprintln!("ccp: lock not acquired: {why}"),
                RunOutcome::Lost(why) => eprintln!("ccp: lock lost: {why}"),
            }
            Ok(ExitCode::from(outcome.exit_code()))
        }
        LockCmd::List { redis, json } => {
            let locks = list(&url(redis))?;
            if json {
                println!("{}", serde_json::json!({ "locks": locks }));
            } else {
                print!("{}", render_list(&locks));
            }
            Ok(ExitCode::SUCCESS)
        }
        LockCmd::Release {
            force,
            resource,
            redis,
        } => {
            if !force {
                eprintln!("ccp lock release takes another holder's lock away: say --force if that is what you mean");
                return Ok(ExitCode::from(2));
            }
            let resource = parse(&resource)?;
            let audit_path = cfg.audit_path(state_dir);
            match force_release(&url(redis), &resource, &actor_of(&cfg), &audit_path)? {
                Some(token) => println!(
                    "released {resource} (was held by {token}); recorded in {}",
                    audit_path.display()
                ),
                None => println!(
                    "{resource} was not held; the attempt is recorded in {}",
                    audit_path.display()
                ),
            }
            Ok(ExitCode::SUCCESS)
        }
        LockCmd::Guard { pgid } => Ok(guard(pgid)),
    }
}

/// What `lock run` writes to its guard when CMD is over and the guard must touch nothing.
const GUARD_DONE: u8 = b'd';

/// The watchdog beside CMD: `ccp lock guard PGID`, its stdin the read end of a pipe only
/// `lock run` writes. Why a process of its own: the parent-death signal reaches CMD's leader
/// only, so a `kill -9` of `lock run` would leave CMD's children working after the lease
/// lapses. The kernel closes the pipe however `lock run` dies; the guard then stops the group.
fn guard(pgid: i32) -> ExitCode {
    use std::io::Read;
    // A terminal's Ctrl-C or hang-up is for `lock run` to pass on, not for the watchdog.
    // SAFETY: setting a signal to be ignored touches no memory of ours.
    unsafe {
        libc::signal(SIGINT, libc::SIG_IGN);
        libc::signal(SIGHUP, libc::SIG_IGN);
    }
    let mut byte = [0u8; 1];
    let said_done = loop {
        match std::io::stdin().read(&mut byte) {
            Ok(1) => break byte[0] == GUARD_DONE,
            Ok(_) => break false,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break false,
        }
    };
    if said_done || pgid <= 1 {
        return ExitCode::SUCCESS;
    }
    tracing::warn!(
        pgid,
        "ccp lock run ended without stopping its command: stopping the command's process group"
    );
    // SAFETY: kill(2) with a negative pid signals a process group; no memory is touched.
    let alive = || unsafe { libc::kill(-pgid, 0) } == 0;
    unsafe { libc::kill(-pgid, libc::SIGTERM) };
    let deadline = std::time::Instant::now() + TERM_GRACE;
    while alive() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    if alive() {
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
    }
    ExitCode::SUCCESS
}

/// The guard of CMD's group, started after CMD (so CMD never holds the pipe's write end).
struct Guard(Option<std::process::Child>);

impl Guard {
    fn start(pgid: Option<i32>) -> Self {
        let Some(pgid) = pgid else { return Self(None) };
        let child = std::env::current_exe().and_then(|exe| {
            let mut c = Command::new(exe);
            c.args(["lock", "guard", &pgid.to_string()])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .process_group(0);
            c.spawn()
        });
        match child {
            Ok(c) => Self(Some(c)),
            Err(e) => {
                tracing::warn!("no guard for the command's process group ({e}): a kill -9 of ccp lock run would leave it running");
                Self(None)
            }
        }
    }

    /// CMD is over: tell the guard to leave the group alone, and reap it.
    fn done(mut self) {
        if let Some(mut child) = self.0.take() {
            use std::io::Write;
            if let Some(mut stdin) = child.stdin.take() {
                let _ = stdin.write_all(&[GUARD_DONE]);
            }
            let _ = child.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ccp_core::locks::Scope;

    #[test]
    fn exit_codes_follow_the_contract() {
        assert_eq!(RunOutcome::Finished(0).exit_code(), 0);
        assert_eq!(RunOutcome::Finished(3).exit_code(), 3);
        assert_eq!(RunOutcome::NotAcquired("busy".into()).exit_code(), 75);
        assert_eq!(RunOutcome::Lost("gone".into()).exit_code(), 75);
    }

    #[test]
    fn list_renders_resource_ttl_and_token() {
        let t = render_list(&[LockInfo {
            resource: Resource::new(Scope::Service, "payment-service"),
            token: "ccp-op-INC-1:42:abc:0".into(),
            ttl_ms: 12_500,
        }]);
        assert!(t.contains("service:payment-service"), "{t}");
        assert!(t.contains("12.5 s"), "{t}");
        assert!(t.contains("ccp-op-INC-1:42:abc:0"), "{t}");
        assert_eq!(render_list(&[]), "no locks held\n");
    }
}
