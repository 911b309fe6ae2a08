//! [`ModelConfig`]: everything that shapes the explored state space, the
//! defaults by cluster size, and the `check` flags that rebuild a
//! configuration.

use ruft::{Config, Mutant, NodeId, ReadMode};
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::Arc;

/// How the network treats messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NetworkKind {
    /// Any order, each message delivered at most once (the default).
    Unordered,
    /// Any order, and a message may be delivered again and again.
    Duplicating,
    /// FIFO per (sender, receiver) pair.
    Ordered,
}

/// When an application's writes become durable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Durability {
    /// Each Ready is persisted, sent and applied within the handler that produced it.
    Sync,
    /// A Ready's write completes in a later, separate step (the persist timer);
    /// the node keeps stepping meanwhile, and a crash loses the write.
    Async,
}

/// Node steps kept by default (`ModelConfig::step_cache`): about 10-40 MB
/// of table, plus the node states it keeps alive.
pub const STEP_CACHE_DEFAULT: usize = 1 << 16;

/// Everything that shapes the explored state space.
#[derive(Clone, Debug)]
pub struct ModelConfig {
    /// Cluster size.
    pub nodes: usize,
    /// No state with a term above this is explored.
    pub term_max: u64,
    /// Client proposals, cluster-wide.
    pub proposals_max: usize,
    /// Crashes over the whole run (each may be followed by a restart); also
    /// caps the nodes down at once.
    pub crashes_max: usize,
    /// Messages in flight.
    pub in_flight_max: usize,
    /// Network semantics.
    pub network: NetworkKind,
    /// Whether the network may lose messages.
    pub lossy: bool,
    /// Whether a message its receiver drops for good
    /// ([`ruft::Node::ignores_for_good`]) leaves the network at once, instead
    /// of waiting to be delivered and dropped (`--drop-dead-messages`;
    /// `proofs/README.md#dead-messages`). Not on a duplicating network. Off
    /// by default, on in [`ModelConfig::for_nodes`] from 4 nodes.
    pub drop_dead: bool,
    /// Synchronous or asynchronous persistence.
    pub durability: Durability,
    /// Whether leaders' heartbeat timers fire (heartbeats carry the commit index
    /// and resume paused probes; appends alone also carry the commit index).
    /// Off by default: with them the default space is four times larger.
    pub heartbeats: bool,
    /// Most entries per AppendEntries message (`Config::append_entries_max`);
    /// 1 lets a follower hold an older-term prefix without the newer entries.
    pub append_entries_max: usize,
    /// Pre-vote on every node (`Config::pre_vote`).
    pub pre_vote: bool,
    /// Check-quorum on every node (`Config::check_quorum`); leaders' election
    /// periods end (`CheckQuorum`) and followers' leases run out as timers.
    pub check_quorum: bool,
    /// Leader transfers the operator may ask for, cluster-wide.
    pub transfers_max: usize,
    /// Pre-vote rounds, cluster-wide (`None`: unbounded). A failed pre-vote
    /// leaves the term as it was, so the term bound does not bound the
    /// rounds of asking; this does.
    pub pre_votes_max: Option<usize>,
    /// Log compactions, cluster-wide: a node snapshots its state machine at
    /// its applied index and drops the log up to there. With compaction on,
    /// the model application keeps a durable state machine ([`crate::machine`])
    /// and restarts pass its applied index as `Config::applied`.
    pub compactions_max: usize,
    /// Nodes that host a client (the first `clients` nodes; see
    /// [`crate::clients`]). 0: no client, today's model.
    pub clients: usize,
    /// Operations each client runs (writes when its node leads, ReadIndex
    /// reads at any node that knows a leader).
    pub ops_max: u8,
    /// How leaders confirm reads (`Config::read_mode`; `check --reads`).
    /// With [`ReadMode::Lease`] the model keeps time: one action ticks every
    /// running node's clock at once (perfect clocks, the lease's assumption),
    /// nodes run `election_tick` [`LEASE_ELECTION_TICK`], and an election
    /// timer fires only once its node heard from no leader for that long.
    pub read_mode: ReadMode,
    /// The cluster's voters at its start: `n1..=initial_voters` (`None`: every
    /// node). The other nodes start outside and join when a membership
    /// change adds them (`check --initial-voters`).
    pub initial_voters: Option<usize>,
    /// Membership changes the operator may ask leaders for, cluster-wide
    /// (`check --conf-changes`; see [`crate::membership`]).
    pub conf_changes_max: usize,
    /// Whether learner additions are offered (`check --learners`).
    pub learners: bool,
    /// Whether changes go through joint configurations, and replacements
    /// are offered (`check --joint`).
    pub joint: bool,
    /// A known Raft bug switched on in every node (`ruft::Mutant`; the mutant
    /// gate and `check --mutant`).
    pub mutant: Option<Mutant>,
    /// How many node steps are kept to be handed out again
    /// ([`crate::step_cache`]; `check --step-cache N`, 0: none). Not part of
    /// the state space: the same states are explored either way, only
    /// sooner. Default [`STEP_CACHE_DEFAULT`].
    pub step_cache: usize,
    /// How many states each bound kept out of the search.
    pub cuts: Arc<BoundCuts>,
    /// Once set, no state has successors: a search that must stop (a time,
    /// state or memory limit) drains and ends instead of running on.
    pub halt: Arc<AtomicBool>,
}

