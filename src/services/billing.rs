//! Billing: applying what the payment provider reports (subscriptions, payments)
//! to our records — the same code for Stripe and for demo payments — and deriving
//! each member's standing from it. Every function runs inside the caller's
//! transaction, so a subscription change, its ledger row and its MRR movement are
//! stored together or not at all.
use super::{Context, patron_mail};
use crate::clock::Micros;
use crate::db::giving_reports::NewTierChange;
use crate::db::payments::{NewMrrMovement, NewPayment, PaymentRow};
use crate::db::{self, Change, DbError, Tx};
use crate::domain::{
    DunningStep, Member, MemberId, MemberStatus, MrrMovementKind, PaymentKind, Settled, Subscription,
    SubscriptionState, SubscriptionStatus, Tier,
};

#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Mail(#[from] super::outbox::OutboxError),
    /// The demo gateway's checkout named an offer that closed meanwhile.
    #[error(transparent)]
    Offer(#[from] crate::domain::OfferRefusal),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    /// Our records now match the provider's.
    Applied { member_id: MemberId },
    /// Not one of our prices: another product on the same account.
    NotOurs,
    /// No member can be found for it (yet).
    Unmatched,
}

/// Brings our mirror of a subscription in line with `state`, recording the MRR
/// movement the change implies. Idempotent: applying the same state twice
/// changes nothing the second time.
pub async fn apply_subscription(
    ctx: &Context,
    tx: &mut Tx,
    state: &SubscriptionState,
) -> Result<Applied, BillingError> {
    // Applied one at a time per subscription, on any instance: two events for a
    // new subscription must not both see it absent and both record it as new.
    db::subscriptions::lock_provider_id(tx, ctx.db.backend(), &state.provider_id).await?;
    let now = ctx.clock.now();
    // The item's price as it is now (a plan change in the portal switches it); an
    // inline price stands for the one of ours the checkout's metadata names.
    let mut price = None;
    for candidate in [state.price_ref.as_deref(), state.price_hint.as_deref()].into_iter().flatten() {
        price = db::tiers::find_price(&mut **tx, candidate).await?;
        if price.is_some() {
            break;
        }
    }
    let Some(price) = price else { return Ok(Applied::NotOurs) };
    let by_customer = db::members::find_by_customer_id(&mut **tx, &state.customer_id).await?;
    let member_id = match (by_customer, state.member_hint) {
        (Some(m), _) => m,
        (None, Some(hint)) if db::members::find_by_id(&mut **tx, hint).await?.is_some() => {
            db::members::link_customer(&mut **tx, hint, &state.customer_id).await?;
            hint
        }
        _ => return Ok(Applied::Unmatched),
    };
    let existing = db::subscriptions::find_by_provider_id(&mut **tx, &state.provider_id).await?;
    let mut status = state.status;
    // A stale report never brings an ended subscription back.
    if let Some(old) = &existing
        && old.status.is_terminal()
        && !status.is_terminal()
    {
        status = old.status;
    }
    // A paused subscription contributes nothing while paused: pausing is churn and
    // resuming a reactivation, as `MrrMovementKind::classify` books any drop to 0
    // and return (see the README's "Pause instead of cancel").
    let offer = match &state.offer {
        Some(r) => db::offers::find_by_reference(&mut **tx, &r.reference).await?,
        None => None,
    };
    // Only a discount for ever lowers recurring revenue; a trial counts nothing
    // until its first payment (trialing does not count), as the README says.
    let amount = crate::domain::Money::new(state.amount_minor, state.currency);
    let recurring = state.amount_minor - offer.as_ref().map_or(0, |o| o.recurring_off(amount));
    let paying = status.counts_for_mrr() && state.pause.is_none();
    let mrr_after = if paying { state.interval.monthly(recurring) } else { 0 };
    let mrr_before = existing.as_ref().map_or(0, |s| s.mrr_minor);
    let sub_id = existing.as_ref().map_or_else(|| uuid::Uuid::now_v7().to_string(), |s| s.id.clone());
    if let (Some(o), Some(r)) = (&offer, &state.offer)
        && r.enforce
        && db::offers::redeemed_by(&mut **tx, &sub_id).await?.is_none()
    {
        // Decided here, with the offer held: two last redemptions, one wins.
        db::offers::lock(tx, ctx.db.backend(), &o.id).await?;
        o.check_open(now, db::offers::redemption_count(&mut **tx, &o.id).await?)?;
    }
    let past_due_since = match status {
        SubscriptionStatus::PastDue => Some(existing.as_ref().and_then(|s| s.past_due_since).unwrap_or(now)),
        _ => None,
    };
    let row = Subscription {
        id: sub_id,
        provider_id: state.provider_id.clone(),
        member_id: Some(member_id),
        customer_id: state.customer_id.clone(),
        tier_id: Some(price.tier_id),
        price_id: Some(price.id.clone()),
        status,
        interval: state.interval,
        amount_minor: state.amount_minor,
        currency: state.currency,
        current_period_end: state.current_period_end,
        cancel_at_period_end: state.cancel_at_period_end,
        started_at: state.started_at,
        canceled_at: state.canceled_at,
        ended_at: state.ended_at,
        past_due_since,
        first_paid_at: existing.as_ref().and_then(|s| s.first_paid_at),
        mrr_minor: mrr_after,
        pause: state.pause,
        offer_id: offer.as_ref().map(|o| o.id.clone()),
    };
    let ever_paid = db::subscriptions::member_ever_had_mrr(&mut **tx, member_id).await?;
    db::subscriptions::upsert(&mut **tx, &row, now).await?;
    if let Some(o) = &offer {
        db::offers::insert_redemption(&mut **tx, &o.id, member_id, &row.id, state.currency, now).await?;
    }
    // Where its checkout came from (kept from the first state that says).
    if let Some(source) = super::sources::store(ctx, tx, state.source.as_ref()).await? {
        db::sources::set_subscription_source(&mut **tx, &state.provider_id, &source).await?;
    }
    tx.changed(Change::Standing(member_id));
    // Into or out of past due: the dunning report's record (MRR at stake: before a loss, after a failure).
    if let Some(step) = DunningStep::between(existing.as_ref().map(|s| s.status), status) {
        let at_stake = mrr_before.max(mrr_after);
        db::reports::insert_dunning_event(&mut **tx, &row.id, member_id, step, at_stake, state.currency, now).await?;
    }
    // A plan change of a live subscription: the tiers report's upgrades and downgrades.
    if let Some(old) = existing.as_ref().filter(|old| !old.status.is_terminal() && !status.is_terminal())
        && (old.tier_id, old.interval) != (row.tier_id, row.interval)
    {
        let change = NewTierChange {
            subscription_id: row.id.clone(),
            member_id: Some(member_id.to_string()),
            from: (old.tier_id, old.interval),
            to: (row.tier_id, row.interval),
            currency: state.currency,
            mrr_before_minor: old.interval.monthly(old.amount_minor),
            mrr_after_minor: row.interval.monthly(row.amount_minor),
            occurred_at: now,
        };
        db::giving_reports::insert_tier_change(&mut **tx, &change).await?;
    }
    if let Some(kind) = MrrMovementKind::classify(mrr_before, mrr_after, ever_paid) {
        let movement = NewMrrMovement {
            subscription_id: row.id.clone(),
            member_id: Some(member_id),
            kind,
            delta_minor: mrr_after - mrr_before,
            mrr_after_minor: mrr_after,
            currency: state.currency,
            // Ended after failed payments (Stripe gave up retrying), not cancelled.
            involuntary: kind == MrrMovementKind::Churn
                && (status == SubscriptionStatus::Unpaid
                    || existing.as_ref().is_some_and(|s| s.status == SubscriptionStatus::PastDue)),
            // A churn belongs to the month the subscription ended, not to the one its
            // event was applied in (a delivery retried for days, a late `stripe sync`).
            occurred_at: match state.ended_at {
                Some(ended) if kind == MrrMovementKind::Churn && ended <= now => ended,
                _ => now,
            },
        };
        db::payments::insert_mrr_movement(&mut **tx, &movement, now).await?;
        tx.changed(Change::Giving);
        tracing::info!(member.id = %member_id, mrr.kind = kind.as_str(), mrr.delta = movement.delta_minor, "MRR movement");
    }
    // The mail the change causes, in this transaction (once per event, by key).
    let was_live = existing.as_ref().is_some_and(|s| !s.status.is_terminal());
    let was_paid = existing.as_ref().is_some_and(|s| s.first_paid_at.is_some()) || mrr_before > 0;
    if status == SubscriptionStatus::Active && !ever_paid {
        let tier = db::tiers::find(&mut **tx, price.tier_id).await?;
        patron_mail::welcome(ctx, tx, member_id, tier, state.started_at.unwrap_or(now)).await?;
    } else if status.is_terminal() && was_live && was_paid {
        let others = db::subscriptions::list_for_member(&mut **tx, member_id).await?;
        let still_patron =
            others.iter().any(|s| s.id != row.id && !s.status.is_terminal() && s.status.counts_for_mrr());
        if !still_patron {
            let tier = db::tiers::find(&mut **tx, price.tier_id).await?;
            let ended_at = state.ended_at.or(state.canceled_at).unwrap_or(now);
            patron_mail::ended(ctx, tx, member_id, &row.id, tier, ended_at).await?;
        }
    }
    Ok(Applied::Applied { member_id })
}

