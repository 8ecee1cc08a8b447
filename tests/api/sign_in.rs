use patronage::clock::MINUTE;
use patronage::services::rate_limit;

use crate::helpers::{TestApp, token_of};

#[tokio::test]
async fn sign_in_link_request_mail_confirm_and_account_page() {
    let app = TestApp::spawn().await;
    app.post_join(&app.new_browser(), "reader@example.org", "Reader One").await.assert_status(303);
    app.deliver_mail().await;

    let browser = app.new_browser();
    let r = browser.post_form("/signin", &[("email", "Reader@example.org")]).send().await;
    r.assert_status(303);
    assert_eq!(r.location().as_deref(), Some("/signin/sent"));
    browser.get("/signin/sent").send().await.assert_status(200).assert_contains("Check your inbox");

    let mail = app.deliver_mail().await;
    assert_eq!(mail.len(), 1);
    let link = mail[0].first_link_containing("/signin/confirm").expect("a link");
    assert!(link.starts_with(&app.base_url), "links point at PUBLIC_URL: {link}");
    let token = token_of(&link);
    assert_eq!(token.len(), 64, "256-bit tokens");

    // Opening the link (as a mail scanner would) does not sign in or use it up.
    let confirm = browser.get(&link).send().await;
    confirm.assert_status(200).assert_contains("method=\"post\" action=\"/signin/confirm\"");
    browser.get("/account").send().await.assert_status(303);
    browser.get(&link).send().await.assert_status(200);

    let r = browser.post_form("/signin/confirm", &[("token", &token)]).send().await;
    r.assert_status(303);
    let cookie = r.header("set-cookie").expect("a session cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain http in local development");
    assert!(!cookie.contains(&token), "the session id is not the link token");

    let account = browser.get("/account").send().await;
    account.assert_status(200).assert_contains("reader@example.org").assert_contains("value=\"Reader One\"");
    let (stored,): (String,) =
        sqlx::query_as("select id from sessions").fetch_one(app.db().read()).await.expect("a session");
    assert_ne!(
        stored,
        browser.cookie("patronage_session").expect("cookie kept"),
        "only a hash of the cookie is stored"
    );
}

#[tokio::test]
async fn a_sign_in_link_works_only_once() {
    let app = TestApp::spawn().await;
    app.post_join(&app.client, "once@example.org", "").await;
    let link = app.deliver_mail().await[0].first_link_containing("/signin/confirm").expect("link");
    let token = token_of(&link);
    app.client.post_form("/signin/confirm", &[("token", &token)]).send().await.assert_status(303);

    let other = app.new_browser();
    other.get(&link).send().await.assert_status(410).assert_contains("expired or was already used");
    other.post_form("/signin/confirm", &[("token", &token)]).send().await.assert_status(410);
    assert!(other.cookie("patronage_session").is_none());
    assert_eq!(app.count("select count(*) from sessions").await, 1);
}

#[tokio::test]
async fn a_sign_in_link_expires_after_ten_minutes() {
    let app = TestApp::spawn().await;
    app.post_join(&app.client, "late@example.org", "").await;
    let link = app.deliver_mail().await[0].first_link_containing("/signin/confirm").expect("link");
    app.advance_clock(10 * MINUTE + 1);
    app.client.get(&link).send().await.assert_status(410);
    app.client.post_form("/signin/confirm", &[("token", &token_of(&link))]).send().await.assert_status(410);
    assert_eq!(app.count("select count(*) from sessions").await, 0);
}

#[tokio::test]
async fn a_link_still_works_just_before_expiry() {
    let app = TestApp::spawn().await;
    app.post_join(&app.client, "prompt@example.org", "").await;
    let link = app.deliver_mail().await[0].first_link_containing("/signin/confirm").expect("link");
    app.advance_clock(9 * MINUTE);
    app.client.post_form("/signin/confirm", &[("token", &token_of(&link))]).send().await.assert_status(303);
}

