//! The transparency page's staff side: topics' funding goals and each month's
//! "what your support paid for" note (editors and admins write them; everyone
//! with the dashboard reads), and whether the public page shows amounts (admins).
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use super::{Authorized, ManagePayments, ManageTransparency, ViewDashboard, staff_page};
use crate::domain::{GoalAmount, Locale, Month, MonthNote, Permission, StaffUser, TopicId};
use crate::http::error::AppError;
use crate::http::extract::{ClientIp, FieldErrors, Form};
use crate::http::patron::GoalView;
use crate::http::state::AppState;
use crate::services::audit::Actor;
use crate::services::goals::{self, GoalServiceError};
use crate::services::transparency::{self, NoteError};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/transparency", get(show_transparency))
        .route("/admin/transparency/goals", post(set_goal))
        .route("/admin/transparency/goals/{topic}/close", post(close_goal))
        .route("/admin/transparency/notes/{month}", post(save_note))
        .route("/admin/transparency/amounts", post(set_amounts))
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
struct GoalForm {
    topic: String,
    amount: String,
    currency: String,
}

#[derive(Serialize)]
struct GoalRow {
    view: GoalView,
    open: bool,
    reached_at: Option<String>,
}

#[derive(Serialize)]
struct NoteRow {
    month: String,
    label: String,
    note: String,
}

#[derive(Serialize)]
struct TopicChoice {
    id: String,
    title: String,
}

async fn transparency_page(
    state: &AppState,
    user: &StaffUser,
    form: &GoalForm,
    errors: &FieldErrors,
) -> Result<Html<String>, AppError> {
    let mut page = staff_page(state, Some(user), "/admin/transparency");
    let goals: Vec<GoalRow> = goals::all_goals(&state.ctx)
        .await?
        .iter()
        .map(|(g, title)| GoalRow {
            view: GoalView::of(Locale::En, g, title),
            open: g.is_open(),
            reached_at: g.reached_at.map(crate::clock::format_utc),
        })
        .collect();
    let notes: Vec<NoteRow> = transparency::notes(&state.ctx)
        .await?
        .into_iter()
        .map(|(m, note)| NoteRow { month: m.key(), label: m.label(), note: note.unwrap_or_default() })
        .collect();
    let topics: Vec<TopicChoice> = goals::fundable_topics(&state.ctx)
        .await?
        .into_iter()
        .map(|(id, title)| TopicChoice { id: id.to_string(), title })
        .collect();
    let currencies: Vec<String> = goals::currencies().iter().map(|c| c.code()).collect();
    page.insert("goals", &goals)
        .insert("notes", &notes)
        .insert("topics", &topics)
        .insert("currencies", &currencies)
        .insert("form", &serde_json::json!({ "topic": form.topic, "amount": form.amount, "currency": form.currency }))
        .insert("errors", &errors.0)
        .insert("can_write", &user.role.allows(Permission::ManageTransparency))
        .insert("show_amounts", &transparency::shows_amounts(&state.ctx).await?);
    page.render(state, "admin/transparency.html")
}

async fn show_transparency(
    State(state): State<AppState>,
    staff: Authorized<ViewDashboard>,
) -> Result<Response, AppError> {
    let form = GoalForm { currency: "EUR".into(), ..Default::default() };
    Ok(transparency_page(&state, &staff.user, &form, &FieldErrors::default()).await?.into_response())
}

#[tracing::instrument(skip_all)]
async fn set_goal(
    State(state): State<AppState>,
    staff: Authorized<ManageTransparency>,
    ClientIp(ip): ClientIp,
    Form(form): Form<GoalForm>,
) -> Result<Response, AppError> {
    let mut errors = FieldErrors::default();
    let topic: Option<TopicId> = form.topic.trim().parse().ok();
    if topic.is_none() {
        errors.add("topic", message(&state, "error-goal-topic"));
    }
    let amount = GoalAmount::parse(&form.amount, &form.currency, goals::currencies())
        .map_err(|e| {
            let field = if e == crate::domain::GoalError::UnknownCurrency { "currency" } else { "amount" };
            errors.add(field, message(&state, e.message_key()));
        })
        .ok();
    if let (Some(topic), Some(amount), true) = (topic, amount, errors.is_empty()) {
        match goals::set_goal(&state.ctx, &Actor::staff(&staff.user, &ip), topic, amount).await {
            Ok(()) => return Ok(Redirect::to("/admin/transparency#goals").into_response()),
            Err(e @ (GoalServiceError::Db(_) | GoalServiceError::Outbox(_))) => return Err(e.into()),
            Err(e) => errors.add("topic", message(&state, e.message_key())),
        }
    }
    let html = transparency_page(&state, &staff.user, &form, &errors).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
}

async fn close_goal(
    State(state): State<AppState>,
    staff: Authorized<ManageTransparency>,
    ClientIp(ip): ClientIp,
    Path(topic): Path<String>,
) -> Result<Response, AppError> {
    let topic: TopicId = topic.parse().map_err(|_| AppError::NotFound)?;
    goals::close_goal(&state.ctx, &Actor::staff(&staff.user, &ip), topic).await?;
    Ok(Redirect::to("/admin/transparency#goals").into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NoteForm {
    note: String,
}

async fn save_note(
    State(state): State<AppState>,
    staff: Authorized<ManageTransparency>,
    ClientIp(ip): ClientIp,
    Path(month): Path<String>,
    Form(form): Form<NoteForm>,
) -> Result<Response, AppError> {
    let month: Month = month.parse().map_err(|_| AppError::NotFound)?;
    let note = MonthNote::parse_optional(&form.note).map_err(|_| AppError::BadRequest("error-note-too-long"))?;
    let actor = Actor::staff(&staff.user, &ip);
    match transparency::set_note(&state.ctx, &actor, staff.user.id, month, note).await {
        Ok(()) => Ok(Redirect::to("/admin/transparency#notes").into_response()),
        Err(NoteError::UnknownMonth) => Err(AppError::NotFound),
        Err(NoteError::Db(e)) => Err(crate::services::StorageError::from(e).into()),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AmountsForm {
    show_amounts: String,
}

async fn set_amounts(
    State(state): State<AppState>,
    staff: Authorized<ManagePayments>,
    ClientIp(ip): ClientIp,
    Form(form): Form<AmountsForm>,
) -> Result<Response, AppError> {
    let show = match form.show_amounts.as_str() {
        "yes" => true,
        "" | "no" => false,
        _ => return Err(AppError::BadRequest("error-bad-request")),
    };
    transparency::set_show_amounts(&state.ctx, &Actor::staff(&staff.user, &ip), show).await?;
    Ok(Redirect::to("/admin/transparency#amounts").into_response())
}

fn message(state: &AppState, key: &str) -> String {
    state.ctx.views.i18n().t(Locale::En, key, &[])
}
