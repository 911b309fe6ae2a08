//! [`Error`]: every way a call into ruft can be refused.
//!
//! A refused call leaves the node unchanged and usable (after a storage error:
//! consistent and usable, see [`Error`]). Messages that are
//! well-formed but no longer relevant (a stale term, a response to a role the
//! node has left) are not errors: they are dropped and reported as
//! [`crate::StepOutcome::Dropped`].

use crate::{Index, MembershipError, NodeId, Term};
use thiserror::Error as ThisError;

/// Errors of the storage backend behind [`crate::LogStorage`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, ThisError)]
pub enum StorageError {
    /// The index lies outside the entries the storage holds.
    #[error("index {index} is outside the stored log [{first}, {last}]")]
    OutOfRange {
        /// The index asked for.
        index: Index,
        /// The first stored index.
        first: Index,
        /// The last stored index.
        last: Index,
    },
    /// The index lies in the compacted prefix of the log: only a snapshot
    /// covers it. Never read as term 0.
    #[error("index {index} is compacted (first stored index {first})")]
    Compacted {
        /// The index asked for.
        index: Index,
        /// The first index still stored.
        first: Index,
    },
    /// A snapshot at `index` is not newer than the one held at `current`.
    #[error("snapshot at {index} is not newer than {current}")]
    SnapshotOutOfDate {
        /// The snapshot's index.
        index: Index,
        /// The index of the snapshot (or compaction point) already held.
        current: Index,
    },
    /// A snapshot may cover only committed entries.
    #[error("snapshot at {index} is beyond the commit index {committed}")]
    Uncommitted {
        /// The index asked for.
        index: Index,
        /// The persisted commit index.
        committed: Index,
    },
    /// Compaction may drop only entries a snapshot covers.
    #[error("cannot compact to {index}: the snapshot covers only up to {snapshot}")]
    CompactBeyondSnapshot {
        /// The index asked for.
        index: Index,
        /// The snapshot's index.
        snapshot: Index,
    },
    /// An append would leave a hole: its first entry is beyond `last + 1`.
    #[error("append at {head} would leave a gap after {last}")]
    Gap {
        /// The first index of the append.
        head: Index,
        /// The storage's last index.
        last: Index,
    },
    /// The backend failed (disk, network, ...).
    #[error("storage backend failed: {kind:?}")]
    Io {
        /// What kind of failure.
        kind: std::io::ErrorKind,
    },
}

/// The result of a storage operation.
pub type StorageResult<T> = Result<T, StorageError>;

