//! End-to-end tests of the audit log: write, verify, tamper, recover.

use super::*;
use serde_json::{json, Value};
use std::fs;
use std::io::Cursor;
use std::path::{Path, PathBuf};

const RECORDS: u64 = 20;

fn sample_data(i: u64) -> Value {
    json!({
        "note": format!("record-{i}-target"),
        "confidence": 0.94,
        "p_value": 3.2e-05,
        "huge": 1e21,
        "neg_zero": -0.0,
        "whole_float": 2.0,
        "computed": [0.1 + 0.2, 1.0 / 3.0, i as f64 / 7.0 * 0.1, 333333333.3333333],
        "count": i,
        "negative": -(i as i64) - 1,
        "max": u64::MAX,
        "unicode": "héllo — 世界 😀 \u{1} \"quoted\" \\ /",
        "nested": {"z": [1, 2.5, {"b": null, "a": true}], "ä": {}, "\u{10000}": "astral", "\u{ffff}": "bmp"}
    })
}

fn write_sample(dir: &Path) -> (PathBuf, Vec<AuditRecord>) {
    let path = dir.join("nested").join("dir").join("audit.jsonl");
    let mut log = FileAuditLog::open(&path, true).unwrap();
    let records = (0..RECORDS)
        .map(|i| {
            let ts = format!("2024-05-01T03:{:02}:00Z", i);
            log.append(&ts, "oncall@example.com", "patch.approved", sample_data(i))
                .unwrap()
        })
        .collect();
    (path, records)
}

fn lines_of(path: &Path) -> Vec<String> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn write_lines(path: &Path, lines: &[String]) {
    let mut text = lines.join("\n");
    text.push('\n');
    fs::write(path, text).unwrap();
}

fn verify_text(text: &str) -> VerifyReport {
    verify_lines(Cursor::new(text.as_bytes().to_vec()))
}

fn assert_broken(report: &VerifyReport, want_seq: u64, want_line: u64, want_label: &str) {
    match report {
        VerifyReport::Broken {
            seq,
            line,
            reason,
            intact_before,
        } => {
            assert_eq!(
                (*seq, *line, reason.label()),
                (want_seq, want_line, want_label),
                "{report}"
            );
            assert_eq!(*intact_before, want_line - 1);
        }
        VerifyReport::Intact { .. } => panic!("expected broken, got {report}"),
    }
}

#[test]
fn written_log_verifies_intact() {
    let dir = tempfile::tempdir().unwrap();
    let (path, records) = write_sample(dir.path());
    let report = verify_file(&path).unwrap();
    let last = records.last().unwrap().hash.clone();
    assert_eq!(
        report,
        VerifyReport::Intact {
            records: RECORDS,
            last_hash: last
        }
    );
    assert!(report.message().starts_with("intact: 20 records"));
    assert_eq!(records[0].prev, GENESIS_PREV);
    for pair in records.windows(2) {
        assert_eq!(pair[1].prev, pair[0].hash);
    }
}

#[test]
fn lines_follow_contract_field_order() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = write_sample(dir.path());
    let first = &lines_of(&path)[0];
    assert!(
        first.starts_with("{\"seq\":0,\"ts\":\"2024-05-01T03:00:00Z\",\"actor\":"),
        "{first}"
    );
    let keys: Vec<String> = match serde_json::from_str::<Value>(first).unwrap() {
        Value::Object(m) => m.keys().cloned().collect(),
        _ => unreachable!(),
    };
    assert_eq!(keys, ["seq", "ts", "actor", "type", "data", "prev", "hash"]);
}

#[test]
fn hash_is_sha256_of_prev_then_jcs() {
    let record = json!({"seq":0,"ts":"t","actor":"a","type":"k","data":{"b":1.0,"a":"x"},"prev":GENESIS_PREV});
    let jcs = canonicalize(&record).unwrap();
    assert_eq!(
        jcs,
        format!(
            r#"{{"actor":"a","data":{{"a":"x","b":1}},"prev":"{GENESIS_PREV}","seq":0,"ts":"t","type":"k"}}"#
        )
    );
    let h = compute_hash(&record, GENESIS_PREV).unwrap();
    assert_eq!(h.len(), 64);
    assert!(h
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
    let mut with_hash = record.clone();
    with_hash["hash"] = json!("ignored");
    assert_eq!(compute_hash(&with_hash, GENESIS_PREV).unwrap(), h);
    // Known-answer value, computed independently with Python hashlib.
    assert_eq!(
        h,
        "38cf2b593e61c3bccc83230c0842f91bc67430a26f0d417b2abb3cac4682189d"
    );
}

#[test]
fn flipped_byte_in_middle_record_is_hash_mismatch_at_that_seq() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = write_sample(dir.path());
    let mut lines = lines_of(&path);
    lines[10] = lines[10].replacen("record-10-target", "record-10-targex", 1);
    write_lines(&path, &lines);
    let report = verify_file(&path).unwrap();
    assert_broken(&report, 10, 11, "hash mismatch");
    assert!(report
        .message()
        .contains("broken at seq 10 (line 11): hash mismatch — the record was altered"));
}

#[test]
fn changed_prev_is_prev_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let (path, records) = write_sample(dir.path());
    let mut lines = lines_of(&path);
    let forged = records[3].hash.clone();
    lines[12] = lines[12].replacen(&records[11].hash, &forged, 1);
    write_lines(&path, &lines);
    assert_broken(&verify_file(&path).unwrap(), 12, 13, "prev mismatch");
}

