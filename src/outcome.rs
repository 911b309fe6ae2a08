//! What stepping a message did: [`StepOutcome`], with the typed reasons for
//! rejections (answered negatively) and drops (ignored, traced).

use crate::{EntryKey, NodeId, Role, Term};

/// The result of a successful [`crate::Node::step`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepOutcome {
    /// The message was acted on (any reply is queued in the next Ready).
    Handled,
    /// The request was answered negatively (the reply is queued): a vote
    /// refused or an append whose consistency check failed.
    Rejected(Rejection),
    /// The message was ignored and traced; nothing changed and nothing is sent.
    Dropped(DropReason),
}

/// Why a request was refused. The sender learns it from the reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// This node already voted for another candidate in this term (§5.2).
    VoteAlreadyCast {
        /// Whom it voted for.
        voted: NodeId,
    },
    /// This node follows a live leader in this term and does not vote.
    LeaderKnown {
        /// The leader.
        leader: NodeId,
    },
    /// The candidate's log is less up to date than this node's (§5.4.1).
    LogNotUpToDate {
        /// This node's last entry.
        ours: EntryKey,
        /// The candidate's last entry.
        theirs: EntryKey,
    },
    /// The append's previous entry lies beyond this node's log (§5.3).
    PrevBeyondLog {
        /// The append's previous entry.
        prev: EntryKey,
        /// This node's last entry (sent back as the hint).
        last: EntryKey,
    },
    /// This node's entry at the append's previous index has another term (§5.3).
    PrevTermMismatch {
        /// The append's previous entry.
        prev: EntryKey,
        /// The hint sent back: the last entry at or before `prev.index` whose
        /// term is at most `prev.term`.
        hint: EntryKey,
    },
}

/// Why a message was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// The message is from an older term (§5.1).
    StaleTerm {
        /// The message's term.
        term: Term,
        /// This node's term.
        current: Term,
    },
    /// The message means nothing in this node's role (a vote response to a
    /// follower, a heartbeat timer on a candidate, ...).
    NotForRole {
        /// This node's role.
        role: Role,
    },
    /// An answer about a request the node has moved past: an append the
    /// leader already knows about, or a pre-vote granted for another round.
    StaleResponse,
    /// The node is at the largest term and cannot start an election.
    TermsExhausted,
    /// The node's log ends at the largest index: as leader it could not
    /// append its no-op, so it does not start an election.
    IndexesExhausted,
    /// A (pre-)vote request of a newer term, ignored because the node heard
    /// from `leader` within the election timeout (leader stickiness, with
    /// [`crate::Config::check_quorum`]). With lease reads
    /// ([`crate::ReadMode::Lease`]) a forced campaign
    /// ([`crate::Node::campaign`]) is dropped for the same reason: the node
    /// granted `leader` a read lease and must not vote, even for itself,
    /// until it ran out.
    LeaderLease {
        /// The leader the node still hears.
        leader: NodeId,
    },
    /// A (pre-)vote request of a newer term, ignored because the node
    /// started fewer than `election_tick` ticks ago, with lease reads
    /// ([`crate::ReadMode::Lease`]): it may have granted a leader a lease just
    /// before it restarted. A forced campaign ([`crate::Node::campaign`]) in
    /// that period is dropped too.
    StartupLease,
    /// A read forwarded by a follower, or a read state sent back by the
    /// leader, beyond [`crate::Config::reads_max`] or
    /// [`crate::Config::read_bytes_max`] (the client's read times out and is
    /// retried, as after a lost message).
    ReadsFull,
    /// A leader transfer to the leader itself: nothing to do.
    TransferToSelf,
    /// A leader transfer to the node already being transferred to: the
    /// transfer under way goes on (its deadline is not extended).
    AlreadyTransferring,
    /// This node is not a voter of its configuration (a learner, a removed
    /// node, or one whose addition it has not applied yet): it does not
    /// campaign, whether its timer fired, the application asked, or a leader
    /// sent TimeoutNow.
    NotAVoter,
    /// A (pre-)vote request from a node that is not a voter of this node's
    /// configuration: a removed node that has not learned it (the disruption
    /// thesis §4.2.3 describes), a learner, or a voter added after what this
    /// node has applied (it votes once it catches up). Refusing a vote is
    /// always safe; the term is left as it was.
    SenderNotVoter {
        /// The sender.
        src: NodeId,
    },
    /// A response or forwarded read from a node that is not a member of this
    /// node's configuration: it was removed after the request went out, or
    /// was added after what this node has applied.
    SenderNotMember {
        /// The sender.
        src: NodeId,
    },
    /// A campaign while a committed configuration change waits to be
    /// applied: the node would count votes in a configuration the cluster
    /// has already left (etcd refuses it the same way).
    ConfChangeUnapplied,
}
