//! A deterministic in-process cluster: real ruft nodes over [`MemStorage`], an
//! in-memory network that holds messages until an event delivers them, and the
//! application loop (persist, send, apply, advance). One driver serves the
//! proptest suites, the scenario tests and the examples.
//!
//! Every event is a method; with property checking on, the driver records each
//! node's [`Ghost`] after every event and [`Cluster::check`] judges the whole
//! cluster with the shared [`crate::properties`].
//!
//! With [`Cluster::keep_clients`] every node also hosts a client whose
//! operations ([`Cluster::client_starts`]) are recorded in a history that
//! `linearizable` judges, as in the model (`driver/clients.rs`);
//! `driver/scenario.rs` holds the etcd-style helpers (cut a link, isolate a
//! node, drop a message kind).

mod clients;
mod scenario;

pub use clients::{ClientOp, Started};
use scenario::Faults;

use crate::clients::{Client, History, Value};
use crate::machine::Machine;
use crate::properties::{self, Broken, Ghost, NodeObs, Reason};
use bytes::Bytes;
use futures::executor::block_on;
use ruft::{
    Config, EntryKey, Error, MemStorage, Message, MessageVariant, Node, NodeId, ReadState, Ready,
    SnapshotStatus, StepOutcome, StorageError,
};
use std::collections::BTreeSet;

/// One node's seat in the cluster: the node (its last state if crashed), its
/// ghost, and a Ready whose writes are still in flight.
#[derive(Clone, Debug)]
pub struct Slot {
    /// The node; while crashed, its state at the crash.
    pub node: Node<MemStorage>,
    /// Whether it runs.
    pub up: bool,
    /// A Ready handed out but not yet persisted (only with `delay_persist`).
    pub pending: Option<Ready>,
    /// Hold each Ready until [`Cluster::persist`] instead of carrying it out at once.
    pub delay_persist: bool,
    /// What the properties know of this node's history.
    pub ghost: Ghost,
    /// The application's durable state machine, once
    /// [`Cluster::keep_machines`] switched state machines on.
    pub machine: Option<Machine>,
    /// Every read state its Readys handed out, oldest first (see
    /// [`Cluster::read_index`]).
    pub read_states: Vec<ReadState>,
    /// The node's client, once [`Cluster::keep_clients`] switched clients on.
    pub client: Option<Client>,
    /// The register as this node's application applied it (clients only).
    pub register: Value,
}

/// Counters of what happened, for reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Messages delivered to a running node.
    pub delivered: usize,
    /// Messages lost (dropped, to a crashed node, or across a partition).
    pub lost: usize,
    /// Entries applied, summed over nodes.
    pub applied: usize,
}

/// Why the driver could not carry out an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DriveError {
    /// ruft refused a call.
    Node(Error),
    /// The application's storage refused a write.
    Storage(StorageError),
}

impl From<Error> for DriveError {
    fn from(e: Error) -> Self {
        DriveError::Node(e)
    }
}

/// N real nodes, a network, and the application loop.
#[derive(Clone, Debug)]
pub struct Cluster {
    slots: Vec<Slot>,
    network: Vec<Message>,
    /// Nodes on one side of a partition; messages crossing it are lost.
    partition: Option<BTreeSet<NodeId>>,
    /// Cut links and dropped message kinds ([`Cluster::cut`], [`Cluster::drop_kind`], ...).
    faults: Faults,
    check_properties: bool,
    /// Tell a sender how sending its InstallSnapshot ended ([`Cluster::keep_machines`]).
    report_lost_snapshots: bool,
    /// Lost InstallSnapshots (sender, receiver) not yet reported to the sender.
    unreported: Vec<(NodeId, NodeId)>,
    /// The clients' history ([`Cluster::keep_clients`]).
    history: Option<History>,
    stats: Stats,
}

impl Cluster {
    /// `n` voters `n1..=n`, each configured by `configure` from the default
    /// [`Config`], with property checking on.
    pub fn new(n: usize, configure: impl Fn(&mut Config)) -> Cluster {
        Cluster::with_voters(n, n, configure)
    }

