//! One writer per audit log, across processes: a second `ccp` on the same state directory while
//! the first writes is refused at once (exit 2, naming the holder's PID), and however two starts
//! race, the chain they leave verifies.

mod common;

use common::headless_demo;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn verify(log: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ccp"))
        .args(["audit", "verify"])
        .arg(log)
        .output()
        .expect("ccp audit verify runs")
}

#[test]
fn a_second_writer_is_refused_while_the_first_writes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("audit.jsonl");
    // The first run waits for approval that never comes (stdin is closed only when we say so),
    // so it holds the log for as long as this test needs.
    let mut first = Command::new(env!("CARGO_BIN_EXE_ccp"))
        .args(["demo", "--headless", "--json", "--pace", "instant"])
        .env("CCP_STATE_DIR", dir.path())
        .env("CCP_DEMO_DIR", common::demo_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("first ccp starts");
    let start = Instant::now();
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("awaiting_approval")
    {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the first run never reached the approval"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let second = headless_demo(dir.path())
        .arg("--auto-approve")
        .output()
        .expect("second ccp runs");
    let err = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("PID {}", first.id())),
        "names the holder: {err}"
    );
    let _ = first.kill();
    let _ = first.wait();
    assert!(verify(&log).status.success());
}

#[test]
fn racing_writers_never_break_the_chain() {
    for round in 0..20 {
        let dir = tempfile::tempdir().expect("tempdir");
        let spawn = || {
            headless_demo(dir.path())
                .arg("--auto-approve")
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("ccp starts")
        };
        let a = spawn();
        std::thread::sleep(Duration::from_millis(round * 15));
        let b = spawn();
        let mut ok = 0;
        for child in [a, b] {
            let out = child.wait_with_output().expect("ccp ends");
            match out.status.code() {
                Some(0) => ok += 1,
                Some(2) => {
                    let err = String::from_utf8_lossy(&out.stderr);
                    assert!(
                        err.contains("one writer per log"),
                        "round {round}: refused for another reason: {err}"
                    );
                }
                other => panic!(
                    "round {round}: exit {other:?}: {}",
                    String::from_utf8_lossy(&out.stderr)
                ),
            }
        }
        assert!(ok >= 1, "round {round}: neither run finished");
        let v = verify(&dir.path().join("audit.jsonl"));
        assert!(
            v.status.success(),
            "round {round}: {}",
            String::from_utf8_lossy(&v.stdout)
        );
    }
}

#[test]
fn a_log_the_os_will_not_let_us_write_is_a_permission_error_not_a_broken_chain() {
    // Root writes anything, so the run that meets the read-only log is run as `nobody`.
    if unsafe { libc::geteuid() } != 0 || !common::have("runuser", "--version") {
        eprintln!("skipping: needs root and runuser to act as an unprivileged user");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state");
    common::run_ok(headless_demo(&state).arg("--auto-approve"));
    let log = state.join("audit.jsonl");
    let mode = |p: &std::path::Path, m: u32| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).expect("chmod");
    };
    mode(dir.path(), 0o755);
    mode(&state, 0o777);
    mode(&log, 0o444);
    // The checkout may sit under a directory only root can enter (a `mktemp -d` clone): give
    // `nobody` its own copies of the binary and the demo.
    let bin = dir.path().join("ccp");
    std::fs::copy(env!("CARGO_BIN_EXE_ccp"), &bin).expect("copy the binary");
    mode(&bin, 0o755);
    let demo = dir.path().join("demo");
    let copied = Command::new("cp")
        .arg("-r")
        .arg(common::demo_dir())
        .arg(&demo)
        .status()
        .expect("cp");
    assert!(copied.success(), "copying the demo");
    let _ = Command::new("chmod")
        .args(["-R", "a+rX"])
        .arg(&demo)
        .status();
    let out = Command::new("runuser")
        .args(["-u", "nobody", "--"])
        .arg(&bin)
        .args([
            "demo",
            "--headless",
            "--json",
            "--pace",
            "instant",
            "--auto-approve",
        ])
        .env("CCP_STATE_DIR", &state)
        .env("CCP_DEMO_DIR", &demo)
        .env("CCP_LOG", state.join("nobody.log"))
        .output()
        .expect("runuser");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("Permission denied"), "{err}");
    assert!(err.contains("check its owner, permissions"), "{err}");
    assert!(
        !err.contains("where it breaks"),
        "not reported as a broken chain: {err}"
    );
    // The log is untouched and still verifies.
    assert!(verify(&log).status.success());
}