/// The ledger's description of a gift whose donor did not name themselves on
/// the form: [`record_payment`] turns it into "Donation from <name>" when the
/// gift came from a known member, or "Anonymous donation" when not.
pub const DONATION: &str = "Donation";

/// Names the donor of a gift in its ledger description, from the member it
/// came from (both gateways pass the member who gave, when known).
async fn describe_donation(tx: &mut Tx, payment: &mut NewPayment) -> Result<(), DbError> {
    if payment.kind != PaymentKind::Donation || payment.description.as_deref().is_some_and(|d| d != DONATION) {
        return Ok(());
    }
    let member = match payment.member_id {
        Some(id) => db::members::find_by_id(&mut **tx, id).await?,
        None => None,
    };
    payment.description = Some(match member {
        Some(m) => match m.name.or(m.public_name) {
            Some(name) => format!("Donation from {name}"),
            None => "Donation from a member".to_string(),
        },
        None => "Anonymous donation".to_string(),
    });
    Ok(())
}

/// Records a ledger row once (true the first time). A paid subscription invoice
/// also marks the subscription's first cleared payment.
pub async fn record_payment(
    ctx: &Context,
    tx: &mut Tx,
    payment: &NewPayment,
    subscription_provider_id: Option<&str>,
) -> Result<bool, BillingError> {
    let now = ctx.clock.now();
    let mut payment = payment.clone();
    let mut membership = None;
    if let Some(sub) = subscription_provider_id
        && let Some(row) = db::subscriptions::find_by_provider_id(&mut **tx, sub).await?
    {
        let tier = match row.tier_id {
            Some(id) => db::tiers::find(&mut **tx, id).await?,
            None => None,
        };
        membership = Some((tier, row.interval));
        payment.subscription_id = Some(row.id.clone());
        payment.member_id = payment.member_id.or(row.member_id);
        if payment.source_id.is_none() {
            payment.source_id = db::sources::of_subscription(&mut **tx, sub).await?;
        }
        if payment.kind == PaymentKind::Subscription && payment.gross_minor > 0 {
            if db::subscriptions::mark_first_paid(&mut **tx, sub, payment.occurred_at).await? {
                // A new patron, counted where the subscription's checkout came from.
                let one = db::sources::SourceAmounts { new_patrons: 1, ..Default::default() };
                let (source, kind, currency) = (payment.source_id.as_deref(), payment.kind, payment.currency);
                db::sources::add_to_month(tx, source, kind, currency, payment.occurred_at, one).await?;
            }
            if let Some(member) = row.member_id {
                tx.changed(Change::Standing(member));
            }
        }
    }
    describe_donation(tx, &mut payment).await?;
    let recorded = db::payments::insert(&mut **tx, &payment, now).await?;
    if recorded {
        // Patron counts, income and a goal's progress on the public pages.
        tx.changed(Change::Giving);
        if let Some(topic) = payment.topic_id {
            super::goals::check_reached(ctx, tx, topic).await.map_err(|e| match e {
                super::goals::GoalServiceError::Outbox(e) => BillingError::Mail(e),
                super::goals::GoalServiceError::Db(e) => BillingError::Db(e),
                other => BillingError::Db(DbError::other(other.to_string())),
            })?;
        }
    }
    if recorded && let Some(member) = payment.member_id {
        // Their payment history changed.
        tx.changed(Change::Standing(member));
        let amount = crate::domain::Money::new(payment.gross_minor, payment.currency);
        let membership = membership.filter(|_| payment.kind == PaymentKind::Subscription);
        patron_mail::receipt(
            ctx,
            tx,
            member,
            payment.kind,
            &payment.provider_id,
            amount,
            payment.occurred_at,
            membership,
        )
        .await?;
    }
    Ok(recorded)
}

