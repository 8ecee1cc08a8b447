//! One error type for every handler, mapped to a status in one place. The body is
//! rendered by [`render_error_pages`], which knows the reader's language: a
//! friendly page for people, JSON for `/api` and `/embed` callers.
//!
//! Storage failures arrive as [`StorageError`], either directly (use cases that
//! can only fail in storage) or inside a service's own error as its `Db`
//! variant, which is mapped through `StorageError` too: a record that is not
//! there is a 404, anything else a 500 logged with its cause chain.
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use super::extract::{PageContext, resolve_locale};
use super::state::AppState;
use crate::services::StorageError;
use crate::services::billing::BillingError;
use crate::services::checkout::CheckoutError;
use crate::services::membership::MembershipError;
use crate::services::outbox::OutboxError;
use crate::services::staff::StaffError;
use crate::services::tiers::TierError;
use crate::services::voting::{Refusal, VotingError};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("sign-in required")]
    SignInRequired,
    #[error("staff sign-in required")]
    StaffSignInRequired,
    /// The request cannot be understood; the key names a catalogue message.
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    /// The request is understood but conflicts with the current state (a closed
    /// round, a vote already cast); the key names a catalogue message.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// Refused for this person, with a catalogue message saying why.
    #[error("not allowed: {0}")]
    NotAllowed(&'static str),
    /// A query parameter an API caller sent is unknown or its value is not
    /// accepted; the key names a catalogue message that names the parameter.
    #[error("invalid parameter {parameter}: {key}")]
    InvalidParameter { key: &'static str, parameter: String },
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("rate limited")]
    RateLimited { retry_after_secs: i64 },
    #[error("invalid or expired link")]
    InvalidLink,
    /// The payment provider failed or could not be reached.
    #[error("payment provider: {0}")]
    PaymentProvider(String),
    /// The database cannot store changes right now (a full disk, a read-only file);
    /// logged with its cause, answered 503 with Retry-After.
    #[error("storage unavailable")]
    StorageUnavailable(anyhow::Error),
    /// The database server cannot be reached (down, restarting, no connection to be
    /// had in time); logged with its cause, answered 503 with Retry-After.
    #[error("database unreachable")]
    DatabaseUnreachable(anyhow::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Seconds a client is asked to wait after a 503 for storage trouble.
const STORAGE_RETRY_AFTER_SECS: i64 = 60;
/// Seconds a client is asked to wait after a 503 for an unreachable database (a
/// restart takes seconds; the pool reconnects by itself).
const UNREACHABLE_RETRY_AFTER_SECS: i64 = 10;

/// Travels from the handler to [`render_error_pages`] in the response extensions.
#[derive(Clone, Debug)]
pub struct ErrorInfo {
    pub code: &'static str,
    pub message_key: &'static str,
    /// The request's part the message names (a parameter), if any.
    pub subject: Option<String>,
    pub internal: Option<Arc<anyhow::Error>>,
}

impl AppError {
    /// The status this error is answered with.
    pub fn status(&self) -> StatusCode {
        self.parts().0
    }

    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            Self::NotFound => (StatusCode::NOT_FOUND, "not_found", "error-not-found"),
            Self::Forbidden => (StatusCode::FORBIDDEN, "forbidden", "error-forbidden"),
            Self::SignInRequired | Self::StaffSignInRequired => {
                (StatusCode::SEE_OTHER, "sign_in_required", "error-sign-in-required")
            }
            Self::BadRequest(key) => (StatusCode::BAD_REQUEST, "bad_request", key),
            Self::InvalidParameter { key, .. } => (StatusCode::BAD_REQUEST, "invalid_parameter", key),
            Self::Conflict(key) => (StatusCode::CONFLICT, "conflict", key),
            Self::NotAllowed(key) => (StatusCode::FORBIDDEN, "not_allowed", key),
            Self::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "error-too-large"),
            Self::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited", "error-rate-limited"),
            Self::InvalidLink => (StatusCode::GONE, "invalid_link", "error-invalid-link"),
            Self::PaymentProvider(_) => (StatusCode::BAD_GATEWAY, "payment_provider", "error-payment-provider"),
            Self::StorageUnavailable(_) => {
                (StatusCode::SERVICE_UNAVAILABLE, "storage_unavailable", "error-storage-unavailable")
            }
            Self::DatabaseUnreachable(_) => {
                (StatusCode::SERVICE_UNAVAILABLE, "database_unreachable", "error-database-unreachable")
            }
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal", "error-internal"),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            Self::SignInRequired => return Redirect::to("/signin").into_response(),
            Self::StaffSignInRequired => return Redirect::to("/admin/login").into_response(),
            _ => {}
        }
        let (status, code, message_key) = self.parts();
        let mut response = status.into_response();
        let retry_after = match &self {
            Self::RateLimited { retry_after_secs } => Some(*retry_after_secs),
            Self::StorageUnavailable(_) => Some(STORAGE_RETRY_AFTER_SECS),
            Self::DatabaseUnreachable(_) => Some(UNREACHABLE_RETRY_AFTER_SECS),
            _ => None,
        };
        if let Some(secs) = retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        let (internal, subject) = match self {
            Self::Internal(e) | Self::StorageUnavailable(e) | Self::DatabaseUnreachable(e) => (Some(Arc::new(e)), None),
            Self::InvalidParameter { parameter, .. } => (None, Some(parameter)),
            _ => (None, None),
        };
        response.extensions_mut().insert(ErrorInfo { code, message_key, subject, internal });
        response
    }
}

