//! Safety gates that need no external tool: policy gates over the fleet's operating history, a
//! lint and a security scan over the lines a patch adds, and the risk gate. Syntax and unit tests
//! run for real through the `CheckRunner` port; their reports become gates here too, so the
//! cockpit shows one uniform list.

use super::domain::{CheckReport, PolicyInputs};
use super::events::GateOutcome;
use serde_json::json;

/// Thresholds of the policy gates (from the `gates` config section).
#[derive(Debug, Clone, PartialEq)]
pub struct GateThresholds {
    /// Max error budget consumed, percent.
    pub max_error_budget_pct: f64,
    /// Max share of the fleet in the blast radius, percent.
    pub max_blast_radius_pct: f64,
    /// Min seconds since the last automated operation on the service.
    pub min_cooldown_s: f64,
    /// Max failed operations in the last hour.
    pub max_recent_failures: u32,
    /// Min capacity headroom, percent.
    pub min_capacity_headroom_pct: f64,
    /// Max incidents in the last hour.
    pub max_incident_rate_per_h: u32,
    /// Max gate risk score.
    pub risk_max: f64,
}

impl Default for GateThresholds {
    fn default() -> Self {
        Self {
            max_error_budget_pct: 2.0,
            max_blast_radius_pct: 20.0,
            min_cooldown_s: 300.0,
            max_recent_failures: 3,
            min_capacity_headroom_pct: 20.0,
            max_incident_rate_per_h: 5,
            risk_max: 0.7,
        }
    }
}

/// Name of the error-budget policy gate, the one gate whose failure pauses for a human instead
/// of ending in GATES_FAILED: an exhausted error budget is a judgement call (the seeds'
/// human-override rule: a person may decide the fix is worth the remaining risk), whereas a
/// broken patch or a busy fleet is not.
pub const ERROR_BUDGET_GATE: &str = "error_budget";

/// Whether a failed gate of this name asks for a human rather than blocking (only the error
/// budget; it becomes the `error_budget_exhausted` override reason).
pub fn is_soft(gate: &str) -> bool {
    gate == ERROR_BUDGET_GATE
}

fn gate(
    name: &str,
    passed: bool,
    value: serde_json::Value,
    threshold: serde_json::Value,
    reason: String,
) -> GateOutcome {
    GateOutcome {
        gate: name.to_string(),
        passed,
        value,
        threshold,
        reason,
        output: None,
    }
}

/// The six policy gates of the seeds. `blast_services`/`fleet_size` come from the graph.
pub fn policy_gates(
    p: &PolicyInputs,
    blast_services: usize,
    fleet_size: usize,
    th: &GateThresholds,
) -> Vec<GateOutcome> {
    let blast_pct = if fleet_size == 0 {
        0.0
    } else {
        100.0 * blast_services as f64 / fleet_size as f64
    };
    let ok_budget = p.error_budget_used_pct <= th.max_error_budget_pct;
    let ok_blast = blast_pct <= th.max_blast_radius_pct;
    let ok_cool = p.seconds_since_last_operation >= th.min_cooldown_s;
    let ok_fail = p.recent_failures <= th.max_recent_failures;
    let ok_cap = p.capacity_headroom_pct >= th.min_capacity_headroom_pct;
    let ok_rate = p.incidents_last_hour <= th.max_incident_rate_per_h;
    vec![
        gate(
            ERROR_BUDGET_GATE,
            ok_budget,
            json!(p.error_budget_used_pct),
            json!(th.max_error_budget_pct),
            format!(
                "{:.2}% of the error budget used {} max {:.2}%",
                p.error_budget_used_pct,
                if ok_budget { "≤" } else { ">" },
                th.max_error_budget_pct
            ),
        ),
        gate(
            "blast_radius",
            ok_blast,
            json!(round2(blast_pct)),
            json!(th.max_blast_radius_pct),
            format!(
                "{blast_services} of {fleet_size} services depend on it ({blast_pct:.1}% {} max {:.1}%)",
                if ok_blast { "≤" } else { ">" },
                th.max_blast_radius_pct
            ),
        ),
        gate(
            "cooldown",
            ok_cool,
            json!(p.seconds_since_last_operation),
            json!(th.min_cooldown_s),
            format!(
                "{:.0}s since the last automated operation {} min {:.0}s",
                p.seconds_since_last_operation,
                if ok_cool { "≥" } else { "<" },
                th.min_cooldown_s
            ),
        ),
        gate(
            "recent_failures",
            ok_fail,
            json!(p.recent_failures),
            json!(th.max_recent_failures),
            format!(
                "{} failed operations in the last hour {} max {}",
                p.recent_failures,
                if ok_fail { "≤" } else { ">" },
                th.max_recent_failures
            ),
        ),
        gate(
            "capacity",
            ok_cap,
            json!(p.capacity_headroom_pct),
            json!(th.min_capacity_headroom_pct),
            format!(
                "{:.0}% headroom {} min {:.0}%",
                p.capacity_headroom_pct,
                if ok_cap { "≥" } else { "<" },
                th.min_capacity_headroom_pct
            ),
        ),
        gate(
            "incident_rate",
            ok_rate,
            json!(p.incidents_last_hour),
            json!(th.max_incident_rate_per_h),
            format!(
                "{} incidents in the last hour {} max {}",
                p.incidents_last_hour,
                if ok_rate { "≤" } else { ">" },
                th.max_incident_rate_per_h
            ),
        ),
    ]
}

