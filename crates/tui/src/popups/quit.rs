//! The questions before stopping an operation in flight: quitting the cockpit (which embeds the
//! pipeline) and aborting with `x`. Both say what will happen to production, naming the service
//! and how much of its traffic is on the patch, so nothing changes by surprise.

use super::{centered, dialog_block, key};
use crate::theme::Status;
use crate::ui_state::UiState;
use crate::view_model::ViewModel;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};
use ratatui::Frame;

/// What stopping the pipeline now does to production, in one sentence.
pub fn consequence(vm: &ViewModel) -> String {
    let run = vm.run();
    let service = if run.service.is_empty() {
        "the service".to_string()
    } else {
        run.service.clone()
    };
    match run.rollout.traffic_pct {
        0 => format!(
            "Nothing is deployed on {service} yet: the pipeline stops and the incident escalates to a human."
        ),
        pct => format!(
            "{service} has {pct}% of its traffic on the patch: it goes back to the previous version and the incident ends rolled back."
        ),
    }
}

fn ask(f: &mut Frame, area: Rect, vm: &ViewModel, ui: &UiState, title: &str, yes: &str) {
    let theme = ui.theme();
    let r = centered(area, 72, 8);
    f.render_widget(Clear, r);
    let block = dialog_block(title, theme, Status::Warn);
    let inner = block.inner(r);
    f.render_widget(block, r);
    let state = vm.run().state.map(|s| s.to_string()).unwrap_or_default();
    f.render_widget(
        Paragraph::new(vec![
            Line::from(format!("The pipeline is in {state}.")),
            Line::from(consequence(vm)),
            Line::from(""),
            Line::from(vec![
                key("y", theme),
                Span::raw(format!(" {yes}   ")),
                key("any other key", theme),
                Span::raw(" keep going"),
            ]),
        ])
        .wrap(Wrap { trim: false }),
        inner,
    );
}

/// "Quit while something is changing production?"
pub fn draw(f: &mut Frame, area: Rect, vm: &ViewModel, ui: &UiState) {
    ask(f, area, vm, ui, "Quit?", "quit and stop the pipeline");
}

/// "Roll back now?" (`x`).
pub fn draw_abort(f: &mut Frame, area: Rect, vm: &ViewModel, ui: &UiState) {
    let title = if vm.run().rollout.traffic_pct > 0 {
        "Roll back now?"
    } else {
        "Abort now?"
    };
    ask(f, area, vm, ui, title, "abort");
}
