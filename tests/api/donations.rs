//! Giving once: who gave (named in the ledger on both gateways), what the
//! checkout says is being given, and covering the card fee so the newsroom nets
//! exactly the gift, in every configured currency.
use serde_json::json;

use crate::helpers::voting::pay_demo;
use crate::helpers::{TestApp, TestClient};
use patronage::domain::{Currency, Locale, Money};
use patronage::services::checkout::{self, CheckoutStart};

const FEES: &str = "eur=1.5%+0.25,usd=2.9%+0.30,uah=1.9%+5,jpy=3.6%";

async fn named_member(app: &TestApp, browser: &TestClient, email: &str, name: &str) {
    app.sign_in_member(browser, email).await;
    browser
        .post_form("/account", &[("name", name), ("public_name", ""), ("lang", "en")])
        .send()
        .await
        .assert_status(303);
}

async fn ledger_donations(app: &TestApp) -> Vec<(i64, i64, i64, String, Option<String>, Option<String>)> {
    sqlx::query_as(
        "select gross_minor, fee_minor, net_minor, currency, description, member_id
         from payments where kind = 'donation' order by created_at, id",
    )
    .fetch_all(app.db().read())
    .await
    .expect("ledger")
}

#[tokio::test]
async fn a_signed_in_members_gift_is_named_in_the_ledger_unless_they_give_anonymously() {
    let app = TestApp::spawn().await;
    named_member(&app, &app.client, "named@example.org", "Taras Shevchenko").await;
    let start = app.client.post_form("/donate", &[("currency", "EUR"), ("preset", "10")]).send().await;
    pay_demo(&app.client, &start, "succeed").await.assert_status(303);
    let start =
        app.client.post_form("/donate", &[("currency", "EUR"), ("preset", "5"), ("anonymous", "yes")]).send().await;
    pay_demo(&app.client, &start, "succeed").await.assert_status(303);
    let rows = ledger_donations(&app).await;
    assert_eq!(rows[0].4.as_deref(), Some("Donation from Taras Shevchenko"));
    assert!(rows[0].5.is_some(), "linked to the member");
    assert_eq!(rows[1].4.as_deref(), Some("Anonymous donation"));
    assert!(rows[1].5.is_none());
    // The named gift gets a receipt; the anonymous one cannot.
    assert_eq!(app.deliver_mail().await.len(), 1);
}

#[tokio::test]
async fn a_signed_in_members_stripe_gift_is_named_in_the_ledger() {
    let app = TestApp::builder().with_stripe().spawn().await;
    named_member(&app, &app.client, "stripe.giver@example.org", "Lesya").await;
    let r = app.client.post_form("/donate", &[("currency", "EUR"), ("preset", "25")]).send().await;
    r.assert_status(303);
    let id = r.location().expect("to Checkout").rsplit('/').next().expect("id").to_string();
    let mock = app.stripe();
    let mut session = mock.get(&id).expect("the session");
    session["status"] = json!("complete");
    session["payment_status"] = json!("paid");
    session["payment_intent"] = json!("pi_ch_named");
    mock.put(session.clone());
    mock.put_charge(
        "ch_named",
        2500,
        "eur",
        None,
        crate::helpers::stripe_mock::Settled { amount: 2500, fee: 63, currency: "eur" },
    );
    let mut charge = mock.get("ch_named").expect("charge");
    charge["created"] = json!(app.clock().now() / 1_000_000);
    mock.put(charge);
    app.send_stripe_event("checkout.session.completed", session).await.1.assert_status(200);
    // Applying the event sends the mail it enqueued, too.
    let mail = app.deliver_mail().await;
    let rows = ledger_donations(&app).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].4.as_deref(), Some("Donation from Lesya"));
    assert_eq!(mail.len(), 1, "a receipt for the gift");
    assert!(mail[0].text_body().contains("Amount: €25.00"));
}

