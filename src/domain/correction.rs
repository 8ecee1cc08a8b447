//! Corrections and clarifications readers suggest from an article: what they
//! send (the article's address on one of the newsroom's own sites, the text they
//! quote, their note) and where staff take it (`new → accepted | rejected | fixed`).
use std::fmt;
use std::str::FromStr;

use super::text::{is_invisible_format, normalise};
use super::{CorrectionId, Locale};

/// A reader's suggestion as stored, with what staff made of it. Times are UTC
/// microseconds since the epoch.
#[derive(Clone, Debug)]
pub struct Correction {
    pub id: CorrectionId,
    pub article_url: String,
    pub quote: String,
    pub note: String,
    /// Only for the one reply when it is resolved.
    pub email: Option<String>,
    /// The reader's language, for that reply.
    pub locale: Locale,
    pub status: CorrectionStatus,
    pub internal_note: String,
    pub public_reply: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// The first time it left `new`.
    pub resolved_at: Option<i64>,
    pub resolved_by_email: Option<String>,
}

/// Which suggestions the staff queue shows: `None` is every status / article.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CorrectionFilter {
    pub status: Option<CorrectionStatus>,
    pub article_url: Option<String>,
}

/// Where a suggestion is in the staff queue. Staff may move it between any two
/// statuses (a mistaken click is undone the same way); leaving `new` the first
/// time resolves it, and the reader who left an address hears about it then, once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum CorrectionStatus {
    #[default]
    New,
    Accepted,
    Rejected,
    Fixed,
}

text_enum!(CorrectionStatus { New => "new", Accepted => "accepted", Rejected => "rejected", Fixed => "fixed" });

impl CorrectionStatus {
    /// A status that answers the reader (every one but `new`).
    pub fn is_resolution(self) -> bool {
        !matches!(self, Self::New)
    }
}

impl fmt::Display for CorrectionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a suggestion (or a staff answer) cannot be taken as sent. Each has a
/// message in the reader's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CorrectionError {
    #[error("The article's address is missing.")]
    UrlMissing,
    #[error("The article's address is not a web address.")]
    NotAWebAddress,
    #[error("The article's address is not on the newsroom's own site.")]
    NotNewsroomSite,
    #[error("The quoted text can be at most 1,000 characters long.")]
    QuoteTooLong,
    #[error("Please say what is wrong or unclear.")]
    NoteEmpty,
    #[error("The note can be at most 2,000 characters long.")]
    NoteTooLong,
    #[error("The note contains control or invisible characters.")]
    NoteControl,
    #[error("This text can be at most 2,000 characters long.")]
    StaffTextTooLong,
    #[error("This text contains control or invisible characters.")]
    StaffTextControl,
}

impl CorrectionError {
    pub fn message_key(self) -> &'static str {
        match self {
            Self::UrlMissing => "correction-error-url-missing",
            Self::NotAWebAddress => "correction-error-url-invalid",
            Self::NotNewsroomSite => "correction-error-url-foreign",
            Self::QuoteTooLong => "correction-error-quote-too-long",
            Self::NoteEmpty => "correction-error-note-empty",
            Self::NoteTooLong => "correction-error-note-too-long",
            Self::NoteControl => "correction-error-note-control",
            Self::StaffTextTooLong => "correction-error-staff-text-too-long",
            Self::StaffTextControl => "correction-error-staff-text-control",
        }
    }
}

/// The address of an article on one of the newsroom's own sites: absolute
/// http(s), at most 2,000 bytes, without its `#fragment` (one article, one
/// address, so the queue groups its suggestions).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArticleAddress(String);

impl ArticleAddress {
    pub const MAX_BYTES: usize = 2000;

