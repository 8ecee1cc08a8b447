//! The public transparency page and per-topic funding goals: goals staff set,
//! gifts toward a topic (demo and Stripe) tagged and counted in the goal's
//! currency (refunds subtract), the staff email once a goal is reached, the
//! page's figures from a hand-built history, the amounts setting, supporters
//! who opted in (and only they), permissions, the page cache, and bad input.
use serde_json::json;

use crate::helpers::voting::{open_round, open_topic, pay_demo, staff};
use crate::helpers::{TestApp, TestClient};
use patronage::domain::Role;

async fn set_goal(staff: &TestClient, topic: &str, amount: &str, currency: &str) -> crate::helpers::TestResponse {
    staff
        .post_form("/admin/transparency/goals", &[("topic", topic), ("amount", amount), ("currency", currency)])
        .send()
        .await
}

async fn give(browser: &TestClient, topic: &str, currency: &str, amount: &str) -> crate::helpers::TestResponse {
    browser
        .post_form("/donate", &[("currency", currency), ("amount", amount), ("topic", topic), ("anonymous", "yes")])
        .send()
        .await
}

async fn tagged(app: &TestApp, topic: &str) -> Vec<(String, i64, String)> {
    sqlx::query_as("select kind, gross_minor, currency from payments where topic_id = $1 order by created_at, id")
        .bind(topic)
        .fetch_all(app.db().read())
        .await
        .expect("tagged rows")
}

#[tokio::test]
async fn a_demo_gift_toward_a_topic_is_tagged_and_only_tagged_gifts_in_the_goals_currency_count() {
    let app = TestApp::spawn().await;
    let editor = staff(&app, "editor@news.test", Role::Editor).await;
    let topic = open_topic(&editor, "Who owns the riverbank?").await;
    let other = open_topic(&editor, "School meals").await;
    set_goal(&editor, &topic, "100", "EUR").await.assert_status(303);
    set_goal(&editor, &other, "50", "EUR").await.assert_status(303);
    let reader = app.new_browser();
    // The form toward the topic names it and is in the goal's currency.
    reader
        .get(&format!("/donate?topic={topic}"))
        .send()
        .await
        .assert_status(200)
        .assert_contains("Your gift goes toward: Who owns the riverbank?")
        .assert_contains("€0.00 raised of €100.00");
    pay_demo(&reader, &give(&reader, &topic, "EUR", "30").await, "succeed").await.assert_status(303);
    // Not toward it: a plain gift, and one toward another topic.
    let plain =
        reader.post_form("/donate", &[("currency", "EUR"), ("amount", "50"), ("anonymous", "yes")]).send().await;
    pay_demo(&reader, &plain, "succeed").await.assert_status(303);
    pay_demo(&reader, &give(&reader, &other, "EUR", "7").await, "succeed").await.assert_status(303);
    assert_eq!(tagged(&app, &topic).await, vec![("donation".to_string(), 3000, "eur".to_string())]);
    app.new_browser()
        .get(&format!("/topics/{topic}"))
        .send()
        .await
        .assert_status(200)
        .assert_contains("€30.00 raised of €100.00")
        .assert_contains("30%")
        .assert_contains(&format!("/donate?topic={topic}"));
    // A gift booked in another currency (not offered, but possible through the
    // ledger) is tagged and yet never added to a euro goal.
    sqlx::query("update payments set currency = 'uah' where topic_id = $1")
        .bind(&other)
        .execute(app.db().read())
        .await
        .expect("changed");
    let (raised,): (i64,) = sqlx::query_as(
        "select cast(coalesce(sum(gross_minor), 0) as bigint) from payments where topic_id = $1 and currency = 'eur'",
    )
    .bind(&other)
    .fetch_one(app.db().read())
    .await
    .expect("sum");
    assert_eq!(raised, 0);
    assert!(app.deliver_mail().await.is_empty(), "anonymous gifts get no receipt, and no goal was reached");
}

