//! Enqueuing mail: rendered in the recipient's language and stored in the same
//! transaction as the change that caused it.
use serde::Serialize;

use super::Context;
use crate::db::{self, DbError, Tx, outbox::NewEmail};
use crate::domain::{Locale, MemberId};

#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error("rendering email: {0}")]
    Render(anyhow::Error),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// What an email carries besides its template's rendering.
#[derive(Clone, Debug, Default)]
pub struct Extras {
    /// Replaces the template's subject (an update's, written by staff).
    pub subject: Option<String>,
    /// Headers of this message (`List-Unsubscribe`).
    pub headers: Vec<(String, String)>,
    /// The member whose updates unsubscribe stops the message even once queued.
    pub unless_unsubscribed: Option<MemberId>,
}

/// Renders `templates/emails/<template>.*` and stores it for the mail job.
/// Returns false when `dedupe_key` had been used already.
pub async fn enqueue<C: Serialize>(
    ctx: &Context,
    tx: &mut Tx,
    template: &str,
    locale: Locale,
    to: &str,
    data: &C,
    dedupe_key: Option<String>,
) -> Result<bool, OutboxError> {
    enqueue_with(ctx, tx, template, locale, to, data, dedupe_key, Extras::default()).await
}

/// [`enqueue`] with a subject, headers or an unsubscribe check of its own.
#[allow(clippy::too_many_arguments)]
pub async fn enqueue_with<C: Serialize>(
    ctx: &Context,
    tx: &mut Tx,
    template: &str,
    locale: Locale,
    to: &str,
    data: &C,
    dedupe_key: Option<String>,
    extras: Extras,
) -> Result<bool, OutboxError> {
    let rendered = ctx
        .views
        .render_email_with_subject(template, locale, &ctx.newsroom_name, data, extras.subject)
        .map_err(OutboxError::Render)?;
    let email = NewEmail {
        to: to.to_string(),
        template: template.to_string(),
        subject: rendered.subject,
        body_text: rendered.text,
        body_html: rendered.html,
        dedupe_key,
        headers: extras.headers,
        unless_unsubscribed: extras.unless_unsubscribed.map(|m| m.to_string()),
    };
    Ok(db::outbox::enqueue(&mut **tx, &email, ctx.clock.now()).await?)
}
