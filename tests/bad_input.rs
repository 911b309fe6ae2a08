//! Bad input through the public [`Node`] API (design §2, "Errors and bad
//! input"): each test feeds one kind of hostile, stale or misplaced input to
//! node n1 of the cluster {n1, n2, n3}, checks the exact typed error or drop,
//! checks that a refused call left the node exactly as it was, and then shows
//! the node still handles a valid message.

use futures::executor::block_on;
use ruft::{
    AppendOutcome, Config, DropReason, Error, Index, MemStorage, Message, MessageVariant, Node,
    Ready, Rejection, Role, StepOutcome, Term,
};
mod node_common;
use node_common::*;

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
    // The snapshot's term 1 is newer than the empty HardState's, so n1
    // opens in term 1 (a torn write, see tests/storage_faults.rs) and
    // campaigns in term 2.
    assert_eq!(
        node.status().last,
        key(2, u64::MAX),
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
