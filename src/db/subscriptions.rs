//! Our mirror of each subscription (Stripe's, or the demo gateway's).
use sqlx::{Any, Executor, FromRow};

use super::{Backend, DbError, Tx, parse_stored};
use crate::clock::Micros;
use crate::domain::{MemberId, Pause, Subscription};

#[derive(FromRow)]
struct Row {
    #[sqlx(rename = "sub_id")]
    id: String,
    provider_id: String,
    member_id: Option<String>,
    customer_id: String,
    tier_id: Option<String>,
    price_id: Option<String>,
    status: String,
    interval: String,
    amount_minor: i64,
    currency: String,
    current_period_end: Option<i64>,
    cancel_at_period_end: i64,
    started_at: Option<i64>,
    canceled_at: Option<i64>,
    ended_at: Option<i64>,
    past_due_since: Option<i64>,
    first_paid_at: Option<i64>,
    mrr_minor: i64,
    pause_behavior: Option<String>,
    pause_resumes_at: Option<i64>,
    offer_id: Option<String>,
}

impl TryFrom<Row> for Subscription {
    type Error = DbError;
    fn try_from(r: Row) -> Result<Self, DbError> {
        Ok(Subscription {
            id: r.id,
            provider_id: r.provider_id,
            member_id: r.member_id.as_deref().map(|m| parse_stored("member id", m)).transpose()?,
            customer_id: r.customer_id,
            tier_id: r.tier_id.as_deref().map(|t| parse_stored("tier id", t)).transpose()?,
            price_id: r.price_id,
            status: parse_stored("subscription status", &r.status)?,
            interval: parse_stored("interval", &r.interval)?,
            amount_minor: r.amount_minor,
            currency: parse_stored("currency", &r.currency)?,
            current_period_end: r.current_period_end,
            cancel_at_period_end: r.cancel_at_period_end != 0,
            started_at: r.started_at,
            canceled_at: r.canceled_at,
            ended_at: r.ended_at,
            past_due_since: r.past_due_since,
            first_paid_at: r.first_paid_at,
            mrr_minor: r.mrr_minor,
            pause: r
                .pause_behavior
                .as_deref()
                .map(|b| parse_stored("pause behavior", b))
                .transpose()?
                .map(|behavior| Pause { behavior, resumes_at: r.pause_resumes_at }),
            offer_id: r.offer_id,
        })
    }
}

const FIELDS: [&str; 21] = [
    "id",
    "provider_id",
    "member_id",
    "customer_id",
    "tier_id",
    "price_id",
    "status",
    "interval",
    "amount_minor",
    "currency",
    "current_period_end",
    "cancel_at_period_end",
    "started_at",
    "canceled_at",
    "ended_at",
    "past_due_since",
    "first_paid_at",
    "mrr_minor",
    "pause_behavior",
    "pause_resumes_at",
    "offer_id",
];

/// The select list for a subscription row of `table` (a name or alias). The id
/// comes as `sub_id`, so the row can be read beside another table's (see
/// [`super::rounds::votes_and_subscriptions`]).
pub(super) fn columns(table: &str) -> String {
    let named = |f: &&str| if *f == "id" { format!("{table}.id as sub_id") } else { format!("{table}.{f}") };
    FIELDS.iter().map(named).collect::<Vec<_>>().join(", ")
}

/// As many NULLs as [`columns`] has, for a row of another kind in a `union all`.
pub(super) fn no_columns() -> String {
    vec!["null"; FIELDS.len()].join(", ")
}

/// Reads a row selected with [`columns`].
pub(super) fn from_row(row: &sqlx::any::AnyRow) -> Result<Subscription, DbError> {
    Subscription::try_from(Row::from_row(row)?)
}

pub async fn find_by_provider_id<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    provider_id: &str,
) -> Result<Option<Subscription>, DbError> {
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {} from subscriptions where provider_id = $1",
        columns("subscriptions")
    )))
    .bind(provider_id)
    .fetch_optional(ex)
    .await?;
    row.map(Subscription::try_from).transpose()
}

