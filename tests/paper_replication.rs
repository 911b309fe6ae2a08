//! Raft paper §5.3 (log replication) and the commitment rules of §5.3-5.4 as
//! black-box scenarios, through the public `Node` API and the shared driver.
//!
//! ruft differs from etcd in two ways these scenarios show: a leader does not
//! send appends just because its commit index moved (followers learn it from
//! the next append or heartbeat), and a follower does not forward proposals
//! (it refuses them, naming the leader it knows).

mod paper_common;

use futures::executor::block_on;
use paper_common::*;
use ruft::{Error, NodeId, Rejection, Role, StepOutcome};
use ruft_models::driver::{Cluster, DriveError};

/// `"1 1 4"` (the term at each index, as the paper's figures draw a log) to
/// `"1@1 2@1 3@4"`.
fn terms(s: &str) -> String {
    let keys: Vec<String> = s
        .split_whitespace()
        .enumerate()
        .map(|(i, t)| format!("{}@{t}", i + 1))
        .collect();
    keys.join(" ")
}

// ---------------------------------------------------------------- the leader

/// §5.3: the leader appends a client command to its log as a new entry (at
/// its last index + 1, in its term), then sends it to every follower in an
/// append naming the entry before it (prev index and term) and its commit
/// index.
#[test]
fn the_leader_appends_a_proposal_in_its_term_and_sends_it_to_every_follower() {
    let mut n1 = leader(3);
    step(&mut n1, append_ok(2, 1, 1, 1));
    step(&mut n1, append_ok(3, 1, 1, 1));
    assert_eq!(keys(&run_ready(&mut n1).committed_entries), "1@1");
    let key = block_on(n1.propose("some data".into())).unwrap();
    assert_eq!(key.to_string(), "2@1");
    let rd = run_ready(&mut n1);
    assert_eq!(keys(&rd.entries), "2@1", "the new entry is to be persisted");
    assert_eq!(
        show(&rd.messages),
        [
            "n1->n2 Append{t1, prev 1@1, entries [2@1], commit 1}",
            "n1->n3 Append{t1, prev 1@1, entries [2@1], commit 1}"
        ]
    );
    assert!(rd.committed_entries.is_empty(), "not committed yet");
}

/// §5.3: an entry is committed once the leader that created it has
/// replicated it on a majority of the servers; the leader's own copy counts
/// once it is persisted. Tables for 1, 3 and 5 voters.
#[test]
fn the_leader_commits_an_entry_once_a_majority_holds_it() {
    let cases: &[(u64, &[u64], bool)] = &[
        (1, &[], true),
        (3, &[], false),
        (3, &[2], true),
        (3, &[2, 3], true),
        (5, &[], false),
        (5, &[2], false),
        (5, &[2, 3], true),
        (5, &[2, 3, 4], true),
        (5, &[2, 3, 4, 5], true),
    ];
    for (size, acks, commits) in cases {
        let mut n1 = leader(*size);
        block_on(n1.propose("some data".into())).unwrap();
        run_ready(&mut n1);
        for &follower in acks.iter() {
            step(&mut n1, append_ok(follower, 1, 1, 2));
        }
        let applied = keys(&run_ready(&mut n1).committed_entries);
        // A single voter committed its no-op on its own already.
        let want = match (commits, size) {
            (false, _) => "",
            (true, 1) => "2@1",
            (true, _) => "1@1 2@1",
        };
        assert_eq!(applied, want, "{size} voters, acks from {acks:?}");
    }
}

