//! Where patrons come from: the source an embed, a link or a posted form
//! carries (article, referrer host, utm values), kept first on the member and
//! last on each checkout and ledger row, and the sources report.
use patronage::domain::Role;
use serde_json::json;

use crate::helpers::stripe_mock::Settled;
use crate::helpers::voting::{pay_demo, staff};
use crate::helpers::{TestApp, TestClient};

const NEWSROOM: &str = "https://news.example";
const ARTICLE: &str = "https://news.example/2026/04/bridge-repairs";

fn query(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

/// What the patron box's link carries once the embed script has added the
/// host page's source (`static/embed-frame.js`).
fn from_the_box(price: &str, campaign: &str) -> String {
    format!(
        "/patron?{}",
        query(&[
            ("currency", "eur"),
            ("price", price),
            ("article", &format!("{ARTICLE}?utm_source=newsletter#comments")),
            ("referrer", "https://www.google.com/search?q=private+words"),
            ("utm_source", "newsletter"),
            ("utm_medium", "email"),
            ("utm_campaign", campaign),
        ])
    )
}

/// Lands on the patron page from the box, then becomes a demo patron of
/// `slug` (monthly, EUR) there.
async fn patron_from_the_box(app: &TestApp, browser: &TestClient, email: &str, campaign: &str) {
    let price = app.price_id("supporter", "month", "eur").await;
    browser.get(&from_the_box(&price, campaign)).send().await.assert_status(200);
    let start = browser.post_form("/patron", &[("price", &price), ("email", email)]).send().await;
    pay_demo(browser, &start, "succeed").await.assert_status(303);
    app.deliver_mail().await;
}

/// The CSV's rows as cells (quotes removed), without the header.
fn csv_rows(body: &str) -> Vec<Vec<String>> {
    body.split("\r\n")
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| l.split("\",\"").map(|c| c.trim_matches('"').replace("\"\"", "\"")).collect())
        .collect()
}

fn row<'a>(rows: &'a [Vec<String>], dimension: &str, value: &str, currency: &str) -> Option<&'a [String]> {
    rows.iter().find(|r| r[0] == dimension && r[1] == value && r[2] == currency).map(Vec::as_slice)
}

async fn sources_csv(analyst: &TestClient, range: &str) -> Vec<Vec<String>> {
    let r = analyst.get(&format!("/admin/reports/sources.csv?{range}")).send().await;
    r.assert_status(200);
    csv_rows(&r.body)
}

async fn source_of(app: &TestApp, sql: &'static str, key: &str) -> Option<(String, String, String, String, String)> {
    sqlx::query_as(sql).bind(key).fetch_optional(app.db().read()).await.expect("a source query")
}

const MEMBER_FIRST: &str = "select s.article_url, s.referrer_host, s.utm_source, s.utm_medium, s.utm_campaign
     from members m join sources s on s.id = m.first_source_id where m.email = $1";
const PAYMENT_SOURCE: &str = "select s.article_url, s.referrer_host, s.utm_source, s.utm_medium, s.utm_campaign
     from payments p join sources s on s.id = p.source_id where p.provider_id = $1";

fn five(
    article: &str,
    referrer: &str,
    source: &str,
    medium: &str,
    campaign: &str,
) -> (String, String, String, String, String) {
    (article.into(), referrer.into(), source.into(), medium.into(), campaign.into())
}

