//! The Stripe event log: every verified event, stored before it is applied.
use sqlx::{Any, Executor, FromRow};

use super::{DbError, parse_stored};
use crate::clock::Micros;
use crate::domain::StripeEventStatus;

#[derive(Clone, Debug)]
pub struct NewEvent<'a> {
    pub id: &'a str,
    pub event_type: &'a str,
    pub object_id: Option<&'a str>,
    pub api_version: Option<&'a str>,
    pub payload: &'a str,
    pub status: StripeEventStatus,
    pub stripe_created_at: Option<Micros>,
}

/// Stores an event unless its id is known; true when stored now. A pending one
/// is due at once, for the first worker that [`claim`]s it.
pub async fn insert_if_absent<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    e: &NewEvent<'_>,
    now: Micros,
) -> Result<bool, DbError> {
    let done = sqlx::query(
        "insert into stripe_events (id, type, object_id, api_version, payload, status, attempts, due_at, stripe_created_at,
             received_at)
         values ($1, $2, $3, $4, $5, $6, 0, $7, $8, $7)
         on conflict (id) do nothing",
    )
    .bind(e.id)
    .bind(e.event_type)
    .bind(e.object_id)
    .bind(e.api_version)
    .bind(e.payload)
    .bind(e.status.as_str())
    .bind(now)
    .bind(e.stripe_created_at)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The raw body of a stored event, as Stripe signed it.
pub async fn payload<'e, E: Executor<'e, Database = Any>>(ex: E, id: &str) -> Result<Option<String>, DbError> {
    let row: Option<(String,)> =
        sqlx::query_as("select payload from stripe_events where id = $1").bind(id).fetch_optional(ex).await?;
    Ok(row.map(|(p,)| p))
}

#[derive(Clone, Debug)]
pub struct StoredEvent {
    pub id: String,
    pub event_type: String,
    pub object_id: Option<String>,
    pub status: StripeEventStatus,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub received_at: Micros,
    pub applied_at: Option<Micros>,
}

#[derive(FromRow)]
struct EventRow {
    id: String,
    #[sqlx(rename = "type")]
    event_type: String,
    object_id: Option<String>,
    status: String,
    attempts: i64,
    last_error: Option<String>,
    received_at: i64,
    applied_at: Option<i64>,
}

impl TryFrom<EventRow> for StoredEvent {
    type Error = DbError;
    fn try_from(r: EventRow) -> Result<Self, DbError> {
        Ok(StoredEvent {
            status: parse_stored("Stripe event status", &r.status)?,
            id: r.id,
            event_type: r.event_type,
            object_id: r.object_id,
            attempts: r.attempts,
            last_error: r.last_error,
            received_at: r.received_at,
            applied_at: r.applied_at,
        })
    }
}

const COLUMNS: &str = "id, type, object_id, status, attempts, last_error, received_at, applied_at";

pub async fn find<'e, E: Executor<'e, Database = Any>>(ex: E, id: &str) -> Result<Option<StoredEvent>, DbError> {
    let row: Option<EventRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("select {COLUMNS} from stripe_events where id = $1")))
            .bind(id)
            .fetch_optional(ex)
            .await?;
    row.map(StoredEvent::try_from).transpose()
}

/// Takes a due pending event with a lease (one conditional statement).
pub async fn claim<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: Option<&str>,
    now: Micros,
    lease_until: Micros,
    worker: &str,
) -> Result<Option<StoredEvent>, DbError> {
    // Two statements, not one with "this id, or any": each has one plan that is
    // good for every value (the queue's walks `stripe_events_queue_idx` in order).
    let which = match id {
        Some(_) => "$4",
        None => {
            "(select id from stripe_events
              where status = 'pending' and due_at <= $1 and (locked_until is null or locked_until < $1)
              order by due_at, received_at, id limit 1)"
        }
    };
    let query = sqlx::AssertSqlSafe(format!(
        "update stripe_events set locked_until = $2, locked_by = $3, attempts = attempts + 1
         where id = {which} and status = 'pending' and (locked_until is null or locked_until < $1)
         returning {COLUMNS}"
    ));
    let mut query = sqlx::query_as(query).bind(now).bind(lease_until).bind(worker);
    if let Some(id) = id {
        query = query.bind(id);
    }
    let row: Option<EventRow> = query.fetch_optional(ex).await?;
    row.map(StoredEvent::try_from).transpose()
}

/// The outcome of an attempt.
#[derive(Clone, Copy, Debug)]
pub struct Finished<'a> {
    pub status: StripeEventStatus,
    pub error: Option<&'a str>,
    /// Keeps it pending for another try at this time.
    pub retry_at: Option<Micros>,
    /// The charge whose payment it waits for ([`wake_waiting`]).
    pub waits_for: Option<&'a str>,
}

/// Records the outcome of an attempt.
pub async fn finish<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: &str,
    f: &Finished<'_>,
    now: Micros,
) -> Result<(), DbError> {
    sqlx::query(
        "update stripe_events set status = $2, last_error = $3, due_at = $4, waits_for = $6, locked_until = null,
             locked_by = null, applied_at = case when $2 = 'applied' then $5 else applied_at end
         where id = $1",
    )
    .bind(id)
    .bind(f.status.as_str())
    .bind(f.error)
    .bind(f.retry_at)
    .bind(now)
    .bind(f.waits_for)
    .execute(ex)
    .await?;
    Ok(())
}

/// The payment of `charge` is recorded: the events waiting for it (a refund or
/// dispute that came first) are due now, even those set aside as unmatched.
pub async fn wake_waiting<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    charge: &str,
    now: Micros,
) -> Result<u64, DbError> {
    let done = sqlx::query(
        "update stripe_events set status = 'pending', due_at = $2,
             attempts = case when status = 'unmatched' then 0 else attempts end
         where waits_for = $1 and status in ('pending', 'unmatched')",
    )
    .bind(charge)
    .bind(now)
    .execute(ex)
    .await?;
    Ok(done.rows_affected())
}

/// Puts an event back in the queue (staff's retry button); only the statuses
/// [`StripeEventStatus::can_retry`] lists.
pub async fn requeue<'e, E: Executor<'e, Database = Any>>(ex: E, id: &str, now: Micros) -> Result<bool, DbError> {
    let done = sqlx::query(
        "update stripe_events set status = 'pending', due_at = $2, attempts = 0, locked_until = null
         where id = $1 and status in ('failed', 'unmatched', 'pending')",
    )
    .bind(id)
    .bind(now)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn list_recent<'e, E: Executor<'e, Database = Any>>(ex: E, limit: i64) -> Result<Vec<StoredEvent>, DbError> {
    let rows: Vec<EventRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from stripe_events order by received_at desc, id desc limit $1"
    )))
    .bind(limit)
    .fetch_all(ex)
    .await?;
    rows.into_iter().map(StoredEvent::try_from).collect()
}

pub async fn count_pending<'e, E: Executor<'e, Database = Any>>(ex: E) -> Result<i64, DbError> {
    let (n,): (i64,) =
        sqlx::query_as("select count(*) from stripe_events where status = 'pending'").fetch_one(ex).await?;
    Ok(n)
}
