//! Drawing: pure functions from (view model, UI state, theme) to a frame.

pub mod graph;
