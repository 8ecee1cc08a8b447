//! Staff members directory: search, filters, keyset paging, CSV export, the
//! member page, notes, ending sessions, roles and bad input.
use patronage::clock::{DAY, Micros};
use patronage::db;
use patronage::domain::{
    Currency, Email, Interval, Locale, MemberId, PersonName, Role, SubscriptionState, SubscriptionStatus,
};
use patronage::services::audit::Actor;
use patronage::services::{billing, membership};

use crate::helpers::{TestApp, TestResponse};

/// 2026-03-01 00:00 UTC.
const MARCH_1: Micros = 1_772_323_200_000_000;

async fn admin_app() -> TestApp {
    let app = TestApp::spawn().await;
    app.sign_in_staff(&app.client, "admin@news.test", Role::Admin).await;
    app
}

/// A member as the join form creates one, joined at `joined`.
async fn member(app: &TestApp, email: &str, name: Option<&str>, joined: Micros) -> MemberId {
    let id = MemberId::new();
    let email = Email::parse(email).expect("a valid test email");
    let name = name.map(|n| PersonName::parse_optional(n).expect("a valid name").expect("a name"));
    let mut writer = app.db().write().await.expect("a writer");
    let inserted = db::members::insert_if_absent(
        &mut *writer,
        id,
        &email,
        name.as_ref().map(PersonName::as_str),
        Locale::En,
        joined,
    )
    .await
    .expect("inserted");
    assert!(inserted);
    id
}

/// Applies a subscription state as the billing code does for a Stripe event.
async fn apply(
    app: &TestApp,
    member: MemberId,
    provider_id: &str,
    plan: (&str, &str, &str),
    status: SubscriptionStatus,
) {
    let (slug, interval, currency) = plan;
    let price = app.price_id(slug, interval, currency).await;
    let (amount,): (i64,) = sqlx::query_as("select amount_minor from tier_prices where id = $1")
        .bind(&price)
        .fetch_one(app.db().read())
        .await
        .expect("the price");
    let now = app.clock().now();
    let ended = matches!(status, SubscriptionStatus::Canceled).then_some(now);
    let state = SubscriptionState {
        provider_id: provider_id.to_string(),
        customer_id: format!("cus_{}", member.0.simple()),
        member_hint: Some(member),
        price_ref: Some(price),
        price_hint: None,
        status,
        interval: interval.parse::<Interval>().expect("an interval"),
        amount_minor: amount,
        currency: Currency::parse(currency).expect("a currency"),
        current_period_end: Some(now + 30 * DAY),
        cancel_at_period_end: false,
        started_at: Some(now),
        canceled_at: ended,
        ended_at: ended,
        pause: None,
        offer: None,
        source: None,
    };
    let mut tx = app.db().transaction().await.expect("a transaction");
    billing::apply_subscription(&app.ctx, &mut tx, &state).await.expect("applied");
    tx.commit().await.expect("committed");
    // A new patron's welcome email goes out, as the mail job would send it.
    app.drain_jobs().await;
}

async fn mark_paid(app: &TestApp, provider_id: &str) {
    let mut writer = app.db().write().await.expect("a writer");
    db::subscriptions::mark_first_paid(&mut *writer, provider_id, app.clock().now()).await.expect("marked");
}

/// The member ids a list page links to, in order.
fn ids(page: &TestResponse) -> Vec<String> {
    page.body
        .split("href=\"/admin/members/")
        .skip(1)
        .filter_map(|s| s.get(..36))
        .filter(|s| s.parse::<MemberId>().is_ok())
        .map(str::to_string)
        .collect()
}

/// A link of the page (`rel="next"` or `rel="prev"`), unescaped.
fn link(page: &TestResponse, rel: &str) -> Option<String> {
    let end = page.body.find(&format!("rel=\"{rel}\""))?;
    let start = page.body[..end].rfind("href=\"")? + 6;
    let href = &page.body[start..end];
    Some(href[..href.find('"')?].replace("&amp;", "&").replace("&#x2F;", "/"))
}

