//! Front-ends: they consume Events and send Commands through the `AppHandle`, nothing else.

pub mod headless;
pub mod text;
