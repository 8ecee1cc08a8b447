//! Free text that people type: names and passwords.
use std::fmt;

/// A display name: trimmed, 1–100 characters, no control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PersonNameError {
    #[error("Names can be at most 100 characters long.")]
    TooLong,
    #[error("Names cannot contain control characters.")]
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
        let s = input.trim();
        if s.is_empty() {
            return Ok(None);
        }
        if s.chars().count() > Self::MAX_CHARS {
            return Err(PersonNameError::TooLong);
        }
        if s.chars().any(char::is_control) {
            return Err(PersonNameError::ControlCharacters);
        }
        Ok(Some(Self(s.to_string())))
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
    fn passwords_need_twelve_characters_and_never_print() {
        assert_eq!(Password::parse("short").err(), Some(PasswordError::TooShort));
        let p = Password::parse("correct horse battery").expect("long enough");
        assert_eq!(format!("{p:?}"), "Password(***)");
    }
}
