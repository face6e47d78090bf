//! The RCA pane: root-cause candidates, best first, with their evidence.

use super::{list_hints, Component, Hint, PaneView};
use crate::pane::Pane;
use crate::theme::{Status, Theme};
use crate::view_model::ViewModel;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Span;

/// RCA pane; its selection is a candidate.
#[derive(Debug, Default, Clone)]
pub struct RcaPane {
    selected: usize,
}

impl Component for RcaPane {
    fn pane(&self) -> Pane {
        Pane::Rca
    }

    fn rows(&self, vm: &ViewModel, _filter: &str) -> usize {
        vm.run().rca.len()
    }

    fn selected(&self) -> usize {
        self.selected
    }

    fn select(&mut self, row: usize) {
        self.selected = row;
    }

    fn title_extra(&self, vm: &ViewModel, theme: &Theme) -> Option<Span<'static>> {
        vm.run().rca.first().map(|c| {
            Span::styled(
                format!(
                    "{} {}",
                    c.service,
                    crate::draw::common::confidence_pct(c.confidence, 0)
                ),
                theme.status(Status::Bad),
            )
        })
    }

    fn draw(&self, buf: &mut Buffer, area: Rect, vm: &ViewModel, view: &PaneView) {
        crate::draw::rca::draw(buf, area, vm, view);
    }

    fn hints(&self, _vm: &ViewModel) -> Vec<Hint> {
        list_hints("evidence")
    }
}
