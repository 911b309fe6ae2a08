//! Pre-vote (thesis §9.6) and check-quorum with leader stickiness (thesis
//! §6.2) as black-box scenarios, through the public `Node` API and the shared
//! cluster driver.
//!
//! After the behaviours etcd's `raft_test.go` checks for these features,
//! written anew for ruft. Where ruft's documented behaviour differs from
//! etcd's, the scenario says so. Not ported: scenarios that need membership
//! changes or learners (etcd's non-promotable voter), which ruft does not
//! have yet.

mod paper_common;

use futures::executor::block_on;
use paper_common::*;
use ruft::{
    Config, DropReason, Error, MemStorage, Node, NodeId, Rejection, Role, StepOutcome, Term,
};
use ruft_models::driver::{Cluster, DriveError};

// ---------------------------------------------------------------- helpers

fn with_pre_vote(cfg: &mut Config) {
    cfg.pre_vote = true;
}

fn with_check_quorum(cfg: &mut Config) {
    cfg.check_quorum = true;
}

fn with_both(cfg: &mut Config) {
    cfg.pre_vote = true;
    cfg.check_quorum = true;
}

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

/// Ticks every running node once, then delivers until the network is quiet.
fn tick_round(cluster: &mut Cluster) {
    cluster.tick_all().unwrap();
    settle(cluster);
}

/// Runs `tick_round` until `done` holds; returns how many rounds that took.
fn rounds_until(cluster: &mut Cluster, rounds_max: u64, done: impl Fn(&Cluster) -> bool) -> u64 {
    for round in 1..=rounds_max {
        tick_round(cluster);
        if done(cluster) {
            return round;
        }
    }
    panic!("not done within {rounds_max} rounds");
}

/// The leader every running node follows, if they all agree on one.
fn agreed_leader(cluster: &Cluster) -> Option<NodeId> {
    let up: Vec<NodeId> = cluster.ids().filter(|id| cluster.slot(*id).up).collect();
    let leader = cluster.node(up[0]).status().leader?;
    let all_agree = up
        .iter()
        .all(|&id| cluster.node(id).status().leader == Some(leader));
    (all_agree && cluster.node(leader).status().role == Role::Leader).then_some(leader)
}

/// Every running node has applied the entry at `index`.
fn applied_everywhere(cluster: &Cluster, index: ruft::Index) -> bool {
    cluster
        .ids()
        .filter(|id| cluster.slot(*id).up)
        .all(|id| cluster.node(id).status().applied >= index)
}

/// Terms of every node, in id order.
fn terms(cluster: &Cluster) -> Vec<u64> {
    cluster
        .ids()
        .map(|id| cluster.node(id).status().term.0)
        .collect()
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
        assert_safe_with_pre_vote(&cluster);
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
    assert_safe_with_pre_vote(&cluster);
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
    assert_safe_with_pre_vote(&cluster);
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
    assert_safe_with_pre_vote(&cluster);
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
    assert_safe_with_pre_vote(&cluster);
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
    assert_safe_with_pre_vote(&cluster);
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
    assert_safe_with_pre_vote(&cluster);
}

// ---------------------------------------------------------------- check-quorum

/// Node n1 of {n1, n2, n3} with check-quorum on, leader of term 1 (voted in
/// by n2, from whom it has heard nothing else); its Ready carried out.
fn check_quorum_leader() -> Node<MemStorage> {
    let mut cfg = config(1, 3);
    cfg.check_quorum = true;
    let mut n1 = node_on(cfg, hard(0, None, 0), "");
    block_on(n1.campaign()).unwrap();
    step(&mut n1, vote(2, 1, 1, true));
    run_ready(&mut n1);
    assert_eq!(n1.status().role, Role::Leader);
    n1
}

/// After etcd's `TestLeaderStepdownWhenQuorumLost`, §6.2: with check-quorum,
/// a leader that hears from no quorum (itself included) during an election
/// period, `election_tick` ticks, steps down at its end: it becomes a
/// follower of no leader in the same term, and refuses proposals.
#[test]
fn a_leader_that_hears_no_quorum_in_an_election_period_steps_down_at_its_end() {
    let mut n1 = check_quorum_leader();
    for _ in 1..10 {
        tick(&mut n1);
    }
    assert_eq!(n1.status().role, Role::Leader, "not before the period ends");
    tick(&mut n1);
    assert_eq!(role_term_leader(&n1), (Role::Follower, Term(1), None));
    assert_eq!(
        block_on(n1.propose("x".into())),
        Err(Error::NotLeader { leader: None })
    );
}

