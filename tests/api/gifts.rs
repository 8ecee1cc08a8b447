//! Gift memberships: bought once (demo and Stripe), emailed to the recipient on
//! its day once, redeemed once into a complimentary membership that ends by
//! itself and invites the recipient to continue; staff comps with a reason.
use serde_json::json;

use crate::helpers::stripe_mock::Settled;
use crate::helpers::voting::{open_round, open_topic, pay_demo, staff, vote};
use crate::helpers::{TestApp, TestClient, TestResponse};
use patronage::clock::{DAY, format_date};
use patronage::domain::Role;

/// The gift form's fields for a gift of the `reader` tier, overridden by `changes`.
async fn gift_form(app: &TestApp, changes: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    let mut fields: Vec<(&'static str, String)> = vec![
        ("currency", "eur".into()),
        ("tier", app.tier_id("reader").await),
        ("months", "3".into()),
        ("recipient_name", "Olena".into()),
        ("recipient_email", "olena@example.org".into()),
        ("message", "Happy birthday!\nRead well.".into()),
        ("deliver_on", format_date(app.clock().now())),
        ("lang", "uk".into()),
        ("giver_email", "giver@example.org".into()),
        ("giver_name", "Taras".into()),
    ];
    for (k, v) in changes {
        match fields.iter_mut().find(|(f, _)| f == k) {
            Some(field) => field.1 = v.to_string(),
            None => fields.push((k, v.to_string())),
        }
    }
    fields
}

