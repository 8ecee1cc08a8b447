//! Topics, their history, followers and the articles that covered them.
use sqlx::{Any, Executor, FromRow};

use super::{DbError, parse_stored};
use crate::clock::Micros;
use crate::domain::{Article, Email, Locale, MemberId, StaffId, Topic, TopicId, TopicStatus};

#[derive(FromRow)]
struct TopicRow {
    id: String,
    title: String,
    description: String,
    link: Option<String>,
    status: String,
    suggested_by: Option<String>,
    merged_into: Option<String>,
    public_note: Option<String>,
    expected_at: Option<i64>,
    covered_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
    suggester_public_name: Option<String>,
}

impl TryFrom<TopicRow> for Topic {
    type Error = DbError;
    fn try_from(r: TopicRow) -> Result<Self, DbError> {
        Ok(Topic {
            id: parse_stored("topic id", &r.id)?,
            title: r.title,
            description: r.description,
            link: r.link,
            status: parse_stored("topic status", &r.status)?,
            suggested_by: r.suggested_by.as_deref().map(|m| parse_stored("member id", m)).transpose()?,
            merged_into: r.merged_into.as_deref().map(|t| parse_stored("topic id", t)).transpose()?,
            public_note: r.public_note,
            expected_at: r.expected_at,
            covered_at: r.covered_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
            suggester_public_name: r.suggester_public_name,
        })
    }
}

const SELECT: &str =
    "select t.id, t.title, t.description, t.link, t.status, t.suggested_by, t.merged_into, t.public_note,
        t.expected_at, t.covered_at, t.created_at, t.updated_at,
        m.public_name as suggester_public_name
    from topics t left join members m on m.id = t.suggested_by";

const SELECT_WITH_EMAIL: &str =
    "select t.id, t.title, t.description, t.link, t.status, t.suggested_by, t.merged_into, t.public_note,
        t.expected_at, t.covered_at, t.created_at, t.updated_at,
        m.public_name as suggester_public_name, m.email as suggester_email
    from topics t left join members m on m.id = t.suggested_by";

fn convert(rows: Vec<TopicRow>) -> Result<Vec<Topic>, DbError> {
    rows.into_iter().map(Topic::try_from).collect()
}

pub struct NewTopic<'a> {
    pub id: TopicId,
    pub title: &'a str,
    pub description: &'a str,
    pub link: Option<&'a str>,
    pub status: TopicStatus,
    pub suggested_by: Option<MemberId>,
}

pub async fn insert<'e, E: Executor<'e, Database = Any>>(ex: E, t: &NewTopic<'_>, now: Micros) -> Result<(), DbError> {
    sqlx::query(
        "insert into topics (id, title, description, link, status, suggested_by, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $7)",
    )
    .bind(t.id.to_string())
    .bind(t.title)
    .bind(t.description)
    .bind(t.link)
    .bind(t.status.as_str())
    .bind(t.suggested_by.map(|m| m.to_string()))
    .bind(now)
    .execute(ex)
    .await?;
    Ok(())
}

pub async fn find<'e, E: Executor<'e, Database = Any>>(ex: E, id: TopicId) -> Result<Option<Topic>, DbError> {
    let row: Option<TopicRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} where t.id = $1")))
        .bind(id.to_string())
        .fetch_optional(ex)
        .await?;
    row.map(Topic::try_from).transpose()
}

/// Topics in `status`, oldest first (a moderation queue) or newest first.
pub async fn list_by_status<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    status: TopicStatus,
    newest_first: bool,
    limit: i64,
) -> Result<Vec<Topic>, DbError> {
    let order = if newest_first { "desc" } else { "asc" };
    let rows = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} where t.status = $1 order by coalesce(t.covered_at, t.created_at) {order}, t.id {order} limit $2"
    )))
    .bind(status.as_str())
    .bind(limit)
    .fetch_all(ex)
    .await?;
    convert(rows)
}

