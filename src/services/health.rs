//! What the readiness probe and the metrics endpoint ask of the system, so the
//! health handlers, like every other, reach storage only through services.
use super::{Context, StorageError};

/// The database answers and every migration this binary knows is applied
/// (false: reachable, but migrations are pending).
pub async fn migrations_current(ctx: &Context) -> Result<bool, StorageError> {
    Ok(ctx.db.migrations_current().await?)
}

/// Connections the pool holds, and how many of them are idle.
pub fn pool_connections(ctx: &Context) -> (u32, usize) {
    ctx.db.pool_stats()
}
