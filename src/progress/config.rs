//! The voter set and its quorum arithmetic: small pure functions over acked
//! indexes and votes, with no knowledge of roles or messages.
//!
//! Conventions: a quorum of `n` voters is `n / 2 + 1` (a strict majority). An
//! empty voter set has no quorum: its committed index is `Index(0)` and its
//! elections stay pending (a validated [`crate::Config`] is never empty).

use crate::{Index, NodeId};
use std::collections::{BTreeMap, BTreeSet};

/// The outcome of an election so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VoteResult {
    /// A quorum granted.
    Won,
    /// Enough voters rejected that no quorum can grant.
    Lost,
    /// Neither yet.
    Pending,
}

/// The smallest number of voters that forms a majority of `voter_count`.
pub fn quorum(voter_count: usize) -> usize {
    voter_count / 2 + 1
}

/// The highest index acked by a quorum: sort the voters' matched indexes in
/// descending order and take the quorum-th. Voters with no entry in `matched`
/// count as `Index(0)`.
pub fn committed_index(voters: &BTreeSet<NodeId>, matched: impl Fn(NodeId) -> Index) -> Index {
    committed_index_at(voters, quorum(voters.len()), matched)
}

/// [`committed_index`] with a quorum of `q` voters (clamped to `1..=voters`).
pub fn committed_index_at(
    voters: &BTreeSet<NodeId>,
    q: usize,
    matched: impl Fn(NodeId) -> Index,
) -> Index {
    if voters.is_empty() {
        return Index(0);
    }
    let mut acked: Vec<Index> = voters.iter().map(|&id| matched(id)).collect();
    acked.sort_unstable_by(|a, b| b.cmp(a));
    acked[q.clamp(1, acked.len()) - 1]
}

/// Tallies `votes` (voter -> granted) among `voters`; votes of non-voters are ignored.
pub fn vote_result(voters: &BTreeSet<NodeId>, votes: &BTreeMap<NodeId, bool>) -> VoteResult {
    vote_result_at(voters, votes, quorum(voters.len()))
}

/// [`vote_result`] with a quorum of `q` voters (at least 1).
pub fn vote_result_at(
    voters: &BTreeSet<NodeId>,
    votes: &BTreeMap<NodeId, bool>,
    q: usize,
) -> VoteResult {
    if voters.is_empty() {
        return VoteResult::Pending;
    }
    let q = q.max(1);
    let counted = voters.iter().filter_map(|id| votes.get(id));
    let granted = counted.clone().filter(|&&g| g).count();
    let rejected = counted.filter(|&&g| !g).count();
    if granted >= q {
        VoteResult::Won
    } else if voters.len() - rejected < q {
        VoteResult::Lost
    } else {
        VoteResult::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn voters(n: u64) -> BTreeSet<NodeId> {
        (1..=n).map(NodeId).collect()
    }

    #[test]
    fn committed_index_is_the_quorum_th_highest_match() {
        let m = [5, 3, 9, 1, 3];
        let at = |id: NodeId| Index(m[(id.0 - 1) as usize]);
        assert_eq!(committed_index(&voters(1), at), Index(5));
        assert_eq!(committed_index(&voters(3), at), Index(5)); // 9 5 3
        assert_eq!(committed_index(&voters(5), at), Index(3)); // 9 5 3 3 1
        assert_eq!(committed_index(&BTreeSet::new(), at), Index(0));
    }

    #[test]
    fn election_tables_for_one_three_and_five_voters() {
        let tally = |n: u64, granted: &[u64], rejected: &[u64]| {
            let mut v = BTreeMap::new();
            v.extend(granted.iter().map(|&g| (NodeId(g), true)));
            v.extend(rejected.iter().map(|&r| (NodeId(r), false)));
            vote_result(&voters(n), &v)
        };
        assert_eq!(tally(1, &[1], &[]), VoteResult::Won);
        assert_eq!(tally(3, &[1], &[]), VoteResult::Pending);
        assert_eq!(tally(3, &[1, 2], &[]), VoteResult::Won);
        assert_eq!(tally(3, &[1], &[2, 3]), VoteResult::Lost);
        assert_eq!(tally(5, &[1, 2], &[3, 4]), VoteResult::Pending);
        assert_eq!(tally(5, &[1, 2, 5], &[3, 4]), VoteResult::Won);
        assert_eq!(tally(5, &[1], &[2, 3, 4]), VoteResult::Lost);
        assert_eq!(
            tally(3, &[1, 7, 8], &[]),
            VoteResult::Pending,
            "non-voters do not count"
        );
    }
}
