//! Clients of the model cluster and their history (`check --clients C --ops K`).
//!
//! Each of the first `C` nodes hosts a client, as a server hosts the sessions
//! of the clients connected to it. A client runs at most `K` operations, one
//! at a time, on a register replicated through the log:
//!
//! - a **write** is proposed on its node when that node leads; its value is
//!   the key of the entry it was appended as (unique: two leaders never
//!   append at one key). It returns when its node applies the entry it
//!   proposed; if another entry takes that index, or the node crashes, the
//!   write never returns (it may still have taken effect, and the checker
//!   treats it as in flight forever);
//! - a **read** asks its node for a ReadIndex (`Node::read_index`; a follower
//!   forwards it to its leader), and returns the register's value once its
//!   node has applied the read's index; a read that is dropped never returns.
//!
//! Every invocation and return is recorded, in the order the model's
//! transitions happen, in a [`History`] kept in the model state; operations
//! are named by [`Thread`] (the node and the operation's number). Entry
//! payloads and read contexts carry no node id, so symmetry reduction, which
//! renames nodes but never rewrites payloads, stays sound. The property
//! `linearizable` replays it into stateright's `LinearizabilityTester` over a
//! register: some order of the operations, consistent with the order in which
//! they were invoked and returned, explains every value read. The register's
//! value at a node is the last client write its application applied.
//!
//! Nothing here is Raft logic: the module names operations, encodes writes
//! as entry payloads and keeps the history.

use crate::machine::Machine;
use bytes::Bytes;
use ruft::{Entry, EntryKey, EntryVariant, Index, NodeId, Ready, Term};
use stateright::semantics::register::{Register, RegisterOp, RegisterRet};
use stateright::semantics::{ConsistencyTester, LinearizabilityTester};
use std::fmt;

/// One client operation: the node whose client ran it and its number there
/// (1, 2, ...). A write's value is the write itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Thread {
    /// The node hosting the client.
    pub node: NodeId,
    /// The operation's number at that client.
    pub op: u8,
}

impl fmt::Display for Thread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.node, self.op)
    }
}

/// The register's value: the key of the client write that set it last, if any.
pub type Value = Option<EntryKey>;

/// The entry payload of every client write (its value is its key). Two
/// bytes: the random suites propose one-byte payloads of their own.
const WRITE_TAG: [u8; 2] = [0xC1, 0x57];
/// The first byte of a client's read context.
const READ_TAG: u8 = 0xC2;

/// The entry payload of a client write.
pub fn write_payload() -> Bytes {
    Bytes::from_static(&WRITE_TAG)
}

/// The value an applied entry writes, if it is a client write: its key.
pub fn written(entry: &Entry) -> Value {
    match &entry.variant {
        EntryVariant::Normal(p) if p[..] == WRITE_TAG => Some(entry.key),
        _ => None,
    }
}

impl Thread {
    /// The read context of this read: its number at the node (the node that
    /// asked is the one the answer comes back to).
    pub fn ctx(self) -> Bytes {
        Bytes::from(vec![READ_TAG, self.op])
    }

    /// `self` with its node renamed (symmetry reduction).
    pub fn relabel(self, f: &dyn Fn(NodeId) -> NodeId) -> Thread {
        Thread {
            node: f(self.node),
            ..self
        }
    }
}

/// A client's operation under way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InFlight {
    /// A write appended at `key` on the client's node (its value).
    Write {
        /// The operation.
        thread: Thread,
        /// Where its entry was appended.
        key: EntryKey,
    },
    /// A read; `index` once its ReadState arrived.
    Read {
        /// The operation.
        thread: Thread,
        /// The read index, once confirmed.
        index: Option<Index>,
    },
}

/// One node's client: operations started so far (survives crashes: it
/// bounds the search) and the one under way (lost with a crash).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Client {
    /// Operations started.
    pub issued: u8,
    /// The operation under way.
    pub op: Option<InFlight>,
}

