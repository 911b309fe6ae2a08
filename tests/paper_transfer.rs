//! Leader transfer (thesis §3.10) as black-box scenarios, through the public
//! `Node` API and the shared cluster driver.
//!
//! After the behaviours etcd's `raft_test.go` checks for leader transfer,
//! written anew for ruft. ruft differs from etcd in ways these scenarios
//! show and say so where they do: only the leader takes a transfer (a
//! follower refuses it, naming the leader, instead of forwarding it); a
//! transfer to the leader itself is a traced no-op that does not cancel one
//! under way; a second transfer to another node is refused while one is
//! under way (etcd abandons the first); a target that is not a voter is an
//! error. And the deadline: etcd restarts the leader's election period (the
//! one check-quorum counts) when a transfer starts and gives the transfer up
//! when that period ends; ruft leaves the leader's periods alone and gives a
//! transfer up at the end of the first whole period after the request, so it
//! lasts between `election_tick` and `2 * election_tick` ticks. Not ported:
//! a transfer to a node that is removed or demoted meanwhile (ruft has no
//! membership changes yet; a crashed target stands in for it) and a
//! transfer after a snapshot (ruft has no snapshots yet).

mod paper_common;

use futures::executor::block_on;
use paper_common::*;
use ruft::{Config, DropReason, Error, NodeId, Rejection, Role, StepOutcome, Term};
use ruft_models::driver::{Cluster, DriveError};

// ---------------------------------------------------------------- helpers

/// `election_tick` of the default configuration every scenario runs with.
const ELECTION_TICK: u64 = 10;

/// {n1, n2, n3} configured by `configure`, with n1 elected leader of term 1
/// and every node holding and knowing `1@1`.
fn led_by_n1(configure: fn(&mut Config)) -> Cluster {
    let mut cluster = Cluster::new(3, configure);
    elect(&mut cluster, 1);
    beat(&mut cluster, 1);
    cluster
}

/// `led_by_n1` with n3 cut off: a transfer to it stays under way.
fn n3_cut_off() -> Cluster {
    let mut cluster = led_by_n1(|_| {});
    cluster.isolate(n(3));
    cluster
}

fn transfer(cluster: &mut Cluster, id: u64, target: u64) -> Result<StepOutcome, DriveError> {
    cluster.transfer_leader(n(id), n(target))
}

/// The transfer under way at `id`, if any.
fn transferring(cluster: &Cluster, id: u64) -> Option<NodeId> {
    cluster.node(n(id)).status().transfer
}

/// Ticks leader `id` alone `ticks` times, delivering what it sends.
fn tick_leader(cluster: &mut Cluster, id: u64, ticks: u64) {
    for _ in 0..ticks {
        cluster.tick(n(id)).unwrap();
        settle(cluster);
    }
}

/// Ticks every running node once, delivering what they send.
fn tick_all(cluster: &mut Cluster) {
    cluster.tick_all().unwrap();
    settle(cluster);
}

/// How far leader `id` is into its election period, in ticks.
fn elapsed(cluster: &Cluster, id: u64) -> u64 {
    cluster.node(n(id)).status().election_elapsed.0
}

/// Ticks (with `tick`) until leader n1 gives up its transfer to `target`,
/// checking that it stays under way, and n1 leader, until then; returns how
/// many ticks that took.
fn ticks_until_given_up(cluster: &mut Cluster, target: u64, tick: fn(&mut Cluster)) -> u64 {
    assert_eq!(transferring(cluster, 1), Some(n(target)), "under way");
    for ticks in 1..=3 * ELECTION_TICK {
        tick(cluster);
        assert_eq!(
            cluster.node(n(1)).status().role,
            Role::Leader,
            "after {ticks} ticks"
        );
        match transferring(cluster, 1) {
            None => return ticks,
            Some(t) => assert_eq!(t, n(target), "after {ticks} ticks"),
        }
    }
    panic!("still under way after {} ticks", 3 * ELECTION_TICK);
}

/// Ticks leader n1 alone once, delivering what it sends.
fn tick_n1(cluster: &mut Cluster) {
    tick_leader(cluster, 1, 1);
}

fn refused(error: Error) -> Result<StepOutcome, DriveError> {
    Err(DriveError::Node(error))
}

// ---------------------------------------------------------------- handing over