/// A complimentary membership staff grant: until when (`None`: no end) and why.
#[derive(Clone, Debug)]
pub struct CompGrant {
    pub until: Option<Micros>,
    pub reason: crate::domain::CompReason,
}

/// Grants the member complimentary patron status (`Some`) or ends it (`None`),
/// with its audit entry, in one transaction. False when no member has this id.
pub async fn comp(
    ctx: &Context,
    actor: &super::audit::Actor,
    member: MemberId,
    grant: Option<&CompGrant>,
) -> Result<bool, BillingError> {
    let mut tx = ctx.db.transaction().await?;
    if db::members::find_by_id(&mut *tx, member).await?.filter(|m| m.deleted_at.is_none()).is_none() {
        return Ok(false);
    }
    let until = grant.map(|g| g.until.unwrap_or(crate::domain::COMP_NO_END));
    db::members::set_comp(&mut *tx, member, until, grant.map(|g| g.reason.as_str())).await?;
    tx.changed(Change::Member(member));
    let detail = match grant {
        None => "ended".to_string(),
        Some(CompGrant { until: None, reason }) => format!("no end: {}", reason.as_str()),
        Some(CompGrant { until: Some(u), reason }) => format!("{}: {}", crate::clock::format_utc(*u), reason.as_str()),
    };
    super::audit::record(ctx, &mut tx, actor, "member.comp", Some(member.to_string()), Some(detail)).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(true)
}

