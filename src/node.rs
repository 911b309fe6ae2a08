//! [`Node`]: the public entry point, and the [`Ready`] hand-off to the application.

use crate::context::Context;
use crate::log::LogView;
use crate::{
    ConfChange, Config, Entry, EntryKey, Error, Index, LogStorage, Membership, Message,
    MessageVariant, NodeId, Ready, ReadyToken, SnapshotStatus, Status, StepOutcome,
};
use bytes::Bytes;

/// One Raft node. Drive it with [`Node::tick`], [`Node::step`] and
/// [`Node::propose`]; whenever [`Node::has_ready`] says so, take a [`Ready`],
/// carry it out (persist, then send, then apply) and hand it back with
/// [`Node::advance`].
///
/// A single-voter cluster, end to end:
/// ```
/// use futures::executor::block_on;
/// use ruft::{Config, MemStorage, Node, NodeId, Role};
///
/// let mut node = block_on(Node::new(Config::new(NodeId(1), [NodeId(1)]), MemStorage::default())).unwrap();
/// block_on(node.campaign()).unwrap();
/// assert_eq!(node.status().role, Role::Leader);
/// block_on(node.propose("hello".into())).unwrap();
/// let mut applied = Vec::new();
/// while node.has_ready() {
///     let rd = block_on(node.ready()).unwrap();
///     node.storage_mut().append(&rd.entries).unwrap();          // 1. persist
///     if let Some(hs) = rd.hard_state { node.storage_mut().set_hard_state(hs); }
///     assert!(rd.messages.is_empty());                          // 2. send (no peers)
///     applied.extend(rd.committed_entries.iter().map(|e| e.key)); // 3. apply
///     node.advance(rd);                                         // 4. acknowledge
/// }
/// assert_eq!(applied.len(), 2); // the leader's no-op and "hello"
/// ```
///
/// # Dropping a call half-way
///
/// The methods are `async` because [`LogStorage`] reads may wait (on a disk,
/// a network). A caller that gives up on one (a timeout, a `select!`) drops
/// its future at the point where it waited:
/// - [`Node::propose`] and [`Node::propose_conf_change`] never wait: they
///   finish on their first poll, so an entry is never appended without its
///   key handed back (a client retrying would apply a command twice). Their
///   appends leave with the next Ready.
/// - [`Node::ready`] changes nothing it hands out before its reads are done:
///   dropped while waiting, the next call hands out the same committed
///   entries and hard state; only the appends it was preparing may be lost,
///   as a network loses messages (heartbeat answers resend them).
/// - The others ([`Node::step`], [`Node::tick`], ...) may have done part of
///   their work when they wait: run them to completion.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Node<S> {
    ctx: Context<S>,
    /// What the Ready in the application's hands will acknowledge.
    outstanding: Option<Outstanding>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Outstanding {
    snapshot: Option<EntryKey>,
    last_entry: Option<EntryKey>,
    applying: Index,
    /// The token of the Ready handed out.
    token: ReadyToken,
}

impl<S: LogStorage> Node<S> {
    /// Builds a node from its configuration and storage. On empty storage this is
    /// a new node; otherwise it resumes from the persisted HardState and entries
    /// (after a crash, volatile state is rebuilt: it starts as a follower).
    ///
    /// A crash between writing a Ready's entries and its HardState (when
    /// they are not written in one batch, see [`Ready`]) is repaired, with
    /// a warning on the `ruft::restore` tracing target, and the repaired
    /// HardState comes in the first Ready:
    /// - entries of a newer term than the stored HardState: the node takes
    ///   that term with no vote (a vote in the lost write was never sent);
    /// - a commit index beyond the stored log: it is lowered to the last
    ///   entry (the commit index is volatile, learnt again from the leader).
    ///
    /// Errors: [`Error::InvalidConfig`], [`Error::Storage`], and
    /// [`Error::AppliedBeyondCommit`] when [`Config::applied`] lies beyond
    /// the (repaired) commit index: the state machine holds entries the log
    /// does not, which Raft cannot repair.
    ///
    /// ```
    /// # use futures::executor::block_on;
    /// use ruft::{Config, HardState, Index, MemStorage, Node, NodeId, Term};
    /// let mut disk = MemStorage::default();
    /// // The HardState was written, then a crash before its entries were:
    /// disk.set_hard_state(HardState { term: Term(1), voted_node: None, committed_index: Index(2) });
    /// let node = block_on(Node::new(Config::new(NodeId(1), [NodeId(1), NodeId(2)]), disk)).unwrap();
    /// assert_eq!(node.status().committed, Index(0), "learnt again from the leader");
    /// ```
    pub async fn new(config: Config, storage: S) -> Result<Node<S>, Error> {
        Ok(Node {
            ctx: Context::open(config, storage).await?,
            outstanding: None,
        })
    }

