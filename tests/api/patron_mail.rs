//! The mail a patron's money causes (welcome, receipts, "your membership
//! ended"), from both gateways, each sent once per event; and the topic
//! approval email saying what is true.
use serde_json::json;

use crate::helpers::stripe_mock::Settled;
use crate::helpers::voting::{open_round, open_topic, pay_demo, staff, suggest};
use crate::helpers::{TestApp, TestClient};
use crate::stripe::{complete_checkout, paid_invoice, paying_patron, start_checkout};
use patronage::domain::Role;

fn subjects(mail: &[crate::helpers::smtp_sink::ReceivedMail]) -> Vec<String> {
    let mut s: Vec<String> = mail.iter().filter_map(|m| m.subject()).collect();
    s.sort();
    s
}

fn now_secs(app: &TestApp) -> i64 {
    app.clock().now() / 1_000_000
}

#[tokio::test]
async fn a_new_demo_patron_gets_a_welcome_and_a_receipt_in_their_language() {
    let app = TestApp::spawn().await;
    let price = app.price_id("supporter", "year", "eur").await;
    let browser = app.new_browser();
    let start = browser
        .post_form("/patron", &[("price", &price), ("email", "olena@example.org"), ("name", "Олена"), ("lang", "uk")])
        .send()
        .await;
    pay_demo(&browser, &start, "succeed").await.assert_status(303);
    let mail = app.deliver_mail().await;
    assert_eq!(
        subjects(&mail),
        vec!["Ваша квитанція від The Test Gazette", "Ласкаво просимо до патронів The Test Gazette"]
    );
    let welcome = mail.iter().find(|m| m.subject().is_some_and(|s| s.starts_with("Ласкаво"))).expect("welcome");
    let text = welcome.text_body();
    assert!(text.contains("Вітаємо, Олена!") && text.contains("(Прихильник)"), "{text}");
    assert!(text.contains(&format!("{}/topics", app.base_url)), "{text}");
    let receipt = mail.iter().find(|m| m.subject().is_some_and(|s| s.starts_with("Ваша квитанція"))).expect("receipt");
    let text = receipt.text_body();
    assert!(text.contains("Членство (Прихильник), один рік"), "{text}");
    assert!(text.contains("Отримувач: The Test Gazette"), "{text}");
    assert!(receipt.html_body().is_some_and(|h| h.contains("lang=\"uk\"")));
    // English for an English reader, with the amount, date and what it was for.
    let price = app.price_id("reader", "month", "eur").await;
    let en = app.new_browser();
    let start =
        en.post_form("/patron", &[("price", &price), ("email", "ann@example.org"), ("lang", "en")]).send().await;
    pay_demo(&en, &start, "succeed").await.assert_status(303);
    let mail = app.deliver_mail().await;
    let receipt = mail.iter().find(|m| m.subject().is_some_and(|s| s.contains("receipt"))).expect("receipt");
    let text = receipt.text_body();
    let today = patronage::clock::format_date(app.clock().now());
    assert!(text.contains("Amount: €3.00"), "{text}");
    assert!(text.contains(&format!("Date: {today}")), "{text}");
    assert!(text.contains("For: Membership (Reader), one month"), "{text}");
}

#[tokio::test]
async fn a_failed_first_payment_sends_no_welcome_and_no_receipt() {
    let app = TestApp::spawn().await;
    let price = app.price_id("reader", "month", "eur").await;
    let browser = app.new_browser();
    let start = browser.post_form("/patron", &[("price", &price), ("email", "declined@example.org")]).send().await;
    pay_demo(&browser, &start, "fail").await.assert_status(303);
    assert!(app.deliver_mail().await.is_empty());
}

/// A Stripe patron whose subscription starts now (the mock's objects are dated in the past).
async fn fresh_stripe_patron(app: &TestApp, email: &str) -> (crate::stripe::Patron, serde_json::Value) {
    let p = start_checkout(app, email).await;
    let session = complete_checkout(app, &p, "sub_inv", "active");
    let mock = app.stripe();
    let mut sub = mock.get("sub_inv").expect("subscription");
    sub["start_date"] = json!(now_secs(app));
    mock.put(sub);
    (p, session)
}

