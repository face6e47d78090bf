//! RFC 8785 JSON Canonicalization Scheme (JCS).
//!
//! The audit chain hashes records, and a hash is only reproducible if every
//! implementation turns the same JSON value into the same bytes. JCS is the
//! published, language-neutral answer to that, which is what lets anyone
//! re-verify our log with a few lines of Python, Go or JavaScript instead of
//! trusting this binary.
//!
//! Deliberate scope note: serde_json keeps integers that fit `i64`/`u64` as
//! integers, and so do we (they print in full, e.g. `9007199254740993`).
//! Strict RFC 8785 would round them through an IEEE double first. The two
//! agree for every integer of magnitude up to 2^53, which covers anything the
//! cockpit logs; the bundled Python verifier implements exactly this rule.

use serde_json::{Map, Number, Value};
use std::fmt::Write as _;

/// Why a value could not be canonicalized.
///
/// Exists so callers can tell "this value has no canonical form" apart from
/// I/O problems; with serde_json it is practically unreachable because NaN and
/// infinities cannot be stored in a `Value`, but we refuse rather than guess.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum JcsError {
    /// A number has no finite IEEE-754 double representation, which RFC 8785
    /// forbids (there is no canonical spelling for NaN or Infinity).
    #[error("number {0} cannot be represented as a finite IEEE-754 double, so it has no canonical JSON form")]
    NonFiniteNumber(String),
}

/// Serialize `value` as RFC 8785 canonical JSON.
///
/// Used for hashing audit records: the output is byte-for-byte what any other
/// conforming implementation produces for the same value.
pub fn canonicalize(value: &Value) -> Result<String, JcsError> {
    let mut out = String::new();
    write_value(&mut out, value)?;
    Ok(out)
}

fn write_value(out: &mut String, value: &Value) -> Result<(), JcsError> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(out, n)?,
        Value::String(s) => write_string(out, s),
        Value::Array(items) => write_array(out, items)?,
        Value::Object(map) => write_object(out, map)?,
    }
    Ok(())
}

fn write_array(out: &mut String, items: &[Value]) -> Result<(), JcsError> {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_value(out, item)?;
    }
    out.push(']');
    Ok(())
}

fn write_object(out: &mut String, map: &Map<String, Value>) -> Result<(), JcsError> {
    let mut members: Vec<(&String, &Value)> = map.iter().collect();
    members.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
    out.push('{');
    for (i, (key, val)) in members.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(out, key);
        out.push(':');
        write_value(out, val)?;
    }
    out.push('}');
    Ok(())
}

/// Numbers: integers print as integers; everything else follows ECMAScript
/// `Number.prototype.toString`, which is exactly what `ryu-js` implements
/// (including `-0` → `0` and `1e21` → `1e+21`).
fn write_number(out: &mut String, n: &Number) -> Result<(), JcsError> {
    if let Some(u) = n.as_u64() {
        let _ = write!(out, "{u}");
    } else if let Some(i) = n.as_i64() {
        let _ = write!(out, "{i}");
    } else {
        match n.as_f64() {
            Some(f) if f.is_finite() => out.push_str(ryu_js::Buffer::new().format_finite(f)),
            _ => return Err(JcsError::NonFiniteNumber(n.to_string())),
        }
    }
    Ok(())
}

