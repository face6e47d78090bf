//! `ccp localize --trace FILE|- [--repo DIR] [--json]`: from a pasted stack trace to the line to
//! look at, and who last changed it.
//!
//! The parsing is [`ccp_core::localize`] (pure); this module adds what a command needs: reading the
//! input, resolving printed paths against the repository's tracked files, `git blame` through
//! libgit2, the exit codes of the Contract, and output for both people and scripts.

use ccp_adapters::git_history::{self, GitError};
use ccp_core::localize::{self, LocalizeError, ParsedTrace};
use serde::Serialize;
use std::io::{Read, Write};
use std::path::Path;

/// Exit code: a culprit frame was named.
pub const EXIT_OK: u8 = 0;
/// Exit code: the trace was understood but no frame can be blamed (none at all, or none in the
/// repository / outside library code).
pub const EXIT_NO_FRAME: u8 = 1;
/// Exit code: bad input (unreadable file, not a stack trace, a trace cut off before its
/// exception line, a `--repo` that is not a git repository with commits).
pub const EXIT_BAD_INPUT: u8 = 2;

/// Shown under `ccp localize --help`: the exit codes and path rules are part of the Contract.
pub const HELP_AFTER: &str = "\
Languages (detected automatically): Python tracebacks, Java/JVM traces (the deepest `Caused by:`
wins, `... N more` frames restored), Node.js, Rust panics (with or without RUST_BACKTRACE),
Go panics. The culprit is the innermost frame that is project code: standard library, runtime,
site-packages, node_modules, ~/.cargo/registry, /rustc/…, GOROOT and vendor frames are skipped.

With --repo DIR, printed paths (absolute paths from another host, ./src/…, Java package paths
such as com/acme/Foo.java) are matched by path suffix against the files tracked at HEAD, the
culprit must be one of them, and its line is blamed with libgit2. A failed blame (say, the trace
comes from another revision) is a warning on stderr and `\"blame\": null`, not an error.
Without --repo, the culprit is the innermost non-library frame as printed.

--json prints one document: {language, exception, message, frames: [{file, line, function,
in_repo}] (outermost first), culprit: {file, line, function} | null, blame: {commit, author,
time, summary} | null}. `line` is 0 and `function` empty where the runtime printed none.

Exit codes:
  0  a culprit was named
  1  no frame found: the trace has no frames, or (with --repo) no frame is in the repository,
     or (without --repo) every frame is library/runtime code (the parsed trace is still
     printed, with `\"culprit\": null`, whenever there are frames to print)
  2  bad input: unreadable file, text that is not a stack trace, a trace cut off before its
     exception line, or a --repo that is not a git repository with at least one commit";

