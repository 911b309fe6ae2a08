//! A ruft cluster as a stateright actor model.
//!
//! Each actor owns one real [`Node`] over [`MemStorage`] and runs the whole
//! application loop inside every handler: step, then persist, send, apply and
//! advance, exactly as an application would. There is no Raft logic here: the
//! model only decides *when* things happen.
//!
//! - Timers are abstract: an election timer (armed on followers and
//!   candidates) steps a local `Hup`; a leader's heartbeat timer steps `Beat`;
//!   a leader's client timer proposes a command while the cluster is under
//!   `proposals_max`; with asynchronous durability a persist timer completes
//!   the write of the Ready in flight.
//! - Durable vs volatile: what a node persisted is exactly its [`MemStorage`]
//!   (the application wrote it there from each Ready). A crash keeps only that:
//!   the crashed actor's state is replaced at once by the node rebuilt from its
//!   storage alone, and recovery rebuilds it again (see [`RuftModel`]). This is
//!   stateright's crash/recover with the durable part kept in the actor state
//!   instead of a second copy in stateright's `Storage`, which halves what each
//!   state holds. The [`Ghost`] survives crashes the same way; the node never
//!   reads it.
//! - Bounds (`within_boundary`): highest term, proposals, messages in flight;
//!   crashes are bounded over the whole run by `crashes_max` (the wrapper
//!   removes crash actions once it is reached; stateright's `max_crashes`,
//!   nodes down at once, is set to the same number).

use crate::clients::{self, Client, Event, History, InFlight, Op, Thread, Value};
use crate::config::{LEASE_ELECTION_TICK, LEASE_HEARTBEAT_TICK};
use crate::machine::Machine;
use crate::memo::Memo;
use crate::properties::{
    refused_snapshot, Broken, Expect, Ghost, NodeObs, PROPERTIES, SNAPSHOT_CLAUSE,
};
use crate::step_cache::{CacheStats, Outcome, StepCache, StepEvent};
use futures::executor::block_on;
use ruft::{
    Config, MemStorage, Message, MessageVariant, Node, NodeId, ProgressState, ReadMode, Ready,
    Role, SnapshotStatus, Term, Tick,
};
use stateright::actor::{
    model_timeout, Actor, ActorModel, ActorModelAction, ActorModelState, Envelope, Id,
    LossyNetwork, Network, Out,
};
use stateright::{Model, Path, Property};
use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

pub use crate::config::{BoundCuts, Durability, ModelConfig, NetworkKind};

/// A ruft message on the model's network. Shared: every state a message
/// is in flight in holds the same one, so a state's network is a table of
/// pointers (stateright keeps it in place in every state, and clones it for
/// every successor). Its hash is computed once, when it is sent: stateright
/// hashes every message in flight for every state it generates. Equality
/// and order are the message's (pointers first).
#[derive(Clone)]
pub struct Wire(Arc<Hashed>);

struct Hashed {
    hash: u64,
    msg: Message,
}

impl Wire {
    /// `msg`, hashed, ready to be put on the network.
    pub fn new(msg: Message) -> Wire {
        let mut h = crate::memo::hasher();
        msg.hash(&mut h);
        Wire(Arc::new(Hashed {
            hash: h.finish(),
            msg,
        }))
    }
}

impl std::ops::Deref for Wire {
    type Target = Message;
    fn deref(&self) -> &Message {
        &self.0.msg
    }
}

impl PartialEq for Wire {
    fn eq(&self, other: &Wire) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || (self.0.hash == other.0.hash && self.0.msg == other.0.msg)
    }
}

impl Eq for Wire {}

impl PartialOrd for Wire {
    fn partial_cmp(&self, other: &Wire) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// The message's order (consistent with equality).
impl Ord for Wire {
    fn cmp(&self, other: &Wire) -> std::cmp::Ordering {
        self.0.msg.cmp(&other.0.msg)
    }
}

/// Equal messages have equal kept hashes.
impl Hash for Wire {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.0.hash);
    }
}

impl fmt::Debug for Wire {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.msg)
    }
}

/// The model's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ModelTimer {
    /// Followers and candidates: start an election.
    Election,
    /// Leaders: send heartbeats.
    Heartbeat,
    /// Leaders: a client proposes a command.
    Propose,
    /// The Ready in flight becomes durable (asynchronous durability only).
    Persist,
    /// Leaders (with check-quorum, or while transferring): the election
    /// period ends (`CheckQuorum`).
    CheckQuorum,
    /// Nodes in a leader's lease (check-quorum): `election_tick` ticks pass
    /// without word from the leader, so the lease runs out.
    LeaseExpiry,
    /// Leaders, while under `transfers_max`: the operator asks for a
    /// transfer to this voter.
    Transfer(NodeId),
    /// Any node, while under `compactions_max` and with entries applied
    /// beyond its snapshot: it snapshots its state machine and compacts.
    Compact,
    /// Leaders waiting for a snapshot to reach this follower: the transport
    /// gives up on it (a real transport may, even after it arrived).
    SnapshotFailed(NodeId),
    /// Leaders hosting an idle client under `ops_max`: it writes.
    ClientWrite,
    /// Nodes that know a leader, hosting an idle client under `ops_max`:
    /// it reads (ReadIndex).
    ClientRead,
    /// Leaders, while under `conf_changes_max`: the operator asks for this
    /// membership change (see [`crate::membership`]).
    ConfChange(crate::membership::Offer),
    /// Models with lease reads: a tick passes on every running node's clock
    /// at once (`Node::tick`). Never armed as a timer: the model offers it
    /// as one action of the whole cluster (see [`RuftModel`]).
    Clock,
}

