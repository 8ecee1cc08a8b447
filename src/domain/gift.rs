//! Gift memberships and complimentary memberships: what may be bought, what a
//! gift costs, when it is delivered and when the membership it becomes ends.
use std::str::FromStr;

use super::text::{is_invisible_format, normalise};
use super::{Interval, Money, TierPrice};
use crate::clock::{DAY, Micros};

/// How long a gift membership may last, in months.
pub const GIFT_MONTHS: [i64; 3] = [3, 6, 12];
/// A gift is delivered today or on a day at most this many days ahead.
pub const MAX_DELIVERY_DAYS_AHEAD: i64 = 366;

/// The end stored for a complimentary membership without one: the last second
/// of year 9999, so that every "comped_until > now" keeps meaning "comped".
pub const COMP_NO_END: Micros = 253_402_300_799_000_000;

/// How many months a gift lasts: 3, 6 or 12.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GiftMonths(i64);

impl GiftMonths {
    pub fn get(self) -> i64 {
        self.0
    }

    pub fn new(months: i64) -> Option<Self> {
        GIFT_MONTHS.contains(&months).then_some(Self(months))
    }
}

impl FromStr for GiftMonths {
    type Err = GiftError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.trim().parse::<i64>().ok().and_then(Self::new).ok_or(GiftError::Months)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum GiftError {
    #[error("Choose 3, 6 or 12 months.")]
    Months,
    #[error("The message can be at most 500 characters long.")]
    MessageTooLong,
    #[error("The message cannot contain control or invisible characters.")]
    MessageControl,
    #[error("Choose a delivery date from today to a year ahead.")]
    DeliveryDate,
    #[error("Give the recipient's name.")]
    RecipientName,
    #[error("A comp needs a reason.")]
    CompReason,
    #[error("The reason can be at most 200 characters long.")]
    CompReasonTooLong,
    #[error("The end date must be a date after today (YYYY-MM-DD), or empty for no end.")]
    CompEnd,
}

impl GiftError {
    pub fn message_key(&self) -> &'static str {
        match self {
            Self::Months => "error-gift-months",
            Self::MessageTooLong => "error-gift-message-too-long",
            Self::MessageControl => "error-gift-message-control",
            Self::DeliveryDate => "error-gift-delivery-date",
            Self::RecipientName => "error-gift-recipient-name",
            Self::CompReason => "error-comp-reason",
            Self::CompReasonTooLong => "error-comp-reason-too-long",
            Self::CompEnd => "error-comp-end",
        }
    }
}

/// The giver's note to the recipient: trimmed, composed, at most 500
/// characters, line breaks allowed but no other control or invisible characters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GiftMessage(String);

impl GiftMessage {
    pub const MAX_CHARS: usize = 500;

