//! The simulated fleet's numbers in the Prometheus text exposition format. Counters are running
//! sums of the fleet's per-second samples, so a Prometheus scraping every second reads back
//! exactly the counts the embedded demo would have used.

use ccp_core::domain::{Cohort, Millis};
use ccp_core::exposition::{Exposition, Kind};
use ccp_core::ports::MetricsSource;
use std::collections::BTreeMap;

/// Running totals of one service and cohort.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Totals {
    /// Requests served since the exporter started.
    pub requests: u64,
    /// Requests that failed.
    pub errors: u64,
    /// Requests in the last complete second (0 = idle, no latency to report).
    pub last_requests: u32,
    /// Median latency of the last complete second.
    pub last_p50_ms: f64,
    /// p99 latency of the last complete second.
    pub last_p99_ms: f64,
    /// p95 latency of the last complete second (NaN = unknown, not exported).
    pub last_p95_ms: f64,
    /// CPU seconds used since the exporter started: a counter, so Prometheus's rate of it is the
    /// cores in use, exact per second like the request counts.
    pub cpu_seconds: f64,
    /// Resident memory of the last complete second, MB (NaN = no instances, not exported).
    pub last_memory_mb: f64,
}

impl Default for Totals {
    /// Nothing counted yet, and no value for the gauges that can be unknown.
    fn default() -> Self {
        Self {
            requests: 0,
            errors: 0,
            last_requests: 0,
            last_p50_ms: 0.0,
            last_p99_ms: 0.0,
            last_p95_ms: f64::NAN,
            cpu_seconds: 0.0,
            last_memory_mb: f64::NAN,
        }
    }
}

/// Accumulates whole seconds as they complete.
pub struct Accumulator {
    next_s: i64,
    totals: BTreeMap<(String, &'static str), Totals>,
}

/// Longest catch-up in one go; an exporter suspended for longer skips ahead instead of stalling
/// the scrape that wakes it.
const MAX_CATCH_UP_S: i64 = 600;

const COHORTS: [(Cohort, &str); 2] = [(Cohort::Baseline, "baseline"), (Cohort::Canary, "canary")];

impl Accumulator {
    /// Start counting at the second containing `start_ms`.
    pub fn new(start_ms: Millis) -> Self {
        Self {
            next_s: start_ms.div_euclid(1000),
            totals: BTreeMap::new(),
        }
    }

    /// Add every second that completed before `now_ms`.
    pub fn advance(&mut self, fleet: &dyn MetricsSource, now_ms: Millis) {
        let done = now_ms.div_euclid(1000);
        if done - self.next_s > MAX_CATCH_UP_S {
            self.next_s = done - MAX_CATCH_UP_S;
        }
        if done <= self.next_s {
            return;
        }
        for service in fleet.services() {
            for (cohort, name) in COHORTS {
                let Ok(samples) = fleet.samples(&service, cohort, self.next_s * 1000, done * 1000)
                else {
                    continue;
                };
                let t = self.totals.entry((service.clone(), name)).or_default();
                for s in &samples {
                    t.requests += u64::from(s.requests);
                    t.errors += u64::from(s.errors);
                    // An unknown second adds nothing rather than making the counter NaN forever.
                    if s.cpu_cores.is_finite() {
                        t.cpu_seconds += s.cpu_cores;
                    }
                }
                if let Some(last) = samples.last() {
                    t.last_requests = last.requests;
                    t.last_p50_ms = last.latency_p50_ms;
                    t.last_p99_ms = last.latency_p99_ms;
                    t.last_p95_ms = last.latency_p95_ms;
                    t.last_memory_mb = last.memory_mb;
                }
            }
        }
        self.next_s = done;
    }