async fn list(app: &TestApp, query: &str) -> Vec<String> {
    let page = app.client.get(&format!("/admin/members?{query}")).send().await;
    page.assert_status(200);
    ids(&page)
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn s(id: MemberId) -> String {
    id.to_string()
}

#[tokio::test]
async fn search_ignores_case_and_accents_and_finds_cyrillic_names() {
    let app = admin_app().await;
    let zoe = member(&app, "zoe@example.org", Some("Zoë Ångström"), MARCH_1).await;
    let olena = member(&app, "olena@example.org", Some("Олена Йосипенко"), MARCH_1).await;
    let upper = member(&app, "MiXeD.Case@Example.ORG", None, MARCH_1).await;
    let _other = member(&app, "someone@example.org", Some("Somebody Else"), MARCH_1).await;

    assert_eq!(list(&app, "q=ZOE").await, vec![s(zoe)]);
    assert_eq!(list(&app, "q=angstrom").await, vec![s(zoe)]);
    assert_eq!(list(&app, "q=%C3%85NGSTR%C3%96M").await, vec![s(zoe)], "ÅNGSTRÖM");
    assert_eq!(list(&app, "q=%D0%BE%D0%BB%D0%B5%D0%BD%D0%B0").await, vec![s(olena)], "олена");
    // "Йосипенко" typed without the breve, and in capitals.
    assert_eq!(list(&app, "q=%D0%98%D0%9E%D0%A1%D0%98%D0%9F").await, vec![s(olena)], "ИОСИП");
    assert_eq!(list(&app, "q=mixed.case%40example").await, vec![s(upper)]);
    // Every word must match, in the email or a name.
    assert_eq!(list(&app, "q=zoe+example.org").await, vec![s(zoe)]);
    assert!(list(&app, "q=zoe+olena").await.is_empty());
    assert_eq!(list(&app, "").await.len(), 4);

    // A public name set later is searchable too, and a changed name replaces the old one.
    let name = PersonName::parse_optional("Olha").expect("valid");
    let pseudonym = PersonName::parse_optional("Nightingale").expect("valid");
    membership::update_profile(&app.ctx, olena, name.as_ref(), pseudonym.as_ref(), Locale::Uk).await.expect("saved");
    assert_eq!(list(&app, "q=nightingale").await, vec![s(olena)]);
    assert_eq!(list(&app, "q=olha").await, vec![s(olena)]);
    assert!(list(&app, "q=%D0%BE%D0%BB%D0%B5%D0%BD%D0%B0").await.is_empty());
}

#[tokio::test]
async fn search_takes_percent_underscore_backslash_and_quotes_literally() {
    let app = admin_app().await;
    let percent = member(&app, "p@example.org", Some("100% Reader"), MARCH_1).await;
    let underscore = member(&app, "under_score@example.org", None, MARCH_1).await;
    let quote = member(&app, "q@example.org", Some("O'Brien \"Quoted\""), MARCH_1).await;
    let backslash = member(&app, "b@example.org", Some("Back\\slash"), MARCH_1).await;
    // Would match `_` or `%` as wildcards.
    let _decoy = member(&app, "underxscore@example.org", Some("1000 Readers"), MARCH_1).await;

    assert_eq!(list(&app, "q=0%25").await, vec![s(percent)], "0% matches only a literal percent sign");
    assert_eq!(list(&app, "q=%25").await, vec![s(percent)]);
    assert_eq!(list(&app, "q=under_").await, vec![s(underscore)]);
    assert_eq!(list(&app, "q=_").await, vec![s(underscore)]);
    assert_eq!(list(&app, "q=o%27brien").await, vec![s(quote)]);
    assert_eq!(list(&app, "q=%22quoted%22").await, vec![s(quote)]);
    assert_eq!(list(&app, "q=%27%3B+drop+table+members%3B+--").await, Vec::<String>::new());
    assert_eq!(list(&app, "q=k%5Cs").await, vec![s(backslash)], "a backslash is no escape character");
    assert_eq!(app.member_count().await, 5, "nothing was dropped");
}

#[tokio::test]
async fn each_filter_narrows_the_list() {
    // Staff sign in once the clock has moved (a staff session idles out after 12 hours).
    let app = TestApp::spawn().await;
    let free = member(&app, "free@example.org", Some("Free"), MARCH_1).await;
    let patron = member(&app, "patron@example.org", Some("Patron"), MARCH_1 + 10 * DAY).await;
    let yearly_usd = member(&app, "yearly@example.org", Some("Yearly"), MARCH_1 + 20 * DAY).await;
    let past_due = member(&app, "pastdue@example.org", Some("Past Due"), MARCH_1 + 30 * DAY).await;
    let lapsed = member(&app, "lapsed@example.org", Some("Lapsed"), MARCH_1 + 40 * DAY).await;
    let comped = member(&app, "comped@example.org", Some("Comped"), MARCH_1 + 50 * DAY).await;
    let grace_over = member(&app, "graceover@example.org", Some("Grace Over"), MARCH_1 + 60 * DAY).await;

    apply(&app, patron, "sub_patron", ("supporter", "month", "eur"), SubscriptionStatus::Active).await;
    apply(&app, yearly_usd, "sub_yearly", ("cocreator", "year", "usd"), SubscriptionStatus::Active).await;
    apply(&app, lapsed, "sub_lapsed", ("reader", "month", "eur"), SubscriptionStatus::Active).await;
    mark_paid(&app, "sub_lapsed").await;
    apply(&app, grace_over, "sub_grace", ("supporter", "month", "eur"), SubscriptionStatus::PastDue).await;
    // Twenty days later: grace (14 days) is over for that one; the others are fresh.
    app.advance_clock(20 * DAY);
    apply(&app, past_due, "sub_pastdue", ("reader", "month", "eur"), SubscriptionStatus::PastDue).await;
    apply(&app, lapsed, "sub_lapsed", ("reader", "month", "eur"), SubscriptionStatus::Canceled).await;
    let lapsed_day = patronage::clock::format_date(app.clock().now());
    let email = Email::parse("comped@example.org").expect("valid");
    let grant = billing::CompGrant {
        until: Some(app.clock().now() + 30 * DAY),
        reason: patronage::domain::CompReason::parse("Board member").expect("a reason"),
    };
    billing::comp_by_email(&app.ctx, &Actor::cli(), &email, Some(&grant)).await.expect("comped");
    app.sign_in_staff(&app.client, "admin@news.test", Role::Admin).await;

    assert_eq!(list(&app, "status=free").await, vec![s(free)]);
    assert_eq!(sorted(list(&app, "status=patron").await), sorted(vec![s(patron), s(yearly_usd)]));
    assert_eq!(list(&app, "status=past_due").await, vec![s(past_due)]);
    assert_eq!(sorted(list(&app, "status=lapsed").await), sorted(vec![s(lapsed), s(grace_over)]));
    assert_eq!(list(&app, "status=comped").await, vec![s(comped)]);
    // The list's status is the member's standing as the rest of the app sees it.
    for id in [free, patron, yearly_usd, past_due, lapsed, comped, grace_over] {
        let standing = billing::standing(&app.ctx, id).await.expect("standing");
        let status = standing.status.as_str();
        assert!(list(&app, &format!("status={status}")).await.contains(&s(id)), "{id} is {status}");
    }

    assert_eq!(sorted(list(&app, "tier=supporter").await), sorted(vec![s(patron), s(grace_over)]));
    assert_eq!(list(&app, "tier=cocreator").await, vec![s(yearly_usd)]);
    assert_eq!(list(&app, "interval=year").await, vec![s(yearly_usd)]);
    assert_eq!(list(&app, "currency=usd").await, vec![s(yearly_usd)]);
    assert_eq!(list(&app, "currency=USD&interval=month").await, Vec::<String>::new());
    assert_eq!(list(&app, "tier=supporter&status=patron").await, vec![s(patron)]);

    // Joined: whole days, both ends included.
    assert_eq!(
        sorted(list(&app, "joined_from=2026-03-11&joined_to=2026-03-21").await),
        sorted(vec![s(patron), s(yearly_usd)])
    );
    assert_eq!(list(&app, "joined_to=2026-03-01").await, vec![s(free)]);
    assert_eq!(list(&app, "joined_from=2026-04-30").await, vec![s(grace_over)]);

    // Lapsed: the day the subscription ended, or the day the grace ran out.
    assert_eq!(list(&app, &format!("lapsed_from={lapsed_day}&lapsed_to={lapsed_day}")).await, vec![s(lapsed)]);
    assert_eq!(sorted(list(&app, "lapsed_from=2000-01-01").await), sorted(vec![s(lapsed), s(grace_over)]));
    assert_eq!(list(&app, "lapsed_to=2000-01-01").await, Vec::<String>::new());
}

#[tokio::test]
async fn keyset_pages_show_every_member_once_in_every_order() {
    let app = admin_app().await;
    let mut all = Vec::new();
    for i in 0..123 {
        // Ties on purpose: joined in threes at the same microsecond, names repeating, some without a name.
        let name = match i % 4 {
            0 => None,
            1 => Some(format!("Ánna {}", i % 7)),
            _ => Some(format!("Bohdan {}", i % 5)),
        };
        let id = member(&app, &format!("reader{i:03}@example.org"), name.as_deref(), MARCH_1 + (i / 3) * DAY).await;
        if i % 10 == 0 {
            apply(&app, id, &format!("sub_{i}"), ("supporter", "month", "eur"), SubscriptionStatus::Active).await;
        }
        all.push(s(id));
    }
    for sort in ["joined", "name", "email", "mrr"] {
        for dir in ["asc", "desc"] {
            let mut seen = Vec::new();
            let mut pages = Vec::new();
            let mut url = format!("/admin/members?sort={sort}&dir={dir}");
            loop {
                let page = app.client.get(&url).send().await;
                page.assert_status(200);
                let got = ids(&page);
                assert!(got.len() <= 50, "{sort} {dir}: a page holds at most 50");
                seen.extend(got.clone());
                pages.push((url.clone(), got));
                match link(&page, "next") {
                    Some(next) => url = next,
                    None => break,
                }
            }
            assert_eq!(pages.len(), 3, "{sort} {dir}: 123 members on three pages");
            assert_eq!(seen.len(), 123, "{sort} {dir}: no member twice");
            assert_eq!(sorted(seen.clone()), sorted(all.clone()), "{sort} {dir}: every member");
            // Going back from the last page gives the pages before it again.
            let last = app.client.get(&pages[2].0).send().await;
            let back = link(&last, "prev").expect("a previous page");
            assert_eq!(ids(&app.client.get(&back).send().await), pages[1].1, "{sort} {dir}: previous page");
        }
    }
    // In name order, members with a name come first, then the rest by email.
    let first = list(&app, "sort=name&dir=asc").await;
    let nameless = list(&app, "sort=name&dir=desc").await;
    assert!(first.iter().take(5).all(|id| !nameless.iter().take(5).any(|n| n == id)));
}

#[tokio::test]
async fn csv_export_is_the_whole_filtered_list_with_formulas_escaped_and_is_audited() {
    let app = admin_app().await;
    let mut patrons = Vec::new();
    for i in 0..60 {
        let id = member(&app, &format!("p{i:02}@example.org"), Some("Patron"), MARCH_1 + i * DAY).await;
        apply(&app, id, &format!("sub_{i}"), ("reader", "month", "eur"), SubscriptionStatus::Active).await;
        patrons.push(s(id));
    }
    let formula = member(&app, "formula@example.org", Some("=HYPERLINK(\"http://evil\")"), MARCH_1).await;
    apply(&app, formula, "sub_formula", ("reader", "month", "eur"), SubscriptionStatus::Active).await;
    for (i, n) in ["+1", "-2", "@SUM(A1)"].iter().enumerate() {
        let id = member(&app, &format!("f{i}@example.org"), Some(n), MARCH_1).await;
        apply(&app, id, &format!("sub_f{i}"), ("reader", "month", "eur"), SubscriptionStatus::Active).await;
        patrons.push(s(id));
    }
    patrons.push(s(formula));
    member(&app, "free@example.org", Some("Free Reader"), MARCH_1).await;

    let r = app.client.get("/admin/members.csv?status=patron&sort=email&dir=asc").send().await;
    r.assert_status(200);
    assert!(r.header("content-type").is_some_and(|c| c.starts_with("text/csv")));
    assert!(r.header("content-disposition").is_some_and(|c| c.contains("attachment")));
    let lines: Vec<&str> = r.body.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert!(lines[0].starts_with("\"id\",\"email\",\"name\""));
    let rows = &lines[1..];
    assert_eq!(rows.len(), 64, "every page of the filtered list, and no one else");
    let exported: Vec<String> = rows.iter().map(|l| l[1..37].to_string()).collect();
    assert_eq!(sorted(exported.clone()), sorted(patrons.clone()));
    let emails: Vec<&str> = rows.iter().map(|l| l.split("\",\"").nth(1).unwrap_or_default()).collect();
    let mut by_email = emails.clone();
    by_email.sort();
    assert_eq!(emails, by_email, "in the list's order");
    assert!(!r.body.contains("free@example.org"));
    assert!(r.body.contains("\"'=HYPERLINK(\"\"http://evil\"\")\""), "{}", r.body);
    // A plain negative number cannot run as a formula and stays a number (see http/csv.rs).
    assert!(r.body.contains("\"'+1\"") && r.body.contains("\"-2\"") && r.body.contains("\"'@SUM(A1)\""));
    assert!(r.body.contains("\"patron\",\"Reader\",\"month\",\"EUR\",\"3.00\""), "{}", rows[0]);

    let (action, detail): (String, String) =
        sqlx::query_as("select action, detail from audit_log where action = 'members.export'")
            .fetch_one(app.db().read())
            .await
            .expect("the export is in the audit log");
    assert_eq!(action, "members.export");
    assert!(detail.starts_with("64 members") && detail.contains("status=patron"), "{detail}");
    // The list's own pages agree with the export.
    let first = app.client.get("/admin/members?status=patron&sort=email&dir=asc").send().await;
    assert_eq!(ids(&first), exported[..50].to_vec());
}

#[tokio::test]
async fn staff_notes_are_added_and_edited_and_every_change_is_audited() {
    let app = admin_app().await;
    let id = member(&app, "reader@example.org", Some("Reader"), MARCH_1).await;
    let page = format!("/admin/members/{id}");
    app.client
        .post_form(&format!("{page}/notes"), &[("body", "Called about <b>renewal</b>.")])
        .send()
        .await
        .assert_status(303);
    let (note_id, body): (String, String) =
        sqlx::query_as("select id, body from member_notes").fetch_one(app.db().read()).await.expect("a note");
    assert_eq!(body, "Called about <b>renewal</b>.");
    app.client
        .get(&page)
        .send()
        .await
        .assert_status(200)
        .assert_contains("Called about &lt;b&gt;renewal&lt;&#x2F;b&gt;.".replace("&#x2F;", "/").as_str())
        .assert_contains("admin@news.test");

    app.client
        .post_form(&format!("{page}/notes/{note_id}"), &[("body", "Will renew in May.")])
        .send()
        .await
        .assert_status(303);
    let (body,): (String,) = sqlx::query_as("select body from member_notes where id = $1")
        .bind(&note_id)
        .fetch_one(app.db().read())
        .await
        .expect("note");
    assert_eq!(body, "Will renew in May.");
    let entries: Vec<(String, String, String, String)> = sqlx::query_as(
        "select action, target, detail, actor_email from audit_log where action like 'member.note%' order by created_at",
    )
    .fetch_all(app.db().read())
    .await
    .expect("audit");
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].0, "member.note_added");
    assert_eq!(entries[1].0, "member.note_edited");
    assert!(entries.iter().all(|e| e.1 == id.to_string()));
    assert!(entries[1].2.contains("Will renew in May.") && entries[1].2.contains("was: Called about"));
    assert!(entries.iter().all(|e| e.3 == "admin@news.test"));
    app.client.get(&page).send().await.assert_contains("Will renew in May.").assert_contains("edited");

    // A note of another member cannot be edited through this one.
    let other = member(&app, "other@example.org", None, MARCH_1).await;
    app.client
        .post_form(&format!("/admin/members/{other}/notes/{note_id}"), &[("body", "Hijacked")])
        .send()
        .await
        .assert_status(404);
    assert_eq!(app.count("select count(*) from member_notes where body = 'Hijacked'").await, 0);
}

