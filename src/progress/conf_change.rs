//! Membership changes as values: a [`ConfChange`] is what a configuration
//! entry carries, and [`Membership::apply`] is the one pure function that
//! turns a membership and a change into the next membership, or says why
//! the change is not allowed. The leader checks a proposal with it, and every
//! node applies committed configuration entries with it, so a change the
//! leader accepted is applied the same way everywhere.
//!
//! Two kinds of change (thesis §4.1 and §4.3):
//! - [`ConfChange::Simple`] changes one node at once. It adds or removes at
//!   most one voter, so any majority of the old voters overlaps any majority
//!   of the new ones, and the change needs no intermediate step.
//! - [`ConfChange::EnterJoint`] changes several nodes through a joint
//!   configuration, in which every decision needs a majority of both the old
//!   and the new voters; [`ConfChange::LeaveJoint`] then drops the old
//!   voters. With `auto_leave` the leader proposes the leave itself as soon
//!   as the joint configuration takes effect.

use super::joint::{Membership, MembershipError};
use crate::NodeId;
use std::collections::BTreeSet;
use std::fmt;

/// One node's change of role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum MemberChange {
    /// Make the node a voter: a new node, or a learner promoted.
    AddVoter(NodeId),
    /// Make the node a learner: a new node, or (in a simple change only) a
    /// voter demoted.
    AddLearner(NodeId),
    /// Remove the node, voter or learner.
    Remove(NodeId),
}

impl MemberChange {
    /// The node it changes.
    pub fn node(self) -> NodeId {
        match self {
            MemberChange::AddVoter(id)
            | MemberChange::AddLearner(id)
            | MemberChange::Remove(id) => id,
        }
    }

    fn relabel(self, f: &dyn Fn(NodeId) -> NodeId) -> MemberChange {
        match self {
            MemberChange::AddVoter(id) => MemberChange::AddVoter(f(id)),
            MemberChange::AddLearner(id) => MemberChange::AddLearner(f(id)),
            MemberChange::Remove(id) => MemberChange::Remove(f(id)),
        }
    }
}

/// What a configuration entry carries ([`crate::EntryVariant::ConfChange`]).
///
/// ```
/// use ruft::progress::joint::Membership;
/// use ruft::{ConfChange, MemberChange, NodeId};
/// let ids = |v: &[u64]| v.iter().copied().map(NodeId).collect();
/// let three = Membership::new(ids(&[1, 2, 3]), ids(&[])).unwrap();
/// // One change at a time: add n4 as a voter.
/// let four = three.apply(&ConfChange::Simple(MemberChange::AddVoter(NodeId(4)))).unwrap();
/// assert_eq!(four.incoming(), &ids(&[1, 2, 3, 4]));
/// // Replace n1 and n2 by n5 and n6 through a joint configuration.
/// let swap = ConfChange::EnterJoint {
///     changes: vec![
///         MemberChange::Remove(NodeId(1)), MemberChange::Remove(NodeId(2)),
///         MemberChange::AddVoter(NodeId(5)), MemberChange::AddVoter(NodeId(6)),
///     ],
///     auto_leave: true,
/// };
/// let joint = four.apply(&swap).unwrap();
/// assert_eq!(joint.outgoing(), Some(&ids(&[1, 2, 3, 4])));
/// let done = joint.apply(&ConfChange::LeaveJoint).unwrap();
/// assert_eq!((done.incoming(), done.is_joint()), (&ids(&[3, 4, 5, 6]), false));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ConfChange {
    /// One node changes at once (thesis §4.1). Not allowed while joint.
    Simple(MemberChange),
    /// Several nodes change through a joint configuration (§4.3): the
    /// current voters become the outgoing set, the changes make the incoming
    /// set. Not allowed while joint; each node appears at most once; a voter
    /// cannot be demoted to learner here (it would vote in the outgoing set
    /// while learning in the incoming one): demote it with a simple change.
    EnterJoint {
        /// The changes, applied together.
        changes: Vec<MemberChange>,
        /// Whether the leader proposes [`ConfChange::LeaveJoint`] on its own
        /// once the joint configuration takes effect.
        auto_leave: bool,
    },
    /// Leaves the joint configuration: the outgoing voters stop voting
    /// (those not in the incoming set leave the cluster).
    LeaveJoint,
}

impl ConfChange {
    /// The size a configuration entry counts as in byte limits (an id is 8
    /// bytes, a kind 1).
    pub fn encoded_len(&self) -> usize {
        match self {
            ConfChange::Simple(_) => 1 + 9,
            ConfChange::EnterJoint { changes, .. } => 2 + 9 * changes.len(),
            ConfChange::LeaveJoint => 1,
        }
    }

