//! `metrics: prometheus`: per-second samples for the pipeline, read back from Prometheus with
//! configurable PromQL templates. Missing data stays missing: a second Prometheus has no value for
//! is left out of the samples (never filled with zero, which would read as "healthy and idle"),
//! and a window that is mostly gaps is an error that says where the gaps are.
//!
//! p95 latency, CPU and memory are optional: many exporters have no such series, so one that is
//! missing reads as NaN ("no data") and never fails the read. They cost one query together.

use super::api::Series;
use super::client::{PromClient, PromError};
use ccp_core::domain::{Cohort, Millis, Sample};
use ccp_core::ports::{MetricsSource, PortError, PortResult};
use std::collections::{BTreeMap, HashMap};

/// The signals the pipeline needs, and the built-in template of each. `$service` is replaced by
/// the service name and `$cohort` by `baseline`, `canary` or `.*` (both), so templates match
/// with `=~"$cohort"`. The defaults read what `ccp fleet serve` exports; per-second counts come
/// from `irate`, which with a 1 s scrape interval is the count of the last second, unsmoothed
/// (CPU too: the CPU seconds counter's rate is the cores in use). Memory adds up over cohorts.
pub const DEFAULT_QUERIES: &[(&str, &str)] = &[
    (
        "requests",
        r#"sum(irate(ccp_fleet_requests_total{service="$service",cohort=~"$cohort"}[5s]))"#,
    ),
    (
        "errors",
        r#"sum(irate(ccp_fleet_errors_total{service="$service",cohort=~"$cohort"}[5s]))"#,
    ),
    (
        "latency_p50_ms",
        r#"max(ccp_fleet_latency_p50_ms{service="$service",cohort=~"$cohort"})"#,
    ),
    (
        "latency_p99_ms",
        r#"max(ccp_fleet_latency_p99_ms{service="$service",cohort=~"$cohort"})"#,
    ),
    (
        "latency_p95_ms",
        r#"max(ccp_fleet_latency_p95_ms{service="$service",cohort=~"$cohort"})"#,
    ),
    (
        "cpu_cores",
        r#"sum(irate(ccp_fleet_cpu_seconds_total{service="$service",cohort=~"$cohort"}[5s]))"#,
    ),
    (
        "memory_mb",
        r#"sum(ccp_fleet_memory_mb{service="$service",cohort=~"$cohort"})"#,
    ),
];

/// Query names a config may set: the signals above plus `error_rate`, an alternative to `errors`
/// for teams that only have a ratio (errors are then `requests × error_rate`).
pub const QUERY_NAMES: &[&str] = &[
    "requests",
    "errors",
    "error_rate",
    "latency_p50_ms",
    "latency_p99_ms",
    "latency_p95_ms",
    "cpu_cores",
    "memory_mb",
];

/// The signals every sample needs, each its own query, and whether several series of one are
/// combined by max (latencies, ratios) rather than summed (counts).
const REQUIRED: &[(&str, bool)] = &[
    ("requests", false),
    ("errors", false),
    ("error_rate", true),
    ("latency_p50_ms", true),
    ("latency_p99_ms", true),
];

/// The optional signals, combined the same way. They share one query, so reading them costs one
/// request per window whatever their number; an empty template leaves a signal out.
const OPTIONAL: &[(&str, bool)] = &[
    ("latency_p95_ms", true),
    ("cpu_cores", false),
    ("memory_mb", false),
];

/// Label that tells the optional signals apart in their shared query's answer.
const SIGNAL_LABEL: &str = "ccp_signal";

/// Seconds at the end of a window that may legitimately be missing: one scrape plus one rule
/// evaluation behind real time.
const LAG_S: i64 = 3;
/// A window with less data than this share (after the lag allowance) is reported, not judged.
const MIN_COVERAGE: f64 = 0.5;

/// Reads samples from Prometheus.
pub struct PrometheusMetrics {
    client: PromClient,
    services: Vec<String>,
    queries: HashMap<String, String>,
}

