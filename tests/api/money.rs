//! Every cent right: the ledger mirrors Stripe's balance transactions. Stripe is
//! the loopback mock serving Stripe-shaped objects (card payments name their
//! PaymentIntent, refunds and disputes carry balance transactions), and every
//! event is signed with the real scheme and applied to completion.
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::helpers::stripe_mock::{SECONDS_BASE, Settled};
use crate::helpers::voting::{open_round, open_topic, staff, vote};
use crate::stripe::{Patron, complete_checkout, paid_invoice, paying_patron, start_checkout};
use patronage::domain::Role;

/// One ledger row as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
struct Row {
    kind: String,
    provider_id: String,
    gross_minor: i64,
    currency: String,
    settlement_gross_minor: i64,
    fee_minor: i64,
    net_minor: i64,
    settlement_currency: String,
    charge_id: Option<String>,
    occurred_at: i64,
}

async fn ledger(app: &TestApp) -> Vec<Row> {
    sqlx::query_as(
        "select kind, provider_id, gross_minor, currency, settlement_gross_minor, fee_minor, net_minor,
             settlement_currency, charge_id, occurred_at
         from payments order by occurred_at, created_at, id",
    )
    .fetch_all(app.db().read())
    .await
    .expect("ledger")
}

/// Runs the queues until every event due by the app's clock is applied.
async fn settle_events(app: &TestApp) {
    app.drain_jobs().await;
    assert_eq!(app.count("select count(*) from stripe_events where status = 'pending'").await, 0);
}

fn seconds(micros: i64) -> i64 {
    micros / 1_000_000
}

/// A patron with a live subscription `sub_inv` (checkout applied), no payment yet.
async fn subscribed_patron(app: &TestApp, email: &str) -> Patron {
    let p = start_checkout(app, email).await;
    let session = complete_checkout(app, &p, "sub_inv", "active");
    app.send_stripe_event("checkout.session.completed", session).await.1.assert_status(200);
    p
}

/// Starts an anonymous 25 EUR donation; returns its Checkout Session as the mock holds it.
async fn donation_session(app: &TestApp) -> Value {
    let r = app.client.post_form("/donate", &[("currency", "EUR"), ("preset", "25")]).send().await;
    r.assert_status(303);
    let location = r.location().expect("redirect to Checkout");
    let id = location.rsplit('/').next().expect("session id");
    let sessions = app.stripe().requests_to("POST", "/v1/checkout/sessions");
    let request = sessions.last().expect("a donation checkout");
    assert_eq!(request.field("payment_intent_data[metadata][patronage]"), Some("1"), "the gift's intent is ours");
    app.stripe().get(id).expect("the session is served")
}

