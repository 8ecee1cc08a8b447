//! Members choose what gets covered: suggestions and their moderation, voting
//! rounds, votes with weights, closing rounds, and telling voters when the story
//! is out. Every change and the mail it causes are stored in one transaction.
use std::sync::Arc;

use serde::Serialize;

use super::Context;
use super::billing::{self, BillingError};
use super::cache::MemberVotes;
use super::outbox::{self, OutboxError};
use super::rate_limit::{self, Limit, RateLimitError};
use super::staff::{Actor, audit};
use crate::clock::{DAY, Micros};
use crate::db::members::Member;
use crate::db::rounds::{NewVote, Round, Tally};
use crate::db::topics::{NewTopic, TopicEvent};
use crate::db::{self, Change, DbError, Tx};
use crate::domain::{
    ArticleUrl, Eligibility, MemberId, MemberStatus, RoundId, TopicId, TopicStatus, TopicText, VotingSettings,
    WeightMode,
};

pub const SUGGESTIONS_PER_MEMBER: Limit = Limit { name: "topic-suggest", max: 5, window: DAY };
/// Months of tenure are counted in 30-day steps.
const MONTH: Micros = 30 * DAY;

#[derive(Debug, thiserror::Error)]
pub enum VotingError {
    #[error("too many suggestions; try again in {retry_after_secs} seconds")]
    RateLimited { retry_after_secs: i64 },
    #[error("not found")]
    NotFound,
    /// The topic is not in a state that allows this (or another editor changed it first).
    #[error("the topic cannot move from {from} to {to}")]
    InvalidMove { from: TopicStatus, to: TopicStatus },
    #[error("invalid round: {0}")]
    InvalidRound(&'static str),
    #[error("vote refused: {0:?}")]
    Refused(Refusal),
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<BillingError> for VotingError {
    fn from(e: BillingError) -> Self {
        match e {
            BillingError::Db(e) => Self::Db(e),
        }
    }
}

impl From<RateLimitError> for VotingError {
    fn from(e: RateLimitError) -> Self {
        match e {
            RateLimitError::Limited { retry_after_secs } => Self::RateLimited { retry_after_secs },
            RateLimitError::Db(e) => Self::Db(e),
        }
    }
}

/// Why a member cannot vote (or withdraw) now. Each has a message for readers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    RoundNotOpen,
    NotOnBallot,
    PatronsOnly,
    Lapsed,
    PaymentNotCleared,
    AlreadyVoted,
    NoVotesLeft,
    NotVoted,
}

impl Refusal {
    pub fn message_key(self) -> &'static str {
        match self {
            Self::RoundNotOpen => "vote-refused-closed",
            Self::NotOnBallot => "vote-refused-not-on-ballot",
            Self::PatronsOnly => "vote-refused-patrons-only",
            Self::Lapsed => "vote-refused-lapsed",
            Self::PaymentNotCleared => "vote-refused-payment-pending",
            Self::AlreadyVoted => "vote-refused-already",
            Self::NoVotesLeft => "vote-refused-no-votes-left",
            Self::NotVoted => "vote-refused-not-voted",
        }
    }
}

// --- settings ---

const ELIGIBILITY_KEY: &str = "voting.eligibility";
const WEIGHT_KEY: &str = "voting.weight";
const TENURE_CAP_KEY: &str = "voting.tenure_cap_months";

/// The newsroom's voting rules; defaults for anything not set.
pub async fn settings(ctx: &Context) -> Result<VotingSettings, VotingError> {
    let cached = ctx
        .caches
        .voting_settings
        .get_or_load(&ctx.clock, (), || async {
            let mut s = VotingSettings::default();
            for (key, value) in db::settings::with_prefix(ctx.db.read(), "voting.").await? {
                match key.as_str() {
                    ELIGIBILITY_KEY => s.eligibility = value.parse().unwrap_or(s.eligibility),
                    WEIGHT_KEY => s.weight = value.parse().unwrap_or(s.weight),
                    TENURE_CAP_KEY => s.tenure_cap_months = value.parse().unwrap_or(s.tenure_cap_months),
                    _ => {}
                }
            }
            Ok::<_, DbError>(s)
        })
        .await?;
    Ok(cached)
}

