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
        .assert_contains("data-patronage-box=&quot;poll&quot;");
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
    assert!(r.body.contains("data-patronage-box"));
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
