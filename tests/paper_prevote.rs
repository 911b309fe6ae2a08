//! Pre-vote (thesis §9.6) as black-box scenarios, through the public `Node`
//! API and the shared cluster driver: what a pre-candidate asks and counts,
//! what a voter answers (and that answering moves nothing), and whole
//! clusters electing with it, a rolling upgrade that turns it on included.
//!
//! Ports, rewritten for ruft rather than translated, the pre-vote checks of
//! etcd's `raft_test.go` (`TestPreVoteFromAnyState`, `TestRecvMsgPreVote`,
//! `TestLeaderElectionPreVote`, `TestPreVoteWithSplitVote`, the pre-vote
//! migration tests and their kin). A scenario says so where ruft's documented
//! behaviour departs from etcd's. Check-quorum and leader stickiness, and the
//! scenarios that run pre-vote with them over many ticks, live in
//! `paper_check_quorum.rs`. Left out: scenarios that need membership changes
//! or learners (etcd's non-promotable voter), which ruft does not have yet.

mod paper_common;

use futures::executor::block_on;
use paper_common::*;
use ruft::{DropReason, MemStorage, Node, NodeId, Rejection, Role, StepOutcome, Term};
use ruft_models::driver::Cluster;

// ---------------------------------------------------------------- helpers

/// Node `id` of `n1..=size` with pre-vote on, started from `hs` and `log`.
fn pre_voter(id: u64, size: u64, hs: ruft::HardState, log: &str) -> Node<MemStorage> {
    let mut cfg = config(id, size);
    cfg.pre_vote = true;
    node_on(cfg, hs, log)
}

/// Node n1 of {n1, n2, n3} with pre-vote on, a pre-candidate in term 1
/// (asking for term 2) with log `1@1`; its Ready carried out.
fn pre_candidate() -> Node<MemStorage> {
    let mut n1 = pre_voter(1, 3, hard(1, None, 1), "1@1");
    block_on(n1.campaign()).unwrap();
    run_ready(&mut n1);
    n1
}

// ---------------------------------------------------------------- pre-vote: the pre-candidate

/// §9.6: with pre-vote, a node whose election timer fires first asks whether
/// it could win an election in the next term, naming its last entry, while
/// staying in its own term: neither term nor vote changes, so nothing is
/// persisted.
#[test]
fn a_pre_candidate_asks_for_the_next_term_without_entering_it() {
    let mut n1 = pre_voter(1, 3, hard(1, None, 1), "1@1");
    assert_eq!(block_on(n1.campaign()), Ok(StepOutcome::Handled));
    let s = n1.status();
    assert_eq!(
        (s.role, s.term, s.voted_node, s.leader),
        (Role::PreCandidate, Term(1), None, None)
    );
    let rd = run_ready(&mut n1);
    assert_eq!(rd.hard_state, None, "term and vote are unchanged");
    assert_eq!(
        show(&rd.messages),
        [
            "n1->n2 PreVote{t2, last 1@1}",
            "n1->n3 PreVote{t2, last 1@1}"
        ]
    );
}

/// §9.6: once a majority (itself included) would vote for it, the
/// pre-candidate holds a real election: it enters the next term, votes for
/// itself, persists both and asks for votes; the real votes then make it
/// leader.
#[test]
fn a_quorum_of_pre_vote_grants_starts_a_real_election_in_the_next_term() {
    let mut n1 = pre_candidate();
    assert_eq!(
        step(&mut n1, pre_vote_answer(2, 2, 1, true)),
        StepOutcome::Handled
    );
    let s = n1.status();
    assert_eq!(
        (s.role, s.term, s.voted_node),
        (Role::Candidate, Term(2), Some(NodeId(1)))
    );
    let rd = run_ready(&mut n1);
    assert_eq!(rd.hard_state, Some(hard(2, Some(1), 1)));
    assert_eq!(
        show(&rd.messages),
        [
            "n1->n2 RequestVote{t2, last 1@1}",
            "n1->n3 RequestVote{t2, last 1@1}"
        ]
    );
    step(&mut n1, vote(3, 2, 1, true));
    assert_eq!(
        role_term_leader(&n1),
        (Role::Leader, Term(2), Some(NodeId(1)))
    );
}

