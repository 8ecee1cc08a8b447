//! Receipts and yearly giving statements on the account page, the January
//! statements staff email, and the "your card expires" reminder.
use serde_json::json;

use crate::helpers::voting::{pay_demo, staff};
use crate::helpers::{TestApp, TestClient};
use patronage::db::payments::NewPayment;
use patronage::domain::{Currency, MemberId, PaymentKind, Role, Settled, Zone};

const LEGAL: &str = "Test Gazette Media LLC";
const ADDRESS: &str = "12 Press Street | 01001 Kyiv | Ukraine";

/// A new patron who paid for the Reader tier (€3.00) through the demo gateway, signed in.
async fn demo_payer(app: &TestApp, email: &str, lang: &str) -> TestClient {
    let price = app.price_id("reader", "month", "eur").await;
    let browser = app.new_browser();
    let start = browser.post_form("/patron", &[("price", &price), ("email", email), ("lang", lang)]).send().await;
    pay_demo(&browser, &start, "succeed").await.assert_status(303);
    browser
}

/// Books a ledger row for `member` directly (for dates in past years).
#[allow(clippy::too_many_arguments)]
async fn book(
    app: &TestApp,
    member: MemberId,
    kind: PaymentKind,
    provider_id: &str,
    gross: i64,
    currency: Currency,
    at: i64,
    charge: &str,
) {
    let p = NewPayment {
        kind,
        provider_id: provider_id.into(),
        member_id: Some(member),
        subscription_id: None,
        gross_minor: gross,
        currency,
        settled: Settled::as_charged(gross, currency),
        charge_id: Some(charge.into()),
        description: None,
        occurred_at: at,
        source_id: None,
        topic_id: None,
    };
    let mut tx = app.db().transaction().await.expect("a transaction");
    patronage::db::payments::insert(&mut *tx, &p, at).await.expect("booked");
    tx.commit().await.expect("committed");
}

fn receipt_links(html: &str) -> Vec<String> {
    html.match_indices("href=\"/account/receipts/")
        .map(|(at, _)| html[at + 6..].split('"').next().expect("a closing quote").to_string())
        .collect()
}

#[tokio::test]
async fn receipts_are_listed_and_printable_and_only_the_members_own() {
    let app = TestApp::builder().legal_entity(LEGAL, ADDRESS).spawn().await;
    let ann = demo_payer(&app, "ann@example.org", "en").await;
    let bob = demo_payer(&app, "bob@example.org", "uk").await;
    // The emailed receipt names the legal entity, its address and the printable receipt.
    let mail = app.deliver_mail().await;
    let receipt = mail
        .iter()
        .find(|m| m.to == vec!["ann@example.org".to_string()] && m.subject().is_some_and(|s| s.contains("receipt")))
        .expect("Ann's receipt");
    let text = receipt.text_body();
    assert!(text.contains(&format!("Paid to: {LEGAL}, 12 Press Street, 01001 Kyiv, Ukraine")), "{text}");
    let printable = receipt.first_link_containing("/account/receipts/").expect("a link to the printable receipt");

    // The account page links the receipts; the list links each receipt.
    ann.get("/account").send().await.assert_status(200).assert_contains("href=\"/account/receipts\"");
    let list = ann.get("/account/receipts").send().await;
    list.assert_status(200).assert_contains("€3.00");
    let links = receipt_links(&list.body);
    assert_eq!(links.len(), 1, "{}", list.body);
    assert!(printable.ends_with(&links[0]), "{printable} vs {links:?}");
    let page = ann.get(&links[0]).send().await;
    page.assert_status(200)
        .assert_contains(LEGAL)
        .assert_contains("01001 Kyiv")
        .assert_contains("€3.00")
        .assert_contains("ann@example.org")
        .assert_not_contains("<script");
    assert_eq!(page.header("cache-control").as_deref(), Some("private, no-store"));

    // Bob's receipt, in Ukrainian and formatted so.
    let bobs = bob.get("/account/receipts").send().await;
    bobs.assert_status(200).assert_contains("3,00\u{a0}€");
    let bob_link = receipt_links(&bobs.body).pop().expect("Bob's receipt");
    // Ann forging Bob's id, a made-up id and garbage: not found, nothing shown.
    ann.get(&bob_link).send().await.assert_status(404).assert_not_contains("bob@example.org");
    ann.get("/account/receipts/01900000-0000-7000-8000-000000000000").send().await.assert_status(404);
    ann.get("/account/receipts/not-an-id").send().await.assert_status(404);
    // Signed out: no receipts at all.
    let stranger = app.new_browser();
    let r = stranger.get(&links[0]).send().await;
    assert!(matches!(r.status, 303 | 401 | 403), "{}", r.status);
}

