//! Canary pane: traffic on the new version, baseline-vs-canary charts of error rate and p99
//! latency over every step so far, and the statistical verdict with its p-values — the evidence
//! Kayenta hides behind a score, on one screen.

use super::common::{bar, pct, placeholder, truncate};
use super::PaneView;
use crate::theme::{Status, Theme};
use crate::view_model::ViewModel;
use ccp_core::projection::{DeployStepRun, Rollout, Verdict};
use ccp_core::stats::judge::MetricVerdict;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Chart, Dataset, GraphType, Paragraph, Widget};

/// Colour hint for a verdict word.
pub fn verdict_status(v: &str) -> Status {
    match v {
        "pass" => Status::Ok,
        "fail" => Status::Bad,
        _ => Status::Warn,
    }
}

fn metric_line(m: &ccp_core::stats::judge::MetricResult, theme: &Theme, w: usize) -> Line<'static> {
    let (mk, st) = match m.verdict {
        MetricVerdict::Pass => ("✓", Status::Ok),
        MetricVerdict::Fail => ("✗", Status::Bad),
        MetricVerdict::NoData => ("?", Status::Warn),
    };
    let p = m
        .p_value
        .map(|p| {
            if p < 0.0001 {
                "p<0.0001".to_string()
            } else {
                format!("p={p:.4}")
            }
        })
        .unwrap_or_else(|| "p=—".into());
    let med = match (m.baseline_median, m.canary_median) {
        (Some(b), Some(c)) => format!("median {} → {}", short(b), short(c)),
        _ => String::new(),
    };
    let text = format!(" {:<12} {p:<9} {med}", truncate(&m.name, 12));
    Line::from(vec![
        Span::styled(
            format!(" {mk}"),
            theme.status(st).add_modifier(Modifier::BOLD),
        ),
        Span::raw(truncate(&text, w.saturating_sub(2))),
    ])
}

/// Metric lines under the charts: the failing signals first (they are why a rollout stopped),
/// then the rest in judging order, at most [`SHOWN_METRICS`], and one line for the others.
fn verdict_lines(
    metrics: &[ccp_core::stats::judge::MetricResult],
    theme: &Theme,
    w: usize,
) -> Vec<Line<'static>> {
    let mut order: Vec<&ccp_core::stats::judge::MetricResult> = metrics.iter().collect();
    order.sort_by_key(|m| m.verdict != MetricVerdict::Fail);
    let mut lines: Vec<Line> = order
        .iter()
        .take(SHOWN_METRICS)
        .map(|m| metric_line(m, theme, w))
        .collect();
    let rest = &order[SHOWN_METRICS.min(order.len())..];
    if !rest.is_empty() {
        let count = |v: MetricVerdict| rest.iter().filter(|m| m.verdict == v).count();
        let (failing, no_data) = (count(MetricVerdict::Fail), count(MetricVerdict::NoData));
        let text = match (failing, no_data) {
            (0, 0) => format!("   +{} more, all pass", rest.len()),
            (0, n) => format!("   +{} more ({n} without data)", rest.len()),
            (f, _) => format!("   +{} more ({f} failing)", rest.len()),
        };
        lines.push(Line::from(Span::styled(
            truncate(&text, w),
            theme.status(Status::Muted),
        )));
    }
    lines
}

/// Metric lines shown in full under the canary charts.
const SHOWN_METRICS: usize = 3;

fn short(x: f64) -> String {
    if x.abs() < 1.0 {
        format!("{:.4}", x)
    } else {
        format!("{x:.0}")
    }
}

