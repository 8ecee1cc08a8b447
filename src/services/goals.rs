//! Per-topic funding goals: staff set one ("this investigation needs €2,000"),
//! readers give once toward it (a gift tagged with the topic), and the topic
//! page, the poll box and the transparency page show how far it has come.
//!
//! Progress is the sum of the ledger rows tagged with the topic in the goal's
//! currency, so a refund or a lost dispute of such a gift takes it back. When a
//! gift reaches the goal, the transaction that books it marks the goal reached
//! (once, by a conditional update) and emails the editors and admins through
//! the outbox (once per address, by its key), so a redelivered Stripe event or
//! a second instance never sends it twice.
use serde::Serialize;

use super::audit::{self, Actor};
use super::outbox::{self, OutboxError};
use super::{Context, StorageError};
use crate::db::{self, Change, DbError, Tx};
use crate::domain::{Currency, GoalAmount, GoalProgress, Locale, Money, Permission, TopicId, TopicStatus};

#[derive(Debug, thiserror::Error)]
pub enum GoalServiceError {
    #[error("no such topic")]
    UnknownTopic,
    /// Declined, merged or still waiting for moderation: no goal, no gifts.
    #[error("this topic cannot be funded")]
    NotFundable,
    /// Gifts toward it were made in the goal's currency: it stays.
    #[error("gifts were made toward this goal in another currency")]
    CurrencyLocked,
    #[error("this topic has no open goal")]
    NoOpenGoal,
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl GoalServiceError {
    pub fn message_key(&self) -> &'static str {
        match self {
            Self::UnknownTopic => "error-goal-topic",
            Self::NotFundable => "error-goal-not-fundable",
            Self::CurrencyLocked => "error-goal-currency-locked",
            Self::NoOpenGoal => "error-gift-no-goal",
            Self::Outbox(_) | Self::Db(_) => "error-bad-request",
        }
    }
}

fn fundable(status: TopicStatus) -> bool {
    !matches!(status, TopicStatus::Suggested | TopicStatus::Declined | TopicStatus::Merged)
}

/// A topic's goal and its progress, if it has one.
pub async fn progress(ctx: &Context, topic: TopicId) -> Result<Option<GoalProgress>, StorageError> {
    Ok(db::goals::find(ctx.db.read(), topic).await?)
}

/// The open goals of public topics, with their titles (newest topics first).
pub async fn open_goals(ctx: &Context) -> Result<Vec<(GoalProgress, String)>, StorageError> {
    Ok(db::goals::list_open(ctx.db.read()).await?)
}

/// Staff set (or change) a topic's goal, audited. The currency cannot change
/// once gifts were made toward the topic.
pub async fn set_goal(ctx: &Context, actor: &Actor, topic: TopicId, goal: GoalAmount) -> Result<(), GoalServiceError> {
    let goal = goal.money();
    let mut tx = ctx.db.transaction().await?;
    let (status, _) = db::goals::topic_state(&mut *tx, topic).await?.ok_or(GoalServiceError::UnknownTopic)?;
    if !fundable(status) {
        return Err(GoalServiceError::NotFundable);
    }
    if let Some(old) = db::goals::find(&mut *tx, topic).await?
        && old.goal.currency != goal.currency
        && db::goals::has_gifts(&mut *tx, topic).await?
    {
        return Err(GoalServiceError::CurrencyLocked);
    }
    db::goals::set(&mut *tx, topic, goal, ctx.clock.now()).await?;
    let detail = format!("{} {}", goal.decimal(), goal.currency.code());
    audit::record(ctx, &mut tx, actor, "topic.goal", Some(topic.to_string()), Some(detail)).await?;
    // A lowered goal may be reached already.
    check_reached(ctx, &mut tx, topic).await?;
    tx.changed(Change::Giving);
    tx.commit().await.map_err(DbError::from)?;
    ctx.mail_wakeup.notify_one();
    Ok(())
}

