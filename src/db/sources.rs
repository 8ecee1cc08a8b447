//! Sources (where a reader came from), who carries them, and the monthly
//! aggregate the sources report reads (`source_monthly`), kept in the
//! transaction that books each payment.
use sqlx::{Any, AnyConnection, Executor, FromRow};

use super::{DbError, parse_stored};
use crate::clock::Micros;
use crate::domain::{Currency, MemberId, PaymentKind, Source};

/// Stores `source` once (its id is a hash of its values) and returns its id.
pub async fn upsert<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    source: &Source,
    now: Micros,
) -> Result<String, DbError> {
    let id = source.id();
    sqlx::query(
        "insert into sources (id, article_url, referrer_host, utm_source, utm_medium, utm_campaign, created_at)
         values ($1, $2, $3, $4, $5, $6, $7) on conflict (id) do nothing",
    )
    .bind(&id)
    .bind(source.article_url())
    .bind(source.referrer_host())
    .bind(source.utm_source())
    .bind(source.utm_medium())
    .bind(source.utm_campaign())
    .bind(now)
    .execute(ex)
    .await?;
    Ok(id)
}

/// The member's first source, set once.
pub async fn set_member_first<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    member: MemberId,
    source_id: &str,
) -> Result<(), DbError> {
    sqlx::query("update members set first_source_id = $2 where id = $1 and first_source_id is null")
        .bind(member.to_string())
        .bind(source_id)
        .execute(ex)
        .await?;
    Ok(())
}

/// The source of a subscription's checkout, set once (later states of the same
/// subscription never change where it came from).
pub async fn set_subscription_source<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    provider_id: &str,
    source_id: &str,
) -> Result<(), DbError> {
    sqlx::query("update subscriptions set source_id = $2 where provider_id = $1 and source_id is null")
        .bind(provider_id)
        .bind(source_id)
        .execute(ex)
        .await?;
    Ok(())
}

/// The source of the subscription with this provider id, if it has one.
pub async fn of_subscription<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    provider_id: &str,
) -> Result<Option<String>, DbError> {
    let row: Option<(Option<String>,)> = sqlx::query_as("select source_id from subscriptions where provider_id = $1")
        .bind(provider_id)
        .fetch_optional(ex)
        .await?;
    Ok(row.and_then(|(s,)| s))
}

/// What one payment (or one new patron) adds to its month's aggregate.
#[derive(Clone, Copy, Debug, Default)]
pub struct SourceAmounts {
    pub payments: i64,
    pub new_patrons: i64,
    pub gross_minor: i64,
}

