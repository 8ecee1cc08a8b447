//! The corrections and clarifications box: readers suggest a correction to an
//! article on the newsroom's own site (no account), staff work the queue, and a
//! reader who left an address hears back once.
use patronage::domain::Role;
use patronage::services::corrections::{PER_ARTICLE, PER_IP};

use crate::helpers::voting::staff;
use crate::helpers::{TestApp, TestClient, TestResponse};

const NEWSROOM: &str = "https://news.example";
const ARTICLE: &str = "https://news.example/2026/12/tram";

async fn newsroom() -> TestApp {
    TestApp::builder().trusted_origin(NEWSROOM).spawn().await
}

/// Posts the plain page's form with `fields` over sensible defaults.
async fn suggest(browser: &TestClient, fields: &[(&str, &str)]) -> TestResponse {
    let mut form: Vec<(&str, &str)> = vec![
        ("url", ARTICLE),
        ("quote", "The tram line opened in 1912."),
        ("note", "It opened in 1911: see the city archive."),
        ("email", ""),
        ("lang", "en"),
        ("homepage", ""),
    ];
    for (name, value) in fields {
        form.retain(|(n, _)| n != name);
        form.push((name, value));
    }
    browser.post_form("/corrections/new", &form).send().await
}

async fn stored(app: &TestApp) -> i64 {
    app.count("select count(*) from corrections").await
}

async fn only_id(app: &TestApp) -> String {
    let (id,): (String,) =
        sqlx::query_as("select id from corrections").fetch_one(app.db().read()).await.expect("one correction");
    id
}

async fn decide(editor: &TestClient, id: &str, seen: &str, status: &str, reply: &str) -> TestResponse {
    editor
        .post_form(
            &format!("/admin/corrections/{id}"),
            &[("seen", seen), ("status", status), ("internal_note", "checked"), ("public_reply", reply)],
        )
        .send()
        .await
}

#[tokio::test]
async fn a_reader_suggests_a_correction_without_an_account_and_it_reaches_the_staff_queue() {
    let app = newsroom().await;
    let reader = app.new_browser();
    let r = suggest(&reader, &[("url", "https://news.example/2026/12/tram#para-3")]).await;
    r.assert_status(303);
    let thanks = r.location().expect("to the thanks page");
    assert!(thanks.starts_with("/corrections/thanks?"), "{thanks}");
    reader
        .get(&thanks)
        .send()
        .await
        .assert_status(200)
        .assert_contains("Thank you")
        .assert_contains(&format!("href=\"{ARTICLE}\""))
        .assert_not_contains("We will write to you");
    assert_eq!(stored(&app).await, 1);
    assert_eq!(app.member_count().await, 0, "no account was made");
    let editor = staff(&app, "editor@news.test", Role::Editor).await;
    let queue = editor.get("/admin/corrections").send().await;
    queue
        .assert_status(200)
        .assert_contains("It opened in 1911: see the city archive.")
        .assert_contains("The tram line opened in 1912.")
        // The fragment is dropped: one article, one address.
        .assert_contains(&format!(">{ARTICLE}</a>"))
        .assert_contains("<span class=\"status\">new</span>");
    let id = only_id(&app).await;
    editor.get(&format!("/admin/corrections/{id}")).send().await.assert_status(200).assert_contains("no address left");
}

#[tokio::test]
async fn the_plain_page_takes_the_articles_address_and_refuses_other_sites() {
    let app = newsroom().await;
    let reader = app.new_browser();
    let page = reader.get(&format!("/corrections/new?url={ARTICLE}")).send().await;
    page.assert_status(200)
        .assert_contains("Suggest a correction or clarification")
        .assert_contains(&format!("value=\"{ARTICLE}\""))
        .assert_contains("name=\"homepage\"");
    assert_eq!(page.header("x-frame-options").as_deref(), Some("DENY"), "the plain page is never framed");
    // Without an address the reader types it in.
    reader.get("/corrections/new").send().await.assert_status(200).assert_contains("id=\"correction-url\"");
    let foreign = reader.get("/corrections/new?url=https://evil.example/fake-news").send().await;
    foreign
        .assert_status(400)
        .assert_contains("We take corrections only to articles on our own website.")
        .assert_not_contains("evil.example");
    let uk = reader.get("/corrections/new?url=https://evil.example/x&lang=uk").send().await;
    uk.assert_status(400).assert_contains("Ми приймаємо виправлення лише до статей на нашому власному сайті.");
    reader
        .get(&format!("/corrections/new?url={ARTICLE}"))
        .header("accept-language", "uk")
        .send()
        .await
        .assert_contains("Запропонувати виправлення чи уточнення");
    suggest(&reader, &[("url", "https://evil.example/x")])
        .await
        .assert_status(422)
        .assert_contains("We take corrections only to articles on our own website.");
    suggest(&reader, &[("url", "javascript:alert(1)")])
        .await
        .assert_status(422)
        .assert_contains("That is not a web address");
    assert_eq!(stored(&app).await, 0);
}

