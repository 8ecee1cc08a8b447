//! Deletes what has expired: sessions, sign-in links, rate-limit windows, old mail.
//! Every statement is idempotent, so instances may run it at the same time.
use crate::clock::DAY;
use crate::db;
use crate::services::Context;

pub async fn run(ctx: &Context) -> anyhow::Result<()> {
    let now = ctx.clock.now();
    // The cleanup runs rarely; holding the write turn for its four deletes is fine.
    let mut writer = ctx.db.write().await?;
    let sessions = db::sessions::delete_expired(&mut *writer, now).await?;
    let tokens = db::login_tokens::delete_expired(&mut *writer, now - DAY).await?;
    let windows = db::rate_limits::delete_before(&mut *writer, now - DAY).await?;
    let mail = db::outbox::delete_finished_before(&mut *writer, now - 30 * DAY).await?;
    tracing::debug!(sessions, tokens, windows, mail, "cleanup done");
    Ok(())
}
