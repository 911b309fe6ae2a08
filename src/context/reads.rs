//! Linearizable reads (thesis §6.4): the application's read request, a
//! follower forwarding it, the leader confirming it (ReadIndex or lease) and
//! the answer. The bookkeeping of pending reads is the pure
//! [`crate::read_only`] module; here are only the handlers.
//!
//! A read is served at the leader's commit index once the leader knows it still
//! led after the read arrived:
//! - [`ReadMode::Index`]: a quorum answered a heartbeat carrying the read's
//!   number ([`crate::ReadSeq`]), sent after it was registered;
//! - [`ReadMode::Lease`]: at once, within check-quorum's lease.
//!
//! Either way a leader that has not committed an entry of its own term yet
//! holds reads back until it has: before that its commit index may lag what
//! an earlier leader committed (§8).

use super::role::RoleState;
use super::Context;
use crate::progress::joint::QuorumRule;
use crate::read_only::ReadRequest;
use crate::{
    DropReason, Error, Index, LogStorage, MessageVariant, NodeId, ReadMode, ReadSeq, ReadState,
    StepOutcome,
};
use bytes::Bytes;

impl<S: LogStorage> Context<S> {
    /// The application asks for a linearizable read: a leader takes it, a
    /// follower that knows its leader forwards it, anyone else refuses it.
    pub(super) fn on_read_index(&mut self, ctx: Bytes) -> Result<StepOutcome, Error> {
        probe!(OnReadIndex);
        let me = self.config.id;
        match &self.role {
            RoleState::Leader { .. } => {
                self.admit_read(ReadRequest { ctx, from: me })?;
                Ok(StepOutcome::Handled)
            }
            RoleState::Follower { leader: Some(_) } if self.reads_locally() => {
                let index = self.hard.committed_index;
                self.read_states.push(ReadState { index, ctx });
                Ok(StepOutcome::Handled)
            }
            RoleState::Follower {
                leader: Some(leader),
            } => {
                probe!(ReadForwarded);
                let leader = *leader;
                debug_assert_ne!(leader, me, "§6.4: a follower forwards to another node");
                self.send(leader, MessageVariant::ReadIndexForward { ctx });
                Ok(StepOutcome::Handled)
            }
            _ => Err(Error::NotLeader {
                leader: self.leader(),
            }),
        }
    }

    /// A follower forwarded its application's read: the leader takes it as
    /// its own, and answers the follower once it is confirmed.
    pub(super) fn on_read_index_forward(
        &mut self,
        follower: NodeId,
        ctx: Bytes,
    ) -> Result<StepOutcome, Error> {
        probe!(OnReadIndexForward);
        if !matches!(self.role, RoleState::Leader { .. }) {
            return Ok(self.not_for_role());
        }
        match self.admit_read(ReadRequest {
            ctx,
            from: follower,
        }) {
            Err(Error::ReadsFull { .. }) => Ok(StepOutcome::Dropped(DropReason::ReadsFull)),
            other => other.map(|_| StepOutcome::Handled),
        }
    }

    /// The leader confirmed a read this follower forwarded.
    pub(super) fn on_read_index_response(
        &mut self,
        leader: NodeId,
        index: Index,
        ctx: Bytes,
    ) -> Result<StepOutcome, Error> {
        probe!(OnReadIndexResponse);
        if !self.follow(leader) {
            return Ok(self.not_for_role());
        }
        if self.read_states.len() >= self.config.reads_max {
            return Ok(StepOutcome::Dropped(DropReason::ReadsFull));
        }
        self.read_states.push(ReadState { index, ctx });
        Ok(StepOutcome::Handled)
    }

    /// Takes a read at the leader, within the bounds: postponed until the
    /// leader commits in its term, else registered and confirmed. Confirmed
    /// reads not yet handed out count against `reads_max` too, so lease reads
    /// between two Readys cannot grow the list without end.
    fn admit_read(&mut self, request: ReadRequest) -> Result<(), Error> {
        let (count_max, bytes_max) = (self.config.reads_max, self.config.read_bytes_max);
        let handed_out_later = self.read_states.len();
        let RoleState::Leader { reads, .. } = &mut self.role else {
            return Err(Error::NotLeader {
                leader: self.leader(),
            });
        };
        let room = count_max.saturating_sub(handed_out_later);
        if room == 0 || !reads.admits(request.ctx.len(), room, bytes_max) {
            probe!(ReadsFull);
            return Err(Error::ReadsFull {
                max: count_max,
                bytes_max,
            });
        }
        if !self.committed_in_own_term() {
            probe!(ReadWaitsForOwnTermCommit);
            if let RoleState::Leader { reads, .. } = &mut self.role {
                reads.postpone(request);
            }
            return Ok(());
        }
        self.register_read(request);
        self.confirm_reads();
        Ok(())
    }

