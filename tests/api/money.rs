//! Every cent right: the ledger mirrors Stripe's balance transactions. Stripe is
//! the loopback mock serving Stripe-shaped objects (card payments name their
//! PaymentIntent, refunds and disputes carry balance transactions), and every
//! event is signed with the real scheme and applied to completion.
use serde_json::json;

use crate::helpers::TestApp;
use crate::helpers::voting::{open_round, open_topic, staff, vote};
use crate::stripe::{Patron, complete_checkout, paying_patron, start_checkout};
use patronage::domain::Role;

async fn event_status(app: &TestApp, id: &str) -> String {
    let (status,): (String,) = sqlx::query_as("select status from stripe_events where id = $1")
        .bind(id)
        .fetch_one(app.db().pool())
        .await
        .expect("the event is stored");
    status
}

/// A patron with a live subscription `sub_inv` (checkout applied), no payment yet.
async fn subscribed_patron(app: &TestApp, email: &str) -> Patron {
    let p = start_checkout(app, email).await;
    let session = complete_checkout(app, &p, "sub_inv", "active");
    app.send_stripe_event("checkout.session.completed", session).await.1.assert_status(200);
    p
}

#[tokio::test]
async fn a_plan_change_in_the_portal_moves_the_patron_to_the_new_tier_and_its_vote_weight() {
    let app = TestApp::builder().with_stripe().spawn().await;
    paying_patron(&app, "upgrader@example.org").await;
    // The co-creator price exists at Stripe (created when staff saved the tier).
    let cocreator = app.price_id("cocreator", "month", "eur").await;
    sqlx::query("update tier_prices set stripe_price_id = 'price_cocreator' where id = $1")
        .bind(&cocreator)
        .execute(app.db().pool())
        .await
        .expect("linked");
    // In the Customer Portal the patron switches plans: Stripe changes the item's
    // price; the metadata our checkout wrote stays as it was.
    let mock = app.stripe();
    let mut sub = mock.get("sub_inv").expect("subscription");
    sub["items"]["data"][0]["price"]["id"] = json!("price_cocreator");
    sub["items"]["data"][0]["price"]["unit_amount"] = json!(1200);
    sub["items"]["data"][0]["price"]["unit_amount_decimal"] = json!("1200");
    mock.put(sub.clone());
    app.send_stripe_event("customer.subscription.updated", sub).await.1.assert_status(200);
    let (tier, price, amount): (String, String, i64) = sqlx::query_as(
        "select t.slug, s.price_id, s.amount_minor from subscriptions s join tiers t on t.id = s.tier_id",
    )
    .fetch_one(app.db().pool())
    .await
    .expect("mirrored");
    assert_eq!((tier.as_str(), price.as_str(), amount), ("cocreator", cocreator.as_str(), 1200));

    let editor = staff(&app, "editor@news.test", Role::Editor).await;
    editor
        .post_form("/admin/voting", &[("eligibility", "patrons"), ("weight", "tier"), ("tenure_cap_months", "12")])
        .send()
        .await
        .assert_status(303);
    let topic = open_topic(&editor, "Who owns the harbour?").await;
    let round = open_round(&app, &editor, std::slice::from_ref(&topic), 1, false).await;
    app.sign_in_member(&app.client, "upgrader@example.org").await;
    app.client.get("/account").send().await.assert_contains("Co-creator");
    vote(&app.client, &round, &topic).await.assert_status(303);
    let (weight,): (i64,) =
        sqlx::query_as("select weight from votes").fetch_one(app.db().pool()).await.expect("a vote");
    assert_eq!(weight, 3, "the new tier's weight");
}

#[tokio::test]
async fn a_deleted_customer_is_never_linked_again_and_the_next_checkout_makes_a_new_one() {
    let app = TestApp::builder().with_stripe().spawn().await;
    let p = subscribed_patron(&app, "deleted.again@example.org").await;
    let mock = app.stripe();
    // Deleting the customer at Stripe cancels its subscription; the events may come in either order.
    let mut deleted = crate::helpers::stripe_mock::fixture("customer");
    deleted["id"] = json!(p.customer);
    app.send_stripe_event("customer.deleted", deleted).await.1.assert_status(200);
    let mut sub = mock.get("sub_inv").expect("subscription");
    sub["status"] = json!("canceled");
    sub["ended_at"] = json!(1_790_000_100);
    mock.put(sub.clone());
    let (id, _) = app.send_stripe_event("customer.subscription.deleted", sub).await;
    assert_eq!(event_status(&app, &id).await, "applied", "the cancellation is still mirrored");
    let customer_of = || async {
        let (c,): (Option<String>,) =
            sqlx::query_as("select stripe_customer_id from members").fetch_one(app.db().pool()).await.expect("member");
        c
    };
    assert_eq!(customer_of().await, None, "the deleted customer is not linked again");

    // A new checkout creates a new customer (under a new idempotency key: Stripe would
    // answer the first key with the deleted customer).
    let again = start_checkout(&app, "deleted.again@example.org").await;
    assert_ne!(again.customer, p.customer);
    let created = mock.requests_to("POST", "/v1/customers");
    assert_eq!(created.len(), 2);
    assert_eq!(created[1].idempotency_key.as_deref(), Some(format!("customer-{}-1", p.member_id).as_str()));
    assert_eq!(customer_of().await.as_deref(), Some(again.customer.as_str()));
}

#[tokio::test]
async fn three_decimal_currencies_keep_thousandths() {
    let app = TestApp::builder().with_stripe().spawn().await;
    let (tier,): (String,) =
        sqlx::query_as("select id from tiers where slug = 'supporter'").fetch_one(app.db().pool()).await.expect("tier");
    sqlx::query("insert into tier_prices (id, tier_id, interval, currency, amount_minor, flexible, stripe_price_id, created_at) values ('kwd-price', $1, 'month', 'kwd', 2500, 0, 'price_kwd', 0)")
        .bind(&tier)
        .execute(app.db().pool())
        .await
        .expect("a dinar price");
    app.new_browser().get("/").send().await.assert_contains("2.500 KWD a month").assert_not_contains("25.00 KWD");
}