/// Strings are escaped exactly like ECMAScript `JSON.stringify`: only `"`,
/// `\` and control characters are escaped; `/` and non-ASCII stay literal.
fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn canon_text(text: &str) -> String {
        let v = super::super::parse::parse_json(text.as_bytes()).unwrap();
        canonicalize(&v).unwrap()
    }

    fn num(f: f64) -> String {
        canonicalize(&json!(f)).unwrap()
    }

    #[test]
    fn rfc8785_number_examples() {
        // RFC 8785 appendix B (IEEE-754 bit patterns → expected strings).
        let cases: &[(u64, &str)] = &[
            (0x0000000000000000, "0"),
            (0x8000000000000000, "0"),
            (0x0000000000000001, "5e-324"),
            (0x8000000000000001, "-5e-324"),
            (0x7fefffffffffffff, "1.7976931348623157e+308"),
            (0xffefffffffffffff, "-1.7976931348623157e+308"),
            (0x4340000000000000, "9007199254740992"),
            (0xc340000000000000, "-9007199254740992"),
            (0x4430000000000000, "295147905179352830000"),
            (0x44b52d02c7e14af5, "9.999999999999997e+22"),
            (0x44b52d02c7e14af6, "1e+23"),
            (0x44b52d02c7e14af7, "1.0000000000000001e+23"),
            (0x444b1ae4d6e2ef4e, "999999999999999700000"),
            (0x444b1ae4d6e2ef4f, "999999999999999900000"),
            (0x444b1ae4d6e2ef50, "1e+21"),
            (0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"),
            (0x3eb0c6f7a0b5ed8d, "0.000001"),
            (0x41b3de4355555553, "333333333.3333332"),
            (0x41b3de4355555554, "333333333.33333325"),
            (0x41b3de4355555555, "333333333.3333333"),
            (0x41b3de4355555556, "333333333.3333334"),
            (0x41b3de4355555557, "333333333.33333343"),
            (0xbecbf647612f3696, "-0.0000033333333333333333"),
            (0x43143ff3c1cb0959, "1424953923781206.2"),
        ];
        for (bits, want) in cases {
            assert_eq!(num(f64::from_bits(*bits)), *want, "bits {bits:#x}");
        }
    }

    #[test]
    fn ecmascript_number_boundaries() {
        assert_eq!(num(1e21), "1e+21");
        assert_eq!(num(1e20), "100000000000000000000");
        assert_eq!(num(1e-7), "1e-7");
        assert_eq!(num(1e-6), "0.000001");
        assert_eq!(num(0.94), "0.94");
        assert_eq!(num(3.2e-05), "0.000032");
        assert_eq!(num(-0.0), "0");
        assert_eq!(num(1.0), "1");
        assert_eq!(canon_text("1.0"), "1");
        assert_eq!(canon_text("-0.0"), "0");
        assert_eq!(canon_text("-0"), "0");
        assert_eq!(canon_text("1E2"), "100");
        assert_eq!(canon_text("18446744073709551615"), "18446744073709551615");
        assert_eq!(canon_text("-9223372036854775808"), "-9223372036854775808");
    }

    #[test]
    fn rfc8785_string_and_structure_example() {
        // RFC 8785 section 3.2.2 (input) and 3.2.3 (expected output).
        let input = r#"{
          "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
          "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
          "literals": [null, true, false]
        }"#;
        let want = concat!(
            r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"#,
            r#""string":"€$\u000f\nA'B\"\\\\\"/"}"#
        );
        assert_eq!(canon_text(input), want);
    }

    #[test]
    fn rfc8785_key_sorting_by_utf16_code_units() {
        // RFC 8785 section 3.2.3 sorting example.
        let input = r#"{
          "\u20ac": "Euro Sign",
          "\r": "Carriage Return",
          "\ufb33": "Hebrew Letter Dalet With Dagesh",
          "1": "One",
          "\ud83d\ude00": "Emoji: Grinning Face",
          "\u0080": "Control",
          "\u00f6": "Latin Small Letter O With Diaeresis"
        }"#;
        let v: Value = serde_json::from_str(input).unwrap();
        let keys: Vec<String> =
            match serde_json::from_str::<Value>(&canonicalize(&v).unwrap()).unwrap() {
                Value::Object(m) => m
                    .values()
                    .map(|v| v.as_str().unwrap().to_string())
                    .collect(),
                _ => unreachable!(),
            };
        let want = [
            "Carriage Return",
            "One",
            "Control",
            "Latin Small Letter O With Diaeresis",
            "Euro Sign",
            "Emoji: Grinning Face",
            "Hebrew Letter Dalet With Dagesh",
        ];
        assert_eq!(keys, want);
    }

    #[test]
    fn control_characters_escape_as_lowercase_hex() {
        let v = json!({"k": "\u{1}\u{1f}\u{7f}\u{8}\u{c}\t/é"});
        assert_eq!(
            canonicalize(&v).unwrap(),
            "{\"k\":\"\\u0001\\u001f\u{7f}\\b\\f\\t/é\"}"
        );
    }

    #[test]
    fn nested_and_empty_containers() {
        assert_eq!(
            canon_text(r#" { "b" : [ ] , "a" : { "z":{}, "y":[1, {"d":null,"c":true}] } } "#),
            r#"{"a":{"y":[1,{"c":true,"d":null}],"z":{}},"b":[]}"#
        );
    }
}
