//! Staff pages for reader-facing texts in every language: a tier's name,
//! description and benefits, a topic's title, description and public note, a
//! round's title and description, the newsroom's pitch. One input per text and
//! language ("English", "Українська"), each checked by the rules of the form the
//! text first came from; nothing is stored unless every one passes.
use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Serialize;

use super::{Authorized, ManagePayments, ManageTopics, staff_page};
use crate::domain::content::{PITCH_ID, form_name};
use crate::domain::{ContentKind, ContentTexts, Locale, StaffUser};
use crate::http::error::AppError;
use crate::http::extract::{ClientIp, Form};
use crate::http::state::AppState;
use crate::services::audit::Actor;
use crate::services::content;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/texts/topic/{id}", get(show_topic_texts).post(save_topic_texts))
        .route("/admin/texts/round/{id}", get(show_round_texts).post(save_round_texts))
        .route("/admin/texts/tier/{id}", get(show_tier_texts).post(save_tier_texts))
        .route("/admin/pitch", get(show_pitch).post(save_pitch))
}

#[derive(Serialize)]
struct Input {
    name: String,
    label: String,
    value: String,
    max: usize,
    multiline: bool,
    required: bool,
    error: Option<String>,
}

#[derive(Serialize)]
struct FieldView {
    label: &'static str,
    inputs: Vec<Input>,
}

/// Languages in form order: the default (the items' own columns) first.
fn languages(state: &AppState) -> Vec<Locale> {
    let default = state.ctx.newsroom_language;
    std::iter::once(default).chain(Locale::ALL.into_iter().filter(|l| *l != default)).collect()
}

fn message(state: &AppState, key: &str) -> String {
    state.ctx.views.i18n().t(Locale::En, key, &[])
}

#[allow(clippy::too_many_arguments)]
fn render(
    state: &AppState,
    user: &StaffUser,
    kind: ContentKind,
    action: &str,
    back: &str,
    label: &str,
    value: impl Fn(&str, Locale) -> String,
    errors: &HashMap<String, String>,
    saved: bool,
) -> Result<Html<String>, AppError> {
    let default = state.ctx.newsroom_language;
    let fields: Vec<FieldView> = kind
        .fields()
        .iter()
        .map(|f| FieldView {
            label: f.label,
            inputs: languages(state)
                .into_iter()
                .map(|l| {
                    let name = form_name(f.name, l);
                    Input {
                        label: l.native_name().to_string(),
                        value: value(f.name, l),
                        max: f.max,
                        multiline: f.multiline,
                        required: f.required && l == default && kind.has_columns(),
                        error: errors.get(&name).cloned(),
                        name,
                    }
                })
                .collect(),
        })
        .collect();
    let mut page = staff_page(state, Some(user), back);
    page.insert("label", label)
        .insert("action", action)
        .insert("back", back)
        .insert("fields", &fields)
        .insert("saved", &saved)
        .insert("default_language", default.native_name())
        .insert("has_errors", &!errors.is_empty());
    page.render(state, "admin/texts.html")
}

async fn show(
    state: &AppState,
    user: &StaffUser,
    kind: ContentKind,
    id: &str,
    back: &str,
    query: &HashMap<String, String>,
) -> Result<Response, AppError> {
    let (label, texts) = content::for_staff(&state.ctx, kind, id).await?;
    let action = action_of(kind, id);
    let html = render(
        state,
        user,
        kind,
        &action,
        back,
        &label,
        |f, l| texts.get(l, f).unwrap_or("").to_string(),
        &HashMap::new(),
        query.contains_key("saved"),
    )?;
    Ok(html.into_response())
}

fn action_of(kind: ContentKind, id: &str) -> String {
    match kind {
        ContentKind::Newsroom => "/admin/pitch".to_string(),
        _ => format!("/admin/texts/{kind}/{id}"),
    }
}

async fn save(
    state: &AppState,
    user: &StaffUser,
    ip: &str,
    kind: ContentKind,
    id: &str,
    back: &str,
    form: &HashMap<String, String>,
) -> Result<Response, AppError> {
    let raw = |f: &str, l: Locale| form.get(&form_name(f, l)).map(String::as_str).unwrap_or("");
    match ContentTexts::parse(kind, state.ctx.newsroom_language, raw) {
        Ok(texts) => {
            content::save(&state.ctx, &Actor::staff(user, ip), kind, id, &texts).await?;
            Ok(Redirect::to(&format!("{}?saved=1", action_of(kind, id))).into_response())
        }
        Err(errors) => {
            // Check the item exists (a 404 rather than a form for nothing).
            let (label, _) = content::for_staff(&state.ctx, kind, id).await?;
            let errors: HashMap<String, String> =
                errors.into_iter().map(|(name, e)| (name, message(state, e.message_key()))).collect();
            let html = render(
                state,
                user,
                kind,
                &action_of(kind, id),
                back,
                &label,
                |f, l| raw(f, l).to_string(),
                &errors,
                false,
            )?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
        }
    }
}

async fn show_topic_texts(
    State(state): State<AppState>,
    staff: Authorized<ManageTopics>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    show(&state, &staff.user, ContentKind::Topic, &id, &format!("/admin/topics/{id}"), &query).await
}

async fn save_topic_texts(
    State(state): State<AppState>,
    staff: Authorized<ManageTopics>,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, AppError> {
    save(&state, &staff.user, &ip, ContentKind::Topic, &id, &format!("/admin/topics/{id}"), &form).await
}

async fn show_round_texts(
    State(state): State<AppState>,
    staff: Authorized<ManageTopics>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    show(&state, &staff.user, ContentKind::Round, &id, &format!("/admin/rounds/{id}"), &query).await
}

async fn save_round_texts(
    State(state): State<AppState>,
    staff: Authorized<ManageTopics>,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, AppError> {
    save(&state, &staff.user, &ip, ContentKind::Round, &id, &format!("/admin/rounds/{id}"), &form).await
}

async fn show_tier_texts(
    State(state): State<AppState>,
    staff: Authorized<ManagePayments>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    show(&state, &staff.user, ContentKind::Tier, &id, &format!("/admin/tiers/{id}"), &query).await
}

async fn save_tier_texts(
    State(state): State<AppState>,
    staff: Authorized<ManagePayments>,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, AppError> {
    save(&state, &staff.user, &ip, ContentKind::Tier, &id, &format!("/admin/tiers/{id}"), &form).await
}

async fn show_pitch(
    State(state): State<AppState>,
    staff: Authorized<ManagePayments>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    show(&state, &staff.user, ContentKind::Newsroom, PITCH_ID, "/admin", &query).await
}

async fn save_pitch(
    State(state): State<AppState>,
    staff: Authorized<ManagePayments>,
    ClientIp(ip): ClientIp,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, AppError> {
    save(&state, &staff.user, &ip, ContentKind::Newsroom, PITCH_ID, "/admin", &form).await
}
