//! The public JSON API (`/api/v1/…`): what it says matches what the pages
//! show, it hides what they hide, it is readable cross-origin by the trusted
//! origins only, it is cached and revalidated, its errors are JSON, and its
//! OpenAPI document describes exactly the routes it serves.
use std::collections::BTreeSet;

use patronage::domain::Role;
use serde_json::Value;

use crate::helpers::voting::{demo_patron, open_round, open_topic, staff, vote};
use crate::helpers::{TestApp, TestResponse};

const NEWSROOM: &str = "https://news.example";

#[track_caller]
fn json_of(r: &TestResponse) -> Value {
    r.assert_status(200);
    assert_eq!(r.header("content-type").as_deref(), Some("application/json"), "{}", r.body);
    r.json()
}

fn tier<'a>(body: &'a Value, slug: &str) -> &'a Value {
    body["tiers"].as_array().and_then(|t| t.iter().find(|t| t["slug"] == slug)).expect("the tier is listed")
}

fn price<'a>(tier: &'a Value, interval: &str, currency: &str) -> &'a Value {
    tier["prices"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["interval"] == interval && p["currency"] == currency))
        .expect("the price is listed")
}

fn str_of(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("a string: {v}"))
}

#[tokio::test]
async fn tiers_and_prices_are_those_the_patron_page_shows_in_the_asked_language() {
    let app = TestApp::spawn().await;
    let en = json_of(&app.new_browser().get("/api/v1/tiers?lang=en").send().await);
    assert_eq!(en["lang"], "en");
    let supporter = tier(&en, "supporter");
    let month = price(supporter, "month", "EUR");
    assert_eq!((month["amount_minor"].as_i64(), month["amount"].as_str()), (Some(600), Some("€6.00")));
    assert_eq!(month["label"], "€6.00 a month");
    assert_eq!(month["id"], app.price_id("supporter", "month", "eur").await.as_str());
    assert!(str_of(&month["checkout_url"]).ends_with(&format!("/patron?currency=eur&price={}", str_of(&month["id"]))));
    // Every tier, name and euro price the API lists is on the patron page, and in its order.
    let page = app.new_browser().get("/patron?currency=eur").send().await;
    page.assert_status(200);
    let mut last = 0;
    for t in en["tiers"].as_array().expect("tiers") {
        let at = page.body.find(&format!(">{}<", str_of(&t["name"]))).expect("the tier is on the page");
        assert!(at > last, "in the page's order");
        last = at;
        for p in t["prices"].as_array().expect("prices").iter().filter(|p| p["currency"] == "EUR") {
            page.assert_contains(str_of(&p["label"]));
        }
        for b in t["benefits"].as_array().expect("benefits") {
            page.assert_contains(str_of(b));
        }
    }
    // In Ukrainian, asked for by `lang` or by Accept-Language: the labels of the Ukrainian page.
    let uk = json_of(&app.new_browser().get("/api/v1/tiers?lang=uk").send().await);
    let by_header = app.new_browser().get("/api/v1/tiers").header("accept-language", "uk-UA,uk;q=0.9").send().await;
    assert_eq!(json_of(&by_header), uk);
    assert_eq!(uk["lang"], "uk");
    let hryvnia = price(tier(&uk, "supporter"), "month", "UAH");
    let page = app.new_browser().get("/patron?currency=uah").header("accept-language", "uk").send().await;
    page.assert_contains(str_of(&hryvnia["label"]));
    assert!(str_of(&hryvnia["label"]).contains("на місяць"), "{hryvnia}");
}

