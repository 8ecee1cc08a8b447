//! `patronage demo-data`: a consistent newsroom, written through the app's own tables.
use patronage::services::demo_data::{self, DEMO_PATRON, Options};

use crate::helpers::TestApp;

#[tokio::test]
async fn demo_data_builds_a_consistent_newsroom_once() {
    let app = TestApp::spawn().await;
    let report = demo_data::generate(&app.ctx, Options { members: 300, months: 18, seed: 7 }).await.expect("generates");
    assert_eq!(report.members, 300);
    assert_eq!(app.member_count().await, 300);
    assert!(report.subscriptions >= 60, "{report:?}");
    assert!(report.ledger_rows as i64 >= app.count("select count(*) from subscriptions").await, "{report:?}");
    assert_eq!(app.count("select count(*) from payments").await, report.ledger_rows as i64);
    // Every subscription's movements add up to what it contributes now.
    let mismatched = app
        .count(
            "select count(*) from subscriptions s
             where s.mrr_minor <> (select cast(coalesce(sum(m.delta_minor), 0) as bigint) from mrr_movements m where m.subscription_id = s.id)",
        )
        .await;
    assert_eq!(mismatched, 0);
    assert!(app.count("select count(*) from mrr_movements where kind = 'churn'").await > 0);
    assert!(app.count("select count(*) from payments where kind = 'donation'").await > 0);
    assert_eq!(
        app.count("select count(*) from payments where occurred_at > 0 and gross_minor - fee_minor <> net_minor").await,
        0
    );

    // The demo patron can sign in and is a patron.
    app.sign_in_member(&app.client, DEMO_PATRON).await;
    app.client.get("/account").send().await.assert_contains(">Patron<").assert_contains("Membership");

    // Voting: closed rounds with recorded results, covered topics with articles, a
    // moderation queue, and an open round the demo patron can vote in.
    assert!(report.rounds >= 2 && report.votes > 0 && report.topics >= 10, "{report:?}");
    assert_eq!(app.count("select count(*) from votes").await, report.votes as i64);
    assert_eq!(
        app.count("select count(*) from ballots b where b.used <> (select count(*) from votes v where v.round_id = b.round_id and v.member_id = b.member_id)").await,
        0,
        "every ballot counts exactly its votes"
    );
    assert_eq!(
        app.count("select count(*) from round_topics rt join rounds r on r.id = rt.round_id where r.closed_at is not null and rt.final_rank is null").await,
        0
    );
    assert!(app.count("select count(*) from topics where status = 'suggested'").await > 0);
    app.client.get("/covered").send().await.assert_status(200).assert_contains("https://news.example/stories/");
    let topics = app.client.get("/topics").send().await;
    topics
        .assert_status(200)
        .assert_contains("What should we cover this winter?")
        .assert_contains("You have 3 votes left of 3.");
    let (round, topic): (String, String) = sqlx::query_as(
        "select r.id, rt.topic_id from rounds r join round_topics rt on rt.round_id = r.id
         where r.closed_at is null order by rt.position limit 1",
    )
    .fetch_one(app.db().read())
    .await
    .expect("an open round");
    crate::helpers::voting::vote(&app.client, &round, &topic).await.assert_status(303);
    app.client.get("/topics").send().await.assert_contains("You have 2 votes left of 3.");

    // Running it again is refused, and changes nothing.
    assert!(demo_data::generate(&app.ctx, Options { members: 10, months: 1, seed: 7 }).await.is_err());
    assert_eq!(app.member_count().await, 300);
}

/// `patronage demo-data ARGS` on the database at `url`, as an operator runs it.
async fn demo_data_command(url: &str, args: &[&str]) -> std::process::Output {
    let (url, args): (String, Vec<String>) = (url.to_string(), args.iter().map(|a| a.to_string()).collect());
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_patronage"))
            .arg("demo-data")
            .args(&args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", url)
            .env("RUST_LOG", "warn")
            .output()
    })
    .await
    .expect("joins")
    .expect("the binary runs")
}