impl InFlight {
    /// `self` with its node renamed (symmetry reduction).
    pub fn relabel(self, f: &dyn Fn(NodeId) -> NodeId) -> InFlight {
        match self {
            InFlight::Write { thread, key } => InFlight::Write {
                thread: thread.relabel(f),
                key,
            },
            InFlight::Read { thread, index } => InFlight::Read {
                thread: thread.relabel(f),
                index,
            },
        }
    }
}

impl Client {
    /// `self` with its node renamed (symmetry reduction).
    pub fn relabel(self, f: &dyn Fn(NodeId) -> NodeId) -> Client {
        Client {
            op: self.op.map(|op| op.relabel(f)),
            ..self
        }
    }
}

/// The application's client side of one Ready at a node in `term` that had
/// applied up to `applied` before it: the register follows the applied client
/// writes (and a snapshot's), the client's write returns when its own entry
/// is applied (and is abandoned if another entry took its index), a read
/// learns its index from its ReadState, and returns once that index is
/// applied. What happens is pushed to `events`.
pub fn on_ready(
    mut client: Option<&mut Client>,
    register: &mut Value,
    events: &mut Vec<Event>,
    rd: &Ready,
    term: Term,
    applied: Index,
) {
    if let Some(snapshot) = &rd.snapshot {
        let covered = Machine::decode(snapshot.index(), &snapshot.data).ok();
        *register = covered.and_then(|m| m.entries().iter().rev().find_map(written));
    }
    for entry in &rd.committed_entries {
        if let Some(w) = written(entry) {
            *register = Some(w);
        }
        let Some(c) = client.as_deref_mut() else {
            continue;
        };
        if let Some(InFlight::Write { thread, key }) = c.op {
            if entry.key == key {
                events.push(Event::Return(thread, Ret::WriteOk, term));
                c.op = None;
            } else if entry.index() >= key.index {
                c.op = None; // lost: another entry took its index
            }
        }
    }
    let Some(c) = client else {
        return;
    };
    for rs in &rd.read_states {
        if let Some(InFlight::Read { thread, index }) = &mut c.op {
            if rs.ctx == thread.ctx() {
                *index = Some(rs.index);
            }
        }
    }
    let applied = rd
        .committed_entries
        .last()
        .map(|e| e.index())
        .or(rd.snapshot.as_ref().map(|s| s.index()))
        .unwrap_or(applied);
    if let Some(InFlight::Read {
        thread,
        index: Some(index),
    }) = c.op
    {
        if applied >= index {
            events.push(Event::Return(thread, Ret::ReadOk(*register), term));
            c.op = None;
        }
    }
}

/// One recorded event.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Event {
    /// An operation started.
    Invoke(Thread, Op),
    /// An operation returned, at a node in `term`.
    Return(Thread, Ret, Term),
}

/// An operation on the register.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Op {
    /// Write a value (the key its entry was appended at).
    Write(EntryKey),
    /// Read the value.
    Read,
}

/// What an operation returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Ret {
    /// The write was applied.
    WriteOk,
    /// The value read.
    ReadOk(Value),
}

/// Whether the client's read was confirmed in the transition that produced
/// `events` (its read index arrived, or it already returned).
pub fn read_answered(client: Option<Client>, events: &[Event]) -> bool {
    let confirmed = matches!(
        client.and_then(|c| c.op),
        Some(InFlight::Read { index: Some(_), .. })
    );
    confirmed
        || events
            .iter()
            .any(|e| matches!(e, Event::Return(_, Ret::ReadOk(_), _)))
}

