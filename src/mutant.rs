//! Known Raft bugs, compiled in only with the `mutants` cargo feature, so that
//! the verification harness can show it catches each one.
//!
//! A mutant is switched on per node with [`crate::Config::mutant`] and read by
//! the one handler it breaks, through the crate-internal `mutant!` macro.
//! Without the feature this module, the `Config` field and the [`Mutant`] type
//! do not exist and `mutant!` is the constant `false`, so every mutant branch is
//! dead code the compiler removes: a normal build carries no mutant code.
//!
//! The engine's internal `debug_assert!`s describe the *correct* engine, so they
//! are skipped while a mutant is on ((`any`)); the harness's properties judge a
//! mutated engine. `ruft-models` keeps the catalogue of how each mutant is
//! caught (`check list`, `docs/mutants.md`).
//!
//! ```
//! use ruft::{Config, Mutant, NodeId};
//! let mut cfg = Config::new(NodeId(1), [NodeId(1), NodeId(2), NodeId(3)]);
//! cfg.mutant = Mutant::from_name("quorum-half");
//! assert_eq!(cfg.mutant, Some(Mutant::QuorumHalf));
//! assert_eq!(Mutant::QuorumHalf.name(), "quorum-half");
//! ```

use std::fmt;

/// One deliberate bug. Each variant names what the broken engine does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mutant {
    /// RequestVote: grants a vote even after voting for another candidate in
    /// the same term (§5.2).
    VoteTwice,
    /// RequestVote: grants without the log up-to-date check (§5.4.1).
    VoteWithoutLogCheck,
    /// RequestVote: up to date means "last index at least ours", ignoring the
    /// last term (§5.4.1 compares terms first).
    UpToDateByIndex,
    /// Leader: commits an entry of an earlier term once a quorum holds it,
    /// without an entry of its own term (§5.4.2, figure 8).
    CommitOldTermByCount,
    /// AppendEntries: keeps an existing entry that conflicts with the
    /// leader's (same index, other term) instead of deleting it and all that
    /// follow (§5.3).
    KeepConflictingEntries,
    /// AppendEntries: deletes everything after the appended entries even when
    /// nothing conflicts, so a late, reordered append removes entries the
    /// follower already acknowledged (§5.3: truncate only on a conflict).
    TruncateWithoutConflict,
    /// Restart: the vote of the current term is not read back from storage
    /// (the bug in stateright's bundled Raft example).
    ForgetVoteOnRestart,
    /// Quorum is `n / 2` instead of `n / 2 + 1` voters.
    QuorumHalf,
    /// AppendEntries from an earlier term is handled as if current, instead
    /// of being dropped by the term gate (§5.1).
    AcceptStaleAppend,
    /// A follower commits up to `min(leader commit, last index of its whole
    /// log)` instead of `min(leader commit, last entry known to match the
    /// leader's)`, so it can commit a stale suffix the leader never matched
    /// (§5.3, figure 2). In ruft the bound travels in two places, both broken:
    /// AppendEntries (last new entry) and Heartbeat (the leader sends its own
    /// commit index instead of `min(match, commit)`).
    CommitBeyondMatch,
    /// Candidate: counts a repeated grant (a duplicated RequestVote response)
    /// again, as a vote counter would; ruft keeps a set of voters.
    CountDuplicateVotes,
    /// Ready: hands out a node's messages (votes, acks) before the entries and
    /// HardState they promise, in a Ready of their own, so the application
    /// sends them before the write is durable.
    AckBeforePersist,
    /// Candidate: counts a vote granted in an earlier term, delivered late,
    /// instead of dropping it at the term gate (§5.1).
    CountStaleVotes,
    /// Candidate: the new term and the vote for itself are never handed out
    /// in a Ready's HardState, so its RequestVotes leave before (or without)
    /// them being durable (Figure 2: currentTerm and votedFor are persistent).
    CampaignWithoutPersisting,
    /// Pre-candidate: enters the next term when it asks for pre-votes, so a
    /// node cut off from the cluster still bumps the term on every timeout
    /// (the disruption pre-vote exists to stop, §9.6).
    PreVoteBumpsTerm,
    /// Voter: grants a pre-vote without the up-to-date check (§5.4.1), so a
    /// node with a stale log passes pre-vote and disrupts the leader.
    PreVoteIgnoresLog,
    /// Leader: counts its own answer twice in check-quorum, so a leader cut
    /// off from a 3-node cluster never steps down (§6.2).
    CheckQuorumCountsSelfTwice,
    /// Leader: sends TimeoutNow without waiting for the transfer target to
    /// hold its whole log (§3.10).
    TransferToLaggingNode,
    /// Follower: installs a snapshot older than its commit index, which moves
    /// commit and the state machine backwards (openraft ac3e5a89, the fix of
    /// openraft#1892).
    StaleSnapshotRollsBack,
    /// Follower: takes a snapshot as matching its log when it holds an entry
    /// at the snapshot's index, whatever its term, so it keeps a conflicting
    /// suffix and commits it (§5.3 applied to §7's restore rule).
    SnapshotKeepsConflictingSuffix,
    /// Restart: ignores `Config::applied` and hands out again entries the
    /// durable state machine already applied (etcd's `Config.Applied`
    /// exists for this; applying twice breaks any non-idempotent command).
    AppliedIgnoredOnRestart,
    /// Leader: confirms reads before it has committed an entry of its own
    /// term, at a commit index that may lag an earlier leader's
    /// (etcd-io/etcd#7331; thesis §6.4 step 1).
    ReadBeforeOwnTermCommit,
    /// Leader: confirms a read with one answer fewer than a majority, its own
    /// included (async-raft → openraft d60f1e85).
    ReadQuorumOffByOne,
    /// Follower: answers its application's read at once at its own commit
    /// index instead of asking the leader (a stale read from a lagging or
    /// partitioned follower).
    ServeReadFromFollowerState,
    /// Config: lease reads are accepted without check-quorum, so nothing
    /// stops a deposed leader serving reads from its lease.
    LeaseReadWithoutCheckQuorum,
    /// Leader: keeps serving reads from its lease after it asked a follower
    /// to campaign at once (leader transfer), although voters grant that
    /// campaign whatever leases they hold.
    LeaseSurvivesTransfer,
    /// Leader: registers a new read under the number of the newest read so
    /// far, so answers to heartbeats sent before the read arrived confirm
    /// it; a deposed leader that has not heard of its successor then serves
    /// a read that misses a write the successor committed (etcd-io/raft#397:
    /// a duplicate read context confirmed by an old heartbeat response).
    StaleReadContext,
    /// New leader: accepts a membership change before it has applied its
    /// whole log at election, so it can stack a change on one an earlier
    /// leader left uncommitted; nodes two changes apart may then form
    /// disjoint quorums (Ongaro, raft-dev 2015, the single-server change
    /// bug; the fix, here and in etcd's `pendingConfIndex`, is the rule this
    /// mutant breaks).
    NewLeaderStacksConfChange,
    /// Leader: keeps leading after a change that removed or demoted it took
    /// effect (thesis §4.2.2: it must step down).
    RemovedLeaderKeepsLeading,
    /// Leader: counts learners' acknowledgements toward the commit quorum,
    /// as a loop over every tracked progress would, against a quorum sized
    /// for the voters (§4.2.1: learners never count).
    LearnerCountsInQuorum,
    /// Leader in a joint configuration: commits with a majority of the new
    /// voters only, not also of the old ones (the class of openraft
    /// a5064712: a commit computed in the wrong configuration across the
    /// joint switch; §4.3 needs both majorities).
    JointQuorumUsesNewOnly,
}