    /// `n` nodes `n1..=n` of which `n1..=voters` are the initial voters:
    /// the others start outside the cluster (configured with the same
    /// initial voters, as a node that joins later is) and take part once a
    /// membership change adds them.
    pub fn with_voters(n: usize, voters: usize, configure: impl Fn(&mut Config)) -> Cluster {
        let ids: Vec<NodeId> = (1..=n as u64).map(NodeId).collect();
        let initial = &ids[..voters.clamp(1, n.max(1)).min(ids.len())];
        let slots = ids
            .iter()
            .map(|&id| {
                let mut cfg = Config::new(id, initial.iter().copied());
                configure(&mut cfg);
                let node = block_on(Node::new(cfg, MemStorage::default())).expect("valid config");
                Slot {
                    node,
                    up: true,
                    pending: None,
                    delay_persist: false,
                    ghost: Ghost::default(),
                    machine: None,
                    read_states: Vec::new(),
                    client: None,
                    register: None,
                }
            })
            .collect();
        Cluster {
            slots,
            network: Vec::new(),
            partition: None,
            faults: Faults::default(),
            check_properties: true,
            report_lost_snapshots: false,
            unreported: Vec::new(),
            history: None,
            stats: Stats::default(),
        }
    }

    /// Runs the application as a real one with log compaction does: every
    /// node keeps a durable state machine ([`Machine`]) that applies what
    /// each Ready hands out, restarts with `Config::applied` at the machine's
    /// index, may compact its log ([`Cluster::compact`]), and its transport
    /// tells the engine how sending each InstallSnapshot ended
    /// (`Node::report_snapshot`: `Delivered` once delivered, `Failed` when
    /// lost). Call it before the first event.
    pub fn keep_machines(&mut self) {
        for slot in &mut self.slots {
            slot.machine.get_or_insert_with(Machine::default);
        }
        self.report_lost_snapshots = true;
    }

    /// Node `id` snapshots its state machine and compacts its log up to its
    /// applied index, if it is running, keeps a machine and applied anything
    /// beyond its snapshot. Returns whether it compacted. A refused
    /// compaction means the engine handed out something it should not have:
    /// it is flagged for `snapshot consistency`, as the model does.
    pub fn compact(&mut self, id: NodeId) -> bool {
        let slot = &mut self.slots[Self::at(id)];
        let Some(machine) = slot.machine.as_ref().filter(|_| slot.up) else {
            return false;
        };
        if !machine.may_compact(slot.node.storage()) {
            return false;
        }
        let membership = slot.node.membership().clone();
        match machine.compact(slot.node.storage_mut(), &membership) {
            Ok(()) => true,
            Err(e) => {
                let id = slot.node.status().id;
                let what = properties::refused_snapshot(id, &e);
                slot.ghost
                    .broke(Broken::Snapshot, id, properties::SNAPSHOT_CLAUSE, what);
                false
            }
        }
    }

    /// Turns ghost recording off (for throughput runs) or on.
    pub fn set_check_properties(&mut self, on: bool) {
        self.check_properties = on;
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether the cluster has no nodes.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The slot of node `id`.
    pub fn slot(&self, id: NodeId) -> &Slot {
        &self.slots[Self::at(id)]
    }

    /// The slot of node `id`, to set `delay_persist`.
    pub fn slot_mut(&mut self, id: NodeId) -> &mut Slot {
        &mut self.slots[Self::at(id)]
    }

    /// The node `id`.
    pub fn node(&self, id: NodeId) -> &Node<MemStorage> {
        &self.slot(id).node
    }

    /// Every node id.
    pub fn ids(&self) -> impl Iterator<Item = NodeId> {
        (1..=self.slots.len() as u64).map(NodeId)
    }

    /// Messages in flight, oldest first.
    pub fn network(&self) -> &[Message] {
        &self.network
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// The slot of `id` (`n1` is slot 0); no slot for `n0` or an id beyond
    /// the cluster (a message to one is lost).
    fn at(id: NodeId) -> usize {
        id.0.checked_sub(1)
            .and_then(|i| usize::try_from(i).ok())
            .unwrap_or(usize::MAX)
    }

    /// The cluster as the properties see it.
    pub fn observe(&self) -> Vec<NodeObs<'_>> {
        self.slots
            .iter()
            .map(|s| NodeObs {
                node: &s.node,
                up: s.up,
                ghost: &s.ghost,
                machine: s.machine.as_ref(),
                history: self.history.as_ref(),
            })
            .collect()
    }

    /// Names of the Always properties the cluster violates now.
    pub fn check(&self) -> Vec<&'static str> {
        properties::violations(&self.observe())
    }

    /// The Always properties the cluster violates now, each with why.
    pub fn reasons(&self) -> Vec<(&'static str, Reason)> {
        properties::reasons(&self.observe())
    }

