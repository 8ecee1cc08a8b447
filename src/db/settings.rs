//! Small key/value settings kept in the database (e.g. the generated secret key).
use sqlx::{Any, Executor};

use super::DbError;
use crate::clock::Micros;

pub async fn get<'e, E: Executor<'e, Database = Any>>(ex: E, key: &str) -> Result<Option<String>, DbError> {
    let row: Option<(String,)> =
        sqlx::query_as("select value from settings where key = $1").bind(key).fetch_optional(ex).await?;
    Ok(row.map(|(v,)| v))
}

/// Stores `value` unless the key exists; true when stored. Two instances starting
/// at once both end up reading the one value that won.
pub async fn insert_if_absent<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    key: &str,
    value: &str,
    now: Micros,
) -> Result<bool, DbError> {
    let done =
        sqlx::query("insert into settings (key, value, updated_at) values ($1, $2, $3) on conflict (key) do nothing")
            .bind(key)
            .bind(value)
            .bind(now)
            .execute(ex)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Stores `value` under `key`, replacing what was there.
pub async fn set<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    key: &str,
    value: &str,
    now: Micros,
) -> Result<(), DbError> {
    sqlx::query(
        "insert into settings (key, value, updated_at) values ($1, $2, $3)
         on conflict (key) do update set value = excluded.value, updated_at = excluded.updated_at",
    )
    .bind(key)
    .bind(value)
    .bind(now)
    .execute(ex)
    .await?;
    Ok(())
}

/// Every setting whose key starts with `prefix`.
pub async fn with_prefix<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    prefix: &str,
) -> Result<Vec<(String, String)>, DbError> {
    let rows = sqlx::query_as("select key, value from settings where key like $1 order by key")
        .bind(format!("{prefix}%"))
        .fetch_all(ex)
        .await?;
    Ok(rows)
}