#[tokio::test]
async fn a_join_and_a_demo_checkout_from_an_embed_appear_under_its_article_and_campaign() {
    let app = TestApp::builder().trusted_origin(NEWSROOM).spawn().await;
    // The box itself is the same for everyone: the source never enters it.
    let embed = format!("/embed/patron?lang=en&{}", query(&[("article", ARTICLE), ("utm_campaign", "spring")]));
    let r = app.new_browser().get(&embed).send().await;
    r.assert_status(200).assert_not_contains("bridge-repairs").assert_not_contains("spring");
    assert!(r.header("set-cookie").is_none(), "a third-party frame sets no cookie");

    // A reader follows the box's link and becomes a patron.
    let reader = app.new_browser();
    patron_from_the_box(&app, &reader, "patron@example.org", "spring").await;
    // Another joins with the newsroom's own form on the article page.
    let joiner = app.new_browser();
    joiner
        .post_form(
            "/join",
            &[
                ("email", "joiner@example.org"),
                ("name", ""),
                ("article", ARTICLE),
                ("utm_source", "newsletter"),
                ("utm_medium", "email"),
                ("utm_campaign", "spring"),
            ],
        )
        .header("referer", "https://news.example/")
        .send()
        .await
        .assert_status(303);
    app.deliver_mail().await;

    assert_eq!(
        source_of(&app, MEMBER_FIRST, "patron@example.org").await,
        Some(five(ARTICLE, "google.com", "newsletter", "email", "spring"))
    );
    assert_eq!(
        source_of(&app, MEMBER_FIRST, "joiner@example.org").await,
        Some(five(ARTICLE, "news.example", "newsletter", "email", "spring"))
    );

    let analyst = staff(&app, "analyst@news.test", Role::Analyst).await;
    let page = analyst.get("/admin/reports/sources").send().await;
    page.assert_status(200)
        .assert_contains(ARTICLE)
        .assert_contains("spring (newsletter / email)")
        .assert_contains("google.com")
        .assert_contains("Members created in this range: 2.");
    let rows = sources_csv(&analyst, "range=12m").await;
    assert_eq!(row(&rows, "article", ARTICLE, "").map(|r| r[3].as_str()), Some("2"), "{rows:?}");
    assert_eq!(row(&rows, "campaign", "spring (newsletter / email)", "").map(|r| r[3].as_str()), Some("2"));
    let article = row(&rows, "article", ARTICLE, "EUR").expect("the article's EUR line");
    assert_eq!(&article[4..], ["1", "1", "6.00", "0", "0.00", "6.00"], "one new patron, €6.00");
    let campaign = row(&rows, "campaign", "spring (newsletter / email)", "EUR").expect("the campaign's line");
    assert_eq!(&campaign[4..], ["1", "1", "6.00", "0", "0.00", "6.00"]);
    let referrer = row(&rows, "referrer", "google.com", "EUR").expect("the referrer's line");
    assert_eq!(&referrer[4..], ["1", "1", "6.00", "0", "0.00", "6.00"]);
}

#[tokio::test]
async fn the_page_cache_never_serves_one_readers_source_to_another() {
    let app = TestApp::builder().trusted_origin(NEWSROOM).spawn().await;
    let first = app.new_browser();
    let landing = first.get(&format!("/?{}", query(&[("article", ARTICLE), ("utm_campaign", "cached")]))).send().await;
    landing.assert_status(200).assert_not_contains("bridge-repairs").assert_not_contains("cached");
    assert!(first.cookie("patronage_source").is_some(), "the landing reader's session remembers it");
    // The next reader gets the same cached page, and no source.
    let second = app.new_browser();
    let again = second.get("/").send().await;
    assert_eq!(again.body, landing.body);
    assert!(again.header("set-cookie").is_none_or(|c| !c.contains("patronage_source")));
    let price = app.price_id("supporter", "month", "eur").await;
    let start = second.post_form("/patron", &[("price", &price), ("email", "second@example.org")]).send().await;
    pay_demo(&second, &start, "succeed").await.assert_status(303);
    app.deliver_mail().await;
    assert_eq!(source_of(&app, MEMBER_FIRST, "second@example.org").await, None);
    assert_eq!(app.count("select count(*) from payments where source_id is not null").await, 0);
}

