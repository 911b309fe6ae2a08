//! Linearizable reads (ReadIndex, thesis §6.4) as black-box scenarios,
//! through the public `Node` API and the shared cluster driver: a leader
//! serves a read at its commit index only once a quorum has answered a
//! heartbeat sent after the read arrived; a new leader first commits its
//! no-op (§8); a follower passes its application's read to its leader and
//! gets the answer back; a node that knows no leader refuses; a leader that
//! steps down drops what it holds; with check-quorum a leader may serve
//! reads from its lease instead. Then the application's side: a read state
//! names an index the node may not have applied yet, and a read that starts
//! after a write returns at least that write.
//!
//! After the read-only checks of etcd's `raft_test.go`
//! (`TestReadOnlyOptionSafe`, `TestReadOnlyOptionLease`,
//! `TestReadOnlyForNewLeader`, `TestReadOnlyDuplicateRequest`,
//! `TestRaftFreesReadOnlyMem`), `node_test.go`
//! (`TestNodeReadIndexToOldLeader`) and `rawnode_test.go`
//! (`TestRawNodeReadIndex`), written anew for ruft. Where ruft differs, the
//! scenario says so. The main difference: etcd matches heartbeat answers to
//! reads by the client's context, so a read whose context is already pending
//! is folded into the earlier one, and a late answer to an old heartbeat can
//! confirm a newer read with a reused context (etcd-io/raft#397, the case of
//! `TestReadOnlyDuplicateRequest`); ruft numbers each read (`r1`, `r2`, ... per
//! leadership), heartbeats carry the newest number and answers echo it, so
//! contexts need not be unique and an old answer confirms only old reads.
//! Also ruft's own: a leader that steps down drops its pending reads (traced;
//! the client retries), a read forwarded to a node that is no longer leader
//! is dropped rather than forwarded again, a leader's reads are bounded
//! (`reads_max`, `read_bytes_max`), and a lease read without check-quorum is
//! a configuration error. Not ported: learners (`TestReadOnlyWithLearner`;
//! ruft has no learners yet).

mod paper_common;

use bytes::Bytes;
use futures::executor::block_on;
use paper_common::*;
use ruft::{
    Config, DropReason, EntryVariant, Error, Index, MemStorage, Node, ReadMode, Role, StepOutcome,
    Term, Tick,
};
use ruft_models::driver::Cluster;

// ---------------------------------------------------------------- helpers

/// Node n1 of {n1, n2, n3}, configured by `configure`, leader of term 1
/// (voted in by n2) whose no-op `1@1` n2 has acknowledged, so it is
/// committed; its Readys carried out. n3 has answered nothing.
fn committed_leader(configure: fn(&mut Config)) -> Node<MemStorage> {
    let mut cfg = config(1, 3);
    configure(&mut cfg);
    let mut n1 = node_on(cfg, hard(0, None, 0), "");
    past_startup(&mut n1);
    block_on(n1.campaign()).unwrap();
    step(&mut n1, vote(2, 1, 1, true));
    assert_eq!(n1.status().role, Role::Leader);
    run_ready(&mut n1);
    step(&mut n1, append_ok(2, 1, 1, 1));
    run_ready(&mut n1);
    assert_eq!(n1.status().committed, Index(1));
    n1
}

/// Lease reads: check-quorum on, `ReadMode::Lease`. Election timeouts are
/// drawn from [11, 12), so a node's own timer stays quiet through its first
/// `election_tick` (10) ticks and the scenarios campaign by hand.
fn with_lease(cfg: &mut Config) {
    cfg.check_quorum = true;
    cfg.read_mode = ReadMode::Lease;
    cfg.election_timeout_range = Some((Tick(11), Tick(12)));
}

/// With lease reads a node campaigns only after its first `election_tick`
/// ticks (it may have granted a lease before it started): let them pass.
/// Without lease reads there is nothing to wait for.
fn past_startup(node: &mut Node<MemStorage>) {
    while node.status().startup_lease {
        tick(node);
    }
    assert_eq!(node.status().role, Role::Follower, "no campaign yet");
}

/// {n1, n2, n3} with n1 elected leader of term 1 and every node holding,
/// and knowing committed, `1@1`.
fn led_by_n1() -> Cluster {
    let mut cluster = Cluster::new(3, |_| {});
    elect(&mut cluster, 1);
    beat(&mut cluster, 1);
    assert_eq!(commits(&cluster), [1, 1, 1]);
    cluster
}

fn read_on(cluster: &mut Cluster, id: u64, ctx: &'static str) -> StepOutcome {
    cluster.read_index(n(id), Bytes::from(ctx)).unwrap()
}

fn applied(cluster: &Cluster, id: u64) -> Index {
    cluster.node(n(id)).status().applied
}

// ---------------------------------------------------------------- ReadIndex at the leader

/// After etcd's `TestReadOnlyOptionSafe`, §6.4 steps 1 to 4: the leader
/// records its commit index for the read, numbers it `r1` and sends a
/// heartbeat round carrying the number. Alone it is no quorum: nothing is
/// answered until a follower echoes `r1`; then the next Ready hands out the
/// read state at the recorded commit index. A second echo (n3, late) has
/// nothing left to confirm; it only makes the leader send n3 what it lacks.
#[test]
fn a_read_on_a_leader_is_answered_once_a_quorum_echoes_the_heartbeat_that_carried_it() {
    let mut n1 = committed_leader(|_| {});
    assert_eq!(read(&mut n1, "a"), Ok(StepOutcome::Handled));
    let rd = run_ready(&mut n1);
    assert_eq!(
        show(&rd.messages),
        [
            "n1->n2 Heartbeat{t1, commit 1, read r1}",
            "n1->n3 Heartbeat{t1, commit 0, read r1}"
        ]
    );
    assert!(rd.read_states.is_empty(), "the leader alone is no quorum");
    assert!(!n1.has_ready());
    assert_eq!(
        step(&mut n1, heartbeat_ok_with_read(2, 1, 1, 1)),
        StepOutcome::Handled
    );
    let rd = run_ready(&mut n1);
    assert_eq!(rd.read_states, [read_state(1, "a")]);
    assert!(rd.messages.is_empty());
    step(&mut n1, heartbeat_ok_with_read(3, 1, 1, 1));
    let rd = run_ready(&mut n1);
    assert!(rd.read_states.is_empty(), "each read is answered once");
    assert_eq!(
        show(&rd.messages),
        ["n1->n3 Append{t1, prev 0@0, entries [1@1], commit 1}"]
    );
}