fn cohort_value(c: Cohort) -> &'static str {
    match c {
        Cohort::Baseline => "baseline",
        Cohort::Canary => "canary",
        Cohort::All => ".*",
    }
}

/// Fill a template. Label values are escaped for a PromQL double-quoted string, so a service
/// name can never change the query's structure.
pub fn render(template: &str, service: &str, cohort: Cohort) -> String {
    let escaped = service.replace('\\', "\\\\").replace('"', "\\\"");
    template
        .replace("$service", &escaped)
        .replace("$cohort", cohort_value(cohort))
}

/// Sum (counts) or max (latencies) of several series, per timestamp in whole seconds.
fn combine(series: &[Series], max: bool) -> BTreeMap<i64, f64> {
    let mut out: BTreeMap<i64, f64> = BTreeMap::new();
    for s in series {
        for &(t, v) in &s.points {
            if !v.is_finite() {
                continue;
            }
            let k = t.round() as i64;
            out.entry(k)
                .and_modify(|acc| *acc = if max { acc.max(v) } else { *acc + v })
                .or_insert(v);
        }
    }
    out
}

/// The one query for the optional signals: each template tagged with its signal's name and the
/// tagged results joined with `or` (their label sets differ, so `or` keeps every series). `None`
/// when every optional template is empty.
fn optional_query(
    queries: &HashMap<String, String>,
    service: &str,
    cohort: Cohort,
) -> Option<String> {
    let parts: Vec<String> = OPTIONAL
        .iter()
        .filter_map(|(name, _)| {
            let t = queries.get(*name).filter(|t| !t.trim().is_empty())?;
            Some(format!(
                r#"label_replace(({}), "{SIGNAL_LABEL}", "{name}", "", "")"#,
                render(t, service, cohort)
            ))
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(" or "))
}

/// Per-second values of each optional signal in the shared query's answer.
fn split_optional(series: &[Series]) -> HashMap<&'static str, BTreeMap<i64, f64>> {
    OPTIONAL
        .iter()
        .map(|&(name, max)| {
            let mine: Vec<Series> = series
                .iter()
                .filter(|s| s.labels.iter().any(|(k, v)| k == SIGNAL_LABEL && v == name))
                .cloned()
                .collect();
            (name, combine(&mine, max))
        })
        .collect()
}

/// Samples from per-second values by signal name. A second needs requests, errors (or an error
/// rate) and, unless idle, p50 and p99; the optional signals are NaN where they have no value.
fn assemble(v: &HashMap<&str, BTreeMap<i64, f64>>) -> BTreeMap<i64, Sample> {
    let empty = BTreeMap::new();
    let get = |name: &str| v.get(name).unwrap_or(&empty);
    let (errors, error_rate) = (get("errors"), get("error_rate"));
    let (p50, p99) = (get("latency_p50_ms"), get("latency_p99_ms"));
    let optional = |name: &str, t: &i64| get(name).get(t).copied().unwrap_or(f64::NAN);
    let mut out = BTreeMap::new();
    for (&t, &req) in get("requests") {
        let req = req.max(0.0).round();
        let err = match (errors.get(&t), error_rate.get(&t)) {
            (Some(e), _) => e.max(0.0).round().min(req),
            (None, Some(r)) => (req * r.clamp(0.0, 1.0)).round(),
            // A second with requests but no error count is unknown, not error-free.
            (None, None) if req > 0.0 => continue,
            (None, None) => 0.0,
        };
        let (l50, l99) = match (p50.get(&t), p99.get(&t)) {
            (Some(a), Some(b)) => (*a, *b),
            // An idle second has no latency; that is not a gap.
            _ if req == 0.0 => (0.0, 0.0),
            _ => continue,
        };
        out.insert(
            t,
            Sample {
                t_ms: t * 1000,
                requests: req as u32,
                errors: err as u32,
                latency_p50_ms: l50,
                latency_p99_ms: l99,
                latency_p95_ms: optional("latency_p95_ms", &t),
                cpu_cores: optional("cpu_cores", &t),
                memory_mb: optional("memory_mb", &t),
            },
        );
    }
    out
}

