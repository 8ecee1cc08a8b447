//! Readers and topics: the current round and its ballot, voting, suggesting,
//! following, results, "You asked, we covered" and "Stories I helped commission".
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use super::error::AppError;
use super::extract::{FieldErrors, Form, PageContext, SignedInMember};
use super::page_cache::PageKey;
use super::state::AppState;
use crate::clock::{format_date, format_utc};
use crate::domain::{ArticleUrl, Locale, Member, RoundId, TopicId, TopicText};
use crate::services::cache::{Board, MemberVotes};
use crate::services::content;
use crate::services::voting::pages::{self, RoundStanding, TopicLookup};
use crate::services::voting::{self, Suggestion};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/topics", get(show_topics))
        .route("/topics/suggest", get(show_suggest).post(suggest))
        .route("/topics/{id}", get(show_topic))
        .route("/topics/{id}/follow", post(follow))
        .route("/rounds", get(list_rounds))
        .route("/rounds/{id}", get(show_round))
        .route("/rounds/{id}/vote", post(vote))
        .route("/rounds/{id}/withdraw", post(withdraw))
        .route("/covered", get(show_covered))
        .route("/account/commissioned", get(show_commissioned))
}

pub fn parse_id<T: std::str::FromStr>(raw: &str) -> Result<T, AppError> {
    raw.parse().map_err(|_| AppError::NotFound)
}

#[derive(Serialize)]
pub struct BallotView {
    pub id: String,
    pub title: String,
    pub description: String,
    pub link: Option<String>,
    pub status: String,
    pub voted: bool,
    pub weight: i64,
    pub votes: i64,
    /// Share of the weighted total, in whole percent.
    pub percent: i64,
    pub rank: Option<i64>,
}

#[derive(Serialize)]
pub struct RoundView {
    pub id: String,
    pub title: String,
    pub description: String,
    pub opens_at: String,
    pub closes_at: String,
    pub state: &'static str,
    pub max_votes: i64,
    pub used: i64,
    pub remaining: i64,
    pub tallies_public: bool,
    pub voters: Option<i64>,
    pub entries: Vec<BallotView>,
}

/// A round as the viewer may see it, with the topics they voted for (`mine`).
pub fn round_view(standing: RoundStanding, mine: &HashSet<String>) -> RoundView {
    let RoundStanding { round, phase, tallies_shown, entries } = standing;
    let total: i64 = entries.iter().map(|e| e.weight).sum();
    let entries = entries
        .into_iter()
        .map(|s| BallotView {
            voted: mine.contains(&s.entry.topic_id),
            percent: if total > 0 { s.weight * 100 / total } else { 0 },
            id: s.entry.topic_id,
            title: s.entry.title,
            description: s.entry.description,
            link: s.entry.link,
            status: s.entry.status,
            weight: s.weight,
            votes: s.votes,
            rank: s.rank,
        })
        .collect();
    let used = mine.len() as i64;
    RoundView {
        id: round.id.to_string(),
        title: round.title,
        description: round.description,
        opens_at: format_utc(round.opens_at),
        closes_at: format_utc(round.closes_at),
        state: phase.as_str(),
        max_votes: round.max_votes,
        used,
        remaining: (round.max_votes - used).max(0),
        tallies_public: tallies_shown,
        voters: round.voters,
        entries,
    }
}

#[derive(Serialize)]
struct TopicLine {
    id: String,
    title: String,
    status: String,
    note: Option<String>,
    date: Option<String>,
}

/// `?updated`: where a vote or withdrawal sends the member, so their own votes
/// are read afresh whichever instance serves the page.
#[derive(Deserialize, Default)]
struct TopicsQuery {
    updated: Option<String>,
}

async fn show_topics(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    Query(query): Query<TopicsQuery>,
    mut page: PageContext,
) -> Result<Response, AppError> {
    let generation = state.ctx.caches.generation();
    let locale = page.locale;
    let board = voting::board(&state.ctx).await?;
    let viewer = Viewer::of(&state, &board, page.member.as_deref(), query.updated.is_some()).await?;
    // The page depends on the member only through `viewer`: members who voted
    // alike (and visitors) share one rendering.
    let cached = state
        .pages
        .get_or_render(&state.ctx.clock, generation, viewer.key(locale), || {
            render_topics(&state, &mut page, &board, &viewer)
        })
        .await?;
    Ok(cached.respond(&headers))
}

