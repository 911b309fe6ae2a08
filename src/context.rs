//! [`Context`]: the pure Raft engine. It holds all Raft state and changes only
//! through [`Context::tick`], [`Context::step`] and the Ready hand-off; it never
//! does I/O of its own (storage is read through [`LogView`], messages are queued
//! in the [`Outbox`]).
//!
//! Every message passes one gate ([`Context::step`]): its envelope is checked,
//! its term classified ([`Staleness`]) and acted on once; then exactly one
//! handler, named after the variant, sees it with a term equal to the node's.

mod election;
mod gate;
mod inherent;
mod invariants;
mod leadership;
mod lease;
mod membership;
mod outbox;
mod reads;
mod relabel;
mod replication;
pub(crate) mod role;
mod snapshot;
#[cfg(test)]
mod tests;

use crate::Role;
pub use inherent::election_timeout;
pub use outbox::Outbox;
pub use relabel::Relabel;
use role::RoleState;

use crate::log::LogView;
use crate::progress::joint::Membership;
use crate::utils::trace;
use crate::{
    Config, DropReason, Entry, EntryKey, Error, HardState, Index, LogStorage, Message,
    MessageVariant, NodeId, ReadState, Ready, StepOutcome, StorageError, Term, Tick,
};

/// Repairs what a crash can leave between writing a Ready's entries and its
/// HardState, when the application does not write them in one atomic batch
/// (see the Ready contract). Neither repair loses anything promised:
/// messages are sent only once both writes are durable, so nothing that a
/// lost write held was ever sent.
/// - Entries durable, HardState not: the last entry's term is newer than
///   the HardState's. The node takes that term, with no vote in it (a vote
///   cast in it would have been in the lost write, and was never sent).
/// - HardState durable, entries not: its commit index is beyond the log.
///   The commit index is volatile state in the paper (Figure 2) and only
///   ever learnt from a leader: it is lowered to the last entry and learnt
///   again.
fn repair_torn_write(id: NodeId, hard: &mut HardState, last: EntryKey) {
    if last.term > hard.term {
        tracing::warn!(target: "ruft::restore", node = %id, stored = %hard.term, %last,
            "entries newer than the HardState (torn write): taking the last entry's term, no vote");
        hard.term = last.term;
        hard.voted_node = None;
    }
    if hard.committed_index > last.index {
        tracing::warn!(target: "ruft::restore", node = %id, committed = %hard.committed_index, %last,
            "commit index beyond the stored log (torn write): lowered to the last entry");
        hard.committed_index = last.index;
    }
}

/// All Raft state of one node. Owned by [`crate::Node`], which is the public face.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Context<S> {
    config: Config,
    /// The voters (and learners) every quorum is counted in, as of the
    /// application's applied index (see `context/membership.rs`).
    membership: Membership,
    /// Configuration entries handed out in a Ready and not yet acknowledged
    /// as applied, in log order: they take effect at [`Context::advance`].
    handed_confs: Vec<(Index, membership::Handed)>,
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
    /// Ticks since this node started, counted (up to `election_tick`) only
    /// with lease reads: until `election_tick` ticks have passed it may still
    /// be inside a lease it granted before a restart (see
    /// [`Context::in_startup_lease`]).
    since_start: Tick,
    /// Confirmed reads not yet handed out (at most `reads_max`).
    read_states: Vec<ReadState>,
}

