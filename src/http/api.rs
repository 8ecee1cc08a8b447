//! The public JSON API for newsroom sites that render their own boxes:
//! read-only, anonymous (no cookie is read, nothing personal is said), in the
//! reader's language, served from the page cache with an `ETag`, and readable
//! from the browser by the `TRUSTED_ORIGINS` alone (CORS).
//!
//! Its OpenAPI 3.1 document (`/api/openapi.json`) is generated from the
//! handlers' `#[utoipa::path]` attributes and the response types below, by the
//! same `routes!` calls that mount them: a route is served only with its
//! documentation.
use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use tower_http::cors::{AllowOrigin, CorsLayer};
use utoipa::{IntoParams, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::AppError;
use super::page_cache::PageKey;
use super::state::AppState;
use crate::clock::{SECOND, format_date, format_rfc3339};
use crate::domain::Locale;
use crate::services::voting::pages::{self, RoundStanding};
use crate::services::{content, goals, tiers};

/// What clients and shared caches may reuse without asking: a few seconds, as
/// the page cache does; after that they revalidate with the `ETag` (a `304`
/// while nothing changed).
pub const CACHE_CONTROL: &str = "public, max-age=5";

/// The one query parameter every endpoint takes.
const PARAMETERS: [&str; 1] = ["lang"];

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Patronage public API",
        description = "Read-only data for the newsroom's own boxes: tiers and prices, the open voting \
                       rounds and their standing, and the stories readers asked for and got. Anonymous; \
                       readable from the browser by the newsroom's trusted origins (CORS).",
        license(name = "AGPL-3.0-or-later", identifier = "AGPL-3.0-or-later")
    ),
    components(schemas(ApiError, ApiErrorDetail)),
    tags((name = "public", description = "What every reader may see"))
)]
struct ApiDoc;

/// The `/api/v1` routes with their OpenAPI document, both from the same
/// `routes!` calls.
pub fn routes() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(list_tiers))
        .routes(routes!(list_open_rounds))
        .routes(routes!(list_covered))
        .routes(routes!(list_goals))
        .split_for_parts()
}

