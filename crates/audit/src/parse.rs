//! Strict JSON parser used to read audit lines back.
//!
//! Why not `serde_json::from_slice`? Without its `float_roundtrip` feature,
//! serde_json parses floats "best effort": about one in eight ordinary
//! computed values (e.g. `0.30000000000000004`) comes back one ULP off, which
//! would change the canonical form and make honest records fail their hash
//! check (while Python, Go or JS verifiers, which parse exactly, accept them).
//! This parser uses Rust's correctly rounded `str::parse::<f64>` instead, and
//! is stricter than serde_json where strictness protects the chain:
//! duplicate member names (a decoy that first-wins readers would display) and
//! lone surrogates are rejected, as RFC 8785 (I-JSON) requires.

use serde_json::{Map, Number, Value};

/// Deepest container nesting accepted (the record object counts as 1).
///
/// Bounds recursion on hostile input; the Python verifier enforces the same
/// limit so both tools agree on what is parsable.
pub(super) const MAX_DEPTH: usize = 128;

/// Parse one complete JSON text (surrounding JSON whitespace allowed).
pub(super) fn parse_json(bytes: &[u8]) -> Result<Value, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("invalid UTF-8: {e}"))?;
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        pos: 0,
        depth: 0,
    };
    p.skip_ws();
    let value = p.value()?;
    p.skip_ws();
    if p.pos != p.s.len() {
        return Err(p.err("trailing characters after the JSON value"));
    }
    Ok(value)
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn err(&self, what: &str) -> String {
        format!("{what} at byte {}", self.pos)
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Result<(), String> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err(&format!("expected `{}`", char::from(byte))))
        }
    }

    fn value(&mut self) -> Result<Value, String> {
        match self.peek() {
            Some(b'{') => self.nested(Self::object),
            Some(b'[') => self.nested(Self::array),
            Some(b'"') => self.string().map(Value::String),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'n') => self.literal("null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.err("unexpected character")),
            None => Err(self.err("unexpected end of input")),
        }
    }

    fn nested(&mut self, f: fn(&mut Self) -> Result<Value, String>) -> Result<Value, String> {
        if self.depth >= MAX_DEPTH {
            return Err(self.err(&format!("nesting deeper than {MAX_DEPTH}")));
        }
        self.depth += 1;
        let v = f(self);
        self.depth -= 1;
        v
    }

    fn literal(&mut self, word: &str, v: Value) -> Result<Value, String> {
        if self.s[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(v)
        } else {
            Err(self.err("invalid literal"))
        }
    }

    fn object(&mut self) -> Result<Value, String> {
        self.expect(b'{')?;
        let mut map = Map::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Value::Object(map));
        }
        loop {
            self.skip_ws();
            let key = self.string()?;
            self.skip_ws();
            self.expect(b':')?;
            self.skip_ws();
            let value = self.value()?;
            if map.contains_key(&key) {
                return Err(self.err(&format!("duplicate member name {key:?}")));
            }
            map.insert(key, value);
            self.skip_ws();
            if self.peek() == Some(b'}') {
                self.pos += 1;
                return Ok(Value::Object(map));
            }
            self.expect(b',')?;
        }
    }

    fn array(&mut self) -> Result<Value, String> {
        self.expect(b'[')?;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Value::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value()?);
            self.skip_ws();
            if self.peek() == Some(b']') {
                self.pos += 1;
                return Ok(Value::Array(items));
            }
            self.expect(b',')?;
        }
    }

    fn string(&mut self) -> Result<String, String> {
        self.expect(b'"')?;
        let mut out = String::new();
        loop {
            let start = self.pos;
            while matches!(self.peek(), Some(b) if b != b'"' && b != b'\\' && b >= 0x20) {
                self.pos += 1;
            }
            // Safe slicing: we stopped on an ASCII byte or at the end.
            out.push_str(&self.text[start..self.pos]);
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    out.push(self.escape()?);
                }
                Some(_) => return Err(self.err("unescaped control character in string")),
                None => return Err(self.err("unterminated string")),
            }
        }
    }

    fn escape(&mut self) -> Result<char, String> {
        let c = self.peek().ok_or_else(|| self.err("unterminated escape"))?;
        self.pos += 1;
        Ok(match c {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => return self.unicode_escape(),
            _ => return Err(self.err("invalid escape")),
        })
    }

    fn unicode_escape(&mut self) -> Result<char, String> {
        let first = self.hex4()?;
        let code = match first {
            0xD800..=0xDBFF => {
                if !self.s[self.pos..].starts_with(b"\\u") {
                    return Err(self.err("lone surrogate in \\u escape"));
                }
                self.pos += 2;
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return Err(self.err("lone surrogate in \\u escape"));
                }
                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(self.err("lone surrogate in \\u escape")),
            c => c,
        };
        char::from_u32(code).ok_or_else(|| self.err("invalid \\u escape"))
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let digits = self
            .s
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| self.err("short \\u escape"))?;
        let mut v = 0;
        for d in digits {
            let nibble = char::from(*d)
                .to_digit(16)
                .ok_or_else(|| self.err("bad hex digit"))?;
            v = v * 16 + nibble;
        }
        self.pos += 4;
        Ok(v)
    }

    fn number(&mut self) -> Result<Value, String> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.err("invalid number")),
        }
        let mut integral = true;
        if self.peek() == Some(b'.') {
            integral = false;
            self.pos += 1;
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
        number_value(&self.text[start..self.pos], integral).map_err(|e| self.err(&e))
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
    }

    fn required_digits(&mut self) -> Result<(), String> {
        let start = self.pos;
        self.digits();
        if self.pos == start {
            return Err(self.err("invalid number"));
        }
        Ok(())
    }
}

