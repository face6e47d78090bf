//! Safety gates for Python patches: a syntax check and the service's own unit tests, both run on
//! a patched *copy* of the service so the real checkout is never touched by an unapproved patch.
//!
//! The interpreter is `python3` from PATH, or whatever `CCP_PYTHON` names (e.g. a virtualenv's).
//! Bytecode writing is disabled so gates leave no `__pycache__` behind.

use std::collections::HashMap;
use std::fs;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// Captured output kept in [`CheckOutcome::detail`]: enough for the failing test's traceback
/// without flooding the cockpit or the audit log.
pub const DETAIL_LIMIT: usize = 8 * 1024;

/// Environment variable that overrides the interpreter.
pub const PYTHON_ENV: &str = "CCP_PYTHON";

/// Result of one gate, shaped for the cockpit (one-line summary) and the audit log (detail).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckOutcome {
    /// Whether the gate passed; a gate that could not run counts as failed.
    pub passed: bool,
    /// One line for the cockpit, e.g. `17 tests, 0 failures`.
    pub summary: String,
    /// Captured output (stdout then stderr), truncated to about 8 KiB.
    pub detail: String,
    /// Wall-clock time of the gate.
    pub duration_ms: u64,
    /// Tests run, when the runner said (`Ran N tests`).
    pub tests_run: Option<u32>,
    /// Failures plus errors, when the runner said.
    pub failures: Option<u32>,
}

/// Why a patched copy could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The patch names an absolute path or one with `..`.
    #[error("refusing to patch {file}: the path must be relative to the service directory and must not contain `..`")]
    UnsafePath {
        /// Path given.
        file: String,
    },
    /// The file to patch does not exist in the service.
    #[error("{file} does not exist in {service_dir}: the patch targets a file the service does not have (wrong service directory or path prefix?)")]
    MissingFile {
        /// Path given.
        file: String,
        /// Service directory.
        service_dir: String,
    },
    /// Copying or writing failed.
    #[error("preparing the patched copy: {action} {path} failed: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// Path involved.
        path: String,
        /// I/O error.
        source: io::Error,
    },
}

/// The interpreter to run: `$CCP_PYTHON` if set and non-empty, else `python3`.
pub fn python_interpreter() -> String {
    std::env::var(PYTHON_ENV)
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "python3".to_string())
}

/// The program that starts Python for a command run in `dir`.
///
/// Why resolve: a version manager's `python3` is a shim (pyenv's is a bash script that runs
/// half a dozen more) that costs a third of a second per start before Python itself starts;
/// the gates and the probe start Python four times per run. A bare name is resolved once per
/// process to the interpreter it starts (`sys.executable`), unless `dir` or a parent pins a
/// version (`.python-version`, `.tool-versions`), where the shim must decide per directory.
/// A path in `$CCP_PYTHON` is used as it is; a name that cannot be resolved is left for the
/// spawn to report.
pub fn python_program(dir: &Path) -> String {
    let name = python_interpreter();
    if name.contains('/') || pins_a_python(dir) {
        return name;
    }
    resolved_interpreter(&name).unwrap_or(name)
}

/// Whether `dir` or an ancestor holds a version manager's pin file.
fn pins_a_python(dir: &Path) -> bool {
    dir.ancestors()
        .any(|d| d.join(".python-version").exists() || d.join(".tool-versions").exists())
}

