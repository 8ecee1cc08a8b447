//! What the voting pages show, for readers and for staff: each page's data read
//! in a fixed number of statements, whatever the number of topics or rounds.
//! Who may see what (a suggestion waiting for moderation, tallies of a running
//! round) is decided here, not by the handlers.
use std::collections::{HashMap, HashSet};

use super::VotingError;
use crate::db;
use crate::db::topics::{Commissioned, HistoryEntry};
use crate::domain::round::{Tally, Voter, rank};
use crate::domain::{Article, BallotEntry, Member, MemberId, Round, RoundId, RoundPhase, Topic, TopicId, TopicStatus};
use crate::services::Context;

/// A topic on a round's ballot as the viewer may see it.
#[derive(Clone, Debug)]
pub struct Standing {
    pub entry: BallotEntry,
    pub weight: i64,
    pub votes: i64,
    /// The final rank, once the round is counted.
    pub rank: Option<i64>,
}

/// A round as the viewer may see it: entries in ranking order when tallies are
/// shown (final or live, one ordering for both), else in ballot order.
#[derive(Clone, Debug)]
pub struct RoundStanding {
    pub round: Round,
    pub phase: RoundPhase,
    pub tallies_shown: bool,
    pub entries: Vec<Standing>,
}

/// The standing of each round: final results once counted; the live tallies
/// while running when the round makes them public (or `for_staff`); otherwise
/// the ballot without numbers. Live tallies of all the rounds come in one statement.
pub async fn standings(
    ctx: &Context,
    rounds: &[(&Round, &[BallotEntry])],
    for_staff: bool,
) -> Result<Vec<RoundStanding>, VotingError> {
    let now = ctx.clock.now();
    let live: Vec<RoundId> = rounds
        .iter()
        .filter(|(r, _)| r.closed_at.is_none() && (for_staff || r.tallies_public(now)))
        .map(|(r, _)| r.id)
        .collect();
    let mut tallies =
        if live.is_empty() { HashMap::new() } else { db::rounds::tallies_of(ctx.db.read(), &live).await? };
    Ok(rounds
        .iter()
        .map(|(round, ballot)| {
            let phase = round.phase(now);
            if phase == RoundPhase::Closed {
                let mut entries: Vec<Standing> = ballot
                    .iter()
                    .map(|b| Standing {
                        weight: b.final_weight.unwrap_or(0),
                        votes: b.final_votes.unwrap_or(0),
                        rank: b.final_rank,
                        entry: b.clone(),
                    })
                    .collect();
                entries.sort_by_key(|e| e.rank.unwrap_or(i64::MAX));
                return RoundStanding { round: (*round).clone(), phase, tallies_shown: true, entries };
            }
            match tallies.remove(&round.id) {
                Some(t) => live_standing(round, ballot, &t, phase),
                None if live.contains(&round.id) => live_standing(round, ballot, &[], phase),
                None => RoundStanding {
                    round: (*round).clone(),
                    phase,
                    tallies_shown: false,
                    entries: ballot
                        .iter()
                        .map(|b| Standing { entry: b.clone(), weight: 0, votes: 0, rank: None })
                        .collect(),
                },
            }
        })
        .collect())
}

fn live_standing(round: &Round, ballot: &[BallotEntry], tallies: &[Tally], phase: RoundPhase) -> RoundStanding {
    let ids: Vec<String> = ballot.iter().map(|b| b.topic_id.clone()).collect();
    let entries = rank(&ids, tallies)
        .into_iter()
        .filter_map(|r| {
            let entry = ballot.iter().find(|b| b.topic_id == r.topic_id)?.clone();
            Some(Standing { entry, weight: r.weight, votes: r.votes, rank: None })
        })
        .collect();
    RoundStanding { round: round.clone(), phase, tallies_shown: true, entries }
}

