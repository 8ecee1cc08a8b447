//! Suggesting topics, staff adding them, and following them.
use super::VotingError;
use crate::clock::{DAY, Micros};
use crate::db::topics::{NewTopic, TopicEvent};
use crate::db::{self, Change, DbError, Tx};
use crate::domain::{ArticleUrl, MemberId, TopicId, TopicStatus, TopicText};
use crate::services::Context;
use crate::services::audit::{self, Actor};
use crate::services::rate_limit::{self, Limit};

pub const SUGGESTIONS_PER_MEMBER: Limit = Limit { name: "topic-suggest", max: 5, window: DAY };

pub struct Suggestion {
    pub title: TopicText,
    pub description: Option<TopicText>,
    pub link: Option<ArticleUrl>,
}

/// Stores a new topic and the first line of its history, inside `tx`.
pub(super) async fn insert_topic(
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
    audit::record(ctx, &mut tx, actor, "topic.create", Some(id.to_string()), Some(s.title.as_str().to_string()))
        .await?;
    tx.changed(Change::Board);
    tx.commit().await.map_err(DbError::from)?;
    Ok(id)
}

pub async fn follow(ctx: &Context, member: MemberId, topic: TopicId, on: bool) -> Result<(), VotingError> {
    let t = db::topics::find(ctx.db.read(), topic).await?.ok_or(VotingError::NotFound)?;
    if !t.status.is_public() {
        return Err(VotingError::NotFound);
    }
    let mut writer = ctx.db.write().await?;
    if on {
        db::topics::follow(&mut *writer, topic, member, ctx.clock.now()).await?;
    } else {
        db::topics::unfollow(&mut *writer, topic, member).await?;
    }
    // Their account page lists what they follow.
    writer.changed(Change::Votes(member));
    Ok(())
}