    /// Ticks node `id` once.
    pub fn tick(&mut self, id: NodeId) -> Result<(), DriveError> {
        self.with_node(id, |n| block_on(n.tick()).map(|_| StepOutcome::Handled))
            .map(drop)
    }

    /// Starts an election on `id` now.
    pub fn campaign(&mut self, id: NodeId) -> Result<StepOutcome, DriveError> {
        self.with_node(id, |n| block_on(n.campaign()))
    }

    /// Makes leader `id` send heartbeats now.
    pub fn heartbeat(&mut self, id: NodeId) -> Result<StepOutcome, DriveError> {
        self.with_node(id, |n| block_on(n.heartbeat()))
    }

    /// Proposes `payload` on `id`.
    pub fn propose(&mut self, id: NodeId, payload: Bytes) -> Result<EntryKey, DriveError> {
        let mut key = None;
        self.with_node(id, |n| {
            key = Some(block_on(n.propose(payload))?);
            Ok(StepOutcome::Handled)
        })?;
        key.ok_or(DriveError::Node(Error::ReadyOutstanding))
    }

    /// Proposes the membership change `change` on `id`.
    pub fn propose_conf_change(
        &mut self,
        id: NodeId,
        change: ruft::ConfChange,
    ) -> Result<EntryKey, DriveError> {
        let mut key = None;
        self.with_node(id, |n| {
            key = Some(block_on(n.propose_conf_change(change))?);
            Ok(StepOutcome::Handled)
        })?;
        key.ok_or(DriveError::Node(Error::ReadyOutstanding))
    }

    /// Asks `id` for a linearizable read with context `ctx`; the read
    /// states its Readys hand out are collected in [`Slot::read_states`].
    pub fn read_index(&mut self, id: NodeId, ctx: Bytes) -> Result<StepOutcome, DriveError> {
        self.with_node(id, |n| block_on(n.read_index(ctx)))
    }

    /// Asks `id` to hand its leadership to `target` (leader transfer).
    pub fn transfer_leader(
        &mut self,
        id: NodeId,
        target: NodeId,
    ) -> Result<StepOutcome, DriveError> {
        self.with_node(id, |n| block_on(n.transfer_leader(target)))
    }

    /// Steps `msg` into its destination (wherever it came from).
    pub fn step(&mut self, msg: Message) -> Result<StepOutcome, DriveError> {
        self.with_node(msg.dst, |n| block_on(n.step(msg)))
    }

    /// Delivers the `i`-th message in flight (lost if its destination is down).
    /// Returns `None` when there is no such message.
    pub fn deliver(&mut self, i: usize) -> Option<Result<StepOutcome, DriveError>> {
        if i >= self.network.len() {
            return None;
        }
        let msg = self.network.remove(i);
        let dst = self.slots.get(Self::at(msg.dst));
        if !dst.is_some_and(|s| s.up) || self.faults.blocks(&msg) {
            self.lose(&msg);
            return Some(self.report_losses().map(|_| StepOutcome::Handled));
        }
        self.stats.delivered += 1;
        let sent_snapshot = (self.report_lost_snapshots
            && matches!(msg.variant, MessageVariant::InstallSnapshot { .. }))
        .then_some((msg.src, msg.dst));
        let outcome = self.step(msg);
        if let Some((src, dst)) = sent_snapshot {
            // The transport finished sending it: tell the leader, so that a
            // lost acknowledgement does not leave it waiting.
            let reported = self.with_node(src, |n| {
                block_on(n.report_snapshot(dst, SnapshotStatus::Delivered))
            });
            if let Err(e) = reported {
                return Some(Err(e));
            }
        }
        Some(outcome)
    }

    /// Delivers messages oldest first until none is left or `steps_max` were
    /// delivered; returns how many were delivered.
    pub fn deliver_all(&mut self, steps_max: usize) -> Result<usize, DriveError> {
        let mut n = 0;
        while n < steps_max && !self.network.is_empty() {
            self.deliver(0).transpose()?;
            n += 1;
        }
        Ok(n)
    }

    /// Loses the `i`-th message in flight. With state machines kept, a lost
    /// InstallSnapshot is reported to its sender; an error doing so is
    /// returned with the message.
    pub fn drop_message(&mut self, i: usize) -> Option<(Message, Result<(), DriveError>)> {
        (i < self.network.len()).then(|| {
            let msg = self.network.remove(i);
            self.lose(&msg);
            let reported = self.report_losses();
            (msg, reported)
        })
    }

