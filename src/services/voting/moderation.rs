//! Editors' decisions on topics (approve, decline, merge, plan, cover), their
//! history, and the mail each causes.
use serde::Serialize;

use super::VotingError;
use crate::clock::Micros;
use crate::db::topics::TopicEvent;
use crate::db::{self, Change, DbError};
use crate::domain::{ArticleUrl, ContentKind, Locale, TopicId, TopicStatus, TopicText};
use crate::services::Context;
use crate::services::audit::{self, Actor};
use crate::services::content::Localiser;
use crate::services::outbox;

/// What an editor does to a topic.
pub enum Decision {
    Approve { note: Option<TopicText> },
    Decline { reason: TopicText },
    Merge { into: TopicId, note: Option<TopicText> },
    Plan { expected_at: Option<Micros>, note: Option<TopicText> },
    Cover { articles: Vec<(ArticleUrl, Option<TopicText>)>, note: Option<TopicText> },
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
    articles: &'a [crate::domain::Article],
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
    let mut other_id = None;
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
            other_id = Some(target.id);
            (Some(target.id), None)
        }
        Decision::Plan { expected_at, .. } => (None, *expected_at),
        _ => (None, None),
    };
    let note = decision.note();
    // A new public note replaces the old one in every language (staff translate it anew).
    db::translations::delete_field(&mut *tx, ContentKind::Topic, &id.to_string(), "public_note").await?;
    if !db::topics::set_status(&mut *tx, id, topic.status, to, note, expected_at, merged_into, now).await? {
        return Err(VotingError::InvalidMove { from: topic.status, to });
    }
    if let Decision::Cover { articles, .. } = &decision {
        let start = db::topics::articles(&mut *tx, id).await?.len() as i64;
        for (i, (url, headline)) in articles.iter().enumerate() {
            let headline = headline.as_ref().map(TopicText::as_str);
            db::topics::insert_article(&mut *tx, id, url.as_str(), headline, start + i as i64, now).await?;
        }
        // Its voters and how many were patrons, for the dashboard (votes are final now).
        db::reports::record_topic_vote_figures(&mut *tx, &id.to_string(), now).await?;
    }
    let event =
        TopicEvent { topic_id: id, from: Some(topic.status), to, staff_id: actor.staff_id, member_id: None, note };
    db::topics::insert_event(&mut *tx, &event, now).await?;
    audit::record(ctx, &mut tx, actor, decision.action(), Some(id.to_string()), note.map(str::to_string)).await?;

    let articles = db::topics::articles(&mut *tx, id).await?;
    // Each recipient reads the topic's texts in their language (or the default's).
    let mut items = vec![(
        ContentKind::Topic,
        id.to_string(),
        db::translations::list_for_item(&mut *tx, ContentKind::Topic, &id.to_string()).await?,
    )];
    if let Some(other) = other_id {
        let rows = db::translations::list_for_item(&mut *tx, ContentKind::Topic, &other.to_string()).await?;
        items.push((ContentKind::Topic, other.to_string(), rows));
    }
    let texts: Vec<(Locale, String, Option<String>)> = Locale::ALL
        .into_iter()
        .map(|locale| {
            let texts = Localiser::of_items(ctx, locale, &items);
            let mut title = topic.title.clone();
            texts.topic_texts(&id.to_string(), &mut title, None);
            let other = other_id.zip(other_title.clone()).map(|(other, mut t)| {
                texts.topic_texts(&other.to_string(), &mut t, None);
                t
            });
            (locale, title, other)
        })
        .collect();
    let url = ctx.url(&format!("/topics/{}", merged_into.unwrap_or(id)));
    let mail_in = |locale: Locale| {
        let (_, title, other) = texts.iter().find(|(l, _, _)| *l == locale).unwrap_or(&texts[0]);
        TopicMail { title, note, url: url.clone(), other_title: other.as_deref(), articles: &articles }
    };
    let mut sent = 0;
    match &decision {
        Decision::Approve { .. } | Decision::Decline { .. } | Decision::Merge { .. } => {
            if let Some(suggester) = topic.suggested_by
                && let Some(member) = db::members::find_by_id(&mut *tx, suggester).await?
                && let Some(email) = &member.email
            {
                // "Open for votes" only when it is on a round taking votes now;
                // otherwise it is approved and waits for an upcoming ballot.
                let on_open_round = match (&decision, db::rounds::unclosed_round_of(&mut *tx, id).await?) {
                    (Decision::Approve { .. }, Some(round)) => db::rounds::find(&mut *tx, round)
                        .await?
                        .is_some_and(|r| r.phase(now) == crate::domain::RoundPhase::Open),
                    _ => false,
                };
                let template = match &decision {
                    Decision::Approve { .. } if !on_open_round => "topic_approved".to_string(),
                    _ => format!("topic_{}", to.as_str()),
                };
                let key = format!("topic-{}:{id}", to.as_str());
                sent += usize::from(
                    outbox::enqueue(
                        ctx,
                        &mut tx,
                        &template,
                        member.locale,
                        email.as_str(),
                        &mail_in(member.locale),
                        Some(key),
                    )
                    .await?,
                );
            }
        }
        Decision::Cover { .. } => {
            for r in db::topics::voters_and_followers(&mut *tx, id).await? {
                let key = format!("topic-covered:{id}:{}", r.member_id);
                sent += usize::from(
                    outbox::enqueue(
                        ctx,
                        &mut tx,
                        "topic_covered",
                        r.locale,
                        r.email.as_str(),
                        &mail_in(r.locale),
                        Some(key),
                    )
                    .await?,
                );
            }
        }
        Decision::Plan { .. } => {}
    }
    tx.changed(Change::Board);
    tx.changed(Change::Texts);
    tx.commit().await.map_err(DbError::from)?;
    if sent > 0 {
        ctx.mail_wakeup.notify_one();
    }
    tracing::info!(topic.id = %id, topic.from = %topic.status, topic.to = %to, mail.enqueued = sent, "topic decided");
    Ok(sent)
}
