//! Short-lived in-process copies of what nearly every page reads and rarely
//! changes: tiers and prices, the voting rules, the state of voting rounds,
//! member sessions, and per member whether they may vote and what they voted
//! for. Every one is a [`Cache`]: values expire by the app's [`Clock`] (tests
//! that move the clock move the caches with it), and a write made through this
//! instance forgets what it changed once it commits ([`Caches`] is the database's
//! [`ChangeListener`]); other instances see the change when their copy expires,
//! within a few seconds.
use std::borrow::Borrow;
use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use crate::clock::{Clock, Micros, SECOND};
use crate::db::{Change, ChangeListener};
use crate::domain::{BallotEntry, Member, Round, Topic};
use crate::domain::{MemberId, RoundId, VotingSettings};
use crate::domain::{Tier, TierPrice};
use crate::services::voting::Refusal;

/// Values by key, each kept until its time to live has passed, at most `max` of
/// them (a cache of a single value has the key `()`).
pub struct Cache<K, V> {
    ttl: Micros,
    max: usize,
    entries: RwLock<HashMap<K, (Micros, V)>>,
}

/// Beyond this many entries a cache first drops its expired entries, and starts
/// over when all are live, so memory stays bounded. Entries live seconds, and
/// 1,024 members within five seconds is more than a newsroom sees. Against
/// 4,096: 1.5 MB less peak RSS under the benchmark's mixed load, and its vote
/// replay (1,700 members a second) no slower.
pub const MAX_ENTRIES: usize = 1_024;

impl<K: Eq + Hash, V: Clone> Cache<K, V> {
    /// A cache whose values live `ttl`, at most [`MAX_ENTRIES`] of them.
    pub fn new(ttl: Micros) -> Self {
        Self::bounded(ttl, MAX_ENTRIES)
    }

    /// A cache whose values live `ttl`, at most `max` of them.
    pub fn bounded(ttl: Micros, max: usize) -> Self {
        Self { ttl, max, entries: RwLock::new(HashMap::new()) }
    }

    /// The value for `key` if it is still fresh at `now`.
    pub fn get<Q: Eq + Hash + ?Sized>(&self, key: &Q, now: Micros) -> Option<V>
    where
        K: Borrow<Q>,
    {
        let entries = self.entries.read().ok()?;
        let (until, value) = entries.get(key)?;
        (now < *until).then(|| value.clone())
    }

    /// The value for `key` if still fresh, else what `load` returns (kept for
    /// next time). When the value has just expired, one caller loads it anew and
    /// the others keep getting the old one meanwhile, rather than all loading it
    /// at once; a value that was forgotten is loaded by everyone who asks.
    pub async fn get_or_load<E, F, Fut>(&self, clock: &Clock, key: K, load: F) -> Result<V, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        let now = clock.now();
        if let Some(value) = self.fresh_or_claim(now, &key) {
            return Ok(value);
        }
        let value = load().await?;
        self.put(now, key, value.clone());
        Ok(value)
    }

    /// The value to use now, or None when the caller must load it (see [`Cache::get_or_load`]).
    pub(crate) fn fresh_or_claim(&self, now: Micros, key: &K) -> Option<V> {
        if let Some(value) = self.get(key, now) {
            return Some(value);
        }
        let mut entries = self.entries.write().ok()?;
        let (until, value) = entries.get_mut(key)?;
        if now < *until {
            return Some(value.clone());
        }
        // Claimed: the others keep the old value until this caller puts the new one.
        *until = now + self.ttl;
        None
    }

    /// Keeps `value` for `key` from `now` on.
    pub fn put(&self, now: Micros, key: K, value: V) {
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= self.max && !entries.contains_key(&key) {
                // Expired entries go first; a burst of that many keys within the
                // time to live starts the cache over.
                entries.retain(|_, (until, _)| now < *until);
                if entries.len() >= self.max {
                    entries.clear();
                }
            }
            entries.insert(key, (now + self.ttl, value));
        }
    }

    /// Forgets the value for `key`.
    fn forget<Q: Eq + Hash + ?Sized>(&self, key: &Q)
    where
        K: Borrow<Q>,
    {
        if let Ok(mut entries) = self.entries.write() {
            entries.remove(key);
        }
    }

    /// Forgets every value for which `stale` holds.
    fn forget_where(&self, stale: impl Fn(&V) -> bool) {
        if let Ok(mut entries) = self.entries.write() {
            entries.retain(|_, (_, value)| !stale(value));
        }
    }

    /// Forgets every value.
    fn clear(&self) {
        if let Ok(mut entries) = self.entries.write() {
            entries.clear();
        }
    }
}

impl<K, V> std::fmt::Debug for Cache<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache").field("ttl", &self.ttl).field("max", &self.max).finish_non_exhaustive()
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

