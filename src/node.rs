//! [`Node`]: the public entry point, and the [`Ready`] hand-off to the application.

use crate::context::Context;
use crate::log::LogView;
use crate::{
    ConfChange, Config, Entry, EntryKey, Error, HardState, Index, LogStorage, Membership, Message,
    MessageVariant, NodeId, ReadState, Role, Snapshot, SnapshotStatus, StepOutcome, StorageError,
    Term, Tick,
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

/// Which Ready an acknowledgement is for. [`Node::ready`] gives each Ready a
/// token and [`Node::advance`] accepts only the outstanding Ready's: an
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
    fn of(rd: &Ready) -> ReadyToken {
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
///    crash part-way is repaired when the node reopens (see [`Node::new`]);
///    what is never repaired is a message sent before its write is durable;
/// 2. send `messages` (only after step 1: votes and acks promise durability);
/// 3. restore the state machine from `snapshot` if present, then apply
///    `committed_entries` to it, in order (they start right after the
///    snapshot, or after what was applied before);
/// 4. serve each of `read_states` once the state machine has applied its
///    index: at once if it has, else when a later Ready's entries reach it;
/// 5. call [`Node::advance`] with this Ready.
///
/// Between [`Node::ready`] and [`Node::advance`] the node may keep stepping
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
    /// no read. [`Node::has_ready`] stays true while entries are owed: back
    /// off before asking again, as for any failing disk.
    pub committed_error: Option<StorageError>,
    /// Reads confirmed since the last Ready ([`Node::read_index`]), in the
    /// order they were confirmed.
    pub read_states: Vec<ReadState>,
    /// Which Ready this is: hand it back to [`Node::advance`] unchanged.
    pub token: ReadyToken,
}

/// A snapshot of a node's state for display and tests.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
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
    /// Its configuration (voters, learners, joint), as of its applied index.
    pub membership: Membership,
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

    /// Advances the logical clock by one tick.
    pub async fn tick(&mut self) -> Result<(), Error> {
        self.ctx.tick().await
    }

    /// Steps a message from the network (or a local event, see [`Message::local`]).
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
    pub async fn campaign(&mut self) -> Result<StepOutcome, Error> {
        self.step(Message::local(self.ctx.config().id, MessageVariant::Hup))
            .await
    }

    /// Sends heartbeats now, if leader, as if the heartbeat timer fired.
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
    pub fn membership(&self) -> &Membership {
        self.ctx.membership()
    }

    /// Asks for a linearizable read (ReadIndex, thesis §6.4). Once the
    /// leader has confirmed that it still leads, a [`ReadState`] with the
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
    pub fn has_ready(&self) -> bool {
        self.outstanding.is_none() && self.ctx.has_ready()
    }

    /// Whether stepping `msg` now would drop it for leader stickiness
    /// ([`crate::DropReason::LeaderLease`]): a (pre-)vote request of a newer
    /// term while this node hears its leader, with check-quorum. A pure query.
    pub fn lease_ignores(&self, msg: &Message) -> bool {
        self.ctx.lease_ignores(msg)
    }

    /// Hands out what the application must persist, send and apply.
    ///
    /// A storage read that fails does not fail the Ready: it withholds only
    /// the committed entries, and says why in [`Ready::committed_error`].
    /// The one error is [`Error::ReadyOutstanding`]: the last Ready has not
    /// been handed back to [`Node::advance`].
    pub async fn ready(&mut self) -> Result<Ready, Error> {
        if self.outstanding.is_some() {
            return Err(Error::ReadyOutstanding);
        }
        let parts = self.ctx.take_ready().await;
        let mut rd = Ready {
            snapshot: parts.snapshot.map(Box::new),
            entries: parts.entries,
            hard_state: parts.hard_state,
            messages: parts.messages,
            committed_entries: parts.committed_entries,
            committed_error: parts.committed_error,
            read_states: parts.read_states,
            token: ReadyToken::default(),
        };
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
            membership: self.ctx.membership().clone(),
        }
    }

    /// As leader: what it knows of voter `id`'s log (its own entry included).
    /// `None` on a non-leader or for an unknown id.
    pub fn progress(&self, id: NodeId) -> Option<&crate::Progress> {
        self.ctx.progress(id)
    }

    /// Entries in `[low, high)`, read through the buffer and storage
    /// ([`crate::StorageError::Compacted`] below the first index held).
    pub async fn entries(&self, low: Index, high: Index) -> Result<Vec<Entry>, Error> {
        Ok(self.ctx.log().entries(low, high, usize::MAX).await?)
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        self.ctx.config()
    }

    /// Whether a Ready is in the application's hands.
    pub fn is_ready_outstanding(&self) -> bool {
        self.outstanding.is_some()
    }

    /// The storage, to read what was persisted.
    pub fn storage(&self) -> &S {
        self.ctx.log().storage()
    }

    /// The storage, for the application's writes (step 1 of a Ready).
    pub fn storage_mut(&mut self) -> &mut S {
        self.ctx.log_mut().storage_mut()
    }

    /// The log as the node sees it.
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
