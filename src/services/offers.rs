//! Offers and trials: staff make and end them and feature one on the landing
//! page; a reader reaches one by its link or its code, and the checkout carries
//! it to the payment provider (a Stripe coupon, promotion code or trial, or the
//! demo gateway). Which subscription redeemed which offer is recorded by
//! `billing::apply_subscription`, where the redemption limit is decided.
use super::Context;
use super::audit::{self, Actor};
use crate::db::{self, Change, DbError};
use crate::domain::{Offer, OfferRefusal, TierPrice};
use crate::payments::stripe::{CheckoutOffer, GatewayError, StripeGateway};

/// What the offers report shows per offer and currency (read by the report page and its CSV).
pub use crate::db::offers::OfferFigures;

#[derive(Debug, thiserror::Error)]
pub enum OfferError {
    #[error(transparent)]
    Refused(#[from] OfferRefusal),
    /// Another offer has this slug.
    #[error("the link name is taken")]
    SlugTaken,
    /// Another offer has this code.
    #[error("the code is taken")]
    CodeTaken,
    #[error("the payment provider failed: {0}")]
    Gateway(#[from] GatewayError),
    #[error(transparent)]
    Db(#[from] DbError),
}

const FEATURED_KEY: &str = "offers.featured";

/// An offer a reader chose for a checkout, and how: a typed code goes to
/// Stripe as its promotion code, a link as the coupon.
#[derive(Clone, Debug)]
pub struct ChosenOffer {
    pub offer: Offer,
    pub by_code: bool,
}

/// Stores a new offer (staff's), with its audit entry.
pub async fn create(ctx: &Context, actor: &Actor, offer: &Offer) -> Result<(), OfferError> {
    let mut tx = ctx.db.transaction().await?;
    match db::offers::insert(&mut *tx, offer).await {
        Err(e) if e.is_conflict_on("offers_slug_key") => return Err(OfferError::SlugTaken),
        Err(e) if e.is_conflict_on("offers_code_key") => return Err(OfferError::CodeTaken),
        other => other?,
    }
    audit::record(ctx, &mut tx, actor, "offer.create", Some(offer.id.clone()), Some(offer.name.clone())).await?;
    tx.changed(Change::Catalog);
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}

/// Ends an offer: nobody new can redeem it; those who did keep their discount.
pub async fn end(ctx: &Context, actor: &Actor, id: &str) -> Result<bool, OfferError> {
    let mut tx = ctx.db.transaction().await?;
    let ended = db::offers::end(&mut *tx, id, ctx.clock.now()).await?;
    if ended {
        audit::record(ctx, &mut tx, actor, "offer.end", Some(id.to_string()), None).await?;
        // The landing page may feature it.
        tx.changed(Change::Catalog);
    }
    tx.commit().await.map_err(DbError::from)?;
    Ok(ended)
}

/// One offer by our id (open or not).
pub async fn find(ctx: &Context, id: &str) -> Result<Option<Offer>, OfferError> {
    Ok(db::offers::find_by_reference(ctx.db.read(), id).await?)
}

/// Every offer (newest first) with its redemptions so far.
pub async fn list(ctx: &Context) -> Result<Vec<(Offer, i64)>, OfferError> {
    Ok(db::offers::list(ctx.db.read()).await?)
}

/// The offer the landing page features, if staff chose one and it is still open.
pub async fn featured(ctx: &Context) -> Result<Option<Offer>, OfferError> {
    let Some(id) = featured_id(ctx).await? else { return Ok(None) };
    match open_by_link(ctx, &id).await {
        Ok(offer) => Ok(Some(offer)),
        Err(OfferError::Refused(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The id staff chose to feature (open or not).
pub async fn featured_id(ctx: &Context) -> Result<Option<String>, OfferError> {
    Ok(db::settings::get(ctx.db.read(), FEATURED_KEY).await?.filter(|v| !v.is_empty()))
}

/// Staff feature an offer on the landing page (`None`: none), audited.
pub async fn set_featured(ctx: &Context, actor: &Actor, id: Option<&str>) -> Result<(), OfferError> {
    let mut tx = ctx.db.transaction().await?;
    if let Some(id) = id
        && db::offers::find_by_link(&mut *tx, id).await?.is_none()
    {
        return Err(OfferRefusal::Unknown.into());
    }
    let value = id.unwrap_or_default();
    db::settings::set(&mut *tx, FEATURED_KEY, value, ctx.clock.now()).await?;
    audit::record(ctx, &mut tx, actor, "offer.feature", id.map(str::to_string), None).await?;
    tx.changed(Change::Catalog);
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}

async fn open(ctx: &Context, offer: Option<Offer>, missing: OfferRefusal) -> Result<Offer, OfferError> {
    let offer = offer.ok_or(missing)?;
    let redeemed = db::offers::redemption_count(ctx.db.read(), &offer.id).await?;
    offer.check_open(ctx.clock.now(), redeemed)?;
    Ok(offer)
}

/// The open offer a link names (`?offer=<id or slug>`); anything else is refused.
pub async fn open_by_link(ctx: &Context, link: &str) -> Result<Offer, OfferError> {
    let link = link.trim();
    let found =
        if link.is_empty() || link.len() > 100 { None } else { db::offers::find_by_link(ctx.db.read(), link).await? };
    open(ctx, found, OfferRefusal::Unknown).await
}

/// The open offer a typed code names (any case).
pub async fn open_by_code(ctx: &Context, code: &str) -> Result<Offer, OfferError> {
    let found = match crate::domain::offer::normalise_code(code) {
        Some(code) => db::offers::find_by_code(ctx.db.read(), &code).await?,
        None => None,
    };
    open(ctx, found, OfferRefusal::UnknownCode).await
}

/// The offer a reader chose: a typed code first, else the link's; `None` when neither.
pub async fn chosen(ctx: &Context, link: &str, code: &str) -> Result<Option<ChosenOffer>, OfferError> {
    if !code.trim().is_empty() {
        return Ok(Some(ChosenOffer { offer: open_by_code(ctx, code).await?, by_code: true }));
    }
    if !link.trim().is_empty() {
        return Ok(Some(ChosenOffer { offer: open_by_link(ctx, link).await?, by_code: false }));
    }
    Ok(None)
}

/// Checks that the chosen offer is for `price`.
pub fn check_price(chosen: &ChosenOffer, price: &TierPrice) -> Result<(), OfferRefusal> {
    chosen.offer.applies_to(price)
}

/// What Stripe needs for a checkout with this offer, owned: the coupon (made on
/// first use, and its promotion code when the reader typed the code), or the trial.
pub enum StripeOffer {
    Coupon(String),
    PromotionCode(String),
    Trial { offer_id: String, days: u32 },
}

impl StripeOffer {
    pub fn as_checkout(&self) -> CheckoutOffer<'_> {
        match self {
            Self::Coupon(c) => CheckoutOffer::Coupon(c),
            Self::PromotionCode(p) => CheckoutOffer::PromotionCode(p),
            Self::Trial { offer_id, days } => CheckoutOffer::Trial { offer_id, days: *days },
        }
    }
}

pub async fn stripe_offer(
    ctx: &Context,
    gateway: &StripeGateway,
    chosen: &ChosenOffer,
) -> Result<StripeOffer, OfferError> {
    let offer = &chosen.offer;
    if let Some(days) = offer.trial_days() {
        let days = u32::try_from(days).unwrap_or(1);
        return Ok(StripeOffer::Trial { offer_id: offer.id.clone(), days });
    }
    let coupon = match &offer.stripe_coupon_id {
        Some(c) => c.clone(),
        None => gateway.create_coupon(offer).await?,
    };
    let promotion = match (&offer.code, &offer.stripe_promotion_code_id, chosen.by_code) {
        (Some(_), Some(p), true) => Some(p.clone()),
        (Some(code), None, true) => Some(gateway.create_promotion_code(offer, &coupon, code).await?),
        _ => None,
    };
    if offer.stripe_coupon_id.is_none() || (promotion.is_some() && offer.stripe_promotion_code_id.is_none()) {
        let mut writer = ctx.db.write().await?;
        db::offers::set_stripe_ids(&mut *writer, &offer.id, &coupon, promotion.as_deref()).await?;
        drop(writer);
    }
    // Another request may have stored them first: the stored ones win.
    let stored = db::offers::find_by_link(ctx.db.read(), &offer.id).await?;
    let coupon = stored.as_ref().and_then(|o| o.stripe_coupon_id.clone()).unwrap_or(coupon);
    Ok(match promotion {
        Some(p) => StripeOffer::PromotionCode(stored.and_then(|o| o.stripe_promotion_code_id).unwrap_or(p)),
        None => StripeOffer::Coupon(coupon),
    })
}

/// The offers report: per offer and currency, redemptions in the months of
/// `range`, how many converted, and what those patrons pay now.
pub async fn report(
    ctx: &Context,
    range: &crate::domain::MonthRange,
) -> Result<(Vec<Offer>, Vec<OfferFigures>), OfferError> {
    let offers = db::offers::list(ctx.db.read()).await?.into_iter().map(|(o, _)| o).collect();
    let figures = db::offers::figures(ctx.db.read(), &range.first.key(), &range.last.key()).await?;
    Ok((offers, figures))
}
