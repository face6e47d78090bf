//! Incidents pane: the incident list, then the pipeline's path through the Contract's states, so
//! "where are we" is answered without reading the timeline.

use super::common::{age, placeholder, truncate};
use super::PaneView;
use crate::theme::{Status, Theme};
use crate::view_model::{outcome_status, state_status, ViewModel};
use ccp_core::domain::Severity;
use ccp_core::state::{State, ALL_STATES};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

/// The happy path in Contract order (HEALTH_CHECK shows on its canary step; exits are shown
/// where they happen), taken from the state machine's own list so the two cannot drift.
fn happy_path() -> Vec<State> {
    ALL_STATES
        .iter()
        .copied()
        .take_while(|s| *s != State::GatesFailed)
        .filter(|s| *s != State::HealthCheck)
        .collect()
}

fn severity_badge(s: Severity, theme: &Theme) -> Span<'static> {
    let (txt, st) = match s {
        Severity::Critical => ("CRIT", Status::Bad),
        Severity::High => ("HIGH", Status::Bad),
        Severity::Medium => ("MED ", Status::Warn),
        Severity::Low => ("LOW ", Status::Info),
        Severity::Info => ("INFO", Status::Muted),
    };
    Span::styled(txt, theme.status(st).add_modifier(Modifier::BOLD))
}

/// Draw the pane's inside.
pub fn draw(buf: &mut Buffer, area: Rect, vm: &ViewModel, view: &PaneView) {
    let theme = view.theme;
    let focused = view.focused;
    if vm.incidents().is_empty() {
        placeholder(buf, area, "watching the fleet — no incident yet", theme);
        return;
    }
    let f = view.filter.to_lowercase();
    let mut lines: Vec<Line> = Vec::new();
    let w = area.width as usize;
    for (i, inc) in vm.incidents().iter().enumerate() {
        // An incident is listed from its first event; before `incident_opened` is seen (a log
        // cut at the front) it reads as just detected.
        let state = inc.state.unwrap_or(State::Detected);
        if !f.is_empty()
            && !format!("{} {} {}", inc.id, inc.service, inc.title)
                .to_lowercase()
                .contains(&f)
        {
            continue;
        }
        let state_style = match inc.outcome() {
            Some(o) => theme.status(outcome_status(o)),
            None => theme.status(state_status(state)),
        };
        let selected = focused && view.selected == i;
        let row_style = if selected {
            theme.selected()
        } else {
            Style::default()
        };
        lines.push(
            Line::from(vec![
                severity_badge(inc.severity.unwrap_or(Severity::Info), theme),
                Span::raw(" "),
                Span::styled(
                    inc.id.clone(),
                    Style::default().add_modifier(Modifier::BOLD),
                ),
                Span::raw("  "),
                Span::styled(
                    age(vm.now_ms() - inc.opened_ms),
                    theme.status(Status::Muted),
                ),
            ])
            .style(row_style),
        );
        lines.push(Line::from(vec![
            Span::raw("     "),
            Span::raw(truncate(&inc.service, w.saturating_sub(5))),
        ]));
        lines.push(Line::from(vec![
            Span::raw("     "),
            Span::styled(
                truncate(
                    &inc.outcome()
                        .map(|o| format!("{} · {}", o.as_str(), state))
                        .unwrap_or_else(|| state.to_string()),
                    w.saturating_sub(5),
                ),
                state_style,
            ),
        ]));
    }
    let used = lines.len();
    let room = (area.height as usize).saturating_sub(used + 1);
    if room >= 4 {
        lines.push(Line::from(Span::styled(
            "pipeline",
            theme
                .status(Status::Muted)
                .add_modifier(Modifier::UNDERLINED),
        )));
        lines.extend(path_lines(vm, theme, room - 1, w));
    }
    Paragraph::new(lines).render(area, buf);
}

/// The state path: ✓ visited, ▶ current, · to come; an exit state replaces the rest.
fn path_lines(vm: &ViewModel, theme: &Theme, room: usize, width: usize) -> Vec<Line<'static>> {
    let visited: Vec<State> = vm.run().path.iter().map(|(s, _)| *s).collect();
    // HEALTH_CHECK happens inside each canary step: show it on that step.
    let checking = vm.run().state == Some(State::HealthCheck);
    let current = if checking {
        visited
            .iter()
            .rev()
            .copied()
            .find(|s| *s != State::HealthCheck)
    } else {
        vm.run().state
    };
    let mut steps: Vec<State> = happy_path();
    if let Some(c) = current {
        if !happy_path().contains(&c) {
            // An exit (GATES_FAILED, ROLLBACK, REJECTED…): show the path up to it, then the exit.
            steps = visited.clone();
            steps.retain(|s| *s != State::HealthCheck);
            steps.dedup();
        }
        // Skip the review step when the run did not need it.
        if visited.contains(&State::Locked) && !visited.contains(&State::PausedForHumanReview) {
            steps.retain(|s| *s != State::PausedForHumanReview);
        }
    }
    let mut lines: Vec<Line> = steps
        .iter()
        .map(|s| {
            let is_current = Some(*s) == current;
            let done = visited.contains(s) && !is_current;
            let (m, st) = if is_current {
                let st = if vm.run().finished.is_some() {
                    theme.status(state_status(*s))
                } else {
                    theme.status(Status::Warn).add_modifier(Modifier::BOLD)
                };
                ("▶", st)
            } else if done {
                ("✓", theme.status(Status::Ok))
            } else {
                ("·", theme.status(Status::Muted))
            };
            let label = if is_current && checking {
                format!("{} · health check", s.as_str())
            } else {
                s.as_str().to_string()
            };
            Line::from(vec![
                Span::styled(format!(" {m} "), st),
                Span::styled(truncate(&label, width.saturating_sub(3)), st),
            ])
        })
        .collect();
    if lines.len() > room {
        // Keep the current step in view: drop finished steps from the top first.
        let cur = steps.iter().position(|s| Some(*s) == current).unwrap_or(0);
        let first = cur.saturating_sub(room / 2).min(lines.len() - room);
        lines = lines.into_iter().skip(first).take(room).collect();
    }
    lines
}
