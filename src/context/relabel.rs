//! Relabelling node ids: the same cluster state under other names.
//!
//! Node ids carry no behaviour in Raft, so a state with its ids permuted is
//! equivalent to the original. A model checker uses this for symmetry
//! reduction without ruft depending on the checker.

use super::role::RoleState;
use super::Context;
use crate::{HardState, MemStorage, Message, MessageVariant, NodeId, Snapshot};

/// Values that mention node ids and can be rewritten under a renaming of the
/// nodes (a permutation of the voters).
///
/// ```
/// use ruft::{HardState, NodeId, Relabel};
/// let hs = HardState { voted_node: Some(NodeId(1)), ..HardState::default() };
/// let swapped = hs.relabel(&|id: NodeId| NodeId(3 - id.0));
/// assert_eq!(swapped.voted_node, Some(NodeId(2)));
/// ```
pub trait Relabel: Sized {
    /// `self` with every node id mapped through `f`.
    fn relabel(&self, f: &dyn Fn(NodeId) -> NodeId) -> Self;
}

impl Relabel for HardState {
    fn relabel(&self, f: &dyn Fn(NodeId) -> NodeId) -> Self {
        HardState {
            voted_node: self.voted_node.map(f),
            ..*self
        }
    }
}

/// A snapshot names the members.
impl Relabel for Snapshot {
    fn relabel(&self, f: &dyn Fn(NodeId) -> NodeId) -> Self {
        Snapshot {
            meta: self.meta.relabel(f),
            data: self.data.clone(),
        }
    }
}

/// Sender and receiver are mapped, and the ids a variant names.
impl Relabel for Message {
    fn relabel(&self, f: &dyn Fn(NodeId) -> NodeId) -> Self {
        let variant = match &self.variant {
            MessageVariant::InstallSnapshot { snapshot } => MessageVariant::InstallSnapshot {
                snapshot: Box::new(snapshot.relabel(f)),
            },
            MessageVariant::AppendEntries {
                prev,
                entries,
                commit,
            } if entries.iter().any(|e| e.as_conf_change().is_some()) => {
                MessageVariant::AppendEntries {
                    prev: *prev,
                    entries: entries.iter().map(|e| e.relabel(f)).collect(),
                    commit: *commit,
                }
            }
            MessageVariant::ProposeConfChange { change } => MessageVariant::ProposeConfChange {
                change: change.relabel(f),
            },
            MessageVariant::TransferLeader { target } => {
                MessageVariant::TransferLeader { target: f(*target) }
            }
            MessageVariant::ReportSnapshot { peer, status } => MessageVariant::ReportSnapshot {
                peer: f(*peer),
                status: *status,
            },
            other => other.clone(),
        };
        Message {
            src: f(self.src),
            dst: f(self.dst),
            src_term: self.src_term,
            variant,
        }
    }
}

/// The persisted HardState names the vote, the snapshot the members, and
/// configuration entries the nodes they change.
impl Relabel for MemStorage {
    fn relabel(&self, f: &dyn Fn(NodeId) -> NodeId) -> Self {
        let mut s = self.clone();
        s.set_hard_state(self.hard_state().relabel(f));
        s.relabel_snapshot(f);
        s
    }
}

impl<S: Relabel + Clone> Context<S> {
    /// This state with every node id mapped through `f`.
    pub fn relabel(&self, f: &dyn Fn(NodeId) -> NodeId) -> Context<S> {
        let mut ctx = self.clone();
        ctx.config.id = f(self.config.id);
        ctx.config.voters = self.config.voters.iter().map(|&id| f(id)).collect();
        ctx.membership = self.membership.relabel(f);
        ctx.handed_confs = self
            .handed_confs
            .iter()
            .map(|(i, h)| (*i, h.relabel(f)))
            .collect();
        ctx.hard = self.hard.relabel(f);
        ctx.hard_handed = self.hard_handed.relabel(f);
        ctx.role = match &self.role {
            RoleState::Follower { leader } => RoleState::Follower {
                leader: leader.map(f),
            },
            RoleState::PreCandidate { votes } => RoleState::PreCandidate {
                votes: votes.iter().map(|(&id, &g)| (f(id), g)).collect(),
            },
            RoleState::Candidate { votes } => RoleState::Candidate {
                votes: votes.iter().map(|(&id, &g)| (f(id), g)).collect(),
            },
            RoleState::Leader {
                tracker,
                term_start,
                transfer,
                uncommitted_bytes,
                reads,
                pending_conf,
                broadcast_due,
            } => RoleState::Leader {
                pending_conf: *pending_conf,
                broadcast_due: *broadcast_due,
                tracker: tracker.relabel(&f),
                reads: reads.relabel(f),
                term_start: *term_start,
                uncommitted_bytes: *uncommitted_bytes,
                transfer: transfer.map(|t| super::role::Transfer {
                    target: f(t.target),
                    ..t
                }),
            },
        };
        ctx.outbox.map(|m| m.relabel(f));
        *ctx.log.storage_mut() = self.log.storage().relabel(f);
        ctx.log.relabel_unstable(f);
        // The timeout is drawn from the id: redrawn only for a renamed node
        // (drawing seeds a generator, a cost on every state the model
        // canonicalises).
        if ctx.config.id != self.config.id {
            ctx.election_timeout =
                super::inherent::drawn_election_timeout(&ctx.config, ctx.hard.term);
        }
        ctx
    }
}
