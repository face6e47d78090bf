//! Tests for the multi-language templates: per template and language, a buggy fixture, the
//! exact patched text, the diff's `+`/`-` lines, refusals with their reasons, and re-applying a
//! template to its own output refusing (so the pipeline can never stack the same fix twice).

use super::template::{FixInput, Patch, Refusal};

mod circuit_breaker;
mod error_handling;
mod expected;
mod fixtures;
mod null_guard;
mod rank;
mod resource_leak;
mod retry;
mod template;
mod timeout;

/// A template as a plain function, as each module exports it.
type Template = fn(&FixInput<'_>) -> Result<Patch, Refusal>;

/// Run one template on an inline fixture.
fn run(
    t: Template,
    file: &str,
    source: &str,
    error: (&str, &str),
    line: u32,
) -> Result<Patch, Refusal> {
    let input = FixInput::new(file, source, error.0, error.1, line).expect("known language");
    t(&input)
}

/// The patch, or a failure naming the refusal.
fn patched(t: Template, file: &str, source: &str, error: (&str, &str), line: u32) -> Patch {
    match run(t, file, source, error, line) {
        Ok(p) => p,
        Err(r) => panic!("expected a patch for {file}:{line}, got refusal: {r}"),
    }
}

/// The refusal, or a failure showing the unexpected patch.
fn refused(t: Template, file: &str, source: &str, error: (&str, &str), line: u32) -> Refusal {
    match run(t, file, source, error, line) {
        Ok(p) => panic!(
            "expected a refusal for {file}:{line}, got patch:\n{}",
            p.diff
        ),
        Err(r) => r,
    }
}

/// The diff's removed and added lines (without the `-`/`+`), headers excluded.
fn changes(p: &Patch) -> (Vec<&str>, Vec<&str>) {
    let body = p
        .diff
        .lines()
        .filter(|l| !l.starts_with("---") && !l.starts_with("+++"));
    let (mut removed, mut added) = (Vec::new(), Vec::new());
    for l in body {
        if let Some(r) = l.strip_prefix('-') {
            removed.push(r);
        } else if let Some(a) = l.strip_prefix('+') {
            added.push(a);
        }
    }
    (removed, added)
}

/// Assert the diff removes exactly `removed` and adds exactly `added`, and that the counts the
/// cockpit shows agree.
fn assert_changes(p: &Patch, removed: &[&str], added: &[&str]) {
    let (r, a) = changes(p);
    assert_eq!(r, removed, "removed lines of\n{}", p.diff);
    assert_eq!(a, added, "added lines of\n{}", p.diff);
    assert_eq!(
        (p.lines_added as usize, p.lines_removed as usize),
        (added.len(), removed.len())
    );
}

/// Assert the diff removes exactly `removed` and adds (at least) every line of `added`, for
/// patches that also insert a long helper.
fn assert_changes_include(p: &Patch, removed: &[&str], added: &[&str]) {
    let (r, a) = changes(p);
    assert_eq!(r, removed, "removed lines of\n{}", p.diff);
    for line in added {
        assert!(
            a.contains(line),
            "missing added line `{line}` in\n{}",
            p.diff
        );
    }
    assert_eq!(p.lines_added as usize, a.len());
}

/// 1-based line of the first line of `text` containing `needle`.
fn line_of(text: &str, needle: &str) -> u32 {
    let idx = text
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("`{needle}` not in\n{text}"));
    u32::try_from(idx + 1).expect("small file")
}

/// Re-run the template on its own output at the statement's new line: it must refuse.
fn reapply(t: Template, p: &Patch, error: (&str, &str), needle: &str) -> Refusal {
    let line = line_of(&p.new_source, needle);
    refused(t, &p.file, &p.new_source, error, line)
}
