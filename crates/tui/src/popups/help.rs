//! Help: every key from the keymap, and the `:` commands.

use super::{centered, dialog_block};
use crate::input::COMMANDS;
use crate::keymap::help_rows;
use crate::theme::Status;
use crate::ui_state::UiState;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use ratatui::Frame;

/// Help overlay, printed from the keymap table.
pub fn draw(f: &mut Frame, area: Rect, ui: &UiState) {
    let theme = ui.theme();
    let rows = help_rows();
    // The `:` row already names the commands; their own section only when there is room.
    let with_commands =
        rows.len() + COMMANDS.len() + 5 <= usize::from(area.height.saturating_sub(2));
    let h = (rows.len() + if with_commands { COMMANDS.len() + 5 } else { 0 }) as u16;
    let r = centered(area, 78, h + 2);
    f.render_widget(Clear, r);
    let block = dialog_block("Help — keys", theme, Status::Info);
    let inner = block.inner(r);
    f.render_widget(block, r);
    let mut lines: Vec<Line> = rows
        .iter()
        .map(|(k, d)| {
            Line::from(vec![
                Span::styled(
                    format!(" {k:<16}"),
                    Style::default()
                        .fg(theme.accent)
                        .add_modifier(Modifier::BOLD),
                ),
                Span::raw(d.to_string()),
            ])
        })
        .collect();
    if !with_commands {
        f.render_widget(Paragraph::new(lines), inner);
        return;
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        " commands (after :)",
        theme.status(Status::Muted),
    )));
    for (c, d) in COMMANDS {
        lines.push(Line::from(vec![
            Span::styled(format!(" {c:<16}"), Style::default().fg(theme.accent)),
            Span::raw(d.to_string()),
        ]));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        " Esc or ? closes this.",
        theme.status(Status::Muted),
    )));
    f.render_widget(Paragraph::new(lines), inner);
}