#[tokio::test]
async fn a_newer_link_invalidates_older_ones() {
    let app = TestApp::spawn().await;
    app.post_join(&app.client, "twice@example.org", "").await;
    let older = app.deliver_mail().await[0].first_link_containing("/signin/confirm").expect("link");
    app.client.post_form("/signin", &[("email", "twice@example.org")]).send().await.assert_status(303);
    let newer = app.deliver_mail().await[0].first_link_containing("/signin/confirm").expect("link");
    assert_ne!(older, newer);
    app.client.post_form("/signin/confirm", &[("token", &token_of(&older))]).send().await.assert_status(410);
    app.client.post_form("/signin/confirm", &[("token", &token_of(&newer))]).send().await.assert_status(303);
}

#[tokio::test]
async fn unknown_address_gets_the_same_answer_and_no_mail() {
    let app = TestApp::spawn().await;
    app.post_join(&app.new_browser(), "known@example.org", "").await;
    app.deliver_mail().await;
    let known = app.client.post_form("/signin", &[("email", "known@example.org")]).send().await;
    let unknown = app.client.post_form("/signin", &[("email", "nobody@example.org")]).send().await;
    assert_eq!(known.status, unknown.status);
    assert_eq!(known.location(), unknown.location());
    assert_eq!(known.body, unknown.body);
    let mail = app.deliver_mail().await;
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].to, vec!["known@example.org".to_string()]);
    assert_eq!(app.member_count().await, 1, "signing in never creates members");
}

#[tokio::test]
async fn sign_in_requests_are_rate_limited_per_address() {
    let app = TestApp::spawn().await;
    app.start_a_fresh_window(rate_limit::SIGN_IN_PER_EMAIL);
    app.post_join(&app.client, "busy@example.org", "").await.assert_status(303);
    for _ in 0..4 {
        app.client.post_form("/signin", &[("email", "busy@example.org")]).send().await.assert_status(303);
    }
    let limited = app.client.post_form("/signin", &[("email", "busy@example.org")]).send().await;
    limited.assert_status(429).assert_contains("Too many attempts");
    assert!(limited.header("retry-after").is_some_and(|s| s.parse::<i64>().is_ok_and(|n| n > 0)));
    // Unknown addresses are limited the same way, so the limit reveals nothing.
    for _ in 0..5 {
        app.client.post_form("/signin", &[("email", "ghost@example.org")]).send().await.assert_status(303);
    }
    app.client.post_form("/signin", &[("email", "ghost@example.org")]).send().await.assert_status(429);
    assert_eq!(app.deliver_mail().await.len(), 5, "1 join + 4 sign-in links; refused requests send nothing");
    // The window passes and the address may ask again.
    app.advance_clock(16 * MINUTE);
    app.client.post_form("/signin", &[("email", "busy@example.org")]).send().await.assert_status(303);
    app.deliver_mail().await;
}

#[tokio::test]
async fn sign_in_requests_are_rate_limited_per_ip_across_addresses() {
    let app = TestApp::spawn().await;
    app.start_a_fresh_window(rate_limit::SIGN_IN_PER_IP);
    for i in 0..30 {
        app.client.post_form("/signin", &[("email", &format!("probe{i}@example.org"))]).send().await.assert_status(303);
    }
    app.client.post_form("/signin", &[("email", "one-more@example.org")]).send().await.assert_status(429);
    let (hits,): (i64,) =
        sqlx::query_as("select cast(max(hits) as bigint) from rate_limits where bucket like 'sign-in-ip:%'")
            .fetch_one(app.db().read())
            .await
            .expect("counters live in the database");
    assert_eq!(hits, 31);
}

#[tokio::test]
async fn malformed_tokens_are_refused_without_touching_the_database() {
    let app = TestApp::spawn().await;
    app.client.get("/signin/confirm?token=%27%20or%201%3D1%20--").send().await.assert_status(410);
    app.client.get("/signin/confirm").send().await.assert_status(410);
    app.client.post_form("/signin/confirm", &[("token", "short")]).send().await.assert_status(410);
}