/// After etcd's `TestRawNodeReadIndex`: a leader that is the only voter is a
/// quorum by itself, but it still waits for its no-op to commit (§8). The
/// read asked right after the election comes out in the Ready that applies
/// `1@1`; a later read comes out in the very next Ready, with no message.
#[test]
fn a_single_voter_leader_answers_a_read_once_its_no_op_is_committed() {
    let mut n1 = fresh(1, 1);
    block_on(n1.campaign()).unwrap();
    assert_eq!(n1.status().role, Role::Leader);
    assert_eq!(read(&mut n1, "a"), Ok(StepOutcome::Handled));
    let rd = run_ready(&mut n1);
    assert_eq!(keys(&rd.entries), "1@1");
    assert_eq!(keys(&rd.committed_entries), "");
    assert!(rd.read_states.is_empty(), "the no-op is not committed yet");
    let rd = run_ready(&mut n1);
    assert_eq!(keys(&rd.committed_entries), "1@1");
    assert_eq!(rd.read_states, [read_state(1, "a")]);
    assert!(rd.messages.is_empty());
    assert_eq!(read(&mut n1, "b"), Ok(StepOutcome::Handled));
    let rd = run_ready(&mut n1);
    assert_eq!(rd.read_states, [read_state(1, "b")]);
    assert!(rd.messages.is_empty());
    assert!(!n1.has_ready());
}

/// After etcd's `TestReadOnlyForNewLeader`, §6.4 step 1 and §8: a new leader
/// does not know the latest commit index until it commits an entry of its
/// term, so reads that arrive before, its own and forwarded ones, wait
/// without a heartbeat; answers to heartbeats change nothing. The
/// acknowledgement that commits `1@1` registers them, in arrival order, and
/// sends one heartbeat round carrying the newer number; one echo of it
/// confirms both.
/// The forwarded read goes back to n2; the leader's own comes out in a Ready.
#[test]
fn a_new_leader_holds_reads_until_its_no_op_commits_then_confirms_them() {
    let mut n1 = leader(3);
    assert_eq!(n1.status().committed, Index(0));
    assert_eq!(read(&mut n1, "a"), Ok(StepOutcome::Handled));
    assert_eq!(
        step(&mut n1, read_forward(2, 1, 1, "b")),
        StepOutcome::Handled
    );
    assert_eq!(sends(&mut n1), Vec::<String>::new(), "held, not registered");
    step(&mut n1, heartbeat_ok(3, 1, 1));
    let rd = run_ready(&mut n1);
    assert!(rd.read_states.is_empty());
    assert_eq!(
        show(&rd.messages),
        ["n1->n3 Append{t1, prev 0@0, entries [1@1], commit 0}"]
    );
    step(&mut n1, append_ok(2, 1, 1, 1));
    let rd = run_ready(&mut n1);
    assert_eq!(keys(&rd.committed_entries), "1@1");
    assert!(rd.read_states.is_empty(), "registered, not yet confirmed");
    assert_eq!(
        show(&rd.messages),
        [
            "n1->n2 Heartbeat{t1, commit 1, read r2}",
            "n1->n3 Heartbeat{t1, commit 0, read r2}"
        ],
        "one round for both, carrying the newer number"
    );
    step(&mut n1, heartbeat_ok_with_read(2, 1, 1, 2));
    let rd = run_ready(&mut n1);
    assert_eq!(rd.read_states, [read_state(1, "a")]);
    assert_eq!(
        show(&rd.messages),
        ["n1->n2 ReadIndexOk{t1, index 1, 1 bytes}"]
    );
}

/// etcd-io/raft#397, `TestReadOnlyDuplicateRequest` in miniature:
/// an answer to a heartbeat the leader sent before a read arrived proves
/// nothing about leadership after it. n2's answer to a plain heartbeat
/// (no number) confirms nothing; its echo of `r1` confirms `r1`. Then a
/// second read with the same context gets `r2`, and n3's late echo of the
/// old `r1` does not confirm it (etcd, matching by context, would have).
/// The next periodic heartbeat carries `r2`, and n3's echo of it does.
#[test]
fn an_answer_to_a_heartbeat_sent_before_a_read_arrived_does_not_confirm_it() {
    let mut n1 = committed_leader(|_| {});
    block_on(n1.heartbeat()).unwrap();
    assert_eq!(
        sends(&mut n1),
        [
            "n1->n2 Heartbeat{t1, commit 1}",
            "n1->n3 Heartbeat{t1, commit 0}"
        ],
        "no read pending: no number"
    );
    read(&mut n1, "a").unwrap();
    assert_eq!(
        sends(&mut n1),
        [
            "n1->n2 Heartbeat{t1, commit 1, read r1}",
            "n1->n3 Heartbeat{t1, commit 0, read r1}"
        ]
    );
    assert_eq!(step(&mut n1, heartbeat_ok(2, 1, 1)), StepOutcome::Handled);
    assert!(run_ready(&mut n1).read_states.is_empty(), "sent before r1");
    step(&mut n1, heartbeat_ok_with_read(2, 1, 1, 1));
    assert_eq!(run_ready(&mut n1).read_states, [read_state(1, "a")]);

    read(&mut n1, "a").unwrap();
    assert_eq!(
        sends(&mut n1),
        [
            "n1->n2 Heartbeat{t1, commit 1, read r2}",
            "n1->n3 Heartbeat{t1, commit 0, read r2}"
        ]
    );
    assert_eq!(
        step(&mut n1, heartbeat_ok_with_read(3, 1, 1, 1)),
        StepOutcome::Handled
    );
    let rd = run_ready(&mut n1);
    assert!(
        rd.read_states.is_empty(),
        "an echo of r1 says nothing of r2"
    );
    assert_eq!(
        show(&rd.messages),
        ["n1->n3 Append{t1, prev 0@0, entries [1@1], commit 1}"]
    );
    block_on(n1.heartbeat()).unwrap();
    assert_eq!(
        sends(&mut n1),
        [
            "n1->n2 Heartbeat{t1, commit 1, read r2}",
            "n1->n3 Heartbeat{t1, commit 0, read r2}"
        ],
        "the periodic heartbeat carries the pending read"
    );
    step(&mut n1, heartbeat_ok_with_read(3, 1, 1, 2));
    assert_eq!(run_ready(&mut n1).read_states, [read_state(1, "a")]);
}

