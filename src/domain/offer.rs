//! Offers: a discount (percent or a fixed amount off, per currency) for the first
//! invoice, for some months or for ever, or a free trial of some days, on chosen
//! tiers and intervals; with an optional code, end date and redemption limit.
use std::fmt;
use std::str::FromStr;

use super::{Currency, Interval, Money, TierId, TierPrice};

/// How long a discount lasts (Stripe's coupon `duration`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiscountDuration {
    /// The first invoice only.
    Once,
    /// The invoices of the first `n` months.
    Months(i64),
    /// Every invoice, for as long as the subscription lasts.
    Forever,
}

impl DiscountDuration {
    /// Stripe's name for it: `once`, `repeating`, `forever`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Once => "once",
            Self::Months(_) => "repeating",
            Self::Forever => "forever",
        }
    }

    pub fn months(self) -> Option<i64> {
        match self {
            Self::Months(n) => Some(n),
            _ => None,
        }
    }

    /// Read back from storage: `("repeating", Some(3))` and the like.
    pub fn from_parts(kind: &str, months: Option<i64>) -> Result<Self, String> {
        match (kind, months) {
            ("once", _) => Ok(Self::Once),
            ("forever", _) => Ok(Self::Forever),
            ("repeating", Some(n)) if n > 0 => Ok(Self::Months(n)),
            (other, _) => Err(format!("unknown discount duration {other:?}")),
        }
    }

    /// How many invoices of a plan billed every `interval` are discounted
    /// (`None`: all of them). A yearly plan's first invoice covers twelve months.
    pub fn invoices(self, interval: Interval) -> Option<i64> {
        match (self, interval) {
            (Self::Once, _) => Some(1),
            (Self::Months(n), Interval::Month) => Some(n),
            (Self::Months(n), Interval::Year) => Some((n + 11) / 12),
            (Self::Forever, _) => None,
        }
    }
}

/// What is taken off each discounted invoice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AmountOff {
    /// Whole percent, 1 to 100.
    Percent(i64),
    /// A fixed amount per currency (at most one per currency).
    Fixed(Vec<Money>),
}

/// What the offer gives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OfferBenefit {
    Discount { off: AmountOff, duration: DiscountDuration },
    Trial { days: i64 },
}

/// What an offer is, stored as `kind`: `percent`, `amount` or `trial`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OfferKind {
    Percent,
    Amount,
    Trial,
}

text_enum!(OfferKind {
    Percent => "percent",
    Amount => "amount",
    Trial => "trial",
});

impl OfferBenefit {
    pub fn kind(&self) -> OfferKind {
        match self {
            Self::Discount { off: AmountOff::Percent(_), .. } => OfferKind::Percent,
            Self::Discount { off: AmountOff::Fixed(_), .. } => OfferKind::Amount,
            Self::Trial { .. } => OfferKind::Trial,
        }
    }
}

/// Fixed amounts as stored: `eur:150,uah:5000`.
pub fn amounts_to_text(amounts: &[Money]) -> String {
    amounts.iter().map(|m| format!("{}:{}", m.currency.as_str(), m.minor)).collect::<Vec<_>>().join(",")
}

pub fn amounts_from_text(text: &str) -> Result<Vec<Money>, String> {
    text.split(',')
        .filter(|p| !p.is_empty())
        .map(|part| {
            let (code, minor) = part.split_once(':').ok_or_else(|| format!("bad amount {part:?}"))?;
            let currency = Currency::parse(code).map_err(|_| format!("bad currency {code:?}"))?;
            let minor: i64 = minor.parse().map_err(|_| format!("bad amount {part:?}"))?;
            Ok(Money::new(minor, currency))
        })
        .collect()
}

/// An offer as staff made it.
#[derive(Clone, Debug)]
pub struct Offer {
    pub id: String,
    /// For the shareable link `/patron?offer=<slug>`.
    pub slug: String,
    /// Staff's name for it (not shown to readers: they see what it gives, in their language).
    pub name: String,
    pub benefit: OfferBenefit,
    pub tier_ids: Vec<TierId>,
    pub intervals: Vec<Interval>,
    /// Upper-case; typed in any case.
    pub code: Option<String>,
    pub ends_at: Option<i64>,
    pub max_redemptions: Option<i64>,
    pub stripe_coupon_id: Option<String>,
    pub stripe_promotion_code_id: Option<String>,
    pub created_at: i64,
    /// Staff ended it.
    pub ended_at: Option<i64>,
}

/// Why an offer cannot be used; each has a message fit for the reader.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OfferRefusal {
    #[error("no such offer")]
    Unknown,
    #[error("no such offer code")]
    UnknownCode,
    #[error("the offer has ended")]
    Ended,
    #[error("the offer has been fully redeemed")]
    UsedUp,
    #[error("the offer is not for this tier or billing period")]
    NotForPrice,
}

impl OfferRefusal {
    pub fn message_key(self) -> &'static str {
        match self {
            Self::Unknown => "offer-error-unknown",
            Self::UnknownCode => "offer-error-unknown-code",
            Self::Ended => "offer-error-ended",
            Self::UsedUp => "offer-error-used-up",
            Self::NotForPrice => "offer-error-not-for-price",
        }
    }
}

impl Offer {
    /// Still open at `now` with `redeemed` redemptions so far (the tier and
    /// interval are checked by [`Self::applies_to`]).
    pub fn check_open(&self, now: i64, redeemed: i64) -> Result<(), OfferRefusal> {
        if self.ended_at.is_some() || self.ends_at.is_some_and(|t| t <= now) {
            return Err(OfferRefusal::Ended);
        }
        if self.max_redemptions.is_some_and(|max| redeemed >= max) {
            return Err(OfferRefusal::UsedUp);
        }
        Ok(())
    }

