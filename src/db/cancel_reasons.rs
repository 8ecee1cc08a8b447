//! The cancel survey's answers: one per subscription, written with the
//! cancellation it explains.
use sqlx::{Any, Executor, FromRow};

use super::{DbError, parse_stored};
use crate::clock::Micros;
use crate::domain::{CancelReason, CancelSurvey, Currency};

/// Records why a subscription is being cancelled, once (a second answer for
/// the same subscription is ignored). True when stored now.
pub async fn insert_if_absent<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    subscription_id: &str,
    survey: &CancelSurvey,
    currency: Currency,
    now: Micros,
) -> Result<bool, DbError> {
    let Some(reason) = survey.reason else { return Ok(false) };
    let done = sqlx::query(
        "insert into cancel_reasons (id, subscription_id, reason, comment, currency, created_at)
         values ($1, $2, $3, $4, $5, $6) on conflict (subscription_id) do nothing",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(subscription_id)
    .bind(reason.as_str())
    .bind(survey.comment.as_ref().map(|c| c.as_str()))
    .bind(currency.as_str())
    .bind(now)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A resumed subscription was not cancelled after all: its answer goes.
pub async fn delete_for<'e, E: Executor<'e, Database = Any>>(ex: E, subscription_id: &str) -> Result<(), DbError> {
    sqlx::query("delete from cancel_reasons where subscription_id = $1").bind(subscription_id).execute(ex).await?;
    Ok(())
}

/// A deleted account's words go; the reason stays, anonymous, for the report.
pub async fn erase_comments_of_member<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    member_id: &str,
) -> Result<(), DbError> {
    sqlx::query(
        "update cancel_reasons set comment = null
         where subscription_id in (select id from subscriptions where member_id = $1)",
    )
    .bind(member_id)
    .execute(ex)
    .await?;
    Ok(())
}

/// How many cancellations gave each reason, per report month and subscription
/// currency, for the months `first..=last` (`YYYY-MM`, in the newsroom's zone).
pub async fn counts_by_month<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    first: &str,
    last: &str,
) -> Result<Vec<(String, Currency, CancelReason, i64)>, DbError> {
    let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
        "select m.month, r.currency, r.reason, cast(count(*) as bigint)
         from cancel_reasons r join report_months m on r.created_at >= m.starts_at and r.created_at < m.ends_at
         where m.month >= $1 and m.month <= $2
         group by m.month, r.currency, r.reason order by m.month, r.currency, r.reason",
    )
    .bind(first)
    .bind(last)
    .fetch_all(ex)
    .await?;
    rows.into_iter()
        .map(|(month, currency, reason, n)| {
            Ok((month, parse_stored("currency", &currency)?, parse_stored("cancel reason", &reason)?, n))
        })
        .collect()
}

/// One answer given in the patron's own words.
#[derive(Clone, Debug, FromRow)]
pub struct Comment {
    pub created_at: i64,
    pub reason: String,
    pub currency: String,
    pub comment: String,
}

/// The answers with words, given between `from` and `to` (newest first, at most `limit`).
pub async fn comments_between<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    from: Micros,
    to: Micros,
    limit: i64,
) -> Result<Vec<Comment>, DbError> {
    Ok(sqlx::query_as(
        "select created_at, reason, currency, comment from cancel_reasons
         where comment is not null and created_at >= $1 and created_at < $2
         order by created_at desc, id desc limit $3",
    )
    .bind(from)
    .bind(to)
    .bind(limit)
    .fetch_all(ex)
    .await?)
}
