//! Real Stripe code paths against the loopback Stripe mock: checkout and portal
//! requests, webhook verification, and applying events exactly once.
use serde_json::{Value, json};

use crate::helpers::stripe_mock::{Settled, fixture};
use crate::helpers::{TestApp, WEBHOOK_SECRET, concurrently, stripe_event, stripe_signature, stripe_v1};

pub(crate) struct Patron {
    pub(crate) member_id: String,
    pub(crate) customer: String,
    pub(crate) session: String,
    pub(crate) stripe_price: String,
    pub(crate) our_price: String,
}

/// Starts a real checkout (customer, product, price and session at the mock).
pub(crate) async fn start_checkout(app: &TestApp, email: &str) -> Patron {
    let our_price = app.price_id("supporter", "month", "eur").await;
    let r = app.client.post_form("/patron", &[("price", &our_price), ("email", email)]).send().await;
    r.assert_status(303);
    let location = r.location().expect("redirect");
    assert!(location.starts_with("https://checkout.stripe.com/c/pay/cs_mock"), "{location}");
    let session = location.rsplit('/').next().expect("session id").to_string();
    let (member_id, customer): (String, Option<String>) =
        sqlx::query_as("select id, stripe_customer_id from members where email = $1")
            .bind(email)
            .fetch_one(app.db().read())
            .await
            .expect("member");
    let (stripe_price,): (Option<String>,) = sqlx::query_as("select stripe_price_id from tier_prices where id = $1")
        .bind(&our_price)
        .fetch_one(app.db().read())
        .await
        .expect("price");
    Patron {
        member_id,
        customer: customer.expect("customer linked"),
        session,
        stripe_price: stripe_price.expect("price synced"),
        our_price,
    }
}

/// What Stripe holds once the reader paid: an active subscription and a complete session.
pub(crate) fn complete_checkout(app: &TestApp, p: &Patron, sub_id: &str, status: &str) -> Value {
    let mock = app.stripe();
    let metadata = json!({ "patronage": "1", "member_id": p.member_id, "price_id": p.our_price });
    mock.put(mock.subscription(sub_id, &p.customer, &p.stripe_price, 600, "eur", "month", status, metadata));
    let mut session = mock.get(&p.session).expect("session stored by the mock");
    session["subscription"] = json!(sub_id);
    session["status"] = json!("complete");
    session["payment_status"] = json!("paid");
    mock.put(session.clone());
    session
}

#[tokio::test]
async fn checkout_sends_stripe_what_it_expects_and_reuses_the_customer() {
    let app = TestApp::builder().with_stripe().spawn().await;
    let p = start_checkout(&app, "stripe.reader@example.org").await;
    let mock = app.stripe();

    let customers = mock.requests_to("POST", "/v1/customers");
    assert_eq!(customers.len(), 1);
    assert_eq!(customers[0].field("email"), Some("stripe.reader@example.org"));
    assert_eq!(customers[0].field("metadata[member_id]"), Some(p.member_id.as_str()));
    assert_eq!(customers[0].idempotency_key.as_deref(), Some(format!("customer-{}", p.member_id).as_str()));
    assert_eq!(customers[0].authorization.as_deref(), Some("Bearer sk_test_patronage"));

    let products = mock.requests_to("POST", "/v1/products");
    assert_eq!(products.len(), 1);
    assert_eq!(products[0].field("name"), Some("Supporter"));
    assert_eq!(products[0].field("metadata[patronage]"), Some("1"));
    let prices = mock.requests_to("POST", "/v1/prices");
    assert_eq!(prices.len(), 1);
    assert_eq!(prices[0].field("currency"), Some("eur"));
    assert_eq!(prices[0].field("unit_amount"), Some("600"));
    assert_eq!(prices[0].field("recurring[interval]"), Some("month"));

    let sessions = mock.requests_to("POST", "/v1/checkout/sessions");
    assert_eq!(sessions.len(), 1);
    let s = &sessions[0];
    assert_eq!(s.field("mode"), Some("subscription"));
    assert_eq!(s.field("customer"), Some(p.customer.as_str()));
    assert_eq!(s.field("client_reference_id"), Some(p.member_id.as_str()));
    assert_eq!(s.field("line_items[0][price]"), Some(p.stripe_price.as_str()));
    assert_eq!(s.field("line_items[0][quantity]"), Some("1"));
    assert_eq!(s.field("subscription_data[metadata][member_id]"), Some(p.member_id.as_str()));
    assert!(s.field("success_url").is_some_and(
        |u| u.starts_with(&app.base_url) && u.ends_with("/patron/welcome?session_id={CHECKOUT_SESSION_ID}")
    ));
    assert!(s.idempotency_key.as_deref().is_some_and(|k| k.starts_with("checkout-")));

    // Starting again (the reader came back): same customer, product and price.
    start_checkout(&app, "stripe.reader@example.org").await;
    assert_eq!(mock.requests_to("POST", "/v1/customers").len(), 1, "never a second customer for one member");
    assert_eq!(mock.requests_to("POST", "/v1/products").len(), 1);
    assert_eq!(mock.requests_to("POST", "/v1/prices").len(), 1);
    assert_eq!(mock.requests_to("POST", "/v1/checkout/sessions").len(), 2);
}

#[tokio::test]
async fn pay_what_you_want_goes_to_stripe_as_inline_price_data() {
    let app = TestApp::builder().with_stripe().spawn().await;
    let price = app.price_id("reader", "month", "eur").await;
    app.client
        .post_form("/patron", &[("price", &price), ("email", "generous@example.org"), ("amount", "7")])
        .send()
        .await
        .assert_status(303);
    let s = &app.stripe().requests_to("POST", "/v1/checkout/sessions")[0];
    assert_eq!(s.field("line_items[0][price_data][unit_amount]"), Some("700"));
    assert_eq!(s.field("line_items[0][price_data][currency]"), Some("eur"));
    assert_eq!(s.field("line_items[0][price_data][recurring][interval]"), Some("month"));
    assert!(s.field("line_items[0][price]").is_none());
}

