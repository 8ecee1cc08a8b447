//! Updates to patrons (who receives them, the preview, one send, each member's
//! language, the transparency page), the one-click unsubscribe with its
//! List-Unsubscribe headers, and the anniversary email.
use crate::helpers::voting::{open_round, open_topic, pay_demo, staff, vote};
use crate::helpers::{ReceivedMail, TestApp, TestClient, concurrently};
use patronage::clock::{DAY, HOUR};
use patronage::domain::Role;

/// A new patron of `tier` (monthly, EUR) who chose `lang`, first payment cleared, signed in.
async fn patron(app: &TestApp, email: &str, tier: &str, lang: &str) -> TestClient {
    let price = app.price_id(tier, "month", "eur").await;
    let browser = app.new_browser();
    let start = browser.post_form("/patron", &[("price", &price), ("email", email), ("lang", lang)]).send().await;
    pay_demo(&browser, &start, "succeed").await.assert_status(303);
    app.deliver_mail().await;
    browser
}

/// A free member, signed in.
async fn free_member(app: &TestApp, email: &str) -> TestClient {
    let browser = app.new_browser();
    app.sign_in_member(&browser, email).await;
    browser
}

async fn exec(app: &TestApp, sql: &'static str, email: &str, at: i64) {
    let mut tx = app.db().transaction().await.expect("a transaction");
    sqlx::query(sql).bind(email).bind(at).execute(&mut *tx).await.expect("the change");
    tx.commit().await.expect("committed");
}

/// A patron whose renewal failed `ago` before now (within or past the grace).
async fn past_due(app: &TestApp, email: &str, ago: i64) {
    let since = app.clock().now() - ago;
    exec(
        app,
        "update subscriptions set status = 'past_due', past_due_since = $2
         where member_id = (select id from members where email = $1)",
        email,
        since,
    )
    .await;
}

/// A complimentary membership until `until`.
async fn comp(app: &TestApp, email: &str, until: i64) {
    exec(app, "update members set comped_until = $2 where email = $1", email, until).await;
}

/// Writes a draft through the staff page; returns its id.
async fn draft(staff: &TestClient, fields: &[(&str, &str)]) -> String {
    let r = staff.post_form("/admin/updates", fields).send().await;
    r.assert_status(303);
    r.location().expect("redirect to the preview").trim_start_matches("/admin/updates/").to_string()
}

/// The number of recipients the preview page shows.
async fn previewed_count(staff: &TestClient, id: &str) -> i64 {
    let page = staff.get(&format!("/admin/updates/{id}")).send().await;
    page.assert_status(200);
    let start =
        page.body.find("id=\"recipient-count\">").expect("the count is shown") + "id=\"recipient-count\">".len();
    let end = page.body[start..].find('<').expect("end of the count") + start;
    page.body[start..end].parse().expect("a number")
}

fn updates_sent(mail: &[ReceivedMail], subject_prefix: &str) -> Vec<ReceivedMail> {
    mail.iter().filter(|m| m.subject().is_some_and(|s| s.starts_with(subject_prefix))).cloned().collect()
}

fn recipients(mail: &[ReceivedMail]) -> Vec<String> {
    let mut to: Vec<String> = mail.iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    to
}

const EN: &str = "What your support paid for in March";
const UK: &str = "На що пішла ваша підтримка в березні";

fn update_fields<'a>(audience: &'a str, tier: &'a str, topic: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("subject_en", EN),
        ("body_en", "Your money paid for <b>three</b> months of court reporting.\n\nThank you."),
        ("subject_uk", UK),
        ("body_uk", "Ваші гроші оплатили три місяці судових репортажів.\n\nДякуємо."),
        ("audience", audience),
        ("tier", tier),
        ("topic", topic),
    ]
}

