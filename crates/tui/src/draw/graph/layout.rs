//! Layered (Sugiyama-style) layout of the service call graph, with no drawing types in it so it
//! can be tested on numbers alone and reused by any renderer.
//!
//! The steps are the classic ones, each kept small and deterministic (same graph in, same picture
//! out, frame after frame, so the drawing never jitters):
//! 1. [`break_cycles`]: a DFS finds back-edges and reverses them, because user configs may contain
//!    call cycles and layering needs a DAG;
//! 2. [`longest_path_layers`]: callers first, each node one layer after its deepest caller;
//! 3. long edges get bend points ("dummy" nodes), one per (target, layer, direction) so that
//!    several long edges into the same service merge into one line instead of a bundle of parallel
//!    ones;
//! 4. [`Layered::reduce_crossings`]: barycenter sweeps, keeping the best order seen;
//! 5. [`Layered::place`]: positions along each layer that line callers up with callees (weighted
//!    isotonic regression per layer, so nodes never overlap and stay in their crossing-reduced
//!    order).

use std::collections::HashMap;

/// What a node of the layered graph stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// One of the caller's nodes (its index in the caller's list).
    Real(usize),
    /// A bend point of one or more long edges that all end at real node `target`; the renderer
    /// draws it as a line passing through the layer.
    Dummy {
        /// The real node the line leads to (in DAG direction).
        target: usize,
    },
}

/// A link between a node in layer `l` and a node in layer `l + 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Link {
    /// Node in the earlier layer.
    pub from: usize,
    /// Node in the next layer.
    pub to: usize,
    /// True when the original edge pointed the other way (it closed a cycle and was reversed to
    /// make layering possible); the renderer puts the arrowhead at `from`.
    pub reversed: bool,
}

/// A graph split into ordered layers, every link joining consecutive layers.
///
/// Node ids `0..n` are the caller's nodes (so `kinds[i] == NodeKind::Real(i)` for `i < n`); ids
/// from `n` up are dummies.
#[derive(Debug, Clone, PartialEq)]
pub struct Layered {
    /// What each node id stands for.
    pub kinds: Vec<NodeKind>,
    /// Layer of each node id.
    pub layer: Vec<usize>,
    /// Node ids of each layer, in drawing order (top to bottom / left to right).
    pub layers: Vec<Vec<usize>>,
    /// Links between consecutive layers, sorted.
    pub links: Vec<Link>,
}

/// A DAG edge: `(from, to, reversed)`, see [`Link::reversed`].
pub type DagEdge = (usize, usize, bool);

