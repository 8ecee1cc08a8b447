//! Pause instead of cancel, the cancel survey, and resume, on the member's
//! account (and the demo portal's cancel step, which shows the same offer).
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use super::error::AppError;
use super::extract::{FieldErrors, Form, PageContext, SignedInMember};
use super::state::AppState;
use crate::clock::format_date;
use crate::domain::retention::{Request, decide};
use crate::domain::{CancelReason, CancelSurvey, Member, Money, PauseMonths, Subscription};
use crate::services::billing;
use crate::services::retention::{self, Ask, RetentionError};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account/cancel", get(show_cancel_offer).post(submit_cancel))
        .route("/account/pause", post(submit_pause))
        .route("/account/resume", post(submit_resume))
        .route("/account/switch", post(submit_switch))
}

impl From<RetentionError> for AppError {
    fn from(e: RetentionError) -> Self {
        match e {
            RetentionError::NotFound => Self::NotFound,
            RetentionError::Refused(r) => Self::Conflict(r.message_key()),
            RetentionError::Gateway(e) => {
                tracing::error!(error = %e, "payment provider call failed");
                Self::PaymentProvider(e.to_string())
            }
            RetentionError::Billing(e) => e.into(),
            RetentionError::Db(e) => crate::services::StorageError::from(e).into(),
            RetentionError::Storage(e) => e.into(),
            RetentionError::Checkout(e) => e.into(),
        }
    }
}

#[derive(Serialize)]
struct ReasonView {
    value: &'static str,
    label_key: String,
}

#[derive(Serialize)]
struct CheaperView {
    price_id: String,
    tier: String,
    price: String,
}

/// The survey as typed (shown again after an error).
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct CancelForm {
    pub subscription: String,
    pub reason: String,
    pub comment: String,
}

/// The member's subscription that can still be cancelled (live, not ending).
async fn cancellable(state: &AppState, member: &Member) -> Result<Option<Subscription>, AppError> {
    let standing = billing::standing_of(&state.ctx, member).await?;
    let now = state.ctx.clock.now();
    Ok(standing.subscription.filter(|s| decide(s, Request::Cancel, now).is_ok() && !s.cancel_at_period_end))
}

/// What the offer needs: pausing (when the subscription may be paused), the
/// cheaper tiers, and the survey (with what was typed and its errors).
pub(super) async fn insert_offer(
    state: &AppState,
    page: &mut PageContext,
    sub: &Subscription,
    form: &CancelForm,
    errors: &FieldErrors,
) -> Result<(), AppError> {
    let now = state.ctx.clock.now();
    let texts = crate::services::content::localiser(&state.ctx, page.locale).await?;
    let cheaper: Vec<CheaperView> = retention::cheaper_prices(&state.ctx, sub)
        .await?
        .into_iter()
        .map(|(mut tier, price)| {
            texts.tier(&mut tier);
            CheaperView {
                price_id: price.id.clone(),
                tier: tier.name,
                price: super::patron::price_label(state, page.locale, price.amount, price.interval),
            }
        })
        .collect();
    let reasons: Vec<ReasonView> =
        CancelReason::ALL.iter().map(|r| ReasonView { value: r.as_str(), label_key: r.label_key() }).collect();
    let amount = crate::numbers::money(page.locale, Money::new(sub.amount_minor, sub.currency));
    page.insert("subscription_id", &sub.id)
        .insert("can_pause", &decide(sub, Request::Pause, now).is_ok())
        .insert("pause_months", &PauseMonths::ALL.iter().map(|m| m.months()).collect::<Vec<_>>())
        .insert("cheaper", &cheaper)
        .insert("reasons", &reasons)
        .insert("form_reason", &form.reason)
        .insert("form_comment", &form.comment)
        .insert("comment_max", &crate::domain::CancelComment::MAX_CHARS)
        .insert("period_end", &sub.current_period_end.map(format_date))
        .insert("amount", &amount)
        .insert("errors", &errors.0);
    Ok(())
}

