//! `patronage demo-data`: a realistic, deterministic newsroom so dashboards and
//! pages have something to show, and benchmarks have data at scale. Written
//! through the same `db` layer the app uses, in batched transactions.
use super::Context;
use crate::clock::{DAY, Micros};
use crate::db::payments::NewMrrMovement;
use crate::db::{self, DbError};
use crate::domain::{
    ContentKind, Currency, DunningStep, Email, Interval, Locale, MemberId, Money, MrrMovementKind, PaymentKind,
    Subscription, SubscriptionStatus, Tier, TierPrice,
};

/// Every generated address ends with this, so the data is recognisable.
pub const DEMO_DOMAIN: &str = "demo.patronage.test";
/// A patron whose sign-in link is easy to ask for.
pub const DEMO_PATRON: &str = "patron@demo.patronage.test";

#[derive(Clone, Copy, Debug)]
pub struct Options {
    pub members: u32,
    pub months: u32,
    pub seed: u64,
}

#[derive(Debug, Default, Clone, Copy)]
pub struct Report {
    pub members: u64,
    pub topics: u64,
    pub rounds: u64,
    pub votes: u64,
    pub subscriptions: u64,
    pub ledger_rows: u64,
    pub mrr_movements: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum DemoDataError {
    #[error("demo data is already present (members @{DEMO_DOMAIN}); use a fresh database")]
    AlreadyPresent,
    #[error("the database has no active tiers with monthly prices")]
    NoTiers,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// splitmix64: small, fast, deterministic for a seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
}

const FIRST_NAMES: [&str; 16] = [
    "Olena", "Taras", "Iryna", "Mykola", "Oksana", "Andrii", "Sofiia", "Dmytro", "Anna", "James", "Maria", "Lukas",
    "Emma", "Noah", "Ines", "Piotr",
];

/// How long one billing period lasts in the simulation.
fn period(interval: Interval) -> Micros {
    match interval {
        Interval::Month => 30 * DAY,
        Interval::Year => 365 * DAY,
    }
}

struct Sim<'a> {
    ctx: &'a Context,
    rng: Rng,
    now: Micros,
    report: Report,
    /// The next churn movement is involuntary (payments failed).
    involuntary: bool,
    /// Where the member being made came from (its source id), if anywhere.
    source: Option<String>,
}

/// Where the demo readers came from: articles on the demo newsroom's site,
/// campaigns and referring sites (chosen by member number, not by the random
/// sequence, so the rest of the data stays as it was).
fn demo_source(n: u64) -> Option<crate::domain::Source> {
    const ARTICLES: [&str; 7] = [
        "https://newsroom.example/2026/03/bridge-repairs",
        "https://newsroom.example/2026/04/school-meals",
        "https://newsroom.example/2026/05/council-budget",
        "https://newsroom.example/2026/06/river-cleanup",
        "https://newsroom.example/2026/07/night-buses",
        "",
        "",
    ];
    const CAMPAIGNS: [(&str, &str, &str); 5] = [
        ("newsletter", "email", "spring-drive"),
        ("newsletter", "email", "year-end"),
        ("facebook", "social", "year-end"),
        ("", "", ""),
        ("", "", ""),
    ];
    const REFERRERS: [&str; 5] = ["google.com", "facebook.com", "t.co", "", ""];
    if n % 3 == 2 {
        return None;
    }
    let (source, medium, campaign) = CAMPAIGNS[(n / 3 % 5) as usize];
    let article = ARTICLES[(n * 7 / 3 % 7) as usize];
    let referrer = REFERRERS[(n / 2 % 5) as usize];
    let s = crate::domain::Source::from_stored(
        article.into(),
        referrer.into(),
        source.into(),
        medium.into(),
        campaign.into(),
    );
    (!s.pairs().is_empty()).then_some(s)
}

pub async fn generate(ctx: &Context, options: Options) -> Result<Report, DemoDataError> {
    let pool = ctx.db.read();
    if let Ok(email) = Email::parse(DEMO_PATRON)
        && db::members::find_by_email(pool, &email).await?.is_some()
    {
        return Err(DemoDataError::AlreadyPresent);
    }
    let prices: Vec<TierPrice> = db::tiers::list_live_prices(pool).await?;
    if prices.iter().all(|p| p.interval != Interval::Month) {
        return Err(DemoDataError::NoTiers);
    }
    let tiers = db::tiers::list_active(pool).await?;
    let mut sim = Sim {
        ctx,
        rng: Rng(options.seed),
        now: ctx.clock.now(),
        report: Report::default(),
        involuntary: false,
        source: None,
    };
    let span = i64::from(options.months.max(1)) * 30 * DAY;
    let batch = 500;
    let mut index = 0u32;
    while index < options.members {
        let mut tx = ctx.db.transaction().await?;
        for i in index..(index + batch).min(options.members) {
            sim.member(&mut tx, i, span, &prices, &tiers).await?;
        }
        tx.commit().await.map_err(DbError::from)?;
        index += batch;
    }
    sim.voting(options.months).await?;
    corrections(ctx).await?;
    Ok(sim.report)
}