fn header(c: &Rollout, last: Option<&Verdict>, theme: &Theme, w: usize) -> Vec<Line<'static>> {
    let bar_w = (w / 4).clamp(5, 20);
    let step = c.steps.last().map(|s| s.step.clone()).unwrap_or_default();
    let mut l1 = vec![
        Span::styled("traffic ", theme.status(Status::Muted)),
        Span::styled(
            bar(f64::from(c.traffic_pct) / 100.0, bar_w),
            theme.status(Status::Info),
        ),
        Span::styled(
            format!(" {:>3}%", c.traffic_pct),
            Style::default().add_modifier(Modifier::BOLD),
        ),
        Span::raw(format!("  {step}")),
    ];
    if let Some(v) = last {
        l1.push(Span::raw("  "));
        l1.push(Span::styled(
            format!("{} {}", v.phase, v.verdict.to_uppercase()),
            theme
                .status(verdict_status(&v.verdict))
                .add_modifier(Modifier::BOLD),
        ));
    }
    let mut out = vec![Line::from(l1)];
    if let Some(s) = c.steps.last() {
        out.push(Line::from(vec![
            Span::styled("errors ", theme.status(Status::Muted)),
            Span::styled(
                pct(s.baseline.error_rate),
                Style::default().fg(theme.chart_baseline),
            ),
            Span::raw(" → "),
            Span::styled(
                pct(s.canary.error_rate),
                Style::default()
                    .fg(theme.chart_canary)
                    .add_modifier(Modifier::BOLD),
            ),
            Span::styled("   p99 ", theme.status(Status::Muted)),
            Span::styled(
                format!("{:.0}ms", s.baseline.latency_p99_ms),
                Style::default().fg(theme.chart_baseline),
            ),
            Span::raw(" → "),
            Span::styled(
                format!("{:.0}ms", s.canary.latency_p99_ms),
                Style::default()
                    .fg(theme.chart_canary)
                    .add_modifier(Modifier::BOLD),
            ),
        ]));
    }
    if let Some(d) = c.deploy_steps.last() {
        out.push(deploy_line(d, theme, w));
    }
    out
}

/// The last step the deploy tool ran: what, how it ended, and its last line of output (Enter
/// shows the rest), so a failing `kubectl` is visible without leaving the pane.
fn deploy_line(d: &DeployStepRun, theme: &Theme, w: usize) -> Line<'static> {
    let (mark, st) = if d.ok {
        ("✓", Status::Ok)
    } else {
        ("✗", Status::Bad)
    };
    let code = d
        .exit_code
        .map(|c| format!("exit {c}"))
        .unwrap_or_else(|| "killed".into());
    // The tool's own last words say more than our summary of them; the error is the fallback.
    let last = d
        .output
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .or(d.error.as_deref())
        .unwrap_or_default();
    let head = format!(
        " {} {}% {code} {:.1}s ",
        d.action,
        d.percent,
        d.duration_ms as f64 / 1000.0
    );
    let room = w.saturating_sub(8 + head.chars().count());
    Line::from(vec![
        Span::styled("deploy ", theme.status(Status::Muted)),
        Span::styled(mark, theme.status(st).add_modifier(Modifier::BOLD)),
        Span::raw(head),
        Span::styled(truncate(last.trim(), room), theme.status(Status::Muted)),
    ])
}

fn points(v: &[f64], scale: f64) -> Vec<(f64, f64)> {
    v.iter()
        .enumerate()
        .filter(|(_, y)| y.is_finite())
        .map(|(i, y)| (i as f64, y * scale))
        .collect()
}

fn chart_area(
    buf: &mut Buffer,
    area: Rect,
    title: &str,
    base: &[(f64, f64)],
    can: &[(f64, f64)],
    unit: &str,
    theme: &Theme,
) {
    if area.height < 3 || area.width < 10 {
        return;
    }
    let n = base.len().max(can.len()).max(2) as f64;
    let max_y = base
        .iter()
        .chain(can.iter())
        .map(|p| p.1)
        .fold(0.0_f64, f64::max);
    let top = if max_y <= 0.0 { 1.0 } else { max_y * 1.15 };
    let (bm, cm) = if theme.monochrome {
        (Marker::Dot, Marker::Braille)
    } else {
        (Marker::Braille, Marker::Braille)
    };
    let datasets = vec![
        Dataset::default()
            .name("baseline")
            .marker(bm)
            .graph_type(GraphType::Line)
            .style(Style::default().fg(theme.chart_baseline))
            .data(base),
        Dataset::default()
            .name("canary")
            .marker(cm)
            .graph_type(GraphType::Line)
            .style(
                Style::default()
                    .fg(theme.chart_canary)
                    .add_modifier(Modifier::BOLD),
            )
            .data(can),
    ];
    let fmt = |y: f64| {
        if top < 10.0 {
            format!("{y:.1}{unit}")
        } else {
            format!("{y:.0}{unit}")
        }
    };
    let chart = Chart::new(datasets)
        .x_axis(
            Axis::default()
                .style(theme.status(Status::Muted))
                .bounds([0.0, n - 1.0]),
        )
        .y_axis(
            Axis::default()
                .title(Span::styled(title.to_string(), theme.status(Status::Muted)))
                .style(theme.status(Status::Muted))
                .labels([Span::raw(fmt(0.0)), Span::raw(fmt(top))])
                .bounds([0.0, top]),
        )
        .legend_position(Some(ratatui::widgets::LegendPosition::TopRight))
        .hidden_legend_constraints((Constraint::Percentage(50), Constraint::Percentage(50)))
        .style(theme.base());
    chart.render(area, buf);
}

