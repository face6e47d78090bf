//! Mapping paths printed by a production host onto repository-relative paths.
//!
//! Traces carry host paths (`/srv/app/payment-service/payments/x.py`, `/tmp/canary-3/payments/x.py`,
//! `C:\app\payments\x.py`); the repository knows `payment-service/payments/x.py`. The longest
//! common suffix of path components is the most specific evidence we have, so it decides.

/// Path components, ignoring separators style, empty parts and `.`.
fn components(path: &str) -> Vec<&str> {
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

/// True for frames that cannot be the project's code: dependencies, the standard library and
/// pseudo-files such as `<frozen runpy>` or `<string>`.
pub(crate) fn is_outside_project(path: &str) -> bool {
    if path.starts_with('<') {
        return true;
    }
    let parts = components(path);
    parts
        .iter()
        .any(|p| *p == "site-packages" || *p == "dist-packages")
        || parts.windows(2).any(|w| {
            (w[0] == "lib" || w[0] == "Lib" || w[0] == "lib64") && w[1].starts_with("python")
        })
}

/// The repository file with the longest common path suffix with `frame_path`, if there is a
/// unique best one (at least the file name must match).
pub(crate) fn map_to_repo(frame_path: &str, repo_files: &[String]) -> Option<String> {
    let frame_parts = components(frame_path);
    let mut best: Option<(usize, &String)> = None;
    let mut tie = false;
    for candidate in repo_files {
        let score = common_suffix_len(&frame_parts, &components(candidate));
        match best {
            _ if score == 0 => {}
            Some((best_score, _)) if score < best_score => {}
            Some((best_score, _)) if score == best_score => tie = true,
            _ => {
                best = Some((score, candidate));
                tie = false;
            }
        }
    }
    match best {
        Some((_, path)) if !tie => Some(path.clone()),
        _ => None,
    }
}