/// A few readers' corrections in the staff queue, new and worked.
async fn corrections(ctx: &Context) -> Result<(), DbError> {
    use crate::db::corrections::{NewCorrection, StaffUpdate};
    use crate::domain::{CorrectionId, CorrectionStatus};
    let now = ctx.clock.now();
    // Article path, quote, note, reply address, language, status, public reply.
    type Item<'a> = (&'a str, &'a str, &'a str, Option<&'a str>, &'a str, CorrectionStatus, &'a str);
    let items: [Item<'_>; 5] = [
        (
            "stories/tram",
            "The line opened in 1912.",
            "It opened in 1911; the city archive has the order.",
            Some("reader1@demo.patronage.test"),
            "en",
            CorrectionStatus::New,
            "",
        ),
        ("stories/tram", "", "The photo caption names the wrong street.", None, "en", CorrectionStatus::New, ""),
        (
            "stories/rents",
            "Rents rose 40% in five years.",
            "Your own table says 34%.",
            Some("reader2@demo.patronage.test"),
            "en",
            CorrectionStatus::Fixed,
            "Thank you: we corrected the figure and added a note.",
        ),
        (
            "stories/river",
            "Міська рада заборонила купатися.",
            "Заборонила не рада, а санітарна служба.",
            Some("reader3@demo.patronage.test"),
            "uk",
            CorrectionStatus::Accepted,
            "",
        ),
        (
            "stories/library",
            "The library closes on Sundays.",
            "I think it is only in summer?",
            None,
            "en",
            CorrectionStatus::Rejected,
            "It closes on Sundays all year (the council's timetable).",
        ),
    ];
    let mut tx = ctx.db.transaction().await?;
    for (n, (path, quote, note, email, locale, status, reply)) in items.into_iter().enumerate() {
        let id = CorrectionId::new();
        let url = format!("https://news.example/{path}");
        let at = now - (n as i64 + 1) * DAY / 3;
        let row = NewCorrection { id, article_url: &url, quote, note, email, locale };
        db::corrections::insert(&mut *tx, &row, at).await?;
        if status != CorrectionStatus::New {
            let update =
                StaffUpdate { status, internal_note: "Checked against the archive.", public_reply: reply, by: None };
            db::corrections::update(&mut *tx, id, CorrectionStatus::New, &update, at + DAY / 12).await?;
        }
    }
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}

/// Topics a local newsroom's readers might ask for.
const TOPICS: [&str; 30] = [
    "Why do rents in the old town keep rising?",
    "Where does the money for school meals go?",
    "Is the river clean enough to swim in?",
    "Who owns the empty shops on Market Street?",
    "How long do people wait for a GP appointment?",
    "What happened to the promised cycle lanes?",
    "The night buses: who still needs them?",
    "How the city spends its culture budget",
    "Can the public library survive another cut?",
    "Why are so many teachers leaving?",
    "Air quality near the ring road",
    "Who decides where new flats are built?",
    "The true cost of the stadium renovation",
    "How safe are the playgrounds?",
    "What the council's lobbying register doesn't show",
    "Heating bills in council housing",
    "Why the tram extension is late",
    "Refugee families, two years on",
    "Where our recycling actually ends up",
    "The farmers' market and its future",
    "Care homes: staffing and inspections",
    "Police response times by district",
    "Youth clubs that closed, and what replaced them",
    "The tree-felling on Park Avenue",
    "How much do councillors claim in expenses?",
    "Flood defences after last winter",
    "Small businesses and the new parking fees",
    "Mental health services for students",
    "Who cleans the city at night",
    "The history of the old brewery site",
];

