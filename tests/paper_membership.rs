//! Membership changes (thesis chapter 4) as black-box scenarios, through the
//! public `Node` API and the shared cluster driver.
//!
//! After the behaviours etcd's `raft_test.go` and its `confchange` tests
//! check, written anew for ruft. A change takes effect on a node when its
//! application has applied the entry (etcd's rule; the thesis switches on
//! append): so a leader's followers switch only once they learn the commit
//! index, which the scenarios show with an explicit heartbeat round. Where
//! ruft differs from etcd the scenario says so: a vote request from a node
//! that is not a voter here is dropped before its term counts (etcd takes
//! it, and relies on check-quorum to ignore it); a voter cannot be demoted
//! inside a joint change; a change that does not apply to the leader's
//! membership is an error at proposal time, not a no-op at apply time.

mod paper_common;

use futures::executor::block_on;
use paper_common::*;
use ruft::{
    ConfChange, DropReason, Error, Index, MemberChange, MembershipError, Node, NodeId, Role,
    StepOutcome, Term,
};
use ruft_models::driver::Cluster;
use std::collections::BTreeSet;

// ---------------------------------------------------------------- helpers

fn add_voter(id: u64) -> ConfChange {
    ConfChange::Simple(MemberChange::AddVoter(n(id)))
}

fn add_learner(id: u64) -> ConfChange {
    ConfChange::Simple(MemberChange::AddLearner(n(id)))
}

fn remove(id: u64) -> ConfChange {
    ConfChange::Simple(MemberChange::Remove(n(id)))
}

/// A joint change: `+4` adds voter n4, `-1` removes n1, `l5` adds learner n5.
fn joint(changes: &[&str], auto_leave: bool) -> ConfChange {
    let one = |c: &&str| {
        let id = n(c[1..].parse().unwrap());
        match &c[..1] {
            "+" => MemberChange::AddVoter(id),
            "-" => MemberChange::Remove(id),
            _ => MemberChange::AddLearner(id),
        }
    };
    ConfChange::EnterJoint {
        changes: changes.iter().map(one).collect(),
        auto_leave,
    }
}

fn ids(v: &[u64]) -> BTreeSet<NodeId> {
    v.iter().copied().map(n).collect()
}

/// `n` nodes of which n1..=`voters` start as the cluster, n1 elected and
/// every voter holding and knowing `1@1`.
fn cluster_of(nodes: usize, voters: usize) -> Cluster {
    let mut cluster = Cluster::with_voters(nodes, voters, |_| {});
    elect(&mut cluster, 1);
    beat(&mut cluster, 1);
    cluster
}

/// Leader `leader` proposes `change`; the network settles, and a heartbeat
/// round tells every follower the commit index, so that every running
/// member applies the change.
fn change(cluster: &mut Cluster, leader: u64, change: ConfChange) -> Index {
    let key = cluster.propose_conf_change(n(leader), change).unwrap();
    settle(cluster);
    beat(cluster, leader);
    key.index
}

/// The voters (incoming set) node `id` counts in.
fn voters(cluster: &Cluster, id: u64) -> BTreeSet<NodeId> {
    cluster.node(n(id)).membership().incoming().clone()
}

fn learners(cluster: &Cluster, id: u64) -> BTreeSet<NodeId> {
    cluster.node(n(id)).membership().learners().clone()
}

fn role(cluster: &Cluster, id: u64) -> Role {
    cluster.node(n(id)).status().role
}

fn commit(cluster: &Cluster, id: u64) -> Index {
    cluster.node(n(id)).status().committed
}

/// Ticks node `id` alone past any election timeout.
fn time_out(cluster: &mut Cluster, id: u64) {
    for _ in 0..20 {
        cluster.tick(n(id)).unwrap();
    }
}

/// Asks `node` to campaign now; its role after.
fn step_campaign(node: &mut Node<ruft::MemStorage>) -> Role {
    block_on(node.campaign()).unwrap();
    node.status().role
}

// ---------------------------------------------------------------- adding