#[tokio::test]
async fn bad_notes_get_400_and_nothing_is_stored() {
    let app = admin_app().await;
    let id = member(&app, "reader@example.org", None, MARCH_1).await;
    for bad in ["   ", "a\u{7}b", "a\u{202E}b", &"x".repeat(4001)] {
        app.client.post_form(&format!("/admin/members/{id}/notes"), &[("body", bad)]).send().await.assert_status(400);
    }
    assert_eq!(app.count("select count(*) from member_notes").await, 0);
    assert_eq!(app.count("select count(*) from audit_log where action like 'member.%'").await, 0);
    app.client.post_form(&format!("/admin/members/{id}/notes"), &[("body", "fine")]).send().await.assert_status(303);
    let (note_id,): (String,) =
        sqlx::query_as("select id from member_notes").fetch_one(app.db().read()).await.expect("note");
    app.client
        .post_form(&format!("/admin/members/{id}/notes/{note_id}"), &[("body", "")])
        .send()
        .await
        .assert_status(400)
        .assert_contains("the note is empty");
    assert_eq!(app.count("select count(*) from member_notes where body = 'fine'").await, 1);
    assert_eq!(app.count("select count(*) from audit_log where action = 'member.note_edited'").await, 0);
}

#[tokio::test]
async fn ending_a_session_signs_the_member_out_and_is_audited() {
    let mut app = admin_app().await;
    let reader = app.new_browser();
    app.sign_in_member(&reader, "reader@example.org").await;
    let laptop = app.new_browser();
    app.sign_in_member(&laptop, "reader@example.org").await;
    reader.get("/account").send().await.assert_status(200);
    let (id,): (String,) = sqlx::query_as("select id from members where email = 'reader@example.org'")
        .fetch_one(app.db().read())
        .await
        .expect("member");
    let page = app.client.get(&format!("/admin/members/{id}")).send().await;
    page.assert_status(200);
    let sessions: Vec<String> =
        page.body.split("name=\"session\" value=\"").skip(1).filter_map(|s| s.get(..64).map(str::to_string)).collect();
    assert_eq!(sessions.len(), 2);
    // Which row is the reader's browser: the newest session is the laptop's.
    let (first,): (String,) =
        sqlx::query_as("select id from sessions where member_id = $1 order by created_at limit 1")
            .bind(&id)
            .fetch_one(app.db().read())
            .await
            .expect("session");
    app.client
        .post_form(&format!("/admin/members/{id}/sessions/end"), &[("session", &first)])
        .send()
        .await
        .assert_status(303);
    let r = reader.get("/account").send().await;
    r.assert_status(303);
    assert_eq!(r.location().as_deref(), Some("/signin"));
    laptop.get("/account").send().await.assert_status(200);
    assert_eq!(app.count("select count(*) from audit_log where action = 'member.session_ended'").await, 1);

    // A session that is not this member's (or no longer exists) is not found, and nothing is recorded.
    app.client
        .post_form(&format!("/admin/members/{id}/sessions/end"), &[("session", &first)])
        .send()
        .await
        .assert_status(404);
    app.client
        .post_form(&format!("/admin/members/{id}/sessions/end"), &[("session", "not-a-session")])
        .send()
        .await
        .assert_status(400);
    assert_eq!(app.count("select count(*) from audit_log where action = 'member.session_ended'").await, 1);

    app.client.post_form(&format!("/admin/members/{id}/sessions/end-all"), &[]).send().await.assert_status(303);
    laptop.get("/account").send().await.assert_status(303);
    assert_eq!(app.count("select count(*) from sessions where member_id is not null").await, 0);
    assert_eq!(app.count("select count(*) from audit_log where action = 'member.sessions_ended'").await, 1);
    app.drain_jobs().await;
    let _ = &mut app;
}