/// [`TOPICS`] in Ukrainian, in the same order.
const TOPICS_UK: [&str; 30] = [
    "Чому оренда в старому місті постійно дорожчає?",
    "Куди йдуть гроші на шкільне харчування?",
    "Чи досить чиста річка, щоб у ній купатися?",
    "Кому належать порожні крамниці на Ринковій вулиці?",
    "Скільки люди чекають на прийом до сімейного лікаря?",
    "Що сталося з обіцяними велодоріжками?",
    "Нічні автобуси: кому вони ще потрібні?",
    "Як місто витрачає бюджет на культуру",
    "Чи переживе публічна бібліотека ще одне скорочення?",
    "Чому так багато вчителів звільняються?",
    "Якість повітря біля кільцевої дороги",
    "Хто вирішує, де будувати нові квартири?",
    "Справжня ціна реконструкції стадіону",
    "Наскільки безпечні дитячі майданчики?",
    "Чого не показує реєстр лобістів міськради",
    "Рахунки за опалення в комунальному житлі",
    "Чому запізнюється продовження трамвайної лінії",
    "Родини біженців: два роки потому",
    "Куди насправді потрапляє наше сміття на переробку",
    "Фермерський ринок і його майбутнє",
    "Будинки для літніх людей: персонал і перевірки",
    "Час реагування поліції за районами",
    "Молодіжні клуби, що закрилися, і що їх замінило",
    "Вирубка дерев на Парковій алеї",
    "Скільки депутати отримують на відшкодування витрат?",
    "Захист від повеней після минулої зими",
    "Малий бізнес і нові тарифи на паркування",
    "Психологічна допомога для студентів",
    "Хто прибирає місто вночі",
    "Історія ділянки старої броварні",
];

/// The demo content's English texts that have a Ukrainian version: a Ukrainian
/// reader should meet none of them.
pub fn english_texts_with_ukrainian_versions() -> Vec<String> {
    let mut texts: Vec<String> = TOPICS.iter().map(|t| t.to_string()).collect();
    texts.extend((1..=6).map(|n| format!("Round {n}: what next?")));
    texts.extend(
        [
            "What should we cover this winter?",
            "Our reporter spent three weeks on it.",
            "Next on our list.",
            "We covered this last spring; see our archive.",
            "A reader's suggestion.",
            "A cup of coffee a month. Keeps our reporting free for everyone.",
            "Two cups a month: more reporting, free for everyone.",
            "Fund a story a year and help decide what we investigate.",
            "An annual call with the editors",
            "Co-creator",
            "Supporter",
        ]
        .map(str::to_string),
    );
    texts
}

