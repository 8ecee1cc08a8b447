//! Topics readers suggest and vote on, and the rules of voting.
use std::fmt;
use std::str::FromStr;

use super::{MemberId, TopicId};

/// Where a topic is in its life: `suggested → open → planned → covered`, or
/// `declined` / `merged` (into another topic).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TopicStatus {
    Suggested,
    Open,
    Planned,
    Covered,
    Declined,
    Merged,
}

impl TopicStatus {
    pub const ALL: [TopicStatus; 6] =
        [Self::Suggested, Self::Open, Self::Planned, Self::Covered, Self::Declined, Self::Merged];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Suggested => "suggested",
            Self::Open => "open",
            Self::Planned => "planned",
            Self::Covered => "covered",
            Self::Declined => "declined",
            Self::Merged => "merged",
        }
    }

    /// The moves editors may make; everything else is refused.
    pub fn can_become(self, next: TopicStatus) -> bool {
        use TopicStatus::*;
        matches!(
            (self, next),
            (Suggested, Open | Declined | Merged)
                | (Open, Planned | Covered | Declined | Merged)
                | (Planned, Covered | Open | Declined)
                | (Covered, Covered)
        )
    }

    /// Shown to readers (suggestions waiting for moderation and merged topics are not).
    pub fn is_public(self) -> bool {
        !matches!(self, Self::Suggested | Self::Merged)
    }
}

impl FromStr for TopicStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|t| t.as_str() == s).ok_or_else(|| format!("unknown topic status {s:?}"))
    }
}

impl fmt::Display for TopicStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("This cannot be empty.")]
    Empty,
    #[error("This is too long.")]
    TooLong { max: usize },
    #[error("This contains control characters.")]
    ControlCharacters,
    #[error("Use a web address starting with http:// or https://.")]
    NotAWebAddress,
}

impl TextError {
    pub fn message_key(self) -> &'static str {
        match self {
            Self::Empty => "error-text-empty",
            Self::TooLong { .. } => "error-text-too-long",
            Self::ControlCharacters => "error-text-control",
            Self::NotAWebAddress => "error-web-address",
        }
    }
}

/// Text people type into topic forms: trimmed, bounded, printable. Line breaks
/// and tabs are allowed only where `multiline`. HTML is kept as typed and
/// escaped wherever it is shown.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TopicText(String);

impl TopicText {
    pub const TITLE_MAX: usize = 120;
    pub const DESCRIPTION_MAX: usize = 2000;
    pub const NOTE_MAX: usize = 500;

    pub fn parse(input: &str, max: usize, required: bool, multiline: bool) -> Result<Option<Self>, TextError> {
        let s = super::text::normalise(input);
        if s.is_empty() {
            return if required { Err(TextError::Empty) } else { Ok(None) };
        }
        if s.chars().count() > max {
            return Err(TextError::TooLong { max });
        }
        let allowed = |c: char| multiline && matches!(c, '\n' | '\r' | '\t');
        if s.chars().any(|c| (c.is_control() && !allowed(c)) || super::text::is_invisible_format(c)) {
            return Err(TextError::ControlCharacters);
        }
        Ok(Some(Self(s.replace("\r\n", "\n"))))
    }

    pub fn title(input: &str) -> Result<Self, TextError> {
        Self::parse(input, Self::TITLE_MAX, true, false).map(|t| t.unwrap_or_default())
    }

    pub fn description(input: &str) -> Result<Option<Self>, TextError> {
        Self::parse(input, Self::DESCRIPTION_MAX, false, true)
    }

    pub fn note(input: &str) -> Result<Option<Self>, TextError> {
        Self::parse(input, Self::NOTE_MAX, false, true)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A published article: where it is, and its headline (staff enter it when they
/// mark a topic covered; older articles have none, and show their address).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Article {
    pub url: String,
    pub headline: Option<String>,
}

/// A link to a web page: absolute http(s) only, so `javascript:` and `data:`
/// links can never reach a page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArticleUrl(String);

impl ArticleUrl {
    pub const MAX: usize = 2000;

    pub fn parse(input: &str) -> Result<Self, TextError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(TextError::Empty);
        }
        if s.len() > Self::MAX {
            return Err(TextError::TooLong { max: Self::MAX });
        }
        let url = url::Url::parse(s).map_err(|_| TextError::NotAWebAddress)?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
            return Err(TextError::NotAWebAddress);
        }
        Ok(Self(url.to_string()))
    }

    pub fn parse_optional(input: &str) -> Result<Option<Self>, TextError> {
        if input.trim().is_empty() { Ok(None) } else { Self::parse(input).map(Some) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Who may vote.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Eligibility {
    /// Patrons (and comped members) whose first payment has cleared.
    #[default]
    Patrons,
    /// Every signed-in member.
    Members,
}

/// How much a vote weighs, fixed at the time of voting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum WeightMode {
    #[default]
    Equal,
    /// The vote weight of the member's tier.
    Tier,
    /// Months as a paying patron, from 1 up to a cap.
    Tenure,
}

text_enum!(Eligibility { Patrons => "patrons", Members => "members" });
text_enum!(WeightMode { Equal => "equal", Tier => "tier", Tenure => "tenure" });

/// The newsroom's voting rules (stored in `settings`, edited by editors).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VotingSettings {
    pub eligibility: Eligibility,
    pub weight: WeightMode,
    /// The most a vote can weigh by tenure, in months.
    pub tenure_cap_months: i64,
}