#[tokio::test]
async fn a_stripe_gift_toward_a_topic_is_tagged_from_its_payment_intent_and_a_reached_goal_emails_staff_once() {
    let app = TestApp::builder().with_stripe().spawn().await;
    let admin = staff(&app, "admin@news.test", Role::Admin).await;
    let _editor = staff(&app, "editor@news.test", Role::Editor).await;
    let _analyst = staff(&app, "analyst@news.test", Role::Analyst).await;
    let topic = open_topic(&admin, "Hospital waiting lists").await;
    set_goal(&admin, &topic, "20", "EUR").await.assert_status(303);
    let reader = app.new_browser();
    let r = give(&reader, &topic, "EUR", "25").await;
    r.assert_status(303);
    let session_id = r.location().expect("to Checkout").rsplit('/').next().expect("id").to_string();
    // The topic travels on the PaymentIntent's metadata (and the session's).
    let created = app.stripe().requests_to("POST", "/v1/checkout/sessions");
    let sent = created.last().expect("a checkout session was created");
    assert_eq!(sent.field("payment_intent_data[metadata][topic_id]"), Some(topic.as_str()));
    let mock = app.stripe();
    mock.put_charge(
        "ch_goal",
        2500,
        "eur",
        None,
        crate::helpers::stripe_mock::Settled { amount: 2500, fee: 63, currency: "eur" },
    );
    let mut charge = mock.get("ch_goal").expect("charge");
    charge["created"] = json!(app.clock().now() / 1_000_000);
    mock.put(charge);
    let mut intent = mock.get("pi_ch_goal").expect("intent");
    intent["metadata"] = json!({ "patronage": "1", "kind": "donation", "topic_id": topic });
    mock.put(intent);
    let mut session = mock.get(&session_id).expect("the session");
    session["status"] = json!("complete");
    session["payment_status"] = json!("paid");
    session["payment_intent"] = json!("pi_ch_goal");
    mock.put(session.clone());
    let (_, delivered) = app.send_stripe_event("checkout.session.completed", session.clone()).await;
    delivered.assert_status(200);
    assert_eq!(tagged(&app, &topic).await, vec![("donation".to_string(), 2500, "eur".to_string())]);
    let mail = app.deliver_mail().await;
    let mut to: Vec<String> = mail.iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    assert_eq!(
        to,
        vec!["admin@news.test".to_string(), "editor@news.test".to_string()],
        "editors and admins, once each"
    );
    assert!(mail[0].subject().unwrap_or_default().contains("a funding goal was reached"));
    assert!(mail[0].text_body().contains("Hospital waiting lists"));
    assert!(mail[0].text_body().contains("Raised €25.00 of €20.00."));
    // Stripe delivers it again, and another event for the same checkout: nothing more.
    app.send_stripe_event("checkout.session.completed", session.clone()).await.1.assert_status(200);
    app.send_stripe_event("checkout.session.async_payment_succeeded", session).await.1.assert_status(200);
    assert!(app.deliver_mail().await.is_empty(), "the staff email is sent exactly once");
    assert_eq!(tagged(&app, &topic).await.len(), 1);
    app.new_browser()
        .get(&format!("/topics/{topic}"))
        .send()
        .await
        .assert_contains("100%")
        .assert_contains("Goal reached");
    // A refund of part of the gift takes it back from the goal.
    mock.put_refund("ch_goal", "re_goal", 1000, "succeeded");
    app.send_stripe_event("charge.refunded", mock.get("ch_goal").expect("charge")).await.1.assert_status(200);
    assert_eq!(
        tagged(&app, &topic).await,
        vec![("donation".to_string(), 2500, "eur".to_string()), ("refund".to_string(), -1000, "eur".to_string())]
    );
    app.new_browser()
        .get(&format!("/topics/{topic}"))
        .send()
        .await
        .assert_contains("€15.00 raised of €20.00")
        .assert_contains("75%");
    assert!(app.deliver_mail().await.is_empty());
}

