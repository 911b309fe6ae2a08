//! Snapshots and log compaction (§7), the follower's and the restarted
//! node's side, as black-box scenarios through the public `Node` API:
//! installing a leader's snapshot (or not), what the next Ready carries,
//! what storage holds after it, restarting over a compacted log, and reading
//! below the compaction point.
//!
//! After the snapshot checks of etcd's `raft_test.go`, `log_test.go` and
//! `rawnode_test.go` (`TestRestore`, `TestRestoreIgnoreSnapshot`,
//! `TestRestoreFromSnapMsg`, the restart-from-snapshot and applied-index
//! tests and their kin), written anew for ruft. Where ruft's documented
//! behaviour differs, the scenario says so: a restarted node whose HardState
//! on disk lags behind its snapshot counts the snapshot as committed (etcd
//! refuses such storage); a malformed snapshot (covering nothing, or of a
//! term after its message's) is refused as an error before the term gate.
//! The leader's side is in `paper_snapshot_leader.rs`. Not ported: learners
//! and membership in the snapshot's metadata (ruft has no membership changes
//! yet).

mod paper_common;

use futures::executor::block_on;
use paper_common::*;
use ruft::{
    DropReason, Error, Index, LogStorage, MemStorage, Node, Role, Snapshot, StepOutcome,
    StorageError, Term,
};

// ---------------------------------------------------------------- helpers

/// n2 of {n1, n2, n3} restarted in `term` (having voted for n1) with `log`,
/// of which `commit` is committed; the committed entries its first Ready
/// hands out are applied.
fn follower(term: u64, log: &str, commit: u64) -> Node<MemStorage> {
    let mut n2 = node_on(config(2, 3), hard(term, Some(1), commit), log);
    run_ready(&mut n2);
    n2
}

/// The storage every restart scenario starts from: compacted up to the
/// snapshot `3@1` (data "abc"), holding `4@1 5@1` after it, all committed.
fn compacted_to_3() -> MemStorage {
    compacted_storage(snapshot("3@1", "abc"), hard(1, None, 5), "4@1 5@1")
}

/// n2 of {n1, n2, n3} restarted over `storage` with `applied` as its
/// configured applied index.
fn restarted(storage: MemStorage, applied: u64) -> Result<Node<MemStorage>, Error> {
    let mut cfg = config(2, 3);
    cfg.applied = Index(applied);
    block_on(Node::new(cfg, storage))
}

fn compacted(index: u64, first: u64) -> StorageError {
    StorageError::Compacted {
        index: Index(index),
        first: Index(first),
    }
}

// ---------------------------------------------------------------- restoring

/// After etcd's `TestRestore`, §7: a follower whose log does not hold the
/// snapshot's last entry replaces its whole log with the snapshot. It is
/// committed at once (a leader snapshots only committed entries), the next
/// Ready hands it out first, with no committed entries (the state machine
/// restarts from the snapshot itself), and the follower answers with the
/// snapshot's index. Once persisted, storage holds the snapshot and no
/// entry: its first index is the one after the snapshot.
#[test]
fn a_follower_with_an_empty_log_restores_from_the_leaders_snapshot() {
    let mut n2 = fresh(2, 3);
    let snap = snapshot("5@1", "abcde");
    assert_eq!(
        step(&mut n2, install_snapshot(1, 2, 2, snap.clone())),
        StepOutcome::Handled
    );
    let s = n2.status();
    assert_eq!(
        (s.term, s.leader, s.committed, s.last),
        (Term(2), Some(n(1)), Index(5), key("5@1"))
    );
    let rd = run_ready(&mut n2);
    assert_eq!(rd.snapshot, Some(Box::new(snap.clone())));
    assert!(rd.entries.is_empty());
    assert!(
        rd.committed_entries.is_empty(),
        "§7: the state machine restarts from the snapshot, not from entries"
    );
    assert_eq!(rd.hard_state, Some(hard(2, None, 5)));
    assert_eq!(show(&rd.messages), ["n2->n1 AppendOk{t2, match 5}"]);
    let stored = n2.storage();
    assert_eq!(stored.stored_snapshot(), &snap);
    assert!(stored.stored_entries().is_empty());
    assert_eq!(block_on(stored.first_index()), Ok(Index(6)));
    assert_eq!(block_on(stored.last_index()), Ok(Index(5)));
    assert_eq!(block_on(stored.term(Index(5))), Ok(Term(1)));
    assert_eq!(n2.status().applied, Index(5));
}

