//! The mutant catalogue: for every known Raft bug that ruft can switch on
//! ([`ruft::Mutant`], cargo feature `mutants`), the real-world bug it stands
//! for, the property the harness must see broken, and the bounded model in
//! which the exhaustive search catches it.
//!
//! The mutant gate (`models/tests/mutant_gate.rs`) runs every entry: an exact
//! breadth-first search must reach a violation of [`Catalogued::breaks`], and
//! the random event suite must fail within a recorded number of cases (or the
//! entry says why only the exhaustive engine can). `docs/mutants.md` holds the
//! table of figures, checked against a fresh run by the same test.

use crate::model::{ModelConfig, NetworkKind};
use ruft::Mutant;

/// How the random event suite (proptest) is expected to do on a mutant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Random {
    /// It finds the bug on clusters of `voters` nodes.
    Finds {
        /// Cluster size of every case.
        voters: usize,
    },
    /// Its client suite (`tests/proptest_clients.rs`: client operations
    /// among the events, the catalogue model's read mode and check-quorum)
    /// finds the bug on clusters of `voters` nodes.
    Clients {
        /// Cluster size of every case.
        voters: usize,
    },
    /// It cannot, for the reason given; only the exhaustive engine catches it.
    ExhaustiveOnly(&'static str),
}

/// One catalogue entry.
#[derive(Clone, Copy, Debug)]
pub struct Catalogued {
    /// The bug, as ruft switches it on.
    pub mutant: Mutant,
    /// What the broken engine does, in one line.
    pub about: &'static str,
    /// Where this bug happened in real projects.
    pub seen_in: &'static str,
    /// The property the harness must find violated (a name in
    /// [`crate::properties::PROPERTIES`]).
    pub breaks: &'static str,
    /// The bounded model the exhaustive search runs.
    pub model: fn() -> ModelConfig,
    /// Why the model departs from the default bounds, if it does.
    pub why: &'static str,
    /// What the random event suite does.
    pub random: Random,
}

impl Catalogued {
    /// The model with the mutant switched on.
    pub fn config(&self) -> ModelConfig {
        ModelConfig {
            mutant: Some(self.mutant),
            ..(self.model)()
        }
    }
}

/// The catalogue entry of `mutant`.
pub fn entry(mutant: Mutant) -> &'static Catalogued {
    CATALOGUE
        .iter()
        .find(|c| c.mutant == mutant)
        .expect("every mutant is catalogued (checked by the mutant gate)")
}

fn default_bounds() -> ModelConfig {
    ModelConfig::default()
}

/// Two elections without proposals or crashes; room for both candidates'
/// messages.
fn two_leaders() -> ModelConfig {
    ModelConfig {
        proposals_max: 0,
        crashes_max: 0,
        in_flight_max: 8,
        ..ModelConfig::default()
    }
}

/// A follower's stale entry meets a new leader's commit index, which only a
/// heartbeat carries to a follower that matched nothing (also a deep part of
/// `check hunt`).
pub fn heartbeats() -> ModelConfig {
    ModelConfig {
        heartbeats: true,
        crashes_max: 0,
        in_flight_max: 6,
        ..ModelConfig::default()
    }
}

/// A third term, room for six messages (also a deep part of `check hunt`).
pub fn third_term() -> ModelConfig {
    ModelConfig {
        term_max: 3,
        proposals_max: 0,
        crashes_max: 0,
        in_flight_max: 6,
        ..ModelConfig::default()
    }
}

/// Figure 8: four terms on a FIFO network, one entry per append (also a
/// deep part of `check hunt`).
pub fn figure_8() -> ModelConfig {
    ModelConfig {
        term_max: 4,
        proposals_max: 0,
        crashes_max: 0,
        in_flight_max: 6,
        append_entries_max: 1,
        network: NetworkKind::Ordered,
        ..ModelConfig::default()
    }
}

