//! Deployment failure recovery: a failed CI pipeline or deployment becomes a *recovery case*.
//! The case is categorized (ten categories × five severities, from YAML rules over its logs and
//! metadata), a YAML decision tree is chosen for it and executed by the orchestrator in seven
//! phases under the environment's policy (production asks a human before anything disruptive;
//! capacity never drops below the policy's floor), and every step is traced.
//!
//! Pure parts (categorizer, trees, expressions, the executor and the orchestrator) take their
//! effects through two traits, [`exec::RecoveryActions`] (what an action does) and
//! [`exec::Approver`] (who answers a gate), so tests and the demo run deterministically while
//! `ccp serve` runs real commands and waits for HTTP approvals.

pub mod actions;
pub mod case;
pub mod categorizer;
pub mod category;
pub mod exec;
pub mod expr;
pub mod orchestrator;
pub mod phase;
/// Per-environment policies are configuration; they are read here as the engine's own.
pub use ccp_config::cicd_recovery::policy;
pub mod tree;
