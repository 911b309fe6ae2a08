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
//!
//! With [`crate::ReadMode::Lease`] the same rounds also buy a lease
//! ([`ReadLease`]): a quorum that answered a heartbeat sent `age` ticks ago
//! will not vote for anyone else for `election_tick - age` more ticks (each
//! of them heard from the leader at or after the sending, and check-quorum's
//! leader stickiness makes it ignore vote requests for `election_tick` after
//! that), so until then no other leader can exist and reads are served at
//! once. The lease counts from when the round was *sent*, never from when
//! its answers arrived.

use crate::{Index, NodeId, Tick};
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
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
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
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
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

/// A registered read: its number, the commit index when it arrived, the
/// voters known to have answered a heartbeat sent after it arrived, and (with
/// a lease) the ticks since it arrived (its round was sent then).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Pending {
    seq: ReadSeq,
    index: Index,
    request: ReadRequest,
    acks: BTreeSet<NodeId>,
    age: Tick,
}

/// A leader's read lease ([`crate::ReadMode::Lease`]), counted in its own
/// ticks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReadLease {
    /// No quorum has confirmed a round yet in this term.
    #[default]
    None,
    /// The newest round a quorum confirmed was sent `age` ticks ago (ages
    /// stop counting at the lease's span, so the state stays bounded).
    Since {
        /// Ticks since that round was sent.
        age: Tick,
    },
    /// Given up for the rest of the term: the leader asked a follower to
    /// campaign at once (leader transfer), and such a campaign is granted
    /// votes whatever leases the voters hold.
    Forfeited,
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
    /// The read lease, with [`crate::ReadMode::Lease`] only.
    lease: Option<ReadLease>,
}

impl ReadOnly {
    /// Reads of a leader that also keeps a read lease
    /// ([`crate::ReadMode::Lease`]); [`ReadOnly::default`] keeps none.
    pub fn with_lease() -> ReadOnly {
        ReadOnly {
            lease: Some(ReadLease::None),
            ..ReadOnly::default()
        }
    }

    /// The read lease, if this leader keeps one.
    pub fn lease(&self) -> Option<ReadLease> {
        self.lease
    }

    /// Whether the lease lets a read be served at once: a quorum confirmed a
    /// round sent fewer than `span` ticks ago (`span` is `election_tick`).
    pub fn lease_holds(&self, span: Tick) -> bool {
        matches!(self.lease, Some(ReadLease::Since { age }) if age < span)
    }

    /// Gives the lease up for the rest of the term (see
    /// [`ReadLease::Forfeited`]).
    pub fn forfeit_lease(&mut self) {
        if self.lease.is_some() {
            self.lease = Some(ReadLease::Forfeited);
        }
        debug_assert!(
            !self.lease_holds(Tick(u64::MAX)),
            "§6.4: a forfeited lease serves no read"
        );
    }

    /// One tick of the leader's clock: the lease and the pending rounds age,
    /// up to `span` (beyond it an age makes no difference). Without a lease
    /// nothing is timed.
    pub fn tick(&mut self, span: Tick) {
        let Some(lease) = &mut self.lease else {
            return;
        };
        let age_once = |age: &mut Tick| {
            if *age < span {
                age.forward();
            }
        };
        if let ReadLease::Since { age } = lease {
            age_once(age);
        }
        self.pending.iter_mut().for_each(|p| age_once(&mut p.age));
    }

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
    /// the bug class of etcd-io/raft#397 in ruft's terms. Only the
    /// `stale-read-context` mutant calls it; `tests/proptest_read_only.rs`
    /// and the model's `linearizable` property catch it.
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
            age: Tick(0),
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
    /// lacks, so the confirmed reads are always the oldest ones. With a
    /// lease, the newest confirmed round renews it.
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
        if let Some(newest) = confirmed.checked_sub(1).map(|i| self.pending[i].age) {
            self.renew_lease(newest);
        }
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

    /// A quorum confirmed a round sent `age` ticks ago: the lease runs from
    /// then, unless it already runs from later or was forfeited.
    fn renew_lease(&mut self, age: Tick) {
        let renewed = match self.lease {
            None | Some(ReadLease::Forfeited) => return,
            Some(ReadLease::None) => age,
            Some(ReadLease::Since { age: held }) => held.min(age),
        };
        self.lease = Some(ReadLease::Since { age: renewed });
        debug_assert!(
            matches!(self.lease, Some(ReadLease::Since { age: a }) if a <= age),
            "§6.4: a lease counts from the newest confirmed round's sending"
        );
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
                    age: p.age,
                })
                .collect(),
            bytes: self.bytes,
            lease: self.lease,
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
    fn a_lease_counts_from_the_sending_of_the_newest_confirmed_round() {
        let span = Tick(3);
        let mut reads = ReadOnly::with_lease();
        assert!(!reads.lease_holds(span), "no round confirmed yet");
        let first = reads.add(req("a", 1), Index(5), NodeId(1));
        reads.tick(span);
        reads.tick(span);
        // Confirmed two ticks after it was sent: one tick of lease is left.
        assert_eq!(reads.ack(NodeId(2), first, majority_of_3).len(), 1);
        assert_eq!(reads.lease(), Some(ReadLease::Since { age: Tick(2) }));
        assert!(reads.lease_holds(span));
        reads.tick(span);
        assert!(!reads.lease_holds(span), "three ticks since the sending");
        reads.tick(span);
        assert_eq!(
            reads.lease(),
            Some(ReadLease::Since { age: span }),
            "ages stop at the span"
        );
        let second = reads.add(req("b", 1), Index(6), NodeId(1));
        reads.ack(NodeId(3), second, majority_of_3);
        assert_eq!(reads.lease(), Some(ReadLease::Since { age: Tick(0) }));
        reads.forfeit_lease();
        let third = reads.add(req("c", 1), Index(7), NodeId(1));
        reads.ack(NodeId(3), third, majority_of_3);
        assert_eq!(
            reads.lease(),
            Some(ReadLease::Forfeited),
            "for the rest of the term"
        );
        assert!(!reads.lease_holds(span));
    }

    #[test]
    fn without_a_lease_nothing_is_timed() {
        let mut reads = ReadOnly::default();
        let first = reads.add(req("a", 1), Index(5), NodeId(1));
        reads.tick(Tick(3));
        reads.ack(NodeId(2), first, majority_of_3);
        reads.forfeit_lease();
        let fresh = ReadOnly {
            last: first,
            ..ReadOnly::default()
        };
        assert_eq!(reads, fresh);
        assert!(!reads.lease_holds(Tick(3)));
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
