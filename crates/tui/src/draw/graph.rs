//! The service dependency graph pane: the picture an on-call engineer reads at a glance.
//!
//! Layers are columns, callers on the left and databases on the right (see
//! [`crate::graph_layout`]); each service is a box with its name and error rate, framed in
//! its health colour; calls are orthogonal lines with rounded bends ending in `▶`. The suspected
//! root cause gets a heavy frame and `◆ ROOT`, the services it hurts (its blast radius) a dashed
//! frame and `▲`, and the calls that carry the failure are coloured, so the path from the
//! symptom to the cause stands out. Glyphs and frames say the same as colours, so a `NO_COLOR`
//! terminal loses nothing.
//!
//! The drawing tries roomy boxes first and denser ones after; when no layered drawing fits the
//! pane it falls back to a list grouped by layer that puts the root cause, unhealthy and blast
//! radius services first.

use crate::graph_layout::{Layered, Link, NodeKind};
use crate::theme::{Status, Theme};
use ccp_core::domain::ServiceHealth;
use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Modifier, Style};
use std::collections::{HashMap, HashSet};

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

// ---------------------------------------------------------------------------------------------
// Model: services, their marks and the layered graph.

/// Index edges by service position (unknown names and self-calls dropped) and lay them out.
fn index_graph(
    services: &[ServiceHealth],
    edges: &[(String, String)],
) -> (HashMap<String, usize>, Layered) {
    let mut index: HashMap<String, usize> = HashMap::with_capacity(services.len());
    for (i, s) in services.iter().enumerate() {
        index.entry(s.name.clone()).or_insert(i);
    }
    let pairs: Vec<(usize, usize)> = edges
        .iter()
        .filter_map(|(a, b)| Some((*index.get(a)?, *index.get(b)?)))
        .collect();
    let layered = Layered::new(services.len(), &pairs);
    (index, layered)
}

/// Real node ids in drawing order.
fn real_order(layered: &Layered) -> Vec<usize> {
    layered
        .layers
        .iter()
        .flatten()
        .filter_map(|&v| match layered.kinds.get(v) {
            Some(NodeKind::Real(i)) => Some(*i),
            _ => None,
        })
        .collect()
}

/// How one service is marked on screen.
#[derive(Debug, Clone, Copy)]
struct Marks {
    health: Status,
    root: bool,
    blast: bool,
    selected: bool,
}

/// Health colour: unhealthy → bad, error rate above 0.5 % → degraded, else healthy.
fn health(s: &ServiceHealth) -> Status {
    if s.unhealthy {
        Status::Bad
    } else if s.error_rate > 0.005 {
        Status::Warn
    } else {
        Status::Ok
    }
}

/// Everything drawing needs, computed once per frame.
struct Model<'a> {
    services: &'a [ServiceHealth],
    layered: Layered,
    marks: Vec<Marks>,
    /// Links leaving each layout node.
    out: Vec<Vec<Link>>,
    /// Severity of each link (parallel to `out`): 0 plain, 1 between blast radius members,
    /// 2 into the root cause.
    out_sev: Vec<Vec<u8>>,
    /// Severity of the line through each bend point (worst call it carries).
    through_sev: Vec<u8>,
    /// Size of the blast radius as given (for the legend).
    blast_count: usize,
}

impl<'a> Model<'a> {
    fn new(g: &GraphInput<'a>) -> Self {
        let (index, layered) = index_graph(g.services, g.edges);
        let root = g.root.and_then(|r| index.get(r).copied());
        let blast: HashSet<usize> = g
            .blast
            .iter()
            .filter_map(|b| index.get(b).copied())
            .collect();
        let selected = g.selected.and_then(|s| index.get(s).copied());
        let marks = g
            .services
            .iter()
            .enumerate()
            .map(|(i, s)| Marks {
                health: health(s),
                root: root == Some(i),
                blast: blast.contains(&i) && root != Some(i),
                selected: selected == Some(i),
            })
            .collect();
        let mut out = vec![Vec::new(); layered.kinds.len()];
        for l in &layered.links {
            out[l.from].push(*l);
        }
        let mut m = Model {
            services: g.services,
            layered,
            marks,
            out,
            out_sev: Vec::new(),
            through_sev: Vec::new(),
            blast_count: g.blast.len(),
        };
        m.compute_severities();
        m
    }

    fn is_hot(&self, i: usize) -> bool {
        self.marks.get(i).is_some_and(|m| m.root || m.blast)
    }

    /// Severity of an original call caller → callee.
    fn call_sev(&self, caller: usize, callee: usize) -> u8 {
        let blast = |i: usize| self.marks.get(i).is_some_and(|m| m.blast);
        let root = |i: usize| self.marks.get(i).is_some_and(|m| m.root);
        if root(callee) && blast(caller) {
            2
        } else if blast(caller) && self.is_hot(callee) {
            1
        } else {
            0
        }
    }

    /// Severity of every link, walking layers left to right so lines through bend points take
    /// the worst severity of the calls they carry.
    fn compute_severities(&mut self) {
        let g = &self.layered;
        let mut through = vec![0u8; g.kinds.len()];
        let mut out_sev: Vec<Vec<u8>> = vec![Vec::new(); g.kinds.len()];
        for &v in g.layers.iter().flatten() {
            for link in &self.out[v] {
                let target = match g.kinds.get(link.to) {
                    Some(NodeKind::Real(t)) | Some(NodeKind::Dummy { target: t }) => *t,
                    None => 0,
                };
                let sev = match g.kinds.get(v) {
                    Some(NodeKind::Real(a)) if link.reversed => self.call_sev(target, *a),
                    Some(NodeKind::Real(a)) => self.call_sev(*a, target),
                    _ => through[v],
                };
                if matches!(g.kinds.get(link.to), Some(NodeKind::Dummy { .. })) {
                    through[link.to] = through[link.to].max(sev);
                }
                out_sev[v].push(sev);
            }
        }
        self.out_sev = out_sev;
        self.through_sev = through;
    }
}

// ---------------------------------------------------------------------------------------------
// Text helpers.

/// `s` cut to `max` characters, ending in `…` when cut.
fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut t: String = s.chars().take(max - 1).collect();
    t.push('…');
    t
}

/// Generic suffixes that say nothing about which service it is; dropped before cutting a name.
const NOISE_SUFFIXES: [&str; 4] = ["-service", "_service", "-svc", "_svc"];

/// A service name in `max` columns: whole if it fits, else without a generic `-service` suffix,
/// else cut with `…` — in the middle when `middle`, so `postgres_primary` and `postgres_replica`
/// stay apart when both are cut.
fn label(name: &str, max: usize, middle: bool) -> String {
    if name.chars().count() <= max {
        return name.to_string();
    }
    let core = NOISE_SUFFIXES
        .iter()
        .find_map(|suffix| name.strip_suffix(suffix))
        .filter(|c| !c.is_empty())
        .unwrap_or(name);
    let chars: Vec<char> = core.chars().collect();
    if chars.len() <= max {
        return core.to_string();
    }
    if middle && max >= 3 {
        let head = max / 2;
        let tail = max - 1 - head;
        let mut t: String = chars[..head].iter().collect();
        t.push('…');
        t.extend(&chars[chars.len() - tail..]);
        t
    } else {
        truncate(core, max)
    }
}

/// Labels for (node, name, width) triples; labels that would come out the same are cut in the
/// middle instead, so every box stays identifiable.
fn distinct_labels(items: &[(usize, &str, usize)]) -> HashMap<usize, String> {
    let mut count: HashMap<String, usize> = HashMap::new();
    let plain: Vec<String> = items.iter().map(|&(_, n, w)| label(n, w, false)).collect();
    for l in &plain {
        *count.entry(l.clone()).or_insert(0) += 1;
    }
    items
        .iter()
        .zip(plain)
        .map(|(&(v, n, w), l)| {
            if count.get(&l).copied().unwrap_or(0) > 1 {
                (v, label(n, w, true))
            } else {
                (v, l)
            }
        })
        .collect()
}

