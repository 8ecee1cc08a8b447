//! Voting rounds, their ballots, each member's ballot and the votes.
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use sqlx::{Any, Executor, FromRow, Row};

use super::{Backend, DbError, Tx, parse_stored};
use crate::clock::Micros;
use crate::domain::Subscription;
use crate::domain::round::{BallotEntry, Round, RoundPhase, Tally, Voter};
use crate::domain::{MemberId, RoundId, StaffId, TopicId};

#[derive(FromRow)]
struct RoundRow {
    id: String,
    title: String,
    description: String,
    opens_at: i64,
    closes_at: i64,
    max_votes: i64,
    live_tallies: i64,
    closed_at: Option<i64>,
    voters: Option<i64>,
}

impl TryFrom<RoundRow> for Round {
    type Error = DbError;
    fn try_from(r: RoundRow) -> Result<Self, DbError> {
        Ok(Round {
            id: parse_stored("round id", &r.id)?,
            title: r.title,
            description: r.description,
            opens_at: r.opens_at,
            closes_at: r.closes_at,
            max_votes: r.max_votes,
            live_tallies: r.live_tallies != 0,
            closed_at: r.closed_at,
            voters: r.voters,
        })
    }
}

const SELECT: &str =
    "select id, title, description, opens_at, closes_at, max_votes, live_tallies, closed_at, voters from rounds";

fn convert(rows: Vec<RoundRow>) -> Result<Vec<Round>, DbError> {
    rows.into_iter().map(Round::try_from).collect()
}

pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    r: &Round,
    created_by: Option<StaffId>,
    now: Micros,
) -> Result<(), DbError> {
    sqlx::query(
        "insert into rounds (id, title, description, opens_at, closes_at, max_votes, live_tallies, created_by, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
    )
    .bind(r.id.to_string())
    .bind(&r.title)
    .bind(&r.description)
    .bind(r.opens_at)
    .bind(r.closes_at)
    .bind(r.max_votes)
    .bind(i64::from(r.live_tallies))
    .bind(created_by.map(|s| s.to_string()))
    .bind(now)
    .execute(ex)
    .await?;
    Ok(())
}

pub async fn add_topic<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    round: RoundId,
    topic: TopicId,
    position: i64,
) -> Result<(), DbError> {
    sqlx::query("insert into round_topics (round_id, topic_id, position) values ($1, $2, $3)")
        .bind(round.to_string())
        .bind(topic.to_string())
        .bind(position)
        .execute(ex)
        .await?;
    Ok(())
}

pub async fn find<'e, E: Executor<'e, Database = Any>>(ex: E, id: RoundId) -> Result<Option<Round>, DbError> {
    let row: Option<RoundRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} where id = $1")))
        .bind(id.to_string())
        .fetch_optional(ex)
        .await?;
    row.map(Round::try_from).transpose()
}

/// Rounds the closing job has not closed yet (upcoming, open, or due), closing soonest first.
pub async fn list_unclosed<'e, E: Executor<'e, Database = Any>>(ex: E) -> Result<Vec<Round>, DbError> {
    let rows = sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} where closed_at is null order by closes_at, id")))
        .fetch_all(ex)
        .await?;
    convert(rows)
}

/// Every round, the latest first.
pub async fn list_recent<'e, E: Executor<'e, Database = Any>>(ex: E, limit: i64) -> Result<Vec<Round>, DbError> {
    let rows = sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} order by opens_at desc, id desc limit $1")))
        .bind(limit)
        .fetch_all(ex)
        .await?;
    convert(rows)
}

/// The round a topic is on that has not closed yet, if any.
pub async fn unclosed_round_of<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    topic: TopicId,
) -> Result<Option<RoundId>, DbError> {
    let row: Option<(String,)> = sqlx::query_as(
        "select r.id from rounds r join round_topics rt on rt.round_id = r.id
         where rt.topic_id = $1 and r.closed_at is null limit 1",
    )
    .bind(topic.to_string())
    .fetch_optional(ex)
    .await?;
    row.map(|(id,)| parse_stored("round id", &id)).transpose()
}

