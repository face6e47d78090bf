//! Gate checks as configured shell commands, per language, on a patched copy of the checkout.
//!
//! The embedded Python checks prove the demo; a real fleet has its own tools (`cargo check`,
//! `ruff`, `bandit`, `go vet`, …). This runner copies the service directory (or the whole
//! repository, `gates.check_scope: repo`), writes the patched file into the copy, and runs the
//! command configured under `gates.commands.<language>.<check>` there with `sh -c`, killing its
//! whole process group when the timeout passes. What it printed is kept (bounded: head and tail)
//! for the cockpit's gate details and the audit log.
//!
//! Without a command, Python keeps the built-in `py_compile` and `unittest` checks (so the
//! embedded demo behaves as before), and lint/security fall back to the pipeline's in-process
//! heuristics ([`CheckRunner::handles`] says no). A program that is not installed fails its gate
//! with a message naming it; nothing here panics on what a command does.

use crate::python_checks::{self, PatchedCopy};
use crate::subprocess::{run_bounded, Limits};
use ccp_config::{CheckScope, GateCommands, GatesConfig};
use ccp_core::domain::{CheckKind, CheckReport, FixPlan};
use ccp_core::ports::CheckRunner;
use std::collections::{BTreeMap, HashMap};
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::time::Duration;

/// Bytes kept from the start of each output stream while a command runs.
const CAPTURE_HEAD: usize = 16 * 1024;
/// Bytes kept from the end of each output stream (where verdicts and tracebacks are).
const CAPTURE_TAIL: usize = 48 * 1024;
/// Between SIGTERM and SIGKILL when a check runs out of time.
const TERM_GRACE: Duration = Duration::from_secs(2);
/// Longest command text quoted in a gate's reason.
const SHOWN_COMMAND: usize = 80;

/// Runs the configured check commands (see the module documentation).
#[derive(Debug, Clone)]
pub struct CommandCheckRunner {
    repo_root: PathBuf,
    service_dirs: HashMap<String, String>,
    commands: BTreeMap<String, GateCommands>,
    languages: BTreeMap<String, String>,
    scope: CheckScope,
    check_timeout: Duration,
    test_timeout: Duration,
}

impl CommandCheckRunner {
    /// The runner for a checkout at `repo_root` whose services live in `service_dirs` (service →
    /// directory inside the repository), configured by the `gates` section: `commands`,
    /// `languages`, `check_scope`, `check_timeout_s` and `test_timeout_s`.
    pub fn from_config(
        repo_root: PathBuf,
        service_dirs: HashMap<String, String>,
        gates: &GatesConfig,
    ) -> Self {
        Self {
            repo_root,
            service_dirs,
            commands: gates.commands.clone(),
            languages: gates.languages.clone(),
            scope: gates.check_scope,
            check_timeout: Duration::from_secs(gates.check_timeout_s),
            test_timeout: Duration::from_secs(gates.test_timeout_s),
        }
    }

    /// The language a patch is checked as: `gates.languages.<service>` if set, else the patched
    /// file's extension. Public so front-ends and tests can say which commands apply.
    pub fn language(&self, service: &str, file: &str) -> Option<String> {
        self.languages
            .get(service)
            .cloned()
            .or_else(|| language_for_path(file).map(str::to_string))
    }

    /// The configured command for a language and check, if any (blank counts as none).
    fn command(&self, language: &str, kind: CheckKind) -> Option<&str> {
        let c = self.commands.get(language)?;
        let cmd = match kind {
            CheckKind::Syntax => c.syntax.as_deref(),
            CheckKind::Tests => c.tests.as_deref(),
            CheckKind::Lint => c.lint.as_deref(),
            CheckKind::Security => c.security.as_deref(),
        };
        cmd.filter(|s| !s.trim().is_empty())
    }