/// After etcd's `TestLeaderStepdownWhenQuorumActive`, §6.2: a leader that
/// hears from one follower (a quorum of three with itself) in every election
/// period stays leader, period after period.
#[test]
fn a_leader_that_hears_a_quorum_in_every_election_period_stays_leader() {
    let mut n1 = check_quorum_leader();
    for _ in 0..5 * 10 {
        step(&mut n1, heartbeat_ok(2, 1, 1));
        tick(&mut n1);
        run_ready(&mut n1);
    }
    assert_eq!(
        role_term_leader(&n1),
        (Role::Leader, Term(1), Some(NodeId(1)))
    );
}

/// ruft: a leader's append or heartbeat that reaches a node of a newer term
/// is dropped, but with pre-vote or check-quorum on it is first answered
/// with a heartbeat acknowledgement carrying the newer term, so that the old
/// leader learns it is behind (vote requests, which would tell it, may be
/// ignored for leader stickiness). With neither feature it is dropped
/// silently, as in the paper.
#[test]
fn a_stale_append_or_heartbeat_is_answered_with_the_newer_term_only_with_pre_vote_or_check_quorum()
{
    for (pre_vote, check_quorum) in [(false, false), (true, false), (false, true), (true, true)] {
        for stale in [heartbeat(2, 2, 1, 0), append(2, 2, 1, "0@0", "", 0)] {
            let mut cfg = config(1, 3);
            cfg.pre_vote = pre_vote;
            cfg.check_quorum = check_quorum;
            let mut n1 = node_on(cfg, hard(3, None, 0), "");
            assert_eq!(
                step(&mut n1, stale.clone()),
                StepOutcome::Dropped(DropReason::StaleTerm {
                    term: Term(2),
                    current: Term(3)
                })
            );
            let want: &[&str] = if pre_vote || check_quorum {
                &["n1->n2 HeartbeatOk{t3}"]
            } else {
                &[]
            };
            assert_eq!(
                sends(&mut n1),
                want,
                "pre-vote {pre_vote}, check-quorum {check_quorum}: {stale}"
            );
            assert_eq!(role_term_leader(&n1), (Role::Follower, Term(3), None));
        }
    }
}

/// After etcd's `TestLeaderSupersedingWithCheckQuorum` and
/// `TestLeaderElectionWithCheckQuorum`, §6.2 (leader stickiness): with
/// check-quorum, a node that heard from its leader within `election_tick`
/// ignores vote requests of newer terms, and so does the leader itself. n3's
/// election in term 2 gets no answer at all. Once n2 has heard nothing for
/// `election_tick` ticks, it votes, and n3 wins term 3; its first append
/// deposes n1.
#[test]
fn with_check_quorum_nodes_that_hear_their_leader_ignore_a_candidate_until_the_lease_ends() {
    let mut cluster = Cluster::new(3, with_check_quorum);
    elect(&mut cluster, 1);
    assert_eq!(cluster.node(n(2)).status().lease_leader, Some(n(1)));
    cluster.campaign(n(3)).unwrap();
    let lease = |leader| Ok(StepOutcome::Dropped(DropReason::LeaderLease { leader }));
    assert_eq!(
        show(cluster.network()),
        [
            "n3->n1 RequestVote{t2, last 1@1}",
            "n3->n2 RequestVote{t2, last 1@1}"
        ]
    );
    assert_eq!(
        cluster.deliver(0),
        Some(lease(n(1))),
        "the leader's own lease"
    );
    assert_eq!(cluster.deliver(0), Some(lease(n(1))));
    assert!(cluster.network().is_empty(), "ignored, not refused");
    assert_eq!(
        roles(&cluster),
        [
            (Role::Leader, Term(1), Some(n(1))),
            (Role::Follower, Term(1), Some(n(1))),
            (Role::Candidate, Term(2), None)
        ]
    );
    for _ in 0..10 {
        cluster.tick(n(2)).unwrap();
    }
    let s = cluster.node(n(2)).status();
    assert_eq!((s.role, s.lease_leader), (Role::Follower, None));
    assert_eq!(
        elect(&mut cluster, 3)[..4],
        [
            "n3->n1 RequestVote{t3, last 1@1}",
            "n3->n2 RequestVote{t3, last 1@1}",
            "n2->n3 Vote{t3, granted}",
            "n3->n1 Append{t3, prev 1@1, entries [2@3], commit 0}"
        ]
    );
    assert_eq!(
        roles(&cluster),
        [
            (Role::Follower, Term(3), Some(n(3))),
            (Role::Follower, Term(3), Some(n(3))),
            (Role::Leader, Term(3), Some(n(3)))
        ]
    );
    assert_safe(&cluster);
}

