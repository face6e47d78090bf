//! Keys and mouse → changes of [`UiState`] and Commands for the pipeline. The only place that
//! decides what a key means in a given situation (a dialog on top, a prompt open, a comment being
//! typed); the keymap decides which key is which action.

use crate::keymap::{action_for, Action};
use crate::layout;
use crate::pane::Pane;
use crate::theme::Status;
use crate::ui_state::{empty_comment, Overlay, Prompt, UiState};
use crate::view_model::ViewModel;
use ccp_core::events::Command;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, MouseEvent, MouseEventKind};
use ratatui::layout::Rect;

/// What the loop must do after an input.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Send this to the pipeline.
    Send(Command),
    /// Load a theme file given on the command line.
    LoadTheme(String),
}

/// Handle one key. Returns the effects for the loop to carry out.
pub fn on_key(ui: &mut UiState, vm: &ViewModel, key: KeyEvent) -> Vec<Effect> {
    if key.kind == KeyEventKind::Release {
        return vec![];
    }
    if ui.editing_comment {
        if key.code == KeyCode::Esc {
            ui.editing_comment = false;
        } else {
            ui.comment.input(key);
        }
        return vec![];
    }
    if let Some(p) = ui.prompt.clone() {
        return on_prompt_key(ui, vm, p, key);
    }
    if let Some(Overlay::ConfirmQuit) = ui.overlay {
        match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Char('q') => ui.quit = true,
            _ => ui.overlay = None,
        }
        return vec![];
    }
    if let Some(Overlay::ConfirmAbort) = ui.overlay {
        ui.overlay = None;
        if matches!(key.code, KeyCode::Char('y') | KeyCode::Char('Y')) {
            let actor = ui.actor.clone();
            ui.say(
                "aborting: a live canary is rolled back at the next safe point…",
                Status::Warn,
            );
            return vec![Effect::Send(Command::Abort {
                actor,
                reason: "aborted from the cockpit".into(),
            })];
        }
        ui.say("abort cancelled: the operation goes on", Status::Info);
        return vec![];
    }
    if ui.replay_pos.is_some() && ui.overlay.is_none() {
        // In a replay these keys move through time; j/k/g/G still move within panes.
        let jump = match key.code {
            KeyCode::Home => Some(Jump::To(0)),
            KeyCode::End => Some(Jump::To(ui.replay_len)),
            KeyCode::PageUp => Some(Jump::By(-10)),
            KeyCode::PageDown => Some(Jump::By(10)),
            _ => None,
        };
        if let Some(j) = jump {
            replay_jump(ui, j);
            return vec![];
        }
    }
    let Some(action) = action_for(&key) else {
        return vec![];
    };
    ui.flash = None;
    match action {
        Action::Help => toggle(ui, Overlay::Help),
        Action::Quit => ask_to_quit(ui, vm),
        Action::Zoom => {
            ui.zoom = !ui.zoom;
            ui.say(
                if ui.zoom {
                    "zoomed: z again for every pane"
                } else {
                    "every pane"
                },
                Status::Info,
            );
        }
        Action::Abort => {
            if vm.operation_in_flight() && ui.replay_pos.is_none() {
                ui.overlay = Some(Overlay::ConfirmAbort);
            } else {
                ui.say("nothing to abort: no operation is in flight", Status::Muted);
            }
        }
        Action::Close => {
            if ui.overlay.is_some() {
                ui.overlay = None;
            } else if vm.run().approval.is_some() && !ui.approval_hidden {
                ui.approval_hidden = true;
                ui.say(
                    "approval dialog hidden: a approve · r reject · c brings it back",
                    Status::Warn,
                );
            } else if vm.run().finished.is_some() && !ui.banner_hidden {
                ui.banner_hidden = true;
            } else if !ui.filter.is_empty() {
                ui.filter.clear();
            }
        }
        Action::FocusNext => focus(ui, ui.focus.next()),
        Action::FocusPrev => focus(ui, ui.focus.prev()),
        Action::Follow => {
            ui.follow = true;
            if let Some(s) = vm.run().state {
                ui.focus = Pane::for_state(s);
            }
            ui.say("focus follows the pipeline", Status::Info);
        }
        Action::Down
        | Action::Up
        | Action::PageDown
        | Action::PageUp
        | Action::Top
        | Action::Bottom => {
            let filter = ui.filter.clone();
            ui.panes.get_mut(ui.focus).on_action(action, vm, &filter);
            if ui.focus == Pane::Incidents && vm.incidents().len() > 1 {
                // Picking an incident switches every pane to it.
                let row = ui.panes.get(Pane::Incidents).selected();
                if let Some(i) = vm.incidents().get(row) {
                    ui.focus_incident = Some(i.id.clone());
                    ui.say(format!("showing {} ({})", i.id, i.service), Status::Info);
                }
            }
        }
        Action::Open => {
            if ui.overlay.is_none() {
                ui.overlay = Some(Overlay::Details(ui.focus));
            } else {
                ui.overlay = None;
            }
        }
        Action::Approve | Action::Reject => return decide(ui, vm, action == Action::Approve),
        Action::Comment => {
            if vm.run().approval.is_some() {
                ui.approval_hidden = false;
                ui.overlay = None;
                ui.editing_comment = true;
            } else {
                ui.say("nothing is waiting for approval", Status::Muted);
            }
        }
        Action::PauseResume => return pause_resume(ui, vm, !vm.run().paused),
        Action::Filter => ui.prompt = Some(Prompt::Filter(ui.filter.clone())),
        Action::CommandLine => ui.prompt = Some(Prompt::Command(String::new())),
        Action::CycleTheme => {
            ui.theme_idx = (ui.theme_idx + 1) % ui.themes.len();
            let name = ui.theme().name.clone();
            ui.say(format!("theme {name}"), Status::Info);
        }
        Action::StepBack | Action::StepForward => step(ui, action == Action::StepForward),
    }
    vec![]
}

