//! The only place with SQL. One query layer over sqlx's `Any` driver serves SQLite
//! and PostgreSQL from the same SQL text. The portable rules (see STACK.md §3):
//! - `$n` placeholders only; ids are UUIDv7 text; times are BIGINT Unix microseconds;
//!   money is BIGINT minor units plus a currency code;
//! - no BOOLEAN columns (decode fails on SQLite): use status text or nullable times;
//! - every `SUM`/`AVG` is `CAST` to BIGINT / DOUBLE PRECISION;
//! - read-then-write transactions start with [`Db::begin_write`]; a single write
//!   outside one goes through [`Db::write`]; the hottest reads go through
//!   [`Db::read`], the rest straight to [`Db::pool`].
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
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::{MigrateDatabase, Migrator};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Connection, Transaction};
use std::time::Instant;
use tokio::sync::{Mutex, OwnedMutexGuard, Semaphore};

pub use error::DbError;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// A write transaction (see [`Db::begin_write`]). Statements run on it as on a
/// connection (`&mut *tx`); it rolls back unless committed.
pub struct Tx {
    tx: Transaction<'static, Any>,
    _turn: WriteTurn,
    after_commit: Vec<Box<dyn FnOnce() + Send>>,
}

impl std::fmt::Debug for Tx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tx").field("tx", &self.tx).field("after_commit", &self.after_commit.len()).finish()
    }
}

/// This instance's turn to write to SQLite (see [`Db::write_turn`]); held until dropped.
#[derive(Debug)]
pub struct WriteTurn {
    _held: Option<OwnedMutexGuard<()>>,
}

impl Tx {
    /// Commits, then runs what [`Tx::after_commit`] queued.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await?;
        self.after_commit.into_iter().for_each(|action| action());
        Ok(())
    }

    /// Runs `action` once this transaction has committed (never if it rolls
    /// back). For forgetting cached copies of what it changed: forgotten any
    /// earlier, a reader could cache the old rows again before the commit.
    pub fn after_commit(&mut self, action: impl FnOnce() + Send + 'static) {
        self.after_commit.push(Box::new(action));
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.tx.rollback().await
    }
}

impl std::ops::Deref for Tx {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}

/// A connection for one write outside a transaction (see [`Db::write`]).
#[derive(Debug)]
pub struct Writer {
    conn: PoolConnection<Any>,
    _turn: WriteTurn,
}

impl std::ops::Deref for Writer {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.conn
    }
}

impl std::ops::DerefMut for Writer {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.conn
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A handle to the database: cheap to clone, shared by the whole process.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    /// Connections for the hottest reads (see [`Db::read`]).
    readers: Arc<Readers>,
    /// On SQLite, whose turn it is to write (see [`Db::begin_write`]).
    write_turn: Option<Arc<Mutex<()>>>,
    backend: Backend,
}

/// A few connections kept beside sqlx's pool, handed out and taken back without
/// it. The pool pings each connection it takes back (a round trip to SQLite's
/// worker thread, or to PostgreSQL) from a task of its own, which cost a
/// one-statement read about as much as the statement.
struct Readers {
    url: String,
    backend: Backend,
    permits: Semaphore,
    /// Idle connections, with when each was last used.
    idle: std::sync::Mutex<Vec<(AnyConnection, Instant)>>,
}

impl std::fmt::Debug for Readers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Readers").field("backend", &self.backend).finish_non_exhaustive()
    }
}

