//! Topics from suggestion to coverage: moderation, merging, the emails each step
//! sends (exactly once), public pages and who may do what.
use patronage::domain::Role;

use crate::helpers::voting::{demo_patron, open_round, open_topic, staff, suggest, vote};
use crate::helpers::{ReceivedMail, TestApp};

async fn status_of(app: &TestApp, topic: &str) -> String {
    let (s,): (String,) = sqlx::query_as("select status from topics where id = $1")
        .bind(topic)
        .fetch_one(app.db().read())
        .await
        .expect("the topic exists");
    s
}

fn mail_to<'m>(mail: &'m [ReceivedMail], address: &str) -> Vec<&'m ReceivedMail> {
    mail.iter().filter(|m| m.to.iter().any(|t| t == address)).collect()
}

#[tokio::test]
async fn a_suggestion_waits_for_moderation_and_its_author_hears_once_when_approved() {
    let app = TestApp::spawn().await;
    let reader = app.new_browser();
    app.sign_in_member(&reader, "reader@example.org").await;
    let topic = suggest(&reader, "Who owns the empty shops?").await;
    assert_eq!(status_of(&app, &topic).await, "suggested");
    // Only its author sees it before an editor does.
    reader.get(&format!("/topics/{topic}")).send().await.assert_status(200).assert_contains("waiting for an editor");
    app.new_browser().get(&format!("/topics/{topic}")).send().await.assert_status(404);

    let editor = staff(&app, "editor@newsroom.test", Role::Editor).await;
    editor.get("/admin/topics").send().await.assert_status(200).assert_contains("Who owns the empty shops?");
    editor.post_form(&format!("/admin/topics/{topic}/approve"), &[("note", "")]).send().await.assert_status(303);
    assert_eq!(status_of(&app, &topic).await, "open");
    // Approving twice is refused and changes nothing.
    editor.post_form(&format!("/admin/topics/{topic}/approve"), &[("note", "")]).send().await.assert_status(409);

    let mail = app.deliver_mail().await;
    let to_reader = mail_to(&mail, "reader@example.org");
    assert_eq!(to_reader.len(), 1, "{mail:?}");
    assert!(to_reader[0].text_body().contains("Who owns the empty shops?"));
    // On no round yet: approved, not "open for votes".
    assert_eq!(to_reader[0].subject().as_deref(), Some("Your suggestion to The Test Gazette was approved"));
    assert!(to_reader[0].text_body().contains("on an upcoming ballot"), "{}", to_reader[0].text_body());
    assert!(!to_reader[0].text_body().contains("open for votes"));
    app.new_browser()
        .get(&format!("/topics/{topic}"))
        .send()
        .await
        .assert_status(200)
        .assert_contains("Open for votes");
    // The history records who decided, for staff.
    editor.get(&format!("/admin/topics/{topic}")).send().await.assert_contains("by editor@newsroom.test");
}

#[tokio::test]
async fn declining_needs_a_reason_which_is_shown_publicly_and_emailed() {
    let app = TestApp::spawn().await;
    let reader = app.new_browser();
    app.sign_in_member(&reader, "reader@example.org").await;
    let topic = suggest(&reader, "Aliens in the park").await;
    let editor = staff(&app, "editor@newsroom.test", Role::Editor).await;

    let r = editor.post_form(&format!("/admin/topics/{topic}/decline"), &[("reason", "  ")]).send().await;
    r.assert_status(422).assert_contains("This cannot be empty.");
    assert_eq!(status_of(&app, &topic).await, "suggested");

    let reason = "We could not find <evidence> of this.";
    editor.post_form(&format!("/admin/topics/{topic}/decline"), &[("reason", reason)]).send().await.assert_status(303);
    assert_eq!(status_of(&app, &topic).await, "declined");
    app.new_browser()
        .get(&format!("/topics/{topic}"))
        .send()
        .await
        .assert_status(200)
        .assert_contains("We could not find &lt;evidence&gt; of this.");
    let mail = app.deliver_mail().await;
    assert_eq!(mail_to(&mail, "reader@example.org").len(), 1);
    assert!(mail[0].text_body().contains("We could not find <evidence> of this."));
}