#[tokio::test]
async fn a_member_keeps_the_first_source_and_each_checkout_its_own() {
    let app = TestApp::builder().trusted_origin(NEWSROOM).spawn().await;
    let reader = app.new_browser();
    patron_from_the_box(&app, &reader, "twice@example.org", "first-drive").await;
    // Later the same reader gives once, from another campaign's link.
    reader.get(&format!("/donate?{}", query(&[("utm_source", "social"), ("utm_campaign", "winter")]))).send().await;
    let start = reader.post_form("/donate", &[("currency", "EUR"), ("preset", "10")]).send().await;
    pay_demo(&reader, &start, "succeed").await.assert_status(303);
    app.deliver_mail().await;

    assert_eq!(
        source_of(&app, MEMBER_FIRST, "twice@example.org").await,
        Some(five(ARTICLE, "google.com", "newsletter", "email", "first-drive")),
        "the member keeps where they first came from"
    );
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "select p.kind, s.utm_campaign, s.utm_source from payments p join sources s on s.id = p.source_id
         order by p.kind",
    )
    .fetch_all(app.db().read())
    .await
    .expect("ledger");
    assert_eq!(
        rows,
        vec![
            ("donation".to_string(), "winter".to_string(), "social".to_string()),
            ("subscription".to_string(), "first-drive".to_string(), "newsletter".to_string()),
        ]
    );
    let (sub,): (String,) =
        sqlx::query_as("select s.utm_campaign from subscriptions u join sources s on s.id = u.source_id")
            .fetch_one(app.db().read())
            .await
            .expect("the subscription's source");
    assert_eq!(sub, "first-drive");
    assert_eq!(app.count("select count(*) from sources").await, 2, "each distinct source once");
}

#[tokio::test]
async fn hostile_source_values_are_dropped_or_cut_and_never_break_a_checkout() {
    let app = TestApp::builder().trusted_origin(NEWSROOM).spawn().await;
    let long = "x".repeat(3000);
    let hostile: Vec<(&str, &str)> = vec![
        ("article", "javascript:alert(document.cookie)"),
        ("referrer", "data:text/html,<script>alert(1)</script>"),
        ("utm_source", "evil\u{0}\u{1b}[31m\r\nSet-Cookie: x=1"),
        ("utm_medium", "\u{202E}liame"),
        ("utm_campaign", &long),
    ];
    let reader = app.new_browser();
    reader.get(&format!("/patron?{}", query(&hostile))).send().await.assert_status(200);
    let price = app.price_id("supporter", "month", "eur").await;
    let start = reader.post_form("/patron", &[("price", &price), ("email", "hostile@example.org")]).send().await;
    pay_demo(&reader, &start, "succeed").await.assert_status(303);
    app.deliver_mail().await;
    let (article, referrer, source, medium, campaign) =
        source_of(&app, MEMBER_FIRST, "hostile@example.org").await.expect("what could be kept is kept");
    assert_eq!((article.as_str(), referrer.as_str()), ("", ""), "non-http URLs are dropped");
    assert_eq!(source, "evil[31m set-cookie: x=1", "control characters dropped, line breaks as spaces");
    assert_eq!(medium, "liame", "invisible formatting dropped");
    assert_eq!(campaign, "x".repeat(80), "cut to 80 characters");

    // An article outside the newsroom's origins is dropped; nothing else given: no source at all.
    let outsider = app.new_browser();
    let r = outsider
        .post_form(
            "/join",
            &[("email", "outsider@example.org"), ("name", ""), ("article", "https://evil.example/news.example/a")],
        )
        .send()
        .await;
    r.assert_status(303);
    let ftp = app.new_browser();
    ftp.post_form("/join", &[("email", "ftp@example.org"), ("name", ""), ("article", "ftp://news.example/a")])
        .send()
        .await
        .assert_status(303);
    // A tampered cookie is input too.
    let tampered = app.new_browser();
    tampered.set_cookie("patronage_source", "article=javascript%3Aalert(1)&referrer=%00");
    tampered.post_form("/join", &[("email", "tampered@example.org"), ("name", "")]).send().await.assert_status(303);
    app.deliver_mail().await;
    for email in ["outsider@example.org", "ftp@example.org", "tampered@example.org"] {
        assert_eq!(source_of(&app, MEMBER_FIRST, email).await, None, "{email}");
    }
    assert_eq!(app.count("select count(*) from members").await, 4, "every join went through");
    assert_eq!(
        app.count("select count(*) from sources where article_url like '%javascript%' or referrer_host like '%data%'")
            .await,
        0
    );
}