/// The API's router: the `/api/v1` routes and the document, with CORS for the
/// trusted origins (GET and HEAD; OPTIONS answers preflight requests).
pub fn router(trusted_origins: &[String]) -> anyhow::Result<Router<AppState>> {
    let (v1, doc) = routes();
    let document: Arc<str> = serde_json::to_string(&doc)?.into();
    let origins = trusted_origins
        .iter()
        .map(|o| HeaderValue::from_str(o).map_err(|e| anyhow::anyhow!("TRUSTED_ORIGINS: {o:?}: {e}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::HEAD])
        .max_age(std::time::Duration::from_secs(3600));
    Ok(v1.route("/api/openapi.json", get(move || show_document(document.clone()))).layer(cors))
}

/// Whether `path` is the API's, whose callers get JSON and no session.
pub fn is_api(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

/// The caller's language: `lang` when it names one we have, else
/// `Accept-Language`, else English. Cookies are not read.
pub fn locale_of(query: Option<&str>, headers: &HeaderMap) -> Locale {
    let asked = query.into_iter().flat_map(|q| url::form_urlencoded::parse(q.as_bytes())).find(|(k, _)| k == "lang");
    if let Some(locale) = asked.and_then(|(_, v)| v.parse().ok()) {
        return locale;
    }
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(Locale::from_accept_language)
        .unwrap_or_default()
}

async fn show_document(document: Arc<str>) -> Response {
    let mut response = document.to_string().into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    response
}

/// The query every endpoint takes.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct LangQuery {
    /// The language of the texts: `en` or `uk`. Without it, the request's
    /// `Accept-Language` decides (English when it names neither).
    #[param(value_type = Option<String>, pattern = "^(en|uk)$")]
    lang: Option<String>,
}

/// The caller's language, from a query with no other parameter: an unknown
/// parameter, a repeated one or a language we do not have is refused (400).
pub struct ApiLang(pub Locale);

impl<S: Send + Sync> FromRequestParts<S> for ApiLang {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let mut lang: Option<String> = None;
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            if !PARAMETERS.contains(&name.as_ref()) {
                return Err(AppError::InvalidParameter { key: "api-error-unknown-parameter", parameter: name.into() });
            }
            if lang.replace(value.into_owned()).is_some() {
                return Err(AppError::InvalidParameter { key: "api-error-repeated-parameter", parameter: name.into() });
            }
        }
        match lang {
            Some(code) => match code.parse() {
                Ok(locale) => Ok(ApiLang(locale)),
                Err(_) => Err(AppError::InvalidParameter { key: "api-error-bad-lang", parameter: code }),
            },
            None => Ok(ApiLang(locale_of(None, &parts.headers))),
        }
    }
}

/// An error: its code for programs, its message in the caller's language.
#[derive(Serialize, ToSchema)]
struct ApiError {
    error: ApiErrorDetail,
}

#[derive(Serialize, ToSchema)]
struct ApiErrorDetail {
    /// `invalid_parameter`, `not_found`, `method_not_allowed`, `internal`, …
    code: String,
    message: String,
}

/// The cached document for `path` in `lang`, or the one `render` makes; `304`
/// when the caller has it already.
async fn cached_json<F, Fut>(
    state: &AppState,
    headers: &HeaderMap,
    path: &'static str,
    lang: Locale,
    render: F,
) -> Result<Response, AppError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<String, AppError>>,
{
    let generation = state.ctx.caches.generation();
    let key = PageKey::Api { path, lang };
    let page = state.pages.get_or_render_json(&state.ctx.clock, generation, key, render).await?;
    let mut response = page.respond_revalidated(headers, CACHE_CONTROL);
    // Without `lang`, the texts follow Accept-Language.
    response.headers_mut().append(header::VARY, HeaderValue::from_static("accept-language"));
    Ok(response)
}

fn to_json<T: Serialize>(value: &T) -> Result<String, AppError> {
    Ok(serde_json::to_string(value).map_err(anyhow::Error::from)?)
}

// ---------------------------------------------------------------- tiers

#[derive(Serialize, ToSchema)]
struct TiersResponse {
    /// The language of the texts.
    lang: String,
    /// Active tiers with at least one live price, in the newsroom's order.
    tiers: Vec<ApiTier>,
}

#[derive(Serialize, ToSchema)]
struct ApiTier {
    id: String,
    slug: String,
    name: String,
    description: String,
    /// What the voting rules give the tier's patrons, then the benefits the newsroom wrote.
    benefits: Vec<String>,
    vote_weight: i64,
    /// Every live price, in every currency.
    prices: Vec<ApiPrice>,
}

#[derive(Serialize, ToSchema)]
struct ApiPrice {
    id: String,
    /// `month` or `year`.
    interval: String,
    /// ISO 4217, upper case (`EUR`).
    currency: String,
    /// In the currency's minor units (cents).
    amount_minor: i64,
    /// The amount as readers of the language read it (`€6.00`).
    amount: String,
    /// The amount with its interval, as the patron page shows it (`€6.00 a month`).
    label: String,
    /// Pay what you want, at least `amount`.
    flexible: bool,
    /// Patronage's patron page with this price chosen.
    checkout_url: String,
}

/// Tiers and their live prices.
#[utoipa::path(
    get,
    path = "/api/v1/tiers",
    tag = "public",
    params(LangQuery),
    responses(
        (status = 200, description = "Active tiers and their prices", body = TiersResponse),
        (status = 304, description = "Not modified (If-None-Match names the current ETag)"),
        (status = 400, description = "Unknown parameter or language", body = ApiError),
    )
)]
async fn list_tiers(
    State(state): State<AppState>,
    ApiLang(lang): ApiLang,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    cached_json(&state, &headers, "/api/v1/tiers", lang, || render_tiers(&state, lang)).await
}

async fn render_tiers(state: &AppState, lang: Locale) -> Result<String, AppError> {
    let catalog = tiers::catalog(&state.ctx).await?;
    let settings = crate::services::voting::settings(&state.ctx).await?;
    let texts = content::localiser(&state.ctx, lang).await?;
    let tiers = catalog
        .tiers
        .iter()
        .map(|t| {
            let mut t = t.clone();
            texts.tier(&mut t);
            let mut benefits = super::patron::voting_benefits(state, lang, &settings, t.vote_weight);
            benefits.extend(t.benefits.iter().cloned());
            let prices = catalog
                .prices
                .iter()
                .filter(|p| p.tier_id == t.id)
                .map(|p| ApiPrice {
                    id: p.id.clone(),
                    interval: p.interval.as_str().to_string(),
                    currency: p.amount.currency.code(),
                    amount_minor: p.amount.minor,
                    amount: crate::numbers::money(lang, p.amount),
                    label: super::patron::price_label(state, lang, p.amount, p.interval),
                    flexible: p.flexible,
                    checkout_url: state.ctx.url(&format!(
                        "/patron?currency={}&price={}",
                        p.amount.currency.as_str(),
                        p.id
                    )),
                })
                .collect();
            ApiTier {
                id: t.id.to_string(),
                slug: t.slug,
                name: t.name,
                description: t.description,
                benefits,
                vote_weight: t.vote_weight,
                prices,
            }
        })
        .filter(|t: &ApiTier| !t.prices.is_empty())
        .collect();
    to_json(&TiersResponse { lang: lang.as_str().into(), tiers })
}

