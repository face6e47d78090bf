//! The cockpit rendered into `TestBackend` at 80×24 and 160×48 from the events of a real demo
//! run: every pane, the approval dialog, help, details, too-small and NO_COLOR. Rendering is a
//! function of (view model, UI state), so these are exact about what is on screen.

mod common;

use ccp_config::Config;
use ccp_core::events::{Command, Event, EventKind};
use ccp_tui::draw::DrawCache;
use ccp_tui::input::{on_key, Effect};
use ccp_tui::screen::draw;
use ccp_tui::theme::Theme;
use ccp_tui::ui_state::{Overlay, Pane, UiState};
use ccp_tui::view_model::ViewModel;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::style::Color;
use ratatui::Terminal;
use std::sync::OnceLock;

/// Events of one seeded demo run, auto-approved, collected once for all tests.
fn run_events() -> &'static Vec<Event> {
    static EVENTS: OnceLock<Vec<Event>> = OnceLock::new();
    EVENTS.get_or_init(|| collect_run(None))
}

/// Events of a run whose canary regresses and is rolled back.
fn regression_events() -> &'static Vec<Event> {
    static EVENTS: OnceLock<Vec<Event>> = OnceLock::new();
    EVENTS.get_or_init(|| collect_run(Some("canary_regression")))
}

fn collect_run(inject: Option<&str>) -> Vec<Event> {
    common::cockpit::collect_run(Config::default(), inject, |_| {
        Some(Command::Approve {
            actor: "tester".into(),
            comment: "looks right".into(),
        })
    })
}

/// View model folded up to (and including) the first event matching `stop`.
fn vm_until(stop: impl Fn(&Event) -> bool) -> ViewModel {
    let mut vm = ViewModel::default();
    for ev in run_events() {
        vm.apply(ev);
        if stop(ev) {
            break;
        }
    }
    vm
}

fn vm_paused() -> ViewModel {
    vm_until(|e| matches!(e.kind, EventKind::AwaitingApproval { .. }))
}

fn vm_done() -> ViewModel {
    vm_until(|_| false)
}

fn ui() -> UiState {
    let mut ui = UiState::new(vec![Theme::default_dark()], "fast", "tester");
    ui.follow = false;
    ui
}

fn cache() -> &'static DrawCache {
    // DrawCache holds a RefCell; one per test thread is enough.
    thread_local! {
        static C: &'static DrawCache = Box::leak(Box::new(DrawCache::new()));
    }
    C.with(|c| *c)
}

fn render_buf(vm: &ViewModel, ui: &UiState, w: u16, h: u16) -> ratatui::buffer::Buffer {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    t.draw(|f| draw(f, vm, ui, cache())).expect("draw");
    t.backend().buffer().clone()
}

fn render(vm: &ViewModel, ui: &UiState, w: u16, h: u16) -> String {
    let b = render_buf(vm, ui, w, h);
    let mut s = String::new();
    for y in 0..h {
        for x in 0..w {
            s.push_str(b[(x, y)].symbol());
        }
        s.push('\n');
    }
    s
}

fn key(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

const SIZES: [(u16, u16); 2] = [(80, 24), (160, 48)];

/// What each pane must show after a resolved run, at either size.
fn pane_expectations(p: Pane) -> &'static [&'static str] {
    match p {
        Pane::Incidents => &["Incidents", "INC-", "CRIT", "payment-service"],
        Pane::Graph => &["Dependency Graph", "payment", "◆", "▲"],
        Pane::Rca => &["RCA", "1 payment-service", "payment_processor.py:45"],
        Pane::Diff => &[
            "Diff",
            "null_check",
            "+    if user.email is not None:",
            "45",
        ],
        Pane::Gates => &["Gates", "passed", "✓ syntax", "✓ tests"],
        Pane::Canary => &["Canary", "traffic", "VERIFICATION", "PASS", "errors"],
        Pane::Timeline => &["Timeline", "finished", "resolved"],
    }
}

#[test]
fn every_pane_at_both_sizes() {
    let vm = vm_done();
    for (w, h) in SIZES {
        for p in Pane::ALL {
            let mut ui = ui();
            ui.focus = p;
            let screen = render(&vm, &ui, w, h);
            for want in pane_expectations(p) {
                assert!(
                    screen.contains(want),
                    "{w}×{h}, {} focused: missing {want:?}\n{screen}",
                    p.title()
                );
            }
        }
    }
}

#[test]
fn wide_layout_shows_all_seven_titles_at_once() {
    let screen = render(&vm_done(), &ui(), 160, 48);
    for p in Pane::ALL {
        assert!(
            screen.contains(p.title()),
            "missing {}\n{screen}",
            p.title()
        );
    }
    assert!(screen.contains("CLOSED · resolved"), "{screen}");
}

