//! The load pipeline: read → substitute → parse → deserialize → validate.
//!
//! Each stage reports problems at the line and column of the ORIGINAL file,
//! translating serde/libyaml positions through the substitution source map.

use std::path::Path;

use super::error::{ConfigError, ErrorKind, Position};
use super::hint;
use super::locate::locate;
use super::schema::Config;
use super::subst::{substitute, EnvLookup, Substituted};
use super::validate::validate;

/// Looks a variable up in the process environment.
///
/// Public so callers of `load_str` can use the real environment; variables
/// that are not valid Unicode count as unset.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Largest configuration, recovery-tree or fleet file read. Why a cap: libyaml's event stream
/// costs about 80 bytes of memory per byte of input (a 16 MiB file took 1.3 GB), and no
/// hand-written file, nor a fleet of ten thousand services, comes near 4 MiB.
pub const MAX_YAML_BYTES: u64 = 4 << 20;

/// The text of `path`, refused before reading more than `max` bytes of it.
pub fn read_capped(path: &Path, max: u64) -> std::io::Result<String> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(max + 1)
        .read_to_string(&mut text)?;
    if text.len() as u64 > max {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "the file is larger than {} MiB, the limit for configuration files",
                max >> 20
            ),
        ));
    }
    Ok(text)
}

/// Loads and validates the config file at `path`, substituting from the
/// process environment.
///
/// This is what the cockpit runs at start; an unreadable file is an error
/// naming the path.
pub fn load_file(path: &Path) -> Result<Config, ConfigError> {
    let text = read_capped(path, MAX_YAML_BYTES).map_err(|error| ConfigError::Read {
        path: path.to_path_buf(),
        error,
    })?;
    load_str(&text, &path.display().to_string(), &process_env)
}

/// Validates the config file at `path` exactly as `load_file` would.
///
/// Backs `ccp config check FILE` (the CLI exits 2 on error); sharing the code
/// path guarantees that a file which checks clean also loads clean.
pub fn check_file(path: &Path) -> Result<Config, ConfigError> {
    load_file(path)
}

/// Loads and validates config `text`; errors are reported as
/// `file_name:line:col: message`.
///
/// Takes the environment as a closure so tests and embedders are hermetic.
pub fn load_str(text: &str, file_name: &str, env: EnvLookup<'_>) -> Result<Config, ConfigError> {
    parse(text, env).map_err(|e| e.with_file(file_name))
}

fn parse(text: &str, env: EnvLookup<'_>) -> Result<Config, ConfigError> {
    // libyaml skips a byte-order mark without counting a column; so do we.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    crate::depth::check_flow_depth(text)?;
    let sub = substitute(text, env)?;
    let tree: serde_yaml::Value = serde_yaml::from_str(&sub.text)
        .map_err(|e| translate(&e, &sub, text, ErrorKind::Syntax))?;
    let config = if tree.is_null() {
        Config::default()
    } else {
        serde_yaml::from_str(&sub.text).map_err(|e| translate(&e, &sub, text, ErrorKind::Type))?
    };
    validate(&config).map_err(|issue| issue.into_error(text))?;
    Ok(config)
}

/// A serde/libyaml error split into its parts.
struct Parts {
    /// Dotted path of the value being deserialized, if any.
    path: Option<String>,
    /// The bare message, without path and position.
    message: String,
}

/// Converts a serde_yaml error into a positioned `ConfigError`.
fn translate(
    err: &serde_yaml::Error,
    sub: &Substituted,
    original: &str,
    default_kind: ErrorKind,
) -> ConfigError {
    let loc = err.location().map(|l| Position::new(l.line(), l.column()));
    let full = err.to_string();
    let parts = split(&full, loc, sub);
    let pos = loc.map_or(Position::START, |p| sub.original_position(p));
    let (kind, message) = describe(&parts, default_kind);
    let pos = refine_unknown_key(kind, &parts, pos, original);
    let message = tab_hint(message, pos, original);
    ConfigError::at(pos, kind, message)
}

/// The serde message prefixes that follow a `path: ` prefix.
const SERDE_PREFIXES: &[&str] = &[
    "invalid type",
    "invalid value",
    "invalid length",
    "unknown field",
    "unknown variant",
    "missing field",
    "duplicate field",
    "duplicate entry",
];

fn split(full: &str, loc: Option<Position>, sub: &Substituted) -> Parts {
    let message = rewrite_marks(full, loc, sub);
    let has_path = !SERDE_PREFIXES.iter().any(|p| message.starts_with(p));
    let path_end = SERDE_PREFIXES
        .iter()
        .filter_map(|p| message.find(&format!(": {p}")))
        .min()
        .filter(|_| has_path);
    match path_end {
        Some(end) => Parts {
            path: Some(message[..end].to_string()),
            message: message[end + 2..].to_string(),
        },
        None => Parts {
            path: None,
            message,
        },
    }
}

