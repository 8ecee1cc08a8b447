//! Random tokens (sign-in links, session cookies, demo checkout nonces), what we
//! store of them, and keyed hashes under the instance's secret. A leaf module
//! beside `domain`: services, payments and http all need these primitives, and
//! none of them should have to reach into another layer for them.
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// The instance's secret key material (from SECRET_KEY or generated once and
/// stored in the database).
pub struct Keys {
    secret: Vec<u8>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(***)")
    }
}

impl Keys {
    pub fn new(secret: &str) -> Self {
        Self { secret: secret.as_bytes().to_vec() }
    }

    /// HMAC-SHA256 of `value` under the secret key, labelled so that hashes made
    /// for one purpose never match another's. Used where the input has little
    /// entropy (email addresses, IPs in rate-limit buckets).
    pub fn keyed_hash(&self, label: &str, value: &str) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.secret).expect("HMAC accepts keys of any length");
        mac.update(label.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        hex(&mac.finalize().into_bytes())
    }
}

/// 256 random bits, hex-encoded: for sign-in links and session cookies.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source is available");
    hex(&bytes)
}

/// Six random decimal digits (uniform: rejection sampling), for the code a
/// sign-in email carries beside its link.
pub fn new_code() -> String {
    loop {
        let mut bytes = [0u8; 4];
        getrandom::fill(&mut bytes).expect("the operating system's random source is available");
        let n = u32::from_le_bytes(bytes);
        // 4_294_000_000 is the largest multiple of 1_000_000 below 2^32.
        if n < 4_294_000_000 {
            return format!("{:06}", n % 1_000_000);
        }
    }
}

/// A code as a person typed it (`123 456`, `123-456`) in canonical form, or
/// `None` when it is not six digits.
pub fn normalise_code(input: &str) -> Option<String> {
    let digits: String = input.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    (digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// Compares two secrets in time that depends only on their length.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// What we store for a token: its SHA-256. Tokens carry 256 random bits, so no
/// salt or slow hash is needed to make the stored value useless to a thief.
pub fn hash_token(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// A token from outside must look like one of ours before it reaches a query.
pub fn is_well_formed(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bit_hex_and_distinct() {
        let a = new_token();
        let b = new_token();
        assert!(is_well_formed(&a) && is_well_formed(&b));
        assert_ne!(a, b);
        assert_ne!(hash_token(&a), a);
        assert!(!is_well_formed("../etc/passwd"));
    }

    #[test]
    fn codes_are_six_digits_and_typed_forms_normalise() {
        for _ in 0..100 {
            let c = new_code();
            assert_eq!(normalise_code(&c).as_deref(), Some(c.as_str()));
        }
        assert_eq!(normalise_code(" 012 345 ").as_deref(), Some("012345"));
        assert_eq!(normalise_code("012-345").as_deref(), Some("012345"));
        assert_eq!(normalise_code("12345"), None);
        assert_eq!(normalise_code("12345a"), None);
        assert_eq!(normalise_code("１２３４５６"), None);
        assert!(
            constant_time_eq(b"abc", b"abc") && !constant_time_eq(b"abc", b"abd") && !constant_time_eq(b"a", b"ab")
        );
    }

    #[test]
    fn keyed_hashes_depend_on_key_and_label() {
        let k1 = Keys::new("k1-k1-k1-k1-k1-k1-k1-k1-k1-k1-k1-k1");
        let k2 = Keys::new("k2-k2-k2-k2-k2-k2-k2-k2-k2-k2-k2-k2");
        assert_eq!(k1.keyed_hash("email", "a@b.org"), k1.keyed_hash("email", "a@b.org"));
        assert_ne!(k1.keyed_hash("email", "a@b.org"), k2.keyed_hash("email", "a@b.org"));
        assert_ne!(k1.keyed_hash("email", "a@b.org"), k1.keyed_hash("ip", "a@b.org"));
    }
}