#[tokio::test]
async fn refused_suggestions_say_why_and_store_nothing() {
    let app = newsroom().await;
    let reader = app.new_browser();
    suggest(&reader, &[("homepage", "http://spam.example")])
        .await
        .assert_status(422)
        .assert_contains("This looked automated, so it was not sent.");
    suggest(&reader, &[("quote", &"x".repeat(1001))])
        .await
        .assert_status(422)
        .assert_contains("The quoted text can be at most 1,000 characters long");
    suggest(&reader, &[("quote", &"я".repeat(1001)), ("lang", "uk")])
        .await
        .assert_status(422)
        .assert_contains("Цитата може містити щонайбільше 1 000 символів");
    suggest(&reader, &[("note", "   ")]).await.assert_status(422).assert_contains("Say what is wrong or unclear.");
    suggest(&reader, &[("note", &"n".repeat(2001))])
        .await
        .assert_status(422)
        .assert_contains("The note can be at most 2,000 characters long.");
    suggest(&reader, &[("email", "not-an-address")]).await.assert_status(422).assert_contains("aria-invalid");
    // What the reader typed comes back (escaped) so nothing is lost.
    suggest(&reader, &[("email", "bad"), ("note", "Keep <this>")]).await.assert_contains("Keep &lt;this&gt;");
    // A body far over any real suggestion is refused before it is read.
    let huge = format!("url={ARTICLE}&note={}", "a".repeat(40 * 1024));
    reader
        .post_raw("/corrections/new", "application/x-www-form-urlencoded", huge.into_bytes())
        .send()
        .await
        .assert_status(413);
    assert_eq!(stored(&app).await, 0);
    assert_eq!(app.count("select count(*) from rate_limits").await, 0, "refused before any limit was counted");
    assert_eq!(app.outbox_count().await, 0);
}

/// HTML in a note is kept as the reader typed it and shown escaped everywhere
/// (the queue, the suggestion's page, the reply email): a reader may well quote
/// `<b>` or `a < b` from the article they correct, so refusing it would refuse
/// honest suggestions, and escaping on output is how every page here works.
#[tokio::test]
async fn html_in_a_note_is_kept_as_typed_and_shown_escaped() {
    let app = newsroom().await;
    let reader = app.new_browser();
    let note = "<script>alert('x')</script><b>1911</b>, not 1912";
    suggest(&reader, &[("note", note), ("quote", "<img src=x onerror=alert(1)>"), ("email", "reader@example.org")])
        .await
        .assert_status(303);
    let (kept,): (String,) =
        sqlx::query_as("select note from corrections").fetch_one(app.db().read()).await.expect("stored");
    assert_eq!(kept, note);
    let editor = staff(&app, "editor@news.test", Role::Editor).await;
    let id = only_id(&app).await;
    for page in
        [editor.get("/admin/corrections").send().await, editor.get(&format!("/admin/corrections/{id}")).send().await]
    {
        page.assert_status(200)
            .assert_contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&lt;b&gt;1911&lt;/b&gt;")
            .assert_not_contains("<script>alert")
            .assert_not_contains("<img src=x");
    }
    decide(&editor, &id, "new", "fixed", "<i>Thanks</i>").await.assert_status(303);
    let mail = app.deliver_mail().await;
    assert_eq!(mail.len(), 1);
    let html = mail[0].html_body().expect("an html part");
    assert!(html.contains("&lt;i&gt;Thanks&lt;") && !html.contains("<i>Thanks"), "{html}");
    assert!(!html.contains("<script>alert"), "{html}");
}