/// `sys.executable` of the interpreter `name` starts, asked once per name and process.
fn resolved_interpreter(name: &str) -> Option<String> {
    static CACHE: std::sync::OnceLock<std::sync::Mutex<HashMap<String, Option<String>>>> =
        std::sync::OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(known) = cache.lock().ok()?.get(name) {
        return known.clone();
    }
    let answer = Command::new(name)
        .args(["-c", "import sys; print(sys.executable)"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|text| text.trim().to_string())
        .filter(|path| path.starts_with('/') && Path::new(path).is_file());
    if let Ok(mut cache) = cache.lock() {
        cache.insert(name.to_string(), answer.clone());
    }
    answer
}

/// Whether the interpreter can be started at all; lets callers (and tests) skip Python gates
/// with a clear note instead of failing obscurely.
pub fn python_available() -> bool {
    Command::new(python_interpreter())
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Copy `service_dir` into a new temporary directory (skipping `__pycache__` and `.git`) and
/// write `new_source` to `file` there. Why a copy: gates must never modify the real checkout.
///
/// `file` is relative to `service_dir`; a repository-relative path such as
/// `payment-service/payments/x.py` is accepted too (leading components are dropped until the
/// rest names a file in `service_dir`).
pub fn prepare_patched_copy(
    service_dir: &Path,
    file: &str,
    new_source: &str,
) -> Result<tempfile::TempDir, CheckError> {
    prepare_patched_tree(service_dir, file, new_source).map(|copy| copy.dir)
}

/// A patched copy and where the patched file sits in it.
#[derive(Debug)]
pub struct PatchedCopy {
    /// The copy; removed when dropped.
    pub dir: tempfile::TempDir,
    /// The patched file, relative to the copied directory.
    pub file: PathBuf,
}

/// [`prepare_patched_copy`], also telling which file it patched (relative to `dir`), so command
/// checks can name the changed files. `dir` may be a service directory or a whole repository.
pub fn prepare_patched_tree(
    dir: &Path,
    file: &str,
    new_source: &str,
) -> Result<PatchedCopy, CheckError> {
    let relative = resolve_in_dir(dir, file)?;
    let copy = tempfile::Builder::new()
        .prefix("ccp-gate-")
        .tempdir()
        .map_err(|source| CheckError::Io {
            action: "creating a temporary directory for",
            path: dir.display().to_string(),
            source,
        })?;
    copy_tree(dir, copy.path())?;
    let target = copy.path().join(&relative);
    fs::write(&target, new_source).map_err(|source| CheckError::Io {
        action: "writing",
        path: target.display().to_string(),
        source,
    })?;
    Ok(PatchedCopy {
        dir: copy,
        file: relative,
    })
}

/// Resolve `file` inside `dir`, refusing escapes. A repository-relative path is accepted too:
/// leading components are dropped until the rest names a file in `dir`
/// (`payment-service/payments/x.py` → `payments/x.py`).
fn resolve_in_dir(dir: &Path, file: &str) -> Result<PathBuf, CheckError> {
    let path = Path::new(file);
    if file.is_empty() || !path.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(CheckError::UnsafePath {
            file: file.to_string(),
        });
    }
    let mut components = path.components();
    loop {
        let candidate = components.as_path();
        if candidate.as_os_str().is_empty() {
            break;
        }
        if dir.join(candidate).is_file() {
            return Ok(candidate.to_path_buf());
        }
        components.next();
    }
    Err(CheckError::MissingFile {
        file: file.to_string(),
        service_dir: dir.display().to_string(),
    })
}

/// Names never copied into a patched copy: version control and tool caches, which checks must
/// not depend on (and which would leak stale results into the gate).
const SKIPPED_DIRS: &[&str] = &[
    ".git",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
];

fn copy_tree(from: &Path, to: &Path) -> Result<(), CheckError> {
    let io_err = |action: &'static str, path: &Path| {
        let path = path.display().to_string();
        move |source| CheckError::Io {
            action,
            path,
            source,
        }
    };
    fs::create_dir_all(to).map_err(io_err("creating", to))?;
    // A `target` directory beside a Cargo.toml is a Rust build output: copying it would cost
    // gigabytes and prove nothing.
    let cargo_dir = from.join("Cargo.toml").is_file();
    for entry in fs::read_dir(from).map_err(io_err("listing", from))? {
        let entry = entry.map_err(io_err("listing", from))?;
        let name = entry.file_name();
        if SKIPPED_DIRS.iter().any(|s| name == *s) || (cargo_dir && name == "target") {
            continue;
        }
        let source = entry.path();
        let metadata = fs::metadata(&source).map_err(io_err("inspecting", &source))?;
        if metadata.is_dir() {
            copy_tree(&source, &to.join(&name))?;
        } else if metadata.is_file() {
            fs::copy(&source, to.join(&name)).map_err(io_err("copying", &source))?;
        }
    }
    Ok(())
}

/// `python3 -m py_compile` on each changed file (relative to `dir`, or repository-relative), so a patch that does not
/// even parse never reaches the tests. Bytecode goes to a throw-away cache directory.
pub fn syntax_check(dir: &Path, files: &[String]) -> CheckOutcome {
    let started = Instant::now();
    let cache = tempfile::tempdir().ok();
    let mut detail = String::new();
    for file in files {
        let relative = match resolve_in_dir(dir, file) {
            Ok(relative) => relative,
            Err(e) => return failed(started, format!("syntax check: {e}"), String::new()),
        };
        let mut command = python_command(dir);
        command.arg("-m").arg("py_compile").arg(&relative);
        if let Some(cache) = &cache {
            command.env("PYTHONPYCACHEPREFIX", cache.path());
        }
        let output = match run_with_timeout(&mut command, Duration::from_secs(60)) {
            Ok(output) => output,
            Err(e) => return failed(started, not_started("the syntax check", &e), String::new()),
        };
        detail.push_str(&output.combined());
        if !output.succeeded() {
            let summary = format!(
                "syntax error in {file}: {}",
                syntax_error_line(&output.stderr)
            );
            return failed(started, summary, detail);
        }
    }
    CheckOutcome {
        passed: true,
        summary: format!("syntax OK ({} file{})", files.len(), plural(files.len())),
        detail: truncate_detail(&detail),
        duration_ms: elapsed_ms(started),
        tests_run: None,
        failures: None,
    }
}

