//! [`Config`]: a node's static configuration, checked once by [`Config::validate`].

use crate::{Error, NodeId, Tick};

/// How a leader confirms that it still leads before serving a read
/// ([`crate::Node::read_index`], thesis §6.4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReadMode {
    /// ReadIndex (etcd's `ReadOnlySafe`): a quorum answers a heartbeat sent
    /// after the read arrived. Safe whatever the clocks do; costs a round trip.
    #[default]
    Index,
    /// Lease (thesis §6.4.1): a round of heartbeats answered by a quorum buys
    /// the leader a lease of `election_tick` ticks counted from when the
    /// round was *sent*; within it reads are served at once, with no round.
    /// Each voter that answered heard from the leader after the sending, and
    /// with check-quorum ignores vote requests for `election_tick` after
    /// that, so no other leader can be elected before the lease runs out.
    /// The first read after a lease ran out goes by a round, which buys the
    /// next lease. Requires [`Config::check_quorum`].
    ///
    /// Assumes every node's ticks run at the same rate (bounded drift, no
    /// long pauses: a leader frozen mid-read serves stale data when it
    /// wakes). ruft closes the two holes that need no clock fault: a leader
    /// that sends TimeoutNow (leader transfer) gives its lease up for the
    /// rest of the term, since that campaign is granted votes whatever
    /// leases voters hold (tikv/tikv#1593, tikv/raft-rs#234); and a node
    /// ignores vote requests for its first `election_tick` ticks, since a
    /// restart forgets the lease it granted (tikv/tikv#15035). Leaving
    /// [`Config::election_timeout_range`] above `election_tick` gives
    /// drifting clocks a margin.
    Lease,
}
use std::collections::BTreeSet;

/// How one node is set up. Build it with [`Config::new`] and adjust fields;
/// [`crate::Node::new`] validates it.
///
/// ```
/// use ruft::{Config, NodeId, Tick};
/// let mut cfg = Config::new(NodeId(1), [NodeId(1), NodeId(2), NodeId(3)]);
/// cfg.election_tick = Tick(20);
/// assert!(cfg.validate().is_ok());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Config {
    /// This node's id.
    pub id: NodeId,
    /// The cluster's voters at its start (before index 1): every node's
    /// configuration starts here and follows the configuration entries of
    /// the log (or a snapshot's membership) from there. A node added to a
    /// running cluster is given the same initial voters, without itself:
    /// it does not campaign until its log makes it a voter.
    pub voters: BTreeSet<NodeId>,
    /// A leader broadcasts heartbeats every `heartbeat_tick` ticks.
    pub heartbeat_tick: Tick,
    /// A follower or candidate that hears from no leader for a randomized
    /// timeout in `[election_tick, 2 * election_tick)` starts an election.
    /// Must be greater than `heartbeat_tick`.
    pub election_tick: Tick,
    /// The range `[min, max)` election timeouts are drawn from instead of
    /// `[election_tick, 2 * election_tick)` (raft-rs's `min_election_tick`
    /// and `max_election_tick`). `min` must be at least `election_tick`: the
    /// leases of check-quorum and of lease reads count on no node timing out
    /// sooner. A wider range spreads candidates further apart; a larger
    /// minimum leaves lease reads a margin for clocks that drift.
    pub election_timeout_range: Option<(Tick, Tick)>,
    /// Seeds the election-timeout randomisation, so runs are reproducible.
    pub seed: u64,
    /// Most entries carried by one AppendEntries message.
    pub append_entries_max: usize,
    /// Most AppendEntries messages in flight to one follower while replicating.
    pub inflight_max: usize,
    /// Most entries a leader holds uncommitted before it refuses proposals.
    pub uncommitted_entries_max: usize,
    /// Most payload bytes carried by one AppendEntries message (etcd's
    /// `MaxSizePerMsg`); one entry always goes, however large.
    pub append_bytes_max: usize,
    /// Most payload bytes of committed entries handed out in one Ready
    /// (etcd's `MaxCommittedSizePerReady`); the rest follow in later Readys.
    /// One entry always goes, however large.
    pub committed_bytes_max: usize,
    /// Most payload bytes a leader holds proposed and not yet applied before
    /// it refuses proposals ([`crate::Error::UncommittedBytesFull`]; etcd's
    /// `MaxUncommittedEntriesSize`). A leader holding none takes any
    /// proposal. `None`: no limit.
    pub uncommitted_bytes_max: Option<usize>,
    /// Most messages queued between two Readys; further ones are dropped (traced).
    pub outbox_max: usize,
    /// Pre-vote (thesis §9.6): before an election, ask whether it could be
    /// won, without entering the next term. A node cut off by a flaky link
    /// then no longer bumps the cluster's term each time its timer fires and
    /// deposes a healthy leader when it comes back. Off by default, like etcd;
    /// turn it on (with `check_quorum`) in any real deployment.
    pub pre_vote: bool,
    /// Check-quorum (thesis §6.2): a leader that heard from no quorum within
    /// an election period steps down, so a leader cut off from the cluster
    /// stops accepting proposals it can never commit; and a node that heard
    /// from its leader within `election_tick` ignores (pre-)vote requests of
    /// newer terms (leader stickiness). Off by default, like etcd.
    pub check_quorum: bool,
    /// The index up to which the application's state machine already holds
    /// the log (etcd's `Applied`): a node restarted over a durable state
    /// machine hands out committed entries only after it. 0 (the default)
    /// for a state machine kept in memory, which is rebuilt from the latest
    /// snapshot and the entries after it. Never beyond the commit index in
    /// storage ([`crate::Error::AppliedBeyondCommit`]).
    pub applied: crate::Index,
    /// How reads are confirmed ([`ReadMode::Index`] by default).
    pub read_mode: ReadMode,
    /// Most reads a leader holds waiting for confirmation, its own and
    /// forwarded ones ([`crate::Error::ReadsFull`]); also the most read states
    /// a node keeps between two Readys.
    pub reads_max: usize,
    /// Most context bytes of the reads a leader holds; with none held, one
    /// read goes however large its context.
    pub read_bytes_max: usize,
    /// A known Raft bug to switch on, for the verification harness only (see
    /// [`crate::Mutant`]; exists only with the `mutants` feature).
    #[cfg(feature = "mutants")]
    pub mutant: Option<crate::Mutant>,
}

