//! Details of the selected row of a pane: RCA evidence, a decision's justification, a gate,
//! a service's health, test statistics.

use super::{centered, dialog_block};
use crate::draw::gates::value_text;
use crate::draw::graph::{blast_radius, navigation_order};
use crate::draw::DrawCache;
use crate::pane::Pane;
use crate::theme::{Status, Theme};
use crate::ui_state::UiState;
use crate::view_model::ViewModel;
use ccp_core::explain::Justification;
use ccp_core::projection::DeployStepRun;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};
use ratatui::Frame;

/// Details of the selected row of a pane.
pub fn draw(
    f: &mut Frame,
    area: Rect,
    pane: Pane,
    vm: &ViewModel,
    ui: &UiState,
    cache: &DrawCache,
) {
    let theme = ui.theme();
    let r = centered(
        area,
        area.width.saturating_sub(6).min(110),
        area.height.saturating_sub(4),
    );
    f.render_widget(Clear, r);
    let (title, lines) = detail_lines(pane, vm, ui, cache);
    let block = dialog_block(&format!("{} — {title}", pane.title()), theme, Status::Info);
    let inner = block.inner(r);
    f.render_widget(block, r);
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

fn kv(k: &str, v: impl Into<String>, theme: &Theme) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{k:<14}"), theme.status(Status::Muted)),
        Span::raw(v.into()),
    ])
}

fn justification_lines(j: &Justification, theme: &Theme) -> Vec<Line<'static>> {
    let mut out = vec![
        kv("decision", j.decision.clone(), theme),
        kv("outcome", j.outcome.clone(), theme),
        kv(
            "confidence",
            crate::draw::common::confidence_pct(j.confidence, 0),
            theme,
        ),
        Line::from(""),
        Line::from(Span::styled("reasoning", theme.status(Status::Muted))),
        Line::from(j.reasoning.clone()),
    ];
    if !j.inputs.is_empty() {
        out.push(Line::from(""));
        out.push(Line::from(Span::styled(
            "inputs",
            theme.status(Status::Muted),
        )));
        for (k, v) in &j.inputs {
            out.push(Line::from(format!("  {k} = {}", value_text(v))));
        }
    }
    if !j.factors.is_empty() {
        out.push(Line::from(""));
        out.push(Line::from(Span::styled(
            "factors (value × weight)",
            theme.status(Status::Muted),
        )));
        for fct in &j.factors {
            out.push(Line::from(format!(
                "  {:<16} {:>6.3} × {:<4}  {}",
                fct.name, fct.value, fct.weight, fct.note
            )));
        }
    }
    for (name, items) in [
        ("constraints", &j.constraints),
        ("alternatives", &j.alternatives),
    ] {
        if !items.is_empty() {
            out.push(Line::from(""));
            out.push(Line::from(Span::styled(
                name.to_string(),
                theme.status(Status::Muted),
            )));
            out.extend(items.iter().map(|c| Line::from(format!("  • {c}"))));
        }
    }
    out
}

/// Each step the deploy tool ran, with the command and the end of its output: when a rollout
/// fails in the tool, its own words are the first thing to read.
fn deploy_step_lines(steps: &[DeployStepRun], theme: &Theme) -> Vec<Line<'static>> {
    let mut l = Vec::new();
    for d in steps {
        let code = d
            .exit_code
            .map(|c| format!("exit {c}"))
            .unwrap_or_else(|| "killed".into());
        l.push(Line::from(Span::styled(
            format!(
                "deploy {} {}% — {} ({code}, {:.1} s)",
                d.action,
                d.percent,
                if d.ok { "OK" } else { "FAILED" },
                d.duration_ms as f64 / 1000.0
            ),
            theme
                .status(if d.ok { Status::Ok } else { Status::Bad })
                .add_modifier(Modifier::BOLD),
        )));
        l.push(kv("  command", d.command.clone(), theme));
        if let Some(e) = &d.error {
            l.push(kv("  error", e.clone(), theme));
        }
        l.extend(d.output.lines().map(|x| Line::from(format!("  │ {x}"))));
        l.push(Line::from(""));
    }
    l
}