fn stale_votes() -> ModelConfig {
    ModelConfig {
        proposals_max: 0,
        crashes_max: 0,
        in_flight_max: 6,
        ..ModelConfig::default()
    }
}

/// Four voters on a duplicating network (also an exhaustive part of `check
/// hunt`).
pub fn duplicated_votes() -> ModelConfig {
    ModelConfig {
        nodes: 4,
        term_max: 1,
        proposals_max: 0,
        crashes_max: 0,
        in_flight_max: 14,
        network: NetworkKind::Duplicating,
        ..ModelConfig::default()
    }
}

/// Pre-vote on, without proposals or crashes.
pub fn pre_vote() -> ModelConfig {
    ModelConfig {
        pre_vote: true,
        proposals_max: 0,
        crashes_max: 0,
        ..ModelConfig::default()
    }
}

/// Check-quorum on, without proposals or crashes.
pub fn check_quorum() -> ModelConfig {
    ModelConfig {
        check_quorum: true,
        proposals_max: 0,
        crashes_max: 0,
        ..ModelConfig::default()
    }
}

/// One leader transfer, without proposals or crashes.
pub fn one_transfer() -> ModelConfig {
    ModelConfig {
        transfers_max: 1,
        proposals_max: 0,
        crashes_max: 0,
        ..ModelConfig::default()
    }
}

/// Compaction on; no crash (two snapshots of one leader must meet out of
/// order at a follower: heartbeats resend, a first term is enough).
/// Two clients, one operation each: a write and a read (ReadIndex).
pub fn clients() -> ModelConfig {
    ModelConfig {
        clients: 2,
        ops_max: 1,
        proposals_max: 0,
        crashes_max: 0,
        ..ModelConfig::default()
    }
}

/// [`clients`] with a fourth message in flight: a new leader's read
/// heartbeats while its no-op is still on the way.
pub fn clients_new_leader() -> ModelConfig {
    ModelConfig {
        in_flight_max: 4,
        ..clients()
    }
}

/// [`clients`] reading by lease, with check-quorum (which lease reads need)
/// unless `check_quorum` is false (only a mutant lets the nodes accept
/// that). Two operations per client: a lease is bought by a first read's
/// round and misused by a second read.
fn lease_clients(check_quorum: bool) -> ModelConfig {
    ModelConfig {
        read_mode: ruft::ReadMode::Lease,
        check_quorum,
        ops_max: 2,
        ..clients()
    }
}

/// Lease reads without check-quorum: a deposed leader's lease is honoured by
/// no voter.
pub fn lease_without_check_quorum() -> ModelConfig {
    lease_clients(false)
}

/// Lease reads with one leader transfer: the target's campaign is granted
/// votes whatever leases the voters hold.
pub fn lease_transfer() -> ModelConfig {
    ModelConfig {
        transfers_max: 1,
        ..lease_clients(true)
    }
}

pub fn stale_snapshots() -> ModelConfig {
    ModelConfig {
        heartbeats: true,
        term_max: 1,
        compactions_max: 2,
        crashes_max: 0,
        in_flight_max: 4,
        ..ModelConfig::default()
    }
}

/// Compaction on; no crash (a second term's leader compacts over an entry a
/// first term's leader still holds, then heartbeats reach it first).
pub fn conflicting_snapshot() -> ModelConfig {
    ModelConfig {
        heartbeats: true,
        compactions_max: 1,
        crashes_max: 0,
        in_flight_max: 4,
        ..ModelConfig::default()
    }
}

/// Compaction on at the default bounds: the model application's durable
/// state machine and `Config::applied`.
pub fn compaction() -> ModelConfig {
    ModelConfig {
        compactions_max: 1,
        ..ModelConfig::default()
    }
}

