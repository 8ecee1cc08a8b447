//! The demo gateway journey, end to end, and the ledger and MRR it produces.
use patronage::clock::DAY;

use crate::helpers::{TestApp, TestClient, TestResponse};

/// Follows the redirect to the demo checkout page and presses a button there.
async fn pay(browser: &TestClient, start: &TestResponse, outcome: &str) -> TestResponse {
    start.assert_status(303);
    let checkout_url = start.location().expect("redirect to checkout");
    assert!(checkout_url.starts_with("/demo/checkout?c="), "{checkout_url}");
    let page = browser.get(&checkout_url).send().await;
    page.assert_status(200).assert_contains("payments are simulated");
    let query = checkout_url.split_once('?').map(|(_, q)| q).unwrap_or_default();
    let params: Vec<(String, String)> = serde_urlencoded::from_str(query).expect("query parses");
    let c = &params.iter().find(|(k, _)| k == "c").expect("c").1;
    let s = &params.iter().find(|(k, _)| k == "s").expect("s").1;
    browser.post_form("/demo/checkout", &[("c", c), ("s", s), ("outcome", outcome)]).send().await
}

async fn become_patron(app: &TestApp, browser: &TestClient, email: &str, slug: &str, interval: &str) -> TestResponse {
    let price = app.price_id(slug, interval, "eur").await;
    let start = browser.post_form("/patron", &[("price", &price), ("email", email), ("name", "Pat Ron")]).send().await;
    let paid = pay(browser, &start, "succeed").await;
    // The welcome and the receipt (tests of them read them in `patron_mail`).
    app.deliver_mail().await;
    paid
}

#[tokio::test]
async fn the_landing_page_offers_tiers_with_prices_and_a_demo_banner() {
    let app = TestApp::spawn().await;
    let r = app.client.get("/").send().await;
    r.assert_status(200)
        .assert_contains("action=\"/patron\"")
        .assert_contains("Supporter")
        .assert_contains("€6.00 a month")
        .assert_contains("Demo mode");
    // One currency per card (English: euros), the others a switch away.
    r.assert_not_contains("$60.00 a year").assert_not_contains("₴").assert_contains("href=\"?currency=usd#tiers\"");
    app.client.get("/?currency=usd").send().await.assert_contains("$60.00 a year").assert_not_contains("€6.00");
    // Ukrainian readers see hryvnia first.
    app.new_browser()
        .with_default_header("accept-language", "uk")
        .get("/")
        .send()
        .await
        .assert_contains("₴")
        .assert_not_contains("€6.00");
}

/// Benefits follow the voting rules as set, never what a tier's text promised.
#[tokio::test]
async fn tier_benefits_follow_the_voting_settings() {
    let app = TestApp::spawn().await;
    let page = app.client.get("/patron").send().await;
    page.assert_contains("A vote on what we cover next")
        .assert_not_contains("counts twice")
        .assert_not_contains("newsletter")
        .assert_not_contains("Double vote weight")
        .assert_not_contains("Suggest topics for the ballot");
    let editor = crate::helpers::voting::staff(&app, "editor@news.test", patronage::domain::Role::Editor).await;
    editor
        .post_form("/admin/voting", &[("eligibility", "patrons"), ("weight", "tier"), ("tenure_cap_months", "12")])
        .send()
        .await
        .assert_status(303);
    app.new_browser()
        .get("/patron")
        .send()
        .await
        .assert_contains("Your vote counts twice")
        .assert_contains("Your vote counts three times");
    editor
        .post_form("/admin/voting", &[("eligibility", "members"), ("weight", "equal"), ("tenure_cap_months", "12")])
        .send()
        .await
        .assert_status(303);
    app.new_browser()
        .get("/patron")
        .send()
        .await
        .assert_not_contains("A vote on what we cover next")
        .assert_not_contains("Your vote counts");
}

