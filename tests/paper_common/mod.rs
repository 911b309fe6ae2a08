//! Shared vocabulary of the Raft-paper scenario suites (`tests/paper_*.rs`).
//!
//! Keys and logs are written as they display: `2@1` is the entry at index 2
//! created in term 1, and a log is a space-separated list of keys. Messages
//! are compared through their compact `Display`
//! (`n1->n2 Append{t1, prev 0@0, entries [1@1], commit 0}`).
//!
//! Single-node scenarios drive a [`Node`] directly and play the application
//! themselves ([`run_ready`]); multi-node scenarios use the shared driver
//! [`Cluster`] and judge it with the shared properties ([`assert_safe`]).
#![allow(dead_code)] // each suite uses its own subset

use bytes::Bytes;
use futures::executor::block_on;
use ruft::{
    AppendOutcome, Config, Entry, EntryKey, Error, HardState, Index, MemStorage, Message,
    MessageVariant, Node, NodeId, ReadSeq, ReadState, Ready, Role, Snapshot, StepOutcome, Term,
};
use ruft_models::driver::Cluster;

/// Message budget of one `settle`: far above what any scenario needs.
pub const SETTLE_MAX: usize = 10_000;

pub fn n(id: u64) -> NodeId {
    NodeId(id)
}

/// `"2@1"`: index 2, term 1.
pub fn key(s: &str) -> EntryKey {
    let (index, term) = s.split_once('@').expect("index@term");
    EntryKey::new(Term(term.parse().unwrap()), Index(index.parse().unwrap()))
}

/// `"1@1 2@1"`: no-op entries with these keys (payloads play no part here).
pub fn entries(s: &str) -> Vec<Entry> {
    s.split_whitespace().map(|k| Entry::empty(key(k))).collect()
}

/// `"1@1 2@1"`: the keys of `entries`.
pub fn keys(entries: &[Entry]) -> String {
    let keys: Vec<String> = entries.iter().map(ToString::to_string).collect();
    keys.join(" ")
}

/// The whole log of `node`, buffer included, as keys.
pub fn log_of(node: &Node<MemStorage>) -> String {
    let all: Vec<Entry> = node.log().iter().cloned().collect();
    keys(&all)
}

/// Node `id` of the cluster `n1..=size`, default timing (heartbeat 1, election 10).
pub fn config(id: u64, size: u64) -> Config {
    Config::new(n(id), (1..=size).map(n))
}

pub fn hard(term: u64, vote: Option<u64>, commit: u64) -> HardState {
    HardState {
        term: Term(term),
        voted_node: vote.map(n),
        committed_index: Index(commit),
    }
}

/// Storage holding `log` and `hs`, as an application would have persisted them.
pub fn storage(hs: HardState, log: &str) -> MemStorage {
    let mut storage = MemStorage::default();
    storage.append(&entries(log)).unwrap();
    storage.set_hard_state(hs);
    storage
}

/// `snapshot("5@1", "abcde")`: a snapshot of {n1, n2, n3} covering the log
/// up to `5@1`, whose (application) data is `data`.
pub fn snapshot(last: &str, data: &'static str) -> Snapshot {
    Snapshot::new(key(last), (1..=3).map(n), data)
}

/// Storage compacted up to `snap` (as an application that persisted it left
/// it), then holding `log` after it, and `hs`.
pub fn compacted_storage(snap: Snapshot, hs: HardState, log: &str) -> MemStorage {
    let mut storage = MemStorage::default();
    storage.apply_snapshot(snap).unwrap();
    storage.append(&entries(log)).unwrap();
    storage.set_hard_state(hs);
    storage
}

/// A node (re)started from storage holding `log` and `hs`.
pub fn node_on(config: Config, hs: HardState, log: &str) -> Node<MemStorage> {
    block_on(Node::new(config, storage(hs, log))).unwrap()
}

/// A brand-new node `id` of `n1..=size`.
pub fn fresh(id: u64, size: u64) -> Node<MemStorage> {
    block_on(Node::new(config(id, size), MemStorage::default())).unwrap()
}

pub fn msg(src: u64, term: u64, dst: u64, variant: MessageVariant) -> Message {
    Message::new(n(src), Term(term), n(dst), variant)
}

pub fn request_vote(src: u64, term: u64, dst: u64, last: &str) -> Message {
    msg(
        src,
        term,
        dst,
        MessageVariant::RequestVote {
            last: key(last),
            transfer: false,
        },
    )
}

pub fn vote(src: u64, term: u64, dst: u64, granted: bool) -> Message {
    msg(
        src,
        term,
        dst,
        MessageVariant::RequestVoteResponse { granted },
    )
}