#[tokio::test]
async fn stripe_events_delivered_twice_send_each_patron_email_once() {
    let app = TestApp::builder().with_stripe().spawn().await;
    let (p, session) = fresh_stripe_patron(&app, "twice@example.org").await;
    let mock = app.stripe();

    // The welcome: the same event redelivered, and a second event for the same change.
    let (_, body) = crate::helpers::stripe_event("checkout.session.completed", session.clone());
    app.deliver_signed(&body).await.assert_status(200);
    app.deliver_signed(&body).await.assert_status(200);
    app.send_stripe_event("customer.subscription.created", mock.get("sub_inv").expect("sub")).await;
    // Applying events runs the mail queue too: collect what it sent.
    let mut mail = app.deliver_mail().await;

    // The receipt for the first invoice, paid now.
    let mut invoice = paid_invoice(&app, &p, "in_fresh", "ch_fresh", 600, 34);
    invoice["status_transitions"]["paid_at"] = json!(now_secs(&app));
    mock.put(invoice.clone());
    let (_, body) = crate::helpers::stripe_event("invoice.paid", invoice.clone());
    app.deliver_signed(&body).await.assert_status(200);
    app.deliver_signed(&body).await.assert_status(200);
    app.send_stripe_event("invoice.payment_succeeded", invoice).await;
    mail.extend(app.deliver_mail().await);

    // The end: canceled now, told by two events, each delivered twice.
    let mut sub = mock.get("sub_inv").expect("sub");
    sub["status"] = json!("canceled");
    sub["canceled_at"] = json!(now_secs(&app));
    sub["ended_at"] = json!(now_secs(&app));
    mock.put(sub.clone());
    for kind in ["customer.subscription.updated", "customer.subscription.deleted"] {
        let (_, body) = crate::helpers::stripe_event(kind, sub.clone());
        app.deliver_signed(&body).await.assert_status(200);
        app.deliver_signed(&body).await.assert_status(200);
    }
    mail.extend(app.deliver_mail().await);
    assert_eq!(
        subjects(&mail),
        vec![
            "Welcome, patron of The Test Gazette",
            "Your membership of The Test Gazette has ended",
            "Your receipt from The Test Gazette",
        ],
        "one of each"
    );
    let receipt = mail.iter().find(|m| m.subject().is_some_and(|s| s.contains("receipt"))).expect("receipt");
    assert!(receipt.text_body().contains("Amount: €6.00") && receipt.text_body().contains("Reference: in_fresh"));
    assert!(mail.iter().all(|m| m.to == vec!["twice@example.org".to_string()]));
    // Nothing more however often Stripe repeats itself.
    app.send_stripe_event("customer.subscription.deleted", sub).await;
    assert!(app.deliver_mail().await.is_empty());
}

#[tokio::test]
async fn stripe_sync_sends_no_mail_for_old_history_but_a_receipt_for_a_payment_booked_today() {
    let app = TestApp::builder().with_stripe().spawn().await;
    // A patron whose subscription and payment Stripe dates months ago (the mock's clock).
    let p = paying_patron(&app, "history@example.org").await;
    assert!(app.deliver_mail().await.is_empty(), "old events send nothing either");
    // Re-reading every subscription and invoice: old history, no mail.
    let mock = app.stripe();
    mock.put_charge("ch_old2", 600, "eur", Some(&p.customer), Settled { amount: 600, fee: 34, currency: "eur" });
    mock.put_paid_invoice("in_old2", "sub_inv", "ch_old2");
    patronage::services::stripe_events::sync_all(&app.ctx).await.expect("sync runs");
    assert_eq!(app.count("select count(*) from payments").await, 2, "the missed old renewal is booked");
    assert!(app.deliver_mail().await.is_empty(), "…without mail");
    // A renewal paid today whose webhook was lost: sync books it and the patron gets its receipt.
    mock.put_charge("ch_today", 600, "eur", Some(&p.customer), Settled { amount: 600, fee: 34, currency: "eur" });
    let mut invoice = mock.put_paid_invoice("in_today", "sub_inv", "ch_today");
    invoice["status_transitions"]["paid_at"] = json!(now_secs(&app));
    mock.put(invoice);
    patronage::services::stripe_events::sync_all(&app.ctx).await.expect("sync runs");
    patronage::services::stripe_events::sync_all(&app.ctx).await.expect("and again");
    let mail = app.deliver_mail().await;
    assert_eq!(subjects(&mail), vec!["Your receipt from The Test Gazette"]);
    assert!(mail[0].text_body().contains("Reference: in_today"));
}

async fn suggested_topic(app: &TestApp, member: &TestClient, title: &str) -> String {
    app.sign_in_member(member, "suggester@example.org").await;
    suggest(member, title).await
}

/// Approving a topic that is already on a round taking votes (a round staff
/// set up with it) says it is open for votes; the usual case is covered in
/// `topics::a_suggestion_waits_for_moderation_and_its_author_hears_once_when_approved`.
#[tokio::test]
async fn the_approval_email_says_open_for_votes_only_when_the_topic_is_on_an_open_round() {
    let app = TestApp::spawn().await;
    let member = app.new_browser();
    let topic = suggested_topic(&app, &member, "Who cleans the river?").await;
    let editor = staff(&app, "editor@newsroom.test", Role::Editor).await;
    let other = open_topic(&editor, "Bus timetables").await;
    let round = open_round(&app, &editor, &[other], 3, true).await;
    sqlx::query("insert into round_topics (round_id, topic_id, position) values ($1, $2, 1)")
        .bind(&round)
        .bind(&topic)
        .execute(&mut *app.db().write().await.expect("a write"))
        .await
        .expect("on the round");
    editor.post_form(&format!("/admin/topics/{topic}/approve"), &[("note", "")]).send().await.assert_status(303);
    let mail = app.deliver_mail().await;
    let to_member: Vec<_> = mail.iter().filter(|m| m.to == vec!["suggester@example.org".to_string()]).collect();
    assert_eq!(to_member.len(), 1);
    assert!(to_member[0].subject().is_some_and(|s| s.contains("on the ballot")));
    assert!(to_member[0].text_body().contains("now open for votes"));
}
