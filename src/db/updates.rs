//! Updates to patrons, who receives them, the updates unsubscribe, and the
//! anniversary emails already sent.
use sqlx::{Any, AssertSqlSafe, Executor, FromRow};

use super::{DbError, parse_stored};
use crate::clock::Micros;
use crate::domain::{Audience, Locale, MemberId, StaffId, TierId, TopicId, UpdateId};

/// An update as stored (texts as staff typed them, already checked).
#[derive(Clone, Debug, FromRow)]
pub struct UpdateRow {
    pub id: String,
    pub subject_en: String,
    pub body_en: String,
    pub subject_uk: Option<String>,
    pub body_uk: Option<String>,
    pub audience: String,
    pub tier_id: Option<String>,
    pub topic_id: Option<String>,
    pub on_transparency: i64,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    pub recipients: Option<i64>,
}

impl UpdateRow {
    pub fn audience(&self) -> Result<Audience, DbError> {
        let tier: Option<TierId> = self.tier_id.as_deref().map(|t| parse_stored("tier id", t)).transpose()?;
        let topic: Option<TopicId> = self.topic_id.as_deref().map(|t| parse_stored("topic id", t)).transpose()?;
        Audience::from_stored(&self.audience, tier, topic)
            .ok_or_else(|| DbError::other(format!("stored update audience {:?} cannot be read", self.audience)))
    }
}

const COLUMNS: &str = "id, subject_en, body_en, subject_uk, body_uk, audience, tier_id, topic_id, on_transparency,
     created_at, sent_at, recipients";

pub struct NewUpdate<'a> {
    pub id: UpdateId,
    pub subject_en: &'a str,
    pub body_en: &'a str,
    pub uk: Option<(&'a str, &'a str)>,
    pub audience: Audience,
    pub on_transparency: bool,
    pub created_by: StaffId,
}

