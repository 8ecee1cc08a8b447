//! What revenue reports read: the calendar months of the newsroom's zone
//! (`report_months`), and the monthly aggregates of the ledger and of MRR
//! movements, kept current by `db::payments` in the writing transaction.
use sqlx::{Any, AnyConnection, Executor, FromRow};

use super::payments::LedgerAmounts;
use super::{DbError, parse_stored};
use crate::clock::Micros;
use crate::domain::{Currency, MrrMovementKind, PaymentKind};

/// Adds `a` to the aggregate of the month `at` falls in.
pub async fn add_to_ledger_month(
    conn: &mut AnyConnection,
    kind: &str,
    currency: Currency,
    settlement_currency: Currency,
    at: Micros,
    a: &LedgerAmounts,
) -> Result<(), DbError> {
    sqlx::query(
        "insert into ledger_monthly (month, kind, currency, settlement_currency, rows_count, gross_minor,
             settlement_gross_minor, fee_minor, net_minor)
         select month, $1, $2, $3, $4, $5, $6, $7, $8 from report_months
         where month = (select month from report_months where starts_at <= $9 order by starts_at desc limit 1)
         on conflict (month, kind, currency, settlement_currency) do update set
             rows_count = ledger_monthly.rows_count + excluded.rows_count,
             gross_minor = ledger_monthly.gross_minor + excluded.gross_minor,
             settlement_gross_minor = ledger_monthly.settlement_gross_minor + excluded.settlement_gross_minor,
             fee_minor = ledger_monthly.fee_minor + excluded.fee_minor,
             net_minor = ledger_monthly.net_minor + excluded.net_minor",
    )
    .bind(kind)
    .bind(currency.as_str())
    .bind(settlement_currency.as_str())
    .bind(a.rows)
    .bind(a.gross_minor)
    .bind(a.settlement_gross_minor)
    .bind(a.fee_minor)
    .bind(a.net_minor)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Adds one movement to the aggregate of the month `at` falls in.
pub async fn add_to_mrr_month(
    conn: &mut AnyConnection,
    currency: Currency,
    kind: MrrMovementKind,
    involuntary: bool,
    at: Micros,
    delta_minor: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "insert into mrr_monthly (month, currency, kind, involuntary, movements, delta_minor)
         select month, $1, $2, $3, 1, $4 from report_months
         where month = (select month from report_months where starts_at <= $5 order by starts_at desc limit 1)
         on conflict (month, currency, kind, involuntary) do update set
             movements = mrr_monthly.movements + 1,
             delta_minor = mrr_monthly.delta_minor + excluded.delta_minor",
    )
    .bind(currency.as_str())
    .bind(kind.as_str())
    .bind(i64::from(involuntary))
    .bind(delta_minor)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Replaces the months (`(key, starts_at, ends_at)`) and rebuilds every
