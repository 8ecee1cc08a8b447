//! The harness itself: a test that ends with work a job would still do (mail to send,
//! Stripe events to apply, rounds to close) fails and says how to finish it, unless it
//! opts out by name.
use patronage::clock::DAY;
use patronage::db::stripe_events::{self, NewEvent};
use patronage::domain::Role;
use patronage::domain::StripeEventStatus as EventStatus;

use crate::helpers::TestApp;
use crate::helpers::voting::{open_round, open_topic, staff};

/// Stores an event as the webhook does, as if Stripe could not be reached to apply it.
async fn leave_a_stripe_event_pending(app: &TestApp) {
    let event = NewEvent {
        id: "evt_left_pending",
        event_type: "invoice.paid",
        object_id: Some("in_left_pending"),
        api_version: None,
        payload: "{}",
        status: EventStatus::Pending,
        stripe_created_at: None,
    };
    let stored = stripe_events::insert_if_absent(app.db().read(), &event, app.clock().now()).await;
    assert!(stored.expect("the event is stored"));
}

/// A round open for a week, and the app's clock moved past its close (the real
/// clock is not).
async fn leave_a_due_round_open(app: &TestApp) {
    let editor = staff(app, "editor@newsroom.test", Role::Editor).await;
    let topic = open_topic(&editor, "Left on the ballot").await;
    open_round(app, &editor, &[topic], 3, false).await;
    app.advance_clock(8 * DAY);
}

#[tokio::test]
#[should_panic(expected = "1 email(s) still in the outbox: send them with app.deliver_mail()")]
async fn a_test_that_leaves_mail_in_the_outbox_fails() {
    let app = TestApp::spawn().await;
    app.post_join(&app.client, "unsent@example.org", "").await.assert_status(303);
}

#[tokio::test]
#[should_panic(expected = "1 Stripe event(s) still pending (stored, not applied, to be retried): apply them")]
async fn a_test_that_leaves_a_stripe_event_pending_fails() {
    let app = TestApp::spawn().await;
    leave_a_stripe_event_pending(&app).await;
}

#[tokio::test]
#[should_panic(expected = "1 voting round(s) past their closing time by the app's clock but not closed: close them")]
async fn a_test_that_leaves_a_round_open_past_its_closing_time_by_the_apps_clock_fails() {
    let app = TestApp::spawn().await;
    leave_a_due_round_open(&app).await;
}

#[tokio::test]
async fn a_test_may_leave_mail_events_and_rounds_undone_when_it_says_so() {
    let mut app = TestApp::spawn().await;
    app.post_join(&app.client, "unsent@example.org", "").await.assert_status(303);
    leave_a_stripe_event_pending(&app).await;
    leave_a_due_round_open(&app).await;
    app.allow_pending_mail();
    app.allow_pending_stripe_events();
    app.allow_unclosed_rounds();
}

#[tokio::test]
async fn a_round_the_job_has_closed_is_no_leftover() {
    let app = TestApp::spawn().await;
    leave_a_due_round_open(&app).await;
    app.drain_jobs().await;
}
