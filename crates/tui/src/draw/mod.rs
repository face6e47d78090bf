//! Drawing the panes' insides: pure functions from the view model and a [`PaneView`] to cells.
//! Nothing here reads the clock, the pipeline, the terminal or another pane's state, so every
//! pane is reproducible in a `TestBackend` snapshot. The whole screen is put together in
//! [`crate::screen`].

pub mod canary;
pub mod common;
pub mod diff;
pub mod gates;
pub mod graph;
pub mod incidents;
pub mod rca;
pub mod timeline;

use crate::highlight::Highlighter;
use crate::theme::Theme;
use ratatui::text::Line;
use std::cell::RefCell;

/// Memo for expensive, deterministic rendering (syntax highlighting). Keyed by the inputs, so
/// using it never changes what is drawn, only how fast.
pub struct DrawCache {
    highlighter: Highlighter,
    diff: RefCell<Option<(String, String, Vec<Line<'static>>)>>,
}

impl Default for DrawCache {
    fn default() -> Self {
        Self::new()
    }
}

impl DrawCache {
    /// Load syntect's syntaxes and themes once.
    pub fn new() -> Self {
        Self {
            highlighter: Highlighter::new(),
            diff: RefCell::new(None),
        }
    }

    /// Highlighted diff lines for a diff under a theme, computed once per pair.
    pub fn diff_lines(&self, diff: &str, theme: &Theme) -> Vec<Line<'static>> {
        let key = format!("{}|{}", theme.name, theme.monochrome);
        if let Some((d, k, lines)) = self.diff.borrow().as_ref() {
            if d == diff && *k == key {
                return lines.clone();
            }
        }
        let lines = self.highlighter.diff_lines(diff, theme);
        *self.diff.borrow_mut() = Some((diff.to_string(), key, lines.clone()));
        lines
    }
}

/// What a pane draws with besides the view model: the operator's shared settings and the pane's
/// own position, so a drawing function never reaches into another pane's state.
pub struct PaneView<'a> {
    /// The active theme.
    pub theme: &'a Theme,
    /// The `/` filter (Incidents and Timeline apply it).
    pub filter: &'a str,
    /// The pane has the keyboard.
    pub focused: bool,
    /// The pane's selected row (or first visible line).
    pub selected: usize,
    /// Timeline: stuck to the newest event.
    pub follow: bool,
    /// Memo for syntax highlighting.
    pub cache: &'a DrawCache,
}
