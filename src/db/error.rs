use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Errors of the query layer. Mapped from `sqlx::Error` here and nowhere else.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("not found")]
    NotFound,
    /// A uniqueness or check constraint refused the write; `constraint` is its name
    /// (PostgreSQL's, or derived as `<table>_<column>_key` from SQLite's message).
    #[error("constraint {constraint} refused the change")]
    Conflict { constraint: String },
    /// The database cannot take changes now and may again later, e.g. SQLite
    /// reports its disk full, its file or directory read-only, or an I/O error.
    #[error("the database cannot store changes right now: {0}")]
    Unavailable(anyhow::Error),
    /// The database server cannot be reached now and may be again soon: it refuses
    /// connections, is shutting down or starting up, dropped the connection, or the
    /// pool found no connection within its acquire timeout.
    #[error("the database cannot be reached right now: {0}")]
    Unreachable(anyhow::Error),
    #[error(transparent)]
    Other(anyhow::Error),
}

impl DbError {
    pub fn other(message: impl Into<String>) -> Self {
        Self::Other(anyhow::anyhow!(message.into()))
    }

    /// Worth asking again later: [`DbError::Unavailable`] or [`DbError::Unreachable`].
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable(_) | Self::Unreachable(_))
    }

    /// See [`DbError::Unreachable`].
    pub fn is_unreachable(&self) -> bool {
        matches!(self, Self::Unreachable(_))
    }

    pub fn is_conflict_on(&self, name: &str) -> bool {
        matches!(self, Self::Conflict { constraint } if constraint == name)
    }
}

impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => Self::NotFound,
            sqlx::Error::Database(ref db) if db.is_unique_violation() || db.is_check_violation() => {
                let constraint = db
                    .constraint()
                    .map(str::to_string)
                    .or_else(|| sqlite_constraint(db.message()))
                    .unwrap_or_else(|| "unknown".into());
                Self::Conflict { constraint }
            }
            sqlx::Error::Database(ref db) if sqlite_storage_trouble(db.as_ref()) => {
                Self::Unavailable(anyhow::Error::new(e))
            }
            sqlx::Error::Database(ref db) if postgres_connection_trouble(db.as_ref()) => {
                connection_lost();
                Self::Unreachable(anyhow::Error::new(e))
            }
            sqlx::Error::Database(ref db) if postgres_storage_trouble(db.as_ref()) => {
                Self::Unavailable(anyhow::Error::new(e))
            }
            // The socket failed (refused, reset, closed mid-answer), or no connection
            // could be had in time: the server is down, restarting or swamped.
            sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut => {
                connection_lost();
                Self::Unreachable(anyhow::Error::new(e))
            }
            other => Self::Other(anyhow::Error::new(other)),
        }
    }
}

/// When a connection to the database was last seen failing, in microseconds since
/// [`EPOCH`] (0: never). Connections left idle since then may be dead (the server
/// restarted under them) and are tested before they are handed out again; see
/// [`idle_since_connection_lost`]. One per process: a hint that costs, at worst, a
/// ping of each idle connection once.
static CONNECTION_LOST_AT: AtomicU64 = AtomicU64::new(0);
static EPOCH: OnceLock<Instant> = OnceLock::new();

fn micros_since_epoch(at: Instant) -> u64 {
    let epoch = *EPOCH.get_or_init(Instant::now);
    u64::try_from(at.saturating_duration_since(epoch).as_micros()).unwrap_or(u64::MAX).max(1)
}

/// Records that a connection to the database failed just now.
pub(super) fn connection_lost() {
    CONNECTION_LOST_AT.fetch_max(micros_since_epoch(Instant::now()), Ordering::Relaxed);
}

/// True when a connection idle for `idle_for` was already idle when a connection
/// was last seen failing, so it may have died with the others.
pub(super) fn idle_since_connection_lost(idle_for: Duration) -> bool {
    let lost_at = CONNECTION_LOST_AT.load(Ordering::Relaxed);
    let idle_since = Instant::now().checked_sub(idle_for).map_or(1, micros_since_epoch);
    lost_at != 0 && idle_since <= lost_at
}

/// PostgreSQL's SQLSTATEs for a connection that ends or cannot start now: class 08
/// (connection exception), 57P01/57P02 (the server is shutting down, by command or
/// after a crash), 57P03 (it cannot take connections yet: starting up or shutting down).
fn postgres_connection_trouble(db: &dyn sqlx::error::DatabaseError) -> bool {
    db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>().is_some()
        && db.code().is_some_and(|c| c.starts_with("08") || matches!(&*c, "57P01" | "57P02" | "57P03"))
}

