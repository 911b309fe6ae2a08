//! Membership changes in the model (`check --conf-changes N`): which
//! changes an operator may ask a leader for. No Raft logic: the offers are
//! read off the leader's membership, and the engine decides what it accepts.
//!
//! A leader under the bound is offered, for every other node: to add it as a
//! voter (a node outside the cluster, or a learner: a promotion), to add it
//! as a learner (a node outside the cluster, with `--learners`), and to
//! remove it (a voter or learner); and to remove itself (the removed leader
//! steps down). With `--joint` every change goes through a joint
//! configuration (auto-leave, so the leader leaves it on its own), and a
//! voter may also be replaced by a node outside the cluster in one joint
//! change. Offers the engine refuses (one change pending, a change that
//! does not apply) change nothing and are not counted.

use ruft::{ConfChange, MemberChange, Membership, NodeId};

/// One change the operator may ask for. `Copy`, so that it can name a timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Offer {
    /// Add this node as a voter (or promote this learner).
    AddVoter(NodeId),
    /// Add this node as a learner.
    AddLearner(NodeId),
    /// Remove this node.
    Remove(NodeId),
    /// Replace voter `out` by `with` (a node outside the cluster), in one
    /// joint change.
    Replace {
        /// The voter removed.
        out: NodeId,
        /// The node added as a voter.
        with: NodeId,
    },
}

impl Offer {
    /// The same offer with its node ids mapped through `f` (symmetry).
    pub fn relabel(self, f: &dyn Fn(NodeId) -> NodeId) -> Offer {
        match self {
            Offer::AddVoter(id) => Offer::AddVoter(f(id)),
            Offer::AddLearner(id) => Offer::AddLearner(f(id)),
            Offer::Remove(id) => Offer::Remove(f(id)),
            Offer::Replace { out, with } => Offer::Replace {
                out: f(out),
                with: f(with),
            },
        }
    }

    /// The change proposed: simple, or (with `joint`) through a joint
    /// configuration that leaves itself.
    pub fn change(self, joint: bool) -> ConfChange {
        let changes = match self {
            Offer::AddVoter(id) => vec![MemberChange::AddVoter(id)],
            Offer::AddLearner(id) => vec![MemberChange::AddLearner(id)],
            Offer::Remove(id) => vec![MemberChange::Remove(id)],
            Offer::Replace { out, with } => {
                vec![MemberChange::Remove(out), MemberChange::AddVoter(with)]
            }
        };
        match changes.as_slice() {
            [one] if !joint => ConfChange::Simple(*one),
            _ => ConfChange::EnterJoint {
                changes,
                auto_leave: true,
            },
        }
    }
}

/// `+v4` (add or promote a voter), `+l4`, `-n4`, `n2->n4` (replace).
impl std::fmt::Display for Offer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Offer::AddVoter(id) => write!(f, "+v{}", id.0),
            Offer::AddLearner(id) => write!(f, "+l{}", id.0),
            Offer::Remove(id) => write!(f, "-n{}", id.0),
            Offer::Replace { out, with } => write!(f, "{out}->{with}"),
        }
    }
}

/// What the operator may ask leader `me` of `nodes` nodes, in a membership
/// `m`; `learners`: learner additions are offered; `joint`: replacements are.
pub fn offers(m: &Membership, me: NodeId, nodes: usize, learners: bool, joint: bool) -> Vec<Offer> {
    if m.is_joint() {
        return Vec::new(); // the leader leaves it on its own
    }
    let all = (1..=nodes as u64).map(NodeId);
    let mut out = Vec::new();
    for id in all.clone() {
        if !m.is_member(id) {
            out.push(Offer::AddVoter(id));
            if learners {
                out.push(Offer::AddLearner(id));
            }
        } else {
            if m.learners().contains(&id) {
                out.push(Offer::AddVoter(id));
            }
            if id != me || m.incoming().len() > 1 {
                out.push(Offer::Remove(id));
            }
        }
    }
    if joint {
        let outsiders: Vec<NodeId> = all.filter(|&id| !m.is_member(id)).collect();
        for &v in m.incoming() {
            out.extend(
                outsiders
                    .iter()
                    .map(|&with| Offer::Replace { out: v, with }),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[u64]) -> std::collections::BTreeSet<NodeId> {
        v.iter().copied().map(NodeId).collect()
    }

    #[test]
    fn a_leader_of_three_among_four_is_offered_each_change_once() {
        let m = Membership::new(ids(&[1, 2, 3]), ids(&[])).unwrap();
        let offered = offers(&m, NodeId(1), 4, false, false);
        assert_eq!(
            offered,
            [
                Offer::Remove(NodeId(1)),
                Offer::Remove(NodeId(2)),
                Offer::Remove(NodeId(3)),
                Offer::AddVoter(NodeId(4)),
            ]
        );
        let joint = offers(&m, NodeId(1), 4, true, true);
        assert!(joint.contains(&Offer::AddLearner(NodeId(4))));
        assert!(joint.contains(&Offer::Replace {
            out: NodeId(2),
            with: NodeId(4)
        }));
        assert_eq!(
            Offer::Remove(NodeId(2)).change(true).to_string(),
            "joint[-n2] auto"
        );
        assert_eq!(Offer::Remove(NodeId(2)).change(false).to_string(), "-n2");
    }

    #[test]
    fn a_lone_voter_is_not_offered_its_own_removal_and_joint_offers_nothing() {
        let m = Membership::new(ids(&[1]), ids(&[2])).unwrap();
        let offered = offers(&m, NodeId(1), 2, false, false);
        assert_eq!(
            offered,
            [Offer::AddVoter(NodeId(2)), Offer::Remove(NodeId(2))]
        );
        let j = m.apply(&Offer::AddVoter(NodeId(2)).change(true)).unwrap();
        assert!(offers(&j, NodeId(1), 2, true, true).is_empty());
    }
}
