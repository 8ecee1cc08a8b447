//! The boxes a newsroom pastes into its article pages: framable only by the
//! trusted origins, in the reader's language, with every choice opening
//! Patronage's own page in the top window.
use crate::helpers::TestApp;
use crate::helpers::voting::{demo_patron, open_round, open_topic, staff, vote};

const NEWSROOM: &str = "https://news.example";

fn frame_ancestors(csp: &str) -> &str {
    csp.split(';').map(str::trim).find_map(|d| d.strip_prefix("frame-ancestors ")).unwrap_or("")
}

#[tokio::test]
async fn only_the_boxes_may_be_framed_and_only_by_the_trusted_origins() {
    let app = TestApp::builder().trusted_origin(NEWSROOM).spawn().await;
    for path in ["/embed/patron", "/embed/poll", "/embed/patron?lang=uk&theme=dark&currency=uah"] {
        let r = app.new_browser().get(path).send().await;
        r.assert_status(200);
        let csp = r.header("content-security-policy").expect("a policy");
        assert_eq!(frame_ancestors(&csp), format!("'self' {NEWSROOM}"), "{path}");
        assert!(r.header("x-frame-options").is_none(), "{path} has no X-Frame-Options");
    }
    for path in ["/", "/patron", "/donate", "/topics", "/signin", "/covered", "/join"] {
        let r = app.new_browser().get(path).send().await;
        let csp = r.header("content-security-policy").expect("a policy");
        assert_eq!(frame_ancestors(&csp), "'none'", "{path}");
        assert_eq!(r.header("x-frame-options").as_deref(), Some("DENY"), "{path}");
    }
}

#[tokio::test]
async fn the_patron_box_offers_tiers_in_the_readers_currency_and_opens_checkout_in_the_top_window() {
    let app = TestApp::builder().trusted_origin(NEWSROOM).spawn().await;
    let en = app.new_browser().get("/embed/patron").send().await;
    en.assert_status(200)
        .assert_contains("For as little as €3.00 a month")
        .assert_contains("Supporter")
        .assert_contains("€6.00 a month")
        .assert_not_contains("₴")
        .assert_not_contains("<form");
    assert!(en.body.matches("href=\"http").count() >= 3);
    assert!(
        !en.body.contains("href=\"http")
            || en.body.matches("target=\"_top\"").count() >= en.body.matches("href=\"http").count()
    );
    let uk = app.new_browser().get("/embed/patron?lang=uk").send().await;
    uk.assert_contains("Лише за 100,00\u{a0}₴ на місяць").assert_contains("на місяць");
    // The box's price link preselects it on the patron page.
    let price = app.price_id("supporter", "month", "eur").await;
    app.new_browser()
        .get(&format!("/patron?currency=eur&price={price}"))
        .send()
        .await
        .assert_contains(&format!("value=\"{price}\" checked"));
}

#[tokio::test]
async fn the_poll_box_shows_the_open_round_then_its_result() {
    let app = TestApp::builder().trusted_origin(NEWSROOM).spawn().await;
    app.new_browser().get("/embed/poll").send().await.assert_status(200).assert_contains("No round is open");
    let editor = staff(&app, "editor@news.test", patronage::domain::Role::Editor).await;
    let a = open_topic(&editor, "Bridge repairs").await;
    let b = open_topic(&editor, "School meals").await;
    let round = open_round(&app, &editor, &[a.clone(), b.clone()], 3, true).await;
    let patron = demo_patron(&app, "poll@example.org", "supporter").await;
    vote(&patron, &round, &b).await.assert_status(303);
    app.deliver_mail().await;
    let poll = app.new_browser().get("/embed/poll?lang=en").send().await;
    poll.assert_contains("Bridge repairs")
        .assert_contains("School meals")
        .assert_contains(&format!("/rounds/{round}\""))
        .assert_contains("target=\"_top\"")
        .assert_not_contains("poll@example.org");
    let school = poll.body.find("School meals").expect("listed");
    let bridge = poll.body.find("Bridge repairs").expect("listed");
    assert!(school < bridge, "live tallies are public: the topic with the vote leads");
}

