//! Offers and trials: staff make them, readers redeem them by link or code on
//! the patron form, and each kind goes through checkout (demo gateway, and the
//! Stripe mock with signed webhooks) to the ledger, MRR and the offers report.
use patronage::clock::DAY;
use patronage::domain::Role;
use serde_json::json;

use crate::helpers::voting::{pay_demo, staff};
use crate::helpers::{TestApp, TestClient, concurrently};
use crate::reports::{assert_mrr_identity, parse_csv};
use crate::stripe::{complete_checkout, start_checkout};

const SUPPORTER: &str = "00000000-0000-7000-8000-000000000002";
const READER: &str = "00000000-0000-7000-8000-000000000001";

/// Makes an offer through the staff page; returns its id.
async fn make_offer(app: &TestApp, admin: &TestClient, fields: &[(&str, &str)]) -> String {
    admin.post_form("/admin/offers", fields).send().await.assert_status(303);
    let slug = fields.iter().find(|(k, _)| *k == "slug").map(|(_, v)| *v).expect("tests name the slug");
    let (id,): (String,) = sqlx::query_as("select id from offers where slug = $1")
        .bind(slug)
        .fetch_one(app.db().read())
        .await
        .expect("stored");
    id
}

/// An offer on the Supporter tier's monthly prices.
async fn supporter_offer(app: &TestApp, admin: &TestClient, fields: &[(&str, &str)]) -> String {
    let tier = format!("tier_{SUPPORTER}");
    let mut all = vec![(tier.as_str(), "yes"), ("interval_month", "yes")];
    all.extend_from_slice(fields);
    make_offer(app, admin, &all).await
}

/// 50% off the Supporter tier's monthly price for three months.
async fn half_for_three_months(app: &TestApp, admin: &TestClient, extra: &[(&str, &str)]) -> String {
    let mut fields = vec![
        ("name", "Spring half price"),
        ("slug", "spring"),
        ("kind", "percent"),
        ("percent", "50"),
        ("duration", "repeating"),
        ("months", "3"),
    ];
    fields.extend_from_slice(extra);
    supporter_offer(app, admin, &fields).await
}

/// A free trial of `days` days on the Supporter tier, monthly.
async fn try_us(app: &TestApp, admin: &TestClient, days: &str) -> String {
    supporter_offer(app, admin, &[("name", "Try us"), ("slug", "try"), ("kind", "trial"), ("trial_days", days)]).await
}

async fn mrr_movements(app: &TestApp) -> Vec<(String, i64)> {
    sqlx::query_as("select kind, delta_minor from mrr_movements order by created_at, id")
        .fetch_all(app.db().read())
        .await
        .expect("movements")
}

async fn ledger(app: &TestApp) -> Vec<i64> {
    sqlx::query_as::<_, (i64,)>("select gross_minor from payments order by occurred_at, id")
        .fetch_all(app.db().read())
        .await
        .expect("ledger")
        .into_iter()
        .map(|(g,)| g)
        .collect()
}

/// `(status, mrr_minor, offer_id)` of the only subscription.
async fn the_subscription(app: &TestApp) -> (String, i64, Option<String>) {
    sqlx::query_as("select status, mrr_minor, offer_id from subscriptions")
        .fetch_one(app.db().read())
        .await
        .expect("one")
}

