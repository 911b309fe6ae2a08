//! Pending linearizable reads (ReadIndex, thesis §6.4): a small pure module
//! with no knowledge of messages or roles, like the quorum arithmetic in
//! [`crate::progress::config`].
//!
//! A leader serves a read at its commit index only once it knows it was still
//! leader *after* the read arrived: a quorum must answer a heartbeat sent after
//! the read was registered. Each read gets a [`ReadSeq`], numbered in arrival
//! order within the leader's term; every heartbeat carries the newest number
//! and every answer echoes it. An answer echoing `s` therefore proves contact
//! after every read numbered up to `s` arrived, and nothing about later ones:
//! a delayed answer to an old heartbeat can never confirm a newer read (the
//! bug class of etcd-io/raft#397, where reads were matched by the client's
//! context, so a reused context was confirmed by an answer sent before it).
//! The client's context is opaque here: it is only handed back.
//!
//! A leader that has not yet committed an entry of its own term does not know
//! the latest commit index (§8), so reads that arrive then wait
//! ([`ReadOnly::postpone`]) and are registered once it has.

use crate::{Index, NodeId};
use bytes::Bytes;
use std::collections::{BTreeSet, VecDeque};
use std::fmt;

/// A leader's number for a read request: requests are numbered 1, 2, ... in
/// the order they arrived in the leader's term. A heartbeat carries the newest
/// number, and its answer echoes it.
///
/// ```
/// use ruft::ReadSeq;
/// assert!(ReadSeq(1).next() > ReadSeq(1));
/// assert_eq!(ReadSeq(7).to_string(), "r7");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReadSeq(pub u64);

impl ReadSeq {
    /// The number after this one (saturating: 2^64 reads never happen).
    pub fn next(self) -> ReadSeq {
        ReadSeq(self.0.saturating_add(1))
    }
}

impl fmt::Display for ReadSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "r{}", self.0)
    }
}

/// A read the application may now serve: once its state machine has applied
/// `index`, its state reflects every write acknowledged before the read was
/// requested. `ctx` is what the application passed to
/// [`crate::Node::read_index`].
///
/// ```
/// use ruft::{Index, ReadState};
/// let rs = ReadState { index: Index(7), ctx: "req-1".into() };
/// let applied = Index(7);
/// assert!(applied >= rs.index, "serve the read from the state machine now");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReadState {
    /// Serve the read once the state machine has applied this index.
    pub index: Index,
    /// The application's context for the read, as it was given.
    pub ctx: Bytes,
}

/// A read request at the leader: the application's context and the node
/// whose application asked (the leader itself, or a follower that forwarded it).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReadRequest {
    /// The application's context, handed back in the [`ReadState`].
    pub ctx: Bytes,
    /// Where the answer goes.
    pub from: NodeId,
}

/// A registered read: its number, the commit index when it arrived, and the
/// voters known to have answered a heartbeat sent after it arrived.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Pending {
    seq: ReadSeq,
    index: Index,
    request: ReadRequest,
    acks: BTreeSet<NodeId>,
}

/// A leader's reads: those waiting for its first commit of its own term, and
/// those waiting for a quorum's answer. Bounded by the caller
/// ([`ReadOnly::admits`]) in count and in context bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReadOnly {
    /// The newest number handed out.
    last: ReadSeq,
    /// Reads that arrived before the leader committed an entry of its term.
    waiting: VecDeque<ReadRequest>,
    /// Registered reads, in number order.
    pending: VecDeque<Pending>,
    /// Context bytes held, waiting and pending.
    bytes: usize,
}

impl ReadOnly {
    /// Reads held, waiting and pending.
    pub fn len(&self) -> usize {
        self.waiting.len() + self.pending.len()
    }

    /// Whether no read is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Context bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Whether a read with a context of `ctx_len` bytes fits under `count_max`
    /// reads and `bytes_max` context bytes. With none held, any one read fits,
    /// however large its context, so a read is always possible.
    pub fn admits(&self, ctx_len: usize, count_max: usize, bytes_max: usize) -> bool {
        self.is_empty()
            || (self.len() < count_max && self.bytes.saturating_add(ctx_len) <= bytes_max)
    }