impl Config {
    /// A configuration with etcd's customary timing (heartbeat 1, election 10)
    /// and generous limits. `voters` is a set: a voter listed twice is one
    /// voter (what [`Config::validate`] refuses is `NodeId(0)`).
    pub fn new(id: NodeId, voters: impl IntoIterator<Item = NodeId>) -> Config {
        Config {
            id,
            voters: voters.into_iter().collect(),
            heartbeat_tick: Tick(1),
            election_tick: Tick(10),
            election_timeout_range: None,
            seed: 0,
            append_entries_max: 64,
            inflight_max: 256,
            uncommitted_entries_max: 4096,
            append_bytes_max: 1 << 20,
            committed_bytes_max: 16 << 20,
            uncommitted_bytes_max: None,
            outbox_max: 4096,
            pre_vote: false,
            check_quorum: false,
            applied: crate::Index(0),
            read_mode: ReadMode::Index,
            reads_max: 1024,
            read_bytes_max: 1 << 20,
            #[cfg(feature = "mutants")]
            mutant: None,
        }
    }

    /// The range `[min, max)` election timeouts are drawn from (see
    /// [`Config::election_timeout_range`]).
    pub fn election_timeout_range(&self) -> (Tick, Tick) {
        let e = self.election_tick;
        self.election_timeout_range
            .unwrap_or((e, Tick(e.0.saturating_mul(2))))
    }

    /// Checks the configuration, naming the first problem found.
    pub fn validate(&self) -> Result<(), Error> {
        let problem = if self.voters.is_empty() {
            Some("voters must not be empty")
        } else if self.id == NodeId(0) || self.voters.contains(&NodeId(0)) {
            Some("node ids start at 1: NodeId(0) is no node (it reads as \"none\" on the wire)")
        } else if self.election_tick > ELECTION_TICK_MAX
            || self
                .election_timeout_range
                .is_some_and(|(_, max)| max.0 > ELECTION_TICK_MAX.0.saturating_mul(2))
        {
            Some("election_tick must be at most 2^32 ticks (and timeouts at most twice that)")
        } else if self.heartbeat_tick == Tick(0) {
            Some("heartbeat_tick must be at least 1")
        } else if self.election_tick <= self.heartbeat_tick {
            Some("election_tick must exceed heartbeat_tick")
        } else if self
            .election_timeout_range
            .is_some_and(|(min, max)| min < self.election_tick || max <= min)
        {
            Some("election_timeout_range must be [min, max) with election_tick <= min < max")
        } else if self.append_entries_max == 0 || self.inflight_max == 0 {
            Some("append_entries_max and inflight_max must be at least 1")
        } else if self.uncommitted_entries_max == 0 || self.outbox_max == 0 {
            Some("uncommitted_entries_max and outbox_max must be at least 1")
        } else if self.reads_max == 0 {
            Some("reads_max must be at least 1")
        } else if self.read_mode == ReadMode::Lease && !lease_reads_allowed(self) {
            Some("lease reads need check_quorum")
        } else {
            None
        };
        match problem {
            Some(problem) => Err(Error::InvalidConfig { problem }),
            None => Ok(()),
        }
    }
}

