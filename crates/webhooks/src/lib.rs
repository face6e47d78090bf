//! CI/CD webhooks: authenticate a delivery from GitHub, GitLab, Jenkins, Azure DevOps, CircleCI or
//! any signed sender, and turn its payload into one [`CiEvent`], so that a failed pipeline or
//! deployment can become a recovery case next to the incidents ccp already handles.
//!
//! Everything here is pure (headers and bytes in, a value or an error out); the HTTP side is
//! the HTTP front-end (`ccp-http`). A delivery is authenticated before its body is even parsed, and
//! parsed completely before anyone is told about it, so a forged, malformed or half-understood
//! delivery has no effect.
//!
//! | provider  | authentication                                                   |
//! |-----------|------------------------------------------------------------------|
//! | github    | `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>`    |
//! | gitlab    | `X-Gitlab-Token: <token>`                                        |
//! | jenkins   | `X-Jenkins-Signature` (configurable): `[sha256=]<hex HMAC>`      |
//! | azure     | `Authorization: Basic base64(<any user>:<secret>)`               |
//! | circleci  | `circleci-signature: v1=<hex HMAC>[,v2=…]`                       |
//! | generic   | `X-Signature-256` (configurable): `[sha256=]<hex HMAC>`          |

pub mod alertmanager;
mod auth;
mod azure;
mod circleci;
mod fields;
mod generic;
mod github;
mod gitlab;
mod jenkins;

pub use auth::sign_sha256_hex;

use ccp_config::WebhooksConfig;
use http::HeaderMap;
use serde::Serialize;
use std::fmt;

/// Where a delivery came from; also the last segment of its URL (`/webhooks/<name>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// GitHub (Actions runs, checks, deployments).
    Github,
    /// GitLab (pipelines, jobs, deployments).
    Gitlab,
    /// Jenkins, through the Notification plugin's JSON.
    Jenkins,
    /// Azure DevOps service hooks (builds, pipeline runs, releases).
    Azure,
    /// CircleCI outbound webhooks (workflows, jobs).
    Circleci,
    /// Any other CI posting ccp's generic JSON.
    Generic,
}

impl Provider {
    /// Every provider, in the order their routes are mounted.
    pub const ALL: [Provider; 6] = [
        Provider::Github,
        Provider::Gitlab,
        Provider::Jenkins,
        Provider::Azure,
        Provider::Circleci,
        Provider::Generic,
    ];

    /// The name used in URLs and in `webhooks.<name>` in the configuration.
    pub fn name(self) -> &'static str {
        match self {
            Provider::Github => "github",
            Provider::Gitlab => "gitlab",
            Provider::Jenkins => "jenkins",
            Provider::Azure => "azure",
            Provider::Circleci => "circleci",
            Provider::Generic => "generic",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Provider::Github => "GitHub",
            Provider::Gitlab => "GitLab",
            Provider::Jenkins => "Jenkins",
            Provider::Azure => "Azure DevOps",
            Provider::Circleci => "CircleCI",
            Provider::Generic => "CI",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a delivery means for ccp: only the two `…Failed` kinds call for a recovery case; the
/// successes let a case see its fix go green; everything else (started, cancelled, a ping) is
/// `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CiEventKind {
    /// A pipeline, workflow, build, stage or job finished in failure.
    PipelineFailed,
    /// A deployment to an environment failed.
    DeploymentFailed,
    /// A whole pipeline / workflow / build finished successfully.
    PipelineSucceeded,
    /// A deployment to an environment succeeded.
    DeploymentSucceeded,
    /// Anything else: in progress, cancelled, skipped, a ping, an event ccp does not use.
    Other,
}

impl CiEventKind {
    /// True for the kinds that can open a recovery case.
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            CiEventKind::PipelineFailed | CiEventKind::DeploymentFailed
        )
    }
}