#[tokio::test]
async fn too_many_suggestions_from_one_address_or_for_one_article_are_refused_and_not_stored() {
    let app = TestApp::builder().trusted_origin(NEWSROOM).trust_forwarded_for().spawn().await;
    app.start_a_fresh_window(PER_IP);
    let reader = app.new_browser().with_default_header("x-forwarded-for", "203.0.113.7");
    for i in 0..PER_IP.max {
        suggest(&reader, &[("url", &format!("{NEWSROOM}/article-{i}"))]).await.assert_status(303);
    }
    let refused = suggest(&reader, &[("url", &format!("{NEWSROOM}/another"))]).await;
    refused
        .assert_status(429)
        .assert_contains("Too many suggestions from your connection or for this article just now.")
        .assert_contains("It opened in 1911");
    assert!(refused.header("retry-after").is_some_and(|s| s.parse::<i64>().is_ok_and(|n| n > 0)));
    assert_eq!(stored(&app).await, PER_IP.max);
    // Another reader is not held back by the first.
    let other = app.new_browser().with_default_header("x-forwarded-for", "203.0.113.8");
    suggest(&other, &[("url", &format!("{NEWSROOM}/another"))]).await.assert_status(303);

    // One article takes only so many an hour, from however many addresses.
    app.start_a_fresh_window(PER_ARTICLE);
    let before = stored(&app).await;
    for i in 0..PER_ARTICLE.max {
        let from = app.new_browser().with_default_header("x-forwarded-for", &format!("198.51.100.{i}"));
        suggest(&from, &[]).await.assert_status(303);
    }
    let from = app.new_browser().with_default_header("x-forwarded-for", "198.51.100.200");
    suggest(&from, &[("lang", "uk")]).await.assert_status(429).assert_contains("Забагато пропозицій");
    assert_eq!(stored(&app).await, before + PER_ARTICLE.max);
    // The limits are counters in the database (shared by every instance), keyed by hashes.
    assert!(app.count("select count(*) from rate_limits where bucket like 'correction-ip:%'").await >= 2);
    assert_eq!(app.count("select count(*) from rate_limits where bucket like '%203.0.113%'").await, 0);
}

#[tokio::test]
async fn a_reader_who_left_an_address_gets_one_email_when_it_is_resolved_in_their_language() {
    let app = newsroom().await;
    let reader = app.new_browser();
    suggest(&reader, &[("email", "reader@example.org"), ("lang", "uk"), ("note", "Не 1912, а 1911.")])
        .await
        .assert_status(303)
        .location()
        .filter(|l| l.contains("reply=1"))
        .expect("the thanks page says we will write");
    let editor = staff(&app, "editor@news.test", Role::Editor).await;
    let id = only_id(&app).await;
    assert!(app.deliver_mail().await.is_empty(), "nothing is sent on arrival");

    decide(&editor, &id, "new", "fixed", "Виправили, дякуємо!").await.assert_status(303);
    // The same form sent again (a double click) is refused: it no longer matches.
    decide(&editor, &id, "new", "fixed", "Виправили, дякуємо!").await.assert_status(409);
    // Staff change their mind, back and forth: no more mail.
    decide(&editor, &id, "fixed", "accepted", "").await.assert_status(303);
    decide(&editor, &id, "accepted", "new", "").await.assert_status(303);
    decide(&editor, &id, "new", "rejected", "Ні").await.assert_status(303);
    decide(&editor, &id, "rejected", "rejected", "Ні, ще раз").await.assert_status(303);
    let mail = app.deliver_mail().await;
    assert_eq!(mail.len(), 1, "exactly one email: {mail:?}");
    assert_eq!(mail[0].to, vec!["reader@example.org".to_string()]);
    let subject = mail[0].subject().expect("a subject");
    assert_eq!(subject, "The Test Gazette: про виправлення, яке ви запропонували");
    let text = mail[0].text_body();
    assert!(text.contains("ми виправили статтю") && text.contains("Виправили, дякуємо!"), "{text}");
    assert!(text.contains("Не 1912, а 1911.") && text.contains(ARTICLE), "{text}");
    assert_eq!(app.count("select count(*) from email_outbox where template = 'correction_resolved'").await, 1);

    // Each status change is in the audit log, with who made it.
    assert_eq!(app.count("select count(*) from audit_log where action = 'correction.status'").await, 4);
    assert_eq!(app.count("select count(*) from audit_log where action = 'correction.notes'").await, 1);
    assert_eq!(
        app.count(
            "select count(*) from audit_log where action = 'correction.status' and actor_email = 'editor@news.test'"
        )
        .await,
        4
    );
    let page = editor.get(&format!("/admin/corrections/{id}")).send().await;
    page.assert_contains("Ні, ще раз").assert_contains("by editor@news.test").assert_contains("reader@example.org");

    // No address, no email.
    suggest(&reader, &[("url", "https://news.example/other")]).await.assert_status(303);
    let (other,): (String,) = sqlx::query_as("select id from corrections where email is null")
        .fetch_one(app.db().read())
        .await
        .expect("the second one");
    decide(&editor, &other, "new", "accepted", "Thanks").await.assert_status(303);
    assert!(app.deliver_mail().await.is_empty());
}