#[tokio::test]
async fn staff_make_offers_with_a_link_and_a_code_and_bad_input_stores_nothing() {
    let app = TestApp::spawn().await;
    let admin = staff(&app, "money@example.org", Role::Admin).await;
    admin.get("/admin/offers").send().await.assert_status(200).assert_contains("New offer");
    // Nothing chosen, a percentage out of range, a code with a space: refused, nothing stored.
    admin
        .post_form(
            "/admin/offers",
            &[("name", "Bad"), ("kind", "percent"), ("percent", "150"), ("duration", "once"), ("code", "a b")],
        )
        .send()
        .await
        .assert_status(422)
        .assert_contains("A whole percentage from 1 to 100.")
        .assert_contains("Choose at least one tier.")
        .assert_contains("Choose monthly, yearly or both.")
        .assert_contains("A code is 3 to 40 letters");
    assert_eq!(app.count("select count(*) from offers").await, 0);

    half_for_three_months(&app, &admin, &[("code", "spring50"), ("max_redemptions", "100")]).await;
    let page = admin.get("/admin/offers").send().await;
    page.assert_contains(&format!("{}/patron?offer=spring", app.base_url))
        .assert_contains("SPRING50")
        .assert_contains("50% off for 3 months")
        .assert_contains("0 of 100");
    // The same link name or code again: a clear error, no second offer.
    let tier = format!("tier_{SUPPORTER}");
    admin
        .post_form(
            "/admin/offers",
            &[
                ("name", "Again"),
                ("slug", "spring"),
                ("kind", "trial"),
                ("trial_days", "7"),
                (&tier, "yes"),
                ("interval_month", "yes"),
            ],
        )
        .send()
        .await
        .assert_status(422)
        .assert_contains("Another offer has this link name.");
    assert_eq!(app.count("select count(*) from offers").await, 1);
    // Editors do not manage payments.
    let editor = staff(&app, "editor@example.org", Role::Editor).await;
    editor.get("/admin/offers").send().await.assert_status(403);
}

#[tokio::test]
async fn a_discount_for_some_months_through_the_demo_gateway_lowers_the_payment_not_the_mrr() {
    let app = TestApp::spawn().await;
    let admin = staff(&app, "money@example.org", Role::Admin).await;
    let offer = half_for_three_months(&app, &admin, &[]).await;
    let reader = app.new_browser();
    reader
        .get("/patron?offer=spring&currency=eur")
        .send()
        .await
        .assert_status(200)
        .assert_contains("Offer: 50% off for 3 months")
        .assert_contains("€3.00 a month for 3 months, then €6.00 a month");
    let price = app.price_id("supporter", "month", "eur").await;
    let start = reader
        .post_form("/patron", &[("price", &price), ("email", "half@example.org"), ("offer", "spring")])
        .send()
        .await;
    let checkout = reader.get(&start.location().expect("to the demo checkout")).send().await;
    checkout.assert_contains("€3.00 a month for 3 months, then €6.00 a month").assert_contains("€3.00");
    pay_demo(&reader, &start, "succeed").await.assert_status(303);

    assert_eq!(ledger(&app).await, [300], "the first payment is discounted");
    assert_eq!(the_subscription(&app).await, ("active".into(), 600, Some(offer.clone())), "MRR at the full price");
    assert_eq!(mrr_movements(&app).await, [("new".to_string(), 600)]);
    assert_eq!(app.count("select count(*) from offer_redemptions").await, 1);
    assert_mrr_identity(&app, &admin).await;
    app.deliver_mail().await;
}

#[tokio::test]
async fn a_fixed_amount_off_for_ever_lowers_mrr_and_applies_only_where_it_says() {
    let app = TestApp::spawn().await;
    let admin = staff(&app, "money@example.org", Role::Admin).await;
    supporter_offer(
        &app,
        &admin,
        &[("name", "Loyal"), ("slug", "loyal"), ("kind", "amount"), ("amount_eur", "1.50"), ("duration", "forever")],
    )
    .await;
    let reader = app.new_browser();
    // Another tier, another interval, a currency it has no amount in: refused, nothing stored.
    for (slug, interval, currency) in
        [("reader", "month", "eur"), ("supporter", "year", "eur"), ("supporter", "month", "usd")]
    {
        let price = app.price_id(slug, interval, currency).await;
        reader
            .post_form("/patron", &[("price", &price), ("email", "loyal@example.org"), ("offer", "loyal")])
            .send()
            .await
            .assert_status(422)
            .assert_contains("This offer is not available for the tier and billing period you chose.");
    }
    assert_eq!(app.member_count().await, 0);
    reader
        .get("/patron?offer=loyal")
        .send()
        .await
        .assert_contains("€4.50 a month for as long as you stay (instead of €6.00 a month)");
    let price = app.price_id("supporter", "month", "eur").await;
    let start = reader
        .post_form("/patron", &[("price", &price), ("email", "loyal@example.org"), ("offer", "loyal")])
        .send()
        .await;
    pay_demo(&reader, &start, "succeed").await.assert_status(303);
    assert_eq!(ledger(&app).await, [450]);
    assert_eq!(the_subscription(&app).await.1, 450, "a discount for ever lowers MRR");
    assert_eq!(mrr_movements(&app).await, [("new".to_string(), 450)]);
    assert_mrr_identity(&app, &admin).await;
    app.deliver_mail().await;
}

