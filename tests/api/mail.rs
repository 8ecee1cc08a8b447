use patronage::clock::{HOUR, MINUTE};

use crate::helpers::{TestApp, WAIT, concurrently};

#[tokio::test]
async fn a_failing_mail_server_never_fails_the_request_and_mail_is_retried() {
    let app = TestApp::spawn().await;
    app.smtp.set_failing(true);
    app.post_join(&app.client, "patient@example.org", "").await.assert_status(303);
    assert_eq!(app.drain_jobs().await, 1, "one attempt was made");
    assert_eq!(app.smtp.count(), 0);
    let (attempts, error): (i64, Option<String>) = sqlx::query_as("select attempts, last_error from email_outbox")
        .fetch_one(app.db().read())
        .await
        .expect("queued");
    assert_eq!(attempts, 1);
    assert!(error.is_some());
    // Not due again until the backoff has passed.
    assert_eq!(app.drain_jobs().await, 0);

    app.smtp.set_failing(false);
    app.advance_clock(MINUTE);
    let mail = app.deliver_mail().await;
    assert_eq!(mail.len(), 1);
    let (sent, body): (Option<i64>, String) =
        sqlx::query_as("select sent_at, body_text from email_outbox").fetch_one(app.db().read()).await.expect("row");
    assert!(sent.is_some());
    assert_eq!(body, "", "sign-in links do not stay in the database after delivery");
}

#[tokio::test]
async fn mail_is_given_up_after_the_last_retry() {
    let mut app = TestApp::spawn().await;
    app.smtp.set_failing(true);
    app.post_join(&app.client, "unlucky@example.org", "").await.assert_status(303);
    for _ in 0..10 {
        app.drain_jobs().await;
        app.advance_clock(7 * HOUR);
    }
    let (attempts, failed): (i64, Option<i64>) =
        sqlx::query_as("select attempts, failed_at from email_outbox").fetch_one(app.db().read()).await.expect("row");
    assert_eq!(attempts, 10);
    assert!(failed.is_some());
    assert_eq!(app.drain_jobs().await, 0);
    app.allow_pending_mail();
}

#[tokio::test]
async fn the_background_job_sends_mail_without_being_asked() {
    let mut app = TestApp::builder().with_background_jobs().spawn().await;
    app.post_join(&app.client, "eager@example.org", "").await.assert_status(303);
    let mail = app.smtp.wait_for(1, WAIT).await;
    assert_eq!(mail[0].to, vec!["eager@example.org".to_string()]);
    // Graceful shutdown lets the job record the delivery; Drop then finds no mail pending.
    app.stop().await;
}

#[tokio::test]
async fn two_workers_never_send_the_same_message_twice() {
    let app = TestApp::spawn().await;
    for i in 0..20 {
        app.post_join(&app.new_browser(), &format!("m{i}@example.org"), "").await.assert_status(303);
    }
    let mailer = patronage::mail::Mailer::from_config(Some(&app.smtp.url()), "x <x@news.test>").expect("mailer");
    let workers = ["worker-a", "worker-b"];
    let drained = concurrently(2, async |i| patronage::jobs::drain(&app.ctx, &mailer, workers[i]).await).await;
    assert_eq!(drained.into_iter().map(|n| n.expect("the worker drained the outbox")).sum::<usize>(), 20);
    assert_eq!(app.smtp.count(), 20);
    let mut recipients: Vec<String> = app.smtp.received().into_iter().flat_map(|m| m.to).collect();
    recipients.sort();
    recipients.dedup();
    assert_eq!(recipients.len(), 20);
}

/// An instance told to stop in the middle of a long queue of mail (an update to
/// every patron) stops between two messages; the next one sends the rest, each once.
#[tokio::test]
async fn a_stopping_instance_leaves_the_rest_of_the_mail_to_the_next() {
    let mut app =
        TestApp::builder().with_background_jobs().job_poll(std::time::Duration::from_secs(3600)).spawn().await;
    let queued: i64 = 200;
    let rows: Vec<String> = (0..queued)
        .map(|i| format!("('mail-{i:05}', 'reader{i}@example.org', 'update', 'News', 'Hello', '<p>Hello</p>', 0, 0)"))
        .collect();
    for chunk in rows.chunks(500) {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "insert into email_outbox (id, to_address, template, subject, body_text, body_html, created_at, due_at) values {}",
            chunk.join(", ")
        )))
        .execute(app.db().read())
        .await
        .expect("mail queued");
    }
    app.ctx.mail_wakeup.notify_one();
    app.smtp.wait_for(1, WAIT).await;
    app.stop().await;
    let next = patronage::startup::open_context(&app.config, patronage::clock::Clock::default())
        .await
        .expect("the next instance opens");
    let unsent = "select count(*) from email_outbox where sent_at is null";
    let (left,): (i64,) = sqlx::query_as(unsent).fetch_one(next.db.read()).await.expect("count");
    assert!(left > 0, "the instance stopped in the middle of the queue, not after it");
    let mailer = patronage::mail::Mailer::from_config(Some(&app.smtp.url()), "x <x@news.test>").expect("mailer");
    patronage::jobs::drain(&next, &mailer, "the-next-instance").await.expect("drained");
    let (left,): (i64,) = sqlx::query_as(unsent).fetch_one(next.db.read()).await.expect("count");
    assert_eq!(left, 0);
    let mail = app.smtp.wait_for(queued as usize, WAIT).await;
    let mut to: Vec<&String> = mail.iter().flat_map(|m| &m.to).collect();
    to.sort();
    to.dedup();
    assert_eq!(to.len(), queued as usize, "every message once");
}