#[tokio::test]
async fn staff_answers_are_checked_and_stale_or_unknown_ones_refused() {
    let app = newsroom().await;
    suggest(&app.new_browser(), &[]).await.assert_status(303);
    let id = only_id(&app).await;
    let editor = staff(&app, "editor@news.test", Role::Editor).await;
    decide(&editor, &id, "new", "fixed", &"r".repeat(2001))
        .await
        .assert_status(422)
        .assert_contains("This text can be at most 2,000 characters long.");
    decide(&editor, &id, "new", "closed", "").await.assert_status(422).assert_contains("Choose a status.");
    decide(&editor, &id, "accepted", "fixed", "").await.assert_status(409);
    decide(&editor, "00000000-0000-7000-8000-000000000000", "new", "fixed", "").await.assert_status(404);
    editor.get("/admin/corrections/not-an-id").send().await.assert_status(404);
    editor.get("/admin/corrections?status=bogus").send().await.assert_status(400);
    let (status,): (String,) =
        sqlx::query_as("select status from corrections").fetch_one(app.db().read()).await.expect("stored");
    assert_eq!(status, "new");
    assert_eq!(app.count("select count(*) from audit_log where action like 'correction.%'").await, 0);
}

#[tokio::test]
async fn editors_and_admins_work_the_queue_and_other_roles_are_refused() {
    let app = newsroom().await;
    suggest(&app.new_browser(), &[]).await.assert_status(303);
    let id = only_id(&app).await;
    let analyst = staff(&app, "analyst@news.test", Role::Analyst).await;
    for path in ["/admin/corrections".to_string(), format!("/admin/corrections/{id}"), "/admin/corrections.csv".into()]
    {
        analyst.get(&path).send().await.assert_status(403);
    }
    decide(&analyst, &id, "new", "fixed", "").await.assert_status(403);
    assert_eq!(app.count("select count(*) from audit_log where action = 'staff.refused'").await, 4);
    analyst.get("/admin").send().await.assert_status(200).assert_not_contains("/admin/corrections");
    // Signed out: to the staff sign-in.
    let r = app.new_browser().get("/admin/corrections").send().await;
    r.assert_status(303);
    assert_eq!(r.location().as_deref(), Some("/admin/login"));

    let editor = staff(&app, "editor@news.test", Role::Editor).await;
    editor.get("/admin").send().await.assert_contains("href=\"/admin/corrections\"");
    editor.get("/admin/corrections").send().await.assert_status(200);
    decide(&editor, &id, "new", "accepted", "").await.assert_status(303);
    let admin = staff(&app, "admin@news.test", Role::Admin).await;
    admin.get(&format!("/admin/corrections/{id}")).send().await.assert_status(200);
    decide(&admin, &id, "accepted", "fixed", "").await.assert_status(303);
    admin.get("/admin/corrections.csv").send().await.assert_status(200);
    let (status,): (String,) =
        sqlx::query_as("select status from corrections").fetch_one(app.db().read()).await.expect("stored");
    assert_eq!(status, "fixed");
}