#[tokio::test]
async fn bad_goals_and_gifts_toward_topics_are_refused_and_store_nothing() {
    let app = TestApp::spawn().await;
    let editor = staff(&app, "editor@news.test", Role::Editor).await;
    let topic = open_topic(&editor, "Bridges").await;
    let no_goal = open_topic(&editor, "Parks").await;
    for (amount, currency, message) in [
        ("0", "EUR", "The goal must be more than zero."),
        ("-5", "EUR", "The goal must be more than zero."),
        ("99999999999", "EUR", "That goal is too large."),
        ("10000001", "EUR", "That goal is too large."),
        ("2000.50", "EUR", "Enter the goal as a whole amount"),
        ("2000", "GBP", "Gifts cannot be made in that currency."),
        ("2000", "", "Gifts cannot be made in that currency."),
    ] {
        set_goal(&editor, &topic, amount, currency).await.assert_status(422).assert_contains(message);
    }
    set_goal(&editor, "0190d0c0-0000-7000-8000-000000000000", "100", "EUR")
        .await
        .assert_status(422)
        .assert_contains("There is no such topic.");
    set_goal(&editor, "not-an-id", "100", "EUR").await.assert_status(422);
    assert_eq!(app.count("select count(*) from topic_goals").await, 0);
    assert_eq!(app.count("select count(*) from audit_log where action like 'topic.goal%'").await, 0);

    set_goal(&editor, &topic, "100", "EUR").await.assert_status(303);
    let reader = app.new_browser();
    // Toward a topic without a goal, a forged id, in another currency than the goal's.
    give(&reader, &no_goal, "EUR", "10").await.assert_status(422).assert_contains("has no open funding goal");
    give(&reader, "0190d0c0-0000-7000-8000-000000000000", "EUR", "10")
        .await
        .assert_status(422)
        .assert_contains("There is no such topic.");
    give(&reader, "'; drop table payments; --", "EUR", "10").await.assert_status(422);
    give(&reader, &topic, "USD", "10")
        .await
        .assert_status(422)
        .assert_contains("Gifts toward this topic are made in its goal");
    reader.get("/donate?topic=forged").send().await.assert_status(404);
    reader.get(&format!("/donate?topic={no_goal}")).send().await.assert_status(400);
    // A closed goal takes no more gifts.
    editor.post_form(&format!("/admin/transparency/goals/{topic}/close"), &[]).send().await.assert_status(303);
    give(&reader, &topic, "EUR", "10").await.assert_status(422).assert_contains("has no open funding goal");
    app.new_browser().get(&format!("/topics/{topic}")).send().await.assert_not_contains("raised of");
    assert_eq!(app.count("select count(*) from payments").await, 0);
    assert!(app.deliver_mail().await.is_empty());
}

#[tokio::test]
async fn editors_and_admins_set_goals_and_write_notes_and_analysts_only_read() {
    let app = TestApp::spawn().await;
    let admin = staff(&app, "admin@news.test", Role::Admin).await;
    let editor = staff(&app, "editor@news.test", Role::Editor).await;
    let analyst = staff(&app, "analyst@news.test", Role::Analyst).await;
    let topic = open_topic(&admin, "Tram lines").await;
    set_goal(&analyst, &topic, "100", "EUR").await.assert_status(403);
    assert_eq!(app.count("select count(*) from topic_goals").await, 0);
    set_goal(&editor, &topic, "100", "EUR").await.assert_status(303);
    set_goal(&admin, &topic, "200", "EUR").await.assert_status(303);
    let month = app.ctx.zone.month_of(app.clock().now()).key();
    let note_path = format!("/admin/transparency/notes/{month}");
    analyst.post_form(&note_path, &[("note", "Paid for the tram reporting.")]).send().await.assert_status(403);
    analyst.post_form(&format!("/admin/transparency/goals/{topic}/close"), &[]).send().await.assert_status(403);
    editor.post_form(&note_path, &[("note", "Paid for the tram reporting.")]).send().await.assert_status(303);
    // Analysts read what the others wrote; editors cannot switch amounts on (admins only).
    analyst
        .get("/admin/transparency")
        .send()
        .await
        .assert_status(200)
        .assert_contains("Tram lines")
        .assert_contains("€200.00")
        .assert_contains("Paid for the tram reporting.")
        .assert_not_contains("Set goal");
    editor.post_form("/admin/transparency/amounts", &[("show_amounts", "yes")]).send().await.assert_status(403);
    admin.post_form("/admin/transparency/amounts", &[("show_amounts", "yes")]).send().await.assert_status(303);
    // A month the page does not show, and a note too long, are refused.
    editor.post_form("/admin/transparency/notes/1999-01", &[("note", "x")]).send().await.assert_status(404);
    editor.post_form(&note_path, &[("note", &"x".repeat(2001))]).send().await.assert_status(400);
    assert_eq!(app.count("select count(*) from transparency_notes").await, 1);
    assert_eq!(app.count("select count(*) from audit_log where action = 'topic.goal'").await, 2);
    assert_eq!(app.count("select count(*) from audit_log where action = 'transparency.note'").await, 1);
}