/// Where a restarted state machine stands: the application says so
/// ([`Config::applied`]); a state machine is never behind the snapshot.
fn resume_point(config: &Config, snapshot: Index) -> Index {
    if mutant!(config, AppliedIgnoredOnRestart) {
        return snapshot; // as if the state machine had been rebuilt from it
    }
    config.applied.max(snapshot)
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
        let hard_handed = hard;
        // A snapshot is committed: a crash between writing it and the
        // HardState that says so must not lose that.
        let snapshot = log.snapshot().await?.index();
        hard.committed_index = hard.committed_index.max(snapshot);
        repair_torn_write(config.id, &mut hard, log.last());
        debug_assert!(
            hard.term >= log.last().term && hard.committed_index <= log.last().index,
            "§5.1, Figure 2: a node's term is at least its last entry's, and it commits only what it holds"
        );
        if config.applied > hard.committed_index {
            return Err(Error::AppliedBeyondCommit {
                applied: config.applied,
                committed: hard.committed_index,
            });
        }
        probe!(OpenedCompacted if log.first_index().await? > Index(1));
        let applied = resume_point(&config, snapshot);
        let membership = Self::membership_at_open(&config, &log, applied).await?;
        let mut ctx = Context {
            membership,
            handed_confs: Vec::new(),
            config,
            hard,
            hard_handed,
            role: RoleState::Follower { leader: None },
            log,
            outbox: Outbox::default(),
            applying: applied,
            applied,
            election_elapsed: Tick(0),
            heartbeat_elapsed: Tick(0),
            election_timeout: Tick(0),
            since_start: Tick(0),
            read_states: Vec::new(),
        };
        ctx.reset_timers();
        Ok(ctx)
    }

    /// Advances the logical clock. A leader counts its heartbeat and election
    /// periods (the latter ends in `CheckQuorum`); anyone else may start an
    /// election.
    pub async fn tick(&mut self) -> Result<(), Error> {
        self.tick_leases();
        if self.role.role() != Role::Leader {
            self.election_elapsed.forward();
            if self.election_elapsed >= self.election_timeout && self.is_promotable() {
                self.step(Message::local(self.config.id, MessageVariant::Hup))
                    .await?;
            }
            return Ok(());
        }
        self.heartbeat_elapsed.forward();
        self.election_elapsed.forward();
        if self.election_elapsed >= self.config.election_tick {
            self.election_elapsed.reset();
            self.step(Message::local(self.config.id, MessageVariant::CheckQuorum))
                .await?;
        }
        if self.role.role() == Role::Leader && self.heartbeat_elapsed >= self.config.heartbeat_tick
        {
            self.step(Message::local(self.config.id, MessageVariant::Beat))
                .await?;
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
        if let Some(reason) = self.outsider(&msg).or_else(|| self.gate(&msg)) {
            trace::dropped(self.config.id, &msg, reason);
            probe!(outcome & msg.variant, &Ok(StepOutcome::Dropped(reason)));
            return Ok(StepOutcome::Dropped(reason));
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

    /// One handler per variant; each sees a message of the node's term.
    async fn dispatch(&mut self, msg: Message) -> Result<StepOutcome, Error> {
        debug_assert!(
            !sound!(self.config)
                || msg.src_term == Term(0)
                || msg.src_term == self.hard.term
                || (msg.variant.is_prospective() && msg.src_term > self.hard.term),
            "the term gate (§5.1) passes only messages of the node's term, and prospective ones (§9.6)"
        );
        let src = msg.src;
        let term = msg.src_term;
        match msg.variant {
            MessageVariant::Hup => self.on_hup().await,
            MessageVariant::Beat => Ok(self.on_beat()),
            MessageVariant::Propose { payload } => {
                self.on_propose(payload).map(|_| StepOutcome::Handled)
            }
            MessageVariant::ProposeConfChange { change } => self
                .on_propose_conf_change(change)
                .map(|_| StepOutcome::Handled),
            MessageVariant::CheckQuorum => Ok(self.on_check_quorum()),
            MessageVariant::TransferLeader { target } => self.on_transfer_leader(target).await,
            MessageVariant::ReportSnapshot { peer, status } => {
                self.on_report_snapshot(peer, status)
            }
            MessageVariant::InstallSnapshot { snapshot } => {
                // Boxed: a rare handler, kept out of every step's future.
                Box::pin(self.on_install_snapshot(src, *snapshot)).await
            }
            MessageVariant::RequestVote { last, transfer } => {
                Ok(self.on_request_vote(src, last, transfer))
            }
            MessageVariant::RequestVoteResponse { granted } => {
                self.on_request_vote_response(src, granted).await
            }
            MessageVariant::RequestPreVote { last } => {
                Ok(self.on_request_pre_vote(src, term, last))
            }
            MessageVariant::RequestPreVoteResponse { granted } => {
                self.on_request_pre_vote_response(src, term, granted).await
            }
            MessageVariant::TimeoutNow => self.on_timeout_now(src).await,
            MessageVariant::AppendEntries {
                prev,
                entries,
                commit,
            } => self.on_append_entries(src, prev, entries, commit).await,
            MessageVariant::AppendEntriesResponse { outcome } => {
                self.on_append_entries_response(src, outcome).await
            }
            MessageVariant::Heartbeat { commit, read } => self.on_heartbeat(src, commit, read),
            MessageVariant::HeartbeatResponse { read } => {
                self.on_heartbeat_response(src, read).await
            }
            MessageVariant::ReadIndex { ctx } => self.on_read_index(ctx),
            MessageVariant::ReadIndexForward { ctx } => self.on_read_index_forward(src, ctx),
            MessageVariant::ReadIndexResponse { index, ctx } => {
                self.on_read_index_response(src, index, ctx)
            }
        }
    }

    /// A client proposal, through the same gate as every step (see
    /// [`Self::proposal`]).
    pub fn propose(&mut self, payload: bytes::Bytes) -> Result<EntryKey, Error> {
        let variant = MessageVariant::Propose {
            payload: payload.clone(), // shares the buffer
        };
        self.proposal(variant, |ctx| ctx.on_propose(payload))
    }

    /// A proposal (a command or a membership change): the envelope is
    /// checked, `append` runs, a refusal is traced, and the whole state is
    /// checked after. An error means nothing was appended. Synchronous: with
    /// no await, nothing can stop it half-way (see
    /// [`Self::append_proposal`]).
    pub(crate) fn proposal(
        &mut self,
        variant: MessageVariant,
        append: impl FnOnce(&mut Self) -> Result<EntryKey, Error>,
    ) -> Result<EntryKey, Error> {
        let msg = Message::local(self.config.id, variant);
        self.check_envelope(&msg)?;
        debug_assert!(
            self.gate(&msg).is_none(),
            "§5.1: local messages pass the term gate"
        );
        let last = self.log.last();
        let result = append(self);
        match &result {
            Err(error) => {
                trace::refused(self.config.id, &msg, error);
                debug_assert_eq!(self.log.last(), last, "a refused proposal appends nothing");
            }
            Ok(key) => debug_assert_eq!(
                (key.index, key.term),
                (last.index.next(), self.hard.term),
                "§5.3: a proposal is appended after the last entry, in the leader's term"
            ),
        }
        self.check_invariants();
        result
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
            || !self.read_states.is_empty()
            || self.hard.committed_index > self.applying
            || self.broadcast_is_due()
    }

    /// Hands out what changed since the last Ready. Reads storage before
    /// changing anything, so a storage error leaves the engine as it was.
    pub async fn take_ready(&mut self) -> Ready {
        if mutant!(self.config, AckBeforePersist)
            && !self.outbox.is_empty()
            && (self.log.has_unpersisted() || self.hard != self.hard_handed)
        {
            // The messages go out in a Ready of their own, before their writes.
            return Ready {
                messages: self.outbox.take(),
                ..Ready::default()
            };
        }
        // The due appends first: reading storage for them is the only part
        // that changes the engine across an await, and losing some of them
        // (a caller dropping the future) is a lost message. Then the
        // committed entries are read, and only then does anything that the
        // Ready hands out change hands: an abandoned read leaves it all for
        // the next Ready. A failed read withholds only the committed entries
        // (they stay owed): acks, votes and appends need no read, and a node
        // whose reads fail must not fall silent.
        self.send_due_broadcast().await;
        let (committed_entries, committed_error) = self.read_committed().await;
        let hard_state = (self.hard != self.hard_handed).then_some(self.hard);
        self.hard_handed = self.hard;
        if let Some(last) = committed_entries.last() {
            debug_assert!(
                last.index() <= self.hard.committed_index,
                "§5.4.3: only committed entries are applied"
            );
            debug_assert_eq!(
                committed_entries[0].index(),
                self.applying.next(),
                "State Machine Safety (§5.4.3): entries are applied in order, none skipped"
            );
            self.applying = last.index();
        }
        self.release_uncommitted(&committed_entries);
        self.note_handed_confs(&committed_entries);
        self.check_invariants();
        Ready {
            snapshot: self.log.take_unpersisted_snapshot().map(Box::new),
            entries: self.log.take_unpersisted(),
            hard_state,
            messages: self.outbox.take(),
            committed_entries,
            committed_error,
            read_states: std::mem::take(&mut self.read_states),
            token: crate::ReadyToken::default(), // set by Node::ready
        }
    }

    /// The committed entries not yet handed out, up to
    /// `committed_bytes_max` (at least one), or why they could not be read.
    async fn read_committed(&self) -> (Vec<Entry>, Option<StorageError>) {
        let limit = crate::log::Limit {
            count_max: usize::MAX,
            bytes_max: self.config.committed_bytes_max,
        };
        let (low, high) = (self.applying.next(), self.hard.committed_index.next());
        match self.log.entries_within(low, high, limit).await {
            Ok(entries) => (entries, None),
            Err(error) => {
                tracing::warn!(target: "ruft::storage", node = %self.config.id, %low, %high, %error,
                    "reading committed entries failed: the Ready withholds them");
                (Vec::new(), Some(error))
            }
        }
    }

    /// The application persisted the snapshot ending at `snapshot` and the
    /// entries up to `persisted` (if any), and applied everything up to
    /// `applied`. A leader counts its own persisted entries towards
    /// commitment from here on.
    pub fn advance(
        &mut self,
        snapshot: Option<EntryKey>,
        persisted: Option<EntryKey>,
        applied: Index,
    ) {
        if let Some(key) = snapshot {
            self.log.on_snapshot_persisted(key);
        }
        if let Some(key) = persisted {
            self.log.on_persisted(key);
        }
        debug_assert!(
            applied <= self.applying,
            "only handed-out entries are applied"
        );
        self.applied = self.applied.max(applied);
        self.apply_handed_confs(self.applied);
        let persisted = self.log.persisted().index;
        if let RoleState::Leader { tracker, .. } = &mut self.role {
            if let Some(me) = tracker.get_mut(self.config.id) {
                me.on_self_persisted(persisted);
            }
            self.maybe_commit();
        }
        self.check_invariants();
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
            RoleState::PreCandidate { .. } | RoleState::Candidate { .. } => None,
            RoleState::Leader { .. } => Some(self.config.id),
        }
    }

    /// As leader: the progress of voter `id`.
    pub fn progress(&self, id: NodeId) -> Option<&crate::Progress> {
        match &self.role {
            RoleState::Leader { tracker, .. } => tracker.get(id),
            _ => None,
        }
    }

    /// As leader: the voter leadership is being transferred to.
    pub fn transfer(&self) -> Option<NodeId> {
        match &self.role {
            RoleState::Leader { transfer, .. } => transfer.map(|t| t.target),
            _ => None,
        }
    }

    /// The election timeout drawn for this term, and the ticks elapsed towards it.
    pub fn election_clock(&self) -> (Tick, Tick) {
        (self.election_elapsed, self.election_timeout)
    }
}