/// Spans of consecutive missing seconds, for the error message.
fn gaps(expected: &[i64], present: &BTreeMap<i64, Sample>) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    let mut start: Option<i64> = None;
    let mut last = 0;
    for &t in expected {
        if present.contains_key(&t) {
            if let Some(s) = start.take() {
                out.push((s, last));
            }
        } else if start.is_none() {
            start = Some(t);
        }
        last = t;
    }
    if let Some(s) = start {
        out.push((s, last));
    }
    out
}

fn hms(unix_s: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix_s)
        .map(|t| format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second()))
        .unwrap_or_else(|_| unix_s.to_string())
}

impl PrometheusMetrics {
    /// A source for `services` with `overrides` replacing the built-in templates by name.
    /// Unknown names are refused, so a typo cannot silently leave a default in place.
    pub fn new(
        client: PromClient,
        services: Vec<String>,
        overrides: &BTreeMap<String, String>,
    ) -> Result<Self, String> {
        let mut queries: HashMap<String, String> = DEFAULT_QUERIES
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        for (k, v) in overrides {
            if !QUERY_NAMES.contains(&k.as_str()) {
                return Err(format!(
                    "unknown metrics query `{k}`; known: {}",
                    QUERY_NAMES.join(", ")
                ));
            }
            if k == "error_rate" {
                queries.remove("errors");
            }
            queries.insert(k.clone(), v.clone());
        }
        Ok(Self {
            client,
            services,
            queries,
        })
    }

    fn range(
        &self,
        name: &str,
        service: &str,
        cohort: Cohort,
        start: i64,
        end: i64,
    ) -> Result<Vec<Series>, PromError> {
        match self.queries.get(name) {
            Some(t) => {
                self.client
                    .query_range(&render(t, service, cohort), start as f64, end as f64, 1.0)
            }
            None => Ok(Vec::new()),
        }
    }

    fn port_err(&self, e: PromError) -> PortError {
        PortError::new("metrics", e.to_string())
    }

    /// Samples for whole seconds in `[start, end]`: one query per required signal, one for all
    /// the optional ones.
    fn read(
        &self,
        service: &str,
        cohort: Cohort,
        start: i64,
        end: i64,
    ) -> PortResult<BTreeMap<i64, Sample>> {
        let mut values: HashMap<&str, BTreeMap<i64, f64>> = HashMap::new();
        for &(name, max) in REQUIRED {
            let series = self
                .range(name, service, cohort, start, end)
                .map_err(|e| self.port_err(e))?;
            values.insert(name, combine(&series, max));
        }
        if let Some(expr) = optional_query(&self.queries, service, cohort) {
            let series = self
                .client
                .query_range(&expr, start as f64, end as f64, 1.0)
                .map_err(|e| self.port_err(e))?;
            values.extend(split_optional(&series));
        }
        Ok(assemble(&values))
    }