#[tokio::test]
async fn editors_see_no_member_pages_and_analysts_read_but_change_nothing() {
    let app = TestApp::spawn().await;
    let id = member(&app, "reader@example.org", Some("Reader"), MARCH_1).await;
    let admin = app.new_browser();
    app.sign_in_staff(&admin, "admin@news.test", Role::Admin).await;
    admin.post_form(&format!("/admin/members/{id}/notes"), &[("body", "first")]).send().await.assert_status(303);
    let (note_id,): (String,) =
        sqlx::query_as("select id from member_notes").fetch_one(app.db().read()).await.expect("note");

    let editor = app.new_browser();
    app.sign_in_staff(&editor, "editor@news.test", Role::Editor).await;
    editor.get("/admin").send().await.assert_status(200).assert_not_contains("href=\"/admin/members\"");
    for path in ["/admin/members".to_string(), "/admin/members.csv".into(), format!("/admin/members/{id}")] {
        editor.get(&path).send().await.assert_status(403);
    }
    editor.post_form(&format!("/admin/members/{id}/notes"), &[("body", "editor")]).send().await.assert_status(403);

    let analyst = app.new_browser();
    app.sign_in_staff(&analyst, "analyst@news.test", Role::Analyst).await;
    analyst.get("/admin").send().await.assert_status(200).assert_contains("href=\"/admin/members\"");
    analyst.get("/admin/members").send().await.assert_status(200).assert_contains("reader@example.org");
    analyst
        .get(&format!("/admin/members/{id}"))
        .send()
        .await
        .assert_status(200)
        .assert_contains("first")
        .assert_not_contains("Add note")
        .assert_not_contains("End this session");
    analyst.get("/admin/members.csv").send().await.assert_status(200);
    analyst.post_form(&format!("/admin/members/{id}/notes"), &[("body", "analyst")]).send().await.assert_status(403);
    analyst
        .post_form(&format!("/admin/members/{id}/notes/{note_id}"), &[("body", "changed")])
        .send()
        .await
        .assert_status(403);
    analyst.post_form(&format!("/admin/members/{id}/sessions/end-all"), &[]).send().await.assert_status(403);

    assert_eq!(app.count("select count(*) from member_notes").await, 1);
    assert_eq!(app.count("select count(*) from member_notes where body = 'first'").await, 1);
    assert_eq!(app.count("select count(*) from audit_log where action = 'staff.refused'").await, 7);
    admin.get("/admin").send().await.assert_contains("href=\"/admin/members\"");
}

