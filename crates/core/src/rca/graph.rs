//! Who is a victim and who is the origin: blame flows along the call graph.
//!
//! Faults propagate from callee back to caller, so an anomalous service whose own dependencies
//! are anomalous *earlier or at the same time* is probably a victim. Each anomalous service
//! starts with its anomaly as blame mass; it keeps the share its dependencies cannot explain and
//! passes the rest to them, in proportion to how well each explains it. This is an absorbing
//! random walk on the call graph (the reversed fault-propagation graph) personalised by anomaly;
//! a pass-on cap below one makes every walk end, so cycles and self-loops are harmless. The mass
//! a service absorbs is its root-cause score.
//!
//! Services that export no metrics at all (datastores, queues) cannot be judged directly. Their
//! support comes from their callers: if most callers are anomalous *and those callers' other
//! dependencies are healthy*, the common callee is the likely origin. One anomalous caller is
//! weak evidence (it could be the caller's own fault), several are strong.

use super::anomaly::{ServiceAnomaly, MIN_ANOMALY};
use std::collections::HashMap;

/// Largest share of its blame a service may pass on: makes every walk terminate.
const MAX_PASS: f64 = 0.9;
/// A dependency whose onset is this much later (seconds) than the caller's still counts fully
/// (bucketing and detection lag).
const ONSET_TOLERANCE_S: f64 = 20.0;
/// Beyond the tolerance, an explanation decays with this time constant (seconds).
const ONSET_DECAY_S: f64 = 30.0;
/// A caller counts as "pointing at" an unobserved callee from this much unexplained anomaly.
const POINTING: f64 = 0.1;
/// An observed dependency explaining at least this share makes the caller a victim.
const EXPLAINED: f64 = 0.5;
/// A pointing caller's anomaly counts fully toward the support from this score on.
const POINTING_FULL: f64 = 0.5;
/// Walk rounds at most (each round moves mass one hop).
const MAX_ROUNDS: usize = 200;

/// The call graph with dense ids, deduplicated, self-loops dropped.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    /// Service names by id.
    pub names: Vec<String>,
    /// Callees by id.
    pub callees: Vec<Vec<usize>>,
    /// Callers by id.
    pub callers: Vec<Vec<usize>>,
}

impl Graph {
    /// Build from names and `(from, to)` edges; unknown endpoints become services.
    pub fn build<'a>(
        names: impl IntoIterator<Item = &'a str>,
        edges: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Self {
        let mut ids: HashMap<&'a str, usize> = HashMap::new();
        let mut g = Graph::default();
        let mut id = |g: &mut Graph, n: &'a str| -> usize {
            *ids.entry(n).or_insert_with(|| {
                g.names.push(n.to_string());
                g.callees.push(Vec::new());
                g.callers.push(Vec::new());
                g.names.len() - 1
            })
        };
        for n in names {
            id(&mut g, n);
        }
        for (from, to) in edges {
            let (a, b) = (id(&mut g, from), id(&mut g, to));
            if a != b {
                g.callees[a].push(b);
                g.callers[b].push(a);
            }
        }
        for v in g.callees.iter_mut().chain(g.callers.iter_mut()) {
            v.sort_unstable();
            v.dedup();
        }
        g
    }

    /// Whether `to` is reachable from `from` through calls (a callee, or a callee's…).
    pub fn reaches(&self, from: usize, to: usize) -> bool {
        let mut seen = vec![false; self.len()];
        let mut todo = vec![from];
        while let Some(n) = todo.pop() {
            for &c in self.callees.get(n).map(Vec::as_slice).unwrap_or(&[]) {
                if c == to {
                    return true;
                }
                if !seen[c] {
                    seen[c] = true;
                    todo.push(c);
                }
            }
        }
        false
    }

    /// Number of services.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there are no services.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// What the walk found for one service.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Blame {
    /// Blame mass absorbed: the root-cause score before change evidence.
    pub mass: f64,
    /// Share of its own anomaly its dependencies explain, in [0,1].
    pub explained: f64,
    /// The dependency explaining it best, when one does.
    pub explained_by: Option<usize>,
    /// For unobserved services: the support its callers give it, in [0,1].
    pub support: f64,
    /// Callers whose unexplained anomaly points here (for evidence).
    pub pointing_callers: Vec<usize>,
    /// Observed callers in total (for evidence).
    pub observed_callers: usize,
    /// Onset used for timing: own, or for an unobserved service its earliest pointing caller's.
    pub onset: Option<f64>,
}

