use std::fmt;
use std::str::FromStr;

/// An ISO 4217 currency code, stored lower-case as Stripe sends it (`eur`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("Currency codes have three letters, like EUR.")]
    BadCurrency,
    #[error("Enter an amount like 5 or 5.50.")]
    BadAmount,
    #[error("That amount has too many decimal places for this currency.")]
    TooPrecise,
    #[error("The amount must be more than zero.")]
    NotPositive,
    #[error("That amount is too large.")]
    TooLarge,
}

impl MoneyError {
    pub fn message_key(&self) -> &'static str {
        match self {
            Self::BadCurrency => "error-currency",
            Self::BadAmount => "error-amount",
            Self::TooPrecise => "error-amount-precision",
            Self::NotPositive => "error-amount-positive",
            Self::TooLarge => "error-amount-too-large",
        }
    }
}

/// Stripe's zero-decimal currencies: amounts are whole units.
const ZERO_DECIMAL: [&str; 16] =
    ["bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"];

/// Stripe's three-decimal currencies: amounts are thousandths, and the last digit
/// must be 0 (card networks take them in hundredths).
const THREE_DECIMAL: [&str; 5] = ["bhd", "jod", "kwd", "omr", "tnd"];

impl Currency {
    pub const EUR: Currency = Currency(*b"eur");
    pub const USD: Currency = Currency(*b"usd");
    pub const UAH: Currency = Currency(*b"uah");
    pub const JPY: Currency = Currency(*b"jpy");

    pub fn parse(input: &str) -> Result<Self, MoneyError> {
        let s = input.trim();
        let bytes = s.as_bytes();
        if bytes.len() != 3 || !bytes.iter().all(u8::is_ascii_alphabetic) {
            return Err(MoneyError::BadCurrency);
        }
        Ok(Self([bytes[0].to_ascii_lowercase(), bytes[1].to_ascii_lowercase(), bytes[2].to_ascii_lowercase()]))
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("xxx")
    }

    /// `EUR`, as people read it.
    pub fn code(&self) -> String {
        self.as_str().to_ascii_uppercase()
    }

    /// Digits after the decimal point (0 for JPY, 2 for EUR, 3 for KWD).
    pub fn exponent(&self) -> u32 {
        match self.as_str() {
            c if ZERO_DECIMAL.contains(&c) => 0,
            c if THREE_DECIMAL.contains(&c) => 3,
            _ => 2,
        }
    }

    /// The smallest step Stripe accepts for a charge, in minor units: 10 for the
    /// three-decimal currencies, else 1.
    pub fn charge_step(&self) -> i64 {
        if THREE_DECIMAL.contains(&self.as_str()) { 10 } else { 1 }
    }

    pub fn symbol(&self) -> Option<&'static str> {
        match self.as_str() {
            "eur" => Some("€"),
            "usd" => Some("$"),
            "gbp" => Some("£"),
            "uah" => Some("₴"),
            "jpy" => Some("¥"),
            _ => None,
        }
    }
}

impl FromStr for Currency {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code())
    }
}

