//! Deletes what has expired: sessions, sign-in links, rate-limit windows, old mail.
//! Every statement is idempotent, so instances may run it at the same time.
use crate::clock::DAY;
use crate::db;
use crate::services::Context;

pub async fn run(ctx: &Context) -> anyhow::Result<()> {
    let now = ctx.clock.now();
    let pool = ctx.db.pool();
    let sessions = db::sessions::delete_expired(pool, now).await?;
    let tokens = db::login_tokens::delete_expired(pool, now - DAY).await?;
    let windows = db::rate_limits::delete_before(pool, now - DAY).await?;
    let mail = db::outbox::delete_finished_before(pool, now - 30 * DAY).await?;
    tracing::debug!(sessions, tokens, windows, mail, "cleanup done");
    Ok(())
}