/// Quit, asking first while an operation is in flight (every quit path comes here: `q`,
/// Ctrl-C, `:q`, `:quit`).
fn ask_to_quit(ui: &mut UiState, vm: &ViewModel) {
    if vm.operation_in_flight() && ui.replay_pos.is_none() && ui.attached.is_none() {
        ui.overlay = Some(Overlay::ConfirmQuit);
    } else {
        ui.quit = true;
    }
}

fn toggle(ui: &mut UiState, o: Overlay) {
    ui.overlay = if ui.overlay == Some(o) { None } else { Some(o) };
}

fn focus(ui: &mut UiState, p: Pane) {
    ui.focus = p;
    ui.follow = false;
    ui.overlay = None;
}

fn decide(ui: &mut UiState, vm: &ViewModel, approve: bool) -> Vec<Effect> {
    if vm.run().approval.is_none() {
        ui.say("nothing is waiting for approval", Status::Muted);
        return vec![];
    }
    let comment = ui.comment_text();
    let actor = ui.actor.clone();
    ui.editing_comment = false;
    ui.approval_hidden = false;
    ui.overlay = None;
    ui.comment = empty_comment();
    ui.say(
        if approve {
            format!("approved as {actor}")
        } else {
            format!("rejected as {actor}")
        },
        if approve { Status::Ok } else { Status::Warn },
    );
    vec![Effect::Send(if approve {
        Command::Approve { actor, comment }
    } else {
        Command::Reject { actor, comment }
    })]
}

fn pause_resume(ui: &mut UiState, vm: &ViewModel, pause: bool) -> Vec<Effect> {
    if vm.run().finished.is_some() || vm.run().state.is_none() {
        ui.say("no pipeline is running", Status::Muted);
        return vec![];
    }
    let actor = ui.actor.clone();
    ui.say(
        if pause {
            "pausing at the next safe point…"
        } else {
            "resuming…"
        },
        Status::Info,
    );
    vec![Effect::Send(if pause {
        Command::Pause { actor }
    } else {
        Command::Resume { actor }
    })]
}

/// A move through a replay's time.
enum Jump {
    /// To this many events shown.
    To(usize),
    /// Forward (or back, negative) by this many events.
    By(i64),
}

fn replay_jump(ui: &mut UiState, j: Jump) {
    let Some(pos) = ui.replay_pos else { return };
    let next = match j {
        Jump::To(n) => n,
        Jump::By(d) => (pos as i64 + d).max(0) as usize,
    }
    .min(ui.replay_len);
    ui.replay_pos = Some(next);
    ui.say(
        format!(
            "replay {next}/{} (← / → · Home / End · PgUp / PgDn)",
            ui.replay_len
        ),
        Status::Info,
    );
}

fn step(ui: &mut UiState, forward: bool) {
    match ui.replay_pos {
        Some(_) => replay_jump(ui, Jump::By(if forward { 1 } else { -1 })),
        None => ui.say(
            "← / → step through time in replay (ccp audit replay)",
            Status::Muted,
        ),
    }
}

fn on_prompt_key(ui: &mut UiState, vm: &ViewModel, p: Prompt, key: KeyEvent) -> Vec<Effect> {
    let (mut text, is_filter) = match p {
        Prompt::Filter(t) => (t, true),
        Prompt::Command(t) => (t, false),
    };
    match key.code {
        KeyCode::Esc => {
            ui.prompt = None;
            if is_filter {
                ui.filter.clear();
            }
            return vec![];
        }
        KeyCode::Enter => {
            ui.prompt = None;
            if is_filter {
                ui.filter = text;
                return vec![];
            }
            return run_command(ui, vm, text.trim());
        }
        KeyCode::Backspace => {
            text.pop();
        }
        KeyCode::Char(c) => text.push(c),
        _ => {}
    }
    if is_filter {
        ui.filter = text.clone();
        ui.prompt = Some(Prompt::Filter(text));
    } else {
        ui.prompt = Some(Prompt::Command(text));
    }
    vec![]
}