    /// The same change with every node id mapped through `f`.
    pub fn relabel(&self, f: &dyn Fn(NodeId) -> NodeId) -> ConfChange {
        match self {
            ConfChange::Simple(c) => ConfChange::Simple(c.relabel(f)),
            ConfChange::EnterJoint {
                changes,
                auto_leave,
            } => ConfChange::EnterJoint {
                changes: changes.iter().map(|c| c.relabel(f)).collect(),
                auto_leave: *auto_leave,
            },
            ConfChange::LeaveJoint => ConfChange::LeaveJoint,
        }
    }
}

/// `+v4`, `+l5`, `-n3`, `joint[-n1 +v4] auto`, `leave-joint`.
impl fmt::Display for ConfChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let one = |c: &MemberChange| match c {
            MemberChange::AddVoter(id) => format!("+v{}", id.0),
            MemberChange::AddLearner(id) => format!("+l{}", id.0),
            MemberChange::Remove(id) => format!("-n{}", id.0),
        };
        match self {
            ConfChange::Simple(c) => write!(f, "{}", one(c)),
            ConfChange::EnterJoint {
                changes,
                auto_leave,
            } => {
                let all: Vec<String> = changes.iter().map(one).collect();
                let leave = if *auto_leave { " auto" } else { "" };
                write!(f, "joint[{}]{leave}", all.join(" "))
            }
            ConfChange::LeaveJoint => write!(f, "leave-joint"),
        }
    }
}

impl Membership {
    /// The membership after `change`, or why `change` cannot be applied to
    /// this one. Pure: the leader uses it to check a proposal, and every node
    /// to apply a committed configuration entry.
    pub fn apply(&self, change: &ConfChange) -> Result<Membership, MembershipError> {
        let next = match change {
            ConfChange::Simple(one) => {
                if self.is_joint() {
                    return Err(MembershipError::InJoint);
                }
                let (mut voters, mut learners) = (self.incoming().clone(), self.learners().clone());
                apply_one(*one, &mut voters, &mut learners, false)?;
                let next = Membership::new(voters, learners)?;
                debug_assert!(
                    self.incoming()
                        .symmetric_difference(next.incoming())
                        .count()
                        <= 1,
                    "§4.1: a simple change adds or removes at most one voter"
                );
                next
            }
            ConfChange::EnterJoint {
                changes,
                auto_leave,
            } => self.enter_joint(changes, *auto_leave)?,
            ConfChange::LeaveJoint => {
                if !self.is_joint() {
                    return Err(MembershipError::NotJoint);
                }
                Membership::new(self.incoming().clone(), self.learners().clone())?
            }
        };
        debug_assert!(
            next.learners().iter().all(|&l| !next.is_voter(l)),
            "§4.2.1: a learner never votes"
        );
        Ok(next)
    }

    fn enter_joint(
        &self,
        changes: &[MemberChange],
        auto_leave: bool,
    ) -> Result<Membership, MembershipError> {
        if self.is_joint() {
            return Err(MembershipError::InJoint);
        }
        if changes.is_empty() {
            return Err(MembershipError::NoChange);
        }
        let mut seen = BTreeSet::new();
        let (mut voters, mut learners) = (self.incoming().clone(), self.learners().clone());
        for &one in changes {
            if !seen.insert(one.node()) {
                return Err(MembershipError::Repeated(one.node()));
            }
            apply_one(one, &mut voters, &mut learners, true)?;
        }
        let next = Membership::joint(voters, self.incoming().clone(), learners)?
            .with_auto_leave(auto_leave);
        debug_assert!(
            next.outgoing() == Some(self.incoming()),
            "§4.3: the joint configuration keeps the old voters as its outgoing set"
        );
        Ok(next)
    }
}

