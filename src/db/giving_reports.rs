//! What the tiers and donations reports read: the gift aggregates kept with
//! each gift (`donor_monthly`, `donation_amounts_monthly`), the subscriptions'
//! mirror, and the tier changes billing records.
use sqlx::{Any, Executor, FromRow};

use super::{DbError, parse_stored};
use crate::clock::Micros;
use crate::domain::{Currency, Interval, TierFigures, TierId};

/// Gifts per month, currency and amount in the months `first..=last`.
pub async fn donation_amounts<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    first: &str,
    last: &str,
) -> Result<Vec<(String, Currency, i64, i64)>, DbError> {
    let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "select month, currency, amount_minor, gifts from donation_amounts_monthly
         where month >= $1 and month <= $2 and gifts <> 0",
    )
    .bind(first)
    .bind(last)
    .fetch_all(ex)
    .await?;
    rows.into_iter().map(|(m, c, amount, n)| Ok((m, parse_stored("currency", &c)?, amount, n))).collect()
}

/// Members who gave per month and currency in the months `first..=last`, and
/// how many gifts they gave (every other gift is an anonymous donor of its own).
pub async fn donors_by_month<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    first: &str,
    last: &str,
) -> Result<Vec<(String, Currency, i64, i64)>, DbError> {
    let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "select month, currency, donors, gifts from donor_month_counts
         where month >= $1 and month <= $2 and donors > 0",
    )
    .bind(first)
    .bind(last)
    .fetch_all(ex)
    .await?;
    rows.into_iter().map(|(m, c, n, gifts)| Ok((m, parse_stored("currency", &c)?, n, gifts))).collect()
}

/// Per currency over the months `first..=last`: distinct members who gave,
/// those of them who gave more than once, and their gifts. A range that holds
/// every month with gifts is read from the all-time counts (one row per
/// currency); any other from the donor-months of its range.
pub async fn donors_in_range<'e, E: Executor<'e, Database = Any> + Copy>(
    ex: E,
    first: &str,
    last: &str,
) -> Result<Vec<(Currency, i64, i64, i64)>, DbError> {
    let (earliest, latest): (Option<String>, Option<String>) =
        sqlx::query_as("select min(month), max(month) from donor_month_counts").fetch_one(ex).await?;
    let whole = earliest.is_none_or(|m| first <= m.as_str()) && latest.is_none_or(|m| last >= m.as_str());
    let rows: Vec<(String, i64, i64, i64)> = if whole {
        sqlx::query_as("select currency, donors, repeat_donors, gifts from donor_counts where donors > 0")
            .fetch_all(ex)
            .await?
    } else {
        sqlx::query_as(
            "select currency, count(*), cast(coalesce(sum(case when gifts > 1 then 1 else 0 end), 0) as bigint),
             cast(coalesce(sum(gifts), 0) as bigint)
         from (select currency, donor, sum(gifts) as gifts from donor_monthly
               where month >= $1 and month <= $2 group by currency, donor) d
         group by currency",
        )
        .bind(first)
        .bind(last)
        .fetch_all(ex)
        .await?
    };
    rows.into_iter().map(|(c, n, repeat, gifts)| Ok((parse_stored("currency", &c)?, n, repeat, gifts))).collect()
}

/// A gift among the largest of its currency.
#[derive(Clone, Debug, FromRow)]
pub struct LargeGift {
    pub currency: String,
    pub gross_minor: i64,
    pub occurred_at: Micros,
    /// The member's public name, when they chose one.
    pub public_name: Option<String>,
}

/// Below this many gifts in a range, its largest are found by reading the range
/// and sorting it; above, by reading gifts from the largest down until `limit`
/// fall in the range (about `limit` × all gifts ÷ the range's). Either way no
/// more than about this many index entries are read, whatever the ledger's size.
const SORT_RANGE_BELOW: i64 = 10_000;

/// The `limit` largest one-time gifts in `currency` made in `[from, to)`,
/// largest first (the earlier of two equal gifts first); `gifts_in_range` (from
/// the monthly aggregates) chooses how they are found.
pub async fn largest_gifts<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    currency: Currency,
    (from, to): (Micros, Micros),
    gifts_in_range: i64,
    limit: i64,
) -> Result<Vec<LargeGift>, DbError> {
    // The same question either way; the first form is answered from the index
    // on (kind, currency, occurred_at), the second from (kind, currency, gross_minor
    // desc): its unary `+` keeps either database from reading the range by time.
    let sql = if gifts_in_range < SORT_RANGE_BELOW {
        "select p.currency, p.gross_minor, p.occurred_at, m.public_name
         from (select currency, gross_minor, occurred_at, member_id, id from payments
               where kind = 'donation' and currency = $1 and occurred_at >= $2 and occurred_at < $3
               order by gross_minor desc, occurred_at, id limit $4) p
         left join members m on m.id = p.member_id
         order by p.gross_minor desc, p.occurred_at, p.id"
    } else {
        "select p.currency, p.gross_minor, p.occurred_at, m.public_name
         from (select currency, gross_minor, occurred_at, member_id, id from payments
               where kind = 'donation' and currency = $1 and gross_minor > 0
                   and +occurred_at >= $2 and +occurred_at < $3
               order by gross_minor desc, occurred_at, id limit $4) p
         left join members m on m.id = p.member_id
         order by p.gross_minor desc, p.occurred_at, p.id"
    };
    Ok(sqlx::query_as(sql).bind(currency.as_str()).bind(from).bind(to).bind(limit).fetch_all(ex).await?)
}

