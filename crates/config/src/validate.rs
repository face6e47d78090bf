//! Semantic validation: rules the type system cannot express.
//!
//! A config can be well-typed yet dangerous (a canary that never reaches
//! 100 %, a lock that expires before it is renewed); these checks catch that
//! at load time, when the operator can still fix it calmly.

use super::error::{ConfigError, ErrorKind};
use super::locate::{locate, locate_best};
use super::schema::{Config, DeployBackend};

/// A key path such as `["deploy", "steps"]`.
type KeyPath = &'static [&'static str];

/// One violated rule, with the keys to point at (first written one wins).
pub(crate) struct Issue {
    paths: Vec<KeyPath>,
    message: String,
}

impl Issue {
    fn new(path: KeyPath, message: String) -> Self {
        Issue {
            paths: vec![path],
            message,
        }
    }

    /// Adds a key to point at when the primary one is not written in the
    /// file (e.g. its value came from the defaults).
    fn or_at(mut self, path: KeyPath) -> Self {
        self.paths.push(path);
        self
    }

    /// Turns the issue into an error positioned in the ORIGINAL text.
    pub(crate) fn into_error(self, original: &str) -> ConfigError {
        let pos = self
            .paths
            .iter()
            .find_map(|p| locate(original, p))
            .unwrap_or_else(|| locate_best(original, self.paths[0]));
        ConfigError::at(pos, ErrorKind::Invalid, self.message)
    }
}

fn dotted(path: KeyPath) -> String {
    path.join(".")
}

/// The first violated rule, in schema order.
pub(crate) fn validate(cfg: &Config) -> Result<(), Issue> {
    let checks: [fn(&Config) -> Option<Issue>; 9] = [
        detection,
        locks,
        deploy_steps,
        deploy_script,
        gates,
        canary,
        verification,
        approval,
        misc,
    ];
    match checks.iter().find_map(|check| check(cfg)) {
        Some(issue) => Err(issue),
        None => Ok(()),
    }
}

/// `value` must be in [0, 1].
fn fraction(path: KeyPath, value: f64) -> Option<Issue> {
    within(path, value, 0.0, 1.0, "a fraction")
}

/// `value` must be in [0, 100].
fn percent(path: KeyPath, value: f64) -> Option<Issue> {
    within(path, value, 0.0, 100.0, "a percentage")
}

fn within(path: KeyPath, value: f64, lo: f64, hi: f64, what: &str) -> Option<Issue> {
    let ok = (lo..=hi).contains(&value);
    (!ok).then(|| {
        let msg = format!(
            "`{}` must be {what} in [{lo}, {hi}], got {value}",
            dotted(path)
        );
        Issue::new(path, msg)
    })
}

/// `value` must be strictly greater than zero.
fn positive(path: KeyPath, value: f64) -> Option<Issue> {
    (value.is_nan() || value <= 0.0).then(|| {
        let msg = format!("`{}` must be greater than 0, got {value}", dotted(path));
        Issue::new(path, msg)
    })
}

fn detection(cfg: &Config) -> Option<Issue> {
    let d = &cfg.detection;
    fraction(
        &["detection", "error_rate_threshold"],
        d.error_rate_threshold,
    )
    .or_else(|| {
        positive(
            &["detection", "latency_p99_threshold_ms"],
            d.latency_p99_threshold_ms,
        )
    })
    .or_else(|| positive(&["detection", "window_s"], d.window_s as f64))
    .or_else(|| positive(&["detection", "poll_interval_s"], d.poll_interval_s as f64))
}

fn locks(cfg: &Config) -> Option<Issue> {
    let l = &cfg.locks;
    (l.ttl_ms <= l.renew_every_ms)
        .then(|| {
            let msg = format!(
                "`locks.ttl_ms` ({}) must be greater than `locks.renew_every_ms` ({}), or the lock expires before it is renewed",
                l.ttl_ms, l.renew_every_ms
            );
            Issue::new(&["locks", "ttl_ms"], msg).or_at(&["locks", "renew_every_ms"])
        })
        .or_else(|| {
            (l.max_concurrent_operations == 0).then(|| {
                let msg = "`locks.max_concurrent_operations` must be at least 1, or every operation conflicts with the limit and waits for a human".to_string();
                Issue::new(&["locks", "max_concurrent_operations"], msg)
            })
        })
}

const STEPS: KeyPath = &["deploy", "steps"];

