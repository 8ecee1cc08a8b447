//! Cookies and the middleware that finds the signed-in member once per request.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};

use super::extract::CurrentMember;
use super::state::AppState;
use crate::services::sessions::{self, MEMBER, STAFF};

pub const MEMBER_COOKIE: &str = "patronage_session";
/// Scoped to `/admin`, so staff credentials never travel with reader pages.
pub const STAFF_COOKIE: &str = "patronage_staff";
pub const LANG_COOKIE: &str = "lang";

fn base_cookie(state: &AppState, name: &'static str, value: String, path: &'static str) -> Cookie<'static> {
    Cookie::build((name, value))
        .path(path)
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.secure_cookies())
        .build()
}

pub fn member_cookie(state: &AppState, token: String) -> Cookie<'static> {
    let mut c = base_cookie(state, MEMBER_COOKIE, token, "/");
    c.set_max_age(time::Duration::microseconds(MEMBER.absolute));
    c
}

pub fn staff_cookie(state: &AppState, token: String) -> Cookie<'static> {
    let mut c = base_cookie(state, STAFF_COOKIE, token, "/admin");
    c.set_max_age(time::Duration::microseconds(STAFF.absolute));
    c
}

pub fn lang_cookie(state: &AppState, code: &str) -> Cookie<'static> {
    let mut c = base_cookie(state, LANG_COOKIE, code.to_string(), "/");
    c.set_max_age(time::Duration::days(365));
    c
}

/// A cookie that deletes `name` at `path` in the browser.
pub fn removal(state: &AppState, name: &'static str, path: &'static str) -> Cookie<'static> {
    let mut c = base_cookie(state, name, String::new(), path);
    c.make_removal();
    c
}

/// Resolves the member session cookie (one indexed query) and records the result
/// in the request extensions for extractors and templates.
pub async fn load_member(State(state): State<AppState>, jar: CookieJar, mut request: Request, next: Next) -> Response {
    let member = match jar.get(MEMBER_COOKIE) {
        Some(cookie) => match sessions::member_for_cookie(&state.ctx, cookie.value()).await {
            Ok(found) => found,
            Err(e) => {
                tracing::error!(error = %e, "session lookup failed");
                None
            }
        },
        None => None,
    };
    request.extensions_mut().insert(CurrentMember(member));
    next.run(request).await
}
