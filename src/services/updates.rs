//! Updates to patrons ("this month your support paid for …"): staff write one
//! (English, optionally Ukrainian), choose who receives it, preview it with the
//! exact number of recipients, and send it through the outbox, one email per
//! member in their language. Every update email carries a signed one-click
//! unsubscribe link (and RFC 8058's `List-Unsubscribe` headers); unsubscribing
//! stops updates and anniversary emails only, never receipts or sign-in mail.
//!
//! Who is unsubscribed is decided twice: when the update's emails are queued
//! (an unsubscribed member gets no row, so the count staff saw is the count
//! queued) and again by the mail job as it sends each one (someone who
//! unsubscribes while thousands are still queued is not sent theirs).
use serde::Serialize;

use super::audit::{self, Actor};
use super::outbox::{self, Extras, OutboxError};
use super::{Context, StorageError};
use crate::db::updates::{NewUpdate, UpdateRow};
use crate::db::{self, Change, DbError};
use crate::domain::update::paragraphs;
use crate::domain::{
    Audience, Locale, MemberId, StaffId, TierId, TopicId, UpdateBody, UpdateId, UpdateSubject, UpdateText, UpdateTexts,
};
use crate::tokens::constant_time_eq;

/// How many updates the staff page and the transparency page list.
pub const LISTED: i64 = 50;

#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error("no such tier")]
    UnknownTier,
    #[error("no such topic")]
    UnknownTopic,
    #[error("no such update")]
    NotFound,
    #[error("the update was sent already")]
    AlreadySent,
    #[error("the audience changed since the preview: {0} recipients now")]
    AudienceChanged(i64),
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<StorageError> for UpdateError {
    fn from(e: StorageError) -> Self {
        Self::Db(e.into())
    }
}

impl UpdateError {
    pub fn message_key(&self) -> &'static str {
        match self {
            Self::UnknownTier => "error-update-tier",
            Self::UnknownTopic => "error-update-topic",
            Self::NotFound => "error-not-found",
            Self::AlreadySent => "error-update-already-sent",
            Self::AudienceChanged(_) => "error-update-audience-changed",
            Self::Outbox(_) | Self::Db(_) => "error-internal",
        }
    }
}

/// An update as staff see it.
#[derive(Clone, Debug)]
pub struct Update {
    pub id: UpdateId,
    pub texts: UpdateTexts,
    pub audience: Audience,
    pub on_transparency: bool,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    pub recipients: Option<i64>,
}

fn stored_text(subject: &str, body: &str) -> Result<UpdateText, DbError> {
    let bad = |e| DbError::other(format!("stored update text cannot be read: {e}"));
    Ok(UpdateText { subject: UpdateSubject::parse(subject).map_err(bad)?, body: UpdateBody::parse(body).map_err(bad)? })
}

fn from_row(row: UpdateRow) -> Result<Update, DbError> {
    let uk = match (&row.subject_uk, &row.body_uk) {
        (Some(s), Some(b)) => Some(stored_text(s, b)?),
        _ => None,
    };
    Ok(Update {
        id: crate::db::parse_stored("update id", &row.id)?,
        audience: row.audience()?,
        texts: UpdateTexts { en: stored_text(&row.subject_en, &row.body_en)?, uk },
        on_transparency: row.on_transparency == 1,
        created_at: row.created_at,
        sent_at: row.sent_at,
        recipients: row.recipients,
    })
}

/// Stores a draft (nothing is sent yet); the tier or topic it names must exist.
pub async fn create(
    ctx: &Context,
    actor: &Actor,
    staff: StaffId,
    texts: &UpdateTexts,
    audience: Audience,
    on_transparency: bool,
) -> Result<UpdateId, UpdateError> {
    let mut tx = ctx.db.transaction().await?;
    match audience {
        Audience::Tier(tier) if db::tiers::find(&mut *tx, tier).await?.is_none() => {
            return Err(UpdateError::UnknownTier);
        }
        Audience::Voters(topic) if db::topics::find(&mut *tx, topic).await?.is_none() => {
            return Err(UpdateError::UnknownTopic);
        }
        _ => {}
    }
    let id = UpdateId::new();
    let update = NewUpdate {
        id,
        subject_en: texts.en.subject.as_str(),
        body_en: texts.en.body.as_str(),
        uk: texts.uk.as_ref().map(|t| (t.subject.as_str(), t.body.as_str())),
        audience,
        on_transparency,
        created_by: staff,
    };
    db::updates::insert(&mut *tx, &update, ctx.clock.now()).await?;
    let detail = Some(texts.en.subject.as_str().to_string());
    audit::record(ctx, &mut tx, actor, "update.draft", Some(id.to_string()), detail).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(id)
}

