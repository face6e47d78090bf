//! The two ports a desk hands each of its pipelines instead of the shared ones: an alert source
//! holding only that incident's alerts (the desk routes them), and the desk's one audit log
//! behind a lock (one writer per file; records of concurrent incidents interleave in one chain).

use ccp_core::domain::{Alert, Millis};
use ccp_core::ports::{AlertSource, AuditLog, PortResult};
use std::sync::{Arc, Mutex};

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// One incident's alerts. The desk polls the real sources once for everybody and puts what
/// belongs to this incident here: the alerts it opens on, and those that resolve later.
#[derive(Debug, Default)]
pub struct RoutedAlerts {
    firing: Mutex<Vec<Alert>>,
    resolved: Mutex<Vec<Alert>>,
}

impl RoutedAlerts {
    /// A source that hands out `opening` on its first poll.
    pub fn new(opening: Vec<Alert>) -> Self {
        Self {
            firing: Mutex::new(opening),
            resolved: Mutex::new(Vec::new()),
        }
    }

    /// An alert of this incident stopped firing: its timeline says so at the next safe point.
    pub fn resolve(&self, alert: Alert) {
        lock(&self.resolved).push(alert);
    }
}

impl AlertSource for RoutedAlerts {
    fn poll(&self, _now_ms: Millis) -> PortResult<Vec<Alert>> {
        Ok(std::mem::take(&mut *lock(&self.firing)))
    }

    fn resolved(&self) -> Vec<Alert> {
        std::mem::take(&mut *lock(&self.resolved))
    }
}

/// The desk's audit log, shared by its pipelines. Appends are serialized, so the hash chain
/// stays one chain whatever the interleaving.
#[derive(Clone)]
pub struct SharedAudit(pub Arc<Mutex<Box<dyn AuditLog>>>);

impl AuditLog for SharedAudit {
    fn append(
        &mut self,
        ts: &str,
        actor: &str,
        kind: &str,
        data: serde_json::Value,
    ) -> PortResult<()> {
        lock(&self.0).append(ts, actor, kind, data)
    }
}

/// An alert for unit tests of the desk.
#[cfg(test)]
pub(crate) fn test_alert(service: &str, name: &str) -> Alert {
    Alert {
        name: name.into(),
        service: service.into(),
        severity: ccp_core::domain::Severity::High,
        value: 0.2,
        threshold: 0.02,
        source: "test".into(),
        at_ms: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(service: &str) -> Alert {
        test_alert(service, "HighErrorRate")
    }

    #[test]
    fn opening_alerts_are_handed_out_once_and_resolutions_in_order() {
        let r = RoutedAlerts::new(vec![alert("api")]);
        assert_eq!(r.poll(0).map(|v| v.len()).unwrap_or(9), 1);
        assert_eq!(r.poll(0).map(|v| v.len()).unwrap_or(9), 0);
        r.resolve(alert("api"));
        let back = r.resolved();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].service, "api");
        assert!(r.resolved().is_empty());
    }
}
