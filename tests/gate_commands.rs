//! Gate checks as configured commands on real trees: a patched copy is made, the command runs in
//! it with a timeout that kills its process group, and what it printed reaches the gate (and so
//! the `gate_result` event, the audit log and the cockpit's gate details).
//!
//! ruff and bandit come from the test venv tests/run.sh builds (target/test-venv). Without it
//! those two tests say so and pass, unless `CCP_REQUIRE_SERVERS` is set (as tests/run.sh does).

mod common;

use ccp_adapters::command_checks::CommandCheckRunner;
use ccp_config::{CheckScope, GateCommands, GatesConfig};
use ccp_core::domain::{CheckKind, CheckReport, FixPlan};
use ccp_core::gates;
use ccp_core::ports::CheckRunner;
use common::{have, headless_demo, json_events, python_or_skip};
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

const SERVICE: &str = "calc-service";
const OPS: &str = "calc-service/calc/ops.py";
const GOOD_OPS: &str = "def add(a, b):\n    return a + b\n";

/// A tool from the test venv (`ruff`, `bandit`), or `None` (the test skips) outside run.sh.
fn venv_tool(name: &str) -> Option<PathBuf> {
    let bin = match std::env::var_os("CCP_TEST_PYTHON") {
        Some(p) => PathBuf::from(p)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default(),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-venv/bin"),
    };
    let tool = bin.join(name);
    if have(&tool.display().to_string(), "--version") {
        return Some(tool);
    }
    assert!(
        std::env::var_os("CCP_REQUIRE_SERVERS").is_none(),
        "{} is required here (tests/run.sh installs it)",
        tool.display()
    );
    eprintln!("skipped: {} not installed", tool.display());
    None
}

/// A repository root with one small Python service and its unittest suite.
fn python_tree() -> tempfile::TempDir {
    let root = tempfile::tempdir().expect("tempdir");
    let svc = root.path().join(SERVICE);
    fs::create_dir_all(svc.join("calc")).expect("mkdir");
    fs::create_dir_all(svc.join("tests")).expect("mkdir");
    fs::write(svc.join("calc/__init__.py"), "").expect("write");
    fs::write(svc.join("calc/ops.py"), GOOD_OPS).expect("write");
    fs::write(svc.join("tests/__init__.py"), "").expect("write");
    fs::write(
        svc.join("tests/test_ops.py"),
        "import unittest\nfrom calc.ops import add\n\n\nclass OpsTest(unittest.TestCase):\n    def test_add_sums(self):\n        self.assertEqual(add(2, 3), 5)\n",
    )
    .expect("write");
    fs::write(root.path().join("SIBLING.txt"), "outside the service\n").expect("write");
    root
}

fn plan(file: &str, new_source: &str) -> FixPlan {
    FixPlan {
        template: "null_check".into(),
        file: file.into(),
        line: 2,
        diff: String::new(),
        description: "test patch".into(),
        new_source: new_source.into(),
        lines_added: 1,
        lines_removed: 1,
        confidence: 0.9,
        alternatives: Vec::new(),
    }
}

/// Gate commands with only `kind`'s set.
fn only(kind: CheckKind, command: impl Into<String>) -> GateCommands {
    let mut commands = GateCommands::default();
    let slot = match kind {
        CheckKind::Syntax => &mut commands.syntax,
        CheckKind::Tests => &mut commands.tests,
        CheckKind::Lint => &mut commands.lint,
        CheckKind::Security => &mut commands.security,
    };
    *slot = Some(command.into());
    commands
}

fn runner(root: &Path, lang: &str, commands: GateCommands) -> CommandCheckRunner {
    runner_with(root, lang, commands, |_| {})
}

fn runner_with(
    root: &Path,
    lang: &str,
    commands: GateCommands,
    tweak: impl FnOnce(&mut GatesConfig),
) -> CommandCheckRunner {
    let mut cfg = GatesConfig::default();
    cfg.commands.insert(lang.to_string(), commands);
    tweak(&mut cfg);
    let dirs = HashMap::from([(SERVICE.to_string(), SERVICE.to_string())]);
    CommandCheckRunner::from_config(root.to_path_buf(), dirs, &cfg)
}