/// Rounds that have not closed with their ballots, and the open and planned
/// topics: the same for every visitor, so cached for a second.
pub async fn board(ctx: &Context) -> Result<Arc<super::cache::Board>, VotingError> {
    let board = ctx
        .caches
        .board
        .get_or_load(&ctx.clock, (), || async {
            let pool = ctx.db.read();
            let mut rounds = Vec::new();
            for round in db::rounds::list_unclosed(pool).await? {
                let ballot = db::rounds::ballot(pool, round.id).await?;
                rounds.push((round, ballot));
            }
            Ok::<_, DbError>(Arc::new(super::cache::Board {
                rounds,
                open_topics: db::topics::list_by_status(pool, TopicStatus::Open, true, 50).await?,
                planned_topics: db::topics::list_by_status(pool, TopicStatus::Planned, true, 20).await?,
            }))
        })
        .await?;
    Ok(board)
}

/// What the topics page shows differently to one member.
#[derive(Debug)]
pub struct Ballot {
    /// The topics they voted for in each round on show.
    pub votes: Arc<MemberVotes>,
    /// Why they may not vote, if they may not (asked only while a round is on show).
    pub refusal: Option<Refusal>,
}

/// What `member` voted for in each of `rounds` (the rounds the topics page
/// shows), reused for a few seconds unless `fresh` (see
/// [`super::cache::MEMBER_VOTES_TTL`]), and whether they may vote (see
/// [`eligibility`]). What is not cached is read in one round trip.
pub async fn ballot(ctx: &Context, member: &Member, rounds: &[RoundId], fresh: bool) -> Result<Ballot, VotingError> {
    if rounds.is_empty() {
        return Ok(Ballot { votes: Arc::default(), refusal: None });
    }
    let now = ctx.clock.now();
    let votes = match fresh {
        true => None,
        false => ctx
            .caches
            .member_votes
            .get(&member.id, now)
            .filter(|votes| votes.iter().map(|(round, _)| round).eq(rounds.iter())),
    };
    let eligibility = ctx.caches.eligibility.get(&member.id, now);
    let (votes, eligibility) = match (votes, eligibility) {
        (Some(votes), Some(eligibility)) => (votes, eligibility),
        (votes, eligibility) => {
            let unread = if votes.is_some() { &[][..] } else { rounds };
            let (cast, subscriptions) = ctx
                .db
                .read_hot(async |conn| {
                    db::rounds::votes_and_subscriptions(conn, member.id, unread, eligibility.is_none()).await
                })
                .await?;
            let votes = match votes {
                Some(votes) => votes,
                None => {
                    let votes: MemberVotes = rounds
                        .iter()
                        .map(|round| {
                            let mine = cast.iter().filter(|(r, _)| r == round).map(|(_, topic)| topic.to_string());
                            (*round, mine.collect())
                        })
                        .collect();
                    let votes = Arc::new(votes);
                    ctx.caches.member_votes.put(now, member.id, votes.clone());
                    votes
                }
            };
            let eligibility = match eligibility {
                Some(eligibility) => eligibility,
                None => {
                    let standing = billing::standing_from(ctx, subscriptions, member.comped_until).await?;
                    let eligibility = eligibility_given(ctx, standing).await?;
                    ctx.caches.eligibility.put(now, member.id, eligibility);
                    eligibility
                }
            };
            (votes, eligibility)
        }
    };
    Ok(Ballot { votes, refusal: eligibility.err() })
}

pub async fn save_settings(ctx: &Context, actor: &Actor, s: &VotingSettings) -> Result<(), VotingError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.transaction().await?;
    db::settings::set(&mut *tx, ELIGIBILITY_KEY, s.eligibility.as_str(), now).await?;
    db::settings::set(&mut *tx, WEIGHT_KEY, s.weight.as_str(), now).await?;
    db::settings::set(&mut *tx, TENURE_CAP_KEY, &s.tenure_cap_months.to_string(), now).await?;
    let detail = format!(
        "eligibility={} weight={} tenure_cap={}",
        s.eligibility.as_str(),
        s.weight.as_str(),
        s.tenure_cap_months
    );
    audit(ctx, &mut tx, actor, "voting.settings", None, Some(detail)).await?;
    tx.changed(Change::VotingSettings);
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}

// --- suggestions and moderation ---

pub struct Suggestion {
    pub title: TopicText,
    pub description: Option<TopicText>,
    pub link: Option<ArticleUrl>,
}

