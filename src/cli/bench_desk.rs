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

/// Alertmanager webhooks accepted per second over `secs` seconds.
fn ingest_rate(addr: &str, secs: f64) -> f64 {
    let start = Instant::now();
    let mut ok = 0u64;
    let mut n = 0u64;
    while start.elapsed().as_secs_f64() < secs {
        n += 1;
        let body = format!(
            r#"{{"version":"4","status":"firing","receiver":"ccp","alerts":[{{"status":"firing","labels":{{"alertname":"HighLatency","service":"payment-service","severity":"warning"}},"annotations":{{"value":"900","threshold":"500"}},"startsAt":"2026-12-07T10:00:00Z","endsAt":"0001-01-01T00:00:00Z","fingerprint":"bench-{n}"}}]}}"#
        );
        let Ok(mut t) = TcpStream::connect(addr) else {
            continue;
        };
        let _ = write!(
            t,
            "POST /webhooks/alertmanager HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let mut reply = String::new();
        let _ = t.read_to_string(&mut reply);
        if reply.starts_with("HTTP/1.1 200") {
            ok += 1;
        }
    }
    ok as f64 / start.elapsed().as_secs_f64()
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i.min(v.len() - 1)]
}

/// `ccp bench --desk N`.
pub(super) fn bench_desk(clients: usize, json: bool) -> Result<ExitCode> {
    let tmp = tempfile::tempdir()?;
    let fleet = fleet_with_three_failures(tmp.path())?;
    let config = format!(
        "environment: production\nmetrics:\n  fleet: \"{}\"\nlocks:\n  max_concurrent_operations: 3\n",
        fleet.display()
    );
    let base_dir = tempfile::tempdir()?;
    let (mut one, one_events, _) = stream_run(base_dir.path(), &config, 1)?;
    let many_dir = tempfile::tempdir()?;
    let (mut many, many_events, dropped) = stream_run(many_dir.path(), &config, clients)?;

    // Ingest: idle server (detection off, no incident) vs three pipelines running.
    let idle_dir = tempfile::tempdir()?;
    let idle = serve(
        idle_dir.path(),
        "detection:\n  enabled: false\n",
        Stdio::null(),
    )?;
    let idle_rate = ingest_rate(&idle.addr, 3.0);
    drop(idle);
    let busy_dir = tempfile::tempdir()?;
    let busy = serve(busy_dir.path(), &config, Stdio::null())?;
    std::thread::sleep(Duration::from_secs(3));
    let busy_rate = ingest_rate(&busy.addr, 3.0);
    drop(busy);

    let r = serde_json::json!({
        "clients": clients,
        "baseline_1_client": {"events": one_events, "p50_us": pct(&mut one, 0.5), "p99_us": pct(&mut one, 0.99), "max_us": pct(&mut one, 1.0)},
        "n_clients": {"events": many_events, "p50_us": pct(&mut many, 0.5), "p99_us": pct(&mut many, 0.99), "max_us": pct(&mut many, 1.0), "dropped_clients": dropped},
        "ingest_per_s": {"idle": idle_rate, "three_pipelines": busy_rate},
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
    println!(
        "  Alertmanager webhooks accepted: idle {idle_rate:.0}/s, with three pipelines running {busy_rate:.0}/s (ratio {:.2})",
        busy_rate / idle_rate
    );
    Ok(ExitCode::SUCCESS)
}
