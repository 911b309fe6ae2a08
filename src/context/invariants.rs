//! The whole-state check every transition ends with (debug builds): the
//! index order, the role's own invariants, and the membership's.

use super::role::RoleState;
use super::Context;
use crate::LogStorage;

impl<S: LogStorage> Context<S> {
    /// The whole-state check run after every transition (debug builds).
    pub(super) fn check_invariants(&self) {
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
        match &self.role {
            RoleState::Candidate { votes } => {
                debug_assert_eq!(self.hard.voted_node, Some(self.config.id));
                debug_assert_eq!(
                    votes.get(&self.config.id),
                    Some(&true),
                    "§5.2: a candidate votes for itself"
                );
            }
            RoleState::PreCandidate { votes } => debug_assert_eq!(
                votes.get(&self.config.id),
                Some(&true),
                "pre-vote (§9.6): a pre-candidate counts its own pre-vote"
            ),
            RoleState::Leader {
                transfer: Some(t), ..
            } => debug_assert!(
                t.target != self.config.id && self.membership.incoming().contains(&t.target),
                "leader transfer (§3.10): the target is another voter"
            ),
            _ => {}
        }
        self.check_membership_invariants();
    }

    /// The membership's invariants: a leader tracks exactly the members
    /// and is a voter; configuration entries wait in log order.
    fn check_membership_invariants(&self) {
        debug_assert!(
            self.handed_confs.windows(2).all(|w| w[0].0 < w[1].0),
            "configuration entries take effect in log order"
        );
        debug_assert!(
            self.handed_confs
                .first()
                .is_none_or(|(i, _)| *i > self.applied && *i <= self.applying),
            "a handed-out change is applied once acknowledged, never before"
        );
        if let RoleState::Leader { tracker, .. } = &self.role {
            debug_assert!(
                tracker.ids().eq(self.membership.members().into_iter()),
                "the leader tracks every member and no one else"
            );
            debug_assert!(
                self.membership.is_voter(self.config.id),
                "§4.2.2: a leader that no longer votes has stepped down"
            );
        }
    }
}

/// Each group of assertions fires on a state that breaks it: a check that
/// can never fail would prove nothing (debug builds only, where they run).
#[cfg(all(test, debug_assertions))]
mod tests {
    use super::super::membership::Handed;
    use super::super::role::{RoleState, Transfer};
    use super::super::Context;
    use crate::{ConfChange, Config, Index, MemStorage, NodeId};
    use futures::executor::block_on;

    /// n1 of `voters` voters, having campaigned (`pre_vote`: for pre-votes).
    fn campaigned(voters: u64, pre_vote: bool) -> Context<MemStorage> {
        let config = Config {
            pre_vote,
            ..Config::new(NodeId(1), (1..=voters).map(NodeId))
        };
        let mut ctx = block_on(Context::open(config, MemStorage::default())).unwrap();
        block_on(ctx.on_hup()).unwrap();
        ctx.check_invariants();
        ctx
    }

    #[test]
    #[should_panic(expected = "committed <= last index")]
    fn a_commit_index_beyond_the_log() {
        let mut ctx = campaigned(3, false);
        ctx.hard.committed_index = Index(9);
        ctx.check_invariants();
    }

    /// n1 of three, having campaigned (`pre_vote`: for pre-votes), with its
    /// own (pre-)vote taken out of its tally.
    fn without_own_vote(pre_vote: bool) -> Context<MemStorage> {
        let mut ctx = campaigned(3, pre_vote);
        match &mut ctx.role {
            RoleState::Candidate { votes } | RoleState::PreCandidate { votes } => votes.clear(),
            other => panic!("n1 campaigned, yet is {:?}", other.role()),
        }
        ctx
    }

    #[test]
    #[should_panic(expected = "a candidate votes for itself")]
    fn a_candidate_without_its_own_vote() {
        without_own_vote(false).check_invariants();
    }

    #[test]
    #[should_panic(expected = "a pre-candidate counts its own pre-vote")]
    fn a_pre_candidate_without_its_own_pre_vote() {
        without_own_vote(true).check_invariants();
    }

    #[test]
    #[should_panic(expected = "the target is another voter")]
    fn a_leader_transferring_to_itself() {
        let mut ctx = campaigned(1, false);
        let RoleState::Leader { transfer, .. } = &mut ctx.role else {
            panic!("a single voter wins at once");
        };
        *transfer = Some(Transfer {
            target: NodeId(1),
            period_ended: false,
        });
        ctx.check_invariants();
    }

    #[test]
    #[should_panic(expected = "configuration entries take effect in log order")]
    fn configuration_entries_out_of_order() {
        let mut ctx = campaigned(1, false);
        let leave = || Handed::Change(ConfChange::LeaveJoint);
        ctx.handed_confs = vec![(Index(2), leave()), (Index(1), leave())];
        ctx.check_invariants();
    }
}