/// §7: a snapshot reaching beyond the follower's log replaces the whole log,
/// even the prefix that agrees with the leader's. The entries between the
/// old commit index and the snapshot are never handed out: the snapshot
/// stands in for them.
#[test]
fn a_snapshot_beyond_the_log_replaces_it_even_where_the_logs_agree() {
    let mut n2 = follower(1, "1@1 2@1", 2);
    assert_eq!(
        step(&mut n2, install_snapshot(1, 1, 2, snapshot("5@1", "abcde"))),
        StepOutcome::Handled
    );
    assert_eq!(log_of(&n2), "", "nothing but the snapshot is left");
    assert_eq!(n2.log().compacted(), key("5@1"));
    let rd = run_ready(&mut n2);
    assert_eq!(rd.snapshot.as_ref().map(|s| s.key()), Some(key("5@1")));
    assert_eq!(keys(&rd.committed_entries), "");
    assert_eq!(rd.hard_state, Some(hard(1, Some(1), 5)));
    assert_eq!(n2.storage().compacted(), key("5@1"));
    assert!(n2.storage().stored_entries().is_empty());
}

/// etcd's `restore` rule: a follower whose log has a different term at the
/// snapshot's index cannot keep any of its log (Log Matching, §5.3: the
/// entries around the conflict are not the leader's). The whole log goes,
/// the entry after the snapshot index included, and reading below the new
/// compaction point is an error.
#[test]
fn a_conflicting_entry_at_the_snapshots_index_means_the_whole_log_is_replaced() {
    let mut n2 = follower(1, "1@1 2@1 3@1 4@1", 1);
    assert_eq!(
        step(&mut n2, install_snapshot(1, 2, 2, snapshot("3@2", "abc"))),
        StepOutcome::Handled
    );
    assert_eq!(n2.status().last, key("3@2"), "4@1 is gone too");
    assert_eq!(n2.status().committed, Index(3));
    let rd = run_ready(&mut n2);
    assert_eq!(rd.snapshot.as_ref().map(|s| s.key()), Some(key("3@2")));
    assert_eq!(keys(&rd.committed_entries), "");
    assert_eq!(rd.hard_state, Some(hard(2, None, 3)));
    assert_eq!(show(&rd.messages), ["n2->n1 AppendOk{t2, match 3}"]);
    let stored = n2.storage();
    assert!(stored.stored_entries().is_empty());
    assert_eq!(block_on(stored.first_index()), Ok(Index(4)));
    assert_eq!(block_on(stored.term(Index(3))), Ok(Term(2)));
    assert_eq!(block_on(stored.term(Index(2))), Err(compacted(2, 4)));
}

/// After the second half of etcd's `TestRestoreIgnoreSnapshot`, §7: a
/// snapshot that describes a prefix of the follower's log leaves the entries
/// after it in place. ruft keeps the covered entries too (the application
/// compacts its own log when it likes): the log stays as it is, the commit
/// index moves up to the snapshot, and the entries that became committed
/// are handed out as entries. Nothing is written to storage's snapshot.
#[test]
fn a_snapshot_whose_last_entry_the_log_holds_keeps_the_log_and_commits_up_to_it() {
    let mut n2 = follower(1, "1@1 2@1 3@1 4@1", 1);
    assert_eq!(
        step(&mut n2, install_snapshot(1, 1, 2, snapshot("3@1", "abc"))),
        StepOutcome::Handled
    );
    assert_eq!(log_of(&n2), "1@1 2@1 3@1 4@1", "the suffix 4@1 stays");
    assert_eq!(n2.status().committed, Index(3));
    let rd = run_ready(&mut n2);
    assert_eq!(rd.snapshot, None);
    assert_eq!(keys(&rd.entries), "");
    assert_eq!(keys(&rd.committed_entries), "2@1 3@1");
    assert_eq!(rd.hard_state, Some(hard(1, Some(1), 3)));
    assert_eq!(show(&rd.messages), ["n2->n1 AppendOk{t1, match 3}"]);
    assert!(n2.storage().stored_snapshot().is_empty());
    assert_eq!(block_on(n2.storage().first_index()), Ok(Index(1)));
}

