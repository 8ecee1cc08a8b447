//! Background work. Each instance runs the loops; work is taken from the database
//! with a lease, so several instances never do the same job twice.
pub mod cleanup;
pub mod send_mail;

use std::time::Duration;

use tokio::sync::watch;

use crate::mail::Mailer;
use crate::services::Context;

/// A process-unique name for leases.
pub fn worker_id() -> String {
    format!("{}-{}", std::process::id(), uuid::Uuid::now_v7().simple())
}

/// Runs every queue (Stripe events, rounds due to close, then mail) until nothing
/// is due now; returns how many items were handled.
/// Tests call this instead of waiting for the loops.
pub async fn drain(ctx: &Context, mailer: &Mailer, worker: &str) -> anyhow::Result<usize> {
    let mut handled = crate::services::stripe_events::drain(ctx, worker).await?;
    handled += crate::services::voting::close_due_rounds(ctx, worker).await?;
    while send_mail::send_next(ctx, mailer, worker).await?.is_some() {
        handled += 1;
    }
    Ok(handled)
}

/// Starts the loops; they stop when `shutdown` turns true, finishing the item in hand.
pub fn spawn(ctx: Context, mailer: Mailer, mut shutdown: watch::Receiver<bool>) -> Vec<tokio::task::JoinHandle<()>> {
    let worker = worker_id();
    let mail_ctx = ctx.clone();
    let mut mail_shutdown = shutdown.clone();
    let mail = tokio::spawn(async move {
        loop {
            match drain(&mail_ctx, &mailer, &worker).await {
                Ok(_) => {}
                Err(e) => tracing::error!(job.kind = "send_mail", error = %format!("{e:#}"), "mail job failed"),
            }
            // Woken at once by a local enqueue; the timer picks up other instances'
            // mail and retries that fall due.
            tokio::select! {
                _ = mail_ctx.mail_wakeup.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(5)) => {}
                _ = mail_shutdown.changed() => break,
            }
            if *mail_shutdown.borrow() {
                break;
            }
        }
    });
    let cleanup = tokio::spawn(async move {
        loop {
            if let Err(e) = cleanup::run(&ctx).await {
                tracing::error!(job.kind = "cleanup", error = %format!("{e:#}"), "cleanup failed");
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(600)) => {}
                _ = shutdown.changed() => break,
            }
        }
    });
    vec![mail, cleanup]
}