#[tokio::test]
async fn a_failing_stripe_gives_a_clear_error_page() {
    let app = TestApp::builder().with_stripe().spawn().await;
    app.stripe().fail_next(10);
    let price = app.price_id("reader", "month", "eur").await;
    let r = app.client.post_form("/patron", &[("price", &price), ("email", "unlucky@example.org")]).send().await;
    r.assert_status(502).assert_contains("payment provider did not answer");
    assert_eq!(app.count("select count(*) from subscriptions").await, 0);
}

#[tokio::test]
async fn donations_create_a_payment_mode_checkout() {
    let app = TestApp::builder().with_stripe().spawn().await;
    let r = app.client.post_form("/donate", &[("currency", "EUR"), ("preset", "25")]).send().await;
    r.assert_status(303);
    let s = &app.stripe().requests_to("POST", "/v1/checkout/sessions")[0];
    assert_eq!(s.field("mode"), Some("payment"));
    assert_eq!(s.field("line_items[0][price_data][unit_amount]"), Some("2500"));
    assert_eq!(s.field("metadata[kind]"), Some("donation"));
}

#[tokio::test]
async fn a_checkout_webhook_makes_a_patron_by_reading_stripe() {
    let app = TestApp::builder().with_stripe().spawn().await;
    let p = start_checkout(&app, "paid@example.org").await;
    let session = complete_checkout(&app, &p, "sub_paid1", "active");
    let (id, r) = app.send_stripe_event("checkout.session.completed", session).await;
    r.assert_status(200);
    assert_eq!(app.stripe_event_status(&id).await, "applied");
    let (status, mrr): (String, i64) =
        sqlx::query_as("select status, mrr_minor from subscriptions where provider_id = 'sub_paid1'")
            .fetch_one(app.db().read())
            .await
            .expect("mirrored");
    assert_eq!((status.as_str(), mrr), ("active", 600));
    assert!(
        app.stripe().requests_to("GET", "/v1/subscriptions/sub_paid1").len() == 1,
        "the subscription was re-read from Stripe"
    );
    let (event_status,): (String,) = sqlx::query_as("select status from stripe_events where id = $1")
        .bind(&id)
        .fetch_one(app.db().read())
        .await
        .expect("stored");
    assert_eq!(event_status, "applied");

    // Manage billing opens Stripe's Customer Portal for this customer.
    app.sign_in_member(&app.client, "paid@example.org").await;
    app.client.get("/account").send().await.assert_contains(">Patron<").assert_contains("Supporter");
    let portal = app.client.post_form("/account/billing", &[]).send().await;
    portal.assert_status(303);
    assert!(portal.location().is_some_and(|l| l.starts_with("https://billing.stripe.com/")));
    let req = &app.stripe().requests_to("POST", "/v1/billing_portal/sessions")[0];
    assert_eq!(req.field("customer"), Some(p.customer.as_str()));
    assert_eq!(req.field("return_url"), Some(format!("{}/account", app.base_url).as_str()));
}

#[tokio::test]
async fn duplicate_deliveries_apply_once_sequentially_and_concurrently() {
    let app = TestApp::builder().with_stripe().spawn().await;
    let p = start_checkout(&app, "dupe@example.org").await;
    let session = complete_checkout(&app, &p, "sub_dupe", "active");
    let (_, body) = stripe_event("checkout.session.completed", session);
    let sig = stripe_signature(&body, WEBHOOK_SECRET, app.clock().now() / 1_000_000);
    app.post_webhook(&body, Some(&sig)).await.assert_status(200);
    let again = app.post_webhook(&body, Some(&sig)).await;
    again.assert_status(200);
    assert_eq!(again.json()["status"], "duplicate");

    let (_, body2) = stripe_event("customer.subscription.created", app.stripe().get("sub_dupe").expect("sub"));
    let sig2 = stripe_signature(&body2, WEBHOOK_SECRET, app.clock().now() / 1_000_000);
    for r in concurrently(8, async |_| app.post_webhook(&body2, Some(&sig2)).await).await {
        r.assert_status(200);
    }
    app.drain_jobs().await;
    assert_eq!(app.count("select count(*) from stripe_events").await, 2);
    assert_eq!(
        app.count("select count(*) from mrr_movements").await,
        1,
        "one 'new' movement, however often Stripe delivers"
    );
    assert_eq!(app.count("select count(*) from subscriptions").await, 1);
}

/// Stripe's side of a paid renewal of `sub_inv`, paid by card as Stripe does it:
/// a charge with its balance transaction, the PaymentIntent that made it, and the
/// invoice whose payment names that intent (not the charge).
pub(crate) fn paid_invoice(
    app: &TestApp,
    p: &Patron,
    invoice_id: &str,
    charge_id: &str,
    amount: i64,
    fee: i64,
) -> Value {
    let mock = app.stripe();
    mock.put_charge(charge_id, amount, "eur", Some(&p.customer), Settled { amount, fee, currency: "eur" });
    let mut invoice = mock.put_paid_invoice(invoice_id, "sub_inv", charge_id);
    invoice["status_transitions"]["paid_at"] = json!(1_790_000_000);
    mock.put(invoice.clone());
    invoice
}

fn balance_transaction(id: &str, amount: i64, fee: i64) -> Value {
    let mut txn = fixture("balance_transaction");
    txn["id"] = json!(id);
    txn["amount"] = json!(amount);
    txn["fee"] = json!(fee);
    txn["net"] = json!(amount - fee);
    txn["currency"] = json!("eur");
    txn
}

