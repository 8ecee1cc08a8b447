//! Offers and their redemptions (one per subscription).
use sqlx::{Any, Executor, FromRow};

use super::{Backend, DbError, Tx, parse_stored};
use crate::clock::Micros;
use crate::domain::offer::{amounts_from_text, amounts_to_text};
use crate::domain::{AmountOff, Currency, DiscountDuration, MemberId, Offer, OfferBenefit, OfferKind};

#[derive(FromRow)]
struct Row {
    id: String,
    slug: String,
    name: String,
    kind: String,
    percent_off: Option<i64>,
    amounts_off: Option<String>,
    duration: Option<String>,
    duration_months: Option<i64>,
    trial_days: Option<i64>,
    tier_ids: String,
    intervals: String,
    code: Option<String>,
    ends_at: Option<i64>,
    max_redemptions: Option<i64>,
    stripe_coupon_id: Option<String>,
    stripe_promotion_code_id: Option<String>,
    created_at: i64,
    ended_at: Option<i64>,
}

const COLUMNS: &str = "id, slug, name, kind, percent_off, amounts_off, duration, duration_months, trial_days,
    tier_ids, intervals, code, ends_at, max_redemptions, stripe_coupon_id, stripe_promotion_code_id, created_at, ended_at";

fn list_of<T: std::str::FromStr>(what: &str, text: &str) -> Result<Vec<T>, DbError> {
    text.split(',').filter(|p| !p.is_empty()).map(|p| parse_stored(what, p)).collect()
}

impl TryFrom<Row> for Offer {
    type Error = DbError;
    fn try_from(r: Row) -> Result<Self, DbError> {
        let kind: OfferKind = parse_stored("offer kind", &r.kind)?;
        let duration = || {
            DiscountDuration::from_parts(r.duration.as_deref().unwrap_or_default(), r.duration_months)
                .map_err(DbError::other)
        };
        let benefit = match kind {
            OfferKind::Trial => OfferBenefit::Trial { days: r.trial_days.unwrap_or(0) },
            OfferKind::Percent => {
                OfferBenefit::Discount { off: AmountOff::Percent(r.percent_off.unwrap_or(0)), duration: duration()? }
            }
            OfferKind::Amount => OfferBenefit::Discount {
                off: AmountOff::Fixed(
                    amounts_from_text(r.amounts_off.as_deref().unwrap_or_default()).map_err(DbError::other)?,
                ),
                duration: duration()?,
            },
        };
        Ok(Offer {
            id: r.id,
            slug: r.slug,
            name: r.name,
            benefit,
            tier_ids: list_of("tier id", &r.tier_ids)?,
            intervals: list_of("interval", &r.intervals)?,
            code: r.code,
            ends_at: r.ends_at,
            max_redemptions: r.max_redemptions,
            stripe_coupon_id: r.stripe_coupon_id,
            stripe_promotion_code_id: r.stripe_promotion_code_id,
            created_at: r.created_at,
            ended_at: r.ended_at,
        })
    }
}

/// Stores a new offer. A slug or code already taken is a conflict on
/// `offers_slug_key` / `offers_code_key`.
pub async fn insert<'e, E: Executor<'e, Database = Any>>(ex: E, o: &Offer) -> Result<(), DbError> {
    let (percent, amounts, duration) = match &o.benefit {
        OfferBenefit::Discount { off: AmountOff::Percent(p), duration } => (Some(*p), None, Some(*duration)),
        OfferBenefit::Discount { off: AmountOff::Fixed(a), duration } => {
            (None, Some(amounts_to_text(a)), Some(*duration))
        }
        OfferBenefit::Trial { .. } => (None, None, None),
    };
    let join = |items: Vec<String>| items.join(",");
    sqlx::query(
        "insert into offers (id, slug, name, kind, percent_off, amounts_off, duration, duration_months, trial_days,
             tier_ids, intervals, code, ends_at, max_redemptions, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(&o.id)
    .bind(&o.slug)
    .bind(&o.name)
    .bind(o.benefit.kind().as_str())
    .bind(percent)
    .bind(amounts)
    .bind(duration.map(|d| d.as_str()))
    .bind(duration.and_then(|d| d.months()))
    .bind(o.trial_days())
    .bind(join(o.tier_ids.iter().map(|t| t.to_string()).collect()))
    .bind(join(o.intervals.iter().map(|i| i.as_str().to_string()).collect()))
    .bind(o.code.as_deref())
    .bind(o.ends_at)
    .bind(o.max_redemptions)
    .bind(o.created_at)
    .execute(ex)
    .await?;
    Ok(())
}

/// Every offer, newest first, with how many times each was redeemed.
pub async fn list<'e, E: Executor<'e, Database = Any>>(ex: E) -> Result<Vec<(Offer, i64)>, DbError> {
    #[derive(FromRow)]
    struct Counted {
        #[sqlx(flatten)]
        row: Row,
        redeemed: i64,
    }
    let rows: Vec<Counted> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS}, (select cast(count(*) as bigint) from offer_redemptions r where r.offer_id = offers.id) as redeemed
         from offers order by created_at desc, id desc"
    )))
    .fetch_all(ex)
    .await?;
    rows.into_iter().map(|c| Ok((Offer::try_from(c.row)?, c.redeemed))).collect()
}

async fn find_where<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    condition: &'static str,
    value: &str,
) -> Result<Option<Offer>, DbError> {
    let row: Option<Row> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("select {COLUMNS} from offers where {condition}")))
            .bind(value)
            .fetch_optional(ex)
            .await?;
    row.map(Offer::try_from).transpose()
}

