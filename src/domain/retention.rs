//! Keeping patrons: a pause instead of a cancellation, and the short survey a
//! patron who cancels may answer.
use std::str::FromStr;

use super::text::{is_invisible_format, normalise};
use super::{Subscription, SubscriptionStatus};

const DAY: i64 = 86_400_000_000;

/// How long a patron may pause their payments: one, two or three months.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PauseMonths(i64);

impl PauseMonths {
    pub const ALL: [PauseMonths; 3] = [PauseMonths(1), PauseMonths(2), PauseMonths(3)];

    /// `"1"`, `"2"` or `"3"`; anything else is not on offer.
    pub fn parse(input: &str) -> Result<Self, RetentionInputError> {
        match input.trim() {
            "1" => Ok(Self(1)),
            "2" => Ok(Self(2)),
            "3" => Ok(Self(3)),
            _ => Err(RetentionInputError::PauseLength),
        }
    }

    pub fn months(self) -> i64 {
        self.0
    }
}

/// Why a patron cancels: a short fixed list (the churn report counts each).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CancelReason {
    TooExpensive,
    NotReading,
    Coverage,
    Temporary,
    PaymentTrouble,
    Other,
}

text_enum!(CancelReason {
    TooExpensive => "too_expensive",
    NotReading => "not_reading",
    Coverage => "coverage",
    Temporary => "temporary",
    PaymentTrouble => "payment_trouble",
    Other => "other",
});

impl CancelReason {
    /// The reason's label (in `locales/`).
    pub fn label_key(self) -> String {
        format!("cancel-reason-{}", self.as_str().replace('_', "-"))
    }
}

/// What the patron wrote in their own words: trimmed, composed, at most
/// [`CancelComment::MAX_CHARS`] characters, line breaks allowed, no other
/// control or invisible characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CancelComment(String);

impl CancelComment {
    pub const MAX_CHARS: usize = 500;

    /// `Ok(None)` when nothing was written.
    pub fn parse_optional(input: &str) -> Result<Option<Self>, RetentionInputError> {
        let s = normalise(&input.replace("\r\n", "\n"));
        if s.is_empty() {
            return Ok(None);
        }
        if s.chars().count() > Self::MAX_CHARS {
            return Err(RetentionInputError::CommentTooLong);
        }
        if s.chars().any(|c| (c.is_control() && c != '\n') || is_invisible_format(c)) {
            return Err(RetentionInputError::CommentControl);
        }
        Ok(Some(Self(s)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The answers of a patron who cancels; both are optional, and words without a
/// reason chosen count as "something else".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CancelSurvey {
    pub reason: Option<CancelReason>,
    pub comment: Option<CancelComment>,
}

impl CancelSurvey {
    /// The form's `reason` (empty, or one of the list) and `comment`; each
    /// field's own error.
    pub fn parse(
        reason: &str,
        comment: &str,
    ) -> (Result<Option<CancelReason>, RetentionInputError>, Result<Option<CancelComment>, RetentionInputError>) {
        let reason = match reason.trim() {
            "" => Ok(None),
            r => CancelReason::from_str(r).map(Some).map_err(|_| RetentionInputError::UnknownReason),
        };
        (reason, CancelComment::parse_optional(comment))
    }

    pub fn new(reason: Option<CancelReason>, comment: Option<CancelComment>) -> Self {
        let reason = reason.or(comment.as_ref().map(|_| CancelReason::Other));
        Self { reason, comment }
    }

    pub fn is_empty(&self) -> bool {
        self.reason.is_none()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RetentionInputError {
    #[error("A pause lasts one, two or three months.")]
    PauseLength,
    #[error("Choose a reason from the list.")]
    UnknownReason,
    #[error("Please keep it to 500 characters.")]
    CommentTooLong,
    #[error("The text cannot contain control or invisible characters.")]
    CommentControl,
}

impl RetentionInputError {
    pub fn message_key(self) -> &'static str {
        match self {
            Self::PauseLength => "error-pause-length",
            Self::UnknownReason => "error-cancel-reason",
            Self::CommentTooLong => "error-cancel-comment-too-long",
            Self::CommentControl => "error-cancel-comment-control",
        }
    }
}

/// What a patron asks of their own subscription.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    Pause,
    /// At the end of the period paid for.
    Cancel,
    /// At once (the demo portal's stand-in for Stripe's).
    CancelNow,
    /// Undo a pause and a cancellation at the period's end.
    Resume,
    /// Pay less: another of our prices (which ones are on offer is the
    /// catalog's to say, see `services::retention::cheaper_prices`).
    Switch,
}

/// What a request comes to for the subscription as it stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    Pause,
    CancelAtPeriodEnd,
    CancelNow,
    Resume {
        unpause: bool,
        uncancel: bool,
    },
    /// The subscription's item moves to another price from the next period.
    Switch,
    /// Already so (a form sent twice): nothing to change.
    Nothing,
}

/// Why a request about a subscription is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RetentionRefusal {
    #[error("this membership has ended")]
    Ended,
    #[error("only an active membership that is not ending can be paused")]
    NotPausable,
    #[error("nothing to resume")]
    NothingToResume,
    #[error("only an active membership that is not paused or ending can change tier")]
    NotSwitchable,
    #[error("that price is not on offer for this membership")]
    NotOnOffer,
}

impl RetentionRefusal {
    pub fn message_key(self) -> &'static str {
        match self {
            Self::Ended => "error-membership-ended",
            Self::NotPausable => "error-cannot-pause",
            Self::NothingToResume => "error-nothing-to-resume",
            Self::NotSwitchable => "error-cannot-switch",
            Self::NotOnOffer => "error-switch-not-on-offer",
        }
    }
}

