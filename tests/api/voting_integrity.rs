//! The integrity of voting: concurrent votes never exceed a member's allowance or
//! double a vote, rounds close exactly once at their time with a ranking that
//! counts every accepted vote, only eligible members vote (with the weight they
//! had when voting), and bad input stores nothing and is never run as script or
//! as a spreadsheet formula.
use std::time::{Duration, Instant};

use patronage::clock::{HOUR, MINUTE, SECOND};
use patronage::domain::Role;

use crate::helpers::voting::{demo_patron, open_round, open_topic, round_between, staff, vote, vote_count};
use crate::helpers::{TestApp, TestClient, concurrently};

// --- small helpers for this file ---

/// Saves the voting settings through the staff page, as an editor would.
async fn set_voting(editor: &TestClient, eligibility: &str, weight: &str) {
    let r = editor
        .post_form("/admin/voting", &[("eligibility", eligibility), ("weight", weight), ("tenure_cap_months", "12")])
        .send()
        .await;
    r.assert_status(303);
    assert_eq!(r.location().as_deref(), Some("/admin/voting?saved=1"));
}

/// `n` open topics made by staff, titled `"{prefix} {i}"`.
async fn open_topics(editor: &TestClient, prefix: &str, n: usize) -> Vec<String> {
    let mut topics = Vec::with_capacity(n);
    for i in 0..n {
        topics.push(open_topic(editor, &format!("{prefix} {i}")).await);
    }
    topics
}

/// A round open from a minute ago until about an hour from now; returns its id and
/// its stored closing time (the form has minute precision).
async fn round_closing_within_the_hour(
    app: &TestApp,
    editor: &TestClient,
    topics: &[String],
    max: u32,
) -> (String, i64) {
    let now = app.clock().now();
    let round = round_between(editor, topics, max, false, now - MINUTE, now + HOUR).await;
    let (closes_at,): (i64,) = sqlx::query_as("select closes_at from rounds where id = $1")
        .bind(&round)
        .fetch_one(app.db().read())
        .await
        .expect("the round is stored");
    (round, closes_at)
}

/// The round's closing record: (closed_at, closed_by, voters).
async fn closing_of(app: &TestApp, round: &str) -> (Option<i64>, Option<String>, Option<i64>) {
    sqlx::query_as("select closed_at, closed_by, voters from rounds where id = $1")
        .bind(round)
        .fetch_one(app.db().read())
        .await
        .expect("the round is stored")
}

/// One line of a round's recorded result: (topic_id, final_rank, final_weight, final_votes).
type ResultLine = (String, Option<i64>, Option<i64>, Option<i64>);

/// The recorded result, best first.
async fn final_ranking(app: &TestApp, round: &str) -> Vec<ResultLine> {
    sqlx::query_as(
        "select topic_id, final_rank, final_weight, final_votes from round_topics
         where round_id = $1 order by final_rank, position",
    )
    .bind(round)
    .fetch_all(app.db().read())
    .await
    .expect("the ballot is stored")
}

async fn votes_of(app: &TestApp, email: &str) -> i64 {
    let (n,): (i64,) =
        sqlx::query_as("select count(*) from votes v join members m on m.id = v.member_id where m.email = $1")
            .bind(email)
            .fetch_one(app.db().read())
            .await
            .expect("count the member's votes");
    n
}

/// The weights stored on a member's votes, in the order they voted.
async fn weights_of(app: &TestApp, email: &str) -> Vec<i64> {
    let rows: Vec<(i64,)> = sqlx::query_as(
        "select v.weight from votes v join members m on m.id = v.member_id where m.email = $1
         order by v.created_at, v.id",
    )
    .bind(email)
    .fetch_all(app.db().read())
    .await
    .expect("read the member's vote weights");
    rows.into_iter().map(|(w,)| w).collect()
}

async fn tier_weight(app: &TestApp, slug: &str) -> i64 {
    let (w,): (i64,) = sqlx::query_as("select vote_weight from tiers where slug = $1")
        .bind(slug)
        .fetch_one(app.db().read())
        .await
        .expect("the tier exists");
    w
}

async fn topic_status(app: &TestApp, topic: &str) -> String {
    let (s,): (String,) = sqlx::query_as("select status from topics where id = $1")
        .bind(topic)
        .fetch_one(app.db().read())
        .await
        .expect("the topic exists");
    s
}

// --- concurrency ---

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_votes_from_one_member_store_exactly_their_three_votes() {
    let app = TestApp::spawn().await;
    let editor = staff(&app, "editor@newsroom.test", Role::Editor).await;
    let topics = open_topics(&editor, "Topic", 50).await;
    let round = open_round(&app, &editor, &topics, 3, false).await;
    let patron = demo_patron(&app, "eager@example.org", "supporter").await;

    let answers = concurrently(topics.len(), async |i| {
        let r = vote(&patron, &round, &topics[i]).await;
        (r.status, r.body)
    })
    .await;
    let mut accepted = 0;
    for (status, body) in answers {
        match status {
            303 => accepted += 1,
            409 => assert!(body.contains("You have used all your votes in this round."), "unexpected refusal: {body}"),
            other => panic!("a concurrent vote answered {other}:\n{body}"),
        }
    }

    assert_eq!(accepted, 3, "exactly the member's three votes are accepted");
    assert_eq!(votes_of(&app, "eager@example.org").await, 3);
    assert_eq!(vote_count(&app, &round).await, 3);
    let (used,): (i64,) = sqlx::query_as("select used from ballots where round_id = $1")
        .bind(&round)
        .fetch_one(app.db().read())
        .await
        .expect("one ballot row for the member");
    assert_eq!(used, 3);
    assert_eq!(app.count("select count(*) from ballots").await, 1);
}

