//! `ccp bench --rca`: root-cause accuracy on seeded synthetic incidents, per topology and per red
//! herring, for the ranking and for the previous ranking (the baseline, same incidents); the
//! calibration of the top confidence; and the time `rank` takes on 10 000 services / 50 000
//! edges next to a plain traversal of the same bundle measured in the same run (ratios travel
//! between machines, milliseconds do not).

use super::rca_legacy;
use crate::synth;
use ccp_core::rca::{calibrate, rank, rank_detailed, RcaBundle};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Instant;

/// Accuracy of one group of incidents.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Accuracy {
    /// Incidents.
    pub n: usize,
    /// Root ranked first, fraction.
    pub top1: f64,
    /// Root in the first three, fraction.
    pub top3: f64,
    /// Same for the previous ranking.
    pub legacy_top1: f64,
    /// Same for the previous ranking.
    pub legacy_top3: f64,
}

/// One calibration bin: how often the top candidate is right when its confidence is in range.
#[derive(Debug, Clone, Serialize)]
pub struct CalibrationBin {
    /// Lower bound of the top confidence.
    pub from: f64,
    /// Upper bound (exclusive, except 1.0).
    pub to: f64,
    /// Incidents in the bin.
    pub n: usize,
    /// Mean top confidence.
    pub mean_confidence: f64,
    /// Fraction where the top candidate is the root.
    pub accuracy: f64,
}

/// Timing of `rank` on a large graph.
#[derive(Debug, Clone, Serialize)]
pub struct Timing {
    /// Services in the graph.
    pub services: usize,
    /// Edges in the graph.
    pub edges: usize,
    /// Median ms of `rank`.
    pub rank_ms_median: f64,
    /// Median ms of the baseline: index names, BFS over the call graph, one pass over every
    /// metric point (the least any ranking of this bundle must do).
    pub traversal_ms_median: f64,
    /// rank / traversal.
    pub ratio: f64,
    /// ms of one run of the previous ranking on the same bundle.
    pub legacy_ms: f64,
    /// Whether the ranking found the injected root there.
    pub root_found_first: bool,
}

/// The whole RCA benchmark.
#[derive(Debug, Clone, Serialize)]
pub struct RcaBench {
    /// Seed of the suite.
    pub seed: u64,
    /// The generated topologies (flattened: `overall`, `by_topology`, … at the top level).
    #[serde(flatten)]
    pub synthetic: SuiteScore,
    /// The same incidents on published topologies (Online Boutique, Sock Shop, DeathStarBench
    /// social network), whose datastores are not made shared.
    pub published: SuiteScore,
    /// Issue 25's harder conditions on the generated topologies, metrics only.
    pub hard: SuiteScore,
    /// The same incidents with error logs whose callers name the failing dependency.
    pub hard_logs: SuiteScore,
    /// The same incidents with error logs that name nothing useful.
    pub hard_unhelpful_logs: SuiteScore,
    /// Hard conditions on the published topologies and hotel reservation, metrics only.
    pub hard_published: SuiteScore,
    /// The same with callers' logs naming the dependency.
    pub hard_published_logs: SuiteScore,
    /// Scale timing.
    pub timing: Timing,
}

#[derive(Default)]
struct Tally {
    n: usize,
    t1: usize,
    t3: usize,
    l1: usize,
    l3: usize,
}

impl Tally {
    fn add(&mut self, pos: Option<usize>, legacy: Option<usize>) {
        self.n += 1;
        self.t1 += usize::from(pos == Some(0));
        self.t3 += usize::from(pos.is_some_and(|p| p < 3));
        self.l1 += usize::from(legacy == Some(0));
        self.l3 += usize::from(legacy.is_some_and(|p| p < 3));
    }

