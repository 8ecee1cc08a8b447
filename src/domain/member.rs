//! Members: readers with an account, and where they stand.
use std::fmt;
use std::str::FromStr;

use super::{Email, Locale, MemberId};

/// A reader's membership record. Times are UTC microseconds since the epoch.
#[derive(Clone, Debug)]
pub struct Member {
    pub id: MemberId,
    /// `None` once the member deleted their account.
    pub email: Option<Email>,
    pub name: Option<String>,
    /// A pseudonym shown instead of the name outside staff pages.
    pub public_name: Option<String>,
    pub locale: Locale,
    /// Complimentary patron status granted by staff lasts until then.
    pub comped_until: Option<i64>,
    pub created_at: i64,
    pub last_sign_in_at: Option<i64>,
    pub deleted_at: Option<i64>,
}

/// Where a member stands. Derived from subscriptions once payments exist; until
/// then every member is `Free`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberStatus {
    Free,
    Patron,
    PastDue,
    Lapsed,
    Comped,
}

impl MemberStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Free => "free",
            Self::Patron => "patron",
            Self::PastDue => "past_due",
            Self::Lapsed => "lapsed",
            Self::Comped => "comped",
        }
    }
}

impl FromStr for MemberStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "free" => Self::Free,
            "patron" => Self::Patron,
            "past_due" => Self::PastDue,
            "lapsed" => Self::Lapsed,
            "comped" => Self::Comped,
            other => return Err(format!("unknown member status {other:?}")),
        })
    }
}

impl fmt::Display for MemberStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
