//! Stripe webhooks: verify and store (then Stripe is answered), apply once in
//! the background job. Applying never trusts the event's
//! copy of an object: it re-reads the subscription / invoice / session from
//! Stripe, so events may arrive in any order, any number of times.
use super::audit::{self, Actor};
use super::billing::{self, Applied};
use super::dunning::{self, Notice};
use super::{Context, StorageError};
use crate::clock::{HOUR, Micros, SECOND};
use crate::db::payments::NewPayment;
use crate::db::stripe_events::{NewEvent, StoredEvent};
use crate::db::{self, DbError};
use crate::domain::{MemberId, PaymentCard, PaymentKind, Settled, StripeEventStatus};
use crate::payments::stripe::{ChargeInfo, GatewayError, RefundStatus, StripeGateway};
use crate::payments::{Payments, signature};

/// Largest webhook body we read; Stripe's events are far smaller.
pub const MAX_BODY_BYTES: usize = 512 * 1024;
/// Attempts before an event that cannot be applied is set aside for staff.
pub const MAX_ATTEMPTS: i64 = 8;

#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    #[error("Stripe payments are not configured")]
    NotConfigured,
    #[error("missing Stripe-Signature header")]
    MissingSignature,
    #[error("the signature does not match any configured secret")]
    BadSignature,
    #[error("the signature's time is more than five minutes from now")]
    StaleSignature,
    #[error("the body is not UTF-8")]
    NotUtf8,
    #[error("the body is not a JSON event")]
    NotJson,
    #[error("a {event} event reached an install with a {key} key")]
    WrongMode { event: &'static str, key: &'static str },
    #[error(transparent)]
    Db(#[from] DbError),
}

impl ReceiveError {
    /// The label of a refusal in `stripe_webhooks_refused_total`.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::NotConfigured => "not_configured",
            Self::MissingSignature => "missing_signature",
            Self::BadSignature => "signature",
            Self::StaleSignature => "timestamp",
            Self::NotUtf8 => "not_utf8",
            Self::NotJson => "unreadable",
            Self::WrongMode { .. } => "mode",
            Self::Db(_) => "storage",
        }
    }
}

/// Refusals are counted by reason and logged with it, once, here.
fn refused(e: ReceiveError) -> ReceiveError {
    metrics::counter!("stripe_webhooks_refused_total", "reason" => e.reason()).increment(1);
    match &e {
        ReceiveError::Db(_) => {}
        other => tracing::warn!(reason = other.reason(), error = %other, "webhook refused"),
    }
    e
}

#[derive(Debug, PartialEq, Eq)]
pub enum Received {
    /// Stored now (and applied, or queued for another try).
    Stored(StripeEventStatus),
    /// Seen before: nothing done.
    Duplicate,
}

/// Verifies and stores one webhook delivery, and wakes the job that applies it.
#[tracing::instrument(skip_all, fields(stripe.event_id))]
pub async fn receive(ctx: &Context, body: &[u8], signature: Option<&str>) -> Result<Received, ReceiveError> {
    receive_checked(ctx, body, signature).await.map_err(refused)
}