/// After etcd's `TestFreeStuckCandidateWithCheckQuorum`: n1 is cut off and
/// n3 campaigns twice; n2 still hears n1 (it is not ticked) and ignores it,
/// so n3 is stuck as a candidate in term 3. Healed, n1's heartbeat is stale
/// at n3, which answers with its term: the leader steps down into term 3,
/// its lease ends with it, and n3's next election succeeds with n1's vote.
#[test]
fn a_candidate_stuck_by_leader_stickiness_is_freed_by_its_answer_to_a_stale_heartbeat() {
    let mut cluster = Cluster::new(3, with_check_quorum);
    elect(&mut cluster, 1);
    cluster.isolate(n(1));
    assert_eq!(elect(&mut cluster, 3), ["n3->n2 RequestVote{t2, last 1@1}"]);
    assert_eq!(elect(&mut cluster, 3), ["n3->n2 RequestVote{t3, last 1@1}"]);
    assert_eq!(
        roles(&cluster),
        [
            (Role::Leader, Term(1), Some(n(1))),
            (Role::Follower, Term(1), Some(n(1))),
            (Role::Candidate, Term(3), None)
        ]
    );
    cluster.recover();
    assert_eq!(
        beat(&mut cluster, 1),
        [
            "n1->n2 Heartbeat{t1, commit 1}",
            "n1->n3 Heartbeat{t1, commit 1}",
            "n2->n1 HeartbeatOk{t1}",
            "n3->n1 HeartbeatOk{t3}"
        ]
    );
    assert_eq!(
        role_term_leader(cluster.node(n(1))),
        (Role::Follower, Term(3), None)
    );
    assert_eq!(
        elect(&mut cluster, 3)[..4],
        [
            "n3->n1 RequestVote{t4, last 1@1}",
            "n3->n2 RequestVote{t4, last 1@1}",
            "n1->n3 Vote{t4, granted}",
            "n3->n1 Append{t4, prev 1@1, entries [2@4], commit 0}"
        ]
    );
    assert_eq!(
        roles(&cluster),
        [
            (Role::Follower, Term(4), Some(n(3))),
            (Role::Follower, Term(4), Some(n(3))),
            (Role::Leader, Term(4), Some(n(3)))
        ]
    );
    assert_safe(&cluster);
}

/// After etcd's `TestPreVoteWithCheckQuorum`: with both features, the leader
/// n1 is cut off while n2 and n3 still hear it. n3's pre-vote is ignored by
/// n2 (its lease); but n3, a pre-candidate, follows no leader and grants
/// n2's pre-vote and vote, so n2 wins term 2.
#[test]
fn with_check_quorum_a_pre_vote_is_ignored_by_a_follower_that_hears_its_leader() {
    let mut cluster = Cluster::new(3, with_both);
    elect(&mut cluster, 1);
    cluster.isolate(n(1));
    cluster.campaign(n(3)).unwrap();
    assert_eq!(show(cluster.network()), ["n3->n2 PreVote{t2, last 1@1}"]);
    assert_eq!(
        cluster.deliver(0),
        Some(Ok(StepOutcome::Dropped(DropReason::LeaderLease {
            leader: n(1)
        })))
    );
    assert!(cluster.network().is_empty(), "ignored, not refused");
    assert_eq!(
        role_term_leader(cluster.node(n(3))),
        (Role::PreCandidate, Term(1), None)
    );
    assert_eq!(
        elect(&mut cluster, 2)[..4],
        [
            "n2->n3 PreVote{t2, last 1@1}",
            "n3->n2 PreVoteResp{t2, granted}",
            "n2->n3 RequestVote{t2, last 1@1}",
            "n3->n2 Vote{t2, granted}"
        ]
    );
    assert_eq!(
        roles(&cluster)[1..],
        [
            (Role::Leader, Term(2), Some(n(2))),
            (Role::Follower, Term(2), Some(n(2)))
        ]
    );
    assert_safe_with_pre_vote(&cluster);
}

