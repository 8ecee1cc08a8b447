//! Readers' corrections and clarifications, and the staff queue (migration 0014).
use sqlx::{Any, Executor, FromRow};

use super::{DbError, parse_stored};
use crate::clock::Micros;
use crate::domain::{Correction, CorrectionFilter, CorrectionId, CorrectionStatus, StaffId};

/// What a reader sent, checked.
#[derive(Clone, Debug)]
pub struct NewCorrection<'a> {
    pub id: CorrectionId,
    pub article_url: &'a str,
    pub quote: &'a str,
    pub note: &'a str,
    pub email: Option<&'a str>,
    pub locale: &'a str,
}

#[derive(FromRow)]
struct CorrectionRow {
    id: String,
    article_url: String,
    quote: String,
    note: String,
    email: Option<String>,
    locale: String,
    status: String,
    internal_note: String,
    public_reply: String,
    created_at: i64,
    updated_at: i64,
    resolved_at: Option<i64>,
    resolved_by_email: Option<String>,
}

impl TryFrom<CorrectionRow> for Correction {
    type Error = DbError;
    fn try_from(r: CorrectionRow) -> Result<Self, DbError> {
        Ok(Correction {
            id: parse_stored("correction id", &r.id)?,
            article_url: r.article_url,
            quote: r.quote,
            note: r.note,
            email: r.email,
            locale: parse_stored("correction locale", &r.locale)?,
            status: parse_stored("correction status", &r.status)?,
            internal_note: r.internal_note,
            public_reply: r.public_reply,
            created_at: r.created_at,
            updated_at: r.updated_at,
            resolved_at: r.resolved_at,
            resolved_by_email: r.resolved_by_email,
        })
    }
}

const SELECT: &str = "select c.id, c.article_url, c.quote, c.note, c.email, c.locale, c.status, c.internal_note,
       c.public_reply, c.created_at, c.updated_at, c.resolved_at, s.email as resolved_by_email
  from corrections c left join staff_users s on s.id = c.resolved_by";

pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    c: &NewCorrection<'_>,
    now: Micros,
) -> Result<(), DbError> {
    sqlx::query(
        "insert into corrections (id, article_url, quote, note, email, locale, status, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, 'new', $7, $7)",
    )
    .bind(c.id.to_string())
    .bind(c.article_url)
    .bind(c.quote)
    .bind(c.note)
    .bind(c.email)
    .bind(c.locale)
    .bind(now)
    .execute(ex)
    .await?;
    Ok(())
}

pub async fn find<'e, E: Executor<'e, Database = Any>>(ex: E, id: CorrectionId) -> Result<Option<Correction>, DbError> {
    let row: Option<CorrectionRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} where c.id = $1")))
        .bind(id.to_string())
        .fetch_optional(ex)
        .await?;
    row.map(Correction::try_from).transpose()
}

/// The suggestions `filter` selects, newest first; at most `limit` (`None`: all).
pub async fn list<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    filter: &CorrectionFilter,
    limit: Option<i64>,
) -> Result<Vec<Correction>, DbError> {
    let rows: Vec<CorrectionRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} where ($1 = '' or c.status = $1) and ($2 = '' or c.article_url = $2)
         order by c.created_at desc, c.id desc limit $3"
    )))
    .bind(filter.status.map_or("", CorrectionStatus::as_str))
    .bind(filter.article_url.as_deref().unwrap_or(""))
    .bind(limit.unwrap_or(i64::MAX))
    .fetch_all(ex)
    .await?;
    rows.into_iter().map(Correction::try_from).collect()
}

/// Articles with suggestions, the most recently suggested first, with how many
/// each has in all and how many are new.
pub async fn articles<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    limit: i64,
) -> Result<Vec<(String, i64, i64)>, DbError> {
    let rows: Vec<(String, i64, i64)> = sqlx::query_as(
        "select article_url, cast(count(*) as bigint),
                cast(sum(case when status = 'new' then 1 else 0 end) as bigint)
           from corrections group by article_url order by max(created_at) desc, article_url limit $1",
    )
    .bind(limit)
    .fetch_all(ex)
    .await?;
    Ok(rows)
}

/// How many suggestions wait in `new`.
pub async fn count_new<'e, E: Executor<'e, Database = Any>>(ex: E) -> Result<i64, DbError> {
    let (n,): (i64,) =
        sqlx::query_as("select cast(count(*) as bigint) from corrections where status = 'new'").fetch_one(ex).await?;
    Ok(n)
}

/// What staff decide about one suggestion.
#[derive(Clone, Debug)]
pub struct StaffUpdate<'a> {
    pub status: CorrectionStatus,
    pub internal_note: &'a str,
    pub public_reply: &'a str,
    pub by: Option<StaffId>,
}

/// Writes staff's decision if the suggestion is still in `from` (so of two
/// editors at once, the second one's stale form changes nothing); the first move
/// out of `new` stamps `resolved_at` and `resolved_by`, which stay. False when it
/// was no longer in `from`.
pub async fn update<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: CorrectionId,
    from: CorrectionStatus,
    u: &StaffUpdate<'_>,
    now: Micros,
) -> Result<bool, DbError> {
    let resolves = u.status.is_resolution();
    let done = sqlx::query(
        "update corrections set status = $3, internal_note = $4, public_reply = $5, updated_at = $6,
                resolved_at = case when resolved_at is null and $7 = 1 then $6 else resolved_at end,
                resolved_by = case when resolved_at is null and $7 = 1 then $8 else resolved_by end
          where id = $1 and status = $2",
    )
    .bind(id.to_string())
    .bind(from.as_str())
    .bind(u.status.as_str())
    .bind(u.internal_note)
    .bind(u.public_reply)
    .bind(now)
    .bind(i64::from(resolves))
    .bind(u.by.map(|s| s.to_string()))
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}
