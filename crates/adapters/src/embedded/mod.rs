//! Embedded defaults: the zero-setup adapters that make `cargo run --release` a full incident.

pub mod demo_repo;
pub mod fleet_spec;
pub mod local_lock;
pub mod memory_graph;
pub mod memory_registry;
pub mod paced_clock;
pub mod python_runner;
pub mod sim_fleet;
pub mod template_fixer;