/// The one rule for what a patron may do with their subscription at `now`.
/// Ended means over for good, or cancelled at a period end that has passed
/// (the provider's word that it ended may still be on its way).
pub fn decide(sub: &Subscription, request: Request, now: i64) -> Result<Effect, RetentionRefusal> {
    let lapsed = sub.cancel_at_period_end && sub.current_period_end.is_some_and(|end| end <= now);
    if sub.status.is_terminal() || sub.ended_at.is_some() || lapsed {
        return Err(RetentionRefusal::Ended);
    }
    match request {
        Request::Pause => {
            if sub.status != SubscriptionStatus::Active || sub.cancel_at_period_end || sub.paused_at(now).is_some() {
                return Err(RetentionRefusal::NotPausable);
            }
            Ok(Effect::Pause)
        }
        Request::Switch => {
            if sub.status != SubscriptionStatus::Active || sub.cancel_at_period_end || sub.paused_at(now).is_some() {
                return Err(RetentionRefusal::NotSwitchable);
            }
            Ok(Effect::Switch)
        }
        Request::Cancel if sub.cancel_at_period_end => Ok(Effect::Nothing),
        Request::Cancel => Ok(Effect::CancelAtPeriodEnd),
        Request::CancelNow => Ok(Effect::CancelNow),
        Request::Resume => {
            let (unpause, uncancel) = (sub.pause.is_some(), sub.cancel_at_period_end);
            if !unpause && !uncancel {
                return Err(RetentionRefusal::NothingToResume);
            }
            Ok(Effect::Resume { unpause, uncancel })
        }
    }
}

