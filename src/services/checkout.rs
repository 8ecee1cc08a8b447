//! Becoming a patron and giving once: starting a checkout with the payment
//! provider, and (for demo payments) completing it.
use super::billing::{self, Applied, BillingError};
use super::membership::{self, MembershipError};
use super::rate_limit::{self, Limit, RateLimitError};
use super::{Context, sessions};
use crate::clock::{DAY, MINUTE};
use crate::db::payments::NewPayment;
use crate::db::sessions::Owner;
use crate::db::{self, Change, DbError};
use crate::domain::{
    Currency, Email, Interval, Locale, Member, MemberId, Money, OfferRef, PaymentKind, PersonName, Source,
    SubscriptionState, SubscriptionStatus, Tier, TierPrice,
};
use crate::payments::Payments;
use crate::payments::demo::{CheckoutKind, DemoCheckout};
use crate::payments::stripe::{GatewayError, StripeGateway};

pub const CHECKOUT_PER_IP: Limit = Limit { name: "checkout-ip", max: 30, window: 15 * MINUTE };

/// The custom-amount bounds of a one-time gift (major units).
pub const DONATION_MIN_MAJOR: i64 = 1;
pub const DONATION_MAX_MAJOR: i64 = 10_000;
/// Currencies the donation form offers.
pub const DONATION_CURRENCIES: [Currency; 3] = [Currency::UAH, Currency::EUR, Currency::USD];
/// At most this many suggested amounts per currency.
pub const MAX_PRESETS: usize = 6;

/// The suggested one-time amounts (major units) for a currency until staff set
/// their own: the first is "a cup of coffee" there.
pub fn default_presets(currency: Currency) -> Vec<i64> {
    if currency == Currency::UAH { vec![100, 200, 500, 1000] } else { vec![3, 10, 25, 50] }
}

fn presets_key(currency: Currency) -> String {
    format!("donation.presets.{}", currency.as_str())
}

/// The suggested one-time amounts for `currency`, as staff set them (or the defaults).
pub async fn donation_presets(ctx: &Context, currency: Currency) -> Result<Vec<i64>, DbError> {
    let stored = db::settings::get(ctx.db.read(), &presets_key(currency)).await?;
    Ok(stored
        .and_then(|s| parse_presets(&s).ok())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| default_presets(currency)))
}

/// Amounts as staff type them: whole numbers separated by commas or spaces,
/// 1 to [`MAX_PRESETS`] of them, each within the gift bounds.
pub fn parse_presets(input: &str) -> Result<Vec<i64>, &'static str> {
    let mut amounts = Vec::new();
    for part in input.split(|c: char| c == ',' || c.is_whitespace()).filter(|p| !p.is_empty()) {
        let n: i64 = part.parse().map_err(|_| "error-presets")?;
        if !(DONATION_MIN_MAJOR..=DONATION_MAX_MAJOR).contains(&n) {
            return Err("error-presets");
        }
        amounts.push(n);
    }
    if amounts.is_empty() || amounts.len() > MAX_PRESETS {
        return Err("error-presets");
    }
    amounts.sort_unstable();
    amounts.dedup();
    Ok(amounts)
}

const SHOW_PATRON_COUNT_KEY: &str = "site.show_patron_count";

/// How many patrons the newsroom has, if it chose to say so on its landing page.
pub async fn public_patron_count(ctx: &Context) -> Result<Option<i64>, DbError> {
    if db::settings::get(ctx.db.read(), SHOW_PATRON_COUNT_KEY).await?.as_deref() != Some("yes") {
        return Ok(None);
    }
    Ok(Some(db::subscriptions::count_patrons(ctx.db.read(), ctx.clock.now()).await?))
}

pub async fn shows_patron_count(ctx: &Context) -> Result<bool, DbError> {
    Ok(db::settings::get(ctx.db.read(), SHOW_PATRON_COUNT_KEY).await?.as_deref() == Some("yes"))
}