#[tokio::test]
async fn editors_get_403_on_the_sources_report_and_its_csv() {
    let app = TestApp::spawn().await;
    let editor = staff(&app, "editor@news.test", Role::Editor).await;
    editor.get("/admin/reports/sources").send().await.assert_status(403);
    editor.get("/admin/reports/sources.csv").send().await.assert_status(403);
    assert_eq!(app.count("select count(*) from audit_log where action = 'report.export'").await, 0);
    let admin = staff(&app, "admin@news.test", Role::Admin).await;
    admin.get("/admin/reports/sources").send().await.assert_status(200);
    admin.get("/admin/reports/sources?range=custom&from=2031-05&to=2030-01").send().await.assert_status(400);
    admin.get("/admin/reports/sources.csv?range=12m").send().await.assert_status(200);
}

#[tokio::test]
async fn the_sources_csv_neutralises_formula_cells() {
    let app = TestApp::builder().trusted_origin(NEWSROOM).spawn().await;
    let reader = app.new_browser();
    patron_from_the_box(&app, &reader, "formula@example.org", "=HYPERLINK(\"https://evil.example\",\"x\")").await;
    let analyst = staff(&app, "analyst@news.test", Role::Admin).await;
    let csv = analyst.get("/admin/reports/sources.csv?range=12m").send().await;
    csv.assert_status(200);
    assert_eq!(csv.header("content-type").as_deref(), Some("text/csv; charset=utf-8"));
    assert!(
        csv.body.contains("\"'=hyperlink(\"\"https://evil.example\"\",\"\"x\"\") (newsletter / email)\""),
        "{}",
        csv.body
    );
    assert!(!csv.body.contains(",\"=hyperlink"));
}

