//! Per-topic funding goals ("this investigation needs €2,000"), the name a
//! supporter is listed under, and a month's "what your support paid for" note.
use super::{Currency, Email, Money, PersonName, TopicId};
use crate::domain::text::PersonNameError;

/// The largest goal staff may set, in major units: beyond it is a typo.
pub const GOAL_MAX_MAJOR: i64 = 10_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum GoalError {
    #[error("Enter the goal as a whole amount, like 2000.")]
    NotANumber,
    #[error("The goal must be more than zero.")]
    NotPositive,
    #[error("That goal is too large.")]
    TooLarge,
    #[error("Gifts cannot be made in that currency.")]
    UnknownCurrency,
}

impl GoalError {
    pub fn message_key(self) -> &'static str {
        match self {
            Self::NotANumber => "error-goal-number",
            Self::NotPositive => "error-goal-positive",
            Self::TooLarge => "error-goal-too-large",
            Self::UnknownCurrency => "error-goal-currency",
        }
    }
}

/// What a goal asks for: a whole amount in one of the currencies gifts are made in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GoalAmount(Money);

impl GoalAmount {
    /// `amount` as staff type it (`2000`, `2 000`, `2,000`: whole major units),
    /// in `currency`, which must be one of `accepted`.
    pub fn parse(amount: &str, currency: &str, accepted: &[Currency]) -> Result<Self, GoalError> {
        let currency = Currency::parse(currency).map_err(|_| GoalError::UnknownCurrency)?;
        if !accepted.contains(&currency) {
            return Err(GoalError::UnknownCurrency);
        }
        let digits: String = amount.trim().chars().filter(|c| !matches!(c, ' ' | ',' | '_' | '\u{a0}')).collect();
        let negative = digits.starts_with('-');
        let digits = digits.trim_start_matches(['-', '+']);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(GoalError::NotANumber);
        }
        if digits.len() > 12 {
            return Err(GoalError::TooLarge);
        }
        let major: i64 = digits.parse().map_err(|_| GoalError::NotANumber)?;
        if negative || major == 0 {
            return Err(GoalError::NotPositive);
        }
        if major > GOAL_MAX_MAJOR {
            return Err(GoalError::TooLarge);
        }
        Ok(Self(Money::new(major * 10_i64.pow(currency.exponent()), currency)))
    }

    pub fn money(self) -> Money {
        self.0
    }
}

/// A topic's goal and how far gifts toward it have come.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GoalProgress {
    pub topic_id: TopicId,
    pub goal: Money,
    /// Gifts tagged with the topic in the goal's currency, less their refunds
    /// and disputes (never below zero on the page).
    pub raised_minor: i64,
    pub closed_at: Option<i64>,
    pub reached_at: Option<i64>,
}

impl GoalProgress {
    /// Whole percent of the goal raised, 0 to 100 (a goal passed shows 100).
    pub fn percent(&self) -> i64 {
        if self.goal.minor <= 0 {
            return 0;
        }
        let p = i128::from(self.raised_minor.max(0)) * 100 / i128::from(self.goal.minor);
        i64::try_from(p.min(100)).unwrap_or(100)
    }

    pub fn raised(&self) -> Money {
        Money::new(self.raised_minor.max(0), self.goal.currency)
    }

    pub fn is_reached(&self) -> bool {
        self.raised_minor >= self.goal.minor
    }