    fn samples_at(
        &self,
        service: &str,
        cohort: Cohort,
        from_ms: Millis,
        to_ms: Millis,
        now_ms: Millis,
    ) -> PortResult<Vec<Sample>> {
        let start = from_ms.div_euclid(1000) + i64::from(from_ms.rem_euclid(1000) != 0);
        let end = (to_ms - 1).div_euclid(1000);
        if end < start {
            return Ok(Vec::new());
        }
        let got = self.read(service, cohort, start, end)?;
        let Some(&first) = got.keys().next() else {
            return Err(PortError::new(
                "metrics",
                format!(
                    "Prometheus at {} has no data for {service} ({}) between {} and {} UTC: is the target scraped (check `up`) and do the `metrics.queries` match its labels?",
                    self.client.display_url(),
                    cohort_value(cohort).replace(".*", "all"),
                    hms(start),
                    hms(end)
                ),
            ));
        };
        // Judge coverage only on seconds Prometheus could already have, from the series' first
        // point on: a service younger than the window has a short history, not a gap.
        let settled_end = end.min(now_ms.div_euclid(1000) - LAG_S);
        let expected: Vec<i64> = (first.max(start)..=settled_end).collect();
        if !expected.is_empty() {
            let have = expected.iter().filter(|t| got.contains_key(t)).count();
            if (have as f64) < MIN_COVERAGE * expected.len() as f64 {
                let spans: Vec<String> = gaps(&expected, &got)
                    .iter()
                    .take(3)
                    .map(|(a, b)| format!("{}–{}", hms(*a), hms(*b)))
                    .collect();
                return Err(PortError::new(
                    "metrics",
                    format!(
                        "Prometheus at {} has data for only {have} of {} s of {service} ({}) between {} and {} UTC (missing {}): is the target scraped (check `up`) and do the `metrics.queries` match its labels?",
                        self.client.display_url(),
                        expected.len(),
                        cohort_value(cohort).replace(".*", "all"),
                        hms(start),
                        hms(settled_end),
                        spans.join(", ")
                    ),
                ));
            }
            if have < expected.len() {
                tracing::warn!(
                    service,
                    cohort = cohort_value(cohort),
                    have,
                    expected = expected.len(),
                    "gaps in Prometheus data; the missing seconds are left out"
                );
            }
        }
        Ok(got.into_values().collect())
    }
}

impl MetricsSource for PrometheusMetrics {
    fn services(&self) -> Vec<String> {
        self.services.clone()
    }