fn timing(dep_onset: Option<f64>, own_onset: Option<f64>) -> f64 {
    match (dep_onset, own_onset) {
        (Some(d), Some(o)) if d > o + ONSET_TOLERANCE_S => {
            (-(d - o - ONSET_TOLERANCE_S) / ONSET_DECAY_S).exp()
        }
        _ => 1.0,
    }
}

/// How well an observed dependency `c` explains `s`'s anomaly, in [0,1].
fn explains(an: &[ServiceAnomaly], s: usize, c: usize) -> f64 {
    let (own, dep) = (&an[s], &an[c]);
    if !dep.observed || dep.score < MIN_ANOMALY {
        return 0.0;
    }
    let ratio = if own.score > 0.0 {
        (dep.score / own.score).min(1.0)
    } else {
        1.0
    };
    ratio * timing(dep.onset, own.onset)
}

/// Follow each service's best observed explanation until nothing explains it (cycle-safe).
fn terminals(best: &[(f64, Option<usize>)]) -> Vec<usize> {
    (0..best.len())
        .map(|s| {
            let mut cur = s;
            for _ in 0..64 {
                match best[cur] {
                    (e, Some(next)) if e >= EXPLAINED && next != s => cur = next,
                    _ => break,
                }
            }
            cur
        })
        .collect()
}

