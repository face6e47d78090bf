//! The outcome banner: once the run has ended, across the bottom of the panes, what happened,
//! why (wrapped, never cut), and what a human should do next. `Esc` hides it to read the panes.

use super::key;
use crate::draw::common::wrap;
use crate::theme::Status;
use crate::ui_state::UiState;
use crate::view_model::{outcome_status, ViewModel};
use ccp_core::outcome_text::ending;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph};
use ratatui::Frame;

/// Rows the banner needs at `width` (0 when there is none to show): the screen gives them up
/// below the panes, so the banner never hides the newest events.
pub fn height(vm: &ViewModel, ui: &UiState, width: u16) -> u16 {
    if ui.overlay.is_some() || ui.banner_hidden {
        return 0;
    }
    lines(vm, ui, width).map_or(0, |l| l.len() as u16 + 2)
}

fn lines(vm: &ViewModel, ui: &UiState, width: u16) -> Option<Vec<Line<'static>>> {
    let end = ending(vm.run())?;
    let theme = ui.theme();
    let width = width.saturating_sub(4) as usize;
    let mut lines: Vec<Line> = Vec::new();
    for l in wrap(&end.why, width) {
        lines.push(Line::from(l));
    }
    let next = format!("next: {}", end.next);
    for (i, l) in wrap(&next, width).into_iter().enumerate() {
        let style = if i == 0 {
            theme.status(Status::Info).add_modifier(Modifier::BOLD)
        } else {
            theme.status(Status::Info)
        };
        lines.push(Line::from(Span::styled(l, style)));
    }
    Some(lines)
}

/// Draw the banner into `area` (as tall as [`height`] asked for).
pub fn draw(f: &mut Frame, area: Rect, vm: &ViewModel, ui: &UiState) {
    let (Some(end), Some(outcome), Some(lines)) = (
        ending(vm.run()),
        vm.run().outcome(),
        lines(vm, ui, area.width),
    ) else {
        return;
    };
    let theme = ui.theme();
    let style = theme
        .status(outcome_status(outcome))
        .add_modifier(Modifier::BOLD);
    let mut title = vec![Span::styled(format!(" {} ", end.title), style)];
    if end.still_unhealthy && !vm.run().service.is_empty() {
        title.push(Span::styled(
            format!("{} is still unhealthy ", vm.run().service),
            theme.status(Status::Bad),
        ));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Thick)
        .border_style(style)
        .title(Line::from(title))
        .title_bottom(Line::from(vec![key("Esc", theme), Span::raw(" hide ")]))
        .style(theme.base());
    f.render_widget(Clear, area);
    f.render_widget(Paragraph::new(lines).block(block), area);
}