/// Stores a new topic and the first line of its history, inside `tx`.
async fn insert_topic(
    tx: &mut Tx,
    s: &Suggestion,
    status: TopicStatus,
    member: Option<MemberId>,
    actor: Option<&Actor>,
    now: Micros,
) -> Result<TopicId, DbError> {
    let id = TopicId::new();
    let topic = NewTopic {
        id,
        title: s.title.as_str(),
        description: s.description.as_ref().map_or("", TopicText::as_str),
        link: s.link.as_ref().map(ArticleUrl::as_str),
        status,
        suggested_by: member,
    };
    db::topics::insert(&mut **tx, &topic, now).await?;
    let staff_id = actor.and_then(|a| a.staff_id);
    let event = TopicEvent { topic_id: id, from: None, to: status, staff_id, member_id: member, note: None };
    db::topics::insert_event(&mut **tx, &event, now).await?;
    Ok(id)
}

/// A member suggests a topic; it waits for moderation, and they follow it.
pub async fn suggest(ctx: &Context, member: MemberId, s: &Suggestion) -> Result<TopicId, VotingError> {
    rate_limit::check(ctx, &[(SUGGESTIONS_PER_MEMBER, &member.to_string())]).await?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.transaction().await?;
    let id = insert_topic(&mut tx, s, TopicStatus::Suggested, Some(member), None, now).await?;
    db::topics::follow(&mut *tx, id, member, now).await?;
    tx.commit().await.map_err(DbError::from)?;
    tracing::info!(topic.id = %id, member.id = %member, "topic suggested");
    Ok(id)
}

/// Staff add a topic straight onto the list of open topics.
pub async fn create_open(ctx: &Context, actor: &Actor, s: &Suggestion) -> Result<TopicId, VotingError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.transaction().await?;
    let id = insert_topic(&mut tx, s, TopicStatus::Open, None, Some(actor), now).await?;
    audit(ctx, &mut tx, actor, "topic.create", Some(id.to_string()), Some(s.title.as_str().to_string())).await?;
    tx.changed(Change::Board);
    tx.commit().await.map_err(DbError::from)?;
    Ok(id)
}

/// What an editor does to a topic.
pub enum Decision {
    Approve { note: Option<TopicText> },
    Decline { reason: TopicText },
    Merge { into: TopicId, note: Option<TopicText> },
    Plan { expected_at: Option<Micros>, note: Option<TopicText> },
    Cover { articles: Vec<ArticleUrl>, note: Option<TopicText> },
}

impl Decision {
    fn target(&self) -> TopicStatus {
        match self {
            Self::Approve { .. } => TopicStatus::Open,
            Self::Decline { .. } => TopicStatus::Declined,
            Self::Merge { .. } => TopicStatus::Merged,
            Self::Plan { .. } => TopicStatus::Planned,
            Self::Cover { .. } => TopicStatus::Covered,
        }
    }

    fn note(&self) -> Option<&str> {
        match self {
            Self::Decline { reason } => Some(reason.as_str()),
            Self::Approve { note } | Self::Merge { note, .. } | Self::Plan { note, .. } | Self::Cover { note, .. } => {
                note.as_ref().map(TopicText::as_str)
            }
        }
    }

    fn action(&self) -> &'static str {
        match self {
            Self::Approve { .. } => "topic.approve",
            Self::Decline { .. } => "topic.decline",
            Self::Merge { .. } => "topic.merge",
            Self::Plan { .. } => "topic.plan",
            Self::Cover { .. } => "topic.cover",
        }
    }
}

#[derive(Serialize)]
struct TopicMail<'a> {
    title: &'a str,
    note: Option<&'a str>,
    url: String,
    other_title: Option<&'a str>,
    articles: &'a [String],
}