/// Python checks on `root` where `kind` runs `command`.
fn python_check(root: &Path, kind: CheckKind, command: impl Into<String>) -> CommandCheckRunner {
    runner(root, "python", only(kind, command))
}

/// The `kind` check of a patch that makes ops.py `source`.
fn check_ops(checks: &CommandCheckRunner, source: &str, kind: CheckKind) -> CheckReport {
    checks.run(SERVICE, &plan(OPS, source), kind)
}

fn assert_failed_with(r: &CheckReport, needle: &str) {
    assert!(!r.passed, "expected a failure: {r:?}");
    assert!(
        r.summary.contains(needle) || r.detail.contains(needle),
        "{needle:?} not in {r:?}"
    );
}

/// The unpatched ops.py passes `kind`.
fn assert_good_ops_pass(checks: &CommandCheckRunner, kind: CheckKind) -> CheckReport {
    let r = check_ops(checks, GOOD_OPS, kind);
    assert!(r.passed, "{r:?}");
    r
}

/// The Python tree with one check configured as a command, and patches of ops.py to check.
struct PythonGate {
    tree: tempfile::TempDir,
    checks: CommandCheckRunner,
    kind: CheckKind,
}

impl PythonGate {
    /// A fresh [`python_tree`] where `kind` runs `command`.
    fn new(kind: CheckKind, command: impl Into<String>) -> Self {
        Self::on(python_tree(), kind, command)
    }

    /// A tree the test prepared (e.g. with a script the command runs) where `kind` runs `command`.
    fn on(tree: tempfile::TempDir, kind: CheckKind, command: impl Into<String>) -> Self {
        let checks = python_check(tree.path(), kind, command);
        Self { tree, checks, kind }
    }

    fn check(&self, source: &str) -> CheckReport {
        check_ops(&self.checks, source, self.kind)
    }

    fn assert_good_ops_pass(&self) -> CheckReport {
        assert_good_ops_pass(&self.checks, self.kind)
    }
}

#[test]
fn syntax_command_fails_with_the_compilers_message_and_the_output_reaches_the_gate() {
    if !python_or_skip() {
        return;
    }
    let gate = PythonGate::new(CheckKind::Syntax, "python3 -m py_compile {files}");
    let bad = gate.check("def add(a, b:\n    return a + b\n");
    assert_failed_with(&bad, "SyntaxError");
    assert!(
        bad.summary.contains("python3 -m py_compile {files}"),
        "the reason names the command that ran: {}",
        bad.summary
    );
    assert!(bad.detail.contains("ops.py"), "{}", bad.detail);
    let result = gates::check_gate("syntax", &bad);
    let output = result.output.clone().expect("the gate carries the output");
    assert!(output.contains("SyntaxError"), "{output}");
    let event = serde_json::to_value(&result).expect("json");
    assert!(event["output"]
        .as_str()
        .is_some_and(|o| o.contains("SyntaxError")));

    gate.assert_good_ops_pass();
    let root = gate.tree.path();
    assert!(
        !root.join(SERVICE).join("calc/__pycache__").exists(),
        "the checkout is untouched"
    );
    assert_eq!(
        fs::read_to_string(root.join(OPS)).expect("read"),
        GOOD_OPS,
        "the patch went to a copy"
    );
}

#[test]
fn without_commands_python_keeps_the_builtin_checks() {
    if !python_or_skip() {
        return;
    }
    let tree = python_tree();
    let checks = runner(tree.path(), "rust", GateCommands::default());
    let bad = check_ops(&checks, "def add(a, b:\n    pass\n", CheckKind::Syntax);
    assert!(!bad.passed);
    assert!(
        bad.summary
            .starts_with("syntax error in calc/ops.py: line 1"),
        "{}",
        bad.summary
    );
    assert!(
        bad.detail.contains("SyntaxError"),
        "failures keep their output"
    );
    let tests = assert_good_ops_pass(&checks, CheckKind::Tests);
    assert_eq!(tests.summary, "1 test, 0 failures");
    assert_eq!(tests.detail, "", "passing built-in checks stay quiet");
    assert_eq!(tests.tests_run, Some(1));
    let p = plan(OPS, GOOD_OPS);
    assert!(!checks.handles(SERVICE, &p, CheckKind::Lint));
    assert!(!checks.handles(SERVICE, &p, CheckKind::Security));
    // the pipeline's fallback says it is the heuristic
    assert!(gates::lint_gate("+x = 1\n", 120)
        .reason
        .contains("built-in heuristic"));
    assert!(gates::security_gate("+x = 1\n")
        .reason
        .contains("built-in heuristic"));
}