/// Each audience counts whom it should (patrons: paying, past due within the
/// grace, complimentary; a tier's paying patrons; a topic's voters; every
/// member), never a member who unsubscribed; the preview's count is what is
/// sent, one email each in the member's language, with the unsubscribe headers;
/// a second send is refused and sends nothing.
#[tokio::test]
async fn audiences_count_the_right_members_and_the_preview_count_is_what_is_sent() {
    let app = TestApp::spawn().await;
    let editor = staff(&app, "editor@news.test", Role::Editor).await;
    let topic = open_topic(&editor, "Court reporting").await;
    let round = open_round(&app, &editor, std::slice::from_ref(&topic), 3, false).await;

    let reader = patron(&app, "reader@example.org", "reader", "en").await;
    let supporter = patron(&app, "supporter@example.org", "supporter", "uk").await;
    patron(&app, "late@example.org", "reader", "en").await;
    past_due(&app, "late@example.org", DAY).await;
    patron(&app, "lapsed@example.org", "reader", "en").await;
    past_due(&app, "lapsed@example.org", 30 * DAY).await;
    free_member(&app, "comped@example.org").await;
    comp(&app, "comped@example.org", app.clock().now() + 30 * DAY).await;
    free_member(&app, "free@example.org").await;
    let quiet = patron(&app, "quiet@example.org", "reader", "en").await;
    quiet.post_form("/account/updates", &[("updates", "off")]).send().await.assert_status(303);
    vote(&reader, &round, &topic).await.assert_status(303);
    vote(&supporter, &round, &topic).await.assert_status(303);
    vote(&quiet, &round, &topic).await.assert_status(303);

    let reader_tier = app.tier_id("reader").await;
    let cases = [
        ("patrons", "", "", 4),
        ("tier", reader_tier.as_str(), "", 2),
        ("voters", "", topic.as_str(), 2),
        ("members", "", "", 6),
    ];
    let mut drafts = Vec::new();
    for (audience, tier, topic, expected) in cases {
        let id = draft(&editor, &update_fields(audience, tier, topic)).await;
        assert_eq!(previewed_count(&editor, &id).await, expected, "{audience}");
        drafts.push(id);
    }

    // The preview shows the email in each language, everything escaped.
    let page = editor.get(&format!("/admin/updates/{}", drafts[0])).send().await;
    page.assert_contains(&format!("/admin/updates/{}/preview/en", drafts[0]))
        .assert_contains(&format!("/admin/updates/{}/preview/uk", drafts[0]));
    let en = editor.get(&format!("/admin/updates/{}/preview/en", drafts[0])).send().await;
    en.assert_status(200).assert_contains("&lt;b&gt;three&lt;/b&gt;").assert_not_contains("<b>three");
    editor.get(&format!("/admin/updates/{}/preview/uk", drafts[0])).send().await.assert_contains("судових репортажів");

    // Send to all patrons: the four previewed, in their language, nothing else.
    let before = app.smtp.count();
    let sent = editor.post_form(&format!("/admin/updates/{}/send", drafts[0]), &[("expected", "4")]).send().await;
    sent.assert_status(303);
    let mail = app.deliver_mail().await;
    assert_eq!(app.smtp.count() - before, 4);
    let en_mail = updates_sent(&mail, EN);
    let uk_mail = updates_sent(&mail, UK);
    assert_eq!(recipients(&en_mail), ["comped@example.org", "late@example.org", "reader@example.org"]);
    assert_eq!(recipients(&uk_mail), ["supporter@example.org"]);
    assert!(uk_mail[0].text_body().contains("Дякуємо."));
    for m in en_mail.iter().chain(&uk_mail) {
        let link = m.header("List-Unsubscribe").expect("a List-Unsubscribe header");
        assert!(link.starts_with("<http") && link.contains("/updates/unsubscribe?token=") && link.ends_with('>'));
        assert_eq!(m.header("List-Unsubscribe-Post").as_deref(), Some("List-Unsubscribe=One-Click"));
        assert!(m.text_body().contains(&link[1..link.len() - 1]), "the body carries the same link");
    }
    editor
        .get(&format!("/admin/updates/{}", drafts[0]))
        .send()
        .await
        .assert_contains("to <strong>4</strong> recipients");

    // Again (a retry, a second click): refused, nothing more sent.
    let again = editor.post_form(&format!("/admin/updates/{}/send", drafts[0]), &[("expected", "4")]).send().await;
    again.assert_status(409).assert_contains("sent already");
    assert!(app.deliver_mail().await.is_empty());

    // An audience that changed since the preview is refused: nothing sent, nothing marked.
    let changed = editor.post_form(&format!("/admin/updates/{}/send", drafts[1]), &[("expected", "3")]).send().await;
    changed.assert_status(409).assert_contains("would now go to 2 recipients");
    assert!(app.deliver_mail().await.is_empty());
    editor
        .post_form(&format!("/admin/updates/{}/send", drafts[1]), &[("expected", "2")])
        .send()
        .await
        .assert_status(303);
    let tier_mail = app.deliver_mail().await;
    assert_eq!(recipients(&tier_mail), ["late@example.org", "reader@example.org"]);
}

