//! The landing page, joining, the language switcher and static files.
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::error::AppError;
use super::extract::{ClientIp, FieldErrors, Form, PageContext};
use super::page_cache::PageKey;
use super::session::lang_cookie;
use super::state::AppState;
use crate::assets::STATIC_FILES;
use crate::domain::{Email, Locale, PersonName};
use crate::services::membership;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(show_landing))
        .route("/lang", post(switch_language))
        .route("/static/{file}", get(serve_static))
}

/// Routes the newsroom's own website may post to from its article pages
/// (origins in `TRUSTED_ORIGINS`).
pub fn embeddable_forms_router() -> Router<AppState> {
    Router::new().route("/join", get(show_join_form).post(submit_join))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct JoinForm {
    pub email: String,
    pub name: String,
    /// Optional: lets a form on the newsroom's site choose the language.
    pub lang: String,
    /// Optional: where the reader came from (`article`, `referrer`, `utm_*`).
    #[serde(flatten)]
    pub source: crate::domain::RawSource,
}

fn join_page(
    state: &AppState,
    page: &mut PageContext,
    form: &JoinForm,
    errors: &FieldErrors,
    template: &str,
) -> Result<axum::response::Html<String>, AppError> {
    page.insert("form_email", &form.email);
    page.insert("form_name", &form.name);
    page.insert("errors", &errors.0);
    page.render(state, template)
}

async fn render_landing(state: &AppState, page: &mut PageContext, currency: &str) -> Result<String, AppError> {
    let form = super::patron::PatronForm { currency: currency.to_string(), ..Default::default() };
    super::patron::patron_form_context(state, page, &form, &FieldErrors::default()).await?;
    insert_teaser(state, page).await?;
    let patrons = crate::services::checkout::public_patron_count(&state.ctx)
        .await
        .map_err(crate::services::StorageError::from)?;
    page.insert("patron_count", &patrons.map(|n| crate::numbers::number(page.locale, n)));
    let pitch = crate::services::content::pitch(&state.ctx, page.locale).await?;
    page.insert("pitch", &pitch);
    // The offer staff feature, in the reader's language (none once it closed).
    if let Some(offer) = crate::services::offers::featured(&state.ctx).await? {
        let shown = form.currency.parse().ok();
        let headline = super::patron::offer_headline(state, page.locale, &offer, shown);
        let link = format!("/patron?offer={}", offer.slug);
        page.insert("featured_offer", &serde_json::json!({ "headline": headline, "link": link }));
    }
    Ok(join_page(state, page, &JoinForm::default(), &FieldErrors::default(), "public/landing.html")?.0)
}

#[derive(serde::Serialize)]
struct TeaserTopic {
    id: String,
    title: String,
}

/// What the landing page shows of the votes: the open round with its three
/// leading topics (in ballot order when its tallies are not public), and the
/// latest story readers asked for and got.
async fn insert_teaser(state: &AppState, page: &mut PageContext) -> Result<(), AppError> {
    let mut teaser = crate::services::voting::pages::landing_teaser(&state.ctx).await?;
    let texts = crate::services::content::localiser(&state.ctx, page.locale).await?;
    if let Some((round, leading)) = &mut teaser.open_round {
        texts.round(round);
        leading.iter_mut().for_each(|e| texts.ballot_entry(e));
    }
    if let Some((topic, _)) = &mut teaser.latest_covered {
        texts.topic(topic);
    }
    if let Some((round, leading)) = &teaser.open_round {
        let topics: Vec<TeaserTopic> =
            leading.iter().map(|e| TeaserTopic { id: e.topic_id.clone(), title: e.title.clone() }).collect();
        page.insert("teaser_round", &serde_json::json!({ "id": round.id.to_string(), "title": round.title }))
            .insert("teaser_topics", &topics);
    }
    if let Some((topic, articles)) = &teaser.latest_covered {
        page.insert(
            "latest_covered",
            &serde_json::json!({ "id": topic.id.to_string(), "title": topic.title, "article": articles.first() }),
        );
    }
    Ok(())
}

#[tracing::instrument(skip_all)]
async fn show_landing(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    Query(query): Query<super::patron::CurrencyQuery>,
    mut page: PageContext,
) -> Result<Response, AppError> {
    // One cached copy per language and currency asked for (only known codes, so
    // made-up ones cannot fill the cache).
    let currency = crate::domain::Currency::parse(&query.currency).map(|c| c.as_str().to_string()).unwrap_or_default();
    if page.member.is_some() {
        return Ok(axum::response::Html(render_landing(&state, &mut page, &currency).await?).into_response());
    }
    let generation = state.ctx.caches.generation();
    let locale = page.locale;
    let cached = state
        .pages
        .get_or_render(&state.ctx.clock, generation, PageKey::landing(locale, &currency), || {
            render_landing(&state, &mut page, &currency)
        })
        .await?;
    Ok(cached.respond(&headers))
}

async fn show_join_form(State(state): State<AppState>, mut page: PageContext) -> Result<Response, AppError> {
    Ok(join_page(&state, &mut page, &JoinForm::default(), &FieldErrors::default(), "public/join.html")?.into_response())
}

#[tracing::instrument(skip_all)]
async fn submit_join(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: axum::http::HeaderMap,
    mut page: PageContext,
    Form(form): Form<JoinForm>,
) -> Result<Response, AppError> {
    let mut errors = FieldErrors::default();
    let email = Email::parse(&form.email).map_err(|e| errors.add("email", page.t(&state, e.message_key()))).ok();
    let name =
        PersonName::parse_optional(&form.name).map_err(|e| errors.add("name", page.t(&state, e.message_key()))).ok();
    let (Some(email), Some(name)) = (email, name) else {
        let html = join_page(&state, &mut page, &form, &errors, "public/join.html")?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
    };
    let locale = form.lang.parse::<Locale>().unwrap_or(page.locale);
    let source = super::source::source_for(&state, &form.source, &headers);
    membership::join(&state.ctx, &email, name.as_ref(), locale, &ip, source.as_ref()).await?;
    Ok(Redirect::to("/signin/sent").into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct LanguageForm {
    lang: String,
    next: String,
}

/// Only paths on this site: never an open redirect. `next` is read as a browser
/// would read it on our pages (tabs and newlines dropped, backslashes as
/// slashes), and kept only if it stays on our origin.
pub fn local_path(public_url: &str, next: &str) -> String {
    let Ok(base) = url::Url::parse(public_url) else { return "/".into() };
    match base.join(next) {
        Ok(target) if next.starts_with('/') && target.origin() == base.origin() => {
            let mut path = target.path().to_string();
            if let Some(query) = target.query() {
                path.push('?');
                path.push_str(query);
            }
            path
        }
        _ => "/".into(),
    }
}

async fn switch_language(
    State(state): State<AppState>,
    page: PageContext,
    jar: CookieJar,
    Form(form): Form<LanguageForm>,
) -> Result<Response, AppError> {
    let locale: Locale = form.lang.parse().map_err(|_| AppError::BadRequest("error-bad-request"))?;
    if let Some(member) = &page.member {
        membership::set_locale(&state.ctx, member.id, locale).await?;
    }
    let jar = jar.add(lang_cookie(&state, locale.as_str()));
    Ok((jar, Redirect::to(&local_path(&state.config.public_url, &form.next))).into_response())
}

/// Static files are embedded in the binary. The stylesheet is linked with a
/// content hash in its name, so it can be cached forever.
async fn serve_static(State(_state): State<AppState>, Path(file): Path<String>) -> Result<Response, AppError> {
    // `name.<hash>.ext` is `name.ext` at that content: kept by browsers for a year.
    let hashed = STATIC_FILES.iter().map(|(n, _)| *n).find(|n| static_url(n).trim_start_matches("/static/") == file);
    let name = hashed.unwrap_or(file.as_str());
    let hashed = hashed.is_some();
    let (_, content) = STATIC_FILES.iter().find(|(n, _)| *n == name).ok_or(AppError::NotFound)?;
    let content_type = match name.rsplit('.').next() {
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("js") => "text/javascript; charset=utf-8",
        _ => "text/plain; charset=utf-8",
    };
    let cache = if hashed { "public, max-age=31536000, immutable" } else { "public, max-age=3600" };
    let mut response = (*content).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    Ok(response)
}

/// `/static/style.<hash>.css` for the embedded stylesheet.
pub fn css_url() -> String {
    static_url("style.css")
}

/// `/static/<stem>.<hash>.<ext>` for an embedded static file: its URL changes
/// with its content, so it can be cached as immutable.
pub fn static_url(name: &str) -> String {
    use sha2::{Digest, Sha256};
    let content = STATIC_FILES.iter().find(|(n, _)| *n == name).map(|(_, c)| *c).unwrap_or_default();
    let digest = crate::tokens::hex(&Sha256::digest(content.as_bytes()));
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
    format!("/static/{stem}.{}.{ext}", &digest[..12])
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn redirects_stay_on_this_site() {
        let site = "https://members.example.org";
        assert_eq!(local_path(site, "/account"), "/account");
        assert_eq!(local_path(site, "/topics?updated"), "/topics?updated");
        assert_eq!(local_path(site, "//evil.example"), "/");
        assert_eq!(local_path(site, "https://evil.example"), "/");
        assert_eq!(local_path(site, "/\\evil.example"), "/");
        // A browser drops tabs and newlines: this is //evil.example to it.
        assert_eq!(local_path(site, "/\t/evil.example"), "/");
        assert_eq!(local_path(site, "/\n/evil.example/x"), "/");
        assert_eq!(local_path(site, "https://members.example.org/account"), "/");
    }
}
