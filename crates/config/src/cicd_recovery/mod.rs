//! The `recovery:` section of the configuration: CI/CD failure recovery's settings and its
//! per-environment policies. They sit in the config crate, below the feature, so that loading a
//! configuration never needs the recovery engine.

pub mod policy;

use policy::Policies;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// What performs recovery actions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionsBackend {
    /// Nothing real happens; every step says it was simulated (demo, drills).
    #[default]
    Simulated,
    /// Each action runs a shell command (`recovery.actions.commands.<action>`, else
    /// `recovery.actions.script`).
    Script,
}

/// `recovery.actions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ActionsConfig {
    /// `simulated` or `script`.
    pub backend: ActionsBackend,
    /// One command for every action (it switches on `$CCP_ACTION`).
    pub script: Option<String>,
    /// Per-action commands, overriding `script` for their action.
    pub commands: BTreeMap<String, String>,
    /// Longest an action may run before its process group is stopped, in seconds.
    pub timeout_s: u64,
}

impl Default for ActionsConfig {
    fn default() -> Self {
        ActionsConfig {
            backend: ActionsBackend::Simulated,
            script: None,
            commands: BTreeMap::new(),
            timeout_s: 300,
        }
    }
}

/// `recovery:`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecoveryConfig {
    /// Open a recovery case for each failed pipeline or deployment `ccp serve` receives. Off,
    /// CI deliveries are only recorded and counted.
    pub enabled: bool,
    /// Your categorization rules, extending the embedded ones (same id replaces; `disable`).
    pub rules: Option<PathBuf>,
    /// Your decision trees; one named like a default replaces it.
    pub trees: Vec<PathBuf>,
    /// What actions do.
    pub actions: ActionsConfig,
    /// Per-environment policy: approvals and the capacity floor.
    pub policies: Policies,
}

impl Default for RecoveryConfig {
    fn default() -> Self {
        RecoveryConfig {
            enabled: true,
            rules: None,
            trees: Vec::new(),
            actions: ActionsConfig::default(),
            policies: Policies::default(),
        }
    }
}