/// Error rate as a percentage with one decimal (`13.7%`).
fn rate_text(r: f64) -> String {
    if r.is_finite() {
        format!("{:.1}%", r * 100.0)
    } else {
        "?%".to_string()
    }
}

/// p99 latency (`120ms`, `1.2s`).
fn latency_text(ms: f64) -> Option<String> {
    if !ms.is_finite() || ms <= 0.0 {
        None
    } else if ms >= 1000.0 {
        Some(format!("{:.1}s", ms / 1000.0))
    } else {
        Some(format!("{ms:.0}ms"))
    }
}

fn chars(s: &str) -> i32 {
    i32::try_from(s.chars().count()).unwrap_or(i32::MAX)
}

/// Style of the health status, for text.
fn status_text(theme: &Theme, s: Status) -> Style {
    match s {
        Status::Ok => theme.base(),
        _ => theme.status(s).add_modifier(Modifier::BOLD),
    }
}

fn root_style(theme: &Theme) -> Style {
    theme.status(Status::Bad).add_modifier(Modifier::BOLD)
}

fn blast_style(theme: &Theme) -> Style {
    theme.status(Status::Warn).add_modifier(Modifier::BOLD)
}

/// Style of a line by severity; bold stands in for colour in monochrome.
fn edge_style(theme: &Theme, sev: u8) -> Style {
    let s = match sev {
        0 => return Style::default().fg(theme.border),
        1 => Style::default().fg(theme.warn),
        _ => Style::default().fg(theme.bad),
    };
    if theme.monochrome || sev >= 2 {
        s.add_modifier(Modifier::BOLD)
    } else {
        s
    }
}

/// Write `s` at (x, y) inside `area`, at most `max` columns; returns columns written.
fn put_str(buf: &mut Buffer, area: Rect, x: u16, y: u16, s: &str, max: u16, style: Style) -> u16 {
    let mut n = 0;
    for ch in s.chars() {
        if n >= max {
            break;
        }
        let p = Position::new(x.saturating_add(n), y);
        if !area.contains(p) {
            break;
        }
        if let Some(c) = buf.cell_mut(p) {
            c.set_char(ch).set_style(style);
        }
        n += 1;
    }
    n
}

/// "No topology yet": a centred muted line.
fn draw_waiting(buf: &mut Buffer, area: Rect, theme: &Theme) {
    let msg = truncate("waiting for the first incident…", usize::from(area.width));
    let w = u16::try_from(msg.chars().count()).unwrap_or(area.width);
    let x = area.x + (area.width - w.min(area.width)) / 2;
    let y = area.y + area.height / 2;
    put_str(
        buf,
        area,
        x,
        y,
        &msg,
        area.width,
        theme.status(Status::Muted),
    );
}

/// One-line legend; items that do not fit are dropped whole.
fn draw_legend(buf: &mut Buffer, area: Rect, y: u16, model: &Model, theme: &Theme) {
    let mono = theme.monochrome;
    let label = |s: Status| {
        if mono {
            theme.status(s)
        } else {
            theme.status(Status::Muted)
        }
    };
    let mut items: Vec<(&str, Style, String, Style)> = Vec::new();
    if model.marks.iter().any(|m| m.root) {
        items.push((
            "◆",
            root_style(theme),
            " root cause".into(),
            label(Status::Muted),
        ));
    }
    if model.blast_count > 0 {
        let text = format!(" blast radius ({})", model.blast_count);
        items.push(("▲", blast_style(theme), text, label(Status::Muted)));
    }
    items.push((
        "■",
        theme.status(Status::Bad),
        " unhealthy".into(),
        label(Status::Bad),
    ));
    items.push((
        "■",
        theme.status(Status::Warn),
        " degraded".into(),
        label(Status::Warn),
    ));
    items.push((
        "■",
        theme.status(Status::Ok),
        " healthy".into(),
        label(Status::Ok),
    ));
    let mut x = area.x;
    let end = area.x.saturating_add(area.width);
    for (i, (glyph, gs, text, ts)) in items.iter().enumerate() {
        let sep = if i == 0 { 0 } else { 2 };
        let need = sep + 1 + u16::try_from(text.chars().count()).unwrap_or(u16::MAX);
        if x.saturating_add(need) > end {
            break;
        }
        x += sep;
        x += put_str(buf, area, x, y, glyph, 1, *gs);
        x += put_str(buf, area, x, y, text, end - x, *ts);
    }
}

// ---------------------------------------------------------------------------------------------
// Layered drawing: plan (sizes, positions, routes) then render.

/// Box height and vertical gap between boxes, roomiest first.
const DENSITIES: [(i32, i32); 5] = [(4, 1), (3, 1), (4, 0), (3, 0), (2, 0)];
/// Narrowest box interior before a layered drawing is given up for the list.
const MIN_INNER: i32 = 8;
/// Widest box interior worth having (longer names are cut).
const MAX_INNER: i32 = 24;
/// Extra width a gap between columns may take when the pane is wide.
const MAX_GAP_EXTRA: i32 = 4;

/// One routed call bundle: everything leaving node `src` towards the next column.
#[derive(Debug, Clone)]
struct Net {
    src: usize,
    row: i32,
    links: Vec<Link>,
    /// Severity of each link.
    sev: Vec<u8>,
    lo: i32,
    hi: i32,
    /// Vertical track inside the gap (0 = leftmost); `None` when every link is a straight line.
    track: Option<i32>,
}

/// The routes in the gap after one column.
#[derive(Debug, Clone)]
struct Gap {
    nets: Vec<Net>,
    tracks: i32,
    /// Cells before the first track (≥ 1) and after the last one up to the arrowhead (≥ 1).
    stub: i32,
    run: i32,
}

impl Gap {
    fn width(&self) -> i32 {
        self.stub + self.tracks + self.run + 1
    }
}

/// A layered drawing that fits the pane.
struct Plan {
    box_h: i32,
    port_off: i32,
    ports: Vec<i32>,
    col_x: Vec<i32>,
    col_w: Vec<i32>,
    gaps: Vec<Gap>,
    /// Canvas size and where it goes inside the pane.
    width: i32,
    height: i32,
    off_x: i32,
    off_y: i32,
    legend: bool,
}

impl Plan {
    /// The roomiest density that fits, with the legend if possible.
    fn fit(model: &Model, area: Rect) -> Option<Plan> {
        let w = i32::from(area.width);
        let h = i32::from(area.height);
        let with_legend = h >= 6;
        let tries = [(true, h - 1), (false, h)];
        for &(legend, avail_h) in tries.iter().filter(|(l, _)| !l || with_legend) {
            for &(box_h, gap) in &DENSITIES {
                if let Some(mut p) = Plan::try_density(model, w, avail_h, box_h, gap) {
                    p.legend = legend;
                    return Some(p);
                }
            }
        }
        None
    }

    /// A drawing with boxes `box_h` rows tall and `gap` rows apart, if it fits `w` × `h`.
    fn try_density(model: &Model, w: i32, h: i32, box_h: i32, gap: i32) -> Option<Plan> {
        let g = &model.layered;
        if g.layers.is_empty() || h < box_h {
            return None;
        }
        let port_off = i32::from(box_h >= 3);
        let (above, below) = spans(g, box_h, port_off);
        let need = tallest_layer(g, &above, &below, gap);
        if need > h {
            return None;
        }
        // Some slack beyond the tallest layer lets lines run straight.
        let extent = h.min(need + need / 2 + 2);
        let (ports, used) = trim_rows(g.place(&above, &below, gap, extent, 6)?, &above, &below);
        let mut gaps: Vec<Gap> = (0..g.layers.len().saturating_sub(1))
            .map(|l| route_gap(model, l, &ports))
            .collect();
        let desired: Vec<i32> = g
            .layers
            .iter()
            .map(|l| column_inner(model, l, box_h))
            .collect();
        let (col_w, spare) = fit_widths(&desired, &gaps, w)?;
        widen_gaps(&mut gaps, spare);
        let mut col_x = Vec::with_capacity(col_w.len());
        let mut x = 0;
        for (i, cw) in col_w.iter().enumerate() {
            col_x.push(x);
            x += cw + gaps.get(i).map_or(0, Gap::width);
        }
        Some(Plan {
            box_h,
            port_off,
            ports,
            col_x,
            col_w,
            gaps,
            width: x,
            height: used,
            off_x: (w - x).max(0) / 2,
            off_y: (h - used).max(0) / 2,
            legend: false,
        })
    }