/// Topics in `status` as [`list_by_status`], each with its suggester's address
/// (for staff; `None` for staff-created topics or deleted accounts).
pub async fn list_by_status_with_suggester<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    status: TopicStatus,
    newest_first: bool,
    limit: i64,
) -> Result<Vec<(Topic, Option<String>)>, DbError> {
    #[derive(FromRow)]
    struct Row {
        #[sqlx(flatten)]
        topic: TopicRow,
        suggester_email: Option<String>,
    }
    let order = if newest_first { "desc" } else { "asc" };
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT_WITH_EMAIL} where t.status = $1 order by coalesce(t.covered_at, t.created_at) {order}, t.id {order} limit $2"
    )))
    .bind(status.as_str())
    .bind(limit)
    .fetch_all(ex)
    .await?;
    rows.into_iter().map(|r| Ok((Topic::try_from(r.topic)?, r.suggester_email))).collect()
}

/// Open topics that are on no round that has not closed: what a new round may hold.
pub async fn list_open_off_ballot<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    limit: i64,
) -> Result<Vec<Topic>, DbError> {
    let rows = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} where t.status = 'open'
           and not exists (select 1 from round_topics rt join rounds r on r.id = rt.round_id
                           where rt.topic_id = t.id and r.closed_at is null)
         order by t.created_at, t.id limit $1"
    )))
    .bind(limit)
    .fetch_all(ex)
    .await?;
    convert(rows)
}

/// Changes the status only if it still is `from` (two editors acting at once:
/// one wins). True when changed.
#[allow(clippy::too_many_arguments)]
pub async fn set_status<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    id: TopicId,
    from: TopicStatus,
    to: TopicStatus,
    public_note: Option<&str>,
    expected_at: Option<Micros>,
    merged_into: Option<TopicId>,
    now: Micros,
) -> Result<bool, DbError> {
    let done = sqlx::query(
        "update topics set status = $3, public_note = $4, expected_at = coalesce($5, expected_at),
             merged_into = $6, covered_at = case when $3 = 'covered' then coalesce(covered_at, $7) else covered_at end,
             updated_at = $7
         where id = $1 and status = $2",
    )
    .bind(id.to_string())
    .bind(from.as_str())
    .bind(to.as_str())
    .bind(public_note)
    .bind(expected_at)
    .bind(merged_into.map(|t| t.to_string()))
    .bind(now)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub struct TopicEvent<'a> {
    pub topic_id: TopicId,
    pub from: Option<TopicStatus>,
    pub to: TopicStatus,
    pub staff_id: Option<StaffId>,
    pub member_id: Option<MemberId>,
    pub note: Option<&'a str>,
}

