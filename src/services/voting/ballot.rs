//! Who may vote and with what weight, casting and withdrawing votes, and what a
//! member voted for.
use std::collections::HashMap;
use std::sync::Arc;

use super::batching::AskedVote;
use super::{Refusal, VotingError};
use crate::clock::{DAY, Micros};
use crate::db::{self, Change, DbError};
use crate::domain::{
    Eligibility, Member, MemberId, MemberStatus, RoundId, TierId, TopicId, VotingSettings, WeightMode,
};
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

async fn eligibility_given(ctx: &Context, standing: billing::Standing) -> Result<Result<i64, Refusal>, VotingError> {
    let settings = super::settings(ctx).await?;
    let tier_weight = standing.tier.as_ref().map(|t| t.vote_weight);
    Ok(decide(&settings, &standing, tier_weight, ctx.clock.now()))
}

/// What a vote's transaction read: the voting rules and every tier's weight.
pub(super) struct Rules {
    pub settings: VotingSettings,
    pub tier_weights: HashMap<TierId, i64>,
}

/// Whether a member may vote, and with what weight, from their subscriptions,
/// comp, the rules and the tiers' weights as read inside the transaction that
/// casts the vote: nothing from a cache.
pub(super) fn eligibility_from(
    ctx: &Context,
    rules: &Rules,
    subscriptions: Vec<crate::domain::Subscription>,
    comped_until: Option<Micros>,
) -> Result<i64, Refusal> {
    let now = ctx.clock.now();
    let standing = billing::standing_without_tier(now, ctx.past_due_grace, subscriptions, comped_until);
    let tier_weight =
        standing.subscription.as_ref().and_then(|s| s.tier_id).and_then(|id| rules.tier_weights.get(&id).copied());
    decide(&rules.settings, &standing, tier_weight, now)
}

/// The one rule: who may vote under `settings`, and with what weight.
fn decide(
    settings: &VotingSettings,
    standing: &billing::Standing,
    tier_weight: Option<i64>,
    now: Micros,
) -> Result<i64, Refusal> {
    let first_paid = standing.subscription.as_ref().and_then(|s| s.first_paid_at);
    if settings.eligibility == Eligibility::Patrons {
        if standing.pause.is_some() {
            return Err(Refusal::Paused);
        }
        match standing.status {
            MemberStatus::Lapsed => return Err(Refusal::Lapsed),
            MemberStatus::Free => return Err(Refusal::PatronsOnly),
            MemberStatus::Patron | MemberStatus::PastDue if first_paid.is_none() => {
                return Err(Refusal::PaymentNotCleared);
            }
            _ => {}
        }
    }
    let tier_weight = tier_weight.filter(|_| standing.has_access);
    let paying_months = first_paid.filter(|_| standing.has_access).map(|t| (now - t).max(0) / MONTH + 1);
    Ok(match settings.weight {
        // Comped members have no payments: they count as one month.
        WeightMode::Tenure if standing.status == MemberStatus::Comped => 1,
        _ => settings.weight_of(tier_weight, paying_months),
    })
}

/// Casts a vote. Whether the member may vote, and the weight, are decided in the
/// transaction that stores it (see [`super::batching`]), never from the cache the
/// pages use: a patronage begun or ended on another instance a moment ago counts.
pub async fn vote(ctx: &Context, member: &Member, round: RoundId, topic: TopicId) -> Result<(), VotingError> {
    let vote = AskedVote { round_id: round, topic_id: topic, member_id: member.id };
    super::batching::cast(ctx, vote, ctx.clock.now()).await
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