/// §9.6: a granted pre-vote speaks of a term nobody is in yet, so it never
/// moves the receiver's term. Only grants for the very next term count: one
/// for a later term, or one left over from an earlier round (of the node's
/// own term), is dropped as a stale response.
#[test]
fn a_granted_pre_vote_never_moves_the_term_and_counts_only_for_the_next_term() {
    let mut n1 = pre_voter(1, 5, hard(1, None, 1), "1@1");
    block_on(n1.campaign()).unwrap();
    run_ready(&mut n1);
    for (grant, outcome) in [
        (
            pre_vote_answer(2, 5, 1, true),
            StepOutcome::Dropped(DropReason::StaleResponse),
        ),
        (
            pre_vote_answer(2, 1, 1, true),
            StepOutcome::Dropped(DropReason::StaleResponse),
        ),
        (pre_vote_answer(2, 2, 1, true), StepOutcome::Handled),
    ] {
        assert_eq!(step(&mut n1, grant.clone()), outcome, "{grant}");
        let s = n1.status();
        assert_eq!((s.role, s.term), (Role::PreCandidate, Term(1)), "{grant}");
        assert!(!n1.has_ready(), "{grant}: nothing to persist or send");
    }
    step(&mut n1, pre_vote_answer(3, 2, 1, true));
    assert_eq!(
        n1.status().role,
        Role::Candidate,
        "n1, n2 and n3 are three of five"
    );
}

/// §9.6: a pre-vote refused in the pre-candidate's own term is counted; a
/// majority of refusals sends it back to follower, still in its term, as a
/// lost election would.
#[test]
fn a_quorum_of_pre_vote_refusals_makes_the_pre_candidate_a_follower_again() {
    let mut n1 = pre_candidate();
    step(&mut n1, pre_vote_answer(2, 1, 1, false));
    assert_eq!(
        role_term_leader(&n1),
        (Role::PreCandidate, Term(1), None),
        "one refusal of three decides nothing"
    );
    step(&mut n1, pre_vote_answer(3, 1, 1, false));
    assert_eq!(role_term_leader(&n1), (Role::Follower, Term(1), None));
    assert_eq!(n1.status().voted_node, None);
    assert!(sends(&mut n1).is_empty());
}

/// ruft: a pre-vote refused by a voter in a newer term carries that term
/// (the voter's own), and the pre-candidate becomes a follower in it, with
/// no leader and no vote: it learns it is behind. (The term gate acts on the
/// message; its handler then has nothing left to do for a follower.)
#[test]
fn a_refused_pre_vote_of_a_newer_term_makes_the_pre_candidate_a_follower_in_that_term() {
    let mut n1 = pre_candidate();
    assert_eq!(
        step(&mut n1, pre_vote_answer(2, 3, 1, false)),
        StepOutcome::Dropped(DropReason::NotForRole {
            role: Role::Follower
        })
    );
    let s = n1.status();
    assert_eq!(
        (s.role, s.term, s.leader, s.voted_node),
        (Role::Follower, Term(3), None, None)
    );
    let rd = run_ready(&mut n1);
    assert_eq!(
        rd.hard_state,
        Some(hard(3, None, 1)),
        "the new term is persisted"
    );
    assert!(rd.messages.is_empty());
}

/// After etcd's `TestPreCampaignWhileLeader`: a single voter needs no
/// pre-votes and is elected at once, in term 1; as leader it ignores its
/// election timer.
#[test]
fn a_single_voter_with_pre_vote_leads_at_once_and_ignores_its_election_timer() {
    let mut n1 = pre_voter(1, 1, hard(0, None, 0), "");
    block_on(n1.campaign()).unwrap();
    assert_eq!(
        role_term_leader(&n1),
        (Role::Leader, Term(1), Some(NodeId(1)))
    );
    assert_eq!(
        block_on(n1.campaign()),
        Ok(StepOutcome::Dropped(DropReason::NotForRole {
            role: Role::Leader
        }))
    );
    assert_eq!(n1.status().term, Term(1));
}

