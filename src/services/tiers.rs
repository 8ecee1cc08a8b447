//! Staff management of tiers and prices. Prices are never edited in place: a new
//! amount archives the old price (its subscribers keep it) and adds a new one,
//! as Stripe's prices are immutable too.
use std::collections::HashMap;

use super::audit::{self, Actor};
use super::{Context, StorageError};
use crate::db::tiers::TierFields;
use crate::db::{self, Change, DbError};
use crate::domain::{Interval, Money, Tier, TierId, TierPrice};
use crate::payments::Payments;

#[derive(Debug, thiserror::Error)]
pub enum TierError {
    #[error("a tier with this short name exists already")]
    SlugTaken,
    #[error("no such tier")]
    NotFound,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// A tier with its live prices, as staff edit it.
#[derive(Clone, Debug)]
pub struct TierWithPrices {
    pub tier: Tier,
    pub prices: Vec<TierPrice>,
}

/// A validated tier form: the fields and the wanted live price per interval and currency.
#[derive(Clone, Debug)]
pub struct TierInput {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub benefits: String,
    pub vote_weight: i64,
    pub position: i64,
    pub active: bool,
    /// `(interval, amount, pay-what-you-want)`; an interval and currency left out has no price.
    pub prices: Vec<(Interval, Money, bool)>,
}

/// Active tiers and their live prices (cached briefly: every landing page needs them).
pub async fn catalog(ctx: &Context) -> Result<std::sync::Arc<super::cache::Catalog>, StorageError> {
    Ok(ctx
        .caches
        .catalog
        .get_or_load(&ctx.clock, (), || async {
            let pool = ctx.db.read();
            Ok::<_, DbError>(std::sync::Arc::new(super::cache::Catalog {
                tiers: db::tiers::list_active(pool).await?,
                prices: db::tiers::list_live_prices(pool).await?,
            }))
        })
        .await?)
}

/// Every tier, archived ones too, each with its live prices (two queries, not
/// one per tier), for the staff tier list.
pub async fn list_for_staff(ctx: &Context) -> Result<Vec<TierWithPrices>, StorageError> {
    let pool = ctx.db.read();
    let tiers = db::tiers::list_all(pool).await?;
    let mut by_tier: HashMap<TierId, Vec<TierPrice>> = HashMap::new();
    for price in db::tiers::live_prices_of_all(pool).await? {
        by_tier.entry(price.tier_id).or_default().push(price);
    }
    Ok(tiers
        .into_iter()
        .map(|tier| TierWithPrices { prices: by_tier.remove(&tier.id).unwrap_or_default(), tier })
        .collect())
}

/// One tier with its live prices, for its edit form.
pub async fn find_for_staff(ctx: &Context, id: TierId) -> Result<TierWithPrices, TierError> {
    let pool = ctx.db.read();
    let tier = db::tiers::find(pool, id).await?.ok_or(TierError::NotFound)?;
    let prices = db::tiers::live_prices_of(pool, id).await?;
    Ok(TierWithPrices { tier, prices })
}

/// Creates (`id` = None) or updates a tier and brings its live prices in line.
pub async fn save(ctx: &Context, actor: &Actor, id: Option<TierId>, input: &TierInput) -> Result<TierId, TierError> {
    let now = ctx.clock.now();
    let fields = TierFields {
        slug: &input.slug,
        name: &input.name,
        description: &input.description,
        benefits: &input.benefits,
        vote_weight: input.vote_weight,
        position: input.position,
        active: input.active,
    };
    let mut tx = ctx.db.transaction().await?;
    let tier_id = id.unwrap_or_default();
    let result = match id {
        Some(id) => db::tiers::update(&mut *tx, id, &fields, now).await,
        None => db::tiers::insert(&mut *tx, tier_id, &fields, now).await,
    };
    match result {
        Err(e) if e.is_conflict_on("tiers_slug_key") => return Err(TierError::SlugTaken),
        other => other?,
    }
    let live = db::tiers::live_prices_of(&mut *tx, tier_id).await?;
    let mut changes = Vec::new();
    for price in &live {
        let wanted = input.prices.iter().find(|(i, m, _)| *i == price.interval && m.currency == price.amount.currency);
        if wanted.is_none_or(|(_, m, flexible)| *m != price.amount || *flexible != price.flexible) {
            db::tiers::archive_price(&mut *tx, &price.id, now).await?;
            changes.push(format!("archived {} {}", price.amount, price.interval));
        }
    }
    for (interval, amount, flexible) in &input.prices {
        let unchanged = live.iter().any(|p| p.interval == *interval && p.amount == *amount && p.flexible == *flexible);
        if !unchanged {
            db::tiers::insert_price(&mut *tx, tier_id, *interval, *amount, *flexible, now).await?;
            changes.push(format!("added {amount} {interval}"));
        }
    }
    let action = if id.is_some() { "tier.update" } else { "tier.create" };
    audit::record(ctx, &mut tx, actor, action, Some(input.name.clone()), Some(changes.join("; "))).await?;
    tx.changed(Change::Catalog);
    tx.commit().await.map_err(DbError::from)?;
    sync_to_stripe(ctx, tier_id).await;
    Ok(tier_id)
}

/// Creates the Stripe product and prices now, so the first patron does not wait;
/// a failure is logged and checkout creates them later instead.
async fn sync_to_stripe(ctx: &Context, tier: TierId) {
    if let Payments::Stripe { .. } = &ctx.payments {
        let prices = match db::tiers::live_prices_of(ctx.db.read(), tier).await {
            Ok(p) => p,
            Err(e) => return tracing::warn!(error = %e, "tier sync skipped"),
        };
        for price in prices {
            if let Err(e) = super::checkout::ensure_stripe_price(ctx, &price).await {
                tracing::warn!(error = %e, "syncing a price to Stripe failed; checkout will retry");
            }
        }
    }
}

/// The setting that says the seeded tiers were given their texts (see [`localise_seeded`]).
const SEEDED_TIERS_LOCALISED: &str = "seeded_tiers_localised";

/// Gives the tiers a new newsroom starts with their texts in both languages,
/// once per database: a Ukrainian reader of a new install met "Reader" and its
/// English description. A seeded tier staff have not changed gets, in an English
/// newsroom, its Ukrainian texts as translations; in a Ukrainian one, the
/// Ukrainian texts in its columns and the English as translations. A tier staff
/// changed, or translated themselves, is left as it is. Runs at start.
pub async fn localise_seeded(ctx: &Context) -> Result<(), DbError> {
    use crate::domain::tier::{SEEDED_TIER_FIELDS, SEEDED_TIERS};
    use crate::domain::{ContentKind, Locale};
    // Every start but the first: one read, no write transaction.
    if db::settings::get(ctx.db.read(), SEEDED_TIERS_LOCALISED).await?.is_some() {
        return Ok(());
    }
    let now = ctx.clock.now();
    let mut tx = ctx.db.transaction().await?;
    // Two instances starting together: only the one that marks it does it.
    if !db::settings::insert_if_absent(&mut *tx, SEEDED_TIERS_LOCALISED, "1", now).await? {
        return Ok(());
    }
    for seed in &SEEDED_TIERS {
        let Ok(id) = seed.id.parse::<TierId>() else { continue };
        let Some(tier) = db::tiers::find(&mut *tx, id).await? else { continue };
        let benefits = tier.benefits.join("\n");
        if [tier.name.as_str(), tier.description.as_str(), benefits.as_str()] != seed.en {
            continue;
        }
        let (columns, other, translated) = match ctx.newsroom_language {
            Locale::En => (None, Locale::Uk, seed.uk),
            Locale::Uk => (Some(seed.uk), Locale::En, seed.en),
        };
        let written = db::translations::list_for_item(&mut *tx, ContentKind::Tier, seed.id).await?;
        if written.iter().any(|(l, ..)| l == other.as_str()) {
            continue;
        }
        for (i, field) in SEEDED_TIER_FIELDS.into_iter().enumerate() {
            if let Some(texts) = columns {
                db::translations::set_column(&mut *tx, ContentKind::Tier, seed.id, field, Some(texts[i]), now).await?;
            }
            if !translated[i].is_empty() {
                let text = Some(translated[i]);
                db::translations::put(&mut *tx, ContentKind::Tier, seed.id, other, field, text, now).await?;
            }
        }
    }
    tx.changed(Change::Texts);
    tx.changed(Change::Catalog);
    tx.commit().await.map_err(DbError::from)
}