/// Turn `edges` (caller → callee, indices below `n`) into a DAG: drop self-loops, out-of-range
/// indices and duplicates, and reverse the back-edges an iterative DFS (roots in index order)
/// finds. Deterministic, so the same cyclic graph always breaks the same way.
pub fn break_cycles(n: usize, edges: &[(usize, usize)]) -> Vec<DagEdge> {
    let mut clean: Vec<(usize, usize)> = edges
        .iter()
        .copied()
        .filter(|&(a, b)| a != b && a < n && b < n)
        .collect();
    clean.sort_unstable();
    clean.dedup();
    let succ = adjacency(n, &clean);
    // 0 = unvisited, 1 = on the DFS stack, 2 = done.
    let mut state = vec![0u8; n];
    let mut back = vec![false; clean.len()];
    let offsets = edge_offsets(n, &clean);
    for root in 0..n {
        if state[root] != 0 {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        state[root] = 1;
        while let Some(&mut (v, ref mut next)) = stack.last_mut() {
            if let Some(&w) = succ[v].get(*next) {
                let edge = offsets[v] + *next;
                *next += 1;
                match state[w] {
                    0 => {
                        state[w] = 1;
                        stack.push((w, 0));
                    }
                    1 => back[edge] = true,
                    _ => {}
                }
            } else {
                state[v] = 2;
                stack.pop();
            }
        }
    }
    let mut dag: Vec<DagEdge> = clean
        .iter()
        .zip(&back)
        .map(|(&(a, b), &r)| if r { (b, a, true) } else { (a, b, false) })
        .collect();
    dag.sort_unstable();
    dag.dedup();
    dag
}

/// Successor lists of a sorted edge list (successors come out sorted too).
fn adjacency(n: usize, sorted: &[(usize, usize)]) -> Vec<Vec<usize>> {
    let mut succ = vec![Vec::new(); n];
    for &(a, b) in sorted {
        succ[a].push(b);
    }
    succ
}

/// Index of each node's first out-edge in a list sorted by source.
fn edge_offsets(n: usize, sorted: &[(usize, usize)]) -> Vec<usize> {
    let mut offsets = vec![0; n + 1];
    for &(a, _) in sorted {
        offsets[a + 1] += 1;
    }
    for i in 0..n {
        offsets[i + 1] += offsets[i];
    }
    offsets
}

/// Longest-path layering: sources (nodes nobody calls) get layer 0, every other node one more
/// than its deepest predecessor, so callers always sit before their callees; then sources move
/// up to just before their nearest callee. `dag` must be
/// acyclic (see [`break_cycles`]); nodes left on a cycle anyway are put after their placed
/// predecessors instead of looping.
pub fn longest_path_layers(n: usize, dag: &[DagEdge]) -> Vec<usize> {
    let mut indeg = vec![0usize; n];
    let mut succ = vec![Vec::new(); n];
    for &(a, b, _) in dag {
        if a < n && b < n {
            succ[a].push(b);
            indeg[b] += 1;
        }
    }
    let mut layer = vec![0usize; n];
    let mut queue: std::collections::VecDeque<usize> = (0..n).filter(|&v| indeg[v] == 0).collect();
    while let Some(v) = queue.pop_front() {
        for &w in &succ[v] {
            layer[w] = layer[w].max(layer[v] + 1);
            indeg[w] -= 1;
            if indeg[w] == 0 {
                queue.push_back(w);
            }
        }
    }
    // A source whose callees all sit further right moves next to them: shorter edges, fewer
    // bend points (e.g. a batch job calling only a database).
    let mut has_pred = vec![false; n];
    for &(_, b, _) in dag {
        if b < n {
            has_pred[b] = true;
        }
    }
    for v in 0..n {
        if let Some(first) = succ[v].iter().map(|&w| layer[w]).min() {
            if !has_pred[v] && first > 1 {
                layer[v] = first - 1;
            }
        }
    }
    layer
}

impl Layered {
    /// The whole pipeline for `n` nodes and caller → callee `edges`: cycle breaking, layering,
    /// bend points for long edges and crossing reduction. Positions come from [`Layered::place`]
    /// once the renderer knows how big each node is.
    pub fn new(n: usize, edges: &[(usize, usize)]) -> Self {
        let dag = break_cycles(n, edges);
        let layer = longest_path_layers(n, &dag);
        let mut g = Self::with_dummies(n, &layer, &dag);
        g.dfs_order();
        g.reduce_crossings(12);
        g
    }

    /// Build layers in input order, splitting each edge that spans several layers into links
    /// through dummies shared per (target, layer, direction).
    fn with_dummies(n: usize, layer: &[usize], dag: &[DagEdge]) -> Self {
        let depth = layer.iter().max().map_or(0, |m| m + 1);
        let mut g = Layered {
            kinds: (0..n).map(NodeKind::Real).collect(),
            layer: layer.to_vec(),
            layers: vec![Vec::new(); depth],
            links: Vec::new(),
        };
        for (v, &l) in layer.iter().enumerate() {
            g.layers[l].push(v);
        }
        let mut dummies: HashMap<(usize, usize, bool), usize> = HashMap::new();
        for &(a, b, reversed) in dag {
            let mut prev = a;
            for l in layer[a] + 1..layer[b] {
                let d = *dummies.entry((b, l, reversed)).or_insert_with(|| {
                    let id = g.kinds.len();
                    g.kinds.push(NodeKind::Dummy { target: b });
                    g.layer.push(l);
                    g.layers[l].push(id);
                    id
                });
                g.links.push(Link {
                    from: prev,
                    to: d,
                    reversed,
                });
                prev = d;
            }
            g.links.push(Link {
                from: prev,
                to: b,
                reversed,
            });
        }
        g.links.sort_unstable();
        g.links.dedup();
        g
    }

    /// Predecessor and successor lists per node id.
    fn neighbours(&self) -> (Vec<Vec<usize>>, Vec<Vec<usize>>) {
        let mut pred = vec![Vec::new(); self.kinds.len()];
        let mut succ = vec![Vec::new(); self.kinds.len()];
        for l in &self.links {
            succ[l.from].push(l.to);
            pred[l.to].push(l.from);
        }
        (pred, succ)
    }

    /// Position of every node inside its layer.
    fn positions(&self) -> Vec<usize> {
        let mut pos = vec![0; self.kinds.len()];
        for layer in &self.layers {
            for (i, &v) in layer.iter().enumerate() {
                pos[v] = i;
            }
        }
        pos
    }

    /// Number of pairs of links that cross, over all pairs of consecutive layers
    /// (O(E log V) per layer pair, so it is cheap enough to run after every sweep).
    pub fn crossings(&self) -> usize {
        let pos = self.positions();
        let mut per_layer: Vec<Vec<(usize, usize)>> = vec![Vec::new(); self.layers.len()];
        for l in &self.links {
            per_layer[self.layer[l.from]].push((pos[l.from], pos[l.to]));
        }
        per_layer
            .iter_mut()
            .enumerate()
            .map(|(i, pairs)| {
                let width = self.layers.get(i + 1).map_or(0, Vec::len);
                inversions(pairs, width)
            })
            .sum()
    }

    /// Start from a depth-first order (callees of one caller end up next to each other), which
    /// gives the sweeps a tree-like picture to refine instead of the input order.
    pub fn dfs_order(&mut self) {
        let (_, succ) = self.neighbours();
        let n = self.kinds.len();
        let mut seen = vec![false; n];
        let mut layers: Vec<Vec<usize>> = vec![Vec::new(); self.layers.len()];
        let roots: Vec<usize> = self.layers.first().cloned().unwrap_or_default();
        for root in roots.into_iter().chain(0..n) {
            if seen[root] {
                continue;
            }
            seen[root] = true;
            let mut stack = vec![root];
            while let Some(v) = stack.pop() {
                layers[self.layer[v]].push(v);
                // Push in reverse so the first successor is visited first.
                for &w in succ[v].iter().rev() {
                    if !seen[w] {
                        seen[w] = true;
                        stack.push(w);
                    }
                }
            }
        }
        self.layers = layers;
    }

    /// Barycenter heuristic: `sweeps` down-and-up passes, each ordering a layer by the mean
    /// position of its neighbours in the layer just fixed, then swapping adjacent nodes while that
    /// removes crossings; the best order seen is kept. Nodes with no neighbour there keep their
    /// place, and ties keep the previous order (stable sort), so the result is deterministic.
    pub fn reduce_crossings(&mut self, sweeps: usize) {
        let (pred, succ) = self.neighbours();
        self.transpose(&pred, &succ);
        let mut best = self.layers.clone();
        let mut best_crossings = self.crossings();
        for _ in 0..sweeps {
            if best_crossings == 0 {
                break;
            }
            for l in 1..self.layers.len() {
                self.order_layer(l, l - 1, &pred);
            }
            self.transpose(&pred, &succ);
            for l in (0..self.layers.len().saturating_sub(1)).rev() {
                self.order_layer(l, l + 1, &succ);
            }
            self.transpose(&pred, &succ);
            let c = self.crossings();
            if c < best_crossings {
                best_crossings = c;
                best.clone_from(&self.layers);
            }
        }
        self.layers = best;
    }

    /// Swap adjacent nodes of any layer while that strictly lowers the crossings of their links
    /// (a few passes at most, so it stays near-linear).
    fn transpose(&mut self, pred: &[Vec<usize>], succ: &[Vec<usize>]) {
        let mut pos = self.positions();
        for _ in 0..8 {
            let mut improved = false;
            for l in 0..self.layers.len() {
                for i in 1..self.layers[l].len() {
                    let (v, w) = (self.layers[l][i - 1], self.layers[l][i]);
                    let now = pair_crossings(v, w, pred, &pos) + pair_crossings(v, w, succ, &pos);
                    let swapped =
                        pair_crossings(w, v, pred, &pos) + pair_crossings(w, v, succ, &pos);
                    if swapped < now {
                        self.layers[l].swap(i - 1, i);
                        pos[v] = i;
                        pos[w] = i - 1;
                        improved = true;
                    }
                }
            }
            if !improved {
                break;
            }
        }
    }

    /// Sort layer `l` by the barycenter of each node's neighbours (`adj`) in layer `reference`.
    fn order_layer(&mut self, l: usize, reference: usize, adj: &[Vec<usize>]) {
        let mut ref_pos = HashMap::with_capacity(self.layers[reference].len());
        for (i, &v) in self.layers[reference].iter().enumerate() {
            ref_pos.insert(v, i as f64);
        }
        let mut keyed: Vec<(f64, usize)> = self.layers[l]
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                let ps: Vec<f64> = adj[v]
                    .iter()
                    .filter_map(|w| ref_pos.get(w))
                    .copied()
                    .collect();
                let bary = if ps.is_empty() {
                    i as f64
                } else {
                    ps.iter().sum::<f64>() / ps.len() as f64
                };
                (bary, v)
            })
            .collect();
        keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
        self.layers[l] = keyed.into_iter().map(|(_, v)| v).collect();
    }

    /// Coordinates along each layer (e.g. rows when layers are columns) for nodes of different
    /// sizes: node `v` occupies `above[v]` cells before its port (the cell its links attach to),
    /// the port, and `below[v]` cells after it; consecutive nodes keep `gap` free cells between
    /// them, and everything stays inside `0..extent`. Returns each node's port coordinate, or
    /// `None` when some layer does not fit in `extent`.
    ///
    /// Each layer is placed by weighted isotonic regression towards the mean port of its
    /// neighbours (order kept, no overlaps, least squared displacement); sweeps alternate
    /// downwards and upwards, dummies weigh more so long edges come out straight.
    pub fn place(
        &self,
        above: &[i32],
        below: &[i32],
        gap: i32,
        extent: i32,
        sweeps: usize,
    ) -> Option<Vec<i32>> {
        let n = self.kinds.len();
        if above.len() < n || below.len() < n {
            return None;
        }
        let fits = self.layers.iter().all(|layer| {
            let used: i64 = layer
                .iter()
                .map(|&v| i64::from(above[v]) + i64::from(below[v]) + 1)
                .sum::<i64>()
                + i64::from(gap) * (layer.len() as i64 - 1).max(0);
            used <= i64::from(extent)
        });
        if !fits {
            return None;
        }
        let (pred, succ) = self.neighbours();
        let weight: Vec<f64> = self
            .kinds
            .iter()
            .map(|k| match k {
                NodeKind::Real(_) => 1.0,
                NodeKind::Dummy { .. } => 4.0,
            })
            .collect();
        let room = Room {
            above,
            below,
            gap,
            extent,
        };
        let mut port = vec![0i32; n];
        let centre = f64::from(extent - 1) / 2.0;
        for layer in &self.layers {
            let desired: Vec<(f64, f64)> = layer.iter().map(|_| (centre, 1.0)).collect();
            place_layer(layer, &desired, &room, &mut port);
        }
        let depth = self.layers.len();
        for sweep in 0..sweeps {
            // The last sweep looks both ways so no layer ends up pulled to one side only.
            let last = sweep + 1 == sweeps;
            for l in 1..depth {
                let other = last.then_some(succ.as_slice());
                self.pull_layer(l, &pred, other, &weight, &room, &mut port);
            }
            for l in (0..depth.saturating_sub(1)).rev() {
                let other = last.then_some(pred.as_slice());
                self.pull_layer(l, &succ, other, &weight, &room, &mut port);
            }
        }
        Some(port)
    }

    /// Move layer `l` towards the mean port of its neighbours in `primary` (and `secondary`).
    fn pull_layer(
        &self,
        l: usize,
        primary: &[Vec<usize>],
        secondary: Option<&[Vec<usize>]>,
        weight: &[f64],
        room: &Room,
        port: &mut [i32],
    ) {
        let layer = &self.layers[l];
        let desired: Vec<(f64, f64)> = layer
            .iter()
            .map(|&v| {
                let extra = secondary.map_or(&[][..], |s| s[v].as_slice());
                let ns = primary[v].iter().chain(extra);
                let (sum, count) =
                    ns.fold((0.0, 0usize), |(s, c), &w| (s + f64::from(port[w]), c + 1));
                if count == 0 {
                    (f64::from(port[v]), 0.05)
                } else {
                    (sum / count as f64, weight[v])
                }
            })
            .collect();
        place_layer(layer, &desired, room, port);
    }
}