#[tokio::test]
async fn merging_moves_votes_and_followers_and_tells_the_author_once() {
    let app = TestApp::spawn().await;
    let editor = staff(&app, "editor@newsroom.test", Role::Editor).await;
    let author = app.new_browser();
    app.sign_in_member(&author, "author@example.org").await;
    let duplicate = suggest(&author, "Rents are too high").await;
    editor.post_form(&format!("/admin/topics/{duplicate}/approve"), &[]).send().await.assert_status(303);
    let survivor = open_topic(&editor, "Why do rents keep rising?").await;
    let other = open_topic(&editor, "School meals").await;
    let round = open_round(&app, &editor, &[duplicate.clone(), survivor.clone(), other.clone()], 3, true).await;

    // One patron votes for both, one only for the duplicate.
    let both = demo_patron(&app, "both@example.org", "supporter").await;
    vote(&both, &round, &duplicate).await.assert_status(303);
    vote(&both, &round, &survivor).await.assert_status(303);
    let one = demo_patron(&app, "one@example.org", "supporter").await;
    vote(&one, &round, &duplicate).await.assert_status(303);
    app.deliver_mail().await;

    editor
        .post_form(&format!("/admin/topics/{duplicate}/merge"), &[("into", &survivor), ("note", "Same question")])
        .send()
        .await
        .assert_status(303);
    assert_eq!(status_of(&app, &duplicate).await, "merged");
    let votes_for = |topic: String| {
        let pool = app.db().read().clone();
        async move {
            let (n,): (i64,) = sqlx::query_as("select count(*) from votes where topic_id = $1")
                .bind(topic)
                .fetch_one(&pool)
                .await
                .expect("count");
            n
        }
    };
    assert_eq!(votes_for(duplicate.clone()).await, 0);
    assert_eq!(votes_for(survivor.clone()).await, 2, "one moved, one kept; the doubled one was given back");
    // The patron who voted for both got a vote back: 2 of 3 used.
    both.get("/topics").send().await.assert_contains("You have 2 votes left of 3.");
    one.get("/topics").send().await.assert_contains("You have 2 votes left of 3.");
    // The author followed their suggestion; now they follow the survivor.
    assert_eq!(
        app.count("select count(*) from topic_followers f join topics t on t.id = f.topic_id where t.title = 'Why do rents keep rising?'").await,
        1
    );
    // The duplicate's page leads to the survivor, and the ballot lists it once.
    let r = app.new_browser().get(&format!("/topics/{duplicate}")).send().await;
    assert_eq!(r.location(), Some(format!("/topics/{survivor}")));
    assert_eq!(app.count("select count(*) from round_topics").await, 2);

    let mail = app.deliver_mail().await;
    let to_author = mail_to(&mail, "author@example.org");
    assert_eq!(to_author.len(), 1, "{mail:?}");
    assert!(to_author[0].text_body().contains("Why do rents keep rising?"));
    // Merging again is refused and sends nothing.
    editor.post_form(&format!("/admin/topics/{duplicate}/merge"), &[("into", &other)]).send().await.assert_status(409);
    assert!(app.deliver_mail().await.is_empty());
}