#[derive(FromRow)]
struct BallotRow {
    topic_id: String,
    title: String,
    description: String,
    link: Option<String>,
    status: String,
    position: i64,
    final_rank: Option<i64>,
    final_weight: Option<i64>,
    final_votes: Option<i64>,
}

impl From<BallotRow> for BallotEntry {
    fn from(r: BallotRow) -> Self {
        BallotEntry {
            topic_id: r.topic_id,
            title: r.title,
            description: r.description,
            link: r.link,
            status: r.status,
            position: r.position,
            final_rank: r.final_rank,
            final_weight: r.final_weight,
            final_votes: r.final_votes,
        }
    }
}

const BALLOT_COLUMNS: &str = "t.id as topic_id, t.title, t.description, t.link, t.status, rt.position,
                rt.final_rank, rt.final_weight, rt.final_votes";

pub async fn ballot<'e, E: Executor<'e, Database = Any>>(ex: E, round: RoundId) -> Result<Vec<BallotEntry>, DbError> {
    let rows: Vec<BallotRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {BALLOT_COLUMNS}
         from round_topics rt join topics t on t.id = rt.topic_id
         where rt.round_id = $1 order by rt.position, t.title"
    )))
    .bind(round.to_string())
    .fetch_all(ex)
    .await?;
    Ok(rows.into_iter().map(BallotEntry::from).collect())
}

/// The rounds not closed yet (as [`list_unclosed`]), each with its ballot, in two statements.
pub async fn list_unclosed_with_ballots(
    conn: &mut sqlx::AnyConnection,
) -> Result<Vec<(Round, Vec<BallotEntry>)>, DbError> {
    let rounds = list_unclosed(&mut *conn).await?;
    #[derive(FromRow)]
    struct Row {
        round_id: String,
        #[sqlx(flatten)]
        entry: BallotRow,
    }
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select rt.round_id, {BALLOT_COLUMNS}
         from rounds r join round_topics rt on rt.round_id = r.id join topics t on t.id = rt.topic_id
         where r.closed_at is null order by rt.round_id, rt.position, t.title"
    )))
    .fetch_all(&mut *conn)
    .await?;
    let mut ballots: HashMap<String, Vec<BallotEntry>> = HashMap::new();
    for row in rows {
        ballots.entry(row.round_id).or_default().push(row.entry.into());
    }
    Ok(rounds
        .into_iter()
        .map(|r| {
            let ballot = ballots.remove(&r.id.to_string()).unwrap_or_default();
            (r, ballot)
        })
        .collect())
}

#[derive(FromRow)]
struct TallyRow {
    round_id: String,
    topic_id: String,
    weight: i64,
    votes: i64,
    first_vote_at: i64,
}

pub async fn tallies<'e, E: Executor<'e, Database = Any>>(ex: E, round: RoundId) -> Result<Vec<Tally>, DbError> {
    Ok(tallies_of(ex, &[round]).await?.remove(&round).unwrap_or_default())
}

/// The running counts of several rounds in one statement.
pub async fn tallies_of<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    rounds: &[RoundId],
) -> Result<HashMap<RoundId, Vec<Tally>>, DbError> {
    if rounds.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "select round_id, topic_id, cast(sum(weight) as bigint) as weight, count(*) as votes,
                cast(min(created_at) as bigint) as first_vote_at
         from votes where round_id in ({}) group by round_id, topic_id",
        placeholders(rounds.len(), 1)
    );
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql)).persistent(false);
    for round in rounds {
        query = query.bind(round.to_string());
    }
    let rows: Vec<TallyRow> = query.fetch_all(ex).await?;
    let mut out: HashMap<RoundId, Vec<Tally>> = HashMap::new();
    for r in rows {
        let tally = Tally { topic_id: r.topic_id, weight: r.weight, votes: r.votes, first_vote_at: r.first_vote_at };
        out.entry(parse_stored("round id", &r.round_id)?).or_default().push(tally);
    }
    Ok(out)
}

/// Members who cast at least one vote in the round.
pub async fn count_voters<'e, E: Executor<'e, Database = Any>>(ex: E, round: RoundId) -> Result<i64, DbError> {
    let (n,): (i64,) = sqlx::query_as("select count(*) from ballots where round_id = $1 and used > 0")
        .bind(round.to_string())
        .fetch_one(ex)
        .await?;
    Ok(n)
}

