//! Reader-facing content in each language: staff enter every text in English and
//! Ukrainian; each reader sees their language, or the default language (English
//! here) for a whole item that has no translation.
use patronage::domain::Role;

use crate::helpers::voting::{open_round, open_topic, pay_demo, staff, vote};
use crate::helpers::{TestApp, TestClient};

const RENTS_EN: &str = "Who owns the empty flats on Market Street?";
const RENTS_EN_DESCRIPTION: &str = "Dozens of flats stand empty while rents climb.";
const RENTS_UK: &str = "Кому належать порожні квартири на Ринковій?";
const RENTS_UK_DESCRIPTION: &str = "Десятки квартир стоять порожні, а оренда дорожчає.";
const RIVER_EN: &str = "Is the river clean at last?";
const ROUND_EN: &str = "Spring ballot";
const ROUND_UK: &str = "Весняне голосування";
const TIER_EN: &str = "Coffee reader";
const TIER_EN_DESCRIPTION: &str = "A cup of coffee a month keeps us going.";
const TIER_EN_BENEFIT: &str = "A hand-written thank-you card";
const TIER_UK: &str = "Читач за каву";
const TIER_UK_DESCRIPTION: &str = "Горнятко кави на місяць тримає нас на плаву.";
const TIER_UK_BENEFIT: &str = "Листівка з подякою від руки";
const PITCH_EN: &str = "Local news, paid for by its readers.";
const PITCH_UK: &str = "Місцеві новини, які оплачують читачі.";

async fn translation_count(app: &TestApp) -> i64 {
    app.count("select count(*) from translations").await
}

/// Staff enter a topic's title and description in both languages.
async fn translate_topic(admin: &TestClient, topic: &str, en: (&str, &str), uk: (&str, &str)) {
    admin
        .post_form(
            &format!("/admin/texts/topic/{topic}"),
            &[("title_en", en.0), ("description_en", en.1), ("title_uk", uk.0), ("description_uk", uk.1)],
        )
        .send()
        .await
        .assert_status(303);
}

/// A Ukrainian reader who becomes a patron (monthly, EUR) through the demo checkout.
async fn ukrainian_patron(app: &TestApp, email: &str) -> (TestClient, Vec<crate::helpers::ReceivedMail>) {
    let browser = app.new_browser().with_default_header("accept-language", "uk");
    let price = app.price_id("reader", "month", "eur").await;
    let start = browser.post_form("/patron", &[("price", &price), ("email", email), ("name", "")]).send().await;
    pay_demo(&browser, &start, "succeed").await.assert_status(303);
    let mail = app.deliver_mail().await;
    (browser, mail)
}