#[tokio::test]
async fn the_queue_filters_by_status_and_article_and_the_csv_is_audited_and_safe() {
    let app = newsroom().await;
    let reader = app.new_browser();
    suggest(&reader, &[("url", "https://news.example/a"), ("note", "=HYPERLINK(\"http://evil.example\",\"x\")")])
        .await
        .assert_status(303);
    suggest(&reader, &[("url", "https://news.example/b"), ("note", "Second"), ("quote", "+1 more")])
        .await
        .assert_status(303);
    suggest(&reader, &[("url", "https://news.example/b"), ("note", "Third")]).await.assert_status(303);
    let editor = staff(&app, "editor@news.test", Role::Editor).await;
    let (third,): (String,) = sqlx::query_as("select id from corrections where note = 'Third'")
        .fetch_one(app.db().read())
        .await
        .expect("stored");
    decide(&editor, &third, "new", "rejected", "").await.assert_status(303);

    let b = editor.get("/admin/corrections?article=https%3A%2F%2Fnews.example%2Fb").send().await;
    b.assert_contains("Second").assert_contains("Third").assert_not_contains("HYPERLINK");
    let new_b = editor.get("/admin/corrections?status=new&article=https%3A%2F%2Fnews.example%2Fb").send().await;
    new_b.assert_contains("Second").assert_not_contains("Third");
    let rejected = editor.get("/admin/corrections?status=rejected").send().await;
    rejected.assert_contains("Third").assert_not_contains("Second").assert_not_contains("HYPERLINK");
    editor.get("/admin/corrections").send().await.assert_contains("https://news.example/b (1 new of 2)");

    let csv = editor.get("/admin/corrections.csv").send().await;
    csv.assert_status(200);
    assert_eq!(csv.header("content-type").as_deref(), Some("text/csv; charset=utf-8"));
    assert!(
        csv.body.starts_with("\"id\",\"created_at\",\"status\",\"article_url\",\"quote\",\"note\""),
        "{}",
        csv.body
    );
    assert!(csv.body.contains("\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\""), "{}", csv.body);
    assert!(csv.body.contains("\"'+1 more\""), "{}", csv.body);
    assert_eq!(csv.body.matches("\r\n").count(), 4, "a header and three rows");
    let filtered = editor.get("/admin/corrections.csv?status=new&article=https%3A%2F%2Fnews.example%2Fb").send().await;
    assert_eq!(filtered.body.matches("\r\n").count(), 2, "{}", filtered.body);
    assert_eq!(app.count("select count(*) from audit_log where action = 'correction.export'").await, 2);
    let (detail,): (String,) = sqlx::query_as(
        "select detail from audit_log where action = 'correction.export' order by created_at desc, id desc limit 1",
    )
    .fetch_one(app.db().read())
    .await
    .expect("an entry");
    assert!(detail.contains("status=new") && detail.contains("1 rows"), "{detail}");
}

fn frame_ancestors(csp: &str) -> &str {
    csp.split(';').map(str::trim).find_map(|d| d.strip_prefix("frame-ancestors ")).unwrap_or("")
}

#[tokio::test]
async fn the_dialog_may_be_framed_only_by_the_newsrooms_sites_and_posts_only_to_itself() {
    let app = TestApp::builder().trusted_origin(NEWSROOM).newsroom_site("https://www.news.example").spawn().await;
    let reader = app.new_browser();
    let dialog = reader
        .get("/embed/correction?url=https%3A%2F%2Fwww.news.example%2Fa&quote=Kyiv%20%3Cb%3E&lang=uk&theme=dark")
        .send()
        .await;
    dialog
        .assert_status(200)
        .assert_contains("Запропонувати виправлення чи уточнення")
        .assert_contains("Kyiv &lt;b&gt;</textarea>")
        .assert_contains("name=\"url\" value=\"https://www.news.example/a\"")
        .assert_contains("data-theme=\"dark\"");
    let csp = dialog.header("content-security-policy").expect("a policy");
    assert_eq!(frame_ancestors(&csp), format!("'self' {NEWSROOM} https://www.news.example"));
    assert!(dialog.header("x-frame-options").is_none());
    // Only NEWSROOM_SITE_ORIGINS' articles take corrections once it is set.
    reader.get("/embed/correction?url=https%3A%2F%2Fnews.example%2Fa").send().await.assert_status(400);

    let form = [
        ("url", "https://www.news.example/a"),
        ("quote", "Kyiv"),
        ("note", "Spelling"),
        ("lang", "uk"),
        ("theme", "dark"),
        ("homepage", ""),
        ("email", ""),
    ];
    let r = reader.post_form("/embed/correction", &form).send().await;
    r.assert_status(303);
    let thanks = r.location().expect("to the thanks dialog");
    assert!(thanks.starts_with("/embed/correction/thanks?"), "{thanks}");
    let page = reader.get(&thanks).send().await;
    page.assert_status(200).assert_contains("Дякуємо").assert_contains("data-close");
    assert!(page.header("x-frame-options").is_none());
    assert!(frame_ancestors(&page.header("content-security-policy").unwrap_or_default()).contains("www.news.example"));
    // A page on another site cannot post it.
    reader
        .post_form("/embed/correction", &form)
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .assert_status(403);
    let refused =
        reader.post_form("/embed/correction", &[("url", "https://www.news.example/a"), ("note", "")]).send().await;
    refused.assert_status(422).assert_contains("Say what is wrong or unclear.");
    assert!(refused.header("x-frame-options").is_none(), "the refusal shows in the frame too");
    assert_eq!(stored(&app).await, 1);
}
