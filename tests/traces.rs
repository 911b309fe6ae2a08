//! The engine's tracing events are part of what it promises: a role change,
//! a term change and a drop are each traced once, when they happen, and
//! only then. These transcripts capture the events of a few steps.

use futures::executor::block_on;
use ruft::{
    Config, EntryKey, Index, MemStorage, Message, MessageVariant, Node, NodeId, Role, Term,
};
use std::io::Write;
use std::sync::{Arc, Mutex};

/// Collects formatted events.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

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
fn traced(target: &str, f: impl FnOnce()) -> Vec<String> {
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

fn n1() -> Node<MemStorage> {
    let config = Config::new(NodeId(1), [NodeId(1), NodeId(2), NodeId(3)]);
    block_on(Node::new(config, MemStorage::default())).unwrap()
}

fn from_n2(term: u64, variant: MessageVariant) -> Message {
    Message::new(NodeId(2), Term(term), NodeId(1), variant)
}

fn heartbeat() -> MessageVariant {
    MessageVariant::Heartbeat {
        commit: Index(0),
        read: None,
    }
}

#[test]
fn each_role_change_is_traced_once_and_a_new_term_alone_is_not_one() {
    let mut node = n1();
    let roles = traced("ruft::role", || {
        block_on(node.campaign()).unwrap();
        // The candidate hears the leader of its term: it follows.
        block_on(node.step(from_n2(1, heartbeat()))).unwrap();
        // A follower that hears a newer leader stays a follower.
        block_on(node.step(from_n2(2, heartbeat()))).unwrap();
    });
    assert_eq!(node.status().role, Role::Follower);
    assert_eq!(
        roles,
        [
            "role change node=n1 term=1 from=Follower to=Candidate",
            "role change node=n1 term=1 from=Candidate to=Follower",
        ]
    );
}

#[test]
fn a_term_change_is_traced_with_both_terms() {
    let mut node = n1();
    let terms = traced("ruft::term", || {
        block_on(node.step(from_n2(3, heartbeat()))).unwrap();
        block_on(node.step(from_n2(3, heartbeat()))).unwrap();
    });
    assert_eq!(terms, ["term change node=n1 from=0 to=3"]);
    assert_eq!(node.term(), Term(3));
}

#[test]
fn a_dropped_message_is_traced_with_its_reason() {
    let mut node = n1();
    block_on(node.step(from_n2(3, heartbeat()))).unwrap();
    let stale = MessageVariant::RequestVote {
        last: EntryKey::default(),
        transfer: false,
    };
    let drops = traced("ruft::drop", || {
        block_on(node.step(from_n2(2, stale))).unwrap();
    });
    assert_eq!(
        drops,
        ["drop node=n1 msg=n2->n1 RequestVote{t2, last 0@0} \
          reason=StaleTerm { term: Term(2), current: Term(3) }"]
    );
}