    /// Holds `request` until the leader commits an entry of its term.
    pub fn postpone(&mut self, request: ReadRequest) {
        self.bytes = self.bytes.saturating_add(request.ctx.len());
        self.waiting.push_back(request);
    }

    /// The postponed reads, oldest first; they are no longer held.
    pub fn take_waiting(&mut self) -> Vec<ReadRequest> {
        let taken: Vec<ReadRequest> = self.waiting.drain(..).collect();
        let freed: usize = taken.iter().map(|r| r.ctx.len()).sum();
        debug_assert!(freed <= self.bytes, "every held context was counted");
        self.bytes = self.bytes.saturating_sub(freed);
        taken
    }

    /// Registers `request` at commit index `index` with the next number, the
    /// leader (`me`) counting as the first to answer. Returns the number: the
    /// heartbeats that confirm it must carry it.
    pub fn add(&mut self, request: ReadRequest, index: Index, me: NodeId) -> ReadSeq {
        let seq = self.last.next();
        self.register(seq, request, index, me)
    }

    /// [`Self::add`] under the same number as the newest read so far (or 1):
    /// answers to heartbeats sent before it arrived then confirm it. This is
    /// the bug class of etcd-io/raft#397 in ruft's terms; nothing in the
    /// engine calls it. It exists so that tests can show the bookkeeping's
    /// checks catch it (`tests/proptest_read_only.rs` fails with it).
    pub fn add_reusing_number(
        &mut self,
        request: ReadRequest,
        index: Index,
        me: NodeId,
    ) -> ReadSeq {
        let seq = self.last.max(ReadSeq(1));
        self.register(seq, request, index, me)
    }

    fn register(
        &mut self,
        seq: ReadSeq,
        request: ReadRequest,
        index: Index,
        me: NodeId,
    ) -> ReadSeq {
        debug_assert!(
            self.pending.back().is_none_or(|p| p.index <= index),
            "§6.4: the commit index recorded for reads never goes back"
        );
        self.bytes = self.bytes.saturating_add(request.ctx.len());
        self.last = seq;
        self.pending.push_back(Pending {
            seq,
            index,
            request,
            acks: BTreeSet::from([me]),
        });
        seq
    }

    /// The number a heartbeat sent now carries: the newest registered read's,
    /// if any is pending.
    pub fn newest(&self) -> Option<ReadSeq> {
        self.pending.back().map(|p| p.seq)
    }

    /// `from` answered a heartbeat carrying `seq`: it counts for every read
    /// numbered up to `seq`. Returns the reads a quorum has now confirmed
    /// (`has_quorum` over the answers), oldest first, each with its index;
    /// they are no longer held. A later read has no answer an earlier one
    /// lacks, so the confirmed reads are always the oldest ones.
    pub fn ack(
        &mut self,
        from: NodeId,
        seq: ReadSeq,
        has_quorum: impl Fn(&BTreeSet<NodeId>) -> bool,
    ) -> Vec<(ReadRequest, Index)> {
        for p in self.pending.iter_mut().take_while(|p| p.seq <= seq) {
            p.acks.insert(from);
        }
        let confirmed = self
            .pending
            .iter()
            .rposition(|p| has_quorum(&p.acks))
            .map_or(0, |i| i + 1);
        let released: Vec<(ReadRequest, Index)> = self
            .pending
            .drain(..confirmed)
            .map(|p| (p.request, p.index))
            .collect();
        let freed: usize = released.iter().map(|(r, _)| r.ctx.len()).sum();
        debug_assert!(freed <= self.bytes, "every held context was counted");
        self.bytes = self.bytes.saturating_sub(freed);
        debug_assert!(
            released.windows(2).all(|w| w[0].1 <= w[1].1),
            "§6.4: reads are released in order"
        );
        released
    }

