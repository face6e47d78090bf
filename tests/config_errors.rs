//! Config loading: defaults, `${VAR}` substitution and error positions.
//!
//! Operators rely on `file:line:col` to fix a broken config mid-incident, so
//! these tests pin the exact positions, including after substitutions that
//! change line lengths.

use std::io::Write;
use std::path::Path;

use ccp_config::{
    check_file, load_file, load_str, substitute, Config, ConfigError, DeployBackend,
    DeployStrategy, Environment, ErrorKind, GraphBackend, Position,
};

/// A hermetic environment: only these variables exist.
fn env(name: &str) -> Option<String> {
    let value = match name {
        "A" => "alpha",
        "HOST" => "db.internal.example.com",
        "EMPTY" => "",
        "LAT" => "1234567.5",
        "LONG" => "a-much-longer-value-than-the-reference",
        _ => return None,
    };
    Some(value.to_string())
}

fn no_env(_: &str) -> Option<String> {
    None
}

fn load(text: &str) -> Result<Config, ConfigError> {
    load_str(text, "ccp.yaml", &env)
}

fn ok(text: &str) -> Config {
    match load(text) {
        Ok(cfg) => cfg,
        Err(e) => panic!("expected a valid config, got: {e}"),
    }
}

fn err(text: &str) -> ConfigError {
    match load(text) {
        Ok(cfg) => panic!("expected an error, got {cfg:?}"),
        Err(e) => e,
    }
}

/// 1-based (line, col) of the first occurrence of `needle` in `text`.
fn pos_of(text: &str, needle: &str) -> Position {
    for (i, line) in text.lines().enumerate() {
        if let Some(byte) = line.find(needle) {
            return Position::new(i + 1, line[..byte].chars().count() + 1);
        }
    }
    panic!("{needle:?} not in text");
}

fn assert_at(e: &ConfigError, pos: Position, kind: ErrorKind) {
    assert_eq!(e.position(), Some(pos), "wrong position in: {e}");
    assert_eq!(e.kind(), Some(kind), "wrong kind in: {e}");
}

// ---------------------------------------------------------------- defaults

#[test]
fn empty_file_equals_defaults() {
    assert_eq!(ok(""), Config::default());
    assert_eq!(ok("# only a comment\n\n"), Config::default());
    assert_eq!(ok("---\n"), Config::default());
}

#[test]
fn defaults_match_the_documented_values() {
    let c = Config::default();
    assert_eq!(c.environment, Environment::Production);
    assert_eq!(c.actor, None);
    assert_eq!(c.detection.error_rate_threshold, 0.02);
    assert_eq!(c.detection.window_s, 60);
    assert_eq!(c.graph.backend, GraphBackend::Memory);
    assert_eq!(c.graph.uri, "bolt://127.0.0.1:7687");
    assert_eq!(c.locks.ttl_ms, 30_000);
    assert_eq!(c.deploy.steps, vec![10, 50, 100]);
    assert_eq!(c.deploy.strategy, DeployStrategy::Canary);
    assert_eq!(c.verification.bootstrap_resamples, 0);
    assert_eq!(c.approval.timeout_s, 900);
    assert_eq!(c.webhooks.max_body_bytes, 1_048_576);
    assert!(c.notifications.slack.is_none());
    assert_eq!(c.tui.fps, 30);
}

#[test]
fn empty_and_partial_sections_keep_defaults() {
    let c = ok("detection:\ngates:\n  lint: false\n");
    assert_eq!(c.detection, Config::default().detection);
    assert!(!c.gates.lint);
    assert!(c.gates.tests);
}

#[test]
fn optional_sub_sections_get_their_own_defaults() {
    let c = ok("notifications:\n  pagerduty: { routing_key: k }\n  email:\n    smtp_host: h\n    from: f@x\n    to: [a@x]\n");
    let pd = c.notifications.pagerduty.expect("pagerduty configured");
    assert_eq!(pd.api_url, "https://events.pagerduty.com/v2/enqueue");
    let email = c.notifications.email.expect("email configured");
    assert_eq!(email.smtp_port, 25);
    assert!(!email.starttls);
}

