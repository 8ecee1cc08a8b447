//! Pause instead of cancel, the cancel survey, and resume: through the Stripe
//! mock (the requests Stripe gets, the signed events that follow) and the demo
//! gateway (the demo portal), with what voting and the churn report make of it.
use patronage::clock::{DAY, format_date};
use patronage::domain::Role;
use serde_json::json;

use crate::helpers::TestApp;
use crate::helpers::voting::{demo_patron, open_round, open_topic, staff, vote, vote_count};
use crate::stripe::paying_patron;

/// Stripe's subscription `sub_inv` renews in `days` (the fixture's period ended
/// long ago), applied as Stripe would report it.
async fn renews_in(app: &TestApp, days: i64) -> i64 {
    let mock = app.stripe();
    let mut sub = mock.get("sub_inv").expect("the subscription");
    let end = (app.clock().now() + days * DAY) / 1_000_000;
    sub["items"]["data"][0]["current_period_end"] = json!(end);
    mock.put(sub.clone());
    app.send_stripe_event("customer.subscription.updated", sub).await.1.assert_status(200);
    end * 1_000_000
}

/// Our id of the mirror of a provider's subscription (what the forms carry).
async fn our_id(app: &TestApp, provider_id: &str) -> String {
    let (id,): (String,) = sqlx::query_as("select id from subscriptions where provider_id = $1")
        .bind(provider_id)
        .fetch_one(app.db().read())
        .await
        .expect("mirrored");
    id
}

async fn mirror(app: &TestApp, provider_id: &str) -> (i64, Option<String>, Option<i64>, i64) {
    sqlx::query_as(
        "select mrr_minor, pause_behavior, pause_resumes_at, cancel_at_period_end from subscriptions where provider_id = $1",
    )
    .bind(provider_id)
    .fetch_one(app.db().read())
    .await
    .expect("mirrored")
}

async fn movements(app: &TestApp) -> Vec<(String, i64)> {
    sqlx::query_as("select kind, delta_minor from mrr_movements order by created_at, id")
        .fetch_all(app.db().read())
        .await
        .expect("movements")
}

