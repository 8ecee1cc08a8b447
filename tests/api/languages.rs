use crate::helpers::TestApp;

#[tokio::test]
async fn accept_language_picks_ukrainian() {
    let app = TestApp::spawn().await;
    let r = app.client.get("/").header("accept-language", "uk-UA,uk;q=0.9,en;q=0.5").send().await;
    r.assert_status(200).assert_contains("<html lang=\"uk\">").assert_contains("Підтримайте незалежну журналістику");
    let r = app.client.get("/").header("accept-language", "de-DE").send().await;
    r.assert_contains("<html lang=\"en\">");
}

#[tokio::test]
async fn the_language_switcher_sets_a_cookie_and_returns_to_the_page() {
    let app = TestApp::spawn().await;
    let r = app.client.post_form("/lang", &[("lang", "uk"), ("next", "/signin")]).send().await;
    r.assert_status(303);
    assert_eq!(r.location().as_deref(), Some("/signin"));
    app.client.get("/signin").send().await.assert_contains("Надіслати посилання для входу");
    let r = app.client.post_form("/lang", &[("lang", "en"), ("next", "https://evil.example/")]).send().await;
    assert_eq!(r.location().as_deref(), Some("/"), "never an open redirect");
    app.client.post_form("/lang", &[("lang", "xx"), ("next", "/")]).send().await.assert_status(400);
}

#[tokio::test]
async fn the_whole_journey_works_in_ukrainian() {
    let app = TestApp::spawn().await;
    let browser = app.new_browser().with_default_header("accept-language", "uk");
    browser.get("/").send().await.assert_contains("Приєднатися безкоштовно");
    let r = browser.post_form("/join", &[("email", "bad")]).send().await;
    r.assert_status(422).assert_contains("Введіть адресу на зразок name@example.org.");
    browser.post_form("/join", &[("email", "oksana@example.org"), ("name", "Оксана")]).send().await.assert_status(303);
    browser.get("/signin/sent").send().await.assert_contains("Перевірте пошту");

    let mail = app.deliver_mail().await;
    assert_eq!(mail[0].subject().as_deref(), Some("Посилання для входу до The Test Gazette"));
    let text = mail[0].text_body();
    assert!(text.contains("Вітаємо, Оксана!") && text.contains("10 хвилин"), "{text}");
    let link = mail[0].first_link_containing("/signin/confirm").expect("link");
    browser.get(&link).send().await.assert_contains("Підтвердіть вхід");
    browser
        .post_form("/signin/confirm", &[("token", &crate::helpers::token_of(&link))])
        .send()
        .await
        .assert_status(303);
    browser
        .get("/account")
        .send()
        .await
        .assert_status(200)
        .assert_contains("Мій профіль")
        .assert_contains("oksana@example.org");
    browser.post_form("/signout", &[]).send().await.assert_status(303);
    browser
        .post_form("/signin/confirm", &[("token", &crate::helpers::token_of(&link))])
        .send()
        .await
        .assert_status(410)
        .assert_contains("Термін дії посилання минув");
}

#[tokio::test]
async fn a_signed_in_members_saved_language_wins_over_the_browser() {
    let app = TestApp::spawn().await;
    app.sign_in_member(&app.client, "pref@example.org").await;
    app.client.post_form("/account", &[("name", ""), ("lang", "uk")]).send().await.assert_status(303);
    app.client.clear_cookies();
    app.sign_in_member(&app.client, "pref@example.org").await;
    let r = app.client.get("/account").header("accept-language", "en").send().await;
    r.assert_contains("<html lang=\"uk\">");
}

/// Every anonymous reader page's language switch marks the language the page is
/// in (a page's own `languages` once replaced the layout's list, and the gift
/// form's Ukrainian page said "English" in its switch).
#[tokio::test]
async fn every_reader_pages_language_switch_marks_the_pages_language() {
    let app = TestApp::spawn().await;
    let pages = [
        "/",
        "/patron",
        "/donate",
        "/gift",
        "/topics",
        "/rounds",
        "/covered",
        "/transparency",
        "/signin",
        "/join",
        "/topics/suggest",
        "/corrections/new",
    ];
    for (accept, code, name) in [("uk", "uk", "Українська"), ("en", "en", "English")] {
        for path in pages {
            let r = app.new_browser().get(path).header("accept-language", accept).send().await;
            if r.status != 200 {
                continue;
            }
            let switch = r.body.split("id=\"lang-select\"").nth(1).and_then(|s| s.split("</select>").next());
            let switch = switch.unwrap_or_else(|| panic!("{path} has the language switch"));
            assert!(
                switch.contains(&format!("<option value=\"{code}\" selected>{name}</option>")),
                "{path} in {code}: the switch does not mark {name}: {switch}"
            );
        }
    }
}