/// One authenticated CI/CD delivery, reduced to what a recovery case needs. Strings come from the
/// sender: control characters are replaced and lengths capped, so they are safe to show in a
/// terminal, but they are not trusted otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CiEvent {
    /// Who sent it.
    pub provider: Provider,
    /// What it means for ccp.
    pub kind: CiEventKind,
    /// The provider's own event name (`workflow_run`, `Pipeline Hook`, `build.complete`, …).
    pub event: String,
    /// The provider's own status word (`failure`, `failed`, `FAILURE`, `rejected`, …), kept for
    /// display and audit.
    pub status: String,
    /// Repository or pipeline (`octo-org/octo-repo`, `gitlab-org/gitlab-test`, a Jenkins job
    /// name). Never empty for a failure or success; may be empty for `Other`.
    pub project: String,
    /// The provider's id of the run (pipeline id, build number, workflow run id, release id).
    pub run_id: Option<String>,
    /// Branch or ref (`refs/heads/` and Jenkins' `origin/` stripped).
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
    /// Commit SHA the run built or deployed.
    pub commit: Option<String>,
    /// A human-facing link to the run, job or deployment.
    pub url: Option<String>,
    /// Target environment of a deployment.
    pub environment: Option<String>,
    /// Failed jobs, when the payload names them.
    pub failed_jobs: Vec<String>,
    /// The (earliest) failed stage, when the payload names it.
    pub failed_stage: Option<String>,
    /// Which attempt of the run (GitHub's `run_attempt`): a re-run is a new failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt: Option<String>,
    /// The provider's delivery or event id. Some providers send it in a header their signature
    /// does not cover, so it only names a delivery; [`CiEvent::replay_key`] decides sameness.
    pub delivery_id: Option<String>,
    /// One line for a human: what happened where.
    pub summary: String,
}

impl CiEvent {
    /// What makes two deliveries the same event, from the signed body alone: provider, project,
    /// run, attempt, kind and status (not the provider's event name: Jenkins reports one build
    /// as `COMPLETED` and again as `FINALIZED`). A captured delivery replayed with a fresh (unsigned)
    /// delivery header has the same key, so it opens nothing new. Without a run id the commit
    /// stands in, and without either the delivery id.
    pub fn replay_key(&self) -> String {
        let run = match (&self.run_id, &self.commit) {
            (Some(run), _) => format!("run {run}"),
            (None, Some(commit)) => format!("commit {commit}"),
            (None, None) => format!("delivery {}", self.delivery_id.as_deref().unwrap_or("?")),
        };
        format!(
            "{}/{}/{run}/attempt {}/{:?}/{}",
            self.provider.name(),
            self.project,
            self.attempt.as_deref().unwrap_or("1"),
            self.kind,
            self.status
        )
    }
}

/// Why a delivery was refused. `is_unauthorized()` tells 401 (not from the configured sender)
/// from 400 (from it, but not understood).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// The signature or token header is absent.
    #[error("missing `{0}` header")]
    MissingCredential(String),
    /// The header is there but not in the provider's format.
    #[error("`{header}` header is malformed: {why}")]
    MalformedCredential {
        /// Header name.
        header: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// Well-formed, but not made with the configured secret.
    #[error("`{0}` does not match the configured secret")]
    Mismatch(String),
    /// Authenticated, but the body is not a payload this provider sends.
    #[error("not a {provider} webhook payload: {why}")]
    Malformed {
        /// Provider name.
        provider: &'static str,
        /// What is missing or wrong.
        why: String,
    },
}

impl WebhookError {
    /// True when the delivery could not be authenticated (answer 401), false when it was
    /// authenticated but its body is unusable (answer 400).
    pub fn is_unauthorized(&self) -> bool {
        !matches!(self, WebhookError::Malformed { .. })
    }

    fn malformed(provider: Provider, why: impl Into<String>) -> Self {
        WebhookError::Malformed {
            provider: provider.name(),
            why: why.into(),
        }
    }
}

