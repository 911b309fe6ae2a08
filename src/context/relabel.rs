//! Relabelling node ids: the same cluster state under other names.
//!
//! Node ids carry no behaviour in Raft, so a state with its ids permuted is
//! equivalent to the original. A model checker uses this for symmetry
//! reduction without ruft depending on the checker.

use super::role::RoleState;
use super::Context;
use crate::{HardState, LogStorage, Message, NodeId};

impl<S: LogStorage + Clone> Context<S> {
    /// This state with every node id mapped through `f` (a permutation of the voters).
    pub fn relabel(&self, f: &impl Fn(NodeId) -> NodeId) -> Context<S> {
        let mut ctx = self.clone();
        ctx.config.id = f(self.config.id);
        ctx.config.voters = self.config.voters.iter().map(|&id| f(id)).collect();
        ctx.hard = relabel_hard(self.hard, f);
        ctx.hard_handed = relabel_hard(self.hard_handed, f);
        ctx.role = match &self.role {
            RoleState::Follower { leader } => RoleState::Follower {
                leader: leader.map(f),
            },
            RoleState::Candidate { votes } => RoleState::Candidate {
                votes: votes.iter().map(|(&id, &g)| (f(id), g)).collect(),
            },
            RoleState::Leader {
                tracker,
                term_start,
            } => RoleState::Leader {
                tracker: tracker.relabel(f),
                term_start: *term_start,
            },
        };
        ctx.outbox.map(|m| relabel_message(m, f));
        ctx.election_timeout = super::election_timeout(
            ctx.config.seed,
            ctx.config.id,
            ctx.hard.term,
            ctx.config.election_tick,
        );
        ctx
    }
}

fn relabel_hard(hs: HardState, f: &impl Fn(NodeId) -> NodeId) -> HardState {
    HardState {
        voted_node: hs.voted_node.map(f),
        ..hs
    }
}

/// `msg` with its sender and receiver mapped through `f` (no variant carries an id).
pub fn relabel_message(msg: &Message, f: &impl Fn(NodeId) -> NodeId) -> Message {
    Message {
        src: f(msg.src),
        dst: f(msg.dst),
        ..msg.clone()
    }
}
