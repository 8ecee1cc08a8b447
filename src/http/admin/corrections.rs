//! The corrections queue for staff (editors and admins): readers' suggestions
//! filtered by status and article, each with its status, internal note and
//! public reply, and the CSV export. Every change and every export is
//! audit-logged; text from readers is shown escaped, exactly as sent.
use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};

use super::{Authorized, ManageCorrections, staff_page};
use crate::clock::{format_rfc3339, format_utc};
use crate::domain::{Correction, CorrectionFilter, CorrectionId, CorrectionStatus, StaffAnswer};
use crate::http::csv;
use crate::http::error::AppError;
use crate::http::extract::{ClientIp, FieldErrors, Form};
use crate::http::state::AppState;
use crate::services::audit::Actor;
use crate::services::corrections::{self, Decision, PAGE_SIZE};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/corrections", get(list_corrections))
        .route("/admin/corrections.csv", get(export_corrections_csv))
        .route("/admin/corrections/{id}", get(show_correction).post(decide_correction))
}

/// Staff see English messages.
fn message(state: &AppState, key: &str) -> String {
    state.ctx.views.i18n().t(crate::domain::Locale::En, key, &[])
}

/// `?status=new&article=https://…`: both optional; an unknown status is refused.
fn parse_filter(params: &HashMap<String, String>) -> Result<CorrectionFilter, AppError> {
    let status = match params.get("status").map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None | Some("all") => None,
        Some(s) => Some(s.parse::<CorrectionStatus>().map_err(|_| AppError::BadRequest("error-bad-request"))?),
    };
    let article_url = params.get("article").map(|a| a.trim().to_string()).filter(|a| !a.is_empty());
    Ok(CorrectionFilter { status, article_url })
}

fn filter_query(filter: &CorrectionFilter) -> String {
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    if let Some(s) = filter.status {
        pairs.push(("status", s.as_str()));
    }
    if let Some(a) = &filter.article_url {
        pairs.push(("article", a));
    }
    crate::http::corrections::encode(&pairs)
}

#[derive(Serialize)]
struct Row {
    id: String,
    created: String,
    article_url: String,
    quote: String,
    note: String,
    reply_wanted: bool,
    status: &'static str,
}

#[derive(Serialize)]
struct ArticleChoice {
    url: String,
    total: i64,
    new: i64,
}

/// The first `max` characters of `text`, with an ellipsis when cut.
fn excerpt(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(max).collect::<String>())
    }
}

