//! The two journeys of the site in a real browser, in English and in Ukrainian
//! (one test body, the language a parameter):
//!
//! - a reader opens the landing page, joins, signs in with the emailed link,
//!   becomes a patron through the demo checkout, votes, sees the stories they
//!   helped commission once staff covered one, and cancels in the demo portal
//!   (its confirmation with the cancel survey, and the pause offer) — all of it
//!   with the keyboard only (Tab, Enter, Space; typing into fields), the way
//!   there a browser's address bar aside;
//! - a staff member signs in, approves a reader's suggestion, runs a round with
//!   it to its close, marks the winner covered and sees it on the dashboard.
//!
//! Every page on the way is screenshotted at 390 and 1280 px
//! (`target/screenshots/journeys/<journey>-<lang>/NN-<page>-<width>.png`) and
//! run through axe-core: any violation fails the test, not only the serious
//! and critical ones. What axe-core found on each page is listed in `axe.txt`
//! beside the screenshots, with the journey's wall time.
use std::time::Instant;

use patronage::clock::HOUR;
use patronage::domain::Role;
use serde_json::{Value, json};

use crate::helpers::browser::{Browser, DESKTOP, PHONE, screenshot_path};
use crate::helpers::voting::{demo_patron, open_round, open_topic, staff, suggest, vote, vote_count};
use crate::helpers::{STAFF_PASSWORD, TestApp};

const TAB: &str = "\u{E004}";
const ENTER: &str = "\u{E007}";
const SPACE: &str = "\u{E00D}";
const BACKSPACE: char = '\u{E003}';

/// The texts a journey uses, in the reader's language.
struct Texts {
    topics: [&'static str; 2],
    name: &'static str,
    comment: &'static str,
}

fn texts(lang: &str) -> Texts {
    if lang == "uk" {
        Texts {
            topics: ["Хто володіє порожніми крамницями?", "Шкільні обіди"],
            name: "Олена",
            comment: "Забагато підписок цього року.",
        }
    } else {
        Texts {
            topics: ["Who owns the empty shops?", "School meals"],
            name: "Olena",
            comment: "Too many subscriptions this year.",
        }
    }
}

/// One journey's walk through its pages: each page it stops at is
/// screenshotted at a phone's and a desktop's width and checked; what was wrong
/// is collected, so one run lists every page's problems.
struct Walk<'b> {
    browser: &'b Browser,
    base_url: String,
    name: String,
    /// Reader pages are also held to the phone layout rules (no sideways
    /// scrolling, 44 px tap targets); staff pages are built for desktops.
    reader: bool,
    step: usize,
    problems: Vec<String>,
    axe_found: Vec<String>,
    started: Instant,
}