/// aggregate from the ledger and the MRR movements; in the caller's transaction.
pub async fn rebuild(conn: &mut AnyConnection, months: &[(String, Micros, Micros)]) -> Result<(), DbError> {
    sqlx::query("delete from ledger_monthly").execute(&mut *conn).await?;
    sqlx::query("delete from mrr_monthly").execute(&mut *conn).await?;
    sqlx::query("delete from cohort_monthly").execute(&mut *conn).await?;
    sqlx::query("delete from donor_monthly").execute(&mut *conn).await?;
    sqlx::query("delete from donation_amounts_monthly").execute(&mut *conn).await?;
    sqlx::query("delete from report_months").execute(&mut *conn).await?;
    for chunk in months.chunks(200) {
        let mut sql = String::from("insert into report_months (month, starts_at, ends_at) values ");
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("(${}, ${}, ${})", i * 3 + 1, i * 3 + 2, i * 3 + 3));
        }
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (key, start, end) in chunk {
            q = q.bind(key.clone()).bind(*start).bind(*end);
        }
        q.execute(&mut *conn).await?;
    }
    sqlx::query(
        "insert into ledger_monthly (month, kind, currency, settlement_currency, rows_count, gross_minor,
             settlement_gross_minor, fee_minor, net_minor)
         select m.month, p.kind, p.currency, p.settlement_currency, count(*), cast(sum(p.gross_minor) as bigint),
             cast(sum(p.settlement_gross_minor) as bigint), cast(sum(p.fee_minor) as bigint),
             cast(sum(p.net_minor) as bigint)
         from payments p join report_months m on p.occurred_at >= m.starts_at and p.occurred_at < m.ends_at
         group by m.month, p.kind, p.currency, p.settlement_currency",
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "insert into mrr_monthly (month, currency, kind, involuntary, movements, delta_minor)
         select m.month, v.currency, v.kind, v.involuntary, count(*), cast(sum(v.delta_minor) as bigint)
         from mrr_movements v join report_months m on v.occurred_at >= m.starts_at and v.occurred_at < m.ends_at
         group by m.month, v.currency, v.kind, v.involuntary",
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "insert into donor_monthly (month, currency, donor, gifts)
         select m.month, p.currency, p.member_id, count(*)
         from payments p join report_months m on p.occurred_at >= m.starts_at and p.occurred_at < m.ends_at
         where p.kind = 'donation' and p.member_id is not null
         group by m.month, p.currency, p.member_id",
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "insert into donation_amounts_monthly (month, currency, amount_minor, gifts)
         select m.month, p.currency, p.gross_minor, count(*)
         from payments p join report_months m on p.occurred_at >= m.starts_at and p.occurred_at < m.ends_at
         where p.kind = 'donation'
         group by m.month, p.currency, p.gross_minor",
    )
    .execute(&mut *conn)
    .await?;
    super::sources::rebuild(conn).await?;
    rebuild_cohorts(conn, months).await
}

/// One month's ledger aggregate for one kind and pair of currencies.
#[derive(Clone, Debug)]
pub struct LedgerMonth {
    pub month: String,
    pub kind: PaymentKind,
    pub currency: Currency,
    pub settlement_currency: Currency,
    pub rows: i64,
    pub gross_minor: i64,
    pub settlement_gross_minor: i64,
    pub fee_minor: i64,
    pub net_minor: i64,
}

#[derive(FromRow)]
struct LedgerMonthRow {
    month: String,
    kind: String,
    currency: String,
    settlement_currency: String,
    rows_count: i64,
    gross_minor: i64,
    settlement_gross_minor: i64,
    fee_minor: i64,
    net_minor: i64,
}

/// Ledger aggregates of the months `first..=last` (`YYYY-MM`).
pub async fn ledger_months<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    first: &str,
    last: &str,
) -> Result<Vec<LedgerMonth>, DbError> {
    let rows: Vec<LedgerMonthRow> = sqlx::query_as(
        "select month, kind, currency, settlement_currency, rows_count, gross_minor, settlement_gross_minor,
             fee_minor, net_minor
         from ledger_monthly where month >= $1 and month <= $2 and rows_count <> 0 order by month",
    )
    .bind(first)
    .bind(last)
    .fetch_all(ex)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(LedgerMonth {
                kind: parse_stored("payment kind", &r.kind)?,
                currency: parse_stored("currency", &r.currency)?,
                settlement_currency: parse_stored("currency", &r.settlement_currency)?,
                month: r.month,
                rows: r.rows_count,
                gross_minor: r.gross_minor,
                settlement_gross_minor: r.settlement_gross_minor,
                fee_minor: r.fee_minor,
                net_minor: r.net_minor,
            })
        })
        .collect()
}

/// One month's MRR movements of one kind in one currency.
#[derive(Clone, Debug)]
pub struct MrrMonth {
    pub month: String,
    pub currency: Currency,
    pub kind: MrrMovementKind,
    pub involuntary: bool,
    pub movements: i64,
    pub delta_minor: i64,
}

