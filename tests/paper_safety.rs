//! Raft paper §5.4 (safety) and the failure scenarios of §5.2-5.5 as
//! black-box scenarios: figure 8, overwritten minority logs, dueling and
//! isolated candidates, messages from a deposed leader, restarts.
//!
//! Multi-node scenarios run on the shared driver and end with the shared
//! safety properties (`assert_safe`), checked over the whole history.

mod paper_common;

use futures::executor::block_on;
use paper_common::*;
use ruft::{DropReason, MessageVariant, Node, NodeId, Rejection, Role, StepOutcome, Term};
use ruft_models::driver::Cluster;

// ---------------------------------------------------------------- figure 8

/// §5.4.2, figure 8, one node's view: a leader never commits an entry of an
/// older term by counting replicas; only an entry of its current term is
/// committed that way, and it commits the older ones before it. n1 leads
/// term 3 of five voters with `1@1 2@2` from earlier terms and its no-op
/// `3@3`; n2 and n3 acknowledge up to the given index.
#[test]
fn the_leader_never_commits_an_old_term_entry_by_counting_replicas() {
    for (acked, committed, applied) in [(1, 1, ""), (2, 1, ""), (3, 3, "2@2 3@3")] {
        let mut n1 = node_on(config(1, 5), hard(2, None, 1), "1@1 2@2");
        block_on(n1.campaign()).unwrap();
        step(&mut n1, vote(2, 3, 1, true));
        step(&mut n1, vote(3, 3, 1, true));
        assert_eq!(n1.status().role, Role::Leader);
        assert_eq!(keys(&run_ready(&mut n1).committed_entries), "1@1");
        step(&mut n1, append_ok(2, 3, 1, acked));
        step(&mut n1, append_ok(3, 3, 1, acked));
        assert_eq!(n1.status().committed.0, committed, "acked up to {acked}");
        let rd = run_ready(&mut n1);
        assert_eq!(keys(&rd.committed_entries), applied, "acked up to {acked}");
    }
}

/// Delivers oldest first, but leaves in flight every append from n1 that
/// carries its term-3 no-op to a node that already holds the entry before it
/// (so would accept it). Appends the receiver would refuse get through, so
/// n1 can still find where each follower's log ends.
fn settle_holding_back_3_at_3(cluster: &mut Cluster) -> Vec<String> {
    let held = |cluster: &Cluster, m: &ruft::Message| match &m.variant {
        MessageVariant::AppendEntries { prev, entries, .. } => {
            let node = cluster.node(m.dst);
            let holds_prev = prev.index.0 == 0 || node.log().iter().any(|e| e.key == *prev);
            entries.iter().any(|e| e.key.to_string() == "3@3") && holds_prev
        }
        _ => false,
    };
    let mut transcript = Vec::new();
    for _ in 0..SETTLE_MAX {
        let Some(i) = cluster.network().iter().position(|m| !held(cluster, m)) else {
            break;
        };
        let msg = cluster.network()[i].clone();
        if cluster.slot(msg.dst).up {
            transcript.push(msg.to_string());
        }
        cluster.deliver(i).unwrap().unwrap();
    }
    transcript
}