#[tokio::test]
async fn a_demo_trial_starts_trialing_counts_nothing_and_pays_at_its_end() {
    let app = TestApp::spawn().await;
    let admin = staff(&app, "money@example.org", Role::Admin).await;
    try_us(&app, &admin, "14").await;
    let reader = app.new_browser();
    reader.get("/patron?offer=try").send().await.assert_contains("Free for 14 days, then €6.00 a month");
    let price = app.price_id("supporter", "month", "eur").await;
    let start = reader
        .post_form("/patron", &[("price", &price), ("email", "trial@example.org"), ("offer", "try")])
        .send()
        .await;
    reader.get(&start.location().expect("checkout")).send().await.assert_contains("€0.00");
    pay_demo(&reader, &start, "succeed").await.assert_status(303);
    assert_eq!(the_subscription(&app).await.0, "trialing");
    assert_eq!(the_subscription(&app).await.1, 0, "a trial counts nothing");
    assert!(ledger(&app).await.is_empty());
    assert!(mrr_movements(&app).await.is_empty());
    reader.get("/account").send().await.assert_contains(">Patron<");

    // Not yet: nothing happens before the trial ends.
    app.advance_clock(13 * DAY);
    app.drain_jobs().await;
    assert!(ledger(&app).await.is_empty());
    app.advance_clock(2 * DAY);
    app.drain_jobs().await;
    assert_eq!(the_subscription(&app).await.0, "active");
    assert_eq!(ledger(&app).await, [600], "the first payment comes at the trial's end, in full");
    assert_eq!(mrr_movements(&app).await, [("new".to_string(), 600)], "trialing → active is new MRR");
    app.drain_jobs().await;
    assert_eq!(ledger(&app).await.len(), 1, "charged once");
    // (Signed in again: two weeks idle end a staff session.)
    let admin = staff(&app, "money@example.org", Role::Admin).await;
    assert_mrr_identity(&app, &admin).await;
    app.deliver_mail().await;
}

#[tokio::test]
async fn codes_are_typed_in_any_case_and_refused_past_their_limit_or_end_date_storing_nothing() {
    let app = TestApp::spawn().await;
    let admin = staff(&app, "money@example.org", Role::Admin).await;
    half_for_three_months(&app, &admin, &[("code", "SPRING50"), ("max_redemptions", "1")]).await;
    let tomorrow = patronage::clock::format_date(app.clock().now() + DAY);
    supporter_offer(
        &app,
        &admin,
        &[
            ("name", "Weekend"),
            ("slug", "weekend"),
            ("kind", "percent"),
            ("percent", "10"),
            ("duration", "once"),
            ("code", "weekend"),
            ("ends_on", &tomorrow),
        ],
    )
    .await;
    let price = app.price_id("supporter", "month", "eur").await;
    let first = app.new_browser();
    first.get("/patron?code=spring50").send().await.assert_status(200).assert_contains("Offer: 50% off for 3 months");
    let start = first
        .post_form("/patron", &[("price", &price), ("email", "first@example.org"), ("code", "Spring50")])
        .send()
        .await;
    pay_demo(&first, &start, "succeed").await.assert_status(303);
    assert_eq!(ledger(&app).await, [300]);

    let second = app.new_browser();
    let members = app.member_count().await;
    second
        .post_form("/patron", &[("price", &price), ("email", "second@example.org"), ("code", "spring50")])
        .send()
        .await
        .assert_status(422)
        .assert_contains("This offer has been fully redeemed.");
    second
        .post_form("/patron", &[("price", &price), ("email", "second@example.org"), ("code", "NOSUCHCODE")])
        .send()
        .await
        .assert_status(422)
        .assert_contains("We do not know that offer code. Check it and try again.");
    // Ukrainian readers are told in Ukrainian.
    second
        .post_form("/patron", &[("price", &price), ("email", "second@example.org"), ("code", "spring50")])
        .header("accept-language", "uk")
        .send()
        .await
        .assert_status(422)
        .assert_contains("Цю пропозицію вже повністю використано.");
    // Through its last day (a discount on the first payment only: MRR at the full price), then closed.
    let third = app.new_browser();
    third
        .get("/patron?code=weekend")
        .send()
        .await
        .assert_contains("10% off your first payment")
        .assert_contains("€5.40 for the first month, then €6.00 a month");
    let start = third
        .post_form("/patron", &[("price", &price), ("email", "third@example.org"), ("code", "WeekEnd")])
        .send()
        .await;
    pay_demo(&third, &start, "succeed").await.assert_status(303);
    assert_eq!(ledger(&app).await, [300, 540]);
    assert_eq!(mrr_movements(&app).await, [("new".to_string(), 600), ("new".to_string(), 600)]);
    app.advance_clock(2 * DAY);
    second
        .post_form("/patron", &[("price", &price), ("email", "second@example.org"), ("code", "weekend")])
        .send()
        .await
        .assert_status(422)
        .assert_contains("This offer has ended.");
    assert_eq!(app.member_count().await, members + 1, "only the third reader's");
    assert_eq!(app.count("select count(*) from subscriptions").await, 2);
    assert_eq!(app.count("select count(*) from offer_redemptions").await, 2);
    app.deliver_mail().await;
}

