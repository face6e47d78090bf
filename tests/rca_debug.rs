use ccp::core::rca::{rank, synth};
#[test]
fn debug() {
    let suite = synth::suite(10, 20_261_124);
    let mut shown = 0;
    for inc in &suite {
        let r = rank(&inc.bundle);
        if r.candidates.first().map(|c| c.service.as_str()) == Some(inc.root.as_str()) || inc.topology.name() != std::env::var("TOPO").unwrap_or_default() { continue; }
        shown += 1;
        if shown > 5 { break; }
        eprintln!("=== {} / {} root {}", inc.topology.name(), inc.herring.name(), inc.root);
        for e in &inc.bundle.edges { eprint!("{}->{} ", e.from, e.to); }
        eprintln!();
        eprintln!("metrics for: {:?}", inc.bundle.metrics.keys().collect::<Vec<_>>());
        for d in &inc.bundle.deploys { eprintln!("deploy {} at {}", d.service, d.at - inc.bundle.incident_start); }
        for c in r.candidates.iter().take(4) {
            eprintln!("  {} {:.3} {:?}", c.service, c.confidence, c.evidence);
        }
    }
}
