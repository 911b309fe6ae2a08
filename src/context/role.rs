//! Roles: the public [`Role`] and the per-role state the engine keeps, with the
//! `become_*` transitions.

use super::Context;
use crate::progress::Tracker;
use crate::utils::trace;
use crate::{Entry, EntryKey, Index, LogStorage, NodeId, Term};
use std::collections::BTreeMap;

/// A node's role (§5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Answers leaders and candidates; starts an election when it hears from no leader.
    Follower,
    /// Asks for votes in its term.
    Candidate,
    /// Replicates its log and decides what is committed.
    Leader,
}

/// What each role remembers. Leaving a role drops its state.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RoleState {
    /// `leader`: the leader of the current term, once heard from.
    Follower { leader: Option<NodeId> },
    /// `votes`: answers received in this election, own vote included.
    Candidate { votes: BTreeMap<NodeId, bool> },
    /// `term_start`: index of the leader's no-op; every entry from there on is
    /// of the current term, every entry before it of an older one.
    Leader { tracker: Tracker, term_start: Index },
}

impl RoleState {
    /// The public role.
    pub fn role(&self) -> Role {
        match self {
            RoleState::Follower { .. } => Role::Follower,
            RoleState::Candidate { .. } => Role::Candidate,
            RoleState::Leader { .. } => Role::Leader,
        }
    }
}

impl<S: LogStorage> Context<S> {
    /// Becomes a follower in `term` (which may be the current one), knowing `leader`.
    pub(super) fn become_follower(&mut self, term: Term, leader: Option<NodeId>) {
        let from = self.role.role();
        probe!(BecomeFollowerFromFollower if from == Role::Follower);
        probe!(BecomeFollowerFromCandidate if from == Role::Candidate);
        probe!(BecomeFollowerFromLeader if from == Role::Leader);
        self.enter_term(term);
        self.role = RoleState::Follower { leader };
        self.reset_timers();
        if from != Role::Follower {
            trace::role_changed(self.config.id, term, from, Role::Follower);
        }
    }

    /// Starts an election: next term, vote for itself (§5.2).
    pub(super) fn become_candidate(&mut self) {
        let from = self.role.role();
        probe!(BecomeCandidateFromFollower if from == Role::Follower);
        probe!(BecomeCandidateFromCandidate if from == Role::Candidate);
        let term = self.hard.term.next();
        self.enter_term(term);
        self.hard.voted_node = Some(self.config.id);
        if mutant!(self.config, CampaignWithoutPersisting) {
            self.hard_handed = self.hard; // as if already handed out: never persisted
        }
        self.role = RoleState::Candidate {
            votes: BTreeMap::from([(self.config.id, true)]),
        };
        self.reset_timers();
        trace::role_changed(self.config.id, term, from, Role::Candidate);
    }

    /// Takes office: append a no-op of the new term (§5.4.2) and start replicating.
    pub(super) async fn become_leader(&mut self) -> crate::StorageResult<()> {
        let from = self.role.role();
        probe!(BecomeLeader);
        let term_start = self.log.last().index.next();
        let mut tracker = Tracker::new(&self.config.voters, term_start);
        let persisted = self.log.persisted().index;
        if let Some(me) = tracker.get_mut(self.config.id) {
            me.on_self_persisted(persisted);
        }
        self.role = RoleState::Leader {
            tracker,
            term_start,
        };
        self.reset_timers();
        let noop = Entry::empty(EntryKey::new(self.hard.term, term_start));
        self.log.append_local(&[noop]);
        trace::role_changed(self.config.id, self.hard.term, from, Role::Leader);
        self.broadcast_append().await
    }
}
