//! Membership as the quorum arithmetic sees it: a [`Membership`] is the
//! voter set, and while a joint change is under way (thesis §4.3) also the
//! voter set being left, plus learners, who never count. Every decision that
//! needs a quorum (an election, a commit, a read, check-quorum) needs one in
//! *each* voter set while joint: [`Membership::committed_index`] takes the
//! lower of the two sets' indexes and [`Membership::vote_result`] wins only
//! when both win. Pure functions over [`super::config`]'s majority rules;
//! `tests/proptest_units.rs` checks them against brute force.

use super::config::{committed_index_at, quorum, vote_result_at, VoteResult};
use crate::{Index, NodeId};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// How many of `n` voters form a quorum: [`quorum`] (a strict majority)
/// for a correct engine; a mutant may swap in another rule.
pub type QuorumRule = fn(usize) -> usize;

/// Who votes, who is being left during a joint change, and who only learns.
///
/// Invariants ([`Membership::new`], [`Membership::joint`]): the voter sets
/// are not empty, and no learner is a voter of either set.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Membership {
    /// The voters (while joint: the configuration being entered, C_new).
    incoming: Arc<BTreeSet<NodeId>>,
    /// While joint: the voters being left (C_old). `None` when not joint.
    outgoing: Option<Arc<BTreeSet<NodeId>>>,
    /// Nodes that receive the log but never vote nor count for a quorum.
    learners: Arc<BTreeSet<NodeId>>,
    /// While joint: whether the leader leaves the joint configuration on its
    /// own once it takes effect ([`crate::ConfChange::EnterJoint`]).
    auto_leave: bool,
}

/// Why a membership cannot be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MembershipError {
    /// A voter set would be empty: it would have no quorum.
    #[error("a voter set is empty")]
    NoVoters,
    /// A node would be a learner and a voter at once.
    #[error("{0} is both a learner and a voter")]
    LearnerVotes(NodeId),
    /// A simple change or a new joint change while a joint one is under way.
    #[error("a joint change is under way: leave it first")]
    InJoint,
    /// Leaving a joint configuration that is not joint.
    #[error("the configuration is not joint")]
    NotJoint,
    /// A joint change with no changes.
    #[error("the change changes nothing")]
    NoChange,
    /// A joint change naming a node twice.
    #[error("{0} is named twice in one change")]
    Repeated(NodeId),
    /// Adding a voter that already votes.
    #[error("{0} is already a voter")]
    AlreadyVoter(NodeId),
    /// Adding a learner that already learns.
    #[error("{0} is already a learner")]
    AlreadyLearner(NodeId),
    /// Demoting a voter to learner inside a joint change.
    #[error("{0} cannot be demoted inside a joint change: use a simple change")]
    DemoteInJoint(NodeId),
    /// Removing a node that is not a member.
    #[error("{0} is not a member")]
    NotMember(NodeId),
}

impl Membership {
    /// A simple (not joint) membership of `voters` and `learners`.
    pub fn new(
        voters: BTreeSet<NodeId>,
        learners: BTreeSet<NodeId>,
    ) -> Result<Membership, MembershipError> {
        Membership {
            incoming: Arc::new(voters),
            outgoing: None,
            learners: Arc::new(learners),
            auto_leave: false,
        }
        .checked()
    }

    /// A simple membership of `voters` and no learners.
    ///
    /// ```
    /// use ruft::{Membership, NodeId};
    /// let m = Membership::simple([NodeId(1), NodeId(2)]).unwrap();
    /// assert!(m.is_voter(NodeId(2)) && !m.is_joint());
    /// assert!(Membership::simple([]).is_err(), "no voters, no quorum");
    /// ```
    pub fn simple(voters: impl IntoIterator<Item = NodeId>) -> Result<Membership, MembershipError> {
        Membership::new(voters.into_iter().collect(), BTreeSet::new())
    }

    /// A joint membership: `incoming` is entered while `outgoing` is left;
    /// both must agree on every decision until the joint phase is left.
    pub fn joint(
        incoming: BTreeSet<NodeId>,
        outgoing: BTreeSet<NodeId>,
        learners: BTreeSet<NodeId>,
    ) -> Result<Membership, MembershipError> {
        Membership {
            incoming: Arc::new(incoming),
            outgoing: Some(Arc::new(outgoing)),
            learners: Arc::new(learners),
            auto_leave: false,
        }
        .checked()
    }

    /// The same membership, leaving its joint configuration on its own (or
    /// not). Meaningless, and ignored, when not joint.
    pub fn with_auto_leave(mut self, auto_leave: bool) -> Membership {
        self.auto_leave = auto_leave && self.is_joint();
        self
    }

    /// Whether the leader leaves this joint configuration on its own.
    pub fn auto_leave(&self) -> bool {
        self.auto_leave
    }

    fn checked(self) -> Result<Membership, MembershipError> {
        if self.incoming.is_empty() || self.outgoing.as_ref().is_some_and(|o| o.is_empty()) {
            return Err(MembershipError::NoVoters);
        }
        if let Some(&both) = self.learners.iter().find(|&&l| self.is_voter(l)) {
            return Err(MembershipError::LearnerVotes(both));
        }
        debug_assert!(
            !self.incoming.is_empty(),
            "§4.3: every voter set has a quorum"
        );
        Ok(self)
    }