/// After the first half of etcd's `TestRestoreIgnoreSnapshot`: a snapshot
/// not newer than the commit index (older, or ending right at it) would move
/// the commit index and the state machine backwards. It changes nothing and
/// is answered with the commit index, so that the leader moves on.
#[test]
fn a_snapshot_not_newer_than_the_commit_index_is_ignored_and_answered_with_it() {
    for stale in ["2@1", "3@1"] {
        let mut n2 = follower(1, "1@1 2@1 3@1", 3);
        let log = n2.log().clone();
        assert_eq!(
            step(&mut n2, install_snapshot(1, 1, 2, snapshot(stale, "ab"))),
            StepOutcome::Handled,
            "{stale}"
        );
        assert_eq!(n2.log(), &log, "{stale}: the log is untouched");
        assert_eq!(n2.status().committed, Index(3), "{stale}");
        let rd = run_ready(&mut n2);
        assert_eq!((rd.snapshot, rd.hard_state), (None, None), "{stale}");
        assert_eq!(keys(&rd.committed_entries), "", "{stale}");
        assert_eq!(
            show(&rd.messages),
            ["n2->n1 AppendOk{t1, match 3}"],
            "{stale}"
        );
        assert!(n2.storage().stored_snapshot().is_empty(), "{stale}");
    }
}

/// A duplicated InstallSnapshot (a retransmission) arriving before the
/// first copy was even handed out: the first restored the commit index to
/// the snapshot's, so the second is not newer and is only answered. The
/// snapshot is handed out once.
#[test]
fn a_duplicated_snapshot_is_handed_out_once_and_answered_twice() {
    let mut n2 = fresh(2, 3);
    let snap = snapshot("5@1", "abcde");
    for _ in 0..2 {
        assert_eq!(
            step(&mut n2, install_snapshot(1, 2, 2, snap.clone())),
            StepOutcome::Handled
        );
    }
    let rd = run_ready(&mut n2);
    assert_eq!(rd.snapshot, Some(Box::new(snap)));
    assert_eq!(
        show(&rd.messages),
        [
            "n2->n1 AppendOk{t2, match 5}",
            "n2->n1 AppendOk{t2, match 5}"
        ]
    );
    assert!(!n2.has_ready());
}

/// §5.2 with §7: an InstallSnapshot comes from the leader of its term. A
/// candidate of that term steps down and follows it; a node in an older
/// term first moves to the message's term. Either way the snapshot is then
/// installed as by any follower.
#[test]
fn a_candidate_that_receives_the_leaders_snapshot_follows_it_and_installs_it() {
    for term in [2, 3] {
        let mut n2 = node_on(config(2, 3), hard(1, None, 1), "1@1");
        block_on(n2.campaign()).unwrap();
        run_ready(&mut n2);
        assert_eq!(n2.status().role, Role::Candidate);
        assert_eq!(
            step(
                &mut n2,
                install_snapshot(1, term, 2, snapshot("5@1", "abcde"))
            ),
            StepOutcome::Handled
        );
        assert_eq!(
            role_term_leader(&n2),
            (Role::Follower, Term(term), Some(n(1))),
            "t{term}"
        );
        let rd = run_ready(&mut n2);
        assert_eq!(rd.snapshot.map(|s| s.key()), Some(key("5@1")), "t{term}");
        let vote = (term == 2).then_some(2);
        assert_eq!(rd.hard_state, Some(hard(term, vote, 5)), "t{term}");
    }
}

