//! The member's own account: profile, sign-out, data export, deletion.
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::error::AppError;
use super::extract::{FieldErrors, Form, PageContext, SignedInMember};
use super::session::{MEMBER_COOKIE, lang_cookie, removal};
use super::state::AppState;
use crate::clock::format_utc;
use crate::db;
use crate::db::members::Member;
use crate::domain::{Currency, Locale, MemberStatus, Money, PersonName};
use crate::services::billing;
use crate::services::{membership, sessions};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account", get(show_account).post(update_account))
        .route("/account/export", get(export_my_data))
        .route("/account/delete", post(delete_account))
        .route("/signout", post(sign_out))
        .route("/signout/everywhere", post(sign_out_everywhere))
        .route("/goodbye", get(show_goodbye))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ProfileForm {
    name: String,
    public_name: String,
    lang: String,
}

#[derive(serde::Serialize)]
struct PaymentView {
    date: String,
    kind_key: String,
    amount: String,
    description: String,
}

/// The membership part of the account page: standing, renewal, payment history.
async fn insert_billing(state: &AppState, page: &mut PageContext, member: &Member) -> Result<(), AppError> {
    let standing = billing::standing_of(&state.ctx, member).await.map_err(anyhow::Error::new)?;
    let sub = standing.subscription.as_ref();
    let renewal = sub.and_then(|s| s.current_period_end).map(format_utc);
    let ending = sub.is_some_and(|s| s.cancel_at_period_end || s.status.is_terminal());
    let payments = state.ctx.db.read_hot(async |conn| db::payments::list_for_member(conn, member.id, 50).await).await?;
    let payments: Vec<PaymentView> = payments
        .into_iter()
        .map(|p| PaymentView {
            date: format_utc(p.occurred_at),
            kind_key: format!("payment-kind-{}", p.kind),
            amount: Money::new(p.gross_minor, Currency::parse(&p.currency).unwrap_or(Currency::EUR)).display(),
            description: p.description.unwrap_or_default(),
        })
        .collect();
    let tier_price =
        sub.map(|s| super::patron::price_label(state, page.locale, Money::new(s.amount_minor, s.currency), s.interval));
    page.insert("status_key", &format!("account-status-{}", standing.status.as_str()))
        .insert("is_free", &(standing.status == MemberStatus::Free))
        .insert("tier_name", &standing.tier.as_ref().map(|t| t.name.clone()))
        .insert("tier_price", &tier_price)
        .insert("period_end", &renewal)
        .insert("ending", &ending)
        .insert("payments", &payments);
    Ok(())
}

/// The profile form as typed (or as stored, on first show).
struct Profile<'a> {
    name: &'a str,
    public_name: &'a str,
    lang: &'a str,
}

impl<'a> Profile<'a> {
    fn stored(member: &'a Member) -> Self {
        Self {
            name: member.name.as_deref().unwrap_or_default(),
            public_name: member.public_name.as_deref().unwrap_or_default(),
            lang: member.locale.as_str(),
        }
    }
}

async fn account_page(
    state: &AppState,
    page: &mut PageContext,
    member: &Member,
    form: &Profile<'_>,
    errors: &FieldErrors,
) -> Result<axum::response::Html<String>, AppError> {
    insert_billing(state, page, member).await?;
    page.insert("email", &member.email.as_ref().map(|e| e.to_string()))
        .insert("form_name", form.name)
        .insert("form_public_name", form.public_name)
        .insert("form_lang", form.lang)
        .insert("joined", &format_utc(member.created_at))
        .insert("errors", &errors.0);
    page.render(state, "account/account.html")
}

async fn show_account(
    State(state): State<AppState>,
    SignedInMember(member): SignedInMember,
    mut page: PageContext,
) -> Result<Response, AppError> {
    Ok(account_page(&state, &mut page, &member, &Profile::stored(&member), &FieldErrors::default())
        .await?
        .into_response())
}

#[tracing::instrument(skip_all, fields(member.id = %member.id))]
async fn update_account(
    State(state): State<AppState>,
    SignedInMember(member): SignedInMember,
    jar: CookieJar,
    mut page: PageContext,
    Form(form): Form<ProfileForm>,
) -> Result<Response, AppError> {
    let mut errors = FieldErrors::default();
    let name =
        PersonName::parse_optional(&form.name).map_err(|e| errors.add("name", page.t(&state, e.message_key()))).ok();
    let public_name = PersonName::parse_optional(&form.public_name)
        .map_err(|e| errors.add("public_name", page.t(&state, e.message_key())))
        .ok();
    let locale = form.lang.parse::<Locale>().map_err(|_| errors.add("lang", page.t(&state, "error-language"))).ok();
    let (Some(name), Some(public_name), Some(locale)) = (name, public_name, locale) else {
        let profile = Profile { name: &form.name, public_name: &form.public_name, lang: &form.lang };
        let html = account_page(&state, &mut page, &member, &profile, &errors).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
    };
    membership::update_profile(&state.ctx, member.id, name.as_ref(), public_name.as_ref(), locale).await?;
    let jar = jar.add(lang_cookie(&state, locale.as_str()));
    Ok((jar, Redirect::to("/account")).into_response())
}

async fn sign_out(State(state): State<AppState>, jar: CookieJar) -> Result<Response, AppError> {
    if let Some(cookie) = jar.get(MEMBER_COOKIE) {
        sessions::end(&state.ctx, cookie.value()).await?;
    }
    let jar = jar.add(removal(&state, MEMBER_COOKIE, "/"));
    Ok((jar, Redirect::to("/")).into_response())
}

async fn sign_out_everywhere(
    State(state): State<AppState>,
    SignedInMember(member): SignedInMember,
    jar: CookieJar,
) -> Result<Response, AppError> {
    membership::sign_out_everywhere(&state.ctx, member.id).await?;
    let jar = jar.add(removal(&state, MEMBER_COOKIE, "/"));
    Ok((jar, Redirect::to("/")).into_response())
}

async fn export_my_data(
    State(state): State<AppState>,
    SignedInMember(member): SignedInMember,
) -> Result<Response, AppError> {
    let export = membership::export(&state.ctx, member.id).await?;
    let body = serde_json::to_string_pretty(&export).map_err(anyhow::Error::new)?;
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"my-patronage-data.json\""),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DeleteForm {
    confirm: String,
}

#[tracing::instrument(skip_all, fields(member.id = %member.id))]
async fn delete_account(
    State(state): State<AppState>,
    SignedInMember(member): SignedInMember,
    jar: CookieJar,
    mut page: PageContext,
    Form(form): Form<DeleteForm>,
) -> Result<Response, AppError> {
    if form.confirm != "yes" {
        let mut errors = FieldErrors::default();
        errors.add("confirm", page.t(&state, "error-confirm-delete"));
        let html = account_page(&state, &mut page, &member, &Profile::stored(&member), &errors).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
    }
    membership::delete_account(&state.ctx, member.id).await?;
    let jar = jar.add(removal(&state, MEMBER_COOKIE, "/")).add(lang_cookie(&state, page.locale.as_str()));
    Ok((jar, Redirect::to("/goodbye")).into_response())
}

async fn show_goodbye(State(state): State<AppState>, page: PageContext) -> Result<Response, AppError> {
    Ok(page.render(&state, "account/goodbye.html")?.into_response())
}