/// Why `ccp localize` could not do its job, with the exit code each reason maps to.
#[derive(Debug, thiserror::Error)]
pub enum LocalizeCmdError {
    /// The trace file (or stdin) could not be read.
    #[error("cannot read the stack trace from {path}: {source}")]
    Read {
        /// File name, or `stdin`.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The text is not a trace ccp understands, or is one without frames.
    #[error(transparent)]
    Parse(#[from] LocalizeError),
    /// `--repo` is unusable.
    #[error("--repo: {0}")]
    Repo(#[source] GitError),
}

impl LocalizeCmdError {
    /// The Contract's exit code for this failure. Why a trace without frames is 1, not 2: it is
    /// a real trace (the runtime just printed no location), so the answer is "no frame found".
    pub fn exit_code(&self) -> u8 {
        match self {
            LocalizeCmdError::Parse(LocalizeError::NoFrames { .. }) => EXIT_NO_FRAME,
            _ => EXIT_BAD_INPUT,
        }
    }
}

/// The `--json` document (see [`HELP_AFTER`]); also what the human rendering is made from.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Report {
    /// Parser that understood the trace (`python`, `java`, `node`, `rust`, `go`).
    pub language: String,
    /// Exception type (`panic` for Rust and Go).
    pub exception: String,
    /// First line of the exception message.
    pub message: String,
    /// Every frame, outermost first.
    pub frames: Vec<ReportFrame>,
    /// The frame to look at, if any.
    pub culprit: Option<Culprit>,
    /// Who last changed the culprit line (only with `--repo`).
    pub blame: Option<Blame>,
}

/// One frame of [`Report::frames`].
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ReportFrame {
    /// Repository-relative path when the frame resolved to a tracked file, else as printed.
    pub file: String,
    /// 1-based line, 0 when unknown.
    pub line: u32,
    /// Function as printed, empty when unknown.
    pub function: String,
    /// With `--repo`: resolved to a tracked file. Without: not library/runtime code.
    pub in_repo: bool,
}

/// [`Report::culprit`].
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Culprit {
    /// Repository-relative with `--repo`, else as printed.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// Function, empty when the runtime did not say (a Rust panic without backtrace).
    pub function: String,
}

/// [`Report::blame`].
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Blame {
    /// Full commit id.
    pub commit: String,
    /// Author name.
    pub author: String,
    /// Author time, RFC 3339 UTC.
    pub time: String,
    /// First line of the commit message.
    pub summary: String,
}

/// A report plus what only the human output shows: the culprit's source line and warnings.
#[derive(Clone, Debug)]
pub struct Localized {
    /// The document.
    pub report: Report,
    /// The culprit's source line, echoed by the runtime or read at HEAD.
    pub code: Option<String>,
    /// Non-fatal problems (a blame that failed), for stderr.
    pub warnings: Vec<String>,
}

impl Localized {
    /// Exit code for a successful parse: 0 with a culprit, 1 without.
    pub fn exit_code(&self) -> u8 {
        if self.report.culprit.is_some() {
            EXIT_OK
        } else {
            EXIT_NO_FRAME
        }
    }
}

/// Read the trace from a file, or stdin for `-`. Non-UTF-8 bytes are replaced rather than
/// refused: logs mix encodings, and the frames are ASCII anyway.
pub fn read_trace(path: &Path) -> Result<String, LocalizeCmdError> {
    let mut bytes = Vec::new();
    let result = if path == Path::new("-") {
        std::io::stdin().read_to_end(&mut bytes).map(|_| ())
    } else {
        std::fs::read(path).map(|read| bytes = read)
    };
    result.map_err(|source| LocalizeCmdError::Read {
        path: if path == Path::new("-") {
            "stdin".to_string()
        } else {
            path.display().to_string()
        },
        source,
    })?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Parse `text`, pick the culprit (against `repo`'s tracked files when given) and blame it.
pub fn localize_text(text: &str, repo: Option<&Path>) -> Result<Localized, LocalizeCmdError> {
    let trace = localize::parse_trace(text)?;
    match repo {
        None => Ok(without_repo(&trace)),
        Some(repo) => with_repo(&trace, repo),
    }
}

fn without_repo(trace: &ParsedTrace) -> Localized {
    let frames = trace
        .frames
        .iter()
        .map(|frame| ReportFrame {
            file: frame.file.clone(),
            line: frame.line,
            function: frame.function.clone(),
            in_repo: !localize::is_library_frame(trace, frame),
        })
        .collect();
    let culprit = localize::likely_culprit(trace);
    Localized {
        report: Report {
            culprit: culprit.map(|frame| Culprit {
                file: frame.file.clone(),
                line: frame.line,
                function: frame.function.clone(),
            }),
            frames,
            blame: None,
            ..header(trace)
        },
        code: culprit.and_then(|frame| frame.code.clone()),
        warnings: Vec::new(),
    }
}

fn with_repo(trace: &ParsedTrace, repo: &Path) -> Result<Localized, LocalizeCmdError> {
    let files = git_history::files_at_head(repo).map_err(LocalizeCmdError::Repo)?;
    let frames = trace
        .frames
        .iter()
        .map(|frame| {
            let resolved = localize::repo_path(trace, frame, &files);
            ReportFrame {
                in_repo: resolved.is_some(),
                file: resolved.unwrap_or_else(|| frame.file.clone()),
                line: frame.line,
                function: frame.function.clone(),
            }
        })
        .collect();
    let mut warnings = Vec::new();
    let mut code = None;
    let mut blame = None;
    let culprit = localize::culprit_frame(trace, &files);
    if let Some((frame, path)) = &culprit {
        code = frame
            .code
            .clone()
            .or_else(|| source_line(repo, path, frame.line));
        match git_history::blame_line(repo, path, frame.line) {
            Ok(commit) => {
                blame = Some(Blame {
                    time: rfc3339_seconds(commit.time_unix),
                    commit: commit.id,
                    author: commit.author,
                    summary: commit.message,
                })
            }
            Err(e) => warnings.push(format!("cannot blame {path}:{}: {e}", frame.line)),
        }
    }
    Ok(Localized {
        report: Report {
            culprit: culprit.map(|(frame, path)| Culprit {
                file: path,
                line: frame.line,
                function: frame.function.clone(),
            }),
            frames,
            blame,
            ..header(trace)
        },
        code,
        warnings,
    })
}

/// The trace-level fields, with empty frames, culprit and blame for the caller to fill.
fn header(trace: &ParsedTrace) -> Report {
    Report {
        language: trace.language.clone(),
        exception: trace.exception_type.clone(),
        message: trace.message.clone(),
        frames: Vec::new(),
        culprit: None,
        blame: None,
    }
}

/// The culprit line as committed, for the human output (the runtime does not always echo it).
fn source_line(repo: &Path, path: &str, line: u32) -> Option<String> {
    let text = git_history::read_file_at_head(repo, path).ok()?;
    let index = usize::try_from(line).ok()?.checked_sub(1)?;
    text.lines().nth(index).map(|l| l.trim().to_string())
}

fn rfc3339_seconds(seconds: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| seconds.to_string())
}

/// Human output, for a tired reader: culprit (and its source line) first, then the error, the
/// blame, and the frames innermost first with the culprit and library frames marked.
pub fn render_human(localized: &Localized, repo: Option<&Path>) -> String {
    let report = &localized.report;
    let mut out = String::new();
    let mut line = |text: String| {
        out.push_str(&text);
        out.push('\n');
    };
    match &report.culprit {
        Some(c) => {
            line(format!(
                "culprit  {}:{}  in {}",
                c.file,
                c.line,
                function_or_unknown(&c.function, &report.language)
            ));
            if let Some(code) = &localized.code {
                line(format!("         {code}"));
            }
        }
        None => line(format!(
            "culprit  none: {}",
            match repo {
                Some(repo) => format!("no frame is in the repository {}", repo.display()),
                None => "every frame is library or runtime code".to_string(),
            }
        )),
    }
    let error = if report.message.is_empty() {
        report.exception.clone()
    } else {
        format!("{}: {}", report.exception, report.message)
    };
    line(format!("error    {error}  ({})", report.language));
    match (&report.blame, repo, &report.culprit) {
        (Some(b), _, _) => line(format!(
            "blame    {}  {}  {}  {}",
            b.commit, b.author, b.time, b.summary
        )),
        (None, None, _) => line("blame    (pass --repo DIR to blame the line)".to_string()),
        (None, Some(_), Some(_)) => {
            line("blame    unavailable (see the warning above)".to_string())
        }
        (None, Some(_), None) => {}
    }
    line(
        "frames   innermost first; > culprit, - library/runtime or outside the repository"
            .to_string(),
    );
    let culprit_index = report.culprit.as_ref().and_then(|c| {
        report
            .frames
            .iter()
            .rposition(|f| f.in_repo && f.file == c.file && f.line == c.line)
    });
    for (index, frame) in report.frames.iter().enumerate().rev() {
        let mark = if Some(index) == culprit_index {
            '>'
        } else if frame.in_repo {
            ' '
        } else {
            '-'
        };
        let place = if frame.line == 0 {
            frame.file.clone()
        } else {
            format!("{}:{}", frame.file, frame.line)
        };
        let function = if frame.function.is_empty() && frame.line > 0 {
            function_or_unknown("", &report.language)
        } else {
            frame.function.clone()
        };
        line(format!("  {mark} {place:<48} {function}"));
    }
    out
}

/// Empty function names, said in words: V8 prints none for anonymous functions, and a Rust
/// panic line names only a location.
fn function_or_unknown(function: &str, language: &str) -> String {
    match (function.is_empty(), language) {
        (false, _) => function.to_string(),
        (true, "node") => "(anonymous function)".into(),
        (true, "rust") => {
            "(function unknown: a debug build run with RUST_BACKTRACE=1 names it)".into()
        }
        (true, _) => "(function unknown)".into(),
    }
}

/// The whole command: read, localize, print, and return the Contract's exit code. Errors go to
/// `err` as one line each; only a failure to write the output is an `Err`.
pub fn run(
    trace: &Path,
    repo: Option<&Path>,
    json: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> std::io::Result<u8> {
    let result = read_trace(trace).and_then(|text| localize_text(&text, repo));
    let localized = match result {
        Ok(localized) => localized,
        Err(e) => {
            writeln!(err, "ccp localize: {e}")?;
            return Ok(e.exit_code());
        }
    };
    for warning in &localized.warnings {
        writeln!(err, "ccp localize: warning: {warning}")?;
    }
    if json {
        let document = serde_json::to_string(&localized.report).map_err(std::io::Error::other)?;
        writeln!(out, "{document}")?;
    } else {
        write!(out, "{}", render_human(&localized, repo))?;
    }
    let code = localized.exit_code();
    if code == EXIT_NO_FRAME {
        let why = match repo {
            Some(repo) => format!(
                "no frame of the {} trace is a file tracked in {} (is it the right repository?)",
                localized.report.language,
                repo.display()
            ),
            None => format!(
                "every frame of the {} trace is library or runtime code",
                localized.report.language
            ),
        };
        writeln!(err, "ccp localize: {why}")?;
    }
    Ok(code)
}
