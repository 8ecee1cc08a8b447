//! Voting rounds: when a round takes votes, what its ballot holds, and how its
//! topics rank. The phase of a round and the order of its ranking are decided
//! here once, for the pages, the votes and the closing job alike.
use std::cmp::Ordering;

use super::{MemberId, RoundId, TopicId};

/// Times are Unix microseconds, UTC (as stored).
type Micros = i64;

#[derive(Clone, Debug)]
pub struct Round {
    pub id: RoundId,
    pub title: String,
    pub description: String,
    pub opens_at: Micros,
    pub closes_at: Micros,
    pub max_votes: i64,
    pub live_tallies: bool,
    pub closed_at: Option<Micros>,
    /// Members who voted, recorded at closing.
    pub voters: Option<i64>,
}

/// Where a round stands at an instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoundPhase {
    /// Announced; votes are not taken yet.
    Upcoming,
    /// Takes votes.
    Open,
    /// Past its closing time, waiting for the closing job to count it.
    Counting,
    /// Counted; its ranking is final.
    Closed,
}

impl RoundPhase {
    /// The one rule: a round takes votes from `opens_at` (inclusive) until
    /// `closes_at` (exclusive), unless it has been closed.
    pub fn at(opens_at: Micros, closes_at: Micros, closed: bool, now: Micros) -> Self {
        if closed {
            Self::Closed
        } else if now < opens_at {
            Self::Upcoming
        } else if now >= closes_at {
            Self::Counting
        } else {
            Self::Open
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Upcoming => "upcoming",
            Self::Open => "open",
            Self::Counting => "counting",
            Self::Closed => "closed",
        }
    }

    /// Readers see the ballot (and may see tallies) once a round has opened.
    pub fn on_show(self) -> bool {
        self != Self::Upcoming
    }
}

impl Round {
    pub fn phase(&self, now: Micros) -> RoundPhase {
        RoundPhase::at(self.opens_at, self.closes_at, self.closed_at.is_some(), now)
    }

    /// Tallies may be shown to readers: always once counted, while running only
    /// if the round says so.
    pub fn tallies_public(&self, now: Micros) -> bool {
        match self.phase(now) {
            RoundPhase::Closed => true,
            RoundPhase::Upcoming => false,
            RoundPhase::Open | RoundPhase::Counting => self.live_tallies,
        }
    }
}

/// A topic on a round's ballot, with its final result once the round closed.
#[derive(Clone, Debug)]
pub struct BallotEntry {
    pub topic_id: String,
    pub title: String,
    pub description: String,
    pub link: Option<String>,
    pub status: String,
    pub position: i64,
    pub final_rank: Option<i64>,
    pub final_weight: Option<i64>,
    pub final_votes: Option<i64>,
}

/// The running count of one topic in a round.
#[derive(Clone, Debug)]
pub struct Tally {
    pub topic_id: String,
    pub weight: i64,
    pub votes: i64,
    pub first_vote_at: Micros,
}

/// One line of a round's ranking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ranked {
    pub topic_id: String,
    pub rank: i64,
    pub weight: i64,
    pub votes: i64,
}

/// The order of a ranking: weighted total, then raw count, then earliest first vote.
pub fn ranking_order(a: &Tally, b: &Tally) -> Ordering {
    b.weight.cmp(&a.weight).then(b.votes.cmp(&a.votes)).then(a.first_vote_at.cmp(&b.first_vote_at))
}

/// Ranks a ballot (topic ids in ballot order) by [`ranking_order`]; topics
/// without votes follow in ballot order. Ranks are 1-based and distinct. The
/// live standing of an open round and its final result use this one function.
pub fn rank(ballot: &[String], tallies: &[Tally]) -> Vec<Ranked> {
    let mut voted: Vec<&Tally> = tallies.iter().filter(|t| ballot.contains(&t.topic_id)).collect();
    voted.sort_by(|a, b| ranking_order(a, b));
    let mut out: Vec<Ranked> = voted
        .iter()
        .map(|t| Ranked { topic_id: t.topic_id.clone(), rank: 0, weight: t.weight, votes: t.votes })
        .collect();
    for topic in ballot {
        if !out.iter().any(|r| &r.topic_id == topic) {
            out.push(Ranked { topic_id: topic.clone(), rank: 0, weight: 0, votes: 0 });
        }
    }
    for (i, r) in out.iter_mut().enumerate() {
        r.rank = i as i64 + 1;
    }
    out
}

/// A vote with its voter, for staff.
#[derive(Clone, Debug)]
pub struct Voter {
    pub topic_id: TopicId,
    pub topic_title: String,
    pub member_id: MemberId,
    pub name: Option<String>,
    pub public_name: Option<String>,
    pub email: Option<String>,
    pub weight: i64,
    pub created_at: Micros,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(topic: &str, weight: i64, votes: i64, first: i64) -> Tally {
        Tally { topic_id: topic.into(), weight, votes, first_vote_at: first }
    }

    #[test]
    fn ranking_breaks_ties_by_count_then_earliest_vote() {
        let ballot: Vec<String> = ["a", "b", "c", "d", "e"].iter().map(|s| s.to_string()).collect();
        let tallies = [tally("a", 10, 3, 50), tally("b", 12, 2, 60), tally("c", 10, 5, 70), tally("d", 10, 3, 40)];
        let ranked = rank(&ballot, &tallies);
        let order: Vec<&str> = ranked.iter().map(|r| r.topic_id.as_str()).collect();
        assert_eq!(order, ["b", "c", "d", "a", "e"]);
        assert_eq!(ranked.iter().map(|r| r.rank).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
        assert_eq!((ranked[4].weight, ranked[4].votes), (0, 0));
    }

    #[test]
    fn a_round_takes_votes_from_its_opening_until_just_before_its_close() {
        assert_eq!(RoundPhase::at(10, 20, false, 9), RoundPhase::Upcoming);
        assert_eq!(RoundPhase::at(10, 20, false, 10), RoundPhase::Open);
        assert_eq!(RoundPhase::at(10, 20, false, 19), RoundPhase::Open);
        assert_eq!(RoundPhase::at(10, 20, false, 20), RoundPhase::Counting);
        assert_eq!(RoundPhase::at(10, 20, true, 15), RoundPhase::Closed);
    }

    #[test]
    fn live_tallies_show_only_after_opening_when_the_round_allows_them() {
        let mut round = Round {
            id: RoundId::new(),
            title: String::new(),
            description: String::new(),
            opens_at: 10,
            closes_at: 20,
            max_votes: 3,
            live_tallies: true,
            closed_at: None,
            voters: None,
        };
        assert!(!round.tallies_public(5));
        assert!(round.tallies_public(15));
        round.live_tallies = false;
        assert!(!round.tallies_public(15));
        round.closed_at = Some(21);
        assert!(round.tallies_public(25));
    }
}
