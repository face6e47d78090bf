//! `ccp config check` says "ok" only when `ccp serve` would start on that configuration: the files
//! it names are loaded too (recovery rules and trees), and a hostile tree is refused with a
//! position, never a crash.

use std::path::Path;
use std::process::{Command, Output};

fn check(config: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ccp"))
        .args(["config", "check"])
        .arg(config)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("ccp runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn missing_recovery_files_are_errors_not_ok() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("ccp.yaml");
    let missing = dir.path().join("nope.yaml");
    std::fs::write(
        &cfg,
        format!(
            "recovery:\n  enabled: true\n  rules: {}\n",
            missing.display()
        ),
    )
    .expect("config");
    let o = check(&cfg);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("nope.yaml"), "{}", text(&o));

    std::fs::write(
        &cfg,
        format!(
            "recovery:\n  enabled: true\n  trees: [{}]\n",
            missing.display()
        ),
    )
    .expect("config");
    let o = check(&cfg);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("nope.yaml"), "{}", text(&o));

    // The same configuration without the recovery section is fine.
    std::fs::write(&cfg, "environment: staging\n").expect("config");
    let o = check(&cfg);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn a_tree_with_a_hostile_condition_is_refused_with_a_position() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tree = dir.path().join("deep.yaml");
    let deep = format!("{}true{}", "(".repeat(9_000), ")".repeat(9_000));
    std::fs::write(
        &tree,
        format!(
            "name: deep\npriority: 1\nmatch:\n  categories: [network]\nstart: c\nnodes:\n  c:\n    type: condition\n    if: '{deep}'\n    then: done\n    else: done\n  done:\n    type: escalate\n    to: oncall\n    reason: x\n"
        ),
    )
    .expect("tree");
    let cfg = dir.path().join("ccp.yaml");
    std::fs::write(
        &cfg,
        format!(
            "recovery:\n  enabled: true\n  trees: [{}]\n",
            tree.display()
        ),
    )
    .expect("config");
    let o = check(&cfg);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(t.contains("too long"), "{t}");
    assert!(t.contains("deep.yaml:9:"), "names file:line: {t}");
    assert!(
        t.len() < 2_000,
        "the error quotes the start only: {} bytes",
        t.len()
    );
}

#[test]
fn flow_nesting_past_the_limit_is_refused_where_it_starts() {
    // 100 000 nested brackets kept libyaml busy for most of a minute before its recursion
    // limit fired; the pre-scan names the first bracket past the limit without parsing.
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("ccp.yaml");
    let n = 100_000;
    std::fs::write(
        &cfg,
        format!(
            "environment: staging\ndetection: {}{}\n",
            "[".repeat(n),
            "]".repeat(n)
        ),
    )
    .expect("config");
    let o = check(&cfg);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(t.contains("ccp.yaml:2:112:"), "names file:line:col: {t}");
    assert!(t.contains("nested more than 100 deep"), "{t}");
    // The fleet file a config names gets the same check.
    let fleet = dir.path().join("fleet.yaml");
    std::fs::write(&fleet, format!("services: {}", "{a: ".repeat(5_000))).expect("fleet");
    std::fs::write(
        &cfg,
        format!("metrics:\n  fleet: \"{}\"\n", fleet.display()),
    )
    .expect("cfg");
    let o = check(&cfg);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(t.contains("nested more than 100 deep"), "{t}");
    assert!(t.contains("fleet.yaml"), "{t}");
}

#[test]
fn a_config_file_past_the_size_limit_is_refused_before_parsing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("ccp.yaml");
    let mut body = String::from("environment: staging\n");
    body.push_str(&format!("# {}\n", "x".repeat(5 << 20)));
    std::fs::write(&cfg, body).expect("config");
    let o = check(&cfg);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(t.contains("larger than 4 MiB"), "{t}");
    assert!(t.contains("ccp.yaml"), "{t}");
}
