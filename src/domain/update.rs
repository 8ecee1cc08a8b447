//! Updates to patrons ("this month your support paid for …") and the yearly
//! anniversary: what staff type, who receives it, and when a patron's
//! anniversary falls. Plain text only: paragraphs separated by a blank line,
//! every character escaped where it is shown.
use std::fmt;

use super::text::{is_invisible_format, normalise};
use super::{Locale, TierId, TopicId};

/// An update's subject line: 1–150 characters, one line, nothing invisible.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateSubject(String);

/// An update's body: 1–10,000 characters of plain text; line breaks are kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateBody(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UpdateTextError {
    #[error("Write a subject.")]
    SubjectEmpty,
    #[error("The subject can be at most 150 characters long.")]
    SubjectTooLong,
    #[error("The subject must be one line without control or invisible characters.")]
    SubjectControl,
    #[error("Write the update.")]
    BodyEmpty,
    #[error("The update can be at most 10,000 characters long.")]
    BodyTooLong,
    #[error("The update cannot contain control or invisible characters.")]
    BodyControl,
    #[error("A translation needs both a subject and a text.")]
    TranslationIncomplete,
}

impl UpdateTextError {
    pub fn message_key(self) -> &'static str {
        match self {
            Self::SubjectEmpty => "error-update-subject-empty",
            Self::SubjectTooLong => "error-update-subject-too-long",
            Self::SubjectControl => "error-update-subject-control",
            Self::BodyEmpty => "error-update-body-empty",
            Self::BodyTooLong => "error-update-body-too-long",
            Self::BodyControl => "error-update-body-control",
            Self::TranslationIncomplete => "error-update-translation-incomplete",
        }
    }
}

impl UpdateSubject {
    pub const MAX_CHARS: usize = 150;

