//! The real chain on loopback, against the servers tests/run.sh starts: the simulated fleet as an
//! exporter process (`ccp fleet serve`), scraped every second by a real Prometheus that evaluates
//! the documented alert rules (assets/prometheus), a real Alertmanager posting its webhook to
//! `ccp run`, and `ccp run` reading Prometheus back for RCA and the canary while it deploys through
//! a script that calls `ccp fleet shift`.
//!
//! Outside tests/run.sh (no servers) these tests say so and pass, unless `CCP_REQUIRE_SERVERS`
//! is set, in which case a missing server is a failure.

use ccp_adapters::prometheus::{PromClient, PrometheusMetrics};
use ccp_core::domain::Cohort;
use ccp_core::ports::MetricsSource;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Servers {
    prometheus: String,
    targets: PathBuf,
    alertmanager: String,
    webhook: String,
}

fn servers() -> Option<Servers> {
    let get = |k: &str| std::env::var(k).ok();
    match (
        get("CCP_TEST_PROMETHEUS_URL"),
        get("CCP_TEST_PROMETHEUS_TARGETS"),
        get("CCP_TEST_ALERTMANAGER_URL"),
        get("CCP_TEST_WEBHOOK_LISTEN"),
    ) {
        (Some(p), Some(t), Some(a), Some(w)) => Some(Servers {
            prometheus: p,
            targets: PathBuf::from(t),
            alertmanager: a,
            webhook: w,
        }),
        _ if std::env::var_os("CCP_REQUIRE_SERVERS").is_some() => {
            panic!("Prometheus/Alertmanager are not set up but servers are required (run tests/run.sh)")
        }
        _ => {
            eprintln!("skipped: no Prometheus/Alertmanager (run tests/run.sh to start them)");
            None
        }
    }
}

/// A `ccp fleet serve` process and its scrape target file; both go away on drop.
struct Fleet {
    child: Child,
    url: String,
    repo: PathBuf,
    target_file: PathBuf,
}

impl Drop for Fleet {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.target_file);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn ccp() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ccp"))
}

