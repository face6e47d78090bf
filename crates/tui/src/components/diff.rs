//! The Diff pane: the proposed patch, highlighted; the selection is the first visible line.

use super::{Component, Hint, PaneView};
use crate::keymap::Action;
use crate::pane::Pane;
use crate::view_model::ViewModel;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

/// Diff pane; scrolls through the patch.
#[derive(Debug, Default, Clone)]
pub struct DiffPane {
    first_line: usize,
}

impl Component for DiffPane {
    fn pane(&self) -> Pane {
        Pane::Diff
    }

    fn rows(&self, vm: &ViewModel, _filter: &str) -> usize {
        vm.run()
            .fix
            .as_ref()
            .map_or(0, |f| f.diff.lines().count() + 2)
    }

    fn selected(&self) -> usize {
        self.first_line
    }

    fn select(&mut self, row: usize) {
        self.first_line = row;
    }

    fn draw(&self, buf: &mut Buffer, area: Rect, vm: &ViewModel, view: &PaneView) {
        crate::draw::diff::draw(buf, area, vm, view);
    }

    fn hints(&self, vm: &ViewModel) -> Vec<Hint> {
        if vm.run().fix.is_some() {
            vec![(Action::Down, "scroll"), (Action::PageDown, "page")]
        } else {
            Vec::new()
        }
    }
}