    /// Totals per (service, cohort).
    pub fn totals(&self) -> &BTreeMap<(String, &'static str), Totals> {
        &self.totals
    }
}

/// The text a scrape of the fleet returns: counters from the running totals, gauges for the
/// last complete second (left out while a cohort is idle or has no instances, as a real exporter
/// would), and each service's canary share.
pub fn render(acc: &Accumulator, canary_pct: &dyn Fn(&str) -> u8) -> String {
    let t = acc.totals();
    let mut w = Exposition::default();
    let mut family =
        |name: &str,
         kind: Kind,
         help: &str,
         rows: &mut dyn Iterator<Item = (&(String, &'static str), String)>| {
            w.family(name, kind, help);
            for ((service, cohort), value) in rows {
                w.row(name, &[("service", service), ("cohort", cohort)], value);
            }
        };
    family(
        "ccp_fleet_requests_total",
        Kind::Counter,
        "Requests served by the simulated fleet.",
        &mut t.iter().map(|(k, v)| (k, v.requests.to_string())),
    );
    family(
        "ccp_fleet_errors_total",
        Kind::Counter,
        "Requests that failed.",
        &mut t.iter().map(|(k, v)| (k, v.errors.to_string())),
    );
    let busy = || t.iter().filter(|(_, v)| v.last_requests > 0);
    family(
        "ccp_fleet_latency_p50_ms",
        Kind::Gauge,
        "Median latency of the last complete second, milliseconds.",
        &mut busy().map(|(k, v)| (k, format!("{:.3}", v.last_p50_ms))),
    );
    family(
        "ccp_fleet_latency_p99_ms",
        Kind::Gauge,
        "99th percentile latency of the last complete second, milliseconds.",
        &mut busy().map(|(k, v)| (k, format!("{:.3}", v.last_p99_ms))),
    );
    family(
        "ccp_fleet_latency_p95_ms",
        Kind::Gauge,
        "95th percentile latency of the last complete second, milliseconds.",
        &mut busy()
            .filter(|(_, v)| v.last_p95_ms.is_finite())
            .map(|(k, v)| (k, format!("{:.3}", v.last_p95_ms))),
    );
    family(
        "ccp_fleet_cpu_seconds_total",
        Kind::Counter,
        "CPU time used by the cohort's instances, seconds.",
        &mut t.iter().map(|(k, v)| (k, v.cpu_seconds.to_string())),
    );
    family(
        "ccp_fleet_memory_mb",
        Kind::Gauge,
        "Resident memory of the cohort's instances in the last complete second, megabytes.",
        &mut t
            .iter()
            .filter(|(_, v)| v.last_memory_mb.is_finite())
            .map(|(k, v)| (k, format!("{:.3}", v.last_memory_mb))),
    );
    let mut services: Vec<&String> = t.keys().map(|(s, _)| s).collect();
    services.dedup();
    w.family(
        "ccp_fleet_canary_percent",
        Kind::Gauge,
        "Share of traffic on the patched version.",
    );
    for s in services {
        w.row("ccp_fleet_canary_percent", &[("service", s)], canary_pct(s));
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ccp_core::domain::Sample;
    use ccp_core::ports::PortResult;

    struct Flat;
    impl MetricsSource for Flat {
        fn services(&self) -> Vec<String> {
            vec!["a\"b".into()]
        }
        fn samples(&self, _: &str, c: Cohort, from: Millis, to: Millis) -> PortResult<Vec<Sample>> {
            Ok((from / 1000..to / 1000)
                .map(|t| Sample {
                    t_ms: t * 1000,
                    requests: if c == Cohort::Canary { 0 } else { 10 },
                    errors: if c == Cohort::Canary { 0 } else { 1 },
                    latency_p50_ms: 5.0,
                    latency_p99_ms: 9.0,
                    latency_p95_ms: 7.0,
                    // A quarter of a core per second; the canary has no instances.
                    cpu_cores: if c == Cohort::Canary { 0.0 } else { 0.25 },
                    memory_mb: if c == Cohort::Canary { f64::NAN } else { 300.5 },
                })
                .collect())
        }
    }

    #[test]
    fn counters_sum_complete_seconds_only() {
        let mut acc = Accumulator::new(10_500);
        acc.advance(&Flat, 13_999); // seconds 10, 11, 12
        acc.advance(&Flat, 13_999); // nothing new
        let text = render(&acc, &|_| 7);
        assert!(
            text.contains("ccp_fleet_requests_total{service=\"a\\\"b\",cohort=\"baseline\"} 30\n"),
            "{text}"
        );
        assert!(text.contains("ccp_fleet_errors_total{service=\"a\\\"b\",cohort=\"baseline\"} 3\n"));
        assert!(text.contains("ccp_fleet_requests_total{service=\"a\\\"b\",cohort=\"canary\"} 0\n"));
        // The idle canary has no latency series; the busy baseline has one.
        assert!(text
            .contains("ccp_fleet_latency_p99_ms{service=\"a\\\"b\",cohort=\"baseline\"} 9.000\n"));
        assert!(!text.contains("ccp_fleet_latency_p99_ms{service=\"a\\\"b\",cohort=\"canary\"}"));
        assert!(text.contains("ccp_fleet_canary_percent{service=\"a\\\"b\"} 7\n"));
        assert!(text.contains("# TYPE ccp_fleet_requests_total counter\n"));
    }

    #[test]
    fn p95_cpu_and_memory_are_exported_per_cohort() {
        let mut acc = Accumulator::new(10_000);
        acc.advance(&Flat, 14_000); // seconds 10 to 13
        let text = render(&acc, &|_| 0);
        let row =
            |name: &str, cohort: &str| format!("{name}{{service=\"a\\\"b\",cohort=\"{cohort}\"}} ");
        assert!(
            text.contains(&format!(
                "{}7.000\n",
                row("ccp_fleet_latency_p95_ms", "baseline")
            )),
            "{text}"
        );
        // CPU is a counter of CPU seconds: four seconds at a quarter of a core.
        assert!(
            text.contains(&format!(
                "{}1\n",
                row("ccp_fleet_cpu_seconds_total", "baseline")
            )),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "{}0\n",
                row("ccp_fleet_cpu_seconds_total", "canary")
            )),
            "{text}"
        );
        assert!(text.contains("# TYPE ccp_fleet_cpu_seconds_total counter\n"));
        assert!(
            text.contains(&format!(
                "{}300.500\n",
                row("ccp_fleet_memory_mb", "baseline")
            )),
            "{text}"
        );
        assert!(text.contains("# TYPE ccp_fleet_memory_mb gauge\n"));
        // The idle canary has no p95; the canary without instances has no memory series.
        assert!(
            !text.contains(&row("ccp_fleet_latency_p95_ms", "canary")),
            "{text}"
        );
        assert!(
            !text.contains(&row("ccp_fleet_memory_mb", "canary")),
            "{text}"
        );
    }
}