#[tokio::test]
async fn bad_filters_get_a_clear_400_and_store_nothing() {
    let app = admin_app().await;
    member(&app, "reader@example.org", Some("Reader"), MARCH_1).await;
    let cases = [
        ("status=vip", "Unknown status"),
        ("tier=platinum", "Unknown tier"),
        ("interval=week", "Unknown interval"),
        ("currency=gbp", "Unknown currency"),
        ("currency=euro", "Unknown currency"),
        ("sort=age", "Unknown sort"),
        ("dir=up", "Unknown direction"),
        ("joined_from=2026-03-10&joined_to=2026-03-01", "comes after"),
        ("lapsed_from=2026-03-10&lapsed_to=2026-03-01", "comes after"),
        ("joined_from=yesterday", "is not a day"),
        ("joined_to=99999-01-01", "is not a day"),
        ("lapsed_from=0001-01-01", "is not a day"),
        ("joined_from=2026-02-30", "is not a day"),
        ("after=garbage", "page link is broken"),
        ("sort=joined&after=abc~01234567-89ab-7def-8123-456789abcdef", "page link is broken"),
        ("q=a%07b", "control or invisible"),
    ];
    for (query, message) in cases {
        for path in ["/admin/members", "/admin/members.csv"] {
            let r = app.client.get(&format!("{path}?{query}")).send().await;
            r.assert_status(400).assert_contains(message);
            assert!(r.header("content-type").is_some_and(|c| c.starts_with("text/html")), "{path}?{query}");
        }
    }
    let long = "x".repeat(201);
    app.client.get(&format!("/admin/members?q={long}")).send().await.assert_status(400);
    assert_eq!(app.count("select count(*) from audit_log where action = 'members.export'").await, 0);
    app.client.get("/admin/members/not-a-member").send().await.assert_status(404);
    app.client.get(&format!("/admin/members/{}", MemberId::new())).send().await.assert_status(404);
}