/// Draw the pane's inside.
pub fn draw(buf: &mut Buffer, area: Rect, vm: &ViewModel, view: &PaneView) {
    let theme = view.theme;
    let c = &vm.run().rollout;
    if c.steps.is_empty()
        && c.traffic_pct == 0
        && c.verdicts.is_empty()
        && c.deploy_steps.is_empty()
    {
        let msg = if let Some(fin) = &vm.run().finished {
            format!("no canary ran: the run ended {}", fin.state)
        } else if vm.run().locks.is_empty() {
            "the canary starts after approval".to_string()
        } else {
            "shifting traffic…".to_string()
        };
        let msg = msg.as_str();
        placeholder(buf, area, msg, theme);
        return;
    }
    let w = area.width as usize;
    let last = vm.last_verdict();
    let head = header(c, last, theme, w);
    let metric_lines: Vec<Line> = last
        .map(|v| verdict_lines(&v.metrics, theme, w))
        .unwrap_or_default();
    let [h, charts, verdict] = Layout::vertical([
        Constraint::Length(head.len() as u16),
        Constraint::Min(0),
        Constraint::Length(metric_lines.len() as u16),
    ])
    .areas(area);
    Paragraph::new(head).render(h, buf);
    Paragraph::new(metric_lines).render(verdict, buf);
    let err_b = points(&c.baseline_errors, 100.0);
    let err_c = points(&c.canary_errors, 100.0);
    let lat_b = points(&c.baseline_p99, 1.0);
    let lat_c = points(&c.canary_p99, 1.0);
    if charts.width >= 70 {
        let [a, b] = Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
            .areas(charts);
        chart_area(buf, a, "errors", &err_b, &err_c, "%", theme);
        chart_area(buf, b, "p99", &lat_b, &lat_c, "ms", theme);
    } else if charts.height >= 12 {
        let [a, b] = Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)])
            .areas(charts);
        chart_area(buf, a, "errors", &err_b, &err_c, "%", theme);
        chart_area(buf, b, "p99", &lat_b, &lat_c, "ms", theme);
    } else {
        chart_area(buf, charts, "errors", &err_b, &err_c, "%", theme);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ccp_core::stats::judge::{judge_metric, Direction, JudgeConfig};

    fn text(lines: &[Line]) -> Vec<String> {
        lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    #[test]
    fn the_failing_signal_comes_first_and_the_rest_are_summed_up() {
        let cfg = JudgeConfig::default();
        let flat: Vec<f64> = (0..40).map(|i| 100.0 + f64::from(i % 5)).collect();
        let slow: Vec<f64> = flat.iter().map(|x| x * 1.5).collect();
        let names = [
            "error_rate",
            "latency_p50_ms",
            "latency_p95_ms",
            "latency_p99_ms",
            "cpu",
            "memory_mb",
        ];
        let metrics: Vec<_> = names
            .iter()
            .map(|n| {
                let canary = if *n == "latency_p99_ms" { &slow } else { &flat };
                judge_metric(n, &flat, canary, Direction::IncreaseIsBad, &cfg)
            })
            .collect();
        let lines = text(&verdict_lines(&metrics, &Theme::default_dark(), 60));
        assert_eq!(lines.len(), SHOWN_METRICS + 1, "{lines:?}");
        assert!(
            lines[0].contains("✗") && lines[0].contains("latency_p99"),
            "{lines:?}"
        );
        assert!(lines[1].contains("error_rate"), "{lines:?}");
        assert_eq!(lines[3].trim(), "+3 more, all pass");
    }
}