/// Inside a vote's transaction: the round's vote limit if it is open at `now`.
/// On PostgreSQL the row is share-locked, so the closing job (which updates it)
/// waits for votes in flight and every later vote sees the round closed.
/// SQLite's write transactions are serial already.
pub async fn lock_open(tx: &mut Tx, backend: Backend, round: RoundId, now: Micros) -> Result<Option<i64>, DbError> {
    let lock = if backend == Backend::Postgres { " for share" } else { "" };
    let row: Option<(i64, i64, Option<i64>, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select opens_at, closes_at, closed_at, max_votes from rounds where id = $1{lock}"
    )))
    .bind(round.to_string())
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.and_then(|(opens_at, closes_at, closed_at, max_votes)| {
        (RoundPhase::at(opens_at, closes_at, closed_at.is_some(), now) == RoundPhase::Open).then_some(max_votes)
    }))
}

/// A round as a batch of votes sees it (see [`lock_for_votes`]).
#[derive(Debug)]
pub struct RoundForVotes {
    opens_at: Micros,
    closes_at: Micros,
    closed: bool,
    pub max_votes: i64,
    /// The topics on its ballot that are still open.
    pub open_topics: HashSet<TopicId>,
}

impl RoundForVotes {
    pub fn open_at(&self, at: Micros) -> bool {
        RoundPhase::at(self.opens_at, self.closes_at, self.closed, at) == RoundPhase::Open
    }
}

/// Inside a batch of votes: the round and the open topics on its ballot, in one
/// statement. On PostgreSQL the round row is share-locked like [`lock_open`] does.
pub async fn lock_for_votes(tx: &mut Tx, backend: Backend, round: RoundId) -> Result<Option<RoundForVotes>, DbError> {
    let lock = if backend == Backend::Postgres { " for share of r" } else { "" };
    // opens_at, closes_at, closed_at, max_votes, and an open topic on the ballot
    type Row = (i64, i64, Option<i64>, i64, Option<String>);
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select r.opens_at, r.closes_at, r.closed_at, r.max_votes, t.id from rounds r
         left join round_topics rt on rt.round_id = r.id
         left join topics t on t.id = rt.topic_id and t.status = 'open'
         where r.id = $1{lock}"
    )))
    .bind(round.to_string())
    .fetch_all(&mut **tx)
    .await?;
    let Some((opens_at, closes_at, closed_at, max_votes, _)) = rows.first() else { return Ok(None) };
    let open_topics =
        rows.iter().filter_map(|r| r.4.as_deref()).map(|t| parse_stored("topic id", t)).collect::<Result<_, _>>()?;
    Ok(Some(RoundForVotes {
        opens_at: *opens_at,
        closes_at: *closes_at,
        closed: closed_at.is_some(),
        max_votes: *max_votes,
        open_topics,
    }))
}

/// `($first, …), (…)`: `rows` groups of `per_row` numbered placeholders.
/// Statements built with it differ with the batch size, so they are not kept
/// prepared (`persistent(false)`): they would crowd the fixed statements out of
/// each connection's cache.
fn placeholder_rows(rows: usize, per_row: usize, first: usize) -> String {
    (0..rows).map(|r| format!("({})", placeholders(per_row, first + r * per_row))).collect::<Vec<_>>().join(", ")
}

/// `$first, …`: `count` numbered placeholders.
fn placeholders(count: usize, first: usize) -> String {
    (first..first + count).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ")
}

/// (member, topic) pairs as stored.
fn member_topic_pairs(rows: &[(String, String)]) -> Result<HashSet<(MemberId, TopicId)>, DbError> {
    rows.iter().map(|(m, t)| Ok((parse_stored("member id", m)?, parse_stored("topic id", t)?))).collect()
}