#[tokio::test]
async fn staff_copy_the_snippets_and_the_script_is_small_and_immutable() {
    let app = TestApp::builder().trusted_origin(NEWSROOM).spawn().await;
    let editor = staff(&app, "editor@news.test", patronage::domain::Role::Editor).await;
    let page = editor.get("/admin/embeds").send().await;
    page.assert_status(200)
        .assert_contains(NEWSROOM)
        .assert_contains("/embed/patron?lang=uk")
        .assert_contains("data-patronage-box=&quot;poll&quot;")
        .assert_contains("/corrections/new?url=ARTICLE_URL&quot; data-patronage-correction&gt;");
    let script = page
        .body
        .split("/static/embed.")
        .nth(1)
        .and_then(|s| s.split(".js").next())
        .map(|hash| format!("/static/embed.{hash}.js"))
        .expect("the script's hashed URL");
    let r = app.new_browser().get(&script).send().await;
    r.assert_status(200);
    assert_eq!(r.header("cache-control").as_deref(), Some("public, max-age=31536000, immutable"));
    assert!(r.body.len() < 4096, "a few KB: {} bytes", r.body.len());
    assert!(r.body.contains("data-patronage-box") && r.body.contains("data-patronage-correction"));
}

/// In a real browser: an article on the newsroom's own site (another origin)
/// embeds the patron box with the script; the frame grows to its content, and
/// choosing a price opens Patronage's patron page in the top window.
#[tokio::test]
async fn in_a_browser_the_script_sizes_the_box_and_a_choice_opens_patronage_in_the_top_window() {
    use crate::helpers::browser::Browser;
    // The site's origin must be known before the app trusts it: take a free port first.
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
    let app = TestApp::builder().trusted_origin(&format!("http://127.0.0.1:{port}")).spawn().await;
    let script = patronage::http::public::static_url("embed.js");
    let article = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>An article</title></head><body>\
         <h1>An article</h1><p>The story.</p>\
         <a href=\"{base}/patron\" data-patronage-box=\"patron\">Become a patron</a>\
         <script async src=\"{base}{script}\"></script></body></html>",
        base = app.base_url
    );
    let (site_origin, _site) = newsroom_site(port, article).await;
    let Some(browser) = Browser::open("en").await else { return };
    browser.goto(&format!("{site_origin}/article")).await;
    let mut height = 0;
    for _ in 0..100 {
        let h = browser
            .run(
                "const f = document.querySelector('iframe'); return f ? f.getBoundingClientRect().height : 0;",
                serde_json::json!([]),
            )
            .await;
        height = h.as_f64().unwrap_or(0.0) as i64;
        if height > 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(height > 200, "the frame grew to its content: {height} px");
    browser.enter_frame("iframe").await;
    browser.click("a.button.primary").await;
    browser.top().await;
    let mut url = String::new();
    for _ in 0..100 {
        url = browser.current_url().await;
        if url.starts_with(&app.base_url) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(url.starts_with(&format!("{}/patron", app.base_url)), "the top window went to Patronage: {url}");
}

/// In a real browser: an article on the newsroom's own site (another origin)
/// with the script and the corrections link. A reader selects a sentence and
/// presses Ctrl+Enter: the corrections form opens over the article with the
/// sentence quoted and the article's (canonical) address; sending it lands in
/// the staff queue, and closing the dialog gives the article back.
#[tokio::test]
async fn in_a_browser_ctrl_enter_on_selected_text_opens_the_corrections_form_and_it_reaches_the_queue() {
    use crate::helpers::browser::Browser;
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
    let site = format!("http://127.0.0.1:{port}");
    let app = TestApp::builder().trusted_origin(&site).spawn().await;
    let script = patronage::http::public::static_url("embed.js");
    let article = format!(
        "<!doctype html><html lang=\"uk\"><head><meta charset=\"utf-8\"><title>Стаття</title>\
         <link rel=\"canonical\" href=\"{site}/2026/tram\"></head><body>\
         <h1>Трамвай</h1><p id=\"claim\">Трамвайну лінію відкрили 1912 року.</p><p>Інший абзац.</p>\
         <p><a href=\"{base}/corrections/new?url={site}/2026/tram\" data-patronage-correction>Запропонувати виправлення</a></p>\
         <script async src=\"{base}{script}\"></script></body></html>",
        base = app.base_url
    );
    let (site_origin, _site) = newsroom_site(port, article).await;
    let Some(browser) = Browser::open("uk").await else { return };
    browser.goto(&format!("{site_origin}/2026/tram?utm_source=feed#comments")).await;
    // An async script in the page holds its load event back until it has run.
    let ready = browser.wait_for("return document.readyState === 'complete';").await;
    assert_eq!(ready, serde_json::json!(true), "the article and the script loaded");
    browser
        .run(
            "const r = document.createRange(); r.selectNodeContents(document.getElementById('claim'));
             const s = getSelection(); s.removeAllRanges(); s.addRange(r); document.activeElement.blur();",
            serde_json::json!([]),
        )
        .await;
    browser.press_ctrl_enter().await;
    let opened = browser.wait_for("const f = document.querySelector('iframe'); return f ? f.src : '';").await;
    let src = opened.as_str().unwrap_or_default().to_string();
    assert!(src.starts_with(&format!("{}/embed/correction?", app.base_url)), "the dialog opened: {src}");
    let covers = browser
        .run(
            "const r = document.querySelector('iframe').getBoundingClientRect();
             return r.width >= window.innerWidth && r.height >= window.innerHeight;",
            serde_json::json!([]),
        )
        .await;
    assert_eq!(covers, serde_json::json!(true), "the dialog lies over the whole article");
    browser.enter_frame("iframe").await;
    let quoted =
        browser.wait_for("const q = document.getElementById('correction-quote'); return q ? q.value : '';").await;
    assert_eq!(quoted.as_str(), Some("Трамвайну лінію відкрили 1912 року."));
    let text = browser.text().await;
    assert!(text.contains("Запропонувати виправлення чи уточнення"), "in the article's language: {text}");
    assert!(text.contains(&format!("{site}/2026/tram")), "the article's canonical address: {text}");
    browser.type_into("#correction-note", "Насправді 1911 року.").await;
    browser.type_into("#correction-email", "reader@example.org").await;
    browser.click(".correction-dialog button.primary").await;
    let thanks =
        browser.wait_for("return document.body.innerText.includes('Дякуємо') ? document.body.innerText : '';").await;
    assert!(thanks.as_str().is_some_and(|t| t.contains("Ми напишемо вам")), "thanked: {thanks}");

    // It is in the staff queue, as sent.
    let editor = staff(&app, "editor@news.test", patronage::domain::Role::Editor).await;
    editor
        .get("/admin/corrections?status=new")
        .send()
        .await
        .assert_status(200)
        .assert_contains("Насправді 1911 року.")
        .assert_contains("Трамвайну лінію відкрили 1912 року.")
        .assert_contains(&format!("{site}/2026/tram</a>"));
    let (url, email, locale): (String, Option<String>, String) =
        sqlx::query_as("select article_url, email, locale from corrections")
            .fetch_one(app.db().read())
            .await
            .expect("one suggestion");
    assert_eq!(
        (url.as_str(), email.as_deref(), locale.as_str()),
        (format!("{site}/2026/tram").as_str(), Some("reader@example.org"), "uk")
    );

    // Closing the dialog gives the article back.
    browser.click(".correction-dialog button.primary[data-close]").await;
    browser.top().await;
    let closed = browser.wait_for("return document.querySelectorAll('iframe').length === 0;").await;
    assert_eq!(closed, serde_json::json!(true), "the dialog closed");
    // The link opens the same form over the article (not Patronage's page, which
    // is where it leads without scripts), and Escape closes it.
    browser.run("getSelection().removeAllRanges();", serde_json::json!([])).await;
    browser.click("a[data-patronage-correction]").await;
    let opened = browser.wait_for("const f = document.querySelector('iframe'); return f ? f.src : '';").await;
    assert!(opened.as_str().is_some_and(|s| s.contains("/embed/correction?")), "{opened}");
    assert!(browser.current_url().await.starts_with(&site_origin), "the article stays open");
    browser.enter_frame("iframe").await;
    browser.wait_for("return !!document.getElementById('correction-note');").await;
    // Tab from the last control comes back to the first: focus stays in the dialog.
    browser.run("document.querySelector('.correction-cancel').focus();", serde_json::json!([])).await;
    browser.press("\u{E004}").await;
    let focused = browser.run("return document.activeElement.className;", serde_json::json!([])).await;
    assert_eq!(focused.as_str(), Some("correction-close"), "Tab stays in the dialog");
    browser.press("\u{E00C}").await;
    browser.top().await;
    let closed = browser.wait_for("return document.querySelectorAll('iframe').length === 0;").await;
    assert_eq!(closed, serde_json::json!(true), "Escape closed the dialog");
}

/// A page of the newsroom's site on another origin (`port` on loopback),
/// serving `html` to every request.
pub(crate) async fn newsroom_site(port: u16, html: String) -> (String, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("the site's port");
    let origin = format!("http://127.0.0.1:{port}");
    let task = tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let html = html.clone();
            tokio::spawn(async move {
                let mut buf = [0_u8; 4096];
                let _ = socket.read(&mut buf).await;
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{html}",
                    html.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    (origin, task)
}

/// In a real browser, as a reader sees it: an article on the newsroom's own
/// site with the patron box, the poll box and the corrections link, in English
/// and Ukrainian, at phone and desktop widths. Both frames size to their
/// content, nothing scrolls sideways (on the host or in a box), the boxes pass
/// axe-core, and a screenshot of each is written for a person to look at.
#[tokio::test]
async fn in_a_browser_an_article_with_both_boxes_reads_well_on_a_phone_and_a_desktop_in_both_languages() {
    use crate::helpers::browser::{Browser, screenshot_path};
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
    let app = TestApp::builder().trusted_origin(&format!("http://127.0.0.1:{port}")).spawn().await;
    let editor = staff(&app, "editor@example.org", patronage::domain::Role::Editor).await;
    let topics = [open_topic(&editor, "Rents in the old town").await, open_topic(&editor, "The tram depot").await];
    open_round(&app, &editor, &topics, 2, true).await;
    let script = patronage::http::public::static_url("embed.js");
    let base = app.base_url.clone();
    let article = move |lang: &str| {
        format!(
            "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Article</title>\
             <style>body{{font:18px/1.5 Georgia,serif;max-width:40rem;margin:0 auto;padding:1rem}}</style></head><body>\
             <h1>The tram depot will become a park</h1><p>The city council voted on Tuesday to turn the old depot into a park.</p>\
             <a href=\"{base}/patron\" data-patronage-box=\"patron\">Become a patron</a>\
             <a href=\"{base}/topics\" data-patronage-box=\"poll\">Vote for our next story</a>\
             <p><a href=\"{base}/corrections/new\" data-patronage-correction>Suggest a correction</a></p>\
             <script async src=\"{base}{script}\"></script></body></html>"
        )
    };
    for lang in ["en", "uk"] {
        let (site_origin, site) = newsroom_site(port, article(lang)).await;
        let Some(browser) = Browser::open(lang).await else { return };
        for width in [390, 1280] {
            browser.set_width(width).await;
            browser.goto(&format!("{site_origin}/article")).await;
            let sized = browser
                .wait_for(
                    "const f = [...document.querySelectorAll('iframe')].map(f => f.getBoundingClientRect().height);
                     return f.length === 2 && f[0] > 200 && f[1] > 150 ? f : '';",
                )
                .await;
            let wide = browser
                .run("return document.documentElement.scrollWidth - window.innerWidth;", serde_json::json!([]))
                .await;
            assert!(wide.as_i64().unwrap_or(1) <= 0, "{lang} at {width}px: the host page scrolls sideways ({wide})");
            browser.screenshot(&screenshot_path(&format!("embeds/article-{lang}-{width}"))).await;
            for (i, kind) in ["patron", "poll"].iter().enumerate() {
                let framed = browser
                    .run(
                        "return document.querySelectorAll('iframe')[arguments[0]].getBoundingClientRect().height;",
                        serde_json::json!([i]),
                    )
                    .await
                    .as_f64()
                    .unwrap_or(0.0);
                browser.enter_frame(&format!("iframe:nth-of-type({})", i + 1)).await;
                let content = browser
                    .run("return document.querySelector('main').getBoundingClientRect().bottom;", serde_json::json!([]))
                    .await
                    .as_f64()
                    .unwrap_or(0.0);
                assert!(
                    (framed - content).abs() < 40.0,
                    "{kind} box, {lang} at {width}px: the frame ({framed} px) fits its content ({content} px)"
                );
                let text = browser.text().await;
                assert!(text.contains("The tram depot"), "{kind} box, {lang} at {width}px shows the round: {text}");
                let findings = browser.check_page(true).await;
                assert!(findings.problems.is_empty(), "{kind} box, {lang} at {width}px: {:?}", findings.problems);
                browser.top().await;
            }
            assert!(sized.is_array(), "{sized}");
        }
        site.abort();
        let _ = site.await;
    }
}