    /// Whether this leader has committed an entry of its own term, so its
    /// commit index is at least every earlier leader's (§8).
    pub(super) fn committed_in_own_term(&self) -> bool {
        if mutant!(self.config, ReadBeforeOwnTermCommit) {
            return true;
        }
        match &self.role {
            RoleState::Leader { term_start, .. } => self.hard.committed_index >= *term_start,
            _ => false,
        }
    }

    /// Registers a read at the commit index: within a lease it is served
    /// now; otherwise it waits for a round of heartbeats carrying its number
    /// ([`Self::confirm_reads`]), whose answers also renew a lease.
    fn register_read(&mut self, request: ReadRequest) {
        let me = self.config.id;
        let committed = self.hard.committed_index;
        debug_assert!(
            self.committed_in_own_term() || !sound!(self.config),
            "§6.4: reads are served only after the leader commits in its term"
        );
        if self.lease_serves_reads() {
            probe!(ReadServedByLease);
            self.answer_read(request, committed);
            return;
        }
        let RoleState::Leader { reads, .. } = &mut self.role else {
            return;
        };
        let seq = match mutant!(self.config, StaleReadContext) {
            true => reads.add_reusing_number(request, committed, me),
            false => reads.add(request, committed, me),
        };
        // The leader's own answer may already be a quorum (one voter).
        self.on_read_acked(me, seq);
    }

    /// Whether this leader's read lease lets it serve a read at once: a
    /// quorum confirmed a round sent fewer than `election_tick` ticks ago,
    /// and no follower was asked to campaign in this term (see
    /// [`crate::read_only::ReadLease`]).
    fn lease_serves_reads(&self) -> bool {
        let span = self.config.election_tick;
        let holds =
            matches!(&self.role, RoleState::Leader { reads, .. } if reads.lease_holds(span));
        debug_assert!(
            !holds || self.config.read_mode == ReadMode::Lease,
            "§6.4: only lease reads keep a lease"
        );
        holds
    }

    /// The leader asked a follower to campaign at once (leader transfer):
    /// that campaign is granted votes whatever leases the voters hold, so
    /// the read lease is given up for the rest of the term.
    pub(super) fn forfeit_read_lease(&mut self) {
        if mutant!(self.config, LeaseSurvivesTransfer) {
            return;
        }
        if let RoleState::Leader { reads, .. } = &mut self.role {
            probe!(ReadLeaseForfeited if reads.lease().is_some());
            reads.forfeit_lease();
        }
        debug_assert!(
            !self.lease_serves_reads(),
            "§3.10: no lease once TimeoutNow is out"
        );
    }

    /// Sends the heartbeat round that confirms the registered reads, if any
    /// wait: one round for all of them, carrying the newest number.
    fn confirm_reads(&mut self) {
        if matches!(&self.role, RoleState::Leader { reads, .. } if reads.newest().is_some()) {
            self.broadcast_heartbeat();
        }
    }

    /// `from` answered a heartbeat carrying read number `seq`: hand out
    /// every read a quorum has now confirmed.
    pub(super) fn on_read_acked(&mut self, from: NodeId, seq: ReadSeq) {
        let (membership, rule) = (&self.membership, self.read_quorum());
        let RoleState::Leader { reads, .. } = &mut self.role else {
            return;
        };
        let has_quorum =
            |acks: &std::collections::BTreeSet<NodeId>| membership.has_quorum_by(rule, acks);
        let confirmed = reads.ack(from, seq, has_quorum);
        probe!(ReadConfirmedByQuorum if !confirmed.is_empty());
        for (request, index) in confirmed {
            self.answer_read(request, index);
        }
    }

    /// How many voters must answer to confirm a read: a majority, as for
    /// every other decision.
    fn read_quorum(&self) -> QuorumRule {
        if mutant!(self.config, ReadQuorumOffByOne) {
            return super::inherent::one_short;
        }
        self.quorum_rule()
    }

    /// Whether a follower answers reads from its own state: never (only the
    /// `serve-read-from-follower-state` mutant does).
    fn reads_locally(&self) -> bool {
        mutant!(self.config, ServeReadFromFollowerState)
    }

    /// The leader just committed in its term: the reads held back until then
    /// are registered now.
    pub(super) fn release_postponed_reads(&mut self) {
        if !self.committed_in_own_term() {
            return;
        }
        let RoleState::Leader { reads, .. } = &mut self.role else {
            return;
        };
        let waiting = reads.take_waiting();
        if waiting.is_empty() {
            return;
        }
        probe!(PostponedReadsReleased);
        for request in waiting {
            self.register_read(request);
        }
        self.confirm_reads();
    }

    /// Hands a confirmed read to whoever asked: this node's application (in
    /// the next Ready) or the follower that forwarded it.
    fn answer_read(&mut self, request: ReadRequest, index: Index) {
        debug_assert!(
            index <= self.hard.committed_index,
            "§6.4: a read index is a commit index"
        );
        if request.from == self.config.id {
            self.read_states.push(ReadState {
                index,
                ctx: request.ctx,
            });
        } else {
            let ctx = request.ctx;
            self.send(
                request.from,
                MessageVariant::ReadIndexResponse { index, ctx },
            );
        }
    }
}