impl Sim<'_> {
    /// `en` and `uk` as stored: the newsroom's default language in the item's own
    /// column, the other as a translation.
    fn texts<'a>(&self, en: &'a str, uk: &'a str) -> (&'a str, Locale, &'a str) {
        match self.ctx.newsroom_language {
            Locale::Uk => (uk, Locale::En, en),
            Locale::En => (en, Locale::Uk, uk),
        }
    }

    /// Stores the translation of one text of a demo item.
    async fn translate(
        &self,
        tx: &mut db::Tx,
        kind: ContentKind,
        id: &str,
        field: &str,
        en: &str,
        uk: &str,
    ) -> Result<(), DbError> {
        let (_, locale, text) = self.texts(en, uk);
        db::translations::put(&mut **tx, kind, id, locale, field, Some(text).filter(|t| !t.is_empty()), self.now).await
    }

    /// Topics in every state, closed rounds with results, and one open round the
    /// demo patron has not voted in yet (so a visitor can try voting).
    async fn voting(&mut self, months: u32) -> Result<(), DbError> {
        use crate::domain::{RoundId, TopicId, TopicStatus};
        let ctx = self.ctx;
        let patrons = db::subscriptions::active_paid_member_ids(ctx.db.read()).await?;
        let demo_patron = match Email::parse(DEMO_PATRON) {
            Ok(e) => db::members::find_by_email(ctx.db.read(), &e).await?.map(|m| m.id),
            Err(_) => None,
        };
        let voters: Vec<MemberId> = patrons.into_iter().filter(|m| Some(*m) != demo_patron).collect();
        let span = i64::from(months.max(1)) * 30 * DAY;
        let rounds = (months / 3).clamp(1, 6) as usize;
        let mut tx = ctx.db.transaction().await?;
        // Past rounds: four topics each; the winner got covered, the runner-up planned.
        let mut next_topic = 0;
        for r in 0..rounds {
            let opens = self.now - span + (r as i64 * span / rounds as i64) + 7 * DAY;
            let closes = opens + 14 * DAY;
            if closes >= self.now - DAY {
                break;
            }
            let mut ballot = Vec::new();
            for _ in 0..4 {
                let id = TopicId::new();
                self.topic(&mut tx, id, next_topic, TopicStatus::Open, opens - 3 * DAY).await?;
                next_topic += 1;
                ballot.push(id);
            }
            let round = RoundId::new();
            let (en, uk) = (format!("Round {}: what next?", r + 1), format!("Раунд {}: що далі?", r + 1));
            let (title, ..) = self.texts(&en, &uk);
            self.round(&mut tx, round, title, opens, closes, &ballot, &voters).await?;
            self.translate(&mut tx, ContentKind::Round, &round.to_string(), "title", &en, &uk).await?;
            let mark = db::rounds::mark_closed(&mut *tx, round, closes, "demo-data").await?;
            if mark {
                super::voting::closing::record_ranking(&mut tx, round)
                    .await
                    .map_err(|e| DbError::other(e.to_string()))?;
            }
            let results = db::rounds::ballot(&mut *tx, round).await?;
            for b in results {
                let Ok(id) = b.topic_id.parse::<TopicId>() else { continue };
                let (status, en, uk) = match b.final_rank {
                    Some(1) => (
                        TopicStatus::Covered,
                        "Our reporter spent three weeks on it.",
                        "Наш репортер працював над цим три тижні.",
                    ),
                    Some(2) => (TopicStatus::Planned, "Next on our list.", "Наступне в нашому списку."),
                    _ => continue,
                };
                let (note, ..) = self.texts(en, uk);
                let note = Some(note);
                self.translate(&mut tx, ContentKind::Topic, &b.topic_id, "public_note", en, uk).await?;
                let at = closes + 10 * DAY;
                db::topics::set_status(&mut *tx, id, TopicStatus::Open, status, note, None, None, at.min(self.now))
                    .await?;
                self.event(&mut tx, id, TopicStatus::Open, status, note, at.min(self.now)).await?;
                if status == TopicStatus::Covered {
                    let url = format!("https://news.example/stories/{}", b.topic_id);
                    // Articles are published in one language; the headline names no topic.
                    let headline = format!("What we found, story {}", r + 1);
                    db::topics::insert_article(&mut *tx, id, &url, Some(&headline), 0, at.min(self.now)).await?;
                    db::reports::record_topic_vote_figures(&mut *tx, &b.topic_id, at.min(self.now)).await?;
                }
            }
        }
        // The open round: six topics, two weeks, a fifth of the patrons have voted.
        let mut ballot = Vec::new();
        for _ in 0..6 {
            let id = TopicId::new();
            self.topic(&mut tx, id, next_topic, TopicStatus::Open, self.now - 7 * DAY).await?;
            next_topic += 1;
            ballot.push(id);
        }
        let round = RoundId::new();
        let turnout: Vec<MemberId> = voters.iter().copied().filter(|_| self.rng.chance(0.2)).collect();
        let (en, uk) = ("What should we cover this winter?", "Про що нам написати цієї зими?");
        let (title, ..) = self.texts(en, uk);
        self.round(&mut tx, round, title, self.now - 5 * DAY, self.now + 9 * DAY, &ballot, &turnout).await?;
        self.translate(&mut tx, ContentKind::Round, &round.to_string(), "title", en, uk).await?;
        // Suggestions waiting for moderation, and one declined.
        for (n, status) in
            [TopicStatus::Suggested, TopicStatus::Suggested, TopicStatus::Suggested, TopicStatus::Declined]
                .into_iter()
                .enumerate()
        {
            let id = TopicId::new();
            let at = self.now - (n as i64 + 1) * DAY;
            let suggester = voters.get(self.rng.below(voters.len() as u64) as usize).copied();
            let (en, uk) = (TOPICS[next_topic % TOPICS.len()], TOPICS_UK[next_topic % TOPICS_UK.len()]);
            let (description_en, description_uk) = ("A reader's suggestion.", "Пропозиція читача.");
            let topic = db::topics::NewTopic {
                id,
                title: self.texts(en, uk).0,
                description: self.texts(description_en, description_uk).0,
                link: None,
                status: TopicStatus::Suggested,
                suggested_by: suggester,
            };
            next_topic += 1;
            db::topics::insert(&mut *tx, &topic, at).await?;
            self.translate(&mut tx, ContentKind::Topic, &id.to_string(), "title", en, uk).await?;
            self.translate(&mut tx, ContentKind::Topic, &id.to_string(), "description", description_en, description_uk)
                .await?;
            self.report.topics += 1;
            let event = db::topics::TopicEvent {
                topic_id: id,
                from: None,
                to: TopicStatus::Suggested,
                staff_id: None,
                member_id: suggester,
                note: None,
            };
            db::topics::insert_event(&mut *tx, &event, at).await?;
            if let Some(m) = suggester {
                db::topics::follow(&mut *tx, id, m, at).await?;
            }
            if status == TopicStatus::Declined {
                let (en, uk) = (
                    "We covered this last spring; see our archive.",
                    "Ми писали про це минулої весни; дивіться наш архів.",
                );
                let note = Some(self.texts(en, uk).0);
                self.translate(&mut tx, ContentKind::Topic, &id.to_string(), "public_note", en, uk).await?;
                db::topics::set_status(&mut *tx, id, TopicStatus::Suggested, status, note, None, None, at).await?;
                self.event(&mut tx, id, TopicStatus::Suggested, status, note, at).await?;
            }
        }
        tx.changed(db::Change::Board);
        tx.changed(db::Change::Texts);
        tx.changed(db::Change::Catalog);
        tx.commit().await.map_err(DbError::from)?;
        Ok(())
    }

    async fn topic(
        &mut self,
        tx: &mut db::Tx,
        id: crate::domain::TopicId,
        index: usize,
        status: crate::domain::TopicStatus,
        at: Micros,
    ) -> Result<(), DbError> {
        let (en, uk) = (TOPICS[index % TOPICS.len()], TOPICS_UK[index % TOPICS_UK.len()]);
        let (title, ..) = self.texts(en, uk);
        let topic = db::topics::NewTopic { id, title, description: "", link: None, status, suggested_by: None };
        db::topics::insert(&mut **tx, &topic, at).await?;
        self.translate(tx, ContentKind::Topic, &id.to_string(), "title", en, uk).await?;
        let event = db::topics::TopicEvent {
            topic_id: id,
            from: None,
            to: status,
            staff_id: None,
            member_id: None,
            note: None,
        };
        db::topics::insert_event(&mut **tx, &event, at).await?;
        self.report.topics += 1;
        Ok(())
    }

    async fn event(
        &mut self,
        tx: &mut db::Tx,
        id: crate::domain::TopicId,
        from: crate::domain::TopicStatus,
        to: crate::domain::TopicStatus,
        note: Option<&str>,
        at: Micros,
    ) -> Result<(), DbError> {
        let event =
            db::topics::TopicEvent { topic_id: id, from: Some(from), to, staff_id: None, member_id: None, note };
        db::topics::insert_event(&mut **tx, &event, at).await
    }

    /// A round with its ballot and votes: each voter uses one to three of their
    /// three votes, favouring the first topics so results are not flat.
    #[allow(clippy::too_many_arguments)]
    async fn round(
        &mut self,
        tx: &mut db::Tx,
        id: crate::domain::RoundId,
        title: &str,
        opens: Micros,
        closes: Micros,
        ballot: &[crate::domain::TopicId],
        voters: &[MemberId],
    ) -> Result<(), DbError> {
        let round = crate::domain::Round {
            id,
            title: title.to_string(),
            description: String::new(),
            opens_at: opens,
            closes_at: closes,
            max_votes: 3,
            live_tallies: false,
            closed_at: None,
            voters: None,
        };
        db::rounds::insert(&mut **tx, &round, None, opens - DAY).await?;
        for (position, topic) in ballot.iter().enumerate() {
            db::rounds::add_topic(&mut **tx, id, *topic, position as i64).await?;
        }
        self.report.rounds += 1;
        let window = (closes.min(self.now) - opens).max(1) as u64;
        for member in voters {
            if !self.rng.chance(0.3) && closes < self.now {
                continue;
            }
            for _ in 0..=self.rng.below(3) {
                // Squaring the draw favours the first topics on the ballot.
                let pick = (self.rng.unit().powi(2) * ballot.len() as f64) as usize;
                let vote = db::rounds::NewVote {
                    round_id: id,
                    topic_id: ballot[pick.min(ballot.len() - 1)],
                    member_id: *member,
                    weight: 1,
                };
                let at = opens + self.rng.below(window) as i64;
                if db::rounds::insert_vote(&mut **tx, &vote, at).await?
                    && db::rounds::use_ballot(tx, id, *member, 3).await?
                {
                    self.report.votes += 1;
                }
            }
        }
        Ok(())
    }
}

