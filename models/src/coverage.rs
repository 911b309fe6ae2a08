//! The engine coverage report of `check ... --coverage`: which of ruft's code
//! probes ([`ruft::probe`]) a search reached, and, for those it did not, why.
//!
//! The library counts hits of each probe in a process-wide table (ruft's
//! `probes` feature, which this crate enables). `check` resets the table, runs
//! the search and prints [`Report`] after the property table. [`EXPLAINED`]
//! names every probe the default run (`check bfs --nodes 3`) does not reach,
//! why, and what does reach it; `models/tests/coverage.rs` checks both halves,
//! so an explanation cannot go stale and no probe goes unexplained. This
//! module only reads counters: it has no Raft logic.

use ruft::probe::{self, Group, Probe};
use serde_json::{json, Value};

/// What reaches a probe the default run does not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// A `check` run: its arguments after `check` (`bfs --nodes 1`).
    Check(&'static str),
    /// Only input the model never produces (a caller stepping a local event
    /// into the wrong role, a hostile peer): `models/tests/coverage.rs` drives
    /// a [`crate::driver::Cluster`] into it, as this scenario says.
    Driver(&'static str),
}

impl Reach {
    /// How the report prints it.
    pub fn describe(self) -> String {
        match self {
            Reach::Check(args) => format!("check {args}"),
            Reach::Driver(how) => format!("driver only: {how}"),
        }
    }
}

/// A probe the default run does not reach: why, and what reaches it.
#[derive(Clone, Copy, Debug)]
pub struct Gap {
    /// The probe.
    pub probe: Probe,
    /// Why the default bounds never reach it.
    pub why: &'static str,
    /// The run or scenario that does.
    pub reach: Reach,
}

/// Every probe that `check bfs --nodes 3` (the default bounds) leaves
/// unreached, with the reason and what reaches it instead.
pub const EXPLAINED: &[Gap] = &[
    // Heartbeats: the default run has no heartbeat timers (`--heartbeats`
    // quadruples the states), so a leader never resends anything.
    Gap {
        probe: Probe::OnBeat,
        why: "leaders' heartbeat timers fire only with --heartbeats",
        reach: HEARTBEATS,
    },
    Gap {
        probe: Probe::OnHeartbeat,
        why: "only a Beat sends heartbeats, and no heartbeat timer fires",
        reach: HEARTBEATS,
    },
    Gap {
        probe: Probe::OnHeartbeatResponse,
        why: "only a Beat sends heartbeats, and no heartbeat timer fires",
        reach: HEARTBEATS,
    },
    Gap {
        probe: Probe::FollowerCommitsFromHeartbeat,
        why: "no heartbeats: followers learn the commit index from appends only",
        reach: HEARTBEATS,
    },
    Gap {
        probe: Probe::HeartbeatResendsAppend,
        why: "needs heartbeat answers",
        reach: HEARTBEATS,
    },
    Gap {
        probe: Probe::HeartbeatUnpausesProbe,
        why: "needs heartbeat answers; a probe resumes on its own answer otherwise",
        reach: HEARTBEATS,
    },
    Gap {
        probe: Probe::AppendSentEmpty,
        why: "a leader sends an append with no entries only to a lagging follower that \
              answered a heartbeat; every other append carries entries",
        reach: HEARTBEATS,
    },
    Gap {
        probe: Probe::AppendNothingNew,
        why: "nothing is resent without heartbeats, so every append a follower accepts \
              carries an entry it lacks",
        reach: HEARTBEATS,
    },
    Gap {
        probe: Probe::AppendBelowCommit,
        why: "a leader's appends start at or after every follower's commit index, and \
              nothing is resent or delivered twice, so no append arrives below it",
        reach: HEARTBEATS,
    },
    Gap {
        probe: Probe::DropStaleResponse,
        why: "with one proposal and no resends a leader has one append in flight per \
              follower, so no refusal is about an append it has moved past",
        reach: HEARTBEATS,
    },
    Gap {
        probe: Probe::StaleRejectionCheap,
        why: "with one proposal and no resends no refusal is stale (see drop-stale-response)",
        reach: HEARTBEATS,
    },
    Gap {
        probe: Probe::ProgressReplicateToProbe,
        why: "with one proposal and no resends a replicating follower holds everything \
              before the one append in flight to it, so it never refuses",
        reach: HEARTBEATS,
    },
    Gap {
        probe: Probe::DropHeartbeatResponseNotLeader,
        why: "needs heartbeats and a leader that restarts in its term before the answer",
        reach: Reach::Check("bfs --nodes 3 --heartbeats --max-proposals 0 --symmetry"),
    },
    // Bounds other than heartbeats.
    Gap {
        probe: Probe::CommitWaitsForOwnTerm,
        why: "a new leader sends its older entries and its no-op in one append, so a \
              quorum that matches the old entries also matches the no-op; \
              --max-append-entries 1 sends them apart",
        reach: Reach::Check("bfs --nodes 3 --max-append-entries 1 --max-crashes 0 --symmetry"),
    },
    Gap {
        probe: Probe::ElectedAlone,
        why: "needs a single voter",
        reach: Reach::Check("bfs --nodes 1"),
    },
    Gap {
        probe: Probe::RejectPrevTermMismatch,
        why: "a leader's first probe follows its own last entry; a follower holds another \
              term at that index only after leaders of two earlier terms wrote it, which \
              needs three terms and six messages in flight",
        reach: Reach::Check(
            "bfs --nodes 3 --max-term 3 --max-proposals 0 --max-crashes 0 --max-in-flight 6 \
             --network ordered --symmetry",
        ),
    },
    Gap {
        probe: Probe::AppendTruncateExtend,
        why: "needs a follower holding two unpersisted entries when a newer leader's \
              conflicting entry arrives at the second: asynchronous writes and either \
              five voters or three terms, beyond what the checker exhausts in minutes",
        reach: Reach::Driver("five voters, two leaders' appends to a follower holding its write"),
    },
    // Calls and messages that neither the model nor an honest cluster makes.
    Gap {
        probe: Probe::DropHupOnLeader,
        why: "no election timer is armed on a leader, and Node::tick gives a leader Beat",
        reach: Reach::Driver("Node::campaign on a leader"),
    },
    Gap {
        probe: Probe::DropBeatNotLeader,
        why: "heartbeat timers are armed on leaders only, and Node::tick gives others Hup",
        reach: Reach::Driver("Node::heartbeat on a follower"),
    },
    Gap {
        probe: Probe::DropAppendOnLeader,
        why: "an append of a leader's own term from another node means two leaders in \
              one term, which election safety rules out",
        reach: Reach::Driver("a forged AppendEntries to a leader"),
    },
    Gap {
        probe: Probe::DropHeartbeatOnLeader,
        why: "a heartbeat of a leader's own term from another node means two leaders in \
              one term, which election safety rules out",
        reach: Reach::Driver("a forged Heartbeat to a leader"),
    },
    Gap {
        probe: Probe::DropTermsExhausted,
        why: "needs a node at term u64::MAX, which no message can bring it to",
        reach: Reach::Driver("a node restarted from a disk at term u64::MAX, then Node::campaign"),
    },
    Gap {
        probe: Probe::DropIndexesExhausted,
        why: "needs a log ending at index u64::MAX",
        reach: Reach::Driver(
            "a node restarted over a snapshot at index u64::MAX, then Node::campaign",
        ),
    },
    Gap {
        probe: Probe::DropTransferToSelf,
        why: "the model asks a leader to hand over to another voter only",
        reach: Reach::Driver("Node::transfer_leader to the leader itself"),
    },
    Gap {
        probe: Probe::DropAlreadyTransferring,
        why: "the model asks for a transfer only while none is under way",
        reach: Reach::Driver("Node::transfer_leader to the same target twice"),
    },
    Gap {
        probe: Probe::DropCheckQuorumNotLeader,
        why: "Node::tick gives CheckQuorum to leaders only, and the model arms the \
              election-period timer on leaders only",
        reach: Reach::Driver("a CheckQuorum stepped into a follower"),
    },
    // Pre-vote (§9.6) is off by default: `--pre-vote` switches it on.
    Gap {
        probe: Probe::OnRequestPreVote,
        why: "pre-vote is off by default (--pre-vote), so nobody asks for pre-votes",
        reach: PRE_VOTE,
    },
    Gap {
        probe: Probe::OnRequestPreVoteResponse,
        why: "pre-vote is off by default (--pre-vote), so nobody asks for pre-votes",
        reach: PRE_VOTE,
    },
    Gap {
        probe: Probe::BecomePreCandidate,
        why: "pre-vote is off by default (--pre-vote): a timed-out node campaigns at once",
        reach: PRE_VOTE,
    },
    Gap {
        probe: Probe::BecomeCandidateFromPreCandidate,
        why: "pre-vote is off by default (--pre-vote), so there are no pre-candidates",
        reach: PRE_VOTE,
    },
    Gap {
        probe: Probe::BecomeFollowerFromPreCandidate,
        why: "pre-vote is off by default (--pre-vote), so there are no pre-candidates",
        reach: PRE_VOTE,
    },
    Gap {
        probe: Probe::PreVoteGranted,
        why: "pre-vote is off by default (--pre-vote), so nobody asks for pre-votes",
        reach: PRE_VOTE,
    },
    Gap {
        probe: Probe::PreVoteWon,
        why: "pre-vote is off by default (--pre-vote), so there are no pre-candidates",
        reach: PRE_VOTE,
    },
    Gap {
        probe: Probe::PreVoteLost,
        why: "pre-vote is off by default (--pre-vote), so there are no pre-candidates",
        reach: PRE_VOTE,
    },
    Gap {
        probe: Probe::DropPreVoteNotPreCandidate,
        why: "pre-vote is off by default (--pre-vote), so no pre-vote answer arrives \
              after its pre-vote was decided",
        reach: PRE_VOTE,
    },
    Gap {
        probe: Probe::StalePreVoteRefused,
        why: "pre-vote is off by default (--pre-vote); and a pre-vote request asks for its \
              sender's next term, so it is stale only at a node two terms ahead: its sender \
              stays behind while the other two pass two elections, which three messages \
              in flight leave room for only with a crash as well (or --max-in-flight 4)",
        reach: PRE_VOTE,
    },
    // Check-quorum and leader stickiness (§6.2) are off by default:
    // `--check-quorum` switches them on.
    Gap {
        probe: Probe::OnCheckQuorum,
        why: "a leader's election period ends (CheckQuorum) only with --check-quorum or \
              while a transfer is under way, and both are off by default",
        reach: CHECK_QUORUM,
    },
    Gap {
        probe: Probe::LeaderLostQuorum,
        why: "check-quorum is off by default (--check-quorum), so a leader never counts \
              who answered it",
        reach: CHECK_QUORUM,
    },
    Gap {
        probe: Probe::DropLeaderLease,
        why: "check-quorum is off by default (--check-quorum), and without it no node \
              holds a leader lease that makes it ignore a vote request",
        reach: CHECK_QUORUM,
    },
    Gap {
        probe: Probe::StaleLeaderAnswered,
        why: "an old leader's append or heartbeat is answered only with pre-vote or \
              check-quorum, both off by default; without them it is dropped silently",
        reach: CHECK_QUORUM,
    },
    // Leader transfer (§3.10): nobody asks for one without `--transfers N`.
    Gap {
        probe: Probe::OnTransferLeader,
        why: "no transfer is asked for without --transfers",
        reach: TRANSFERS,
    },
    Gap {
        probe: Probe::TimeoutNowSent,
        why: "no transfer is asked for without --transfers",
        reach: TRANSFERS,
    },
    Gap {
        probe: Probe::OnTimeoutNow,
        why: "only a transfer sends TimeoutNow, and none is asked for without --transfers",
        reach: TRANSFERS,
    },
    Gap {
        probe: Probe::TransferVoteRequested,
        why: "only a transfer's target asks for votes past leader stickiness, and no \
              transfer is asked for without --transfers",
        reach: TRANSFERS,
    },
    Gap {
        probe: Probe::TransferTimedOut,
        why: "needs a transfer (--transfers) still under way when the leader's next \
              election period ends",
        reach: TRANSFERS,
    },
    Gap {
        probe: Probe::DropTimeoutNowNotFollower,
        why: "needs a transfer (--transfers) whose target left the follower role in the \
              leader's term before TimeoutNow arrived: only pre-vote does that (it becomes \
              a pre-candidate; a candidate has a newer term, where TimeoutNow is stale), \
              so the transfer run has pre-vote on",
        reach: TRANSFERS,
    },
    // Snapshots (§7): nothing is compacted without `--max-compactions N`.
    Gap {
        probe: Probe::OnInstallSnapshot,
        why: "no log is compacted without --max-compactions, so no snapshot is sent",
        reach: SNAPSHOTS,
    },
    Gap {
        probe: Probe::SnapshotSent,
        why: "no log is compacted without --max-compactions",
        reach: SNAPSHOTS,
    },
    Gap {
        probe: Probe::ProgressToSnapshot,
        why: "no log is compacted without --max-compactions",
        reach: SNAPSHOTS,
    },
    Gap {
        probe: Probe::ProgressSnapshotToReplicate,
        why: "no snapshot is sent without --max-compactions",
        reach: SNAPSHOTS,
    },
    Gap {
        probe: Probe::SnapshotRestored,
        why: "no snapshot is sent without --max-compactions",
        reach: SNAPSHOTS,
    },
    Gap {
        probe: Probe::SnapshotMatchesLog,
        why: "needs a snapshot sent to a follower that holds its last entry (a heartbeat \
              answer resends while the follower's ack is on its way): --max-compactions \
              and --heartbeats",
        reach: SNAPSHOTS,
    },
    Gap {
        probe: Probe::SnapshotStale,
        why: "needs a snapshot arriving after the follower committed past it: \
              --max-compactions and --heartbeats",
        reach: SNAPSHOTS,
    },
    Gap {
        probe: Probe::OnReportSnapshot,
        why: "only a leader waiting for a snapshot gets a transport report, and none is \
              sent without --max-compactions",
        reach: SNAPSHOTS,
    },
    Gap {
        probe: Probe::SnapshotReportedFailed,
        why: "only a leader waiting for a snapshot gets a transport report",
        reach: SNAPSHOTS,
    },
    Gap {
        probe: Probe::HintBelowSnapshot,
        why: "no log is compacted without --max-compactions",
        reach: RESTART_COMPACTED,
    },
    Gap {
        probe: Probe::OpenedCompacted,
        why: "no log is compacted without --max-compactions",
        reach: RESTART_COMPACTED,
    },
    Gap {
        probe: Probe::SnapshotReportedDelivered,
        why: "the model's transport reports only failures: a delivered snapshot is \
              acknowledged by the follower anyway, and a Delivered report only moves `next`",
        reach: Reach::Driver("Node::report_snapshot(Delivered) while a snapshot is pending"),
    },
    Gap {
        probe: Probe::DropSnapshotOnLeader,
        why: "only a second leader of the same term sends a leader an InstallSnapshot (§5.2)",
        reach: Reach::Driver("a forged InstallSnapshot to a leader"),
    },
    Gap {
        probe: Probe::DropReportSnapshotNotLeader,
        why: "the model's transport reports only to a leader waiting for a snapshot",
        reach: Reach::Driver("Node::report_snapshot on a follower"),
    },
    // Reads (§6.4): the default run has no clients; the coverage driver reaches these.
    Gap {
        probe: Probe::OnReadIndex,
        why: "the default run has no clients (check --clients N)",
        reach: Reach::Driver("a leader's and a follower's application asking for reads"),
    },
    Gap {
        probe: Probe::OnReadIndexForward,
        why: "the default run has no clients (check --clients N)",
        reach: Reach::Driver("a follower forwarding its application's read"),
    },
    Gap {
        probe: Probe::OnReadIndexResponse,
        why: "the default run has no clients (check --clients N)",
        reach: Reach::Driver("the leader answering a forwarded read"),
    },
    Gap {
        probe: Probe::DropReadsFull,
        why: "the default run has no clients (check --clients N)",
        reach: Reach::Driver("a read forwarded to a leader holding reads_max reads"),
    },
    Gap {
        probe: Probe::DropReadForwardNotLeader,
        why: "the default run has no clients (check --clients N)",
        reach: Reach::Driver("a forwarded read stepped into a follower"),
    },
    Gap {
        probe: Probe::DropReadResponseOnLeader,
        why: "only a second leader of the same term answers a leader's read (§5.2)",
        reach: Reach::Driver("a forged read answer to a leader"),
    },
    Gap {
        probe: Probe::ReadForwarded,
        why: "the default run has no clients (check --clients N)",
        reach: Reach::Driver("a follower forwarding its application's read"),
    },
    Gap {
        probe: Probe::ReadsFull,
        why: "the default run has no clients (check --clients N)",
        reach: Reach::Driver("a leader refusing a read beyond reads_max"),
    },
    Gap {
        probe: Probe::ReadWaitsForOwnTermCommit,
        why: "the default run has no clients (check --clients N)",
        reach: Reach::Driver("a read on a leader whose no-op is not committed"),
    },
    Gap {
        probe: Probe::PostponedReadsReleased,
        why: "the default run has no clients (check --clients N)",
        reach: Reach::Driver("the no-op commits after reads were held back"),
    },
    Gap {
        probe: Probe::ReadServedByLease,
        why: "the default run has no clients (check --clients N)",
        reach: Reach::Driver("a read on a leader with ReadMode::Lease"),
    },
    Gap {
        probe: Probe::ReadLeaseForfeited,
        why: "the default run has no clients and no transfers",
        reach: Reach::Driver("a lease-reading leader transferring leadership"),
    },
    Gap {
        probe: Probe::DropStartupLease,
        why: "lease reads are off by default (check --reads lease)",
        reach: Reach::Driver("a vote request to a lease-reading node that just started"),
    },
    Gap {
        probe: Probe::ReadConfirmedByQuorum,
        why: "the default run has no clients (check --clients N)",
        reach: Reach::Driver("a quorum answering the heartbeat sent after a read"),
    },
    Gap {
        probe: Probe::PendingReadsDroppedOnStepDown,
        why: "the default run has no clients (check --clients N)",
        reach: Reach::Driver("a leader deposed while its read is unconfirmed"),
    },
    // Membership changes (thesis ch. 4): the default run changes no
    // membership (check --conf-changes N); the coverage driver reaches these.
    Gap {
        probe: Probe::OnProposeConfChange,
        why: "the default run changes no membership (check --conf-changes N)",
        reach: Reach::Driver("a leader asked to add a voter"),
    },
    Gap {
        probe: Probe::ConfChangeRefusedPending,
        why: "the default run changes no membership (check --conf-changes N)",
        reach: Reach::Driver("a second change asked for while the first is pending"),
    },
    Gap {
        probe: Probe::ConfChangeApplied,
        why: "the default run changes no membership (check --conf-changes N)",
        reach: Reach::Driver("an added voter's entry applied"),
    },
    Gap {
        probe: Probe::JointEntered,
        why: "the default run changes no membership (check --conf-changes N --joint)",
        reach: Reach::Driver("a joint change applied"),
    },
    Gap {
        probe: Probe::JointLeft,
        why: "the default run changes no membership (check --conf-changes N --joint)",
        reach: Reach::Driver("the leave a joint change's leader proposed on its own, applied"),
    },
    Gap {
        probe: Probe::AutoLeaveProposed,
        why: "the default run changes no membership (check --conf-changes N --joint)",
        reach: Reach::Driver("a leader applying a joint change with auto-leave"),
    },
    Gap {
        probe: Probe::TransferAbortedByConfChange,
        why: "the default run changes no membership and has no transfers",
        reach: Reach::Driver("a transfer under way to a node whose removal applies"),
    },
    Gap {
        probe: Probe::RemovedLeaderStepsDown,
        why: "the default run changes no membership (check --conf-changes N)",
        reach: Reach::Driver("a leader applying its own removal"),
    },
    Gap {
        probe: Probe::DropNotAVoter,
        why: "every node of the default run is a voter",
        reach: Reach::Driver("a node outside the initial voters asked to campaign"),
    },
    Gap {
        probe: Probe::DropSenderNotVoter,
        why: "every node of the default run is a voter",
        reach: Reach::Driver("a removed node's vote request"),
    },
    Gap {
        probe: Probe::DropSenderNotMember,
        why: "every node of the default run is a member",
        reach: Reach::Driver("a removed node's heartbeat answer"),
    },
    Gap {
        probe: Probe::DropConfChangeUnapplied,
        why: "the default run changes no membership (check --conf-changes N)",
        reach: Reach::Driver("a campaign while a committed change waits in a Ready"),
    },
];

/// The run that reaches what snapshots reach: two compactions in one term
/// with heartbeats (resends), no crash (47,142 states with symmetry reduction).
const SNAPSHOTS: Reach = Reach::Check(
    "bfs --nodes 3 --heartbeats --max-term 1 --max-compactions 2 --max-crashes 0 \
     --max-in-flight 3 --symmetry",
);

/// The run in which a node restarts over a compacted log: one compaction of
/// the leader's no-op, one crash (59,614 states with symmetry reduction); a
/// follower that restarted empty sends a hint below the leader's snapshot.
const RESTART_COMPACTED: Reach =
    Reach::Check("bfs --nodes 3 --max-compactions 1 --max-proposals 0 --symmetry");

/// The run that reaches what heartbeats reach: `--heartbeats` without crashes
/// (52 k states with symmetry reduction).
const HEARTBEATS: Reach = Reach::Check("bfs --nodes 3 --heartbeats --max-crashes 0 --symmetry");

/// The run that reaches what pre-vote reaches: two rounds of asking for
/// pre-votes (the term bound does not bound them), no proposals, one crash
/// (15,880 states with symmetry reduction; the crash is for
/// `stale-pre-vote-refused`).
const PRE_VOTE: Reach =
    Reach::Check("bfs --nodes 3 --pre-vote --max-pre-votes 2 --max-proposals 0 --symmetry");

/// The run that reaches what check-quorum reaches: neither proposals nor
/// crashes (39,268 states with symmetry reduction).
const CHECK_QUORUM: Reach =
    Reach::Check("bfs --nodes 3 --check-quorum --max-proposals 0 --max-crashes 0 --symmetry");

/// The run that reaches what leader transfer reaches: one transfer, with
/// pre-vote (two rounds) so that a target can be a pre-candidate when
/// TimeoutNow arrives, neither proposals nor crashes (14,744 states with
/// symmetry reduction).
const TRANSFERS: Reach = Reach::Check(
    "bfs --nodes 3 --pre-vote --max-pre-votes 2 --transfers 1 --max-proposals 0 --max-crashes 0 \
     --symmetry",
);

/// The entry of [`EXPLAINED`] for `probe`, if any.
pub fn explained(probe: Probe) -> Option<&'static Gap> {
    EXPLAINED.iter().find(|g| g.probe == probe)
}