#[tokio::test]
async fn a_patron_pauses_and_resumes_through_stripe_and_a_paused_patron_cannot_cast_new_votes() {
    let app = TestApp::builder().with_stripe().spawn().await;
    paying_patron(&app, "pause@example.org").await;
    renews_in(&app, 20).await;
    let patron = app.new_browser();
    app.sign_in_member(&patron, "pause@example.org").await;
    let editor = staff(&app, "editor@example.org", Role::Editor).await;
    let topics = [open_topic(&editor, "Rents").await, open_topic(&editor, "Parks").await];
    let round = open_round(&app, &editor, &topics, 2, true).await;
    vote(&patron, &round, &topics[0]).await.assert_status(303);

    // Before cancelling, the offer: a pause of one, two or three months.
    let sub = our_id(&app, "sub_inv").await;
    patron
        .get("/account/cancel")
        .send()
        .await
        .assert_status(200)
        .assert_contains("Pause for 1 month")
        .assert_contains("Pause for 3 months")
        .assert_contains("Why are you leaving?");
    let before = app.clock().now() / 1_000_000;
    patron.post_form("/account/pause", &[("subscription", &sub), ("months", "2")]).send().await.assert_status(303);
    let after = app.clock().now() / 1_000_000;

    // Stripe got exactly the fields of a pause that voids the invoices meanwhile.
    let sent = app.stripe().requests_to("POST", "/v1/subscriptions/sub_inv");
    assert_eq!(sent.len(), 1);
    let mut fields: Vec<&str> = sent[0].form.iter().map(|(k, _)| k.as_str()).collect();
    fields.sort_unstable();
    assert_eq!(fields, ["pause_collection[behavior]", "pause_collection[resumes_at]"]);
    assert_eq!(sent[0].field("pause_collection[behavior]"), Some("void"));
    let resumes: i64 = sent[0].field("pause_collection[resumes_at]").and_then(|v| v.parse().ok()).expect("a time");
    assert!((before + 60 * 86_400..=after + 60 * 86_400).contains(&resumes), "{resumes}");
    assert!(sent[0].idempotency_key.is_some());

    // The signed event Stripe sends next is what the mirror trusts (re-read from Stripe).
    let paused = app.stripe().get("sub_inv").expect("sub");
    let (event, r) = app.send_stripe_event("customer.subscription.updated", paused).await;
    r.assert_status(200);
    assert_eq!(app.stripe_event_status(&event).await, "applied");
    assert_eq!(mirror(&app, "sub_inv").await, (0, Some("void".into()), Some(resumes * 1_000_000), 0));
    // An older event delivered late (the subscription before the pause) undoes nothing.
    let mut stale = app.stripe().get("sub_inv").expect("sub");
    stale["pause_collection"] = serde_json::Value::Null;
    app.send_stripe_event("customer.subscription.created", stale).await.1.assert_status(200);
    assert_eq!(mirror(&app, "sub_inv").await.1.as_deref(), Some("void"));
    // No MRR while paused: churn (voluntary), as the README says.
    assert_eq!(movements(&app).await, [("new".to_string(), 600), ("churn".to_string(), -600)]);

    let resume_date = format_date(resumes * 1_000_000);
    patron
        .get("/account")
        .send()
        .await
        .assert_contains("Patron — paused")
        .assert_contains(&format!("Your payments are paused: they resume on {resume_date}."))
        .assert_contains("Resume payments now");

    // Paused: no new votes (said clearly), and the vote cast before still counts.
    vote(&patron, &round, &topics[1])
        .await
        .assert_status(403)
        .assert_contains("Your patronage is paused, so you cannot cast new votes until your payments resume.");
    assert_eq!(vote_count(&app, &round).await, 1);
    let (kept,): (i64,) = sqlx::query_as("select count(*) from votes where round_id = $1 and topic_id = $2")
        .bind(&round)
        .bind(&topics[0])
        .fetch_one(app.db().read())
        .await
        .expect("votes");
    assert_eq!(kept, 1);

    // Resume: the pause is cleared at Stripe (an empty pause_collection) and MRR comes back.
    patron.post_form("/account/resume", &[("subscription", &sub)]).send().await.assert_status(303);
    let sent = app.stripe().requests_to("POST", "/v1/subscriptions/sub_inv");
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].form, [("pause_collection".to_string(), String::new())]);
    app.send_stripe_event("customer.subscription.updated", app.stripe().get("sub_inv").expect("sub"))
        .await
        .1
        .assert_status(200);
    assert_eq!(mirror(&app, "sub_inv").await, (600, None, None, 0));
    assert_eq!(movements(&app).await.last(), Some(&("reactivation".to_string(), 600)));
    patron.get("/account").send().await.assert_contains("Renews on").assert_not_contains("paused");
    vote(&patron, &round, &topics[1]).await.assert_status(303);
}