/// ruft: the context is the application's and need not be unique. Two reads
/// with one context are two reads, `r1` and `r2`; an echo of `r2` counts
/// for every read numbered up to it, so one answer confirms both, and both
/// come out, in order.
#[test]
fn two_reads_with_the_same_context_are_both_answered() {
    let mut n1 = committed_leader(|_| {});
    read(&mut n1, "same").unwrap();
    read(&mut n1, "same").unwrap();
    assert_eq!(
        sends(&mut n1),
        [
            "n1->n2 Heartbeat{t1, commit 1, read r1}",
            "n1->n3 Heartbeat{t1, commit 0, read r1}",
            "n1->n2 Heartbeat{t1, commit 1, read r2}",
            "n1->n3 Heartbeat{t1, commit 0, read r2}"
        ]
    );
    step(&mut n1, heartbeat_ok_with_read(2, 1, 1, 2));
    assert_eq!(
        run_ready(&mut n1).read_states,
        [read_state(1, "same"), read_state(1, "same")]
    );
}

/// §6.4 step 1: each read is served at the commit index when it arrived,
/// not when it is confirmed. "a" arrives at commit 1; a write then commits
/// `2@1`; "b" arrives at commit 2. One echo confirms both, released in
/// arrival order, each with its own index.
#[test]
fn reads_are_released_in_order_each_at_the_commit_index_it_arrived_at() {
    let mut n1 = committed_leader(|_| {});
    read(&mut n1, "a").unwrap();
    run_ready(&mut n1);
    assert_eq!(block_on(n1.propose("x".into())), Ok(key("2@1")));
    assert_eq!(
        sends(&mut n1),
        ["n1->n2 Append{t1, prev 1@1, entries [2@1], commit 1}"]
    );
    step(&mut n1, append_ok(2, 1, 1, 2));
    assert_eq!(n1.status().committed, Index(2));
    read(&mut n1, "b").unwrap();
    let rd = run_ready(&mut n1);
    assert_eq!(keys(&rd.committed_entries), "2@1");
    assert!(rd.read_states.is_empty());
    assert_eq!(
        show(&rd.messages),
        [
            "n1->n2 Heartbeat{t1, commit 2, read r2}",
            "n1->n3 Heartbeat{t1, commit 0, read r2}"
        ]
    );
    step(&mut n1, heartbeat_ok_with_read(3, 1, 1, 2));
    assert_eq!(
        run_ready(&mut n1).read_states,
        [read_state(1, "a"), read_state(2, "b")]
    );
}

/// §5.1: an answer from an older term stops at the term gate, whatever it
/// echoes. n1, leader of term 2, numbers its reads from `r1` again; n2's
/// `HeartbeatOk{t1, read r1}`, an echo of a heartbeat of some term-1
/// leader, is a stale drop and confirms nothing. The same echo in term 2
/// does.
#[test]
fn an_echo_from_an_older_term_is_dropped_at_the_term_gate_and_confirms_nothing() {
    let mut n1 = node_on(config(1, 3), hard(1, None, 1), "1@1");
    block_on(n1.campaign()).unwrap();
    step(&mut n1, vote(2, 2, 1, true));
    run_ready(&mut n1);
    step(&mut n1, append_ok(2, 2, 1, 2));
    run_ready(&mut n1);
    assert_eq!(n1.status().committed, Index(2));
    read(&mut n1, "a").unwrap();
    assert_eq!(
        sends(&mut n1),
        [
            "n1->n2 Heartbeat{t2, commit 2, read r1}",
            "n1->n3 Heartbeat{t2, commit 0, read r1}"
        ]
    );
    assert_eq!(
        step(&mut n1, heartbeat_ok_with_read(2, 1, 1, 1)),
        StepOutcome::Dropped(DropReason::StaleTerm {
            term: Term(1),
            current: Term(2)
        })
    );
    assert!(!n1.has_ready(), "nothing confirmed, nothing answered");
    step(&mut n1, heartbeat_ok_with_read(2, 2, 1, 1));
    assert_eq!(run_ready(&mut n1).read_states, [read_state(2, "a")]);
}

// ---------------------------------------------------------------- no leader, old leader

/// §6.4: only a leader can confirm a read, and a node passes a read on only
/// to a leader it knows in its term. A candidate, a pre-candidate, a brand
/// new follower and a follower that moved to a newer term (voting there)
/// refuse with `NotLeader`, naming no leader, and send nothing; a follower
/// that hears its leader passes the read on.
#[test]
fn a_read_on_a_node_that_knows_no_leader_is_refused_with_not_leader() {
    let refused = Err(Error::NotLeader { leader: None });
    let mut n1 = candidate(3);
    assert_eq!(read(&mut n1, "a"), refused);
    assert_eq!(sends(&mut n1), Vec::<String>::new());

    let mut cfg = config(1, 3);
    with_pre_vote(&mut cfg);
    let mut n1 = node_on(cfg, hard(0, None, 0), "");
    block_on(n1.campaign()).unwrap();
    assert_eq!(n1.status().role, Role::PreCandidate);
    run_ready(&mut n1);
    assert_eq!(read(&mut n1, "a"), refused);
    assert_eq!(sends(&mut n1), Vec::<String>::new());

    let mut n2 = fresh(2, 3);
    assert_eq!(read(&mut n2, "a"), refused);
    assert_eq!(sends(&mut n2), Vec::<String>::new());

    step(&mut n2, heartbeat(1, 1, 2, 0));
    run_ready(&mut n2);
    assert_eq!(read(&mut n2, "a"), Ok(StepOutcome::Handled));
    assert_eq!(sends(&mut n2), ["n2->n1 ReadForward{t1, 1 bytes}"]);
    step(&mut n2, request_vote(3, 2, 2, "0@0"));
    assert_eq!(sends(&mut n2), ["n2->n3 Vote{t2, granted}"]);
    assert_eq!(role_term_leader(&n2), (Role::Follower, Term(2), None));
    assert_eq!(read(&mut n2, "a"), refused);
    assert_eq!(sends(&mut n2), Vec::<String>::new());
}

