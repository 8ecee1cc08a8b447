//! The corrections and clarifications box, for readers: no account needed.
//!
//! - `/corrections/new?url=…` is a plain page (the link's target when scripts are
//!   off), posting to itself; `/corrections/thanks` follows.
//! - `/embed/correction?url=…&quote=…` is the same form as a dialog made to fill
//!   a frame that `embed.js` lays over the article when a reader selects text and
//!   presses Ctrl+Enter (or follows the link): it draws its own backdrop, so the
//!   host page needs no CSS. It may be framed by the newsroom's sites only, posts
//!   to its own origin (so the usual CSRF check holds), and asks the script to
//!   close it by `postMessage`.
//!
//! Refusals (a filled honeypot, an address off the newsroom's sites, an over-long
//! quote, a missing note, the rate limits) re-render the form with the reason in
//! the reader's language, and store nothing.
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use tower_http::limit::RequestBodyLimitLayer;

use super::error::AppError;
use super::extract::{ClientIp, FieldErrors, Form, PageContext};
use super::state::AppState;
use crate::domain::{ArticleAddress, CorrectionNote, Email, Locale, Quote};
use crate::i18n::Arg;
use crate::services::corrections::{self, CorrectionsError, Suggestion};

/// A suggestion's form is small: 1,000 characters of quote and 2,000 of note,
/// percent-encoded (up to 9 bytes a character), fit with room to spare.
pub const BODY_LIMIT_BYTES: usize = 32 * 1024;

/// The plain page, among our own pages (never framed).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/corrections/new", get(show_page).post(submit_page))
        .route("/corrections/thanks", get(show_page_thanks))
        .route_layer(RequestBodyLimitLayer::new(BODY_LIMIT_BYTES))
}

/// The dialog in a frame on the newsroom's article pages.
pub fn framed_router() -> Router<AppState> {
    Router::new()
        .route("/embed/correction", get(show_dialog).post(submit_dialog))
        .route("/embed/correction/thanks", get(show_dialog_thanks))
        .route_layer(RequestBodyLimitLayer::new(BODY_LIMIT_BYTES))
}