impl ModelConfig {
    /// The default bounds for a cluster of `nodes` (recorded in
    /// `proofs/recorded-runs.tsv`). A bigger cluster needs more messages in
    /// flight for one election, so it gets no client proposal (a leader's
    /// no-op is committed and applied instead), and `check` searches it with
    /// symmetry reduction and without dead messages (`drop_dead`): a vote
    /// arriving after its candidate has won holds a slot of
    /// `in_flight_max` for nothing. With both, five messages in flight reach
    /// every witness at 4 nodes (1,981,737 states, about a minute on 2
    /// cores) and at 5 nodes (1,289,641 states, under a minute).
    pub fn for_nodes(nodes: usize) -> ModelConfig {
        let base = ModelConfig {
            nodes,
            ..ModelConfig::default()
        };
        match nodes {
            0..=3 => base,
            _ => ModelConfig {
                proposals_max: 0,
                in_flight_max: 5,
                drop_dead: true,
                ..base
            },
        }
    }

    /// Whether the nodes accept the configuration this model gives them
    /// (say, lease reads need check-quorum).
    pub fn validate(&self) -> Result<(), ruft::Error> {
        crate::model::node_config(NodeId(1), self).validate()
    }

    /// The features switched on, which decide the properties checked.
    pub fn features(&self) -> crate::properties::Features {
        crate::properties::Features {
            pre_vote: self.pre_vote,
            check_quorum: self.check_quorum,
            transfers: self.transfers_max > 0,
            snapshots: self.compactions_max > 0,
            clients: self.clients > 0,
            lease: self.read_mode == ReadMode::Lease,
            crash_free: self.crashes_max == 0,
            membership: self.conf_changes_max > 0,
            joint: self.joint,
            learners: self.learners,
        }
    }