/// Integers that fit `u64`/`i64` stay integers (as serde_json keeps them);
/// everything else becomes a correctly rounded, finite `f64`.
fn number_value(text: &str, integral: bool) -> Result<Value, String> {
    if integral {
        if let Ok(u) = text.parse::<u64>() {
            return Ok(Value::from(u));
        }
        if let Ok(i) = text.parse::<i64>() {
            return Ok(Value::from(i));
        }
    }
    let f: f64 = text.parse().map_err(|_| format!("invalid number {text}"))?;
    Number::from_f64(f)
        .map(Value::Number)
        .ok_or_else(|| format!("number {text} is out of the IEEE-754 double range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Value, String> {
        parse_json(s.as_bytes())
    }

    #[test]
    fn floats_round_trip_exactly_through_serde_json_output() {
        let mut x: u64 = 0x1234_5678_9abc_def1;
        for _ in 0..50_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let f = f64::from_bits(x);
            if !f.is_finite() {
                continue;
            }
            let text = serde_json::to_string(&f).unwrap();
            let back = p(&text).unwrap().as_f64().unwrap();
            assert_eq!(back.to_bits(), f.to_bits(), "{text}");
        }
        assert_eq!(
            p("333333333.33333329").unwrap().as_f64(),
            Some(333333333.3333333)
        );
        assert_eq!(p("0.30000000000000004").unwrap().as_f64(), Some(0.1 + 0.2));
    }

    #[test]
    fn integers_and_special_numbers() {
        assert_eq!(p("18446744073709551615").unwrap(), Value::from(u64::MAX));
        assert_eq!(p("-9223372036854775808").unwrap(), Value::from(i64::MIN));
        assert!(p("18446744073709551616").unwrap().is_f64());
        assert!(p("-0").unwrap().is_i64());
        assert!(p("-0.0").unwrap().as_f64().unwrap().is_sign_negative());
        assert!(p("1e400").is_err());
        for bad in ["01", "1.", ".5", "+1", "1e", "-", "NaN", "Infinity", "0x10"] {
            assert!(p(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn strings_escapes_and_surrogates() {
        assert_eq!(
            p(r#""a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00""#).unwrap(),
            "a\"\\/\u{8}\u{c}\n\r\t\u{e9}😀"
        );
        for bad in [
            r#""\ud800""#,
            r#""\udc00x""#,
            r#""\ud800\u0041""#,
            "\"a\u{1}\"",
            r#""\x""#,
            "\"abc",
        ] {
            assert!(p(bad).is_err(), "{bad}");
        }
        assert!(parse_json(b"\"\xff\"").is_err());
    }

    #[test]
    fn structure_rules() {
        assert_eq!(
            p(" {\"a\" : [ 1 , {} ] }\r\n").unwrap(),
            serde_json::json!({"a": [1, {}]})
        );
        assert!(p(r#"{"a":1,"a":2}"#).unwrap_err().contains("duplicate"));
        for bad in [
            "",
            "{",
            "[1,]",
            "{\"a\":1,}",
            "{} x",
            "\u{feff}{}",
            "{'a':1}",
            "[1 2]",
        ] {
            assert!(p(bad).is_err(), "{bad:?}");
        }
        let deep_ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(p(&deep_ok).is_ok());
        let too_deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert!(p(&too_deep).is_err());
    }
}