/// A small set worked out by hand: two currencies, never added together.
#[tokio::test]
async fn the_sources_report_of_a_small_set_is_exact_per_currency() {
    let app = TestApp::builder().trusted_origin(NEWSROOM).spawn().await;
    let price = |currency: &'static str| {
        let app = &app;
        async move { app.price_id("supporter", "month", currency).await }
    };
    let (eur, usd) = (price("eur").await, price("usd").await);
    let other = "https://news.example/2026/05/school-meals";
    // 1. Bridge article, campaign "spring": a EUR patron (6.00) and a 10.00 EUR gift.
    let a = app.new_browser();
    a.get(&format!("/patron?{}", query(&[("article", ARTICLE), ("utm_campaign", "spring")]))).send().await;
    let s = a.post_form("/patron", &[("price", &eur), ("email", "a@example.org")]).send().await;
    pay_demo(&a, &s, "succeed").await.assert_status(303);
    let s = a.post_form("/donate", &[("currency", "EUR"), ("preset", "10")]).send().await;
    pay_demo(&a, &s, "succeed").await.assert_status(303);
    // 2. Same article and campaign, a USD patron.
    let b = app.new_browser();
    b.get(&format!("/patron?{}", query(&[("article", ARTICLE), ("utm_campaign", "spring")]))).send().await;
    let s = b.post_form("/patron", &[("price", &usd), ("email", "b@example.org")]).send().await;
    pay_demo(&b, &s, "succeed").await.assert_status(303);
    // 3. The school article from t.co: two gifts, 25 and 3 EUR.
    let c = app.new_browser();
    c.get(&format!("/donate?{}", query(&[("article", other), ("referrer", "https://t.co/abc")]))).send().await;
    for preset in ["25", "3"] {
        let s = c.post_form("/donate", &[("currency", "EUR"), ("preset", preset)]).send().await;
        pay_demo(&c, &s, "succeed").await.assert_status(303);
    }
    // 4. No source: a EUR patron.
    let d = app.new_browser();
    let s = d.post_form("/patron", &[("price", &eur), ("email", "d@example.org")]).send().await;
    pay_demo(&d, &s, "succeed").await.assert_status(303);
    // 5. A failed checkout from the school article counts nothing.
    let e = app.new_browser();
    e.get(&format!("/patron?{}", query(&[("article", other)]))).send().await;
    let s = e.post_form("/patron", &[("price", &eur), ("email", "e@example.org")]).send().await;
    pay_demo(&e, &s, "fail").await.assert_status(303);
    app.deliver_mail().await;

    let (usd_amount,): (i64,) = sqlx::query_as("select amount_minor from tier_prices where id = $1")
        .bind(&usd)
        .fetch_one(app.db().read())
        .await
        .expect("the USD price");
    let usd_major = format!("{}.{:02}", usd_amount / 100, usd_amount % 100);
    let analyst = staff(&app, "analyst@news.test", Role::Analyst).await;
    let rows = sources_csv(&analyst, "range=12m").await;
    let cells = |dim: &str, value: &str, currency: &str| {
        row(&rows, dim, value, currency)
            .map(|r| r[3..].to_vec())
            .unwrap_or_else(|| panic!("{dim} {value} {currency}: {rows:?}"))
    };
    let s = |v: &[&str]| v.iter().map(|c| c.to_string()).collect::<Vec<_>>();
    // New members (no currency): a, b by the bridge article; e by the school article; d none.
    assert_eq!(cells("article", ARTICLE, ""), s(&["2", "", "", "", "", "", ""]));
    assert_eq!(cells("article", other, ""), s(&["1", "", "", "", "", "", ""]));
    assert_eq!(cells("article", "", ""), s(&["1", "", "", "", "", "", ""]));
    // Money per currency: new patrons, memberships, membership revenue, gifts, gift revenue, revenue.
    assert_eq!(cells("article", ARTICLE, "EUR"), s(&["", "1", "1", "6.00", "1", "10.00", "16.00"]));
    assert_eq!(cells("article", ARTICLE, "USD"), s(&["", "1", "1", &usd_major, "0", "0.00", &usd_major]));
    assert_eq!(cells("article", other, "EUR"), s(&["", "0", "0", "0.00", "2", "28.00", "28.00"]));
    assert_eq!(cells("article", "", "EUR"), s(&["", "1", "1", "6.00", "0", "0.00", "6.00"]));
    assert_eq!(cells("campaign", "spring (– / –)", "EUR"), s(&["", "1", "1", "6.00", "1", "10.00", "16.00"]));
    assert_eq!(cells("campaign", "", "EUR"), s(&["", "1", "1", "6.00", "2", "28.00", "34.00"]));
    assert_eq!(cells("referrer", "t.co", "EUR"), s(&["", "0", "0", "0.00", "2", "28.00", "28.00"]));
    assert_eq!(cells("referrer", "", "EUR"), s(&["", "2", "2", "12.00", "1", "10.00", "22.00"]));
    assert!(row(&rows, "article", other, "USD").is_none(), "currencies are never mixed");
    assert_eq!(rows.iter().filter(|r| r[2] == "USD").count(), 3, "one USD line per dimension");
    // The page shows the same, one section per currency.
    analyst
        .get("/admin/reports/sources?range=12m")
        .send()
        .await
        .assert_status(200)
        .assert_contains("New patrons: 2; memberships: 2 (€12.00); gifts: 3 (€38.00); revenue: €50.00.");
    assert_eq!(
        app.count("select count(*) from audit_log where action = 'report.export' and target = 'sources'").await,
        1,
        "the export is audit-logged"
    );
}