#[tokio::test]
async fn each_reader_sees_the_content_in_their_language_and_untranslated_items_whole_in_the_default() {
    let mut app = TestApp::spawn().await;
    app.allow_unclosed_rounds();
    let admin = staff(&app, "admin@news.test", Role::Admin).await;

    let rents = open_topic(&admin, RENTS_EN).await;
    translate_topic(&admin, &rents, (RENTS_EN, RENTS_EN_DESCRIPTION), (RENTS_UK, RENTS_UK_DESCRIPTION)).await;
    // No Ukrainian version: Ukrainian readers see it whole in English.
    let river = open_topic(&admin, RIVER_EN).await;
    let round = open_round(&app, &admin, &[rents.clone(), river.clone()], 3, true).await;
    admin
        .post_form(&format!("/admin/texts/round/{round}"), &[("title_en", ROUND_EN), ("title_uk", ROUND_UK)])
        .send()
        .await
        .assert_status(303);
    let tier = app.tier_id("reader").await;
    admin
        .post_form(
            &format!("/admin/texts/tier/{tier}"),
            &[
                ("name_en", TIER_EN),
                ("description_en", TIER_EN_DESCRIPTION),
                ("benefits_en", TIER_EN_BENEFIT),
                ("name_uk", TIER_UK),
                ("description_uk", TIER_UK_DESCRIPTION),
                ("benefits_uk", TIER_UK_BENEFIT),
            ],
        )
        .send()
        .await
        .assert_status(303);
    let r = admin.post_form("/admin/pitch", &[("pitch_en", PITCH_EN), ("pitch_uk", PITCH_UK)]).send().await;
    r.assert_status(303);
    // The staff form shows what was stored, in each language.
    admin
        .get(&format!("/admin/texts/tier/{tier}"))
        .send()
        .await
        .assert_status(200)
        .assert_contains("Українська")
        .assert_contains(TIER_UK_DESCRIPTION)
        .assert_contains(TIER_EN_DESCRIPTION);

    let (reader, mail) = ukrainian_patron(&app, "oksana@example.org").await;
    // The welcome and the receipt name the tier in the patron's language.
    assert_eq!(mail.len(), 2, "{mail:?}");
    for m in &mail {
        let body = m.text_body();
        assert!(body.contains(TIER_UK) && !body.contains(TIER_EN), "{body}");
    }
    vote(&reader, &round, &rents).await.assert_status(303);
    let english = app.new_browser().with_default_header("accept-language", "en");

    // English readers: English everywhere.
    english.get("/").send().await.assert_contains(PITCH_EN).assert_contains(TIER_EN).assert_not_contains(PITCH_UK);
    english.get("/patron").send().await.assert_contains(TIER_EN_BENEFIT).assert_not_contains(TIER_UK);
    english
        .get("/topics")
        .send()
        .await
        .assert_contains(RENTS_EN)
        .assert_contains(ROUND_EN)
        .assert_not_contains(RENTS_UK);
    english.get(&format!("/topics/{rents}")).send().await.assert_contains(RENTS_EN_DESCRIPTION);
    english.get(&format!("/rounds/{round}")).send().await.assert_contains(ROUND_EN).assert_contains(RENTS_EN);

    // Ukrainian readers: Ukrainian for every item that has it, the rest whole in English.
    let english_texts =
        [RENTS_EN, RENTS_EN_DESCRIPTION, ROUND_EN, TIER_EN, TIER_EN_DESCRIPTION, TIER_EN_BENEFIT, PITCH_EN];
    let pages: [(String, &[&str]); 8] = [
        ("/".into(), &[PITCH_UK, TIER_UK, ROUND_UK, RENTS_UK]),
        ("/patron".into(), &[TIER_UK, TIER_UK_DESCRIPTION, TIER_UK_BENEFIT]),
        ("/topics".into(), &[ROUND_UK, RENTS_UK, RENTS_UK_DESCRIPTION, RIVER_EN]),
        (format!("/topics/{rents}"), &[RENTS_UK, RENTS_UK_DESCRIPTION]),
        (format!("/topics/{river}"), &[RIVER_EN]),
        ("/rounds".into(), &[ROUND_UK]),
        (format!("/rounds/{round}"), &[ROUND_UK, RENTS_UK, RIVER_EN]),
        ("/account".into(), &[TIER_UK, ROUND_UK, RENTS_UK]),
    ];
    for (path, wanted) in &pages {
        let r = reader.get(path).send().await;
        r.assert_status(200);
        for text in *wanted {
            r.assert_contains(text);
        }
        for text in english_texts {
            r.assert_not_contains(text);
        }
    }

    // Covered: the voter's email, the covered list and their commissioned stories in Ukrainian.
    admin
        .post_form(&format!("/admin/topics/{rents}/cover"), &[("articles", "https://news.example/flats Who owns them")])
        .send()
        .await
        .assert_status(303);
    let mail = app.deliver_mail().await;
    let to_reader: Vec<_> = mail.iter().filter(|m| m.to.iter().any(|t| t == "oksana@example.org")).collect();
    assert_eq!(to_reader.len(), 1, "{mail:?}");
    let body = to_reader[0].text_body();
    assert!(body.contains(RENTS_UK) && !body.contains(RENTS_EN), "{body}");
    for path in ["/covered", "/account/commissioned"] {
        reader.get(path).send().await.assert_status(200).assert_contains(RENTS_UK).assert_not_contains(RENTS_EN);
    }
    english.get("/covered").send().await.assert_contains(RENTS_EN).assert_not_contains(RENTS_UK);
}

#[tokio::test]
async fn bad_texts_are_refused_with_a_clear_error_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let editor = staff(&app, "editor@news.test", Role::Editor).await;
    let topic = open_topic(&editor, RENTS_EN).await;
    let path = format!("/admin/texts/topic/{topic}");
    let too_long = "я".repeat(121);
    let cases: [&[(&str, &str)]; 4] = [
        // Too long, as in the original form.
        &[("title_en", RENTS_EN), ("title_uk", &too_long)],
        // A hidden direction override.
        &[("title_en", RENTS_EN), ("title_uk", "Кому\u{202E} належать")],
        // A description with no title in its language.
        &[("title_en", RENTS_EN), ("description_uk", RENTS_UK_DESCRIPTION)],
        // The default language's title is required.
        &[("title_en", ""), ("title_uk", RENTS_UK)],
    ];
    let before = translation_count(&app).await;
    for fields in cases {
        let r = editor.post_form(&path, fields).send().await;
        r.assert_status(422).assert_contains("Nothing was saved");
    }
    assert_eq!(translation_count(&app).await, before);
    let (title,): (String,) = sqlx::query_as("select title from topics where id = $1")
        .bind(&topic)
        .fetch_one(app.db().read())
        .await
        .expect("topic");
    assert_eq!(title, RENTS_EN);
    // Tiers and the pitch are for admins only.
    editor.post_form("/admin/pitch", &[("pitch_en", PITCH_EN)]).send().await.assert_status(403);
    assert_eq!(translation_count(&app).await, before);
}

