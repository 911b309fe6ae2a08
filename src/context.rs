//! [`Context`]: the pure Raft engine. It holds all Raft state and changes only
//! through [`Context::tick`], [`Context::step`] and the Ready hand-off; it never
//! does I/O of its own (storage is read through [`LogView`], messages are queued
//! in the [`Outbox`]).
//!
//! Every message passes one gate ([`Context::step`]): its envelope is checked,
//! its term classified ([`Staleness`]) and acted on once; then exactly one
//! handler, named after the variant, sees it with a term equal to the node's.

mod election;
mod inherent;
mod outbox;
mod relabel;
mod replication;
pub(crate) mod role;
#[cfg(test)]
mod tests;

pub use inherent::election_timeout;
pub use outbox::Outbox;
pub use relabel::Relabel;
use role::{Role, RoleState};

use crate::log::LogView;
use crate::utils::trace;
use crate::{
    Config, DropReason, Entry, EntryKey, Error, HardState, Index, LogStorage, Message,
    MessageVariant, NodeId, Staleness, StepOutcome, StorageResult, Term, Tick,
};

/// All Raft state of one node. Owned by [`crate::Node`], which is the public face.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Context<S> {
    config: Config,
    /// Term, vote and commit index: what must be persisted.
    hard: HardState,
    /// The last HardState handed out in a Ready.
    hard_handed: HardState,
    role: RoleState,
    log: LogView<S>,
    outbox: Outbox,
    /// Highest index handed out in a Ready's committed entries.
    applying: Index,
    /// Highest index the application acknowledged applying.
    applied: Index,
    election_elapsed: Tick,
    heartbeat_elapsed: Tick,
    election_timeout: Tick,
}

/// The parts of a Ready the engine hands out.
pub struct ReadyParts {
    pub entries: Vec<Entry>,
    pub hard_state: Option<HardState>,
    pub messages: Vec<Message>,
    pub committed_entries: Vec<Entry>,
}

impl<S: LogStorage> Context<S> {
    /// Builds a node from its configuration and whatever its storage holds: a
    /// fresh node on empty storage, the same node after a crash otherwise.
    pub async fn open(config: Config, storage: S) -> Result<Context<S>, Error> {
        config.validate()?;
        let mut hard = storage.initial_state().await?;
        if mutant!(config, ForgetVoteOnRestart) {
            hard.voted_node = None;
        }
        let log = LogView::open(storage).await?;
        if hard.committed_index > log.last().index {
            return Err(Error::CommitBeyondLast {
                commit: hard.committed_index,
                last: log.last().index,
            });
        }
        let mut ctx = Context {
            config,
            hard,
            hard_handed: hard,
            role: RoleState::Follower { leader: None },
            log,
            outbox: Outbox::default(),
            applying: Index(0),
            applied: Index(0),
            election_elapsed: Tick(0),
            heartbeat_elapsed: Tick(0),
            election_timeout: Tick(0),
        };
        ctx.reset_timers();
        Ok(ctx)
    }

    /// Advances the logical clock: a leader may send heartbeats, anyone else may
    /// start an election.
    pub async fn tick(&mut self) -> Result<(), Error> {
        let local = if self.role.role() == Role::Leader {
            self.heartbeat_elapsed.forward();
            (self.heartbeat_elapsed >= self.config.heartbeat_tick).then_some(MessageVariant::Beat)
        } else {
            self.election_elapsed.forward();
            (self.election_elapsed >= self.election_timeout).then_some(MessageVariant::Hup)
        };
        if let Some(variant) = local {
            self.step(Message::local(self.config.id, variant)).await?;
        }
        Ok(())
    }

