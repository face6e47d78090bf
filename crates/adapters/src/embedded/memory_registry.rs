//! The in-memory operations registry: the embedded default. Share one `Arc` between the pipelines
//! of a process and they see each other's operations; it forgets everything when the process
//! ends, which is right for the demo (no operation survives it either).

use ccp_core::conflict::Operation;
use ccp_core::ports::{OperationRegistry, PortResult};
use std::sync::{Mutex, MutexGuard};

/// Operations in flight in this process, in registration order.
#[derive(Debug, Default)]
pub struct MemoryRegistry {
    ops: Mutex<Vec<Operation>>,
}

impl MemoryRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    fn ops(&self) -> MutexGuard<'_, Vec<Operation>> {
        // A pipeline that panicked while holding the guard left a consistent Vec behind (every
        // mutation below is a single call), so the poison carries no information worth failing on.
        self.ops.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl OperationRegistry for MemoryRegistry {
    fn register(&self, op: &Operation) -> PortResult<()> {
        let mut ops = self.ops();
        match ops.iter_mut().find(|o| o.incident == op.incident) {
            Some(existing) => *existing = op.clone(),
            None => ops.push(op.clone()),
        }
        Ok(())
    }

    fn update_phase(&self, incident: &str, phase: &str) -> PortResult<()> {
        if let Some(o) = self.ops().iter_mut().find(|o| o.incident == incident) {
            o.phase = phase.to_string();
        }
        Ok(())
    }

    fn unregister(&self, incident: &str) -> PortResult<()> {
        self.ops().retain(|o| o.incident != incident);
        Ok(())
    }

    fn active(&self) -> PortResult<Vec<Operation>> {
        Ok(self.ops().clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn op(incident: &str, service: &str) -> Operation {
        Operation::new(incident, service, vec![], 0, "GATES_PASSED")
    }

    #[test]
    fn register_update_unregister() {
        let r = MemoryRegistry::new();
        r.register(&op("INC-1", "a")).expect("register");
        r.register(&op("INC-2", "b")).expect("register");
        r.register(&op("INC-1", "a2"))
            .expect("re-register replaces");
        r.update_phase("INC-2", "CANARY_10").expect("update");
        r.update_phase("INC-404", "CANARY_10")
            .expect("unknown is fine");
        let a = r.active().expect("active");
        assert_eq!(a.len(), 2);
        assert_eq!(
            (a[0].incident.as_str(), a[0].service.as_str()),
            ("INC-1", "a2")
        );
        assert_eq!(a[1].phase, "CANARY_10");
        r.unregister("INC-1").expect("unregister");
        r.unregister("INC-1").expect("twice is fine");
        assert_eq!(r.active().expect("active").len(), 1);
    }

    #[test]
    fn shared_between_threads() {
        let r: Arc<dyn OperationRegistry> = Arc::new(MemoryRegistry::new());
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let r = r.clone();
                std::thread::spawn(move || r.register(&op(&format!("INC-{i}"), "s")))
            })
            .collect();
        for h in handles {
            h.join().expect("thread").expect("register");
        }
        assert_eq!(r.active().expect("active").len(), 4);
    }
}