/// Votes arriving together are cast in batches; each must still get its own answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_members_voting_at_once_each_get_their_own_answer() {
    let app = TestApp::spawn().await;
    let editor = staff(&app, "editor@newsroom.test", Role::Editor).await;
    let topics = open_topics(&editor, "Topic", 3).await;
    let round = open_round(&app, &editor, &topics[..2], 1, false).await;
    let mut patrons = Vec::new();
    for i in 0..12 {
        patrons.push(demo_patron(&app, &format!("crowd{i}@example.org"), "supporter").await);
    }

    // Each member at once: a vote, the same vote again, a second topic (one vote
    // each), and a topic that is not on the ballot.
    let mut sends = Vec::new();
    for i in 0..patrons.len() {
        let first = &topics[i % 2];
        for topic in [first, first, &topics[(i + 1) % 2], &topics[2]] {
            sends.push((i, topic));
        }
    }
    let answers = concurrently(sends.len(), async |k| {
        let (i, topic) = sends[k];
        let r = vote(&patrons[i], &round, topic).await;
        (i, topic.clone(), r.status, r.body)
    })
    .await;
    let mut accepted = vec![Vec::new(); patrons.len()];
    for (i, topic, status, body) in answers {
        match status {
            303 => accepted[i].push(topic),
            409 if topic == topics[2] => {
                assert!(body.contains("not (or no longer) open"), "unexpected refusal: {body}")
            }
            409 => assert!(
                body.contains("You have already voted for this topic.")
                    || body.contains("You have used all your votes in this round."),
                "unexpected refusal: {body}"
            ),
            other => panic!("a concurrent vote answered {other}:\n{body}"),
        }
    }

    for (i, mine) in accepted.iter().enumerate() {
        assert_eq!(mine.len(), 1, "member {i} had exactly one vote accepted: {mine:?}");
        let (stored,): (String,) = sqlx::query_as(
            "select v.topic_id from votes v join members m on m.id = v.member_id where v.round_id = $1 and m.email = $2",
        )
        .bind(&round)
        .bind(format!("crowd{i}@example.org"))
        .fetch_one(app.db().read())
        .await
        .expect("one stored vote for the member");
        assert_eq!(&stored, &mine[0], "the vote stored is the one member {i} was told was accepted");
    }
    assert_eq!(vote_count(&app, &round).await, 12);
    assert_eq!(app.count("select count(*) from ballots where used = 1").await, 12);
    assert_eq!(app.count("select count(*) from ballots").await, 12);
}

/// A batch may hold votes for several open rounds: each round keeps its own
/// ballots and limits.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn votes_for_two_open_rounds_arriving_together_count_against_each_rounds_own_limit() {
    let app = TestApp::spawn().await;
    let editor = staff(&app, "editor@newsroom.test", Role::Editor).await;
    let topics = open_topics(&editor, "Topic", 4).await;
    let first = open_round(&app, &editor, &topics[..2], 1, false).await;
    let second = open_round(&app, &editor, &topics[2..], 1, false).await;
    let mut patrons = Vec::new();
    for i in 0..8 {
        patrons.push(demo_patron(&app, &format!("both{i}@example.org"), "supporter").await);
    }

    // Each member at once: both topics of each round (one vote each), and a topic
    // of the first round sent to the second.
    let mut sends = Vec::new();
    for i in 0..patrons.len() {
        let each = [
            (&first, &topics[0]),
            (&second, &topics[2]),
            (&first, &topics[1]),
            (&second, &topics[3]),
            (&second, &topics[0]),
        ];
        for (round, topic) in each {
            sends.push((i, round, topic));
        }
    }
    let answers = concurrently(sends.len(), async |k| {
        let (i, round, topic) = sends[k];
        let r = vote(&patrons[i], round, topic).await;
        (i, round.clone(), topic.clone(), r.status, r.body)
    })
    .await;
    let mut accepted = vec![Vec::new(); patrons.len()];
    for (i, round, topic, status, body) in answers {
        match status {
            303 => accepted[i].push(round),
            409 if round == second && topic == topics[0] => {
                assert!(body.contains("not (or no longer) open"), "unexpected refusal: {body}")
            }
            409 => assert!(body.contains("You have used all your votes in this round."), "unexpected refusal: {body}"),
            other => panic!("a concurrent vote answered {other}:\n{body}"),
        }
    }

    for (i, rounds) in accepted.iter_mut().enumerate() {
        rounds.sort();
        let mut expected = vec![first.clone(), second.clone()];
        expected.sort();
        assert_eq!(rounds, &expected, "member {i} has one vote accepted in each round");
    }
    assert_eq!(vote_count(&app, &first).await, 8);
    assert_eq!(vote_count(&app, &second).await, 8);
    assert_eq!(app.count("select count(*) from ballots where used = 1").await, 16);
    assert_eq!(app.count("select count(*) from ballots").await, 16);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_votes_for_the_same_topic_store_one_vote() {
    let app = TestApp::spawn().await;
    let editor = staff(&app, "editor@newsroom.test", Role::Editor).await;
    let topics = open_topics(&editor, "Topic", 2).await;
    let round = open_round(&app, &editor, &topics, 3, false).await;
    let patron = demo_patron(&app, "clicker@example.org", "supporter").await;

    let answers = concurrently(20, async |_| {
        let r = vote(&patron, &round, &topics[0]).await;
        (r.status, r.body)
    })
    .await;
    let mut accepted = 0;
    for (status, body) in answers {
        match status {
            303 => accepted += 1,
            409 => assert!(body.contains("You have already voted for this topic."), "unexpected refusal: {body}"),
            other => panic!("a concurrent vote answered {other}:\n{body}"),
        }
    }

    assert_eq!(accepted, 1);
    assert_eq!(vote_count(&app, &round).await, 1);
    let (used,): (i64,) = sqlx::query_as("select used from ballots where round_id = $1")
        .bind(&round)
        .fetch_one(app.db().read())
        .await
        .expect("one ballot row for the member");
    assert_eq!(used, 1, "refused duplicates do not use up votes");
    // The member still has votes left for another topic.
    vote(&patron, &round, &topics[1]).await.assert_status(303);
}

