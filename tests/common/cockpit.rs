//! The cockpit drawn into a test terminal.

use ccp_adapters::embedded::paced_clock::Pace;
use ccp_app::RunOptions;
use ccp_config::Config;
use ccp_core::events::{Command, Event};
use ccp_tui::draw::DrawCache;
use ccp_tui::input::on_key;
use ccp_tui::screen::draw;
use ccp_tui::ui_state::UiState;
use ccp_tui::view_model::ViewModel;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

/// The events of one embedded demo run at instant pace with seed 7 (reproducible), every
/// question answered by `decide`.
pub fn collect_run(
    config: Config,
    inject: Option<&str>,
    decide: impl Fn(&Event) -> Option<Command>,
) -> Vec<Event> {
    let state = tempfile::tempdir().expect("temp dir");
    let opts = RunOptions {
        seed: Some(7),
        pace: Pace::Instant,
        inject_failure: inject.map(str::to_string),
        state_dir: state.path().to_path_buf(),
        config,
    };
    ccp_app::collect_events(&opts, decide).expect("the run ends")
}

const WIDTH: u16 = 160;
const HEIGHT: u16 = 48;

/// The cockpit as text, one line per terminal row, on a 160×48 terminal.
pub fn screen(vm: &ViewModel, ui: &UiState) -> String {
    let cache = DrawCache::new();
    let mut t = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).expect("terminal");
    t.draw(|f| draw(f, vm, ui, &cache)).expect("draw");
    let b = t.backend().buffer().clone();
    (0..HEIGHT)
        .map(|y| (0..WIDTH).map(|x| b[(x, y)].symbol()).collect::<String>() + "\n")
        .collect()
}

/// Press Enter: opens the details of the focused pane.
pub fn open_details(ui: &mut UiState, vm: &ViewModel) {
    on_key(ui, vm, KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
}