    /// Copy and patch what the scope says; work out where commands run and what `{files}` is.
    fn prepare(&self, service: &str, plan: &FixPlan) -> Result<Workspace, String> {
        let dir = self
            .service_dirs
            .get(service)
            .map(|d| d.trim_end_matches('/').to_string());
        let patch_err =
            |e: python_checks::CheckError| format!("could not prepare the patched copy: {e}");
        match (self.scope, dir) {
            (CheckScope::Service, None) => Err(format!(
                "no source directory known for {service}: cannot run checks"
            )),
            (CheckScope::Service, Some(dir)) => {
                let prefix = format!("{dir}/");
                let inner = plan.file.strip_prefix(&prefix).unwrap_or(&plan.file);
                let copy = python_checks::prepare_patched_tree(
                    &self.repo_root.join(&dir),
                    inner,
                    &plan.new_source,
                )
                .map_err(patch_err)?;
                let cwd = copy.dir.path().to_path_buf();
                let files = vec![path_text(&copy.file)];
                Ok(Workspace {
                    root: cwd.clone(),
                    cwd,
                    files,
                    _copy: copy,
                })
            }
            (CheckScope::Repo, dir) => {
                let copy = python_checks::prepare_patched_tree(
                    &self.repo_root,
                    &plan.file,
                    &plan.new_source,
                )
                .map_err(patch_err)?;
                let root = copy.dir.path().to_path_buf();
                let cwd = dir
                    .map(|d| root.join(d))
                    .filter(|p| p.is_dir())
                    .unwrap_or_else(|| root.clone());
                let patched = root.join(&copy.file);
                let file = patched
                    .strip_prefix(&cwd)
                    .map(path_text)
                    .unwrap_or_else(|_| path_text(&patched));
                Ok(Workspace {
                    root,
                    cwd,
                    files: vec![file],
                    _copy: copy,
                })
            }
        }
    }

    /// No command configured: the built-in Python checks, or a failed gate saying what to set.
    fn without_command(
        &self,
        service: &str,
        plan: &FixPlan,
        kind: CheckKind,
        language: Option<&str>,
    ) -> CheckReport {
        let name = kind.as_str();
        match (kind, language) {
            (CheckKind::Syntax | CheckKind::Tests, Some("python")) => {
                let work = match self.prepare(service, plan) {
                    Ok(w) => w,
                    Err(msg) => return CheckReport::failed(msg),
                };
                let outcome = if kind == CheckKind::Syntax {
                    python_checks::syntax_check(&work.cwd, &work.files)
                } else {
                    python_checks::run_unit_tests(&work.cwd, self.test_timeout)
                };
                CheckReport::from(outcome)
            }
            (CheckKind::Lint | CheckKind::Security, Some(lang)) => CheckReport::failed(format!(
                "no {name} command for {lang}: set gates.commands.{lang}.{name} (the pipeline uses its built-in heuristic otherwise)"
            )),
            (_, Some(lang)) => CheckReport::failed(format!(
                "no {name} command for {lang} files: set gates.commands.{lang}.{name} (built-in {name} checks exist for Python only)"
            )),
            (_, None) => CheckReport::failed(format!(
                "cannot tell the language of {} from its extension: set gates.languages.{service}",
                plan.file
            )),
        }
    }
}

/// The patched copy a command runs in.
struct Workspace {
    /// Root of the copy (`{root}`).
    root: PathBuf,
    /// Working directory of the command: the service directory in the copy (`{dir}`).
    cwd: PathBuf,
    /// Changed files, relative to `cwd` when inside it (`{files}`).
    files: Vec<String>,
    /// Keeps the temporary directory alive until the check is over.
    _copy: PatchedCopy,
}

impl CheckRunner for CommandCheckRunner {
    fn run(&self, service: &str, plan: &FixPlan, kind: CheckKind) -> CheckReport {
        let language = self.language(service, &plan.file);
        let Some((lang, template)) = language
            .as_deref()
            .and_then(|l| self.command(l, kind).map(|c| (l, c)))
        else {
            return self.without_command(service, plan, kind, language.as_deref());
        };
        let work = match self.prepare(service, plan) {
            Ok(w) => w,
            Err(msg) => return CheckReport::failed(msg),
        };
        let timeout = if kind == CheckKind::Tests {
            self.test_timeout
        } else {
            self.check_timeout
        };
        let line = expand(template, &work);
        let env = [
            ("CCP_GATE", kind.as_str().to_string()),
            ("CCP_SERVICE", service.to_string()),
            ("CCP_LANGUAGE", lang.to_string()),
            ("CCP_FILES", work.files.join("\n")),
        ];
        let run = run_shell(&line, &work.cwd, timeout, &env);
        report_for(kind, lang, template, timeout, run)
    }