/// The figures of every tier, interval and currency with a subscription that
/// paid; `[from, to)` is the report's range (joined and ended in it). A
/// subscription's paying life ends when it ends, or, left unpaid after its
/// retries (Stripe keeps it, without payments), when it last changed.
pub async fn tier_figures<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    now: Micros,
    from: Micros,
    to: Micros,
) -> Result<Vec<(Option<TierId>, Interval, Currency, TierFigures)>, DbError> {
    #[derive(FromRow)]
    struct Row {
        tier_id: Option<String>,
        interval: String,
        currency: String,
        patrons: i64,
        mrr_minor: i64,
        live: i64,
        live_tenure: i64,
        ended: i64,
        ended_tenure: i64,
        joined_in_range: i64,
        ended_in_range: i64,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "select tier_id, interval, currency,
             cast(sum(case when mrr_minor > 0 then 1 else 0 end) as bigint) as patrons,
             cast(sum(mrr_minor) as bigint) as mrr_minor,
             cast(sum(case when ended_at is null and status <> 'unpaid' then 1 else 0 end) as bigint) as live,
             cast(sum(case when ended_at is null and status <> 'unpaid' then $1 - first_paid_at else 0 end) as bigint)
                 as live_tenure,
             cast(sum(case when ended_at is null and status <> 'unpaid' then 0 else 1 end) as bigint) as ended,
             cast(sum(case when ended_at is null and status <> 'unpaid' then 0
                 else coalesce(ended_at, updated_at) - first_paid_at end) as bigint) as ended_tenure,
             cast(sum(case when first_paid_at >= $2 and first_paid_at < $3 then 1 else 0 end) as bigint)
                 as joined_in_range,
             cast(sum(case when coalesce(ended_at, case when status = 'unpaid' then updated_at end) >= $2
                 and coalesce(ended_at, case when status = 'unpaid' then updated_at end) < $3 then 1 else 0 end)
                 as bigint) as ended_in_range
         from subscriptions where first_paid_at is not null
         group by tier_id, interval, currency",
    )
    .bind(now)
    .bind(from)
    .bind(to)
    .fetch_all(ex)
    .await?;
    rows.into_iter()
        .map(|r| {
            let tier = r.tier_id.as_deref().map(|t| parse_stored("tier id", t)).transpose()?;
            Ok((
                tier,
                parse_stored("interval", &r.interval)?,
                parse_stored("currency", &r.currency)?,
                TierFigures {
                    patrons: r.patrons,
                    mrr_minor: r.mrr_minor,
                    live: r.live,
                    live_tenure: r.live_tenure,
                    ended: r.ended,
                    ended_tenure: r.ended_tenure,
                    joined_in_range: r.joined_in_range,
                    ended_in_range: r.ended_in_range,
                },
            ))
        })
        .collect()
}

/// A live subscription moving from one tier or interval to another.
#[derive(Clone, Debug)]
pub struct NewTierChange {
    pub subscription_id: String,
    pub member_id: Option<String>,
    pub from: (Option<TierId>, Interval),
    pub to: (Option<TierId>, Interval),
    pub currency: Currency,
    pub mrr_before_minor: i64,
    pub mrr_after_minor: i64,
    pub occurred_at: Micros,
}

pub async fn insert_tier_change<'e, E: Executor<'e, Database = Any>>(ex: E, c: &NewTierChange) -> Result<(), DbError> {
    sqlx::query(
        "insert into tier_changes (id, subscription_id, member_id, from_tier_id, from_interval, to_tier_id,
             to_interval, currency, mrr_before_minor, mrr_after_minor, occurred_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(&c.subscription_id)
    .bind(c.member_id.as_deref())
    .bind(c.from.0.map(|t| t.to_string()))
    .bind(c.from.1.as_str())
    .bind(c.to.0.map(|t| t.to_string()))
    .bind(c.to.1.as_str())
    .bind(c.currency.as_str())
    .bind(c.mrr_before_minor)
    .bind(c.mrr_after_minor)
    .bind(c.occurred_at)
    .execute(ex)
    .await?;
    Ok(())
}

/// Moves between tiers and intervals in `[from, to)`, per pair and currency:
/// `(from tier, from interval, to tier, to interval, currency, upgrades,
/// downgrades, MRR delta)`; an upgrade raised the subscription's MRR.
pub type TierMoveRow = (Option<TierId>, Interval, Option<TierId>, Interval, Currency, i64, i64, i64);

pub async fn tier_moves<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    from: Micros,
    to: Micros,
) -> Result<Vec<TierMoveRow>, DbError> {
    #[allow(clippy::type_complexity)]
    let rows: Vec<(Option<String>, String, Option<String>, String, String, i64, i64, i64)> = sqlx::query_as(
        "select from_tier_id, from_interval, to_tier_id, to_interval, currency,
             cast(sum(case when mrr_after_minor > mrr_before_minor then 1 else 0 end) as bigint),
             cast(sum(case when mrr_after_minor > mrr_before_minor then 0 else 1 end) as bigint),
             cast(sum(mrr_after_minor - mrr_before_minor) as bigint)
         from tier_changes where occurred_at >= $1 and occurred_at < $2
         group by from_tier_id, from_interval, to_tier_id, to_interval, currency",
    )
    .bind(from)
    .bind(to)
    .fetch_all(ex)
    .await?;
    let tier = |t: Option<String>| t.as_deref().map(|t| parse_stored::<TierId>("tier id", t)).transpose();
    rows.into_iter()
        .map(|(ft, fi, tt, ti, c, up, down, delta)| {
            Ok((
                tier(ft)?,
                parse_stored("interval", &fi)?,
                tier(tt)?,
                parse_stored("interval", &ti)?,
                parse_stored("currency", &c)?,
                up,
                down,
                delta,
            ))
        })
        .collect()
}
