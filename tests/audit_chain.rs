//! The audit chain as an outsider sees it: ccp writes a log, then both ccp and
//! the independent Python verifier (which shares no code with ccp) must agree
//! on it — intact as written, and broken at the same seq for each tampering.

use ccp_audit::{verify_file, AuditError, FileAuditLog, VerifyReport};
use serde_json::{json, Value};
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Command;

const VERIFIER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/audit_independent_verify.py"
);
const RECORDS: u64 = 20;

fn data(i: u64) -> Value {
    json!({
        "step": format!("canary-{i}-stage"),
        "scores": [0.94, 3.2e-05, 1e21, -0.0, 0.1 + 0.2, 1.0 / 3.0, i as f64 * 1.1, 2.0],
        "ints": [u64::MAX, i64::MIN, -(i as i64)],
        "text": "naïve café — 日本語 😀 \u{7} tab\t \"q\" \\ </script>",
        "nested": {"z": {"y": [null, true, false, {"\u{10348}": 1, "\u{ffff}": 2, "é": 3}]}}
    })
}

fn write_log(dir: &Path) -> PathBuf {
    let path = dir.join("audit").join("audit.jsonl");
    let mut log = FileAuditLog::open(&path, true).expect("open new log");
    for i in 0..RECORDS {
        let ts = format!("2024-06-01T02:{i:02}:00Z");
        log.append(&ts, "alice", "gate.decision", data(i))
            .expect("append");
    }
    path
}

/// Run the Python verifier; `None` (with a note) when python3 is absent.
fn python_verdict(path: &Path) -> Option<(i32, String)> {
    match Command::new("python3").arg(VERIFIER).arg(path).output() {
        Ok(out) => {
            let stdout = String::from_utf8_lossy(&out.stdout).trim().to_string();
            Some((out.status.code().unwrap_or(-1), stdout))
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {
            assert!(
                std::env::var_os("CCP_REQUIRE_SERVERS").is_none(),
                "python3 is required here (the independent verifier)"
            );
            eprintln!("note: python3 not found; skipping the independent-verifier cross-check");
            None
        }
        Err(e) => panic!("could not run python3: {e}"),
    }
}

fn lines(path: &Path) -> Vec<String> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn join(lines: &[String]) -> String {
    lines.join("\n") + "\n"
}

/// Each tampering: name, new file content, expected seq and label.
fn tamperings(path: &Path) -> Vec<(&'static str, Vec<u8>, u64, &'static str)> {
    let original = lines(path);
    let edit = |f: &dyn Fn(&mut Vec<String>)| {
        let mut l = original.clone();
        f(&mut l);
        join(&l).into_bytes()
    };
    let all = fs::read(path).unwrap();
    let last_start = all[..all.len() - 1]
        .iter()
        .rposition(|b| *b == b'\n')
        .unwrap()
        + 1;
    let torn = all[..last_start + (all.len() - last_start) / 2].to_vec();
    let unterminated = all[..all.len() - 1].to_vec();
    let prev_11: String = original[11][original[11].len() - 66..original[11].len() - 2].to_string();
    vec![
        (
            "flipped byte",
            edit(&|l| l[10] = l[10].replacen("canary-10-stage", "canary-10-stagf", 1)),
            10,
            "hash mismatch",
        ),
        (
            "changed prev",
            edit(&|l| l[12] = l[12].replacen(&prev_11, &"a".repeat(64), 1)),
            12,
            "prev mismatch",
        ),
        (
            "deleted line",
            edit(&|l| drop(l.remove(7))),
            8,
            "seq out of order",
        ),
        (
            "swapped lines",
            edit(&|l| l.swap(4, 5)),
            5,
            "seq out of order",
        ),
        ("torn last line", torn, 19, "torn line"),
        ("missing newline", unterminated, 19, "torn line"),
        (
            "missing field",
            edit(&|l| l[5] = l[5].replacen("\"actor\":\"alice\",", "", 1)),
            5,
            "missing field",
        ),
        (
            "duplicate key decoy",
            edit(&|l| l[3] = l[3].replacen("{", "{\"data\":{},", 1)),
            3,
            "unparsable line",
        ),
        (
            "blank line",
            edit(&|l| l.insert(9, String::new())),
            9,
            "unparsable line",
        ),
        (
            "float changed",
            edit(&|l| l[2] = l[2].replacen("0.94", "0.9400000000000001", 1)),
            2,
            "hash mismatch",
        ),
    ]
}

#[test]
fn intact_log_verifies_in_rust_and_python() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_log(dir.path());
    let report = verify_file(&path).unwrap();
    assert!(
        matches!(
            report,
            VerifyReport::Intact {
                records: RECORDS,
                ..
            }
        ),
        "{report}"
    );
    if let Some((code, out)) = python_verdict(&path) {
        assert_eq!((code, out.as_str()), (0, "intact 20"));
    }
}

#[test]
fn every_tampering_is_found_at_the_same_seq_by_both_verifiers() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_log(dir.path());
    for (name, bytes, want_seq, want_label) in tamperings(&path) {
        let copy = dir.path().join(format!("{}.jsonl", name.replace(' ', "_")));
        fs::write(&copy, bytes).unwrap();
        let report = verify_file(&copy).unwrap();
        let VerifyReport::Broken { seq, reason, .. } = &report else {
            panic!("{name}: expected broken, got {report}");
        };
        assert_eq!(
            (*seq, reason.label()),
            (want_seq, want_label),
            "{name}: {report}"
        );
        if let Some((code, out)) = python_verdict(&copy) {
            let prefix = format!("broken at seq {want_seq}: {want_label}");
            assert!(
                code == 1 && out.starts_with(&prefix),
                "{name}: python said {out:?} (exit {code})"
            );
        }
    }
}

#[test]
fn torn_log_refuses_appends_and_is_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_log(dir.path());
    let all = fs::read(&path).unwrap();
    let torn = &all[..all.len() - 40];
    fs::write(&path, torn).unwrap();
    let err = FileAuditLog::open(&path, true).unwrap_err();
    assert!(
        matches!(
            err,
            AuditError::ChainBroken {
                seq: 19,
                line: 20,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("ccp audit verify"), "{err}");
    assert_eq!(fs::read(&path).unwrap(), torn);
}

#[test]
fn reopened_log_continues_the_chain_and_python_agrees() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_log(dir.path());
    let before = verify_file(&path).unwrap();
    let mut log = FileAuditLog::open(&path, true).unwrap();
    let VerifyReport::Intact { last_hash, .. } = before else {
        panic!("{before}")
    };
    assert_eq!(log.last_hash(), last_hash);
    let rec = log
        .append("2024-06-01T03:00:00Z", "ccp", "audit.reopened", json!({}))
        .unwrap();
    assert_eq!((rec.seq, rec.prev), (RECORDS, last_hash));
    if let Some((code, out)) = python_verdict(&path) {
        assert_eq!((code, out.as_str()), (0, "intact 21"));
    }
}