#[tokio::test]
async fn the_member_page_shows_standing_history_subscriptions_ledger_votes_and_mail() {
    let app = admin_app().await;
    let reader = app.new_browser();
    app.sign_in_member(&reader, "reader@example.org").await;
    let (id,): (String,) = sqlx::query_as("select id from members where email = 'reader@example.org'")
        .fetch_one(app.db().read())
        .await
        .expect("member");
    let member_id: MemberId = id.parse().expect("an id");
    apply(&app, member_id, "sub_page", ("supporter", "month", "eur"), SubscriptionStatus::Active).await;
    let payment = billing::simulated_payment(
        &app.ctx.card_fees,
        patronage::domain::PaymentKind::Subscription,
        "in_test_1".into(),
        Some(member_id),
        None,
        patronage::domain::Money::new(600, Currency::EUR),
        None,
        "Supporter, monthly",
        app.clock().now(),
    );
    let mut tx = app.db().transaction().await.expect("tx");
    billing::record_payment(&app.ctx, &mut tx, &payment, Some("sub_page")).await.expect("recorded");
    tx.commit().await.expect("committed");
    app.drain_jobs().await;

    let page = app.client.get(&format!("/admin/members/{id}")).send().await;
    page.assert_status(200)
        .assert_contains("reader@example.org")
        .assert_contains("patron · Supporter")
        .assert_contains("sub_page")
        .assert_contains("MRR new: +€6.00 → €6.00")
        .assert_contains("Subscription started")
        .assert_contains("in_test_1")
        .assert_contains("sign_in")
        .assert_contains("End this session");
    assert_eq!(page.body.matches("class=\"ledger-row\"").count(), 1);
}