    /// Advances the logical clock by one tick: call it at a fixed interval.
    /// A follower campaigns when its randomized election timeout (between
    /// `election_tick` and `2 * election_tick`) runs out; a leader sends
    /// heartbeats every `heartbeat_tick` and, with check-quorum, checks once
    /// per `election_tick` that a quorum still answers.
    ///
    /// ```
    /// # use futures::executor::block_on;
    /// # use ruft::*;
    /// # let three = || block_on(Node::new(Config::new(NodeId(1), [NodeId(1), NodeId(2), NodeId(3)]), MemStorage::default())).unwrap();
    /// let mut n = three();
    /// // A follower that hears from no leader campaigns within 2 * election_tick ticks.
    /// for _ in 0..2 * n.config().election_tick.0 {
    ///     block_on(n.tick()).unwrap();
    /// }
    /// assert_eq!(n.status().role, Role::Candidate);
    /// ```
    pub async fn tick(&mut self) -> Result<(), Error> {
        self.ctx.tick().await
    }

    /// Steps a message from the network (or a local event, see [`Message::local`]).
    /// Well-formed messages that no longer matter (an older term, an answer
    /// to a role the node has left) are traced drops,
    /// [`StepOutcome::Dropped`]; malformed or misdirected ones are refused
    /// with a typed [`Error`] and leave the node unchanged.
    ///
    /// ```
    /// # use futures::executor::block_on;
    /// # use ruft::*;
    /// # let three = || block_on(Node::new(Config::new(NodeId(1), [NodeId(1), NodeId(2), NodeId(3)]), MemStorage::default())).unwrap();
    /// let mut n = three();
    /// let heartbeat = |src, term| Message::new(NodeId(src), Term(term), NodeId(1),
    ///     MessageVariant::Heartbeat { commit: Index(0), read: None });
    /// // n2 leads term 2: n1 follows it.
    /// assert_eq!(block_on(n.step(heartbeat(2, 2))), Ok(StepOutcome::Handled));
    /// assert_eq!(n.status().leader, Some(NodeId(2)));
    /// // A message of an older term is dropped, and the outcome says why.
    /// assert!(matches!(block_on(n.step(heartbeat(3, 1))), Ok(StepOutcome::Dropped(_))));
    /// // Bad input is a typed error that leaves the node unchanged.
    /// let misrouted = Message::new(NodeId(2), Term(2), NodeId(3),
    ///     MessageVariant::Heartbeat { commit: Index(0), read: None });
    /// assert!(matches!(block_on(n.step(misrouted)), Err(Error::WrongDestination { .. })));
    /// ```
    pub async fn step(&mut self, msg: Message) -> Result<StepOutcome, Error> {
        self.ctx.step(msg).await
    }

    /// Starts an election now, as if the election timer fired.
    ///
    /// With lease reads ([`crate::ReadMode::Lease`]) the campaign is dropped
    /// ([`crate::DropReason::LeaderLease`] or
    /// [`crate::DropReason::StartupLease`]) while this node may still be
    /// inside a read lease it granted: voting for itself then could elect a
    /// second leader while the first still serves reads from its lease. To
    /// move leadership at once, ask the leader for a transfer instead
    /// ([`Node::transfer_leader`]), which gives up the lease first.
    ///
    /// ```
    /// # use futures::executor::block_on;
    /// # use ruft::*;
    /// # let three = || block_on(Node::new(Config::new(NodeId(1), [NodeId(1), NodeId(2), NodeId(3)]), MemStorage::default())).unwrap();
    /// let mut n = three();
    /// block_on(n.campaign()).unwrap();
    /// assert_eq!(n.status().role, Role::Candidate);
    /// let rd = block_on(n.ready()).unwrap();
    /// // Its vote for itself is persisted before the requests go out.
    /// assert_eq!(rd.hard_state.unwrap().voted_node, Some(NodeId(1)));
    /// assert_eq!(rd.messages.len(), 2, "RequestVote to n2 and n3");
    /// ```
    pub async fn campaign(&mut self) -> Result<StepOutcome, Error> {
        self.step(Message::local(self.ctx.config().id, MessageVariant::Hup))
            .await
    }

