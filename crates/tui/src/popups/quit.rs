//! The question before quitting while an operation is in flight.

use super::{centered, dialog_block, key};
use crate::theme::Status;
use crate::ui_state::UiState;
use crate::view_model::ViewModel;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};
use ratatui::Frame;

/// "Quit while something is changing production?"
pub fn draw(f: &mut Frame, area: Rect, vm: &ViewModel, ui: &UiState) {
    let theme = ui.theme();
    let r = centered(area, 66, 7);
    f.render_widget(Clear, r);
    let block = dialog_block("Quit?", theme, Status::Warn);
    let inner = block.inner(r);
    f.render_widget(block, r);
    let state = vm.run().state.map(|s| s.to_string()).unwrap_or_default();
    f.render_widget(
        Paragraph::new(vec![
            Line::from(format!("The pipeline is in {state}.")),
            Line::from(
                "Quitting stops the pipeline: traffic already on the patch is rolled back; \
                 otherwise the incident escalates to a human.",
            ),
            Line::from(""),
            Line::from(vec![
                key("y", theme),
                Span::raw(" quit   "),
                key("any other key", theme),
                Span::raw(" stay"),
            ]),
        ])
        .wrap(Wrap { trim: false }),
        inner,
    );
}
