//! What each role remembers ([`RoleState`]), and the `become_*` transitions.

use super::Context;
use crate::progress::Tracker;
use crate::read_only::ReadOnly;
use crate::utils::trace;
use crate::{Entry, EntryKey, Index, LogStorage, NodeId, ReadMode, Role, Term};
use std::collections::BTreeMap;

/// What each role remembers. Leaving a role drops its state.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RoleState {
    /// `leader`: the leader of the current term, once heard from.
    Follower { leader: Option<NodeId> },
    /// `votes`: pre-vote answers for the next term, own included (§9.6).
    PreCandidate { votes: BTreeMap<NodeId, bool> },
    /// `votes`: answers received in this election, own vote included.
    Candidate { votes: BTreeMap<NodeId, bool> },
    /// `term_start`: index of the leader's no-op; every entry from there on is
    /// of the current term, every entry before it of an older one.
    /// `transfer`: the leader transfer under way, if any.
    /// `uncommitted_bytes`: payload bytes proposed in this term and not yet
    /// handed out committed (kept only under `uncommitted_bytes_max`).
    /// `reads`: reads waiting to be confirmed (§6.4).
    /// `pending_conf`: the last configuration entry this leader may not yet
    /// have applied (at election: its whole log): no new change is accepted
    /// until the application applied it (etcd's `pendingConfIndex`).
    /// `broadcast_due`: a proposal was appended or a membership change took
    /// effect; the next Ready sends appends to every member (new ones
    /// included).
    Leader {
        tracker: Tracker,
        term_start: Index,
        transfer: Option<Transfer>,
        uncommitted_bytes: usize,
        reads: ReadOnly,
        pending_conf: Index,
        broadcast_due: bool,
    },
}

/// A leader transfer under way (thesis §3.10).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Transfer {
    /// The voter leadership is being handed to.
    pub target: NodeId,
    /// Whether an election period has ended since it started: it is given up
    /// at the end of the next one, so it always has at least `election_tick`
    /// ticks and at most twice that. Its deadline never moves the leader's
    /// election period, which check-quorum keeps.
    pub period_ended: bool,
}

impl RoleState {
    /// The public role.
    pub fn role(&self) -> Role {
        match self {
            RoleState::Follower { .. } => Role::Follower,
            RoleState::PreCandidate { .. } => Role::PreCandidate,
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
        probe!(BecomeFollowerFromPreCandidate if from == Role::PreCandidate);
        probe!(BecomeFollowerFromCandidate if from == Role::Candidate);
        probe!(BecomeFollowerFromLeader if from == Role::Leader);
        self.enter_term(term);
        if let RoleState::Leader { reads, .. } = &mut self.role {
            let dropped = reads.clear().len();
            probe!(PendingReadsDroppedOnStepDown if dropped > 0);
            trace::reads_dropped(self.config.id, term, dropped);
        }
        self.role = RoleState::Follower { leader };
        self.reset_timers();
        if from != Role::Follower {
            trace::role_changed(self.config.id, term, from, Role::Follower);
        }
        debug_assert_eq!(
            self.hard.term, term,
            "§5.1: a follower is in the term it adopted"
        );
    }

    /// Asks for pre-votes for the next term without entering it (§9.6): the
    /// term and the vote stay as they are, only the role and timers change.
    pub(super) fn become_pre_candidate(&mut self) {
        let from = self.role.role();
        let before = self.hard;
        probe!(BecomePreCandidate);
        if mutant!(self.config, PreVoteBumpsTerm) {
            self.enter_term(self.hard.term.next()); // the disruption pre-vote exists to stop
        }
        self.role = RoleState::PreCandidate {
            votes: BTreeMap::from([(self.config.id, true)]),
        };
        self.reset_timers();
        trace::role_changed(self.config.id, self.hard.term, from, Role::PreCandidate);
        debug_assert!(
            !sound!(self.config) || self.hard == before,
            "pre-vote (§9.6): becoming a pre-candidate changes neither term nor vote"
        );
    }

    /// Starts an election: next term, vote for itself (§5.2).
    pub(super) fn become_candidate(&mut self) {
        let from = self.role.role();
        probe!(BecomeCandidateFromFollower if from == Role::Follower);
        probe!(BecomeCandidateFromPreCandidate if from == Role::PreCandidate);
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
        debug_assert_eq!(
            self.hard.term, term,
            "§5.2: a candidate is in a term of its own"
        );
    }

    /// Takes office: append a no-op of the new term (§5.4.2) and start replicating.
    pub(super) async fn become_leader(&mut self) -> crate::StorageResult<()> {
        let from = self.role.role();
        debug_assert_eq!(
            from,
            Role::Candidate,
            "§5.2: only a candidate wins an election"
        );
        probe!(BecomeLeader);
        let term_start = self.log.last().index.next();
        let mut tracker = Tracker::new(&self.membership.members(), term_start);
        let persisted = self.log.persisted().index;
        if let Some(me) = tracker.get_mut(self.config.id) {
            me.on_self_persisted(persisted);
            me.on_contact();
        }
        self.role = RoleState::Leader {
            tracker,
            term_start,
            transfer: None,
            uncommitted_bytes: 0,
            reads: match self.config.read_mode {
                ReadMode::Index => ReadOnly::default(),
                ReadMode::Lease => ReadOnly::with_lease(),
            },
            pending_conf: self.pending_conf_at_election(term_start.prev()),
            broadcast_due: false,
        };
        self.reset_timers();
        let noop = Entry::empty(EntryKey::new(self.hard.term, term_start));
        self.log.append_local(&[noop]);
        trace::role_changed(self.config.id, self.hard.term, from, Role::Leader);
        self.broadcast_append().await
    }
}