#[test]
fn compact_layout_has_a_tab_strip_and_the_focused_pane() {
    let mut ui = ui();
    ui.focus = Pane::Gates;
    let screen = render(&vm_done(), &ui, 80, 24);
    let first = screen.lines().next().unwrap_or_default();
    for p in Pane::ALL {
        assert!(
            first.contains(p.title()),
            "tab strip lacks {}: {first}",
            p.title()
        );
    }
    assert!(screen.contains("Gates"), "{screen}");
}

#[test]
fn approval_dialog_explains_why_at_both_sizes() {
    let vm = vm_paused();
    assert!(vm.run().approval.is_some());
    for (w, h) in SIZES {
        let screen = render(&vm, &ui(), w, h);
        for want in [
            "Approval required",
            "PAUSED_FOR_HUMAN_REVIEW",
            "production policy",
            "strategy",
            "gates passed",
            "[a] approve",
            "[r] reject",
            "[c] comment",
        ] {
            assert!(screen.contains(want), "{w}×{h}: missing {want:?}\n{screen}");
        }
    }
}

#[test]
fn esc_hides_the_dialog_and_the_status_bar_keeps_asking() {
    let vm = vm_paused();
    let mut ui = ui();
    on_key(&mut ui, &vm, key(KeyCode::Esc));
    let screen = render(&vm, &ui, 160, 48);
    assert!(!screen.contains("Approval required"), "{screen}");
    assert!(screen.contains("APPROVAL PENDING"), "{screen}");
    // Enter still opens details while the dialog is hidden; `c` brings the dialog back.
    on_key(&mut ui, &vm, key(KeyCode::Enter));
    assert!(matches!(ui.overlay, Some(Overlay::Details(_))));
    on_key(&mut ui, &vm, key(KeyCode::Esc));
    on_key(&mut ui, &vm, key(KeyCode::Char('c')));
    on_key(&mut ui, &vm, key(KeyCode::Esc));
    assert!(render(&vm, &ui, 160, 48).contains("Approval required"));
}

#[test]
fn approve_with_a_comment_sends_actor_and_comment() {
    let vm = vm_paused();
    let mut ui = ui();
    assert!(on_key(&mut ui, &vm, key(KeyCode::Char('c'))).is_empty());
    for ch in "checked the diff".chars() {
        on_key(&mut ui, &vm, key(KeyCode::Char(ch)));
    }
    // While typing, `a` is text, not approval.
    assert!(on_key(&mut ui, &vm, key(KeyCode::Char('a'))).is_empty());
    assert!(render(&vm, &ui, 160, 48).contains("checked the diffa"));
    on_key(&mut ui, &vm, key(KeyCode::Backspace));
    on_key(&mut ui, &vm, key(KeyCode::Esc));
    let eff = on_key(&mut ui, &vm, key(KeyCode::Char('a')));
    assert_eq!(
        eff,
        vec![Effect::Send(Command::Approve {
            actor: "tester".into(),
            comment: "checked the diff".into()
        })]
    );
}

#[test]
fn reject_without_pending_approval_sends_nothing() {
    let vm = vm_done();
    let mut ui = ui();
    assert!(on_key(&mut ui, &vm, key(KeyCode::Char('r'))).is_empty());
    assert!(render(&vm, &ui, 160, 48).contains("nothing is waiting for approval"));
}

#[test]
fn help_overlay_lists_the_keymap_at_both_sizes() {
    let vm = vm_done();
    let mut ui = ui();
    on_key(&mut ui, &vm, key(KeyCode::Char('?')));
    assert_eq!(ui.overlay, Some(Overlay::Help));
    for (w, h) in SIZES {
        let screen = render(&vm, &ui, w, h);
        for want in [
            "Help",
            "approve",
            "reject",
            "Tab / Shift-Tab",
            "cycle theme",
            "quit",
        ] {
            assert!(screen.contains(want), "{w}×{h}: missing {want:?}\n{screen}");
        }
    }
}

#[test]
fn details_show_justification_and_evidence() {
    let vm = vm_done();
    let mut ui = ui();
    ui.focus = Pane::Rca;
    on_key(&mut ui, &vm, key(KeyCode::Enter));
    let screen = render(&vm, &ui, 160, 48);
    assert!(screen.contains("RCA — payment-service"), "{screen}");
    assert!(screen.contains("evidence"), "{screen}");
    assert!(screen.contains("reasoning"), "{screen}");

    let mut ui = self::ui();
    ui.focus = Pane::Canary;
    on_key(&mut ui, &vm, key(KeyCode::Enter));
    let screen = render(&vm, &ui, 160, 48);
    assert!(screen.contains("CI95="), "{screen}");
    assert!(screen.contains("final — PASS"), "{screen}");
}

