//! Bad input through the public [`Node`] API (design §2, "Errors and bad
//! input"): each test feeds one kind of hostile, stale or misplaced input to
//! node n1 of the cluster {n1, n2, n3}, checks the exact typed error or drop,
//! checks that a refused call left the node exactly as it was, and then shows
//! the node still handles a valid message.

use futures::executor::block_on;
use futures::FutureExt;
use ruft::{
    AppendOutcome, ConfChange, Config, DropReason, Entry, EntryKey, Error, HardState, Index,
    LogStorage, MemStorage, MemberChange, Message, MessageVariant, Node, NodeId, Ready, Rejection,
    Role, StepOutcome, StorageError, StorageResult, Term,
};
use std::fmt::Debug;

// ---------------------------------------------------------------- helpers

fn n(id: u64) -> NodeId {
    NodeId(id)
}

fn key(term: u64, index: u64) -> EntryKey {
    EntryKey::new(Term(term), Index(index))
}

/// Empty entries with the given `(term, index)` keys.
fn entries(keys: &[(u64, u64)]) -> Vec<Entry> {
    keys.iter().map(|&(t, i)| Entry::empty(key(t, i))).collect()
}

fn config() -> Config {
    Config::new(n(1), [n(1), n(2), n(3)])
}

/// A fresh n1 on empty storage.
fn fresh() -> Node<MemStorage> {
    block_on(Node::new(config(), MemStorage::default())).unwrap()
}

/// A message from `src` in `term` to n1.
fn from(src: u64, term: u64, variant: MessageVariant) -> Message {
    Message::new(n(src), Term(term), n(1), variant)
}

/// A message from n1 in `term` to `dst`.
fn to(dst: u64, term: u64, variant: MessageVariant) -> Message {
    Message::new(n(1), Term(term), n(dst), variant)
}

fn heartbeat(src: u64, term: u64, commit: u64) -> Message {
    from(
        src,
        term,
        MessageVariant::Heartbeat {
            commit: Index(commit),
            read: None,
        },
    )
}

fn append(src: u64, term: u64, prev: (u64, u64), new: &[(u64, u64)], commit: u64) -> Message {
    let variant = MessageVariant::AppendEntries {
        prev: key(prev.0, prev.1),
        entries: entries(new),
        commit: Index(commit),
    };
    from(src, term, variant)
}

/// A client command, as a message from `src` in `term` (local when from n1 in term 0).
fn proposal(src: u64, term: u64) -> Message {
    from(
        src,
        term,
        MessageVariant::Propose {
            payload: "x".into(),
        },
    )
}

fn accepted(matched: u64) -> MessageVariant {
    MessageVariant::AppendEntriesResponse {
        outcome: AppendOutcome::Accepted {
            matched: Index(matched),
        },
    }
}

fn step<S: LogStorage>(node: &mut Node<S>, msg: Message) -> Result<StepOutcome, Error> {
    block_on(node.step(msg))
}

/// The write side of the storages used here.
trait Persist {
    fn write_ready(&mut self, rd: &Ready);
}

impl Persist for MemStorage {
    fn write_ready(&mut self, rd: &Ready) {
        MemStorage::persist(self, rd).unwrap();
    }
}

