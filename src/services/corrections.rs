//! Corrections and clarifications: a reader suggests one from an article (no
//! account needed), staff work the queue (`new → accepted | rejected | fixed`),
//! and a reader who left an address gets one email when it is resolved.
//!
//! Abuse is held off at the edge (a honeypot field, size limits, addresses only
//! on the newsroom's own sites) and here by rate limits in the database, per
//! client address and per article, so they hold across instances.
use serde::Serialize;

use super::audit::{self, Actor};
use super::outbox::{self, OutboxError};
use super::rate_limit::{self, Limit, RateLimitError};
use super::{Context, StorageError};
use crate::clock::HOUR;
use crate::db::corrections::{NewCorrection, StaffUpdate};
use crate::db::{self, DbError};
use crate::domain::{
    ArticleAddress, Correction, CorrectionFilter, CorrectionId, CorrectionNote, CorrectionStatus, Email, Locale, Quote,
    StaffAnswer,
};

/// One reader (by address) sends a few suggestions an hour at most.
pub const PER_IP: Limit = Limit { name: "correction-ip", max: 10, window: HOUR };
/// One article takes this many an hour from everyone together: a flood from many
/// addresses stops there instead of burying the queue.
pub const PER_ARTICLE: Limit = Limit { name: "correction-article", max: 30, window: HOUR };
/// The most the staff queue shows at once (the CSV export has them all).
pub const PAGE_SIZE: i64 = 200;

#[derive(Debug, thiserror::Error)]
pub enum CorrectionsError {
    #[error("too many suggestions; try again in {retry_after_secs} seconds")]
    RateLimited { retry_after_secs: i64 },
    #[error("not found")]
    NotFound,
    /// Someone else changed its status since the form was opened.
    #[error("the suggestion changed meanwhile")]
    Changed,
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<RateLimitError> for CorrectionsError {
    fn from(e: RateLimitError) -> Self {
        match e {
            RateLimitError::Limited { retry_after_secs } => Self::RateLimited { retry_after_secs },
            RateLimitError::Db(e) => Self::Db(e),
        }
    }
}

/// What a reader sends, parsed at the edge.
pub struct Suggestion {
    pub article: ArticleAddress,
    pub quote: Quote,
    pub note: CorrectionNote,
    pub email: Option<Email>,
    pub locale: Locale,
}

/// Stores a reader's suggestion as `new`, unless the client's address or the
/// article is over its rate limit.
#[tracing::instrument(skip_all)]
pub async fn submit(ctx: &Context, s: &Suggestion, ip: &str) -> Result<CorrectionId, CorrectionsError> {
    rate_limit::check(ctx, &[(PER_IP, ip), (PER_ARTICLE, s.article.as_str())]).await?;
    let id = CorrectionId::new();
    let row = NewCorrection {
        id,
        article_url: s.article.as_str(),
        quote: s.quote.as_str(),
        note: s.note.as_str(),
        email: s.email.as_ref().map(Email::as_str),
        locale: s.locale.as_str(),
    };
    let mut writer = ctx.db.write().await?;
    db::corrections::insert(&mut *writer, &row, ctx.clock.now()).await?;
    tracing::info!(correction.id = %id, correction.reply = s.email.is_some(), "correction suggested");
    Ok(id)
}

pub async fn list(ctx: &Context, filter: &CorrectionFilter) -> Result<Vec<Correction>, StorageError> {
    Ok(db::corrections::list(ctx.db.read(), filter, Some(PAGE_SIZE)).await?)
}

/// Articles with suggestions (most recent first): address, all, new.
pub async fn articles(ctx: &Context) -> Result<Vec<(String, i64, i64)>, StorageError> {
    Ok(db::corrections::articles(ctx.db.read(), 500).await?)
}

pub async fn count_new(ctx: &Context) -> Result<i64, StorageError> {
    Ok(db::corrections::count_new(ctx.db.read()).await?)
}

pub async fn find(ctx: &Context, id: CorrectionId) -> Result<Correction, CorrectionsError> {
    db::corrections::find(ctx.db.read(), id).await?.ok_or(CorrectionsError::NotFound)
}

/// Staff's decision on one suggestion.
pub struct Decision {
    /// The status the form was opened in: a decision made on a stale form is refused.
    pub seen: CorrectionStatus,
    pub status: CorrectionStatus,
    pub internal_note: StaffAnswer,
    pub public_reply: StaffAnswer,
}

#[derive(Serialize)]
struct ResolvedMail<'a> {
    status: &'static str,
    article_url: &'a str,
    quote: &'a str,
    note: &'a str,
    reply: &'a str,
}

/// Applies staff's decision. A change of status is audit-logged (so is a change
/// of the notes alone). The first move out of `new` resolves the suggestion: a
/// reader who left an address gets one email, in their language, with the
/// outcome and the public reply. It is enqueued in this transaction under the
/// outbox key `correction-resolved:<id>`, so resolving twice, or changing the
/// status again later, never sends a second one. Returns whether mail was enqueued.
#[tracing::instrument(skip_all, fields(correction.id = %id))]
pub async fn decide(ctx: &Context, actor: &Actor, id: CorrectionId, d: &Decision) -> Result<bool, CorrectionsError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.transaction().await?;
    let current = db::corrections::find(&mut *tx, id).await?.ok_or(CorrectionsError::NotFound)?;
    if current.status != d.seen {
        return Err(CorrectionsError::Changed);
    }
    let update = StaffUpdate {
        status: d.status,
        internal_note: d.internal_note.as_str(),
        public_reply: d.public_reply.as_str(),
        by: actor.staff_id,
    };
    if !db::corrections::update(&mut *tx, id, current.status, &update, now).await? {
        return Err(CorrectionsError::Changed);
    }
    let (action, detail) = if current.status == d.status {
        ("correction.notes", format!("status {}", d.status))
    } else {
        ("correction.status", format!("{} → {}", current.status, d.status))
    };
    audit::record(ctx, &mut tx, actor, action, Some(id.to_string()), Some(detail)).await?;
    let mut mailed = false;
    if current.resolved_at.is_none()
        && d.status.is_resolution()
        && let Some(to) = &current.email
    {
        let mail = ResolvedMail {
            status: d.status.as_str(),
            article_url: &current.article_url,
            quote: &current.quote,
            note: &current.note,
            reply: d.public_reply.as_str(),
        };
        let key = format!("correction-resolved:{id}");
        mailed = outbox::enqueue(ctx, &mut tx, "correction_resolved", current.locale, to, &mail, Some(key)).await?;
    }
    tx.commit().await.map_err(DbError::from)?;
    if mailed {
        ctx.mail_wakeup.notify_one();
    }
    tracing::info!(correction.from = %current.status, correction.to = %d.status, mail.enqueued = mailed, "correction decided");
    Ok(mailed)
}

/// Every suggestion `filter` selects, for the CSV export; the export is audit-logged.
pub async fn export(
    ctx: &Context,
    actor: &Actor,
    filter: &CorrectionFilter,
    described: &str,
) -> Result<Vec<Correction>, CorrectionsError> {
    let mut tx = ctx.db.transaction().await?;
    let rows = db::corrections::list(&mut *tx, filter, None).await?;
    let detail = format!("{described}; {} rows", rows.len());
    audit::record(ctx, &mut tx, actor, "correction.export", None, Some(detail)).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(rows)
}