/// Sizes and bounds for [`Layered::place`].
struct Room<'a> {
    above: &'a [i32],
    below: &'a [i32],
    gap: i32,
    extent: i32,
}

/// Place one layer's ports as close as possible to `desired` (target, weight) pairs.
fn place_layer(layer: &[usize], desired: &[(f64, f64)], room: &Room, port: &mut [i32]) {
    let (Some(&first), Some(&last)) = (layer.first(), layer.last()) else {
        return;
    };
    // Port i must be at least offset[i] after port 0; z_i = port_i - offset_i is then
    // non-decreasing, which is what isotonic regression produces.
    let mut offset = Vec::with_capacity(layer.len());
    let mut acc = 0i32;
    for (i, &v) in layer.iter().enumerate() {
        if i > 0 {
            acc += room.below[layer[i - 1]] + room.gap + room.above[v] + 1;
        }
        offset.push(acc);
    }
    let lo = f64::from(room.above[first]);
    let hi = f64::from(room.extent - 1 - room.below[last] - acc);
    let targets: Vec<(f64, f64)> = desired
        .iter()
        .zip(&offset)
        .map(|(&(t, w), &o)| (t - f64::from(o), w))
        .collect();
    let z = isotonic(&targets);
    for ((&v, &zi), &o) in layer.iter().zip(&z).zip(&offset) {
        port[v] = zi.clamp(lo, hi.max(lo)).round() as i32 + o;
    }
}