/// Inside a batch of votes: how many votes each of `members` (sorted, distinct)
/// has used in `round`. Their ballot rows are created when missing and locked, so
/// on PostgreSQL a batch on another instance waits for this one (both lock in
/// member order).
pub async fn lock_ballots(
    tx: &mut Tx,
    round: RoundId,
    members: &[MemberId],
) -> Result<HashMap<MemberId, i64>, DbError> {
    let sql = format!(
        "insert into ballots (round_id, member_id, used) values {}
         on conflict (round_id, member_id) do update set used = ballots.used
         returning member_id, used",
        placeholder_rows(members.len(), 3, 1)
    );
    let round = round.to_string();
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql)).persistent(false);
    for member in members {
        query = query.bind(round.clone()).bind(member.to_string()).bind(0_i64);
    }
    let rows: Vec<(String, i64)> = query.fetch_all(&mut **tx).await?;
    rows.into_iter().map(|(member, used)| Ok((parse_stored("member id", &member)?, used))).collect()
}

/// Inside a batch of votes: the topics each of `members` has voted for in `round`.
pub async fn votes_of(
    tx: &mut Tx,
    round: RoundId,
    members: &[MemberId],
) -> Result<HashSet<(MemberId, TopicId)>, DbError> {
    let sql = format!(
        "select member_id, topic_id from votes where round_id = $1 and member_id in ({})",
        placeholders(members.len(), 2)
    );
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql)).persistent(false).bind(round.to_string());
    for member in members {
        query = query.bind(member.to_string());
    }
    member_topic_pairs(&query.fetch_all(&mut **tx).await?)
}

/// Inserts the votes, each cast at its time; returns the (member, topic) pairs
/// stored (a vote already there is left alone and not returned).
pub async fn insert_votes(tx: &mut Tx, votes: &[(&NewVote, Micros)]) -> Result<HashSet<(MemberId, TopicId)>, DbError> {
    let sql = format!(
        "insert into votes (id, round_id, topic_id, member_id, weight, created_at) values {}
         on conflict (round_id, topic_id, member_id) do nothing
         returning member_id, topic_id",
        placeholder_rows(votes.len(), 6, 1)
    );
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql)).persistent(false);
    for (v, at) in votes {
        query = query
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(v.round_id.to_string())
            .bind(v.topic_id.to_string())
            .bind(v.member_id.to_string())
            .bind(v.weight)
            .bind(*at);
    }
    member_topic_pairs(&query.fetch_all(&mut **tx).await?)
}

/// Sets how many votes each member has used in `round` (rows from [`lock_ballots`]).
pub async fn set_ballots(tx: &mut Tx, round: RoundId, used: &[(MemberId, i64)]) -> Result<(), DbError> {
    let sql = format!(
        "insert into ballots (round_id, member_id, used) values {}
         on conflict (round_id, member_id) do update set used = excluded.used",
        placeholder_rows(used.len(), 3, 1)
    );
    let round = round.to_string();
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(false);
    for (member, n) in used {
        query = query.bind(round.clone()).bind(member.to_string()).bind(*n);
    }
    query.execute(&mut **tx).await?;
    Ok(())
}

/// Rounds past their closing time that no job has closed yet.
pub async fn due_to_close<'e, E: Executor<'e, Database = Any>>(ex: E, now: Micros) -> Result<Vec<RoundId>, DbError> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "select id from rounds where closed_at is null and closes_at <= $1 order by closes_at limit 100",
    )
    .bind(now)
    .fetch_all(ex)
    .await?;
    rows.iter().map(|(id,)| parse_stored("round id", id)).collect()
}

/// Marks the round closed if nobody has; true for the one caller that did.
pub async fn mark_closed<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    round: RoundId,
    now: Micros,
    worker: &str,
) -> Result<bool, DbError> {
    let done = sqlx::query(
        "update rounds set closed_at = $2, closed_by = $3, updated_at = $2
         where id = $1 and closed_at is null and closes_at <= $2",
    )
    .bind(round.to_string())
    .bind(now)
    .bind(worker)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn record_result<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    round: RoundId,
    topic: &str,
    rank: i64,
    weight: i64,
    votes: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "update round_topics set final_rank = $3, final_weight = $4, final_votes = $5 where round_id = $1 and topic_id = $2",
    )
    .bind(round.to_string())
    .bind(topic)
    .bind(rank)
    .bind(weight)
    .bind(votes)
    .execute(ex)
    .await?;
    Ok(())
}

