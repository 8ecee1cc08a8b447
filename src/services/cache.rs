//! Short-lived in-process copies of what nearly every page reads and staff rarely
//! change: tiers and prices, the voting rules, the state of voting rounds. A
//! change made through this instance clears its copy at once; other instances
//! see it when their copy expires (a few seconds). Expiry follows the app's
//! [`Clock`], so tests that move the clock move the caches with it.
use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::sync::{Arc, RwLock};

use crate::clock::{Clock, Micros, SECOND};
use crate::db::sessions::Session;
use crate::domain::{BallotEntry, Member, Round, Topic};
use crate::domain::{MemberId, RoundId, VotingSettings};
use crate::domain::{Tier, TierPrice};
use crate::services::voting::Refusal;

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
    /// Whether members may vote, and with what weight, for a few seconds (see [`ELIGIBILITY_TTL`]).
    pub eligibility: Keyed<MemberId, Result<i64, Refusal>>,
    /// What members voted for in the rounds on show, for a few seconds (see [`MEMBER_VOTES_TTL`]).
    pub member_votes: Keyed<MemberId, Arc<MemberVotes>>,
}

/// The topics a member voted for, by round, in the rounds the topics page shows.
pub type MemberVotes = Vec<(RoundId, HashSet<String>)>;

/// Copies of per-key values for a few seconds, at most [`KEYED_MAX`] of them.
#[derive(Debug)]
pub struct Keyed<K, V> {
    ttl: Micros,
    entries: RwLock<HashMap<K, (Micros, V)>>,
}

/// Beyond this many entries a keyed cache starts over, so memory stays bounded.
/// Entries live seconds, and 1,024 members within five seconds is more than a
/// newsroom sees. Against 4,096: 1.5 MB less peak RSS under the benchmark's
/// mixed load, and its vote replay (1,700 members a second) no slower.
const KEYED_MAX: usize = 1_024;

impl<K: Eq + Hash, V: Clone> Keyed<K, V> {
    pub fn new(ttl: Micros) -> Self {
        Self { ttl, entries: RwLock::new(HashMap::new()) }
    }

    pub fn get<Q: Eq + Hash + ?Sized>(&self, key: &Q, now: Micros) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
    {
        let entries = self.entries.read().ok()?;
        let (until, value) = entries.get(key)?;
        (now < *until).then(|| value.clone())
    }

    pub fn put(&self, now: Micros, key: K, value: V) {
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= KEYED_MAX {
                // Expired entries go first; a burst of that many members within the
                // time to live starts the cache over.
                entries.retain(|_, (until, _)| now < *until);
                if entries.len() >= KEYED_MAX {
                    entries.clear();
                }
            }
            entries.insert(key, (now + self.ttl, value));
        }
    }

    pub fn remove<Q: Eq + Hash + ?Sized>(&self, key: &Q)
    where
        K: std::borrow::Borrow<Q>,
    {
        if let Ok(mut entries) = self.entries.write() {
            entries.remove(key);
        }
    }

    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.write() {
            entries.clear();
        }
    }
}

/// Signed-in pages look their member up on every request; a copy kept for a few
/// seconds saves that query. Every change to a session or a member made through
/// this instance empties it at once, so signing out or deleting an account
/// takes effect here immediately; another instance honours a session it has
/// seen for at most [`SESSION_TTL`] after it ended elsewhere.
///
/// It keeps the member behind an `Arc` with the time the session ends: a hit
/// clones no strings, and the table holds 48 bytes an entry instead of about 260.
#[derive(Debug)]
pub struct SessionCache(Keyed<String, (Micros, Arc<Member>)>);

pub const SESSION_TTL: Micros = 5 * SECOND;

impl SessionCache {
    /// A live session's member, if cached and the session has not ended since.
    pub fn get(&self, session_hash: &str, now: Micros) -> Option<Arc<Member>> {
        self.0.get(session_hash, now).filter(|(ends, _)| now < *ends).map(|(_, member)| member)
    }

    pub fn put(&self, now: Micros, session: &Session, member: Arc<Member>) {
        self.0.put(now, session.id.clone(), (session.expires_at.min(session.idle_expires_at), member));
    }

    /// A session ended or a member changed through this instance.
    pub fn clear(&self) {
        self.0.clear();
    }
}

/// How long whether a member may vote (and their weight) is reused. A change of
/// their subscription or comp, of tiers or of the voting rules made through this
/// instance forgets it at once (after its commit); other instances see the
/// change within this time.
pub const ELIGIBILITY_TTL: Micros = 5 * SECOND;

/// How long the topics page reuses what a member voted for. Their own vote or
/// withdrawal through this instance forgets it at once (after its commit), and
/// the page they are sent to afterwards reads it afresh on any instance; a vote
/// cast through another instance (another device) shows within this time.
pub const MEMBER_VOTES_TTL: Micros = 5 * SECOND;

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
        // A tier's vote weight may have changed.
        self.eligibility.clear();
        self.bump();
    }

    /// Topics or rounds changed on this instance.
    pub fn board_changed(&self) {
        self.board.clear();
        // Merging topics moves votes; closing a round takes it off the page.
        self.member_votes.clear();
        self.bump();
    }

    pub fn voting_settings_changed(&self) {
        self.voting_settings.clear();
        self.eligibility.clear();
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
            sessions: SessionCache(Keyed::new(SESSION_TTL)),
            eligibility: Keyed::new(ELIGIBILITY_TTL),
            member_votes: Keyed::new(MEMBER_VOTES_TTL),
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

    #[test]
    fn a_full_keyed_cache_drops_its_expired_entries_first_and_starts_over_only_when_all_are_live() {
        let cache: Keyed<usize, usize> = Keyed::new(SECOND);
        for key in 0..KEYED_MAX - 1 {
            cache.put(0, key, key);
        }
        cache.put(SECOND / 2, KEYED_MAX, 7);
        // The first entries have expired; the one put later is still live and stays.
        cache.put(SECOND, KEYED_MAX + 1, 8);
        assert_eq!(cache.get(&KEYED_MAX, SECOND), Some(7));
        assert_eq!(cache.get(&(KEYED_MAX + 1), SECOND), Some(8));
        assert_eq!(cache.entries.read().map(|e| e.len()).unwrap_or(0), 2);
        // Every entry live: the cache starts over, so it never grows past its bound.
        for key in 0..KEYED_MAX {
            cache.put(SECOND, key, key);
        }
        assert!(cache.entries.read().map(|e| e.len()).unwrap_or(usize::MAX) <= KEYED_MAX);
        assert_eq!(cache.get(&(KEYED_MAX + 1), SECOND), None, "started over");
    }
}