/// Staff close a goal: no more gifts toward it; it leaves the public pages.
pub async fn close_goal(ctx: &Context, actor: &Actor, topic: TopicId) -> Result<(), GoalServiceError> {
    let mut tx = ctx.db.transaction().await?;
    if !db::goals::close(&mut *tx, topic, ctx.clock.now()).await? {
        return Err(GoalServiceError::NoOpenGoal);
    }
    audit::record(ctx, &mut tx, actor, "topic.goal.close", Some(topic.to_string()), None).await?;
    tx.changed(Change::Giving);
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}

/// What a gift toward a topic goes to: checked when the checkout starts.
#[derive(Clone, Debug)]
pub struct GiftTarget {
    pub topic_id: TopicId,
    pub title: String,
    pub progress: GoalProgress,
}

/// The topic a reader asks to give toward (`raw`, as the form sent it): it must
/// exist, be fundable and have an open goal. A forged or unknown id, a topic
/// without a goal and a closed goal are refused alike.
pub async fn gift_target(ctx: &Context, raw: &str) -> Result<GiftTarget, GoalServiceError> {
    let topic: TopicId = raw.trim().parse().map_err(|_| GoalServiceError::UnknownTopic)?;
    let pool = ctx.db.read();
    let (status, title) = db::goals::topic_state(pool, topic).await?.ok_or(GoalServiceError::UnknownTopic)?;
    if !fundable(status) {
        return Err(GoalServiceError::NotFundable);
    }
    let progress =
        db::goals::find(pool, topic).await?.filter(GoalProgress::is_open).ok_or(GoalServiceError::NoOpenGoal)?;
    Ok(GiftTarget { topic_id: topic, title, progress })
}

#[derive(Serialize)]
struct GoalReached {
    topic: String,
    goal: String,
    raised: String,
    topic_url: String,
}

/// After a gift toward `topic` was booked in `tx`: the goal reached for the
/// first time marks it and emails the staff who manage goals, in `tx`.
pub async fn check_reached(ctx: &Context, tx: &mut Tx, topic: TopicId) -> Result<bool, GoalServiceError> {
    db::goals::lock(&mut **tx, topic).await?;
    let Some(goal) = db::goals::find(&mut **tx, topic).await? else { return Ok(false) };
    if !goal.is_reached() || goal.reached_at.is_some() {
        return Ok(false);
    }
    if !db::goals::mark_reached(&mut **tx, topic, ctx.clock.now()).await? {
        return Ok(false);
    }
    let title = db::goals::topic_state(&mut **tx, topic).await?.map(|(_, t)| t).unwrap_or_default();
    let data = GoalReached {
        topic: title,
        goal: crate::numbers::money(Locale::En, goal.goal),
        raised: crate::numbers::money(Locale::En, Money::new(goal.raised_minor, goal.goal.currency)),
        topic_url: ctx.url(&format!("/topics/{topic}")),
    };
    let staff = db::staff::list(&mut **tx).await?;
    for person in staff.iter().filter(|s| s.disabled_at.is_none() && s.role.allows(Permission::ManageTransparency)) {
        // Per goal amount and address: a changed goal is a new one.
        let key = format!("goal-reached:{topic}:{}:{}", goal.goal.minor, person.id);
        outbox::enqueue(ctx, tx, "goal_reached", Locale::En, person.email.as_str(), &data, Some(key)).await?;
    }
    tracing::info!(topic.id = %topic, "funding goal reached");
    Ok(true)
}

/// The currencies a goal may be set in: those gifts are made in.
pub fn currencies() -> &'static [Currency] {
    &super::checkout::DONATION_CURRENCIES
}

/// Topics staff may give a goal (open, planned and covered ones, newest first,
/// at most 200 of each): id and title.
pub async fn fundable_topics(ctx: &Context) -> Result<Vec<(TopicId, String)>, StorageError> {
    let mut topics = Vec::new();
    for status in [TopicStatus::Open, TopicStatus::Planned, TopicStatus::Covered] {
        for t in db::topics::list_by_status(ctx.db.read(), status, true, 200).await? {
            topics.push((t.id, t.title));
        }
    }
    Ok(topics)
}

/// Every goal (open or closed) with its topic's title, for staff.
pub async fn all_goals(ctx: &Context) -> Result<Vec<(GoalProgress, String)>, StorageError> {
    Ok(db::goals::list_all(ctx.db.read()).await?)
}
