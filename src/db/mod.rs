//! The only place with SQL. One query layer over sqlx's `Any` driver serves SQLite
//! and PostgreSQL from the same SQL text. The portable rules (see STACK.md §3):
//! - `$n` placeholders only; ids are UUIDv7 text; times are BIGINT Unix microseconds;
//!   money is BIGINT minor units plus a currency code;
//! - no BOOLEAN columns (decode fails on SQLite): use status text or nullable times;
//! - every `SUM`/`AVG` is `CAST` to BIGINT / DOUBLE PRECISION;
//! - read-then-write transactions start with [`Db::transaction`] (`BEGIN IMMEDIATE`
//!   on SQLite).
//!
//! The database is used in three ways, each named by what the caller means to do:
//! - **read**: [`Db::read`] for reads; the hottest ones (a member's session, votes
//!   and subscriptions) through [`Db::read_hot`], on connections kept beside the pool;
//! - **write**: [`Db::write`] for one write outside a transaction;
//! - **transaction**: [`Db::transaction`] for reads and writes that stand or fall together.
//!
//! Writes and transactions wait for this instance's turn to write to SQLite, and
//! record what they changed ([`Change`]); once it is committed, the listener
//! registered at start-up (the services' caches, [`Db::on_change`]) is told.
//!
//! `connect.rs` opens the database (and migrates, pings, reports pool figures),
//! `readers.rs` keeps the reader connections, `write.rs` has write turns,
//! transactions and changes; one file per table group holds the queries.
pub mod audit;
pub mod backup;
pub mod cancel_reasons;
mod connect;
pub mod corrections;
pub mod error;
pub mod gifts;
pub mod giving_reports;
pub mod goals;
pub mod login_tokens;
pub mod member_directory;
pub mod member_notes;
pub mod members;
pub mod offers;
pub mod outbox;
pub mod payment_cards;
pub mod payments;
pub mod rate_limits;
mod readers;
pub mod reports;
pub mod rounds;
pub mod sessions;
pub mod settings;
pub mod sources;
pub mod staff;
pub mod stripe_events;
pub mod subscriptions;
pub mod tiers;
pub mod topics;
pub mod translations;
pub mod transparency;
pub mod updates;
mod write;

use std::str::FromStr;
use std::sync::Arc;

use sqlx::AnyPool;
use tokio::sync::Mutex;

pub use connect::{SQLITE_CACHE_KIB, plain_on_loopback, sqlite_path};
pub use error::DbError;
pub use write::{Change, ChangeListener, Tx, WriteTurn, Writer};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A handle to the database: cheap to clone, shared by the whole process.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    /// Connections for the hottest reads (see [`Db::read_hot`]).
    readers: Arc<readers::Readers>,
    /// On SQLite, whose turn it is to write (see [`Db::write_turn`]).
    write_turn: Option<Arc<Mutex<()>>>,
    backend: Backend,
    /// Told what each write changed once it is committed (see [`Db::on_change`]).
    listener: Option<Arc<dyn ChangeListener>>,
}

impl Db {
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// For reads. Writes go through [`Db::write`] or [`Db::transaction`]; the
    /// hottest reads through [`Db::read_hot`].
    pub fn read(&self) -> &AnyPool {
        &self.pool
    }

    /// This handle, telling `listener` what every write through it (or a clone)
    /// changed, once committed. Registered once, at start-up.
    pub fn on_change(mut self, listener: Arc<dyn ChangeListener>) -> Self {
        self.listener = Some(listener);
        self
    }
}

/// A connection a query function runs several statements on (usually the
/// caller's transaction, `&mut *tx`). Generic like an executor, so callers pass
/// what they would pass to a one-statement function.
pub trait Conn {
    fn conn(&mut self) -> &mut sqlx::AnyConnection;
}

impl Conn for &mut sqlx::AnyConnection {
    fn conn(&mut self) -> &mut sqlx::AnyConnection {
        self
    }
}

/// Parses a stored id or enum, turning corruption into a clear error.
pub(crate) fn parse_stored<T: FromStr>(what: &str, value: &str) -> Result<T, DbError> {
    value.parse().map_err(|_| DbError::other(format!("stored {what} {value:?} cannot be read")))
}