/// `?url=…&quote=…&lang=uk&theme=dark`: all optional.
#[derive(Deserialize, Default)]
#[serde(default)]
struct OpenQuery {
    url: String,
    quote: String,
    lang: String,
    theme: String,
    /// On the thanks page: the reader left an address for the reply.
    reply: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CorrectionForm {
    url: String,
    quote: String,
    note: String,
    email: String,
    lang: String,
    theme: String,
    /// The honeypot: hidden from people (off screen, out of the tab order,
    /// hidden from screen readers); a bot filling every field fills it.
    homepage: String,
}

/// `a=1&b=2`, form-encoded.
pub fn encode(pairs: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

fn theme(asked: &str) -> &'static str {
    match asked {
        "light" => "light",
        "dark" => "dark",
        _ => "auto",
    }
}

/// The policy of the dialog: framable by the newsroom's sites (and the trusted
/// origins the boxes may be framed by), and by us.
fn framable(state: &AppState, mut response: Response) -> Response {
    let mut ancestors = state.config.trusted_origins.clone();
    for origin in &state.config.newsroom_site_origins {
        if !ancestors.contains(origin) {
            ancestors.push(origin.clone());
        }
    }
    if let Ok(csp) = HeaderValue::from_str(&super::embed::embed_csp(&ancestors)) {
        response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    response
}

struct View<'a> {
    framed: bool,
    form: &'a CorrectionForm,
    errors: &'a FieldErrors,
}

fn render(state: &AppState, page: &mut PageContext, view: View<'_>) -> Result<String, AppError> {
    let View { framed, form, errors } = view;
    page.insert("framed", &framed)
        .insert("theme", theme(&form.theme))
        .insert("form_url", &form.url)
        .insert("form_quote", &form.quote)
        .insert("form_note", &form.note)
        .insert("form_email", &form.email)
        .insert("form_theme", theme(&form.theme))
        .insert("quote_max", &Quote::MAX_CHARS)
        .insert("note_max", &CorrectionNote::MAX_CHARS)
        .insert("errors", &errors.0)
        .insert("sent", &false)
        .insert("reply", &false)
        .insert("frame_js", &super::public::static_url("correction-frame.js"));
    let template = if framed { "embed/correction.html" } else { "corrections/new.html" };
    Ok(page.render_string(state, template)?)
}

fn respond(state: &AppState, framed: bool, status: StatusCode, html: String) -> Response {
    let response = (status, axum::response::Html(html)).into_response();
    if framed { framable(state, response) } else { response }
}

/// The form as opened from an article: the address and quote filled in; an
/// address off the newsroom's sites is refused at once (and not shown back).
async fn open(state: &AppState, page: &mut PageContext, query: OpenQuery, framed: bool) -> Result<Response, AppError> {
    let mut errors = FieldErrors::default();
    let mut url = query.url;
    if !url.trim().is_empty()
        && let Err(e) = ArticleAddress::parse(&url, &state.config.newsroom_site_origins)
    {
        errors.add("url", page.t(state, e.message_key()));
        url.clear();
    }
    let form = CorrectionForm {
        url,
        quote: query.quote.chars().take(Quote::MAX_CHARS).collect(),
        lang: page.locale.as_str().to_string(),
        theme: query.theme,
        ..Default::default()
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::BAD_REQUEST };
    let html = render(state, page, View { framed, form: &form, errors: &errors })?;
    Ok(respond(state, framed, status, html))
}

/// The page's language: the one asked for (the script passes the article's), else the reader's.
fn page_for(state: &AppState, page: PageContext, lang: &str, path: &str) -> PageContext {
    match lang.parse::<Locale>() {
        Ok(locale) if locale != page.locale => PageContext::new(state, locale, page.member, path),
        _ => page,
    }
}

async fn show_page(
    State(state): State<AppState>,
    Query(query): Query<OpenQuery>,
    page: PageContext,
) -> Result<Response, AppError> {
    // The language switcher comes back here with the article's address.
    let path = if query.url.is_empty() {
        "/corrections/new".to_string()
    } else {
        format!("/corrections/new?{}", encode(&[("url", &query.url)]))
    };
    let mut page = page_for(&state, page, &query.lang, &path);
    open(&state, &mut page, query, false).await
}

async fn show_dialog(
    State(state): State<AppState>,
    Query(query): Query<OpenQuery>,
    page: PageContext,
) -> Result<Response, AppError> {
    // What the frame shows depends on nothing personal: no member, no session.
    let locale = query.lang.parse().unwrap_or(page.locale);
    let mut page = PageContext::anonymous(&state, locale, "/embed/correction");
    open(&state, &mut page, query, true).await
}

/// Checks every field; the reasons, keyed by field, in the page's language.
fn parse(state: &AppState, page: &PageContext, form: &CorrectionForm) -> Result<Suggestion, FieldErrors> {
    let mut errors = FieldErrors::default();
    if !form.homepage.is_empty() {
        tracing::info!("correction refused: the honeypot field was filled");
        errors.add("form", page.t(state, "correction-error-honeypot"));
        return Err(errors);
    }
    let article = ArticleAddress::parse(&form.url, &state.config.newsroom_site_origins)
        .map_err(|e| errors.add("url", page.t(state, e.message_key())))
        .ok();
    let quote = Quote::parse(&form.quote).map_err(|e| errors.add("quote", page.t(state, e.message_key()))).ok();
    let note = CorrectionNote::parse(&form.note).map_err(|e| errors.add("note", page.t(state, e.message_key()))).ok();
    let email = if form.email.trim().is_empty() {
        Some(None)
    } else {
        Email::parse(&form.email).map(Some).map_err(|e| errors.add("email", page.t(state, e.message_key()))).ok()
    };
    match (article, quote, note, email) {
        (Some(article), Some(quote), Some(note), Some(email)) if errors.is_empty() => {
            Ok(Suggestion { article, quote, note, email, locale: page.locale })
        }
        _ => Err(errors),
    }
}

async fn submit(
    state: &AppState,
    page: &mut PageContext,
    ip: &str,
    form: CorrectionForm,
    framed: bool,
) -> Result<Response, AppError> {
    let suggestion = match parse(state, page, &form) {
        Ok(s) => s,
        Err(errors) => {
            let html = render(state, page, View { framed, form: &form, errors: &errors })?;
            return Ok(respond(state, framed, StatusCode::UNPROCESSABLE_ENTITY, html));
        }
    };
    match corrections::submit(&state.ctx, &suggestion, ip).await {
        Ok(_) => {
            let mut query = vec![("url", suggestion.article.as_str()), ("lang", page.locale.as_str())];
            if suggestion.email.is_some() {
                query.push(("reply", "1"));
            }
            if framed {
                query.push(("theme", theme(&form.theme)));
            }
            let query = encode(&query);
            let path = if framed { "/embed/correction/thanks" } else { "/corrections/thanks" };
            Ok(Redirect::to(&format!("{path}?{query}")).into_response())
        }
        Err(CorrectionsError::RateLimited { retry_after_secs }) => {
            let minutes = (retry_after_secs + 59) / 60;
            let message = state.ctx.views.i18n().t(
                page.locale,
                "correction-error-rate-limited",
                &[("minutes", Arg::Num(minutes as f64))],
            );
            let mut errors = FieldErrors::default();
            errors.add("form", message);
            let html = render(state, page, View { framed, form: &form, errors: &errors })?;
            let mut response = respond(state, framed, StatusCode::TOO_MANY_REQUESTS, html);
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Ok(response)
        }
        Err(e) => Err(e.into()),
    }
}

#[tracing::instrument(skip_all)]
async fn submit_page(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    page: PageContext,
    Form(form): Form<CorrectionForm>,
) -> Result<Response, AppError> {
    let mut page = page_for(&state, page, &form.lang, "/corrections/new");
    submit(&state, &mut page, &ip, form, false).await
}

#[tracing::instrument(skip_all)]
async fn submit_dialog(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    page: PageContext,
    Form(form): Form<CorrectionForm>,
) -> Result<Response, AppError> {
    let locale = form.lang.parse().unwrap_or(page.locale);
    let mut page = PageContext::anonymous(&state, locale, "/embed/correction");
    submit(&state, &mut page, &ip, form, true).await
}

/// "Thank you", with the way back to the article (only an address on the
/// newsroom's sites is linked).
fn thanks(state: &AppState, page: &mut PageContext, query: &OpenQuery, framed: bool) -> Result<Response, AppError> {
    let back = ArticleAddress::parse(&query.url, &state.config.newsroom_site_origins).ok();
    page.insert("framed", &framed)
        .insert("theme", theme(&query.theme))
        .insert("sent", &true)
        .insert("reply", &(query.reply == "1"))
        .insert("back_url", &back.as_ref().map(ArticleAddress::as_str))
        .insert("frame_js", &super::public::static_url("correction-frame.js"));
    let template = if framed { "embed/correction.html" } else { "corrections/thanks.html" };
    let html = page.render_string(state, template)?;
    Ok(respond(state, framed, StatusCode::OK, html))
}

async fn show_page_thanks(
    State(state): State<AppState>,
    Query(query): Query<OpenQuery>,
    page: PageContext,
) -> Result<Response, AppError> {
    let mut page = page_for(&state, page, &query.lang, "/corrections/thanks");
    thanks(&state, &mut page, &query, false)
}

async fn show_dialog_thanks(
    State(state): State<AppState>,
    Query(query): Query<OpenQuery>,
    page: PageContext,
) -> Result<Response, AppError> {
    let locale = query.lang.parse().unwrap_or(page.locale);
    let mut page = PageContext::anonymous(&state, locale, "/embed/correction/thanks");
    thanks(&state, &mut page, &query, true)
}
