//! Short-lived in-process copies of what nearly every page reads and staff rarely
//! change: tiers and prices, the voting rules, the state of voting rounds. A
//! change made through this instance clears its copy at once; other instances
//! see it when their copy expires (a few seconds). Expiry follows the app's
//! [`Clock`], so tests that move the clock move the caches with it.
use std::sync::{Arc, RwLock};

use crate::clock::{Clock, Micros, SECOND};
use crate::db::members::Member;
use crate::db::rounds::{BallotEntry, Round};
use crate::db::sessions::Session;
use crate::db::tiers::{Tier, TierPrice};
use crate::db::topics::Topic;
use crate::domain::VotingSettings;

pub struct Cached<T> {
    ttl: Micros,
    slot: RwLock<Option<(Micros, Arc<T>)>>,
}

impl<T> Cached<T> {
    pub fn new(ttl: Micros) -> Self {
        Self { ttl, slot: RwLock::new(None) }
    }

    /// The cached value if still fresh, else what `load` returns (kept for next time).
    /// When the value has just expired, one caller loads it anew and the others keep
    /// getting the old one meanwhile, rather than all loading it at once.
    pub async fn get_or_load<E, F, Fut>(&self, clock: &Clock, load: F) -> Result<Arc<T>, E>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<T, E>>,
    {
        let now = clock.now();
        if let Some(value) = self.fresh_or_claim(now) {
            return Ok(value);
        }
        let value = Arc::new(load().await?);
        if let Ok(mut slot) = self.slot.write() {
            *slot = Some((now + self.ttl, value.clone()));
        }
        Ok(value)
    }

    /// The value to use now, or None when the caller must load it (see [`Cached::get_or_load`]).
    fn fresh_or_claim(&self, now: Micros) -> Option<Arc<T>> {
        if let Ok(slot) = self.slot.read()
            && let Some((expires, value)) = slot.as_ref()
            && now < *expires
        {
            return Some(value.clone());
        }
        let mut slot = self.slot.write().ok()?;
        let (expires, value) = slot.as_mut()?;
        if now < *expires {
            return Some(value.clone());
        }
        *expires = now + self.ttl;
        None
    }

    pub fn clear(&self) {
        if let Ok(mut slot) = self.slot.write() {
            *slot = None;
        }
    }
}

impl<T> std::fmt::Debug for Cached<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cached").field("ttl", &self.ttl).finish_non_exhaustive()
    }
}

/// Active tiers and their live prices.
#[derive(Debug)]
pub struct Catalog {
    pub tiers: Vec<Tier>,
    pub prices: Vec<TierPrice>,
}

/// What every visitor of the topics page sees alike.
#[derive(Debug)]
pub struct Board {
    /// Rounds not closed yet (upcoming, open, or waiting for the closing job), with their ballots.
    pub rounds: Vec<(Round, Vec<BallotEntry>)>,
    pub open_topics: Vec<Topic>,
    pub planned_topics: Vec<Topic>,
}

/// The staff dashboard's figures: counting them scans tables that grow with
/// the newsroom, so staff see them up to a few seconds old.
#[derive(Debug)]
pub struct DashboardFigures {
    pub members: i64,
    pub pending_mail: i64,
    pub failed_mail: i64,
}

#[derive(Debug)]
pub struct Caches {
    pub catalog: Cached<Catalog>,
    pub dashboard: Cached<DashboardFigures>,
    pub voting_settings: Cached<VotingSettings>,
    pub board: Cached<Board>,
    /// Bumped by every change, so pages rendered from older data are not reused.
    generation: std::sync::atomic::AtomicU64,
    /// Member sessions by the hash of their cookie, for a few seconds (see [`SessionCache`]).
    pub sessions: SessionCache,
}

/// Signed-in pages look their member up on every request; a copy kept for a few
/// seconds saves that query. Every change to a session or a member made through
/// this instance empties it at once, so signing out or deleting an account
/// takes effect here immediately; another instance honours a session it has
/// seen for at most [`SESSION_TTL`] after it ended elsewhere.
#[derive(Debug, Default)]
pub struct SessionCache {
    entries: RwLock<std::collections::HashMap<String, (Micros, Session, Member)>>,
}

pub const SESSION_TTL: Micros = 5 * SECOND;
/// Beyond this many cached sessions the cache starts over (memory stays bounded).
const SESSION_CACHE_MAX: usize = 10_000;

impl SessionCache {
    /// A live session and its member, if cached and not past its own expiry.
    pub fn get(&self, session_hash: &str, now: Micros) -> Option<(Session, Member)> {
        let entries = self.entries.read().ok()?;
        let (until, session, member) = entries.get(session_hash)?;
        let live = now < *until && now < session.expires_at && now < session.idle_expires_at;
        live.then(|| (session.clone(), member.clone()))
    }

    pub fn put(&self, now: Micros, session: &Session, member: &Member) {
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= SESSION_CACHE_MAX {
                entries.clear();
            }
            entries.insert(session.id.clone(), (now + SESSION_TTL, session.clone(), member.clone()));
        }
    }

    /// A session ended or a member changed through this instance.
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.write() {
            entries.clear();
        }
    }
}

impl Caches {
    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Acquire)
    }

    fn bump(&self) {
        self.generation.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    /// Tiers or prices changed on this instance.
    pub fn catalog_changed(&self) {
        self.catalog.clear();
        self.bump();
    }

    /// Topics or rounds changed on this instance.
    pub fn board_changed(&self) {
        self.board.clear();
        self.bump();
    }

    pub fn voting_settings_changed(&self) {
        self.voting_settings.clear();
        self.bump();
    }
}

impl Default for Caches {
    fn default() -> Self {
        Self {
            catalog: Cached::new(5 * SECOND),
            dashboard: Cached::new(5 * SECOND),
            voting_settings: Cached::new(5 * SECOND),
            board: Cached::new(SECOND),
            generation: std::sync::atomic::AtomicU64::new(0),
            sessions: SessionCache::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn values_are_reused_until_they_expire_or_are_cleared() {
        let clock = Clock::default();
        let cache: Cached<u32> = Cached::new(SECOND);
        let load = |n: u32| async move { Ok::<_, ()>(n) };
        assert_eq!(*cache.get_or_load(&clock, || load(1)).await.expect("loads"), 1);
        assert_eq!(*cache.get_or_load(&clock, || load(2)).await.expect("cached"), 1);
        clock.advance(SECOND);
        assert_eq!(*cache.get_or_load(&clock, || load(3)).await.expect("expired"), 3);
        cache.clear();
        assert_eq!(*cache.get_or_load(&clock, || load(4)).await.expect("cleared"), 4);
        assert!(cache.get_or_load(&clock, || async { Err::<u32, _>("db down") }).await.is_ok(), "still fresh");
        // Past its time, one caller loads anew; the others keep the old value meanwhile.
        clock.advance(SECOND);
        assert!(cache.fresh_or_claim(clock.now()).is_none(), "the first loads");
        assert_eq!(cache.fresh_or_claim(clock.now()).as_deref(), Some(&4), "the others are served");
        cache.clear();
        assert!(cache.fresh_or_claim(clock.now()).is_none(), "after a change, nobody gets the old value");
        assert!(cache.fresh_or_claim(clock.now()).is_none());
    }
}