/// ruft: a leader that steps down (here on a vote request of term 2) drops
/// the reads it holds, its own and forwarded ones: it never answers them,
/// and the echoes of its heartbeats that arrive afterwards, of term 1, are
/// stale drops. The clients retry. As a follower of no leader yet, n1
/// refuses new reads.
#[test]
fn a_leader_stepping_down_for_a_newer_term_drops_its_pending_reads() {
    let mut n1 = committed_leader(|_| {});
    read(&mut n1, "a").unwrap();
    step(&mut n1, read_forward(2, 1, 1, "b"));
    assert_eq!(sends(&mut n1).len(), 4, "two heartbeat rounds, r1 and r2");
    step(&mut n1, request_vote(3, 2, 1, "1@1"));
    assert_eq!(role_term_leader(&n1), (Role::Follower, Term(2), None));
    let rd = run_ready(&mut n1);
    assert_eq!(show(&rd.messages), ["n1->n3 Vote{t2, granted}"]);
    assert!(rd.read_states.is_empty());
    for late in [
        heartbeat_ok_with_read(2, 1, 1, 2),
        heartbeat_ok_with_read(3, 1, 1, 2),
    ] {
        assert_eq!(
            step(&mut n1, late),
            StepOutcome::Dropped(DropReason::StaleTerm {
                term: Term(1),
                current: Term(2)
            })
        );
    }
    assert!(!n1.has_ready(), "no read state, no ReadIndexOk to n2");
    assert_eq!(read(&mut n1, "c"), Err(Error::NotLeader { leader: None }));
}

/// ruft: the reads a new leader holds back for its no-op are dropped too
/// when it steps down before the no-op commits. Elected again in term 3, n1
/// commits its new no-op and registers nothing: no numbered heartbeat, no
/// read state, no `ReadIndexOk` for n2.
#[test]
fn reads_held_for_the_no_op_are_dropped_when_the_leader_steps_down() {
    let mut n1 = leader(3);
    read(&mut n1, "a").unwrap();
    step(&mut n1, read_forward(2, 1, 1, "b"));
    assert!(!n1.has_ready(), "held for 1@1");
    step(&mut n1, request_vote(3, 2, 1, "1@1"));
    assert_eq!(role_term_leader(&n1), (Role::Follower, Term(2), None));
    run_ready(&mut n1);
    block_on(n1.campaign()).unwrap();
    run_ready(&mut n1);
    step(&mut n1, vote(2, 3, 1, true));
    run_ready(&mut n1);
    step(&mut n1, append_ok(2, 3, 1, 2));
    let rd = run_ready(&mut n1);
    assert_eq!(n1.status().committed, Index(2));
    assert!(rd.read_states.is_empty());
    assert!(rd.messages.is_empty(), "{:?}", show(&rd.messages));
    block_on(n1.heartbeat()).unwrap();
    assert_eq!(
        sends(&mut n1),
        [
            "n1->n2 Heartbeat{t3, commit 2}",
            "n1->n3 Heartbeat{t3, commit 0}"
        ],
        "no read pending"
    );
}

/// §6.4: a quorum means distinct voters. In {n1..n5} the leader and two
/// followers must answer; n2 echoing `r1` twice (a duplicated message) is
/// still one answer, and only n3's echo makes the quorum.
#[test]
fn a_duplicated_echo_counts_once_towards_the_quorum() {
    let mut n1 = leader(5);
    step(&mut n1, append_ok(2, 1, 1, 1));
    step(&mut n1, append_ok(3, 1, 1, 1));
    run_ready(&mut n1);
    assert_eq!(n1.status().committed, Index(1));
    read(&mut n1, "a").unwrap();
    assert_eq!(sends(&mut n1).len(), 4, "a heartbeat to each follower");
    step(&mut n1, heartbeat_ok_with_read(2, 1, 1, 1));
    step(&mut n1, heartbeat_ok_with_read(2, 1, 1, 1));
    assert!(
        run_ready(&mut n1).read_states.is_empty(),
        "n1 and n2: 2 of 5"
    );
    step(&mut n1, heartbeat_ok_with_read(3, 1, 1, 1));
    assert_eq!(run_ready(&mut n1).read_states, [read_state(1, "a")]);
}

/// ruft, §6.2 and §6.4: with check-quorum a leader that heard from no
/// quorum steps down in its own term, dropping its pending read. An echo
/// of `r1` arriving afterwards is of the current term and passes the term
/// gate, but n1 is no longer leader: it is dropped as not for its role and
/// confirms nothing.
#[test]
fn an_echo_reaching_a_leader_that_stepped_down_in_its_own_term_confirms_nothing() {
    let mut n1 = committed_leader(with_check_quorum);
    read(&mut n1, "a").unwrap();
    run_ready(&mut n1);
    for _ in 0..30 {
        if n1.status().role != Role::Leader {
            break;
        }
        tick(&mut n1);
        run_ready(&mut n1);
    }
    assert_eq!(role_term_leader(&n1), (Role::Follower, Term(1), None));
    assert_eq!(
        step(&mut n1, heartbeat_ok_with_read(2, 1, 1, 1)),
        StepOutcome::Dropped(DropReason::NotForRole {
            role: Role::Follower
        })
    );
    assert!(!n1.has_ready());
}