pub async fn insert_event<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    e: &TopicEvent<'_>,
    now: Micros,
) -> Result<(), DbError> {
    sqlx::query(
        "insert into topic_events (id, topic_id, from_status, to_status, staff_id, member_id, note, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(e.topic_id.to_string())
    .bind(e.from.map(TopicStatus::as_str))
    .bind(e.to.as_str())
    .bind(e.staff_id.map(|s| s.to_string()))
    .bind(e.member_id.map(|m| m.to_string()))
    .bind(e.note)
    .bind(now)
    .execute(ex)
    .await?;
    Ok(())
}

#[derive(Clone, Debug, FromRow)]
pub struct HistoryEntry {
    pub to_status: String,
    pub note: Option<String>,
    pub staff_email: Option<String>,
    pub created_at: i64,
}

pub async fn history<'e, E: Executor<'e, Database = Any>>(ex: E, id: TopicId) -> Result<Vec<HistoryEntry>, DbError> {
    let rows = sqlx::query_as(
        "select e.to_status, e.note, s.email as staff_email, e.created_at
         from topic_events e left join staff_users s on s.id = e.staff_id
         where e.topic_id = $1 order by e.created_at, e.id",
    )
    .bind(id.to_string())
    .fetch_all(ex)
    .await?;
    Ok(rows)
}

/// Adds an article; false when the topic already lists it.
pub async fn insert_article<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    topic: TopicId,
    url: &str,
    headline: Option<&str>,
    position: i64,
    now: Micros,
) -> Result<bool, DbError> {
    let done = sqlx::query(
        "insert into topic_articles (id, topic_id, url, headline, position, created_at) values ($1, $2, $3, $6, $4, $5)
         on conflict (topic_id, url) do nothing",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(topic.to_string())
    .bind(url)
    .bind(position)
    .bind(now)
    .bind(headline)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn articles<'e, E: Executor<'e, Database = Any>>(ex: E, topic: TopicId) -> Result<Vec<Article>, DbError> {
    let rows: Vec<(String, Option<String>)> =
        sqlx::query_as("select url, headline from topic_articles where topic_id = $1 order by position, created_at")
            .bind(topic.to_string())
            .fetch_all(ex)
            .await?;
    Ok(rows.into_iter().map(|(url, headline)| Article { url, headline }).collect())
}

/// Articles of many topics at once: (topic id, article), in order.
pub async fn articles_of_covered<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    limit: i64,
) -> Result<Vec<(TopicId, Article)>, DbError> {
    let rows: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "select a.topic_id, a.url, a.headline from topic_articles a
         where a.topic_id in (select id from topics where status = 'covered' order by covered_at desc limit $1)
         order by a.topic_id, a.position, a.created_at",
    )
    .bind(limit)
    .fetch_all(ex)
    .await?;
    rows.into_iter().map(|(t, url, headline)| Ok((parse_stored("topic id", &t)?, Article { url, headline }))).collect()
}

pub async fn follow<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    topic: TopicId,
    member: MemberId,
    now: Micros,
) -> Result<bool, DbError> {
    let done = sqlx::query(
        "insert into topic_followers (topic_id, member_id, created_at) values ($1, $2, $3)
         on conflict (topic_id, member_id) do nothing",
    )
    .bind(topic.to_string())
    .bind(member.to_string())
    .bind(now)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn unfollow<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    topic: TopicId,
    member: MemberId,
) -> Result<bool, DbError> {
    let done = sqlx::query("delete from topic_followers where topic_id = $1 and member_id = $2")
        .bind(topic.to_string())
        .bind(member.to_string())
        .execute(ex)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn is_following<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    topic: TopicId,
    member: MemberId,
) -> Result<bool, DbError> {
    let row: Option<(i64,)> = sqlx::query_as("select 1 from topic_followers where topic_id = $1 and member_id = $2")
        .bind(topic.to_string())
        .bind(member.to_string())
        .fetch_optional(ex)
        .await?;
    Ok(row.is_some())
}

/// Followers of `from` follow `to` instead (merging duplicates).
pub async fn move_followers(tx: &mut super::Tx, from: TopicId, to: TopicId, now: Micros) -> Result<(), DbError> {
    sqlx::query(
        "insert into topic_followers (topic_id, member_id, created_at)
         select $2, member_id, $3 from topic_followers where topic_id = $1
         on conflict (topic_id, member_id) do nothing",
    )
    .bind(from.to_string())
    .bind(to.to_string())
    .bind(now)
    .execute(&mut **tx)
    .await?;
    sqlx::query("delete from topic_followers where topic_id = $1").bind(from.to_string()).execute(&mut **tx).await?;
    Ok(())
}

/// A member to tell about a topic.
#[derive(Clone, Debug)]
pub struct Recipient {
    pub member_id: MemberId,
    pub email: Email,
    pub locale: Locale,
}