/// A check runner's report as a gate.
pub fn check_gate(name: &str, report: &CheckReport) -> GateOutcome {
    let value = match (report.tests_run, report.failures) {
        (Some(run), Some(f)) => json!({"tests_run": run, "failures": f}),
        _ => json!(if report.passed { "ok" } else { "error" }),
    };
    let threshold = if name == "tests" {
        json!({"failures": 0})
    } else {
        json!("ok")
    };
    let mut g = gate(
        name,
        report.passed,
        value,
        threshold,
        report.summary.clone(),
    );
    g.output = (!report.detail.trim().is_empty()).then(|| report.detail.clone());
    g
}

/// Lines a unified diff adds (without the `+`), skipping file headers.
pub fn added_lines(diff: &str) -> Vec<&str> {
    diff.lines()
        .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
        .map(|l| &l[1..])
        .collect()
}

/// A deliberately small lint over added lines: the problems that make reviewers send a patch back
/// (tabs mixed into space-indented code, trailing whitespace, over-long lines, leftover debugging).
pub fn lint_gate(diff: &str, max_line: usize) -> GateOutcome {
    let mut problems = Vec::new();
    for (i, l) in added_lines(diff).iter().enumerate() {
        let n = i + 1;
        if l.ends_with(' ') || l.ends_with('\t') {
            problems.push(format!("added line {n}: trailing whitespace"));
        }
        if l.chars().count() > max_line {
            problems.push(format!("added line {n}: longer than {max_line} characters"));
        }
        let trimmed = l.trim_start();
        if l.starts_with('\t')
            && diff
                .lines()
                .any(|d| d.starts_with("  ") || d.starts_with("+ "))
        {
            problems.push(format!(
                "added line {n}: tab indentation in a space-indented file"
            ));
        }
        if trimmed.starts_with("print(")
            || trimmed.starts_with("breakpoint(")
            || trimmed.starts_with("import pdb")
        {
            problems.push(format!("added line {n}: leftover debugging statement"));
        }
    }
    let passed = problems.is_empty();
    let reason = if passed {
        "no lint findings in added lines (built-in heuristic)".to_string()
    } else {
        format!("{} (built-in heuristic)", problems.join("; "))
    };
    gate("lint", passed, json!(problems.len()), json!(0), reason)
}

/// Patterns that must never be introduced by an automated patch, with why.
const SECURITY_PATTERNS: &[(&str, &str)] = &[
    ("eval(", "dynamic code evaluation"),
    ("exec(", "dynamic code execution"),
    ("os.system(", "shell command execution"),
    ("shell=True", "subprocess through a shell"),
    ("pickle.loads(", "unpickling untrusted data"),
    ("yaml.load(", "unsafe YAML loading"),
    ("verify=False", "TLS verification disabled"),
    ("password=\"", "hard-coded password"),
    ("secret=\"", "hard-coded secret"),
    ("api_key=\"", "hard-coded API key"),
    ("-----BEGIN", "embedded private key"),
];