/// A patron whose first payment (invoice `in_1`, charge `ch_1`: 6.00, fee 0.34) is applied.
pub(crate) async fn paying_patron(app: &TestApp, email: &str) -> Patron {
    let p = start_checkout(app, email).await;
    let session = complete_checkout(app, &p, "sub_inv", "active");
    app.send_stripe_event("checkout.session.completed", session).await.1.assert_status(200);
    let invoice = paid_invoice(app, &p, "in_1", "ch_1", 600, 34);
    app.send_stripe_event("invoice.paid", invoice).await.1.assert_status(200);
    p
}

async fn ledger(app: &TestApp) -> Vec<(String, String, i64, i64, i64)> {
    sqlx::query_as("select kind, provider_id, gross_minor, fee_minor, net_minor from payments order by occurred_at, created_at, id")
        .fetch_all(app.db().read())
        .await
        .expect("ledger")
}

#[tokio::test]
async fn full_and_partial_refunds_are_one_row_per_refund_however_often_delivered() {
    let app = TestApp::builder().with_stripe().spawn().await;
    paying_patron(&app, "refund@example.org").await;
    let mock = app.stripe();
    let mut charge = mock.get("ch_1").expect("charge");
    let refund = |id: &str, amount: i64| {
        let mut r = fixture("refund");
        r["id"] = json!(id);
        r["amount"] = json!(amount);
        r["charge"] = json!("ch_1");
        r["currency"] = json!("eur");
        r["balance_transaction"] = json!(format!("txn_{id}"));
        r
    };
    mock.put(balance_transaction("txn_re_a", -200, 0));
    charge["amount_refunded"] = json!(200);
    charge["refunds"] = json!({ "object": "list", "data": [refund("re_a", 200)], "has_more": false, "url": "/v1/charges/ch_1/refunds" });
    mock.put(charge.clone());
    app.send_stripe_event("charge.refunded", charge.clone()).await.1.assert_status(200);
    app.send_stripe_event("charge.refunded", charge.clone()).await.1.assert_status(200);

    mock.put(balance_transaction("txn_re_b", -400, 0));
    charge["amount_refunded"] = json!(600);
    charge["refunded"] = json!(true);
    charge["refunds"] = json!({ "object": "list", "data": [refund("re_b", 400), refund("re_a", 200)], "has_more": false, "url": "/v1/charges/ch_1/refunds" });
    mock.put(charge.clone());
    app.send_stripe_event("charge.refunded", charge).await.1.assert_status(200);

    let rows = ledger(&app).await;
    let refunds: Vec<_> = rows.iter().filter(|r| r.0 == "refund").collect();
    assert_eq!(refunds.len(), 2, "{rows:?}");
    assert_eq!(rows.iter().map(|r| r.2).sum::<i64>(), 0, "fully refunded: gross adds up to zero");
    let (member,): (Option<String>,) = sqlx::query_as("select member_id from payments where provider_id = 're_a'")
        .fetch_one(app.db().read())
        .await
        .expect("row");
    assert!(member.is_some(), "refunds are linked to the member of the original payment");
}

#[tokio::test]
async fn a_dispute_opened_and_won_is_recorded_once_each_way() {
    let app = TestApp::builder().with_stripe().spawn().await;
    paying_patron(&app, "disputed@example.org").await;
    let mock = app.stripe();
    let mut dispute = fixture("dispute");
    dispute["id"] = json!("du_1");
    dispute["charge"] = json!("ch_1");
    dispute["amount"] = json!(600);
    dispute["currency"] = json!("eur");
    dispute["status"] = json!("needs_response");
    dispute["balance_transactions"] = json!([balance_transaction("txn_du_1", -600, 1500)]);
    mock.put(dispute.clone());
    app.send_stripe_event("charge.dispute.created", dispute.clone()).await.1.assert_status(200);
    app.send_stripe_event("charge.dispute.created", dispute.clone()).await.1.assert_status(200);

    dispute["status"] = json!("won");
    dispute["balance_transactions"] =
        json!([balance_transaction("txn_du_1", -600, 1500), balance_transaction("txn_du_2", 600, 0)]);
    mock.put(dispute.clone());
    app.send_stripe_event("charge.dispute.closed", dispute.clone()).await.1.assert_status(200);
    app.send_stripe_event("charge.dispute.closed", dispute).await.1.assert_status(200);

    let rows = ledger(&app).await;
    let disputes: Vec<_> = rows.iter().filter(|r| r.0.starts_with("dispute")).cloned().collect();
    assert_eq!(
        disputes,
        vec![
            ("dispute".to_string(), "du_1".to_string(), -600, 1500, -2100),
            ("dispute_won".to_string(), "du_1".to_string(), 600, 0, 600)
        ]
    );
}

#[tokio::test]
async fn a_stripe_donation_is_recorded_from_its_charge() {
    let app = TestApp::builder().with_stripe().spawn().await;
    app.client
        .post_form("/donate", &[("currency", "EUR"), ("preset", "25"), ("anonymous", "yes")])
        .send()
        .await
        .assert_status(303);
    let mock = app.stripe();
    let session_id = mock.requests_to("POST", "/v1/checkout/sessions").len();
    let mut session = mock.get(&format!("cs_mock{session_id}")).expect("session");
    session["status"] = json!("complete");
    session["payment_status"] = json!("paid");
    session["payment_intent"] = json!("pi_gift");
    mock.put(session.clone());
    let mut intent = fixture("payment_intent");
    intent["id"] = json!("pi_gift");
    intent["latest_charge"] = json!("ch_gift");
    mock.put(intent);
    mock.put(balance_transaction("txn_ch_gift", 2500, 63));
    let mut charge = fixture("charge");
    charge["id"] = json!("ch_gift");
    charge["amount"] = json!(2500);
    charge["currency"] = json!("eur");
    charge["customer"] = Value::Null;
    charge["balance_transaction"] = json!("txn_ch_gift");
    mock.put(charge);
    app.send_stripe_event("checkout.session.completed", session.clone()).await.1.assert_status(200);
    app.send_stripe_event("checkout.session.completed", session).await.1.assert_status(200);
    assert_eq!(ledger(&app).await, vec![("donation".to_string(), "ch_gift".to_string(), 2500, 63, 2437)]);
}

