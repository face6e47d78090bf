//! The pipeline's notion of time. Virtual time only moves when the pipeline waits, which makes
//! runs reproducible at every pace; how long a wait *really* takes is the adapter's business
//! (realtime sleeps the full span, fast a tenth, instant not at all).

use super::domain::Millis;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// Clock port.
pub trait Clock: Send + Sync {
    /// Now, in milliseconds since the epoch on the pipeline's timeline.
    fn now_ms(&self) -> Millis;
    /// Let `ms` of pipeline time pass (and, depending on pace, real time too).
    fn sleep_ms(&self, ms: u64);
    /// Pace name for the status bar (`realtime`, `fast`, `instant`).
    fn pace(&self) -> &'static str;
}

/// The system's wall clock now, in epoch milliseconds: for what happens outside any run's
/// timeline (a webhook's arrival, a crash recovery, a Prometheus query window), and the one place
/// where the real time of day is read.
pub fn wall_now_ms() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or(0)
}

/// The wall clock, for runs against real systems. A paced clock's timeline only moves when the
/// pipeline waits, which keeps demos reproducible but drifts behind real time by however long the
/// work itself took (a test suite, a slow query); against Prometheus that drift would make every
/// window ask for the wrong seconds, so real runs tell time by the system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct WallClock;

impl Clock for WallClock {
    fn now_ms(&self) -> Millis {
        wall_now_ms()
    }

    fn sleep_ms(&self, ms: u64) {
        std::thread::sleep(Duration::from_millis(ms));
    }

    fn pace(&self) -> &'static str {
        "realtime"
    }
}

/// A clock that never sleeps: time advances exactly by what is waited. Used by instant pace and
/// by tests.
#[derive(Debug)]
pub struct VirtualClock {
    now: AtomicI64,
}

impl VirtualClock {
    /// Start the timeline at `start_ms`.
    pub fn new(start_ms: Millis) -> Self {
        Self {
            now: AtomicI64::new(start_ms),
        }
    }

    /// Advance without any real waiting; paced clocks wrap this and sleep on top.
    pub fn advance(&self, ms: u64) {
        let ms = i64::try_from(ms).unwrap_or(i64::MAX);
        self.now.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for VirtualClock {
    fn now_ms(&self) -> Millis {
        self.now.load(Ordering::SeqCst)
    }
    fn sleep_ms(&self, ms: u64) {
        self.advance(ms);
    }
    fn pace(&self) -> &'static str {
        "instant"
    }
}

/// Format pipeline time as RFC 3339 UTC with milliseconds, the Contract's `ts`.
pub fn rfc3339(ms: Millis) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        sod / 3600,
        (sod % 3600) / 60,
        sod % 60
    )
}

/// Seconds from one Contract `ts` to another; `None` when either does not parse. Durations in
/// reports (MTTR) are measured on the pipeline's own timeline, which these stamps are.
pub fn seconds_between(from: &str, to: &str) -> Option<f64> {
    use time::format_description::well_known::Rfc3339;
    let a = time::OffsetDateTime::parse(from, &Rfc3339).ok()?;
    let b = time::OffsetDateTime::parse(to, &Rfc3339).ok()?;
    Some((b - a).as_seconds_f64())
}

/// Milliseconds since the epoch of a Contract `ts`; `None` when it does not parse.
pub fn parse_rfc3339_ms(ts: &str) -> Option<Millis> {
    use time::format_description::well_known::Rfc3339;
    let t = time::OffsetDateTime::parse(ts, &Rfc3339).ok()?;
    Millis::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// `YYYYMMDD` of a pipeline time, for incident ids.
pub fn yyyymmdd(ms: Millis) -> String {
    let (y, m, d) = civil_from_days(ms.div_euclid(1000).div_euclid(86_400));
    format!("{y:04}{m:02}{d:02}")
}

/// Days since 1970-01-01 → (year, month, day), Howard Hinnant's algorithm; kept here so the core
/// needs no date crate.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_known_values() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(yyyymmdd(1_700_000_000_123), "20231114");
    }

    #[test]
    fn virtual_clock_advances_only_by_sleeps() {
        let c = VirtualClock::new(1000);
        assert_eq!(c.now_ms(), 1000);
        c.sleep_ms(2500);
        assert_eq!(c.now_ms(), 3500);
    }
}