/// §5.3: the leader keeps track of the highest index it knows to be committed
/// and includes it in future appends and heartbeats. (ruft sends nothing when
/// the commit index moves: the next append or heartbeat carries it.)
#[test]
fn later_appends_and_heartbeats_carry_the_new_commit_index() {
    let mut n1 = leader(3);
    step(&mut n1, append_ok(2, 1, 1, 1));
    step(&mut n1, append_ok(3, 1, 1, 1));
    block_on(n1.propose("x".into())).unwrap();
    run_ready(&mut n1);
    step(&mut n1, append_ok(2, 1, 1, 2));
    let rd = run_ready(&mut n1);
    assert_eq!(keys(&rd.committed_entries), "2@1");
    assert!(rd.messages.is_empty(), "a commit alone sends nothing");
    block_on(n1.propose("y".into())).unwrap();
    assert_eq!(
        sends(&mut n1),
        [
            "n1->n2 Append{t1, prev 2@1, entries [3@1], commit 2}",
            "n1->n3 Append{t1, prev 2@1, entries [3@1], commit 2}"
        ]
    );
    block_on(n1.heartbeat()).unwrap();
    assert_eq!(
        sends(&mut n1),
        [
            "n1->n2 Heartbeat{t1, commit 2}",
            "n1->n3 Heartbeat{t1, commit 1}"
        ],
        "n3 has acknowledged only up to 1"
    );
}

/// §5.3 and §5.4.2: committing an entry also commits all preceding entries in
/// the leader's log, including entries created by previous leaders.
#[test]
fn committing_an_entry_of_the_current_term_commits_every_entry_before_it() {
    for old in ["", "1@2", "1@1 2@2", "1@1"] {
        let mut n1 = node_on(config(1, 3), hard(2, None, 0), old);
        block_on(n1.campaign()).unwrap();
        step(&mut n1, vote(2, 3, 1, true));
        let len = old.split_whitespace().count() as u64;
        let last = block_on(n1.propose("some data".into())).unwrap();
        assert_eq!(last.to_string(), format!("{}@3", len + 2));
        run_ready(&mut n1);
        step(&mut n1, append_ok(2, 3, 1, len + 2));
        let applied = keys(&run_ready(&mut n1).committed_entries);
        let want = format!("{old} {}@3 {}@3", len + 1, len + 2);
        assert_eq!(applied, want.trim(), "old entries {old:?}");
    }
}

// ---------------------------------------------------------------- the follower

/// §5.3: once a follower learns that an entry is committed, it applies it:
/// it commits up to the leader's commit index, but never beyond the last
/// entry the append gave it.
#[test]
fn a_follower_commits_up_to_the_leaders_commit_index() {
    let cases = [
        ("1@1", 0, ""),
        ("1@1", 1, "1@1"),
        ("1@1 2@1", 1, "1@1"),
        ("1@1 2@1", 2, "1@1 2@1"),
        ("1@1 2@1", 5, "1@1 2@1"),
    ];
    for (new, commit, want) in cases {
        let mut n1 = fresh(1, 3);
        step(&mut n1, append(2, 1, 1, "0@0", new, commit));
        let rd = run_ready(&mut n1);
        assert_eq!(keys(&rd.committed_entries), want, "{new} commit {commit}");
        assert_eq!(
            n1.status().committed.0,
            want.split_whitespace().count() as u64
        );
        assert_eq!(
            show(&rd.messages),
            [format!(
                "n1->n2 AppendOk{{t1, match {}}}",
                new.split_whitespace().count()
            )]
        );
    }
}