    /// Sends heartbeats now, if leader, as if the heartbeat timer fired.
    ///
    /// ```
    /// # use futures::executor::block_on;
    /// # use ruft::*;
    /// # let three = || block_on(Node::new(Config::new(NodeId(1), [NodeId(1), NodeId(2), NodeId(3)]), MemStorage::default())).unwrap();
    /// let mut n = three();
    /// block_on(n.campaign()).unwrap();
    /// let grant = Message::new(NodeId(2), Term(1), NodeId(1), MessageVariant::RequestVoteResponse { granted: true });
    /// block_on(n.step(grant)).unwrap();
    /// assert_eq!(n.status().role, Role::Leader);
    /// let rd = block_on(n.ready()).unwrap();
    /// n.storage_mut().persist(&rd).unwrap();
    /// n.advance(rd);
    /// block_on(n.heartbeat()).unwrap();
    /// let rd = block_on(n.ready()).unwrap();
    /// let beats = rd.messages.iter().filter(|m| matches!(m.variant, MessageVariant::Heartbeat { .. }));
    /// assert_eq!(beats.count(), 2);
    /// ```
    pub async fn heartbeat(&mut self) -> Result<StepOutcome, Error> {
        self.step(Message::local(self.ctx.config().id, MessageVariant::Beat))
            .await
    }

    /// Proposes a command. On the leader it is appended and its key returned;
    /// elsewhere [`Error::NotLeader`] names the leader this node knows of, and
    /// during a leader transfer [`Error::TransferInProgress`] names the
    /// target. An error always means nothing was appended, and `Ok` always
    /// means it was: the proposal reads no storage and never waits (see
    /// [dropping a call half-way](Node#dropping-a-call-half-way)). The
    /// appends to the followers leave with the next Ready.
    ///
    /// ```
    /// # use futures::executor::block_on;
    /// # use ruft::*;
    /// # let single = || block_on(Node::new(Config::new(NodeId(1), [NodeId(1)]), MemStorage::default())).unwrap();
    /// let mut follower = block_on(Node::new(Config::new(NodeId(1), [NodeId(1), NodeId(2)]), MemStorage::default())).unwrap();
    /// assert_eq!(block_on(follower.propose("x".into())), Err(Error::NotLeader { leader: None }));
    /// let mut leader = single();
    /// block_on(leader.campaign()).unwrap();
    /// // The leader's no-op took index 1.
    /// assert_eq!(block_on(leader.propose("x".into())), Ok(EntryKey::new(Term(1), Index(2))));
    /// ```
    pub async fn propose(&mut self, payload: Bytes) -> Result<EntryKey, Error> {
        self.ctx.propose(payload)
    }

    /// Proposes a membership change (thesis chapter 4). On the leader it is
    /// appended as a configuration entry and its key returned; it takes
    /// effect on each node once that node's application has applied it
    /// ([`Node::advance`] after the Ready that hands it out), so a change
    /// never has to be rolled back. See [`ConfChange`] for the kinds of
    /// change (one node at once, or several through a joint configuration).
    ///
    /// At most one change is pending: the leader refuses another until it
    /// has applied this one, and a new leader until it has applied every
    /// entry of its log at its election (an earlier leader's change may be
    /// among them). A leader that a change removes or demotes keeps leading
    /// until the change takes effect (the change commits with its vote), then
    /// steps down. A node added to the cluster is started with the cluster's
    /// initial voters as [`Config::voters`] and learns the rest from the log.
    ///
    /// Errors: [`Error::NotLeader`], [`Error::TransferInProgress`],
    /// [`Error::ConfChangePending`], [`Error::InvalidConfChange`] (the change
    /// does not apply to the leader's membership), and the proposal limits
    /// ([`Error::ProposalsFull`], [`Error::UncommittedBytesFull`]). An error
    /// always means nothing was appended.
    ///
    /// ```
    /// use futures::executor::block_on;
    /// use ruft::{ConfChange, Config, MemStorage, MemberChange, Node, NodeId};
    /// let mut n = block_on(Node::new(Config::new(NodeId(1), [NodeId(1)]), MemStorage::default())).unwrap();
    /// block_on(n.campaign()).unwrap();
    /// let add = ConfChange::Simple(MemberChange::AddLearner(NodeId(2)));
    /// let apply = |n: &mut Node<MemStorage>| while n.has_ready() {
    ///     let rd = block_on(n.ready()).unwrap();
    ///     n.storage_mut().persist(&rd).unwrap();
    ///     n.advance(rd);
    /// };
    /// apply(&mut n); // the no-op commits and is applied
    /// block_on(n.propose_conf_change(add.clone())).unwrap();
    /// assert!(n.membership().learners().is_empty(), "appended, not yet applied");
    /// apply(&mut n);
    /// assert!(n.membership().learners().contains(&NodeId(2)));
    /// ```
    pub async fn propose_conf_change(&mut self, change: ConfChange) -> Result<EntryKey, Error> {
        self.ctx.propose_conf_change(change)
    }