/// What survives a crash: the node's persisted state, and the ghost.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Durable {
    /// What the node persisted.
    pub storage: MemStorage,
    /// The properties' record of this node.
    pub ghost: Ghost,
    /// Client proposals this node made as leader (bounds the search).
    pub proposals: usize,
    /// Times this node crashed (bounds the search).
    pub crashes: usize,
    /// Leader transfers this node started (bounds the search).
    pub transfers: usize,
    /// Pre-vote rounds this node started (bounds the search).
    pub pre_votes: usize,
    /// Log compactions this node made (bounds the search).
    pub compactions: usize,
    /// Membership changes this node proposed as leader (bounds the search).
    pub conf_changes: usize,
    /// The application's durable state machine (models with compaction).
    pub machine: Option<Machine>,
    /// Operations its client started (bounds the search), if it hosts one.
    /// Whether a node hosts a client is part of its state, not of its name:
    /// symmetry reduction renames nodes.
    pub client_issued: Option<u8>,
}

impl fmt::Debug for Durable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} log[", self.storage.hard_state())?;
        crate::display::keys(f, self.storage.stored_entries().iter())?;
        write!(f, "]")
    }
}

/// One actor's state, shared: cloning it is a reference count, and the first
/// change through it copies the data it points to ([`Arc::make_mut`]), so a
/// state that did not change is never copied, and a step's result can be
/// kept and handed out again (`step_cache.rs`). Its order (see
/// `symmetry.rs`) compares id-free facts first, so that sorting states is a
/// good canonical form under relabelling. Its hash is computed once and kept
/// ([`NodeData::fingerprint`]). Equality looks at the pointers first.
#[derive(Clone, PartialEq, Eq)]
pub struct NodeState(Arc<NodeData>);

impl std::ops::Deref for NodeState {
    type Target = NodeData;
    fn deref(&self) -> &NodeData {
        &self.0
    }
}

/// A change copies the data first if another state shares it.
impl std::ops::DerefMut for NodeState {
    fn deref_mut(&mut self) -> &mut NodeData {
        Arc::make_mut(&mut self.0)
    }
}

impl From<NodeData> for NodeState {
    fn from(data: NodeData) -> NodeState {
        NodeState(Arc::new(data))
    }
}

/// What one actor's state holds (behind [`NodeState`]).
#[derive(Clone, PartialEq, Eq)]
pub struct NodeData {
    /// The real ruft node.
    pub node: Node<MemStorage>,
    /// A Ready whose write is in flight (asynchronous durability).
    pub pending: Option<Ready>,
    /// Client proposals this node made as leader.
    pub proposals: usize,
    /// Times this node crashed.
    pub crashes: usize,
    /// Leader transfers this node started.
    pub transfers: usize,
    /// Pre-vote rounds this node started.
    pub pre_votes: usize,
    /// Log compactions this node made.
    pub compactions: usize,
    /// Membership changes this node proposed as leader.
    pub conf_changes: usize,
    /// The application's state machine (models with compaction; see
    /// [`crate::machine`]). It is durable, like a database that records
    /// the index it applied up to, and a restart resumes from it.
    pub machine: Option<Machine>,
    /// The client this node hosts (models with clients).
    pub client: Option<Client>,
    /// The register as this node's application applied it: the last client
    /// write in its applied entries (models with clients).
    pub register: Value,
    /// Client events of the current transition, moved into the model's
    /// [`History`] as soon as the transition ends (always empty in a stored
    /// state).
    pub events: Vec<Event>,
    /// The properties' record of this node.
    pub ghost: Ghost,
    /// The hash of all of the above, once it was asked for.
    pub(crate) fingerprint: Memo<u64>,
}

impl NodeData {
    /// The hash of everything this state holds, computed on first use and
    /// kept: a node state is shared by every global state it is part of, and
    /// stateright hashes each of those in full.
    pub fn fingerprint(&self) -> u64 {
        *self.fingerprint.get_or_init(|| {
            let NodeData {
                node,
                pending,
                proposals,
                crashes,
                transfers,
                pre_votes,
                compactions,
                conf_changes,
                machine,
                client,
                register,
                events,
                ghost,
                fingerprint: _,
            } = self;
            let mut h = crate::memo::hasher();
            (node, pending, proposals, crashes, transfers, pre_votes).hash(&mut h);
            (
                compactions,
                conf_changes,
                machine,
                client,
                register,
                events,
                ghost,
            )
                .hash(&mut h);
            h.finish()
        })
    }
}

/// Equal states have equal fingerprints: the fingerprint hashes every field
/// that takes part in equality.
impl Hash for NodeState {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.fingerprint());
    }
}

/// One line; `{:#?}` (the explorer's complete state) adds the node's disk
/// and ghost.
impl fmt::Debug for NodeState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::display::node_line(f, self)?;
        if f.alternate() {
            write!(
                f,
                " | {} | {}",
                crate::display::disk_line(self),
                crate::display::ghost_line(&self.ghost)
            )?;
        }
        Ok(())
    }
}

/// The configuration node `id` runs with in the model described by `cfg`.
pub fn node_config(id: NodeId, cfg: &ModelConfig) -> Config {
    let initial = cfg.initial_voters.unwrap_or(cfg.nodes).min(cfg.nodes);
    let voters = (1..=initial as u64).map(NodeId);
    let mut config = Config::new(id, voters);
    config.append_entries_max = cfg.append_entries_max;
    config.mutant = cfg.mutant;
    config.pre_vote = cfg.pre_vote;
    config.check_quorum = cfg.check_quorum;
    config.read_mode = cfg.read_mode;
    if cfg.read_mode == ReadMode::Lease {
        // Timeouts beyond election_tick are the election timer's (see
        // `RuftModel::tick_all`): a tick never starts an election.
        config.election_tick = Tick(LEASE_ELECTION_TICK);
        config.heartbeat_tick = Tick(LEASE_HEARTBEAT_TICK);
        let beyond = Tick(LEASE_ELECTION_TICK + 1);
        config.election_timeout_range = Some((beyond, Tick(beyond.0 + 1)));
    }
    config
}

