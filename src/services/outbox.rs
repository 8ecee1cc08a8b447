//! Enqueuing mail: rendered in the recipient's language and stored in the same
//! transaction as the change that caused it.
use serde::Serialize;

use super::Context;
use crate::db::{self, DbError, Tx, outbox::NewEmail};
use crate::domain::Locale;

#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error("rendering email: {0}")]
    Render(anyhow::Error),
    #[error(transparent)]
    Db(#[from] DbError),
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
    let rendered = ctx.views.render_email(template, locale, &ctx.newsroom_name, data).map_err(OutboxError::Render)?;
    let email = NewEmail {
        to: to.to_string(),
        template: template.to_string(),
        subject: rendered.subject,
        body_text: rendered.text,
        body_html: rendered.html,
        dedupe_key,
    };
    Ok(db::outbox::enqueue(&mut **tx, &email, ctx.clock.now()).await?)
}