#[tokio::test]
async fn forged_or_tampered_offer_ids_and_ended_offers_are_refused() {
    let app = TestApp::spawn().await;
    let admin = staff(&app, "money@example.org", Role::Admin).await;
    let offer = half_for_three_months(&app, &admin, &[]).await;
    let price = app.price_id("supporter", "month", "eur").await;
    let reader = app.new_browser();
    let forged = uuid::Uuid::now_v7().to_string();
    for link in [forged.as_str(), &format!("{offer}x"), "' or 1=1 --"] {
        reader
            .post_form("/patron", &[("price", &price), ("email", "forger@example.org"), ("offer", link)])
            .send()
            .await
            .assert_status(422)
            .assert_contains("This offer link is not valid.");
    }
    reader.get(&format!("/patron?offer={forged}")).send().await.assert_contains("This offer link is not valid.");
    assert_eq!(app.member_count().await, 0);

    // A sealed demo checkout cannot be given another offer (or a cheaper first charge).
    let start = reader
        .post_form("/patron", &[("price", &price), ("email", "forger@example.org"), ("offer", &offer)])
        .send()
        .await;
    let url = start.location().expect("checkout");
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
    let params: Vec<(String, String)> = serde_urlencoded::from_str(query).expect("query");
    let field = |n: &str| params.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()).expect("field");
    let hex = |s: &str| s.bytes().map(|b| format!("{b:02x}")).collect::<String>();
    let tampered = field("c").replace(&hex("\"first_charge_minor\":300"), &hex("\"first_charge_minor\":100"));
    assert_ne!(tampered, field("c"));
    reader
        .post_form("/demo/checkout", &[("c", &tampered), ("s", &field("s")), ("outcome", "succeed")])
        .send()
        .await
        .assert_status(410);
    assert_eq!(app.count("select count(*) from subscriptions").await, 0);

    // Ended by staff after the checkout began: the demo gateway refuses it at completion.
    admin.post_form(&format!("/admin/offers/{offer}/end"), &[]).send().await.assert_status(303);
    pay_demo(&reader, &start, "succeed").await.assert_status(409).assert_contains("This offer has ended.");
    assert_eq!(app.count("select count(*) from subscriptions").await, 0);
    assert_eq!(app.count("select count(*) from payments").await, 0);
    reader.get("/patron?offer=spring").send().await.assert_contains("This offer has ended.");
    admin.get("/admin/offers").send().await.assert_contains("ended by staff");
}

#[tokio::test]
async fn of_two_concurrent_last_redemptions_one_wins() {
    let app = TestApp::spawn().await;
    let admin = staff(&app, "money@example.org", Role::Admin).await;
    half_for_three_months(&app, &admin, &[("max_redemptions", "1")]).await;
    let price = app.price_id("supporter", "month", "eur").await;
    // Both start while a redemption is left.
    let mut started = Vec::new();
    for n in 0..2 {
        let browser = app.new_browser();
        let email = format!("racer{n}@example.org");
        let start =
            browser.post_form("/patron", &[("price", &price), ("email", &email), ("offer", "spring")]).send().await;
        started.push((browser, start));
    }
    let outcomes = concurrently(2, async |i| pay_demo(&started[i].0, &started[i].1, "succeed").await.status).await;
    let mut sorted = outcomes.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, [303, 409], "{outcomes:?}");
    assert_eq!(app.count("select count(*) from offer_redemptions").await, 1);
    assert_eq!(app.count("select count(*) from subscriptions").await, 1);
    assert_eq!(ledger(&app).await, [300]);
    app.deliver_mail().await;
}

