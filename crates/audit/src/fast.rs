//! Fast path of verification: the JCS bytes of a record line, without a tree.
//!
//! The reference path ([`super::parse`] into a `serde_json::Value`, then
//! [`super::jcs`]) allocates a `String` per string and an `IndexMap` per
//! object and then clones the whole record to drop `hash`; on a large log that
//! allocation, not SHA-256, is nearly all of `ccp audit verify`'s time. This
//! module reads a line once, borrowing from it, and writes the canonical form
//! straight into a reused buffer: strings without escapes are copied as they
//! are (their JCS form is their source text), numbers are rewritten only when
//! their spelling is not already canonical, and only object members are
//! reordered.
//!
//! It is a *filter*, never a judge: whenever anything is unusual or wrong
//! (bad JSON, a duplicate member, a field of the wrong type, escapes in
//! `prev`/`hash`, a limit reached, a seq/prev/hash that does not chain) it
//! answers `None` and the caller runs the reference path on the same line,
//! which produces the verdict and message. So a fast answer can only ever be
//! "this line verifies, with this hash", and the unit tests check that it
//! agrees with the reference path byte for byte on the canonical form.

use super::parse::MAX_DEPTH;
use ryu_js::Buffer as RyuBuffer;
use std::cmp::Ordering;
use std::ops::Range;

/// The members of a record the chain needs, located in the line's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FastRecord {
    /// `seq`, a plain non-negative integer.
    pub(super) seq: u64,
    /// Byte range of `prev`'s text (between the quotes, no escapes) in the line.
    pub(super) prev: Range<usize>,
    /// Byte range of `hash`'s text (between the quotes, no escapes) in the line.
    pub(super) hash: Range<usize>,
}

/// What a parsed value was, as far as the record's field checks care.
#[derive(Clone, Copy)]
enum Kind {
    /// A string: byte range of its source text between the quotes, and
    /// whether that text contained escapes (then it is not the decoded value).
    Str {
        start: usize,
        end: usize,
        escaped: bool,
    },
    /// A non-negative integer written plainly (what `seq` must be).
    Uint(u64),
    /// Anything else.
    Other,
}

/// One member of the object being read: where its decoded name sits in
/// `keys` and where its `"name":value` canonical text sits in the output.
struct Member {
    key: Range<usize>,
    span: Range<usize>,
}

/// The record fields the fast path tracks: `seq, ts, actor, type, data, prev, hash`.
const FIELDS: [&str; 7] = ["seq", "ts", "actor", "type", "data", "prev", "hash"];
const SEQ: usize = 0;
const DATA: usize = 4;
const PREV: usize = 5;
const HASH: usize = 6;

/// Reusable state of the fast canonicalizer; keep one per verification so the
/// buffers are allocated once, not per line.
#[derive(Default)]
pub(super) struct Canonicalizer {
    /// Decoded member names of the objects currently open.
    keys: String,
    /// Members of the objects currently open (each object owns a tail).
    members: Vec<Member>,
    /// Where a reordered object is assembled before it replaces its source.
    scratch: Vec<u8>,
    /// A string being unescaped.
    decoded: String,
    /// Member order while sorting.
    order: Vec<usize>,
}

impl Canonicalizer {
    /// Append to `out` the JCS form of the record on `line` without its `hash`
    /// member (exactly what the reference path hashes after `prev`), and
    /// locate `seq`, `prev` and `hash`.
    ///
    /// `None` means "not handled here": the line may be perfectly fine but
    /// unusual, or broken; `out` is then restored to its length on entry.
    pub(super) fn record(&mut self, line: &[u8], out: &mut Vec<u8>) -> Option<FastRecord> {
        let start = out.len();
        let found = self.record_inner(line, out);
        self.keys.clear();
        self.members.clear();
        if found.is_none() {
            out.truncate(start);
        }
        found
    }

