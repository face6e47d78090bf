//! The checks that decide whether a delivery really comes from the configured CI: HMAC-SHA256 of
//! the raw body (GitHub, CircleCI, Jenkins, generic), and constant-time comparison of a shared
//! token (GitLab's `X-Gitlab-Token`, Azure DevOps' basic-authentication password). A comparison
//! that stopped at the first differing byte would let an attacker guess a secret byte by byte
//! from response times, so neither check does.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA256 of `body` under `secret`, as lowercase hex: what a sender puts in its signature
/// header. Public so tests and outbound notifiers sign exactly the way receivers verify.
pub fn sign_sha256_hex(secret: &[u8], body: &[u8]) -> String {
    // HMAC takes keys of any length, so `new_from_slice` cannot fail; an empty tag would never
    // verify anyway.
    let Ok(mut mac) = HmacSha256::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(body);
    hex(&mac.finalize().into_bytes())
}

/// True when `signature_hex` is HMAC-SHA256(secret, body). The tag is compared in constant time
/// by the `hmac` crate; a signature that is not 64 hex digits simply does not verify.
pub(crate) fn hmac_matches(secret: &[u8], body: &[u8], signature_hex: &str) -> bool {
    let Some(tag) = decode_hex(signature_hex.trim()) else {
        return false;
    };
    let Ok(mut mac) = HmacSha256::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&tag).is_ok()
}

/// Constant-time equality of two secrets of possibly different lengths: both sides are hashed
/// first, so neither the position of the first difference nor the length of the configured token
/// shows in the time taken.
pub(crate) fn secrets_equal(given: &[u8], expected: &[u8]) -> bool {
    let a = Sha256::digest(given);
    let b = Sha256::digest(expected);
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b.iter()) {
        diff |= x ^ y;
    }
    std::hint::black_box(diff) == 0
}

/// The password of an `Authorization: Basic …` header value (the user name is ignored); `None`
/// when the value is not Basic or not valid base64 of `user:password`.
pub(crate) fn basic_password(header_value: &str) -> Option<Vec<u8>> {
    let (scheme, encoded) = header_value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = decode_base64(encoded.trim())?;
    let colon = decoded.iter().position(|&b| b == b':')?;
    Some(decoded[colon + 1..].to_vec())
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    out
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    if !s.len().is_multiple_of(2) {
        return None;
    }
    s.as_bytes()
        .chunks_exact(2)
        .map(|pair| Some((nibble(pair[0])? << 4) | nibble(pair[1])?))
        .collect()
}

/// Standard base64 (RFC 4648 §4, `=` padding optional), the encoding of HTTP Basic credentials.
fn decode_base64(s: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        match c {
            b'A'..=b'Z' => Some(u32::from(c - b'A')),
            b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
            b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    }
    let data = s.trim_end_matches('=').as_bytes();
    if data.len() % 4 == 1 || s.len() - data.len() > 2 {
        return None;
    }
    let mut out = Vec::with_capacity(data.len() * 3 / 4);
    for chunk in data.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= value(c)? << (18 - 6 * i);
        }
        let bytes = acc.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn githubs_published_example_verifies() {
        // docs.github.com, "Validating webhook deliveries" → "Testing the webhook payload
        // validation".
        let secret = b"It's a Secret to Everybody";
        let body = b"Hello, World!";
        let expected = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert_eq!(sign_sha256_hex(secret, body), expected);
        assert!(hmac_matches(secret, body, expected));
        assert!(hmac_matches(secret, body, &expected.to_uppercase()));
    }

    #[test]
    fn tampering_with_body_signature_or_secret_fails() {
        let secret = b"It's a Secret to Everybody";
        let good = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert!(!hmac_matches(secret, b"Hello, World?", good));
        let flipped = "857107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert!(!hmac_matches(secret, b"Hello, World!", flipped));
        assert!(!hmac_matches(
            b"It's a secret to everybody",
            b"Hello, World!",
            good
        ));
        // Truncated, overlong and non-hex signatures never verify.
        assert!(!hmac_matches(secret, b"Hello, World!", &good[..62]));
        assert!(!hmac_matches(
            secret,
            b"Hello, World!",
            &format!("{good}00")
        ));
        assert!(!hmac_matches(
            secret,
            b"Hello, World!",
            &good.replace('7', "g")
        ));
        assert!(!hmac_matches(secret, b"Hello, World!", ""));
    }

    #[test]
    fn circlecis_published_examples_verify() {
        // circleci.com/docs/webhooks, "Validate outbound webhooks".
        for (body, secret, sig) in [
            (
                "hello world",
                "secret",
                "734cc62f32841568f45715aeb9f4d7891324e6d948e4c6c60c0621cdac48623a",
            ),
            (
                "lalala",
                "another-secret",
                "daa220016c8f29a8b214fbfc3671aeec2145cfb1e6790184ffb38b6d0425fa00",
            ),
            (
                "an-important-request-payload",
                "hunter123",
                "9be2242094a9a8c00c64306f382a7f9d691de910b4a266f67bd314ef18ac49fa",
            ),
            (
                "foo",
                "secret",
                "773ba44693c7553d6ee20f61ea5d2757a9a4f4a44d2841ae4e95b52e4cd62db4",
            ),
        ] {
            assert_eq!(sign_sha256_hex(secret.as_bytes(), body.as_bytes()), sig);
        }
    }

    #[test]
    fn secrets_compare_by_value_only() {
        assert!(secrets_equal(b"s3cret", b"s3cret"));
        assert!(!secrets_equal(b"s3cret", b"s3creT"));
        assert!(!secrets_equal(b"s3cret", b"s3cret "));
        assert!(!secrets_equal(b"", b"s3cret"));
    }

    #[test]
    fn basic_credentials_decode() {
        // "ado:pa:ss" → the password keeps its own colons.
        assert_eq!(
            basic_password("Basic YWRvOnBhOnNz").as_deref(),
            Some(&b"pa:ss"[..])
        );
        // "user:s3cret", padded and unpadded, any scheme case.
        assert_eq!(
            basic_password("basic dXNlcjpzM2NyZXQ=").as_deref(),
            Some(&b"s3cret"[..])
        );
        assert_eq!(
            basic_password("BASIC dXNlcjpzM2NyZXQ").as_deref(),
            Some(&b"s3cret"[..])
        );
        assert_eq!(basic_password("Bearer dXNlcjpzM2NyZXQ="), None);
        assert_eq!(basic_password("Basic !!!!"), None);
        assert_eq!(basic_password("Basic bm9jb2xvbg=="), None); // "nocolon"
        assert_eq!(basic_password("Basic"), None);
    }
}
