//! The node's inherent state and the only code that moves it: the term, the
//! vote, the commit index (the HardState) and the timers. Each mover keeps its
//! rule: terms and commit never go back, one vote per term.

use super::Context;
use crate::progress::config::quorum;
use crate::progress::joint::QuorumRule;
use crate::utils::trace;
use crate::{Index, LogStorage, Message, MessageVariant, NodeId, Term, Tick};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

impl<S: LogStorage> Context<S> {
    /// Moves to `term` if it is newer, forgetting the old term's vote.
    pub(super) fn enter_term(&mut self, term: Term) {
        debug_assert!(term >= self.hard.term, "terms never decrease (§5.1)");
        if term > self.hard.term {
            trace::term_changed(self.config.id, self.hard.term, term);
            self.hard.term = term;
            self.hard.voted_node = None;
        }
    }

    /// Records this node's vote in the current term.
    pub(super) fn record_vote(&mut self, candidate: NodeId) {
        debug_assert!(
            !sound!(self.config) || self.hard.voted_node.is_none_or(|v| v == candidate),
            "Election Safety (§5.2): at most one vote per term"
        );
        self.hard.voted_node = Some(candidate);
    }

    /// How many of `n` voters form a quorum: a strict majority, for every
    /// decision (§5.2, §5.3).
    pub(super) fn quorum_rule(&self) -> QuorumRule {
        if mutant!(self.config, QuorumHalf) {
            return half;
        }
        quorum
    }

    /// Raises the commit index to `index` (never lowers it).
    pub(super) fn commit_to(&mut self, index: Index) {
        if index <= self.hard.committed_index {
            return;
        }
        debug_assert!(
            index <= self.log.last().index,
            "Log Matching (§5.3): only entries in the log can be committed"
        );
        trace::committed(
            self.config.id,
            self.hard.term,
            self.hard.committed_index,
            index,
        );
        self.hard.committed_index = index;
    }

    /// Restarts both timers and draws the election timeout for this term.
    pub(super) fn reset_timers(&mut self) {
        self.election_elapsed.reset();
        self.heartbeat_elapsed.reset();
        self.election_timeout = drawn_election_timeout(&self.config, self.hard.term);
    }

    /// Queues a message to `dst` in the current term.
    pub(super) fn send(&mut self, dst: NodeId, variant: MessageVariant) {
        self.send_at(self.hard.term, dst, variant);
    }

    /// Queues a message stamped with `term`: the node's own term, except for
    /// the prospective term of a pre-vote request or grant (§9.6).
    pub(super) fn send_at(&mut self, term: Term, dst: NodeId, variant: MessageVariant) {
        debug_assert!(
            term == self.hard.term || (variant.is_prospective() && term > self.hard.term),
            "§5.1: a message carries its sender's term, or a prospective one (§9.6)"
        );
        let msg = Message::new(self.config.id, term, dst, variant);
        if let Err(msg) = self.outbox.prepare(msg, self.config.outbox_max) {
            trace::outbox_full(self.config.id, &msg, self.config.outbox_max);
        }
    }
}

/// The randomized election timeout in `[election_tick, 2 * election_tick)` for
/// node `id` in `term` (§5.2). A pure function of its inputs, so runs replay
/// exactly from a seed and the engine holds no random-generator state.
pub fn election_timeout(seed: u64, id: NodeId, term: Term, election_tick: Tick) -> Tick {
    let base = Tick(election_tick.0.max(1));
    election_timeout_in(seed, id, term, base, Tick(base.0.saturating_mul(2)))
}

/// The election timeout of the node `config` describes in `term`, drawn
/// from its configured range.
pub(super) fn drawn_election_timeout(config: &crate::Config, term: Term) -> Tick {
    let (min, max) = config.election_timeout_range();
    election_timeout_in(config.seed, config.id, term, min, max)
}

/// [`election_timeout`] drawn from `[min, max)` instead
/// ([`crate::Config::election_timeout_range`]); `min` if the range is empty.
pub(crate) fn election_timeout_in(seed: u64, id: NodeId, term: Term, min: Tick, max: Tick) -> Tick {
    let mix = seed ^ id.0.rotate_left(32) ^ term.0.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut rng = ChaCha8Rng::seed_from_u64(mix);
    let drawn = Tick(min.0 + rng.random_range(0..max.0.saturating_sub(min.0).max(1)));
    debug_assert!(
        min <= drawn && (drawn < max || max <= min),
        "§5.2: the timeout is drawn from its range"
    );
    drawn
}

/// Half of `n` voters, rounded down: not a majority (the `quorum-half`
/// mutant's rule).
fn half(n: usize) -> usize {
    n / 2
}

/// One voter fewer than a majority of `n`, at least one (the rule of the
/// `read-quorum-off-by-one` and `check-quorum-counts-self-twice` mutants).
pub(super) fn one_short(n: usize) -> usize {
    quorum(n).saturating_sub(1).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn election_timeout_covers_its_range_and_replays() {
        let seen: BTreeSet<u64> = (0..200)
            .map(|t| election_timeout(7, NodeId(1), Term(t), Tick(10)).0)
            .collect();
        assert_eq!(seen, (10..20).collect(), "every value in [et, 2et) occurs");
        let again = election_timeout(7, NodeId(1), Term(3), Tick(10));
        assert_eq!(again, election_timeout(7, NodeId(1), Term(3), Tick(10)));
    }

    #[test]
    fn election_timeout_in_a_configured_range() {
        let seen: BTreeSet<u64> = (0..200)
            .map(|t| election_timeout_in(7, NodeId(2), Term(t), Tick(12), Tick(15)).0)
            .collect();
        assert_eq!(seen, (12..15).collect());
        let one = election_timeout_in(7, NodeId(2), Term(4), Tick(3), Tick(4));
        assert_eq!(one, Tick(3), "a range of one value");
    }

    /// The draw is part of the recorded behaviour: the scenario transcripts,
    /// the proptest regressions and `check simulate --seed` replay only if
    /// a (seed, node, term) draws the same timeout in every version.
    #[test]
    fn the_drawn_timeouts_are_stable() {
        let drawn = |seed, id, term| {
            election_timeout_in(seed, NodeId(id), Term(term), Tick(10), Tick(20)).0
        };
        let seed = 0x0123_4567_89AB_CDEF;
        let by_term: Vec<u64> = (0..8).map(|t| drawn(seed, 1, t)).collect();
        let by_node: Vec<u64> = (1..=8).map(|id| drawn(seed, id, 1)).collect();
        assert_eq!(
            by_term,
            [18, 17, 10, 15, 18, 13, 15, 17],
            "n1 in terms 0..8"
        );
        assert_eq!(
            by_node,
            [17, 19, 16, 12, 11, 12, 10, 18],
            "n1..=n8 in term 1"
        );
    }

    /// The catalogue's wrong quorum rules are wrong by exactly one voter:
    /// the bugs they stand for, and the reason the gate must catch them.
    #[test]
    fn the_mutants_quorum_rules_fall_one_short() {
        let rules: Vec<(usize, usize, usize)> = (1..=6)
            .map(|n| (quorum(n), half(n), one_short(n)))
            .collect();
        let want = [
            (1, 0, 1),
            (2, 1, 1),
            (2, 1, 1),
            (3, 2, 2),
            (3, 2, 2),
            (4, 3, 3),
        ];
        assert_eq!(rules, want, "(majority, half, one short) of 1..=6 voters");
    }
}