    fn record_inner(&mut self, line: &[u8], out: &mut Vec<u8>) -> Option<FastRecord> {
        let text = std::str::from_utf8(line).ok()?;
        let mut r = Reader {
            s: line,
            text,
            pos: 0,
            c: self,
            out,
            fields: [Kind::Other; 7],
            seen: 0,
        };
        r.skip_ws();
        if r.peek() != Some(b'{') {
            return None;
        }
        r.object(0, true)?;
        r.skip_ws();
        if r.pos != line.len() || r.seen != (1 << FIELDS.len()) - 1 {
            return None;
        }
        let seq = match r.fields[SEQ] {
            Kind::Uint(u) => u,
            _ => return None,
        };
        let plain = |k: Kind| match k {
            Kind::Str {
                start,
                end,
                escaped: false,
            } => Some(start..end),
            _ => None,
        };
        for (i, kind) in r.fields.iter().enumerate() {
            if i != SEQ && i != DATA && !matches!(kind, Kind::Str { .. }) {
                return None;
            }
        }
        Some(FastRecord {
            seq,
            prev: plain(r.fields[PREV])?,
            hash: plain(r.fields[HASH])?,
        })
    }
}

/// A cursor over one line, writing canonical bytes to `out` as it reads.
struct Reader<'a, 'c> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
    c: &'c mut Canonicalizer,
    out: &'c mut Vec<u8>,
    /// Kinds of the record's own fields (top level only).
    fields: [Kind; 7],
    /// Bit i set once `FIELDS[i]` was seen at the top level.
    seen: u8,
}

