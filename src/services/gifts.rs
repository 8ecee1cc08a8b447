//! Gift memberships: a reader buys a membership for someone else, paid once;
//! the recipient is emailed a signed redemption link on the chosen day; the
//! redeemed gift is a complimentary membership that ends by itself, after which
//! the recipient is invited to continue as a patron. See the README's "Gift
//! memberships" for the choices.
use serde::Serialize;

use super::checkout::{CHECKOUT_PER_IP, CheckoutError, CheckoutStart};
use super::rate_limit;
use super::{Context, billing, outbox, sessions};
use crate::clock::{DAY, Micros};
use crate::db::gifts::{Gift, GiftDetails, Step};
use crate::db::payments::NewPayment;
use crate::db::sessions::Owner;
use crate::db::{self, Change, DbError, Tx};
use crate::domain::gift::MAX_DELIVERY_DAYS_AHEAD;
use crate::domain::{
    COMP_NO_END, Currency, Email, GiftError, GiftMessage, GiftMonths, Locale, MemberId, Money, PaymentKind, PersonName,
    Tier, TierId, extended_comp, gift_price,
};
use crate::payments::Payments;
use crate::payments::demo::{CheckoutKind, DemoCheckout};
use crate::tokens::{Keys, constant_time_eq};

const TOKEN_LABEL: &str = "gift-redeem";
/// At most this many gifts are delivered (or ended) per run of the job.
const BATCH: i64 = 50;

/// What a reader asks for on the gift form, parsed.
#[derive(Clone, Debug)]
pub struct GiftOrder {
    pub tier_id: TierId,
    pub months: GiftMonths,
    pub currency: Currency,
    pub recipient_name: PersonName,
    pub recipient_email: Email,
    pub message: GiftMessage,
    /// `YYYY-MM-DD` (newsroom's date) and its midnight, from [`delivery_day`].
    pub deliver_on: (String, Micros),
    /// The language the recipient is written to in.
    pub recipient_locale: Locale,
    pub giver_email: Email,
    pub giver_name: Option<PersonName>,
}

/// A delivery day as typed (`YYYY-MM-DD`, empty for today): today or later in
/// the newsroom's time zone, at most [`MAX_DELIVERY_DAYS_AHEAD`] days ahead.
pub fn delivery_day(ctx: &Context, input: &str) -> Result<(String, Micros), GiftError> {
    let today = ctx.zone.date(ctx.clock.now());
    let day = if input.trim().is_empty() { today.clone() } else { input.trim().to_string() };
    let at = ctx.zone.parse_date(&day).ok_or(GiftError::DeliveryDate)?;
    let start = ctx.zone.parse_date(&today).ok_or(GiftError::DeliveryDate)?;
    if at < start || at > start + MAX_DELIVERY_DAYS_AHEAD * DAY {
        return Err(GiftError::DeliveryDate);
    }
    // Normalised (`2027-1-5` is not a date jiff reads, but be exact about the stored form).
    Ok((ctx.zone.date(at), at))
}

/// One tier as the gift form offers it: what 3, 6 and 12 months cost.
#[derive(Clone, Debug)]
pub struct GiftOffer {
    pub tier: Tier,
    pub prices: Vec<(GiftMonths, Money)>,
}

/// The active tiers that can be given in `currency` (those with a monthly
/// price in it), with the price of each length, from the catalogue (for the
/// page; the checkout prices from the database).
pub async fn offers(ctx: &Context, currency: Currency) -> Result<Vec<GiftOffer>, super::StorageError> {
    let catalog = super::tiers::catalog(ctx).await?;
    Ok(catalog
        .tiers
        .iter()
        .filter_map(|tier| {
            let prices: Vec<_> =
                catalog.prices.iter().filter(|p| p.tier_id == tier.id && p.amount.currency == currency).collect();
            let priced: Vec<_> = crate::domain::gift::GIFT_MONTHS
                .iter()
                .filter_map(|m| GiftMonths::new(*m))
                .filter_map(|m| gift_price(prices.iter().copied(), m).map(|p| (m, p)))
                .collect();
            (!priced.is_empty()).then(|| GiftOffer { tier: tier.clone(), prices: priced })
        })
        .collect())
}

