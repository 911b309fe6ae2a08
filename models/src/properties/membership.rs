//! Properties of membership changes (thesis chapter 4), checked in models
//! with `--conf-changes`, and what the ghost records for them. Election
//! safety, leader completeness and the other §5 properties are the same
//! properties as everywhere: they are judged on what happened, whatever
//! configuration each decision was made in.
//!
//! - **one pending change**: no leader's log holds two configuration entries
//!   beyond the highest index any node has seen committed. A second pending
//!   change lets nodes two changes apart form disjoint quorums (the
//!   single-server change bug).
//! - **non-voters never campaign**: no node starts a (pre-)campaign while it
//!   is not a voter of its own configuration (a learner, a removed node, a
//!   node not yet added).
//! - **removed leaders step down**: no running leader is outside the voters
//!   of its own configuration.
//!
//! etcd lets a learner grant votes (it may have been promoted without
//! knowing), and so does ruft; what matters is that no tally counts it,
//! which election safety judges. So the property is about campaigning, not
//! voting.

use super::{first_raised, Broken, Ghost, NodeObs, Reason};
use ruft::{Index, MemStorage, Node, Role};

/// Membership witness events of the node's last transition (cleared when
/// its next transition starts, like the other witness records).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MembershipSeen {
    /// The node left a joint configuration it had entered.
    pub joint_left: bool,
    /// The node, a learner, became a voter.
    pub promoted: bool,
    /// The node, leader, stepped down because it no longer votes.
    pub removed_leader_stepped_down: bool,
}

impl Ghost {
    /// Records membership events of a transition from `before` to `after`.
    pub(super) fn observe_membership_step(
        &mut self,
        before: &Node<MemStorage>,
        after: &Node<MemStorage>,
    ) {
        let me = after.config().id;
        let (b, a) = (before.status(), after.status());
        let (was, now) = (before.membership(), after.membership());
        if was.is_joint() && !now.is_joint() {
            self.membership.joint_left = true;
        }
        if was.learners().contains(&me) && now.is_voter(me) {
            self.membership.promoted = true;
        }
        if b.role == Role::Leader && a.role == Role::Follower && !now.is_voter(me) {
            self.membership.removed_leader_stepped_down = true;
        }
        let campaigns = matches!(a.role, Role::PreCandidate | Role::Candidate)
            && (a.role != b.role || a.term != b.term);
        if campaigns && !was.is_voter(me) {
            self.flags.raise(Broken::NonVoterCampaigned, || {
                Reason::new(
                    "only voters campaign",
                    format!(
                        "{me} became {:?} in {} while not a voter of {was}",
                        a.role, a.term
                    ),
                )
                .node(me)
                .term(a.term)
            });
        }
    }
}

/// The highest index any node has seen committed.
fn seen_committed(nodes: &[NodeObs<'_>]) -> usize {
    nodes
        .iter()
        .map(|n| n.ghost.committed.len())
        .max()
        .unwrap_or(0)
}

/// No leader holds two configuration entries beyond what any node has seen
/// committed.
pub fn one_pending_change(nodes: &[NodeObs<'_>]) -> Option<Reason> {
    let committed = seen_committed(nodes) as u64;
    nodes
        .iter()
        .filter(|n| n.up && n.node.status().role == Role::Leader)
        .find_map(|n| {
            let pending: Vec<Index> = n
                .node
                .log()
                .iter()
                .filter(|e| e.index().0 > committed && e.as_conf_change().is_some())
                .map(|e| e.index())
                .collect();
            (pending.len() > 1).then(|| {
                let s = n.node.status();
                let mut why = Reason::new(
                    "one configuration change at a time",
                    format!(
                        "{}, leader in {}, holds configuration entries at {:?}, none committed \
                         (nothing beyond {committed} is)",
                        s.id,
                        s.term,
                        pending.iter().map(|i| i.0).collect::<Vec<_>>()
                    ),
                )
                .node(s.id)
                .term(s.term);
                for i in pending {
                    why = why.index(i);
                }
                why
            })
        })
}

/// No node campaigned while it was not a voter of its configuration.
pub fn non_voters_never_campaign(nodes: &[NodeObs<'_>]) -> Option<Reason> {
    first_raised(nodes, Broken::NonVoterCampaigned)
}

/// Every running leader votes in its own configuration.
pub fn removed_leaders_step_down(nodes: &[NodeObs<'_>]) -> Option<Reason> {
    nodes.iter().filter(|n| n.up).find_map(|n| {
        let (s, membership) = (n.node.status(), n.node.membership());
        (s.role == Role::Leader && !membership.is_voter(s.id)).then(|| {
            Reason::new(
                "a leader is a voter of its configuration",
                format!(
                    "{} leads {} under {} that it has applied, where it is no voter",
                    s.id, s.term, membership
                ),
            )
            .node(s.id)
            .term(s.term)
            .index(s.applied)
        })
    })
}

/// Witness: a node that was not an initial voter leads.
pub fn added_node_leads(nodes: &[NodeObs<'_>]) -> bool {
    nodes.iter().any(|n| {
        let s = n.node.status();
        n.up && s.role == Role::Leader && !n.node.config().voters.contains(&s.id)
    })
}

/// Witness: a node that was not an initial voter votes in its own
/// configuration (its addition reached it and was applied).
pub fn added_node_votes(nodes: &[NodeObs<'_>]) -> bool {
    nodes.iter().any(|n| {
        let s = n.node.status();
        n.up && !n.node.config().voters.contains(&s.id) && n.node.membership().is_voter(s.id)
    })
}

/// Witness: a leader stepped down because a change removed it.
pub fn removed_leader_stepped_down(nodes: &[NodeObs<'_>]) -> bool {
    nodes
        .iter()
        .any(|n| n.ghost.membership.removed_leader_stepped_down)
}

/// Witness: a node left a joint configuration.
pub fn joint_left(nodes: &[NodeObs<'_>]) -> bool {
    nodes.iter().any(|n| n.ghost.membership.joint_left)
}

/// Witness: a learner was promoted to voter.
pub fn learner_promoted(nodes: &[NodeObs<'_>]) -> bool {
    nodes.iter().any(|n| n.ghost.membership.promoted)
}