/// Adds `a` to the aggregate of the month `at` falls in, for `source_id`
/// (none: counted under '').
pub async fn add_to_month(
    conn: &mut AnyConnection,
    source_id: Option<&str>,
    kind: PaymentKind,
    currency: Currency,
    at: Micros,
    a: SourceAmounts,
) -> Result<(), DbError> {
    sqlx::query(
        "insert into source_monthly (month, source_id, currency, kind, payments, new_patrons, gross_minor)
         select month, $1, $2, $3, $4, $5, $6 from report_months
         where month = (select month from report_months where starts_at <= $7 order by starts_at desc limit 1)
         on conflict (month, source_id, currency, kind) do update set
             payments = source_monthly.payments + excluded.payments,
             new_patrons = source_monthly.new_patrons + excluded.new_patrons,
             gross_minor = source_monthly.gross_minor + excluded.gross_minor",
    )
    .bind(source_id.unwrap_or(""))
    .bind(currency.as_str())
    .bind(kind.as_str())
    .bind(a.payments)
    .bind(a.new_patrons)
    .bind(a.gross_minor)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Counts one new member in the month `at` falls in, under `source_id` (none: '').
pub async fn add_member(conn: &mut AnyConnection, source_id: Option<&str>, at: Micros) -> Result<(), DbError> {
    sqlx::query(
        "insert into source_members_monthly (month, source_id, members)
         select month, $1, 1 from report_months
         where month = (select month from report_months where starts_at <= $2 order by starts_at desc limit 1)
         on conflict (month, source_id) do update set members = source_members_monthly.members + 1",
    )
    .bind(source_id.unwrap_or(""))
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Rebuilds `source_monthly` from the ledger and the subscriptions (after the
/// report months changed); in the caller's transaction, after `report_months`.
pub async fn rebuild(conn: &mut AnyConnection) -> Result<(), DbError> {
    sqlx::query("delete from source_monthly").execute(&mut *conn).await?;
    sqlx::query("delete from source_members_monthly").execute(&mut *conn).await?;
    sqlx::query(
        "insert into source_members_monthly (month, source_id, members)
         select m.month, coalesce(b.first_source_id, ''), count(*)
         from members b join report_months m on b.created_at >= m.starts_at and b.created_at < m.ends_at
         group by m.month, coalesce(b.first_source_id, '')",
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "insert into source_monthly (month, source_id, currency, kind, payments, new_patrons, gross_minor)
         select m.month, coalesce(p.source_id, ''), p.currency, p.kind, count(*), 0, cast(sum(p.gross_minor) as bigint)
         from payments p join report_months m on p.occurred_at >= m.starts_at and p.occurred_at < m.ends_at
         where p.kind in ('subscription', 'donation')
         group by m.month, coalesce(p.source_id, ''), p.currency, p.kind",
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "insert into source_monthly (month, source_id, currency, kind, payments, new_patrons, gross_minor)
         select m.month, coalesce(s.source_id, ''), s.currency, 'subscription', 0, count(*), 0
         from subscriptions s join report_months m on s.first_paid_at >= m.starts_at and s.first_paid_at < m.ends_at
         where s.first_paid_at is not null
         group by m.month, coalesce(s.source_id, ''), s.currency
         on conflict (month, source_id, currency, kind) do update set new_patrons = excluded.new_patrons",
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// One source's totals in a range, for one currency and kind. The source's
/// values are empty strings for payments without a source.
#[derive(Clone, Debug)]
pub struct SourceTotals {
    pub source: Option<Source>,
    pub currency: Currency,
    pub kind: PaymentKind,
    pub payments: i64,
    pub new_patrons: i64,
    pub gross_minor: i64,
}

#[derive(FromRow)]
struct TotalsRow {
    article_url: Option<String>,
    referrer_host: Option<String>,
    utm_source: Option<String>,
    utm_medium: Option<String>,
    utm_campaign: Option<String>,
    currency: String,
    kind: String,
    payments: i64,
    new_patrons: i64,
    gross_minor: i64,
}

fn stored_source(
    article_url: Option<String>,
    referrer_host: Option<String>,
    utm_source: Option<String>,
    utm_medium: Option<String>,
    utm_campaign: Option<String>,
) -> Option<Source> {
    Some(Source::from_stored(article_url?, referrer_host?, utm_source?, utm_medium?, utm_campaign?))
}

/// Totals per source, currency and kind over the months `first..=last` (`YYYY-MM`).
pub async fn totals<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    first: &str,
    last: &str,
) -> Result<Vec<SourceTotals>, DbError> {
    let rows: Vec<TotalsRow> = sqlx::query_as(
        "select s.article_url, s.referrer_host, s.utm_source, s.utm_medium, s.utm_campaign, t.currency, t.kind,
             t.payments, t.new_patrons, t.gross_minor
         from (select source_id, currency, kind, cast(sum(payments) as bigint) as payments,
                   cast(sum(new_patrons) as bigint) as new_patrons, cast(sum(gross_minor) as bigint) as gross_minor
               from source_monthly where month >= $1 and month <= $2
               group by source_id, currency, kind) t
         left join sources s on s.id = t.source_id
         where t.payments <> 0 or t.new_patrons <> 0 or t.gross_minor <> 0",
    )
    .bind(first)
    .bind(last)
    .fetch_all(ex)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(SourceTotals {
                currency: parse_stored("currency", &r.currency)?,
                kind: parse_stored("payment kind", &r.kind)?,
                source: stored_source(r.article_url, r.referrer_host, r.utm_source, r.utm_medium, r.utm_campaign),
                payments: r.payments,
                new_patrons: r.new_patrons,
                gross_minor: r.gross_minor,
            })
        })
        .collect()
}

#[derive(FromRow)]
struct JoinsRow {
    article_url: Option<String>,
    referrer_host: Option<String>,
    utm_source: Option<String>,
    utm_medium: Option<String>,
    utm_campaign: Option<String>,
    members: i64,
}

/// Members created in the months `first..=last` per first source (`None`: none known).
pub async fn joins<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    first: &str,
    last: &str,
) -> Result<Vec<(Option<Source>, i64)>, DbError> {
    let rows: Vec<JoinsRow> = sqlx::query_as(
        "select s.article_url, s.referrer_host, s.utm_source, s.utm_medium, s.utm_campaign, t.members
         from (select source_id, cast(sum(members) as bigint) as members from source_members_monthly
               where month >= $1 and month <= $2 group by source_id) t
         left join sources s on s.id = t.source_id
         where t.members <> 0",
    )
    .bind(first)
    .bind(last)
    .fetch_all(ex)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (stored_source(r.article_url, r.referrer_host, r.utm_source, r.utm_medium, r.utm_campaign), r.members))
        .collect())
}
