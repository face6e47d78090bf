//! In-process lock manager: the embedded default. Same semantics as the Redis one — owner tokens,
//! TTL, compare-and-delete release, compare-and-extend renew, a fencing counter per resource and
//! the ordering rule — so everything above it behaves identically with either.

use ccp_core::locks::{require_order, LockInfo, LockLease, Resource};
use ccp_core::ports::{LockManager, PortError, PortResult};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
struct Held {
    token: String,
    expires: Instant,
}

#[derive(Default)]
struct Table {
    held: HashMap<Resource, Held>,
    fences: HashMap<Resource, u64>,
}

/// Locks held in this process, with real TTL expiry on the wall clock.
#[derive(Default)]
pub struct LocalLockManager {
    table: Mutex<Table>,
    freed: Condvar,
    tokens: AtomicU64,
}

impl LocalLockManager {
    /// An empty lock table.
    pub fn new() -> Self {
        Self::default()
    }

    fn table(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn new_token(&self, owner: &str) -> String {
        let n = self.tokens.fetch_add(1, Ordering::SeqCst);
        format!("{owner}:{}:{n}", std::process::id())
    }
}

fn purge_expired(t: &mut Table, now: Instant) {
    t.held.retain(|_, h| h.expires > now);
}

impl LockManager for LocalLockManager {
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
        let mut t = self.table();
        loop {
            let now = Instant::now();
            purge_expired(&mut t, now);
            if !t.held.contains_key(resource) {
                t.held.insert(
                    resource.clone(),
                    Held {
                        token: token.clone(),
                        expires: now + Duration::from_millis(ttl_ms),
                    },
                );
                let fence = t.fences.entry(resource.clone()).or_insert(0);
                *fence += 1;
                return Ok(LockLease {
                    resource: resource.clone(),
                    token,
                    fence: *fence,
                    waited_ms: started.elapsed().as_millis() as u64,
                });
            }
            if now >= deadline {
                return Err(PortError::new(
                    "locks",
                    format!("{resource} is held by someone else; gave up after {wait_ms} ms"),
                ));
            }
            let next_expiry = t.held.get(resource).map(|h| h.expires).unwrap_or(deadline);
            let wake = deadline.min(next_expiry).saturating_duration_since(now);
            t = self
                .freed
                .wait_timeout(t, wake.max(Duration::from_millis(1)))
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }

    fn renew(&self, lease: &LockLease, ttl_ms: u64) -> PortResult<()> {
        let mut t = self.table();
        let now = Instant::now();
        purge_expired(&mut t, now);
        match t.held.get_mut(&lease.resource) {
            Some(h) if h.token == lease.token => {
                h.expires = now + Duration::from_millis(ttl_ms);
                Ok(())
            }
            _ => Err(PortError::new(
                "locks",
                format!(
                    "lease on {} is gone (expired or taken over)",
                    lease.resource
                ),
            )),
        }
    }

    fn release(&self, lease: &LockLease) -> PortResult<()> {
        let mut t = self.table();
        let ours = t
            .held
            .get(&lease.resource)
            .is_some_and(|h| h.token == lease.token);
        if ours {
            t.held.remove(&lease.resource);
            self.freed.notify_all();
            Ok(())
        } else {
            Err(PortError::new(
                "locks",
                format!("not releasing {}: we no longer own it", lease.resource),
            ))
        }
    }

    fn list(&self) -> PortResult<Vec<LockInfo>> {
        let mut t = self.table();
        let now = Instant::now();
        purge_expired(&mut t, now);
        let mut v: Vec<LockInfo> = t
            .held
            .iter()
            .map(|(r, h)| LockInfo {
                resource: r.clone(),
                token: h.token.clone(),
                ttl_ms: h.expires.saturating_duration_since(now).as_millis() as u64,
            })
            .collect();
        v.sort_by(|a, b| a.resource.cmp(&b.resource));
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ccp_core::locks::Scope;
    use std::sync::Arc;

    fn svc(n: &str) -> Resource {
        Resource::new(Scope::Service, n)
    }

    #[test]
    fn exclusion_release_and_fencing() {
        let m = LocalLockManager::new();
        let a = m.acquire(&svc("p"), "a", &[], 10_000, 0).expect("free");
        assert_eq!(a.fence, 1);
        assert!(m.acquire(&svc("p"), "b", &[], 10_000, 20).is_err());
        assert!(m
            .release(&LockLease {
                token: "forged".into(),
                ..a.clone()
            })
            .is_err());
        m.release(&a).expect("own lease");
        let b = m
            .acquire(&svc("p"), "b", &[], 10_000, 0)
            .expect("free again");
        assert_eq!(b.fence, 2, "fencing token increases per acquisition");
        assert!(m.renew(&a, 1000).is_err(), "stale lease cannot renew");
        m.renew(&b, 1000).expect("owner renews");
    }

    #[test]
    fn ttl_expiry_frees_the_lock() {
        let m = LocalLockManager::new();
        let _a = m.acquire(&svc("p"), "a", &[], 30, 0).expect("free");
        let b = m
            .acquire(&svc("p"), "b", &[], 1000, 2000)
            .expect("after ttl");
        assert!(b.waited_ms >= 20, "waited {}", b.waited_ms);
    }

    #[test]
    fn ordering_is_enforced() {
        let m = LocalLockManager::new();
        let inc = Resource::new(Scope::Incident, "INC-1");
        let e = m
            .acquire(&svc("p"), "a", std::slice::from_ref(&inc), 1000, 0)
            .expect_err("out of order");
        assert!(e.message.contains("order"));
    }

    #[test]
    fn no_lost_update_under_contention() {
        let m = Arc::new(LocalLockManager::new());
        let counter = Arc::new(Mutex::new(0u64));
        let shadow = Arc::new(AtomicU64::new(0));
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let (m, counter, shadow) = (m.clone(), counter.clone(), shadow.clone());
                std::thread::spawn(move || {
                    for _ in 0..50 {
                        let l = m
                            .acquire(&svc("c"), &format!("t{i}"), &[], 5_000, 5_000)
                            .expect("eventually");
                        // read-modify-write that would lose updates without mutual exclusion
                        let v = shadow.load(Ordering::SeqCst);
                        std::thread::yield_now();
                        shadow.store(v + 1, Ordering::SeqCst);
                        *counter.lock().expect("counter") += 1;
                        m.release(&l).expect("release");
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().expect("thread");
        }
        assert_eq!(shadow.load(Ordering::SeqCst), 200);
    }
}