/// The subscriptions of each of `members` (newest first), and each one's comp,
/// in two statements: inside a batch of votes, where they stand decides.
pub async fn standings_of(
    tx: &mut super::Tx,
    members: &[MemberId],
) -> Result<std::collections::HashMap<MemberId, (Vec<Subscription>, Option<i64>)>, DbError> {
    let mut out: std::collections::HashMap<MemberId, (Vec<Subscription>, Option<i64>)> =
        members.iter().map(|m| (*m, (Vec::new(), None))).collect();
    if members.is_empty() {
        return Ok(out);
    }
    let placeholders: Vec<String> = (1..=members.len()).map(|n| format!("${n}")).collect();
    let list = placeholders.join(", ");
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {} from subscriptions where member_id in ({list}) order by created_at desc",
        columns("subscriptions")
    )))
    .persistent(false);
    for m in members {
        query = query.bind(m.to_string());
    }
    let rows: Vec<Row> = query.fetch_all(&mut **tx).await?;
    for row in rows {
        let sub = Subscription::try_from(row)?;
        if let Some(member) = sub.member_id
            && let Some((subs, _)) = out.get_mut(&member)
        {
            subs.push(sub);
        }
    }
    let mut query =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("select id, comped_until from members where id in ({list})")))
            .persistent(false);
    for m in members {
        query = query.bind(m.to_string());
    }
    let comps: Vec<(String, Option<i64>)> = query.fetch_all(&mut **tx).await?;
    for (id, comped) in comps {
        if let Some((_, c)) = out.get_mut(&super::parse_stored::<MemberId>("member id", &id)?) {
            *c = comped;
        }
    }
    Ok(out)
}

/// One subscription by our id.
pub async fn find<'e, E: Executor<'e, Database = Any>>(ex: E, id: &str) -> Result<Option<Subscription>, DbError> {
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {} from subscriptions where id = $1",
        columns("subscriptions")
    )))
    .bind(id)
    .fetch_optional(ex)
    .await?;
    row.map(Subscription::try_from).transpose()
}

/// Demo subscriptions whose pause ended by `now` but are still marked paused
/// (Stripe resumes its own and reports it; the demo gateway has no one to).
pub async fn list_demo_pauses_due<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    now: Micros,
) -> Result<Vec<Subscription>, DbError> {
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {} from subscriptions where pause_resumes_at <= $1 and substr(provider_id, 1, 5) = 'demo_'
         order by pause_resumes_at limit 100",
        columns("subscriptions")
    )))
    .bind(now)
    .fetch_all(ex)
    .await?;
    rows.into_iter().map(Subscription::try_from).collect()
}

/// Demo subscriptions whose trial ended by `now` (Stripe charges and reports its own).
pub async fn list_demo_trials_due<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    now: Micros,
) -> Result<Vec<Subscription>, DbError> {
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {} from subscriptions where status = 'trialing' and current_period_end <= $1
           and substr(provider_id, 1, 5) = 'demo_' order by current_period_end limit 100",
        columns("subscriptions")
    )))
    .bind(now)
    .fetch_all(ex)
    .await?;
    rows.into_iter().map(Subscription::try_from).collect()
}

pub async fn list_for_member<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    member: MemberId,
) -> Result<Vec<Subscription>, DbError> {
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {} from subscriptions where member_id = $1 order by created_at desc",
        columns("subscriptions")
    )))
    .bind(member.to_string())
    .fetch_all(ex)
    .await?;
    rows.into_iter().map(Subscription::try_from).collect()
}

