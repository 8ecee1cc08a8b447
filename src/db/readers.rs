//! Connections for the hottest reads, kept beside sqlx's pool and handed out
//! and taken back without it. The pool pings each connection it takes back (a
//! round trip to SQLite's worker thread, or to PostgreSQL) from a task of its
//! own, which cost a one-statement read about as much as the statement.
use std::time::Instant;

use sqlx::{AnyConnection, Connection};
use tokio::sync::Semaphore;

use super::connect::{connect_one, test_before_use};
use super::{Backend, Db, DbError};

/// Reader connections beside the pool's. Together they stay within what the
/// pool alone used to hold.
const READERS: usize = 3;

pub(super) struct Readers {
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

impl Readers {
    pub(super) fn new(url: &str, backend: Backend) -> Self {
        Self { url: url.to_owned(), backend, permits: Semaphore::new(READERS), idle: std::sync::Mutex::default() }
    }

    /// Refuses further reads and closes the idle connections.
    pub(super) async fn close(&self) {
        self.permits.close();
        let idle = self.idle.lock().map(|mut idle| std::mem::take(&mut *idle)).unwrap_or_default();
        for (conn, _) in idle {
            let _ = conn.close().await;
        }
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
    /// Runs `read` on one of the connections kept for the hottest reads (a
    /// member's session, votes and subscriptions), which come back without the
    /// pool's ping. Other reads use [`Db::read`].
    pub async fn read_hot<T>(
        &self,
        read: impl AsyncFnOnce(&mut AnyConnection) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        let readers = &*self.readers;
        let _permit = readers.permits.acquire().await.map_err(|_| DbError::other("the database is closing"))?;
        let idle = readers.idle.lock().ok().and_then(|mut idle| idle.pop());
        let conn = match idle {
            Some((mut conn, last_used)) => {
                // Like the pool: a connection idle for a while may have been dropped by the server.
                if test_before_use(readers.backend, last_used.elapsed()) && conn.ping().await.is_err() {
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
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

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
        assert_eq!(db.read_hot(one).await.expect("a good read"), 1);
        assert_eq!(idle_readers(&db), 1, "the connection is kept for the next read");
        let bad = db
            .read_hot(async |conn: &mut AnyConnection| Ok(sqlx::query("select * from nowhere").execute(conn).await?))
            .await;
        assert!(bad.is_err());
        assert_eq!(idle_readers(&db), 0, "a connection whose read failed is not handed out again");
        let cancelled = tokio::time::timeout(
            Duration::ZERO,
            db.read_hot(async |conn: &mut AnyConnection| {
                tokio::time::sleep(Duration::from_secs(5)).await;
                Ok(sqlx::query("select 1").execute(conn).await?)
            }),
        );
        assert!(cancelled.await.is_err());
        assert_eq!(idle_readers(&db), 0, "nor is one whose read was cancelled half-way");
        assert_eq!(db.read_hot(one).await.expect("a new connection is opened"), 1);
        db.close().await;
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
}
