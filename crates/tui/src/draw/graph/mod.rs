//! The service dependency graph pane: the picture an on-call engineer reads at a glance.
//!
//! Layers are columns, callers on the left and databases on the right (see
//! [`self::layout`]); each service is a box with its name and error rate, framed in
//! its health colour; calls are orthogonal lines with rounded bends ending in `▶`. The suspected
//! root cause gets a heavy frame and `◆ ROOT`, the services it hurts (its blast radius) a dashed
//! frame and `▲`, and the calls that carry the failure are coloured, so the path from the
//! symptom to the cause stands out. Glyphs and frames say the same as colours, so a `NO_COLOR`
//! terminal loses nothing.
//!
//! The drawing tries roomy boxes first and denser ones after; when no layered drawing fits the
//! pane it falls back to a list grouped by layer that puts the root cause, unhealthy and blast
//! radius services first.
//!
//! The parts, in the order a frame uses them: [`layout`] assigns layers and the order within
//! each (pure graph work), `model` marks services, `routing` plans box sizes and routes calls
//! through the gaps, `boxes` and `canvas` draw, and `list` is the fallback. `labels` holds the
//! text and style helpers they share.

use self::layout::{Layered, Link, NodeKind};
use crate::theme::{Status, Theme};
use ccp_core::domain::ServiceHealth;
use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Modifier, Style};
use std::collections::{HashMap, HashSet};

mod boxes;
mod canvas;
mod labels;
pub mod layout;
mod list;
mod model;
mod routing;
#[cfg(test)]
mod tests;

use boxes::*;
use canvas::*;
use labels::*;
use list::*;
use model::*;
use routing::*;

/// What the graph pane shows. Borrowed from the view model so drawing copies nothing.
pub struct GraphInput<'a> {
    /// Every service with its recent health.
    pub services: &'a [ServiceHealth],
    /// Calls, caller → callee.
    pub edges: &'a [(String, String)],
    /// Suspected root cause (top RCA candidate), highlighted.
    pub root: Option<&'a str>,
    /// Services in the blast radius (transitive callers of root), highlighted differently.
    pub blast: &'a [String],
    /// Service under the cursor (j/k in the pane), drawn with theme.selected().
    pub selected: Option<&'a str>,
}

/// Draw the graph into `area` (the pane's inner area, borders already drawn by the caller).
///
/// Picks the roomiest layered drawing that fits, else the compact list; never writes outside
/// `area` (nor outside `buf`), whatever their sizes.
pub fn draw_graph(buf: &mut Buffer, area: Rect, g: &GraphInput, theme: &Theme) {
    let area = area.intersection(buf.area);
    if area.is_empty() {
        return;
    }
    buf.set_style(area, theme.base());
    if g.services.is_empty() {
        draw_waiting(buf, area, theme);
        return;
    }
    let model = Model::new(g);
    match Plan::fit(&model, area) {
        Some(plan) => plan.render(buf, area, &model, theme),
        None => draw_list(buf, area, &model, theme),
    }
}

/// Order in which j/k moves the selection (the same order the drawing uses: layer by layer, left
/// to right / top to bottom), so the cursor walks the picture the way the eye does.
pub fn navigation_order(services: &[ServiceHealth], edges: &[(String, String)]) -> Vec<String> {
    let (_, layered) = index_graph(services, edges);
    real_order(&layered)
        .into_iter()
        .filter_map(|i| services.get(i).map(|s| s.name.clone()))
        .collect()
}

/// Transitive callers of `root` (who is hurt when root breaks), excluding root, sorted; the pane
/// highlights them and the status line counts them. Cycle-safe.
pub fn blast_radius(root: &str, edges: &[(String, String)]) -> Vec<String> {
    let mut callers: HashMap<&str, Vec<&str>> = HashMap::new();
    for (caller, callee) in edges {
        callers
            .entry(callee.as_str())
            .or_default()
            .push(caller.as_str());
    }
    let mut seen: HashSet<&str> = HashSet::new();
    let mut stack = vec![root];
    while let Some(v) = stack.pop() {
        for &c in callers.get(v).map(Vec::as_slice).unwrap_or_default() {
            if c != root && seen.insert(c) {
                stack.push(c);
            }
        }
    }
    let mut out: Vec<String> = seen.into_iter().map(str::to_string).collect();
    out.sort();
    out
}