impl Mutant {
    /// Every mutant, in catalogue order.
    pub const ALL: [Mutant; 31] = [
        Mutant::VoteTwice,
        Mutant::VoteWithoutLogCheck,
        Mutant::UpToDateByIndex,
        Mutant::CommitOldTermByCount,
        Mutant::KeepConflictingEntries,
        Mutant::TruncateWithoutConflict,
        Mutant::ForgetVoteOnRestart,
        Mutant::QuorumHalf,
        Mutant::AcceptStaleAppend,
        Mutant::CommitBeyondMatch,
        Mutant::CountDuplicateVotes,
        Mutant::AckBeforePersist,
        Mutant::CountStaleVotes,
        Mutant::CampaignWithoutPersisting,
        Mutant::PreVoteBumpsTerm,
        Mutant::PreVoteIgnoresLog,
        Mutant::CheckQuorumCountsSelfTwice,
        Mutant::TransferToLaggingNode,
        Mutant::StaleSnapshotRollsBack,
        Mutant::SnapshotKeepsConflictingSuffix,
        Mutant::AppliedIgnoredOnRestart,
        Mutant::ReadBeforeOwnTermCommit,
        Mutant::ReadQuorumOffByOne,
        Mutant::ServeReadFromFollowerState,
        Mutant::LeaseReadWithoutCheckQuorum,
        Mutant::LeaseSurvivesTransfer,
        Mutant::StaleReadContext,
        Mutant::NewLeaderStacksConfChange,
        Mutant::RemovedLeaderKeepsLeading,
        Mutant::LearnerCountsInQuorum,
        Mutant::JointQuorumUsesNewOnly,
    ];

