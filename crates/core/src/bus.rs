//! Fan-out of events to any number of front-ends. A subscriber that went away is dropped
//! silently: a closed cockpit must never stop a remediation in flight.

use super::events::Event;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};

/// Cloneable broadcaster.
#[derive(Clone, Default)]
pub struct EventBus {
    subs: Arc<Mutex<Vec<Sender<Event>>>>,
}

impl EventBus {
    /// A bus with no subscribers.
    pub fn new() -> Self {
        Self::default()
    }

    /// A new receiver of every event published from now on.
    pub fn subscribe(&self) -> Receiver<Event> {
        let (tx, rx) = channel();
        if let Ok(mut subs) = self.subs.lock() {
            subs.push(tx);
        }
        rx
    }

    /// Send to every live subscriber.
    pub fn publish(&self, ev: &Event) {
        if let Ok(mut subs) = self.subs.lock() {
            subs.retain(|s| s.send(ev.clone()).is_ok());
        }
    }
}
