//! Raft paper §5.1 and §5.2 as black-box scenarios: terms, roles, timers and
//! leader election, through the public `Node` API and the shared cluster driver.
//!
//! After etcd's `raft_paper_test.go`, written anew for ruft. Messages are
//! compared through their compact display; single-node scenarios play the
//! application by hand (`run_ready`), multi-node ones use the driver.

mod paper_common;

use futures::executor::block_on;
use paper_common::*;
use ruft::{
    election_timeout, DropReason, Error, MemStorage, Message, MessageVariant, Node, NodeId,
    Rejection, Role, StepOutcome, Term, Tick,
};
use ruft_models::driver::Cluster;
use std::collections::BTreeSet;

// ---------------------------------------------------------------- helpers

/// Node n1 of {n1, n2, n3} in `role` at `term` (>= 1), its Ready carried out.
fn in_role(role: Role, term: u64) -> Node<ruft::MemStorage> {
    let before = if role == Role::Follower {
        term
    } else {
        term - 1
    };
    let mut node = node_on(config(1, 3), hard(before, None, 0), "");
    if role != Role::Follower {
        block_on(node.campaign()).unwrap();
    }
    if role == Role::Leader {
        step(&mut node, vote(2, term, 1, true));
    }
    run_ready(&mut node);
    assert_eq!((node.status().role, node.status().term), (role, Term(term)));
    node
}

/// One message of every remote kind, from n2 to n1 in `term`.
fn every_kind_from_n2(term: u64) -> Vec<Message> {
    vec![
        request_vote(2, term, 1, "0@0"),
        vote(2, term, 1, true),
        append(2, term, 1, "0@0", "", 0),
        append_ok(2, term, 1, 0),
        heartbeat(2, term, 1, 0),
        heartbeat_ok(2, term, 1),
    ]
}

/// Whether a message of this kind names its sender as the leader of its term.
fn from_leader(msg: &Message) -> bool {
    matches!(
        msg.variant,
        MessageVariant::AppendEntries { .. } | MessageVariant::Heartbeat { .. }
    )
}

/// Ticks `node` until its term moves; returns how many ticks that took.
/// The election's Ready is left for the caller.
fn ticks_to_next_election(node: &mut Node<ruft::MemStorage>) -> u64 {
    let term = node.status().term;
    for ticks in 1..=1_000 {
        tick(node);
        if node.status().term != term {
            return ticks;
        }
    }
    panic!("no election within 1000 ticks");
}

/// Term updates from every message kind for a node in `role` (§5.1).
fn assert_adopts_newer_terms(role: Role) {
    for msg in every_kind_from_n2(2) {
        let mut node = in_role(role, 1);
        let leader = from_leader(&msg).then_some(NodeId(2));
        step(&mut node, msg.clone());
        assert_eq!(
            role_term_leader(&node),
            (Role::Follower, Term(2), leader),
            "{role:?} stepping {msg}"
        );
    }
}

// ---------------------------------------------------------------- §5.1 terms

/// §5.2: every server begins life as a follower, with no leader known: a
/// brand-new one, and one restarted from storage, even storage it wrote
/// while it led.
#[test]
fn a_node_starts_as_a_follower() {
    let s = fresh(1, 3).status();
    assert_eq!(
        (s.role, s.term, s.leader, s.voted_node),
        (Role::Follower, Term(0), None, None)
    );
    let restarted = node_on(config(1, 3), hard(4, Some(1), 1), "1@4").status();
    assert_eq!(
        (restarted.role, restarted.term, restarted.leader),
        (Role::Follower, Term(4), None)
    );
}

/// §5.1: a follower that sees a larger term in any message adopts it; an
/// append or heartbeat also names the term's leader.
#[test]
fn a_follower_adopts_the_newer_term_of_any_message() {
    assert_adopts_newer_terms(Role::Follower);
}

/// §5.1: a candidate that sees a larger term in any message adopts it and
/// reverts to follower.
#[test]
fn a_candidate_adopts_the_newer_term_of_any_message_and_becomes_follower() {
    assert_adopts_newer_terms(Role::Candidate);
}

/// §5.1: a leader that sees a larger term in any message adopts it and steps
/// down to follower.
#[test]
fn a_leader_adopts_the_newer_term_of_any_message_and_steps_down() {
    assert_adopts_newer_terms(Role::Leader);
}

