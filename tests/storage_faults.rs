//! Storage faults through the public [`Node`] API: reads that fail or never
//! finish, calls dropped half-way, and the torn writes a crash leaves when
//! an application does not write a Ready's entries and HardState in one
//! atomic batch. Node n1 of the cluster {n1, n2, n3} throughout.

use futures::executor::block_on;
use futures::FutureExt;
use ruft::{
    AppendOutcome, ConfChange, DropReason, Entry, EntryKey, Error, HardState, Index, LogStorage,
    MemStorage, MemberChange, Message, MessageVariant, Node, Ready, Role, StepOutcome,
    StorageError, StorageResult, Term,
};
mod node_common;
use node_common::*;

/// MemStorage whose reads of terms and entries fail while `failing` is set,
/// and never finish while `suspending` is set (an async storage waiting on
/// a disk or a network: a caller may give up and drop the future).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct FailingStorage {
    inner: MemStorage,
    failing: bool,
    suspending: bool,
}

/// What a read of a failing storage returns.
const IO_FAILURE: StorageError = StorageError::Io {
    kind: std::io::ErrorKind::Other,
};

impl FailingStorage {
    /// Waits for ever while `suspending`.
    async fn wait(&self) {
        if self.suspending {
            futures::future::pending::<()>().await;
        }
    }

    fn check(&self) -> StorageResult<()> {
        match self.failing {
            true => Err(IO_FAILURE),
            false => Ok(()),
        }
    }
}

impl Persist for FailingStorage {
    fn write_ready(&mut self, rd: &Ready) {
        self.inner.write_ready(rd);
    }
}

#[async_trait::async_trait]
impl LogStorage for FailingStorage {
    async fn initial_state(&self) -> StorageResult<HardState> {
        self.inner.initial_state().await
    }

    async fn first_index(&self) -> StorageResult<Index> {
        self.inner.first_index().await
    }

    async fn last_index(&self) -> StorageResult<Index> {
        self.inner.last_index().await
    }

    async fn term(&self, index: Index) -> StorageResult<Term> {
        self.wait().await;
        self.check()?;
        self.inner.term(index).await
    }

    async fn entries(&self, low: Index, high: Index) -> StorageResult<Vec<Entry>> {
        self.wait().await;
        self.check()?;
        self.inner.entries(low, high).await
    }

    async fn snapshot(&self) -> StorageResult<ruft::Snapshot> {
        self.wait().await;
        self.check()?;
        self.inner.snapshot().await
    }
}

/// n1 restarted in term 1 over a (failing) storage holding 1@1 2@1.
fn follower_holding_two_entries() -> Node<FailingStorage> {
    let mut storage = FailingStorage::default();
    storage.inner.append(&entries(&[(1, 1), (1, 2)])).unwrap();
    storage.inner.set_hard_state(HardState {
        term: Term(1),
        ..HardState::default()
    });
    block_on(Node::new(config(), storage)).unwrap()
}

#[test]
fn a_storage_failure_is_returned_and_the_node_recovers_once_storage_does() {
    let mut node = follower_holding_two_entries();
    assert_handled(&mut node, heartbeat(2, 1, 0));
    assert_eq!(
        sent(&mut node),
        [to(2, 1, MessageVariant::HeartbeatResponse { read: None })]
    );

    node.storage_mut().failing = true;
    // The consistency check reads the term at prev from storage.
    assert_refused(
        &mut node,
        append(2, 1, (1, 1), &[(1, 2)], 0),
        Error::Storage(IO_FAILURE),
    );
    assert_eq!(
        block_on(node.entries(Index(1), Index(3))),
        Err(Error::Storage(IO_FAILURE))
    );
    // A heartbeat reads nothing: it commits 2, but applying needs entries 1..=2.
    assert_handled(&mut node, heartbeat(2, 1, 2));
    // The Ready withholds only what it cannot read: the ack and the new
    // commit index go out, and it says why nothing is applied.
    let rd = block_on(node.ready()).unwrap();
    assert_eq!(rd.committed_entries, []);
    assert_eq!(rd.committed_error, Some(IO_FAILURE));
    assert_eq!(rd.hard_state.map(|hs| hs.committed_index), Some(Index(2)));
    assert_eq!(
        rd.messages,
        [to(2, 1, MessageVariant::HeartbeatResponse { read: None })]
    );
    node.storage_mut().write_ready(&rd);
    node.advance(rd);
    assert!(node.has_ready(), "entries 1..=2 are still owed");

    node.storage_mut().failing = false;
    let rd = block_on(node.ready()).unwrap();
    assert_eq!(rd.committed_entries, entries(&[(1, 1), (1, 2)]));
    assert_eq!(rd.committed_error, None);
    node.storage_mut().write_ready(&rd);
    node.advance(rd);
    assert_handled(&mut node, append(2, 1, (1, 1), &[(1, 2)], 2));
    assert_eq!(sent(&mut node), [to(2, 1, accepted(2))]);
    assert_eq!(node.status().applied, Index(2));
}