/// PostgreSQL's counterparts of SQLite's full disk and read-only file: 53100
/// (disk full), 53200 (out of memory), 53300 (too many connections) and 25006 (a
/// read-only transaction, as on a standby or with default_transaction_read_only).
fn postgres_storage_trouble(db: &dyn sqlx::error::DatabaseError) -> bool {
    db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>().is_some()
        && db.code().is_some_and(|c| matches!(&*c, "53100" | "53200" | "53300" | "25006"))
}

impl From<sqlx::migrate::MigrateError> for DbError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Self::Other(anyhow::Error::new(e))
    }
}

/// SQLite's result codes for storage that cannot take writes now: SQLITE_READONLY (8),
/// SQLITE_IOERR (10) and SQLITE_FULL (13), in any of their extended forms.
fn sqlite_storage_trouble(db: &dyn sqlx::error::DatabaseError) -> bool {
    db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some()
        && db.code().and_then(|c| c.parse::<i64>().ok()).is_some_and(|c| matches!(c & 0xff, 8 | 10 | 13))
}

/// "UNIQUE constraint failed: members.email" → "members_email_key";
/// "CHECK constraint failed: staff_users_role_check" → that name.
fn sqlite_constraint(message: &str) -> Option<String> {
    if let Some(cols) = message.strip_prefix("UNIQUE constraint failed: ") {
        let table = cols.split('.').next()?;
        let columns: Vec<&str> = cols.split(", ").filter_map(|c| c.split('.').nth(1)).collect();
        return Some(format!("{table}_{}_key", columns.join("_")));
    }
    message.strip_prefix("CHECK constraint failed: ").map(|n| n.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real SQLITE_READONLY from SQLite (a connection opened read-only writes).
    #[tokio::test]
    async fn a_read_only_sqlite_database_is_unavailable_not_an_internal_error() {
        use sqlx::Connection as _;
        sqlx::any::install_default_drivers();
        let path = std::env::temp_dir().join(format!("patronage-ro-{}.db", uuid::Uuid::new_v4().simple()));
        let mut rw = sqlx::AnyConnection::connect(&format!("sqlite://{}?mode=rwc", path.display())).await.expect("rw");
        sqlx::query("create table t (x integer)").execute(&mut rw).await.expect("created");
        rw.close().await.expect("closed");
        let mut ro = sqlx::AnyConnection::connect(&format!("sqlite://{}?mode=ro", path.display())).await.expect("ro");
        let e = DbError::from(sqlx::query("insert into t values (1)").execute(&mut ro).await.expect_err("read-only"));
        assert!(e.is_unavailable(), "{e:?}");
        let e = DbError::from(sqlx::query("select * from nowhere").execute(&mut ro).await.expect_err("no table"));
        assert!(!e.is_unavailable(), "{e:?}");
        let _ = ro.close().await;
        let _ = std::fs::remove_file(path);
    }

    /// A PostgreSQL that refuses connections (nothing listens on the port) is
    /// unreachable, and marks the connections idle until then for a ping.
    #[tokio::test]
    async fn a_refused_postgres_connection_is_unreachable_not_an_internal_error() {
        use sqlx::Connection as _;
        sqlx::any::install_default_drivers();
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        let url = format!("postgres://postgres@127.0.0.1:{port}/x?sslmode=disable");
        let e = DbError::from(sqlx::AnyConnection::connect(&url).await.expect_err("nothing listens"));
        assert!(e.is_unreachable() && e.is_unavailable(), "{e:?}");
        assert!(idle_since_connection_lost(Duration::from_secs(1)));
    }

    #[test]
    fn sqlite_messages_map_to_postgres_style_names() {
        assert_eq!(sqlite_constraint("UNIQUE constraint failed: members.email").as_deref(), Some("members_email_key"));
        assert_eq!(
            sqlite_constraint("UNIQUE constraint failed: votes.member_id, votes.topic_id").as_deref(),
            Some("votes_member_id_topic_id_key")
        );
        assert_eq!(
            sqlite_constraint("CHECK constraint failed: staff_users_role_check").as_deref(),
            Some("staff_users_role_check")
        );
    }
}
