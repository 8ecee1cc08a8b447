//! Telling a patron that a renewal did not go through: one email per failed
//! attempt (Stripe retries on its schedule), and one when the bank asks them to
//! confirm the payment (3-D Secure). Each links to Stripe's page for the invoice,
//! where they can pay with another card or confirm, and to their account, where
//! "Manage billing" changes the card for later payments.
use serde::Serialize;

use super::{Context, outbox};
use crate::db::{self, DbError};
use crate::domain::Money;
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