/// The actor: one ruft node with its configuration.
#[derive(Clone)]
pub struct RaftActor {
    config: Config,
    cfg: ModelConfig,
    /// Kept steps, shared by every actor of the model (`None`: off).
    cache: Option<Arc<StepCache>>,
}

impl RaftActor {
    /// The actor for node `id` of the cluster described by `cfg`.
    pub fn new(id: NodeId, cfg: &ModelConfig) -> RaftActor {
        RaftActor {
            config: node_config(id, cfg),
            cfg: cfg.clone(),
            cache: None,
        }
    }

    /// The node as rebuilt from `durable` alone (a fresh node without it).
    /// A correct engine always restarts from what it wrote; a broken one may
    /// not (say, a commit index on disk beyond the last entry), and the caller
    /// reports that as a violation of `storage round trip`.
    pub fn rebuilt(&self, durable: Option<Durable>) -> Result<NodeState, ruft::Error> {
        let machine = (self.cfg.compactions_max > 0).then(Machine::default);
        let saved = durable.unwrap_or(Durable {
            storage: MemStorage::default(),
            ghost: Ghost::default(),
            proposals: 0,
            crashes: 0,
            transfers: 0,
            pre_votes: 0,
            compactions: 0,
            conf_changes: 0,
            machine,
            client_issued: (self.config.id.0 <= self.cfg.clients as u64).then_some(0),
        });
        let mut config = self.config.clone();
        if let Some(m) = &saved.machine {
            config.applied = m.applied();
        }
        let node = block_on(Node::new(config, saved.storage))?;
        let client = saved
            .client_issued
            .map(|issued| Client { issued, op: None });
        // A durable state machine already holds the register; one kept in
        // memory is rebuilt as the restarted node hands out its entries.
        let register = saved
            .machine
            .as_ref()
            .and_then(|m| m.entries().iter().rev().find_map(clients::written));
        Ok(NodeData {
            node,
            pending: None,
            proposals: saved.proposals,
            crashes: saved.crashes,
            transfers: saved.transfers,
            pre_votes: saved.pre_votes,
            compactions: saved.compactions,
            conf_changes: saved.conf_changes,
            machine: saved.machine,
            client,
            register,
            events: Vec::new(),
            ghost: saved.ghost,
            fingerprint: Memo::default(),
        }
        .into())
    }

    /// A fresh node. Its configuration was validated when the model was
    /// built, and empty storage holds nothing to refuse.
    fn fresh(&self) -> NodeState {
        self.rebuilt(None)
            .expect("a valid configuration starts from empty storage")
    }

    /// Runs `event` on a copy of the state, then the application loop, then
    /// records the transition; stores the copy only if something changed.
    /// A step already taken from an equal state with an equal event is
    /// handed out again instead (`step_cache.rs`).
    fn transition(
        &self,
        state: &mut Cow<NodeState>,
        step: StepEvent,
        o: &mut Out<Self>,
        event: impl FnOnce(&NodeState, &mut NodeData, &mut Out<Self>),
    ) {
        let old = state.as_ref();
        // A kept step's commands are all of its commands: only a step that
        // starts from an empty `Out` is kept or replayed.
        let cache = self.cache.as_deref().filter(|_| o.is_empty());
        if let Some(outcome) = cache.and_then(|c| c.get(old, &step)) {
            outcome.replay(state, o);
            return;
        }
        let fired = match step {
            StepEvent::Timeout(_, t) => Some(t),
            StepEvent::Deliver(..) => None,
        };
        let mut next = old.clone();
        let data: &mut NodeData = &mut next;
        data.ghost.start_transition();
        event(old, data, o);
        // A new pre-vote round: the node asked for pre-votes in this step.
        let asked = data.node.status().role == Role::PreCandidate
            && (old.node.status().role != Role::PreCandidate
                || fired == Some(ModelTimer::Election));
        // Counted only under a bound: an unbounded count would tell apart
        // states that differ in nothing else, without end.
        if asked && self.cfg.pre_votes_max.is_some() {
            data.pre_votes += 1;
        }
        self.run_ready(data, o);
        if fired == Some(ModelTimer::ClientRead)
            && clients::read_answered(data.client, &data.events)
        {
            data.ghost.leadership.seen.read_at_once = true;
        }
        data.ghost.observe_step(&old.node, &data.node);
        let mut armed = self.timers(old);
        if let Some(t) = fired {
            armed.remove(&t);
        }
        self.sync_timers(&armed, &self.timers(data), o);
        let changed = next != *old;
        if let Some(c) = cache {
            if let Some(outcome) = Outcome::record(changed.then(|| next.clone()), o) {
                c.put(old.clone(), step, outcome);
            }
        }
        if changed {
            *state = Cow::Owned(next);
        }
    }

    /// Takes Readys until none is left; with asynchronous durability the first
    /// one is held as `pending` until the persist timer fires.
    fn run_ready(&self, st: &mut NodeData, o: &mut Out<Self>) {
        while st.pending.is_none() && st.node.has_ready() {
            let rd = match block_on(st.node.ready()) {
                Ok(rd) => rd,
                Err(e) => {
                    // MemStorage never fails a read: a refused Ready is an engine bug.
                    let id = st.node.status().id;
                    let what = format!("{id}'s ready() failed: {e}");
                    st.ghost
                        .broke(Broken::Storage, id, "every Ready is handed out", what);
                    return;
                }
            };
            match self.cfg.durability {
                Durability::Async => st.pending = Some(rd),
                Durability::Sync => carry_out(st, rd, o),
            }
        }
    }

