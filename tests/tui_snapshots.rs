//! Golden snapshots of the whole cockpit at five sizes: the approval pause, the middle of the
//! canary, and every final state. Incident ids, commit ids, dates and clock times are masked, so
//! the files are stable; everything else on screen is compared cell for cell. A reviewer can read
//! `tests/snapshots/*.txt` to see the cockpit. A change must be accepted on purpose:
//! `CCP_UPDATE_SNAPSHOTS=1 cargo test --test tui_snapshots` rewrites them.

mod common;

use ccp_config::Config;
use ccp_core::events::{Command, Event, EventKind};
use ccp_tui::draw::DrawCache;
use ccp_tui::screen::draw;
use ccp_tui::theme::Theme;
use ccp_tui::ui_state::UiState;
use ccp_tui::view_model::ViewModel;
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use regex::Regex;
use std::path::PathBuf;

const SIZES: [(u16, u16); 5] = [(200, 60), (160, 48), (120, 34), (100, 30), (80, 24)];

fn run(cfg: Config, inject: Option<&str>, decide: fn(&Event) -> Option<Command>) -> Vec<Event> {
    common::cockpit::collect_run(cfg, inject, decide)
}

fn approve(_: &Event) -> Option<Command> {
    Some(Command::Approve {
        actor: "tester".into(),
        comment: "looks right".into(),
    })
}

fn reject(_: &Event) -> Option<Command> {
    Some(Command::Reject {
        actor: "tester".into(),
        comment: "not during the sale".into(),
    })
}

fn abort(_: &Event) -> Option<Command> {
    Some(Command::Abort {
        actor: "tester".into(),
        reason: "the database team is migrating".into(),
    })
}

/// The view model after the events up to and including the first that `stop` matches (all of
/// them when none does).
fn folded(events: &[Event], stop: impl Fn(&Event) -> bool) -> ViewModel {
    let mut vm = ViewModel::default();
    for ev in events {
        vm.apply(ev);
        if stop(ev) {
            break;
        }
    }
    vm
}

fn screen(vm: &ViewModel, w: u16, h: u16) -> String {
    let mut ui = UiState::new(vec![Theme::default_dark()], "instant", "tester");
    ccp_tui::input::after_event(&mut ui, vm);
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    let cache = DrawCache::new();
    t.draw(|f| draw(f, vm, &ui, &cache)).expect("draw");
    let b = t.backend().buffer();
    let mut s = String::new();
    for y in 0..h {
        let mut line = String::new();
        for x in 0..w {
            line.push_str(b[(x, y)].symbol());
        }
        s.push_str(line.trim_end());
        s.push('\n');
    }
    mask(&s)
}

/// Ids, commits, dates and clock times differ from run to run; nothing else may.
fn mask(s: &str) -> String {
    let rules = [
        (r"INC-\d{8}-[0-9A-F]{4}", "INC-########-####"),
        // A commit cut by a dialog's edge still varies: whatever hex is left before its author.
        (r"[0-9a-f]+ by ([A-Z])", "####### by $1"),
        (r"\b[0-9a-f]{7,40}\b", "#######"),
        (r"\d{4}-\d{2}-\d{2}", "####-##-##"),
        (r"\b\d{2}:\d{2}:\d{2}\b", "##:##:##"),
        // A clock cut at the right edge of a narrow screen.
        (r"(?m)\b\d{1,2}:\d{0,2}(:\d{0,2})?$", "##:##"),
        // A clock cut by a dialog's left edge: the hour's digits left of the border.
        (r"([│┃])\d{1,2}(:\d{0,2})*([║╔╚])", "$1#$3"),
    ];
    let mut out = s.to_string();
    for (re, with) in rules {
        out = Regex::new(re)
            .expect("regex")
            .replace_all(&out, with)
            .into_owned();
    }
    out
}

fn check(name: &str, vm: &ViewModel) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let update = std::env::var_os("CCP_UPDATE_SNAPSHOTS").is_some();
    let mut changed = Vec::new();
    for (w, h) in SIZES {
        let got = screen(vm, w, h);
        let path = dir.join(format!("{name}-{w}x{h}.txt"));
        if update {
            std::fs::create_dir_all(&dir).expect("snapshot dir");
            std::fs::write(&path, &got).expect("write snapshot");
            continue;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_default();
        if want != got {
            changed.push(format!(
                "{} differs (CCP_UPDATE_SNAPSHOTS=1 accepts it):\n{got}",
                path.display()
            ));
        }
    }
    assert!(changed.is_empty(), "{}", changed.join("\n"));
}

#[test]
fn resolved_run_paused_mid_canary_and_closed() {
    let events = run(Config::default(), None, approve);
    check(
        "approval",
        &folded(&events, |e| {
            matches!(e.kind, EventKind::AwaitingApproval { .. })
        }),
    );
    check(
        "canary",
        &folded(&events, |e| {
            matches!(&e.kind, EventKind::CanaryMetrics { percent: 50, .. })
        }),
    );
    check("resolved", &folded(&events, |_| false));
}

#[test]
fn rolled_back_run() {
    let events = run(Config::default(), Some("canary_regression"), approve);
    check("rolled_back", &folded(&events, |_| false));
}

#[test]
fn rejected_run() {
    check(
        "rejected",
        &folded(&run(Config::default(), None, reject), |_| false),
    );
}

#[test]
fn escalated_run() {
    check(
        "escalated",
        &folded(&run(Config::default(), None, abort), |_| false),
    );
}

#[test]
fn gates_failed_run() {
    let mut cfg = Config::default();
    cfg.gates.max_blast_radius_pct = 1.0;
    check("gates_failed", &folded(&run(cfg, None, approve), |_| false));
}
