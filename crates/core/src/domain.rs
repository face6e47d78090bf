//! Domain types shared by the pipeline, the ports and the front-ends. Plain data with serde, so the
//! same values travel in events, the audit log and the cockpit's view model.

use serde::{Deserialize, Serialize};

/// How bad it is: of an incident, an alert, or a failed CI/CD run. Ordered (`info < low < medium <
/// high < critical`) so comparisons read naturally (`sev >= Severity::High`), and one type for all
/// of them so a policy that says "at least high" means the same everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Non-impacting; worth recording.
    Info,
    /// Degraded or cosmetic; hours to respond.
    Low,
    /// Some features unavailable; under half an hour.
    Medium,
    /// Major functionality broken; minutes.
    High,
    /// Outage or data-loss risk; now.
    Critical,
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Severity {
    /// Every severity, lowest first.
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The severity named `name` (as written in YAML, JSON and expressions), if any.
    pub fn parse(name: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Severity as a number in [0,1], the form the risk formula weighs.
    pub fn weight(self) -> f64 {
        match self {
            Severity::Info => 0.1,
            Severity::Low => 0.3,
            Severity::Medium => 0.5,
            Severity::High => 0.8,
            Severity::Critical => 1.0,
        }
    }

    /// Severity from an observed error rate: the one signal every backend can give us.
    pub fn from_error_rate(rate: f64) -> Self {
        if rate >= 0.10 {
            Severity::Critical
        } else if rate >= 0.05 {
            Severity::High
        } else if rate >= 0.02 {
            Severity::Medium
        } else {
            Severity::Low
        }
    }

    /// The name used in YAML, JSON, metrics labels, expressions and text output.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl Outcome {
    /// The process exit code a headless run (`ccp demo --headless`, `ccp run --headless`) ends
    /// with, so scripts and CI can branch on what happened without parsing output: 0 resolved,
    /// 4 rolled back, 5 escalated, 6 rejected, 7 failed (safety gates failed, or the run could
    /// not go on). 1–3 keep their meaning for the analysis commands.
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Resolved => 0,
            Outcome::RolledBack => 4,
            Outcome::Escalated => 5,
            Outcome::Rejected => 6,
            Outcome::Failed => 7,
        }
    }
}

/// Milliseconds since the Unix epoch on the pipeline's clock (virtual in instant/fast pace). One
/// integer type for time keeps the simulated fleet and real backends interchangeable.
pub type Millis = i64;

/// An alert as any source reports it (the embedded detector, Alertmanager, a Prometheus rule).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Alert name, e.g. `HighErrorRate`.
    pub name: String,
    /// Service the alert is about.
    pub service: String,
    /// How bad.
    pub severity: Severity,
    /// Observed value that tripped it (error rate as a fraction, latency in ms…).
    pub value: f64,
    /// Threshold it crossed.
    pub threshold: f64,
    /// Where it came from (`embedded-detector`, `alertmanager`…), for the audit trail.
    pub source: String,
    /// When it fired.
    pub at_ms: Millis,
}

/// The incident a run remediates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// Stable id, `INC-YYYYMMDD-XXXX`.
    pub id: String,
    /// Service the first alert named (not necessarily the root cause).
    pub service: String,
    /// Severity of the worst alert.
    pub severity: Severity,
    /// One-line summary for lists.
    pub title: String,
    /// When it opened.
    pub opened_at_ms: Millis,
    /// Error rate observed at detection (fraction).
    pub error_rate: f64,
}

/// A service node of the dependency graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceNode {
    /// Unique name.
    pub name: String,
    /// Business criticality in [0,1]; weighs risk and approval policy.
    pub criticality: f64,
    /// Shared resources it uses (databases, queues), for conflict detection.
    #[serde(default)]
    pub resources: Vec<String>,
}

/// A service's recent health, as drawn in the dependency graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceHealth {
    /// Service name.
    pub name: String,
    /// Business criticality in [0,1].
    pub criticality: f64,
    /// Error rate over the window.
    pub error_rate: f64,
    /// Request-weighted p99 latency over the window, ms.
    pub latency_p99_ms: f64,
    /// Whether it breaches the detection thresholds.
    pub unhealthy: bool,
}

/// One git commit as RCA and localization reason about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Commit {
    /// Full 40-hex id.
    pub id: String,
    /// Short id for display.
    pub short: String,
    /// First line of the message.
    pub message: String,
    /// Author name.
    pub author: String,
    /// Commit time (seconds since epoch).
    pub time_unix: i64,
    /// Paths changed, repository-relative.
    pub files: Vec<String>,
    /// Lines added + removed.
    pub lines_changed: u32,
}

