//! Writing: this instance's turn to write to SQLite, single writes, transactions,
//! and what they changed, told to the listener once committed.
use std::sync::Arc;

use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, Transaction};
use tokio::sync::OwnedMutexGuard;

use super::{Backend, Db, DbError};
use crate::domain::MemberId;

/// What a write changed, as far as copies kept in memory depend on it. A write
/// records it ([`Tx::changed`], [`Writer::changed`]); once committed, the
/// [`ChangeListener`] is told, so nothing forgets a copy before the new data can
/// be read (a reader could otherwise keep the old rows again).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// A member's own row (name, language, comp, deletion) or all their sessions.
    Member(MemberId),
    /// A member's subscriptions or payments: where they stand.
    Standing(MemberId),
    /// The votes a member has cast.
    Votes(MemberId),
    /// One session ended, by the SHA-256 of its cookie.
    SessionEnded(String),
    /// Tiers or their prices.
    Catalog,
    /// Topics or voting rounds (merging topics also moves their votes).
    Board,
    /// The newsroom's voting rules.
    VotingSettings,
    /// Content texts in any language (tiers', topics', rounds', the newsroom's pitch).
    Texts,
    /// What public pages say about money: a ledger row or MRR movement booked
    /// (patron counts, income, a goal's progress), a funding goal, a month's
    /// note, a supporter's listing.
    Giving,
}

/// Told what each write changed, once it is committed (the services' caches,
/// registered with [`Db::on_change`] at start-up).
pub trait ChangeListener: std::fmt::Debug + Send + Sync {
    fn changed(&self, changes: &[Change]);
}

/// What a write has changed so far, and whom to tell.
#[derive(Debug)]
struct Changes {
    listener: Option<Arc<dyn ChangeListener>>,
    list: Vec<Change>,
}

impl Changes {
    fn new(db: &Db) -> Self {
        Self { listener: db.listener.clone(), list: Vec::new() }
    }

    fn tell(&mut self) {
        if let Some(listener) = &self.listener
            && !self.list.is_empty()
        {
            listener.changed(&self.list);
        }
        self.list.clear();
    }
}

/// This instance's turn to write to SQLite (see [`Db::write_turn`]); held until dropped.
#[derive(Debug)]
pub struct WriteTurn {
    _held: Option<OwnedMutexGuard<()>>,
}

/// A transaction that may read and then write (see [`Db::transaction`]).
/// Statements run on it as on a connection (`&mut *tx`); it rolls back unless
/// committed.
pub struct Tx {
    tx: Transaction<'static, Any>,
    changes: Changes,
    _turn: WriteTurn,
}

impl std::fmt::Debug for Tx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tx").field("tx", &self.tx).field("changes", &self.changes.list).finish()
    }
}

impl Tx {
    /// Records that this transaction changes `change`; told once it commits
    /// (never if it rolls back).
    pub fn changed(&mut self, change: Change) {
        self.changes.list.push(change);
    }

    /// Commits, then tells the listener what changed.
    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        self.tx.commit().await?;
        self.changes.tell();
        Ok(())
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

/// A connection for writes outside a transaction (see [`Db::write`]): each
/// statement commits as it runs. What it changed is told when it is dropped,
/// after its statements.
#[derive(Debug)]
pub struct Writer {
    conn: PoolConnection<Any>,
    changes: Changes,
    _turn: WriteTurn,
}

impl Writer {
    /// Records that the statements on this writer change `change`; told when it is dropped.
    pub fn changed(&mut self, change: Change) {
        self.changes.list.push(change);
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.changes.tell();
    }
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

impl Db {
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

    /// A connection for writes outside a transaction, in this instance's write
    /// turn (`&mut *writer`).
    pub async fn write(&self) -> Result<Writer, DbError> {
        let turn = self.write_turn().await;
        Ok(Writer { conn: self.pool.acquire().await?, changes: Changes::new(self), _turn: turn })
    }

    /// A transaction that may read and then write, in this instance's write turn.
    /// On SQLite it takes the write lock up front (`BEGIN IMMEDIATE`): a deferred
    /// transaction that upgrades its lock fails with SQLITE_BUSY under
    /// concurrency, and busy_timeout cannot help.
    pub async fn transaction(&self) -> Result<Tx, DbError> {
        let turn = self.write_turn().await;
        self.transaction_in_turn(turn).await
    }

    /// [`Db::transaction`] for a caller who holds the write turn already.
    pub async fn transaction_in_turn(&self, turn: WriteTurn) -> Result<Tx, DbError> {
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("begin immediate").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(Tx { tx, changes: Changes::new(self), _turn: turn })
    }
}