#[tokio::test]
async fn the_open_round_and_its_live_standing_are_those_of_the_round_page() {
    let app = TestApp::builder().trusted_origin(NEWSROOM).spawn().await;
    let none = json_of(&app.new_browser().get("/api/v1/rounds/open").send().await);
    assert_eq!(none["rounds"], serde_json::json!([]));
    let editor = staff(&app, "editor@news.test", Role::Editor).await;
    let a = open_topic(&editor, "Bridge repairs").await;
    let b = open_topic(&editor, "School meals").await;
    let round = open_round(&app, &editor, &[a.clone(), b.clone()], 3, true).await;
    let patron = demo_patron(&app, "api-voter@example.org", "supporter").await;
    vote(&patron, &round, &b).await.assert_status(303);
    app.deliver_mail().await;

    let r = app.new_browser().get("/api/v1/rounds/open?lang=en").send().await;
    let body = json_of(&r);
    assert!(!r.body.contains("api-voter@example.org"), "nothing personal");
    let rounds = body["rounds"].as_array().expect("rounds");
    assert_eq!(rounds.len(), 1);
    let api = &rounds[0];
    assert_eq!(api["id"], round.as_str());
    assert!(str_of(&api["url"]).ends_with(&format!("/rounds/{round}")));
    assert_eq!((api["tallies_public"].as_bool(), api["max_votes"].as_i64()), (Some(true), Some(3)));
    let remaining = api["remaining_seconds"].as_i64().expect("seconds");
    assert!((7 * 86_400 - 3_600..=7 * 86_400).contains(&remaining), "{remaining}");
    let entries = api["entries"].as_array().expect("entries");
    let ids: Vec<&str> = entries.iter().map(|e| str_of(&e["topic_id"])).collect();
    assert_eq!(ids, [b.as_str(), a.as_str()], "the topic with the vote leads");
    assert_eq!((entries[0]["votes"].as_i64(), entries[0]["percent"].as_i64()), (Some(1), Some(100)));
    assert_eq!((entries[1]["votes"].as_i64(), entries[1]["weight"].as_i64()), (Some(0), Some(0)));

    // The round page a visitor sees: the same title, order, closing time and tallies.
    let page = app.new_browser().get(&format!("/rounds/{round}")).send().await;
    page.assert_status(200).assert_contains(str_of(&api["title"]));
    let closes = str_of(&api["closes_at"]);
    page.assert_contains(&format!("{} {} UTC", &closes[..10], &closes[11..16]));
    let at = |id: &str| page.body.find(&format!("id=\"topic-{id}\"")).expect("on the page");
    assert!(at(&b) < at(&a), "the page's order");
    let weight = entries[0]["weight"].as_i64().expect("weight");
    let points = if weight == 1 { "1 point".to_string() } else { format!("{weight} points") };
    page.assert_contains(&format!("{points} · 1 vote"));
    page.assert_contains(&format!("value=\"{}\"", entries[0]["percent"]));
    // And the poll box.
    let poll = app.new_browser().get("/embed/poll?lang=en").send().await;
    let at = |id: &str| poll.body.find(&format!("/topics/{id}")).expect("in the box");
    assert!(at(&b) < at(&a));
}

#[tokio::test]
async fn a_round_that_hides_its_tallies_until_it_closes_hides_them_in_the_api_too() {
    let app = TestApp::spawn().await;
    let editor = staff(&app, "editor@news.test", Role::Editor).await;
    let a = open_topic(&editor, "Bridge repairs").await;
    let b = open_topic(&editor, "School meals").await;
    let round = open_round(&app, &editor, &[a.clone(), b.clone()], 3, false).await;
    let patron = demo_patron(&app, "hidden@example.org", "supporter").await;
    vote(&patron, &round, &b).await.assert_status(303);
    app.deliver_mail().await;

    let r = app.new_browser().get("/api/v1/rounds/open").send().await;
    let body = json_of(&r);
    let api = &body["rounds"][0];
    assert_eq!(api["tallies_public"], false);
    let entries = api["entries"].as_array().expect("entries");
    let ids: Vec<&str> = entries.iter().map(|e| str_of(&e["topic_id"])).collect();
    assert_eq!(ids, [a.as_str(), b.as_str()], "ballot order, which says nothing of the votes");
    for e in entries {
        assert_eq!((&e["votes"], &e["weight"], &e["percent"]), (&Value::Null, &Value::Null, &Value::Null), "{e}");
    }
    // As the round page: no tallies there either.
    app.new_browser()
        .get(&format!("/rounds/{round}"))
        .send()
        .await
        .assert_contains("Results are published when voting closes.")
        .assert_not_contains("1 vote");
    // Later renderings (after the page cache's time) still hide them.
    app.advance_clock(patronage::http::page_cache::TTL);
    let again = json_of(&app.new_browser().get("/api/v1/rounds/open").send().await);
    assert_eq!(again["rounds"][0]["entries"], api["entries"]);
}

