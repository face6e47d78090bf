//! `ccp bench --locks`: what a Redis lock costs, as a ratio to the same server's plain `SET`
//! round trip measured in the same run (by `redis-benchmark -t set -c 1` and by our own
//! connection), plus the wait a contender sees when 8 processes' worth of clients fight for one
//! lock. Ratios, not absolute times, because the machine and the server vary run to run.

use anyhow::{bail, Context, Result};
use ccp_adapters::redis_lock::{RedisLockManager, RedisTimeouts};
use ccp_core::locks::{Resource, Scope};
use ccp_core::ports::LockManager;
use serde::Serialize;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Percentiles of one measured operation, in microseconds.
#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    /// Samples taken.
    pub n: usize,
    /// Median.
    pub p50_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
    /// Mean.
    pub mean_us: f64,
}

impl Latency {
    fn of(mut us: Vec<f64>) -> Self {
        us.sort_by(f64::total_cmp);
        let pct = |p: f64| {
            if us.is_empty() {
                return 0.0;
            }
            let i = ((p * us.len() as f64).ceil() as usize).clamp(1, us.len()) - 1;
            us[i]
        };
        Self {
            n: us.len(),
            p50_us: pct(0.50),
            p99_us: pct(0.99),
            mean_us: us.iter().sum::<f64>() / us.len().max(1) as f64,
        }
    }
}

/// The whole lock benchmark.
#[derive(Debug, Clone, Serialize)]
pub struct LockBench {
    /// Server address (no password).
    pub redis: String,
    /// `redis-benchmark -t set -c 1`'s own p50 and mean, µs (None when the tool is missing).
    pub redis_benchmark_set: Option<Latency>,
    /// A plain `SET` through our connection.
    pub raw_set: Latency,
    /// One uncontended acquire (SET NX PX + INCR fence in one script) plus release (Lua
    /// compare-and-delete).
    pub acquire_release: Latency,
    /// Cycle p50 over redis-benchmark's SET p50 (the target is ≤ 3).
    pub ratio_vs_redis_benchmark: Option<f64>,
    /// Cycle p50 over our raw SET p50.
    pub ratio_vs_raw_set: f64,
    /// Contenders in the contention run.
    pub contenders: usize,
    /// Time from asking for the lock to holding it, under contention.
    pub contended_wait: Latency,
    /// Completed acquire+release cycles per second across all contenders.
    pub contended_cycles_per_s: f64,
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn host_port(url: &str) -> Result<(String, String)> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    let hp = rest.split('/').next().unwrap_or(rest);
    match hp.rsplit_once(':') {
        Some((h, p)) => Ok((h.to_string(), p.to_string())),
        None if !hp.is_empty() => Ok((hp.to_string(), "6379".into())),
        None => bail!("cannot read host and port from {url}"),
    }
}

/// `redis-benchmark -t set -c 1 --csv`: its SET line carries avg and p50 in ms.
fn redis_benchmark(url: &str, n: usize) -> Option<Latency> {
    let (h, p) = host_port(url).ok()?;
    let out = Command::new("redis-benchmark")
        .args(["-h", &h, "-p", &p, "-t", "set", "-c", "1", "--csv"])
        .args(["-n", &n.to_string()])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.starts_with("\"SET\""))?;
    let f: Vec<f64> = line
        .split(',')
        .skip(1)
        .filter_map(|x| x.trim_matches('"').parse().ok())
        .collect();
    // rps, avg, min, p50, p95, p99, max
    (f.len() >= 6).then(|| Latency {
        n,
        p50_us: f[3] * 1000.0,
        p99_us: f[5] * 1000.0,
        mean_us: f[1] * 1000.0,
    })
}

fn unique(name: &str) -> Resource {
    Resource::new(
        Scope::Deployment,
        format!("bench-{name}-{}", std::process::id()),
    )
}

