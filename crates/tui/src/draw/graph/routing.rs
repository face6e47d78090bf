//! The layered drawing's plan: box sizes and positions per density, and the orthogonal routes
//! of calls through the gaps between layers, one track per net so lines never merge.

use super::*;

/// Box height and vertical gap between boxes, roomiest first.
pub(super) const DENSITIES: [(i32, i32); 5] = [(4, 1), (3, 1), (4, 0), (3, 0), (2, 0)];
/// Narrowest box interior before a layered drawing is given up for the list.
pub(super) const MIN_INNER: i32 = 8;
/// Widest box interior worth having (longer names are cut).
pub(super) const MAX_INNER: i32 = 24;
/// Extra width a gap between columns may take when the pane is wide.
pub(super) const MAX_GAP_EXTRA: i32 = 4;

/// One routed call bundle: everything leaving node `src` towards the next column.
#[derive(Debug, Clone)]
pub(super) struct Net {
    pub(super) src: usize,
    pub(super) row: i32,
    pub(super) links: Vec<Link>,
    /// Severity of each link.
    pub(super) sev: Vec<u8>,
    pub(super) lo: i32,
    pub(super) hi: i32,
    /// Vertical track inside the gap (0 = leftmost); `None` when every link is a straight line.
    pub(super) track: Option<i32>,
}

/// The routes in the gap after one column.
#[derive(Debug, Clone)]
pub(super) struct Gap {
    pub(super) nets: Vec<Net>,
    pub(super) tracks: i32,
    /// Cells before the first track (≥ 1) and after the last one up to the arrowhead (≥ 1).
    pub(super) stub: i32,
    pub(super) run: i32,
}

impl Gap {
    pub(super) fn width(&self) -> i32 {
        self.stub + self.tracks + self.run + 1
    }
}

/// A layered drawing that fits the pane.
pub(super) struct Plan {
    pub(super) box_h: i32,
    pub(super) port_off: i32,
    pub(super) ports: Vec<i32>,
    pub(super) col_x: Vec<i32>,
    pub(super) col_w: Vec<i32>,
    pub(super) gaps: Vec<Gap>,
    /// Canvas size and where it goes inside the pane.
    pub(super) width: i32,
    pub(super) height: i32,
    pub(super) off_x: i32,
    pub(super) off_y: i32,
    pub(super) legend: bool,
}

impl Plan {
    /// The roomiest density that fits, with the legend if possible.
    pub(super) fn fit(model: &Model, area: Rect) -> Option<Plan> {
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
    pub(super) fn try_density(model: &Model, w: i32, h: i32, box_h: i32, gap: i32) -> Option<Plan> {
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

    pub(super) fn render(&self, buf: &mut Buffer, area: Rect, model: &Model, theme: &Theme) {
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
    pub(super) fn draw_links(&self, c: &mut Canvas, model: &Model) {
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
    pub(super) fn draw_through_lines(&self, c: &mut Canvas, model: &Model) {
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
    pub(super) fn labels(&self, model: &Model) -> HashMap<usize, String> {
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
    pub(super) fn draw_nodes(&self, c: &mut Canvas, model: &Model, theme: &Theme) {
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
pub(super) fn column_inner(model: &Model, layer: &[usize], box_h: i32) -> i32 {
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
pub(super) fn fit_widths(desired_inner: &[i32], gaps: &[Gap], w: i32) -> Option<(Vec<i32>, i32)> {
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
pub(super) fn spans(g: &Layered, box_h: i32, port_off: i32) -> (Vec<i32>, Vec<i32>) {
    g.kinds
        .iter()
        .map(|k| match k {
            NodeKind::Real(_) => (port_off, box_h - 1 - port_off),
            NodeKind::Dummy { .. } => (0, 0),
        })
        .unzip()
}

/// Rows the tallest layer needs.
pub(super) fn tallest_layer(g: &Layered, above: &[i32], below: &[i32], gap: i32) -> i32 {
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
pub(super) fn trim_rows(mut ports: Vec<i32>, above: &[i32], below: &[i32]) -> (Vec<i32>, i32) {
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
pub(super) fn widen_gaps(gaps: &mut [Gap], spare: i32) {
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
pub(super) fn arrowhead(
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
pub(super) fn route_gap(model: &Model, l: usize, ports: &[i32]) -> Gap {
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
pub(super) fn assign_tracks(nets: &mut [Net], ports: &[i32]) -> i32 {
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
