//! The Gates pane: every safety gate with its value, threshold and reason.

use super::{list_hints, Component, Hint, PaneView};
use crate::pane::Pane;
use crate::theme::{Status, Theme};
use crate::view_model::ViewModel;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Span;

/// Gates pane; its selection is a gate.
#[derive(Debug, Default, Clone)]
pub struct GatesPane {
    selected: usize,
}

impl Component for GatesPane {
    fn pane(&self) -> Pane {
        Pane::Gates
    }

    fn rows(&self, vm: &ViewModel, _filter: &str) -> usize {
        vm.run().gates.len()
    }

    fn selected(&self) -> usize {
        self.selected
    }

    fn select(&mut self, row: usize) {
        self.selected = row;
    }

    fn title_extra(&self, vm: &ViewModel, theme: &Theme) -> Option<Span<'static>> {
        let gates = &vm.run().gates;
        if gates.is_empty() {
            return None;
        }
        let passed = gates.iter().filter(|g| g.passed).count();
        Some(Span::styled(
            format!("{passed}/{}", gates.len()),
            theme.status(if passed == gates.len() {
                Status::Ok
            } else {
                Status::Bad
            }),
        ))
    }

    fn draw(&self, buf: &mut Buffer, area: Rect, vm: &ViewModel, view: &PaneView) {
        crate::draw::gates::draw(buf, area, vm, view);
    }

    fn hints(&self, _vm: &ViewModel) -> Vec<Hint> {
        list_hints("gate")
    }
}