/// After etcd's `TestLeaderTransferToUpToDateNode`, §3.10: a leader asked to
/// hand over to a follower that already holds its whole log tells it at once
/// to time out. The target campaigns in the next term without waiting for
/// its timer, marking its vote requests as a transfer; the old leader steps
/// down on the newer term and votes for it. Later, with one more entry
/// replicated, leadership goes back the same way.
#[test]
fn a_leader_hands_over_to_an_up_to_date_follower_at_once_and_back_again() {
    let mut cluster = led_by_n1(|_| {});
    assert_eq!(transfer(&mut cluster, 1, 2), Ok(StepOutcome::Handled));
    assert_eq!(transferring(&cluster, 1), Some(n(2)));
    assert_eq!(
        settle(&mut cluster)[..5],
        [
            "n1->n2 TimeoutNow{t1}",
            "n2->n1 RequestVote{t2, last 1@1, transfer}",
            "n2->n3 RequestVote{t2, last 1@1, transfer}",
            "n1->n2 Vote{t2, granted}",
            "n3->n2 Vote{t2, granted}"
        ]
    );
    assert_eq!(
        roles(&cluster),
        [
            (Role::Follower, Term(2), Some(n(2))),
            (Role::Leader, Term(2), Some(n(2))),
            (Role::Follower, Term(2), Some(n(2)))
        ]
    );
    assert_eq!(transferring(&cluster, 1), None);
    assert_eq!(
        cluster.propose(n(1), "x".into()),
        Err(DriveError::Node(Error::NotLeader { leader: Some(n(2)) }))
    );
    cluster.propose(n(2), "x".into()).unwrap();
    settle(&mut cluster);
    assert_eq!(transfer(&mut cluster, 2, 1), Ok(StepOutcome::Handled));
    assert_eq!(
        settle(&mut cluster)[..2],
        [
            "n2->n1 TimeoutNow{t2}",
            "n1->n2 RequestVote{t3, last 3@2, transfer}"
        ]
    );
    assert_eq!(
        role_term_leader(cluster.node(n(1))),
        (Role::Leader, Term(3), Some(n(1)))
    );
    beat(&mut cluster, 1);
    assert_eq!(logs(&cluster), vec!["1@1 2@2 3@2 4@3"; 3]);
    assert_safe(&cluster);
}

/// ruft (etcd forwards the request to the leader instead): only the leader
/// hands over. A follower asked to transfer refuses with `NotLeader`, naming
/// the leader it knows, and nothing changes anywhere.
#[test]
fn a_follower_asked_to_transfer_refuses_naming_the_leader() {
    let mut cluster = led_by_n1(|_| {});
    for target in [2, 3] {
        assert_eq!(
            transfer(&mut cluster, 2, target),
            refused(Error::NotLeader { leader: Some(n(1)) })
        );
    }
    assert!(cluster.network().is_empty());
    assert_eq!(transferring(&cluster, 1), None);
    assert_eq!(
        role_term_leader(cluster.node(n(1))),
        (Role::Leader, Term(1), Some(n(1)))
    );
}

/// After etcd's `TestLeaderTransferWithCheckQuorum`, §3.10 with §6.2 and
/// §9.6: with pre-vote and check-quorum on, every node still hears the
/// leader, so n3's own election would be ignored (its pre-vote is dropped
/// under the lease). A transfer is not: the target skips pre-vote, and its
/// vote requests, marked as a transfer, are answered by nodes that hear the
/// leader, the leader included. It takes no tick: six messages.
#[test]
fn with_pre_vote_and_check_quorum_a_transfer_is_voted_in_despite_leader_stickiness() {
    let mut cluster = led_by_n1(with_both);
    cluster.campaign(n(3)).unwrap();
    assert_eq!(
        settle(&mut cluster),
        [
            "n3->n1 PreVote{t2, last 1@1}",
            "n3->n2 PreVote{t2, last 1@1}"
        ],
        "ignored under the lease"
    );
    assert_eq!(cluster.node(n(3)).status().role, Role::PreCandidate);
    assert_eq!(transfer(&mut cluster, 1, 2), Ok(StepOutcome::Handled));
    assert_eq!(
        settle(&mut cluster)[..6],
        [
            "n1->n2 TimeoutNow{t1}",
            "n2->n1 RequestVote{t2, last 1@1, transfer}",
            "n2->n3 RequestVote{t2, last 1@1, transfer}",
            "n1->n2 Vote{t2, granted}",
            "n3->n2 Vote{t2, granted}",
            "n2->n1 Append{t2, prev 1@1, entries [2@2], commit 1}"
        ]
    );
    assert_eq!(
        roles(&cluster),
        [
            (Role::Follower, Term(2), Some(n(2))),
            (Role::Leader, Term(2), Some(n(2))),
            (Role::Follower, Term(2), Some(n(2)))
        ]
    );
    assert_safe(&cluster);
}