/// What the topics page shows differently to one member: why they may not vote
/// (if they may not) and what they voted for in each round on show.
#[derive(Default)]
struct Viewer {
    signed_in: bool,
    refusal: Option<&'static str>,
    votes: Arc<MemberVotes>,
}

impl Viewer {
    async fn of(state: &AppState, board: &Board, member: Option<&Member>, fresh: bool) -> Result<Self, AppError> {
        let Some(member) = member else { return Ok(Self::default()) };
        let now = state.ctx.clock.now();
        let on_show: Vec<RoundId> =
            board.rounds.iter().filter(|(r, _)| r.phase(now).on_show()).map(|(r, _)| r.id).collect();
        let ballot = voting::ballot(&state.ctx, member, &on_show, fresh).await?;
        // Only members who would be refused are told why, before they press a button.
        let refusal = ballot.refusal.map(|r| r.message_key());
        Ok(Self { signed_in: true, refusal, votes: ballot.votes })
    }

    /// Distinguishes every page this viewer may be shown; visitors share one.
    fn key(&self, lang: Locale) -> PageKey {
        PageKey::topics(lang, self.signed_in.then_some((self.refusal, &*self.votes)))
    }
}

/// The topics page for `viewer`.
async fn render_topics(
    state: &AppState,
    page: &mut PageContext,
    board: &Board,
    viewer: &Viewer,
) -> Result<String, AppError> {
    let now = state.ctx.clock.now();
    let on_ballot: HashSet<&str> =
        board.rounds.iter().flat_map(|(_, b)| b.iter().map(|e| e.topic_id.as_str())).collect();
    // Upcoming rounds are announced on their own page until they open.
    let on_show: Vec<_> =
        board.rounds.iter().filter(|(r, _)| r.phase(now).on_show()).map(|(r, b)| (r, b.as_slice())).collect();
    let nothing = HashSet::new();
    let texts = content::localiser(&state.ctx, page.locale).await?;
    let rounds: Vec<RoundView> = pages::standings(&state.ctx, &on_show, false)
        .await?
        .into_iter()
        .map(|mut standing| {
            texts.standing(&mut standing);
            let id = standing.round.id;
            let mine = viewer.votes.iter().find(|(r, _)| *r == id).map_or(&nothing, |(_, topics)| topics);
            round_view(standing, mine)
        })
        .collect();
    let waiting: Vec<TopicLine> = board
        .open_topics
        .iter()
        .filter(|t| !on_ballot.contains(t.id.to_string().as_str()))
        .map(|t| {
            let mut title = t.title.clone();
            texts.topic_texts(&t.id.to_string(), &mut title, None);
            TopicLine { id: t.id.to_string(), title, status: "open".into(), note: None, date: None }
        })
        .collect();
    let planned: Vec<TopicLine> = board
        .planned_topics
        .iter()
        .map(|t| {
            let mut t = t.clone();
            texts.topic(&mut t);
            TopicLine {
                id: t.id.to_string(),
                title: t.title,
                status: "planned".into(),
                note: t.public_note,
                date: t.expected_at.map(format_date),
            }
        })
        .collect();
    let refusal = viewer.refusal.map(|k| page.t(state, k));
    page.insert("rounds", &rounds).insert("refusal", &refusal).insert("waiting", &waiting).insert("planned", &planned);
    Ok(page.render(state, "topics/topics.html")?.0)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SuggestForm {
    title: String,
    description: String,
    link: String,
}

fn render_suggest(
    state: &AppState,
    page: &mut PageContext,
    form: &SuggestForm,
    errors: &FieldErrors,
) -> Result<axum::response::Html<String>, AppError> {
    page.insert("form_title", &form.title)
        .insert("form_description", &form.description)
        .insert("form_link", &form.link)
        .insert("title_max", &TopicText::TITLE_MAX)
        .insert("description_max", &TopicText::DESCRIPTION_MAX)
        .insert("errors", &errors.0);
    page.render(state, "topics/suggest.html")
}

async fn show_suggest(
    State(state): State<AppState>,
    SignedInMember(_): SignedInMember,
    mut page: PageContext,
) -> Result<Response, AppError> {
    Ok(render_suggest(&state, &mut page, &SuggestForm::default(), &FieldErrors::default())?.into_response())
}

#[tracing::instrument(skip_all, fields(member.id = %member.id))]
async fn suggest(
    State(state): State<AppState>,
    SignedInMember(member): SignedInMember,
    mut page: PageContext,
    Form(form): Form<SuggestForm>,
) -> Result<Response, AppError> {
    let mut errors = FieldErrors::default();
    let title = TopicText::title(&form.title).map_err(|e| errors.add("title", page.t(&state, e.message_key()))).ok();
    let description = TopicText::description(&form.description)
        .map_err(|e| errors.add("description", page.t(&state, e.message_key())))
        .ok();
    let link =
        ArticleUrl::parse_optional(&form.link).map_err(|e| errors.add("link", page.t(&state, e.message_key()))).ok();
    let (Some(title), Some(description), Some(link)) = (title, description, link) else {
        let html = render_suggest(&state, &mut page, &form, &errors)?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
    };
    let id = voting::suggest(&state.ctx, member.id, &Suggestion { title, description, link }).await?;
    Ok(Redirect::to(&format!("/topics/{id}?suggested=1")).into_response())
}

#[derive(Serialize)]
struct HistoryLine {
    status: String,
    note: Option<String>,
    date: String,
}

async fn show_topic(
    State(state): State<AppState>,
    Path(id): Path<String>,
    axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>,
    mut page: PageContext,
) -> Result<Response, AppError> {
    let member = page.member.as_ref().map(|m| m.id);
    let found = pages::topic(&state.ctx, parse_id::<TopicId>(&id)?, member).await?;
    let t = match found {
        TopicLookup::MergedInto(into) => return Ok(Redirect::to(&format!("/topics/{into}")).into_response()),
        TopicLookup::Page(t) => t,
    };
    let texts = content::localiser(&state.ctx, page.locale).await?;
    let default_note = t.topic.public_note.clone();
    let mut topic = t.topic.clone();
    texts.topic(&mut topic);
    let topic = &topic;
    // The history repeats the public note as it was written with each move; the
    // current one reads in the reader's language like the rest of the topic.
    let note_of = |note: &Option<String>| {
        if note.is_some() && *note == default_note { topic.public_note.clone() } else { note.clone() }
    };
    let history: Vec<HistoryLine> = t
        .history
        .iter()
        .map(|h| HistoryLine { status: h.to_status.clone(), note: note_of(&h.note), date: format_utc(h.created_at) })
        .collect();
    page.insert("topic_id", &topic.id.to_string())
        .insert("title", &topic.title)
        .insert("description", &topic.description)
        .insert("link", &topic.link)
        .insert("status", topic.status.as_str())
        .insert("suggester", &topic.suggester_public_name)
        .insert("suggested", &query.contains_key("suggested"))
        .insert("created", &format_date(topic.created_at))
        .insert("expected", &topic.expected_at.map(format_date))
        .insert("articles", &t.articles)
        .insert("history", &history)
        .insert("following", &t.following)
        .insert("round_id", &t.round.map(|r| r.to_string()));
    // Its funding goal, while open: how far gifts toward it have come.
    if let Some(goal) = crate::services::goals::progress(&state.ctx, topic.id).await?.filter(|g| g.is_open())
        && topic.status.is_public()
        && topic.status != crate::domain::TopicStatus::Declined
    {
        page.insert("goal", &super::patron::GoalView::of(page.locale, &goal, &topic.title));
    }
    Ok(page.render(&state, "topics/topic.html")?.into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct FollowForm {
    on: String,
}

async fn follow(
    State(state): State<AppState>,
    SignedInMember(member): SignedInMember,
    Path(id): Path<String>,
    Form(form): Form<FollowForm>,
) -> Result<Response, AppError> {
    let topic = parse_id::<TopicId>(&id)?;
    voting::follow(&state.ctx, member.id, topic, form.on == "yes").await?;
    Ok(Redirect::to(&format!("/topics/{topic}")).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct VoteForm {
    topic: String,
    back: String,
}

/// Where to go after voting: the page the form was on, if it is one of ours.
fn back_to(form: &VoteForm, round: RoundId) -> String {
    if form.back == format!("/rounds/{round}") { form.back.clone() } else { "/topics?updated".to_string() }
}

/// The round (from the path) and topic (from the form) a vote names.
fn ballot_choice(id: &str, form: &VoteForm) -> Result<(RoundId, TopicId), AppError> {
    let round = parse_id::<RoundId>(id)?;
    let topic = form.topic.parse().map_err(|_| AppError::BadRequest("error-bad-request"))?;
    Ok((round, topic))
}

#[tracing::instrument(skip_all, fields(member.id = %member.id))]
async fn vote(
    State(state): State<AppState>,
    SignedInMember(member): SignedInMember,
    Path(id): Path<String>,
    page: PageContext,
    Form(form): Form<VoteForm>,
) -> Result<Response, AppError> {
    let (round, topic) = ballot_choice(&id, &form)?;
    let done = voting::vote(&state.ctx, &member, round, topic).await;
    after_ballot_action(&state, page, &member, round, &form, done).await
}

#[tracing::instrument(skip_all, fields(member.id = %member.id))]
async fn withdraw(
    State(state): State<AppState>,
    SignedInMember(member): SignedInMember,
    Path(id): Path<String>,
    page: PageContext,
    Form(form): Form<VoteForm>,
) -> Result<Response, AppError> {
    let (round, topic) = ballot_choice(&id, &form)?;
    let done = voting::withdraw(&state.ctx, member.id, round, topic).await;
    after_ballot_action(&state, page, &member, round, &form, done).await
}

/// Back to the ballot the form was on: after a vote or withdrawal, by redirect;
/// when it was refused (round full or closed, not a patron…), the same ballot
/// shown again with why, in the reader's language, and the refusal's status.
/// Nothing was stored.
async fn after_ballot_action(
    state: &AppState,
    mut page: PageContext,
    member: &Member,
    round: RoundId,
    form: &VoteForm,
    done: Result<(), voting::VotingError>,
) -> Result<Response, AppError> {
    let refusal = match done {
        Ok(()) => return Ok(Redirect::to(&back_to(form, round)).into_response()),
        Err(voting::VotingError::Refused(refusal)) => refusal,
        Err(e) => return Err(e.into()),
    };
    let status = AppError::from(voting::VotingError::Refused(refusal)).status();
    let message = page.t(state, refusal.message_key());
    page.insert("refused", &serde_json::json!({ "round": round.to_string(), "message": message }));
    let html = if back_to(form, round).starts_with("/rounds/") {
        render_round(state, &mut page, round).await?
    } else {
        let board = voting::board(&state.ctx).await?;
        let viewer = Viewer::of(state, &board, Some(member), true).await?;
        render_topics(state, &mut page, &board, &viewer).await?
    };
    Ok((status, axum::response::Html(html)).into_response())
}

#[derive(Serialize)]
struct RoundLine {
    id: String,
    title: String,
    state: &'static str,
    opens_at: String,
    closes_at: String,
    voters: Option<i64>,
}

async fn list_rounds(State(state): State<AppState>, mut page: PageContext) -> Result<Response, AppError> {
    let now = state.ctx.clock.now();
    let texts = content::localiser(&state.ctx, page.locale).await?;
    let rounds: Vec<RoundLine> = pages::rounds(&state.ctx, 100)
        .await?
        .into_iter()
        .map(|mut r| {
            texts.round(&mut r);
            r
        })
        .map(|r| RoundLine {
            id: r.id.to_string(),
            state: r.phase(now).as_str(),
            title: r.title,
            opens_at: format_utc(r.opens_at),
            closes_at: format_utc(r.closes_at),
            voters: r.voters,
        })
        .collect();
    page.insert("rounds", &rounds);
    Ok(page.render(&state, "topics/rounds.html")?.into_response())
}

async fn show_round(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    mut page: PageContext,
) -> Result<Response, AppError> {
    let round = parse_id::<RoundId>(&id)?;
    if page.member.is_some() {
        // A member's copy shows their own votes.
        let html = render_round(&state, &mut page, round).await?;
        return Ok(axum::response::Html(html).into_response());
    }
    // Visitors share one copy per language (its live tallies may be a few seconds old).
    let key = PageKey::Shared { path: format!("/rounds/{round}"), lang: page.locale, signed_in: false };
    let generation = state.ctx.caches.generation();
    let cached =
        state.pages.get_or_render(&state.ctx.clock, generation, key, || render_round(&state, &mut page, round)).await?;
    Ok(cached.respond(&headers))
}

async fn render_round(state: &AppState, page: &mut PageContext, id: RoundId) -> Result<String, AppError> {
    let (round, ballot) = pages::round(&state.ctx, id).await?;
    let mine = pages::voted_in(&state.ctx, round.id, page.member.as_ref().map(|m| m.id)).await?;
    let mut standing = pages::standings(&state.ctx, &[(&round, &ballot)], false).await?.remove(0);
    content::localiser(&state.ctx, page.locale).await?.standing(&mut standing);
    page.insert("round", &round_view(standing, &mine));
    Ok(page.render_string(state, "topics/round.html")?)
}

#[derive(Serialize)]
struct CoveredView {
    id: String,
    title: String,
    note: Option<String>,
    date: String,
    articles: Vec<crate::domain::Article>,
}

/// "You asked, we covered": the same for every reader of a language (kept a few seconds).
async fn show_covered(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    mut page: PageContext,
) -> Result<Response, AppError> {
    let key = PageKey::Shared { path: "/covered".into(), lang: page.locale, signed_in: page.member.is_some() };
    let generation = state.ctx.caches.generation();
    let cached =
        state.pages.get_or_render(&state.ctx.clock, generation, key, || render_covered(&state, &mut page)).await?;
    Ok(cached.respond(&headers))
}

async fn render_covered(state: &AppState, page: &mut PageContext) -> Result<String, AppError> {
    let texts = content::localiser(&state.ctx, page.locale).await?;
    let covered: Vec<CoveredView> = pages::covered(&state.ctx, 100)
        .await?
        .into_iter()
        .map(|(mut t, articles)| {
            texts.topic(&mut t);
            (t, articles)
        })
        .map(|(t, articles)| CoveredView {
            articles,
            id: t.id.to_string(),
            title: t.title,
            note: t.public_note,
            date: format_date(t.covered_at.unwrap_or(t.updated_at)),
        })
        .collect();
    page.insert("covered", &covered);
    Ok(page.render_string(state, "topics/covered.html")?)
}

#[derive(Serialize)]
struct CommissionedView {
    id: String,
    title: String,
    status: String,
    note: Option<String>,
    /// Covered on, or expected on (planned).
    date: Option<String>,
    voted: String,
    articles: Vec<crate::domain::Article>,
}

/// "Stories I helped commission": kept per member a few seconds, a new copy at
/// once after their own vote through this instance.
async fn show_commissioned(
    State(state): State<AppState>,
    SignedInMember(member): SignedInMember,
    headers: axum::http::HeaderMap,
    mut page: PageContext,
) -> Result<Response, AppError> {
    let key = PageKey::Commissioned {
        member: member.id,
        lang: page.locale,
        version: state.ctx.caches.member_version(member.id),
    };
    let generation = state.ctx.caches.generation();
    let cached = state
        .member_pages
        .get_or_render(&state.ctx.clock, generation, key, || render_commissioned(&state, &mut page, &member))
        .await?;
    Ok(cached.respond(&headers))
}

async fn render_commissioned(state: &AppState, page: &mut PageContext, member: &Member) -> Result<String, AppError> {
    let texts = content::localiser(&state.ctx, page.locale).await?;
    let topics: Vec<CommissionedView> = pages::commissioned(&state.ctx, member.id)
        .await?
        .into_iter()
        .map(|(mut c, articles)| {
            texts.topic_texts(&c.id, &mut c.title, None);
            texts.topic_note(&c.id, &mut c.public_note);
            (c, articles)
        })
        .map(|(c, articles)| CommissionedView {
            date: c.covered_at.or(c.expected_at).map(format_date),
            voted: format_date(c.last_voted_at),
            id: c.id,
            title: c.title,
            status: c.status,
            note: c.public_note,
            articles,
        })
        .collect();
    page.insert("topics", &topics);
    Ok(page.render_string(state, "topics/commissioned.html")?)
}
