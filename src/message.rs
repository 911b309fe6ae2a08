//! [`Message`]: everything that reaches a node, remote RPCs and local events alike.

use crate::{Entry, EntryKey, Index, NodeId, ReadSeq, Snapshot, SnapshotStatus, Term};
use bytes::Bytes;
use std::fmt;

/// A message between nodes, or a local event addressed to this node.
///
/// Remote messages carry the sender's term in `src_term` (never 0); local
/// messages ([`MessageVariant::is_local`]) carry `Term(0)` and the node's own id
/// as `src` and `dst`.
///
/// ```
/// use ruft::{Message, MessageVariant, NodeId, Term, Index};
/// let m = Message::new(NodeId(1), Term(2), NodeId(3), MessageVariant::Heartbeat { commit: Index(4), read: None });
/// assert_eq!(m.to_string(), "n1->n3 Heartbeat{t2, commit 4}");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Message {
    /// The sender.
    pub src: NodeId,
    /// The sender's term when it sent the message (`Term(0)` for local messages).
    pub src_term: Term,
    /// The receiver.
    pub dst: NodeId,
    /// What the message says.
    pub variant: MessageVariant,
}

/// The kinds of message. Each remote variant has one handler in the node, named
/// after it (`on_request_vote`, `on_append_entries_response`, ...).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum MessageVariant {
    /// Local: the election timer fired; start an election (§5.2).
    Hup,
    /// Local: the heartbeat timer fired; a leader sends heartbeats (§5.2).
    Beat,
    /// Local: a client command for the leader to append.
    Propose {
        /// The command.
        payload: Bytes,
    },
    /// Local: a membership change for the leader to append (see
    /// [`crate::Node::propose_conf_change`]).
    ProposeConfChange {
        /// The change.
        change: crate::ConfChange,
    },
    /// Local: a leader's election period ended. It checks that a quorum
    /// answered in the period (with [`crate::Config::check_quorum`]) and gives
    /// up a leader transfer that did not finish in it.
    CheckQuorum,
    /// Local: hand leadership to `target` (see [`crate::Node::transfer_leader`]).
    TransferLeader {
        /// The voter to hand leadership to.
        target: NodeId,
    },
    /// Local: the application reports how sending a snapshot to `peer` ended
    /// (see [`crate::Node::report_snapshot`]).
    ReportSnapshot {
        /// The follower the snapshot was sent to.
        peer: NodeId,
        /// Whether it arrived or the transport gave up on it.
        status: SnapshotStatus,
    },
    /// RequestVote RPC (§5.2): the candidate's last log entry.
    RequestVote {
        /// Key of the candidate's last entry (for the up-to-date check, §5.4.1).
        last: EntryKey,
        /// The candidate campaigns because the leader handed over
        /// ([`MessageVariant::TimeoutNow`]): voters that still hear the
        /// leader vote anyway (leader stickiness does not apply).
        transfer: bool,
    },
    /// Reply to RequestVote.
    RequestVoteResponse {
        /// Whether the vote was granted.
        granted: bool,
    },
    /// Pre-vote request (thesis §9.6): "would you vote for me in term
    /// `src_term`?" The sender is still in `src_term - 1`; neither side
    /// changes its term, vote or role for it.
    RequestPreVote {
        /// Key of the pre-candidate's last entry (the up-to-date check, §5.4.1).
        last: EntryKey,
    },
    /// Reply to a pre-vote. A grant carries the term asked about (a term
    /// nobody is in yet); a refusal carries the voter's own term.
    RequestPreVoteResponse {
        /// Whether the pre-vote was granted.
        granted: bool,
    },
    /// A leader hands over: the receiver, as up to date as the leader,
    /// starts an election at once (leader transfer, thesis §3.10).
    TimeoutNow,
    /// AppendEntries RPC (§5.3).
    AppendEntries {
        /// Key of the entry just before `entries` (the consistency check).
        prev: EntryKey,
        /// New entries, contiguous from `prev.index + 1`.
        entries: Vec<Entry>,
        /// The leader's commit index.
        commit: Index,
    },
    /// InstallSnapshot RPC (§7): the leader no longer holds the entries the
    /// follower lacks, so it sends its snapshot whole (chunking is future
    /// work). The follower answers with an [`MessageVariant::AppendEntriesResponse`].
    InstallSnapshot {
        /// The leader's latest snapshot (boxed: it is rare and large, and
        /// every message is as large as its largest variant).
        snapshot: Box<Snapshot>,
    },
    /// Reply to AppendEntries (and to InstallSnapshot).
    AppendEntriesResponse {
        /// Accepted with the matching index, or rejected with a backtracking hint.
        outcome: AppendOutcome,
    },
    /// A leader's heartbeat; `commit` is `min(follower's match, leader commit)`,
    /// so a follower may commit it without further checks.
    Heartbeat {
        /// The commit index the follower may adopt.
        commit: Index,
        /// The newest read the leader had registered when it sent this
        /// heartbeat, if any is pending (ReadIndex, thesis §6.4).
        read: Option<ReadSeq>,
    },
    /// Reply to a heartbeat: tells the leader the follower is reachable.
    HeartbeatResponse {
        /// The heartbeat's `read`, echoed: the answer confirms the leader's
        /// reads numbered up to it.
        read: Option<ReadSeq>,
    },
    /// Local: the application asks for a linearizable read (see
    /// [`crate::Node::read_index`]).
    ReadIndex {
        /// The application's context, handed back in the [`crate::ReadState`].
        ctx: Bytes,
    },
    /// A follower forwards its application's read to the leader (thesis §6.4).
    ReadIndexForward {
        /// The application's context.
        ctx: Bytes,
    },
    /// The leader confirmed a forwarded read: the follower may serve it once
    /// it has applied `index`.
    ReadIndexResponse {
        /// The leader's commit index when the read arrived.
        index: Index,
        /// The application's context, as forwarded.
        ctx: Bytes,
    },
}

