//! The public transparency page (`/transparency`): what patrons' support comes
//! to month by month, the open funding goals and the supporters who chose to be
//! listed. Nothing personal: counts, amounts (when the newsroom shows them),
//! stories, and the names supporters chose. Served from the page cache, which a
//! booked payment, a goal or a note invalidates (`Change::Giving`).
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use serde::Serialize;

use super::error::AppError;
use super::extract::PageContext;
use super::page_cache::PageKey;
use super::patron::GoalView;
use super::state::AppState;
use crate::clock::format_date;
use crate::services::{content, transparency, updates};

pub fn router() -> Router<AppState> {
    Router::new().route("/transparency", get(show_transparency))
}

#[derive(Serialize)]
struct StoryView {
    id: String,
    title: String,
    url: Option<String>,
    headline: Option<String>,
    date: String,
}

#[derive(Serialize)]
struct MonthView {
    key: String,
    number: i8,
    year: i16,
    patrons: String,
    joined: String,
    left: String,
    income: Vec<String>,
    stories: Vec<StoryView>,
    note: Option<String>,
}

/// An update to patrons that staff chose to show here, in the reader's language.
#[derive(Serialize)]
struct UpdateView {
    subject: String,
    paragraphs: Vec<Vec<String>>,
    date: String,
}

async fn show_transparency(
    State(state): State<AppState>,
    headers: HeaderMap,
    mut page: PageContext,
) -> Result<Response, AppError> {
    let key = PageKey::Shared { path: "/transparency".into(), lang: page.locale, signed_in: page.member.is_some() };
    let generation = state.ctx.caches.generation();
    let cached =
        state.pages.get_or_render(&state.ctx.clock, generation, key, || render_transparency(&state, &mut page)).await?;
    Ok(cached.respond(&headers))
}

async fn render_transparency(state: &AppState, page: &mut PageContext) -> Result<String, AppError> {
    let locale = page.locale;
    let figures = transparency::page(&state.ctx).await?;
    let texts = content::localiser(&state.ctx, locale).await?;
    let number = |n: i64| crate::numbers::number(locale, n);
    let months: Vec<MonthView> = figures
        .months
        .iter()
        .filter_map(|m| {
            let month = m.month?;
            Some(MonthView {
                key: month.key(),
                number: month.month(),
                year: month.year(),
                patrons: number(m.patrons),
                joined: number(m.joined),
                left: number(m.left),
                income: m.income.iter().map(|a| crate::numbers::money(locale, *a)).collect(),
                stories: m
                    .stories
                    .iter()
                    .map(|s| {
                        let mut title = s.title.clone();
                        texts.topic_texts(&s.topic_id.to_string(), &mut title, None);
                        StoryView {
                            id: s.topic_id.to_string(),
                            title,
                            url: s.article_url.clone(),
                            headline: s.headline.clone(),
                            date: format_date(s.covered_at),
                        }
                    })
                    .collect(),
                note: m.note.clone(),
            })
        })
        .collect();
    let goals: Vec<GoalView> = figures
        .goals
        .iter()
        .map(|(g, title)| {
            let mut title = title.clone();
            texts.topic_texts(&g.topic_id.to_string(), &mut title, None);
            GoalView::of(locale, g, &title)
        })
        .collect();
    let updates: Vec<UpdateView> = updates::published(&state.ctx, locale)
        .await?
        .into_iter()
        .map(|u| UpdateView { subject: u.subject, paragraphs: u.paragraphs, date: format_date(u.sent_at) })
        .collect();
    page.insert("months", &months)
        .insert("updates", &updates)
        .insert("show_amounts", &figures.show_amounts)
        .insert("goals", &goals)
        .insert("supporters", &figures.supporters);
    Ok(page.render_string(state, "public/transparency.html")?)
}
