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
use crate::clock::{Micros, format_date, format_utc};
use crate::db;
use crate::db::members::Member;
use crate::db::rounds::{BallotEntry, Round};
use crate::domain::{ArticleUrl, Locale, MemberId, RoundId, TopicId, TopicStatus, TopicText};
use crate::services::cache::{Board, MemberVotes};
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

/// `upcoming`, `open`, `counting` (past its close, not yet counted) or `closed`.
pub fn round_state(round: &Round, now: Micros) -> &'static str {
    match round {
        r if r.closed_at.is_some() => "closed",
        r if now < r.opens_at => "upcoming",
        r if now >= r.closes_at => "counting",
        _ => "open",
    }
}

/// The topics a member voted for in a round (none for a visitor).
async fn voted_in(state: &AppState, round: RoundId, member: Option<MemberId>) -> Result<HashSet<String>, AppError> {
    Ok(match member {
        Some(m) => {
            db::rounds::member_votes(state.ctx.db.read(), round, m).await?.iter().map(ToString::to_string).collect()
        }
        None => HashSet::new(),
    })
}

/// A round with its ballot, the topics the viewer voted for (`mine`) and (when
/// public, or for staff) the tallies.
pub async fn round_view(
    state: &AppState,
    round: &Round,
    ballot: &[BallotEntry],
    mine: &HashSet<String>,
    show_tallies: bool,
) -> Result<RoundView, AppError> {
    let pool = state.ctx.db.read();
    let now = state.ctx.clock.now();
    let tallies_public = show_tallies || round.tallies_public(now);
    let tallies: HashMap<String, (i64, i64)> = if round.closed_at.is_some() {
        ballot.iter().map(|b| (b.topic_id.clone(), (b.final_weight.unwrap_or(0), b.final_votes.unwrap_or(0)))).collect()
    } else if tallies_public {
        db::rounds::tallies(pool, round.id).await?.into_iter().map(|t| (t.topic_id, (t.weight, t.votes))).collect()
    } else {
        HashMap::new()
    };
    let total: i64 = tallies.values().map(|(w, _)| *w).sum();
    let mut entries: Vec<BallotView> = ballot
        .iter()
        .cloned()
        .map(|b| {
            let (weight, votes) = tallies.get(&b.topic_id).copied().unwrap_or((0, 0));
            BallotView {
                voted: mine.contains(&b.topic_id),
                percent: if total > 0 { weight * 100 / total } else { 0 },
                id: b.topic_id,
                title: b.title,
                description: b.description,
                link: b.link,
                status: b.status,
                weight,
                votes,
                rank: b.final_rank,
            }
        })
        .collect();
    if round.closed_at.is_some() {
        entries.sort_by_key(|e| e.rank.unwrap_or(i64::MAX));
    } else if tallies_public && round.opens_at <= now {
        entries.sort_by(|a, b| b.weight.cmp(&a.weight).then(b.votes.cmp(&a.votes)));
    }
    let used = mine.len() as i64;
    Ok(RoundView {
        id: round.id.to_string(),
        title: round.title.clone(),
        description: round.description.clone(),
        opens_at: format_utc(round.opens_at),
        closes_at: format_utc(round.closes_at),
        state: round_state(round, now),
        max_votes: round.max_votes,
        used,
        remaining: (round.max_votes - used).max(0),
        tallies_public,
        voters: round.voters,
        entries,
    })
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
        let on_show: Vec<RoundId> = board.rounds.iter().filter(|(r, _)| r.opens_at <= now).map(|(r, _)| r.id).collect();
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
    let mut rounds = Vec::new();
    let mut on_ballot = HashSet::new();
    let nothing = HashSet::new();
    for (round, ballot) in &board.rounds {
        on_ballot.extend(ballot.iter().map(|e| e.topic_id.clone()));
        // Upcoming rounds are announced on their own page until they open.
        if round.opens_at <= now {
            let mine = viewer.votes.iter().find(|(id, _)| *id == round.id).map_or(&nothing, |(_, topics)| topics);
            rounds.push(round_view(state, round, ballot, mine, false).await?);
        }
    }
    let waiting: Vec<TopicLine> = board
        .open_topics
        .iter()
        .filter(|t| !on_ballot.contains(&t.id.to_string()))
        .map(|t| TopicLine {
            id: t.id.to_string(),
            title: t.title.clone(),
            status: "open".into(),
            note: None,
            date: None,
        })
        .collect();
    let planned: Vec<TopicLine> = board
        .planned_topics
        .iter()
        .map(|t| TopicLine {
            id: t.id.to_string(),
            title: t.title.clone(),
            status: "planned".into(),
            note: t.public_note.clone(),
            date: t.expected_at.map(format_date),
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
    let pool = state.ctx.db.read();
    let topic = db::topics::find(pool, parse_id::<TopicId>(&id)?).await?.ok_or(AppError::NotFound)?;
    let member = page.member.as_ref().map(|m| m.id);
    if let (TopicStatus::Merged, Some(into)) = (topic.status, topic.merged_into) {
        return Ok(Redirect::to(&format!("/topics/{into}")).into_response());
    }
    // A suggestion waiting for moderation is visible to the one who made it.
    if !topic.status.is_public() && (topic.suggested_by.is_none() || topic.suggested_by != member) {
        return Err(AppError::NotFound);
    }
    let following = match member {
        Some(m) => db::topics::is_following(pool, topic.id, m).await?,
        None => false,
    };
    let history: Vec<HistoryLine> = db::topics::history(pool, topic.id)
        .await?
        .into_iter()
        .map(|h| HistoryLine { status: h.to_status, note: h.note, date: format_utc(h.created_at) })
        .collect();
    let round = db::rounds::unclosed_round_of(pool, topic.id).await?.map(|r| r.to_string());
    page.insert("topic_id", &topic.id.to_string())
        .insert("title", &topic.title)
        .insert("description", &topic.description)
        .insert("link", &topic.link)
        .insert("status", topic.status.as_str())
        .insert("suggester", &topic.suggester_public_name)
        .insert("suggested", &query.contains_key("suggested"))
        .insert("created", &format_date(topic.created_at))
        .insert("expected", &topic.expected_at.map(format_date))
        .insert("articles", &db::topics::articles(pool, topic.id).await?)
        .insert("history", &history)
        .insert("following", &following)
        .insert("round_id", &round);
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
    Form(form): Form<VoteForm>,
) -> Result<Response, AppError> {
    let (round, topic) = ballot_choice(&id, &form)?;
    voting::vote(&state.ctx, &member, round, topic).await?;
    Ok(Redirect::to(&back_to(&form, round)).into_response())
}

#[tracing::instrument(skip_all, fields(member.id = %member.id))]
async fn withdraw(
    State(state): State<AppState>,
    SignedInMember(member): SignedInMember,
    Path(id): Path<String>,
    Form(form): Form<VoteForm>,
) -> Result<Response, AppError> {
    let (round, topic) = ballot_choice(&id, &form)?;
    voting::withdraw(&state.ctx, member.id, round, topic).await?;
    Ok(Redirect::to(&back_to(&form, round)).into_response())
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
    let rounds: Vec<RoundLine> = db::rounds::list_recent(state.ctx.db.read(), 100)
        .await?
        .into_iter()
        .map(|r| RoundLine {
            id: r.id.to_string(),
            state: round_state(&r, now),
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
    mut page: PageContext,
) -> Result<Response, AppError> {
    let pool = state.ctx.db.read();
    let round = db::rounds::find(pool, parse_id::<RoundId>(&id)?).await?.ok_or(AppError::NotFound)?;
    let ballot = db::rounds::ballot(pool, round.id).await?;
    let mine = voted_in(&state, round.id, page.member.as_ref().map(|m| m.id)).await?;
    let view = round_view(&state, &round, &ballot, &mine, false).await?;
    page.insert("round", &view);
    Ok(page.render(&state, "topics/round.html")?.into_response())
}

#[derive(Serialize)]
struct CoveredView {
    id: String,
    title: String,
    note: Option<String>,
    date: String,
    articles: Vec<String>,
}

async fn show_covered(State(state): State<AppState>, mut page: PageContext) -> Result<Response, AppError> {
    let pool = state.ctx.db.read();
    let mut articles: HashMap<TopicId, Vec<String>> = HashMap::new();
    for (topic, url) in db::topics::articles_of_covered(pool, 100).await? {
        articles.entry(topic).or_default().push(url);
    }
    let covered: Vec<CoveredView> = db::topics::list_by_status(pool, TopicStatus::Covered, true, 100)
        .await?
        .into_iter()
        .map(|t| CoveredView {
            articles: articles.remove(&t.id).unwrap_or_default(),
            id: t.id.to_string(),
            title: t.title,
            note: t.public_note,
            date: format_date(t.covered_at.unwrap_or(t.updated_at)),
        })
        .collect();
    page.insert("covered", &covered);
    Ok(page.render(&state, "topics/covered.html")?.into_response())
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
    articles: Vec<String>,
}

async fn show_commissioned(
    State(state): State<AppState>,
    SignedInMember(member): SignedInMember,
    mut page: PageContext,
) -> Result<Response, AppError> {
    let pool = state.ctx.db.read();
    let mut topics = Vec::new();
    for c in db::topics::voted_by(pool, member.id).await? {
        let articles = if c.status == "covered" {
            db::topics::articles(pool, parse_id::<TopicId>(&c.id)?).await?
        } else {
            Vec::new()
        };
        topics.push(CommissionedView {
            date: c.covered_at.or(c.expected_at).map(format_date),
            voted: format_date(c.last_voted_at),
            id: c.id,
            title: c.title,
            status: c.status,
            note: c.public_note,
            articles,
        });
    }
    page.insert("topics", &topics);
    Ok(page.render(&state, "topics/commissioned.html")?.into_response())
}
