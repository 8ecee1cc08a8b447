//! How Stripe's events reach us and are applied: answered as soon as they are
//! stored, applied by the background job (woken at once), by any number of
//! workers at a time without racing, and a patron told about each failed renewal.
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, concurrently, stripe_event};
use crate::stripe::{Patron, complete_checkout, paying_patron, start_checkout};

/// An invoice of subscription `sub_inv` that Stripe tried to charge `attempts` times.
fn unpaid_invoice(app: &TestApp, p: &Patron, id: &str, attempts: i64, next_attempt: Option<i64>) -> Value {
    let mut invoice = crate::helpers::stripe_mock::fixture("invoice");
    invoice["id"] = json!(id);
    invoice["customer"] = json!(p.customer);
    invoice["status"] = json!("open");
    invoice["amount_due"] = json!(600);
    invoice["amount_paid"] = json!(0);
    invoice["amount_remaining"] = json!(600);
    invoice["currency"] = json!("eur");
    invoice["attempt_count"] = json!(attempts);
    invoice["next_payment_attempt"] = json!(next_attempt);
    invoice["hosted_invoice_url"] = json!(format!("https://invoice.stripe.com/i/acct_test/{id}"));
    invoice["parent"] = json!({ "type": "subscription_details", "quote_details": null,
        "subscription_details": { "metadata": {}, "subscription": "sub_inv" } });
    invoice["payments"] = json!({ "object": "list", "data": [], "has_more": false, "url": "/v1/invoice_payments" });
    app.stripe().put(invoice.clone());
    invoice
}

#[tokio::test]
async fn the_webhook_is_answered_once_the_event_is_stored_without_calling_stripe() {
    let app = TestApp::builder().with_stripe().spawn().await;
    let p = start_checkout(&app, "quick.answer@example.org").await;
    let session = complete_checkout(&app, &p, "sub_quick", "active");
    let before = app.stripe().requests().len();
    let (id, body) = stripe_event("checkout.session.completed", session);
    let r = app.deliver_signed(&body).await;
    r.assert_status(200);
    assert_eq!(r.json()["status"], "pending");
    assert_eq!(app.stripe().requests().len(), before, "no Stripe call before the answer");
    assert_eq!(app.stripe_event_status(&id).await, "pending");
    assert_eq!(app.count("select count(*) from subscriptions").await, 0);

    // The job applies it from the store.
    app.drain_jobs().await;
    assert_eq!(app.stripe_event_status(&id).await, "applied");
    assert_eq!(app.count("select count(*) from subscriptions where status = 'active'").await, 1);
}

#[tokio::test]
async fn a_stored_event_wakes_the_job_at_once() {
    // The job would not look again for an hour: only the webhook's wake-up applies the event.
    let app = TestApp::builder().with_stripe().with_background_jobs().job_poll(Duration::from_secs(3600)).spawn().await;
    let p = start_checkout(&app, "woken@example.org").await;
    let session = complete_checkout(&app, &p, "sub_woken", "active");
    // The loops' first run (at start) is over before the event arrives.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (id, body) = stripe_event("checkout.session.completed", session);
    app.deliver_signed(&body).await.assert_status(200);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while app.stripe_event_status(&id).await != "applied" {
        assert!(tokio::time::Instant::now() < deadline, "the event was not applied until the next poll");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(app.count("select count(*) from subscriptions where status = 'active'").await, 1);
}

/// Several workers (instances) applying the events of new subscriptions at once:
/// each subscription is recorded once, with one "new" MRR movement, and no
/// event fails or waits for a retry.
#[tokio::test]
async fn workers_applying_events_of_one_new_subscription_at_once_never_race() {
    let app = TestApp::builder().with_stripe().spawn().await;
    let mut events = Vec::new();
    for n in 0..8 {
        let p = start_checkout(&app, &format!("race{n}@example.org")).await;
        let sub_id = format!("sub_race{n}");
        let session = complete_checkout(&app, &p, &sub_id, "active");
        let sub = app.stripe().get(&sub_id).expect("subscription");
        for (event_type, object) in [
            ("checkout.session.completed", session),
            ("customer.subscription.created", sub.clone()),
            ("customer.subscription.updated", sub),
        ] {
            let (id, body) = stripe_event(event_type, object);
            app.deliver_signed(&body).await.assert_status(200);
            events.push(id);
        }
    }
    let worker = |w: usize| format!("instance-{w}");
    concurrently(3, async |w| {
        patronage::services::stripe_events::drain(&app.ctx, &worker(w)).await.expect("the workers record outcomes")
    })
    .await;
    for id in &events {
        assert_eq!(app.stripe_event_status(id).await, "applied", "event {id}");
    }
    assert_eq!(app.count("select count(*) from subscriptions").await, 8);
    assert_eq!(app.count("select count(*) from mrr_movements where kind = 'new'").await, 8);
    assert_eq!(app.count("select count(*) from mrr_movements").await, 8, "nothing but one 'new' each");
    assert_eq!(app.count("select cast(coalesce(sum(mrr_minor), 0) as bigint) from subscriptions").await, 8 * 600);
}

#[tokio::test]
async fn each_failed_renewal_attempt_sends_one_email_with_links_to_pay_and_to_change_the_card() {
    let app = TestApp::builder().with_stripe().spawn().await;
    let p = paying_patron(&app, "declined@example.org").await;
    app.deliver_mail().await;
    let next = 1_790_400_000; // 2026-09-26
    let invoice = unpaid_invoice(&app, &p, "in_declined", 1, Some(next));
    let mut sub = app.stripe().get("sub_inv").expect("subscription");
    sub["status"] = json!("past_due");
    app.stripe().put(sub);

    let (first, _) = app.send_stripe_event("invoice.payment_failed", invoice.clone()).await;
    assert_eq!(app.stripe_event_status(&first).await, "applied");
    let mail = app.deliver_mail().await;
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].to, vec!["declined@example.org".to_string()]);
    assert_eq!(mail[0].subject().as_deref(), Some("Your payment to The Test Gazette did not go through"));
    let text = mail[0].text_body();
    assert!(text.contains("€6.00") && text.contains("attempt 1") && text.contains("2026-09-26"), "{text}");
    assert!(mail[0].first_link_containing("https://invoice.stripe.com/i/acct_test/in_declined").is_some());
    assert!(mail[0].first_link_containing(&format!("{}/account", app.base_url)).is_some());

    // The same attempt again (a redelivery, or a second event type for it): no second email.
    app.send_stripe_event("invoice.payment_failed", invoice.clone()).await;
    assert!(app.deliver_mail().await.is_empty(), "one email per attempt");

    // Stripe's second attempt fails too, the last one it will make: a second email that says so.
    let invoice = unpaid_invoice(&app, &p, "in_declined", 2, None);
    app.send_stripe_event("invoice.payment_failed", invoice).await;
    let mail = app.deliver_mail().await;
    assert_eq!(mail.len(), 1);
    let text = mail[0].text_body();
    assert!(text.contains("attempt 2") && text.contains("will not try this card again"), "{text}");

    // Paid meanwhile (with another card): a late failure event tells no one.
    let mut paid = unpaid_invoice(&app, &p, "in_declined", 3, None);
    paid["status"] = json!("paid");
    app.stripe().put(paid.clone());
    app.send_stripe_event("invoice.payment_failed", paid).await;
    assert!(app.deliver_mail().await.is_empty());
}

