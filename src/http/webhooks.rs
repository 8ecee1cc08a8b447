//! `POST /webhooks/stripe`: 2xx once an event is stored (the background job
//! applies it), 400 for anything unsigned or unreadable, 5xx only when we could
//! not store it, so Stripe retries.
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use tower_http::limit::RequestBodyLimitLayer;

use super::state::AppState;
use crate::services::stripe_events::{self, MAX_BODY_BYTES, ReceiveError, Received};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/webhooks/stripe", post(receive_stripe_event))
        .route_layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
}

fn json(status: StatusCode, body: serde_json::Value) -> Response {
    (status, [(axum::http::header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

#[tracing::instrument(skip_all)]
async fn receive_stripe_event(State(state): State<AppState>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let signature = headers.get("stripe-signature").and_then(|v| v.to_str().ok());
    match stripe_events::receive(&state.ctx, &body, signature).await {
        Ok(Received::Stored(status)) => {
            json(StatusCode::OK, serde_json::json!({ "received": true, "status": status.as_str() }))
        }
        Ok(Received::Duplicate) => json(StatusCode::OK, serde_json::json!({ "received": true, "status": "duplicate" })),
        Err(ReceiveError::NotConfigured) => {
            json(StatusCode::NOT_FOUND, serde_json::json!({ "error": "stripe is not configured" }))
        }
        Err(
            e @ (ReceiveError::MissingSignature
            | ReceiveError::BadSignature
            | ReceiveError::StaleSignature
            | ReceiveError::NotUtf8
            | ReceiveError::NotJson
            | ReceiveError::WrongMode { .. }),
        ) => json(StatusCode::BAD_REQUEST, serde_json::json!({ "error": e.to_string(), "reason": e.reason() })),
        Err(ReceiveError::Db(e)) => {
            tracing::error!(error = %e, "webhook could not be stored; Stripe will retry");
            json(StatusCode::SERVICE_UNAVAILABLE, serde_json::json!({ "error": "temporarily unavailable" }))
        }
    }
}
