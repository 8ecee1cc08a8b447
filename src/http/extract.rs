//! Extractors: forms whose failures are AppErrors, the client address, the
//! signed-in member, and the base context every page template gets.
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse};
use axum_extra::extract::CookieJar;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::AppError;
use super::session::cookie_names;
use super::state::AppState;
use crate::domain::{Locale, Member};

/// Whether every name and value of `application/x-www-form-urlencoded` text
/// (a body or a query string) is UTF-8 once decoded. The usual parsers decode
/// invalid bytes to U+FFFD, which would then be stored as if typed.
pub fn is_utf8_form(encoded: &[u8]) -> bool {
    encoded.split(|b| *b == b'&' || *b == b'=').all(|part| {
        let spaced: Vec<u8> = part.iter().map(|b| if *b == b'+' { b' ' } else { *b }).collect();
        percent_encoding::percent_decode(&spaced).decode_utf8().is_ok()
    })
}

/// Refuses a request whose query string is not UTF-8 once decoded, before any
/// handler sees it.
pub async fn refuse_invalid_query(request: Request, next: axum::middleware::Next) -> axum::response::Response {
    if let Some(query) = request.uri().query()
        && !is_utf8_form(query.as_bytes())
    {
        return AppError::BadRequest("error-bad-request").into_response();
    }
    next.run(request).await
}

/// `axum::Form`, with rejections turned into [`AppError`], and a body that is
/// not UTF-8 once decoded refused with 400.
pub struct Form<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Form<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let bytes = match axum::body::to_bytes(body, super::BODY_LIMIT_BYTES).await {
            Ok(bytes) => bytes,
            Err(_) => return Err(AppError::PayloadTooLarge),
        };
        if !is_utf8_form(&bytes) {
            tracing::debug!("form refused: not UTF-8");
            return Err(AppError::BadRequest("error-bad-request"));
        }
        let req = Request::from_parts(parts, axum::body::Body::from(bytes));
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(value)) => Ok(Form(value)),
            Err(rejection) => {
                if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    Err(AppError::PayloadTooLarge)
                } else {
                    tracing::debug!(error = %rejection.body_text(), "form rejected");
                    Err(AppError::BadRequest("error-bad-request"))
                }
            }
        }
    }
}

/// The client's address: the socket peer, or the last `X-Forwarded-For` hop
/// when `TRUST_FORWARDED_FOR` says a proxy we run sets it.
pub struct ClientIp(pub String);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if state.config.trust_forwarded_for {
            let forwarded = parts
                .headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty());
            if let Some(ip) = forwarded {
                return Ok(ClientIp(ip));
            }
        }
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
        Ok(ClientIp(peer.unwrap_or_else(|| "unknown".into())))
    }
}

/// The browser's `User-Agent`, kept with sessions so members recognise them.
pub struct UserAgent(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for UserAgent {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(UserAgent(parts.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_string)))
    }
}

/// Put in the request extensions by the session middleware.
#[derive(Clone)]
pub struct CurrentMember(pub Option<Arc<Member>>);

/// A signed-in member, or a redirect to the sign-in page.
pub struct SignedInMember(pub Arc<Member>);

impl<S: Send + Sync> FromRequestParts<S> for SignedInMember {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<CurrentMember>() {
            Some(CurrentMember(Some(member))) => Ok(SignedInMember(member.clone())),
            _ => Err(AppError::SignInRequired),
        }
    }
}

/// The reader's language: their saved setting when signed in, else the switcher's
/// cookie, else `Accept-Language`, else English.
pub fn locale_from_parts(extensions: &axum::http::Extensions, headers: &axum::http::HeaderMap) -> Locale {
    if let Some(CurrentMember(Some(member))) = extensions.get::<CurrentMember>() {
        return member.locale;
    }
    let jar = CookieJar::from_headers(headers);
    // Either name: the language is no secret, and this needs no configuration.
    let saved = [cookie_names(true).lang, cookie_names(false).lang].into_iter().find_map(|name| jar.get(name));
    if let Some(locale) = saved.and_then(|c| c.value().parse().ok()) {
        return locale;
    }
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(Locale::from_accept_language)
        .unwrap_or_default()
}

pub fn resolve_locale(request: &Request) -> Locale {
    locale_from_parts(request.extensions(), request.headers())
}

/// The template context every page starts from.
pub struct PageContext {
    pub locale: Locale,
    pub member: Option<Arc<Member>>,
    context: tera::Context,
}

#[derive(Serialize)]
struct LanguageChoice {
    code: &'static str,
    name: &'static str,
    current: bool,
}

impl PageContext {
    pub fn new(state: &AppState, locale: Locale, member: Option<Arc<Member>>, path: &str) -> Self {
        let mut context = tera::Context::new();
        context.insert("lang", locale.as_str());
        context.insert("newsroom", &state.config.newsroom_name);
        context.insert("css_url", &*state.css_url);
        context.insert("path", path);
        let languages: Vec<LanguageChoice> = Locale::ALL
            .iter()
            .map(|l| LanguageChoice { code: l.as_str(), name: l.native_name(), current: *l == locale })
            .collect();
        context.insert("languages", &languages);
        context.insert("signed_in", &member.is_some());
        // Without Stripe every payment is simulated; pages say so.
        context.insert("demo_payments", &state.ctx.payments.is_demo());
        Self { locale, member, context }
    }

    pub fn anonymous(state: &AppState, locale: Locale, path: &str) -> Self {
        Self::new(state, locale, None, path)
    }

    pub fn insert<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> &mut Self {
        self.context.insert(key, value);
        self
    }

    pub fn t(&self, state: &AppState, key: &str) -> String {
        state.ctx.views.i18n().t(self.locale, key, &[])
    }

    pub fn render_string(&self, state: &AppState, template: &str) -> anyhow::Result<String> {
        state.ctx.views.render(template, &self.context)
    }

    pub fn render(&self, state: &AppState, template: &str) -> Result<Html<String>, AppError> {
        Ok(Html(self.render_string(state, template)?))
    }
}

impl FromRequestParts<AppState> for PageContext {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let member = match parts.extensions.get::<CurrentMember>() {
            Some(CurrentMember(m)) => m.clone(),
            None => None,
        };
        let locale = locale_from_parts(&parts.extensions, &parts.headers);
        Ok(PageContext::new(state, locale, member, parts.uri.path()))
    }
}

/// Field errors for re-rendering a form: field name → catalogue key.
#[derive(Clone, Default, Serialize)]
pub struct FieldErrors(pub std::collections::BTreeMap<&'static str, String>);

impl FieldErrors {
    pub fn add(&mut self, field: &'static str, message: String) {
        self.0.insert(field, message);
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