impl From<StorageError> for AppError {
    fn from(e: StorageError) -> Self {
        if e.is_not_found() {
            Self::NotFound
        } else if e.is_unreachable() {
            Self::DatabaseUnreachable(anyhow::Error::new(e).context("database"))
        } else if e.is_unavailable() {
            Self::StorageUnavailable(anyhow::Error::new(e).context("database"))
        } else {
            Self::Internal(anyhow::Error::new(e).context("database"))
        }
    }
}

impl From<crate::services::receipts::StatementError> for AppError {
    fn from(e: crate::services::receipts::StatementError) -> Self {
        use crate::services::receipts::StatementError;
        match e {
            StatementError::Year(e) => Self::BadRequest(e.message_key()),
            StatementError::Storage(e) => e.into(),
            StatementError::Mail(e) => e.into(),
        }
    }
}

impl From<crate::services::offers::OfferError> for AppError {
    fn from(e: crate::services::offers::OfferError) -> Self {
        use crate::services::offers::OfferError;
        match e {
            OfferError::Refused(r) => Self::Conflict(r.message_key()),
            OfferError::SlugTaken | OfferError::CodeTaken => Self::Conflict("error-bad-request"),
            OfferError::Gateway(e) => {
                tracing::error!(error = %e, "payment provider call failed");
                Self::PaymentProvider(e.to_string())
            }
            OfferError::Db(e) => StorageError::from(e).into(),
        }
    }
}

impl From<BillingError> for AppError {
    fn from(e: BillingError) -> Self {
        match e {
            BillingError::Db(e) => StorageError::from(e).into(),
            BillingError::Mail(e) => e.into(),
            BillingError::Offer(e) => Self::Conflict(e.message_key()),
        }
    }
}

impl From<crate::services::content::ContentError> for AppError {
    fn from(e: crate::services::content::ContentError) -> Self {
        use crate::services::content::ContentError;
        match e {
            ContentError::NotFound => Self::NotFound,
            ContentError::Db(e) => StorageError::from(e).into(),
        }
    }
}