#[test]
fn failing_unittest_names_the_test() {
    if !python_or_skip() {
        return;
    }
    let gate = PythonGate::new(
        CheckKind::Tests,
        "python3 -m unittest discover -s tests -t .",
    );
    let broken = gate.check("def add(a, b):\n    return a - b\n");
    assert_failed_with(&broken, "test_add_sums");
    assert!(
        broken.summary.contains("test_add_sums"),
        "{}",
        broken.summary
    );
    assert_eq!((broken.tests_run, broken.failures), (Some(1), Some(1)));
    assert!(gates::check_gate("tests", &broken)
        .output
        .as_deref()
        .is_some_and(|o| o.contains("FAIL: test_add_sums")));

    let fine = gate.assert_good_ops_pass();
    assert!(
        fine.summary.contains("(1 test, 0 failures)"),
        "{}",
        fine.summary
    );
}

#[test]
fn a_script_acting_as_linter_replaces_the_heuristic() {
    let tree = python_tree();
    let script = tree.path().join("no-todo.sh");
    fs::write(
        &script,
        "#!/bin/sh\n# fails when a file has a TODO, printing where\nif grep -n TODO \"$@\"; then echo \"TODO left in patch\" >&2; exit 1; fi\n",
    )
    .expect("write");
    let command = format!("sh {} {{files}}", script.display());
    let gate = PythonGate::on(tree, CheckKind::Lint, command);
    let todo = "def add(a, b):\n    return a + b  # TODO overflow\n";
    let p = plan(OPS, todo);
    assert!(gate.checks.handles(SERVICE, &p, CheckKind::Lint));
    assert!(!gate.checks.handles(SERVICE, &p, CheckKind::Security));
    let r = gate.check(todo);
    assert_failed_with(&r, "TODO overflow");
    assert!(r.summary.contains("exit 1"), "{}", r.summary);
    gate.assert_good_ops_pass();
}

#[test]
fn ruff_flags_an_unused_import() {
    let Some(ruff) = venv_tool("ruff") else {
        return;
    };
    let gate = PythonGate::new(
        CheckKind::Lint,
        format!("{} check --no-cache {{files}}", ruff.display()),
    );
    let r = gate.check("import os\n\n\ndef add(a, b):\n    return a + b\n");
    assert_failed_with(&r, "F401");
    gate.assert_good_ops_pass();
}

#[test]
fn bandit_flags_a_shell_subprocess() {
    let Some(bandit) = venv_tool("bandit") else {
        return;
    };
    let gate = PythonGate::new(
        CheckKind::Security,
        format!("{} -q {{files}}", bandit.display()),
    );
    let risky = "import subprocess\n\n\ndef add(a, b):\n    subprocess.call(\"echo \" + str(a), shell=True)\n    return a + b\n";
    let r = gate.check(risky);
    assert_failed_with(&r, "shell=True");
    assert!(r.detail.contains("B602"), "{}", r.detail);
    gate.assert_good_ops_pass();
}

