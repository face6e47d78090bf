//! The one table of keys. Input handling looks keys up here and the help overlay is printed from
//! it, so the two can never disagree.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a key asks for, independent of which key it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Show or hide the help overlay.
    Help,
    /// Quit (asks first while an operation is in flight).
    Quit,
    /// Focus the next pane.
    FocusNext,
    /// Focus the previous pane.
    FocusPrev,
    /// Move the selection down / scroll down.
    Down,
    /// Move the selection up / scroll up.
    Up,
    /// A page down.
    PageDown,
    /// A page up.
    PageUp,
    /// First row.
    Top,
    /// Last row (and follow new rows again).
    Bottom,
    /// Open details of the selected row.
    Open,
    /// Approve the paused operation.
    Approve,
    /// Reject the paused operation.
    Reject,
    /// Write a comment for the approval.
    Comment,
    /// Pause or resume the pipeline.
    PauseResume,
    /// Stop the operation now: roll back what is deployed (asks first).
    Abort,
    /// The focused pane full screen, or back.
    Zoom,
    /// Filter rows.
    Filter,
    /// Open the command line.
    CommandLine,
    /// Next theme.
    CycleTheme,
    /// Let focus follow the pipeline's stage again.
    Follow,
    /// Step back in time (replay).
    StepBack,
    /// Step forward in time (replay).
    StepForward,
    /// Close the dialog or overlay on top.
    Close,
}

/// One line of the keymap.
pub struct Binding {
    /// Keys as the help overlay prints them.
    pub label: &'static str,
    /// Keys that trigger it.
    pub keys: &'static [(KeyCode, KeyModifiers)],
    /// The action.
    pub action: Action,
    /// What it does, for the help overlay.
    pub help: &'static str,
}

const NONE: KeyModifiers = KeyModifiers::NONE;
const SHIFT: KeyModifiers = KeyModifiers::SHIFT;
const CTRL: KeyModifiers = KeyModifiers::CONTROL;

/// The keymap, in the order the help overlay lists it (Contract: DESIGN.md "Cockpit keys").
pub const KEYMAP: &[Binding] = &[
    Binding {
        label: "?",
        keys: &[(KeyCode::Char('?'), NONE), (KeyCode::F(1), NONE)],
        action: Action::Help,
        help: "help (this overlay)",
    },
    Binding {
        label: "q",
        keys: &[(KeyCode::Char('q'), NONE), (KeyCode::Char('c'), CTRL)],
        action: Action::Quit,
        help: "quit (asks while an operation is in flight)",
    },
    Binding {
        label: "Tab / Shift-Tab",
        keys: &[(KeyCode::Tab, NONE)],
        action: Action::FocusNext,
        help: "focus next pane",
    },
    Binding {
        label: "",
        keys: &[(KeyCode::BackTab, NONE), (KeyCode::BackTab, SHIFT)],
        action: Action::FocusPrev,
        help: "focus previous pane",
    },
    Binding {
        label: "j / ↓",
        keys: &[(KeyCode::Char('j'), NONE), (KeyCode::Down, NONE)],
        action: Action::Down,
        help: "move down / scroll",
    },
    Binding {
        label: "k / ↑",
        keys: &[(KeyCode::Char('k'), NONE), (KeyCode::Up, NONE)],
        action: Action::Up,
        help: "move up / scroll",
    },
    Binding {
        label: "PgDn / PgUp",
        keys: &[(KeyCode::PageDown, NONE), (KeyCode::Char('d'), CTRL)],
        action: Action::PageDown,
        help: "page down / up",
    },
    Binding {
        label: "",
        keys: &[(KeyCode::PageUp, NONE), (KeyCode::Char('u'), CTRL)],
        action: Action::PageUp,
        help: "page up",
    },
    Binding {
        label: "g / G",
        keys: &[(KeyCode::Char('g'), NONE), (KeyCode::Home, NONE)],
        action: Action::Top,
        help: "first / last row (G follows new rows)",
    },
    Binding {
        label: "",
        keys: &[
            (KeyCode::Char('G'), NONE),
            (KeyCode::Char('G'), SHIFT),
            (KeyCode::End, NONE),
        ],
        action: Action::Bottom,
        help: "last row",
    },
    Binding {
        label: "Enter",
        keys: &[(KeyCode::Enter, NONE)],
        action: Action::Open,
        help: "details: evidence, justification, gate, service, statistics",
    },
    Binding {
        label: "z",
        keys: &[(KeyCode::Char('z'), NONE)],
        action: Action::Zoom,
        help: "zoom: the focused pane full screen, or back",
    },
    Binding {
        label: "x",
        keys: &[(KeyCode::Char('x'), NONE)],
        action: Action::Abort,
        help: "abort: roll back now (asks first, naming the service and its traffic)",
    },
    Binding {
        label: "a",
        keys: &[(KeyCode::Char('a'), NONE)],
        action: Action::Approve,
        help: "approve the paused operation",
    },
    Binding {
        label: "r",
        keys: &[(KeyCode::Char('r'), NONE)],
        action: Action::Reject,
        help: "reject the paused operation",
    },
    Binding {
        label: "c",
        keys: &[(KeyCode::Char('c'), NONE)],
        action: Action::Comment,
        help: "comment on the approval (Esc when done)",
    },
    Binding {
        label: "p",
        keys: &[(KeyCode::Char('p'), NONE)],
        action: Action::PauseResume,
        help: "pause / resume the pipeline",
    },
    Binding {
        label: "/",
        keys: &[(KeyCode::Char('/'), NONE)],
        action: Action::Filter,
        help: "filter the Timeline and Incidents (Esc clears)",
    },
    Binding {
        label: ":",
        keys: &[(KeyCode::Char(':'), NONE), (KeyCode::Char(':'), SHIFT)],
        action: Action::CommandLine,
        help: "command: pause, resume, theme NAME, scenario NAME, quit",
    },
    Binding {
        label: "t",
        keys: &[(KeyCode::Char('t'), NONE)],
        action: Action::CycleTheme,
        help: "cycle theme",
    },
    Binding {
        label: "f",
        keys: &[(KeyCode::Char('f'), NONE)],
        action: Action::Follow,
        help: "focus follows the pipeline stage again",
    },
    Binding {
        label: "← / →",
        keys: &[(KeyCode::Left, NONE)],
        action: Action::StepBack,
        help: "step through time in replay",
    },
    Binding {
        label: "",
        keys: &[(KeyCode::Right, NONE)],
        action: Action::StepForward,
        help: "step forward in replay",
    },
    Binding {
        label: "Esc",
        keys: &[(KeyCode::Esc, NONE)],
        action: Action::Close,
        help: "close the dialog / overlay on top",
    },
];