    /// `origins` are the newsroom's sites (`scheme://host[:port]`); an address on
    /// any other origin is refused.
    pub fn parse(input: &str, origins: &[String]) -> Result<Self, CorrectionError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(CorrectionError::UrlMissing);
        }
        if s.len() > Self::MAX_BYTES {
            return Err(CorrectionError::NotAWebAddress);
        }
        let mut url = url::Url::parse(s).map_err(|_| CorrectionError::NotAWebAddress)?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
            return Err(CorrectionError::NotAWebAddress);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(CorrectionError::NotAWebAddress);
        }
        let origin = url.origin();
        let ours = origins.iter().filter_map(|o| url::Url::parse(o).ok()).any(|o| o.origin() == origin);
        if !ours {
            return Err(CorrectionError::NotNewsroomSite);
        }
        url.set_fragment(None);
        let text = url.to_string();
        if text.len() > Self::MAX_BYTES {
            return Err(CorrectionError::NotAWebAddress);
        }
        Ok(Self(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The text a reader selected in the article: what the page gave the browser,
/// so characters a reader cannot see (soft hyphens, zero-width spaces, other
/// control characters) are dropped rather than refused; tabs become spaces and
/// line breaks stay. At most 1,000 characters; may be empty (the reader followed
/// the link without selecting anything).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Quote(String);

impl Quote {
    pub const MAX_CHARS: usize = 1000;

    pub fn parse(input: &str) -> Result<Self, CorrectionError> {
        let cleaned: String = normalise(&input.replace("\r\n", "\n"))
            .chars()
            .filter_map(|c| match c {
                '\n' => Some('\n'),
                '\t' | '\r' => Some(' '),
                c if c.is_control() || is_invisible_format(c) => None,
                c => Some(c),
            })
            .collect();
        let cleaned = cleaned.trim().to_string();
        if cleaned.chars().count() > Self::MAX_CHARS {
            return Err(CorrectionError::QuoteTooLong);
        }
        Ok(Self(cleaned))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Text a person typed (the reader's note, staff's internal note and public
/// reply): trimmed, composed, line breaks allowed, no other control or invisible
/// characters. HTML is kept as typed and escaped wherever it is shown: a reader
/// may well quote `<b>` or `a < b` from the article they correct.
fn typed(input: &str, max: usize) -> Result<String, (bool, bool)> {
    let s = normalise(&input.replace("\r\n", "\n"));
    if s.chars().count() > max {
        return Err((true, false));
    }
    if s.chars().any(|c| (c.is_control() && !matches!(c, '\n' | '\t')) || is_invisible_format(c)) {
        return Err((false, true));
    }
    Ok(s)
}

/// What the reader says is wrong or unclear: required, at most 2,000 characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorrectionNote(String);

impl CorrectionNote {
    pub const MAX_CHARS: usize = 2000;

    pub fn parse(input: &str) -> Result<Self, CorrectionError> {
        match typed(input, Self::MAX_CHARS) {
            Ok(s) if s.is_empty() => Err(CorrectionError::NoteEmpty),
            Ok(s) => Ok(Self(s)),
            Err((true, _)) => Err(CorrectionError::NoteTooLong),
            Err(_) => Err(CorrectionError::NoteControl),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Staff's internal note or public reply: optional (empty), at most 2,000 characters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StaffAnswer(String);

impl StaffAnswer {
    pub const MAX_CHARS: usize = 2000;

    pub fn parse(input: &str) -> Result<Self, CorrectionError> {
        match typed(input, Self::MAX_CHARS) {
            Ok(s) => Ok(Self(s)),
            Err((true, _)) => Err(CorrectionError::StaffTextTooLong),
            Err(_) => Err(CorrectionError::StaffTextControl),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sites() -> Vec<String> {
        vec!["https://news.example".into(), "http://127.0.0.1:8081".into()]
    }

    #[test]
    fn articles_must_be_on_the_newsrooms_own_sites() {
        let a = ArticleAddress::parse(" https://news.example/2026/tram?page=2#comments ", &sites()).expect("ours");
        assert_eq!(a.as_str(), "https://news.example/2026/tram?page=2");
        assert!(ArticleAddress::parse("HTTPS://NEWS.example:443/x", &sites()).is_ok());
        assert!(ArticleAddress::parse("http://127.0.0.1:8081/a", &sites()).is_ok());
        for (input, error) in [
            ("", CorrectionError::UrlMissing),
            ("news.example/x", CorrectionError::NotAWebAddress),
            ("javascript:alert(1)", CorrectionError::NotAWebAddress),
            ("https://user:pw@news.example/x", CorrectionError::NotAWebAddress),
            ("https://evil.example/x", CorrectionError::NotNewsroomSite),
            ("http://news.example/x", CorrectionError::NotNewsroomSite),
            ("https://news.example.evil.example/x", CorrectionError::NotNewsroomSite),
            ("http://127.0.0.1:8082/a", CorrectionError::NotNewsroomSite),
        ] {
            assert_eq!(ArticleAddress::parse(input, &sites()), Err(error), "{input}");
        }
        assert_eq!(ArticleAddress::parse("https://news.example/x", &[]), Err(CorrectionError::NotNewsroomSite));
        let long = format!("https://news.example/{}", "a".repeat(2000));
        assert_eq!(ArticleAddress::parse(&long, &sites()), Err(CorrectionError::NotAWebAddress));
    }

    #[test]
    fn quotes_drop_what_a_reader_cannot_see_and_are_bounded() {
        let q = Quote::parse("  The tram\u{00AD}way\u{200B} opened\tin\r\n1911. ").expect("fine");
        assert_eq!(q.as_str(), "The tramway opened in\n1911.");
        assert_eq!(Quote::parse("").expect("may be empty").as_str(), "");
        assert!(Quote::parse(&"я".repeat(1000)).is_ok());
        assert_eq!(Quote::parse(&"я".repeat(1001)), Err(CorrectionError::QuoteTooLong));
    }

    #[test]
    fn notes_are_required_bounded_and_printable_but_may_contain_html() {
        assert_eq!(CorrectionNote::parse("  "), Err(CorrectionError::NoteEmpty));
        assert_eq!(CorrectionNote::parse(&"x".repeat(2001)), Err(CorrectionError::NoteTooLong));
        assert_eq!(CorrectionNote::parse("a\u{202E}b"), Err(CorrectionError::NoteControl));
        let html = CorrectionNote::parse("<b>1911</b>, not 1912\r\nsee a < b").expect("kept as typed");
        assert_eq!(html.as_str(), "<b>1911</b>, not 1912\nsee a < b");
        assert_eq!(StaffAnswer::parse("").expect("optional").as_str(), "");
        assert_eq!(StaffAnswer::parse(&"x".repeat(2001)), Err(CorrectionError::StaffTextTooLong));
    }

    #[test]
    fn statuses_round_trip_and_only_new_is_unresolved() {
        for s in CorrectionStatus::ALL {
            assert_eq!(s.as_str().parse::<CorrectionStatus>(), Ok(*s));
            assert_eq!(s.is_resolution(), *s != CorrectionStatus::New);
        }
    }
}