#[tokio::test]
async fn the_poll_box_shows_goal_progress_from_the_page_cache_until_a_gift_is_booked() {
    let mut app = TestApp::spawn().await;
    app.allow_unclosed_rounds();
    let admin = staff(&app, "admin@news.test", Role::Admin).await;
    let topic = open_topic(&admin, "Night buses").await;
    open_round(&app, &admin, std::slice::from_ref(&topic), 3, false).await;
    set_goal(&admin, &topic, "100", "EUR").await.assert_status(303);
    let visitor = app.new_browser();
    visitor.get("/embed/poll").send().await.assert_status(200).assert_contains("€0.00 raised of €100.00");
    // Changed behind the app's back (no change event): the cached box stays.
    sqlx::query("update topic_goals set goal_minor = 40000").execute(app.db().read()).await.expect("changed");
    visitor.get("/embed/poll").send().await.assert_contains("€0.00 raised of €100.00");
    // A gift booked toward it: the box is rendered anew.
    let reader = app.new_browser();
    pay_demo(&reader, &give(&reader, &topic, "EUR", "40").await, "succeed").await.assert_status(303);
    visitor.get("/embed/poll").send().await.assert_contains("€40.00 raised of €400.00").assert_contains("10%");
    visitor.get("/embed/poll?lang=uk").send().await.assert_contains("Зібрано 40,00\u{a0}€ з 400,00\u{a0}€");
}

// ---- The page ----

use patronage::clock::DAY;
use patronage::db;
use patronage::domain::{
    Currency, Email, Interval, Locale, MemberId, PaymentKind, Settled, SubscriptionState, SubscriptionStatus,
};
use patronage::services::billing;

fn set_clock(app: &TestApp, at: i64) {
    let now = app.clock().now();
    assert!(at > now, "the clock only moves forward");
    app.advance_clock(at - now);
}

async fn member(app: &TestApp, email: &str, name: &str) -> MemberId {
    let id = MemberId::new();
    let email = Email::parse(email).expect("valid");
    let mut w = app.db().write().await.expect("a writer");
    db::members::insert_if_absent(&mut *w, id, &email, Some(name), Locale::En, app.clock().now())
        .await
        .expect("insert");
    id
}

/// A subscription of `member` to `slug` monthly, now in `status` (as a Stripe event would say).
async fn subscription(
    app: &TestApp,
    id: &str,
    member: MemberId,
    currency: &str,
    amount: i64,
    status: SubscriptionStatus,
) {
    let now = app.clock().now();
    let ended = (status == SubscriptionStatus::Canceled).then_some(now);
    let state = SubscriptionState {
        provider_id: id.to_string(),
        customer_id: format!("cus_{member}"),
        member_hint: Some(member),
        price_ref: Some(app.price_id("reader", "month", currency).await),
        price_hint: None,
        status,
        interval: Interval::Month,
        amount_minor: amount,
        currency: Currency::parse(currency).expect("currency"),
        current_period_end: Some(now + 30 * DAY),
        cancel_at_period_end: false,
        started_at: Some(now),
        canceled_at: ended,
        ended_at: ended,
        pause: None,
        offer: None,
        source: None,
    };
    let mut tx = app.db().transaction().await.expect("tx");
    let applied = billing::apply_subscription(&app.ctx, &mut tx, &state).await.expect("applied");
    assert!(matches!(applied, billing::Applied::Applied { .. }), "{applied:?}");
    tx.commit().await.expect("commit");
}

