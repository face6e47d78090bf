//! The simulated fleet's numbers in the Prometheus text exposition format. Counters are running
//! sums of the fleet's per-second samples, so a Prometheus scraping every second reads back
//! exactly the counts the embedded demo would have used.

use crate::core::domain::{Cohort, Millis};
use crate::core::ports::MetricsSource;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Running totals of one service and cohort.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
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
                }
                if let Some(last) = samples.last() {
                    t.last_requests = last.requests;
                    t.last_p50_ms = last.latency_p50_ms;
                    t.last_p99_ms = last.latency_p99_ms;
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

fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The exposition text. `canary_pct` gives each service's current canary share.
pub fn render(acc: &Accumulator, canary_pct: &dyn Fn(&str) -> u8) -> String {
    let mut out = String::new();
    let mut family = |name: &str, kind: &str, help: &str, rows: Vec<(String, String)>| {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for (labels, value) in rows {
            let _ = writeln!(out, "{name}{{{labels}}} {value}");
        }
    };
    let t = acc.totals();
    let lab = |s: &str, c: &str| format!("service=\"{}\",cohort=\"{c}\"", label(s));
    family(
        "ccp_fleet_requests_total",
        "counter",
        "Requests served by the simulated fleet.",
        t.iter()
            .map(|((s, c), v)| (lab(s, c), v.requests.to_string()))
            .collect(),
    );
    family(
        "ccp_fleet_errors_total",
        "counter",
        "Requests that failed.",
        t.iter()
            .map(|((s, c), v)| (lab(s, c), v.errors.to_string()))
            .collect(),
    );
    // Idle cohorts have no latency; leaving the series out is how Prometheus says "no value".
    let busy = || t.iter().filter(|(_, v)| v.last_requests > 0);
    family(
        "ccp_fleet_latency_p50_ms",
        "gauge",
        "Median latency of the last complete second, milliseconds.",
        busy()
            .map(|((s, c), v)| (lab(s, c), format!("{:.3}", v.last_p50_ms)))
            .collect(),
    );
    family(
        "ccp_fleet_latency_p99_ms",
        "gauge",
        "99th percentile latency of the last complete second, milliseconds.",
        busy()
            .map(|((s, c), v)| (lab(s, c), format!("{:.3}", v.last_p99_ms)))
            .collect(),
    );
    let mut services: Vec<&String> = t.keys().map(|(s, _)| s).collect();
    services.dedup();
    family(
        "ccp_fleet_canary_percent",
        "gauge",
        "Share of traffic on the patched version.",
        services
            .into_iter()
            .map(|s| {
                (
                    format!("service=\"{}\"", label(s)),
                    canary_pct(s).to_string(),
                )
            })
            .collect(),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::domain::Sample;
    use crate::core::ports::PortResult;

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
}