/// Two staff (or a double click) sending the same update at once: one send.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sending_one_update_twice_at_once_sends_it_once() {
    let app = TestApp::spawn().await;
    let editor = staff(&app, "editor@news.test", Role::Editor).await;
    let admin = staff(&app, "admin@news.test", Role::Admin).await;
    for i in 0..3 {
        patron(&app, &format!("p{i}@example.org"), "reader", "en").await;
    }
    let id = draft(&editor, &update_fields("patrons", "", "")).await;
    let path = format!("/admin/updates/{id}/send");
    let statuses = concurrently(4, async |i| {
        let who = if i % 2 == 0 { &editor } else { &admin };
        who.post_form(&path, &[("expected", "3")]).send().await.status
    })
    .await;
    assert_eq!(statuses.iter().filter(|s| **s == 303).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 3, "{statuses:?}");
    assert_eq!(updates_sent(&app.deliver_mail().await, EN).len(), 3);
    assert_eq!(app.count("select count(*) from email_outbox where template = 'update'").await, 3);
}

/// Two patrons (reader@ and other@), and an update to all patrons sent (queued,
/// not delivered): the app, the editor who sent it and the reader's browser.
async fn update_sent_to_two_patrons() -> (TestApp, TestClient, TestClient) {
    let app = TestApp::spawn().await;
    let editor = staff(&app, "editor@news.test", Role::Editor).await;
    let reader = patron(&app, "reader@example.org", "reader", "en").await;
    patron(&app, "other@example.org", "reader", "en").await;
    let id = draft(&editor, &update_fields("patrons", "", "")).await;
    editor.post_form(&format!("/admin/updates/{id}/send"), &[("expected", "2")]).send().await.assert_status(303);
    (app, editor, reader)
}

/// The one-click link: a POST as a mail provider makes it (RFC 8058, no
/// browser headers) unsubscribes once signed; a tampered one changes nothing;
/// the GET page asks first. The account page shows it and turns updates back on.
#[tokio::test]
async fn the_signed_one_click_link_unsubscribes_and_a_tampered_one_changes_nothing() {
    let (app, editor, reader) = update_sent_to_two_patrons().await;
    let mail = app.deliver_mail().await;
    let mine = mail.iter().find(|m| m.to == ["reader@example.org"]).expect("the reader's update");
    let header = mine.header("List-Unsubscribe").expect("the header");
    let link = header.trim_start_matches('<').trim_end_matches('>').to_string();
    let path = link.trim_start_matches(&app.base_url).to_string();

    // Tampered: the last character of the signature changed.
    let mut tampered = path.clone();
    let last = tampered.pop().expect("a character");
    tampered.push(if last == '0' { '1' } else { '0' });
    let provider = app.new_browser();
    let one_click = |p: String| {
        provider
            .post_raw(&p, "application/x-www-form-urlencoded", b"List-Unsubscribe=One-Click".to_vec())
            .without_default("origin")
            .without_default("sec-fetch-site")
    };
    one_click(tampered.clone()).send().await.assert_status(400).assert_contains("not valid");
    app.new_browser().get(&tampered).send().await.assert_status(400).assert_contains("Nothing was changed");
    let forged = path.replace(
        &app.member_id("reader@example.org").await.to_string(),
        &app.member_id("other@example.org").await.to_string(),
    );
    one_click(forged).send().await.assert_status(400);
    assert_eq!(app.count("select count(*) from members where updates_unsubscribed_at is not null").await, 0);

    // The page asks first; the POST unsubscribes (twice is fine).
    app.new_browser().get(&path).send().await.assert_status(200).assert_contains("Stop updates");
    assert_eq!(app.count("select count(*) from members where updates_unsubscribed_at is not null").await, 0);
    one_click(path.clone()).send().await.assert_status(200).assert_contains("Your membership is unchanged");
    one_click(path.clone()).send().await.assert_status(200);
    let unsubscribed: Vec<(String,)> =
        sqlx::query_as("select email from members where updates_unsubscribed_at is not null")
            .fetch_all(app.db().read())
            .await
            .expect("query");
    assert_eq!(unsubscribed, [("reader@example.org".to_string(),)]);

    // Still a patron; the account page says updates are off, and turns them back on.
    reader.get("/account").send().await.assert_contains("You turned updates off on").assert_contains("Patron");
    let export = reader.get("/account/export").send().await.json();
    assert!(export["member"]["updates_off_since"].is_string(), "{export}");
    let second = draft(&editor, &update_fields("patrons", "", "")).await;
    assert_eq!(previewed_count(&editor, &second).await, 1);
    reader.post_form("/account/updates", &[("updates", "on")]).send().await.assert_status(303);
    reader.get("/account").send().await.assert_contains("You get these updates.");
    assert_eq!(previewed_count(&editor, &second).await, 2);
    reader.post_form("/account/updates", &[("updates", "maybe")]).send().await.assert_status(400);
}

