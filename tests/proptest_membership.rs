//! Joint-consensus quorum arithmetic (`ruft::progress::joint::Membership`,
//! thesis §4.3) against brute force, over arbitrary voter sets (simple and
//! joint), learners, match indexes and votes:
//!
//! - the committed index is the largest index that a majority of *every*
//!   voter set matched; learners never count;
//! - an election is won when the granted voters are a majority of every
//!   voter set, lost when no way of casting the outstanding votes wins it
//!   (every completion is tried), pending otherwise;
//! - check-quorum's `has_quorum` is a win of the nodes heard;
//! - a change (`Membership::apply`) does what a naive model of roles says,
//!   and every quorum of a membership overlaps every quorum of the one a
//!   change leads to (no two disjoint quorums: the reason a change needs no
//!   further step), checked over every split of the nodes.
//!
//! Budgets: 10,000 cases per property, well under a second;
//! `RUFT_PROPTEST_SCALE=k` multiplies them. Failures are persisted under
//! `proptest-regressions/proptest_membership/`.

use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, FileFailurePersistence};
use ruft::progress::config::VoteResult;
use ruft::progress::joint::Membership;
use ruft::{ConfChange, Index, MemberChange, NodeId};
use std::collections::BTreeMap;
use std::collections::BTreeSet;

fn config(cases: u32, file: &'static str) -> ProptestConfig {
    ProptestConfig {
        cases: ruft_models::budget::cases(cases),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(file))),
        ..ProptestConfig::default()
    }
}

const IDS: u64 = 8;

fn ids() -> impl Strategy<Value = BTreeSet<NodeId>> {
    prop::collection::btree_set((1..=IDS).prop_map(NodeId), 1..=IDS as usize)
}

/// A valid membership: voters, maybe an outgoing set, learners among the rest.
fn membership() -> impl Strategy<Value = Membership> {
    (ids(), prop::option::of(ids()), ids()).prop_map(|(incoming, outgoing, learners)| {
        let voting = |id: &NodeId| incoming.contains(id) || outgoing.iter().any(|o| o.contains(id));
        let learners = learners.into_iter().filter(|l| !voting(l)).collect();
        match outgoing {
            Some(outgoing) => Membership::joint(incoming, outgoing, learners),
            None => Membership::new(incoming, learners),
        }
        .expect("non-empty voter sets, learners apart")
    })
}

/// The voter sets of `m`, one or two.
fn sets(m: &Membership) -> Vec<&BTreeSet<NodeId>> {
    std::iter::once(m.incoming()).chain(m.outgoing()).collect()
}

/// Whether `yes` holds a strict majority of every voter set of `m`.
fn majority_of_each(m: &Membership, yes: &BTreeSet<NodeId>) -> bool {
    sets(m)
        .into_iter()
        .all(|set| 2 * set.intersection(yes).count() > set.len())
}

proptest! {
    #![proptest_config(config(10_000, "proptest-regressions/proptest_membership/quorum.txt"))]

    #[test]
    fn committed_index_is_the_largest_index_a_majority_of_each_set_matched(
        m in membership(),
        matched in prop::collection::btree_map((1..=IDS).prop_map(NodeId), 0u64..20, 0..=IDS as usize),
    ) {
        let at = |id: NodeId| Index(matched.get(&id).copied().unwrap_or(0));
        let mut brute = 0;
        for i in m.members().iter().map(|&id| at(id).0) {
            let holding: BTreeSet<NodeId> = m.members().into_iter().filter(|&id| at(id).0 >= i).collect();
            if i > brute && majority_of_each(&m, &holding) {
                brute = i;
            }
        }
        prop_assert_eq!(m.committed_index(at), Index(brute));
    }

    #[test]
    fn an_election_is_won_lost_or_pending_as_every_completion_says(
        m in membership(),
        votes in prop::collection::btree_map((1..=IDS).prop_map(NodeId), any::<bool>(), 0..=IDS as usize),
    ) {
        let granted: BTreeSet<NodeId> = votes.iter().filter(|(_, &g)| g).map(|(&id, _)| id).collect();
        let open: Vec<NodeId> = m.voters().into_iter().filter(|id| !votes.contains_key(id)).collect();
        // Every way the outstanding voters could still vote.
        let can_win = (0u32..1 << open.len()).any(|mask| {
            let mut yes = granted.clone();
            yes.extend(open.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, &id)| id));
            majority_of_each(&m, &yes)
        });
        let expected = if majority_of_each(&m, &granted) {
            VoteResult::Won
        } else if !can_win {
            VoteResult::Lost
        } else {
            VoteResult::Pending
        };
        prop_assert_eq!(m.vote_result(&votes), expected);
        prop_assert_eq!(m.has_quorum(&granted), expected == VoteResult::Won);
    }
}

