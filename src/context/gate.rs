//! The gate every message passes before its handler: the envelope and
//! content checks, and the term rules (§5.1, §9.6, §6.2), decided once; and
//! the pure query of which messages the gate (or a handler, for a role the
//! node has left) will drop for good.

use super::{replication, Context};
use crate::{
    DropReason, Error, LogStorage, Message, MessageVariant, NodeId, Role, Staleness, Term,
};

impl<S: LogStorage> Context<S> {
    /// The term rules, decided once for every message (§5.1, §9.6, §6.2):
    /// - a message of an older term is dropped; a pre-vote request and (with
    ///   pre-vote or check-quorum) an append or heartbeat are first answered
    ///   with this node's term, so that their sender learns it is behind;
    /// - a (pre-)vote request of a newer term is ignored while the node still
    ///   hears its leader (leader stickiness, check-quorum only);
    /// - a prospective message (a pre-vote request or grant) never moves the
    ///   term; any other message of a newer term makes the node a follower
    ///   in that term first.
    ///
    /// Returns why the message stops here, if it does.
    pub(super) fn gate(&mut self, msg: &Message) -> Option<DropReason> {
        match msg.staleness(self.hard.term) {
            Staleness::Local | Staleness::Consistent => None,
            Staleness::Stale if self.stale_but_mutated(&msg.variant) => None,
            Staleness::Stale => {
                self.answer_stale(msg);
                Some(DropReason::StaleTerm {
                    term: msg.src_term,
                    current: self.hard.term,
                })
            }
            Staleness::Fresh => {
                if let Some(reason) = self.lease_holder(&msg.variant) {
                    return Some(reason);
                }
                if !msg.variant.is_prospective() {
                    let leader = match msg.variant {
                        MessageVariant::AppendEntries { .. }
                        | MessageVariant::Heartbeat { .. }
                        | MessageVariant::InstallSnapshot { .. }
                        | MessageVariant::ReadIndexResponse { .. }
                        | MessageVariant::TimeoutNow => Some(msg.src),
                        _ => None,
                    };
                    self.become_follower(msg.src_term, leader);
                }
                debug_assert!(
                    !sound!(self.config)
                        || msg.src_term == self.hard.term
                        || msg.variant.is_prospective(),
                    "pre-vote (§9.6): only a prospective message leaves the term as it was"
                );
                None
            }
        }
    }

    /// A stale message whose sender must learn our term: a pre-vote request
    /// is refused with it (else a pre-candidate behind every voter's term
    /// would never catch up); with pre-vote or check-quorum, an old leader's
    /// append or heartbeat is answered with it (a node that moved on cannot
    /// rely on vote requests to tell the old leader, since those may be
    /// ignored for leader stickiness). Without either feature a stale message
    /// is dropped silently, as in the paper's model of a lossy network.
    fn answer_stale(&mut self, msg: &Message) {
        debug_assert!(
            msg.src_term < self.hard.term,
            "§5.1: only stale messages get answered here"
        );
        if !self.answers_stale(&msg.variant) {
            return;
        }
        if let MessageVariant::RequestPreVote { .. } = msg.variant {
            probe!(StalePreVoteRefused);
            let refusal = MessageVariant::RequestPreVoteResponse { granted: false };
            self.send(msg.src, refusal);
        } else {
            probe!(StaleLeaderAnswered);
            self.send(msg.src, MessageVariant::HeartbeatResponse { read: None });
        }
    }

    /// Whether a stale message of this kind is answered ([`Self::answer_stale`])
    /// rather than dropped silently.
    fn answers_stale(&self, variant: &MessageVariant) -> bool {
        let answers_leader = self.config.pre_vote || self.config.check_quorum;
        match variant {
            MessageVariant::RequestPreVote { .. } => true,
            MessageVariant::AppendEntries { .. } | MessageVariant::Heartbeat { .. } => {
                answers_leader
            }
            _ => false,
        }
    }

    /// Whether stepping `msg` would drop it silently (nothing changes,
    /// nothing is sent), now and whenever it arrives later. Two kinds are:
    /// - a message of an older term: the term gate drops it, and a term
    ///   never goes back (§5.1, Figure 2: `currentTerm` is persisted and only
    ///   increases);
    /// - an answer of the node's own term to a role it has left in that term
    ///   ([`Self::outlived_in_term`]).
    pub fn ignores_for_good(&self, msg: &Message) -> bool {
        let dead = match msg.staleness(self.hard.term) {
            Staleness::Stale => {
                !self.stale_but_mutated(&msg.variant) && !self.answers_stale(&msg.variant)
            }
            Staleness::Consistent => self.outlived_in_term(&msg.variant),
            Staleness::Local | Staleness::Fresh => false,
        };
        debug_assert!(
            !dead || (msg.src_term <= self.hard.term && !msg.variant.is_local()),
            "§5.1: a message of a newer term always moves the node, so it is never dead"
        );
        dead
    }

    /// Whether `variant`, of the node's current term, answers a role the
    /// node held in this term and can never hold again in it: a vote for a
    /// candidate that has won or given up, an append or heartbeat ack for a
    /// leader that stepped down or restarted. A node becomes a candidate
    /// only by moving to a newer term (§5.2), and a leader only from a
    /// candidate, so neither role comes back within a term; both handlers
    /// drop such an answer without a change ([`Self::not_for_role`]).
    fn outlived_in_term(&self, variant: &MessageVariant) -> bool {
        let role = self.role.role();
        match variant {
            MessageVariant::RequestVoteResponse { .. } => role != Role::Candidate,
            MessageVariant::AppendEntriesResponse { .. }
            | MessageVariant::HeartbeatResponse { .. } => {
                !matches!(role, Role::Leader | Role::Candidate)
            }
            _ => false,
        }
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
    pub(super) fn check_envelope(&self, msg: &Message) -> Result<(), Error> {
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
        if msg.src == id || msg.src == NodeId(0) {
            return Err(Error::UnknownSender { src: msg.src });
        }
        if msg.src_term == Term(0) {
            return Err(Error::RemoteTermZero { src: msg.src });
        }
        if msg.src_term > Term::ACCEPTED_MAX {
            return Err(Error::TermOutOfRange {
                src: msg.src,
                term: msg.src_term,
            });
        }
        Ok(())
    }

    /// Refuses content no node of any term could accept, before the term gate
    /// acts on the message: a refused message changes nothing.
    pub(super) fn check_content(&self, msg: &Message) -> Result<(), Error> {
        match &msg.variant {
            MessageVariant::AppendEntries { prev, entries, .. } => {
                replication::check_append_shape(msg.src, msg.src_term, *prev, entries).map(drop)
            }
            MessageVariant::InstallSnapshot { snapshot }
                if snapshot.is_empty()
                    || snapshot.term() > msg.src_term
                    || snapshot.meta.membership().is_err() =>
            {
                Err(Error::MalformedSnapshot { src: msg.src })
            }
            MessageVariant::Heartbeat { commit, .. }
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
}
