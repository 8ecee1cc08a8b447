//! Staff pages for money: tiers and prices, the ledger, Stripe events, comps.
use patronage::clock::DAY;
use patronage::domain::Role;

use crate::helpers::TestApp;

fn supporter_form(month_eur: &str) -> Vec<(&str, &str)> {
    vec![
        ("name", "Supporter"),
        ("slug", "supporter"),
        ("description", "Two cups a month."),
        ("benefits", "Double vote weight\nSuggest topics"),
        ("vote_weight", "2"),
        ("position", "2"),
        ("active", "yes"),
        ("price_month_eur", month_eur),
        ("price_year_eur", "60"),
        ("price_month_usd", "6"),
        ("price_year_usd", "60"),
        ("price_month_uah", "200"),
        ("price_year_uah", "2000"),
    ]
}

#[tokio::test]
async fn changing_a_price_archives_the_old_one_and_subscribers_keep_it() {
    let app = TestApp::spawn().await;
    // A demo patron on the old €6 price.
    let (old_price,): (String,) = sqlx::query_as(
        "select p.id from tier_prices p join tiers t on t.id = p.tier_id where t.slug = 'supporter' and p.interval = 'month' and p.currency = 'eur'",
    )
    .fetch_one(app.db().read())
    .await
    .expect("price");
    let patron = app.new_browser();
    let start = patron.post_form("/patron", &[("price", &old_price), ("email", "early@example.org")]).send().await;
    let url = start.location().expect("checkout");
    let q: Vec<(String, String)> = serde_urlencoded::from_str(url.split_once('?').expect("query").1).expect("query");
    patron
        .post_form("/demo/checkout", &[("c", &q[0].1), ("s", &q[1].1), ("outcome", "succeed")])
        .send()
        .await
        .assert_status(303);
    assert_eq!(app.deliver_mail().await.len(), 2, "the welcome and the receipt");

    // A visitor's landing page is served from memory now; the edit below must still show at once.
    app.new_browser().get("/").send().await.assert_contains("€6.00 a month");
    app.sign_in_staff(&app.client, "admin@news.test", Role::Admin).await;
    app.client
        .get("/admin/tiers")
        .send()
        .await
        .assert_status(200)
        .assert_contains("Supporter")
        .assert_contains("€6.00 / month");
    let id = app.tier_id("supporter").await;
    app.client.get(&format!("/admin/tiers/{id}")).send().await.assert_status(200).assert_contains("value=\"6.00\"");
    app.client.post_form(&format!("/admin/tiers/{id}"), &supporter_form("7")).send().await.assert_status(303);

    let (archived,): (Option<i64>,) = sqlx::query_as("select archived_at from tier_prices where id = $1")
        .bind(&old_price)
        .fetch_one(app.db().read())
        .await
        .expect("old price");
    assert!(archived.is_some());
    assert_eq!(app.count("select count(*) from tier_prices where amount_minor = 700 and archived_at is null").await, 1);
    assert_eq!(
        app.count("select count(*) from tier_prices where archived_at is not null").await,
        1,
        "only the changed price was replaced"
    );
    let (amount, price_id): (i64, String) = sqlx::query_as("select amount_minor, price_id from subscriptions")
        .fetch_one(app.db().read())
        .await
        .expect("sub");
    assert_eq!((amount, price_id), (600, old_price), "the subscriber keeps the price they signed up with");
    app.new_browser().get("/").send().await.assert_contains("€7.00 a month").assert_not_contains("€6.00 a month");
    assert_eq!(app.count("select count(*) from audit_log where action = 'tier.update'").await, 1);
}

#[tokio::test]
async fn invalid_tier_input_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    app.sign_in_staff(&app.client, "admin@news.test", Role::Admin).await;
    let id = app.tier_id("supporter").await;
    let before = app.count("select count(*) from tier_prices").await;
    let mut form = supporter_form("six");
    app.client
        .post_form(&format!("/admin/tiers/{id}"), &form)
        .send()
        .await
        .assert_status(422)
        .assert_contains("EUR / month");
    form = supporter_form("7");
    form[1] = ("slug", "Not A Slug!");
    app.client
        .post_form(&format!("/admin/tiers/{id}"), &form)
        .send()
        .await
        .assert_status(422)
        .assert_contains("lower-case letters");
    form = supporter_form("7");
    form[1] = ("slug", "reader");
    app.client
        .post_form(&format!("/admin/tiers/{id}"), &form)
        .send()
        .await
        .assert_status(422)
        .assert_contains("Another tier uses");
    let no_prices = vec![("name", "Empty"), ("slug", "empty"), ("vote_weight", "1"), ("active", "yes")];
    app.client
        .post_form("/admin/tiers", &no_prices)
        .send()
        .await
        .assert_status(422)
        .assert_contains("at least one price");
    assert_eq!(app.count("select count(*) from tier_prices").await, before);
    assert_eq!(app.count("select count(*) from tiers").await, 3);
    let (slug, name): (String, String) = sqlx::query_as("select slug, name from tiers where id = $1")
        .bind(&id)
        .fetch_one(app.db().read())
        .await
        .expect("tier");
    assert_eq!((slug.as_str(), name.as_str()), ("supporter", "Supporter"));
}