#[tokio::test]
async fn covered_stories_carry_their_articles_and_headlines_as_the_covered_page_does() {
    let app = TestApp::spawn().await;
    let empty = json_of(&app.new_browser().get("/api/v1/covered").send().await);
    assert_eq!(empty["stories"], serde_json::json!([]));
    let editor = staff(&app, "editor@news.test", Role::Editor).await;
    let topic = open_topic(&editor, "The river clean-up").await;
    editor
        .post_form(&format!("/admin/topics/{topic}/plan"), &[("expected", "2027-01-15")])
        .send()
        .await
        .assert_status(303);
    let article = "https://news.example/2027/river";
    let lines = format!("{article} Is the river clean at last? We tested it\nhttps://news.example/2027/river-2");
    editor.post_form(&format!("/admin/topics/{topic}/cover"), &[("articles", &lines)]).send().await.assert_status(303);
    app.deliver_mail().await;

    let body = json_of(&app.new_browser().get("/api/v1/covered?lang=en").send().await);
    let stories = body["stories"].as_array().expect("stories");
    assert_eq!(stories.len(), 1);
    let story = &stories[0];
    assert_eq!(
        (story["topic_id"].as_str(), story["title"].as_str()),
        (Some(topic.as_str()), Some("The river clean-up"))
    );
    assert!(str_of(&story["url"]).ends_with(&format!("/topics/{topic}")));
    assert_eq!(
        story["articles"],
        serde_json::json!([
            { "url": article, "headline": "Is the river clean at last? We tested it" },
            { "url": "https://news.example/2027/river-2", "headline": null },
        ])
    );
    let page = app.new_browser().get("/covered").send().await;
    page.assert_contains(&format!("<a href=\"/topics/{topic}\">The river clean-up</a>"))
        .assert_contains(str_of(&story["covered_on"]))
        .assert_contains(&format!("<a href=\"{article}\">Is the river clean at last? We tested it</a>"))
        .assert_contains("<a href=\"https://news.example/2027/river-2\">https://news.example/2027/river-2</a>");
}

#[tokio::test]
async fn cross_origin_reads_are_allowed_for_the_trusted_origins_only_and_no_cookie_is_read() {
    let app = TestApp::builder().trusted_origin(NEWSROOM).spawn().await;
    for path in ["/api/v1/tiers", "/api/v1/rounds/open", "/api/v1/covered", "/api/openapi.json"] {
        let trusted = app.new_browser().get(path).header("origin", NEWSROOM).send().await;
        trusted.assert_status(200);
        assert_eq!(trusted.header("access-control-allow-origin").as_deref(), Some(NEWSROOM), "{path}");
        assert!(trusted.header("access-control-allow-credentials").is_none(), "{path}");
        let vary: Vec<String> =
            trusted.headers.get_all("vary").iter().filter_map(|v| v.to_str().ok()).map(str::to_lowercase).collect();
        assert!(vary.iter().any(|v| v.contains("origin")), "{path}: Vary {vary:?}");

        let other = app.new_browser().get(path).header("origin", "https://elsewhere.example").send().await;
        other.assert_status(200);
        assert!(other.header("access-control-allow-origin").is_none(), "{path}");
    }
    // A preflight: GET and HEAD only, and only for the trusted origin.
    let preflight = app
        .new_browser()
        .request(axum::http::Method::OPTIONS, "/api/v1/tiers", Default::default())
        .header("origin", NEWSROOM)
        .header("access-control-request-method", "GET")
        .send()
        .await;
    assert!(preflight.status < 300, "{}", preflight.status);
    assert_eq!(preflight.header("access-control-allow-origin").as_deref(), Some(NEWSROOM));
    let methods = preflight.header("access-control-allow-methods").unwrap_or_default().to_uppercase();
    assert!(methods.contains("GET") && !methods.contains("POST") && !methods.contains("PUT"), "{methods}");
    let refused = app
        .new_browser()
        .request(axum::http::Method::OPTIONS, "/api/v1/tiers", Default::default())
        .header("origin", "https://elsewhere.example")
        .header("access-control-request-method", "GET")
        .send()
        .await;
    assert!(refused.header("access-control-allow-origin").is_none());
    // HEAD is served as GET is, without the body.
    let head = app.new_browser().request(axum::http::Method::HEAD, "/api/v1/tiers", Default::default()).send().await;
    head.assert_status(200);
    assert!(head.body.is_empty());
    // Writing methods are refused, in JSON.
    let post = app.new_browser().post_form("/api/v1/tiers", &[("x", "1")]).send().await;
    post.assert_status(405);
    assert_eq!(post.json()["error"]["code"], "method_not_allowed");

    // No cookie is read: a member's saved language does not change the answer, no
    // session is looked up, and nothing is set.
    let member = app.new_browser();
    app.sign_in_member(&member, "reader@example.org").await;
    app.deliver_mail().await;
    member.set_cookie("lang", "uk");
    member.post_form("/lang", &[("lang", "uk"), ("next", "/")]).send().await.assert_status(303);
    let r = member.get("/api/v1/tiers").send().await;
    assert_eq!(json_of(&r)["lang"], "en", "the language comes from the request, not the member or a cookie");
    assert!(r.header("set-cookie").is_none());
}