/// Four nodes, three of them the initial voters; `conf_changes` membership
/// changes, no crash.
fn membership(conf_changes: usize) -> ModelConfig {
    ModelConfig {
        nodes: 4,
        initial_voters: Some(3),
        conf_changes_max: conf_changes,
        proposals_max: 0,
        crashes_max: 0,
        ..ModelConfig::default()
    }
}

/// Two membership changes among four nodes: a new leader may meet an
/// earlier leader's uncommitted change in its log.
pub fn two_changes() -> ModelConfig {
    membership(2)
}

/// One membership change among three voters: a leader may remove itself.
pub fn one_change() -> ModelConfig {
    ModelConfig {
        nodes: 3,
        initial_voters: None,
        ..membership(1)
    }
}

/// A learner added, then a proposal: its acknowledgement is there to be
/// miscounted.
pub fn learner_change() -> ModelConfig {
    ModelConfig {
        learners: true,
        proposals_max: 1,
        ..membership(1)
    }
}

/// One change through a joint configuration (say, a voter replaced by the
/// outside node): the leave the leader proposes on its own is committed
/// while joint.
pub fn joint_change() -> ModelConfig {
    ModelConfig {
        joint: true,
        ..membership(1)
    }
}

/// Two operations per client and an ordered network with room for the
/// stale answer to wait: a read answered, a leader change and a write
/// elsewhere, then a second read confirmed by the first read's late answer.
pub fn stale_read_context() -> ModelConfig {
    ModelConfig {
        ops_max: 2,
        in_flight_max: 5,
        network: NetworkKind::Ordered,
        ..clients()
    }
}