#[tokio::test]
async fn the_demo_checkout_says_what_is_being_given() {
    let app = TestApp::builder().card_fees(FEES).spawn().await;
    let start = app.client.post_form("/donate", &[("currency", "EUR"), ("preset", "10")]).send().await;
    let url = start.location().expect("to the demo checkout");
    let page = app.client.get(&url).send().await;
    page.assert_status(200)
        .assert_contains("A one-time gift of €10.00 to The Test Gazette")
        .assert_not_contains("Give once</dd>");
    let start =
        app.client.post_form("/donate", &[("currency", "EUR"), ("preset", "10"), ("cover_fee", "yes")]).send().await;
    let url = start.location().expect("to the demo checkout");
    app.client
        .get(&url)
        .send()
        .await
        .assert_status(200)
        .assert_contains("A one-time gift of €10.00 to The Test Gazette, plus €0.41 so all of it reaches the newsroom")
        .assert_contains("€10.41");
    // In Ukrainian too.
    app.client.post_form("/lang", &[("lang", "uk"), ("next", "/")]).send().await.assert_status(303);
    app.client.get(&url).send().await.assert_contains("Одноразовий внесок 10,00\u{a0}€ для The Test Gazette");
}

#[tokio::test]
async fn the_donation_form_shows_the_exact_extra_for_the_chosen_amount_and_currency() {
    let app = TestApp::builder().card_fees(FEES).spawn().await;
    app.client
        .get("/donate")
        .send()
        .await
        .assert_status(200)
        .assert_contains("Add €0.41 so all of my €10.00 gift reaches the newsroom");
    // Shown again with a form error, for the amount and currency chosen.
    let r = app
        .client
        .post_form("/donate", &[("currency", "USD"), ("preset", "25"), ("name", &"x".repeat(300))])
        .send()
        .await;
    r.assert_status(422).assert_contains("Add $1.06 so all of my $25.00 gift reaches the newsroom");
    assert_eq!(app.count("select count(*) from payments").await, 0);
}

/// For every currency CARD_FEES configures (a zero-decimal one included): the
/// donor is charged the gift grossed up, and the newsroom's net is the gift.
#[tokio::test]
async fn covering_the_fee_makes_the_newsrooms_net_exactly_the_gift_in_every_configured_currency() {
    let app = TestApp::builder().card_fees(FEES).spawn().await;
    let currencies: Vec<Currency> = app.ctx.card_fees.configured().collect();
    assert!(currencies.contains(&Currency::JPY) && currencies.len() == 4);
    let mut expected = Vec::new();
    for currency in currencies {
        let unit = 10_i64.pow(currency.exponent());
        for gift in [10 * unit, 7 * unit + unit / 2, 1234 * unit] {
            let gift = Money::new(gift, currency);
            let start = checkout::start_donation_checkout(
                &app.ctx,
                gift,
                None,
                None,
                true,
                Locale::En,
                "192.0.2.1",
                None,
                None,
            )
            .await
            .expect("a checkout");
            let CheckoutStart::Redirect(url) = start else { panic!("a redirect") };
            let page = app.client.get(&url).send().await;
            page.assert_status(200).assert_contains(&patronage::numbers::money(Locale::En, gift));
            let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
            let params: Vec<(String, String)> = serde_urlencoded::from_str(query).expect("query");
            app.client
                .post_form("/demo/checkout", &[("c", &params[0].1), ("s", &params[1].1), ("outcome", "succeed")])
                .send()
                .await
                .assert_status(303);
            expected.push(gift);
        }
    }
    let rows = ledger_donations(&app).await;
    assert_eq!(rows.len(), expected.len());
    for (row, gift) in rows.iter().zip(&expected) {
        let (gross, fee, net, currency, ..) = row;
        assert_eq!(currency, gift.currency.as_str());
        assert_eq!(*net, gift.minor, "{currency}: gross {gross}, fee {fee}, net {net}, gift {}", gift.minor);
        assert_eq!(gross - fee, *net);
        assert!(gross > &gift.minor, "the donor paid the fee on top");
    }
    // The reported case: €10 covered is €10.41 and the newsroom nets €10.00.
    assert_eq!((rows[0].0, rows[0].2), (1041, 1000));
}

#[tokio::test]
async fn stripe_checkout_charges_the_covered_amount_and_names_the_gift() {
    let app = TestApp::builder().with_stripe().card_fees(FEES).spawn().await;
    app.client
        .post_form("/donate", &[("currency", "EUR"), ("preset", "10"), ("cover_fee", "yes")])
        .send()
        .await
        .assert_status(303);
    let s = &app.stripe().requests_to("POST", "/v1/checkout/sessions")[0];
    assert_eq!(s.field("line_items[0][price_data][unit_amount]"), Some("1041"));
    assert_eq!(
        s.field("line_items[0][price_data][product_data][name]"),
        Some("A one-time gift of €10.00 to The Test Gazette, plus €0.41 so all of it reaches the newsroom")
    );
}