#[tokio::test]
async fn receipts_page_older_receipts() {
    let app = TestApp::spawn().await;
    app.post_join(&app.client, "many@example.org", "").await;
    app.deliver_mail().await;
    let member = app.member_id("many@example.org").await;
    let now = app.clock().now();
    for i in 0..23 {
        book(&app, member, PaymentKind::Donation, &format!("ch_{i}"), 100 + i, Currency::EUR, now - i * 1_000_000, "x")
            .await;
    }
    let browser = app.new_browser();
    app.sign_in_member(&browser, "many@example.org").await;
    let first = browser.get("/account/receipts").send().await;
    first.assert_status(200).assert_contains("€1.00");
    assert_eq!(receipt_links(&first.body).len(), 20);
    let older = first.body.split("/account/receipts?before=").nth(1).expect("a link to older receipts");
    let cursor = older.split('"').next().expect("cursor");
    let second = browser.get(&format!("/account/receipts?before={cursor}")).send().await;
    second.assert_status(200).assert_contains("€1.22").assert_not_contains("€1.00");
    assert_eq!(receipt_links(&second.body).len(), 3);
}

#[tokio::test]
async fn a_refunded_payments_receipt_shows_the_refund() {
    let app = TestApp::builder().with_stripe().spawn().await;
    crate::stripe::paying_patron(&app, "refunded@example.org").await;
    let mock = app.stripe();
    mock.put_refund("ch_1", "re_part", 200, "succeeded");
    app.send_stripe_event("charge.refunded", mock.get("ch_1").expect("charge")).await.1.assert_status(200);
    app.deliver_mail().await;
    let browser = app.new_browser();
    app.sign_in_member(&browser, "refunded@example.org").await;
    let list = browser.get("/account/receipts").send().await;
    list.assert_status(200).assert_contains("refunded");
    let link = receipt_links(&list.body).pop().expect("the receipt");
    browser
        .get(&link)
        .send()
        .await
        .assert_status(200)
        .assert_contains("€6.00")
        .assert_contains("Refunded since")
        .assert_contains("-€2.00")
        .assert_contains("What this payment came to: €4.00");
}

/// Micros at `date` `hh:mm` in `zone`.
fn at(zone: &Zone, date: &str, minutes: i64) -> i64 {
    zone.parse_date(date).expect("a date") + minutes * 60_000_000
}

