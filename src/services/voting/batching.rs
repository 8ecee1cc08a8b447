//! Votes are written in batches: a vote waits for its turn to cast, and whoever
//! gets the turn casts every vote waiting by then, in one transaction and a few
//! statements for the whole batch (the round, the ballots, the votes already
//! cast, then the new votes and ballots), however many votes it holds. One batch
//! is cast at a time per instance, so the votes that arrive meanwhile form the
//! next one. On SQLite, where writers take turns, the write turn changes hands
//! once per batch.
//!
//! Each vote in a batch gets the answer it would have got alone: the ballots are
//! locked and read inside the transaction and the votes are checked one by one,
//! in order, against what the batch has taken so far. Nobody is answered before
//! the commit.
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use super::{Refusal, VotingError};
use crate::clock::Micros;
use crate::db::rounds::NewVote;
use crate::db::{self, Change, DbError, Tx, WriteTurn};
use crate::domain::{MemberId, RoundId, TopicId};
use crate::services::Context;

/// A member's vote for a topic in a round, as asked: whether they may cast it,
/// and with what weight, is decided when it is cast.
#[derive(Clone, Copy, Debug)]
pub struct AskedVote {
    pub round_id: RoundId,
    pub topic_id: TopicId,
    pub member_id: MemberId,
}

/// A vote waiting to be cast, and where its answer goes.
struct Waiting {
    vote: AskedVote,
    at: Micros,
    answer: oneshot::Sender<Result<(), VotingError>>,
}