pub async fn insert<'e, E: Executor<'e, Database = Any>>(ex: E, u: &NewUpdate<'_>, now: Micros) -> Result<(), DbError> {
    let (kind, tier, topic) = u.audience.stored();
    sqlx::query(
        "insert into updates (id, subject_en, body_en, subject_uk, body_uk, audience, tier_id, topic_id,
             on_transparency, created_by, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(u.id.to_string())
    .bind(u.subject_en)
    .bind(u.body_en)
    .bind(u.uk.map(|t| t.0))
    .bind(u.uk.map(|t| t.1))
    .bind(kind)
    .bind(tier.map(|t| t.to_string()))
    .bind(topic.map(|t| t.to_string()))
    .bind(i64::from(u.on_transparency))
    .bind(u.created_by.to_string())
    .bind(now)
    .execute(ex)
    .await?;
    Ok(())
}

pub async fn find<'e, E: Executor<'e, Database = Any>>(ex: E, id: UpdateId) -> Result<Option<UpdateRow>, DbError> {
    Ok(sqlx::query_as(AssertSqlSafe(format!("select {COLUMNS} from updates where id = $1")))
        .bind(id.to_string())
        .fetch_optional(ex)
        .await?)
}

/// The newest updates, drafts and sent alike.
pub async fn list<'e, E: Executor<'e, Database = Any>>(ex: E, limit: i64) -> Result<Vec<UpdateRow>, DbError> {
    Ok(sqlx::query_as(AssertSqlSafe(format!(
        "select {COLUMNS} from updates order by created_at desc, id desc limit $1"
    )))
    .bind(limit)
    .fetch_all(ex)
    .await?)
}

/// Sent updates staff chose to show on the transparency page, newest first.
pub async fn published<'e, E: Executor<'e, Database = Any>>(ex: E, limit: i64) -> Result<Vec<UpdateRow>, DbError> {
    Ok(sqlx::query_as(AssertSqlSafe(format!(
        "select {COLUMNS} from updates where on_transparency = 1 and sent_at is not null
         order by sent_at desc, id desc limit $1"
    )))
    .bind(limit)
    .fetch_all(ex)
    .await?)
}

/// Marks a draft sent; false when it was sent already (or is gone). The one
/// statement that decides a double send: of two at once, one updates the row.
pub async fn mark_sent<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: UpdateId,
    staff: StaffId,
    now: Micros,
) -> Result<bool, DbError> {
    let done = sqlx::query("update updates set sent_at = $2, sent_by = $3 where id = $1 and sent_at is null")
        .bind(id.to_string())
        .bind(now)
        .bind(staff.to_string())
        .execute(ex)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_recipients<'e, E: Executor<'e, Database = Any>>(ex: E, id: UpdateId, n: i64) -> Result<(), DbError> {
    sqlx::query("update updates set recipients = $2 where id = $1").bind(id.to_string()).bind(n).execute(ex).await?;
    Ok(())
}

/// Someone an update (or an anniversary) goes to.
#[derive(Clone, Debug)]
pub struct Recipient {
    pub member_id: MemberId,
    pub email: String,
    pub locale: Locale,
    pub name: Option<String>,
}

enum Bind {
    Int(i64),
    Text(String),
}

/// Members who may be sent updates: an address, not deleted, not unsubscribed.
const REACHABLE: &str = "m.deleted_at is null and m.email is not null and m.updates_unsubscribed_at is null";

/// Patrons now ($1 now, $2 the start of the past-due grace): a subscription that
/// counts (active, trialing or paused: rank 0), past due within the grace, or a
/// comp that has not ended. The same rule as a member's standing.
const PATRON: &str = "(m.comped_until > $1 or m.sub_rank = 0 or (m.sub_rank = 1 and m.sub_past_due_since > $2))";

/// The condition for `audience` and its binds.
fn audience_condition(audience: Audience, now: Micros, grace: Micros) -> (String, Vec<Bind>) {
    let times = vec![Bind::Int(now), Bind::Int(now - grace)];
    match audience {
        Audience::Members => (REACHABLE.into(), vec![]),
        Audience::Patrons => (format!("{REACHABLE} and {PATRON}"), times),
        Audience::Tier(tier) => (
            format!(
                "{REACHABLE} and m.sub_tier_id = $1 and (m.sub_rank = 0 or (m.sub_rank = 1 and m.sub_past_due_since > $2))"
            ),
            vec![Bind::Text(tier.to_string()), Bind::Int(now - grace)],
        ),
        Audience::Voters(topic) => (
            format!("{REACHABLE} and exists (select 1 from votes v where v.topic_id = $1 and v.member_id = m.id)"),
            vec![Bind::Text(topic.to_string())],
        ),
    }
}

fn bind_all<'q, O>(
    mut q: sqlx::query::QueryAs<'q, Any, O, <Any as sqlx::Database>::Arguments>,
    binds: Vec<Bind>,
) -> sqlx::query::QueryAs<'q, Any, O, <Any as sqlx::Database>::Arguments> {
    for b in binds {
        q = match b {
            Bind::Int(i) => q.bind(i),
            Bind::Text(t) => q.bind(t),
        };
    }
    q
}

/// How many members `audience` reaches now.
pub async fn count_audience<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    audience: Audience,
    now: Micros,
    grace: Micros,
) -> Result<i64, DbError> {
    let (condition, binds) = audience_condition(audience, now, grace);
    let sql = format!("select count(*) from members m where {condition}");
    let (n,): (i64,) = bind_all(sqlx::query_as(AssertSqlSafe(sql)), binds).fetch_one(ex).await?;
    Ok(n)
}

/// The members `audience` reaches now, in id order.
pub async fn audience<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    audience: Audience,
    now: Micros,
    grace: Micros,
) -> Result<Vec<Recipient>, DbError> {
    let (condition, binds) = audience_condition(audience, now, grace);
    let sql = format!("select m.id, m.email, m.locale, m.name from members m where {condition} order by m.id");
    let rows: Vec<(String, String, String, Option<String>)> =
        bind_all(sqlx::query_as(AssertSqlSafe(sql)), binds).fetch_all(ex).await?;
    rows.into_iter().map(recipient).collect()
}