/// §5.1: a request (or reply) carrying a stale term is ignored: in every role
/// it is dropped as stale, nothing is sent and the node's state is unchanged.
#[test]
fn a_message_from_an_older_term_is_ignored_in_every_role() {
    for role in [Role::Follower, Role::Candidate, Role::Leader] {
        for msg in every_kind_from_n2(1) {
            let mut node = in_role(role, 2);
            let before = node.status();
            let stale = DropReason::StaleTerm {
                term: Term(1),
                current: Term(2),
            };
            assert_eq!(
                step(&mut node, msg.clone()),
                StepOutcome::Dropped(stale),
                "{role:?} {msg}"
            );
            assert_eq!(node.status(), before, "{role:?} {msg}");
            assert!(
                !node.has_ready(),
                "{role:?} {msg}: nothing to send or persist"
            );
        }
    }
}

// ---------------------------------------------------------------- §5.2 heartbeats

/// §5.2: a leader sends periodic heartbeats (empty appends; ruft has a
/// dedicated message) to all followers, every `heartbeat_tick` ticks.
#[test]
fn a_leader_sends_heartbeats_to_every_follower_each_heartbeat_tick() {
    let mut cfg = config(1, 3);
    cfg.heartbeat_tick = Tick(3);
    let mut n1 = node_on(cfg, hard(0, None, 0), "");
    block_on(n1.campaign()).unwrap();
    step(&mut n1, vote(2, 1, 1, true));
    run_ready(&mut n1);
    for round in 0..2 {
        for _ in 0..2 {
            tick(&mut n1);
            assert!(sends(&mut n1).is_empty(), "round {round}: too early");
        }
        tick(&mut n1);
        assert_eq!(
            sends(&mut n1),
            [
                "n1->n2 Heartbeat{t1, commit 0}",
                "n1->n3 Heartbeat{t1, commit 0}"
            ]
        );
    }
}

/// §5.3 (commit learned by followers): a heartbeat tells each follower the
/// leader's commit index, but never beyond what that follower is known to
/// hold: `min(match, committed)`, so a lagging follower can adopt it as is.
#[test]
fn a_heartbeat_carries_the_commit_index_capped_by_the_followers_match() {
    let mut n1 = leader(3);
    step(&mut n1, append_ok(2, 1, 1, 1));
    step(&mut n1, append_ok(3, 1, 1, 1));
    block_on(n1.propose("x".into())).unwrap();
    run_ready(&mut n1);
    step(&mut n1, append_ok(2, 1, 1, 2));
    run_ready(&mut n1);
    assert_eq!(n1.status().committed.0, 2, "n1 and n2 hold 2@1");
    tick(&mut n1);
    assert_eq!(
        sends(&mut n1),
        [
            "n1->n2 Heartbeat{t1, commit 2}",
            "n1->n3 Heartbeat{t1, commit 1}"
        ],
        "n3 is known to hold only 1@1"
    );
}

// ---------------------------------------------------------------- §5.2 election timers

/// §5.2: a follower that hears nothing for its election timeout, a value in
/// [et, 2et), starts an election: it moves to term + 1, votes for itself and
/// asks every peer for a vote, naming its last entry.
#[test]
fn a_follower_starts_an_election_when_its_timeout_elapses() {
    let mut n1 = fresh(1, 3);
    let timeout = n1.status().election_timeout;
    assert_eq!(timeout, election_timeout(0, NodeId(1), Term(0), Tick(10)));
    assert!(
        (10..20).contains(&timeout.0),
        "{timeout} is within [et, 2et)"
    );
    for _ in 1..timeout.0 {
        tick(&mut n1);
    }
    assert_eq!(n1.status().role, Role::Follower, "not before the timeout");
    tick(&mut n1);
    let s = n1.status();
    assert_eq!(
        (s.role, s.term, s.voted_node),
        (Role::Candidate, Term(1), Some(NodeId(1)))
    );
    let rd = run_ready(&mut n1);
    assert_eq!(
        rd.hard_state,
        Some(hard(1, Some(1), 0)),
        "term and self-vote persisted"
    );
    assert_eq!(
        show(&rd.messages),
        [
            "n1->n2 RequestVote{t1, last 0@0}",
            "n1->n3 RequestVote{t1, last 0@0}"
        ]
    );
}

