//! `ccp localize` on real stack traces, end to end through the binary.
//!
//! Every trace here was produced by really running a small program: the programs live under
//! `tests/fixtures/traces/<language>/`, the traces they printed on the machine that wrote these
//! tests are committed beside them (`*.trace`, see the README there). Two kinds of tests:
//!
//! - `committed_*`: the committed trace, parsed without a repository (paths as printed on that
//!   host) and with one built from the fixture program under another root (paths resolved by
//!   suffix, as for a trace from a production host). These run everywhere.
//! - `live_*`: the program is committed to a fresh git repository, run now with the runtime on
//!   this machine, and its trace piped into `ccp localize --trace - --repo DIR --json`. They
//!   print a SKIP note and return when the runtime is not on PATH (the committed test covers it).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use git2::{IndexAddOption, Oid, Repository, Signature, Time};
use serde_json::Value;

const T0: i64 = 1_700_000_000; // 2023-11-14T22:13:20Z

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/traces")
}

fn committed(name: &str) -> String {
    fs::read_to_string(fixtures().join(name)).expect("committed trace")
}

/// Run `ccp localize` with `args`, feeding `stdin`; returns (exit code, stdout, stderr).
fn ccp(args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ccp"))
        .arg("localize")
        .args(args)
        .env(
            "CCP_LOG",
            std::env::temp_dir().join("ccp-localize-tests.log"),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ccp");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("ccp output");
    (
        out.status.code().expect("exit code"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `ccp localize --trace - [--repo DIR] --json` on `trace`; asserts exit 0 and parses stdout.
fn localize_json(trace: &str, repo: Option<&Path>) -> Value {
    let repo_arg = repo.map(|r| r.display().to_string());
    let mut args = vec!["--trace", "-", "--json"];
    if let Some(r) = &repo_arg {
        args.extend(["--repo", r.as_str()]);
    }
    let (code, stdout, stderr) = ccp(&args, trace);
    assert_eq!(
        code, 0,
        "exit code; stderr: {stderr}\nstdout: {stdout}\ntrace:\n{trace}"
    );
    serde_json::from_str(&stdout).expect("one JSON document on stdout")
}

fn assert_culprit(report: &Value, file: &str, line: u64, function: &str) {
    let culprit = &report["culprit"];
    assert_eq!(
        (
            culprit["file"].as_str(),
            culprit["line"].as_u64(),
            culprit["function"].as_str()
        ),
        (Some(file), Some(line), Some(function)),
        "culprit of {report:#}"
    );
}

/// Commit everything in the work tree as `author` at `time`; returns the commit id.
fn commit_all(repo: &Repository, author: &str, message: &str, time: i64) -> Oid {
    let mut index = repo.index().expect("index");
    index
        .add_all(["*"].iter(), IndexAddOption::DEFAULT, None)
        .expect("add");
    index.write().expect("write index");
    let tree = repo
        .find_tree(index.write_tree().expect("tree"))
        .expect("find tree");
    let email = format!("{}@example.com", author.to_lowercase().replace(' ', "."));
    let sig = Signature::new(author, &email, &Time::new(time, 0)).expect("signature");
    let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
    repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)
        .expect("commit")
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("mkdir");
    for entry in fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// A git repository holding the fixture program `language` under `prefix` (plus `extra` files),
/// committed once by "Fixture Bot".
struct ProgramRepo {
    dir: tempfile::TempDir,
    commit: Oid,
}

impl ProgramRepo {
    fn new(language: &str, prefix: &str, extra: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        copy_tree(&fixtures().join(language), &dir.path().join(prefix));
        for (path, text) in extra {
            let path = dir.path().join(path);
            fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            fs::write(path, text).expect("write");
        }
        let repo = Repository::init(dir.path()).expect("init");
        let commit = commit_all(&repo, "Fixture Bot", "Add the program", T0);
        ProgramRepo { dir, commit }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn program(&self, prefix: &str) -> PathBuf {
        self.dir.path().join(prefix)
    }

    fn assert_blamed(&self, report: &Value) {
        assert_eq!(
            report["blame"]["commit"].as_str(),
            Some(self.commit.to_string().as_str()),
            "blame of {report:#}"
        );
        assert_eq!(report["blame"]["author"], "Fixture Bot");
        assert_eq!(report["blame"]["summary"], "Add the program");
        assert_eq!(report["blame"]["time"], "2023-11-14T22:13:20Z");
    }
}

fn runtime_missing(program: &str, version_flag: &str, test: &str) -> bool {
    let present = Command::new(program)
        .arg(version_flag)
        .output()
        .is_ok_and(|o| o.status.success());
    if !present {
        eprintln!("SKIP {test}: `{program}` is not on PATH; the committed_* test covers this runtime with the trace it printed");
    }
    !present
}

/// Run a program that is expected to crash; returns its stderr (where every runtime writes the
/// trace), after checking that it did fail.
fn crash(command: &mut Command) -> String {
    let out: Output = command.output().expect("run program");
    assert!(
        !out.status.success(),
        "the program was supposed to crash: {:?}",
        out
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn frames_in_repo(report: &Value) -> Vec<String> {
    report["frames"]
        .as_array()
        .expect("frames")
        .iter()
        .filter(|f| f["in_repo"] == true)
        .map(|f| format!("{}:{}", f["file"].as_str().unwrap_or(""), f["line"]))
        .collect()
}

// ---------------------------------------------------------------- Python

#[test]
fn committed_python_trace_skips_the_json_stdlib_frames() {
    let trace = committed("python.trace");
    let report = localize_json(&trace, None);
    assert_eq!(report["language"], "python");
    assert_eq!(report["exception"], "json.decoder.JSONDecodeError");
    assert_eq!(
        report["message"],
        "Expecting ',' delimiter: line 1 column 42 (char 41)"
    );
    assert_eq!(report["blame"], Value::Null);
    assert_culprit(
        &report,
        "/tmp/ccp-capture/python/orders/parse.py",
        6,
        "parse_order",
    );

    let repo = ProgramRepo::new("python", "services/orders", &[]);
    let report = localize_json(&trace, Some(repo.path()));
    assert_culprit(&report, "services/orders/orders/parse.py", 6, "parse_order");
    assert_eq!(
        frames_in_repo(&report),
        [
            "services/orders/app.py:14",
            "services/orders/app.py:10",
            "services/orders/orders/parse.py:6"
        ]
    );
    repo.assert_blamed(&report);
}

#[test]
fn live_python_trace() {
    if runtime_missing("python3", "--version", "live_python_trace") {
        return;
    }
    let repo = ProgramRepo::new("python", "svc", &[]);
    let trace = crash(
        Command::new("python3")
            .arg("app.py")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .current_dir(repo.program("svc")),
    );
    let report = localize_json(&trace, Some(repo.path()));
    assert_eq!(report["exception"], "json.decoder.JSONDecodeError");
    assert_culprit(&report, "svc/orders/parse.py", 6, "parse_order");
    repo.assert_blamed(&report);
}

// ---------------------------------------------------------------- Java

/// A class with the same file name in another package must not capture the frame.
const DECOY_JAVA: (&str, &str) = (
    "tools/Orders.java",
    "public class Orders { public static void main(String[] a) {} }\n",
);

#[test]
fn committed_java_trace_blames_the_deepest_cause() {
    let trace = committed("java.trace");
    let report = localize_json(&trace, None);
    assert_eq!(report["language"], "java");
    assert_eq!(report["exception"], "java.lang.NumberFormatException");
    assert_eq!(report["message"], "For input string: \"two\"");
    assert_culprit(
        &report,
        "com/acme/shop/Orders.java",
        9,
        "com.acme.shop.Orders.quantity",
    );
    // `... 8 more` restored: the deepest cause's stack continues into main and the launcher.
    let frames = report["frames"].as_array().expect("frames");
    assert_eq!(frames.len(), 13, "{frames:#?}");
    assert_eq!(
        frames[0]["function"],
        "com.sun.tools.javac.launcher.Main.main"
    );

    let repo = ProgramRepo::new("java", "src/main/java", &[DECOY_JAVA]);
    let report = localize_json(&trace, Some(repo.path()));
    assert_culprit(
        &report,
        "src/main/java/com/acme/shop/Orders.java",
        9,
        "com.acme.shop.Orders.quantity",
    );
    assert_eq!(
        frames_in_repo(&report),
        [
            "src/main/java/com/acme/shop/Orders.java:26",
            "src/main/java/com/acme/shop/Orders.java:16",
            "src/main/java/com/acme/shop/Orders.java:9"
        ],
        "the launcher's com/sun/tools/javac/launcher/Main.java must not match tools/Orders.java"
    );
    repo.assert_blamed(&report);
}

#[test]
fn live_java_trace() {
    if runtime_missing("java", "-version", "live_java_trace") {
        return;
    }
    let repo = ProgramRepo::new("java", "src/main/java", &[DECOY_JAVA]);
    let trace = crash(
        Command::new("java")
            .arg("com/acme/shop/Orders.java")
            .current_dir(repo.program("src/main/java")),
    );
    assert!(trace.contains("Caused by: "), "{trace}");
    let report = localize_json(&trace, Some(repo.path()));
    assert_eq!(report["exception"], "java.lang.NumberFormatException");
    assert_culprit(
        &report,
        "src/main/java/com/acme/shop/Orders.java",
        9,
        "com.acme.shop.Orders.quantity",
    );
    repo.assert_blamed(&report);
}

// ---------------------------------------------------------------- Node.js

#[test]
fn committed_node_trace_skips_internal_and_anonymous_frames() {
    let trace = committed("node.trace");
    let report = localize_json(&trace, None);
    assert_eq!(report["language"], "node");
    assert_eq!(report["exception"], "TypeError");
    assert_eq!(
        report["message"],
        "Cannot read properties of undefined (reading 'city')"
    );
    assert_culprit(&report, "/tmp/ccp-capture/node/app.js", 5, "shippingCity");

    let repo = ProgramRepo::new("node", "web", &[]);
    let report = localize_json(&trace, Some(repo.path()));
    assert_culprit(&report, "web/app.js", 5, "shippingCity");
    assert_eq!(
        frames_in_repo(&report),
        [
            "web/app.js:12",
            "web/app.js:9",
            "web/app.js:9",
            "web/app.js:5"
        ]
    );
    repo.assert_blamed(&report);
}

#[test]
fn live_node_trace() {
    if runtime_missing("node", "--version", "live_node_trace") {
        return;
    }
    let repo = ProgramRepo::new("node", "web", &[]);
    let trace = crash(
        Command::new("node")
            .arg("app.js")
            .current_dir(repo.program("web")),
    );
    let report = localize_json(&trace, Some(repo.path()));
    assert_eq!(report["exception"], "TypeError");
    assert_culprit(&report, "web/app.js", 5, "shippingCity");
    repo.assert_blamed(&report);
}

// ---------------------------------------------------------------- Rust

/// Another crate's `src/main.rs`: `./src/main.rs` must still pick the root one.
const DECOY_RUST: (&str, &str) = ("tools/gen/src/main.rs", "fn main() {}\n");

#[test]
fn committed_rust_panic_without_backtrace() {
    let trace = committed("rust-panic.trace");
    assert!(!trace.contains("stack backtrace"));
    let report = localize_json(&trace, None);
    assert_eq!(report["language"], "rust");
    assert_eq!(report["exception"], "panic");
    assert_eq!(
        report["message"],
        "called `Result::unwrap()` on an `Err` value: ParseIntError { kind: InvalidDigit }"
    );
    assert_culprit(&report, "src/main.rs", 5, "");

    let repo = ProgramRepo::new("rust", "", &[DECOY_RUST]);
    let report = localize_json(&trace, Some(repo.path()));
    assert_culprit(&report, "src/main.rs", 5, "");
    repo.assert_blamed(&report);
}

#[test]
fn committed_rust_panic_with_backtraces() {
    let repo = ProgramRepo::new("rust", "", &[DECOY_RUST]);
    for (name, printed) in [
        ("rust-backtrace.trace", "./src/main.rs"),
        (
            "rust-backtrace-full.trace",
            "/tmp/ccp-capture/rust/src/main.rs",
        ),
    ] {
        let trace = committed(name);
        let report = localize_json(&trace, None);
        assert_culprit(&report, printed, 5, "main::parse_port");
        let report = localize_json(&trace, Some(repo.path()));
        assert_culprit(&report, "src/main.rs", 5, "main::parse_port");
        assert_eq!(
            frames_in_repo(&report),
            ["src/main.rs:14", "src/main.rs:9", "src/main.rs:5"],
            "{name}"
        );
        repo.assert_blamed(&report);
    }
    // Built without debug info: the backtrace has names only, the panic line the location.
    let report = localize_json(
        &committed("rust-backtrace-nodebug.trace"),
        Some(repo.path()),
    );
    assert_culprit(&report, "src/main.rs", 5, "");
}

fn live_rust(backtrace: bool) -> Value {
    let repo = ProgramRepo::new("rust", "", &[DECOY_RUST]);
    let out = tempfile::tempdir().expect("tempdir");
    let binary = out.path().join("orders");
    let status = Command::new("rustc")
        .args(["-g", "-o"])
        .arg(&binary)
        .arg("src/main.rs")
        .current_dir(repo.path())
        .status()
        .expect("rustc");
    assert!(status.success(), "rustc failed");
    let mut run = Command::new(&binary);
    run.current_dir(repo.path());
    if backtrace {
        run.env("RUST_BACKTRACE", "1");
    } else {
        run.env_remove("RUST_BACKTRACE");
    }
    let trace = crash(&mut run);
    assert_eq!(trace.contains("stack backtrace:"), backtrace, "{trace}");
    let report = localize_json(&trace, Some(repo.path()));
    repo.assert_blamed(&report);
    report
}

#[test]
fn live_rust_panic_without_backtrace() {
    if runtime_missing("rustc", "--version", "live_rust_panic_without_backtrace") {
        return;
    }
    assert_culprit(&live_rust(false), "src/main.rs", 5, "");
}

#[test]
fn live_rust_panic_with_backtrace() {
    if runtime_missing("rustc", "--version", "live_rust_panic_with_backtrace") {
        return;
    }
    assert_culprit(&live_rust(true), "src/main.rs", 5, "main::parse_port");
}

// ---------------------------------------------------------------- Go

#[test]
fn committed_go_panic_skips_goroot() {
    let trace = committed("go.trace");
    let report = localize_json(&trace, None);
    assert_eq!(report["language"], "go");
    assert_eq!(report["exception"], "panic");
    assert!(report["message"]
        .as_str()
        .is_some_and(|m| m.starts_with("regexp: Compile(`^X(Y-[0-9]+$`)")));
    assert_culprit(
        &report,
        "/tmp/ccp-capture/go/main.go",
        12,
        "main.skuPattern",
    );

    let repo = ProgramRepo::new("go", "cmd/skus", &[]);
    let report = localize_json(&trace, Some(repo.path()));
    assert_culprit(&report, "cmd/skus/main.go", 12, "main.skuPattern");
    assert_eq!(
        frames_in_repo(&report),
        [
            "cmd/skus/main.go:19",
            "cmd/skus/main.go:20",
            "cmd/skus/main.go:12"
        ]
    );
    repo.assert_blamed(&report);
}

#[test]
fn live_go_panic() {
    if runtime_missing("go", "version", "live_go_panic") {
        return;
    }
    let repo = ProgramRepo::new("go", "cmd/skus", &[]);
    let trace = crash(
        Command::new("go")
            .args(["run", "main.go"])
            .current_dir(repo.program("cmd/skus")),
    );
    let report = localize_json(&trace, Some(repo.path()));
    assert_culprit(&report, "cmd/skus/main.go", 12, "main.skuPattern");
    repo.assert_blamed(&report);
}

// ---------------------------------------------------------------- blame and exit codes

/// The program is committed in three steps by three people; the trace comes from a copy
/// deployed elsewhere. Blame must name the commit that wrote the failing line, not HEAD.
#[test]
fn blame_names_the_commit_that_wrote_the_culprit_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let service = dir.path().join("services/orders");
    copy_tree(&fixtures().join("python"), &service);
    let parse_py = service.join("orders/parse.py");
    let good = fs::read_to_string(&parse_py).expect("parse.py");
    let bad_line = "    order = json.loads(raw)\n";
    assert_eq!(good.lines().nth(5), Some(bad_line.trim_end()));
    fs::write(
        &parse_py,
        good.replace(bad_line, "    order = json.loads(raw or \"{}\")\n"),
    )
    .expect("write");
    let repo = Repository::init(dir.path()).expect("init");
    commit_all(&repo, "Ada Lovelace", "Add the orders service", T0);
    fs::write(&parse_py, &good).expect("write");
    let culprit_commit = commit_all(
        &repo,
        "Grace Hopper",
        "Decode the order body as sent\n\nNo more defaulting to {}.",
        T0 + 3600,
    );
    fs::write(service.join("README.md"), "Orders service.\n").expect("write");
    let head = commit_all(
        &repo,
        "Katherine Johnson",
        "Document the service",
        T0 + 7200,
    );
    assert_ne!(head, culprit_commit);

    let trace = if runtime_missing("python3", "--version", "blame (live part)") {
        committed("python.trace")
    } else {
        let deployed = tempfile::tempdir().expect("tempdir");
        copy_tree(&service, deployed.path());
        crash(
            Command::new("python3")
                .arg("app.py")
                .env("PYTHONDONTWRITEBYTECODE", "1")
                .current_dir(deployed.path()),
        )
    };
    let report = localize_json(&trace, Some(dir.path()));
    assert_culprit(&report, "services/orders/orders/parse.py", 6, "parse_order");
    let culprit_id = culprit_commit.to_string();
    assert_eq!(
        report["blame"]["commit"].as_str(),
        Some(culprit_id.as_str())
    );
    assert_eq!(report["blame"]["author"], "Grace Hopper");
    assert_eq!(report["blame"]["summary"], "Decode the order body as sent");
    assert_eq!(report["blame"]["time"], "2023-11-14T23:13:20Z");

    // The human output leads with the culprit, then the blame, then the frames.
    let repo_arg = dir.path().display().to_string();
    let (code, text, _) = ccp(&["--trace", "-", "--repo", &repo_arg], &trace);
    assert_eq!(code, 0);
    let culprit_at = text.find("culprit  services/orders/orders/parse.py:6  in parse_order");
    let blame_at = text.find(&format!("blame    {culprit_id}  Grace Hopper"));
    let frames_at = text.find("frames");
    assert!(
        culprit_at.is_some() && culprit_at < blame_at && blame_at < frames_at,
        "{text}"
    );
    assert!(text.contains("order = json.loads(raw)"), "{text}");
}

#[test]
fn exit_codes_1_and_2() {
    let repo = ProgramRepo::new("python", "services/orders", &[]);
    let repo_arg = repo.path().display().to_string();
    let scratch = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, text: &str| {
        let path = scratch.path().join(name);
        fs::write(&path, text).expect("write");
        path.display().to_string()
    };

    // 1: a real trace, but none of its frames is in this repository.
    let java = fixtures().join("java.trace").display().to_string();
    let (code, stdout, stderr) = ccp(&["--trace", &java, "--repo", &repo_arg, "--json"], "");
    assert_eq!(code, 1, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).expect("report still printed");
    assert_eq!(report["culprit"], Value::Null);
    assert_eq!(report["blame"], Value::Null);
    assert!(stderr.contains("no frame"), "{stderr}");

    // 1: a trace header with no frames at all.
    let headless = write(
        "no-frames.trace",
        "Traceback (most recent call last):\nMemoryError\n",
    );
    let (code, stdout, stderr) = ccp(&["--trace", &headless, "--json"], "");
    assert_eq!((code, stdout.as_str()), (1, ""), "{stderr}");
    assert!(stderr.contains("no frames"), "{stderr}");

    // 1: every frame is the runtime's (no --repo).
    let internal = "Error: boom\n    at node:internal/main/run_main_module:28:49\n";
    let (code, _, stderr) = ccp(&["--trace", "-"], internal);
    assert_eq!(code, 1, "{stderr}");

    // 2: unreadable file, not a trace, a trace cut off before its exception, not a repository.
    let missing = scratch.path().join("missing.trace").display().to_string();
    let (code, stdout, stderr) = ccp(&["--trace", &missing], "");
    assert_eq!((code, stdout.as_str()), (2, ""), "{stderr}");
    assert!(stderr.contains("cannot read"), "{stderr}");

    let prose = write("prose.txt", "all systems nominal\nno errors today\n");
    let (code, _, stderr) = ccp(&["--trace", &prose, "--json"], "");
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("unrecognised stack trace"), "{stderr}");

    let (code, _, _) = ccp(&["--trace", "-"], "");
    assert_eq!(code, 2, "empty stdin");

    let cut = "Traceback (most recent call last):\n  File \"/srv/a.py\", line 3, in f\n    g()\n";
    let (code, _, stderr) = ccp(&["--trace", "-"], cut);
    assert_eq!(code, 2, "{stderr}");

    let python = fixtures().join("python.trace").display().to_string();
    let not_repo = scratch.path().display().to_string();
    let (code, stdout, stderr) = ccp(&["--trace", &python, "--repo", &not_repo], "");
    assert_eq!((code, stdout.as_str()), (2, ""), "{stderr}");
    assert!(stderr.contains("--repo"), "{stderr}");
}