/// §5.3: a follower refuses an append when its log holds no entry at the
/// append's previous index with the previous term (the consistency check).
/// The refusal carries a hint (its last entry at or before that index whose
/// term is at most the previous term) so the leader can skip a whole term.
#[test]
fn a_follower_rejects_an_append_whose_previous_entry_does_not_match_with_a_hint() {
    let mismatch = |prev: &str, hint: &str| {
        StepOutcome::Rejected(Rejection::PrevTermMismatch {
            prev: key(prev),
            hint: key(hint),
        })
    };
    let beyond = |prev: &str, last: &str| {
        StepOutcome::Rejected(Rejection::PrevBeyondLog {
            prev: key(prev),
            last: key(last),
        })
    };
    let cases = [
        ("0@0", StepOutcome::Handled, "AppendOk{t2, match 1}"),
        ("1@1", StepOutcome::Handled, "AppendOk{t2, match 1}"),
        ("2@2", StepOutcome::Handled, "AppendOk{t2, match 2}"),
        (
            "2@1",
            mismatch("2@1", "1@1"),
            "AppendReject{t2, at 2, hint 1@1}",
        ),
        (
            "3@2",
            beyond("3@2", "2@2"),
            "AppendReject{t2, at 3, hint 2@2}",
        ),
    ];
    for (prev, outcome, reply) in cases {
        let mut n1 = node_on(config(1, 3), hard(2, None, 1), "1@1 2@2");
        assert_eq!(
            step(&mut n1, append(2, 2, 1, prev, "", 1)),
            outcome,
            "prev {prev}"
        );
        assert_eq!(sends(&mut n1), [format!("n1->n2 {reply}")], "prev {prev}");
        assert_eq!(log_of(&n1), "1@1 2@2", "a refusal changes no entry");
    }
}

/// §5.3: when an existing entry conflicts with a new one (same index,
/// different term), the follower deletes it and all that follow, then
/// appends the new entries it does not hold yet; entries it already holds are
/// kept, and only the new ones are handed out to persist.
#[test]
fn a_follower_replaces_a_conflicting_suffix_and_persists_only_new_entries() {
    let cases = [
        ("2@2", "3@3", "1@1 2@2 3@3", "3@3"),
        ("1@1", "2@3 3@4", "1@1 2@3 3@4", "2@3 3@4"),
        ("1@1", "2@2 3@4", "1@1 2@2 3@4", "3@4"),
        ("0@0", "1@1", "1@1 2@2", ""),
        ("0@0", "1@3", "1@3", "1@3"),
    ];
    for (prev, new, log, persist) in cases {
        let mut n1 = node_on(config(1, 3), hard(2, None, 0), "1@1 2@2");
        step(&mut n1, append(2, 4, 1, prev, new, 0));
        assert_eq!(log_of(&n1), log, "prev {prev} entries {new}");
        let rd = run_ready(&mut n1);
        assert_eq!(keys(&rd.entries), persist, "prev {prev} entries {new}");
        assert_eq!(
            keys(n1.storage().stored_entries()),
            log,
            "storage now holds the log"
        );
    }
}

// ---------------------------------------------------------------- end to end

/// §5.3, figure 7: when a leader comes to power, followers may miss entries,
/// hold extra uncommitted ones, or both. The leader of term 8 forces each of
/// the six follower logs (a) to (f) to duplicate its own: it finds the
/// latest entry where they agree (one refusal each here, thanks to the
/// hint), deletes what follows in the follower's log and sends what follows
/// in its own.
#[test]
fn the_six_follower_logs_of_figure_7_converge_to_the_leaders_log() {
    let leader_log = terms("1 1 1 4 4 5 5 6 6 6");
    let followers = [
        terms("1 1 1 4 4 5 5 6 6"),       // (a) misses entries
        terms("1 1 1 4"),                 // (b) misses more
        terms("1 1 1 4 4 5 5 6 6 6 6"),   // (c) one extra entry
        terms("1 1 1 4 4 5 5 6 6 6 7 7"), // (d) two extra, of a later term
        terms("1 1 1 4 4 4 4"),           // (e) misses and has extra
        terms("1 1 1 2 2 2 3 3 3 3 3"),   // (f) misses and has many extra
    ];
    let storages = std::iter::once(&leader_log)
        .chain(&followers)
        .map(|log| storage(hard(7, None, 0), log))
        .collect();
    let mut cluster = Cluster::with_storage(storages, |_| {}).unwrap();
    assert_safe(&cluster);

    let transcript = elect(&mut cluster, 1);
    let votes: Vec<&String> = transcript.iter().filter(|m| m.contains(" Vote{")).collect();
    assert_eq!(
        votes,
        [
            "n2->n1 Vote{t8, granted}",
            "n3->n1 Vote{t8, granted}",
            "n4->n1 Vote{t8, rejected}", // (c) is longer in term 6
            "n5->n1 Vote{t8, rejected}", // (d) ends in term 7
            "n6->n1 Vote{t8, granted}",
            "n7->n1 Vote{t8, granted}",
        ]
    );
    let refusals: Vec<&String> = transcript.iter().filter(|m| m.contains("Reject")).collect();
    assert_eq!(
        refusals,
        [
            "n2->n1 AppendReject{t8, at 10, hint 9@6}",
            "n3->n1 AppendReject{t8, at 10, hint 4@4}",
            "n6->n1 AppendReject{t8, at 10, hint 7@4}",
            "n7->n1 AppendReject{t8, at 10, hint 10@3}",
        ]
    );
    beat(&mut cluster, 1);
    let converged = format!("{leader_log} 11@8");
    assert_eq!(logs(&cluster), vec![converged; 7]);
    assert_eq!(commits(&cluster), [11; 7]);
    assert_safe(&cluster);
}

