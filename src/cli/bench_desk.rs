//! `ccp bench --desk`: the team service under load, measured from outside as its users see it.
//! A `ccp serve` child runs three incidents at once (demo/team-fleet.yaml plus a third failing
//! service) and answers them itself (`--auto-approve`); stream clients attach over loopback.
//!
//! - Stream latency: for each event, the time from the server printing it (its fan-out prints
//!   every event on stdout right before handing it to the stream) to each client reading it,
//!   with 1 client (the baseline) and with N clients, in the same run.
//! - Alert ingest: Alertmanager webhooks accepted per second while the three pipelines run, and
//!   against an idle server (the baseline), in the same run.

use anyhow::{bail, Context, Result};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc::channel;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A served desk: the child and its address.
struct Served {
    child: Child,
    addr: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn fleet_with_three_failures(dir: &Path) -> Result<std::path::PathBuf> {
    let demo = ccp_app::demo_dir()?;
    let mut spec =
        ccp_adapters::embedded::fleet_spec::FleetSpec::load(&demo.join("team-fleet.yaml"))?;
    for s in &mut spec.services {
        if s.name == "search-service" {
            s.code = Some("payment-service".into());
        }
    }
    let mut third = ccp_adapters::embedded::fleet_spec::FaultSpec::new(
        "search-service",
        ccp_adapters::embedded::fleet_spec::FaultKind::Code,
    );
    third.start_s = -50.0;
    spec.faults.push(third);
    let path = dir.join("fleet.yaml");
    std::fs::write(&path, serde_yaml::to_string(&spec)?)?;
    Ok(path)
}

fn serve(dir: &Path, config: &str, stdout: Stdio) -> Result<Served> {
    let cfg = dir.join("ccp.yaml");
    std::fs::write(&cfg, config)?;
    let mut child = Command::new(std::env::current_exe()?)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--pace",
            "fast",
            "--auto-approve",
            "--config",
        ])
        .arg(&cfg)
        .env("CCP_STATE_DIR", dir.join("state"))
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .context("starting ccp serve")?;
    let mut err = BufReader::new(child.stderr.take().context("stderr")?);
    let mut line = String::new();
    while !line.contains("listening on") {
        line.clear();
        if err.read_line(&mut line)? == 0 {
            bail!("ccp serve ended before listening");
        }
    }
    // Keep draining stderr so the child never blocks on it.
    std::thread::spawn(move || {
        let mut sink = Vec::new();
        let _ = err.read_to_end(&mut sink);
    });
    let addr = line
        .trim()
        .rsplit("http://")
        .next()
        .unwrap_or("")
        .to_string();
    Ok(Served { child, addr })
}

/// `(incident, seq)` of an event line.
fn key_of(json: &str) -> Option<(String, u64)> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    Some((v["incident"].as_str()?.to_string(), v["seq"].as_u64()?))
}

/// Latencies (µs) of `clients` stream clients over one run of three incidents to their end.
fn stream_run(dir: &Path, config: &str, clients: usize) -> Result<(Vec<f64>, usize, usize)> {
    let mut s = serve(dir, config, Stdio::piped())?;
    let out = s.child.stdout.take().context("stdout")?;
    let printed: Arc<Mutex<HashMap<(String, u64), Instant>>> = Arc::default();
    let (done_tx, done_rx) = channel::<()>();
    {
        let printed = printed.clone();
        std::thread::spawn(move || {
            let mut finished = 0;
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let now = Instant::now();
                if let Some(k) = key_of(&line) {
                    if let Ok(mut p) = printed.lock() {
                        p.insert(k, now);
                    }
                }
                if line.contains("\"type\":\"finished\"") {
                    finished += 1;
                    if finished == 3 {
                        let _ = done_tx.send(());
                    }
                }
            }
        });
    }
    let (seen_tx, seen_rx) = channel::<((String, u64), Instant, usize)>();
    let dropped = Arc::new(Mutex::new(0usize));
    for c in 0..clients {
        let addr = s.addr.clone();
        let tx = seen_tx.clone();
        let dropped = dropped.clone();
        std::thread::spawn(move || {
            let Ok(mut t) = TcpStream::connect(&addr) else {
                return;
            };
            let _ = write!(
                t,
                "GET /api/events HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n"
            );
            for line in BufReader::new(t).lines().map_while(Result::ok) {
                let now = Instant::now();
                if line.starts_with("event: dropped") || line.starts_with("event:dropped") {
                    if let Ok(mut d) = dropped.lock() {
                        *d += 1;
                    }
                    return;
                }
                if let Some(data) = line
                    .strip_prefix("data: ")
                    .or_else(|| line.strip_prefix("data:"))
                {
                    if let Some(k) = key_of(data) {
                        if tx.send((k, now, c)).is_err() {
                            return;
                        }
                    }
                }
            }
        });
    }
    drop(seen_tx);
    if done_rx.recv_timeout(Duration::from_secs(300)).is_err() {
        bail!("the three incidents did not finish within 300 s");
    }
    // Let the last events reach every client.
    std::thread::sleep(Duration::from_millis(500));
    let mut lat = Vec::new();
    let p = printed.lock().map(|p| p.clone()).unwrap_or_default();
    let mut events = 0;
    while let Ok((k, at, _)) = seen_rx.try_recv() {
        if let Some(t0) = p.get(&k) {
            lat.push(at.saturating_duration_since(*t0).as_secs_f64() * 1e6);
        }
        events += 1;
    }
    let d = dropped.lock().map(|d| *d).unwrap_or(0);
    Ok((lat, events, d))
}