/// A round with its ballot.
pub async fn round(ctx: &Context, id: RoundId) -> Result<(Round, Vec<BallotEntry>), VotingError> {
    let pool = ctx.db.read();
    let round = db::rounds::find(pool, id).await?.ok_or(VotingError::NotFound)?;
    let ballot = db::rounds::ballot(pool, round.id).await?;
    Ok((round, ballot))
}

/// The topics (as text ids) a member voted for in a round; none for a visitor.
pub async fn voted_in(ctx: &Context, round: RoundId, member: Option<MemberId>) -> Result<HashSet<String>, VotingError> {
    Ok(match member {
        Some(m) => db::rounds::member_votes(ctx.db.read(), round, m).await?.iter().map(ToString::to_string).collect(),
        None => HashSet::new(),
    })
}

/// Every round, the latest first.
pub async fn rounds(ctx: &Context, limit: i64) -> Result<Vec<Round>, VotingError> {
    Ok(db::rounds::list_recent(ctx.db.read(), limit).await?)
}

/// A round for staff: its standing with live tallies, every vote with its voter,
/// and how many members voted.
pub struct StaffRound {
    pub standing: RoundStanding,
    pub voters: Vec<Voter>,
    pub turnout: i64,
}

pub async fn staff_round(ctx: &Context, id: RoundId) -> Result<StaffRound, VotingError> {
    let (round, ballot) = round(ctx, id).await?;
    let standing = standings(ctx, &[(&round, &ballot)], true).await?.remove(0);
    let pool = ctx.db.read();
    Ok(StaffRound {
        voters: db::rounds::voters(pool, round.id, None).await?,
        turnout: db::rounds::count_voters(pool, round.id).await?,
        standing,
    })
}

/// Open topics on no round that has not closed: what a new round may hold.
pub async fn new_round_choices(ctx: &Context) -> Result<Vec<Topic>, VotingError> {
    Ok(db::topics::list_open_off_ballot(ctx.db.read(), 500).await?)
}

/// A topic's public page.
pub struct TopicPage {
    pub topic: Topic,
    pub following: bool,
    pub history: Vec<HistoryEntry>,
    pub articles: Vec<Article>,
    /// The round not closed yet that has it on its ballot.
    pub round: Option<RoundId>,
}

/// What a reader asking for a topic gets.
pub enum TopicLookup {
    Page(Box<TopicPage>),
    /// Merged into another topic: show that one.
    MergedInto(TopicId),
}

/// A topic's page for `viewer`. A suggestion waiting for moderation (or
/// declined before it was public) is visible to the member who made it alone.
pub async fn topic(ctx: &Context, id: TopicId, viewer: Option<MemberId>) -> Result<TopicLookup, VotingError> {
    let pool = ctx.db.read();
    let topic = db::topics::find(pool, id).await?.ok_or(VotingError::NotFound)?;
    if let (TopicStatus::Merged, Some(into)) = (topic.status, topic.merged_into) {
        return Ok(TopicLookup::MergedInto(into));
    }
    if !topic.status.is_public() && (topic.suggested_by.is_none() || topic.suggested_by != viewer) {
        return Err(VotingError::NotFound);
    }
    let following = match viewer {
        Some(m) => db::topics::is_following(pool, topic.id, m).await?,
        None => false,
    };
    Ok(TopicLookup::Page(Box::new(TopicPage {
        following,
        history: db::topics::history(pool, topic.id).await?,
        articles: db::topics::articles(pool, topic.id).await?,
        round: db::rounds::unclosed_round_of(pool, topic.id).await?,
        topic,
    })))
}

/// "You asked, we covered": covered topics, the latest first, with their articles.
pub async fn covered(ctx: &Context, limit: i64) -> Result<Vec<(Topic, Vec<Article>)>, VotingError> {
    let pool = ctx.db.read();
    let mut articles: HashMap<TopicId, Vec<Article>> = HashMap::new();
    for (topic, url) in db::topics::articles_of_covered(pool, limit).await? {
        articles.entry(topic).or_default().push(url);
    }
    let topics = db::topics::list_by_status(pool, TopicStatus::Covered, true, limit).await?;
    Ok(topics
        .into_iter()
        .map(|t| {
            let a = articles.remove(&t.id).unwrap_or_default();
            (t, a)
        })
        .collect())
}