/// After etcd's `TestDisruptiveFollower`: with check-quorum but no pre-vote,
/// n3 hears nothing for its whole election timeout (the leader's heartbeats
/// are late) and campaigns in term 2. The late heartbeat reaches it before
/// its vote requests go anywhere: n3 answers it with term 2, and the leader
/// steps down. n3's vote request is ignored by n2 (lease) but granted by n1,
/// and n3 takes over: one late heartbeat cost a leader.
#[test]
fn without_pre_vote_a_follower_whose_timer_beat_a_late_heartbeat_deposes_the_leader() {
    let mut cluster = Cluster::new(3, with_check_quorum);
    elect(&mut cluster, 1);
    let timeout = cluster.node(n(3)).status().election_timeout;
    for _ in 0..timeout.0 {
        cluster.tick(n(3)).unwrap();
    }
    assert_eq!(
        role_term_leader(cluster.node(n(3))),
        (Role::Candidate, Term(2), None)
    );
    cluster.heartbeat(n(1)).unwrap();
    assert_eq!(
        deliver_first(&mut cluster, "n1->n3 Heartbeat"),
        "n1->n3 Heartbeat{t1, commit 1}"
    );
    assert_eq!(
        deliver_first(&mut cluster, "n3->n1 HeartbeatOk"),
        "n3->n1 HeartbeatOk{t2}"
    );
    assert_eq!(
        roles(&cluster),
        [
            (Role::Follower, Term(2), None),
            (Role::Follower, Term(1), Some(n(1))),
            (Role::Candidate, Term(2), None)
        ]
    );
    settle(&mut cluster);
    assert_eq!(
        role_term_leader(cluster.node(n(3))),
        (Role::Leader, Term(2), Some(n(3)))
    );
    assert_safe(&cluster);
}

/// After etcd's `TestDisruptiveFollowerPreVote`: the same late heartbeat,
/// with pre-vote on too, and n3 missed three entries while cut off. Its
/// timer makes it only a pre-candidate, still in term 1, so the late
/// heartbeat is of its own term: n3 simply follows n1 again and catches up.
/// Its pre-votes are ignored (n1 and n2 hear their leader) and n1 keeps
/// leading term 1.
#[test]
fn with_pre_vote_a_follower_whose_timer_beat_a_late_heartbeat_rejoins_without_deposing() {
    let mut cluster = Cluster::new(3, with_both);
    elect(&mut cluster, 1);
    cluster.isolate(n(3));
    for _ in 0..3 {
        cluster.propose(n(1), "somedata".into()).unwrap();
    }
    settle(&mut cluster);
    cluster.recover();
    let timeout = cluster.node(n(3)).status().election_timeout;
    for _ in 0..timeout.0 {
        cluster.tick(n(3)).unwrap();
    }
    assert_eq!(
        show(cluster.network()),
        [
            "n3->n1 PreVote{t2, last 1@1}",
            "n3->n2 PreVote{t2, last 1@1}"
        ]
    );
    cluster.heartbeat(n(1)).unwrap();
    deliver_first(&mut cluster, "n1->n3 Heartbeat");
    assert_eq!(
        role_term_leader(cluster.node(n(3))),
        (Role::Follower, Term(1), Some(n(1)))
    );
    settle(&mut cluster);
    beat(&mut cluster, 1);
    assert_eq!(
        roles(&cluster),
        [
            (Role::Leader, Term(1), Some(n(1))),
            (Role::Follower, Term(1), Some(n(1))),
            (Role::Follower, Term(1), Some(n(1)))
        ]
    );
    assert_eq!(logs(&cluster), vec!["1@1 2@1 3@1 4@1"; 3]);
    assert_eq!(commits(&cluster), [4; 3]);
    assert_safe_with_pre_vote(&cluster);
}