impl Event {
    /// `self` with its nodes renamed (symmetry reduction).
    pub fn relabel(&self, f: &dyn Fn(NodeId) -> NodeId) -> Event {
        match *self {
            Event::Invoke(t, op) => Event::Invoke(t.relabel(f), op),
            Event::Return(t, ret, term) => Event::Return(t.relabel(f), ret, term),
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = |v: &Value| v.map_or("none".to_string(), |k| k.to_string());
        match self {
            Event::Invoke(t, Op::Write(v)) => write!(f, "{t} write {v}"),
            Event::Invoke(t, Op::Read) => write!(f, "{t} read"),
            Event::Return(t, Ret::WriteOk, term) => write!(f, "{t} write ok ({term})"),
            Event::Return(t, Ret::ReadOk(v), term) => write!(f, "{t} read {} ({term})", value(v)),
        }
    }
}

/// The client operations of a run, in the order they happened.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct History {
    /// Every invocation and return.
    pub events: Vec<Event>,
}

impl History {
    /// Whether some order of the operations, consistent with real time,
    /// explains every value read (stateright's `LinearizabilityTester` over
    /// a register that starts empty).
    pub fn is_linearizable(&self) -> bool {
        // Without a value read, any history is explained by any order
        // consistent with real time (the common case; the tester allocates).
        if !self
            .events
            .iter()
            .any(|e| matches!(e, Event::Return(_, Ret::ReadOk(_), _)))
        {
            return true;
        }
        let mut tester = LinearizabilityTester::new(Register::<Value>(None));
        for event in self.events.iter().filter(|e| self.observable(e)) {
            let recorded = match *event {
                Event::Invoke(t, Op::Write(v)) => tester.on_invoke(t, RegisterOp::Write(Some(v))),
                Event::Invoke(t, Op::Read) => tester.on_invoke(t, RegisterOp::Read),
                Event::Return(t, Ret::WriteOk, _) => tester.on_return(t, RegisterRet::WriteOk),
                Event::Return(t, Ret::ReadOk(v), _) => tester.on_return(t, RegisterRet::ReadOk(v)),
            };
            if recorded.is_err() {
                return false; // a malformed history: the harness's own bug
            }
        }
        tester.is_consistent()
    }

    /// Whether `event` can change the verdict. An operation that has not
    /// returned may be linearized anywhere after its invocation or not at
    /// all, so one whose effect nobody saw can always be left out: a read
    /// that did not return, and a write that did not return and whose value
    /// no read returned. Leaving them out keeps the verdict exact and spares
    /// the tester the choice of where each would go (clients that give up
    /// and retry leave many behind).
    fn observable(&self, event: &Event) -> bool {
        let (thread, op) = match *event {
            Event::Invoke(thread, op) => (thread, op),
            Event::Return(..) => return true,
        };
        let returned = |t: Thread| {
            self.events
                .iter()
                .any(|e| matches!(e, Event::Return(r, ..) if *r == t))
        };
        match op {
            Op::Read => returned(thread),
            Op::Write(v) => {
                returned(thread)
                    || self
                        .events
                        .iter()
                        .any(|e| matches!(e, Event::Return(_, Ret::ReadOk(Some(r)), _) if *r == v))
            }
        }
    }

    /// The nodes whose clients took part, in the order they first did.
    pub fn clients(&self) -> Vec<NodeId> {
        let mut nodes = Vec::new();
        for e in &self.events {
            let (Event::Invoke(t, _) | Event::Return(t, ..)) = e;
            if !nodes.contains(&t.node) {
                nodes.push(t.node);
            }
        }
        nodes
    }

    /// Whether some read returned a value another client wrote.
    pub fn read_anothers_write(&self) -> bool {
        let writer = |v: EntryKey| {
            self.events.iter().find_map(|e| match e {
                Event::Invoke(t, Op::Write(w)) if *w == v => Some(t.node),
                _ => None,
            })
        };
        self.events.iter().any(|e| {
            matches!(e, Event::Return(t, Ret::ReadOk(Some(v)), _)
                if writer(*v).is_some_and(|n| n != t.node))
        })
    }

    /// Whether some read returned a written value in a term after the first
    /// (so after a leader change).
    pub fn read_after_leader_change(&self) -> bool {
        self.events
            .iter()
            .any(|e| matches!(e, Event::Return(_, Ret::ReadOk(Some(_)), term) if *term > Term(1)))
    }