/// One ranked root-cause candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RcaCandidate {
    /// Service suspected.
    pub service: String,
    /// Commit suspected, short id, when one could be correlated.
    pub commit: Option<String>,
    /// Confidence in [0,1].
    pub confidence: f64,
    /// Human-readable reasons, strongest first.
    pub evidence: Vec<String>,
}

/// Where the fault lives in code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodeLocation {
    /// Repository-relative path.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// Enclosing function, when the trace names it.
    pub function: String,
    /// The source line, when known.
    pub code: Option<String>,
    /// Exception type from the trace (e.g. `AttributeError`).
    pub exception: String,
    /// Exception message.
    pub message: String,
    /// Commit that last touched the line (git blame), short id.
    pub blame_commit: Option<String>,
    /// Author of that commit.
    pub blame_author: Option<String>,
}

impl CodeLocation {
    /// `AttributeError: 'NoneType' object…`, as an engineer reads it in a log.
    pub fn error(&self) -> String {
        format!("{}: {}", self.exception, self.message)
    }

    /// `1b7919b by Dana Okafor`, when blame worked.
    pub fn blame(&self) -> Option<String> {
        match (&self.blame_commit, &self.blame_author) {
            (Some(c), Some(a)) => Some(format!("{c} by {a}")),
            (Some(c), None) => Some(c.clone()),
            _ => None,
        }
    }
}

/// A proposed patch. `new_source` is the whole patched file, so check runners and deployers can
/// build the artifact without re-applying a diff.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FixPlan {
    /// Template that produced it (`null_check`, …).
    pub template: String,
    /// Repository-relative path of the changed file.
    pub file: String,
    /// Line the fix targets.
    pub line: u32,
    /// Unified diff for review.
    pub diff: String,
    /// One-sentence description.
    pub description: String,
    /// Whole patched file.
    pub new_source: String,
    /// Lines added.
    pub lines_added: u32,
    /// Lines removed.
    pub lines_removed: u32,
    /// Confidence that the template fits the fault, in [0,1].
    pub confidence: f64,
    /// The other templates' answers, best first: a candidate patch with its confidence, or why
    /// the template declined. Why kept: the reviewer sees the patch was chosen among
    /// alternatives, and which ones were possible.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alternatives: Vec<String>,
}

/// Kind of a check run against the patched copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    Syntax,
    Tests,
    /// A real linter (e.g. `ruff check`), when one is configured for the language; otherwise the
    /// in-process heuristic over added lines stands in.
    Lint,
    /// A real security scanner (e.g. `bandit`), when configured; otherwise the heuristic.
    Security,
}

impl CheckKind {
    /// The name used for the gate and for the config key (`gates.commands.<lang>.<name>`), so
    /// the cockpit, the audit log and the config file all say the same word.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckKind::Syntax => "syntax",
            CheckKind::Tests => "tests",
            CheckKind::Lint => "lint",
            CheckKind::Security => "security",
        }
    }
}

/// The fix plan committed on its own branch, so the change exists in git (reviewable, revertable,
/// deployable by commit id) before it reaches production.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixCommit {
    /// Branch name, `ccp/fix-<incident>`.
    pub branch: String,
    /// Full 40-hex commit id: the version a deployer ships (`CCP_VERSION`).
    pub commit: String,
    /// Short id for display.
    pub short: String,
    /// The commit the branch starts from (HEAD when it was made).
    pub parent: String,
    /// True when an earlier run had already committed the same change on the same parent, so
    /// that commit was kept instead of making a new one.
    pub reused: bool,
    /// Remote the branch was pushed to, when pushing is configured and succeeded.
    pub pushed_to: Option<String>,
    /// Why the push failed, when pushing is configured and did not succeed (the commit stands).
    pub push_error: Option<String>,
}

/// Result of running a check for real.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckReport {
    /// Did it pass.
    pub passed: bool,
    /// One line for the cockpit.
    pub summary: String,
    /// Captured output (truncated).
    pub detail: String,
    /// Tests run, for test checks.
    pub tests_run: Option<u32>,
    /// Failures + errors, for test checks.
    pub failures: Option<u32>,
}

impl CheckReport {
    /// A check that could not run or did not pass, with only a reason: a missing program, a
    /// copy that could not be made. Runners report these instead of erroring so the gate says why.
    pub fn failed(summary: impl Into<String>) -> Self {
        Self {
            passed: false,
            summary: summary.into(),
            detail: String::new(),
            tests_run: None,
            failures: None,
        }
    }
}

