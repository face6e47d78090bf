//! The service probe: replay the deterministic request corpus (`probe.py`) against a copy of the
//! service and read back the error rate. Baseline, canary and verification all use it, so their
//! numbers are comparable request for request.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::python_checks::{python_command, python_interpreter, run_with_timeout};

/// How long one probe run may take before it is killed (1000 requests take well under a second).
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(120);

/// What `probe.py` prints: one JSON object. Field names are the probe's, so serde maps 1:1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProbeResult {
    /// Requests replayed.
    pub total: u32,
    /// Requests that raised.
    pub errors: u32,
    /// `errors / total`.
    pub error_rate: f64,
    /// Errors by exception class name.
    pub error_types: BTreeMap<String, u32>,
    /// The first traceback, as `traceback.format_exc()` printed it: the input to localization.
    pub sample_traceback: Option<String>,
}

/// Why the probe produced no usable measurement.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// No probe.py in the service directory.
    #[error(
        "no probe.py in {0}: the service directory is wrong or the probe was not deployed with it"
    )]
    MissingProbe(String),
    /// The interpreter is missing.
    #[error(
        "{0} not found on PATH: cannot run the probe (set CCP_PYTHON to a Python 3 interpreter)"
    )]
    PythonMissing(String),
    /// The interpreter exists but could not be started.
    #[error("cannot start {python} to run the probe: {source}")]
    Spawn {
        /// Interpreter.
        python: String,
        /// OS error.
        source: io::Error,
    },
    /// Killed after [`PROBE_TIMEOUT`].
    #[error("the probe did not finish within {0} s and was killed (service hanging?)")]
    TimedOut(u64),
    /// Non-zero exit: the probe itself crashed (e.g. the service does not import).
    #[error("the probe exited with {status}: {stderr_tail}")]
    Failed {
        /// Exit status text.
        status: String,
        /// Last lines of stderr.
        stderr_tail: String,
    },
    /// Output is not the expected JSON object.
    #[error("the probe printed no valid result JSON ({why}); first output: {stdout_head}")]
    BadOutput {
        /// Parse problem.
        why: String,
        /// Start of stdout.
        stdout_head: String,
    },
}

/// Run `python3 probe.py --requests N --seed S` in `service_dir` and parse its JSON result.
/// Why an adapter: every stage that measures the service must do it the same way.
pub fn run_probe(service_dir: &Path, requests: u32, seed: u64) -> Result<ProbeResult, ProbeError> {
    if !service_dir.join("probe.py").is_file() {
        return Err(ProbeError::MissingProbe(service_dir.display().to_string()));
    }
    let mut command = python_command(service_dir);
    command
        .arg("probe.py")
        .arg("--requests")
        .arg(requests.to_string())
        .arg("--seed")
        .arg(seed.to_string());
    let output = run_with_timeout(&mut command, PROBE_TIMEOUT).map_err(spawn_error)?;
    if output.timed_out {
        return Err(ProbeError::TimedOut(PROBE_TIMEOUT.as_secs()));
    }
    if !output.succeeded() {
        return Err(ProbeError::Failed {
            status: output
                .status
                .map_or_else(|| "no status".to_string(), |s| s.to_string()),
            stderr_tail: tail_lines(&output.stderr, 5),
        });
    }
    parse_probe_output(&output.stdout)
}

fn spawn_error(source: io::Error) -> ProbeError {
    let python = python_interpreter();
    if source.kind() == io::ErrorKind::NotFound {
        ProbeError::PythonMissing(python)
    } else {
        ProbeError::Spawn { python, source }
    }
}

/// The last line that looks like a JSON object wins, so stray prints before it do not matter.
pub(crate) fn parse_probe_output(stdout: &str) -> Result<ProbeResult, ProbeError> {
    let bad = |why: String| ProbeError::BadOutput {
        why,
        stdout_head: stdout.chars().take(200).collect(),
    };
    let line = stdout
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('{'))
        .ok_or_else(|| bad("no line starts with `{`".to_string()))?;
    let result: ProbeResult = serde_json::from_str(line).map_err(|e| bad(e.to_string()))?;
    if result.errors > result.total {
        return Err(bad(format!(
            "{} errors out of {} requests",
            result.errors, result.total
        )));
    }
    Ok(result)
}

fn tail_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_probe_json_and_rejects_garbage() {
        let out = "noise\n{\"total\": 10, \"errors\": 2, \"error_rate\": 0.2, \"error_types\": {\"AttributeError\": 2}, \"sample_traceback\": null}\n";
        let result = parse_probe_output(out).expect("parse");
        assert_eq!((result.total, result.errors), (10, 2));
        assert_eq!(result.error_types.get("AttributeError"), Some(&2));
        assert!(matches!(
            parse_probe_output("oops"),
            Err(ProbeError::BadOutput { .. })
        ));
        let missing = run_probe(Path::new("/nonexistent-ccp"), 10, 1).expect_err("missing");
        assert!(matches!(missing, ProbeError::MissingProbe(_)));
    }
}