#[test]
fn too_small_terminal_says_so() {
    let screen = render(&vm_done(), &ui(), 40, 10);
    assert!(screen.contains("terminal too small"), "{screen}");
    assert!(screen.contains("40×10"), "{screen}");
}

#[test]
fn no_color_theme_uses_no_colours() {
    let ui = UiState::new(vec![Theme::monochrome()], "fast", "tester");
    let b = render_buf(&vm_done(), &ui, 160, 48);
    for cell in b.content() {
        assert!(
            matches!(cell.fg, Color::Reset) && matches!(cell.bg, Color::Reset),
            "coloured cell {:?} {:?} {:?}",
            cell.symbol(),
            cell.fg,
            cell.bg
        );
    }
}

#[test]
fn theme_cycle_changes_colours_not_content() {
    let vm = vm_done();
    let mut ui = UiState::new(
        vec![
            Theme::builtin("dark").expect("dark"),
            Theme::builtin("light").expect("light"),
        ],
        "fast",
        "tester",
    );
    let a = render_buf(&vm, &ui, 160, 48);
    on_key(&mut ui, &vm, key(KeyCode::Char('t')));
    ui.flash = None;
    let b = render_buf(&vm, &ui, 160, 48);
    let text = |buf: &ratatui::buffer::Buffer| {
        buf.content()
            .iter()
            .map(|c| c.symbol().to_string())
            .collect::<String>()
    };
    assert_eq!(text(&a), text(&b));
    assert_ne!(a, b);
}

#[test]
fn rendering_is_a_function_of_state() {
    // The same events, carried through JSON as the audit log and the HTTP stream carry them,
    // folded into a separate view model and drawn with a separate cache a second later: the
    // screen may depend on nothing else (no clock, no hidden state from an earlier frame).
    let live = vm_done();
    let ui = ui();
    let first = render_buf(&live, &ui, 160, 48);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let mut replayed = ViewModel::default();
    for ev in run_events() {
        let json = serde_json::to_string(ev).expect("event serializes");
        replayed.apply(&serde_json::from_str::<Event>(&json).expect("event parses"));
    }
    let mut t = Terminal::new(TestBackend::new(160, 48)).expect("terminal");
    let fresh = DrawCache::new();
    t.draw(|f| draw(f, &replayed, &ui, &fresh)).expect("draw");
    assert_eq!(&first, t.backend().buffer());
    // And the state does reach the screen: one event less is a different frame.
    let events = run_events();
    let mut short = ViewModel::default();
    for ev in &events[..events.len() - 1] {
        short.apply(ev);
    }
    assert_ne!(first, render_buf(&short, &ui, 160, 48));
}

#[test]
fn filter_narrows_the_timeline() {
    let vm = vm_done();
    let mut ui = ui();
    ui.focus = Pane::Timeline;
    on_key(&mut ui, &vm, key(KeyCode::Char('/')));
    for ch in "lock".chars() {
        on_key(&mut ui, &vm, key(KeyCode::Char(ch)));
    }
    on_key(&mut ui, &vm, key(KeyCode::Enter));
    let screen = render(&vm, &ui, 160, 48);
    let tl: Vec<&str> = screen.lines().filter(|l| l.contains(" lock ")).collect();
    assert!(tl.len() >= 4, "{screen}");
    assert!(!screen.contains("finished  resolved"), "{screen}");
}

#[test]
fn a_rolled_back_run_shows_the_exit_path() {
    let mut vm = ViewModel::default();
    for ev in regression_events() {
        vm.apply(ev);
    }
    let mut ui = ui();
    ui.focus = Pane::Incidents;
    let screen = render(&vm, &ui, 160, 48);
    for want in [
        "ROLLED_BACK · rolled_back",
        "✓ ROLLBACK",
        "▶ ROLLED_BACK",
        "FAIL",
    ] {
        assert!(screen.contains(want), "missing {want:?}\n{screen}");
    }
    assert_eq!(
        vm.run().rollout.traffic_pct,
        0,
        "traffic is back on the old version"
    );
}