#[test]
fn serialized_config_loads_back_identically() {
    let mut c = Config {
        environment: Environment::Staging,
        ..Config::default()
    };
    c.deploy.backend = DeployBackend::Script;
    c.deploy.script = Some("./deploy.sh".to_string());
    c.metrics
        .queries
        .insert("error_rate".to_string(), "sum(rate(x[1m]))".to_string());
    let text = serde_yaml::to_string(&c).expect("serializable");
    assert_eq!(load_str(&text, "rt.yaml", &no_env).expect("loads"), c);
}

// ------------------------------------------------------------ substitution

#[test]
fn substitution_forms() {
    let s = |t: &str| substitute(t, &env).expect("substitutes").text;
    assert_eq!(s("${A}"), "alpha");
    assert_eq!(s("${UNSET:-x}"), "x");
    assert_eq!(s("${UNSET:-}"), "");
    assert_eq!(s("${EMPTY:-fallback}"), "fallback");
    assert_eq!(s("${A:-x}"), "alpha");
    assert_eq!(s("cost: $$5 and $$${A}"), "cost: $5 and $alpha");
    assert_eq!(
        s("u: \"bolt://${HOST}:7687/${A}\""),
        "u: \"bolt://db.internal.example.com:7687/alpha\""
    );
    assert_eq!(s("x: ${UNSET:-${A}}"), "x: alpha");
    assert_eq!(s("lone $ and $A stay"), "lone $ and $A stay");
}

#[test]
fn substitution_applies_before_parsing() {
    let c = ok("actor: ${A}\ngraph:\n  uri: \"bolt://${HOST}:7687\"\n  password: \"${UNSET:-}\"\n  user: ${UNSET:-reader}\ntui:\n  theme: \"te$$t\"\n");
    assert_eq!(c.actor.as_deref(), Some("alpha"));
    assert_eq!(c.graph.uri, "bolt://db.internal.example.com:7687");
    assert_eq!(c.graph.password, "");
    assert_eq!(c.graph.user, "reader");
    assert_eq!(c.tui.theme, "te$t");
}

#[test]
fn comments_are_not_substituted() {
    let c = ok("# password: ${NOT_SET}\ntui:\n  fps: 60 # ${ALSO_NOT_SET}\n");
    assert_eq!(c.tui.fps, 60);
}

#[test]
fn unset_variable_points_at_its_dollar() {
    let text = "tui:\n  theme: \"x-${NOPE}\"\n";
    let e = err(text);
    assert_at(&e, pos_of(text, "${NOPE}"), ErrorKind::Substitution);
    assert_eq!(e.position(), Some(Position::new(2, 13)));
    assert!(e.to_string().starts_with("ccp.yaml:2:13: "), "{e}");
    assert!(e.to_string().contains("`NOPE`"), "{e}");
}

#[test]
fn unterminated_reference_points_at_its_start() {
    let text = "graph:\n  uri: ${HOST\n  user: x\n";
    let e = err(text);
    assert_at(&e, Position::new(2, 8), ErrorKind::Substitution);
    assert!(e.message().contains("unterminated"), "{e}");
}

// ------------------------------------------------------------ unknown keys

#[test]
fn unknown_key_in_section_has_hint_and_exact_position() {
    let text = "environment: staging\ndetection:\n  window_s: 10\n  min_requets: 5\n";
    let e = err(text);
    assert_at(&e, Position::new(4, 3), ErrorKind::UnknownKey);
    assert_eq!(
        e.to_string(),
        "ccp.yaml:4:3: unknown key `min_requets` in section `detection`; did you mean `min_requests`?"
    );
}

#[test]
fn unknown_key_in_flow_mapping() {
    let text = "locks: { ttl_ms: 40000, renew_evry_ms: 100 }\n";
    let e = err(text);
    assert_at(&e, pos_of(text, "renew_evry_ms"), ErrorKind::UnknownKey);
    assert!(
        e.message().contains("did you mean `renew_every_ms`?"),
        "{e}"
    );
}

#[test]
fn unknown_top_level_key() {
    let e = err("tui:\n  fps: 10\ndetecton:\n  window_s: 1\n");
    assert_at(&e, Position::new(3, 1), ErrorKind::UnknownKey);
    assert!(
        e.message()
            .contains("`detecton`; did you mean `detection`?"),
        "{e}"
    );
}

