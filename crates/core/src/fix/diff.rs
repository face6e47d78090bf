//! Unified diffs of whole files, the form a human reviews and `git apply` accepts.

use similar::{ChangeTag, TextDiff};

/// Lines of context around each hunk: git's default, so reviewers see what they are used to.
pub const CONTEXT_LINES: usize = 3;

/// Unified diff of `old` → `new`: a `diff --git a/<path> b/<path>` line, `--- a/<path>` /
/// `+++ b/<path>` headers and `@@` hunks. Why: the cockpit shows it for review and the audit log
/// stores it verbatim; the git-style header makes it applicable by `git apply`, libgit2 and
/// `patch -p1` from the repository root. Empty when nothing changed.
pub fn unified(path: &str, old: &str, new: &str) -> String {
    let body = TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(CONTEXT_LINES)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string();
    if body.is_empty() {
        return body;
    }
    format!("diff --git a/{path} b/{path}\n{body}")
}

/// Count of added and removed lines, `(added, removed)`: the blast-radius numbers the safety
/// policy and the cockpit show next to a patch.
pub fn line_counts(old: &str, new: &str) -> (u32, u32) {
    let diff = TextDiff::from_lines(old, new);
    diff.iter_all_changes()
        .fold((0, 0), |(added, removed), change| match change.tag() {
            ChangeTag::Insert => (added + 1, removed),
            ChangeTag::Delete => (added, removed + 1),
            ChangeTag::Equal => (added, removed),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unified_has_git_headers_and_counts_match() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let new = "a\nb\nc\nd\nX\nf\ng\nh\n";
        let diff = unified("dir/f.py", old, new);
        assert!(diff.starts_with(
            "diff --git a/dir/f.py b/dir/f.py\n--- a/dir/f.py\n+++ b/dir/f.py\n@@ -2,7 +2,7 @@\n"
        ));
        assert!(diff.contains("\n-e\n+X\n"));
        assert_eq!(line_counts(old, new), (1, 1));
        assert_eq!(unified("f", old, old), "");
    }
}
