//! Code probes, compiled in only with the `probes` cargo feature, so that the
//! verification harness can report which branches of the engine a search
//! reached (`check bfs --coverage`), as FoundationDB's code probes and TLC's
//! `-coverage` do.
//!
//! A probe is a named point in the engine: a message handler, a rejection or
//! drop reason, a case of [`crate::LogBuffer::append`], a role transition or a
//! notable replication branch. The crate-internal `probe!` macro records a hit
//! in a process-wide table of counters. Without the feature this module does
//! not exist and `probe!` expands to nothing, so a normal build carries no
//! probe code. The table is a side channel: the engine never reads it, so a
//! probed build behaves exactly as an unprobed one.
//!
//! ```
//! use ruft::probe::{self, Probe};
//! probe::reset();
//! assert!(probe::hits().iter().all(|&(_, n)| n == 0));
//! assert_eq!(Probe::OnHup.name(), "on-hup");
//! assert_eq!(Probe::from_name("on-hup"), Some(Probe::OnHup));
//! ```

use crate::{DropReason, Error, MessageVariant, Rejection, StepOutcome};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// How the coverage report groups the probes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Group {
    /// One probe per message handler (`on_*`).
    Handlers,
    /// One probe per [`Rejection`] variant.
    Rejections,
    /// One probe per [`DropReason`] variant (role drops by handler).
    Drops,
    /// The cases of [`crate::LogBuffer::append`], and a follower's append that
    /// changes nothing.
    AppendCases,
    /// Role changes (`become_*`), by the role left.
    RoleTransitions,
    /// Branches of voting and tallying.
    Elections,
    /// Branches of replication, flow control and commitment.
    Replication,
    /// Pre-vote, check-quorum, leader stickiness and leader transfer.
    Leadership,
    /// Snapshots: sending, installing, reporting (§7).
    Snapshots,
    /// Linearizable reads: forwarding, confirming, answering (§6.4).
    Reads,
    /// Membership changes: proposing, applying, joint phases (thesis ch. 4).
    Membership,
}

impl Group {
    /// Every group, in report order.
    pub const ALL: [Group; 11] = [
        Group::Handlers,
        Group::Rejections,
        Group::Drops,
        Group::AppendCases,
        Group::RoleTransitions,
        Group::Elections,
        Group::Replication,
        Group::Leadership,
        Group::Snapshots,
        Group::Reads,
        Group::Membership,
    ];

    /// The group's heading in the report.
    pub fn name(self) -> &'static str {
        match self {
            Group::Handlers => "handlers",
            Group::Rejections => "rejections",
            Group::Drops => "drops",
            Group::AppendCases => "append cases",
            Group::RoleTransitions => "role transitions",
            Group::Elections => "elections",
            Group::Replication => "replication",
            Group::Leadership => "leadership",
            Group::Snapshots => "snapshots",
            Group::Reads => "reads",
            Group::Membership => "membership",
        }
    }
}

