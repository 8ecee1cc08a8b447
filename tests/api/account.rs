use crate::helpers::TestApp;

#[tokio::test]
async fn account_page_requires_sign_in() {
    let app = TestApp::spawn().await;
    let r = app.client.get("/account").send().await;
    r.assert_status(303);
    assert_eq!(r.location().as_deref(), Some("/signin"));
    app.client.get("/account/export").send().await.assert_status(303);
    app.client.post_form("/account/delete", &[("confirm", "yes")]).send().await.assert_status(303);
}

#[tokio::test]
async fn members_update_name_and_language() {
    let app = TestApp::spawn().await;
    app.sign_in_member(&app.client, "edit@example.org").await;
    let r = app.client.post_form("/account", &[("name", "Mykola"), ("lang", "uk")]).send().await;
    r.assert_status(303);
    let page = app.client.get("/account").send().await;
    page.assert_status(200)
        .assert_contains("value=\"Mykola\"")
        .assert_contains("<html lang=\"uk\">")
        .assert_contains("Мій профіль");
}

#[tokio::test]
async fn invalid_profile_changes_show_errors_and_change_nothing() {
    let app = TestApp::spawn().await;
    app.sign_in_member(&app.client, "careful@example.org").await;
    app.client.post_form("/account", &[("name", "Good Name"), ("lang", "en")]).send().await.assert_status(303);
    let long = "x".repeat(101);
    let r = app.client.post_form("/account", &[("name", &long), ("lang", "en")]).send().await;
    r.assert_status(422).assert_contains("at most 100 characters").assert_contains(&long);
    app.client.post_form("/account", &[("name", "Other"), ("lang", "klingon")]).send().await.assert_status(422);
    let (name, locale): (String, String) =
        sqlx::query_as("select name, locale from members").fetch_one(app.db().read()).await.expect("member");
    assert_eq!((name.as_str(), locale.as_str()), ("Good Name", "en"));
}

#[tokio::test]
async fn members_download_their_data_as_json() {
    let app = TestApp::spawn().await;
    app.post_join(&app.client, "mine@example.org", "Data Owner").await;
    app.deliver_mail().await;
    app.sign_in_member(&app.client, "mine@example.org").await;
    let r = app.client.get("/account/export").send().await;
    r.assert_status(200);
    assert!(r.header("content-disposition").is_some_and(|d| d.contains("attachment")));
    let json = r.json();
    assert_eq!(json["format"], "patronage-member-export/1");
    assert_eq!(json["member"]["email"], "mine@example.org");
    assert_eq!(json["member"]["name"], "Data Owner");
    assert_eq!(json["member"]["language"], "en");
    assert_eq!(json["sessions"].as_array().map(Vec::len), Some(1));
    assert!(json["member"]["joined_at"].as_str().is_some_and(|s| s.ends_with('Z')));
}

#[tokio::test]
async fn deleting_the_account_erases_personal_data_and_keeps_an_anonymous_row() {
    let app = TestApp::spawn().await;
    let laptop = app.new_browser();
    app.sign_in_member(&laptop, "gone@example.org").await;
    app.sign_in_member(&app.client, "gone@example.org").await;
    app.client.post_form("/account", &[("name", "Soon Gone"), ("lang", "en")]).send().await.assert_status(303);
    // A link still in the outbox must not survive the deletion.
    app.client.post_form("/signin", &[("email", "gone@example.org")]).send().await;

    let r = app.client.post_form("/account/delete", &[("confirm", "yes")]).send().await;
    r.assert_status(303);
    assert_eq!(r.location().as_deref(), Some("/goodbye"));
    app.client.get("/goodbye").send().await.assert_status(200).assert_contains("Your account is deleted");

    let (id, email, name, deleted): (String, Option<String>, Option<String>, Option<i64>) =
        sqlx::query_as("select id, email, name, deleted_at from members")
            .fetch_one(app.db().read())
            .await
            .expect("row kept");
    assert!(!id.is_empty());
    assert_eq!((email, name), (None, None));
    assert!(deleted.is_some());
    assert_eq!(app.count("select count(*) from sessions").await, 0, "every device signed out");
    assert_eq!(app.count("select count(*) from login_tokens").await, 0);
    assert_eq!(app.outbox_count().await, 0, "queued mail to the address is gone");
    laptop.get("/account").send().await.assert_status(303);

    // The address is free again: joining creates a new, separate member.
    app.post_join(&app.new_browser(), "gone@example.org", "").await.assert_status(303);
    assert_eq!(app.member_count().await, 2);
    app.deliver_mail().await;
}

#[tokio::test]
async fn deleting_without_confirmation_changes_nothing() {
    let app = TestApp::spawn().await;
    app.sign_in_member(&app.client, "keep@example.org").await;
    app.client.post_form("/account/delete", &[]).send().await.assert_status(422).assert_contains("Tick the box");
    app.client.get("/account").send().await.assert_status(200);
    let (email,): (Option<String>,) =
        sqlx::query_as("select email from members").fetch_one(app.db().read()).await.expect("member");
    assert_eq!(email.as_deref(), Some("keep@example.org"));
}

#[tokio::test]
async fn names_are_stored_composed_and_invisible_characters_or_invalid_utf8_change_nothing() {
    let app = TestApp::spawn().await;
    app.sign_in_member(&app.client, "typed@example.org").await;
    // "Йосип" typed with a combining breve (NFD) is stored composed (NFC).
    let decomposed = "\u{418}\u{306}\u{43e}\u{441}\u{438}\u{43f}";
    app.client.post_form("/account", &[("name", decomposed), ("lang", "en")]).send().await.assert_status(303);
    let name = || async {
        let (name,): (String,) =
            sqlx::query_as("select name from members").fetch_one(app.db().read()).await.expect("member");
        name
    };
    assert_eq!(name().await, "\u{419}\u{43e}\u{441}\u{438}\u{43f}");

    // A right-to-left override would make the name read differently from what it is.
    let r = app.client.post_form("/account", &[("name", "Ann\u{202E}gro"), ("lang", "en")]).send().await;
    r.assert_status(422);
    // Bytes that are not UTF-8 are refused, not stored as U+FFFD.
    let r = app
        .client
        .post_raw("/account", "application/x-www-form-urlencoded", b"name=Bad%FF%FEname&lang=en".to_vec())
        .send()
        .await;
    r.assert_status(400);
    let r = app
        .client
        .post_raw("/account", "application/x-www-form-urlencoded", b"name=Raw\xffname&lang=en".to_vec())
        .send()
        .await;
    r.assert_status(400);
    assert_eq!(name().await, "\u{419}\u{43e}\u{441}\u{438}\u{43f}", "nothing changed");
    // The same in a query string.
    app.client.get("/topics?updated=%C3%28").send().await.assert_status(400);
}
