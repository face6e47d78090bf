//! The hash chain: how a record's hash is computed and how a log is verified.
//!
//! `hash = hex(SHA-256(prev ‖ JCS(record without "hash")))`. Each record
//! commits to its predecessor through `prev`, so editing, deleting or
//! reordering any line breaks every hash after it. Verification is
//! deliberately a pure function of the bytes so that `ccp audit verify`, the
//! append path and the independent Python verifier all agree.

use super::fast::{Canonicalizer, FastRecord};
use super::jcs::{canonicalize, JcsError};
use super::parse::parse_json;
use super::AuditError;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

/// `prev` of the first record (seq 0): 64 zeros.
///
/// A fixed, well-known anchor means the first record is verified exactly like
/// every other one, with no special case a tamperer could exploit.
pub const GENESIS_PREV: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One line of the audit log.
///
/// Field order matches the on-disk contract (`seq, ts, actor, type, data,
/// prev, hash`) so lines read naturally; the order does not affect the hash,
/// which is computed over the canonical (sorted) form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Position in the chain, starting at 0 and increasing by 1 per line.
    pub seq: u64,
    /// Timestamp supplied by the caller (RFC 3339 by convention); stored as a
    /// string so the log never depends on a time library's formatting.
    pub ts: String,
    /// Who caused the event (operator name, `ccp`, an adapter …).
    pub actor: String,
    /// Event type, e.g. `patch.approved`; `type` on disk.
    #[serde(rename = "type")]
    pub kind: String,
    /// Free-form event payload.
    pub data: Value,
    /// Hash of the previous record, or [`GENESIS_PREV`] for seq 0.
    pub prev: String,
    /// This record's hash; see [`compute_hash`].
    pub hash: String,
}

impl AuditRecord {
    /// The record as a JSON object without `hash`: exactly what is hashed.
    ///
    /// Exposed so callers and tests never rebuild the hashed form by hand.
    pub fn to_unhashed_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("seq".into(), Value::from(self.seq));
        m.insert("ts".into(), Value::from(self.ts.clone()));
        m.insert("actor".into(), Value::from(self.actor.clone()));
        m.insert("type".into(), Value::from(self.kind.clone()));
        m.insert("data".into(), self.data.clone());
        m.insert("prev".into(), Value::from(self.prev.clone()));
        Value::Object(m)
    }
}

/// Compute a record's hash: lowercase hex SHA-256 of `prev` (its 64 ASCII hex
/// characters) immediately followed by the JCS form of the record.
///
/// A `hash` member in `record_without_hash`, if present, is ignored, because
/// by definition a hash never covers itself; this lets verifiers pass the
/// parsed line as is. `prev` is prepended as well as contained in the record
/// so the chain link is explicit in the preimage.
pub fn compute_hash(record_without_hash: &Value, prev: &str) -> Result<String, JcsError> {
    let canonical = match record_without_hash {
        Value::Object(m) if m.contains_key("hash") => {
            let mut m = m.clone();
            m.remove("hash");
            canonicalize(&Value::Object(m))?
        }
        other => canonicalize(other)?,
    };
    let mut hasher = Sha256::new();
    hasher.update(prev.as_bytes());
    hasher.update(canonical.as_bytes());
    Ok(to_hex(&hasher.finalize()))
}

fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

/// [`compute_hash`] over an already canonical record, as lowercase hex bytes
/// (no allocation: the fast path calls this once per line).
fn hash_hex(prev: &[u8], canonical: &[u8]) -> [u8; 64] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hasher = Sha256::new();
    hasher.update(prev);
    hasher.update(canonical);
    let mut hex = [0u8; 64];
    for (i, b) in hasher.finalize().iter().enumerate() {
        hex[2 * i] = DIGITS[usize::from(b >> 4)];
        hex[2 * i + 1] = DIGITS[usize::from(b & 0x0f)];
    }
    hex
}

