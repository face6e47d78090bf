//! `ccp bench --all`: every end-to-end figure a user would time, in one table, each beside the
//! tool they would otherwise run, measured in the same run on the same input.
//!
//! Whole processes are timed (start to exit, best of three) where a user runs a whole process:
//! `ccp judge` against SciPy, `ccp audit verify` against `sha256sum`, `ccp inject --all` alone.
//! Benchmarks report; nothing here fails because a target is missed.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

/// One row of the table.
#[derive(Debug, Clone, serde::Serialize)]
struct Row {
    what: String,
    ours: String,
    peer: String,
    /// Peer time / our time (or our figure / the peer's where higher is better); `None` when no
    /// peer ran.
    ratio: Option<f64>,
    target: String,
    met: Option<bool>,
}

/// Best of `n` wall-clock runs of `cmd` (stdout and stderr discarded); fails if a run fails.
fn best_of(n: usize, mut make: impl FnMut() -> Result<Command>) -> Result<Duration> {
    let mut best = Duration::MAX;
    for _ in 0..n {
        let mut cmd = make()?;
        let t = Instant::now();
        let status = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .with_context(|| format!("starting {cmd:?}"))?;
        let took = t.elapsed();
        anyhow::ensure!(
            status.success() || status.code() == Some(1),
            "{cmd:?} exited {status}"
        );
        best = best.min(took);
    }
    Ok(best)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn ccp() -> Result<Command> {
    Ok(Command::new(std::env::current_exe()?))
}

/// A Python with SciPy: `$CCP_BENCH_PYTHON`, the test venv `tests/run.sh` makes, or `python3`.
fn scipy_python() -> Option<String> {
    let candidates = [
        std::env::var("CCP_BENCH_PYTHON").ok(),
        Some("target/test-venv/bin/python".to_string()).filter(|p| Path::new(p).exists()),
        Some("python3".to_string()),
    ];
    candidates.into_iter().flatten().find(|p| {
        Command::new(p)
            .args(["-c", "import scipy.stats"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// What a user writes to judge two sample files with SciPy: both tests, as `ccp judge` runs.
const SCIPY_JUDGE: &str = "import json, sys\n\
from scipy import stats\n\
b = json.load(open(sys.argv[1]))['metrics']['latency_ms']\n\
c = json.load(open(sys.argv[2]))['metrics']['latency_ms']\n\
mw = stats.mannwhitneyu(c, b, alternative='two-sided')\n\
w = stats.ttest_ind(c, b, equal_var=False)\n\
print(json.dumps({'p': float(mw.pvalue), 'welch_p': float(w.pvalue)}))\n";

/// Two latency samples of `n` values a side (log-normal, the canary 2 % slower), as judge files.
fn judge_files(dir: &Path, n: usize) -> Result<(PathBuf, PathBuf)> {
    let mut rng = ccp_core::stats::Rng::new(21);
    let mut write = |name: &str, mu: f64| -> Result<PathBuf> {
        let xs: Vec<f64> = (0..n)
            .map(|_| (rng.normal(mu, 0.3).exp() * 1000.0).round() / 1000.0)
            .collect();
        let path = dir.join(name);
        std::fs::write(
            &path,
            serde_json::to_string(&serde_json::json!({"metrics": {"latency_ms": xs}}))?,
        )?;
        Ok(path)
    };
    Ok((write("baseline.json", 4.6)?, write("canary.json", 4.62)?))
}

fn judge_row(dir: &Path) -> Result<Row> {
    let (b, c) = judge_files(dir, 100_000)?;
    let state = dir.join("judge-state");
    let ours = best_of(3, || {
        let mut cmd = ccp()?;
        cmd.args(["judge", "--baseline"])
            .arg(&b)
            .arg("--canary")
            .arg(&c)
            .arg("--state-dir")
            .arg(&state);
        Ok(cmd)
    })?;
    let verdict = ccp()?
        .args(["judge", "--json", "--baseline"])
        .arg(&b)
        .arg("--canary")
        .arg(&c)
        .arg("--state-dir")
        .arg(&state)
        .output()?;
    let ours_p = serde_json::from_slice::<serde_json::Value>(&verdict.stdout)
        .ok()
        .and_then(|v| v["metrics"][0]["p_value"].as_f64());
    let Some(python) = scipy_python() else {
        return Ok(Row {
            what: "`ccp judge`, 2×100 k latencies".into(),
            ours: format!("{:.0} ms", ms(ours)),
            peer: "SciPy not found (set CCP_BENCH_PYTHON)".into(),
            ratio: None,
            target: "≥ 10× SciPy".into(),
            met: None,
        });
    };
    let peer = best_of(3, || {
        let mut cmd = Command::new(&python);
        cmd.args(["-c", SCIPY_JUDGE]).arg(&b).arg(&c);
        Ok(cmd)
    })?;
    let scipy_p = Command::new(&python)
        .args(["-c", SCIPY_JUDGE])
        .arg(&b)
        .arg(&c)
        .output()
        .ok()
        .and_then(|o| serde_json::from_slice::<serde_json::Value>(&o.stdout).ok())
        .and_then(|v| v["p"].as_f64());
    let same = match (ours_p, scipy_p) {
        (Some(a), Some(b)) => format!(", p {a:.3e} vs {b:.3e}"),
        _ => String::new(),
    };
    let ratio = ms(peer) / ms(ours);
    Ok(Row {
        what: "`ccp judge`, 2×100 k latencies (whole process)".into(),
        ours: format!("{:.0} ms{same}", ms(ours)),
        peer: format!("SciPy mannwhitneyu + ttest_ind: {:.0} ms", ms(peer)),
        ratio: Some(ratio),
        target: "≥ 10× SciPy".into(),
        met: Some(ratio >= 10.0),
    })
}

/// An audit log of `records` records cycling through a demo run's real ones, every hash genuine.
fn audit_log(dir: &Path, records: u64) -> Result<PathBuf> {
    let state = dir.join("demo-state");
    let status = ccp()?
        .args([
            "demo",
            "--headless",
            "--json",
            "--pace",
            "instant",
            "--auto-approve",
        ])
        .env("CCP_STATE_DIR", &state)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()?;
    anyhow::ensure!(status.success(), "the demo run for the audit log failed");
    let templates = ccp_audit::read_records(&state.join("audit.jsonl"))?;
    anyhow::ensure!(!templates.is_empty(), "the demo wrote no audit records");
    let path = dir.join("audit.jsonl");
    let mut log = ccp_audit::FileAuditLog::open(&path, false)?;
    for i in 0..records {
        let r = &templates[(i % templates.len() as u64) as usize];
        log.append(&r.ts, &r.actor, &r.kind, r.data.clone())?;
    }
    Ok(path)
}

fn audit_row(dir: &Path) -> Result<Row> {
    let records = 300_000;
    let log = audit_log(dir, records)?;
    let size = std::fs::metadata(&log)?.len() as f64 / (1 << 20) as f64;
    let ours = best_of(3, || {
        let mut cmd = ccp()?;
        cmd.args(["audit", "verify"]).arg(&log);
        Ok(cmd)
    })?;
    let peer = best_of(3, || {
        let mut cmd = Command::new("sha256sum");
        cmd.arg(&log);
        Ok(cmd)
    });
    let what = format!("`ccp audit verify`, {records} records, {size:.0} MiB");
    Ok(match peer {
        Ok(peer) => {
            let ratio = ms(peer) / ms(ours);
            Row {
                what,
                ours: format!("{:.0} ms", ms(ours)),
                peer: format!("sha256sum: {:.0} ms", ms(peer)),
                ratio: Some(ratio),
                target: "≥ 0.5× sha256sum".into(),
                met: Some(ratio >= 0.5),
            }
        }
        Err(e) => Row {
            what,
            ours: format!("{:.0} ms", ms(ours)),
            peer: format!("sha256sum did not run: {e}"),
            ratio: None,
            target: "≥ 0.5× sha256sum".into(),
            met: None,
        },
    })
}

fn inject_row(dir: &Path) -> Result<Row> {
    let state = dir.join("inject-state");
    let t = Instant::now();
    let out = ccp()?
        .args(["inject", "--all", "--json"])
        .env("CCP_STATE_DIR", &state)
        .stderr(Stdio::null())
        .output()?;
    let took = t.elapsed();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    Ok(Row {
        what: format!(
            "`ccp inject --all` ({} scenarios, {} as expected)",
            doc["total"], doc["passed"]
        ),
        ours: format!("{:.1} s", took.as_secs_f64()),
        peer: "—".into(),
        ratio: None,
        target: "≤ 10 s".into(),
        met: Some(took.as_secs_f64() <= 10.0 && doc["passed"] == doc["total"]),
    })
}

fn render_rows() -> Result<Vec<Row>> {
    let sizes = ccp_bench::render(500)?;
    let mut rows = Vec::new();
    for s in sizes {
        match s.size.as_str() {
            "200x60" => rows.push(Row {
                what: "cockpit live frame at 200×60 (one new event each)".into(),
                ours: format!("{:.0} µs", s.cockpit_us_median),
                peer: format!("full-screen Paragraph: {:.0} µs", s.baseline_us_median),
                ratio: Some(s.ratio),
                target: "≤ 1.10× the Paragraph".into(),
                met: Some(s.ratio <= 1.10),
            }),
            "120x34" => rows.push(Row {
                what: "cockpit live frame at 120×34".into(),
                ours: format!("{:.0} µs", s.cockpit_us_median),
                peer: format!("full-screen Paragraph: {:.0} µs", s.baseline_us_median),
                ratio: Some(s.ratio),
                target: "≤ 500 µs".into(),
                met: Some(s.cockpit_us_median <= 500.0),
            }),
            _ => {}
        }
    }
    Ok(rows)
}

fn ingest_rows() -> Result<Vec<Row>> {
    let i = super::bench_desk::ingest_pair(5.0)?;
    let busy = &i["three_pipelines"];
    let idle = &i["idle"];
    let rate = busy["posts_per_s"].as_f64().unwrap_or(0.0);
    let idle_rate = idle["posts_per_s"].as_f64().unwrap_or(0.0);
    let accounted = busy["alerts_sent"] == busy["alerts_accounted"];
    Ok(vec![
        Row {
            what:
                "Alertmanager webhooks, distinct alerts, 16 keep-alive senders, 3 pipelines running"
                    .into(),
            ours: format!(
                "{rate:.0}/s, {} of {} alerts in /metrics",
                busy["alerts_accounted"], busy["alerts_sent"]
            ),
            peer: format!("same server idle: {idle_rate:.0}/s"),
            ratio: Some(rate / idle_rate.max(1.0)),
            target: "≥ 10 000/s, every alert accounted".into(),
            met: Some(rate >= 10_000.0 && accounted),
        },
        Row {
            what: "/healthz under that load".into(),
            ours: format!(
                "p99 {:.1} ms (p50 {:.1})",
                busy["healthz_p99_us"].as_f64().unwrap_or(f64::NAN) / 1e3,
                busy["healthz_p50_us"].as_f64().unwrap_or(f64::NAN) / 1e3
            ),
            peer: format!(
                "idle server under the same load: p99 {:.1} ms",
                idle["healthz_p99_us"].as_f64().unwrap_or(f64::NAN) / 1e3
            ),
            ratio: None,
            target: "reported".into(),
            met: None,
        },
    ])
}

fn decision_row() -> Result<Row> {
    let r = ccp_bench::run(3)?;
    Ok(Row {
        what: "alert → decision compute (opened → gates passed, less the probe/tests/linters)"
            .into(),
        ours: format!("{:.1} ms", r.decision_compute_ms_median),
        peer: format!(
            "one `python3 -m unittest` of the service: {:.0} ms",
            r.baseline_ms_median
        ),
        ratio: None,
        target: "≤ 50 ms".into(),
        met: Some(r.decision_compute_ms_median <= 50.0),
    })
}

/// `ccp bench --all`.
pub(super) fn bench_all(json: bool) -> Result<ExitCode> {
    let tmp = tempfile::tempdir()?;
    let mut rows = vec![
        judge_row(tmp.path())?,
        audit_row(tmp.path())?,
        inject_row(tmp.path())?,
    ];
    rows.extend(render_rows()?);
    rows.extend(ingest_rows()?);
    rows.push(decision_row()?);
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("| what a user runs | ccp | peer, same run | ratio | target | met |");
    println!("|---|---|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            r.what,
            r.ours,
            r.peer,
            r.ratio.map_or("—".into(), |x| format!("{x:.2}×")),
            r.target,
            match r.met {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "—",
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}
