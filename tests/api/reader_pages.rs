//! Every reader page as a person sees it (the corrections form and its dialog
//! among them), in headless Chromium: at 360 and 390 px
//! (phones) and 1280 px, in English and Ukrainian, with the demo newsroom's data.
//! No sideways scrolling, tap targets of at least 44 px, and no serious or
//! critical axe-core violation. Screenshots of each page at 390 and 1280 px go to
//! `target/screenshots/reader/`.
use patronage::services::demo_data::{self, DEMO_PATRON, Options};

use crate::helpers::TestApp;
use crate::helpers::browser::{Browser, DESKTOP, PHONE, PHONE_NARROW, screenshot_path};

/// A demo newsroom, and the reader pages with what each needs filled in.
async fn demo_newsroom() -> (TestApp, String, Vec<(&'static str, String)>) {
    let app = TestApp::builder().trusted_origin("https://news.example").spawn().await;
    demo_data::generate(&app.ctx, Options { members: 120, months: 14, seed: 3 }).await.expect("demo data");
    let (round,): (String,) = sqlx::query_as("select id from rounds order by opens_at desc limit 1")
        .fetch_one(app.db().read())
        .await
        .expect("a round");
    let (topic,): (String,) = sqlx::query_as("select id from topics where status = 'open' limit 1")
        .fetch_one(app.db().read())
        .await
        .expect("an open topic");
    // A funding goal on the open topic, a month's note and amounts shown: the
    // transparency page, the topic page and the donation form with all they show.
    let topic_id: patronage::domain::TopicId = topic.parse().expect("a topic id");
    let accepted = patronage::services::goals::currencies();
    let goal = patronage::domain::GoalAmount::parse("2000", "EUR", accepted).expect("a goal");
    let actor = patronage::services::audit::Actor::cli();
    patronage::services::goals::set_goal(&app.ctx, &actor, topic_id, goal).await.expect("goal set");
    patronage::services::transparency::set_show_amounts(&app.ctx, &actor, true).await.expect("amounts shown");
    sqlx::query("insert into transparency_notes (month, body, updated_at) values ($1, $2, 0)")
        .bind(app.ctx.zone.month_of(app.clock().now()).key())
        .bind("Two reporters' time on the tram investigation, and the court fees.")
        .execute(app.db().read())
        .await
        .expect("a note");
    let pages = vec![
        ("landing", "/".to_string()),
        ("transparency", "/transparency".to_string()),
        ("donate-toward", format!("/donate?topic={topic}")),
        ("join", "/join".to_string()),
        ("sign-in", "/signin".to_string()),
        ("sign-in-sent", "/signin/sent".to_string()),
        ("patron", "/patron".to_string()),
        ("donate", "/donate".to_string()),
        ("topics", "/topics".to_string()),
        ("topic", format!("/topics/{topic}")),
        ("rounds", "/rounds".to_string()),
        ("round", format!("/rounds/{round}")),
        ("covered", "/covered".to_string()),
        ("correction", "/corrections/new?url=https://news.example/2026/tram".to_string()),
        ("correction-refused", "/corrections/new?url=https://elsewhere.example/".to_string()),
        ("correction-thanks", "/corrections/thanks?url=https://news.example/2026/tram&reply=1".to_string()),
        (
            "correction-dialog",
            "/embed/correction?url=https://news.example/2026/tram&quote=The%20tram%20opened%20in%201912.".to_string(),
        ),
        ("correction-dialog-thanks", "/embed/correction/thanks?reply=1".to_string()),
    ];
    (app, round, pages)
}

/// The pages a signed-in patron has on top of those.
fn member_pages() -> Vec<(&'static str, String)> {
    vec![
        ("member-topics", "/topics".to_string()),
        ("account", "/account".to_string()),
        ("commissioned", "/account/commissioned".to_string()),
        ("suggest", "/topics/suggest".to_string()),
        ("cancel", "/account/cancel".to_string()),
    ]
}

async fn check_all(app: &TestApp, browser: &Browser, lang: &str, pages: &[(&str, String)]) -> Vec<String> {
    let mut problems = Vec::new();
    // The demo content has a Ukrainian version of every text: none of its English shows.
    let english = demo_data::english_texts_with_ukrainian_versions();
    for (name, path) in pages {
        browser.goto(&format!("{}{path}", app.base_url)).await;
        if lang.starts_with("uk") {
            let text = browser.text().await;
            for e in english.iter().filter(|e| text.contains(e.as_str())) {
                problems.push(format!("{path} ({lang}): English content {e:?}"));
            }
        }
        for width in [PHONE_NARROW, PHONE, DESKTOP] {
            browser.set_width(width).await;
            if width != PHONE_NARROW {
                browser.screenshot(&screenshot_path(&format!("reader/{name}-{lang}-{width}"))).await;
            }
            // axe-core's rules (contrast, names, structure) do not change with the width.
            for problem in browser.check_page(width == PHONE).await.problems {
                problems.push(format!("{path} ({lang}, {width} px): {problem}"));
            }
        }
    }
    problems
}

#[tokio::test]
async fn every_reader_page_fits_a_phone_and_passes_axe_in_english() {
    check_reader_pages("en").await;
}

#[tokio::test]
async fn every_reader_page_fits_a_phone_and_passes_axe_in_ukrainian() {
    check_reader_pages("uk").await;
}

async fn check_reader_pages(lang: &str) {
    let (app, round, pages) = demo_newsroom().await;
    let Some(browser) = Browser::open(lang).await else { return };
    let mut problems = check_all(&app, &browser, lang, &pages).await;

    // Signed in as the demo patron (the session made through the real sign-in),
    // whose saved language is this one, and who voted for the open round's
    // longest title: the ballot shows a vote cast (and its withdraw button)
    // differently.
    sqlx::query("update members set locale = $1 where email = $2")
        .bind(lang)
        .bind(DEMO_PATRON)
        .execute(&mut *app.db().write().await.expect("a write"))
        .await
        .expect("language saved");
    let http = app.new_browser();
    app.sign_in_member(&http, DEMO_PATRON).await;
    let (voted,): (String,) = sqlx::query_as(
        "select t.id from round_topics rt join topics t on t.id = rt.topic_id where rt.round_id = $1
         order by length(t.title) desc limit 1",
    )
    .bind(&round)
    .fetch_one(app.db().read())
    .await
    .expect("a topic on the ballot");
    crate::helpers::voting::vote(&http, &round, &voted).await.assert_status(303);
    let cookie = http.cookie("patronage_session").expect("a session cookie");
    browser.goto(&app.base_url).await;
    browser.add_cookie("patronage_session", &cookie).await;
    problems.extend(check_all(&app, &browser, &format!("{lang}-member"), &member_pages()).await);
    // Receipts: the list, the demo patron's latest receipt and this year's statement.
    let (receipt,): (String,) = sqlx::query_as(
        "select p.id from payments p join members m on m.id = p.member_id
         where m.email = $1 and p.kind in ('subscription', 'donation') order by p.occurred_at desc limit 1",
    )
    .bind(DEMO_PATRON)
    .fetch_one(app.db().read())
    .await
    .expect("a payment of the demo patron");
    let year = app.ctx.zone.month_of(app.clock().now()).year();
    let receipt_pages = [
        ("receipts", "/account/receipts".to_string()),
        ("receipt", format!("/account/receipts/{receipt}")),
        ("statement", format!("/account/statement/{year}")),
    ];
    problems.extend(check_all(&app, &browser, &format!("{lang}-member"), &receipt_pages).await);
    // The account page's new states: paused (and when payments resume), then
    // cancelled at the period's end (with the way back).
    let (sub,): (String,) = sqlx::query_as(
        "select s.id from subscriptions s join members m on m.id = s.member_id
         where m.email = $1 and s.status = 'active' order by s.created_at desc limit 1",
    )
    .bind(DEMO_PATRON)
    .fetch_one(app.db().read())
    .await
    .expect("the demo patron's subscription");
    http.post_form("/account/pause", &[("subscription", &sub), ("months", "2")]).send().await.assert_status(303);
    problems
        .extend(check_all(&app, &browser, &format!("{lang}-paused"), &[("account-paused", "/account".into())]).await);
    http.post_form("/account/resume", &[("subscription", &sub)]).send().await.assert_status(303);
    http.post_form("/account/cancel", &[("subscription", &sub), ("reason", "other")]).send().await.assert_status(303);
    problems
        .extend(check_all(&app, &browser, &format!("{lang}-ending"), &[("account-ending", "/account".into())]).await);
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}
