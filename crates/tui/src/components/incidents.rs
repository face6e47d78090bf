//! The Incidents pane: every incident with its state, and the pipeline's progress.

use super::{list_hints, Component, Hint, PaneView};
use crate::pane::Pane;
use crate::theme::{Status, Theme};
use crate::view_model::ViewModel;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Span;

/// Incident list; its selection picks the incident whose details Enter shows.
#[derive(Debug, Default, Clone)]
pub struct IncidentsPane {
    selected: usize,
}

impl Component for IncidentsPane {
    fn pane(&self) -> Pane {
        Pane::Incidents
    }

    fn rows(&self, vm: &ViewModel, _filter: &str) -> usize {
        vm.incidents().len()
    }

    fn selected(&self) -> usize {
        self.selected
    }

    fn select(&mut self, row: usize) {
        self.selected = row;
    }

    fn title_extra(&self, vm: &ViewModel, theme: &Theme) -> Option<Span<'static>> {
        vm.desk
            .as_ref()
            .map(|d| Span::styled(d.clone(), theme.status(Status::Muted)))
    }

    fn draw(&self, buf: &mut Buffer, area: Rect, vm: &ViewModel, view: &PaneView) {
        crate::draw::incidents::draw(buf, area, vm, view);
    }

    fn hints(&self, _vm: &ViewModel) -> Vec<Hint> {
        list_hints("incident")
    }
}