/// The answer to an AppendEntries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum AppendOutcome {
    /// The follower's log matches the leader's up to `matched`.
    Accepted {
        /// The last index known to match the leader's log.
        matched: Index,
    },
    /// The consistency check at `rejected` failed.
    Rejected {
        /// The `prev.index` that did not match.
        rejected: Index,
        /// The follower's best guess of where logs may agree: the last entry at or
        /// before `rejected` whose term is at most the leader's `prev.term`, or the
        /// follower's last entry when `rejected` is beyond its log. The leader uses
        /// it to skip a whole term per round trip.
        hint: EntryKey,
    },
}

/// How a message's term relates to the receiver's, decided once before any
/// handler sees the message (§5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Staleness {
    /// A local event: no term.
    Local,
    /// From an older term: dropped.
    Stale,
    /// From the receiver's term: handled.
    Consistent,
    /// From a newer term: the receiver first moves to that term as a follower.
    Fresh,
}

impl MessageVariant {
    /// Whether this is a local event (`Hup`, `Beat`, `Propose`) rather than an RPC.
    pub fn is_local(&self) -> bool {
        matches!(
            self,
            Self::Hup
                | Self::Beat
                | Self::Propose { .. }
                | Self::ProposeConfChange { .. }
                | Self::CheckQuorum
                | Self::TransferLeader { .. }
                | Self::ReportSnapshot { .. }
                | Self::ReadIndex { .. }
        )
    }

    /// Whether the message speaks of a term nobody is in yet: a pre-vote
    /// request, or a pre-vote granted. Such a message never moves the
    /// receiver's term (§9.6); every other message of a newer term does (§5.1).
    pub fn is_prospective(&self) -> bool {
        matches!(
            self,
            Self::RequestPreVote { .. } | Self::RequestPreVoteResponse { granted: true }
        )
    }

    /// Whether this asks for a vote that leader stickiness may ignore: a
    /// pre-vote request, or a vote request not caused by a leader transfer.
    pub fn is_disruptive_request(&self) -> bool {
        matches!(
            self,
            Self::RequestPreVote { .. }
                | Self::RequestVote {
                    transfer: false,
                    ..
                }
        )
    }