/// The currencies some tier can be given in, in the patron form's order.
pub async fn currencies(ctx: &Context) -> Result<Vec<Currency>, super::StorageError> {
    let catalog = super::tiers::catalog(ctx).await?;
    let mut currencies: Vec<Currency> = catalog
        .prices
        .iter()
        .filter(|p| p.interval == crate::domain::Interval::Month)
        .map(|p| p.amount.currency)
        .collect();
    currencies.sort_by_key(|c| (*c != Currency::UAH, *c != Currency::EUR, c.code()));
    currencies.dedup();
    Ok(currencies)
}

/// What the gift costs, from the database: an active tier's live prices (a
/// price archived a moment ago on another instance is not sold).
pub async fn price(
    ctx: &Context,
    tier: TierId,
    months: GiftMonths,
    currency: Currency,
) -> Result<Money, CheckoutError> {
    let pool = ctx.db.read();
    let active = db::tiers::find(pool, tier).await?.is_some_and(|t| t.active);
    if !active {
        return Err(CheckoutError::UnknownPrice);
    }
    let prices = db::tiers::live_prices_of(pool, tier).await?;
    gift_price(prices.iter().filter(|p| p.amount.currency == currency), months).ok_or(CheckoutError::UnknownPrice)
}

/// "Gift membership (Reader, 6 months) for Olena", in `locale`.
pub fn label(ctx: &Context, locale: Locale, tier: &str, months: GiftMonths, recipient: &str) -> String {
    use crate::i18n::Arg;
    ctx.views.i18n().t(
        locale,
        "gift-what",
        &[("tier", Arg::Str(tier)), ("months", Arg::Num(months.get() as f64)), ("recipient", Arg::Str(recipient))],
    )
}

/// What a gift's checkout is for, in the giver's words (the demo checkout page).
pub async fn checkout_label(
    ctx: &Context,
    locale: Locale,
    gift_id: Option<&str>,
) -> Result<Option<String>, super::StorageError> {
    let Some(gift) = (match gift_id {
        Some(id) => db::gifts::find(ctx.db.read(), id).await?,
        None => None,
    }) else {
        return Ok(None);
    };
    let mut tier = db::tiers::find(ctx.db.read(), gift.details.tier_id).await?.ok_or(DbError::NotFound)?;
    super::content::localiser(ctx, locale).await?.tier(&mut tier);
    Ok(Some(label(ctx, locale, &tier.name, gift.details.months, &gift.details.recipient_name)))
}

/// Stores the gift (and the giver as a member, for their receipt) and starts
/// its one-time checkout.
#[tracing::instrument(skip_all, fields(tier.id = %order.tier_id))]
pub async fn start_checkout(
    ctx: &Context,
    order: &GiftOrder,
    giver_locale: Locale,
    ip: &str,
) -> Result<CheckoutStart, CheckoutError> {
    rate_limit::check(ctx, &[(CHECKOUT_PER_IP, ip)]).await?;
    let amount = price(ctx, order.tier_id, order.months, order.currency).await?;
    let mut tier = db::tiers::find(ctx.db.read(), order.tier_id).await?.ok_or(CheckoutError::UnknownPrice)?;
    if let Ok(texts) = super::content::localiser(ctx, giver_locale).await {
        texts.tier(&mut tier);
    }
    let now = ctx.clock.now();
    let gift_id = uuid::Uuid::now_v7().to_string();
    let mut tx = ctx.db.transaction().await?;
    let giver_name = order.giver_name.as_ref().map(PersonName::as_str);
    let created =
        db::members::insert_if_absent(&mut *tx, MemberId::new(), &order.giver_email, giver_name, giver_locale, now)
            .await?;
    let giver = db::members::find_by_email(&mut *tx, &order.giver_email).await?.ok_or(DbError::NotFound)?;
    if created {
        super::sources::joined(ctx, &mut tx, giver.id, None).await?;
    }
    let gift = GiftDetails {
        id: gift_id.clone(),
        giver: giver.id,
        giver_name: order.giver_name.as_ref().map(|n| n.to_string()).or(giver.name.clone()),
        recipient_name: order.recipient_name.to_string(),
        recipient_email: order.recipient_email.to_string(),
        message: order.message.as_str().to_string(),
        locale: order.recipient_locale,
        tier_id: order.tier_id,
        months: order.months,
        amount,
        deliver_on: order.deliver_on.0.clone(),
        deliver_at: order.deliver_on.1,
    };
    db::gifts::insert(&mut *tx, &gift, now).await?;
    tx.commit().await.map_err(DbError::from)?;
    let description = label(ctx, giver_locale, &tier.name, order.months, order.recipient_name.as_str());
    if let Payments::Stripe { gateway, .. } = &ctx.payments {
        let customer = db::members::customer_id(ctx.db.read(), giver.id).await?;
        let url = gateway
            .gift_checkout(
                &gift_id,
                amount,
                customer.as_deref(),
                giver.id,
                &description,
                &ctx.url("/gift/thanks"),
                &ctx.url("/gift"),
            )
            .await?;
        return Ok(CheckoutStart::Redirect(url));
    }
    let mut checkout = DemoCheckout::new(CheckoutKind::Gift, amount, now);
    checkout.member_id = Some(giver.id.to_string());
    checkout.gift_id = Some(gift_id);
    Ok(CheckoutStart::Redirect(super::checkout::demo_url(ctx, &checkout)))
}

