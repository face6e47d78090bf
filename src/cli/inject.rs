//! `ccp scenarios` and `ccp inject`: the command-line faces of the failure matrix. Output goes to
//! the writer given, so tests drive them in-process too.

use anyhow::{Context, Result};
use ccp_config::Config;
use ccp_drills::{self as scenarios, InjectEnv, Scenario, ScenarioResult};
use std::io::Write;

/// Seed of the fleet noise for `ccp inject` unless `--seed` says otherwise: the matrix is
/// asserted on it, so a red row always reproduces.
pub const DEFAULT_SEED: u64 = 42;

/// `ccp scenarios [--json]`.
pub fn list(json: bool, out: &mut dyn Write) -> Result<()> {
    let infos: Vec<_> = scenarios::all().iter().map(|s| s.info()).collect();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&infos)?)?;
        return Ok(());
    }
    let width = infos.iter().map(|i| i.name.len()).max().unwrap_or(0);
    for i in &infos {
        writeln!(out, "{:width$}  {:15}  {}", i.name, i.expected, i.seed_row)?;
        writeln!(out, "{:width$}  {:15}  → {}", "", "", i.expect)?;
    }
    Ok(())
}

/// `ccp inject (--all | --scenario NAME) [--json]`: runs, prints, and returns whether every row
/// passed. An unknown name is an error naming the known ones.
pub fn inject(
    names: &[String],
    cfg: &Config,
    seed: u64,
    json: bool,
    out: &mut dyn Write,
) -> Result<bool> {
    let all = scenarios::all();
    let chosen: Vec<_> = if names.is_empty() {
        all.iter().collect()
    } else {
        let mut v = Vec::new();
        for n in names {
            let s = all.iter().find(|s| s.name == n).with_context(|| {
                format!(
                    "unknown scenario `{n}`; known: {}",
                    scenarios::names().join(", ")
                )
            })?;
            v.push(s);
        }
        v
    };
    let env = InjectEnv {
        config: cfg.clone(),
        seed,
    };
    let results = run_concurrently(
        &chosen,
        &env,
        |r| if json { Ok(()) } else { print_row(r, out) },
    )?;
    let passed = results.iter().filter(|r| r.pass).count();
    if json {
        let doc = serde_json::json!({
            "seed": seed,
            "passed": passed,
            "total": results.len(),
            "scenarios": results,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
    } else {
        writeln!(
            out,
            "\n{passed}/{} scenarios behaved as expected",
            results.len()
        )?;
    }
    Ok(passed == results.len())
}

/// Runs the scenarios on as many threads as there are cores and hands each result to `report`
/// in the scenarios' order, as soon as it and every one before it are done.
///
/// Why this is safe: every scenario builds its own world (fleet, ports, state directory,
/// seeded noise) and shares nothing with another, so the results are those of a serial run; the
/// order of the rows is kept so that output is the same too.
fn run_concurrently(
    chosen: &[&Scenario],
    env: &InjectEnv,
    mut report: impl FnMut(&ScenarioResult) -> Result<()>,
) -> Result<Vec<ScenarioResult>> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, chosen.len().max(1));
    let next = AtomicUsize::new(0);
    let (tx, rx) = std::sync::mpsc::channel();
    let mut slots: Vec<Option<ScenarioResult>> = chosen.iter().map(|_| None).collect();
    std::thread::scope(|scope| -> Result<()> {
        for _ in 0..workers {
            let tx = tx.clone();
            let next = &next;
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(s) = chosen.get(i) else { break };
                tracing::info!(scenario = s.name, "injecting");
                if tx.send((i, s.run(env))).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        let mut reported = 0;
        for (i, r) in rx {
            slots[i] = Some(r);
            while let Some(Some(r)) = slots.get(reported) {
                report(r)?;
                reported += 1;
            }
        }
        Ok(())
    })?;
    Ok(slots.into_iter().flatten().collect())
}

/// `ccp inject --chaos --duration S`: random failures for S seconds, then the KPIs. True when
/// every run ended as its scenario expects.
pub fn chaos(
    cfg: &Config,
    seed: u64,
    duration_s: u64,
    json: bool,
    out: &mut dyn Write,
) -> Result<bool> {
    let env = InjectEnv {
        config: cfg.clone(),
        seed,
    };
    let r = scenarios::chaos::run(&env, std::time::Duration::from_secs(duration_s));
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&r)?)?;
        return Ok(r.unexpected.is_empty());
    }
    let k = &r.kpis;
    let opt = |v: Option<f64>| v.map(|x| format!("{x:.1}")).unwrap_or_else(|| "-".into());
    writeln!(
        out,
        "chaos: {} runs in {} s (seed {})",
        r.runs, r.duration_s, r.seed
    )?;
    for (name, n) in &r.by_scenario {
        writeln!(out, "  {n:3} × {name}")?;
    }
    let outcomes: Vec<String> = k.outcomes.iter().map(|(o, n)| format!("{o} {n}")).collect();
    writeln!(out, "outcomes            {}", outcomes.join(", "))?;
    writeln!(
        out,
        "MTTR (resolved)     mean {} s, p50 {} s, p95 {} s (pipeline time)",
        opt(k.mttr_s_mean),
        opt(k.mttr_s_p50),
        opt(k.mttr_s_p95)
    )?;
    writeln!(out, "auto-heal rate      {:.0} %", k.auto_heal_rate * 100.0)?;
    writeln!(
        out,
        "rollbacks           {} ({} false: the fix was good)",
        k.rollbacks, k.false_rollbacks
    )?;
    writeln!(out, "human interventions {}", k.human_interventions)?;
    writeln!(
        out,
        "lock wait           mean {} ms, max {} ms",
        opt(k.lock_wait_ms_mean),
        k.lock_wait_ms_max
            .map(|m| m.to_string())
            .unwrap_or_else(|| "-".into())
    )?;
    for u in &r.unexpected {
        writeln!(
            out,
            "UNEXPECTED {} (seed {}): expected {}, got {}",
            u.scenario, u.seed, u.expected, u.observed
        )?;
    }
    Ok(r.unexpected.is_empty())
}

fn print_row(r: &ScenarioResult, out: &mut dyn Write) -> Result<()> {
    let mark = if r.pass { "PASS" } else { "FAIL" };
    writeln!(
        out,
        "{mark}  {:26} expected {:15} observed {}",
        r.name,
        r.expected,
        r.observed.as_deref().unwrap_or("(did not run)")
    )?;
    if !r.pass {
        writeln!(out, "      {}", r.reason)?;
    }
    for c in r.checks.iter().filter(|c| !c.ok || !r.pass) {
        writeln!(out, "      [{}] {}", if c.ok { "ok" } else { "x " }, c.what)?;
    }
    Ok(())
}
