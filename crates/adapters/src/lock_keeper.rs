//! Keeps leases alive while work runs. A canary observation window can outlast a lock's TTL; the
//! pipeline only renews between steps, so without a keeper a long step would silently lose its
//! lock to the next contender. The keeper renews every lease on a background thread at a fixed
//! interval and remembers the first failure: from then on the lease counts as lost (fail closed),
//! even if a later renewal would have succeeded, because someone else may have held it meanwhile.
//!
//! It wraps any [`LockManager`], so the local and the Redis backends behave the same.

use ccp_core::locks::{LockInfo, LockLease, Resource};
use ccp_core::ports::{LockManager, PortError, PortResult};
use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// What one keeper thread shares with its manager.
#[derive(Default)]
struct KeeperState {
    stop: bool,
    lost: Option<String>,
}

struct Keeper {
    state: Arc<(Mutex<KeeperState>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

fn guard(m: &Mutex<KeeperState>) -> MutexGuard<'_, KeeperState> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Keeper {
    fn stop(mut self) {
        {
            let (m, cv) = &*self.state;
            guard(m).stop = true;
            cv.notify_all();
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    fn lost(&self) -> Option<String> {
        guard(&self.state.0).lost.clone()
    }
}

/// A [`LockManager`] whose leases renew themselves every `renew_every` until released.
pub struct KeptLocks {
    inner: Arc<dyn LockManager>,
    ttl_ms: u64,
    renew_every: Duration,
    keepers: Mutex<HashMap<String, Keeper>>,
}

impl KeptLocks {
    /// Wrap `inner`; leases are renewed to `ttl_ms` every `renew_every_ms`. The config validator
    /// already insists that `renew_every_ms < ttl_ms`.
    pub fn new(inner: Arc<dyn LockManager>, ttl_ms: u64, renew_every_ms: u64) -> Self {
        Self {
            inner,
            ttl_ms,
            renew_every: Duration::from_millis(renew_every_ms.max(1)),
            keepers: Mutex::new(HashMap::new()),
        }
    }

    fn keepers(&self) -> MutexGuard<'_, HashMap<String, Keeper>> {
        self.keepers.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Why `lease` was lost, if its keeper saw a renewal fail. `None` while it is healthy.
    pub fn lost(&self, lease: &LockLease) -> Option<String> {
        self.keepers().get(&lease.token).and_then(Keeper::lost)
    }

    fn start_keeper(&self, lease: &LockLease) -> Keeper {
        let state = Arc::new((Mutex::new(KeeperState::default()), Condvar::new()));
        let (inner, lease_c, st) = (self.inner.clone(), lease.clone(), state.clone());
        let (every, ttl) = (self.renew_every, self.ttl_ms);
        let thread = std::thread::Builder::new()
            .name(format!("lock-keeper {}", lease.resource))
            .spawn(move || {
                let (m, cv) = &*st;
                let mut g = guard(m);
                loop {
                    g = cv
                        .wait_timeout(g, every)
                        .map(|(g, _)| g)
                        .unwrap_or_else(|p| p.into_inner().0);
                    if g.stop {
                        return;
                    }
                    drop(g);
                    let r = inner.renew(&lease_c, ttl);
                    g = guard(m);
                    if let Err(e) = r {
                        tracing::warn!(resource = %lease_c.resource, error = %e, "lease lost");
                        g.lost = Some(e.message);
                        return;
                    }
                }
            });
        Keeper {
            state,
            thread: thread.ok(),
        }
    }
}

impl LockManager for KeptLocks {
    fn acquire(
        &self,
        resource: &Resource,
        owner: &str,
        held: &[Resource],
        ttl_ms: u64,
        wait_ms: u64,
    ) -> PortResult<LockLease> {
        let lease = self.inner.acquire(resource, owner, held, ttl_ms, wait_ms)?;
        let k = self.start_keeper(&lease);
        if k.thread.is_none() {
            // No thread, no renewal: better to give the lock back than to hold it unguarded.
            let _ = self.inner.release(&lease);
            return Err(PortError::new(
                "locks",
                format!("could not start the renewal thread for {resource}; lock given back"),
            ));
        }
        self.keepers().insert(lease.token.clone(), k);
        Ok(lease)
    }

    fn renew(&self, lease: &LockLease, ttl_ms: u64) -> PortResult<()> {
        if let Some(why) = self.lost(lease) {
            return Err(PortError::new(
                "locks",
                format!("lease on {} was lost: {why}", lease.resource),
            ));
        }
        self.inner.renew(lease, ttl_ms)
    }

    fn release(&self, lease: &LockLease) -> PortResult<()> {
        let k = self.keepers().remove(&lease.token);
        if let Some(k) = k {
            k.stop();
        }
        self.inner.release(lease)
    }

    fn list(&self) -> PortResult<Vec<LockInfo>> {
        self.inner.list()
    }
}

impl Drop for KeptLocks {
    fn drop(&mut self) {
        let all: Vec<Keeper> = self.keepers().drain().map(|(_, k)| k).collect();
        for k in all {
            k.stop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embedded::local_lock::LocalLockManager;
    use ccp_core::locks::Scope;

    #[test]
    fn a_kept_lease_outlives_its_ttl() {
        let inner: Arc<dyn LockManager> = Arc::new(LocalLockManager::new());
        let kept = KeptLocks::new(inner.clone(), 150, 30);
        let r = Resource::new(Scope::Service, "slow");
        let lease = kept.acquire(&r, "a", &[], 150, 0).expect("free");
        std::thread::sleep(Duration::from_millis(500));
        assert!(inner.acquire(&r, "b", &[], 150, 0).is_err(), "still held");
        kept.renew(&lease, 150).expect("still ours");
        kept.release(&lease).expect("release");
        assert!(
            inner.acquire(&r, "b", &[], 150, 0).is_ok(),
            "free after release"
        );
    }

    #[test]
    fn a_lost_lease_stays_lost() {
        let inner: Arc<dyn LockManager> = Arc::new(LocalLockManager::new());
        let kept = KeptLocks::new(inner.clone(), 100, 20);
        let r = Resource::new(Scope::Service, "stolen");
        let lease = kept.acquire(&r, "a", &[], 100, 0).expect("free");
        // Someone with the power to do so deletes it (a forced release): the next renewal fails.
        inner.release(&lease).expect("inner release");
        let thief = inner.acquire(&r, "b", &[], 10_000, 0).expect("taken over");
        std::thread::sleep(Duration::from_millis(120));
        let why = kept.lost(&lease).expect("keeper noticed");
        assert!(why.contains("gone"), "{why}");
        let e = kept.renew(&lease, 100).expect_err("lost stays lost");
        assert!(e.message.contains("was lost"), "{}", e.message);
        inner.release(&thief).expect("thief releases");
    }
}