// ---------------------------------------------------------------- pre-vote: the voter

/// After etcd's `TestPreVoteFromAnyState`: a pre-vote request for a newer
/// term is answered in every role (without check-quorum), and answering it
/// changes neither the voter's term, nor its vote, nor its role: nothing is
/// persisted, and the grant carries the term asked about. A follower's known
/// leader does not bind it for a term that leader is not in.
#[test]
fn a_pre_vote_is_answered_in_every_role_without_changing_term_vote_or_role() {
    for role in [
        Role::Follower,
        Role::PreCandidate,
        Role::Candidate,
        Role::Leader,
    ] {
        let mut n1 = pre_voter(1, 3, hard(1, None, 0), "");
        match role {
            Role::Follower => {
                step(&mut n1, heartbeat(3, 1, 1, 0));
            }
            _ => {
                block_on(n1.campaign()).unwrap();
            }
        }
        if matches!(role, Role::Candidate | Role::Leader) {
            step(&mut n1, pre_vote_answer(3, 2, 1, true));
        }
        if role == Role::Leader {
            step(&mut n1, vote(3, 2, 1, true));
        }
        run_ready(&mut n1);
        let before = n1.status();
        assert_eq!(before.role, role);
        let asked = before.term.0 + 1;
        let request = pre_vote(2, asked, 1, &format!("42@{asked}"));
        assert_eq!(step(&mut n1, request), StepOutcome::Handled, "{role}");
        let rd = run_ready(&mut n1);
        assert_eq!(
            show(&rd.messages),
            [format!("n1->n2 PreVoteResp{{t{asked}, granted}}")],
            "{role}"
        );
        assert_eq!(rd.hard_state, None, "{role}");
        let after = n1.status();
        assert_eq!(
            (after.role, after.term, after.voted_node, after.leader),
            (before.role, before.term, before.voted_node, before.leader),
            "{role}"
        );
    }
}

/// After etcd's `TestRecvMsgPreVote`, §5.4.1: a pre-vote is granted only to a
/// pre-candidate whose last entry is at least as up to date as the voter's
/// (a later last term, or the same term and an index at least ours). The
/// voter's log is `1@2 2@2`; a refusal carries the voter's own term.
#[test]
fn a_pre_vote_is_granted_only_to_a_log_at_least_as_up_to_date() {
    let cases = [
        ("0@0", false),
        ("1@1", false),
        ("1@2", false),
        ("2@1", false),
        ("3@1", false),
        ("2@2", true),
        ("3@2", true),
        ("1@3", true),
        ("3@3", true),
    ];
    for (theirs, granted) in cases {
        let mut n1 = node_on(config(1, 3), hard(2, None, 0), "1@2 2@2");
        let outcome = step(&mut n1, pre_vote(2, 3, 1, theirs));
        let want = if granted {
            "n1->n2 PreVoteResp{t3, granted}"
        } else {
            "n1->n2 PreVoteResp{t2, rejected}"
        };
        assert_eq!(sends(&mut n1), [want], "theirs {theirs}");
        let refusal = Rejection::LogNotUpToDate {
            ours: key("2@2"),
            theirs: key(theirs),
        };
        let want_outcome = if granted {
            StepOutcome::Handled
        } else {
            StepOutcome::Rejected(refusal)
        };
        assert_eq!(outcome, want_outcome, "theirs {theirs}");
        assert_eq!(n1.status().term, Term(2), "theirs {theirs}");
    }
}

