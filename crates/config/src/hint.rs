//! "Did you mean …?" hints for unknown keys and enum values.
//!
//! Most config mistakes are typos; naming the intended key saves the operator
//! a trip to the docs in the middle of an incident.

/// Edit distance over characters: strsim's (already in the tree through clap), one
/// implementation for every "did you mean" in ccp.
pub use strsim::levenshtein;

/// The candidates that `word` plausibly is a typo of, best first.
///
/// Close by edit distance wins, then abbreviations with a typo (`tresh` →
/// `threshold`), then candidates that contain the word or are contained in
/// it (`threshold` → `error_rate_threshold`).
pub(crate) fn similar<'a>(word: &str, candidates: &[&'a str]) -> Vec<&'a str> {
    let mut scored: Vec<(usize, &'a str)> = candidates
        .iter()
        .filter_map(|c| score(word, c).map(|s| (s, *c)))
        .collect();
    scored.sort();
    if let Some((best, _)) = scored.first().copied() {
        return scored
            .into_iter()
            .filter(|(s, _)| *s == best)
            .map(|(_, c)| c)
            .collect();
    }
    containing(word, candidates)
}

/// Lower is closer; `None` when `candidate` is not a plausible typo target.
fn score(word: &str, candidate: &str) -> Option<usize> {
    let len = word.chars().count();
    let limit = (len / 3).max(2);
    let full = levenshtein(word, candidate);
    if full <= limit {
        return Some(full);
    }
    let prefix = (len.saturating_sub(1)..=len + 1)
        .map(|n| candidate.chars().take(n).collect::<String>())
        .map(|p| levenshtein(word, &p))
        .min()
        .unwrap_or(usize::MAX);
    (len >= 4 && prefix <= 1).then_some(limit + 1 + prefix)
}

fn containing<'a>(word: &str, candidates: &[&'a str]) -> Vec<&'a str> {
    let word = word.to_ascii_lowercase();
    candidates
        .iter()
        .filter(|c| word.len() >= 3 && (c.contains(word.as_str()) || word.contains(**c)))
        .copied()
        .collect()
}

/// Formats names as `` `a`, `b`, `c` ``.
pub(crate) fn quoted_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The names between backticks in a serde message, in order.
///
/// serde's messages look like ``unknown field `x`, expected one of `a`, `b` ``;
/// the first name is the offending one, the rest are the valid choices.
pub(crate) fn backticked(message: &str) -> Vec<&str> {
    message.split('`').skip(1).step_by(2).collect()
}

/// "did you mean `x`?" or "did you mean one of `x`, `y`?", if anything fits.
fn did_you_mean(word: &str, candidates: &[&str]) -> Option<String> {
    match similar(word, candidates).as_slice() {
        [] => None,
        [one] => Some(format!("did you mean `{one}`?")),
        many => Some(format!("did you mean one of {}?", quoted_list(many))),
    }
}

/// The message for a key the schema does not know.
///
/// `section` is the dotted path of the enclosing section, `None` at the top.
pub(crate) fn unknown_key(section: Option<&str>, key: &str, valid: &[&str]) -> String {
    let head = match section {
        Some(s) => format!("unknown key `{key}` in section `{s}`"),
        None => format!("unknown top-level key `{key}`"),
    };
    let tail = match did_you_mean(key, valid) {
        Some(hint) => hint,
        None if valid.is_empty() => "this section takes no keys".to_string(),
        None => format!("valid keys are {}", quoted_list(valid)),
    };
    format!("{head}; {tail}")
}

/// The message for a value outside an enum's closed set.
pub(crate) fn unknown_variant(path: &str, value: &str, valid: &[&str]) -> String {
    let head = format!("unknown value `{value}` for `{path}`");
    let choices = format!("valid values are {}", quoted_list(valid));
    match did_you_mean(value, valid) {
        Some(hint) => format!("{head}; {hint} ({choices})"),
        None => format!("{head}; {choices}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance() {
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("same", "same"), 0);
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            similar("tresh", &["threshold", "window"]),
            vec!["threshold"]
        );
        assert_eq!(
            similar("threshold", &["error_rate_threshold", "window_s"]),
            vec!["error_rate_threshold"]
        );
        assert_eq!(
            similar("window_sec", &["window_s", "min_requests"]),
            vec!["window_s"]
        );
        assert!(similar("zzz", &["alpha", "beta"]).is_empty());
    }

    #[test]
    fn messages() {
        assert_eq!(
            unknown_key(Some("detection"), "tresh", &["threshold", "window_s"]),
            "unknown key `tresh` in section `detection`; did you mean `threshold`?"
        );
        assert_eq!(
            unknown_key(None, "zzz", &["a1", "b2"]),
            "unknown top-level key `zzz`; valid keys are `a1`, `b2`"
        );
        assert_eq!(
            backticked("unknown variant `mongo`, expected `memory` or `neo4j`"),
            vec!["mongo", "memory", "neo4j"]
        );
    }
}