fn syntax_error_line(stderr: &str) -> String {
    let error = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("py_compile failed")
        .trim();
    let line = stderr
        .lines()
        .filter_map(|l| l.split_once(", line ").map(|(_, rest)| rest))
        .next_back()
        .map(|rest| {
            rest.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        });
    match line {
        Some(n) if !n.is_empty() => format!("line {n}: {error}"),
        _ => error.to_string(),
    }
}

/// Run the service's unit tests in `dir` (`python3 -m unittest discover -s tests -t .`), killing
/// them after `timeout`. A run with zero tests fails: a gate that checked nothing proves nothing.
pub fn run_unit_tests(dir: &Path, timeout: Duration) -> CheckOutcome {
    let started = Instant::now();
    let mut command = python_command(dir);
    command.args(["-m", "unittest", "discover", "-s", "tests", "-t", "."]);
    let output = match run_with_timeout(&mut command, timeout) {
        Ok(output) => output,
        Err(e) => return failed(started, not_started("the unit tests", &e), String::new()),
    };
    let text = output.combined();
    let report = UnittestReport::parse(&output.stderr);
    let mut outcome = CheckOutcome {
        passed: false,
        summary: String::new(),
        detail: truncate_detail(&text),
        duration_ms: elapsed_ms(started),
        tests_run: report.ran,
        failures: report.failures,
    };
    if output.timed_out {
        outcome.summary = format!(
            "unit tests timed out after {} s and were killed",
            timeout.as_secs_f64().round()
        );
        return outcome;
    }
    outcome.passed =
        output.succeeded() && report.ran.unwrap_or(0) > 0 && report.failures == Some(0);
    outcome.summary = report.summary(output.succeeded());
    outcome
}

/// Tests run, failures and failing test names from unittest's closing lines, for command checks
/// that run unittest themselves; `None`s when the output is not unittest's.
pub(crate) fn unittest_counts(output: &str) -> (Option<u32>, Option<u32>, Vec<String>) {
    let r = UnittestReport::parse(output);
    (r.ran, r.failures, r.failing)
}

/// What unittest's closing lines say.
#[derive(Debug, Default, PartialEq)]
struct UnittestReport {
    ran: Option<u32>,
    failures: Option<u32>,
    failing: Vec<String>,
}

impl UnittestReport {
    fn parse(stderr: &str) -> Self {
        let mut report = UnittestReport::default();
        for line in stderr.lines() {
            let line = line.trim_end();
            if let Some(rest) = line.strip_prefix("Ran ") {
                report.ran = rest.split_whitespace().next().and_then(|n| n.parse().ok());
            } else if line == "OK" || line.starts_with("OK (") {
                report.failures = Some(0);
            } else if let Some(counts) = line.strip_prefix("FAILED (") {
                report.failures = Some(count_of(counts, "failures=") + count_of(counts, "errors="));
            } else if let Some(name) = failing_test_name(line) {
                report.failing.push(name);
            }
        }
        report
    }

    fn summary(&self, exit_ok: bool) -> String {
        match (self.ran, self.failures) {
            (Some(0), _) => "no tests ran: the gate proves nothing (is there a tests/ package?)".to_string(),
            (Some(ran), Some(0)) if exit_ok => format!("{ran} test{}, 0 failures", plural(ran as usize)),
            (Some(ran), Some(failures)) => format!(
                "{ran} test{}, {failures} failure{}: {}",
                plural(ran as usize),
                plural(failures as usize),
                self.failing.join(", ")
            ),
            _ => "unit tests did not report a result (crashed before unittest's summary line); see detail".to_string(),
        }
    }
}

fn count_of(counts: &str, key: &str) -> u32 {
    counts
        .split([',', ')'])
        .filter_map(|part| part.trim().strip_prefix(key))
        .filter_map(|n| n.parse::<u32>().ok())
        .sum()
}

