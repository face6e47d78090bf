//! `${VAR}` / `${VAR:-default}` / `$$` substitution on the raw config text.
//!
//! Substitution happens before YAML parsing so that secrets and per-host
//! values can be injected anywhere (including inside strings), and it keeps a
//! per-line source map so that every later error can still be reported at
//! the line and column of the file the operator actually wrote.
//!
//! Rules:
//! - `${NAME}`: the variable's value; an error if it is unset.
//! - `${NAME:-default}`: the value, or `default` when unset OR empty (like the
//!   shell). The default may itself contain `${…}` and `$$`, and is only
//!   evaluated when it is used.
//! - `$$`: a literal `$`. A `$` followed by anything else is kept as is.
//! - A reference must close on the line where it starts.
//! - YAML comments (a `#` at the start of a line or after whitespace, outside
//!   quotes) are copied verbatim, so a commented-out `${SECRET}` example never
//!   breaks a load.

use super::error::{ConfigError, ErrorKind, Position};

/// The environment lookup used for substitution.
///
/// A closure rather than `std::env::var` so tests are hermetic and callers
/// can layer overrides.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Substituted text plus the map back to the original text.
///
/// Kept together because a position in `text` is meaningless to an operator
/// unless it is translated with `original_position`.
#[derive(Debug, Clone)]
pub struct Substituted {
    /// The text after substitution, ready for the YAML parser.
    pub text: String,
    map: SourceMap,
}

impl Substituted {
    /// Translates a 1-based position in `text` to the original text.
    ///
    /// A position inside a substituted value maps to the `$` of its
    /// reference, because that is what the operator can see and edit.
    pub fn original_position(&self, pos: Position) -> Position {
        self.map.to_original(pos)
    }
}

/// Replaces `${VAR}`, `${VAR:-default}` and `$$` in `text`.
///
/// Errors (unset variable without default, unterminated or malformed `${`)
/// point at the `$` of the offending reference in `text`.
pub fn substitute(text: &str, env: EnvLookup<'_>) -> Result<Substituted, ConfigError> {
    let mut out = Builder::new();
    for (idx, line) in text.split_inclusive('\n').enumerate() {
        let chars: Vec<char> = line.chars().collect();
        substitute_line(&chars, idx + 1, env, &mut out)?;
    }
    Ok(Substituted {
        text: out.text,
        map: SourceMap { lines: out.lines },
    })
}

/// One output anchor: from `out_col` on, the output line corresponds to
/// `orig` (advancing with it when `literal`, pinned to it otherwise).
#[derive(Debug, Clone, Copy)]
struct Anchor {
    out_col: usize,
    orig: Position,
    literal: bool,
}

/// Per output line, the anchors in increasing `out_col` order.
#[derive(Debug, Clone, Default)]
struct SourceMap {
    lines: Vec<Vec<Anchor>>,
}

impl SourceMap {
    fn to_original(&self, pos: Position) -> Position {
        let Some(anchors) = pos.line.checked_sub(1).and_then(|i| self.lines.get(i)) else {
            return pos;
        };
        let Some(anchor) = anchors.iter().rev().find(|a| a.out_col <= pos.col) else {
            return pos;
        };
        if anchor.literal {
            Position::new(
                anchor.orig.line,
                anchor.orig.col + (pos.col - anchor.out_col),
            )
        } else {
            anchor.orig
        }
    }
}

/// Accumulates output text and its source map.
struct Builder {
    text: String,
    lines: Vec<Vec<Anchor>>,
    out_col: usize,
    literal_run: bool,
}

impl Builder {
    fn new() -> Self {
        let first = Anchor {
            out_col: 1,
            orig: Position::START,
            literal: true,
        };
        Builder {
            text: String::new(),
            lines: vec![vec![first]],
            out_col: 1,
            literal_run: true,
        }
    }