    /// The configuration (voters, learners, joint) as of the application's
    /// applied index: what a snapshot taken at that index records
    /// ([`crate::MemStorage::create_snapshot`]).
    ///
    /// ```
    /// # use futures::executor::block_on;
    /// # use ruft::*;
    /// # let three = || block_on(Node::new(Config::new(NodeId(1), [NodeId(1), NodeId(2), NodeId(3)]), MemStorage::default())).unwrap();
    /// let n = three();
    /// assert_eq!(n.membership().voters().len(), 3);
    /// assert!(n.membership().learners().is_empty() && !n.membership().is_joint());
    /// ```
    pub fn membership(&self) -> &Membership {
        self.ctx.membership()
    }

    /// Asks for a linearizable read (ReadIndex, thesis §6.4). Once the
    /// leader has confirmed that it still leads, a [`ReadState`](crate::ReadState) with the
    /// index to wait for and `ctx` comes in a [`Ready`]: serve the read from
    /// the state machine once it has applied that index. How the leader
    /// confirms is [`Config::read_mode`]: a heartbeat round answered by a
    /// quorum, or its check-quorum lease. A new leader confirms nothing until
    /// it has committed an entry of its own term. A follower forwards the read
    /// to its leader and receives the answer; `ctx` is opaque to ruft and
    /// need not be unique.
    ///
    /// A read is never answered wrongly, but may go unanswered: if the leader
    /// steps down or a message is lost, the read is dropped (traced) and the
    /// application retries it after a timeout of its own, as for a lost
    /// proposal.
    ///
    /// Errors: [`Error::NotLeader`] on a node that knows no leader (a
    /// candidate, or a follower that has not heard from one in this term),
    /// [`Error::ReadsFull`] on a leader holding [`Config::reads_max`] reads or
    /// [`Config::read_bytes_max`] context bytes.
    ///
    /// ```
    /// # use ruft::{Config, Index, MemStorage, Node, NodeId, ReadState};
    /// # futures::executor::block_on(async {
    /// let mut n = Node::new(Config::new(NodeId(1), [NodeId(1)]), MemStorage::default()).await.unwrap();
    /// n.campaign().await.unwrap();
    /// let mut reads = Vec::new();
    /// n.read_index("get x".into()).await.unwrap();
    /// while n.has_ready() {
    ///     let rd = n.ready().await.unwrap();
    ///     n.storage_mut().persist(&rd).unwrap();
    ///     reads.extend(rd.read_states.iter().cloned());
    ///     n.advance(rd);
    /// }
    /// // Alone in its cluster the leader confirms the read once its no-op commits.
    /// assert_eq!(reads, vec![ReadState { index: Index(1), ctx: "get x".into() }]);
    /// # });
    /// ```
    pub async fn read_index(&mut self, ctx: Bytes) -> Result<StepOutcome, Error> {
        let id = self.ctx.config().id;
        self.step(Message::local(id, MessageVariant::ReadIndex { ctx }))
            .await
    }