/// An amount typed next to a fixed price is refused with a clear message, not ignored.
#[tokio::test]
async fn an_amount_next_to_a_fixed_price_is_refused_not_ignored() {
    let app = TestApp::spawn().await;
    let fixed = app.price_id("supporter", "month", "eur").await;
    let r = app
        .client
        .post_form("/patron", &[("price", &fixed), ("email", "fixed@example.org"), ("amount", "9")])
        .send()
        .await;
    r.assert_status(422).assert_contains("This price is fixed.");
    assert_eq!(app.member_count().await, 0);
    // Pay what you want from the tier's own field.
    let flexible = app.price_id("reader", "month", "eur").await;
    let (tier,): (String,) = sqlx::query_as("select tier_id from tier_prices where id = $1")
        .bind(&flexible)
        .fetch_one(app.db().read())
        .await
        .expect("tier");
    let field = format!("amount-{tier}");
    let r = app
        .client
        .post_form("/patron", &[("price", &flexible), ("email", "more@example.org"), (&field, "7")])
        .send()
        .await;
    r.assert_status(303);
    let checkout = app.client.get(&r.location().expect("to the demo checkout")).send().await;
    checkout.assert_contains("€7.00");
}

#[tokio::test]
async fn a_reader_becomes_a_demo_patron_and_sees_it_on_the_account_page() {
    let app = TestApp::spawn().await;
    let done = become_patron(&app, &app.client, "new.patron@example.org", "supporter", "month").await;
    done.assert_status(303);
    assert_eq!(done.location().as_deref(), Some("/patron/welcome"));
    // A new account is signed in straight away.
    let account = app.client.get("/account").send().await;
    account
        .assert_status(200)
        .assert_contains("new.patron@example.org")
        .assert_contains(">Patron<")
        .assert_contains("Supporter · €6.00 a month")
        .assert_contains("Renews on")
        .assert_contains("Membership")
        .assert_contains("€6.00")
        .assert_contains("Manage billing");

    let (gross, fee, net, kind): (i64, i64, i64, String) =
        sqlx::query_as("select gross_minor, fee_minor, net_minor, kind from payments")
            .fetch_one(app.db().read())
            .await
            .expect("one ledger row");
    assert_eq!((gross, kind.as_str()), (600, "subscription"));
    assert_eq!(gross - fee, net);
    assert!(fee > 0);
    let (kind, delta, after): (String, i64, i64) =
        sqlx::query_as("select kind, delta_minor, mrr_after_minor from mrr_movements")
            .fetch_one(app.db().read())
            .await
            .expect("movement");
    assert_eq!((kind.as_str(), delta, after), ("new", 600, 600));
    let (first_paid,): (Option<i64>,) =
        sqlx::query_as("select first_paid_at from subscriptions").fetch_one(app.db().read()).await.expect("sub");
    assert!(first_paid.is_some());
}

#[tokio::test]
async fn yearly_plans_count_a_twelfth_towards_mrr() {
    let app = TestApp::spawn().await;
    become_patron(&app, &app.client, "yearly@example.org", "cocreator", "year").await.assert_status(303);
    let (after,): (i64,) =
        sqlx::query_as("select mrr_after_minor from mrr_movements").fetch_one(app.db().read()).await.expect("movement");
    assert_eq!(after, 1000, "€120 a year is €10 a month");
}

#[tokio::test]
async fn submitting_the_same_checkout_twice_records_one_payment() {
    let app = TestApp::spawn().await;
    let price = app.price_id("reader", "month", "eur").await;
    let start = app.client.post_form("/patron", &[("price", &price), ("email", "twice@example.org")]).send().await;
    pay(&app.client, &start, "succeed").await.assert_status(303);
    pay(&app.client, &start, "succeed").await.assert_status(303);
    assert_eq!(app.count("select count(*) from payments").await, 1);
    assert_eq!(app.count("select count(*) from subscriptions").await, 1);
    assert_eq!(app.count("select count(*) from mrr_movements").await, 1);
    assert_eq!(app.count("select count(*) from sessions").await, 1, "signed in once");
    // One welcome and one receipt, however often the checkout is submitted.
    let mail = app.deliver_mail().await;
    let mut subjects: Vec<String> = mail.iter().filter_map(|m| m.subject()).collect();
    subjects.sort();
    assert_eq!(subjects, vec!["Welcome, patron of The Test Gazette", "Your receipt from The Test Gazette"]);
}

#[tokio::test]
async fn a_failed_first_payment_never_makes_a_patron() {
    let app = TestApp::spawn().await;
    let price = app.price_id("reader", "month", "eur").await;
    let start = app.client.post_form("/patron", &[("price", &price), ("email", "declined@example.org")]).send().await;
    let r = pay(&app.client, &start, "fail").await;
    assert_eq!(r.location().as_deref(), Some("/patron/failed"));
    app.client.get("/patron/failed").send().await.assert_contains("did not go through");
    assert_eq!(app.count("select count(*) from payments").await, 0);
    assert_eq!(app.count("select count(*) from mrr_movements").await, 0);
    let (status,): (String,) =
        sqlx::query_as("select status from subscriptions").fetch_one(app.db().read()).await.expect("sub");
    assert_eq!(status, "incomplete");
    // Signing in shows a free member.
    app.sign_in_member(&app.client, "declined@example.org").await;
    app.client.get("/account").send().await.assert_contains("Free member").assert_contains("Become a patron");
}