async fn receive_checked(ctx: &Context, body: &[u8], signature: Option<&str>) -> Result<Received, ReceiveError> {
    let Payments::Stripe { webhook_secrets, secret_key_is_live, .. } = &ctx.payments else {
        return Err(ReceiveError::NotConfigured);
    };
    let signature = signature.ok_or(ReceiveError::MissingSignature)?;
    let body = std::str::from_utf8(body).map_err(|_| ReceiveError::NotUtf8)?;
    let now_secs = ctx.clock.now() / SECOND;
    // Any configured secret may have signed it (secret rotation).
    let checks: Vec<_> =
        webhook_secrets.iter().map(|secret| signature::verify(body, signature, secret.expose(), now_secs)).collect();
    if !checks.iter().any(Result::is_ok) {
        return Err(if checks.contains(&Err(signature::SignatureError::OutOfTime)) {
            ReceiveError::StaleSignature
        } else {
            ReceiveError::BadSignature
        });
    }
    let json: serde_json::Value = serde_json::from_str(body).map_err(|_| ReceiveError::NotJson)?;
    let id =
        json.get("id").and_then(|v| v.as_str()).filter(|id| id.starts_with("evt_")).ok_or(ReceiveError::NotJson)?;
    tracing::Span::current().record("stripe.event_id", id);
    // A live event must never change a test install, nor the reverse.
    if let Some(live) = json.get("livemode").and_then(serde_json::Value::as_bool)
        && live != *secret_key_is_live
    {
        let mode = |live: bool| if live { "live" } else { "test" };
        return Err(ReceiveError::WrongMode { event: mode(live), key: mode(*secret_key_is_live) });
    }
    let event_type = json.get("type").and_then(|v| v.as_str());
    let object = json.pointer("/data/object").and_then(|v| v.as_object());
    let object_id = object.and_then(|o| o.get("id")).and_then(|v| v.as_str());
    // Applying reads the object afresh from Stripe, so what an event must carry is
    // its type and its object's id; one without them (a shape from a newer API
    // version, say) is kept for staff to look at.
    let readable = event_type.is_some() && object.is_some_and(|o| o.get("id").is_none() || object_id.is_some());
    let event_type = event_type.unwrap_or("unknown");
    let event = NewEvent {
        id,
        event_type,
        object_id,
        api_version: json.get("api_version").and_then(|v| v.as_str()),
        payload: body,
        status: if readable { StripeEventStatus::Pending } else { StripeEventStatus::Unreadable },
        stripe_created_at: json.get("created").and_then(|v| v.as_i64()).map(|s| s * SECOND),
    };
    // Stripe is answered once the event is stored; applying it reads objects back
    // from Stripe (several calls), so it happens in the background job, woken now.
    if !db::stripe_events::insert_if_absent(&mut *ctx.db.write().await?, &event, ctx.clock.now()).await? {
        return Ok(Received::Duplicate);
    }
    if !readable {
        tracing::warn!(
            stripe.event_type = event_type,
            "stored an event without a type or an object we can read; flagged for staff"
        );
        return Ok(Received::Stored(StripeEventStatus::Unreadable));
    }
    ctx.stripe_wakeup.notify_one();
    Ok(Received::Stored(StripeEventStatus::Pending))
}

/// Takes one due event (or the given one) with a lease and applies it.
pub async fn process(ctx: &Context, only: Option<&str>, worker: &str) -> Result<Option<StripeEventStatus>, DbError> {
    let Payments::Stripe { gateway, .. } = &ctx.payments else { return Ok(None) };
    let now = ctx.clock.now();
    let Some(event) =
        db::stripe_events::claim(&mut *ctx.db.write().await?, only, now, now + ctx.job_lease, worker).await?
    else {
        return Ok(None);
    };
    attempt(ctx, gateway, &event).await.map(Some)
}

/// Staff's retry button: puts a failed, unmatched or pending event back in the
/// queue and records who did so, in one transaction, then applies it at once.
/// False when there is no such event or its status is not one to retry.
#[tracing::instrument(skip_all, fields(stripe.event_id = %id))]
pub async fn retry(ctx: &Context, actor: &Actor, id: &str, worker: &str) -> Result<bool, StorageError> {
    let mut tx = ctx.db.transaction().await?;
    if !db::stripe_events::requeue(&mut *tx, id, ctx.clock.now()).await? {
        return Ok(false);
    }
    audit::record(ctx, &mut tx, actor, "stripe_event.retry", Some(id.to_string()), None).await?;
    tx.commit().await.map_err(DbError::from)?;
    process(ctx, Some(id), worker).await?;
    Ok(true)
}