/// `ERROR: test_x (tests.test_y.Case.test_x)` → `test_x (error)`.
fn failing_test_name(line: &str) -> Option<String> {
    let (kind, rest) = if let Some(rest) = line.strip_prefix("ERROR: ") {
        ("error", rest)
    } else if let Some(rest) = line.strip_prefix("FAIL: ") {
        ("failure", rest)
    } else {
        return None;
    };
    let name = rest.split_whitespace().next()?;
    Some(format!("{name} ({kind})"))
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn failed(started: Instant, summary: String, detail: String) -> CheckOutcome {
    CheckOutcome {
        passed: false,
        summary,
        detail: truncate_detail(&detail),
        duration_ms: elapsed_ms(started),
        tests_run: None,
        failures: None,
    }
}

/// Summary for an interpreter that could not be started.
fn not_started(what: &str, error: &io::Error) -> String {
    let python = python_interpreter();
    if error.kind() == io::ErrorKind::NotFound {
        format!("{python} not found on PATH: cannot run {what}")
    } else {
        format!("cannot start {python} to run {what}: {error}")
    }
}

fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Keep the head and the tail (where unittest prints failures and its verdict) within
/// [`DETAIL_LIMIT`] bytes, on character boundaries.
pub(crate) fn truncate_detail(text: &str) -> String {
    if text.len() <= DETAIL_LIMIT {
        return text.to_string();
    }
    let head_end = floor_char_boundary(text, DETAIL_LIMIT / 4);
    let tail_start = ceil_char_boundary(text, text.len() - DETAIL_LIMIT * 3 / 4);
    format!(
        "{}\n… [{} bytes omitted] …\n{}",
        &text[..head_end],
        tail_start - head_end,
        &text[tail_start..]
    )
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// A Python command in `dir` with bytecode writing off and stdin closed.
pub(crate) fn python_command(dir: &Path) -> Command {
    let mut command = Command::new(python_program(dir));
    command
        .arg("-B")
        .current_dir(dir)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONIOENCODING", "utf-8")
        .stdin(Stdio::null());
    command
}

/// What a finished (or killed) process printed.
pub(crate) struct ProcessOutput {
    pub status: Option<ExitStatus>,
    pub stdout: String,
    pub stderr: String,
    pub timed_out: bool,
}

impl ProcessOutput {
    pub fn succeeded(&self) -> bool {
        !self.timed_out && self.status.is_some_and(|s| s.success())
    }

    pub fn combined(&self) -> String {
        match (self.stdout.is_empty(), self.stderr.is_empty()) {
            (true, _) => self.stderr.clone(),
            (false, true) => self.stdout.clone(),
            (false, false) => format!("{}\n{}", self.stdout, self.stderr),
        }
    }
}

/// Run a command, reading its output on threads (so a chatty child cannot block on a full pipe),
/// and kill it when `timeout` passes. Errors only when the process cannot be started.
pub(crate) fn run_with_timeout(
    command: &mut Command,
    timeout: Duration,
) -> io::Result<ProcessOutput> {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let started = std::time::Instant::now();
    let stdout = spawn_reader(child.stdout.take());
    let stderr = spawn_reader(child.stderr.take());
    let (status, timed_out) = wait_or_kill(&mut child, timeout);
    crate::subprocess::note_external(started);
    Ok(ProcessOutput {
        status,
        stdout: join_reader(stdout),
        stderr: join_reader(stderr),
        timed_out,
    })
}

fn wait_or_kill(child: &mut Child, timeout: Duration) -> (Option<ExitStatus>, bool) {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return (Some(status), false),
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                return (child.wait().ok(), true);
            }
        }
    }
}

fn spawn_reader<R: Read + Send + 'static>(pipe: Option<R>) -> Option<thread::JoinHandle<String>> {
    pipe.map(|mut pipe| {
        thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            String::from_utf8_lossy(&bytes).into_owned()
        })
    })
}

fn join_reader(handle: Option<thread::JoinHandle<String>>) -> String {
    handle.and_then(|h| h.join().ok()).unwrap_or_default()
}

