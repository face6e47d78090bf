//! Confident misses on the tuning seed (20261124), for reading; never the bench's seed.
use ccp_bench::synth::{self, Conditions, LogMode, Topology};
use ccp_core::rca::{calibrate, rank_detailed};
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let which = args.get(1).map(String::as_str).unwrap_or("hard");
    let suite = match which {
        "hardpub" => synth::suite_with(&Topology::PUBLISHED, 20, 20261124, &Conditions::HARD),
        "hardlogs" => synth::hard_suite(10, 20261124, LogMode::NameDependency),
        _ => synth::hard_suite(10, 20261124, LogMode::None),
    };
    for inc in &suite {
        let (r, f) = rank_detailed(&inc.bundle, Some(&calibrate::COEFFICIENTS));
        let pos = r.candidates.iter().position(|c| c.service == inc.root);
        let conf = r.candidates.first().map_or(0.0, |c| c.confidence);
        if pos == Some(0)
            || conf < 0.4
            || !format!("{:?}", inc.topology)
                .contains(args.get(2).map(String::as_str).unwrap_or(""))
        {
            continue;
        }
        let callers: Vec<&str> = inc
            .bundle
            .edges
            .iter()
            .filter(|e| e.to == inc.root)
            .map(|e| e.from.as_str())
            .collect();
        println!(
            "{:?}/{:?} root {} (metrics {}) callers {:?} pos {:?}",
            inc.topology,
            inc.herring,
            inc.root,
            inc.bundle.metrics.contains_key(&inc.root),
            callers,
            pos
        );
        for c in r.candidates.iter().take(3) {
            println!(
                "   {:.3} {} | {}",
                c.confidence,
                c.service,
                c.evidence.join(" / ")
            );
        }
        if let Some(f) = f {
            println!("   {:?}", f);
        }
    }
}