fn recipient((id, email, locale, name): (String, String, String, Option<String>)) -> Result<Recipient, DbError> {
    Ok(Recipient {
        member_id: parse_stored("member id", &id)?,
        email,
        locale: locale.parse().unwrap_or_default(),
        name,
    })
}

/// Turns updates off (with the time) or back on (`None`) for a member; false
/// when they were so already.
pub async fn set_unsubscribed<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    member: MemberId,
    at: Option<Micros>,
) -> Result<bool, DbError> {
    let done = match at {
        Some(at) => {
            sqlx::query(
                "update members set updates_unsubscribed_at = $2
                 where id = $1 and deleted_at is null and updates_unsubscribed_at is null",
            )
            .bind(member.to_string())
            .bind(at)
            .execute(ex)
            .await?
        }
        None => sqlx::query(
            "update members set updates_unsubscribed_at = null where id = $1 and updates_unsubscribed_at is not null",
        )
        .bind(member.to_string())
        .execute(ex)
        .await?,
    };
    Ok(done.rows_affected() == 1)
}

/// When the member turned updates off, if they did.
pub async fn unsubscribed_at<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    member: MemberId,
) -> Result<Option<Micros>, DbError> {
    let row: Option<(Option<i64>,)> = sqlx::query_as("select updates_unsubscribed_at from members where id = $1")
        .bind(member.to_string())
        .fetch_optional(ex)
        .await?;
    Ok(row.and_then(|r| r.0))
}

/// Whether a queued update or anniversary may still go to the member: they
/// exist, have not deleted their account and have not unsubscribed.
pub async fn may_send<'e, E: Executor<'e, Database = Any>>(ex: E, member: &str) -> Result<bool, DbError> {
    let row: Option<(String,)> = sqlx::query_as(
        "select id from members where id = $1 and deleted_at is null and updates_unsubscribed_at is null",
    )
    .bind(member)
    .fetch_optional(ex)
    .await?;
    Ok(row.is_some())
}

/// Patrons now who can be sent an anniversary and whose first membership
/// payment was before `paid_before`: (member, first paid at). Those sent one
/// since `sent_since` are left out (one a year).
pub async fn anniversary_candidates<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    now: Micros,
    grace: Micros,
    paid_before: Micros,
    sent_since: Micros,
) -> Result<Vec<(Recipient, Micros)>, DbError> {
    let sql = format!(
        "select m.id, m.email, m.locale, m.name, f.first_paid_at
         from members m
         join (select member_id, cast(min(first_paid_at) as bigint) as first_paid_at from subscriptions
               where first_paid_at is not null and member_id is not null group by member_id) f on f.member_id = m.id
         where {REACHABLE} and {PATRON} and f.first_paid_at < $3
           and not exists (select 1 from anniversary_emails a where a.member_id = m.id and a.sent_at > $4)
         order by m.id"
    );
    let rows: Vec<(String, String, String, Option<String>, i64)> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(now)
        .bind(now - grace)
        .bind(paid_before)
        .bind(sent_since)
        .fetch_all(ex)
        .await?;
    rows.into_iter()
        .map(|(id, email, locale, name, first)| Ok((recipient((id, email, locale, name))?, first)))
        .collect()
}

/// Records the `years`-th anniversary email of a member; false when it was
/// recorded already (by this instance or another): the unique key decides.
pub async fn record_anniversary<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    member: MemberId,
    years: i64,
    now: Micros,
) -> Result<bool, DbError> {
    let done = sqlx::query(
        "insert into anniversary_emails (member_id, years, sent_at) values ($1, $2, $3)
         on conflict (member_id, years) do nothing",
    )
    .bind(member.to_string())
    .bind(years)
    .bind(now)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Topics someone voted for, by title: (id, title).
pub async fn voted_topics<'e, E: Executor<'e, Database = Any>>(ex: E) -> Result<Vec<(TopicId, String)>, DbError> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "select t.id, t.title from topics t where exists (select 1 from votes v where v.topic_id = t.id)
         order by t.title, t.id",
    )
    .fetch_all(ex)
    .await?;
    rows.into_iter().map(|(id, title)| Ok((parse_stored("topic id", &id)?, title))).collect()
}
