//! The engine's tracing events are part of what it promises
//! (`src/utils/trace.rs` lists them): a role change, a term change, a vote,
//! a commit, a transfer, a membership change, a restored snapshot and a
//! drop or refusal are each traced once, when they happen, and only then.
//! These transcripts capture the events of a few steps, and of a small
//! cluster's election, commit, transfer and membership change.

mod node_common;

use futures::executor::block_on;
use node_common::{fresh, from, heartbeat, leader, sent, traced};
use ruft::{
    ConfChange, Entry, EntryKey, Index, MemStorage, MemberChange, MessageVariant, Node, NodeId,
    Role, Term,
};

#[test]
fn each_role_change_is_traced_once_and_a_new_term_alone_is_not_one() {
    let mut node = fresh();
    let roles = traced("ruft::role", || {
        block_on(node.campaign()).unwrap();
        // The candidate hears the leader of its term: it follows.
        block_on(node.step(heartbeat(2, 1, 0))).unwrap();
        // A follower that hears a newer leader stays a follower.
        block_on(node.step(heartbeat(2, 2, 0))).unwrap();
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
    let mut node = fresh();
    let terms = traced("ruft::term", || {
        block_on(node.step(heartbeat(2, 3, 0))).unwrap();
        block_on(node.step(heartbeat(2, 3, 0))).unwrap();
    });
    assert_eq!(terms, ["term change node=n1 from=0 to=3"]);
    assert_eq!(node.term(), Term(3));
}

#[test]
fn a_dropped_message_is_traced_with_its_reason() {
    let mut node = fresh();
    block_on(node.step(heartbeat(2, 3, 0))).unwrap();
    let stale = MessageVariant::RequestVote {
        last: EntryKey::default(),
        transfer: false,
    };
    let drops = traced("ruft::drop", || {
        block_on(node.step(from(2, 2, stale))).unwrap();
    });
    assert_eq!(
        drops,
        ["drop node=n1 msg=n2->n1 RequestVote{t2, last 0@0} \
          reason=StaleTerm { term: Term(2), current: Term(3) }"]
    );
}

/// A cluster's life in one transcript: every kind of event below is traced
/// where it happens, naming the node and what changed.
#[test]
fn votes_commits_transfers_and_membership_changes_are_traced() {
    use ruft_models::driver::Cluster;
    let mut cluster = Cluster::with_voters(4, 3, |_| {});
    let (n1, n2, n4) = (NodeId(1), NodeId(2), NodeId(4));
    let lines = traced("ruft:", || {
        cluster.campaign(n1).unwrap();
        cluster.deliver_all(1_000).unwrap();
        cluster.propose(n1, "x".into()).unwrap();
        cluster.deliver_all(1_000).unwrap();
        cluster.transfer_leader(n1, n2).unwrap();
        cluster.deliver_all(1_000).unwrap();
        let add = ConfChange::Simple(MemberChange::AddVoter(n4));
        cluster.propose_conf_change(n2, add).unwrap();
        cluster.deliver_all(1_000).unwrap();
        cluster.heartbeat(n2).unwrap();
        cluster.deliver_all(1_000).unwrap();
    });
    let want = [
        "term: term change node=n1 from=0 to=1",
        "role: role change node=n1 term=1 from=Follower to=Candidate",
        "term: term change node=n2 from=0 to=1",
        "vote: vote node=n2 term=1 candidate=n1 granted=true transfer=false",
        "term: term change node=n3 from=0 to=1",
        "vote: vote node=n3 term=1 candidate=n1 granted=true transfer=false",
        "role: role change node=n1 term=1 from=Candidate to=Leader",
        "drop: drop node=n1 msg=n3->n1 Vote{t1, granted} reason=NotForRole { role: Leader }",
        "commit: commit node=n1 term=1 from=0 to=1",
        "commit: commit node=n2 term=1 from=0 to=1",
        "commit: commit node=n3 term=1 from=0 to=1",
        "commit: commit node=n1 term=1 from=1 to=2",
        "transfer: transfer node=n1 target=n2 what=\"started\"",
        "transfer: transfer node=n1 target=n2 what=\"target caught up\"",
        "transfer: transfer node=n2 target=n1 what=\"asked to campaign by\"",
        "term: term change node=n2 from=1 to=2",
        "role: role change node=n2 term=2 from=Follower to=Candidate",
        "term: term change node=n1 from=1 to=2",
        "role: role change node=n1 term=2 from=Leader to=Follower",
        "vote: vote node=n1 term=2 candidate=n2 granted=true transfer=true",
        "term: term change node=n3 from=1 to=2",
        "vote: vote node=n3 term=2 candidate=n2 granted=true transfer=true",
        "role: role change node=n2 term=2 from=Candidate to=Leader",
        "drop: drop node=n2 msg=n3->n2 Vote{t2, granted} reason=NotForRole { role: Leader }",
        "commit: commit node=n2 term=2 from=1 to=3",
        "commit: commit node=n1 term=2 from=2 to=3",
        "commit: commit node=n3 term=2 from=1 to=3",
        "commit: commit node=n2 term=2 from=3 to=4",
        "membership: membership change node=n2 index=4 change=+v4 next=Membership { incoming: {NodeId(1), NodeId(2), NodeId(3), NodeId(4)}, outgoing: None, learners: {}, auto_leave: false }",
        "term: term change node=n4 from=0 to=2",
        "commit: commit node=n4 term=2 from=0 to=4",
        "membership: membership change node=n4 index=4 change=+v4 next=Membership { incoming: {NodeId(1), NodeId(2), NodeId(3), NodeId(4)}, outgoing: None, learners: {}, auto_leave: false }",
        "commit: commit node=n1 term=2 from=3 to=4",
        "membership: membership change node=n1 index=4 change=+v4 next=Membership { incoming: {NodeId(1), NodeId(2), NodeId(3), NodeId(4)}, outgoing: None, learners: {}, auto_leave: false }",
        "commit: commit node=n3 term=2 from=3 to=4",
        "membership: membership change node=n3 index=4 change=+v4 next=Membership { incoming: {NodeId(1), NodeId(2), NodeId(3), NodeId(4)}, outgoing: None, learners: {}, auto_leave: false }",
    ];
    assert_eq!(lines, want);
}

#[test]
fn a_restored_snapshot_and_a_refused_message_are_traced() {
    let mut node = fresh();
    let members = [NodeId(1), NodeId(2), NodeId(3)];
    let last = EntryKey::new(Term(1), Index(5));
    let snapshot = Box::new(ruft::Snapshot::new(last, members, "state"));
    let install = from(2, 1, MessageVariant::InstallSnapshot { snapshot });
    let mut misaddressed = heartbeat(2, 1, 0);
    misaddressed.dst = NodeId(3);
    let lines = traced("ruft:", || {
        block_on(node.step(install)).unwrap();
        assert!(block_on(node.step(misaddressed)).is_err());
    });
    assert_eq!(
        lines,
        [
            "term: term change node=n1 from=0 to=1",
            "snapshot: restored snapshot node=n1 term=1 key=5@1",
            "drop: refused node=n1 msg=n2->n3 Heartbeat{t1, commit 0} \
             error=message for n3 delivered to n1",
        ]
    );
}

#[test]
fn a_full_outbox_dropped_reads_and_a_skipped_change_are_traced() {
    // Two vote requests, and an outbox that holds one.
    let mut config = node_common::config();
    config.outbox_max = 1;
    let mut candidate = block_on(Node::new(config, MemStorage::default())).unwrap();
    let full = traced("ruft::drop", || {
        block_on(candidate.campaign()).unwrap();
    });
    // A leader holding a read steps down.
    let mut leader = leader();
    block_on(leader.read_index("r".into())).unwrap();
    let reads = traced("ruft::read", || {
        block_on(leader.step(heartbeat(2, 2, 0))).unwrap();
    });
    // A committed change that does not apply (only a faulty leader appends
    // one): every node skips it.
    let mut follower = fresh();
    let remove_n9 = ConfChange::Simple(MemberChange::Remove(NodeId(9)));
    let entries = vec![Entry::conf_change(
        EntryKey::new(Term(1), Index(1)),
        remove_n9,
    )];
    let prev = EntryKey::default();
    let append = MessageVariant::AppendEntries {
        prev,
        entries,
        commit: Index(1),
    };
    let skipped = traced("ruft::drop", || {
        block_on(follower.step(from(2, 1, append))).unwrap();
        // Its Readys persist the entry, hand it out committed, and apply it.
        sent(&mut follower);
        sent(&mut follower);
    });
    assert_eq!(
        full,
        ["outbox full, message dropped node=n1 msg=n1->n3 RequestVote{t1, last 0@0} outbox_max=1"]
    );
    assert_eq!(reads, ["pending reads dropped node=n1 term=2 count=1"]);
    assert_eq!(
        skipped,
        ["configuration entry skipped node=n1 index=1 change=-n9 error=n9 is not a member"]
    );
}
