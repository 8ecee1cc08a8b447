//! Tiers and their prices.
use sqlx::{Any, Executor, FromRow};

use super::{DbError, parse_stored};
use crate::domain::{Currency, Interval, Money, Tier, TierId, TierPrice};

#[derive(FromRow)]
struct TierRow {
    id: String,
    slug: String,
    name: String,
    description: String,
    benefits: String,
    vote_weight: i64,
    position: i64,
    status: String,
    stripe_product_id: Option<String>,
}

impl TryFrom<TierRow> for Tier {
    type Error = DbError;
    fn try_from(r: TierRow) -> Result<Self, DbError> {
        Ok(Tier {
            id: parse_stored("tier id", &r.id)?,
            slug: r.slug,
            name: r.name,
            description: r.description,
            benefits: r.benefits.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect(),
            vote_weight: r.vote_weight,
            position: r.position,
            active: r.status == "active",
            stripe_product_id: r.stripe_product_id,
        })
    }
}

#[derive(FromRow)]
struct PriceRow {
    id: String,
    tier_id: String,
    interval: String,
    currency: String,
    amount_minor: i64,
    flexible: i64,
    stripe_price_id: Option<String>,
}

impl TryFrom<PriceRow> for TierPrice {
    type Error = DbError;
    fn try_from(r: PriceRow) -> Result<Self, DbError> {
        Ok(TierPrice {
            id: r.id,
            tier_id: parse_stored("tier id", &r.tier_id)?,
            interval: parse_stored("interval", &r.interval)?,
            amount: Money::new(r.amount_minor, parse_stored("currency", &r.currency)?),
            flexible: r.flexible != 0,
            stripe_price_id: r.stripe_price_id,
        })
    }
}

const TIER_COLUMNS: &str = "id, slug, name, description, benefits, vote_weight, position, status, stripe_product_id";
const PRICE_COLUMNS: &str = "id, tier_id, interval, currency, amount_minor, flexible, stripe_price_id";

/// Active tiers in display order.
pub async fn list_active<'e, E: Executor<'e, Database = Any>>(ex: E) -> Result<Vec<Tier>, DbError> {
    let rows: Vec<TierRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {TIER_COLUMNS} from tiers where status = 'active' order by position, name"
    )))
    .fetch_all(ex)
    .await?;
    rows.into_iter().map(Tier::try_from).collect()
}

pub async fn find<'e, E: Executor<'e, Database = Any>>(ex: E, id: TierId) -> Result<Option<Tier>, DbError> {
    let row: Option<TierRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("select {TIER_COLUMNS} from tiers where id = $1")))
            .bind(id.to_string())
            .fetch_optional(ex)
            .await?;
    row.map(Tier::try_from).transpose()
}

/// Every tier's vote weight, archived ones too (a patron may still be on one).
pub async fn vote_weights<'e, E: Executor<'e, Database = Any>>(
    ex: E,
) -> Result<std::collections::HashMap<TierId, i64>, DbError> {
    let rows: Vec<(String, i64)> = sqlx::query_as("select id, vote_weight from tiers").fetch_all(ex).await?;
    rows.into_iter().map(|(id, weight)| Ok((super::parse_stored("tier id", &id)?, weight))).collect()
}

/// The price if it is live (not archived) and its tier active: what may be bought now.
pub async fn find_live_price<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: &str,
) -> Result<Option<TierPrice>, DbError> {
    let row: Option<PriceRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select p.{} from tier_prices p join tiers t on t.id = p.tier_id
         where p.id = $1 and p.archived_at is null and t.status = 'active'",
        PRICE_COLUMNS.replace(", ", ", p.")
    )))
    .bind(id)
    .fetch_optional(ex)
    .await?;
    row.map(TierPrice::try_from).transpose()
}

/// Live (not archived) prices of active tiers.
pub async fn list_live_prices<'e, E: Executor<'e, Database = Any>>(ex: E) -> Result<Vec<TierPrice>, DbError> {
    let rows: Vec<PriceRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select p.{} from tier_prices p join tiers t on t.id = p.tier_id
         where p.archived_at is null and t.status = 'active' order by p.currency, p.interval, p.amount_minor",
        PRICE_COLUMNS.replace(", ", ", p.")
    )))
    .fetch_all(ex)
    .await?;
    rows.into_iter().map(TierPrice::try_from).collect()
}

/// The live price of a tier for an interval and currency.
pub async fn live_price<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    tier: TierId,
    interval: Interval,
    currency: Currency,
) -> Result<Option<TierPrice>, DbError> {
    let row: Option<PriceRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {PRICE_COLUMNS} from tier_prices where tier_id = $1 and interval = $2 and currency = $3 and archived_at is null"
    )))
    .bind(tier.to_string())
    .bind(interval.as_str())
    .bind(currency.as_str())
    .fetch_optional(ex)
    .await?;
    row.map(TierPrice::try_from).transpose()
}

