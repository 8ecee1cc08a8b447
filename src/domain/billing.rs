//! Billing vocabulary shared by tiers, subscriptions and the ledger.
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Interval {
    Month,
    Year,
}

impl Interval {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Month => "month",
            Self::Year => "year",
        }
    }

    /// Normalises an amount per interval to a monthly amount (yearly ÷ 12, rounded
    /// to the nearest minor unit), for MRR.
    pub fn monthly(self, amount_minor: i64) -> i64 {
        match self {
            Self::Month => amount_minor,
            Self::Year => (amount_minor + 6).div_euclid(12),
        }
    }
}

impl FromStr for Interval {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "month" => Ok(Self::Month),
            "year" => Ok(Self::Year),
            other => Err(format!("unknown interval {other:?}")),
        }
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Stripe's subscription statuses, mirrored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SubscriptionStatus {
    Incomplete,
    IncompleteExpired,
    Trialing,
    Active,
    PastDue,
    Canceled,
    Unpaid,
    Paused,
}

impl SubscriptionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Incomplete => "incomplete",
            Self::IncompleteExpired => "incomplete_expired",
            Self::Trialing => "trialing",
            Self::Active => "active",
            Self::PastDue => "past_due",
            Self::Canceled => "canceled",
            Self::Unpaid => "unpaid",
            Self::Paused => "paused",
        }
    }

    /// Counts towards recurring revenue (trials do not: nothing is paid yet).
    pub fn counts_for_mrr(self) -> bool {
        matches!(self, Self::Active | Self::PastDue)
    }

    /// Ended for good: a later stale event must not bring it back.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Canceled | Self::IncompleteExpired)
    }
}

impl FromStr for SubscriptionStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "incomplete" => Self::Incomplete,
            "incomplete_expired" => Self::IncompleteExpired,
            "trialing" => Self::Trialing,
            "active" => Self::Active,
            "past_due" => Self::PastDue,
            "canceled" => Self::Canceled,
            "unpaid" => Self::Unpaid,
            "paused" => Self::Paused,
            other => return Err(format!("unknown subscription status {other:?}")),
        })
    }
}

/// What a change in a member's recurring revenue was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MrrMovementKind {
    New,
    Expansion,
    Contraction,
    Churn,
    Reactivation,
}

impl MrrMovementKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Expansion => "expansion",
            Self::Contraction => "contraction",
            Self::Churn => "churn",
            Self::Reactivation => "reactivation",
        }
    }

    /// Classifies a change from `before` to `after` monthly revenue; `ever_paid`
    /// says whether the member had recurring revenue at some earlier time.
    pub fn classify(before: i64, after: i64, ever_paid: bool) -> Option<Self> {
        match (before, after) {
            (b, a) if b == a => None,
            (0, _) if ever_paid => Some(Self::Reactivation),
            (0, _) => Some(Self::New),
            (_, 0) => Some(Self::Churn),
            (b, a) if a > b => Some(Self::Expansion),
            _ => Some(Self::Contraction),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yearly_amounts_normalise_to_months() {
        assert_eq!(Interval::Year.monthly(3600), 300);
        assert_eq!(Interval::Year.monthly(1000), 83);
        assert_eq!(Interval::Month.monthly(500), 500);
    }

    #[test]
    fn mrr_changes_are_classified() {
        use MrrMovementKind::*;
        assert_eq!(MrrMovementKind::classify(0, 500, false), Some(New));
        assert_eq!(MrrMovementKind::classify(0, 500, true), Some(Reactivation));
        assert_eq!(MrrMovementKind::classify(500, 1000, true), Some(Expansion));
        assert_eq!(MrrMovementKind::classify(1000, 500, true), Some(Contraction));
        assert_eq!(MrrMovementKind::classify(500, 0, true), Some(Churn));
        assert_eq!(MrrMovementKind::classify(500, 500, true), None);
    }

    #[test]
    fn statuses_round_trip() {
        for s in ["incomplete", "incomplete_expired", "trialing", "active", "past_due", "canceled", "unpaid", "paused"]
        {
            assert_eq!(s.parse::<SubscriptionStatus>().map(|x| x.as_str()), Ok(s));
        }
    }
}