    /// The timers the state calls for.
    fn timers(&self, st: &NodeData) -> BTreeSet<ModelTimer> {
        let mut t = BTreeSet::new();
        let status = st.node.status();
        if status.role == Role::Leader {
            if self.cfg.heartbeats {
                t.insert(ModelTimer::Heartbeat);
            }
            if st.proposals < self.cfg.proposals_max {
                t.insert(ModelTimer::Propose);
            }
            // With a clock, ticks end election periods (and give transfers
            // up); the timer would end them at moments no clock allows.
            if (self.cfg.check_quorum || status.transfer.is_some()) && !self.keeps_time() {
                t.insert(ModelTimer::CheckQuorum);
            }
            if st.transfers < self.cfg.transfers_max && status.transfer.is_none() {
                let voters = st.node.membership().incoming().clone();
                let peers = voters.into_iter().filter(|&v| v != self.config.id);
                t.extend(peers.map(ModelTimer::Transfer));
            }
            let m = st.node.membership();
            let outgoing = m.outgoing().into_iter().flatten();
            let members = m.incoming().iter().chain(m.learners()).chain(outgoing);
            let waiting = members.filter(|&&v| {
                st.node
                    .progress(v)
                    .is_some_and(|p| matches!(p.state(), ProgressState::Snapshot { .. }))
            });
            t.extend(waiting.map(|&v| ModelTimer::SnapshotFailed(v)));
            if st.conf_changes < self.cfg.conf_changes_max {
                let offers = crate::membership::offers(
                    st.node.membership(),
                    self.config.id,
                    self.cfg.nodes,
                    self.cfg.learners,
                    self.cfg.joint,
                );
                t.extend(offers.into_iter().map(ModelTimer::ConfChange));
            }
        } else if !self.keeps_time() {
            t.insert(ModelTimer::Election);
            if status.lease_leader.is_some() {
                t.insert(ModelTimer::LeaseExpiry);
            }
        } else if status.lease_leader.is_none() && !status.startup_lease {
            // With a clock, a node that may have promised a leader not to
            // vote (it heard from it, or started, within `election_tick`)
            // does not time out either: election timeouts are at least
            // `election_tick`. Any other node's timer may fire at once (its
            // timeout may be over; an earlier campaign only adds behaviours).
            t.insert(ModelTimer::Election);
        }
        if st.pending.is_some() {
            t.insert(ModelTimer::Persist);
        }
        if self.may_compact(st) {
            t.insert(ModelTimer::Compact);
        }
        if st
            .client
            .is_some_and(|c| c.op.is_none() && c.issued < self.cfg.ops_max)
        {
            if status.role == Role::Leader {
                t.insert(ModelTimer::ClientWrite);
            }
            if status.leader.is_some() {
                t.insert(ModelTimer::ClientRead);
            }
        }
        t
    }

    /// Whether the model keeps time (lease reads): a clock action ticks
    /// every node, and the lease-expiry timer is not needed.
    fn keeps_time(&self) -> bool {
        self.cfg.read_mode == ReadMode::Lease
    }

    /// The client starts a write (its node leads) or a read; a call the
    /// node refuses starts nothing.
    fn client_starts(&self, st: &mut NodeData, write: bool) {
        let Some(client) = st.client.as_mut() else {
            return;
        };
        let thread = Thread {
            node: self.config.id,
            op: client.issued + 1,
        };
        let started = match write {
            true => block_on(st.node.propose(clients::write_payload()))
                .ok()
                .map(|key| (InFlight::Write { thread, key }, Op::Write(key))),
            false => block_on(st.node.read_index(thread.ctx())).ok().map(|_| {
                let read = InFlight::Read {
                    thread,
                    index: None,
                };
                (read, Op::Read)
            }),
        };
        if let Some((in_flight, invoked)) = started {
            client.issued += 1;
            client.op = Some(in_flight);
            st.events.push(Event::Invoke(thread, invoked));
        }
    }

    /// Whether the node may compact now: under the bound, with entries
    /// applied beyond its snapshot.
    fn may_compact(&self, st: &NodeData) -> bool {
        st.compactions < self.cfg.compactions_max
            && st
                .machine
                .as_ref()
                .is_some_and(|m| m.may_compact(st.node.storage()))
    }

    /// Snapshots the state machine at its applied index and drops the log
    /// up to there, as an application compacting its log does.
    fn compact(&self, st: &mut NodeData) {
        let Some(machine) = &st.machine else {
            return;
        };
        let membership = st.node.membership().clone();
        match machine.compact(st.node.storage_mut(), &membership) {
            Ok(()) => st.compactions += 1,
            // The machine applied only committed, persisted entries: a
            // refusal means the engine handed out something else.
            Err(e) => {
                let id = st.node.status().id;
                st.ghost.broke(
                    Broken::Snapshot,
                    id,
                    SNAPSHOT_CLAUSE,
                    refused_snapshot(id, &e),
                );
            }
        }
    }

    fn sync_timers(
        &self,
        armed: &BTreeSet<ModelTimer>,
        wanted: &BTreeSet<ModelTimer>,
        o: &mut Out<Self>,
    ) {
        for &t in wanted.difference(armed) {
            o.set_timer(t, model_timeout());
        }
        for &t in armed.difference(wanted) {
            o.cancel_timer(t);
        }
    }
}

