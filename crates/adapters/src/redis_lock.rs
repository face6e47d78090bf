//! Redis-backed locks, so several cockpits, `ccp serve` instances and plain scripts on one fleet
//! exclude each other. The key and token rules are the contract's and redis-py's `Lock`'s:
//! key `ccp:lock:<scope>:<name>`, value = the owner's unique token, `SET NX PX` to take it, Lua
//! compare-and-delete to release and compare-and-pexpire to renew. A script holding the key with
//! redis-py therefore excludes the pipeline and the other way round.
//!
//! The client is Redis's synchronous one because ports are synchronous (the pipeline runs on its
//! own thread and blocks at clear points); every call has connect, read and write timeouts so an
//! unreachable server turns into an error quickly instead of a hang. Errors fail closed: a renewal
//! that cannot reach Redis reports the lease lost, and the pipeline stops deploying.

use super::redis_conn::RedisConn;
pub use super::redis_conn::RedisTimeouts;
use ccp_core::locks::{require_order, LockInfo, LockLease, Resource};
use ccp_core::ports::{LockManager, PortError, PortResult};
use redis::Script;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Prefix of every lock key; the resource's `<scope>:<name>` follows.
pub const LOCK_PREFIX: &str = "ccp:lock:";
/// Prefix of every fencing counter.
pub const FENCE_PREFIX: &str = "ccp:fence:";

/// Take the lock and bump its fencing counter in one atomic step, so a fence is never handed out
/// without the lock or the other way round. Returns the new fence, or 0 when the key is taken.
const ACQUIRE_LUA: &str = r"
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('incr', KEYS[2])
end
return 0";

/// Compare-and-delete, byte for byte what redis-py's `Lock.release` does.
const RELEASE_LUA: &str = r"
local token = redis.call('get', KEYS[1])
if not token or token ~= ARGV[1] then
  return 0
end
redis.call('del', KEYS[1])
return 1";

/// Compare-and-pexpire: extend only a lease we still own (redis-py's `Lock.extend` with
/// `replace_ttl=True`).
const RENEW_LUA: &str = r"
if redis.call('get', KEYS[1]) ~= ARGV[1] then
  return 0
end
return redis.call('pexpire', KEYS[1], ARGV[2])";

/// Locks held in Redis. One connection, reopened after any I/O error.
pub struct RedisLockManager {
    conn: RedisConn,
    acquire: Script,
    release: Script,
    renew: Script,
    tokens: AtomicU64,
    token_salt: u64,
}

/// The Redis key that holds `resource`'s owner token.
pub fn lock_key(resource: &Resource) -> String {
    format!("{LOCK_PREFIX}{resource}")
}

/// The Redis key of `resource`'s fencing counter.
pub fn fence_key(resource: &Resource) -> String {
    format!("{FENCE_PREFIX}{resource}")
}

impl RedisLockManager {
    /// A manager for the server at `url` (`redis://host:port/db`). Connecting is lazy, so a
    /// cockpit can start while Redis is still coming up; the first lock operation reports an
    /// unreachable server.
    pub fn new(url: &str, timeouts: RedisTimeouts) -> PortResult<Self> {
        Ok(Self {
            conn: RedisConn::new(url, timeouts, "locks")?,
            acquire: Script::new(ACQUIRE_LUA),
            release: Script::new(RELEASE_LUA),
            renew: Script::new(RENEW_LUA),
            tokens: AtomicU64::new(0),
            token_salt: RandomState::new().build_hasher().finish(),
        })
    }

    /// The server's address as shown to people (no password).
    pub fn url(&self) -> &str {
        self.conn.url()
    }

    /// A token no other holder anywhere will produce: owner, host process, a per-process random
    /// salt and a counter. Tokens are opaque to Redis; readability helps `ccp lock list`.
    fn new_token(&self, owner: &str) -> String {
        let n = self.tokens.fetch_add(1, Ordering::SeqCst);
        format!(
            "{owner}:{}:{:016x}:{n}",
            std::process::id(),
            self.token_salt
        )
    }

    /// Delete `resource`'s lock whoever holds it: the runbook's last resort for a holder that is
    /// known dead but whose TTL is long. Returns the token that was removed, if any. The fencing
    /// counter is left alone, so the dead holder's token stays stale for deployers.
    pub fn force_release(&self, resource: &Resource) -> PortResult<Option<String>> {
        let key = lock_key(resource);
        self.conn.run("force-releasing a lock", |c| {
            let (token, _): (Option<String>, i64) = redis::pipe()
                .atomic()
                .cmd("GET")
                .arg(&key)
                .cmd("DEL")
                .arg(&key)
                .query(c)?;
            Ok(token)
        })
    }

    /// The current fencing counter of `resource` (0 if never taken). Deployers that share Redis
    /// can compare a step's fence against it.
    pub fn current_fence(&self, resource: &Resource) -> PortResult<u64> {
        let key = fence_key(resource);
        self.conn.run("reading a fencing token", |c| {
            let v: Option<u64> = redis::cmd("GET").arg(&key).query(c)?;
            Ok(v.unwrap_or(0))
        })
    }

    /// One `SET … NX PX` round trip through the same connection: the benchmark's in-process
    /// baseline for an acquire + release cycle.
    pub fn raw_set_roundtrip(&self, key: &str) -> PortResult<()> {
        self.conn.run("benchmarking SET", |c| {
            redis::cmd("SET")
                .arg(key)
                .arg("x")
                .arg("PX")
                .arg(60_000)
                .query::<()>(c)
        })
    }

    fn try_take(&self, resource: &Resource, token: &str, ttl_ms: u64) -> PortResult<u64> {
        let (lk, fk) = (lock_key(resource), fence_key(resource));
        self.conn.run("acquiring a lock", |c| {
            self.acquire
                .key(&lk)
                .key(&fk)
                .arg(token)
                .arg(ttl_ms.max(1))
                .invoke::<u64>(c)
        })
    }
}