/// §5.3, end to end: a leader is elected, appends its no-op, replicates client
/// commands, and once a heartbeat carries the commit index every node holds
/// and applies the same log.
#[test]
fn a_proposal_is_replicated_committed_and_applied_on_every_node() {
    let mut cluster = Cluster::new(3, |_| {});
    assert_eq!(
        elect(&mut cluster, 1),
        [
            "n1->n2 RequestVote{t1, last 0@0}",
            "n1->n3 RequestVote{t1, last 0@0}",
            "n2->n1 Vote{t1, granted}",
            "n3->n1 Vote{t1, granted}",
            "n1->n2 Append{t1, prev 0@0, entries [1@1], commit 0}",
            "n1->n3 Append{t1, prev 0@0, entries [1@1], commit 0}",
            "n2->n1 AppendOk{t1, match 1}",
            "n3->n1 AppendOk{t1, match 1}",
        ]
    );
    cluster.propose(n(1), "a".into()).unwrap();
    cluster.propose(n(1), "b".into()).unwrap();
    settle(&mut cluster);
    assert_eq!(
        commits(&cluster),
        [3, 1, 1],
        "followers learn 3 on the next heartbeat"
    );
    beat(&mut cluster, 1);
    assert_eq!(logs(&cluster), vec!["1@1 2@1 3@1"; 3]);
    for id in cluster.ids() {
        let s = cluster.node(id).status();
        assert_eq!((s.committed.0, s.applied.0), (3, 3), "{id}");
    }
    assert_safe(&cluster);
}

/// §5.3: with a single voter, the leader's own persisted copy is a majority:
/// it elects itself and commits every entry on its own.
#[test]
fn a_single_node_cluster_commits_on_its_own() {
    let mut cluster = Cluster::new(1, |_| {});
    cluster.campaign(n(1)).unwrap();
    assert_eq!(cluster.node(n(1)).status().role, Role::Leader);
    cluster.propose(n(1), "a".into()).unwrap();
    cluster.propose(n(1), "b".into()).unwrap();
    let s = cluster.node(n(1)).status();
    assert_eq!(log_of(cluster.node(n(1))), "1@1 2@1 3@1");
    assert_eq!((s.committed.0, s.applied.0), (3, 3));
    assert!(cluster.network().is_empty(), "nothing to send");
    assert_safe(&cluster);
}

