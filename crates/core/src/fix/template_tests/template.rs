use super::super::template::{templates, FixInput, Language, Refusal};

#[test]
fn language_comes_from_the_extension() {
    let cases = [
        ("a/b.py", Some(Language::Python)),
        ("A.java", Some(Language::Java)),
        ("main.go", Some(Language::Go)),
        ("x.mjs", Some(Language::JavaScript)),
        ("x.JS", Some(Language::JavaScript)),
        ("x.tsx", Some(Language::TypeScript)),
        ("src/lib.rs", Some(Language::Rust)),
        ("Makefile", None),
        ("notes.txt", None),
    ];
    for (path, lang) in cases {
        assert_eq!(Language::from_path(path), lang, "{path}");
    }
    let err = FixInput::new("conf.yaml", "", "", "", 1).expect_err("yaml has no template");
    assert_eq!(
        err,
        Refusal::UnknownLanguage {
            file: "conf.yaml".into()
        }
    );
}

#[test]
fn registry_lists_six_templates_with_distinct_names() {
    let names: Vec<&str> = templates().iter().map(|t| t.name()).collect();
    assert_eq!(
        names,
        [
            "null_guard",
            "resource_leak",
            "timeout",
            "error_handling",
            "retry",
            "circuit_breaker"
        ]
    );
}

#[test]
fn templates_are_found_by_name() {
    use super::super::template::template_named;
    assert_eq!(template_named("retry").map(|t| t.name()), Some("retry"));
    assert!(template_named("null_check").is_none());
}

#[test]
fn out_of_range_and_comment_lines_are_refused_by_every_template() {
    let src = "def f():\n    # just a comment\n    return 1\n";
    for t in templates() {
        let input = FixInput::new("m.py", src, "KeyError", "x", 9).expect("python");
        assert!(
            matches!(
                t.propose(&input),
                Err(Refusal::LineOutOfRange { line: 9, lines: 3 })
            ),
            "{}",
            t.name()
        );
        let input = FixInput::new("m.py", src, "KeyError", "x", 2).expect("python");
        let refusal = t.propose(&input).expect_err("comment");
        assert!(
            matches!(
                refusal,
                Refusal::NotCode { line: 2 } | Refusal::EvidenceMismatch { .. }
            ),
            "{}: {refusal:?}",
            t.name()
        );
    }
}

#[test]
fn confidences_stay_in_unit_interval() {
    use super::fixtures::*;
    for (name, t, file, src, err, line) in ALL {
        if let Ok(p) = super::run(*t, file, src, *err, *line) {
            assert!(
                (0.0..=1.0).contains(&p.confidence),
                "{name}: {}",
                p.confidence
            );
            assert!(!p.rationale.is_empty(), "{name}");
        }
    }
}

#[test]
fn fixtures_patch_to_the_expected_files() {
    use super::fixtures::ALL;
    let mut patched = 0;
    for (name, t, file, src, err, line) in ALL {
        if let Some(expected) = super::expected::by_name(name) {
            let p = super::patched(*t, file, src, *err, *line);
            assert_eq!(p.new_source, expected, "{name}");
            assert_eq!(p.old_source, *src, "{name}");
            patched += 1;
        }
    }
    assert!(patched >= 30, "{patched}");
}

/// No template may panic on any line of any fixture, whatever the evidence says: the ranking
/// runs all of them on production input.
#[test]
fn no_template_panics_on_any_line() {
    use super::fixtures::ALL;
    let odd = "# -*- coding: utf-8 -*-\ndef f(ü):\n    s = \"é\".join(ü.näme)  # ß\n    return s\n";
    let messages = [
        (
            "AttributeError",
            "'NoneType' object has no attribute 'näme'",
        ),
        ("TypeError", "Cannot read properties of null (reading 'x')"),
        (
            "java.lang.NullPointerException",
            "Cannot invoke \"String.trim()\" because \"<local1>\" is null",
        ),
        ("panic", "called `Option::unwrap()` on a `None` value"),
        ("", ""),
    ];
    let mut sources: Vec<(&str, &str)> = ALL
        .iter()
        .map(|(_, _, file, src, _, _)| (*file, *src))
        .collect();
    sources.push(("odd.py", odd));
    sources.push((
        "odd.js",
        "const s = `a ${b.c}`; // é\nfunction f(x) { return x?.y ?? '\\''; }\n",
    ));
    sources.push((
        "odd.rs",
        "fn f<'a>(x: &'a str) -> Option<char> {\n    let c = 'é';\n    x.chars().next()\n}\n",
    ));
    for (file, src) in sources {
        for line in 0..=(src.lines().count() as u32 + 1) {
            for (t, m) in messages {
                let input = FixInput::new(file, src, t, m, line).expect("known language");
                for template in templates() {
                    let _ = template.propose(&input);
                }
            }
        }
    }
}
