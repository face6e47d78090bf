//! The Dependency Graph pane: services as boxes, calls as lines, the root cause and its blast
//! radius marked; the selection walks the services in reading order.

use super::{Component, Hint, PaneView};
use crate::draw::graph::{navigation_order, GraphInput};
use crate::keymap::Action;
use crate::pane::Pane;
use crate::theme::{Status, Theme};
use crate::view_model::ViewModel;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Span;

/// Graph pane; its selection is a service in [`navigation_order`].
#[derive(Debug, Default, Clone)]
pub struct GraphPane {
    selected: usize,
}

impl Component for GraphPane {
    fn pane(&self) -> Pane {
        Pane::Graph
    }

    fn rows(&self, vm: &ViewModel, _filter: &str) -> usize {
        navigation_order(vm.services(), vm.edges()).len()
    }

    fn selected(&self) -> usize {
        self.selected
    }

    fn select(&mut self, row: usize) {
        self.selected = row;
    }

    fn title_extra(&self, vm: &ViewModel, theme: &Theme) -> Option<Span<'static>> {
        if vm.services().is_empty() {
            return None;
        }
        let sick = vm.services().iter().filter(|s| s.unhealthy).count();
        Some(Span::styled(
            format!("{} services, {sick} unhealthy", vm.services().len()),
            theme.status(if sick > 0 { Status::Bad } else { Status::Ok }),
        ))
    }

    fn draw(&self, buf: &mut Buffer, area: Rect, vm: &ViewModel, view: &PaneView) {
        let cache = view.cache;
        let order = cache.graph_order(vm.services(), vm.edges());
        let root = vm.root_service();
        let blast = root.map(|r| cache.blast_radius(r, vm.edges()));
        let selected = if view.focused {
            order.get(self.selected).map(String::as_str)
        } else {
            None
        };
        cache.draw_graph(
            buf,
            area,
            &GraphInput {
                services: vm.services(),
                edges: vm.edges(),
                root,
                blast: blast.as_deref().map_or(&[], Vec::as_slice),
                selected,
            },
            view.theme,
        );
    }

    fn hints(&self, _vm: &ViewModel) -> Vec<Hint> {
        vec![(Action::Down, "service"), (Action::Open, "health")]
    }
}
