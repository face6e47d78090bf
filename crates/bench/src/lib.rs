//! `ccp bench`: measure the headless instant demo — total wall time and compute time per pipeline
//! stage — against a baseline measured in the same run on the same machine: the external work the
//! pipeline cannot avoid (one `python3 -m unittest` of the demo service). Ratios to that baseline
//! travel between machines better than milliseconds do.

pub mod locks;
pub mod rca;
mod rca_legacy;
pub mod rollout_study;
pub mod synth;

use anyhow::{Context, Result};
use ccp_adapters::embedded::paced_clock::Pace;
use ccp_adapters::python_checks;
use ccp_app::{self as app, demo_dir, RunOptions};
use ccp_config::Config;
use ccp_core::domain::Outcome;
use ccp_headless::{self as headless, ApprovalMode, Format};
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
    /// Median ms from DETECTED to the gates passed (the state after GATES_PASSED begins), less
    /// the time external commands (the probe, tests, linters) ran inside that window: what the
    /// pipeline itself spends deciding.
    pub decision_compute_ms_median: f64,
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
    let mut decisions = Vec::new();
    for i in 0..runs.max(1) {
        let t = Instant::now();
        let outcome = python_checks::run_unit_tests(&service, Duration::from_secs(120));
        baselines.push(ms(t.elapsed()));
        anyhow::ensure!(
            outcome.tests_run.is_some(),
            "baseline could not run the unit tests: {}",
            outcome.summary
        );
        let opts = RunOptions {
            seed: Some(i as u64 + 1),
            pace: Pace::Instant,
            inject_failure: None,
            state_dir: state.path().to_path_buf(),
            config: Config::default(),
        };
        let t = Instant::now();
        let handle = app::start(&opts)?;
        let mut lines = TimedLines::default();
        let (outcome, report) = headless::run(
            handle,
            Format::Json,
            ApprovalMode::Auto(ccp_core::events::AutoAnswer::Approve),
            &mut lines,
        )?;
        totals.push(ms(t.elapsed()));
        decisions.push(
            lines
                .decision_compute_ms()
                .context("no DETECTED … GATES_PASSED in the run")?,
        );
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
        decision_compute_ms_median: median(decisions),
    })
}

/// The headless run's JSON lines with the instant each arrived: when the pipeline entered each
/// state, to the event loop's resolution.
#[derive(Default)]
struct TimedLines {
    pending: Vec<u8>,
    lines: Vec<(Instant, String)>,
}

impl std::io::Write for TimedLines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        while let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            self.lines
                .push((Instant::now(), String::from_utf8_lossy(&line).into_owned()));
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl TimedLines {
    /// When the first event matching `hit` arrived.
    fn first(&self, hit: impl Fn(&serde_json::Value) -> bool) -> Option<Instant> {
        self.lines.iter().find_map(|(at, line)| {
            let v: serde_json::Value = serde_json::from_str(line).ok()?;
            hit(&v).then_some(*at)
        })
    }

    /// When the run entered `state`.
    fn entered(&self, state: &str) -> Option<Instant> {
        self.first(|v| v["type"] == "state_changed" && v["to"] == state)
    }

    /// The incident opening (it opens in DETECTED) → leaving GATES_PASSED, less external
    /// commands.
    fn decision_compute_ms(&self) -> Option<f64> {
        let from = self.first(|v| v["type"] == "incident_opened")?;
        let gates = self.entered("GATES_PASSED")?;
        let to = self
            .lines
            .iter()
            .filter(|(at, _)| *at > gates)
            .find_map(|(at, line)| line.contains("\"state_changed\"").then_some(*at))?;
        let external = ccp_adapters::subprocess::external_time_between(from, to);
        Some(ms(to.duration_since(from).saturating_sub(external)))
    }
}

/// Frame-render timings at one terminal size.
#[derive(Debug, Clone, Serialize)]
pub struct RenderSize {
    /// Columns × rows.
    pub size: String,
    /// Median µs of a live frame: one more event of the demo run folded in, then the whole
    /// cockpit drawn and flushed. What the loop pays while a rollout moves.
    pub cockpit_us_median: f64,
    /// Median µs of a frame drawn again with nothing new (a key that changes nothing, a resize
    /// back): the panes whose inputs did not change are copied from the last drawing.
    pub unchanged_us_median: f64,
    /// Median µs to draw the same size filled with one plain paragraph, drawn again each frame
    /// on its own terminal: the floor every frame of any ratatui app pays.
    pub baseline_us_median: f64,
    /// live frame / baseline.
    pub ratio: f64,
    /// Median µs spent inside the cockpit's `draw` only on a live frame (what our code costs,
    /// without ratatui's buffer reset, diff and backend write).
    pub draw_only_us_median: f64,
}