/// "Stories I helped commission": the topics a member voted for, what became of
/// them, and the articles of those covered.
pub async fn commissioned(ctx: &Context, member: MemberId) -> Result<Vec<(Commissioned, Vec<Article>)>, VotingError> {
    let pool = ctx.db.read();
    let mut articles: HashMap<String, Vec<Article>> = HashMap::new();
    for (topic, url) in db::topics::articles_voted_by(pool, member).await? {
        articles.entry(topic.to_string()).or_default().push(url);
    }
    let topics = db::topics::voted_by(pool, member).await?;
    Ok(topics
        .into_iter()
        .map(|c| {
            let a = if c.status == TopicStatus::Covered.as_str() { articles.remove(&c.id) } else { None };
            (c, a.unwrap_or_default())
        })
        .collect())
}

/// The moderation list: topics in `status` with their suggester's address
/// (a queue of suggestions oldest first, other statuses newest first).
pub async fn moderation_list(ctx: &Context, status: TopicStatus) -> Result<Vec<(Topic, Option<String>)>, VotingError> {
    Ok(db::topics::list_by_status_with_suggester(ctx.db.read(), status, status != TopicStatus::Suggested, 500).await?)
}

/// A topic for staff: the suggester in full, its history with staff names,
/// where it could be merged, and who voted for it in its current round.
pub struct StaffTopic {
    pub topic: Topic,
    pub suggester: Option<Member>,
    pub history: Vec<HistoryEntry>,
    pub articles: Vec<Article>,
    pub merge_targets: Vec<Topic>,
    pub round: Option<RoundId>,
    pub voters: Vec<Voter>,
}

pub async fn staff_topic(ctx: &Context, id: TopicId) -> Result<StaffTopic, VotingError> {
    let pool = ctx.db.read();
    let topic = db::topics::find(pool, id).await?.ok_or(VotingError::NotFound)?;
    let suggester = match topic.suggested_by {
        Some(m) => db::members::find_by_id(pool, m).await?,
        None => None,
    };
    let mut merge_targets = Vec::new();
    for status in [TopicStatus::Open, TopicStatus::Planned] {
        merge_targets
            .extend(db::topics::list_by_status(pool, status, true, 500).await?.into_iter().filter(|t| t.id != id));
    }
    let round = db::rounds::unclosed_round_of(pool, id).await?;
    let voters = match round {
        Some(r) => db::rounds::voters(pool, r, Some(id)).await?,
        None => Vec::new(),
    };
    Ok(StaffTopic {
        suggester,
        history: db::topics::history(pool, id).await?,
        articles: db::topics::articles(pool, id).await?,
        merge_targets,
        round,
        voters,
        topic,
    })
}

/// A member's side of voting, for their account page: their votes in each open
/// round (with what is left), and the topics they follow.
#[derive(Debug)]
pub struct MemberVoting {
    pub rounds: Vec<OpenRoundVotes>,
    pub followed: Vec<(TopicId, String, String)>,
}

#[derive(Debug)]
pub struct OpenRoundVotes {
    pub id: RoundId,
    pub title: String,
    pub closes_at: crate::clock::Micros,
    /// (topic id, title) of each topic they voted for.
    pub voted: Vec<(String, String)>,
    pub remaining: i64,
}

