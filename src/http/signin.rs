//! Passwordless sign-in: request a link, open it, confirm with a POST (so mail
//! scanners that follow links do not use it up).
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::error::AppError;
use super::extract::{ClientIp, FieldErrors, Form, PageContext, UserAgent};
use super::session::{member_cookie, names};
use super::state::AppState;
use crate::domain::Email;
use crate::services::{membership, sessions};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/signin", get(show_sign_in_form).post(request_sign_in_link))
        .route("/signin/sent", get(show_link_sent))
        .route("/signin/confirm", get(show_confirm).post(confirm_sign_in))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SignInForm {
    email: String,
}

async fn show_sign_in_form(State(state): State<AppState>, mut page: PageContext) -> Result<Response, AppError> {
    if page.member.is_some() {
        return Ok(Redirect::to("/account").into_response());
    }
    page.insert("form_email", "").insert("errors", &FieldErrors::default().0);
    Ok(page.render(&state, "auth/sign_in.html")?.into_response())
}

#[tracing::instrument(skip_all)]
async fn request_sign_in_link(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    mut page: PageContext,
    Form(form): Form<SignInForm>,
) -> Result<Response, AppError> {
    let email = match Email::parse(&form.email) {
        Ok(email) => email,
        Err(e) => {
            let mut errors = FieldErrors::default();
            errors.add("email", page.t(&state, e.message_key()));
            page.insert("form_email", &form.email).insert("errors", &errors.0);
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page.render(&state, "auth/sign_in.html")?).into_response());
        }
    };
    membership::request_sign_in(&state.ctx, &email, &ip).await?;
    Ok(Redirect::to("/signin/sent").into_response())
}

async fn show_link_sent(State(state): State<AppState>, page: PageContext) -> Result<Response, AppError> {
    Ok(page.render(&state, "auth/link_sent.html")?.into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TokenParam {
    token: String,
}

async fn show_confirm(
    State(state): State<AppState>,
    mut page: PageContext,
    Query(q): Query<TokenParam>,
) -> Result<Response, AppError> {
    if !membership::sign_in_link_is_valid(&state.ctx, &q.token).await? {
        return Err(AppError::InvalidLink);
    }
    page.insert("token", &q.token);
    Ok(page.render(&state, "auth/confirm.html")?.into_response())
}

#[tracing::instrument(skip_all)]
async fn confirm_sign_in(
    State(state): State<AppState>,
    jar: CookieJar,
    UserAgent(ua): UserAgent,
    Form(form): Form<TokenParam>,
) -> Result<Response, AppError> {
    // Whatever session this browser had ends here: sign-in always starts a new one.
    if let Some(old) = jar.get(names(&state).member) {
        sessions::end(&state.ctx, old.value()).await?;
    }
    let (cookie, _member) = membership::confirm_sign_in(&state.ctx, &form.token, ua.as_deref()).await?;
    let jar = jar.add(member_cookie(&state, cookie));
    Ok((jar, Redirect::to("/account")).into_response())
}
