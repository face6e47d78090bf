//! Timeline pane: every event with its pipeline time, newest at the bottom and followed until the
//! operator scrolls up. Enter shows a decision's full justification.

use super::common::{placeholder, scroll_for, truncate};
use super::PaneView;
use crate::theme::Status;
use crate::view_model::ViewModel;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

/// Draw the pane's inside.
pub fn draw(buf: &mut Buffer, area: Rect, vm: &ViewModel, view: &PaneView) {
    let theme = view.theme;
    let focused = view.focused;
    let rows = vm.filtered_timeline(view.filter);
    if rows.is_empty() {
        let msg = if view.filter.is_empty() {
            "no events yet".to_string()
        } else {
            format!("no event matches /{}", view.filter)
        };
        placeholder(buf, area, &msg, theme);
        return;
    }
    let h = area.height as usize;
    let sel = if view.follow {
        rows.len().saturating_sub(1)
    } else {
        view.selected.min(rows.len().saturating_sub(1))
    };
    let first = scroll_for(sel, h, rows.len());
    let w = area.width as usize;
    let lines: Vec<Line> = rows
        .iter()
        .enumerate()
        .skip(first)
        .take(h)
        .map(|(i, &ix)| {
            let e = &vm.timeline[ix];
            let st = theme.status(e.status);
            let row = if focused && i == sel && !view.follow {
                theme.selected()
            } else {
                Style::default()
            };
            let label = format!("{:<9}", truncate(&e.label, 9));
            let more = if e.justification.is_some() || !e.more.is_empty() {
                " ›"
            } else {
                ""
            };
            let fixed = 9 + 1 + 9 + 1 + more.chars().count();
            Line::from(vec![
                Span::styled(format!("{} ", e.time), theme.status(Status::Muted)),
                Span::styled(label, st.add_modifier(Modifier::BOLD)),
                Span::raw(" "),
                Span::styled(truncate(&e.summary, w.saturating_sub(fixed)), st),
                Span::styled(more, theme.status(Status::Muted)),
            ])
            .style(row)
        })
        .collect();
    Paragraph::new(lines).render(area, buf);
}