/// Every mutant, in [`Mutant::ALL`] order.
pub const CATALOGUE: &[Catalogued] = &[
    Catalogued {
        mutant: Mutant::VoteTwice,
        about: "grants a second vote in a term after voting for another candidate",
        seen_in: "microsoft/CCF#5891, ktoso/akka-raft#56 (a candidate that steps down forgets its vote)",
        breaks: "index order",
        model: default_bounds,
        why: "",
        random: Random::Finds { voters: 3 },
    },
    Catalogued {
        mutant: Mutant::VoteWithoutLogCheck,
        about: "grants votes without the log up-to-date check (§5.4.1)",
        seen_in: "jgroups-extras/jgroups-raft#14, ktoso/akka-raft#30",
        breaks: "leader completeness",
        model: default_bounds,
        why: "",
        random: Random::Finds { voters: 3 },
    },
    Catalogued {
        mutant: Mutant::UpToDateByIndex,
        about: "judges logs up to date by last index alone, not last term first",
        seen_in: "sile/noraft#22, neo4j/neo4j#6289",
        breaks: "leader completeness",
        model: third_term,
        why: "an older term's log must meet an as long log of a newer term: a third term",
        random: Random::Finds { voters: 3 },
    },
    Catalogued {
        mutant: Mutant::CommitOldTermByCount,
        about: "commits an earlier term's entry once a quorum holds it (figure 8)",
        seen_in: "logcabin/logcabin#44, async-raft/async-raft#108",
        breaks: "leader completeness",
        model: figure_8,
        why: "figure 8 needs four terms; one entry per append lets the old entry reach a follower \
              without the new no-op; a FIFO network keeps four terms of messages small enough to search",
        random: Random::ExhaustiveOnly(
            "four elections in one order, and the old entry delivered alone before the new \
             leader's no-op; 5,000 random cases on 3 nodes never line that up",
        ),
    },
    Catalogued {
        mutant: Mutant::KeepConflictingEntries,
        about: "keeps a conflicting entry instead of deleting it and all that follow",
        seen_in: "camunda/camunda#5360, mofa-org/mofa#1150",
        breaks: "state machine safety",
        model: heartbeats,
        why: "the follower keeping a stale entry learns the commit index only from a heartbeat",
        random: Random::Finds { voters: 3 },
    },
    Catalogued {
        mutant: Mutant::TruncateWithoutConflict,
        about: "deletes the entries after an append even when none conflicts (a late append undoes acks)",
        seen_in: "hashicorp/raft#113; Students' Guide to Raft (\"the follower MUST NOT truncate its log\")",
        breaks: "leader completeness",
        model: heartbeats,
        why: "a stale append must arrive after a newer one: heartbeat answers make the leader send appends again",
        random: Random::Finds { voters: 3 },
    },
    Catalogued {
        mutant: Mutant::ForgetVoteOnRestart,
        about: "forgets the vote of the current term on restart",
        seen_in: "stateright's examples/raft.rs (nothing persisted); mgodave/barge#5, stateIs0/lu-raft-kv#33",
        breaks: "index order",
        model: default_bounds,
        why: "",
        random: Random::Finds { voters: 3 },
    },
    Catalogued {
        mutant: Mutant::QuorumHalf,
        about: "takes n/2 voters for a quorum instead of n/2 + 1",
        seen_in: "async-raft/async-raft#143, mgodave/barge#68",
        breaks: "election safety",
        model: two_leaders,
        why: "two leaders that each counted only themselves send 8 messages",
        random: Random::Finds { voters: 3 },
    },
    Catalogued {
        mutant: Mutant::AcceptStaleAppend,
        about: "handles an AppendEntries of an earlier term instead of dropping it",
        seen_in: "akiradeveloper/sorock#485",
        breaks: "leader completeness",
        model: third_term,
        why: "the entry the stale append overwrote is missed by the next leader: a third term",
        random: Random::Finds { voters: 3 },
    },
    Catalogued {
        mutant: Mutant::CommitBeyondMatch,
        about: "commits up to min(leader commit, own last index) instead of the last matched index",
        seen_in: "atomix/copycat#265, etcd-io/etcd#1203",
        breaks: "state machine safety",
        model: heartbeats,
        why: "in ruft the leader's commit index reaches an unmatched follower only in heartbeats",
        random: Random::Finds { voters: 3 },
    },
    Catalogued {
        mutant: Mutant::CountDuplicateVotes,
        about: "counts a duplicated vote response twice",
        seen_in: "xnnyygn/xraft#27, microsoft/coyote-samples#8, ktoso/akka-raft#45",
        breaks: "election safety",
        model: duplicated_votes,
        why: "a duplicating network; 4 nodes, since with 3 one real grant is a quorum anyway; \
              every message ever sent stays deliverable, so 14 in flight",
        random: Random::ExhaustiveOnly(
            "a candidate short of a quorum must get one grant twice, and a second candidate must \
             win the same term the same way; 5,000 random cases on 4 nodes never line that up",
        ),
    },
    Catalogued {
        mutant: Mutant::AckBeforePersist,
        about: "sends votes and acks in a Ready of their own, before the writes they promise",
        seen_in: "etcd-io/etcd#4765 (persist before send), yugabyte/yugabyte-db#32875, robustmq/robustmq#2039",
        breaks: "durable before sent",
        model: default_bounds,
        why: "",
        random: Random::Finds { voters: 3 },
    },
    Catalogued {
        mutant: Mutant::CountStaleVotes,
        about: "counts a vote granted in an earlier term, delivered late",
        seen_in: "andreev-io/little-raft#44, ktoso/akka-raft#46, eatonphil/raft-rs#3",
        breaks: "election safety",
        model: stale_votes,
        why: "two elections without proposals or crashes; room for both candidates' messages",
        random: Random::Finds { voters: 3 },
    },
    Catalogued {
        mutant: Mutant::CampaignWithoutPersisting,
        about: "campaigns in a new term without persisting the term and its own vote",
        seen_in: "wenweihu86/raft-java#57",
        breaks: "durable before sent",
        model: default_bounds,
        why: "",
        random: Random::Finds { voters: 3 },
    },
    Catalogued {
        mutant: Mutant::PreVoteBumpsTerm,
        about: "a pre-candidate enters the next term when it asks for pre-votes",
        seen_in: "etcd-io/etcd#8501 and hashicorp/raft#474 (closing #31): a node cut off bumps the term \
                  on every timeout and deposes the leader when it returns, the disruption pre-vote stops",
        breaks: "pre-vote is harmless",
        model: pre_vote,
        why: "pre-vote on; no proposal or crash needed",
        random: Random::ExhaustiveOnly(NO_RANDOM_LEADERSHIP),
    },
    Catalogued {
        mutant: Mutant::PreVoteIgnoresLog,
        about: "grants pre-votes without the log up-to-date check (§5.4.1)",
        seen_in: "ClickHouse/NuRaft#134: pre-votes granted on liveness alone, 10 leadership changes in \
                  32 minutes driven by a member whose log had not moved",
        breaks: "pre-vote is harmless",
        model: pre_vote,
        why: "pre-vote on; no proposal or crash needed (the leader's no-op makes logs differ)",
        random: Random::ExhaustiveOnly(NO_RANDOM_LEADERSHIP),
    },
    Catalogued {
        mutant: Mutant::CheckQuorumCountsSelfTwice,
        about: "a leader counts its own answer twice in check-quorum, so a 3-node leader never steps down",
        seen_in: "etcd-io/etcd#13527 (a partitioned leader that did not step down: two leaders serving), \
                  talent-plan/tinykv#358",
        breaks: "a cut-off leader steps down",
        model: check_quorum,
        why: "check-quorum on; no proposal or crash needed",
        random: Random::ExhaustiveOnly(NO_RANDOM_LEADERSHIP),
    },
    Catalogued {
        mutant: Mutant::TransferToLaggingNode,
        about: "sends TimeoutNow before the transfer target holds the leader's whole log",
        seen_in: "canonical/raft#477 (TimeoutNow sent before the target persisted the log: failed \
                  transfers), rabbitmq/ra#636, camunda/camunda#62873",
        breaks: "a transfer target is up to date",
        model: one_transfer,
        why: "one transfer; no proposal or crash needed (the leader's no-op is what the target lacks)",
        random: Random::ExhaustiveOnly(NO_RANDOM_LEADERSHIP),
    },
    Catalogued {
        mutant: Mutant::StaleSnapshotRollsBack,
        about: "a follower installs a snapshot older than its commit index, moving commit back",
        seen_in: "databendlabs/openraft#560 (\"do not install a smaller snapshot\": applied state \
                  reverted) and #1930 (fix of #1892), eBay/NuRaft#407 (Jepsen: a snapshot installed \
                  behind the follower's commit)",
        breaks: "index order",
        model: stale_snapshots,
        why: "two snapshots of one leader must meet out of order: compaction twice, heartbeats, \
              one term, four messages in flight",
        random: Random::Finds { voters: 3 },
    },
    Catalogued {
        mutant: Mutant::SnapshotKeepsConflictingSuffix,
        about: "a follower takes a snapshot as matching its log on the index alone and keeps a \
                conflicting entry",
        seen_in: "scylladb/scylladb#9965 (a follower kept entries the snapshot's term contradicts \
                  and marked obsolete entries committed); the thesis's InstallSnapshot rule compares \
                  index and term",
        breaks: "state machine safety",
        model: conflicting_snapshot,
        why: "a second term's leader compacts over an entry the first term's leader holds; \
              heartbeats make it send the snapshot before the append that would fix the log",
        random: Random::Finds { voters: 3 },
    },
    Catalogued {
        mutant: Mutant::AppliedIgnoredOnRestart,
        about: "a restarted node ignores Config::applied and hands out applied entries again",
        seen_in: "shaj13/raft#27 (applied commands re-applied after restart), etcd-io/etcd#9809, \
                  qdrant/qdrant#737 (raft-rs `Config.applied` set to skip re-applied entries)",
        breaks: "snapshot consistency",
        model: compaction,
        why: "compaction on, so the model application keeps a durable state machine",
        random: Random::Finds { voters: 3 },
    },
    Catalogued {
        mutant: Mutant::ReadBeforeOwnTermCommit,
        about: "a new leader confirms reads before it commits an entry of its term, at a commit \
                index behind what the previous leader committed",
        seen_in: "etcd-io/etcd#7331 (a new leader's ReadIndex read a stale value), \
                  tikv/tikv#6340 (the same check missing in raftstore), RedisLabs/redisraft#22 \
                  (no no-op after election: stale reads)",
        breaks: "linearizable",
        model: clients_new_leader,
        why: "a write returns under the first leader; the second leader's read heartbeats go \
              out while its no-op is still in flight (four messages)",
        random: Random::Clients { voters: 3 },
    },
    Catalogued {
        mutant: Mutant::ReadQuorumOffByOne,
        about: "a leader confirms a read with one answer fewer than a majority (alone, in a \
                3-node cluster)",
        seen_in: "async-raft/async-raft, fixed in databendlabs/openraft d60f1e85 (the read \
                  quorum counted one short)",
        breaks: "linearizable",
        model: clients,
        why: "a deposed leader that does not know it yet confirms a read alone",
        random: Random::Clients { voters: 3 },
    },
    Catalogued {
        mutant: Mutant::ServeReadFromFollowerState,
        about: "a follower answers a read at its own commit index without asking the leader",
        seen_in: "xline-kv/Xline#870 (reads served from local state without ReadIndex), \
                  adjoint-io/raft#41 (stale reads after a restart), the Jepsen Redis-Raft report",
        breaks: "linearizable",
        model: clients,
        why: "a follower that has not heard of a returned write reads",
        random: Random::Clients { voters: 3 },
    },
    Catalogued {
        mutant: Mutant::LeaseReadWithoutCheckQuorum,
        about: "lease reads are accepted without check-quorum, so no voter honours the lease \
                and a deposed leader serves reads from it",
        seen_in: "etcd-io/etcd#8450 (fixed by #8567: CheckQuorum required for \
                  ReadOnlyLeaseBased), tikv/raft-rs#140 (fixed by #141)",
        breaks: "linearizable",
        model: lease_without_check_quorum,
        why: "lease reads without --check-quorum; two operations per client (one read buys \
              the lease, a later one misuses it)",
        random: Random::ExhaustiveOnly(LEASE_WINDOW),
    },
    Catalogued {
        mutant: Mutant::LeaseSurvivesTransfer,
        about: "a leader keeps serving reads from its lease after sending TimeoutNow, whose \
                campaign voters grant whatever leases they hold",
        seen_in: "tikv/tikv#1593 (fixed by #1595: clear the lease when TimeoutNow is sent), \
                  tikv/raft-rs#234 (a delayed TimeoutNow after the transfer was given up), \
                  databendlabs/openraft#1749 (lease reads during a transfer)",
        breaks: "linearizable",
        model: lease_transfer,
        why: "lease reads with --check-quorum, two operations per client, one leader transfer",
        random: Random::ExhaustiveOnly(NO_RANDOM_TRANSFERS),
    },
    Catalogued {
        mutant: Mutant::StaleReadContext,
        about: "a leader registers a new read under the newest read's number, so answers to \
                heartbeats sent before the read arrived confirm it",
        seen_in: "etcd-io/raft#397 (a duplicate read context confirmed by an old heartbeat \
                  response, found by Antithesis), etcd-io/etcd#20418",
        breaks: "linearizable",
        model: stale_read_context,
        why: "the first read's answer from a follower waits in the network over a leader \
              change and a write the new leader commits, then confirms the old leader's \
              second read; an ordered network with five messages in flight lets it wait",
        random: Random::ExhaustiveOnly(
            "the answer must wait over a whole election and a committed write while the old \
             leader hears nothing; 20,000 random cases on 3 nodes and 20,000 on 5 never \
             held one back that long",
        ),
    },
    Catalogued {
        mutant: Mutant::NewLeaderStacksConfChange,
        about: "a new leader accepts a membership change before it has applied its log, \
                stacking it on an earlier leader's uncommitted change",
        seen_in: "Ongaro, raft-dev 2015 (\"bug in single-server membership changes\"; the \
                  fix: a leader commits an entry of its term before a change); etcd's \
                  pendingConfIndex is the same rule",
        breaks: "one pending change",
        model: two_changes,
        why: "four nodes, three initial voters: two changes, the first left uncommitted by \
              its leader",
        random: Random::ExhaustiveOnly(NO_RANDOM_MEMBERSHIP),
    },
    Catalogued {
        mutant: Mutant::RemovedLeaderKeepsLeading,
        about: "a leader keeps leading after its own removal took effect",
        seen_in: "thesis §4.2.2 (a leader removed by C_new manages the cluster until C_new \
                  commits, then steps down)",
        breaks: "removed leaders step down",
        model: one_change,
        why: "one membership change, so that the leader may remove itself",
        random: Random::ExhaustiveOnly(NO_RANDOM_MEMBERSHIP),
    },
    Catalogued {
        mutant: Mutant::LearnerCountsInQuorum,
        about: "a leader counts a learner's acknowledgement toward the commit quorum",
        seen_in: "tikv/raft-rs#57 and #58 (learners answer vote requests, so every count \
                  must skip them); a loop over all progress entries counts them, as this one \
                  does for acknowledgements",
        breaks: "leader completeness",
        model: learner_change,
        why: "four nodes, three initial voters: a learner added, then one proposal",
        random: Random::ExhaustiveOnly(NO_RANDOM_MEMBERSHIP),
    },
    Catalogued {
        mutant: Mutant::JointQuorumUsesNewOnly,
        about: "a leader in a joint configuration commits with a majority of the new voters \
                only",
        seen_in: "databendlabs/openraft a5064712 (commit computed with the wrong \
                  configuration across the joint switch); thesis §4.3",
        breaks: "leader completeness",
        model: joint_change,
        why: "four nodes, three initial voters: one change through a joint configuration \
              (its leave is the entry committed by the new majority alone)",
        random: Random::ExhaustiveOnly(NO_RANDOM_MEMBERSHIP),
    },
];