/// The paper's figure 8, (a) to (c), on five nodes (terms shifted by one,
/// since ruft's leaders begin each term with a no-op):
/// (a) n1 leads term 1 and gets `2@1` to n2 only;
/// (b) n1 crashes; n5 wins term 2 with n3 and n4, writes `2@2` and crashes;
/// (c) n1 restarts and wins term 3; it brings `2@1` to n3 and n4, so a
///     majority holds it, while its own `3@3` is still on the way.
fn figure_8_up_to_c() -> Cluster {
    let mut cluster = Cluster::new(5, |cfg| cfg.append_entries_max = 1);
    elect(&mut cluster, 1);
    beat(&mut cluster, 1);
    for far in [3, 4, 5] {
        cluster.cut(n(1), n(far));
    }
    cluster.propose(n(1), "a".into()).unwrap();
    settle(&mut cluster);
    assert_eq!(logs(&cluster), ["1@1 2@1", "1@1 2@1", "1@1", "1@1", "1@1"]);
    assert_eq!(
        cluster.node(n(1)).status().committed.0,
        1,
        "(a) 2@1 on a minority"
    );

    cluster.crash(n(1));
    cluster.recover();
    cluster.drop_kind("AppendEntries");
    let votes = elect(&mut cluster, 5);
    assert!(
        votes.contains(&"n2->n5 Vote{t2, rejected}".to_string()),
        "n2's 2@1 is newer"
    );
    assert_eq!(cluster.node(n(5)).status().role, Role::Leader);
    cluster.crash(n(5));
    cluster.recover();
    assert_eq!(log_of(cluster.node(n(5))), "1@1 2@2", "(b)");

    cluster.restart(n(1)).unwrap();
    elect(&mut cluster, 1);
    assert_eq!(
        cluster.node(n(1)).status().role,
        Role::Candidate,
        "n3, n4 voted n5 in t2"
    );
    cluster.campaign(n(1)).unwrap();
    assert_eq!(
        settle_holding_back_3_at_3(&mut cluster),
        [
            "n1->n2 RequestVote{t3, last 2@1}",
            "n1->n3 RequestVote{t3, last 2@1}",
            "n1->n4 RequestVote{t3, last 2@1}",
            "n2->n1 Vote{t3, granted}",
            "n3->n1 Vote{t3, granted}",
            "n4->n1 Vote{t3, granted}",
            "n1->n3 Append{t3, prev 2@1, entries [3@3], commit 1}",
            "n1->n4 Append{t3, prev 2@1, entries [3@3], commit 1}",
            "n3->n1 AppendReject{t3, at 2, hint 1@1}",
            "n4->n1 AppendReject{t3, at 2, hint 1@1}",
            "n1->n3 Append{t3, prev 1@1, entries [2@1], commit 1}",
            "n1->n4 Append{t3, prev 1@1, entries [2@1], commit 1}",
            "n3->n1 AppendOk{t3, match 2}",
            "n4->n1 AppendOk{t3, match 2}",
        ]
    );
    assert_eq!(
        show(cluster.network()),
        [
            "n1->n2 Append{t3, prev 2@1, entries [3@3], commit 1}",
            "n1->n3 Append{t3, prev 2@1, entries [3@3], commit 1}",
            "n1->n4 Append{t3, prev 2@1, entries [3@3], commit 1}",
        ],
        "3@3 is on the way"
    );
    let s = cluster.node(n(1)).status();
    assert_eq!((s.role, s.term), (Role::Leader, Term(3)));
    let want = ["1@1 2@1 3@3", "1@1 2@1", "1@1 2@1", "1@1 2@1", "1@1 2@2"];
    assert_eq!(logs(&cluster), want, "(c)");
    assert_eq!(
        s.committed.0, 1,
        "(c) 2@1 is on a majority, yet not committed"
    );
    assert_safe(&cluster);
    cluster
}

/// §5.4.2, figure 8 end to end on five nodes: an entry of an older term
/// stored on a majority is not committed by the new leader; it is committed
/// only when the leader's own entry of the new term reaches a majority, and
/// then together with it.
#[test]
fn figure_8_an_old_term_entry_on_a_majority_commits_only_with_a_new_term_entry() {
    let mut cluster = figure_8_up_to_c();
    settle(&mut cluster);
    assert_eq!(
        cluster.node(n(1)).status().committed.0,
        3,
        "3@3 commits 2@1"
    );
    beat(&mut cluster, 1);
    assert_eq!(commits(&cluster), [3, 3, 3, 3, 1]);
    cluster.restart(n(5)).unwrap();
    beat(&mut cluster, 1);
    beat(&mut cluster, 1);
    assert_eq!(
        logs(&cluster),
        vec!["1@1 2@1 3@3"; 5],
        "n5's 2@2 is replaced"
    );
    assert_eq!(commits(&cluster), [3; 5]);
    assert_safe(&cluster);
}

/// §5.4.2, figure 8 (d) end to end: because `2@1` was never committed, n5
/// (whose `2@2` is of a later term) may win the next election and replace
/// `2@1` on every node, the majority that stored it included.
#[test]
fn figure_8_an_old_term_entry_that_never_committed_may_be_overwritten() {
    let mut cluster = figure_8_up_to_c();
    cluster.crash(n(1));
    while cluster.drop_message(0).is_some() {} // n1's appends die with it
    cluster.restart(n(5)).unwrap();
    elect(&mut cluster, 5);
    assert_eq!(
        cluster.node(n(5)).status().role,
        Role::Follower,
        "t3 votes went to n1"
    );
    let votes = elect(&mut cluster, 5);
    assert!(
        votes.contains(&"n3->n5 Vote{t4, granted}".to_string()),
        "2@2 beats 2@1"
    );
    beat(&mut cluster, 5);
    let want = [
        "1@1 2@1 3@3",
        "1@1 2@2 3@4",
        "1@1 2@2 3@4",
        "1@1 2@2 3@4",
        "1@1 2@2 3@4",
    ];
    assert_eq!(logs(&cluster), want, "(d)");
    assert_eq!(commits(&cluster), [1, 3, 3, 3, 3]);
    cluster.restart(n(1)).unwrap();
    beat(&mut cluster, 5);
    beat(&mut cluster, 5);
    assert_eq!(
        logs(&cluster),
        vec!["1@1 2@2 3@4"; 5],
        "n1 gives up 2@1 and 3@3"
    );
    assert_safe(&cluster);
}