/// §5.2 applied to pre-votes: a pre-vote that asks for the voter's own term
/// (the pre-candidate is one term behind) is bound like a vote by what the
/// voter did in that term: granted if it voted for that node or for nobody,
/// refused if it voted for another or follows a leader.
#[test]
fn a_pre_vote_for_the_voters_own_term_is_bound_by_its_vote_and_leader() {
    let cases = [
        (Some(2), None, true),
        (None, None, true),
        (Some(3), None, false),
        (None, Some(3), false),
    ];
    for (voted, leader, granted) in cases {
        let mut n1 = node_on(config(1, 3), hard(2, voted, 0), "");
        if let Some(leader) = leader {
            step(&mut n1, heartbeat(leader, 2, 1, 0));
            run_ready(&mut n1);
        }
        let outcome = step(&mut n1, pre_vote(2, 2, 1, "0@0"));
        let verdict = if granted { "granted" } else { "rejected" };
        assert_eq!(
            sends(&mut n1),
            [format!("n1->n2 PreVoteResp{{t2, {verdict}}}")],
            "voted {voted:?}, leader {leader:?}"
        );
        let want = match (granted, voted, leader) {
            (true, _, _) => StepOutcome::Handled,
            (false, Some(v), _) => {
                StepOutcome::Rejected(Rejection::VoteAlreadyCast { voted: n(v) })
            }
            (false, None, Some(l)) => {
                StepOutcome::Rejected(Rejection::LeaderKnown { leader: n(l) })
            }
            (false, None, None) => unreachable!(),
        };
        assert_eq!(outcome, want, "voted {voted:?}, leader {leader:?}");
        assert_eq!(n1.status().voted_node, voted.map(n), "the vote is kept");
    }
}

/// ruft: a pre-vote request from an older term is dropped as stale but first
/// refused with the receiver's term, so that a pre-candidate behind every
/// voter learns the term it must catch up to. A stale real vote request is
/// dropped without an answer.
#[test]
fn a_stale_pre_vote_is_refused_with_the_receivers_term() {
    let mut n1 = node_on(config(1, 3), hard(3, None, 0), "");
    let stale = StepOutcome::Dropped(DropReason::StaleTerm {
        term: Term(2),
        current: Term(3),
    });
    assert_eq!(step(&mut n1, pre_vote(2, 2, 1, "5@1")), stale);
    assert_eq!(sends(&mut n1), ["n1->n2 PreVoteResp{t3, rejected}"]);
    assert_eq!(step(&mut n1, request_vote(2, 2, 1, "5@1")), stale);
    assert!(
        sends(&mut n1).is_empty(),
        "no answer to a stale vote request"
    );
    assert_eq!(n1.status().term, Term(3));
}

// ---------------------------------------------------------------- pre-vote: whole clusters

/// After etcd's `TestLeaderElectionPreVote`, §9.6: a pre-candidate needs a
/// majority of the whole cluster alive to go on to a real election. With
/// too many nodes down its election fails as a pre-vote: it stays a
/// pre-candidate in term 0, where a plain candidate would be in term 1.
#[test]
fn with_pre_vote_an_election_without_a_majority_alive_leaves_the_term_unchanged() {
    let cases: &[(usize, &[u64], Role, u64)] = &[
        (3, &[], Role::Leader, 1),
        (3, &[3], Role::Leader, 1),
        (3, &[2, 3], Role::PreCandidate, 0),
        (4, &[2, 3], Role::PreCandidate, 0),
        (5, &[2, 3], Role::Leader, 1),
        (5, &[2, 3, 4], Role::PreCandidate, 0),
    ];
    for (size, down, role, term) in cases {
        let mut cluster = Cluster::new(*size, with_pre_vote);
        for &id in down.iter() {
            cluster.crash(n(id));
        }
        elect(&mut cluster, 1);
        let s = cluster.node(n(1)).status();
        assert_eq!(
            (s.role, s.term, s.voted_node),
            (*role, Term(*term), (*term == 1).then_some(n(1))),
            "{size} nodes, down {down:?}"
        );
        assert_safe(&cluster);
    }
}

