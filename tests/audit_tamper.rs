//! Tampering with the audit log a real run leaves behind, judged by the real `ccp audit verify`.
//!
//! tests/audit_chain.rs checks the verifier library on a synthetic log and cross-checks it with
//! the independent Python verifier. This file starts instead from the log the headless demo
//! writes, tampers with copies of it the way an attacker (or a crash) would — edit, delete,
//! reorder, truncate — and pins down what the binary returns and prints for each: the exit code
//! and the exact seq and line it names. For the tamperings a bare hash chain cannot see, it
//! asserts that verification *passes* and shows what catches them instead: the last hash that
//! `ccp audit verify` prints, compared with a copy kept outside the log (an anchor).
//!
//! Reporting convention (shared with the Python verifier): the message is
//! `broken at seq S (line L): …` where L is the 1-based line where the chain first breaks (so
//! the `L - 1` records before it verified) and S is the seq that line *claims* when it is a
//! readable record, else the seq expected there. For a deleted or reordered record the two
//! differ, and the message then also says `expected seq L-1, found S`.

mod common;

use ccp_audit::{canonicalize, GENESIS_PREV};
use common::{headless_demo, run_ok};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_ccp");

/// The audit log of one headless demo run (auto-approved, resolved).
struct DemoLog {
    dir: tempfile::TempDir,
    /// The log's lines without their `\n`.
    lines: Vec<String>,
}

impl DemoLog {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let state = dir.path().join("state");
        run_ok(headless_demo(&state).args(["--seed", "7", "--auto-approve"]));
        let text = fs::read_to_string(state.join("audit.jsonl")).expect("the demo wrote a log");
        assert!(text.ends_with('\n'), "log does not end with a newline");
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        assert!(lines.len() >= 40, "only {} records", lines.len());
        let log = Self { dir, lines };
        assert_eq!(log.record(log.len() - 1)["type"], "finished");
        log
    }

    fn len(&self) -> usize {
        self.lines.len()
    }

    fn record(&self, i: usize) -> Value {
        serde_json::from_str(&self.lines[i]).expect("a record")
    }

    fn hash(&self, i: usize) -> String {
        self.record(i)["hash"].as_str().expect("hash").to_string()
    }

    /// The only record whose `type` is `kind` and whose data satisfies `pred`; it must lie
    /// strictly inside the log so the tampering has records on both sides.
    fn find(&self, kind: &str, pred: impl Fn(&Value) -> bool) -> usize {
        let hits: Vec<usize> = (0..self.len())
            .filter(|&i| {
                let r = self.record(i);
                r["type"] == kind && pred(&r["data"])
            })
            .collect();
        assert_eq!(hits.len(), 1, "records of type {kind}: {hits:?}");
        let k = hits[0];
        assert!(k > 0 && k + 1 < self.len(), "{kind} at the edge: {k}");
        k
    }

    /// Write `bytes` as a tampered copy named `name` and verify it with the binary.
    fn verify(&self, name: &str, bytes: impl AsRef<[u8]>) -> Verdict {
        let path = self.copy(name, bytes.as_ref());
        verify(self.dir.path(), &path)
    }

    fn copy(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.path().join(format!("{name}.jsonl"));
        fs::write(&path, bytes).expect("write copy");
        path
    }
}

/// What `ccp audit verify` did.
#[derive(Debug)]
struct Verdict {
    code: i32,
    /// The one stdout line without the `<path>: ` prefix.
    message: String,
    stderr: String,
}