pub async fn set_voters<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    round: RoundId,
    voters: i64,
) -> Result<(), DbError> {
    sqlx::query("update rounds set voters = $2 where id = $1").bind(round.to_string()).bind(voters).execute(ex).await?;
    Ok(())
}

// --- votes and ballots ---

pub struct NewVote {
    pub round_id: RoundId,
    pub topic_id: TopicId,
    pub member_id: MemberId,
    pub weight: i64,
}

/// Inserts the vote; false when the member has already voted for the topic in the round.
pub async fn insert_vote<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    v: &NewVote,
    now: Micros,
) -> Result<bool, DbError> {
    let done = sqlx::query(
        "insert into votes (id, round_id, topic_id, member_id, weight, created_at) values ($1, $2, $3, $4, $5, $6)
         on conflict (round_id, topic_id, member_id) do nothing",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(v.round_id.to_string())
    .bind(v.topic_id.to_string())
    .bind(v.member_id.to_string())
    .bind(v.weight)
    .bind(now)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete_vote<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    round: RoundId,
    topic: TopicId,
    member: MemberId,
) -> Result<bool, DbError> {
    let done = sqlx::query("delete from votes where round_id = $1 and topic_id = $2 and member_id = $3")
        .bind(round.to_string())
        .bind(topic.to_string())
        .bind(member.to_string())
        .execute(ex)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Counts a vote against the member's ballot unless it is full (`max`), for
/// votes written in bulk whose round the caller has checked (demo data).
pub async fn use_ballot(tx: &mut Tx, round: RoundId, member: MemberId, max: i64) -> Result<bool, DbError> {
    let done = sqlx::query(
        "insert into ballots (round_id, member_id, used) values ($1, $2, 1)
         on conflict (round_id, member_id) do update set used = ballots.used + 1 where ballots.used < $3",
    )
    .bind(round.to_string())
    .bind(member.to_string())
    .bind(max)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives a vote back (withdrawn, or dropped when merging topics).
pub async fn return_ballot<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    round: &str,
    member: &str,
) -> Result<(), DbError> {
    sqlx::query("update ballots set used = used - 1 where round_id = $1 and member_id = $2 and used > 0")
        .bind(round)
        .bind(member)
        .execute(ex)
        .await?;
    Ok(())
}

/// The topics a member voted for in a round, in the order they voted.
pub async fn member_votes<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    round: RoundId,
    member: MemberId,
) -> Result<Vec<TopicId>, DbError> {
    let rows: Vec<(String,)> =
        sqlx::query_as("select topic_id from votes where round_id = $1 and member_id = $2 order by created_at")
            .bind(round.to_string())
            .bind(member.to_string())
            .fetch_all(ex)
            .await?;
    rows.iter().map(|(t,)| parse_stored("topic id", t)).collect()
}

/// What `member` voted for in each of `rounds` and, when `with_subscriptions`,
/// their subscriptions (newest first), in one round trip: the topics page shows
/// both (whether the member may vote comes from their subscriptions).
pub async fn votes_and_subscriptions<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    member: MemberId,
    rounds: &[RoundId],
    with_subscriptions: bool,
) -> Result<(Vec<(RoundId, TopicId)>, Vec<Subscription>), DbError> {
    // The subscriptions' part, and the NULLs a vote's row has in place of their columns.
    static SUBSCRIPTIONS: LazyLock<(String, String)> = LazyLock::new(|| {
        let part = format!(
            "select sub.created_at as sort_at, null as v_round_id, null as v_topic_id, {}
             from subscriptions sub where sub.member_id = $1",
            super::subscriptions::columns("sub")
        );
        (part, format!(", {}", super::subscriptions::no_columns()))
    });
    let mut sql = String::with_capacity(1024);
    if with_subscriptions {
        sql.push_str(&SUBSCRIPTIONS.0);
    }
    if !rounds.is_empty() {
        if with_subscriptions {
            sql.push_str(" union all ");
        }
        sql.push_str("select v.created_at as sort_at, v.round_id as v_round_id, v.topic_id as v_topic_id");
        if with_subscriptions {
            sql.push_str(&SUBSCRIPTIONS.1);
        }
        sql.push_str(" from votes v where v.member_id = $1 and v.round_id in (");
        for n in 0..rounds.len() {
            sql.push_str(if n == 0 { "$" } else { ", $" });
            sql.push_str(&(n + 2).to_string());
        }
        sql.push(')');
    }
    if sql.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(member.to_string());
    for round in rounds {
        query = query.bind(round.to_string());
    }
    let (mut votes, mut subscriptions) = (Vec::new(), Vec::new());
    for row in query.fetch_all(ex).await? {
        match row.try_get::<Option<String>, _>("v_topic_id")? {
            Some(topic) => {
                let round: String = row.try_get("v_round_id")?;
                votes.push((parse_stored("round id", &round)?, parse_stored("topic id", &topic)?));
            }
            None => subscriptions.push((row.try_get::<i64, _>("sort_at")?, super::subscriptions::from_row(&row)?)),
        }
    }
    // Newest first, as subscriptions::list_for_member has them (sorted here, not by
    // the statement: an ORDER BY would sort the votes too).
    subscriptions.sort_by_key(|(created_at, _)| std::cmp::Reverse(*created_at));
    Ok((votes, subscriptions.into_iter().map(|(_, subscription)| subscription).collect()))
}