/// Time cockpit frames into a `TestBackend` at 200×60, 120×34 and 80×24 against a plain
/// full-screen paragraph of the same size, measured in the same run. Each of the three draws
/// on its own terminal, so each frame's diff is against its own previous frame, as in the
/// real loop.
pub fn render(frames: usize) -> Result<Vec<RenderSize>> {
    use ccp_tui::draw::DrawCache;
    use ccp_tui::screen::draw;
    use ccp_tui::theme::Theme;
    use ccp_tui::ui_state::UiState;
    use ccp_tui::view_model::ViewModel;
    use ratatui::backend::TestBackend;
    use ratatui::widgets::Paragraph;
    use ratatui::Terminal;

    let state = tempfile::tempdir().context("temporary state directory")?;
    let opts = RunOptions {
        seed: Some(1),
        pace: Pace::Instant,
        inject_failure: None,
        state_dir: state.path().to_path_buf(),
        config: Config::default(),
    };
    let events = app::collect_events(&opts, |_| {
        Some(ccp_core::events::Command::Approve {
            actor: "bench".into(),
            comment: String::new(),
        })
    })?;
    let ui = UiState::new(vec![Theme::default_dark()], "instant", "bench");
    let mut out = Vec::new();
    for (w, h) in [(200u16, 60u16), (120, 34), (80, 24)] {
        // Every cell written once, no wrapping: the floor of filling this screen.
        let text = vec!["x".repeat(usize::from(w)); usize::from(h)].join("\n");
        let mut floor_term = Terminal::new(TestBackend::new(w, h))?;
        let mut live_term = Terminal::new(TestBackend::new(w, h))?;
        let mut still_term = Terminal::new(TestBackend::new(w, h))?;
        let (live_cache, still_cache) = (DrawCache::new(), DrawCache::new());
        // The live frames replay the run from its middle, one event per frame, and start over
        // at the end: every frame has something new, as during a rollout.
        let start = events.len() / 2;
        let fold = |upto: usize| {
            let mut vm = ViewModel::default();
            events[..upto].iter().for_each(|e| vm.apply(e));
            vm
        };
        let mut live_vm = fold(start);
        let mut next = start;
        let done_vm = fold(events.len());
        still_term.draw(|f| draw(f, &done_vm, &ui, &still_cache))?;
        let (mut live, mut still, mut base, mut inner) = (
            Vec::with_capacity(frames),
            Vec::with_capacity(frames),
            Vec::with_capacity(frames),
            Vec::with_capacity(frames),
        );
        for _ in 0..frames.max(1) {
            let t = Instant::now();
            floor_term.draw(|f| f.render_widget(Paragraph::new(text.as_str()), f.area()))?;
            base.push(t.elapsed().as_secs_f64() * 1e6);

            if next == events.len() {
                live_vm = fold(start);
                next = start;
            }
            live_vm.apply(&events[next]);
            next += 1;
            let t = Instant::now();
            live_term.draw(|f| {
                let d = Instant::now();
                draw(f, &live_vm, &ui, &live_cache);
                inner.push(d.elapsed().as_secs_f64() * 1e6);
            })?;
            live.push(t.elapsed().as_secs_f64() * 1e6);

            let t = Instant::now();
            still_term.draw(|f| draw(f, &done_vm, &ui, &still_cache))?;
            still.push(t.elapsed().as_secs_f64() * 1e6);
        }
        let (c, b) = (median(live), median(base));
        out.push(RenderSize {
            size: format!("{w}x{h}"),
            cockpit_us_median: c,
            unchanged_us_median: median(still),
            baseline_us_median: b,
            ratio: if b > 0.0 { c / b } else { 0.0 },
            draw_only_us_median: median(inner),
        });
    }
    Ok(out)
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
    use ccp_core::stats::mann_whitney::mann_whitney_u;
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