#[tokio::test]
async fn a_code_on_stripe_makes_its_coupon_and_promotion_code_once_and_the_discount_is_read_back() {
    let app = TestApp::builder().with_stripe().spawn().await;
    let admin = staff(&app, "money@example.org", Role::Admin).await;
    let offer = half_for_three_months(&app, &admin, &[("code", "SPRING50"), ("max_redemptions", "10")]).await;
    let price = app.price_id("supporter", "month", "eur").await;
    app.client
        .post_form("/patron", &[("price", &price), ("email", "coupon@example.org"), ("code", "spring50")])
        .send()
        .await
        .assert_status(303);
    let mock = app.stripe();
    let coupons = mock.requests_to("POST", "/v1/coupons");
    assert_eq!(coupons.len(), 1);
    let c = &coupons[0];
    assert_eq!(
        (c.field("percent_off"), c.field("duration"), c.field("duration_in_months"), c.field("max_redemptions")),
        (Some("50"), Some("repeating"), Some("3"), Some("10"))
    );
    assert_eq!(c.field("metadata[offer_id]"), Some(offer.as_str()));
    assert_eq!(c.idempotency_key.as_deref(), Some(format!("coupon-{offer}").as_str()));
    let promos = mock.requests_to("POST", "/v1/promotion_codes");
    assert_eq!(promos.len(), 1);
    assert_eq!(promos[0].field("code"), Some("SPRING50"));
    assert_eq!(promos[0].field("promotion[type]"), Some("coupon"));
    let coupon = mock.objects_where(|o| o["object"] == "coupon")[0]["id"].as_str().expect("id").to_string();
    let promo = mock.objects_where(|o| o["object"] == "promotion_code")[0]["id"].as_str().expect("id").to_string();
    assert_eq!(promos[0].field("promotion[coupon]"), Some(coupon.as_str()));
    let session = &mock.requests_to("POST", "/v1/checkout/sessions")[0];
    assert_eq!(session.field("discounts[0][promotion_code]"), Some(promo.as_str()));

    // Again, by its link this time: the coupon is reused, no promotion code is needed.
    let p = start_checkout(&app, "coupon2@example.org").await;
    let again =
        app.client.post_form("/patron", &[("price", &price), ("email", "coupon3@example.org"), ("offer", "spring")]);
    again.send().await.assert_status(303);
    assert_eq!(mock.requests_to("POST", "/v1/coupons").len(), 1);
    assert_eq!(mock.requests_to("POST", "/v1/promotion_codes").len(), 1);
    let last = mock.requests_to("POST", "/v1/checkout/sessions").pop().expect("a session");
    assert_eq!(last.field("discounts[0][coupon]"), Some(coupon.as_str()));

    // Stripe reports the subscription with its discount: the redemption is read back from it.
    let session = complete_checkout(&app, &p, "sub_off", "active");
    let mut sub = mock.get("sub_off").expect("sub");
    mock.with_discount(&mut sub, &coupon, Some(&promo));
    mock.put(sub);
    let (event, r) = app.send_stripe_event("checkout.session.completed", session).await;
    r.assert_status(200);
    assert_eq!(app.stripe_event_status(&event).await, "applied");
    assert_eq!(the_subscription(&app).await, ("active".into(), 600, Some(offer.clone())), "MRR at the full price");
    let (redeemed,): (String,) =
        sqlx::query_as("select offer_id from offer_redemptions").fetch_one(app.db().read()).await.expect("one");
    assert_eq!(redeemed, offer);

    // Its first invoice, discounted by Stripe: the ledger books what was paid.
    mock.put_charge(
        "ch_off",
        300,
        "eur",
        Some(&p.customer),
        crate::helpers::stripe_mock::Settled { amount: 300, fee: 20, currency: "eur" },
    );
    mock.put_paid_invoice("in_off", "sub_off", "ch_off");
    let invoice = mock.discount_invoice("in_off", 600, 300, "di_sub_off");
    app.send_stripe_event("invoice.paid", invoice).await.1.assert_status(200);
    assert_eq!(ledger(&app).await, [300]);
    // A later event (the subscription unchanged) records nothing twice.
    app.send_stripe_event("customer.subscription.updated", mock.get("sub_off").expect("sub"))
        .await
        .1
        .assert_status(200);
    assert_eq!(app.count("select count(*) from offer_redemptions").await, 1);
    assert_eq!(mrr_movements(&app).await, [("new".to_string(), 600)]);
    assert_mrr_identity(&app, &admin).await;
    app.deliver_mail().await;
}

