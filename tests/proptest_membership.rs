//! Joint-consensus quorum arithmetic (`ruft::progress::joint::Membership`,
//! thesis §4.3) against brute force, over arbitrary voter sets (simple and
//! joint), learners, match indexes and votes:
//!
//! - the committed index is the largest index that a majority of *every*
//!   voter set matched; learners never count;
//! - an election is won when the granted voters are a majority of every
//!   voter set, lost when no way of casting the outstanding votes wins it
//!   (every completion is tried), pending otherwise;
//! - check-quorum's `has_quorum` is a win of the nodes heard.
//!
//! Budgets: 10,000 cases per property, well under a second;
//! `RUFT_PROPTEST_SCALE=k` multiplies them. Failures are persisted under
//! `proptest-regressions/proptest_membership/`.

use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, FileFailurePersistence};
use ruft::progress::config::VoteResult;
use ruft::progress::joint::Membership;
use ruft::{Index, NodeId};
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