#[test]
fn an_added_voter_catches_up_and_counts_for_the_quorum() {
    let mut cluster = cluster_of(4, 3);
    assert_eq!(voters(&cluster, 4), ids(&[1, 2, 3]), "n4 starts outside");
    let at = change(&mut cluster, 1, add_voter(4));
    for id in 1..=4 {
        assert_eq!(voters(&cluster, id), ids(&[1, 2, 3, 4]), "n{id}");
    }
    assert_eq!(logs(&cluster)[3], logs(&cluster)[0], "n4 holds the log");
    assert_eq!(commit(&cluster, 4), at);
    // Four voters need three: with n3 and n4 down nothing commits.
    cluster.crash(n(3));
    cluster.crash(n(4));
    let key = cluster.propose(n(1), "x".into()).unwrap();
    settle(&mut cluster);
    assert!(
        commit(&cluster, 1) < key.index,
        "n1 and n2 are not a quorum of four"
    );
    assert_safe(&cluster);
}

#[test]
fn a_node_outside_the_cluster_does_not_campaign() {
    let mut cluster = cluster_of(4, 3);
    time_out(&mut cluster, 4);
    assert_eq!(role(&cluster, 4), Role::Follower);
    assert_eq!(
        cluster.node(n(4)).status().term,
        Term(0),
        "never campaigned"
    );
    assert_eq!(
        cluster.campaign(n(4)),
        Ok(StepOutcome::Dropped(DropReason::NotAVoter))
    );
}

#[test]
fn a_learner_receives_the_log_but_never_counts() {
    let mut cluster = cluster_of(4, 3);
    change(&mut cluster, 1, add_learner(4));
    assert_eq!(learners(&cluster, 1), ids(&[4]));
    assert_eq!(learners(&cluster, 4), ids(&[4]), "n4 knows it learns");
    assert_eq!(logs(&cluster)[3], logs(&cluster)[0]);
    // n1 and learner n4 hold the next entry: no quorum of {n1, n2, n3}.
    cluster.crash(n(2));
    cluster.crash(n(3));
    let key = cluster.propose(n(1), "x".into()).unwrap();
    settle(&mut cluster);
    assert_eq!(
        cluster.node(n(1)).progress(n(4)).unwrap().matched(),
        key.index
    );
    assert!(
        commit(&cluster, 1) < key.index,
        "a learner's ack never commits"
    );
    assert_safe(&cluster);
}

#[test]
fn a_learner_never_campaigns() {
    let mut cluster = cluster_of(4, 3);
    change(&mut cluster, 1, add_learner(4));
    cluster.crash(n(1));
    time_out(&mut cluster, 4);
    assert_eq!(role(&cluster, 4), Role::Follower);
    assert_eq!(
        cluster.campaign(n(4)),
        Ok(StepOutcome::Dropped(DropReason::NotAVoter))
    );
}

#[test]
fn a_learner_grants_its_vote_but_is_never_counted() {
    // etcd's rule: a learner may have been promoted without knowing it yet,
    // so it answers vote requests; the candidate counts only voters.
    let mut cluster = cluster_of(4, 3);
    change(&mut cluster, 1, add_learner(4));
    cluster.isolate(n(3));
    cluster.crash(n(1));
    cluster.campaign(n(2)).unwrap();
    let transcript = settle(&mut cluster);
    assert!(
        !transcript.iter().any(|m| m.starts_with("n2->n4")),
        "a candidate asks voters only: {transcript:?}"
    );
    assert_eq!(role(&cluster, 2), Role::Candidate, "n3 is cut off, n1 down");
    let asked = cluster.step(request_vote(2, 2, 4, "2@1"));
    assert_eq!(
        asked,
        Ok(StepOutcome::Handled),
        "a learner takes a vote request"
    );
    assert_eq!(cluster.node(n(4)).status().voted_node, Some(n(2)));
    let transcript = settle(&mut cluster);
    assert_eq!(transcript, ["n4->n2 Vote{t2, granted}"]);
    assert_eq!(
        role(&cluster, 2),
        Role::Candidate,
        "its grant does not count"
    );
}

