//! Byte limits: appends, Readys and uncommitted proposals are capped in
//! payload bytes as well as in entries (etcd's `MaxSizePerMsg`,
//! `MaxCommittedSizePerReady` and `MaxUncommittedEntriesSize`), and one
//! entry always gets through, however large, so that progress is possible.

mod paper_common;

use futures::executor::block_on;
use paper_common::*;
use ruft::{Config, Entry, EntryKey, Error, Index, MemStorage, Node, Role, Term};

/// n1 of three, configured by `configure`, leader of term 1 with its no-op
/// persisted; n2's and n3's probes are still unanswered.
fn leader_with(configure: impl Fn(&mut Config)) -> Node<MemStorage> {
    let mut cfg = config(1, 3);
    configure(&mut cfg);
    let mut n1 = block_on(Node::new(cfg, MemStorage::default())).unwrap();
    block_on(n1.campaign()).unwrap();
    run_ready(&mut n1);
    step(&mut n1, vote(2, 1, 1, true));
    assert_eq!(n1.status().role, Role::Leader);
    run_ready(&mut n1);
    n1
}

fn propose(node: &mut Node<MemStorage>, bytes: usize) -> Result<EntryKey, Error> {
    block_on(node.propose(vec![b'x'; bytes].into()))
}

#[test]
fn an_append_carries_entries_up_to_the_byte_limit_and_one_oversized_entry_alone() {
    let mut n1 = leader_with(|cfg| cfg.append_bytes_max = 10);
    // While n2's probe is unanswered, three 6-byte commands and a 100-byte one wait.
    for bytes in [6, 6, 6, 100] {
        propose(&mut n1, bytes).unwrap();
    }
    run_ready(&mut n1);
    // n2 has the no-op: it is replicated to from 2 on, one append per answer.
    step(&mut n1, append_ok(2, 1, 1, 1));
    assert_eq!(
        sends(&mut n1),
        ["n1->n2 Append{t1, prev 1@1, entries [2@1], commit 1}"],
        "6 + 6 bytes would pass the 10-byte limit"
    );
    step(&mut n1, append_ok(2, 1, 1, 2));
    step(&mut n1, append_ok(2, 1, 1, 3));
    assert_eq!(
        sends(&mut n1),
        [
            "n1->n2 Append{t1, prev 2@1, entries [3@1], commit 2}",
            "n1->n2 Append{t1, prev 3@1, entries [4@1], commit 3}",
        ]
    );
    step(&mut n1, append_ok(2, 1, 1, 4));
    assert_eq!(
        sends(&mut n1),
        ["n1->n2 Append{t1, prev 4@1, entries [5@1], commit 4}"],
        "the 100-byte command goes alone: an entry is never held back forever"
    );
}

#[test]
fn a_restart_over_a_long_committed_log_hands_it_out_in_bounded_readys() {
    // 1,000 committed entries of 1 KiB: 1000 KiB to apply after a restart.
    let log: Vec<Entry> = (1..=1000)
        .map(|i| Entry::normal(EntryKey::new(Term(1), Index(i)), vec![0u8; 1024]))
        .collect();
    let mut stored = MemStorage::default();
    stored.append(&log).unwrap();
    stored.set_hard_state(hard(1, None, 1000));
    let mut cfg = config(1, 3);
    cfg.committed_bytes_max = 64 * 1024;
    let mut n1 = block_on(Node::new(cfg, stored)).unwrap();
    let mut readys = 0;
    let mut applied = Vec::new();
    while n1.has_ready() {
        let rd = run_ready(&mut n1);
        let bytes: usize = rd.committed_entries.iter().map(Entry::payload_len).sum();
        assert!(bytes <= 64 * 1024, "Ready {readys} hands out {bytes} bytes");
        applied.extend(rd.committed_entries.iter().map(|e| e.index().0));
        readys += 1;
    }
    assert_eq!(
        applied,
        (1..=1000).collect::<Vec<u64>>(),
        "all, once, in order"
    );
    assert_eq!(readys, 16, "64 entries of 1 KiB per Ready");
    assert_eq!(n1.status().applied, Index(1000));
}

#[test]
fn a_leader_refuses_proposals_beyond_the_uncommitted_byte_limit_until_they_are_applied() {
    let mut n1 = leader_with(|cfg| cfg.uncommitted_bytes_max = Some(10));
    // Holding nothing, the leader takes any proposal, however large.
    assert_eq!(propose(&mut n1, 100), Ok(key("2@1")));
    let last = n1.status().last;
    assert_eq!(
        propose(&mut n1, 1),
        Err(Error::UncommittedBytesFull { max: 10 })
    );
    assert_eq!(
        n1.status().last,
        last,
        "an error means nothing was appended"
    );
    run_ready(&mut n1);
    // n2 acknowledges both entries: they commit, and the Ready applies them.
    step(&mut n1, append_ok(2, 1, 1, 2));
    assert_eq!(n1.status().committed, Index(2));
    let rd = run_ready(&mut n1);
    assert_eq!(keys(&rd.committed_entries), "1@1 2@1");
    assert_eq!(propose(&mut n1, 6), Ok(key("3@1")));
    assert_eq!(propose(&mut n1, 4), Ok(key("4@1")), "6 + 4 bytes fit in 10");
    assert_eq!(
        propose(&mut n1, 1),
        Err(Error::UncommittedBytesFull { max: 10 })
    );
}

/// The outbox is bounded too (`Config::outbox_max`): a message beyond the
/// bound is dropped, as a lossy network would drop it, and counted in
/// `Status::outbox_dropped`. A candidate of three with room for one
/// message asks one peer for its vote.
#[test]
fn messages_beyond_the_outbox_bound_are_dropped_and_counted() {
    let mut cfg = config(1, 3);
    cfg.outbox_max = 1;
    let mut n1 = block_on(Node::new(cfg, MemStorage::default())).unwrap();
    assert_eq!(n1.status().outbox_dropped, 0);
    block_on(n1.campaign()).unwrap();
    assert_eq!(n1.status().outbox_dropped, 1, "the second vote request");
    let rd = block_on(n1.ready()).unwrap();
    assert_eq!(rd.messages.len(), 1);
}
