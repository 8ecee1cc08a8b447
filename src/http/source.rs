//! Where a reader came from, carried from the page they landed on to the form
//! they post. A landing page's query (`article`, `referrer`, `utm_source`,
//! `utm_medium`, `utm_campaign`, as the embedded boxes and campaign links add
//! them) or an outside `Referer` is checked and kept in a first-party cookie
//! for the browser session; the join, patron and donation forms read the
//! source from their own fields (a form on the newsroom's site), else that
//! cookie, else their `Referer`. Nothing here changes a page's body, so the
//! page cache never serves one reader's source to another.
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;

use super::session::{names, source_cookie};
use super::state::AppState;
use crate::domain::{RawSource, Source};

/// Reader pages a link from outside may land on.
fn is_landing_page(path: &str) -> bool {
    matches!(path, "/" | "/patron" | "/donate" | "/join" | "/topics" | "/covered")
        || path.starts_with("/topics/")
        || path.starts_with("/rounds/")
}

fn referer(headers: &HeaderMap) -> String {
    headers.get(header::REFERER).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

/// On a landing page with a source in its query (or an outside referrer),
/// remembers that source for this browser session.
pub async fn remember_source(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let found = (request.method() == Method::GET && is_landing_page(request.uri().path()))
        .then(|| landing_source(&state, request.uri().query().unwrap_or(""), request.headers()))
        .flatten();
    let response = next.run(request).await;
    match found {
        Some(source) => {
            let value = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(source.pairs()).finish();
            (CookieJar::new().add(source_cookie(&state, value)), response).into_response()
        }
        None => response,
    }
}

fn landing_source(state: &AppState, query: &str, headers: &HeaderMap) -> Option<Source> {
    let mut raw = if RawSource::named_in(query) {
        RawSource::from_pairs(url::form_urlencoded::parse(query.as_bytes()))
    } else {
        RawSource::default()
    };
    if raw.referrer.trim().is_empty() {
        raw.referrer = referer(headers);
    }
    Source::from_raw(&raw, &state.ctx.sources)
}

/// The source of a posted join, patron or donation form: its own fields, else
/// the session's cookie, else its `Referer` (our own pages are never a source).
pub fn source_for(state: &AppState, form: &RawSource, headers: &HeaderMap) -> Option<Source> {
    let policy = &state.ctx.sources;
    if !form.is_empty() {
        let mut raw = form.clone();
        if raw.referrer.trim().is_empty() {
            raw.referrer = referer(headers);
        }
        if let Some(source) = Source::from_raw(&raw, policy) {
            return Some(source);
        }
    }
    let remembered = CookieJar::from_headers(headers).get(names(state).source).and_then(|cookie| {
        Source::from_raw(&RawSource::from_pairs(url::form_urlencoded::parse(cookie.value().as_bytes())), policy)
    });
    remembered.or_else(|| Source::from_raw(&RawSource { referrer: referer(headers), ..Default::default() }, policy))
}