pub async fn find(ctx: &Context, id: UpdateId) -> Result<Update, UpdateError> {
    let row = db::updates::find(ctx.db.read(), id).await?.ok_or(UpdateError::NotFound)?;
    Ok(from_row(row)?)
}

/// The newest updates, drafts and sent.
pub async fn list(ctx: &Context) -> Result<Vec<Update>, StorageError> {
    let rows = db::updates::list(ctx.db.read(), LISTED).await?;
    Ok(rows.into_iter().map(from_row).collect::<Result<_, _>>()?)
}

/// How many members `audience` reaches now (unsubscribed members left out):
/// the number a send now would queue.
pub async fn audience_size(ctx: &Context, audience: Audience) -> Result<i64, StorageError> {
    Ok(db::updates::count_audience(ctx.db.read(), audience, ctx.clock.now(), ctx.past_due_grace).await?)
}

#[derive(Serialize)]
struct UpdateEmail<'a> {
    name: Option<&'a str>,
    subject: &'a str,
    paragraphs: Vec<Vec<String>>,
    unsubscribe_url: &'a str,
}

/// An update rendered as one language's readers get it.
#[derive(Clone, Debug, Serialize)]
pub struct Rendered {
    pub lang: &'static str,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl<'a> UpdateEmail<'a> {
    fn new(text: &'a UpdateText, name: Option<&'a str>, unsubscribe_url: &'a str) -> Self {
        Self { name, subject: text.subject.as_str(), paragraphs: paragraphs(text.body.as_str()), unsubscribe_url }
    }
}

fn render(
    ctx: &Context,
    locale: Locale,
    text: &UpdateText,
    name: Option<&str>,
    unsubscribe_url: &str,
) -> anyhow::Result<Rendered> {
    let data = UpdateEmail::new(text, name, unsubscribe_url);
    let subject = Some(text.subject.as_str().to_string());
    let r = ctx.views.render_email_with_subject("update", locale, &ctx.newsroom_name, &data, subject)?;
    Ok(Rendered { lang: locale.as_str(), subject: r.subject, text: r.text, html: r.html })
}

/// The email as each language's readers will get it (English, and Ukrainian
/// when translated), with an example unsubscribe link.
pub fn preview(ctx: &Context, update: &Update) -> Result<Vec<Rendered>, UpdateError> {
    let example = ctx.url("/updates/unsubscribe?token=…");
    let mut out = vec![render(ctx, Locale::En, &update.texts.en, None, &example).map_err(OutboxError::Render)?];
    if let Some(uk) = &update.texts.uk {
        out.push(render(ctx, Locale::Uk, uk, None, &example).map_err(OutboxError::Render)?);
    }
    Ok(out)
}

/// Sends a draft: marks it sent and queues one email per member of its
/// audience, in one transaction, when the audience is still the `expected`
/// size staff previewed. A second send (a double click, two staff, a retry) is
/// refused by the conditional update that marks it sent. Returns how many.
pub async fn send(
    ctx: &Context,
    actor: &Actor,
    staff: StaffId,
    id: UpdateId,
    expected: i64,
) -> Result<i64, UpdateError> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.transaction().await?;
    let row = db::updates::find(&mut *tx, id).await?.ok_or(UpdateError::NotFound)?;
    let update = from_row(row)?;
    if !db::updates::mark_sent(&mut *tx, id, staff, now).await? {
        return Err(UpdateError::AlreadySent);
    }
    let recipients = db::updates::audience(&mut *tx, update.audience, now, ctx.past_due_grace).await?;
    let n = i64::try_from(recipients.len()).unwrap_or(i64::MAX);
    if n != expected {
        // Dropping the transaction rolls the "sent" mark back.
        return Err(UpdateError::AudienceChanged(n));
    }
    for r in &recipients {
        let (locale, text) = update.texts.for_locale(r.locale);
        let link = unsubscribe_url(ctx, r.member_id);
        let data = UpdateEmail::new(text, r.name.as_deref(), &link);
        let extras =
            Extras { subject: Some(text.subject.as_str().to_string()), ..unsubscribe_extras(ctx, r.member_id) };
        let key = format!("update:{id}:{}", r.member_id);
        outbox::enqueue_with(ctx, &mut tx, "update", locale, &r.email, &data, Some(key), extras).await?;
    }
    db::updates::set_recipients(&mut *tx, id, n).await?;
    audit::record(ctx, &mut tx, actor, "update.send", Some(id.to_string()), Some(format!("{n} recipients"))).await?;
    if update.on_transparency {
        tx.changed(Change::Giving);
    }
    tx.commit().await.map_err(DbError::from)?;
    ctx.mail_wakeup.notify_one();
    tracing::info!(update.id = %id, recipients = n, "update queued");
    Ok(n)
}

