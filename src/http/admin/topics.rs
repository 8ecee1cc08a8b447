//! Staff pages for topics and rounds: the moderation queue, decisions (approve,
//! decline, merge, plan, cover), creating rounds, results with voters and their
//! CSV export, and the voting settings.
use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use super::{Authorized, ManageTopics, ViewVotes, staff_page};
use crate::clock::{DAY, format_date, format_form_datetime, format_utc, parse_form_date, parse_form_datetime};
use crate::domain::round::Voter;
use crate::domain::{ArticleUrl, Eligibility, RoundId, TopicId, TopicStatus, TopicText, VotingSettings, WeightMode};
use crate::http::csv;
use crate::http::error::AppError;
use crate::http::extract::{ClientIp, FieldErrors, Form, PageContext};
use crate::http::state::AppState;
use crate::http::topics::{parse_id, round_view};
use crate::services::audit::Actor;
use crate::services::voting::{self, Decision, RoundInput, Suggestion, VotingError, pages};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/topics", get(list_topics).post(create_topic))
        .route("/admin/topics/{id}", get(show_topic))
        .route("/admin/topics/{id}/{action}", post(decide))
        .route("/admin/rounds", get(list_rounds).post(create_round))
        .route("/admin/rounds/{id}", get(show_round))
        .route("/admin/rounds/{id}/votes.csv", get(export_votes))
        .route("/admin/voting", get(show_settings).post(save_settings))
}

/// Staff see text exactly as typed (escaped by the template), English messages.
fn message(state: &AppState, key: &str) -> String {
    state.ctx.views.i18n().t(crate::domain::Locale::En, key, &[])
}