/// ruft, after etcd's `TestNodeReadIndexToOldLeader`: a forwarded read that
/// reaches a node that is no longer leader is dropped; etcd's old leader
/// passes it on to the new one, ruft leaves the retry to the follower's
/// application. And a leader elected again numbers its reads from `r1`
/// anew, without the reads it dropped.
#[test]
fn a_read_forwarded_to_a_former_leader_is_dropped_and_a_new_term_numbers_reads_afresh() {
    let mut n1 = committed_leader(|_| {});
    read(&mut n1, "old").unwrap();
    run_ready(&mut n1);
    step(&mut n1, append(3, 2, 1, "1@1", "2@2", 1));
    run_ready(&mut n1);
    assert_eq!(role_term_leader(&n1), (Role::Follower, Term(2), Some(n(3))));
    assert_eq!(
        step(&mut n1, read_forward(2, 2, 1, "b")),
        StepOutcome::Dropped(DropReason::NotForRole {
            role: Role::Follower
        })
    );
    assert!(!n1.has_ready(), "not passed on to n3");

    block_on(n1.campaign()).unwrap();
    run_ready(&mut n1);
    step(&mut n1, vote(2, 3, 1, true));
    run_ready(&mut n1);
    step(&mut n1, append_ok(2, 3, 1, 3));
    let rd = run_ready(&mut n1);
    assert!(rd.read_states.is_empty(), "the term-1 read is gone");
    read(&mut n1, "new").unwrap();
    assert_eq!(
        sends(&mut n1),
        [
            "n1->n2 Heartbeat{t3, commit 3, read r1}",
            "n1->n3 Heartbeat{t3, commit 0, read r1}"
        ]
    );
    step(&mut n1, heartbeat_ok_with_read(2, 3, 1, 1));
    assert_eq!(run_ready(&mut n1).read_states, [read_state(3, "new")]);
}

// ---------------------------------------------------------------- forwarding

/// §6.4, the leader's and the follower's side of a forwarded read: the
/// leader registers it like its own but answers n2 with a `ReadIndexOk`
/// instead of a read state; n2 turns that answer into a read state in its
/// next Ready.
#[test]
fn a_forwarded_read_is_answered_to_the_follower_which_hands_it_to_its_application() {
    let mut n1 = committed_leader(|_| {});
    assert_eq!(
        step(&mut n1, read_forward(2, 1, 1, "fwd")),
        StepOutcome::Handled
    );
    assert_eq!(
        sends(&mut n1),
        [
            "n1->n2 Heartbeat{t1, commit 1, read r1}",
            "n1->n3 Heartbeat{t1, commit 0, read r1}"
        ]
    );
    step(&mut n1, heartbeat_ok_with_read(3, 1, 1, 1));
    let rd = run_ready(&mut n1);
    assert!(rd.read_states.is_empty(), "not the leader's read");
    assert_eq!(
        show(&rd.messages),
        [
            "n1->n2 ReadIndexOk{t1, index 1, 3 bytes}",
            "n1->n3 Append{t1, prev 0@0, entries [1@1], commit 1}"
        ]
    );

    let mut n2 = node_on(config(2, 3), hard(1, Some(1), 1), "1@1");
    step(&mut n2, heartbeat_with_read(1, 1, 2, 1, 1));
    assert_eq!(sends(&mut n2), ["n2->n1 HeartbeatOk{t1, read r1}"]);
    assert_eq!(
        step(&mut n2, read_answer(1, 1, 2, 1, "fwd")),
        StepOutcome::Handled
    );
    let rd = run_ready(&mut n2);
    assert_eq!(rd.read_states, [read_state(1, "fwd")]);
    assert!(rd.messages.is_empty());
}

/// §6.4 end to end with the shared driver: n2's read goes to n1, one
/// heartbeat round carrying `r1` is echoed by both followers, and n1
/// answers n2 after the first echo. The read state is n2's, not n1's.
#[test]
fn a_follower_forwards_a_read_to_its_leader_and_receives_the_read_state() {
    let mut cluster = led_by_n1();
    assert_eq!(read_on(&mut cluster, 2, "x"), StepOutcome::Handled);
    assert_eq!(
        settle(&mut cluster),
        [
            "n2->n1 ReadForward{t1, 1 bytes}",
            "n1->n2 Heartbeat{t1, commit 1, read r1}",
            "n1->n3 Heartbeat{t1, commit 1, read r1}",
            "n2->n1 HeartbeatOk{t1, read r1}",
            "n3->n1 HeartbeatOk{t1, read r1}",
            "n1->n2 ReadIndexOk{t1, index 1, 1 bytes}"
        ]
    );
    assert_eq!(cluster.slot(n(2)).read_states, [read_state(1, "x")]);
    assert!(cluster.slot(n(1)).read_states.is_empty());
    assert!(cluster.slot(n(3)).read_states.is_empty());
    assert_safe(&cluster);
}

// ---------------------------------------------------------------- lease

/// After etcd's `TestReadOnlyOptionLease`, §6.4.1, with ruft's lease: a
/// lease is bought by a round of heartbeats a quorum answered, and runs for
/// `election_tick` from when the round was *sent*. The first read (asked
/// before the no-op committed, so held back first) goes out as a round like
/// a ReadIndex read; its confirmation starts the lease, and within it reads
/// are served at once: the leader's own in the next Ready, a forwarded one
/// with an immediate `ReadIndexOk`, no heartbeat round either way.
#[test]
fn a_lease_leader_buys_its_lease_with_one_round_then_serves_reads_at_once() {
    let mut cfg = config(1, 3);
    with_lease(&mut cfg);
    let mut n1 = node_on(cfg, hard(0, None, 0), "");
    past_startup(&mut n1);
    block_on(n1.campaign()).unwrap();
    step(&mut n1, vote(2, 1, 1, true));
    run_ready(&mut n1);
    read(&mut n1, "early").unwrap();
    assert!(!n1.has_ready(), "held until 1@1 commits");
    step(&mut n1, append_ok(2, 1, 1, 1));
    let rd = run_ready(&mut n1);
    assert_eq!(keys(&rd.committed_entries), "1@1");
    assert!(rd.read_states.is_empty(), "no lease yet: a round goes out");
    assert_eq!(
        show(&rd.messages),
        [
            "n1->n2 Heartbeat{t1, commit 1, read r1}",
            "n1->n3 Heartbeat{t1, commit 0, read r1}"
        ]
    );
    step(&mut n1, heartbeat_ok_with_read(2, 1, 1, 1));
    let rd = run_ready(&mut n1);
    assert_eq!(rd.read_states, [read_state(1, "early")]);

    read(&mut n1, "a").unwrap();
    let rd = run_ready(&mut n1);
    assert_eq!(rd.read_states, [read_state(1, "a")]);
    assert!(rd.messages.is_empty(), "within the lease: no round");
    step(&mut n1, read_forward(3, 1, 1, "b"));
    let rd = run_ready(&mut n1);
    assert!(rd.read_states.is_empty());
    assert_eq!(
        show(&rd.messages),
        ["n1->n3 ReadIndexOk{t1, index 1, 1 bytes}"]
    );
}