#[tokio::test]
async fn a_cancel_reason_and_words_are_stored_once_and_shown_in_the_churn_report_and_its_csv() {
    let app = TestApp::builder().with_stripe().spawn().await;
    paying_patron(&app, "leaving@example.org").await;
    let ends = renews_in(&app, 20).await;
    let patron = app.new_browser();
    app.sign_in_member(&patron, "leaving@example.org").await;
    let sub = our_id(&app, "sub_inv").await;
    let form = [
        ("subscription", sub.as_str()),
        ("reason", "too_expensive"),
        ("comment", "=HYPERLINK(\"x\") Prices went up; I will be back."),
    ];
    patron.post_form("/account/cancel", &form).send().await.assert_status(303);
    // Sent twice (a double click): one answer, and Stripe asked once.
    patron.post_form("/account/cancel", &form).send().await.assert_status(303);
    let sent = app.stripe().requests_to("POST", "/v1/subscriptions/sub_inv");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].form, [("cancel_at_period_end".to_string(), "true".to_string())]);
    assert_eq!(app.count("select count(*) from cancel_reasons").await, 1);
    assert_eq!(mirror(&app, "sub_inv").await.3, 1);
    patron
        .get("/account")
        .send()
        .await
        .assert_contains(&format!("You cancelled: your patronage ends on {}", format_date(ends)))
        .assert_contains("Resume my membership")
        .assert_not_contains("Cancel my membership");

    let admin = staff(&app, "admin@example.org", Role::Admin).await;
    admin
        .get("/admin/reports/churn")
        .send()
        .await
        .assert_status(200)
        .assert_contains("It costs more than I can afford right now")
        .assert_contains("Prices went up; I will be back.");
    let csv = admin.get("/admin/reports/churn.csv").send().await;
    csv.assert_status(200);
    let lines: Vec<&str> = csv.body.lines().collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let column = header.iter().position(|h| *h == "\"reason_too_expensive\"").expect("a column per reason");
    let range = lines.iter().find(|l| l.starts_with("\"range\",\"EUR\"")).expect("the range's row");
    assert_eq!(range.split(',').nth(column), Some("\"1\""));
    let words = admin.get("/admin/reports/churn-reasons.csv").send().await;
    words
        .assert_status(200)
        .assert_contains("\"too_expensive\",\"'=HYPERLINK(\"\"x\"\") Prices went up; I will be back.\"");
    // Editors do not see revenue, nor what patrons wrote about leaving.
    let editor = staff(&app, "editor@example.org", Role::Editor).await;
    editor.get("/admin/reports/churn").send().await.assert_status(403);
    editor.get("/admin/reports/churn-reasons.csv").send().await.assert_status(403);
}

#[tokio::test]
async fn an_unknown_reason_or_overlong_words_are_refused_and_nothing_is_stored() {
    let app = TestApp::builder().with_stripe().spawn().await;
    paying_patron(&app, "careful@example.org").await;
    renews_in(&app, 20).await;
    let patron = app.new_browser();
    app.sign_in_member(&patron, "careful@example.org").await;
    let sub = our_id(&app, "sub_inv").await;
    patron
        .post_form("/account/cancel", &[("subscription", &sub), ("reason", "bored"), ("comment", "hm")])
        .send()
        .await
        .assert_status(422)
        .assert_contains("Choose one of the reasons in the list.")
        .assert_contains(">hm</textarea>");
    let long = "x".repeat(501);
    patron
        .post_form("/account/cancel", &[("subscription", &sub), ("reason", "other"), ("comment", &long)])
        .send()
        .await
        .assert_status(422)
        .assert_contains("Please keep it to 500 characters.");
    patron
        .post_form("/account/pause", &[("subscription", &sub), ("months", "6")])
        .send()
        .await
        .assert_status(400)
        .assert_contains("A pause lasts one, two or three months.");
    assert!(app.stripe().requests_to("POST", "/v1/subscriptions/sub_inv").is_empty());
    assert_eq!(app.count("select count(*) from cancel_reasons").await, 0);
    assert_eq!(mirror(&app, "sub_inv").await, (600, None, None, 0));
}

#[tokio::test]
async fn a_member_cannot_cancel_pause_or_resume_someone_elses_subscription() {
    let app = TestApp::builder().with_stripe().spawn().await;
    paying_patron(&app, "owner@example.org").await;
    renews_in(&app, 20).await;
    let theirs = our_id(&app, "sub_inv").await;
    let other = app.new_browser();
    app.sign_in_member(&other, "other@example.org").await;
    for id in [theirs.as_str(), "not-an-id", ""] {
        other
            .post_form("/account/cancel", &[("subscription", id), ("reason", "other"), ("comment", "forged")])
            .send()
            .await
            .assert_status(404);
        other.post_form("/account/pause", &[("subscription", id), ("months", "1")]).send().await.assert_status(404);
        other.post_form("/account/resume", &[("subscription", id)]).send().await.assert_status(404);
    }
    assert!(app.stripe().requests_to("POST", "/v1/subscriptions/sub_inv").is_empty());
    assert_eq!(app.count("select count(*) from cancel_reasons").await, 0);
    assert_eq!(mirror(&app, "sub_inv").await, (600, None, None, 0));
}