/// A ledger row of `kind` booked now (for `subscription`, its provider id).
async fn book(
    app: &TestApp,
    kind: PaymentKind,
    id: &str,
    member: Option<MemberId>,
    gross: i64,
    currency: &str,
    subscription: Option<&str>,
) {
    let currency = Currency::parse(currency).expect("currency");
    let p = db::payments::NewPayment {
        kind,
        provider_id: id.to_string(),
        member_id: member,
        subscription_id: None,
        gross_minor: gross,
        currency,
        settled: Settled { gross_minor: gross, fee_minor: 0, net_minor: gross, currency },
        charge_id: Some(format!("ch_{id}")),
        description: None,
        occurred_at: app.clock().now(),
        source_id: None,
        topic_id: None,
    };
    let mut tx = app.db().transaction().await.expect("tx");
    billing::record_payment(&app.ctx, &mut tx, &p, subscription).await.expect("recorded");
    tx.commit().await.expect("commit");
}

/// The part of the page about `month` (`YYYY-MM`).
fn month_section(body: &str, month: &str) -> String {
    let start = body.find(&format!("id=\"month-{month}\"")).unwrap_or_else(|| panic!("month {month} on the page"));
    let rest = &body[start..];
    rest[..rest.find("</article>").expect("end of the month")].to_string()
}

fn figure(section: &str, class: &str) -> String {
    let open = format!("<dd class=\"{class}\">");
    let start = section.find(&open).unwrap_or_else(|| panic!("{class} shown")) + open.len();
    section[start..start + section[start..].find("</dd>").expect("end")].to_string()
}

#[tokio::test]
async fn the_monthly_figures_of_a_hand_built_history_are_exact_and_amounts_show_only_when_chosen() {
    let mut app = TestApp::spawn().await;
    app.allow_unclosed_rounds();
    let zone = app.ctx.zone.clone();
    let m1 = zone.month_of(app.clock().now()).plus(1);
    let m2 = m1.plus(1);
    // Month one: two patrons join (one in euros, one in hryvnias), a gift of
    // €10, and a refund of €2.
    set_clock(&app, zone.bounds(m1).0 + DAY);
    let ann = member(&app, "ann@example.org", "Ann Private").await;
    let bo = member(&app, "bo@example.org", "Bo Private").await;
    subscription(&app, "sub_ann", ann, "eur", 500, SubscriptionStatus::Active).await;
    book(&app, PaymentKind::Subscription, "in_ann_1", None, 500, "eur", Some("sub_ann")).await;
    subscription(&app, "sub_bo", bo, "uah", 10_000, SubscriptionStatus::Active).await;
    book(&app, PaymentKind::Subscription, "in_bo_1", None, 10_000, "uah", Some("sub_bo")).await;
    book(&app, PaymentKind::Donation, "gift_1", None, 1000, "eur", None).await;
    book(&app, PaymentKind::Refund, "re_1", None, -200, "eur", None).await;
    // Month two: Bo leaves, Cy joins, Ann renews; Ann votes for a topic that is
    // covered that month; another is covered without any vote.
    set_clock(&app, zone.bounds(m2).0 + DAY);
    subscription(&app, "sub_bo", bo, "uah", 10_000, SubscriptionStatus::Canceled).await;
    let cy = member(&app, "cy@example.org", "Cy Private").await;
    subscription(&app, "sub_cy", cy, "eur", 300, SubscriptionStatus::Active).await;
    book(&app, PaymentKind::Subscription, "in_cy_1", None, 300, "eur", Some("sub_cy")).await;
    book(&app, PaymentKind::Subscription, "in_ann_2", None, 500, "eur", Some("sub_ann")).await;
    // Signed in now: a staff session does not last the months moved above.
    let admin = staff(&app, "admin@news.test", Role::Admin).await;
    let voted = open_topic(&admin, "Flood defences").await;
    let unvoted = open_topic(&admin, "Street lights").await;
    let round = open_round(&app, &admin, &[voted.clone(), unvoted.clone()], 3, false).await;
    let ann_browser = app.new_browser();
    app.sign_in_member(&ann_browser, "ann@example.org").await;
    crate::helpers::voting::vote(&ann_browser, &round, &voted).await.assert_status(303);
    for (topic, url) in [(&voted, "https://news.test/floods"), (&unvoted, "https://news.test/lights")] {
        admin
            .post_form(&format!("/admin/topics/{topic}/cover"), &[("note", ""), ("articles", url)])
            .send()
            .await
            .assert_status(303);
    }
    app.drain_jobs().await;
    app.deliver_mail().await;

    let page = app.new_browser().get("/transparency").send().await;
    page.assert_status(200);
    let first = month_section(&page.body, &m1.key());
    let second = month_section(&page.body, &m2.key());
    assert_eq!(
        (figure(&first, "patrons"), figure(&first, "joined"), figure(&first, "left")),
        ("2".into(), "2".into(), "0".into())
    );
    assert_eq!(
        (figure(&second, "patrons"), figure(&second, "joined"), figure(&second, "left")),
        ("2".into(), "1".into(), "1".into())
    );
    assert!(second.contains("https://news.test/floods"), "the story patrons voted for");
    assert!(!second.contains("https://news.test/lights"), "covered, but nobody voted for it");
    assert!(!first.contains("news.test/"), "covered in the second month");
    // No amounts until an admin chooses to show them.
    page.assert_not_contains("From readers").assert_not_contains("€13.00").assert_not_contains("₴100.00");
    admin.post_form("/admin/transparency/amounts", &[("show_amounts", "yes")]).send().await.assert_status(303);
    let page = app.new_browser().get("/transparency").send().await;
    let first = month_section(&page.body, &m1.key());
    let second = month_section(&page.body, &m2.key());
    // Memberships and gifts less refunds, per currency, never added across currencies.
    assert_eq!(figure(&first, "income"), "<span>€13.00</span>, <span>₴100.00</span>");
    assert_eq!(figure(&second, "income"), "<span>€8.00</span>");
    let uk = app.new_browser().with_default_header("accept-language", "uk").get("/transparency").send().await;
    uk.assert_contains("Від читачів");
    assert_eq!(
        figure(&month_section(&uk.body, &m1.key()), "income"),
        "<span>13,00\u{a0}€</span>, <span>100,00\u{a0}₴</span>"
    );
    admin.post_form("/admin/transparency/amounts", &[("show_amounts", "")]).send().await.assert_status(303);
    app.new_browser()
        .get("/transparency")
        .send()
        .await
        .assert_not_contains("From readers")
        .assert_not_contains("€8.00");
    // Nothing personal.
    for private in ["Ann Private", "Bo Private", "Cy Private", "@example.org", "ann@", "cus_"] {
        page.assert_not_contains(private);
    }
}