/// Applies an event this worker has taken, and records the outcome.
async fn attempt(ctx: &Context, gateway: &StripeGateway, event: &StoredEvent) -> Result<StripeEventStatus, DbError> {
    let outcome = apply(ctx, gateway, event).await;
    let now = ctx.clock.now();
    // A refund or dispute whose payment is not recorded yet waits for it: retried
    // with backoff, and woken at once when that payment is recorded (even after it
    // was set aside as unmatched).
    let waits_for = match &outcome {
        Ok(Outcome::WaitsFor { charge }) => Some(charge.clone()),
        _ => None,
    };
    let waiting = |reason: String| {
        if event.attempts < MAX_ATTEMPTS {
            (StripeEventStatus::Pending, Some(reason), Some(now + backoff(event.attempts)))
        } else {
            (StripeEventStatus::Unmatched, Some(reason), None)
        }
    };
    let (status, error, retry_at) = match outcome {
        Ok(Outcome::Applied) => (StripeEventStatus::Applied, None, None),
        Ok(Outcome::Ignored) => (StripeEventStatus::Ignored, None, None),
        Ok(Outcome::NotYet(reason)) => waiting(reason),
        Ok(Outcome::WaitsFor { charge }) => waiting(format!("waiting for the payment of charge {charge}")),
        Err(e) if event.attempts < MAX_ATTEMPTS => {
            (StripeEventStatus::Pending, Some(e.to_string()), Some(now + backoff(event.attempts)))
        }
        Err(e) => (StripeEventStatus::Failed, Some(e.to_string()), None),
    };
    let finished =
        db::stripe_events::Finished { status, error: error.as_deref(), retry_at, waits_for: waits_for.as_deref() };
    db::stripe_events::finish(&mut *ctx.db.write().await?, &event.id, &finished, now).await?;
    if status == StripeEventStatus::Applied {
        // Applying may have enqueued mail (a receipt, a welcome, a failed
        // payment): send it now rather than at the mail job's next poll.
        ctx.mail_wakeup.notify_one();
    }
    tracing::info!(stripe.event_id = %event.id, stripe.event_type = %event.event_type, status = status.as_str(), "stripe event processed");
    Ok(status)
}

/// Applies every due event; returns how many were taken.
pub async fn drain(ctx: &Context, worker: &str) -> Result<usize, DbError> {
    drain_while(ctx, worker, &|| true).await
}

/// [`drain`], stopping between two events once `go_on` says so.
pub async fn drain_while(ctx: &Context, worker: &str, go_on: &(dyn Fn() -> bool + Sync)) -> Result<usize, DbError> {
    let mut n = 0;
    while go_on() && process(ctx, None, worker).await?.is_some() {
        n += 1;
    }
    Ok(n)
}

/// 30 s, 1 min, 2 min … capped at 6 hours.
fn backoff(attempts: i64) -> Micros {
    let exp = attempts.clamp(1, 20) - 1;
    (30 * SECOND).saturating_mul(1_i64 << exp).min(6 * HOUR)
}

enum Outcome {
    Applied,
    Ignored,
    /// Cannot be applied yet (e.g. no member linked to the customer yet).
    NotYet(String),
    /// A refund or dispute of a charge of ours whose payment is not recorded yet.
    WaitsFor {
        charge: String,
    },
}