/// After etcd's `TestLeaderTransferToSlowFollower`, §3.10: the target lacks
/// an entry the others committed while it was cut off. The leader first
/// sends it what it lacks, and tells it to time out only once it has
/// acknowledged the leader's whole log.
#[test]
fn a_transfer_to_a_lagging_follower_first_brings_it_up_to_date() {
    let mut cluster = n3_cut_off();
    cluster.propose(n(1), "x".into()).unwrap();
    settle(&mut cluster);
    cluster.recover();
    assert_eq!(log_of(cluster.node(n(3))), "1@1");
    assert_eq!(transfer(&mut cluster, 1, 3), Ok(StepOutcome::Handled));
    assert_eq!(
        settle(&mut cluster)[..6],
        [
            "n1->n3 Append{t1, prev 2@1, entries [], commit 2}",
            "n3->n1 AppendReject{t1, at 2, hint 1@1}",
            "n1->n3 Append{t1, prev 1@1, entries [2@1], commit 2}",
            "n3->n1 AppendOk{t1, match 2}",
            "n1->n3 TimeoutNow{t1}",
            "n3->n1 RequestVote{t2, last 2@1, transfer}"
        ]
    );
    assert_eq!(
        role_term_leader(cluster.node(n(3))),
        (Role::Leader, Term(2), Some(n(3)))
    );
    beat(&mut cluster, 3);
    assert_eq!(logs(&cluster), vec!["1@1 2@1 3@2"; 3]);
    assert_safe(&cluster);
}

// ---------------------------------------------------------------- requests that change nothing

/// After etcd's `TestLeaderTransferToSelf`: a transfer to the leader itself
/// is a traced no-op. Nothing is sent, no transfer is under way and
/// proposals are still taken.
#[test]
fn a_transfer_to_the_leader_itself_is_a_traced_no_op() {
    let mut cluster = led_by_n1(|_| {});
    assert_eq!(
        transfer(&mut cluster, 1, 1),
        Ok(StepOutcome::Dropped(DropReason::TransferToSelf))
    );
    assert!(cluster.network().is_empty());
    assert_eq!(transferring(&cluster, 1), None);
    assert_eq!(
        role_term_leader(cluster.node(n(1))),
        (Role::Leader, Term(1), Some(n(1)))
    );
    assert_eq!(
        cluster.propose(n(1), "x".into()).unwrap().to_string(),
        "2@1"
    );
}

/// After etcd's `TestLeaderTransferToNonExistingNode` (there a no-op, in
/// ruft an error): a transfer to a node that is not a voter of the cluster
/// is refused with `UnknownNode`, and the leader carries on as before.
#[test]
fn a_transfer_to_a_node_outside_the_cluster_is_refused() {
    let mut cluster = led_by_n1(|_| {});
    assert_eq!(
        transfer(&mut cluster, 1, 4),
        refused(Error::UnknownNode { id: n(4) })
    );
    assert!(cluster.network().is_empty());
    assert_eq!(transferring(&cluster, 1), None);
    assert_eq!(
        cluster.propose(n(1), "x".into()).unwrap().to_string(),
        "2@1"
    );
}

// ---------------------------------------------------------------- a transfer under way

/// After etcd's `TestLeaderTransferIgnoreProposal`, §3.10: while handing
/// over, the leader takes no proposals (the target could never catch up
/// with a growing log). A proposal is refused with `TransferInProgress`
/// naming the target; nothing is appended or sent.
#[test]
fn a_leader_refuses_proposals_while_a_transfer_is_under_way() {
    let mut cluster = n3_cut_off();
    transfer(&mut cluster, 1, 3).unwrap();
    assert_eq!(transferring(&cluster, 1), Some(n(3)));
    for _ in 0..2 {
        assert_eq!(
            cluster.propose(n(1), "x".into()),
            Err(DriveError::Node(Error::TransferInProgress { target: n(3) }))
        );
    }
    assert!(cluster.network().is_empty());
    assert_eq!(log_of(cluster.node(n(1))), "1@1");
}