    fn samples(
        &self,
        service: &str,
        cohort: Cohort,
        from_ms: Millis,
        to_ms: Millis,
    ) -> PortResult<Vec<Sample>> {
        if !self.services.iter().any(|s| s == service) {
            // Known to the graph (other tooling added it) but not to the fleet file: nobody
            // said how to query it, so it is unobserved, like a store that exports nothing.
            tracing::debug!(service, "not in the fleet file: unobserved");
            return Ok(Vec::new());
        }
        let now = ccp_core::clock::wall_now_ms();
        self.samples_at(service, cohort, from_ms, to_ms, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_the_fleet_file_does_not_name_is_unobserved_without_asking_prometheus() {
        // Port 9 (discard) on loopback: asking it would fail, so Ok(empty) proves no query ran.
        let client = PromClient::new("http://127.0.0.1:9", std::time::Duration::from_millis(200))
            .expect("client");
        let m =
            PrometheusMetrics::new(client, vec!["api".into()], &BTreeMap::new()).expect("metrics");
        let got = m.samples("billing-batch", Cohort::All, 0, 60_000);
        assert_eq!(got.map(|v| v.len()).ok(), Some(0));
        assert!(
            m.samples("api", Cohort::All, 0, 60_000).is_err(),
            "known ones are queried"
        );
    }

    #[test]
    fn service_names_cannot_break_out_of_the_label_string() {
        let q = render(
            r#"x{service="$service",c=~"$cohort"}"#,
            r#"a"} or vector(1) #"#,
            Cohort::All,
        );
        assert_eq!(q, r#"x{service="a\"} or vector(1) #",c=~".*"}"#);
    }

    #[test]
    fn gaps_are_reported_as_spans() {
        let mut got = BTreeMap::new();
        for t in [1, 2, 5, 8] {
            got.insert(
                t,
                Sample {
                    t_ms: t * 1000,
                    requests: 1,
                    errors: 0,
                    latency_p50_ms: 1.0,
                    latency_p99_ms: 1.0,
                    latency_p95_ms: f64::NAN,
                    cpu_cores: f64::NAN,
                    memory_mb: f64::NAN,
                },
            );
        }
        let expected: Vec<i64> = (1..=9).collect();
        assert_eq!(gaps(&expected, &got), vec![(3, 4), (6, 7), (9, 9)]);
    }

    fn defaults() -> HashMap<String, String> {
        DEFAULT_QUERIES
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn optional_signals_share_one_query() {
        let q = optional_query(&defaults(), "api", Cohort::Canary).expect("a query");
        assert_eq!(
            q,
            concat!(
                r#"label_replace((max(ccp_fleet_latency_p95_ms{service="api",cohort=~"canary"})), "ccp_signal", "latency_p95_ms", "", "")"#,
                r#" or label_replace((sum(irate(ccp_fleet_cpu_seconds_total{service="api",cohort=~"canary"}[5s]))), "ccp_signal", "cpu_cores", "", "")"#,
                r#" or label_replace((sum(ccp_fleet_memory_mb{service="api",cohort=~"canary"})), "ccp_signal", "memory_mb", "", "")"#,
            )
        );
        // An empty template leaves its signal out; with none left there is no query at all.
        let mut q = defaults();
        q.insert("cpu_cores".into(), " ".into());
        let one = optional_query(&q, "api", Cohort::All).expect("a query");
        assert!(!one.contains("cpu") && one.contains("memory_mb"), "{one}");
        q.insert("memory_mb".into(), String::new());
        q.insert("latency_p95_ms".into(), String::new());
        assert_eq!(optional_query(&q, "api", Cohort::All), None);
    }

    #[test]
    fn answers_become_samples_and_a_missing_series_is_nan() {
        let parse =
            |body: &str| super::super::api::parse_response(body.as_bytes()).expect("parses");
        let one = |body: &str| combine(&parse(body), false);
        let mut v: HashMap<&str, BTreeMap<i64, f64>> = HashMap::new();
        v.insert("requests", one(r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[100,"10"],[101,"0"],[102,"20"]]}]}}"#));
        v.insert("errors", one(r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[100,"1"],[101,"0"],[102,"2"]]}]}}"#));
        v.insert("latency_p50_ms", one(r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[100,"5"],[102,"6"]]}]}}"#));
        v.insert("latency_p99_ms", one(r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[100,"15"],[102,"16"]]}]}}"#));
        // The shared answer: p95 and memory (two series of memory add up), no CPU series at all,
        // as from an exporter without CPU metrics.
        let optional = parse(
            r#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"ccp_signal":"latency_p95_ms"},"values":[[100,"9.5"],[102,"11"]]},
            {"metric":{"ccp_signal":"memory_mb","cohort":"baseline"},"values":[[100,"256"],[101,"257"],[102,"258"]]},
            {"metric":{"ccp_signal":"memory_mb","cohort":"canary"},"values":[[102,"100.5"]]}]}}"#,
        );
        v.extend(split_optional(&optional));
        let got: Vec<Sample> = assemble(&v).into_values().collect();
        assert_eq!(got.len(), 3, "{got:?}");
        let (a, idle, b) = (got[0], got[1], got[2]);
        assert_eq!((a.requests, a.errors, a.latency_p50_ms), (10, 1, 5.0));
        assert_eq!((a.latency_p95_ms, a.memory_mb), (9.5, 256.0));
        assert_eq!(
            (b.latency_p95_ms, b.memory_mb, b.latency_p99_ms),
            (11.0, 358.5, 16.0)
        );
        assert!(got.iter().all(|s| s.cpu_cores.is_nan()), "{got:?}");
        // The idle second is data (no latency, still memory), not a gap.
        assert_eq!((idle.requests, idle.memory_mb), (0, 257.0));
        assert!(idle.latency_p95_ms.is_nan());
    }

    #[test]
    fn unknown_query_names_are_refused() {
        let c = PromClient::new("http://127.0.0.1:1", std::time::Duration::from_secs(1)).unwrap();
        let mut o = BTreeMap::new();
        o.insert("error_rte".to_string(), "x".to_string());
        let e = PrometheusMetrics::new(c, vec![], &o).err().unwrap();
        assert!(e.contains("error_rte") && e.contains("error_rate"), "{e}");
    }
}