pub async fn member_voting(ctx: &Context, member: &Member) -> Result<MemberVoting, VotingError> {
    let now = ctx.clock.now();
    let board = super::rounds::board(ctx).await?;
    let open: Vec<&(Round, Vec<BallotEntry>)> =
        board.rounds.iter().filter(|(r, _)| r.phase(now) == RoundPhase::Open).collect();
    let ids: Vec<RoundId> = open.iter().map(|(r, _)| r.id).collect();
    let ballot = super::ballot::ballot(ctx, member, &ids, false).await?;
    let rounds = open
        .into_iter()
        .map(|(round, entries)| {
            let mine = ballot.votes.iter().find(|(r, _)| *r == round.id).map(|(_, t)| t);
            let voted: Vec<(String, String)> = entries
                .iter()
                .filter(|e| mine.is_some_and(|m| m.contains(&e.topic_id)))
                .map(|e| (e.topic_id.clone(), e.title.clone()))
                .collect();
            let remaining = (round.max_votes - voted.len() as i64).max(0);
            OpenRoundVotes { id: round.id, title: round.title.clone(), closes_at: round.closes_at, voted, remaining }
        })
        .collect();
    let followed = db::topics::followed_by(ctx.db.read(), member.id).await?;
    Ok(MemberVoting { rounds, followed })
}

/// The landing page's window on the votes.
#[derive(Debug, Default)]
pub struct LandingTeaser {
    /// The round open for votes (closing first) and its three leading topics.
    pub open_round: Option<(Round, Vec<BallotEntry>)>,
    /// The story covered last, with its articles.
    pub latest_covered: Option<(Topic, Vec<Article>)>,
}

/// The standing of the round open for votes now that closes first, if any.
async fn open_round_standing(ctx: &Context) -> Result<Option<RoundStanding>, VotingError> {
    let now = ctx.clock.now();
    let board = super::rounds::board(ctx).await?;
    let open = board
        .rounds
        .iter()
        .filter(|(r, _)| r.phase(now) == RoundPhase::Open)
        .min_by_key(|(r, _)| r.closes_at)
        .map(|(r, b)| (r, b.as_slice()));
    Ok(match open {
        Some(round) => standings(ctx, &[round], false).await?.pop(),
        None => None,
    })
}

/// The standing of every round open for votes now, the one closing first
/// first: live tallies only where the round makes them public before it closes.
pub async fn open_rounds(ctx: &Context) -> Result<Vec<RoundStanding>, VotingError> {
    let now = ctx.clock.now();
    let board = super::rounds::board(ctx).await?;
    let mut open: Vec<(&Round, &[BallotEntry])> =
        board.rounds.iter().filter(|(r, _)| r.phase(now) == RoundPhase::Open).map(|(r, b)| (r, b.as_slice())).collect();
    open.sort_by_key(|(r, _)| r.closes_at);
    standings(ctx, &open, false).await
}

pub async fn landing_teaser(ctx: &Context) -> Result<LandingTeaser, VotingError> {
    let open_round = open_round_standing(ctx).await?.map(|standing| {
        let leading = standing.entries.into_iter().take(3).map(|s| s.entry).collect();
        (standing.round, leading)
    });
    let latest_covered = covered(ctx, 1).await?.into_iter().next();
    Ok(LandingTeaser { open_round, latest_covered })
}

/// What the poll box shows: the round open now with its standing, else the
/// last counted round's result; and the latest covered stories.
#[derive(Debug, Default)]
pub struct PollBox {
    pub open: Option<RoundStanding>,
    pub last_closed: Option<RoundStanding>,
    pub covered: Vec<(Topic, Vec<Article>)>,
}

pub async fn poll_box(ctx: &Context) -> Result<PollBox, VotingError> {
    let now = ctx.clock.now();
    let (open, last_closed) = match open_round_standing(ctx).await? {
        Some(standing) => (Some(standing), None),
        None => {
            let closed = rounds(ctx, 20).await?.into_iter().find(|r| r.phase(now) == RoundPhase::Closed);
            match closed {
                Some(r) => {
                    let (round, ballot) = self::round(ctx, r.id).await?;
                    (None, standings(ctx, &[(&round, &ballot)], false).await?.pop())
                }
                None => (None, None),
            }
        }
    };
    Ok(PollBox { open, last_closed, covered: covered(ctx, 3).await? })
}