pub fn append(src: u64, term: u64, dst: u64, prev: &str, new: &str, commit: u64) -> Message {
    let variant = MessageVariant::AppendEntries {
        prev: key(prev),
        entries: entries(new),
        commit: Index(commit),
    };
    msg(src, term, dst, variant)
}

pub fn append_ok(src: u64, term: u64, dst: u64, matched: u64) -> Message {
    let outcome = AppendOutcome::Accepted {
        matched: Index(matched),
    };
    msg(
        src,
        term,
        dst,
        MessageVariant::AppendEntriesResponse { outcome },
    )
}

/// An append refused at `rejected` (its prev), with the follower's `hint`.
pub fn append_reject(src: u64, term: u64, dst: u64, rejected: u64, hint: &str) -> Message {
    let outcome = AppendOutcome::Rejected {
        rejected: Index(rejected),
        hint: key(hint),
    };
    msg(
        src,
        term,
        dst,
        MessageVariant::AppendEntriesResponse { outcome },
    )
}

/// A leader's InstallSnapshot (§7) carrying `snapshot`.
pub fn install_snapshot(src: u64, term: u64, dst: u64, snapshot: Snapshot) -> Message {
    let snapshot = Box::new(snapshot);
    msg(src, term, dst, MessageVariant::InstallSnapshot { snapshot })
}

pub fn heartbeat(src: u64, term: u64, dst: u64, commit: u64) -> Message {
    let variant = MessageVariant::Heartbeat {
        commit: Index(commit),
        read: None,
    };
    msg(src, term, dst, variant)
}

pub fn heartbeat_ok(src: u64, term: u64, dst: u64) -> Message {
    msg(
        src,
        term,
        dst,
        MessageVariant::HeartbeatResponse { read: None },
    )
}

/// A heartbeat carrying `r<seq>`, the newest read the leader registered (§6.4).
pub fn heartbeat_with_read(src: u64, term: u64, dst: u64, commit: u64, seq: u64) -> Message {
    let variant = MessageVariant::Heartbeat {
        commit: Index(commit),
        read: Some(ReadSeq(seq)),
    };
    msg(src, term, dst, variant)
}

/// An answer to a heartbeat that carried `r<seq>`, echoing it (§6.4).
pub fn heartbeat_ok_with_read(src: u64, term: u64, dst: u64, seq: u64) -> Message {
    let read = Some(ReadSeq(seq));
    msg(src, term, dst, MessageVariant::HeartbeatResponse { read })
}

/// A follower passing its application's read (context `ctx`) to its leader.
pub fn read_forward(src: u64, term: u64, dst: u64, ctx: &'static str) -> Message {
    let ctx = Bytes::from(ctx);
    msg(src, term, dst, MessageVariant::ReadIndexForward { ctx })
}

/// A leader's answer to a forwarded read: serve `ctx` once `index` is applied.
pub fn read_answer(src: u64, term: u64, dst: u64, index: u64, ctx: &'static str) -> Message {
    let variant = MessageVariant::ReadIndexResponse {
        index: Index(index),
        ctx: Bytes::from(ctx),
    };
    msg(src, term, dst, variant)
}

/// The read state a Ready hands out: serve `ctx` once `index` is applied.
pub fn read_state(index: u64, ctx: &'static str) -> ReadState {
    ReadState {
        index: Index(index),
        ctx: Bytes::from(ctx),
    }
}

/// The application asks `node` for a linearizable read with context `ctx`.
pub fn read(node: &mut Node<MemStorage>, ctx: &'static str) -> Result<StepOutcome, Error> {
    block_on(node.read_index(Bytes::from(ctx)))
}

/// A pre-vote request (§9.6) for `term`, the term the sender would campaign in.
pub fn pre_vote(src: u64, term: u64, dst: u64, last: &str) -> Message {
    msg(
        src,
        term,
        dst,
        MessageVariant::RequestPreVote { last: key(last) },
    )
}

/// A pre-vote answer: a grant carries the term asked about, a refusal the
/// voter's own term.
pub fn pre_vote_answer(src: u64, term: u64, dst: u64, granted: bool) -> Message {
    msg(
        src,
        term,
        dst,
        MessageVariant::RequestPreVoteResponse { granted },
    )
}

/// A vote request sent because the leader handed over (leader transfer).
pub fn transfer_vote_request(src: u64, term: u64, dst: u64, last: &str) -> Message {
    let mut m = request_vote(src, term, dst, last);
    m.variant = MessageVariant::RequestVote {
        last: key(last),
        transfer: true,
    };
    m
}

/// A leader's "campaign now" (leader transfer, thesis §3.10).
pub fn timeout_now(src: u64, term: u64, dst: u64) -> Message {
    msg(src, term, dst, MessageVariant::TimeoutNow)
}

/// Steps `msg` into `node`; a refused message fails the test.
pub fn step(node: &mut Node<MemStorage>, msg: Message) -> StepOutcome {
    block_on(node.step(msg.clone())).unwrap_or_else(|e| panic!("{msg}: {e}"))
}

