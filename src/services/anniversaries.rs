//! The anniversary email: on each patron's first, second, … year as a patron
//! (counted from their first paid membership payment), once, in their
//! language, with the stories they voted for that were covered.
//!
//! A job looks for due anniversaries; each is recorded under the unique key
//! (member, years) in the transaction that queues its email, so two instances
//! running the job at once send it once. It is a relationship email like an
//! update: the updates unsubscribe stops it (checked when queued and again
//! when sent), and it carries the same one-click unsubscribe link.
use serde::Serialize;

use super::outbox::{self, Extras, OutboxError};
use super::{Context, content};
use crate::clock::DAY;
use crate::db::{self, DbError};
use crate::domain::update::{ANNIVERSARY_LATE, anniversary_due};
use crate::domain::{ContentKind, TopicStatus};
use crate::i18n::Arg;

/// How many covered stories an anniversary email lists (all on the account page).
pub const STORIES_LISTED: usize = 10;

#[derive(Serialize)]
struct Story {
    title: String,
    headline: Option<String>,
    url: String,
}

#[derive(Serialize)]
struct Anniversary {
    name: Option<String>,
    years: i64,
    stories: Vec<Story>,
    commissioned_url: String,
    unsubscribe_url: String,
}

/// Queues every anniversary email that is due now; returns how many.
pub async fn send_due(ctx: &Context) -> Result<usize, OutboxError> {
    let now = ctx.clock.now();
    // First paid at least a year ago (less a day for leap years and zones), and
    // not sent one in the last ~11 months.
    let candidates = db::updates::anniversary_candidates(
        ctx.db.read(),
        now,
        ctx.past_due_grace,
        now - 364 * DAY,
        now - 300 * DAY - ANNIVERSARY_LATE,
    )
    .await?;
    let mut queued = 0;
    for (member, first_paid_at) in candidates {
        let Some(years) = anniversary_due(first_paid_at, now) else { continue };
        let stories = covered_stories(ctx, &member).await?;
        let mut tx = ctx.db.transaction().await?;
        if !db::updates::record_anniversary(&mut *tx, member.member_id, years, now).await? {
            continue;
        }
        let data = Anniversary {
            name: member.name.clone(),
            years,
            stories,
            commissioned_url: ctx.url("/account/commissioned"),
            unsubscribe_url: super::updates::unsubscribe_url(ctx, member.member_id),
        };
        let key = format!("anniversary:{}:{years}", member.member_id);
        let subject = ctx.views.i18n().t(
            member.locale,
            "email-anniversary-subject",
            &[("years", Arg::Num(years as f64)), ("newsroom", Arg::Str(&ctx.newsroom_name))],
        );
        let extras = Extras { subject: Some(subject), ..super::updates::unsubscribe_extras(ctx, member.member_id) };
        outbox::enqueue_with(ctx, &mut tx, "anniversary", member.locale, &member.email, &data, Some(key), extras)
            .await?;
        tx.commit().await.map_err(DbError::from)?;
        tracing::info!(member.id = %member.member_id, years, "anniversary email queued");
        queued += 1;
    }
    if queued > 0 {
        ctx.mail_wakeup.notify_one();
    }
    Ok(queued)
}

/// The covered stories the member voted for, newest vote first, titles in
/// their language, each with its first article (else the topic's page).
async fn covered_stories(ctx: &Context, member: &db::updates::Recipient) -> Result<Vec<Story>, DbError> {
    let pool = ctx.db.read();
    let articles = db::topics::articles_voted_by(pool, member.member_id).await?;
    let covered: Vec<_> = db::topics::voted_by(pool, member.member_id)
        .await?
        .into_iter()
        .filter(|c| c.status == TopicStatus::Covered.as_str())
        .take(STORIES_LISTED)
        .collect();
    let mut items = Vec::new();
    for c in &covered {
        items.push((
            ContentKind::Topic,
            c.id.clone(),
            db::translations::list_for_item(pool, ContentKind::Topic, &c.id).await?,
        ));
    }
    let texts = content::Localiser::of_items(ctx, member.locale, &items);
    Ok(covered
        .into_iter()
        .map(|c| {
            let mut title = c.title.clone();
            texts.topic_texts(&c.id, &mut title, None);
            let article = articles.iter().find(|(topic, _)| topic.to_string() == c.id).map(|(_, a)| a);
            Story {
                title,
                headline: article.and_then(|a| a.headline.clone()),
                url: article.map_or_else(|| ctx.url(&format!("/topics/{}", c.id)), |a| a.url.clone()),
            }
        })
        .collect())
}