    fn accuracy(&self) -> Accuracy {
        let n = self.n.max(1) as f64;
        Accuracy {
            n: self.n,
            top1: self.t1 as f64 / n,
            top3: self.t3 as f64 / n,
            legacy_top1: self.l1 as f64 / n,
            legacy_top3: self.l3 as f64 / n,
        }
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// The baseline: what any ranking must at least do with the bundle.
fn traversal(b: &RcaBundle) -> usize {
    let mut ids: HashMap<&str, usize> = HashMap::new();
    for s in &b.services {
        let n = ids.len();
        ids.entry(s.name.as_str()).or_insert(n);
    }
    let mut adj: Vec<Vec<usize>> = vec![Vec::new(); ids.len()];
    for e in &b.edges {
        if let (Some(&a), Some(&c)) = (ids.get(e.from.as_str()), ids.get(e.to.as_str())) {
            adj[c].push(a);
        }
    }
    let mut seen = vec![false; adj.len()];
    let mut reached = 0usize;
    for s in 0..adj.len() {
        if seen[s] {
            continue;
        }
        seen[s] = true;
        let mut q = VecDeque::from([s]);
        while let Some(x) = q.pop_front() {
            reached += 1;
            for &y in &adj[x] {
                if !seen[y] {
                    seen[y] = true;
                    q.push_back(y);
                }
            }
        }
    }
    let mut above = 0usize;
    for m in b.metrics.values() {
        for series in m.values() {
            let mean = series.iter().map(|p| p.1).sum::<f64>() / series.len().max(1) as f64;
            above += series.iter().filter(|p| p.1 > mean).count();
        }
    }
    reached + above
}

/// Accuracy and calibration over one suite of incidents.
#[derive(Debug, Clone, Serialize)]
pub struct SuiteScore {
    /// Over all incidents.
    pub overall: Accuracy,
    /// Per topology.
    pub by_topology: BTreeMap<String, Accuracy>,
    /// Per red herring.
    pub by_herring: BTreeMap<String, Accuracy>,
    /// Calibration of the top confidence.
    pub calibration: Vec<CalibrationBin>,
    /// Brier score of the top confidence (lower is better; 0.25 is a coin).
    pub brier: f64,
    /// Expected calibration error over ten equal-width bins of the top confidence.
    pub ece: f64,
    /// Top-1 among incidents whose top confidence reached `approval.min_rca_confidence`
    /// (0.7): how often the pipeline would go ahead on the wrong service.
    pub confident_top1: f64,
    /// Share of incidents whose top confidence reached 0.7.
    pub confident_share: f64,
}

/// Rank every incident of a suite with both rankings and score them.
pub fn score(suite: &[synth::Incident]) -> SuiteScore {
    let mut all = Tally::default();
    let mut by_t: BTreeMap<String, Tally> = BTreeMap::new();
    let mut by_h: BTreeMap<String, Tally> = BTreeMap::new();
    let edges = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];
    let (mut confident, mut confident_hits) = (0usize, 0usize);
    let mut bins: Vec<(usize, f64, usize)> = vec![(0, 0.0, 0); edges.len() - 1];
    let mut brier = 0.0;
    for inc in suite {
        let r = rank(&inc.bundle);
        let pos = r.candidates.iter().position(|c| c.service == inc.root);
        let legacy = rca_legacy::rank(&inc.bundle)
            .iter()
            .position(|c| c.service == inc.root);
        all.add(pos, legacy);
        by_t.entry(format!("{:?}", inc.topology))
            .or_default()
            .add(pos, legacy);
        by_h.entry(format!("{:?}", inc.herring))
            .or_default()
            .add(pos, legacy);
        let conf = r.candidates.first().map_or(0.0, |c| c.confidence);
        let hit = f64::from(u8::from(pos == Some(0)));
        brier += (conf - hit).powi(2);
        if conf >= 0.7 {
            confident += 1;
            confident_hits += usize::from(pos == Some(0));
        }
        let i = edges
            .windows(2)
            .position(|w| conf >= w[0] && (conf < w[1] || w[1] >= 1.0))
            .unwrap_or(0);
        bins[i].0 += 1;
        bins[i].1 += conf;
        bins[i].2 += usize::from(pos == Some(0));
    }
    let calibration = bins
        .iter()
        .enumerate()
        .map(|(i, &(n, sum, hits))| CalibrationBin {
            from: edges[i],
            to: edges[i + 1],
            n,
            mean_confidence: sum / n.max(1) as f64,
            accuracy: hits as f64 / n.max(1) as f64,
        })
        .collect::<Vec<CalibrationBin>>();
    let total = suite.len().max(1) as f64;
    let ece = calibration
        .iter()
        .map(|b| b.n as f64 / total * (b.accuracy - b.mean_confidence).abs())
        .sum();
    SuiteScore {
        ece,
        confident_top1: confident_hits as f64 / confident.max(1) as f64,
        confident_share: confident as f64 / total,
        overall: all.accuracy(),
        by_topology: by_t.into_iter().map(|(k, v)| (k, v.accuracy())).collect(),
        by_herring: by_h.into_iter().map(|(k, v)| (k, v.accuracy())).collect(),
        calibration,
        brier: brier / suite.len().max(1) as f64,
    }
}

/// Run the benchmark: `per_cell` incidents per topology × red herring (generated and published
/// topologies), then the scale timing.
pub fn run(per_cell: usize, seed: u64, timing_runs: usize) -> RcaBench {
    use synth::LogMode;
    let synthetic = score(&synth::suite(per_cell, seed));
    let published = score(&synth::published_suite(per_cell, seed));
    let hard = score(&synth::hard_suite(per_cell, seed, LogMode::None));
    let hard_logs = score(&synth::hard_suite(per_cell, seed, LogMode::NameDependency));
    let hard_unhelpful_logs = score(&synth::hard_suite(per_cell, seed, LogMode::Unhelpful));
    let hard_published = score(&synth::hard_published_suite(per_cell, seed, LogMode::None));
    let hard_published_logs = score(&synth::hard_published_suite(
        per_cell,
        seed,
        LogMode::NameDependency,
    ));
    let big = synth::large(10_000, 50_000, seed);
    let mut rank_ms = Vec::new();
    let mut base_ms = Vec::new();
    let mut found = false;
    let mut sink = 0usize;
    for _ in 0..timing_runs.max(1) {
        let t = Instant::now();
        sink = sink.wrapping_add(traversal(&big.bundle));
        base_ms.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        let r = rank(&big.bundle);
        rank_ms.push(t.elapsed().as_secs_f64() * 1e3);
        found = r.candidates.first().is_some_and(|c| c.service == big.root);
    }
    let t = Instant::now();
    let legacy = rca_legacy::rank(&big.bundle);
    let legacy_ms = t.elapsed().as_secs_f64() * 1e3;
    std::hint::black_box((sink, legacy));
    let (r, b) = (median(rank_ms), median(base_ms));
    RcaBench {
        seed,
        synthetic,
        published,
        hard,
        hard_logs,
        hard_unhelpful_logs,
        hard_published,
        hard_published_logs,
        timing: Timing {
            services: big.bundle.services.len(),
            edges: big.bundle.edges.len(),
            rank_ms_median: r,
            traversal_ms_median: b,
            ratio: if b > 0.0 { r / b } else { 0.0 },
            legacy_ms,
            root_found_first: found,
        },
    }
}

/// Human-readable report.
pub fn render(b: &RcaBench) -> String {
    let mut s = String::new();
    let row = |name: &str, a: &Accuracy| {
        format!(
            "  {name:<24} {:>5}   {:>6.3}  {:>6.3}     {:>6.3}  {:>6.3}\n",
            a.n, a.top1, a.top3, a.legacy_top1, a.legacy_top3
        )
    };
    s.push_str(&format!(
        "RCA accuracy on synthetic incidents (seed {}), new ranking vs the previous one\n",
        b.seed
    ));
    s.push_str("  group                        n    top-1   top-3   old top-1  old top-3\n");
    let suite = |s: &mut String, all: &str, score: &SuiteScore| {
        s.push_str(&row(all, &score.overall));
        for (k, a) in &score.by_topology {
            s.push_str(&row(&format!("topology {k}"), a));
        }
        for (k, a) in &score.by_herring {
            s.push_str(&row(&format!("herring {k}"), a));
        }
        s.push_str("calibration of the top confidence:\n");
        for c in &score.calibration {
            s.push_str(&format!(
                "  [{:.1}, {:.1})  n {:>5}  mean confidence {:.3}  accuracy {:.3}\n",
                c.from, c.to, c.n, c.mean_confidence, c.accuracy
            ));
        }
        s.push_str(&format!(
            "  Brier score {:.3}   ECE {:.3}   confidence ≥ 0.7 on {:.1}% of incidents, right {:.1}% of those\n",
            score.brier,
            score.ece,
            score.confident_share * 100.0,
            score.confident_top1 * 100.0
        ));
    };
    suite(&mut s, "all", &b.synthetic);
    s.push_str("published topologies (datastores as wired, not shared):\n");
    suite(&mut s, "all published", &b.published);
    for (title, name, score) in [
        (
            "hard conditions (12 points of history, weak late propagation, 90% silent stores, 2 noisy services, 10% gaps, caller deploys), metrics only:",
            "all hard",
            &b.hard,
        ),
        (
            "hard conditions, callers' error logs name the failing dependency:",
            "all hard + logs",
            &b.hard_logs,
        ),
        (
            "hard conditions, error logs that name nothing useful:",
            "all hard + noise logs",
            &b.hard_unhelpful_logs,
        ),
        (
            "hard conditions on published topologies (hotel reservation too), metrics only:",
            "all hard published",
            &b.hard_published,
        ),
        (
            "hard conditions on published topologies, callers' logs name the dependency:",
            "all hard published + logs",
            &b.hard_published_logs,
        ),
    ] {
        s.push_str(title);
        s.push('\n');
        suite(&mut s, name, score);
    }
    let t = &b.timing;
    s.push_str(&format!(
        "scale: {} services / {} edges\n  rank              {:>9.1} ms (median)\n  baseline traversal {:>8.1} ms (index + BFS + one pass over the metrics)\n  rank / baseline   {:>9.2}\n  previous ranking  {:>9.1} ms (one run)\n  injected root ranked first: {}\n",
        t.services, t.edges, t.rank_ms_median, t.traversal_ms_median, t.ratio, t.legacy_ms, t.root_found_first
    ));
    s
}

/// The calibration map's training set: the *tuning* seed's incidents under every condition the
/// map must hold in (standard and hard, metric-only and with both kinds of logs) on the
/// generated topologies and three published ones. Hotel reservation is left out on purpose: it
/// is the held-out condition.
pub fn tuning_set(per_cell: usize, seed: u64) -> Vec<synth::Incident> {
    use synth::{Conditions, LogMode, Topology};
    let mut all = synth::suite(per_cell, seed);
    all.extend(synth::published_suite(per_cell, seed));
    for logs in [LogMode::None, LogMode::NameDependency, LogMode::Unhelpful] {
        all.extend(synth::hard_suite(per_cell, seed, logs));
        all.extend(synth::suite_with(
            &Topology::PUBLISHED,
            per_cell,
            seed,
            &Conditions::HARD.with_logs(logs),
        ));
    }
    // Each hardship alone too, so the map learns what each one costs rather than what they
    // cost together (a short history without gaps, gaps without a short history).
    let variants = [
        Conditions {
            history_points: Some(6),
            gap_rate: 0.0,
            ..Conditions::HARD
        },
        Conditions {
            history_points: Some(24),
            gap_rate: 0.2,
            ..Conditions::HARD
        },
        Conditions {
            gap_rate: 0.1,
            ..Conditions::STANDARD
        },
        Conditions {
            history_points: Some(12),
            ..Conditions::STANDARD
        },
    ];
    for (i, c) in variants.iter().enumerate() {
        let s = seed.wrapping_add(1 + i as u64);
        all.extend(synth::suite_with(&Topology::ALL, per_cell / 2, s, c));
        all.extend(synth::suite_with(&Topology::PUBLISHED, per_cell / 2, s, c));
    }
    all
}

/// Fit the calibration map: logistic regression of "top candidate is the root" on the raw
/// ranking's features, by Newton's method with a ridge toward the identity map (so a feature that
/// never varies keeps its identity weight). Returns the coefficients and the training incidents' count.
pub fn fit(per_cell: usize, seed: u64) -> ([f64; calibrate::FEATURES], usize) {
    const K: usize = calibrate::FEATURES;
    let rows: Vec<([f64; K], f64)> = tuning_set(per_cell, seed)
        .iter()
        .filter_map(|inc| {
            let (r, f) = rank_detailed(&inc.bundle, None);
            let hit = r.candidates.first().is_some_and(|c| c.service == inc.root);
            f.map(|f| (f.vector(), f64::from(u8::from(hit))))
        })
        .collect();
    let mut w = calibrate::IDENTITY;
    for _ in 0..50 {
        let mut grad = [0.0f64; K];
        let mut hess = [[0.0f64; K]; K];
        for (x, y) in &rows {
            let z: f64 = x.iter().zip(&w).map(|(a, b)| a * b).sum();
            let p = 1.0 / (1.0 + (-z).exp());
            for i in 0..K {
                grad[i] += (p - y) * x[i];
                for j in 0..K {
                    hess[i][j] += p * (1.0 - p) * x[i] * x[j];
                }
            }
        }
        for i in 0..K {
            grad[i] += RIDGE * (w[i] - calibrate::IDENTITY[i]);
            hess[i][i] += RIDGE;
        }
        let Some(step) = solve(hess, grad) else {
            break;
        };
        let mut moved = 0.0f64;
        for i in 0..K {
            w[i] -= step[i];
            moved = moved.max(step[i].abs());
        }
        if moved < 1e-9 {
            break;
        }
    }
    (w, rows.len())
}

/// Ridge toward the identity map: keeps a coefficient moderate where the tuning data has few
/// cases (an extreme weight there would not hold on other data).
const RIDGE: f64 = 2.0;

/// Gaussian elimination with partial pivoting; `None` when singular.
fn solve<const K: usize>(mut a: [[f64; K]; K], mut b: [f64; K]) -> Option<[f64; K]> {
    for c in 0..K {
        let p = (c..K).max_by(|&x, &y| a[x][c].abs().total_cmp(&a[y][c].abs()))?;
        if a[p][c].abs() < 1e-12 {
            return None;
        }
        a.swap(c, p);
        b.swap(c, p);
        let pivot = a[c];
        for r in c + 1..K {
            let f = a[r][c] / pivot[c];
            for (x, p) in a[r][c..].iter_mut().zip(&pivot[c..]) {
                *x -= f * p;
            }
            b[r] -= f * b[c];
        }
    }
    let mut x = [0.0f64; K];
    for r in (0..K).rev() {
        let s: f64 = (r + 1..K).map(|k| a[r][k] * x[k]).sum();
        x[r] = (b[r] - s) / a[r][r];
    }
    Some(x)
}