fn start_fleet(
    s: &Servers,
    name: &str,
    fleet_file: Option<&Path>,
    dir: &Path,
    fault_delay_s: u32,
) -> Fleet {
    let mut cmd = ccp();
    cmd.args(["fleet", "serve", "--listen", "127.0.0.1:0", "--fault-delay"])
        .arg(fault_delay_s.to_string())
        .arg("--repo-dir")
        .arg(dir.join("repo"))
        .env("CCP_STATE_DIR", dir.join("fleet-state"))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(f) = fleet_file {
        cmd.arg("--fleet").arg(f);
    }
    let mut child = cmd.spawn().expect("start ccp fleet serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    // "fleet: serving http://127.0.0.1:PORT/metrics  code: DIR"
    let addr = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("unexpected first line from the fleet: {line:?}"))
        .trim_end_matches("/metrics")
        .to_string();
    let repo = PathBuf::from(line.rsplit("code: ").next().unwrap().trim());
    let target_file = s.targets.join(format!("{name}.json"));
    let hostport = addr.trim_start_matches("http://");
    std::fs::write(
        &target_file,
        format!(r#"[{{"targets":["{hostport}"],"labels":{{"ccp_test":"{name}"}}}}]"#),
    )
    .unwrap();
    Fleet {
        child,
        url: addr,
        repo,
        target_file,
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Wait until Prometheus has `secs` seconds of the service's data.
fn wait_for_data(m: &PrometheusMetrics, service: &str, secs: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now = now_ms();
        if let Ok(v) = m.samples(service, Cohort::All, now - 60_000, now) {
            if v.len() >= secs {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus never got {secs} s of {service}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

const QUIET_FLEET: &str = r#"
seed: 7
services:
  - name: quiet-front
    criticality: 0.5
    rps: 200
    base_error_rate: 0.01
    latency_p50_ms: 20
    cpu_ms_per_request: 3
    memory_mb: 384
    calls: [{ to: quiet-back, share: 0.5 }]
  - name: quiet-back
    criticality: 0.5
    rps: 100
    base_error_rate: 0.0
    latency_p50_ms: 10
"#;

#[test]
fn prometheus_samples_match_the_fleet_and_gaps_stay_gaps() {
    let Some(s) = servers() else { return };
    let dir = tempfile::tempdir().unwrap();
    let fleet_file = dir.path().join("fleet.yaml");
    std::fs::write(&fleet_file, QUIET_FLEET).unwrap();
    let mut fleet = start_fleet(&s, "quiet", Some(&fleet_file), dir.path(), 0);
    let client = PromClient::new(&s.prometheus, Duration::from_secs(5)).unwrap();
    let m = PrometheusMetrics::new(
        client.clone(),
        vec!["quiet-front".into(), "quiet-back".into()],
        &BTreeMap::new(),
    )
    .unwrap();
    wait_for_data(&m, "quiet-front", 15);

    // Values: about 200 requests a second, about 1 % of them failing (base 0.01, below the alert
    // rule's 2 %, so this fleet never pages the end-to-end test's cockpit), p99 > p50.
    let now = now_ms();
    let v = m
        .samples("quiet-front", Cohort::All, now - 15_000, now)
        .unwrap();
    let req: u64 = v.iter().map(|x| u64::from(x.requests)).sum();
    let err: u64 = v.iter().map(|x| u64::from(x.errors)).sum();
    let per_s = req as f64 / v.len() as f64;
    assert!((170.0..230.0).contains(&per_s), "requests/s {per_s}");
    let rate = err as f64 / req as f64;
    assert!((0.004..0.02).contains(&rate), "error rate {rate}");
    assert!(v
        .iter()
        .all(|x| x.latency_p99_ms > x.latency_p50_ms && x.latency_p50_ms > 5.0));
    // p95, CPU and memory come back from their shared query. Seconds that have settled only: the
    // last one may have been scraped between that query and the others.
    let settled: Vec<_> = v.iter().filter(|x| x.t_ms <= now - 3_000).collect();
    assert!(settled.len() >= 8, "{settled:?}");
    assert!(
        settled
            .iter()
            .all(|x| x.latency_p50_ms <= x.latency_p95_ms && x.latency_p95_ms <= x.latency_p99_ms),
        "{settled:?}"
    );
    // 3 ms of CPU a request (the file's), lognormal noise of 10 % that averages out; the CPU
    // counter's rate and the request counter's come from the same scrapes.
    let cpu: f64 = settled.iter().map(|x| x.cpu_cores).sum();
    let settled_req: f64 = settled.iter().map(|x| f64::from(x.requests)).sum();
    let ms_per_request = cpu * 1000.0 / settled_req;
    assert!(
        (2.55..3.5).contains(&ms_per_request),
        "CPU ms a request {ms_per_request}"
    );
    // The baseline's 384 MB (2 % noise); the canary has no instances, so it adds none.
    assert!(
        settled
            .iter()
            .all(|x| (360.0..410.0).contains(&x.memory_mb)),
        "{settled:?}"
    );
    // No canary yet: every canary second is idle (0 requests), which is data, not a gap; it uses
    // no CPU, and with no instances it has no memory (NaN, not zero) and no p95.
    let c = m
        .samples("quiet-front", Cohort::Canary, now - 10_000, now)
        .unwrap();
    assert!(!c.is_empty() && c.iter().all(|x| x.requests == 0), "{c:?}");
    assert!(
        c.iter()
            .all(|x| x.memory_mb.is_nan() && x.latency_p95_ms.is_nan()),
        "{c:?}"
    );
    assert!(c.iter().all(|x| x.cpu_cores == 0.0), "{c:?}");
    // An exporter without these series (the queries name none it has) reads as NaN, not a failure.
    let mut bare = BTreeMap::new();
    for name in ["latency_p95_ms", "cpu_cores", "memory_mb"] {
        bare.insert(
            name.to_string(),
            r#"max(no_such_series{service="$service",cohort=~"$cohort"})"#.to_string(),
        );
    }
    let b = PrometheusMetrics::new(client.clone(), vec!["quiet-front".into()], &bare)
        .unwrap()
        .samples("quiet-front", Cohort::All, now - 10_000, now)
        .unwrap();
    assert!(
        !b.is_empty()
            && b.iter().all(|x| {
                x.requests > 0
                    && x.latency_p95_ms.is_nan()
                    && x.cpu_cores.is_nan()
                    && x.memory_mb.is_nan()
            }),
        "{b:?}"
    );

    // Stop the exporter: the seconds after it are missing, never zeros.
    let stopped_at = now_ms();
    let _ = fleet.child.kill();
    let _ = fleet.child.wait();
    std::thread::sleep(Duration::from_secs(12));
    let now = now_ms();
    let after = m
        .samples("quiet-front", Cohort::All, stopped_at - 5_000, now)
        .unwrap_err()
        .to_string();
    assert!(after.contains("has data for only"), "{after}");
    assert!(
        after.contains("quiet-front (all)") && after.contains("missing"),
        "{after}"
    );
    // A window that is partly covered is returned without the gap, and nothing in it is zero.
    let partial = m
        .samples(
            "quiet-front",
            Cohort::All,
            stopped_at - 20_000,
            stopped_at + 6_000,
        )
        .unwrap();
    assert!(
        partial.len() < 26,
        "gap seconds must be left out, got {}",
        partial.len()
    );
    assert!(
        partial.iter().all(|x| x.requests > 0),
        "a gap was read as zero traffic"
    );

    // Bad template: the server's own words.
    let mut bad = BTreeMap::new();
    bad.insert("requests".to_string(), "sum(rate(x[5s]".to_string());
    let e = PrometheusMetrics::new(client, vec!["quiet-front".into()], &bad)
        .unwrap()
        .samples("quiet-front", Cohort::All, now - 5_000, now)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("Prometheus rejected the query (bad_data)"),
        "{e}"
    );
}

/// Wait until Alertmanager holds no active alert, so an earlier run's alerts (same servers,
/// repeated runs) cannot open this run's incident.
fn wait_for_quiet_alertmanager(url: &str) {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let body = Command::new("python3")
            .args([
                "-c",
                "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=2).read().decode())",
            ])
            .arg(format!("{url}/api/v2/alerts?active=true"))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&body.stdout);
        let list: serde_json::Value = serde_json::from_str(text.trim()).unwrap_or_default();
        if list.as_array().is_some_and(|a| a.is_empty()) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "Alertmanager never went quiet: {text}"
        );
        std::thread::sleep(Duration::from_secs(1));
    }
}

#[test]
fn alertmanager_webhook_to_resolved_incident_through_prometheus() {
    let Some(s) = servers() else { return };
    // Healthy for 25 s, then the demo's bug: RCA compares the incident with that history.
    let warm = resolve_through_the_real_chain(&s, "e2e", 25);
    assert!(
        warm.iter().all(|e| e["type"] != "awaiting_approval"),
        "with history, staging needs no human"
    );
    // Started all at once, as the README writes it: the bug is live from the first scrape, so
    // there is no healthy history to compare with. RCA ranks from what there is (the alerting
    // service, its traceback, the recent deploy) with low confidence and asks a human (answered
    // here by --auto-approve) instead of escalating.
    let cold = resolve_through_the_real_chain(&s, "cold", 0);
    let asked: Vec<&serde_json::Value> = cold
        .iter()
        .filter(|e| e["type"] == "awaiting_approval")
        .collect();
    assert_eq!(asked.len(), 1, "cold start pauses for a human once");
    assert!(
        asked[0]["rules"]
            .as_array()
            .is_some_and(|r| r.iter().any(|x| x["rule"] == "low_rca_confidence")),
        "{:?}",
        asked[0]
    );
}

/// One `ccp run` of the real chain, on a fleet whose bug starts `fault_delay_s` after it does,
/// to a resolved incident: checked on the way, and its events returned.
fn resolve_through_the_real_chain(
    s: &Servers,
    name: &str,
    fault_delay_s: u32,
) -> Vec<serde_json::Value> {
    wait_for_quiet_alertmanager(&s.alertmanager);
    let dir = tempfile::tempdir().unwrap();
    let fleet = start_fleet(s, name, None, dir.path(), fault_delay_s);
    let exe = env!("CARGO_BIN_EXE_ccp");
    let config = dir.path().join("ccp.yaml");
    std::fs::write(
        &config,
        format!(
            r#"
environment: staging
detection:
  enabled: false
  poll_interval_s: 1
alerts:
  listen: "{webhook}"
logs:
  errors_url: "{fleet}/errors"
metrics:
  backend: prometheus
  prometheus_url: "{prom}"
repo:
  path: "{repo}"
deploy:
  backend: script
  script: "{exe} fleet shift --url {fleet}"
  observe_s: 8
verification:
  window_s: 12
"#,
            webhook = s.webhook,
            fleet = fleet.url,
            prom = s.prometheus,
            repo = fleet.repo.display(),
        ),
    )
    .unwrap();
    let out = ccp()
        .args(["run", "--headless", "--json", "--auto-approve", "--config"])
        .arg(&config)
        .env("CCP_STATE_DIR", dir.path().join("state"))
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    let events: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let of =
        |t: &str| -> Vec<&serde_json::Value> { events.iter().filter(|e| e["type"] == t).collect() };
    let types: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    assert!(out.status.success(), "ccp run failed: {types:?}");
    // The incident came from Alertmanager, fired by the documented rule.
    let alerts = of("alert_received");
    assert!(!alerts.is_empty(), "{types:?}");
    assert!(
        alerts.iter().all(
            |a| a["alert"]["source"] == "alertmanager" && a["alert"]["name"] == "HighErrorRate"
        ),
        "{alerts:?}"
    );
    let threshold = alerts[0]["alert"]["threshold"].as_f64().unwrap();
    assert_eq!(threshold, 0.02);
    assert!(alerts[0]["alert"]["value"].as_f64().unwrap() > 0.02);
    assert_eq!(of("incident_opened").len(), 1);
    // RCA ranked the faulty service first from Prometheus data.
    let rca = of("rca_ranked");
    assert_eq!(
        rca[0]["candidates"][0]["service"], "payment-service",
        "{rca:?}"
    );
    // The traceback came over HTTP and was localized to the demo's bug.
    let loc = of("localized");
    assert!(loc[0]["file"].as_str().unwrap().ends_with(".py"), "{loc:?}");
    // The canary was read back from Prometheus with real traffic on the patched version.
    let canary = of("canary_metrics");
    assert!(!canary.is_empty(), "{types:?}");
    let verdict = of("verification");
    assert_eq!(verdict.last().unwrap()["verdict"], "pass", "{verdict:?}");
    let fin = of("finished");
    assert_eq!(fin[0]["outcome"], "resolved", "{fin:?}");
    // And the fleet really runs the patch at 100 %.
    let q = PromClient::new(&s.prometheus, Duration::from_secs(5))
        .unwrap()
        .query(
            &format!(r#"ccp_fleet_canary_percent{{service="payment-service",ccp_test="{name}"}}"#),
            now_ms() as f64 / 1000.0,
        )
        .unwrap();
    assert_eq!(q[0].points[0].1, 100.0, "{q:?}");
    drop(fleet);
    events
}
