//! The Redis lock adapter and `ccp lock` against a real redis-server (started by tests/run.sh,
//! address in `CCP_TEST_REDIS_URL`): mutual exclusion, TTL expiry when a holder dies, renewal,
//! fencing, interoperability with redis-py's `Lock`, and Redis dying in the middle of a canary.
//!
//! Outside tests/run.sh (no server) these tests say so and pass, unless `CCP_REQUIRE_SERVERS`
//! is set, which tests/run.sh does: there a missing server is a failure.

use ccp_adapters::redis_lock::{lock_key, RedisLockManager, RedisTimeouts};
use ccp_core::locks::{FenceGuard, Resource, Scope};
use ccp_core::ports::LockManager;
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CCP: &str = env!("CARGO_BIN_EXE_ccp");

fn server_url() -> Option<String> {
    match std::env::var("CCP_TEST_REDIS_URL") {
        Ok(u) => Some(u),
        Err(_) if std::env::var_os("CCP_REQUIRE_SERVERS").is_some() => {
            panic!("CCP_TEST_REDIS_URL is not set but servers are required (run tests/run.sh)")
        }
        Err(_) => {
            eprintln!("skipped: no Redis (run tests/run.sh to start one)");
            None
        }
    }
}

/// A resource name no other test (or earlier run against the same server) uses.
fn unique(scope: Scope, what: &str) -> Resource {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    Resource::new(
        scope,
        format!(
            "{what}-{}-{nanos}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ),
    )
}

/// The same server, another database: tests that must use the demo's real service name get a
/// keyspace of their own, so they cannot meet when nextest runs them in parallel.
fn with_db(url: &str, db: u8) -> String {
    format!("{}/{db}", url.trim_end_matches('/'))
}

fn manager(url: &str) -> RedisLockManager {
    RedisLockManager::new(url, RedisTimeouts::default()).expect("valid url")
}

fn raw(url: &str) -> redis::Connection {
    redis::Client::open(url)
        .expect("url")
        .get_connection()
        .expect("connect")
}

fn ccp(state: &Path) -> Command {
    let mut c = Command::new(CCP);
    c.env("CCP_STATE_DIR", state).env_remove("CCP_REDIS_URL");
    c
}

fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("timed out waiting for {what}");
}

fn is_held(url: &str, r: &Resource) -> bool {
    let v: Option<String> = redis::cmd("GET")
        .arg(lock_key(r))
        .query(&mut raw(url))
        .expect("GET");
    v.is_some()
}