#[tokio::test]
async fn a_discount_for_ever_on_stripe_lowers_mrr_until_it_is_removed() {
    let app = TestApp::builder().with_stripe().spawn().await;
    let admin = staff(&app, "money@example.org", Role::Admin).await;
    let offer = supporter_offer(
        &app,
        &admin,
        &[
            ("name", "Founders"),
            ("slug", "founders"),
            ("kind", "amount"),
            ("amount_eur", "2"),
            ("amount_uah", "50"),
            ("duration", "forever"),
        ],
    )
    .await;
    let price = app.price_id("supporter", "month", "eur").await;
    app.client
        .post_form("/patron", &[("price", &price), ("email", "founder@example.org"), ("offer", "founders")])
        .send()
        .await
        .assert_status(303);
    let mock = app.stripe();
    let c = &mock.requests_to("POST", "/v1/coupons")[0];
    // One amount per currency: the first as the coupon's own, the others as its currency options.
    assert_eq!((c.field("amount_off"), c.field("currency")), (Some("5000"), Some("uah")));
    assert_eq!(c.field("currency_options[eur][amount_off]"), Some("200"));
    assert_eq!(c.field("duration"), Some("forever"));
    let coupon = mock.objects_where(|o| o["object"] == "coupon")[0]["id"].as_str().expect("id").to_string();
    let p = start_checkout(&app, "founder@example.org").await;
    let session = complete_checkout(&app, &p, "sub_founder", "active");
    let mut sub = mock.get("sub_founder").expect("sub");
    mock.with_discount(&mut sub, &coupon, None);
    mock.put(sub);
    app.send_stripe_event("checkout.session.completed", session).await.1.assert_status(200);
    assert_eq!(the_subscription(&app).await, ("active".into(), 400, Some(offer)));
    // Staff remove the discount in Stripe's dashboard: the full price counts again.
    let mut sub = mock.get("sub_founder").expect("sub");
    sub["discounts"] = json!([]);
    sub["discount"] = serde_json::Value::Null;
    mock.put(sub.clone());
    app.send_stripe_event("customer.subscription.updated", sub).await.1.assert_status(200);
    assert_eq!(the_subscription(&app).await, ("active".into(), 600, None));
    assert_eq!(mrr_movements(&app).await, [("new".to_string(), 400), ("expansion".to_string(), 200)]);
    assert_eq!(app.count("select count(*) from offer_redemptions").await, 1, "the redemption stays");
    assert_mrr_identity(&app, &admin).await;
    app.deliver_mail().await;
}

