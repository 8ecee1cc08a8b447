//! Billing vocabulary shared by tiers, subscriptions, the ledger and the Stripe
//! event log, and the subscription records the payment gateways and our mirror
//! of them exchange. Times are UTC microseconds since the epoch.
use std::fmt;
use std::str::FromStr;

use super::{Currency, MemberId, TierId};

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

/// What a ledger row stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PaymentKind {
    Subscription,
    Donation,
    /// A gift membership bought for someone else: one-time income, not a donation, not MRR.
    Gift,
    Refund,
    /// Reverses a refund booked as succeeded that failed (or was canceled) later.
    RefundFailed,
    Dispute,
    DisputeWon,
}

text_enum!(PaymentKind {
    Subscription => "subscription",
    Donation => "donation",
    Gift => "gift",
    Refund => "refund",
    RefundFailed => "refund_failed",
    Dispute => "dispute",
    DisputeWon => "dispute_won",
});

impl fmt::Display for PaymentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a money movement did to the balance, in the settlement currency (a
/// Stripe balance transaction): `gross = fee + net`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settled {
    pub gross_minor: i64,
    pub fee_minor: i64,
    pub net_minor: i64,
    pub currency: Currency,
}

impl Settled {
    /// Settled as charged, without a fee (no balance transaction to say otherwise).
    pub fn as_charged(gross_minor: i64, currency: Currency) -> Self {
        Self { gross_minor, fee_minor: 0, net_minor: gross_minor, currency }
    }

    /// The same movement the other way (a reversal).
    pub fn negated(self) -> Self {
        Self { gross_minor: -self.gross_minor, fee_minor: -self.fee_minor, net_minor: -self.net_minor, ..self }
    }
}

/// Where a stored Stripe event is in being applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StripeEventStatus {
    /// Stored, not applied yet (or waiting to be retried).
    Pending,
    Applied,
    /// Not something we act on (unknown type, another product's object).
    Ignored,
    /// No member could be found for it after every retry; staff should look.
    Unmatched,
    /// Applying failed after every retry.
    Failed,
    /// Signed correctly but our types cannot read it (e.g. a newer API version).
    Unreadable,
}

impl StripeEventStatus {
    /// Staff may put it back in the queue (the same list as `db::stripe_events::requeue`).
    pub fn can_retry(self) -> bool {
        matches!(self, Self::Failed | Self::Unmatched | Self::Pending)
    }
}

text_enum!(StripeEventStatus {
    Pending => "pending",
    Applied => "applied",
    Ignored => "ignored",
    Unmatched => "unmatched",
    Failed => "failed",
    Unreadable => "unreadable",
});

impl fmt::Display for StripeEventStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How invoices are treated while payment collection is paused (Stripe's
/// `pause_collection[behavior]`). We pause with `Void`: nothing is owed for
/// the paused months.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PauseBehavior {
    Void,
    KeepAsDraft,
    MarkUncollectible,
}

text_enum!(PauseBehavior {
    Void => "void",
    KeepAsDraft => "keep_as_draft",
    MarkUncollectible => "mark_uncollectible",
});

/// Payment collection paused (Stripe's `pause_collection`): the subscription
/// stays active, but no payment is taken until `resumes_at` (or until resumed
/// by hand, when there is none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pause {
    pub behavior: PauseBehavior,
    pub resumes_at: Option<i64>,
}

impl Pause {
    /// Still paused at `now` (the provider resumes it at `resumes_at`).
    pub fn holds_at(&self, now: i64) -> bool {
        self.resumes_at.is_none_or(|t| t > now)
    }
}

/// Our mirror of a subscription (Stripe's, or the demo gateway's).
#[derive(Clone, Debug)]
pub struct Subscription {
    pub id: String,
    pub provider_id: String,
    pub member_id: Option<MemberId>,
    pub customer_id: String,
    pub tier_id: Option<TierId>,
    pub price_id: Option<String>,
    pub status: SubscriptionStatus,
    pub interval: Interval,
    pub amount_minor: i64,
    pub currency: Currency,
    pub current_period_end: Option<i64>,
    pub cancel_at_period_end: bool,
    pub started_at: Option<i64>,
    pub canceled_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub past_due_since: Option<i64>,
    pub first_paid_at: Option<i64>,
    pub mrr_minor: i64,
    /// Payment collection paused, as the provider last reported it.
    pub pause: Option<Pause>,
    /// The offer its discount or trial comes from now (none once a discount ended).
    pub offer_id: Option<String>,
}