/// The topics a member voted for, by round, in the rounds the topics page shows.
pub type MemberVotes = Vec<(RoundId, HashSet<String>)>;

/// A live member session, by the SHA-256 of its cookie: when the session ends,
/// and its member. The member is kept behind an `Arc`: a hit clones no strings,
/// and the table holds 48 bytes an entry instead of about 260.
pub type CachedSession = (Micros, Arc<Member>);

/// How long a member's session is reused: another instance honours a session it
/// has seen for at most this long after it ended elsewhere.
pub const SESSION_TTL: Micros = 5 * SECOND;

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

#[derive(Debug)]
pub struct Caches {
    pub catalog: Cache<(), Arc<Catalog>>,
    pub dashboard: Cache<(), Arc<DashboardFigures>>,
    pub voting_settings: Cache<(), VotingSettings>,
    pub board: Cache<(), Arc<Board>>,
    /// Content texts by language (see [`super::content`]).
    pub translations: Cache<crate::domain::Locale, Arc<super::content::TranslationMap>>,
    /// Bumped by every change to what pages show alike, so pages rendered from
    /// older data are not reused.
    generation: AtomicU64,
    /// Member sessions by the hash of their cookie (see [`SESSION_TTL`]).
    pub sessions: Cache<String, CachedSession>,
    /// Whether members may vote, and with what weight (see [`ELIGIBILITY_TTL`]).
    pub eligibility: Cache<MemberId, Result<i64, Refusal>>,
    /// What members voted for in the rounds on show (see [`MEMBER_VOTES_TTL`]).
    pub member_votes: Cache<MemberId, Arc<MemberVotes>>,
    /// Per member, bumped by every change to what their own pages show (profile,
    /// standing, payments, votes, follows) made through this instance, so a
    /// page cached for them is not reused after it (see [`Caches::member_version`]).
    member_versions: std::sync::Mutex<HashMap<MemberId, u64>>,
    next_member_version: AtomicU64,
}

impl Caches {
    /// Changes with every change to tiers, rounds, topics or the voting rules
    /// made through this instance.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Changes with every change to what this member's own pages show made
    /// through this instance (0 until the first).
    pub fn member_version(&self, member: MemberId) -> u64 {
        self.member_versions.lock().map_or(0, |v| v.get(&member).copied().unwrap_or(0))
    }

    fn bump_member(&self, member: MemberId) {
        let version = self.next_member_version.fetch_add(1, Ordering::AcqRel) + 1;
        if let Ok(mut versions) = self.member_versions.lock() {
            // Bounded: forgetting every version at once is safe because the
            // shared generation moves with it, so no page keyed by an old one is reused.
            if versions.len() >= MAX_MEMBER_VERSIONS {
                versions.clear();
                self.generation.fetch_add(1, Ordering::AcqRel);
            }
            versions.insert(member, version);
        }
    }
}

/// Members whose page version is remembered at once (about 40 bytes each).
const MAX_MEMBER_VERSIONS: usize = 100_000;

impl ChangeListener for Caches {
    /// Forgets what depends on `changes`, which have just been committed.
    fn changed(&self, changes: &[Change]) {
        let mut shared = false;
        for change in changes {
            match change {
                Change::Member(member) => {
                    self.sessions.forget_where(|(_, m)| m.id == *member);
                    // Their comp may have changed.
                    self.eligibility.forget(member);
                    self.bump_member(*member);
                }
                Change::Standing(member) => {
                    self.eligibility.forget(member);
                    self.bump_member(*member);
                }
                Change::Votes(member) => {
                    self.member_votes.forget(member);
                    self.bump_member(*member);
                }
                Change::SessionEnded(id) => self.sessions.forget(id.as_str()),
                Change::Catalog => {
                    self.catalog.clear();
                    // A tier's vote weight may have changed.
                    self.eligibility.clear();
                    shared = true;
                }
                Change::Board => {
                    self.board.clear();
                    // Merging topics moves votes; closing a round takes it off the page.
                    self.member_votes.clear();
                    shared = true;
                }
                Change::Texts => {
                    self.translations.clear();
                    shared = true;
                }
                Change::Giving => shared = true,
                Change::VotingSettings => {
                    self.voting_settings.clear();
                    self.eligibility.clear();
                    shared = true;
                }
            }
        }
        if shared {
            self.generation.fetch_add(1, Ordering::AcqRel);
        }
    }
}