/// Why verification stopped at a line.
///
/// Each variant maps to a distinct operator action (crash recovery vs.
/// tampering investigation), so they are kept apart rather than folded into a
/// string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BreakReason {
    /// The file could not be read at all past this point.
    Unreadable {
        /// The I/O error text.
        detail: String,
    },
    /// The last line has no trailing newline: the write was interrupted.
    /// Reported even if the fragment happens to be valid JSON, because
    /// appending after it would glue two records together.
    TornLine {
        /// What is wrong with the fragment.
        detail: String,
    },
    /// A complete line that is not a JSON object.
    Unparsable {
        /// The parser's complaint.
        detail: String,
    },
    /// A required member is absent.
    MissingField {
        /// The absent member name.
        field: &'static str,
    },
    /// A required member has the wrong JSON type.
    InvalidField {
        /// The member name.
        field: &'static str,
        /// What it should have been.
        expected: &'static str,
    },
    /// `seq` is not the previous seq + 1 (or 0 for the first line).
    SeqOutOfOrder {
        /// The seq this line should have.
        expected: u64,
        /// The seq it claims.
        found: u64,
    },
    /// `prev` is not the previous record's `hash`.
    PrevMismatch {
        /// The previous record's hash (or genesis).
        expected: String,
        /// What the line claims.
        found: String,
    },
    /// The stored `hash` does not match the recomputed one.
    HashMismatch {
        /// The recomputed hash.
        expected: String,
        /// The stored hash.
        found: String,
    },
}

impl BreakReason {
    /// Short, stable label (`hash mismatch`, `torn line` …).
    ///
    /// The independent Python verifier prints the same labels, so tests and
    /// scripts can compare the two tools' findings.
    pub fn label(&self) -> &'static str {
        match self {
            BreakReason::Unreadable { .. } => "unreadable",
            BreakReason::TornLine { .. } => "torn line",
            BreakReason::Unparsable { .. } => "unparsable line",
            BreakReason::MissingField { .. } => "missing field",
            BreakReason::InvalidField { .. } => "invalid field",
            BreakReason::SeqOutOfOrder { .. } => "seq out of order",
            BreakReason::PrevMismatch { .. } => "prev mismatch",
            BreakReason::HashMismatch { .. } => "hash mismatch",
        }
    }

    fn explanation(&self) -> String {
        match self {
            BreakReason::Unreadable { detail } => format!("could not read the file ({detail})"),
            BreakReason::TornLine { detail } => format!(
                "the last line is incomplete ({detail}); a write was probably interrupted by a crash"
            ),
            BreakReason::Unparsable { detail } => {
                format!("the line is not a JSON object ({detail}); the file was edited or corrupted")
            }
            BreakReason::MissingField { field } => {
                format!("member `{field}` is missing; the record was edited or not written by ccp")
            }
            BreakReason::InvalidField { field, expected } => format!(
                "member `{field}` is not {expected}; the record was edited or not written by ccp"
            ),
            BreakReason::SeqOutOfOrder { expected, found } => format!(
                "expected seq {expected}, found {found}; a record was deleted, duplicated or reordered"
            ),
            BreakReason::PrevMismatch { expected, found } => {
                let (found, expected) = distinct(found, expected);
                format!(
                    "prev {found} does not link to the previous hash {expected}; a record before it was removed, replaced or reordered"
                )
            }
            BreakReason::HashMismatch { expected, found } => {
                let (found, expected) = distinct(found, expected);
                format!("the record was altered after it was written (stored {found}, recomputed {expected})")
            }
        }
    }
}

/// Two hashes shortened as far as they still read differently: 12 characters, or 4 past the
/// first difference when they share a longer prefix (a crafted near-collision reads as two).
fn distinct<'a>(a: &'a str, b: &'a str) -> (&'a str, &'a str) {
    let common = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
    let n = (common + 4).max(12);
    (a.get(..n).unwrap_or(a), b.get(..n).unwrap_or(b))
}

impl fmt::Display for BreakReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} — {}", self.label(), self.explanation())
    }
}

/// Outcome of verifying a whole log.
///
/// Verification never fails with an error for a bad log: a broken chain is a
/// finding to report, not an exception, and the report says where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyReport {
    /// Every line verified.
    Intact {
        /// Number of records.
        records: u64,
        /// Hash of the last record ([`GENESIS_PREV`] for an empty log), i.e.
        /// the `prev` the next append must use.
        last_hash: String,
    },
    /// Verification stopped at the first bad line.
    Broken {
        /// The seq the bad line claims if readable, else the expected seq.
        seq: u64,
        /// 1-based line number in the file.
        line: u64,
        /// What is wrong.
        reason: BreakReason,
        /// Records before the bad line that verified.
        intact_before: u64,
    },
}

impl VerifyReport {
    /// True when the whole log verified.
    pub fn is_intact(&self) -> bool {
        matches!(self, VerifyReport::Intact { .. })
    }