#[tokio::test]
async fn members_written_before_the_search_keys_get_them_when_migrating() {
    let app = admin_app().await;
    let id = member(&app, "old@example.org", Some("Élodie Старий"), MARCH_1).await;
    sqlx::query("update members set search_email = null, search_text = null, sort_name = null")
        .execute(&mut *app.db().write().await.expect("writer"))
        .await
        .expect("keys cleared");
    assert!(list(&app, "q=elodie").await.is_empty());
    app.db().migrate().await.expect("migrated again");
    assert_eq!(list(&app, "q=elodie+%D1%81%D1%82%D0%B0%D1%80").await, vec![s(id)]);
    assert_eq!(list(&app, "sort=name").await.len(), 1);
}

#[tokio::test]
async fn on_postgresql_member_search_has_its_trigram_index() {
    let app = TestApp::spawn().await;
    if app.db().backend() != db::Backend::Postgres {
        return;
    }
    let n = app.count("select count(*) from pg_indexes where indexname = 'members_search_trgm_idx'").await;
    assert_eq!(n, 1, "pg_trgm could not be created, so searches pass over an index instead");
}

#[tokio::test]
async fn a_word_many_members_share_is_found_as_surely_as_a_rare_one() {
    // More members share "common" than the trigram index is asked for (2,000 on SQLite),
    // so the list walks its sort's index for it instead; "rare9" stays with the index.
    let app = admin_app().await;
    let mut writer = app.db().write().await.expect("a writer");
    for i in 0..2010 {
        let email = Email::parse(&format!("common{i}@example.org")).expect("valid");
        db::members::insert_if_absent(&mut *writer, MemberId::new(), &email, Some("Común"), Locale::En, MARCH_1 + i)
            .await
            .expect("inserted");
    }
    drop(writer);
    let rare = member(&app, "rare9@example.org", Some("Común"), MARCH_1).await;
    let page = app.client.get("/admin/members?q=COMUN&sort=joined&dir=asc").send().await;
    page.assert_status(200);
    assert_eq!(ids(&page).len(), 50);
    assert!(link(&page, "next").is_some());
    let csv = app.client.get("/admin/members.csv?q=comun").send().await;
    assert_eq!(csv.body.split("\r\n").filter(|l| !l.is_empty()).count(), 1 + 2011);
    assert_eq!(list(&app, "q=rare9").await, vec![s(rare)]);
    assert_eq!(list(&app, "q=rare9+comun").await, vec![s(rare)]);
    assert_eq!(list(&app, "q=common2009%40").await.len(), 1);
}