// ---------------------------------------------------------------- after the snapshot

/// After etcd's `TestRestoreFromSnapMsg` followed by an append, §7: the
/// leader goes on from the snapshot's last entry, and an append whose prev
/// is that entry is accepted even before the snapshot is persisted. Both go
/// out in one Ready, in the order the application must write them: the
/// snapshot, then the entries after it; committed entries start right after
/// the snapshot.
#[test]
fn entries_right_after_a_restored_snapshot_come_in_the_same_ready_after_it() {
    let mut n2 = fresh(2, 3);
    step(&mut n2, install_snapshot(1, 2, 2, snapshot("5@1", "abcde")));
    assert_eq!(
        step(&mut n2, append(1, 2, 2, "5@1", "6@2 7@2", 7)),
        StepOutcome::Handled
    );
    let rd = run_ready(&mut n2);
    assert_eq!(rd.snapshot.as_ref().map(|s| s.key()), Some(key("5@1")));
    assert_eq!(keys(&rd.entries), "6@2 7@2");
    assert_eq!(keys(&rd.committed_entries), "6@2 7@2");
    assert_eq!(rd.hard_state, Some(hard(2, None, 7)));
    assert_eq!(
        show(&rd.messages),
        [
            "n2->n1 AppendOk{t2, match 5}",
            "n2->n1 AppendOk{t2, match 7}"
        ]
    );
    assert_eq!(n2.storage().compacted(), key("5@1"));
    assert_eq!(keys(n2.storage().stored_entries()), "6@2 7@2");
}

/// The same append arriving while the application is still writing the
/// snapshot (its Ready handed out, not yet advanced): it is accepted, and
/// its entries come in the next Ready, with nothing handed out twice.
#[test]
fn entries_arriving_while_the_snapshot_is_written_come_in_the_next_ready() {
    let mut n2 = fresh(2, 3);
    step(&mut n2, install_snapshot(1, 2, 2, snapshot("5@1", "abcde")));
    let writing = block_on(n2.ready()).unwrap();
    assert_eq!(
        step(&mut n2, append(1, 2, 2, "5@1", "6@2", 6)),
        StepOutcome::Handled
    );
    n2.storage_mut().persist(&writing).unwrap();
    n2.advance(writing);
    let rd = run_ready(&mut n2);
    assert_eq!(rd.snapshot, None, "handed out once");
    assert_eq!(keys(&rd.entries), "6@2");
    assert_eq!(keys(&rd.committed_entries), "6@2");
    assert_eq!(show(&rd.messages), ["n2->n1 AppendOk{t2, match 6}"]);
    assert_eq!(keys(n2.storage().stored_entries()), "6@2");
    assert_eq!(n2.status().applied, Index(6));
}

/// A second, newer snapshot arriving while the first is being written
/// replaces it: the next Ready hands it out, and storage ends up with it
/// (its older write is simply overtaken).
#[test]
fn a_newer_snapshot_arriving_while_one_is_written_is_handed_out_next() {
    let mut n2 = fresh(2, 3);
    step(&mut n2, install_snapshot(1, 2, 2, snapshot("5@1", "abcde")));
    let writing = block_on(n2.ready()).unwrap();
    assert_eq!(
        step(
            &mut n2,
            install_snapshot(1, 2, 2, snapshot("8@2", "abcdefgh"))
        ),
        StepOutcome::Handled
    );
    n2.storage_mut().persist(&writing).unwrap();
    n2.advance(writing);
    assert_eq!(n2.status().last, key("8@2"));
    let rd = run_ready(&mut n2);
    assert_eq!(rd.snapshot.as_ref().map(|s| s.key()), Some(key("8@2")));
    assert_eq!(keys(&rd.committed_entries), "");
    assert_eq!(rd.hard_state, Some(hard(2, None, 8)));
    assert_eq!(show(&rd.messages), ["n2->n1 AppendOk{t2, match 8}"]);
    assert_eq!(n2.storage().stored_snapshot().key(), key("8@2"));
    assert_eq!(n2.status().applied, Index(8));
    assert!(!n2.has_ready());
}

