//! Background work. Each instance runs the loops; work is taken from the database
//! with a lease, so several instances never do the same job twice.
pub mod cleanup;
pub mod send_mail;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};

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
    let mut handled = apply_stripe_events(ctx, worker, &|| true).await?;
    handled += close_rounds(ctx, worker).await?;
    handled += send_mail(ctx, mailer, worker, &|| true).await?;
    Ok(handled)
}

/// Applies the Stripe events that are due (new ones: the webhook wakes this job;
/// and retries), then delivers and ends the gift memberships that are due.
/// Stops between two events once `go_on` says so (the process is stopping).
async fn apply_stripe_events(ctx: &Context, worker: &str, go_on: &(dyn Fn() -> bool + Sync)) -> anyhow::Result<usize> {
    // The demo gateway's own "events": pauses that ran out (Stripe reports its own),
    let resumed = crate::services::retention::resume_due_demo_pauses(ctx).await?;
    // and trials that ended: their first payment.
    let charged = crate::services::checkout::charge_due_demo_trials(ctx).await?;
    let applied = crate::services::stripe_events::drain_while(ctx, worker, go_on).await?;
    // Gift memberships due to be delivered or over: after the events, so a gift
    // paid through one is delivered in the same run.
    let gifts = crate::services::gifts::run_due(ctx).await?;
    Ok(resumed + charged + applied + gifts)
}

/// Closes the rounds whose time is up and records their results.
async fn close_rounds(ctx: &Context, worker: &str) -> anyhow::Result<usize> {
    Ok(crate::services::voting::close_due_rounds(ctx, worker).await?)
}

/// Sends the mail that is due, one message at a time, until `go_on` says stop.
async fn send_mail(
    ctx: &Context,
    mailer: &Mailer,
    worker: &str,
    go_on: &(dyn Fn() -> bool + Sync),
) -> anyhow::Result<usize> {
    let mut sent = 0;
    while go_on() && send_mail::send_next(ctx, mailer, worker).await?.is_some() {
        sent += 1;
    }
    Ok(sent)
}

/// Queues the anniversary emails that are due (not part of [`drain`]: it is a
/// look at the calendar, not a queue; tests run it themselves).
pub async fn send_anniversaries(ctx: &Context) -> anyhow::Result<usize> {
    Ok(crate::services::anniversaries::send_due(ctx).await?)
}

/// Reminds patrons whose PaymentMethod's card expires this month or next
/// (Stripe sends no event for those): a look at the calendar as well, run with
/// the anniversaries, not on every webhook; tests run it themselves.
pub async fn remind_expiring_cards(ctx: &Context) -> anyhow::Result<usize> {
    Ok(crate::services::dunning::remind_expiring_cards(ctx).await?)
}

/// The hourly look at the calendar: anniversaries and expiring cards.
async fn calendar(ctx: &Context) -> anyhow::Result<usize> {
    Ok(send_anniversaries(ctx).await? + remind_expiring_cards(ctx).await?)
}

/// How a background loop is run: its name in logs, how often it looks for work,
/// and what wakes it sooner.
struct Schedule {
    kind: &'static str,
    every: Duration,
    wakeup: Option<Arc<Notify>>,
}

/// Runs `work` on `schedule` until `shutdown` turns true. A queue's run stops
/// between two items once it does (what is left is taken up by the next start,
/// or by another instance): a backlog of thousands of events or emails must
/// not hold a deploy until the service manager kills the process.
fn spawn_loop<F, Fut>(schedule: Schedule, mut shutdown: watch::Receiver<bool>, work: F) -> tokio::task::JoinHandle<()>
where
    F: Fn(watch::Receiver<bool>) -> Fut + Send + 'static,
    Fut: Future<Output = anyhow::Result<usize>> + Send,
{
    tokio::spawn(async move {
        let wakeup = schedule.wakeup.unwrap_or_default();
        loop {
            if let Err(e) = work(shutdown.clone()).await {
                tracing::error!(job.kind = schedule.kind, error = %format!("{e:#}"), "background job failed");
            }
            tokio::select! {
                _ = wakeup.notified() => {}
                _ = tokio::time::sleep(schedule.every) => {}
                _ = shutdown.changed() => break,
            }
            if *shutdown.borrow() {
                break;
            }
        }
    })
}

/// How often the loops look for due work when nothing wakes them.
pub const POLL_EVERY: Duration = Duration::from_secs(5);

/// Starts the loops: Stripe events, closing rounds and mail (every `poll`; Stripe
/// events and mail at once when this instance stores some), the calendar:
/// anniversaries and expiring cards (hourly), and the cleanup (every 10 min).
pub fn spawn(
    ctx: Context,
    mailer: Mailer,
    poll: Duration,
    shutdown: watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let worker: Arc<str> = worker_id().into();
    let every = |kind, every| Schedule { kind, every, wakeup: None };
    let events = {
        let schedule = Schedule { wakeup: Some(ctx.stripe_wakeup.clone()), ..every("apply_stripe_events", poll) };
        let (ctx, worker) = (ctx.clone(), worker.clone());
        spawn_loop(schedule, shutdown.clone(), move |stop| {
            let (ctx, worker) = (ctx.clone(), worker.clone());
            async move { apply_stripe_events(&ctx, &worker, &|| !*stop.borrow()).await }
        })
    };
    let rounds = {
        let (ctx, worker) = (ctx.clone(), worker.clone());
        spawn_loop(every("close_rounds", poll), shutdown.clone(), move |_| {
            let (ctx, worker) = (ctx.clone(), worker.clone());
            async move { close_rounds(&ctx, &worker).await }
        })
    };
    let mail = {
        let schedule = Schedule { wakeup: Some(ctx.mail_wakeup.clone()), ..every("send_mail", poll) };
        let (ctx, worker) = (ctx.clone(), worker.clone());
        spawn_loop(schedule, shutdown.clone(), move |stop| {
            let (ctx, mailer, worker) = (ctx.clone(), mailer.clone(), worker.clone());
            async move { send_mail(&ctx, &mailer, &worker, &|| !*stop.borrow()).await }
        })
    };
    let calendar = {
        let ctx = ctx.clone();
        spawn_loop(every("calendar", Duration::from_secs(3600)), shutdown.clone(), move |_| {
            let ctx = ctx.clone();
            async move { calendar(&ctx).await }
        })
    };
    let cleanup = spawn_loop(every("cleanup", Duration::from_secs(600)), shutdown, move |_| {
        let ctx = ctx.clone();
        async move { cleanup::run(&ctx).await.map(|()| 0) }
    });
    vec![events, rounds, mail, calendar, cleanup]
}
