//! Members choose what gets covered: suggestions and their moderation
//! ([`topics`], [`moderation`]), voting rounds ([`rounds`]), who may vote and with
//! what weight ([`ballot`]), votes cast in batches ([`batching`]), closing rounds
//! ([`closing`]), and the read models of the voting pages ([`pages`]). Every
//! change and the mail it causes are stored in one transaction.
pub mod ballot;
pub mod batching;
pub mod closing;
pub mod moderation;
pub mod pages;
pub mod rounds;
pub mod settings;
pub mod topics;

use super::billing::BillingError;
use super::outbox::OutboxError;
use super::rate_limit::RateLimitError;
use crate::db::DbError;
use crate::domain::TopicStatus;

pub use ballot::{Ballot, ballot, eligibility, vote, withdraw};
pub use closing::close_due_rounds;
pub use moderation::{Decision, decide};
pub use rounds::{MAX_VOTES_LIMIT, RoundInput, board, create_round, export_votes};
pub use settings::{save_settings, settings};
pub use topics::{SUGGESTIONS_PER_MEMBER, Suggestion, create_open, follow, suggest};

#[derive(Debug, thiserror::Error)]
pub enum VotingError {
    #[error("too many suggestions; try again in {retry_after_secs} seconds")]
    RateLimited { retry_after_secs: i64 },
    #[error("not found")]
    NotFound,
    /// The topic is not in a state that allows this (or another editor changed it first).
    #[error("the topic cannot move from {from} to {to}")]
    InvalidMove { from: TopicStatus, to: TopicStatus },
    #[error("invalid round: {0}")]
    InvalidRound(&'static str),
    #[error("vote refused: {0:?}")]
    Refused(Refusal),
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<BillingError> for VotingError {
    fn from(e: BillingError) -> Self {
        match e {
            BillingError::Db(e) => Self::Db(e),
            BillingError::Mail(e) => Self::Outbox(e),
            BillingError::Offer(e) => Self::Db(crate::db::DbError::other(e.to_string())),
        }
    }
}

impl From<RateLimitError> for VotingError {
    fn from(e: RateLimitError) -> Self {
        match e {
            RateLimitError::Limited { retry_after_secs } => Self::RateLimited { retry_after_secs },
            RateLimitError::Db(e) => Self::Db(e),
        }
    }
}

/// Why a member cannot vote (or withdraw) now. Each has a message for readers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    RoundNotOpen,
    NotOnBallot,
    PatronsOnly,
    Lapsed,
    /// The patron paused their payments: the same rule as lapsed, until they resume.
    Paused,
    PaymentNotCleared,
    AlreadyVoted,
    NoVotesLeft,
    NotVoted,
}

impl Refusal {
    pub fn message_key(self) -> &'static str {
        match self {
            Self::RoundNotOpen => "vote-refused-closed",
            Self::NotOnBallot => "vote-refused-not-on-ballot",
            Self::PatronsOnly => "vote-refused-patrons-only",
            Self::Lapsed => "vote-refused-lapsed",
            Self::Paused => "vote-refused-paused",
            Self::PaymentNotCleared => "vote-refused-payment-pending",
            Self::AlreadyVoted => "vote-refused-already",
            Self::NoVotesLeft => "vote-refused-no-votes-left",
            Self::NotVoted => "vote-refused-not-voted",
        }
    }
}