/// One keep-alive HTTP/1.1 connection: send a request, read one response (status, body).
struct KeepAlive {
    stream: BufReader<TcpStream>,
    addr: String,
}

impl KeepAlive {
    fn connect(addr: &str) -> Result<Self> {
        let stream = TcpStream::connect(addr).with_context(|| format!("connecting to {addr}"))?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        Ok(Self {
            stream: BufReader::new(stream),
            addr: addr.to_string(),
        })
    }

    fn request(&mut self, method: &str, path: &str, body: &str) -> Result<(u16, String)> {
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            self.addr,
            body.len()
        );
        let w = self.stream.get_mut();
        w.write_all(head.as_bytes())?;
        w.write_all(body.as_bytes())?;
        let mut line = String::new();
        self.stream.read_line(&mut line)?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .with_context(|| format!("no status line: {line:?}"))?;
        let mut length = 0usize;
        loop {
            line.clear();
            self.stream.read_line(&mut line)?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((k, v)) = header.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; length];
        self.stream.read_exact(&mut body)?;
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }
}

/// What an ingest run did, from the sender's side and the server's account.
#[derive(Debug, Clone, serde::Serialize)]
struct Ingest {
    /// Webhook posts answered 200 per second.
    posts_per_s: f64,
    /// Posts sent, and how many were answered 200 and 503.
    posts: u64,
    ok: u64,
    refused: u64,
    /// Alerts carried by every post sent.
    alerts_sent: u64,
    /// The server's `ccp_alertmanager_alerts_total`, summed over results: equal to `alerts_sent`
    /// when nothing was lost.
    alerts_accounted: u64,
    /// `/healthz` latency on its own connection during the load, µs.
    healthz_p50_us: f64,
    healthz_p99_us: f64,
}

/// Sum of a counter family's rows in a Prometheus text exposition.
fn counter_sum(exposition: &str, name: &str) -> u64 {
    exposition
        .lines()
        .filter(|l| l.starts_with(name) && !l.starts_with('#'))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|v| v as u64)
        .sum()
}