/// §5.3 and §5 (availability): an entry commits only while a majority of the
/// servers is alive to store it; with a minority alive it waits on the
/// leader (and the live followers), and commits once a majority is back.
#[test]
fn a_proposal_commits_only_while_a_majority_is_alive() {
    let cases: &[(usize, &[u64])] = &[
        (3, &[]),
        (3, &[3]),
        (3, &[2, 3]),
        (5, &[4, 5]),
        (5, &[3, 4, 5]),
    ];
    for (size, down) in cases {
        let majority_alive = size - down.len() > size / 2;
        let mut cluster = Cluster::new(*size, |_| {});
        elect(&mut cluster, 1);
        for &id in down.iter() {
            cluster.crash(n(id));
        }
        cluster.propose(n(1), "x".into()).unwrap();
        settle(&mut cluster);
        let committed = cluster.node(n(1)).status().committed.0;
        assert_eq!(
            committed,
            if majority_alive { 2 } else { 1 },
            "{size} nodes, down {down:?}"
        );
        assert_eq!(log_of(cluster.node(n(1))), "1@1 2@1");
        assert_safe(&cluster);
        // The majority comes back; the next proposal finds the gap and fills it.
        for &id in down.iter() {
            cluster.restart(n(id)).unwrap();
        }
        cluster.propose(n(1), "y".into()).unwrap();
        settle(&mut cluster);
        beat(&mut cluster, 1);
        assert_eq!(
            commits(&cluster),
            vec![3; *size],
            "{size} nodes, down {down:?}"
        );
        assert_eq!(logs(&cluster), vec!["1@1 2@1 3@1"; *size]);
        assert_safe(&cluster);
    }
}

/// §5.1/§8: clients talk to the leader; a server that is not the leader
/// rejects the request and supplies what it knows of the leader. ruft does
/// not forward proposals: a follower refuses with the leader's id, a node
/// that knows no leader refuses without one, and nothing is appended or sent.
#[test]
fn a_followers_proposal_is_refused_with_the_leader_hint() {
    let mut cluster = Cluster::new(3, |_| {});
    let not_leader = |leader: Option<u64>| {
        Err(DriveError::Node(Error::NotLeader {
            leader: leader.map(NodeId),
        }))
    };
    assert_eq!(
        cluster.propose(n(1), "x".into()),
        not_leader(None),
        "no leader yet"
    );
    elect(&mut cluster, 1);
    assert_eq!(cluster.propose(n(2), "x".into()), not_leader(Some(1)));
    assert_eq!(cluster.propose(n(3), "x".into()), not_leader(Some(1)));
    assert!(cluster.network().is_empty(), "nothing forwarded");
    assert_eq!(logs(&cluster), vec!["1@1"; 3]);
    assert_safe(&cluster);
}

/// §5.3: if followers crash or network packets are lost, the leader retries
/// appends until all followers eventually store all log entries. Here both
/// followers miss the append of 2@1 while down; once back, they answer
/// heartbeats, but the leader never sends 2@1 again.
#[test]
fn a_leader_retries_an_append_lost_on_the_way_to_a_follower() {
    let mut cluster = Cluster::new(3, |_| {});
    elect(&mut cluster, 1);
    cluster.drop_kind("AppendEntries");
    cluster.propose(n(1), "x".into()).unwrap();
    settle(&mut cluster);
    cluster.recover();
    for _ in 0..3 {
        beat(&mut cluster, 1);
    }
    assert_eq!(logs(&cluster), vec!["1@1 2@1"; 3]);
    assert_eq!(commits(&cluster), [2, 2, 2]);
}

/// §5.3, as above, with the leader's in-flight window full: after
/// `inflight_max` lost appends the leader stops sending to the follower
/// altogether, so even new proposals never reach it and, with both followers
/// in that state, nothing commits again.
#[test]
fn a_leader_whose_appends_were_all_lost_still_reaches_its_followers() {
    let mut cluster = Cluster::new(3, |cfg| cfg.inflight_max = 2);
    elect(&mut cluster, 1);
    cluster.drop_kind("AppendEntries");
    for payload in ["a", "b", "c"] {
        cluster.propose(n(1), payload.into()).unwrap();
    }
    settle(&mut cluster);
    cluster.recover();
    beat(&mut cluster, 1);
    cluster.propose(n(1), "d".into()).unwrap();
    settle(&mut cluster);
    beat(&mut cluster, 1);
    assert_eq!(logs(&cluster), vec!["1@1 2@1 3@1 4@1 5@1"; 3]);
    assert_eq!(commits(&cluster), [5, 5, 5]);
}