/// Crossings between the links of `v` and those of `w` (with `v` placed before `w`) towards
/// the neighbours listed in `adj`.
fn pair_crossings(v: usize, w: usize, adj: &[Vec<usize>], pos: &[usize]) -> usize {
    let mut c = 0;
    for &a in &adj[v] {
        for &b in &adj[w] {
            if pos[a] > pos[b] {
                c += 1;
            }
        }
    }
    c
}

/// Weighted isotonic (non-decreasing) regression by pool-adjacent-violators.
fn isotonic(targets: &[(f64, f64)]) -> Vec<f64> {
    // Blocks of (weighted sum, total weight, count).
    let mut blocks: Vec<(f64, f64, usize)> = Vec::with_capacity(targets.len());
    for &(t, w) in targets {
        let w = if w > 0.0 { w } else { 1e-6 };
        blocks.push((t * w, w, 1));
        while blocks.len() >= 2 {
            let (s2, w2, c2) = blocks[blocks.len() - 1];
            let (s1, w1, c1) = blocks[blocks.len() - 2];
            if s1 / w1 <= s2 / w2 {
                break;
            }
            blocks.pop();
            let len = blocks.len();
            blocks[len - 1] = (s1 + s2, w1 + w2, c1 + c2);
        }
    }
    blocks
        .into_iter()
        .flat_map(|(s, w, c)| std::iter::repeat_n(s / w, c))
        .collect()
}