/// [`comp`] for the member with this address (false when there is none).
pub async fn comp_by_email(
    ctx: &Context,
    actor: &super::audit::Actor,
    email: &crate::domain::Email,
    grant: Option<&CompGrant>,
) -> Result<bool, BillingError> {
    match db::members::find_by_email(ctx.db.read(), email).await? {
        Some(member) => comp(ctx, actor, member.id, grant).await,
        None => Ok(false),
    }
}

/// A ledger row for money that moved through the demo gateway (or the demo data),
/// with a simulated card fee on money coming in.
#[allow(clippy::too_many_arguments)]
pub fn simulated_payment(
    fees: &crate::domain::CardFees,
    kind: PaymentKind,
    provider_id: String,
    member_id: Option<MemberId>,
    subscription_id: Option<String>,
    amount: crate::domain::Money,
    charge_id: Option<String>,
    description: &str,
    at: Micros,
) -> NewPayment {
    let fee = fees.fee(amount);
    NewPayment {
        kind,
        provider_id,
        member_id,
        subscription_id,
        gross_minor: amount.minor,
        currency: amount.currency,
        settled: Settled {
            gross_minor: amount.minor,
            fee_minor: fee,
            net_minor: amount.minor - fee,
            currency: amount.currency,
        },
        charge_id,
        description: Some(description.to_string()),
        occurred_at: at,
        source_id: None,
        topic_id: None,
    }
}

/// Where a member stands, for pages and for voting rights.
#[derive(Clone, Debug)]
pub struct Standing {
    pub status: MemberStatus,
    /// Patron-level access now (patron, within the past-due grace, or comped).
    pub has_access: bool,
    pub tier: Option<Tier>,
    pub subscription: Option<Subscription>,
    pub comped_until: Option<Micros>,
    /// The patron paused their payments (and with them their patron access)
    /// until the pause's `resumes_at`.
    pub pause: Option<crate::domain::Pause>,
}

/// Derives the member's status from their subscriptions (and any comp).
pub async fn standing(ctx: &Context, member_id: MemberId) -> Result<Standing, BillingError> {
    let comped_until = db::members::comped_until(ctx.db.read(), member_id).await?;
    standing_given(ctx, member_id, comped_until).await
}

/// The billing part of a member's account page.
#[derive(Clone, Debug)]
pub struct AccountBilling {
    pub standing: Standing,
    /// Newest first, at most [`ACCOUNT_PAYMENTS`], from the page's cursor.
    pub payments: Vec<PaymentRow>,
    /// The cursor of the next (older) page, when there is one.
    pub older: Option<String>,
}

/// How many of their payments the account page lists at a time.
pub const ACCOUNT_PAYMENTS: i64 = 20;