    fn render(&self, buf: &mut Buffer, area: Rect, model: &Model, theme: &Theme) {
        let mut canvas = Canvas::new(self.width, self.height);
        self.draw_links(&mut canvas, model);
        self.draw_nodes(&mut canvas, model, theme);
        let graph_h = if self.legend {
            area.height - 1
        } else {
            area.height
        };
        let clip = Rect {
            height: graph_h,
            ..area
        };
        canvas.blit(buf, clip, self.off_x, self.off_y, theme);
        if self.legend {
            draw_legend(buf, area, area.y + area.height - 1, model, theme);
        }
    }

    /// Lines of every link, plus the lines through bend points.
    fn draw_links(&self, c: &mut Canvas, model: &Model) {
        let g = &model.layered;
        let mut fwd_in = vec![false; g.kinds.len()];
        for l in g.links.iter().filter(|l| !l.reversed) {
            fwd_in[l.to] = true;
        }
        for (l, gap) in self.gaps.iter().enumerate() {
            let (Some(&cx), Some(&cw)) = (self.col_x.get(l), self.col_w.get(l)) else {
                continue;
            };
            let (gx0, gx1) = (cx + cw, cx + cw + gap.width() - 1);
            for net in &gap.nets {
                let tx = net.track.map(|t| gx0 + gap.stub + t);
                for (link, &sev) in net.links.iter().zip(&net.sev) {
                    let yt = self.ports[link.to];
                    match tx {
                        Some(tx) => {
                            c.seg(gx0 - 1, net.row, tx, net.row, net.src, sev);
                            c.seg(tx, net.row, tx, yt, net.src, sev);
                            c.seg(tx, yt, gx1 + 1, yt, net.src, sev);
                        }
                        None => c.seg(gx0 - 1, net.row, gx1 + 1, yt, net.src, sev),
                    }
                    if let Some((x, y, head)) = arrowhead(g, net, link, (gx0, gx1, yt), &fwd_in) {
                        c.text(x, y, head, TextStyle::Edge(sev));
                    }
                }
            }
        }
        self.draw_through_lines(c, model);
    }

    /// Bend points are lines across their column (with `◀` on chains of reversed links).
    fn draw_through_lines(&self, c: &mut Canvas, model: &Model) {
        let g = &model.layered;
        for (l, layer) in g.layers.iter().enumerate() {
            let (Some(&cx), Some(&cw)) = (self.col_x.get(l), self.col_w.get(l)) else {
                continue;
            };
            for &v in layer {
                if !matches!(g.kinds[v], NodeKind::Dummy { .. }) {
                    continue;
                }
                let sev = model.through_sev[v];
                c.seg(cx - 1, self.ports[v], cx + cw, self.ports[v], v, sev);
                if model.out[v].iter().any(|k| k.reversed) {
                    c.text(cx + cw / 2, self.ports[v], '◀', TextStyle::Edge(sev));
                }
            }
        }
    }

    /// Every box's name as it fits its column.
    fn labels(&self, model: &Model) -> HashMap<usize, String> {
        let g = &model.layered;
        let mut items = Vec::new();
        for (l, layer) in g.layers.iter().enumerate() {
            let inner = self.col_w.get(l).map_or(0, |w| w - 2);
            for &v in layer {
                let NodeKind::Real(i) = g.kinds[v] else {
                    continue;
                };
                let (Some(s), Some(m)) = (model.services.get(i), model.marks.get(i)) else {
                    continue;
                };
                let mark = i32::from(self.box_h == 2 && (m.root || m.blast));
                let w = usize::try_from(inner - mark).unwrap_or(0);
                items.push((v, s.name.as_str(), w));
            }
        }
        distinct_labels(&items)
    }

    /// Boxes of real nodes (drawn over the lines).
    fn draw_nodes(&self, c: &mut Canvas, model: &Model, theme: &Theme) {
        let g = &model.layered;
        let mut has_out = vec![false; g.kinds.len()];
        let mut tee_in = vec![false; g.kinds.len()];
        for l in &g.links {
            has_out[l.from] = true;
            if l.reversed {
                tee_in[l.to] = true;
            }
        }
        let labels = self.labels(model);
        for (l, layer) in g.layers.iter().enumerate() {
            let (Some(&x), Some(&w)) = (self.col_x.get(l), self.col_w.get(l)) else {
                continue;
            };
            for &v in layer {
                let NodeKind::Real(i) = g.kinds[v] else {
                    continue;
                };
                let (Some(s), Some(m)) = (model.services.get(i), model.marks.get(i)) else {
                    continue;
                };
                let b = BoxSpec {
                    x,
                    y: self.ports[v] - self.port_off,
                    w,
                    h: self.box_h,
                    tee_out: has_out[v],
                    tee_in: tee_in[v],
                    label: labels.get(&v).cloned().unwrap_or_default(),
                };
                draw_box(c, &b, s, m, theme);
            }
        }
    }
}

/// Interior width a column would like: its longest name (and room for marks and rate).
fn column_inner(model: &Model, layer: &[usize], box_h: i32) -> i32 {
    let g = &model.layered;
    let mut inner = 0;
    for &v in layer {
        if let NodeKind::Real(i) = g.kinds[v] {
            let (Some(s), Some(m)) = (model.services.get(i), model.marks.get(i)) else {
                continue;
            };
            let mark = i32::from(box_h == 2 && (m.root || m.blast));
            let rate = chars(&rate_text(s.error_rate)) + 1;
            inner = inner.max(chars(&s.name) + mark).max(rate);
        }
    }
    if inner == 0 {
        // Only bend points: a thin column the lines pass through.
        -1
    } else {
        inner.min(MAX_INNER)
    }
}

/// Column widths (borders included) that fit `w` with the gaps, names cut evenly from the
/// longest; `None` when even the narrowest boxes do not fit. Also returns the spare width.
fn fit_widths(desired_inner: &[i32], gaps: &[Gap], w: i32) -> Option<(Vec<i32>, i32)> {
    let gaps_w: i32 = gaps.iter().map(Gap::width).sum();
    let width_at = |level: i32| -> Vec<i32> {
        desired_inner
            .iter()
            .map(|&d| {
                if d < 0 {
                    1
                } else {
                    d.min(level.max(MIN_INNER)) + 2
                }
            })
            .collect()
    };
    let top = desired_inner
        .iter()
        .copied()
        .max()
        .unwrap_or(0)
        .max(MIN_INNER);
    for level in (MIN_INNER..=top).rev() {
        let cols = width_at(level);
        let total = cols.iter().sum::<i32>() + gaps_w;
        if total <= w {
            return Some((cols, w - total));
        }
    }
    None
}

/// Rows each layout node takes above and below its port: boxes attach lines at their name row,
/// bend points are a single row.
fn spans(g: &Layered, box_h: i32, port_off: i32) -> (Vec<i32>, Vec<i32>) {
    g.kinds
        .iter()
        .map(|k| match k {
            NodeKind::Real(_) => (port_off, box_h - 1 - port_off),
            NodeKind::Dummy { .. } => (0, 0),
        })
        .unzip()
}

/// Rows the tallest layer needs.
fn tallest_layer(g: &Layered, above: &[i32], below: &[i32], gap: i32) -> i32 {
    g.layers
        .iter()
        .map(|l| {
            let count = i32::try_from(l.len()).unwrap_or(i32::MAX);
            l.iter().map(|&v| above[v] + below[v] + 1).sum::<i32>() + gap * (count - 1).max(0)
        })
        .max()
        .unwrap_or(0)
}