/// The leader with a lease bought by a round answered at once (n2 echoed
/// `r1` with no tick in between): `election_tick` is 10 in these tests.
fn lease_leader() -> Node<MemStorage> {
    let mut n1 = committed_leader(with_lease);
    read(&mut n1, "first").unwrap();
    run_ready(&mut n1);
    step(&mut n1, heartbeat_ok_with_read(2, 1, 1, 1));
    assert_eq!(run_ready(&mut n1).read_states, [read_state(1, "first")]);
    n1
}

/// `k` ticks pass on `node`, whose Readys (heartbeats) are carried out.
fn pass(node: &mut Node<MemStorage>, k: usize) {
    for _ in 0..k {
        tick(node);
    }
    run_ready(node);
}

/// Whether a read asked now is served at once (in the next Ready).
fn served_at_once(node: &mut Node<MemStorage>, ctx: &'static str) -> bool {
    read(node, ctx).unwrap();
    run_ready(node).read_states == [read_state(1, ctx)]
}

/// §6.4.1: a voter that answered the round heard from the leader no earlier
/// than the round was sent, and ignores vote requests for `election_tick`
/// after that; so the leader may count on `election_tick` ticks from the
/// sending, never from the answer. After ten ticks the lease is out, and the
/// next read buys a new one with a round, as the first did.
#[test]
fn a_lease_runs_out_election_tick_ticks_after_its_round_was_sent() {
    let mut n1 = lease_leader();
    pass(&mut n1, 9);
    assert!(served_at_once(&mut n1, "ninth"));
    pass(&mut n1, 1);
    read(&mut n1, "tenth").unwrap();
    let rd = run_ready(&mut n1);
    assert!(rd.read_states.is_empty(), "the lease is out");
    assert!(
        show(&rd.messages).contains(&"n1->n2 Heartbeat{t1, commit 1, read r2}".to_string()),
        "a new round: {:?}",
        show(&rd.messages)
    );
    step(&mut n1, heartbeat_ok_with_read(3, 1, 1, 2));
    assert_eq!(run_ready(&mut n1).read_states, [read_state(1, "tenth")]);
    assert!(served_at_once(&mut n1, "renewed"));
}

/// The lease counts from the sending: a round answered late buys only what
/// is left. Here n2 answers `r2` six ticks after it went out, so the lease
/// it buys has four ticks to run, not ten.
#[test]
fn an_answer_that_arrives_late_buys_only_what_is_left_of_the_lease() {
    let mut n1 = lease_leader();
    pass(&mut n1, 10);
    read(&mut n1, "late").unwrap();
    run_ready(&mut n1);
    pass(&mut n1, 6);
    step(&mut n1, heartbeat_ok_with_read(2, 1, 1, 2));
    assert_eq!(run_ready(&mut n1).read_states, [read_state(1, "late")]);
    pass(&mut n1, 3);
    assert!(served_at_once(&mut n1, "in time"));
    pass(&mut n1, 1);
    assert!(!served_at_once(&mut n1, "too late"), "four ticks were left");
}

/// tikv/tikv#1593 and tikv/raft-rs#234: a campaign started by TimeoutNow is
/// granted votes whatever leases the voters hold, and a TimeoutNow may
/// arrive long after the transfer was given up. So once a leader sends one,
/// its lease is gone for the rest of its term: reads go by rounds again,
/// and their answers buy no lease.
#[test]
fn a_leader_that_sent_timeout_now_serves_no_read_from_its_lease_in_that_term() {
    let mut n1 = lease_leader();
    step(&mut n1, append_ok(2, 1, 1, 1));
    run_ready(&mut n1);
    block_on(n1.transfer_leader(n(2))).unwrap();
    let rd = run_ready(&mut n1);
    assert_eq!(show(&rd.messages), ["n1->n2 TimeoutNow{t1}"]);
    read(&mut n1, "after").unwrap();
    let rd = run_ready(&mut n1);
    assert!(rd.read_states.is_empty(), "no lease: a round");
    step(&mut n1, heartbeat_ok_with_read(3, 1, 1, 2));
    assert_eq!(run_ready(&mut n1).read_states, [read_state(1, "after")]);
    read(&mut n1, "again").unwrap();
    assert!(
        run_ready(&mut n1).read_states.is_empty(),
        "the answer bought no lease"
    );
}

/// n3 of {n1, n2, n3}, configured by `configure`, just restarted in term 1
/// holding `1@1`, asked by n2 for its vote in term 2.
fn restarted_n3_asked(configure: fn(&mut Config)) -> (Node<MemStorage>, StepOutcome) {
    let mut cfg = config(3, 3);
    configure(&mut cfg);
    let mut n3 = node_on(cfg, hard(1, None, 1), "1@1");
    let outcome = step(&mut n3, request_vote(2, 2, 3, "1@1"));
    (n3, outcome)
}

/// tikv/tikv#15035: a voter that answered a leader's round and then
/// restarted has forgotten that it promised not to vote for `election_tick`.
/// With lease reads a node therefore ignores vote requests for its first
/// `election_tick` ticks (`DropReason::StartupLease`), then votes as usual.
#[test]
fn a_node_with_lease_reads_votes_for_no_one_in_its_first_election_period() {
    let (mut n3, outcome) = restarted_n3_asked(with_lease);
    assert_eq!(outcome, StepOutcome::Dropped(DropReason::StartupLease));
    for _ in 0..10 {
        tick(&mut n3);
    }
    let again = step(&mut n3, request_vote(2, 2, 3, "1@1"));
    assert_eq!(again, StepOutcome::Handled);
    let sent = show(&run_ready(&mut n3).messages);
    assert_eq!(sent, ["n3->n2 Vote{t2, granted}"]);
}

