//! Votes are written in batches: a vote waits for the write turn, and whoever
//! gets it casts every vote waiting by then in one transaction. On SQLite, where
//! writers take turns, a busy round then costs one BEGIN and one COMMIT per batch
//! instead of per vote, and the turn changes hands once per batch. (On
//! PostgreSQL there is no turn to wait for, so a vote is mostly cast on its own.)
//!
//! Each vote in a batch gets the answer it would have got alone: the checks run
//! vote by vote inside the transaction, and a vote refused after it took a place
//! on the ballot gives it back. Nobody is answered before the commit.
use std::sync::Mutex;

use tokio::sync::oneshot;

use super::Context;
use super::voting::{Refusal, VotingError};
use crate::clock::Micros;
use crate::db::rounds::NewVote;
use crate::db::{self, DbError, Tx, WriteTurn};

/// A vote waiting to be cast, and where its answer goes.
struct Waiting {
    vote: NewVote,
    at: Micros,
    answer: oneshot::Sender<Result<(), VotingError>>,
}

/// The votes waiting for the write turn.
#[derive(Default)]
pub struct VoteQueue {
    waiting: Mutex<Vec<Waiting>>,
}

impl std::fmt::Debug for VoteQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VoteQueue").finish_non_exhaustive()
    }
}

impl VoteQueue {
    fn push(&self, waiting: Waiting) {
        if let Ok(mut queue) = self.waiting.lock() {
            queue.push(waiting);
        }
    }

    fn take(&self) -> Vec<Waiting> {
        self.waiting.lock().map(|mut queue| std::mem::take(&mut *queue)).unwrap_or_default()
    }
}

/// Casts `vote` at `at`, in a batch with the votes waiting beside it.
pub async fn cast(ctx: &Context, vote: NewVote, at: Micros) -> Result<(), VotingError> {
    let (answer, mut answered) = oneshot::channel();
    ctx.votes.push(Waiting { vote, at, answer });
    let answer = tokio::select! {
        biased;
        answer = &mut answered => Some(answer),
        turn = ctx.db.write_turn() => {
            // Whoever takes the queue casts this vote: this request, or one that
            // took it earlier (its batch is being cast, and then it answers).
            let batch = ctx.votes.take();
            if !batch.is_empty() {
                // A task of its own: a reader who gives up waiting must not cancel
                // the batch half-way for everyone in it.
                let ctx = ctx.clone();
                let _ = tokio::spawn(async move { cast_batch(&ctx, turn, batch).await }).await;
            }
            None
        }
    };
    let answer = match answer {
        Some(answer) => answer,
        None => answered.await,
    };
    answer.unwrap_or_else(|_| Err(DbError::other("the batch with this vote was not cast").into()))
}

async fn cast_batch(ctx: &Context, turn: WriteTurn, mut batch: Vec<Waiting>) {
    // On PostgreSQL, batches running side by side lock ballots in one order.
    batch.sort_by_key(|w| w.vote.member_id);
    metrics::histogram!("vote_batch_size").record(batch.len() as f64);
    let answers: Vec<Result<(), VotingError>> = match cast_all(ctx, turn, &batch).await {
        Ok(answers) => answers.into_iter().map(|a| a.map_err(VotingError::Refused)).collect(),
        Err(e) => {
            tracing::error!(error = %e, votes = batch.len(), "a batch of votes failed; none was stored");
            batch.iter().map(|_| Err(DbError::other("the vote could not be stored; please try again").into())).collect()
        }
    };
    metrics::counter!("votes_cast_total").increment(answers.iter().filter(|a| a.is_ok()).count() as u64);
    for (waiting, answer) in batch.into_iter().zip(answers) {
        let _ = waiting.answer.send(answer);
    }
}

/// Every vote's answer, once all are committed.
async fn cast_all(ctx: &Context, turn: WriteTurn, batch: &[Waiting]) -> Result<Vec<Result<(), Refusal>>, DbError> {
    let mut tx = ctx.db.begin_write_in(turn).await?;
    let mut answers = Vec::with_capacity(batch.len());
    for waiting in batch {
        answers.push(cast_one(ctx, &mut tx, &waiting.vote, waiting.at).await?);
    }
    tx.commit().await?;
    Ok(answers)
}

/// One vote inside the batch's transaction. The round's state, the member's
/// remaining votes and the uniqueness of (round, topic, member) are all checked
/// here, so concurrent requests can neither exceed the maximum nor double a vote,
/// and a vote never lands in a round the closing job has counted.
async fn cast_one(ctx: &Context, tx: &mut Tx, vote: &NewVote, at: Micros) -> Result<Result<(), Refusal>, DbError> {
    let backend = ctx.db.backend();
    let (round, topic, member) = (vote.round_id, vote.topic_id, vote.member_id);
    if !db::rounds::take_vote(tx, backend, round, topic, member, at).await? {
        // Refused: find out why (the same checks, one at a time).
        let refusal = if db::rounds::lock_open(tx, backend, round, at).await?.is_none() {
            Refusal::RoundNotOpen
        } else if db::rounds::lock_open_for_topic(tx, backend, round, topic, at).await?.is_none() {
            Refusal::NotOnBallot
        } else if db::rounds::has_voted(&mut **tx, round, topic, member).await? {
            Refusal::AlreadyVoted
        } else {
            Refusal::NoVotesLeft
        };
        return Ok(Err(refusal));
    }
    if !db::rounds::insert_vote(&mut **tx, vote, at).await? {
        db::rounds::return_ballot(&mut **tx, &round.to_string(), &member.to_string()).await?;
        return Ok(Err(Refusal::AlreadyVoted));
    }
    super::voting::forget_votes(ctx, tx, member);
    Ok(Ok(()))
}