#[tokio::test]
async fn a_stale_event_never_resurrects_a_canceled_subscription() {
    let app = TestApp::builder().with_stripe().spawn().await;
    let p = start_checkout(&app, "gone@example.org").await;
    let session = complete_checkout(&app, &p, "sub_gone", "active");
    let created_copy = app.stripe().get("sub_gone").expect("sub");
    app.send_stripe_event("checkout.session.completed", session).await.1.assert_status(200);
    // Stripe now says canceled; the deletion event arrives first, the stale "updated" after.
    let mut canceled = created_copy.clone();
    canceled["status"] = json!("canceled");
    canceled["ended_at"] = json!(1_790_000_100);
    app.stripe().put(canceled.clone());
    app.send_stripe_event("customer.subscription.deleted", canceled).await.1.assert_status(200);
    app.send_stripe_event("customer.subscription.updated", created_copy).await.1.assert_status(200);
    let (status, mrr): (String, i64) =
        sqlx::query_as("select status, mrr_minor from subscriptions").fetch_one(app.db().read()).await.expect("sub");
    assert_eq!((status.as_str(), mrr), ("canceled", 0));
    let kinds: Vec<(String,)> = sqlx::query_as("select kind from mrr_movements order by created_at, id")
        .fetch_all(app.db().read())
        .await
        .expect("movements");
    assert_eq!(kinds.into_iter().map(|k| k.0).collect::<Vec<_>>(), vec!["new", "churn"]);
}

#[tokio::test]
async fn bad_signatures_are_refused_and_nothing_is_stored() {
    let app = TestApp::builder().with_stripe().spawn().await;
    let (_, body) = stripe_event("customer.subscription.updated", json!({ "id": "sub_x", "object": "subscription" }));
    let now = app.clock().now() / 1_000_000;
    // Stale and future by more than a few seconds past the five minutes, so the
    // time the server reads its clock cannot bring them back inside.
    let cases = vec![
        ("wrong secret", Some(stripe_signature(&body, "whsec_wrong", now)), body.clone(), "signature"),
        (
            "body changed after signing",
            Some(stripe_signature(&body, WEBHOOK_SECRET, now)),
            body.replace("sub_x", "sub_y"),
            "signature",
        ),
        ("stale timestamp", Some(stripe_signature(&body, WEBHOOK_SECRET, now - 600)), body.clone(), "timestamp"),
        ("future timestamp", Some(stripe_signature(&body, WEBHOOK_SECRET, now + 600)), body.clone(), "timestamp"),
        ("garbage header", Some("t=abc,v1=zz".to_string()), body.clone(), "signature"),
        ("missing header", None, body.clone(), "missing_signature"),
    ];
    for (what, sig, sent, reason) in cases {
        let r = app.post_webhook(&sent, sig.as_deref()).await;
        assert_eq!(r.status, 400, "{what}: {}", r.body);
        assert_eq!(r.json()["reason"], reason, "{what}");
    }
    assert_eq!(app.count("select count(*) from stripe_events").await, 0);
}

#[tokio::test]
async fn refused_webhooks_are_counted_by_reason_and_a_body_that_is_not_utf8_is_one_of_them() {
    let app = TestApp::builder().with_stripe().spawn().await;
    let now = app.clock().now() / 1_000_000;
    let r = app
        .new_browser()
        .post_raw("/webhooks/stripe", "application/json", b"{\"id\":\"evt_\xff\"}".to_vec())
        .without_default("origin")
        .without_default("sec-fetch-site")
        .header("stripe-signature", &format!("t={now},v1=00"))
        .send()
        .await;
    r.assert_status(400);
    assert_eq!(r.json()["reason"], "not_utf8");
    let (_, body) = stripe_event("customer.updated", json!({ "id": "cus_x", "object": "customer" }));
    app.post_webhook(&body, Some(&stripe_signature(&body, "whsec_wrong", now))).await.assert_status(400);
    let metrics = app.client.get("/metrics").send().await;
    metrics.assert_status(200);
    for reason in ["not_utf8", "signature"] {
        let line = format!("stripe_webhooks_refused_total{{reason=\"{reason}\"}}");
        assert!(metrics.body.lines().any(|l| l.starts_with(&line)), "{line} in:\n{}", metrics.body);
    }
    assert_eq!(app.count("select count(*) from stripe_events").await, 0);
}

#[tokio::test]
async fn a_live_event_never_changes_a_test_install() {
    let app = TestApp::builder().with_stripe().spawn().await;
    let (_, body) =
        stripe_event("customer.subscription.deleted", json!({ "id": "sub_live", "object": "subscription" }));
    let mut event: serde_json::Value = serde_json::from_str(&body).expect("json");
    event["livemode"] = json!(true);
    let body = event.to_string();
    let now = app.clock().now() / 1_000_000;
    let r = app.post_webhook(&body, Some(&stripe_signature(&body, WEBHOOK_SECRET, now))).await;
    r.assert_status(400);
    assert_eq!(r.json()["reason"], "mode");
    assert_eq!(app.count("select count(*) from stripe_events").await, 0, "nothing stored");
    assert!(app.client.get("/metrics").send().await.body.contains("stripe_webhooks_refused_total{reason=\"mode\"}"));
}

#[tokio::test]
async fn any_of_several_v1_signatures_may_match_during_secret_rotation() {
    let app = TestApp::builder().with_stripe().spawn().await;
    let (id, body) = stripe_event("some_future.thing_happened", json!({ "id": "thing_1", "object": "thing" }));
    let now = app.clock().now() / 1_000_000;
    let header = format!(
        "t={now},v1={},v1={}",
        stripe_v1(&body, "whsec_old_secret", now),
        stripe_v1(&body, WEBHOOK_SECRET, now)
    );
    let r = app.post_webhook(&body, Some(&header)).await;
    r.assert_status(200);
    app.apply_stripe_event(&id).await;
    assert_eq!(app.stripe_event_status(&id).await, "ignored", "unknown types are stored and ignored");
}