/// Persist, then send, then apply, then advance.
fn carry_out(st: &mut NodeData, rd: Ready, o: &mut Out<RaftActor>) {
    if let Err(e) = st.node.storage_mut().persist(&rd) {
        // A Ready never leaves a gap in the log nor hands out an old
        // snapshot; a broken engine's does, and the node is stuck with it
        // (`storage round trip` reports it).
        let id = st.node.status().id;
        let what = format!("the disk refused {id}'s Ready: {e}");
        st.ghost
            .broke(Broken::Storage, id, "every Ready can be written", what);
        return;
    }
    st.ghost.observe_ready(&st.node, &rd);
    for msg in &rd.messages {
        o.send(actor_id(msg.dst), Wire::new(msg.clone()));
    }
    let refused = st
        .machine
        .as_mut()
        .is_some_and(|m| m.apply_ready(&rd).is_err());
    if st.client.is_some() || !rd.read_states.is_empty() {
        let (term, applied) = (st.node.status().term, st.node.status().applied);
        clients::on_ready(
            st.client.as_mut(),
            &mut st.register,
            &mut st.events,
            &rd,
            term,
            applied,
        );
    }
    st.node.advance(rd);
    if let Some(m) = &st.machine {
        st.ghost.observe_machine(&st.node, m, refused);
    }
}

/// Moves the client events of the transition just taken from the nodes into
/// the model's history, in node order (one transition acts on one node).
fn record_client_events(state: &mut State) {
    for i in 0..state.actor_states.len() {
        if state.actor_states[i].events.is_empty() {
            continue;
        }
        let st = Arc::make_mut(&mut state.actor_states[i]);
        state.history.events.append(&mut st.events);
    }
}

fn durable(st: &NodeState) -> Durable {
    Durable {
        storage: st.node.storage().clone(),
        ghost: st.ghost.clone(),
        proposals: st.proposals,
        crashes: st.crashes,
        transfers: st.transfers,
        pre_votes: st.pre_votes,
        compactions: st.compactions,
        conf_changes: st.conf_changes,
        machine: st.machine.clone(),
        client_issued: st.client.map(|c| c.issued),
    }
}

/// The stateright id of a node.
pub fn actor_id(id: NodeId) -> Id {
    Id::from(usize::try_from(id.0.saturating_sub(1)).unwrap_or(usize::MAX))
}

/// The node id of a stateright actor.
pub fn node_id(id: Id) -> NodeId {
    NodeId(usize::from(id) as u64 + 1)
}

impl Actor for RaftActor {
    type Msg = Wire;
    type State = NodeState;
    type Timer = ModelTimer;
    /// Nothing: stateright's storage slot is never used (a crash keeps the
    /// durable part in the actor state, see [`RuftModel`]). It is `()`
    /// rather than [`Durable`] because stateright keeps one slot per node in
    /// every state, in place: `Option<Durable>` is 480 bytes, and three of
    /// them doubled the size of a state waiting in the search's queue.
    type Storage = ();
    type Random = ();

    fn name(&self) -> String {
        self.config.id.to_string()
    }

    /// The model never saves stateright storage (a crash keeps the durable
    /// part in the actor state, see [`RuftModel`]), so this always starts a
    /// fresh node: at init, and on recovery before the wrapper rebuilds it.
    fn on_start(&self, _id: Id, _storage: &Option<()>, o: &mut Out<Self>) -> NodeState {
        let st = self.fresh();
        self.sync_timers(&BTreeSet::new(), &self.timers(&st), o);
        st
    }

    fn on_msg(&self, id: Id, state: &mut Cow<NodeState>, _src: Id, msg: Wire, o: &mut Out<Self>) {
        let step = StepEvent::Deliver(id, msg.clone());
        self.transition(state, step, o, |old, st, _| {
            // An honest peer's message is never refused; if it were, the node
            // stays as it was and the properties judge the outcome.
            let outcome = block_on(st.node.step(Message::clone(&msg)));
            st.ghost
                .observe_delivery(&old.node, &st.node, &msg, &outcome);
        });
    }

    fn on_timeout(
        &self,
        actor: Id,
        state: &mut Cow<NodeState>,
        timer: &ModelTimer,
        o: &mut Out<Self>,
    ) {
        let id = self.config.id;
        let election_tick = self.config.election_tick;
        let step = StepEvent::Timeout(actor, *timer);
        self.transition(state, step, o, |old, st, o| match timer {
            ModelTimer::Election => drop(block_on(
                st.node.step(Message::local(id, MessageVariant::Hup)),
            )),
            ModelTimer::Heartbeat => drop(block_on(
                st.node.step(Message::local(id, MessageVariant::Beat)),
            )),
            ModelTimer::Propose => {
                let payload = vec![u8::try_from(st.proposals).unwrap_or(u8::MAX)];
                if block_on(st.node.propose(payload.into())).is_ok() {
                    st.proposals += 1;
                }
            }
            ModelTimer::Persist => {
                if let Some(rd) = st.pending.take() {
                    carry_out(st, rd, o);
                }
            }
            ModelTimer::CheckQuorum => {
                let _ = block_on(
                    st.node
                        .step(Message::local(id, MessageVariant::CheckQuorum)),
                );
                st.ghost.observe_check_quorum(&old.node, &st.node);
            }
            ModelTimer::LeaseExpiry => {
                // Time passes for this node alone, one tick at a time, until
                // the lease is over (at most `election_tick` ticks); its own
                // election timer may fire on the way, as it would.
                for _ in 0..election_tick.0 {
                    if st.node.status().lease_leader.is_none() {
                        break;
                    }
                    let _ = block_on(st.node.tick());
                }
            }
            ModelTimer::Transfer(target) => {
                if block_on(st.node.transfer_leader(*target)) == Ok(ruft::StepOutcome::Handled) {
                    st.transfers += 1;
                }
            }
            ModelTimer::Compact => self.compact(st),
            ModelTimer::SnapshotFailed(peer) => {
                let _ = block_on(st.node.report_snapshot(*peer, SnapshotStatus::Failed));
            }
            ModelTimer::ConfChange(offer) => {
                let change = offer.change(self.cfg.joint);
                if block_on(st.node.propose_conf_change(change)).is_ok() {
                    st.conf_changes += 1;
                }
            }
            ModelTimer::ClientWrite => self.client_starts(st, true),
            ModelTimer::ClientRead => self.client_starts(st, false),
            ModelTimer::Clock => {
                // A leader's tick may end its election period (CheckQuorum).
                let status = old.node.status();
                let period_ends =
                    status.role == Role::Leader && status.election_elapsed.0 + 1 >= election_tick.0;
                let _ = block_on(st.node.tick());
                if period_ends {
                    st.ghost.observe_check_quorum(&old.node, &st.node);
                }
            }
        });
    }
}

