//! The Grafana dashboard (assets/grafana/ccp-dashboard.json) and the alert rules on ccp's own
//! metrics (assets/prometheus/ccp-alerts.yml) may only use metric names a real `ccp serve`
//! exports, so neither can drift from the exporter unnoticed. The rules are also checked and
//! unit-tested with promtool (and the dashboard's queries parsed by it) when tests/run.sh
//! provides it (`CCP_TEST_PROMTOOL`); without it those parts skip, unless `CCP_REQUIRE_SERVERS`
//! says they must run.

mod common;

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn asset(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("assets")
        .join(rel)
}

/// Families every ccp dashboard must show (the KPIs of the design), so a panel cannot be
/// dropped by accident.
const DASHBOARD_MUST_SHOW: &[&str] = &[
    "ccp_incidents_opened_total",
    "ccp_incidents_finished_total",
    "ccp_incidents_auto_resolved_total",
    "ccp_rollbacks_total",
    "ccp_incident_resolution_seconds_sum",
    "ccp_incident_resolution_seconds_count",
    "ccp_operations_paused_total",
    "ccp_lock_wait_seconds_sum",
    "ccp_lock_wait_seconds_count",
    "ccp_active_locks",
    "ccp_gate_failures_total",
    "ccp_ci_events_total",
    "ccp_recovery_cases_total",
    "ccp_recovery_outcomes_total",
    "ccp_hash_chain_valid",
];

/// Metric names in a real scrape of `ccp serve`'s /metrics: every `# TYPE` family (with the
/// `_sum`/`_count`/`_bucket` series its type implies) and every sample's name. Taken once per
/// test binary.
fn exported() -> &'static BTreeSet<String> {
    static NAMES: OnceLock<BTreeSet<String>> = OnceLock::new();
    NAMES.get_or_init(|| names_in(&scrape()))
}

fn scrape() -> String {
    let dir = tempfile::tempdir().unwrap();
    // Production: the demo incident pauses for a human, so the server idles while scraped.
    let serve = common::serve::Served::start(
        dir.path(),
        "environment: production\n",
        "realtime",
        Stdio::null(),
    );
    let addr = serve.addr.clone();
    // The chain gauge appears once the pipeline has opened its audit log.
    let deadline = Instant::now() + Duration::from_secs(60);
    let body = loop {
        let r = common::http::request(addr.as_str(), "GET", "/metrics", &[], b"");
        assert_eq!(r.status, 200, "{}", r.body);
        if r.body.contains("\nccp_hash_chain_valid ") {
            break r.body;
        }
        assert!(
            Instant::now() < deadline,
            "no ccp_hash_chain_valid in\n{}",
            r.body
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    drop(serve);
    body
}

fn names_in(exposition: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in exposition.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut parts = rest.split_whitespace();
            let (Some(name), Some(kind)) = (parts.next(), parts.next()) else {
                continue;
            };
            out.insert(name.to_string());
            let suffixes: &[&str] = match kind {
                "summary" => &["_sum", "_count"],
                "histogram" => &["_sum", "_count", "_bucket"],
                _ => &[],
            };
            for s in suffixes {
                out.insert(format!("{name}{s}"));
            }
        } else if !line.starts_with('#') && !line.is_empty() {
            let end = line.find(['{', ' ']).unwrap_or(line.len());
            out.insert(line[..end].to_string());
        }
    }
    out
}

