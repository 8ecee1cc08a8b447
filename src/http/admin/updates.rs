//! Updates to patrons, the staff side: write one (English, optionally
//! Ukrainian), choose who receives it, preview it as each language's readers
//! will get it with the exact number of recipients, and send it once. Editors
//! and admins (the transparency permission: "what your support paid for").
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use super::{Authorized, ManageTransparency, staff_page};
use crate::clock::format_utc;
use crate::domain::{Audience, Locale, StaffUser, UpdateId, UpdateTexts};
use crate::http::error::AppError;
use crate::http::extract::{ClientIp, FieldErrors, Form};
use crate::http::state::AppState;
use crate::services::audit::Actor;
use crate::services::updates::{self, Update, UpdateError};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/updates", get(show_updates).post(create_update))
        .route("/admin/updates/{id}", get(show_update))
        .route("/admin/updates/{id}/send", post(send_update))
        .route("/admin/updates/{id}/preview/{lang}", get(show_preview))
}

#[derive(Deserialize, Serialize, Default, Clone)]
#[serde(default)]
struct UpdateForm {
    subject_en: String,
    body_en: String,
    subject_uk: String,
    body_uk: String,
    audience: String,
    tier: String,
    topic: String,
    transparency: String,
}

#[derive(Serialize)]
struct Choice {
    id: String,
    name: String,
}

#[derive(Serialize)]
struct UpdateLine {
    id: String,
    subject: String,
    audience: String,
    created: String,
    sent: Option<String>,
    recipients: Option<i64>,
    translated: bool,
    on_transparency: bool,
}

/// "Patrons of Supporter", "Voters for “Tram extension”": the audience in words.
fn audience_label(audience: Audience, tiers: &[Choice], topics: &[Choice]) -> String {
    let name = |list: &[Choice], id: String| list.iter().find(|c| c.id == id).map(|c| c.name.clone()).unwrap_or(id);
    match audience {
        Audience::Patrons => "All patrons".into(),
        Audience::Members => "All members".into(),
        Audience::Tier(t) => format!("Patrons of {}", name(tiers, t.to_string())),
        Audience::Voters(t) => format!("Voters for “{}”", name(topics, t.to_string())),
    }
}

async fn choices(state: &AppState) -> Result<(Vec<Choice>, Vec<Choice>), AppError> {
    let (tiers, topics) = updates::audience_choices(&state.ctx).await?;
    Ok((
        tiers.into_iter().map(|(id, name)| Choice { id: id.to_string(), name }).collect(),
        topics.into_iter().map(|(id, name)| Choice { id: id.to_string(), name }).collect(),
    ))
}

async fn updates_page(
    state: &AppState,
    user: &StaffUser,
    form: &UpdateForm,
    errors: &FieldErrors,
) -> Result<Html<String>, AppError> {
    let mut page = staff_page(state, Some(user), "/admin/updates");
    let (tiers, topics) = choices(state).await?;
    let list: Vec<UpdateLine> = updates::list(&state.ctx)
        .await?
        .into_iter()
        .map(|u| UpdateLine {
            id: u.id.to_string(),
            subject: u.texts.en.subject.to_string(),
            audience: audience_label(u.audience, &tiers, &topics),
            created: format_utc(u.created_at),
            sent: u.sent_at.map(format_utc),
            recipients: u.recipients,
            translated: u.texts.uk.is_some(),
            on_transparency: u.on_transparency,
        })
        .collect();
    page.insert("updates", &list)
        .insert("tiers", &tiers)
        .insert("topics", &topics)
        .insert("form", form)
        .insert("errors", &errors.0);
    page.render(state, "admin/updates.html")
}

async fn show_updates(
    State(state): State<AppState>,
    staff: Authorized<ManageTransparency>,
) -> Result<Response, AppError> {
    let form = UpdateForm { audience: "patrons".into(), ..Default::default() };
    Ok(updates_page(&state, &staff.user, &form, &FieldErrors::default()).await?.into_response())
}

fn message(state: &AppState, key: &str) -> String {
    state.ctx.views.i18n().t(Locale::En, key, &[])
}