    /// The variant's name, as printed in traces and counterexamples.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Hup => "Hup",
            Self::Beat => "Beat",
            Self::Propose { .. } => "Propose",
            Self::ProposeConfChange { .. } => "ProposeConfChange",
            Self::CheckQuorum => "CheckQuorum",
            Self::TransferLeader { .. } => "TransferLeader",
            Self::ReportSnapshot { .. } => "ReportSnapshot",
            Self::RequestVote { .. } => "RequestVote",
            Self::RequestVoteResponse { .. } => "RequestVoteResponse",
            Self::RequestPreVote { .. } => "RequestPreVote",
            Self::RequestPreVoteResponse { .. } => "RequestPreVoteResponse",
            Self::TimeoutNow => "TimeoutNow",
            Self::AppendEntries { .. } => "AppendEntries",
            Self::InstallSnapshot { .. } => "InstallSnapshot",
            Self::AppendEntriesResponse { .. } => "AppendEntriesResponse",
            Self::Heartbeat { .. } => "Heartbeat",
            Self::HeartbeatResponse { .. } => "HeartbeatResponse",
            Self::ReadIndex { .. } => "ReadIndex",
            Self::ReadIndexForward { .. } => "ReadIndexForward",
            Self::ReadIndexResponse { .. } => "ReadIndexResponse",
        }
    }
}

impl Message {
    /// A message from `src` in term `src_term` to `dst`.
    pub fn new(src: NodeId, src_term: Term, dst: NodeId, variant: MessageVariant) -> Message {
        Message {
            src,
            src_term,
            dst,
            variant,
        }
    }

    /// A local event for node `id` (term 0, from and to itself).
    ///
    /// ```
    /// use ruft::{Message, MessageVariant, NodeId};
    /// assert!(Message::local(NodeId(2), MessageVariant::Hup).variant.is_local());
    /// ```
    pub fn local(id: NodeId, variant: MessageVariant) -> Message {
        Message::new(id, Term(0), id, variant)
    }

    /// Classifies the message against the receiver's `current` term.
    ///
    /// ```
    /// use ruft::{Message, MessageVariant, NodeId, Staleness, Term};
    /// let vote = |t| Message::new(NodeId(1), Term(t), NodeId(2), MessageVariant::RequestVoteResponse { granted: true });
    /// assert_eq!(vote(1).staleness(Term(2)), Staleness::Stale);
    /// assert_eq!(vote(2).staleness(Term(2)), Staleness::Consistent);
    /// assert_eq!(vote(3).staleness(Term(2)), Staleness::Fresh);
    /// assert_eq!(Message::local(NodeId(2), MessageVariant::Hup).staleness(Term(2)), Staleness::Local);
    /// ```
    pub fn staleness(&self, current: Term) -> Staleness {
        if self.src_term == Term(0) {
            Staleness::Local
        } else if self.src_term < current {
            Staleness::Stale
        } else if self.src_term == current {
            Staleness::Consistent
        } else {
            Staleness::Fresh
        }
    }
}

impl Message {
    /// The message without its addresses (`Append{t2, prev 1@1, entries [2@2], commit 1}`),
    /// for displays that name sender and receiver themselves.
    pub fn body(&self) -> MessageBody<'_> {
        MessageBody(self)
    }
}

/// Displays a message's term and variant; see [`Message::body`].
pub struct MessageBody<'a>(&'a Message);

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}->{} {}", self.src, self.dst, self.body())
    }
}