#[tokio::test]
async fn the_stripe_checkout_carries_the_source_and_a_signed_event_books_the_ledger_row_with_it() {
    let app = TestApp::builder().with_stripe().trusted_origin(NEWSROOM).spawn().await;
    let price = app.price_id("supporter", "month", "eur").await;
    app.client.get(&from_the_box(&price, "stripe-drive")).send().await.assert_status(200);
    app.client
        .post_form("/patron", &[("price", &price), ("email", "stripe.source@example.org")])
        .send()
        .await
        .assert_status(303);
    let mock = app.stripe();
    let session_request = mock.requests_to("POST", "/v1/checkout/sessions").remove(0);
    for prefix in ["metadata", "subscription_data[metadata]"] {
        let f = |k: &str| session_request.field(&format!("{prefix}[{k}]")).map(str::to_string);
        assert_eq!(f("article").as_deref(), Some(ARTICLE), "{prefix}");
        assert_eq!(f("referrer").as_deref(), Some("google.com"), "{prefix}: the host only");
        assert_eq!(f("utm_campaign").as_deref(), Some("stripe-drive"), "{prefix}");
        assert_eq!(f("utm_source").as_deref(), Some("newsletter"), "{prefix}");
        assert_eq!(f("utm_medium").as_deref(), Some("email"), "{prefix}");
    }
    // Stripe copies subscription_data.metadata onto the subscription it makes.
    let metadata: serde_json::Map<String, serde_json::Value> = session_request
        .form
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("subscription_data[metadata][")
                .and_then(|k| k.strip_suffix(']'))
                .map(|k| (k.to_string(), json!(v)))
        })
        .collect();
    let (member_id, customer): (String, Option<String>) =
        sqlx::query_as("select id, stripe_customer_id from members where email = 'stripe.source@example.org'")
            .fetch_one(app.db().read())
            .await
            .expect("member");
    let customer = customer.expect("a customer");
    let (stripe_price,): (Option<String>,) = sqlx::query_as("select stripe_price_id from tier_prices where id = $1")
        .bind(&price)
        .fetch_one(app.db().read())
        .await
        .expect("price");
    let stripe_price = stripe_price.expect("synced");
    assert_eq!(metadata.get("member_id"), Some(&json!(member_id)));
    mock.put(mock.subscription("sub_src", &customer, &stripe_price, 600, "eur", "month", "active", json!(metadata)));
    mock.put_charge("ch_src", 600, "eur", Some(&customer), Settled { amount: 600, fee: 34, currency: "eur" });
    let invoice = mock.put_paid_invoice("in_src", "sub_src", "ch_src");
    let (id, r) = app.send_stripe_event("invoice.paid", invoice).await;
    r.assert_status(200);
    assert_eq!(app.stripe_event_status(&id).await, "applied");
    assert_eq!(
        source_of(&app, PAYMENT_SOURCE, "in_src").await,
        Some(five(ARTICLE, "google.com", "newsletter", "email", "stripe-drive"))
    );

    // A gift: on the session and its payment intent, and on the ledger row.
    app.client.get(&format!("/donate?{}", query(&[("utm_campaign", "gift-drive"), ("article", ARTICLE)]))).send().await;
    let gift = app.client.post_form("/donate", &[("currency", "EUR"), ("preset", "25")]).send().await;
    gift.assert_status(303);
    let gift_session = gift.location().and_then(|l| l.rsplit('/').next().map(str::to_string)).expect("a session");
    let gift_request = mock.requests_to("POST", "/v1/checkout/sessions").remove(1);
    assert_eq!(gift_request.field("metadata[utm_campaign]"), Some("gift-drive"));
    assert_eq!(gift_request.field("payment_intent_data[metadata][utm_campaign]"), Some("gift-drive"));
    assert_eq!(gift_request.field("payment_intent_data[metadata][article]"), Some(ARTICLE));
    let mut session = mock.get(&gift_session).expect("the gift's session");
    session["status"] = json!("complete");
    session["payment_status"] = json!("paid");
    session["payment_intent"] = json!("pi_ch_gift_src");
    mock.put(session.clone());
    mock.put_charge("ch_gift_src", 2500, "eur", None, Settled { amount: 2500, fee: 63, currency: "eur" });
    let (id, r) = app.send_stripe_event("checkout.session.completed", session).await;
    r.assert_status(200);
    assert_eq!(app.stripe_event_status(&id).await, "applied");
    let (_, _, _, _, campaign) = source_of(&app, PAYMENT_SOURCE, "ch_gift_src").await.expect("the gift's source");
    assert_eq!(campaign, "gift-drive");
    // An edited (hostile) metadata value read back from Stripe is checked again.
    let mut hostile = metadata.clone();
    hostile.insert("article".into(), json!("javascript:alert(1)"));
    hostile.insert("utm_campaign".into(), json!("x".repeat(400)));
    mock.put(mock.subscription("sub_src2", &customer, &stripe_price, 600, "eur", "month", "active", json!(hostile)));
    mock.put_charge("ch_src2", 600, "eur", Some(&customer), Settled { amount: 600, fee: 34, currency: "eur" });
    let invoice = mock.put_paid_invoice("in_src2", "sub_src2", "ch_src2");
    let (id, _) = app.send_stripe_event("invoice.paid", invoice).await;
    assert_eq!(app.stripe_event_status(&id).await, "applied");
    let (article, _, _, _, campaign) = source_of(&app, PAYMENT_SOURCE, "in_src2").await.expect("kept what is safe");
    assert_eq!((article.as_str(), campaign.len()), ("", 80));
}