#[tokio::test]
async fn only_supporters_who_opted_in_appear_under_the_name_they_chose() {
    let app = TestApp::spawn().await;
    // Two patrons, with names and public names; one opts in under a pseudonym.
    let listed = crate::helpers::voting::demo_patron(&app, "listed@example.org", "reader").await;
    let quiet = crate::helpers::voting::demo_patron(&app, "quiet@example.org", "reader").await;
    for (browser, name, public) in [(&listed, "Olena Realname", "Olena P"), (&quiet, "Petro Realname", "Petro Q")] {
        browser
            .post_form("/account", &[("name", name), ("public_name", public), ("lang", "en")])
            .send()
            .await
            .assert_status(303);
    }
    // A pseudonym that is an address is refused, and nothing is stored.
    for bad in ["listed@example.org", "https://spam.example", "", "Zero\u{200b}width"] {
        listed.post_form("/account/supporter", &[("supporter_name", bad)]).send().await.assert_status(422);
    }
    assert_eq!(app.count("select count(*) from members where supporter_name is not null").await, 0);
    listed.post_form("/account/supporter", &[("supporter_name", "Reader from Lviv")]).send().await.assert_status(303);
    listed.get("/account").send().await.assert_contains("You are listed as Reader from Lviv.");
    // It is theirs: in "download my data" too.
    let export = listed.get("/account/export").send().await.json();
    assert_eq!(export["member"]["supporter_name"], json!("Reader from Lviv"));
    // A member who never gave is no supporter, even opted in.
    let free = app.new_browser();
    app.post_join(&free, "free@example.org", "Free Reader").await;
    app.sign_in_member(&free, "free@example.org").await;
    free.post_form("/account/supporter", &[("supporter_name", "Never Gave")]).send().await.assert_status(303);
    for lang in ["en", "uk"] {
        let page = app.new_browser().with_default_header("accept-language", lang).get("/transparency").send().await;
        page.assert_status(200).assert_contains("<li>Reader from Lviv</li>");
        for private in [
            "Olena Realname",
            "Olena P",
            "Petro Realname",
            "Petro Q",
            "listed@",
            "quiet@",
            "example.org",
            "Never Gave",
            "Free Reader",
        ] {
            page.assert_not_contains(private);
        }
    }
    // Opting out takes them off at once (the cached page too).
    listed.post_form("/account/supporter", &[("action", "remove")]).send().await.assert_status(303);
    app.new_browser().get("/transparency").send().await.assert_not_contains("Reader from Lviv");
    app.deliver_mail().await;
}