impl fmt::Display for MessageBody<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.0.src_term;
        match &self.0.variant {
            MessageVariant::Hup | MessageVariant::Beat | MessageVariant::CheckQuorum => {
                write!(f, "{}", self.0.variant.name())
            }
            MessageVariant::Propose { payload } => write!(f, "Propose{{{} bytes}}", payload.len()),
            MessageVariant::ProposeConfChange { change } => {
                write!(f, "ProposeConfChange{{{change}}}")
            }
            MessageVariant::TransferLeader { target } => write!(f, "TransferLeader{{to {target}}}"),
            MessageVariant::ReportSnapshot { peer, status } => {
                write!(f, "ReportSnapshot{{{peer} {status:?}}}")
            }
            MessageVariant::InstallSnapshot { snapshot } => {
                write!(f, "InstallSnapshot{{{t}, {snapshot}}}")
            }
            MessageVariant::RequestVote { last, transfer } => {
                let why = if *transfer { ", transfer" } else { "" };
                write!(f, "RequestVote{{{t}, last {last}{why}}}")
            }
            MessageVariant::RequestVoteResponse { granted } => {
                let verdict = if *granted { "granted" } else { "rejected" };
                write!(f, "Vote{{{t}, {verdict}}}")
            }
            MessageVariant::RequestPreVote { last } => write!(f, "PreVote{{{t}, last {last}}}"),
            MessageVariant::RequestPreVoteResponse { granted } => {
                let verdict = if *granted { "granted" } else { "rejected" };
                write!(f, "PreVoteResp{{{t}, {verdict}}}")
            }
            MessageVariant::TimeoutNow => write!(f, "TimeoutNow{{{t}}}"),
            MessageVariant::AppendEntries {
                prev,
                entries,
                commit,
            } => {
                write!(f, "Append{{{t}, prev {prev}, entries [")?;
                for (i, e) in entries.iter().enumerate() {
                    write!(f, "{}{e}", if i == 0 { "" } else { " " })?;
                }
                write!(f, "], commit {commit}}}")
            }
            MessageVariant::AppendEntriesResponse { outcome } => match outcome {
                AppendOutcome::Accepted { matched } => {
                    write!(f, "AppendOk{{{t}, match {matched}}}")
                }
                AppendOutcome::Rejected { rejected, hint } => {
                    write!(f, "AppendReject{{{t}, at {rejected}, hint {hint}}}")
                }
            },
            MessageVariant::Heartbeat { commit, read } => {
                write!(f, "Heartbeat{{{t}, commit {commit}")?;
                if let Some(seq) = read {
                    write!(f, ", read {seq}")?;
                }
                write!(f, "}}")
            }
            MessageVariant::HeartbeatResponse { read } => {
                write!(f, "HeartbeatOk{{{t}")?;
                if let Some(seq) = read {
                    write!(f, ", read {seq}")?;
                }
                write!(f, "}}")
            }
            MessageVariant::ReadIndex { ctx } => write!(f, "ReadIndex{{{} bytes}}", ctx.len()),
            MessageVariant::ReadIndexForward { ctx } => {
                write!(f, "ReadForward{{{t}, {} bytes}}", ctx.len())
            }
            MessageVariant::ReadIndexResponse { index, ctx } => {
                write!(f, "ReadIndexOk{{{t}, index {index}, {} bytes}}", ctx.len())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staleness_is_decided_by_term_alone() {
        let m = |t| {
            Message::new(
                NodeId(1),
                Term(t),
                NodeId(2),
                MessageVariant::HeartbeatResponse { read: None },
            )
        };
        for current in 0..4u64 {
            for sent in 1..5u64 {
                let expected = match sent.cmp(&current) {
                    std::cmp::Ordering::Less => Staleness::Stale,
                    std::cmp::Ordering::Equal => Staleness::Consistent,
                    std::cmp::Ordering::Greater => Staleness::Fresh,
                };
                assert_eq!(
                    m(sent).staleness(Term(current)),
                    expected,
                    "sent {sent} current {current}"
                );
            }
            assert_eq!(m(0).staleness(Term(current)), Staleness::Local);
        }
    }

    #[test]
    fn append_displays_compactly() {
        let e = Entry::empty(EntryKey::new(Term(2), Index(2)));
        let m = Message::new(
            NodeId(1),
            Term(2),
            NodeId(2),
            MessageVariant::AppendEntries {
                prev: EntryKey::new(Term(1), Index(1)),
                entries: vec![e],
                commit: Index(1),
            },
        );
        assert_eq!(
            m.to_string(),
            "n1->n2 Append{t2, prev 1@1, entries [2@2], commit 1}"
        );
    }
}
