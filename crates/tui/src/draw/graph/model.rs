//! The graph's model: services indexed, their marks (root, blast radius, selection) and the
//! layered order the layout gave them.

use super::*;

/// Index edges by service position (unknown names and self-calls dropped) and lay them out.
pub(super) fn index_graph(
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
pub(super) fn real_order(layered: &Layered) -> Vec<usize> {
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
pub(super) struct Marks {
    pub(super) health: Status,
    pub(super) root: bool,
    pub(super) blast: bool,
    pub(super) selected: bool,
}

/// Health colour: unhealthy → bad, error rate above 0.5 % → degraded, else healthy.
pub(super) fn health(s: &ServiceHealth) -> Status {
    if s.unhealthy {
        Status::Bad
    } else if s.error_rate > 0.005 {
        Status::Warn
    } else {
        Status::Ok
    }
}

/// Everything drawing needs, computed once per frame.
pub(super) struct Model<'a> {
    pub(super) services: &'a [ServiceHealth],
    pub(super) layered: Layered,
    pub(super) marks: Vec<Marks>,
    /// Links leaving each layout node.
    pub(super) out: Vec<Vec<Link>>,
    /// Severity of each link (parallel to `out`): 0 plain, 1 between blast radius members,
    /// 2 into the root cause.
    pub(super) out_sev: Vec<Vec<u8>>,
    /// Severity of the line through each bend point (worst call it carries).
    pub(super) through_sev: Vec<u8>,
    /// Size of the blast radius as given (for the legend).
    pub(super) blast_count: usize,
}

impl<'a> Model<'a> {
    pub(super) fn new(g: &GraphInput<'a>) -> Self {
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

    pub(super) fn is_hot(&self, i: usize) -> bool {
        self.marks.get(i).is_some_and(|m| m.root || m.blast)
    }

    /// Severity of an original call caller → callee.
    pub(super) fn call_sev(&self, caller: usize, callee: usize) -> u8 {
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
    pub(super) fn compute_severities(&mut self) {
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
