//! Creating voting rounds, the board of rounds readers see, and staff's export
//! of a round's votes.
use std::sync::Arc;

use super::VotingError;
use crate::clock::Micros;
use crate::db::{self, Change, DbError};
use crate::domain::round::Voter;
use crate::domain::{Round, RoundId, TopicId, TopicStatus, TopicText};
use crate::services::Context;
use crate::services::audit::{self, Actor};
use crate::services::cache::Board;

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
    audit::record(ctx, &mut tx, actor, "round.create", Some(round.id.to_string()), Some(detail)).await?;
    tx.changed(Change::Board);
    tx.commit().await.map_err(DbError::from)?;
    tracing::info!(round.id = %round.id, "round created");
    Ok(round.id)
}

/// Rounds that have not closed with their ballots, and the open and planned
/// topics: the same for every visitor, so cached for a second.
pub async fn board(ctx: &Context) -> Result<Arc<Board>, VotingError> {
    let board = ctx
        .caches
        .board
        .get_or_load(&ctx.clock, (), || async {
            let rounds = ctx.db.read_hot(async |conn| db::rounds::list_unclosed_with_ballots(conn).await).await?;
            let pool = ctx.db.read();
            Ok::<_, DbError>(Arc::new(Board {
                rounds,
                open_topics: db::topics::list_by_status(pool, TopicStatus::Open, true, 50).await?,
                planned_topics: db::topics::list_by_status(pool, TopicStatus::Planned, true, 20).await?,
            }))
        })
        .await?;
    Ok(board)
}

/// Every vote of a round with its voter, for staff's CSV export; the export
/// itself is written to the audit log in the same transaction that reads it.
pub async fn export_votes(ctx: &Context, actor: &Actor, round: RoundId) -> Result<(Round, Vec<Voter>), VotingError> {
    let mut tx = ctx.db.transaction().await?;
    let round = db::rounds::find(&mut *tx, round).await?.ok_or(VotingError::NotFound)?;
    let voters = db::rounds::voters(&mut *tx, round.id, None).await?;
    audit::record(ctx, &mut tx, actor, "round.export_votes", Some(round.id.to_string()), None).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok((round, voters))
}
