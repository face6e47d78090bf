//! Gates pane: each gate with its value against its threshold, pass or fail, and why; the
//! summary line first, because "did everything pass" is the question a reviewer asks.

use super::common::{mark, placeholder, scroll_for, truncate};
use super::PaneView;
use crate::theme::Status;
use crate::view_model::ViewModel;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

/// A JSON value as a short cell.
pub fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "—".into(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() != 0.0 => format!("{f:.3}")
                .trim_end_matches('0')
                .trim_end_matches('.')
                .to_string(),
            _ => n.to_string(),
        },
        serde_json::Value::Object(m) => m
            .iter()
            .map(|(k, v)| format!("{}={}", k.rsplit('_').next().unwrap_or(k), value_text(v)))
            .collect::<Vec<_>>()
            .join(" "),
        other => other.to_string(),
    }
}

/// Draw the pane's inside.
pub fn draw(buf: &mut Buffer, area: Rect, vm: &ViewModel, view: &PaneView) {
    let theme = view.theme;
    let focused = view.focused;
    if vm.run().gates.is_empty() {
        let msg = match (&vm.run().finished, &vm.run().fix) {
            (Some(_), _) => "no gates ran: the run ended before there was a patch to check",
            (None, Some(_)) => "running gates…",
            (None, None) => "gates run once a patch is ready",
        };
        placeholder(buf, area, msg, theme);
        return;
    }
    let w = area.width as usize;
    let passed = vm.run().gates.iter().filter(|g| g.passed).count();
    let all = passed == vm.run().gates.len();
    let summary = format!("{passed}/{} passed", vm.run().gates.len());
    let pad = 19usize.saturating_sub(summary.chars().count());
    let mut lines = vec![Line::from(vec![
        Span::styled(
            summary,
            theme
                .status(if all { Status::Ok } else { Status::Bad })
                .add_modifier(Modifier::BOLD),
        ),
        Span::styled(
            format!("{:pad$}{:>9}  {:>9}  reason", "", "value", "limit"),
            theme.status(Status::Muted),
        ),
    ])];
    let room = (area.height as usize).saturating_sub(1);
    let sel = view.selected.min(vm.run().gates.len() - 1);
    let first = scroll_for(sel, room.max(1), vm.run().gates.len());
    for (i, g) in vm.run().gates.iter().enumerate().skip(first).take(room) {
        let st = theme.status(if g.passed { Status::Ok } else { Status::Bad });
        let row = if focused && i == sel {
            theme.selected()
        } else {
            Style::default()
        };
        let cells = format!(
            " {:<15} {:>9}  {:>9}  ",
            truncate(&g.gate, 15),
            truncate(&value_text(&g.value), 9),
            truncate(&value_text(&g.threshold), 9)
        );
        let reason_w = w.saturating_sub(2 + cells.chars().count());
        lines.push(
            Line::from(vec![
                Span::styled(
                    format!(" {}", mark(g.passed)),
                    st.add_modifier(Modifier::BOLD),
                ),
                Span::raw(cells),
                Span::styled(truncate(&g.reason, reason_w), theme.status(Status::Muted)),
            ])
            .style(row),
        );
    }
    Paragraph::new(lines).render(area, buf);
}