#[tokio::test]
async fn a_card_paid_membership_is_booked_with_its_charge_fee_and_net_and_stripe_sync_agrees() {
    let app = TestApp::builder().with_stripe().spawn().await;
    let p = subscribed_patron(&app, "card@example.org").await;
    let mock = app.stripe();
    // A card payment: the invoice's payment names the PaymentIntent, not the charge.
    let invoice = paid_invoice(&app, &p, "in_card", "ch_card", 600, 34);
    assert_eq!(invoice["payments"]["data"][0]["payment"]["type"], "payment_intent");
    assert!(invoice["payments"]["data"][0]["payment"].get("charge").is_none());
    // Read while the intent names no charge yet: it waits rather than booking without a fee.
    let mut intent = mock.get("pi_ch_card").expect("intent");
    intent["latest_charge"] = Value::Null;
    mock.put(intent.clone());
    let (id, _) = app.send_stripe_event("invoice.paid", invoice).await;
    assert_eq!(app.stripe_event_status(&id).await, "pending");
    assert!(ledger(&app).await.is_empty());
    intent["latest_charge"] = json!("ch_card");
    mock.put(intent);
    app.advance_clock(60 * 1_000_000);
    settle_events(&app).await;
    let rows = ledger(&app).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let r = &rows[0];
    assert_eq!(r.charge_id.as_deref(), Some("ch_card"), "the charge is found through the PaymentIntent");
    assert_eq!((r.gross_minor, r.currency.as_str()), (600, "eur"));
    assert_eq!(
        (r.settlement_gross_minor, r.fee_minor, r.net_minor, r.settlement_currency.as_str()),
        (600, 34, 566, "eur")
    );

    // Because the charge is known, its refund is booked too.
    mock.put_refund("ch_card", "re_card", 600, "succeeded");
    let (id, _) = app.send_stripe_event("charge.refunded", mock.get("ch_card").expect("charge")).await;
    assert_eq!(app.stripe_event_status(&id).await, "applied");
    let refund = ledger(&app).await.into_iter().find(|r| r.kind == "refund").expect("the refund is booked");
    assert_eq!((refund.gross_minor, refund.net_minor, refund.charge_id.as_deref()), (-600, -600, Some("ch_card")));

    // `stripe sync` books a renewal whose webhook never came the same way…
    mock.put_charge("ch_renewal", 600, "eur", Some(&p.customer), Settled { amount: 600, fee: 34, currency: "eur" });
    mock.put_paid_invoice("in_renewal", "sub_inv", "ch_renewal");
    // …and completes a row booked before without its charge (fee 0, net = gross).
    sqlx::query(
        "insert into payments (id, kind, provider_id, gross_minor, currency, settlement_gross_minor, fee_minor,
             net_minor, settlement_currency, occurred_at, created_at)
         values ('old-row', 'subscription', 'in_old', 600, 'eur', 600, 0, 600, 'eur', 1, 1)",
    )
    .execute(app.db().read())
    .await
    .expect("an old row");
    mock.put_charge("ch_old", 600, "eur", Some(&p.customer), Settled { amount: 600, fee: 34, currency: "eur" });
    mock.put_paid_invoice("in_old", "sub_inv", "ch_old");
    patronage::services::stripe_events::sync_all(&app.ctx).await.expect("sync runs");
    patronage::services::stripe_events::sync_all(&app.ctx).await.expect("sync runs twice");
    let rows = ledger(&app).await;
    for invoice in ["in_renewal", "in_old"] {
        let r = rows.iter().find(|r| r.provider_id == invoice).expect("booked");
        assert_eq!((r.fee_minor, r.net_minor), (34, 566), "{invoice}: {r:?}");
        assert!(r.charge_id.is_some());
    }
    assert_eq!(rows.len(), 4, "{rows:?}");
}