/// The cluster state as the properties see it.
pub fn observe(state: &State) -> Vec<NodeObs<'_>> {
    state
        .actor_states
        .iter()
        .zip(&state.crashed)
        .map(|(s, &crashed)| NodeObs {
            node: &s.node,
            up: !crashed,
            ghost: &s.ghost,
            machine: s.machine.as_ref(),
            history: Some(&state.history),
        })
        .collect()
}

/// Whether a lease running out at node `id` can change anything now: only a
/// message its lease makes it ignore (a (pre-)vote request of a newer term)
/// sees the difference, so the expiry is taken just before such a delivery
/// and never elsewhere. Every other order leads to the same deliveries with
/// the same outcomes (a leader's message in between renews the lease either
/// way), so the reachable outcomes are the same with far fewer interleavings
/// (`proofs/README.md#lease-expiry`).
fn lease_matters(state: &State, id: Id) -> bool {
    let node = &state.actor_states[usize::from(id)].node;
    state
        .network
        .iter_deliverable()
        .any(|env| env.dst == id && node.lease_ignores(env.msg))
}

/// Whether `state` lies within the configured bounds; counts what each bound cuts.
pub fn within_boundary(cfg: &ModelConfig, state: &State) -> bool {
    // One pass over the nodes: this runs on every generated state.
    let mut term = Term(0);
    let (mut proposals, mut transfers, mut pre_votes) = (0, 0, 0);
    let (mut compactions, mut conf_changes) = (0, 0);
    for s in &state.actor_states {
        term = term.max(s.node.term());
        proposals += s.proposals;
        transfers += s.transfers;
        pre_votes += s.pre_votes;
        compactions += s.compactions;
        conf_changes += s.conf_changes;
    }
    let cut = |counter: &AtomicUsize| {
        counter.fetch_add(1, Ordering::Relaxed);
        false
    };
    if term > Term(cfg.term_max) {
        return cut(&cfg.cuts.term);
    }
    if proposals > cfg.proposals_max || transfers > cfg.transfers_max {
        return cut(&cfg.cuts.proposals);
    }
    if cfg.pre_votes_max.is_some_and(|max| pre_votes > max) {
        return cut(&cfg.cuts.pre_votes);
    }
    if compactions > cfg.compactions_max {
        return cut(&cfg.cuts.compactions);
    }
    if conf_changes > cfg.conf_changes_max {
        return cut(&cfg.cuts.conf_changes);
    }
    if state.network.len() > cfg.in_flight_max {
        return cut(&cfg.cuts.in_flight);
    }
    true
}

/// The cluster model as `check` and the tests use it: stateright's actor model
/// wrapped so that actions, steps and states read like the rest of ruft, with
/// the shared properties attached.
pub struct RuftModel {
    inner: ActorModel<RaftActor, ModelConfig, History>,
    /// The configuration it was built from.
    pub cfg: ModelConfig,
    /// Whether every next state is replaced by its canonical renaming
    /// (symmetry reduction that works for BFS and DFS alike).
    symmetric: bool,
    /// Equal node states kept once (see `intern.rs`).
    interner: Arc<crate::intern::Interner>,
    /// Node steps kept to be handed out again (see `step_cache.rs`).
    cache: Option<Arc<StepCache>>,
    /// Renamings of node states kept (symmetry, see `symmetry.rs`).
    renamings: Arc<crate::symmetry::Renamings>,
    /// The states a part of a split search starts from instead of the
    /// initial state (see `shard.rs`).
    roots: Option<Arc<Vec<State>>>,
    /// Where the fingerprint of every state checked goes, when recorded.
    recorder: Option<Arc<Mutex<Vec<u64>>>>,
}

impl RuftModel {
    /// Builds the model described by `cfg`.
    pub fn new(mut cfg: ModelConfig) -> RuftModel {
        // Each model has its own halt switch; the bound counters stay shared.
        cfg.halt = Arc::default();
        let network = match cfg.network {
            NetworkKind::Unordered => Network::new_unordered_nonduplicating([]),
            NetworkKind::Duplicating => Network::new_unordered_duplicating([]),
            NetworkKind::Ordered => Network::new_ordered([]),
        };
        let lossy = if cfg.lossy {
            LossyNetwork::Yes
        } else {
            LossyNetwork::No
        };
        let cache = (cfg.step_cache > 0).then(|| Arc::new(StepCache::new(cfg.step_cache)));
        let actor = |i| RaftActor {
            cache: cache.clone(),
            ..RaftActor::new(NodeId(i), &cfg)
        };
        let inner = ActorModel::new(cfg.clone(), History::default())
            .actors((1..=cfg.nodes as u64).map(actor))
            .init_network(network)
            .lossy_network(lossy)
            .max_crashes(cfg.crashes_max)
            .within_boundary(within_boundary);
        RuftModel {
            inner,
            cfg,
            cache,
            renamings: Arc::default(),
            symmetric: false,
            interner: Arc::default(),
            roots: None,
            recorder: None,
        }
    }

