//! Accuracy on the tuning seed only (decisions are made here, never on the bench's seed).
use ccp_bench::synth::{self, Conditions, LogMode, Topology};
fn main() {
    let seed = 20261124;
    let pc = 20;
    let mut suites = vec![
        ("standard".to_string(), synth::suite(pc, seed)),
        ("published".to_string(), synth::published_suite(pc, seed)),
        (
            "hard".to_string(),
            synth::hard_suite(pc, seed, LogMode::None),
        ),
        (
            "hard+logs".to_string(),
            synth::hard_suite(pc, seed, LogMode::NameDependency),
        ),
    ];
    for t in Topology::PUBLISHED {
        suites.push((
            format!("hard {}", t.name()),
            synth::suite_with(&[t], pc, seed, &Conditions::HARD),
        ));
    }
    for (name, s) in &suites {
        let sc = ccp_bench::rca::score(s);
        println!(
            "{name:<22} top1 {:.3} top3 {:.3} ece {:.3} brier {:.3}",
            sc.overall.top1, sc.overall.top3, sc.ece, sc.brier
        );
        if std::env::args().any(|a| a == "-v") {
            for b in &sc.calibration {
                if b.n > 0 {
                    println!(
                        "    [{:.1},{:.1}) n {:>4} conf {:.3} acc {:.3}",
                        b.from, b.to, b.n, b.mean_confidence, b.accuracy
                    );
                }
            }
        }
    }
}