// ---------------------------------------------------------------- §5.4.1 and §5.3

/// §5.3 and §5.4.1: a newly elected leader forces its log on the followers;
/// uncommitted entries of a newer term held by a minority are overwritten.
/// n1 and n2 hold `1@1`, n3 alone holds `1@2` (written as leader of term 2,
/// with the votes of n4 and n5, before it crashed).
#[test]
fn an_elected_leader_overwrites_newer_uncommitted_entries_of_a_minority() {
    let storages = vec![
        storage(hard(1, Some(1), 0), "1@1"),
        storage(hard(1, Some(1), 0), "1@1"),
        storage(hard(2, Some(3), 0), "1@2"),
        storage(hard(2, Some(3), 0), ""),
        storage(hard(2, Some(3), 0), ""),
    ];
    let mut cluster = Cluster::with_storage(storages, |_| {}).unwrap();
    let votes: Vec<String> = elect(&mut cluster, 1)
        .into_iter()
        .filter(|m| m.contains(" Vote{"))
        .collect();
    assert_eq!(
        votes,
        [
            "n2->n1 Vote{t2, granted}",
            "n3->n1 Vote{t2, rejected}",
            "n4->n1 Vote{t2, rejected}",
            "n5->n1 Vote{t2, rejected}"
        ],
        "term 2 votes are taken"
    );
    assert_eq!(cluster.node(n(1)).status().role, Role::Follower);
    elect(&mut cluster, 1);
    beat(&mut cluster, 1);
    let s = cluster.node(n(1)).status();
    assert_eq!((s.role, s.term), (Role::Leader, Term(3)));
    assert_eq!(logs(&cluster), vec!["1@1 2@3"; 5], "n3's 1@2 is gone");
    assert_eq!(commits(&cluster), [2; 5]);
    assert_safe(&cluster);
}

// ---------------------------------------------------------------- elections under faults

/// §5.2: two candidates in one term split the votes; one wins with the
/// remaining voter, the other stays candidate. Once healed, the loser starts
/// a newer term and forces everyone to it, but its log is behind, so it
/// cannot win (§5.4.1); every node ends as follower of term 2, and a later
/// election repairs the cluster without losing the committed entry.
#[test]
fn dueling_candidates_end_with_one_leader_per_term_and_no_lost_entry() {
    let mut cluster = Cluster::new(3, |_| {});
    cluster.cut(n(1), n(3));
    cluster.campaign(n(1)).unwrap();
    cluster.campaign(n(3)).unwrap();
    let transcript = settle(&mut cluster);
    assert!(transcript.contains(&"n2->n3 Vote{t1, rejected}".to_string()));
    let roles: Vec<Role> = cluster
        .ids()
        .map(|id| cluster.node(id).status().role)
        .collect();
    assert_eq!(roles, [Role::Leader, Role::Follower, Role::Candidate]);
    assert_eq!(commits(&cluster), [1, 0, 0]);

    cluster.recover();
    elect(&mut cluster, 3);
    for id in cluster.ids() {
        let s = cluster.node(id).status();
        assert_eq!((s.role, s.term), (Role::Follower, Term(2)), "{id}");
    }
    assert_eq!(logs(&cluster), ["1@1", "1@1", ""]);

    elect(&mut cluster, 1);
    beat(&mut cluster, 1);
    assert_eq!(logs(&cluster), vec!["1@1 2@3"; 3]);
    assert_safe(&cluster);
}

