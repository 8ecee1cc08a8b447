//! Demo payments: a local checkout page (succeed / fail / cancel) instead of Stripe.
//! A checkout is a signed, expiring description in the URL, so it needs no table
//! and cannot be altered by the visitor; its nonce makes the provider ids it
//! produces unique, so submitting it twice records one payment.
use serde::{Deserialize, Serialize};

use crate::clock::{HOUR, Micros};
use crate::domain::{Currency, Money, Source};
use crate::tokens::{Keys, constant_time_eq, hex, new_token};

const LABEL: &str = "demo-checkout";
pub const CHECKOUT_TTL: Micros = HOUR;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CheckoutKind {
    Subscription,
    Donation,
    /// A gift membership, paid once.
    Gift,
}

/// What the visitor is paying for.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct DemoCheckout {
    pub kind: CheckoutKind,
    pub nonce: String,
    /// Member paying (subscriptions always; donations when known).
    pub member_id: Option<String>,
    /// Our tier price id, for subscriptions.
    pub price_id: Option<String>,
    pub amount_minor: i64,
    #[serde(with = "currency_code")]
    pub currency: Currency,
    pub created_at: Micros,
    /// Donations: shown in the ledger description.
    pub donor_name: Option<String>,
    pub cover_fee: bool,
    /// Donations: the gift meant, before the covered fee (`amount_minor` is the charge).
    #[serde(default)]
    pub gift_minor: Option<i64>,
    /// The member was created by this checkout (see `services::checkout`).
    pub new_member: bool,
    /// Where the reader came from (checked before it was sealed).
    #[serde(default)]
    pub source: Option<Source>,
    /// Donations: the topic the gift goes toward (its goal checked before it was sealed).
    #[serde(default)]
    pub topic_id: Option<String>,
    /// Subscriptions: the offer redeemed (checked before it was sealed, and again
    /// when the checkout completes: its limit is decided then).
    #[serde(default)]
    pub offer_id: Option<String>,
    /// A trial: the subscription starts as trialing and its first payment comes at the end.
    #[serde(default)]
    pub trial_days: Option<i64>,
    /// A discount: what the first invoice comes to (`amount_minor` stays the plan's price).
    #[serde(default)]
    pub first_charge_minor: Option<i64>,
    /// Gift memberships: the gift (stored when the checkout started) this pays for.
    #[serde(default)]
    pub gift_id: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DemoError {
    #[error("the demo checkout link is malformed or was altered")]
    Invalid,
    #[error("the demo checkout link expired")]
    Expired,
}

impl DemoCheckout {
    pub fn new(kind: CheckoutKind, amount: Money, now: Micros) -> Self {
        Self {
            kind,
            nonce: new_token()[..24].to_string(),
            member_id: None,
            price_id: None,
            amount_minor: amount.minor,
            currency: amount.currency,
            created_at: now,
            donor_name: None,
            cover_fee: false,
            gift_minor: None,
            new_member: false,
            source: None,
            topic_id: None,
            offer_id: None,
            trial_days: None,
            first_charge_minor: None,
            gift_id: None,
        }
    }

    pub fn amount(&self) -> Money {
        Money::new(self.amount_minor, self.currency)
    }

    /// What is paid now: nothing for a trial, the discounted first invoice, or the price.
    pub fn due_now(&self) -> Money {
        let minor = if self.trial_days.is_some() { 0 } else { self.first_charge_minor.unwrap_or(self.amount_minor) };
        Money::new(minor, self.currency)
    }

    /// `(payload, signature)` for the checkout URL.
    pub fn seal(&self, keys: &Keys) -> (String, String) {
        let json = serde_json::to_string(self).unwrap_or_default();
        let payload = hex(json.as_bytes());
        let signature = keys.keyed_hash(LABEL, &payload);
        (payload, signature)
    }

    pub fn open(keys: &Keys, payload: &str, signature: &str, now: Micros) -> Result<Self, DemoError> {
        let expected = keys.keyed_hash(LABEL, payload);
        if !constant_time_eq(expected.as_bytes(), signature.as_bytes()) {
            return Err(DemoError::Invalid);
        }
        let bytes = unhex(payload).ok_or(DemoError::Invalid)?;
        let checkout: DemoCheckout = serde_json::from_slice(&bytes).map_err(|_| DemoError::Invalid)?;
        if now - checkout.created_at > CHECKOUT_TTL {
            return Err(DemoError::Expired);
        }
        Ok(checkout)
    }
}

/// The currency as its lower-case code in the sealed JSON (`"eur"`); a code
/// that is not one makes the link invalid.
mod currency_code {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::domain::Currency;

    pub fn serialize<S: Serializer>(currency: &Currency, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(currency.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Currency, D::Error> {
        let code = String::deserialize(d)?;
        Currency::parse(&code).map_err(serde::de::Error::custom)
    }
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_checkouts_open_only_unaltered_and_unexpired() {
        let keys = Keys::new("k-k-k-k-k-k-k-k-k-k-k-k-k-k-k-k-k-k");
        let checkout = DemoCheckout::new(CheckoutKind::Donation, Money::new(500, Currency::EUR), 1_000);
        let (payload, sig) = checkout.seal(&keys);
        assert_eq!(DemoCheckout::open(&keys, &payload, &sig, 2_000), Ok(checkout.clone()));
        assert_eq!(DemoCheckout::open(&keys, &payload, &sig, 1_000 + CHECKOUT_TTL + 1), Err(DemoError::Expired));
        // Raise the amount: "500" → "900" inside the hex-encoded JSON.
        let tampered = payload.replace(&hex(b"500"), &hex(b"900"));
        assert_ne!(tampered, payload);
        assert_eq!(DemoCheckout::open(&keys, &tampered, &sig, 2_000), Err(DemoError::Invalid));
        assert_eq!(DemoCheckout::open(&keys, "zz", &sig, 2_000), Err(DemoError::Invalid));
    }
}