#[tokio::test]
async fn the_transparency_page_is_cached_until_a_gift_is_booked_and_linked_from_the_landing_page() {
    let app = TestApp::spawn().await;
    let admin = staff(&app, "admin@news.test", Role::Admin).await;
    admin.post_form("/admin/transparency/amounts", &[("show_amounts", "yes")]).send().await.assert_status(303);
    app.new_browser().get("/").send().await.assert_contains("href=\"/transparency\"");
    let visitor = app.new_browser();
    visitor.get("/transparency").send().await.assert_status(200).assert_not_contains("€25.00");
    // Booked behind the app's back (no change event): the cached page stays.
    sqlx::query("insert into transparency_notes (month, body, updated_at) values ($1, 'Sneaked in', 0)")
        .bind(app.ctx.zone.month_of(app.clock().now()).key())
        .execute(app.db().read())
        .await
        .expect("inserted");
    visitor.get("/transparency").send().await.assert_not_contains("Sneaked in");
    // A gift booked through the checkout: rendered anew.
    let reader = app.new_browser();
    let start =
        reader.post_form("/donate", &[("currency", "EUR"), ("amount", "25"), ("anonymous", "yes")]).send().await;
    pay_demo(&reader, &start, "succeed").await.assert_status(303);
    visitor.get("/transparency").send().await.assert_contains("€25.00").assert_contains("Sneaked in");
}

#[tokio::test]
async fn the_public_api_lists_open_goals_with_their_progress_as_the_topic_page_shows_it() {
    let app = TestApp::spawn().await;
    let editor = staff(&app, "editor@news.test", Role::Editor).await;
    let topic = open_topic(&editor, "Who owns the riverbank?").await;
    set_goal(&editor, &topic, "100", "EUR").await.assert_status(303);
    let reader = app.new_browser();
    let api = app.new_browser();
    let before = api.get("/api/v1/goals?lang=en").send().await;
    before.assert_status(200);
    let doc: serde_json::Value = serde_json::from_str(&before.body).expect("json");
    assert_eq!(doc["goals"][0]["raised_minor"], 0);
    pay_demo(&reader, &give(&reader, &topic, "EUR", "30").await, "succeed").await.assert_status(303);
    let after = api.get("/api/v1/goals?lang=en").send().await;
    let doc: serde_json::Value = serde_json::from_str(&after.body).expect("json");
    let goal = &doc["goals"][0];
    assert_eq!(goal["topic_id"], topic.as_str());
    assert_eq!(goal["title"], "Who owns the riverbank?");
    assert_eq!(goal["currency"], "eur");
    assert_eq!(
        (goal["goal_minor"].as_i64(), goal["raised_minor"].as_i64(), goal["percent"].as_i64()),
        (Some(10000), Some(3000), Some(30))
    );
    assert_eq!((goal["raised_formatted"].as_str(), goal["goal_formatted"].as_str()), (Some("€30.00"), Some("€100.00")));
    assert_eq!(goal["reached"], false);
    assert!(goal["give_url"].as_str().is_some_and(|u| u.ends_with(&format!("/donate?topic={topic}"))));
    // The same figures as the topic page, and nothing personal.
    reader.get(&format!("/topics/{topic}")).send().await.assert_contains("€30.00 raised of €100.00");
    assert!(!after.body.contains("@"), "{}", after.body);
}
