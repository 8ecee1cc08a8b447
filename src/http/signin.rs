//! Passwordless sign-in: request a link, open it, confirm with a POST (so mail
//! scanners that follow links do not use it up).
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::error::AppError;
use super::extract::{ClientIp, FieldErrors, Form, PageContext, UserAgent};
use super::session::{member_cookie, names};
use super::state::AppState;
use crate::domain::Email;
use crate::services::membership::{self, MembershipError};
use crate::services::sessions;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/signin", get(show_sign_in_form).post(request_sign_in_link))
        .route("/signin/sent", get(show_link_sent))
        .route("/signin/code", post(confirm_sign_in_code))
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

async fn show_link_sent(State(state): State<AppState>, mut page: PageContext) -> Result<Response, AppError> {
    link_sent_context(&mut page, "", &FieldErrors::default());
    Ok(page.render(&state, "auth/link_sent.html")?.into_response())
}

fn link_sent_context(page: &mut PageContext, email: &str, errors: &FieldErrors) {
    page.insert("minutes", &(membership::SIGN_IN_LINK_TTL / crate::clock::MINUTE))
        .insert("form_email", email)
        .insert("errors", &errors.0);
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CodeForm {
    email: String,
    code: String,
}

/// The code from the sign-in email, typed with the address (for readers whose
/// mail app opens links in another browser). A refusal shows the form again
/// with what went wrong, and nothing else changes.
#[tracing::instrument(skip_all)]
async fn confirm_sign_in_code(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    UserAgent(ua): UserAgent,
    mut page: PageContext,
    Form(form): Form<CodeForm>,
) -> Result<Response, AppError> {
    let mut errors = FieldErrors::default();
    match Email::parse(&form.email) {
        Err(e) => {
            errors.add("email", page.t(&state, e.message_key()));
        }
        Ok(email) => match membership::confirm_sign_in_code(&state.ctx, &email, &form.code, &ip, ua.as_deref()).await {
            Ok((cookie, _member)) => {
                // Whatever session this browser had ends here, as with the link.
                if let Some(old) = jar.get(names(&state).member) {
                    sessions::end(&state.ctx, old.value()).await?;
                }
                let jar = jar.add(member_cookie(&state, cookie));
                return Ok((jar, Redirect::to("/account")).into_response());
            }
            Err(MembershipError::MalformedCode) => {
                errors.add("code", page.t(&state, "error-code-malformed"));
            }
            Err(MembershipError::WrongCode { tries_left }) => {
                let message = state.ctx.views.i18n().t(
                    page.locale,
                    "error-code-wrong",
                    &[("tries", crate::i18n::Arg::Num(tries_left as f64))],
                );
                errors.add("code", message);
            }
            Err(MembershipError::CodeDead) => {
                errors.add("code", page.t(&state, "error-code-dead"));
            }
            Err(MembershipError::NoCode) => {
                errors.add("code", page.t(&state, "error-code-none"));
            }
            Err(e) => return Err(e.into()),
        },
    };
    link_sent_context(&mut page, &form.email, &errors);
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page.render(&state, "auth/link_sent.html")?).into_response())
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