#[derive(Serialize)]
struct TopicRow {
    id: String,
    title: String,
    status: &'static str,
    suggester: String,
    created: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TopicForm {
    title: String,
    description: String,
    link: String,
}

async fn topics_page(
    state: &AppState,
    staff: &Authorized<ManageTopics>,
    status: TopicStatus,
    form: &TopicForm,
    errors: &FieldErrors,
) -> Result<Html<String>, AppError> {
    let rows: Vec<TopicRow> = pages::moderation_list(&state.ctx, status)
        .await?
        .into_iter()
        .map(|(t, email)| TopicRow {
            suggester: match (t.suggested_by, email) {
                (Some(_), Some(email)) => email,
                (Some(_), None) => "(deleted account)".into(),
                (None, _) => "staff".into(),
            },
            id: t.id.to_string(),
            title: t.title,
            status: t.status.as_str(),
            created: format_utc(t.created_at),
        })
        .collect();
    let mut page = staff_page(state, Some(&staff.user), "/admin/topics");
    let statuses: Vec<&str> = TopicStatus::ALL.iter().map(|s| s.as_str()).collect();
    page.insert("rows", &rows)
        .insert("status", status.as_str())
        .insert("statuses", &statuses)
        .insert("form_title", &form.title)
        .insert("form_description", &form.description)
        .insert("form_link", &form.link)
        .insert("errors", &errors.0);
    page.render(state, "admin/topics.html")
}

async fn list_topics(
    State(state): State<AppState>,
    staff: Authorized<ManageTopics>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let status = query.get("status").and_then(|s| s.parse().ok()).unwrap_or(TopicStatus::Suggested);
    Ok(topics_page(&state, &staff, status, &TopicForm::default(), &FieldErrors::default()).await?.into_response())
}

/// Parses the suggestion fields shared by readers' and staff forms.
fn parse_topic(state: &AppState, form: &TopicForm, errors: &mut FieldErrors) -> Option<Suggestion> {
    let title = TopicText::title(&form.title).map_err(|e| errors.add("title", message(state, e.message_key()))).ok();
    let description = TopicText::description(&form.description)
        .map_err(|e| errors.add("description", message(state, e.message_key())))
        .ok();
    let link =
        ArticleUrl::parse_optional(&form.link).map_err(|e| errors.add("link", message(state, e.message_key()))).ok();
    Some(Suggestion { title: title?, description: description?, link: link? })
}

async fn create_topic(
    State(state): State<AppState>,
    staff: Authorized<ManageTopics>,
    ClientIp(ip): ClientIp,
    Form(form): Form<TopicForm>,
) -> Result<Response, AppError> {
    let mut errors = FieldErrors::default();
    let Some(suggestion) = parse_topic(&state, &form, &mut errors) else {
        let html = topics_page(&state, &staff, TopicStatus::Open, &form, &errors).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
    };
    let id = voting::create_open(&state.ctx, &Actor::staff(&staff.user, &ip), &suggestion).await?;
    Ok(Redirect::to(&format!("/admin/topics/{id}")).into_response())
}

#[derive(Serialize)]
struct HistoryRow {
    date: String,
    status: String,
    note: Option<String>,
    by: Option<String>,
}

#[derive(Serialize)]
struct Choice {
    id: String,
    title: String,
}

#[derive(Serialize)]
struct VoterView {
    topic: String,
    member_id: String,
    name: String,
    public_name: String,
    email: String,
    weight: i64,
    date: String,
}

fn voter_view(v: Voter) -> VoterView {
    VoterView {
        topic: v.topic_title,
        member_id: v.member_id.to_string(),
        name: v.name.unwrap_or_default(),
        public_name: v.public_name.unwrap_or_default(),
        email: v.email.unwrap_or_else(|| "(deleted account)".into()),
        weight: v.weight,
        date: format_utc(v.created_at),
    }
}

async fn topic_page(
    state: &AppState,
    staff: &Authorized<ManageTopics>,
    id: TopicId,
    form: &DecisionForm,
    errors: &FieldErrors,
) -> Result<Html<String>, AppError> {
    let pages::StaffTopic { topic, suggester, history, articles, merge_targets, round, voters } =
        pages::staff_topic(&state.ctx, id).await?;
    let history: Vec<HistoryRow> = history
        .into_iter()
        .map(|h| HistoryRow { date: format_utc(h.created_at), status: h.to_status, note: h.note, by: h.staff_email })
        .collect();
    let merge_targets: Vec<Choice> =
        merge_targets.into_iter().map(|t| Choice { id: t.id.to_string(), title: t.title }).collect();
    let voters: Vec<VoterView> = voters.into_iter().map(voter_view).collect();
    let moves: Vec<&str> =
        TopicStatus::ALL.iter().filter(|s| topic.status.can_become(**s)).map(|s| s.as_str()).collect();
    let mut page = staff_page(state, Some(&staff.user), "/admin/topics");
    page.insert("topic_id", &id.to_string())
        .insert("title", &topic.title)
        .insert("description", &topic.description)
        .insert("link", &topic.link)
        .insert("status", topic.status.as_str())
        .insert("note", &topic.public_note)
        .insert("expected", &topic.expected_at.map(format_date))
        .insert("suggester_email", &suggester.as_ref().and_then(|m| m.email.as_ref().map(|e| e.to_string())))
        .insert("suggester_name", &suggester.as_ref().and_then(|m| m.name.clone()))
        .insert("suggester_public_name", &suggester.as_ref().and_then(|m| m.public_name.clone()))
        .insert("history", &history)
        .insert("articles", &articles)
        .insert("merge_targets", &merge_targets)
        .insert("moves", &moves)
        .insert("round_id", &round.map(|r| r.to_string()))
        .insert("voters", &voters)
        .insert("form_note", &form.note)
        .insert("form_reason", &form.reason)
        .insert("form_expected", &form.expected)
        .insert("form_articles", &form.articles)
        .insert("errors", &errors.0);
    page.render(state, "admin/topic.html")
}

async fn show_topic(
    State(state): State<AppState>,
    staff: Authorized<ManageTopics>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    Ok(topic_page(&state, &staff, id, &DecisionForm::default(), &FieldErrors::default()).await?.into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DecisionForm {
    note: String,
    reason: String,
    into: String,
    expected: String,
    /// One article address per line.
    articles: String,
}

/// Most articles one "covered" can add.
const MAX_ARTICLES: usize = 10;

fn parse_decision(state: &AppState, action: &str, form: &DecisionForm, errors: &mut FieldErrors) -> Option<Decision> {
    let note = TopicText::note(&form.note).map_err(|e| errors.add("note", message(state, e.message_key()))).ok();
    let decision = match action {
        "approve" => Decision::Approve { note: note? },
        "decline" => {
            let reason = match TopicText::parse(&form.reason, TopicText::NOTE_MAX, true, true) {
                Ok(r) => r.unwrap_or_default(),
                Err(e) => {
                    errors.add("reason", message(state, e.message_key()));
                    return None;
                }
            };
            Decision::Decline { reason }
        }
        "merge" => {
            let Ok(into) = form.into.parse::<TopicId>() else {
                errors.add("into", "Choose the topic to merge into.".into());
                return None;
            };
            Decision::Merge { into, note: note? }
        }
        "plan" => {
            let expected_at = if form.expected.trim().is_empty() {
                None
            } else if let Some(t) = parse_form_date(&form.expected) {
                Some(t)
            } else {
                errors.add("expected", "Use a date like 2026-12-31.".into());
                return None;
            };
            Decision::Plan { expected_at, note: note? }
        }
        "cover" => {
            let lines: Vec<&str> = form.articles.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
            if lines.is_empty() || lines.len() > MAX_ARTICLES {
                errors.add("articles", format!("Give 1 to {MAX_ARTICLES} article addresses, one per line."));
                return None;
            }
            // Each line: the article's address, then (after a space) its headline.
            let mut articles = Vec::new();
            for line in lines {
                let (url, headline) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
                let url = ArticleUrl::parse(url);
                let headline = TopicText::parse(headline, TopicText::TITLE_MAX, false, false);
                match (url, headline) {
                    (Ok(url), Ok(headline)) => articles.push((url, headline)),
                    (Err(e), _) | (_, Err(e)) => {
                        errors.add("articles", format!("{line}: {}", message(state, e.message_key())));
                        return None;
                    }
                }
            }
            Decision::Cover { articles, note: note? }
        }
        _ => return None,
    };
    Some(decision)
}

#[tracing::instrument(skip_all, fields(staff.id = %staff.user.id, topic.action = %action))]
async fn decide(
    State(state): State<AppState>,
    staff: Authorized<ManageTopics>,
    ClientIp(ip): ClientIp,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<DecisionForm>,
) -> Result<Response, AppError> {
    let id: TopicId = parse_id(&id)?;
    if !matches!(action.as_str(), "approve" | "decline" | "merge" | "plan" | "cover") {
        return Err(AppError::NotFound);
    }
    let mut errors = FieldErrors::default();
    let Some(decision) = parse_decision(&state, &action, &form, &mut errors) else {
        let html = topic_page(&state, &staff, id, &form, &errors).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
    };
    match voting::decide(&state.ctx, &Actor::staff(&staff.user, &ip), id, decision).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin/topics/{id}")).into_response()),
        Err(VotingError::InvalidMove { from, to }) => {
            errors.add("action", format!("A {from} topic cannot become {to} (it may have changed meanwhile)."));
            let html = topic_page(&state, &staff, id, &form, &errors).await?;
            Ok((StatusCode::CONFLICT, html).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

// --- rounds ---

#[derive(Serialize)]
struct RoundRow {
    id: String,
    title: String,
    opens_at: String,
    closes_at: String,
    state: &'static str,
    voters: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RoundForm {
    title: String,
    description: String,
    opens_at: String,
    closes_at: String,
    max_votes: String,
    live_tallies: String,
    #[serde(flatten)]
    rest: HashMap<String, String>,
}

impl RoundForm {
    /// Checked topics arrive as `topic_<id>=yes` (repeated keys do not survive
    /// `serde_urlencoded` into a struct).
    fn topics(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .rest
            .iter()
            .filter(|(k, v)| k.starts_with("topic_") && v.as_str() == "yes")
            .map(|(k, _)| k.trim_start_matches("topic_").to_string())
            .collect();
        ids.sort();
        ids
    }
}

async fn rounds_page(
    state: &AppState,
    page: &mut PageContext,
    can_manage: bool,
    form: &RoundForm,
    errors: &FieldErrors,
) -> Result<Html<String>, AppError> {
    let now = state.ctx.clock.now();
    let rounds: Vec<RoundRow> = pages::rounds(&state.ctx, 200)
        .await?
        .into_iter()
        .map(|r| RoundRow {
            id: r.id.to_string(),
            state: r.phase(now).as_str(),
            title: r.title,
            opens_at: format_utc(r.opens_at),
            closes_at: format_utc(r.closes_at),
            voters: r.voters,
        })
        .collect();
    let checked = form.topics();
    let choices: Vec<serde_json::Value> = pages::new_round_choices(&state.ctx)
        .await?
        .into_iter()
        .map(|t| {
            let id = t.id.to_string();
            serde_json::json!({ "checked": checked.contains(&id), "id": id, "title": t.title })
        })
        .collect();
    let defaults = form.title.is_empty() && errors.is_empty();
    page.insert("rounds", &rounds)
        .insert("can_manage", &can_manage)
        .insert("choices", &choices)
        .insert("form_title", &form.title)
        .insert("form_description", &form.description)
        .insert("form_opens_at", &if defaults { format_form_datetime(now) } else { form.opens_at.clone() })
        .insert("form_closes_at", &if defaults { format_form_datetime(now + 14 * DAY) } else { form.closes_at.clone() })
        .insert("form_max_votes", &if defaults { "3".to_string() } else { form.max_votes.clone() })
        .insert("form_live_tallies", &(form.live_tallies == "yes"))
        .insert("errors", &errors.0);
    page.render(state, "admin/rounds.html")
}

async fn list_rounds(State(state): State<AppState>, staff: Authorized<ViewVotes>) -> Result<Response, AppError> {
    let mut page = staff_page(&state, Some(&staff.user), "/admin/rounds");
    let can_manage = staff.user.role.allows(crate::domain::Permission::ManageTopics);
    Ok(rounds_page(&state, &mut page, can_manage, &RoundForm::default(), &FieldErrors::default())
        .await?
        .into_response())
}

fn parse_round(state: &AppState, form: &RoundForm, errors: &mut FieldErrors) -> Option<RoundInput> {
    let title = TopicText::title(&form.title).map_err(|e| errors.add("title", message(state, e.message_key()))).ok();
    let description = TopicText::description(&form.description)
        .map_err(|e| errors.add("description", message(state, e.message_key())))
        .ok();
    let opens_at = parse_form_datetime(&form.opens_at);
    if opens_at.is_none() {
        errors.add("opens_at", "Use a date and time like 2026-12-01T09:00 (UTC).".into());
    }
    let closes_at = parse_form_datetime(&form.closes_at);
    if closes_at.is_none() {
        errors.add("closes_at", "Use a date and time like 2026-12-15T18:00 (UTC).".into());
    }
    let max_votes = form.max_votes.trim().parse::<i64>().ok().filter(|n| (1..=voting::MAX_VOTES_LIMIT).contains(n));
    if max_votes.is_none() {
        errors.add("max_votes", message(state, "error-round-max-votes"));
    }
    let mut topics = Vec::new();
    for id in form.topics() {
        match id.parse::<TopicId>() {
            Ok(t) => topics.push(t),
            Err(_) => errors.add("topics", "An unknown topic was chosen.".into()),
        }
    }
    if topics.is_empty() {
        errors.add("topics", message(state, "error-round-no-topics"));
    }
    if !errors.is_empty() {
        return None;
    }
    Some(RoundInput {
        title: title?,
        description: description?,
        opens_at: opens_at?,
        closes_at: closes_at?,
        max_votes: max_votes?,
        live_tallies: form.live_tallies == "yes",
        topics,
    })
}

async fn create_round(
    State(state): State<AppState>,
    staff: Authorized<ManageTopics>,
    ClientIp(ip): ClientIp,
    Form(form): Form<RoundForm>,
) -> Result<Response, AppError> {
    let mut errors = FieldErrors::default();
    let result = match parse_round(&state, &form, &mut errors) {
        Some(input) => voting::create_round(&state.ctx, &Actor::staff(&staff.user, &ip), &input).await.map(Some),
        None => Ok(None),
    };
    match result {
        Ok(Some(id)) => return Ok(Redirect::to(&format!("/admin/rounds/{id}")).into_response()),
        Ok(None) => {}
        Err(VotingError::InvalidRound(key)) => errors.add("round", message(&state, key)),
        Err(VotingError::NotFound) => errors.add("topics", "A chosen topic no longer exists.".into()),
        Err(e) => return Err(e.into()),
    }
    let mut page = staff_page(&state, Some(&staff.user), "/admin/rounds");
    let html = rounds_page(&state, &mut page, true, &form, &errors).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
}

async fn show_round(
    State(state): State<AppState>,
    staff: Authorized<ViewVotes>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let pages::StaffRound { standing, voters, turnout } =
        pages::staff_round(&state.ctx, parse_id::<RoundId>(&id)?).await?;
    let view = round_view(standing, &Default::default());
    let voters: Vec<VoterView> = voters.into_iter().map(voter_view).collect();
    let mut page = staff_page(&state, Some(&staff.user), "/admin/rounds");
    page.insert("round", &view).insert("voters", &voters).insert("turnout", &turnout);
    Ok(page.render(&state, "admin/round.html")?.into_response())
}

async fn export_votes(
    State(state): State<AppState>,
    staff: Authorized<ViewVotes>,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let actor = Actor::staff(&staff.user, &ip);
    let (round, voters) = voting::export_votes(&state.ctx, &actor, parse_id::<RoundId>(&id)?).await?;
    let rows: Vec<Vec<String>> = voters
        .into_iter()
        .map(|v| {
            vec![
                crate::clock::format_rfc3339(v.created_at),
                v.topic_id.to_string(),
                v.topic_title,
                v.member_id.to_string(),
                v.name.unwrap_or_default(),
                v.public_name.unwrap_or_default(),
                v.email.unwrap_or_default(),
                v.weight.to_string(),
            ]
        })
        .collect();
    let body =
        csv::to_csv(&["voted_at", "topic_id", "topic", "member_id", "name", "public_name", "email", "weight"], &rows);
    Ok(csv::attachment(body, &format!("votes-{}.csv", round.id)))
}

// --- settings ---

#[derive(Deserialize, Default)]
#[serde(default)]
struct SettingsForm {
    eligibility: String,
    weight: String,
    tenure_cap_months: String,
}

async fn settings_page(
    state: &AppState,
    staff: &Authorized<ManageTopics>,
    s: &VotingSettings,
    errors: &FieldErrors,
    saved: bool,
) -> Result<Html<String>, AppError> {
    let mut page = staff_page(state, Some(&staff.user), "/admin/voting");
    page.insert("eligibility", s.eligibility.as_str())
        .insert("weight", s.weight.as_str())
        .insert("tenure_cap_months", &s.tenure_cap_months)
        .insert("tenure_cap_max", &VotingSettings::TENURE_CAP_MAX)
        .insert("saved", &saved)
        .insert("errors", &errors.0);
    page.render(state, "admin/voting.html")
}

async fn show_settings(
    State(state): State<AppState>,
    staff: Authorized<ManageTopics>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let s = voting::settings(&state.ctx).await?;
    let saved = query.contains_key("saved");
    Ok(settings_page(&state, &staff, &s, &FieldErrors::default(), saved).await?.into_response())
}

async fn save_settings(
    State(state): State<AppState>,
    staff: Authorized<ManageTopics>,
    ClientIp(ip): ClientIp,
    Form(form): Form<SettingsForm>,
) -> Result<Response, AppError> {
    let mut errors = FieldErrors::default();
    let eligibility = form.eligibility.parse::<Eligibility>().ok();
    if eligibility.is_none() {
        errors.add("eligibility", "Choose who may vote.".into());
    }
    let weight = form.weight.parse::<WeightMode>().ok();
    if weight.is_none() {
        errors.add("weight", "Choose how votes are weighted.".into());
    }
    let cap =
        form.tenure_cap_months.trim().parse::<i64>().ok().filter(|n| (1..=VotingSettings::TENURE_CAP_MAX).contains(n));
    if cap.is_none() {
        errors.add("tenure_cap_months", format!("Use a number from 1 to {}.", VotingSettings::TENURE_CAP_MAX));
    }
    let (Some(eligibility), Some(weight), Some(tenure_cap_months)) = (eligibility, weight, cap) else {
        let current = voting::settings(&state.ctx).await?;
        let html = settings_page(&state, &staff, &current, &errors, false).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
    };
    let settings = VotingSettings { eligibility, weight, tenure_cap_months };
    voting::save_settings(&state.ctx, &Actor::staff(&staff.user, &ip), &settings).await?;
    Ok(Redirect::to("/admin/voting?saved=1").into_response())
}