    fn handles(&self, service: &str, plan: &FixPlan, kind: CheckKind) -> bool {
        match kind {
            CheckKind::Syntax | CheckKind::Tests => true,
            CheckKind::Lint | CheckKind::Security => self
                .language(service, &plan.file)
                .is_some_and(|l| self.command(&l, kind).is_some()),
        }
    }
}

/// Language name of a file from its extension; the keys `gates.commands` is written with.
pub fn language_for_path(file: &str) -> Option<&'static str> {
    let ext = Path::new(file).extension()?.to_str()?.to_ascii_lowercase();
    Some(match ext.as_str() {
        "py" | "pyi" => "python",
        "rs" => "rust",
        "go" => "go",
        "js" | "mjs" | "cjs" | "jsx" => "javascript",
        "ts" | "tsx" | "mts" | "cts" => "typescript",
        "rb" => "ruby",
        "java" => "java",
        "kt" | "kts" => "kotlin",
        "scala" => "scala",
        "cs" => "csharp",
        "php" => "php",
        "c" | "h" => "c",
        "cc" | "cpp" | "cxx" | "hpp" | "hh" => "cpp",
        "swift" => "swift",
        "sh" | "bash" => "shell",
        _ => return None,
    })
}

/// Fill in `{files}`, `{dir}`, `{root}` and `{python}`, each shell-quoted.
fn expand(template: &str, work: &Workspace) -> String {
    let files = work
        .files
        .iter()
        .map(|f| shell_quote(f))
        .collect::<Vec<_>>()
        .join(" ");
    template
        .replace("{files}", &files)
        .replace("{dir}", &shell_quote(&path_text(&work.cwd)))
        .replace("{root}", &shell_quote(&path_text(&work.root)))
        .replace(
            "{python}",
            &shell_quote(&python_checks::python_program(&work.cwd)),
        )
}

/// Quote for `sh`: bare when only safe characters, else single quotes.
pub fn shell_quote(s: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_-./+=:,@%".contains(c);
    if !s.is_empty() && s.chars().all(safe) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn path_text(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

// ---- running ------------------------------------------------------------------------------

/// Why a command did not run at all.
#[derive(Debug, thiserror::Error)]
enum RunError {
    /// The program the command starts with is not installed.
    #[error("`{0}` is not installed (not found on PATH)")]
    Missing(String),
    /// `sh` itself could not be started.
    #[error("cannot start sh: {0}")]
    Spawn(io::Error),
}

/// What a command did.
struct ShellRun {
    status: Option<ExitStatus>,
    /// stdout and stderr interleaved as written, head and tail kept.
    output: String,
    timed_out: bool,
    /// Set when some process kept the output pipe open after the command ended.
    incomplete: bool,
}

impl ShellRun {
    fn combined(&self) -> String {
        let mut text = self.output.clone();
        if self.incomplete {
            text.push_str(
                "\n[output incomplete: a process outside the check's process group kept it open]\n",
            );
        }
        text
    }
}

/// Run `line` with `sh -c` in `cwd` through the one bounded runner: its own process group, so a
/// timeout stops everything it started (test runners fork), output bounded.
fn run_shell(
    line: &str,
    cwd: &Path,
    timeout: Duration,
    env: &[(&str, String)],
) -> Result<ShellRun, RunError> {
    if let Some(program) = first_program(line) {
        if !program_exists(&program, cwd) {
            return Err(RunError::Missing(program));
        }
    }
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(line)
        .current_dir(cwd)
        .env("PYTHONDONTWRITEBYTECODE", "1");
    for (k, v) in env {
        command.env(k, v);
    }
    let limits = Limits {
        head_bytes: CAPTURE_HEAD,
        tail_bytes: CAPTURE_TAIL,
        ..Limits::new(timeout, TERM_GRACE)
    };
    let run = run_bounded(&mut command, &limits).map_err(RunError::Spawn)?;
    Ok(ShellRun {
        status: run.status,
        output: run.output,
        timed_out: run.timed_out,
        incomplete: run.incomplete,
    })
}

/// The program a command line starts, when it can be told without a shell: the first word
/// after `NAME=value` assignments. `None` for shell syntax, builtins and expansions, which the
/// shell resolves itself (exit 127 still names a missing program then).
fn first_program(line: &str) -> Option<String> {
    const BUILTINS: &[&str] = &[
        "cd", "exec", "export", "set", "unset", "test", "[", "true", "false", "echo", "printf",
        ":", ".", "source", "if", "for", "while", "until", "case", "eval", "command", "exit",
        "ulimit", "umask", "!", "time", "trap", "wait", "read",
    ];
    let mut words = ShellWords::new(line);
    loop {
        let word = words.next()?;
        let assignment = word.split_once('=').is_some_and(|(name, _)| {
            !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit())
        });
        if assignment {
            continue;
        }
        let shell_syntax = word.is_empty()
            || word.contains([
                '$', '`', '(', ')', '{', '}', ';', '|', '&', '<', '>', '*', '?',
            ]);
        if shell_syntax || BUILTINS.contains(&word.as_str()) {
            return None;
        }
        return Some(word);
    }
}

/// Whether `program` can be started: a path (relative to `cwd`) to an executable file, or an
/// executable file in a `PATH` directory.
fn program_exists(program: &str, cwd: &Path) -> bool {
    let executable = |p: &Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        return executable(&cwd.join(program));
    }
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| executable(&dir.join(program))))
}

