//! [`Ready`]: what a node hands the application to persist, send and
//! apply; [`ReadyToken`], which Ready an acknowledgement is for; and
//! [`Status`], a node's state at a glance.

use crate::{
    Entry, EntryKey, HardState, Index, Message, NodeId, ReadState, Role, Snapshot, StorageError,
    Term, Tick,
};

/// Which Ready an acknowledgement is for. [`Node::ready`](crate::Node::ready) gives each Ready a
/// token and [`Node::advance`](crate::Node::advance) accepts only the outstanding Ready's: an
/// application may move the Ready's fields out while it carries it out, but
/// must hand back the token it came with. The default token (as in
/// `Ready::default()`) is no Ready's.
///
/// A token is a fingerprint of what the Ready hands out (its snapshot,
/// entries, hard state, and how many committed entries, messages and reads),
/// not a counter, so it adds nothing to a node's state that the Ready does
/// not already carry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReadyToken(u64);

impl ReadyToken {
    pub(crate) fn of(rd: &Ready) -> ReadyToken {
        use std::hash::{Hash, Hasher};
        let ends = |es: &[Entry]| {
            (
                es.len(),
                es.first().map(|e| e.key),
                es.last().map(|e| e.key),
            )
        };
        let mut h = std::collections::hash_map::DefaultHasher::new();
        rd.snapshot.as_ref().map(|s| s.key()).hash(&mut h);
        ends(&rd.entries).hash(&mut h);
        rd.hard_state.hash(&mut h);
        ends(&rd.committed_entries).hash(&mut h);
        rd.committed_error.hash(&mut h);
        (rd.messages.len(), rd.read_states.len()).hash(&mut h);
        ReadyToken(h.finish() | 1) // never the default token
    }
}

/// What the application must do, in this order:
/// 1. persist `snapshot` if present (it replaces the whole log, see
///    [`crate::MemStorage::apply_snapshot`]), then `entries` (replacing any
///    stored entries from the first one's index on), then `hard_state` if
///    present. Best in one atomic write ([`crate::MemStorage::persist`]
///    does that, and so does ruft-kv's redb storage: one transaction per
///    Ready); otherwise in this order, each durable before the next. A
///    crash part-way is repaired when the node reopens (see [`Node::new`](crate::Node::new));
///    what is never repaired is a message sent before its write is durable;
/// 2. send `messages` (only after step 1: votes and acks promise durability);
/// 3. restore the state machine from `snapshot` if present, then apply
///    `committed_entries` to it, in order (they start right after the
///    snapshot, or after what was applied before);
/// 4. serve each of `read_states` once the state machine has applied its
///    index: at once if it has, else when a later Ready's entries reach it;
/// 5. call [`Node::advance`](crate::Node::advance) with this Ready.
///
/// Between [`Node::ready`](crate::Node::ready) and [`Node::advance`](crate::Node::advance) the node may keep stepping
/// messages and ticking (the write may be in flight); it just hands out no new
/// Ready. ruft keeps one message list: every message waits for the write.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ready {
    /// A leader's snapshot that replaces this node's log and state machine
    /// (boxed: rare and large).
    pub snapshot: Option<Box<Snapshot>>,
    /// Entries to append to storage.
    pub entries: Vec<Entry>,
    /// The HardState to persist, if it changed since the last Ready.
    pub hard_state: Option<HardState>,
    /// Messages to send once the writes are durable.
    pub messages: Vec<Message>,
    /// Committed entries to apply, in index order.
    pub committed_entries: Vec<Entry>,
    /// Reading the committed entries from storage failed: this Ready hands
    /// out none (they stay owed, and come in a later Ready once storage
    /// reads again) but everything else, since persisting and sending need
    /// no read. [`Node::has_ready`](crate::Node::has_ready) stays true while entries are owed: back
    /// off before asking again, as for any failing disk.
    pub committed_error: Option<StorageError>,
    /// Reads confirmed since the last Ready ([`Node::read_index`](crate::Node::read_index)), in the
    /// order they were confirmed.
    pub read_states: Vec<ReadState>,
    /// Which Ready this is: hand it back to [`Node::advance`](crate::Node::advance) unchanged.
    pub token: ReadyToken,
}

/// A snapshot of a node's state for display and tests: plain values, so
/// taking one costs a few loads (the membership, which is shared, is read
/// with [`Node::membership`](crate::Node::membership)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Status {
    /// This node.
    pub id: NodeId,
    /// Its role.
    pub role: Role,
    /// Its term.
    pub term: Term,
    /// Its vote in `term`.
    pub voted_node: Option<NodeId>,
    /// The leader it knows of in `term`.
    pub leader: Option<NodeId>,
    /// Its commit index.
    pub committed: Index,
    /// The highest index the application acknowledged applying.
    pub applied: Index,
    /// Its last entry.
    pub last: EntryKey,
    /// Its last persisted entry.
    pub persisted: EntryKey,
    /// Ticks since it last heard from a leader (or, as leader, since a heartbeat).
    pub election_elapsed: Tick,
    /// This term's election timeout.
    pub election_timeout: Tick,
    /// Messages dropped because the outbox was full.
    pub outbox_dropped: usize,
    /// As leader: the voter leadership is being transferred to, if any.
    pub transfer: Option<NodeId>,
    /// With check-quorum: the leader this node heard from within
    /// `election_tick` (itself, as leader), for which it ignores (pre-)vote
    /// requests of newer terms.
    pub lease_leader: Option<NodeId>,
    /// With lease reads: the node started fewer than `election_tick` ticks
    /// ago, so it ignores (pre-)vote requests of newer terms
    /// ([`crate::DropReason::StartupLease`]).
    pub startup_lease: bool,
}
