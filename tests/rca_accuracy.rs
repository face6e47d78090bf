//! RCA accuracy on seeded synthetic incidents (`ccp_bench::synth`): five topologies × six
//! red herrings × 10 incidents. The generator's parameters are fixed and described in
//! BENCHMARKS.md; the thresholds are the targets.

use ccp_bench::synth;
use ccp_core::rca::rank;

/// Seed of the asserted suite (the bench reports the same suite).
const SEED: u64 = 20_261_124;

#[test]
fn top1_and_top3_accuracy_meet_the_targets() {
    let suite = synth::suite(10, SEED);
    let (mut top1, mut top3) = (0usize, 0usize);
    let mut misses = Vec::new();
    for inc in &suite {
        let r = rank(&inc.bundle);
        let pos = r.candidates.iter().position(|c| c.service == inc.root);
        if pos == Some(0) {
            top1 += 1;
        } else {
            misses.push(format!(
                "{} / {}: root {} at {:?}, top {:?}",
                inc.topology.name(),
                inc.herring.name(),
                inc.root,
                pos,
                r.candidates.first().map(|c| (&c.service, c.confidence))
            ));
        }
        if pos.is_some_and(|p| p < 3) {
            top3 += 1;
        }
        for c in &r.candidates {
            assert!((0.0..=1.0).contains(&c.confidence));
        }
    }
    let n = suite.len() as f64;
    let (a1, a3) = (top1 as f64 / n, top3 as f64 / n);
    eprintln!("top-1 {a1:.3}, top-3 {a3:.3} over {n} incidents");
    for m in &misses {
        eprintln!("  miss: {m}");
    }
    assert!(a1 >= 0.90, "top-1 {a1:.3}");
    assert!(a3 >= 0.98, "top-3 {a3:.3}");
}

/// The same incidents over published call graphs (Online Boutique, Sock Shop, DeathStarBench's
/// social network), whose datastores keep their real single callers. A silent store with one
/// caller cannot be told from that caller, so top-1 is lower there by construction; the floor
/// asserted is a regression guard, the measured values are in BENCHMARKS.md.
#[test]
fn published_topologies_keep_the_root_in_the_top_three() {
    let suite = synth::published_suite(10, SEED);
    let (mut top1, mut top3) = (0usize, 0usize);
    for inc in &suite {
        let r = rank(&inc.bundle);
        let pos = r.candidates.iter().position(|c| c.service == inc.root);
        top1 += usize::from(pos == Some(0));
        top3 += usize::from(pos.is_some_and(|p| p < 3));
    }
    let n = suite.len() as f64;
    let (a1, a3) = (top1 as f64 / n, top3 as f64 / n);
    eprintln!("published: top-1 {a1:.3}, top-3 {a3:.3} over {n} incidents");
    assert!(a1 >= 0.75, "top-1 {a1:.3}");
    assert!(a3 >= 0.92, "top-3 {a3:.3}");
}

/// Top-1, top-3 and (confidence ≥ 0.7 count, right among them) over a suite.
fn measure(suite: &[synth::Incident]) -> (f64, f64, usize, f64) {
    let (mut top1, mut top3, mut sure, mut sure_right) = (0usize, 0usize, 0usize, 0usize);
    for inc in suite {
        let r = rank(&inc.bundle);
        let pos = r.candidates.iter().position(|c| c.service == inc.root);
        top1 += usize::from(pos == Some(0));
        top3 += usize::from(pos.is_some_and(|p| p < 3));
        if r.candidates.first().is_some_and(|c| c.confidence >= 0.7) {
            sure += 1;
            sure_right += usize::from(pos == Some(0));
        }
    }
    let n = suite.len().max(1) as f64;
    (
        top1 as f64 / n,
        top3 as f64 / n,
        sure,
        sure_right as f64 / sure.max(1) as f64,
    )
}

/// Issue 25's harder incidents (12 points of history, weak late propagation, 90 % silent
/// stores, noisy services, gaps, caller deploys), metrics only, on the tuning seed: regression
/// floors below the measured values; the held-out figures are in BENCHMARKS.md. When the
/// ranker says 0.7 or more (the pipeline then goes ahead alone) it must mostly be right.
#[test]
fn hard_incidents_keep_their_floors_and_confident_answers_are_right() {
    let (a1, a3, sure, right) = measure(&synth::hard_suite(10, SEED, synth::LogMode::None));
    eprintln!("hard: top-1 {a1:.3}, top-3 {a3:.3}, {sure} at ≥ 0.7, right {right:.3}");
    assert!(a1 >= 0.82, "top-1 {a1:.3}");
    assert!(a3 >= 0.95, "top-3 {a3:.3}");
    assert!(sure >= 150, "{sure}");
    assert!(right >= 0.88, "right at ≥ 0.7: {right:.3}");
}

/// The same incidents where affected callers log the error of the dependency the fault came
/// through (host, connection string, client library, port): the target is top-1 ≥ 0.90.
#[test]
fn callers_logs_that_name_the_dependency_lift_top1_above_ninety_percent() {
    let (a1, a3, _, right) = measure(&synth::hard_suite(10, SEED, synth::LogMode::NameDependency));
    eprintln!("hard + logs: top-1 {a1:.3}, top-3 {a3:.3}, right at ≥ 0.7 {right:.3}");
    assert!(a1 >= 0.90, "top-1 {a1:.3}");
    assert!(a3 >= 0.97, "top-3 {a3:.3}");
}

/// Logs that name nothing useful (generic 500s, own-code traces, addresses outside the graph)
/// change no ranking: every incident's top candidate and its confidence stay as without logs.
#[test]
fn logs_that_point_nowhere_change_nothing() {
    let quiet = synth::hard_suite(5, SEED, synth::LogMode::None);
    let noisy = synth::hard_suite(5, SEED, synth::LogMode::Unhelpful);
    let mut with_logs = 0;
    for (q, n) in quiet.iter().zip(&noisy) {
        assert_eq!(q.root, n.root);
        with_logs += usize::from(!n.bundle.logs.is_empty());
        let (a, b) = (rank(&q.bundle), rank(&n.bundle));
        assert_eq!(
            a.candidates.first().map(|c| (&c.service, c.confidence)),
            b.candidates.first().map(|c| (&c.service, c.confidence)),
            "{}",
            n.root
        );
    }
    assert!(with_logs > quiet.len() / 2, "{with_logs}");
}

/// The calibration map in `rca/calibrate.rs` is what `ccp bench --rca-fit` fits on the tuning
/// seed, and nothing else: refitting gives the same coefficients (to the four decimals pasted).
#[test]
fn the_calibration_map_is_the_tuning_seeds_fit() {
    let (w, n) = ccp_bench::rca::fit(20, SEED);
    assert!(n > 5_000, "{n}");
    for (i, (got, baked)) in w
        .iter()
        .zip(ccp_core::rca::calibrate::COEFFICIENTS)
        .enumerate()
    {
        assert!(
            (got - baked).abs() < 1e-3,
            "coefficient {i}: fit {got:.4}, baked {baked:.4}"
        );
    }
}
