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
use ccp_core::domain::ServiceHealth;
use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::text::Line;
use std::cell::RefCell;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::rc::Rc;

/// Memo for expensive, deterministic rendering (syntax highlighting). Keyed by the inputs, so
/// using it never changes what is drawn, only how fast.
pub struct DrawCache {
    highlighter: Highlighter,
    diff: RefCell<Option<HighlightedDiff>>,
    /// Panes' cells by a digest of everything they were drawn from (see [`Self::cells`]).
    panes: RefCell<std::collections::HashMap<&'static str, (u64, Buffer)>>,
    /// Reading order of the graph's services, by topology (names and calls): computing it
    /// lays the graph out, the dearest part of the pane.
    graph_order: RefCell<Option<(u64, Rc<Vec<String>>)>>,
    /// Transitive callers of the root cause, by root and calls.
    blast: RefCell<Option<(u64, Rc<Vec<String>>)>>,
    /// The graph pane's cells, by everything they are drawn from: a frame where no service's
    /// health, the root or the selection changed copies them instead of drawing.
    graph_cells: RefCell<Option<(u64, Buffer)>>,
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
            graph_order: RefCell::new(None),
            blast: RefCell::new(None),
            graph_cells: RefCell::new(None),
            panes: RefCell::new(std::collections::HashMap::new()),
        }
    }

    /// Draws `area` of `buf` with `draw`, or copies the cells drawn last time under the same
    /// `key` (a digest of everything `draw` reads, the area and theme included). Why: a live
    /// frame follows every event, and most events change one or two panes; the rest are the
    /// same cells as before.
    pub fn cells(
        &self,
        pane: &'static str,
        key: u64,
        buf: &mut Buffer,
        area: Rect,
        draw: impl FnOnce(&mut Buffer, Rect),
    ) {
        let area = area.intersection(buf.area);
        let mut panes = self.panes.borrow_mut();
        let fresh = !matches!(panes.get(pane), Some((k, cells)) if *k == key && cells.area == area);
        if fresh {
            let mut cells = Buffer::empty(area);
            // The cells start as the frame's would: whatever the pane's block left there.
            copy_cells(buf, &mut cells, area);
            draw(&mut cells, area);
            panes.insert(pane, (key, cells));
        }
        if let Some((_, cells)) = panes.get(pane) {
            copy_cells(cells, buf, area);
        }
    }

    /// [`graph::navigation_order`], computed once per topology.
    pub fn graph_order(
        &self,
        services: &[ServiceHealth],
        edges: &[(String, String)],
    ) -> Rc<Vec<String>> {
        let key = fingerprint(|h| {
            services.iter().for_each(|s| s.name.hash(h));
            edges.hash(h);
        });
        memo(&self.graph_order, key, || {
            graph::navigation_order(services, edges)
        })
    }

    /// [`graph::blast_radius`], computed once per root and calls.
    pub fn blast_radius(&self, root: &str, edges: &[(String, String)]) -> Rc<Vec<String>> {
        let key = fingerprint(|h| {
            root.hash(h);
            edges.hash(h);
        });
        memo(&self.blast, key, || graph::blast_radius(root, edges))
    }

    /// [`graph::draw_graph`], drawn once per distinct input, area and theme and copied after.
    pub fn draw_graph(&self, buf: &mut Buffer, area: Rect, g: &graph::GraphInput, theme: &Theme) {
        let area = area.intersection(buf.area);
        let key = fingerprint(|h| {
            area.hash(h);
            theme.name.hash(h);
            theme.monochrome.hash(h);
            for s in g.services {
                s.name.hash(h);
                s.unhealthy.hash(h);
                for x in [s.criticality, s.error_rate, s.latency_p99_ms] {
                    x.to_bits().hash(h);
                }
            }
            g.edges.hash(h);
            g.root.hash(h);
            g.blast.hash(h);
            g.selected.hash(h);
        });
        let mut cached = self.graph_cells.borrow_mut();
        if !matches!(cached.as_ref(), Some((k, _)) if *k == key) {
            let mut cells = Buffer::empty(area);
            graph::draw_graph(&mut cells, area, g, theme);
            *cached = Some((key, cells));
        }
        if let Some((_, cells)) = cached.as_ref() {
            copy_cells(cells, buf, area);
        }
    }
}

/// A 64-bit digest of what `feed` hashes: the key of a memo.
pub fn fingerprint(feed: impl FnOnce(&mut DefaultHasher)) -> u64 {
    let mut h = DefaultHasher::new();
    feed(&mut h);
    h.finish()
}

/// The memo's value for `key`, computing and keeping it on a miss.
fn memo<T>(slot: &RefCell<Option<(u64, Rc<T>)>>, key: u64, make: impl FnOnce() -> T) -> Rc<T> {
    if let Some((k, v)) = slot.borrow().as_ref() {
        if *k == key {
            return v.clone();
        }
    }
    let v = Rc::new(make());
    *slot.borrow_mut() = Some((key, v.clone()));
    v
}

/// Copies `area` of `from` (a buffer covering it) onto `to`.
fn copy_cells(from: &Buffer, to: &mut Buffer, area: Rect) {
    for y in area.top()..area.bottom() {
        for x in area.left()..area.right() {
            let p = Position { x, y };
            if let (Some(src), Some(dst)) = (from.cell(p), to.cell_mut(p)) {
                dst.clone_from(src);
            }
        }
    }
}

impl DrawCache {
    /// Highlighted diff lines for a diff under a theme, computed once per pair.
    pub fn diff_lines(&self, diff: &str, theme: &Theme) -> Rc<Vec<Line<'static>>> {
        let key = format!("{}|{}", theme.name, theme.monochrome);
        if let Some((d, k, lines)) = self.diff.borrow().as_ref() {
            if d == diff && *k == key {
                return lines.clone();
            }
        }
        let lines = Rc::new(self.highlighter.diff_lines(diff, theme));
        *self.diff.borrow_mut() = Some((diff.to_string(), key, lines.clone()));
        lines
    }
}

/// A diff, the theme key it was highlighted under, and its lines.
type HighlightedDiff = (String, String, Rc<Vec<Line<'static>>>);

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
