//! Clocks for the three paces. Pipeline time is virtual in all of them (so runs repeat exactly);
//! the pace only decides how much real time a wait costs.

use ccp_core::clock::{Clock, VirtualClock};
use ccp_core::domain::Millis;
use std::time::Duration;

/// How fast the demo runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// Waits take as long as they say: the pipeline as it would run in production.
    Realtime,
    /// Waits take three tenths: the payment story in about 40 s plus the approval, slow
    /// enough to talk over each stage, for presenters.
    Present,
    /// Waits take a tenth: for rehearsals and end-to-end tests.
    Fast,
    /// Waits take no time: for CI and benchmarks.
    Instant,
}

impl Pace {
    /// Parse the CLI spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "realtime" => Some(Pace::Realtime),
            "present" => Some(Pace::Present),
            "fast" => Some(Pace::Fast),
            "instant" => Some(Pace::Instant),
            _ => None,
        }
    }
}

/// A virtual clock that also sleeps a share of each wait in real time.
#[derive(Debug)]
pub struct PacedClock {
    inner: VirtualClock,
    pace: Pace,
}

impl PacedClock {
    /// Start at `start_ms` (normally the wall clock's now).
    pub fn new(start_ms: Millis, pace: Pace) -> Self {
        Self {
            inner: VirtualClock::new(start_ms),
            pace,
        }
    }
}

impl Clock for PacedClock {
    fn now_ms(&self) -> Millis {
        self.inner.now_ms()
    }

    fn sleep_ms(&self, ms: u64) {
        let real = match self.pace {
            Pace::Realtime => ms,
            Pace::Present => ms * 3 / 10,
            Pace::Fast => ms / 10,
            Pace::Instant => 0,
        };
        if real > 0 {
            std::thread::sleep(Duration::from_millis(real));
        }
        self.inner.advance(ms);
    }

    fn pace(&self) -> &'static str {
        match self.pace {
            Pace::Realtime => "realtime",
            Pace::Present => "present",
            Pace::Fast => "fast",
            Pace::Instant => "instant",
        }
    }
}