    /// Hands leadership to the voter `target` (leader transfer, thesis
    /// §3.10): the leader stops accepting proposals, brings `target` up to
    /// date, then tells it to campaign at once (it skips pre-vote, and voters
    /// that still hear this leader vote for it anyway). The transfer is given
    /// up if it has not finished at the end of the first whole election period
    /// after the request: after `election_tick` to `2 * election_tick` ticks.
    /// It never delays check-quorum.
    ///
    /// Errors: [`Error::NotLeader`] on a non-leader, [`Error::UnknownNode`]
    /// for a target that is not a voter, [`Error::TransferInProgress`] while
    /// another target is being transferred to. A transfer to the leader itself
    /// or to the target already under way is a traced no-op
    /// ([`crate::DropReason::TransferToSelf`], [`crate::DropReason::AlreadyTransferring`]).
    ///
    /// ```
    /// # use ruft::{Config, MemStorage, Node, NodeId, Error};
    /// # futures::executor::block_on(async {
    /// let mut n = Node::new(Config::new(NodeId(1), [NodeId(1), NodeId(2)]), MemStorage::default()).await.unwrap();
    /// assert_eq!(n.transfer_leader(NodeId(2)).await, Err(Error::NotLeader { leader: None }));
    /// # });
    /// ```
    pub async fn transfer_leader(&mut self, target: NodeId) -> Result<StepOutcome, Error> {
        let id = self.ctx.config().id;
        self.step(Message::local(
            id,
            MessageVariant::TransferLeader { target },
        ))
        .await
    }

    /// The application's transport reports how sending a snapshot to `peer`
    /// ended (etcd's `ReportSnapshot`). A leader waits for a follower's
    /// snapshot before sending it anything else; the follower's
    /// acknowledgement ends the wait, and so does this report: after
    /// [`SnapshotStatus::Failed`] the leader probes the follower again (and
    /// sends the snapshot again if it still needs it); after
    /// [`SnapshotStatus::Delivered`] it probes from just past the snapshot.
    /// Report every snapshot the transport delivered or gave up on: if the
    /// snapshot or the follower's acknowledgement is lost and nothing is
    /// reported, that follower waits until the leader changes (as in etcd).
    /// A report for a follower not waiting for one is a traced drop
    /// ([`crate::DropReason::StaleResponse`]).
    ///
    /// Errors: [`Error::UnknownNode`] for a peer that is not another voter.
    ///
    /// ```
    /// # use futures::executor::block_on;
    /// # use ruft::*;
    /// # let three = || block_on(Node::new(Config::new(NodeId(1), [NodeId(1), NodeId(2), NodeId(3)]), MemStorage::default())).unwrap();
    /// let mut n = three();
    /// assert_eq!(
    ///     block_on(n.report_snapshot(NodeId(9), SnapshotStatus::Failed)),
    ///     Err(Error::UnknownNode { id: NodeId(9) })
    /// );
    /// ```
    pub async fn report_snapshot(
        &mut self,
        peer: NodeId,
        status: SnapshotStatus,
    ) -> Result<StepOutcome, Error> {
        let id = self.ctx.config().id;
        self.step(Message::local(
            id,
            MessageVariant::ReportSnapshot { peer, status },
        ))
        .await
    }

    /// Whether [`Node::ready`] has something to hand out (always false while a
    /// Ready is outstanding).
    ///
    /// ```
    /// # use futures::executor::block_on;
    /// # use ruft::*;
    /// # let single = || block_on(Node::new(Config::new(NodeId(1), [NodeId(1)]), MemStorage::default())).unwrap();
    /// let mut n = single();
    /// assert!(!n.has_ready(), "a new node has nothing to hand out");
    /// block_on(n.campaign()).unwrap();
    /// assert!(n.has_ready(), "its vote and its no-op to persist");
    /// let rd = block_on(n.ready()).unwrap();
    /// assert!(!n.has_ready(), "nothing while a Ready is outstanding");
    /// n.storage_mut().persist(&rd).unwrap();
    /// n.advance(rd);
    /// ```
    pub fn has_ready(&self) -> bool {
        self.outstanding.is_none() && self.ctx.has_ready()
    }

    /// Whether stepping `msg` now would drop it for leader stickiness
    /// ([`crate::DropReason::LeaderLease`]): a (pre-)vote request of a newer
    /// term while this node hears its leader, with check-quorum. A pure query.
    ///
    /// ```
    /// # use futures::executor::block_on;
    /// # use ruft::*;
    /// # let three = || block_on(Node::new(Config::new(NodeId(1), [NodeId(1), NodeId(2), NodeId(3)]), MemStorage::default())).unwrap();
    /// let n = three();
    /// let ask = Message::new(NodeId(2), Term(5), NodeId(1), MessageVariant::RequestVote { last: EntryKey::default(), transfer: false });
    /// assert!(!n.lease_ignores(&ask), "without check-quorum there is no lease");
    /// ```
    pub fn lease_ignores(&self, msg: &Message) -> bool {
        self.ctx.lease_ignores(msg)
    }

