//! Staff pages under /admin. Deny by default: the only way for a handler to get
//! the signed-in staff user is [`Authorized<P>`], which names the permission the
//! route needs and refuses everyone whose role lacks it.
mod auth;
mod corrections;
mod dashboard;
mod embeds;
mod giving_reports;
mod members;
mod offers;
mod payments;
mod reports;
mod source_report;
mod staff;
mod texts;
mod topics;
mod transparency;
mod updates;

use std::marker::PhantomData;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum_extra::extract::CookieJar;

use super::error::AppError;
use super::extract::ClientIp;
use super::session::names;
use super::state::AppState;
use crate::domain::{Permission, StaffUser};
use crate::services::audit::{self, Actor};
use crate::services::sessions;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(auth::router())
        .merge(dashboard::router())
        .merge(staff::router())
        .merge(payments::router())
        .merge(offers::router())
        .merge(reports::router())
        .merge(giving_reports::router())
        .merge(source_report::router())
        .merge(topics::router())
        .merge(members::router())
        .merge(texts::router())
        .merge(embeds::router())
        .merge(corrections::router())
        .merge(transparency::router())
        .merge(updates::router())
}

/// Names a [`Permission`] at the type level.
pub trait Needs: Send + Sync + 'static {
    const PERMISSION: Permission;
}

pub struct ViewDashboard;
impl Needs for ViewDashboard {
    const PERMISSION: Permission = Permission::ViewDashboard;
}

pub struct ManageStaff;
impl Needs for ManageStaff {
    const PERMISSION: Permission = Permission::ManageStaff;
}

pub struct ManagePayments;
impl Needs for ManagePayments {
    const PERMISSION: Permission = Permission::ManagePayments;
}

pub struct ViewPayments;
impl Needs for ViewPayments {
    const PERMISSION: Permission = Permission::ViewPayments;
}

pub struct ViewRevenue;
impl Needs for ViewRevenue {
    const PERMISSION: Permission = Permission::ViewRevenue;
}

pub struct ManageTopics;
impl Needs for ManageTopics {
    const PERMISSION: Permission = Permission::ManageTopics;
}

pub struct ViewVotes;
impl Needs for ViewVotes {
    const PERMISSION: Permission = Permission::ViewVotes;
}

pub struct ViewMembers;
impl Needs for ViewMembers {
    const PERMISSION: Permission = Permission::ViewMembers;
}

pub struct ManageMembers;
impl Needs for ManageMembers {
    const PERMISSION: Permission = Permission::ManageMembers;
}

pub struct ManageTransparency;
impl Needs for ManageTransparency {
    const PERMISSION: Permission = Permission::ManageTransparency;
}

pub struct ManageCorrections;
impl Needs for ManageCorrections {
    const PERMISSION: Permission = Permission::ManageCorrections;
}

pub struct ViewAuditLog;
impl Needs for ViewAuditLog {
    const PERMISSION: Permission = Permission::ViewAuditLog;
}

/// A signed-in staff user whose role allows `P`.
pub struct Authorized<P: Needs> {
    pub user: StaffUser,
    pub cookie: String,
    _permission: PhantomData<P>,
}

impl<P: Needs> FromRequestParts<AppState> for Authorized<P> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(&parts.headers);
        let cookie = jar.get(names(state).staff).map(|c| c.value().to_string()).ok_or(AppError::StaffSignInRequired)?;
        let user = sessions::staff_for_cookie(&state.ctx, &cookie).await?.ok_or(AppError::StaffSignInRequired)?;
        if !user.role.allows(P::PERMISSION) {
            tracing::warn!(staff.id = %user.id, permission = ?P::PERMISSION, "staff action refused by role");
            let ClientIp(ip) = ClientIp::from_request_parts(parts, state).await?;
            let what = format!("{} {}", parts.method, parts.uri.path());
            let permission = format!("{:?}", P::PERMISSION);
            audit::refused(&state.ctx, &Actor::staff(&user, &ip), &permission, &what).await?;
            return Err(AppError::Forbidden);
        }
        Ok(Self { user, cookie, _permission: PhantomData })
    }
}

/// A base context for staff pages (English only for now).
pub fn staff_page(state: &AppState, user: Option<&StaffUser>, path: &str) -> super::extract::PageContext {
    let mut page = super::extract::PageContext::anonymous(state, crate::domain::Locale::En, path);
    if let Some(u) = user {
        page.insert("staff_email", &u.email.to_string())
            .insert("staff_role", u.role.as_str())
            .insert("can_manage_staff", &u.role.allows(Permission::ManageStaff))
            .insert("can_view_audit", &u.role.allows(Permission::ViewAuditLog))
            .insert("can_manage_payments", &u.role.allows(Permission::ManagePayments))
            .insert("can_view_payments", &u.role.allows(Permission::ViewPayments))
            .insert("can_view_revenue", &u.role.allows(Permission::ViewRevenue))
            .insert("can_manage_topics", &u.role.allows(Permission::ManageTopics))
            .insert("can_view_votes", &u.role.allows(Permission::ViewVotes))
            .insert("can_view_members", &u.role.allows(Permission::ViewMembers))
            .insert("can_manage_corrections", &u.role.allows(Permission::ManageCorrections))
            .insert("can_manage_transparency", &u.role.allows(Permission::ManageTransparency));
    }
    page
}