/// Inserts or replaces our mirror of a subscription (keyed by the provider's id).
pub async fn upsert<'e, E: Executor<'e, Database = Any>>(ex: E, s: &Subscription, now: Micros) -> Result<(), DbError> {
    sqlx::query(
        "insert into subscriptions (id, provider_id, member_id, customer_id, tier_id, price_id, status, interval, amount_minor,
             currency, current_period_end, cancel_at_period_end, started_at, canceled_at, ended_at, past_due_since,
             first_paid_at, mrr_minor, created_at, updated_at, pause_behavior, pause_resumes_at, offer_id)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19, $20, $21, $22)
         on conflict (provider_id) do update set
             member_id = coalesce(excluded.member_id, subscriptions.member_id), customer_id = excluded.customer_id,
             tier_id = excluded.tier_id, price_id = excluded.price_id, status = excluded.status,
             interval = excluded.interval, amount_minor = excluded.amount_minor, currency = excluded.currency,
             current_period_end = excluded.current_period_end, cancel_at_period_end = excluded.cancel_at_period_end,
             started_at = excluded.started_at, canceled_at = excluded.canceled_at, ended_at = excluded.ended_at,
             past_due_since = excluded.past_due_since,
             first_paid_at = coalesce(subscriptions.first_paid_at, excluded.first_paid_at),
             mrr_minor = excluded.mrr_minor, updated_at = excluded.updated_at,
             pause_behavior = excluded.pause_behavior, pause_resumes_at = excluded.pause_resumes_at,
             offer_id = excluded.offer_id",
    )
    .bind(&s.id)
    .bind(&s.provider_id)
    .bind(s.member_id.map(|m| m.to_string()))
    .bind(&s.customer_id)
    .bind(s.tier_id.map(|t| t.to_string()))
    .bind(s.price_id.as_deref())
    .bind(s.status.as_str())
    .bind(s.interval.as_str())
    .bind(s.amount_minor)
    .bind(s.currency.as_str())
    .bind(s.current_period_end)
    .bind(i64::from(s.cancel_at_period_end))
    .bind(s.started_at)
    .bind(s.canceled_at)
    .bind(s.ended_at)
    .bind(s.past_due_since)
    .bind(s.first_paid_at)
    .bind(s.mrr_minor)
    .bind(now)
    .bind(s.pause.map(|p| p.behavior.as_str()))
    .bind(s.pause.and_then(|p| p.resumes_at))
    .bind(s.offer_id.as_deref())
    .execute(ex)
    .await?;
    Ok(())
}

/// Records the first cleared payment (only the first one counts): true when this was it.
pub async fn mark_first_paid<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    provider_id: &str,
    at: Micros,
) -> Result<bool, DbError> {
    let done =
        sqlx::query("update subscriptions set first_paid_at = $2 where provider_id = $1 and first_paid_at is null")
            .bind(provider_id)
            .bind(at)
            .execute(ex)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether the member ever contributed recurring revenue (for "reactivation").
pub async fn member_ever_had_mrr<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    member: MemberId,
) -> Result<bool, DbError> {
    let (n,): (i64,) = sqlx::query_as("select count(*) from mrr_movements where member_id = $1")
        .bind(member.to_string())
        .fetch_one(ex)
        .await?;
    Ok(n > 0)
}

/// Members with a subscription that is active now and has been paid, oldest first.
pub async fn active_paid_member_ids<'e, E: Executor<'e, Database = Any>>(ex: E) -> Result<Vec<MemberId>, DbError> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "select distinct member_id from subscriptions
         where status = 'active' and first_paid_at is not null and member_id is not null order by member_id",
    )
    .fetch_all(ex)
    .await?;
    rows.iter().map(|(id,)| super::parse_stored("member id", id)).collect()
}

/// Holds, until the transaction ends, the right to change the subscription with
/// this provider id, so two events for one subscription (a new one above all,
/// which has no row to lock yet) are applied one after the other: each reads what
/// the other wrote. On PostgreSQL a transaction-scoped advisory lock keyed on the
/// id; on SQLite write transactions already run one at a time.
pub async fn lock_provider_id(tx: &mut Tx, backend: Backend, provider_id: &str) -> Result<(), DbError> {
    if backend == Backend::Postgres {
        sqlx::query("select pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(format!("subscription:{provider_id}"))
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Members who are patrons now: a subscription that counts (active, trialing
/// or past due) or a comp that has not ended.
pub async fn count_patrons<'e, E: Executor<'e, Database = Any>>(ex: E, now: Micros) -> Result<i64, DbError> {
    let (n,): (i64,) = sqlx::query_as(
        "select count(*) from members m where m.deleted_at is null and (m.comped_until > $1
           or exists (select 1 from subscriptions s where s.member_id = m.id
                      and s.status in ('active', 'trialing', 'past_due')))",
    )
    .bind(now)
    .fetch_one(ex)
    .await?;
    Ok(n)
}