#[test]
fn a_promoted_learner_votes_and_can_lead() {
    let mut cluster = cluster_of(4, 3);
    change(&mut cluster, 1, add_learner(4));
    change(&mut cluster, 1, add_voter(4));
    assert_eq!(learners(&cluster, 4), ids(&[]));
    assert_eq!(voters(&cluster, 2), ids(&[1, 2, 3, 4]));
    elect(&mut cluster, 4);
    assert_eq!(role(&cluster, 4), Role::Leader);
    assert_safe(&cluster);
}

// ---------------------------------------------------------------- removing

#[test]
fn a_removed_follower_is_no_longer_replicated_to_nor_heard() {
    let mut cluster = cluster_of(3, 3);
    change(&mut cluster, 1, remove(3));
    assert_eq!(voters(&cluster, 1), ids(&[1, 2]));
    assert_eq!(cluster.node(n(1)).progress(n(3)), None, "no longer tracked");
    let key = cluster.propose(n(1), "x".into()).unwrap();
    let transcript = settle(&mut cluster);
    assert!(
        !transcript.iter().any(|m| m.contains("->n3")),
        "{transcript:?}"
    );
    assert!(
        commit(&cluster, 1) >= key.index,
        "n1 and n2 are the quorum now"
    );
    // n3 never learned it was removed (the commit reached it too late): it
    // campaigns, and the others drop its request before its term counts.
    time_out(&mut cluster, 3);
    let transcript = settle(&mut cluster);
    assert!(transcript
        .iter()
        .any(|m| m.starts_with("n3->n1 RequestVote")));
    assert_eq!(cluster.node(n(1)).status().term, Term(1), "not disrupted");
    assert_eq!(role(&cluster, 1), Role::Leader);
}

#[test]
fn removing_a_node_shrinks_the_quorum() {
    let mut cluster = cluster_of(4, 4);
    change(&mut cluster, 1, remove(4));
    cluster.crash(n(3));
    let key = cluster.propose(n(1), "x".into()).unwrap();
    settle(&mut cluster);
    assert!(commit(&cluster, 1) >= key.index, "n1 and n2 of {{1,2,3}}");
    assert_safe(&cluster);
}

#[test]
fn a_removed_leader_leads_until_the_removal_applies_then_steps_down() {
    let mut cluster = cluster_of(3, 3);
    let key = cluster.propose_conf_change(n(1), remove(1)).unwrap();
    assert_eq!(role(&cluster, 1), Role::Leader, "appended, not applied");
    settle(&mut cluster);
    assert_eq!(
        role(&cluster, 1),
        Role::Follower,
        "stepped down once applied"
    );
    assert_eq!(cluster.node(n(1)).status().term, Term(1));
    // Its last heartbeat told n2, whose ack committed the removal, that it
    // did (n3's ack came after n1 stepped down: it learns from n2).
    assert!(commit(&cluster, 2) >= key.index);
    assert_eq!(voters(&cluster, 2), ids(&[2, 3]));
    time_out(&mut cluster, 1);
    assert_eq!(
        cluster.node(n(1)).status().term,
        Term(1),
        "n1 never campaigns"
    );
    elect(&mut cluster, 2);
    assert_eq!(role(&cluster, 2), Role::Leader);
    beat(&mut cluster, 2);
    assert_eq!(voters(&cluster, 3), ids(&[2, 3]));
    assert_safe(&cluster);
}

// ---------------------------------------------------------------- pending changes

#[test]
fn a_second_change_waits_until_the_first_is_applied() {
    let mut cluster = cluster_of(5, 3);
    cluster.isolate(n(2));
    cluster.isolate(n(3));
    let first = cluster.propose_conf_change(n(1), add_learner(4)).unwrap();
    assert_eq!(
        cluster.propose_conf_change(n(1), add_learner(5)),
        Err(Error::ConfChangePending { index: first.index }.into())
    );
    let last = cluster.node(n(1)).status().last;
    assert_eq!(last.index, first.index, "the refusal appended nothing");
    cluster.recover();
    beat(&mut cluster, 1);
    assert_eq!(learners(&cluster, 1), ids(&[4]));
    cluster.propose_conf_change(n(1), add_learner(5)).unwrap();
}

