//! `ccp bench`: measure the headless instant demo — total wall time and compute time per pipeline
//! stage — against a baseline measured in the same run on the same machine: the external work the
//! pipeline cannot avoid (one `python3 -m unittest` of the demo service). Ratios to that baseline
//! travel between machines better than milliseconds do.

pub mod locks;
pub mod rca;
mod rca_legacy;

use crate::adapters::embedded::paced_clock::Pace;
use crate::adapters::python_checks;
use crate::app::{self, demo_dir, DemoOptions};
use crate::config::Config;
use crate::core::domain::Outcome;
use crate::frontends::headless::{self, ApprovalMode, Format};
use anyhow::{Context, Result};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Results of a benchmark session.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// Runs measured.
    pub runs: usize,
    /// Median wall time of a whole headless instant run (process-internal: start → finished).
    pub total_ms_median: f64,
    /// Min and max of the same.
    pub total_ms_range: (f64, f64),
    /// Median compute time per state, ms (time spent in the state before leaving it).
    pub stage_ms_median: BTreeMap<String, f64>,
    /// Median of the baseline: one unit-test run of the demo service.
    pub baseline_ms_median: f64,
    /// total / baseline.
    pub ratio_total_to_baseline: f64,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Run the benchmark: `runs` demo runs interleaved with `runs` baseline runs.
pub fn run(runs: usize) -> Result<BenchReport> {
    let state = tempfile::tempdir().context("temporary state directory")?;
    let service = demo_dir()?.join("payment-service");
    let mut totals = Vec::new();
    let mut baselines = Vec::new();
    let mut stages: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for i in 0..runs.max(1) {
        let t = Instant::now();
        let outcome = python_checks::run_unit_tests(&service, Duration::from_secs(120));
        baselines.push(ms(t.elapsed()));
        anyhow::ensure!(
            outcome.tests_run.is_some(),
            "baseline could not run the unit tests: {}",
            outcome.summary
        );
        let opts = DemoOptions {
            seed: Some(i as u64 + 1),
            pace: Pace::Instant,
            inject_failure: None,
            state_dir: state.path().to_path_buf(),
            config: Config::default(),
        };
        let t = Instant::now();
        let handle = app::start_demo(&opts)?;
        let (outcome, report) = headless::run(
            handle,
            Format::Json,
            ApprovalMode::AutoApprove,
            &mut std::io::sink(),
        )?;
        totals.push(ms(t.elapsed()));
        anyhow::ensure!(
            outcome == Outcome::Resolved,
            "benchmark run {i} ended {}",
            outcome.as_str()
        );
        let mut per_state: BTreeMap<String, f64> = BTreeMap::new();
        for (state, d) in report.stage_wall {
            *per_state.entry(state.as_str().to_string()).or_default() += ms(d);
        }
        for (k, v) in per_state {
            stages.entry(k).or_default().push(v);
        }
    }
    let total = median(totals.clone());
    let base = median(baselines);
    Ok(BenchReport {
        runs: totals.len(),
        total_ms_median: total,
        total_ms_range: (
            totals.iter().copied().fold(f64::INFINITY, f64::min),
            totals.iter().copied().fold(0.0, f64::max),
        ),
        stage_ms_median: stages.into_iter().map(|(k, v)| (k, median(v))).collect(),
        baseline_ms_median: base,
        ratio_total_to_baseline: if base > 0.0 { total / base } else { 0.0 },
    })
}

/// Frame-render timings at one terminal size.
#[derive(Debug, Clone, Serialize)]
pub struct RenderSize {
    /// Columns × rows.
    pub size: String,
    /// Median µs to draw one cockpit frame (all panes, final state of a resolved run).
    pub cockpit_us_median: f64,
    /// Median µs to draw the same size filled with one plain paragraph: the floor every frame pays.
    pub baseline_us_median: f64,
    /// cockpit / baseline.
    pub ratio: f64,
    /// Median µs spent inside the cockpit's `draw` only (what our code costs, without ratatui's
    /// buffer reset, diff and backend write that every frame of any app pays).
    pub draw_only_us_median: f64,
}