#[test]
fn unknown_key_without_close_match_lists_valid_keys() {
    let e = err("canary:\n  zzz: 1\n");
    assert_at(&e, Position::new(2, 3), ErrorKind::UnknownKey);
    assert!(
        e.message()
            .ends_with("valid keys are `max_error_rate`, `max_latency_p99_ms`, `metrics_hold_s`, `min_expected_errors`, `max_observe_s`"),
        "{e}"
    );
}

#[test]
fn unknown_key_in_nested_optional_section() {
    let text = "notifications:\n  slack:\n    webhook_url: https://hooks\n    chanel: ops\n";
    let e = err(text);
    assert_at(&e, Position::new(4, 5), ErrorKind::UnknownKey);
    assert!(e.message().contains("section `notifications.slack`"), "{e}");
    assert!(e.message().contains("did you mean `channel`?"), "{e}");
}

// ------------------------------------------------------- types and enums

#[test]
fn wrong_type_points_at_the_value() {
    let text = "detection:\n  error_rate_threshold: 0.1\n  window_s: abc\n";
    let e = err(text);
    assert_at(&e, pos_of(text, "abc"), ErrorKind::Type);
    assert!(e.message().contains("detection.window_s"), "{e}");
}

#[test]
fn missing_required_key_is_reported() {
    let e = err("notifications:\n  teams: {}\n");
    assert_eq!(e.kind(), Some(ErrorKind::Type));
    assert_eq!(e.position().map(|p| p.line), Some(2));
    assert!(
        e.message().contains("missing required key `webhook_url`"),
        "{e}"
    );
}

#[test]
fn unknown_enum_value_lists_valid_values() {
    let text = "graph:\n  backend: mongo\n";
    let e = err(text);
    assert_at(&e, Position::new(2, 12), ErrorKind::UnknownVariant);
    assert!(e.message().contains("`graph.backend`"), "{e}");
    assert!(e.message().contains("`memory`, `neo4j`"), "{e}");
}

#[test]
fn unknown_enum_value_suggests_the_close_one() {
    let e = err("deploy:\n  strategy: bluegreen\n");
    assert_at(&e, Position::new(2, 13), ErrorKind::UnknownVariant);
    assert!(e.message().contains("did you mean `blue_green`?"), "{e}");
}

#[test]
fn yaml_syntax_error_has_a_position() {
    let e = err("tui:\n  fps: [30\n  mouse: true\n");
    assert_eq!(e.kind(), Some(ErrorKind::Syntax));
    let pos = e.position().expect("positioned");
    assert!(pos.line >= 2, "{e}");
    assert!(e
        .to_string()
        .starts_with(&format!("ccp.yaml:{}:{}: ", pos.line, pos.col)));
}

// ------------------------------------------- positions after substitution

#[test]
fn substitution_earlier_on_the_line_does_not_shift_columns() {
    let text = "graph: { uri: \"${HOST}\", user: ${A}, backend: mongo }\n";
    let e = err(text);
    assert_at(&e, pos_of(text, "mongo"), ErrorKind::UnknownVariant);
    assert_eq!(e.position(), Some(Position::new(1, 47)));
}

#[test]
fn substitution_shrinking_the_line_does_not_shift_columns() {
    let text = "detection: { latency_p99_threshold_ms: ${UNSET:-1.0}, window_s: abc }\n";
    let e = err(text);
    assert_at(&e, pos_of(text, "abc"), ErrorKind::Type);
}

#[test]
fn substitution_growing_the_line_before_an_unknown_key() {
    let text = "tui: { theme: \"${LONG}\", fsp: 3 }\n";
    let e = err(text);
    assert_at(&e, pos_of(text, "fsp"), ErrorKind::UnknownKey);
}

#[test]
fn columns_count_characters_not_bytes() {
    let text = "\u{feff}tui: { theme: \"thème-☀-${LONG}\", fsp: 1 }\n";
    let e = err(text);
    let expected = pos_of(text.trim_start_matches('\u{feff}'), "fsp");
    assert_at(&e, expected, ErrorKind::UnknownKey);
}