/// raft-rs's `min_election_tick` / `max_election_tick`: with
/// `Config::election_timeout_range` the timeout is drawn from that range
/// instead, in every term; a range below `election_tick` is refused, since
/// leases count on no node timing out sooner.
#[test]
fn an_election_timeout_range_replaces_et_to_2et() {
    let mut cfg = config(1, 3);
    cfg.election_timeout_range = Some((Tick(25), Tick(28)));
    let mut n1 = node_on(cfg.clone(), hard(0, None, 0), "");
    for term in 0..5 {
        let timeout = n1.status().election_timeout;
        assert!((25..28).contains(&timeout.0), "{timeout} in term {term}");
        for _ in 0..timeout.0 {
            tick(&mut n1);
        }
        assert_eq!(
            n1.status().term,
            Term(term + 1),
            "it campaigned at {timeout}"
        );
        run_ready(&mut n1);
    }
    cfg.election_timeout_range = Some((Tick(9), Tick(28)));
    assert!(matches!(
        block_on(Node::new(cfg, MemStorage::default())),
        Err(Error::InvalidConfig { .. })
    ));
}

/// §5.2: a candidate that neither wins nor loses before its timeout starts a
/// new election, in a new term with a new randomized timeout.
#[test]
fn a_candidate_starts_a_new_election_when_its_timeout_elapses() {
    let mut n1 = candidate(3);
    let timeout = n1.status().election_timeout;
    assert_eq!(timeout, election_timeout(0, NodeId(1), Term(1), Tick(10)));
    assert_eq!(ticks_to_next_election(&mut n1), timeout.0);
    assert_eq!(
        sends(&mut n1),
        [
            "n1->n2 RequestVote{t2, last 0@0}",
            "n1->n3 RequestVote{t2, last 0@0}"
        ]
    );
    let s = n1.status();
    assert_eq!(
        (s.role, s.term, s.voted_node),
        (Role::Candidate, Term(2), Some(NodeId(1)))
    );
    step(&mut n1, vote(2, 2, 1, true));
    assert_eq!(
        show(&run_ready(&mut n1).messages)[..1],
        ["n1->n2 Append{t2, prev 0@0, entries [1@2], commit 0}"],
        "the second election can be won"
    );
}

/// §5.2: a vote request carries the candidate's term and the index and term
/// of its last log entry.
#[test]
fn a_vote_request_carries_the_candidates_last_index_and_term() {
    for (term, new, want) in [
        (1, "1@1", "RequestVote{t2, last 1@1}"),
        (2, "1@1 2@2", "RequestVote{t3, last 2@2}"),
    ] {
        let mut n1 = fresh(1, 3);
        step(&mut n1, append(2, term, 1, "0@0", new, 0));
        run_ready(&mut n1);
        ticks_to_next_election(&mut n1);
        let to = |peer| format!("n1->n{peer} {want}");
        assert_eq!(sends(&mut n1), [to(2), to(3)], "log {new}");
    }
}

/// §5.2: election timeouts are chosen randomly from a fixed interval
/// [et, 2et); over many terms every value of the interval occurs, for a
/// follower waiting for a leader and for a candidate waiting for votes.
#[test]
fn every_election_timeout_in_the_range_is_observed() {
    let range: BTreeSet<u64> = (10..20).collect();
    let follower: BTreeSet<u64> = (0..100)
        .map(|term| ticks_to_next_election(&mut node_on(config(1, 3), hard(term, None, 0), "")))
        .collect();
    assert_eq!(follower, range, "follower timeouts");
    let mut n1 = candidate(3);
    let candidate: BTreeSet<u64> = (0..100)
        .map(|_| {
            let ticks = ticks_to_next_election(&mut n1);
            run_ready(&mut n1);
            ticks
        })
        .collect();
    assert_eq!(candidate, range, "candidate timeouts");
}

/// Ticks five nodes in lockstep until one starts an election; returns how
/// many started on that same tick.
fn first_to_time_out(nodes: &mut [Node<ruft::MemStorage>]) -> usize {
    let terms: Vec<Term> = nodes.iter().map(|n| n.status().term).collect();
    for _ in 0..1_000 {
        nodes.iter_mut().for_each(tick);
        let started = nodes
            .iter()
            .zip(&terms)
            .filter(|(n, t)| n.status().term != **t)
            .count();
        if started > 0 {
            return started;
        }
    }
    panic!("nobody timed out");
}

/// Split elections among five nodes: the share of seeds where two or more
/// nodes time out on the same first tick.
fn split_rate(make_candidates: bool) -> f64 {
    let seeds = 1_000;
    let splits = (0..seeds)
        .filter(|&seed| {
            let mut nodes: Vec<_> = (1..=5)
                .map(|id| {
                    let mut cfg = config(id, 5);
                    cfg.seed = seed;
                    let mut node = node_on(cfg, hard(0, None, 0), "");
                    if make_candidates {
                        block_on(node.campaign()).unwrap();
                    }
                    node
                })
                .collect();
            first_to_time_out(&mut nodes) > 1
        })
        .count();
    splits as f64 / seeds as f64
}

