//! Telling a patron that a renewal did not go through: one email per failed
//! attempt (Stripe retries on its schedule), and one when the bank asks them to
//! confirm the payment (3-D Secure). Each links to Stripe's page for the invoice,
//! where they can pay with another card or confirm, and to their account, where
//! "Manage billing" changes the card for later payments.
use serde::Serialize;

use super::{Context, outbox};
use crate::db::{self, DbError};
use crate::domain::{Money, SubscriptionStatus};
use crate::payments::stripe::InvoiceInfo;

/// Why the patron hears from us about an unpaid invoice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notice {
    /// `invoice.payment_failed`: the card was declined.
    PaymentFailed,
    /// `invoice.payment_action_required`: the bank wants the patron to confirm.
    ActionRequired,
}

impl Notice {
    fn template(self) -> &'static str {
        match self {
            Self::PaymentFailed => "payment_failed",
            Self::ActionRequired => "payment_action_required",
        }
    }
}

#[derive(Serialize)]
struct Mail {
    amount: String,
    attempt: i64,
    /// Stripe's page for the invoice (pay with another card, or confirm); else the account.
    pay_url: String,
    account_url: String,
    next_attempt: Option<String>,
}

/// Enqueues the email for this attempt at paying `invoice` of subscription
/// `subscription` (its provider id), unless one went out for the same invoice,
/// attempt and notice already, or the invoice is paid by now. True when enqueued.
pub async fn notify(
    ctx: &Context,
    invoice: &InvoiceInfo,
    subscription: &str,
    notice: Notice,
) -> Result<bool, outbox::OutboxError> {
    if invoice.paid || invoice.amount_due <= 0 {
        return Ok(false);
    }
    let mut tx = ctx.db.transaction().await?;
    let Some(member) = db::subscriptions::find_by_provider_id(&mut *tx, subscription).await?.and_then(|s| s.member_id)
    else {
        return Ok(false);
    };
    let Some(member) = db::members::find_by_id(&mut *tx, member).await? else { return Ok(false) };
    let Some(email) = member.email else { return Ok(false) };
    let mail = Mail {
        amount: crate::numbers::money(member.locale, Money { minor: invoice.amount_due, currency: invoice.currency }),
        attempt: invoice.attempt_count.max(1),
        pay_url: invoice.hosted_invoice_url.clone().unwrap_or_else(|| ctx.url("/account")),
        account_url: ctx.url("/account"),
        next_attempt: invoice.next_payment_attempt.map(crate::clock::format_date),
    };
    // One per invoice and attempt: a redelivered or late event finds the key used.
    let key = format!("{}:{}:{}", notice.template(), invoice.id, mail.attempt);
    let enqueued =
        outbox::enqueue(ctx, &mut tx, notice.template(), member.locale, email.as_str(), &mail, Some(key)).await?;
    tx.commit().await.map_err(DbError::from)?;
    if enqueued {
        ctx.mail_wakeup.notify_one();
        tracing::info!(member.id = %member.id, stripe.invoice = %invoice.id, attempt = mail.attempt, notice = notice.template(), "patron told about an unpaid invoice");
    }
    Ok(enqueued)
}

/// A card Stripe says expires at the end of this month (`customer.source.expiring`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpiringCard {
    /// Stripe's id of the card (`card_…`) or source (`src_…`).
    pub id: String,
    pub customer_id: String,
    pub brand: String,
    pub last4: String,
    pub exp_month: u8,
    pub exp_year: u16,
}

#[derive(Serialize)]
struct CardMail {
    name: Option<String>,
    brand: String,
    last4: String,
    /// `09/2026`: written the same way in every language we ship.
    month: String,
    account_url: String,
}

/// Tells the patron paying with `card` that it expires, once per card and
/// expiry month (outbox key `card-expiring:{card}:{year}-{month}`), and only
/// while they have a live subscription that will charge it again (active,
/// trialing or past due, not cancelled at period end). True when enqueued.
pub async fn card_expiring(ctx: &Context, card: &ExpiringCard) -> Result<bool, outbox::OutboxError> {
    let mut tx = ctx.db.transaction().await?;
    let Some(member_id) = db::members::find_by_customer_id(&mut *tx, &card.customer_id).await? else {
        return Ok(false);
    };
    let live = db::subscriptions::list_for_member(&mut *tx, member_id).await?.into_iter().any(|s| {
        s.customer_id == card.customer_id
            && matches!(
                s.status,
                SubscriptionStatus::Active | SubscriptionStatus::Trialing | SubscriptionStatus::PastDue
            )
            && !s.cancel_at_period_end
    });
    if !live {
        return Ok(false);
    }
    let Some(member) = db::members::find_by_id(&mut *tx, member_id).await?.filter(|m| m.deleted_at.is_none()) else {
        return Ok(false);
    };
    let Some(email) = member.email.clone() else { return Ok(false) };
    let mail = CardMail {
        name: member.name.clone(),
        brand: card.brand.clone(),
        last4: card.last4.clone(),
        month: format!("{:02}/{}", card.exp_month, card.exp_year),
        account_url: ctx.url("/account"),
    };
    let key = format!("card-expiring:{}:{}-{:02}", card.id, card.exp_year, card.exp_month);
    let enqueued =
        outbox::enqueue(ctx, &mut tx, "card_expiring", member.locale, email.as_str(), &mail, Some(key)).await?;
    tx.commit().await.map_err(DbError::from)?;
    if enqueued {
        ctx.mail_wakeup.notify_one();
        tracing::info!(member.id = %member.id, stripe.card = %card.id, "patron told their card expires");
    }
    Ok(enqueued)
}

/// How many cards one pass of [`remind_expiring_cards`] looks at.
const CARD_BATCH: i64 = 200;

/// Reminds patrons whose card on file (a PaymentMethod: Stripe sends no
/// `customer.source.expiring` for those) expires next month or this month,
/// through [`card_expiring`] (once per card and expiry, only while a live
/// subscription will charge it). Each card is decided once per expiry, so a
/// pass costs nothing once done. Returns how many reminders were queued.
pub async fn remind_expiring_cards(ctx: &Context) -> Result<usize, outbox::OutboxError> {
    let now = ctx.clock.now();
    let today = crate::clock::to_datetime(now);
    let this_month = i64::from(today.year()) * 12 + i64::from(u8::from(today.month())) - 1;
    let mut queued = 0;
    loop {
        let due = db::payment_cards::due_reminders(ctx.db.read(), this_month, this_month + 1, CARD_BATCH).await?;
        for card in &due {
            let expiring = ExpiringCard {
                id: card.payment_method_id.clone().unwrap_or_else(|| card.customer_id.clone()),
                customer_id: card.customer_id.clone(),
                brand: card.brand.clone(),
                last4: card.last4.clone(),
                exp_month: u8::try_from(card.exp_month).unwrap_or(12),
                exp_year: u16::try_from(card.exp_year).unwrap_or(u16::MAX),
            };
            if card_expiring(ctx, &expiring).await? {
                queued += 1;
            }
            db::payment_cards::mark_reminded(&mut *ctx.db.write().await?, card, now).await?;
        }
        if (due.len() as i64) < CARD_BATCH {
            return Ok(queued);
        }
    }
}
