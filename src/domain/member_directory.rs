//! The staff members directory: what staff search, filter and sort members by,
//! where a page of the list starts (keyset paging), and the rule that turns a
//! member's stored standing into their status at a given time.
use std::str::FromStr;

use time::Date;

use super::{Currency, Interval, MemberId, MemberStatus};

/// What the list is ordered by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberSort {
    /// When the account was created.
    Joined,
    /// Name (folded), members without a name last (by email).
    Name,
    Email,
    /// Monthly recurring revenue of the member's subscription, in its own currency.
    Mrr,
}

text_enum!(MemberSort {
    Joined => "joined",
    Name => "name",
    Email => "email",
    Mrr => "mrr",
});

impl MemberSort {
    /// Whether the sort value is a number (else text).
    pub fn is_numeric(self) -> bool {
        matches!(self, Self::Joined | Self::Mrr)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortDirection {
    Asc,
    Desc,
}

text_enum!(SortDirection {
    Asc => "asc",
    Desc => "desc",
});

/// A range of days, both ends included; either end may be open.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DayRange {
    pub from: Option<Date>,
    pub to: Option<Date>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("The first day comes after the last.")]
pub struct InvertedRange;

impl DayRange {
    pub fn new(from: Option<Date>, to: Option<Date>) -> Result<Self, InvertedRange> {
        match (from, to) {
            (Some(f), Some(t)) if f > t => Err(InvertedRange),
            _ => Ok(Self { from, to }),
        }
    }

    pub fn is_open(&self) -> bool {
        self.from.is_none() && self.to.is_none()
    }
}

/// Which members the list shows. Every field narrows it; `Default` shows everyone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemberFilter {
    /// Folded words ([`super::text::fold`]); each must appear in the email, the
    /// name or the public name, taken literally (no wildcards).
    pub words: Vec<String>,
    pub status: Option<MemberStatus>,
    /// A tier by its short name (slug).
    pub tier: Option<String>,
    pub interval: Option<Interval>,
    pub currency: Option<Currency>,
    /// When the account was created.
    pub joined: DayRange,
    /// When the member lapsed (only lapsed members have such a day).
    pub lapsed: DayRange,
}

/// A staff note about a member: trimmed, composed (NFC), line ends as `\n`,
/// 1–4,000 characters, no control or invisible characters but line breaks and tabs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteText(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteTextError {
    #[error("Write something: the note is empty.")]
    Empty,
    #[error("A note can be at most 4,000 characters long.")]
    TooLong,
    #[error("Remove the control or invisible characters.")]
    ControlCharacters,
}

impl NoteText {
    pub const MAX_CHARS: usize = 4000;

    pub fn parse(input: &str) -> Result<Self, NoteTextError> {
        let s = super::text::normalise(&input.replace("\r\n", "\n"));
        if s.is_empty() {
            return Err(NoteTextError::Empty);
        }
        if s.chars().count() > Self::MAX_CHARS {
            return Err(NoteTextError::TooLong);
        }
        if s.chars().any(|c| (c.is_control() && c != '\n' && c != '\t') || super::text::is_invisible_format(c)) {
            return Err(NoteTextError::ControlCharacters);
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The sort value of a row, as the keyset compares it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SortValue {
    Int(i64),
    Text(String),
}

/// Where a page starts (or ends): the sort value and id of the row next to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub value: SortValue,
    pub id: MemberId,
}

impl Cursor {
    /// `<value>~<id>`: a member id never contains `~`, so the last one separates.
    pub fn encode(&self) -> String {
        match &self.value {
            SortValue::Int(n) => format!("{n}~{}", self.id),
            SortValue::Text(t) => format!("{t}~{}", self.id),
        }
    }

    /// Reads a cursor made by [`Cursor::encode`] for `sort`; `None` if it is not one.
    pub fn decode(sort: MemberSort, input: &str) -> Option<Self> {
        let (value, id) = input.rsplit_once('~')?;
        let id = MemberId::from_str(id).ok()?;
        let value = if sort.is_numeric() { SortValue::Int(value.parse().ok()?) } else { SortValue::Text(value.into()) };
        Some(Self { value, id })
    }
}

/// What the database keeps about where a member stands (migration 0009: kept
/// from the subscription `standing_from` looks at, by triggers), from which the
/// status at any time follows. Mirrors `services::billing::standing_from`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoredStanding {
    /// 0 active or trialing, 1 past due, 2 ended after a cleared payment, 3 none.
    pub rank: i64,
    pub comped_until: Option<i64>,
    pub past_due_since: Option<i64>,
    pub ended_at: Option<i64>,
}

impl StoredStanding {
    pub fn status(&self, now: i64, grace: i64) -> MemberStatus {
        if self.comped_until.is_some_and(|until| until > now) {
            return MemberStatus::Comped;
        }
        match self.rank {
            0 => MemberStatus::Patron,
            1 if self.past_due_since.is_some_and(|t| now - t < grace) => MemberStatus::PastDue,
            1 | 2 => MemberStatus::Lapsed,
            _ => MemberStatus::Free,
        }
    }

