//! A run read back from its audit log is the run that was watched: the same events, so
//! `ccp audit replay` draws what the live cockpit drew.

use ccp_adapters::embedded::paced_clock::Pace;
use ccp_app::{self as app, RunOptions};
use ccp_config::Config;
use ccp_core::events::Command;
use ccp_tui::view_model::ViewModel;

#[test]
fn replayed_events_equal_the_live_ones() {
    let state = tempfile::tempdir().expect("temp dir");
    let mut live = Vec::new();
    for seed in [3, 4] {
        let opts = RunOptions {
            seed: Some(seed),
            pace: Pace::Instant,
            inject_failure: None,
            state_dir: state.path().to_path_buf(),
            config: Config::default(),
        };
        let run = app::collect_events(&opts, |_| {
            Some(Command::Reject {
                actor: "replayer".into(),
                comment: format!("seed {seed}"),
            })
        })
        .expect("demo runs");
        live.push(run);
    }
    let records = ccp_audit::read_records(&state.path().join("audit.jsonl")).expect("audit log");
    let ids = ccp_audit::replay::incidents(&records);
    assert_eq!(ids.len(), 2, "{ids:?}");

    // Default: the last incident. Its records follow the first run's, so only seq differs.
    let last = ccp_audit::replay::replay(&records, None).expect("an incident");
    assert_eq!(last.incident, ids[1]);
    assert_eq!(last.skipped, 0);
    let strip = |evs: &[ccp_core::events::Event]| {
        evs.iter()
            .map(|e| (e.ts.clone(), e.kind.clone(), e.incident.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&last.events), strip(&live[1]));

    // The first incident by id, with identical seq numbers too (it starts the file).
    let first = ccp_audit::replay::replay(&records, Some(&ids[0])).expect("first");
    assert_eq!(first.events, live[0]);

    // Folding the replay gives the same picture as folding the live run.
    let fold = |evs: &[ccp_core::events::Event]| {
        let mut vm = ViewModel::default();
        evs.iter().for_each(|e| vm.apply(e));
        vm
    };
    assert_eq!(fold(&first.events), fold(&live[0]));
    assert!(ccp_audit::replay::replay(&records, Some("INC-nope")).is_none());
}