/// By our id or by its slug (the shareable link carries either).
pub async fn find_by_link<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id_or_slug: &str,
) -> Result<Option<Offer>, DbError> {
    find_where(ex, "id = $1 or slug = $1", id_or_slug).await
}

/// By its code (upper-case, as stored).
pub async fn find_by_code<'e, E: Executor<'e, Database = Any>>(ex: E, code: &str) -> Result<Option<Offer>, DbError> {
    find_where(ex, "code = $1", code).await
}

/// By our id or by the Stripe coupon made for it (as a subscription's discount names it).
pub async fn find_by_reference<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    reference: &str,
) -> Result<Option<Offer>, DbError> {
    find_where(ex, "id = $1 or stripe_coupon_id = $1", reference).await
}

/// Staff end an offer: no new redemptions; those made keep their discount. True when it was open.
pub async fn end<'e, E: Executor<'e, Database = Any>>(ex: E, id: &str, now: Micros) -> Result<bool, DbError> {
    let done = sqlx::query("update offers set ended_at = $2 where id = $1 and ended_at is null")
        .bind(id)
        .bind(now)
        .execute(ex)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Remembers the Stripe coupon (and promotion code) made for an offer; the first one stored wins.
pub async fn set_stripe_ids<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: &str,
    coupon: &str,
    promotion_code: Option<&str>,
) -> Result<(), DbError> {
    sqlx::query(
        "update offers set stripe_coupon_id = coalesce(stripe_coupon_id, $2),
             stripe_promotion_code_id = coalesce(stripe_promotion_code_id, $3) where id = $1",
    )
    .bind(id)
    .bind(coupon)
    .bind(promotion_code)
    .execute(ex)
    .await?;
    Ok(())
}

/// Holds the offer until the transaction ends, so two last redemptions are
/// counted one after the other (SQLite's write transactions already are).
pub async fn lock(tx: &mut Tx, backend: Backend, id: &str) -> Result<(), DbError> {
    if backend == Backend::Postgres {
        sqlx::query("select id from offers where id = $1 for update").bind(id).execute(&mut **tx).await?;
    }
    Ok(())
}

pub async fn redemption_count<'e, E: Executor<'e, Database = Any>>(ex: E, offer_id: &str) -> Result<i64, DbError> {
    let (n,): (i64,) = sqlx::query_as("select cast(count(*) as bigint) from offer_redemptions where offer_id = $1")
        .bind(offer_id)
        .fetch_one(ex)
        .await?;
    Ok(n)
}

/// Whether the subscription (our id) redeemed an offer already.
pub async fn redeemed_by<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    subscription_id: &str,
) -> Result<Option<String>, DbError> {
    let row: Option<(String,)> = sqlx::query_as("select offer_id from offer_redemptions where subscription_id = $1")
        .bind(subscription_id)
        .fetch_optional(ex)
        .await?;
    Ok(row.map(|(id,)| id))
}

/// Records that the subscription redeemed the offer, once (true when now).
pub async fn insert_redemption<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    offer_id: &str,
    member: MemberId,
    subscription_id: &str,
    currency: Currency,
    now: Micros,
) -> Result<bool, DbError> {
    let done = sqlx::query(
        "insert into offer_redemptions (id, offer_id, member_id, subscription_id, currency, redeemed_at)
         values ($1, $2, $3, $4, $5, $6) on conflict (subscription_id) do nothing",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(offer_id)
    .bind(member.to_string())
    .bind(subscription_id)
    .bind(currency.as_str())
    .bind(now)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// One offer's figures in one currency over a range of report months.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OfferFigures {
    pub offer_id: String,
    pub currency: Currency,
    pub redemptions: i64,
    /// Trials that paid; discounts whose subscription is still paying.
    pub converted: i64,
    /// What the converted patrons pay now, a month (MRR, minor units).
    pub mrr_minor: i64,
}

/// Redemptions made in the months `first..=last` (`YYYY-MM`, the newsroom's
/// zone), per offer and currency, with how many converted and what they pay now.
pub async fn figures<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    first: &str,
    last: &str,
) -> Result<Vec<OfferFigures>, DbError> {
    let rows: Vec<(String, String, i64, i64, i64)> = sqlx::query_as(
        "select r.offer_id, r.currency, cast(count(*) as bigint),
             cast(coalesce(sum(case when (o.kind = 'trial' and s.first_paid_at is not null)
                                      or (o.kind <> 'trial' and s.mrr_minor > 0) then 1 else 0 end), 0) as bigint),
             cast(coalesce(sum(case when (o.kind = 'trial' and s.first_paid_at is not null)
                                      or (o.kind <> 'trial' and s.mrr_minor > 0) then s.mrr_minor else 0 end), 0) as bigint)
         from offer_redemptions r
         join offers o on o.id = r.offer_id
         join subscriptions s on s.id = r.subscription_id
         join report_months m on r.redeemed_at >= m.starts_at and r.redeemed_at < m.ends_at
         where m.month >= $1 and m.month <= $2
         group by r.offer_id, r.currency order by r.offer_id, r.currency",
    )
    .bind(first)
    .bind(last)
    .fetch_all(ex)
    .await?;
    rows.into_iter()
        .map(|(offer_id, currency, redemptions, converted, mrr_minor)| {
            Ok(OfferFigures {
                offer_id,
                currency: parse_stored("currency", &currency)?,
                redemptions,
                converted,
                mrr_minor,
            })
        })
        .collect()
}
