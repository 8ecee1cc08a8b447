//! The one-click unsubscribe from updates (and anniversary emails) that every
//! such email links to and names in `List-Unsubscribe`. A GET shows a page
//! with a button; a POST (the button, or a mail provider following RFC 8058
//! with `List-Unsubscribe=One-Click`) unsubscribes at once, without asking.
//! Mounted outside the CSRF check: mail providers post from their own servers,
//! the signed token is the whole authority, and all it can do is turn updates off.
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use super::error::AppError;
use super::extract::PageContext;
use super::state::AppState;
use crate::services::updates::{self, UnsubscribeError};

pub fn router() -> Router<AppState> {
    Router::new().route("/updates/unsubscribe", get(show_unsubscribe).post(unsubscribe))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TokenQuery {
    token: String,
}

/// A link that is not one of ours unchanged: said plainly, nothing changed.
fn invalid(state: &AppState, page: &mut PageContext) -> Result<Response, AppError> {
    page.insert("invalid", &true);
    Ok((StatusCode::BAD_REQUEST, page.render(state, "public/unsubscribe.html")?).into_response())
}

async fn show_unsubscribe(
    State(state): State<AppState>,
    Query(query): Query<TokenQuery>,
    mut page: PageContext,
) -> Result<Response, AppError> {
    if updates::member_of_token(&state.ctx, &query.token).is_none() {
        return invalid(&state, &mut page);
    }
    page.insert("token", &query.token);
    Ok(page.render(&state, "public/unsubscribe.html")?.into_response())
}

#[tracing::instrument(skip_all)]
async fn unsubscribe(
    State(state): State<AppState>,
    Query(query): Query<TokenQuery>,
    mut page: PageContext,
) -> Result<Response, AppError> {
    match updates::unsubscribe(&state.ctx, &query.token).await {
        Ok(_) => {
            page.insert("done", &true);
            Ok(page.render(&state, "public/unsubscribe.html")?.into_response())
        }
        Err(UnsubscribeError::Invalid) => invalid(&state, &mut page),
        Err(UnsubscribeError::Db(e)) => Err(crate::services::StorageError::from(e).into()),
    }
}