/// Applies an editor's decision, records it in the topic's history and the
/// audit log, and enqueues the mail it causes (each at most once, by dedupe key).
/// Returns how many emails were enqueued.
pub async fn decide(ctx: &Context, actor: &Actor, id: TopicId, decision: Decision) -> Result<usize, VotingError> {
    let now = ctx.clock.now();
    let to = decision.target();
    let mut tx = ctx.db.transaction().await?;
    let topic = db::topics::find(&mut *tx, id).await?.ok_or(VotingError::NotFound)?;
    if !topic.status.can_become(to) {
        return Err(VotingError::InvalidMove { from: topic.status, to });
    }
    let mut other_title = None;
    let (merged_into, expected_at) = match &decision {
        Decision::Merge { into, .. } => {
            let target = db::topics::find(&mut *tx, *into).await?.ok_or(VotingError::NotFound)?;
            if target.id == topic.id || !matches!(target.status, TopicStatus::Open | TopicStatus::Planned) {
                return Err(VotingError::InvalidMove { from: topic.status, to });
            }
            // A topic is on at most one round that has not closed; merging must not
            // put the survivor on a second one.
            let (from_round, into_round) = (
                db::rounds::unclosed_round_of(&mut *tx, topic.id).await?,
                db::rounds::unclosed_round_of(&mut *tx, target.id).await?,
            );
            if let (Some(a), Some(b)) = (from_round, into_round)
                && a != b
            {
                return Err(VotingError::InvalidMove { from: topic.status, to });
            }
            db::rounds::merge_topic_votes(&mut tx, topic.id, target.id).await?;
            db::topics::move_followers(&mut tx, topic.id, target.id, now).await?;
            other_title = Some(target.title);
            (Some(target.id), None)
        }
        Decision::Plan { expected_at, .. } => (None, *expected_at),
        _ => (None, None),
    };
    let note = decision.note();
    if !db::topics::set_status(&mut *tx, id, topic.status, to, note, expected_at, merged_into, now).await? {
        return Err(VotingError::InvalidMove { from: topic.status, to });
    }
    if let Decision::Cover { articles, .. } = &decision {
        let start = db::topics::articles(&mut *tx, id).await?.len() as i64;
        for (i, url) in articles.iter().enumerate() {
            db::topics::insert_article(&mut *tx, id, url.as_str(), start + i as i64, now).await?;
        }
    }
    let event =
        TopicEvent { topic_id: id, from: Some(topic.status), to, staff_id: actor.staff_id, member_id: None, note };
    db::topics::insert_event(&mut *tx, &event, now).await?;
    audit(ctx, &mut tx, actor, decision.action(), Some(id.to_string()), note.map(str::to_string)).await?;

    let articles = db::topics::articles(&mut *tx, id).await?;
    let mail = TopicMail {
        title: &topic.title,
        note,
        url: ctx.url(&format!("/topics/{}", merged_into.unwrap_or(id))),
        other_title: other_title.as_deref(),
        articles: &articles,
    };
    let mut sent = 0;
    match &decision {
        Decision::Approve { .. } | Decision::Decline { .. } | Decision::Merge { .. } => {
            if let Some(suggester) = topic.suggested_by
                && let Some(member) = db::members::find_by_id(&mut *tx, suggester).await?
                && let Some(email) = &member.email
            {
                let template = format!("topic_{}", to.as_str());
                let key = format!("topic-{}:{id}", to.as_str());
                sent += usize::from(
                    outbox::enqueue(ctx, &mut tx, &template, member.locale, email.as_str(), &mail, Some(key)).await?,
                );
            }
        }
        Decision::Cover { .. } => {
            for r in db::topics::voters_and_followers(&mut *tx, id).await? {
                let key = format!("topic-covered:{id}:{}", r.member_id);
                sent += usize::from(
                    outbox::enqueue(ctx, &mut tx, "topic_covered", r.locale, r.email.as_str(), &mail, Some(key))
                        .await?,
                );
            }
        }
        Decision::Plan { .. } => {}
    }
    tx.changed(Change::Board);
    tx.commit().await.map_err(DbError::from)?;
    if sent > 0 {
        ctx.mail_wakeup.notify_one();
    }
    tracing::info!(topic.id = %id, topic.from = %topic.status, topic.to = %to, mail.enqueued = sent, "topic decided");
    Ok(sent)
}

pub async fn follow(ctx: &Context, member: MemberId, topic: TopicId, on: bool) -> Result<(), VotingError> {
    let t = db::topics::find(ctx.db.read(), topic).await?.ok_or(VotingError::NotFound)?;
    if !t.status.is_public() {
        return Err(VotingError::NotFound);
    }
    if on {
        db::topics::follow(&mut *ctx.db.write().await?, topic, member, ctx.clock.now()).await?;
    } else {
        db::topics::unfollow(&mut *ctx.db.write().await?, topic, member).await?;
    }
    Ok(())
}

// --- rounds ---

pub struct RoundInput {
    pub title: TopicText,
    pub description: Option<TopicText>,
    pub opens_at: Micros,
    pub closes_at: Micros,
    pub max_votes: i64,
    pub live_tallies: bool,
    pub topics: Vec<TopicId>,
}

pub const MAX_VOTES_LIMIT: i64 = 50;