fn verify(state: &Path, file: &Path) -> Verdict {
    let out = Command::new(BIN)
        .args(["audit", "verify"])
        .arg(file)
        .env("CCP_STATE_DIR", state)
        .output()
        .expect("ccp runs");
    let stdout = String::from_utf8(out.stdout).expect("utf8");
    let prefix = format!("{}: ", file.display());
    let message = match stdout.strip_suffix('\n').map(|s| s.strip_prefix(&prefix)) {
        Some(Some(m)) if !m.contains('\n') => m.to_string(),
        _ if stdout.is_empty() => String::new(),
        _ => panic!("unexpected stdout {stdout:?}"),
    };
    Verdict {
        code: out.status.code().expect("exited normally"),
        message,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn join(lines: &[String]) -> String {
    lines.join("\n") + "\n"
}

/// First 12 hex digits, as the verifier abbreviates hashes.
fn short(h: &str) -> &str {
    &h[..12]
}

/// A record's hash straight from the formula in DESIGN.md, as an attacker (or an outside
/// auditor) computes it: `hex(SHA-256(prev ‖ JCS(record without "hash")))`.
fn formula_hash(record: &Value) -> String {
    let mut m = record.as_object().expect("object").clone();
    m.remove("hash");
    let prev = m["prev"].as_str().expect("prev").to_string();
    let jcs = canonicalize(&Value::Object(m)).expect("jcs");
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(jcs.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Give `record` a new `prev` and a correct `hash` for it; return the new line and hash.
fn rehash(mut record: Value, prev: &str) -> (String, String) {
    record["prev"] = Value::from(prev);
    let hash = formula_hash(&record);
    record["hash"] = Value::from(hash.clone());
    (serde_json::to_string(&record).expect("encode"), hash)
}

/// Change the `seq` a line starts with (hash left alone).
fn renumber(line: &str, from: usize, to: usize) -> String {
    let (from, to) = (format!("{{\"seq\":{from},"), format!("{{\"seq\":{to},"));
    assert!(line.starts_with(&from), "{line}");
    line.replacen(&from, &to, 1)
}

fn broken_prefix(seq: usize, line: usize) -> String {
    format!("broken at seq {seq} (line {line}): ")
}

/// `verify`'s message when line `line` claims seq `found` where `expected` was due.
fn out_of_order(expected: usize, found: usize, line: usize) -> String {
    format!(
        "{}seq out of order — expected seq {expected}, found {found}; \
         a record was deleted, duplicated or reordered{}",
        broken_prefix(found, line),
        before(expected)
    )
}

/// `verify`'s message when record `seq` (on line `seq + 1`) does not link to `prev_hash`.
fn prev_mismatch(seq: usize, stored_prev: &str, prev_hash: &str) -> String {
    format!(
        "{}prev mismatch — prev {} does not link to the previous hash {}; \
         a record before it was removed, replaced or reordered{}",
        broken_prefix(seq, seq + 1),
        short(stored_prev),
        short(prev_hash),
        before(seq)
    )
}

fn before(n: usize) -> String {
    format!("; the {n} records before it verified")
}

#[test]
fn untouched_demo_log_verifies_and_prints_its_last_hash() {
    let log = DemoLog::new();
    let n = log.len();
    let v = log.verify("untouched", join(&log.lines));
    assert_eq!(v.code, 0, "{v:?}");
    // The printed last hash is the log's fingerprint: keep it outside the log (ticket, chat,
    // a second host) and compare later; it is what exposes the tamperings the chain cannot.
    assert_eq!(
        v.message,
        format!("intact: {n} records, last hash {}", log.hash(n - 1))
    );
    assert_eq!(v.stderr, "");
}

#[test]
fn edited_record_is_reported_at_its_own_seq() {
    let log = DemoLog::new();
    // Forge who approved the rollout.
    let k = log.find("approval", |d| d["decision"] == "approve");
    let mut forged = log.record(k);
    assert_eq!(forged["actor"], "auto");
    forged["actor"] = Value::from("alice");
    let mut lines = log.lines.clone();
    lines[k] = lines[k].replacen("\"actor\":\"auto\"", "\"actor\":\"alice\"", 1);
    assert_eq!(serde_json::from_str::<Value>(&lines[k]).unwrap(), forged);
    let v = log.verify("edit_actor", join(&lines));
    assert_eq!(v.code, 1, "{v:?}");
    assert_eq!(
        v.message,
        format!(
            "{}hash mismatch — the record was altered after it was written (stored {}, recomputed {}){}",
            broken_prefix(k, k + 1),
            short(&log.hash(k)),
            short(&formula_hash(&forged)),
            before(k)
        )
    );

    // Hide that the rollout reached 100 %: one number inside `data`.
    let j = log.find("deployed", |d| d["percent"] == 100);
    let mut lines = log.lines.clone();
    let edited = lines[j].replacen("\"percent\":100", "\"percent\":50", 1);
    assert_ne!(edited, lines[j]);
    lines[j] = edited;
    let v = log.verify("edit_number", join(&lines));
    assert_eq!(v.code, 1, "{v:?}");
    let recomputed = formula_hash(&serde_json::from_str(&lines[j]).unwrap());
    assert_eq!(
        v.message,
        format!(
            "{}hash mismatch — the record was altered after it was written (stored {}, recomputed {}){}",
            broken_prefix(j, j + 1),
            short(&log.hash(j)),
            short(&recomputed),
            before(j)
        )
    );
}

#[test]
fn edit_with_its_own_hash_recomputed_is_caught_by_the_next_record() {
    let log = DemoLog::new();
    let k = log.find("approval", |d| d["decision"] == "approve");
    let mut forged = log.record(k);
    forged["actor"] = Value::from("alice");
    let prev = log.hash(k - 1);
    let (line, new_hash) = rehash(forged, &prev);
    let mut lines = log.lines.clone();
    lines[k] = line;
    let v = log.verify("edit_rehash_one", join(&lines));
    assert_eq!(v.code, 1, "{v:?}");
    assert_eq!(v.message, prev_mismatch(k + 1, &log.hash(k), &new_hash));
}

/// The known limit of any hash chain without an external anchor: whoever can rewrite the file
/// can edit a record and recompute every hash after it, and the result is a perfectly valid
/// chain. Only the last hash changes, so the last hash must be anchored elsewhere (copied out
/// of band when the run ends, or periodically) and compared with what `ccp audit verify`
/// prints; that comparison is what detects this rewrite.
#[test]
fn rewriting_every_later_hash_passes_verify_and_only_the_anchor_shows_it() {
    let log = DemoLog::new();
    let n = log.len();
    let anchor = log.hash(n - 1);
    let k = log.find("approval", |d| d["decision"] == "approve");
    let mut lines = log.lines.clone();
    let mut prev = log.hash(k - 1);
    for (i, line) in lines.iter_mut().enumerate().skip(k) {
        let mut record = log.record(i);
        if i == k {
            record["actor"] = Value::from("alice");
        }
        let (l, h) = rehash(record, &prev);
        *line = l;
        prev = h;
    }
    let v = log.verify("rewrite_chain", join(&lines));
    assert_eq!(v.code, 0, "{v:?}");
    assert_eq!(v.message, format!("intact: {n} records, last hash {prev}"));
    assert_ne!(prev, anchor, "the anchor must expose the rewrite");
}

#[test]
fn deleted_record_is_reported_where_the_chain_breaks() {
    let log = DemoLog::new();
    let n = log.len();
    let k = n / 2;
    // Plain deletion: line k+1 now holds seq k+1 where seq k belongs.
    let mut lines = log.lines.clone();
    lines.remove(k);
    let v = log.verify("delete", join(&lines));
    assert_eq!(v.code, 1, "{v:?}");
    assert_eq!(v.message, out_of_order(k, k + 1, k + 1));

    // Deletion with the later seqs renumbered to hide the gap: the record now at seq k still
    // links to the deleted record's hash.
    for (i, line) in lines.iter_mut().enumerate().skip(k) {
        *line = renumber(line, i + 1, i);
    }
    let v = log.verify("delete_renumbered", join(&lines));
    assert_eq!(v.code, 1, "{v:?}");
    assert_eq!(v.message, prev_mismatch(k, &log.hash(k), &log.hash(k - 1)));

    // Deleting the very first record: nothing verifies.
    let v = log.verify("delete_first", join(&log.lines[1..]));
    assert_eq!(v.code, 1, "{v:?}");
    assert_eq!(v.message, out_of_order(0, 1, 1));
}

#[test]
fn swapped_records_are_reported_where_the_chain_breaks() {
    let log = DemoLog::new();
    let k = log.len() / 2;
    let mut lines = log.lines.clone();
    lines.swap(k, k + 1);
    let v = log.verify("swap", join(&lines));
    assert_eq!(v.code, 1, "{v:?}");
    assert_eq!(v.message, out_of_order(k, k + 1, k + 1));

    // Swapped with their seqs swapped back: the record now at seq k links to record k.
    lines[k] = renumber(&lines[k], k + 1, k);
    lines[k + 1] = renumber(&lines[k + 1], k, k + 1);
    assert_eq!(log.record(k + 1)["prev"], log.hash(k));
    let v = log.verify("swap_renumbered", join(&lines));
    assert_eq!(v.code, 1, "{v:?}");
    assert_eq!(v.message, prev_mismatch(k, &log.hash(k), &log.hash(k - 1)));
}

/// Dropping whole records from the end leaves a valid, shorter chain: the chain alone cannot
/// tell, and the audit module has no end marker or record-count sidecar to check against
/// (`finished` ends one incident, not the log; `ccp run` keeps appending after it). What shows
/// it is the anchor: the printed record count and last hash no longer match the copy kept
/// elsewhere. Truncating to nothing gives the empty log, which is the valid state of a log that
/// was created but never appended to.
#[test]
fn dropping_whole_records_from_the_end_passes_verify_and_only_the_anchor_shows_it() {
    let log = DemoLog::new();
    let n = log.len();
    let anchor = log.hash(n - 1);
    for dropped in [1, 3, n] {
        let kept = &log.lines[..n - dropped];
        let bytes = if kept.is_empty() {
            String::new()
        } else {
            join(kept)
        };
        let v = log.verify(&format!("drop_{dropped}"), bytes);
        assert_eq!(v.code, 0, "dropped {dropped}: {v:?}");
        let last = if kept.is_empty() {
            GENESIS_PREV.to_string()
        } else {
            log.hash(n - dropped - 1)
        };
        assert_eq!(
            v.message,
            format!("intact: {} records, last hash {last}", n - dropped),
            "dropped {dropped}"
        );
        assert_ne!(last, anchor, "dropped {dropped}");
    }
}

#[test]
fn torn_last_line_is_reported_with_its_seq_and_line_and_left_in_place() {
    let log = DemoLog::new();
    let n = log.len();
    let last = n - 1;
    let full = join(&log.lines);
    let start_of = |i: usize| full.len() - join(&log.lines[i..]).len();
    let mid = n / 2;
    // (name, bytes kept, seq of the torn line)
    let cuts = [
        // A crash in the middle of the last append.
        (
            "last_half",
            start_of(last) + log.lines[last].len() / 2,
            last,
        ),
        // Only the first byte of the last line made it.
        ("last_one_byte", start_of(last) + 1, last),
        // Cut inside the seq digits: the fragment's "seq" must not be trusted.
        ("last_in_seq", start_of(last) + "{\"seq\":".len() + 1, last),
        // The file ends in the middle of an earlier line (everything after it lost).
        ("middle_half", start_of(mid) + log.lines[mid].len() / 2, mid),
    ];
    for (name, keep, seq) in cuts {
        let bytes = &full.as_bytes()[..keep];
        assert_ne!(bytes.last(), Some(&b'\n'), "{name}");
        let path = log.copy(name, bytes);
        let v = verify(log.dir.path(), &path);
        assert_eq!(v.code, 1, "{name}: {v:?}");
        let prefix = format!(
            "{}torn line — the last line is incomplete (no trailing newline, invalid JSON: ",
            broken_prefix(seq, seq + 1)
        );
        let suffix = format!(
            "); a write was probably interrupted by a crash{}",
            before(seq)
        );
        assert!(
            v.message.starts_with(&prefix) && v.message.ends_with(&suffix),
            "{name}: {}",
            v.message
        );
        // Reported, never dropped or repaired.
        assert_eq!(fs::read(&path).unwrap(), bytes, "{name}: file changed");
    }

    // `ccp audit show` must not silently omit the torn line either.
    let path = log.copy("torn_show", &full.as_bytes()[..start_of(last) + 10]);
    let out = Command::new(BIN)
        .args(["audit", "show"])
        .arg(&path)
        .env("CCP_STATE_DIR", log.dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "line {n} is not a readable record: torn last line"
        )),
        "{stderr}"
    );
}

#[test]
fn non_json_line_in_the_middle_is_named_by_line() {
    let log = DemoLog::new();
    let k = log.len() / 2;
    let expected = format!(
        "{}unparsable line — the line is not a JSON object (invalid JSON: unexpected character \
         at byte 0); the file was edited or corrupted{}",
        broken_prefix(k, k + 1),
        before(k)
    );
    let mut inserted = log.lines.clone();
    inserted.insert(k, "garbage".to_string());
    let v = log.verify("garbage_inserted", join(&inserted));
    assert_eq!((v.code, v.message.as_str()), (1, expected.as_str()));

    let mut replaced = log.lines.clone();
    replaced[k] = "# garbage".to_string();
    let v = log.verify("garbage_replaced", join(&replaced));
    assert_eq!((v.code, v.message.as_str()), (1, expected.as_str()));
}

#[test]
fn empty_file_is_an_intact_empty_log_and_a_missing_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    // A log ccp has created but not yet appended to is empty, and `FileAuditLog::open`
    // verifies it before every run, so empty must verify. It reports 0 records and the genesis
    // hash, which no anchor of a log that had records can match.
    let empty = dir.path().join("empty.jsonl");
    fs::write(&empty, "").unwrap();
    let v = verify(dir.path(), &empty);
    assert_eq!(v.code, 0, "{v:?}");
    assert_eq!(
        v.message,
        format!("intact: 0 records, last hash {GENESIS_PREV}")
    );

    let missing = dir.path().join("missing.jsonl");
    let v = verify(dir.path(), &missing);
    assert_eq!(v.code, 2, "{v:?}");
    assert_eq!(v.message, "");
    assert_eq!(
        v.stderr,
        format!(
            "ccp: could not open audit log {}: No such file or directory (os error 2)\n",
            missing.display()
        )
    );
}