impl Default for VotingSettings {
    fn default() -> Self {
        Self { eligibility: Eligibility::Patrons, weight: WeightMode::Equal, tenure_cap_months: 12 }
    }
}

impl VotingSettings {
    pub const TENURE_CAP_MAX: i64 = 120;

    /// The weight of a vote cast now: `tier_weight` of the member's tier (if a
    /// patron), `paying_months` since their first cleared payment.
    pub fn weight_of(&self, tier_weight: Option<i64>, paying_months: Option<i64>) -> i64 {
        match self.weight {
            WeightMode::Equal => 1,
            WeightMode::Tier => tier_weight.unwrap_or(1).clamp(1, 100),
            WeightMode::Tenure => paying_months.unwrap_or(0).clamp(1, self.tenure_cap_months.max(1)),
        }
    }
}

/// A topic as readers and staff see it (times are Unix microseconds, UTC).
#[derive(Clone, Debug)]
pub struct Topic {
    pub id: TopicId,
    pub title: String,
    pub description: String,
    pub link: Option<String>,
    pub status: TopicStatus,
    pub suggested_by: Option<MemberId>,
    pub merged_into: Option<TopicId>,
    pub public_note: Option<String>,
    pub expected_at: Option<i64>,
    pub covered_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// The suggester's public name (pseudonym), if they chose one.
    pub suggester_public_name: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_required_bounded_and_printable() {
        assert_eq!(TopicText::title("  "), Err(TextError::Empty));
        assert_eq!(TopicText::title(&"x".repeat(121)), Err(TextError::TooLong { max: 120 }));
        assert!(TopicText::title(&"я".repeat(120)).is_ok());
        assert_eq!(TopicText::title("a\nb"), Err(TextError::ControlCharacters));
        assert_eq!(TopicText::title("a\u{202E}b"), Err(TextError::ControlCharacters));
        assert_eq!(TopicText::title(" <b>Rents</b> ").map(TopicText::into_string), Ok("<b>Rents</b>".into()));
    }

    #[test]
    fn descriptions_keep_line_breaks_but_not_other_controls() {
        assert_eq!(TopicText::description("a\r\nb").map(|d| d.map(TopicText::into_string)), Ok(Some("a\nb".into())));
        assert_eq!(TopicText::description("a\u{0}b"), Err(TextError::ControlCharacters));
        assert_eq!(TopicText::description(""), Ok(None));
    }

    #[test]
    fn only_web_addresses_are_links() {
        assert!(ArticleUrl::parse("https://news.example/story?id=1").is_ok());
        assert!(ArticleUrl::parse("http://example.org").is_ok());
        for bad in ["javascript:alert(1)", "JAVASCRIPT:alert(1)", "data:text/html,x", "ftp://x.org", "//x.org", "x.org"]
        {
            assert_eq!(ArticleUrl::parse(bad), Err(TextError::NotAWebAddress), "{bad}");
        }
    }

    #[test]
    fn status_moves_follow_the_lifecycle() {
        use TopicStatus::*;
        assert!(Suggested.can_become(Open));
        assert!(Open.can_become(Planned));
        assert!(Planned.can_become(Covered));
        assert!(!Declined.can_become(Open));
        assert!(!Merged.can_become(Open));
        assert!(!Suggested.can_become(Covered));
        for s in TopicStatus::ALL {
            assert_eq!(s.as_str().parse::<TopicStatus>(), Ok(s));
        }
    }

    #[test]
    fn weights_follow_the_setting() {
        let mut s = VotingSettings::default();
        assert_eq!(s.weight_of(Some(5), Some(30)), 1);
        s.weight = WeightMode::Tier;
        assert_eq!(s.weight_of(Some(5), Some(30)), 5);
        assert_eq!(s.weight_of(None, None), 1);
        s.weight = WeightMode::Tenure;
        assert_eq!(s.weight_of(Some(5), Some(30)), 12);
        assert_eq!(s.weight_of(Some(5), Some(0)), 1);
        assert_eq!(s.weight_of(None, None), 1);
    }
}
