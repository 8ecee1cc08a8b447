//! Voting rounds from the reader's side: the ballot, voting, withdrawing,
//! remaining votes, who may vote, and closing.
use patronage::clock::{DAY, MINUTE};
use patronage::domain::Role;

use crate::helpers::TestApp;
use crate::helpers::voting::{demo_patron, open_round, open_topic, staff, vote, vote_count, withdraw};

#[tokio::test]
async fn a_patron_votes_withdraws_and_sees_their_remaining_votes() {
    let app = TestApp::spawn().await;
    let editor = staff(&app, "editor@newsroom.test", Role::Editor).await;
    let mut topics = Vec::new();
    for title in ["Rents in the old town", "School meals", "The river clean-up"] {
        topics.push(open_topic(&editor, title).await);
    }
    let round = open_round(&app, &editor, &topics, 2, false).await;

    let visitor = app.new_browser();
    visitor
        .get("/topics")
        .send()
        .await
        .assert_status(200)
        .assert_contains("Rents in the old town")
        .assert_contains("Sign in to vote")
        .assert_not_contains("action=\"/rounds/");

    let patron = demo_patron(&app, "patron@example.org", "supporter").await;
    let page = patron.get("/topics").send().await;
    page.assert_status(200)
        .assert_contains("You have 2 votes left of 2.")
        .assert_contains(&format!("/rounds/{round}/vote"));

    let r = vote(&patron, &round, &topics[0]).await;
    r.assert_status(303);
    assert_eq!(r.location().as_deref(), Some("/topics?updated"));
    patron
        .get("/topics")
        .send()
        .await
        .assert_contains("You have 1 vote left of 2.")
        .assert_contains("You voted for this");
    vote(&patron, &round, &topics[1]).await.assert_status(303);
    patron.get("/topics").send().await.assert_contains("You have used all 2 of your votes.");
    // A third vote is refused with a reason, and nothing is stored.
    let refused = vote(&patron, &round, &topics[2]).await;
    refused.assert_status(409).assert_contains("You have used all your votes in this round.");
    assert_eq!(vote_count(&app, &round).await, 2);

    withdraw(&patron, &round, &topics[0]).await.assert_status(303);
    patron.get("/topics").send().await.assert_contains("You have 1 vote left of 2.");
    vote(&patron, &round, &topics[2]).await.assert_status(303);
    assert_eq!(vote_count(&app, &round).await, 2);

    // Tallies stay hidden from readers while the round is open (it does not show them live)...
    patron.get(&format!("/rounds/{round}")).send().await.assert_contains("Results are published when voting closes.");
    // ...but staff see them.
    editor.get(&format!("/admin/rounds/{round}")).send().await.assert_status(200).assert_contains("School meals");
    // The member's "stories I helped commission" lists what they voted for.
    patron
        .get("/account/commissioned")
        .send()
        .await
        .assert_status(200)
        .assert_contains("School meals")
        .assert_contains("The river clean-up")
        .assert_not_contains("Rents in the old town");
    let _ = (DAY, MINUTE);
}

/// The topics page is rendered once per language and what the reader may do and
/// has voted for; nobody may be shown a page rendered for someone else.
#[tokio::test]
async fn each_reader_sees_their_own_ballot_though_pages_are_shared() {
    let app = TestApp::spawn().await;
    let editor = staff(&app, "editor@newsroom.test", Role::Editor).await;
    let mut topics = Vec::new();
    for title in ["Rents in the old town", "School meals"] {
        topics.push(open_topic(&editor, title).await);
    }
    let round = open_round(&app, &editor, &topics, 2, false).await;
    let ann = demo_patron(&app, "ann@example.org", "supporter").await;
    let bob = demo_patron(&app, "bob@example.org", "supporter").await;
    let free = app.new_browser();
    app.sign_in_member(&free, "free@example.org").await;
    let visitor = app.new_browser();
    let vote_button = format!("/rounds/{round}/vote");

    // Every page is rendered (and kept) before anyone votes.
    for patron in [&ann, &bob] {
        patron.get("/topics").send().await.assert_contains("You have 2 votes left of 2.").assert_contains(&vote_button);
    }
    free.get("/topics").send().await.assert_contains("Only patrons can vote.").assert_not_contains(&vote_button);
    visitor.get("/topics").send().await.assert_contains("Sign in to vote").assert_not_contains(&vote_button);

    vote(&ann, &round, &topics[0]).await.assert_status(303);
    ann.get("/topics").send().await.assert_contains("You have 1 vote left of 2.").assert_contains("You voted for this");
    bob.get("/topics")
        .send()
        .await
        .assert_contains("You have 2 votes left of 2.")
        .assert_not_contains("You voted for this");
    free.get("/topics")
        .send()
        .await
        .assert_contains("Only patrons can vote.")
        .assert_not_contains("You voted for this");
    visitor.get("/topics").send().await.assert_contains("Sign in to vote").assert_not_contains("You voted for this");

    // Bob's votes match Ann's now: he is shown the same page, with his own votes.
    vote(&bob, &round, &topics[0]).await.assert_status(303);
    bob.get("/topics").send().await.assert_contains("You have 1 vote left of 2.").assert_contains("You voted for this");
    vote(&bob, &round, &topics[1]).await.assert_status(303);
    bob.get("/topics").send().await.assert_contains("You have used all 2 of your votes.");
    ann.get("/topics").send().await.assert_contains("You have 1 vote left of 2.");

    // A signed-in member with no round to vote in still gets a member's page, not a visitor's.
    app.advance_clock(8 * DAY);
    app.drain_jobs().await;
    visitor.get("/topics").send().await.assert_status(200).assert_not_contains("action=\"/signout\"");
    free.get("/topics").send().await.assert_status(200).assert_contains("action=\"/signout\"");
    visitor.get("/topics").send().await.assert_status(200).assert_not_contains("action=\"/signout\"");
}

