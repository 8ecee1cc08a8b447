//! Fixed-window counters shared by every instance through the database.
use sqlx::{Any, Executor};

use super::DbError;
use crate::clock::Micros;

/// Counts one hit in `bucket`'s window and returns the hits so far, in one
/// statement (an upsert), so concurrent hits are all counted.
pub async fn hit<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    bucket: &str,
    window_start: Micros,
) -> Result<i64, DbError> {
    let (hits,): (i64,) = sqlx::query_as(
        "insert into rate_limits (bucket, window_start, hits) values ($1, $2, 1)
         on conflict (bucket, window_start) do update set hits = rate_limits.hits + 1
         returning hits",
    )
    .bind(bucket)
    .bind(window_start)
    .fetch_one(ex)
    .await?;
    Ok(hits)
}

pub async fn delete_before<'e, E: Executor<'e, Database = Any>>(ex: E, before: Micros) -> Result<u64, DbError> {
    let done = sqlx::query("delete from rate_limits where window_start < $1").bind(before).execute(ex).await?;
    Ok(done.rows_affected())
}
