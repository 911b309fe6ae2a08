//! Leader election (§5.2, §5.4.1): `Hup`, RequestVote and its response.

use super::role::RoleState;
use super::Context;
use crate::progress::config::{vote_result_at, VoteResult};
use crate::utils::trace;
use crate::{EntryKey, Error, LogStorage, MessageVariant, NodeId, Rejection, StepOutcome};

impl<S: LogStorage> Context<S> {
    /// The election timer fired: a follower or candidate starts an election.
    pub(super) async fn on_hup(&mut self) -> Result<StepOutcome, Error> {
        probe!(OnHup);
        if matches!(self.role, RoleState::Leader { .. }) {
            return Ok(self.not_for_role());
        }
        if self.hard.term.next() == self.hard.term {
            // No term is left to campaign in; campaigning again in this one
            // would overwrite the vote already cast in it (§5.2).
            return Ok(StepOutcome::Dropped(crate::DropReason::TermsExhausted));
        }
        self.become_candidate();
        let last = self.log.last();
        let peers: Vec<NodeId> = self.peers().collect();
        for peer in peers {
            self.send(peer, MessageVariant::RequestVote { last });
        }
        // A single voter has its quorum already.
        self.tally_votes().await?;
        probe!(ElectedAlone if matches!(self.role, RoleState::Leader { .. }));
        Ok(StepOutcome::Handled)
    }

    /// RequestVote: grant at most one vote per term (§5.2), and only to a
    /// candidate whose log is at least as up to date as ours (§5.4.1).
    pub(super) fn on_request_vote(&mut self, candidate: NodeId, last: EntryKey) -> StepOutcome {
        probe!(OnRequestVote);
        let ours = self.log.last();
        let refusal = match (self.hard.voted_node, self.leader()) {
            (Some(voted), _) if voted != candidate && !mutant!(self.config, VoteTwice) => {
                Some(Rejection::VoteAlreadyCast { voted })
            }
            (None, Some(leader)) => Some(Rejection::LeaderKnown { leader }),
            _ if !self.is_up_to_date(last, ours) => {
                Some(Rejection::LogNotUpToDate { ours, theirs: last })
            }
            _ => None,
        };
        let granted = refusal.is_none();
        trace::vote(self.config.id, self.hard.term, candidate, granted);
        if granted {
            probe!(VoteGranted);
            self.record_vote(candidate);
            self.election_elapsed.reset();
        }
        self.send(candidate, MessageVariant::RequestVoteResponse { granted });
        refusal.map_or(StepOutcome::Handled, StepOutcome::Rejected)
    }

    /// §5.4.1: the candidate's last entry has a later term, or the same term
    /// and an index at least ours.
    fn is_up_to_date(&self, theirs: crate::EntryKey, ours: crate::EntryKey) -> bool {
        if mutant!(self.config, VoteWithoutLogCheck) {
            return true;
        }
        if mutant!(self.config, UpToDateByIndex) {
            return theirs.index >= ours.index;
        }
        theirs.is_up_to_date_with(ours)
    }

    /// A vote arrived: a candidate counts it, and wins or gives up on a quorum.
    pub(super) async fn on_request_vote_response(
        &mut self,
        voter: NodeId,
        granted: bool,
    ) -> Result<StepOutcome, Error> {
        probe!(OnRequestVoteResponse);
        let RoleState::Candidate { votes } = &mut self.role else {
            return Ok(self.not_for_role());
        };
        let repeated = votes.insert(voter, granted) == Some(true);
        if repeated && granted && mutant!(self.config, CountDuplicateVotes) {
            // A vote counter would count the repeat; credit it to a voter not heard from.
            let unheard = self.config.voters.iter().find(|v| !votes.contains_key(v));
            if let Some(&other) = unheard {
                votes.insert(other, true);
            }
        }
        self.tally_votes().await?;
        Ok(StepOutcome::Handled)
    }

    /// Becomes leader on a quorum of grants, follower on a quorum of refusals.
    async fn tally_votes(&mut self) -> Result<(), Error> {
        let RoleState::Candidate { votes } = &self.role else {
            return Ok(());
        };
        let quorum = self.quorum();
        match vote_result_at(&self.config.voters, votes, quorum) {
            VoteResult::Won => self.become_leader().await?,
            VoteResult::Lost => {
                probe!(ElectionLost);
                self.become_follower(self.hard.term, None)
            }
            VoteResult::Pending => {}
        }
        Ok(())
    }

    /// Every voter but this node.
    pub(super) fn peers(&self) -> impl Iterator<Item = NodeId> + '_ {
        let me = self.config.id;
        self.config
            .voters
            .iter()
            .copied()
            .filter(move |&id| id != me)
    }
}
