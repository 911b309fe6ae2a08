//! Keeping and handing over leadership: check-quorum (thesis §6.2) and leader
//! transfer (thesis §3.10). Leader stickiness, check-quorum's other half, is a
//! term rule and lives in the gate (`Context::gate`).

use super::role::{RoleState, Transfer};
use super::Context;
use crate::utils::trace;
use crate::{DropReason, Error, LogStorage, MessageVariant, NodeId, Role, StepOutcome};

impl<S: LogStorage> Context<S> {
    /// A leader's election period ended: a transfer that did not finish in it
    /// is given up, and with check-quorum a leader that heard from no quorum
    /// in it steps down (it may be cut off, and must stop taking proposals).
    pub(super) fn on_check_quorum(&mut self) -> StepOutcome {
        probe!(OnCheckQuorum);
        let me = self.config.id;
        let quorum_active = self.quorum_active();
        let RoleState::Leader {
            tracker, transfer, ..
        } = &mut self.role
        else {
            return self.not_for_role();
        };
        match transfer {
            Some(t) if t.period_ended => {
                probe!(TransferTimedOut);
                trace::transfer(me, t.target, "timed out");
                *transfer = None;
            }
            Some(t) => t.period_ended = true,
            None => {}
        }
        if !self.config.check_quorum || quorum_active {
            tracker.reset_active(me);
            return StepOutcome::Handled;
        }
        probe!(LeaderLostQuorum);
        self.become_follower(self.hard.term, None);
        debug_assert_eq!(
            self.role.role(),
            Role::Follower,
            "check-quorum (§6.2): a leader without a quorum steps down"
        );
        StepOutcome::Handled
    }

    /// Whether a quorum of voters (the leader included) answered in this
    /// check-quorum period.
    fn quorum_active(&self) -> bool {
        let RoleState::Leader { tracker, .. } = &self.role else {
            return false;
        };
        // The mutant counts the leader's own mark a second time: one short.
        let rule = match mutant!(self.config, CheckQuorumCountsSelfTwice) {
            true => super::inherent::one_short,
            false => self.quorum_rule(),
        };
        self.membership.has_quorum_by(rule, &tracker.active())
    }

    /// The leader heard from `follower` in this check-quorum period.
    pub(super) fn mark_active(&mut self, follower: NodeId) {
        if !self.config.check_quorum {
            return; // not tracked: the state stays as small as without the feature
        }
        if let RoleState::Leader { tracker, .. } = &mut self.role {
            if let Some(p) = tracker.get_mut(follower) {
                p.on_contact();
            }
        }
    }

    /// Starts handing leadership to `target` (thesis §3.10): proposals stop,
    /// the target is brought up to date, then told to campaign at once. The
    /// transfer is given up at the end of the first whole election period
    /// after this one (see [`Transfer`]).
    pub(super) async fn on_transfer_leader(
        &mut self,
        target: NodeId,
    ) -> Result<StepOutcome, Error> {
        probe!(OnTransferLeader);
        let RoleState::Leader { transfer, .. } = &mut self.role else {
            return Err(Error::NotLeader {
                leader: self.leader(),
            });
        };
        if target == self.config.id {
            return Ok(StepOutcome::Dropped(DropReason::TransferToSelf));
        }
        if !self.membership.incoming().contains(&target) {
            return Err(Error::UnknownNode { id: target });
        }
        match *transfer {
            Some(current) if current.target == target => {
                return Ok(StepOutcome::Dropped(DropReason::AlreadyTransferring))
            }
            Some(current) => {
                return Err(Error::TransferInProgress {
                    target: current.target,
                })
            }
            None => {
                *transfer = Some(Transfer {
                    target,
                    period_ended: false,
                })
            }
        }
        trace::transfer(self.config.id, target, "started");
        if !self.maybe_send_timeout_now(target) {
            if let Err(error) = self.send_append_now(target).await {
                // An error means nothing happened: the transfer is not under way.
                if let RoleState::Leader { transfer, .. } = &mut self.role {
                    *transfer = None;
                }
                return Err(error.into());
            }
        }
        Ok(StepOutcome::Handled)
    }

    /// Sends TimeoutNow if `follower` is the transfer's target and holds the
    /// leader's whole log. Returns whether it did.
    pub(super) fn maybe_send_timeout_now(&mut self, follower: NodeId) -> bool {
        let last = self.log.last().index;
        let RoleState::Leader {
            tracker, transfer, ..
        } = &self.role
        else {
            return false;
        };
        if transfer.map(|t| t.target) != Some(follower) {
            return false;
        }
        let matched = tracker.get(follower).map(crate::Progress::matched);
        let caught_up = matched == Some(last) || mutant!(self.config, TransferToLaggingNode);
        if !caught_up {
            return false;
        }
        probe!(TimeoutNowSent);
        trace::transfer(self.config.id, follower, "target caught up");
        self.forfeit_read_lease();
        self.send(follower, MessageVariant::TimeoutNow);
        debug_assert!(
            !sound!(self.config) || matched == Some(last),
            "leader transfer (§3.10): the target holds the leader's whole log"
        );
        true
    }

    /// TimeoutNow: the leader handed over; a follower campaigns at once,
    /// skipping pre-vote, and voters ignore leader stickiness for it.
    pub(super) async fn on_timeout_now(&mut self, leader: NodeId) -> Result<StepOutcome, Error> {
        probe!(OnTimeoutNow);
        if !matches!(self.role, RoleState::Follower { .. }) {
            return Ok(self.not_for_role());
        }
        if self.hard.term.next() == self.hard.term {
            return Ok(StepOutcome::Dropped(DropReason::TermsExhausted));
        }
        if !self.is_promotable() {
            return Ok(StepOutcome::Dropped(DropReason::NotAVoter));
        }
        trace::transfer(self.config.id, leader, "asked to campaign by");
        self.campaign(true).await
    }
}
