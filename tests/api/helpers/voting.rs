//! Setting up voting through the real pages: demo patrons, staff-created topics
//! and rounds.
use patronage::clock::{DAY, MINUTE, format_form_datetime};
use patronage::domain::Role;

use super::{TestApp, TestClient, TestResponse};

/// Follows a `/patron` answer through the demo checkout, pressing `outcome`.
pub async fn pay_demo(browser: &TestClient, start: &TestResponse, outcome: &str) -> TestResponse {
    start.assert_status(303);
    let checkout_url = start.location().expect("redirect to checkout");
    let query = checkout_url.split_once('?').map(|(_, q)| q).unwrap_or_default();
    let params: Vec<(String, String)> = serde_urlencoded::from_str(query).expect("query parses");
    let field = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).expect("checkout field");
    browser.post_form("/demo/checkout", &[("c", &field("c")), ("s", &field("s")), ("outcome", outcome)]).send().await
}

/// A new browser signed in as a demo patron of `slug` (monthly, EUR), first payment cleared.
pub async fn demo_patron(app: &TestApp, email: &str, slug: &str) -> TestClient {
    let browser = app.new_browser();
    let price = app.price_id(slug, "month", "eur").await;
    let start = browser.post_form("/patron", &[("price", &price), ("email", email), ("name", "")]).send().await;
    pay_demo(&browser, &start, "succeed").await.assert_status(303);
    // The welcome and the receipt go out.
    app.deliver_mail().await;
    browser
}

/// A new browser signed in as staff with `role`.
pub async fn staff(app: &TestApp, email: &str, role: Role) -> TestClient {
    let browser = app.new_browser();
    app.sign_in_staff(&browser, email, role).await;
    browser
}

/// Adds an open topic through the staff page; returns its id.
pub async fn open_topic(staff: &TestClient, title: &str) -> String {
    let r = staff.post_form("/admin/topics", &[("title", title), ("description", ""), ("link", "")]).send().await;
    r.assert_status(303);
    r.location().expect("redirect to the topic").trim_start_matches("/admin/topics/").to_string()
}

/// Suggests a topic as `member`; returns its id.
pub async fn suggest(member: &TestClient, title: &str) -> String {
    let r = member
        .post_form("/topics/suggest", &[("title", title), ("description", "Why it matters"), ("link", "")])
        .send()
        .await;
    r.assert_status(303);
    let location = r.location().expect("redirect to the topic");
    location.trim_start_matches("/topics/").trim_end_matches("?suggested=1").to_string()
}

/// Creates a round open from a minute ago for a week; returns its id.
pub async fn open_round(app: &TestApp, staff: &TestClient, topics: &[String], max_votes: u32, live: bool) -> String {
    let now = app.clock().now();
    round_between(staff, topics, max_votes, live, now - MINUTE, now + 7 * DAY).await
}

pub async fn round_between(
    staff: &TestClient,
    topics: &[String],
    max_votes: u32,
    live: bool,
    opens_at: i64,
    closes_at: i64,
) -> String {
    let opens = format_form_datetime(opens_at);
    let closes = format_form_datetime(closes_at);
    let max = max_votes.to_string();
    let keys: Vec<String> = topics.iter().map(|t| format!("topic_{t}")).collect();
    let mut fields: Vec<(&str, &str)> = vec![
        ("title", "What should we investigate next?"),
        ("description", ""),
        ("opens_at", &opens),
        ("closes_at", &closes),
        ("max_votes", &max),
    ];
    if live {
        fields.push(("live_tallies", "yes"));
    }
    for k in &keys {
        fields.push((k.as_str(), "yes"));
    }
    let r = staff.post_form("/admin/rounds", &fields).send().await;
    r.assert_status(303);
    r.location().expect("redirect to the round").trim_start_matches("/admin/rounds/").to_string()
}

pub async fn vote(browser: &TestClient, round: &str, topic: &str) -> TestResponse {
    browser.post_form(&format!("/rounds/{round}/vote"), &[("topic", topic)]).send().await
}

pub async fn withdraw(browser: &TestClient, round: &str, topic: &str) -> TestResponse {
    browser.post_form(&format!("/rounds/{round}/withdraw"), &[("topic", topic)]).send().await
}

/// Votes stored for the round.
pub async fn vote_count(app: &TestApp, round: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as("select count(*) from votes where round_id = $1")
        .bind(round)
        .fetch_one(app.db().read())
        .await
        .expect("count votes");
    n
}