fn detail_lines(
    pane: Pane,
    vm: &ViewModel,
    ui: &UiState,
    cache: &DrawCache,
) -> (String, Vec<Line<'static>>) {
    let theme = ui.theme();
    let none = |what: &str| (what.to_string(), vec![Line::from("nothing to show yet")]);
    match pane {
        Pane::Incidents => {
            let Some(inc) = vm
                .incidents()
                .get(ui.sel(Pane::Incidents))
                .or(vm.active_incident())
            else {
                return none("incident");
            };
            let mut l = vec![
                kv("id", inc.id.clone(), theme),
                kv("title", inc.title.clone(), theme),
                kv("service", inc.service.clone(), theme),
                kv(
                    "severity",
                    inc.severity.map_or("unknown", |s| s.as_str()),
                    theme,
                ),
                kv(
                    "state",
                    inc.state.map_or("unknown".to_string(), |s| s.to_string()),
                    theme,
                ),
            ];
            if let Some(fin) = &vm.run().finished {
                l.push(kv(
                    "outcome",
                    format!("{} — {}", fin.outcome.as_str(), fin.reason),
                    theme,
                ));
            }
            if let Some(ccp_core::projection::ApprovalDecision {
                decision: d,
                actor: a,
                comment: c,
                ..
            }) = vm.run().decision()
            {
                l.push(kv(
                    "human",
                    format!(
                        "{d} by {a}{}",
                        if c.is_empty() {
                            String::new()
                        } else {
                            format!(": {c}")
                        }
                    ),
                    theme,
                ));
            }
            for lk in &vm.run().locks {
                l.push(kv(
                    "lock",
                    format!("{} held by {} (fence {})", lk.resource, lk.owner, lk.fence),
                    theme,
                ));
            }
            (inc.id.clone(), l)
        }
        Pane::Graph => {
            let order = navigation_order(vm.services(), vm.edges());
            let Some(name) = order.get(ui.sel(Pane::Graph)) else {
                return none("service");
            };
            let Some(s) = vm.services().iter().find(|s| &s.name == name) else {
                return none("service");
            };
            let callers: Vec<&str> = vm
                .edges()
                .iter()
                .filter(|(_, b)| b == name)
                .map(|(a, _)| a.as_str())
                .collect();
            let callees: Vec<&str> = vm
                .edges()
                .iter()
                .filter(|(a, _)| a == name)
                .map(|(_, b)| b.as_str())
                .collect();
            let mut l = vec![
                kv(
                    "health",
                    if s.unhealthy { "UNHEALTHY" } else { "healthy" },
                    theme,
                ),
                kv("error rate", format!("{:.2}%", s.error_rate * 100.0), theme),
                kv("p99 latency", format!("{:.0} ms", s.latency_p99_ms), theme),
                kv("criticality", format!("{:.2}", s.criticality), theme),
                kv("called by", callers.join(", "), theme),
                kv("calls", callees.join(", "), theme),
            ];
            if vm.root_service() == Some(name.as_str()) {
                let blast = blast_radius(name, vm.edges());
                l.push(kv(
                    "root cause",
                    format!(
                        "suspected; blast radius {} services: {}",
                        blast.len(),
                        blast.join(", ")
                    ),
                    theme,
                ));
            }
            (name.clone(), l)
        }
        Pane::Rca => {
            let Some(c) = vm.run().rca.get(ui.sel(Pane::Rca)) else {
                return none("candidate");
            };
            let mut l = vec![
                kv("service", c.service.clone(), theme),
                kv(
                    "commit",
                    c.commit.clone().unwrap_or_else(|| "—".into()),
                    theme,
                ),
                kv(
                    "confidence",
                    crate::draw::common::confidence_pct(c.confidence, 1),
                    theme,
                ),
                Line::from(""),
                Line::from(Span::styled("evidence", theme.status(Status::Muted))),
            ];
            l.extend(c.evidence.iter().map(|e| Line::from(format!("  • {e}"))));
            if let Some(j) = vm
                .timeline
                .iter()
                .filter_map(|t| t.justification.as_ref())
                .find(|j| j.decision == "rca_ranking")
            {
                l.push(Line::from(""));
                l.extend(justification_lines(j, theme));
            }
            (c.service.clone(), l)
        }
        Pane::Diff => {
            let Some(fix) = &vm.run().fix else {
                return none("patch");
            };
            let mut l = vec![
                kv("template", fix.template.clone(), theme),
                kv("where", format!("{}:{}", fix.file, fix.line), theme),
                kv("why", fix.description.clone(), theme),
            ];
            // The other templates' answers: what else could have been proposed, and why not.
            if !fix.alternatives.is_empty() {
                l.push(Line::from(Span::styled(
                    "alternatives",
                    Style::default()
                        .fg(theme.title)
                        .add_modifier(Modifier::BOLD),
                )));
                l.extend(
                    fix.alternatives
                        .iter()
                        .map(|a| Line::from(format!("  • {a}"))),
                );
            }
            l.push(Line::from(""));
            l.extend(cache.diff_lines(&fix.diff, theme).iter().cloned());
            (fix.file.clone(), l)
        }
        Pane::Gates => {
            let Some(g) = vm.run().gates.get(ui.sel(Pane::Gates)) else {
                return none("gate");
            };
            let mut l = vec![
                kv("result", if g.passed { "PASS" } else { "FAIL" }, theme),
                kv("value", value_text(&g.value), theme),
                kv("threshold", value_text(&g.threshold), theme),
                kv("reason", g.reason.clone(), theme),
            ];
            // What the real check printed: the compiler's message or the failing test is
            // usually the first thing a reviewer wants to read.
            if let Some(out) = &g.output {
                l.push(Line::from(""));
                l.push(kv("output", "", theme));
                l.extend(out.lines().map(|x| Line::from(format!("  {x}"))));
            }
            (g.gate.clone(), l)
        }
        Pane::Canary => {
            if vm.run().rollout.verdicts.is_empty() && vm.run().rollout.deploy_steps.is_empty() {
                return none("verdicts");
            }
            let mut l = deploy_step_lines(&vm.run().rollout.deploy_steps, theme);
            for v in &vm.run().rollout.verdicts {
                l.push(Line::from(Span::styled(
                    format!(
                        "{} — {} (score {:.0})",
                        v.phase,
                        v.verdict.to_uppercase(),
                        v.score
                    ),
                    theme
                        .status(crate::draw::canary::verdict_status(&v.verdict))
                        .add_modifier(Modifier::BOLD),
                )));
                l.push(Line::from(format!("  {}", v.reason)));
                for m in &v.metrics {
                    // Four significant digits: the evidence must fit one line of the popup.
                    let o = |x: Option<f64>| x.map(sig4).unwrap_or_else(|| "—".into());
                    let ci = m
                        .ci95
                        .map(|[a, b]| format!("[{}, {}]", sig4(a), sig4(b)))
                        .unwrap_or_else(|| "—".into());
                    l.push(Line::from(format!(
                        "  {:<14} n={}/{} U={} p={} t={} p={} Δmedian={} HL={} CI95={ci}",
                        m.name,
                        m.n_baseline,
                        m.n_canary,
                        o(m.mann_whitney_u),
                        o(m.p_value),
                        o(m.welch_t),
                        o(m.welch_p),
                        o(m.effect),
                        o(m.hodges_lehmann),
                    )));
                    l.push(Line::from(Span::styled(
                        format!("    {}", m.reason),
                        theme.status(Status::Muted),
                    )));
                }
                l.push(Line::from(""));
            }
            let title = if vm.run().rollout.deploy_steps.is_empty() {
                "statistics"
            } else {
                "deploy steps and statistics"
            };
            (title.into(), l)
        }
        Pane::Timeline => {
            let rows = vm.filtered_timeline(&ui.filter);
            let sel = ui.panes.timeline.selected_row(rows.len());
            let Some(e) = rows.get(sel).and_then(|&i| vm.timeline.get(i)) else {
                return none("event");
            };
            let mut l = vec![
                kv("seq", e.seq.to_string(), theme),
                kv("time", e.time.clone(), theme),
                kv("event", e.label.clone(), theme),
                Line::from(e.summary.clone()),
            ];
            l.extend(e.more.iter().map(|m| Line::from(format!("  {m}"))));
            if let Some(j) = &e.justification {
                l.push(Line::from(""));
                l.extend(justification_lines(j, theme));
            }
            (format!("event {}", e.seq), l)
        }
    }
}

/// A number with four significant digits, without trailing zeros (`1157`, `0.6942`, `3.1e-12`).
fn sig4(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let magnitude = x.abs().log10().floor() as i32;
    if !(-4..6).contains(&magnitude) {
        return format!("{x:.3e}");
    }
    let decimals = (3 - magnitude).max(0) as usize;
    let text = format!("{x:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}