/// Books a gift's payment (`payment` as the gateway saw it) once: the ledger row
/// of kind `gift` (its receipt goes to the giver), and the gift marked paid.
/// Its delivery is due from then on (the job delivers a gift for today at once).
pub async fn book_payment(
    ctx: &Context,
    tx: &mut Tx,
    gift_id: &str,
    payment: &NewPayment,
) -> Result<bool, billing::BillingError> {
    let Some(gift) = db::gifts::find(&mut **tx, gift_id).await? else {
        tracing::warn!(gift.id = gift_id, "payment for an unknown gift");
        return Ok(false);
    };
    let tier = db::tiers::find(&mut **tx, gift.details.tier_id).await?.map(|t| t.name).unwrap_or_default();
    let mut row = payment.clone();
    row.kind = PaymentKind::Gift;
    row.member_id = Some(gift.details.giver);
    row.description = Some(ledger_description(&tier, gift.details.months.get(), Some(&gift.details.recipient_name)));
    // Marked first: the receipt the ledger row enqueues names the gift by its payment.
    db::gifts::mark_paid(&mut **tx, gift_id, &row.provider_id, row.occurred_at).await?;
    billing::record_payment(ctx, tx, &row, None).await
}

/// Why a gift's recipient is complimentary, as staff read it on the member page.
fn comp_reason(giver: Option<&str>, months: i64) -> String {
    format!("Gift membership from {} ({months} months)", giver.unwrap_or("a reader"))
}

/// The giver's ledger row of a gift, naming its recipient until they erase themselves.
fn ledger_description(tier: &str, months: i64, recipient: Option<&str>) -> String {
    match recipient {
        Some(name) => format!("Gift membership ({tier}, {months} months) for {name}"),
        None => format!("Gift membership ({tier}, {months} months)"),
    }
}

/// A member deleting their account takes their part of every gift with them.
/// As giver: their name and message (a gift not delivered yet still arrives,
/// from "a reader", without a message) and their name in its recipient's comp
/// reason. As the recipient of a redeemed gift: their name and address, and
/// their name in the giver's ledger row.
pub async fn forget_member(tx: &mut Tx, member: MemberId) -> Result<(), DbError> {
    for gift in db::gifts::list_of_member(&mut **tx, member).await? {
        let months = gift.details.months.get();
        if gift.details.giver == member
            && let (Some(recipient), Some(giver)) = (gift.recipient_member, gift.details.giver_name.as_deref())
        {
            let (named, unnamed) = (comp_reason(Some(giver), months), comp_reason(None, months));
            db::members::replace_comp_reason(&mut **tx, recipient, &named, &unnamed).await?;
        }
        if gift.recipient_member == Some(member)
            && let Some(payment) = &gift.payment_provider_id
        {
            let tier = db::tiers::find(&mut **tx, gift.details.tier_id).await?.map(|t| t.name).unwrap_or_default();
            let description = ledger_description(&tier, months, None);
            db::payments::set_description(&mut **tx, PaymentKind::Gift, payment, &description).await?;
        }
    }
    db::gifts::erase_giver(&mut **tx, member).await?;
    db::gifts::erase_recipient(&mut **tx, member).await
}

/// The redemption token of a gift: its id and a keyed hash of it.
pub fn token(keys: &Keys, gift_id: &str) -> String {
    format!("{gift_id}.{}", keys.keyed_hash(TOKEN_LABEL, gift_id))
}

/// The gift id a token stands for, if the token is one of ours, unaltered.
pub fn open_token(keys: &Keys, token: &str) -> Option<String> {
    let (id, mac) = token.trim().rsplit_once('.')?;
    if id.is_empty() || id.len() > 64 {
        return None;
    }
    constant_time_eq(keys.keyed_hash(TOKEN_LABEL, id).as_bytes(), mac.as_bytes()).then(|| id.to_string())
}