impl Subscription {
    /// The pause in force at `now`, if any.
    pub fn paused_at(&self, now: i64) -> Option<Pause> {
        self.pause.filter(|p| p.holds_at(now))
    }
}

/// A subscription as the payment provider reports it now: what a gateway
/// produces and billing applies to our mirror.
#[derive(Clone, Debug)]
pub struct SubscriptionState {
    pub provider_id: String,
    pub customer_id: String,
    /// From our metadata / `client_reference_id`, when present.
    pub member_hint: Option<MemberId>,
    /// The provider's price id of the subscription's item now (or, for demo
    /// payments, ours): after a plan change, the new plan's.
    pub price_ref: Option<String>,
    /// Our price id from the checkout's metadata, for an item whose price was made
    /// inline (pay what you want) and so is not ours by its provider id.
    pub price_hint: Option<String>,
    pub status: SubscriptionStatus,
    pub interval: Interval,
    /// Per interval, in minor units.
    pub amount_minor: i64,
    pub currency: Currency,
    pub current_period_end: Option<i64>,
    pub cancel_at_period_end: bool,
    pub started_at: Option<i64>,
    pub canceled_at: Option<i64>,
    pub ended_at: Option<i64>,
    /// Payment collection paused (no MRR while it is).
    pub pause: Option<Pause>,
    /// Where the reader came from, as the checkout carried it (unchecked: billing
    /// parses it before anything is stored).
    pub source: Option<crate::domain::RawSource>,
    /// The offer behind its discount or trial, as the provider names it.
    pub offer: Option<OfferRef>,
}

/// An offer as a provider's subscription names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfferRef {
    /// Our offer id, or the Stripe coupon made for it.
    pub reference: String,
    /// The redemption limit and end date are ours to decide here (the demo
    /// gateway); Stripe has decided its own coupon's before it reports one.
    pub enforce: bool,
}

impl SubscriptionState {
    /// Our mirror as a state to change and apply again (demo portal, local cancellation).
    pub fn from_mirror(sub: &Subscription) -> Self {
        Self {
            provider_id: sub.provider_id.clone(),
            customer_id: sub.customer_id.clone(),
            member_hint: sub.member_id,
            price_ref: sub.price_id.clone(),
            price_hint: None,
            status: sub.status,
            interval: sub.interval,
            amount_minor: sub.amount_minor,
            currency: sub.currency,
            current_period_end: sub.current_period_end,
            cancel_at_period_end: sub.cancel_at_period_end,
            started_at: sub.started_at,
            canceled_at: sub.canceled_at,
            ended_at: sub.ended_at,
            pause: sub.pause,
            source: None,
            offer: sub.offer_id.clone().map(|reference| OfferRef { reference, enforce: false }),
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
    fn payment_kinds_and_event_statuses_round_trip() {
        for k in ["subscription", "donation", "gift", "refund", "refund_failed", "dispute", "dispute_won"] {
            assert_eq!(k.parse::<PaymentKind>().map(|x| x.as_str()), Ok(k));
        }
        for s in ["pending", "applied", "ignored", "unmatched", "failed", "unreadable"] {
            assert_eq!(s.parse::<StripeEventStatus>().map(|x| x.as_str()), Ok(s));
        }
        assert!("refunded".parse::<PaymentKind>().is_err());
        assert!(StripeEventStatus::Failed.can_retry() && !StripeEventStatus::Applied.can_retry());
    }

    #[test]
    fn statuses_round_trip() {
        for s in ["incomplete", "incomplete_expired", "trialing", "active", "past_due", "canceled", "unpaid", "paused"]
        {
            assert_eq!(s.parse::<SubscriptionStatus>().map(|x| x.as_str()), Ok(s));
        }
    }
}

/// A card on file: what a charge's `payment_method_details.card`, or a
/// PaymentMethod event's `card`, says of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentCard {
    pub customer_id: String,
    pub payment_method_id: Option<String>,
    pub brand: String,
    pub last4: String,
    pub exp_month: i64,
    pub exp_year: i64,
}

impl PaymentCard {
    /// Months since year 0: one number that orders expiries.
    pub fn expires_month(&self) -> i64 {
        self.exp_year * 12 + self.exp_month - 1
    }

    /// A month and year a card can have (anything else is not a card we remind about).
    pub fn is_plausible(&self) -> bool {
        (1..=12).contains(&self.exp_month) && (2000..=2200).contains(&self.exp_year)
    }
}