#[tokio::test]
async fn sign_out_ends_the_session_and_the_old_cookie_no_longer_works() {
    let app = TestApp::spawn().await;
    app.sign_in_member(&app.client, "leaver@example.org").await;
    let old_cookie = app.client.cookie("patronage_session").expect("signed in");
    app.client.get("/account").send().await.assert_status(200);

    let r = app.client.post_form("/signout", &[]).send().await;
    r.assert_status(303);
    assert!(app.client.cookie("patronage_session").is_none(), "the cookie is removed");

    let replay = app.new_browser();
    replay.set_cookie("patronage_session", &old_cookie);
    let r = replay.get("/account").send().await;
    r.assert_status(303);
    assert_eq!(r.location().as_deref(), Some("/signin"));
    assert_eq!(app.count("select count(*) from sessions").await, 0);
}

#[tokio::test]
async fn sign_out_everywhere_ends_every_session_of_the_member() {
    let app = TestApp::spawn().await;
    let phone = app.new_browser();
    app.sign_in_member(&app.client, "many@example.org").await;
    app.sign_in_member(&phone, "many@example.org").await;
    let other = app.new_browser();
    app.sign_in_member(&other, "someone-else@example.org").await;
    assert_eq!(app.count("select count(*) from sessions").await, 3);

    app.client.post_form("/signout/everywhere", &[]).send().await.assert_status(303);
    phone.get("/account").send().await.assert_status(303);
    app.client.get("/account").send().await.assert_status(303);
    other.get("/account").send().await.assert_status(200);
}

/// A session ended through another instance (which cannot tell this one's
/// cache) may still show a page here for a few seconds, but never acts: a
/// request that changes something reads the session from the database.
#[tokio::test]
async fn a_session_ended_by_another_instance_cannot_act_here() {
    let app = TestApp::spawn().await;
    app.sign_in_member(&app.client, "ended.elsewhere@example.org").await;
    app.client.get("/account").send().await.assert_status(200);
    sqlx::query("delete from sessions")
        .execute(&mut *app.db().write().await.expect("a write"))
        .await
        .expect("signed out elsewhere");
    let r = app.client.post_form("/account", &[("name", "Renamed"), ("public_name", ""), ("lang", "uk")]).send().await;
    r.assert_status(303);
    assert_eq!(r.location().as_deref(), Some("/signin"));
    assert_eq!(
        app.count("select count(*) from members where locale = 'uk' or name = 'Renamed'").await,
        0,
        "nothing changed"
    );
}

#[tokio::test]
async fn sessions_expire_when_idle() {
    let app = TestApp::spawn().await;
    app.sign_in_member(&app.client, "idle@example.org").await;
    app.advance_clock(29 * 24 * 60 * MINUTE);
    app.client.get("/account").send().await.assert_status(200);
    // Activity slid the idle window forward.
    app.advance_clock(29 * 24 * 60 * MINUTE);
    app.client.get("/account").send().await.assert_status(200);
    app.advance_clock(31 * 24 * 60 * MINUTE);
    app.client.get("/account").send().await.assert_status(303);
}

#[tokio::test]
async fn sessions_expire_absolutely_even_when_used() {
    let app = TestApp::spawn().await;
    app.sign_in_member(&app.client, "steady@example.org").await;
    for _ in 0..4 {
        app.advance_clock(20 * 24 * 60 * MINUTE);
        app.client.get("/account").send().await.assert_status(200);
    }
    app.advance_clock(11 * 24 * 60 * MINUTE);
    app.client.get("/account").send().await.assert_status(303);
}

#[tokio::test]
async fn signing_in_again_replaces_the_browsers_session() {
    let app = TestApp::spawn().await;
    app.sign_in_member(&app.client, "fixate@example.org").await;
    let first = app.client.cookie("patronage_session").expect("cookie");
    app.sign_in_member(&app.client, "fixate@example.org").await;
    let second = app.client.cookie("patronage_session").expect("cookie");
    assert_ne!(first, second);
    assert_eq!(app.count("select count(*) from sessions").await, 1, "the old session ended");
}