/// §5.2: a candidate that receives an append or heartbeat from a leader of
/// its own term recognizes it and returns to follower. n1, cut off, became
/// candidate in term 1 while n3 won term 1 with n2; healed, n1 concedes on
/// n3's first heartbeat and catches up.
#[test]
fn an_isolated_candidate_rejoins_and_concedes_to_the_leader_of_its_term() {
    let mut cluster = Cluster::new(3, |_| {});
    cluster.isolate(n(1));
    cluster.campaign(n(1)).unwrap();
    elect(&mut cluster, 3);
    assert_eq!(cluster.node(n(1)).status().role, Role::Candidate);
    assert_eq!(cluster.node(n(3)).status().role, Role::Leader);
    cluster.recover();
    assert_eq!(
        beat(&mut cluster, 3)[..2],
        [
            "n3->n1 Heartbeat{t1, commit 0}",
            "n3->n2 Heartbeat{t1, commit 1}"
        ]
    );
    assert_eq!(
        role_term_leader(cluster.node(n(1))),
        (Role::Follower, Term(1), Some(n(3)))
    );
    cluster.propose(n(3), "force".into()).unwrap();
    settle(&mut cluster);
    beat(&mut cluster, 3);
    assert_eq!(logs(&cluster), vec!["1@1 2@1"; 3]);
    assert_eq!(commits(&cluster), [2; 3]);
    assert_safe(&cluster);
}

/// §5.1: a server that receives a request with a stale term rejects it.
/// n2, leader of term 2, sent an append that was delayed; n1 has since won
/// term 3 and replaced n2's uncommitted `3@2`. The old append arrives
/// everywhere and changes nothing.
#[test]
fn old_messages_from_a_deposed_leader_change_nothing() {
    let mut cluster = Cluster::new(3, |_| {});
    elect(&mut cluster, 1);
    elect(&mut cluster, 2);
    cluster.propose(n(2), "stale".into()).unwrap();
    let old = cluster.network().to_vec();
    assert_eq!(
        show(&old),
        [
            "n2->n1 Append{t2, prev 2@2, entries [3@2], commit 2}",
            "n2->n3 Append{t2, prev 2@2, entries [3@2], commit 2}"
        ]
    );
    while cluster.drop_message(0).is_some() {}
    elect(&mut cluster, 1);
    beat(&mut cluster, 1);
    assert_eq!(logs(&cluster), vec!["1@1 2@2 3@3"; 3], "3@2 replaced");
    let before = logs(&cluster);
    for msg in old {
        let current = cluster.node(msg.dst).status().term;
        let stale = DropReason::StaleTerm {
            term: Term(2),
            current,
        };
        assert_eq!(cluster.step(msg), Ok(StepOutcome::Dropped(stale)));
    }
    assert!(cluster.network().is_empty(), "no reply to a stale append");
    assert_eq!(logs(&cluster), before);
    cluster.propose(n(1), "somedata".into()).unwrap();
    settle(&mut cluster);
    beat(&mut cluster, 1);
    assert_eq!(logs(&cluster), vec!["1@1 2@2 3@3 4@3"; 3]);
    assert_eq!(commits(&cluster), [4; 3]);
    assert_safe(&cluster);
}

// ---------------------------------------------------------------- restarts

/// Figure 2 (persistent state) and §5.2: term, vote and log are persisted
/// before a node answers, so a node restarted mid-term resumes with the same
/// term, vote and log (as follower); it never votes twice in that term.
#[test]
fn a_node_restarted_mid_term_keeps_its_term_vote_and_log() {
    let mut cluster = Cluster::new(3, |_| {});
    elect(&mut cluster, 1);
    cluster.propose(n(1), "x".into()).unwrap();
    settle(&mut cluster);
    let before = cluster.node(n(2)).status();
    cluster.crash(n(2));
    cluster.restart(n(2)).unwrap();
    let after = cluster.node(n(2)).status();
    assert_eq!((after.term, after.voted_node), (Term(1), Some(n(1))));
    assert_eq!(
        (after.last, after.committed),
        (before.last, before.committed)
    );
    assert_eq!((after.role, after.leader), (Role::Follower, None));
    assert_eq!(log_of(cluster.node(n(2))), "1@1 2@1");
    let refused = Rejection::VoteAlreadyCast { voted: n(1) };
    assert_eq!(
        cluster.step(request_vote(3, 1, 2, "2@1")),
        Ok(StepOutcome::Rejected(refused))
    );
    cluster.drop_message(0);
    beat(&mut cluster, 1);
    assert_eq!(commits(&cluster), [2; 3]);
    assert_safe(&cluster);

    // A candidate restarted mid-term keeps its vote for itself.
    let mut n1 = candidate(3);
    n1 = block_on(Node::new(config(1, 3), n1.storage().clone())).unwrap();
    let s = n1.status();
    assert_eq!(
        (s.role, s.term, s.voted_node),
        (Role::Follower, Term(1), Some(NodeId(1)))
    );
    step(&mut n1, request_vote(2, 1, 1, "0@0"));
    assert_eq!(sends(&mut n1), ["n1->n2 Vote{t1, rejected}"]);
}
