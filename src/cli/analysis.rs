//! `ccp rca` and `ccp judge`: the pipeline's analyses on files, for replaying a decision.

use anyhow::Result;
use std::path::Path;
use std::process::ExitCode;

use super::{load_config, read_input};

pub(super) fn rca(input: &Path, top: usize, json: bool) -> Result<ExitCode> {
    let text = read_input(input)?;
    let bundle: ccp_core::rca::RcaBundle = match serde_json::from_str(&text) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{}:{}:{}: {e}", input.display(), e.line(), e.column());
            return Ok(ExitCode::from(2));
        }
    };
    let mut result = ccp_core::rca::rank(&bundle);
    result.candidates.truncate(top);
    if json {
        println!("{}", serde_json::json!({ "candidates": result.candidates }));
    } else {
        for c in &result.candidates {
            println!(
                "{:>4.0}%  {}{}",
                c.confidence * 100.0,
                c.service,
                c.commit
                    .as_deref()
                    .map(|x| format!(" @ {x}"))
                    .unwrap_or_default()
            );
            for e in &c.evidence {
                println!("        - {e}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn judge(
    baseline: &Path,
    canary: &Path,
    json: bool,
    config: Option<&Path>,
) -> Result<ExitCode> {
    use ccp_core::stats::{files::SampleFile, judge::Verdict};
    // The pipeline's thresholds (`verification:`), so a verdict reproduced by hand is the
    // verdict the pipeline would give.
    let cfg = match load_config(config) {
        Ok(c) => ccp_app::settings_from(&c, 0).judge,
        Err(code) => return Ok(code),
    };
    let load = |p: &Path| -> Result<Result<SampleFile, String>> {
        let text = read_input(p)?;
        Ok(serde_json::from_str(&text)
            .map_err(|e| format!("{}:{}:{}: {e}", p.display(), e.line(), e.column())))
    };
    let (b, c) = match (load(baseline)?, load(canary)?) {
        (Ok(b), Ok(c)) => (b, c),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(2));
        }
    };
    let j = match ccp_core::stats::files::judge_files(&b, &c, &cfg) {
        Ok(j) => j,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(2));
        }
    };
    if json {
        println!("{}", serde_json::to_string(&j)?);
    } else {
        println!(
            "verdict: {:?} (score {:.0}) — {}",
            j.verdict, j.score, j.reason
        );
        for m in &j.metrics {
            let class = serde_json::to_value(m.classification)?;
            println!(
                "  {:<20} {:?} ({}): {}",
                m.name,
                m.verdict,
                class.as_str().unwrap_or_default(),
                m.reason
            );
        }
    }
    Ok(ExitCode::from(match j.verdict {
        Verdict::Pass => 0,
        Verdict::Fail => 1,
        Verdict::Inconclusive => 3,
    }))
}