fn member_change() -> impl Strategy<Value = MemberChange> {
    let id = (1..=IDS).prop_map(NodeId);
    prop_oneof![
        id.clone().prop_map(MemberChange::AddVoter),
        id.clone().prop_map(MemberChange::AddLearner),
        id.prop_map(MemberChange::Remove),
    ]
}

fn conf_change() -> impl Strategy<Value = ConfChange> {
    prop_oneof![
        3 => member_change().prop_map(ConfChange::Simple),
        2 => (prop::collection::vec(member_change(), 0..4), any::<bool>())
            .prop_map(|(changes, auto_leave)| ConfChange::EnterJoint { changes, auto_leave }),
        1 => Just(ConfChange::LeaveJoint),
    ]
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NaiveRole {
    Voter,
    Learner,
}

/// The naive twin: each node's role in the incoming configuration, and the
/// outgoing voters while joint.
type Naive = (BTreeMap<NodeId, NaiveRole>, Option<BTreeSet<NodeId>>);

fn naive(m: &Membership) -> Naive {
    let mut roles: BTreeMap<NodeId, NaiveRole> = m
        .incoming()
        .iter()
        .map(|&id| (id, NaiveRole::Voter))
        .collect();
    roles.extend(m.learners().iter().map(|&id| (id, NaiveRole::Learner)));
    (roles, m.outgoing().cloned())
}

/// What the naive twin says `change` does to `m`: `None` when it must be
/// refused.
fn naive_apply(m: &Membership, change: &ConfChange) -> Option<Naive> {
    let (mut roles, outgoing) = naive(m);
    let one = |roles: &mut BTreeMap<NodeId, NaiveRole>, c: &MemberChange, joint: bool| match *c {
        MemberChange::AddVoter(id) => {
            (roles.insert(id, NaiveRole::Voter) != Some(NaiveRole::Voter)).then_some(())
        }
        MemberChange::AddLearner(id) => {
            let was = roles.insert(id, NaiveRole::Learner);
            (was != Some(NaiveRole::Learner) && !(joint && was == Some(NaiveRole::Voter)))
                .then_some(())
        }
        MemberChange::Remove(id) => roles.remove(&id).map(drop),
    };
    let has_voters =
        |roles: &BTreeMap<NodeId, NaiveRole>| roles.values().any(|r| *r == NaiveRole::Voter);
    match change {
        ConfChange::Simple(c) => {
            outgoing.is_none().then_some(())?;
            one(&mut roles, c, false)?;
            has_voters(&roles).then_some((roles, None))
        }
        ConfChange::EnterJoint { changes, .. } => {
            outgoing.is_none().then_some(())?;
            let named: BTreeSet<NodeId> = changes.iter().map(|c| c.node()).collect();
            (!changes.is_empty() && named.len() == changes.len()).then_some(())?;
            for c in changes {
                one(&mut roles, c, true)?;
            }
            has_voters(&roles).then_some((roles, Some(m.incoming().clone())))
        }
        ConfChange::LeaveJoint => outgoing.map(|_| (roles, None)),
    }
}

/// Whether `yes` is a quorum of `m`: a majority of every voter set.
fn is_quorum(m: &Membership, yes: &BTreeSet<NodeId>) -> bool {
    majority_of_each(m, yes)
}

proptest! {
    #![proptest_config(config(10_000, "proptest-regressions/proptest_membership/changes.txt"))]

    #[test]
    fn a_change_does_what_the_naive_model_says_and_keeps_quorums_overlapping(
        m in membership(),
        changes in prop::collection::vec(conf_change(), 1..6),
    ) {
        let mut m = m;
        for change in changes {
            let expected = naive_apply(&m, &change);
            match m.apply(&change) {
                Ok(next) => {
                    prop_assert_eq!(Some(naive(&next)), expected, "{} on {:?}", change, m);
                    prop_assert_eq!(next.auto_leave(), matches!(change, ConfChange::EnterJoint { auto_leave: true, .. }));
                    let all: Vec<NodeId> = m.members().union(&next.members()).copied().collect();
                    for mask in 0u32..1 << all.len() {
                        let a: BTreeSet<NodeId> = all.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, &id)| id).collect();
                        let b: BTreeSet<NodeId> = all.iter().copied().filter(|id| !a.contains(id)).collect();
                        prop_assert!(
                            !(is_quorum(&m, &a) && is_quorum(&next, &b)),
                            "disjoint quorums {:?} of {:?} and {:?} of {:?} after {}", a, m, b, next, change
                        );
                    }
                    m = next;
                }
                Err(why) => {
                    prop_assert_eq!(expected, None, "{} refused ({}) on {:?}", change, why, m);
                }
            }
        }
    }
}