    /// Counts `msg` as lost and, if it is an InstallSnapshot whose loss the
    /// transport reports, queues the report for its sender.
    fn lose(&mut self, msg: &Message) {
        self.stats.lost += 1;
        if self.report_lost_snapshots
            && matches!(msg.variant, MessageVariant::InstallSnapshot { .. })
        {
            self.unreported.push((msg.src, msg.dst));
        }
    }

    /// Tells each sender of a lost InstallSnapshot (if it runs) that it failed.
    fn report_losses(&mut self) -> Result<(), DriveError> {
        while let Some((src, dst)) = self.unreported.pop() {
            self.with_node(src, |n| {
                block_on(n.report_snapshot(dst, SnapshotStatus::Failed))
            })?;
        }
        Ok(())
    }

    /// Sends a copy of the `i`-th message in flight.
    pub fn duplicate(&mut self, i: usize) {
        if let Some(m) = self.network.get(i).cloned() {
            self.network.push(m);
        }
    }

    /// Crashes `id`: volatile state and unpersisted writes are lost.
    pub fn crash(&mut self, id: NodeId) {
        let slot = &mut self.slots[Self::at(id)];
        slot.up = false;
        slot.pending = None;
        if let Some(client) = slot.client.as_mut() {
            client.op = None; // never returns (it may still take effect)
        }
    }

    /// Restarts a crashed `id` from its storage alone.
    pub fn restart(&mut self, id: NodeId) -> Result<(), DriveError> {
        let slot = &mut self.slots[Self::at(id)];
        if slot.up {
            return Ok(());
        }
        let mut cfg = slot.node.config().clone();
        if let Some(m) = &slot.machine {
            cfg.applied = m.applied();
        }
        slot.node = block_on(Node::new(cfg, slot.node.storage().clone()))?;
        slot.up = true;
        // A durable state machine holds the register; one kept in memory is
        // rebuilt as the node hands its entries out again.
        slot.register = slot
            .machine
            .as_ref()
            .and_then(|m| m.entries().iter().rev().find_map(crate::clients::written));
        if self.check_properties {
            slot.ghost.observe_restart(&slot.node);
        }
        Ok(())
    }

    /// Cuts the cluster in two: `side` and everyone else.
    pub fn partition(&mut self, side: BTreeSet<NodeId>) {
        self.partition = Some(side);
    }

    /// Removes the partition.
    pub fn heal(&mut self) {
        self.partition = None;
    }

    /// Completes `id`'s write in flight, then sends and applies that Ready.
    pub fn persist(&mut self, id: NodeId) -> Result<(), DriveError> {
        let i = Self::at(id);
        if let Some(rd) = self.slots[i].pending.take() {
            self.carry_out(i, rd)?;
            self.drive(i)?;
        }
        Ok(())
    }

    /// Runs `f` on a running node, then the application loop and the ghost update.
    fn with_node(
        &mut self,
        id: NodeId,
        f: impl FnOnce(&mut Node<MemStorage>) -> Result<StepOutcome, Error>,
    ) -> Result<StepOutcome, DriveError> {
        let i = Self::at(id);
        let Some(slot) = self.slots.get_mut(i).filter(|s| s.up) else {
            return Ok(StepOutcome::Handled);
        };
        let before = self.check_properties.then(|| slot.node.clone());
        let outcome = f(&mut slot.node);
        if let Some(before) = before {
            slot.ghost.observe_step(&before, &slot.node);
        }
        self.drive(i)?;
        self.report_losses()?;
        Ok(outcome?)
    }

    /// The application loop: take Readys until none is left (or one is held).
    fn drive(&mut self, i: usize) -> Result<(), DriveError> {
        while self.slots[i].pending.is_none() && self.slots[i].node.has_ready() {
            let rd = block_on(self.slots[i].node.ready())?;
            if self.slots[i].delay_persist {
                self.slots[i].pending = Some(rd);
            } else {
                self.carry_out(i, rd)?;
            }
        }
        Ok(())
    }