/// Shift ports so the topmost row used is 0; returns them with the number of rows used, so the
/// drawing can be centred.
fn trim_rows(mut ports: Vec<i32>, above: &[i32], below: &[i32]) -> (Vec<i32>, i32) {
    let top = ports
        .iter()
        .zip(above)
        .map(|(p, a)| p - a)
        .min()
        .unwrap_or(0);
    let bottom = ports
        .iter()
        .zip(below)
        .map(|(p, b)| p + b)
        .max()
        .unwrap_or(0);
    for p in &mut ports {
        *p -= top;
    }
    (ports, bottom - top + 1)
}

/// Spend spare width on longer line runs between columns (a little, so boxes stay close).
fn widen_gaps(gaps: &mut [Gap], spare: i32) {
    let Ok(n) = i32::try_from(gaps.len()) else {
        return;
    };
    if n == 0 {
        return;
    }
    let extra = (spare / n).min(MAX_GAP_EXTRA);
    for gp in gaps {
        gp.stub += extra / 2;
        gp.run += extra - extra / 2;
    }
}

/// Where a link's arrowhead goes: `▶` right before the box it calls; a reversed link (one that
/// closed a cycle) points left, with its head where no forward line shares the cell (the
/// caller's stub or the callee's end), or nowhere if both are shared.
fn arrowhead(
    g: &Layered,
    net: &Net,
    link: &Link,
    (gx0, gx1, yt): (i32, i32, i32),
    fwd_in: &[bool],
) -> Option<(i32, i32, char)> {
    let to_real = matches!(g.kinds.get(link.to), Some(NodeKind::Real(_)));
    if !link.reversed {
        return to_real.then_some((gx1, yt, '▶'));
    }
    let from_real = matches!(g.kinds.get(link.from), Some(NodeKind::Real(_)));
    let stub_free = net.links.iter().all(|k| k.reversed || k.to == link.to);
    if from_real && stub_free {
        Some((gx0, net.row, '◀'))
    } else if to_real && !fwd_in.get(link.to).copied().unwrap_or(true) {
        Some((gx1, yt, '◀'))
    } else {
        None
    }
}

/// Nets in the gap after layer `l`, with tracks assigned so that no two vertical runs overlap
/// and no line leaving a box runs into a line arriving at a different box (constrained left-edge
/// channel routing; a cycle of constraints is broken arbitrarily).
fn route_gap(model: &Model, l: usize, ports: &[i32]) -> Gap {
    let g = &model.layered;
    let mut nets: Vec<Net> = Vec::new();
    for &v in g.layers.get(l).map(Vec::as_slice).unwrap_or_default() {
        let links = &model.out[v];
        if links.is_empty() {
            continue;
        }
        let row = ports[v];
        let lo = links
            .iter()
            .map(|k| ports[k.to])
            .min()
            .unwrap_or(row)
            .min(row);
        let hi = links
            .iter()
            .map(|k| ports[k.to])
            .max()
            .unwrap_or(row)
            .max(row);
        nets.push(Net {
            src: v,
            row,
            links: links.clone(),
            sev: model.out_sev[v].clone(),
            lo,
            hi,
            track: None,
        });
    }
    let tracks = assign_tracks(&mut nets, ports);
    Gap {
        nets,
        tracks,
        stub: 1,
        run: 1,
    }
}

/// Constrained left-edge track assignment; returns the number of tracks.
fn assign_tracks(nets: &mut [Net], ports: &[i32]) -> i32 {
    let needs: Vec<usize> = (0..nets.len())
        .filter(|&i| nets[i].lo != nets[i].hi)
        .collect();
    // Rows where each net ends at a box.
    let mut arriving: HashMap<i32, Vec<usize>> = HashMap::new();
    for &i in &needs {
        for k in &nets[i].links {
            arriving.entry(ports[k.to]).or_default().push(i);
        }
    }
    // before[i]: nets whose track must be right of net i's (they arrive on the row i leaves).
    let mut preds: HashMap<usize, Vec<usize>> = HashMap::new();
    for &i in &needs {
        let row = nets[i].row;
        if nets[i].links.iter().any(|k| ports[k.to] == row) {
            continue;
        }
        for &j in arriving.get(&row).map(Vec::as_slice).unwrap_or_default() {
            if j != i {
                preds.entry(j).or_default().push(i);
            }
        }
    }
    let mut order = needs;
    order.sort_by_key(|&i| (nets[i].lo, nets[i].hi, nets[i].row));
    let mut track: Vec<Option<i32>> = vec![None; nets.len()];
    let mut t = 0;
    let mut left = order.len();
    while left > 0 {
        let mut last_hi = i32::MIN;
        let mut placed = false;
        for &i in &order {
            let ready = preds
                .get(&i)
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .all(|&p| track[p].is_some_and(|tp| tp < t));
            if track[i].is_none() && nets[i].lo > last_hi && ready {
                track[i] = Some(t);
                last_hi = nets[i].hi;
                placed = true;
                left -= 1;
            }
        }
        if !placed {
            if let Some(&i) = order.iter().find(|&&i| track[i].is_none()) {
                track[i] = Some(t);
                left -= 1;
            }
        }
        t += 1;
    }
    for (net, tr) in nets.iter_mut().zip(track) {
        net.track = tr;
    }
    t
}

// ---------------------------------------------------------------------------------------------
// Boxes.

/// Where a box goes and which border cells carry line joints.
struct BoxSpec {
    x: i32,
    y: i32,
    w: i32,
    h: i32,
    tee_out: bool,
    tee_in: bool,
    /// The name as it fits (see [`label`]).
    label: String,
}

/// Frame glyphs: corners, horizontal, vertical, right-border joint, left-border joint.
struct Frame {
    tl: char,
    tr: char,
    bl: char,
    br: char,
    hz: char,
    vt: char,
    tee_out: char,
    tee_in: char,
}

const PLAIN: Frame = Frame {
    tl: '┌',
    tr: '┐',
    bl: '└',
    br: '┘',
    hz: '─',
    vt: '│',
    tee_out: '├',
    tee_in: '┤',
};
const HEAVY: Frame = Frame {
    tl: '┏',
    tr: '┓',
    bl: '┗',
    br: '┛',
    hz: '━',
    vt: '┃',
    tee_out: '┠',
    tee_in: '┨',
};
const DASHED: Frame = Frame {
    tl: '┌',
    tr: '┐',
    bl: '└',
    br: '┘',
    hz: '╌',
    vt: '┆',
    tee_out: '├',
    tee_in: '┤',
};

/// One service box: frame in its health colour (heavy for the root cause, dashed for the blast
/// radius), marker in the top border, name, and the error rate (and p99 when there is room).
fn draw_box(c: &mut Canvas, b: &BoxSpec, s: &ServiceHealth, m: &Marks, theme: &Theme) {
    let has_top = b.h >= 3;
    let name_y = if has_top { b.y + 1 } else { b.y };
    draw_frame(c, b, m, theme, has_top, name_y);
    draw_name_row(c, b, m, theme, has_top, name_y);
    draw_rate(c, b, s, m, theme);
}

/// The frame, with joints where lines leave (right) or arrive without an arrowhead (left).
fn draw_frame(c: &mut Canvas, b: &BoxSpec, m: &Marks, theme: &Theme, has_top: bool, name_y: i32) {
    let (frame, style) = if m.root {
        (&HEAVY, root_style(theme))
    } else if m.blast {
        (&DASHED, theme.status(m.health))
    } else {
        (&PLAIN, theme.status(m.health))
    };
    // Underlined box-drawing characters look broken; bold is enough in monochrome.
    let style = TextStyle::Fixed(style.remove_modifier(Modifier::UNDERLINED));
    let (x0, x1) = (b.x, b.x + b.w - 1);
    let bottom = b.y + b.h - 1;
    for y in b.y..=bottom {
        let edge_row = y == bottom || (has_top && y == b.y);
        for x in x0..=x1 {
            let ch = if edge_row {
                match (x == x0, x == x1, y == bottom) {
                    (true, _, false) => frame.tl,
                    (_, true, false) => frame.tr,
                    (true, _, true) => frame.bl,
                    (_, true, true) => frame.br,
                    _ => frame.hz,
                }
            } else if x == x0 {
                if b.tee_in && y == name_y {
                    frame.tee_in
                } else {
                    frame.vt
                }
            } else if x == x1 {
                if b.tee_out && y == name_y {
                    frame.tee_out
                } else {
                    frame.vt
                }
            } else {
                ' '
            };
            c.text(x, y, ch, style);
        }
    }
}

