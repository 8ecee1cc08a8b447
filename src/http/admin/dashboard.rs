//! The staff dashboard (its figures are up to 5 s old) and the audit log.
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;

use super::{Authorized, ViewAuditLog, ViewDashboard, staff_page};
use crate::clock::format_utc;
use crate::db;
use crate::http::error::AppError;
use crate::http::state::AppState;
use crate::services::cache::DashboardFigures;

pub fn router() -> Router<AppState> {
    Router::new().route("/admin", get(show_dashboard)).route("/admin/audit", get(show_audit_log))
}

async fn show_dashboard(State(state): State<AppState>, staff: Authorized<ViewDashboard>) -> Result<Response, AppError> {
    let pool = state.ctx.db.read();
    let figures = state
        .ctx
        .caches
        .dashboard
        .get_or_load(&state.ctx.clock, (), || async {
            Ok::<_, db::DbError>(std::sync::Arc::new(DashboardFigures {
                members: db::members::count(pool).await?,
                pending_mail: db::outbox::count_pending(pool).await?,
                failed_mail: db::outbox::count_failed(pool).await?,
            }))
        })
        .await?;
    let mut page = staff_page(&state, Some(&staff.user), "/admin");
    page.insert("members", &figures.members)
        .insert("pending_mail", &figures.pending_mail)
        .insert("failed_mail", &figures.failed_mail);
    Ok(page.render(&state, "admin/dashboard.html")?.into_response())
}

#[derive(Serialize)]
struct AuditRow {
    at: String,
    actor: String,
    action: String,
    target: String,
    detail: String,
    ip: String,
}

async fn show_audit_log(State(state): State<AppState>, staff: Authorized<ViewAuditLog>) -> Result<Response, AppError> {
    let rows: Vec<AuditRow> = db::audit::list_recent(state.ctx.db.read(), 200)
        .await?
        .into_iter()
        .map(|e| AuditRow {
            at: format_utc(e.created_at),
            actor: e.actor_email.unwrap_or_default(),
            action: e.action,
            target: e.target.unwrap_or_default(),
            detail: e.detail.unwrap_or_default(),
            ip: e.ip.unwrap_or_default(),
        })
        .collect();
    let mut page = staff_page(&state, Some(&staff.user), "/admin/audit");
    page.insert("entries", &rows);
    Ok(page.render(&state, "admin/audit.html")?.into_response())
}