#[test]
fn deleted_line_is_seq_out_of_order() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = write_sample(dir.path());
    let mut lines = lines_of(&path);
    lines.remove(7);
    write_lines(&path, &lines);
    let report = verify_file(&path).unwrap();
    assert_broken(&report, 8, 8, "seq out of order");
    match report {
        VerifyReport::Broken { reason, .. } => {
            assert_eq!(
                reason,
                BreakReason::SeqOutOfOrder {
                    expected: 7,
                    found: 8
                }
            )
        }
        VerifyReport::Intact { .. } => unreachable!(),
    }
}

#[test]
fn torn_last_line_is_reported_and_blocks_appends() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = write_sample(dir.path());
    let mut bytes = fs::read(&path).unwrap();
    let last_start = bytes[..bytes.len() - 1]
        .iter()
        .rposition(|b| *b == b'\n')
        .unwrap()
        + 1;
    bytes.truncate(last_start + (bytes.len() - last_start) / 2);
    fs::write(&path, &bytes).unwrap();

    assert_broken(&verify_file(&path).unwrap(), 19, 20, "torn line");
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
    let msg = err.to_string();
    assert!(
        msg.contains(&path.display().to_string()) && msg.contains("ccp audit verify"),
        "{msg}"
    );
    assert!(msg.contains("torn line"), "{msg}");
    assert_eq!(
        fs::read(&path).unwrap(),
        bytes,
        "open must never modify a broken log"
    );
}

#[test]
fn complete_record_without_newline_is_still_torn() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = write_sample(dir.path());
    let text = fs::read_to_string(&path).unwrap();
    let report = verify_text(text.trim_end_matches('\n'));
    assert_broken(&report, 19, 20, "torn line");
}

#[test]
fn missing_field_and_garbage_lines() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = write_sample(dir.path());
    let mut lines = lines_of(&path);
    lines[5] = lines[5].replacen("\"actor\":\"oncall@example.com\",", "", 1);
    assert_broken(
        &verify_text(&(lines.join("\n") + "\n")),
        5,
        6,
        "missing field",
    );
    lines[5] = "not json".to_string();
    assert_broken(
        &verify_text(&(lines.join("\n") + "\n")),
        5,
        6,
        "unparsable line",
    );
    lines[5] = "[1,2]".to_string();
    assert_broken(
        &verify_text(&(lines.join("\n") + "\n")),
        5,
        6,
        "unparsable line",
    );
    lines[5] = String::new();
    assert_broken(
        &verify_text(&(lines.join("\n") + "\n")),
        5,
        6,
        "unparsable line",
    );
}

#[test]
fn empty_log_is_intact_at_genesis() {
    let report = verify_text("");
    assert_eq!(
        report,
        VerifyReport::Intact {
            records: 0,
            last_hash: GENESIS_PREV.to_string()
        }
    );
}

#[test]
fn reopening_intact_log_continues_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let (path, records) = write_sample(dir.path());
    let mut log = FileAuditLog::open(&path, false).unwrap();
    assert_eq!(log.next_seq(), RECORDS);
    assert_eq!(log.last_hash(), records[19].hash);
    assert_eq!(log.path(), path.as_path());
    let rec = log
        .append(
            "2024-05-01T04:00:00Z",
            "ccp",
            "canary.passed",
            json!({"ok": true}),
        )
        .unwrap();
    assert_eq!(
        (rec.seq, rec.prev.as_str()),
        (RECORDS, records[19].hash.as_str())
    );
    assert_eq!(log.last_hash(), rec.hash);
    assert!(matches!(
        verify_file(&path).unwrap(),
        VerifyReport::Intact { records: 21, .. }
    ));
    let read = read_records(&path).unwrap();
    assert_eq!(read.len(), 21);
    assert_eq!(read[..20], records[..]);
    assert_eq!(read[20], rec);
}

#[test]
fn read_records_names_the_bad_line() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = write_sample(dir.path());
    let mut lines = lines_of(&path);
    lines[2] = "{oops".to_string();
    write_lines(&path, &lines);
    let err = read_records(&path).unwrap_err();
    assert!(
        matches!(err, AuditError::Malformed { line: 3, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("line 3"));
}

#[test]
fn open_missing_file_reports_path() {
    let err = verify_file(Path::new("/nonexistent/ccp/audit.jsonl")).unwrap_err();
    assert!(
        err.to_string().contains("/nonexistent/ccp/audit.jsonl"),
        "{err}"
    );
}

#[test]
fn a_second_writer_is_refused_naming_the_holder_until_the_first_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let first = FileAuditLog::open(&path, false).unwrap();
    match FileAuditLog::open(&path, false) {
        Err(AuditError::InUse { holder, .. }) => {
            #[cfg(target_os = "linux")]
            assert_eq!(holder, Some(std::process::id()));
            #[cfg(not(target_os = "linux"))]
            let _ = holder;
        }
        other => panic!("second writer was not refused: {other:?}"),
    }
    assert!(log_in_use(&path).unwrap());
    drop(first);
    assert!(!log_in_use(&path).unwrap());
    FileAuditLog::open(&path, false).expect("free again once the first writer is gone");
}