/// Time the cockpit's `draw` into a `TestBackend` at 200×60 and 80×24 against a plain
/// full-screen paragraph of the same size, measured in the same run.
pub fn render(frames: usize) -> Result<Vec<RenderSize>> {
    use crate::tui::draw::{draw, DrawCache};
    use crate::tui::theme::Theme;
    use crate::tui::ui_state::UiState;
    use crate::tui::view_model::ViewModel;
    use ratatui::backend::TestBackend;
    use ratatui::widgets::Paragraph;
    use ratatui::Terminal;

    let state = tempfile::tempdir().context("temporary state directory")?;
    let opts = DemoOptions {
        seed: Some(1),
        pace: Pace::Instant,
        inject_failure: None,
        state_dir: state.path().to_path_buf(),
        config: Config::default(),
    };
    let events = app::collect_events(&opts, |_| {
        Some(crate::core::events::Command::Approve {
            actor: "bench".into(),
            comment: String::new(),
        })
    })?;
    let mut vm = ViewModel::default();
    events.iter().for_each(|e| vm.apply(e));
    let ui = UiState::new(vec![Theme::default_dark()], "instant", "bench");
    let cache = DrawCache::new();
    let mut out = Vec::new();
    for (w, h) in [(200u16, 60u16), (80, 24)] {
        // Every cell written once, no wrapping: the floor of filling this screen.
        let text = vec!["x".repeat(usize::from(w)); usize::from(h)].join("\n");
        let mut term = Terminal::new(TestBackend::new(w, h))?;
        // Warm the diff highlight cache: steady-state frames reuse it.
        term.draw(|f| draw(f, &vm, &ui, &cache))?;
        let mut cockpit = Vec::with_capacity(frames);
        let mut base = Vec::with_capacity(frames);
        let mut inner = Vec::with_capacity(frames);
        for _ in 0..frames.max(1) {
            let t = Instant::now();
            term.draw(|f| f.render_widget(Paragraph::new(text.as_str()), f.area()))?;
            base.push(t.elapsed().as_secs_f64() * 1e6);
            let t = Instant::now();
            term.draw(|f| {
                let d = Instant::now();
                draw(f, &vm, &ui, &cache);
                inner.push(d.elapsed().as_secs_f64() * 1e6);
            })?;
            cockpit.push(t.elapsed().as_secs_f64() * 1e6);
        }
        let (c, b) = (median(cockpit), median(base));
        out.push(RenderSize {
            size: format!("{w}x{h}"),
            cockpit_us_median: c,
            baseline_us_median: b,
            ratio: if b > 0.0 { c / b } else { 0.0 },
            draw_only_us_median: median(inner),
        });
    }
    Ok(out)
}

/// One cell of the A/A and A/B study: how often the pipeline's canary judge fails, passes or
/// shrugs for a given traffic split, base error rate and injected effect.
#[derive(Debug, Clone, Serialize)]
pub struct StudyRow {
    /// Share of traffic on the canary, percent.
    pub canary_pct: u8,
    /// Baseline error rate.
    pub base_error_rate: f64,
    /// What the canary does differently: `A/A`, `errors ×1.5`, `errors ×2`, `p99 ×1.5`.
    pub effect: String,
    /// Seconds of traffic the step was judged on.
    pub window_s: usize,
    /// Trials run.
    pub trials: usize,
    /// Fraction judged Fail (a rollback). On A/A rows this is the false-rollback rate.
    pub fail: f64,
    /// Fraction judged Inconclusive (a human is asked).
    pub inconclusive: f64,
}

/// Per-second traffic of a payment-service-like service, split between two cohorts.
struct Traffic {
    rps: f64,
    canary_share: f64,
    base_error: f64,
    p50_ms: f64,
    sigma: f64,
}

impl Traffic {
    /// `window_s` seconds of (baseline, canary) samples; the canary's error rate and latency are
    /// multiplied by the given factors. Same generative model as the simulated fleet.
    fn windows(
        &self,
        rng: &mut crate::core::stats::rng::Rng,
        window_s: usize,
        err_factor: f64,
        lat_factor: f64,
    ) -> (
        Vec<crate::core::domain::Sample>,
        Vec<crate::core::domain::Sample>,
    ) {
        use crate::core::domain::Sample;
        let mut base = Vec::with_capacity(window_s);
        let mut can = Vec::with_capacity(window_s);
        for t in 0..window_s {
            let total = rng.poisson(self.rps);
            let n_can = rng.binomial(total, self.canary_share);
            let n_base = total - n_can;
            let mut second = |n: u64, p: f64, lat: f64| {
                let p50 = rng.lognormal((self.p50_ms * lat).ln(), self.sigma);
                let p99 = p50 * (2.5 + rng.normal(0.0, 0.25).abs());
                Sample {
                    t_ms: t as i64 * 1000,
                    requests: n as u32,
                    errors: rng.binomial(n, p) as u32,
                    latency_p50_ms: p50,
                    latency_p99_ms: p99,
                    // Unknown: the study judges errors and p99, and drawing these from `rng` would
                    // shift every later draw, and so the published study numbers.
                    latency_p95_ms: f64::NAN,
                    cpu_cores: f64::NAN,
                    memory_mb: f64::NAN,
                }
            };
            base.push(second(n_base, self.base_error, 1.0));
            can.push(second(
                n_can,
                (self.base_error * err_factor).min(1.0),
                lat_factor,
            ));
        }
        (base, can)
    }
}

