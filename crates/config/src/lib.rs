//! Configuration of the cockpit: schema, defaults, `${VAR}` substitution,
//! loading and validation.
//!
//! Operators edit this file under pressure, so every mistake is reported as
//! `file:line:col: message` pointing at the text they wrote (even after
//! `${VAR}` substitution changed line lengths), with "did you mean" hints for
//! typos. An empty file is a valid config equal to `Config::default()`.
//!
//! ```text
//! let cfg = crate::load_file(Path::new("config/ccp.yaml"))?;
//! ```

pub mod cicd_recovery;
mod depth;
mod error;
mod hint;
mod load;
mod locate;
mod schema;
mod subst;
mod validate;

pub use depth::{check_flow_depth, MAX_FLOW_DEPTH};
pub use error::{ConfigError, ErrorKind, Position};
pub use hint::levenshtein;
pub use load::{check_file, load_file, load_str, process_env, read_capped, MAX_YAML_BYTES};
pub use load::{invalid_at, load_yaml_str};
pub use schema::{
    AlertsConfig, ApprovalConfig, AuditConfig, CanaryConfig, Config, DeployBackend, DeployCommands,
    DeployConfig, DeployStrategy, DetectionConfig, EmailConfig, Environment, GatesConfig,
    GitlabWebhook, GraphBackend, GraphConfig, LockBackend, LocksConfig, LogsConfig, MetricsBackend,
    MetricsConfig, NotificationsConfig, PagerDutyConfig, RepoConfig, SignedWebhook, SlackConfig,
    TeamsConfig, TuiConfig, VerificationConfig, WebhookNotifyConfig, WebhookSecret, WebhooksConfig,
};
pub use schema::{AuthConfig, CheckScope, GateCommands, OperatorConfig, Role, TwoPersonRule};
pub use subst::{substitute, EnvLookup, Substituted};