    pub fn is_open(&self) -> bool {
        self.closed_at.is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SupporterNameError {
    #[error("Choose the name to be listed under.")]
    Empty,
    #[error(transparent)]
    Name(#[from] PersonNameError),
    #[error("Choose a name, not an email address or a web address.")]
    LooksLikeAddress,
}

impl SupporterNameError {
    pub fn message_key(&self) -> &'static str {
        match self {
            Self::Empty => "error-supporter-name-empty",
            Self::Name(e) => e.message_key(),
            Self::LooksLikeAddress => "error-supporter-name-address",
        }
    }
}

/// The name (or pseudonym) a supporter chose to be listed under: a display name
/// (see [`PersonName`]) that is not an email address or a web address, so the
/// public list never carries contact details or links.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SupporterName(PersonName);

impl SupporterName {
    pub fn parse(input: &str) -> Result<Self, SupporterNameError> {
        let name = PersonName::parse_optional(input)?.ok_or(SupporterNameError::Empty)?;
        let s = name.as_str();
        let lower = s.to_lowercase();
        if s.contains('@')
            || Email::parse(s).is_ok()
            || lower.contains("://")
            || lower.starts_with("www.")
            || lower.split_whitespace().any(looks_like_domain)
        {
            return Err(SupporterNameError::LooksLikeAddress);
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

/// `example.org`, `news.example.com/path`: a word with a dot followed by two or more letters.
fn looks_like_domain(word: &str) -> bool {
    let host = word.split('/').next().unwrap_or(word);
    match host.rsplit_once('.') {
        Some((before, tld)) => !before.is_empty() && tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()),
        None => false,
    }
}

/// A month's "what your support paid for", written by staff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonthNote(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MonthNoteError {
    #[error("The note can be at most 2000 characters long.")]
    TooLong,
    #[error("The note cannot contain control characters.")]
    ControlCharacters,
}

impl MonthNote {
    pub const MAX_CHARS: usize = 2000;

    /// Trimmed; empty means "no note" (`None`). Line breaks are kept.
    pub fn parse_optional(input: &str) -> Result<Option<Self>, MonthNoteError> {
        use unicode_normalization::UnicodeNormalization;
        let s: String = input.replace("\r\n", "\n").trim().nfc().collect();
        if s.is_empty() {
            return Ok(None);
        }
        if s.chars().count() > Self::MAX_CHARS {
            return Err(MonthNoteError::TooLong);
        }
        if s.chars().any(|c| c.is_control() && c != '\n') {
            return Err(MonthNoteError::ControlCharacters);
        }
        Ok(Some(Self(s)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCEPTED: [Currency; 3] = [Currency::UAH, Currency::EUR, Currency::USD];

    #[test]
    fn goals_are_whole_positive_sane_amounts_in_an_accepted_currency() {
        let g = GoalAmount::parse("2 000", "EUR", &ACCEPTED).expect("valid");
        assert_eq!(g.money(), Money::new(200_000, Currency::EUR));
        assert_eq!(
            GoalAmount::parse("2,000", "uah", &ACCEPTED).map(GoalAmount::money),
            Ok(Money::new(200_000, Currency::UAH))
        );
        assert_eq!(GoalAmount::parse("0", "EUR", &ACCEPTED), Err(GoalError::NotPositive));
        assert_eq!(GoalAmount::parse("-5", "EUR", &ACCEPTED), Err(GoalError::NotPositive));
        assert_eq!(GoalAmount::parse("10000001", "EUR", &ACCEPTED), Err(GoalError::TooLarge));
        assert_eq!(GoalAmount::parse("99999999999999999999", "EUR", &ACCEPTED), Err(GoalError::TooLarge));
        assert_eq!(GoalAmount::parse("12.50", "EUR", &ACCEPTED), Err(GoalError::NotANumber));
        assert_eq!(GoalAmount::parse("", "EUR", &ACCEPTED), Err(GoalError::NotANumber));
        assert_eq!(GoalAmount::parse("100", "GBP", &ACCEPTED), Err(GoalError::UnknownCurrency));
        assert_eq!(GoalAmount::parse("100", "euro", &ACCEPTED), Err(GoalError::UnknownCurrency));
    }

    #[test]
    fn progress_is_capped_at_100_percent_and_never_negative() {
        let p = |raised| GoalProgress {
            topic_id: TopicId::new(),
            goal: Money::new(200_000, Currency::EUR),
            raised_minor: raised,
            closed_at: None,
            reached_at: None,
        };
        assert_eq!(p(0).percent(), 0);
        assert_eq!(p(-500).percent(), 0);
        assert_eq!(p(100_000).percent(), 50);
        assert_eq!(p(199_999).percent(), 99);
        assert!(!p(199_999).is_reached());
        assert_eq!(p(200_000).percent(), 100);
        assert_eq!(p(900_000).percent(), 100);
    }

    #[test]
    fn supporter_names_are_names_not_addresses() {
        assert_eq!(
            SupporterName::parse("  Reader from Lviv ").map(|n| n.as_str().to_string()),
            Ok("Reader from Lviv".into())
        );
        assert!(SupporterName::parse("Кіт Мурчик").is_ok());
        assert!(SupporterName::parse("J. R. R.").is_ok());
        assert_eq!(SupporterName::parse(""), Err(SupporterNameError::Empty));
        assert_eq!(SupporterName::parse("me@example.org"), Err(SupporterNameError::LooksLikeAddress));
        assert_eq!(SupporterName::parse("https://spam.test"), Err(SupporterNameError::LooksLikeAddress));
        assert_eq!(SupporterName::parse("visit casino.example"), Err(SupporterNameError::LooksLikeAddress));
        assert!(SupporterName::parse(&"x".repeat(101)).is_err());
        assert!(SupporterName::parse("a\u{200b}b").is_err());
    }
}