impl From<crate::services::corrections::CorrectionsError> for AppError {
    fn from(e: crate::services::corrections::CorrectionsError) -> Self {
        use crate::services::corrections::CorrectionsError;
        match e {
            CorrectionsError::RateLimited { retry_after_secs } => Self::RateLimited { retry_after_secs },
            CorrectionsError::NotFound => Self::NotFound,
            CorrectionsError::Changed => Self::Conflict("correction-error-changed"),
            CorrectionsError::Outbox(e) => e.into(),
            CorrectionsError::Db(e) => StorageError::from(e).into(),
        }
    }
}

impl From<TierError> for AppError {
    fn from(e: TierError) -> Self {
        match e {
            TierError::NotFound => Self::NotFound,
            // The tier form shows this beside the field; nothing else raises it.
            TierError::SlugTaken => Self::BadRequest("error-bad-request"),
            TierError::Db(e) => StorageError::from(e).into(),
        }
    }
}

impl From<OutboxError> for AppError {
    fn from(e: OutboxError) -> Self {
        Self::Internal(anyhow::Error::new(e))
    }
}

impl From<MembershipError> for AppError {
    fn from(e: MembershipError) -> Self {
        match e {
            MembershipError::RateLimited { retry_after_secs } => Self::RateLimited { retry_after_secs },
            MembershipError::InvalidLink => Self::InvalidLink,
            // The sign-in page shows these beside the form; elsewhere they are a used-up link.
            MembershipError::MalformedCode
            | MembershipError::WrongCode { .. }
            | MembershipError::CodeDead
            | MembershipError::NoCode => Self::InvalidLink,
            MembershipError::NotFound => Self::NotFound,
            MembershipError::Gateway(e) => {
                tracing::error!(error = %e, "payment provider call failed");
                Self::PaymentProvider(e.to_string())
            }
            MembershipError::Billing(e) => e.into(),
            MembershipError::Outbox(e) => e.into(),
            MembershipError::Db(e) => StorageError::from(e).into(),
        }
    }
}

impl From<CheckoutError> for AppError {
    fn from(e: CheckoutError) -> Self {
        match e {
            CheckoutError::RateLimited { retry_after_secs } => Self::RateLimited { retry_after_secs },
            CheckoutError::UnknownPrice
            | CheckoutError::BelowMinimum
            | CheckoutError::AmountOutOfRange
            | CheckoutError::GoalCurrency => Self::BadRequest("error-bad-request"),
            CheckoutError::Gateway(e) => {
                tracing::error!(error = %e, "payment provider call failed");
                Self::PaymentProvider(e.to_string())
            }
            CheckoutError::Membership(e) => e.into(),
            CheckoutError::Db(e) => StorageError::from(e).into(),
            CheckoutError::Billing(e) => e.into(),
            CheckoutError::Offer(e) => e.into(),
        }
    }
}

impl From<crate::services::goals::GoalServiceError> for AppError {
    fn from(e: crate::services::goals::GoalServiceError) -> Self {
        use crate::services::goals::GoalServiceError;
        match e {
            GoalServiceError::UnknownTopic => Self::NotFound,
            GoalServiceError::NotFundable | GoalServiceError::NoOpenGoal | GoalServiceError::CurrencyLocked => {
                Self::BadRequest(e.message_key())
            }
            GoalServiceError::Outbox(e) => e.into(),
            GoalServiceError::Db(e) => StorageError::from(e).into(),
        }
    }
}

impl From<StaffError> for AppError {
    fn from(e: StaffError) -> Self {
        match e {
            StaffError::RateLimited { retry_after_secs } => Self::RateLimited { retry_after_secs },
            StaffError::InvalidLink | StaffError::SetupDone => Self::InvalidLink,
            StaffError::NotFound => Self::NotFound,
            StaffError::BadCredentials => Self::BadRequest("error-bad-credentials"),
            StaffError::EmailTaken => Self::BadRequest("error-staff-email-taken"),
            StaffError::LastAdmin => Self::BadRequest("error-last-admin"),
            StaffError::Db(e) => StorageError::from(e).into(),
            e @ StaffError::Hashing(_) => Self::Internal(anyhow::Error::new(e)),
        }
    }
}