    pub fn parse(input: &str) -> Result<Self, UpdateTextError> {
        let s = normalise(input);
        if s.is_empty() {
            return Err(UpdateTextError::SubjectEmpty);
        }
        if s.chars().count() > Self::MAX_CHARS {
            return Err(UpdateTextError::SubjectTooLong);
        }
        if s.chars().any(|c| c.is_control() || is_invisible_format(c)) {
            return Err(UpdateTextError::SubjectControl);
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl UpdateBody {
    pub const MAX_CHARS: usize = 10_000;

    pub fn parse(input: &str) -> Result<Self, UpdateTextError> {
        let s = normalise(&input.replace("\r\n", "\n"));
        if s.is_empty() {
            return Err(UpdateTextError::BodyEmpty);
        }
        if s.chars().count() > Self::MAX_CHARS {
            return Err(UpdateTextError::BodyTooLong);
        }
        if s.chars().any(|c| (c.is_control() && c != '\n' && c != '\t') || is_invisible_format(c)) {
            return Err(UpdateTextError::BodyControl);
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UpdateSubject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The text's paragraphs (separated by blank lines), each as its lines: shown
/// as `<p>` with `<br>` between lines, every piece escaped.
pub fn paragraphs(text: &str) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    let mut current: Vec<String> = Vec::new();
    for line in text.lines().map(str::trim_end) {
        if line.trim().is_empty() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
        } else {
            current.push(line.to_string());
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// An update's text in one language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateText {
    pub subject: UpdateSubject,
    pub body: UpdateBody,
}

/// What staff wrote: English, and optionally Ukrainian.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateTexts {
    pub en: UpdateText,
    pub uk: Option<UpdateText>,
}

impl UpdateTexts {
    /// Parses the form's four fields; every problem is reported, by field name
    /// (`subject_en`, `body_en`, `subject_uk`, `body_uk`).
    pub fn parse(
        subject_en: &str,
        body_en: &str,
        subject_uk: &str,
        body_uk: &str,
    ) -> Result<Self, Vec<(&'static str, UpdateTextError)>> {
        let mut errors = Vec::new();
        let subject = UpdateSubject::parse(subject_en).map_err(|e| errors.push(("subject_en", e))).ok();
        let body = UpdateBody::parse(body_en).map_err(|e| errors.push(("body_en", e))).ok();
        let uk = match (subject_uk.trim().is_empty(), body_uk.trim().is_empty()) {
            (true, true) => None,
            (false, true) => {
                errors.push(("body_uk", UpdateTextError::TranslationIncomplete));
                None
            }
            (true, false) => {
                errors.push(("subject_uk", UpdateTextError::TranslationIncomplete));
                None
            }
            (false, false) => {
                let s = UpdateSubject::parse(subject_uk).map_err(|e| errors.push(("subject_uk", e))).ok();
                let b = UpdateBody::parse(body_uk).map_err(|e| errors.push(("body_uk", e))).ok();
                s.zip(b).map(|(subject, body)| UpdateText { subject, body })
            }
        };
        match (subject, body) {
            (Some(subject), Some(body)) if errors.is_empty() => Ok(Self { en: UpdateText { subject, body }, uk }),
            _ => Err(errors),
        }
    }

    /// The text a reader of `locale` gets: their language when there is a
    /// translation, else English.
    pub fn for_locale(&self, locale: Locale) -> (Locale, &UpdateText) {
        match (locale, &self.uk) {
            (Locale::Uk, Some(uk)) => (Locale::Uk, uk),
            _ => (Locale::En, &self.en),
        }
    }
}

/// Who receives an update.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    /// Patrons now: paying (paused included), past due within the grace, or complimentary.
    Patrons,
    /// Paying patrons (or past due within the grace) of one tier.
    Tier(TierId),
    /// Members who voted for a topic in any round.
    Voters(TopicId),
    /// Every member with an address.
    Members,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AudienceError {
    #[error("Choose who receives the update.")]
    Unknown,
    #[error("Choose a tier.")]
    Tier,
    #[error("Choose a topic.")]
    Topic,
}

impl AudienceError {
    pub fn message_key(self) -> &'static str {
        match self {
            Self::Unknown => "error-update-audience",
            Self::Tier => "error-update-tier",
            Self::Topic => "error-update-topic",
        }
    }
}

impl Audience {
    /// From the form: the kind, and the tier or topic it names.
    pub fn parse(kind: &str, tier: &str, topic: &str) -> Result<Self, AudienceError> {
        match kind {
            "patrons" => Ok(Self::Patrons),
            "members" => Ok(Self::Members),
            "tier" => tier.trim().parse().map(Self::Tier).map_err(|_| AudienceError::Tier),
            "voters" => topic.trim().parse().map(Self::Voters).map_err(|_| AudienceError::Topic),
            _ => Err(AudienceError::Unknown),
        }
    }

    pub fn kind(self) -> &'static str {
        match self {
            Self::Patrons => "patrons",
            Self::Tier(_) => "tier",
            Self::Voters(_) => "voters",
            Self::Members => "members",
        }
    }

    /// As stored: (kind, tier, topic).
    pub fn stored(self) -> (&'static str, Option<TierId>, Option<TopicId>) {
        match self {
            Self::Tier(t) => (self.kind(), Some(t), None),
            Self::Voters(t) => (self.kind(), None, Some(t)),
            _ => (self.kind(), None, None),
        }
    }

    /// From storage; `None` for a row that names no tier or topic where it must.
    pub fn from_stored(kind: &str, tier: Option<TierId>, topic: Option<TopicId>) -> Option<Self> {
        match kind {
            "patrons" => Some(Self::Patrons),
            "members" => Some(Self::Members),
            "tier" => tier.map(Self::Tier),
            "voters" => topic.map(Self::Voters),
            _ => None,
        }
    }
}

/// An anniversary is emailed only this long after it fell: a job that was
/// down for longer (or a newsroom turning this on) sends no stale wishes.
pub const ANNIVERSARY_LATE: i64 = 7 * 24 * 3600 * 1_000_000;

/// i64econds since the epoch (how times are stored) as a UTC date and time.
fn to_datetime(micros: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// The `years`-th anniversary of `first_paid_at` (UTC calendar; 29 February
/// falls on 1 March in other years).
pub fn anniversary_at(first_paid_at: i64, years: i32) -> Option<i64> {
    let first = to_datetime(first_paid_at);
    let year = first.year().checked_add(years)?;
    let date = match first.date().replace_year(year) {
        Ok(date) => date,
        Err(_) => time::Date::from_calendar_date(year, time::Month::March, 1).ok()?,
    };
    let at = first.replace_date(date);
    i64::try_from(at.unix_timestamp_nanos() / 1_000).ok()
}

/// The anniversary due at `now` for a patron since `first_paid_at`: how many
/// years, when it fell no longer than [`ANNIVERSARY_LATE`] ago.
pub fn anniversary_due(first_paid_at: i64, now: i64) -> Option<i64> {
    let years = to_datetime(now).year() - to_datetime(first_paid_at).year();
    (years - 1..=years).rev().filter(|y| *y >= 1).find_map(|y| {
        let at = anniversary_at(first_paid_at, y)?;
        (at <= now && now - at <= ANNIVERSARY_LATE).then_some(i64::from(y))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> i64 {
        let dt = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).expect("a date");
        i64::try_from(dt.unix_timestamp_nanos() / 1_000).expect("fits")
    }

    #[test]
    fn subjects_are_one_line_and_bodies_keep_paragraphs() {
        assert_eq!(UpdateSubject::parse("  "), Err(UpdateTextError::SubjectEmpty));
        assert_eq!(UpdateSubject::parse("a\nb"), Err(UpdateTextError::SubjectControl));
        assert_eq!(UpdateSubject::parse(&"я".repeat(151)), Err(UpdateTextError::SubjectTooLong));
        assert_eq!(UpdateBody::parse("x\u{202E}y"), Err(UpdateTextError::BodyControl));
        let body = UpdateBody::parse("First line\r\nsecond <b>line</b>\r\n\r\n\r\nNext one ").expect("valid");
        assert_eq!(
            paragraphs(body.as_str()),
            vec![vec!["First line".to_string(), "second <b>line</b>".into()], vec!["Next one".into()]]
        );
    }

    #[test]
    fn a_translation_needs_both_fields_and_readers_get_their_language_else_english() {
        let errors = UpdateTexts::parse("", "Body", "Тема", "").expect_err("refused");
        assert_eq!(
            errors,
            vec![("subject_en", UpdateTextError::SubjectEmpty), ("body_uk", UpdateTextError::TranslationIncomplete)]
        );
        let texts = UpdateTexts::parse("Hi", "Body", "", "").expect("valid");
        assert_eq!(texts.for_locale(Locale::Uk).0, Locale::En);
        let texts = UpdateTexts::parse("Hi", "Body", "Привіт", "Текст").expect("valid");
        assert_eq!(texts.for_locale(Locale::Uk).1.subject.as_str(), "Привіт");
        assert_eq!(texts.for_locale(Locale::En).1.subject.as_str(), "Hi");
    }

    #[test]
    fn audiences_parse_from_the_form_and_round_trip_through_storage() {
        assert_eq!(Audience::parse("patrons", "", ""), Ok(Audience::Patrons));
        assert_eq!(Audience::parse("tier", "nope", ""), Err(AudienceError::Tier));
        assert_eq!(Audience::parse("voters", "", ""), Err(AudienceError::Topic));
        assert_eq!(Audience::parse("everyone", "", ""), Err(AudienceError::Unknown));
        let topic = TopicId::new();
        let a = Audience::Voters(topic);
        let (kind, tier, t) = a.stored();
        assert_eq!(Audience::from_stored(kind, tier, t), Some(a));
    }

    #[test]
    fn anniversaries_fall_on_the_date_and_are_not_sent_late() {
        let first = at("2025-03-10T12:00:00Z");
        assert_eq!(anniversary_due(first, at("2026-03-10T11:59:00Z")), None);
        assert_eq!(anniversary_due(first, at("2026-03-10T12:00:00Z")), Some(1));
        assert_eq!(anniversary_due(first, at("2026-03-16T12:00:00Z")), Some(1));
        assert_eq!(anniversary_due(first, at("2026-03-18T12:00:00Z")), None);
        assert_eq!(anniversary_due(first, at("2027-03-12T00:00:00Z")), Some(2));
        // Across new year: the anniversary of 30 December is due on 2 January.
        assert_eq!(anniversary_due(at("2025-12-30T08:00:00Z"), at("2027-01-02T08:00:00Z")), Some(1));
        // 29 February: 1 March in common years.
        let leap = at("2028-02-29T09:00:00Z");
        assert_eq!(anniversary_at(leap, 1), Some(at("2029-03-01T09:00:00Z")));
        assert_eq!(anniversary_due(leap, at("2029-02-28T23:00:00Z")), None);
    }
}