#[test]
fn a_new_leader_waits_until_it_applied_its_whole_log() {
    // etcd's TestNewLeaderPendingConfig: a change an earlier leader appended
    // may be in the log uncommitted; a new leader takes no change before it
    // applied everything it held at its election.
    let mut cluster = cluster_of(4, 3);
    cluster.drop_kind("AppendEntriesResponse");
    cluster.propose_conf_change(n(1), add_learner(4)).unwrap();
    settle(&mut cluster);
    assert_eq!(commit(&cluster, 1), Index(1), "2@1 reached n2 and n3 only");
    cluster.recover();
    cluster.drop_kind("AppendEntries");
    elect(&mut cluster, 2);
    assert_eq!(role(&cluster, 2), Role::Leader);
    assert_eq!(
        cluster.propose_conf_change(n(2), add_voter(4)),
        Err(Error::ConfChangePending { index: Index(2) }.into()),
        "2@1 may be a change, and is not applied"
    );
    cluster.recover();
    beat(&mut cluster, 2);
    assert_eq!(
        learners(&cluster, 2),
        ids(&[4]),
        "2@1 applied with the no-op"
    );
    cluster.propose_conf_change(n(2), add_voter(4)).unwrap();
}

#[test]
fn a_change_that_does_not_apply_is_refused_and_nothing_appended() {
    let mut cluster = cluster_of(4, 3);
    let last = cluster.node(n(1)).status().last;
    let refused = [
        (add_voter(2), MembershipError::AlreadyVoter(n(2))),
        (remove(4), MembershipError::NotMember(n(4))),
        (ConfChange::LeaveJoint, MembershipError::NotJoint),
        (joint(&["l2"], true), MembershipError::DemoteInJoint(n(2))),
    ];
    for (c, why) in refused {
        assert_eq!(
            cluster.propose_conf_change(n(1), c),
            Err(Error::InvalidConfChange(why).into())
        );
    }
    assert_eq!(cluster.node(n(1)).status().last, last);
}

#[test]
fn a_follower_refuses_a_change_and_names_the_leader() {
    let mut cluster = cluster_of(4, 3);
    assert_eq!(
        cluster.propose_conf_change(n(2), add_voter(4)),
        Err(Error::NotLeader { leader: Some(n(1)) }.into())
    );
}

// ---------------------------------------------------------------- joint consensus

#[test]
fn a_joint_change_with_auto_leave_enters_and_leaves_on_its_own() {
    // Replace n1 and n2 by n4 and n5 in one change.
    let mut cluster = cluster_of(5, 3);
    change(&mut cluster, 1, joint(&["-1", "-2", "+4", "+5"], true));
    // The leader proposed the leave as soon as it applied the joint entry,
    // and stepped down once it applied the leave: n1 is not in {3, 4, 5}.
    assert_eq!(role(&cluster, 1), Role::Follower);
    assert!(!cluster.node(n(1)).membership().is_joint());
    // Its last heartbeat told each follower how far it committed, as far as
    // that follower matched; a follower whose ack came later learns it from
    // the next leader.
    elect(&mut cluster, 3);
    beat(&mut cluster, 3);
    for id in [3, 4, 5] {
        let m = cluster.node(n(id)).membership().clone();
        assert!(!m.is_joint(), "n{id} left the joint configuration");
        assert_eq!(m.incoming(), &ids(&[3, 4, 5]), "n{id}");
    }
    assert_safe(&cluster);
}