/// Why the random event suite cannot catch a membership bug.
const NO_RANDOM_MEMBERSHIP: &str = "the random events change no membership yet";

/// Why the client suite misses a lease honoured by no voter (20,000 cases
/// on 3 nodes found nothing).
const LEASE_WINDOW: &str = "a new leader must be elected and a write acknowledged within the \
                            election period the old leader's lease lasts; the random ticks (often \
                            several at once) rarely leave that window open";

/// Why the random event suite cannot catch a bug that needs a transfer.
const NO_RANDOM_TRANSFERS: &str = "the random events request no leader transfer";

/// Why the random event suite does not catch the leadership mutants yet.
const NO_RANDOM_LEADERSHIP: &str =
    "the random event suite does not switch on pre-vote, check-quorum or transfers yet";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::properties::{property, Expect};

    #[test]
    fn every_mutant_is_catalogued_once_in_order() {
        let listed: Vec<Mutant> = CATALOGUE.iter().map(|c| c.mutant).collect();
        assert_eq!(listed, Mutant::ALL.to_vec());
    }

    #[test]
    fn each_entry_names_an_always_property() {
        for c in CATALOGUE {
            let p = property(c.breaks)
                .unwrap_or_else(|| panic!("{}: no property {}", c.mutant, c.breaks));
            assert_eq!(p.expect(), Expect::Always, "{}", c.mutant);
            assert_eq!(c.config().mutant, Some(c.mutant));
        }
    }
}
