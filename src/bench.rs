//! `ccp bench`: measure the headless instant demo — total wall time and compute time per pipeline
//! stage — against a baseline measured in the same run on the same machine: the external work the
//! pipeline cannot avoid (one `python3 -m unittest` of the demo service). Ratios to that baseline
//! travel between machines better than milliseconds do.

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