pub async fn create_round(ctx: &Context, actor: &Actor, input: &RoundInput) -> Result<RoundId, VotingError> {
    let now = ctx.clock.now();
    if input.closes_at <= input.opens_at {
        return Err(VotingError::InvalidRound("error-round-window"));
    }
    if input.closes_at <= now {
        return Err(VotingError::InvalidRound("error-round-in-past"));
    }
    if !(1..=MAX_VOTES_LIMIT).contains(&input.max_votes) {
        return Err(VotingError::InvalidRound("error-round-max-votes"));
    }
    if input.topics.is_empty() {
        return Err(VotingError::InvalidRound("error-round-no-topics"));
    }
    let mut tx = ctx.db.transaction().await?;
    let round = Round {
        id: RoundId::new(),
        title: input.title.as_str().to_string(),
        description: input.description.as_ref().map(|d| d.as_str().to_string()).unwrap_or_default(),
        opens_at: input.opens_at,
        closes_at: input.closes_at,
        max_votes: input.max_votes,
        live_tallies: input.live_tallies,
        closed_at: None,
        voters: None,
    };
    db::rounds::insert(&mut *tx, &round, actor.staff_id, now).await?;
    for (position, topic_id) in input.topics.iter().enumerate() {
        let topic = db::topics::find(&mut *tx, *topic_id).await?.ok_or(VotingError::NotFound)?;
        if topic.status != TopicStatus::Open {
            return Err(VotingError::InvalidRound("error-round-topic-not-open"));
        }
        if db::rounds::unclosed_round_of(&mut *tx, *topic_id).await?.is_some() {
            return Err(VotingError::InvalidRound("error-round-topic-busy"));
        }
        db::rounds::add_topic(&mut *tx, round.id, *topic_id, position as i64).await?;
    }
    let detail = format!("{} topics, max {} votes", input.topics.len(), input.max_votes);
    audit(ctx, &mut tx, actor, "round.create", Some(round.id.to_string()), Some(detail)).await?;
    tx.changed(Change::Board);
    tx.commit().await.map_err(DbError::from)?;
    tracing::info!(round.id = %round.id, "round created");
    Ok(round.id)
}

// --- voting ---

/// Whether the member may vote now, and the weight their vote would carry;
/// reused for a few seconds (see [`super::cache::ELIGIBILITY_TTL`]), as every
/// vote and the topics page ([`ballot`]) ask.
pub async fn eligibility(ctx: &Context, member: &Member) -> Result<Result<i64, Refusal>, VotingError> {
    let now = ctx.clock.now();
    if let Some(answer) = ctx.caches.eligibility.get(&member.id, now) {
        return Ok(answer);
    }
    let answer = eligibility_now(ctx, member).await?;
    ctx.caches.eligibility.put(now, member.id, answer);
    Ok(answer)
}

async fn eligibility_now(ctx: &Context, member: &Member) -> Result<Result<i64, Refusal>, VotingError> {
    eligibility_given(ctx, billing::standing_of(ctx, member).await?).await
}

async fn eligibility_given(ctx: &Context, standing: billing::Standing) -> Result<Result<i64, Refusal>, VotingError> {
    let settings = settings(ctx).await?;
    let now = ctx.clock.now();
    let first_paid = standing.subscription.as_ref().and_then(|s| s.first_paid_at);
    if settings.eligibility == Eligibility::Patrons {
        match standing.status {
            MemberStatus::Lapsed => return Ok(Err(Refusal::Lapsed)),
            MemberStatus::Free => return Ok(Err(Refusal::PatronsOnly)),
            MemberStatus::Patron | MemberStatus::PastDue if first_paid.is_none() => {
                return Ok(Err(Refusal::PaymentNotCleared));
            }
            _ => {}
        }
    }
    let tier_weight = standing.tier.as_ref().filter(|_| standing.has_access).map(|t| t.vote_weight);
    let paying_months = first_paid.filter(|_| standing.has_access).map(|t| (now - t).max(0) / MONTH + 1);
    let weight = match settings.weight {
        // Comped members have no payments: they count as one month.
        WeightMode::Tenure if standing.status == MemberStatus::Comped => 1,
        _ => settings.weight_of(tier_weight, paying_months),
    };
    Ok(Ok(weight))
}

/// Casts a vote (see [`super::vote_batch`] for how it is checked and stored).
pub async fn vote(ctx: &Context, member: &Member, round: RoundId, topic: TopicId) -> Result<(), VotingError> {
    let weight = eligibility(ctx, member).await?.map_err(VotingError::Refused)?;
    let vote = NewVote { round_id: round, topic_id: topic, member_id: member.id, weight };
    super::vote_batch::cast(ctx, vote, ctx.clock.now()).await
}