#[tokio::test]
async fn covering_a_topic_tells_each_voter_and_follower_exactly_once() {
    let app = TestApp::spawn().await;
    let editor = staff(&app, "editor@newsroom.test", Role::Editor).await;
    let topic = open_topic(&editor, "The river clean-up").await;
    let other = open_topic(&editor, "Night buses").await;
    let round = open_round(&app, &editor, &[topic.clone(), other.clone()], 3, false).await;
    let voter = demo_patron(&app, "voter@example.org", "supporter").await;
    vote(&voter, &round, &topic).await.assert_status(303);
    let bystander = demo_patron(&app, "bystander@example.org", "supporter").await;
    vote(&bystander, &round, &other).await.assert_status(303);
    // A member who follows (and also voted) is told once, not twice.
    voter.post_form(&format!("/topics/{topic}/follow"), &[("on", "yes")]).send().await.assert_status(303);
    let follower = app.new_browser();
    app.sign_in_member(&follower, "follower@example.org").await;
    follower.post_form(&format!("/topics/{topic}/follow"), &[("on", "yes")]).send().await.assert_status(303);
    app.deliver_mail().await;

    editor
        .post_form(&format!("/admin/topics/{topic}/plan"), &[("expected", "2027-01-15"), ("note", "In the works")])
        .send()
        .await
        .assert_status(303);
    app.new_browser().get("/topics").send().await.assert_contains("Coming up").assert_contains("expected 2027-01-15");
    // A javascript: address is refused and nothing changes.
    editor
        .post_form(&format!("/admin/topics/{topic}/cover"), &[("articles", "javascript:alert(1)")])
        .send()
        .await
        .assert_status(422);
    assert_eq!(status_of(&app, &topic).await, "planned");
    assert!(app.deliver_mail().await.is_empty());

    let article = "https://news.example/2027/river";
    // The article's address, then its headline, as staff enter it.
    let line = format!("{article} Is the river clean at last? We tested it");
    editor.post_form(&format!("/admin/topics/{topic}/cover"), &[("articles", &line)]).send().await.assert_status(303);
    let mail = app.deliver_mail().await;
    assert_eq!(mail.len(), 2, "the voter and the follower, once each: {mail:?}");
    for address in ["voter@example.org", "follower@example.org"] {
        let to = mail_to(&mail, address);
        assert_eq!(to.len(), 1, "{address}");
        assert!(to[0].text_body().contains(article));
        assert!(to[0].text_body().contains("Is the river clean at last? We tested it"));
        assert_eq!(to[0].subject().as_deref(), Some("The story you voted for is out"));
    }
    // Adding another article later sends nothing new.
    editor
        .post_form(&format!("/admin/topics/{topic}/cover"), &[("articles", "https://news.example/2027/river-2")])
        .send()
        .await
        .assert_status(303);
    assert!(app.deliver_mail().await.is_empty());

    // Covered stories show the headline as the link, not a bare address.
    let headline_link = format!("<a href=\"{article}\">Is the river clean at last? We tested it</a>");
    app.new_browser()
        .get("/covered")
        .send()
        .await
        .assert_contains("The river clean-up")
        .assert_contains(&headline_link);
    voter
        .get("/account/commissioned")
        .send()
        .await
        .assert_contains("The river clean-up")
        .assert_contains(&headline_link);
    app.new_browser().get(&format!("/topics/{topic}")).send().await.assert_contains(&headline_link);
    // An article given without a headline shows its address.
    app.new_browser()
        .get("/covered")
        .send()
        .await
        .assert_contains("<a href=\"https://news.example/2027/river-2\">https://news.example/2027/river-2</a>");
}

#[tokio::test]
async fn only_editors_and_admins_moderate_and_analysts_only_read_results() {
    let app = TestApp::spawn().await;
    let editor = staff(&app, "editor@newsroom.test", Role::Editor).await;
    let topic = open_topic(&editor, "Air quality").await;
    let round = open_round(&app, &editor, std::slice::from_ref(&topic), 3, false).await;
    let analyst = staff(&app, "analyst@newsroom.test", Role::Analyst).await;
    analyst.post_form("/admin/topics", &[("title", "Sneaky")]).send().await.assert_status(403);
    analyst.post_form(&format!("/admin/topics/{topic}/decline"), &[("reason", "no")]).send().await.assert_status(403);
    analyst.get(&format!("/admin/rounds/{round}")).send().await.assert_status(200);
    analyst.get("/admin/voting").send().await.assert_status(403);
    assert_eq!(status_of(&app, &topic).await, "open");
    // Members are not staff.
    let member = app.new_browser();
    app.sign_in_member(&member, "member@example.org").await;
    let r = member.get("/admin/topics").send().await;
    assert_eq!(r.location().as_deref(), Some("/admin/login"));
}