#[test]
fn timeout_kills_the_whole_process_group() {
    let tree = python_tree();
    let marker = tree.path().join("background.pid");
    // A background job in the group; wait until it has written its pid, then hang.
    let hang = format!(
        "sh -c 'echo $$ > {m}; exec sleep 1000' & while [ ! -s {m} ]; do sleep 0.01; done; sleep 1000",
        m = marker.display()
    );
    let checks = runner_with(tree.path(), "python", only(CheckKind::Tests, hang), |g| {
        g.test_timeout_s = 1
    });
    let r = check_ops(&checks, GOOD_OPS, CheckKind::Tests);
    assert!(!r.passed);
    assert!(r.summary.contains("timed out"), "{}", r.summary);
    // The background sleep was in the check's process group, so it died too.
    let pid = fs::read_to_string(&marker).expect("the background job started");
    let stat = PathBuf::from(format!("/proc/{}/stat", pid.trim()));
    let gone = (0..250).any(|_| {
        let alive = fs::read_to_string(&stat)
            .map(|s| !s.contains(") Z "))
            .unwrap_or(false);
        if alive {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        !alive
    });
    assert!(
        gone,
        "background process {} survived the timeout",
        pid.trim()
    );
}

#[test]
fn a_missing_program_fails_the_gate_by_name() {
    let tree = python_tree();
    let checks = runner(
        tree.path(),
        "python",
        GateCommands {
            lint: Some("ccp-no-such-linter --strict {files}".into()),
            security: Some("true && ccp-no-such-scanner {files}".into()),
            ..GateCommands::default()
        },
    );
    let lint = check_ops(&checks, GOOD_OPS, CheckKind::Lint);
    assert!(!lint.passed);
    assert!(
        lint.summary
            .contains("`ccp-no-such-linter` is not installed"),
        "{}",
        lint.summary
    );
    assert!(
        lint.summary.contains("gates.commands.python.lint"),
        "{}",
        lint.summary
    );
    // found only by the shell: exit 127, still named
    let sec = check_ops(&checks, GOOD_OPS, CheckKind::Security);
    assert!(!sec.passed);
    assert!(sec.summary.contains("exited 127"), "{}", sec.summary);
    assert!(
        sec.summary.contains("ccp-no-such-scanner"),
        "{}",
        sec.summary
    );
}

#[test]
fn output_is_bounded() {
    let gate = PythonGate::new(
        CheckKind::Lint,
        "yes 'line of noise' | head -n 200000; echo THE-VERDICT; exit 3",
    );
    let r = gate.check(GOOD_OPS);
    assert!(!r.passed);
    assert!(r.summary.contains("exit 3"), "{}", r.summary);
    assert!(r.detail.len() < 10 * 1024, "{} bytes kept", r.detail.len());
    assert!(r.detail.contains("bytes omitted"));
    assert!(r.detail.contains("THE-VERDICT"), "the tail is kept");
}

#[test]
fn repo_scope_copies_the_whole_tree_and_expands_placeholders() {
    if !python_or_skip() {
        return;
    }
    let tree = python_tree();
    let repo_scope = runner_with(
        tree.path(),
        "python",
        only(
            CheckKind::Syntax,
            "test -f {root}/SIBLING.txt && test \"$(pwd)\" = {dir} && python3 -m py_compile {files}",
        ),
        |g| g.check_scope = CheckScope::Repo,
    );
    assert_good_ops_pass(&repo_scope, CheckKind::Syntax);
    let service_scope = python_check(tree.path(), CheckKind::Syntax, "test -f {root}/SIBLING.txt");
    let r = check_ops(&service_scope, GOOD_OPS, CheckKind::Syntax);
    assert!(!r.passed, "service scope copies only the service: {r:?}");
}

#[test]
fn unknown_language_and_unconfigured_language_say_what_to_set() {
    let tree = python_tree();
    fs::write(tree.path().join(SERVICE).join("build.rs"), "fn main() {}\n").expect("write");
    fs::write(tree.path().join(SERVICE).join("Makefile"), "all:\n").expect("write");
    let checks = runner(tree.path(), "python", GateCommands::default());
    let rust = checks.run(
        SERVICE,
        &plan("calc-service/build.rs", "fn main() { }\n"),
        CheckKind::Syntax,
    );
    assert!(!rust.passed);
    assert!(
        rust.summary.contains("gates.commands.rust.syntax"),
        "{}",
        rust.summary
    );
    let make = checks.run(
        SERVICE,
        &plan("calc-service/Makefile", "all:\n\ttrue\n"),
        CheckKind::Syntax,
    );
    assert!(
        make.summary.contains("gates.languages.calc-service"),
        "{}",
        make.summary
    );
}

#[test]
fn cargo_check_on_a_tiny_crate() {
    if !have("cargo", "--version") {
        assert!(
            std::env::var_os("CCP_REQUIRE_SERVERS").is_none(),
            "cargo is required here"
        );
        eprintln!("skipped: cargo not on PATH");
        return;
    }
    let tree = tempfile::tempdir().expect("tempdir");
    let krate = tree.path().join(SERVICE);
    fs::create_dir_all(krate.join("src")).expect("mkdir");
    fs::write(
        krate.join("Cargo.toml"),
        "[package]\nname = \"tiny\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    )
    .expect("write");
    fs::write(krate.join("src/main.rs"), "fn main() {}\n").expect("write");
    let target = tree.path().join("cargo-target");
    let checks = runner(
        tree.path(),
        "rust",
        only(
            CheckKind::Syntax,
            format!(
                "CARGO_TARGET_DIR={} cargo check --quiet --offline",
                target.display()
            ),
        ),
    );
    let main_rs = |source: &str| {
        checks.run(
            SERVICE,
            &plan("calc-service/src/main.rs", source),
            CheckKind::Syntax,
        )
    };
    let bad = main_rs("fn main() {\n    let x: u32 = \"no\";\n    let _ = x;\n}\n");
    assert_failed_with(&bad, "E0308");
    assert!(bad.summary.contains("error[E0308]"), "{}", bad.summary);
    let good = main_rs("fn main() {\n    println!(\"ok\");\n}\n");
    assert!(good.passed, "{good:?}");
}

/// The embedded demo keeps today's gates: the built-in Python checks (quiet when they pass, so
/// seeded runs stay identical) and the heuristics for lint and security, which say so.
#[test]
fn demo_gates_keep_the_builtin_checks_and_name_the_heuristics() {
    if !python_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let events = json_events(headless_demo(dir.path()).arg("--auto-approve"));
    let gate = |name: &str| {
        events
            .iter()
            .find(|e| e["type"] == "gate_result" && e["gate"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no {name} gate"))
    };
    let tests = gate("tests");
    assert_eq!(tests["passed"], true, "{tests}");
    assert_eq!(tests["reason"], "17 tests, 0 failures");
    assert!(tests.get("output").is_none(), "{tests}");
    assert_eq!(gate("syntax")["reason"], "syntax OK (1 file)");
    for name in ["lint", "security"] {
        let g = gate(name);
        assert!(
            g["reason"]
                .as_str()
                .is_some_and(|r| r.contains("built-in heuristic")),
            "{g}"
        );
    }
}

/// A failed check's output travels in the `gate_result` event (what the audit log stores) and
/// the cockpit's gate details show it.
#[test]
fn failed_check_output_reaches_the_event_and_the_cockpit_details() {
    use ccp_core::events::{Event, EventKind};
    use ccp_tui::theme::Theme;
    use ccp_tui::ui_state::{Pane, UiState};
    use ccp_tui::view_model::ViewModel;
    use common::cockpit::{open_details, screen};

    let gate = PythonGate::new(
        CheckKind::Lint,
        "echo 'calc/ops.py:2: W999 LINT-FINDING-XYZ'; exit 1",
    );
    let report = gate.check(GOOD_OPS);
    let ev = Event {
        seq: 0,
        ts: "2026-11-23T10:00:00.000Z".into(),
        kind: EventKind::GateResult(gates::check_gate("lint", &report)),
        incident: "INC-1".into(),
    };
    let json = serde_json::to_value(&ev).expect("json");
    assert_eq!(json["type"], "gate_result");
    assert!(json["output"]
        .as_str()
        .is_some_and(|o| o.contains("LINT-FINDING-XYZ")));
    let back: Event = serde_json::from_value(json).expect("round trip");
    assert_eq!(back, ev);

    let mut vm = ViewModel::default();
    vm.apply(&ev);
    let mut ui = UiState::new(vec![Theme::default_dark()], "fast", "tester");
    ui.follow = false;
    ui.focus = Pane::Gates;
    open_details(&mut ui, &vm);
    let shown = screen(&vm, &ui);
    assert!(shown.contains("LINT-FINDING-XYZ"), "{shown}");
    assert!(shown.contains("output"), "{shown}");
}
