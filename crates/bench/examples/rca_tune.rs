//! Accuracy on the tuning seed only (decisions are made here, never on the bench's seed).
use ccp_bench::synth::{self, LogMode};
fn main() {
    let seed = 20261124;
    let pc = 20;
    let suites = [
        ("standard", synth::suite(pc, seed)),
        ("published", synth::published_suite(pc, seed)),
        ("hard", synth::hard_suite(pc, seed, LogMode::None)),
        (
            "hard+logs",
            synth::hard_suite(pc, seed, LogMode::NameDependency),
        ),
        (
            "hardpub",
            synth::suite_with(
                &synth::Topology::PUBLISHED,
                pc,
                seed,
                &synth::Conditions::HARD,
            ),
        ),
    ];
    for (name, s) in &suites {
        let sc = ccp_bench::rca::score(s);
        println!(
            "{name:<10} top1 {:.3} top3 {:.3} ece {:.3} brier {:.3}",
            sc.overall.top1, sc.overall.top3, sc.ece, sc.brier
        );
    }
}