#[tokio::test]
async fn a_stripe_trial_counts_nothing_until_it_turns_active_and_is_paid() {
    let app = TestApp::builder().with_stripe().spawn().await;
    let admin = staff(&app, "money@example.org", Role::Admin).await;
    let offer = try_us(&app, &admin, "14").await;
    let price = app.price_id("supporter", "month", "eur").await;
    app.client
        .post_form("/patron", &[("price", &price), ("email", "trial@example.org"), ("offer", "try")])
        .send()
        .await
        .assert_status(303);
    let mock = app.stripe();
    let s = &mock.requests_to("POST", "/v1/checkout/sessions")[0];
    assert_eq!(s.field("subscription_data[trial_period_days]"), Some("14"));
    assert_eq!(s.field("subscription_data[metadata][trial_offer_id]"), Some(offer.as_str()));
    assert!(s.field("discounts[0][coupon]").is_none());
    assert!(mock.requests_to("POST", "/v1/coupons").is_empty(), "a trial needs no coupon");

    let p = start_checkout(&app, "trial@example.org").await;
    let session = complete_checkout(&app, &p, "sub_trial", "trialing");
    let mut sub = mock.get("sub_trial").expect("sub");
    sub["metadata"]["trial_offer_id"] = json!(offer);
    let trial_end = app.clock().now() / 1_000_000 + 14 * 86_400;
    mock.in_trial(&mut sub, trial_end);
    mock.put(sub);
    app.send_stripe_event("checkout.session.completed", session).await.1.assert_status(200);
    assert_eq!(the_subscription(&app).await, ("trialing".into(), 0, Some(offer.clone())));
    assert!(mrr_movements(&app).await.is_empty());
    assert_eq!(app.count("select count(*) from offer_redemptions").await, 1);

    // The trial ends: Stripe charges the first invoice and the subscription turns active.
    let mut sub = mock.get("sub_trial").expect("sub");
    sub["status"] = json!("active");
    mock.put(sub.clone());
    app.send_stripe_event("customer.subscription.updated", sub).await.1.assert_status(200);
    mock.put_charge(
        "ch_trial",
        600,
        "eur",
        Some(&p.customer),
        crate::helpers::stripe_mock::Settled { amount: 600, fee: 30, currency: "eur" },
    );
    let invoice = mock.put_paid_invoice("in_trial", "sub_trial", "ch_trial");
    app.send_stripe_event("invoice.paid", invoice).await.1.assert_status(200);
    assert_eq!(the_subscription(&app).await.1, 600);
    assert_eq!(mrr_movements(&app).await, [("new".to_string(), 600)], "trialing → active is new MRR");
    assert_eq!(ledger(&app).await, [600]);
    assert_mrr_identity(&app, &admin).await;

    // The report: one redemption, converted, paying €6.00 a month now.
    let report = admin.get("/admin/reports/offers?range=all").send().await;
    report.assert_status(200).assert_contains("Try us").assert_contains("Try it free for 14 days");
    let csv = parse_csv(&admin.get("/admin/reports/offers.csv?range=all").send().await.body);
    assert_eq!(csv[0], ["offer_id", "offer", "gives", "currency", "redemptions", "converted", "mrr_now"]);
    assert_eq!(csv[1][3..], ["EUR", "1", "1", "6.00"]);
    app.deliver_mail().await;
}

#[tokio::test]
async fn the_report_counts_redemptions_conversions_and_what_converted_patrons_pay() {
    let app = TestApp::spawn().await;
    let admin = staff(&app, "money@example.org", Role::Admin).await;
    let offer = half_for_three_months(&app, &admin, &[]).await;
    try_us(&app, &admin, "7").await;
    let price = app.price_id("supporter", "month", "eur").await;
    for (email, link) in [("a@example.org", "spring"), ("b@example.org", "spring"), ("c@example.org", "try")] {
        let browser = app.new_browser();
        let start = browser.post_form("/patron", &[("price", &price), ("email", email), ("offer", link)]).send().await;
        pay_demo(&browser, &start, "succeed").await.assert_status(303);
    }
    // One of the discounted patrons cancels at once in the demo portal.
    let patron = app.new_browser();
    app.sign_in_member(&patron, "b@example.org").await;
    patron.post_form("/demo/portal", &[("action", "cancel_now"), ("confirm", "yes")]).send().await.assert_status(303);
    let csv = parse_csv(&admin.get("/admin/reports/offers.csv?range=12m").send().await.body);
    let rows: Vec<(String, Vec<String>)> = csv[1..].iter().map(|r| (r[1].clone(), r[3..].to_vec())).collect();
    assert!(
        rows.contains(&("Spring half price".to_string(), vec!["EUR".into(), "2".into(), "1".into(), "6.00".into()])),
        "{rows:?}"
    );
    assert!(
        rows.contains(&("Try us".to_string(), vec!["EUR".into(), "1".into(), "0".into(), "0.00".into()])),
        "{rows:?}"
    );
    assert!(csv[1..].iter().any(|r| r[0] == offer));
    admin
        .get("/admin/reports/offers?range=12m")
        .send()
        .await
        .assert_contains("Spring half price")
        .assert_contains("50% off for 3 months");
    // A range that cannot be read is refused as on the other reports.
    admin
        .get("/admin/reports/offers?range=custom&from=2026-13&to=x")
        .send()
        .await
        .assert_status(400)
        .assert_contains("is not a month");
    app.deliver_mail().await;
}