/// Applies one change to the incoming voters and the learners. `joint`:
/// inside a joint change, where a voter cannot become a learner.
fn apply_one(
    change: MemberChange,
    voters: &mut BTreeSet<NodeId>,
    learners: &mut BTreeSet<NodeId>,
    joint: bool,
) -> Result<(), MembershipError> {
    match change {
        MemberChange::AddVoter(id) => {
            if voters.contains(&id) {
                return Err(MembershipError::AlreadyVoter(id));
            }
            learners.remove(&id);
            voters.insert(id);
        }
        MemberChange::AddLearner(id) => {
            if learners.contains(&id) {
                return Err(MembershipError::AlreadyLearner(id));
            }
            if joint && voters.contains(&id) {
                return Err(MembershipError::DemoteInJoint(id));
            }
            voters.remove(&id);
            learners.insert(id);
        }
        MemberChange::Remove(id) => {
            if !voters.remove(&id) && !learners.remove(&id) {
                return Err(MembershipError::NotMember(id));
            }
        }
    }
    debug_assert!(
        voters.is_disjoint(learners),
        "§4.2.1: a node is a voter or a learner, never both"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use MemberChange::{AddLearner, AddVoter, Remove};

    fn ids(v: &[u64]) -> BTreeSet<NodeId> {
        v.iter().copied().map(NodeId).collect()
    }

    fn three() -> Membership {
        Membership::new(ids(&[1, 2, 3]), ids(&[])).unwrap()
    }

    fn simple(c: MemberChange) -> ConfChange {
        ConfChange::Simple(c)
    }

    #[test]
    fn simple_changes_add_promote_demote_and_remove() {
        let with_learner = three().apply(&simple(AddLearner(NodeId(4)))).unwrap();
        assert_eq!(with_learner.learners(), &ids(&[4]));
        let promoted = with_learner.apply(&simple(AddVoter(NodeId(4)))).unwrap();
        assert_eq!(
            (promoted.incoming(), promoted.learners()),
            (&ids(&[1, 2, 3, 4]), &ids(&[]))
        );
        let demoted = promoted.apply(&simple(AddLearner(NodeId(1)))).unwrap();
        assert_eq!(
            (demoted.incoming(), demoted.learners()),
            (&ids(&[2, 3, 4]), &ids(&[1]))
        );
        let removed = demoted.apply(&simple(Remove(NodeId(1)))).unwrap();
        assert_eq!(removed.members(), ids(&[2, 3, 4]));
    }

    #[test]
    fn changes_that_make_no_sense_are_refused_by_name() {
        let m = three();
        let err = |c: ConfChange| m.apply(&c).unwrap_err();
        assert_eq!(
            err(simple(AddVoter(NodeId(1)))),
            MembershipError::AlreadyVoter(NodeId(1))
        );
        assert_eq!(
            err(simple(Remove(NodeId(9)))),
            MembershipError::NotMember(NodeId(9))
        );
        assert_eq!(err(ConfChange::LeaveJoint), MembershipError::NotJoint);
        let enter = |changes| ConfChange::EnterJoint {
            changes,
            auto_leave: false,
        };
        assert_eq!(err(enter(vec![])), MembershipError::NoChange);
        assert_eq!(
            err(enter(vec![AddVoter(NodeId(4)), Remove(NodeId(4))])),
            MembershipError::Repeated(NodeId(4))
        );
        assert_eq!(
            err(enter(vec![AddLearner(NodeId(2))])),
            MembershipError::DemoteInJoint(NodeId(2))
        );
        let one = Membership::new(ids(&[1]), ids(&[])).unwrap();
        assert_eq!(
            one.apply(&simple(Remove(NodeId(1)))),
            Err(MembershipError::NoVoters)
        );
        let joint = m.apply(&enter(vec![AddVoter(NodeId(4))])).unwrap();
        assert_eq!(
            joint.apply(&simple(AddVoter(NodeId(5)))),
            Err(MembershipError::InJoint)
        );
        assert_eq!(
            joint.apply(&enter(vec![AddVoter(NodeId(5))])),
            Err(MembershipError::InJoint)
        );
    }

    #[test]
    fn a_joint_change_keeps_the_old_voters_until_left() {
        let swap = ConfChange::EnterJoint {
            changes: vec![
                Remove(NodeId(1)),
                AddVoter(NodeId(4)),
                AddLearner(NodeId(5)),
            ],
            auto_leave: true,
        };
        let joint = three().apply(&swap).unwrap();
        assert_eq!(joint.incoming(), &ids(&[2, 3, 4]));
        assert_eq!(joint.outgoing(), Some(&ids(&[1, 2, 3])));
        assert!(joint.auto_leave() && joint.is_voter(NodeId(1)));
        assert_eq!(joint.learners(), &ids(&[5]));
        let left = joint.apply(&ConfChange::LeaveJoint).unwrap();
        assert!(!left.is_voter(NodeId(1)) && !left.auto_leave());
        assert_eq!(left.members(), ids(&[2, 3, 4, 5]));
    }

    #[test]
    fn changes_display_compactly_and_relabel() {
        let c = ConfChange::EnterJoint {
            changes: vec![Remove(NodeId(1)), AddVoter(NodeId(4))],
            auto_leave: true,
        };
        assert_eq!(c.to_string(), "joint[-n1 +v4] auto");
        assert_eq!(simple(AddLearner(NodeId(5))).to_string(), "+l5");
        let swapped = c.relabel(&|id| NodeId(5 - id.0));
        assert_eq!(swapped.to_string(), "joint[-n4 +v1] auto");
        assert_eq!(c.encoded_len(), 20, "two kinds, two changes of 9 bytes");
        assert_eq!(simple(AddLearner(NodeId(5))).encoded_len(), 10);
        assert_eq!(ConfChange::LeaveJoint.encoded_len(), 1);
    }
}
