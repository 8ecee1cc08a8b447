use patronage::domain::{Email, Role};
use patronage::services::audit::Actor;
use patronage::services::rate_limit;
use patronage::services::staff;

use crate::helpers::{STAFF_PASSWORD, TestApp, token_of};

#[tokio::test]
async fn first_start_offers_a_one_time_admin_setup_link() {
    let app = TestApp::spawn().await;
    let link = staff::setup_link_if_needed(&app.ctx).await.expect("works").expect("no staff yet, so a link");
    let token = token_of(&link);
    app.client.get(&link).send().await.assert_status(200).assert_contains("Create the first administrator");

    // Bad input re-renders with errors and creates nothing.
    app.client
        .post_form(
            "/admin/setup",
            &[("token", &token), ("email", "boss@news.test"), ("password", "short"), ("password_again", "short")],
        )
        .send()
        .await
        .assert_status(422)
        .assert_contains("at least 12 characters")
        .assert_contains("value=\"boss@news.test\"");
    assert_eq!(app.count("select count(*) from staff_users").await, 0);

    let r = app
        .client
        .post_form(
            "/admin/setup",
            &[
                ("token", &token),
                ("email", "boss@news.test"),
                ("password", STAFF_PASSWORD),
                ("password_again", STAFF_PASSWORD),
            ],
        )
        .send()
        .await;
    r.assert_status(303);
    assert!(
        r.header("set-cookie")
            .is_some_and(|c| c.contains("patronage_staff=") && c.contains("Path=/admin") && c.contains("HttpOnly"))
    );
    app.client
        .get("/admin")
        .send()
        .await
        .assert_status(200)
        .assert_contains("Dashboard")
        .assert_contains("boss@news.test (admin)");

    // The link is used up, and no new one is offered now that an admin exists.
    app.new_browser().get(&link).send().await.assert_status(410);
    assert!(staff::setup_link_if_needed(&app.ctx).await.expect("works").is_none());
    let (hash,): (String,) =
        sqlx::query_as("select password_hash from staff_users").fetch_one(app.db().read()).await.expect("admin");
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert_eq!(app.count("select count(*) from audit_log where action = 'staff.setup'").await, 1);
}

#[tokio::test]
async fn a_newer_setup_link_replaces_the_older_one() {
    let app = TestApp::spawn().await;
    let older = staff::setup_link_if_needed(&app.ctx).await.expect("works").expect("link");
    let newer = staff::setup_link_if_needed(&app.ctx).await.expect("works").expect("link");
    app.client.get(&older).send().await.assert_status(410);
    app.client.get(&newer).send().await.assert_status(200);
}

#[tokio::test]
async fn staff_add_prints_a_set_password_link_that_signs_in() {
    let app = TestApp::spawn().await;
    let email = Email::parse("editor@news.test").expect("valid");
    let (_, link) = staff::invite(&app.ctx, &Actor::cli(), &email, Role::Editor, true).await.expect("invited");
    assert!(link.contains("/admin/password?token="));
    let token = token_of(&link);
    app.client.get(&link).send().await.assert_status(200);
    app.client
        .post_form(
            "/admin/password",
            &[("token", &token), ("password", STAFF_PASSWORD), ("password_again", "different password!!")],
        )
        .send()
        .await
        .assert_status(422)
        .assert_contains("differ");
    app.client
        .post_form(
            "/admin/password",
            &[("token", &token), ("password", STAFF_PASSWORD), ("password_again", STAFF_PASSWORD)],
        )
        .send()
        .await
        .assert_status(303);
    app.client.get("/admin").send().await.assert_status(200).assert_contains("editor@news.test (editor)");
    app.new_browser().get(&link).send().await.assert_status(410);
}