/// The same promise binds a campaign the application forces
/// (`Node::campaign`): n2 answered n1's heartbeat, so n1 may serve reads
/// from a lease that counts on n2 for `election_tick` ticks. Were n2 to vote
/// for itself now, it and n3 (cut off from n1) would elect a second leader
/// while n1 still serves reads. So the forced campaign is dropped while the
/// lease n2 granted may run, as it is in n2's first election period; once
/// `election_tick` ticks passed without a word from n1, it goes.
#[test]
fn a_node_with_lease_reads_forced_to_campaign_waits_until_the_lease_it_granted_ran_out() {
    let mut cfg = config(2, 3);
    with_lease(&mut cfg);
    let mut n2 = node_on(cfg, hard(1, None, 0), "");
    let early = block_on(n2.campaign()).unwrap();
    assert_eq!(early, StepOutcome::Dropped(DropReason::StartupLease));
    past_startup(&mut n2);
    step(&mut n2, heartbeat(1, 1, 2, 0));
    run_ready(&mut n2);
    let granted = block_on(n2.campaign()).unwrap();
    assert_eq!(
        granted,
        StepOutcome::Dropped(DropReason::LeaderLease { leader: n(1) })
    );
    assert_eq!(role_term_leader(&n2), (Role::Follower, Term(1), Some(n(1))));
    pass(&mut n2, 10);
    assert_eq!(block_on(n2.campaign()).unwrap(), StepOutcome::Handled);
    assert_eq!(role_term_leader(&n2), (Role::Candidate, Term(2), None));
}

/// Without lease reads a forced campaign goes at once, check-quorum or not:
/// no lease counts on the node's vote.
#[test]
fn without_lease_reads_a_forced_campaign_goes_while_the_leader_is_heard() {
    let mut cfg = config(2, 3);
    with_check_quorum(&mut cfg);
    let mut n2 = node_on(cfg, hard(1, None, 0), "");
    step(&mut n2, heartbeat(1, 1, 2, 0));
    assert_eq!(block_on(n2.campaign()).unwrap(), StepOutcome::Handled);
    assert_eq!(role_term_leader(&n2), (Role::Candidate, Term(2), None));
}

/// A node without lease reads keeps no such quiet period, check-quorum or not.
#[test]
fn without_lease_reads_a_restarted_node_votes_at_once() {
    let (_, outcome) = restarted_n3_asked(with_check_quorum);
    assert_eq!(outcome, StepOutcome::Handled);
}

/// Lease reads are answered at once, so without a bound they would pile up
/// between two Readys: confirmed reads not yet handed out count against
/// `reads_max`, and the next Ready makes room again.
#[test]
fn lease_reads_not_yet_handed_out_count_against_reads_max() {
    let mut n1 = lease_leader();
    // reads_max is 1024 in `config`: fill it between two Readys.
    for _ in 0..1024 {
        read(&mut n1, "a").unwrap();
    }
    assert!(matches!(
        read(&mut n1, "c"),
        Err(Error::ReadsFull { max: 1024, .. })
    ));
    assert_eq!(run_ready(&mut n1).read_states.len(), 1024);
    read(&mut n1, "c").unwrap();
}

/// etcd's configuration rule: a lease means something only if a leader that
/// lost its quorum steps down, so lease reads without check-quorum are a
/// configuration error, refused when the node is built.
#[test]
fn lease_reads_without_check_quorum_are_an_invalid_configuration() {
    let mut cfg = config(1, 3);
    cfg.read_mode = ReadMode::Lease;
    assert_eq!(
        block_on(Node::new(cfg.clone(), MemStorage::default())).map(|_| ()),
        Err(Error::InvalidConfig {
            problem: "lease reads need check_quorum"
        })
    );
    cfg.check_quorum = true;
    assert!(block_on(Node::new(cfg, MemStorage::default())).is_ok());
}

// ---------------------------------------------------------------- bounds

/// ruft, and etcd's `TestRaftFreesReadOnlyMem`: a leader holds at most
/// `reads_max` reads. Beyond it, its own read is refused with `ReadsFull`
/// and a forwarded one is dropped (traced), both holding nothing; once a
/// quorum confirms the held reads they are freed and reads are taken again.
#[test]
fn a_leader_holding_reads_max_reads_refuses_its_own_and_drops_forwarded_ones() {
    let mut n1 = committed_leader(|cfg| cfg.reads_max = 2);
    read(&mut n1, "a").unwrap();
    step(&mut n1, read_forward(2, 1, 1, "b"));
    run_ready(&mut n1);
    let full = Err(Error::ReadsFull {
        max: 2,
        bytes_max: 1 << 20,
    });
    assert_eq!(read(&mut n1, "c"), full);
    assert_eq!(
        step(&mut n1, read_forward(3, 1, 1, "d")),
        StepOutcome::Dropped(DropReason::ReadsFull)
    );
    assert!(!n1.has_ready(), "nothing registered, nothing sent");
    step(&mut n1, heartbeat_ok_with_read(3, 1, 1, 2));
    let rd = run_ready(&mut n1);
    assert_eq!(rd.read_states, [read_state(1, "a")]);
    assert_eq!(
        show(&rd.messages),
        [
            "n1->n2 ReadIndexOk{t1, index 1, 1 bytes}",
            "n1->n3 Append{t1, prev 0@0, entries [1@1], commit 1}"
        ]
    );
    assert_eq!(read(&mut n1, "c"), Ok(StepOutcome::Handled), "freed");
}

/// ruft: a leader holds at most `read_bytes_max` bytes of contexts, but with
/// none held it takes one read of any size, so a large context never blocks
/// reads for good. A second read then does not fit, own or forwarded.
#[test]
fn read_bytes_max_bounds_held_contexts_but_one_read_of_any_size_goes() {
    let mut n1 = committed_leader(|cfg| cfg.read_bytes_max = 4);
    let full = Err(Error::ReadsFull {
        max: 1024,
        bytes_max: 4,
    });
    assert_eq!(read(&mut n1, "abc"), Ok(StepOutcome::Handled));
    assert_eq!(read(&mut n1, "de"), full, "3 + 2 bytes > 4");
    assert_eq!(read(&mut n1, "d"), Ok(StepOutcome::Handled), "3 + 1 fits");
    step(&mut n1, heartbeat_ok_with_read(2, 1, 1, 2));
    run_ready(&mut n1);

    assert_eq!(
        read(&mut n1, "a context of many bytes"),
        Ok(StepOutcome::Handled),
        "none held: one read of any size goes"
    );
    assert_eq!(read(&mut n1, "x"), full);
    assert_eq!(
        step(&mut n1, read_forward(2, 1, 1, "y")),
        StepOutcome::Dropped(DropReason::ReadsFull)
    );
    step(&mut n1, heartbeat_ok_with_read(2, 1, 1, 3));
    assert_eq!(
        run_ready(&mut n1).read_states,
        [read_state(1, "a context of many bytes")]
    );
    let mut n1 = committed_leader(|cfg| cfg.read_bytes_max = 4);
    assert_eq!(
        step(&mut n1, read_forward(2, 1, 1, "a forwarded large one")),
        StepOutcome::Handled,
        "the same for a forwarded read"
    );
}