/// The votes waiting for their turn to be cast.
#[derive(Default)]
pub struct VoteQueue {
    waiting: Mutex<Vec<Waiting>>,
    /// Held by the batch being cast.
    casting: Arc<tokio::sync::Mutex<()>>,
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
pub async fn cast(ctx: &Context, vote: AskedVote, at: Micros) -> Result<(), VotingError> {
    let (answer, mut answered) = oneshot::channel();
    ctx.votes.push(Waiting { vote, at, answer });
    let answer = tokio::select! {
        biased;
        answer = &mut answered => Some(answer),
        turn = async {
            let casting = ctx.votes.casting.clone().lock_owned().await;
            (casting, ctx.db.write_turn().await)
        } => {
            let (casting, turn) = turn;
            // Whoever takes the queue casts this vote: this request, or one that
            // took it earlier (its batch is being cast, and then it answers).
            let batch = ctx.votes.take();
            if !batch.is_empty() {
                // A task of its own: a reader who gives up waiting must not cancel
                // the batch half-way for everyone in it.
                let ctx = ctx.clone();
                let _ = tokio::spawn(async move {
                    cast_batch(&ctx, turn, batch).await;
                    drop(casting);
                })
                .await;
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

/// Votes per statement: well under both databases' limits on bound values.
const CHUNK: usize = 200;

/// Every vote's answer, once all are committed.
async fn cast_all(ctx: &Context, turn: WriteTurn, batch: &[Waiting]) -> Result<Vec<Result<(), Refusal>>, DbError> {
    let mut tx = ctx.db.transaction_in_turn(turn).await?;
    let mut answers = vec![Ok(()); batch.len()];
    let mut rounds: Vec<RoundId> = batch.iter().map(|w| w.vote.round_id).collect();
    rounds.sort();
    rounds.dedup();
    for round in rounds {
        let in_round: Vec<usize> = (0..batch.len()).filter(|&i| batch[i].vote.round_id == round).collect();
        for chunk in in_round.chunks(CHUNK) {
            cast_in_round(ctx, &mut tx, round, batch, chunk, &mut answers).await?;
        }
    }
    tx.commit().await?;
    Ok(answers)
}

/// Casts the votes `batch[i]` for `i` in `chunk`, all in `round`, writing each
/// one's answer to `answers[i]`. The round's state, each member's remaining votes
/// and the uniqueness of (round, topic, member) are checked under the locks taken
/// here, so concurrent requests can neither exceed the maximum nor double a vote,
/// and a vote never lands in a round the closing job has counted.
async fn cast_in_round(
    ctx: &Context,
    tx: &mut Tx,
    round: RoundId,
    batch: &[Waiting],
    chunk: &[usize],
    answers: &mut [Result<(), Refusal>],
) -> Result<(), DbError> {
    let Some(state) = db::rounds::lock_for_votes(tx, ctx.db.backend(), round).await? else {
        chunk.iter().for_each(|&i| answers[i] = Err(Refusal::RoundNotOpen));
        return Ok(());
    };
    // Votes the round refuses take no ballot: a refused vote stores nothing.
    let mut candidates = Vec::with_capacity(chunk.len());
    for &i in chunk {
        let Waiting { vote, at, .. } = &batch[i];
        answers[i] = if !state.open_at(*at) {
            Err(Refusal::RoundNotOpen)
        } else if !state.open_topics.contains(&vote.topic_id) {
            Err(Refusal::NotOnBallot)
        } else {
            candidates.push(i);
            Ok(())
        };
    }
    let mut members: Vec<MemberId> = candidates.iter().map(|&i| batch[i].vote.member_id).collect();
    members.dedup();
    if members.is_empty() {
        return Ok(());
    }
    // Whether each may vote, and with what weight, is decided here, from what the
    // transaction reads: a patronage that ended a moment ago (on any instance)
    // must not vote, whatever a page's cached answer said. A refused vote takes
    // no ballot.
    // The rules and the tiers' weights too: a setting or weight changed on
    // another instance a moment ago counts.
    let rules = super::ballot::Rules {
        settings: super::settings::settings_in(&mut **tx).await?,
        tier_weights: db::tiers::vote_weights(&mut **tx).await?,
    };
    let mut standings = db::subscriptions::standings_of(tx, &members).await?;
    let mut weights: std::collections::HashMap<MemberId, i64> = Default::default();
    for member in &members {
        let (subscriptions, comped) = standings.remove(member).unwrap_or_default();
        match super::ballot::eligibility_from(ctx, &rules, subscriptions, comped) {
            Ok(weight) => {
                weights.insert(*member, weight);
            }
            Err(refusal) => {
                for &i in candidates.iter().filter(|&&i| batch[i].vote.member_id == *member) {
                    answers[i] = Err(refusal);
                }
            }
        }
    }
    candidates.retain(|&i| weights.contains_key(&batch[i].vote.member_id));
    members.retain(|m| weights.contains_key(m));
    if members.is_empty() {
        return Ok(());
    }
    let mut used = db::rounds::lock_ballots(tx, round, &members).await?;
    let mut voted = db::rounds::votes_of(tx, round, &members).await?;
    let mut accepted = Vec::new();
    for i in candidates {
        let vote = &batch[i].vote;
        let key = (vote.member_id, vote.topic_id);
        let used = used.entry(vote.member_id).or_default();
        if voted.contains(&key) {
            answers[i] = Err(Refusal::AlreadyVoted);
        } else if *used >= state.max_votes {
            answers[i] = Err(Refusal::NoVotesLeft);
        } else {
            *used += 1;
            voted.insert(key);
            accepted.push(i);
        }
    }
    if accepted.is_empty() {
        return Ok(());
    }
    let weighed: Vec<NewVote> = accepted
        .iter()
        .map(|&i| {
            let v = &batch[i].vote;
            // Only members with a weight keep candidates (above).
            let weight = weights.get(&v.member_id).copied().unwrap_or_default();
            NewVote { round_id: v.round_id, topic_id: v.topic_id, member_id: v.member_id, weight }
        })
        .collect();
    let new: Vec<(&NewVote, Micros)> = weighed.iter().zip(&accepted).map(|(v, &i)| (v, batch[i].at)).collect();
    let stored = db::rounds::insert_votes(tx, &new).await?;
    let mut changed = Vec::new();
    for &i in &accepted {
        let vote = &batch[i].vote;
        if !stored.contains(&(vote.member_id, vote.topic_id)) {
            // Cast meanwhile by a transaction this one could not see (another
            // instance, on PostgreSQL): that vote stands, this one gives its place back.
            answers[i] = Err(Refusal::AlreadyVoted);
            *used.entry(vote.member_id).or_default() -= 1;
        }
        changed.push(vote.member_id);
    }
    changed.dedup();
    let ballots: Vec<(MemberId, i64)> = changed.iter().map(|m| (*m, used.get(m).copied().unwrap_or(0))).collect();
    db::rounds::set_ballots(tx, round, &ballots).await?;
    for member in changed {
        tx.changed(Change::Votes(member));
    }
    Ok(())
}