fn deploy_steps(cfg: &Config) -> Option<Issue> {
    let steps = &cfg.deploy.steps;
    let rule = "each be in 1..=100, strictly increasing, and end at 100";
    let problem = if let Some(bad) = steps.iter().find(|s| !(1..=100).contains(*s)) {
        Some(format!("contains {bad}"))
    } else if let Some(w) = steps.windows(2).find(|w| w[0] >= w[1]) {
        Some(format!(
            "is not strictly increasing ({} then {})",
            w[0], w[1]
        ))
    } else if steps.last() != Some(&100) {
        Some("does not end at 100".to_string())
    } else {
        None
    };
    problem.map(|p| Issue::new(STEPS, format!("`deploy.steps` {p}; steps must {rule}")))
}

fn deploy_script(cfg: &Config) -> Option<Issue> {
    let d = &cfg.deploy;
    let blank = |s: &Option<String>| s.as_deref().is_none_or(|s| s.trim().is_empty());
    let c = &d.commands;
    let uncovered: Vec<&str> = [
        ("shift", &c.shift),
        ("promote", &c.promote),
        ("rollback", &c.rollback),
    ]
    .into_iter()
    .filter(|(_, cmd)| blank(cmd))
    .map(|(action, _)| action)
    .collect();
    let missing = blank(&d.script) && !uncovered.is_empty();
    if d.backend == DeployBackend::Script && missing {
        let msg = format!(
            "`deploy.backend: script` requires `deploy.script` (the command to run for each step) or `deploy.commands` for every action (missing: {})",
            uncovered.join(", ")
        );
        return Some(Issue::new(&["deploy", "script"], msg).or_at(&["deploy", "backend"]));
    }
    (d.step_timeout_s == 0).then(|| {
        let msg =
            "`deploy.step_timeout_s` must be at least 1: every deploy command needs a deadline"
                .to_string();
        Issue::new(&["deploy", "step_timeout_s"], msg)
    })
}

fn gates(cfg: &Config) -> Option<Issue> {
    let g = &cfg.gates;
    fraction(&["gates", "risk_max"], g.risk_max)
        .or_else(|| percent(&["gates", "max_error_budget_pct"], g.max_error_budget_pct))
        .or_else(|| percent(&["gates", "max_blast_radius_pct"], g.max_blast_radius_pct))
        .or_else(|| {
            percent(
                &["gates", "min_capacity_headroom_pct"],
                g.min_capacity_headroom_pct,
            )
        })
}

fn canary(cfg: &Config) -> Option<Issue> {
    let c = &cfg.canary;
    fraction(&["canary", "max_error_rate"], c.max_error_rate)
        .or_else(|| positive(&["canary", "max_latency_p99_ms"], c.max_latency_p99_ms))
}

fn verification(cfg: &Config) -> Option<Issue> {
    let v = &cfg.verification;
    alpha(v.alpha)
        .or_else(|| percent(&["verification", "pass_score"], v.pass_score))
        .or_else(|| percent(&["verification", "marginal_score"], v.marginal_score))
        .or_else(|| scores(v.marginal_score, v.pass_score))
        .or_else(|| non_negative(&["verification", "tolerance"], v.tolerance))
}

fn alpha(value: f64) -> Option<Issue> {
    let ok = value > 0.0 && value < 1.0;
    (!ok).then(|| {
        let msg = format!("`verification.alpha` must be in (0, 1) exclusive, got {value}");
        Issue::new(&["verification", "alpha"], msg)
    })
}

fn scores(marginal: f64, pass: f64) -> Option<Issue> {
    (marginal > pass).then(|| {
        let msg = format!(
            "`verification.marginal_score` ({marginal}) must be <= `verification.pass_score` ({pass})"
        );
        Issue::new(&["verification", "marginal_score"], msg)
            .or_at(&["verification", "pass_score"])
    })
}

fn non_negative(path: KeyPath, value: f64) -> Option<Issue> {
    (value.is_nan() || value < 0.0).then(|| {
        let msg = format!("`{}` must be >= 0, got {value}", dotted(path));
        Issue::new(path, msg)
    })
}

fn approval(cfg: &Config) -> Option<Issue> {
    let a = &cfg.approval;
    fraction(
        &["approval", "criticality_threshold"],
        a.criticality_threshold,
    )
    .or_else(|| fraction(&["approval", "risk_manual_review"], a.risk_manual_review))
    .or_else(|| fraction(&["approval", "risk_canary"], a.risk_canary))
    .or_else(|| fraction(&["approval", "min_rca_confidence"], a.min_rca_confidence))
}

fn misc(cfg: &Config) -> Option<Issue> {
    tui_fps(cfg.tui.fps)
        .or_else(|| email_recipients(cfg))
        .or_else(|| notification_targets(cfg))
        .or_else(|| notification_delivery(cfg))
        .or_else(|| webhook_secrets(cfg))
        .or_else(|| auth(cfg))
}

