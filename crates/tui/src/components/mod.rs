//! The cockpit's panes as components, after gitui: each pane owns the state only it changes (its
//! selection or scroll, the timeline's "follow the newest"), draws itself from the view model,
//! handles the navigation keys while focused, and says which keys mean something in it now.
//! Global keys (approve, quit, themes, prompts) stay in [`crate::input`]; which key is which
//! action stays in [`crate::keymap`], so hints and help are printed from the same table.

mod canary;
mod diff;
mod gates;
mod graph;
mod incidents;
mod rca;
mod timeline;

pub use canary::CanaryPane;
pub use diff::DiffPane;
pub use gates::GatesPane;
pub use graph::GraphPane;
pub use incidents::IncidentsPane;
pub use rca::RcaPane;
pub use timeline::TimelinePane;

pub use crate::draw::PaneView;
use crate::keymap::{key_name, Action};
use crate::pane::Pane;
use crate::theme::Theme;
use crate::view_model::ViewModel;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Span;

/// Rows a page key moves.
pub const PAGE: usize = 10;

/// A key the focused pane reacts to, and what it does there, for the status bar.
pub type Hint = (Action, &'static str);

/// One pane of the cockpit.
pub trait Component {
    /// Which pane this is (title, focus order, layout slot).
    fn pane(&self) -> Pane;

    /// Rows the operator can move through now.
    fn rows(&self, vm: &ViewModel, filter: &str) -> usize;

    /// The selected row (or scroll offset).
    fn selected(&self) -> usize;

    /// Move the selection to `row` (callers clamp).
    fn select(&mut self, row: usize);

    /// Handle a navigation action while focused; false when the action is not the pane's.
    fn on_action(&mut self, action: Action, vm: &ViewModel, filter: &str) -> bool {
        let n = self.rows(vm, filter);
        match navigate(action, self.selected(), n) {
            Some(row) => {
                self.select(row);
                true
            }
            None => false,
        }
    }

    /// A short status next to the title (`3/11`, `payment-service 92%`).
    fn title_extra(&self, _vm: &ViewModel, _theme: &Theme) -> Option<Span<'static>> {
        None
    }

    /// Draw the pane's inside (the border and title are drawn by the caller).
    fn draw(&self, buf: &mut Buffer, area: Rect, vm: &ViewModel, view: &PaneView);

    /// Keys that mean something in this pane now.
    fn hints(&self, vm: &ViewModel) -> Vec<Hint>;
}

/// The seven panes, each with its own state.
#[derive(Debug, Default, Clone)]
pub struct Panes {
    /// Incident list and progress.
    pub incidents: IncidentsPane,
    /// Dependency graph.
    pub graph: GraphPane,
    /// Root-cause candidates.
    pub rca: RcaPane,
    /// The patch.
    pub diff: DiffPane,
    /// Safety gates.
    pub gates: GatesPane,
    /// Canary charts and verdicts.
    pub canary: CanaryPane,
    /// Every event.
    pub timeline: TimelinePane,
}

impl Panes {
    /// The component drawing `pane`.
    pub fn get(&self, pane: Pane) -> &dyn Component {
        match pane {
            Pane::Incidents => &self.incidents,
            Pane::Graph => &self.graph,
            Pane::Rca => &self.rca,
            Pane::Diff => &self.diff,
            Pane::Gates => &self.gates,
            Pane::Canary => &self.canary,
            Pane::Timeline => &self.timeline,
        }
    }

    /// The component drawing `pane`, to change its state.
    pub fn get_mut(&mut self, pane: Pane) -> &mut dyn Component {
        match pane {
            Pane::Incidents => &mut self.incidents,
            Pane::Graph => &mut self.graph,
            Pane::Rca => &mut self.rca,
            Pane::Diff => &mut self.diff,
            Pane::Gates => &mut self.gates,
            Pane::Canary => &mut self.canary,
            Pane::Timeline => &mut self.timeline,
        }
    }
}

/// Where a navigation action moves a selection at `current` among `rows` rows (clamped);
/// `None` for actions that do not navigate.
pub fn navigate(action: Action, current: usize, rows: usize) -> Option<usize> {
    let last = rows.saturating_sub(1);
    let delta: isize = match action {
        Action::Down => 1,
        Action::Up => -1,
        Action::PageDown => PAGE as isize,
        Action::PageUp => -(PAGE as isize),
        Action::Top => return Some(0),
        Action::Bottom => return Some(last),
        _ => return None,
    };
    Some((current.min(last) as isize + delta).clamp(0, last as isize) as usize)
}

/// Hints as the status bar prints them: `j/k select  Enter evidence`.
pub fn hint_text(hints: &[Hint]) -> String {
    hints
        .iter()
        .map(|(a, what)| format!("{} {what}", key_name(*a)))
        .collect::<Vec<_>>()
        .join("  ")
}

/// The usual hints of a list: move, and open the selected row's details.
fn list_hints(what_open: &'static str) -> Vec<Hint> {
    vec![(Action::Down, "select"), (Action::Open, what_open)]
}