/// Security scan over added lines: automated patches must not widen the attack surface.
pub fn security_gate(diff: &str) -> GateOutcome {
    let mut findings = Vec::new();
    for (i, l) in added_lines(diff).iter().enumerate() {
        let compact: String = l.chars().filter(|c| !c.is_whitespace()).collect();
        for (pat, why) in SECURITY_PATTERNS {
            let pat_compact: String = pat.chars().filter(|c| !c.is_whitespace()).collect();
            if compact.contains(&pat_compact) {
                findings.push(format!("added line {}: {why} (`{pat}`)", i + 1));
            }
        }
    }
    let passed = findings.is_empty();
    let reason = if passed {
        "no risky constructs in added lines (built-in heuristic)".to_string()
    } else {
        format!("{} (built-in heuristic)", findings.join("; "))
    };
    gate("security", passed, json!(findings.len()), json!(0), reason)
}

/// The risk gate: the multiplicative risk score against its maximum.
pub fn risk_gate(score: f64, th: &GateThresholds) -> GateOutcome {
    let passed = score <= th.risk_max;
    gate(
        "risk_score",
        passed,
        json!(round3(score)),
        json!(th.risk_max),
        format!(
            "risk {score:.3} {} max {:.2}",
            if passed { "≤" } else { ">" },
            th.risk_max
        ),
    )
}

/// Round to two decimals for display values in events.
pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Round to three decimals for display values in events.
pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn healthy() -> PolicyInputs {
        PolicyInputs {
            error_budget_used_pct: 0.5,
            seconds_since_last_operation: 450.0,
            recent_failures: 1,
            consecutive_failures: 0,
            capacity_headroom_pct: 35.0,
            incidents_last_hour: 2,
            traffic_vs_peak: 0.5,
        }
    }

    #[test]
    fn seed_example_passes_all_policy_gates() {
        let g = policy_gates(&healthy(), 3, 42, &GateThresholds::default());
        assert_eq!(g.len(), 6);
        assert!(g.iter().all(|g| g.passed), "{g:?}");
    }

    #[test]
    fn each_policy_gate_can_fail() {
        let th = GateThresholds::default();
        let cases: Vec<(&str, PolicyInputs, usize)> = vec![
            (
                "error_budget",
                PolicyInputs {
                    error_budget_used_pct: 2.5,
                    ..healthy()
                },
                3,
            ),
            (
                "cooldown",
                PolicyInputs {
                    seconds_since_last_operation: 120.0,
                    ..healthy()
                },
                3,
            ),
            (
                "recent_failures",
                PolicyInputs {
                    recent_failures: 4,
                    ..healthy()
                },
                3,
            ),
            (
                "capacity",
                PolicyInputs {
                    capacity_headroom_pct: 10.0,
                    ..healthy()
                },
                3,
            ),
            (
                "incident_rate",
                PolicyInputs {
                    incidents_last_hour: 6,
                    ..healthy()
                },
                3,
            ),
            ("blast_radius", healthy(), 15),
        ];
        for (name, p, blast) in cases {
            let g = policy_gates(&p, blast, 42, &th);
            let failed: Vec<_> = g
                .iter()
                .filter(|g| !g.passed)
                .map(|g| g.gate.as_str())
                .collect();
            assert_eq!(failed, vec![name]);
        }
    }

    #[test]
    fn security_and_lint_look_only_at_added_lines() {
        let diff = "--- a/x.py\n+++ b/x.py\n@@ -1,2 +1,3 @@\n-eval(x)\n+if user is not None:\n+    run(user)\n";
        assert!(security_gate(diff).passed);
        assert!(lint_gate(diff, 100).passed);
        let bad = "+++ b/x.py\n+    os.system(cmd)\n+    print(x) \n";
        let s = security_gate(bad);
        assert!(!s.passed);
        assert!(s.reason.contains("shell command"));
        let l = lint_gate(bad, 100);
        assert!(!l.passed);
        assert!(l.reason.contains("trailing whitespace"));
        assert!(l.reason.contains("debugging"));
    }

    #[test]
    fn risk_gate_threshold() {
        let th = GateThresholds::default();
        assert!(risk_gate(0.7, &th).passed);
        assert!(!risk_gate(0.71, &th).passed);
    }
}
