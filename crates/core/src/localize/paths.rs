//! Mapping paths printed by a production host onto repository-relative paths.
//!
//! Traces carry host paths (`/srv/app/payment-service/payments/x.py`, `/tmp/canary-3/payments/x.py`,
//! `C:\app\payments\x.py`, `./src/main.rs`); the repository knows `payment-service/payments/x.py`.
//! The longest common suffix of path components is the most specific evidence we have, so it
//! decides.

/// Path components, ignoring separators style, empty parts and `.`.
pub(crate) fn components(path: &str) -> Vec<&str> {
    path.split(['/', '\\'])
        .filter(|part| !part.is_empty() && *part != ".")
        .collect()
}

/// Number of trailing components two paths share.
fn common_suffix_len(a: &[&str], b: &[&str]) -> usize {
    a.iter()
        .rev()
        .zip(b.iter().rev())
        .take_while(|(x, y)| x == y)
        .count()
}

/// True when one path's components are a trailing part of the other's (`./src/main.rs` and
/// `/build/app/src/main.rs`). Why: the same source file is printed differently by different
/// parts of one trace (a Rust panic line versus its backtrace).
pub(crate) fn same_file(a: &str, b: &str) -> bool {
    let (a, b) = (components(a), components(b));
    let shared = common_suffix_len(&a, &b);
    shared > 0 && shared == a.len().min(b.len())
}

/// True for frames that cannot be the project's code in any language: dependencies, standard
/// libraries, toolchains and pseudo-files such as `<frozen runpy>`, `<string>` or `<anonymous>`.
/// Language-specific rules (Java packages, Go's GOROOT, Node's `node:` modules) live with each
/// parser.
pub(crate) fn is_outside_project(path: &str) -> bool {
    if path.is_empty() || path.starts_with('<') {
        return true;
    }
    let parts = components(path);
    let dependency_dir = |p: &&str| {
        matches!(
            *p,
            "site-packages" | "dist-packages" | "node_modules" | ".rustup"
        )
    };
    parts.iter().any(dependency_dir)
        || parts.windows(2).any(|w| {
            ((w[0] == "lib" || w[0] == "Lib" || w[0] == "lib64") && w[1].starts_with("python"))
                || (w[0] == ".cargo" && (w[1] == "registry" || w[1] == "git"))
                || (w[0] == "pkg" && w[1] == "mod")
        })
        || path.starts_with("/rustc/")
}

/// How a frame path must match a repository file. Why it varies: most runtimes print (a tail of)
/// the real path, but Java prints a package path that must match as a whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Match {
    /// Longest common suffix, at least the file name (host paths share only a tail with the repo).
    Suffix,
    /// Every component of the frame path must match (Java's `com/acme/Foo.java` is a package
    /// path, so a repository `Foo.java` in another package is a different class).
    WholeFramePath,
}

/// The repository file with the longest common path suffix with `frame_path`, if there is a
/// unique best one (at least the file name must match). Among equally long matches, a file whose
/// whole path is matched wins over files with a conflicting leading directory
/// (`src/main.rs` beats `tools/x/src/main.rs` for the frame path `./src/main.rs`).
pub(crate) fn map_to_repo(frame_path: &str, repo_files: &[String], rule: Match) -> Option<String> {
    let frame_parts = components(frame_path);
    let needed = match rule {
        Match::Suffix => 1,
        Match::WholeFramePath => frame_parts.len().max(1),
    };
    let mut best_score = 0;
    let mut best: Vec<(&String, bool)> = Vec::new();
    for candidate in repo_files {
        let parts = components(candidate);
        let score = common_suffix_len(&frame_parts, &parts);
        if score < needed || score < best_score {
            continue;
        }
        if score > best_score {
            best_score = score;
            best.clear();
        }
        best.push((candidate, score == parts.len()));
    }
    if let [(only, _)] = best.as_slice() {
        return Some((*only).clone());
    }
    let mut whole = best.iter().filter(|(_, whole)| *whole);
    match (whole.next(), whole.next()) {
        (Some((path, _)), None) => Some((*path).clone()),
        _ => None,
    }
}