pub fn tick(node: &mut Node<MemStorage>) {
    block_on(node.tick()).unwrap();
}

/// Carries out `node`'s Ready as the application would (persist the entries,
/// then the HardState; messages are only returned; apply; advance) and
/// returns it. An empty Ready when there is nothing to do.
pub fn run_ready(node: &mut Node<MemStorage>) -> Ready {
    if !node.has_ready() {
        return Ready::default();
    }
    let rd = block_on(node.ready()).unwrap();
    node.storage_mut().persist(&rd).unwrap();
    node.advance(rd.clone());
    rd
}

/// What `node` sends next (carrying out its Ready).
pub fn sends(node: &mut Node<MemStorage>) -> Vec<String> {
    show(&run_ready(node).messages)
}

pub fn show(messages: &[Message]) -> Vec<String> {
    messages.iter().map(ToString::to_string).collect()
}

/// `(role, term, leader)` at a glance.
pub fn role_term_leader(node: &Node<MemStorage>) -> (Role, Term, Option<NodeId>) {
    let s = node.status();
    (s.role, s.term, s.leader)
}

/// Node n1 of `n1..=size`, a candidate in term 1 with its Ready carried out.
pub fn candidate(size: u64) -> Node<MemStorage> {
    let mut node = fresh(1, size);
    block_on(node.campaign()).unwrap();
    run_ready(&mut node);
    node
}

/// Node n1 of `n1..=size`, leader of term 1 with its no-op `1@1` persisted,
/// voted in by n2..; its Ready carried out.
pub fn leader(size: u64) -> Node<MemStorage> {
    let mut node = candidate(size);
    for voter in 2..=size {
        if node.status().role == Role::Leader {
            break;
        }
        step(&mut node, vote(voter, 1, 1, true));
    }
    assert_eq!(node.status().role, Role::Leader);
    run_ready(&mut node);
    node
}

// ---------------------------------------------------------------- clusters

/// Configures a node with pre-vote (§9.6).
pub fn with_pre_vote(cfg: &mut Config) {
    cfg.pre_vote = true;
}

/// Configures a node with check-quorum and leader stickiness (§6.2).
pub fn with_check_quorum(cfg: &mut Config) {
    cfg.check_quorum = true;
}

/// Configures a node with both pre-vote and check-quorum.
pub fn with_both(cfg: &mut Config) {
    cfg.pre_vote = true;
    cfg.check_quorum = true;
}

/// Fails with the names of the Always properties the cluster breaks.
pub fn assert_safe(cluster: &Cluster) {
    let broken = cluster.reasons();
    assert!(broken.is_empty(), "properties violated: {broken:#?}");
}

/// Delivers until the network is quiet; returns the transcript.
pub fn settle(cluster: &mut Cluster) -> Vec<String> {
    let delivered = cluster
        .settle(SETTLE_MAX)
        .expect("no node refuses a message");
    assert!(cluster.network().is_empty(), "the network did not quiesce");
    show(&delivered)
}

/// `id` campaigns and the network settles; returns the transcript.
pub fn elect(cluster: &mut Cluster, id: u64) -> Vec<String> {
    cluster.campaign(n(id)).unwrap();
    settle(cluster)
}

/// Leader `id` sends heartbeats and the network settles (followers learn the
/// commit index); returns the transcript.
pub fn beat(cluster: &mut Cluster, id: u64) -> Vec<String> {
    cluster.heartbeat(n(id)).unwrap();
    settle(cluster)
}

/// Delivers the first message in flight whose display starts with `prefix`
/// (out of order, as a slow link would); returns it. Fails if none does.
pub fn deliver_first(cluster: &mut Cluster, prefix: &str) -> String {
    let i = cluster
        .network()
        .iter()
        .position(|m| m.to_string().starts_with(prefix))
        .unwrap_or_else(|| panic!("no message {prefix}... in flight"));
    let shown = cluster.network()[i].to_string();
    cluster
        .deliver(i)
        .expect("in flight")
        .expect("no node refuses a message");
    shown
}

/// `(role, term, leader)` of every node, in id order.
pub fn roles(cluster: &Cluster) -> Vec<(Role, Term, Option<NodeId>)> {
    cluster
        .ids()
        .map(|id| role_term_leader(cluster.node(id)))
        .collect()
}

/// Every node's whole log, in id order.
pub fn logs(cluster: &Cluster) -> Vec<String> {
    cluster.ids().map(|id| log_of(cluster.node(id))).collect()
}

/// Every node's commit index, in id order.
pub fn commits(cluster: &Cluster) -> Vec<u64> {
    cluster
        .ids()
        .map(|id| cluster.node(id).status().committed.0)
        .collect()
}