/// After etcd's `TestLeaderTransferTimeout`, §3.10: a transfer that has not
/// finished is given up at the end of the first whole election period after
/// the request. The leader's next period end marks it and the one after
/// gives it up, and neither the request nor the deadline moves the leader's
/// periods (check-quorum keeps them). Asked `e` ticks into a period, it thus
/// lasts `2 * election_tick - e` ticks: always more than `election_tick` (11
/// when asked one tick before a period ends), and at most `2 *
/// election_tick` (20, still under way after 19, when asked right as one
/// begins). Heartbeats go on meanwhile; afterwards the leader takes
/// proposals again, in the same term.
#[test]
fn a_transfer_that_does_not_finish_is_given_up_at_the_end_of_the_next_whole_election_period() {
    for asked_at in 0..ELECTION_TICK {
        let mut cluster = n3_cut_off();
        tick_leader(&mut cluster, 1, asked_at);
        assert_eq!(elapsed(&cluster, 1), asked_at);
        transfer(&mut cluster, 1, 3).unwrap();
        assert_eq!(elapsed(&cluster, 1), asked_at, "the period runs on");
        let lasted = ticks_until_given_up(&mut cluster, 3, tick_n1);
        assert_eq!(
            lasted,
            2 * ELECTION_TICK - asked_at,
            "asked {asked_at} ticks into a period"
        );
        assert!(ELECTION_TICK < lasted && lasted <= 2 * ELECTION_TICK);
        assert_eq!(elapsed(&cluster, 1), 0, "given up as a period ends");
        assert_eq!(
            role_term_leader(cluster.node(n(1))),
            (Role::Leader, Term(1), Some(n(1)))
        );
        let key = cluster.propose(n(1), "x".into()).unwrap();
        assert_eq!(key.to_string(), "2@1");
        settle(&mut cluster);
        assert_eq!(cluster.node(n(1)).status().committed, key.index);
        assert_safe(&cluster);
    }
}

/// ruft, where etcd abandons the first transfer and starts the second: a
/// transfer to another node while one is under way is refused with
/// `TransferInProgress`, naming the target under way. Once the first is
/// given up, the second can be asked for, and succeeds.
#[test]
fn a_second_transfer_to_another_node_is_refused_while_one_is_under_way() {
    let mut cluster = n3_cut_off();
    transfer(&mut cluster, 1, 3).unwrap();
    assert_eq!(
        transfer(&mut cluster, 1, 2),
        refused(Error::TransferInProgress { target: n(3) })
    );
    assert!(cluster.network().is_empty(), "nothing sent to n2");
    assert_eq!(
        ticks_until_given_up(&mut cluster, 3, tick_n1),
        2 * ELECTION_TICK
    );
    assert_eq!(transfer(&mut cluster, 1, 2), Ok(StepOutcome::Handled));
    assert_eq!(
        settle(&mut cluster)[..2],
        [
            "n1->n2 TimeoutNow{t1}",
            "n2->n1 RequestVote{t2, last 1@1, transfer}"
        ]
    );
    assert_eq!(
        role_term_leader(cluster.node(n(2))),
        (Role::Leader, Term(2), Some(n(2)))
    );
    assert_safe(&cluster);
}

/// After etcd's `TestLeaderTransferSecondTransferToSameNode`: asking again
/// for the transfer under way is a traced no-op that does not extend its
/// deadline. Asked 5 ticks into a period, and again 2 ticks into the next
/// (once a period end has marked it), it is still given up when that next
/// period ends, 15 ticks after the first request; restarted by the second,
/// it would have lasted a period more.
#[test]
fn a_second_transfer_to_the_same_node_does_not_extend_its_deadline() {
    let mut cluster = n3_cut_off();
    tick_leader(&mut cluster, 1, 5);
    transfer(&mut cluster, 1, 3).unwrap();
    tick_leader(&mut cluster, 1, 7);
    assert_eq!(elapsed(&cluster, 1), 2, "a period ended since the request");
    assert_eq!(
        transfer(&mut cluster, 1, 3),
        Ok(StepOutcome::Dropped(DropReason::AlreadyTransferring))
    );
    let lasted = 7 + ticks_until_given_up(&mut cluster, 3, tick_n1);
    assert_eq!(
        lasted,
        2 * ELECTION_TICK - 5,
        "ticks after the first request"
    );
}