    /// Every option of the model as JSON fields (`check --json`'s `model`).
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "nodes": self.nodes,
            "max_term": self.term_max,
            "max_proposals": self.proposals_max,
            "max_crashes": self.crashes_max,
            "max_in_flight": self.in_flight_max,
            "network": match self.network {
                NetworkKind::Unordered => "unordered",
                NetworkKind::Duplicating => "duplicating",
                NetworkKind::Ordered => "ordered",
            },
            "lossy": self.lossy,
            "drop_dead_messages": self.drop_dead,
            "durability": match self.durability {
                Durability::Sync => "sync",
                Durability::Async => "async",
            },
            "heartbeats": self.heartbeats,
            "max_append_entries": self.append_entries_max,
            "pre_vote": self.pre_vote,
            "max_pre_votes": self.pre_votes_max,
            "check_quorum": self.check_quorum,
            "transfers": self.transfers_max,
            "max_compactions": self.compactions_max,
            "clients": self.clients,
            "ops": self.ops_max,
            "reads": match self.read_mode {
                ReadMode::Index => "index",
                ReadMode::Lease => "lease",
            },
            "initial_voters": self.initial_voters,
            "conf_changes": self.conf_changes_max,
            "learners": self.learners,
            "joint": self.joint,
            "mutant": self.mutant.map(|m| m.name()),
            "flags": self.flags(),
        })
    }

    /// The `check` flags that rebuild this configuration (`--nodes 3 --max-term 2 ...`).
    pub fn flags(&self) -> String {
        let mut f = format!(
            "--nodes {} --max-term {} --max-proposals {} --max-crashes {} --max-in-flight {}",
            self.nodes, self.term_max, self.proposals_max, self.crashes_max, self.in_flight_max
        );
        match self.network {
            NetworkKind::Unordered => {}
            NetworkKind::Duplicating => f.push_str(" --network duplicating"),
            NetworkKind::Ordered => f.push_str(" --network ordered"),
        }
        if self.lossy {
            f.push_str(" --lossy");
        }
        if self.drop_dead {
            f.push_str(" --drop-dead-messages");
        } else if ModelConfig::for_nodes(self.nodes).drop_dead {
            f.push_str(" --keep-dead-messages");
        }
        if self.durability == Durability::Async {
            f.push_str(" --durability async");
        }
        if self.heartbeats {
            f.push_str(" --heartbeats");
        }
        if self.append_entries_max != ModelConfig::default().append_entries_max {
            f.push_str(&format!(
                " --max-append-entries {}",
                self.append_entries_max
            ));
        }
        if self.pre_vote {
            f.push_str(" --pre-vote");
        }
        if let Some(max) = self.pre_votes_max {
            f.push_str(&format!(" --max-pre-votes {max}"));
        }
        if self.check_quorum {
            f.push_str(" --check-quorum");
        }
        if self.transfers_max > 0 {
            f.push_str(&format!(" --transfers {}", self.transfers_max));
        }
        if self.compactions_max > 0 {
            f.push_str(&format!(" --max-compactions {}", self.compactions_max));
        }
        if self.clients > 0 {
            f.push_str(&format!(
                " --clients {} --ops {}",
                self.clients, self.ops_max
            ));
        }
        if self.read_mode == ReadMode::Lease {
            f.push_str(" --reads lease");
        }
        if let Some(v) = self.initial_voters {
            f.push_str(&format!(" --initial-voters {v}"));
        }
        if self.conf_changes_max > 0 {
            f.push_str(&format!(" --conf-changes {}", self.conf_changes_max));
        }
        if self.learners {
            f.push_str(" --learners");
        }
        if self.joint {
            f.push_str(" --joint");
        }
        if let Some(m) = self.mutant {
            f.push_str(&format!(" --mutant {m}"));
        }
        f
    }
}

/// `election_tick` of every node in a model with lease reads: few ticks make
/// a lease run out.
pub const LEASE_ELECTION_TICK: u64 = 2;

/// `heartbeat_tick` of every node in a model with lease reads: a leader's
/// election period holds one heartbeat round, so a leader can step down for
/// lack of answers with only two messages in flight.
pub const LEASE_HEARTBEAT_TICK: u64 = 1;

/// Counts of states kept out of the search, per bound (reported by `check`).
#[derive(Debug, Default)]
pub struct BoundCuts {
    /// States beyond `term_max`.
    pub term: AtomicUsize,
    /// States beyond `proposals_max` or `transfers_max`.
    pub proposals: AtomicUsize,
    /// States beyond `pre_votes_max`.
    pub pre_votes: AtomicUsize,
    /// States beyond `compactions_max`.
    pub compactions: AtomicUsize,
    /// States beyond `conf_changes_max`.
    pub conf_changes: AtomicUsize,
    /// States beyond `in_flight_max`.
    pub in_flight: AtomicUsize,
}

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            nodes: 3,
            term_max: 2,
            proposals_max: 1,
            crashes_max: 1,
            in_flight_max: 3,
            network: NetworkKind::Unordered,
            lossy: false,
            drop_dead: false,
            durability: Durability::Sync,
            heartbeats: false,
            append_entries_max: Config::new(NodeId(1), [NodeId(1)]).append_entries_max,
            pre_vote: false,
            check_quorum: false,
            transfers_max: 0,
            pre_votes_max: None,
            compactions_max: 0,
            clients: 0,
            ops_max: 1,
            read_mode: ReadMode::Index,
            initial_voters: None,
            conf_changes_max: 0,
            learners: false,
            joint: false,
            mutant: None,
            step_cache: STEP_CACHE_DEFAULT,
            cuts: Arc::default(),
            halt: Arc::default(),
        }
    }
}