/// In a real browser: an article on the newsroom's site, reached from a
/// campaign link, embeds the patron box; choosing a price there opens the
/// patron page with the article and campaign, and the demo checkout done in
/// that tab books the ledger row under them.
#[tokio::test]
async fn in_a_browser_the_box_carries_the_article_and_campaign_to_checkout() {
    use crate::helpers::browser::Browser;
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
    let site = format!("http://127.0.0.1:{port}");
    let app = TestApp::builder().trusted_origin(&site).spawn().await;
    let script = patronage::http::public::static_url("embed.js");
    let article = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>An article</title></head><body>\
         <h1>Bridge repairs</h1><a href=\"{base}/patron\" data-patronage-box=\"patron\">Become a patron</a>\
         <script async src=\"{base}{script}\"></script></body></html>",
        base = app.base_url
    );
    let (_, _site) = crate::embeds::newsroom_site(port, article).await;
    let Some(browser) = Browser::open("en").await else { return };
    browser
        .goto(&format!("{site}/2026/bridge?utm_source=social&utm_medium=post&utm_campaign=browser-drive&token=secret"))
        .await;
    let mut ready = false;
    for _ in 0..100 {
        let found = browser.run("return !!document.querySelector('iframe');", json!([])).await;
        if found.as_bool() == Some(true) {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(ready, "the box was made");
    browser.enter_frame("iframe").await;
    let mut carried = false;
    for _ in 0..100 {
        let href = browser
            .run("const a = document.querySelector('ul.embed-tiers a.button'); return a ? a.href : '';", json!([]))
            .await;
        if href.as_str().is_some_and(|h| h.contains("utm_campaign=browser-drive")) {
            carried = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(carried, "the box's links carry the page's source");
    browser.click("ul.embed-tiers a.button").await;
    browser.top().await;
    let mut url = String::new();
    for _ in 0..100 {
        url = browser.current_url().await;
        if url.starts_with(&app.base_url) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(url.starts_with(&format!("{}/patron?", app.base_url)), "{url}");
    assert!(url.contains("utm_campaign=browser-drive") && url.contains("article="), "{url}");
    assert!(!url.contains("secret"), "the article's query stays on the newsroom's site: {url}");
    browser
        .run(
            "document.querySelector('#patron-email').value = 'browser@example.org'; \
             document.querySelector('form[action=\"/patron\"]').submit(); return true;",
            json!([]),
        )
        .await;
    for _ in 0..100 {
        if browser.current_url().await.contains("/demo/checkout") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    browser.click("button[value=succeed]").await;
    for _ in 0..100 {
        if browser.current_url().await.contains("/patron/welcome") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    app.deliver_mail().await;
    let (article, _, source, medium, campaign) =
        source_of(&app, MEMBER_FIRST, "browser@example.org").await.expect("the member's first source");
    assert_eq!(article, format!("{site}/2026/bridge"));
    assert_eq!((source.as_str(), medium.as_str(), campaign.as_str()), ("social", "post", "browser-drive"));
    let (campaign,): (String,) = sqlx::query_as(
        "select s.utm_campaign from payments p join sources s on s.id = p.source_id where p.kind = 'subscription'",
    )
    .fetch_one(app.db().read())
    .await
    .expect("the ledger row's source");
    assert_eq!(campaign, "browser-drive");
}

/// The demo newsroom's readers come from somewhere: the report's lines add up
/// to the ledger and to the members, per currency, whatever the range, also
/// after the report months are rebuilt; the page passes axe.
#[tokio::test]
async fn the_sources_report_adds_up_to_the_ledger_for_the_demo_newsroom() {
    use patronage::services::demo_data::{self, Options};
    let app = TestApp::spawn().await;
    demo_data::generate(&app.ctx, Options { members: 150, months: 14, seed: 7 }).await.expect("demo data");
    let analyst = staff(&app, "analyst@news.test", Role::Analyst).await;
    let check = async |range: &str| {
        let rows = sources_csv(&analyst, range).await;
        for dimension in ["article", "campaign", "referrer"] {
            let joined: i64 = rows
                .iter()
                .filter(|r| r[0] == dimension && r[2].is_empty())
                .map(|r| r[3].parse::<i64>().expect("n"))
                .sum();
            assert_eq!(joined, app.count("select count(*) from members").await, "{dimension} {range}");
            for currency in ["EUR", "USD", "UAH"] {
                let cents: i64 = rows
                    .iter()
                    .filter(|r| r[0] == dimension && r[2] == currency)
                    .map(|r| r[9].replace('.', "").parse::<i64>().expect("an amount"))
                    .sum();
                let (ledger,): (i64,) = sqlx::query_as(
                    "select cast(coalesce(sum(gross_minor), 0) as bigint) from payments
                     where kind in ('subscription', 'donation') and currency = $1",
                )
                .bind(currency.to_lowercase())
                .fetch_one(app.db().read())
                .await
                .expect("ledger sum");
                assert_eq!(cents, ledger, "{dimension} {currency} {range}");
            }
        }
        rows
    };
    let rows = check("range=all").await;
    assert!(rows.iter().any(|r| r[0] == "article" && r[1].contains("bridge-repairs") && r[2] == "EUR"), "{rows:?}");
    let patrons: i64 =
        rows.iter().filter(|r| r[0] == "article" && !r[2].is_empty()).map(|r| r[4].parse::<i64>().expect("n")).sum();
    assert_eq!(patrons, app.count("select count(*) from subscriptions where first_paid_at is not null").await);
    // The aggregates rebuilt from the ledger (as when NEWSROOM_TIMEZONE changes) say the same.
    sqlx::query("delete from settings where key = 'report_timezone'")
        .execute(&mut *app.db().write().await.expect("a write"))
        .await
        .expect("forgotten");
    sqlx::query("delete from source_monthly")
        .execute(&mut *app.db().write().await.expect("a write"))
        .await
        .expect("emptied");
    patronage::services::reports::prepare(&app.ctx).await.expect("rebuilt");
    assert_eq!(check("range=all").await, rows);
    let Some(browser) = crate::helpers::browser::Browser::open("en").await else { return };
    let cookie = analyst.cookie("patronage_staff").expect("a staff session");
    browser.goto(&app.base_url).await;
    browser.add_cookie("patronage_staff", &cookie).await;
    browser.goto(&format!("{}/admin/reports/sources?range=all", app.base_url)).await;
    // Staff pages are for a desktop (as in `staff_pages`): no cut-off table, no axe violation.
    browser.set_width(crate::helpers::browser::DESKTOP).await;
    let problems = browser.check_page(true).await.problems;
    assert!(problems.is_empty(), "{problems:?}");
}