impl Reader<'_, '_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek() == Some(byte)).then(|| self.pos += 1)
    }

    /// `open` is the number of containers already open around this value.
    fn value(&mut self, open: usize) -> Option<Kind> {
        match self.peek()? {
            b'{' => self.object(open, false).map(|()| Kind::Other),
            b'[' => self.array(open).map(|()| Kind::Other),
            b'"' => self.string(false),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<Kind> {
        if !self.s[self.pos..].starts_with(word) {
            return None;
        }
        self.pos += word.len();
        self.out.extend_from_slice(word);
        Some(Kind::Other)
    }

    fn array(&mut self, open: usize) -> Option<()> {
        if open >= MAX_DEPTH {
            return None;
        }
        self.pos += 1;
        self.out.push(b'[');
        self.skip_ws();
        if self.eat(b']').is_some() {
            self.out.push(b']');
            return Some(());
        }
        loop {
            self.skip_ws();
            self.value(open + 1)?;
            self.skip_ws();
            if self.eat(b']').is_some() {
                self.out.push(b']');
                return Some(());
            }
            self.eat(b',')?;
            self.out.push(b',');
        }
    }

    /// An object; at the top level (`top`) the record's fields are noted and
    /// `hash` is left out of the output, as the hash never covers itself.
    fn object(&mut self, open: usize, top: bool) -> Option<()> {
        if open >= MAX_DEPTH {
            return None;
        }
        self.pos += 1;
        let obj_start = self.out.len();
        let keys_base = self.c.keys.len();
        let first = self.c.members.len();
        self.out.push(b'{');
        self.skip_ws();
        let mut sorted = true;
        if self.eat(b'}').is_none() {
            loop {
                self.skip_ws();
                if self.peek() != Some(b'"') {
                    return None;
                }
                let before = self.out.len();
                if self.c.members.len() > first {
                    self.out.push(b',');
                }
                let span_start = self.out.len();
                let key_start = self.c.keys.len();
                self.string(true)?;
                let key = key_start..self.c.keys.len();
                self.skip_ws();
                self.eat(b':')?;
                self.out.push(b':');
                self.skip_ws();
                let kind = self.value(open + 1)?;
                let field = if top {
                    let name = &self.c.keys[key.clone()];
                    FIELDS.iter().position(|f| *f == name)
                } else {
                    None
                };
                if let Some(i) = field {
                    if self.seen & (1 << i) != 0 {
                        return None; // duplicate member: the reference path says so
                    }
                    self.seen |= 1 << i;
                    self.fields[i] = kind;
                }
                if field == Some(HASH) {
                    self.out.truncate(before);
                    self.c.keys.truncate(key_start);
                } else {
                    if let Some(last) = self.c.members[first..].last() {
                        let prev_key = &self.c.keys[last.key.clone()];
                        sorted &= utf16_cmp(prev_key, &self.c.keys[key.clone()]).is_lt();
                    }
                    self.c.members.push(Member {
                        key,
                        span: span_start..self.out.len(),
                    });
                }
                self.skip_ws();
                if self.eat(b'}').is_some() {
                    break;
                }
                self.eat(b',')?;
            }
        }
        if !sorted {
            self.reorder(obj_start, first)?;
        }
        self.out.push(b'}');
        self.c.members.truncate(first);
        self.c.keys.truncate(keys_base);
        Some(())
    }

    /// Rewrite the members from index `first` (written after `{` at
    /// `obj_start`) in JCS order: by member name as UTF-16 code units.
    /// `None` on a duplicate name.
    fn reorder(&mut self, obj_start: usize, first: usize) -> Option<()> {
        let c = &mut *self.c;
        let members = &c.members[first..];
        c.order.clear();
        c.order.extend(0..members.len());
        let keys = &c.keys;
        c.order.sort_unstable_by(|&a, &b| {
            utf16_cmp(&keys[members[a].key.clone()], &keys[members[b].key.clone()])
        });
        if c.order
            .windows(2)
            .any(|w| keys[members[w[0]].key.clone()] == keys[members[w[1]].key.clone()])
        {
            return None;
        }
        c.scratch.clear();
        for (n, &i) in c.order.iter().enumerate() {
            if n > 0 {
                c.scratch.push(b',');
            }
            c.scratch
                .extend_from_slice(&self.out[members[i].span.clone()]);
        }
        self.out.truncate(obj_start + 1);
        self.out.extend_from_slice(&c.scratch);
        Some(())
    }

    /// A string at `"`. Its JCS form goes to the output; a member name
    /// (`key`) is also decoded into `keys`.
    fn string(&mut self, key: bool) -> Option<Kind> {
        self.pos += 1;
        let start = self.pos;
        self.pos += plain_run(&self.s[self.pos..]);
        match self.peek()? {
            b'"' => {
                // No escapes, no control characters: the source text is the JCS text.
                let end = self.pos;
                self.pos += 1;
                self.out.extend_from_slice(&self.s[start - 1..self.pos]);
                if key {
                    self.c.keys.push_str(&self.text[start..end]);
                }
                Some(Kind::Str {
                    start,
                    end,
                    escaped: false,
                })
            }
            b'\\' => self.escaped_string(start, key),
            _ => None,
        }
    }

    /// The rest of a string that has escapes: decode it, then write it with
    /// JCS's escaping (which differs from the source's).
    fn escaped_string(&mut self, start: usize, key: bool) -> Option<Kind> {
        let mut decoded = std::mem::take(&mut self.c.decoded);
        decoded.clear();
        let end = self.decode_rest(start, &mut decoded);
        if let Some(end) = end {
            write_jcs_string(self.out, &decoded);
            if key {
                self.c.keys.push_str(&decoded);
            }
            self.c.decoded = decoded;
            return Some(Kind::Str {
                start,
                end,
                escaped: true,
            });
        }
        self.c.decoded = decoded;
        None
    }

    /// Decode from `start` up to the closing quote; returns the quote's position.
    fn decode_rest(&mut self, start: usize, decoded: &mut String) -> Option<usize> {
        let mut run = start;
        loop {
            self.pos += plain_run(&self.s[self.pos..]);
            decoded.push_str(&self.text[run..self.pos]);
            match self.peek()? {
                b'"' => {
                    let end = self.pos;
                    self.pos += 1;
                    return Some(end);
                }
                b'\\' => {
                    self.pos += 1;
                    decoded.push(self.escape()?);
                    run = self.pos;
                }
                _ => return None,
            }
        }
    }

    fn escape(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        Some(match c {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let first = self.hex4()?;
                let code = match first {
                    0xD800..=0xDBFF => {
                        if !self.s[self.pos..].starts_with(b"\\u") {
                            return None;
                        }
                        self.pos += 2;
                        let second = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&second) {
                            return None;
                        }
                        0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                    }
                    0xDC00..=0xDFFF => return None,
                    c => c,
                };
                char::from_u32(code)?
            }
            _ => return None,
        })
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.s.get(self.pos..self.pos + 4)?;
        let mut v = 0;
        for d in digits {
            v = v * 16 + char::from(*d).to_digit(16)?;
        }
        self.pos += 4;
        Some(v)
    }

    /// A number, written as the reference path writes it: integers that fit
    /// `u64`/`i64` as integers, everything else through ECMAScript's
    /// shortest round-trip form of the correctly rounded double.
    fn number(&mut self) -> Option<Kind> {
        let start = self.pos;
        let negative = self.eat(b'-').is_some();
        match self.peek()? {
            b'0' => self.pos += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        let mut integral = true;
        if self.eat(b'.').is_some() {
            integral = false;
            self.required_digits()?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            integral = false;
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            self.required_digits()?;
        }
        let text = &self.text[start..self.pos];
        if integral {
            // The grammar rules out `+` and leading zeros, so an integer that
            // parses is already spelled as Rust prints it, except `-0` → `0`.
            if !negative {
                if let Ok(u) = text.parse::<u64>() {
                    self.out.extend_from_slice(text.as_bytes());
                    return Some(Kind::Uint(u));
                }
            } else if text.parse::<i64>().is_ok() {
                let canonical = if text == "-0" { "0" } else { text };
                self.out.extend_from_slice(canonical.as_bytes());
                return Some(Kind::Other);
            }
        }
        let f: f64 = text.parse().ok()?;
        if !f.is_finite() {
            return None;
        }
        self.out
            .extend_from_slice(RyuBuffer::new().format_finite(f).as_bytes());
        Some(Kind::Other)
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
    }

    fn required_digits(&mut self) -> Option<()> {
        let start = self.pos;
        self.digits();
        (self.pos > start).then_some(())
    }
}