#[tokio::test]
async fn a_cancellation_can_be_resumed_before_it_lapses_and_not_after() {
    let app = TestApp::builder().with_stripe().spawn().await;
    paying_patron(&app, "undecided@example.org").await;
    renews_in(&app, 20).await;
    let patron = app.new_browser();
    app.sign_in_member(&patron, "undecided@example.org").await;
    let sub = our_id(&app, "sub_inv").await;
    let cancel = [("subscription", sub.as_str()), ("reason", "temporary"), ("comment", "")];
    patron.post_form("/account/cancel", &cancel).send().await.assert_status(303);
    patron.post_form("/account/resume", &[("subscription", &sub)]).send().await.assert_status(303);
    let sent = app.stripe().requests_to("POST", "/v1/subscriptions/sub_inv");
    assert_eq!(sent[1].form, [("cancel_at_period_end".to_string(), "false".to_string())]);
    assert_eq!(mirror(&app, "sub_inv").await.3, 0);
    assert_eq!(app.count("select count(*) from cancel_reasons").await, 0, "not a cancellation after all");
    patron.get("/account").send().await.assert_contains("Renews on").assert_contains("Cancel my membership");

    // Cancelled again, and the period ends: too late to resume (Stripe is not asked).
    patron.post_form("/account/cancel", &cancel).send().await.assert_status(303);
    app.advance_clock(21 * DAY);
    patron
        .post_form("/account/resume", &[("subscription", &sub)])
        .send()
        .await
        .assert_status(409)
        .assert_contains("This membership has already ended");
    assert_eq!(app.stripe().requests_to("POST", "/v1/subscriptions/sub_inv").len(), 3);
    // Once Stripe says it ended, the same.
    let mut ended = app.stripe().get("sub_inv").expect("sub");
    ended["status"] = json!("canceled");
    ended["ended_at"] = json!(app.clock().now() / 1_000_000);
    app.stripe().put(ended.clone());
    app.send_stripe_event("customer.subscription.deleted", ended).await.1.assert_status(200);
    app.deliver_mail().await;
    patron.post_form("/account/resume", &[("subscription", &sub)]).send().await.assert_status(409);
    assert_eq!(app.stripe().requests_to("POST", "/v1/subscriptions/sub_inv").len(), 3);
    assert_eq!(app.count("select count(*) from cancel_reasons").await, 1);
}

#[tokio::test]
async fn the_demo_portal_offers_a_pause_and_the_survey_and_the_demo_gateway_resumes_on_time() {
    let app = TestApp::spawn().await;
    let patron = demo_patron(&app, "demo.pause@example.org", "supporter").await;
    patron.post_form("/account/billing", &[]).send().await.assert_status(303);
    // The portal's cancel step: the survey, and a pause or a cheaper tier instead.
    let step = patron.post_form("/demo/portal", &[("action", "cancel_at_period_end")]).send().await;
    step.assert_status(200)
        .assert_contains("Cancel at the end of this period?")
        .assert_contains("Why are you leaving?")
        .assert_contains("Pause for 2 months")
        .assert_contains("Pay less");
    let (sub, provider): (String, String) = sqlx::query_as("select id, provider_id from subscriptions")
        .fetch_one(app.db().read())
        .await
        .expect("a demo subscription");
    patron.post_form("/account/pause", &[("subscription", &sub), ("months", "1")]).send().await.assert_status(303);
    patron.get("/account").send().await.assert_contains("Your payments are paused: they resume on");
    assert_eq!(mirror(&app, &provider).await.0, 0);

    // A month on, the pause is over: the demo gateway resumes it (Stripe would).
    app.advance_clock(31 * DAY);
    app.drain_jobs().await;
    assert_eq!(mirror(&app, &provider).await, (600, None, None, 0));
    assert_eq!(
        movements(&app).await,
        [("new".to_string(), 600), ("churn".to_string(), -600), ("reactivation".to_string(), 600)]
    );
    // (Signed in again: a month idle ends a session.)
    app.sign_in_member(&patron, "demo.pause@example.org").await;
    patron.get("/account").send().await.assert_contains("Renews on");

    // Cancelling in the demo portal with a reason: stored, as on the account page.
    patron
        .post_form("/demo/portal", &[("action", "cancel_at_period_end"), ("confirm", "yes"), ("reason", "nope")])
        .send()
        .await
        .assert_status(422)
        .assert_contains("Choose one of the reasons in the list.");
    assert_eq!(app.count("select count(*) from cancel_reasons").await, 0);
    patron
        .post_form(
            "/demo/portal",
            &[
                ("action", "cancel_at_period_end"),
                ("confirm", "yes"),
                ("reason", "coverage"),
                ("comment", "More local news"),
            ],
        )
        .send()
        .await
        .assert_status(303);
    let (reason, comment): (String, Option<String>) =
        sqlx::query_as("select reason, comment from cancel_reasons").fetch_one(app.db().read()).await.expect("stored");
    assert_eq!((reason.as_str(), comment.as_deref()), ("coverage", Some("More local news")));
    patron.get("/account").send().await.assert_contains("You cancelled: your patronage ends on");
}