// --- closing ---

#[tokio::test]
async fn votes_at_closing_time_are_refused_and_the_round_closes_once_with_a_tie_broken_ranking() {
    let app = TestApp::spawn().await;
    let editor = staff(&app, "editor@newsroom.test", Role::Editor).await;
    // Created in this order, so the ballot lists them in this order too; the
    // expected ranking is different, so ballot order cannot pass for it.
    let titles = ["Echo ferry", "Delta bridge", "Alpha housing", "Charlie schools", "Bravo river", "Foxtrot parks"];
    let mut topics = Vec::new();
    for title in titles {
        topics.push(open_topic(&editor, title).await);
    }
    let [echo, delta, alpha, charlie, bravo, _foxtrot] = [0, 1, 2, 3, 4, 5].map(|i| topics[i].clone());
    let (round, closes_at) = round_closing_within_the_hour(&app, &editor, &topics, 3).await;
    set_voting(&editor, "patrons", "tier").await;
    let (s, c) = (tier_weight(&app, "supporter").await, tier_weight(&app, "cocreator").await);
    assert!(s > 1 && c > s && 2 * c == 3 * s, "the test assumes supporter 2 and co-creator 3, got {s} and {c}");

    let s1 = demo_patron(&app, "s1@example.org", "supporter").await;
    let s2 = demo_patron(&app, "s2@example.org", "supporter").await;
    let s3 = demo_patron(&app, "s3@example.org", "supporter").await;
    let c1 = demo_patron(&app, "c1@example.org", "cocreator").await;
    let c2 = demo_patron(&app, "c2@example.org", "cocreator").await;
    // Alpha (2 co-creators) and Bravo (3 supporters) tie on weight; Bravo has more
    // votes, though Alpha had the first.
    for voter in [&c1, &c2] {
        vote(voter, &round, &alpha).await.assert_status(303);
    }
    // Delta and Echo tie on weight and count; Delta's vote comes first.
    app.advance_clock(SECOND);
    vote(&s1, &round, &delta).await.assert_status(303);
    app.advance_clock(SECOND);
    vote(&s2, &round, &echo).await.assert_status(303);
    for voter in [&s1, &s2, &s3] {
        vote(voter, &round, &bravo).await.assert_status(303);
    }
    vote(&c1, &round, &charlie).await.assert_status(303);
    assert_eq!(vote_count(&app, &round).await, 8);

    // At (just past) closing time the round takes no more votes, before any job ran.
    app.advance_clock(closes_at - app.clock().now());
    let late = vote(&s3, &round, &charlie).await;
    late.assert_status(409).assert_contains("This round is not open for votes.");
    app.advance_clock(MINUTE);
    vote(&c2, &round, &charlie).await.assert_status(409).assert_contains("This round is not open for votes.");
    assert_eq!(vote_count(&app, &round).await, 8, "late votes store nothing");
    app.new_browser()
        .get(&format!("/rounds/{round}"))
        .send()
        .await
        .assert_status(200)
        .assert_contains("Voting has ended; the results are being counted.");

    app.drain_jobs().await;
    let (closed_at, closed_by, voters) = closing_of(&app, &round).await;
    let closed_at = closed_at.expect("the job closed the round");
    assert!(closed_at >= closes_at);
    assert_eq!(voters, Some(5));
    let ranking = final_ranking(&app, &round).await;
    let expected: Vec<ResultLine> = vec![
        (bravo.clone(), Some(1), Some(3 * s), Some(3)),
        (alpha.clone(), Some(2), Some(2 * c), Some(2)),
        (charlie.clone(), Some(3), Some(c), Some(1)),
        (delta.clone(), Some(4), Some(s), Some(1)),
        (echo.clone(), Some(5), Some(s), Some(1)),
        (topics[5].clone(), Some(6), Some(0), Some(0)),
    ];
    assert_eq!(ranking, expected, "ranked by weighted total, then vote count, then earliest vote");

    // Closing happens exactly once: a later run changes nothing.
    app.advance_clock(HOUR);
    app.drain_jobs().await;
    assert_eq!(closing_of(&app, &round).await, (Some(closed_at), closed_by, Some(5)));
    assert_eq!(final_ranking(&app, &round).await, expected);

    // Readers see the ranking, in order, and the turnout.
    let page = app.new_browser().get(&format!("/rounds/{round}")).send().await;
    page.assert_status(200).assert_contains("5 members voted.").assert_not_contains("results are being counted");
    let order = ["Bravo river", "Alpha housing", "Charlie schools", "Delta bridge", "Echo ferry", "Foxtrot parks"];
    let positions: Vec<usize> =
        order.iter().map(|t| page.body.find(t).unwrap_or_else(|| panic!("{t} is on the results page"))).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "the results page lists the ranking in order: {positions:?}");
    page.assert_contains(&format!("<span class=\"rank\">1.</span> <a href=\"/topics/{bravo}\">Bravo river</a>"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_closing_job_counts_every_accepted_vote_and_no_vote_lands_after_it() {
    let app = TestApp::spawn().await;
    let editor = staff(&app, "editor@newsroom.test", Role::Editor).await;
    let topics = open_topics(&editor, "Topic", 20).await;
    let (round, closes_at) = round_closing_within_the_hour(&app, &editor, &topics, 20).await;
    let mut patrons = Vec::new();
    for i in 0..4 {
        patrons.push(demo_patron(&app, &format!("racer{i}@example.org"), "supporter").await);
    }

    // Bring the closing time 100 ms ahead: the patrons vote as fast as they can
    // while the job polls, so votes land on both sides of the closing.
    app.advance_clock(closes_at - app.clock().now() - 100_000);
    let voting = concurrently(patrons.len(), async |i| {
        let mut outcomes = Vec::new();
        // Each patron starts at a different topic, so they contend on the round, not on one topic.
        for k in 0..topics.len() {
            let r = vote(&patrons[i], &round, &topics[(i * 5 + k) % topics.len()]).await;
            let refused = r.status != 303;
            outcomes.push((r.status, r.body));
            if refused {
                break;
            }
        }
        outcomes
    });
    let closing = async {
        let started = Instant::now();
        while closing_of(&app, &round).await.0.is_none() {
            assert!(started.elapsed() < Duration::from_secs(20), "the round never closed");
            app.drain_jobs().await;
            tokio::task::yield_now().await;
        }
    };
    let (outcomes, ()) = tokio::join!(voting, closing);
    let mut accepted = 0;
    for outcome in outcomes {
        for (status, body) in outcome {
            match status {
                303 => accepted += 1,
                409 => assert!(body.contains("This round is not open for votes."), "unexpected refusal: {body}"),
                other => panic!("a vote racing the closing answered {other}:\n{body}"),
            }
        }
    }

    let (closed_at, _, voters) = closing_of(&app, &round).await;
    let closed_at = closed_at.expect("closed");
    let stored = vote_count(&app, &round).await;
    assert_eq!(stored, accepted, "every accepted vote is stored, and only those");
    let (after,): (i64,) = sqlx::query_as("select count(*) from votes where round_id = $1 and created_at > $2")
        .bind(&round)
        .bind(closed_at)
        .fetch_one(app.db().read())
        .await
        .expect("count late votes");
    assert_eq!(after, 0, "no vote is stored after the round closed");
    let counted: i64 = final_ranking(&app, &round).await.iter().map(|r| r.3.expect("final votes recorded")).sum();
    assert_eq!(counted, stored, "the recorded result counts every stored vote");
    let (with_votes,): (i64,) = sqlx::query_as("select count(distinct member_id) from votes where round_id = $1")
        .bind(&round)
        .fetch_one(app.db().read())
        .await
        .expect("count voters");
    assert_eq!(voters, Some(with_votes));
}

/// PostgreSQL only: waits until a statement starting with `prefix` is blocked on a
/// lock (or, with `done_when_closed`, until the round is closed).
async fn wait_until_blocked(app: &TestApp, prefix: &str, round: &str, done_when_closed: bool) {
    let started = Instant::now();
    loop {
        let (waiting,): (i64,) = sqlx::query_as(
            "select count(*) from pg_stat_activity
             where datname = current_database() and wait_event_type = 'Lock' and query like $1",
        )
        .bind(format!("{prefix}%"))
        .fetch_one(app.db().read())
        .await
        .expect("read pg_stat_activity");
        if waiting > 0 || (done_when_closed && closing_of(app, round).await.0.is_some()) {
            return;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "nothing blocked on {prefix}");
        tokio::task::yield_now().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_vote_in_flight_when_the_round_closes_is_counted() {
    let app = TestApp::spawn().await;
    let editor = staff(&app, "editor@newsroom.test", Role::Editor).await;
    let topics = open_topics(&editor, "Topic", 2).await;
    let (round, closes_at) = round_closing_within_the_hour(&app, &editor, &topics, 3).await;
    let patron = demo_patron(&app, "inflight@example.org", "supporter").await;
    vote(&patron, &round, &topics[0]).await.assert_status(303);
    let postgres = app.db().backend() == patronage::db::Backend::Postgres;

    // Hold the patron's ballot so their next vote stops part-way, after it has
    // found the round open. (SQLite: hold the single write lock instead; the
    // vote and the job then queue for it in either order.)
    let mut hold = app.db().transaction().await.expect("a transaction of our own");
    if postgres {
        sqlx::query("select used from ballots where round_id = $1 for update")
            .bind(&round)
            .fetch_one(&mut *hold)
            .await
            .expect("the ballot is locked");
    }
    let in_flight = {
        let (browser, round, topic) = (patron.clone(), round.clone(), topics[1].clone());
        tokio::spawn(async move { vote(&browser, &round, &topic).await.status })
    };
    if postgres {
        wait_until_blocked(&app, "insert into ballots", &round, false).await;
    }
    // Now the round's time is up and the job runs while that vote is in flight.
    app.advance_clock(closes_at - app.clock().now() + SECOND);
    let closer = {
        let ctx = app.ctx.clone();
        tokio::spawn(async move { patronage::services::voting::close_due_rounds(&ctx, "test-closer").await })
    };
    if postgres {
        wait_until_blocked(&app, "update rounds", &round, true).await;
    }
    hold.rollback().await.expect("released");
    let status = in_flight.await.expect("the vote task did not panic");
    closer.await.expect("the closing task did not panic").expect("the closing job ran");
    app.drain_jobs().await;

    assert!(status == 303 || status == 409, "the vote in flight answered {status}");
    let stored = vote_count(&app, &round).await;
    assert_eq!(stored, if status == 303 { 2 } else { 1 });
    let counted: i64 = final_ranking(&app, &round).await.iter().map(|r| r.3.expect("final votes recorded")).sum();
    assert_eq!(counted, stored, "an accepted vote is in the recorded result");
    if postgres {
        assert_eq!(status, 303, "on PostgreSQL the job waits for the vote that found the round open");
    }
}

#[tokio::test]
async fn once_counted_a_round_takes_no_votes_even_from_a_clock_that_reads_before_its_close() {
    let app = TestApp::spawn().await;
    let editor = staff(&app, "editor@newsroom.test", Role::Editor).await;
    let topics = open_topics(&editor, "Topic", 2).await;
    let (round, closes_at) = round_closing_within_the_hour(&app, &editor, &topics, 3).await;
    let patron = demo_patron(&app, "skewed@example.org", "supporter").await;
    vote(&patron, &round, &topics[0]).await.assert_status(303);
    app.advance_clock(closes_at - app.clock().now() + SECOND);
    app.drain_jobs().await;
    let closing = closing_of(&app, &round).await;
    assert!(closing.0.is_some(), "the job closed the round");
    let counted = final_ranking(&app, &round).await;

    // A request that read the time just before closing (or an instance whose clock
    // is behind) reaches the database after the round was counted.
    app.advance_clock(-2 * MINUTE);
    vote(&patron, &round, &topics[1]).await.assert_status(409).assert_contains("This round is not open for votes.");
    crate::helpers::voting::withdraw(&patron, &round, &topics[0])
        .await
        .assert_status(409)
        .assert_contains("This round is not open for votes.");
    assert_eq!(vote_count(&app, &round).await, 1);
    assert_eq!(closing_of(&app, &round).await, closing);
    assert_eq!(final_ranking(&app, &round).await, counted);
}

// --- who may vote, and with what weight ---

#[tokio::test]
async fn a_free_member_may_vote_only_once_editors_open_voting_to_all_members() {
    let app = TestApp::spawn().await;
    let editor = staff(&app, "editor@newsroom.test", Role::Editor).await;
    let topics = open_topics(&editor, "Topic", 2).await;
    let round = open_round(&app, &editor, &topics, 3, false).await;
    let member = app.new_browser();
    app.sign_in_member(&member, "free@example.org").await;

    vote(&member, &round, &topics[0]).await.assert_status(403).assert_contains("Only patrons can vote.");
    assert_eq!(vote_count(&app, &round).await, 0);
    assert_eq!(app.count("select count(*) from ballots").await, 0);

    set_voting(&editor, "members", "equal").await;
    vote(&member, &round, &topics[0]).await.assert_status(303);
    assert_eq!(weights_of(&app, "free@example.org").await, [1]);
}

#[tokio::test]
async fn a_lapsed_patron_cannot_vote_again_but_their_earlier_vote_still_counts() {
    let app = TestApp::spawn().await;
    let editor = staff(&app, "editor@newsroom.test", Role::Editor).await;
    let topics = open_topics(&editor, "Topic", 2).await;
    let (round, closes_at) = round_closing_within_the_hour(&app, &editor, &topics, 3).await;
    let patron = demo_patron(&app, "leaving@example.org", "supporter").await;
    vote(&patron, &round, &topics[0]).await.assert_status(303);

    // Cancels at once through the demo billing portal.
    patron.post_form("/demo/portal", &[("action", "cancel_now"), ("confirm", "yes")]).send().await.assert_status(303);
    patron.get("/account").send().await.assert_contains("Lapsed patron");
    vote(&patron, &round, &topics[1])
        .await
        .assert_status(403)
        .assert_contains("Your patronage has ended, so you cannot cast new votes.");
    assert_eq!(votes_of(&app, "leaving@example.org").await, 1, "the earlier vote stays");

    app.advance_clock(closes_at - app.clock().now() + MINUTE);
    app.deliver_mail().await;
    let ranking = final_ranking(&app, &round).await;
    assert_eq!((ranking[0].0.as_str(), ranking[0].3), (topics[0].as_str(), Some(1)), "and it is counted");
}

/// Whether a member may vote is decided inside the vote's own transaction: a
/// patronage that ended through another instance, which cannot tell this one's
/// caches, stops counting at once (issue 14, item 13: it used to be honoured
/// for as long as the cached answer lived).
#[tokio::test]
async fn a_patronage_ended_by_another_instance_stops_counting_at_once() {
    let app = TestApp::spawn().await;
    let editor = staff(&app, "editor@newsroom.test", Role::Editor).await;
    let topics = open_topics(&editor, "Topic", 3).await;
    let round = open_round(&app, &editor, &topics, 3, false).await;
    let patron = demo_patron(&app, "elsewhere@example.org", "supporter").await;
    vote(&patron, &round, &topics[0]).await.assert_status(303);

    sqlx::query(
        "update subscriptions set status = 'canceled', mrr_minor = 0
         where member_id = (select id from members where email = $1)",
    )
    .bind("elsewhere@example.org")
    .execute(&mut *app.db().write().await.expect("a write"))
    .await
    .expect("ended elsewhere");
    vote(&patron, &round, &topics[1])
        .await
        .assert_status(403)
        .assert_contains("Your patronage has ended, so you cannot cast new votes.");
    app.advance_clock(patronage::services::cache::ELIGIBILITY_TTL);
    vote(&patron, &round, &topics[2])
        .await
        .assert_status(403)
        .assert_contains("Your patronage has ended, so you cannot cast new votes.");
    assert_eq!(votes_of(&app, "elsewhere@example.org").await, 1, "the vote cast before it ended still counts");
}

/// The voting rules and a tier's weight changed through another instance count
/// for the next vote, though this instance's caches (warm from the topics page)
/// still hold the old ones: the vote's transaction reads them itself.
#[tokio::test]
async fn rules_and_tier_weights_changed_by_another_instance_weigh_the_next_vote() {
    let app = TestApp::spawn().await;
    let editor = staff(&app, "editor@newsroom.test", Role::Editor).await;
    let topics = open_topics(&editor, "Topic", 3).await;
    let round = open_round(&app, &editor, &topics, 3, false).await;
    let patron = demo_patron(&app, "weighed@example.org", "supporter").await;
    set_voting(&editor, "patrons", "equal").await;
    patron.get("/topics").send().await.assert_status(200);
    vote(&patron, &round, &topics[0]).await.assert_status(303);
    assert_eq!(weights_of(&app, "weighed@example.org").await, [1]);

    let elsewhere = async |sql: &'static str| {
        sqlx::query(sql).execute(&mut *app.db().write().await.expect("a write")).await.expect("changed elsewhere");
    };
    elsewhere("update settings set value = 'tier' where key = 'voting.weight'").await;
    elsewhere("update tiers set vote_weight = 7 where slug = 'supporter'").await;
    vote(&patron, &round, &topics[1]).await.assert_status(303);
    assert_eq!(weights_of(&app, "weighed@example.org").await, [1, 7]);
    elsewhere("update tiers set vote_weight = 4 where slug = 'supporter'").await;
    vote(&patron, &round, &topics[2]).await.assert_status(303);
    assert_eq!(weights_of(&app, "weighed@example.org").await, [1, 7, 4]);
}

/// The reverse: a member made a patron (here, comped) through another instance
/// may vote at once, though this instance cached a refusal a moment ago.
#[tokio::test]
async fn a_member_made_a_patron_by_another_instance_may_vote_at_once() {
    let app = TestApp::spawn().await;
    let editor = staff(&app, "editor@newsroom.test", Role::Editor).await;
    let topics = open_topics(&editor, "Topic", 1).await;
    let round = open_round(&app, &editor, &topics, 3, false).await;
    let member = app.new_browser();
    app.sign_in_member(&member, "soon.patron@example.org").await;
    member.get("/topics").send().await.assert_status(200);
    vote(&member, &round, &topics[0]).await.assert_status(403);

    sqlx::query("update members set comped_until = $1 where email = 'soon.patron@example.org'")
        .bind(app.clock().now() + 30 * 24 * HOUR)
        .execute(&mut *app.db().write().await.expect("a write"))
        .await
        .expect("comped elsewhere");
    vote(&member, &round, &topics[0]).await.assert_status(303);
    assert_eq!(votes_of(&app, "soon.patron@example.org").await, 1);
}

#[tokio::test]
async fn a_patron_whose_first_payment_has_not_cleared_is_refused() {
    let app = TestApp::spawn().await;
    let editor = staff(&app, "editor@newsroom.test", Role::Editor).await;
    let topics = open_topics(&editor, "Topic", 1).await;
    let round = open_round(&app, &editor, &topics, 3, false).await;
    let patron = demo_patron(&app, "pending@example.org", "supporter").await;
    // The demo checkout clears the first payment at once; forget it, as if the
    // subscription were active but its first invoice still unpaid.
    sqlx::query(
        "update subscriptions set first_paid_at = null
         where member_id = (select id from members where email = $1)",
    )
    .bind("pending@example.org")
    .execute(&mut *app.db().write().await.expect("a write"))
    .await
    .expect("first payment forgotten");

    vote(&patron, &round, &topics[0])
        .await
        .assert_status(403)
        .assert_contains("Your vote counts once your first payment has cleared.");
    assert_eq!(vote_count(&app, &round).await, 0);
}

#[tokio::test]
async fn a_vote_keeps_the_weight_it_had_when_cast() {
    let app = TestApp::spawn().await;
    let editor = staff(&app, "editor@newsroom.test", Role::Editor).await;
    let topics = open_topics(&editor, "Topic", 2).await;
    let round = open_round(&app, &editor, &topics, 3, false).await;
    let cocreator = demo_patron(&app, "cocreator@example.org", "cocreator").await;
    let supporter = demo_patron(&app, "supporter@example.org", "supporter").await;
    let (c, s) = (tier_weight(&app, "cocreator").await, tier_weight(&app, "supporter").await);
    assert_ne!(c, s, "the two tiers weigh differently");

    set_voting(&editor, "patrons", "tier").await;
    vote(&cocreator, &round, &topics[0]).await.assert_status(303);
    vote(&supporter, &round, &topics[0]).await.assert_status(303);
    assert_eq!(weights_of(&app, "cocreator@example.org").await, [c]);
    assert_eq!(weights_of(&app, "supporter@example.org").await, [s]);

    // Changing the rule later weighs new votes only.
    set_voting(&editor, "patrons", "equal").await;
    vote(&cocreator, &round, &topics[1]).await.assert_status(303);
    assert_eq!(weights_of(&app, "cocreator@example.org").await, [c, 1]);
    assert_eq!(weights_of(&app, "supporter@example.org").await, [s]);
}

// --- bad input ---

#[tokio::test]
async fn bad_suggestions_are_refused_with_a_reason_and_store_nothing() {
    let app = TestApp::spawn().await;
    let member = app.new_browser();
    app.sign_in_member(&member, "suggester@example.org").await;
    let mail_before = app.outbox_count().await;
    let long_title = "x".repeat(121);
    let cases: [(&str, &str, &str); 4] = [
        ("", "", "This cannot be empty."),
        (&long_title, "", "This is too long."),
        ("Rents\u{7} in the old town", "", "Remove the control or invisible characters."),
        ("Rents in the old town", "javascript:alert(1)", "Use a web address starting with http:// or https://."),
    ];
    for (title, link, message) in cases {
        let r =
            member.post_form("/topics/suggest", &[("title", title), ("description", ""), ("link", link)]).send().await;
        r.assert_status(422).assert_contains(message);
        assert_eq!(app.count("select count(*) from topics").await, 0, "{message}");
    }
    assert_eq!(app.count("select count(*) from topic_followers").await, 0);
    assert_eq!(app.outbox_count().await, mail_before, "no mail goes out");
}

#[tokio::test]
async fn markup_in_a_suggestion_is_stored_as_typed_and_shown_escaped() {
    let app = TestApp::spawn().await;
    let editor = staff(&app, "editor@newsroom.test", Role::Editor).await;
    let member = app.new_browser();
    app.sign_in_member(&member, "suggester@example.org").await;
    let r = member
        .post_form("/topics/suggest", &[("title", "<script>alert(1)</script>"), ("description", ""), ("link", "")])
        .send()
        .await;
    r.assert_status(303);
    let location = r.location().expect("redirect to the topic");
    assert!(location.ends_with("?suggested=1"), "{location}");
    let (title,): (String,) =
        sqlx::query_as("select title from topics").fetch_one(app.db().read()).await.expect("stored");
    assert_eq!(title, "<script>alert(1)</script>");

    member
        .get(&location)
        .send()
        .await
        .assert_status(200)
        .assert_contains("&lt;script&gt;alert(1)")
        .assert_not_contains("<script>alert(1)");
    editor
        .get("/admin/topics")
        .send()
        .await
        .assert_status(200)
        .assert_contains("&lt;script&gt;alert(1)")
        .assert_not_contains("<script>alert(1)");
}

#[tokio::test]
async fn covering_a_topic_with_a_script_link_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let editor = staff(&app, "editor@newsroom.test", Role::Editor).await;
    let topic = open_topic(&editor, "Rents in the old town").await;
    for articles in ["javascript:alert(1)", "https://news.test/rents\njavascript:alert(1)"] {
        let r = editor
            .post_form(&format!("/admin/topics/{topic}/cover"), &[("articles", articles), ("note", "")])
            .send()
            .await;
        r.assert_status(422).assert_contains("Use a web address starting with http:// or https://.");
        assert_eq!(topic_status(&app, &topic).await, "open");
        assert_eq!(app.count("select count(*) from topic_articles").await, 0);
    }
    assert_eq!(app.count("select count(*) from topic_events").await, 1, "only the topic's creation");
    assert_eq!(app.outbox_count().await, 0);
}

#[tokio::test]
async fn the_votes_export_neutralises_spreadsheet_formulas() {
    let app = TestApp::spawn().await;
    let editor = staff(&app, "editor@newsroom.test", Role::Editor).await;
    let topics = vec![open_topic(&editor, "@SUM(A1) budget").await];
    let round = open_round(&app, &editor, &topics, 3, false).await;
    let patron = demo_patron(&app, "formula@example.org", "supporter").await;
    let evil = "=HYPERLINK(\"http://evil\")";
    patron
        .post_form("/account", &[("name", evil), ("public_name", "+HYPERLINK(\"http://evil\")"), ("lang", "en")])
        .send()
        .await
        .assert_status(303);
    vote(&patron, &round, &topics[0]).await.assert_status(303);

    let csv = editor.get(&format!("/admin/rounds/{round}/votes.csv")).send().await;
    csv.assert_status(200);
    let content_type = csv.header("content-type").unwrap_or_default();
    assert!(content_type.starts_with("text/csv"), "content-type {content_type}");
    csv.assert_contains("\"'=HYPERLINK(\"\"http://evil\"\")\"")
        .assert_contains("\"'+HYPERLINK(\"\"http://evil\"\")\"")
        .assert_contains("\"'@SUM(A1) budget\"");
    for trigger in ['=', '+', '-', '@'] {
        assert!(!csv.body.contains(&format!(",\"{trigger}")), "a cell starts with {trigger}:\n{}", csv.body);
    }
}

#[tokio::test]
async fn votes_off_the_ballot_with_garbage_ids_or_for_unknown_or_unopened_rounds_are_refused() {
    let app = TestApp::spawn().await;
    let editor = staff(&app, "editor@newsroom.test", Role::Editor).await;
    let topics = open_topics(&editor, "Topic", 3).await;
    // Only the first topic is on the ballot; the second is open but waiting.
    let round = open_round(&app, &editor, &topics[..1], 3, false).await;
    let now = app.clock().now();
    let upcoming = round_between(&editor, &topics[2..], 3, false, now + HOUR, now + 2 * HOUR).await;
    let patron = demo_patron(&app, "careful@example.org", "supporter").await;

    vote(&patron, &round, &topics[1])
        .await
        .assert_status(409)
        .assert_contains("That topic is not (or no longer) open for votes");
    vote(&patron, &round, "not-a-topic").await.assert_status(400);
    vote(&patron, &round, "").await.assert_status(400);
    // A well-formed round id that names no round: refused as not open.
    let unknown = "01890a5d-ac96-774b-bcce-b302099a8057";
    vote(&patron, unknown, &topics[0]).await.assert_status(409).assert_contains("This round is not open for votes.");
    // A round that has not opened yet.
    vote(&patron, &upcoming, &topics[2]).await.assert_status(409).assert_contains("This round is not open for votes.");
    // A malformed round id is no page at all.
    vote(&patron, "not-a-round", &topics[0]).await.assert_status(404);
    assert_eq!(app.count("select count(*) from votes").await, 0);
    assert_eq!(app.count("select count(*) from ballots").await, 0);
}

#[tokio::test]
async fn a_topic_declined_or_covered_during_its_round_takes_no_more_votes() {
    let app = TestApp::spawn().await;
    let editor = staff(&app, "editor@newsroom.test", Role::Editor).await;
    let declined = open_topic(&editor, "Declined mid-round").await;
    let covered = open_topic(&editor, "Covered mid-round").await;
    let round = open_round(&app, &editor, &[declined.clone(), covered.clone()], 3, false).await;
    let patron = demo_patron(&app, "late@example.org", "supporter").await;
    editor
        .post_form(&format!("/admin/topics/{declined}/decline"), &[("reason", "Out of our area")])
        .send()
        .await
        .assert_status(303);
    editor
        .post_form(&format!("/admin/topics/{covered}/cover"), &[("articles", "https://news.example/x")])
        .send()
        .await
        .assert_status(303);
    for topic in [&declined, &covered] {
        vote(&patron, &round, topic).await.assert_status(409).assert_contains("no longer) open for votes");
    }
    assert_eq!(vote_count(&app, &round).await, 0);
    patron.get("/topics").send().await.assert_not_contains(&format!("/rounds/{round}/vote"));
}

#[tokio::test]
async fn merging_never_puts_a_topic_on_two_open_rounds() {
    let app = TestApp::spawn().await;
    let editor = staff(&app, "editor@newsroom.test", Role::Editor).await;
    let a = open_topic(&editor, "On the first round").await;
    let b = open_topic(&editor, "On the second round").await;
    let first = open_round(&app, &editor, std::slice::from_ref(&a), 3, false).await;
    let second = open_round(&app, &editor, std::slice::from_ref(&b), 3, false).await;
    let patron = demo_patron(&app, "voter@example.org", "supporter").await;
    vote(&patron, &first, &a).await.assert_status(303);
    editor.post_form(&format!("/admin/topics/{a}/merge"), &[("into", &b)]).send().await.assert_status(409);
    assert_eq!(app.count("select count(*) from round_topics").await, 2);
    assert_eq!(vote_count(&app, &first).await, 1);
    assert_eq!(vote_count(&app, &second).await, 0);
    let (status,): (String,) = sqlx::query_as("select status from topics where id = $1")
        .bind(&a)
        .fetch_one(app.db().read())
        .await
        .expect("topic");
    assert_eq!(status, "open");
}
