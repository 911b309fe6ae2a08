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
