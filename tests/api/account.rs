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
    // The dashboard counts members that are not deleted, from the counts kept per standing.
    assert_eq!(
        app.count("select cast(sum(members) as bigint) from standing_counts where deleted = 0").await,
        1,
        "one member now; the deleted row is counted apart"
    );
    assert_eq!(app.count("select cast(sum(members) as bigint) from standing_counts where deleted = 1").await, 1);
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

/// The account page is the co-creator's home: what their membership is, their
/// votes in the open round, the stories they helped commission, the topics they
/// follow, and their payments a page at a time.
#[tokio::test]
async fn the_account_page_is_the_co_creators_home() {
    use crate::helpers::voting::{demo_patron, open_round, open_topic, staff, vote};
    let app = TestApp::spawn().await;
    let editor = staff(&app, "editor@news.test", patronage::domain::Role::Editor).await;
    let tram = open_topic(&editor, "Why the tram is late").await;
    let market = open_topic(&editor, "The market hall").await;
    let round = open_round(&app, &editor, &[tram.clone(), market.clone()], 3, false).await;
    let patron = demo_patron(&app, "home@example.org", "supporter").await;
    vote(&patron, &round, &tram).await.assert_status(303);
    patron.post_form(&format!("/topics/{market}/follow"), &[("on", "yes")]).send().await.assert_status(303);

    let page = patron.get("/account").send().await;
    page.assert_status(200)
        .assert_contains(">Patron<")
        .assert_contains("Renews on")
        .assert_contains("Manage billing")
        .assert_contains(&format!("href=\"/topics/{tram}\">Why the tram is late"))
        .assert_contains("2 votes left")
        .assert_contains("Topics you follow")
        .assert_contains(&format!("href=\"/topics/{market}\">The market hall"))
        .assert_contains("/account/commissioned")
        .assert_not_contains("Older payments");

    // The page is kept for a few seconds, but never past a change made through
    // this instance: a follow shows at once.
    patron.post_form(&format!("/topics/{tram}/follow"), &[("on", "yes")]).send().await.assert_status(303);
    let page = patron.get("/account").send().await;
    let followed = page.body.split("Topics you follow").nth(1).unwrap_or_default().to_string();
    assert!(followed.contains("Why the tram is late"), "the new follow shows at once");

    // 24 more payments, written as another instance would (this one's copy of the
    // page lives out its few seconds first): the newest 20 on the first page,
    // the rest on the next, none twice.
    let member: (String,) = sqlx::query_as("select id from members where email = 'home@example.org'")
        .fetch_one(app.db().read())
        .await
        .expect("member");
    for n in 0..24_i64 {
        sqlx::query(
            "insert into payments (id, kind, provider_id, member_id, gross_minor, currency, fee_minor, net_minor,
                 settlement_currency, settlement_gross_minor, description, occurred_at, created_at)
             values ($1, 'donation', $1, $2, $3, 'EUR', 0, $3, 'EUR', $3, 'Donation', $4, $4)",
        )
        .bind(format!("pay_{n:02}"))
        .bind(&member.0)
        .bind(100 + n)
        .bind(1_000_000 + n)
        .execute(&mut *app.db().write().await.expect("a write"))
        .await
        .expect("a payment");
    }
    app.advance_clock(3 * patronage::clock::SECOND);
    let first = patron.get("/account").send().await;
    let amounts = |body: &str| -> Vec<String> {
        body.split("<td class=\"num\">").skip(1).map(|s| s.split('<').next().unwrap_or_default().to_string()).collect()
    };
    let page_one = amounts(&first.body);
    assert_eq!(page_one.len(), 20, "{page_one:?}");
    let older = first
        .body
        .split("href=\"/account?payments=")
        .nth(1)
        .and_then(|s| s.split('#').next())
        .expect("a link to older payments")
        .to_string();
    let second = patron.get(&format!("/account?payments={older}")).send().await;
    second.assert_status(200).assert_contains("Newest payments");
    let page_two = amounts(&second.body);
    assert_eq!(page_one.len() + page_two.len(), 25, "{page_two:?}");
    assert!(page_two.iter().all(|a| !page_one.contains(a) || a == "€6.00"), "no payment shown twice");
    // A cursor that cannot be read starts at the newest, never an error.
    patron.get("/account?payments=garbage").send().await.assert_status(200);
}