impl From<VotingError> for AppError {
    fn from(e: VotingError) -> Self {
        match e {
            VotingError::RateLimited { retry_after_secs } => Self::RateLimited { retry_after_secs },
            VotingError::NotFound => Self::NotFound,
            VotingError::InvalidMove { .. } => Self::Conflict("error-topic-state"),
            VotingError::InvalidRound(key) => Self::BadRequest(key),
            VotingError::Refused(
                r @ (Refusal::PatronsOnly | Refusal::Lapsed | Refusal::Paused | Refusal::PaymentNotCleared),
            ) => Self::NotAllowed(r.message_key()),
            VotingError::Refused(r) => Self::Conflict(r.message_key()),
            VotingError::Outbox(e) => e.into(),
            VotingError::Db(e) => StorageError::from(e).into(),
        }
    }
}

fn wants_json(path: &str) -> bool {
    super::api::is_api(path) || path.starts_with("/embed/") || path == "/webhooks" || path.starts_with("/webhooks/")
}

/// Gives every error response a body: logs internal errors once (with their cause
/// chain) and renders a page in the reader's language, or JSON for API callers.
/// Responses that already are a page or JSON (a handler's own form page) pass untouched.
pub async fn render_error_pages(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    // API callers are anonymous: their language comes from the request alone.
    let locale = if super::api::is_api(&path) {
        super::api::locale_of(request.uri().query(), request.headers())
    } else {
        resolve_locale(&request)
    };
    let response = next.run(request).await;
    let status = response.status();
    let has_own_body = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html") || ct.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error())
        || has_own_body && response.extensions().get::<ErrorInfo>().is_none()
    {
        return response;
    }
    let mut info =
        response.extensions().get::<ErrorInfo>().cloned().unwrap_or_else(|| fallback_info(status, &response));
    if super::api::is_api(&path) && info.code == "not_found" {
        // Callers of a mistyped endpoint are told where the list is.
        info.message_key = "api-error-not-found";
    }
    if let Some(e) = &info.internal {
        tracing::error!(error = %format!("{e:#}"), http.path = %path, "request failed");
    }
    let (mut parts, _) = response.into_parts();
    let i18n = state.ctx.views.i18n();
    let message = match &info.subject {
        Some(subject) => i18n.t(locale, info.message_key, &[("parameter", crate::i18n::Arg::Str(subject.as_str()))]),
        None => i18n.t(locale, info.message_key, &[]),
    };
    if wants_json(&path) {
        let body = serde_json::json!({ "error": { "code": info.code, "message": message } }).to_string();
        parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, body.into());
    }
    let mut page = PageContext::anonymous(&state, locale, &path);
    page.insert("status", &status.as_u16());
    page.insert("message", &message);
    page.insert("title_key", &info.message_key);
    page.insert("back_to_topics", &(path.starts_with("/topics") || path.starts_with("/rounds")));
    let body = match page.render_string(&state, "errors/error.html") {
        Ok(html) => html,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "error page failed to render");
            message
        }
    };
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, body.into())
}

/// Errors raised by layers rather than handlers (CSRF, body limit, timeout, 405).
fn fallback_info(status: StatusCode, response: &Response) -> ErrorInfo {
    let (code, message_key) = match status {
        StatusCode::FORBIDDEN if response.extensions().get::<tower_http::csrf::ProtectionError>().is_some() => {
            ("cross_site_request", "error-cross-site")
        }
        StatusCode::FORBIDDEN => ("forbidden", "error-forbidden"),
        StatusCode::NOT_FOUND => ("not_found", "error-not-found"),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "error-method"),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "error-too-large"),
        StatusCode::REQUEST_TIMEOUT | StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT => {
            ("unavailable", "error-unavailable")
        }
        s if s.is_client_error() => ("bad_request", "error-bad-request"),
        _ => ("internal", "error-internal"),
    };
    ErrorInfo { code, message_key, subject: None, internal: None }
}