#[tokio::test]
async fn cancelling_checkout_returns_to_the_form_and_records_nothing() {
    let app = TestApp::spawn().await;
    let price = app.price_id("reader", "month", "eur").await;
    let start = app.client.post_form("/patron", &[("price", &price), ("email", "shy@example.org")]).send().await;
    let r = pay(&app.client, &start, "cancel").await;
    assert_eq!(r.location().as_deref(), Some("/patron"));
    assert_eq!(app.count("select count(*) from subscriptions").await, 0);
}

#[tokio::test]
async fn an_existing_patron_gets_a_sign_in_link_instead_of_a_second_checkout() {
    let app = TestApp::spawn().await;
    become_patron(&app, &app.client, "loyal@example.org", "reader", "month").await.assert_status(303);
    let price = app.price_id("supporter", "month", "eur").await;
    let other = app.new_browser();
    let r = other.post_form("/patron", &[("price", &price), ("email", "LOYAL@example.org")]).send().await;
    r.assert_status(303);
    assert_eq!(r.location().as_deref(), Some("/signin/sent"));
    let mail = app.deliver_mail().await;
    assert_eq!(mail.len(), 1);
    assert!(mail[0].first_link_containing("/signin/confirm").is_some());
    assert_eq!(app.count("select count(*) from subscriptions").await, 1);
}

#[tokio::test]
async fn paying_for_an_existing_free_account_does_not_sign_the_payer_in() {
    let app = TestApp::spawn().await;
    app.post_join(&app.new_browser(), "owner@example.org", "").await.assert_status(303);
    app.deliver_mail().await;
    let stranger = app.new_browser();
    let done = become_patron(&app, &stranger, "owner@example.org", "reader", "month").await;
    assert_eq!(done.location().as_deref(), Some("/patron/welcome"));
    assert!(stranger.cookie("patronage_session").is_none(), "no session for someone else's account");
    stranger.get("/patron/welcome").send().await.assert_contains("Sign in with your email");
}

#[tokio::test]
async fn pay_what_you_want_above_the_minimum() {
    let app = TestApp::spawn().await;
    let price = app.price_id("reader", "month", "eur").await;
    let low = app
        .client
        .post_form("/patron", &[("price", &price), ("email", "pwyw@example.org"), ("amount", "2")])
        .send()
        .await;
    low.assert_status(422).assert_contains("at least the tier");
    let bad = app
        .client
        .post_form("/patron", &[("price", &price), ("email", "pwyw@example.org"), ("amount", "4.999")])
        .send()
        .await;
    bad.assert_status(422).assert_contains("too many decimal places");
    assert_eq!(app.member_count().await, 0, "invalid input stores nothing");
    let start = app
        .client
        .post_form("/patron", &[("price", &price), ("email", "pwyw@example.org"), ("amount", "4.50")])
        .send()
        .await;
    pay(&app.client, &start, "succeed").await.assert_status(303);
    let (amount,): (i64,) =
        sqlx::query_as("select amount_minor from subscriptions").fetch_one(app.db().read()).await.expect("sub");
    assert_eq!(amount, 450);
    let mail = app.deliver_mail().await;
    let receipt = mail.iter().find(|m| m.subject().is_some_and(|s| s.contains("receipt"))).expect("a receipt");
    assert!(receipt.text_body().contains("Amount: €4.50"), "{}", receipt.text_body());
}

#[tokio::test]
async fn patron_form_errors_keep_what_was_typed_and_store_nothing() {
    let app = TestApp::spawn().await;
    let r = app
        .client
        .post_form("/patron", &[("price", "nonsense"), ("email", "not-an-email"), ("name", "Keep Me")])
        .send()
        .await;
    r.assert_status(422)
        .assert_contains("Choose a tier")
        .assert_contains("Enter an email address like")
        .assert_contains("value=\"Keep Me\"");
    assert_eq!(app.member_count().await, 0);
}