/// One second of traffic for one service cohort. Counts rather than ratios, so aggregation over a
/// window is exact.
///
/// The signals after the p99 are optional: a source that does not have one (an exporter without
/// CPU or memory metrics, a cohort with no instances) reports `f64::NAN`, and every consumer reads
/// NaN as "no data", never as zero. Files written before they existed load with NaN.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Start of the second.
    pub t_ms: Millis,
    /// Requests served.
    pub requests: u32,
    /// Requests that failed.
    pub errors: u32,
    /// Median latency in that second.
    pub latency_p50_ms: f64,
    /// 99th percentile latency in that second.
    pub latency_p99_ms: f64,
    /// 95th percentile latency in that second, ms (NaN = unknown). A second point of the tail: a
    /// regression that slows a few percent of requests moves it while the noisy p99 still hides it.
    #[serde(default = "unknown", deserialize_with = "null_as_unknown")]
    pub latency_p95_ms: f64,
    /// CPU seconds the cohort used in that second, i.e. cores kept busy (NaN = unknown). Lets a
    /// judge see a canary that serves the same traffic for twice the CPU before it runs out of it.
    #[serde(default = "unknown", deserialize_with = "null_as_unknown")]
    pub cpu_cores: f64,
    /// Resident memory of the cohort's instances, MB (NaN = unknown, or no instances). A leak shows
    /// here long before errors do.
    #[serde(default = "unknown", deserialize_with = "null_as_unknown")]
    pub memory_mb: f64,
}

/// The value of an optional signal nobody reported.
fn unknown() -> f64 {
    f64::NAN
}

/// JSON has no NaN (serde_json writes it as `null`), so `null` must read back as "unknown".
fn null_as_unknown<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

impl Sample {
    /// Error rate of this second (0 when idle, so idle seconds never look like outages).
    pub fn error_rate(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            f64::from(self.errors) / f64::from(self.requests)
        }
    }
}

/// Weighted mean of the values that are known (finite); `None` when none is, so "no data" can
/// never be mistaken for a measured zero.
fn known_mean(values: impl Iterator<Item = (f64, f64)>) -> Option<f64> {
    let (sum, weight) = values
        .filter(|(v, w)| v.is_finite() && *w > 0.0)
        .fold((0.0, 0.0), |(s, n), (v, w)| (s + v * w, n + w));
    (weight > 0.0).then(|| sum / weight)
}

/// Window summary of samples, the numbers people read on a chart legend.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct WindowStats {
    /// Requests in the window.
    pub requests: u64,
    /// Errors in the window.
    pub errors: u64,
    /// errors / requests.
    pub error_rate: f64,
    /// Mean of per-second p50 latencies.
    pub latency_p50_ms: f64,
    /// Request-weighted mean of per-second p99 latencies. (The max would turn one noisy second
    /// into an alert; the mean of a tail statistic still moves when the tail moves.)
    pub latency_p99_ms: f64,
    /// Request-weighted mean of the per-second p95 latencies that are known, like the p99;
    /// `None` when the source reports no p95 (so old logs and bare exporters read as "no data").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_p95_ms: Option<f64>,
    /// Mean CPU cores over the seconds that report CPU; `None` when none does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_cores: Option<f64>,
    /// Mean resident memory, MB, over the seconds that report it; `None` when none does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_mb: Option<f64>,
}

impl WindowStats {
    /// Summarise a window of samples; an empty window is all zeros, and the optional signals are
    /// `None`. Unknown (NaN) values are left out of their own mean and touch nothing else.
    pub fn of(samples: &[Sample]) -> Self {
        let requests: u64 = samples.iter().map(|s| u64::from(s.requests)).sum();
        let errors: u64 = samples.iter().map(|s| u64::from(s.errors)).sum();
        let busy: Vec<&Sample> = samples.iter().filter(|s| s.requests > 0).collect();
        let p50 = if busy.is_empty() {
            0.0
        } else {
            busy.iter().map(|s| s.latency_p50_ms).sum::<f64>() / busy.len() as f64
        };
        let p99 = if requests == 0 {
            0.0
        } else {
            busy.iter()
                .map(|s| s.latency_p99_ms * f64::from(s.requests))
                .sum::<f64>()
                / requests as f64
        };
        Self {
            requests,
            errors,
            error_rate: if requests == 0 {
                0.0
            } else {
                errors as f64 / requests as f64
            },
            latency_p50_ms: p50,
            latency_p99_ms: p99,
            latency_p95_ms: known_mean(
                busy.iter()
                    .map(|s| (s.latency_p95_ms, f64::from(s.requests))),
            ),
            cpu_cores: known_mean(samples.iter().map(|s| (s.cpu_cores, 1.0))),
            memory_mb: known_mean(samples.iter().map(|s| (s.memory_mb, 1.0))),
        }
    }
}