#[test]
fn error_inside_a_substituted_value_points_at_the_reference() {
    let text = "detection:\n  window_s: ${A}\n";
    let e = err(text);
    assert_at(&e, pos_of(text, "${A}"), ErrorKind::Type);
}

#[test]
fn multiline_value_does_not_shift_later_lines() {
    let env = |n: &str| (n == "ML").then(|| "|\n  a\n  b".to_string());
    let text = "actor: ${ML}\ntui:\n  fps: nope\n";
    let e = load_str(text, "ml.yaml", &env).expect_err("bad fps");
    assert_eq!(e.position(), Some(Position::new(3, 8)), "{e}");
}

// ------------------------------------------------------ semantic rules

#[test]
fn steps_must_increase_and_error_points_at_steps() {
    let text = "deploy:\n  strategy: canary\n  steps: [10, 5, 100]\n";
    let e = err(text);
    assert_at(&e, Position::new(3, 3), ErrorKind::Invalid);
    assert!(e.message().contains("deploy.steps"), "{e}");
    assert!(e.message().contains("1..=100"), "{e}");
}

#[test]
fn steps_must_end_at_100() {
    let text = "deploy: { steps: [10, 50] }\n";
    let e = err(text);
    assert_at(&e, pos_of(text, "steps"), ErrorKind::Invalid);
    assert!(e.message().contains("does not end at 100"), "{e}");
}

#[test]
fn fraction_out_of_range() {
    let text = "canary:\n  max_latency_p99_ms: 300\n  max_error_rate: 1.5\n";
    let e = err(text);
    assert_at(&e, Position::new(3, 3), ErrorKind::Invalid);
    assert!(e.message().contains("[0, 1]"), "{e}");
}

#[test]
fn alpha_must_be_strictly_between_0_and_1() {
    let e = err("verification:\n  alpha: 0\n");
    assert_at(&e, Position::new(2, 3), ErrorKind::Invalid);
    assert!(e.message().contains("(0, 1)"), "{e}");
}

#[test]
fn marginal_score_above_pass_score() {
    let e = err("verification:\n  pass_score: 60\n  marginal_score: 70\n");
    assert_at(&e, Position::new(3, 3), ErrorKind::Invalid);
}

#[test]
fn script_backend_requires_script() {
    let e = err("deploy:\n  steps: [100]\n  backend: script\n");
    assert_at(&e, Position::new(3, 3), ErrorKind::Invalid);
    assert!(e.message().contains("deploy.script"), "{e}");
    let c = ok("deploy:\n  backend: script\n  script: ./deploy.sh\n");
    assert_eq!(c.deploy.script.as_deref(), Some("./deploy.sh"));
}

#[test]
fn lock_ttl_must_exceed_renewal() {
    let e = err("locks:\n  renew_every_ms: 40000\n");
    assert_at(&e, Position::new(2, 3), ErrorKind::Invalid);
    assert!(e.message().contains("locks.ttl_ms"), "{e}");
}

#[test]
fn fps_range() {
    let e = err("tui:\n  theme: light\n  fps: 500\n");
    assert_at(&e, Position::new(3, 3), ErrorKind::Invalid);
    assert!(e.message().contains("1..=120"), "{e}");
}

// ------------------------------------------------------------- files

fn example_path() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/config/ccp.yaml"))
}

#[test]
fn shipped_example_loads_cleanly_and_equals_defaults() {
    let text = std::fs::read_to_string(example_path()).expect("example exists");
    let cfg = load_str(&text, "ccp.yaml", &no_env).expect("example is valid");
    assert_eq!(cfg, Config::default());
}

#[test]
fn shipped_example_takes_the_neo4j_password_from_the_environment() {
    let text = std::fs::read_to_string(example_path()).expect("example exists");
    let env = |n: &str| (n == "NEO4J_PASSWORD").then(|| "s3cret".to_string());
    let cfg = load_str(&text, "ccp.yaml", &env).expect("example is valid");
    assert_eq!(cfg.graph.password, "s3cret");
    let mut expected = Config::default();
    expected.graph.password = "s3cret".to_string();
    assert_eq!(cfg, expected);
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    let mut file = std::fs::File::create(&path).expect("create");
    file.write_all(text.as_bytes()).expect("write");
    path
}