#[tokio::test]
async fn staff_sign_in_with_password_and_out() {
    let app = TestApp::spawn().await;
    app.sign_in_staff(&app.client, "admin@news.test", Role::Admin).await;
    app.client.get("/admin").send().await.assert_status(200);

    let wrong = app.new_browser();
    let r =
        wrong.post_form("/admin/login", &[("email", "admin@news.test"), ("password", "not the password")]).send().await;
    r.assert_status(422).assert_contains("Wrong email or password").assert_contains("value=\"admin@news.test\"");
    let unknown = wrong
        .post_form("/admin/login", &[("email", "nobody@news.test"), ("password", "not the password")])
        .send()
        .await;
    unknown.assert_status(422).assert_contains("Wrong email or password");
    assert!(wrong.cookie("patronage_staff").is_none());
    assert_eq!(app.count("select count(*) from audit_log where action = 'staff.sign_in_failed'").await, 2);

    app.client.post_form("/admin/logout", &[]).send().await.assert_status(303);
    let r = app.client.get("/admin").send().await;
    r.assert_status(303);
    assert_eq!(r.location().as_deref(), Some("/admin/login"));
    assert_eq!(
        app.count("select count(*) from audit_log where action in ('staff.sign_in', 'staff.sign_out')").await,
        2
    );
}

#[tokio::test]
async fn a_member_cannot_reach_admin() {
    let app = TestApp::spawn().await;
    app.sign_in_member(&app.client, "reader@example.org").await;
    let r = app.client.get("/admin").send().await;
    r.assert_status(303);
    assert_eq!(r.location().as_deref(), Some("/admin/login"));
    // A member's session cookie is not a staff credential, even under /admin's cookie name.
    let member_cookie = app.client.cookie("patronage_session").expect("member cookie");
    let forged = app.new_browser();
    forged.set_cookie("patronage_staff", &member_cookie);
    forged.get("/admin").send().await.assert_status(303);
    forged.get("/admin/staff").send().await.assert_status(303);
}