    /// This state with every node id mapped through `f` (symmetry reduction,
    /// see [`crate::Relabel`]).
    pub fn relabel(&self, f: &dyn Fn(NodeId) -> NodeId) -> ReadOnly {
        let request = |r: &ReadRequest| ReadRequest {
            ctx: r.ctx.clone(),
            from: f(r.from),
        };
        ReadOnly {
            last: self.last,
            waiting: self.waiting.iter().map(request).collect(),
            pending: self
                .pending
                .iter()
                .map(|p| Pending {
                    seq: p.seq,
                    index: p.index,
                    request: request(&p.request),
                    acks: p.acks.iter().map(|&id| f(id)).collect(),
                })
                .collect(),
            bytes: self.bytes,
        }
    }

    /// Every read held, oldest first (postponed ones before registered ones);
    /// none is held afterwards. A leader stepping down drops them.
    pub fn clear(&mut self) -> Vec<ReadRequest> {
        let mut all = self.take_waiting();
        all.extend(self.pending.drain(..).map(|p| p.request));
        self.bytes = 0;
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(ctx: &'static str, from: u64) -> ReadRequest {
        ReadRequest {
            ctx: Bytes::from_static(ctx.as_bytes()),
            from: NodeId(from),
        }
    }

    fn majority_of_3(acks: &BTreeSet<NodeId>) -> bool {
        acks.len() >= 2
    }

    #[test]
    fn a_read_is_confirmed_only_by_an_answer_to_a_heartbeat_sent_after_it() {
        let mut reads = ReadOnly::default();
        let first = reads.add(req("a", 1), Index(5), NodeId(1));
        let second = reads.add(req("b", 1), Index(6), NodeId(1));
        assert_eq!((first, second), (ReadSeq(1), ReadSeq(2)));
        // n2 answers the heartbeat sent after the first read only.
        let released = reads.ack(NodeId(2), first, majority_of_3);
        assert_eq!(released, vec![(req("a", 1), Index(5))]);
        assert_eq!(reads.newest(), Some(second));
        // n3 answers an even older heartbeat: nothing.
        assert!(reads.ack(NodeId(3), ReadSeq(0), majority_of_3).is_empty());
        let released = reads.ack(NodeId(3), second, majority_of_3);
        assert_eq!(released, vec![(req("b", 1), Index(6))]);
        assert!(reads.is_empty());
        assert_eq!(reads.bytes(), 0);
    }

    #[test]
    fn a_reused_number_lets_an_old_answer_confirm_a_new_read() {
        let mut reads = ReadOnly::default();
        let old = reads.add(req("a", 1), Index(5), NodeId(1));
        assert_eq!(reads.ack(NodeId(2), old, majority_of_3).len(), 1);
        // The mutant's way: the new read takes the old number, so a delayed
        // answer to the old heartbeat (from n3) confirms it.
        reads.add_reusing_number(req("a", 1), Index(9), NodeId(1));
        assert_eq!(reads.ack(NodeId(3), old, majority_of_3).len(), 1);
        // The correct way: it does not.
        let mut reads = ReadOnly::default();
        let old = reads.add(req("a", 1), Index(5), NodeId(1));
        reads.ack(NodeId(2), old, majority_of_3);
        reads.add(req("a", 1), Index(9), NodeId(1));
        assert!(reads.ack(NodeId(3), old, majority_of_3).is_empty());
    }

    #[test]
    fn postponed_reads_and_bounds() {
        let mut reads = ReadOnly::default();
        assert!(reads.admits(1_000, 1, 10), "one read always fits");
        reads.postpone(req("abc", 2));
        assert!(!reads.admits(8, 4, 10), "bytes");
        assert!(!reads.admits(1, 1, 10), "count");
        assert!(reads.admits(7, 2, 10));
        assert_eq!(reads.newest(), None, "a postponed read is not registered");
        assert_eq!(reads.take_waiting(), vec![req("abc", 2)]);
        assert_eq!(reads.bytes(), 0);
        reads.postpone(req("x", 2));
        reads.add(req("yy", 1), Index(3), NodeId(1));
        assert_eq!(reads.bytes(), 3);
        assert_eq!(reads.clear(), vec![req("x", 2), req("yy", 1)]);
        assert!(reads.is_empty());
    }
}