#[tokio::test]
async fn deleting_the_account_erases_the_words_of_the_cancel_survey() {
    let app = TestApp::spawn().await;
    let patron = demo_patron(&app, "gone@example.org", "supporter").await;
    let (sub,): (String,) =
        sqlx::query_as("select id from subscriptions").fetch_one(app.db().read()).await.expect("a subscription");
    patron
        .post_form("/account/cancel", &[("subscription", &sub), ("reason", "other"), ("comment", "My own words")])
        .send()
        .await
        .assert_status(303);
    patron.post_form("/account/delete", &[("confirm", "yes")]).send().await.assert_status(303);
    app.deliver_mail().await;
    let (reason, comment): (String, Option<String>) =
        sqlx::query_as("select reason, comment from cancel_reasons").fetch_one(app.db().read()).await.expect("kept");
    assert_eq!((reason.as_str(), comment), ("other".to_string().as_str(), None));
}

/// The mirror's tier slug, amount and MRR of a provider's subscription.
async fn plan(app: &TestApp, provider_id: &str) -> (String, i64, i64) {
    sqlx::query_as(
        "select t.slug, s.amount_minor, s.mrr_minor from subscriptions s join tiers t on t.id = s.tier_id
         where s.provider_id = $1",
    )
    .bind(provider_id)
    .fetch_one(app.db().read())
    .await
    .expect("mirrored")
}

#[tokio::test]
async fn a_patron_switches_to_a_cheaper_tier_through_stripe_from_the_next_payment() {
    let app = TestApp::builder().with_stripe().spawn().await;
    paying_patron(&app, "thrifty@example.org").await;
    renews_in(&app, 20).await;
    let patron = app.new_browser();
    app.sign_in_member(&patron, "thrifty@example.org").await;
    let sub = our_id(&app, "sub_inv").await;
    let reader = app.price_id("reader", "month", "eur").await;
    patron.get("/account/cancel").send().await.assert_status(200).assert_contains("Switch to Reader · €3.00");

    patron.post_form("/account/switch", &[("subscription", &sub), ("price", &reader)]).send().await.assert_status(303);
    // Stripe is told the item's new price, without prorating the period paid for.
    let item = app.stripe().get("sub_inv").expect("sub")["items"]["data"][0]["id"].clone();
    let sent = app.stripe().requests_to("POST", "/v1/subscriptions/sub_inv");
    assert_eq!(sent.len(), 1);
    let stripe_price = app.stripe().requests_to("POST", "/v1/prices").len();
    assert_eq!(stripe_price, 2, "the Reader price was created at Stripe on first use");
    assert_eq!(sent[0].field("items[0][id]"), item.as_str());
    assert!(sent[0].field("items[0][price]").is_some_and(|p| p.starts_with("price_mock")));
    assert_eq!(sent[0].field("proration_behavior"), Some("none"));
    assert_eq!(sent[0].field("metadata[price_id]"), Some(reader.as_str()));
    assert_eq!(plan(&app, "sub_inv").await, ("reader".to_string(), 300, 300));

    // Stripe's event that follows changes nothing more, however often it comes.
    for _ in 0..2 {
        let now = app.stripe().get("sub_inv").expect("sub");
        app.send_stripe_event("customer.subscription.updated", now).await.1.assert_status(200);
    }
    assert_eq!(plan(&app, "sub_inv").await, ("reader".to_string(), 300, 300));
    assert_eq!(movements(&app).await, [("new".to_string(), 600), ("contraction".to_string(), -300)]);
    assert_eq!(app.count("select count(*) from tier_changes").await, 1);
    assert_eq!(app.count("select count(*) from cancel_reasons").await, 0, "still a patron");
    patron.get("/account").send().await.assert_contains("Reader").assert_contains("Renews on");
}