/// Carries out the pending Ready, if any (persist, advance) and returns the
/// messages it would send.
fn sent<S: LogStorage + Persist>(node: &mut Node<S>) -> Vec<Message> {
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
fn assert_handled<S: LogStorage>(node: &mut Node<S>, msg: Message) {
    assert_eq!(step(node, msg.clone()), Ok(StepOutcome::Handled), "{msg}");
}

/// Steps `msg`, expects exactly `error`, and checks the node did not change at
/// all ("a refused call leaves the node unchanged and usable").
fn assert_refused<S>(node: &mut Node<S>, msg: Message, error: Error)
where
    S: LogStorage + Clone + PartialEq + Debug,
{
    let before = node.clone();
    assert_eq!(step(node, msg.clone()), Err(error), "{msg}");
    assert_eq!(*node, before, "refusing {msg} changed the node");
}

/// n1 as follower of n2 in `term`, with an empty log and nothing pending.
fn follower_of_n2(term: u64) -> Node<MemStorage> {
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
fn leader() -> Node<MemStorage> {
    leader_on(MemStorage::default())
}

fn leader_on<S: LogStorage + Persist>(storage: S) -> Node<S> {
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

// ---------------------------------------------------------------- proposals

#[test]
fn a_proposal_on_a_follower_is_refused_with_the_leader_it_knows() {
    let mut node = fresh();
    let before = node.clone();
    assert_eq!(
        block_on(node.propose("x".into())),
        Err(Error::NotLeader { leader: None })
    );
    let local = proposal(1, 0); // the same command, stepped as a local message
    assert_eq!(
        step(&mut node, local),
        Err(Error::NotLeader { leader: None })
    );
    assert_eq!(node, before);

    // n2's heartbeat makes it the known leader of term 1: the hint names it.
    assert_handled(&mut node, heartbeat(2, 1, 0));
    assert_eq!(
        sent(&mut node),
        [to(2, 1, MessageVariant::HeartbeatResponse { read: None })]
    );
    let before = node.clone();
    let hint = Err(Error::NotLeader { leader: Some(n(2)) });
    assert_eq!(block_on(node.propose("x".into())), hint);
    assert_eq!(node, before);

    // Still usable: it takes n2's entries.
    assert_handled(&mut node, append(2, 1, (0, 0), &[(1, 1)], 0));
    assert_eq!(sent(&mut node), [to(2, 1, accepted(1))]);
}

// ---------------------------------------------------------------- envelopes

#[test]
fn a_message_for_another_node_is_refused() {
    let mut node = fresh();
    let misdelivered = Message::new(
        n(2),
        Term(1),
        n(3),
        MessageVariant::HeartbeatResponse { read: None },
    );
    let error = Error::WrongDestination {
        dst: n(3),
        local: n(1),
    };
    assert_refused(&mut node, misdelivered, error);
    assert_handled(&mut node, heartbeat(2, 1, 0));
    assert_eq!(node.status().leader, Some(n(2)));
}

#[test]
fn a_message_from_itself_is_refused_and_a_stranger_may_not_ask_for_votes() {
    let mut node = fresh();
    // n1 is a voter, but a remote message from n1 to n1 is not one any peer sends.
    assert_refused(
        &mut node,
        heartbeat(1, 1, 0),
        Error::UnknownSender { src: n(1) },
    );
    // n9 is not a voter here: its vote request is dropped before its term
    // counts (a removed node must not disrupt the cluster).
    let ask = from(
        9,
        5,
        MessageVariant::RequestVote {
            last: key(0, 0),
            transfer: false,
        },
    );
    assert_eq!(
        step(&mut node, ask),
        Ok(StepOutcome::Dropped(DropReason::SenderNotVoter {
            src: n(9)
        }))
    );
    assert_eq!(node.status().term, Term(0));
    // Its heartbeat is taken as a leader's: this node may lag behind a
    // membership change that added n9.
    assert_handled(&mut node, heartbeat(9, 1, 0));
    assert_eq!(node.status().leader, Some(n(9)));
}

#[test]
fn a_remote_message_with_term_zero_is_refused() {
    let mut node = fresh();
    assert_refused(
        &mut node,
        heartbeat(2, 0, 0),
        Error::RemoteTermZero { src: n(2) },
    );
    let vote = from(
        3,
        0,
        MessageVariant::RequestVote {
            last: key(0, 0),
            transfer: false,
        },
    );
    assert_refused(&mut node, vote, Error::RemoteTermZero { src: n(3) });
    assert_handled(&mut node, heartbeat(2, 1, 0));
}

#[test]
fn a_local_event_from_a_remote_sender_or_with_a_term_is_refused() {
    let mut node = fresh();
    let hup_from_n2 = from(2, 0, MessageVariant::Hup);
    assert_refused(
        &mut node,
        hup_from_n2,
        Error::LocalFromRemote {
            src: n(2),
            term: Term(0),
        },
    );
    let hup_with_term = Message::new(n(1), Term(3), n(1), MessageVariant::Hup);
    assert_refused(
        &mut node,
        hup_with_term,
        Error::LocalFromRemote {
            src: n(1),
            term: Term(3),
        },
    );
    let propose = proposal(2, 1);
    assert_refused(
        &mut node,
        propose,
        Error::LocalFromRemote {
            src: n(2),
            term: Term(1),
        },
    );
    // The genuine local event still works.
    assert_eq!(block_on(node.campaign()), Ok(StepOutcome::Handled));
    assert_eq!(
        (node.status().role, node.status().term),
        (Role::Candidate, Term(1))
    );
}

// ---------------------------------------------------------------- appends

#[test]
fn an_append_beyond_the_log_is_rejected_with_the_last_entry_as_hint() {
    let mut node = follower_of_n2(1);
    assert_handled(&mut node, append(2, 1, (0, 0), &[(1, 1), (1, 2)], 0));
    assert_eq!(sent(&mut node), [to(2, 1, accepted(2))]);

    // Protocol, not an error: the consistency check fails and n2 learns our last entry.
    let beyond = append(2, 1, (1, 5), &[(1, 6)], 0);
    let rejection = Rejection::PrevBeyondLog {
        prev: key(1, 5),
        last: key(1, 2),
    };
    assert_eq!(
        step(&mut node, beyond),
        Ok(StepOutcome::Rejected(rejection))
    );
    let outcome = AppendOutcome::Rejected {
        rejected: Index(5),
        hint: key(1, 2),
    };
    let reply = to(2, 1, MessageVariant::AppendEntriesResponse { outcome });
    assert_eq!(sent(&mut node), [reply]);
    assert_eq!(node.status().last, key(1, 2), "the log is untouched");

    // The append that follows the hint is taken.
    assert_handled(&mut node, append(2, 1, (1, 2), &[(1, 3)], 0));
    assert_eq!(sent(&mut node), [to(2, 1, accepted(3))]);
}

#[test]
fn malformed_appends_are_refused() {
    let mut node = follower_of_n2(1);
    let malformed = Error::MalformedAppend { src: n(2) };
    // Indexes must follow prev one by one.
    assert_refused(
        &mut node,
        append(2, 1, (0, 0), &[(1, 1), (1, 3)], 0),
        malformed,
    );
    assert_refused(&mut node, append(2, 1, (0, 0), &[(1, 2)], 0), malformed);
    // Terms must not go below prev's, nor above the message's.
    assert_refused(&mut node, append(2, 1, (1, 0), &[(0, 1)], 0), malformed);
    assert_refused(&mut node, append(2, 1, (0, 0), &[(2, 1)], 0), malformed);
    // Indexes must not overflow.
    let top = u64::MAX;
    assert_refused(&mut node, append(2, 1, (1, top), &[(1, top)], 0), malformed);
    assert_refused(
        &mut node,
        append(2, 1, (1, top - 1), &[(1, top), (1, top)], 0),
        malformed,
    );

    assert_handled(&mut node, append(2, 1, (0, 0), &[(1, 1)], 0));
    assert_eq!(sent(&mut node), [to(2, 1, accepted(1))]);
}

/// One message of a term no real cluster reaches used to move its receiver
/// to `Term(u64::MAX)`, where it could never campaign again (two of three
/// nodes hit, and nothing committed in 4,000 ticks). It is refused now, and
/// changes nothing; so is a message from `NodeId(0)`, which no node is.
#[test]
fn terms_beyond_any_real_cluster_and_node_zero_are_refused() {
    let mut node = follower_of_n2(1);
    for term in [Term::ACCEPTED_MAX.0 + 1, u64::MAX] {
        let vote = from(
            2,
            term,
            MessageVariant::RequestVote {
                last: key(0, 0),
                transfer: false,
            },
        );
        let error = Error::TermOutOfRange {
            src: n(2),
            term: Term(term),
        };
        assert_refused(&mut node, vote, error);
    }
    // The largest accepted term is still a term like any other.
    let top = Term::ACCEPTED_MAX.0;
    assert_handled(&mut node, heartbeat(2, top, 0));
    assert_eq!(node.status().term, Term::ACCEPTED_MAX);
    assert_refused(
        &mut node,
        from(0, top, MessageVariant::HeartbeatResponse { read: None }),
        Error::UnknownSender { src: n(0) },
    );
}

/// A log that ends at the largest index can take no more entries: a
/// proposal there is refused (nothing appended) instead of a third entry
/// sharing the index, and a node whose log ends there does not campaign.
#[test]
fn a_log_at_the_largest_index_takes_no_more_entries() {
    let alone = || Config::new(n(1), [n(1)]);
    let mut disk = MemStorage::default();
    let almost = ruft::Snapshot::new(key(1, u64::MAX - 1), [n(1)], bytes::Bytes::new());
    disk.apply_snapshot(almost).unwrap();
    let mut node = block_on(Node::new(alone(), disk)).unwrap();
    assert_eq!(block_on(node.campaign()), Ok(StepOutcome::Handled));
    assert_eq!(node.status().role, Role::Leader);
    assert_eq!(
        node.status().last,
        key(1, u64::MAX),
        "the no-op takes the last index"
    );
    let before = node.clone();
    let full = Error::IndexesExhausted {
        last: Index(u64::MAX),
    };
    assert_eq!(block_on(node.propose("x".into())), Err(full));
    assert_eq!(node, before, "nothing appended");

    let mut disk = MemStorage::default();
    let top = ruft::Snapshot::new(key(1, u64::MAX), [n(1)], bytes::Bytes::new());
    disk.apply_snapshot(top).unwrap();
    let mut node = block_on(Node::new(alone(), disk)).unwrap();
    assert_eq!(
        block_on(node.campaign()),
        Ok(StepOutcome::Dropped(DropReason::IndexesExhausted))
    );
    assert_eq!(node.status().role, Role::Follower);
}

#[test]
fn a_heartbeat_committing_beyond_the_log_is_refused() {
    let mut node = follower_of_n2(1);
    let error = Error::CommitBeyondLast {
        commit: Index(5),
        last: Index(0),
    };
    assert_refused(&mut node, heartbeat(2, 1, 5), error);
    assert_handled(&mut node, append(2, 1, (0, 0), &[(1, 1)], 0));
    assert_handled(&mut node, heartbeat(2, 1, 1));
    assert_eq!(node.status().committed, Index(1));
}

#[test]
fn an_ack_beyond_the_leaders_log_is_refused() {
    let mut node = leader();
    let error = Error::AckBeyondLast {
        src: n(2),
        matched: Index(5),
        last: Index(1),
    };
    assert_refused(&mut node, from(2, 1, accepted(5)), error);
    // A rejection of an append the leader never sent is a stale response, not news.
    let outcome = AppendOutcome::Rejected {
        rejected: Index(7),
        hint: key(1, 7),
    };
    let odd = from(2, 1, MessageVariant::AppendEntriesResponse { outcome });
    let before = node.clone();
    assert_eq!(
        step(&mut node, odd),
        Ok(StepOutcome::Dropped(DropReason::StaleResponse))
    );
    assert_eq!(node, before);

    // The true ack commits the no-op.
    assert_handled(&mut node, from(2, 1, accepted(1)));
    assert_eq!(node.status().committed, Index(1));
}

// ---------------------------------------------------------------- terms

#[test]
fn a_message_from_an_older_term_is_dropped() {
    let mut node = follower_of_n2(2);
    let before = node.clone();
    let stale = StepOutcome::Dropped(DropReason::StaleTerm {
        term: Term(1),
        current: Term(2),
    });
    assert_eq!(step(&mut node, heartbeat(3, 1, 0)), Ok(stale));
    let old_vote = from(
        3,
        1,
        MessageVariant::RequestVote {
            last: key(9, 9),
            transfer: false,
        },
    );
    assert_eq!(step(&mut node, old_vote), Ok(stale));
    assert_eq!(node, before, "a drop changes nothing and sends nothing");
    assert_handled(&mut node, heartbeat(2, 2, 0));
    assert_eq!(
        sent(&mut node),
        [to(2, 2, MessageVariant::HeartbeatResponse { read: None })]
    );
}

#[test]
fn a_malformed_append_from_a_newer_term_leaves_the_node_unchanged() {
    let mut node = follower_of_n2(1);
    let malformed = append(2, 3, (0, 0), &[(1, 1), (1, 3)], 0);
    assert_refused(&mut node, malformed, Error::MalformedAppend { src: n(2) });
}

#[test]
fn a_bad_heartbeat_from_a_newer_term_leaves_the_node_unchanged() {
    let mut node = follower_of_n2(1);
    let error = Error::CommitBeyondLast {
        commit: Index(5),
        last: Index(0),
    };
    assert_refused(&mut node, heartbeat(3, 3, 5), error);
}

// ---------------------------------------------------------------- storage

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
    // A heartbeat reads nothing: it commits 2, but the Ready must read entries 1..=2.
    assert_handled(&mut node, heartbeat(2, 1, 2));
    let before = node.clone();
    assert_eq!(block_on(node.ready()), Err(Error::Storage(IO_FAILURE)));
    assert!(!node.is_ready_outstanding());
    assert_eq!(
        node, before,
        "a failed ready() hands out nothing and changes nothing"
    );

    node.storage_mut().failing = false;
    let rd = block_on(node.ready()).unwrap();
    assert_eq!(rd.committed_entries, entries(&[(1, 1), (1, 2)]));
    assert_eq!(
        rd.messages,
        [to(2, 1, MessageVariant::HeartbeatResponse { read: None })]
    );
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

// ---------------------------------------------------------------- Ready hand-off

#[test]
fn ready_twice_without_advance_is_refused() {
    let mut node = fresh();
    assert_handled(&mut node, heartbeat(2, 1, 0));
    let rd = block_on(node.ready()).unwrap();
    let before = node.clone();
    assert_eq!(block_on(node.ready()), Err(Error::ReadyOutstanding));
    assert_eq!(node, before);
    assert!(
        !node.has_ready(),
        "nothing is offered while a Ready is outstanding"
    );

    // Messages may still be stepped while the write is in flight.
    assert_handled(&mut node, heartbeat(2, 1, 0));
    node.storage_mut().write_ready(&rd);
    node.advance(rd);
    assert_eq!(
        sent(&mut node),
        [to(2, 1, MessageVariant::HeartbeatResponse { read: None })]
    );
}

#[test]
fn advancing_twice_has_no_effect() {
    let mut node = fresh();
    let before = node.clone();
    node.advance(Ready::default());
    assert_eq!(node, before, "advance with nothing outstanding");

    assert_handled(&mut node, append(2, 1, (0, 0), &[(1, 1)], 0));
    let rd = block_on(node.ready()).unwrap();
    node.storage_mut().write_ready(&rd);
    node.advance(rd.clone());
    assert_eq!(node.status().persisted, key(1, 1));

    // 2@1 arrives and is not yet persisted; the old Ready handed back again
    // must not count as its persistence.
    assert_handled(&mut node, append(2, 1, (1, 1), &[(1, 2)], 0));
    let before = node.clone();
    node.advance(rd);
    assert_eq!(node, before);
    assert_eq!(node.status().persisted, key(1, 1));
    let next = block_on(node.ready()).unwrap();
    assert_eq!(next.entries, entries(&[(1, 2)]));
}

/// `advance` acknowledges the outstanding Ready only: `Ready::default()` or
/// an older Ready handed back while another is outstanding used to count
/// the unwritten entries as durable (and every later `ready()` then failed
/// with `OutOfRange`). It is ignored now; the application may still move
/// the Ready's fields out as long as it hands back its token.
#[test]
fn advance_acknowledges_only_the_outstanding_ready() {
    let mut node = fresh();
    assert_handled(&mut node, append(2, 1, (0, 0), &[(1, 1)], 0));
    let old = block_on(node.ready()).unwrap();
    node.storage_mut().write_ready(&old);
    node.advance(old.clone());
    assert_handled(&mut node, append(2, 1, (1, 1), &[(1, 2)], 0));
    let mut rd = block_on(node.ready()).unwrap();
    let before = node.clone();
    node.advance(Ready::default());
    node.advance(old);
    assert_eq!(node, before, "neither is the outstanding Ready");
    assert!(node.is_ready_outstanding());
    assert_eq!(node.status().persisted, key(1, 1), "2@1 was never written");

    node.storage_mut().write_ready(&rd);
    let messages = std::mem::take(&mut rd.messages); // sent elsewhere
    assert_eq!(messages, [to(2, 1, accepted(2))]);
    node.advance(rd);
    assert!(!node.is_ready_outstanding());
    assert_eq!(node.status().persisted, key(1, 2));
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