/// Crossing pairs among links given as (position above, position below): sort, then count
/// inversions of the lower positions with a Fenwick tree.
fn inversions(pairs: &mut [(usize, usize)], width: usize) -> usize {
    pairs.sort_unstable();
    let mut tree = vec![0usize; width + 1];
    let mut count = 0usize;
    for (seen, &(_, b)) in pairs.iter().enumerate() {
        // Links seen so far that end strictly after b cross this one.
        let mut i = b + 1;
        let mut le = 0;
        while i > 0 {
            le += tree[i];
            i &= i - 1;
        }
        count += seen - le;
        let mut i = b + 1;
        while i <= width {
            tree[i] += 1;
            i += i & i.wrapping_neg();
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    fn real_layers(g: &Layered) -> Vec<Vec<usize>> {
        g.layers
            .iter()
            .map(|l| {
                l.iter()
                    .copied()
                    .filter(|&v| matches!(g.kinds[v], NodeKind::Real(_)))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn layers_of_a_small_graph() {
        // 0 → 1 → 2 → 3, 0 → 3 (long edge), 4 → 2 (a source pulled next to its callee).
        let g = Layered::new(5, &[(0, 1), (1, 2), (2, 3), (0, 3), (4, 2)]);
        assert_eq!(g.layer[..5], [0, 1, 2, 3, 1]);
        let mut layers = real_layers(&g);
        for l in &mut layers {
            l.sort_unstable();
        }
        assert_eq!(layers, vec![vec![0], vec![1, 4], vec![2], vec![3]]);
        // The long edge 0 → 3 goes through two dummies targeting 3.
        let dummies: Vec<_> = g.kinds[5..].to_vec();
        assert_eq!(dummies, vec![NodeKind::Dummy { target: 3 }; 2]);
        for link in &g.links {
            assert_eq!(g.layer[link.to], g.layer[link.from] + 1, "{link:?}");
        }
    }

    #[test]
    fn long_edges_to_one_target_share_bend_points() {
        // 0 and 1 both skip a layer to reach 3.
        let g = Layered::new(4, &[(0, 2), (2, 3), (0, 3), (1, 2), (1, 3)]);
        let dummies = g
            .kinds
            .iter()
            .filter(|k| matches!(k, NodeKind::Dummy { .. }))
            .count();
        assert_eq!(dummies, 1);
    }

    #[test]
    fn cycle_is_broken_and_layered() {
        // 0 → 1 → 2 → 0 plus a self-loop and a duplicate.
        let edges = [(0, 1), (1, 2), (2, 0), (1, 1), (0, 1)];
        let dag = break_cycles(3, &edges);
        assert_eq!(dag, vec![(0, 1, false), (0, 2, true), (1, 2, false)]);
        let g = Layered::new(3, &edges);
        assert_eq!(g.layer[..3], [0, 1, 2]);
        assert!(g.links.iter().any(|l| l.reversed));
        for link in &g.links {
            assert_eq!(g.layer[link.to], g.layer[link.from] + 1);
        }
    }

    #[test]
    fn out_of_range_edges_are_ignored() {
        let g = Layered::new(2, &[(0, 7), (9, 1), (0, 1)]);
        assert_eq!(g.layer, vec![0, 1]);
        assert_eq!(g.links.len(), 1);
        assert_eq!(Layered::new(0, &[]).layers.len(), 0);
    }

    #[test]
    fn output_is_deterministic() {
        let edges: Vec<(usize, usize)> = (0..40).map(|i| (i % 13, (i * 7 + 3) % 29)).collect();
        let a = Layered::new(30, &edges);
        let b = Layered::new(30, &edges);
        assert_eq!(a, b);
        let above = vec![1; a.kinds.len()];
        assert_eq!(
            a.place(&above, &above, 1, 400, 4),
            b.place(&above, &above, 1, 400, 4)
        );
    }

    #[test]
    fn barycenter_reduces_crossings() {
        // Two layers wired as a "reversal": 0→7, 1→6, 2→5, 3→4 all cross in input order.
        let edges = [(0, 7), (1, 6), (2, 5), (3, 4)];
        let dag = break_cycles(8, &edges);
        let layer = longest_path_layers(8, &dag);
        let mut g = Layered::with_dummies(8, &layer, &dag);
        assert_eq!(g.crossings(), 6);
        g.reduce_crossings(4);
        assert_eq!(g.crossings(), 0);
    }

    #[test]
    fn crossing_count_matches_brute_force() {
        let mut pairs = vec![(0, 2), (1, 0), (1, 1), (2, 0), (0, 1)];
        let brute = {
            let mut c = 0;
            for i in 0..pairs.len() {
                for j in 0..pairs.len() {
                    let (a, b) = (pairs[i], pairs[j]);
                    if a.0 < b.0 && a.1 > b.1 {
                        c += 1;
                    }
                }
            }
            c
        };
        assert_eq!(inversions(&mut pairs, 3), brute);
    }

    #[test]
    fn placement_aligns_a_chain_and_never_overlaps() {
        let g = Layered::new(4, &[(0, 1), (1, 2), (0, 3)]);
        let above = vec![1; 4];
        let below = vec![1; 4];
        let port = g.place(&above, &below, 1, 20, 4).expect("fits");
        // 0 → 1 → 2 is a chain: 1 and 2 line up.
        assert_eq!(port[1], port[2]);
        for layer in &g.layers {
            for w in layer.windows(2) {
                assert!(port[w[1]] - port[w[0]] >= 4, "{port:?}");
            }
            for &v in layer {
                assert!(port[v] >= 1 && port[v] <= 18);
            }
        }
        assert_eq!(
            g.place(&above, &below, 1, 6, 4),
            None,
            "two 3-cell nodes + gap need 7"
        );
    }

    #[test]
    fn isotonic_pools_violators() {
        let z = isotonic(&[(3.0, 1.0), (1.0, 1.0), (5.0, 1.0)]);
        assert_eq!(z, vec![2.0, 2.0, 5.0]);
    }
}