/// The largest `election_tick` [`Config::validate`] accepts: 2^32 ticks,
/// over a century at one tick per millisecond. It keeps every timeout and
/// its doubling far from overflow.
pub const ELECTION_TICK_MAX: Tick = Tick(1 << 32);

/// Whether lease reads are safe with this configuration: only check-quorum
/// makes a leader's lease mean anything.
fn lease_reads_allowed(config: &Config) -> bool {
    config.check_quorum || mutant!(config, LeaseReadWithoutCheckQuorum)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 17's hostile review: ids and timings a caller could get wrong.
    #[test]
    fn validate_refuses_node_zero_and_timeouts_near_overflow() {
        let zero = Error::InvalidConfig {
            problem: "node ids start at 1: NodeId(0) is no node (it reads as \"none\" on the wire)",
        };
        assert_eq!(Config::new(NodeId(0), [NodeId(1)]).validate(), Err(zero));
        assert_eq!(
            Config::new(NodeId(1), [NodeId(0), NodeId(1)]).validate(),
            Err(zero)
        );
        let twice = Config::new(NodeId(1), [NodeId(1), NodeId(2), NodeId(2)]);
        assert_eq!(twice.voters.len(), 2, "a voter listed twice is one voter");
        assert_eq!(twice.validate(), Ok(()));

        let mut huge = Config::new(NodeId(1), [NodeId(1)]);
        huge.election_tick = ELECTION_TICK_MAX;
        assert_eq!(huge.validate(), Ok(()), "2^32 ticks is allowed");
        huge.election_tick = Tick((1 << 63) + 1);
        let too_long = Error::InvalidConfig {
            problem: "election_tick must be at most 2^32 ticks (and timeouts at most twice that)",
        };
        assert_eq!(huge.validate(), Err(too_long));
        let mut range = Config::new(NodeId(1), [NodeId(1)]);
        range.election_timeout_range = Some((Tick(10), Tick(u64::MAX)));
        assert_eq!(range.validate(), Err(too_long));
    }

    #[test]
    fn validate_names_the_problem() {
        let ok = Config::new(NodeId(1), [NodeId(1), NodeId(2)]);
        assert_eq!(ok.validate(), Ok(()));
        let joining = Config::new(NodeId(9), [NodeId(1)]);
        assert_eq!(joining.validate(), Ok(()), "a node added later");
        let nobody = Config::new(NodeId(9), []);
        assert_eq!(
            nobody.validate(),
            Err(Error::InvalidConfig {
                problem: "voters must not be empty"
            })
        );
        let mut slow = ok.clone();
        slow.election_tick = slow.heartbeat_tick;
        assert!(slow.validate().is_err());
        let mut lease = ok.clone();
        lease.read_mode = ReadMode::Lease;
        assert_eq!(
            lease.validate(),
            Err(Error::InvalidConfig {
                problem: "lease reads need check_quorum"
            })
        );
        lease.check_quorum = true;
        assert_eq!(lease.validate(), Ok(()));
        let mut range = ok.clone();
        assert_eq!(range.election_timeout_range(), (Tick(10), Tick(20)));
        range.election_timeout_range = Some((Tick(9), Tick(30)));
        assert!(range.validate().is_err(), "a timeout below election_tick");
        range.election_timeout_range = Some((Tick(30), Tick(30)));
        assert!(range.validate().is_err(), "an empty range");
        range.election_timeout_range = Some((Tick(30), Tick(31)));
        assert_eq!(range.validate(), Ok(()));
    }

    /// Every bound is checked on its own, and its edge value is allowed.
    #[test]
    fn each_bound_is_refused_alone_and_its_edge_is_allowed() {
        let ok = Config::new(NodeId(1), [NodeId(1), NodeId(2)]);
        let zeroed: [fn(&mut Config); 5] = [
            |c| c.append_entries_max = 0,
            |c| c.inflight_max = 0,
            |c| c.uncommitted_entries_max = 0,
            |c| c.outbox_max = 0,
            |c| c.reads_max = 0,
        ];
        for (i, zero) in zeroed.iter().enumerate() {
            let mut c = ok.clone();
            zero(&mut c);
            assert!(c.validate().is_err(), "bound {i} set to 0 alone");
        }
        let mut edge = ok.clone();
        let tick = edge.election_tick;
        edge.election_timeout_range = Some((tick, Tick(tick.0 + 1)));
        assert_eq!(edge.validate(), Ok(()), "min = election_tick");
        let longest = Tick(ELECTION_TICK_MAX.0 * 2);
        edge.election_timeout_range = Some((tick, longest));
        assert_eq!(
            edge.validate(),
            Ok(()),
            "max = twice the longest election_tick"
        );
        edge.election_timeout_range = Some((tick, Tick(longest.0 + 1)));
        assert!(edge.validate().is_err(), "max beyond it");
    }
}
