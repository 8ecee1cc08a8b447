//! Boxes a newsroom pastes into its article template: the patron box and the
//! poll box, as pages made to live in an `<iframe>` on the newsroom's site.
//! Only these routes may be framed, and only by `TRUSTED_ORIGINS` (and our own
//! pages, for the staff preview); every other page keeps `frame-ancestors
//! 'none'`. They say nothing personal (a third-party frame gets no cookies
//! anyway), and every choice opens Patronage's own page in the top window.
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use axum::routing::get;
use serde::{Deserialize, Serialize};

use super::error::AppError;
use super::extract::PageContext;
use super::page_cache::PageKey;
use super::state::AppState;
use crate::clock::format_utc;
use crate::domain::{Currency, Locale};
use crate::services::voting::pages;

pub fn router() -> Router<AppState> {
    Router::new().route("/embed/patron", get(patron_box)).route("/embed/poll", get(poll_box))
}

/// `?lang=uk&theme=dark&currency=uah`: all optional.
#[derive(Deserialize, Default)]
#[serde(default)]
struct EmbedQuery {
    lang: String,
    theme: String,
    currency: String,
}

impl EmbedQuery {
    /// The box's language: asked for, else the browser's.
    fn locale(&self, browser: Locale) -> Locale {
        self.lang.parse().unwrap_or(browser)
    }

    /// `light`, `dark`, or (anything else) the reader's own setting.
    fn theme(&self) -> &'static str {
        match self.theme.as_str() {
            "light" => "light",
            "dark" => "dark",
            _ => "auto",
        }
    }
}

/// The policy of the embed routes: framable by the trusted origins and by us.
pub fn embed_csp(trusted: &[String]) -> String {
    let mut ancestors = String::from("'self'");
    for origin in trusted {
        ancestors.push(' ');
        ancestors.push_str(origin);
    }
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
         frame-ancestors {ancestors}; base-uri 'none'; object-src 'none'"
    )
}

fn framable(state: &AppState, mut response: Response) -> Response {
    if let Ok(csp) = HeaderValue::from_str(&embed_csp(&state.config.trusted_origins)) {
        response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    response
}

fn context(state: &AppState, page: &mut PageContext, query: &EmbedQuery, path: &str) {
    page.insert("theme", query.theme())
        .insert("public_url", &state.ctx.public_url)
        .insert("frame_js", &super::public::static_url("embed-frame.js"))
        .insert("path", path);
}

#[derive(Serialize)]
struct BoxTopic {
    id: String,
    title: String,
}

async fn patron_box(
    State(state): State<AppState>,
    Query(query): Query<EmbedQuery>,
    headers: HeaderMap,
    page: PageContext,
) -> Result<Response, AppError> {
    let locale = query.locale(page.locale);
    let mut page = PageContext::anonymous(&state, locale, "/embed/patron");
    let currency = Currency::parse(&query.currency).map(|c| c.as_str().to_string()).unwrap_or_default();
    let key = PageKey::Embed { kind: "patron", lang: locale, theme: query.theme(), currency: currency.clone() };
    let generation = state.ctx.caches.generation();
    let cached = state
        .pages
        .get_or_render(&state.ctx.clock, generation, key, || async {
            context(&state, &mut page, &query, "/embed/patron");
            let form = super::patron::PatronForm { currency, ..Default::default() };
            let (tiers, currencies, shown) =
                super::patron::tier_views(&state, locale, &form.currency, &form.tier_amounts).await?;
            let shown = shown.unwrap_or(Currency::EUR);
            let presets = crate::services::checkout::donation_presets(&state.ctx, shown)
                .await
                .map_err(crate::services::StorageError::from)?;
            let coffee = presets.first().map(|p| {
                crate::numbers::money(locale, crate::domain::Money::new(p * 10_i64.pow(shown.exponent()), shown))
            });
            let teaser = pages::landing_teaser(&state.ctx).await?;
            let topics: Vec<BoxTopic> = teaser
                .open_round
                .map(|(_, leading)| leading.into_iter().map(|e| BoxTopic { id: e.topic_id, title: e.title }).collect())
                .unwrap_or_default();
            page.insert("tiers", &tiers)
                .insert("currency", shown.as_str())
                .insert("currencies", &currencies)
                .insert("coffee", &coffee)
                .insert("topics", &topics);
            Ok::<_, AppError>(page.render_string(&state, "embed/patron.html")?)
        })
        .await?;
    Ok(framable(&state, cached.respond(&headers)))
}

#[derive(Serialize)]
struct PollEntry {
    id: String,
    title: String,
    votes: Option<i64>,
    /// Its open funding goal's progress, if it has one.
    goal: Option<super::patron::GoalView>,
}

async fn poll_box(
    State(state): State<AppState>,
    Query(query): Query<EmbedQuery>,
    headers: HeaderMap,
    page: PageContext,
) -> Result<Response, AppError> {
    let locale = query.locale(page.locale);
    let mut page = PageContext::anonymous(&state, locale, "/embed/poll");
    let key = PageKey::Embed { kind: "poll", lang: locale, theme: query.theme(), currency: String::new() };
    let generation = state.ctx.caches.generation();
    let cached = state
        .pages
        .get_or_render(&state.ctx.clock, generation, key, || async {
            context(&state, &mut page, &query, "/embed/poll");
            let poll = pages::poll_box(&state.ctx).await?;
            let goals: std::collections::HashMap<String, crate::domain::GoalProgress> =
                crate::services::goals::open_goals(&state.ctx)
                    .await?
                    .into_iter()
                    .map(|(g, _)| (g.topic_id.to_string(), g))
                    .collect();
            let goal_of = |id: &str, title: &str| goals.get(id).map(|g| super::patron::GoalView::of(locale, g, title));
            if let Some(standing) = poll.open {
                let entries: Vec<PollEntry> = standing
                    .entries
                    .iter()
                    .map(|s| PollEntry {
                        id: s.entry.topic_id.clone(),
                        title: s.entry.title.clone(),
                        votes: standing.tallies_shown.then_some(s.weight),
                        goal: goal_of(&s.entry.topic_id, &s.entry.title),
                    })
                    .collect();
                page.insert(
                    "open_round",
                    &serde_json::json!({
                        "id": standing.round.id.to_string(),
                        "title": standing.round.title,
                        "closes": format_utc(standing.round.closes_at),
                        "tallies": standing.tallies_shown,
                    }),
                )
                .insert("entries", &entries);
            } else if let Some(standing) = poll.last_closed {
                let entries: Vec<PollEntry> = standing
                    .entries
                    .iter()
                    .take(5)
                    .map(|s| PollEntry {
                        id: s.entry.topic_id.clone(),
                        title: s.entry.title.clone(),
                        votes: Some(s.weight),
                        goal: goal_of(&s.entry.topic_id, &s.entry.title),
                    })
                    .collect();
                page.insert(
                    "closed_round",
                    &serde_json::json!({ "id": standing.round.id.to_string(), "title": standing.round.title }),
                )
                .insert("entries", &entries);
            }
            let covered: Vec<serde_json::Value> = poll
                .covered
                .into_iter()
                .map(|(t, a)| serde_json::json!({ "id": t.id.to_string(), "title": t.title, "article": a.first() }))
                .collect();
            page.insert("covered", &covered);
            Ok::<_, AppError>(page.render_string(&state, "embed/poll.html")?)
        })
        .await?;
    Ok(framable(&state, cached.respond(&headers)))
}