#[tokio::test]
async fn cookies_are_secure_when_the_public_url_is_https() {
    let app = TestApp::builder().public_url("https://members.example.org").spawn().await;
    app.post_join(&app.client, "tls@example.org", "").await.assert_status(303);
    let link = app.deliver_mail().await[0].first_link_containing("/signin/confirm").expect("link");
    assert!(link.starts_with("https://members.example.org/signin/confirm?token="), "{link}");
    let r = app.client.post_form("/signin/confirm", &[("token", &token_of(&link))]).send().await;
    r.assert_status(303);
    let cookie = r.header("set-cookie").expect("session cookie");
    assert!(cookie.contains("Secure") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    // The __Host- prefix: no subdomain or plain-http page can set or shadow it.
    assert!(cookie.starts_with("__Host-patronage_session=") && cookie.contains("Path=/"), "{cookie}");
    assert!(!cookie.contains("Domain="), "{cookie}");
    // Browsers are told to keep to https for a year.
    assert_eq!(r.header("strict-transport-security").as_deref(), Some("max-age=31536000; includeSubDomains"));
    let lang = app.client.post_form("/lang", &[("lang", "uk"), ("next", "/")]).send().await;
    let lang_cookie = lang.header("set-cookie").expect("language cookie");
    assert!(lang_cookie.starts_with("__Host-lang=uk") && lang_cookie.contains("Secure"), "{lang_cookie}");
}

#[tokio::test]
async fn plain_http_gets_no_hsts_and_unprefixed_cookies() {
    let app = TestApp::spawn().await;
    let r = app.client.get("/").send().await;
    r.assert_status(200);
    assert!(r.header("strict-transport-security").is_none(), "HSTS only when readers reach us over https");
    let lang = app.client.post_form("/lang", &[("lang", "uk"), ("next", "/")]).send().await;
    assert!(lang.header("set-cookie").is_some_and(|c| c.starts_with("lang=uk")));
}

#[tokio::test]
async fn the_language_switcher_never_redirects_off_the_site() {
    let app = TestApp::spawn().await;
    for next in ["/\t/evil.example", "//evil.example", "/\\evil.example", "https://evil.example/", "/\n/evil.example"] {
        let r = app.client.post_form("/lang", &[("lang", "en"), ("next", next)]).send().await;
        r.assert_status(303);
        assert_eq!(r.location().as_deref(), Some("/"), "next={next:?}");
    }
    let r = app.client.post_form("/lang", &[("lang", "en"), ("next", "/topics?updated")]).send().await;
    assert_eq!(r.location().as_deref(), Some("/topics?updated"));
}

#[tokio::test]
async fn a_session_ended_by_another_instance_stops_working_within_seconds() {
    let app = TestApp::spawn().await;
    app.sign_in_member(&app.client, "roaming@example.org").await;
    app.client.get("/account").send().await.assert_status(200);
    // Another instance signs the member out: the row goes, this instance's copy stays briefly.
    sqlx::query("delete from sessions")
        .execute(&mut *app.db().write().await.expect("a write"))
        .await
        .expect("deleted elsewhere");
    app.advance_clock(patronage::services::cache::SESSION_TTL);
    let r = app.client.get("/account").send().await;
    r.assert_status(303);
    assert_eq!(r.location().as_deref(), Some("/signin"));
}

/// Page views are reads: a member's last-seen time is written at most once an hour.
#[tokio::test]
async fn a_members_last_seen_time_is_written_at_most_once_an_hour() {
    let app = TestApp::spawn().await;
    app.sign_in_member(&app.client, "browsing@example.org").await;
    let last_seen = || async {
        let (t,): (i64,) = sqlx::query_as(
            "select s.last_seen_at from sessions s join members m on m.id = s.member_id where m.email = $1",
        )
        .bind("browsing@example.org")
        .fetch_one(app.db().read())
        .await
        .expect("the member's session");
        t
    };
    let signed_in_at = last_seen().await;
    app.advance_clock(59 * MINUTE);
    app.client.get("/account").send().await.assert_status(200);
    assert_eq!(last_seen().await, signed_in_at, "not written within the hour");
    app.advance_clock(MINUTE);
    app.client.get("/account").send().await.assert_status(200);
    assert!(last_seen().await >= signed_in_at + 60 * MINUTE, "written once the hour is up");
}

/// The 6-digit code a sign-in email carries beside its link ("123 456").
fn code_in(mail: &crate::helpers::smtp_sink::ReceivedMail) -> String {
    let text = mail.text_body();
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 7 && l.as_bytes()[3] == b' ' && l.replace(' ', "").bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or_else(|| panic!("a code in the email:\n{text}"));
    assert!(mail.html_body().is_some_and(|h| h.contains(line)), "the html part shows it too");
    line.to_string()
}

fn wrong_code(right: &str) -> String {
    let digits: String = right.chars().filter(char::is_ascii_digit).collect();
    let n: u32 = digits.parse().expect("digits");
    format!("{:06}", (n + 1) % 1_000_000)
}

#[tokio::test]
async fn the_right_code_signs_in_once_and_ends_the_link_too() {
    let app = TestApp::spawn().await;
    app.post_join(&app.new_browser(), "coder@example.org", "Coder").await.assert_status(303);
    let mail = app.deliver_mail().await;
    let code = code_in(&mail[0]);
    let link = mail[0].first_link_containing("/signin/confirm").expect("a link too");
    assert!(mail[0].text_body().contains(&format!("{}/signin/sent", app.base_url)), "says where to enter it");

    // The "check your inbox" page has the form for it.
    let phone = app.new_browser();
    phone
        .get("/signin/sent")
        .send()
        .await
        .assert_status(200)
        .assert_contains("action=\"/signin/code\"")
        .assert_contains("autocomplete=\"one-time-code\"")
        .assert_contains("for 10 minutes");
    let r = phone.post_form("/signin/code", &[("email", "Coder@Example.org"), ("code", &code)]).send().await;
    r.assert_status(303);
    assert_eq!(r.location().as_deref(), Some("/account"));
    phone.get("/account").send().await.assert_status(200).assert_contains("coder@example.org");

    // Used once: neither the code nor the link works again.
    let other = app.new_browser();
    other
        .post_form("/signin/code", &[("email", "coder@example.org"), ("code", &code)])
        .send()
        .await
        .assert_status(422)
        .assert_contains("no code waiting for this address");
    other.get(&link).send().await.assert_status(410);
    other.post_form("/signin/confirm", &[("token", &token_of(&link))]).send().await.assert_status(410);
    assert!(other.cookie("patronage_session").is_none());
    assert_eq!(app.count("select count(*) from sessions").await, 1);
}

#[tokio::test]
async fn five_wrong_codes_kill_the_code_and_say_so_but_the_link_still_works() {
    let app = TestApp::spawn().await;
    app.post_join(&app.client, "guessed@example.org", "").await.assert_status(303);
    let mail = app.deliver_mail().await;
    let (code, link) = (code_in(&mail[0]), mail[0].first_link_containing("/signin/confirm").expect("link"));
    let wrong = wrong_code(&code);
    let attacker = app.new_browser();
    for left in ["4 more tries", "3 more tries", "2 more tries", "One more try"] {
        attacker
            .post_form("/signin/code", &[("email", "guessed@example.org"), ("code", &wrong)])
            .send()
            .await
            .assert_status(422)
            .assert_contains(left);
    }
    attacker
        .post_form("/signin/code", &[("email", "guessed@example.org"), ("code", &wrong)])
        .send()
        .await
        .assert_status(422)
        .assert_contains("entered wrongly 5 times");
    // Dead: even the right code is refused now, and says why.
    attacker
        .post_form("/signin/code", &[("email", "guessed@example.org"), ("code", &code)])
        .send()
        .await
        .assert_status(422)
        .assert_contains("entered wrongly 5 times");
    assert_eq!(app.count("select count(*) from sessions").await, 0);
    // The link in the email still works on its own.
    app.client.post_form("/signin/confirm", &[("token", &token_of(&link))]).send().await.assert_status(303);
    assert_eq!(app.count("select count(*) from sessions").await, 1);
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    let app = TestApp::spawn().await;
    app.post_join(&app.client, "slow.coder@example.org", "").await;
    let code = code_in(&app.deliver_mail().await[0]);
    app.advance_clock(10 * MINUTE + 1);
    app.client
        .post_form("/signin/code", &[("email", "slow.coder@example.org"), ("code", &code)])
        .send()
        .await
        .assert_status(422)
        .assert_contains("or it expired");
    assert_eq!(app.count("select count(*) from sessions").await, 0);
}

#[tokio::test]
async fn using_the_link_ends_the_code_and_a_newer_email_replaces_both() {
    let app = TestApp::spawn().await;
    app.post_join(&app.client, "linker@example.org", "").await;
    let first = app.deliver_mail().await;
    app.client.post_form("/signin", &[("email", "linker@example.org")]).send().await.assert_status(303);
    let second = app.deliver_mail().await;
    // The older email's code is replaced by the newer one's.
    app.client
        .post_form("/signin/code", &[("email", "linker@example.org"), ("code", &code_in(&first[0]))])
        .send()
        .await
        .assert_status(422);
    let link = second[0].first_link_containing("/signin/confirm").expect("link");
    app.client.post_form("/signin/confirm", &[("token", &token_of(&link))]).send().await.assert_status(303);
    app.new_browser()
        .post_form("/signin/code", &[("email", "linker@example.org"), ("code", &code_in(&second[0]))])
        .send()
        .await
        .assert_status(422)
        .assert_contains("no code waiting");
    assert_eq!(app.count("select count(*) from sessions").await, 1);
}

#[tokio::test]
async fn codes_for_an_unknown_address_answer_exactly_as_for_a_member() {
    let app = TestApp::spawn().await;
    app.post_join(&app.new_browser(), "real@example.org", "").await;
    app.deliver_mail().await;
    app.client.post_form("/signin", &[("email", "real@example.org")]).send().await.assert_status(303);
    app.client.post_form("/signin", &[("email", "ghost@example.org")]).send().await.assert_status(303);
    let code = code_in(&app.deliver_mail().await[0]);
    let wrong = wrong_code(&code);
    for _ in 0..6 {
        let real =
            app.client.post_form("/signin/code", &[("email", "real@example.org"), ("code", &wrong)]).send().await;
        let ghost =
            app.client.post_form("/signin/code", &[("email", "ghost@example.org"), ("code", &wrong)]).send().await;
        assert_eq!(real.status, ghost.status);
        assert_eq!(real.body.replace("real@", "ghost@"), ghost.body, "the same answer for both");
    }
    // Never asked for: the same as expired.
    let never = app.client.post_form("/signin/code", &[("email", "never@example.org"), ("code", &wrong)]).send().await;
    never.assert_status(422).assert_contains("no code waiting");
    assert_eq!(app.count("select count(*) from sessions").await, 0);
    assert_eq!(app.member_count().await, 1, "no member made for the unknown address");
}

#[tokio::test]
async fn a_malformed_code_or_address_is_refused_without_using_a_try() {
    let app = TestApp::spawn().await;
    app.post_join(&app.client, "typo@example.org", "").await;
    let code = code_in(&app.deliver_mail().await[0]);
    for bad in ["", "12345", "1234567", "abcdef", "' or 1=1 --"] {
        app.client
            .post_form("/signin/code", &[("email", "typo@example.org"), ("code", bad)])
            .send()
            .await
            .assert_status(422)
            .assert_contains("Enter the 6-digit code");
    }
    app.client
        .post_form("/signin/code", &[("email", "not-an-address"), ("code", &code)])
        .send()
        .await
        .assert_status(422)
        .assert_contains("Enter an email address like");
    let (attempts,): (i64,) = sqlx::query_as("select code_attempts from login_tokens where used_at is null")
        .fetch_one(app.db().read())
        .await
        .expect("the sign-in");
    assert_eq!(attempts, 0);
    // Typed with a space, as the email shows it, or without.
    let r = app.client.post_form("/signin/code", &[("email", "typo@example.org"), ("code", &code)]).send().await;
    r.assert_status(303);
}

#[tokio::test]
async fn code_entries_are_rate_limited_per_ip() {
    let app = TestApp::spawn().await;
    app.start_a_fresh_window(patronage::services::membership::SIGN_IN_CODE_PER_IP);
    for i in 0..30 {
        app.client
            .post_form("/signin/code", &[("email", &format!("p{i}@example.org")), ("code", "000000")])
            .send()
            .await
            .assert_status(422);
    }
    app.client
        .post_form("/signin/code", &[("email", "p99@example.org"), ("code", "000000")])
        .send()
        .await
        .assert_status(429);
}