#[derive(Debug, thiserror::Error)]
pub enum RedeemError {
    #[error("the gift link is not valid")]
    InvalidLink,
    #[error("this gift was redeemed already")]
    AlreadyRedeemed,
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Outbox(#[from] outbox::OutboxError),
}

/// A gift as its redemption page shows it.
#[derive(Clone, Debug)]
pub struct GiftView {
    pub gift: Gift,
    pub tier: Option<Tier>,
}

/// The paid gift a token stands for (redeemed or not).
pub async fn for_token(ctx: &Context, token: &str) -> Result<GiftView, RedeemError> {
    let id = open_token(&ctx.keys, token).ok_or(RedeemError::InvalidLink)?;
    let gift = db::gifts::find(ctx.db.read(), &id).await?.filter(|g| g.paid_at.is_some());
    let gift = gift.ok_or(RedeemError::InvalidLink)?;
    let tier = db::tiers::find(ctx.db.read(), gift.details.tier_id).await?;
    Ok(GiftView { gift, tier })
}

/// A redeemed gift: the recipient's session (they are signed in) and when
/// their complimentary membership ends.
#[derive(Debug)]
pub struct Redeemed {
    pub member_id: MemberId,
    pub cookie: String,
    pub comped_until: Micros,
}

/// Redeems the gift once, for the address it was sent to: that member (created
/// when new) is complimentary for the gift's months (after any comp they have),
/// signed in, and the giver is told. A second redemption is refused.
#[tracing::instrument(skip_all)]
pub async fn redeem(ctx: &Context, token: &str, user_agent: Option<&str>) -> Result<Redeemed, RedeemError> {
    let id = open_token(&ctx.keys, token).ok_or(RedeemError::InvalidLink)?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.transaction().await?;
    let gift = db::gifts::find(&mut *tx, &id).await?.filter(|g| g.paid_at.is_some()).ok_or(RedeemError::InvalidLink)?;
    if gift.redeemed_at.is_some() {
        return Err(RedeemError::AlreadyRedeemed);
    }
    let email =
        Email::parse(&gift.details.recipient_email).map_err(|_| DbError::other("stored gift email cannot be read"))?;
    db::members::insert_if_absent(
        &mut *tx,
        MemberId::new(),
        &email,
        Some(&gift.details.recipient_name),
        gift.details.locale,
        now,
    )
    .await?;
    let member = db::members::find_by_email(&mut *tx, &email).await?.ok_or(DbError::NotFound)?;
    let until = extended_comp(now, member.comped_until, gift.details.months);
    if !db::gifts::mark_redeemed(&mut *tx, &gift.details.id, member.id, now, until).await? {
        return Err(RedeemError::AlreadyRedeemed);
    }
    // An open-ended comp keeps its reason; otherwise the gift is why.
    let reason = match (member.comped_until, db::members::comp_reason(&mut *tx, member.id).await?) {
        (Some(COMP_NO_END), Some(reason)) => reason,
        _ => comp_reason(gift.details.giver_name.as_deref(), gift.details.months.get()),
    };
    db::members::set_comp(&mut *tx, member.id, Some(until), Some(&reason)).await?;
    tx.changed(Change::Member(member.id));
    tx.changed(Change::Standing(member.id));
    let actor = super::audit::Actor { staff_id: None, email: None, ip: None };
    super::audit::record(
        ctx,
        &mut tx,
        &actor,
        "gift.redeem",
        Some(member.id.to_string()),
        Some(gift.details.id.clone()),
    )
    .await?;
    tell_giver(ctx, &mut tx, &gift).await?;
    db::members::touch_sign_in(&mut *tx, member.id, now).await?;
    let cookie = sessions::create(ctx, &mut tx, Owner::Member(member.id), user_agent).await?;
    tx.commit().await.map_err(DbError::from)?;
    ctx.mail_wakeup.notify_one();
    tracing::info!(gift.id = %gift.details.id, member.id = %member.id, "gift redeemed");
    Ok(Redeemed { member_id: member.id, cookie, comped_until: until })
}

#[derive(Serialize)]
struct DeliveredMail {
    recipient_name: String,
    giver_name: Option<String>,
    message: String,
    tier: Option<String>,
    months: i64,
    redeem_url: String,
}

#[derive(Serialize)]
struct RedeemedMail {
    name: Option<String>,
    recipient_name: String,
    tier: Option<String>,
    months: i64,
}

#[derive(Serialize)]
struct EndedMail {
    name: Option<String>,
    tier: Option<String>,
    rejoin_url: String,
}

/// The tier's name in `locale`.
async fn tier_name(ctx: &Context, tx: &mut Tx, tier: TierId, locale: Locale) -> Result<Option<String>, DbError> {
    let tier = db::tiers::find(&mut **tx, tier).await?;
    super::patron_mail::tier_name(ctx, tx, tier, locale).await
}

async fn tell_giver(ctx: &Context, tx: &mut Tx, gift: &Gift) -> Result<bool, RedeemError> {
    let giver = db::members::find_by_id(&mut **tx, gift.details.giver).await?.filter(|m| m.deleted_at.is_none());
    let Some((giver, Some(email))) = giver.map(|g| (g.clone(), g.email)) else { return Ok(false) };
    let data = RedeemedMail {
        name: giver.name.clone(),
        recipient_name: gift.details.recipient_name.clone(),
        tier: tier_name(ctx, tx, gift.details.tier_id, giver.locale).await?,
        months: gift.details.months.get(),
    };
    let key = Some(format!("gift-redeemed:{}", gift.details.id));
    Ok(outbox::enqueue(ctx, tx, "gift_redeemed", giver.locale, email.as_str(), &data, key).await?)
}

/// The gifts job: emails the recipients of gifts whose day has come (once
/// each), and invites those whose gift membership ended to continue as patrons
/// (once each). Returns how many gifts it handled.
pub async fn run_due(ctx: &Context) -> Result<usize, RedeemError> {
    let now = ctx.clock.now();
    let mut handled = 0;
    for gift in db::gifts::list_due(ctx.db.read(), Step::Delivered, now, BATCH).await? {
        let mut tx = ctx.db.transaction().await?;
        if db::gifts::mark(&mut *tx, &gift.details.id, Step::Delivered, now).await? {
            let data = DeliveredMail {
                recipient_name: gift.details.recipient_name.clone(),
                giver_name: gift.details.giver_name.clone(),
                message: gift.details.message.clone(),
                tier: tier_name(ctx, &mut tx, gift.details.tier_id, gift.details.locale).await?,
                months: gift.details.months.get(),
                redeem_url: ctx.url(&format!("/gift/redeem?t={}", token(&ctx.keys, &gift.details.id))),
            };
            let key = Some(format!("gift-delivered:{}", gift.details.id));
            outbox::enqueue(
                ctx,
                &mut tx,
                "gift_delivered",
                gift.details.locale,
                &gift.details.recipient_email,
                &data,
                key,
            )
            .await?;
            handled += 1;
        }
        tx.commit().await.map_err(DbError::from)?;
    }
    for gift in db::gifts::list_due(ctx.db.read(), Step::Ended, now, BATCH).await? {
        let mut tx = ctx.db.transaction().await?;
        if db::gifts::mark(&mut *tx, &gift.details.id, Step::Ended, now).await?
            && let Some(member) = gift.recipient_member
        {
            invite_to_continue(ctx, &mut tx, &gift, member).await?;
            handled += 1;
        }
        tx.commit().await.map_err(DbError::from)?;
    }
    if handled > 0 {
        ctx.mail_wakeup.notify_one();
    }
    Ok(handled)
}

/// The recipient of a gift that ended is invited to continue as a patron,
/// unless they are one already (or deleted their account).
async fn invite_to_continue(ctx: &Context, tx: &mut Tx, gift: &Gift, member: MemberId) -> Result<bool, RedeemError> {
    let Some(m) = db::members::find_by_id(&mut **tx, member).await?.filter(|m| m.deleted_at.is_none()) else {
        return Ok(false);
    };
    let Some(email) = m.email.clone() else { return Ok(false) };
    let subscriptions = db::subscriptions::list_for_member(&mut **tx, member).await?;
    let standing = billing::standing_without_tier(ctx.clock.now(), ctx.past_due_grace, subscriptions, m.comped_until);
    if standing.has_access {
        return Ok(false);
    }
    let data = EndedMail {
        name: m.name.clone(),
        tier: tier_name(ctx, tx, gift.details.tier_id, m.locale).await?,
        rejoin_url: ctx.url("/patron"),
    };
    let key = Some(format!("gift-ended:{}", gift.details.id));
    Ok(outbox::enqueue(ctx, tx, "gift_ended", m.locale, email.as_str(), &data, key).await?)
}