async fn cancel_page(
    state: &AppState,
    page: &mut PageContext,
    sub: &Subscription,
    form: &CancelForm,
    errors: &FieldErrors,
) -> Result<axum::response::Html<String>, AppError> {
    insert_offer(state, page, sub, form, errors).await?;
    page.render(state, "account/cancel.html")
}

/// "Cancel my membership": first the offer (pause, pay less), then the survey.
async fn show_cancel_offer(
    State(state): State<AppState>,
    SignedInMember(member): SignedInMember,
    mut page: PageContext,
) -> Result<Response, AppError> {
    let Some(sub) = cancellable(&state, &member).await? else { return Ok(Redirect::to("/account").into_response()) };
    Ok(cancel_page(&state, &mut page, &sub, &CancelForm::default(), &FieldErrors::default()).await?.into_response())
}

/// The survey's answers parsed, or each field's error.
pub(super) fn parse_survey(
    state: &AppState,
    page: &PageContext,
    form: &CancelForm,
) -> Result<CancelSurvey, FieldErrors> {
    let mut errors = FieldErrors::default();
    let (reason, comment) = CancelSurvey::parse(&form.reason, &form.comment);
    let reason = reason.map_err(|e| errors.add("reason", page.t(state, e.message_key()))).ok();
    let comment = comment.map_err(|e| errors.add("comment", page.t(state, e.message_key()))).ok();
    match (reason, comment) {
        (Some(reason), Some(comment)) => Ok(CancelSurvey::new(reason, comment)),
        _ => Err(errors),
    }
}

#[tracing::instrument(skip_all, fields(member.id = %member.id))]
async fn submit_cancel(
    State(state): State<AppState>,
    SignedInMember(member): SignedInMember,
    mut page: PageContext,
    Form(form): Form<CancelForm>,
) -> Result<Response, AppError> {
    let survey = match parse_survey(&state, &page, &form) {
        Ok(survey) => survey,
        Err(errors) => {
            // Shown again with what was typed; nothing is changed or stored.
            let Some(sub) = cancellable(&state, &member).await? else {
                return Err(AppError::Conflict("error-membership-ended"));
            };
            let html = cancel_page(&state, &mut page, &sub, &form, &errors).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
        }
    };
    retention::change(&state.ctx, member.id, form.subscription.trim(), Ask::Cancel(survey)).await?;
    Ok(Redirect::to("/account").into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PauseForm {
    subscription: String,
    months: String,
}

#[tracing::instrument(skip_all, fields(member.id = %member.id))]
async fn submit_pause(
    State(state): State<AppState>,
    SignedInMember(member): SignedInMember,
    Form(form): Form<PauseForm>,
) -> Result<Response, AppError> {
    let months = PauseMonths::parse(&form.months).map_err(|e| AppError::BadRequest(e.message_key()))?;
    retention::change(&state.ctx, member.id, form.subscription.trim(), Ask::Pause(months)).await?;
    Ok(Redirect::to("/account").into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ResumeForm {
    subscription: String,
}

#[tracing::instrument(skip_all, fields(member.id = %member.id))]
async fn submit_resume(
    State(state): State<AppState>,
    SignedInMember(member): SignedInMember,
    Form(form): Form<ResumeForm>,
) -> Result<Response, AppError> {
    retention::change(&state.ctx, member.id, form.subscription.trim(), Ask::Resume).await?;
    Ok(Redirect::to("/account").into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SwitchForm {
    subscription: String,
    price: String,
}

/// "Switch to a cheaper tier" from the cancel offer: the new price applies from
/// the next payment, and the patron stays a patron.
#[tracing::instrument(skip_all, fields(member.id = %member.id))]
async fn submit_switch(
    State(state): State<AppState>,
    SignedInMember(member): SignedInMember,
    Form(form): Form<SwitchForm>,
) -> Result<Response, AppError> {
    retention::change(&state.ctx, member.id, form.subscription.trim(), Ask::Switch(form.price)).await?;
    Ok(Redirect::to("/account").into_response())
}