/// Where the member stands and a page of what they paid (newest first, older
/// than `cursor`, as [`AccountBilling::older`] gave it), for their account page.
/// A cursor that cannot be read starts at the newest.
pub async fn account_billing(
    ctx: &Context,
    member: &Member,
    cursor: Option<&str>,
) -> Result<AccountBilling, BillingError> {
    let standing = standing_of(ctx, member).await?;
    let before = cursor.and_then(|c| c.split_once('.')).and_then(|(at, id)| Some((at.parse::<Micros>().ok()?, id)));
    let mut payments = ctx
        .db
        .read_hot(async |conn| db::payments::list_for_member(conn, member.id, before, ACCOUNT_PAYMENTS + 1).await)
        .await?;
    let older = if payments.len() > ACCOUNT_PAYMENTS as usize {
        payments.truncate(ACCOUNT_PAYMENTS as usize);
        payments.last().map(|p| format!("{}.{}", p.occurred_at, p.id))
    } else {
        None
    };
    Ok(AccountBilling { standing, payments, older })
}

/// [`standing`] for a member already loaded (one query fewer).
pub async fn standing_of(ctx: &Context, member: &Member) -> Result<Standing, BillingError> {
    standing_given(ctx, member.id, member.comped_until).await
}

async fn standing_given(
    ctx: &Context,
    member_id: MemberId,
    comped_until: Option<Micros>,
) -> Result<Standing, BillingError> {
    let subscriptions = ctx.db.read_hot(async |conn| db::subscriptions::list_for_member(conn, member_id).await).await?;
    standing_from(ctx, subscriptions, comped_until).await
}

/// [`standing`] from the member's subscriptions (newest first) already read.
pub async fn standing_from(
    ctx: &Context,
    subscriptions: Vec<Subscription>,
    comped_until: Option<Micros>,
) -> Result<Standing, BillingError> {
    let mut standing = standing_without_tier(ctx.clock.now(), ctx.past_due_grace, subscriptions, comped_until);
    standing.tier = match standing.subscription.as_ref().and_then(|s| s.tier_id) {
        Some(id) => {
            let catalog = super::tiers::catalog(ctx).await.map_err(DbError::from)?;
            match catalog.tiers.iter().find(|t| t.id == id) {
                Some(t) => Some(t.clone()),
                // An archived tier is not in the catalogue of active ones.
                None => db::tiers::find(ctx.db.read(), id).await?,
            }
        }
        None => None,
    };
    Ok(standing)
}

/// Where a member stands at `now`, from their subscriptions (newest first) and
/// comp, without their tier (`tier` is `None`; the subscription names it). The
/// one rule for patron, past due (within `grace`), lapsed, comped and free.
pub fn standing_without_tier(
    now: Micros,
    grace: Micros,
    subscriptions: Vec<Subscription>,
    comped_until: Option<Micros>,
) -> Standing {
    let comped_until = comped_until.filter(|until| *until > now);
    let rank = |s: &Subscription| match s.status {
        SubscriptionStatus::Active | SubscriptionStatus::Trialing => 0,
        SubscriptionStatus::PastDue => 1,
        _ if s.first_paid_at.is_some() => 2,
        _ => 3,
    };
    let best = subscriptions.iter().min_by_key(|s| rank(s)).cloned();
    let status = match &best {
        _ if comped_until.is_some() => MemberStatus::Comped,
        Some(s) if rank(s) == 0 => MemberStatus::Patron,
        Some(s) if s.status == SubscriptionStatus::PastDue && s.past_due_since.is_some_and(|t| now - t < grace) => {
            MemberStatus::PastDue
        }
        Some(s) if s.status == SubscriptionStatus::PastDue || s.first_paid_at.is_some() => MemberStatus::Lapsed,
        _ => MemberStatus::Free,
    };
    // Paused: still a patron (who comes back on their own), without access meanwhile.
    let pause = best.as_ref().filter(|s| rank(s) == 0).and_then(|s| s.paused_at(now));
    let has_access = match status {
        MemberStatus::Comped => true,
        MemberStatus::Patron | MemberStatus::PastDue => pause.is_none(),
        _ => false,
    };
    Standing {
        status,
        has_access,
        tier: None,
        subscription: best.filter(|_| status != MemberStatus::Free),
        comped_until,
        pause: pause.filter(|_| status != MemberStatus::Comped),
    }
}