#[tokio::test]
async fn a_yearly_statement_counts_the_newsrooms_calendar_year_per_currency_with_refunds() {
    let app = TestApp::builder().timezone("Europe/Kyiv").spawn().await;
    app.post_join(&app.client, "giver@example.org", "Giver").await;
    app.deliver_mail().await;
    let member = app.member_id("giver@example.org").await;
    let zone = Zone::parse("Europe/Kyiv").expect("a zone");
    let this_year = zone.month_of(app.clock().now()).year();
    let (y, prev) = (this_year - 1, this_year - 2);
    book(
        &app,
        member,
        PaymentKind::Subscription,
        "in_prev",
        600,
        Currency::EUR,
        at(&zone, &format!("{prev}-06-10"), 0),
        "ch_prev",
    )
    .await;
    // Half past midnight on 1 January in Kyiv is still 31 December in UTC: it belongs to `y`.
    book(
        &app,
        member,
        PaymentKind::Donation,
        "ch_newyear",
        10_000,
        Currency::UAH,
        at(&zone, &format!("{y}-01-01"), 30),
        "ch_newyear",
    )
    .await;
    book(
        &app,
        member,
        PaymentKind::Subscription,
        "in_march",
        600,
        Currency::EUR,
        at(&zone, &format!("{y}-03-05"), 0),
        "ch_march",
    )
    .await;
    book(
        &app,
        member,
        PaymentKind::Subscription,
        "in_may",
        600,
        Currency::EUR,
        at(&zone, &format!("{y}-05-05"), 0),
        "ch_may",
    )
    .await;
    book(
        &app,
        member,
        PaymentKind::Refund,
        "re_march",
        -200,
        Currency::EUR,
        at(&zone, &format!("{y}-04-01"), 0),
        "ch_march",
    )
    .await;
    book(
        &app,
        member,
        PaymentKind::Donation,
        "ch_usd",
        1_000,
        Currency::USD,
        at(&zone, &format!("{y}-12-31"), 23 * 60 + 30),
        "ch_usd",
    )
    .await;
    let browser = app.new_browser();
    app.sign_in_member(&browser, "giver@example.org").await;
    browser
        .get("/account/receipts")
        .send()
        .await
        .assert_status(200)
        .assert_contains(&format!("href=\"/account/statement/{y}\""))
        .assert_contains(&format!("href=\"/account/statement/{prev}\""));
    let statement = browser.get(&format!("/account/statement/{y}")).send().await;
    statement
        .assert_status(200)
        .assert_contains(&format!("{y}-01-01"))
        .assert_contains("ch_newyear")
        .assert_contains("re_march")
        .assert_contains("ch_usd")
        .assert_not_contains("in_prev")
        // EUR: €12.00 paid, -€2.00 refunded, €10.00 net; the others on their own.
        .assert_contains("<strong>EUR</strong>: Paid €12.00 · Refunded -€2.00 · Net <strong>€10.00</strong>")
        .assert_contains("<strong>UAH</strong>: Paid ₴100.00 · Net <strong>₴100.00</strong>")
        .assert_contains("<strong>USD</strong>: Paid $10.00 · Net <strong>$10.00</strong>")
        .assert_contains("Europe/Kyiv")
        .assert_not_contains("<script");
    let before = browser.get(&format!("/account/statement/{prev}")).send().await;
    before.assert_status(200).assert_contains("in_prev").assert_not_contains("ch_newyear");
    // Years there is no statement for: a clear error each.
    browser
        .get(&format!("/account/statement/{}", prev - 1))
        .send()
        .await
        .assert_status(400)
        .assert_contains("no payments of yours before then");
    browser
        .get(&format!("/account/statement/{}", this_year + 1))
        .send()
        .await
        .assert_status(400)
        .assert_contains("has not begun yet");
    browser.get("/account/statement/twenty").send().await.assert_status(400).assert_contains("four digits");
    // Another member's statement is their own: this one's payments are not in it.
    let other = crate::helpers::voting::demo_patron(&app, "other@example.org", "reader").await;
    app.sign_in_member(&other, "other@example.org").await;
    other.get(&format!("/account/statement/{this_year}")).send().await.assert_status(200).assert_not_contains("ch_usd");
    other.get(&format!("/account/statement/{y}")).send().await.assert_status(400);
}