/// ruft: a follower keeps at most `reads_max` read states between two
/// Readys; an answer beyond that is dropped (traced) and its client retries.
#[test]
fn a_follower_keeps_at_most_reads_max_read_states_between_two_readys() {
    let mut cfg = config(2, 3);
    cfg.reads_max = 1;
    let mut n2 = node_on(cfg, hard(1, Some(1), 1), "1@1");
    assert_eq!(
        step(&mut n2, read_answer(1, 1, 2, 1, "a")),
        StepOutcome::Handled
    );
    assert_eq!(
        step(&mut n2, read_answer(1, 1, 2, 1, "b")),
        StepOutcome::Dropped(DropReason::ReadsFull)
    );
    assert_eq!(run_ready(&mut n2).read_states, [read_state(1, "a")]);
    assert_eq!(
        step(&mut n2, read_answer(1, 1, 2, 1, "b")),
        StepOutcome::Handled
    );
    assert_eq!(run_ready(&mut n2).read_states, [read_state(1, "b")]);
}

// ---------------------------------------------------------------- the application's side

/// §6.4 step 4: a read state says "serve once applied up to here", and a
/// follower may get it before it has even heard of that index. n1 commits
/// `2@1` with n3's help while its append to n2 is still on the way; n2's
/// read is answered at 2 while n2 has applied 1 and holds nothing beyond.
/// The application must wait: n2 learns `2@1` from the append in flight,
/// and its commit from the empty append n1 sent when n2's heartbeat answer
/// showed it lagging; only then has it applied 2.
#[test]
fn a_follower_may_get_a_read_state_before_it_has_applied_its_index() {
    let mut cluster = led_by_n1();
    assert_eq!(cluster.propose(n(1), "x".into()), Ok(key("2@1")));
    deliver_first(&mut cluster, "n1->n3 Append");
    deliver_first(&mut cluster, "n3->n1 AppendOk");
    assert_eq!(commits(&cluster), [2, 1, 1]);
    read_on(&mut cluster, 2, "r");
    assert_eq!(
        deliver_first(&mut cluster, "n2->n1 ReadForward"),
        "n2->n1 ReadForward{t1, 1 bytes}"
    );
    assert_eq!(
        deliver_first(&mut cluster, "n1->n2 Heartbeat"),
        "n1->n2 Heartbeat{t1, commit 1, read r1}"
    );
    deliver_first(&mut cluster, "n2->n1 HeartbeatOk");
    assert_eq!(
        deliver_first(&mut cluster, "n1->n2 ReadIndexOk"),
        "n1->n2 ReadIndexOk{t1, index 2, 1 bytes}"
    );
    assert_eq!(cluster.slot(n(2)).read_states, [read_state(2, "r")]);
    let s = cluster.node(n(2)).status();
    assert_eq!((s.applied, s.last), (Index(1), key("1@1")));
    assert!(
        cluster.slot(n(2)).read_states[0].index > s.applied,
        "not servable yet"
    );

    assert_eq!(
        show(cluster.network()),
        [
            "n1->n2 Append{t1, prev 1@1, entries [2@1], commit 1}",
            "n1->n3 Heartbeat{t1, commit 2, read r1}",
            "n1->n2 Append{t1, prev 2@1, entries [], commit 2}"
        ]
    );
    deliver_first(&mut cluster, "n1->n2 Append");
    assert_eq!(log_of(cluster.node(n(2))), "1@1 2@1");
    assert_eq!(
        applied(&cluster, 2),
        Index(1),
        "2@1 held, its commit unknown"
    );
    deliver_first(&mut cluster, "n1->n2 Append");
    assert_eq!(applied(&cluster, 2), Index(2), "now the read may be served");
    settle(&mut cluster);
    assert_safe(&cluster);
}

/// §6.4, linearizability end to end: a write acknowledged to its client
/// (committed at `2@1`) before a read starts on another node is seen by the
/// read. n3's read is answered at index 2, the write's; the heartbeat round
/// that confirmed it also told n3 the commit index, so n3 has applied 2 and
/// its state machine holds the write when it serves the read.
#[test]
fn a_read_that_starts_after_a_write_is_acknowledged_sees_the_write() {
    let mut cluster = Cluster::new(3, |_| {});
    cluster.keep_machines();
    elect(&mut cluster, 1);
    let write = cluster.propose(n(1), "x=1".into()).unwrap();
    assert_eq!(write, key("2@1"));
    settle(&mut cluster);
    assert_eq!(commits(&cluster), [2, 1, 1], "acknowledged by the leader");
    read_on(&mut cluster, 3, "get x");
    assert_eq!(
        settle(&mut cluster),
        [
            "n3->n1 ReadForward{t1, 5 bytes}",
            "n1->n2 Heartbeat{t1, commit 2, read r1}",
            "n1->n3 Heartbeat{t1, commit 2, read r1}",
            "n2->n1 HeartbeatOk{t1, read r1}",
            "n3->n1 HeartbeatOk{t1, read r1}",
            "n1->n3 ReadIndexOk{t1, index 2, 5 bytes}"
        ]
    );
    let answer = &cluster.slot(n(3)).read_states;
    assert_eq!(answer, &[read_state(2, "get x")]);
    assert!(answer[0].index >= write.index, "the read covers the write");
    assert!(applied(&cluster, 3) >= answer[0].index, "servable now");
    let machine = cluster.slot(n(3)).machine.as_ref().unwrap();
    let applied_write = &machine.entries()[1];
    assert_eq!(applied_write.key, write);
    assert_eq!(applied_write.variant, EntryVariant::Normal("x=1".into()));
    assert_safe(&cluster);
}