#[derive(FromRow)]
struct VoterRow {
    topic_id: String,
    topic_title: String,
    member_id: String,
    name: Option<String>,
    public_name: Option<String>,
    email: Option<String>,
    weight: i64,
    created_at: i64,
}

/// The votes of a round (of one topic of it, if given) with their voters, in the order cast.
pub async fn voters<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    round: RoundId,
    topic: Option<TopicId>,
) -> Result<Vec<Voter>, DbError> {
    let rows: Vec<VoterRow> = sqlx::query_as(
        "select v.topic_id, t.title as topic_title, v.member_id, m.name, m.public_name, m.email, v.weight, v.created_at
         from votes v join topics t on t.id = v.topic_id join members m on m.id = v.member_id
         where v.round_id = $1 and ($2 is null or v.topic_id = $2)
         order by v.created_at, v.id",
    )
    .bind(round.to_string())
    .bind(topic.map(|t| t.to_string()))
    .fetch_all(ex)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Voter {
                topic_id: parse_stored("topic id", &r.topic_id)?,
                topic_title: r.topic_title,
                member_id: parse_stored("member id", &r.member_id)?,
                name: r.name,
                public_name: r.public_name,
                email: r.email,
                weight: r.weight,
                created_at: r.created_at,
            })
        })
        .collect()
}

/// Moves `from`'s votes and ballot places to `to` (merging duplicates). A member
/// who voted for both in a round keeps one vote and gets the other back.
pub async fn merge_topic_votes(tx: &mut Tx, from: TopicId, to: TopicId) -> Result<(), DbError> {
    let (from, to) = (from.to_string(), to.to_string());
    let doubled: Vec<(String, String)> = sqlx::query_as(
        "select v.round_id, v.member_id from votes v
         where v.topic_id = $1
           and exists (select 1 from votes w where w.round_id = v.round_id and w.member_id = v.member_id and w.topic_id = $2)",
    )
    .bind(&from)
    .bind(&to)
    .fetch_all(&mut **tx)
    .await?;
    for (round, member) in &doubled {
        sqlx::query("delete from votes where round_id = $1 and member_id = $2 and topic_id = $3")
            .bind(round)
            .bind(member)
            .bind(&from)
            .execute(&mut **tx)
            .await?;
        return_ballot(&mut **tx, round, member).await?;
    }
    sqlx::query("update votes set topic_id = $2 where topic_id = $1").bind(&from).bind(&to).execute(&mut **tx).await?;
    sqlx::query(
        "update round_topics set topic_id = $2
         where topic_id = $1
           and not exists (select 1 from round_topics x where x.round_id = round_topics.round_id and x.topic_id = $2)",
    )
    .bind(&from)
    .bind(&to)
    .execute(&mut **tx)
    .await?;
    sqlx::query("delete from round_topics where topic_id = $1").bind(&from).execute(&mut **tx).await?;
    Ok(())
}