// ---------------------------------------------------------------- the cases, over time

/// Elects n1, lets three heartbeat rounds pass, then cuts n1 off from both
/// followers; every node keeps ticking. Returns the cluster.
fn leader_cut_off(configure: fn(&mut Config)) -> Cluster {
    let mut cluster = Cluster::new(3, configure);
    elect(&mut cluster, 1);
    for _ in 0..3 {
        tick_round(&mut cluster);
    }
    cluster.isolate(n(1));
    cluster
}

/// The motivating case, §6.2: with check-quorum, a leader cut off by
/// a partition steps down within two election timeouts (`2 * election_tick`
/// ticks; the period under way when it was cut off may still count the
/// answers it had, the next one cannot), and then refuses proposals with
/// `NotLeader` instead of taking commands it can never commit. Measured:
/// 17 ticks (cut off 3 ticks into its first period).
#[test]
fn a_cut_off_leader_with_check_quorum_steps_down_within_two_election_timeouts() {
    let mut cluster = leader_cut_off(with_check_quorum);
    let ticks = rounds_until(&mut cluster, 100, |c| {
        c.node(n(1)).status().role != Role::Leader
    });
    assert!(ticks <= 2 * 10, "stepped down after {ticks} ticks");
    assert_eq!(
        role_term_leader(cluster.node(n(1))),
        (Role::Follower, Term(1), None)
    );
    assert_eq!(
        cluster.propose(n(1), "lost".into()),
        Err(DriveError::Node(Error::NotLeader { leader: None }))
    );
    assert_eq!(log_of(cluster.node(n(1))), "1@1", "nothing was appended");
    assert_safe(&cluster);
}

/// The bound again, when the cut-off leader is also asked to hand
/// over (to n2, which it cannot reach) at the end of each election period:
/// it must still step down within two election timeouts of being cut off.
/// It does not: starting a transfer restarts the leader's election period,
/// which is also its check-quorum period, without forgetting who answered
/// in it, so answers from before the cut keep it in office for a stretched
/// period, and the next period is stretched too. Measured: 38 ticks.
#[test]
#[ignore = "library bug: on_transfer_leader (src/context/leadership.rs:94) resets \
            election_elapsed, the leader's check-quorum period; a cut-off leader \
            asked to transfer near the end of each period steps down after 38 \
            ticks, not within 2 * election_tick = 20"]
fn a_cut_off_leader_steps_down_within_two_election_timeouts_even_when_asked_to_transfer() {
    let mut cluster = Cluster::new(3, with_check_quorum);
    elect(&mut cluster, 1);
    cluster.isolate(n(1));
    let mut ticks = 0;
    while cluster.node(n(1)).status().role == Role::Leader && ticks < 100 {
        let s = cluster.node(n(1)).status();
        if s.election_elapsed.0 == 9 && s.transfer.is_none() {
            assert_eq!(
                cluster.transfer_leader(n(1), n(2)),
                Ok(StepOutcome::Handled)
            );
        }
        tick_round(&mut cluster);
        ticks += 1;
    }
    assert!(ticks <= 2 * 10, "stepped down after {ticks} ticks");
}

/// The same partition without check-quorum: the cut-off leader never learns
/// it lost its majority. Ten election timeouts later it still leads term 1
/// and accepts proposals that cannot commit, while n2 and n3 have elected a
/// leader of their own in a later term.
#[test]
fn a_cut_off_leader_without_check_quorum_keeps_accepting_proposals_it_cannot_commit() {
    let mut cluster = leader_cut_off(|_| {});
    for _ in 0..10 * 10 {
        tick_round(&mut cluster);
    }
    assert_eq!(
        role_term_leader(cluster.node(n(1))),
        (Role::Leader, Term(1), Some(n(1)))
    );
    let key = cluster.propose(n(1), "lost".into()).unwrap();
    assert_eq!(key.to_string(), "2@1");
    for _ in 0..10 {
        tick_round(&mut cluster);
    }
    assert_eq!(
        cluster.node(n(1)).status().committed.0,
        1,
        "2@1 never commits"
    );
    let others = &roles(&cluster)[1..];
    assert!(
        others
            .iter()
            .any(|(role, term, _)| *role == Role::Leader && *term > Term(1)),
        "n2 and n3 elected a leader of a later term: {others:?}"
    );
    assert_safe(&cluster);
}

