//! Finding where a YAML key path is written in the original text.
//!
//! Semantic validation runs on the typed config, which has no positions; this
//! module walks the original text by indentation (with a fallback for flow
//! mappings like `{ a: 1 }`) so those errors can still say `file:line:col`.

use super::error::Position;

/// A significant (non-blank, non-comment) line of the text.
struct Line<'a> {
    number: usize,
    indent: usize,
    text: &'a str,
}

/// Where to look for the next key: block children in `lines[lo..hi]` deeper
/// than `indent`, or, after a flow match, the rest of one line.
enum Scope {
    Block {
        lo: usize,
        hi: usize,
        header: Option<usize>,
    },
    Flow {
        line: usize,
        from_col: usize,
    },
}

/// The position of the last key of `path` (e.g. `["deploy", "steps"]`), if
/// the whole path is written in the text.
pub(crate) fn locate(text: &str, path: &[&str]) -> Option<Position> {
    let lines = significant_lines(text);
    let mut scope = Scope::Block {
        lo: 0,
        hi: lines.len(),
        header: None,
    };
    let mut found = None;
    for key in path {
        let (pos, next) = find_in_scope(&lines, &scope, key)?;
        found = Some(pos);
        scope = next;
    }
    found
}

/// The position of the longest prefix of `path` that is written in the text;
/// the start of the file when not even the first key is there.
pub(crate) fn locate_best(text: &str, path: &[&str]) -> Position {
    (1..=path.len())
        .rev()
        .find_map(|n| locate(text, &path[..n]))
        .unwrap_or(Position::START)
}

fn significant_lines(text: &str) -> Vec<Line<'_>> {
    text.lines()
        .enumerate()
        .filter_map(|(i, raw)| {
            let trimmed = raw.trim_start();
            let skip = trimmed.is_empty()
                || trimmed.starts_with('#')
                || trimmed.starts_with("---")
                || trimmed.starts_with("...");
            (!skip).then(|| Line {
                number: i + 1,
                indent: raw.chars().count() - trimmed.chars().count(),
                text: raw,
            })
        })
        .collect()
}

fn find_in_scope(lines: &[Line<'_>], scope: &Scope, key: &str) -> Option<(Position, Scope)> {
    match *scope {
        Scope::Block { lo, hi, header } => find_block(lines, lo, hi, key)
            .or_else(|| header.and_then(|h| find_flow(lines, h, 1, key)))
            .or_else(|| (lo..hi).find_map(|i| find_flow(lines, i, 1, key))),
        Scope::Flow { line, from_col } => find_flow(lines, line, from_col, key),
    }
}

/// A direct block child `key:` among `lines[lo..hi]`.
fn find_block(lines: &[Line<'_>], lo: usize, hi: usize, key: &str) -> Option<(Position, Scope)> {
    let child_indent = lines.get(lo..hi)?.first()?.indent;
    let idx = (lo..hi).find(|&i| {
        lines[i].indent == child_indent && key_at_start(lines[i].text.trim_start(), key)
    })?;
    let end = (idx + 1..hi)
        .find(|&i| lines[i].indent <= child_indent)
        .unwrap_or(hi);
    let pos = Position::new(lines[idx].number, child_indent + 1);
    let next = Scope::Block {
        lo: idx + 1,
        hi: end,
        header: Some(idx),
    };
    Some((pos, next))
}

/// Whether `content` starts with `key:` (optionally quoted).
fn key_at_start(content: &str, key: &str) -> bool {
    [key.to_string(), format!("\"{key}\""), format!("'{key}'")]
        .iter()
        .any(|k| {
            content
                .strip_prefix(k.as_str())
                .is_some_and(followed_by_colon)
        })
}

fn followed_by_colon(rest: &str) -> bool {
    let rest = rest.trim_start();
    rest.starts_with(':') && rest[1..].chars().next().is_none_or(char::is_whitespace)
}

/// A flow-mapping key `key:` on `lines[idx]` at or after column `from_col`.
fn find_flow(
    lines: &[Line<'_>],
    idx: usize,
    from_col: usize,
    key: &str,
) -> Option<(Position, Scope)> {
    let line = lines.get(idx)?;
    let chars: Vec<char> = line.text.chars().collect();
    let key_chars: Vec<char> = key.chars().collect();
    let start = from_col.saturating_sub(1);
    let col = (start..chars.len()).find(|&i| flow_key_at(&chars, i, &key_chars))?;
    let pos = Position::new(line.number, col + 1);
    let next = Scope::Flow {
        line: idx,
        from_col: col + 1 + key_chars.len(),
    };
    Some((pos, next))
}

fn flow_key_at(chars: &[char], i: usize, key: &[char]) -> bool {
    let boundary = i == 0 || matches!(chars[i - 1], '{' | ',' | ' ' | '\t');
    let matches = chars.get(i..i + key.len()) == Some(key);
    boundary && matches && {
        let rest: String = chars[i + key.len()..].iter().collect();
        followed_by_colon(&rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
# comment
environment: staging
deploy:
  # steps: [1]
  backend: script
  steps: [10, 5, 100]
locks: { ttl_ms: 5, renew_every_ms: 10 }
gates:
  tests: true
tui:
    fps: 0
";

    #[test]
    fn block_keys() {
        assert_eq!(locate(TEXT, &["environment"]), Some(Position::new(2, 1)));
        assert_eq!(
            locate(TEXT, &["deploy", "steps"]),
            Some(Position::new(6, 3))
        );
        assert_eq!(locate(TEXT, &["tui", "fps"]), Some(Position::new(11, 5)));
        assert_eq!(locate(TEXT, &["gates", "steps"]), None);
    }

    #[test]
    fn flow_keys() {
        assert_eq!(
            locate(TEXT, &["locks", "ttl_ms"]),
            Some(Position::new(7, 10))
        );
        assert_eq!(
            locate(TEXT, &["locks", "renew_every_ms"]),
            Some(Position::new(7, 21))
        );
    }

    #[test]
    fn best_effort() {
        assert_eq!(
            locate_best(TEXT, &["gates", "risk_max"]),
            Position::new(8, 1)
        );
        assert_eq!(locate_best(TEXT, &["approval", "x"]), Position::START);
    }
}
