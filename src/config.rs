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
    /// Lease (etcd's `ReadOnlyLeaseBased`): the leader serves at once, relying
    /// on check-quorum's lease: no other node votes within `election_tick` of
    /// hearing from it, and it steps down when a quorum went silent for an
    /// election period. Requires [`Config::check_quorum`], and assumes every
    /// node's ticks run at about the same rate (bounded clock drift, no long
    /// pauses).
    ///
    /// Known limitation, shared with etcd: the leader steps down only at the
    /// end of an election period in which it heard from no quorum, so a
    /// leader cut off just after a period began keeps serving for up to two
    /// election periods, while the others may elect a new leader after one.
    /// Reads in that window can be stale even with perfect clocks. Prefer
    /// [`ReadMode::Index`] until the lease counts from when the acknowledged
    /// heartbeats were sent (and is model-checked).
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
    /// This node's id; must be one of `voters`.
    pub id: NodeId,
    /// Every voting member of the cluster, this node included.
    pub voters: BTreeSet<NodeId>,
    /// A leader broadcasts heartbeats every `heartbeat_tick` ticks.
    pub heartbeat_tick: Tick,
    /// A follower or candidate that hears from no leader for a randomized
    /// timeout in `[election_tick, 2 * election_tick)` starts an election.
    /// Must be greater than `heartbeat_tick`.
    pub election_tick: Tick,
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
    /// and generous limits.
    pub fn new(id: NodeId, voters: impl IntoIterator<Item = NodeId>) -> Config {
        Config {
            id,
            voters: voters.into_iter().collect(),
            heartbeat_tick: Tick(1),
            election_tick: Tick(10),
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

    /// Checks the configuration, naming the first problem found.
    pub fn validate(&self) -> Result<(), Error> {
        let problem = if !self.voters.contains(&self.id) {
            Some("id is not among the voters")
        } else if self.heartbeat_tick == Tick(0) {
            Some("heartbeat_tick must be at least 1")
        } else if self.election_tick <= self.heartbeat_tick {
            Some("election_tick must exceed heartbeat_tick")
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

/// Whether lease reads are safe with this configuration: only check-quorum
/// makes a leader's lease mean anything.
fn lease_reads_allowed(config: &Config) -> bool {
    config.check_quorum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validate_names_the_problem() {
        let ok = Config::new(NodeId(1), [NodeId(1), NodeId(2)]);
        assert_eq!(ok.validate(), Ok(()));
        let outsider = Config::new(NodeId(9), [NodeId(1)]);
        assert_eq!(
            outsider.validate(),
            Err(Error::InvalidConfig {
                problem: "id is not among the voters"
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
    }
}