/// Every month's MRR aggregate up to `last` (`YYYY-MM`), oldest first: the
/// starting MRR of a month is the sum of every movement before it.
pub async fn mrr_months<'e, E: Executor<'e, Database = Any>>(ex: E, last: &str) -> Result<Vec<MrrMonth>, DbError> {
    let rows: Vec<(String, String, String, i64, i64, i64)> = sqlx::query_as(
        "select month, currency, kind, involuntary, movements, delta_minor from mrr_monthly
         where month <= $1 order by month",
    )
    .bind(last)
    .fetch_all(ex)
    .await?;
    rows.into_iter()
        .map(|(month, currency, kind, involuntary, movements, delta_minor)| {
            Ok(MrrMonth {
                month,
                currency: parse_stored("currency", &currency)?,
                kind: parse_kind(&kind)?,
                involuntary: involuntary != 0,
                movements,
                delta_minor,
            })
        })
        .collect()
}

fn parse_kind(s: &str) -> Result<MrrMovementKind, DbError> {
    Ok(match s {
        "new" => MrrMovementKind::New,
        "expansion" => MrrMovementKind::Expansion,
        "contraction" => MrrMovementKind::Contraction,
        "churn" => MrrMovementKind::Churn,
        "reactivation" => MrrMovementKind::Reactivation,
        other => return Err(DbError::other(format!("stored MRR movement kind {other:?} cannot be read"))),
    })
}

/// The first month with any ledger row or MRR movement.
pub async fn first_month<'e, E: Executor<'e, Database = Any>>(ex: E) -> Result<Option<String>, DbError> {
    let row: (Option<String>,) = sqlx::query_as(
        "select min(month) from (select min(month) as month from ledger_monthly
             union all select min(month) from mrr_monthly) firsts",
    )
    .fetch_one(ex)
    .await?;
    Ok(row.0)
}

/// MRR now, per currency: the sum of the subscriptions' current MRR, and how many.
pub async fn mrr_now<'e, E: Executor<'e, Database = Any>>(ex: E) -> Result<Vec<(Currency, i64, i64)>, DbError> {
    let rows: Vec<(String, i64, i64)> = sqlx::query_as(
        "select currency, cast(sum(mrr_minor) as bigint), count(*) from subscriptions where mrr_minor > 0
         group by currency order by currency",
    )
    .fetch_all(ex)
    .await?;
    rows.into_iter().map(|(c, sum, n)| Ok((parse_stored("currency", &c)?, sum, n))).collect()
}

/// Active patrons now: paying (a subscription active and paid), past due but
/// within the grace period (past due since `grace_from` or later), and
/// complimentary (comped, without a paying or past-due subscription).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PatronCounts {
    pub paying: i64,
    pub past_due: i64,
    pub comped: i64,
}

pub async fn patron_counts<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    now: Micros,
    grace_from: Micros,
) -> Result<PatronCounts, DbError> {
    // From each member's standing (members.sub_rank, kept by a trigger from the
    // subscription their standing comes from): paying from the counts kept with
    // it, the time-dependent two through indexes that reach only their rows.
    let (paying, past_due, comped): (i64, i64, i64) = sqlx::query_as(
        "select
             (select cast(coalesce(sum(members), 0) as bigint) from standing_counts
                 where sub_rank = 0 and paying = 1),
             (select count(*) from members where sub_rank = 1 and sub_past_due_since >= $2),
             (select count(*) from members m where m.comped_until > $1
                 and not (m.sub_rank = 0 and m.sub_mrr_minor > 0)
                 and not (m.sub_rank = 1 and m.sub_past_due_since >= $2))",
    )
    .bind(now)
    .bind(grace_from)
    .fetch_one(ex)
    .await?;
    Ok(PatronCounts { paying, past_due, comped })
}

