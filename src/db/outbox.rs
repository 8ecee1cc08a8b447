//! The email outbox: requests enqueue, the mail job sends with a lease.
use sqlx::{Any, Executor, FromRow};

use super::DbError;
use crate::clock::Micros;

/// A rendered message, ready to send.
#[derive(Clone, Debug)]
pub struct NewEmail {
    pub to: String,
    pub template: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    /// At most one message is ever enqueued per key.
    pub dedupe_key: Option<String>,
    /// Headers of this message besides the usual ones (`List-Unsubscribe`).
    pub headers: Vec<(String, String)>,
    /// A member whose updates unsubscribe stops this message, even once queued.
    pub unless_unsubscribed: Option<String>,
}

#[derive(Clone, Debug, FromRow)]
pub struct OutboxMessage {
    pub id: String,
    pub to_address: String,
    pub template: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub attempts: i64,
    /// `Name: value` lines (see [`NewEmail::headers`]).
    pub headers: Option<String>,
    pub unless_unsubscribed: Option<String>,
}

impl OutboxMessage {
    /// The message's own headers, as enqueued.
    pub fn extra_headers(&self) -> Vec<(&str, &str)> {
        self.headers.as_deref().unwrap_or_default().lines().filter_map(|l| l.split_once(": ")).collect()
    }
}

/// Enqueues; false when a message with the same dedupe key exists already.
pub async fn enqueue<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    email: &NewEmail,
    now: Micros,
) -> Result<bool, DbError> {
    let done = sqlx::query(
        "insert into email_outbox (id, to_address, template, subject, body_text, body_html, dedupe_key, created_at, due_at,
             headers, unless_unsubscribed)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10)
         on conflict (dedupe_key) do nothing",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(&email.to)
    .bind(&email.template)
    .bind(&email.subject)
    .bind(&email.body_text)
    .bind(&email.body_html)
    .bind(email.dedupe_key.as_deref())
    .bind(now)
    .bind(headers_text(&email.headers))
    .bind(email.unless_unsubscribed.as_deref())
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Headers as stored: one `Name: value` line each; names and values with a
/// line break or a name with a colon are left out (they cannot be headers).
fn headers_text(headers: &[(String, String)]) -> Option<String> {
    let lines: Vec<String> = headers
        .iter()
        .filter(|(n, v)| !n.contains([':', '\r', '\n']) && !v.contains(['\r', '\n']))
        .map(|(n, v)| format!("{n}: {v}"))
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// Takes the next due message with a lease, by one conditional statement that
/// re-checks its own condition, so two workers never take the same message.
pub async fn claim_next<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    now: Micros,
    lease_until: Micros,
    worker: &str,
) -> Result<Option<OutboxMessage>, DbError> {
    let row = sqlx::query_as(
        "update email_outbox set locked_until = $2, locked_by = $3, attempts = attempts + 1
         where id = (select id from email_outbox
                     where sent_at is null and failed_at is null and due_at <= $1
                       and (locked_until is null or locked_until < $1)
                     order by due_at limit 1)
           and sent_at is null and (locked_until is null or locked_until < $1)
         returning id, to_address, template, subject, body_text, body_html, attempts, headers, unless_unsubscribed",
    )
    .bind(now)
    .bind(lease_until)
    .bind(worker)
    .fetch_optional(ex)
    .await?;
    Ok(row)
}

/// Marks a message sent and drops its bodies: sign-in links must not outlive
/// their delivery in the database.
pub async fn mark_sent<'e, E: Executor<'e, Database = Any>>(ex: E, id: &str, now: Micros) -> Result<(), DbError> {
    sqlx::query(
        "update email_outbox set sent_at = $2, locked_until = null, locked_by = null,
             body_text = '', body_html = '', last_error = null
         where id = $1",
    )
    .bind(id)
    .bind(now)
    .execute(ex)
    .await?;
    Ok(())
}

/// Drops a message that must not be sent any more (its member unsubscribed
/// after it was queued).
pub async fn delete<'e, E: Executor<'e, Database = Any>>(ex: E, id: &str) -> Result<(), DbError> {
    sqlx::query("delete from email_outbox where id = $1 and sent_at is null").bind(id).execute(ex).await?;
    Ok(())
}

/// Schedules another attempt, or gives up when `give_up_at` is `Some`.
pub async fn mark_failed_attempt<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: &str,
    error: &str,
    retry_at: Micros,
    give_up_at: Option<Micros>,
) -> Result<(), DbError> {
    sqlx::query(
        "update email_outbox set locked_until = null, locked_by = null, last_error = $2, due_at = $3, failed_at = $4
         where id = $1",
    )
    .bind(id)
    .bind(error)
    .bind(retry_at)
    .bind(give_up_at)
    .execute(ex)
    .await?;
    Ok(())
}

/// Messages not yet sent and not given up on.
pub async fn count_pending<'e, E: Executor<'e, Database = Any>>(ex: E) -> Result<i64, DbError> {
    let (n,): (i64,) = sqlx::query_as("select count(*) from email_outbox where sent_at is null and failed_at is null")
        .fetch_one(ex)
        .await?;
    Ok(n)
}

/// Messages given up on after every retry.
pub async fn count_failed<'e, E: Executor<'e, Database = Any>>(ex: E) -> Result<i64, DbError> {
    let (n,): (i64,) =
        sqlx::query_as("select count(*) from email_outbox where failed_at is not null").fetch_one(ex).await?;
    Ok(n)
}

/// Forgets every message to an address (account deletion).
pub async fn delete_for_address<'e, E: Executor<'e, Database = Any>>(ex: E, to: &str) -> Result<u64, DbError> {
    let done = sqlx::query("delete from email_outbox where to_address = $1").bind(to).execute(ex).await?;
    Ok(done.rows_affected())
}

/// Retention: sent or abandoned messages older than `before`.
pub async fn delete_finished_before<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    before: Micros,
) -> Result<u64, DbError> {
    let done = sqlx::query(
        "delete from email_outbox where (sent_at is not null and sent_at < $1) or (failed_at is not null and failed_at < $1)",
    )
    .bind(before)
    .execute(ex)
    .await?;
    Ok(done.rows_affected())
}