/// Run the whole graph analysis: explanations, support of unobserved services, the walk.
pub fn blame(g: &Graph, an: &[ServiceAnomaly]) -> Vec<Blame> {
    let n = g.len();
    let mut out: Vec<Blame> = (0..n)
        .map(|i| Blame {
            onset: an[i].onset,
            ..Blame::default()
        })
        .collect();
    // 1. Best observed explanation per observed service (its "other dependencies" verdict).
    let best_observed: Vec<(f64, Option<usize>)> = (0..n)
        .map(|s| {
            g.callees[s]
                .iter()
                .map(|&c| (explains(an, s, c), Some(c)))
                .filter(|x| x.0 > 0.0)
                .fold((0.0, None), |acc, x| if x.0 > acc.0 { x } else { acc })
        })
        .collect();
    // 2. Where each observed anomaly comes from, following best observed explanations: its
    //    "terminal" is the first service on that path no observed dependency explains.
    let terminal = terminals(&best_observed);
    // 3. Support of unobserved services from their callers. A caller counts fully when its
    //    anomaly is unexplained, or when the service that explains it also calls the unobserved
    //    one (consistent with the fault being there); otherwise only its unexplained share.
    //    Callers that share one terminal are one piece of evidence, not several.
    for (u, b) in out.iter_mut().enumerate() {
        if an[u].observed {
            continue;
        }
        let mut sum = 0.0;
        let mut observed = 0usize;
        let mut origins: Vec<usize> = Vec::new();
        for &p in &g.callers[u] {
            if !an[p].observed {
                continue;
            }
            observed += 1;
            if an[p].score < MIN_ANOMALY {
                continue;
            }
            let t = terminal[p];
            let consistent = t == p || g.callers[u].binary_search(&t).is_ok();
            let share = if consistent {
                an[p].score
            } else {
                an[p].score * (1.0 - best_observed[p].0)
            };
            // Whether callers are anomalous is what counts here, not how loudly.
            sum += (share / POINTING_FULL).min(1.0);
            if share >= POINTING {
                b.pointing_callers.push(p);
                if !origins.contains(&t) {
                    origins.push(t);
                }
            }
        }
        b.observed_callers = observed;
        if observed > 0 && !origins.is_empty() {
            let k = origins.len().min(30) as i32;
            b.support = (sum / observed as f64).min(1.0) * (1.0 - 0.5f64.powi(k));
            b.onset = b
                .pointing_callers
                .iter()
                .filter_map(|&p| an[p].onset)
                .min_by(f64::total_cmp);
        }
    }
    // 4. Transition weights: how strongly each service points at each dependency.
    let weights: Vec<Vec<(usize, f64)>> = (0..n)
        .map(|s| {
            g.callees[s]
                .iter()
                .filter_map(|&c| {
                    let w = if an[c].observed {
                        if an[s].observed {
                            explains(an, s, c)
                        } else {
                            // An unobserved service passes on to anomalous dependencies that
                            // started no later than the callers that blamed it.
                            let d = &an[c];
                            if d.score >= MIN_ANOMALY {
                                d.score * timing(d.onset, out[s].onset)
                            } else {
                                0.0
                            }
                        }
                    } else {
                        out[c].support * timing(out[c].onset, an[s].onset.or(out[s].onset))
                    };
                    (w > 0.0).then_some((c, w))
                })
                .collect()
        })
        .collect();
    for (s, b) in out.iter_mut().enumerate() {
        let best =
            weights[s]
                .iter()
                .copied()
                .fold(
                    (0.0, None),
                    |acc: (f64, Option<usize>), (c, w)| {
                        if w > acc.0 {
                            (w, Some(c))
                        } else {
                            acc
                        }
                    },
                );
        b.explained = best.0.min(1.0);
        b.explained_by = best.1;
    }
    // 5. The walk: blame starts where anomalies are and settles where nothing explains it.
    let mut pending = vec![0.0f64; n];
    let mut active: Vec<usize> = Vec::new();
    for s in 0..n {
        if an[s].observed && an[s].score >= MIN_ANOMALY {
            pending[s] = an[s].score;
            active.push(s);
        }
    }
    let mut in_next = vec![false; n];
    for _ in 0..MAX_ROUNDS {
        if active.is_empty() {
            break;
        }
        let mut next: Vec<usize> = Vec::new();
        for &s in &active {
            let m = std::mem::take(&mut pending[s]);
            if m <= 1e-12 {
                continue;
            }
            let pass = out[s].explained.min(MAX_PASS);
            out[s].mass += m * (1.0 - pass);
            let total: f64 = weights[s].iter().map(|x| x.1).sum();
            if pass <= 0.0 || total <= 0.0 {
                out[s].mass += m * pass;
                continue;
            }
            for &(c, w) in &weights[s] {
                pending[c] += m * pass * w / total;
                if !in_next[c] {
                    in_next[c] = true;
                    next.push(c);
                }
            }
        }
        for &c in &next {
            in_next[c] = false;
        }
        active = next;
    }
    for (s, m) in pending.into_iter().enumerate() {
        out[s].mass += m;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anomalous(score: f64, onset: f64) -> ServiceAnomaly {
        ServiceAnomaly {
            observed: true,
            score,
            onset: Some(onset),
            metrics: Vec::new(),
        }
    }

    fn healthy() -> ServiceAnomaly {
        ServiceAnomaly {
            observed: true,
            ..ServiceAnomaly::default()
        }
    }

    #[test]
    fn chain_blames_the_deepest_anomalous_service() {
        let g = Graph::build(["a", "b", "c", "d"], [("a", "b"), ("b", "c"), ("c", "d")]);
        let an = vec![
            anomalous(0.9, 30.0),
            anomalous(1.0, 20.0),
            anomalous(1.0, 10.0),
            healthy(),
        ];
        let b = blame(&g, &an);
        let best = (0..4)
            .max_by(|&x, &y| b[x].mass.total_cmp(&b[y].mass))
            .unwrap_or(0);
        assert_eq!(g.names[best], "c");
    }

    #[test]
    fn unobserved_common_callee_is_inferred() {
        let g = Graph::build(
            ["a", "b", "db", "cache"],
            [("a", "db"), ("b", "db"), ("a", "cache"), ("b", "cache")],
        );
        let an = vec![
            anomalous(1.0, 10.0),
            anomalous(0.8, 10.0),
            ServiceAnomaly::default(),
            healthy(),
        ];
        let b = blame(&g, &an);
        assert!(b[2].mass > b[0].mass && b[2].mass > b[1].mass, "{b:?}");
        assert_eq!(b[2].pointing_callers.len(), 2);
    }

    #[test]
    fn cycles_and_self_loops_terminate() {
        let g = Graph::build(
            ["a", "b"],
            [("a", "b"), ("b", "a"), ("a", "a"), ("b", "zz")],
        );
        let an = vec![
            anomalous(1.0, 10.0),
            anomalous(1.0, 10.0),
            ServiceAnomaly::default(),
        ];
        let b = blame(&g, &an);
        let total: f64 = b.iter().map(|x| x.mass).sum();
        assert!((total - 2.0).abs() < 1e-6, "mass is conserved: {total}");
    }
}