/// Records a gift of `amount_minor` in `currency` in the month `at` falls in:
/// its amount (medians) and, when a member gave it, the member (how often they
/// gave: repeat donors). An anonymous gift is a donor of its own, so it is
/// counted from the ledger's gifts rather than kept here one row each.
pub async fn add_donor(
    conn: &mut AnyConnection,
    currency: Currency,
    member: Option<&str>,
    amount_minor: i64,
    at: Micros,
) -> Result<(), DbError> {
    if let Some(donor) = member {
        sqlx::query(
            "insert into donor_monthly (month, currency, donor, gifts)
         select month, $1, $2, 1 from report_months
         where month = (select month from report_months where starts_at <= $3 order by starts_at desc limit 1)
         on conflict (month, currency, donor) do update set gifts = donor_monthly.gifts + 1",
        )
        .bind(currency.as_str())
        .bind(donor)
        .bind(at)
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query(
        "insert into donation_amounts_monthly (month, currency, amount_minor, gifts)
         select month, $1, $2, 1 from report_months
         where month = (select month from report_months where starts_at <= $3 order by starts_at desc limit 1)
         on conflict (month, currency, amount_minor) do update set gifts = donation_amounts_monthly.gifts + 1",
    )
    .bind(currency.as_str())
    .bind(amount_minor)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// One-time gifts in `month` per currency given: how many, from how many donors
/// (an anonymous gift counts as its own donor), and their sum.
pub async fn donations_in<'e, E>(ex: E, month: &str) -> Result<Vec<(Currency, i64, i64, i64)>, DbError>
where
    E: Executor<'e, Database = Any> + Copy,
{
    let gifts: Vec<(String, i64, i64)> = sqlx::query_as(
        "select currency, cast(sum(rows_count) as bigint), cast(sum(gross_minor) as bigint) from ledger_monthly
         where month = $1 and kind = 'donation' group by currency order by currency",
    )
    .bind(month)
    .fetch_all(ex)
    .await?;
    // Members who gave, and their gifts; every other gift is an anonymous donor.
    let donors: Vec<(String, i64, i64)> = sqlx::query_as(
        "select currency, donors, gifts from donor_month_counts where month = $1 and donors > 0 order by currency",
    )
    .bind(month)
    .fetch_all(ex)
    .await?;
    gifts
        .into_iter()
        .filter(|(_, n, _)| *n != 0)
        .map(|(c, n, sum)| {
            let donors = donors
                .iter()
                .find(|(d, _, _)| *d == c)
                .map_or(n, |(_, members, their_gifts)| members + n - their_gifts);
            Ok((parse_stored("currency", &c)?, n, donors, sum))
        })
        .collect()
}
/// PostgreSQL only: holds the months table for this transaction, so two
/// instances starting at once rebuild it one after the other.
pub async fn lock_months(tx: &mut super::Tx) -> Result<(), DbError> {
    sqlx::query("lock table report_months in share row exclusive mode").execute(&mut **tx).await?;
    Ok(())
}

/// A round open now and how many members have voted in it.
#[derive(Clone, Debug)]
pub struct OpenRoundTurnout {
    pub id: String,
    pub title: String,
    pub closes_at: Micros,
    pub voters: i64,
}

pub async fn open_rounds<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    now: Micros,
) -> Result<Vec<OpenRoundTurnout>, DbError> {
    let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "select r.id, r.title, r.closes_at,
             (select count(*) from ballots b where b.round_id = r.id and b.used > 0)
         from rounds r where r.closed_at is null and r.opens_at <= $1 and r.closes_at > $1
         order by r.closes_at, r.id limit 5",
    )
    .bind(now)
    .fetch_all(ex)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, title, closes_at, voters)| OpenRoundTurnout { id, title, closes_at, voters })
        .collect())
}

/// A covered topic and who voted for it: every voter, and those who were
/// patrons when they voted (a paid subscription that had not ended).
#[derive(Clone, Debug)]
pub struct CoveredTopicVotes {
    pub id: String,
    pub title: String,
    pub covered_at: Option<Micros>,
    pub voters: i64,
    pub patron_voters: i64,
}