    /// One-line human summary, as printed by `ccp audit verify`.
    ///
    /// Written for an on-call engineer: it names the seq and line and says
    /// what the finding most likely means.
    pub fn message(&self) -> String {
        match self {
            VerifyReport::Intact { records, last_hash } => {
                format!("intact: {records} records, last hash {last_hash}")
            }
            VerifyReport::Broken { seq, line, reason, intact_before } => format!(
                "broken at seq {seq} (line {line}): {reason}; the {intact_before} records before it verified"
            ),
        }
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

/// Where the chain stands after the lines verified so far.
pub(super) struct ChainState {
    /// The seq the next line must carry.
    pub(super) next_seq: u64,
    /// The `prev` the next line must carry.
    pub(super) last_hash: String,
}

/// A bad line: the seq to report (claimed or expected) and why.
pub(super) type LineFault = (u64, BreakReason);

/// Verify a log read line by line.
///
/// Reads raw bytes (not `lines()`) so that a final line without `\n` — the
/// signature of a torn write — is detected instead of silently accepted.
///
/// Each complete line is first tried on the allocation-free fast path
/// (`fast.rs`), which only ever confirms a line that verifies; every
/// other line goes through `check_line`, so findings and messages are
/// exactly those of the reference path.
pub fn verify_lines(mut reader: impl BufRead) -> VerifyReport {
    let mut state = ChainState {
        next_seq: 0,
        last_hash: GENESIS_PREV.to_string(),
    };
    let mut fast = FastChecker::default();
    let mut buf = Vec::new();
    let mut line_no: u64 = 0;
    loop {
        buf.clear();
        let n = match reader.read_until(b'\n', &mut buf) {
            Ok(n) => n,
            Err(e) => {
                let reason = BreakReason::Unreadable {
                    detail: e.to_string(),
                };
                return broken(&state, line_no + 1, state.next_seq, reason);
            }
        };
        if n == 0 {
            break;
        }
        line_no += 1;
        let terminated = buf.last() == Some(&b'\n');
        let body = if terminated {
            &buf[..buf.len() - 1]
        } else {
            &buf[..]
        };
        if terminated && fast.check(body, &mut state) {
            continue;
        }
        match check_line(body, terminated, &state) {
            Ok(hash) => {
                state.next_seq += 1;
                state.last_hash = hash;
            }
            Err((seq, reason)) => return broken(&state, line_no, seq, reason),
        }
    }
    VerifyReport::Intact {
        records: state.next_seq,
        last_hash: state.last_hash,
    }
}

/// The fast path of [`check_line`] (see [`super::fast`]) with its buffers.
#[derive(Default)]
struct FastChecker {
    canon: Canonicalizer,
    out: Vec<u8>,
}

impl FastChecker {
    /// If the complete line `body` verifies against `state` by the fast path,
    /// advance `state` past it and return true. False says nothing about the
    /// line: the caller must then judge it with [`check_line`].
    fn check(&mut self, body: &[u8], state: &mut ChainState) -> bool {
        self.out.clear();
        let Some(rec) = self.canon.record(body, &mut self.out) else {
            return false;
        };
        chain_fast(body, &rec, &self.out, state)
    }
}

/// Chain one fast-parsed line (`canonical` is its JCS form without `hash`)
/// onto `state`; false, leaving `state` alone, if seq, prev or hash disagree.
fn chain_fast(body: &[u8], rec: &FastRecord, canonical: &[u8], state: &mut ChainState) -> bool {
    let (Some(prev), Some(stored)) = (body.get(rec.prev.clone()), body.get(rec.hash.clone()))
    else {
        return false;
    };
    if rec.seq != state.next_seq || prev != state.last_hash.as_bytes() {
        return false;
    }
    let hex = hash_hex(prev, canonical);
    if hex[..] != *stored {
        return false;
    }
    state.next_seq += 1;
    state.last_hash.clear();
    state.last_hash.extend(hex.iter().map(|&b| char::from(b)));
    true
}

fn broken(state: &ChainState, line: u64, seq: u64, reason: BreakReason) -> VerifyReport {
    VerifyReport::Broken {
        seq,
        line,
        reason,
        intact_before: state.next_seq,
    }
}

/// Verify a log file; see [`verify_lines`].
///
/// Only failing to open the file is an error; everything found inside it is
/// reported in the [`VerifyReport`].
pub fn verify_file(path: &Path) -> Result<VerifyReport, AuditError> {
    let file = File::open(path).map_err(|e| AuditError::io(path, "open", e))?;
    Ok(verify_lines(BufReader::new(file)))
}

/// Check one line against the chain; on success return its hash.
fn check_line(body: &[u8], terminated: bool, state: &ChainState) -> Result<String, LineFault> {
    let parsed = parse_object(body);
    if !terminated {
        let detail = match &parsed {
            Ok(_) => "no trailing newline".to_string(),
            Err(e) => format!("no trailing newline, {e}"),
        };
        let seq = parsed
            .as_ref()
            .ok()
            .and_then(claimed_seq)
            .unwrap_or(state.next_seq);
        return Err((seq, BreakReason::TornLine { detail }));
    }
    let obj = parsed.map_err(|detail| (state.next_seq, BreakReason::Unparsable { detail }))?;
    check_record(&obj, state)
}

/// Verify a parsed record object against the chain state; on success return
/// its hash. Shared by verification and by the append path's self-check.
pub(super) fn check_record(
    obj: &Map<String, Value>,
    state: &ChainState,
) -> Result<String, LineFault> {
    let seq = read_seq(obj).map_err(|r| (state.next_seq, r))?;
    check_fields(obj).map_err(|r| (seq, r))?;
    if seq != state.next_seq {
        return Err((
            seq,
            BreakReason::SeqOutOfOrder {
                expected: state.next_seq,
                found: seq,
            },
        ));
    }
    let prev = str_field(obj, "prev");
    if prev != state.last_hash {
        let reason = BreakReason::PrevMismatch {
            expected: state.last_hash.clone(),
            found: prev.to_string(),
        };
        return Err((seq, reason));
    }
    let stored = str_field(obj, "hash");
    let object = Value::Object(obj.clone());
    let recomputed = compute_hash(&object, prev).map_err(|e| {
        (
            seq,
            BreakReason::Unparsable {
                detail: e.to_string(),
            },
        )
    })?;
    if recomputed != stored {
        let reason = BreakReason::HashMismatch {
            expected: recomputed,
            found: stored.to_string(),
        };
        return Err((seq, reason));
    }
    Ok(recomputed)
}

/// Parse a line body with the exact-float parser; records must be objects.
pub(super) fn parse_object(body: &[u8]) -> Result<Map<String, Value>, String> {
    match parse_json(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err("valid JSON but not an object".to_string()),
        Err(e) => Err(format!("invalid JSON: {e}")),
    }
}

fn claimed_seq(obj: &Map<String, Value>) -> Option<u64> {
    obj.get("seq").and_then(Value::as_u64)
}

fn read_seq(obj: &Map<String, Value>) -> Result<u64, BreakReason> {
    match obj.get("seq") {
        None => Err(BreakReason::MissingField { field: "seq" }),
        Some(v) => v.as_u64().ok_or(BreakReason::InvalidField {
            field: "seq",
            expected: "a non-negative integer",
        }),
    }
}

/// Presence and type of every member other than `seq`, in contract order.
fn check_fields(obj: &Map<String, Value>) -> Result<(), BreakReason> {
    for field in ["ts", "actor", "type", "data", "prev", "hash"] {
        let value = obj.get(field).ok_or(BreakReason::MissingField { field })?;
        if field != "data" && !value.is_string() {
            return Err(BreakReason::InvalidField {
                field,
                expected: "a string",
            });
        }
    }
    Ok(())
}

/// A string member already validated by [`check_fields`].
fn str_field<'a>(obj: &'a Map<String, Value>, field: &str) -> &'a str {
    obj.get(field).and_then(Value::as_str).unwrap_or_default()
}

