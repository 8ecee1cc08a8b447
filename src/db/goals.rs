//! Topics' funding goals. Progress is summed from the ledger rows tagged with the
//! topic, in the goal's currency, whenever it is read (an index reaches them).
use sqlx::{Any, Executor};

use super::{DbError, parse_stored};
use crate::clock::Micros;
use crate::domain::{Currency, GoalProgress, Money, TopicId, TopicStatus};

/// id, goal, currency, closed, reached, raised
type GoalRow = (String, i64, String, Option<i64>, Option<i64>, i64);

const SELECT: &str = "select g.topic_id, g.goal_minor, g.currency, g.closed_at, g.reached_at,
        (select cast(coalesce(sum(p.gross_minor), 0) as bigint) from payments p
         where p.topic_id = g.topic_id and p.currency = g.currency) as raised_minor
     from topic_goals g";

fn convert(r: GoalRow) -> Result<GoalProgress, DbError> {
    let currency: Currency = parse_stored("currency", &r.2)?;
    Ok(GoalProgress {
        topic_id: parse_stored("topic id", &r.0)?,
        goal: Money::new(r.1, currency),
        raised_minor: r.5,
        closed_at: r.3,
        reached_at: r.4,
    })
}

pub async fn find<'e, E: Executor<'e, Database = Any>>(ex: E, topic: TopicId) -> Result<Option<GoalProgress>, DbError> {
    let sql = format!("{SELECT} where g.topic_id = $1");
    let row: Option<GoalRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(topic.to_string()).fetch_optional(ex).await?;
    row.map(convert).transpose()
}

/// The goals of topics readers can see (not closed), newest first, with the topic's title.
pub async fn list_open<'e, E: Executor<'e, Database = Any>>(ex: E) -> Result<Vec<(GoalProgress, String)>, DbError> {
    let sql = format!(
        "select q.*, t.title from ({SELECT} where g.closed_at is null) q
         join topics t on t.id = q.topic_id and t.status not in ('suggested', 'merged', 'declined')
         order by t.created_at desc, t.id limit 50"
    );
    type Row = (String, i64, String, Option<i64>, Option<i64>, i64, String);
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(ex).await?;
    rows.into_iter().map(|(a, b, c, d, e, f, title)| Ok((convert((a, b, c, d, e, f))?, title))).collect()
}

/// Gifts tagged with `topic` (in any currency) so far: a goal's currency may
/// not change under them.
pub async fn has_gifts<'e, E: Executor<'e, Database = Any>>(ex: E, topic: TopicId) -> Result<bool, DbError> {
    let row: Option<(i64,)> = sqlx::query_as("select 1 from payments where topic_id = $1 limit 1")
        .bind(topic.to_string())
        .fetch_optional(ex)
        .await?;
    Ok(row.is_some())
}

/// Sets (or replaces) a topic's goal and opens it. A new amount is a new goal:
/// it can be reached (and announced) again.
pub async fn set<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    topic: TopicId,
    goal: Money,
    now: Micros,
) -> Result<(), DbError> {
    sqlx::query(
        "insert into topic_goals (topic_id, goal_minor, currency, created_at, updated_at) values ($1, $2, $3, $4, $4)
         on conflict (topic_id) do update set
             reached_at = case when topic_goals.goal_minor = excluded.goal_minor
                 and topic_goals.currency = excluded.currency then topic_goals.reached_at end,
             goal_minor = excluded.goal_minor, currency = excluded.currency,
             updated_at = excluded.updated_at, closed_at = null",
    )
    .bind(topic.to_string())
    .bind(goal.minor)
    .bind(goal.currency.as_str())
    .bind(now)
    .execute(ex)
    .await?;
    Ok(())
}

/// Closes a goal: no more gifts toward it. False when there is none open.
pub async fn close<'e, E: Executor<'e, Database = Any>>(ex: E, topic: TopicId, now: Micros) -> Result<bool, DbError> {
    let done =
        sqlx::query("update topic_goals set closed_at = $2, updated_at = $2 where topic_id = $1 and closed_at is null")
            .bind(topic.to_string())
            .bind(now)
            .execute(ex)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Takes the goal's row lock (PostgreSQL; SQLite has one writer): gifts toward
/// one topic are booked one after another, so each sees the others' rows.
pub async fn lock<'e, E: Executor<'e, Database = Any>>(ex: E, topic: TopicId) -> Result<(), DbError> {
    sqlx::query("update topic_goals set updated_at = updated_at where topic_id = $1")
        .bind(topic.to_string())
        .execute(ex)
        .await?;
    Ok(())
}

/// Marks the goal reached, once: true only the first time.
pub async fn mark_reached<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    topic: TopicId,
    now: Micros,
) -> Result<bool, DbError> {
    let done = sqlx::query("update topic_goals set reached_at = $2 where topic_id = $1 and reached_at is null")
        .bind(topic.to_string())
        .bind(now)
        .execute(ex)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The topic's status and title, for deciding whether gifts may go toward it.
pub async fn topic_state<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    topic: TopicId,
) -> Result<Option<(TopicStatus, String)>, DbError> {
    let row: Option<(String, String)> = sqlx::query_as("select status, title from topics where id = $1")
        .bind(topic.to_string())
        .fetch_optional(ex)
        .await?;
    row.map(|(status, title)| Ok((parse_stored("topic status", &status)?, title))).transpose()
}

/// Every goal with its topic's title, open ones first, for staff.
pub async fn list_all<'e, E: Executor<'e, Database = Any>>(ex: E) -> Result<Vec<(GoalProgress, String)>, DbError> {
    let sql = format!(
        "select q.*, t.title from ({SELECT}) q join topics t on t.id = q.topic_id
         order by case when q.closed_at is null then 0 else 1 end, t.created_at desc, t.id limit 500"
    );
    type Row = (String, i64, String, Option<i64>, Option<i64>, i64, String);
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(ex).await?;
    rows.into_iter().map(|(a, b, c, d, e, f, title)| Ok((convert((a, b, c, d, e, f))?, title))).collect()
}
