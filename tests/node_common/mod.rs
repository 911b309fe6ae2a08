//! Helpers shared by the black-box suites that drive node n1 of the cluster
//! {n1, n2, n3} through the public [`Node`] API (`tests/bad_input.rs`,
//! `tests/storage_faults.rs`, `tests/traces.rs`).
#![allow(dead_code)] // each suite uses its own subset

use futures::executor::block_on;
use ruft::{
    AppendOutcome, Config, Entry, EntryKey, Error, Index, LogStorage, MemStorage, Message,
    MessageVariant, Node, NodeId, Ready, Role, StepOutcome, Term,
};
use std::fmt::Debug;
use std::io::Write;
use std::sync::{Arc, Mutex};

pub fn n(id: u64) -> NodeId {
    NodeId(id)
}

pub fn key(term: u64, index: u64) -> EntryKey {
    EntryKey::new(Term(term), Index(index))
}

/// Empty entries with the given `(term, index)` keys.
pub fn entries(keys: &[(u64, u64)]) -> Vec<Entry> {
    keys.iter().map(|&(t, i)| Entry::empty(key(t, i))).collect()
}

pub fn config() -> Config {
    Config::new(n(1), [n(1), n(2), n(3)])
}

/// A fresh n1 on empty storage.
pub fn fresh() -> Node<MemStorage> {
    block_on(Node::new(config(), MemStorage::default())).unwrap()
}

/// A message from `src` in `term` to n1.
pub fn from(src: u64, term: u64, variant: MessageVariant) -> Message {
    Message::new(n(src), Term(term), n(1), variant)
}

/// A message from n1 in `term` to `dst`.
pub fn to(dst: u64, term: u64, variant: MessageVariant) -> Message {
    Message::new(n(1), Term(term), n(dst), variant)
}

pub fn heartbeat(src: u64, term: u64, commit: u64) -> Message {
    from(
        src,
        term,
        MessageVariant::Heartbeat {
            commit: Index(commit),
            read: None,
        },
    )
}

pub fn append(src: u64, term: u64, prev: (u64, u64), new: &[(u64, u64)], commit: u64) -> Message {
    let variant = MessageVariant::AppendEntries {
        prev: key(prev.0, prev.1),
        entries: entries(new),
        commit: Index(commit),
    };
    from(src, term, variant)
}

/// A client command, as a message from `src` in `term` (local when from n1 in term 0).
pub fn proposal(src: u64, term: u64) -> Message {
    from(
        src,
        term,
        MessageVariant::Propose {
            payload: "x".into(),
        },
    )
}

pub fn accepted(matched: u64) -> MessageVariant {
    MessageVariant::AppendEntriesResponse {
        outcome: AppendOutcome::Accepted {
            matched: Index(matched),
        },
    }
}

pub fn step<S: LogStorage>(node: &mut Node<S>, msg: Message) -> Result<StepOutcome, Error> {
    block_on(node.step(msg))
}

/// The write side of the storages used here.
pub trait Persist {
    fn write_ready(&mut self, rd: &Ready);
}

impl Persist for MemStorage {
    fn write_ready(&mut self, rd: &Ready) {
        MemStorage::persist(self, rd).unwrap();
    }
}

/// Carries out the pending Ready, if any (persist, advance) and returns the
/// messages it would send.
pub fn sent<S: LogStorage + Persist>(node: &mut Node<S>) -> Vec<Message> {
    if !node.has_ready() {
        return Vec::new();
    }
    let rd = block_on(node.ready()).unwrap();
    node.storage_mut().write_ready(&rd);
    let messages = rd.messages.clone();
    node.advance(rd);
    messages
}

/// Steps `msg` and expects it to be handled.
pub fn assert_handled<S: LogStorage>(node: &mut Node<S>, msg: Message) {
    assert_eq!(step(node, msg.clone()), Ok(StepOutcome::Handled), "{msg}");
}

/// Steps `msg`, expects exactly `error`, and checks the node did not change at
/// all ("a refused call leaves the node unchanged and usable").
pub fn assert_refused<S>(node: &mut Node<S>, msg: Message, error: Error)
where
    S: LogStorage + Clone + PartialEq + Debug,
{
    let before = node.clone();
    assert_eq!(step(node, msg.clone()), Err(error), "{msg}");
    assert_eq!(*node, before, "refusing {msg} changed the node");
}

/// n1 as follower of n2 in `term`, with an empty log and nothing pending.
pub fn follower_of_n2(term: u64) -> Node<MemStorage> {
    let mut node = fresh();
    assert_handled(&mut node, heartbeat(2, term, 0));
    assert_eq!(
        sent(&mut node),
        [to(
            2,
            term,
            MessageVariant::HeartbeatResponse { read: None }
        )]
    );
    node
}

/// n1 as leader of term 1 (elected with n2's vote), its no-op 1@1 persisted.
pub fn leader() -> Node<MemStorage> {
    leader_on(MemStorage::default())
}

pub fn leader_on<S: LogStorage + Persist>(storage: S) -> Node<S> {
    let mut node = block_on(Node::new(config(), storage)).unwrap();
    assert_eq!(block_on(node.campaign()), Ok(StepOutcome::Handled));
    assert_eq!(sent(&mut node).len(), 2, "RequestVote to n2 and n3");
    let grant = from(2, 1, MessageVariant::RequestVoteResponse { granted: true });
    assert_handled(&mut node, grant);
    assert_eq!(node.status().role, Role::Leader);
    assert_eq!(sent(&mut node).len(), 2, "the no-op to n2 and n3");
    assert_eq!(node.status().persisted, key(1, 1));
    node
}

/// Collects formatted events.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs `f` and returns the lines of the events traced meanwhile whose
/// target starts with `target`, without their target prefix and time.
pub fn traced(target: &str, f: impl FnOnce()) -> Vec<String> {
    let out = Captured::default();
    let writer = out.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .without_time()
        .with_level(false)
        .finish();
    tracing::subscriber::with_default(subscriber, f);
    let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
    let prefix = format!("{target}:");
    text.lines()
        .filter_map(|l| l.trim().strip_prefix(&prefix))
        .map(|l| l.trim().to_string())
        .collect()
}