/// The action bound to a key, if any. Shift is ignored for characters that carry it themselves
/// (`?`, `:`, `G`), because terminals disagree on whether they report it.
pub fn action_for(key: &KeyEvent) -> Option<Action> {
    let mods = if matches!(key.code, KeyCode::Char(_)) {
        key.modifiers - KeyModifiers::SHIFT
    } else {
        key.modifiers
    };
    KEYMAP
        .iter()
        .find(|b| {
            b.keys
                .iter()
                .any(|(c, m)| *c == key.code && (*m == key.modifiers || *m == mods))
        })
        .map(|b| b.action)
}

/// The key a hint names for `action`: its first binding (`j`, `Enter`, `/`), or the pair that
/// reads as one (`j/k`). Hints are printed from the keymap, so rebinding a key updates them.
pub fn key_name(action: Action) -> String {
    match action {
        Action::Down | Action::Up => return "j/k".into(),
        Action::PageDown | Action::PageUp => return "PgDn/PgUp".into(),
        _ => {}
    }
    let Some((code, _)) = KEYMAP
        .iter()
        .find(|b| b.action == action)
        .and_then(|b| b.keys.first())
    else {
        return String::new();
    };
    match code {
        KeyCode::Char(c) => c.to_string(),
        KeyCode::Enter => "Enter".into(),
        KeyCode::Esc => "Esc".into(),
        KeyCode::Tab => "Tab".into(),
        KeyCode::Left => "←".into(),
        KeyCode::Right => "→".into(),
        other => format!("{other:?}"),
    }
}

/// Rows of the help overlay: (keys, description). Bindings without a label continue the previous
/// row's keys (`Tab / Shift-Tab` covers two actions) and are left out.
pub fn help_rows() -> Vec<(&'static str, &'static str)> {
    let mut rows = Vec::new();
    for b in KEYMAP.iter().filter(|b| !b.label.is_empty()) {
        rows.push((b.label, b.help));
    }
    rows.push(("mouse", "click a pane to focus it; wheel scrolls"));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent::new(c, m)
    }

    #[test]
    fn contract_keys_are_bound() {
        let cases = [
            (KeyCode::Char('?'), Action::Help),
            (KeyCode::Char('q'), Action::Quit),
            (KeyCode::Tab, Action::FocusNext),
            (KeyCode::BackTab, Action::FocusPrev),
            (KeyCode::Char('j'), Action::Down),
            (KeyCode::Down, Action::Down),
            (KeyCode::Char('k'), Action::Up),
            (KeyCode::Up, Action::Up),
            (KeyCode::Enter, Action::Open),
            (KeyCode::Char('a'), Action::Approve),
            (KeyCode::Char('r'), Action::Reject),
            (KeyCode::Char('c'), Action::Comment),
            (KeyCode::Char('p'), Action::PauseResume),
            (KeyCode::Char('/'), Action::Filter),
            (KeyCode::Char(':'), Action::CommandLine),
            (KeyCode::Char('t'), Action::CycleTheme),
            (KeyCode::Left, Action::StepBack),
            (KeyCode::Right, Action::StepForward),
        ];
        for (c, a) in cases {
            assert_eq!(action_for(&key(c, NONE)), Some(a), "{c:?}");
        }
    }

    #[test]
    fn shifted_characters_match_either_way() {
        assert_eq!(
            action_for(&key(KeyCode::Char('?'), SHIFT)),
            Some(Action::Help)
        );
        assert_eq!(
            action_for(&key(KeyCode::Char('G'), SHIFT)),
            Some(Action::Bottom)
        );
        assert_eq!(
            action_for(&key(KeyCode::Char('c'), CTRL)),
            Some(Action::Quit)
        );
        assert_eq!(action_for(&key(KeyCode::Char('w'), NONE)), None);
    }

    #[test]
    fn help_lists_every_labelled_binding() {
        let rows = help_rows();
        assert!(rows.iter().any(|(k, _)| *k == "Tab / Shift-Tab"));
        assert!(rows.iter().any(|(k, d)| *k == "a" && d.contains("approve")));
        assert_eq!(
            rows.len(),
            KEYMAP.iter().filter(|b| !b.label.is_empty()).count() + 1
        );
    }
}