/// A member who unsubscribes after the update was queued but before it was
/// sent is not sent it; receipts and sign-in mail still reach them.
#[tokio::test]
async fn an_update_queued_before_the_member_unsubscribed_is_not_sent_but_account_mail_is() {
    let (app, _editor, reader) = update_sent_to_two_patrons().await;
    assert_eq!(app.count("select count(*) from email_outbox where template = 'update' and sent_at is null").await, 2);
    reader.post_form("/account/updates", &[("updates", "off")]).send().await.assert_status(303);
    let mail = app.deliver_mail().await;
    assert_eq!(recipients(&updates_sent(&mail, EN)), ["other@example.org"]);
    assert_eq!(app.count("select count(*) from email_outbox where sent_at is null").await, 0);

    // Account mail is not affected: a sign-in link still arrives.
    app.sign_in_member(&app.new_browser(), "reader@example.org").await;
}

/// Only an update staff chose to show appears on the transparency page, in
/// the reader's language (English when not translated).
#[tokio::test]
async fn the_transparency_page_shows_an_update_only_when_staff_chose_it() {
    let app = TestApp::spawn().await;
    let editor = staff(&app, "editor@news.test", Role::Editor).await;
    patron(&app, "reader@example.org", "reader", "en").await;
    let mut shown = update_fields("patrons", "", "");
    shown.push(("transparency", "yes"));
    let shown = draft(&editor, &shown).await;
    let hidden =
        draft(&editor, &[("subject_en", "Only for patrons' eyes"), ("body_en", "Private."), ("audience", "patrons")])
            .await;
    // A draft is not shown before it is sent.
    app.new_browser().get("/transparency").send().await.assert_not_contains(EN);
    for id in [&shown, &hidden] {
        editor.post_form(&format!("/admin/updates/{id}/send"), &[("expected", "1")]).send().await.assert_status(303);
    }
    app.deliver_mail().await;
    let en = app.new_browser().get("/transparency").send().await;
    en.assert_contains(EN).assert_contains("three").assert_not_contains("Only for patrons");
    let uk = app.new_browser().with_default_header("accept-language", "uk").get("/transparency").send().await;
    uk.assert_contains(UK).assert_contains("Дякуємо.").assert_not_contains(EN);
}