/// Commands of the `:` line.
pub const COMMANDS: &[(&str, &str)] = &[
    ("pause", "pause the pipeline at the next safe point"),
    ("resume", "resume a paused pipeline"),
    (
        "theme NAME|FILE",
        "switch theme (dark, light, high-contrast, or a YAML file)",
    ),
    (
        "scenario NAME",
        "how to watch a failure scenario: it reshapes the fleet, so it starts with the cockpit (`ccp demo --scenario NAME`)",
    ),
    (
        "quit",
        "leave the cockpit (asks while an operation is in flight; quit! does not)",
    ),
];

fn run_command(ui: &mut UiState, vm: &ViewModel, line: &str) -> Vec<Effect> {
    let mut words = line.split_whitespace();
    let cmd = words.next().unwrap_or_default();
    let arg = words.collect::<Vec<_>>().join(" ");
    let actor = ui.actor.clone();
    match cmd {
        "" => vec![],
        "q" | "quit" => {
            ask_to_quit(ui, vm);
            vec![]
        }
        "q!" | "quit!" => {
            ui.quit = true;
            vec![]
        }
        "pause" => {
            ui.say("pausing at the next safe point…", Status::Info);
            vec![Effect::Send(Command::Pause { actor })]
        }
        "resume" => {
            ui.say("resuming…", Status::Info);
            vec![Effect::Send(Command::Resume { actor })]
        }
        "theme" => {
            if arg.is_empty() {
                let names: Vec<String> = ui.themes.iter().map(|t| t.name.clone()).collect();
                ui.say(format!("themes: {}", names.join(", ")), Status::Info);
                return vec![];
            }
            if let Some(i) = ui.themes.iter().position(|t| t.name == arg) {
                ui.theme_idx = i;
                ui.say(format!("theme {arg}"), Status::Info);
                vec![]
            } else if arg.contains('/') || arg.ends_with(".yaml") || arg.ends_with(".yml") {
                vec![Effect::LoadTheme(arg)]
            } else {
                let names: Vec<String> = ui.themes.iter().map(|t| t.name.clone()).collect();
                ui.say(
                    format!(
                        "no theme `{arg}`: use {}, or a theme file (a path ending in .yaml)",
                        names.join(", ")
                    ),
                    Status::Bad,
                );
                vec![]
            }
        }
        "scenario" => {
            ui.say(
                format!(
                    "scenario {}: scenarios start with the cockpit — quit and run `ccp demo --scenario NAME` (`ccp scenarios` lists them)",
                    if arg.is_empty() { "?" } else { &arg }
                ),
                Status::Warn,
            );
            vec![]
        }
        other => {
            ui.say(
                format!(
                    "unknown command :{other} — try pause, resume, theme NAME, scenario NAME, quit"
                ),
                Status::Bad,
            );
            vec![]
        }
    }
}

/// How many selectable rows a pane has (for clamping the selection).
pub fn rows(ui: &UiState, vm: &ViewModel, p: Pane) -> usize {
    ui.panes.get(p).rows(vm, &ui.filter)
}

fn move_sel(ui: &mut UiState, vm: &ViewModel, action: Action) {
    let filter = ui.filter.clone();
    ui.panes.get_mut(ui.focus).on_action(action, vm, &filter);
}

/// Keep focus on the pipeline's stage while following, and drop overlays that lost their
/// reason (the approval was answered elsewhere).
pub fn after_event(ui: &mut UiState, vm: &ViewModel) {
    if ui.follow {
        if let Some(s) = vm.run().state {
            ui.focus = Pane::for_state(s);
        }
    }
    if vm.run().approval.is_none() {
        ui.editing_comment = false;
        ui.approval_hidden = false;
    }
    // A fresh approval request takes over the screen; only the help overlay stays on top.
    if vm.run().approval.is_some() && !ui.approval_hidden && ui.overlay != Some(Overlay::Help) {
        ui.overlay = None;
    }
}

/// Mouse: a click focuses the pane under it; the wheel scrolls the focused pane.
pub fn on_mouse(ui: &mut UiState, vm: &ViewModel, m: MouseEvent, screen: Rect) {
    match m.kind {
        MouseEventKind::Down(_) => {
            let emphasis = ui.emphasis();
            if let Some(p) = layout::pane_at(screen, Some(ui.focus), emphasis, m.column, m.row) {
                focus(ui, p);
            }
        }
        MouseEventKind::ScrollDown => move_sel(ui, vm, Action::Down),
        MouseEventKind::ScrollUp => move_sel(ui, vm, Action::Up),
        _ => {}
    }
}