#[tokio::test]
async fn a_payment_the_bank_wants_confirmed_sends_the_3d_secure_link_in_the_members_language() {
    let app = TestApp::builder().with_stripe().spawn().await;
    let p = paying_patron(&app, "confirm@example.org").await;
    sqlx::query("update members set locale = 'uk' where email = 'confirm@example.org'")
        .execute(&mut *app.db().write().await.expect("a write"))
        .await
        .expect("locale");
    app.deliver_mail().await;
    let invoice = unpaid_invoice(&app, &p, "in_3ds", 1, None);
    app.send_stripe_event("invoice.payment_action_required", invoice.clone()).await;
    app.send_stripe_event("invoice.payment_action_required", invoice).await;
    let mail = app.deliver_mail().await;
    assert_eq!(mail.len(), 1, "one email for one attempt");
    assert_eq!(mail[0].subject().as_deref(), Some("Підтвердьте, будь ласка, платіж для The Test Gazette"));
    assert!(mail[0].first_link_containing("https://invoice.stripe.com/i/acct_test/in_3ds").is_some());
    assert!(mail[0].text_body().contains("6,00\u{a0}€"), "the amount as Ukrainian writes it");
}

/// An instance told to stop while a backlog of events is being applied stops
/// between two events (a deploy must not wait for the backlog, nor be killed in
/// the middle of it); the next instance takes up what is left.
#[tokio::test]
async fn a_stopping_instance_leaves_the_rest_of_a_backlog_to_the_next() {
    let mut app =
        TestApp::builder().with_stripe().with_background_jobs().job_poll(Duration::from_secs(3600)).spawn().await;
    let backlog = 20_000;
    let mut tx = app.db().read().begin().await.expect("a transaction");
    for batch in 0..backlog / 500 {
        let rows: Vec<String> = (0..500)
            .map(|i| {
                format!(
                    "('evt_backlog_{batch}_{i}', 'customer.updated', 'cus_backlog', '{{}}', 'pending', 0, 1790000000000000)"
                )
            })
            .collect();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "insert into stripe_events (id, type, object_id, payload, status, due_at, received_at) values {}",
            rows.join(", ")
        )))
        .execute(&mut *tx)
        .await
        .expect("events stored");
    }
    tx.commit().await.expect("committed");
    let pending = "select count(*) from stripe_events where status = 'pending'";
    app.ctx.stripe_wakeup.notify_one();
    while app.count(pending).await == backlog {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    app.stop().await;
    // The next instance on the same database (its pool: the stopped one closed its own).
    let next = patronage::startup::open_context(&app.config, patronage::clock::Clock::default())
        .await
        .expect("the next instance opens");
    let count = async |sql: &str| -> i64 {
        let (n,): (i64,) =
            sqlx::query_as(sqlx::AssertSqlSafe(sql.to_string())).fetch_one(next.db.read()).await.expect("count");
        n
    };
    assert!(count(pending).await > 0, "the instance stopped in the middle of the backlog, not after it");
    // It applies the rest, each once.
    patronage::services::stripe_events::drain(&next, "the-next-instance").await.expect("drained");
    assert_eq!(count(pending).await, 0);
    assert_eq!(count("select count(*) from stripe_events where status = 'applied'").await, backlog);
}