/// `demo-data --sessions N --sessions-file PATH`, which `bench/run` uses for its
/// vote scenario: the file (mode 0600) holds one cookie value per line, each a
/// signed-in session of a distinct patron who may vote.
#[tokio::test]
async fn demo_data_writes_sessions_of_patrons_who_may_vote() {
    use std::os::unix::fs::PermissionsExt as _;

    let app = TestApp::spawn().await;
    let dir = std::env::temp_dir().join("patronage-tests").join(uuid::Uuid::new_v4().simple().to_string());
    std::fs::create_dir_all(&dir).expect("a temp directory");
    let file = dir.join("sessions.txt");
    // What the newsroom set before: kept, and the demo made from it (on PostgreSQL
    // the demo is made in a scratch SQLite file and imported).
    sqlx::query("update tiers set name = 'Friend of the paper' where slug = 'reader'")
        .execute(app.db().read())
        .await
        .expect("a tier renamed");
    // The key the command signs with (the app here has its own in SECRET_KEY).
    sqlx::query("insert into settings (key, value, updated_at) values ('secret_key', 'the-newsrooms-own-key', 0)")
        .execute(app.db().read())
        .await
        .expect("a stored key");
    let settings = "select key, value from settings order by key";
    let settings_before: Vec<(String, String)> =
        sqlx::query_as(settings).fetch_all(app.db().read()).await.expect("settings");
    let (url, path) = (app.config.database_url.clone(), file.display().to_string());
    let args = ["--members", "200", "--months", "12", "--seed", "3", "--sessions", "30", "--sessions-file", &path];
    let out = demo_data_command(&url, &args).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let settings_after: Vec<(String, String)> =
        sqlx::query_as(settings).fetch_all(app.db().read()).await.expect("settings");
    assert_eq!(settings_after, settings_before, "the key and settings are the newsroom's own");
    assert!(
        app.count(
            "select count(*) from subscriptions s join tiers t on t.id = s.tier_id where t.name = 'Friend of the paper'"
        )
        .await
            > 0,
        "patrons of the renamed tier"
    );
    crate::reports::assert_aggregates_match_the_ledger(&app).await;
    assert_eq!(std::fs::metadata(&file).expect("written").permissions().mode() & 0o777, 0o600);
    let text = std::fs::read_to_string(&file).expect("readable");
    let cookies: Vec<&str> = text.lines().collect();

    let pool = app.db().read();
    let voters: Vec<String> = patronage::db::subscriptions::active_paid_member_ids(pool)
        .await
        .expect("query")
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(voters.len() >= 10, "the demo newsroom has patrons: {voters:?}");
    assert_eq!(cookies.len(), voters.len().min(30));
    let (round,): (String,) =
        sqlx::query_as("select id from rounds where closed_at is null").fetch_one(pool).await.expect("one open round");
    let ballot: Vec<(String,)> =
        sqlx::query_as("select topic_id from round_topics where round_id = $1 order by position")
            .bind(&round)
            .fetch_all(pool)
            .await
            .expect("the ballot");

    let votes_before = app.count("select count(*) from votes").await;
    let mut members = std::collections::HashSet::new();
    let mut cast = 0usize;
    for cookie in &cookies {
        let hash = patronage::tokens::hash_token(cookie);
        let (member,): (String,) = sqlx::query_as("select member_id from sessions where id = $1")
            .bind(&hash)
            .fetch_one(pool)
            .await
            .expect("the cookie is a stored session");
        assert!(voters.contains(&member), "{member} may vote");
        assert!(members.insert(member.clone()), "one session per member");

        let browser = app.new_browser();
        browser.set_cookie("patronage_session", cookie);
        let page = browser.get("/topics").send().await;
        page.assert_status(200);
        // In the member's own language (demo members read English or Ukrainian).
        assert!(
            ["What should we cover this winter?", "Про що нам написати цієї зими?"]
                .iter()
                .any(|t| page.body.contains(t)),
            "the open round on the topics page"
        );
        let mine: Vec<(String,)> = sqlx::query_as("select topic_id from votes where round_id = $1 and member_id = $2")
            .bind(&round)
            .bind(&member)
            .fetch_all(pool)
            .await
            .expect("their votes");
        // Locale-neutral: the ballot offers a vote button only to a signed-in member
        // who may vote and has votes left, and a withdraw button for their votes.
        if mine.len() >= 3 {
            page.assert_contains(&format!("action=\"/rounds/{round}/withdraw\""));
            page.assert_not_contains(&format!("action=\"/rounds/{round}/vote\""));
            continue;
        }
        page.assert_contains(&format!("action=\"/rounds/{round}/vote\""));
        let topic = ballot.iter().find(|t| !mine.contains(t)).expect("a topic they have not voted for");
        crate::helpers::voting::vote(&browser, &round, &topic.0).await.assert_status(303);
        cast += 1;
    }
    assert!(cast >= cookies.len() / 2, "most demo patrons have votes left: {cast} of {}", cookies.len());
    assert_eq!(app.count("select count(*) from votes").await, votes_before + cast as i64);
    assert_eq!(
        app.count("select count(*) from ballots b where b.used <> (select count(*) from votes v where v.round_id = b.round_id and v.member_id = b.member_id)").await,
        0
    );

    // A second run is refused before it does anything, and changes nothing.
    let (members, ledger) = (app.member_count().await, app.count("select count(*) from payments").await);
    let again = demo_data_command(&app.config.database_url, &["--members", "50", "--months", "3"]).await;
    assert!(!again.status.success());
    let said = String::from_utf8_lossy(&again.stderr);
    let why = if app.config.database_url.starts_with("postgres") {
        "demo data on PostgreSQL needs a database without a newsroom's data"
    } else {
        "demo data is already present"
    };
    assert!(said.contains(why), "{said}");
    assert_eq!((app.member_count().await, app.count("select count(*) from payments").await), (members, ledger));
    let _ = std::fs::remove_dir_all(dir);
}