#[tokio::test]
async fn staff_email_a_years_statements_once_to_every_member_who_paid_in_it() {
    let app = TestApp::builder().legal_entity(LEGAL, ADDRESS).spawn().await;
    let year = app.ctx.zone.month_of(app.clock().now()).year() - 1;
    for (email, lang) in [("uk@example.org", "uk"), ("en@example.org", "en"), ("older@example.org", "en")] {
        let r = app.client.post_form("/join", &[("email", email), ("name", ""), ("lang", lang)]).send().await;
        assert!(r.status < 400, "{}", r.status);
    }
    app.deliver_mail().await;
    let zone = app.ctx.zone.clone();
    let uk = app.member_id("uk@example.org").await;
    let en = app.member_id("en@example.org").await;
    let older = app.member_id("older@example.org").await;
    book(
        &app,
        uk,
        PaymentKind::Donation,
        "ch_uk",
        25_000,
        Currency::UAH,
        at(&zone, &format!("{year}-02-02"), 0),
        "ch_uk",
    )
    .await;
    book(
        &app,
        en,
        PaymentKind::Subscription,
        "in_en",
        600,
        Currency::EUR,
        at(&zone, &format!("{year}-07-07"), 0),
        "ch_en",
    )
    .await;
    book(
        &app,
        older,
        PaymentKind::Subscription,
        "in_old",
        600,
        Currency::EUR,
        at(&zone, &format!("{}-07-07", year - 1), 0),
        "ch_old",
    )
    .await;

    // Not for editors (or analysts), and not for a year that is not over.
    let outbox_before = app.outbox_count().await;
    let editor = staff(&app, "editor@example.org", Role::Editor).await;
    editor.post_form("/admin/statements", &[("year", &year.to_string())]).send().await.assert_status(403);
    let admin = staff(&app, "admin@example.org", Role::Admin).await;
    admin.get("/admin/ledger").send().await.assert_status(200).assert_contains("action=\"/admin/statements\"");
    for bad in [(year + 1).to_string(), "20x5".to_string()] {
        admin.post_form("/admin/statements", &[("year", &bad)]).send().await.assert_status(400);
    }
    assert_eq!(app.outbox_count().await, outbox_before, "refusals send nothing");
    assert_eq!(app.count("select count(*) from audit_log where action = 'statements.email'").await, 0);

    let r = admin.post_form("/admin/statements", &[("year", &year.to_string())]).send().await;
    r.assert_status(303);
    assert_eq!(r.location().as_deref(), Some(format!("/admin/ledger?statements=2&year={year}#statements").as_str()));
    let mail = app.deliver_mail().await;
    assert_eq!(mail.len(), 2, "one per member who paid in {year}");
    let to_uk = mail.iter().find(|m| m.to == vec!["uk@example.org".to_string()]).expect("the Ukrainian statement");
    assert_eq!(to_uk.subject().as_deref(), Some("Ваш звіт про внески для The Test Gazette"));
    let text = to_uk.text_body();
    assert!(text.contains("250,00\u{a0}₴") && text.contains(LEGAL), "{text}");
    assert!(text.contains(&format!("/account/statement/{year}")), "{text}");
    let to_en = mail.iter().find(|m| m.to == vec!["en@example.org".to_string()]).expect("the English statement");
    assert!(to_en.text_body().contains("Net €6.00"), "{}", to_en.text_body());
    // Pressed again: nothing more goes out.
    admin.post_form("/admin/statements", &[("year", &year.to_string())]).send().await.assert_status(303);
    assert!(app.deliver_mail().await.is_empty());
    assert_eq!(app.count("select count(*) from audit_log where action = 'statements.email'").await, 2);
}

/// A `customer.source.expiring` card, in the shape Stripe documents (see
/// tests/fixtures/stripe/card.json).
fn expiring_card(id: &str, customer: &str) -> serde_json::Value {
    let mut card = crate::helpers::stripe_mock::fixture("card");
    card["id"] = json!(id);
    card["customer"] = json!(customer);
    card["exp_month"] = json!(9);
    card["exp_year"] = json!(2031);
    card["last4"] = json!("4242");
    card["brand"] = json!("Visa");
    card
}

#[tokio::test]
async fn a_patron_whose_card_expires_is_told_once_per_card_and_month() {
    let app = TestApp::builder().with_stripe().spawn().await;
    let p = crate::stripe::paying_patron(&app, "expiring@example.org").await;
    app.deliver_mail().await;
    let card = expiring_card("card_exp", &p.customer);
    app.send_stripe_event("customer.source.expiring", card.clone()).await.1.assert_status(200);
    let mail = app.deliver_mail().await;
    assert_eq!(mail.len(), 1, "one reminder");
    assert_eq!(mail[0].to, vec!["expiring@example.org".to_string()]);
    let text = mail[0].text_body();
    assert!(text.contains("Visa card ending in 4242") && text.contains("09/2031"), "{text}");
    assert!(text.contains(&format!("{}/account", app.base_url)), "{text}");
    // Stripe telling us again (another event about the same card and month): nothing more.
    app.send_stripe_event("customer.source.expiring", card).await.1.assert_status(200);
    assert!(app.deliver_mail().await.is_empty());
    // A customer that is not ours, or one of ours without a live subscription: no mail.
    app.send_stripe_event("customer.source.expiring", expiring_card("card_x", "cus_unknown")).await;
    let mut sub = app.stripe().get("sub_inv").expect("the subscription");
    sub["cancel_at_period_end"] = json!(true);
    app.stripe().put(sub.clone());
    app.send_stripe_event("customer.subscription.updated", sub).await.1.assert_status(200);
    app.deliver_mail().await;
    app.send_stripe_event("customer.source.expiring", expiring_card("card_new", &p.customer)).await;
    assert!(app.deliver_mail().await.is_empty(), "no reminder for a membership that will not renew");
}

/// A card PaymentMethod of `customer` expiring in `month`/`year`, in the shape
/// Stripe sends (tests/fixtures/stripe/payment_method.json).
fn payment_method(id: &str, customer: &str, month: i64, year: i64) -> serde_json::Value {
    let mut pm = crate::helpers::stripe_mock::fixture("payment_method");
    pm["id"] = json!(id);
    pm["customer"] = json!(customer);
    pm["card"]["exp_month"] = json!(month);
    pm["card"]["exp_year"] = json!(year);
    pm["card"]["last4"] = json!("1881");
    pm
}