    /// Whether stepping `msg` would drop it silently (nothing changes,
    /// nothing is sent), now and at any later time. Two kinds are: a message
    /// of an older term that this node neither answers nor acts on, and an
    /// answer of this node's term to a role it has left in that term (a vote
    /// for a candidate that won or gave up, an ack for a leader that stepped
    /// down or restarted: neither role comes back within a term). A pure
    /// query; a checker may remove such a message from its network at once
    /// (`check --drop-dead-messages`).
    ///
    /// ```
    /// # use futures::executor::block_on;
    /// # use ruft::*;
    /// # let three = || block_on(Node::new(Config::new(NodeId(1), [NodeId(1), NodeId(2), NodeId(3)]), MemStorage::default())).unwrap();
    /// let mut n = three();
    /// block_on(n.campaign()).unwrap(); // term 1
    /// block_on(n.campaign()).unwrap(); // term 2
    /// assert_eq!(n.status().term, Term(2));
    /// let old = Message::new(NodeId(2), Term(1), NodeId(1), MessageVariant::Heartbeat { commit: Index(0), read: None });
    /// let now = Message::new(NodeId(2), Term(2), NodeId(1), MessageVariant::Heartbeat { commit: Index(0), read: None });
    /// assert!(n.ignores_for_good(&old), "a heartbeat of term 1 can never matter again");
    /// assert!(!n.ignores_for_good(&now));
    /// let vote = Message::new(NodeId(2), Term(2), NodeId(1), MessageVariant::RequestVoteResponse { granted: true });
    /// assert!(!n.ignores_for_good(&vote), "a candidate counts it");
    /// ```
    pub fn ignores_for_good(&self, msg: &Message) -> bool {
        self.ctx.ignores_for_good(msg)
    }

    /// Hands out what the application must persist, send and apply.
    ///
    /// A storage read that fails does not fail the Ready: it withholds only
    /// the committed entries, and says why in [`Ready::committed_error`].
    /// The one error is [`Error::ReadyOutstanding`]: the last Ready has not
    /// been handed back to [`Node::advance`].
    ///
    /// ```
    /// # use futures::executor::block_on;
    /// # use ruft::*;
    /// # let single = || block_on(Node::new(Config::new(NodeId(1), [NodeId(1)]), MemStorage::default())).unwrap();
    /// let mut n = single();
    /// block_on(n.campaign()).unwrap();
    /// let rd = block_on(n.ready()).unwrap();
    /// assert_eq!(rd.entries.iter().map(|e| e.key).collect::<Vec<_>>(), [EntryKey::new(Term(1), Index(1))]);
    /// assert_eq!(rd.hard_state.map(|hs| hs.term), Some(Term(1)));
    /// assert_eq!(block_on(n.ready()).unwrap_err(), Error::ReadyOutstanding);
    /// ```
    pub async fn ready(&mut self) -> Result<Ready, Error> {
        if self.outstanding.is_some() {
            return Err(Error::ReadyOutstanding);
        }
        let mut rd = self.ctx.take_ready().await;
        rd.token = ReadyToken::of(&rd);
        self.outstanding = Some(Outstanding {
            snapshot: rd.snapshot.as_ref().map(|s| s.key()),
            last_entry: rd.entries.last().map(|e| e.key),
            applying: self.ctx.apply_indexes().1,
            token: rd.token,
        });
        Ok(rd)
    }

    /// Acknowledges that the outstanding Ready was carried out: its
    /// snapshot and entries are durable, its messages sent, its committed
    /// entries applied. `ready` must be that Ready, or at least carry its
    /// [`ReadyToken`] (its fields may have been moved out): anything else
    /// (`Ready::default()`, an older Ready handed back again) is ignored with
    /// a warning on the `ruft::drop` tracing target and leaves the real one
    /// outstanding ([`Node::is_ready_outstanding`]), since acknowledging
    /// writes that were never made would count unwritten entries as
    /// durable. With nothing outstanding (advanced twice) it changes nothing.
    ///
    /// ```
    /// # use futures::executor::block_on;
    /// # use ruft::*;
    /// # let single = || block_on(Node::new(Config::new(NodeId(1), [NodeId(1)]), MemStorage::default())).unwrap();
    /// let mut n = single();
    /// block_on(n.campaign()).unwrap();
    /// let rd = block_on(n.ready()).unwrap();
    /// n.storage_mut().persist(&rd).unwrap();
    /// n.advance(Ready::default()); // not the outstanding Ready: ignored
    /// assert!(n.is_ready_outstanding());
    /// n.advance(rd);
    /// assert!(!n.is_ready_outstanding());
    /// assert_eq!(n.status().persisted, EntryKey::new(Term(1), Index(1)));
    /// ```
    pub fn advance(&mut self, ready: Ready) {
        let id = self.ctx.config().id;
        let Some(done) = self.outstanding else {
            tracing::warn!(target: "ruft::drop", node = %id, "advance without an outstanding Ready");
            return;
        };
        if ready.token != done.token {
            tracing::warn!(target: "ruft::drop", node = %id, "advance with a Ready that is not the outstanding one: ignored");
            return;
        }
        self.outstanding = None;
        self.ctx
            .advance(done.snapshot, done.last_entry, done.applying);
    }