/// The A/A and A/B simulation study of the canary judge with the shipped defaults: identical
/// cohorts (false rollbacks), and canaries 1.5× and 2× worse in errors or 1.5× in latency
/// (detection), over one canary step's window — `deploy.observe_s`, longer when fewer than
/// `canary.min_expected_errors` canary errors are expected — at 10 % and 50 % canary traffic.
pub fn judge_study(trials: usize, seed: u64) -> Vec<StudyRow> {
    use crate::core::pipeline::rollout::judge_windows;
    use crate::core::stats::judge::Verdict;
    use crate::core::stats::rng::Rng;
    let cfg = Config::default();
    let settings = app::settings_from(&cfg, seed);
    let observe_s = (settings.pacing.observe_ms / 1000).max(1) as f64;
    let max_s = (settings.max_observe_ms / 1000).max(1) as f64;
    let effects: [(&str, f64, f64); 4] = [
        ("A/A", 1.0, 1.0),
        ("errors ×1.5", 1.5, 1.0),
        ("errors ×2", 2.0, 1.0),
        ("p99 ×1.5", 1.0, 1.5),
    ];
    let mut rows = Vec::new();
    for (ci, canary_pct) in [10u8, 50].into_iter().enumerate() {
        for (bi, base_error) in [0.003, 0.01, 0.05].into_iter().enumerate() {
            let traffic = Traffic {
                rps: 120.0,
                canary_share: f64::from(canary_pct) / 100.0,
                base_error,
                p50_ms: 120.0,
                sigma: 0.15,
            };
            for (ei, (name, ef, lf)) in effects.iter().enumerate() {
                // The pipeline observes a step until `min_expected_errors` canary errors are
                // expected at the baseline's rate; the study sizes its window the same way.
                let per_s = crate::core::pipeline::rollout::effective_errors(
                    traffic.rps * traffic.canary_share * base_error,
                    traffic.rps * (1.0 - traffic.canary_share) * base_error,
                );
                let needed = if per_s > 0.0 {
                    settings.min_expected_errors / per_s
                } else {
                    0.0
                };
                let window_s = needed.ceil().clamp(observe_s, max_s) as usize;
                let mut rng = Rng::new(seed).fork((ci * 100 + bi * 10 + ei) as u64);
                let (mut fail, mut inconclusive) = (0usize, 0usize);
                for _ in 0..trials {
                    let (b, c) = traffic.windows(&mut rng, window_s, *ef, *lf);
                    let j = judge_windows(&b, &c, &settings.judge);
                    match j.verdict {
                        Verdict::Fail => fail += 1,
                        Verdict::Inconclusive => inconclusive += 1,
                        Verdict::Pass => {}
                    }
                }
                let n = trials.max(1) as f64;
                rows.push(StudyRow {
                    canary_pct,
                    base_error_rate: base_error,
                    effect: (*name).to_string(),
                    window_s,
                    trials,
                    fail: fail as f64 / n,
                    inconclusive: inconclusive as f64 / n,
                });
            }
        }
    }
    rows
}

/// Mann-Whitney timing on a sample file, for comparison with SciPy in the same run.
#[derive(Debug, Clone, Serialize)]
pub struct MwTiming {
    /// Baseline size.
    pub n_baseline: usize,
    /// Canary size.
    pub n_canary: usize,
    /// U of the canary.
    pub u: f64,
    /// Two-sided p-value (tie- and continuity-corrected normal approximation).
    pub p_value: f64,
    /// Median seconds per test over the repetitions.
    pub median_s: f64,
    /// Median seconds to sort the pooled sample with a float comparator, which is what the test
    /// itself did before it sorted integer keys per side: the baseline measured in the same run.
    pub sort_median_s: f64,
    /// Repetitions.
    pub runs: usize,
}

#[derive(serde::Deserialize)]
struct MwInput {
    baseline: Vec<f64>,
    canary: Vec<f64>,
}

/// Time `mann_whitney_u` on the samples in `path` (`{"baseline": [...], "canary": [...]}`).
pub fn mann_whitney_timing(path: &std::path::Path, runs: usize) -> Result<MwTiming> {
    use crate::core::stats::mann_whitney::mann_whitney_u;
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let input: MwInput = serde_json::from_str(&text).with_context(|| {
        format!(
            "{}: expected {{\"baseline\": [..], \"canary\": [..]}}",
            path.display()
        )
    })?;
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let mut times = Vec::with_capacity(runs);
    let mut result = None;
    for _ in 0..runs {
        let t = std::time::Instant::now();
        result = mann_whitney_u(&input.baseline, &input.canary);
        times.push(t.elapsed().as_secs_f64());
    }
    let mut sorts = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = std::time::Instant::now();
        let mut pooled: Vec<f64> = input
            .baseline
            .iter()
            .chain(&input.canary)
            .copied()
            .collect();
        pooled.sort_by(f64::total_cmp);
        std::hint::black_box(&pooled);
        sorts.push(t.elapsed().as_secs_f64());
    }
    let r = result.context("Mann-Whitney needs finite samples on both sides")?;
    Ok(MwTiming {
        n_baseline: input.baseline.len(),
        n_canary: input.canary.len(),
        u: r.u,
        p_value: r.p_value,
        median_s: median(times),
        sort_median_s: median(sorts),
        runs,
    })
}
