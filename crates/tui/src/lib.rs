//! The cockpit: a full-screen terminal front-end over the live pipeline.
//!
//! Split the way bottom splits collection, state and canvas, with panes as components the way
//! gitui has them:
//! - `view_model` holds what the pipeline reported (core's projection plus the timeline);
//! - `ui_state` holds what only the operator changes (focus, overlays, the comment, themes), and
//!   the `components`, one per pane, each owning its selection, handling navigation and naming
//!   its keys;
//! - `draw` draws a pane's inside from the view model and a `PaneView`, `popups` the dialogs on
//!   top, and `screen` puts the frame together; all pure, so every screen is snapshot-testable
//!   with `TestBackend`;
//! - `keymap` is the one table of keys (help and hints are printed from it), `input` turns keys
//!   into UI changes and Commands;
//! - `run` owns the terminal and the event loop.

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