/// `clients` keep-alive senders post Alertmanager webhooks for `secs` seconds, as `ab -k` does,
/// but every post fires an alert never seen before (its own fingerprint, services in turn) and
/// resolves the one it fired 64 posts earlier, so the set of firing alerts stays bounded as in
/// a flapping fleet. A separate connection times `/healthz` meanwhile.
fn ingest(addr: &str, services: &[String], clients: usize, secs: f64) -> Result<Ingest> {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    let stop = AtomicBool::new(false);
    let (posts, ok, refused, alerts) = (
        AtomicU64::new(0),
        AtomicU64::new(0),
        AtomicU64::new(0),
        AtomicU64::new(0),
    );
    let alert = |fp: &str, service: &str, status: &str| {
        format!(
            r#"{{"status":"{status}","labels":{{"alertname":"HighLatency","service":"{service}","severity":"warning"}},"annotations":{{"value":"900","threshold":"500"}},"startsAt":"2026-12-07T10:00:00Z","endsAt":"0001-01-01T00:00:00Z","fingerprint":"{fp}"}}"#
        )
    };
    let start = Instant::now();
    let mut health = Vec::new();
    std::thread::scope(|scope| -> Result<()> {
        let mut senders = Vec::new();
        for c in 0..clients {
            let (stop, posts, ok, refused, alerts) = (&stop, &posts, &ok, &refused, &alerts);
            let alert = &alert;
            senders.push(scope.spawn(move || -> Result<()> {
                let mut conn = KeepAlive::connect(addr)?;
                let mut n = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    let service = &services[(c + n) % services.len()];
                    let mut items = vec![alert(&format!("load-{c}-{n}"), service, "firing")];
                    if n >= 64 {
                        let old = &services[(c + n - 64) % services.len()];
                        items.push(alert(&format!("load-{c}-{}", n - 64), old, "resolved"));
                    }
                    let body = format!(
                        r#"{{"version":"4","status":"firing","receiver":"ccp","groupKey":"load","alerts":[{}]}}"#,
                        items.join(",")
                    );
                    let (status, _) = conn.request("POST", "/webhooks/alertmanager", &body)?;
                    posts.fetch_add(1, Ordering::Relaxed);
                    alerts.fetch_add(items.len() as u64, Ordering::Relaxed);
                    match status {
                        200 => ok.fetch_add(1, Ordering::Relaxed),
                        503 => refused.fetch_add(1, Ordering::Relaxed),
                        other => bail!("webhook answered {other}"),
                    };
                    n += 1;
                }
                Ok(())
            }));
        }
        let mut probe = KeepAlive::connect(addr)?;
        while start.elapsed().as_secs_f64() < secs {
            let t = Instant::now();
            let (status, _) = probe.request("GET", "/healthz", "")?;
            if status != 200 {
                bail!("/healthz answered {status} under load");
            }
            health.push(t.elapsed().as_secs_f64() * 1e6);
            std::thread::sleep(Duration::from_millis(5));
        }
        stop.store(true, Ordering::Relaxed);
        for s in senders {
            s.join()
                .map_err(|_| anyhow::anyhow!("a sender panicked"))??;
        }
        Ok(())
    })?;
    let elapsed = start.elapsed().as_secs_f64();
    let (_, metrics) = KeepAlive::connect(addr)?.request("GET", "/metrics", "")?;
    let ok = ok.into_inner();
    Ok(Ingest {
        posts_per_s: ok as f64 / elapsed,
        posts: posts.into_inner(),
        ok,
        refused: refused.into_inner(),
        alerts_sent: alerts.into_inner(),
        alerts_accounted: counter_sum(&metrics, "ccp_alertmanager_alerts_total"),
        healthz_p50_us: pct(&mut health.clone(), 0.5),
        healthz_p99_us: pct(&mut health, 0.99),
    })
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i.min(v.len() - 1)]
}

/// Senders of the ingest runs: `ab -k -c 16`'s concurrency.
const INGEST_CLIENTS: usize = 16;

/// The desk's configuration on the three-failure fleet, and the fleet's service names.
fn desk_config(dir: &Path) -> Result<(String, Vec<String>)> {
    let fleet = fleet_with_three_failures(dir)?;
    let spec = ccp_adapters::embedded::fleet_spec::FleetSpec::load(&fleet)?;
    let services = spec.services.iter().map(|s| s.name.clone()).collect();
    let config = format!(
        "environment: production\nmetrics:\n  fleet: \"{}\"\nlocks:\n  max_concurrent_operations: 3\n",
        fleet.display()
    );
    Ok((config, services))
}

