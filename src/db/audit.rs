//! The audit log of staff actions.
use sqlx::{Any, Executor, FromRow};

use super::DbError;
use crate::clock::Micros;
use crate::domain::StaffId;

#[derive(Clone, Debug, Default)]
pub struct NewAuditEntry {
    pub staff_id: Option<StaffId>,
    pub actor_email: Option<String>,
    pub action: &'static str,
    pub target: Option<String>,
    pub detail: Option<String>,
    pub ip: Option<String>,
}

#[derive(Clone, Debug, FromRow)]
pub struct AuditEntry {
    pub id: String,
    pub actor_email: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub detail: Option<String>,
    pub ip: Option<String>,
    pub created_at: i64,
}

pub async fn insert<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    entry: &NewAuditEntry,
    now: Micros,
) -> Result<(), DbError> {
    sqlx::query(
        "insert into audit_log (id, staff_id, actor_email, action, target, detail, ip, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(entry.staff_id.map(|s| s.to_string()))
    .bind(entry.actor_email.as_deref())
    .bind(entry.action)
    .bind(entry.target.as_deref())
    .bind(entry.detail.as_deref())
    .bind(entry.ip.as_deref())
    .bind(now)
    .execute(ex)
    .await?;
    Ok(())
}

pub async fn list_recent<'e, E: Executor<'e, Database = Any>>(ex: E, limit: i64) -> Result<Vec<AuditEntry>, DbError> {
    let rows = sqlx::query_as(
        "select id, actor_email, action, target, detail, ip, created_at from audit_log
         order by created_at desc, id desc limit $1",
    )
    .bind(limit)
    .fetch_all(ex)
    .await?;
    Ok(rows)
}