/// JCS member order: compare names as sequences of UTF-16 code units.
///
/// UTF-8 byte order is code point order, and UTF-16 order differs from it
/// only where a character U+E000..U+FFFF (UTF-8 lead byte `EE`/`EF`) meets
/// one above U+FFFF (lead `F0`..`F4`, a surrogate pair in UTF-16, which sorts
/// first). So one byte comparison, corrected for that case at the first
/// difference, gives the UTF-16 order without transcoding.
fn utf16_cmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let Some((&x, &y)) = a.iter().zip(b).find(|(x, y)| x != y) else {
        return a.len().cmp(&b.len());
    };
    let astral = |c: u8| c >= 0xF0;
    let high_bmp = |c: u8| c == 0xEE || c == 0xEF;
    if astral(x) && high_bmp(y) {
        Ordering::Less
    } else if high_bmp(x) && astral(y) {
        Ordering::Greater
    } else {
        x.cmp(&y)
    }
}

/// Length of the leading run of `s` that a string copies as is: up to the
/// first `"`, `\` or control character (or the end).
///
/// Eight bytes at a time with the classic "has a zero/less-than byte" bit
/// tricks, which never miss a hit; the byte loop then finds it exactly.
fn plain_run(s: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut i = 0;
    for chunk in s.chunks_exact(8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        let quote = x ^ (ONES * u64::from(b'"'));
        let backslash = x ^ (ONES * u64::from(b'\\'));
        let hit = (quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (x.wrapping_sub(ONES * 0x20) & !x);
        if hit & HIGH != 0 {
            break;
        }
        i += 8;
    }
    while let Some(&b) = s.get(i) {
        if b == b'"' || b == b'\\' || b < 0x20 {
            break;
        }
        i += 1;
    }
    i
}

/// A decoded string with exactly [`super::jcs`]'s escaping: `"`, `\` and
/// control characters only, short forms where JSON has them, else `\u00xx`
/// in lowercase hex; everything else (including non-ASCII) literal.
fn write_jcs_string(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    for &b in s.as_bytes() {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x00..=0x1f => out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0x0f)],
            ]),
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::{verify_lines, VerifyReport, GENESIS_PREV};
    use crate::{canonicalize, compute_hash};
    use serde_json::Value;

    /// The reference path's hashed bytes for a line: parse, drop `hash`, JCS.
    fn reference(line: &str) -> Option<String> {
        let Ok(Value::Object(mut m)) = crate::parse::parse_json(line.as_bytes()) else {
            return None;
        };
        m.remove("hash");
        Some(canonicalize(&Value::Object(m)).unwrap())
    }

    fn fast(line: &str) -> Option<(String, FastRecord)> {
        let mut out = b"prefix".to_vec();
        let rec = Canonicalizer::default().record(line.as_bytes(), &mut out);
        let text = String::from_utf8(out).unwrap();
        let canon = text.strip_prefix("prefix").unwrap().to_string();
        match rec {
            Some(r) => Some((canon, r)),
            None => {
                assert!(canon.is_empty(), "output not restored: {canon}");
                None
            }
        }
    }

    /// A record line around `data`, with the remaining fields in writer order.
    fn line(data: &str) -> String {
        format!(
            r#"{{"seq":3,"ts":"t","actor":"a","type":"k","data":{data},"prev":"{GENESIS_PREV}","hash":"h"}}"#
        )
    }

    fn assert_same(line: &str) {
        let want = reference(line).expect("reference path accepts the line");
        let (got, rec) = fast(line).unwrap_or_else(|| panic!("fast path refused {line}"));
        assert_eq!(got, want, "{line}");
        assert_eq!(&line[rec.prev.clone()], GENESIS_PREV);
        assert_eq!(rec.seq, 3);
    }

    #[test]
    fn same_canonical_bytes_as_reference_on_varied_records() {
        let datas = [
            "{}",
            "[]",
            "null",
            r#""plain""#,
            r#"{"b":1,"a":2,"c":{"z":[],"y":{}}}"#,
            r#"[1e21, 1E21, 1e+21, 0.1, -0, -0.0, 0.0, 2.0, 1.5e-7, 1e-6, 100, -100, 3.2e-05]"#,
            r#"[18446744073709551615, 18446744073709551616, -9223372036854775808, -9223372036854775809]"#,
            r#"[333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001, 5e-324, 1.7976931348623157e308]"#,
            r#"[0.30000000000000004, 9007199254740993, 123456789012345678901234567890]"#,
            r#""\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/""#,
            r#""\ud83d\ude00 \u00e9 \u0000 \u001f \u007f \b\f\n\r\t é 😀 世界""#,
            r#"{"\u20ac":1,"\r":2,"\ufb33":3,"1":4,"\ud83d\ude00":5,"\u0080":6,"\u00f6":7}"#,
            r#"{"€":1,"\r":2,"דּ":3,"😀":5,"\uE000":8,"\uFFFF":9}"#,
            r#"{"a\"b":1,"a":2,"a\\":3,"a/":4,"a\/b":5}"#,
            r#"[true,false,null,[[[{"deep":[{"x":{"b":1,"a":[{"d":2,"c":3}]}}]}]]]]"#,
            " \t{ \"b\" : [ 1 , { } ] ,\r\n \"a\" : \"x\" } ",
            r#"{"hash":"nested hash stays","seq":"and so does seq"}"#,
        ];
        for d in datas {
            assert_same(&line(d));
        }
        // Members in another order, extra members, whitespace around the record.
        assert_same(&format!(
            r#"  {{ "hash" : "h", "zz": [1.0], "prev" : "{GENESIS_PREV}", "data":1, "type":"k","actor":"\u0061","ts":"t","seq":3 }} "#
        ));
        // What the writer itself emits.
        let record = serde_json::json!({"seq":3,"ts":"2024-05-01T03:00:00Z","actor":"ccp","type":"x",
            "data":{"v":0.1,"z":1e21,"n":-0.0,"w":2.0,"u":"é\u{1}\"\\/","k":{"b":[1,2.5],"a":null}},
            "prev":GENESIS_PREV,"hash":"h"});
        assert_same(&serde_json::to_string(&record).unwrap());
    }

    #[test]
    fn same_canonical_bytes_on_generated_records() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut compared = 0;
        for _ in 0..3000 {
            let mut data = String::new();
            gen_value(&mut rng, &mut data, 0);
            let l = line(&data);
            match (reference(&l), fast(&l)) {
                (Some(want), Some((got, _))) => {
                    assert_eq!(got, want, "{l}");
                    compared += 1;
                }
                (Some(_), None) => panic!("fast path refused a valid line {l}"),
                (None, Some(_)) => panic!("fast path accepted an invalid line {l}"),
                (None, None) => {}
            }
        }
        assert!(
            compared > 2000,
            "only {compared} generated lines were valid"
        );
    }

    #[test]
    fn refuses_whatever_the_reference_path_refuses_or_judges() {
        let bad_datas = [
            r#"{"a":1,"a":2}"#,
            r#"{"b":1,"a":2,"b":3}"#,
            r#""\ud800""#,
            r#""\udc00x""#,
            r#""\ud800\u0041""#,
            "\"a\u{1}\"",
            r#""\x""#,
            "1e400",
            "-1e400",
            "01",
            "1.",
            "[1,]",
            "{\"a\":1,}",
            "NaN",
            "tru",
        ];
        for d in bad_datas {
            let l = line(d);
            assert!(reference(&l).is_none(), "{l}");
            assert!(fast(&l).is_none(), "{l}");
        }
        let too_deep = "[".repeat(128) + &"]".repeat(128);
        let l = line(&too_deep);
        assert!(reference(&l).is_none() && fast(&l).is_none());
        let deepest = "[".repeat(127) + &"]".repeat(127);
        assert_same(&line(&deepest));
        // Valid JSON, but not a record the fast path may pass.
        let odd = [
            line("1").replace(r#""seq":3"#, r#""seq":3.0"#),
            line("1").replace(r#""seq":3"#, r#""seq":-0"#),
            line("1").replace(r#""seq":3"#, r#""seq":"3""#),
            line("1").replace(r#""ts":"t""#, r#""ts":1"#),
            line("1").replace(r#""ts":"t","#, ""),
            line("1").replace(r#","hash":"h""#, ""),
            line("1").replace(r#""hash":"h""#, r#""hash":"h","hash":"h""#),
            line("1").replace(r#""prev":"0"#, r#""prev":"\u0030"#),
            line("1") + " x",
            "[1]".to_string(),
            "\u{feff}".to_string() + &line("1"),
        ];
        for l in odd {
            assert!(fast(&l).is_none(), "{l}");
        }
        assert!(Canonicalizer::default()
            .record(b"{\"seq\":\"\xff\"}", &mut Vec::new())
            .is_none());
    }

    /// A line the fast path hands back (escapes in `prev`, a `-0` seq) is
    /// still judged by the reference path: intact when it is, and a broken
    /// line gets the reference path's exact report.
    #[test]
    fn unusual_lines_fall_back_to_the_reference_path() {
        let mut text = String::new();
        let mut prev = GENESIS_PREV.to_string();
        for seq in 0..4u64 {
            let mut rec = serde_json::json!({"seq":seq,"ts":"t","actor":"a","type":"k","data":{"i":seq},"prev":prev});
            let hash = compute_hash(&rec, &prev).unwrap();
            rec["hash"] = Value::from(hash.clone());
            let mut l = serde_json::to_string(&rec).unwrap();
            if seq == 0 {
                // `-0` reads as the integer 0 on the reference path.
                l = l.replacen(r#""seq":0"#, r#""seq":-0"#, 1);
            }
            if seq == 1 {
                // The same prev, spelled with an escape.
                let first = prev.as_bytes()[0];
                l = l.replacen(
                    &format!(r#""prev":"{}"#, char::from(first)),
                    &format!(r#""prev":"\u00{first:02x}"#),
                    1,
                );
            }
            if seq == 2 {
                l = format!(" {l}\r");
            }
            assert_eq!(fast(&l).is_some(), seq >= 2, "{l}");
            text.push_str(&l);
            text.push('\n');
            prev = hash;
        }
        let report = verify_lines(text.as_bytes());
        assert_eq!(
            report,
            VerifyReport::Intact {
                records: 4,
                last_hash: prev.clone()
            }
        );
        // And a fault the fast path sees is reported by the reference path.
        let tampered = text.replacen(r#""i":3"#, r#""i":4"#, 1);
        let report = verify_lines(tampered.as_bytes());
        assert!(
            report
                .message()
                .starts_with("broken at seq 3 (line 4): hash mismatch"),
            "{report}"
        );
    }

    #[test]
    fn utf16_order_matches_transcoding() {
        let chars = [
            "",
            "a",
            "A",
            "\r",
            "1",
            "\u{7f}",
            "\u{80}",
            "é",
            "ö",
            "\u{7ff}",
            "\u{800}",
            "€",
            "\u{d7ff}",
            "\u{e000}",
            "דּ",
            "\u{ffff}",
            "\u{10000}",
            "😀",
            "\u{10ffff}",
        ];
        for a in chars {
            for b in chars {
                for (x, y) in [
                    (a.to_string(), b.to_string()),
                    (format!("k{a}z"), format!("k{b}")),
                    (format!("{a}{b}"), format!("{b}{a}")),
                ] {
                    assert_eq!(
                        utf16_cmp(&x, &y),
                        x.encode_utf16().cmp(y.encode_utf16()),
                        "{x:?} {y:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn plain_runs_stop_at_the_first_special_byte() {
        for len in 0..40 {
            for stop in [b'"', b'\\', 0x00, 0x1f, b'\n'] {
                for at in 0..=len {
                    let mut s: Vec<u8> = (0..len).map(|i| b"ab\x7f\xc3\xa9 /z"[i % 8]).collect();
                    if at < len {
                        s[at] = stop;
                    }
                    assert_eq!(plain_run(&s), at, "{s:?}");
                }
            }
        }
    }

    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    fn ws(rng: &mut Rng, out: &mut String) {
        if rng.below(4) == 0 {
            out.push_str([" ", "\t", "\r\n", "  "][rng.below(4) as usize]);
        }
    }

    fn gen_string(rng: &mut Rng, out: &mut String) {
        const PIECES: &[&str] = &[
            "a",
            "b",
            "z",
            "A",
            "_",
            "1",
            "é",
            "€",
            "😀",
            "דּ",
            "\u{e000}",
            "\u{ffff}",
            "\\n",
            "\\t",
            "\\\"",
            "\\\\",
            "\\/",
            "/",
            "\\u0000",
            "\\u001f",
            "\\u007f",
            "\\u00e9",
            "\\ud83d\\ude00",
            "\\uD834\\uDD1E",
            "\\u20AC",
            "\\b",
            "\\f",
            "\\r",
            "\u{7f}",
            "\u{80}",
        ];
        out.push('"');
        for _ in 0..rng.below(4) {
            out.push_str(PIECES[rng.below(PIECES.len() as u64) as usize]);
        }
        out.push('"');
    }

    fn gen_number(rng: &mut Rng, out: &mut String) {
        match rng.below(6) {
            0 => out.push_str(&(rng.next() >> rng.below(64)).to_string()),
            1 => out.push_str(&(-((rng.next() >> (1 + rng.below(63))) as i64)).to_string()),
            2 => {
                let f = f64::from_bits(rng.next());
                if f.is_finite() {
                    out.push_str(&serde_json::to_string(&f).unwrap());
                } else {
                    out.push_str("-0.0");
                }
            }
            3 => out.push_str(&format!(
                "{}e{}",
                rng.below(1000),
                rng.below(40) as i64 - 20
            )),
            4 => out.push_str(&format!(
                "-{}.{}E+{}",
                rng.below(10),
                rng.below(1000),
                rng.below(25)
            )),
            _ => out.push_str(
                ["0", "-0", "1e21", "1e20", "0.1", "1E400", "-0.0", "5e-324"]
                    [rng.below(8) as usize],
            ),
        }
    }

    fn gen_value(rng: &mut Rng, out: &mut String, depth: u32) {
        let pick = if depth > 4 {
            rng.below(4)
        } else {
            rng.below(7)
        };
        match pick {
            0 => gen_string(rng, out),
            1 => gen_number(rng, out),
            2 => out.push_str(["true", "false", "null"][rng.below(3) as usize]),
            3 => gen_number(rng, out),
            4 | 5 => {
                out.push('{');
                for i in 0..rng.below(5) {
                    if i > 0 {
                        out.push(',');
                    }
                    ws(rng, out);
                    gen_string(rng, out);
                    ws(rng, out);
                    out.push(':');
                    ws(rng, out);
                    gen_value(rng, out, depth + 1);
                    ws(rng, out);
                }
                out.push('}');
            }
            _ => {
                out.push('[');
                for i in 0..rng.below(5) {
                    if i > 0 {
                        out.push(',');
                    }
                    ws(rng, out);
                    gen_value(rng, out, depth + 1);
                    ws(rng, out);
                }
                out.push(']');
            }
        }
    }
}