#[cfg(test)]
mod distinct_tests {
    use super::distinct;

    #[test]
    fn hashes_are_shown_long_enough_to_differ() {
        let a = "99d9c53b3a2d0000aaaa";
        let b = "99d9c53b3a2d0000bbbb";
        let (x, y) = distinct(a, b);
        assert_ne!(x, y);
        assert_eq!((x, y), ("99d9c53b3a2d0000aaaa", "99d9c53b3a2d0000bbbb"));
        assert_eq!(
            distinct("abcdef0123456789", "0bcdef0123456789").0,
            "abcdef012345"
        );
    }
}

#[cfg(test)]
mod fast_path_equivalence_tests {
    use super::*;
    use crate::FileAuditLog;
    use serde_json::json;

    /// Verification as it was before the fast path: every line through
    /// [`check_line`]. The fast path must never change a report.
    fn reference_verify(text: &[u8]) -> VerifyReport {
        let mut state = ChainState {
            next_seq: 0,
            last_hash: GENESIS_PREV.to_string(),
        };
        let mut line_no = 0;
        for chunk in text.split_inclusive(|&b| b == b'\n') {
            line_no += 1;
            let terminated = chunk.last() == Some(&b'\n');
            let body = chunk.strip_suffix(b"\n").unwrap_or(chunk);
            match check_line(body, terminated, &state) {
                Ok(hash) => {
                    state.next_seq += 1;
                    state.last_hash = hash;
                }
                Err((seq, reason)) => return broken(&state, line_no, seq, reason),
            }
        }
        VerifyReport::Intact {
            records: state.next_seq,
            last_hash: state.last_hash,
        }
    }