    /// The voters (while joint, of the configuration being entered).
    pub fn incoming(&self) -> &BTreeSet<NodeId> {
        &self.incoming
    }

    /// While joint, the voters being left.
    pub fn outgoing(&self) -> Option<&BTreeSet<NodeId>> {
        self.outgoing.as_deref()
    }

    /// The learners.
    pub fn learners(&self) -> &BTreeSet<NodeId> {
        &self.learners
    }

    /// Whether a joint change is under way.
    pub fn is_joint(&self) -> bool {
        self.outgoing.is_some()
    }

    /// Whether `id` votes, in either voter set.
    pub fn is_voter(&self, id: NodeId) -> bool {
        self.incoming.contains(&id) || self.outgoing.as_ref().is_some_and(|o| o.contains(&id))
    }

    /// Every voter of either set, once each, in id order.
    pub fn voters(&self) -> BTreeSet<NodeId> {
        let mut all = (*self.incoming).clone();
        all.extend(self.outgoing.as_deref().into_iter().flatten().copied());
        all
    }

    /// Every member, voters and learners: whom a leader replicates to.
    pub fn members(&self) -> BTreeSet<NodeId> {
        let mut all = self.voters();
        all.extend(self.learners.iter().copied());
        debug_assert!(
            all.len() >= self.incoming.len(),
            "members include every voter"
        );
        all
    }

    /// The highest index matched by a quorum of every voter set (§4.3: while
    /// joint, an entry is committed only once both majorities hold it).
    /// Learners' indexes never count.
    pub fn committed_index(&self, matched: impl Fn(NodeId) -> Index) -> Index {
        self.committed_index_by(quorum, matched)
    }

    /// [`Self::committed_index`] with quorums of `rule(n)` voters.
    pub fn committed_index_by(&self, rule: QuorumRule, matched: impl Fn(NodeId) -> Index) -> Index {
        let of = |set: &BTreeSet<NodeId>| committed_index_at(set, rule(set.len()), &matched);
        let new = of(&self.incoming);
        let joint = match &self.outgoing {
            Some(old) => new.min(of(old)),
            None => new,
        };
        debug_assert!(joint <= new, "§4.3: joint consensus never commits more");
        joint
    }

    /// The election's outcome so far: won once a majority of every voter
    /// set granted, lost once some voter set can no longer grant (§4.3).
    /// Votes of learners and strangers are ignored.
    pub fn vote_result(&self, votes: &BTreeMap<NodeId, bool>) -> VoteResult {
        self.vote_result_by(quorum, votes)
    }

    /// [`Self::vote_result`] with quorums of `rule(n)` voters.
    pub fn vote_result_by(&self, rule: QuorumRule, votes: &BTreeMap<NodeId, bool>) -> VoteResult {
        let of = |set: &BTreeSet<NodeId>| vote_result_at(set, votes, rule(set.len()));
        let new = of(&self.incoming);
        let Some(old) = &self.outgoing else {
            return new;
        };
        let result = match (new, of(old)) {
            (VoteResult::Won, VoteResult::Won) => VoteResult::Won,
            (VoteResult::Lost, _) | (_, VoteResult::Lost) => VoteResult::Lost,
            _ => VoteResult::Pending,
        };
        debug_assert!(
            result != VoteResult::Won || new == VoteResult::Won,
            "§4.3: a joint win is a win in the new configuration"
        );
        result
    }

    /// The same membership with every node id mapped through `f` (a
    /// permutation of the nodes: symmetry reduction).
    pub fn relabel(&self, f: &dyn Fn(NodeId) -> NodeId) -> Membership {
        let map = |set: &Arc<BTreeSet<NodeId>>| Arc::new(set.iter().map(|&id| f(id)).collect());
        Membership {
            incoming: map(&self.incoming),
            outgoing: self.outgoing.as_ref().map(map),
            learners: map(&self.learners),
            auto_leave: self.auto_leave,
        }
    }

    /// The first member (voter or learner) after `after` in id order, the
    /// first of all for `None`: a walk over the members without collecting
    /// them (a leader's broadcast runs on every proposal).
    pub fn member_after(&self, after: Option<NodeId>) -> Option<NodeId> {
        use std::ops::Bound::{Excluded, Unbounded};
        let from = after.map_or(Unbounded, Excluded);
        let first = |set: &BTreeSet<NodeId>| set.range((from, Unbounded)).next().copied();
        let next = [
            first(&self.incoming),
            self.outgoing.as_deref().and_then(first),
            first(&self.learners),
        ]
        .into_iter()
        .flatten()
        .min();
        debug_assert!(
            next.is_none_or(|id| after.is_none_or(|a| id > a)),
            "the walk moves forward"
        );
        next
    }

    /// Whether `id` votes or learns.
    pub fn is_member(&self, id: NodeId) -> bool {
        self.is_voter(id) || self.learners.contains(&id)
    }