/// Operators: unique names, exactly one way to know the token, and that way a hash or a
/// variable name, never the token itself.
fn auth(cfg: &Config) -> Option<Issue> {
    const AT: KeyPath = &["auth", "operators"];
    let mut seen = std::collections::BTreeSet::new();
    for (i, op) in cfg.auth.operators.iter().enumerate() {
        let who = if op.name.trim().is_empty() {
            format!("operator #{}", i + 1)
        } else {
            format!("operator `{}`", op.name)
        };
        let bad = |m: String| Some(Issue::new(AT, m));
        if op.name.trim().is_empty() || op.name.len() > 64 || op.name.chars().any(char::is_control)
        {
            return bad(format!("{who}: `name` must be 1..64 printable characters"));
        }
        if !seen.insert(op.name.as_str()) {
            return bad(format!(
                "{who} is listed twice: each identity must be unique"
            ));
        }
        if op.roles.is_empty() {
            return bad(format!(
                "{who}: `roles` is empty: give viewer, operator or approver"
            ));
        }
        let given = [
            op.token.is_some(),
            op.token_sha256.is_some(),
            op.token_env.is_some(),
        ]
        .iter()
        .filter(|x| **x)
        .count();
        if given != 1 {
            return bad(format!(
                "{who}: give exactly one of `token` (a ${{VAR}} reference), `token_sha256` (hex SHA-256 of the token) or `token_env` (the variable holding it)"
            ));
        }
        if let Some(h) = &op.token_sha256 {
            if h.len() != 64 || !h.chars().all(|c| c.is_ascii_hexdigit()) {
                // Never echo the value: it may be a token pasted by mistake.
                return bad(format!(
                    "{who}: `token_sha256` must be 64 hex digits (a SHA-256, not the token itself: `printf %s \"$TOKEN\" | sha256sum`)"
                ));
            }
        }
        if let Some(t) = &op.token {
            if t.len() < 16 {
                // Never echo the value.
                return bad(format!(
                    "{who}: `token` came out shorter than 16 characters (is its ${{VAR}} unset?); use a long random token"
                ));
            }
        }
        if let Some(v) = &op.token_env {
            if v.is_empty() || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return bad(format!(
                    "{who}: `token_env` is the NAME of an environment variable (letters, digits, _), not the token"
                ));
            }
        }
        if let Some(c) = op.max_criticality {
            if !(0.0..=1.0).contains(&c) {
                return bad(format!(
                    "{who}: `max_criticality` must be in [0, 1], got {c}"
                ));
            }
        }
    }
    None
}

/// An inbound webhook with an empty secret would accept an HMAC anyone can compute (the key is
/// ""), so a provider section whose secret came out empty — typically an unset `${VAR}` — is
/// refused at load time, at the key.
fn webhook_secrets(cfg: &Config) -> Option<Issue> {
    let w = &cfg.webhooks;
    let secrets: [(KeyPath, Option<&str>); 6] = [
        (
            &["webhooks", "github", "secret"],
            w.github.as_ref().map(|c| c.secret.as_str()),
        ),
        (
            &["webhooks", "gitlab", "token"],
            w.gitlab.as_ref().map(|c| c.token.as_str()),
        ),
        (
            &["webhooks", "jenkins", "secret"],
            w.jenkins.as_ref().map(|c| c.secret.as_str()),
        ),
        (
            &["webhooks", "azure", "secret"],
            w.azure.as_ref().map(|c| c.secret.as_str()),
        ),
        (
            &["webhooks", "circleci", "secret"],
            w.circleci.as_ref().map(|c| c.secret.as_str()),
        ),
        (
            &["webhooks", "generic", "secret"],
            w.generic.as_ref().map(|c| c.secret.as_str()),
        ),
    ];
    secrets
        .into_iter()
        .find(|(_, v)| v.is_some_and(|s| s.trim().is_empty()))
        .map(|(path, _)| {
            let msg = format!(
                "`{}` is empty: anyone could sign deliveries with an empty key; set it (is its ${{VAR}} unset?) or remove the section",
                dotted(path)
            );
            Issue::new(path, msg)
        })
}

fn tui_fps(fps: u32) -> Option<Issue> {
    (!(1..=120).contains(&fps)).then(|| {
        let msg = format!("`tui.fps` must be in 1..=120, got {fps}");
        Issue::new(&["tui", "fps"], msg)
    })
}

fn email_recipients(cfg: &Config) -> Option<Issue> {
    let email = cfg.notifications.email.as_ref()?;
    email.to.is_empty().then(|| {
        let msg = "`notifications.email.to` must list at least one recipient".to_string();
        Issue::new(&["notifications", "email", "to"], msg).or_at(&["notifications", "email"])
    })
}