#[tokio::test]
async fn a_refund_or_dispute_that_arrives_before_its_payment_waits_for_it() {
    let app = TestApp::builder().with_stripe().spawn().await;
    let p = subscribed_patron(&app, "early.refund@example.org").await;
    let mock = app.stripe();
    let invoice = paid_invoice(&app, &p, "in_early", "ch_early", 600, 34);
    mock.put_refund("ch_early", "re_early", 200, "succeeded");

    // The refund's event overtakes the invoice's: it waits rather than being dropped.
    let (refund_event, _) = app.send_stripe_event("charge.refunded", mock.get("ch_early").expect("charge")).await;
    assert_eq!(app.stripe_event_status(&refund_event).await, "pending");
    let (id, _) = app.send_stripe_event("invoice.paid", invoice).await;
    assert_eq!(app.stripe_event_status(&id).await, "applied");
    // Recording the payment wakes it: no waiting for the backoff.
    settle_events(&app).await;
    assert_eq!(app.stripe_event_status(&refund_event).await, "applied");
    let mut kinds: Vec<(String, i64)> = ledger(&app).await.into_iter().map(|r| (r.kind, r.gross_minor)).collect();
    kinds.sort();
    assert_eq!(kinds, vec![("refund".to_string(), -200), ("subscription".to_string(), 600)]);

    // A dispute of an anonymous gift (our metadata on its PaymentIntent) before the gift:
    // set aside as unmatched after every retry, and still applied when the gift arrives.
    let mut session = donation_session(&app).await;
    session["status"] = json!("complete");
    session["payment_status"] = json!("paid");
    session["payment_intent"] = json!("pi_ch_gift");
    mock.put(session.clone());
    mock.put_charge("ch_gift", 2500, "eur", None, Settled { amount: 2500, fee: 63, currency: "eur" });
    let mut intent = mock.get("pi_ch_gift").expect("intent");
    intent["metadata"] = json!({ "patronage": "1", "kind": "donation" });
    mock.put(intent);
    let dispute = mock.put_dispute("du_gift", "ch_gift", "needs_response");
    let (dispute_event, _) = app.send_stripe_event("charge.dispute.created", dispute).await;
    assert_eq!(app.stripe_event_status(&dispute_event).await, "pending");
    for _ in 0..10 {
        app.advance_clock(7 * 3600 * 1_000_000);
        app.drain_jobs().await;
    }
    assert_eq!(app.stripe_event_status(&dispute_event).await, "unmatched");
    app.send_stripe_event("checkout.session.completed", session).await.1.assert_status(200);
    settle_events(&app).await;
    assert_eq!(app.stripe_event_status(&dispute_event).await, "applied");
    let gift_rows: Vec<(String, i64, i64)> = ledger(&app)
        .await
        .into_iter()
        .filter(|r| r.charge_id.as_deref() == Some("ch_gift"))
        .map(|r| (r.kind, r.gross_minor, r.net_minor))
        .collect();
    assert_eq!(gift_rows, vec![("donation".to_string(), 2500, 2437), ("dispute".to_string(), -2500, -4000)]);

    // A refund of another product's charge (no customer or metadata of ours) is still ignored.
    mock.put_charge("ch_shop", 999, "eur", Some("cus_shop"), Settled { amount: 999, fee: 40, currency: "eur" });
    mock.put_refund("ch_shop", "re_shop", 999, "succeeded");
    let (id, _) = app.send_stripe_event("charge.refunded", mock.get("ch_shop").expect("charge")).await;
    assert_eq!(app.stripe_event_status(&id).await, "ignored");
}

/// Per charge: what the ledger holds, and what Stripe's balance transactions say
/// (the charge's, and every refund's and its failure's, and the disputes').
async fn ledger_and_stripe_for(app: &TestApp, charge: &str) -> ((i64, i64, i64, i64), (i64, i64, i64, i64)) {
    let rows: Vec<Row> = ledger(app).await.into_iter().filter(|r| r.charge_id.as_deref() == Some(charge)).collect();
    let ours = rows.iter().fold((0, 0, 0, 0), |(g, s, f, n), r| {
        (g + r.gross_minor, s + r.settlement_gross_minor, f + r.fee_minor, n + r.net_minor)
    });
    let mock = app.stripe();
    let c = mock.get(charge).expect("charge");
    let mut txns: Vec<Value> = vec![mock.get(&format!("txn_{charge}")).expect("charge txn")];
    for refund in c["refunds"]["data"].as_array().expect("refunds") {
        assert!(
            matches!(refund["status"].as_str(), Some("succeeded" | "failed" | "canceled")),
            "compare once every refund has ended"
        );
        for key in ["balance_transaction", "failure_balance_transaction"] {
            if let Some(id) = refund[key].as_str() {
                txns.push(mock.get(id).expect("refund txn"));
            }
        }
    }
    let disputes: Vec<Value> = mock.objects_where(|o| o["object"] == "dispute" && o["charge"] == charge);
    for d in &disputes {
        txns.extend(d["balance_transactions"].as_array().expect("list").iter().cloned());
    }
    let refunded = c["amount_refunded"].as_i64().expect("amount_refunded");
    let lost: i64 =
        disputes.iter().filter(|d| d["status"] != "won").map(|d| d["amount"].as_i64().expect("amount")).sum();
    let sum = |k: &str| txns.iter().map(|t| t[k].as_i64().expect("number")).sum::<i64>();
    let stripe = (c["amount"].as_i64().expect("amount") - refunded - lost, sum("amount"), sum("fee"), sum("net"));
    (ours, stripe)
}