#[tracing::instrument(skip_all)]
async fn list_corrections(
    State(state): State<AppState>,
    staff: Authorized<ManageCorrections>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let filter = parse_filter(&params)?;
    let rows: Vec<Row> = corrections::list(&state.ctx, &filter)
        .await?
        .into_iter()
        .map(|c| Row {
            id: c.id.to_string(),
            created: format_utc(c.created_at),
            quote: excerpt(&c.quote, 160),
            note: excerpt(&c.note, 300),
            reply_wanted: c.email.is_some(),
            status: c.status.as_str(),
            article_url: c.article_url,
        })
        .collect();
    let articles: Vec<ArticleChoice> = corrections::articles(&state.ctx)
        .await?
        .into_iter()
        .map(|(url, total, new)| ArticleChoice { url, total, new })
        .collect();
    let statuses: Vec<&str> = CorrectionStatus::ALL.iter().map(|s| s.as_str()).collect();
    let query = filter_query(&filter);
    let mut page = staff_page(&state, Some(&staff.user), "/admin/corrections");
    page.insert("rows", &rows)
        .insert("full", &(rows.len() as i64 >= PAGE_SIZE))
        .insert("page_size", &PAGE_SIZE)
        .insert("statuses", &statuses)
        .insert("status", filter.status.map_or("", CorrectionStatus::as_str))
        .insert("article", &filter.article_url)
        .insert("articles", &articles)
        .insert(
            "export_url",
            &format!("/admin/corrections.csv{}", if query.is_empty() { String::new() } else { format!("?{query}") }),
        )
        .insert("site_origins", &state.config.newsroom_site_origins);
    Ok(page.render(&state, "admin/corrections.html")?.into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DecisionForm {
    /// The status the form was opened with.
    seen: String,
    status: String,
    internal_note: String,
    public_reply: String,
}

async fn correction_page(
    state: &AppState,
    staff: &Authorized<ManageCorrections>,
    c: &Correction,
    form: &DecisionForm,
    errors: &FieldErrors,
) -> Result<Html<String>, AppError> {
    let statuses: Vec<&str> = CorrectionStatus::ALL.iter().map(|s| s.as_str()).collect();
    let mut page = staff_page(state, Some(&staff.user), "/admin/corrections");
    page.insert("id", &c.id.to_string())
        .insert("created", &format_utc(c.created_at))
        .insert("updated", &format_utc(c.updated_at))
        .insert("resolved", &c.resolved_at.map(format_utc))
        .insert("resolved_by", &c.resolved_by_email)
        .insert("article_url", &c.article_url)
        .insert("article_filter", &crate::http::corrections::encode(&[("article", &c.article_url)]))
        .insert("quote", &c.quote)
        .insert("note", &c.note)
        .insert("email", &c.email)
        .insert("reader_lang", c.locale.native_name())
        .insert("status", c.status.as_str())
        .insert("statuses", &statuses)
        .insert("form_status", &form.status)
        .insert("form_internal_note", &form.internal_note)
        .insert("form_public_reply", &form.public_reply)
        .insert("errors", &errors.0);
    page.render(state, "admin/correction.html")
}

fn parse_id(id: &str) -> Result<CorrectionId, AppError> {
    id.parse().map_err(|_| AppError::NotFound)
}

async fn show_correction(
    State(state): State<AppState>,
    staff: Authorized<ManageCorrections>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let c = corrections::find(&state.ctx, parse_id(&id)?).await?;
    let form = DecisionForm {
        seen: c.status.as_str().to_string(),
        status: c.status.as_str().to_string(),
        internal_note: c.internal_note.clone(),
        public_reply: c.public_reply.clone(),
    };
    Ok(correction_page(&state, &staff, &c, &form, &FieldErrors::default()).await?.into_response())
}

#[tracing::instrument(skip_all)]
async fn decide_correction(
    State(state): State<AppState>,
    staff: Authorized<ManageCorrections>,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    Form(form): Form<DecisionForm>,
) -> Result<Response, AppError> {
    let id = parse_id(&id)?;
    let mut errors = FieldErrors::default();
    let seen = form.seen.parse::<CorrectionStatus>().map_err(|_| AppError::BadRequest("error-bad-request"))?;
    let status =
        form.status.parse::<CorrectionStatus>().map_err(|_| errors.add("status", "Choose a status.".into())).ok();
    let internal_note = StaffAnswer::parse(&form.internal_note)
        .map_err(|e| errors.add("internal_note", message(&state, e.message_key())))
        .ok();
    let public_reply = StaffAnswer::parse(&form.public_reply)
        .map_err(|e| errors.add("public_reply", message(&state, e.message_key())))
        .ok();
    let (Some(status), Some(internal_note), Some(public_reply)) = (status, internal_note, public_reply) else {
        let c = corrections::find(&state.ctx, id).await?;
        let html = correction_page(&state, &staff, &c, &form, &errors).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
    };
    let decision = Decision { seen, status, internal_note, public_reply };
    corrections::decide(&state.ctx, &Actor::staff(&staff.user, &ip), id, &decision).await?;
    Ok(Redirect::to(&format!("/admin/corrections/{id}")).into_response())
}

/// Every suggestion the filter selects (not only the first page), as CSV; the
/// export is audit-logged, and cells a spreadsheet would run as formulas are
/// neutralised.
#[tracing::instrument(skip_all)]
async fn export_corrections_csv(
    State(state): State<AppState>,
    staff: Authorized<ManageCorrections>,
    ClientIp(ip): ClientIp,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let filter = parse_filter(&params)?;
    let query = filter_query(&filter);
    let described = if query.is_empty() { "no filter".to_string() } else { query };
    let rows = corrections::export(&state.ctx, &Actor::staff(&staff.user, &ip), &filter, &described).await?;
    let cells: Vec<Vec<String>> = rows
        .into_iter()
        .map(|c| {
            vec![
                c.id.to_string(),
                format_rfc3339(c.created_at),
                c.status.as_str().to_string(),
                c.article_url,
                c.quote,
                c.note,
                c.email.unwrap_or_default(),
                c.locale.as_str().to_string(),
                c.internal_note,
                c.public_reply,
                c.resolved_at.map(format_rfc3339).unwrap_or_default(),
                c.resolved_by_email.unwrap_or_default(),
                format_rfc3339(c.updated_at),
            ]
        })
        .collect();
    let header = [
        "id",
        "created_at",
        "status",
        "article_url",
        "quote",
        "note",
        "email",
        "language",
        "internal_note",
        "public_reply",
        "resolved_at",
        "resolved_by",
        "updated_at",
    ];
    let day = crate::clock::format_date(state.ctx.clock.now());
    Ok(csv::attachment(csv::to_csv(&header, &cells), &format!("corrections-{day}.csv")))
}