/// Bad input is refused with the field's message and stores nothing; analysts
/// may not write updates.
#[tokio::test]
async fn bad_updates_are_refused_and_store_nothing() {
    let app = TestApp::spawn().await;
    let editor = staff(&app, "editor@news.test", Role::Editor).await;
    let unknown = uuid::Uuid::now_v7().to_string();
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("subject_en", " "), ("body_en", "Text"), ("audience", "patrons")], "Write a subject."),
        (vec![("subject_en", "Hi"), ("body_en", ""), ("audience", "patrons")], "Write the update."),
        (vec![("subject_en", "Hi\u{202E}"), ("body_en", "Text"), ("audience", "patrons")], "one line without"),
        (
            vec![("subject_en", "Hi"), ("body_en", "Text"), ("subject_uk", "Привіт"), ("audience", "patrons")],
            "both a subject and a text",
        ),
        (vec![("subject_en", "Hi"), ("body_en", "Text"), ("audience", "everyone")], "Choose who receives"),
        (vec![("subject_en", "Hi"), ("body_en", "Text"), ("audience", "tier"), ("tier", "x")], "Choose a tier"),
        (
            vec![("subject_en", "Hi"), ("body_en", "Text"), ("audience", "tier"), ("tier", &unknown)],
            "a tier that exists",
        ),
        (
            vec![("subject_en", "Hi"), ("body_en", "Text"), ("audience", "voters"), ("topic", &unknown)],
            "a topic that exists",
        ),
    ];
    for (fields, message) in cases {
        let r = editor.post_form("/admin/updates", &fields).send().await;
        r.assert_status(422).assert_contains(message);
    }
    let analyst = staff(&app, "analyst@news.test", Role::Analyst).await;
    analyst.get("/admin/updates").send().await.assert_status(403);
    analyst
        .post_form("/admin/updates", &[("subject_en", "Hi"), ("body_en", "Text"), ("audience", "patrons")])
        .send()
        .await
        .assert_status(403);
    assert_eq!(app.count("select count(*) from updates").await, 0);
    assert_eq!(app.outbox_count().await, 0);
    editor.get(&format!("/admin/updates/{unknown}")).send().await.assert_status(404);
    editor.post_form(&format!("/admin/updates/{unknown}/send"), &[("expected", "0")]).send().await.assert_status(404);
}

async fn anniversaries(app: &TestApp) -> usize {
    patronage::jobs::send_anniversaries(&app.ctx).await.expect("the anniversary job runs")
}

/// On each year as a patron, once (the job run twice, and by two at once),
/// in the member's language, listing the covered stories they voted for; not
/// to a member who unsubscribed from updates.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_anniversary_email_goes_once_a_year_with_the_covered_stories_voted_for() {
    let app = TestApp::spawn().await;
    let editor = staff(&app, "editor@news.test", Role::Editor).await;
    let covered = open_topic(&editor, "Who owns the river bank").await;
    let pending = open_topic(&editor, "School meals").await;
    let round = open_round(&app, &editor, &[covered.clone(), pending.clone()], 3, false).await;
    let en = patron(&app, "en@example.org", "reader", "en").await;
    let uk = patron(&app, "uk@example.org", "reader", "uk").await;
    let quiet = patron(&app, "quiet@example.org", "reader", "en").await;
    quiet.post_form("/account/updates", &[("updates", "off")]).send().await.assert_status(303);
    for b in [&en, &uk] {
        vote(b, &round, &covered).await.assert_status(303);
        vote(b, &round, &pending).await.assert_status(303);
    }
    editor
        .post_form(&format!("/admin/topics/{covered}/cover"), &[("articles", "https://news.example/river-bank")])
        .send()
        .await
        .assert_status(303);
    app.deliver_mail().await;

    // Not before the day.
    // (A year is 365 or 366 days, by the calendar.)
    app.advance_clock(364 * DAY);
    assert_eq!(anniversaries(&app).await, 0);
    app.advance_clock(2 * DAY + HOUR);
    let runs = concurrently(2, async |_| anniversaries(&app).await).await;
    assert_eq!(runs.iter().sum::<usize>(), 2, "{runs:?}");
    assert_eq!(anniversaries(&app).await, 0);
    let mail = app.deliver_mail().await;
    let year_one: Vec<&ReceivedMail> = mail.iter().filter(|m| m.header("List-Unsubscribe").is_some()).collect();
    assert_eq!(year_one.len(), 2, "one each, none to the member who unsubscribed");
    let en_mail = year_one.iter().find(|m| m.to == ["en@example.org"]).expect("the English patron's");
    assert_eq!(en_mail.subject().as_deref(), Some("One year with The Test Gazette: thank you"));
    let text = en_mail.text_body();
    assert!(text.contains("https://news.example/river-bank"), "{text}");
    assert!(!text.contains("School meals"), "{text}");
    assert!(en_mail.header("List-Unsubscribe").is_some_and(|h| h.contains("/updates/unsubscribe?token=")));
    let uk_mail = year_one.iter().find(|m| m.to == ["uk@example.org"]).expect("the Ukrainian patron's");
    assert_eq!(uk_mail.subject().as_deref(), Some("1 рік із The Test Gazette: дякуємо"));
    assert!(uk_mail.text_body().contains("Сьогодні 1 рік"));

    // A year later, the second.
    app.advance_clock(366 * DAY);
    assert_eq!(anniversaries(&app).await, 2);
    assert_eq!(anniversaries(&app).await, 0);
    let mail = app.deliver_mail().await;
    let en_two = mail
        .iter()
        .find(|m| m.to == ["en@example.org"] && m.header("List-Unsubscribe").is_some())
        .expect("the second anniversary");
    assert_eq!(en_two.subject().as_deref(), Some("2 years with The Test Gazette: thank you"));
    assert_eq!(app.count("select count(*) from anniversary_emails").await, 4);
}