/// What happened over one spell of a flaky link to n3: n3's term and role
/// and how often its election timer fired while cut off, then the leader's
/// view once the link has been back for `2 * election_tick` ticks.
#[derive(Debug)]
struct Spell {
    cut_off_term: u64,
    cut_off_role: Role,
    timeouts: usize,
    after: Vec<(Role, Term, Option<NodeId>)>,
}

/// n1 leads {n1, n2, n3}; three times, n3's link goes down for three
/// election timeouts (while n1 commits an entry without it), then comes
/// back for two. Every node ticks throughout.
fn flaky_link(configure: fn(&mut Config)) -> (Cluster, Vec<Spell>) {
    let mut cluster = Cluster::new(3, configure);
    elect(&mut cluster, 1);
    let mut spells = Vec::new();
    for _ in 0..3 {
        cluster.isolate(n(3));
        if cluster.node(n(1)).status().role == Role::Leader {
            cluster.propose(n(1), "while n3 is away".into()).unwrap();
        }
        let mut timeouts = 0;
        for _ in 0..3 * 10 {
            tick_round(&mut cluster);
            if cluster.node(n(3)).status().election_elapsed.0 == 0 {
                timeouts += 1; // cut off, only its own timer resets it
            }
        }
        let s = cluster.node(n(3)).status();
        cluster.recover();
        for _ in 0..2 * 10 {
            tick_round(&mut cluster);
        }
        spells.push(Spell {
            cut_off_term: s.term.0,
            cut_off_role: s.role,
            timeouts,
            after: roles(&cluster),
        });
    }
    (cluster, spells)
}

/// §9.6, the disruption pre-vote exists to stop: a node behind a flaky link
/// times out again and again while cut off, but as a pre-candidate it never
/// leaves term 1; each time the link is back it follows n1 again (its
/// pre-votes are refused: its log is behind), and n1 leads term 1
/// throughout. Alike with check-quorum on or off.
#[test]
fn with_pre_vote_a_node_behind_a_flaky_link_never_disrupts_the_leader() {
    for configure in [with_pre_vote as fn(&mut Config), with_both] {
        let (cluster, spells) = flaky_link(configure);
        for spell in &spells {
            assert_eq!(
                (spell.cut_off_term, spell.cut_off_role),
                (1, Role::PreCandidate),
                "{spell:?}"
            );
            assert!(spell.timeouts >= 2, "{spell:?}");
            assert_eq!(
                spell.after,
                [
                    (Role::Leader, Term(1), Some(n(1))),
                    (Role::Follower, Term(1), Some(n(1))),
                    (Role::Follower, Term(1), Some(n(1)))
                ],
                "{spell:?}"
            );
        }
        assert_eq!(logs(&cluster), vec!["1@1 2@1 3@1 4@1"; 3]);
        assert_eq!(commits(&cluster), [4; 3]);
        assert_safe_with_pre_vote(&cluster);
    }
}

/// The same flaky link without pre-vote: n3 campaigns at each timeout while
/// cut off, raising its term, and when the link is back its newer term
/// deposes n1 (through its vote requests, or with check-quorum through its
/// answer to n1's heartbeat): the cluster's term moves on the first spell.
#[test]
fn without_pre_vote_a_node_behind_a_flaky_link_disrupts_the_leader() {
    for configure in [(|_| {}) as fn(&mut Config), with_check_quorum] {
        let (cluster, spells) = flaky_link(configure);
        let first = &spells[0];
        assert_eq!(first.cut_off_role, Role::Candidate, "{first:?}");
        assert!(first.timeouts >= 2, "{first:?}");
        assert_eq!(
            first.cut_off_term,
            1 + first.timeouts as u64,
            "each timeout entered a new term: {first:?}"
        );
        assert!(
            first.after[0] != (Role::Leader, Term(1), Some(n(1))),
            "n1 lost term 1: {first:?}"
        );
        assert!(
            first.after.iter().all(|(_, term, _)| *term > Term(1)),
            "{first:?}"
        );
        assert_safe(&cluster);
    }
}

