//! Diff pane: the proposed patch, syntax-highlighted, with line numbers and +/- gutters. The
//! highlighted lines are cached per (diff, theme): syntect is too slow to run every frame.

use super::common::{placeholder, truncate};
use super::PaneView;
use crate::theme::Status;
use crate::view_model::ViewModel;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

/// Lines above the code: what the patch is and why.
pub const HEADER_LINES: usize = 2;

/// Draw the pane's inside.
pub fn draw(buf: &mut Buffer, area: Rect, vm: &ViewModel, view: &PaneView) {
    let theme = view.theme;
    let cache = view.cache;
    let Some(fix) = &vm.run().fix else {
        let msg = if let Some(fin) = &vm.run().finished {
            format!(
                "no patch: the run ended {} before one was planned",
                fin.state
            )
        } else if vm.run().location.is_some() {
            "planning a fix…".to_string()
        } else {
            "the patch appears here once the fault is located".to_string()
        };
        let msg = msg.as_str();
        placeholder(buf, area, msg, theme);
        return;
    };
    let key = super::fingerprint(|h| {
        use std::hash::Hash;
        (&fix.template, &fix.file, fix.line, fix.added, fix.removed).hash(h);
        (&fix.description, &fix.diff, view.selected).hash(h);
        (&theme.name, theme.monochrome, area).hash(h);
    });
    cache.cells("diff", key, buf, area, |buf, area| {
        draw_fix(buf, area, fix, view)
    });
}

/// The patch with its header, scrolled to the pane's first line.
fn draw_fix(
    buf: &mut Buffer,
    area: Rect,
    fix: &ccp_core::projection::ProposedFix,
    view: &PaneView,
) {
    let (theme, cache) = (view.theme, view.cache);
    let w = area.width as usize;
    let mut lines = vec![
        Line::from(vec![
            Span::styled(
                fix.template.clone(),
                Style::default()
                    .fg(theme.accent)
                    .add_modifier(Modifier::BOLD),
            ),
            Span::raw(" on "),
            Span::styled(
                truncate(&format!("{}:{}", fix.file, fix.line), w / 2),
                Style::default().add_modifier(Modifier::BOLD),
            ),
            Span::styled(format!("  +{}", fix.added), theme.status(Status::Ok)),
            Span::styled(format!(" −{}", fix.removed), theme.status(Status::Bad)),
        ]),
        Line::from(Span::styled(
            truncate(&fix.description, w),
            theme.status(Status::Muted),
        )),
    ];
    let code = cache.diff_lines(&fix.diff, theme);
    let room = (area.height as usize).saturating_sub(HEADER_LINES);
    let max_first = code.len().saturating_sub(room);
    let first = view.selected.min(max_first);
    lines.extend(code.iter().skip(first).take(room).cloned());
    Paragraph::new(lines).render(area, buf);
}