/// After etcd's `TestLeaderCyclePreVote`: elections with pre-vote work from
/// any state, not only from a fresh cluster. Each node campaigns in turn
/// while another leads (without check-quorum nothing holds its pre-vote
/// back) and is elected, one term after the other.
#[test]
fn with_pre_vote_each_node_in_turn_is_elected_while_another_leads() {
    let mut cluster = Cluster::new(3, with_pre_vote);
    for (term, id) in [1, 2, 3, 1, 2, 3].into_iter().enumerate() {
        elect(&mut cluster, id);
        let want: Vec<_> = (1..=3)
            .map(|other| {
                let role = if other == id {
                    Role::Leader
                } else {
                    Role::Follower
                };
                (role, Term(term as u64 + 1), Some(n(id)))
            })
            .collect();
        assert_eq!(roles(&cluster), want, "n{id} campaigned");
    }
    assert_safe(&cluster);
}

/// After etcd's `TestPreVoteWithSplitVote`: the leader n1 is cut off and n2
/// and n3 time out together. Each grants the other's pre-vote (a pre-vote
/// for a newer term is not bound by the voter's own pre-candidacy), so both
/// campaign in term 2 and split the vote. The next round resolves it: n2's pre-vote for term 3 is granted by
/// the candidate n3 without disturbing it, and n2 wins term 3.
#[test]
fn with_pre_vote_a_split_vote_is_resolved_in_the_next_round() {
    let mut cluster = Cluster::new(3, with_pre_vote);
    elect(&mut cluster, 1);
    cluster.isolate(n(1));
    cluster.campaign(n(2)).unwrap();
    cluster.campaign(n(3)).unwrap();
    assert_eq!(
        settle(&mut cluster),
        [
            "n2->n3 PreVote{t2, last 1@1}",
            "n3->n2 PreVote{t2, last 1@1}",
            "n3->n2 PreVoteResp{t2, granted}",
            "n2->n3 PreVoteResp{t2, granted}",
            "n2->n3 RequestVote{t2, last 1@1}",
            "n3->n2 RequestVote{t2, last 1@1}",
            "n3->n2 Vote{t2, rejected}",
            "n2->n3 Vote{t2, rejected}"
        ]
    );
    assert_eq!(
        roles(&cluster)[1..],
        [
            (Role::Candidate, Term(2), None),
            (Role::Candidate, Term(2), None)
        ]
    );
    assert_eq!(
        elect(&mut cluster, 2)[..4],
        [
            "n2->n3 PreVote{t3, last 1@1}",
            "n3->n2 PreVoteResp{t3, granted}",
            "n2->n3 RequestVote{t3, last 1@1}",
            "n3->n2 Vote{t3, granted}"
        ]
    );
    assert_eq!(
        roles(&cluster)[1..],
        [
            (Role::Leader, Term(3), Some(n(2))),
            (Role::Follower, Term(3), Some(n(2)))
        ]
    );
    assert_safe(&cluster);
}

/// After etcd's `TestNodeWithSmallerTermCanCompleteElection`: n3 was cut off
/// from the start and is a pre-candidate still in term 0, while n2 took over
/// from n1 in term 2. When n3 is back and n2 is gone, n3's pre-vote is stale
/// at n1; n1's refusal carries term 2 and brings n3 up to it, so that n3
/// grants n1's pre-vote and vote for term 3 and the cluster has a leader.
#[test]
fn a_pre_candidate_behind_every_voters_term_catches_up_and_the_election_completes() {
    let mut cluster = Cluster::new(3, with_pre_vote);
    cluster.cut(n(1), n(3));
    cluster.cut(n(2), n(3));
    elect(&mut cluster, 1);
    elect(&mut cluster, 3);
    elect(&mut cluster, 2);
    assert_eq!(
        roles(&cluster),
        [
            (Role::Follower, Term(2), Some(n(2))),
            (Role::Leader, Term(2), Some(n(2))),
            (Role::PreCandidate, Term(0), None)
        ]
    );
    cluster.recover();
    cluster.isolate(n(2));
    assert_eq!(
        elect(&mut cluster, 3),
        [
            "n3->n1 PreVote{t1, last 0@0}",
            "n1->n3 PreVoteResp{t2, rejected}"
        ]
    );
    assert_eq!(
        role_term_leader(cluster.node(n(3))),
        (Role::Follower, Term(2), None)
    );
    assert_eq!(
        elect(&mut cluster, 1)[..4],
        [
            "n1->n3 PreVote{t3, last 2@2}",
            "n3->n1 PreVoteResp{t3, granted}",
            "n1->n3 RequestVote{t3, last 2@2}",
            "n3->n1 Vote{t3, granted}"
        ]
    );
    assert_eq!(
        role_term_leader(cluster.node(n(1))),
        (Role::Leader, Term(3), Some(n(1)))
    );
    assert_safe(&cluster);
}