#[tokio::test]
async fn an_edit_shows_at_once_on_cached_pages() {
    let mut app = TestApp::spawn().await;
    app.allow_unclosed_rounds();
    let admin = staff(&app, "admin@news.test", Role::Admin).await;
    let rents = open_topic(&admin, RENTS_EN).await;
    open_round(&app, &admin, std::slice::from_ref(&rents), 3, false).await;
    let reader = app.new_browser().with_default_header("accept-language", "uk");
    reader.get("/topics").send().await.assert_contains(RENTS_EN);
    reader.get("/").send().await.assert_contains(RENTS_EN);
    translate_topic(&admin, &rents, (RENTS_EN, ""), (RENTS_UK, "")).await;
    reader.get("/topics").send().await.assert_contains(RENTS_UK).assert_not_contains(RENTS_EN);
    reader.get("/").send().await.assert_contains(RENTS_UK).assert_not_contains(RENTS_EN);
    admin.post_form("/admin/pitch", &[("pitch_uk", PITCH_UK)]).send().await.assert_status(303);
    reader.get("/").send().await.assert_contains(PITCH_UK);
    // The pitch was written in Ukrainian only: English readers get it in the
    // default language (none entered), so the built-in one.
    app.new_browser().get("/").send().await.assert_not_contains(PITCH_UK);
    // Staff edits are audited.
    assert!(app.count("select count(*) from audit_log where action = 'content.texts'").await >= 2);
}

/// The tiers a new newsroom starts with speak both languages: a Ukrainian
/// reader of a new install meets "Читач", not "Reader". A tier staff changed,
/// and a translation they wrote, are theirs; it happens once per database.
#[tokio::test]
async fn the_first_tiers_are_in_both_languages_until_staff_change_them() {
    use patronage::domain::Locale;
    use patronage::services::tiers::localise_seeded;

    let app = TestApp::spawn().await;
    let reader = app.new_browser();
    reader.post_form("/lang", &[("lang", "uk"), ("next", "/patron")]).send().await.assert_status(303);
    let page = reader.get("/patron").send().await;
    page.assert_status(200).assert_contains("Читач").assert_contains("Щорічна розмова з редакцією");
    page.assert_not_contains(">Reader<").assert_not_contains("A cup of coffee a month");
    app.client.get("/patron").send().await.assert_contains("Reader").assert_not_contains("Читач");

    // As a new database: staff renamed one tier, and translated another's name their way.
    let reset = [
        "delete from translations",
        "delete from settings where key = 'seeded_tiers_localised'",
        "update tiers set name = 'Friend' where slug = 'reader'",
    ];
    for sql in reset {
        sqlx::query(sql).execute(app.db().read()).await.expect("reset");
    }
    let supporter = app.tier_id("supporter").await;
    sqlx::query(
        "insert into translations (kind, item_id, locale, field, body, updated_at) values ('tier', $1, 'uk', 'name', 'Друг редакції', 0)",
    )
    .bind(&supporter)
    .execute(app.db().read())
    .await
    .expect("a translation staff wrote");
    localise_seeded(&app.ctx).await.expect("done");
    let texts = "select t.slug, r.field, r.body from translations r join tiers t on t.id = r.item_id
                 where r.locale = $1 order by t.position, r.field";
    let uk: Vec<(String, String, String)> =
        sqlx::query_as(texts).bind("uk").fetch_all(app.db().read()).await.expect("texts");
    let uk: Vec<(&str, &str, &str)> = uk.iter().map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str())).collect();
    assert_eq!(
        uk,
        [
            ("supporter", "name", "Друг редакції"),
            ("cocreator", "benefits", "Щорічна розмова з редакцією"),
            ("cocreator", "description", "Профінансуйте одну історію на рік і допоможіть вирішити, що ми розслідуємо."),
            ("cocreator", "name", "Співавтор"),
        ],
        "the renamed tier is left alone, and so is the supporter tier staff translated"
    );
    // Once per database: a translation staff delete later does not come back.
    sqlx::query("delete from translations where field = 'benefits'").execute(app.db().read()).await.expect("deleted");
    localise_seeded(&app.ctx).await.expect("done");
    assert_eq!(app.count("select count(*) from translations where field = 'benefits'").await, 0);

    // A Ukrainian newsroom: the columns in Ukrainian, English as the translation.
    sqlx::query("delete from settings where key = 'seeded_tiers_localised'")
        .execute(app.db().read())
        .await
        .expect("reset");
    sqlx::query("delete from translations").execute(app.db().read()).await.expect("reset");
    let mut ukrainian = app.ctx.clone();
    ukrainian.newsroom_language = Locale::Uk;
    localise_seeded(&ukrainian).await.expect("done");
    let (name, description): (String, String) =
        sqlx::query_as("select name, description from tiers where slug = 'cocreator'")
            .fetch_one(app.db().read())
            .await
            .expect("the tier");
    assert_eq!(name, "Співавтор");
    assert!(description.starts_with("Профінансуйте"), "{description}");
    let en: Vec<(String, String, String)> =
        sqlx::query_as(texts).bind("en").fetch_all(app.db().read()).await.expect("texts");
    assert!(en.contains(&("cocreator".into(), "name".into(), "Co-creator".into())), "{en:?}");
    let (friend,): (String,) =
        sqlx::query_as("select name from tiers where slug = 'reader'").fetch_one(app.db().read()).await.expect("it");
    assert_eq!(friend, "Friend", "staff's own name stays");
}