    /// A delivery that stateright prunes (the node refused or dropped the
    /// message and changed nothing, or the node is down) still takes the
    /// message off the network, as a real network does: the next state is the
    /// last one without that message. On a duplicating network a delivery
    /// never consumes; an ordered network prunes only deliveries to a node
    /// that is down. See
    /// `proofs/README.md#deliveries-consume` for why the reachable states stay
    /// a superset of the real system's.
    fn consume(&self, last: &State, action: Action) -> Option<State> {
        let ActorModelAction::Deliver { src, dst, msg } = action else {
            return None;
        };
        if self.cfg.network == NetworkKind::Duplicating {
            return None;
        }
        self.inner
            .next_state(last, ActorModelAction::Drop(Envelope { src, dst, msg }))
    }

    /// `state` without the messages their receivers drop for good
    /// (`--drop-dead-messages`): each removal is a delivery the model has
    /// anyway (the receiver ignores the message and it is consumed), taken
    /// at once; the engine decides which (`Node::ignores_for_good`). Only a
    /// receiver whose term is on disk is asked: one whose new term is not yet
    /// written (`--durability async`) may crash and come back in the older
    /// term, where the message matters again.
    fn without_dead_messages(&self, mut state: State) -> State {
        loop {
            let dead = state.network.iter_deliverable().find(|env| {
                let dst = usize::from(env.dst);
                state.actor_states.get(dst).is_some_and(|st| {
                    st.node.storage().hard_state().term == st.node.term()
                        && st.node.ignores_for_good(env.msg)
                })
            });
            let Some(dead) = dead.map(|env| env.to_cloned_msg()) else {
                return state;
            };
            match self.inner.next_state(&state, ActorModelAction::Drop(dead)) {
                Some(without) => state = without,
                None => return state,
            }
        }
    }

    /// One tick on every running node's clock, in node order, within one
    /// action: no message moves in between, so the clocks stay equal (the
    /// lease's assumption of clocks running at one rate, taken exactly).
    /// `None` if no node changed.
    ///
    /// A node that is not leading and heard from no leader for
    /// `election_tick` is not ticked: from there on its clock changes
    /// nothing but when it times out, and its election timer fires at any
    /// moment instead (timeouts are randomized above `election_tick`). This
    /// keeps clocks bounded, so the state space stays finite.
    fn tick_all(&self, last: &State) -> Option<State> {
        let mut next: Option<State> = None;
        for (i, (&down, st)) in last.crashed.iter().zip(&last.actor_states).enumerate() {
            let status = st.node.status();
            let held =
                status.role != Role::Leader && status.election_elapsed >= Tick(LEASE_ELECTION_TICK);
            if down || held {
                continue;
            }
            let tick = ActorModelAction::Timeout(Id::from(i), ModelTimer::Clock);
            if let Some(ticked) = self.inner.next_state(next.as_ref().unwrap_or(last), tick) {
                next = Some(ticked);
            }
        }
        next.filter(|next| next != last)
    }

    /// How often a node step was handed out again instead of run (`None`:
    /// the model keeps no steps).
    pub fn step_cache_stats(&self) -> Option<CacheStats> {
        self.cache.as_ref().map(|c| c.stats())
    }

    /// The same model with symmetry reduction: every next state is replaced by
    /// its representative under renaming of the nodes, so states that differ
    /// only by node names are explored once. Sound because node ids carry no
    /// behaviour and every property quantifies over all nodes. Paths of this
    /// model jump between namings; re-search counterexamples on the plain model.
    pub fn with_symmetry(mut self) -> RuftModel {
        self.symmetric = true;
        self
    }

    /// The model started from `roots` instead of the initial state (one
    /// part of a split search, `shard.rs`).
    pub fn with_roots(mut self, roots: Vec<State>) -> RuftModel {
        self.roots = Some(Arc::new(roots));
        self
    }

    /// The model recording the fingerprint ([`crate::shard::fingerprint`])
    /// of every state the checker checks into `to`.
    pub fn recording_into(mut self, to: Arc<Mutex<Vec<u64>>>) -> RuftModel {
        self.recorder = Some(to);
        self
    }
}

/// The model's state.
pub type State = ActorModelState<RaftActor, History>;
/// The model's action.
pub type Action = ActorModelAction<Wire, ModelTimer, ()>;

/// The name of the hidden property that records fingerprints (never false).
pub const RECORDER: &str = "(fingerprint recorder)";

fn record(model: &RuftModel, state: &State) -> bool {
    if let Some(to) = &model.recorder {
        let fp = crate::shard::fingerprint(state);
        match to.lock() {
            Ok(mut v) => v.push(fp),
            Err(poisoned) => poisoned.into_inner().push(fp),
        }
    }
    true
}

/// Property `I` of [`PROPERTIES`] as a stateright condition.
fn condition<const I: usize>(_: &RuftModel, state: &State) -> bool {
    PROPERTIES[I].holds(&observe(state))
}