/// A coverage run in progress: started by [`start`], ended by [`Recording::finish`].
#[must_use = "finish the recording to get the report"]
pub struct Recording(());

/// Starts recording: sets every probe's count back to zero. The table is
/// shared by the whole process, so only one recording should run at a time.
pub fn start() -> Recording {
    probe::reset();
    Recording(())
}

impl Recording {
    /// The hits since [`start`].
    pub fn finish(self) -> Report {
        Report {
            hits: probe::hits(),
        }
    }
}

/// Every probe with its hit count, in [`Probe::ALL`] order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// `(probe, hits)` for every probe.
    pub hits: Vec<(Probe, u64)>,
}

impl Report {
    /// The hits of `probe`.
    pub fn count(&self, probe: Probe) -> u64 {
        self.hits
            .iter()
            .find(|(p, _)| *p == probe)
            .map_or(0, |&(_, n)| n)
    }

    /// The probes never hit.
    pub fn unreached(&self) -> Vec<Probe> {
        self.hits
            .iter()
            .filter(|(_, n)| *n == 0)
            .map(|&(p, _)| p)
            .collect()
    }

    /// The report's lines: every probe by group with its hits, then the
    /// unreached ones with the reason [`EXPLAINED`] gives.
    pub fn lines(&self) -> Vec<String> {
        let reached = self.hits.iter().filter(|(_, n)| *n > 0).count();
        let mut out = vec![format!(
            "  engine coverage: {reached} of {} code probes reached",
            self.hits.len()
        )];
        for group in Group::ALL {
            out.push(format!("    {}", group.name()));
            for &(p, n) in self.hits.iter().filter(|(p, _)| p.group() == group) {
                out.push(format!("      {:<36} {:>12}  {}", p.name(), n, p.about()));
            }
        }
        let unreached = self.unreached();
        if unreached.is_empty() {
            out.push("  every probe was reached".into());
            return out;
        }
        out.push(format!(
            "  UNREACHED ({}), each with why the default run misses it and what reaches it:",
            unreached.len()
        ));
        for p in unreached {
            out.push(format!("    {}", p.name()));
            match explained(p) {
                Some(gap) => {
                    out.push(format!("      why: {}", gap.why));
                    out.push(format!("      reached by: {}", gap.reach.describe()));
                }
                None => out.push(
                    "      unexplained: not in coverage::EXPLAINED, so the default run \
                     (check bfs --nodes 3) reaches it"
                        .into(),
                ),
            }
        }
        out
    }

