//! The only place with SQL. One query layer over sqlx's `Any` driver serves SQLite
//! and PostgreSQL from the same SQL text. The portable rules (see STACK.md §3):
//! - `$n` placeholders only; ids are UUIDv7 text; times are BIGINT Unix microseconds;
//!   money is BIGINT minor units plus a currency code;
//! - no BOOLEAN columns (decode fails on SQLite): use status text or nullable times;
//! - every `SUM`/`AVG` is `CAST` to BIGINT / DOUBLE PRECISION;
//! - read-then-write transactions start with [`Db::begin_write`].
pub mod audit;
pub mod error;
pub mod login_tokens;
pub mod members;
pub mod outbox;
pub mod payments;
pub mod rate_limits;
pub mod rounds;
pub mod sessions;
pub mod settings;
pub mod staff;
pub mod stripe_events;
pub mod subscriptions;
pub mod tiers;
pub mod topics;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::{MigrateDatabase, Migrator};
use sqlx::{Any, AnyPool, Transaction};

pub use error::DbError;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

pub type Tx = Transaction<'static, Any>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A handle to the database: cheap to clone, shared by the whole process.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
}

impl Db {
    /// Connects, creating the SQLite file (and its directory) or the PostgreSQL
    /// database when missing.
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") { Backend::Sqlite } else { Backend::Postgres };
        if backend == Backend::Sqlite
            && let Some(dir) = sqlite_parent_dir(url)
        {
            std::fs::create_dir_all(&dir)
                .map_err(|e| DbError::other(format!("cannot create the database directory {}: {e}", dir.display())))?;
        }
        if !is_sqlite_memory(url) && !Any::database_exists(url).await? {
            Any::create_database(url).await?;
            tracing::info!(db.backend = ?backend, "created the database");
        }
        let options = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 8 } else { 16 })
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(5))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the single writer; NORMAL sync is
                        // durable across application crashes in WAL mode.
                        sqlx::query("pragma journal_mode = wal").execute(&mut *conn).await?;
                        sqlx::query("pragma synchronous = normal").execute(&mut *conn).await?;
                        sqlx::query("pragma foreign_keys = on").execute(&mut *conn).await?;
                        sqlx::query("pragma busy_timeout = 5000").execute(&mut *conn).await?;
                    }
                    Ok(())
                })
            });
        let pool = options.connect(url).await?;
        Ok(Self { pool, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    fn migrator(&self) -> &'static Migrator {
        match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        }
    }

    pub async fn migrate(&self) -> Result<(), DbError> {
        self.migrator().run(&self.pool).await.map_err(|e| DbError::other(format!("migration failed: {e}")))
    }

    /// True when every migration this binary knows is applied.
    pub async fn migrations_current(&self) -> Result<bool, DbError> {
        let applied: Vec<(i64,)> = sqlx::query_as("select version from _sqlx_migrations where success = $1")
            .bind(true)
            .fetch_all(&self.pool)
            .await?;
        let applied: std::collections::HashSet<i64> = applied.into_iter().map(|(v,)| v).collect();
        Ok(self.migrator().iter().all(|m| applied.contains(&m.version)))
    }

    pub async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("select 1").execute(&self.pool).await?;
        Ok(())
    }

    /// A transaction that may read and then write. On SQLite it takes the write lock
    /// up front (`BEGIN IMMEDIATE`): a deferred transaction that upgrades its lock
    /// fails with SQLITE_BUSY under concurrency, and busy_timeout cannot help.
    pub async fn begin_write(&self) -> Result<Tx, DbError> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("begin immediate").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// Pool figures for /metrics.
    pub fn pool_stats(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn is_sqlite_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

/// `sqlite://data/patronage.db?mode=rwc` → `data`.
fn sqlite_parent_dir(url: &str) -> Option<std::path::PathBuf> {
    if is_sqlite_memory(url) {
        return None;
    }
    let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = path.split('?').next()?;
    let parent = std::path::Path::new(path).parent()?;
    (!parent.as_os_str().is_empty()).then(|| parent.to_path_buf())
}

/// Parses a stored id or enum, turning corruption into a clear error.
pub(crate) fn parse_stored<T: FromStr>(what: &str, value: &str) -> Result<T, DbError> {
    value.parse().map_err(|_| DbError::other(format!("stored {what} {value:?} cannot be read")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_directory_comes_from_the_url() {
        assert_eq!(sqlite_parent_dir("sqlite://data/patronage.db?mode=rwc"), Some("data".into()));
        assert_eq!(sqlite_parent_dir("sqlite:///tmp/x/y.db"), Some("/tmp/x".into()));
        assert_eq!(sqlite_parent_dir("sqlite://p.db"), None);
        assert_eq!(sqlite_parent_dir("sqlite::memory:"), None);
    }
}