impl Sim<'_> {
    async fn member(
        &mut self,
        tx: &mut db::Tx,
        i: u32,
        span: Micros,
        prices: &[TierPrice],
        tiers: &[Tier],
    ) -> Result<(), DbError> {
        let id = MemberId::new();
        let email = if i == 0 { DEMO_PATRON.to_string() } else { format!("reader{i}@{DEMO_DOMAIN}") };
        let Ok(email) = Email::parse(&email) else { return Ok(()) };
        // The demo patron has been one for a while, so every page has history to show.
        let created =
            if i == 0 { self.now - span.max(90 * DAY) } else { self.now - (self.rng.below(span as u64) as i64) };
        let name = FIRST_NAMES[self.rng.below(FIRST_NAMES.len() as u64) as usize];
        let locale = if i > 0 && self.rng.chance(0.3) { Locale::Uk } else { Locale::En };
        db::members::insert_if_absent(&mut **tx, id, &email, Some(name), locale, created).await?;
        self.source = match demo_source(u64::from(i)) {
            Some(source) => {
                let source_id = db::sources::upsert(&mut **tx, &source, created).await?;
                db::sources::set_member_first(&mut **tx, id, &source_id).await?;
                Some(source_id)
            }
            None => None,
        };
        db::sources::add_member(tx, self.source.as_deref(), created).await?;
        self.report.members += 1;
        // One in three becomes a patron (the demo patron always does).
        if i == 0 || self.rng.chance(0.33) {
            let price = self.pick_price(prices, tiers);
            let start = created + (self.rng.below(14) as i64) * DAY;
            db::members::link_customer(&mut **tx, id, &format!("demo_cus_{id}")).await?;
            self.patronage(tx, id, price, prices, start, i == 0, 0).await?;
        }
        if self.rng.chance(0.08) {
            for _ in 0..=self.rng.below(2) {
                let at = created + (self.rng.below((self.now - created).max(1) as u64) as i64);
                let currency = if self.rng.chance(0.7) { Currency::EUR } else { Currency::USD };
                let amount = Money::new([500, 1000, 2500, 5000][self.rng.below(4) as usize], currency);
                self.ledger(tx, PaymentKind::Donation, Some(id), None, amount, at, "Donation").await?;
            }
        }
        Ok(())
    }

    fn pick_price<'p>(&mut self, prices: &'p [TierPrice], tiers: &[Tier]) -> &'p TierPrice {
        let interval = if self.rng.chance(0.15) { Interval::Year } else { Interval::Month };
        let currency = if self.rng.chance(0.7) { Currency::EUR } else { Currency::USD };
        // Cheaper tiers are more popular: weight by position.
        let r = self.rng.unit();
        let tier_index = if r < 0.6 {
            0
        } else if r < 0.9 {
            1
        } else {
            2
        };
        let tier = tiers.get(tier_index.min(tiers.len().saturating_sub(1)));
        prices
            .iter()
            .find(|p| Some(p.tier_id) == tier.map(|t| t.id) && p.interval == interval && p.amount.currency == currency)
            .or_else(|| prices.iter().find(|p| p.interval == Interval::Month))
            .unwrap_or(&prices[0])
    }

    /// One subscription's life: invoices each period, failed payments, plan
    /// changes, refunds, churn, and sometimes a comeback.
    #[allow(clippy::too_many_arguments)]
    fn patronage<'s>(
        &'s mut self,
        tx: &'s mut db::Tx,
        member: MemberId,
        first_price: &'s TierPrice,
        prices: &'s [TierPrice],
        start: Micros,
        keep_active: bool,
        comebacks: u32,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), DbError>> + Send + 's>> {
        Box::pin(async move {
            if start >= self.now {
                return Ok(());
            }
            let sub_id = uuid::Uuid::now_v7().to_string();
            let provider_id = format!("demo_sub_{sub_id}");
            let mut price = first_price;
            let mut amount = price.amount;
            let interval = price.interval;
            let mut t = start;
            let mut mrr = interval.monthly(amount.minor);
            let ever = comebacks > 0;
            let first_kind = if ever { MrrMovementKind::Reactivation } else { MrrMovementKind::New };
            let mut row = Subscription {
                id: sub_id.clone(),
                provider_id: provider_id.clone(),
                member_id: Some(member),
                customer_id: format!("demo_cus_{member}"),
                tier_id: Some(price.tier_id),
                price_id: Some(price.id.clone()),
                status: SubscriptionStatus::Active,
                interval,
                amount_minor: amount.minor,
                currency: amount.currency,
                current_period_end: None,
                cancel_at_period_end: false,
                started_at: Some(start),
                canceled_at: None,
                ended_at: None,
                past_due_since: None,
                first_paid_at: Some(start),
                mrr_minor: mrr,
                pause: None,
                offer_id: None,
            };
            db::subscriptions::upsert(&mut **tx, &row, start).await?;
            if let Some(source) = &self.source {
                db::sources::set_subscription_source(&mut **tx, &provider_id, source).await?;
            }
            let one = db::sources::SourceAmounts { new_patrons: 1, ..Default::default() };
            let (source, currency) = (self.source.as_deref(), amount.currency);
            db::sources::add_to_month(tx, source, PaymentKind::Subscription, currency, start, one).await?;
            self.report.subscriptions += 1;
            self.movement(tx, &sub_id, member, first_kind, mrr, mrr, amount, start).await?;
            let monthly_churn: f64 = if interval == Interval::Year { 0.01 } else { 0.03 };
            // Ended because its payments failed (involuntary churn), not cancelled.
            let mut unpaid = false;
            loop {
                // The invoice for the period starting at t.
                if self.rng.chance(0.02) && !keep_active {
                    // A failed renewal: half recover a week later, the rest churn.
                    let currency = amount.currency;
                    db::reports::insert_dunning_event(
                        &mut **tx,
                        &sub_id,
                        member,
                        DunningStep::Failed,
                        mrr,
                        currency,
                        t,
                    )
                    .await?;
                    if self.rng.chance(0.5) {
                        let back = t + 7 * DAY;
                        let step = DunningStep::Recovered;
                        db::reports::insert_dunning_event(&mut **tx, &sub_id, member, step, mrr, currency, back)
                            .await?;
                        self.ledger(
                            tx,
                            PaymentKind::Subscription,
                            Some(member),
                            Some(&sub_id),
                            amount,
                            t + 7 * DAY,
                            "Membership",
                        )
                        .await?;
                    } else {
                        row.status = SubscriptionStatus::Canceled;
                        row.canceled_at = Some(t + 21 * DAY);
                        row.ended_at = Some(t + 21 * DAY);
                        let lost = t + 21 * DAY;
                        let step = DunningStep::Lost;
                        db::reports::insert_dunning_event(&mut **tx, &sub_id, member, step, mrr, currency, lost)
                            .await?;
                        unpaid = true;
                        break;
                    }
                } else {
                    let paid = self
                        .ledger(tx, PaymentKind::Subscription, Some(member), Some(&sub_id), amount, t, "Membership")
                        .await?;
                    if self.rng.chance(0.005) {
                        let refund = Money::new(-amount.minor, amount.currency);
                        self.ledger(
                            tx,
                            PaymentKind::Refund,
                            Some(member),
                            Some(&sub_id),
                            refund,
                            t + 2 * DAY,
                            &format!("Refund of {paid}"),
                        )
                        .await?;
                    }
                }
                let next = t + period(interval);
                if next >= self.now {
                    row.current_period_end = Some(next);
                    break;
                }
                let months = (period(interval) / (30 * DAY)) as f64;
                if !keep_active && self.rng.chance(1.0 - (1.0 - monthly_churn).powf(months)) {
                    row.status = SubscriptionStatus::Canceled;
                    row.canceled_at = Some(next - DAY);
                    row.ended_at = Some(next);
                    break;
                }
                if self.rng.chance(0.02 * months.min(3.0)) {
                    let options: Vec<&TierPrice> = prices
                        .iter()
                        .filter(|p| p.interval == interval && p.amount.currency == amount.currency && p.id != price.id)
                        .collect();
                    if !options.is_empty() {
                        price = options[self.rng.below(options.len() as u64) as usize];
                        let before = mrr;
                        amount = price.amount;
                        mrr = interval.monthly(amount.minor);
                        let kind = if mrr > before { MrrMovementKind::Expansion } else { MrrMovementKind::Contraction };
                        self.movement(tx, &sub_id, member, kind, mrr - before, mrr, amount, next).await?;
                        row.tier_id = Some(price.tier_id);
                        row.price_id = Some(price.id.clone());
                        row.amount_minor = amount.minor;
                    }
                }
                t = next;
            }
            if row.status == SubscriptionStatus::Canceled {
                let ended = row.ended_at.unwrap_or(t);
                self.involuntary = unpaid;
                self.movement(tx, &sub_id, member, MrrMovementKind::Churn, -mrr, 0, amount, ended).await?;
                self.involuntary = false;
                row.mrr_minor = 0;
            } else {
                row.mrr_minor = mrr;
            }
            db::subscriptions::upsert(&mut **tx, &row, self.now).await?;
            if row.status == SubscriptionStatus::Canceled && comebacks < 2 && self.rng.chance(0.2) {
                let back = row.ended_at.unwrap_or(t) + (60 + self.rng.below(120) as i64) * DAY;
                self.patronage(tx, member, first_price, prices, back, false, comebacks + 1).await?;
            }
            Ok(())
        })
    }

    #[allow(clippy::too_many_arguments)]
    async fn movement(
        &mut self,
        tx: &mut db::Tx,
        sub: &str,
        member: MemberId,
        kind: MrrMovementKind,
        delta: i64,
        after: i64,
        amount: Money,
        at: Micros,
    ) -> Result<(), DbError> {
        let m = NewMrrMovement {
            subscription_id: sub.to_string(),
            member_id: Some(member),
            kind,
            delta_minor: delta,
            mrr_after_minor: after,
            currency: amount.currency,
            involuntary: self.involuntary,
            occurred_at: at,
        };
        db::payments::insert_mrr_movement(&mut **tx, &m, at).await?;
        self.report.mrr_movements += 1;
        Ok(())
    }

    /// One ledger row; returns its provider id.
    #[allow(clippy::too_many_arguments)]
    async fn ledger(
        &mut self,
        tx: &mut db::Tx,
        kind: PaymentKind,
        member: Option<MemberId>,
        sub: Option<&str>,
        amount: Money,
        at: Micros,
        description: &str,
    ) -> Result<String, DbError> {
        let provider_id = format!("demo_{}_{}", kind.as_str(), uuid::Uuid::now_v7().simple());
        let at = at.min(self.now);
        let mut p = super::billing::simulated_payment(
            &self.ctx.card_fees,
            kind,
            provider_id.clone(),
            member,
            sub.map(str::to_string),
            amount,
            None,
            description,
            at,
        );
        p.source_id = self.source.clone();
        db::payments::insert(&mut **tx, &p, at).await?;
        self.report.ledger_rows += 1;
        Ok(provider_id)
    }
}

