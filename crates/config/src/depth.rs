//! A linear pre-scan of YAML text for flow collections nested too deep.
//!
//! Why before the parser: libyaml keeps scanning a deeply nested flow collection (`[[[[…`) in
//! time that grows with the square of its depth, and only then does serde_yaml's recursion limit
//! refuse it; a 100 000-deep line kept `config check` busy for most of a minute. One pass over
//! the characters finds the first bracket past the limit and names its line and column.

use crate::error::{ConfigError, ErrorKind, Position};

/// Flow collections nested deeper than this are refused (serde_yaml's own limit is 128; no
/// hand-written file comes near either).
pub const MAX_FLOW_DEPTH: usize = 100;

/// Refuses `text` if a `[` or `{` that opens a flow collection lies more than
/// [`MAX_FLOW_DEPTH`] collections deep. Brackets inside quoted scalars and comments, and in
/// the middle of plain scalars (`a[b`), open nothing and are not counted.
pub fn check_flow_depth(text: &str) -> Result<(), ConfigError> {
    let mut depth = 0usize;
    let (mut line, mut col) = (1usize, 0usize);
    // The last non-blank character of the line so far: a collection or quote can start only
    // where a token can (line start, after `:`, `-`, `?`, `,`, `[` or `{`).
    let mut prev: Option<char> = None;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut comment = false;
    // Inside a plain scalar of block context (`a[b`), where brackets are text.
    let mut plain = false;
    let mut blank_before = true;
    for c in text.chars() {
        if c == '\n' {
            (line, col, prev, comment, escaped, plain) = (line + 1, 0, None, false, false, false);
            blank_before = true;
            continue;
        }
        col += 1;
        if comment {
            continue;
        }
        let after_blank = std::mem::replace(&mut blank_before, c == ' ' || c == '\t');
        if plain {
            match c {
                '#' if after_blank => comment = true,
                ':' => {
                    plain = false;
                    prev = Some(c);
                }
                _ => {}
            }
            continue;
        }
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if q == '"' && c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
                prev = Some(c);
            }
            continue;
        }
        if c == ' ' || c == '\t' {
            continue;
        }
        let token_start = matches!(prev, None | Some(':' | '-' | '?' | ',' | '[' | '{'));
        match c {
            '#' if token_start || prev.is_none() => comment = true,
            '"' | '\'' if token_start => quote = Some(c),
            '[' | '{' if token_start => {
                depth += 1;
                if depth > MAX_FLOW_DEPTH {
                    return Err(ConfigError::at(
                        Position { line, col },
                        ErrorKind::Syntax,
                        format!(
                            "flow collections ([ ], {{ }}) nested more than {MAX_FLOW_DEPTH} deep; refused before parsing"
                        ),
                    ));
                }
            }
            ']' | '}' => depth = depth.saturating_sub(1),
            ':' | '-' | '?' | ',' => {}
            _ if depth == 0 => plain = true,
            _ => {}
        }
        prev = Some(c);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deep(n: usize) -> String {
        format!("detection: {}{}", "[".repeat(n), "]".repeat(n))
    }

    #[test]
    fn refuses_the_first_bracket_past_the_limit_with_its_position() {
        assert!(check_flow_depth(&deep(MAX_FLOW_DEPTH)).is_ok());
        let err = check_flow_depth(&deep(100_000))
            .expect_err("too deep")
            .to_string();
        assert!(err.contains("1:112:"), "{err}");
        let err = check_flow_depth(&format!("a: 1\nb:\n  - {}", "{x: ".repeat(200)))
            .expect_err("too deep")
            .to_string();
        assert!(
            err.contains(&format!("3:{}:", 5 + 4 * MAX_FLOW_DEPTH)),
            "{err}"
        );
    }

    #[test]
    fn brackets_in_scalars_and_comments_open_nothing() {
        let many = "[".repeat(500);
        for text in [
            format!("a: \"{many}\""),
            format!("a: '{many}'"),
            format!("a: x{many}"),
            format!("# {many}\na: 1"),
            format!("a: 1 # {many}"),
            format!("a: \"\\\" {many}\""),
        ] {
            assert!(check_flow_depth(&text).is_ok(), "{text}");
        }
    }
}
