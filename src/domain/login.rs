//! One-time links (sign-in, set-password, first-admin set-up): what each is for.
//! Stored with the link's hash and checked when it is used, so a link made for
//! one purpose never works for another.
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LoginPurpose {
    /// A member's passwordless sign-in link.
    MemberSignIn,
    /// A staff invitation or password reset.
    StaffPassword,
    /// The first administrator's set-up link, printed at start-up.
    StaffSetup,
}

impl LoginPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MemberSignIn => "member_sign_in",
            Self::StaffPassword => "staff_password",
            Self::StaffSetup => "staff_setup",
        }
    }
}

impl FromStr for LoginPurpose {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "member_sign_in" => Self::MemberSignIn,
            "staff_password" => Self::StaffPassword,
            "staff_setup" => Self::StaffSetup,
            other => return Err(format!("unknown login link purpose {other:?}")),
        })
    }
}

impl fmt::Display for LoginPurpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_round_trip() {
        for p in [LoginPurpose::MemberSignIn, LoginPurpose::StaffPassword, LoginPurpose::StaffSetup] {
            assert_eq!(p.as_str().parse::<LoginPurpose>(), Ok(p));
        }
        assert!("sign_in".parse::<LoginPurpose>().is_err());
    }
}