/// An amount of money in minor units (cents) of a currency. Never a float.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    /// Largest amount we accept from a form (in major units): guards against typos.
    pub const MAX_MAJOR: i64 = 100_000;

    pub fn new(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    /// Parses what a person typed (`5`, `5.5`, `5,50`) into a positive amount.
    pub fn parse_major(input: &str, currency: Currency) -> Result<Self, MoneyError> {
        let s = input.trim().replace(',', ".");
        if s.is_empty() {
            return Err(MoneyError::BadAmount);
        }
        let (whole, frac) = match s.split_once('.') {
            Some((w, f)) => (w, f),
            None => (s.as_str(), ""),
        };
        if whole.is_empty() && frac.is_empty()
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(MoneyError::BadAmount);
        }
        let exp = currency.exponent() as usize;
        let frac_trimmed = frac.trim_end_matches('0');
        if frac_trimmed.len() > exp {
            return Err(MoneyError::TooPrecise);
        }
        if whole.len() > 9 {
            return Err(MoneyError::TooLarge);
        }
        let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| MoneyError::BadAmount)? };
        if whole > Self::MAX_MAJOR {
            return Err(MoneyError::TooLarge);
        }
        let mut frac_padded = frac_trimmed.to_string();
        while frac_padded.len() < exp {
            frac_padded.push('0');
        }
        let frac: i64 =
            if frac_padded.is_empty() { 0 } else { frac_padded.parse().map_err(|_| MoneyError::BadAmount)? };
        let minor = whole * 10_i64.pow(exp as u32) + frac;
        if minor <= 0 {
            return Err(MoneyError::NotPositive);
        }
        if minor % currency.charge_step() != 0 {
            return Err(MoneyError::TooPrecise);
        }
        Ok(Self { minor, currency })
    }

    /// `3.00`, `500`, `-12.05`: the amount in major units without a symbol, for exports.
    pub fn decimal(&self) -> String {
        let exp = self.currency.exponent();
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        if exp == 0 {
            return format!("{sign}{abs}");
        }
        let unit = 10_u64.pow(exp);
        format!("{sign}{}.{:0width$}", abs / unit, abs % unit, width = exp as usize)
    }

    /// `€3.00`, `¥500`, `12.00 CHF`.
    pub fn display(&self) -> String {
        let exp = self.currency.exponent();
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        let number = if exp == 0 {
            abs.to_string()
        } else {
            let unit = 10_u64.pow(exp);
            format!("{}.{:0width$}", abs / unit, abs % unit, width = exp as usize)
        };
        match self.currency.symbol() {
            Some(symbol) => format!("{sign}{symbol}{number}"),
            None => format!("{sign}{number} {}", self.currency.code()),
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currencies_are_three_letters_stored_lower_case() {
        assert_eq!(Currency::parse("EUR"), Ok(Currency::EUR));
        assert_eq!(Currency::EUR.code(), "EUR");
        assert!(Currency::parse("EURO").is_err());
        assert!(Currency::parse("E1R").is_err());
        assert_eq!(Currency::JPY.exponent(), 0);
        assert_eq!(Currency::EUR.exponent(), 2);
        for code in ["BHD", "JOD", "KWD", "OMR", "TND"] {
            assert_eq!(Currency::parse(code).map(|c| c.exponent()), Ok(3), "{code}");
        }
    }

    #[test]
    fn three_decimal_currencies_keep_thousandths_in_steps_of_ten() {
        let kwd = Currency::parse("kwd").expect("valid");
        assert_eq!(Money::parse_major("2.5", kwd).map(|m| m.minor), Ok(2500));
        assert_eq!(Money::parse_major("2.55", kwd).map(|m| m.minor), Ok(2550));
        assert_eq!(Money::parse_major("2.555", kwd), Err(MoneyError::TooPrecise), "Stripe wants the last digit 0");
        assert_eq!(Money::new(2550, kwd).display(), "2.550 KWD");
        assert_eq!(Money::new(-5, kwd).display(), "-0.005 KWD");
    }

    #[test]
    fn amounts_parse_from_what_people_type() {
        assert_eq!(Money::parse_major("5", Currency::EUR).map(|m| m.minor), Ok(500));
        assert_eq!(Money::parse_major("5.5", Currency::EUR).map(|m| m.minor), Ok(550));
        assert_eq!(Money::parse_major("5,50", Currency::EUR).map(|m| m.minor), Ok(550));
        assert_eq!(Money::parse_major("0.99", Currency::EUR).map(|m| m.minor), Ok(99));
        assert_eq!(Money::parse_major("500", Currency::JPY).map(|m| m.minor), Ok(500));
        assert_eq!(Money::parse_major("5.001", Currency::EUR), Err(MoneyError::TooPrecise));
        assert_eq!(Money::parse_major("5.5", Currency::JPY), Err(MoneyError::TooPrecise));
        assert_eq!(Money::parse_major("0", Currency::EUR), Err(MoneyError::NotPositive));
        assert_eq!(Money::parse_major("-5", Currency::EUR), Err(MoneyError::BadAmount));
        assert_eq!(Money::parse_major("1e3", Currency::EUR), Err(MoneyError::BadAmount));
        assert_eq!(Money::parse_major("100001", Currency::EUR), Err(MoneyError::TooLarge));
        assert_eq!(Money::parse_major("99999999999999999999", Currency::EUR), Err(MoneyError::TooLarge));
        assert_eq!(Money::parse_major(".", Currency::EUR), Err(MoneyError::BadAmount));
    }

    #[test]
    fn amounts_display_with_the_currencys_decimals() {
        assert_eq!(Money::new(300, Currency::EUR).display(), "€3.00");
        assert_eq!(Money::new(500, Currency::JPY).display(), "¥500");
        assert_eq!(Money::new(1205, Currency::parse("chf").expect("valid")).display(), "12.05 CHF");
        assert_eq!(Money::new(-250, Currency::USD).display(), "-$2.50");
        assert_eq!(Money::new(-250, Currency::USD).decimal(), "-2.50");
        assert_eq!(Money::new(1500, Currency::JPY).decimal(), "1500");
    }
}