#[tokio::test]
async fn a_tampered_or_expired_demo_checkout_is_refused() {
    let app = TestApp::spawn().await;
    let price = app.price_id("reader", "month", "eur").await;
    let start = app.client.post_form("/patron", &[("price", &price), ("email", "cheat@example.org")]).send().await;
    let url = start.location().expect("checkout");
    let tampered = url.replace("s=", "s=0");
    app.client.get(&tampered).send().await.assert_status(410);
    app.advance_clock(2 * 60 * 60 * 1_000_000);
    app.client.get(&url).send().await.assert_status(410);
    assert_eq!(app.count("select count(*) from subscriptions").await, 0);
}

#[tokio::test]
async fn demo_portal_cancels_at_period_end_resumes_and_cancels_with_churn() {
    let app = TestApp::spawn().await;
    become_patron(&app, &app.client, "churn@example.org", "supporter", "month").await.assert_status(303);
    app.client.post_form("/account/billing", &[]).send().await.assert_status(303);
    app.client.get("/demo/portal").send().await.assert_status(200).assert_contains("Cancel at the end of the period");

    // Cancelling asks first; nothing changes until the reader confirms.
    app.client
        .post_form("/demo/portal", &[("action", "cancel_at_period_end")])
        .send()
        .await
        .assert_status(200)
        .assert_contains("Cancel at the end of this period?")
        .assert_contains("Keep my membership");
    app.client.get("/account").send().await.assert_contains("Renews on");
    app.client
        .post_form("/demo/portal", &[("action", "cancel_at_period_end"), ("confirm", "yes")])
        .send()
        .await
        .assert_status(303);
    app.client
        .get("/account")
        .send()
        .await
        .assert_contains("You cancelled: your patronage ends on")
        .assert_contains(">Patron<")
        .assert_contains("Manage billing");
    app.client.post_form("/demo/portal", &[("action", "resume")]).send().await.assert_status(303);
    app.client.get("/account").send().await.assert_contains("Renews on");
    assert_eq!(app.count("select count(*) from mrr_movements").await, 1, "cancel-at-period-end is not churn yet");

    app.client
        .post_form("/demo/portal", &[("action", "cancel_now")])
        .send()
        .await
        .assert_contains("Cancel your membership now?");
    app.client
        .post_form("/demo/portal", &[("action", "cancel_now"), ("confirm", "yes")])
        .send()
        .await
        .assert_status(303);
    // Lapsed: said once, with when it ended and the way back; nothing left to manage.
    app.client
        .get("/account")
        .send()
        .await
        .assert_contains("Lapsed patron")
        .assert_contains("Your patronage ended on")
        .assert_contains("Become a patron again")
        .assert_not_contains("Manage billing")
        .assert_not_contains("Renews on")
        .assert_not_contains("ends on");
    // Ended for good: told once, and invited back.
    let mail = app.deliver_mail().await;
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].subject().as_deref(), Some("Your membership of The Test Gazette has ended"));
    assert!(mail[0].text_body().contains(&format!("{}/patron", app.base_url)));
    let (kind, delta): (String, i64) =
        sqlx::query_as("select kind, delta_minor from mrr_movements order by created_at desc, id desc limit 1")
            .fetch_one(app.db().read())
            .await
            .expect("churn");
    assert_eq!((kind.as_str(), delta), ("churn", -600));

    // Coming back later is a reactivation, not a new patron.
    app.advance_clock(20 * DAY);
    let price = app.price_id("reader", "month", "eur").await;
    let start = app.client.post_form("/patron", &[("price", &price)]).send().await;
    pay(&app.client, &start, "succeed").await.assert_status(303);
    let (kind,): (String,) = sqlx::query_as("select kind from mrr_movements order by created_at desc, id desc limit 1")
        .fetch_one(app.db().read())
        .await
        .expect("movement");
    assert_eq!(kind, "reactivation");
    // Back again: a receipt, but no second welcome.
    let subjects: Vec<String> = app.deliver_mail().await.iter().filter_map(|m| m.subject()).collect();
    assert_eq!(subjects, vec!["Your receipt from The Test Gazette"]);
}