/// Words of a command line with `sh` quoting rules for quotes and backslashes (enough to find
/// the first program; not a shell).
struct ShellWords<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
}

impl<'a> ShellWords<'a> {
    fn new(line: &'a str) -> Self {
        Self {
            chars: line.chars().peekable(),
        }
    }
}

impl Iterator for ShellWords<'_> {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        while self.chars.peek().is_some_and(|c| c.is_whitespace()) {
            self.chars.next();
        }
        self.chars.peek()?;
        let mut word = String::new();
        while let Some(c) = self.chars.next() {
            match c {
                c if c.is_whitespace() => break,
                '\'' => {
                    for q in self.chars.by_ref() {
                        if q == '\'' {
                            break;
                        }
                        word.push(q);
                    }
                }
                '"' => {
                    while let Some(q) = self.chars.next() {
                        match q {
                            '"' => break,
                            '\\' => {
                                if let Some(e) = self.chars.next() {
                                    word.push(e);
                                }
                            }
                            q => word.push(q),
                        }
                    }
                }
                '\\' => {
                    if let Some(e) = self.chars.next() {
                        word.push(e);
                    }
                }
                c => word.push(c),
            }
        }
        Some(word)
    }
}

// ---- reporting ----------------------------------------------------------------------------

fn report_for(
    kind: CheckKind,
    lang: &str,
    template: &str,
    timeout: Duration,
    run: Result<ShellRun, RunError>,
) -> CheckReport {
    let shown = shorten(template.trim(), SHOWN_COMMAND);
    let key = format!("gates.commands.{lang}.{}", kind.as_str());
    let run = match run {
        Ok(run) => run,
        Err(e) => return CheckReport::failed(format!("{e}: cannot run `{shown}` ({key})")),
    };
    let text = run.combined();
    let detail = python_checks::truncate_detail(&text);
    let (tests_run, failures, failing) = if kind == CheckKind::Tests {
        test_counts(&text)
    } else {
        (None, None, Vec::new())
    };
    let mut report = CheckReport {
        passed: false,
        summary: String::new(),
        detail,
        tests_run,
        failures,
    };
    if run.timed_out {
        report.summary = format!(
            "`{shown}` timed out after {} s and was killed (with its process group)",
            timeout.as_secs_f64().round()
        );
        return report;
    }
    let code = run.status.and_then(|s| s.code());
    let ok = run.status.is_some_and(|s| s.success());
    let counts = match (tests_run, failures) {
        (Some(ran), Some(f)) => format!(" ({ran} test{}, {f} failure{})", plural(ran), plural(f)),
        _ => String::new(),
    };
    report.passed = ok && !(kind == CheckKind::Tests && tests_run == Some(0));
    report.summary = if report.passed {
        format!("`{shown}` passed{counts}")
    } else if ok {
        format!("`{shown}` ran no tests: the gate proves nothing")
    } else {
        let what = if !failing.is_empty() {
            failing.join(", ")
        } else {
            headline(&text)
        };
        match code {
            Some(127) => format!(
                "`{shown}` exited 127: a program it calls was not found: {}",
                headline(&text)
            ),
            Some(c) => format!("`{shown}` failed (exit {c}){counts}: {what}"),
            None => format!("`{shown}` was killed by a signal{counts}: {what}"),
        }
    };
    report
}

