use crate::helpers::TestApp;

#[tokio::test]
async fn cross_site_posts_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    app.sign_in_member(&app.client, "victim@example.org").await;

    let attempts: [(&str, &[(&str, &str)]); 7] = [
        ("/account/delete", &[("confirm", "yes")]),
        ("/account/cancel", &[("subscription", "x"), ("reason", "other"), ("comment", "forged")]),
        ("/account/pause", &[("subscription", "x"), ("months", "1")]),
        ("/account/resume", &[("subscription", "x")]),
        ("/account", &[("name", "Hacked"), ("lang", "uk")]),
        ("/signout/everywhere", &[]),
        ("/join", &[("email", "spam@example.org")]),
    ];
    for (path, fields) in attempts {
        let by_fetch_metadata = app
            .client
            .post_form(path, fields)
            .header("sec-fetch-site", "cross-site")
            .header("origin", "https://evil.example")
            .send()
            .await;
        by_fetch_metadata.assert_status(403).assert_contains("sent from another site");
        // Older browsers send only Origin.
        app.client
            .post_form(path, fields)
            .without_default("sec-fetch-site")
            .header("origin", "https://evil.example")
            .send()
            .await
            .assert_status(403);
    }
    let (email, name): (Option<String>, Option<String>) =
        sqlx::query_as("select email, name from members").fetch_one(app.db().read()).await.expect("member");
    assert_eq!((email.as_deref(), name), (Some("victim@example.org"), None));
    assert_eq!(app.member_count().await, 1);
    assert_eq!(app.count("select count(*) from cancel_reasons").await, 0);
    app.client.get("/account").send().await.assert_status(200);
}

#[tokio::test]
async fn trusted_newsroom_origins_may_post_only_the_join_form() {
    let app = TestApp::builder().trusted_origin("https://news.example.org").spawn().await;
    app.sign_in_member(&app.client, "reader@example.org").await;
    let r = app
        .client
        .post_form("/account/delete", &[("confirm", "yes")])
        .header("origin", "https://news.example.org")
        .header("sec-fetch-site", "cross-site")
        .send()
        .await;
    r.assert_status(403);
    app.client.get("/account").send().await.assert_status(200);
}

#[tokio::test]
async fn cross_site_staff_login_is_refused() {
    let app = TestApp::spawn().await;
    app.client
        .post_form("/admin/login", &[("email", "a@example.org"), ("password", "whatever-long-enough")])
        .header("sec-fetch-site", "cross-site")
        .header("origin", "https://evil.example")
        .send()
        .await
        .assert_status(403);
    assert_eq!(app.count("select count(*) from audit_log").await, 0);
}