/// `ccp_*` identifiers in a PromQL expression (quoted strings, i.e. label values, ignored).
fn ccp_names(expr: &str) -> BTreeSet<String> {
    let mut unquoted = String::new();
    let mut quote: Option<char> = None;
    for c in expr.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' || c == '`' => quote = Some(c),
            None => unquoted.push(c),
        }
    }
    let mut out = BTreeSet::new();
    let mut word = String::new();
    for c in unquoted.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_alphanumeric() || c == '_' || c == ':' {
            word.push(c);
        } else {
            if word.starts_with("ccp_") {
                out.insert(word.clone());
            }
            word.clear();
        }
    }
    out
}

/// Names an expression uses that the exporter does not have.
fn unknown_in(expr: &str) -> Vec<String> {
    ccp_names(expr)
        .into_iter()
        .filter(|n| !exported().contains(n))
        .collect()
}

fn dashboard() -> Value {
    let text = std::fs::read_to_string(asset("grafana/ccp-dashboard.json")).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("dashboard is not JSON: {e}"))
}

/// Every query of the dashboard: panel targets and the template variables' queries.
fn dashboard_queries(d: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for p in d["panels"].as_array().unwrap() {
        for t in p["targets"].as_array().into_iter().flatten() {
            out.push((
                p["title"].as_str().unwrap_or_default().to_string(),
                t["expr"].as_str().unwrap_or_default().to_string(),
            ));
        }
    }
    for v in d["templating"]["list"].as_array().unwrap() {
        if let Some(q) = v["query"]["query"].as_str() {
            out.push((format!("variable {}", v["name"]), q.to_string()));
        }
    }
    out
}

#[test]
fn the_scrape_parser_sees_families_summaries_and_samples() {
    let names = names_in(
        "# HELP a_total x\n# TYPE a_total counter\na_total{x=\"1\"} 2\n\
         # TYPE s summary\ns_sum 0\ns_count 0\n# TYPE empty counter\n",
    );
    let want: BTreeSet<String> = ["a_total", "s", "s_sum", "s_count", "empty"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(names, want);
    assert_eq!(
        ccp_names(
            r#"sum by (gate) (rate(ccp_gate_failures_total{job=~"ccp_x"}[$__rate_interval])) / ccp_b:c"#
        ),
        ["ccp_b:c", "ccp_gate_failures_total"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    );
}

#[test]
fn the_dashboard_is_a_valid_grafana_dashboard() {
    let d = dashboard();
    assert!(d["uid"]
        .as_str()
        .is_some_and(|u| !u.is_empty() && u.len() <= 40));
    assert!(d["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(d["schemaVersion"].as_u64().is_some_and(|v| v >= 30));
    let vars = d["templating"]["list"].as_array().unwrap();
    let ds = vars
        .iter()
        .find(|v| v["type"] == "datasource")
        .expect("a datasource template variable");
    assert_eq!(ds["name"], "DS_PROMETHEUS");
    assert_eq!(ds["query"], "prometheus");
    let panels = d["panels"].as_array().unwrap();
    let mut ids = BTreeSet::new();
    let mut graphs = 0;
    for p in panels {
        let title = p["title"].as_str().unwrap_or_default();
        assert!(!title.is_empty(), "untitled panel {p}");
        assert!(
            ids.insert(p["id"].as_u64().unwrap()),
            "duplicate id in {title}"
        );
        let g = &p["gridPos"];
        let (x, w) = (g["x"].as_u64().unwrap(), g["w"].as_u64().unwrap());
        assert!(x + w <= 24 && g["h"].as_u64().unwrap() > 0, "{title}: {g}");
        assert!(g["y"].is_u64(), "{title}: {g}");
        if p["type"] == "row" {
            continue;
        }
        graphs += 1;
        assert!(
            ["stat", "timeseries", "gauge", "table", "bargauge"]
                .contains(&p["type"].as_str().unwrap()),
            "{title}: {}",
            p["type"]
        );
        assert_eq!(p["datasource"]["uid"], "${DS_PROMETHEUS}", "{title}");
        let targets = p["targets"].as_array().unwrap();
        assert!(!targets.is_empty(), "{title} has no query");
        let mut refs = BTreeSet::new();
        for t in targets {
            assert!(
                t["expr"].as_str().is_some_and(|e| !e.trim().is_empty()),
                "{title}"
            );
            assert!(
                refs.insert(t["refId"].as_str().unwrap().to_string()),
                "{title}"
            );
            assert_eq!(t["datasource"]["uid"], "${DS_PROMETHEUS}", "{title}");
        }
    }
    assert!(graphs >= 12, "{graphs} panels");
}

#[test]
fn the_dashboard_only_queries_metrics_ccp_serve_exports() {
    let d = dashboard();
    let mut used = BTreeSet::new();
    for (title, expr) in dashboard_queries(&d) {
        let names = ccp_names(&expr);
        assert!(!names.is_empty(), "{title}: no ccp_ metric in {expr}");
        let unknown = unknown_in(&expr);
        assert!(
            unknown.is_empty(),
            "{title}: {unknown:?} are not exported by ccp serve (exported: {:?})",
            exported()
        );
        used.extend(names);
    }
    for want in DASHBOARD_MUST_SHOW {
        assert!(used.contains(*want), "the dashboard does not show {want}");
    }
}

/// `alert` → `expr` of every rule in ccp-alerts.yml.
fn alert_rules() -> Vec<(String, String, serde_yaml::Value)> {
    let text = std::fs::read_to_string(asset("prometheus/ccp-alerts.yml")).unwrap();
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let mut out = Vec::new();
    for g in doc["groups"].as_sequence().unwrap() {
        for r in g["rules"].as_sequence().unwrap() {
            out.push((
                r["alert"].as_str().unwrap_or_default().to_string(),
                r["expr"].as_str().unwrap_or_default().to_string(),
                r.clone(),
            ));
        }
    }
    out
}

#[test]
fn the_alert_rules_only_use_metrics_ccp_serve_exports() {
    let rules = alert_rules();
    assert!(rules.len() >= 6, "{} rules", rules.len());
    for (alert, expr, rule) in &rules {
        assert!(!alert.is_empty(), "a rule without `alert`: {rule:?}");
        assert!(
            !ccp_names(expr).is_empty(),
            "{alert}: no ccp_ metric in {expr}"
        );
        let unknown = unknown_in(expr);
        assert!(
            unknown.is_empty(),
            "{alert}: {unknown:?} are not exported by ccp serve (exported: {:?})",
            exported()
        );
        let sev = rule["labels"]["severity"].as_str().unwrap_or_default();
        assert!(
            ["page", "ticket"].contains(&sev),
            "{alert}: severity {sev:?}"
        );
        assert!(
            rule["annotations"]["summary"]
                .as_str()
                .is_some_and(|s| !s.is_empty()),
            "{alert}: no summary"
        );
    }
    let names: BTreeSet<&str> = rules.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(names.len(), rules.len(), "duplicate alert names");
    assert!(names.contains("CcpAuditChainBroken"));
}

/// promtool from tests/run.sh; `None` (test skipped) without it, unless it is required.
fn promtool() -> Option<String> {
    match std::env::var("CCP_TEST_PROMTOOL") {
        Ok(p) if !p.is_empty() => Some(p),
        _ => {
            assert!(
                std::env::var_os("CCP_REQUIRE_SERVERS").is_none(),
                "CCP_TEST_PROMTOOL is required here"
            );
            eprintln!("skipped: CCP_TEST_PROMTOOL not set");
            None
        }
    }
}

fn run_promtool(promtool: &str, args: &[&str], dir: &Path) {
    let out = Command::new(promtool)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{promtool}: {e}"));
    assert!(
        out.status.success(),
        "promtool {}: {}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn promtool_checks_the_rules_and_their_unit_tests_pass() {
    let Some(promtool) = promtool() else { return };
    let dir = asset("prometheus");
    run_promtool(&promtool, &["check", "rules", "ccp-alerts.yml"], &dir);
    run_promtool(&promtool, &["test", "rules", "ccp-alerts.test.yml"], &dir);
    let tests = std::fs::read_to_string(dir.join("ccp-alerts.test.yml")).unwrap();
    let doc: serde_yaml::Value = serde_yaml::from_str(&tests).unwrap();
    let mut firing = BTreeSet::new();
    let mut quiet = BTreeSet::new();
    for t in doc["tests"].as_sequence().unwrap() {
        for a in t["alert_rule_test"].as_sequence().unwrap() {
            let name = a["alertname"].as_str().unwrap().to_string();
            if a["exp_alerts"].as_sequence().is_some_and(|s| s.is_empty()) {
                quiet.insert(name);
            } else {
                firing.insert(name);
            }
        }
    }
    let both: Vec<_> = firing.intersection(&quiet).collect();
    assert!(
        both.len() >= 2,
        "the unit tests must show at least two alerts both firing and quiet: {both:?}"
    );
}

#[test]
fn promtool_parses_every_dashboard_query() {
    let Some(promtool) = promtool() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut rules = String::from("groups:\n  - name: dashboard\n    rules:\n");
    for (i, (title, expr)) in dashboard_queries(&dashboard()).iter().enumerate() {
        if title.starts_with("variable") {
            continue; // label_values() is Grafana's, not PromQL
        }
        let expr = expr
            .replace("$__rate_interval", "5m")
            .replace("$__range", "1h")
            .replace("$job", ".*");
        rules.push_str(&format!(
            "      - record: dashboard:query_{i}\n        expr: {}\n",
            serde_json::Value::String(expr)
        ));
    }
    std::fs::write(dir.path().join("dashboard-rules.yml"), rules).unwrap();
    run_promtool(
        &promtool,
        &["check", "rules", "dashboard-rules.yml"],
        dir.path(),
    );
}