#[tokio::test]
async fn only_succeeded_refunds_are_money_back_and_a_failed_one_is_reversed() {
    let app = TestApp::builder().with_stripe().spawn().await;
    paying_patron(&app, "refunds@example.org").await;
    let mock = app.stripe();

    // A refund read while pending is not money back yet.
    mock.put_refund("ch_1", "re_pending", 200, "pending");
    app.send_stripe_event("charge.refunded", mock.get("ch_1").expect("charge")).await.1.assert_status(200);
    assert!(ledger(&app).await.iter().all(|r| r.kind == "subscription"), "{:?}", ledger(&app).await);
    // It fails: nothing was booked, nothing to reverse.
    let failed = mock.put_refund("ch_1", "re_pending", 200, "failed");
    let (id, _) = app.send_stripe_event("refund.failed", failed).await;
    assert_eq!(app.stripe_event_status(&id).await, "applied");
    assert!(ledger(&app).await.iter().all(|r| r.kind == "subscription"));

    // Another succeeds (booked), then fails after all (card closed): reversed.
    let done = mock.put_refund("ch_1", "re_later", 300, "succeeded");
    app.send_stripe_event("refund.updated", done).await.1.assert_status(200);
    assert_eq!(ledger(&app).await.iter().filter(|r| r.kind == "refund").count(), 1);
    let failed = mock.put_refund("ch_1", "re_later", 300, "failed");
    let (id, _) = app.send_stripe_event("charge.refund.updated", failed.clone()).await;
    assert_eq!(app.stripe_event_status(&id).await, "applied");
    app.send_stripe_event("refund.failed", failed).await.1.assert_status(200);
    let rows = ledger(&app).await;
    let reversal = rows.iter().find(|r| r.kind == "refund_failed").expect("the failed refund is reversed");
    let failure_txn = mock.get("txn_re_later_failure").expect("failure txn");
    assert_eq!((reversal.provider_id.as_str(), reversal.gross_minor, reversal.net_minor), ("re_later", 300, 300));
    assert_eq!(seconds(reversal.occurred_at), failure_txn["created"].as_i64().expect("created"));
    assert_eq!(rows.len(), 3, "{rows:?}");

    // A partial refund that succeeds: the ledger for the charge is Stripe's, to the cent.
    let partial = mock.put_refund("ch_1", "re_partial", 150, "succeeded");
    app.send_stripe_event("refund.created", partial).await.1.assert_status(200);
    let (ours, stripe) = ledger_and_stripe_for(&app, "ch_1").await;
    assert_eq!(ours, stripe);
    assert_eq!(ours.0, 450);
    settle_events(&app).await;
}

#[tokio::test]
async fn a_plan_change_in_the_portal_moves_the_patron_to_the_new_tier_and_its_vote_weight() {
    let app = TestApp::builder().with_stripe().spawn().await;
    paying_patron(&app, "upgrader@example.org").await;
    // The co-creator price exists at Stripe (created when staff saved the tier).
    let cocreator = app.price_id("cocreator", "month", "eur").await;
    sqlx::query("update tier_prices set stripe_price_id = 'price_cocreator' where id = $1")
        .bind(&cocreator)
        .execute(app.db().read())
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
    .fetch_one(app.db().read())
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
        sqlx::query_as("select weight from votes").fetch_one(app.db().read()).await.expect("a vote");
    assert_eq!(weight, 3, "the new tier's weight");
}

