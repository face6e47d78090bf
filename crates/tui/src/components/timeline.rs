//! The Timeline pane: every event, newest at the bottom, followed until the operator scrolls up.

use super::{navigate, Component, Hint, PaneView};
use crate::keymap::Action;
use crate::pane::Pane;
use crate::theme::{Status, Theme};
use crate::view_model::ViewModel;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Span;

/// Timeline pane: a selection, and whether it sticks to the newest event.
#[derive(Debug, Clone)]
pub struct TimelinePane {
    selected: usize,
    /// Stuck to the newest event until the operator scrolls up; `G` brings it back.
    pub follow: bool,
}

impl Default for TimelinePane {
    fn default() -> Self {
        Self {
            selected: 0,
            follow: true,
        }
    }
}

impl TimelinePane {
    /// Index (into the filtered rows) of the selected row: the newest while following.
    pub fn selected_row(&self, total: usize) -> usize {
        if total == 0 {
            0
        } else if self.follow {
            total - 1
        } else {
            self.selected.min(total - 1)
        }
    }
}

impl Component for TimelinePane {
    fn pane(&self) -> Pane {
        Pane::Timeline
    }

    fn rows(&self, vm: &ViewModel, filter: &str) -> usize {
        vm.filtered_timeline(filter).len()
    }

    fn selected(&self) -> usize {
        self.selected
    }

    fn select(&mut self, row: usize) {
        self.selected = row;
    }

    /// Like every list, except that moving starts from the newest row while following, reaching
    /// the end by moving down follows again, and `g` / `G` stop / start following.
    fn on_action(&mut self, action: Action, vm: &ViewModel, filter: &str) -> bool {
        let n = self.rows(vm, filter);
        let Some(next) = navigate(action, self.selected_row(n), n) else {
            return false;
        };
        if n == 0 {
            // Nothing to move through (a filter matches no event): keep following.
            return true;
        }
        self.selected = next;
        self.follow = match action {
            Action::Top => false,
            Action::Bottom => true,
            Action::Down | Action::PageDown => next + 1 == n,
            _ => false,
        };
        true
    }

    fn title_extra(&self, vm: &ViewModel, theme: &Theme) -> Option<Span<'static>> {
        Some(Span::styled(
            format!("{} events", vm.timeline.len()),
            theme.status(Status::Muted),
        ))
    }

    fn draw(&self, buf: &mut Buffer, area: Rect, vm: &ViewModel, view: &PaneView) {
        crate::draw::timeline::draw(buf, area, vm, view);
    }

    fn hints(&self, _vm: &ViewModel) -> Vec<Hint> {
        let mut h = vec![(Action::Down, "scroll"), (Action::Open, "details")];
        if !self.follow {
            h.push((Action::Bottom, "follow"));
        }
        h.push((Action::Filter, "filter"));
        h
    }
}