/// §5.4.3 after §7: an append whose prev lies below the restored snapshot
/// (sent before the leader knew) is answered with the commit index, the
/// snapshot's, without looking at the compacted log.
#[test]
fn an_append_from_before_the_snapshot_is_answered_with_the_snapshot_index() {
    let mut n2 = fresh(2, 3);
    step(&mut n2, install_snapshot(1, 2, 2, snapshot("5@1", "abcde")));
    run_ready(&mut n2);
    assert_eq!(
        step(&mut n2, append(1, 2, 2, "2@1", "3@1", 5)),
        StepOutcome::Handled
    );
    assert_eq!(sends(&mut n2), ["n2->n1 AppendOk{t2, match 5}"]);
    assert_eq!(n2.status().last, key("5@1"));
}

// ---------------------------------------------------------------- refused and dropped

/// §5.1: an InstallSnapshot from an older term is dropped at the term gate
/// like any stale message. Unlike a stale append or heartbeat it is not
/// answered, even with check-quorum (etcd answers only those two).
#[test]
fn an_install_snapshot_from_an_older_term_is_dropped() {
    for check_quorum in [false, true] {
        let mut cfg = config(2, 3);
        cfg.check_quorum = check_quorum;
        let mut n2 = node_on(cfg, hard(3, Some(1), 1), "1@1");
        run_ready(&mut n2);
        let before = n2.clone();
        assert_eq!(
            step(&mut n2, install_snapshot(1, 2, 2, snapshot("5@2", "abcde"))),
            StepOutcome::Dropped(DropReason::StaleTerm {
                term: Term(2),
                current: Term(3)
            })
        );
        assert_eq!(n2, before, "check_quorum {check_quorum}");
        assert!(!n2.has_ready(), "check_quorum {check_quorum}");
    }
}

/// A snapshot that covers nothing, or whose last entry is of a term after
/// the message's (no leader can have created it), is malformed: refused
/// with `MalformedSnapshot` before the term gate, so that even one from a
/// newer term changes nothing, the term included.
#[test]
fn a_malformed_install_snapshot_is_refused_and_changes_nothing() {
    let mut n2 = follower(2, "1@1", 1);
    let before = n2.clone();
    for bad in [
        install_snapshot(1, 2, 2, Snapshot::default()),
        install_snapshot(1, 3, 2, Snapshot::default()),
        install_snapshot(1, 2, 2, snapshot("5@3", "abcde")),
        install_snapshot(1, 3, 2, snapshot("5@4", "abcde")),
    ] {
        assert_eq!(
            block_on(n2.step(bad.clone())),
            Err(Error::MalformedSnapshot { src: n(1) }),
            "{bad}"
        );
        assert_eq!(n2, before, "{bad}");
    }
    assert_eq!(n2.status().term, Term(2));
}

// ---------------------------------------------------------------- restarting over a compacted log

/// After etcd's restart-from-snapshot tests: a node restarted over storage
/// compacted up to its snapshot resumes from it. The state machine is at
/// least the snapshot (applied = its index); the snapshot is not handed out
/// again (the application restores from its own storage), and the first
/// Ready hands out the committed entries after it.
#[test]
fn a_node_restarted_over_a_compacted_log_resumes_after_its_snapshot() {
    let mut n2 = restarted(compacted_to_3(), 0).unwrap();
    let s = n2.status();
    assert_eq!(
        (s.term, s.committed, s.applied, s.last),
        (Term(1), Index(5), Index(3), key("5@1"))
    );
    assert_eq!(log_of(&n2), "4@1 5@1");
    assert_eq!(n2.log().compacted(), key("3@1"));
    let rd = run_ready(&mut n2);
    assert_eq!((rd.snapshot, rd.hard_state), (None, None));
    assert_eq!(keys(&rd.entries), "");
    assert_eq!(keys(&rd.committed_entries), "4@1 5@1");
    assert_eq!(n2.status().applied, Index(5));
}

