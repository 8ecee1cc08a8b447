//! Use cases. Pure logic over `db` and the gateways (mail); no HTTP here.
//! Callers above (http, jobs, the CLI) reach storage only through these
//! functions, and see its failures as [`StorageError`] or as a service's own
//! error enum.
pub mod anniversaries;
pub mod audit;
pub mod backup;
pub mod billing;
pub mod cache;
pub mod checkout;
pub mod content;
pub mod corrections;
pub mod demo_data;
pub mod dunning;
pub mod gifts;
pub mod giving_reports;
pub mod goals;
pub mod health;
pub mod members;
pub mod membership;
pub mod offers;
pub mod outbox;
pub mod patron_mail;
pub mod rate_limit;
pub mod receipts;
pub mod reports;
pub mod retention;
pub mod sessions;
pub mod sources;
pub mod staff;
pub mod stripe_events;
pub mod tiers;
pub mod transparency;
pub mod updates;
pub mod voting;

use std::sync::Arc;

use tokio::sync::Notify;

use crate::clock::Clock;
use crate::db::{Db, DbError};
use crate::payments::Payments;
use crate::tokens::Keys;
use crate::views::Views;

/// What every use case needs, cheap to clone.
#[derive(Clone, Debug)]
pub struct Context {
    pub db: Db,
    pub clock: Clock,
    pub views: Arc<Views>,
    pub keys: Arc<Keys>,
    /// Origin readers use, without trailing slash, for links in emails.
    pub public_url: String,
    pub newsroom_name: String,
    /// Who receipts and statements say was paid (NEWSROOM_LEGAL_NAME, NEWSROOM_ADDRESS).
    pub legal: crate::domain::LegalEntity,
    /// The language content's own columns are written in (NEWSROOM_LANGUAGE).
    pub newsroom_language: crate::domain::Locale,
    /// The newsroom's time zone: reports count calendar months there.
    pub zone: crate::domain::Zone,
    /// Woken after a commit that enqueued mail, so this instance sends at once.
    pub mail_wakeup: Arc<Notify>,
    /// Woken when a Stripe event is stored, so this instance applies it at once.
    pub stripe_wakeup: Arc<Notify>,
    pub payments: Payments,
    /// How long a patron whose renewal failed keeps access.
    pub past_due_grace: crate::clock::Micros,
    /// Card fees per currency (CARD_FEES): covering the fee, and demo payments' fees.
    pub card_fees: Arc<crate::domain::CardFees>,
    pub caches: Arc<cache::Caches>,
    /// Votes waiting to be cast in the next batch.
    pub votes: Arc<voting::batching::VoteQueue>,
    /// How long a worker holds a Stripe event or an email it took (JOB_LEASE_SECONDS).
    pub job_lease: crate::clock::Micros,
    /// Which sources (article, referrer) are kept: the newsroom's origins (TRUSTED_ORIGINS).
    pub sources: Arc<crate::domain::SourcePolicy>,
}

impl Context {
    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{}", self.public_url, path_and_query)
    }
}

/// Storage failed under a use case that has no refusals of its own. Callers
/// above services never name `db` types: they get this, or a service's own
/// error enum whose `Db` variant converts into it. A record that is not there
/// stays distinguishable from a failure.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct StorageError(#[from] DbError);

impl StorageError {
    /// The record asked about does not exist (or no longer does).
    pub fn is_not_found(&self) -> bool {
        matches!(self.0, DbError::NotFound)
    }

    /// The database cannot store changes now (a full disk, a read-only file) or
    /// cannot be reached (see [`StorageError::is_unreachable`]), and may again later: ask again.
    pub fn is_unavailable(&self) -> bool {
        self.0.is_unavailable()
    }

    /// The database server cannot be reached now (down, restarting, no connection
    /// to be had in time).
    pub fn is_unreachable(&self) -> bool {
        self.0.is_unreachable()
    }
}

/// For a service that calls one of these use cases inside its own work.
impl From<StorageError> for DbError {
    fn from(e: StorageError) -> Self {
        e.0
    }
}