#[tokio::test]
async fn suggestions_are_rate_limited_per_member() {
    let app = TestApp::spawn().await;
    app.start_a_fresh_window(patronage::services::voting::SUGGESTIONS_PER_MEMBER);
    let reader = app.new_browser();
    app.sign_in_member(&reader, "eager@example.org").await;
    for n in 0..5 {
        suggest(&reader, &format!("Idea number {n}")).await;
    }
    let r = reader.post_form("/topics/suggest", &[("title", "One too many")]).send().await;
    r.assert_status(429);
    assert_eq!(app.count("select count(*) from topics").await, 5);
}

#[tokio::test]
async fn suggesters_appear_by_their_public_name_or_as_a_reader_never_by_name() {
    let app = TestApp::spawn().await;
    let editor = staff(&app, "editor@newsroom.test", Role::Editor).await;
    let named = app.new_browser();
    app.sign_in_member(&named, "named@example.org").await;
    named
        .post_form("/account", &[("name", "Olena Private"), ("public_name", "RiverWatcher"), ("lang", "en")])
        .send()
        .await
        .assert_status(303);
    let plain = app.new_browser();
    app.sign_in_member(&plain, "plain@example.org").await;
    plain.post_form("/account", &[("name", "Taras Private"), ("public_name", ""), ("lang", "en")]).send().await;
    let a = suggest(&named, "Bridges").await;
    let b = suggest(&plain, "Tunnels").await;
    for t in [&a, &b] {
        editor.post_form(&format!("/admin/topics/{t}/approve"), &[]).send().await.assert_status(303);
    }
    app.deliver_mail().await;
    let visitor = app.new_browser();
    visitor
        .get(&format!("/topics/{a}"))
        .send()
        .await
        .assert_contains("Suggested by RiverWatcher")
        .assert_not_contains("Olena Private");
    visitor
        .get(&format!("/topics/{b}"))
        .send()
        .await
        .assert_contains("Suggested by a reader")
        .assert_not_contains("Taras Private");
    // Staff see who it was.
    editor
        .get(&format!("/admin/topics/{a}"))
        .send()
        .await
        .assert_contains("Olena Private")
        .assert_contains("named@example.org");
}

#[tokio::test]
async fn the_data_export_lists_suggestions_and_votes_and_deletion_keeps_votes_but_not_follows() {
    let app = TestApp::spawn().await;
    let editor = staff(&app, "editor@newsroom.test", Role::Editor).await;
    let topic = open_topic(&editor, "Heating bills").await;
    let round = open_round(&app, &editor, std::slice::from_ref(&topic), 3, false).await;
    let patron = demo_patron(&app, "patron@example.org", "supporter").await;
    vote(&patron, &round, &topic).await.assert_status(303);
    patron.post_form(&format!("/topics/{topic}/follow"), &[("on", "yes")]).send().await.assert_status(303);
    suggest(&patron, "Night shifts at the hospital").await;

    let export = patron.get("/account/export").send().await;
    export.assert_status(200);
    let json = export.json();
    assert_eq!(json["votes"][0]["topic"], "Heating bills");
    assert_eq!(json["votes"][0]["weight"], 1);
    assert_eq!(json["topics_suggested"][0]["title"], "Night shifts at the hospital");
    assert_eq!(json["topics_suggested"][0]["status"], "suggested");

    patron.post_form("/account/delete", &[("confirm", "yes")]).send().await.assert_status(303);
    assert_eq!(app.count("select count(*) from topic_followers").await, 0);
    assert_eq!(app.count("select count(*) from votes").await, 1, "votes counted in results stay, anonymous");
    app.deliver_mail().await;
}