impl<'b> Walk<'b> {
    fn new(app: &TestApp, browser: &'b Browser, journey: &str, lang: &str) -> Walk<'b> {
        Walk {
            browser,
            base_url: app.base_url.clone(),
            name: format!("{journey}-{lang}"),
            reader: journey == "reader",
            step: 0,
            problems: Vec::new(),
            axe_found: Vec::new(),
            started: Instant::now(),
        }
    }

    async fn path(&self) -> String {
        self.browser.current_url().await.trim_start_matches(&self.base_url).to_string()
    }

    /// Looks at the open page: screenshots at both widths, the layout rules for
    /// reader pages, axe-core, and a label for every form control.
    async fn look(&mut self, page: &str) {
        self.step += 1;
        let page = format!("{:02}-{page}", self.step);
        let path = self.path().await;
        let text = self.browser.text().await;
        assert!(!text.contains("Something went wrong"), "{page} ({path}) is an error page: {text}");
        for width in [PHONE, DESKTOP] {
            self.browser.set_width(width).await;
            self.browser.screenshot(&screenshot_path(&format!("journeys/{}/{page}-{width}", self.name))).await;
            if self.reader {
                for problem in self.browser.check_page(false).await.problems {
                    self.problems.push(format!("{page} {path} at {width} px: {problem}"));
                }
            }
        }
        let violations = self.browser.axe().await;
        // Not only the serious and critical: these pages have no axe-core finding at all.
        for v in &violations {
            self.problems.push(format!("{page} {path}: axe {v}"));
        }
        let found: Vec<String> = violations.iter().map(|v| format!("\n    {v}")).collect();
        let found = if found.is_empty() { " none".to_string() } else { found.concat() };
        let address = path.split('?').next().unwrap_or_default();
        self.axe_found.push(format!("{page} {address}:{found}"));
        let unlabelled = self
            .browser
            .run(
                "return [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
                   .filter(e => e.labels.length === 0 && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby'))
                   .map(e => e.tagName.toLowerCase() + '[name=' + e.name + ']');",
                json!([]),
            )
            .await;
        if unlabelled.as_array().is_some_and(|u| !u.is_empty()) {
            self.problems.push(format!("{page} {path}: form controls without a label: {unlabelled}"));
        }
    }

    /// The field `id` is marked invalid and described by its error message.
    async fn assert_error_tied(&self, id: &str) {
        let tied = self
            .browser
            .run(
                "const field = document.getElementById(arguments[0]);
                 const described = (field.getAttribute('aria-describedby') || '').split(/\\s+/)
                   .map(id => document.getElementById(id)).filter(e => e && e.classList.contains('error'));
                 return { invalid: field.getAttribute('aria-invalid'), error: described.map(e => e.innerText).join(' ') };",
                json!([id]),
            )
            .await;
        let path = self.path().await;
        assert_eq!(tied["invalid"], json!("true"), "{path}: #{id} is marked invalid: {tied}");
        assert!(
            tied["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{path}: #{id} is described by its error: {tied}"
        );
    }

    /// Opens `path` as a person would from the address bar.
    async fn open(&mut self, path: &str) {
        self.browser.goto(&format!("{}{path}", self.base_url)).await;
    }

    /// Presses Tab until an element matching `css` has the focus (unless it has
    /// it already), checking that every element focused on the way shows it.
    async fn tab_to(&mut self, css: &str) {
        if focused(self.browser, css).await["matches"] == json!(true) {
            return;
        }
        for _ in 0..150 {
            self.browser.press(TAB).await;
            let focused = focused(self.browser, css).await;
            if focused["visible"] != json!(true) {
                let path = self.path().await;
                self.problems.push(format!("{path}: focus is not visible on {}", focused["what"]));
            }
            if focused["matches"] == json!(true) {
                return;
            }
        }
        panic!("{}: Tab never reached {css}", self.path().await);
    }

    /// Presses `key` on what has the focus and waits for the page it leads to.
    async fn press_and_wait(&self, key: &str) {
        self.browser.mark_page().await;
        self.browser.press(key).await;
        self.browser.wait_for_next_page().await;
    }

    /// Clicks the first element matching `css` and waits for the page it leads to.
    async fn click_and_wait(&self, css: &str) {
        self.browser.mark_page().await;
        self.browser.click(css).await;
        self.browser.wait_for_next_page().await;
    }

    /// The first Tab on a fresh page reaches the skip link, which shows it has
    /// the focus; Enter on it moves the focus to the main content, from where
    /// the next Tab goes on.
    async fn skip_to_main(&mut self) {
        let path = self.path().await;
        self.browser.press(TAB).await;
        let first = focused(self.browser, "a.skip[href='#main']").await;
        assert_eq!(first["matches"], json!(true), "{path}: the first Tab stop is the skip link, not {}", first["what"]);
        assert_eq!(first["visible"], json!(true), "{path}: the focused skip link is visible");
        let shown = self
            .browser
            .run(
                "const r = document.activeElement.getBoundingClientRect();
                 return r.left >= 0 && r.top >= 0 && r.width > 0 && r.right <= window.innerWidth;",
                json!([]),
            )
            .await;
        assert_eq!(shown, json!(true), "{path}: the focused skip link is on the screen");
        self.browser.press(ENTER).await;
        let moved = self.browser.run("return document.activeElement.id;", json!([])).await;
        assert_eq!(moved, json!("main"), "{path}: the skip link moves the focus to the main content");
        self.browser.press(TAB).await;
        let next = focused(self.browser, "main *").await;
        assert_eq!(next["matches"], json!(true), "{path}: after the skip link, Tab goes on inside the main content");
    }

    /// Fails the test with every problem found, and writes what axe-core found
    /// on each page and how long the journey took.
    fn finish(self) {
        let seconds = self.started.elapsed().as_secs_f64();
        let report = format!(
            "{} in {seconds:.1} s\naxe-core violations per page (any impact):\n{}\n",
            self.name,
            self.axe_found.join("\n")
        );
        let file = screenshot_path(&format!("journeys/{}/axe", self.name)).with_extension("txt");
        std::fs::write(&file, report).expect("the axe report is written");
        assert!(
            self.problems.is_empty(),
            "{}: {} problems:\n{}",
            self.name,
            self.problems.len(),
            self.problems.join("\n")
        );
    }
}

/// What has the focus: a description, whether the page marks it (an outline or
/// a box shadow), and whether it matches `css`.
async fn focused(browser: &Browser, css: &str) -> Value {
    browser
        .run(
            "const e = document.activeElement;
             const s = getComputedStyle(e);
             const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
             const what = e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
               + ' \"' + (e.innerText || e.value || e.name || '').trim().slice(0, 40) + '\"';
             return { what, visible: outline || s.boxShadow !== 'none', matches: e.matches(arguments[0]) };",
            json!([css]),
        )
        .await
}

#[tokio::test]
async fn a_reader_joins_becomes_a_patron_votes_and_cancels_by_keyboard_in_english() {
    reader_journey("en").await;
}

#[tokio::test]
async fn a_reader_joins_becomes_a_patron_votes_and_cancels_by_keyboard_in_ukrainian() {
    reader_journey("uk").await;
}

async fn reader_journey(lang: &str) {
    let app = TestApp::spawn().await;
    let Some(browser) = Browser::open(lang).await else { return };
    let texts = texts(lang);
    // An open round on two topics, set up by an editor as the voting tests do.
    let editor = staff(&app, "editor@news.test", Role::Editor).await;
    let topics = [open_topic(&editor, texts.topics[0]).await, open_topic(&editor, texts.topics[1]).await];
    let round = open_round(&app, &editor, &topics, 2, false).await;
    let email = format!("olena.{lang}@example.org");

    let mut walk = Walk::new(&app, &browser, "reader", lang);
    // First a try at paying with a mistyped address: the error is tied to its field.
    walk.open("/patron").await;
    walk.skip_to_main().await;
    walk.tab_to("main input[name=price]").await;
    browser.press(SPACE).await;
    walk.tab_to("#patron-email").await;
    browser.type_keys("olena.example.org").await;
    walk.press_and_wait(ENTER).await;
    walk.look("patron-error").await;
    walk.assert_error_tied("patron-email").await;
    assert_eq!(app.member_count().await, 0, "nothing stored for a bad address");

    walk.open("/").await;
    walk.look("landing").await;
    // Joining with a mistyped address: the error is tied to its field.
    walk.skip_to_main().await;
    walk.tab_to("#join #join-email").await;
    browser.type_keys("olena.example.org").await;
    walk.tab_to("#join #join-name").await;
    browser.type_keys(texts.name).await;
    walk.tab_to("#join button.primary").await;
    walk.press_and_wait(ENTER).await;
    assert_eq!(walk.path().await, "/join");
    walk.look("join-error").await;
    walk.assert_error_tied("join-email").await;
    assert_eq!(app.member_count().await, 0, "nothing stored for a bad address");
    walk.skip_to_main().await;
    walk.tab_to("#join-email").await;
    let clear: String = std::iter::repeat_n(BACKSPACE, "olena.example.org".len()).collect();
    browser.type_keys(&format!("{clear}{email}")).await;
    walk.press_and_wait(ENTER).await;
    assert_eq!(walk.path().await, "/signin/sent");
    walk.look("sign-in-sent").await;

    // The emailed link, from the real SMTP sink.
    let mail = app.deliver_mail().await;
    let link = mail
        .iter()
        .find(|m| m.to.contains(&email))
        .and_then(|m| m.first_link_containing("/signin/confirm"))
        .expect("a sign-in link was emailed");
    browser.goto(&link).await;
    walk.look("sign-in-confirm").await;
    walk.tab_to("main button.primary").await;
    walk.press_and_wait(ENTER).await;
    assert_eq!(walk.path().await, "/account");
    walk.look("account-free").await;

    // A patron through the demo checkout: the first price, chosen with Space.
    walk.open("/patron").await;
    walk.look("patron").await;
    walk.tab_to("main input[name=price]").await;
    browser.press(SPACE).await;
    walk.tab_to("main form[action='/patron'] button.primary").await;
    walk.press_and_wait(ENTER).await;
    assert!(walk.path().await.starts_with("/demo/checkout?"), "{}", walk.path().await);
    walk.look("demo-checkout").await;
    walk.tab_to("button[value=succeed]").await;
    walk.press_and_wait(ENTER).await;
    assert_eq!(walk.path().await, "/patron/welcome");
    walk.look("welcome").await;
    app.deliver_mail().await;

    // A vote on the ballot, with Space.
    walk.open(&format!("/rounds/{round}")).await;
    walk.look("ballot").await;
    walk.tab_to(&format!("#topic-{} form[action$='/vote'] button", topics[0])).await;
    walk.press_and_wait(SPACE).await;
    assert_eq!(vote_count(&app, &round).await, 1, "the vote is stored");
    walk.look("ballot-voted").await;

    // Staff cover the topic; the reader sees it among the stories they helped commission.
    editor
        .post_form(
            &format!("/admin/topics/{}/cover", topics[0]),
            &[("articles", "https://news.example/2026/shops The empty shops")],
        )
        .send()
        .await
        .assert_status(303);
    app.deliver_mail().await;
    walk.open("/account/commissioned").await;
    let text = browser.text().await;
    assert!(text.contains(texts.topics[0]) && text.contains("The empty shops"), "{text}");
    assert!(!text.contains(texts.topics[1]), "only what the reader voted for: {text}");
    walk.look("commissioned").await;

    // Cancelling: the offer page (a pause, the survey), then the demo portal.
    walk.open("/account").await;
    walk.look("account-patron").await;
    walk.tab_to("a[href='/account/cancel']").await;
    walk.press_and_wait(ENTER).await;
    assert_eq!(walk.path().await, "/account/cancel");
    walk.look("cancel-offer").await;
    walk.open("/account").await;
    walk.tab_to("form[action='/account/billing'] button").await;
    walk.press_and_wait(ENTER).await;
    assert_eq!(walk.path().await, "/demo/portal");
    walk.look("demo-portal").await;
    walk.tab_to("button[value=cancel_at_period_end]").await;
    walk.press_and_wait(ENTER).await;
    let text = browser.text().await;
    assert!(browser.run("return !!document.querySelector('#pause-title');", json!([])).await == json!(true), "{text}");
    walk.look("demo-portal-confirm").await;
    walk.tab_to("#cancel-comment").await;
    browser.type_keys(texts.comment).await;
    walk.tab_to("button[name=confirm]").await;
    walk.press_and_wait(ENTER).await;
    assert_eq!(walk.path().await, "/account");
    walk.look("account-ending").await;
    let (ending, comment): (i64, String) = sqlx::query_as(
        "select s.cancel_at_period_end, c.comment from subscriptions s join cancel_reasons c on c.subscription_id = s.id",
    )
    .fetch_one(app.db().read())
    .await
    .expect("the cancelled subscription and its survey");
    assert_eq!(ending, 1, "the patronage ends at the period's end");
    assert_eq!(comment, texts.comment);
    app.deliver_mail().await;
    walk.finish();
}

#[tokio::test]
async fn staff_approve_a_suggestion_run_its_round_to_covered_and_see_it_on_the_dashboard_in_english() {
    staff_journey("en").await;
}

#[tokio::test]
async fn staff_approve_a_suggestion_run_its_round_to_covered_and_see_it_on_the_dashboard_in_ukrainian() {
    staff_journey("uk").await;
}

/// Staff pages are in English whatever the browser asks for; the reader's
/// suggestion and the topics are in the journey's language.
async fn staff_journey(lang: &str) {
    let app = TestApp::spawn().await;
    let Some(browser) = Browser::open(lang).await else { return };
    let texts = texts(lang);
    // A reader's suggestion, and an open topic staff added, as the topic tests do.
    let reader = app.new_browser();
    app.sign_in_member(&reader, "reader@example.org").await;
    let topic = suggest(&reader, texts.topics[0]).await;
    let editor_email = "editor@news.test";
    let other = open_topic(&staff(&app, editor_email, Role::Editor).await, texts.topics[1]).await;

    let mut walk = Walk::new(&app, &browser, "staff", lang);
    walk.open("/admin/login").await;
    walk.look("sign-in").await;
    browser.type_into("#staff-email", editor_email).await;
    browser.type_into("#staff-password", STAFF_PASSWORD).await;
    walk.click_and_wait("main button.primary").await;
    assert_eq!(walk.path().await, "/admin");
    walk.look("dashboard-start").await;

    // Moderation: the queue, the suggestion, approved.
    walk.open("/admin/topics?status=suggested").await;
    walk.look("moderation-queue").await;
    walk.click_and_wait(&format!("a[href='/admin/topics/{topic}']")).await;
    walk.look("suggestion").await;
    walk.click_and_wait("form[action$='/approve'] button").await;
    let (status,): (String,) = sqlx::query_as("select status from topics where id = $1")
        .bind(&topic)
        .fetch_one(app.db().read())
        .await
        .expect("the topic");
    assert_eq!(status, "open");
    walk.look("approved").await;

    // A round with both topics, closing in two hours.
    walk.open("/admin/rounds").await;
    walk.look("rounds").await;
    browser.type_into("#r-title", "What should we investigate next?").await;
    let closes = patronage::clock::format_form_datetime(app.clock().now() + 2 * HOUR);
    browser.run("document.getElementById('r-closes').value = arguments[0];", json!([closes])).await;
    for t in [&topic, &other] {
        browser.click(&format!("input[name='topic_{t}']")).await;
    }
    walk.click_and_wait("form[action='/admin/rounds'] button.primary").await;
    let path = walk.path().await;
    let round = path.strip_prefix("/admin/rounds/").unwrap_or_else(|| panic!("to the new round, not {path}"));
    let round = round.to_string();
    walk.look("round-open").await;

    // Members vote; the round closes when its time comes.
    for (patron, votes) in [("ann@example.org", vec![&topic, &other]), ("bob@example.org", vec![&topic])] {
        let browser = demo_patron(&app, patron, "supporter").await;
        for t in votes {
            vote(&browser, &round, t).await.assert_status(303);
        }
    }
    app.advance_clock(3 * HOUR);
    app.drain_jobs().await;
    walk.open(&format!("/admin/rounds/{round}")).await;
    let text = browser.text().await;
    assert!(text.contains("Final ranking") && text.contains("closed"), "{text}");
    walk.look("round-closed").await;

    // The winner covered.
    walk.open(&format!("/admin/topics/{topic}")).await;
    walk.look("winner").await;
    browser.type_into("#c-articles", "https://news.example/2026/shops The empty shops").await;
    walk.click_and_wait("form[action$='/cover'] button").await;
    walk.look("covered").await;
    app.deliver_mail().await;

    walk.open("/admin").await;
    let covered = browser
        .run(
            "const row = [...document.querySelectorAll('tbody tr')].find(r => r.innerText.includes(arguments[0]));
             return row ? [...row.cells].map(c => c.innerText.trim()) : null;",
            json!([texts.topics[0]]),
        )
        .await;
    assert_eq!(covered[2], json!("2"), "the dashboard shows the covered topic and its two voters: {covered}");
    walk.look("dashboard").await;
    walk.finish();
}