/// The hourly calendar job's card reminders, then the mail that is due.
async fn reminders_then_mail(app: &TestApp) -> Vec<crate::helpers::smtp_sink::ReceivedMail> {
    patronage::jobs::remind_expiring_cards(&app.ctx).await.expect("the card reminders run");
    app.deliver_mail().await
}

/// The calendar month of `micros`, and the one after it.
fn month_and_next(micros: i64) -> ((i64, i64), (i64, i64)) {
    let d = patronage::clock::to_datetime(micros);
    let (y, m) = (i64::from(d.year()), i64::from(u8::from(d.month())));
    ((y, m), if m == 12 { (y + 1, 1) } else { (y, m + 1) })
}

#[tokio::test]
async fn a_patron_paying_with_a_payment_method_is_reminded_once_before_its_card_expires() {
    let app = TestApp::builder().with_stripe().spawn().await;
    let p = crate::stripe::paying_patron(&app, "pm.expiring@example.org").await;
    reminders_then_mail(&app).await;
    // The card that paid (the charge's payment_method_details) expires in 2030: nothing yet.
    let (stored,): (i64,) = sqlx::query_as("select exp_year from payment_cards where customer_id = $1")
        .bind(&p.customer)
        .fetch_one(app.db().read())
        .await
        .expect("the paying card is on file");
    assert_eq!(stored, 2030);
    assert!(reminders_then_mail(&app).await.is_empty());

    // A new card attached in the portal, expiring next month: reminded once, however often the
    // jobs run or Stripe repeats itself.
    let (_, (year, month)) = month_and_next(app.clock().now());
    let pm = payment_method("pm_soon", &p.customer, month, year);
    app.send_stripe_event("payment_method.attached", pm.clone()).await.1.assert_status(200);
    let mail = reminders_then_mail(&app).await;
    assert_eq!(mail.len(), 1, "one reminder");
    let text = mail[0].text_body();
    assert!(text.contains("ending in 1881") && text.contains(&format!("{month:02}/{year}")), "{text}");
    app.send_stripe_event("payment_method.updated", pm).await.1.assert_status(200);
    assert!(reminders_then_mail(&app).await.is_empty());

    // The card networks update its expiry: a card good for years is not reminded about;
    // an older event arriving late does not bring the old expiry back.
    let renewed = payment_method("pm_soon", &p.customer, month, year + 3);
    app.send_stripe_event("payment_method.automatically_updated", renewed).await.1.assert_status(200);
    assert!(reminders_then_mail(&app).await.is_empty());
    let (id, body) =
        crate::helpers::stripe_event("payment_method.updated", payment_method("pm_soon", &p.customer, month, year));
    let mut older: serde_json::Value = serde_json::from_str(&body).expect("json");
    older["created"] = json!(1_789_000_000);
    app.deliver_signed(&older.to_string()).await.assert_status(200);
    app.apply_stripe_event(&id).await;
    let (exp_year,): (i64,) = sqlx::query_as("select exp_year from payment_cards where customer_id = $1")
        .bind(&p.customer)
        .fetch_one(app.db().read())
        .await
        .expect("on file");
    assert_eq!(exp_year, year + 3);

    // Detached: forgotten. A card whose customer is not ours, or a membership that will not
    // renew: no reminder.
    app.send_stripe_event("payment_method.detached", payment_method("pm_soon", &p.customer, month, year + 3)).await;
    app.drain_jobs().await;
    assert_eq!(app.count("select count(*) from payment_cards").await, 0);
    app.send_stripe_event("payment_method.attached", payment_method("pm_x", "cus_unknown", month, year)).await;
    let mut sub = app.stripe().get("sub_inv").expect("the subscription");
    sub["cancel_at_period_end"] = json!(true);
    app.stripe().put(sub.clone());
    app.send_stripe_event("customer.subscription.updated", sub).await.1.assert_status(200);
    reminders_then_mail(&app).await;
    app.send_stripe_event("payment_method.attached", payment_method("pm_last", &p.customer, month, year)).await;
    assert!(reminders_then_mail(&app).await.is_empty(), "no reminder for a membership that will not renew");
}
