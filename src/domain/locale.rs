use std::fmt;
use std::str::FromStr;

/// The languages reader-facing pages and emails are translated into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Locale {
    #[default]
    En,
    Uk,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Unsupported language; choose one of: en, uk.")]
pub struct UnknownLocale;

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::En, Locale::Uk];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Uk => "uk",
        }
    }

    /// The language's own name, for the switcher.
    pub fn native_name(self) -> &'static str {
        match self {
            Self::En => "English",
            Self::Uk => "Українська",
        }
    }

    /// Picks the best supported language from an `Accept-Language` header value,
    /// honouring q-values; `None` when nothing in it is supported.
    pub fn from_accept_language(header: &str) -> Option<Self> {
        let mut best: Option<(f32, usize, Locale)> = None;
        for (index, part) in header.split(',').enumerate() {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next().unwrap_or("").trim();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("");
            let Ok(locale) = primary.parse::<Locale>() else {
                continue;
            };
            if q <= 0.0 {
                continue;
            }
            // Highest q wins; on a tie the earlier entry wins.
            if best.is_none_or(|(bq, bi, _)| q > bq || (q == bq && index < bi)) {
                best = Some((q, index, locale));
            }
        }
        best.map(|(_, _, l)| l)
    }
}

impl FromStr for Locale {
    type Err = UnknownLocale;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "en" => Ok(Self::En),
            "uk" => Ok(Self::Uk),
            _ => Err(UnknownLocale),
        }
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_prefers_highest_supported_quality() {
        assert_eq!(Locale::from_accept_language("uk-UA,uk;q=0.9,en;q=0.8"), Some(Locale::Uk));
        assert_eq!(Locale::from_accept_language("de-DE, en;q=0.5, uk;q=0.7"), Some(Locale::Uk));
        assert_eq!(Locale::from_accept_language("en-GB"), Some(Locale::En));
        assert_eq!(Locale::from_accept_language("de, fr"), None);
        assert_eq!(Locale::from_accept_language("uk;q=0, en;q=0.1"), Some(Locale::En));
        assert_eq!(Locale::from_accept_language(""), None);
    }
}