/// After etcd's `TestLeaderElectionOverwriteNewerLogsPreVote`: n1 led term 1
/// and gave `1@1` to n2 only; n3 won term 2 and wrote `1@2` alone; n4 and n5
/// voted for n3. n1's first pre-vote asks for term 2, which n3 refuses (its
/// log is newer) with term 2: n1 moves to term 2 as a follower. Its second
/// pre-vote, for term 3, is not bound by anyone's term-2 vote; n1 wins term
/// 3 with n2, n4 and n5, and its entries replace n3's newer, uncommitted
/// `1@2`.
#[test]
fn a_pre_vote_refusal_pushes_the_term_forward_then_older_entries_overwrite_newer_uncommitted_ones()
{
    let storages = vec![
        storage(hard(1, None, 0), "1@1"),
        storage(hard(1, None, 0), "1@1"),
        storage(hard(2, None, 0), "1@2"),
        storage(hard(2, Some(3), 0), ""),
        storage(hard(2, Some(3), 0), ""),
    ];
    let mut cluster = Cluster::with_storage(storages, with_pre_vote).unwrap();
    assert_eq!(
        elect(&mut cluster, 1),
        [
            "n1->n2 PreVote{t2, last 1@1}",
            "n1->n3 PreVote{t2, last 1@1}",
            "n1->n4 PreVote{t2, last 1@1}",
            "n1->n5 PreVote{t2, last 1@1}",
            "n2->n1 PreVoteResp{t2, granted}",
            "n3->n1 PreVoteResp{t2, rejected}",
            "n4->n1 PreVoteResp{t2, rejected}",
            "n5->n1 PreVoteResp{t2, rejected}"
        ]
    );
    assert_eq!(
        role_term_leader(cluster.node(n(1))),
        (Role::Follower, Term(2), None)
    );
    elect(&mut cluster, 1);
    assert_eq!(
        role_term_leader(cluster.node(n(1))),
        (Role::Leader, Term(3), Some(n(1)))
    );
    beat(&mut cluster, 1);
    assert_eq!(logs(&cluster), vec!["1@1 2@3"; 5]);
    assert_safe(&cluster);
}

/// After etcd's `newPreVoteMigrationCluster`: a rolling upgrade turns
/// pre-vote on. n1 (leader of term 1) and n2 run with it; n3 does not yet,
/// and while cut off it campaigned twice, to term 3, missing an entry. Then
/// n3 restarts with pre-vote on (its turn in the upgrade) and the network
/// heals: n3 is a follower of term 3 with a shorter log than the others.
fn pre_vote_migration_cluster() -> Cluster {
    let mut cluster = Cluster::new(3, |cfg| cfg.pre_vote = cfg.id != NodeId(3));
    elect(&mut cluster, 1);
    cluster.isolate(n(3));
    cluster.propose(n(1), "some data".into()).unwrap();
    settle(&mut cluster);
    elect(&mut cluster, 3);
    elect(&mut cluster, 3);
    assert_eq!(
        roles(&cluster),
        [
            (Role::Leader, Term(1), Some(n(1))),
            (Role::Follower, Term(1), Some(n(1))),
            (Role::Candidate, Term(3), None)
        ]
    );
    cluster.crash(n(3));
    let mut cfg = cluster.node(n(3)).config().clone();
    cfg.pre_vote = true;
    let storage = cluster.node(n(3)).storage().clone();
    cluster.slot_mut(n(3)).node = block_on(Node::new(cfg, storage)).unwrap();
    cluster.restart(n(3)).unwrap();
    cluster.recover();
    assert_eq!(
        role_term_leader(cluster.node(n(3))),
        (Role::Follower, Term(3), None)
    );
    cluster
}