pub async fn covered_topics_votes<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    limit: i64,
) -> Result<Vec<(CoveredTopicVotes, bool)>, DbError> {
    // id, title, covered at, voters and patron voters (none until worked out)
    type Row = (String, String, Option<i64>, Option<i64>, Option<i64>);
    let rows: Vec<Row> = sqlx::query_as(
        "select t.id, t.title, t.covered_at, f.voters, f.patron_voters
         from (select id, title, covered_at from topics where status = 'covered'
               order by covered_at desc, id limit $1) t
         left join topic_vote_figures f on f.topic_id = t.id
         order by t.covered_at desc, t.id",
    )
    .bind(limit)
    .fetch_all(ex)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, title, covered_at, voters, patron_voters)| {
            let known = voters.is_some();
            let figures = CoveredTopicVotes {
                id,
                title,
                covered_at,
                voters: voters.unwrap_or(0),
                patron_voters: patron_voters.unwrap_or(0),
            };
            (figures, known)
        })
        .collect())
}

/// Works out (again) a topic's voters and how many of them were patrons when
/// they voted, and keeps them (see `topic_vote_figures`).
pub async fn record_topic_vote_figures<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    topic_id: &str,
    now: Micros,
) -> Result<(), DbError> {
    sqlx::query(
        "insert into topic_vote_figures (topic_id, voters, patron_voters, computed_at)
         select $1, count(distinct v.member_id),
             count(distinct case when exists (
                 select 1 from subscriptions s where s.member_id = v.member_id and s.first_paid_at is not null
                     and s.first_paid_at <= v.created_at and (s.ended_at is null or s.ended_at > v.created_at))
                 then v.member_id end),
             $2
         from votes v where v.topic_id = $1
         on conflict (topic_id) do update set voters = excluded.voters, patron_voters = excluded.patron_voters,
             computed_at = excluded.computed_at",
    )
    .bind(topic_id)
    .bind(now)
    .execute(ex)
    .await?;
    Ok(())
}

/// Records a subscription's step in or out of past due.
pub async fn insert_dunning_event<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    subscription_id: &str,
    member: crate::domain::MemberId,
    step: crate::domain::DunningStep,
    mrr_minor: i64,
    currency: Currency,
    at: Micros,
) -> Result<(), DbError> {
    sqlx::query(
        "insert into dunning_events (id, subscription_id, member_id, kind, mrr_minor, currency, occurred_at)
         values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(subscription_id)
    .bind(member.to_string())
    .bind(step.as_str())
    .bind(mrr_minor)
    .bind(currency.as_str())
    .bind(at)
    .execute(ex)
    .await?;
    Ok(())
}

/// A subscription past due now.
#[derive(Clone, Debug)]
pub struct PastDue {
    pub member_id: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    pub amount_minor: i64,
    pub interval: String,
    pub currency: Currency,
    pub mrr_minor: i64,
    pub past_due_since: Option<Micros>,
    /// How many times it went past due.
    pub failures: i64,
    pub last_failure: Option<Micros>,
}

pub async fn past_due_now<'e, E: Executor<'e, Database = Any>>(ex: E, limit: i64) -> Result<Vec<PastDue>, DbError> {
    #[allow(clippy::type_complexity)]
    let rows: Vec<(
        Option<String>,
        Option<String>,
        Option<String>,
        i64,
        String,
        String,
        i64,
        Option<i64>,
        i64,
        Option<i64>,
    )> = sqlx::query_as(
        "select s.member_id, m.email, m.name, s.amount_minor, s.interval, s.currency, s.mrr_minor, s.past_due_since,
                 (select count(*) from dunning_events d where d.subscription_id = s.id and d.kind = 'failed'),
                 (select max(d.occurred_at) from dunning_events d where d.subscription_id = s.id and d.kind = 'failed')
             from subscriptions s left join members m on m.id = s.member_id
             where s.status = 'past_due' order by s.past_due_since, s.id limit $1",
    )
    .bind(limit)
    .fetch_all(ex)
    .await?;
    rows.into_iter()
        .map(|(member_id, email, name, amount_minor, interval, currency, mrr_minor, since, failures, last)| {
            Ok(PastDue {
                member_id,
                email,
                name,
                amount_minor,
                interval,
                currency: parse_stored("currency", &currency)?,
                mrr_minor,
                past_due_since: since,
                failures,
                last_failure: last,
            })
        })
        .collect()
}

/// Dunning steps per month (`first..=last`), currency and kind: how many, and the MRR at stake.
pub async fn dunning_months<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    first: &str,
    last: &str,
) -> Result<Vec<(String, Currency, String, i64, i64)>, DbError> {
    let rows: Vec<(String, String, String, i64, i64)> = sqlx::query_as(
        "select m.month, d.currency, d.kind, count(*), cast(sum(d.mrr_minor) as bigint)
         from report_months m join dunning_events d on d.occurred_at >= m.starts_at and d.occurred_at < m.ends_at
         where m.month >= $1 and m.month <= $2
         group by m.month, d.currency, d.kind order by m.month",
    )
    .bind(first)
    .bind(last)
    .fetch_all(ex)
    .await?;
    rows.into_iter()
        .map(|(month, currency, kind, n, sum)| Ok((month, parse_stored("currency", &currency)?, kind, n, sum)))
        .collect()
}