/// Withdraws a vote while the round is open; the member gets it back.
pub async fn withdraw(ctx: &Context, member: MemberId, round: RoundId, topic: TopicId) -> Result<(), VotingError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.transaction().await?;
    db::rounds::lock_open(&mut tx, ctx.db.backend(), round, now)
        .await?
        .ok_or(VotingError::Refused(Refusal::RoundNotOpen))?;
    if !db::rounds::delete_vote(&mut *tx, round, topic, member).await? {
        return Err(VotingError::Refused(Refusal::NotVoted));
    }
    db::rounds::return_ballot(&mut *tx, &round.to_string(), &member.to_string()).await?;
    tx.changed(Change::Votes(member));
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}

// --- closing rounds ---

/// One line of a round's ranking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ranked {
    pub topic_id: String,
    pub rank: i64,
    pub weight: i64,
    pub votes: i64,
}

/// Orders a ballot by weighted total, then raw count, then earliest first vote;
/// topics without votes follow in ballot order. Ranks are 1-based and distinct.
pub fn rank(ballot: &[String], tallies: &[Tally]) -> Vec<Ranked> {
    let mut voted: Vec<&Tally> = tallies.iter().filter(|t| ballot.contains(&t.topic_id)).collect();
    voted.sort_by(|a, b| {
        b.weight.cmp(&a.weight).then(b.votes.cmp(&a.votes)).then(a.first_vote_at.cmp(&b.first_vote_at))
    });
    let mut out: Vec<Ranked> = voted
        .iter()
        .map(|t| Ranked { topic_id: t.topic_id.clone(), rank: 0, weight: t.weight, votes: t.votes })
        .collect();
    for topic in ballot {
        if !out.iter().any(|r| &r.topic_id == topic) {
            out.push(Ranked { topic_id: topic.clone(), rank: 0, weight: 0, votes: 0 });
        }
    }
    for (i, r) in out.iter_mut().enumerate() {
        r.rank = i as i64 + 1;
    }
    out
}

/// Closes every round whose time is up and records its final ranking. Safe to
/// run on every instance at once: the conditional update lets exactly one win.
pub async fn close_due_rounds(ctx: &Context, worker: &str) -> Result<usize, VotingError> {
    let mut closed = 0;
    for round in db::rounds::due_to_close(ctx.db.read(), ctx.clock.now()).await? {
        let mut tx = ctx.db.transaction().await?;
        if !db::rounds::mark_closed(&mut *tx, round, ctx.clock.now(), worker).await? {
            continue;
        }
        record_ranking(&mut tx, round).await?;
        tx.changed(Change::Board);
        tx.commit().await.map_err(DbError::from)?;
        closed += 1;
        tracing::info!(round.id = %round, "round closed");
    }
    Ok(closed)
}

pub(crate) async fn record_ranking(tx: &mut Tx, round: RoundId) -> Result<(), VotingError> {
    let ballot: Vec<String> = db::rounds::ballot(&mut **tx, round).await?.into_iter().map(|b| b.topic_id).collect();
    let tallies = db::rounds::tallies(&mut **tx, round).await?;
    for r in rank(&ballot, &tallies) {
        db::rounds::record_result(&mut **tx, round, &r.topic_id, r.rank, r.weight, r.votes).await?;
    }
    let voters = db::rounds::count_voters(&mut **tx, round).await?;
    db::rounds::set_voters(&mut **tx, round, voters).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(topic: &str, weight: i64, votes: i64, first: i64) -> Tally {
        Tally { topic_id: topic.into(), weight, votes, first_vote_at: first }
    }

    #[test]
    fn ranking_breaks_ties_by_count_then_earliest_vote() {
        let ballot: Vec<String> = ["a", "b", "c", "d", "e"].iter().map(|s| s.to_string()).collect();
        let tallies = [tally("a", 10, 3, 50), tally("b", 12, 2, 60), tally("c", 10, 5, 70), tally("d", 10, 3, 40)];
        let ranked = rank(&ballot, &tallies);
        let order: Vec<&str> = ranked.iter().map(|r| r.topic_id.as_str()).collect();
        assert_eq!(order, ["b", "c", "d", "a", "e"]);
        assert_eq!(ranked.iter().map(|r| r.rank).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
        assert_eq!((ranked[4].weight, ranked[4].votes), (0, 0));
    }
}
