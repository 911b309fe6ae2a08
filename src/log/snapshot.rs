//! [`Snapshot`]: the state machine at a log index, standing in for the
//! compacted log up to it.

use crate::{EntryKey, Index, Membership, MembershipError, NodeId, Term};
use bytes::Bytes;
use std::collections::BTreeSet;
use std::fmt;

/// What a snapshot covers: the last entry it replaces and the cluster's
/// membership as of that entry, as plain data (a node restoring the snapshot
/// checks it with [`SnapshotMeta::membership`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SnapshotMeta {
    /// The last entry the snapshot covers; `0@0` for "no snapshot".
    pub last: EntryKey,
    /// The voters as of `last` (while joint: the incoming voters).
    pub voters: BTreeSet<NodeId>,
    /// The learners as of `last`.
    pub learners: BTreeSet<NodeId>,
    /// While joint: the outgoing voters; empty otherwise.
    pub outgoing: BTreeSet<NodeId>,
    /// While joint: whether the leader leaves the joint configuration on its own.
    pub auto_leave: bool,
}

impl SnapshotMeta {
    /// The membership it records, or why it is not one (no voters, a voter
    /// that is also a learner).
    pub fn membership(&self) -> Result<Membership, MembershipError> {
        let learners = self.learners.clone();
        if self.outgoing.is_empty() {
            return Membership::new(self.voters.clone(), learners);
        }
        Membership::joint(self.voters.clone(), self.outgoing.clone(), learners)
            .map(|m| m.with_auto_leave(self.auto_leave))
    }

    /// The same meta with every node id mapped through `f`.
    pub fn relabel(&self, f: &dyn Fn(NodeId) -> NodeId) -> SnapshotMeta {
        let map = |set: &BTreeSet<NodeId>| set.iter().map(|&id| f(id)).collect();
        SnapshotMeta {
            last: self.last,
            voters: map(&self.voters),
            learners: map(&self.learners),
            outgoing: map(&self.outgoing),
            auto_leave: self.auto_leave,
        }
    }
}

/// A state machine image at `meta.last`, replacing every log entry up to it.
/// ruft never looks inside `data`: the application produces it (from its
/// state machine, through [`crate::MemStorage::create_snapshot`] or its own
/// storage) and restores its state machine from it when a
/// [`crate::Ready::snapshot`] hands one out.
///
/// ```
/// use ruft::{EntryKey, Index, NodeId, Snapshot, Term};
/// let s = Snapshot::new(EntryKey::new(Term(2), Index(7)), [NodeId(1)], "state");
/// assert_eq!((s.index(), s.term()), (Index(7), Term(2)));
/// assert_eq!(s.to_string(), "snapshot@7@2 (5 bytes)");
/// assert!(Snapshot::default().is_empty());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Snapshot {
    /// What it covers.
    pub meta: SnapshotMeta,
    /// The application's state machine, opaque to ruft.
    pub data: Bytes,
}

impl Snapshot {
    /// A snapshot covering the log up to `last`, with the given voters (no
    /// learners, not joint) and data.
    pub fn new(
        last: EntryKey,
        voters: impl IntoIterator<Item = NodeId>,
        data: impl Into<Bytes>,
    ) -> Snapshot {
        Snapshot {
            meta: SnapshotMeta {
                last,
                voters: voters.into_iter().collect(),
                ..SnapshotMeta::default()
            },
            data: data.into(),
        }
    }

    /// A snapshot covering the log up to `last`, taken when the cluster's
    /// membership was `membership` ([`crate::Node::membership`] at the
    /// application's applied index), with the given data.
    pub fn with_membership(
        last: EntryKey,
        membership: &Membership,
        data: impl Into<Bytes>,
    ) -> Snapshot {
        Snapshot {
            meta: SnapshotMeta {
                last,
                voters: membership.incoming().clone(),
                learners: membership.learners().clone(),
                outgoing: membership.outgoing().cloned().unwrap_or_default(),
                auto_leave: membership.auto_leave(),
            },
            data: data.into(),
        }
    }

    /// The key of the last entry it covers.
    pub fn key(&self) -> EntryKey {
        self.meta.last
    }

    /// The index of the last entry it covers.
    pub fn index(&self) -> Index {
        self.meta.last.index
    }

    /// The term of the last entry it covers.
    pub fn term(&self) -> Term {
        self.meta.last.term
    }

    /// Whether this is "no snapshot" (it covers nothing).
    pub fn is_empty(&self) -> bool {
        self.index() == Index(0)
    }
}

/// `snapshot@index@term (n bytes)`: data is the application's.
impl fmt::Display for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "snapshot@{} ({} bytes)", self.meta.last, self.data.len())
    }
}

/// How sending a snapshot ended, as the application's transport reports it
/// ([`crate::Node::report_snapshot`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum SnapshotStatus {
    /// The follower received it (its acknowledgement may still be on its way).
    Delivered,
    /// The transport gave up on it: the leader probes the follower again.
    Failed,
}
