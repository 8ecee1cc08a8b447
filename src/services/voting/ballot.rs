//! Who may vote and with what weight, casting and withdrawing votes, and what a
//! member voted for.
use std::sync::Arc;

use super::{Refusal, VotingError};
use crate::clock::{DAY, Micros};
use crate::db::rounds::NewVote;
use crate::db::{self, DbError, Tx};
use crate::domain::{Eligibility, Member, MemberId, MemberStatus, RoundId, Subscription, TopicId, WeightMode};
use crate::services::Context;
use crate::services::billing;
use crate::services::cache::MemberVotes;

/// Months of tenure are counted in 30-day steps.
const MONTH: Micros = 30 * DAY;

/// Whether the member may vote now, and the weight their vote would carry;
/// reused for a few seconds (see [`crate::services::cache::ELIGIBILITY_TTL`]), as the
/// topics page and every vote ask.
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

/// Remembers the member's eligibility from subscriptions read with their session
/// (see [`crate::services::sessions::member_for_cookie`]), so that their next page or vote
/// need not read them again.
pub(crate) async fn note_eligibility(
    ctx: &Context,
    member: &Member,
    subscriptions: Vec<Subscription>,
    read_at: Micros,
) -> Result<(), VotingError> {
    let standing = billing::standing_from(ctx, subscriptions, member.comped_until).await?;
    let answer = eligibility_given(ctx, standing).await?;
    ctx.caches.eligibility.put(read_at, member.id, answer);
    Ok(())
}

async fn eligibility_given(ctx: &Context, standing: billing::Standing) -> Result<Result<i64, Refusal>, VotingError> {
    let settings = super::settings(ctx).await?;
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
    super::batching::cast(ctx, vote, ctx.clock.now()).await
}

/// Withdraws a vote while the round is open; the member gets it back.
pub async fn withdraw(ctx: &Context, member: MemberId, round: RoundId, topic: TopicId) -> Result<(), VotingError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin_write().await?;
    db::rounds::lock_open(&mut tx, ctx.db.backend(), round, now)
        .await?
        .ok_or(VotingError::Refused(Refusal::RoundNotOpen))?;
    if !db::rounds::delete_vote(&mut *tx, round, topic, member).await? {
        return Err(VotingError::Refused(Refusal::NotVoted));
    }
    db::rounds::return_ballot(&mut *tx, &round.to_string(), &member.to_string()).await?;
    forget_votes(ctx, &mut tx, member);
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}

/// What `member` voted for in each of `rounds` (the rounds the topics page
/// shows), reused for a few seconds unless `fresh` (see [`crate::services::cache::MEMBER_VOTES_TTL`]).
pub async fn votes_in(
    ctx: &Context,
    member: MemberId,
    rounds: &[RoundId],
    fresh: bool,
) -> Result<Arc<MemberVotes>, VotingError> {
    let now = ctx.clock.now();
    if !fresh
        && let Some(votes) = ctx.caches.member_votes.get(&member, now)
        && votes.iter().map(|(round, _)| round).eq(rounds.iter())
    {
        return Ok(votes);
    }
    let votes = ctx.db.read(async |conn| db::rounds::member_votes_in(conn, rounds, member).await).await?;
    let votes: MemberVotes =
        votes.into_iter().map(|(round, topics)| (round, topics.iter().map(ToString::to_string).collect())).collect();
    let votes = Arc::new(votes);
    ctx.caches.member_votes.put(now, member, votes.clone());
    Ok(votes)
}

/// Forgets the cached votes of `member` once `tx` commits.
pub(super) fn forget_votes(ctx: &Context, tx: &mut Tx, member: MemberId) {
    let caches = ctx.caches.clone();
    tx.after_commit(move || caches.member_votes.remove(&member));
}