#[tokio::test]
async fn signed_bodies_that_are_not_json_or_unreadable_are_handled() {
    let app = TestApp::builder().with_stripe().spawn().await;
    let now = app.clock().now() / 1_000_000;
    let not_json = "this is not json";
    app.post_webhook(not_json, Some(&stripe_signature(not_json, WEBHOOK_SECRET, now))).await.assert_status(400);
    assert_eq!(app.count("select count(*) from stripe_events").await, 0);

    // A JSON event without what applying it needs, its type and its object's id
    // (say, a newer API version's shape): stored raw, 2xx, flagged for staff.
    let odd = [
        json!({ "id": "evt_newer1", "object": "event", "type": "customer.subscription.updated", "created": 1, "data": { "object": "sub_1" } }),
        json!({ "id": "evt_newer2", "object": "event", "type": "customer.subscription.updated", "created": 1, "data": { "object": { "id": 42 } } }),
        json!({ "id": "evt_newer3", "object": "event", "kind": "customer.subscription.updated", "created": 1, "data": { "object": { "id": "sub_1" } } }),
    ];
    for (n, event) in odd.iter().enumerate() {
        let body = event.to_string();
        let r = app.post_webhook(&body, Some(&stripe_signature(&body, WEBHOOK_SECRET, now))).await;
        r.assert_status(200);
        assert_eq!(r.json()["status"], "unreadable", "{body}");
        let id = format!("evt_newer{}", n + 1);
        let (payload,): (String,) = sqlx::query_as("select payload from stripe_events where id = $1")
            .bind(&id)
            .fetch_one(app.db().read())
            .await
            .expect("stored raw");
        assert_eq!(payload, body);
    }
    // An object without an id (a balance has none), or with fields of a shape our
    // types would not read, is no reason to flag it: applying never reads it.
    let newer = json!({ "id": "evt_newer4", "object": "event", "type": "balance.available", "created": 1, "data": { "object": { "object": "balance", "available": "soon" } } }).to_string();
    let r = app.post_webhook(&newer, Some(&stripe_signature(&newer, WEBHOOK_SECRET, now))).await;
    r.assert_status(200);
    app.apply_stripe_event("evt_newer4").await;
    assert_eq!(app.stripe_event_status("evt_newer4").await, "ignored");
}

#[tokio::test]
async fn oversized_webhook_bodies_get_413_before_parsing() {
    let app = TestApp::builder().with_stripe().spawn().await;
    let body = format!("{{\"id\":\"evt_big\",\"pad\":\"{}\"}}", "x".repeat(600 * 1024));
    let r =
        app.post_webhook(&body, Some(&stripe_signature(&body, WEBHOOK_SECRET, app.clock().now() / 1_000_000))).await;
    r.assert_status(413);
    assert_eq!(app.count("select count(*) from stripe_events").await, 0);
}

#[tokio::test]
async fn events_for_unknown_customers_wait_then_are_set_aside_as_unmatched() {
    let app = TestApp::builder().with_stripe().spawn().await;
    let our_price = app.price_id("reader", "month", "eur").await;
    // A price of ours (so the subscription is ours) but a customer we never linked.
    sqlx::query("update tier_prices set stripe_price_id = 'price_known' where id = $1")
        .bind(&our_price)
        .execute(&mut *app.db().write().await.expect("a write"))
        .await
        .expect("link");
    let mock = app.stripe();
    let sub =
        mock.subscription("sub_stranger", "cus_stranger", "price_known", 300, "eur", "month", "active", json!({}));
    mock.put(sub.clone());
    let (id, r) = app.send_stripe_event("customer.subscription.created", sub).await;
    r.assert_status(200);
    assert_eq!(app.stripe_event_status(&id).await, "pending");
    for _ in 0..10 {
        app.advance_clock(7 * 3600 * 1_000_000);
        app.drain_jobs().await;
    }
    let (status, error): (String, Option<String>) =
        sqlx::query_as("select status, last_error from stripe_events where id = $1")
            .bind(&id)
            .fetch_one(app.db().read())
            .await
            .expect("event");
    assert_eq!(status, "unmatched");
    assert!(error.is_some_and(|e| e.contains("cus_stranger")));
    assert_eq!(app.count("select count(*) from subscriptions").await, 0);
}

#[tokio::test]
async fn other_products_on_the_account_never_make_patrons() {
    let app = TestApp::builder().with_stripe().spawn().await;
    let p = start_checkout(&app, "shop@example.org").await;
    let mock = app.stripe();
    let foreign = mock.subscription(
        "sub_shop",
        &p.customer,
        "price_of_the_newsroom_shop",
        999,
        "eur",
        "month",
        "active",
        json!({}),
    );
    mock.put(foreign.clone());
    let (id, _) = app.send_stripe_event("customer.subscription.created", foreign).await;
    assert_eq!(app.stripe_event_status(&id).await, "ignored");
    assert_eq!(app.count("select count(*) from subscriptions").await, 0);
    assert_eq!(app.count("select count(*) from mrr_movements").await, 0);
}

#[tokio::test]
async fn a_failing_refetch_leaves_the_event_queued_until_stripe_answers() {
    let app = TestApp::builder().with_stripe().spawn().await;
    let p = start_checkout(&app, "patient.stripe@example.org").await;
    let session = complete_checkout(&app, &p, "sub_later", "active");
    app.stripe().fail_next(1);
    let (id, r) = app.send_stripe_event("checkout.session.completed", session).await;
    r.assert_status(200);
    assert_eq!(app.stripe_event_status(&id).await, "pending");
    assert_eq!(app.count("select count(*) from subscriptions").await, 0);
    app.advance_clock(60 * 1_000_000);
    app.drain_jobs().await;
    let (status,): (String,) = sqlx::query_as("select status from stripe_events where id = $1")
        .bind(&id)
        .fetch_one(app.db().read())
        .await
        .expect("event");
    assert_eq!(status, "applied");
    assert_eq!(app.count("select count(*) from subscriptions").await, 1);
}

