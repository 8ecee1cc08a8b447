//! Managing staff accounts (administrators only).
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use super::{Authorized, ManageStaff, staff_page};
use crate::clock::format_utc;
use crate::db;
use crate::domain::{Email, Role, StaffId};
use crate::http::error::AppError;
use crate::http::extract::{ClientIp, FieldErrors, Form};
use crate::http::state::AppState;
use crate::services::staff::{self as staff_service, Actor, StaffError};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/staff", get(list_staff).post(invite_staff))
        .route("/admin/staff/{id}/role", post(change_role))
        .route("/admin/staff/{id}/disable", post(disable_staff))
        .route("/admin/staff/{id}/enable", post(enable_staff))
}

#[derive(Serialize)]
struct StaffRow {
    id: String,
    email: String,
    role: &'static str,
    status: &'static str,
    last_sign_in: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct InviteForm {
    email: String,
    role: String,
}

async fn staff_list_page(
    state: &AppState,
    staff: &Authorized<ManageStaff>,
    form: &InviteForm,
    errors: &FieldErrors,
    link: Option<&str>,
) -> Result<axum::response::Html<String>, AppError> {
    let rows: Vec<StaffRow> = db::staff::list(state.ctx.db.read())
        .await?
        .into_iter()
        .map(|u| StaffRow {
            id: u.id.to_string(),
            email: u.email.to_string(),
            role: u.role.as_str(),
            status: if u.disabled_at.is_some() {
                "disabled"
            } else if u.password_hash.is_none() {
                "invited"
            } else {
                "active"
            },
            last_sign_in: u.last_sign_in_at.map(format_utc).unwrap_or_else(|| "never".into()),
        })
        .collect();
    let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
    let mut page = staff_page(state, Some(&staff.user), "/admin/staff");
    page.insert("staff", &rows)
        .insert("roles", &roles)
        .insert("form_email", &form.email)
        .insert("form_role", &form.role)
        .insert("errors", &errors.0)
        .insert("invite_link", &link);
    page.render(state, "admin/staff.html")
}

async fn list_staff(State(state): State<AppState>, staff: Authorized<ManageStaff>) -> Result<Response, AppError> {
    Ok(staff_list_page(&state, &staff, &InviteForm::default(), &FieldErrors::default(), None).await?.into_response())
}

#[tracing::instrument(skip_all)]
async fn invite_staff(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    staff: Authorized<ManageStaff>,
    Form(form): Form<InviteForm>,
) -> Result<Response, AppError> {
    let mut errors = FieldErrors::default();
    let email = Email::parse(&form.email).map_err(|e| errors.add("email", e.to_string())).ok();
    let role = form.role.parse::<Role>().map_err(|e| errors.add("role", e.to_string())).ok();
    if let (Some(email), Some(role)) = (email, role) {
        match staff_service::invite(&state.ctx, &Actor::staff(&staff.user, &ip), &email, role, false).await {
            Ok((_, link)) => {
                let html =
                    staff_list_page(&state, &staff, &InviteForm::default(), &FieldErrors::default(), Some(&link))
                        .await?;
                return Ok(html.into_response());
            }
            Err(StaffError::EmailTaken) => {
                errors.add("email", "A staff account with this email exists already.".into())
            }
            Err(e) => return Err(e.into()),
        }
    }
    let html = staff_list_page(&state, &staff, &form, &errors, None).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
}

fn parse_id(id: &str) -> Result<StaffId, AppError> {
    id.parse().map_err(|_| AppError::NotFound)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RoleForm {
    role: String,
}

async fn change_role(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    staff: Authorized<ManageStaff>,
    Path(id): Path<String>,
    Form(form): Form<RoleForm>,
) -> Result<Response, AppError> {
    let role: Role = form.role.parse().map_err(|_| AppError::BadRequest("error-bad-request"))?;
    staff_service::change_role(&state.ctx, &Actor::staff(&staff.user, &ip), parse_id(&id)?, role).await?;
    Ok(Redirect::to("/admin/staff").into_response())
}

async fn disable_staff(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    staff: Authorized<ManageStaff>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    staff_service::set_disabled(&state.ctx, &Actor::staff(&staff.user, &ip), parse_id(&id)?, true).await?;
    Ok(Redirect::to("/admin/staff").into_response())
}

async fn enable_staff(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    staff: Authorized<ManageStaff>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    staff_service::set_disabled(&state.ctx, &Actor::staff(&staff.user, &ip), parse_id(&id)?, false).await?;
    Ok(Redirect::to("/admin/staff").into_response())
}