/// Gives the connection back when the read succeeded; a read that failed or was
/// cancelled half-way drops its connection instead, so no broken or busy
/// connection is handed out again.
struct Lent<'a> {
    readers: &'a Readers,
    conn: Option<AnyConnection>,
    succeeded: bool,
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take()
            && self.succeeded
            && let Ok(mut idle) = self.readers.idle.lock()
        {
            idle.push((conn, Instant::now()));
        }
    }
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
        let url = &*plain_on_loopback(url);
        if !is_sqlite_memory(url) && !Any::database_exists(url).await? {
            Any::create_database(url).await?;
            tracing::info!(db.backend = ?backend, "created the database");
        }
        let pool = pool_options(backend).connect(url).await?;
        let write_turn = (backend == Backend::Sqlite).then(Arc::default);
        let readers = Arc::new(Readers {
            url: url.to_owned(),
            backend,
            permits: Semaphore::new(READERS),
            idle: std::sync::Mutex::default(),
        });
        Ok(Self { pool, readers, write_turn, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// For reads; writes go through [`Db::write`] or [`Db::begin_write`].
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Runs `read` on one of the connections kept for the hottest reads (a
    /// member's session, votes and subscriptions), which come back without the
    /// pool's ping. Other reads use [`Db::pool`].
    pub async fn read<T>(
        &self,
        read: impl AsyncFnOnce(&mut AnyConnection) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        let readers = &*self.readers;
        let _permit = readers.permits.acquire().await.map_err(|_| DbError::other("the database is closing"))?;
        let idle = readers.idle.lock().ok().and_then(|mut idle| idle.pop());
        let conn = match idle {
            Some((mut conn, last_used)) => {
                // Like the pool: a connection idle for a while may have been dropped by the server.
                if readers.backend == Backend::Postgres
                    && last_used.elapsed() >= STALE_AFTER
                    && conn.ping().await.is_err()
                {
                    connect_one(&readers.url, readers.backend).await?
                } else {
                    conn
                }
            }
            None => connect_one(&readers.url, readers.backend).await?,
        };
        let mut lent = Lent { readers, conn: Some(conn), succeeded: false };
        let Some(conn) = lent.conn.as_mut() else { return Err(DbError::other("no reader connection")) };
        let answer = read(conn).await;
        lent.succeeded = answer.is_ok();
        answer
    }

    /// SQLite has one writer at a time. Writers that meet on its lock sleep in its
    /// busy handler (1 ms, 2 ms, 5 ms …) while the lock sits idle; taking turns
    /// here first hands the lock over as soon as it is free.
    /// Waiting for it is cancel-safe. On PostgreSQL it is granted at once.
    pub async fn write_turn(&self) -> WriteTurn {
        match &self.write_turn {
            Some(turn) => WriteTurn { _held: Some(turn.clone().lock_owned().await) },
            None => WriteTurn { _held: None },
        }
    }

    /// A connection for one statement that writes outside a transaction
    /// (`&mut *db.write().await?`).
    pub async fn write(&self) -> Result<Writer, DbError> {
        let turn = self.write_turn().await;
        Ok(Writer { conn: self.pool.acquire().await?, _turn: turn })
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
        let turn = self.write_turn().await;
        self.begin_write_in(turn).await
    }

    /// [`Db::begin_write`] for a caller who holds the write turn already.
    pub async fn begin_write_in(&self, turn: WriteTurn) -> Result<Tx, DbError> {
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("begin immediate").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(Tx { tx, _turn: turn, after_commit: Vec::new() })
    }

    /// Pool figures for /metrics.
    pub fn pool_stats(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    pub async fn close(&self) {
        self.readers.permits.close();
        let idle = self.readers.idle.lock().map(|mut idle| std::mem::take(&mut *idle)).unwrap_or_default();
        for (conn, _) in idle {
            let _ = conn.close().await;
        }
        self.pool.close().await;
    }
}

/// How long a PostgreSQL connection may sit idle before it is tested on its way out.
const STALE_AFTER: Duration = Duration::from_secs(30);

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
                if backend == Backend::Postgres && meta.idle_for >= STALE_AFTER {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
        .acquire_timeout(Duration::from_secs(5))
        .after_connect(move |conn, _| Box::pin(async move { prepare(conn, backend).await }))
}

/// Connections for [`Db::read`], beside the pool's. Together they stay within
/// what the pool alone used to hold.
const READERS: usize = 3;

/// A connection for [`Db::read`], set up like the pool's.
async fn connect_one(url: &str, backend: Backend) -> Result<AnyConnection, DbError> {
    let mut conn = AnyConnection::connect(url).await?;
    prepare(&mut conn, backend).await?;
    Ok(conn)
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
        sqlx::query("pragma cache_size = -256").execute(&mut *conn).await?;
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
fn plain_on_loopback(url: &str) -> std::borrow::Cow<'_, str> {
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

    fn idle_readers(db: &Db) -> usize {
        db.readers.idle.lock().map(|idle| idle.len()).unwrap_or(0)
    }

    #[tokio::test]
    async fn a_reader_comes_back_after_a_good_read_and_is_dropped_after_a_failed_or_cancelled_one() {
        let path = std::env::temp_dir().join(format!("patronage-readers-{}.db", uuid::Uuid::new_v4()));
        let db = Db::connect(&format!("sqlite://{}?mode=rwc", path.display())).await.expect("the database opens");
        let one = async |conn: &mut AnyConnection| {
            let (n,): (i64,) = sqlx::query_as("select 1").fetch_one(conn).await?;
            Ok(n)
        };
        assert_eq!(db.read(one).await.expect("a good read"), 1);
        assert_eq!(idle_readers(&db), 1, "the connection is kept for the next read");
        let bad = db
            .read(async |conn: &mut AnyConnection| Ok(sqlx::query("select * from nowhere").execute(conn).await?))
            .await;
        assert!(bad.is_err());
        assert_eq!(idle_readers(&db), 0, "a connection whose read failed is not handed out again");
        let cancelled = tokio::time::timeout(
            Duration::ZERO,
            db.read(async |conn: &mut AnyConnection| {
                tokio::time::sleep(Duration::from_secs(5)).await;
                Ok(sqlx::query("select 1").execute(conn).await?)
            }),
        );
        assert!(cancelled.await.is_err());
        assert_eq!(idle_readers(&db), 0, "nor is one whose read was cancelled half-way");
        assert_eq!(db.read(one).await.expect("a new connection is opened"), 1);
        db.close().await;
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }

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