#[tokio::test]
async fn donations_with_presets_custom_amounts_anonymity_and_fee_cover() {
    let app = TestApp::spawn().await;
    app.client.get("/donate").send().await.assert_status(200).assert_contains("€25.00");
    let start =
        app.client.post_form("/donate", &[("currency", "EUR"), ("preset", "10"), ("name", "Iryna")]).send().await;
    let r = pay(&app.client, &start, "succeed").await;
    assert_eq!(r.location().as_deref(), Some("/donate/thanks"));
    app.client.get("/donate/thanks").send().await.assert_contains("Thank you for your gift");

    let start = app
        .client
        .post_form(
            "/donate",
            &[("currency", "USD"), ("amount", "7.5"), ("anonymous", "yes"), ("name", "Hidden"), ("cover_fee", "yes")],
        )
        .send()
        .await;
    pay(&app.client, &start, "succeed").await.assert_status(303);

    let rows: Vec<(i64, String, Option<String>, Option<String>)> =
        sqlx::query_as("select gross_minor, currency, description, member_id from payments where kind = 'donation' order by created_at, id")
            .fetch_all(app.db().read())
            .await
            .expect("rows");
    assert_eq!(rows.len(), 2);
    assert_eq!((rows[0].0, rows[0].1.as_str()), (1000, "eur"));
    assert_eq!(rows[0].2.as_deref(), Some("Donation from Iryna"));
    assert_eq!(rows[1].1, "usd");
    assert!(rows[1].0 > 750, "the fee was added on top: {}", rows[1].0);
    assert_eq!(rows[1].2.as_deref(), Some("Anonymous donation"));
}

#[tokio::test]
async fn donation_amounts_out_of_bounds_are_refused() {
    let app = TestApp::spawn().await;
    for (amount, needle) in [
        ("0", "more than zero"),
        ("0.5", "between 1 and 10,000"),
        ("20000", "between 1 and 10,000"),
        ("abc", "like 5 or 5.50"),
    ] {
        app.client
            .post_form("/donate", &[("currency", "EUR"), ("amount", amount)])
            .send()
            .await
            .assert_status(422)
            .assert_contains(needle);
    }
    app.client.post_form("/donate", &[("currency", "XXX"), ("amount", "5")]).send().await.assert_status(422);
    assert_eq!(app.count("select count(*) from payments").await, 0);
}

#[tokio::test]
async fn a_signed_in_members_donation_shows_in_their_payment_history() {
    let app = TestApp::spawn().await;
    app.sign_in_member(&app.client, "giver@example.org").await;
    let start = app.client.post_form("/donate", &[("currency", "EUR"), ("preset", "25")]).send().await;
    pay(&app.client, &start, "succeed").await.assert_status(303);
    app.client
        .get("/account")
        .send()
        .await
        .assert_contains("Donation")
        .assert_contains("€25.00")
        .assert_contains("Free member");
    // A receipt for the gift, and the ledger knows who gave it.
    let mail = app.deliver_mail().await;
    assert_eq!(mail.len(), 1);
    let text = mail[0].text_body();
    assert!(text.contains("Amount: €25.00") && text.contains("For: A one-time gift"), "{text}");
    assert!(text.contains("Paid to: The Test Gazette"), "{text}");
    let (description,): (Option<String>,) =
        sqlx::query_as("select description from payments").fetch_one(app.db().read()).await.expect("row");
    assert_eq!(description.as_deref(), Some("Donation from a member"));
}

/// The landing page says how many patrons there are only when admins choose so.
#[tokio::test]
async fn the_landing_page_counts_patrons_when_the_newsroom_chooses_to() {
    let app = TestApp::spawn().await;
    become_patron(&app, &app.new_browser(), "one@example.org", "supporter", "month").await.assert_status(303);
    become_patron(&app, &app.new_browser(), "two@example.org", "reader", "month").await.assert_status(303);
    app.deliver_mail().await;
    app.client.get("/").send().await.assert_not_contains("patrons already");
    let admin = app.new_browser();
    app.sign_in_staff(&admin, "admin@news.test", patronage::domain::Role::Admin).await;
    admin.post_form("/admin/site", &[("show_patron_count", "yes")]).send().await.assert_status(303);
    app.client.get("/").send().await.assert_contains("2 readers are patrons already.");
    app.new_browser()
        .with_default_header("accept-language", "uk")
        .get("/")
        .send()
        .await
        .assert_contains("Уже 2 читачі — патрони.");
    admin.post_form("/admin/site", &[]).send().await.assert_status(303);
    app.client.get("/").send().await.assert_not_contains("patrons already");
    admin.post_form("/admin/site", &[("show_patron_count", "maybe")]).send().await.assert_status(400);
    assert_eq!(app.count("select count(*) from audit_log where action = 'site.show_patron_count'").await, 2);
}
