//! Leases: check-quorum's leader stickiness (a node that heard from its
//! leader within `election_tick` does not help unseat it, thesis §6.2), and
//! the clocks lease reads count on ([`crate::ReadMode::Lease`], §6.4.1). The
//! leader's read lease itself is kept by [`crate::read_only::ReadOnly`].

use super::role::RoleState;
use super::Context;
use crate::{DropReason, LogStorage, Message, MessageVariant, NodeId, ReadMode, Staleness};

impl<S: LogStorage> Context<S> {
    /// One tick for the clocks of lease reads: the node's time since it
    /// started and, as leader, its read lease and pending rounds. Counted
    /// only with lease reads, and only up to `election_tick`.
    pub(super) fn tick_leases(&mut self) {
        if self.config.read_mode != ReadMode::Lease {
            return;
        }
        let span = self.config.election_tick;
        if self.since_start < span {
            self.since_start.forward();
        }
        if let RoleState::Leader { reads, .. } = &mut self.role {
            reads.tick(span);
        }
        debug_assert!(self.since_start <= span, "lease clocks stay bounded");
    }

    /// Why this (pre-)vote request of a newer term is ignored, if it is:
    /// with check-quorum, a node that heard from its leader (or is the leader)
    /// within `election_tick` does not help unseat it; with lease reads, a
    /// node that started fewer than `election_tick` ticks ago does not either
    /// (it may have granted a lease just before a restart, and forgot it). A
    /// campaign the leader itself asked for (transfer) is not ignored.
    pub(super) fn lease_holder(&self, variant: &MessageVariant) -> Option<DropReason> {
        if !variant.is_disruptive_request() {
            return None;
        }
        if let Some(leader) = self.lease_leader() {
            return Some(DropReason::LeaderLease { leader });
        }
        if self.in_startup_lease() {
            return Some(DropReason::StartupLease);
        }
        None
    }

    /// Why a forced campaign (`Hup` from [`crate::Node::campaign`]) is
    /// dropped, if it is: with lease reads, a node inside a lease it granted
    /// (it heard from its leader within `election_tick`, or it started fewer
    /// than `election_tick` ticks ago) must not vote for anyone, itself
    /// included, until that lease has run out (thesis §6.4.1). Its own vote
    /// and one other would otherwise elect a new leader while the old one
    /// still serves reads from its lease. A Hup from the node's own election
    /// timer never meets this: the timer fires only after `election_tick`.
    pub(super) fn lease_forbids_campaign(&self) -> Option<DropReason> {
        if self.config.read_mode != ReadMode::Lease {
            return None;
        }
        let reason = self.lease_holder(&MessageVariant::RequestVote {
            last: self.log.last(),
            transfer: false,
        });
        debug_assert!(
            reason.is_none() || self.election_elapsed < self.config.election_tick,
            "§6.4.1: a lease a node granted ends election_tick after it was granted"
        );
        reason
    }

    /// Whether this node may still be inside a lease it granted before it
    /// started (lease reads only; see [`Self::lease_holder`]).
    pub fn in_startup_lease(&self) -> bool {
        let counted = self.config.read_mode == ReadMode::Lease && self.config.check_quorum;
        counted && self.since_start < self.config.election_tick
    }

    /// Whether the gate would ignore `msg` for leader stickiness right now (a
    /// (pre-)vote request of a newer term while in a leader's lease).
    pub fn lease_ignores(&self, msg: &Message) -> bool {
        msg.staleness(self.hard.term) == Staleness::Fresh
            && self.lease_holder(&msg.variant).is_some()
    }

    /// The leader this node heard from within `election_tick`, with check-quorum.
    pub fn lease_leader(&self) -> Option<NodeId> {
        let in_lease =
            self.config.check_quorum && self.election_elapsed < self.config.election_tick;
        self.leader().filter(|_| in_lease)
    }
}

#[cfg(test)]
mod tests {
    use crate::{
        Config, DropReason, EntryKey, Index, MemStorage, Message, MessageVariant, Node, NodeId,
        StepOutcome, Term,
    };
    use futures::executor::block_on;

    fn vote_request(term: u64) -> Message {
        let last = EntryKey::default();
        let variant = MessageVariant::RequestVote {
            last,
            transfer: false,
        };
        Message::new(NodeId(3), Term(term), NodeId(1), variant)
    }

    /// n1 of three, with check-quorum.
    fn config() -> Config {
        let members = [NodeId(1), NodeId(2), NodeId(3)];
        Config {
            check_quorum: true,
            ..Config::new(NodeId(1), members)
        }
    }

    /// n1 following n2 in term 2 after a heartbeat.
    fn follower_in_lease() -> Node<MemStorage> {
        let mut node = block_on(Node::new(config(), MemStorage::default())).unwrap();
        let beat = MessageVariant::Heartbeat {
            commit: Index(0),
            read: None,
        };
        let heard = Message::new(NodeId(2), Term(2), NodeId(1), beat);
        assert_eq!(block_on(node.step(heard)).unwrap(), StepOutcome::Handled);
        assert_eq!(node.status().leader, Some(NodeId(2)));
        node
    }

    #[test]
    fn only_a_newer_vote_request_meets_the_leaders_lease() {
        let mut node = follower_in_lease();
        let asked = [(3, true), (2, false), (1, false)];
        for (term, ignored) in asked {
            assert_eq!(
                node.lease_ignores(&vote_request(term)),
                ignored,
                "term {term}"
            );
        }
        let beat = MessageVariant::Heartbeat {
            commit: Index(0),
            read: None,
        };
        let newer_beat = Message::new(NodeId(3), Term(3), NodeId(1), beat);
        assert!(
            !node.lease_ignores(&newer_beat),
            "a heartbeat unseats no one"
        );
        // The query and the step agree.
        let outcome = block_on(node.step(vote_request(3))).unwrap();
        let leader = NodeId(2);
        assert_eq!(
            outcome,
            StepOutcome::Dropped(DropReason::LeaderLease { leader })
        );
        for _ in 0..config().election_tick.0 {
            block_on(node.tick()).unwrap();
        }
        // n1 may have campaigned on its last tick: ask in the term after its own.
        let newer = vote_request(node.term().0 + 1);
        assert!(!node.lease_ignores(&newer), "the lease ran out");
    }
}
