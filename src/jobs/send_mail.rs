//! Sends one outbox message at a time, with retries and exponential backoff.
use crate::clock::{HOUR, Micros, SECOND};
use crate::db;
use crate::mail::Mailer;
use crate::services::Context;

/// Attempts before a message is given up on (about a day and a half of retries).
pub const MAX_ATTEMPTS: i64 = 10;

/// 30 s, 1 min, 2 min, … capped at 6 hours.
pub fn backoff(attempts: i64) -> Micros {
    let exp = attempts.clamp(1, 20) - 1;
    (30 * SECOND).saturating_mul(1_i64 << exp).min(6 * HOUR)
}

/// Sends the next due message, if any; `Some(sent_ok)` when one was taken.
pub async fn send_next(ctx: &Context, mailer: &Mailer, worker: &str) -> anyhow::Result<Option<bool>> {
    let now = ctx.clock.now();
    let Some(message) = db::outbox::claim_next(&mut *ctx.db.write().await?, now, now + ctx.job_lease, worker).await?
    else {
        return Ok(None);
    };
    // An update or anniversary whose member unsubscribed (or left) after it was
    // queued is dropped, not sent: the queue decided who, this decides whether still.
    if let Some(member) = &message.unless_unsubscribed
        && !db::updates::may_send(ctx.db.read(), member).await?
    {
        db::outbox::delete(&mut *ctx.db.write().await?, &message.id).await?;
        metrics::counter!("mail_dropped_unsubscribed_total").increment(1);
        tracing::info!(mail.id = %message.id, mail.template = %message.template, "email dropped: the member unsubscribed");
        return Ok(Some(true));
    }
    match mailer.send(&message).await {
        Ok(()) => {
            db::outbox::mark_sent(&mut *ctx.db.write().await?, &message.id, ctx.clock.now()).await?;
            metrics::counter!("mail_sent_total").increment(1);
            tracing::info!(mail.id = %message.id, mail.template = %message.template, "email sent");
            Ok(Some(true))
        }
        Err(e) => {
            let now = ctx.clock.now();
            let give_up = (message.attempts >= MAX_ATTEMPTS).then_some(now);
            db::outbox::mark_failed_attempt(
                &mut *ctx.db.write().await?,
                &message.id,
                &e.to_string(),
                now + backoff(message.attempts),
                give_up,
            )
            .await?;
            metrics::counter!("mail_failures_total").increment(1);
            tracing::warn!(mail.id = %message.id, mail.attempts = message.attempts, error = %e, gave_up = give_up.is_some(), "email not sent");
            Ok(Some(false))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(1), 30 * SECOND);
        assert_eq!(backoff(2), 60 * SECOND);
        assert_eq!(backoff(3), 120 * SECOND);
        assert_eq!(backoff(50), 6 * HOUR);
    }
}