/// Why a provider's receiver cannot be built from the configuration; the server answers 404 with
/// this message, so an operator sees which key to set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotConfigured {
    /// `webhooks.<provider>` is absent or null.
    #[error("the {0} webhook is not configured (set webhooks.{0} in the configuration)")]
    Absent(&'static str),
    /// The secret is empty, which would make every forged signature valid.
    #[error("webhooks.{0}.{1} is empty; refusing deliveries that anyone could forge")]
    EmptySecret(&'static str, &'static str),
    /// The configured header name cannot be an HTTP header.
    #[error("webhooks.{0}.header `{1}` is not a valid HTTP header name")]
    BadHeader(&'static str, String),
}

/// Default signature header for Jenkins deliveries (Jenkins has no native signing; a pipeline
/// step computes the HMAC and sends it here).
pub const JENKINS_DEFAULT_HEADER: &str = "X-Jenkins-Signature";
/// Default signature header for the generic receiver.
pub const GENERIC_DEFAULT_HEADER: &str = "X-Signature-256";

#[derive(Clone)]
enum Auth {
    /// `header: sha256=<hex>`, prefix required (GitHub).
    HmacPrefixed { header: String, secret: Vec<u8> },
    /// `header: [sha256=]<hex>` (Jenkins, generic).
    HmacOptionalPrefix { header: String, secret: Vec<u8> },
    /// `circleci-signature: v1=<hex>,…`.
    HmacVersioned { header: String, secret: Vec<u8> },
    /// `header: <token>` (GitLab).
    Token { header: String, token: Vec<u8> },
    /// `Authorization: Basic base64(user:secret)` (Azure DevOps).
    Basic { password: Vec<u8> },
}

/// A configured provider: checks deliveries against its secret and parses their payloads. Its
/// `Debug` output never shows the secret.
#[derive(Clone)]
pub struct Receiver {
    provider: Provider,
    auth: Auth,
}

impl fmt::Debug for Receiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("provider", &self.provider)
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl Receiver {
    /// The receiver for `provider` as configured in `cfg`, or why there is none.
    pub fn from_config(provider: Provider, cfg: &WebhooksConfig) -> Result<Self, NotConfigured> {
        let name = provider.name();
        let absent = NotConfigured::Absent(name);
        let secret = |s: &str, key: &'static str| {
            if s.is_empty() {
                Err(NotConfigured::EmptySecret(name, key))
            } else {
                Ok(s.as_bytes().to_vec())
            }
        };
        let header = |configured: &Option<String>, default: &str| {
            let h = configured.as_deref().unwrap_or(default).trim().to_string();
            match http::HeaderName::from_bytes(h.as_bytes()) {
                Ok(_) => Ok(h),
                Err(_) => Err(NotConfigured::BadHeader(name, h)),
            }
        };
        let auth = match provider {
            Provider::Github => {
                let c = cfg.github.as_ref().ok_or(absent)?;
                Auth::HmacPrefixed {
                    header: "X-Hub-Signature-256".into(),
                    secret: secret(&c.secret, "secret")?,
                }
            }
            Provider::Gitlab => {
                let c = cfg.gitlab.as_ref().ok_or(absent)?;
                Auth::Token {
                    header: "X-Gitlab-Token".into(),
                    token: secret(&c.token, "token")?,
                }
            }
            Provider::Jenkins => {
                let c = cfg.jenkins.as_ref().ok_or(absent)?;
                Auth::HmacOptionalPrefix {
                    header: header(&c.header, JENKINS_DEFAULT_HEADER)?,
                    secret: secret(&c.secret, "secret")?,
                }
            }
            Provider::Azure => {
                let c = cfg.azure.as_ref().ok_or(absent)?;
                Auth::Basic {
                    password: secret(&c.secret, "secret")?,
                }
            }
            Provider::Circleci => {
                let c = cfg.circleci.as_ref().ok_or(absent)?;
                Auth::HmacVersioned {
                    header: "circleci-signature".into(),
                    secret: secret(&c.secret, "secret")?,
                }
            }
            Provider::Generic => {
                let c = cfg.generic.as_ref().ok_or(absent)?;
                Auth::HmacOptionalPrefix {
                    header: header(&c.header, GENERIC_DEFAULT_HEADER)?,
                    secret: secret(&c.secret, "secret")?,
                }
            }
        };
        Ok(Receiver { provider, auth })
    }

    /// Which provider this receiver serves.
    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// Authenticate, then parse: the whole check a delivery must pass before it is recorded.
    pub fn receive(&self, headers: &HeaderMap, body: &[u8]) -> Result<CiEvent, WebhookError> {
        self.authenticate(headers, body)?;
        self.parse(headers, body)
    }

    /// Check that the delivery was made with the configured secret, before its body is parsed.
    pub fn authenticate(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), WebhookError> {
        match &self.auth {
            Auth::HmacPrefixed { header, secret } => {
                let value = header_value(headers, header)?;
                let hex = value.strip_prefix("sha256=").ok_or_else(|| {
                    WebhookError::MalformedCredential {
                        header: header.clone(),
                        why: "expected `sha256=<hex>`",
                    }
                })?;
                check_hmac(secret, body, hex, header)
            }
            Auth::HmacOptionalPrefix { header, secret } => {
                let value = header_value(headers, header)?;
                let hex = value.strip_prefix("sha256=").unwrap_or(value);
                check_hmac(secret, body, hex, header)
            }
            Auth::HmacVersioned { header, secret } => {
                let value = header_value(headers, header)?;
                // Only v1 exists today; checking only it (never an older scheme) is what CircleCI
                // asks receivers to do against downgrade attacks.
                let v1: Vec<&str> = value
                    .split(',')
                    .filter_map(|part| part.trim().strip_prefix("v1="))
                    .collect();
                if v1.is_empty() {
                    return Err(WebhookError::MalformedCredential {
                        header: header.clone(),
                        why: "no `v1=<hex>` signature",
                    });
                }
                if v1.iter().any(|sig| auth::hmac_matches(secret, body, sig)) {
                    Ok(())
                } else {
                    Err(WebhookError::Mismatch(header.clone()))
                }
            }
            Auth::Token { header, token } => {
                let value = header_value(headers, header)?;
                if auth::secrets_equal(value.as_bytes(), token) {
                    Ok(())
                } else {
                    Err(WebhookError::Mismatch(header.clone()))
                }
            }
            Auth::Basic { password } => {
                let value = header_value(headers, "Authorization")?;
                let given = auth::basic_password(value).ok_or_else(|| {
                    WebhookError::MalformedCredential {
                        header: "Authorization".into(),
                        why: "expected `Basic base64(user:password)`",
                    }
                })?;
                if auth::secrets_equal(&given, password) {
                    Ok(())
                } else {
                    Err(WebhookError::Mismatch("Authorization".into()))
                }
            }
        }
    }

    /// Parse an (already authenticated) delivery into its [`CiEvent`].
    pub fn parse(&self, headers: &HeaderMap, body: &[u8]) -> Result<CiEvent, WebhookError> {
        let p = self.provider;
        let json: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
            // GitHub can be set to post `payload=<urlencoded JSON>`; say how to fix it.
            let why = if body.starts_with(b"payload=") {
                "form-encoded body; set the webhook's content type to application/json".into()
            } else {
                format!("invalid JSON: {e}")
            };
            WebhookError::malformed(p, why)
        })?;
        if !json.is_object() {
            return Err(WebhookError::malformed(p, "the body is not a JSON object"));
        }
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(fields::clean)
                .filter(|s| !s.is_empty())
        };
        let parsed = match p {
            Provider::Github => {
                let event = header("X-GitHub-Event")
                    .ok_or_else(|| WebhookError::malformed(p, "missing `X-GitHub-Event` header"))?;
                github::parse(&event, &json, header("X-GitHub-Delivery"))
            }
            Provider::Gitlab => gitlab::parse(
                header("X-Gitlab-Event"),
                &json,
                header("X-Gitlab-Event-UUID"),
            ),
            Provider::Jenkins => jenkins::parse(&json),
            Provider::Azure => azure::parse(&json),
            Provider::Circleci => circleci::parse(header("circleci-event-type"), &json),
            Provider::Generic => generic::parse(&json),
        };
        let event = parsed.map_err(|why| WebhookError::malformed(p, why))?;
        if event.kind != CiEventKind::Other && event.project.is_empty() {
            return Err(WebhookError::malformed(p, "the payload names no project"));
        }
        Ok(event)
    }
}

fn header_value<'h>(headers: &'h HeaderMap, name: &str) -> Result<&'h str, WebhookError> {
    let value = headers
        .get(name)
        .ok_or_else(|| WebhookError::MissingCredential(name.to_string()))?;
    value
        .to_str()
        .map(str::trim)
        .map_err(|_| WebhookError::MalformedCredential {
            header: name.to_string(),
            why: "not visible ASCII",
        })
}

fn check_hmac(secret: &[u8], body: &[u8], hex: &str, header: &str) -> Result<(), WebhookError> {
    if auth::hmac_matches(secret, body, hex) {
        Ok(())
    } else {
        Err(WebhookError::Mismatch(header.to_string()))
    }
}

#[cfg(test)]
mod tests;