/// Marker (in the top border, or before the name in two-row boxes) and the name; the selection
/// highlights the whole name row.
fn draw_name_row(
    c: &mut Canvas,
    b: &BoxSpec,
    m: &Marks,
    theme: &Theme,
    has_top: bool,
    name_y: i32,
) {
    let (x0, x1) = (b.x, b.x + b.w - 1);
    let sel = |st: Style| {
        if m.selected {
            st.patch(theme.selected())
        } else {
            st
        }
    };
    if m.selected {
        for x in x0 + 1..x1 {
            c.text(x, name_y, ' ', TextStyle::Fixed(theme.selected()));
        }
    }
    let mut name_x = x0 + 1;
    if let Some((text, style)) = marker_text(m, b.w - 2, theme) {
        if has_top {
            c.str(x0 + 1, b.y, text, b.w - 2, TextStyle::Fixed(style));
        } else {
            c.str(name_x, name_y, text, 1, TextStyle::Fixed(sel(style)));
            name_x += 1;
        }
    }
    let style = TextStyle::Fixed(sel(status_text(theme, m.health)));
    c.str(name_x, name_y, &b.label, x1 - name_x, style);
}

/// Error rate: its own row in four-row boxes (with p99 when it fits), else inside the bottom
/// border.
fn draw_rate(c: &mut Canvas, b: &BoxSpec, s: &ServiceHealth, m: &Marks, theme: &Theme) {
    let (x0, x1) = (b.x, b.x + b.w - 1);
    let inner = b.w - 2;
    let rate = rate_text(s.error_rate);
    let style = TextStyle::Fixed(theme.status(m.health));
    if b.h >= 4 {
        let y = b.y + 2;
        c.str(x0 + 1, y, &rate, inner, style);
        if let Some(lat) = latency_text(s.latency_p99_ms) {
            let lat = format!("p99 {lat}");
            if chars(&rate) + 1 + chars(&lat) <= inner {
                let muted = TextStyle::Fixed(theme.status(Status::Muted));
                c.str(x1 - chars(&lat), y, &lat, inner, muted);
            }
        }
    } else if chars(&rate) < inner {
        c.str(x1 - 1 - chars(&rate), b.y + b.h - 1, &rate, inner, style);
    }
}

/// `◆ ROOT` / `▲` and their style, if the service is marked.
fn marker_text(m: &Marks, inner: i32, theme: &Theme) -> Option<(&'static str, Style)> {
    if m.root {
        let text = if inner >= 8 { "◆ ROOT" } else { "◆" };
        Some((text, root_style(theme)))
    } else if m.blast {
        Some(("▲", blast_style(theme)))
    } else {
        None
    }
}

// ---------------------------------------------------------------------------------------------
// Canvas: lines as direction bits so crossings and joints get the right glyphs.

const LEFT: u8 = 1;
const RIGHT: u8 = 2;
const UP: u8 = 4;
const DOWN: u8 = 8;
const HORIZ: u8 = LEFT | RIGHT;
const VERT: u8 = UP | DOWN;

/// Style of a text cell, resolved when the canvas is copied to the buffer.
#[derive(Debug, Clone, Copy)]
enum TextStyle {
    Fixed(Style),
    Edge(u8),
}

#[derive(Debug, Clone, Copy, Default)]
struct Cell {
    bits: u8,
    /// Owner of the first full horizontal / vertical pass through the cell.
    h_owner: Option<usize>,
    v_owner: Option<usize>,
    /// Some line ends or bends here (so crossing lines really join).
    has_end: bool,
    h_sev: u8,
    v_sev: u8,
    text: Option<(char, TextStyle)>,
}

struct Canvas {
    w: i32,
    h: i32,
    cells: Vec<Cell>,
}

impl Canvas {
    fn new(w: i32, h: i32) -> Self {
        let n = usize::try_from(w.max(0)).unwrap_or(0) * usize::try_from(h.max(0)).unwrap_or(0);
        Canvas {
            w: w.max(0),
            h: h.max(0),
            cells: vec![Cell::default(); n],
        }
    }

    fn cell(&mut self, x: i32, y: i32) -> Option<&mut Cell> {
        if x < 0 || y < 0 || x >= self.w || y >= self.h {
            return None;
        }
        let (x, y, w) = (
            usize::try_from(x).ok()?,
            usize::try_from(y).ok()?,
            usize::try_from(self.w).ok()?,
        );
        self.cells.get_mut(y * w + x)
    }

    /// Add line directions `bits` at (x, y) on behalf of `owner`.
    fn line(&mut self, x: i32, y: i32, bits: u8, owner: usize, sev: u8) {
        let Some(c) = self.cell(x, y) else {
            return;
        };
        c.bits |= bits;
        if bits == HORIZ {
            c.h_owner.get_or_insert(owner);
            c.h_sev = c.h_sev.max(sev);
        } else if bits == VERT {
            c.v_owner.get_or_insert(owner);
            c.v_sev = c.v_sev.max(sev);
        } else {
            c.has_end = true;
            c.h_sev = c.h_sev.max(sev);
            c.v_sev = c.v_sev.max(sev);
        }
    }

    /// An orthogonal segment (x1, y1)–(x2, y2); an L-shaped pair of points draws nothing.
    fn seg(&mut self, x1: i32, y1: i32, x2: i32, y2: i32, owner: usize, sev: u8) {
        if y1 == y2 {
            let (a, b) = (x1.min(x2), x1.max(x2));
            for x in a..=b {
                let bits = if a == b {
                    0
                } else if x == a {
                    RIGHT
                } else if x == b {
                    LEFT
                } else {
                    HORIZ
                };
                if bits != 0 {
                    self.line(x, y1, bits, owner, sev);
                }
            }
        } else if x1 == x2 {
            let (a, b) = (y1.min(y2), y1.max(y2));
            for y in a..=b {
                let bits = if y == a {
                    DOWN
                } else if y == b {
                    UP
                } else {
                    VERT
                };
                self.line(x1, y, bits, owner, sev);
            }
        }
    }

    fn text(&mut self, x: i32, y: i32, ch: char, style: TextStyle) {
        if let Some(c) = self.cell(x, y) {
            c.text = Some((ch, style));
        }
    }

    fn str(&mut self, x: i32, y: i32, s: &str, max: i32, style: TextStyle) {
        for (i, ch) in s.chars().enumerate() {
            let i = i32::try_from(i).unwrap_or(i32::MAX);
            if i >= max {
                break;
            }
            self.text(x + i, y, ch, style);
        }
    }

    /// Copy onto `buf` at (`clip`.x + `ox`, `clip`.y + `oy`), never outside `clip`.
    fn blit(&self, buf: &mut Buffer, clip: Rect, ox: i32, oy: i32, theme: &Theme) {
        let w = usize::try_from(self.w).unwrap_or(0).max(1);
        for (i, cell) in self.cells.iter().enumerate() {
            let Some((ch, style)) = resolve(cell, theme) else {
                continue;
            };
            let (x, y) = (i64::try_from(i % w), i64::try_from(i / w));
            let (Ok(x), Ok(y)) = (x, y) else {
                continue;
            };
            let (Ok(dx), Ok(dy)) = (
                u16::try_from(x + i64::from(ox)),
                u16::try_from(y + i64::from(oy)),
            ) else {
                continue;
            };
            let p = Position::new(clip.x.saturating_add(dx), clip.y.saturating_add(dy));
            if dx >= clip.width || dy >= clip.height || !clip.contains(p) {
                continue;
            }
            if let Some(bc) = buf.cell_mut(p) {
                bc.set_char(ch).set_style(style);
            }
        }
    }
}