#[tokio::test]
async fn donations_and_dispute_outcomes_are_dated_when_stripe_says_they_happened() {
    let app = TestApp::builder().with_stripe().spawn().await;
    let mock = app.stripe();
    let mut session = donation_session(&app).await;
    session["status"] = json!("complete");
    session["payment_status"] = json!("paid");
    session["payment_intent"] = json!("pi_ch_dated");
    mock.put(session.clone());
    let charge = mock.put_charge("ch_dated", 2500, "eur", None, Settled { amount: 2500, fee: 63, currency: "eur" });
    // Applied much later than Stripe made the charge.
    app.advance_clock(3 * 24 * 3600 * 1_000_000);
    app.send_stripe_event("checkout.session.completed", session).await.1.assert_status(200);
    let donation = ledger(&app).await.into_iter().find(|r| r.kind == "donation").expect("the gift is booked");
    assert_eq!(seconds(donation.occurred_at), charge["created"].as_i64().expect("created"));
    assert!(donation.occurred_at < app.clock().now() - 24 * 3600 * 1_000_000);

    // Disputed, then won: each step dated by its balance transaction.
    let opened = mock.put_dispute("du_dated", "ch_dated", "needs_response");
    app.send_stripe_event("charge.dispute.created", opened).await.1.assert_status(200);
    app.advance_clock(24 * 3600 * 1_000_000);
    let won = mock.put_dispute("du_dated", "ch_dated", "won");
    app.send_stripe_event("charge.dispute.closed", won.clone()).await.1.assert_status(200);
    let rows = ledger(&app).await;
    for (kind, txn) in [("dispute", &won["balance_transactions"][0]), ("dispute_won", &won["balance_transactions"][1])]
    {
        let row = rows.iter().find(|r| r.kind == kind).expect("booked");
        assert_eq!(seconds(row.occurred_at), txn["created"].as_i64().expect("created"), "{kind}");
        assert!(seconds(row.occurred_at) < SECONDS_BASE + 100);
    }
    let (ours, stripe) = ledger_and_stripe_for(&app, "ch_dated").await;
    assert_eq!(ours, stripe);
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
    assert_eq!(app.stripe_event_status(&id).await, "applied", "the cancellation is still mirrored");
    let customer_of = || async {
        let (c,): (Option<String>,) =
            sqlx::query_as("select stripe_customer_id from members").fetch_one(app.db().read()).await.expect("member");
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
        sqlx::query_as("select id from tiers where slug = 'supporter'").fetch_one(app.db().read()).await.expect("tier");
    sqlx::query("insert into tier_prices (id, tier_id, interval, currency, amount_minor, flexible, stripe_price_id, created_at) values ('kwd-price', $1, 'month', 'kwd', 2500, 0, 'price_kwd', 0)")
        .bind(&tier)
        .execute(app.db().read())
        .await
        .expect("a dinar price");
    app.new_browser()
        .get("/?currency=kwd")
        .send()
        .await
        .assert_contains("2.500 KWD a month")
        .assert_not_contains("25.00 KWD");
}

#[tokio::test]
async fn a_charge_settled_in_another_currency_keeps_both_and_never_mixes_them() {
    let app = TestApp::builder().with_stripe().spawn().await;
    let p = subscribed_patron(&app, "dollars@example.org").await;
    let mock = app.stripe();
    // $10.00 charged, settled in euros: €9.20, fee €0.57, net €8.63.
    mock.put_charge("ch_usd", 1000, "usd", Some(&p.customer), Settled { amount: 920, fee: 57, currency: "eur" });
    let invoice = mock.put_paid_invoice("in_usd", "sub_inv", "ch_usd");
    app.send_stripe_event("invoice.paid", invoice).await.1.assert_status(200);
    let r = ledger(&app).await.into_iter().next().expect("booked");
    assert_eq!((r.gross_minor, r.currency.as_str()), (1000, "usd"));
    assert_eq!(
        (r.settlement_gross_minor, r.fee_minor, r.net_minor, r.settlement_currency.as_str()),
        (920, 57, 863, "eur")
    );

    // A partial refund of $4.00 comes back at the charge's rate: €3.68.
    mock.put_refund("ch_usd", "re_usd", 400, "succeeded");
    app.send_stripe_event("charge.refunded", mock.get("ch_usd").expect("charge")).await.1.assert_status(200);
    let (ours, stripe) = ledger_and_stripe_for(&app, "ch_usd").await;
    assert_eq!(ours, stripe);
    assert_eq!(ours, (600, 552, 57, 495));
    // Read without its balance transaction, a refund still settles in euros, at the charge's rate.
    let mut bare = mock.put_refund("ch_usd", "re_usd_bare", 100, "succeeded");
    bare["balance_transaction"] = Value::Null;
    mock.put(bare.clone());
    let mut charge = mock.get("ch_usd").expect("charge");
    charge["refunds"]["data"][0] = bare;
    mock.put(charge.clone());
    app.send_stripe_event("charge.refunded", charge).await.1.assert_status(200);
    let bare = ledger(&app).await.into_iter().find(|r| r.provider_id == "re_usd_bare").expect("booked");
    assert_eq!((bare.gross_minor, bare.currency.as_str()), (-100, "usd"));
    assert_eq!((bare.settlement_gross_minor, bare.net_minor, bare.settlement_currency.as_str()), (-92, -92, "eur"));

    let admin = app.new_browser();
    app.sign_in_staff(&admin, "admin@news.test", Role::Admin).await;
    let page = admin.get("/admin/ledger").send().await;
    page.assert_status(200)
        .assert_contains("$10.00 (€9.20)")
        .assert_contains("€0.57")
        .assert_contains("€8.63")
        .assert_not_contains("$8.63")
        .assert_not_contains("$0.57");
    // The patron sees what they paid, in dollars.
    app.sign_in_member(&app.client, "dollars@example.org").await;
    app.client.get("/account").send().await.assert_contains("$10.00");
}

/// A month at a small newsroom, as Stripe would report it: card renewals, a
/// partial refund, a refund that fails and one that fails after it succeeded, a
/// dispute lost and one won, a dollar charge settled in euros and a gift; every
/// event delivered twice, some only at the end and in reverse order. Per charge,
/// the ledger then equals Stripe's balance transactions to the minor unit.
#[tokio::test]
async fn a_month_of_mixed_activity_matches_stripes_balance_transactions_per_charge() {
    let app = TestApp::builder().with_stripe().spawn().await;
    let mock = app.stripe();
    let mut late: Vec<(&str, Value)> = Vec::new();
    let deliver_twice = async |event_type: &str, object: Value| {
        let (id, body) = crate::helpers::stripe_event(event_type, object);
        let now = app.clock().now() / 1_000_000;
        let sig = crate::helpers::stripe_signature(&body, crate::helpers::WEBHOOK_SECRET, now);
        app.post_webhook(&body, Some(&sig)).await.assert_status(200);
        let again = app.post_webhook(&body, Some(&sig)).await;
        again.assert_status(200);
        assert_eq!(again.json()["status"], "duplicate");
        app.apply_stripe_event(&id).await;
    };
    let eur = |amount: i64, fee: i64| Settled { amount, fee, currency: "eur" };

    // Three patrons subscribe.
    let mut patrons = Vec::new();
    for (n, email) in ["ana@example.org", "bo@example.org", "cy@example.org"].into_iter().enumerate() {
        let p = start_checkout(&app, email).await;
        let sub = format!("sub_month{n}");
        let session = complete_checkout(&app, &p, &sub, "active");
        deliver_twice("checkout.session.completed", session).await;
        patrons.push((p, sub));
    }
    let customer = |n: usize| Some(patrons[n].0.customer.as_str());
    let mut charges = Vec::new();
    let mut pay = |n: usize, charge: &str, amount: i64, currency: &str, settled: Settled| {
        mock.put_charge(charge, amount, currency, customer(n), settled);
        charges.push(charge.to_string());
        mock.put_paid_invoice(&format!("in_{charge}"), &patrons[n].1, charge)
    };

    // Ana pays twice; the second payment is partly refunded (the refund's event comes first).
    let first = pay(0, "ch_ana1", 600, "eur", eur(600, 34));
    deliver_twice("invoice.paid", first).await;
    let second = pay(0, "ch_ana2", 600, "eur", eur(600, 34));
    mock.put_refund("ch_ana2", "re_ana_part", 250, "succeeded");
    deliver_twice("charge.refunded", mock.get("ch_ana2").expect("charge")).await;
    late.push(("invoice.paid", second));

    // Bo pays $10.00, settled in euros; a refund stays pending then fails, another
    // succeeds then fails after all.
    let usd = pay(1, "ch_bo1", 1000, "usd", Settled { amount: 920, fee: 57, currency: "eur" });
    deliver_twice("invoice.paid", usd).await;
    mock.put_refund("ch_bo1", "re_bo_pending", 500, "pending");
    deliver_twice("charge.refunded", mock.get("ch_bo1").expect("charge")).await;
    late.push(("refund.failed", mock.put_refund("ch_bo1", "re_bo_pending", 500, "failed")));
    let succeeded = mock.put_refund("ch_bo1", "re_bo_bounced", 300, "succeeded");
    deliver_twice("refund.updated", succeeded).await;
    let bounced = mock.put_refund("ch_bo1", "re_bo_bounced", 300, "failed");
    deliver_twice("charge.refund.updated", bounced).await;

    // Cy pays twice and disputes both: the first is lost, the second won.
    for charge in ["ch_cy1", "ch_cy2"] {
        let invoice = pay(2, charge, 1200, "eur", eur(1200, 43));
        deliver_twice("invoice.paid", invoice).await;
    }
    deliver_twice("charge.dispute.created", mock.put_dispute("du_cy1", "ch_cy1", "needs_response")).await;
    late.push(("charge.dispute.closed", mock.put_dispute("du_cy1", "ch_cy1", "lost")));
    let opened = mock.put_dispute("du_cy2", "ch_cy2", "needs_response");
    late.push(("charge.dispute.closed", mock.put_dispute("du_cy2", "ch_cy2", "won")));
    late.push(("charge.dispute.created", opened));

    // A gift, partly refunded, whose refund is heard of before the gift.
    let mut session = donation_session(&app).await;
    session["status"] = json!("complete");
    session["payment_status"] = json!("paid");
    session["payment_intent"] = json!("pi_ch_gift_month");
    mock.put(session.clone());
    mock.put_charge("ch_gift_month", 2500, "eur", None, eur(2500, 63));
    charges.push("ch_gift_month".to_string());
    let mut intent = mock.get("pi_ch_gift_month").expect("intent");
    intent["metadata"] = json!({ "patronage": "1", "kind": "donation" });
    mock.put(intent);
    mock.put_refund("ch_gift_month", "re_gift", 1000, "succeeded");
    deliver_twice("charge.refunded", mock.get("ch_gift_month").expect("charge")).await;
    late.push(("checkout.session.completed", session));

    // The held-back events arrive at the end of the month, newest first.
    for (event_type, object) in late.into_iter().rev() {
        deliver_twice(event_type, object).await;
    }
    settle_events(&app).await;

    let rows = ledger(&app).await;
    for charge in &charges {
        let (ours, stripe) = ledger_and_stripe_for(&app, charge).await;
        assert_eq!(ours, stripe, "{charge}: (gross, settled gross, fee, net) {rows:#?}");
        let c = mock.get(charge).expect("charge");
        let refunded: i64 = rows
            .iter()
            .filter(|r| r.charge_id.as_deref() == Some(charge.as_str()))
            .filter(|r| r.kind == "refund" || r.kind == "refund_failed")
            .map(|r| -r.gross_minor)
            .sum();
        assert_eq!(refunded, c["amount_refunded"].as_i64().expect("amount_refunded"), "{charge}: refunds");
    }
    // Whole-ledger totals per settlement currency equal the balance's, and the
    // charge currency's gross is never among them.
    let mut net_by_currency: Vec<(String, i64)> = sqlx::query_as(
        "select settlement_currency, cast(sum(net_minor) as bigint) from payments group by settlement_currency",
    )
    .fetch_all(app.db().read())
    .await
    .expect("totals");
    net_by_currency.sort();
    let txns = mock.objects_where(|o| o["object"] == "balance_transaction");
    let balance: i64 = txns.iter().map(|t| t["net"].as_i64().expect("net")).sum();
    assert!(txns.iter().all(|t| t["currency"] == "eur"));
    assert_eq!(net_by_currency, vec![("eur".to_string(), balance)]);
    // Every charge and nothing else: ana 2, bo 1, cy 2, the gift.
    assert_eq!(charges.len(), 6);
    assert_eq!(app.count("select count(*) from payments where charge_id is null").await, 0);
}