/// Which slice of a service's traffic to read: during a canary the baseline and the canary are
/// compared side by side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cohort {
    All,
    Baseline,
    Canary,
}

/// Deployment strategy chosen by the risk formula.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Strategy {
    ManualReview,
    CanaryDeploy,
    DirectDeploy,
}

/// Final outcome of a run, as the `finished` event spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Resolved,
    RolledBack,
    Escalated,
    Rejected,
    Failed,
}

impl Outcome {
    /// Lower-case name, the Contract's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Resolved => "resolved",
            Outcome::RolledBack => "rolled_back",
            Outcome::Escalated => "escalated",
            Outcome::Rejected => "rejected",
            Outcome::Failed => "failed",
        }
    }
}

/// Inputs to the policy gates that come from the fleet's operating history rather than from the
/// patch: they answer "is now a safe time to change this service at all?".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyInputs {
    /// Error budget consumed over the SLO window, percent.
    pub error_budget_used_pct: f64,
    /// Seconds since the last automated operation on this service.
    pub seconds_since_last_operation: f64,
    /// Failed operations on this service in the last hour.
    pub recent_failures: u32,
    /// Consecutive failed operations on this service.
    pub consecutive_failures: u32,
    /// Capacity headroom, percent.
    pub capacity_headroom_pct: f64,
    /// Incidents opened in the last hour (this one included).
    pub incidents_last_hour: u32,
    /// Current traffic as a fraction of the daily peak, the timing factor of the risk formula.
    pub traffic_vs_peak: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn second(requests: u32, p95: f64, cpu: f64, memory: f64) -> Sample {
        Sample {
            t_ms: 0,
            requests,
            errors: 1,
            latency_p50_ms: 10.0,
            latency_p99_ms: 30.0,
            latency_p95_ms: p95,
            cpu_cores: cpu,
            memory_mb: memory,
        }
    }

    #[test]
    fn unknown_signals_are_left_out_and_poison_nothing() {
        let nan = f64::NAN;
        let w = WindowStats::of(&[
            second(10, 20.0, 1.0, 100.0),
            second(30, nan, nan, nan),
            second(30, 28.0, 3.0, 300.0),
            second(0, nan, 0.0, 200.0),
        ]);
        assert_eq!((w.requests, w.errors), (70, 4));
        assert_eq!((w.latency_p50_ms, w.latency_p99_ms), (10.0, 30.0));
        // p95 weighs by requests over the seconds that have one: (10·20 + 30·28) / 40.
        assert_eq!(w.latency_p95_ms, Some(26.0));
        assert_eq!(w.cpu_cores, Some(4.0 / 3.0));
        assert_eq!(w.memory_mb, Some(200.0));
        let none = WindowStats::of(&[second(5, nan, nan, nan)]);
        assert_eq!(
            (none.latency_p95_ms, none.cpu_cores, none.memory_mb),
            (None, None, None)
        );
        assert_eq!(none.latency_p99_ms, 30.0);
    }

    #[test]
    fn samples_without_the_new_signals_load_as_unknown() {
        let old =
            r#"{"t_ms":1000,"requests":5,"errors":0,"latency_p50_ms":1.0,"latency_p99_ms":2.0}"#;
        let s: Sample = serde_json::from_str(old).expect("an old sample loads");
        assert!(s.latency_p95_ms.is_nan() && s.cpu_cores.is_nan() && s.memory_mb.is_nan());
        // NaN goes out as null and comes back as NaN.
        let text = serde_json::to_string(&second(1, f64::NAN, 0.5, f64::NAN)).expect("serializes");
        assert!(text.contains(r#""memory_mb":null"#), "{text}");
        let back: Sample = serde_json::from_str(&text).expect("loads back");
        assert!(back.memory_mb.is_nan() && back.latency_p95_ms.is_nan());
        assert_eq!(back.cpu_cores, 0.5);
        // Old windows in audit logs load with no value for the new signals.
        let w: WindowStats = serde_json::from_str(
            r#"{"requests":1,"errors":0,"error_rate":0.0,"latency_p50_ms":1.0,"latency_p99_ms":2.0}"#,
        )
        .expect("an old window loads");
        assert_eq!(w.cpu_cores, None);
    }
}
