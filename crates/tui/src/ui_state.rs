//! What only the operator changes: focus, selections, overlays, the comment being typed, the
//! theme. Kept apart from the view model so a pipeline event can never move someone's cursor,
//! and a key press can never change what the pipeline reported.

use crate::components::Panes;
pub use crate::pane::Pane;
use crate::theme::{Status, Theme};
use ratatui_textarea::TextArea;

/// What sits on top of the panes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlay {
    /// Key help.
    Help,
    /// Details of the selected row of a pane.
    Details(Pane),
    /// "An operation is in flight; quit anyway?"
    ConfirmQuit,
    /// "Roll back now?", naming the service and its traffic on the patch.
    ConfirmAbort,
}

/// A line of text the operator is typing at the bottom (filter or command).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prompt {
    /// `/` filter being edited.
    Filter(String),
    /// `:` command being edited.
    Command(String),
}

/// The operator's side of the screen.
pub struct UiState {
    /// Focused pane.
    pub focus: Pane,
    /// Focus follows the pipeline's stage until the operator moves it.
    pub follow: bool,
    /// Overlay on top, if any.
    pub overlay: Option<Overlay>,
    /// The operator hid the approval dialog to read the panes behind it (`a`/`r` still work).
    pub approval_hidden: bool,
    /// The focused pane fills the screen (`z` toggles).
    pub zoom: bool,
    /// The operator hid the outcome banner (`Esc`) to read the panes behind it.
    pub banner_hidden: bool,
    /// Typing into the comment box.
    pub editing_comment: bool,
    /// The approval comment.
    pub comment: TextArea<'static>,
    /// The panes, each with the state only it changes (selection, scroll, follow).
    pub panes: Panes,
    /// Active filter (applies to Timeline and Incidents).
    pub filter: String,
    /// Prompt being typed.
    pub prompt: Option<Prompt>,
    /// A short message in the status bar.
    pub flash: Option<(String, Status)>,
    /// Themes `t` cycles through.
    pub themes: Vec<Theme>,
    /// Index of the current theme.
    pub theme_idx: usize,
    /// Pace name for the status bar.
    pub pace: String,
    /// Who approvals are recorded as.
    pub actor: String,
    /// Activity spinner phase.
    pub spinner: usize,
    /// Replay position (events shown) when replaying; `None` when live.
    pub replay_pos: Option<usize>,
    /// Events in the replay.
    pub replay_len: usize,
    /// Set when the loop should exit.
    pub quit: bool,
    /// Why, as the audit log will record it if the pipeline has to be stopped.
    pub quit_reason: String,
    /// A finding that makes everything shown untrustworthy (a broken audit chain): drawn first
    /// in the status bar, in alarm colours, for as long as the cockpit runs.
    pub alarm: Option<String>,
    /// Attached to a server (`ccp attach`): its URL. Quitting then only detaches; the
    /// operation goes on at the server.
    pub attached: Option<String>,
    /// `--read-only`: every command key is refused, and the status bar says so.
    pub read_only: bool,
    /// The incident the operator picked in the Incidents pane; `None` follows the newest.
    pub focus_incident: Option<String>,
    /// The link to the server is down: what is shown may be stale, so commands are held.
    pub link_down: Option<String>,
}

impl UiState {
    /// Fresh state with the given themes (first one active) and labels.
    pub fn new(themes: Vec<Theme>, pace: &str, actor: &str) -> Self {
        let themes = if themes.is_empty() {
            vec![Theme::default_dark()]
        } else {
            themes
        };
        Self {
            focus: Pane::Incidents,
            follow: true,
            overlay: None,
            approval_hidden: false,
            banner_hidden: false,
            zoom: false,
            editing_comment: false,
            comment: empty_comment(),
            panes: Panes::default(),
            filter: String::new(),
            prompt: None,
            flash: None,
            themes,
            theme_idx: 0,
            pace: pace.to_string(),
            actor: actor.to_string(),
            spinner: 0,
            replay_pos: None,
            replay_len: 0,
            quit: false,
            quit_reason: "the operator quit the cockpit".into(),
            alarm: None,
            attached: None,
            read_only: false,
            focus_incident: None,
            link_down: None,
        }
    }

    /// The active theme.
    pub fn theme(&self) -> &Theme {
        &self.themes[self.theme_idx.min(self.themes.len() - 1)]
    }

    /// Selected row of a pane (kept by the pane's component).
    pub fn sel(&self, p: Pane) -> usize {
        self.panes.get(p).selected()
    }

    /// Set the selected row of a pane.
    pub fn set_sel(&mut self, p: Pane, v: usize) {
        self.panes.get_mut(p).select(v);
    }

    /// The comment typed so far, lines joined.
    pub fn comment_text(&self) -> String {
        self.comment.lines().join("\n").trim().to_string()
    }

    /// The layout's emphasis: the zoomed pane when the operator asked for it, else the row of
    /// the focused pane. Focus follows the stage until the operator moves it, so the Diff gets
    /// the room at the approval and the Canary during the rollout; a pane the operator focuses
    /// gets it after that.
    pub fn emphasis(&self) -> crate::layout::Emphasis {
        if self.zoom {
            crate::layout::Emphasis::Zoom
        } else {
            crate::layout::Emphasis::for_pane(self.focus)
        }
    }

    /// Show a message in the status bar.
    pub fn say(&mut self, msg: impl Into<String>, status: Status) {
        self.flash = Some((msg.into(), status));
    }
}

/// An empty comment box with its hint; a new one after each decision so the next approval
/// starts blank.
pub fn empty_comment() -> TextArea<'static> {
    let mut t = TextArea::default();
    t.set_placeholder_text("optional: why you approve or reject (goes to the audit log)");
    t
}