#[test]
fn load_file_reads_real_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = write(
        dir.path(),
        "good.yaml",
        "environment: development\ntui: { fps: 10 }\n",
    );
    let cfg = load_file(&good).expect("valid file");
    assert_eq!(cfg.environment, Environment::Development);
    assert_eq!(cfg.tui.fps, 10);
    assert_eq!(check_file(&good).expect("checks clean").tui.fps, 10);

    let bad = write(dir.path(), "bad.yaml", "\n\ngates:\n  risk_max: 2\n");
    let e = load_file(&bad).expect_err("invalid risk_max");
    let expected = format!("{}:4:3: ", bad.display());
    assert!(e.to_string().starts_with(&expected), "{e}");
    assert!(check_file(&bad).is_err());
}

#[test]
fn unreadable_file_names_the_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nope.yaml");
    let e = load_file(&missing).expect_err("missing file");
    assert_eq!(e.position(), None);
    let shown = e.to_string();
    assert!(shown.contains(&missing.display().to_string()), "{shown}");
    assert!(shown.contains("cannot read"), "{shown}");
}

#[test]
fn empty_webhook_secret_is_refused_at_the_key() {
    let text = "webhooks:\n  github:\n    secret: \"${GH_SECRET:-}\"\n";
    let e = err(text);
    assert_eq!(e.position(), Some(pos_of(text, "secret:")), "{e}");
    assert!(
        e.message().contains("`webhooks.github.secret` is empty"),
        "{e}"
    );
    let text = "webhooks:\n  gitlab:\n    token: \"  \"\n";
    let e = err(text);
    assert_eq!(e.position(), Some(pos_of(text, "token:")), "{e}");
    assert!(
        e.message().contains("`webhooks.gitlab.token` is empty"),
        "{e}"
    );
}

#[test]
fn a_value_in_a_type_error_is_never_echoed_it_may_be_a_secret() {
    let secrets = |name: &str| match name {
        "GHTOK" => Some("ghp_s3cr3t_token_value".to_string()),
        "PDKEY" => Some("918273645546372819".to_string()),
        _ => None,
    };
    for text in [
        "webhooks:\n  github: \"${GHTOK}\"\n",
        "notifications:\n  pagerduty: ${PDKEY}\n",
        "webhooks:\n  github:\n    secret: [\"${GHTOK}\"]\n",
    ] {
        let e = load_str(text, "ccp.yaml", &secrets).expect_err("a type error");
        let shown = e.to_string();
        assert!(
            !shown.contains("s3cr3t") && !shown.contains("918273645546372819"),
            "{shown}"
        );
        assert!(shown.starts_with("ccp.yaml:"), "still positioned: {shown}");
    }
}

/// A number past 64 bits is called too large, not "expected any YAML value, found an integer".
#[test]
fn an_integer_past_64_bits_is_called_too_large() {
    for text in [
        "locks:\n  ttl_ms: 999999999999999999999999\n",
        "locks:\n  ttl_ms: -999999999999999999999999\n",
    ] {
        let e = load_str(text, "ccp.yaml", &|_| None).expect_err("too large");
        let shown = e.to_string();
        assert!(shown.starts_with("ccp.yaml:2:"), "{shown}");
        assert!(shown.contains("too large"), "{shown}");
        assert!(shown.contains("locks.ttl_ms"), "{shown}");
        assert!(
            !shown.contains("99999"),
            "the value is not repeated: {shown}"
        );
    }
}

/// A missing recovery rules file is said once, with its path, not once per layer of the error.
#[test]
fn a_missing_rules_file_is_reported_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("ccp.yaml");
    std::fs::write(&cfg, "recovery:\n  rules: /nope/rules.yaml\n").expect("config");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ccp"))
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&cfg)
        .env("CCP_STATE_DIR", dir.path().join("state"))
        .output()
        .expect("run ccp serve");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/nope/rules.yaml: cannot read config file"),
        "{err}"
    );
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
    assert_eq!(err.matches("/nope/rules.yaml").count(), 1, "{err}");
}