/// Everyone who voted for the topic (in any round) or follows it, with an address.
pub async fn voters_and_followers<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    topic: TopicId,
) -> Result<Vec<Recipient>, DbError> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "select m.id, m.email, m.locale from members m
         where m.email is not null and m.deleted_at is null
           and (m.id in (select member_id from votes where topic_id = $1)
                or m.id in (select member_id from topic_followers where topic_id = $1))
         order by m.id",
    )
    .bind(topic.to_string())
    .fetch_all(ex)
    .await?;
    rows.into_iter()
        .filter_map(|(id, email, locale)| {
            let email = Email::parse(&email).ok()?;
            Some(Ok(Recipient { member_id: id.parse().ok()?, email, locale: locale.parse().unwrap_or_default() }))
        })
        .collect()
}

/// A topic the member voted for, and what became of it.
#[derive(Clone, Debug, FromRow)]
pub struct Commissioned {
    pub id: String,
    pub title: String,
    pub status: String,
    pub public_note: Option<String>,
    pub expected_at: Option<i64>,
    pub covered_at: Option<i64>,
    pub last_voted_at: i64,
}

pub async fn voted_by<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    member: MemberId,
) -> Result<Vec<Commissioned>, DbError> {
    let rows = sqlx::query_as(
        "select t.id, t.title, t.status, t.public_note, t.expected_at, t.covered_at,
                cast(max(v.created_at) as bigint) as last_voted_at
         from votes v join topics t on t.id = v.topic_id
         where v.member_id = $1
         group by t.id, t.title, t.status, t.public_note, t.expected_at, t.covered_at
         order by last_voted_at desc",
    )
    .bind(member.to_string())
    .fetch_all(ex)
    .await?;
    Ok(rows)
}

/// The articles of every covered topic the member voted for: (topic id, article), in order.
pub async fn articles_voted_by<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    member: MemberId,
) -> Result<Vec<(TopicId, Article)>, DbError> {
    let rows: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "select a.topic_id, a.url, a.headline from topic_articles a
         where a.topic_id in (select v.topic_id from votes v join topics t on t.id = v.topic_id
                              where v.member_id = $1 and t.status = 'covered')
         order by a.topic_id, a.position, a.created_at",
    )
    .bind(member.to_string())
    .fetch_all(ex)
    .await?;
    rows.into_iter().map(|(t, url, headline)| Ok((parse_stored("topic id", &t)?, Article { url, headline }))).collect()
}

/// The topics a member follows, newest follow first: (id, title, status).
pub async fn followed_by<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    member: MemberId,
) -> Result<Vec<(TopicId, String, String)>, DbError> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "select t.id, t.title, t.status from topic_followers f join topics t on t.id = f.topic_id
         where f.member_id = $1 order by f.created_at desc",
    )
    .bind(member.to_string())
    .fetch_all(ex)
    .await?;
    rows.into_iter().map(|(id, title, status)| Ok((parse_stored("topic id", &id)?, title, status))).collect()
}

/// Stops every follow of the member (account deletion).
pub async fn unfollow_all<'e, E: Executor<'e, Database = Any>>(ex: E, member: MemberId) -> Result<u64, DbError> {
    let done =
        sqlx::query("delete from topic_followers where member_id = $1").bind(member.to_string()).execute(ex).await?;
    Ok(done.rows_affected())
}

/// Topics the member suggested: (title, status, created_at), for their data export.
pub async fn suggested_by<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    member: MemberId,
) -> Result<Vec<(String, String, i64)>, DbError> {
    let rows =
        sqlx::query_as("select title, status, created_at from topics where suggested_by = $1 order by created_at")
            .bind(member.to_string())
            .fetch_all(ex)
            .await?;
    Ok(rows)
}

/// The member's votes: (round title, topic title, weight, cast at), for their data export.
pub async fn votes_of<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    member: MemberId,
) -> Result<Vec<(String, String, i64, i64)>, DbError> {
    let rows = sqlx::query_as(
        "select r.title, t.title, v.weight, v.created_at
         from votes v join rounds r on r.id = v.round_id join topics t on t.id = v.topic_id
         where v.member_id = $1 order by v.created_at",
    )
    .bind(member.to_string())
    .fetch_all(ex)
    .await?;
    Ok(rows)
}