/// ruft, where etcd's `TestLeaderTransferBack` cancels the transfer: a
/// transfer back to the leader itself while one is under way is the same
/// traced no-op as ever. It does not cancel the transfer under way, which
/// still ends only at its deadline (here `2 * election_tick` ticks, asked as
/// the leader's first period began); proposals wait until then.
#[test]
fn a_transfer_back_to_the_leader_does_not_cancel_the_one_under_way() {
    let mut cluster = n3_cut_off();
    transfer(&mut cluster, 1, 3).unwrap();
    assert_eq!(
        transfer(&mut cluster, 1, 1),
        Ok(StepOutcome::Dropped(DropReason::TransferToSelf))
    );
    assert_eq!(transferring(&cluster, 1), Some(n(3)));
    assert_eq!(
        cluster.propose(n(1), "x".into()),
        Err(DriveError::Node(Error::TransferInProgress { target: n(3) }))
    );
    assert_eq!(
        ticks_until_given_up(&mut cluster, 3, tick_n1),
        2 * ELECTION_TICK
    );
    assert_eq!(
        role_term_leader(cluster.node(n(1))),
        (Role::Leader, Term(1), Some(n(1)))
    );
    cluster.propose(n(1), "x".into()).unwrap();
}

/// After etcd's `TestLeaderTransferReceiveHigherTermVote`, §5.1: a leader
/// that steps down for a newer term drops the transfer under way with its
/// leadership. Here n2 campaigns while the transfer to the cut-off n3 is
/// pending (without check-quorum the leader does not ignore it), and wins.
#[test]
fn a_leader_that_steps_down_for_a_newer_term_drops_its_transfer() {
    let mut cluster = n3_cut_off();
    transfer(&mut cluster, 1, 3).unwrap();
    assert_eq!(
        elect(&mut cluster, 2)[..2],
        [
            "n2->n1 RequestVote{t2, last 1@1}",
            "n1->n2 Vote{t2, granted}"
        ]
    );
    assert_eq!(transferring(&cluster, 1), None);
    assert_eq!(
        roles(&cluster)[..2],
        [
            (Role::Follower, Term(2), Some(n(2))),
            (Role::Leader, Term(2), Some(n(2)))
        ]
    );
    assert_safe(&cluster);
}

/// In place of etcd's `TestLeaderTransferRemoveNode` (ruft has no
/// membership changes yet): the target has crashed. It holds the whole log,
/// so `TimeoutNow` goes out at once, and is lost. The leader refuses
/// proposals until the transfer is given up at the end of the first whole
/// election period after the request (`2 * election_tick` ticks: it was
/// asked for as the leader's first period began), keeps its term, and
/// commits with n2 alone.
#[test]
fn a_transfer_to_a_crashed_node_is_given_up_and_the_leader_keeps_its_term() {
    let mut cluster = led_by_n1(|_| {});
    cluster.crash(n(3));
    transfer(&mut cluster, 1, 3).unwrap();
    assert_eq!(show(cluster.network()), ["n1->n3 TimeoutNow{t1}"]);
    assert!(settle(&mut cluster).is_empty(), "lost on the way to n3");
    assert_eq!(
        ticks_until_given_up(&mut cluster, 3, tick_all),
        2 * ELECTION_TICK
    );
    assert_eq!(
        roles(&cluster)[..2],
        [
            (Role::Leader, Term(1), Some(n(1))),
            (Role::Follower, Term(1), Some(n(1)))
        ]
    );
    let key = cluster.propose(n(1), "x".into()).unwrap();
    settle(&mut cluster);
    assert_eq!(cluster.node(n(1)).status().committed, key.index);
    assert_safe(&cluster);
}

/// After etcd's variant that ignores `TimeoutNow`: the target is up and up
/// to date, but the one `TimeoutNow` is lost and not sent again. Nobody
/// campaigns; the transfer is given up at the end of the first whole
/// election period after the request (`2 * election_tick` ticks, as above),
/// and the leader leads on in term 1.
#[test]
fn a_lost_timeout_now_leaves_the_transfer_to_be_given_up() {
    let mut cluster = led_by_n1(|_| {});
    cluster.drop_kind("TimeoutNow");
    transfer(&mut cluster, 1, 3).unwrap();
    assert_eq!(
        ticks_until_given_up(&mut cluster, 3, tick_all),
        2 * ELECTION_TICK
    );
    assert_eq!(
        roles(&cluster),
        [
            (Role::Leader, Term(1), Some(n(1))),
            (Role::Follower, Term(1), Some(n(1))),
            (Role::Follower, Term(1), Some(n(1)))
        ]
    );
    assert_safe(&cluster);
}

