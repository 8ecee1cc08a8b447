//! What the public transparency page reads besides the report aggregates: the
//! months' notes, the stories patrons voted for, and the supporters who chose
//! to be listed.
use sqlx::{Any, Executor};

use super::{DbError, parse_stored};
use crate::clock::Micros;
use crate::domain::{MemberId, StaffId, TopicId};

/// The notes of the months `first..=last` (`YYYY-MM`): (month, body).
pub async fn notes<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    first: &str,
    last: &str,
) -> Result<Vec<(String, String)>, DbError> {
    Ok(sqlx::query_as("select month, body from transparency_notes where month >= $1 and month <= $2 order by month")
        .bind(first)
        .bind(last)
        .fetch_all(ex)
        .await?)
}

/// Writes (or, with `None`, removes) a month's note.
pub async fn set_note<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    month: &str,
    body: Option<&str>,
    staff: StaffId,
    now: Micros,
) -> Result<(), DbError> {
    match body {
        Some(body) => {
            sqlx::query(
                "insert into transparency_notes (month, body, staff_id, updated_at) values ($1, $2, $3, $4)
                 on conflict (month) do update set body = excluded.body, staff_id = excluded.staff_id,
                     updated_at = excluded.updated_at",
            )
            .bind(month)
            .bind(body)
            .bind(staff.to_string())
            .bind(now)
            .execute(ex)
            .await?
        }
        None => sqlx::query("delete from transparency_notes where month = $1").bind(month).execute(ex).await?,
    };
    Ok(())
}

/// A story covered because patrons voted for it.
#[derive(Clone, Debug)]
pub struct VotedStory {
    pub topic_id: TopicId,
    pub title: String,
    pub covered_at: Micros,
    pub article_url: Option<String>,
    pub headline: Option<String>,
}

/// Topics covered in `[from, to)` that readers voted for in a round, oldest
/// first, each with its first article.
pub async fn voted_stories<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    from: Micros,
    to: Micros,
) -> Result<Vec<VotedStory>, DbError> {
    type Row = (String, String, i64, Option<String>, Option<String>);
    let rows: Vec<Row> = sqlx::query_as(
        "select t.id, t.title, t.covered_at,
             (select a.url from topic_articles a where a.topic_id = t.id order by a.position, a.created_at limit 1),
             (select a.headline from topic_articles a where a.topic_id = t.id order by a.position, a.created_at limit 1)
         from topics t
         where t.status = 'covered' and t.covered_at >= $1 and t.covered_at < $2
             and exists (select 1 from votes v where v.topic_id = t.id)
         order by t.covered_at, t.id",
    )
    .bind(from)
    .bind(to)
    .fetch_all(ex)
    .await?;
    rows.into_iter()
        .map(|(id, title, covered_at, article_url, headline)| {
            Ok(VotedStory { topic_id: parse_stored("topic id", &id)?, title, covered_at, article_url, headline })
        })
        .collect()
}

/// Sets (or, with `None`, clears) the name a member is listed under as a supporter.
pub async fn set_supporter_name<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    member: MemberId,
    name: Option<&str>,
) -> Result<(), DbError> {
    sqlx::query("update members set supporter_name = $2 where id = $1 and deleted_at is null")
        .bind(member.to_string())
        .bind(name)
        .execute(ex)
        .await?;
    Ok(())
}

pub async fn supporter_name<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    member: MemberId,
) -> Result<Option<String>, DbError> {
    let row: Option<(Option<String>,)> = sqlx::query_as("select supporter_name from members where id = $1")
        .bind(member.to_string())
        .fetch_optional(ex)
        .await?;
    Ok(row.and_then(|r| r.0))
}

/// The names supporters chose to be listed under: members who opted in and
/// have given (a membership payment or a gift), alphabetically, at most `limit`.
pub async fn supporters<'e, E: Executor<'e, Database = Any>>(ex: E, limit: i64) -> Result<Vec<String>, DbError> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "select m.supporter_name from members m
         where m.supporter_name is not null and m.deleted_at is null
             and exists (select 1 from payments p where p.member_id = m.id
                 and p.kind in ('subscription', 'donation', 'gift') and p.gross_minor > 0)
         order by m.supporter_name, m.id limit $1",
    )
    .bind(limit)
    .fetch_all(ex)
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}
