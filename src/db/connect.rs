//! Opening the database: the backend from the URL, the pool and how each new
//! connection is set up, migrations, and what health checks and /metrics ask.
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::{MigrateDatabase, Migrator};
use sqlx::{Any, AnyConnection, Connection};

use super::readers::Readers;
use super::{Backend, Db, DbError};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

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
        let url = &*plain_on_loopback(url);
        if !is_sqlite_memory(url) && !Any::database_exists(url).await? {
            Any::create_database(url).await?;
            tracing::info!(db.backend = ?backend, "created the database");
        }
        let pool = pool_options(backend).connect(url).await?;
        let write_turn = (backend == Backend::Sqlite).then(Arc::default);
        let readers = Arc::new(Readers::new(url, backend));
        Ok(Self { pool, readers, write_turn, backend, listener: None })
    }

    fn migrator(&self) -> &'static Migrator {
        match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        }
    }

    /// Applies the migrations, then fills in what SQL alone cannot (the folded
    /// search keys of members written before migration 0009).
    pub async fn migrate(&self) -> Result<(), DbError> {
        self.migrator().run(&self.pool).await.map_err(|e| DbError::other(format!("migration failed: {e}")))?;
        let filled = super::members::backfill_search_keys(self).await?;
        if filled > 0 {
            tracing::info!(members = filled, "filled in the members' search keys");
        }
        Ok(())
    }

    /// The newest migration this binary knows (what `migrate` brings a database to).
    pub fn latest_migration(&self) -> i64 {
        self.migrator().iter().map(|m| m.version).max().unwrap_or(0)
    }

    /// [`Db::latest_migration`] for the backend `url` names, without connecting.
    pub fn latest_known_migration(url: &str) -> i64 {
        let migrator = if url.starts_with("sqlite:") { &SQLITE_MIGRATIONS } else { &POSTGRES_MIGRATIONS };
        migrator.iter().map(|m| m.version).max().unwrap_or(0)
    }

    /// True when the database `url` names exists (nothing is created).
    pub async fn exists(url: &str) -> Result<bool, DbError> {
        install_default_drivers();
        let url = &*plain_on_loopback(url);
        if is_sqlite_memory(url) {
            return Ok(true);
        }
        Ok(Any::database_exists(url).await?)
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

    /// Pool figures for /metrics.
    pub fn pool_stats(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    pub async fn close(&self) {
        self.readers.close().await;
        self.pool.close().await;
    }
}

/// SQLite's page cache per connection, in KiB (see `prepare`).
pub const SQLITE_CACHE_KIB: i64 = 256;

/// How long a PostgreSQL connection may sit idle before it is tested on its way out.
pub(super) const STALE_AFTER: Duration = Duration::from_secs(30);

/// The longest a query waits for a connection (a free one, or a new one while the
/// server refuses them) before it is answered with [`DbError::Unreachable`]: well
/// inside the request timeout, so a request fails with a 503 rather than hang.
pub(super) const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Whether an idle PostgreSQL connection is pinged before it is handed out: when it
/// has been idle long enough for the server (or something between) to drop it, or
/// since before a connection was last seen failing (a restarted server kills
/// every connection it had; each would otherwise fail one request before the pool
/// let it go).
pub(super) fn test_before_use(backend: Backend, idle_for: Duration) -> bool {
    backend == Backend::Postgres && (idle_for >= STALE_AFTER || super::error::idle_since_connection_lost(idle_for))
}

fn pool_options(backend: Backend) -> AnyPoolOptions {
    AnyPoolOptions::new()
        // PostgreSQL does best with a few connections per core; beyond that they only
        // queue inside it (and each costs memory here). Sized for the small server we aim at.
        .max_connections(if backend == Backend::Sqlite { 3 } else { 5 })
        .min_connections(1)
        // sqlx pings every connection as it returns to the pool; pinging it again
        // as it leaves cost PostgreSQL a third of its round trips. A connection
        // idle for a while (which the server may have dropped) is still tested.
        // A SQLite connection is a file handle: it does not go stale as a socket can.
        .test_before_acquire(false)
        .before_acquire(move |conn, meta| {
            Box::pin(async move {
                if test_before_use(backend, meta.idle_for) {
                    conn.ping().await?;
                }
                // SQLite rolls a transaction back by itself when the disk is full (or
                // on an I/O error); sqlx's ROLLBACK on drop then fails, and the
                // connection would stay "in a transaction" for good, refusing every
                // BEGIN. Such a connection is closed, and a fresh one opened. (By the
                // time a connection is idle, sqlx has pinged it after that ROLLBACK,
                // so the count is current.)
                if conn.is_in_transaction() {
                    tracing::warn!(db.backend = ?backend, "closed a pooled connection left in a transaction the database had ended");
                    return Ok(false);
                }
                Ok(true)
            })
        })
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .after_connect(move |conn, _| Box::pin(async move { prepare(conn, backend).await }))
}

/// A connection outside the pool (for [`Db::read_hot`]), set up like the pool's.
/// Bounded by [`ACQUIRE_TIMEOUT`] like the pool's, so a server that does not answer
/// (rather than refusing) cannot hold a request past it.
pub(super) async fn connect_one(url: &str, backend: Backend) -> Result<AnyConnection, DbError> {
    let connect = async {
        let mut conn = AnyConnection::connect(url).await?;
        prepare(&mut conn, backend).await?;
        Ok::<_, DbError>(conn)
    };
    tokio::time::timeout(ACQUIRE_TIMEOUT, connect).await.map_err(|_| DbError::from(sqlx::Error::PoolTimedOut))?
}

/// What every new connection runs first.
async fn prepare(conn: &mut AnyConnection, backend: Backend) -> Result<(), sqlx::Error> {
    if backend == Backend::Sqlite {
        // WAL lets readers run beside the single writer; NORMAL sync is
        // durable across application crashes in WAL mode.
        sqlx::query("pragma journal_mode = wal").execute(&mut *conn).await?;
        sqlx::query("pragma synchronous = normal").execute(&mut *conn).await?;
        sqlx::query("pragma foreign_keys = on").execute(&mut *conn).await?;
        sqlx::query("pragma busy_timeout = 5000").execute(&mut *conn).await?;
        // 256 KiB of pages per connection instead of 2 MiB: the operating system
        // caches the file for all of them anyway. Measured at 100,000 members
        // against 1 MiB: 1.9 MB less peak RSS, no loss of votes or page views.
        sqlx::query(sqlx::AssertSqlSafe(format!("pragma cache_size = -{SQLITE_CACHE_KIB}")))
            .execute(&mut *conn)
            .await?;
        // Checkpoints run inside the committing writer's turn; every 40 MB of
        // log instead of every 4 MB, a busy round's votes wait for ten times
        // fewer of them (measured: about a fifth more votes a second).
        sqlx::query("pragma wal_autocheckpoint = 10000").execute(&mut *conn).await?;
    }
    Ok(())
}

/// A PostgreSQL URL for this machine's own server that does not choose `sslmode`
/// gets `sslmode=disable`: TLS over loopback protects nothing, and negotiating it
/// on every new connection made start-up take about 300 ms instead of 40 ms.
pub fn plain_on_loopback(url: &str) -> std::borrow::Cow<'_, str> {
    let Ok(mut parsed) = url::Url::parse(url) else { return url.into() };
    let loopback = match parsed.host() {
        // postgres: is not a scheme the URL standard knows, so addresses come as names.
        Some(url::Host::Domain(name)) => {
            name == "localhost"
                || name.trim_matches(['[', ']']).parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    let postgres = matches!(parsed.scheme(), "postgres" | "postgresql");
    if !postgres || !loopback || parsed.query_pairs().any(|(k, _)| k == "sslmode") {
        return url.into();
    }
    parsed.query_pairs_mut().append_pair("sslmode", "disable");
    String::from(parsed).into()
}

fn is_sqlite_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

/// `sqlite://data/patronage.db?mode=rwc` → `data`.
fn sqlite_parent_dir(url: &str) -> Option<std::path::PathBuf> {
    let path = sqlite_path(url)?;
    let parent = path.parent()?;
    (!parent.as_os_str().is_empty()).then(|| parent.to_path_buf())
}

/// `sqlite://data/patronage.db?mode=rwc` → `data/patronage.db`; `None` for
/// PostgreSQL and in-memory databases.
pub fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    if is_sqlite_memory(url) {
        return None;
    }
    let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = path.split('?').next()?;
    (!path.is_empty()).then(|| std::path::PathBuf::from(path))
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

    #[test]
    fn postgres_on_loopback_goes_without_tls_unless_the_url_says_otherwise() {
        assert_eq!(
            plain_on_loopback("postgres://u@127.0.0.1:5432/db"),
            "postgres://u@127.0.0.1:5432/db?sslmode=disable"
        );
        assert_eq!(plain_on_loopback("postgresql://localhost/db?x=1"), "postgresql://localhost/db?x=1&sslmode=disable");
        assert_eq!(plain_on_loopback("postgres://[::1]/db"), "postgres://[::1]/db?sslmode=disable");
        for kept in [
            "postgres://u@127.0.0.1/db?sslmode=require",
            "postgres://u@db.example.org/db",
            "postgres://u@10.0.0.5/db",
            "sqlite://data/patronage.db?mode=rwc",
            "sqlite::memory:",
        ] {
            assert_eq!(plain_on_loopback(kept), kept);
        }
    }
}