    /// When a lapsed member lapsed: their subscription ended, or the grace after
    /// a failed renewal ran out.
    pub fn lapsed_at(&self, now: i64, grace: i64) -> Option<i64> {
        if self.status(now, grace) != MemberStatus::Lapsed {
            return None;
        }
        match self.rank {
            1 => self.past_due_since.map(|t| t + grace),
            _ => self.ended_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let id = MemberId::new();
        let c = Cursor { value: SortValue::Text("0olena~x".into()), id };
        assert_eq!(Cursor::decode(MemberSort::Name, &c.encode()), Some(c));
        let n = Cursor { value: SortValue::Int(-5), id };
        assert_eq!(Cursor::decode(MemberSort::Mrr, &n.encode()), Some(n));
        assert_eq!(Cursor::decode(MemberSort::Joined, &format!("abc~{id}")), None);
        assert_eq!(Cursor::decode(MemberSort::Joined, "12~not-an-id"), None);
        assert_eq!(Cursor::decode(MemberSort::Joined, "12"), None);
    }

    #[test]
    fn stored_standing_gives_the_status_at_a_time() {
        let grace = 14;
        let s = |rank, comped_until, past_due_since| StoredStanding {
            rank,
            comped_until,
            past_due_since,
            ended_at: Some(7),
        };
        assert_eq!(s(0, None, None).status(100, grace), MemberStatus::Patron);
        assert_eq!(s(3, Some(101), None).status(100, grace), MemberStatus::Comped);
        assert_eq!(s(3, Some(100), None).status(100, grace), MemberStatus::Free);
        assert_eq!(s(1, None, Some(90)).status(100, grace), MemberStatus::PastDue);
        assert_eq!(s(1, None, Some(86)).status(100, grace), MemberStatus::Lapsed);
        assert_eq!(s(1, None, Some(86)).lapsed_at(100, grace), Some(100));
        assert_eq!(s(2, None, None).lapsed_at(100, grace), Some(7));
        assert_eq!(s(0, None, None).lapsed_at(100, grace), None);
    }

    #[test]
    fn notes_are_bounded_and_printable() {
        assert_eq!(NoteText::parse("  \r\n "), Err(NoteTextError::Empty));
        assert_eq!(NoteText::parse(&"x".repeat(4001)), Err(NoteTextError::TooLong));
        assert_eq!(NoteText::parse("a\u{7}"), Err(NoteTextError::ControlCharacters));
        assert_eq!(NoteText::parse("a\u{202E}b"), Err(NoteTextError::ControlCharacters));
        assert_eq!(NoteText::parse(" Called;\r\nwill renew\t ").map(|n| n.0), Ok("Called;\nwill renew".into()));
    }

    #[test]
    fn an_inverted_day_range_is_refused() {
        let d = |day| Date::from_calendar_date(2026, time::Month::March, day).expect("a date");
        assert!(DayRange::new(Some(d(2)), Some(d(1))).is_err());
        assert!(DayRange::new(Some(d(1)), Some(d(1))).is_ok());
        assert!(DayRange::new(None, Some(d(1))).is_ok());
    }
}

/// One member as the list shows them.
#[derive(Clone, Debug)]
pub struct DirectoryRow {
    pub id: MemberId,
    pub email: Option<String>,
    pub name: Option<String>,
    pub public_name: Option<String>,
    pub created_at: i64,
    pub last_sign_in_at: Option<i64>,
    pub standing: StoredStanding,
    pub tier_name: Option<String>,
    pub interval: Option<Interval>,
    pub currency: Option<Currency>,
    pub mrr_minor: i64,
    /// The value the list is sorted by, for the next page's cursor.
    pub sort_value: SortValue,
}