    /// Persist, then send, then apply, then advance.
    fn carry_out(&mut self, i: usize, rd: Ready) -> Result<(), DriveError> {
        let slot = &mut self.slots[i];
        let storage = slot.node.storage_mut();
        storage.persist(&rd).map_err(DriveError::Storage)?;
        if self.check_properties {
            slot.ghost.observe_ready(&slot.node, &rd);
        }
        self.stats.applied += rd.committed_entries.len();
        let refused = slot.machine.as_mut().map(|m| m.apply_ready(&rd).is_err());
        let before = self.check_properties.then(|| slot.node.clone());
        let messages = rd.messages.clone();
        slot.read_states.extend(rd.read_states.iter().cloned());
        if let Some(history) = self.history.as_mut() {
            let status = slot.node.status();
            crate::clients::on_ready(
                slot.client.as_mut(),
                &mut slot.register,
                &mut history.events,
                &rd,
                status.term,
                status.applied,
            );
        }
        slot.node.advance(rd);
        if let Some(before) = before {
            slot.ghost.observe_step(&before, &slot.node);
        }
        if let (Some(m), Some(refused)) = (&slot.machine, refused) {
            slot.ghost.observe_machine(&slot.node, m, refused);
        }
        for msg in messages {
            let crosses = self
                .partition
                .as_ref()
                .is_some_and(|side| side.contains(&msg.src) != side.contains(&msg.dst));
            if crosses || self.faults.blocks(&msg) {
                self.lose(&msg);
            } else {
                self.network.push(msg);
            }
        }
        Ok(())
    }
}

/// Helpers for the proptest suites: hostile input at a chosen node, the
/// clock of the whole cluster, and one readable line per node.
impl Cluster {
    /// Steps `msg` into node `id` whatever its `dst` says, then runs the
    /// application loop and the ghost update as for any step; a crashed `id`
    /// ignores it. Hostile-input tests use it to deliver misaddressed messages.
    pub fn step_at(&mut self, id: NodeId, msg: Message) -> Result<StepOutcome, DriveError> {
        self.with_node(id, |n| block_on(n.step(msg)))
    }

    /// Proposes each payload on `leader`, then delivers every message: one
    /// client window.
    pub fn propose_window(
        &mut self,
        leader: NodeId,
        payloads: impl IntoIterator<Item = Bytes>,
    ) -> Result<(), DriveError> {
        for payload in payloads {
            self.propose(leader, payload)?;
        }
        self.deliver_all(usize::MAX).map(drop)
    }

    /// Ticks every running node and delivers every message, round after
    /// round, until some node is leader (at most `rounds_max` rounds);
    /// returns it. The election timeouts are randomized from each node's seed.
    pub fn elect(&mut self, rounds_max: usize) -> Result<Option<NodeId>, DriveError> {
        for _ in 0..rounds_max {
            self.tick_all()?;
            self.deliver_all(usize::MAX)?;
            let leader = self
                .ids()
                .find(|&id| self.slot(id).up && self.node(id).status().role == ruft::Role::Leader);
            if leader.is_some() {
                return Ok(leader);
            }
        }
        Ok(None)
    }

    /// Runs node `id`'s application loop now: takes and carries out its
    /// Readys (a restarted node hands out its first Ready at its next event).
    pub fn drive_ready(&mut self, id: NodeId) -> Result<(), DriveError> {
        let i = Self::at(id);
        if self.slots.get(i).is_some_and(|s| s.up) {
            self.drive(i)?;
        }
        Ok(())
    }

    /// The nodes that are crashed and not yet restarted.
    pub fn down(&self) -> Vec<NodeId> {
        self.ids().filter(|&id| !self.slot(id).up).collect()
    }

    /// Ticks every running node once, in id order.
    pub fn tick_all(&mut self) -> Result<(), DriveError> {
        let ids: Vec<NodeId> = self.ids().collect();
        ids.into_iter().try_for_each(|id| self.tick(id))
    }

    /// Node `id` in one line, in the style of the model's displays:
    /// `n2 Follower t2 vote n1 leader n1 log[1@1 2@2] commit 1 applied 1`,
    /// then `(writing 2 entries)` for a held Ready and `DOWN` for a crashed node.
    pub fn status_line(&self, id: NodeId) -> String {
        let slot = self.slot(id);
        let s = slot.node.status();
        let mut line = format!("{} {:?} {}", s.id, s.role, s.term);
        if let Some(v) = s.voted_node {
            line += &format!(" vote {v}");
        }
        if let Some(l) = s.leader {
            line += &format!(" leader {l}");
        }
        line += " log[";
        let _ = crate::display::keys(&mut line, slot.node.log().iter());
        line += &format!("] commit {} applied {}", s.committed, s.applied);
        if s.persisted != s.last {
            line += &format!(" persisted {}", s.persisted);
        }
        if let Some(rd) = &slot.pending {
            line += &format!(" (writing {} entries)", rd.entries.len());
        }
        if !slot.up {
            line += " DOWN";
        }
        line
    }
}