    /// Steps one message through the term gate and into its handler.
    pub async fn step(&mut self, msg: Message) -> Result<StepOutcome, Error> {
        if let Err(error) = self
            .check_envelope(&msg)
            .and_then(|_| self.check_content(&msg))
        {
            trace::refused(self.config.id, &msg, &error);
            return Err(error);
        }
        match msg.staleness(self.hard.term) {
            Staleness::Local | Staleness::Consistent => {}
            Staleness::Stale if self.stale_but_mutated(&msg.variant) => {}
            Staleness::Stale => {
                let reason = DropReason::StaleTerm {
                    term: msg.src_term,
                    current: self.hard.term,
                };
                trace::dropped(self.config.id, &msg, reason);
                probe!(DropStaleTerm);
                return Ok(StepOutcome::Dropped(reason));
            }
            Staleness::Fresh => {
                let leader = match msg.variant {
                    MessageVariant::AppendEntries { .. } | MessageVariant::Heartbeat { .. } => {
                        Some(msg.src)
                    }
                    _ => None,
                };
                self.become_follower(msg.src_term, leader);
            }
        }
        let outcome = self.dispatch(msg.clone()).await;
        match &outcome {
            Ok(StepOutcome::Dropped(reason)) => trace::dropped(self.config.id, &msg, *reason),
            Err(error) => trace::refused(self.config.id, &msg, error),
            Ok(_) => {}
        }
        probe!(outcome & msg.variant, &outcome);
        self.check_invariants();
        outcome
    }

    /// Whether a mutant lets this stale message through the term gate.
    fn stale_but_mutated(&self, variant: &MessageVariant) -> bool {
        match variant {
            MessageVariant::AppendEntries { .. } => mutant!(self.config, AcceptStaleAppend),
            MessageVariant::RequestVoteResponse { .. } => mutant!(self.config, CountStaleVotes),
            _ => false,
        }
    }

    /// Refuses messages that are malformed whatever the node's state.
    fn check_envelope(&self, msg: &Message) -> Result<(), Error> {
        let id = self.config.id;
        if msg.dst != id {
            return Err(Error::WrongDestination {
                dst: msg.dst,
                local: id,
            });
        }
        if msg.variant.is_local() {
            if msg.src != id || msg.src_term != Term(0) {
                return Err(Error::LocalFromRemote {
                    src: msg.src,
                    term: msg.src_term,
                });
            }
            return Ok(());
        }
        if msg.src == id || !self.config.voters.contains(&msg.src) {
            return Err(Error::UnknownSender { src: msg.src });
        }
        if msg.src_term == Term(0) {
            return Err(Error::RemoteTermZero { src: msg.src });
        }
        Ok(())
    }

    /// Refuses content no node of any term could accept, before the term gate
    /// acts on the message: a refused message changes nothing.
    fn check_content(&self, msg: &Message) -> Result<(), Error> {
        match &msg.variant {
            MessageVariant::AppendEntries { prev, entries, .. } => {
                replication::check_append_shape(msg.src, msg.src_term, *prev, entries).map(drop)
            }
            MessageVariant::Heartbeat { commit }
                if *commit > self.log.last().index && !mutant!(self.config, CommitBeyondMatch) =>
            {
                Err(Error::CommitBeyondLast {
                    commit: *commit,
                    last: self.log.last().index,
                })
            }
            _ => Ok(()),
        }
    }

    /// One handler per variant; each sees a message of the node's term.
    async fn dispatch(&mut self, msg: Message) -> Result<StepOutcome, Error> {
        debug_assert!(
            !sound!(self.config) || msg.src_term == Term(0) || msg.src_term == self.hard.term,
            "the term gate (§5.1) passes only messages of the node's term"
        );
        let src = msg.src;
        match msg.variant {
            MessageVariant::Hup => self.on_hup().await,
            MessageVariant::Beat => Ok(self.on_beat()),
            MessageVariant::Propose { payload } => {
                self.on_propose(payload).await.map(|_| StepOutcome::Handled)
            }
            MessageVariant::RequestVote { last } => Ok(self.on_request_vote(src, last)),
            MessageVariant::RequestVoteResponse { granted } => {
                self.on_request_vote_response(src, granted).await
            }
            MessageVariant::AppendEntries {
                prev,
                entries,
                commit,
            } => self.on_append_entries(src, prev, entries, commit).await,
            MessageVariant::AppendEntriesResponse { outcome } => {
                self.on_append_entries_response(src, outcome).await
            }
            MessageVariant::Heartbeat { commit } => self.on_heartbeat(src, commit),
            MessageVariant::HeartbeatResponse => self.on_heartbeat_response(src).await,
        }
    }

    /// A drop for a message this role has no use for.
    fn not_for_role(&self) -> StepOutcome {
        StepOutcome::Dropped(DropReason::NotForRole {
            role: self.role.role(),
        })
    }

