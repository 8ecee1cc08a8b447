//! What staff read: the dashboard's figures, the ledger, the Stripe event log,
//! the audit log, and the rows behind CSV exports. Pages and exports get their
//! data here rather than from `db`, so the rules (how old a figure may be, that
//! exporting personal data is itself audited) live in one place. Who may read
//! what is the caller's check (`Permission`), made before calling.
use std::sync::Arc;

use super::cache::DashboardFigures;
use super::{Context, StorageError};
use crate::db::audit::AuditEntry;
use crate::db::payments::LedgerRow;
use crate::db::stripe_events::StoredEvent;
use crate::db::{self, DbError};

/// The dashboard's counts, up to a few seconds old (counting scans tables that
/// grow with the newsroom; see [`DashboardFigures`]).
pub async fn dashboard(ctx: &Context) -> Result<Arc<DashboardFigures>, StorageError> {
    let pool = ctx.db.read();
    Ok(ctx
        .caches
        .dashboard
        .get_or_load(&ctx.clock, (), || async {
            Ok::<_, DbError>(Arc::new(DashboardFigures {
                members: db::members::count(pool).await?,
                pending_mail: db::outbox::count_pending(pool).await?,
                failed_mail: db::outbox::count_failed(pool).await?,
            }))
        })
        .await?)
}

/// The latest `limit` ledger rows, newest first.
pub async fn ledger(ctx: &Context, limit: i64) -> Result<Vec<LedgerRow>, StorageError> {
    Ok(db::payments::list_recent(ctx.db.read(), limit).await?)
}

/// The latest `limit` Stripe events as received, newest first.
pub async fn stripe_event_log(ctx: &Context, limit: i64) -> Result<Vec<StoredEvent>, StorageError> {
    Ok(db::stripe_events::list_recent(ctx.db.read(), limit).await?)
}

/// The latest `limit` entries of the audit log, newest first.
pub async fn audit_log(ctx: &Context, limit: i64) -> Result<Vec<AuditEntry>, StorageError> {
    Ok(db::audit::list_recent(ctx.db.read(), limit).await?)
}