/// When a pause of `months` asked for at `now` ends: that many 30-day months
/// on, so that many monthly payments are skipped (invoices due meanwhile are
/// voided) and the next one is taken as usual.
pub fn pause_resumes_at(months: PauseMonths, now: i64) -> i64 {
    now + months.months() * 30 * DAY
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_last_one_to_three_months() {
        assert_eq!(PauseMonths::parse("2").map(PauseMonths::months), Ok(2));
        for bad in ["0", "4", "", "1.5", "-1", "12"] {
            assert_eq!(PauseMonths::parse(bad), Err(RetentionInputError::PauseLength), "{bad:?}");
        }
    }

    #[test]
    fn survey_answers_are_parsed_at_the_edge() {
        let (r, c) = CancelSurvey::parse("too_expensive", "  Money is tight.  ");
        assert_eq!(r, Ok(Some(CancelReason::TooExpensive)));
        assert_eq!(c.map(|c| c.map(|c| c.as_str().to_string())), Ok(Some("Money is tight.".to_string())));
        assert_eq!(CancelSurvey::parse("bored", "").0, Err(RetentionInputError::UnknownReason));
        assert_eq!(CancelSurvey::parse("", &"x".repeat(501)).1, Err(RetentionInputError::CommentTooLong));
        assert!(CancelSurvey::parse("", &"x".repeat(500)).1.is_ok());
        assert_eq!(CancelSurvey::parse("", "a\u{202E}b").1, Err(RetentionInputError::CommentControl));
        assert!(CancelSurvey::parse("", "line one\r\nline two").1.is_ok());
        // Words without a reason count as "something else"; nothing at all is no answer.
        let words = CancelComment::parse_optional("why not").ok().flatten();
        assert_eq!(CancelSurvey::new(None, words).reason, Some(CancelReason::Other));
        assert!(CancelSurvey::new(None, None).is_empty());
        for r in CancelReason::ALL {
            assert_eq!(r.as_str().parse::<CancelReason>(), Ok(*r));
        }
    }

    fn sub(status: SubscriptionStatus) -> Subscription {
        Subscription {
            id: "s".into(),
            provider_id: "sub_1".into(),
            member_id: None,
            customer_id: "cus_1".into(),
            tier_id: None,
            price_id: None,
            status,
            interval: crate::domain::Interval::Month,
            amount_minor: 600,
            currency: crate::domain::Currency::EUR,
            current_period_end: Some(100 * DAY),
            cancel_at_period_end: false,
            started_at: Some(0),
            canceled_at: None,
            ended_at: None,
            past_due_since: None,
            first_paid_at: Some(0),
            mrr_minor: 600,
            pause: None,
        }
    }

    #[test]
    fn what_a_patron_may_do_with_their_subscription() {
        use crate::domain::{Pause, PauseBehavior};
        let now = 10 * DAY;
        let active = sub(SubscriptionStatus::Active);
        assert_eq!(decide(&active, Request::Pause, now), Ok(Effect::Pause));
        assert_eq!(decide(&active, Request::Cancel, now), Ok(Effect::CancelAtPeriodEnd));
        assert_eq!(decide(&active, Request::Resume, now), Err(RetentionRefusal::NothingToResume));
        let mut paused = active.clone();
        paused.pause = Some(Pause { behavior: PauseBehavior::Void, resumes_at: Some(40 * DAY) });
        assert_eq!(decide(&paused, Request::Pause, now), Err(RetentionRefusal::NotPausable));
        assert_eq!(decide(&active, Request::Switch, now), Ok(Effect::Switch));
        assert_eq!(decide(&paused, Request::Switch, now), Err(RetentionRefusal::NotSwitchable));
        assert_eq!(decide(&paused, Request::Resume, now), Ok(Effect::Resume { unpause: true, uncancel: false }));
        let mut ending = active.clone();
        ending.cancel_at_period_end = true;
        assert_eq!(decide(&ending, Request::Cancel, now), Ok(Effect::Nothing));
        assert_eq!(decide(&ending, Request::Pause, now), Err(RetentionRefusal::NotPausable));
        assert_eq!(decide(&ending, Request::Switch, now), Err(RetentionRefusal::NotSwitchable));
        assert_eq!(decide(&ending, Request::Resume, now), Ok(Effect::Resume { unpause: false, uncancel: true }));
        // Its period ended: lapsed, whether or not the provider has said so yet.
        assert_eq!(decide(&ending, Request::Resume, 100 * DAY), Err(RetentionRefusal::Ended));
        let ended = sub(SubscriptionStatus::Canceled);
        assert_eq!(decide(&ended, Request::Resume, now), Err(RetentionRefusal::Ended));
        assert_eq!(decide(&sub(SubscriptionStatus::PastDue), Request::Pause, now), Err(RetentionRefusal::NotPausable));
        assert_eq!(pause_resumes_at(PauseMonths::ALL[1], now), now + 60 * DAY);
    }
}