    /// Whether the application has something to do.
    pub fn has_ready(&self) -> bool {
        self.log.has_unpersisted()
            || self.hard != self.hard_handed
            || !self.outbox.is_empty()
            || self.hard.committed_index > self.applying
    }

    /// Hands out what changed since the last Ready. Reads storage before
    /// changing anything, so a storage error leaves the engine as it was.
    pub async fn take_ready(&mut self) -> StorageResult<ReadyParts> {
        if mutant!(self.config, AckBeforePersist)
            && !self.outbox.is_empty()
            && (self.log.has_unpersisted() || self.hard != self.hard_handed)
        {
            // The messages go out in a Ready of their own, before their writes.
            return Ok(ReadyParts {
                entries: Vec::new(),
                hard_state: None,
                messages: self.outbox.take(),
                committed_entries: Vec::new(),
            });
        }
        let committed = self.hard.committed_index;
        let committed_entries = self
            .log
            .entries(self.applying.next(), committed.next(), usize::MAX)
            .await?;
        let hard_state = (self.hard != self.hard_handed).then_some(self.hard);
        self.hard_handed = self.hard;
        self.applying = committed;
        self.check_invariants();
        Ok(ReadyParts {
            entries: self.log.take_unpersisted(),
            hard_state,
            messages: self.outbox.take(),
            committed_entries,
        })
    }

    /// The application persisted entries up to `persisted` (if any) and applied
    /// everything up to `applied`. A leader counts its own persisted entries
    /// towards commitment from here on.
    pub fn advance(&mut self, persisted: Option<EntryKey>, applied: Index) {
        if let Some(key) = persisted {
            self.log.on_persisted(key);
        }
        debug_assert!(
            applied <= self.applying,
            "only handed-out entries are applied"
        );
        self.applied = self.applied.max(applied);
        let persisted = self.log.persisted().index;
        if let RoleState::Leader { tracker, .. } = &mut self.role {
            if let Some(me) = tracker.get_mut(self.config.id) {
                me.on_self_persisted(persisted);
            }
            self.maybe_commit();
        }
        self.check_invariants();
    }

    /// The whole-state check run after every transition (debug builds).
    fn check_invariants(&self) {
        if !sound!(self.config) {
            return; // these describe the correct engine; the harness judges a mutant
        }
        let last = self.log.last().index;
        debug_assert!(
            self.applied <= self.applying && self.applying <= self.hard.committed_index,
            "State Machine Safety (§5.4.3): applied <= applying <= committed"
        );
        debug_assert!(
            self.hard.committed_index <= last,
            "Log Matching (§5.3): committed <= last index"
        );
        debug_assert!(self.log.persisted().index <= last);
        if let RoleState::Leader { term_start, .. } = &self.role {
            debug_assert!(
                *term_start <= last,
                "Leader Append-Only (§5.3): the no-op stays"
            );
            debug_assert_eq!(self.hard.voted_node, Some(self.config.id));
        }
        if let RoleState::Candidate { .. } = &self.role {
            debug_assert_eq!(self.hard.voted_node, Some(self.config.id));
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The current HardState (possibly not yet persisted).
    pub fn hard_state(&self) -> HardState {
        self.hard
    }

    /// The role's state.
    pub fn role(&self) -> &RoleState {
        &self.role
    }

    /// The log.
    pub fn log(&self) -> &LogView<S> {
        &self.log
    }

    /// The log, for the application's writes to storage.
    pub fn log_mut(&mut self) -> &mut LogView<S> {
        &mut self.log
    }

    /// The outbox.
    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// `(applied, applying)`.
    pub fn apply_indexes(&self) -> (Index, Index) {
        (self.applied, self.applying)
    }

    /// The known leader of the current term.
    pub fn leader(&self) -> Option<NodeId> {
        match &self.role {
            RoleState::Follower { leader } => *leader,
            RoleState::Candidate { .. } => None,
            RoleState::Leader { .. } => Some(self.config.id),
        }
    }

    /// The election timeout drawn for this term, and the ticks elapsed towards it.
    pub fn election_clock(&self) -> (Tick, Tick) {
        (self.election_elapsed, self.election_timeout)
    }
}