/// For load testing (`bench/run`): signs in up to `count` members who may vote
/// (an active subscription whose first payment cleared, in member-id order) and
/// returns their session cookie values (`patronage_session`). The sessions are
/// ordinary member sessions (30 days idle, 90 days absolute), opened through the
/// sessions service exactly as confirming a sign-in link does; fewer are returned
/// when fewer members may vote.
pub async fn sign_in_voters(ctx: &Context, count: u32) -> Result<Vec<String>, DbError> {
    let mut voters = db::subscriptions::active_paid_member_ids(ctx.db.read()).await?;
    voters.truncate(count as usize);
    let mut cookies = Vec::with_capacity(voters.len());
    for chunk in voters.chunks(500) {
        let mut tx = ctx.db.transaction().await?;
        for member in chunk {
            db::members::touch_sign_in(&mut *tx, *member, ctx.clock.now()).await?;
            let owner = db::sessions::Owner::Member(*member);
            cookies.push(super::sessions::create(ctx, &mut tx, owner, Some("patronage demo-data")).await?);
        }
        tx.commit().await.map_err(DbError::from)?;
    }
    Ok(cookies)
}

/// For benchmarks at scale: adds one-time gifts (in euros and dollars, now and
/// then in yen; from members and from anonymous donors, over the last `months`)
/// until the ledger holds at least `rows` rows, through the same ledger code as
/// real payments (so the report aggregates are kept as they would be). Returns
/// how many were added.
pub async fn top_up_ledger(ctx: &Context, rows: u64, months: u32, seed: u64) -> Result<u64, DemoDataError> {
    let pool = ctx.db.read();
    let have = db::payments::count(pool).await?;
    let missing = rows.saturating_sub(u64::try_from(have).unwrap_or(0));
    if missing == 0 {
        return Ok(0);
    }
    let members = db::members::all_ids(pool).await?;
    let mut rng = Rng(seed ^ 0x5EED_6147);
    let now = ctx.clock.now();
    let span = i64::from(months.max(1)) * 30 * DAY;
    let mut added = 0u64;
    let mut sources: Vec<Option<String>> = Vec::new();
    {
        let mut tx = ctx.db.transaction().await?;
        for n in 0..30 {
            sources.push(match demo_source(n) {
                Some(s) => Some(db::sources::upsert(&mut *tx, &s, now).await?),
                None => None,
            });
        }
        tx.commit().await.map_err(DbError::from)?;
    }
    while added < missing {
        let mut tx = ctx.db.transaction().await?;
        for _ in 0..missing.saturating_sub(added).min(2000) {
            let member =
                (!members.is_empty() && rng.chance(0.7)).then(|| members[rng.below(members.len() as u64) as usize]);
            let amount = match rng.below(20) {
                0 => Money::new([500, 1000, 3000][rng.below(3) as usize], Currency::JPY),
                1..=5 => Money::new([500, 1000, 2500, 5000][rng.below(4) as usize], Currency::USD),
                _ => Money::new([500, 1000, 2500, 5000, 10000][rng.below(5) as usize], Currency::EUR),
            };
            let at = now - 1 - rng.below(span as u64) as i64;
            let id = format!("demo_gift_{}", uuid::Uuid::now_v7().simple());
            let mut p = super::billing::simulated_payment(
                &ctx.card_fees,
                PaymentKind::Donation,
                id.clone(),
                member,
                None,
                amount,
                Some(format!("ch_{id}")),
                "One-time gift",
                at,
            );
            p.source_id = sources[(added % 30) as usize].clone();
            db::payments::insert(&mut *tx, &p, now).await?;
            added += 1;
        }
        tx.commit().await.map_err(DbError::from)?;
    }
    Ok(added)
}