/// Alert ingest against an idle server (detection off: the baseline) and against one running
/// three pipelines, `secs` seconds each, in the same run.
pub(super) fn ingest_pair(secs: f64) -> Result<serde_json::Value> {
    let tmp = tempfile::tempdir()?;
    let (config, services) = desk_config(tmp.path())?;
    let idle_dir = tempfile::tempdir()?;
    let idle = serve(
        idle_dir.path(),
        &format!("{config}detection:\n  enabled: false\n"),
        Stdio::null(),
    )?;
    let idle_run = ingest(&idle.addr, &services, INGEST_CLIENTS, secs)?;
    drop(idle);
    let busy_dir = tempfile::tempdir()?;
    let busy = serve(busy_dir.path(), &config, Stdio::null())?;
    std::thread::sleep(Duration::from_secs(3));
    let running = KeepAlive::connect(&busy.addr)?
        .request("GET", "/api/state", "")
        .map(|(_, body)| body)
        .unwrap_or_default();
    let busy_run = ingest(&busy.addr, &services, INGEST_CLIENTS, secs)?;
    drop(busy);
    Ok(serde_json::json!({
        "clients": INGEST_CLIENTS,
        "seconds": secs,
        "idle": idle_run,
        "three_pipelines": busy_run,
        "pipelines_running_at_start": serde_json::from_str::<serde_json::Value>(&running)
            .ok()
            .and_then(|v| v["running"].as_array().map(Vec::len)),
    }))
}

/// `ccp bench --desk N`.
pub(super) fn bench_desk(clients: usize, json: bool) -> Result<ExitCode> {
    let tmp = tempfile::tempdir()?;
    let (config, _) = desk_config(tmp.path())?;
    let base_dir = tempfile::tempdir()?;
    let (mut one, one_events, _) = stream_run(base_dir.path(), &config, 1)?;
    let many_dir = tempfile::tempdir()?;
    let (mut many, many_events, dropped) = stream_run(many_dir.path(), &config, clients)?;
    let ingest = ingest_pair(3.0)?;

    let r = serde_json::json!({
        "clients": clients,
        "baseline_1_client": {"events": one_events, "p50_us": pct(&mut one, 0.5), "p99_us": pct(&mut one, 0.99), "max_us": pct(&mut one, 1.0)},
        "n_clients": {"events": many_events, "p50_us": pct(&mut many, 0.5), "p99_us": pct(&mut many, 0.99), "max_us": pct(&mut many, 1.0), "dropped_clients": dropped},
        "ingest": ingest,
    });
    if json {
        println!("{}", serde_json::to_string_pretty(&r)?);
        return Ok(ExitCode::SUCCESS);
    }
    let b = &r["baseline_1_client"];
    let m = &r["n_clients"];
    let ratio = |k: &str| m[k].as_f64().unwrap_or(f64::NAN) / b[k].as_f64().unwrap_or(f64::NAN);
    println!("team desk: three incidents at once (fast pace, auto-approved), stream clients over loopback");
    println!(
        "  stream latency, server fan-out → client read:  1 client  p50 {:.0} µs  p99 {:.0} µs  ({} events)",
        b["p50_us"].as_f64().unwrap_or(f64::NAN),
        b["p99_us"].as_f64().unwrap_or(f64::NAN),
        b["events"]
    );
    println!(
        "                                              {clients:>3} clients  p50 {:.0} µs  p99 {:.0} µs  ({} events, {} dropped)  ratio p50 {:.2}, p99 {:.2}",
        m["p50_us"].as_f64().unwrap_or(f64::NAN),
        m["p99_us"].as_f64().unwrap_or(f64::NAN),
        m["events"],
        dropped,
        ratio("p50_us"),
        ratio("p99_us"),
    );
    print_ingest(&r["ingest"]);
    Ok(ExitCode::SUCCESS)
}

/// The ingest lines of a report.
pub(super) fn print_ingest(i: &serde_json::Value) {
    for (label, run) in [
        ("idle server", &i["idle"]),
        ("three pipelines", &i["three_pipelines"]),
    ] {
        println!(
            "  Alertmanager webhooks, {} keep-alive senders, distinct alerts, {label}: {:.0} posts/s ({} ok, {} refused); alerts sent {} = accounted in /metrics {}; /healthz p50 {:.0} µs p99 {:.0} µs",
            i["clients"],
            run["posts_per_s"].as_f64().unwrap_or(f64::NAN),
            run["ok"],
            run["refused"],
            run["alerts_sent"],
            run["alerts_accounted"],
            run["healthz_p50_us"].as_f64().unwrap_or(f64::NAN),
            run["healthz_p99_us"].as_f64().unwrap_or(f64::NAN),
        );
    }
}
