//! What sits on top of the panes: the approval dialog, help, details of a selected row, and the
//! question before quitting. Each lives in its own module; they share the frame drawn here.

pub mod approval;
pub mod details;
pub mod help;
pub mod outcome;
pub mod quit;

use crate::theme::{Status, Theme};
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Span;
use ratatui::widgets::{Block, BorderType, Borders};

/// A centred rectangle of at most `w`×`h` inside `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

pub(crate) fn dialog_block<'a>(title: &str, theme: &Theme, status: Status) -> Block<'a> {
    let st = theme.status(status).add_modifier(Modifier::BOLD);
    Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Double)
        .border_style(st)
        .title(Span::styled(format!(" {title} "), st))
        .style(theme.base())
}

pub(crate) fn key(k: &str, theme: &Theme) -> Span<'static> {
    Span::styled(
        format!("[{k}]"),
        Style::default()
            .fg(theme.accent)
            .add_modifier(Modifier::BOLD),
    )
}