// ---------------------------------------------------------------- liveness after a partition heals

/// Ticks until every node follows one leader, then proposes on it and ticks
/// until every node applied the proposal; returns both tick counts.
fn ticks_to_leader_and_commit(cluster: &mut Cluster) -> (u64, u64) {
    let elected = rounds_until(cluster, 200, |c| agreed_leader(c).is_some());
    let leader = agreed_leader(cluster).unwrap();
    let key = cluster.propose(leader, "after the heal".into()).unwrap();
    let committed = rounds_until(cluster, 200, |c| applied_everywhere(c, key.index));
    (elected, committed)
}

/// Liveness, §9.6 and §6.2 together: five nodes, the leader n1 and n2 are
/// cut off from n3, n4, n5 for five election timeouts. The majority elects
/// a leader of term 2; n1 steps down; n1 and n2, pre-candidates, stay in
/// term 1 and keep an entry n1 took that cannot commit. After the heal,
/// every node follows one leader and a new proposal is applied everywhere,
/// within a few ticks. Measured (every node ticked once per tick, the
/// network settled after each): 1 tick to one leader (n4's next heartbeat),
/// 2 more to apply; asserted with a margin of 2 ticks each.
#[test]
fn after_a_partition_heals_one_leader_is_followed_and_a_proposal_commits_within_the_bound() {
    let mut cluster = Cluster::new(5, with_both);
    elect(&mut cluster, 1);
    cluster.partition([n(1), n(2)].into());
    cluster.propose(n(1), "minority".into()).unwrap();
    for _ in 0..5 * 10 {
        tick_round(&mut cluster);
    }
    assert_eq!(
        roles(&cluster),
        [
            (Role::PreCandidate, Term(1), None),
            (Role::PreCandidate, Term(1), None),
            (Role::Follower, Term(2), Some(n(4))),
            (Role::Leader, Term(2), Some(n(4))),
            (Role::Follower, Term(2), Some(n(4)))
        ]
    );
    cluster.heal();
    let (elected, committed) = ticks_to_leader_and_commit(&mut cluster);
    assert!(elected <= 1 + 2, "one leader after {elected} ticks");
    assert!(
        committed <= 2 + 2,
        "applied everywhere {committed} ticks later"
    );
    assert_eq!(agreed_leader(&cluster), Some(n(4)));
    assert_eq!(
        logs(&cluster),
        vec!["1@1 2@2 3@2"; 5],
        "n1's minority entry 2@1 is gone"
    );
    assert_safe_with_pre_vote(&cluster);
}

/// Liveness when no side has a majority: every link of {n1, n2, n3} is cut
/// for five election timeouts. n1 steps down (check-quorum); everyone times
/// out again and again as a pre-candidate, and no term moves. After the
/// heal, the first node whose timer fires wins the pre-vote and the
/// election (in term 2, the first term anyone enters since the cut), and a
/// new proposal is applied everywhere. Measured: 10 ticks to one leader
/// (no timer runs longer than `2 * election_tick` = 20), 2 more to apply;
/// asserted with a margin of 2 ticks each.
#[test]
fn after_a_total_partition_heals_a_leader_is_elected_and_a_proposal_commits_within_the_bound() {
    let mut cluster = Cluster::new(3, with_both);
    elect(&mut cluster, 1);
    for id in 1..=3 {
        cluster.isolate(n(id));
    }
    for _ in 0..5 * 10 {
        tick_round(&mut cluster);
    }
    assert_eq!(terms(&cluster), [1, 1, 1], "pre-vote keeps every term");
    assert!(roles(&cluster)
        .iter()
        .all(|(role, _, _)| *role == Role::PreCandidate));
    cluster.recover();
    let (elected, committed) = ticks_to_leader_and_commit(&mut cluster);
    assert!(elected <= 10 + 2, "one leader after {elected} ticks");
    assert!(
        committed <= 2 + 2,
        "applied everywhere {committed} ticks later"
    );
    assert_eq!(terms(&cluster), [2, 2, 2]);
    assert_safe_with_pre_vote(&cluster);
}
