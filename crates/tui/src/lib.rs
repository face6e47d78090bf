//! The cockpit: a full-screen terminal front-end over the live pipeline.
//!
//! Split the way bottom splits collection, state and canvas: `view_model` folds pipeline Events
//! into what the screen shows; `ui_state` holds what only the operator changes (focus, scroll,
//! dialogs); `draw` turns both into a frame and does nothing else, so every pane is
//! snapshot-testable with `TestBackend`; `keymap` is the one table of keys (and the help overlay);
//! `run` owns the terminal and the tokio event loop.

pub mod components;
pub mod draw;
pub mod highlight;
pub mod input;
pub mod keymap;
pub mod layout;
pub mod pane;
pub mod popups;
pub mod record;
pub mod run;
pub mod screen;
pub mod theme;
pub mod ui_state;
pub mod view_model;