#[tokio::test]
async fn analysts_and_editors_cannot_do_admin_only_actions() {
    let app = TestApp::spawn().await;
    for (email, role) in [("analyst@news.test", Role::Analyst), ("editor@news.test", Role::Editor)] {
        let browser = app.new_browser();
        app.sign_in_staff(&browser, email, role).await;
        browser.get("/admin").send().await.assert_status(200).assert_not_contains("href=\"/admin/staff\"");
        browser.get("/admin/staff").send().await.assert_status(403);
        browser.get("/admin/audit").send().await.assert_status(403);
        browser
            .post_form("/admin/staff", &[("email", "intruder@news.test"), ("role", "admin")])
            .send()
            .await
            .assert_status(403)
            .assert_contains("do not have access");
    }
    assert_eq!(app.count("select count(*) from staff_users where email = 'intruder@news.test'").await, 0);
    assert_eq!(
        app.count("select count(*) from audit_log where action = 'staff.invite' and target = 'intruder@news.test'")
            .await,
        0
    );
    // Every refusal is on the record: who, what, when, from where.
    assert_eq!(app.count("select count(*) from audit_log where action = 'staff.refused'").await, 6);
    assert_eq!(
        app.count(
            "select count(*) from audit_log where action = 'staff.refused' and actor_email = 'editor@news.test'
               and target = 'POST /admin/staff' and ip = '127.0.0.1' and detail = 'needs ManageStaff'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn admins_invite_change_roles_and_disable_staff_with_an_audit_trail() {
    let app = TestApp::spawn().await;
    app.sign_in_staff(&app.client, "admin@news.test", Role::Admin).await;
    let r = app.client.post_form("/admin/staff", &[("email", "New.Person@news.test"), ("role", "editor")]).send().await;
    r.assert_status(200).assert_contains("/admin/password?token=");
    app.client
        .post_form("/admin/staff", &[("email", "new.person@news.test"), ("role", "editor")])
        .send()
        .await
        .assert_status(422)
        .assert_contains("exists already");
    app.client
        .post_form("/admin/staff", &[("email", "x@news.test"), ("role", "owner")])
        .send()
        .await
        .assert_status(422);

    let (id,): (String,) = sqlx::query_as("select id from staff_users where email = 'new.person@news.test'")
        .fetch_one(app.db().read())
        .await
        .expect("invited");
    app.client.post_form(&format!("/admin/staff/{id}/role"), &[("role", "analyst")]).send().await.assert_status(303);
    app.client.post_form(&format!("/admin/staff/{id}/disable"), &[]).send().await.assert_status(303);
    let (role, disabled): (String, Option<i64>) =
        sqlx::query_as("select role, disabled_at from staff_users where id = $1")
            .bind(&id)
            .fetch_one(app.db().read())
            .await
            .expect("row");
    assert_eq!(role, "analyst");
    assert!(disabled.is_some());

    let audit = app.client.get("/admin/audit").send().await;
    audit
        .assert_status(200)
        .assert_contains("staff.invite")
        .assert_contains("staff.change_role")
        .assert_contains("staff.disable");
    assert_eq!(
        app.count("select count(*) from audit_log where actor_email = 'admin@news.test'").await,
        4,
        "sign-in, invite, role, disable"
    );
}

#[tokio::test]
async fn the_last_admin_cannot_be_demoted_or_disabled() {
    let app = TestApp::spawn().await;
    app.sign_in_staff(&app.client, "only@news.test", Role::Admin).await;
    let (id,): (String,) =
        sqlx::query_as("select id from staff_users").fetch_one(app.db().read()).await.expect("admin");
    app.client
        .post_form(&format!("/admin/staff/{id}/role"), &[("role", "analyst")])
        .send()
        .await
        .assert_status(400)
        .assert_contains("last active administrator");
    app.client.post_form(&format!("/admin/staff/{id}/disable"), &[]).send().await.assert_status(400);
    let (role,): (String,) =
        sqlx::query_as("select role from staff_users").fetch_one(app.db().read()).await.expect("admin");
    assert_eq!(role, "admin");
}

#[tokio::test]
async fn disabled_staff_lose_their_sessions_and_cannot_sign_in() {
    let app = TestApp::spawn().await;
    app.sign_in_staff(&app.client, "admin@news.test", Role::Admin).await;
    let editor = app.new_browser();
    app.sign_in_staff(&editor, "editor@news.test", Role::Editor).await;
    let (id,): (String,) = sqlx::query_as("select id from staff_users where email = 'editor@news.test'")
        .fetch_one(app.db().read())
        .await
        .expect("editor");
    app.client.post_form(&format!("/admin/staff/{id}/disable"), &[]).send().await.assert_status(303);
    editor.get("/admin").send().await.assert_status(303);
    editor
        .post_form("/admin/login", &[("email", "editor@news.test"), ("password", STAFF_PASSWORD)])
        .send()
        .await
        .assert_status(422);
}

#[tokio::test]
async fn staff_sign_in_is_rate_limited() {
    let app = TestApp::spawn().await;
    app.start_a_fresh_window(rate_limit::STAFF_LOGIN_PER_EMAIL);
    for _ in 0..10 {
        app.client
            .post_form("/admin/login", &[("email", "guess@news.test"), ("password", "guess guess guess")])
            .send()
            .await
            .assert_status(422);
    }
    app.client
        .post_form("/admin/login", &[("email", "guess@news.test"), ("password", "guess guess guess")])
        .send()
        .await
        .assert_status(429);
}

/// Counting members scans the table, so the dashboard's figures are kept for 5 s.
#[tokio::test]
async fn the_dashboard_figures_are_at_most_five_seconds_old() {
    let app = TestApp::spawn().await;
    let admin = app.new_browser();
    app.sign_in_staff(&admin, "admin@news.test", Role::Admin).await;
    let shown = |n: i64| format!("<span class=\"stat\">{n}</span> members");
    let before = app.member_count().await;
    admin.get("/admin").send().await.assert_status(200).assert_contains(&shown(before));

    app.sign_in_member(&app.new_browser(), "reader@example.org").await;
    assert_eq!(app.member_count().await, before + 1);
    admin.get("/admin").send().await.assert_contains(&shown(before));
    app.advance_clock(5 * patronage::clock::SECOND);
    admin.get("/admin").send().await.assert_contains(&shown(before + 1));
}