/// A sent update as the transparency page shows it, in the reader's language.
#[derive(Clone, Debug, Serialize)]
pub struct PublishedUpdate {
    pub subject: String,
    pub paragraphs: Vec<Vec<String>>,
    pub sent_at: i64,
}

/// The sent updates staff chose to show on the transparency page, newest first.
pub async fn published(ctx: &Context, locale: Locale) -> Result<Vec<PublishedUpdate>, StorageError> {
    let rows = db::updates::published(ctx.db.read(), LISTED).await?;
    let mut out = Vec::new();
    for row in rows {
        let update = from_row(row)?;
        let (_, text) = update.texts.for_locale(locale);
        out.push(PublishedUpdate {
            subject: text.subject.as_str().to_string(),
            paragraphs: paragraphs(text.body.as_str()),
            sent_at: update.sent_at.unwrap_or(update.created_at),
        });
    }
    Ok(out)
}

const UNSUBSCRIBE_LABEL: &str = "updates-unsubscribe";

/// The token of a member's one-click unsubscribe link: their id and a keyed
/// hash of it under the instance's secret. It never expires (a link in an old
/// email still works) and only ever turns updates off.
pub fn unsubscribe_token(ctx: &Context, member: MemberId) -> String {
    let id = member.to_string();
    format!("{id}.{}", ctx.keys.keyed_hash(UNSUBSCRIBE_LABEL, &id))
}

pub fn unsubscribe_url(ctx: &Context, member: MemberId) -> String {
    ctx.url(&format!("/updates/unsubscribe?token={}", unsubscribe_token(ctx, member)))
}

/// The headers of a message that honours the updates unsubscribe (RFC 2369 and
/// RFC 8058: a POST to the link unsubscribes without a question), and the
/// member the mail job checks again before sending.
pub fn unsubscribe_extras(ctx: &Context, member: MemberId) -> Extras {
    Extras {
        subject: None,
        headers: vec![
            ("List-Unsubscribe".into(), format!("<{}>", unsubscribe_url(ctx, member))),
            ("List-Unsubscribe-Post".into(), "List-Unsubscribe=One-Click".into()),
        ],
        unless_unsubscribed: Some(member),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum UnsubscribeError {
    #[error("the unsubscribe link is not valid")]
    Invalid,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// The member a token was made for, if it is one of ours unchanged.
pub fn member_of_token(ctx: &Context, token: &str) -> Option<MemberId> {
    let (id, signature) = token.trim().split_once('.')?;
    let member: MemberId = id.parse().ok()?;
    let expected = ctx.keys.keyed_hash(UNSUBSCRIBE_LABEL, &member.to_string());
    constant_time_eq(expected.as_bytes(), signature.as_bytes()).then_some(member)
}

/// The one-click unsubscribe: turns updates off for the token's member.
/// Doing it twice is fine; a tampered token changes nothing.
pub async fn unsubscribe(ctx: &Context, token: &str) -> Result<MemberId, UnsubscribeError> {
    let member = member_of_token(ctx, token).ok_or(UnsubscribeError::Invalid)?;
    set_receives_updates(ctx, member, false).await?;
    tracing::info!(member.id = %member, "member unsubscribed from updates");
    Ok(member)
}

/// Turns a member's updates (and anniversary emails) off or back on.
pub async fn set_receives_updates(ctx: &Context, member: MemberId, receive: bool) -> Result<(), DbError> {
    let mut tx = ctx.db.transaction().await?;
    let at = (!receive).then(|| ctx.clock.now());
    db::updates::set_unsubscribed(&mut *tx, member, at).await?;
    tx.changed(Change::Member(member));
    tx.commit().await?;
    Ok(())
}

/// When the member turned updates off, if they did.
pub async fn unsubscribed_at(ctx: &Context, member: MemberId) -> Result<Option<i64>, StorageError> {
    Ok(db::updates::unsubscribed_at(ctx.db.read(), member).await?)
}

/// What the audience choice offers: every tier, and the topics someone voted for.
pub async fn audience_choices(ctx: &Context) -> Result<(Vec<(TierId, String)>, Vec<(TopicId, String)>), StorageError> {
    let pool = ctx.db.read();
    let tiers = db::tiers::list_all(pool).await?.into_iter().map(|t| (t.id, t.name)).collect();
    Ok((tiers, db::updates::voted_topics(pool).await?))
}
