use ccp_bench::synth::{self, LogMode};
use ccp_core::rca::rank_detailed;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let which = args.get(1).map(String::as_str).unwrap_or("hard");
    let suite = match which {
        "hardpub" => synth::hard_published_suite(10, 20261124, LogMode::None),
        "hardlogs" => synth::hard_suite(10, 20261124, LogMode::NameDependency),
        _ => synth::hard_suite(10, 20261124, LogMode::None),
    };
    let filter = args.get(2).cloned().unwrap_or_default();
    for inc in &suite {
        if !format!("{:?}", inc.herring).contains(&filter) {
            continue;
        }
        let (r, f) = rank_detailed(&inc.bundle, None);
        let pos = r.candidates.iter().position(|c| c.service == inc.root);
        if pos.is_some_and(|p| p < 3) {
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
        for c in r.candidates.iter().take(4) {
            println!(
                "   {:.3} {} | {}",
                c.confidence,
                c.service,
                c.evidence.join(" / ")
            );
        }
        if let Some(f) = f {
            println!("   hist {} gaps {:.2}", f.history_points, f.gap_fraction);
        }
    }
}