/// Adds movement `movement_id` (just recorded) of `member` to their cohort: the
/// month of their first movement. Whether they pay before and after it is read
/// from their movements in `currency`, in the same transaction.
pub async fn add_to_cohort(
    conn: &mut AnyConnection,
    member: crate::domain::MemberId,
    movement_id: &str,
    currency: Currency,
    at: Micros,
    delta_minor: i64,
) -> Result<(), DbError> {
    let (first, before): (Option<i64>, i64) = sqlx::query_as(
        "select min(occurred_at),
             cast(coalesce(sum(case when currency = $2 and id <> $3 then delta_minor else 0 end), 0) as bigint)
         from mrr_movements where member_id = $1",
    )
    .bind(member.to_string())
    .bind(currency.as_str())
    .bind(movement_id)
    .fetch_one(&mut *conn)
    .await?;
    let after = before + delta_minor;
    let patrons_delta = i64::from(after > 0) - i64::from(before > 0);
    sqlx::query(
        "insert into cohort_monthly (cohort, month, currency, patrons_delta, mrr_delta)
         select c.month, m.month, $1, $2, $3 from report_months c, report_months m
         where c.month = (select month from report_months where starts_at <= $4 order by starts_at desc limit 1)
             and m.month = (select month from report_months where starts_at <= $5 order by starts_at desc limit 1)
         on conflict (cohort, month, currency) do update set
             patrons_delta = cohort_monthly.patrons_delta + excluded.patrons_delta,
             mrr_delta = cohort_monthly.mrr_delta + excluded.mrr_delta",
    )
    .bind(currency.as_str())
    .bind(patrons_delta)
    .bind(delta_minor)
    .bind(first.unwrap_or(at))
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Rebuilds the cohorts from every movement, member by member in time order
/// (the rule of [`add_to_cohort`]); `months` as written by [`rebuild`].
async fn rebuild_cohorts(conn: &mut AnyConnection, months: &[(String, Micros, Micros)]) -> Result<(), DbError> {
    use std::collections::{BTreeMap, HashMap};
    let month_of = |at: Micros| -> Option<&str> {
        let i = months.partition_point(|(_, start, _)| *start <= at);
        i.checked_sub(1).map(|i| months[i].0.as_str()).filter(|_| months.last().is_some_and(|l| at < l.2))
    };
    let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "select member_id, currency, delta_minor, occurred_at from mrr_movements
         where member_id is not null order by member_id, occurred_at, id",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut cells: BTreeMap<(String, String, String), (i64, i64)> = BTreeMap::new();
    let mut member = String::new();
    let mut first = 0;
    let mut mrr: HashMap<String, i64> = HashMap::new();
    for (m, currency, delta, at) in rows {
        if m != member {
            member = m;
            first = at;
            mrr.clear();
        }
        let before = mrr.get(&currency).copied().unwrap_or(0);
        let after = before + delta;
        mrr.insert(currency.clone(), after);
        let (Some(cohort), Some(month)) = (month_of(first), month_of(at)) else { continue };
        let cell = cells.entry((cohort.to_string(), month.to_string(), currency)).or_default();
        cell.0 += i64::from(after > 0) - i64::from(before > 0);
        cell.1 += delta;
    }
    let cells: Vec<_> = cells.into_iter().collect();
    for chunk in cells.chunks(100) {
        let mut sql =
            String::from("insert into cohort_monthly (cohort, month, currency, patrons_delta, mrr_delta) values ");
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push_str(", ");
            }
            let b = i * 5;
            sql.push_str(&format!("(${}, ${}, ${}, ${}, ${})", b + 1, b + 2, b + 3, b + 4, b + 5));
        }
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for ((cohort, month, currency), (patrons, mrr)) in chunk {
            q = q.bind(cohort.clone()).bind(month.clone()).bind(currency.clone()).bind(*patrons).bind(*mrr);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// One cell of the cohort grid as stored: changes in `month` of the members
/// whose first movement was in `cohort`.
#[derive(Clone, Debug)]
pub struct CohortDelta {
    pub cohort: String,
    pub month: String,
    pub currency: Currency,
    pub patrons_delta: i64,
    pub mrr_delta: i64,
}

/// The cohorts `first..=last` with their changes up to `until` (`YYYY-MM`).
pub async fn cohort_deltas<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    first: &str,
    last: &str,
    until: &str,
) -> Result<Vec<CohortDelta>, DbError> {
    let rows: Vec<(String, String, String, i64, i64)> = sqlx::query_as(
        "select cohort, month, currency, patrons_delta, mrr_delta from cohort_monthly
         where cohort >= $1 and cohort <= $2 and month <= $3 order by currency, cohort, month",
    )
    .bind(first)
    .bind(last)
    .bind(until)
    .fetch_all(ex)
    .await?;
    rows.into_iter()
        .map(|(cohort, month, currency, patrons_delta, mrr_delta)| {
            Ok(CohortDelta { cohort, month, currency: parse_stored("currency", &currency)?, patrons_delta, mrr_delta })
        })
        .collect()
}

/// A topic covered in a range, its voters and what came after.
#[derive(Clone, Debug)]
pub struct CoveredTopicRevenue {
    pub id: String,
    pub title: String,
    pub covered_at: Micros,
    pub voters: i64,
    /// Voters who were patrons when they voted (a paid subscription not ended).
    pub patron_voters: i64,
    /// Their MRR now, per currency.
    pub voters_mrr: Vec<(Currency, i64)>,
    /// Members whose first subscription began within `window` after it was covered.
    pub joined_after: i64,
}

/// Topics covered in `[from, to)`, newest first.
pub async fn covered_topics_revenue<'e, E>(
    ex: E,
    from: Micros,
    to: Micros,
    window: Micros,
) -> Result<Vec<CoveredTopicRevenue>, DbError>
where
    E: Executor<'e, Database = Any> + Copy,
{
    let topics: Vec<(String, String, i64, i64, i64, i64)> = sqlx::query_as(
        "select t.id, t.title, t.covered_at, count(distinct v.member_id),
             count(distinct case when exists (
                 select 1 from subscriptions s where s.member_id = v.member_id and s.first_paid_at is not null
                     and s.first_paid_at <= v.created_at and (s.ended_at is null or s.ended_at > v.created_at))
                 then v.member_id end),
             (select count(distinct mm.member_id) from mrr_movements mm
                 where mm.kind = 'new' and mm.occurred_at >= t.covered_at and mm.occurred_at < t.covered_at + $3)
         from topics t left join votes v on v.topic_id = t.id
         where t.status = 'covered' and t.covered_at >= $1 and t.covered_at < $2
         group by t.id, t.title, t.covered_at
         order by t.covered_at desc, t.id",
    )
    .bind(from)
    .bind(to)
    .bind(window)
    .fetch_all(ex)
    .await?;
    let mrr: Vec<(String, String, i64)> = sqlx::query_as(
        "select v.topic_id, s.currency, cast(sum(s.mrr_minor) as bigint)
         from (select distinct vv.topic_id, vv.member_id from votes vv join topics t on t.id = vv.topic_id
               where t.status = 'covered' and t.covered_at >= $1 and t.covered_at < $2) v
         join subscriptions s on s.member_id = v.member_id and s.mrr_minor > 0
         group by v.topic_id, s.currency order by v.topic_id, s.currency",
    )
    .bind(from)
    .bind(to)
    .fetch_all(ex)
    .await?;
    topics
        .into_iter()
        .map(|(id, title, covered_at, voters, patron_voters, joined_after)| {
            let voters_mrr = mrr
                .iter()
                .filter(|(t, _, _)| *t == id)
                .map(|(_, c, sum)| Ok((parse_stored("currency", c)?, *sum)))
                .collect::<Result<Vec<_>, DbError>>()?;
            Ok(CoveredTopicRevenue { id, title, covered_at, voters, patron_voters, voters_mrr, joined_after })
        })
        .collect()
}

