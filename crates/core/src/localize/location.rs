//! `file:line[:column]` locations, as Node, Rust and Go print them.
//!
//! Split from the right, because the file part may itself contain colons (`C:\app\x.js`,
//! `node:internal/modules/cjs/loader`, `file:///srv/app/x.mjs`).

/// A parsed location: the file as printed, the 1-based line and, when printed, the column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Location<'a> {
    /// File part, verbatim.
    pub file: &'a str,
    /// 1-based line.
    pub line: u32,
}

/// `path:12:5` or `path:12`; `None` when there is no numeric line or no file part.
pub(crate) fn parse(text: &str) -> Option<Location<'_>> {
    let (head, last) = text.rsplit_once(':')?;
    let last: u32 = digits(last)?;
    // `path:line:col`, else `path:line`.
    if let Some((file, line)) = head.rsplit_once(':') {
        if let Some(line) = digits(line) {
            if !file.is_empty() {
                return Some(Location { file, line });
            }
        }
    }
    (!head.is_empty()).then_some(Location {
        file: head,
        line: last,
    })
}

fn digits(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_from_the_right() {
        let at = |file, line| Some(Location { file, line });
        assert_eq!(parse("/srv/app.js:5:23"), at("/srv/app.js", 5));
        assert_eq!(parse("src/main.rs:5"), at("src/main.rs", 5));
        assert_eq!(
            parse("node:internal/modules/cjs/loader:1521:14"),
            at("node:internal/modules/cjs/loader", 1521)
        );
        assert_eq!(parse(r"C:\app\x.js:3:1"), at(r"C:\app\x.js", 3));
        assert_eq!(parse("<anonymous>"), None);
        assert_eq!(parse(":12"), None);
    }
}
