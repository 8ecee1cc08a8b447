use std::fmt;

/// An e-mail address, trimmed and lower-cased so one plain UNIQUE constraint makes
/// addresses unique case-insensitively on both backends.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Email(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("Enter your email address.")]
    Empty,
    #[error("That email address is too long.")]
    TooLong,
    #[error("Enter an email address like name@example.org.")]
    Invalid,
}

impl EmailError {
    /// Translation key of the message shown next to the field.
    pub fn message_key(&self) -> &'static str {
        match self {
            Self::Empty => "error-email-empty",
            Self::TooLong => "error-email-too-long",
            Self::Invalid => "error-email-invalid",
        }
    }
}

impl Email {
    pub fn parse(input: &str) -> Result<Self, EmailError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(EmailError::Empty);
        }
        // RFC 5321 limits a path to 256 octets including the angle brackets.
        if s.len() > 254 {
            return Err(EmailError::TooLong);
        }
        let Some((local, domain)) = s.rsplit_once('@') else {
            return Err(EmailError::Invalid);
        };
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local.chars().all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if !local_ok || !domain_ok {
            return Err(EmailError::Invalid);
        }
        Ok(Self(s.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_normalises_ordinary_addresses() {
        assert_eq!(Email::parse("  Reader@Example.ORG ").map(|e| e.0), Ok("reader@example.org".into()));
        assert!(Email::parse("first.last+news@sub.example.co.uk").is_ok());
        assert!(Email::parse("читач@приклад.укр").is_ok());
    }

    #[test]
    fn rejects_malformed_addresses() {
        for bad in [
            "",
            "   ",
            "plain",
            "@example.org",
            "a@",
            "a@b",
            "a@@b.org",
            "a b@c.org",
            "a@-b.org",
            "a..b@c.org",
            "<a@b.org>",
            "a@b.org\r\nBcc: x@y.org",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert_eq!(Email::parse(""), Err(EmailError::Empty));
        assert_eq!(Email::parse("plain"), Err(EmailError::Invalid));
        assert_eq!(Email::parse(&format!("{}@example.org", "a".repeat(250))), Err(EmailError::TooLong));
    }
}
