//! Free text that people type: names and passwords, and the rules every text
//! typed by a person follows (normal form, no invisible characters).
use std::fmt;

use unicode_normalization::UnicodeNormalization;

/// Text as people type it, in one form: trimmed and composed (NFC), so the same
/// name typed on two keyboards is stored, compared and sorted as one.
pub fn normalise(input: &str) -> String {
    input.trim().nfc().collect()
}

/// Text folded for search and for sorting by name: lower case, compatibility
/// decomposed (NFKD), combining marks removed. "Ólena", "OLENA" and "olena" fold
/// alike, and so do "Йосип" and "иосип"; `ﬁ` becomes `fi`.
pub fn fold(input: &str) -> String {
    let lower: String = input.chars().flat_map(char::to_lowercase).collect();
    lower.nfkd().filter(|c| !unicode_normalization::char::is_combining_mark(*c)).collect()
}

/// Characters that change how a text reads without being seen: bidirectional
/// overrides and isolates, zero-width characters, invisible operators, tags.
pub fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{E0000}'..='\u{E007F}'
    )
}

/// A display name: trimmed, composed (NFC), 1–100 characters, no control or
/// invisible characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PersonNameError {
    #[error("Names can be at most 100 characters long.")]
    TooLong,
    #[error("Names cannot contain control or invisible characters.")]
    ControlCharacters,
}

impl PersonNameError {
    pub fn message_key(&self) -> &'static str {
        match self {
            Self::TooLong => "error-name-too-long",
            Self::ControlCharacters => "error-name-control",
        }
    }
}

impl PersonName {
    pub const MAX_CHARS: usize = 100;

    /// `Ok(None)` for an empty (optional) name.
    pub fn parse_optional(input: &str) -> Result<Option<Self>, PersonNameError> {
        let s = normalise(input);
        if s.is_empty() {
            return Ok(None);
        }
        if s.chars().count() > Self::MAX_CHARS {
            return Err(PersonNameError::TooLong);
        }
        if s.chars().any(|c| c.is_control() || is_invisible_format(c)) {
            return Err(PersonNameError::ControlCharacters);
        }
        Ok(Some(Self(s)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A new staff password. Never printed: `Debug` hides it.
#[derive(Clone)]
pub struct Password(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("Use at least 12 characters.")]
    TooShort,
    #[error("Use at most 256 characters.")]
    TooLong,
}

impl Password {
    pub fn parse(input: &str) -> Result<Self, PasswordError> {
        let n = input.chars().count();
        if n < 12 {
            return Err(PasswordError::TooShort);
        }
        if n > 256 {
            return Err(PasswordError::TooLong);
        }
        Ok(Self(input.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_optional_bounded_and_printable() {
        assert_eq!(PersonName::parse_optional("  "), Ok(None));
        assert_eq!(PersonName::parse_optional(" Olena ").map(|n| n.map(|n| n.0)), Ok(Some("Olena".into())));
        assert_eq!(PersonName::parse_optional(&"я".repeat(101)), Err(PersonNameError::TooLong));
        assert_eq!(PersonName::parse_optional("a\u{7}b"), Err(PersonNameError::ControlCharacters));
    }

    #[test]
    fn names_are_composed_and_may_not_hide_characters() {
        // "Олена" with a combining breve typed apart (NFD) is stored composed.
        let decomposed = "\u{418}\u{306}\u{440}\u{430}";
        let name = PersonName::parse_optional(decomposed).expect("valid").expect("present");
        assert_eq!(name.as_str(), "\u{419}\u{440}\u{430}");
        for hidden in ["Ann\u{202E}a", "Bo\u{200B}b", "Eve\u{2066}", "Tag\u{E0041}"] {
            assert_eq!(PersonName::parse_optional(hidden), Err(PersonNameError::ControlCharacters), "{hidden:?}");
        }
    }

    #[test]
    fn folding_ignores_case_accents_and_compatibility_forms() {
        assert_eq!(fold("Ólena KOVALENKO"), "olena kovalenko");
        assert_eq!(fold("Zoë Ümlaut-Straße"), "zoe umlaut-straße");
        assert_eq!(fold("ЙОСИП Їжак"), "иосип іжак");
        assert_eq!(fold("\u{FB01}le"), "file");
        // The Turkish dotted capital I lower-cases to i plus a combining dot: folded to "i".
        assert_eq!(fold("İstanbul"), "istanbul");
        assert_eq!(fold("100% _x_ 'q'"), "100% _x_ 'q'");
    }

    #[test]
    fn passwords_need_twelve_characters_and_never_print() {
        assert_eq!(Password::parse("short").err(), Some(PasswordError::TooShort));
        let p = Password::parse("correct horse battery").expect("long enough");
        assert_eq!(format!("{p:?}"), "Password(***)");
    }
}