// ---------------------------------------------------------------- rounds

#[derive(Serialize, ToSchema)]
struct OpenRoundsResponse {
    lang: String,
    /// When this document was made (RFC 3339); `remaining_seconds` counts from it.
    generated_at: String,
    /// The rounds open for votes now, the one closing first first.
    rounds: Vec<ApiRound>,
}

#[derive(Serialize, ToSchema)]
struct ApiRound {
    id: String,
    title: String,
    description: String,
    /// The round's page, where members vote.
    url: String,
    opens_at: String,
    closes_at: String,
    /// Seconds from `generated_at` until the round closes.
    remaining_seconds: i64,
    /// Votes each member may cast.
    max_votes: i64,
    /// Whether the round shows its standing before it closes. When false,
    /// `entries` come in ballot order and carry no numbers.
    tallies_public: bool,
    entries: Vec<ApiEntry>,
}

#[derive(Serialize, ToSchema)]
struct ApiEntry {
    topic_id: String,
    title: String,
    description: String,
    /// The topic's page.
    url: String,
    /// `open`, or `planned` / `covered` when the newsroom has moved it on already.
    status: String,
    /// Members who voted for it (null while the round hides its tallies).
    votes: Option<i64>,
    /// Their weighted votes, which decide the ranking (null while hidden).
    weight: Option<i64>,
    /// Its share of the weighted total, whole percent (null while hidden).
    percent: Option<i64>,
}

/// The open voting rounds and their standing.
#[utoipa::path(
    get,
    path = "/api/v1/rounds/open",
    tag = "public",
    params(LangQuery),
    responses(
        (status = 200, description = "The open rounds, with their standing where it is public", body = OpenRoundsResponse),
        (status = 304, description = "Not modified (If-None-Match names the current ETag)"),
        (status = 400, description = "Unknown parameter or language", body = ApiError),
    )
)]
async fn list_open_rounds(
    State(state): State<AppState>,
    ApiLang(lang): ApiLang,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    cached_json(&state, &headers, "/api/v1/rounds/open", lang, || render_open_rounds(&state, lang)).await
}

async fn render_open_rounds(state: &AppState, lang: Locale) -> Result<String, AppError> {
    let now = state.ctx.clock.now();
    let texts = content::localiser(&state.ctx, lang).await?;
    let rounds = pages::open_rounds(&state.ctx)
        .await?
        .into_iter()
        .map(|mut standing| {
            texts.standing(&mut standing);
            api_round(state, standing, now)
        })
        .collect();
    to_json(&OpenRoundsResponse { lang: lang.as_str().into(), generated_at: format_rfc3339(now), rounds })
}

fn api_round(state: &AppState, standing: RoundStanding, now: crate::clock::Micros) -> ApiRound {
    let RoundStanding { round, tallies_shown, entries, .. } = standing;
    let total: i64 = entries.iter().map(|e| e.weight).sum();
    let shown = |n: i64| tallies_shown.then_some(n);
    let entries = entries
        .into_iter()
        .map(|s| ApiEntry {
            url: state.ctx.url(&format!("/topics/{}", s.entry.topic_id)),
            votes: shown(s.votes),
            weight: shown(s.weight),
            // The same arithmetic as the round page.
            percent: shown(if total > 0 { s.weight * 100 / total } else { 0 }),
            topic_id: s.entry.topic_id,
            title: s.entry.title,
            description: s.entry.description,
            status: s.entry.status,
        })
        .collect();
    ApiRound {
        id: round.id.to_string(),
        url: state.ctx.url(&format!("/rounds/{}", round.id)),
        title: round.title,
        description: round.description,
        opens_at: format_rfc3339(round.opens_at),
        closes_at: format_rfc3339(round.closes_at),
        remaining_seconds: ((round.closes_at - now) / SECOND).max(0),
        max_votes: round.max_votes,
        tallies_public: tallies_shown,
        entries,
    }
}

// ---------------------------------------------------------------- covered

/// As many stories as the "You asked, we covered" page lists.
const COVERED_LIMIT: i64 = 100;

#[derive(Serialize, ToSchema)]
struct CoveredResponse {
    lang: String,
    /// The latest first.
    stories: Vec<ApiStory>,
}