#[tokio::test]
async fn the_landing_page_features_one_offer_in_the_readers_language_while_it_is_open() {
    let app = TestApp::spawn().await;
    let admin = staff(&app, "money@example.org", Role::Admin).await;
    let offer = half_for_three_months(&app, &admin, &[]).await;
    app.client.get("/").send().await.assert_not_contains("Special offer");
    admin.post_form("/admin/offers/featured", &[("offer", &offer)]).send().await.assert_status(303);
    admin.post_form("/admin/offers/featured", &[("offer", "nope")]).send().await.assert_status(404);
    app.advance_clock(patronage::http::page_cache::TTL);
    app.client
        .get("/")
        .send()
        .await
        .assert_contains("Special offer")
        .assert_contains("50% off for 3 months")
        .assert_contains("/patron?offer=spring");
    app.client
        .get("/")
        .header("accept-language", "uk")
        .send()
        .await
        .assert_contains("Спеціальна пропозиція")
        .assert_contains("Знижка 50% на 3 місяці");
    app.new_browser()
        .get("/patron?offer=spring")
        .header("accept-language", "uk")
        .send()
        .await
        .assert_contains("на місяць протягом 3 місяців, далі");
    admin.post_form(&format!("/admin/offers/{offer}/end"), &[]).send().await.assert_status(303);
    app.advance_clock(patronage::http::page_cache::TTL);
    app.client.get("/").send().await.assert_not_contains("Special offer");
    let _ = READER;
}

/// The offer pages in headless Chromium, at 390 and 1280 px, in English and
/// Ukrainian: the landing page featuring an offer, the patron form with an
/// offer, a code refused (no sideways scrolling, tap targets of 44 px, no
/// serious axe-core violation), and the staff's offers page and report.
/// Screenshots go to `target/screenshots/offers/`.
#[tokio::test]
async fn the_offer_pages_fit_a_phone_and_pass_axe_in_both_languages() {
    use crate::helpers::browser::{Browser, DESKTOP, PHONE, screenshot_path};
    let app = TestApp::spawn().await;
    let admin = staff(&app, "money@example.org", Role::Admin).await;
    let offer = half_for_three_months(&app, &admin, &[("code", "SPRING50"), ("max_redemptions", "100")]).await;
    admin.post_form("/admin/offers/featured", &[("offer", &offer)]).send().await.assert_status(303);
    let price = app.price_id("supporter", "month", "eur").await;
    let reader = app.new_browser();
    let start = reader
        .post_form("/patron", &[("price", &price), ("email", "shot@example.org"), ("offer", "spring")])
        .send()
        .await;
    pay_demo(&reader, &start, "succeed").await.assert_status(303);
    app.deliver_mail().await;
    let cookie = admin.cookie("patronage_staff").expect("a staff session");
    let mut problems = Vec::new();
    for lang in ["en", "uk"] {
        let Some(browser) = Browser::open(lang).await else { return };
        let mut pages = vec![
            ("landing", "/?currency=eur".to_string()),
            ("patron-offer", "/patron?offer=spring&currency=eur".to_string()),
            ("patron-code-refused", "/patron?code=NOPE&currency=eur".to_string()),
        ];
        if lang == "en" {
            browser.goto(&app.base_url).await;
            browser.add_cookie("patronage_staff", &cookie).await;
            pages.push(("admin-offers", "/admin/offers".to_string()));
            pages.push(("admin-report-offers", "/admin/reports/offers?range=12m".to_string()));
        }
        for (name, path) in &pages {
            browser.goto(&format!("{}{path}", app.base_url)).await;
            for width in [PHONE, DESKTOP] {
                browser.set_width(width).await;
                browser.screenshot(&screenshot_path(&format!("offers/{name}-{lang}-{width}"))).await;
                // The staff pages are looked at, not held to the reader pages' rules (as in `staff_pages`).
                if name.starts_with("admin") {
                    continue;
                }
                for problem in browser.check_page(width == PHONE).await.problems {
                    problems.push(format!("{path} ({lang}, {width} px): {problem}"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}