    fn anchor(&mut self, orig: Position, literal: bool) {
        let anchor = Anchor {
            out_col: self.out_col,
            orig,
            literal,
        };
        if let Some(line) = self.lines.last_mut() {
            line.push(anchor);
        }
    }

    /// Starts a new output line whose first column maps to `orig`.
    fn new_line(&mut self, orig: Position, literal: bool) {
        self.out_col = 1;
        self.lines.push(Vec::new());
        self.anchor(orig, literal);
    }

    /// Emits one character copied from the original at `orig`.
    fn literal(&mut self, ch: char, orig: Position) {
        if !self.literal_run {
            self.anchor(orig, true);
            self.literal_run = true;
        }
        self.text.push(ch);
        if ch == '\n' {
            self.new_line(Position::new(orig.line + 1, 1), true);
        } else {
            self.out_col += 1;
        }
    }

    /// Emits a substituted value that stands for the reference at `orig`.
    fn value(&mut self, value: &str, orig: Position) {
        self.anchor(orig, false);
        for ch in value.chars() {
            self.text.push(ch);
            if ch == '\n' {
                self.new_line(orig, false);
            } else {
                self.out_col += 1;
            }
        }
        self.literal_run = false;
    }
}

/// Tracks whether the scanner is inside a quoted YAML scalar on this line,
/// so that a `#` inside quotes is not mistaken for a comment.
#[derive(Default)]
struct Quotes {
    single: bool,
    double: bool,
}

impl Quotes {
    fn inside(&self) -> bool {
        self.single || self.double
    }

    /// Updates the state for the quote character at `chars[i]`; returns how
    /// many characters it consumed (2 for the `''` escape, else 1).
    fn update(&mut self, chars: &[char], i: usize) -> usize {
        match chars[i] {
            '\'' if self.single && chars.get(i + 1) == Some(&'\'') => 2,
            '\'' if self.single => {
                self.single = false;
                1
            }
            '\'' if !self.double && opens_scalar(chars, i) => {
                self.single = true;
                1
            }
            '"' if self.double => {
                self.double = false;
                1
            }
            '"' if !self.single && opens_scalar(chars, i) => {
                self.double = true;
                1
            }
            '\\' if self.double => 2.min(chars.len() - i),
            _ => 1,
        }
    }
}

/// Whether a quote at `chars[i]` starts a quoted scalar (as opposed to an
/// apostrophe inside a plain scalar like `don't`).
fn opens_scalar(chars: &[char], i: usize) -> bool {
    let before = &chars[..i];
    let prev_ok = before
        .last()
        .is_none_or(|c| c.is_whitespace() || "[{,".contains(*c));
    let prev_token = before.iter().rev().find(|c| !c.is_whitespace());
    prev_ok && prev_token.is_none_or(|c| ":-[{,?".contains(*c))
}

/// Whether `chars[i]` is a `#` that starts a YAML comment.
fn starts_comment(chars: &[char], i: usize, quotes: &Quotes) -> bool {
    chars[i] == '#' && !quotes.inside() && (i == 0 || chars[i - 1].is_whitespace())
}

fn substitute_line(
    chars: &[char],
    line: usize,
    env: EnvLookup<'_>,
    out: &mut Builder,
) -> Result<(), ConfigError> {
    let mut quotes = Quotes::default();
    let mut i = 0;
    while i < chars.len() {
        let pos = Position::new(line, i + 1);
        if starts_comment(chars, i, &quotes) {
            for (k, ch) in chars.iter().enumerate().skip(i) {
                out.literal(*ch, Position::new(line, k + 1));
            }
            return Ok(());
        }
        if chars[i] == '$' {
            if let Some((value, next)) = dollar(chars, i, line, env)? {
                out.value(&value, pos);
                i = next;
                continue;
            }
        }
        let used = quotes.update(chars, i);
        for (k, ch) in chars.iter().enumerate().skip(i).take(used) {
            out.literal(*ch, Position::new(line, k + 1));
        }
        i += used;
    }
    Ok(())
}