    /// Prints [`Report::lines`] after a blank line.
    pub fn print(&self) {
        println!();
        for line in self.lines() {
            println!("{line}");
        }
    }

    /// The `coverage` array of `check --json`: `{probe, hits}` per probe.
    pub fn json(&self) -> Value {
        self.hits
            .iter()
            .map(|(p, n)| json!({"probe": p.name(), "hits": n}))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_probe_is_explained_at_most_once() {
        for gap in EXPLAINED {
            let n = EXPLAINED.iter().filter(|g| g.probe == gap.probe).count();
            assert_eq!(n, 1, "{} is explained {n} times", gap.probe);
            assert!(!gap.why.is_empty());
        }
    }

    #[test]
    fn the_report_names_every_probe_and_lists_the_unreached() {
        let report = Report {
            hits: Probe::ALL
                .iter()
                .map(|&p| (p, u64::from(p != Probe::OnHup)))
                .collect(),
        };
        let lines = report.lines();
        for &p in Probe::ALL {
            assert!(lines.iter().any(|l| l.contains(p.name())), "{p}");
        }
        assert_eq!(report.unreached(), vec![Probe::OnHup]);
        assert!(lines.iter().any(|l| l.starts_with("  UNREACHED (1)")));
        assert_eq!(
            report.json().as_array().map(Vec::len),
            Some(Probe::ALL.len())
        );
    }
}