/// After etcd's `TestPreVoteMigrationWithFreeStuckPreCandidate`: n3, ahead in
/// term but behind in log, is refused by both others (in their older term,
/// which it drops), and stays a pre-candidate, again and again. The leader's
/// next heartbeat frees it: n3 answers the stale heartbeat with its term, n1
/// steps down into term 3, and a new election completes.
#[test]
fn after_a_pre_vote_migration_a_stuck_pre_candidate_is_freed_by_the_leaders_heartbeat() {
    let mut cluster = pre_vote_migration_cluster();
    for round in 0..2 {
        assert_eq!(
            elect(&mut cluster, 3),
            [
                "n3->n1 PreVote{t4, last 1@1}",
                "n3->n2 PreVote{t4, last 1@1}",
                "n1->n3 PreVoteResp{t1, rejected}",
                "n2->n3 PreVoteResp{t1, rejected}"
            ],
            "round {round}"
        );
        assert_eq!(
            roles(&cluster),
            [
                (Role::Leader, Term(1), Some(n(1))),
                (Role::Follower, Term(1), Some(n(1))),
                (Role::PreCandidate, Term(3), None)
            ],
            "round {round}"
        );
    }
    assert_eq!(
        beat(&mut cluster, 1),
        [
            "n1->n2 Heartbeat{t1, commit 2}",
            "n1->n3 Heartbeat{t1, commit 1}",
            "n2->n1 HeartbeatOk{t1}",
            "n3->n1 HeartbeatOk{t3}"
        ]
    );
    assert_eq!(
        role_term_leader(cluster.node(n(1))),
        (Role::Follower, Term(3), None)
    );
    elect(&mut cluster, 1);
    assert_eq!(
        roles(&cluster),
        [
            (Role::Leader, Term(4), Some(n(1))),
            (Role::Follower, Term(4), Some(n(1))),
            (Role::Follower, Term(4), Some(n(1)))
        ]
    );
    beat(&mut cluster, 1);
    assert_eq!(logs(&cluster), vec!["1@1 2@1 3@4"; 3]);
    assert_safe(&cluster);
}

/// After etcd's `TestPreVoteMigrationCanCompleteElection`: with the leader n1
/// gone, n2 (longer log, term 1) and n3 (shorter log, term 3) both time out.
/// n3's pre-vote is refused; n2's is stale at n3 and refused with term 3,
/// which n2 adopts. In the next round n2's pre-vote for term 4 is granted by
/// n3, and n2 wins term 4.
#[test]
fn after_a_pre_vote_migration_an_election_completes_without_the_old_leader() {
    let mut cluster = pre_vote_migration_cluster();
    cluster.isolate(n(1));
    assert_eq!(
        elect(&mut cluster, 3),
        [
            "n3->n2 PreVote{t4, last 1@1}",
            "n2->n3 PreVoteResp{t1, rejected}"
        ]
    );
    assert_eq!(
        elect(&mut cluster, 2),
        [
            "n2->n3 PreVote{t2, last 2@1}",
            "n3->n2 PreVoteResp{t3, rejected}"
        ]
    );
    assert_eq!(
        roles(&cluster)[1..],
        [
            (Role::Follower, Term(3), None),
            (Role::PreCandidate, Term(3), None)
        ]
    );
    assert_eq!(
        elect(&mut cluster, 3),
        [
            "n3->n2 PreVote{t4, last 1@1}",
            "n2->n3 PreVoteResp{t3, rejected}"
        ]
    );
    assert_eq!(
        elect(&mut cluster, 2)[..4],
        [
            "n2->n3 PreVote{t4, last 2@1}",
            "n3->n2 PreVoteResp{t4, granted}",
            "n2->n3 RequestVote{t4, last 2@1}",
            "n3->n2 Vote{t4, granted}"
        ]
    );
    assert_eq!(
        roles(&cluster)[1..],
        [
            (Role::Leader, Term(4), Some(n(2))),
            (Role::Follower, Term(4), Some(n(2)))
        ]
    );
    assert_safe(&cluster);
}