#[tokio::test]
async fn admins_create_and_archive_tiers() {
    let app = TestApp::spawn().await;
    app.sign_in_staff(&app.client, "admin@news.test", Role::Admin).await;
    let new = vec![
        ("name", "Founder"),
        ("slug", "founder"),
        ("vote_weight", "5"),
        ("position", "9"),
        ("active", "yes"),
        ("price_year_eur", "250"),
    ];
    app.client.post_form("/admin/tiers", &new).send().await.assert_status(303);
    app.new_browser().get("/").send().await.assert_contains("Founder").assert_contains("€250.00 a year");
    let id = app.tier_id("founder").await;
    let archived = vec![
        ("name", "Founder"),
        ("slug", "founder"),
        ("vote_weight", "5"),
        ("position", "9"),
        ("price_year_eur", "250"),
    ];
    app.client.post_form(&format!("/admin/tiers/{id}"), &archived).send().await.assert_status(303);
    app.new_browser().get("/").send().await.assert_not_contains("Founder");
}

#[tokio::test]
async fn analysts_see_money_but_cannot_change_it_and_editors_see_neither() {
    let app = TestApp::spawn().await;
    let analyst = app.new_browser();
    app.sign_in_staff(&analyst, "analyst@news.test", Role::Analyst).await;
    analyst.get("/admin/ledger").send().await.assert_status(200).assert_not_contains("Complimentary membership");
    analyst.get("/admin/events").send().await.assert_status(200);
    analyst.get("/admin/tiers").send().await.assert_status(403);
    analyst.post_form("/admin/tiers", &supporter_form("1")).send().await.assert_status(403);
    let comp = [("email", "x@example.org"), ("reason", "Friend"), ("until", "")];
    analyst.post_form("/admin/comps", &comp).send().await.assert_status(403);
    let editor = app.new_browser();
    app.sign_in_staff(&editor, "editor@news.test", Role::Editor).await;
    editor.get("/admin/ledger").send().await.assert_status(403);
    assert_eq!(app.count("select count(*) from tier_prices where amount_minor = 100").await, 0);
}

#[tokio::test]
async fn staff_comp_a_member_until_a_date() {
    let app = TestApp::spawn().await;
    let member = app.new_browser();
    app.sign_in_member(&member, "friend@example.org").await;
    app.sign_in_staff(&app.client, "admin@news.test", Role::Admin).await;
    // Through the 30th day from now (the newsroom's date): complimentary until that day ends.
    let last_day = patronage::clock::format_date(app.clock().now() + 29 * DAY);
    let grant = |email: &'static str, until: String| {
        vec![("email", email.to_string()), ("reason", "Contributor".to_string()), ("until", until)]
    };
    let post = |fields: Vec<(&'static str, String)>| {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>();
        app.client.post_form("/admin/comps", &fields).send()
    };
    post(grant("friend@example.org", last_day.clone())).await.assert_status(303);
    member.get("/account").send().await.assert_contains("Complimentary patron");
    post(grant("nobody@example.org", last_day.clone())).await.assert_status(404);
    // A day that is not after today is refused, and so is a comp without a reason.
    post(grant("friend@example.org", patronage::clock::format_date(app.clock().now()))).await.assert_status(400);
    post(vec![("email", "friend@example.org".into()), ("reason", " ".into()), ("until", last_day)])
        .await
        .assert_status(400);
    app.advance_clock(29 * DAY);
    member.get("/account").send().await.assert_contains("Complimentary patron");
    app.advance_clock(2 * DAY);
    member.get("/account").send().await.assert_contains("Free member");
    assert_eq!(app.count("select count(*) from audit_log where action = 'member.comp'").await, 1);
}

/// What may be bought is read from the database, not the catalogue the pages
/// cache: a price archived through another instance a moment ago is not sold.
#[tokio::test]
async fn a_price_archived_by_another_instance_is_not_sold() {
    let app = TestApp::spawn().await;
    let price = app.price_id("supporter", "month", "eur").await;
    app.client.get("/patron").send().await.assert_status(200).assert_contains(&price);
    sqlx::query("update tier_prices set archived_at = $1 where id = $2")
        .bind(app.clock().now())
        .bind(&price)
        .execute(&mut *app.db().write().await.expect("a write"))
        .await
        .expect("archived elsewhere");
    let r = app.client.post_form("/patron", &[("price", &price), ("email", "late.buyer@example.org")]).send().await;
    assert!(r.status >= 400 && r.status < 500, "refused, got {}", r.status);
    assert_eq!(app.count("select count(*) from subscriptions").await, 0);
    assert_eq!(app.count("select count(*) from members").await, 0);
}