#[tokio::test]
async fn a_bad_card_fee_setting_is_refused_at_start_up_naming_the_variable() {
    let mut settings_error = None;
    for bad in ["eur=1.5", "eur=100%", "xx=1%"] {
        let parsed = patronage::domain::CardFees::parse(bad);
        assert!(parsed.is_err(), "{bad}");
        settings_error = parsed.err().map(|e| e.to_string());
    }
    assert!(settings_error.is_some_and(|e| e.starts_with("CARD_FEES")));
}

/// With JavaScript, picking another preset updates the label to that amount's
/// exact extra (computed on the server, carried on each preset).
#[tokio::test]
async fn in_a_browser_the_cover_label_follows_the_preset_picked() {
    let app = TestApp::builder().card_fees(FEES).spawn().await;
    let Some(browser) = crate::helpers::browser::Browser::open("en").await else { return };
    browser.goto(&format!("{}/donate", app.base_url)).await;
    let label = || async {
        browser
            .run("return document.getElementById('cover-fee-label').textContent;", json!([]))
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(label().await, "Add €0.41 so all of my €10.00 gift reaches the newsroom");
    browser.click("input[name=preset][value='25']").await;
    assert_eq!(label().await, "Add €0.64 so all of my €25.00 gift reaches the newsroom");
    browser.click("#donate-amount").await;
    browser
        .run(
            "const i = document.getElementById('donate-amount'); i.value = '12'; i.dispatchEvent(new Event('input'));",
            json!([]),
        )
        .await;
    assert_eq!(label().await, "Add the card processing fee, so the newsroom receives the full amount");
}

/// Each currency has its own suggested gifts (a cup of coffee first), set by
/// admins; Ukrainian readers start in hryvnia.
#[tokio::test]
async fn suggested_gifts_are_per_currency_and_set_by_admins() {
    let app = TestApp::spawn().await;
    let uk = app.new_browser().with_default_header("accept-language", "uk");
    let page = uk.get("/donate").send().await;
    page.assert_status(200).assert_contains("name=\"currency\" value=\"uah\"");
    for amount in ["100,00\u{a0}₴", "200,00\u{a0}₴", "1\u{a0}000,00\u{a0}₴"] {
        page.assert_contains(amount);
    }
    let en = app.client.get("/donate").send().await;
    en.assert_contains("€3.00").assert_contains("€50.00").assert_not_contains("₴");
    app.client.get("/donate?currency=usd").send().await.assert_contains("$25.00").assert_contains("value=\"usd\"");

    // Admins change the hryvnia suggestions; bad input changes nothing.
    let admin = app.new_browser();
    app.sign_in_staff(&admin, "admin@news.test", patronage::domain::Role::Admin).await;
    admin
        .get("/admin/tiers")
        .send()
        .await
        .assert_contains("Suggested one-time gifts")
        .assert_contains("100, 200, 500, 1000");
    for bad in ["", "ten", "0, 5", "1,2,3,4,5,6,7", "99999"] {
        admin
            .post_form("/admin/donation-presets", &[("currency", "UAH"), ("amounts", bad)])
            .send()
            .await
            .assert_status(400);
    }
    admin
        .post_form("/admin/donation-presets", &[("currency", "XXX"), ("amounts", "5")])
        .send()
        .await
        .assert_status(400);
    assert_eq!(app.count("select count(*) from settings where key like 'donation.presets.%'").await, 0);
    admin
        .post_form("/admin/donation-presets", &[("currency", "UAH"), ("amounts", "150 50, 300")])
        .send()
        .await
        .assert_status(303);
    let page = uk.get("/donate").send().await;
    page.assert_contains("50,00\u{a0}₴").assert_contains("150,00\u{a0}₴").assert_not_contains("1\u{a0}000,00\u{a0}₴");
    assert_eq!(app.count("select count(*) from audit_log where action = 'donation.presets'").await, 1);

    // Analysts may not.
    let analyst = app.new_browser();
    app.sign_in_staff(&analyst, "analyst@news.test", patronage::domain::Role::Analyst).await;
    analyst
        .post_form("/admin/donation-presets", &[("currency", "EUR"), ("amounts", "5")])
        .send()
        .await
        .assert_status(403);
}
