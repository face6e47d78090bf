//! Who is asking, and may they: bearer tokens to identities, identities to roles and allow-lists.
//!
//! Tokens are never kept: the configuration holds SHA-256 hashes (or names a variable whose
//! token is hashed at start and dropped), and a presented token is hashed and compared with every
//! operator's hash in constant time, so neither timing nor a leaked config gives a token away.
//! Nothing here logs or formats a token.

use ccp_config::{AuthConfig, Role};
use sha2::{Digest, Sha256};

/// An authenticated operator.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    /// The name recorded in the audit log.
    pub name: String,
    /// What they may do.
    pub role: Role,
    /// Services they may act on; empty = all.
    pub services: Vec<String>,
    /// Highest criticality they may act on.
    pub max_criticality: Option<f64>,
}

impl Identity {
    /// Whether this identity may act on `service` of `criticality` (unknown criticality counts
    /// as the highest, so an allow-list by criticality fails closed).
    pub fn may_act_on(&self, service: &str, criticality: Option<f64>) -> Result<(), String> {
        if !self.services.is_empty() && !self.services.iter().any(|s| s == service || s == "*") {
            return Err(format!(
                "{} may act on {} only, not {service}",
                self.name,
                self.services.join(", ")
            ));
        }
        if let Some(max) = self.max_criticality {
            let c = criticality.unwrap_or(1.0);
            if c > max {
                return Err(format!(
                    "{} may act on services of criticality up to {max:.2}; {service} is {c:.2}",
                    self.name
                ));
            }
        }
        Ok(())
    }
}

/// Why a request was not let through; the HTTP status follows from it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Denied {
    /// No token, or one nobody holds: 401.
    #[error("{0}")]
    Unauthenticated(String),
    /// A known identity without the role or outside its allow-list: 403.
    #[error("{0}")]
    Forbidden(String),
}

struct Entry {
    hash: [u8; 32],
    who: Identity,
}

/// The operators of one service.
pub struct Authorizer {
    entries: Vec<Entry>,
    /// Who commands from loopback are recorded as when no operator is configured.
    local_user: String,
}

/// What went wrong reading the operators at start.
#[derive(Debug, thiserror::Error)]
pub enum AuthSetupError {
    /// `token_env` names a variable that is unset or empty.
    #[error("auth: operator `{name}`: environment variable {var} (token_env) is unset or empty")]
    MissingEnv {
        /// Operator.
        name: String,
        /// Variable name (never its value).
        var: String,
    },
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

fn hex32(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Equal in time independent of where the inputs differ.
fn ct_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b.iter()) {
        diff |= x ^ y;
    }
    std::hint::black_box(diff) == 0
}

