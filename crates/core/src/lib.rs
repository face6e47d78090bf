//! The core: domain, state machine, pipeline, RCA, risk, gates, statistics, stack-trace
//! localization and fix templates. No I/O, no terminal, deterministic given its inputs; it reaches
//! the world only through the traits in [`ports`], so every front-end and every backend can change
//! without touching the decisions made here. Its `Cargo.toml` lists no async runtime, network,
//! database or terminal crate, and `tests/layers.rs` keeps it so.

pub mod bus;
pub mod clock;
pub mod conflict;
pub mod detect;
pub mod domain;
pub mod event_text;
pub mod events;
pub mod explain;
pub mod exposition;
pub mod fix;
pub mod gates;
pub mod localize;
pub mod locks;
pub mod notice;
pub mod outcome_text;
pub mod override_rules;
pub mod pipeline;
pub mod ports;
pub mod projection;
pub mod rca;
pub mod risk;
pub mod state;
pub mod stats;