// ---------------------------------------------------------------- the target and the voters

/// §3.10: a follower told to time out campaigns at once, in the next term,
/// without waiting for its timer, and even with pre-vote on it asks for
/// real votes (the leader vouched for it), marking them as a transfer.
#[test]
fn a_follower_told_to_time_out_campaigns_at_once_skipping_pre_vote() {
    let mut cfg = config(2, 3);
    cfg.pre_vote = true;
    let mut n2 = node_on(cfg, hard(1, Some(1), 1), "1@1");
    step(&mut n2, heartbeat(1, 1, 2, 1));
    run_ready(&mut n2);
    assert_eq!(step(&mut n2, timeout_now(1, 1, 2)), StepOutcome::Handled);
    let s = n2.status();
    assert_eq!(
        (s.role, s.term, s.voted_node),
        (Role::Candidate, Term(2), Some(n(2)))
    );
    let rd = run_ready(&mut n2);
    assert_eq!(rd.hard_state, Some(hard(2, Some(2), 1)));
    assert_eq!(
        show(&rd.messages),
        [
            "n2->n1 RequestVote{t2, last 1@1, transfer}",
            "n2->n3 RequestVote{t2, last 1@1, transfer}"
        ]
    );
}

/// §3.10: only a follower acts on `TimeoutNow`. One of an older term is
/// dropped as stale, and a node that is not a follower (a pre-candidate, a
/// candidate) drops it: its own election is under way.
#[test]
fn timeout_now_is_dropped_when_stale_or_not_received_as_a_follower() {
    let mut n2 = node_on(config(2, 3), hard(2, None, 0), "");
    assert_eq!(
        step(&mut n2, timeout_now(1, 1, 2)),
        StepOutcome::Dropped(DropReason::StaleTerm {
            term: Term(1),
            current: Term(2)
        })
    );
    assert_eq!(n2.status().role, Role::Follower);
    let mut cfg = config(2, 3);
    cfg.pre_vote = true;
    let mut pre = node_on(cfg, hard(2, None, 0), "");
    block_on(pre.campaign()).unwrap();
    let mut candidate = node_on(config(2, 3), hard(1, None, 0), "");
    block_on(candidate.campaign()).unwrap();
    for (mut node, role) in [(pre, Role::PreCandidate), (candidate, Role::Candidate)] {
        run_ready(&mut node);
        assert_eq!(
            step(&mut node, timeout_now(1, 2, 2)),
            StepOutcome::Dropped(DropReason::NotForRole { role })
        );
        assert_eq!((node.status().role, node.status().term), (role, Term(2)));
        assert!(sends(&mut node).is_empty(), "{role}");
    }
}

/// §3.10 with §6.2: leader stickiness does not apply to a transfer. A
/// follower that still hears its leader ignores an ordinary vote request of
/// a newer term, but answers one marked as a transfer, moving to its term;
/// the log check (§5.4.1) still applies to it.
#[test]
fn a_voter_under_the_lease_answers_a_transfer_vote_request_with_the_usual_log_check() {
    let follower = || {
        let mut cfg = config(3, 3);
        cfg.check_quorum = true;
        let mut n3 = node_on(cfg, hard(1, Some(1), 1), "1@1");
        step(&mut n3, heartbeat(1, 1, 3, 1));
        run_ready(&mut n3);
        assert_eq!(n3.status().lease_leader, Some(n(1)));
        n3
    };
    let mut n3 = follower();
    assert_eq!(
        step(&mut n3, request_vote(2, 2, 3, "1@1")),
        StepOutcome::Dropped(DropReason::LeaderLease { leader: n(1) })
    );
    assert!(sends(&mut n3).is_empty());
    assert_eq!(n3.status().term, Term(1));
    assert_eq!(
        step(&mut n3, transfer_vote_request(2, 2, 3, "1@1")),
        StepOutcome::Handled
    );
    assert_eq!(sends(&mut n3), ["n3->n2 Vote{t2, granted}"]);
    assert_eq!(
        (n3.status().term, n3.status().voted_node),
        (Term(2), Some(n(2)))
    );
    let mut n3 = follower();
    assert_eq!(
        step(&mut n3, transfer_vote_request(2, 2, 3, "0@0")),
        StepOutcome::Rejected(Rejection::LogNotUpToDate {
            ours: key("1@1"),
            theirs: key("0@0")
        })
    );
    assert_eq!(sends(&mut n3), ["n3->n2 Vote{t2, rejected}"]);
}
