//! The vocabulary of deployment failure recovery: the ten failure categories and the five
//! severities (shared with incidents) that the categorizer assigns and the decision trees branch
//! on. Both are closed sets so a tree that names `netwrok` is refused at load time instead of
//! silently never matching.

use serde::{Deserialize, Serialize};
use std::fmt;

/// What kind of thing broke; picks the recovery strategy (a rollback does not fix a DNS outage).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Containers, pods, nodes, runners: the platform under the application.
    Infrastructure,
    /// Settings and environment: invalid configs, missing variables or secrets names.
    Configuration,
    /// External services and libraries: registries, package mirrors, third-party APIs.
    Dependency,
    /// Compute, memory and storage limits: OOM kills, full disks, quota.
    Resource,
    /// The code itself: exceptions, panics, failing tests.
    Application,
    /// Databases and migrations: constraint violations, failed migrations, corruption.
    Data,
    /// Authentication and authorization: expired tokens, denied permissions, scanners.
    Security,
    /// Connectivity: DNS, refused or reset connections, TLS handshakes.
    Network,
    /// Races, deadlocks, timeouts, flaky tests.
    Timing,
    /// Manual mistakes: cancelled or forced runs, skipped steps, wrong targets.
    HumanError,
}

impl Category {
    /// Every category, in the order ties are broken (earlier wins).
    pub const ALL: [Category; 10] = [
        Category::Infrastructure,
        Category::Configuration,
        Category::Dependency,
        Category::Resource,
        Category::Application,
        Category::Data,
        Category::Security,
        Category::Network,
        Category::Timing,
        Category::HumanError,
    ];

    /// The name used in YAML, JSON, metrics labels and expressions.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Infrastructure => "infrastructure",
            Category::Configuration => "configuration",
            Category::Dependency => "dependency",
            Category::Resource => "resource",
            Category::Application => "application",
            Category::Data => "data",
            Category::Security => "security",
            Category::Network => "network",
            Category::Timing => "timing",
            Category::HumanError => "human_error",
        }
    }

    /// The category named `name` (as written in YAML), if any.
    pub fn parse(name: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How bad it is: the same severity incidents carry, so trees and policies read one scale.
pub use ccp_core::domain::Severity;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_severities_are_ordered() {
        for c in Category::ALL {
            assert_eq!(Category::parse(c.as_str()), Some(c));
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{c}\""));
        }
        for s in Severity::ALL {
            assert_eq!(Severity::parse(s.as_str()), Some(s));
        }
        assert!(Severity::Critical > Severity::High && Severity::Low > Severity::Info);
        assert_eq!(Category::parse("netwrok"), None);
    }
}