/// Admins choose whether the landing page says how many patrons there are (audited).
pub async fn set_show_patron_count(ctx: &Context, actor: &super::audit::Actor, show: bool) -> Result<(), DbError> {
    let value = if show { "yes" } else { "no" };
    let mut tx = ctx.db.transaction().await?;
    db::settings::set(&mut *tx, SHOW_PATRON_COUNT_KEY, value, ctx.clock.now()).await?;
    super::audit::record(ctx, &mut tx, actor, "site.show_patron_count", None, Some(value.to_string())).await?;
    // The landing page is cached: it must show the change.
    tx.changed(db::Change::Catalog);
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}

/// Staff set the suggested amounts for `currency`, with an audit entry.
pub async fn set_donation_presets(
    ctx: &Context,
    actor: &super::audit::Actor,
    currency: Currency,
    amounts: &[i64],
) -> Result<(), DbError> {
    let value = amounts.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let mut tx = ctx.db.transaction().await?;
    db::settings::set(&mut *tx, &presets_key(currency), &value, ctx.clock.now()).await?;
    super::audit::record(ctx, &mut tx, actor, "donation.presets", Some(currency.code()), Some(value)).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    #[error("this price is not on offer")]
    UnknownPrice,
    #[error("the amount is below the tier's minimum")]
    BelowMinimum,
    #[error("the amount is outside the accepted range")]
    AmountOutOfRange,
    /// A gift toward a topic in another currency than its goal's.
    #[error("gifts toward this topic are made in its goal's currency")]
    GoalCurrency,
    #[error("too many attempts; try again in {retry_after_secs} seconds")]
    RateLimited { retry_after_secs: i64 },
    #[error("the payment provider failed: {0}")]
    Gateway(#[from] GatewayError),
    #[error(transparent)]
    Membership(#[from] MembershipError),
    #[error(transparent)]
    Billing(#[from] BillingError),
    #[error(transparent)]
    Offer(#[from] super::offers::OfferError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<RateLimitError> for CheckoutError {
    fn from(e: RateLimitError) -> Self {
        match e {
            RateLimitError::Limited { retry_after_secs } => Self::RateLimited { retry_after_secs },
            RateLimitError::Db(e) => Self::Db(e),
        }
    }
}

/// Where to send the visitor next.
#[derive(Debug, PartialEq, Eq)]
pub enum CheckoutStart {
    /// To the provider's checkout page.
    Redirect(String),
    /// The address already has an active patronage: a sign-in link was emailed instead.
    AlreadyPatron,
}

/// A live price of an active tier, or an error. Read from the database, not the
/// catalogue the pages cache: a price archived on another instance a moment ago
/// is not sold.
pub async fn offered_price(ctx: &Context, price_id: &str) -> Result<TierPrice, CheckoutError> {
    db::tiers::find_live_price(ctx.db.read(), price_id).await?.ok_or(CheckoutError::UnknownPrice)
}

/// A price (live or archived: an open checkout keeps the price it was made with)
/// and its tier, for the demo checkout page to say what is being bought.
pub async fn subscription_offer(ctx: &Context, price_id: &str) -> Result<Option<(Tier, TierPrice)>, CheckoutError> {
    let pool = ctx.db.read();
    let Some(price) = db::tiers::find_price(pool, price_id).await? else { return Ok(None) };
    Ok(db::tiers::find(pool, price.tier_id).await?.map(|tier| (tier, price)))
}

/// The amount to charge per interval: the tier's price, or (pay what you want)
/// the visitor's amount if at least the price.
pub fn amount_for(price: &TierPrice, chosen: Option<Money>) -> Result<Money, CheckoutError> {
    match chosen {
        Some(m) if price.flexible => {
            if m.currency != price.amount.currency {
                return Err(CheckoutError::UnknownPrice);
            }
            if m.minor < price.amount.minor {
                return Err(CheckoutError::BelowMinimum);
            }
            if m.minor > Money::MAX_MAJOR * 10_i64.pow(m.currency.exponent()) {
                return Err(CheckoutError::AmountOutOfRange);
            }
            Ok(m)
        }
        _ => Ok(price.amount),
    }
}

/// Starts the patron checkout for `email` (creating a free member when new).
/// `source` is where the reader came from: the new member's first source, and
/// the subscription's (and so its payments').
#[allow(clippy::too_many_arguments)]
#[tracing::instrument(skip_all, fields(price.id = %price.id))]
pub async fn start_patron_checkout(
    ctx: &Context,
    email: &Email,
    name: Option<&PersonName>,
    locale: Locale,
    price: &TierPrice,
    amount: Money,
    ip: &str,
    source: Option<&Source>,
    offer: Option<&super::offers::ChosenOffer>,
) -> Result<CheckoutStart, CheckoutError> {
    rate_limit::check(ctx, &[(CHECKOUT_PER_IP, ip)]).await?;
    let mut tx = ctx.db.transaction().await?;
    let created = db::members::insert_if_absent(
        &mut *tx,
        MemberId::new(),
        email,
        name.map(PersonName::as_str),
        locale,
        ctx.clock.now(),
    )
    .await?;
    let member = db::members::find_by_email(&mut *tx, email).await?.ok_or(DbError::NotFound)?;
    if created {
        super::sources::joined(ctx, &mut tx, member.id, source).await?;
    }
    tx.commit().await.map_err(DbError::from)?;
    // A paused patron is one still: they resume rather than pay twice.
    let standing = billing::standing(ctx, member.id).await?;
    if standing.has_access || standing.pause.is_some() {
        let mut tx = ctx.db.transaction().await?;
        membership::send_sign_in_link(ctx, &mut tx, &member, false).await?;
        tx.commit().await.map_err(DbError::from)?;
        ctx.mail_wakeup.notify_one();
        return Ok(CheckoutStart::AlreadyPatron);
    }
    if let Payments::Stripe { gateway, .. } = &ctx.payments {
        let customer = stripe_customer(ctx, gateway, &member).await?;
        let (product, stripe_price) = stripe_price(ctx, gateway, price).await?;
        let custom = (amount != price.amount).then_some((amount, price.interval));
        let stripe_offer = match offer {
            Some(chosen) => Some(super::offers::stripe_offer(ctx, gateway, chosen).await?),
            None => None,
        };
        let url = gateway
            .subscription_checkout(
                &uuid::Uuid::now_v7().to_string(),
                &customer,
                member.id,
                &stripe_price,
                &product,
                custom,
                &price.id,
                created,
                source,
                stripe_offer.as_ref().map(super::offers::StripeOffer::as_checkout),
                &ctx.url("/patron/welcome?session_id={CHECKOUT_SESSION_ID}"),
                &ctx.url("/patron"),
            )
            .await?;
        return Ok(CheckoutStart::Redirect(url));
    }
    let mut checkout = DemoCheckout::new(CheckoutKind::Subscription, amount, ctx.clock.now());
    checkout.member_id = Some(member.id.to_string());
    checkout.price_id = Some(price.id.clone());
    // Signing in straight from the success page is only safe for an account this
    // very checkout created; anyone else gets a sign-in link by email.
    checkout.new_member = created;
    checkout.source = source.cloned();
    if let Some(chosen) = offer {
        checkout.offer_id = Some(chosen.offer.id.clone());
        checkout.trial_days = chosen.offer.trial_days();
        checkout.first_charge_minor = Some(chosen.offer.first_charge(amount).minor);
    }
    Ok(CheckoutStart::Redirect(demo_url(ctx, &checkout)))
}

/// What a donor who covers the card fee adds to `gift` so that all of it
/// reaches the newsroom (CARD_FEES for its currency).
pub fn fee_cover(ctx: &Context, gift: Money) -> Money {
    let total = ctx.card_fees.covering(gift);
    Money::new(total.minor - gift.minor, gift.currency)
}

/// What a donation checkout is for, in the donor's words: "A one-time gift of
/// €10.00 to <newsroom>" (plus the covered fee when there is one).
pub fn donation_label(ctx: &Context, locale: Locale, gift: Money, total: Money) -> String {
    use crate::i18n::Arg;
    let extra = Money::new(total.minor - gift.minor, total.currency);
    let (amount, extra) = (crate::numbers::money(locale, gift), crate::numbers::money(locale, extra));
    let newsroom = ctx.newsroom_name.as_str();
    let mut args = vec![("amount", Arg::Str(&amount)), ("newsroom", Arg::Str(newsroom))];
    let key = if total.minor > gift.minor {
        args.push(("extra", Arg::Str(&extra)));
        "donation-what-covered"
    } else {
        "donation-what"
    };
    ctx.views.i18n().t(locale, key, &args)
}

/// Starts a one-time donation checkout. With `cover_fee` the charge is the
/// gift grossed up by the currency's card fee, so the newsroom nets the gift.
#[allow(clippy::too_many_arguments)]
pub async fn start_donation_checkout(
    ctx: &Context,
    amount: Money,
    donor: Option<MemberId>,
    donor_name: Option<&PersonName>,
    cover_fee: bool,
    locale: Locale,
    ip: &str,
    source: Option<&Source>,
    toward: Option<&super::goals::GiftTarget>,
) -> Result<CheckoutStart, CheckoutError> {
    rate_limit::check(ctx, &[(CHECKOUT_PER_IP, ip)]).await?;
    let unit = 10_i64.pow(amount.currency.exponent());
    if amount.minor < DONATION_MIN_MAJOR * unit || amount.minor > DONATION_MAX_MAJOR * unit {
        return Err(CheckoutError::AmountOutOfRange);
    }
    if toward.is_some_and(|t| t.progress.goal.currency != amount.currency) {
        return Err(CheckoutError::GoalCurrency);
    }
    let topic = toward.map(|t| t.topic_id);
    let total = if cover_fee { ctx.card_fees.covering(amount) } else { amount };
    if let Payments::Stripe { gateway, .. } = &ctx.payments {
        let customer = match donor {
            Some(member) => db::members::customer_id(ctx.db.read(), member).await?,
            None => None,
        };
        let description = donation_label(ctx, locale, amount, total);
        let url = gateway
            .donation_checkout(
                &uuid::Uuid::now_v7().to_string(),
                total,
                customer.as_deref(),
                donor,
                topic,
                &description,
                source,
                &ctx.url("/donate/thanks"),
                &ctx.url("/donate"),
            )
            .await?;
        return Ok(CheckoutStart::Redirect(url));
    }
    let mut checkout = DemoCheckout::new(CheckoutKind::Donation, total, ctx.clock.now());
    checkout.member_id = donor.map(|m| m.to_string());
    checkout.donor_name = donor_name.map(|n| n.to_string());
    checkout.cover_fee = cover_fee;
    checkout.gift_minor = Some(amount.minor);
    checkout.source = source.cloned();
    checkout.topic_id = topic.map(|t| t.to_string());
    Ok(CheckoutStart::Redirect(demo_url(ctx, &checkout)))
}

/// The member's Stripe customer, created once: never a second customer for a
/// member, unless Stripe deleted the first (then a new one, under a new key, as
/// Stripe would answer the old key with the deleted customer).
async fn stripe_customer(ctx: &Context, gateway: &StripeGateway, member: &Member) -> Result<String, CheckoutError> {
    if let Some(id) = db::members::customer_id(ctx.db.read(), member.id).await? {
        return Ok(id);
    }
    let email = member.email.as_ref().map(|e| e.to_string()).unwrap_or_default();
    let generation = db::members::deleted_customer_count(ctx.db.read(), member.id).await?;
    let created = gateway.create_customer(member.id, generation, &email, member.name.as_deref()).await?;
    db::members::link_customer(&mut *ctx.db.write().await?, member.id, &created).await?;
    // Another request may have linked one first; the stored one wins.
    Ok(db::members::customer_id(ctx.db.read(), member.id).await?.unwrap_or(created))
}

/// The Stripe product and price behind one of our tier prices, created on first use.
pub(super) async fn stripe_price(
    ctx: &Context,
    gateway: &StripeGateway,
    price: &TierPrice,
) -> Result<(String, String), CheckoutError> {
    let pool = ctx.db.read();
    let tier = db::tiers::find(pool, price.tier_id).await?.ok_or(CheckoutError::UnknownPrice)?;
    let product = match tier.stripe_product_id {
        Some(p) => p,
        None => {
            let created = gateway.create_product(&tier.id.to_string(), &tier.name).await?;
            let mut writer = ctx.db.write().await?;
            db::tiers::set_stripe_product(&mut *writer, tier.id, &created).await?;
            writer.changed(Change::Catalog);
            drop(writer);
            db::tiers::find(pool, tier.id).await?.and_then(|t| t.stripe_product_id).unwrap_or(created)
        }
    };
    let stripe_price = match &price.stripe_price_id {
        Some(p) => p.clone(),
        None => {
            let created = gateway.create_price(&price.id, &product, price.amount, price.interval).await?;
            let mut writer = ctx.db.write().await?;
            db::tiers::set_stripe_price(&mut *writer, &price.id, &created).await?;
            writer.changed(Change::Catalog);
            drop(writer);
            db::tiers::find_price(pool, &price.id).await?.and_then(|p| p.stripe_price_id).unwrap_or(created)
        }
    };
    Ok((product, stripe_price))
}

/// The Stripe success page: confirms the session by fetching it (the webhook may
/// not have arrived yet), applies the subscription, and returns a session cookie
/// when the checkout created the account and it was never signed in before.
pub async fn confirm_stripe_checkout(
    ctx: &Context,
    session_id: &str,
    user_agent: Option<&str>,
) -> Result<Option<String>, CheckoutError> {
    let Payments::Stripe { gateway, .. } = &ctx.payments else { return Ok(None) };
    if !session_id.starts_with("cs_") || session_id.len() > 255 {
        return Ok(None);
    }
    let session = gateway.checkout_session(session_id).await?;
    let (Some(member_id), Some(sub), true, true) =
        (session.member_hint, session.subscription_id.as_deref(), session.ours, session.paid)
    else {
        return Ok(None);
    };
    let state = gateway.subscription(sub).await?;
    let mut tx = ctx.db.transaction().await?;
    if !matches!(billing::apply_subscription(ctx, &mut tx, &state).await?, Applied::Applied { .. }) {
        return Ok(None);
    }
    let member = db::members::find_by_id(&mut *tx, member_id).await?;
    let cookie = match member {
        Some(m) if session.new_member && m.last_sign_in_at.is_none() && m.deleted_at.is_none() => {
            db::members::touch_sign_in(&mut *tx, member_id, ctx.clock.now()).await?;
            Some(sessions::create(ctx, &mut tx, Owner::Member(member_id), user_agent).await?)
        }
        _ => None,
    };
    tx.commit().await.map_err(DbError::from)?;
    Ok(cookie)
}

/// Creates the Stripe product and price of one of our prices if missing.
pub async fn ensure_stripe_price(ctx: &Context, price: &TierPrice) -> Result<(), CheckoutError> {
    if let Payments::Stripe { gateway, .. } = &ctx.payments {
        stripe_price(ctx, gateway, price).await?;
    }
    Ok(())
}

/// Where "Manage billing" goes: Stripe's Customer Portal, or the demo stand-in.
pub async fn billing_portal_url(ctx: &Context, member: MemberId) -> Result<String, CheckoutError> {
    match &ctx.payments {
        Payments::Demo => Ok("/demo/portal".to_string()),
        Payments::Stripe { gateway, .. } => match db::members::customer_id(ctx.db.read(), member).await? {
            Some(customer) => Ok(gateway.portal(&customer, &ctx.url("/account")).await?),
            None => Ok("/account".to_string()),
        },
    }
}

pub(super) fn demo_url(ctx: &Context, checkout: &DemoCheckout) -> String {
    let (payload, signature) = checkout.seal(&ctx.keys);
    format!("/demo/checkout?c={payload}&s={signature}")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DemoOutcome {
    Succeed,
    Fail,
    Cancel,
}

#[derive(Debug, PartialEq, Eq)]
pub enum DemoResult {
    /// The subscription is active; `cookie` is a new session when the checkout
    /// created the account and this is its first completion.
    Subscribed {
        member_id: MemberId,
        cookie: Option<String>,
    },
    Donated,
    /// A gift membership was paid for.
    Gifted,
    Failed,
    Canceled,
}

/// Completes a demo checkout through the same billing code Stripe events use.
#[tracing::instrument(skip_all, fields(checkout.kind = ?checkout.kind))]
pub async fn complete_demo_checkout(
    ctx: &Context,
    checkout: &DemoCheckout,
    outcome: DemoOutcome,
    user_agent: Option<&str>,
) -> Result<DemoResult, CheckoutError> {
    if outcome == DemoOutcome::Cancel {
        return Ok(DemoResult::Canceled);
    }
    let now = ctx.clock.now();
    let amount = checkout.amount();
    let member_id: Option<MemberId> = checkout.member_id.as_deref().and_then(|m| m.parse().ok());
    let mut tx = ctx.db.transaction().await?;
    let result = match checkout.kind {
        CheckoutKind::Subscription => {
            let (Some(member_id), Some(price_id)) = (member_id, checkout.price_id.as_deref()) else {
                return Err(CheckoutError::UnknownPrice);
            };
            let price = db::tiers::find_price(&mut *tx, price_id).await?.ok_or(CheckoutError::UnknownPrice)?;
            let succeeded = outcome == DemoOutcome::Succeed;
            let trial = checkout.trial_days.filter(|_| succeeded);
            let provider_id = format!("demo_sub_{}", checkout.nonce);
            let first = db::subscriptions::find_by_provider_id(&mut *tx, &provider_id).await?.is_none();
            let state = SubscriptionState {
                provider_id,
                customer_id: format!("demo_cus_{member_id}"),
                member_hint: Some(member_id),
                price_ref: Some(price.id.clone()),
                price_hint: None,
                status: match (succeeded, trial) {
                    (true, Some(_)) => SubscriptionStatus::Trialing,
                    (true, None) => SubscriptionStatus::Active,
                    (false, _) => SubscriptionStatus::Incomplete,
                },
                interval: price.interval,
                amount_minor: amount.minor,
                currency: amount.currency,
                current_period_end: Some(now + trial.map_or_else(|| period(price.interval), |days| days * DAY)),
                cancel_at_period_end: false,
                started_at: Some(now),
                canceled_at: None,
                ended_at: None,
                pause: None,
                source: checkout.source.as_ref().map(Source::to_raw),
                // The demo gateway decides the offer's limit and end, as Stripe does its coupon's.
                offer: checkout
                    .offer_id
                    .clone()
                    .filter(|_| succeeded)
                    .map(|reference| OfferRef { reference, enforce: true }),
            };
            let applied = billing::apply_subscription(ctx, &mut tx, &state).await?;
            if !matches!(applied, Applied::Applied { .. }) {
                return Err(CheckoutError::UnknownPrice);
            }
            if !succeeded {
                tx.commit().await.map_err(DbError::from)?;
                ctx.mail_wakeup.notify_one();
                return Ok(DemoResult::Failed);
            }
            if trial.is_some() {
                // Nothing is paid until the trial ends (`charge_due_demo_trials`).
                let cookie = if first && checkout.new_member {
                    Some(sessions::create(ctx, &mut tx, Owner::Member(member_id), user_agent).await?)
                } else {
                    None
                };
                tx.commit().await.map_err(DbError::from)?;
                ctx.mail_wakeup.notify_one();
                return Ok(DemoResult::Subscribed { member_id, cookie });
            }
            let payment = demo_payment(
                ctx,
                PaymentKind::Subscription,
                format!("demo_in_{}", checkout.nonce),
                Some(member_id),
                checkout.due_now(),
                "Demo subscription payment",
                checkout,
                now,
            );
            let first = billing::record_payment(ctx, &mut tx, &payment, Some(&state.provider_id)).await?;
            let cookie = if first && checkout.new_member {
                Some(sessions::create(ctx, &mut tx, Owner::Member(member_id), user_agent).await?)
            } else {
                None
            };
            DemoResult::Subscribed { member_id, cookie }
        }
        CheckoutKind::Donation => {
            if outcome == DemoOutcome::Fail {
                return Ok(DemoResult::Failed);
            }
            // The donor named themselves on the form, or gave as the signed-in
            // member (then `record_payment` names them from their record).
            let description = match &checkout.donor_name {
                Some(name) => format!("Donation from {name}"),
                None => billing::DONATION.to_string(),
            };
            let mut payment = demo_payment(
                ctx,
                PaymentKind::Donation,
                format!("demo_ch_{}", checkout.nonce),
                member_id,
                amount,
                &description,
                checkout,
                now,
            );
            payment.source_id =
                super::sources::store(ctx, &mut tx, checkout.source.as_ref().map(Source::to_raw).as_ref()).await?;
            // Checked when the checkout started; the gift is tagged even if the goal
            // closed since (the money was given toward it).
            payment.topic_id = checkout.topic_id.as_deref().and_then(|t| t.parse().ok());
            billing::record_payment(ctx, &mut tx, &payment, None).await?;
            DemoResult::Donated
        }
        CheckoutKind::Gift => {
            if outcome == DemoOutcome::Fail {
                return Ok(DemoResult::Failed);
            }
            let Some(gift_id) = checkout.gift_id.as_deref() else { return Err(CheckoutError::UnknownPrice) };
            let provider_id = format!("demo_ch_{}", checkout.nonce);
            let payment =
                demo_payment(ctx, PaymentKind::Gift, provider_id, member_id, amount, "Gift membership", checkout, now);
            super::gifts::book_payment(ctx, &mut tx, gift_id, &payment).await?;
            DemoResult::Gifted
        }
    };
    tx.commit().await.map_err(DbError::from)?;
    // Receipts and the welcome were enqueued with the payment; a gift for today is due now.
    ctx.mail_wakeup.notify_one();
    ctx.stripe_wakeup.notify_one();
    Ok(result)
}

/// A demo ledger row with a simulated card fee.
#[allow(clippy::too_many_arguments)]
fn demo_payment(
    ctx: &Context,
    kind: PaymentKind,
    provider_id: String,
    member_id: Option<MemberId>,
    amount: Money,
    description: &str,
    checkout: &DemoCheckout,
    now: crate::clock::Micros,
) -> NewPayment {
    let charge = Some(format!("demo_ch_{}", checkout.nonce));
    billing::simulated_payment(&ctx.card_fees, kind, provider_id, member_id, None, amount, charge, description, now)
}

/// Stripe charges a trial's first invoice when the trial ends and reports it; the
/// demo gateway has no one to, so this job does it for demo subscriptions: the
/// subscription turns active (new MRR) and its first payment is booked.
pub async fn charge_due_demo_trials(ctx: &Context) -> Result<usize, CheckoutError> {
    if !ctx.payments.is_demo() {
        return Ok(0);
    }
    let due = db::subscriptions::list_demo_trials_due(ctx.db.read(), ctx.clock.now()).await?;
    for sub in &due {
        let ends = sub.current_period_end.unwrap_or_else(|| ctx.clock.now());
        let mut state = SubscriptionState::from_mirror(sub);
        state.status = SubscriptionStatus::Active;
        state.current_period_end = Some(ends + period(sub.interval));
        let mut tx = ctx.db.transaction().await?;
        billing::apply_subscription(ctx, &mut tx, &state).await?;
        let amount = Money::new(sub.amount_minor, sub.currency);
        let payment = billing::simulated_payment(
            &ctx.card_fees,
            PaymentKind::Subscription,
            format!("demo_in_{}_trial", sub.provider_id),
            sub.member_id,
            None,
            amount,
            Some(format!("demo_ch_{}_trial", sub.provider_id)),
            "Demo subscription payment",
            ends,
        );
        billing::record_payment(ctx, &mut tx, &payment, Some(&sub.provider_id)).await?;
        tx.commit().await.map_err(DbError::from)?;
    }
    if !due.is_empty() {
        ctx.mail_wakeup.notify_one();
    }
    Ok(due.len())
}

fn period(interval: Interval) -> crate::clock::Micros {
    match interval {
        Interval::Month => 30 * DAY,
        Interval::Year => 365 * DAY,
    }
}