/// The pages of this feature in a real browser, in English and Ukrainian, at
/// phone and desktop widths: the reader's (account setting, unsubscribe page,
/// the update on the transparency page) without layout or serious axe-core
/// problems, and the staff's (write, preview) without serious axe-core ones.
/// Screenshots go to `target/screenshots/updates/`.
#[tokio::test]
async fn the_update_pages_read_well_in_a_browser() {
    use crate::helpers::browser::{Browser, DESKTOP, PHONE, screenshot_path};
    let app = TestApp::spawn().await;
    let editor = staff(&app, "editor@news.test", Role::Editor).await;
    let mut readers = Vec::new();
    for lang in ["en", "uk"] {
        readers.push(patron(&app, &format!("{lang}@example.org"), "reader", lang).await);
    }
    let mut fields = update_fields("patrons", "", "");
    fields.push(("transparency", "yes"));
    let sent = draft(&editor, &fields).await;
    editor.post_form(&format!("/admin/updates/{sent}/send"), &[("expected", "2")]).send().await.assert_status(303);
    app.deliver_mail().await;
    let preview = draft(&editor, &update_fields("members", "", "")).await;
    let staff_cookie = editor.cookie("patronage_staff").expect("a staff session");
    for (lang, reader) in ["en", "uk"].into_iter().zip(&readers) {
        let member = app.member_id(&format!("{lang}@example.org")).await;
        let token = patronage::services::updates::unsubscribe_token(&app.ctx, member);
        let member_cookie = reader.cookie("patronage_session").expect("a member session");
        let Some(browser) = Browser::open(lang).await else { return };
        browser.goto(&app.base_url).await;
        browser.add_cookie("patronage_session", &member_cookie).await;
        browser.add_cookie("patronage_staff", &staff_cookie).await;
        browser.add_cookie("lang", lang).await;
        let pages = [
            ("account", "/account#updates".to_string(), true),
            ("unsubscribe", format!("/updates/unsubscribe?token={token}"), true),
            ("unsubscribe-invalid", "/updates/unsubscribe?token=nope".to_string(), true),
            ("transparency", "/transparency#updates".to_string(), true),
            ("admin-updates", "/admin/updates".to_string(), false),
            ("admin-preview", format!("/admin/updates/{preview}"), false),
        ];
        for width in [PHONE, DESKTOP] {
            browser.set_width(width).await;
            for (name, path, reader_page) in &pages {
                if !reader_page && lang == "uk" {
                    continue;
                }
                browser.goto(&format!("{}{path}", app.base_url)).await;
                let findings = browser.check_page(true).await;
                let problems: Vec<&String> =
                    findings.problems.iter().filter(|p| *reader_page || p.starts_with("axe:")).collect();
                assert!(problems.is_empty(), "{name} ({lang}, {width} px): {problems:#?}");
                browser.screenshot(&screenshot_path(&format!("updates/{name}-{lang}-{width}"))).await;
            }
        }
    }
}