/// A price by our id or by its Stripe id, archived or not: existing subscribers
/// keep the price they signed up with.
pub async fn find_price<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id_or_stripe_id: &str,
) -> Result<Option<TierPrice>, DbError> {
    let row: Option<PriceRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {PRICE_COLUMNS} from tier_prices where id = $1 or stripe_price_id = $1"
    )))
    .bind(id_or_stripe_id)
    .fetch_optional(ex)
    .await?;
    row.map(TierPrice::try_from).transpose()
}

pub async fn set_stripe_product<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    tier: TierId,
    product_id: &str,
) -> Result<(), DbError> {
    sqlx::query("update tiers set stripe_product_id = $2 where id = $1 and stripe_product_id is null")
        .bind(tier.to_string())
        .bind(product_id)
        .execute(ex)
        .await?;
    Ok(())
}

pub async fn set_stripe_price<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    price_id: &str,
    stripe_price_id: &str,
) -> Result<(), DbError> {
    sqlx::query("update tier_prices set stripe_price_id = $2 where id = $1 and stripe_price_id is null")
        .bind(price_id)
        .bind(stripe_price_id)
        .execute(ex)
        .await?;
    Ok(())
}

/// Every tier, archived ones included, for staff.
pub async fn list_all<'e, E: Executor<'e, Database = Any>>(ex: E) -> Result<Vec<Tier>, DbError> {
    let rows: Vec<TierRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("select {TIER_COLUMNS} from tiers order by position, name")))
            .fetch_all(ex)
            .await?;
    rows.into_iter().map(Tier::try_from).collect()
}

/// Live prices of one tier.
pub async fn live_prices_of<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    tier: TierId,
) -> Result<Vec<TierPrice>, DbError> {
    let rows: Vec<PriceRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {PRICE_COLUMNS} from tier_prices where tier_id = $1 and archived_at is null order by currency, interval"
    )))
    .bind(tier.to_string())
    .fetch_all(ex)
    .await?;
    rows.into_iter().map(TierPrice::try_from).collect()
}

/// Live prices of every tier, archived tiers included (for staff), by tier;
/// within a tier in the order of [`live_prices_of`].
pub async fn live_prices_of_all<'e, E: Executor<'e, Database = Any>>(ex: E) -> Result<Vec<TierPrice>, DbError> {
    let rows: Vec<PriceRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {PRICE_COLUMNS} from tier_prices where archived_at is null order by tier_id, currency, interval"
    )))
    .fetch_all(ex)
    .await?;
    rows.into_iter().map(TierPrice::try_from).collect()
}

#[derive(Clone, Debug)]
pub struct TierFields<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    pub benefits: &'a str,
    pub vote_weight: i64,
    pub position: i64,
    pub active: bool,
}

pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: TierId,
    f: &TierFields<'_>,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "insert into tiers (id, slug, name, description, benefits, vote_weight, position, status, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
    )
    .bind(id.to_string())
    .bind(f.slug)
    .bind(f.name)
    .bind(f.description)
    .bind(f.benefits)
    .bind(f.vote_weight)
    .bind(f.position)
    .bind(if f.active { "active" } else { "archived" })
    .bind(now)
    .execute(ex)
    .await?;
    Ok(())
}

pub async fn update<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: TierId,
    f: &TierFields<'_>,
    now: i64,
) -> Result<(), DbError> {
    let done = sqlx::query(
        "update tiers set slug = $2, name = $3, description = $4, benefits = $5, vote_weight = $6, position = $7,
             status = $8, updated_at = $9 where id = $1",
    )
    .bind(id.to_string())
    .bind(f.slug)
    .bind(f.name)
    .bind(f.description)
    .bind(f.benefits)
    .bind(f.vote_weight)
    .bind(f.position)
    .bind(if f.active { "active" } else { "archived" })
    .bind(now)
    .execute(ex)
    .await?;
    if done.rows_affected() == 0 {
        return Err(DbError::NotFound);
    }
    Ok(())
}

/// Retires a live price; subscribers keep it, new checkouts use its successor.
pub async fn archive_price<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    price_id: &str,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query("update tier_prices set archived_at = $2 where id = $1 and archived_at is null")
        .bind(price_id)
        .bind(now)
        .execute(ex)
        .await?;
    Ok(())
}

pub async fn insert_price<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    tier: TierId,
    interval: Interval,
    amount: Money,
    flexible: bool,
    now: i64,
) -> Result<String, DbError> {
    let id = uuid::Uuid::now_v7().to_string();
    sqlx::query(
        "insert into tier_prices (id, tier_id, interval, currency, amount_minor, flexible, created_at)
         values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(tier.to_string())
    .bind(interval.as_str())
    .bind(amount.currency.as_str())
    .bind(amount.minor)
    .bind(i64::from(flexible))
    .bind(now)
    .execute(ex)
    .await?;
    Ok(id)
}