/// Poll delay while a lock is busy: starts at 0.5 ms and doubles to a 20 ms cap, plus up to 50 %
/// jitter drawn from `seed` (unique per acquisition) so contenders do not poll in lockstep. The
/// cap bounds how late a waiter notices a release (measured in BENCHMARKS.md); 50 polls a second
/// per waiter is nothing for Redis.
fn backoff(attempt: u32, seed: u64) -> Duration {
    let base_us = (500u64 << attempt.min(6)).min(20_000);
    let mut x = seed ^ u64::from(attempt).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 33;
    x = x.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    x ^= x >> 33;
    Duration::from_micros(base_us + x % (base_us / 2 + 1))
}

impl LockManager for RedisLockManager {
    fn acquire(
        &self,
        resource: &Resource,
        owner: &str,
        held: &[Resource],
        ttl_ms: u64,
        wait_ms: u64,
    ) -> PortResult<LockLease> {
        require_order(held, resource).map_err(|e| PortError::new("locks", e.to_string()))?;
        let started = Instant::now();
        let deadline = started + Duration::from_millis(wait_ms);
        let token = self.new_token(owner);
        let seed = {
            let mut h = RandomState::new().build_hasher();
            h.write(token.as_bytes());
            h.finish()
        };
        let mut attempt = 0u32;
        loop {
            // A network error is retried until the deadline too (a partition may heal), but the
            // last error is what the caller sees if it does not.
            let outcome = self.try_take(resource, &token, ttl_ms);
            match outcome {
                Ok(fence) if fence > 0 => {
                    return Ok(LockLease {
                        resource: resource.clone(),
                        token,
                        fence,
                        waited_ms: started.elapsed().as_millis() as u64,
                    })
                }
                Ok(_) | Err(_) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return Err(match outcome {
                            Err(e) => PortError::new(
                                "locks",
                                format!("could not take {resource}: {}", e.message),
                            ),
                            Ok(_) => PortError::new(
                                "locks",
                                format!("{resource} is held by someone else; gave up after {wait_ms} ms"),
                            ),
                        });
                    }
                    let pause = backoff(attempt, seed).min(deadline - now);
                    std::thread::sleep(pause);
                    attempt += 1;
                }
            }
        }
    }

    fn renew(&self, lease: &LockLease, ttl_ms: u64) -> PortResult<()> {
        let key = lock_key(&lease.resource);
        let ok: i64 = self.conn.run("renewing a lock", |c| {
            self.renew
                .key(&key)
                .arg(&lease.token)
                .arg(ttl_ms.max(1))
                .invoke(c)
        })?;
        if ok == 1 {
            Ok(())
        } else {
            Err(PortError::new(
                "locks",
                format!(
                    "lease on {} is gone (expired or taken over)",
                    lease.resource
                ),
            ))
        }
    }

    fn release(&self, lease: &LockLease) -> PortResult<()> {
        let key = lock_key(&lease.resource);
        let ok: i64 = self.conn.run("releasing a lock", |c| {
            self.release.key(&key).arg(&lease.token).invoke(c)
        })?;
        if ok == 1 {
            Ok(())
        } else {
            Err(PortError::new(
                "locks",
                format!("not releasing {}: we no longer own it", lease.resource),
            ))
        }
    }

    fn list(&self) -> PortResult<Vec<LockInfo>> {
        let keys = self
            .conn
            .scan("listing locks", &format!("{LOCK_PREFIX}*"))?;
        let mut out = Vec::new();
        for key in keys {
            // Keys that do not parse as `<scope>:<name>` belong to someone else's naming.
            let Ok(resource) = key[LOCK_PREFIX.len()..].parse::<Resource>() else {
                continue;
            };
            let (token, pttl): (Option<String>, i64) = self.conn.run("listing locks", |c| {
                redis::pipe()
                    .cmd("GET")
                    .arg(&key)
                    .cmd("PTTL")
                    .arg(&key)
                    .query(c)
            })?;
            // Gone between SCAN and GET: released meanwhile.
            let Some(token) = token else { continue };
            out.push(LockInfo {
                resource,
                token,
                ttl_ms: u64::try_from(pttl).unwrap_or(0),
            });
        }
        out.sort_by(|a, b| a.resource.cmp(&b.resource));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ccp_core::locks::Scope;

    #[test]
    fn keys_follow_the_contract() {
        let r = Resource::new(Scope::Service, "payment-service");
        assert_eq!(lock_key(&r), "ccp:lock:service:payment-service");
        assert_eq!(fence_key(&r), "ccp:fence:service:payment-service");
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let a = backoff(0, 7);
        let b = backoff(3, 7);
        let c = backoff(30, 7);
        assert!(a < b, "{a:?} < {b:?}");
        assert!(a >= Duration::from_micros(500), "{a:?}");
        assert!(c >= Duration::from_millis(20), "{c:?}");
        assert!(c <= Duration::from_millis(30), "{c:?}");
        assert_ne!(backoff(4, 1), backoff(4, 2), "jitter depends on the seed");
    }

    #[test]
    fn unreachable_server_fails_closed_with_the_address() {
        // Port 1 on loopback refuses connections immediately.
        let m = RedisLockManager::new("redis://:pw@127.0.0.1:1", RedisTimeouts::default())
            .expect("valid url");
        let r = Resource::new(Scope::Service, "x");
        let e = m.acquire(&r, "t", &[], 1000, 0).expect_err("no server");
        assert!(e.message.contains("redis://127.0.0.1:1"), "{}", e.message);
        assert!(!e.message.contains("pw"), "{}", e.message);
    }
}