#[tokio::test]
async fn invoice_paid_records_gross_fee_and_net_from_the_balance_transaction_once() {
    let app = TestApp::builder().with_stripe().spawn().await;
    let p = start_checkout(&app, "invoiced@example.org").await;
    let session = complete_checkout(&app, &p, "sub_inv", "active");
    app.send_stripe_event("checkout.session.completed", session).await.1.assert_status(200);

    let invoice = paid_invoice(&app, &p, "in_paid1", "ch_inv1", 600, 34);
    app.send_stripe_event("invoice.paid", invoice.clone()).await.1.assert_status(200);
    app.send_stripe_event("invoice.paid", invoice).await.1.assert_status(200);
    let rows: Vec<(String, i64, i64, i64, Option<String>)> =
        sqlx::query_as("select provider_id, gross_minor, fee_minor, net_minor, settlement_currency from payments")
            .fetch_all(app.db().read())
            .await
            .expect("ledger");
    assert_eq!(
        rows,
        vec![("in_paid1".to_string(), 600, 34, 566, Some("eur".to_string()))],
        "one row however often it is delivered"
    );
    let (first_paid,): (Option<i64>,) =
        sqlx::query_as("select first_paid_at from subscriptions").fetch_one(app.db().read()).await.expect("sub");
    assert_eq!(first_paid, Some(1_790_000_000_000_000));
}

/// Stripe changes the subscription; the event that says so is applied by re-reading it.
async fn stripe_updates_subscription(app: &TestApp, id: &str, change: impl FnOnce(&mut Value)) {
    let mock = app.stripe();
    let mut sub = mock.get(id).expect("subscription");
    change(&mut sub);
    mock.put(sub.clone());
    app.send_stripe_event("customer.subscription.updated", sub).await.1.assert_status(200);
}

async fn mrr_kinds(app: &TestApp) -> Vec<(String, i64)> {
    sqlx::query_as("select kind, delta_minor from mrr_movements order by created_at, id")
        .fetch_all(app.db().read())
        .await
        .expect("movements")
}

#[tokio::test]
async fn plan_changes_record_expansion_and_contraction() {
    let app = TestApp::builder().with_stripe().spawn().await;
    paying_patron(&app, "changer@example.org").await;
    stripe_updates_subscription(&app, "sub_inv", |s| s["items"]["data"][0]["price"]["unit_amount"] = json!(1200)).await;
    stripe_updates_subscription(&app, "sub_inv", |s| s["items"]["data"][0]["price"]["unit_amount"] = json!(300)).await;
    assert_eq!(
        mrr_kinds(&app).await,
        vec![("new".to_string(), 600), ("expansion".to_string(), 600), ("contraction".to_string(), -900)]
    );
}

#[tokio::test]
async fn failed_renewals_go_past_due_then_lapsed_and_paying_again_reactivates() {
    let app = TestApp::builder().with_stripe().spawn().await;
    paying_patron(&app, "wobbly@example.org").await;
    app.sign_in_member(&app.client, "wobbly@example.org").await;
    stripe_updates_subscription(&app, "sub_inv", |s| s["status"] = json!("past_due")).await;
    app.client.get("/account").send().await.assert_contains("payment overdue");
    // The grace period runs out: lapsed, though Stripe still retries.
    app.advance_clock(15 * 24 * 3600 * 1_000_000);
    app.client.get("/account").send().await.assert_contains("Lapsed patron");
    stripe_updates_subscription(&app, "sub_inv", |s| s["status"] = json!("canceled")).await;
    stripe_updates_subscription(&app, "sub_inv", |s| s["status"] = json!("active")).await;
    // Ended for good: the patron is told once, and invited back.
    let mail = app.deliver_mail().await;
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert!(mail[0].subject().is_some_and(|s| s.contains("has ended")), "{:?}", mail[0].subject());
    // A canceled subscription stays canceled; coming back is a new subscription.
    let mock = app.stripe();
    let mut again = mock.get("sub_inv").expect("sub");
    again["id"] = json!("sub_again");
    again["status"] = json!("active");
    mock.put(again.clone());
    app.send_stripe_event("customer.subscription.created", again).await.1.assert_status(200);
    app.client.get("/account").send().await.assert_contains(">Patron<");
    let kinds: Vec<String> = mrr_kinds(&app).await.into_iter().map(|k| k.0).collect();
    assert_eq!(kinds, vec!["new", "churn", "reactivation"]);
}

#[tokio::test]
async fn deleting_an_account_cancels_the_stripe_subscription_first() {
    let app = TestApp::builder().with_stripe().spawn().await;
    paying_patron(&app, "leaving@example.org").await;
    app.sign_in_member(&app.client, "leaving@example.org").await;

    // Stripe down: nothing is erased, the member is told.
    app.stripe().fail_next(1);
    app.client.post_form("/account/delete", &[("confirm", "yes")]).send().await.assert_status(502);
    let (email,): (Option<String>,) =
        sqlx::query_as("select email from members").fetch_one(app.db().read()).await.expect("member");
    assert_eq!(email.as_deref(), Some("leaving@example.org"));

    app.client.post_form("/account/delete", &[("confirm", "yes")]).send().await.assert_status(303);
    assert!(app.stripe().requests_to("DELETE", "/v1/subscriptions/sub_inv").len() >= 2);
    let (status,): (String,) =
        sqlx::query_as("select status from subscriptions").fetch_one(app.db().read()).await.expect("sub");
    assert_eq!(status, "canceled");
    let kinds: Vec<String> = mrr_kinds(&app).await.into_iter().map(|k| k.0).collect();
    assert_eq!(kinds, vec!["new", "churn"]);
    // The ledger keeps its rows, linked to the anonymous member.
    assert_eq!(app.count("select count(*) from payments where member_id is not null").await, 1);
}

