//! The Canary pane: traffic on the new version, baseline-vs-canary charts and the verdicts.

use super::{list_hints, Component, Hint, PaneView};
use crate::pane::Pane;
use crate::view_model::ViewModel;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Span;

/// Canary pane; its selection is a verdict.
#[derive(Debug, Default, Clone)]
pub struct CanaryPane {
    selected: usize,
}

impl Component for CanaryPane {
    fn pane(&self) -> Pane {
        Pane::Canary
    }

    fn rows(&self, vm: &ViewModel, _filter: &str) -> usize {
        vm.run().rollout.verdicts.len()
    }

    fn selected(&self) -> usize {
        self.selected
    }

    fn select(&mut self, row: usize) {
        self.selected = row;
    }

    fn title_extra(&self, vm: &ViewModel, theme: &crate::theme::Theme) -> Option<Span<'static>> {
        vm.last_verdict().map(|v| {
            Span::styled(
                v.verdict.to_uppercase(),
                theme.status(crate::draw::canary::verdict_status(&v.verdict)),
            )
        })
    }

    fn draw(&self, buf: &mut Buffer, area: Rect, vm: &ViewModel, view: &PaneView) {
        crate::draw::canary::draw(buf, area, vm, view);
    }

    fn hints(&self, vm: &ViewModel) -> Vec<Hint> {
        if vm.run().rollout.verdicts.is_empty() {
            Vec::new()
        } else {
            list_hints("statistics")
        }
    }
}