#[tokio::test]
async fn a_matching_etag_gets_304_and_a_changed_price_or_a_new_vote_a_new_document() {
    let app = TestApp::spawn().await;
    let first = app.new_browser().get("/api/v1/tiers").send().await;
    let etag = first.header("etag").expect("an ETag");
    assert!(etag.starts_with("W/\""), "{etag}");
    assert_eq!(first.header("cache-control").as_deref(), Some(patronage::http::api::CACHE_CONTROL));
    let again = app.new_browser().get("/api/v1/tiers").header("if-none-match", &etag).send().await;
    again.assert_status(304);
    assert!(again.body.is_empty());
    assert_eq!(again.header("etag").as_deref(), Some(etag.as_str()));
    // Another language is another document.
    let uk = app.new_browser().get("/api/v1/tiers?lang=uk").header("if-none-match", &etag).send().await;
    uk.assert_status(200);
    // A gzip client gets the same validator.
    let gz = app
        .new_browser()
        .get("/api/v1/tiers")
        .header("accept-encoding", "gzip")
        .header("if-none-match", &etag)
        .send()
        .await;
    gz.assert_status(304);

    // Staff change a price: the next request gets the new price at once.
    app.sign_in_staff(&app.client, "admin@news.test", Role::Admin).await;
    let (id,): (String,) =
        sqlx::query_as("select id from tiers where slug = 'supporter'").fetch_one(app.db().read()).await.expect("tier");
    let form = [
        ("name", "Supporter"),
        ("slug", "supporter"),
        ("description", "Two cups a month."),
        ("benefits", "Double vote weight"),
        ("vote_weight", "2"),
        ("position", "2"),
        ("active", "yes"),
        ("price_month_eur", "7"),
        ("price_year_eur", "60"),
        ("price_month_usd", "6"),
        ("price_year_usd", "60"),
        ("price_month_uah", "200"),
        ("price_year_uah", "2000"),
    ];
    app.client.post_form(&format!("/admin/tiers/{id}"), &form).send().await.assert_status(303);
    let changed = app.new_browser().get("/api/v1/tiers").header("if-none-match", &etag).send().await;
    let body = json_of(&changed);
    assert_ne!(changed.header("etag"), Some(etag));
    assert_eq!(price(tier(&body, "supporter"), "month", "EUR")["label"], "€7.00 a month");

    // A vote in a round whose tallies are public shows once the page cache's copy is renewed, as on the round page.
    let editor = staff(&app, "editor@news.test", Role::Editor).await;
    let a = open_topic(&editor, "Bridge repairs").await;
    let round = open_round(&app, &editor, std::slice::from_ref(&a), 3, true).await;
    let before = app.new_browser().get("/api/v1/rounds/open").send().await;
    assert_eq!(json_of(&before)["rounds"][0]["entries"][0]["votes"], 0);
    let etag = before.header("etag").expect("an ETag");
    let patron = demo_patron(&app, "etag-voter@example.org", "supporter").await;
    vote(&patron, &round, &a).await.assert_status(303);
    app.deliver_mail().await;
    app.advance_clock(patronage::http::page_cache::TTL);
    let after = app.new_browser().get("/api/v1/rounds/open").header("if-none-match", &etag).send().await;
    assert_eq!(json_of(&after)["rounds"][0]["entries"][0]["votes"], 1);
    assert_ne!(after.header("etag"), Some(etag));
    let page = app.new_browser().get(&format!("/rounds/{round}")).send().await;
    page.assert_contains("· 1 vote");
}