/// A round's turnout in one tier: its patrons when the round closed (a paid
/// subscription of the tier, by the subscription's tier now), and how many of
/// them voted. `tier` none: voters who were not patrons.
#[derive(Clone, Debug)]
pub struct RoundTierTurnout {
    pub round_id: String,
    pub title: String,
    pub closes_at: Micros,
    pub tier: Option<String>,
    pub patrons: i64,
    pub voters: i64,
}

/// Rounds opened in `[from, to)`, by tier.
pub async fn round_turnout_by_tier<'e, E>(ex: E, from: Micros, to: Micros) -> Result<Vec<RoundTierTurnout>, DbError>
where
    E: Executor<'e, Database = Any> + Copy,
{
    let patrons: Vec<(String, String, i64, Option<String>, i64, i64)> = sqlx::query_as(
        "select r.id, r.title, r.closes_at, tr.name, count(distinct s.member_id),
             count(distinct case when exists (select 1 from votes v where v.round_id = r.id and v.member_id = s.member_id)
                 then s.member_id end)
         from rounds r
         join subscriptions s on s.first_paid_at is not null and s.first_paid_at <= r.closes_at
             and (s.ended_at is null or s.ended_at > r.closes_at)
         left join tiers tr on tr.id = s.tier_id
         where r.opens_at >= $1 and r.opens_at < $2
         group by r.id, r.title, r.closes_at, tr.name
         order by r.closes_at desc, r.id, tr.name",
    )
    .bind(from)
    .bind(to)
    .fetch_all(ex)
    .await?;
    // Voters with no paid subscription at the close.
    let others: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "select r.id, r.title, r.closes_at, count(distinct v.member_id)
         from rounds r join votes v on v.round_id = r.id
         where r.opens_at >= $1 and r.opens_at < $2 and not exists (
             select 1 from subscriptions s where s.member_id = v.member_id and s.first_paid_at is not null
                 and s.first_paid_at <= r.closes_at and (s.ended_at is null or s.ended_at > r.closes_at))
         group by r.id, r.title, r.closes_at",
    )
    .bind(from)
    .bind(to)
    .fetch_all(ex)
    .await?;
    let mut out: Vec<RoundTierTurnout> = patrons
        .into_iter()
        .map(|(round_id, title, closes_at, tier, patrons, voters)| RoundTierTurnout {
            round_id,
            title,
            closes_at,
            tier: Some(tier.unwrap_or_default()),
            patrons,
            voters,
        })
        .collect();
    out.extend(others.into_iter().map(|(round_id, title, closes_at, voters)| RoundTierTurnout {
        round_id,
        title,
        closes_at,
        tier: None,
        patrons: 0,
        voters,
    }));
    out.sort_by(|a, b| {
        b.closes_at.cmp(&a.closes_at).then(a.round_id.cmp(&b.round_id)).then(a.tier.is_none().cmp(&b.tier.is_none()))
    });
    Ok(out)
}