    /// Whether the nodes in `heard` (the leader among them) form a quorum
    /// of every voter set: check-quorum and read confirmation.
    pub fn has_quorum(&self, heard: &BTreeSet<NodeId>) -> bool {
        self.has_quorum_by(quorum, heard)
    }

    /// [`Self::has_quorum`] with quorums of `rule(n)` voters.
    pub fn has_quorum_by(&self, rule: QuorumRule, heard: &BTreeSet<NodeId>) -> bool {
        let votes: BTreeMap<NodeId, bool> = heard.iter().map(|&id| (id, true)).collect();
        self.vote_result_by(rule, &votes) == VoteResult::Won
    }
}

/// `voters {n1,n2} learners {n4} leaving {n1,n2,n3} (auto)`: the voters,
/// then the learners and the outgoing voters of a joint phase when there are
/// any.
///
/// ```
/// use ruft::{Membership, NodeId};
/// let m = Membership::simple([NodeId(1), NodeId(2)]).unwrap();
/// assert_eq!(m.to_string(), "voters {n1,n2}");
/// ```
impl std::fmt::Display for Membership {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids = |set: &BTreeSet<NodeId>| {
            let all: Vec<String> = set.iter().map(NodeId::to_string).collect();
            format!("{{{}}}", all.join(","))
        };
        write!(f, "voters {}", ids(&self.incoming))?;
        if !self.learners.is_empty() {
            write!(f, " learners {}", ids(&self.learners))?;
        }
        if let Some(old) = &self.outgoing {
            write!(f, " leaving {}", ids(old))?;
            if self.auto_leave {
                write!(f, " (auto)")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(ids: &[u64]) -> BTreeSet<NodeId> {
        ids.iter().copied().map(NodeId).collect()
    }

    fn votes(granted: &[u64], rejected: &[u64]) -> BTreeMap<NodeId, bool> {
        let mut v: BTreeMap<NodeId, bool> = granted.iter().map(|&g| (NodeId(g), true)).collect();
        v.extend(rejected.iter().map(|&r| (NodeId(r), false)));
        v
    }

    #[test]
    fn a_membership_displays_every_set_it_holds() {
        let simple = Membership::new(set(&[1, 2, 3]), BTreeSet::new()).unwrap();
        assert_eq!(simple.to_string(), "voters {n1,n2,n3}");
        let joint = Membership::joint(set(&[1, 2, 4]), set(&[1, 2, 3]), set(&[5]))
            .unwrap()
            .with_auto_leave(true);
        assert_eq!(
            joint.to_string(),
            "voters {n1,n2,n4} learners {n5} leaving {n1,n2,n3} (auto)"
        );
    }

    #[test]
    fn a_joint_commit_needs_both_majorities() {
        // {1,2,3} -> {3,4,5}: 1 and 2 hold index 7, 3 holds 5, 4 and 5 hold 2.
        let m = Membership::joint(set(&[3, 4, 5]), set(&[1, 2, 3]), set(&[])).unwrap();
        let at = |id: NodeId| Index([7, 7, 5, 2, 2][(id.0 - 1) as usize]);
        assert_eq!(m.committed_index(at), Index(2), "the new set lags");
        let simple = Membership::new(set(&[1, 2, 3]), set(&[])).unwrap();
        assert_eq!(simple.committed_index(at), Index(7));
    }

    #[test]
    fn a_joint_election_is_won_in_both_sets_and_lost_in_either() {
        let m = Membership::joint(set(&[3, 4, 5]), set(&[1, 2, 3]), set(&[])).unwrap();
        assert_eq!(m.vote_result(&votes(&[1, 2, 3], &[])), VoteResult::Pending);
        assert_eq!(m.vote_result(&votes(&[1, 3, 4], &[])), VoteResult::Won);
        assert_eq!(m.vote_result(&votes(&[1, 2, 3], &[4, 5])), VoteResult::Lost);
        assert!(m.has_quorum(&set(&[2, 3, 5])));
        assert!(!m.has_quorum(&set(&[4, 5, 1])));
    }

    #[test]
    fn learners_never_count_and_never_vote() {
        let m = Membership::new(set(&[1, 2, 3]), set(&[4, 5])).unwrap();
        assert_eq!(m.vote_result(&votes(&[1, 4, 5], &[])), VoteResult::Pending);
        let at = |id: NodeId| Index(if id.0 >= 3 { 9 } else { 1 });
        assert_eq!(
            m.committed_index(at),
            Index(1),
            "only n3 of the voters holds 9"
        );
        assert_eq!(m.members(), set(&[1, 2, 3, 4, 5]));
        assert!(!m.is_voter(NodeId(4)));
    }

    #[test]
    fn memberships_without_a_quorum_or_with_a_voting_learner_are_refused() {
        assert_eq!(
            Membership::new(set(&[]), set(&[1])),
            Err(MembershipError::NoVoters)
        );
        assert_eq!(
            Membership::joint(set(&[1]), set(&[]), set(&[])),
            Err(MembershipError::NoVoters)
        );
        assert_eq!(
            Membership::joint(set(&[1, 2]), set(&[2, 3]), set(&[3])),
            Err(MembershipError::LearnerVotes(NodeId(3)))
        );
    }
}