impl Default for Caches {
    fn default() -> Self {
        Self {
            catalog: Cache::new(5 * SECOND),
            dashboard: Cache::new(5 * SECOND),
            voting_settings: Cache::new(5 * SECOND),
            board: Cache::new(SECOND),
            translations: Cache::new(5 * SECOND),
            generation: AtomicU64::new(0),
            sessions: Cache::new(SESSION_TTL),
            eligibility: Cache::new(ELIGIBILITY_TTL),
            member_votes: Cache::new(MEMBER_VOTES_TTL),
            member_versions: std::sync::Mutex::default(),
            next_member_version: AtomicU64::new(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn values_are_reused_until_they_expire_or_are_forgotten() {
        let clock = Clock::default();
        let cache: Cache<(), u32> = Cache::new(SECOND);
        let load = |n: u32| async move { Ok::<_, ()>(n) };
        assert_eq!(cache.get_or_load(&clock, (), || load(1)).await, Ok(1));
        assert_eq!(cache.get_or_load(&clock, (), || load(2)).await, Ok(1), "cached");
        clock.advance(SECOND);
        assert_eq!(cache.get_or_load(&clock, (), || load(3)).await, Ok(3), "expired");
        cache.clear();
        assert_eq!(cache.get_or_load(&clock, (), || load(4)).await, Ok(4), "cleared");
        assert!(cache.get_or_load(&clock, (), || async { Err::<u32, _>("db down") }).await.is_ok(), "still fresh");
        // Past its time, one caller loads anew; the others keep the old value meanwhile.
        clock.advance(SECOND);
        assert!(cache.fresh_or_claim(clock.now(), &()).is_none(), "the first loads");
        assert_eq!(cache.fresh_or_claim(clock.now(), &()), Some(4), "the others are served");
        cache.clear();
        assert!(cache.fresh_or_claim(clock.now(), &()).is_none(), "after a change, nobody gets the old value");
        assert!(cache.fresh_or_claim(clock.now(), &()).is_none());
    }

    #[test]
    fn a_full_cache_drops_its_expired_entries_first_and_starts_over_only_when_all_are_live() {
        let cache: Cache<usize, usize> = Cache::new(SECOND);
        for key in 0..MAX_ENTRIES - 1 {
            cache.put(0, key, key);
        }
        cache.put(SECOND / 2, MAX_ENTRIES, 7);
        // The first entries have expired; the one put later is still live and stays.
        cache.put(SECOND, MAX_ENTRIES + 1, 8);
        assert_eq!(cache.get(&MAX_ENTRIES, SECOND), Some(7));
        assert_eq!(cache.get(&(MAX_ENTRIES + 1), SECOND), Some(8));
        assert_eq!(cache.entries.read().map(|e| e.len()).unwrap_or(0), 2);
        // Every entry live: the cache starts over, so it never grows past its bound.
        for key in 0..MAX_ENTRIES {
            cache.put(SECOND, key, key);
        }
        assert!(cache.entries.read().map(|e| e.len()).unwrap_or(usize::MAX) <= MAX_ENTRIES);
        assert_eq!(cache.get(&(MAX_ENTRIES + 1), SECOND), None, "started over");
    }

    fn member(id: MemberId) -> Arc<Member> {
        Arc::new(Member {
            id,
            email: None,
            name: None,
            public_name: None,
            locale: crate::domain::Locale::En,
            comped_until: None,
            created_at: 0,
            last_sign_in_at: None,
            deleted_at: None,
        })
    }

    #[test]
    fn a_committed_change_forgets_what_depends_on_it_and_nothing_else() {
        let caches = Caches::default();
        let (a, b) = (MemberId::new(), MemberId::new());
        let now = 0;
        caches.sessions.put(now, "a1".into(), (SECOND, member(a)));
        caches.sessions.put(now, "a2".into(), (SECOND, member(a)));
        caches.sessions.put(now, "b1".into(), (SECOND, member(b)));
        caches.eligibility.put(now, a, Ok(1));
        caches.eligibility.put(now, b, Ok(1));
        caches.member_votes.put(now, a, Arc::default());
        caches.member_votes.put(now, b, Arc::default());

        caches.changed(&[Change::Member(a)]);
        assert!(caches.sessions.get("a1", now).is_none() && caches.sessions.get("a2", now).is_none());
        assert!(caches.sessions.get("b1", now).is_some(), "another member's session stays");
        assert!(caches.eligibility.get(&a, now).is_none() && caches.eligibility.get(&b, now).is_some());
        caches.changed(&[Change::SessionEnded("b1".into()), Change::Votes(b)]);
        assert!(caches.sessions.get("b1", now).is_none());
        assert!(caches.member_votes.get(&b, now).is_none() && caches.member_votes.get(&a, now).is_some());
        assert_eq!(caches.generation(), 0, "nothing every visitor sees changed");

        caches.changed(&[Change::Board]);
        assert!(caches.member_votes.get(&a, now).is_none(), "merged topics move votes");
        assert_eq!(caches.generation(), 1);
        caches.changed(&[Change::Catalog, Change::VotingSettings]);
        assert!(caches.eligibility.get(&b, now).is_none(), "weights and rules decide eligibility");
        assert_eq!(caches.generation(), 2);
    }
}