/// What a member voted for is reused on the topics page for a few seconds. A
/// vote cast through another instance (say, from their phone) shows within that
/// time, and at once on the page a vote sends them to, whichever instance serves it.
#[tokio::test]
async fn votes_cast_through_another_instance_show_within_seconds_and_at_once_after_voting() {
    let app = TestApp::spawn().await;
    let editor = staff(&app, "editor@newsroom.test", Role::Editor).await;
    let topics = [open_topic(&editor, "Rents in the old town").await, open_topic(&editor, "School meals").await];
    let round = open_round(&app, &editor, &topics, 2, false).await;
    let patron = demo_patron(&app, "two-devices@example.org", "supporter").await;
    patron.get("/topics").send().await.assert_contains("You have 2 votes left of 2.");

    // Another instance stores a vote: this one has not heard of it.
    sqlx::query(
        "insert into votes (id, round_id, topic_id, member_id, weight, created_at)
         select $1, $2, $3, id, 1, $4 from members where email = $5",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(&round)
    .bind(&topics[0])
    .bind(app.clock().now())
    .bind("two-devices@example.org")
    .execute(&mut *app.db().write().await.expect("a write"))
    .await
    .expect("a vote from elsewhere");
    patron.get("/topics").send().await.assert_contains("You have 2 votes left of 2.");
    patron.get("/topics?updated").send().await.assert_contains("You have 1 vote left of 2.");

    sqlx::query("delete from votes")
        .execute(&mut *app.db().write().await.expect("a write"))
        .await
        .expect("withdrawn elsewhere");
    patron.get("/topics").send().await.assert_contains("You have 1 vote left of 2.");
    app.advance_clock(patronage::services::cache::MEMBER_VOTES_TTL);
    patron.get("/topics").send().await.assert_contains("You have 2 votes left of 2.");
}

/// A live standing and the final result order topics the same way: weighted
/// total, then raw count, then the earliest first vote (not the ballot's order).
#[tokio::test]
async fn live_tallies_break_ties_as_the_final_result_does() {
    let app = TestApp::spawn().await;
    let editor = staff(&app, "editor@newsroom.test", Role::Editor).await;
    let mut topics = Vec::new();
    for title in ["Alpha: rents in the old town", "Beta: school meals"] {
        topics.push(open_topic(&editor, title).await);
    }
    let round = open_round(&app, &editor, &topics, 1, true).await;
    let ann = demo_patron(&app, "ann@example.org", "supporter").await;
    let bob = demo_patron(&app, "bob@example.org", "supporter").await;
    // Beta, second on the ballot, gets its vote first; then both are tied.
    vote(&ann, &round, &topics[1]).await.assert_status(303);
    app.advance_clock(MINUTE);
    vote(&bob, &round, &topics[0]).await.assert_status(303);

    let beta_before_alpha = |body: &str| {
        let alpha = body.find("Alpha: rents in the old town").expect("alpha on the page");
        let beta = body.find("Beta: school meals").expect("beta on the page");
        beta < alpha
    };
    let live = app.new_browser().get(&format!("/rounds/{round}")).send().await;
    live.assert_status(200);
    assert!(beta_before_alpha(&live.body), "the live standing puts the earlier first vote first");

    app.advance_clock(8 * DAY);
    app.drain_jobs().await;
    let result = app.new_browser().get(&format!("/rounds/{round}")).send().await;
    result.assert_status(200).assert_not_contains("Results are published when voting closes.");
    assert!(beta_before_alpha(&result.body), "the final result orders the tie the same way");
}

/// Whether a member may vote is decided inside the transaction that casts the
/// vote: a patronage ended elsewhere a moment ago (another instance applied the
/// cancellation) is refused even while this instance's pages still remember the
/// member as a patron.
#[tokio::test]
async fn a_patronage_ended_on_another_instance_cannot_vote_even_while_cached() {
    let app = TestApp::spawn().await;
    let editor = staff(&app, "editor@newsroom.test", Role::Editor).await;
    let topic = open_topic(&editor, "Rents in the old town").await;
    let round = open_round(&app, &editor, std::slice::from_ref(&topic), 3, false).await;
    let patron = demo_patron(&app, "ending@example.org", "supporter").await;
    // The topics page notes that this patron may vote (and caches it).
    patron.get("/topics").send().await.assert_status(200).assert_contains(&format!("/rounds/{round}/vote"));
    // Another instance applies the cancellation: this one's caches hear nothing.
    sqlx::query("update subscriptions set status = 'canceled'")
        .execute(app.db().read())
        .await
        .expect("ended elsewhere");
    let refused = vote(&patron, &round, &topic).await;
    refused.assert_status(403).assert_contains("Your patronage has ended");
    assert_eq!(vote_count(&app, &round).await, 0, "no vote stored");
    assert_eq!(app.count("select count(*) from ballots").await, 0, "no ballot taken");
}

/// A refused vote is no failure page: the reader is back on the ballot they used
/// (the topics page, or the round's own page), told why in their language, and
/// nothing is stored.
#[tokio::test]
async fn a_refused_vote_returns_to_the_ballot_saying_why_in_the_readers_language() {
    let app = TestApp::spawn().await;
    let editor = staff(&app, "editor@news.test", Role::Editor).await;
    let first = open_topic(&editor, "Tram extension").await;
    let second = open_topic(&editor, "Market hall").await;
    let round = open_round(&app, &editor, &[first.clone(), second.clone()], 1, false).await;
    let patron = demo_patron(&app, "one.vote@example.org", "supporter").await;
    vote(&patron, &round, &first).await.assert_status(303);

    let r = vote(&patron, &round, &second).await;
    r.assert_status(409)
        .assert_contains("role=\"alert\"")
        .assert_contains("You have used all your votes in this round.")
        .assert_contains("Market hall")
        .assert_contains("What should we cover next?")
        .assert_not_contains("Something went wrong");
    assert_eq!(vote_count(&app, &round).await, 1, "nothing stored");

    // From the round's own page, back to it; in Ukrainian for a Ukrainian reader.
    patron.post_form("/account", &[("name", ""), ("public_name", ""), ("lang", "uk")]).send().await.assert_status(303);
    let r = patron
        .post_form(&format!("/rounds/{round}/vote"), &[("topic", &second), ("back", &format!("/rounds/{round}"))])
        .send()
        .await;
    r.assert_status(409)
        .assert_contains("Ви використали всі голоси в цьому голосуванні.")
        .assert_contains(&format!("action=\"/rounds/{round}/withdraw\""))
        .assert_not_contains("Something went wrong");
    assert_eq!(vote_count(&app, &round).await, 1);

    // A visitor who is no patron is told so on the ballot too.
    let reader = app.new_browser();
    app.sign_in_member(&reader, "free.reader@example.org").await;
    vote(&reader, &round, &first)
        .await
        .assert_status(403)
        .assert_contains("Only patrons can vote.")
        .assert_contains("Tram extension");
}

/// The landing page opens a window on the votes: the open round's leading
/// topics with a way to vote, and the latest story readers asked for.
#[tokio::test]
async fn the_landing_page_shows_the_open_round_and_the_latest_covered_story() {
    let app = TestApp::spawn().await;
    app.client.get("/").send().await.assert_status(200).assert_not_contains("Vote on what we cover next");
    let editor = staff(&app, "editor@news.test", Role::Editor).await;
    let mut topics = Vec::new();
    for title in ["First topic", "Second topic", "Third topic", "Fourth topic"] {
        topics.push(open_topic(&editor, title).await);
    }
    let round = open_round(&app, &editor, &topics, 3, true).await;
    let patron = demo_patron(&app, "teaser@example.org", "supporter").await;
    vote(&patron, &round, &topics[3]).await.assert_status(303);
    let page = app.new_browser().get("/").send().await;
    page.assert_status(200).assert_contains("Vote on what we cover next").assert_contains("href=\"/topics\"");
    // Live tallies are public in this round: the topic with the vote leads.
    let leading = page.body.find("Fourth topic").expect("the leading topic");
    let next = page.body.find("First topic").expect("the next one");
    assert!(leading < next, "ordered by the standing");
    assert!(!page.body.contains("Third topic"), "three topics only");

    // Covering a topic puts it on the landing page.
    editor
        .post_form(&format!("/admin/topics/{}/cover", topics[0]), &[("articles", "https://news.example/tram")])
        .send()
        .await
        .assert_status(303);
    app.drain_jobs().await;
    app.new_browser()
        .get("/")
        .send()
        .await
        .assert_contains("You asked, we covered")
        .assert_contains("https://news.example/tram");
}
