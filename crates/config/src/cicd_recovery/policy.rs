//! Per-environment policy and the zero-downtime constraint. Production asks a human before any
//! disruptive action and keeps most of its capacity serving; staging and development trade
//! ceremony for speed. The capacity check is what makes "zero downtime" a rule rather than a hope:
//! an action that would take the last healthy instance out, or drop serving capacity under the
//! floor, is refused with the numbers that refused it.

use serde::{Deserialize, Serialize};

/// What an environment demands of a recovery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnvPolicy {
    /// A human approves each disruptive step (rollback, restart, failover) before it runs.
    pub requires_approval: bool,
    /// Serving capacity never drops below this share of instances, in percent (0 = only the
    /// last healthy instance is protected).
    pub min_capacity_pct: f64,
}

impl Default for EnvPolicy {
    fn default() -> Self {
        EnvPolicy::production()
    }
}

impl EnvPolicy {
    /// Approval before disruptive steps; keep 75 % serving.
    pub fn production() -> Self {
        EnvPolicy {
            requires_approval: true,
            min_capacity_pct: 75.0,
        }
    }

    /// No approvals; keep half serving.
    pub fn staging() -> Self {
        EnvPolicy {
            requires_approval: false,
            min_capacity_pct: 50.0,
        }
    }

    /// No approvals; only the last healthy instance is protected.
    pub fn development() -> Self {
        EnvPolicy {
            requires_approval: false,
            min_capacity_pct: 0.0,
        }
    }
}

/// The three policies, by environment (`recovery.policies` in the configuration).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policies {
    /// `production` (also `prod` and any name ccp does not know: the cautious default).
    pub production: EnvPolicy,
    /// `staging` (also `stage`, `preprod`, `qa`).
    pub staging: EnvPolicy,
    /// `development` (also `dev`, `test`, `sandbox`, `local`).
    pub development: EnvPolicy,
}

impl Default for Policies {
    fn default() -> Self {
        Policies {
            production: EnvPolicy::production(),
            staging: EnvPolicy::staging(),
            development: EnvPolicy::development(),
        }
    }
}

/// The three environment classes a name maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EnvClass {
    /// Real users.
    Production,
    /// Pre-production.
    Staging,
    /// Laptops and sandboxes.
    Development,
}

impl EnvClass {
    /// The class of an environment name as CI systems spell it; unknown names are production,
    /// because guessing low is the mistake that hurts.
    pub fn of(name: &str) -> EnvClass {
        match name.trim().to_ascii_lowercase().as_str() {
            "staging" | "stage" | "preprod" | "pre-production" | "qa" | "uat" => EnvClass::Staging,
            "development" | "dev" | "test" | "testing" | "sandbox" | "local" => {
                EnvClass::Development
            }
            _ => EnvClass::Production,
        }
    }

    /// The name in YAML and traces.
    pub fn as_str(self) -> &'static str {
        match self {
            EnvClass::Production => "production",
            EnvClass::Staging => "staging",
            EnvClass::Development => "development",
        }
    }
}

impl Policies {
    /// The policy for environment `name`.
    pub fn for_env(&self, name: &str) -> &EnvPolicy {
        match EnvClass::of(name) {
            EnvClass::Production => &self.production,
            EnvClass::Staging => &self.staging,
            EnvClass::Development => &self.development,
        }
    }
}

/// Instances of the service the failure is about, as far as known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Capacity {
    /// All instances.
    pub total: u32,
    /// Instances serving right now.
    pub healthy: u32,
}

impl Capacity {
    /// From the case's facts `replicas` and `healthy_replicas` (healthy defaults to all).
    pub fn from_facts(replicas: Option<&str>, healthy: Option<&str>) -> Option<Capacity> {
        let total: u32 = replicas?.trim().parse().ok()?;
        let healthy = healthy
            .and_then(|h| h.trim().parse().ok())
            .unwrap_or(total)
            .min(total);
        (total > 0).then_some(Capacity { total, healthy })
    }
}

impl EnvPolicy {
    /// Whether taking `takes_out` instances out of service at once is allowed; the refusal says
    /// why, with the numbers.
    pub fn check_capacity(
        &self,
        env: &str,
        capacity: Option<Capacity>,
        takes_out: u32,
    ) -> Result<(), String> {
        if takes_out == 0 {
            return Ok(());
        }
        let Some(c) = capacity else {
            if self.min_capacity_pct > 0.0 {
                return Err(format!(
                    "would take {takes_out} instance(s) out of service, but the case does not say \
                     how many are serving (metadata replicas / healthy_replicas), so {env}'s \
                     capacity floor of {}% cannot be guaranteed",
                    self.min_capacity_pct
                ));
            }
            return Ok(());
        };
        let left = c.healthy.saturating_sub(takes_out);
        if left == 0 {
            return Err(format!(
                "would take the last healthy instance out of service ({} healthy of {}, {} out at \
                 once)",
                c.healthy, c.total, takes_out
            ));
        }
        let pct = f64::from(left) * 100.0 / f64::from(c.total);
        if pct < self.min_capacity_pct {
            return Err(format!(
                "would leave {left} of {} instances serving ({pct:.0}%); {env} keeps at least {}%",
                c.total, self.min_capacity_pct
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_names_map_cautiously() {
        assert_eq!(EnvClass::of("Prod"), EnvClass::Production);
        assert_eq!(EnvClass::of("eu-west-live"), EnvClass::Production);
        assert_eq!(EnvClass::of("staging"), EnvClass::Staging);
        assert_eq!(EnvClass::of("dev"), EnvClass::Development);
    }

    #[test]
    fn capacity_floor_and_last_instance() {
        let p = EnvPolicy::production();
        let four = Capacity::from_facts(Some("4"), None);
        assert_eq!(p.check_capacity("production", four, 1), Ok(()));
        assert_eq!(
            p.check_capacity("production", four, 2),
            Err("would leave 2 of 4 instances serving (50%); production keeps at least 75%".into())
        );
        let dev = EnvPolicy::development();
        let one = Capacity::from_facts(Some("3"), Some("1"));
        assert_eq!(
            dev.check_capacity("development", one, 1),
            Err("would take the last healthy instance out of service (1 healthy of 3, 1 out at once)".into())
        );
        assert!(p.check_capacity("production", None, 1).is_err());
        assert_eq!(dev.check_capacity("development", None, 1), Ok(()));
    }
}