#[test]
fn threads_never_lose_an_update_under_the_lock() {
    let Some(url) = server_url() else { return };
    let r = unique(Scope::Service, "counter");
    let counter = format!("test:counter:{}", r.name);
    let (threads, rounds) = (8, 25);
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (url, r, counter) = (url.clone(), r.clone(), counter.clone());
            std::thread::spawn(move || {
                let m = manager(&url);
                let mut c = raw(&url);
                for _ in 0..rounds {
                    let lease = m
                        .acquire(&r, &format!("t{t}"), &[], 5_000, 30_000)
                        .expect("acquire within the wait");
                    // Read-modify-write with a pause in the middle: without mutual exclusion
                    // increments overlap and get lost.
                    let n: Option<u64> =
                        redis::cmd("GET").arg(&counter).query(&mut c).expect("GET");
                    std::thread::sleep(Duration::from_micros(300));
                    let _: () = redis::cmd("SET")
                        .arg(&counter)
                        .arg(n.unwrap_or(0) + 1)
                        .query(&mut c)
                        .expect("SET");
                    m.release(&lease).expect("release our own lease");
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("worker");
    }
    let n: u64 = redis::cmd("GET")
        .arg(&counter)
        .query(&mut raw(&url))
        .expect("GET");
    assert_eq!(n, threads * rounds);
}

#[test]
fn processes_running_ccp_lock_run_never_lose_an_update() {
    let Some(url) = server_url() else { return };
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("counter");
    std::fs::write(&file, "0\n").expect("write");
    let r = unique(Scope::Service, "file-counter");
    let script = format!(
        "for i in 1 2 3 4 5 6 7 8; do {CCP} lock run --redis {url} --resource {r} --wait-ms 30000 -- \
         sh -c 'n=$(cat {f}); sleep 0.01; echo $((n+1)) > {f}' || exit 1; done",
        f = file.display()
    );
    let kids: Vec<Child> = (0..4)
        .map(|_| {
            Command::new("sh")
                .arg("-c")
                .arg(&script)
                .env("CCP_STATE_DIR", dir.path())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for mut k in kids {
        assert!(k.wait().expect("wait").success(), "a worker failed");
    }
    let n: u32 = std::fs::read_to_string(&file)
        .expect("read")
        .trim()
        .parse()
        .expect("number");
    assert_eq!(n, 32);
}

#[test]
fn a_killed_holders_lock_expires_by_ttl_and_its_command_dies_with_it() {
    let Some(url) = server_url() else { return };
    let dir = tempfile::tempdir().expect("tmp");
    let pidfile = dir.path().join("child.pid");
    let r = unique(Scope::Service, "ttl");
    let mut holder = ccp(dir.path())
        .args(["lock", "run", "--redis", &url, "--resource", &r.to_string()])
        .args(["--ttl-ms", "1500", "--"])
        .args([
            "sh",
            "-c",
            &format!("echo $$ > {}; exec sleep 60", pidfile.display()),
        ])
        .spawn()
        .expect("spawn holder");
    wait_until(
        "the holder's command to start",
        Duration::from_secs(10),
        || pidfile.exists() && is_held(&url, &r),
    );
    let child_pid: i32 = std::fs::read_to_string(&pidfile)
        .expect("pid")
        .trim()
        .parse()
        .expect("pid number");
    let m = manager(&url);
    assert!(
        m.acquire(&r, "other", &[], 1_000, 0).is_err(),
        "held while the holder lives"
    );
    holder.kill().expect("SIGKILL the holder");
    let _ = holder.wait();
    // Nobody released it: the lease must run out on its own, and then we get it.
    let lease = m
        .acquire(&r, "other", &[], 1_000, 10_000)
        .expect("free after TTL");
    assert!(lease.waited_ms > 0, "had to wait for the TTL");
    m.release(&lease).expect("release");
    // The orphaned command must not carry on without the lock (parent-death signal).
    wait_until(
        "the orphaned command to die",
        Duration::from_secs(10),
        || {
            !Path::new(&format!("/proc/{child_pid}")).exists()
                || std::fs::read_to_string(format!("/proc/{child_pid}/stat"))
                    .map(|s| s.contains(") Z "))
                    .unwrap_or(true)
        },
    );
}

#[test]
fn renewal_keeps_a_long_operations_lock_past_its_ttl() {
    let Some(url) = server_url() else { return };
    let dir = tempfile::tempdir().expect("tmp");
    let r = unique(Scope::Service, "renew");
    let mut holder = ccp(dir.path())
        .args(["lock", "run", "--redis", &url, "--resource", &r.to_string()])
        .args(["--ttl-ms", "300", "--", "sleep", "1.5"])
        .spawn()
        .expect("spawn holder");
    wait_until("the lock", Duration::from_secs(10), || is_held(&url, &r));
    let m = manager(&url);
    // Five TTLs long, every attempt must find it still held.
    let until = Instant::now() + Duration::from_millis(1_100);
    let mut tries = 0;
    while Instant::now() < until {
        assert!(
            m.acquire(&r, "other", &[], 300, 0).is_err(),
            "lost after {tries} tries"
        );
        tries += 1;
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        holder.wait().expect("wait").success(),
        "command ran to its end"
    );
    let lease = m
        .acquire(&r, "other", &[], 300, 0)
        .expect("released at the end");
    m.release(&lease).expect("release");
}

#[test]
fn a_stale_holders_fencing_token_is_refused() {
    let Some(url) = server_url() else { return };
    let r = unique(Scope::Service, "fence");
    let (a, b) = (manager(&url), manager(&url));
    let mut deployer = FenceGuard::default();
    // A takes the lock, then stalls past its TTL (no renewal).
    let stale = a.acquire(&r, "a", &[], 150, 0).expect("A");
    deployer
        .check(&r.name, stale.fence)
        .expect("A deploys while it holds the lock");
    std::thread::sleep(Duration::from_millis(300));
    let fresh = b.acquire(&r, "b", &[], 10_000, 0).expect("B after A's TTL");
    assert!(
        fresh.fence > stale.fence,
        "{} > {}",
        fresh.fence,
        stale.fence
    );
    deployer.check(&r.name, fresh.fence).expect("B deploys");
    // A wakes up believing it still holds the lock: everything it tries is refused.
    let e = deployer
        .check(&r.name, stale.fence)
        .expect_err("stale step refused");
    assert_eq!((e.got, e.seen), (stale.fence, fresh.fence));
    assert!(a.renew(&stale, 1_000).is_err(), "A cannot renew B's lock");
    assert!(a.release(&stale).is_err(), "A cannot release B's lock");
    assert!(is_held(&url, &r), "B still holds it");
    b.release(&fresh).expect("B releases");
}

#[test]
fn the_ordering_rule_holds_on_redis_too() {
    let Some(url) = server_url() else { return };
    let m = manager(&url);
    let inc = unique(Scope::Incident, "INC");
    let svc = unique(Scope::Service, "svc");
    let e = m
        .acquire(&svc, "x", std::slice::from_ref(&inc), 1_000, 0)
        .expect_err("service after incident is out of order");
    assert!(e.message.contains("order"), "{}", e.message);
    assert!(!is_held(&url, &svc), "nothing taken on refusal");
}

/// redis-py's `Lock` on the same key: it excludes us and we exclude it.
#[test]
fn python_redis_lock_and_ccp_exclude_each_other() {
    let Some(url) = server_url() else { return };
    let python = std::env::var("CCP_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let r = unique(Scope::Service, "py");
    let key = lock_key(&r);
    let m = manager(&url);

    // Python holds, we are refused; Python releases, we get it.
    let py = r#"
import sys, redis
r = redis.Redis.from_url(sys.argv[1])
lock = r.lock(sys.argv[2], timeout=10)
assert lock.acquire(blocking=False), "python could not take a free lock"
print("held", flush=True)
sys.stdin.readline()
lock.release()
print("released", flush=True)
"#;
    let mut p = Command::new(&python)
        .args(["-c", py, &url, &key])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python (tests/run.sh makes a venv with redis-py)");
    let mut out = BufReader::new(p.stdout.take().expect("stdout"));
    let mut line = String::new();
    out.read_line(&mut line).expect("read");
    assert_eq!(line.trim(), "held", "python side: {line}");
    assert!(
        m.acquire(&r, "ccp", &[], 5_000, 200).is_err(),
        "python's lock excludes ccp"
    );
    p.stdin
        .take()
        .expect("stdin")
        .write_all(b"go\n")
        .expect("write");
    line.clear();
    out.read_line(&mut line).expect("read");
    assert_eq!(line.trim(), "released");
    assert!(p.wait().expect("wait").success());
    let lease = m
        .acquire(&r, "ccp", &[], 5_000, 0)
        .expect("free after python released");

    // We hold: Python is refused, sees it locked, and cannot release our lock with its token.
    let py2 = r#"
import sys, redis
from redis.exceptions import LockNotOwnedError
r = redis.Redis.from_url(sys.argv[1])
lock = r.lock(sys.argv[2], timeout=10)
print("locked" if lock.locked() else "free")
print("acquired" if lock.acquire(blocking=False) else "refused")
lock.local.token = b"not-the-owner"
try:
    lock.release()
    print("released-someone-elses")
except LockNotOwnedError:
    print("not-owner")
"#;
    let o = Command::new(&python)
        .args(["-c", py2, &url, &key])
        .output()
        .expect("python");
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        ["locked", "refused", "not-owner"],
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    m.release(&lease).expect("ccp still owns it");
    let o = Command::new(&python)
        .args([
            "-c",
            "import sys, redis; l = redis.Redis.from_url(sys.argv[1]).lock(sys.argv[2], timeout=5); print(l.acquire(blocking=False)); l.release()",
            &url,
            &key,
        ])
        .output()
        .expect("python");
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "True");
}

#[test]
fn lock_list_and_forced_release_are_audited_with_the_actor() {
    let Some(url) = server_url() else { return };
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = dir.path().join("ccp.yaml");
    let r = unique(Scope::Service, "forced");
    // CMD starts a background child that leaves a marker once told to go: after the lease is
    // taken away, nothing CMD started may go on working without the lock.
    let (mut holder, go, marker) = hold_with_grandchild(dir.path(), &url, &r, "");
    let o = ccp(dir.path())
        .args([
            "--config",
            cfg.to_str().expect("utf8"),
            "lock",
            "list",
            "--json",
        ])
        .output()
        .expect("list");
    let v: Value = serde_json::from_slice(&o.stdout).expect("json");
    let mine = v["locks"]
        .as_array()
        .expect("locks")
        .iter()
        .find(|l| l["resource"]["name"] == r.name.as_str())
        .cloned()
        .expect("our lock listed");
    let token = mine["token"].as_str().expect("token").to_string();
    assert!(token.starts_with("ccp-lock-run:alice:"), "{token}");
    assert!(mine["ttl_ms"].as_u64().expect("ttl") > 50_000);

    let o = ccp(dir.path())
        .args(["--config", cfg.to_str().expect("utf8"), "lock", "release"])
        .arg(r.to_string())
        .output()
        .expect("release without --force");
    assert_eq!(o.status.code(), Some(2), "--force is required");
    assert!(is_held(&url, &r));
    let o = ccp(dir.path())
        .args([
            "--config",
            cfg.to_str().expect("utf8"),
            "lock",
            "release",
            "--force",
        ])
        .arg(r.to_string())
        .output()
        .expect("release");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!is_held(&url, &r));
    // The holder notices at its next renewal, stops its command and reports 75.
    let st = holder.wait().expect("holder");
    assert_eq!(st.code(), Some(75));
    std::fs::write(&go, "").expect("go");
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        !marker.exists(),
        "a process CMD started kept running after the lock was lost"
    );
    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).expect("audit");
    let rec: Value = serde_json::from_str(audit.lines().last().expect("a record")).expect("json");
    assert_eq!(rec["type"], "lock_force_released");
    assert_eq!(rec["actor"], "alice");
    assert_eq!(rec["data"]["resource"], r.to_string());
    assert_eq!(rec["data"]["token"], token.as_str());
    let v = ccp(dir.path())
        .args(["audit", "verify"])
        .arg(dir.path().join("audit.jsonl"))
        .output()
        .expect("verify");
    assert!(v.status.success());
}

#[test]
fn lock_run_exits_75_when_the_lock_stays_busy() {
    let Some(url) = server_url() else { return };
    let dir = tempfile::tempdir().expect("tmp");
    let r = unique(Scope::Service, "busy");
    let m = manager(&url);
    let lease = m.acquire(&r, "holder", &[], 10_000, 0).expect("free");
    let o = ccp(dir.path())
        .args(["lock", "run", "--redis", &url, "--resource", &r.to_string()])
        .args(["--wait-ms", "200", "--", "touch"])
        .arg(dir.path().join("ran"))
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(75));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not acquired"));
    assert!(!dir.path().join("ran").exists(), "the command must not run");
    m.release(&lease).expect("release");
}

