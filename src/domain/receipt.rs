//! Receipts and yearly giving statements: who was paid, which years a
//! statement can be asked for, and the totals per currency (never added across
//! currencies).
use super::{Currency, PaymentKind};

/// Who a receipt says was paid: the newsroom's legal name and postal address
/// (NEWSROOM_LEGAL_NAME, NEWSROOM_ADDRESS).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LegalEntity {
    pub name: String,
    /// One entry per printed line; empty when no address was configured.
    pub address: Vec<String>,
}

/// Why a year has no statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StatementYearError {
    #[error("a year is four digits, like 2025")]
    NotAYear,
    #[error("that year has not begun yet")]
    Future,
    #[error("there were no payments before then")]
    BeforeFirstPayment,
    #[error("that year is not over yet")]
    NotOver,
}

impl StatementYearError {
    pub fn message_key(self) -> &'static str {
        match self {
            Self::NotAYear => "statement-error-not-a-year",
            Self::Future => "statement-error-future",
            Self::BeforeFirstPayment => "statement-error-before-first",
            Self::NotOver => "statement-error-not-over",
        }
    }
}

/// A year a member may see a statement for: a number, not after `current`
/// (the year now, in the newsroom's zone), not before `first` (the year of
/// their first payment; with none, only the current year, which is empty).
pub fn parse_statement_year(input: &str, current: i16, first: Option<i16>) -> Result<i16, StatementYearError> {
    let input = input.trim();
    if input.len() != 4 || !input.bytes().all(|b| b.is_ascii_digit()) {
        return Err(StatementYearError::NotAYear);
    }
    let year: i16 = input.parse().map_err(|_| StatementYearError::NotAYear)?;
    if year > current {
        return Err(StatementYearError::Future);
    }
    if year < first.unwrap_or(current).min(current) {
        return Err(StatementYearError::BeforeFirstPayment);
    }
    Ok(year)
}

/// A year staff may email statements for: a number, and over (before `current`).
pub fn parse_finished_year(input: &str, current: i16) -> Result<i16, StatementYearError> {
    let input = input.trim();
    if input.len() != 4 || !input.bytes().all(|b| b.is_ascii_digit()) {
        return Err(StatementYearError::NotAYear);
    }
    let year: i16 = input.parse().map_err(|_| StatementYearError::NotAYear)?;
    if year > current {
        return Err(StatementYearError::Future);
    }
    if year == current {
        return Err(StatementYearError::NotOver);
    }
    if year < super::calendar::FIRST_YEAR {
        return Err(StatementYearError::BeforeFirstPayment);
    }
    Ok(year)
}

/// One currency's part of a statement, in minor units of that currency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CurrencyTotal {
    pub currency: Currency,
    /// Membership payments and gifts.
    pub paid_minor: i64,
    /// Refunds and disputes (negative), with their reversals (positive).
    pub returned_minor: i64,
    pub net_minor: i64,
}

/// Totals per currency of `(kind, gross, currency)` rows, in the order each
/// currency first appears.
pub fn totals_by_currency(rows: impl IntoIterator<Item = (PaymentKind, i64, Currency)>) -> Vec<CurrencyTotal> {
    let mut totals: Vec<CurrencyTotal> = Vec::new();
    for (kind, gross, currency) in rows {
        let at = match totals.iter().position(|t| t.currency == currency) {
            Some(at) => at,
            None => {
                totals.push(CurrencyTotal { currency, paid_minor: 0, returned_minor: 0, net_minor: 0 });
                totals.len() - 1
            }
        };
        let t = &mut totals[at];
        match kind {
            PaymentKind::Subscription | PaymentKind::Donation | PaymentKind::Gift => t.paid_minor += gross,
            PaymentKind::Refund | PaymentKind::RefundFailed | PaymentKind::Dispute | PaymentKind::DisputeWon => {
                t.returned_minor += gross
            }
        }
        t.net_minor += gross;
    }
    totals
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_years_are_numbers_between_the_first_payment_and_now() {
        assert_eq!(parse_statement_year("2025", 2026, Some(2024)), Ok(2025));
        assert_eq!(parse_statement_year("2026", 2026, None), Ok(2026));
        assert_eq!(parse_statement_year("2027", 2026, Some(2024)), Err(StatementYearError::Future));
        assert_eq!(parse_statement_year("2023", 2026, Some(2024)), Err(StatementYearError::BeforeFirstPayment));
        assert_eq!(parse_statement_year("2025", 2026, None), Err(StatementYearError::BeforeFirstPayment));
        for bad in ["", "twenty", "20251", "-202", "0x10", "１２３４"] {
            assert_eq!(parse_statement_year(bad, 2026, Some(2020)), Err(StatementYearError::NotAYear), "{bad:?}");
        }
        assert_eq!(parse_finished_year("2025", 2026), Ok(2025));
        assert_eq!(parse_finished_year("2026", 2026), Err(StatementYearError::NotOver));
        assert_eq!(parse_finished_year("2030", 2026), Err(StatementYearError::Future));
    }

    #[test]
    fn totals_are_kept_per_currency_with_refunds_netted() {
        let eur = Currency::EUR;
        let uah = Currency::UAH;
        let totals = totals_by_currency([
            (PaymentKind::Subscription, 600, eur),
            (PaymentKind::Donation, 10_000, uah),
            (PaymentKind::Donation, 2_500, eur),
            (PaymentKind::Refund, -600, eur),
        ]);
        assert_eq!(
            totals,
            vec![
                CurrencyTotal { currency: eur, paid_minor: 3_100, returned_minor: -600, net_minor: 2_500 },
                CurrencyTotal { currency: uah, paid_minor: 10_000, returned_minor: 0, net_minor: 10_000 },
            ]
        );
    }
}