/// An alarm (a replayed log's broken chain) is the first thing in the status bar, whatever the
/// run shows, and nothing else is drawn over it.
#[test]
fn an_alarm_leads_the_status_bar() {
    let vm = vm_done();
    let mut ui = UiState::new(vec![Theme::default_dark()], "replay", "replay");
    ui.alarm = Some("AUDIT CHAIN BROKEN at seq 9: replay unverified".into());
    let cache = DrawCache::new();
    let mut t = Terminal::new(TestBackend::new(160, 48)).expect("terminal");
    t.draw(|f| draw(f, &vm, &ui, &cache)).expect("draw");
    let b = t.backend().buffer().clone();
    let last: String = (0..160).map(|x| b[(x, 47)].symbol()).collect();
    assert!(
        last.trim_start()
            .starts_with("⚠ AUDIT CHAIN BROKEN at seq 9"),
        "{last}"
    );
    assert!(last.contains("CLOSED · resolved"), "{last}");
    let cell = &b[(3, 47)];
    assert_eq!(
        cell.fg,
        Theme::default_dark()
            .status(ccp_tui::theme::Status::Bad)
            .fg
            .unwrap_or(Color::Reset)
    );
}

#[test]
fn the_status_bar_names_the_focused_panes_own_keys() {
    let vm = vm_done();
    let mut ui = ui();
    let last_line = |screen: &str| screen.lines().last().unwrap_or_default().to_string();
    ui.focus = Pane::Rca;
    let rca = last_line(&render(&vm, &ui, 200, 60));
    assert!(rca.contains("j/k select  Enter evidence"), "{rca}");
    ui.focus = Pane::Diff;
    let diff = last_line(&render(&vm, &ui, 200, 60));
    assert!(diff.contains("j/k scroll"), "{diff}");
    assert!(!diff.contains("evidence"), "{diff}");
    // Scrolling the timeline up stops following; its hints then offer G to follow again.
    ui.focus = Pane::Timeline;
    assert!(!last_line(&render(&vm, &ui, 200, 60)).contains("G follow"));
    on_key(&mut ui, &vm, key(KeyCode::Char('k')));
    assert!(!ui.panes.timeline.follow);
    let tl = last_line(&render(&vm, &ui, 200, 60));
    assert!(tl.contains("G follow"), "{tl}");
    // The approval's keys take over while a human is asked.
    let paused = vm_paused();
    let ask = last_line(&render(&paused, &ui, 200, 60));
    assert!(ask.contains("a approve  r reject  c comment"), "{ask}");
}

#[test]
fn each_pane_keeps_its_own_selection() {
    let vm = vm_done();
    let mut ui = ui();
    ui.focus = Pane::Gates;
    for _ in 0..3 {
        on_key(&mut ui, &vm, key(KeyCode::Char('j')));
    }
    ui.focus = Pane::Rca;
    on_key(&mut ui, &vm, key(KeyCode::Char('j')));
    assert_eq!(ui.sel(Pane::Gates), 3);
    assert_eq!(ui.sel(Pane::Rca), 1);
    // Clamped to the pane's own rows.
    for _ in 0..50 {
        on_key(&mut ui, &vm, key(KeyCode::Char('j')));
    }
    assert_eq!(ui.sel(Pane::Rca), vm.run().rca.len() - 1);
    assert_eq!(ui.sel(Pane::Gates), 3);
}

/// `z` gives the focused pane the whole screen, and `z` again brings every pane back; the row of
/// the focused pane gets the room otherwise (the Diff's `+` lines at 120×34 once it is focused).
#[test]
fn zoom_and_the_focused_row_get_the_room() {
    let vm = vm_done();
    let mut ui = ui();
    ui.focus = Pane::Diff;
    let normal = render(&vm, &ui, 120, 34);
    assert!(
        normal.contains("+    if user.email is not None:"),
        "{normal}"
    );
    assert!(normal.contains("Dependency Graph"));
    on_key(&mut ui, &vm, key(KeyCode::Char('z')));
    let zoomed = render(&vm, &ui, 120, 34);
    assert!(!zoomed.contains("Dependency Graph"), "{zoomed}");
    assert!(
        zoomed.contains("logger.warning(\"user.email is None"),
        "{zoomed}"
    );
    on_key(&mut ui, &vm, key(KeyCode::Char('z')));
    ui.flash = None;
    assert_eq!(render(&vm, &ui, 120, 34), normal);
}

#[test]
fn an_unknown_theme_name_lists_the_themes() {
    let vm = vm_done();
    let mut ui = ui();
    for k in [":", "t", "h", "e", "m", "e", " ", "n", "o", "p", "e"] {
        let code = KeyCode::Char(k.chars().next().unwrap_or(' '));
        on_key(&mut ui, &vm, key(code));
    }
    on_key(&mut ui, &vm, key(KeyCode::Enter));
    let (msg, _) = ui.flash.clone().expect("a message");
    assert!(
        msg.contains("no theme `nope`") && msg.contains("dark"),
        "{msg}"
    );
}
