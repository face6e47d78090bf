//! RCA pane: candidates with confidence bars and their strongest evidence, then where the fault
//! sits in code. Enter opens every piece of evidence for the selected candidate.

use super::common::{bar, placeholder, scroll_for, truncate};
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
    if vm.run().rca.is_empty() {
        let msg = if vm.run().finished.is_some() {
            "no root cause ranked: the run ended before RCA finished"
        } else if vm.run().state.is_some() {
            "ranking root causes…"
        } else {
            "no incident yet"
        };
        placeholder(buf, area, msg, theme);
        return;
    }
    let w = area.width as usize;
    let bar_w = (w / 5).clamp(4, 12);
    let mut lines: Vec<Line> = Vec::new();
    let loc_lines = if vm.run().location.is_some() { 4 } else { 0 };
    let per = 2;
    let room = (area.height as usize).saturating_sub(loc_lines) / per;
    let sel = view.selected.min(vm.run().rca.len() - 1);
    let first = scroll_for(sel, room.max(1), vm.run().rca.len());
    for (i, c) in vm
        .run()
        .rca
        .iter()
        .enumerate()
        .skip(first)
        .take(room.max(1))
    {
        let st = if i == 0 {
            theme.status(Status::Bad).add_modifier(Modifier::BOLD)
        } else if c.confidence >= 0.3 {
            theme.status(Status::Warn)
        } else {
            theme.status(Status::Muted)
        };
        let row = if focused && i == sel {
            theme.selected()
        } else {
            Style::default()
        };
        let head = format!("{} ", i + 1);
        let conf = format!(" {:>4}", super::common::confidence_pct(c.confidence, 0));
        let name_w = w.saturating_sub(head.len() + bar_w + conf.len() + 1);
        let name = match &c.commit {
            Some(k) => format!("{} @{k}", c.service),
            None => c.service.clone(),
        };
        lines.push(
            Line::from(vec![
                Span::styled(head, theme.status(Status::Muted)),
                Span::styled(format!("{:<name_w$} ", truncate(&name, name_w)), row),
                Span::styled(bar(c.confidence, bar_w), st),
                Span::styled(conf, st),
            ])
            .style(row),
        );
        let ev = c.evidence.first().cloned().unwrap_or_default();
        lines.push(Line::from(Span::styled(
            format!("  {}", truncate(&ev, w.saturating_sub(2))),
            theme.status(Status::Muted),
        )));
    }
    if let Some(loc) = &vm.run().location {
        lines.push(Line::from(""));
        lines.push(Line::from(vec![
            Span::styled("at ", theme.status(Status::Muted)),
            Span::styled(
                truncate(&format!("{}:{}", loc.file, loc.line), w.saturating_sub(3)),
                Style::default()
                    .fg(theme.accent)
                    .add_modifier(Modifier::BOLD),
            ),
        ]));
        lines.push(Line::from(Span::styled(
            truncate(&format!("{}() {}", loc.function, loc.error()), w),
            theme.status(Status::Bad),
        )));
        if let Some(b) = loc.blame() {
            lines.push(Line::from(Span::styled(
                truncate(&format!("last changed in {b}"), w),
                theme.status(Status::Info),
            )));
        }
    }
    Paragraph::new(lines).render(area, buf);
}