#[tokio::test]
async fn staff_see_unmatched_events_and_retry_them_once_the_customer_is_linked() {
    let app = TestApp::builder().with_stripe().spawn().await;
    let p = start_checkout(&app, "late.link@example.org").await;
    // Stripe knows a subscription for a customer we have not linked yet.
    sqlx::query("update members set stripe_customer_id = null")
        .execute(&mut *app.db().write().await.expect("a write"))
        .await
        .expect("unlink");
    let mock = app.stripe();
    let sub = mock.subscription("sub_late", &p.customer, &p.stripe_price, 600, "eur", "month", "active", json!({}));
    mock.put(sub.clone());
    let (id, _) = app.send_stripe_event("customer.subscription.created", sub).await;
    assert_eq!(app.stripe_event_status(&id).await, "pending");

    app.sign_in_staff(&app.client, "admin@news.test", patronage::domain::Role::Admin).await;
    let page = app.client.get("/admin/events").send().await;
    page.assert_status(200)
        .assert_contains(&id)
        .assert_contains("pending")
        .assert_contains(&format!("/admin/events/{id}/retry"));

    sqlx::query("update members set stripe_customer_id = $1")
        .bind(&p.customer)
        .execute(&mut *app.db().write().await.expect("a write"))
        .await
        .expect("link");
    app.client.post_form(&format!("/admin/events/{id}/retry"), &[]).send().await.assert_status(303);
    let (status,): (String,) = sqlx::query_as("select status from stripe_events where id = $1")
        .bind(&id)
        .fetch_one(app.db().read())
        .await
        .expect("event");
    assert_eq!(status, "applied");
    app.client.get("/admin/ledger").send().await.assert_status(200);
    assert_eq!(app.count("select count(*) from audit_log where action = 'stripe_event.retry'").await, 1);
}

#[tokio::test]
async fn stripe_sync_repairs_what_missed_webhooks_left_out_and_is_idempotent() {
    let app = TestApp::builder().with_stripe().spawn().await;
    let p = start_checkout(&app, "missed@example.org").await;
    complete_checkout(&app, &p, "sub_inv", "active");
    paid_invoice(&app, &p, "in_missed", "ch_missed", 600, 34);
    assert_eq!(app.count("select count(*) from subscriptions").await, 0, "no webhook arrived");

    // …and a refund whose webhook never arrived.
    app.stripe().put_refund("ch_missed", "re_missed", 100, "succeeded");

    let report = patronage::services::stripe_events::sync_all(&app.ctx).await.expect("sync runs");
    assert_eq!((report.subscriptions, report.invoices, report.refunded_charges), (1, 1, 1));
    let again = patronage::services::stripe_events::sync_all(&app.ctx).await.expect("sync runs twice");
    assert_eq!((again.subscriptions, again.invoices), (1, 1));
    assert_eq!(app.count("select count(*) from subscriptions").await, 1);
    assert_eq!(app.count("select count(*) from payments").await, 2, "the invoice and the refund, once each");
    assert_eq!(app.count("select count(*) from mrr_movements").await, 1);
    assert!(app.stripe().requests_to("GET", "/v1/subscriptions").iter().all(|r| r.authorization.is_some()));
}

#[tokio::test]
async fn the_success_page_confirms_by_fetching_the_session_and_signs_in_a_new_patron_once() {
    let app = TestApp::builder().with_stripe().spawn().await;
    let p = start_checkout(&app, "fresh@example.org").await;
    let s = &app.stripe().requests_to("POST", "/v1/checkout/sessions")[0];
    assert_eq!(s.field("metadata[new_member]"), Some("1"));
    complete_checkout(&app, &p, "sub_fresh", "active");
    let browser = app.new_browser();
    let r = browser.get(&format!("/patron/welcome?session_id={}", p.session)).send().await;
    r.assert_status(200).assert_contains("Welcome, patron");
    assert!(browser.cookie("patronage_session").is_some(), "signed in by the success page");
    browser.get("/account").send().await.assert_contains(">Patron<");
    assert_eq!(
        app.count("select count(*) from subscriptions where status = 'active'").await,
        1,
        "applied before any webhook"
    );

    // The same link again, elsewhere: no second sign-in.
    let other = app.new_browser();
    other.get(&format!("/patron/welcome?session_id={}", p.session)).send().await.assert_status(200);
    assert!(other.cookie("patronage_session").is_none());
    other.get("/patron/welcome?session_id=cs_unknown").send().await.assert_status(200);
    other.get("/patron/welcome?session_id=not-a-session").send().await.assert_status(200);
}

#[tokio::test]
async fn the_success_page_never_signs_in_an_account_that_existed_before() {
    let app = TestApp::builder().with_stripe().spawn().await;
    app.post_join(&app.new_browser(), "existing@example.org", "").await.assert_status(303);
    app.deliver_mail().await;
    let p = start_checkout(&app, "existing@example.org").await;
    let s = &app.stripe().requests_to("POST", "/v1/checkout/sessions")[0];
    assert_eq!(s.field("metadata[new_member]"), None);
    complete_checkout(&app, &p, "sub_existing", "active");
    let browser = app.new_browser();
    browser
        .get(&format!("/patron/welcome?session_id={}", p.session))
        .send()
        .await
        .assert_status(200)
        .assert_contains("Sign in with your email");
    assert!(browser.cookie("patronage_session").is_none());
}

