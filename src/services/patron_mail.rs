//! The mail a patron's money causes: a welcome the first time they become a
//! patron, a receipt for every payment of theirs in the ledger (membership and
//! gifts), and a goodbye that invites them back when their membership ends.
//!
//! Each is enqueued by the billing code inside the transaction that records the
//! change, for Stripe and demo payments alike, and once per event by its outbox
//! `dedupe_key`, so a redelivered or replayed Stripe event never sends twice.
//! Only changes that happened within [`FRESH_FOR`] of now send anything, so
//! `patronage stripe sync` re-reading old history (or a restore) sends no mail
//! for it, while a payment whose webhook was lost and that sync books the same
//! day still gets its receipt.
use serde::Serialize;

use super::{Context, outbox};
use crate::clock::{DAY, Micros};
use crate::db::{self, Tx};
use crate::domain::{ContentKind, Interval, MemberId, Money, PaymentKind, Tier};

/// How old a change may be and still send mail: Stripe retries a webhook for
/// up to three days.
pub const FRESH_FOR: Micros = 3 * DAY;

fn is_fresh(ctx: &Context, at: Micros) -> bool {
    ctx.clock.now() - at <= FRESH_FOR
}

#[derive(Serialize)]
struct Welcome {
    name: Option<String>,
    tier: Option<String>,
    topics_url: String,
    account_url: String,
}

#[derive(Serialize)]
struct Receipt {
    name: Option<String>,
    amount: String,
    date: String,
    /// "membership", "donation" or "gift", for the wording.
    kind: &'static str,
    /// A gift membership: what was given to whom ("Reader, 6 months, for Olena").
    gift: Option<String>,
    tier: Option<String>,
    /// "month" or "year" for a membership payment.
    interval: Option<&'static str>,
    reference: String,
    account_url: String,
    /// The newsroom's legal name and postal address (NEWSROOM_LEGAL_NAME, NEWSROOM_ADDRESS).
    payee_name: String,
    payee_address: Vec<String>,
    /// The printable receipt on the account page.
    receipt_url: Option<String>,
}

#[derive(Serialize)]
struct Ended {
    name: Option<String>,
    tier: Option<String>,
    rejoin_url: String,
}

/// The member's address and language, unless they deleted their account.
async fn recipient(tx: &mut Tx, member_id: MemberId) -> Result<Option<crate::domain::Member>, db::DbError> {
    Ok(db::members::find_by_id(&mut **tx, member_id).await?.filter(|m| m.deleted_at.is_none() && m.email.is_some()))
}

/// The tier's name in `locale` (or the default language's).
pub(super) async fn tier_name(
    ctx: &Context,
    tx: &mut Tx,
    tier: Option<Tier>,
    locale: crate::domain::Locale,
) -> Result<Option<String>, db::DbError> {
    let Some(mut tier) = tier else { return Ok(None) };
    let id = tier.id.to_string();
    let rows = db::translations::list_for_item(&mut **tx, ContentKind::Tier, &id).await?;
    super::content::Localiser::of_items(ctx, locale, &[(ContentKind::Tier, id, rows)]).tier(&mut tier);
    Ok(Some(tier.name))
}

async fn send<C: Serialize>(
    ctx: &Context,
    tx: &mut Tx,
    template: &str,
    member: &crate::domain::Member,
    data: &C,
    key: String,
) -> Result<bool, outbox::OutboxError> {
    let Some(email) = &member.email else { return Ok(false) };
    let sent = outbox::enqueue(ctx, tx, template, member.locale, email.as_str(), data, Some(key)).await?;
    if sent {
        tracing::info!(member.id = %member.id, mail = template, "patron mail enqueued");
    }
    Ok(sent)
}

/// The first time a member becomes a paying patron (once per member, ever).
pub async fn welcome(
    ctx: &Context,
    tx: &mut Tx,
    member_id: MemberId,
    tier: Option<Tier>,
    started_at: Micros,
) -> Result<bool, outbox::OutboxError> {
    if !is_fresh(ctx, started_at) {
        return Ok(false);
    }
    let Some(member) = recipient(tx, member_id).await? else { return Ok(false) };
    let tier = tier_name(ctx, tx, tier, member.locale).await?;
    let data =
        Welcome { name: member.name.clone(), tier, topics_url: ctx.url("/topics"), account_url: ctx.url("/account") };
    send(ctx, tx, "patron_welcome", &member, &data, format!("patron-welcome:{member_id}")).await
}

/// A receipt for money the member paid (a membership payment or a gift), once
/// per ledger row. Refunds, disputes and zero amounts get none.
#[allow(clippy::too_many_arguments)]
pub async fn receipt(
    ctx: &Context,
    tx: &mut Tx,
    member_id: MemberId,
    kind: PaymentKind,
    provider_id: &str,
    amount: Money,
    occurred_at: Micros,
    membership: Option<(Option<Tier>, Interval)>,
) -> Result<bool, outbox::OutboxError> {
    let kind_word = match kind {
        PaymentKind::Subscription => "membership",
        PaymentKind::Donation => "donation",
        PaymentKind::Gift => "gift",
        _ => return Ok(false),
    };
    if amount.minor <= 0 || !is_fresh(ctx, occurred_at) {
        return Ok(false);
    }
    let Some(member) = recipient(tx, member_id).await? else { return Ok(false) };
    let (tier, interval) = match membership {
        Some((tier, interval)) => (tier_name(ctx, tx, tier, member.locale).await?, Some(interval.as_str())),
        None => (None, None),
    };
    let gift = match db::gifts::find_by_payment(&mut **tx, provider_id).await?.filter(|_| kind == PaymentKind::Gift) {
        Some(g) => {
            let tier = db::tiers::find(&mut **tx, g.details.tier_id).await?;
            let tier = tier_name(ctx, tx, tier, member.locale).await?.unwrap_or_default();
            Some(super::gifts::label(ctx, member.locale, &tier, g.details.months, &g.details.recipient_name))
        }
        None => None,
    };
    let data = Receipt {
        name: member.name.clone(),
        amount: crate::numbers::money(member.locale, amount),
        // The newsroom's calendar, as on the account page and in statements.
        date: ctx.zone.date(occurred_at),
        kind: kind_word,
        gift,
        tier,
        interval,
        reference: provider_id.to_string(),
        account_url: ctx.url("/account"),
        payee_name: ctx.legal.name.clone(),
        payee_address: ctx.legal.address.clone(),
        receipt_url: db::payments::find_id(&mut **tx, kind, provider_id)
            .await?
            .map(|id| ctx.url(&format!("/account/receipts/{id}"))),
    };
    send(ctx, tx, "receipt", &member, &data, format!("receipt:{}:{provider_id}", kind.as_str())).await
}

/// A patron's subscription ended for good (once per subscription).
pub async fn ended(
    ctx: &Context,
    tx: &mut Tx,
    member_id: MemberId,
    subscription_id: &str,
    tier: Option<Tier>,
    ended_at: Micros,
) -> Result<bool, outbox::OutboxError> {
    if !is_fresh(ctx, ended_at) {
        return Ok(false);
    }
    let Some(member) = recipient(tx, member_id).await? else { return Ok(false) };
    let tier = tier_name(ctx, tx, tier, member.locale).await?;
    let data = Ended { name: member.name.clone(), tier, rejoin_url: ctx.url("/patron") };
    send(ctx, tx, "membership_ended", &member, &data, format!("membership-ended:{subscription_id}")).await
}
