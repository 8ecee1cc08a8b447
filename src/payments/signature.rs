//! Stripe's webhook signature. The `Stripe-Signature` header is
//! `t=<unix seconds>,v1=<hex>[,v1=<hex>…]`; each `v1` is an HMAC-SHA256 of
//! `"<t>.<raw body>"` keyed with the endpoint's secret, and other schemes
//! (`v0`) are ignored. Any one `v1` may match (Stripe signs with both secrets
//! while one is being rolled), and `t` must be within five minutes of now.
//!
//! Checked here rather than with async-stripe's `Webhook`: that also parses the
//! payload into its type for every kind of Stripe object, which we never use
//! (applying an event re-reads its object from Stripe), and whose code was
//! a megabyte of our binary.
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// How far the signed time may be from ours, either way (Stripe's own libraries use the same).
pub const TOLERANCE_SECS: i64 = 300;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the Stripe-Signature header has no time or no v1 signature")]
    Malformed,
    #[error("no v1 signature matches")]
    NoMatch,
    #[error("the signature is more than five minutes from now")]
    OutOfTime,
}

/// Whether `header` signs `body` with `secret`, at `now_secs` (Unix seconds).
pub fn verify(body: &str, header: &str, secret: &str, now_secs: i64) -> Result<(), SignatureError> {
    let mut signed_at = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            // The time as written is what was signed.
            Some(("t", t)) => signed_at = t.parse::<i64>().ok().map(|secs| (t, secs)),
            Some(("v1", hex)) => candidates.extend(unhex(hex)),
            _ => {}
        }
    }
    let (signed_text, signed_at) = signed_at.ok_or(SignatureError::Malformed)?;
    if candidates.is_empty() {
        return Err(SignatureError::Malformed);
    }
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()) else {
        return Err(SignatureError::NoMatch);
    };
    mac.update(signed_text.as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    // verify_slice compares in constant time.
    if !candidates.iter().any(|c| mac.clone().verify_slice(c).is_ok()) {
        return Err(SignatureError::NoMatch);
    }
    if (now_secs - signed_at).abs() > TOLERANCE_SECS {
        return Err(SignatureError::OutOfTime);
    }
    Ok(())
}

fn unhex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16);
    hex.as_bytes().chunks(2).map(|pair| Some((digit(pair[0])? * 16 + digit(pair[1])?) as u8)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::hex;

    fn v1(body: &str, secret: &str, t: i64) -> String {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("any key length");
        mac.update(format!("{t}.{body}").as_bytes());
        hex(&mac.finalize().into_bytes())
    }

    #[test]
    fn a_v1_signature_within_five_minutes_verifies_and_anything_else_does_not() {
        let (body, secret, t) = ("{\"id\":\"evt_1\"}", "whsec_test", 1_700_000_000);
        let good = v1(body, secret, t);
        assert_eq!(verify(body, &format!("t={t},v1={good}"), secret, t), Ok(()));
        assert_eq!(verify(body, &format!("t={t},v1={good}"), secret, t + 300), Ok(()));
        assert_eq!(verify(body, &format!("t={t},v1={good}"), secret, t - 300), Ok(()));
        assert_eq!(verify(body, &format!("t={t},v1={good}"), secret, t + 301), Err(SignatureError::OutOfTime));
        assert_eq!(verify(body, &format!("t={t},v1={good}"), secret, t - 301), Err(SignatureError::OutOfTime));
        // Any one v1 may match; v0 and unknown schemes are ignored.
        let other = v1(body, "whsec_other", t);
        assert_eq!(verify(body, &format!("t={t},v0={good},v1={other},v1={good}"), secret, t), Ok(()));
        assert_eq!(verify(body, &format!("t={t},v1={other}"), secret, t), Err(SignatureError::NoMatch));
        assert_eq!(verify("{\"id\":\"evt_2\"}", &format!("t={t},v1={good}"), secret, t), Err(SignatureError::NoMatch));
        // The time is part of what is signed.
        assert_eq!(verify(body, &format!("t={},v1={good}", t + 1), secret, t), Err(SignatureError::NoMatch));
        assert_eq!(verify(body, &format!("t={t},v1={}", good.to_uppercase()), secret, t), Ok(()));
        for header in ["", "t=abc,v1=zz", &format!("v1={good}"), &format!("t={t}"), &format!("t={t},v0={good}")] {
            assert_eq!(verify(body, header, secret, t), Err(SignatureError::Malformed), "{header}");
        }
        assert_eq!(verify(body, &format!("t={t},v1=zz,v1={good}"), secret, t), Ok(()), "one bad v1 among good ones");
    }
}
