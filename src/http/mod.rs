//! HTTP: one router per feature, merged here with the layers every request passes.
pub mod account;
pub mod admin;
pub mod api;
pub mod charts;
pub mod corrections;
pub mod csv;
pub mod embed;
pub mod error;
pub mod extract;
pub mod gift;
pub mod health;
pub mod page_cache;
pub mod patron;
pub mod public;
pub mod retention;
pub mod session;
pub mod signin;
pub mod source;
pub mod state;
pub mod topics;
pub mod transparency;
pub mod updates;
pub mod webhooks;

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use tower_http::LatencyUnit;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::csrf::CsrfLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

pub use error::AppError;
pub use state::AppState;

/// Forms are small; anything bigger is refused before it is read.
pub const BODY_LIMIT_BYTES: usize = 64 * 1024;
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   form-action 'self' https://checkout.stripe.com https://billing.stripe.com; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// Cross-site request forgery protection by `Sec-Fetch-Site` / `Origin` (no token
/// state, so it works across instances). `extra` origins are trusted as well.
fn csrf_layer(public_url: &str, extra: &[String]) -> anyhow::Result<CsrfLayer> {
    let mut layer = CsrfLayer::new().add_trusted_origin(public_url).map_err(|e| anyhow::anyhow!("PUBLIC_URL: {e}"))?;
    for origin in extra {
        layer = layer.add_trusted_origin(origin).map_err(|e| anyhow::anyhow!("TRUSTED_ORIGINS: {e}"))?;
    }
    Ok(layer)
}

/// Browsers that reached us over https keep to https for a year.
const HSTS: &str = "max-age=31536000; includeSubDomains";

pub fn router(state: AppState) -> anyhow::Result<Router> {
    let hsts = state.config.secure_cookies().then(|| HeaderValue::from_static(HSTS));
    // The newsroom's website may post the join form from its article pages; every
    // other form only from our own pages.
    let embeddable = public::embeddable_forms_router()
        .merge(patron::embeddable_forms_router())
        .route_layer(csrf_layer(&state.config.public_url, &state.config.trusted_origins)?)
        .route_layer(RequestBodyLimitLayer::new(BODY_LIMIT_BYTES))
        .route_layer(middleware::from_fn_with_state(state.clone(), source::remember_source));
    // The corrections dialog is framed by the newsroom's sites but posts only to
    // its own origin: our own CSRF check, and no X-Frame-Options.
    let framed_forms = corrections::framed_router()
        .route_layer(csrf_layer(&state.config.public_url, &[])?)
        .route_layer(RequestBodyLimitLayer::new(BODY_LIMIT_BYTES));
    // The one-click unsubscribe is posted by mail providers' servers: no CSRF check
    // (the signed token is the authority), the same body limit.
    let unsubscribe = updates::router().route_layer(RequestBodyLimitLayer::new(BODY_LIMIT_BYTES));
    let own = Router::new()
        .merge(public::router())
        .merge(corrections::router())
        .merge(signin::router())
        .merge(account::router())
        .merge(retention::router())
        .merge(patron::router())
        .merge(gift::router())
        .merge(topics::router())
        .merge(transparency::router())
        .merge(admin::router())
        .route_layer(csrf_layer(&state.config.public_url, &[])?)
        .route_layer(RequestBodyLimitLayer::new(BODY_LIMIT_BYTES))
        .route_layer(middleware::from_fn_with_state(state.clone(), source::remember_source));

    // Only the boxes may be framed (by the trusted origins); every other page is
    // refused to any frame, by CSP and by X-Frame-Options for older browsers.
    let deny_framing = SetResponseHeaderLayer::if_not_present(
        HeaderName::from_static("x-frame-options"),
        HeaderValue::from_static("DENY"),
    );
    let embeddable = embeddable.layer(deny_framing.clone());
    let own = own.layer(deny_framing.clone());
    let unsubscribe = unsubscribe.layer(deny_framing.clone());
    let x_request_id = HeaderName::from_static("x-request-id");
    let router = Router::new()
        .merge(embeddable)
        .merge(own)
        .merge(embed::router())
        .merge(api::router(&state.config.trusted_origins)?)
        .merge(framed_forms)
        .merge(unsubscribe)
        .merge(health::router())
        .merge(webhooks::router())
        .fallback(|| async { AppError::NotFound })
        // Innermost first: body limits (per route group, above), timeouts and CSRF
        // produce bare errors that the error-page layer renders in the reader's language.
        // The session lookup runs inside the timeout (a database that does not answer
        // cannot hold a request past it) and inside the error pages (it may answer 503).
        .layer(middleware::from_fn_with_state(state.clone(), session::load_member))
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, REQUEST_TIMEOUT))
        .layer(middleware::from_fn(extract::refuse_invalid_query))
        .layer(middleware::from_fn_with_state(state.clone(), error::render_error_pages))
        .layer(middleware::from_fn(record_metrics))
        // Pages are small and change per request: the fastest level keeps most of the saving at a fraction of the CPU.
        .layer(CompressionLayer::new().quality(tower_http::CompressionLevel::Fastest))
        .layer(SetResponseHeaderLayer::if_not_present(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP)))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(header::STRICT_TRANSPORT_SECURITY, hsts))
        .layer(CatchPanicLayer::new())
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request| {
            let route = request.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str());
            let request_id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
            tracing::info_span!("http", http.method = %request.method(), http.route = route, request.id = request_id)
        }).on_response(DefaultOnResponse::new().level(Level::INFO).latency_unit(LatencyUnit::Micros)))
        .layer(PropagateRequestIdLayer::new(x_request_id.clone()))
        .layer(SetRequestIdLayer::new(x_request_id, MakeRequestUuid))
        .with_state(state);
    Ok(router)
}

/// Request count and latency by route template and status, for /metrics.
async fn record_metrics(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route =
        request.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = request.method().to_string();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels).record(started.elapsed().as_secs_f64());
    response
}
