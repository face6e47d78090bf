//! The one error type of the config module.
//!
//! Every problem an operator can make in a config file is reported as
//! `file:line:col: message` so that editors and terminals can jump straight to
//! it; the position always refers to the file as the operator wrote it, before
//! `${VAR}` substitution.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// A 1-based line and column (in characters) in the original config text.
///
/// Positions are 1-based because that is what editors, compilers and `grep -n`
/// print, so an operator can paste them into `vim +LINE` without arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, counted in characters (not bytes) like libyaml does.
    pub col: usize,
}

impl Position {
    /// The start of the file; the fallback when nothing better is known.
    pub const START: Position = Position { line: 1, col: 1 };

    /// Builds a position; exists so call sites read `Position::new(l, c)`.
    pub fn new(line: usize, col: usize) -> Self {
        Position { line, col }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// What class of mistake an error describes.
///
/// Lets callers (and tests) react to the kind of problem without parsing the
/// human-readable message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// `${VAR}` referenced an unset variable, or `${` was malformed.
    Substitution,
    /// The text is not valid YAML.
    Syntax,
    /// A key that the schema does not know (usually a typo).
    UnknownKey,
    /// A value of the wrong type, a missing required key, or a duplicate key.
    Type,
    /// A value outside the closed set of an enum (e.g. `backend: mongo`).
    UnknownVariant,
    /// Well-formed but semantically invalid (ranges, cross-field rules).
    Invalid,
}

/// Everything that can go wrong while loading a config file.
///
/// Displays as `file:line:col: message` (or `path: cannot read …` for I/O
/// problems) so the CLI can print it verbatim and exit 2.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read at all (missing, permissions, not UTF-8).
    #[error("{}: cannot read config file: {error}", path.display())]
    Read {
        /// The path the operator asked for, as given.
        path: PathBuf,
        /// The underlying operating-system error. Said in the message and not chained as a
        /// source, so a report of the chain says it once.
        error: io::Error,
    },
    /// A problem at a known place in the file.
    #[error("{file}:{}:{}: {message}", pos.line, pos.col)]
    At {
        /// The file name shown to the operator.
        file: String,
        /// Where in the ORIGINAL text (before substitution) the problem is.
        pos: Position,
        /// The class of problem.
        kind: ErrorKind,
        /// Human-readable description, including hints where we have them.
        message: String,
    },
}

/// File name used until the loader knows the real one (e.g. in `substitute`).
pub(crate) const UNKNOWN_FILE: &str = "<input>";

impl ConfigError {
    /// Builds a positioned error; the file name is filled in by the loader.
    pub(crate) fn at(pos: Position, kind: ErrorKind, message: impl Into<String>) -> Self {
        ConfigError::At {
            file: UNKNOWN_FILE.to_string(),
            pos,
            kind,
            message: message.into(),
        }
    }

    /// Replaces the file name shown in the message (no-op for read errors).
    pub(crate) fn with_file(mut self, name: &str) -> Self {
        if let ConfigError::At { file, .. } = &mut self {
            *file = name.to_string();
        }
        self
    }

    /// Where the problem is, if it has a position; lets callers highlight it.
    pub fn position(&self) -> Option<Position> {
        match self {
            ConfigError::At { pos, .. } => Some(*pos),
            ConfigError::Read { .. } => None,
        }
    }

    /// The class of problem, or `None` for an unreadable file.
    pub fn kind(&self) -> Option<ErrorKind> {
        match self {
            ConfigError::At { kind, .. } => Some(*kind),
            ConfigError::Read { .. } => None,
        }
    }

    /// The message without the `file:line:col: ` prefix, for UIs that show
    /// the position separately.
    pub fn message(&self) -> String {
        match self {
            ConfigError::At { message, .. } => message.clone(),
            ConfigError::Read { error, .. } => format!("cannot read config file: {error}"),
        }
    }
}
