//! Symmetry reduction: node ids carry no behaviour, so states that differ
//! only by a renaming of the nodes are explored once. stateright sorts actor
//! states to pick a canonical renaming and rewrites every id with it; ruft's
//! [`Relabel`] does the rewriting inside the nodes.

use crate::model::{actor_id, node_id, Durable, ModelTimer, NodeState, Wire};
use crate::properties::Ghost;
use ruft::{NodeId, Relabel};
use stateright::actor::Id;
use stateright::{Rewrite, RewritePlan};
use std::cmp::Ordering;

/// The renaming `plan` as a function on node ids.
fn rename<S>(plan: &RewritePlan<Id, S>) -> impl Fn(NodeId) -> NodeId + '_ {
    move |id| node_id(plan.rewrite(&actor_id(id)))
}

impl Rewrite<Id> for Wire {
    fn rewrite<S>(&self, plan: &RewritePlan<Id, S>) -> Self {
        Wire(self.0.relabel(&rename(plan)))
    }
}

impl Rewrite<Id> for ModelTimer {
    fn rewrite<S>(&self, _plan: &RewritePlan<Id, S>) -> Self {
        *self
    }
}

fn rewrite_ghost(g: &Ghost, f: &dyn Fn(NodeId) -> NodeId) -> Ghost {
    Ghost {
        votes: g.votes.iter().map(|(&t, &c)| (t, f(c))).collect(),
        ..g.clone()
    }
}

impl Rewrite<Id> for Durable {
    fn rewrite<S>(&self, plan: &RewritePlan<Id, S>) -> Self {
        let f = rename(plan);
        Durable {
            storage: self.storage.relabel(&f),
            ghost: rewrite_ghost(&self.ghost, &f),
            ..self.clone()
        }
    }
}

impl Rewrite<Id> for NodeState {
    fn rewrite<S>(&self, plan: &RewritePlan<Id, S>) -> Self {
        let f = rename(plan);
        let pending = self.pending.clone().map(|mut rd| {
            rd.messages = rd.messages.iter().map(|m| m.relabel(&f)).collect();
            rd.hard_state = rd.hard_state.map(|hs| hs.relabel(&f));
            rd
        });
        NodeState {
            node: self.node.relabel(&f),
            pending,
            proposals: self.proposals,
            crashes: self.crashes,
            ghost: rewrite_ghost(&self.ghost, &f),
        }
    }
}

impl NodeState {
    /// Facts that do not mention node ids, compared first.
    fn id_free_key(&self) -> impl Ord + '_ {
        let s = self.node.status();
        (
            s.role,
            s.term,
            s.last,
            s.committed,
            s.applied,
            self.proposals,
            self.node.log().iter().map(|e| &e.key).collect::<Vec<_>>(),
        )
    }
}

impl PartialOrd for NodeState {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Id-free facts first; ties are broken by the full state (consistent with `Eq`).
impl Ord for NodeState {
    fn cmp(&self, other: &Self) -> Ordering {
        self.id_free_key().cmp(&other.id_free_key()).then_with(|| {
            (
                &self.node,
                &self.pending,
                self.proposals,
                self.crashes,
                &self.ghost,
            )
                .cmp(&(
                    &other.node,
                    &other.pending,
                    other.proposals,
                    other.crashes,
                    &other.ghost,
                ))
        })
    }
}
