//! Staff sign-in with a password, first-admin set-up and set-password links.
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::{Authorized, ViewDashboard, staff_page};
use crate::domain::{Email, LoginPurpose, Password};
use crate::http::error::AppError;
use crate::http::extract::{ClientIp, FieldErrors, Form, UserAgent};
use crate::http::session::{names, removal, staff_cookie};
use crate::http::state::AppState;
use crate::services::staff::{self, StaffError};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/login", get(show_login).post(submit_login))
        .route("/admin/logout", post(logout))
        .route("/admin/setup", get(show_setup).post(submit_setup))
        .route("/admin/password", get(show_set_password).post(submit_set_password))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LoginForm {
    email: String,
    password: String,
}

fn login_page(state: &AppState, email: &str, error: Option<&str>) -> Result<axum::response::Html<String>, AppError> {
    let mut page = staff_page(state, None, "/admin/login");
    page.insert("form_email", email).insert("error", &error);
    page.render(state, "admin/login.html")
}

async fn show_login(State(state): State<AppState>) -> Result<Response, AppError> {
    Ok(login_page(&state, "", None)?.into_response())
}

#[tracing::instrument(skip_all)]
async fn submit_login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    UserAgent(ua): UserAgent,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Result<Response, AppError> {
    let refuse = |message: &str| -> Result<Response, AppError> {
        Ok((StatusCode::UNPROCESSABLE_ENTITY, login_page(&state, &form.email, Some(message))?).into_response())
    };
    let Ok(email) = Email::parse(&form.email) else {
        return refuse("Enter the email address of your staff account.");
    };
    match staff::sign_in(&state.ctx, &email, &form.password, &ip, ua.as_deref()).await {
        Ok((_, cookie)) => Ok((jar.add(staff_cookie(&state, cookie)), Redirect::to("/admin")).into_response()),
        Err(StaffError::BadCredentials) => refuse("Wrong email or password."),
        Err(e) => Err(e.into()),
    }
}

async fn logout(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    staff_user: Authorized<ViewDashboard>,
    jar: CookieJar,
) -> Result<Response, AppError> {
    staff::sign_out(&state.ctx, &staff_user.user, &staff_user.cookie, &ip).await?;
    Ok((jar.add(removal(&state, names(&state).staff, "/admin")), Redirect::to("/admin/login")).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TokenParam {
    token: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PasswordForm {
    token: String,
    email: String,
    password: String,
    password_again: String,
}

fn password_page(
    state: &AppState,
    template: &str,
    form: &PasswordForm,
    errors: &FieldErrors,
) -> Result<axum::response::Html<String>, AppError> {
    let mut page = staff_page(state, None, "/admin");
    page.insert("token", &form.token).insert("form_email", &form.email).insert("errors", &errors.0);
    page.render(state, template)
}

fn check_password(form: &PasswordForm, errors: &mut FieldErrors) -> Option<Password> {
    match Password::parse(&form.password) {
        Err(e) => {
            errors.add("password", e.to_string());
            None
        }
        Ok(_) if form.password != form.password_again => {
            errors.add("password_again", "The two passwords differ.".into());
            None
        }
        Ok(p) => Some(p),
    }
}

/// The form behind a one-time link, if the link is still good.
async fn show_link_form(
    state: &AppState,
    token: String,
    purpose: LoginPurpose,
    template: &str,
) -> Result<Response, AppError> {
    if !staff::link_is_valid(&state.ctx, &token, purpose).await? {
        return Err(AppError::InvalidLink);
    }
    let form = PasswordForm { token, ..Default::default() };
    Ok(password_page(state, template, &form, &FieldErrors::default())?.into_response())
}

async fn show_setup(State(state): State<AppState>, Query(q): Query<TokenParam>) -> Result<Response, AppError> {
    show_link_form(&state, q.token, LoginPurpose::StaffSetup, "admin/setup.html").await
}

#[tracing::instrument(skip_all)]
async fn submit_setup(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    UserAgent(ua): UserAgent,
    jar: CookieJar,
    Form(form): Form<PasswordForm>,
) -> Result<Response, AppError> {
    let mut errors = FieldErrors::default();
    let email = Email::parse(&form.email).map_err(|e| errors.add("email", e.to_string())).ok();
    let password = check_password(&form, &mut errors);
    let (Some(email), Some(password)) = (email, password) else {
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, password_page(&state, "admin/setup.html", &form, &errors)?)
            .into_response());
    };
    let (_, cookie) = staff::complete_setup(&state.ctx, &form.token, &email, &password, &ip, ua.as_deref()).await?;
    Ok((jar.add(staff_cookie(&state, cookie)), Redirect::to("/admin")).into_response())
}

async fn show_set_password(State(state): State<AppState>, Query(q): Query<TokenParam>) -> Result<Response, AppError> {
    show_link_form(&state, q.token, LoginPurpose::StaffPassword, "admin/set_password.html").await
}

#[tracing::instrument(skip_all)]
async fn submit_set_password(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    UserAgent(ua): UserAgent,
    jar: CookieJar,
    Form(form): Form<PasswordForm>,
) -> Result<Response, AppError> {
    let mut errors = FieldErrors::default();
    let Some(password) = check_password(&form, &mut errors) else {
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            password_page(&state, "admin/set_password.html", &form, &errors)?,
        )
            .into_response());
    };
    let (_, cookie) = staff::set_password(&state.ctx, &form.token, &password, &ip, ua.as_deref()).await?;
    Ok((jar.add(staff_cookie(&state, cookie)), Redirect::to("/admin")).into_response())
}