    /// The node's state at a glance.
    ///
    /// ```
    /// # use futures::executor::block_on;
    /// # use ruft::*;
    /// # let three = || block_on(Node::new(Config::new(NodeId(1), [NodeId(1), NodeId(2), NodeId(3)]), MemStorage::default())).unwrap();
    /// let n = three();
    /// let s = n.status();
    /// assert_eq!((s.id, s.role, s.term, s.committed), (NodeId(1), Role::Follower, Term(0), Index(0)));
    /// assert_eq!(s.leader, None);
    /// ```
    pub fn status(&self) -> Status {
        let hs = self.ctx.hard_state();
        let (elapsed, timeout) = self.ctx.election_clock();
        Status {
            id: self.ctx.config().id,
            role: self.ctx.role().role(),
            term: hs.term,
            voted_node: hs.voted_node,
            leader: self.ctx.leader(),
            committed: hs.committed_index,
            applied: self.ctx.apply_indexes().0,
            last: self.ctx.log().last(),
            persisted: self.ctx.log().persisted(),
            election_elapsed: elapsed,
            election_timeout: timeout,
            outbox_dropped: self.ctx.outbox().dropped(),
            transfer: self.ctx.transfer(),
            lease_leader: self.ctx.lease_leader(),
            startup_lease: self.ctx.in_startup_lease(),
        }
    }

    /// Its current term: `status().term` without building the rest of
    /// [`Status`] (model checkers ask it of every node of every state).
    ///
    /// ```
    /// # use futures::executor::block_on;
    /// # use ruft::*;
    /// # let single = || block_on(Node::new(Config::new(NodeId(1), [NodeId(1)]), MemStorage::default())).unwrap();
    /// let mut n = single();
    /// assert_eq!(n.term(), Term(0));
    /// block_on(n.campaign()).unwrap();
    /// assert_eq!(n.term(), Term(1));
    /// assert_eq!(n.term(), n.status().term);
    /// ```
    pub fn term(&self) -> crate::Term {
        self.ctx.hard_state().term
    }

    /// As leader: what it knows of voter `id`'s log (its own entry included).
    /// `None` on a non-leader or for an unknown id.
    ///
    /// ```
    /// # use futures::executor::block_on;
    /// # use ruft::*;
    /// # let single = || block_on(Node::new(Config::new(NodeId(1), [NodeId(1)]), MemStorage::default())).unwrap();
    /// let mut n = single();
    /// assert!(n.progress(NodeId(1)).is_none(), "a follower tracks no one");
    /// block_on(n.campaign()).unwrap();
    /// let rd = block_on(n.ready()).unwrap();
    /// n.storage_mut().persist(&rd).unwrap();
    /// n.advance(rd);
    /// assert_eq!(n.progress(NodeId(1)).map(|p| p.matched()), Some(Index(1)));
    /// ```
    pub fn progress(&self, id: NodeId) -> Option<&crate::Progress> {
        self.ctx.progress(id)
    }

    /// Entries in `[low, high)`, read through the buffer and storage
    /// ([`crate::StorageError::Compacted`] below the first index held).
    ///
    /// ```
    /// # use futures::executor::block_on;
    /// # use ruft::*;
    /// # let single = || block_on(Node::new(Config::new(NodeId(1), [NodeId(1)]), MemStorage::default())).unwrap();
    /// let mut n = single();
    /// block_on(n.campaign()).unwrap();
    /// block_on(n.propose("x".into())).unwrap();
    /// let entries = block_on(n.entries(Index(1), Index(3))).unwrap();
    /// assert_eq!(entries[1].variant, EntryVariant::Normal("x".into()));
    /// ```
    pub async fn entries(&self, low: Index, high: Index) -> Result<Vec<Entry>, Error> {
        Ok(self.ctx.log().entries(low, high, usize::MAX).await?)
    }