#[derive(Serialize, ToSchema)]
struct ApiStory {
    topic_id: String,
    title: String,
    /// The newsroom's note on it, if any.
    note: Option<String>,
    /// The day it was covered (`YYYY-MM-DD`, UTC).
    covered_on: String,
    /// The topic's page.
    url: String,
    articles: Vec<ApiArticle>,
}

#[derive(Serialize, ToSchema)]
struct ApiArticle {
    url: String,
    /// Its headline, when the newsroom entered one.
    headline: Option<String>,
}

/// The stories readers asked for and the newsroom published, with their articles.
#[utoipa::path(
    get,
    path = "/api/v1/covered",
    tag = "public",
    params(LangQuery),
    responses(
        (status = 200, description = "Covered stories, the latest first", body = CoveredResponse),
        (status = 304, description = "Not modified (If-None-Match names the current ETag)"),
        (status = 400, description = "Unknown parameter or language", body = ApiError),
    )
)]
async fn list_covered(
    State(state): State<AppState>,
    ApiLang(lang): ApiLang,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    cached_json(&state, &headers, "/api/v1/covered", lang, || render_covered(&state, lang)).await
}

async fn render_covered(state: &AppState, lang: Locale) -> Result<String, AppError> {
    let texts = content::localiser(&state.ctx, lang).await?;
    let stories = pages::covered(&state.ctx, COVERED_LIMIT)
        .await?
        .into_iter()
        .map(|(mut t, articles)| {
            texts.topic(&mut t);
            ApiStory {
                topic_id: t.id.to_string(),
                url: state.ctx.url(&format!("/topics/{}", t.id)),
                covered_on: format_date(t.covered_at.unwrap_or(t.updated_at)),
                title: t.title,
                note: t.public_note,
                articles: articles.into_iter().map(|a| ApiArticle { url: a.url, headline: a.headline }).collect(),
            }
        })
        .collect();
    to_json(&CoveredResponse { lang: lang.as_str().into(), stories })
}

// ---------------------------------------------------------------- goals

#[derive(Serialize, ToSchema)]
struct GoalsResponse {
    lang: String,
    /// Open goals of public topics, the newest topics first.
    goals: Vec<ApiGoal>,
}

#[derive(Serialize, ToSchema)]
struct ApiGoal {
    topic_id: String,
    /// The topic's title in the asked language.
    title: String,
    /// The topic's page.
    url: String,
    /// Lower-case ISO code of the goal's currency: gifts toward it are in it.
    currency: String,
    /// In the currency's minor unit (cents; yen have none).
    goal_minor: i64,
    /// Gifts toward the topic less their refunds and disputes, never below zero.
    raised_minor: i64,
    /// 0 to 100 (a goal passed shows 100).
    percent: i64,
    /// Both amounts as the pages write them in the asked language.
    goal_formatted: String,
    raised_formatted: String,
    reached: bool,
    /// The donation form for a gift toward this topic.
    give_url: String,
}

/// Funding goals of topics, with how far each has come.
#[utoipa::path(
    get,
    path = "/api/v1/goals",
    tag = "public",
    params(LangQuery),
    responses(
        (status = 200, description = "Open funding goals", body = GoalsResponse),
        (status = 304, description = "Not modified (If-None-Match names the current ETag)"),
        (status = 400, description = "Unknown parameter or language", body = ApiError),
    )
)]
async fn list_goals(
    State(state): State<AppState>,
    ApiLang(lang): ApiLang,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    cached_json(&state, &headers, "/api/v1/goals", lang, || render_goals(&state, lang)).await
}

async fn render_goals(state: &AppState, lang: Locale) -> Result<String, AppError> {
    let texts = content::localiser(&state.ctx, lang).await?;
    let goals = goals::open_goals(&state.ctx)
        .await?
        .into_iter()
        .map(|(g, mut title)| {
            let id = g.topic_id.to_string();
            texts.topic_texts(&id, &mut title, None);
            ApiGoal {
                url: state.ctx.url(&format!("/topics/{id}")),
                give_url: state.ctx.url(&format!("/donate?topic={id}")),
                currency: g.goal.currency.as_str().to_string(),
                goal_minor: g.goal.minor,
                raised_minor: g.raised_minor.max(0),
                percent: g.percent(),
                goal_formatted: crate::numbers::money(lang, g.goal),
                raised_formatted: crate::numbers::money(lang, g.raised()),
                reached: g.reached_at.is_some(),
                topic_id: id,
                title,
            }
        })
        .collect();
    to_json(&GoalsResponse { lang: lang.as_str().into(), goals })
}