async fn post_gift(browser: &TestClient, fields: &[(&'static str, String)]) -> TestResponse {
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    browser.post_form("/gift", &fields).send().await
}

/// `(kind, gross, currency, member's email)` of every ledger row.
async fn ledger(app: &TestApp) -> Vec<(String, i64, String, Option<String>)> {
    sqlx::query_as(
        "select p.kind, p.gross_minor, p.currency, m.email from payments p
         left join members m on m.id = p.member_id order by p.created_at",
    )
    .fetch_all(app.db().read())
    .await
    .expect("ledger")
}

async fn gift_count(app: &TestApp) -> i64 {
    app.count("select count(*) from gift_memberships").await
}

/// A gift bought through the demo checkout; returns the mail that went out then.
async fn demo_gift(app: &TestApp, changes: &[(&'static str, &str)]) -> Vec<crate::helpers::ReceivedMail> {
    let start = post_gift(&app.client, &gift_form(app, changes).await).await;
    pay_demo(&app.client, &start, "succeed").await.assert_status(303);
    app.deliver_mail().await
}

fn to(mail: &[crate::helpers::ReceivedMail], address: &str) -> Vec<crate::helpers::ReceivedMail> {
    mail.iter().filter(|m| m.to.iter().any(|t| t == address)).cloned().collect()
}

#[tokio::test]
async fn a_gift_bought_with_demo_payments_is_booked_as_a_gift_receipted_and_delivered_once_in_the_chosen_language() {
    let app = TestApp::spawn().await;
    // The landing and patron pages link to the gift form.
    app.client.get("/").send().await.assert_status(200).assert_contains("href=\"/gift\"");
    app.client.get("/patron").send().await.assert_status(200).assert_contains("href=\"/gift\"");
    app.client.get("/gift").send().await.assert_status(200).assert_contains("3 months");
    // The demo checkout says what is being bought.
    let start = post_gift(&app.client, &gift_form(&app, &[]).await).await;
    let checkout = start.location().expect("to the demo checkout");
    let page = app.client.get(&checkout).send().await;
    page.assert_status(200).assert_contains("Gift membership (Reader, 3 months) for Olena").assert_contains("€9.00");
    pay_demo(&app.client, &start, "succeed").await.assert_status(303);
    let mail = app.deliver_mail().await;
    // The reader tier is €3.00 a month: 3 months are €9.00, once, booked as a gift (not a donation, no MRR).
    assert_eq!(ledger(&app).await, vec![("gift".into(), 900, "eur".into(), Some("giver@example.org".into()))]);
    assert_eq!(app.count("select count(*) from mrr_movements").await, 0);
    assert_eq!(app.count("select count(*) from subscriptions").await, 0);
    let receipt = to(&mail, "giver@example.org");
    assert_eq!(receipt.len(), 1, "one receipt to the giver");
    let text = receipt[0].text_body();
    assert!(text.contains("Gift membership (Reader, 3 months) for Olena"), "says what it was for: {text}");
    assert!(text.contains("€9.00"), "{text}");
    // Delivered today, in Ukrainian, with the message and a redemption link.
    let delivered = to(&mail, "olena@example.org");
    assert_eq!(delivered.len(), 1);
    let body = delivered[0].text_body();
    assert!(body.contains("Taras дарує вам членство"), "{body}");
    assert!(body.contains("Happy birthday!"), "{body}");
    assert!(delivered[0].first_link_containing("/gift/redeem?t=").is_some());
    // Staff see the sale in the donations report's own section, not as a donation.
    let analyst = staff(&app, "analyst@news.test", Role::Analyst).await;
    let report = analyst.get("/admin/reports/donations").send().await;
    report
        .assert_status(200)
        .assert_contains("id=\"gift-sales-EUR\">€9.00<")
        .assert_contains("No one-time gifts in this range.");
    // The transparency page counts it as money from readers.
    let actor = patronage::services::audit::Actor::cli();
    patronage::services::transparency::set_show_amounts(&app.ctx, &actor, true).await.expect("amounts shown");
    app.client.get("/transparency").send().await.assert_status(200).assert_contains("<span>€9.00</span>");
    // The job runs again (and again tomorrow): never a second email.
    app.advance_clock(DAY);
    assert!(app.deliver_mail().await.is_empty());
    assert_eq!(gift_count(&app).await, 1);
}

#[tokio::test]
async fn a_gift_for_a_later_day_is_emailed_on_that_day_once() {
    let app = TestApp::spawn().await;
    let day = format_date(app.clock().now() + 10 * DAY);
    let mail = demo_gift(&app, &[("deliver_on", &day), ("lang", "en")]).await;
    assert_eq!(to(&mail, "olena@example.org").len(), 0, "not before its day");
    assert_eq!(to(&mail, "giver@example.org").len(), 1, "the receipt at once");
    app.advance_clock(9 * DAY);
    assert!(app.deliver_mail().await.is_empty());
    app.advance_clock(DAY);
    let mail = app.deliver_mail().await;
    assert_eq!(to(&mail, "olena@example.org").len(), 1);
    assert!(mail[0].subject().unwrap_or_default().contains("gift membership"));
    assert!(mail[0].text_body().contains("Taras gave you 3 months of membership"));
    app.advance_clock(DAY);
    assert!(app.deliver_mail().await.is_empty());
}

#[tokio::test]
async fn a_gift_is_redeemed_once_into_a_comp_that_ends_by_itself_and_invites_the_recipient_once() {
    let app = TestApp::spawn().await;
    let mail = demo_gift(&app, &[("lang", "en"), ("months", "6")]).await;
    let link = to(&mail, "olena@example.org")[0].first_link_containing("/gift/redeem?t=").expect("a link");
    let token = link.split("t=").nth(1).expect("token").to_string();
    let recipient = app.new_browser();
    recipient.get(&format!("/gift/redeem?t={token}")).send().await.assert_status(200).assert_contains("Redeem my gift");
    let r = recipient.post_form("/gift/redeem", &[("t", &token)]).send().await;
    r.assert_status(303);
    assert_eq!(r.location().as_deref(), Some("/account"));
    // Signed in as the recipient, complimentary, with the gift as the reason.
    recipient.get("/account").send().await.assert_status(200).assert_contains("Complimentary patron");
    let (reason,): (Option<String>,) = sqlx::query_as("select comp_reason from members where email = $1")
        .bind("olena@example.org")
        .fetch_one(app.db().read())
        .await
        .expect("member");
    assert_eq!(reason.as_deref(), Some("Gift membership from Taras (6 months)"));
    // The giver is told, once.
    let mail = app.deliver_mail().await;
    let told = to(&mail, "giver@example.org");
    assert_eq!(told.len(), 1);
    assert!(told[0].text_body().contains("Olena redeemed the 6-month membership"));
    // A second redemption is refused with a clear message, and changes nothing.
    let again = app.new_browser();
    again
        .post_form("/gift/redeem", &[("t", &token)])
        .send()
        .await
        .assert_status(409)
        .assert_contains("This gift was redeemed already");
    again.get(&format!("/gift/redeem?t={token}")).send().await.assert_status(409).assert_contains("redeemed already");
    assert!(app.deliver_mail().await.is_empty());
    // A gifted member votes like a complimentary one.
    let editor = staff(&app, "editor@news.test", Role::Editor).await;
    let topic = open_topic(&editor, "Who owns the river banks?").await;
    let round = open_round(&app, &editor, std::slice::from_ref(&topic), 1, false).await;
    vote(&recipient, &round, &topic).await.assert_status(303);
    // 180 days later the comp has ended by itself: one invitation to continue.
    app.advance_clock(179 * DAY);
    assert!(app.deliver_mail().await.is_empty(), "not before it ends");
    app.advance_clock(2 * DAY);
    let mail = app.deliver_mail().await;
    let invited = to(&mail, "olena@example.org");
    assert_eq!(invited.len(), 1);
    assert!(invited[0].first_link_containing("/patron").is_some());
    app.sign_in_member(&recipient, "olena@example.org").await;
    recipient.get("/account").send().await.assert_contains("Free member");
    app.advance_clock(DAY);
    assert!(to(&app.deliver_mail().await, "olena@example.org").is_empty(), "invited once");
}

#[tokio::test]
async fn concurrent_redemptions_of_one_gift_redeem_it_once() {
    let app = TestApp::spawn().await;
    let mail = demo_gift(&app, &[]).await;
    let link = to(&mail, "olena@example.org")[0].first_link_containing("/gift/redeem?t=").expect("a link");
    let token = link.split("t=").nth(1).expect("token").to_string();
    let browsers: Vec<TestClient> = (0..6).map(|_| app.new_browser()).collect();
    let answers = crate::helpers::concurrently(6, async |i| {
        browsers[i].post_form("/gift/redeem", &[("t", &token)]).send().await.status
    })
    .await;
    assert_eq!(answers.iter().filter(|s| **s == 303).count(), 1, "{answers:?}");
    assert!(answers.iter().all(|s| *s == 303 || *s == 409), "{answers:?}");
    assert_eq!(app.count("select count(*) from members where email = 'olena@example.org'").await, 1);
    assert_eq!(to(&app.deliver_mail().await, "giver@example.org").len(), 1, "the giver is told once");
}

#[tokio::test]
async fn a_tampered_or_made_up_redemption_link_is_refused() {
    let app = TestApp::spawn().await;
    let mail = demo_gift(&app, &[]).await;
    let link = to(&mail, "olena@example.org")[0].first_link_containing("/gift/redeem?t=").expect("a link");
    let token = link.split("t=").nth(1).expect("token").to_string();
    let (id, mac) = token.rsplit_once('.').expect("id.mac");
    let flipped = format!("{id}.{}{}", if mac.starts_with('0') { "1" } else { "0" }, &mac[1..]);
    for bad in [flipped.as_str(), id, "nonsense", &format!("{}.{mac}", uuid::Uuid::now_v7())] {
        let r = app.client.post_form("/gift/redeem", &[("t", bad)]).send().await;
        assert!(r.status >= 400 && r.status < 500, "refused: {bad} gave {}", r.status);
        app.client.get(&format!("/gift/redeem?t={bad}")).send().await.assert_status(r.status);
    }
    assert_eq!(app.count("select count(*) from gift_memberships where redeemed_at is not null").await, 0);
    assert_eq!(app.count("select count(*) from members where email = 'olena@example.org'").await, 0);
}

#[tokio::test]
async fn bad_gift_input_gets_field_errors_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let too_late = format_date(app.clock().now() + 400 * DAY);
    let yesterday = format_date(app.clock().now() - DAY);
    let long = "x".repeat(501);
    let cases: Vec<(&'static str, &str, &str)> = vec![
        ("months", "4", "Choose 3, 6 or 12 months."),
        ("recipient_email", "not-an-address", "Enter an email address like name@example.org."),
        ("recipient_name", "", "Give the name of the person"),
        ("giver_email", "", "Enter your email address."),
        ("deliver_on", &too_late, "Choose a day from today to a year from now."),
        ("deliver_on", &yesterday, "Choose a day from today to a year from now."),
        ("deliver_on", "2027-02-30", "Choose a day from today to a year from now."),
        ("message", &long, "at most 500 characters"),
        ("tier", "not-a-tier", "Choose a tier"),
        ("currency", "xyz", "Choose a currency from the list."),
        ("lang", "fr", "Choose the language"),
    ];
    for (field, value, message) in cases {
        let r = post_gift(&app.client, &gift_form(&app, &[(field, value)]).await).await;
        r.assert_status(422).assert_contains(message);
    }
    // A currency no tier is priced in.
    let r = post_gift(&app.client, &gift_form(&app, &[("currency", "jpy")]).await).await;
    r.assert_status(422).assert_contains("Choose a currency from the list.");
    // In Ukrainian too.
    let uk = app.new_browser().with_default_header("accept-language", "uk");
    post_gift(&uk, &gift_form(&app, &[("months", "5")]).await)
        .await
        .assert_status(422)
        .assert_contains("Оберіть 3, 6 або 12 місяців.");
    assert_eq!(gift_count(&app).await, 0);
    assert_eq!(app.member_count().await, 0);
    assert_eq!(app.count("select count(*) from payments").await, 0);
    assert!(app.deliver_mail().await.is_empty());
}

#[tokio::test]
async fn a_gift_bought_through_stripe_is_booked_once_however_often_the_webhook_is_delivered() {
    let app = TestApp::builder().with_stripe().spawn().await;
    let r = post_gift(&app.client, &gift_form(&app, &[("months", "12"), ("lang", "en")]).await).await;
    r.assert_status(303);
    let mock = app.stripe();
    let request = &mock.requests_to("POST", "/v1/checkout/sessions")[0];
    assert_eq!(request.field("mode"), Some("payment"));
    assert_eq!(request.field("metadata[kind]"), Some("gift"));
    // Reader is €3.00 a month or €30.00 a year: twelve months cost the yearly price.
    assert_eq!(request.field("line_items[0][price_data][unit_amount]"), Some("3000"));
    let id = r.location().expect("to Checkout").rsplit('/').next().expect("id").to_string();
    let mut session = mock.get(&id).expect("the session");
    session["status"] = json!("complete");
    session["payment_status"] = json!("paid");
    session["payment_intent"] = json!("pi_gift_membership");
    mock.put(session.clone());
    let mut intent = crate::helpers::stripe_mock::fixture("payment_intent");
    intent["id"] = json!("pi_gift_membership");
    intent["latest_charge"] = json!("ch_gift_membership");
    mock.put(intent);
    mock.put_charge("ch_gift_membership", 3000, "eur", None, Settled { amount: 3000, fee: 70, currency: "eur" });
    let mut charge = mock.get("ch_gift_membership").expect("charge");
    charge["created"] = json!(app.clock().now() / 1_000_000);
    mock.put(charge);
    app.send_stripe_event("checkout.session.completed", session.clone()).await.1.assert_status(200);
    app.send_stripe_event("checkout.session.completed", session).await.1.assert_status(200);
    let mail = app.deliver_mail().await;
    assert_eq!(ledger(&app).await, vec![("gift".into(), 3000, "eur".into(), Some("giver@example.org".into()))]);
    assert_eq!(to(&mail, "giver@example.org").len(), 1, "one receipt");
    assert_eq!(to(&mail, "olena@example.org").len(), 1, "one gift email");
    assert_eq!(gift_count(&app).await, 1);
    assert!(app.deliver_mail().await.is_empty());
}

#[tokio::test]
async fn staff_grant_a_comp_with_a_reason_and_an_optional_end_on_the_member_page() {
    let app = TestApp::spawn().await;
    let member = app.new_browser();
    app.sign_in_member(&member, "board@example.org").await;
    let (id,): (String,) = sqlx::query_as("select id from members where email = 'board@example.org'")
        .fetch_one(app.db().read())
        .await
        .expect("member");
    let admin = staff(&app, "admin@news.test", Role::Admin).await;
    let page = format!("/admin/members/{id}");
    admin.get(&page).send().await.assert_status(200).assert_contains("Grant a comp");
    // Without a reason: refused, nothing changes.
    let comp = format!("{page}/comp");
    admin.post_form(&comp, &[("reason", ""), ("until", "")]).send().await.assert_status(400);
    assert_eq!(app.count("select count(*) from members where comped_until is not null").await, 0);
    // No end date: open-ended, shown as such with its reason.
    admin.post_form(&comp, &[("reason", "Board member"), ("until", "")]).send().await.assert_status(303);
    let shown = admin.get(&page).send().await;
    shown.assert_contains("Board member").assert_contains("no end date");
    app.advance_clock(3 * 365 * DAY);
    app.sign_in_member(&member, "board@example.org").await;
    let admin = staff(&app, "admin2@news.test", Role::Admin).await;
    member
        .get("/account")
        .send()
        .await
        .assert_contains("Complimentary patron")
        .assert_contains("Complimentary membership, with no end date.");
    // An end date: through that day.
    let until = format_date(app.clock().now() + 9 * DAY);
    admin.post_form(&comp, &[("reason", "Fellowship"), ("until", &until)]).send().await.assert_status(303);
    // Shown as the moment it ends: the midnight after that day.
    let ends = format!("{} 00:00", format_date(app.clock().now() + 10 * DAY));
    admin.get(&page).send().await.assert_contains("Fellowship").assert_contains(&ends);
    // The dashboard counts comps apart from paying patrons.
    admin.get("/admin").send().await.assert_status(200).assert_contains("id=\"patrons-comped\">1<");
    app.advance_clock(10 * DAY);
    member.get("/account").send().await.assert_contains("Free member");
    // Ending one at once (staff sessions are shorter than ten days).
    let admin = staff(&app, "admin3@news.test", Role::Admin).await;
    admin.post_form(&comp, &[("reason", "Again"), ("until", "")]).send().await.assert_status(303);
    let ended = admin.post_form(&comp, &[("action", "end")]).send().await;
    assert_eq!(ended.location(), Some(format!("{page}#comp")));
    member.get("/account").send().await.assert_contains("Free member");
    // Editors may see members but not grant comps.
    let editor = staff(&app, "editor@news.test", Role::Editor).await;
    editor.post_form(&comp, &[("reason", "x"), ("until", "")]).send().await.assert_status(403);
    assert_eq!(app.count("select count(*) from audit_log where action = 'member.comp'").await, 4);
}

/// The gift pages (the form, with its errors, the thanks and the redemption
/// page) and the member page's comp fit a phone and pass axe-core, in English
/// and in Ukrainian; screenshots under `target/screenshots/gifts/`.
#[tokio::test]
async fn the_gift_pages_fit_a_phone_and_pass_axe_in_both_languages() {
    use crate::helpers::browser::{Browser, DESKTOP, PHONE, screenshot_path};
    let app = TestApp::spawn().await;
    let mail = demo_gift(&app, &[("lang", "en")]).await;
    let link = to(&mail, "olena@example.org")[0].first_link_containing("/gift/redeem?t=").expect("a link");
    let redeem = link.split_once("/gift/redeem").map(|(_, q)| format!("/gift/redeem{q}")).expect("a path");
    let admin = staff(&app, "admin@news.test", Role::Admin).await;
    let (giver,): (String,) = sqlx::query_as("select id from members where email = 'giver@example.org'")
        .fetch_one(app.db().read())
        .await
        .expect("the giver");
    let member_page = format!("/admin/members/{giver}");
    admin.post_form(&format!("{member_page}/comp"), &[("reason", "Board member"), ("until", "")]).send().await;
    let mut problems = Vec::new();
    for lang in ["en", "uk"] {
        let Some(browser) = Browser::open(lang).await else { return };
        let pages = [("form", "/gift".to_string()), ("thanks", "/gift/thanks".into()), ("redeem", redeem.clone())];
        for (name, path) in pages {
            browser.goto(&format!("{}{path}", app.base_url)).await;
            for width in [PHONE, DESKTOP] {
                browser.set_width(width).await;
                browser.screenshot(&screenshot_path(&format!("gifts/{name}-{lang}-{width}"))).await;
                for problem in browser.check_page(width == PHONE).await.problems {
                    problems.push(format!("{path} ({lang}, {width} px): {problem}"));
                }
            }
        }
        // The form with its errors: submitted empty.
        browser.goto(&format!("{}/gift", app.base_url)).await;
        browser.run("document.querySelector('#gift-recipient-name').value = ''; document.querySelector('form[action=\"/gift\"]').submit();", json!([])).await;
        browser.wait_for("return document.querySelector('.has-error') !== null;").await;
        for width in [PHONE, DESKTOP] {
            browser.set_width(width).await;
            browser.screenshot(&screenshot_path(&format!("gifts/form-errors-{lang}-{width}"))).await;
            for problem in browser.check_page(width == PHONE).await.problems {
                problems.push(format!("/gift with errors ({lang}, {width} px): {problem}"));
            }
        }
        if lang == "en" {
            let cookie = admin.cookie("patronage_staff").expect("a staff session");
            browser.goto(&app.base_url).await;
            browser.add_cookie("patronage_staff", &cookie).await;
            browser.goto(&format!("{}{member_page}#comp", app.base_url)).await;
            browser.set_width(DESKTOP).await;
            browser.screenshot(&screenshot_path("gifts/staff-member-comp-1280")).await;
            let text = browser.text().await;
            assert!(text.contains("Board member") && text.contains("no end date"), "{text}");
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

mod postgres_only {}

/// `(giver_name, message, recipient_name, recipient_email)` of every gift, oldest first.
async fn gift_people(app: &TestApp) -> Vec<(Option<String>, String, String, String)> {
    sqlx::query_as(
        "select giver_name, message, recipient_name, recipient_email from gift_memberships order by created_at, id",
    )
    .fetch_all(app.db().read())
    .await
    .expect("gifts")
}

async fn delete_account(app: &TestApp, email: &str) {
    let browser = app.new_browser();
    app.sign_in_member(&browser, email).await;
    browser.post_form("/account/delete", &[("confirm", "yes")]).send().await.assert_status(303);
}

#[tokio::test]
async fn deleting_an_account_erases_its_part_of_every_gift_and_a_gift_on_its_way_still_arrives() {
    let app = TestApp::spawn().await;
    // Taras gives Olena six months (redeemed), and Mykola three from next week.
    let mail = demo_gift(&app, &[("lang", "en"), ("months", "6")]).await;
    let link = to(&mail, "olena@example.org")[0].first_link_containing("/gift/redeem?t=").expect("a link");
    let token = link.split("t=").nth(1).expect("token").to_string();
    app.new_browser().post_form("/gift/redeem", &[("t", &token)]).send().await.assert_status(303);
    let later = format_date(app.clock().now() + 7 * DAY);
    let changes = [
        ("deliver_on", later.as_str()),
        ("recipient_name", "Mykola"),
        ("recipient_email", "mykola@example.org"),
        ("lang", "en"),
    ];
    demo_gift(&app, &changes).await;
    app.deliver_mail().await;
    let reason = "select comp_reason from members where email = 'olena@example.org'";
    let (before,): (Option<String>,) = sqlx::query_as(reason).fetch_one(app.db().read()).await.expect("olena");
    assert_eq!(before.as_deref(), Some("Gift membership from Taras (6 months)"));

    // The giver goes: their name and message leave both gifts and Olena's comp reason.
    delete_account(&app, "giver@example.org").await;
    let people = gift_people(&app).await;
    assert_eq!(people.len(), 2);
    for (giver, message, ..) in &people {
        assert_eq!((giver.as_deref(), message.as_str()), (None, ""));
    }
    let (after,): (Option<String>,) = sqlx::query_as(reason).fetch_one(app.db().read()).await.expect("olena");
    assert_eq!(after.as_deref(), Some("Gift membership from a reader (6 months)"));
    // Mykola's gift still arrives on its day, from nobody named, with no message.
    app.advance_clock(7 * DAY);
    let mail = to(&app.deliver_mail().await, "mykola@example.org");
    assert_eq!(mail.len(), 1);
    let text = mail[0].text_body();
    assert!(text.contains("You were given 3 months of membership"), "{text}");
    assert!(!text.contains("Taras") && !text.contains("Happy birthday"), "{text}");
    assert!(mail[0].first_link_containing("/gift/redeem?t=").is_some());

    // The recipient goes: their name and address leave the gift and the giver's ledger row.
    let descriptions = "select description from payments where kind = 'gift' order by occurred_at, id";
    let named: Vec<(String,)> = sqlx::query_as(descriptions).fetch_all(app.db().read()).await.expect("ledger");
    assert!(named[0].0.ends_with("for Olena"), "{named:?}");
    delete_account(&app, "olena@example.org").await;
    let people = gift_people(&app).await;
    assert_eq!((people[0].2.as_str(), people[0].3.as_str()), ("", ""));
    assert_eq!((people[1].2.as_str(), people[1].3.as_str()), ("Mykola", "mykola@example.org"), "not redeemed yet");
    let unnamed: Vec<(String,)> = sqlx::query_as(descriptions).fetch_all(app.db().read()).await.expect("ledger");
    assert!(!unnamed[0].0.contains("Olena") && unnamed[0].0.starts_with("Gift membership ("), "{unnamed:?}");
    assert_eq!(unnamed[1], named[1], "only hers changed");
    assert_eq!(app.count("select count(*) from payments where kind = 'gift'").await, 2, "the ledger keeps its rows");
}