/// A configured channel with nowhere to send is a typo or an unset variable (`${VAR:-}`); say so
/// at load time instead of failing every delivery during an incident.
fn notification_targets(cfg: &Config) -> Option<Issue> {
    let n = &cfg.notifications;
    let blank = |s: &str| s.trim().is_empty();
    let empty = |path: KeyPath, section: KeyPath, what: &str| {
        let msg = format!("`{}` is empty: {what}", dotted(path));
        Some(Issue::new(path, msg).or_at(section))
    };
    const SLACK: KeyPath = &["notifications", "slack"];
    const PD: KeyPath = &["notifications", "pagerduty"];
    const TEAMS: KeyPath = &["notifications", "teams"];
    const EMAIL: KeyPath = &["notifications", "email"];
    const HOOK: KeyPath = &["notifications", "webhook"];
    if n.slack.as_ref().is_some_and(|c| blank(&c.webhook_url)) {
        return empty(
            &["notifications", "slack", "webhook_url"],
            SLACK,
            "set the Slack incoming-webhook URL, or remove the section",
        );
    }
    if let Some(pd) = &n.pagerduty {
        if blank(&pd.routing_key) {
            return empty(
                &["notifications", "pagerduty", "routing_key"],
                PD,
                "set the integration's routing key, or remove the section",
            );
        }
        if blank(&pd.api_url) {
            return empty(
                &["notifications", "pagerduty", "api_url"],
                PD,
                "leave it out for PagerDuty's default endpoint",
            );
        }
    }
    if n.teams.as_ref().is_some_and(|c| blank(&c.webhook_url)) {
        return empty(
            &["notifications", "teams", "webhook_url"],
            TEAMS,
            "set the Teams workflow's webhook URL, or remove the section",
        );
    }
    if let Some(e) = &n.email {
        if blank(&e.smtp_host) {
            return empty(
                &["notifications", "email", "smtp_host"],
                EMAIL,
                "set the SMTP relay's host name",
            );
        }
        if blank(&e.from) {
            return empty(
                &["notifications", "email", "from"],
                EMAIL,
                "set the sender address",
            );
        }
        if e.to.iter().any(|t| blank(t)) {
            return empty(
                &["notifications", "email", "to"],
                EMAIL,
                "one of the recipients is blank",
            );
        }
    }
    if n.webhook.as_ref().is_some_and(|c| blank(&c.url)) {
        return empty(
            &["notifications", "webhook", "url"],
            HOOK,
            "set the receiver's URL, or remove the section",
        );
    }
    None
}

fn notification_delivery(cfg: &Config) -> Option<Issue> {
    let n = &cfg.notifications;
    let at_least_one = |path: KeyPath, value: u64, why: &str| {
        (value == 0).then(|| {
            let msg = format!("`{}` must be at least 1: {why}", dotted(path));
            Issue::new(path, msg)
        })
    };
    at_least_one(
        &["notifications", "attempts"],
        n.attempts.into(),
        "the first attempt counts",
    )
    .or_else(|| {
        at_least_one(
            &["notifications", "timeout_ms"],
            n.timeout_ms,
            "every delivery needs a deadline",
        )
    })
    .or_else(|| {
        at_least_one(
            &["notifications", "queue_size"],
            n.queue_size as u64,
            "a channel with no queue could send nothing",
        )
    })
    .or_else(|| {
        (n.max_backoff_ms < n.backoff_ms).then(|| {
            let msg = format!(
                "`notifications.max_backoff_ms` ({}) must be >= `notifications.backoff_ms` ({})",
                n.max_backoff_ms, n.backoff_ms
            );
            Issue::new(&["notifications", "max_backoff_ms"], msg)
                .or_at(&["notifications", "backoff_ms"])
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        assert!(validate(&Config::default()).is_ok());
    }

    #[test]
    fn at_least_one_concurrent_operation() {
        let mut cfg = Config::default();
        cfg.locks.max_concurrent_operations = 0;
        let issue = validate(&cfg).expect_err("0 is rejected");
        assert!(issue.message.contains("max_concurrent_operations"));
        cfg.locks.max_concurrent_operations = 1;
        assert!(validate(&cfg).is_ok());
    }

    #[test]
    fn steps_rules() {
        let mut cfg = Config::default();
        for bad in [
            vec![10, 5, 100],
            vec![10, 50],
            vec![0, 100],
            vec![],
            vec![50, 101],
        ] {
            cfg.deploy.steps = bad.clone();
            assert!(validate(&cfg).is_err(), "{bad:?} should be rejected");
        }
        cfg.deploy.steps = vec![100];
        assert!(validate(&cfg).is_ok());
    }
}
