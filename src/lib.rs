//! `ccp` — the terminal incident cockpit: detect an incident, find its root cause, locate the bad
//! line, generate a fix, gate it, roll it out as a canary, verify it statistically, with a human
//! in the loop. The crate is layered: `core` (no I/O) ← `adapters` (the world) ← `app` (wiring)
//! ← `frontends` (headless today, the cockpit next).

pub mod adapters;
pub mod app;
pub mod audit;
pub mod bench;
pub mod config;
pub mod core;
pub mod fix;
pub mod fleet;
pub mod frontends;
pub mod graph_cmd;
pub mod inject_cmd;
pub mod localize;
pub mod localize_cmd;
pub mod lock_tool;
pub mod notify;
pub mod recovery;
pub mod report;
pub mod restart;
pub mod scenarios;
pub mod serve;
pub mod server;
pub mod tls;
pub mod tui;
pub mod webhooks;