impl Authorizer {
    /// From configuration; `local_user` is who loopback commands are recorded as when no
    /// operator is configured; `env` looks up `token_env` variables.
    pub fn new(
        cfg: &AuthConfig,
        local_user: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, AuthSetupError> {
        let mut entries = Vec::new();
        for op in &cfg.operators {
            let hash = match (&op.token_sha256, &op.token_env) {
                _ if op.token.is_some() => match &op.token {
                    Some(t) if !t.is_empty() => sha256(t.as_bytes()),
                    _ => continue,
                },
                (Some(h), _) => match hex32(&h.to_ascii_lowercase()) {
                    Some(x) => x,
                    // Validation refuses this at load; never match anything if it slips through.
                    None => continue,
                },
                (None, Some(var)) => match env(var) {
                    Some(t) if !t.is_empty() => sha256(t.as_bytes()),
                    _ => {
                        return Err(AuthSetupError::MissingEnv {
                            name: op.name.clone(),
                            var: var.clone(),
                        })
                    }
                },
                (None, None) => continue,
            };
            entries.push(Entry {
                hash,
                who: Identity {
                    name: op.name.clone(),
                    role: op.role(),
                    services: op.services.clone(),
                    max_criticality: op.max_criticality,
                },
            });
        }
        Ok(Self {
            entries,
            local_user: local_user.to_string(),
        })
    }

    /// Whether any operator is configured (otherwise reads are open and commands refused).
    pub fn enabled(&self) -> bool {
        !self.entries.is_empty()
    }

    /// The identity behind an `Authorization` header value, checked against every operator
    /// (no early exit, so the time taken does not say which one matched).
    pub fn identify(&self, authorization: Option<&str>) -> Result<Identity, Denied> {
        let Some(h) = authorization else {
            return Err(Denied::Unauthenticated(
                "missing `Authorization: Bearer <token>`".into(),
            ));
        };
        let token = h
            .strip_prefix("Bearer ")
            .or_else(|| h.strip_prefix("bearer "))
            .map(str::trim)
            .unwrap_or("");
        if token.is_empty() {
            return Err(Denied::Unauthenticated(
                "the Authorization header must be `Bearer <token>`".into(),
            ));
        }
        let presented = sha256(token.as_bytes());
        let mut found: Option<&Identity> = None;
        for e in &self.entries {
            if ct_eq(&presented, &e.hash) && found.is_none() {
                found = Some(&e.who);
            }
        }
        found
            .cloned()
            .ok_or_else(|| Denied::Unauthenticated("unknown or revoked token".into()))
    }

    /// Identify and require at least `role`. Without configured operators the service is a
    /// single user's: reads are open, and commands are taken from loopback peers only, as the
    /// local user (`actor` or `$USER`), as the embedded cockpit records them.
    pub fn require(
        &self,
        authorization: Option<&str>,
        peer: Option<std::net::SocketAddr>,
        role: Role,
    ) -> Result<Option<Identity>, Denied> {
        if !self.enabled() {
            if role == Role::Viewer {
                return Ok(None);
            }
            return if peer.is_some_and(|p| p.ip().is_loopback()) {
                Ok(Some(Identity {
                    name: self.local_user.clone(),
                    role: Role::Approver,
                    services: Vec::new(),
                    max_criticality: None,
                }))
            } else {
                Err(Denied::Unauthenticated(
                    "no operators are configured, so commands are taken from loopback only: configure auth.operators".into(),
                ))
            };
        }
        let who = self.identify(authorization)?;
        if who.role < role {
            return Err(Denied::Forbidden(format!(
                "{} is a {}; this needs the {} role",
                who.name,
                role_name(who.role),
                role_name(role)
            )));
        }
        Ok(Some(who))
    }
}

/// The role's name as configured.
pub fn role_name(r: Role) -> &'static str {
    match r {
        Role::Viewer => "viewer",
        Role::Operator => "operator",
        Role::Approver => "approver",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ccp_config::OperatorConfig;

    fn op(name: &str, role: Role, token: &str) -> OperatorConfig {
        OperatorConfig {
            name: name.into(),
            roles: vec![role],
            token: None,
            token_sha256: Some(
                sha256(token.as_bytes())
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect(),
            ),
            token_env: None,
            services: Vec::new(),
            max_criticality: None,
        }
    }

    fn authz() -> Authorizer {
        let mut viewer = op("vic", Role::Viewer, "v-token");
        viewer.services = vec!["api".into()];
        let mut pay = op("pat", Role::Approver, "p-token");
        pay.services = vec!["payment-service".into()];
        let mut env_op = op("eve", Role::Operator, "");
        env_op.token_sha256 = None;
        env_op.token_env = Some("EVE_TOKEN".into());
        Authorizer::new(
            &AuthConfig {
                operators: vec![op("alice", Role::Approver, "a-token"), viewer, pay, env_op],
                ..AuthConfig::default()
            },
            "local",
            &|v| (v == "EVE_TOKEN").then(|| "e-token".to_string()),
        )
        .expect("operators")
    }

    #[test]
    fn tokens_map_to_identities_and_roles_are_ordered() {
        let a = authz();
        let alice = a.identify(Some("Bearer a-token")).expect("alice");
        assert_eq!(alice.name, "alice");
        assert_eq!(
            a.identify(Some("Bearer e-token")).map(|i| i.name),
            Ok("eve".to_string())
        );
        assert!(matches!(a.identify(None), Err(Denied::Unauthenticated(_))));
        assert!(matches!(
            a.identify(Some("Bearer nope")),
            Err(Denied::Unauthenticated(_))
        ));
        assert!(matches!(
            a.identify(Some("Basic a-token")),
            Err(Denied::Unauthenticated(_))
        ));
        assert!(a
            .require(Some("Bearer a-token"), None, Role::Approver)
            .is_ok());
        let denied = a.require(Some("Bearer v-token"), None, Role::Approver);
        assert!(
            matches!(&denied, Err(Denied::Forbidden(m)) if m.contains("vic is a viewer")),
            "{denied:?}"
        );
        assert!(matches!(
            a.require(Some("Bearer e-token"), None, Role::Approver),
            Err(Denied::Forbidden(_))
        ));
        assert!(a
            .require(Some("Bearer e-token"), None, Role::Operator)
            .is_ok());
    }

    #[test]
    fn allow_lists_bind_identities_to_services_and_criticality() {
        let a = authz();
        let pat = a.identify(Some("Bearer p-token")).expect("pat");
        assert!(pat.may_act_on("payment-service", Some(0.9)).is_ok());
        let no = pat.may_act_on("api", Some(0.9)).expect_err("not api");
        assert!(no.contains("payment-service only"), "{no}");
        let mut capped = pat.clone();
        capped.services.clear();
        capped.max_criticality = Some(0.5);
        assert!(capped.may_act_on("catalog", Some(0.5)).is_ok());
        assert!(capped.may_act_on("api", Some(0.9)).is_err());
        assert!(
            capped.may_act_on("api", None).is_err(),
            "unknown criticality fails closed"
        );
    }

    #[test]
    fn without_operators_reads_are_open_and_commands_come_from_loopback_as_the_local_user() {
        let a = Authorizer::new(&AuthConfig::default(), "dana", &|_| None).expect("empty");
        assert_eq!(a.require(None, None, Role::Viewer), Ok(None));
        let local = a.require(None, "127.0.0.1:5000".parse().ok(), Role::Approver);
        assert_eq!(
            local.ok().flatten().map(|i| i.name),
            Some("dana".to_string())
        );
        assert!(matches!(
            a.require(
                Some("Bearer x"),
                "10.0.0.7:5000".parse().ok(),
                Role::Operator
            ),
            Err(Denied::Unauthenticated(_))
        ));
    }

    #[test]
    fn an_unset_token_variable_is_a_start_error_naming_the_variable_only() {
        let mut o = op("eve", Role::Operator, "");
        o.token_sha256 = None;
        o.token_env = Some("EVE_TOKEN".into());
        let err = Authorizer::new(
            &AuthConfig {
                operators: vec![o],
                ..AuthConfig::default()
            },
            "local",
            &|_| None,
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(err.contains("EVE_TOKEN") && err.contains("eve"), "{err}");
    }

    #[test]
    fn constant_time_compare_is_equality() {
        let x = sha256(b"a");
        let mut y = x;
        assert!(ct_eq(&x, &y));
        y[31] ^= 1;
        assert!(!ct_eq(&x, &y));
    }
}