/// A storage error may interrupt a handler after it updated the node (see
/// `ruft::Error`): the leader counts n2's ack and commits, but cannot read the
/// entries to send next. It stays consistent, and the reply that was lost is
/// sent once storage works again.
#[test]
fn a_storage_failure_while_answering_an_ack_keeps_the_leader_consistent() {
    // n1 leads term 1 and has persisted 1@1 (no-op) 2@1 3@1; n2 has only 1@1.
    let mut node = leader_on(FailingStorage::default());
    block_on(node.propose("a".into())).unwrap();
    block_on(node.propose("b".into())).unwrap();
    assert_eq!(sent(&mut node), [], "n2's probe is still unanswered");
    assert_eq!(node.status().persisted, key(1, 3));
    // Answering n2's ack means sending 2@1 3@1 after prev 1@1, read from storage.
    node.storage_mut().failing = true;
    assert_eq!(
        block_on(node.step(from(2, 1, accepted(1)))),
        Err(Error::Storage(IO_FAILURE))
    );
    let s = node.status();
    assert_eq!(
        (s.role, s.term, s.committed),
        (Role::Leader, Term(1), Index(1))
    );
    node.storage_mut().failing = false;
    assert_handled(&mut node, from(2, 1, accepted(1)));
    let sent = sent(&mut node);
    assert_eq!(sent.len(), 1, "the entries n2 lacks go out now: {sent:?}");
}

/// An error from `propose` means "not appended": a proposal that was
/// appended is `Ok` even when reading storage to send it fails (tried as a
/// user would: the error made a client retry a command that later committed
/// and was applied twice). The appends are lost like lost messages and sent
/// again once storage works.
#[test]
fn a_proposal_appended_while_storage_fails_is_not_an_error() {
    let mut node = leader_on(FailingStorage::default());
    block_on(node.propose("a".into())).unwrap();
    assert_eq!(sent(&mut node), [], "n2's and n3's probes are unanswered");
    node.storage_mut().failing = true;
    // n2 answers a heartbeat: its probe resumes, but sending it 1@1 2@1 means
    // reading them from storage, which fails (the step's error says so).
    let answer = from(2, 1, MessageVariant::HeartbeatResponse { read: None });
    assert_eq!(block_on(node.step(answer)), Err(Error::Storage(IO_FAILURE)));
    // The proposal is appended; sending it to n2 fails the same way, yet
    // `propose` reports the append and nothing else.
    assert_eq!(block_on(node.propose("b".into())), Ok(key(1, 3)));
    assert_eq!(node.status().last, key(1, 3), "appended");
    // The next Ready cannot read the appends it was to send: it goes out
    // without them, and the failure is traced (no caller could be told).
    let failed = traced("ruft::storage", || {
        sent(&mut node);
    });
    let why = "storage read failed node=n1 what=\"send due appends\" \
               error=storage backend failed: Other";
    assert_eq!(failed, [why]);
    node.storage_mut().failing = false;
    let answer = from(2, 1, MessageVariant::HeartbeatResponse { read: None });
    assert_handled(&mut node, answer);
    let resent = sent(&mut node);
    let carries_b = |m: &Message| {
        matches!(&m.variant, MessageVariant::AppendEntries { entries, .. }
            if entries.iter().any(|e| e.key == key(1, 3)))
    };
    assert!(
        resent.iter().any(carries_b),
        "3@1 goes out once storage works: {resent:?}"
    );
}