/// Removes the ` at line L column C` that repeats the error's own position
/// and rewrites any other mark (libyaml's "context") to original
/// coordinates, so no substituted-text position leaks to the operator.
fn rewrite_marks(full: &str, loc: Option<Position>, sub: &Substituted) -> String {
    let mut out = String::new();
    let mut rest = full;
    while let Some(idx) = rest.find(" at line ") {
        out.push_str(&rest[..idx]);
        let after = &rest[idx + " at line ".len()..];
        match parse_mark(after) {
            Some((pos, used)) => {
                if Some(pos) != loc {
                    let orig = sub.original_position(pos);
                    out.push_str(&format!(" at line {} column {}", orig.line, orig.col));
                }
                rest = &after[used..];
            }
            None => {
                out.push_str(" at line ");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    strip_position_suffix(out)
}

/// Parses `L column C` at the start of `s`; returns it and the bytes used.
fn parse_mark(s: &str) -> Option<(Position, usize)> {
    let line_len = s.find(|c: char| !c.is_ascii_digit())?;
    let line = s[..line_len].parse().ok()?;
    let rest = s[line_len..].strip_prefix(" column ")?;
    let col_len = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let col = rest[..col_len].parse().ok()?;
    let used = line_len + " column ".len() + col_len;
    Some((Position::new(line, col), used))
}

/// Drops libyaml's trailing ` at position N` (used for marks on 1:1).
fn strip_position_suffix(message: String) -> String {
    match message.rfind(" at position ") {
        Some(idx)
            if message[idx + " at position ".len()..]
                .chars()
                .all(|c| c.is_ascii_digit()) =>
        {
            message[..idx].to_string()
        }
        _ => message,
    }
}

/// Classifies the error and writes the operator-facing message.
fn describe(parts: &Parts, default_kind: ErrorKind) -> (ErrorKind, String) {
    let msg = parts.message.as_str();
    let names = hint::backticked(msg);
    let path = parts.path.as_deref();
    if msg.starts_with("unknown field") {
        let (key, valid) = names.split_first().unwrap_or((&"?", &[]));
        (ErrorKind::UnknownKey, hint::unknown_key(path, key, valid))
    } else if msg.starts_with("unknown variant") {
        let (value, valid) = names.split_first().unwrap_or((&"?", &[]));
        let at = path.unwrap_or("value");
        (
            ErrorKind::UnknownVariant,
            hint::unknown_variant(at, value, valid),
        )
    } else {
        let kind =
            if default_kind == ErrorKind::Syntax && path.is_none() && !msg.contains("duplicate") {
                ErrorKind::Syntax
            } else {
                ErrorKind::Type
            };
        (kind, plain_message(path, msg))
    }
}

/// Rewrites serde's type/value/missing/duplicate messages in operator terms.
fn plain_message(path: Option<&str>, msg: &str) -> String {
    let names = hint::backticked(msg);
    let section = |p: Option<&str>| match p {
        Some(p) => format!(" in section `{p}`"),
        None => " at the top level".to_string(),
    };
    if let Some(rest) = msg.strip_prefix("invalid type: ") {
        found_expected("wrong type", path, rest)
    } else if let Some(rest) = msg.strip_prefix("invalid value: ") {
        found_expected("invalid value", path, rest)
    } else if msg.starts_with("missing field") {
        let key = names.first().copied().unwrap_or("?");
        format!("missing required key `{key}`{}", section(path))
    } else if msg.starts_with("duplicate field") {
        let key = names.first().copied().unwrap_or("?");
        format!("duplicate key `{key}`{}", section(path))
    } else if let Some(key) = msg.strip_prefix("duplicate entry with key ") {
        format!("duplicate key {key}{}", section(path))
    } else {
        match path {
            Some(p) => format!("`{p}`: {msg}"),
            None => msg.to_string(),
        }
    }
}

/// `"string \"abc\", expected u64"` → `wrong type for `x`: expected a
/// non-negative integer, found a string`. The value itself is never repeated: it may have come
/// from a `${VAR}` holding a secret, and the position already shows the operator where it is.
fn found_expected(what: &str, path: Option<&str>, rest: &str) -> String {
    let target = path.map_or(String::new(), |p| format!(" for `{p}`"));
    // libyaml reads a number past 64 bits as a 128-bit integer that nothing here accepts.
    if rest.starts_with("integer ") && (rest.contains(" as u128") || rest.contains(" as i128")) {
        return format!(
            "{what}{target}: the integer is too large (whole numbers here fit in 64 bits)"
        );
    }
    match rest.rfind(", expected ") {
        Some(idx) => {
            let found = without_value(&rest[..idx]);
            let expected = friendly(&rest[idx + ", expected ".len()..]);
            format!("{what}{target}: expected {expected}, found {found}")
        }
        None => format!("{what}{target}: {}", without_value(rest)),
    }
}

/// serde's description of a found value (`string "abc"`, `integer `7``) without the value.
fn without_value(found: &str) -> String {
    for (prefix, kind) in [
        ("string ", "a string"),
        ("integer ", "an integer"),
        ("floating point ", "a number"),
        ("boolean ", "a boolean"),
        ("char ", "a character"),
    ] {
        if found.starts_with(prefix) {
            return kind.to_string();
        }
    }
    found.to_string()
}

/// Names Rust types the way an operator thinks about YAML values.
fn friendly(expected: &str) -> String {
    match expected {
        "u8" | "u16" | "u32" | "u64" | "usize" => format!("a non-negative integer ({expected})"),
        "f32" | "f64" => "a number".to_string(),
        "a boolean" => "`true` or `false`".to_string(),
        s if s.starts_with("struct ") => "a mapping of keys (a section)".to_string(),
        s => s.to_string(),
    }
}

/// Makes sure an unknown-key error points at the key itself: if the line the
/// parser reported does not contain it, find it by walking the path.
fn refine_unknown_key(kind: ErrorKind, parts: &Parts, pos: Position, original: &str) -> Position {
    if kind != ErrorKind::UnknownKey {
        return pos;
    }
    let Some(key) = hint::backticked(&parts.message).first().copied() else {
        return pos;
    };
    if key_at(original, pos, key) {
        return pos;
    }
    let mut path: Vec<&str> = parts
        .path
        .as_deref()
        .map_or(Vec::new(), |p| p.split('.').collect());
    path.push(key);
    locate(original, &path).unwrap_or(pos)
}

/// Explains libyaml's cryptic complaint when the culprit is a tab.
fn tab_hint(message: String, pos: Position, original: &str) -> String {
    if char_at(original, pos) == Some('\t') {
        format!("{message} (YAML does not allow tabs for indentation; use spaces)")
    } else {
        message
    }
}

fn char_at(text: &str, pos: Position) -> Option<char> {
    let line = text.lines().nth(pos.line.checked_sub(1)?)?;
    line.chars().nth(pos.col.checked_sub(1)?)
}

/// Whether `key` is written at `pos` in `text`.
fn key_at(text: &str, pos: Position, key: &str) -> bool {
    text.lines()
        .nth(pos.line.saturating_sub(1))
        .map(|l| {
            l.chars()
                .skip(pos.col.saturating_sub(1))
                .collect::<String>()
        })
        .is_some_and(|rest| rest.trim_start_matches(['"', '\'']).starts_with(key))
}

/// Loads any YAML document `T` (recovery rules, decision trees) with the
/// config file's `${VAR}` substitution and `file:line:col` error reporting,
/// so every file an operator edits fails the same way. An empty document is
/// an error here: unlike the config, these files have no defaults.
pub fn load_yaml_str<T: serde::de::DeserializeOwned>(
    text: &str,
    file_name: &str,
    env: EnvLookup<'_>,
) -> Result<T, ConfigError> {
    let parse = || {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        crate::depth::check_flow_depth(text)?;
        let sub = substitute(text, env)?;
        let tree: serde_yaml::Value = serde_yaml::from_str(&sub.text)
            .map_err(|e| translate(&e, &sub, text, ErrorKind::Syntax))?;
        if tree.is_null() {
            return Err(ConfigError::at(
                Position::START,
                ErrorKind::Type,
                "the file is empty",
            ));
        }
        serde_yaml::from_str(&sub.text).map_err(|e| translate(&e, &sub, text, ErrorKind::Type))
    };
    parse().map_err(|e| e.with_file(file_name))
}

/// A semantic error in a YAML file (as loaded by [`load_yaml_str`]) at the
/// key `path` (e.g. `["nodes", "rollback", "next"]`), or at the longest part
/// of it that is written; lets other modules validate their own files with
/// the config's `file:line:col: message` format.
pub fn invalid_at(
    original: &str,
    file_name: &str,
    path: &[&str],
    message: impl Into<String>,
) -> ConfigError {
    let original = original.strip_prefix('\u{feff}').unwrap_or(original);
    let pos = super::locate::locate_best(original, path);
    ConfigError::at(pos, ErrorKind::Invalid, message).with_file(file_name)
}
