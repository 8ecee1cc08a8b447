//! Card processing fees per currency (`CARD_FEES`): what the demo gateway
//! charges the newsroom, and what a donor who "covers the fee" adds so that the
//! newsroom's net is exactly the gift they meant.
use super::{Currency, Money};

/// A fee of `rate_bp` basis points (1/100 of a percent) of the charge, rounded
/// up to the minor unit, plus `fixed_minor`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CardFee {
    pub rate_bp: i64,
    pub fixed_minor: i64,
}

/// Basis points in one whole.
const WHOLE: i64 = 10_000;

impl CardFee {
    /// The fee on a charge of `gross_minor`.
    pub fn on(&self, gross_minor: i64) -> i64 {
        if gross_minor <= 0 {
            return 0;
        }
        ceil_div(gross_minor * self.rate_bp, WHOLE) + self.fixed_minor
    }

    /// The smallest charge whose net after this fee is at least `gift_minor`:
    /// (gift + fixed) / (1 − rate), rounded up to the minor unit, then to the
    /// currency's charge step. With a step of 1 the net is exactly the gift:
    /// G·(1 − r) lies in [gift + fixed, gift + fixed + 1), so G − ⌈G·r⌉ − fixed
    /// = ⌊G·(1 − r)⌋ − fixed = gift.
    pub fn gross_to_net(&self, gift_minor: i64, step: i64) -> i64 {
        let gross = ceil_div((gift_minor + self.fixed_minor) * WHOLE, WHOLE - self.rate_bp);
        ceil_div(gross, step) * step
    }
}

/// `1.5` with `places` = 2 → 150; no more decimals than `places`, no sign.
fn decimal(input: &str, places: u32) -> Option<i64> {
    let s = input.trim();
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let frac = frac.trim_end_matches('0');
    if whole.is_empty() || whole.len() > 9 || frac.len() > places as usize {
        return None;
    }
    if !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut digits = format!("{whole}{frac}");
    for _ in frac.len()..places as usize {
        digits.push('0');
    }
    digits.parse().ok()
}

fn ceil_div(a: i64, b: i64) -> i64 {
    (a + b - 1).div_euclid(b)
}

/// The fee for each configured currency, and a default for the others
/// (1.5 % + 0.25 in currencies with cents, 1.5 % in zero-decimal ones).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CardFees {
    configured: Vec<(Currency, CardFee)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("CARD_FEES: {0:?} is not a fee; write currency=percent%+fixed, comma-separated, e.g. eur=1.5%+0.25,jpy=3.6%")]
pub struct CardFeesError(pub String);

impl CardFees {
    /// Parses `eur=1.5%+0.25, usd=2.9%+0.30, jpy=3.6%` (empty: defaults only).
    pub fn parse(input: &str) -> Result<Self, CardFeesError> {
        let mut configured = Vec::new();
        for part in input.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let bad = || CardFeesError(part.to_string());
            let (code, fee) = part.split_once('=').ok_or_else(bad)?;
            let currency = Currency::parse(code).map_err(|_| bad())?;
            let (rate, fixed) = match fee.trim().split_once('+') {
                Some((r, f)) => (r, Some(f)),
                None => (fee.trim(), None),
            };
            let rate = rate.trim().strip_suffix('%').ok_or_else(bad)?;
            // The rate in basis points: at most two decimals of a percent, below 100 %.
            let rate_bp = decimal(rate, 2).filter(|bp| *bp < WHOLE).ok_or_else(bad)?;
            let fixed_minor = match fixed {
                Some(f) => decimal(f, currency.exponent()).ok_or_else(bad)?,
                None => 0,
            };
            configured.retain(|(c, _)| *c != currency);
            configured.push((currency, CardFee { rate_bp, fixed_minor }));
        }
        Ok(Self { configured })
    }

    /// The currencies CARD_FEES names.
    pub fn configured(&self) -> impl Iterator<Item = Currency> + '_ {
        self.configured.iter().map(|(c, _)| *c)
    }

    pub fn for_currency(&self, currency: Currency) -> CardFee {
        match self.configured.iter().find(|(c, _)| *c == currency) {
            Some((_, fee)) => *fee,
            None => {
                let exp = currency.exponent();
                CardFee { rate_bp: 150, fixed_minor: if exp >= 2 { 25 * 10_i64.pow(exp - 2) } else { 0 } }
            }
        }
    }

    /// The fee on a charge of `amount`.
    pub fn fee(&self, amount: Money) -> i64 {
        self.for_currency(amount.currency).on(amount.minor)
    }

    /// What to charge so the newsroom's net is `gift` (the donor covers the fee).
    pub fn covering(&self, gift: Money) -> Money {
        let gross = self.for_currency(gift.currency).gross_to_net(gift.minor, gift.currency.charge_step());
        Money::new(gross, gift.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fees() -> CardFees {
        CardFees::parse("eur=1.5%+0.25, usd=2.9%+0.30, uah=1.9%+5, jpy=3.6%, kwd=2.5%+0.1").expect("valid")
    }

    #[test]
    fn covering_the_fee_makes_the_net_exactly_the_gift_in_every_configured_currency() {
        let fees = fees();
        for currency in fees.configured() {
            let unit = 10_i64.pow(currency.exponent());
            let step = currency.charge_step();
            for major in [1, 3, 5, 10, 25, 50, 99, 100, 250, 1000, 9999, 10_000] {
                for cents in [0, 1, 7, 33, 50, 99] {
                    let gift = major * unit + if unit > 1 { cents * unit / 100 / step * step } else { 0 };
                    let gross = fees.covering(Money::new(gift, currency));
                    let net = gross.minor - fees.fee(gross);
                    if step == 1 {
                        assert_eq!(net, gift, "{currency}: gift {gift}, gross {}", gross.minor);
                    } else {
                        // Charged in steps: the net is the gift or a little more, never less.
                        assert!(net >= gift && net < gift + step, "{currency}: gift {gift}, net {net}");
                    }
                    assert_eq!(gross.minor % step, 0);
                    // And no smaller charge would do.
                    let less = gross.minor - step;
                    assert!(less - fees.fee(Money::new(less, currency)) < gift, "{currency}: {gift} minimal");
                }
            }
        }
    }

    #[test]
    fn the_reported_case_ten_euros() {
        let fees = fees();
        let gross = fees.covering(Money::new(1000, Currency::EUR));
        assert_eq!(gross.minor, 1041);
        assert_eq!(gross.minor - fees.fee(gross), 1000);
        assert_eq!(fees.covering(Money::new(1000, Currency::JPY)).minor, 1038);
    }

    #[test]
    fn defaults_and_bad_settings() {
        let none = CardFees::parse("").expect("empty is fine");
        assert_eq!(none.fee(Money::new(300, Currency::EUR)), 30);
        assert_eq!(none.fee(Money::new(500, Currency::JPY)), 8);
        assert_eq!(none.fee(Money::new(0, Currency::EUR)), 0);
        assert_eq!(CardFees::parse("eur=0%").expect("free").fee(Money::new(1000, Currency::EUR)), 0);
        for bad in ["eur", "eur=1.5", "euro=1%", "eur=100%", "eur=1.555%", "eur=1%+x", "jpy=1%+0.5"] {
            assert!(CardFees::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(fees().for_currency(Currency::USD), CardFee { rate_bp: 290, fixed_minor: 30 });
    }
}
