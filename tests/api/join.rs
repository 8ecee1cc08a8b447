use crate::helpers::TestApp;

#[tokio::test]
async fn landing_page_explains_membership_and_offers_the_join_form() {
    let app = TestApp::spawn().await;
    let r = app.client.get("/").send().await;
    r.assert_status(200);
    r.assert_contains("cost of one cup of coffee a month")
        .assert_contains("action=\"/join\"")
        .assert_contains("The Test Gazette");
}

#[tokio::test]
async fn join_creates_a_free_member_and_emails_a_sign_in_link() {
    let app = TestApp::spawn().await;
    let r = app.post_join(&app.client, "  Olena@Example.ORG ", "Olena").await;
    r.assert_status(303);
    assert_eq!(r.location().as_deref(), Some("/signin/sent"));
    let (email, name, locale): (String, String, String) =
        sqlx::query_as("select email, name, locale from members").fetch_one(app.db().read()).await.expect("one member");
    assert_eq!((email.as_str(), name.as_str(), locale.as_str()), ("olena@example.org", "Olena", "en"));

    let mail = app.deliver_mail().await;
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].to, vec!["olena@example.org".to_string()]);
    assert_eq!(mail[0].subject().as_deref(), Some("Your sign-in link for The Test Gazette"));
    let text = mail[0].text_body();
    assert!(text.contains("Hello Olena") && text.contains("Welcome to The Test Gazette"), "{text}");
    assert!(mail[0].first_link_containing("/signin/confirm?token=").is_some());
    assert!(mail[0].html_body().is_some_and(|h| h.contains("/signin/confirm?token=")));
}

#[tokio::test]
async fn joining_twice_keeps_one_member_and_answers_the_same() {
    let app = TestApp::spawn().await;
    let first = app.post_join(&app.client, "reader@example.org", "").await;
    let second = app.post_join(&app.new_browser(), "READER@example.org", "Someone Else").await;
    assert_eq!(first.status, second.status);
    assert_eq!(first.location(), second.location());
    assert_eq!(app.member_count().await, 1);
    let (name,): (Option<String>,) =
        sqlx::query_as("select name from members").fetch_one(app.db().read()).await.expect("member");
    assert_eq!(name, None, "a second join must not change the stored member");
    assert_eq!(app.deliver_mail().await.len(), 2);
}

#[tokio::test]
async fn join_with_invalid_email_shows_error_and_stores_nothing() {
    let app = TestApp::spawn().await;
    for bad in ["", "not-an-email", "a@b", "x@example.org\r\nBcc: victim@example.org"] {
        let r = app.post_join(&app.client, bad, "Keep Me").await;
        r.assert_status(422);
        r.assert_contains("class=\"error\"").assert_contains("value=\"Keep Me\"");
    }
    assert_eq!(app.member_count().await, 0);
    assert_eq!(app.outbox_count().await, 0);
}

#[tokio::test]
async fn join_with_overlong_name_or_control_characters_is_refused() {
    let app = TestApp::spawn().await;
    let long = "n".repeat(101);
    app.post_join(&app.client, "a@example.org", &long)
        .await
        .assert_status(422)
        .assert_contains("at most 100 characters");
    app.post_join(&app.client, "a@example.org", "bad\u{0007}name")
        .await
        .assert_status(422)
        .assert_contains("control characters");
    assert_eq!(app.member_count().await, 0);
}

#[tokio::test]
async fn names_are_escaped_when_shown() {
    let app = TestApp::spawn().await;
    let r = app.post_join(&app.client, "x@example", "<script>alert(1)</script>").await;
    r.assert_status(422);
    r.assert_contains("&lt;script&gt;").assert_not_contains("<script>alert(1)</script>");
}

#[tokio::test]
async fn oversized_body_is_refused_with_413_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let huge = format!("email=a%40example.org&name={}", "x".repeat(200 * 1024));
    let r = app.client.post_raw("/join", "application/x-www-form-urlencoded", huge.into_bytes()).send().await;
    r.assert_status(413);
    r.assert_contains("more data than we accept");
    assert_eq!(app.member_count().await, 0);
}

#[tokio::test]
async fn malformed_form_body_is_a_clear_400() {
    let app = TestApp::spawn().await;
    let r = app.client.post_raw("/join", "application/json", b"{\"email\":\"a@example.org\"}".to_vec()).send().await;
    r.assert_status(400);
    r.assert_contains("could not understand");
    assert_eq!(app.member_count().await, 0);
}

#[tokio::test]
async fn the_newsrooms_site_may_post_the_join_form_when_trusted() {
    let app = TestApp::builder().trusted_origin("https://news.example.org").spawn().await;
    let r = app
        .client
        .post_form("/join", &[("email", "fan@example.org"), ("lang", "uk")])
        .header("origin", "https://news.example.org")
        .header("sec-fetch-site", "cross-site")
        .send()
        .await;
    r.assert_status(303);
    let (locale,): (String,) =
        sqlx::query_as("select locale from members").fetch_one(app.db().read()).await.expect("member");
    assert_eq!(locale, "uk");
    let mail = app.deliver_mail().await;
    assert_eq!(mail[0].subject().as_deref(), Some("Посилання для входу до The Test Gazette"));
}