    fn sample_log() -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let mut log = FileAuditLog::open(&path, false).unwrap();
        for i in 0..6u64 {
            let data = json!({
                "incident": format!("INC-{i}"),
                "value": 0.1 + 0.2, "huge": 1e21, "neg_zero": -0.0, "whole": 2.0,
                "n": i, "neg": -(i as i64), "max": u64::MAX,
                "text": "héllo — 世界 😀 \u{1} \"q\" \\ / \u{e000}",
                "nested": {"z": [1, 2.5, {"b": null, "a": true}], "ä": {}, "\u{10000}": "astral"},
            });
            log.append(&format!("2024-05-01T03:0{i}:00Z"), "ccp", "kind", data)
                .unwrap();
        }
        std::fs::read(&path).unwrap()
    }

    /// Random edits of a valid log (byte changes, deletions, insertions, cut
    /// tails, duplicated or swapped lines) get exactly the reference report.
    #[test]
    fn fast_path_never_changes_a_report() {
        let log = sample_log();
        assert_eq!(verify_lines(&log[..]), reference_verify(&log));
        assert!(verify_lines(&log[..]).is_intact());
        const BYTES: &[u8] = b"01ae-+.E\"\\/:,{}[] \n\tnu";
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move |n: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n as u64) as usize
        };
        let mut broken_kinds = std::collections::BTreeSet::new();
        for _ in 0..4000 {
            let mut text = log.clone();
            for _ in 0..1 + next(2) {
                if text.is_empty() {
                    break;
                }
                let at = next(text.len());
                match next(7) {
                    0 | 1 => text[at] = BYTES[next(BYTES.len())],
                    6 => {
                        // A field changed in type or spelling, in one line.
                        const EDITS: &[(&str, &str)] = &[
                            ("\"seq\":", "\"seq\":1.5,\"s\":"),
                            ("\"seq\":", "\"seq\":-"),
                            ("\"ts\":\"", "\"ts\":0,\"t\":\""),
                            ("\"prev\":\"", "\"prev\":null,\"p\":\""),
                            ("\"hash\":\"", "\"hash\":[],\"h\":\""),
                            ("\"prev\":\"", "\"prev\":\"\\u0030"),
                            ("\"data\":", "\"data\":1,\"d\":"),
                            ("\"actor\"", "\"act\\u006fr\""),
                        ];
                        let (from, to) = EDITS[next(EDITS.len())];
                        let mut lines: Vec<Vec<u8>> = text
                            .split_inclusive(|&b| b == b'\n')
                            .map(<[u8]>::to_vec)
                            .collect();
                        let i = next(lines.len());
                        let edited = String::from_utf8_lossy(&lines[i]).replacen(from, to, 1);
                        lines[i] = edited.into_bytes();
                        text = lines.concat();
                    }
                    2 => {
                        text.remove(at);
                    }
                    3 => text.insert(at, BYTES[next(BYTES.len())]),
                    4 => text.truncate(at),
                    _ => {
                        let lines: Vec<&[u8]> = text.split_inclusive(|&b| b == b'\n').collect();
                        let (a, b) = (next(lines.len()), next(lines.len()));
                        let mut l = lines.clone();
                        l.swap(a, b);
                        l.insert(a, lines[b]);
                        text = l.concat();
                    }
                }
            }
            let (got, want) = (verify_lines(&text[..]), reference_verify(&text));
            assert_eq!(got, want, "{}", String::from_utf8_lossy(&text));
            if let VerifyReport::Broken { reason, .. } = &want {
                broken_kinds.insert(reason.label());
            }
        }
        // The edits reach every kind of finding a line can have.
        for label in [
            "torn line",
            "unparsable line",
            "missing field",
            "invalid field",
            "seq out of order",
            "prev mismatch",
            "hash mismatch",
        ] {
            assert!(
                broken_kinds.contains(label),
                "{label} never produced: {broken_kinds:?}"
            );
        }
    }
}