/// Tests run, failures and failing test names from unittest's or pytest's closing lines.
fn test_counts(output: &str) -> (Option<u32>, Option<u32>, Vec<String>) {
    let (ran, failures, failing) = python_checks::unittest_counts(output);
    if ran.is_some() {
        return (ran, failures, failing);
    }
    pytest_counts(output)
}

/// pytest's `1 failed, 3 passed in 0.05s` (with or without `=` rulers) and `FAILED x::y` lines.
fn pytest_counts(output: &str) -> (Option<u32>, Option<u32>, Vec<String>) {
    let failing = output
        .lines()
        .filter_map(|l| l.trim().strip_prefix("FAILED "))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(str::to_string)
        .collect();
    let verdict = output
        .lines()
        .rev()
        .map(|l| l.trim_matches(|c| c == '=' || c == ' '))
        .find(|l| {
            l.contains(" in ")
                && (l.contains("passed") || l.contains("failed") || l.contains("error"))
        });
    let Some(verdict) = verdict else {
        return (None, None, failing);
    };
    let count = |key: &str| -> u32 {
        verdict
            .split(',')
            .filter_map(|part| {
                let mut it = part.split_whitespace();
                let n = it.next()?.parse::<u32>().ok()?;
                let word = it.next()?;
                word.starts_with(key).then_some(n)
            })
            .sum()
    };
    let passed = count("passed");
    let bad = count("failed") + count("error");
    (Some(passed + bad), Some(bad), failing)
}

/// The line of a check's output that says what went wrong, for the one-line reason.
fn headline(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let first = |pred: &dyn Fn(&str) -> bool| lines.iter().copied().find(|l| pred(l));
    let last = |pred: &dyn Fn(&str) -> bool| lines.iter().rev().copied().find(|l| pred(l));
    let python_exception = |l: &str| {
        l.split_once(':').is_some_and(|(name, _)| {
            !name.contains(' ') && (name.ends_with("Error") || name.ends_with("Exception"))
        })
    };
    let line = first(&|l| l.starts_with("error[") || l.starts_with("error:"))
        .or_else(|| first(&|l| l.contains(": error")))
        .or_else(|| last(&python_exception))
        .or_else(|| first(&|l| l.starts_with("FAIL: ") || l.starts_with("ERROR: ")))
        .or_else(|| first(&|l| l.starts_with(">> Issue:") || l.contains(" Issue: ")))
        .or_else(|| lines.first().copied())
        .unwrap_or("no output");
    shorten(line, 200)
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

fn plural(n: u32) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_keeps_safe_words_bare_and_quotes_the_rest() {
        assert_eq!(shell_quote("payments/x.py"), "payments/x.py");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn first_program_skips_assignments_and_gives_up_on_shell_syntax() {
        assert_eq!(first_program("ruff check x.py").as_deref(), Some("ruff"));
        assert_eq!(
            first_program("CARGO_TARGET_DIR=/t cargo check").as_deref(),
            Some("cargo")
        );
        assert_eq!(
            first_program("'/opt/my tools/lint' x").as_deref(),
            Some("/opt/my tools/lint")
        );
        assert_eq!(first_program("cd sub && make"), None);
        assert_eq!(first_program("$LINTER x"), None);
        assert_eq!(first_program("(make)"), None);
    }

    #[test]
    fn languages_from_extensions() {
        assert_eq!(language_for_path("a/b.py"), Some("python"));
        assert_eq!(language_for_path("src/lib.rs"), Some("rust"));
        assert_eq!(language_for_path("Makefile"), None);
    }

    #[test]
    fn pytest_and_headlines() {
        let out = "F.\nFAILED tests/test_a.py::test_b - assert 1 == 2\n==== 1 failed, 1 passed in 0.03s ====\n";
        let (ran, failures, failing) = pytest_counts(out);
        assert_eq!((ran, failures), (Some(2), Some(1)));
        assert_eq!(failing, vec!["tests/test_a.py::test_b".to_string()]);
        assert_eq!(
            headline(
                "  File \"x.py\", line 1\n    def f(:\n          ^\nSyntaxError: invalid syntax\n"
            ),
            "SyntaxError: invalid syntax"
        );
        assert_eq!(
            headline(
                "   Compiling a\nerror[E0425]: cannot find value `y`\nerror: could not compile"
            ),
            "error[E0425]: cannot find value `y`"
        );
    }
}
