//! Numbers and money as the reader's language writes them: "€1,234.50" in
//! English, "1 234,50 €" in Ukrainian. Digits, grouping and the decimal
//! separator come from CLDR through ICU4X (`icu_decimal`, data compiled in);
//! where the currency sign goes is CLDR's currency pattern for each language we
//! ship (sign first in English, after a space in Ukrainian).
use icu_decimal::DecimalFormatter;
use icu_decimal::input::Decimal;
use icu_locale_core::locale;

use crate::domain::{Locale, Money};

thread_local! {
    // Per thread: ICU4X's formatters are not shareable between threads (their
    // data is reference-counted); with compiled data they cost little to make.
    static EN: DecimalFormatter = new_formatter(locale!("en"));
    static UK: DecimalFormatter = new_formatter(locale!("uk"));
}

fn new_formatter(tag: icu_locale_core::Locale) -> DecimalFormatter {
    // Compiled-in data for a locale we name ourselves: cannot fail.
    DecimalFormatter::try_new(tag.into(), Default::default()).expect("CLDR decimal data is compiled in")
}

/// `minor` units of a currency with `exponent` decimals, as `locale` writes it.
fn decimal(locale: Locale, minor: i64, exponent: u32) -> String {
    let mut d = Decimal::from(minor);
    d.multiply_pow10(-(exponent as i16));
    d.pad_end(-(exponent as i16));
    let format = |f: &DecimalFormatter| f.format(&d).to_string();
    match locale {
        Locale::En => EN.with(format),
        Locale::Uk => UK.with(format),
    }
}

/// A whole number, grouped as `locale` groups digits.
pub fn number(locale: Locale, n: i64) -> String {
    decimal(locale, n, 0)
}

/// Money with its sign (or code), as `locale` writes it.
pub fn money(locale: Locale, amount: Money) -> String {
    let digits = decimal(locale, amount.minor, amount.currency.exponent());
    let sign = amount.currency.symbol();
    match (locale, sign) {
        (Locale::En, Some(sign)) => match digits.strip_prefix('-') {
            Some(abs) => format!("-{sign}{abs}"),
            None => format!("{sign}{digits}"),
        },
        (Locale::En, None) => format!("{digits} {}", amount.currency.code()),
        // Ukrainian: the sign (or code) after the number, with a no-break space.
        (Locale::Uk, sign) => format!("{digits}\u{a0}{}", sign.map_or_else(|| amount.currency.code(), str::to_string)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Currency;

    #[test]
    fn money_is_written_as_each_language_writes_it() {
        let eur = Money::new(300, Currency::EUR);
        assert_eq!(money(Locale::En, eur), "€3.00");
        assert_eq!(money(Locale::Uk, eur), "3,00\u{a0}€");
        let uah = Money::new(12_345_600, Currency::UAH);
        assert_eq!(money(Locale::En, uah), "₴123,456.00");
        assert_eq!(money(Locale::Uk, uah).replace('\u{a0}', " "), "123 456,00 ₴");
        assert_eq!(money(Locale::En, Money::new(500, Currency::JPY)), "¥500");
        assert_eq!(money(Locale::En, Money::new(2500, Currency::parse("kwd").expect("kwd"))), "2.500 KWD");
        assert_eq!(money(Locale::En, Money::new(-250, Currency::EUR)), "-€2.50");
        assert_eq!(number(Locale::Uk, 12345).replace('\u{a0}', " "), "12 345");
    }
}
