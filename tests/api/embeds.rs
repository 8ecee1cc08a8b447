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