/// Glyph and style of a canvas cell: text wins; lines get rounded bends, and a crossing of two
/// unrelated lines shows the vertical one whole so it does not read as a joint.
fn resolve(c: &Cell, theme: &Theme) -> Option<(char, Style)> {
    if let Some((ch, st)) = c.text {
        let style = match st {
            TextStyle::Fixed(s) => s,
            TextStyle::Edge(sev) => edge_style(theme, sev),
        };
        return Some((ch, style));
    }
    if c.bits == 0 {
        return None;
    }
    let crossing = c.bits == HORIZ | VERT
        && !c.has_end
        && matches!((c.h_owner, c.v_owner), (Some(a), Some(b)) if a != b);
    if crossing {
        return Some(('│', edge_style(theme, c.v_sev)));
    }
    let ch = match c.bits {
        HORIZ | LEFT | RIGHT => '─',
        VERT | UP | DOWN => '│',
        b if b == DOWN | RIGHT => '╭',
        b if b == DOWN | LEFT => '╮',
        b if b == UP | RIGHT => '╰',
        b if b == UP | LEFT => '╯',
        b if b == VERT | RIGHT => '├',
        b if b == VERT | LEFT => '┤',
        b if b == HORIZ | DOWN => '┬',
        b if b == HORIZ | UP => '┴',
        _ => '┼',
    };
    Some((ch, edge_style(theme, c.h_sev.max(c.v_sev))))
}

// ---------------------------------------------------------------------------------------------
// Fallback list.

/// Compact list grouped by layer (indented by depth); when it does not fit, root cause,
/// unhealthy, blast radius and degraded services come first, the selection is kept visible and a
/// last line counts the rest.
fn draw_list(buf: &mut Buffer, area: Rect, model: &Model, theme: &Theme) {
    let order = real_order(&model.layered);
    let rows = usize::from(area.height);
    let total = order.len();
    let fits = total <= rows;
    let shown: Vec<usize> = if fits {
        order.clone()
    } else {
        pick_priority(model, &order, rows.saturating_sub(1).max(1))
    };
    let depth = |i: usize| -> u16 {
        if fits {
            u16::try_from(model.layered.layer.get(i).copied().unwrap_or(0).min(4)).unwrap_or(0)
        } else {
            0
        }
    };
    let name_max = shown
        .iter()
        .filter_map(|&i| model.services.get(i))
        .map(|s| s.name.chars().count())
        .max()
        .unwrap_or(0);
    let max_indent = shown.iter().map(|&i| depth(i)).max().unwrap_or(0);
    let want = usize::from(max_indent) + 2 + name_max + 2 + 6;
    let right = area.x + u16::try_from(want).unwrap_or(u16::MAX).min(area.width);
    for (row, &i) in shown.iter().enumerate() {
        let (Some(s), Some(m)) = (model.services.get(i), model.marks.get(i)) else {
            continue;
        };
        let y = area
            .y
            .saturating_add(u16::try_from(row).unwrap_or(u16::MAX));
        if y >= area.y.saturating_add(area.height) {
            break;
        }
        let at = ListRow {
            y,
            indent: depth(i),
            right,
        };
        list_line(buf, area, at, s, m, theme);
    }
    if !fits && rows > 1 {
        let more = total - shown.len();
        let y = area
            .y
            .saturating_add(u16::try_from(shown.len()).unwrap_or(u16::MAX));
        put_str(
            buf,
            area,
            area.x,
            y,
            &format!("… +{more} more"),
            area.width,
            theme.status(Status::Muted),
        );
    } else if fits && total < rows && area.height >= 6 {
        draw_legend(buf, area, area.y + area.height - 1, model, theme);
    }
}

/// The `n` services most worth seeing, in the order they are listed.
fn pick_priority(model: &Model, order: &[usize], n: usize) -> Vec<usize> {
    let rank = |i: usize| -> (u8, i64) {
        let Some(m) = model.marks.get(i) else {
            return (9, 0);
        };
        let err = model.services.get(i).map_or(0.0, |s| s.error_rate);
        let class = if m.root {
            0
        } else if m.health == Status::Bad {
            1
        } else if m.blast {
            2
        } else if m.health == Status::Warn {
            3
        } else {
            4
        };
        // Worse error rates first within a class; NaN counts as zero.
        let e = if err.is_finite() {
            (err * 1e6) as i64
        } else {
            0
        };
        (class, -e)
    };
    let mut ranked: Vec<(usize, usize)> = order.iter().copied().enumerate().collect();
    ranked.sort_by_key(|&(pos, i)| (rank(i), pos));
    let mut shown: Vec<usize> = ranked.iter().take(n).map(|&(_, i)| i).collect();
    if let Some(sel) = order
        .iter()
        .copied()
        .find(|&i| model.marks.get(i).is_some_and(|m| m.selected))
    {
        if !shown.contains(&sel) {
            if let Some(last) = shown.last_mut() {
                *last = sel;
            }
        }
    }
    shown
}

/// Where a list line goes: its row, its indent, and the column its rate ends at.
struct ListRow {
    y: u16,
    indent: u16,
    right: u16,
}