/// Declares [`Probe`] with its name, group and one-line description.
macro_rules! probes {
    ($($(#[$doc:meta])* $v:ident => $name:literal, $group:ident, $about:literal;)*) => {
        /// One code probe: a point in the engine whose hits are counted.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Probe {
            $($(#[$doc])* $v,)*
        }

        impl Probe {
            /// Every probe, in report order.
            pub const ALL: &'static [Probe] = &[$(Probe::$v,)*];

            /// The probe's kebab-case name, as the report prints it.
            pub fn name(self) -> &'static str {
                match self { $(Probe::$v => $name,)* }
            }

            /// The report group it belongs to.
            pub fn group(self) -> Group {
                match self { $(Probe::$v => Group::$group,)* }
            }

            /// What a hit means, in one line.
            pub fn about(self) -> &'static str {
                match self { $(Probe::$v => $about,)* }
            }
        }
    };
}

probes! {
    /// `on_hup`.
    OnHup => "on-hup", Handlers, "the election timer fired (Hup)";
    /// `on_beat`.
    OnBeat => "on-beat", Handlers, "the heartbeat timer fired (Beat)";
    /// `on_propose`.
    OnPropose => "on-propose", Handlers, "a client proposed a command";
    /// `on_request_vote`.
    OnRequestVote => "on-request-vote", Handlers, "a RequestVote of the node's term arrived";
    /// `on_request_vote_response`.
    OnRequestVoteResponse => "on-request-vote-response", Handlers,
        "a vote (granted or refused) of the node's term arrived";
    /// `on_append_entries`.
    OnAppendEntries => "on-append-entries", Handlers,
        "a well-formed AppendEntries of the node's term arrived";
    /// `on_append_entries_response`.
    OnAppendEntriesResponse => "on-append-entries-response", Handlers,
        "an append acknowledgement or refusal of the node's term arrived";
    /// `on_heartbeat`.
    OnHeartbeat => "on-heartbeat", Handlers, "a Heartbeat of the node's term arrived";
    /// `on_heartbeat_response`.
    OnHeartbeatResponse => "on-heartbeat-response", Handlers,
        "a heartbeat answer of the node's term arrived";
    /// `on_request_pre_vote`.
    OnRequestPreVote => "on-request-pre-vote", Handlers,
        "a pre-vote request of the node's term or a newer one arrived";
    /// `on_request_pre_vote_response`.
    OnRequestPreVoteResponse => "on-request-pre-vote-response", Handlers,
        "a pre-vote answer (granted for the next term, or refused in ours) arrived";
    /// `on_check_quorum`.
    OnCheckQuorum => "on-check-quorum", Handlers, "a leader's election period ended (CheckQuorum)";
    /// `on_transfer_leader`.
    OnTransferLeader => "on-transfer-leader", Handlers, "the application asked for a leader transfer";
    /// `on_timeout_now`.
    OnTimeoutNow => "on-timeout-now", Handlers, "a TimeoutNow of the node's term arrived";
    /// `on_install_snapshot`.
    OnInstallSnapshot => "on-install-snapshot", Handlers,
        "a well-formed InstallSnapshot of the node's term arrived";
    /// `on_report_snapshot`.
    OnReportSnapshot => "on-report-snapshot", Handlers,
        "the application reported how sending a snapshot ended";
    /// `on_propose_conf_change`.
    OnProposeConfChange => "on-propose-conf-change", Handlers,
        "the application proposed a membership change";
    /// `on_read_index`.
    OnReadIndex => "on-read-index", Handlers, "the application asked for a linearizable read";
    /// `on_read_index_forward`.
    OnReadIndexForward => "on-read-index-forward", Handlers,
        "a follower's forwarded read of the node's term arrived";
    /// `on_read_index_response`.
    OnReadIndexResponse => "on-read-index-response", Handlers,
        "the leader's answer to a forwarded read arrived";

    /// [`Rejection::VoteAlreadyCast`].
    RejectVoteAlreadyCast => "reject-vote-already-cast", Rejections,
        "a vote refused: already voted for another candidate in this term (§5.2)";
    /// [`Rejection::LeaderKnown`].
    RejectLeaderKnown => "reject-leader-known", Rejections,
        "a vote refused: the node has not voted but follows a leader of this term";
    /// [`Rejection::LogNotUpToDate`].
    RejectLogNotUpToDate => "reject-log-not-up-to-date", Rejections,
        "a vote refused: the candidate's log is behind (§5.4.1)";
    /// [`Rejection::PrevBeyondLog`].
    RejectPrevBeyondLog => "reject-prev-beyond-log", Rejections,
        "an append refused: its previous entry lies beyond the log (§5.3)";
    /// [`Rejection::PrevTermMismatch`].
    RejectPrevTermMismatch => "reject-prev-term-mismatch", Rejections,
        "an append refused: the entry at its previous index has another term (§5.3)";

    /// [`DropReason::StaleTerm`].
    DropStaleTerm => "drop-stale-term", Drops, "a message of an older term dropped at the gate (§5.1)";
    /// [`DropReason::StaleResponse`].
    DropStaleResponse => "drop-stale-response", Drops,
        "a leader dropped an append refusal about an append it has moved past";
    /// [`DropReason::TermsExhausted`].
    DropTermsExhausted => "drop-terms-exhausted", Drops,
        "an election timeout dropped: the node is at the largest term";
    /// [`DropReason::IndexesExhausted`].
    DropIndexesExhausted => "drop-indexes-exhausted", Drops,
        "an election timeout dropped: the node's log ends at the largest index";
    /// [`DropReason::LeaderLease`].
    DropLeaderLease => "drop-leader-lease", Drops,
        "a (pre-)vote request of a newer term ignored: the node still hears its leader";
    /// [`DropReason::StartupLease`].
    DropStartupLease => "drop-startup-lease", Drops,
        "a (pre-)vote request ignored: the node started less than an election period ago (lease reads)";
    /// [`DropReason::TransferToSelf`].
    DropTransferToSelf => "drop-transfer-to-self", Drops, "a leader transfer to the leader itself";
    /// [`DropReason::AlreadyTransferring`].
    DropAlreadyTransferring => "drop-already-transferring", Drops,
        "a leader transfer to the target already being transferred to";
    /// [`DropReason::NotAVoter`].
    DropNotAVoter => "drop-not-a-voter", Drops,
        "a campaign dropped: the node is not a voter of its configuration";
    /// [`DropReason::SenderNotVoter`].
    DropSenderNotVoter => "drop-sender-not-voter", Drops,
        "a (pre-)vote request from a node that is not a voter here dropped";
    /// [`DropReason::SenderNotMember`].
    DropSenderNotMember => "drop-sender-not-member", Drops,
        "a response or forwarded read from a node that is not a member here dropped";
    /// [`DropReason::ConfChangeUnapplied`].
    DropConfChangeUnapplied => "drop-conf-change-unapplied", Drops,
        "a campaign dropped: a committed membership change is not applied yet";
    /// [`DropReason::ReadsFull`].
    DropReadsFull => "drop-reads-full", Drops,
        "a forwarded read or a read state dropped: reads_max or read_bytes_max reached";
    /// [`DropReason::NotForRole`] for a forwarded read.
    DropReadForwardNotLeader => "drop-read-forward-not-leader", Drops,
        "a forwarded read reached a node no longer leader";
    /// [`DropReason::NotForRole`] for a read answer.
    DropReadResponseOnLeader => "drop-read-response-on-leader", Drops,
        "a leader dropped a read answer of its own term (a second leader, §5.2)";
    /// [`DropReason::NotForRole`] for `CheckQuorum`.
    DropCheckQuorumNotLeader => "drop-check-quorum-not-leader", Drops,
        "a node no longer leader dropped an election-period end (CheckQuorum)";
    /// [`DropReason::NotForRole`] for a pre-vote answer.
    DropPreVoteNotPreCandidate => "drop-pre-vote-not-pre-candidate", Drops,
        "a pre-vote answer arrived after the pre-vote was decided";
    /// [`DropReason::NotForRole`] for `TimeoutNow`.
    DropTimeoutNowNotFollower => "drop-timeout-now-not-follower", Drops,
        "a TimeoutNow reached a node that is not a follower";
    /// [`DropReason::NotForRole`] for `Hup`.
    DropHupOnLeader => "drop-hup-on-leader", Drops, "a leader dropped an election timeout (Hup)";
    /// [`DropReason::NotForRole`] for `Beat`.
    DropBeatNotLeader => "drop-beat-not-leader", Drops,
        "a follower or candidate dropped a heartbeat timeout (Beat)";
    /// [`DropReason::NotForRole`] for a vote.
    DropVoteNotCandidate => "drop-vote-not-candidate", Drops,
        "a vote arrived after the election was decided";
    /// [`DropReason::NotForRole`] for an append.
    DropAppendOnLeader => "drop-append-on-leader", Drops,
        "a leader dropped an AppendEntries of its own term (a second leader, §5.2)";
    /// [`DropReason::NotForRole`] for an append response.
    DropAppendResponseNotLeader => "drop-append-response-not-leader", Drops,
        "an append answer reached a node no longer leader in that term (it restarted)";
    /// [`DropReason::NotForRole`] for a snapshot.
    DropSnapshotOnLeader => "drop-snapshot-on-leader", Drops,
        "a leader dropped an InstallSnapshot of its own term (a second leader, §5.2)";
    /// [`DropReason::NotForRole`] for a snapshot report.
    DropReportSnapshotNotLeader => "drop-report-snapshot-not-leader", Drops,
        "a snapshot report reached a node no longer leader";
    /// [`DropReason::NotForRole`] for a heartbeat.
    DropHeartbeatOnLeader => "drop-heartbeat-on-leader", Drops,
        "a leader dropped a Heartbeat of its own term (a second leader, §5.2)";
    /// [`DropReason::NotForRole`] for a heartbeat response.
    DropHeartbeatResponseNotLeader => "drop-heartbeat-response-not-leader", Drops,
        "a heartbeat answer reached a node no longer leader in that term (it restarted)";

    /// [`crate::AppendCase::Extend`].
    AppendExtend => "append-extend", AppendCases,
        "entries appended right after the last one (leader or follower)";
    /// [`crate::AppendCase::Replace`].
    AppendReplace => "append-replace", AppendCases,
        "a follower replaced its whole unpersisted buffer and hid a persisted suffix";
    /// [`crate::AppendCase::TruncateExtend`].
    AppendTruncateExtend => "append-truncate-extend", AppendCases,
        "a follower cut its unpersisted buffer inside, then extended it";
    /// A follower's append that changes nothing.
    AppendNothingNew => "append-nothing-new", AppendCases,
        "a follower already held every entry of an accepted append (or it had none)";

    /// `become_follower` from a follower.
    BecomeFollowerFromFollower => "become-follower-from-follower", RoleTransitions,
        "a follower moved to a newer term";
    /// `become_follower` from a candidate.
    BecomeFollowerFromCandidate => "become-follower-from-candidate", RoleTransitions,
        "a candidate gave up: lost, saw the leader, or saw a newer term";
    /// `become_follower` from a leader.
    BecomeFollowerFromLeader => "become-follower-from-leader", RoleTransitions,
        "a leader stepped down on a newer term (§5.1)";
    /// `become_follower` from a pre-candidate.
    BecomeFollowerFromPreCandidate => "become-follower-from-pre-candidate", RoleTransitions,
        "a pre-candidate gave up: lost its pre-vote, saw the leader, or saw a newer term";
    /// `become_pre_candidate`.
    BecomePreCandidate => "become-pre-candidate", RoleTransitions,
        "a node asked for pre-votes (§9.6)";
    /// `become_candidate` from a pre-candidate.
    BecomeCandidateFromPreCandidate => "become-candidate-from-pre-candidate", RoleTransitions,
        "a pre-candidate won its pre-vote and started an election";
    /// `become_candidate` from a follower.
    BecomeCandidateFromFollower => "become-candidate-from-follower", RoleTransitions,
        "a follower started an election";
    /// `become_candidate` from a candidate.
    BecomeCandidateFromCandidate => "become-candidate-from-candidate", RoleTransitions,
        "a candidate timed out and started another election";
    /// `become_leader`.
    BecomeLeader => "become-leader", RoleTransitions, "a candidate won and took office";

    /// A vote granted.
    VoteGranted => "vote-granted", Elections, "a node granted its vote";
    /// A quorum refused.
    ElectionLost => "election-lost", Elections,
        "a candidate counted a quorum of refusals and became a follower";
    /// A candidate heard from its term's leader.
    CandidateYieldsToLeader => "candidate-yields-to-leader", Elections,
        "a candidate heard from the leader of its own term and followed it";
    /// A single voter's election.
    ElectedAlone => "elected-alone", Elections, "a single voter won its election at once";

    /// An append below the follower's commit index.
    AppendBelowCommit => "append-below-commit", Replication,
        "an append whose previous index is below the commit index was acked up to it";
    /// An append with no entries went out.
    AppendSentEmpty => "append-sent-empty", Replication, "a leader sent an append with no entries";
    /// A paused follower was not sent an append.
    AppendHeldBack => "append-held-back", Replication,
        "a leader held an append back: probe outstanding or in-flight window full";
    /// A heartbeat answer triggered an append.
    HeartbeatResendsAppend => "heartbeat-resends-append", Replication,
        "a lagging follower's heartbeat answer made the leader send an append";
    /// A heartbeat answer unpaused a probe.
    HeartbeatUnpausesProbe => "heartbeat-unpauses-probe", Replication,
        "a heartbeat answer let a paused probe send again";
    /// Probe to Replicate.
    ProgressProbeToReplicate => "progress-probe-to-replicate", Replication,
        "an accepted probe switched the follower to replicating";
    /// Replicate to Probe.
    ProgressReplicateToProbe => "progress-replicate-to-probe", Replication,
        "a refusal while replicating switched the follower back to probing";
    /// A probe moved back after a refusal.
    ProbeBacktracks => "probe-backtracks", Replication,
        "a refused probe moved the follower's next index back";
    /// A reject hint below the leader's compaction point.
    HintBelowSnapshot => "hint-below-snapshot", Snapshots,
        "a follower's reject hint lay below the leader's snapshot: the snapshot goes next";
    /// A stale rejection dropped before the hint lookup.
    StaleRejectionCheap => "stale-rejection-cheap", Replication,
        "a stale append refusal was dropped before its hint cost a log scan";
    /// The reject hint skipped entries.
    HintSkipsEntries => "hint-skips-entries", Replication,
        "a refusal's hint moved the probe back by more than one entry";
    /// The leader's commit index advanced.
    LeaderCommits => "leader-commits", Replication,
        "a leader advanced its commit index to what a quorum matched";
    /// The leader waits for its own term.
    CommitWaitsForOwnTerm => "commit-waits-for-own-term", Replication,
        "a quorum matched only older-term entries, so the leader did not commit (§5.4.2)";
    /// A follower's commit advanced by an append.
    FollowerCommitsFromAppend => "follower-commits-from-append", Replication,
        "a follower advanced its commit index from an append";
    /// A follower's commit advanced by a heartbeat.
    FollowerCommitsFromHeartbeat => "follower-commits-from-heartbeat", Replication,
        "a follower advanced its commit index from a heartbeat";

    /// A pre-vote granted.
    PreVoteGranted => "pre-vote-granted", Leadership, "a node granted a pre-vote";
    /// A pre-vote quorum.
    PreVoteWon => "pre-vote-won", Leadership, "a pre-candidate counted a quorum of pre-votes";
    /// A pre-vote lost.
    PreVoteLost => "pre-vote-lost", Leadership,
        "a pre-candidate counted a quorum of refusals and became a follower, term unchanged";
    /// A stale pre-vote request refused with our term.
    StalePreVoteRefused => "stale-pre-vote-refused", Leadership,
        "a pre-vote request of an older term was refused with the node's term";
    /// A stale append or heartbeat answered with our term.
    StaleLeaderAnswered => "stale-leader-answered", Leadership,
        "an old leader's append or heartbeat was answered with the node's newer term";
    /// A leader stepped down for lack of quorum.
    LeaderLostQuorum => "leader-lost-quorum", Leadership,
        "a leader heard from no quorum in an election period and stepped down";
    /// A transfer timed out.
    TransferTimedOut => "transfer-timed-out", Leadership,
        "a leader transfer did not finish within an election period and was given up";
    /// TimeoutNow sent.
    TimeoutNowSent => "timeout-now-sent", Leadership,
        "a leader sent TimeoutNow to a transfer target holding its whole log";
    /// A vote requested by a transfer.
    TransferVoteRequested => "transfer-vote-requested", Leadership,
        "a vote request from a transfer target (leader stickiness does not apply) arrived";

    /// A leader sent its snapshot.
    SnapshotSent => "snapshot-sent", Snapshots,
        "a leader sent its snapshot to a follower that needs compacted entries (§7)";
    /// Progress entered the snapshot state.
    ProgressToSnapshot => "progress-to-snapshot", Snapshots,
        "a follower's progress waits for a snapshot";
    /// The snapshot was acknowledged.
    ProgressSnapshotToReplicate => "progress-snapshot-to-replicate", Snapshots,
        "a follower acknowledged the pending snapshot and is replicated to again";
    /// The application reported a delivered snapshot.
    SnapshotReportedDelivered => "snapshot-reported-delivered", Snapshots,
        "the application reported a snapshot delivered";
    /// The application reported a failed snapshot.
    SnapshotReportedFailed => "snapshot-reported-failed", Snapshots,
        "the application reported a snapshot lost: the leader probes again";
    /// A follower replaced its log with a snapshot.
    SnapshotRestored => "snapshot-restored", Snapshots,
        "a follower replaced its log with a leader's snapshot";
    /// A snapshot whose last entry the follower holds.
    SnapshotMatchesLog => "snapshot-matches-log", Snapshots,
        "a follower already held the snapshot's last entry: it kept its log and committed up to it";
    /// A snapshot not newer than the commit index.
    SnapshotStale => "snapshot-stale", Snapshots,
        "a snapshot not newer than the follower's commit index was answered and ignored";
    /// A node opened over a compacted log.
    OpenedCompacted => "opened-compacted", Snapshots,
        "a node started from storage whose log was compacted";

    /// A follower forwarded a read.
    ReadForwarded => "read-forwarded", Reads, "a follower forwarded its application's read to the leader";
    /// A read refused: too many pending.
    ReadsFull => "reads-full", Reads, "a leader refused a read: reads_max or read_bytes_max reached";
    /// A read held until the leader commits in its term.
    ReadWaitsForOwnTermCommit => "read-waits-for-own-term-commit", Reads,
        "a new leader held a read back until it commits an entry of its term (§8)";
    /// Postponed reads registered.
    PostponedReadsReleased => "postponed-reads-released", Reads,
        "a leader registered the reads it held back, having committed in its term";
    /// A read served by lease.
    ReadServedByLease => "read-served-by-lease", Reads,
        "a leader served a read at once within its check-quorum lease";
    /// A read lease given up for leader transfer.
    ReadLeaseForfeited => "read-lease-forfeited", Reads,
        "a leader gave its read lease up for the term: it sent TimeoutNow (§3.10)";
    /// Reads confirmed by a quorum.
    ReadConfirmedByQuorum => "read-confirmed-by-quorum", Reads,
        "a quorum answered a heartbeat sent after a read: the read is served (§6.4)";
    /// Pending reads dropped on step-down.
    PendingReadsDroppedOnStepDown => "pending-reads-dropped-on-step-down", Reads,
        "a leader stepped down holding unconfirmed reads; they are dropped";

    /// A change refused: one is pending.
    ConfChangeRefusedPending => "conf-change-refused-pending", Membership,
        "a leader refused a membership change: an earlier one is not applied yet";
    /// A change took effect.
    ConfChangeApplied => "conf-change-applied", Membership,
        "a membership change took effect (the application applied its entry)";
    /// A joint configuration entered.
    JointEntered => "joint-entered", Membership, "a node entered a joint configuration (§4.3)";
    /// A joint configuration left.
    JointLeft => "joint-left", Membership, "a node left a joint configuration (§4.3)";
    /// The leader proposed leaving a joint configuration on its own.
    AutoLeaveProposed => "auto-leave-proposed", Membership,
        "a leader proposed leaving its joint configuration on its own";
    /// A transfer given up: its target no longer votes.
    TransferAbortedByConfChange => "transfer-aborted-by-conf-change", Membership,
        "a leader gave up a transfer: a membership change took the target's vote";
    /// A leader that no longer votes stepped down.
    RemovedLeaderStepsDown => "removed-leader-steps-down", Membership,
        "a leader stepped down: a membership change removed or demoted it";
}

impl Probe {
    /// The probe called `name`, if any.
    pub fn from_name(name: &str) -> Option<Probe> {
        Probe::ALL.iter().copied().find(|p| p.name() == name)
    }
}

impl fmt::Display for Probe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One counter per probe, each on its own cache line so that worker threads
/// hitting different probes do not contend.
#[repr(align(128))]
struct Counter(AtomicU64);

/// Room for every probe; a compile-time assert checks that it is enough.
const COUNTERS_MAX: usize = 128;
const _: () = assert!(Probe::ALL.len() <= COUNTERS_MAX, "grow COUNTERS_MAX");

static HITS: [Counter; COUNTERS_MAX] = [const { Counter(AtomicU64::new(0)) }; COUNTERS_MAX];

/// Records one hit of `probe` (the `probe!` macro calls this).
#[inline]
pub(crate) fn hit(probe: Probe) {
    HITS[probe as usize].0.fetch_add(1, Ordering::Relaxed);
}

/// Every probe with its hits since the last [`reset`], in [`Probe::ALL`] order.
/// The table is shared by the whole process: runs that overlap in time add up.
pub fn hits() -> Vec<(Probe, u64)> {
    Probe::ALL
        .iter()
        .map(|&p| (p, HITS[p as usize].0.load(Ordering::Relaxed)))
        .collect()
}

/// Sets every counter back to zero.
pub fn reset() {
    for c in &HITS {
        c.0.store(0, Ordering::Relaxed);
    }
}

/// Records the rejection or drop a step ended in: one probe per [`Rejection`]
/// and [`DropReason`] variant, role drops by the message's variant. The
/// matches are exhaustive, so a new reason needs a probe.
pub(crate) fn outcome(variant: &MessageVariant, outcome: &Result<StepOutcome, Error>) {
    let probe = match outcome {
        Ok(StepOutcome::Handled) | Err(_) => return,
        Ok(StepOutcome::Rejected(r)) => match r {
            Rejection::VoteAlreadyCast { .. } => Probe::RejectVoteAlreadyCast,
            Rejection::LeaderKnown { .. } => Probe::RejectLeaderKnown,
            Rejection::LogNotUpToDate { .. } => Probe::RejectLogNotUpToDate,
            Rejection::PrevBeyondLog { .. } => Probe::RejectPrevBeyondLog,
            Rejection::PrevTermMismatch { .. } => Probe::RejectPrevTermMismatch,
        },
        Ok(StepOutcome::Dropped(d)) => match d {
            DropReason::StaleTerm { .. } => Probe::DropStaleTerm,
            DropReason::StaleResponse => Probe::DropStaleResponse,
            DropReason::TermsExhausted => Probe::DropTermsExhausted,
            DropReason::IndexesExhausted => Probe::DropIndexesExhausted,
            DropReason::LeaderLease { .. } => Probe::DropLeaderLease,
            DropReason::StartupLease => Probe::DropStartupLease,
            DropReason::TransferToSelf => Probe::DropTransferToSelf,
            DropReason::AlreadyTransferring => Probe::DropAlreadyTransferring,
            DropReason::ReadsFull => Probe::DropReadsFull,
            DropReason::NotAVoter => Probe::DropNotAVoter,
            DropReason::SenderNotVoter { .. } => Probe::DropSenderNotVoter,
            DropReason::SenderNotMember { .. } => Probe::DropSenderNotMember,
            DropReason::ConfChangeUnapplied => Probe::DropConfChangeUnapplied,
            DropReason::NotForRole { .. } => match variant {
                MessageVariant::Hup => Probe::DropHupOnLeader,
                MessageVariant::Beat => Probe::DropBeatNotLeader,
                MessageVariant::RequestVoteResponse { .. } => Probe::DropVoteNotCandidate,
                MessageVariant::AppendEntries { .. } => Probe::DropAppendOnLeader,
                MessageVariant::AppendEntriesResponse { .. } => Probe::DropAppendResponseNotLeader,
                MessageVariant::Heartbeat { .. } => Probe::DropHeartbeatOnLeader,
                MessageVariant::HeartbeatResponse { .. } => Probe::DropHeartbeatResponseNotLeader,
                MessageVariant::ReadIndexForward { .. } => Probe::DropReadForwardNotLeader,
                MessageVariant::ReadIndexResponse { .. } => Probe::DropReadResponseOnLeader,
                MessageVariant::CheckQuorum => Probe::DropCheckQuorumNotLeader,
                MessageVariant::RequestPreVoteResponse { .. } => Probe::DropPreVoteNotPreCandidate,
                MessageVariant::TimeoutNow => Probe::DropTimeoutNowNotFollower,
                MessageVariant::InstallSnapshot { .. } => Probe::DropSnapshotOnLeader,
                MessageVariant::ReportSnapshot { .. } => Probe::DropReportSnapshotNotLeader,
                // Their handlers never drop for the role: a proposal or a
                // transfer to a non-leader is an error, and any node may
                // answer a (pre-)vote request.
                MessageVariant::Propose { .. }
                | MessageVariant::ProposeConfChange { .. }
                | MessageVariant::TransferLeader { .. }
                | MessageVariant::RequestVote { .. }
                | MessageVariant::RequestPreVote { .. }
                | MessageVariant::ReadIndex { .. } => return,
            },
        },
    };
    hit(probe);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_kebab_case_and_round_trip() {
        let mut names: Vec<_> = Probe::ALL.iter().map(|p| p.name()).collect();
        for &p in Probe::ALL {
            assert_eq!(Probe::from_name(p.name()), Some(p));
            assert!(
                p.name().chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{p}"
            );
            assert!(!p.about().is_empty());
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Probe::ALL.len());
        assert!(Group::ALL
            .iter()
            .all(|g| Probe::ALL.iter().any(|p| p.group() == *g)));
        let headings: Vec<&str> = Group::ALL.iter().map(|g| g.name()).collect();
        assert_eq!(
            headings[..4],
            ["handlers", "rejections", "drops", "append cases"]
        );
        assert_eq!(Probe::DropStaleResponse.to_string(), "drop-stale-response");
    }

    /// The counters are shared by the process, and other tests may step
    /// engines (with the `probes` feature) meanwhile: only a probe no unit
    /// test reaches (a log at the largest index) is counted exactly.
    #[test]
    fn an_outcome_is_counted_and_a_reset_clears_the_counts() {
        let probe = Probe::DropIndexesExhausted;
        let count = || hits()[probe as usize].1;
        let dropped = Ok(StepOutcome::Dropped(DropReason::IndexesExhausted));
        let before = count();
        for _ in 0..1_000 {
            outcome(&MessageVariant::Hup, &dropped);
        }
        assert_eq!(count(), before + 1_000);
        assert_eq!(
            hits()[probe as usize].0,
            probe,
            "hits() is in Probe::ALL order"
        );
        reset();
        assert_eq!(count(), 0);
    }
}