/// Stores a draft and shows its preview; bad input is refused with every
/// field's problem and nothing stored.
#[tracing::instrument(skip_all)]
async fn create_update(
    State(state): State<AppState>,
    staff: Authorized<ManageTransparency>,
    ClientIp(ip): ClientIp,
    Form(form): Form<UpdateForm>,
) -> Result<Response, AppError> {
    let mut errors = FieldErrors::default();
    let texts = UpdateTexts::parse(&form.subject_en, &form.body_en, &form.subject_uk, &form.body_uk)
        .map_err(|list| {
            for (field, e) in list {
                errors.add(field, message(&state, e.message_key()));
            }
        })
        .ok();
    let audience = Audience::parse(&form.audience, &form.tier, &form.topic)
        .map_err(|e| errors.add("audience", message(&state, e.message_key())))
        .ok();
    let on_transparency = match form.transparency.as_str() {
        "" | "no" => false,
        "yes" => true,
        _ => return Err(AppError::BadRequest("error-bad-request")),
    };
    if let (Some(texts), Some(audience), true) = (texts, audience, errors.is_empty()) {
        let actor = Actor::staff(&staff.user, &ip);
        match updates::create(&state.ctx, &actor, staff.user.id, &texts, audience, on_transparency).await {
            Ok(id) => return Ok(Redirect::to(&format!("/admin/updates/{id}")).into_response()),
            Err(e @ (UpdateError::UnknownTier | UpdateError::UnknownTopic)) => {
                errors.add("audience", message(&state, e.message_key()));
            }
            Err(e) => return Err(internal(e)),
        }
    }
    let html = updates_page(&state, &staff.user, &form, &errors).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
}

fn internal(e: UpdateError) -> AppError {
    match e {
        UpdateError::NotFound => AppError::NotFound,
        UpdateError::Db(e) => crate::services::StorageError::from(e).into(),
        e => AppError::Internal(e.into()),
    }
}

async fn update_page(
    state: &AppState,
    user: &StaffUser,
    update: &Update,
    notice: Option<String>,
) -> Result<Html<String>, AppError> {
    let mut page = staff_page(state, Some(user), "/admin/updates");
    let (tiers, topics) = choices(state).await?;
    let previews = updates::preview(&state.ctx, update).map_err(internal)?;
    let recipients = updates::audience_size(&state.ctx, update.audience).await?;
    page.insert("id", &update.id.to_string())
        .insert("audience", &audience_label(update.audience, &tiers, &topics))
        .insert("previews", &previews)
        .insert("recipients", &recipients)
        .insert("on_transparency", &update.on_transparency)
        .insert("sent", &update.sent_at.map(format_utc))
        .insert("sent_to", &update.recipients)
        .insert("notice", &notice);
    page.render(state, "admin/update.html")
}

fn parse_id(id: &str) -> Result<UpdateId, AppError> {
    id.parse().map_err(|_| AppError::NotFound)
}

async fn show_update(
    State(state): State<AppState>,
    staff: Authorized<ManageTransparency>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let update = updates::find(&state.ctx, parse_id(&id)?).await.map_err(internal)?;
    Ok(update_page(&state, &staff.user, &update, None).await?.into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SendForm {
    /// The number of recipients the preview showed.
    expected: String,
}

/// Sends a previewed draft once. A second send, or an audience that changed
/// since the preview, is refused (409) with the preview shown again.
#[tracing::instrument(skip_all, fields(update.id = %id))]
async fn send_update(
    State(state): State<AppState>,
    staff: Authorized<ManageTransparency>,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    Form(form): Form<SendForm>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let expected: i64 = form.expected.trim().parse().map_err(|_| AppError::BadRequest("error-bad-request"))?;
    let actor = Actor::staff(&staff.user, &ip);
    let notice = match updates::send(&state.ctx, &actor, staff.user.id, id, expected).await {
        Ok(_) => return Ok(Redirect::to(&format!("/admin/updates/{id}")).into_response()),
        Err(UpdateError::AlreadySent) => message(&state, "error-update-already-sent"),
        Err(UpdateError::AudienceChanged(n)) => state.ctx.views.i18n().t(
            Locale::En,
            "error-update-audience-changed",
            &[("count", crate::i18n::Arg::Num(n as f64))],
        ),
        Err(e) => return Err(internal(e)),
    };
    let update = updates::find(&state.ctx, id).await.map_err(internal)?;
    let html = update_page(&state, &staff.user, &update, Some(notice)).await?;
    Ok((StatusCode::CONFLICT, html).into_response())
}

/// The email's HTML as a language's readers get it, for the preview page's
/// frame: its own inline styles allowed, nothing else, framed by our pages only.
async fn show_preview(
    State(state): State<AppState>,
    _staff: Authorized<ManageTransparency>,
    Path((id, lang)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let update = updates::find(&state.ctx, parse_id(&id)?).await.map_err(internal)?;
    let preview = updates::preview(&state.ctx, &update).map_err(internal)?;
    let email = preview.into_iter().find(|p| p.lang == lang).ok_or(AppError::NotFound)?;
    let mut response = Html(email.html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'self'; base-uri 'none'; form-action 'none'",
        ),
    );
    headers.insert(HeaderName::from_static("x-frame-options"), HeaderValue::from_static("SAMEORIGIN"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    Ok(response)
}