#[tokio::test]
async fn a_switch_to_a_price_not_on_offer_or_not_allowed_is_refused_and_changes_nothing() {
    let app = TestApp::builder().with_stripe().spawn().await;
    paying_patron(&app, "picky@example.org").await;
    renews_in(&app, 20).await;
    let patron = app.new_browser();
    app.sign_in_member(&patron, "picky@example.org").await;
    let sub = our_id(&app, "sub_inv").await;
    let not_on_offer = [
        app.price_id("supporter", "month", "eur").await, // what they pay now
        app.price_id("reader", "year", "eur").await,     // another interval
        app.price_id("reader", "month", "usd").await,    // another currency
        "00000000-0000-7000-9000-00000000ffff".to_string(),
        "<script>".to_string(),
        String::new(),
    ];
    for price in &not_on_offer {
        patron
            .post_form("/account/switch", &[("subscription", &sub), ("price", price)])
            .send()
            .await
            .assert_status(409)
            .assert_contains("That price is not on offer for your membership");
    }
    // Someone else's subscription, or none, is not found.
    let reader = app.price_id("reader", "month", "eur").await;
    let other = app.new_browser();
    app.sign_in_member(&other, "other@example.org").await;
    for id in [sub.as_str(), "not-an-id"] {
        other.post_form("/account/switch", &[("subscription", id), ("price", &reader)]).send().await.assert_status(404);
    }
    // Paused: resume first.
    patron.post_form("/account/pause", &[("subscription", &sub), ("months", "1")]).send().await.assert_status(303);
    patron
        .post_form("/account/switch", &[("subscription", &sub), ("price", &reader)])
        .send()
        .await
        .assert_status(409)
        .assert_contains("Only an active membership that is not paused or ending can change tier");
    let sent = app.stripe().requests_to("POST", "/v1/subscriptions/sub_inv");
    assert_eq!(sent.len(), 1, "only the pause reached Stripe");
    assert_eq!(plan(&app, "sub_inv").await.0, "supporter");
    assert_eq!(app.count("select count(*) from tier_changes").await, 0);
}

#[tokio::test]
async fn a_demo_patron_switches_to_a_cheaper_tier_at_once() {
    let app = TestApp::spawn().await;
    let patron = demo_patron(&app, "demo.switch@example.org", "supporter").await;
    let (sub, provider): (String, String) =
        sqlx::query_as("select id, provider_id from subscriptions").fetch_one(app.db().read()).await.expect("sub");
    let reader = app.price_id("reader", "month", "eur").await;
    patron.get("/account/cancel").send().await.assert_contains("Switch to Reader");
    patron.post_form("/account/switch", &[("subscription", &sub), ("price", &reader)]).send().await.assert_status(303);
    assert_eq!(plan(&app, &provider).await, ("reader".to_string(), 300, 300));
    assert_eq!(movements(&app).await.last(), Some(&("contraction".to_string(), -300)));
    // Already on the cheapest tier: nothing cheaper is offered.
    patron.get("/account/cancel").send().await.assert_status(200).assert_not_contains("Switch to");
}
