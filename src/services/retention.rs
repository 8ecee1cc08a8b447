//! Keeping patrons: pausing payments instead of cancelling, the cancel survey,
//! and resuming. A change goes to the payment provider first (Stripe's API, or
//! the demo gateway), and its answer is applied to our mirror through
//! `billing::apply_subscription`, in the transaction that also stores the
//! survey's answer. With Stripe, the `customer.subscription.updated` event that
//! follows is applied like any other: re-read from Stripe, so an event
//! delivered again or late never undoes a newer state.
use super::Context;
use super::billing::{self, BillingError};
use crate::db::{self, DbError};
use crate::domain::retention::{self, Effect, Request};
use crate::domain::{
    CancelSurvey, MemberId, Pause, PauseBehavior, PauseMonths, RetentionRefusal, Subscription, SubscriptionState,
    SubscriptionStatus, TierPrice,
};
use crate::payments::Payments;
use crate::payments::stripe::{GatewayError, SubscriptionUpdate};

#[derive(Debug, thiserror::Error)]
pub enum RetentionError {
    /// No such subscription, or not the member's (a forged id).
    #[error("no such subscription")]
    NotFound,
    #[error(transparent)]
    Refused(#[from] RetentionRefusal),
    #[error("the payment provider failed: {0}")]
    Gateway(#[from] GatewayError),
    #[error(transparent)]
    Billing(#[from] BillingError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Storage(#[from] super::StorageError),
    #[error(transparent)]
    Checkout(#[from] super::checkout::CheckoutError),
}

/// What a patron asks, with what goes with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ask {
    Pause(PauseMonths),
    /// At the end of the period paid for, with the survey's answer (if any).
    Cancel(CancelSurvey),
    /// At once: the demo portal only (Stripe's own portal does this for Stripe).
    CancelNow(CancelSurvey),
    Resume,
    /// To our price with this id, which must be one of [`cheaper_prices`].
    Switch(String),
}

impl Ask {
    fn request(&self) -> Request {
        match self {
            Self::Pause(_) => Request::Pause,
            Self::Cancel(_) => Request::Cancel,
            Self::CancelNow(_) => Request::CancelNow,
            Self::Resume => Request::Resume,
            Self::Switch(_) => Request::Switch,
        }
    }
}

/// The member's subscription with our id `id`, or `NotFound` when there is no
/// such subscription or it is someone else's.
async fn owned<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    ex: E,
    member: MemberId,
    id: &str,
) -> Result<Subscription, RetentionError> {
    db::subscriptions::find(ex, id).await?.filter(|s| s.member_id == Some(member)).ok_or(RetentionError::NotFound)
}

/// Does what the member asks of their subscription `subscription_id` (our id).
#[tracing::instrument(skip_all, fields(member.id = %member))]
pub async fn change(ctx: &Context, member: MemberId, subscription_id: &str, ask: Ask) -> Result<(), RetentionError> {
    let now = ctx.clock.now();
    let sub = owned(ctx.db.read(), member, subscription_id).await?;
    let effect = retention::decide(&sub, ask.request(), now)?;
    let target = match &ask {
        Ask::Switch(price) => Some(
            cheaper_prices(ctx, &sub)
                .await?
                .into_iter()
                .map(|(_, p)| p)
                .find(|p| p.id == price.trim())
                .ok_or(RetentionRefusal::NotOnOffer)?,
        ),
        _ => None,
    };
    let state = match effect {
        Effect::Nothing => None,
        effect => Some(provider_state(ctx, &sub, effect, &ask, target.as_ref(), now).await?),
    };
    let mut tx = ctx.db.transaction().await?;
    // Decided again where it is acted on: the subscription as it is now.
    let sub = owned(&mut *tx, member, subscription_id).await?;
    if let Some(state) = &state {
        billing::apply_subscription(ctx, &mut tx, state).await?;
    }
    match &ask {
        Ask::Cancel(survey) | Ask::CancelNow(survey) => {
            db::cancel_reasons::insert_if_absent(&mut *tx, &sub.id, survey, sub.currency, now).await?;
        }
        // Not cancelled after all: the reason given no longer explains a loss.
        Ask::Resume if matches!(effect, Effect::Resume { uncancel: true, .. }) => {
            db::cancel_reasons::delete_for(&mut *tx, &sub.id).await?;
        }
        _ => {}
    }
    tx.commit().await.map_err(DbError::from)?;
    // "Your membership ended", when it did.
    ctx.mail_wakeup.notify_one();
    tracing::info!(subscription.id = %sub.id, effect = ?effect, "patron changed their subscription");
    Ok(())
}

/// The subscription as the provider has it once changed.
async fn provider_state(
    ctx: &Context,
    sub: &Subscription,
    effect: Effect,
    ask: &Ask,
    target: Option<&TierPrice>,
    now: i64,
) -> Result<SubscriptionState, RetentionError> {
    let resumes_at = match ask {
        Ask::Pause(months) => retention::pause_resumes_at(*months, now),
        _ => now,
    };
    match &ctx.payments {
        Payments::Stripe { gateway, .. } if !sub.provider_id.starts_with("demo_") => {
            let update = match effect {
                Effect::Pause => SubscriptionUpdate::Pause { resumes_at: resumes_at / 1_000_000 },
                Effect::CancelAtPeriodEnd => SubscriptionUpdate::CancelAtPeriodEnd,
                Effect::Resume { unpause, uncancel } => SubscriptionUpdate::Resume { unpause, uncancel },
                Effect::Switch => {
                    let price = target.ok_or(RetentionRefusal::NotOnOffer)?;
                    let (_, stripe_price) = super::checkout::stripe_price(ctx, gateway, price).await?;
                    return Ok(gateway.switch_price(&sub.provider_id, &stripe_price, &price.id).await?);
                }
                Effect::CancelNow => return Ok(gateway.cancel_subscription(&sub.provider_id).await?),
                Effect::Nothing => return Ok(SubscriptionState::from_mirror(sub)),
            };
            Ok(gateway.update_subscription(&sub.provider_id, update).await?)
        }
        _ => Ok(demo_state(sub, effect, target, resumes_at, now)),
    }
}

/// The demo gateway: the change made to our mirror's state, as Stripe would make it.
fn demo_state(
    sub: &Subscription,
    effect: Effect,
    target: Option<&TierPrice>,
    resumes_at: i64,
    now: i64,
) -> SubscriptionState {
    let mut state = SubscriptionState::from_mirror(sub);
    match effect {
        // The demo takes no money, so there is no period to finish at the old price.
        Effect::Switch => {
            if let Some(price) = target {
                state.price_ref = Some(price.id.clone());
                state.amount_minor = price.amount.minor;
            }
        }
        Effect::Pause => state.pause = Some(Pause { behavior: PauseBehavior::Void, resumes_at: Some(resumes_at) }),
        Effect::CancelAtPeriodEnd => {
            state.cancel_at_period_end = true;
            state.canceled_at = Some(now);
        }
        Effect::CancelNow => {
            state.status = SubscriptionStatus::Canceled;
            state.cancel_at_period_end = false;
            state.canceled_at = Some(now);
            state.ended_at = Some(now);
        }
        Effect::Resume { unpause, uncancel } => {
            if unpause {
                state.pause = None;
            }
            if uncancel {
                state.cancel_at_period_end = false;
                state.canceled_at = None;
            }
        }
        Effect::Nothing => {}
    }
    state
}

/// Stripe resumes a pause at its `resumes_at` and says so with an event; the
/// demo gateway has no one to, so this job does it for demo subscriptions.
pub async fn resume_due_demo_pauses(ctx: &Context) -> Result<usize, RetentionError> {
    if !ctx.payments.is_demo() {
        return Ok(0);
    }
    let due = db::subscriptions::list_demo_pauses_due(ctx.db.read(), ctx.clock.now()).await?;
    for sub in &due {
        let mut state = SubscriptionState::from_mirror(sub);
        state.pause = None;
        let mut tx = ctx.db.transaction().await?;
        billing::apply_subscription(ctx, &mut tx, &state).await?;
        tx.commit().await.map_err(DbError::from)?;
    }
    Ok(due.len())
}

/// Tiers a patron on `sub` could switch to and pay less: live prices of other
/// active tiers in the same currency and interval, cheaper than what they pay
/// (cheapest first). A patron switches to one on their account page.
pub async fn cheaper_prices(
    ctx: &Context,
    sub: &Subscription,
) -> Result<Vec<(crate::domain::Tier, crate::domain::TierPrice)>, super::StorageError> {
    let catalog = super::tiers::catalog(ctx).await?;
    let mut offers: Vec<_> = catalog
        .prices
        .iter()
        .filter(|p| {
            p.amount.currency == sub.currency
                && p.interval == sub.interval
                && p.amount.minor < sub.amount_minor
                && Some(p.tier_id) != sub.tier_id
        })
        .filter_map(|p| catalog.tiers.iter().find(|t| t.id == p.tier_id).map(|t| (t.clone(), p.clone())))
        .collect();
    offers.sort_by_key(|(_, p)| p.amount.minor);
    offers.dedup_by_key(|(t, _)| t.id);
    Ok(offers)
}