    /// The configuration.
    ///
    /// ```
    /// # use futures::executor::block_on;
    /// # use ruft::*;
    /// # let three = || block_on(Node::new(Config::new(NodeId(1), [NodeId(1), NodeId(2), NodeId(3)]), MemStorage::default())).unwrap();
    /// assert_eq!(three().config().id, NodeId(1));
    /// ```
    pub fn config(&self) -> &Config {
        self.ctx.config()
    }

    /// Whether a Ready is in the application's hands.
    ///
    /// ```
    /// # use futures::executor::block_on;
    /// # use ruft::*;
    /// # let single = || block_on(Node::new(Config::new(NodeId(1), [NodeId(1)]), MemStorage::default())).unwrap();
    /// let mut n = single();
    /// block_on(n.campaign()).unwrap();
    /// let rd = block_on(n.ready()).unwrap();
    /// assert!(n.is_ready_outstanding());
    /// n.advance(rd);
    /// assert!(!n.is_ready_outstanding());
    /// ```
    pub fn is_ready_outstanding(&self) -> bool {
        self.outstanding.is_some()
    }

    /// The storage, to read what was persisted.
    ///
    /// ```
    /// # use futures::executor::block_on;
    /// # use ruft::*;
    /// # let single = || block_on(Node::new(Config::new(NodeId(1), [NodeId(1)]), MemStorage::default())).unwrap();
    /// let mut n = single();
    /// block_on(n.campaign()).unwrap();
    /// let rd = block_on(n.ready()).unwrap();
    /// n.storage_mut().persist(&rd).unwrap(); // step 1 of the Ready, through storage_mut
    /// n.advance(rd);
    /// assert_eq!(n.storage().hard_state().term, Term(1));
    /// ```
    pub fn storage(&self) -> &S {
        self.ctx.log().storage()
    }

    /// The storage, for the application's writes (step 1 of a Ready).
    ///
    /// ```
    /// # use futures::executor::block_on;
    /// # use ruft::*;
    /// # let single = || block_on(Node::new(Config::new(NodeId(1), [NodeId(1)]), MemStorage::default())).unwrap();
    /// let mut n = single();
    /// n.storage_mut().set_hard_state(HardState { term: Term(3), voted_node: None, committed_index: Index(0) });
    /// assert_eq!(n.storage().hard_state().term, Term(3), "the write is the application's");
    /// ```
    pub fn storage_mut(&mut self) -> &mut S {
        self.ctx.log_mut().storage_mut()
    }

    /// The log as the node sees it.
    ///
    /// ```
    /// # use futures::executor::block_on;
    /// # use ruft::*;
    /// # let single = || block_on(Node::new(Config::new(NodeId(1), [NodeId(1)]), MemStorage::default())).unwrap();
    /// let mut n = single();
    /// block_on(n.campaign()).unwrap();
    /// assert_eq!(n.log().last(), EntryKey::new(Term(1), Index(1)), "appended");
    /// assert_eq!(n.log().persisted(), EntryKey::default(), "not yet written");
    /// ```
    pub fn log(&self) -> &LogView<S> {
        self.ctx.log()
    }
}

/// Ids carry no behaviour, so a relabelled node is an equivalent node; model
/// checkers use this for symmetry reduction. An outstanding Ready names no node.
///
/// ```
/// use futures::executor::block_on;
/// use ruft::{Config, MemStorage, Node, NodeId, Relabel};
/// let cfg = Config::new(NodeId(1), [NodeId(1), NodeId(2)]);
/// let node = block_on(Node::new(cfg, MemStorage::default())).unwrap();
/// let swap = |id: NodeId| NodeId(3 - id.0);
/// assert_eq!(node.relabel(&swap).status().id, NodeId(2));
/// ```
impl<S: crate::Relabel + Clone> crate::Relabel for Node<S> {
    fn relabel(&self, f: &dyn Fn(NodeId) -> NodeId) -> Self {
        Node {
            ctx: self.ctx.relabel(f),
            outstanding: self.outstanding,
        }
    }
}