/// §5.2: randomized timeouts spread the servers out so that in most cases
/// only one of them times out first; among five followers, two or more time
/// out on the same tick in at most 30% of runs (uniform draws give ~23%).
#[test]
fn split_timeouts_are_rare_among_five_followers() {
    let rate = split_rate(false);
    println!("followers: {rate} of runs split");
    assert!(rate <= 0.3, "{rate} of follower runs split");
}

/// §5.2: the same spreading holds after a split vote, when every node is a
/// candidate waiting for its next timeout.
#[test]
fn split_timeouts_are_rare_among_five_candidates() {
    let rate = split_rate(true);
    println!("candidates: {rate} of runs split");
    assert!(rate <= 0.3, "{rate} of candidate runs split");
}

// ---------------------------------------------------------------- §5.2 outcomes and votes

/// §5.2: a candidate wins when a majority of the full cluster grants its vote
/// in the same term; it returns to follower once a majority refuses (ruft,
/// like etcd, does not wait for its timeout then); otherwise it stays
/// candidate. Tables for 1, 3 and 5 voters.
#[test]
fn an_election_is_won_by_a_majority_lost_by_a_majority_and_otherwise_undecided() {
    use Role::*;
    // (voters, (voter, granted) replies, role after the replies)
    type Case = (u64, &'static [(u64, bool)], Role);
    let cases: &[Case] = &[
        (1, &[], Leader),
        (3, &[(2, true), (3, true)], Leader),
        (3, &[(2, true)], Leader),
        (5, &[(2, true), (3, true), (4, true), (5, true)], Leader),
        (5, &[(2, true), (3, true), (4, true)], Leader),
        (5, &[(2, true), (3, true)], Leader),
        (3, &[(2, false), (3, false)], Follower),
        (
            5,
            &[(2, false), (3, false), (4, false), (5, false)],
            Follower,
        ),
        (
            5,
            &[(2, true), (3, false), (4, false), (5, false)],
            Follower,
        ),
        (3, &[], Candidate),
        (3, &[(2, false)], Candidate),
        (5, &[(2, true)], Candidate),
        (5, &[(2, false), (3, false)], Candidate),
        (5, &[], Candidate),
    ];
    for (size, votes, want) in cases {
        let mut n1 = candidate(*size);
        for &(voter, granted) in votes.iter() {
            step(&mut n1, vote(voter, 1, 1, granted));
        }
        let s = n1.status();
        assert_eq!(
            (s.role, s.term),
            (*want, Term(1)),
            "{size} voters, votes {votes:?}"
        );
    }
}

/// §5.2: each server votes for at most one candidate in a term, first come
/// first served: a node that voted refuses every other candidate of that
/// term. (ruft also refuses while it follows a live leader of the term.)
#[test]
fn a_node_grants_one_vote_per_term_first_come_first_served() {
    let cases = [
        (None, 2, None),
        (None, 3, None),
        (Some(2), 2, None),
        (Some(3), 3, None),
        (
            Some(2),
            3,
            Some(Rejection::VoteAlreadyCast { voted: NodeId(2) }),
        ),
        (
            Some(3),
            2,
            Some(Rejection::VoteAlreadyCast { voted: NodeId(3) }),
        ),
    ];
    for (voted, asker, refusal) in cases {
        let mut n1 = node_on(config(1, 3), hard(1, voted, 0), "");
        let outcome = step(&mut n1, request_vote(asker, 1, 1, "0@0"));
        let verdict = if refusal.is_some() {
            "rejected"
        } else {
            "granted"
        };
        assert_eq!(
            outcome,
            refusal.map_or(StepOutcome::Handled, StepOutcome::Rejected)
        );
        assert_eq!(
            sends(&mut n1),
            [format!("n1->n{asker} Vote{{t1, {verdict}}}")]
        );
        let kept = if refusal.is_some() {
            voted
        } else {
            Some(asker)
        };
        assert_eq!(n1.status().voted_node, kept.map(NodeId));
    }
    // First come, first served, within one term.
    let mut n1 = fresh(1, 3);
    step(&mut n1, request_vote(3, 1, 1, "0@0"));
    step(&mut n1, request_vote(2, 1, 1, "0@0"));
    assert_eq!(
        sends(&mut n1),
        ["n1->n3 Vote{t1, granted}", "n1->n2 Vote{t1, rejected}"]
    );
    // A follower that already follows the term's leader does not vote.
    let mut n1 = fresh(1, 3);
    step(&mut n1, heartbeat(2, 1, 1, 0));
    let outcome = step(&mut n1, request_vote(3, 1, 1, "0@0"));
    assert_eq!(
        outcome,
        StepOutcome::Rejected(Rejection::LeaderKnown { leader: NodeId(2) })
    );
}

/// §5.2: the vote is the node's to repeat: a candidate that asks again in the
/// same term (its request or the reply was lost) is granted again, and the
/// vote stays with it.
#[test]
fn a_repeated_request_from_the_same_candidate_is_granted_again() {
    let mut n1 = fresh(1, 3);
    step(&mut n1, request_vote(2, 1, 1, "0@0"));
    let first = run_ready(&mut n1);
    assert_eq!(first.hard_state, Some(hard(1, Some(2), 0)));
    assert_eq!(
        step(&mut n1, request_vote(2, 1, 1, "0@0")),
        StepOutcome::Handled
    );
    let again = run_ready(&mut n1);
    assert_eq!(show(&again.messages), ["n1->n2 Vote{t1, granted}"]);
    assert_eq!(again.hard_state, None, "nothing new to persist");
    assert_eq!(n1.status().voted_node, Some(NodeId(2)));
}

/// §5.2: while waiting for votes, a candidate that receives an append from a
/// leader whose term is at least its own recognizes that leader and returns
/// to follower; an append from an older term is rejected and it stays
/// candidate.
#[test]
fn a_candidate_falls_back_to_follower_on_an_append_of_its_term_or_newer() {
    for (msg, want) in [
        (
            append(2, 2, 1, "0@0", "", 0),
            (Role::Follower, Term(2), Some(NodeId(2))),
        ),
        (
            heartbeat(2, 2, 1, 0),
            (Role::Follower, Term(2), Some(NodeId(2))),
        ),
        (
            append(2, 3, 1, "0@0", "", 0),
            (Role::Follower, Term(3), Some(NodeId(2))),
        ),
        (
            append(2, 1, 1, "0@0", "", 0),
            (Role::Candidate, Term(2), None),
        ),
    ] {
        let mut n1 = in_role(Role::Candidate, 2);
        step(&mut n1, msg.clone());
        assert_eq!(role_term_leader(&n1), want, "{msg}");
    }
}

/// §5.4.1: a voter denies its vote if its own log is more up to date than the
/// candidate's: the later last term wins; with equal last terms, the longer
/// log wins (equal logs are up to date).
#[test]
fn a_voter_grants_only_to_a_candidate_whose_log_is_at_least_as_up_to_date() {
    let cases = [
        ("1@1", "1@1", true),
        ("1@1", "2@1", true),
        ("1@1 2@1", "1@1", false),
        ("1@1", "1@2", true),
        ("1@1", "2@2", true),
        ("1@1 2@1", "1@2", true),
        ("1@2", "1@1", false),
        ("1@2", "2@1", false),
        ("1@1 2@2", "3@1", false),
        ("1@1 2@2", "2@2", true),
        ("1@1 2@2", "1@3", true),
    ];
    for (ours, theirs, granted) in cases {
        let mut n1 = node_on(config(1, 3), hard(2, None, 0), ours);
        step(&mut n1, request_vote(2, 3, 1, theirs));
        let verdict = if granted { "granted" } else { "rejected" };
        assert_eq!(
            sends(&mut n1),
            [format!("n1->n2 Vote{{t3, {verdict}}}")],
            "ours {ours}, theirs {theirs}"
        );
    }
}

/// §5.2, end to end: a candidate becomes leader only when a majority of the
/// full cluster is alive to vote for it; with too many nodes down it stays
/// candidate.
#[test]
fn an_election_needs_a_majority_of_the_cluster_alive() {
    let cases: &[(usize, &[u64], Role)] = &[
        (3, &[], Role::Leader),
        (3, &[3], Role::Leader),
        (3, &[2, 3], Role::Candidate),
        (4, &[3, 4], Role::Candidate),
        (5, &[4, 5], Role::Leader),
        (5, &[3, 4, 5], Role::Candidate),
    ];
    for (size, down, want) in cases {
        let mut cluster = Cluster::new(*size, |_| {});
        for &id in down.iter() {
            cluster.crash(NodeId(id));
        }
        elect(&mut cluster, 1);
        let s = cluster.node(NodeId(1)).status();
        assert_eq!(
            (s.role, s.term),
            (*want, Term(1)),
            "{size} nodes, down {down:?}"
        );
        assert_safe(&cluster);
    }
}