/// `● name  13.7%`, marker and rate in health colours, selection across the line.
fn list_line(
    buf: &mut Buffer,
    area: Rect,
    row: ListRow,
    s: &ServiceHealth,
    m: &Marks,
    theme: &Theme,
) {
    let ListRow { y, indent, right } = row;
    let (glyph, gstyle) = if m.root {
        ("◆", root_style(theme))
    } else if m.blast {
        ("▲", blast_style(theme))
    } else {
        ("●", theme.status(m.health))
    };
    let end = area.x.saturating_add(area.width);
    if m.selected {
        buf.set_style(Rect::new(area.x, y, area.width, 1), theme.selected());
    }
    let sel = |st: Style| {
        if m.selected {
            st.patch(theme.selected())
        } else {
            st
        }
    };
    let mut x = area.x + indent.min(area.width);
    x += put_str(buf, area, x, y, glyph, end.saturating_sub(x), sel(gstyle));
    x = x.saturating_add(1);
    let rate = rate_text(s.error_rate);
    let rate_w = u16::try_from(rate.chars().count()).unwrap_or(u16::MAX);
    let rate_x = right.saturating_sub(rate_w);
    let show_rate = rate_x > x.saturating_add(3);
    let name_room = if show_rate {
        rate_x - 1 - x.min(rate_x - 1)
    } else {
        end.saturating_sub(x)
    };
    let name = label(&s.name, usize::from(name_room), false);
    put_str(
        buf,
        area,
        x,
        y,
        &name,
        name_room,
        sel(status_text(theme, m.health)),
    );
    if show_rate {
        put_str(
            buf,
            area,
            rate_x,
            y,
            &rate,
            rate_w,
            sel(theme.status(m.health)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ccp_adapters::embedded::fleet_spec::FleetSpec;
    use ccp_adapters::embedded::memory_graph::MemoryGraph;

    fn svc(name: &str, err: f64, unhealthy: bool) -> ServiceHealth {
        ServiceHealth {
            name: name.to_string(),
            criticality: 0.5,
            error_rate: err,
            latency_p99_ms: 42.0,
            unhealthy,
        }
    }

    fn edges(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    fn render(input: &GraphInput, w: u16, h: u16, theme: &Theme) -> Buffer {
        let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
        draw_graph(&mut buf, Rect::new(0, 0, w, h), input, theme);
        buf
    }

    fn lines(buf: &Buffer) -> Vec<String> {
        let a = buf.area;
        (a.y..a.y + a.height)
            .map(|y| {
                let row: String = (a.x..a.x + a.width)
                    .map(|x| buf[(x, y)].symbol().to_string())
                    .collect();
                row.trim_end().to_string()
            })
            .collect()
    }

    /// The demo fleet mid-incident: payment-service failing, its callers hurt.
    fn demo() -> (Vec<ServiceHealth>, Vec<(String, String)>) {
        let path = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
            .join("demo/fleet.yaml");
        let spec = FleetSpec::load(&path).expect("demo fleet loads");
        let bad: &[(&str, f64, bool)] = &[
            ("payment-service", 0.147, true),
            ("order-service", 0.089, true),
            ("user-service", 0.022, false),
            ("api", 0.016, false),
            ("gateway", 0.013, false),
        ];
        let services = spec
            .services
            .iter()
            .map(|s| {
                let (err, unhealthy) = bad
                    .iter()
                    .find(|b| b.0 == s.name)
                    .map_or((s.base_error_rate, false), |b| (b.1, b.2));
                ServiceHealth {
                    name: s.name.clone(),
                    criticality: s.criticality,
                    error_rate: err,
                    latency_p99_ms: s.latency_p50_ms * 2.5,
                    unhealthy,
                }
            })
            .collect();
        let edges = ccp_core::ports::DependencyGraph::edges(&MemoryGraph::from_fleet(&spec))
            .expect("memory graph edges");
        (services, edges)
    }

    fn text(buf: &Buffer) -> String {
        lines(buf).join("\n")
    }

    /// (x, y) of the first occurrence of `needle` in the rendered text.
    fn find(buf: &Buffer, needle: &str) -> Option<(u16, u16)> {
        let a = buf.area;
        for y in a.y..a.y + a.height {
            let row: Vec<String> = (a.x..a.x + a.width)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect();
            let first: Vec<char> = needle.chars().collect();
            for x0 in 0..row.len() {
                if first
                    .iter()
                    .enumerate()
                    .all(|(i, c)| row.get(x0 + i).is_some_and(|s| s.starts_with(*c)))
                {
                    return Some((a.x + u16::try_from(x0).unwrap_or(0), y));
                }
            }
        }
        None
    }

    fn demo_input<'a>(
        services: &'a [ServiceHealth],
        edges: &'a [(String, String)],
        blast: &'a [String],
    ) -> GraphInput<'a> {
        GraphInput {
            services,
            edges,
            root: Some("payment-service"),
            blast,
            selected: Some("api"),
        }
    }

    /// Chain edge-lb → gateway → api → order-service → payment-service → postgres_primary, and
    /// api → auth-service beside it.
    fn chain() -> (Vec<ServiceHealth>, Vec<(String, String)>) {
        let services = vec![
            svc("edge-lb", 0.001, false),
            svc("gateway", 0.012, false),
            svc("api", 0.02, true),
            svc("order-service", 0.09, true),
            svc("payment-service", 0.137, true),
            svc("postgres_primary", 0.0, false),
            svc("auth-service", 0.001, false),
        ];
        let e = edges(&[
            ("edge-lb", "gateway"),
            ("gateway", "api"),
            ("api", "order-service"),
            ("order-service", "payment-service"),
            ("payment-service", "postgres_primary"),
            ("api", "auth-service"),
        ]);
        (services, e)
    }

    #[test]
    fn chain_with_sibling_is_drawn_as_boxes_and_arrows() {
        let (services, e) = chain();
        let blast = blast_radius("payment-service", &e);
        let input = GraphInput {
            services: &services,
            edges: &e,
            root: Some("payment-service"),
            blast: &blast,
            selected: None,
        };
        let buf = render(&input, 120, 30, &Theme::default_dark());
        let t = text(&buf);
        for s in &services {
            assert!(t.contains(&s.name), "{} missing:\n{t}", s.name);
        }
        assert!(t.contains("13.7%"), "{t}");
        // Root marker in the top border right above the root's name, heavy frame around it.
        let (rx, ry) = find(&buf, "payment-service").expect("root drawn");
        let above: String = (rx.saturating_sub(1)..rx + 15)
            .map(|x| buf[(x, ry - 1)].symbol().to_string())
            .collect();
        assert!(above.contains("◆ ROOT"), "{above:?}\n{t}");
        assert_eq!(buf[(rx - 1, ry)].symbol(), "┃", "{t}");
        // order-service → payment-service: an arrowhead just left of the root's frame, a line
        // back to order-service's frame.
        assert_eq!(buf[(rx - 2, ry)].symbol(), "▶", "{t}");
        let (ox, oy) = find(&buf, "order-service").expect("order drawn");
        assert_eq!(oy, ry, "a chain is drawn straight:\n{t}");
        let between: String = (ox + 13..rx - 2)
            .map(|x| buf[(x, ry)].symbol().to_string())
            .collect();
        assert!(between.contains('─'), "{between:?}\n{t}");
        // Blast radius members carry ▲; the legend counts them.
        assert_eq!(
            t.matches('▲').count(),
            4 + 1,
            "four boxes and the legend:\n{t}"
        );
        assert!(t.contains("▲ blast radius (4)"), "{t}");
        // Healthy, degraded and unhealthy frames take their colours.
        let theme = Theme::default_dark();
        let (px, py) = find(&buf, "postgres_primary").expect("db drawn");
        assert_eq!(buf[(px - 1, py)].fg, theme.ok);
        assert_eq!(buf[(rx - 1, ry)].fg, theme.bad);
        let (gx, gy) = find(&buf, "gateway").expect("gateway drawn");
        assert_eq!(buf[(gx - 1, gy)].fg, theme.warn);
    }

    #[test]
    fn narrow_pane_falls_back_to_a_prioritised_list() {
        let (services, e) = demo();
        let blast = blast_radius("payment-service", &e);
        let input = GraphInput {
            selected: None,
            ..demo_input(&services, &e, &blast)
        };
        let buf = render(&input, 30, 8, &Theme::default_dark());
        let l = lines(&buf);
        assert!(
            !text(&buf).contains('┌'),
            "list, not boxes:\n{}",
            text(&buf)
        );
        assert!(
            l[0].starts_with("◆ payment-service") && l[0].ends_with("14.7%"),
            "{l:?}"
        );
        assert!(l[1].starts_with("▲ order-service"), "unhealthy next: {l:?}");
        assert!(
            l[2].starts_with("▲ user-service"),
            "then blast radius by error rate: {l:?}"
        );
        assert_eq!(l[7], format!("… +{} more", services.len() - 7), "{l:?}");
    }

    #[test]
    fn fallback_list_keeps_the_selection_visible() {
        let (services, e) = demo();
        let blast = blast_radius("payment-service", &e);
        let input = GraphInput {
            selected: Some("s3_blobstore"),
            ..demo_input(&services, &e, &blast)
        };
        let theme = Theme::default_dark();
        let buf = render(&input, 30, 8, &theme);
        let (x, y) = find(&buf, "s3_blobstore").expect("selection shown");
        assert_eq!(buf[(x, y)].bg, theme.selected().bg.unwrap_or_default());
    }

    #[test]
    fn small_graph_list_is_grouped_by_layer_when_it_fits() {
        let (services, e) = chain();
        let input = GraphInput {
            services: &services,
            edges: &e,
            root: None,
            blast: &[],
            selected: None,
        };
        let buf = render(&input, 24, 8, &Theme::default_dark());
        let l = lines(&buf);
        assert!(l[0].starts_with("● edge-lb"), "{l:?}");
        assert!(l[1].starts_with(" ● gateway"), "indented by depth: {l:?}");
        assert_eq!(l.iter().filter(|s| s.contains('●')).count(), 7, "{l:?}");
        assert!(!text(&buf).contains("more"));
    }

    #[test]
    fn empty_topology_waits_for_the_first_incident() {
        let input = GraphInput {
            services: &[],
            edges: &[],
            root: None,
            blast: &[],
            selected: None,
        };
        let buf = render(&input, 40, 5, &Theme::default_dark());
        assert_eq!(lines(&buf)[2].trim(), "waiting for the first incident…");
        assert!(lines(&buf)[2].starts_with("    "), "centred");
    }

    #[test]
    fn tiny_areas_do_not_panic() {
        let (services, e) = demo();
        let blast = blast_radius("payment-service", &e);
        let input = demo_input(&services, &e, &blast);
        let empty = GraphInput {
            services: &[],
            edges: &[],
            root: None,
            blast: &[],
            selected: None,
        };
        for (w, h) in [
            (0, 0),
            (1, 1),
            (0, 5),
            (5, 0),
            (1, 30),
            (200, 1),
            (2, 2),
            (12, 3),
        ] {
            for inp in [&input, &empty] {
                let _ = render(inp, w, h, &Theme::default_dark());
                let _ = render(inp, w, h, &Theme::monochrome());
            }
        }
        // An area larger than, or outside, the buffer is clipped to it.
        let mut buf = Buffer::empty(Rect::new(0, 0, 10, 4));
        draw_graph(
            &mut buf,
            Rect::new(5, 2, 500, 500),
            &input,
            &Theme::default_dark(),
        );
        draw_graph(
            &mut buf,
            Rect::new(50, 50, 5, 5),
            &input,
            &Theme::default_dark(),
        );
    }

    #[test]
    fn never_writes_outside_the_area() {
        let (services, e) = demo();
        let blast = blast_radius("payment-service", &e);
        let input = demo_input(&services, &e, &blast);
        let (chain_s, chain_e) = chain();
        let small = GraphInput {
            services: &chain_s,
            edges: &chain_e,
            root: Some("api"),
            blast: &[],
            selected: Some("gateway"),
        };
        let full = Rect::new(0, 0, 130, 44);
        for w in (0..=120).step_by(7) {
            for h in (0..=40).step_by(3) {
                for inp in [&input, &small] {
                    let mut buf = Buffer::empty(full);
                    for c in buf.content.iter_mut() {
                        c.set_char('#');
                    }
                    let area = Rect::new(3, 2, w, h);
                    draw_graph(&mut buf, area, inp, &Theme::default_dark());
                    for y in 0..full.height {
                        for x in 0..full.width {
                            if !area.contains(Position::new(x, y)) {
                                assert_eq!(
                                    buf[(x, y)].symbol(),
                                    "#",
                                    "({x},{y}) written for {w}x{h}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn huge_area_draws_full_names() {
        let (services, e) = demo();
        let blast = blast_radius("payment-service", &e);
        let input = demo_input(&services, &e, &blast);
        let buf = render(&input, 400, 200, &Theme::default_dark());
        let t = text(&buf);
        for s in &services {
            assert!(t.contains(&s.name), "{} missing", s.name);
        }
        assert!(t.contains("p99 300ms"), "roomy boxes show latency too");
    }

    #[test]
    fn monochrome_keeps_every_distinction() {
        let (services, e) = demo();
        let blast = blast_radius("payment-service", &e);
        let input = demo_input(&services, &e, &blast);
        let theme = Theme::monochrome();
        let buf = render(&input, 98, 26, &theme);
        let t = text(&buf);
        assert!(
            t.contains("◆ ROOT") && t.contains('┏') && t.contains('┛'),
            "heavy root frame:\n{t}"
        );
        assert!(
            t.contains('▲') && t.contains('┆'),
            "dashed blast frames:\n{t}"
        );
        let (x, y) = find(&buf, "api").expect("api drawn");
        assert!(
            buf[(x, y)].modifier.contains(Modifier::REVERSED),
            "selection reversed"
        );
        let (x, y) = find(&buf, "order-service").expect("order drawn");
        assert!(
            buf[(x, y)]
                .modifier
                .contains(Modifier::BOLD | Modifier::UNDERLINED),
            "unhealthy marked"
        );
        let (x, y) = find(&buf, "auth-service").expect("auth drawn");
        assert!(buf[(x, y)].modifier.is_empty(), "healthy plain");
    }

    #[test]
    fn cycles_are_drawn() {
        let services = vec![
            svc("a", 0.0, false),
            svc("b", 0.0, false),
            svc("c", 0.3, true),
        ];
        let e = edges(&[
            ("a", "b"),
            ("b", "c"),
            ("c", "a"),
            ("a", "a"),
            ("a", "ghost"),
        ]);
        let blast = blast_radius("c", &e);
        assert_eq!(blast, vec!["a".to_string(), "b".to_string()]);
        let input = GraphInput {
            services: &services,
            edges: &e,
            root: Some("c"),
            blast: &blast,
            selected: Some("b"),
        };
        let buf = render(&input, 60, 12, &Theme::default_dark());
        let t = text(&buf);
        for n in ["a", "b", "c"] {
            assert!(
                t.contains(&format!("│{n}"))
                    || t.contains(&format!("┨{n}"))
                    || t.contains(&format!("┆{n}")),
                "{t}"
            );
        }
        assert!(t.contains('◀'), "the back-edge keeps its direction:\n{t}");
        assert_eq!(navigation_order(&services, &e), vec!["a", "b", "c"]);
    }

    #[test]
    fn blast_radius_of_a_known_graph() {
        let (_, e) = demo();
        assert_eq!(
            blast_radius("payment-service", &e),
            vec!["api", "gateway", "order-service", "user-service"]
        );
        let kafka = blast_radius("kafka", &e);
        assert!(
            kafka.contains(&"notification-service".to_string())
                && kafka.contains(&"gateway".to_string())
        );
        assert!(!kafka.contains(&"kafka".to_string()));
        assert!(blast_radius("gateway", &e).is_empty());
        assert!(blast_radius("nobody", &e).is_empty());
    }

    #[test]
    fn navigation_order_is_layered_and_deterministic() {
        let (services, e) = demo();
        let order = navigation_order(&services, &e);
        assert_eq!(order, navigation_order(&services, &e));
        assert_eq!(order.len(), services.len());
        let pos = |n: &str| order.iter().position(|o| o == n).expect("listed");
        for (a, b) in &e {
            assert!(pos(a) < pos(b), "{a} before {b}: {order:?}");
        }
        assert!(order[..2].contains(&"gateway".to_string()));
    }

    #[test]
    fn labels_stay_distinct_when_cut() {
        assert_eq!(label("payment-service", 20, false), "payment-service");
        assert_eq!(label("payment-service", 10, false), "payment");
        assert_eq!(label("recommendation-service", 10, false), "recommend…");
        let l = distinct_labels(&[(0, "postgres_primary", 9), (1, "postgres_replica", 9)]);
        assert_ne!(l[&0], l[&1]);
        assert_eq!(l[&0], "post…mary");
    }

    #[test]
    fn two_hundred_services_stay_cheap() {
        // A deterministic pseudo-random layered fleet.
        let n = 200;
        let services: Vec<ServiceHealth> = (0..n)
            .map(|i| svc(&format!("svc-{i:03}"), 0.001, i % 17 == 0))
            .collect();
        let mut seed: u64 = 7;
        let mut e = Vec::new();
        for i in 1..n {
            for _ in 0..2 {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let j = usize::try_from(seed >> 33).unwrap_or(0) % i;
                e.push((format!("svc-{j:03}"), format!("svc-{i:03}")));
            }
        }
        let input = GraphInput {
            services: &services,
            edges: &e,
            root: Some("svc-017"),
            blast: &[],
            selected: None,
        };
        let start = std::time::Instant::now();
        for (w, h) in [(98, 26), (400, 300)] {
            let _ = render(&input, w, h, &Theme::default_dark());
        }
        let took = start.elapsed();
        // Generous for unoptimised test builds; guards against quadratic-or-worse blowups.
        assert!(took.as_millis() < 2000, "{took:?}");
    }

    #[test]
    fn demo_fleet_dumps() {
        let (services, e) = demo();
        let blast = blast_radius("payment-service", &e);
        let input = demo_input(&services, &e, &blast);
        let theme = Theme::default_dark();
        for (w, h) in [(98, 26), (78, 20), (38, 10)] {
            let buf = render(&input, w, h, &theme);
            println!("--- {w}x{h}");
            for l in lines(&buf) {
                println!("|{l}");
            }
            let t = text(&buf);
            if w >= 78 {
                assert!(
                    t.contains('◆') && t.contains('┃') && t.contains('▶'),
                    "layered at {w}x{h}:\n{t}"
                );
            } else {
                assert!(
                    t.contains("… +") && !t.contains('▶'),
                    "list at {w}x{h}:\n{t}"
                );
            }
        }
        let start = std::time::Instant::now();
        let _ = render(&input, 98, 26, &theme);
        println!("one 98x26 frame: {:?}", start.elapsed());
    }
}