#[test]
fn an_explicit_joint_change_stays_joint_until_left() {
    let mut cluster = cluster_of(4, 3);
    change(&mut cluster, 1, joint(&["-3", "+4"], false));
    let m = cluster.node(n(2)).membership().clone();
    assert_eq!(m.outgoing(), Some(&ids(&[1, 2, 3])));
    assert_eq!(m.incoming(), &ids(&[1, 2, 4]));
    beat(&mut cluster, 1);
    assert!(
        cluster.node(n(1)).membership().is_joint(),
        "no leave proposed"
    );
    assert_eq!(
        cluster.propose_conf_change(n(1), add_learner(3)),
        Err(Error::InvalidConfChange(MembershipError::InJoint).into())
    );
    change(&mut cluster, 1, ConfChange::LeaveJoint);
    assert_eq!(voters(&cluster, 2), ids(&[1, 2, 4]));
    assert!(!cluster.node(n(2)).membership().is_joint());
}

#[test]
fn a_joint_configuration_commits_only_with_both_majorities() {
    // {1,2,3} -> {1,4,5}. With n4 and n5 down, n1, n2 and n3 are a majority
    // of the old set only; with n2 and n3 down, n1, n4 and n5 of the new one.
    for (down, back) in [([4, 5], 4), ([2, 3], 2)] {
        let mut cluster = cluster_of(5, 3);
        change(&mut cluster, 1, joint(&["-2", "-3", "+4", "+5"], false));
        for id in down {
            cluster.crash(n(id));
        }
        let key = cluster.propose(n(1), "x".into()).unwrap();
        settle(&mut cluster);
        assert!(
            commit(&cluster, 1) < key.index,
            "{down:?} down: one set lacks it"
        );
        cluster.restart(n(back)).unwrap();
        beat(&mut cluster, 1);
        assert!(commit(&cluster, 1) >= key.index, "n{back} is back");
        assert_safe(&cluster);
    }
}

#[test]
fn a_joint_election_needs_both_majorities() {
    let mut cluster = cluster_of(5, 3);
    change(&mut cluster, 1, joint(&["-2", "-3", "+4", "+5"], false));
    // n1 and n3 grant n2's campaign, a majority of {1,2,3}; n4 and n5, the
    // rest of {1,4,5}, are cut off.
    cluster.isolate(n(4));
    cluster.isolate(n(5));
    elect(&mut cluster, 2);
    assert_eq!(
        role(&cluster, 2),
        Role::Candidate,
        "no majority of {{1,4,5}}"
    );
    cluster.recover();
    elect(&mut cluster, 2);
    assert_eq!(role(&cluster, 2), Role::Leader);
    assert_safe(&cluster);
}

// ---------------------------------------------------------------- leader transfer

#[test]
fn a_transfer_to_a_removed_node_or_a_learner_fails() {
    let mut cluster = cluster_of(4, 3);
    change(&mut cluster, 1, remove(3));
    change(&mut cluster, 1, add_learner(4));
    for target in [3, 4] {
        assert_eq!(
            cluster.transfer_leader(n(1), n(target)),
            Err(Error::UnknownNode { id: n(target) }.into())
        );
    }
}

#[test]
fn a_transfer_is_given_up_when_its_target_is_removed() {
    let mut cluster = cluster_of(3, 3);
    cluster.isolate(n(3));
    cluster.propose_conf_change(n(1), remove(3)).unwrap();
    cluster.transfer_leader(n(1), n(3)).unwrap();
    assert_eq!(cluster.node(n(1)).status().transfer, Some(n(3)));
    settle(&mut cluster);
    assert_eq!(voters(&cluster, 1), ids(&[1, 2]));
    assert_eq!(cluster.node(n(1)).status().transfer, None, "given up");
    cluster.propose(n(1), "x".into()).unwrap();
}

// ---------------------------------------------------------------- restarts and snapshots

#[test]
fn a_restarted_node_rebuilds_its_membership_from_the_log() {
    let mut cluster = cluster_of(5, 3);
    change(&mut cluster, 1, add_voter(4));
    change(&mut cluster, 1, add_learner(5));
    cluster.crash(n(2));
    cluster.restart(n(2)).unwrap();
    // Without a durable state machine the application applies the log
    // again, and the membership follows what it applied.
    assert_eq!(voters(&cluster, 2), ids(&[1, 2, 3]), "nothing applied yet");
    cluster.drive_ready(n(2)).unwrap();
    assert_eq!(voters(&cluster, 2), ids(&[1, 2, 3, 4]));
    assert_eq!(learners(&cluster, 2), ids(&[5]));
}

