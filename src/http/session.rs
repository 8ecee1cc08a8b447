//! Cookies and the middleware that finds the signed-in member once per request.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};

use super::extract::CurrentMember;
use super::state::AppState;
use crate::services::sessions::{self, MEMBER, STAFF};

/// The names of our cookies. Over https they carry the browser-enforced
/// prefixes: `__Host-` (Secure, this host only, path `/`: no subdomain or
/// plain-http page can set or shadow them) and, for the staff cookie, which is
/// scoped to `/admin` so staff credentials never travel with reader pages,
/// `__Secure-` (`__Host-` requires path `/`).
#[derive(Debug)]
pub struct CookieNames {
    pub member: &'static str,
    pub staff: &'static str,
    pub lang: &'static str,
    /// Where the reader came from, for this browser session (`http::source`).
    pub source: &'static str,
}

const PLAIN: CookieNames =
    CookieNames { member: "patronage_session", staff: "patronage_staff", lang: "lang", source: "patronage_source" };
const PREFIXED: CookieNames = CookieNames {
    member: "__Host-patronage_session",
    staff: "__Secure-patronage_staff",
    lang: "__Host-lang",
    source: "__Host-patronage_source",
};

pub fn cookie_names(secure: bool) -> &'static CookieNames {
    if secure { &PREFIXED } else { &PLAIN }
}

pub fn names(state: &AppState) -> &'static CookieNames {
    cookie_names(state.config.secure_cookies())
}

fn base_cookie(state: &AppState, name: &'static str, value: String, path: &'static str) -> Cookie<'static> {
    Cookie::build((name, value))
        .path(path)
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.secure_cookies())
        .build()
}

pub fn member_cookie(state: &AppState, token: String) -> Cookie<'static> {
    let mut c = base_cookie(state, names(state).member, token, "/");
    c.set_max_age(time::Duration::microseconds(MEMBER.absolute));
    c
}

pub fn staff_cookie(state: &AppState, token: String) -> Cookie<'static> {
    let mut c = base_cookie(state, names(state).staff, token, "/admin");
    c.set_max_age(time::Duration::microseconds(STAFF.absolute));
    c
}

pub fn lang_cookie(state: &AppState, code: &str) -> Cookie<'static> {
    let mut c = base_cookie(state, names(state).lang, code.to_string(), "/");
    c.set_max_age(time::Duration::days(365));
    c
}

/// The reader's last source: first-party, no expiry (the browser forgets it when
/// its session ends), sent to our own pages only.
pub fn source_cookie(state: &AppState, value: String) -> Cookie<'static> {
    base_cookie(state, names(state).source, value, "/")
}

/// A cookie that deletes `name` at `path` in the browser.
pub fn removal(state: &AppState, name: &'static str, path: &'static str) -> Cookie<'static> {
    let mut c = base_cookie(state, name, String::new(), path);
    c.make_removal();
    c
}

/// Resolves the member session cookie (one indexed query, or the cache for a
/// page) and records the result in the request extensions for extractors and
/// templates. A request that changes something (not GET or HEAD) never trusts
/// the cache.
/// The public API is anonymous: its requests are never matched to a member.
pub async fn load_member(State(state): State<AppState>, jar: CookieJar, mut request: Request, next: Next) -> Response {
    let cookie = if super::api::is_api(request.uri().path()) { None } else { jar.get(names(&state).member) };
    let member = match cookie {
        Some(cookie) => {
            match sessions::member_for_cookie(&state.ctx, cookie.value(), !request.method().is_safe()).await {
                Ok(found) => found,
                // Who this is cannot be known now: answering as if signed out would send
                // a member to sign in again (which fails too) or show them a stranger's page.
                Err(e) if e.is_unreachable() => return super::AppError::from(e).into_response(),
                Err(e) => {
                    tracing::error!(error = %e, "session lookup failed");
                    None
                }
            }
        }
        None => None,
    };
    request.extensions_mut().insert(CurrentMember(member));
    next.run(request).await
}
