//! Content texts in languages other than the newsroom's default (the default
//! language stays in the items' own columns: `tiers.name`, `topics.title`, …),
//! and writing an item's default-language texts into those columns.
use sqlx::{Any, Executor};

use super::DbError;
use crate::clock::Micros;
use crate::domain::{ContentKind, Locale};

/// One stored text: (kind, item id, field, text).
pub type Row = (String, String, String, String);

/// Every text in `locale`.
pub async fn list_for_locale<'e, E: Executor<'e, Database = Any>>(ex: E, locale: Locale) -> Result<Vec<Row>, DbError> {
    Ok(sqlx::query_as("select kind, item_id, field, body from translations where locale = $1")
        .bind(locale.as_str())
        .fetch_all(ex)
        .await?)
}

/// Every text of one item: (locale, field, text).
pub async fn list_for_item<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    kind: ContentKind,
    item_id: &str,
) -> Result<Vec<(String, String, String)>, DbError> {
    Ok(sqlx::query_as("select locale, field, body from translations where kind = $1 and item_id = $2")
        .bind(kind.as_str())
        .bind(item_id)
        .fetch_all(ex)
        .await?)
}

/// Stores `body` as the item's `field` in `locale`, or removes it (None).
pub async fn put<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    kind: ContentKind,
    item_id: &str,
    locale: Locale,
    field: &str,
    body: Option<&str>,
    now: Micros,
) -> Result<(), DbError> {
    match body {
        Some(body) => sqlx::query(
            "insert into translations (kind, item_id, locale, field, body, updated_at) values ($1, $2, $3, $4, $5, $6)
             on conflict (kind, item_id, locale, field) do update set body = excluded.body, updated_at = excluded.updated_at",
        )
        .bind(kind.as_str())
        .bind(item_id)
        .bind(locale.as_str())
        .bind(field)
        .bind(body)
        .bind(now)
        .execute(ex)
        .await?,
        None => sqlx::query("delete from translations where kind = $1 and item_id = $2 and locale = $3 and field = $4")
            .bind(kind.as_str())
            .bind(item_id)
            .bind(locale.as_str())
            .bind(field)
            .execute(ex)
            .await?,
    };
    Ok(())
}

/// Removes the item's `field` in every language but the default's columns (a
/// topic's public note when its status changes with a new note).
pub async fn delete_field<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    kind: ContentKind,
    item_id: &str,
    field: &str,
) -> Result<(), DbError> {
    sqlx::query("delete from translations where kind = $1 and item_id = $2 and field = $3")
        .bind(kind.as_str())
        .bind(item_id)
        .bind(field)
        .execute(ex)
        .await?;
    Ok(())
}

/// Writes one default-language text into the item's own column. False when
/// the item does not exist (or has no such column).
pub async fn set_column<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    kind: ContentKind,
    item_id: &str,
    field: &str,
    body: Option<&str>,
    now: Micros,
) -> Result<bool, DbError> {
    // Column names come from this closed list only, never from input.
    let sql = match (kind, field) {
        (ContentKind::Tier, "name") => "update tiers set name = $2, updated_at = $3 where id = $1",
        (ContentKind::Tier, "description") => "update tiers set description = $2, updated_at = $3 where id = $1",
        (ContentKind::Tier, "benefits") => "update tiers set benefits = $2, updated_at = $3 where id = $1",
        (ContentKind::Topic, "title") => "update topics set title = $2, updated_at = $3 where id = $1",
        (ContentKind::Topic, "description") => "update topics set description = $2, updated_at = $3 where id = $1",
        (ContentKind::Topic, "public_note") => "update topics set public_note = $2, updated_at = $3 where id = $1",
        (ContentKind::Round, "title") => "update rounds set title = $2, updated_at = $3 where id = $1",
        (ContentKind::Round, "description") => "update rounds set description = $2, updated_at = $3 where id = $1",
        _ => return Ok(false),
    };
    // Tier and topic descriptions and tier benefits are NOT NULL (empty when absent).
    let nullable = matches!((kind, field), (ContentKind::Topic, "public_note"));
    let body = if nullable { body.map(str::to_string) } else { Some(body.unwrap_or("").to_string()) };
    let done = sqlx::query(sql).bind(item_id).bind(body).bind(now).execute(ex).await?;
    Ok(done.rows_affected() == 1)
}
