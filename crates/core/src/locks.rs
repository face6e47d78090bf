//! Lock scopes, resource names and the ordering rule SYSTEM → SERVICE → INCIDENT → DEPLOYMENT.
//! The rule lives in the core so every lock backend enforces it identically: acquiring out of
//! order is refused, which makes deadlock between well-behaved holders impossible.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Lock scope, ordered by the hierarchy (derive order = rank).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    System,
    Service,
    Incident,
    Deployment,
}

impl Scope {
    /// Contract spelling used in resource names and Redis keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::System => "system",
            Scope::Service => "service",
            Scope::Incident => "incident",
            Scope::Deployment => "deployment",
        }
    }
}

/// A lockable resource, written `<scope>:<name>` (e.g. `service:payment-service`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Resource {
    /// Scope.
    pub scope: Scope,
    /// Name within the scope.
    pub name: String,
}

impl Resource {
    /// Build from parts.
    pub fn new(scope: Scope, name: impl Into<String>) -> Self {
        Self {
            scope,
            name: name.into(),
        }
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.scope.as_str(), self.name)
    }
}

/// Why a resource string could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad lock resource `{0}`: write it as <scope>:<name> with scope one of system, service, incident, deployment (e.g. service:payment-service)")]
pub struct ResourceParseError(pub String);

impl FromStr for Resource {
    type Err = ResourceParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (scope, name) = s
            .split_once(':')
            .ok_or_else(|| ResourceParseError(s.to_string()))?;
        let scope = match scope {
            "system" => Scope::System,
            "service" => Scope::Service,
            "incident" => Scope::Incident,
            "deployment" => Scope::Deployment,
            _ => return Err(ResourceParseError(s.to_string())),
        };
        if name.is_empty() || name.chars().any(|c| c.is_whitespace()) {
            return Err(ResourceParseError(s.to_string()));
        }
        Ok(Resource::new(scope, name))
    }
}

/// A held lock as the holder sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockLease {
    /// What is locked.
    pub resource: Resource,
    /// The unique owner token (compare-and-delete uses it).
    pub token: String,
    /// Monotonic fencing token for this resource; deployers reject stale ones.
    pub fence: u64,
    /// How long acquisition waited.
    pub waited_ms: u64,
}

/// A lock as a listing shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    /// What is locked.
    pub resource: Resource,
    /// Owner token.
    pub token: String,
    /// Remaining time to live, ms.
    pub ttl_ms: u64,
}

/// The ordering rule: a holder may only take a lock that sorts after every lock it already holds —
/// by scope rank first, then by name within a scope (so two service locks are always taken
/// alphabetically). Returns the offending held resource when the request is out of order.
pub fn check_order<'a>(held: &'a [Resource], wanted: &Resource) -> Result<(), &'a Resource> {
    match held.iter().find(|h| *h >= wanted) {
        Some(h) => Err(h),
        None => Ok(()),
    }
}

/// The deployer's side of fencing: remember the highest token seen per target and refuse lower
/// ones. A holder that stalled past its TTL (GC pause, partition) still believes it holds the
/// lock; its stale token is what stops it from overwriting the new holder's rollout.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FenceGuard {
    highest: std::collections::HashMap<String, u64>,
}

/// A deploy step carried a token older than one already used on the same target.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stale fencing token {got} for {target} (already saw {seen}): another holder took over; refusing")]
pub struct StaleFence {
    /// Deploy target (service).
    pub target: String,
    /// Token presented.
    pub got: u64,
    /// Highest token already accepted.
    pub seen: u64,
}

impl FenceGuard {
    /// Accept `fence` for `target` if it is not older than any accepted before, and remember it.
    pub fn check(&mut self, target: &str, fence: u64) -> Result<(), StaleFence> {
        let seen = self.highest.get(target).copied().unwrap_or(0);
        if fence < seen {
            return Err(StaleFence {
                target: target.to_string(),
                got: fence,
                seen,
            });
        }
        self.highest.insert(target.to_string(), fence);
        Ok(())
    }
}

/// A lock request that breaks the ordering rule, worded for the operator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("refusing {wanted} while holding {held}: locks must be taken in the order system → service → incident → deployment (by name within a scope)")]
pub struct OutOfOrder {
    /// What was asked for.
    pub wanted: Resource,
    /// The held lock that sorts at or after it.
    pub held: Resource,
}

/// [`check_order`] as an error every lock backend reports with the same words.
pub fn require_order(held: &[Resource], wanted: &Resource) -> Result<(), OutOfOrder> {
    check_order(held, wanted).map_err(|h| OutOfOrder {
        wanted: wanted.clone(),
        held: h.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display_roundtrip() {
        let r: Resource = "service:payment-service".parse().expect("valid");
        assert_eq!(r.scope, Scope::Service);
        assert_eq!(r.to_string(), "service:payment-service");
        assert!("payment-service".parse::<Resource>().is_err());
        assert!("pod:x".parse::<Resource>().is_err());
        assert!("service:".parse::<Resource>().is_err());
    }

    #[test]
    fn fence_guard_refuses_older_tokens_per_target() {
        let mut g = FenceGuard::default();
        g.check("pay", 3).expect("first");
        g.check("pay", 3).expect("same holder again");
        g.check("users", 1).expect("other target");
        let e = g.check("pay", 2).expect_err("stale");
        assert_eq!((e.got, e.seen), (2, 3));
        assert!(e.to_string().contains("another holder took over"));
        g.check("pay", 4).expect("newer");
    }

    #[test]
    fn ordering_rule() {
        let sys = Resource::new(Scope::System, "fleet");
        let svc = Resource::new(Scope::Service, "a");
        let inc = Resource::new(Scope::Incident, "INC-1");
        assert!(check_order(&[], &svc).is_ok());
        assert!(check_order(std::slice::from_ref(&sys), &svc).is_ok());
        assert!(check_order(&[sys.clone(), svc.clone()], &inc).is_ok());
        assert_eq!(check_order(std::slice::from_ref(&inc), &svc), Err(&inc));
        let svc2 = Resource::new(Scope::Service, "b");
        assert!(check_order(std::slice::from_ref(&svc), &svc2).is_ok());
        assert_eq!(check_order(std::slice::from_ref(&svc2), &svc), Err(&svc2));
        assert_eq!(check_order(std::slice::from_ref(&svc), &svc), Err(&svc));
    }
}
