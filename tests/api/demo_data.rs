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
    topics.assert_status(200).assert_contains("What should we cover this winter?").assert_contains("You have 3 votes left of 3.");
    let (round, topic): (String, String) = sqlx::query_as(
        "select r.id, rt.topic_id from rounds r join round_topics rt on rt.round_id = r.id
         where r.closed_at is null order by rt.position limit 1",
    )
    .fetch_one(app.db().pool())
    .await
    .expect("an open round");
    crate::helpers::voting::vote(&app.client, &round, &topic).await.assert_status(303);
    app.client.get("/topics").send().await.assert_contains("You have 2 votes left of 3.");

    // Running it again is refused, and changes nothing.
    assert!(demo_data::generate(&app.ctx, Options { members: 10, months: 1, seed: 7 }).await.is_err());
    assert_eq!(app.member_count().await, 300);
}
