//! The audit log: who did what, when and from where. Every staff action (and
//! refused attempt) is recorded in the transaction of the change it describes.
use super::{Context, StorageError};
use crate::db::audit::NewAuditEntry;
use crate::db::{self, DbError, Tx};
use crate::domain::{StaffId, StaffUser};

/// Who did something, for the audit log.
#[derive(Clone, Debug, Default)]
pub struct Actor {
    pub staff_id: Option<StaffId>,
    pub email: Option<String>,
    pub ip: Option<String>,
}

impl Actor {
    pub fn staff(user: &StaffUser, ip: &str) -> Self {
        Self { staff_id: Some(user.id), email: Some(user.email.to_string()), ip: Some(ip.to_string()) }
    }

    /// The command line (`patronage staff add`).
    pub fn cli() -> Self {
        Self { staff_id: None, email: Some("(command line)".into()), ip: None }
    }
}

/// Writes one audit entry inside `tx`, so the entry stands or falls with the change it records.
pub async fn record(
    ctx: &Context,
    tx: &mut Tx,
    actor: &Actor,
    action: &'static str,
    target: Option<String>,
    detail: Option<String>,
) -> Result<(), DbError> {
    let entry = NewAuditEntry {
        staff_id: actor.staff_id,
        actor_email: actor.email.clone(),
        action,
        target,
        detail,
        ip: actor.ip.clone(),
    };
    db::audit::insert(&mut **tx, &entry, ctx.clock.now()).await
}

/// A signed-in staff user was refused `permission` at `what` (method and path):
/// the refusal is an entry of its own, written at once.
pub async fn refused(ctx: &Context, actor: &Actor, permission: &str, what: &str) -> Result<(), StorageError> {
    let mut tx = ctx.db.transaction().await?;
    record(ctx, &mut tx, actor, "staff.refused", Some(what.to_string()), Some(format!("needs {permission}"))).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(())
}