/// Why ruft refused a call. A refused call leaves the node unchanged, with one
/// exception: [`Error::Storage`] may interrupt a handler after it updated the
/// node and before it queued its reply. The node is then consistent and usable;
/// the lost reply is a lost message, which Raft tolerates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ThisError)]
pub enum Error {
    /// The configuration is inconsistent.
    #[error("invalid config: {problem}")]
    InvalidConfig {
        /// What is wrong.
        problem: &'static str,
    },
    /// A proposal reached a node that is not the leader.
    #[error("not the leader (leader hint: {leader:?})")]
    NotLeader {
        /// The leader this node knows of in its current term, if any.
        leader: Option<NodeId>,
    },
    /// The leader already holds `uncommitted_entries_max` uncommitted entries.
    #[error("too many uncommitted entries (max {max})")]
    ProposalsFull {
        /// The configured limit.
        max: usize,
    },
    /// The leader holds uncommitted proposals of more than
    /// `uncommitted_bytes_max` payload bytes with this one (nothing appended).
    #[error("too many uncommitted bytes (max {max})")]
    UncommittedBytesFull {
        /// The configured limit.
        max: usize,
    },
    /// The leader already holds `reads_max` reads, or `read_bytes_max`
    /// context bytes with this one (the read was not registered).
    #[error("too many pending reads (max {max} reads, {bytes_max} context bytes)")]
    ReadsFull {
        /// The configured count limit.
        max: usize,
        /// The configured byte limit.
        bytes_max: usize,
    },
    /// The message is addressed to another node.
    #[error("message for {dst} delivered to {local}")]
    WrongDestination {
        /// The message's destination.
        dst: NodeId,
        /// This node.
        local: NodeId,
    },
    /// A remote message claims to come from this node itself, or from
    /// `NodeId(0)`, which no node is.
    #[error("message from unknown sender {src}")]
    UnknownSender {
        /// The sender.
        src: NodeId,
    },
    /// A message carried a term beyond [`Term::ACCEPTED_MAX`]: no real
    /// cluster gets there, and adopting it would leave this node unable
    /// ever to campaign again.
    #[error("message from {src} carries term {term}, beyond any real cluster's")]
    TermOutOfRange {
        /// The sender.
        src: NodeId,
        /// The term it carried.
        term: Term,
    },
    /// The leader's log ends at the largest index: nothing more can be
    /// appended (nothing was).
    #[error("the log is at the largest index {last}")]
    IndexesExhausted {
        /// The last index.
        last: Index,
    },
    /// A remote message carried term 0, which only local messages may carry.
    #[error("remote message from {src} carries term 0")]
    RemoteTermZero {
        /// The sender.
        src: NodeId,
    },
    /// A local message (Hup, Beat, Propose) arrived with a term or a foreign sender.
    #[error("local message from {src} with term {term}")]
    LocalFromRemote {
        /// The sender.
        src: NodeId,
        /// The term it carried.
        term: Term,
    },
    /// An AppendEntries whose entries do not follow `prev` contiguously with
    /// terms in `[prev.term, message term]`, or whose indexes overflow.
    #[error("malformed append from {src}")]
    MalformedAppend {
        /// The sender.
        src: NodeId,
    },
    /// A heartbeat claimed a commit index beyond this node's log.
    #[error("commit {commit} is beyond the last index {last}")]
    CommitBeyondLast {
        /// The claimed commit index.
        commit: Index,
        /// This node's last index.
        last: Index,
    },
    /// An InstallSnapshot whose snapshot is empty or of a term after the
    /// message's own.
    #[error("malformed snapshot from {src}")]
    MalformedSnapshot {
        /// The sender.
        src: NodeId,
    },
    /// [`crate::Config::applied`] is beyond the commit index in storage: the
    /// application claims to have applied entries that are not committed.
    #[error("applied {applied} is beyond the commit index {committed}")]
    AppliedBeyondCommit {
        /// The configured applied index.
        applied: Index,
        /// The persisted commit index.
        committed: Index,
    },
    /// A follower acknowledged an index beyond the leader's log.
    #[error("ack of {matched} from {src} is beyond the last index {last}")]
    AckBeyondLast {
        /// The acknowledging follower.
        src: NodeId,
        /// The index it claimed to match.
        matched: Index,
        /// The leader's last index.
        last: Index,
    },
    /// The leader is handing leadership to `target` and accepts neither
    /// proposals nor another transfer until that ends (nothing was appended).
    #[error("leadership is being transferred to {target}")]
    TransferInProgress {
        /// The voter leadership is being handed to.
        target: NodeId,
    },
    /// A leader transfer named a node that is not a voter, or a snapshot
    /// report a node that is not a member.
    #[error("{id} is not a voter of this cluster")]
    UnknownNode {
        /// The node named.
        id: NodeId,
    },
    /// A configuration change was proposed while an earlier one (at
    /// `index`) has not been applied by the leader yet: at most one change is
    /// pending at a time. A new leader counts everything in its log at its
    /// election as pending (nothing was appended).
    #[error("the configuration change at {index} is not applied yet")]
    ConfChangePending {
        /// The pending change's index.
        index: Index,
    },
    /// A configuration change that does not apply to the current membership
    /// (nothing was appended).
    #[error("invalid configuration change: {0}")]
    InvalidConfChange(MembershipError),
    /// `ready()` was called again before `advance()` acknowledged the previous Ready.
    #[error("the previous Ready has not been advanced")]
    ReadyOutstanding,
    /// The storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}