#[tokio::test]
async fn bad_parameters_and_unknown_paths_get_a_clear_json_error_and_change_nothing() {
    let app = TestApp::spawn().await;
    let members = app.member_count().await;
    let error = |r: &TestResponse, status: u16| -> (String, String) {
        r.assert_status(status);
        assert_eq!(r.header("content-type").as_deref(), Some("application/json"), "{}", r.body);
        let body = r.json();
        (str_of(&body["error"]["code"]).to_string(), str_of(&body["error"]["message"]).to_string())
    };
    let r = app.new_browser().get("/api/v1/tiers?currency=eur").send().await;
    let (code, message) = error(&r, 400);
    assert_eq!(code, "invalid_parameter");
    assert_eq!(
        message,
        "Unknown parameter “currency”: this endpoint takes only lang (en or uk). See /api/openapi.json."
    );
    let r = app.new_browser().get("/api/v1/covered?lang=fr").send().await;
    assert_eq!(error(&r, 400).1, "Unsupported language “fr”: use lang=en or lang=uk.");
    let r = app.new_browser().get("/api/v1/rounds/open?lang=fr").header("accept-language", "uk").send().await;
    assert_eq!(
        error(&r, 400).1,
        "Мова «fr» не підтримується: укажіть lang=en або lang=uk.",
        "in the caller's language"
    );
    let r = app.new_browser().get("/api/v1/rounds/open?lang=en&lang=uk").send().await;
    assert_eq!(error(&r, 400).0, "invalid_parameter");
    for path in ["/api/v1/nothing", "/api/v1/tiers/extra", "/api/v2/tiers", "/api"] {
        let r = app.new_browser().get(path).send().await;
        let (code, message) = error(&r, 404);
        assert_eq!(code, "not_found", "{path}");
        assert!(message.contains("/api/openapi.json"), "{path}: {message}");
    }
    assert_eq!(app.member_count().await, members);
    assert_eq!(app.outbox_count().await, 0);
}

/// The `/api/v1` paths a router serves, read from its route table (axum
/// prints it in its `Debug` output).
fn served_paths(router: &axum::Router<patronage::http::AppState>) -> BTreeSet<String> {
    let printed = format!("{router:?}");
    printed.split('"').filter(|s| s.starts_with("/api/")).map(str::to_string).collect()
}

#[tokio::test]
async fn the_openapi_document_is_openapi_3_1_and_describes_every_route_the_api_serves() {
    let app = TestApp::builder().trusted_origin(NEWSROOM).spawn().await;
    let r = app.new_browser().get("/api/openapi.json").send().await;
    let doc = json_of(&r);
    assert!(str_of(&doc["openapi"]).starts_with("3.1"), "{}", doc["openapi"]);
    // It reads as an OpenAPI 3.1 document (the model refuses any other version).
    let parsed: utoipa::openapi::OpenApi = serde_json::from_value(doc.clone()).expect("an OpenAPI 3.1 document");
    assert!(!parsed.info.title.is_empty());
    // Every reference points into the document.
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(!refs.is_empty());
    for reference in refs {
        let pointer = reference.strip_prefix('#').unwrap_or_else(|| panic!("a local reference: {reference}"));
        assert!(doc.pointer(pointer).is_some(), "{reference} resolves");
    }

    // The document lists exactly the /api/v1 routes the router serves, each as a
    // GET answered in JSON with a 200.
    let (router, generated) = patronage::http::api::routes();
    let served = served_paths(&router);
    assert!(served.len() >= 3, "the route table was read: {served:?}");
    let paths = doc["paths"].as_object().expect("paths");
    let documented: BTreeSet<String> = paths.keys().cloned().collect();
    assert_eq!(documented, served, "every served route is documented, and nothing else");
    assert_eq!(serde_json::to_value(&generated).expect("serialises"), doc, "the served document is the generated one");
    for (path, item) in paths {
        let operations: Vec<&String> =
            item.as_object().expect("a path item").keys().filter(|k| *k != "parameters").collect();
        assert_eq!(operations, ["get"], "{path}: read-only");
        let get = &item["get"];
        assert!(get["responses"]["200"]["content"]["application/json"]["schema"].is_object(), "{path}");
        assert!(get["responses"]["400"].is_object(), "{path}");
        let params: Vec<&str> =
            get["parameters"].as_array().expect("params").iter().map(|p| str_of(&p["name"])).collect();
        assert_eq!(params, ["lang"], "{path}");
        json_of(&app.new_browser().get(path).send().await);
    }
}

fn collect_refs(value: &Value, refs: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", Value::String(s)) => refs.push(s.clone()),
                    _ => collect_refs(v, refs),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, refs)),
        _ => {}
    }
}