#[test]
fn a_restart_in_a_joint_configuration_stays_joint() {
    let mut cluster = cluster_of(4, 3);
    change(&mut cluster, 1, joint(&["+4"], false));
    cluster.crash(n(3));
    cluster.restart(n(3)).unwrap();
    cluster.drive_ready(n(3)).unwrap();
    let m = cluster.node(n(3)).membership().clone();
    assert!(m.is_joint() && !m.auto_leave());
    assert_eq!(m.outgoing(), Some(&ids(&[1, 2, 3])));
}

#[test]
fn a_snapshot_carries_the_membership_and_a_restart_restores_it() {
    let mut cluster = Cluster::with_voters(4, 3, |_| {});
    cluster.keep_machines();
    elect(&mut cluster, 1);
    beat(&mut cluster, 1);
    cluster.crash(n(3));
    change(&mut cluster, 1, add_learner(4));
    change(&mut cluster, 1, joint(&["+4"], false));
    assert!(cluster.compact(n(1)), "n1 compacts its whole log");
    // n3 needs entries n1 compacted: the snapshot brings the membership.
    cluster.restart(n(3)).unwrap();
    beat(&mut cluster, 1);
    let m = cluster.node(n(1)).membership().clone();
    assert_eq!(cluster.node(n(3)).membership(), &m);
    assert_eq!(m.outgoing(), Some(&ids(&[1, 2, 3])));
    let snapshot = cluster.node(n(3)).storage().stored_snapshot().clone();
    assert!(!snapshot.is_empty(), "n3 caught up from the snapshot");
    assert_eq!(
        snapshot.meta.outgoing,
        ids(&[1, 2, 3]),
        "joint in the snapshot"
    );
    cluster.crash(n(3));
    cluster.restart(n(3)).unwrap();
    assert_eq!(cluster.node(n(3)).membership(), &m, "restored on restart");
    assert_safe(&cluster);
}

#[test]
fn a_node_does_not_campaign_while_a_committed_change_is_unapplied() {
    // n2's storage holds a committed removal of n3 its application has not
    // applied yet: campaigning now would count votes in {n1, n2, n3}.
    let mut storage = storage(hard(1, None, 2), "1@1");
    let removal = ruft::Entry::conf_change(key("2@1"), remove(3));
    storage.append(&[removal]).unwrap();
    let mut node = block_on(Node::new(config(2, 3), storage)).unwrap();
    assert_eq!(
        block_on(node.campaign()),
        Ok(StepOutcome::Dropped(DropReason::ConfChangeUnapplied))
    );
    run_ready(&mut node);
    assert_eq!(node.membership().incoming(), &ids(&[1, 2]));
    assert_eq!(step_campaign(&mut node), Role::Candidate);
}

#[test]
fn a_learner_reads_the_membership_it_applied() {
    let mut cluster = cluster_of(4, 3);
    change(&mut cluster, 1, add_learner(4));
    let membership = cluster.node(n(4)).membership();
    assert_eq!(membership.incoming(), &ids(&[1, 2, 3]));
    assert_eq!(membership.learners(), &ids(&[4]));
}

#[test]
fn a_snapshots_membership_takes_effect_once_the_application_restored_it() {
    let mut node = fresh(2, 3);
    let m = ruft::Membership::simple([n(1), n(2)]).unwrap();
    let snap = ruft::Snapshot::with_membership(key("5@1"), &m, "state");
    assert_eq!(
        step(&mut node, install_snapshot(1, 1, 2, snap)),
        StepOutcome::Handled
    );
    assert_eq!(
        node.membership().incoming(),
        &ids(&[1, 2, 3]),
        "not restored yet"
    );
    assert_eq!(
        block_on(node.campaign()),
        Ok(StepOutcome::Dropped(DropReason::ConfChangeUnapplied))
    );
    let rd = run_ready(&mut node);
    assert!(rd.snapshot.is_some(), "the application restored it");
    assert_eq!(node.membership(), &m);
}