/// A caller may drop a `propose` future (a timeout, a `select!`): if it
/// could be dropped after the entry was appended, the key would be lost and
/// a client would retry a command that commits. Proposals read nothing and
/// never wait, so they always finish on their first poll, even on a storage
/// that never answers; the appends go out with the next Ready.
#[test]
fn a_proposal_finishes_at_once_even_on_a_storage_that_never_answers() {
    let mut node = leader_on(FailingStorage::default());
    block_on(node.propose("a".into())).unwrap();
    sent(&mut node);
    // n2's probe resumes on its heartbeat answer, but sending it 1@1 2@1
    // needs a read that fails: n2 is owed entries from storage.
    node.storage_mut().failing = true;
    let answer = from(2, 1, MessageVariant::HeartbeatResponse { read: None });
    assert_eq!(block_on(node.step(answer)), Err(Error::Storage(IO_FAILURE)));
    node.storage_mut().failing = false;
    // Storage now waits for ever: a proposal must not wait on it.
    node.storage_mut().suspending = true;
    let proposed = node.propose("b".into()).now_or_never();
    assert_eq!(proposed, Some(Ok(key(1, 3))), "done on the first poll");
    let add = ConfChange::Simple(MemberChange::AddLearner(n(4)));
    let changed = node.propose_conf_change(add.clone()).now_or_never();
    assert_eq!(changed, Some(Ok(key(1, 4))), "done on the first poll");
    let again = node.propose_conf_change(add).now_or_never();
    assert_eq!(
        again,
        Some(Err(Error::ConfChangePending { index: Index(4) })),
        "one change at a time, whatever the storage does"
    );
    node.storage_mut().suspending = false;
    let appends = sent(&mut node);
    let to_n2: Vec<EntryKey> = appends
        .iter()
        .filter(|m| m.dst == n(2))
        .flat_map(|m| match &m.variant {
            MessageVariant::AppendEntries { entries, .. } => {
                entries.iter().map(|e| e.key).collect()
            }
            _ => Vec::new(),
        })
        .collect();
    assert_eq!(
        to_n2,
        [key(1, 1), key(1, 2), key(1, 3), key(1, 4)],
        "n2 gets what it is owed, both proposals included, in the next Ready"
    );
}

/// A caller that drops `ready()` while it waits on storage loses nothing:
/// nothing the Ready hands out changed hands before the wait ends, so the
/// next `ready()` hands out the same committed entries and hard state.
#[test]
fn a_ready_abandoned_while_reading_is_handed_out_whole_next_time() {
    let mut node = follower_holding_two_entries();
    assert_handled(&mut node, heartbeat(2, 1, 2)); // commits 2: the Ready reads 1..=2
    let before = node.clone();
    node.storage_mut().suspending = true;
    assert_eq!(node.ready().now_or_never(), None, "waiting on storage");
    node.storage_mut().suspending = false;
    assert_eq!(node, before, "an abandoned ready() changed nothing");
    let rd = block_on(node.ready()).unwrap();
    assert_eq!(rd.committed_entries, entries(&[(1, 1), (1, 2)]));
    assert_eq!(rd.hard_state.map(|hs| hs.committed_index), Some(Index(2)));
}

/// The same on a leader whose Ready must first read the entries it sends:
/// abandoned there, the sends are lost like lost messages, and the
/// committed entries and hard state are still all handed out next time.
#[test]
fn a_leaders_ready_abandoned_while_sending_loses_only_messages() {
    let mut node = leader_on(FailingStorage::default());
    block_on(node.propose("a".into())).unwrap();
    sent(&mut node);
    assert_handled(&mut node, from(2, 1, accepted(2))); // commits 1..=2
    block_on(node.propose("b".into())).unwrap();
    node.storage_mut().suspending = true;
    assert_eq!(node.ready().now_or_never(), None, "waiting on storage");
    node.storage_mut().suspending = false;
    let rd = block_on(node.ready()).unwrap();
    let applied: Vec<EntryKey> = rd.committed_entries.iter().map(|e| e.key).collect();
    assert_eq!(
        applied,
        [key(1, 1), key(1, 2)],
        "nothing committed is skipped"
    );
    assert_eq!(rd.hard_state.map(|hs| hs.committed_index), Some(Index(2)));
    assert_eq!(
        rd.entries.last().map(|e| e.key),
        Some(key(1, 3)),
        "3@1 is written"
    );
}

