//! The wall clock, for runs against real systems. The paced clock's timeline only moves when the
//! pipeline waits, which keeps demos reproducible but drifts behind real time by however long the
//! work itself took (a test suite, a slow query); against Prometheus that drift would make every
//! window ask for the wrong seconds, so real runs tell time by the system clock.

use crate::adapters::embedded::paced_clock::PacedClock;
use crate::core::clock::Clock;
use crate::core::domain::Millis;
use std::time::Duration;

/// System time; waits really wait.
#[derive(Debug, Default, Clone, Copy)]
pub struct WallClock;

impl Clock for WallClock {
    fn now_ms(&self) -> Millis {
        PacedClock::wall_now_ms()
    }

    fn sleep_ms(&self, ms: u64) {
        std::thread::sleep(Duration::from_millis(ms));
    }

    fn pace(&self) -> &'static str {
        "realtime"
    }
}