    /// For this tier, interval and (a fixed amount off) currency.
    pub fn applies_to(&self, price: &TierPrice) -> Result<(), OfferRefusal> {
        let currency_ok = match &self.benefit {
            OfferBenefit::Discount { off: AmountOff::Fixed(amounts), .. } => {
                amounts.iter().any(|m| m.currency == price.amount.currency)
            }
            _ => true,
        };
        if self.tier_ids.contains(&price.tier_id) && self.intervals.contains(&price.interval) && currency_ok {
            Ok(())
        } else {
            Err(OfferRefusal::NotForPrice)
        }
    }

    /// What comes off one discounted invoice of `amount` (never more than it).
    pub fn off(&self, amount: Money) -> i64 {
        let off = match &self.benefit {
            OfferBenefit::Discount { off: AmountOff::Percent(p), .. } => (amount.minor * p + 50) / 100,
            OfferBenefit::Discount { off: AmountOff::Fixed(amounts), .. } => {
                amounts.iter().find(|m| m.currency == amount.currency).map_or(0, |m| m.minor)
            }
            OfferBenefit::Trial { .. } => 0,
        };
        off.clamp(0, amount.minor.max(0))
    }

    /// The first invoice of a subscription of `amount` per interval (a trial's comes at its end, in full).
    pub fn first_charge(&self, amount: Money) -> Money {
        Money::new(amount.minor - self.off(amount), amount.currency)
    }

    /// What the offer takes off recurring revenue: only a discount for ever
    /// lowers what the patron will keep paying (see the README).
    pub fn recurring_off(&self, amount: Money) -> i64 {
        match &self.benefit {
            OfferBenefit::Discount { duration: DiscountDuration::Forever, .. } => self.off(amount),
            _ => 0,
        }
    }

    pub fn trial_days(&self) -> Option<i64> {
        match self.benefit {
            OfferBenefit::Trial { days } => Some(days),
            OfferBenefit::Discount { .. } => None,
        }
    }
}

/// A code as staff or readers type it: letters, digits, `-` and `_`, 3 to 40,
/// compared without regard to case (stored upper-case).
pub fn normalise_code(input: &str) -> Option<String> {
    let code = input.trim();
    let ok = (3..=40).contains(&code.len()) && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    ok.then(|| code.to_ascii_uppercase())
}

/// A slug for links: lower-case letters, digits and `-`, 2 to 60.
pub fn parse_slug(input: &str) -> Option<String> {
    let slug = input.trim().to_ascii_lowercase();
    let ok = (2..=60).contains(&slug.len())
        && slug.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !slug.starts_with('-');
    ok.then_some(slug)
}

/// A slug made from staff's name for the offer (`Spring 50%` → `spring-50`).
pub fn slug_from_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-');
    out.chars().take(60).collect()
}

impl fmt::Display for OfferKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(benefit: OfferBenefit) -> Offer {
        Offer {
            id: "o".into(),
            slug: "s".into(),
            name: "n".into(),
            benefit,
            tier_ids: vec![],
            intervals: vec![Interval::Month],
            code: None,
            ends_at: Some(100),
            max_redemptions: Some(2),
            stripe_coupon_id: None,
            stripe_promotion_code_id: None,
            created_at: 0,
            ended_at: None,
        }
    }

    #[test]
    fn discounts_take_off_what_they_say_and_only_forever_lowers_recurring_revenue() {
        let half = offer(OfferBenefit::Discount { off: AmountOff::Percent(50), duration: DiscountDuration::Months(3) });
        let eur = Money::new(450, Currency::EUR);
        assert_eq!(half.first_charge(eur), Money::new(225, Currency::EUR));
        assert_eq!(half.recurring_off(eur), 0);
        let fixed = offer(OfferBenefit::Discount {
            off: AmountOff::Fixed(vec![Money::new(1000, Currency::EUR)]),
            duration: DiscountDuration::Forever,
        });
        assert_eq!(fixed.first_charge(eur).minor, 0, "never below nothing");
        assert_eq!(fixed.recurring_off(eur), 450);
        assert_eq!(fixed.off(Money::new(450, Currency::UAH)), 0);
        assert_eq!(offer(OfferBenefit::Trial { days: 14 }).first_charge(eur), eur);
    }

    #[test]
    fn an_offer_closes_at_its_end_date_and_limit() {
        let o = offer(OfferBenefit::Trial { days: 7 });
        assert_eq!(o.check_open(99, 1), Ok(()));
        assert_eq!(o.check_open(100, 0), Err(OfferRefusal::Ended));
        assert_eq!(o.check_open(50, 2), Err(OfferRefusal::UsedUp));
    }

    #[test]
    fn codes_slugs_amounts_and_durations_parse() {
        assert_eq!(normalise_code(" spring-25 ").as_deref(), Some("SPRING-25"));
        assert_eq!(normalise_code("a b"), None);
        assert_eq!(normalise_code("ab"), None);
        assert_eq!(slug_from_name("Spring 50% off!"), "spring-50-off");
        assert_eq!(parse_slug("Spring-1").as_deref(), Some("spring-1"));
        assert_eq!(parse_slug("no/slash"), None);
        let amounts = vec![Money::new(150, Currency::EUR), Money::new(5000, Currency::UAH)];
        assert_eq!(amounts_from_text(&amounts_to_text(&amounts)), Ok(amounts));
        assert_eq!(DiscountDuration::from_parts("repeating", Some(3)), Ok(DiscountDuration::Months(3)));
        assert!(DiscountDuration::from_parts("repeating", None).is_err());
        assert_eq!(DiscountDuration::Months(14).invoices(Interval::Year), Some(2));
        assert_eq!(DiscountDuration::Months(3).invoices(Interval::Month), Some(3));
    }
}