/// A duplicated stale rejection is recognised from the follower's progress
/// alone, before the hint is looked up in the log: with storage failing, it
/// is still dropped (a lookup would have failed), so it reads nothing.
#[test]
fn a_stale_rejection_is_dropped_before_any_storage_read() {
    // n1 leads term 1 with 1@1 (no-op) 2@1 3@1; n2 acked 3, so it replicates.
    let mut node = leader_on(FailingStorage::default());
    block_on(node.propose("a".into())).unwrap();
    block_on(node.propose("b".into())).unwrap();
    let _ = sent(&mut node);
    assert_handled(&mut node, from(2, 1, accepted(3)));
    let _ = sent(&mut node);
    node.storage_mut().failing = true;
    // A late rejection of the first probe (prev 0) lies at or below what n2 matched.
    let late = MessageVariant::AppendEntriesResponse {
        outcome: AppendOutcome::Rejected {
            rejected: Index(0),
            hint: key(0, 0),
        },
    };
    assert_eq!(
        step(&mut node, from(2, 1, late)),
        Ok(StepOutcome::Dropped(DropReason::StaleResponse))
    );
}

// ---------------------------------------------------------------- torn writes

/// n1 restarted over `storage` (a plain MemStorage).
fn reopen(storage: MemStorage) -> Node<MemStorage> {
    block_on(Node::new(config(), storage)).expect("storage after a torn write opens")
}

/// Entries written, then a crash before the HardState: n1 had taken term 2
/// from n2's append (1@1 2@2), but its disk still says term 1 with a vote
/// for n3. It reopens in term 2 with no vote (the vote in the lost write
/// was never sent), and hands the repaired HardState out to be written.
#[test]
fn entries_durable_without_their_hard_state_reopen_in_the_entries_term() {
    let mut storage = MemStorage::default();
    storage.append(&entries(&[(1, 1), (2, 2)])).unwrap();
    let stored = HardState {
        term: Term(1),
        voted_node: Some(n(3)),
        committed_index: Index(1),
    };
    storage.set_hard_state(stored);
    let mut node = reopen(storage);
    let s = node.status();
    assert_eq!(
        (s.term, s.voted_node, s.committed),
        (Term(2), None, Index(1))
    );
    assert_eq!(s.last, key(2, 2));
    let rd = block_on(node.ready()).unwrap();
    assert_eq!(
        rd.hard_state,
        Some(HardState {
            term: Term(2),
            voted_node: None,
            committed_index: Index(1),
        }),
        "the repair is written back"
    );
    node.storage_mut().persist(&rd).unwrap();
    node.advance(rd);
    // It answers term 2's leader as any follower would.
    assert_handled(&mut node, append(2, 2, (2, 2), &[], 2));
    assert_eq!(sent(&mut node), [to(2, 2, accepted(2))]);
}

/// HardState written first, then a crash before the entries (the wrong
/// order): its commit index 3 is beyond the log 1@1. Opening used to fail
/// with `CommitBeyondLast` for ever; the commit index is volatile state
/// (Figure 2), so it is lowered to the log and learnt again from the leader.
#[test]
fn a_hard_state_durable_without_its_entries_lowers_the_commit_index() {
    let mut storage = MemStorage::default();
    storage.append(&entries(&[(1, 1)])).unwrap();
    storage.set_hard_state(HardState {
        term: Term(1),
        voted_node: Some(n(2)),
        committed_index: Index(3),
    });
    let mut node = reopen(storage);
    let s = node.status();
    assert_eq!((s.term, s.voted_node), (Term(1), Some(n(2))), "kept");
    assert_eq!(s.committed, Index(1), "lowered to the last entry");
    assert_eq!(s.role, Role::Follower);
    // The leader's append brings back 2@1 3@1 and, with them, commit 3.
    assert_handled(&mut node, append(2, 1, (1, 1), &[(1, 2), (1, 3)], 3));
    let rd = block_on(node.ready()).unwrap();
    let applied: Vec<EntryKey> = rd.committed_entries.iter().map(|e| e.key).collect();
    assert_eq!(applied, [key(1, 1), key(1, 2), key(1, 3)]);
    assert_eq!(rd.messages, [to(2, 1, accepted(3))]);
}

/// The application's state machine cannot be repaired by Raft: if it
/// applied entries that the torn log no longer holds, opening is refused.
#[test]
fn applied_entries_missing_from_a_torn_log_are_refused() {
    let mut storage = MemStorage::default();
    storage.append(&entries(&[(1, 1)])).unwrap();
    storage.set_hard_state(HardState {
        term: Term(1),
        voted_node: None,
        committed_index: Index(3),
    });
    let mut cfg = config();
    cfg.applied = Index(3);
    assert_eq!(
        block_on(Node::new(cfg, storage)).err(),
        Some(Error::AppliedBeyondCommit {
            applied: Index(3),
            committed: Index(1),
        })
    );
}