/// `Config::applied` says how far the restarted state machine already is:
/// entries at or below it are not handed out again. Below the snapshot it
/// counts as the snapshot's index (the state machine is never behind it).
#[test]
fn on_restart_entries_up_to_the_configured_applied_index_are_not_handed_out_again() {
    for (applied, resumes_at, handed) in [
        (0, 3, "4@1 5@1"),
        (2, 3, "4@1 5@1"),
        (3, 3, "4@1 5@1"),
        (4, 4, "5@1"),
        (5, 5, ""),
    ] {
        let mut n2 = restarted(compacted_to_3(), applied).unwrap();
        assert_eq!(n2.status().applied, Index(resumes_at), "applied {applied}");
        let rd = run_ready(&mut n2);
        assert_eq!(keys(&rd.committed_entries), handed, "applied {applied}");
        assert_eq!(n2.status().applied, Index(5), "applied {applied}");
    }
}

/// `Config::applied` beyond the commit index in storage claims entries
/// applied that are not committed: the restart is refused with
/// `AppliedBeyondCommit`, compacted or not.
#[test]
fn a_configured_applied_index_beyond_the_stored_commit_index_is_refused() {
    assert_eq!(
        restarted(compacted_to_3(), 6).unwrap_err(),
        Error::AppliedBeyondCommit {
            applied: Index(6),
            committed: Index(5)
        }
    );
    assert_eq!(
        restarted(storage(hard(1, None, 1), "1@1 2@1"), 2).unwrap_err(),
        Error::AppliedBeyondCommit {
            applied: Index(2),
            committed: Index(1)
        }
    );
}

/// §7: a snapshot is committed. A crash between writing a leader's snapshot
/// and the HardState that says so leaves storage with a commit index below
/// the snapshot; the restarted node counts the snapshot as committed anyway
/// (and `applied` up to it is accepted), and its first Ready persists the
/// corrected commit index.
#[test]
fn a_snapshot_counts_as_committed_on_restart_even_if_the_hard_state_lags() {
    let lagging = compacted_storage(snapshot("3@1", "abc"), hard(1, None, 0), "4@1");
    let mut n2 = restarted(lagging, 3).unwrap();
    let s = n2.status();
    assert_eq!((s.committed, s.applied), (Index(3), Index(3)));
    let rd = run_ready(&mut n2);
    assert_eq!(rd.hard_state, Some(hard(1, None, 3)));
    assert_eq!(keys(&rd.committed_entries), "");
}

/// The storage contract: a compacted index is `StorageError::Compacted`,
/// never a made-up term 0. Through the node, entries and terms below the
/// compaction point are refused; the term of the snapshot's last entry is
/// still known. A restored snapshot not yet persisted moves the point at
/// once.
#[test]
fn reading_below_the_compaction_point_is_an_error_never_term_zero() {
    let n2 = restarted(compacted_to_3(), 0).unwrap();
    let refused = |index, first| Err(Error::Storage(compacted(index, first)));
    assert_eq!(block_on(n2.entries(Index(1), Index(6))), refused(1, 4));
    assert_eq!(block_on(n2.entries(Index(3), Index(6))), refused(3, 4));
    assert_eq!(
        keys(&block_on(n2.entries(Index(4), Index(6))).unwrap()),
        "4@1 5@1"
    );
    assert_eq!(block_on(n2.log().term(Index(3))), Ok(Some(Term(1))));
    assert_eq!(block_on(n2.log().term(Index(2))), Err(compacted(2, 4)));
    assert_eq!(block_on(n2.log().term(Index(0))), Err(compacted(0, 4)));

    let mut n3 = fresh(3, 3);
    step(&mut n3, install_snapshot(1, 2, 3, snapshot("5@1", "abcde")));
    assert!(n3.has_ready(), "the snapshot is not persisted yet");
    assert_eq!(block_on(n3.entries(Index(1), Index(6))), refused(1, 6));
    assert_eq!(block_on(n3.log().term(Index(4))), Err(compacted(4, 6)));
    assert_eq!(block_on(n3.log().term(Index(5))), Ok(Some(Term(1))));
}