/// A built-in check's outcome as the port's report. The output is kept only when the check
/// failed: a passing run prints dots and a wall-clock timing, nothing to review, and keeping it
/// would make seeded runs differ.
impl From<CheckOutcome> for ccp_core::domain::CheckReport {
    fn from(o: CheckOutcome) -> Self {
        Self {
            passed: o.passed,
            summary: o.summary,
            detail: if o.passed { String::new() } else { o.detail },
            tests_run: o.tests_run,
            failures: o.failures,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo_service() -> PathBuf {
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("demo/payment-service")
    }

    fn skip_without_python() -> bool {
        if python_available() {
            return false;
        }
        eprintln!("skipping: {} is not available", python_interpreter());
        true
    }

    #[test]
    fn a_bare_python_is_resolved_once_unless_a_directory_pins_a_version() {
        if skip_without_python() || python_interpreter().contains('/') {
            return;
        }
        let plain = tempfile::tempdir().expect("tempdir");
        let resolved = python_program(plain.path());
        assert!(resolved.starts_with('/'), "{resolved}");
        assert_eq!(
            python_program(plain.path()),
            resolved,
            "asked once, same answer"
        );
        let pinned = tempfile::tempdir().expect("tempdir");
        fs::write(pinned.path().join(".python-version"), "3.11\n").expect("pin");
        fs::create_dir(pinned.path().join("svc")).expect("svc");
        assert_eq!(
            python_program(&pinned.path().join("svc")),
            python_interpreter()
        );
    }

    #[test]
    fn parses_unittest_verdicts() {
        let failed = "E.\n======\nERROR: test_process_payment_without_email (tests.t.C.test_process_payment_without_email)\n----\nRan 17 tests in 0.004s\n\nFAILED (failures=2, errors=1)\n";
        let report = UnittestReport::parse(failed);
        assert_eq!((report.ran, report.failures), (Some(17), Some(3)));
        assert_eq!(
            report.summary(false),
            "17 tests, 3 failures: test_process_payment_without_email (error)"
        );
        let ok = UnittestReport::parse("..\nRan 2 tests in 0.1s\n\nOK (skipped=1)\n");
        assert_eq!(ok.summary(true), "2 tests, 0 failures");
        let none = UnittestReport::parse("\nRan 0 tests in 0.000s\n\nOK\n");
        assert!(none.summary(true).starts_with("no tests ran"));
    }

    #[test]
    fn truncation_keeps_head_and_tail_on_char_boundaries() {
        let text = "é".repeat(10_000);
        let cut = truncate_detail(&text);
        assert!(cut.len() < DETAIL_LIMIT + 100);
        assert!(cut.contains("bytes omitted"));
        assert_eq!(truncate_detail("short"), "short");
    }

    #[test]
    fn patched_copy_refuses_escapes_and_accepts_repo_relative_paths() {
        let dir = demo_service();
        assert!(matches!(
            prepare_patched_copy(&dir, "../x.py", ""),
            Err(CheckError::UnsafePath { .. })
        ));
        assert!(matches!(
            prepare_patched_copy(&dir, "payments/nope.py", ""),
            Err(CheckError::MissingFile { .. })
        ));
        let copy = prepare_patched_copy(&dir, "payment-service/payments/receipts.py", "# x\n")
            .expect("copy");
        let patched = fs::read_to_string(copy.path().join("payments/receipts.py")).expect("read");
        assert_eq!(patched, "# x\n");
        assert!(copy.path().join("probe.py").is_file());
        assert!(!copy.path().join("payments/__pycache__").exists());
    }

    #[test]
    fn syntax_check_reports_the_broken_line() {
        if skip_without_python() {
            return;
        }
        let dir = demo_service();
        let copy = prepare_patched_copy(&dir, "payments/receipts.py", "def f(:\n    pass\n")
            .expect("copy");
        let files = vec!["payments/receipts.py".to_string()];
        let bad = syntax_check(copy.path(), &files);
        assert!(!bad.passed);
        assert!(
            bad.summary
                .starts_with("syntax error in payments/receipts.py: line 1"),
            "{}",
            bad.summary
        );
        let good = syntax_check(&dir, &files);
        assert!(good.passed, "{good:?}");
        assert_eq!(good.summary, "syntax OK (1 file)");
        assert!(
            !dir.join("payments/__pycache__").exists(),
            "no bytecode in the checkout"
        );
    }

    #[test]
    fn timeout_kills_and_says_so() {
        if skip_without_python() {
            return;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        fs::create_dir(dir.path().join("tests")).expect("mkdir");
        fs::write(dir.path().join("tests/__init__.py"), "").expect("init");
        fs::write(
            dir.path().join("tests/test_slow.py"),
            "import time, unittest\nclass T(unittest.TestCase):\n    def test_slow(self):\n        time.sleep(30)\n",
        )
        .expect("test");
        let outcome = run_unit_tests(dir.path(), Duration::from_millis(1500));
        assert!(!outcome.passed);
        assert!(
            outcome.summary.contains("timed out after"),
            "{}",
            outcome.summary
        );
        assert!(outcome.duration_ms < 10_000);
    }
}