const CONDITIONS: [fn(&RuftModel, &State) -> bool; 39] = [
    condition::<0>,
    condition::<1>,
    condition::<2>,
    condition::<3>,
    condition::<4>,
    condition::<5>,
    condition::<6>,
    condition::<7>,
    condition::<8>,
    condition::<9>,
    condition::<10>,
    condition::<11>,
    condition::<12>,
    condition::<13>,
    condition::<14>,
    condition::<15>,
    condition::<16>,
    condition::<17>,
    condition::<18>,
    condition::<19>,
    condition::<20>,
    condition::<21>,
    condition::<22>,
    condition::<23>,
    condition::<24>,
    condition::<25>,
    condition::<26>,
    condition::<27>,
    condition::<28>,
    condition::<29>,
    condition::<30>,
    condition::<31>,
    condition::<32>,
    condition::<33>,
    condition::<34>,
    condition::<35>,
    condition::<36>,
    condition::<37>,
    condition::<38>,
];
const _: () = assert!(
    CONDITIONS.len() == PROPERTIES.len(),
    "one condition per property"
);

impl Model for RuftModel {
    type State = State;
    type Action = Action;

    fn init_states(&self) -> Vec<State> {
        match &self.roots {
            Some(roots) => roots.to_vec(),
            None => self.inner.init_states(),
        }
    }

    /// stateright bounds the nodes down at once; ruft also bounds the crashes
    /// of the whole run by `crashes_max`.
    fn actions(&self, state: &State, actions: &mut Vec<Action>) {
        if self.cfg.halt.load(Ordering::Relaxed) {
            return;
        }
        self.inner.actions(state, actions);
        let crashes: usize = state.actor_states.iter().map(|s| s.crashes).sum();
        if crashes >= self.cfg.crashes_max {
            actions.retain(|a| !matches!(a, ActorModelAction::Crash(_)));
        }
        actions.retain(|a| match a {
            ActorModelAction::Timeout(id, ModelTimer::LeaseExpiry) => lease_matters(state, *id),
            _ => true,
        });
        if self.cfg.read_mode == ReadMode::Lease && state.crashed.iter().any(|&down| !down) {
            actions.push(ActorModelAction::Timeout(Id::from(0), ModelTimer::Clock));
        }
    }

    /// A crashed node keeps only what it persisted: its state is replaced at once
    /// by what a restart would rebuild (so crashes in different volatile states
    /// that persisted the same things lead to one state), and a recovery
    /// rebuilds it from that.
    fn next_state(&self, last: &State, action: Action) -> Option<State> {
        let (rebuild, restart) = match action {
            ActorModelAction::Crash(id) => (Some(usize::from(id)), false),
            ActorModelAction::Recover(id) => (Some(usize::from(id)), true),
            _ => (None, false),
        };
        let mut next = match action {
            ActorModelAction::Timeout(_, ModelTimer::Clock) => self.tick_all(last)?,
            _ => match self.inner.next_state(last, action.clone()) {
                Some(next) => next,
                None => self.consume(last, action)?,
            },
        };
        if let Some(i) = rebuild {
            let before = &last.actor_states[i];
            let mut st = match self.inner.actors[i].rebuilt(Some(durable(before))) {
                Ok(st) => st,
                Err(e) => {
                    // The node cannot reopen from what it wrote: keep it as it
                    // was, flagged, so the search reports it with a trace.
                    let mut st = NodeState::clone(before);
                    let id = st.node.status().id;
                    let what = format!("{id} cannot restart from its storage: {e}");
                    st.ghost.broke(
                        Broken::Storage,
                        id,
                        "a node reopens from what it wrote",
                        what,
                    );
                    st
                }
            };
            let data: &mut NodeData = &mut st;
            data.ghost.start_transition();
            if restart {
                data.ghost.observe_restart(&data.node);
            } else {
                data.crashes += 1;
            }
            next.actor_states[i] = Arc::new(st);
        }
        record_client_events(&mut next);
        // A state beyond the term bound is cut here, before the reductions
        // below (which keep every term), and counted as `within_boundary`
        // would count it: most successors at the bound are campaigns into
        // the next term.
        if next
            .actor_states
            .iter()
            .any(|s| s.node.term() > Term(self.cfg.term_max))
        {
            self.cfg.cuts.term.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        if self.cfg.drop_dead && self.cfg.network != NetworkKind::Duplicating {
            next = self.without_dead_messages(next);
        }
        if self.symmetric {
            next = crate::symmetry::representative(&next, &self.renamings, &self.interner);
        }
        for (i, st) in next.actor_states.iter_mut().enumerate() {
            if !last
                .actor_states
                .get(i)
                .is_some_and(|old| Arc::ptr_eq(old, st))
            {
                *st = self.interner.intern(Arc::clone(st));
            }
        }
        Some(next)
    }

    fn format_action(&self, action: &Action) -> String {
        crate::display::action(action)
    }

    fn format_step(&self, last: &State, action: Action) -> Option<String> {
        let next = Model::next_state(self, last, action.clone())?;
        Some(crate::explain::step_view(&self.cfg, last, &action, &next))
    }

    fn as_svg(&self, path: Path<State, Action>) -> Option<String> {
        self.inner.as_svg(path)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        let mut all: Vec<Property<Self>> = PROPERTIES
            .iter()
            .zip(CONDITIONS)
            .filter(|(p, _)| self.cfg.features().enable(p.needs))
            .map(|(p, cond)| match p.expect() {
                Expect::Always => Property::always(p.name, cond),
                Expect::Sometimes => Property::sometimes(p.name, cond),
            })
            .collect();
        if self.recorder.is_some() {
            // stateright checks every Always property once on every state it
            // checks: the one hook that sees each state once.
            all.push(Property::always(RECORDER, record));
        }
        all
    }

    fn within_boundary(&self, state: &State) -> bool {
        Model::within_boundary(&self.inner, state)
    }
}