/// A redis-server of the test's own, so it can be killed mid-run.
struct OwnRedis {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl OwnRedis {
    fn start() -> Option<Self> {
        let bin: PathBuf = match std::env::var("CCP_TEST_REDIS_SERVER") {
            Ok(b) => b.into(),
            Err(_) => {
                server_url()?;
                "redis-server".into()
            }
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let dir = tempfile::tempdir().expect("tmp");
        let child = Command::new(bin)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--dir"])
            .arg(dir.path())
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server");
        let url = format!("redis://127.0.0.1:{port}");
        let u = url.clone();
        wait_until("redis-server", Duration::from_secs(10), || {
            redis::Client::open(u.as_str())
                .and_then(|c| c.get_connection())
                .is_ok()
        });
        Some(Self {
            child,
            url,
            _dir: dir,
        })
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn demo_with_redis(url: &str, dir: &Path, wait_ms: u64) -> Child {
    let cfg = dir.join("ccp.yaml");
    std::fs::write(
        &cfg,
        format!(
            "environment: staging\nlocks:\n  backend: redis\n  redis_url: {url}\n  ttl_ms: 3000\n  renew_every_ms: 300\n  wait_ms: {wait_ms}\n"
        ),
    )
    .expect("config");
    ccp(&dir.join("state"))
        .args(["--config", cfg.to_str().expect("utf8")])
        .args([
            "demo",
            "--headless",
            "--json",
            "--pace",
            "fast",
            "--auto-approve",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("ccp demo")
}

/// Read a demo run's JSON lines to the end, calling `act` once, on the first line containing
/// `trigger` (before that line is kept). Returns the lines and the index the trigger line got.
fn follow(mut run: Child, trigger: &str, mut act: impl FnMut()) -> (Vec<String>, Option<usize>) {
    let out = BufReader::new(run.stdout.take().expect("stdout"));
    let mut lines = Vec::new();
    let mut at = None;
    for line in out.lines() {
        let line = line.expect("line");
        if at.is_none() && line.contains(trigger) {
            act();
            at = Some(lines.len());
        }
        lines.push(line);
    }
    // A headless run exits with its outcome (0 resolved … 7 failed); which one is the caller's
    // to check on the events.
    let code = run.wait().expect("ccp").code();
    assert!(matches!(code, Some(0 | 4 | 5 | 6 | 7)), "exit {code:?}");
    (lines, at)
}

/// `service:payment-service` taken by hand, as a runbook would with `ccp lock run`.
fn hold_payment_service(url: &str) -> (RedisLockManager, ccp_core::locks::LockLease) {
    let m = manager(url);
    let svc = Resource::new(Scope::Service, "payment-service");
    let lease = m
        .acquire(&svc, "human", &[], 60_000, 20_000)
        .expect("take it first");
    (m, lease)
}

fn events(lines: &[String]) -> Vec<Value> {
    lines
        .iter()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[test]
fn redis_dying_mid_canary_stops_the_rollout_with_a_reason() {
    let Some(mut redis) = OwnRedis::start() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let run = demo_with_redis(&redis.url, dir.path(), 2_000);
    let (lines, killed_at) = follow(run, r#""to":"CANARY_10""#, || {
        redis.child.kill().expect("kill redis-server");
        let _ = redis.child.wait();
    });
    let killed_at = killed_at.expect("the run reached CANARY_10");
    let evs = events(&lines);
    let deployed: Vec<u64> = evs
        .iter()
        .filter(|e| e["type"] == "deployed")
        .filter_map(|e| e["percent"].as_u64())
        .collect();
    assert_eq!(deployed, [10], "no deploy step after Redis died");
    assert!(
        events(&lines[killed_at..])
            .iter()
            .any(|e| e["type"] == "state_changed" && e["to"] == "ROLLBACK"),
        "rolled back after Redis died"
    );
    let fin = evs.last().expect("events");
    assert_eq!(fin["type"], "finished");
    assert_eq!(fin["outcome"], "rolled_back", "{fin}");
    let reason = fin["reason"].as_str().expect("reason");
    assert!(
        reason.contains("lost lock service:payment-service"),
        "{reason}"
    );
    assert!(reason.contains("no further deploy step"), "{reason}");
    // The audit log says the same, and its chain is intact.
    let audit = dir.path().join("state/audit.jsonl");
    let text = std::fs::read_to_string(&audit).expect("audit");
    assert!(text.contains("lost lock service:payment-service"));
    let v = ccp(dir.path())
        .args(["audit", "verify"])
        .arg(&audit)
        .output()
        .expect("verify");
    assert!(v.status.success());
}

#[test]
fn redis_unreachable_at_lock_time_deploys_nothing() {
    if server_url().is_none() {
        return;
    }
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let dir = tempfile::tempdir().expect("tmp");
    let run = demo_with_redis(&format!("redis://127.0.0.1:{port}"), dir.path(), 500);
    let o = run.wait_with_output().expect("ccp");
    assert_eq!(o.status.code(), Some(5), "escalated, nothing deployed");
    let lines: Vec<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(String::from)
        .collect();
    let evs = events(&lines);
    assert!(
        evs.iter().all(|e| e["type"] != "deployed"),
        "nothing deployed"
    );
    let fin = evs.last().expect("events");
    assert_eq!(fin["outcome"], "escalated", "{fin}");
    let reason = fin["reason"].as_str().expect("reason");
    assert!(
        reason.contains("could not take lock service:payment-service"),
        "{reason}"
    );
    assert!(reason.contains(&format!("127.0.0.1:{port}")), "{reason}");
    assert!(reason.contains("nothing deployed"), "{reason}");
}

#[test]
fn shared_managers_are_safe_across_threads() {
    // The pipeline shares one manager between its thread and the keeper's: a smoke test that
    // interleaved use on one connection keeps replies matched to requests.
    let Some(url) = server_url() else { return };
    let m = Arc::new(manager(&url));
    let hs: Vec<_> = (0..4)
        .map(|i| {
            let m = m.clone();
            std::thread::spawn(move || {
                let r = unique(Scope::Deployment, &format!("shared{i}"));
                for _ in 0..50 {
                    let l = m
                        .acquire(&r, "s", &[], 5_000, 1_000)
                        .expect("own resource is free");
                    m.renew(&l, 5_000).expect("renew");
                    m.release(&l).expect("release");
                }
            })
        })
        .collect();
    for h in hs {
        h.join().expect("thread");
    }
}

/// Two processes' registries on one Redis see each other's operations, so conflict detection
/// works across cockpits; a dead process's entry expires by TTL.
#[test]
fn the_redis_registry_shares_operations_between_cockpits() {
    use ccp_adapters::redis_registry::RedisRegistry;
    use ccp_core::conflict::{
        detect_conflicts, ConflictKind, ConflictLimits, GraphView, Operation,
    };
    use ccp_core::ports::OperationRegistry;
    let Some(url) = server_url() else { return };
    let tag = unique(Scope::Incident, "reg").name;
    let (a, b) = (
        RedisRegistry::new(&url, RedisTimeouts::default(), 60_000).expect("url"),
        RedisRegistry::new(&url, RedisTimeouts::default(), 60_000).expect("url"),
    );
    let pay = Operation::new(
        format!("INC-A-{tag}"),
        format!("payment-{tag}"),
        vec![format!("pg-{tag}")],
        1_000,
        "GATES_PASSED",
    );
    let users = Operation::new(
        format!("INC-B-{tag}"),
        format!("users-{tag}"),
        vec![],
        2_000,
        "GATES_PASSED",
    );
    a.register(&pay).expect("register A");
    b.register(&users).expect("register B");
    let mine = |ops: Vec<Operation>| -> Vec<Operation> {
        ops.into_iter()
            .filter(|o| o.incident.ends_with(&tag))
            .collect()
    };
    let seen_by_b = mine(b.active().expect("active"));
    assert_eq!(seen_by_b, vec![pay.clone(), users.clone()], "oldest first");
    // users calls payment: B's conflict check, run on what Redis returned, finds the dependency.
    let graph = GraphView::new(&[(users.service.clone(), pay.service.clone())]);
    let conflicts = detect_conflicts(
        &users,
        &seen_by_b,
        &graph,
        ConflictLimits { max_concurrent: 10 },
    );
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    assert_eq!(conflicts[0].kind, ConflictKind::Dependency);
    a.update_phase(&pay.incident, "CANARY_10").expect("update");
    let phase = mine(b.active().expect("active"))
        .into_iter()
        .find(|o| o.incident == pay.incident)
        .map(|o| o.phase);
    assert_eq!(phase.as_deref(), Some("CANARY_10"));
    a.unregister(&pay.incident).expect("unregister");
    a.update_phase(&pay.incident, "CLOSED")
        .expect("updating a gone op is a no-op");
    assert_eq!(
        mine(b.active().expect("active")),
        vec![users.clone()],
        "withdrawn stays withdrawn"
    );
    // A process that dies without unregistering: its entry expires.
    let short = RedisRegistry::new(&url, RedisTimeouts::default(), 150).expect("url");
    let ghost = Operation::new(format!("INC-G-{tag}"), "ghost", vec![], 3_000, "CANARY_50");
    short.register(&ghost).expect("register");
    assert!(mine(b.active().expect("active")).contains(&ghost));
    std::thread::sleep(Duration::from_millis(400));
    assert!(
        !mine(b.active().expect("active")).contains(&ghost),
        "expired by TTL"
    );
    b.unregister(&users.incident).expect("cleanup");
}

/// A person holding the service lock by hand (as `ccp lock run` does) makes the pipeline wait;
/// once they let go, it proceeds, and the wait is recorded.
#[test]
fn the_pipeline_waits_for_a_lock_held_by_hand() {
    let Some(url) = server_url().map(|u| with_db(&u, 1)) else {
        return;
    };
    let (m, lease) = hold_payment_service(&url);
    let dir = tempfile::tempdir().expect("tmp");
    let run = demo_with_redis(&url, dir.path(), 30_000);
    let (lines, _) = follow(run, r#""to":"GATES_PASSED""#, || {
        std::thread::sleep(Duration::from_millis(600));
        m.release(&lease).expect("the human lets go");
    });
    let evs = events(&lines);
    let acquired = evs
        .iter()
        .find(|e| e["type"] == "lock_acquired" && e["resource"] == "service:payment-service")
        .expect("the pipeline got the lock after the human");
    assert!(
        acquired["waited_ms"].as_u64().expect("waited_ms") >= 100,
        "{acquired}"
    );
    assert_eq!(evs.last().expect("events")["outcome"], "resolved");
}

/// … and if they keep it past the pipeline's wait, nothing is deployed and the run escalates.
#[test]
fn the_pipeline_escalates_when_the_lock_stays_held() {
    let Some(url) = server_url().map(|u| with_db(&u, 2)) else {
        return;
    };
    let (m, lease) = hold_payment_service(&url);
    let dir = tempfile::tempdir().expect("tmp");
    let o = demo_with_redis(&url, dir.path(), 400)
        .wait_with_output()
        .expect("ccp");
    m.release(&lease).expect("release");
    let lines: Vec<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(String::from)
        .collect();
    let evs = events(&lines);
    assert!(evs.iter().all(|e| e["type"] != "deployed"));
    let fin = evs.last().expect("events");
    assert_eq!(fin["outcome"], "escalated", "{fin}");
    assert!(
        fin["reason"]
            .as_str()
            .expect("reason")
            .contains("held by someone else"),
        "{fin}"
    );
}

#[test]
fn a_kill_9_of_lock_run_stops_everything_its_command_started() {
    // The parent-death signal reaches CMD's leader only; CMD's own children would keep working
    // after the lease lapses. The guard beside CMD sees `lock run` die and stops the group.
    let Some(url) = server_url() else { return };
    let dir = tempfile::tempdir().expect("tmp");
    let r = unique(Scope::Service, "killed");
    // The leader ignores SIGTERM (as a careless script does), and so does its child.
    let (mut holder, go, marker) = hold_with_grandchild(dir.path(), &url, &r, "trap '' TERM; ");
    std::thread::sleep(Duration::from_millis(300));
    holder.kill().expect("kill -9");
    let _ = holder.wait();
    // The guard gives the group its 5 s grace (SIGTERM, ignored here), then SIGKILL.
    std::thread::sleep(Duration::from_secs(7));
    std::fs::write(&go, "").expect("go");
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        !marker.exists(),
        "a process CMD started kept running after ccp lock run was killed"
    );
}

/// `ccp lock run` on `r` (60 s lease) with a CMD whose background child leaves `marker` once
/// `go` exists; `trap` is prepended to both shells (e.g. to ignore SIGTERM). Returns the holder
/// once the lock is held, with the paths `go` and `marker`.
fn hold_with_grandchild(
    dir: &Path,
    url: &str,
    r: &Resource,
    trap: &str,
) -> (Child, PathBuf, PathBuf) {
    let cfg = dir.join("ccp.yaml");
    std::fs::write(
        &cfg,
        format!("actor: alice\nlocks:\n  backend: redis\n  redis_url: {url}\n"),
    )
    .expect("config");
    let go = dir.join("go");
    let marker = dir.join("grandchild-still-ran");
    let script = format!(
        "{trap}({trap}while [ ! -e '{}' ]; do sleep 0.05; done; touch '{}') & sleep 60",
        go.display(),
        marker.display()
    );
    let holder = ccp(dir)
        .args(["--config", cfg.to_str().expect("utf8"), "lock", "run"])
        .args([
            "--resource",
            &r.to_string(),
            "--ttl-ms",
            "60000",
            "--",
            "sh",
            "-c",
            &script,
        ])
        .spawn()
        .expect("spawn");
    wait_until("the lock", Duration::from_secs(10), || is_held(url, r));
    (holder, go, marker)
}