/// Handles a `$` at `chars[i]`: `Some((value, next_index))` for `$$` and
/// `${…}`, `None` for a lone `$` that stays literal.
fn dollar(
    chars: &[char],
    i: usize,
    line: usize,
    env: EnvLookup<'_>,
) -> Result<Option<(String, usize)>, ConfigError> {
    match chars.get(i + 1) {
        Some('$') => Ok(Some(("$".to_string(), i + 2))),
        Some('{') => reference(chars, i, line, env).map(Some),
        _ => Ok(None),
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn subst_error(line: usize, idx: usize, message: String) -> ConfigError {
    ConfigError::at(
        Position::new(line, idx + 1),
        ErrorKind::Substitution,
        message,
    )
}

/// Parses and resolves the `${…}` starting at `chars[start]` (the `$`).
fn reference(
    chars: &[char],
    start: usize,
    line: usize,
    env: EnvLookup<'_>,
) -> Result<(String, usize), ConfigError> {
    let name_start = start + 2;
    let name_end = name_start
        + chars[name_start..]
            .iter()
            .take_while(|c| is_name_char(**c))
            .count();
    let name: String = chars[name_start..name_end].iter().collect();
    match (chars.get(name_end), chars.get(name_end + 1)) {
        _ if name.is_empty() && chars.get(name_end).is_some_and(|c| !is_line_end(*c)) => Err(
            subst_error(line, start, "empty variable name in `${…}`".to_string()),
        ),
        (Some('}'), _) => env(&name)
            .ok_or_else(|| unset_error(line, start, &name))
            .map(|v| (v, name_end + 1)),
        (Some(':'), Some('-')) => with_default(chars, start, name_end + 2, line, &name, env),
        (Some(c), _) if !is_line_end(*c) => Err(subst_error(
            line,
            name_end,
            format!("invalid character `{c}` in `${{{name}…}}`; expected `}}` or `:-default`"),
        )),
        _ => Err(unterminated(line, start)),
    }
}

fn is_line_end(c: char) -> bool {
    c == '\n' || c == '\r'
}

fn unterminated(line: usize, start: usize) -> ConfigError {
    subst_error(
        line,
        start,
        "unterminated `${`: missing `}` before the end of the line".to_string(),
    )
}

fn unset_error(line: usize, start: usize, name: &str) -> ConfigError {
    subst_error(
        line,
        start,
        format!(
            "environment variable `{name}` is not set; export it or write `${{{name}:-default}}`"
        ),
    )
}

/// Resolves `${NAME:-default}` whose default text starts at `chars[from]`.
fn with_default(
    chars: &[char],
    start: usize,
    from: usize,
    line: usize,
    name: &str,
    env: EnvLookup<'_>,
) -> Result<(String, usize), ConfigError> {
    let value = env(name).filter(|v| !v.is_empty());
    let needed = value.is_none();
    let permissive = |_: &str| Some(String::new());
    let default_env: EnvLookup<'_> = if needed { env } else { &permissive };
    let (default, next) = default_text(chars, start, from, line, default_env)?;
    Ok((value.unwrap_or(default), next))
}

/// Expands the default text up to its closing `}`; returns it and the index
/// after the `}`.
fn default_text(
    chars: &[char],
    start: usize,
    from: usize,
    line: usize,
    env: EnvLookup<'_>,
) -> Result<(String, usize), ConfigError> {
    let mut text = String::new();
    let mut i = from;
    while let Some(&c) = chars.get(i) {
        match c {
            '}' => return Ok((text, i + 1)),
            _ if is_line_end(c) => break,
            '$' => match dollar(chars, i, line, env)? {
                Some((value, next)) => {
                    text.push_str(&value);
                    i = next;
                }
                None => {
                    text.push('$');
                    i += 1;
                }
            },
            _ => {
                text.push(c);
                i += 1;
            }
        }
    }
    Err(unterminated(line, start))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "A" => Some("alpha".to_string()),
            "EMPTY" => Some(String::new()),
            "ML" => Some("x\ny".to_string()),
            _ => None,
        }
    }

    fn sub(text: &str) -> Result<Substituted, ConfigError> {
        substitute(text, &env)
    }

    fn text(t: &str) -> String {
        match sub(t) {
            Ok(s) => s.text,
            Err(e) => panic!("unexpected error: {e}"),
        }
    }

    fn err_pos(t: &str) -> Position {
        match sub(t) {
            Ok(s) => panic!("expected an error, got {:?}", s.text),
            Err(e) => e.position().unwrap_or(Position::START),
        }
    }

    #[test]
    fn plain_forms() {
        assert_eq!(text("a: ${A}\n"), "a: alpha\n");
        assert_eq!(text("a: ${B:-x}"), "a: x");
        assert_eq!(text("a: ${B:-}"), "a: ");
        assert_eq!(text("a: ${EMPTY:-d}"), "a: d");
        assert_eq!(text("a: ${EMPTY}"), "a: ");
        assert_eq!(text("a: $$A $x $"), "a: $A $x $");
        assert_eq!(text("a: \"p-${A}-q\""), "a: \"p-alpha-q\"");
        assert_eq!(text("a: ${B:-${A}}"), "a: alpha");
        assert_eq!(text("a: ${B:-$${C}}"), "a: ${C}");
        assert_eq!(text("a: ${A:-${UNSET}}"), "a: alpha");
    }

    #[test]
    fn comments_are_left_alone() {
        assert_eq!(
            text("# ${UNSET}\na: 1 # ${NOPE}\n"),
            "# ${UNSET}\na: 1 # ${NOPE}\n"
        );
        assert_eq!(text("a: \"x # ${A}\""), "a: \"x # alpha\"");
        assert_eq!(text("a: don't # ${U}"), "a: don't # ${U}");
        assert_eq!(text("u: http://h/#${A}"), "u: http://h/#alpha");
    }

    #[test]
    fn errors_point_at_the_dollar() {
        assert_eq!(err_pos("a: 1\nb: x ${NOPE}\n"), Position::new(2, 6));
        assert_eq!(err_pos("b: ${A}${NOPE}"), Position::new(1, 8));
        assert_eq!(err_pos("b: ${A\nc: }"), Position::new(1, 4));
        assert_eq!(err_pos("b: ${A:-x"), Position::new(1, 4));
        assert_eq!(err_pos("b: ${}"), Position::new(1, 4));
        assert_eq!(err_pos("b: ${A B}"), Position::new(1, 7));
        assert_eq!(err_pos("b: ${B:-${NOPE}}"), Position::new(1, 9));
    }

    #[test]
    fn map_goes_back_to_original_columns() {
        let s = sub("k: ${A} ${A}: z\nn: ${ML} w\n").unwrap();
        // "k: alpha alpha: z": the `z` is at 17 in output, 15 in the original.
        assert_eq!(
            s.original_position(Position::new(1, 17)),
            Position::new(1, 15)
        );
        // Inside the second value: maps to its `$`.
        assert_eq!(
            s.original_position(Position::new(1, 11)),
            Position::new(1, 9)
        );
        // Multi-line value: line 3 of output is the tail of `${ML}` + " w".
        assert_eq!(
            s.original_position(Position::new(3, 1)),
            Position::new(2, 4)
        );
        assert_eq!(
            s.original_position(Position::new(3, 3)),
            Position::new(2, 10)
        );
        assert_eq!(
            s.original_position(Position::new(4, 1)),
            Position::new(3, 1)
        );
    }

    #[test]
    fn dollar_dollar_shifts_columns() {
        let s = sub("a: $$$$ b").unwrap();
        assert_eq!(s.text, "a: $$ b");
        assert_eq!(
            s.original_position(Position::new(1, 7)),
            Position::new(1, 9)
        );
    }
}