#[derive(Debug, thiserror::Error)]
enum ApplyError {
    #[error(transparent)]
    Gateway(#[from] GatewayError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Billing(#[from] billing::BillingError),
    #[error(transparent)]
    Mail(#[from] super::outbox::OutboxError),
}

async fn apply(ctx: &Context, gateway: &StripeGateway, event: &StoredEvent) -> Result<Outcome, ApplyError> {
    let Some(object_id) = event.object_id.as_deref() else { return Ok(Outcome::Ignored) };
    match event.event_type.as_str() {
        t if t.starts_with("customer.subscription.") => sync_subscription(ctx, gateway, object_id).await,
        "checkout.session.completed" | "checkout.session.async_payment_succeeded" => {
            let session = gateway.checkout_session(object_id).await?;
            if !session.ours {
                return Ok(Outcome::Ignored);
            }
            if let (Some(member), Some(customer)) = (session.member_hint, session.customer_id.as_deref()) {
                db::members::link_customer(&mut *ctx.db.write().await?, member, customer).await?;
            }
            match session.subscription_id.as_deref() {
                Some(sub) if session.subscription_mode => sync_subscription(ctx, gateway, sub).await,
                _ if !session.paid => Ok(Outcome::Applied),
                _ => match session.payment_intent.as_deref() {
                    Some(intent) => {
                        let paid_for = PaidFor {
                            payer: session.member_hint,
                            source: session.source.as_ref(),
                            gift: session.gift_id.as_deref(),
                        };
                        record_one_time(ctx, gateway, intent, paid_for).await
                    }
                    None => Ok(Outcome::Ignored),
                },
            }
        }
        "invoice.paid" | "invoice.payment_succeeded" => apply_invoice(ctx, gateway, object_id, None).await,
        "invoice.payment_failed" => apply_invoice(ctx, gateway, object_id, Some(Notice::PaymentFailed)).await,
        "invoice.payment_action_required" => apply_invoice(ctx, gateway, object_id, Some(Notice::ActionRequired)).await,
        "charge.refunded" => record_refunds(ctx, gateway, object_id).await,
        // Stripe has no API read for a customer's card by itself in our gateway: the
        // signed event's object (a card or source) is what we act on.
        "customer.source.expiring" => {
            let payload = db::stripe_events::payload(ctx.db.read(), &event.id).await?.unwrap_or_default();
            match expiring_card(&payload) {
                Some(card) => {
                    dunning::card_expiring(ctx, &card).await?;
                    Ok(Outcome::Applied)
                }
                None => Ok(Outcome::Ignored),
            }
        }
        // A card attached in the Customer Portal, or updated by the card networks
        // (new expiry): the signed event's PaymentMethod is the customer's card now.
        "payment_method.attached" | "payment_method.updated" | "payment_method.automatically_updated" => {
            let payload = db::stripe_events::payload(ctx.db.read(), &event.id).await?.unwrap_or_default();
            match method_card(&payload) {
                Some((card, seen_at)) => {
                    db::payment_cards::upsert(&mut *ctx.db.write().await?, &card, seen_at).await?;
                    Ok(Outcome::Applied)
                }
                None => Ok(Outcome::Ignored),
            }
        }
        "payment_method.detached" => {
            db::payment_cards::forget_method(&mut *ctx.db.write().await?, object_id).await?;
            Ok(Outcome::Applied)
        }
        // A refund changed (it succeeded, failed or was canceled): its charge's refunds again.
        "refund.created" | "refund.updated" | "refund.failed" | "charge.refund.updated" => {
            match gateway.refund_charge(object_id).await? {
                Some(charge) => record_refunds(ctx, gateway, &charge).await,
                None => Ok(Outcome::Ignored),
            }
        }
        "charge.dispute.created"
        | "charge.dispute.updated"
        | "charge.dispute.closed"
        | "charge.dispute.funds_withdrawn"
        | "charge.dispute.funds_reinstated" => record_dispute(ctx, gateway, object_id).await,
        // Nothing of ours changes; recorded for the log.
        "checkout.session.async_payment_failed" | "checkout.session.expired" | "customer.updated" => {
            Ok(Outcome::Applied)
        }
        // A deleted customer cannot pay again: never linked again, and the next
        // checkout creates a new one.
        "customer.deleted" => {
            let mut tx = ctx.db.transaction().await?;
            db::members::record_deleted_customer(&mut *tx, object_id, ctx.clock.now()).await?;
            db::members::unlink_customer(&mut *tx, object_id).await?;
            tx.commit().await.map_err(DbError::from)?;
            Ok(Outcome::Applied)
        }
        _ => Ok(Outcome::Ignored),
    }
}

/// The card in a `customer.source.expiring` event: a `card` (or a card
/// `source`) with its customer and expiry; `None` for anything else.
fn expiring_card(payload: &str) -> Option<dunning::ExpiringCard> {
    let event: serde_json::Value = serde_json::from_str(payload).ok()?;
    let o = &event["data"]["object"];
    // A card source (`src_…`) keeps its card details under `card`.
    let card = if o["object"] == "source" { &o["card"] } else { o };
    let text = |v: &serde_json::Value| v.as_str().map(str::to_string);
    let exp_month = u8::try_from(card["exp_month"].as_u64()?).ok().filter(|m| (1..=12).contains(m))?;
    let exp_year = u16::try_from(card["exp_year"].as_u64()?).ok().filter(|y| (2000..=2200).contains(y))?;
    Some(dunning::ExpiringCard {
        id: text(&o["id"])?,
        customer_id: text(&o["customer"])?,
        brand: text(&card["brand"]).unwrap_or_default(),
        last4: text(&card["last4"]).unwrap_or_default(),
        exp_month,
        exp_year,
    })
}

/// The card of a PaymentMethod event with its customer, and when Stripe sent it;
/// `None` for a method that is not a card or has no customer.
fn method_card(payload: &str) -> Option<(PaymentCard, Micros)> {
    let event: serde_json::Value = serde_json::from_str(payload).ok()?;
    let o = &event["data"]["object"];
    let card = &o["card"];
    let text = |v: &serde_json::Value| v.as_str().map(str::to_string);
    let found = PaymentCard {
        customer_id: text(&o["customer"])?,
        payment_method_id: text(&o["id"]),
        brand: text(&card["brand"]).unwrap_or_default(),
        last4: text(&card["last4"]).unwrap_or_default(),
        exp_month: card["exp_month"].as_i64()?,
        exp_year: card["exp_year"].as_i64()?,
    };
    let created = event["created"].as_i64()?.checked_mul(SECOND)?;
    found.is_plausible().then_some((found, created))
}

/// A ledger row for a movement of a charge: `gross` in the charge's currency,
/// `settled` from its balance transaction.
#[allow(clippy::too_many_arguments)]
fn ledger_row(
    kind: PaymentKind,
    provider_id: &str,
    charge: &ChargeInfo,
    gross: i64,
    settled: Settled,
    member: Option<MemberId>,
    subscription: Option<String>,
    description: &str,
    at: Micros,
) -> NewPayment {
    NewPayment {
        kind,
        provider_id: provider_id.to_string(),
        member_id: member,
        subscription_id: subscription,
        gross_minor: gross,
        currency: charge.currency,
        settled,
        charge_id: Some(charge.id.clone()),
        description: Some(description.to_string()),
        occurred_at: at,
        source_id: None,
        topic_id: None,
    }
}

/// What a one-time Checkout paid for: a donation (by `payer` when known) or,
/// with `gift`, a gift membership.
struct PaidFor<'a> {
    payer: Option<MemberId>,
    source: Option<&'a crate::domain::RawSource>,
    gift: Option<&'a str>,
}

/// A one-time payment through Checkout (a donation or a gift membership): one
/// ledger row per charge, dated when Stripe made the charge.
async fn record_one_time(
    ctx: &Context,
    gateway: &StripeGateway,
    intent: &str,
    paid_for: PaidFor<'_>,
) -> Result<Outcome, ApplyError> {
    let PaidFor { payer: donor, source, gift } = paid_for;
    let intent = gateway.payment_intent(intent).await?;
    let Some(charge_id) = intent.latest_charge else {
        return Ok(Outcome::NotYet("payment not settled yet".into()));
    };
    let charge = gateway.charge(&charge_id).await?;
    let Some(settlement) = &charge.settlement else {
        return Ok(Outcome::NotYet(format!("charge {} not settled yet", charge.id)));
    };
    let donor = match donor {
        Some(m) => Some(m),
        None => match charge.customer_id.as_deref() {
            Some(c) => db::members::find_by_customer_id(ctx.db.read(), c).await?,
            None => None,
        },
    };
    let mut row = ledger_row(
        PaymentKind::Donation,
        &charge.id,
        &charge,
        charge.amount,
        settlement.settled,
        donor,
        None,
        "Donation",
        charge.created,
    );
    row.topic_id = intent.topic_id;
    let mut tx = ctx.db.transaction().await?;
    row.source_id = super::sources::store(ctx, &mut tx, source).await?;
    match gift {
        Some(gift) => {
            super::gifts::book_payment(ctx, &mut tx, gift, &row).await?;
        }
        None => {
            billing::record_payment(ctx, &mut tx, &row, None).await?;
        }
    }
    db::stripe_events::wake_waiting(&mut *tx, &charge.id, ctx.clock.now()).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(Outcome::Applied)
}

/// A refund or dispute of a charge whose payment is not in the ledger: it waits
/// for the payment when the charge is ours (our metadata on it or its payment
/// intent, or a customer of ours), else it is another product's and ignored.
async fn wait_for_payment(ctx: &Context, gateway: &StripeGateway, charge: &ChargeInfo) -> Result<Outcome, ApplyError> {
    let ours = charge.ours
        || match charge.customer_id.as_deref() {
            Some(customer) => db::members::customer_known(ctx.db.read(), customer).await?,
            None => false,
        }
        || match charge.payment_intent.as_deref() {
            Some(intent) => gateway.payment_intent(intent).await?.ours,
            None => false,
        };
    Ok(if ours { Outcome::WaitsFor { charge: charge.id.clone() } } else { Outcome::Ignored })
}

/// Every refund of a charge as Stripe has it now. Only a succeeded refund is
/// money back: one negative row per refund id, from its balance transaction. A
/// refund booked as succeeded that failed or was canceled later is reversed by
/// a `refund_failed` row (from its failure balance transaction); a pending one
/// waits for the event that says how it ended.
async fn record_refunds(ctx: &Context, gateway: &StripeGateway, charge_id: &str) -> Result<Outcome, ApplyError> {
    let charge = gateway.charge(charge_id).await?;
    if charge.refunds.is_empty() {
        return Ok(Outcome::Applied);
    }
    let Some((member, subscription)) = db::payments::owner_of_charge(ctx.db.read(), &charge.id).await? else {
        return wait_for_payment(ctx, gateway, &charge).await;
    };
    let now = ctx.clock.now();
    let mut tx = ctx.db.transaction().await?;
    for refund in &charge.refunds {
        match refund.status {
            RefundStatus::Succeeded => {
                let settled = match &refund.settlement {
                    Some(s) => s.settled,
                    None => at_charge_rate(&charge, -refund.amount),
                };
                let row = ledger_row(
                    PaymentKind::Refund,
                    &refund.id,
                    &charge,
                    -refund.amount,
                    settled,
                    member,
                    subscription.clone(),
                    "Refund",
                    refund.created,
                );
                db::payments::insert(&mut *tx, &row, now).await?;
            }
            RefundStatus::Failed | RefundStatus::Canceled => {
                let Some(booked) = db::payments::find_settled(&mut *tx, PaymentKind::Refund, &refund.id).await? else {
                    continue;
                };
                let (settled, at) = match &refund.failure {
                    Some(failure) => (failure.settled, failure.created),
                    None => (booked.negated(), now),
                };
                let row = ledger_row(
                    PaymentKind::RefundFailed,
                    &refund.id,
                    &charge,
                    refund.amount,
                    settled,
                    member,
                    subscription.clone(),
                    "Refund failed",
                    at,
                );
                db::payments::insert(&mut *tx, &row, now).await?;
            }
            RefundStatus::Pending | RefundStatus::RequiresAction => {}
        }
    }
    if let Some(member) = member {
        // Their payment history changed.
        tx.changed(db::Change::Standing(member));
    }
    // Income, and the progress of a goal the gift was toward.
    tx.changed(db::Change::Giving);
    tx.commit().await.map_err(DbError::from)?;
    Ok(Outcome::Applied)
}

/// What `amount` of the charge's currency came to in its settlement currency, at
/// the charge's rate and without a fee, as Stripe settles a refund (for one read
/// without its balance transaction), so a row never pairs a charge-currency
/// amount with another settlement currency.
fn at_charge_rate(charge: &ChargeInfo, amount: i64) -> Settled {
    match &charge.settlement {
        Some(s) if charge.amount != 0 => {
            let converted = i128::from(amount) * i128::from(s.settled.gross_minor) / i128::from(charge.amount);
            let converted = i64::try_from(converted).unwrap_or(amount);
            Settled { gross_minor: converted, fee_minor: 0, net_minor: converted, currency: s.settled.currency }
        }
        _ => Settled::as_charged(amount, charge.currency),
    }
}

/// A dispute takes the money back (and its fee) when Stripe withdraws it;
/// winning it returns the money. Each row is dated by its balance transaction.
async fn record_dispute(ctx: &Context, gateway: &StripeGateway, dispute_id: &str) -> Result<Outcome, ApplyError> {
    let dispute = gateway.dispute(dispute_id).await?;
    let charge = gateway.charge(&dispute.charge_id).await?;
    let Some((member, subscription)) = db::payments::owner_of_charge(ctx.db.read(), &charge.id).await? else {
        return wait_for_payment(ctx, gateway, &charge).await;
    };
    let now = ctx.clock.now();
    let mut tx = ctx.db.transaction().await?;
    if let Some(withdrawn) = &dispute.withdrawn {
        let row = ledger_row(
            PaymentKind::Dispute,
            &dispute.id,
            &charge,
            -dispute.amount,
            withdrawn.settled,
            member,
            subscription.clone(),
            "Dispute opened",
            withdrawn.created,
        );
        db::payments::insert(&mut *tx, &row, now).await?;
    }
    if let Some(reinstated) = &dispute.reinstated {
        let row = ledger_row(
            PaymentKind::DisputeWon,
            &dispute.id,
            &charge,
            dispute.amount,
            reinstated.settled,
            member,
            subscription,
            "Dispute won",
            reinstated.created,
        );
        db::payments::insert(&mut *tx, &row, now).await?;
    }
    if let Some(member) = member {
        // Their payment history changed.
        tx.changed(db::Change::Standing(member));
    }
    // Income, and the progress of a goal the gift was toward.
    tx.changed(db::Change::Giving);
    tx.commit().await.map_err(DbError::from)?;
    Ok(Outcome::Applied)
}

/// Re-reads an invoice: its subscription's state, and a ledger row once it is
/// paid, from the charge that paid it and that charge's balance transaction.
/// With `notice` (a failed or unconfirmed attempt), the patron is told, once per
/// attempt, unless it is paid by now.
async fn apply_invoice(
    ctx: &Context,
    gateway: &StripeGateway,
    invoice_id: &str,
    notice: Option<Notice>,
) -> Result<Outcome, ApplyError> {
    let invoice = gateway.invoice(invoice_id).await?;
    let Some(sub) = invoice.subscription_id.as_deref() else { return Ok(Outcome::Ignored) };
    match sync_subscription(ctx, gateway, sub).await? {
        Outcome::Applied => {}
        other => return Ok(other),
    }
    if let Some(notice) = notice {
        dunning::notify(ctx, &invoice, sub, notice).await?;
    }
    if invoice.paid && invoice.amount_paid > 0 {
        let charge = match invoice.charge_id.as_deref() {
            Some(charge) => Some(gateway.charge(charge).await?),
            None if invoice.by_payment => return Ok(Outcome::NotYet("the invoice's payment has no charge yet".into())),
            None => None,
        };
        // What the reader paid and what it came to; an invoice paid without a
        // charge (out of band) settles as it was billed.
        let (gross, currency, settled) = match &charge {
            Some(c) => match &c.settlement {
                Some(s) => (c.amount, c.currency, s.settled),
                None => return Ok(Outcome::NotYet(format!("charge {} not settled yet", c.id))),
            },
            None => (invoice.amount_paid, invoice.currency, Settled::as_charged(invoice.amount_paid, invoice.currency)),
        };
        let payment = NewPayment {
            kind: PaymentKind::Subscription,
            provider_id: invoice.id.clone(),
            member_id: None,
            subscription_id: None,
            gross_minor: gross,
            currency,
            settled,
            charge_id: invoice.charge_id.clone(),
            description: Some("Membership".into()),
            occurred_at: invoice.paid_at.unwrap_or_else(|| ctx.clock.now()),
            // The subscription's (billing reads it).
            source_id: None,
            topic_id: None,
        };
        let mut tx = ctx.db.transaction().await?;
        billing::record_payment(ctx, &mut tx, &payment, Some(sub)).await?;
        // The card that will pay the next invoice too: reminded about before it expires.
        if let Some((card, c)) = charge.as_ref().and_then(|c| c.card.as_ref().map(|card| (card, c))) {
            db::payment_cards::upsert(&mut *tx, card, c.created).await?;
        }
        if let Some(charge) = &invoice.charge_id {
            db::stripe_events::wake_waiting(&mut *tx, charge, ctx.clock.now()).await?;
        }
        tx.commit().await.map_err(DbError::from)?;
    }
    Ok(Outcome::Applied)
}

/// What `patronage stripe sync` did.
#[derive(Debug, Default, Clone, Copy)]
pub struct SyncReport {
    pub subscriptions: usize,
    pub invoices: usize,
    pub refunded_charges: usize,
    pub ignored: usize,
    pub unmatched: usize,
}

/// Re-reads every subscription and paid invoice from Stripe and repairs our
/// records. Idempotent (upserts and unique ledger keys), so safe to run at any
/// time, on any instance, beside the webhooks.
pub async fn sync_all(ctx: &Context) -> Result<SyncReport, anyhow::Error> {
    let Payments::Stripe { gateway, .. } = &ctx.payments else {
        anyhow::bail!("STRIPE_SECRET_KEY is not set: nothing to sync")
    };
    let mut report = SyncReport::default();
    let mut tally = |outcome: Outcome, counter: fn(&mut SyncReport) -> &mut usize| match outcome {
        Outcome::Applied => *counter(&mut report) += 1,
        Outcome::Ignored => report.ignored += 1,
        Outcome::NotYet(_) | Outcome::WaitsFor { .. } => report.unmatched += 1,
    };
    let mut after: Option<String> = None;
    loop {
        let (ids, more) = gateway.list_subscription_ids(after.as_deref()).await?;
        for id in &ids {
            tally(sync_subscription(ctx, gateway, id).await?, |r| &mut r.subscriptions);
        }
        after = ids.last().cloned();
        if !more || after.is_none() {
            break;
        }
    }
    let mut after: Option<String> = None;
    loop {
        let (ids, more) = gateway.list_paid_invoice_ids(after.as_deref()).await?;
        for id in &ids {
            tally(apply_invoice(ctx, gateway, id, None).await?, |r| &mut r.invoices);
        }
        after = ids.last().cloned();
        if !more || after.is_none() {
            break;
        }
    }
    let mut after: Option<String> = None;
    loop {
        let (ids, last, more) = gateway.list_refunded_charges(after.as_deref()).await?;
        for id in &ids {
            tally(record_refunds(ctx, gateway, id).await?, |r| &mut r.refunded_charges);
        }
        after = last;
        if !more || after.is_none() {
            break;
        }
    }
    Ok(report)
}

/// Re-reads the subscription from Stripe and applies that, whatever the event said.
async fn sync_subscription(ctx: &Context, gateway: &StripeGateway, id: &str) -> Result<Outcome, ApplyError> {
    let state = gateway.subscription(id).await?;
    let mut tx = ctx.db.transaction().await?;
    let applied = billing::apply_subscription(ctx, &mut tx, &state).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(match applied {
        Applied::Applied { .. } => Outcome::Applied,
        Applied::NotOurs => Outcome::Ignored,
        Applied::Unmatched => Outcome::NotYet(format!("no member for customer {}", state.customer_id)),
    })
}