#[tokio::test]
async fn an_invoice_before_the_customer_is_linked_still_applies_through_our_metadata() {
    let app = TestApp::builder().with_stripe().spawn().await;
    let p = start_checkout(&app, "early.invoice@example.org").await;
    complete_checkout(&app, &p, "sub_inv", "active");
    sqlx::query("update members set stripe_customer_id = null")
        .execute(&mut *app.db().write().await.expect("a write"))
        .await
        .expect("unlink");
    let invoice = paid_invoice(&app, &p, "in_early", "ch_early", 600, 34);
    let (id, _) = app.send_stripe_event("invoice.paid", invoice).await;
    assert_eq!(app.stripe_event_status(&id).await, "applied");
    assert_eq!(app.count("select count(*) from payments where member_id is not null").await, 1);
    let (customer,): (Option<String>,) =
        sqlx::query_as("select stripe_customer_id from members").fetch_one(app.db().read()).await.expect("member");
    assert_eq!(customer.as_deref(), Some(p.customer.as_str()), "linked from the subscription's metadata");
}

#[tokio::test]
async fn cancel_at_period_end_keeps_access_until_stripe_deletes_it() {
    let app = TestApp::builder().with_stripe().spawn().await;
    paying_patron(&app, "ending@example.org").await;
    app.sign_in_member(&app.client, "ending@example.org").await;
    stripe_updates_subscription(&app, "sub_inv", |s| s["cancel_at_period_end"] = json!(true)).await;
    app.client.get("/account").send().await.assert_contains(">Patron<").assert_contains("your patronage ends on");
    assert_eq!(mrr_kinds(&app).await.len(), 1, "no churn before the period ends");
    let mock = app.stripe();
    let mut deleted = mock.get("sub_inv").expect("sub");
    deleted["status"] = json!("canceled");
    deleted["ended_at"] = json!(1_790_100_000);
    mock.put(deleted.clone());
    app.send_stripe_event("customer.subscription.deleted", deleted).await.1.assert_status(200);
    app.client.get("/account").send().await.assert_contains("Lapsed patron");
    let kinds: Vec<String> = mrr_kinds(&app).await.into_iter().map(|k| k.0).collect();
    assert_eq!(kinds, vec!["new", "churn"]);
}

#[tokio::test]
async fn an_incomplete_first_payment_never_makes_a_patron() {
    let app = TestApp::builder().with_stripe().spawn().await;
    let p = start_checkout(&app, "incomplete@example.org").await;
    let session = complete_checkout(&app, &p, "sub_incomplete", "incomplete");
    app.send_stripe_event("checkout.session.completed", session).await.1.assert_status(200);
    app.sign_in_member(&app.client, "incomplete@example.org").await;
    app.client.get("/account").send().await.assert_contains("Free member");
    assert_eq!(app.count("select count(*) from mrr_movements").await, 0);
    stripe_updates_subscription(&app, "sub_incomplete", |s| s["status"] = json!("incomplete_expired")).await;
    app.client.get("/account").send().await.assert_contains("Free member");
}

#[tokio::test]
async fn zero_decimal_currencies_keep_whole_units() {
    let app = TestApp::builder().with_stripe().spawn().await;
    let (tier,): (String,) =
        sqlx::query_as("select id from tiers where slug = 'supporter'").fetch_one(app.db().read()).await.expect("tier");
    sqlx::query("insert into tier_prices (id, tier_id, interval, currency, amount_minor, flexible, stripe_price_id, created_at) values ('jpy-price', $1, 'month', 'jpy', 500, 0, 'price_jpy', 0)")
        .bind(&tier)
        .execute(&mut *app.db().write().await.expect("a write"))
        .await
        .expect("a yen price");
    app.new_browser().get("/?currency=jpy").send().await.assert_contains("¥500 a month");
    let p = start_checkout(&app, "yen@example.org").await;
    let mock = app.stripe();
    let metadata = json!({ "patronage": "1", "member_id": p.member_id, "price_id": "jpy-price" });
    let sub = mock.subscription("sub_yen", &p.customer, "price_jpy", 500, "jpy", "month", "active", metadata);
    mock.put(sub.clone());
    app.send_stripe_event("customer.subscription.created", sub).await.1.assert_status(200);
    let (mrr, currency): (i64, String) = sqlx::query_as("select mrr_after_minor, currency from mrr_movements")
        .fetch_one(app.db().read())
        .await
        .expect("movement");
    assert_eq!((mrr, currency.as_str()), (500, "jpy"));
    app.sign_in_member(&app.client, "yen@example.org").await;
    app.client.get("/account").send().await.assert_contains("¥500 a month");
}

#[tokio::test]
async fn a_deleted_customer_is_forgotten_so_the_next_checkout_makes_a_new_one() {
    let app = TestApp::builder().with_stripe().spawn().await;
    let p = start_checkout(&app, "deleted.customer@example.org").await;
    // Stripe sends the customer as it was in `customer.deleted`.
    let mut deleted = crate::helpers::stripe_mock::fixture("customer");
    deleted["id"] = json!(p.customer);
    app.send_stripe_event("customer.deleted", deleted).await.1.assert_status(200);
    let (customer,): (Option<String>,) =
        sqlx::query_as("select stripe_customer_id from members").fetch_one(app.db().read()).await.expect("member");
    assert_eq!(customer, None);
    start_checkout(&app, "deleted.customer@example.org").await;
    assert_eq!(app.stripe().requests_to("POST", "/v1/customers").len(), 2);
}

#[tokio::test]
async fn the_demo_checkout_and_portal_do_not_exist_when_stripe_is_configured() {
    let app = TestApp::builder().with_stripe().spawn().await;
    paying_patron(&app, "real@example.org").await;
    app.sign_in_member(&app.client, "real@example.org").await;
    app.client.get("/demo/portal").send().await.assert_status(404);
    app.client.post_form("/demo/portal", &[("action", "cancel_now")]).send().await.assert_status(404);
    app.client
        .post_form("/demo/checkout", &[("c", "00"), ("s", "00"), ("outcome", "succeed")])
        .send()
        .await
        .assert_status(404);
    let (status,): (String,) =
        sqlx::query_as("select status from subscriptions").fetch_one(app.db().read()).await.expect("sub");
    assert_eq!(status, "active");
    app.client.get("/").send().await.assert_not_contains("Demo mode");
}