    /// The name used on the command line (`check --mutant NAME`).
    pub fn name(self) -> &'static str {
        match self {
            Mutant::VoteTwice => "vote-twice",
            Mutant::VoteWithoutLogCheck => "vote-without-log-check",
            Mutant::UpToDateByIndex => "up-to-date-by-index",
            Mutant::CommitOldTermByCount => "commit-old-term-by-count",
            Mutant::KeepConflictingEntries => "keep-conflicting-entries",
            Mutant::TruncateWithoutConflict => "truncate-without-conflict",
            Mutant::ForgetVoteOnRestart => "forget-vote-on-restart",
            Mutant::QuorumHalf => "quorum-half",
            Mutant::AcceptStaleAppend => "accept-stale-append",
            Mutant::CommitBeyondMatch => "commit-beyond-match",
            Mutant::CountDuplicateVotes => "count-duplicate-votes",
            Mutant::AckBeforePersist => "ack-before-persist",
            Mutant::CountStaleVotes => "count-stale-votes",
            Mutant::CampaignWithoutPersisting => "campaign-without-persisting",
            Mutant::PreVoteBumpsTerm => "pre-vote-bumps-term",
            Mutant::PreVoteIgnoresLog => "pre-vote-ignores-log",
            Mutant::CheckQuorumCountsSelfTwice => "check-quorum-counts-self-twice",
            Mutant::TransferToLaggingNode => "transfer-to-lagging-node",
            Mutant::StaleSnapshotRollsBack => "stale-snapshot-rolls-back",
            Mutant::SnapshotKeepsConflictingSuffix => "snapshot-keeps-conflicting-suffix",
            Mutant::AppliedIgnoredOnRestart => "applied-ignored-on-restart",
            Mutant::ReadBeforeOwnTermCommit => "read-before-own-term-commit",
            Mutant::ReadQuorumOffByOne => "read-quorum-off-by-one",
            Mutant::ServeReadFromFollowerState => "serve-read-from-follower-state",
            Mutant::LeaseReadWithoutCheckQuorum => "lease-read-without-check-quorum",
            Mutant::LeaseSurvivesTransfer => "lease-survives-transfer",
            Mutant::StaleReadContext => "stale-read-context",
            Mutant::NewLeaderStacksConfChange => "single-server-change-without-own-term-commit",
            Mutant::RemovedLeaderKeepsLeading => "removed-leader-keeps-leading",
            Mutant::LearnerCountsInQuorum => "learner-counts-in-quorum",
            Mutant::JointQuorumUsesNewOnly => "joint-quorum-uses-new-only",
        }
    }

    /// The mutant called `name`, if any.
    pub fn from_name(name: &str) -> Option<Mutant> {
        Mutant::ALL.into_iter().find(|m| m.name() == name)
    }
}

impl fmt::Display for Mutant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether any mutant is on in `config` (internal asserts are skipped then).
pub(crate) fn any(config: &crate::Config) -> bool {
    config.mutant.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_round_trip() {
        for m in Mutant::ALL {
            assert_eq!(Mutant::from_name(m.name()), Some(m));
        }
        let mut names: Vec<_> = Mutant::ALL.iter().map(|m| m.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Mutant::ALL.len());
        assert_eq!(Mutant::from_name("no-such-bug"), None);
    }

    #[test]
    fn a_mutant_displays_its_name_and_switches_the_soundness_checks_off() {
        let mut config = crate::Config::new(crate::NodeId(1), [crate::NodeId(1)]);
        assert!(!any(&config), "no mutant: the engine asserts its rules");
        for m in Mutant::ALL {
            assert_eq!(m.to_string(), m.name());
            config.mutant = Some(m);
            assert!(any(&config), "{m}: the harness judges it instead");
        }
    }
}