    /// `self` with every node renamed (symmetry reduction).
    pub fn relabel(&self, f: &dyn Fn(NodeId) -> NodeId) -> History {
        History {
            events: self.events.iter().map(|e| e.relabel(f)).collect(),
        }
    }
}

impl fmt::Display for History {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.events.iter().enumerate() {
            write!(f, "{}{e}", if i == 0 { "" } else { "; " })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(node: u64, op: u8) -> Thread {
        Thread {
            node: NodeId(node),
            op,
        }
    }

    fn k(term: u64, index: u64) -> EntryKey {
        EntryKey::new(Term(term), Index(index))
    }

    #[test]
    fn a_read_after_a_returned_write_must_see_it() {
        let (w, r) = (t(1, 1), t(2, 1));
        let mut h = History::default();
        h.events.push(Event::Invoke(w, Op::Write(k(1, 2))));
        h.events.push(Event::Return(w, Ret::WriteOk, Term(1)));
        h.events.push(Event::Invoke(r, Op::Read));
        h.events.push(Event::Return(r, Ret::ReadOk(None), Term(1)));
        assert!(!h.is_linearizable(), "a stale read");
        h.events[3] = Event::Return(r, Ret::ReadOk(Some(k(1, 2))), Term(2));
        assert!(h.is_linearizable());
        assert!(h.read_anothers_write() && h.read_after_leader_change());
    }

    #[test]
    fn a_write_that_never_returns_may_or_may_not_have_happened() {
        let (w, r1, r2) = (t(1, 1), t(2, 1), t(2, 2));
        let mut h = History::default();
        h.events.push(Event::Invoke(w, Op::Write(k(1, 2))));
        h.events.push(Event::Invoke(r1, Op::Read));
        h.events
            .push(Event::Return(r1, Ret::ReadOk(Some(k(1, 2))), Term(1)));
        assert!(h.is_linearizable(), "the write took effect");
        h.events.push(Event::Invoke(r2, Op::Read));
        h.events.push(Event::Return(r2, Ret::ReadOk(None), Term(1)));
        assert!(!h.is_linearizable(), "and cannot be undone");
    }

    #[test]
    fn operations_nobody_saw_are_left_out_and_change_nothing() {
        let (w1, w2, r1, r2) = (t(1, 1), t(1, 2), t(2, 1), t(2, 2));
        let mut h = History::default();
        h.events.push(Event::Invoke(w1, Op::Write(k(1, 2))));
        h.events.push(Event::Invoke(w2, Op::Write(k(1, 3))));
        h.events.push(Event::Invoke(r1, Op::Read));
        h.events
            .push(Event::Return(r1, Ret::ReadOk(Some(k(1, 3))), Term(1)));
        h.events.push(Event::Invoke(r2, Op::Read));
        let kept: Vec<bool> = h.events.iter().map(|e| h.observable(e)).collect();
        assert_eq!(kept, [false, true, true, true, false], "w1 and r2 unseen");
        assert!(h.is_linearizable());
        h.events
            .push(Event::Return(r2, Ret::ReadOk(Some(k(1, 2))), Term(1)));
        assert!(h.observable(&h.events[0]), "w1 was read now");
        assert!(h.is_linearizable(), "w1 after w2: r1 then r2");
        h.events.push(Event::Invoke(t(3, 1), Op::Read));
        h.events
            .push(Event::Return(t(3, 1), Ret::ReadOk(Some(k(1, 3))), Term(1)));
        assert!(!h.is_linearizable(), "w2 cannot come back after w1");
    }

    #[test]
    fn writes_are_recognised_and_threads_renamed() {
        let e = Entry::normal(k(1, 4), write_payload());
        assert_eq!(written(&e), Some(k(1, 4)));
        assert_eq!(written(&Entry::normal(e.key, "x")), None);
        let swap = |id: NodeId| NodeId(4 - id.0);
        assert_eq!(t(3, 2).relabel(&swap), t(1, 2));
        assert_ne!(t(3, 2).ctx(), write_payload());
    }
}