/// Measure against the server at `url`: `n` round trips each, then `contenders` threads (each
/// with its own connection) doing `rounds` cycles on one lock.
pub fn run(url: &str, n: usize, contenders: usize, rounds: usize) -> Result<LockBench> {
    let m = RedisLockManager::new(url, RedisTimeouts::default())?;
    let key = format!("ccp:bench:set:{}", std::process::id());
    // Warm up the connection and the script cache.
    for _ in 0..200 {
        m.raw_set_roundtrip(&key)?;
    }
    let r = unique("solo");
    for _ in 0..200 {
        let l = m.acquire(&r, "bench", &[], 10_000, 0)?;
        m.release(&l)?;
    }
    let mut raw = Vec::with_capacity(n);
    let mut cyc = Vec::with_capacity(n);
    // Interleave so drift in the machine's load hits both series alike.
    for _ in 0..n {
        let t = Instant::now();
        m.raw_set_roundtrip(&key)?;
        raw.push(us(t.elapsed()));
        let t = Instant::now();
        let l = m.acquire(&r, "bench", &[], 10_000, 0)?;
        m.release(&l)?;
        cyc.push(us(t.elapsed()));
    }
    let rb = redis_benchmark(url, n.max(1000));
    let (raw_set, acquire_release) = (Latency::of(raw), Latency::of(cyc));
    let contended = Arc::new(unique("contended"));
    let started = Instant::now();
    let workers: Vec<_> = (0..contenders)
        .map(|i| {
            let (url, r) = (url.to_string(), contended.clone());
            std::thread::spawn(move || -> Result<Vec<f64>> {
                let m = RedisLockManager::new(&url, RedisTimeouts::default())?;
                let mut waits = Vec::with_capacity(rounds);
                for _ in 0..rounds {
                    let t = Instant::now();
                    let l = m
                        .acquire(&r, &format!("c{i}"), &[], 10_000, 60_000)
                        .context("contended acquire")?;
                    waits.push(us(t.elapsed()));
                    m.release(&l)?;
                }
                Ok(waits)
            })
        })
        .collect();
    let mut waits = Vec::new();
    for w in workers {
        match w.join() {
            Ok(r) => waits.extend(r?),
            Err(_) => bail!("a contender thread panicked"),
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cycles = waits.len();
    Ok(LockBench {
        redis: m.url().to_string(),
        ratio_vs_redis_benchmark: rb
            .as_ref()
            .map(|b| acquire_release.p50_us / b.p50_us.max(1e-9)),
        ratio_vs_raw_set: acquire_release.p50_us / raw_set.p50_us.max(1e-9),
        redis_benchmark_set: rb,
        raw_set,
        acquire_release,
        contenders,
        contended_wait: Latency::of(waits),
        contended_cycles_per_s: cycles as f64 / elapsed.max(1e-9),
    })
}

/// The human-readable report.
pub fn render(b: &LockBench) -> String {
    let row = |name: &str, l: &Latency| {
        format!(
            "  {name:<34} p50 {:>8.1} µs  p99 {:>8.1} µs  mean {:>8.1} µs  (n={})\n",
            l.p50_us, l.p99_us, l.mean_us, l.n
        )
    };
    let mut s = format!("Redis lock benchmark against {}\n", b.redis);
    match &b.redis_benchmark_set {
        Some(l) => s.push_str(&row("redis-benchmark -t set -c 1", l)),
        None => s.push_str("  redis-benchmark not found: no external baseline\n"),
    }
    s.push_str(&row("SET through our connection", &b.raw_set));
    s.push_str(&row("acquire + release", &b.acquire_release));
    if let Some(r) = b.ratio_vs_redis_benchmark {
        s.push_str(&format!(
            "  cycle / redis-benchmark SET (p50): {r:.2}×  (target ≤ 3×)\n"
        ));
    }
    s.push_str(&format!(
        "  cycle / our SET (p50): {:.2}×\n",
        b.ratio_vs_raw_set
    ));
    s.push_str(&row(
        &format!("lock wait, {} contenders", b.contenders),
        &b.contended_wait,
    ));
    s.push_str(&format!(
        "  contended throughput: {:.0} cycles/s\n",
        b.contended_cycles_per_s
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let l = Latency::of((1..=100).map(f64::from).collect());
        assert_eq!((l.p50_us, l.p99_us, l.n), (50.0, 99.0, 100));
        assert!((l.mean_us - 50.5).abs() < 1e-9);
    }

    #[test]
    fn host_and_port_come_from_the_url() {
        assert_eq!(
            host_port("redis://:pw@127.0.0.1:6380/0").expect("ok"),
            ("127.0.0.1".into(), "6380".into())
        );
        assert_eq!(
            host_port("redis://localhost").expect("ok"),
            ("localhost".into(), "6379".into())
        );
    }
}