    pub fn parse(input: &str) -> Result<Self, GiftError> {
        let s = normalise(&input.replace("\r\n", "\n"));
        if s.chars().count() > Self::MAX_CHARS {
            return Err(GiftError::MessageTooLong);
        }
        if s.chars().any(|c| (c.is_control() && c != '\n') || is_invisible_format(c)) {
            return Err(GiftError::MessageControl);
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why staff made a member complimentary: 1–200 characters, one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompReason(String);

impl CompReason {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(input: &str) -> Result<Self, GiftError> {
        let s = normalise(input);
        if s.is_empty() {
            return Err(GiftError::CompReason);
        }
        if s.chars().count() > Self::MAX_CHARS {
            return Err(GiftError::CompReasonTooLong);
        }
        if s.chars().any(|c| c.is_control() || is_invisible_format(c)) {
            return Err(GiftError::CompReason);
        }
        Ok(Self(s))
    }

    /// A reason written by the system (a redeemed gift), not typed by staff.
    pub fn system(text: String) -> Self {
        Self(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a gift of `months` costs in one currency, from the tier's live prices in
/// it: the monthly price times the months; for 12 months the yearly price when
/// the tier has one and it is lower (what a patron would pay for the year). A
/// pay-what-you-want price counts at its minimum. `None` without a monthly price.
pub fn gift_price<'a>(prices: impl IntoIterator<Item = &'a TierPrice>, months: GiftMonths) -> Option<Money> {
    let prices: Vec<&TierPrice> = prices.into_iter().collect();
    let monthly = prices.iter().filter(|p| p.interval == Interval::Month).map(|p| p.amount).min_by_key(|m| m.minor)?;
    let by_month = Money::new(monthly.minor * months.get(), monthly.currency);
    let yearly = prices
        .iter()
        .filter(|p| p.interval == Interval::Year && p.amount.currency == monthly.currency)
        .map(|p| p.amount)
        .min_by_key(|m| m.minor);
    Some(match yearly {
        Some(y) if months.get() == 12 && y.minor < by_month.minor => y,
        _ => by_month,
    })
}

/// When a complimentary membership of `months` months that starts at `from`
/// ends: 30 days a month (the demo gateway's month), so 3, 6 and 12 months are
/// 90, 180 and 360 days.
pub fn gift_end(from: Micros, months: GiftMonths) -> Micros {
    from + months.get() * 30 * DAY
}

/// A comp granted on top of one the member has: it extends from the later of
/// now and the current end; an open-ended comp stays open-ended.
pub fn extended_comp(now: Micros, current: Option<Micros>, months: GiftMonths) -> Micros {
    match current {
        Some(COMP_NO_END) => COMP_NO_END,
        Some(until) if until > now => gift_end(until, months),
        _ => gift_end(now, months),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Currency, TierId};

    fn price(minor: i64, interval: Interval) -> TierPrice {
        TierPrice {
            id: format!("p{minor}"),
            tier_id: TierId::new(),
            amount: Money::new(minor, Currency::EUR),
            interval,
            flexible: false,
            stripe_price_id: None,
        }
    }

    #[test]
    fn a_gift_costs_the_monthly_price_times_the_months_or_the_cheaper_yearly_for_twelve() {
        let prices = [price(500, Interval::Month), price(5000, Interval::Year)];
        let m = |n| GiftMonths::new(n).expect("allowed");
        assert_eq!(gift_price(&prices, m(3)), Some(Money::new(1500, Currency::EUR)));
        assert_eq!(gift_price(&prices, m(6)), Some(Money::new(3000, Currency::EUR)));
        assert_eq!(gift_price(&prices, m(12)), Some(Money::new(5000, Currency::EUR)));
        assert_eq!(gift_price(&prices[..1], m(12)), Some(Money::new(6000, Currency::EUR)));
        assert_eq!(gift_price(&prices[1..], m(3)), None);
        assert!(GiftMonths::new(4).is_none() && "x".parse::<GiftMonths>().is_err());
    }

    #[test]
    fn comps_extend_from_their_current_end_and_open_ended_ones_stay_open() {
        let m = GiftMonths::new(3).expect("allowed");
        assert_eq!(extended_comp(1000, None, m), 1000 + 90 * DAY);
        assert_eq!(extended_comp(1000, Some(500), m), 1000 + 90 * DAY);
        assert_eq!(extended_comp(1000, Some(5000), m), 5000 + 90 * DAY);
        assert_eq!(extended_comp(1000, Some(COMP_NO_END), m), COMP_NO_END);
    }

    #[test]
    fn messages_and_reasons_are_checked() {
        assert_eq!(GiftMessage::parse("  Happy birthday!\r\nLove  ").map(|m| m.0), Ok("Happy birthday!\nLove".into()));
        assert_eq!(GiftMessage::parse(&"x".repeat(501)), Err(GiftError::MessageTooLong));
        assert_eq!(GiftMessage::parse("a\u{202E}b"), Err(GiftError::MessageControl));
        assert_eq!(CompReason::parse("  "), Err(GiftError::CompReason));
        assert_eq!(CompReason::parse("Board member").map(|r| r.0), Ok("Board member".into()));
    }
}
