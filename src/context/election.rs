//! Leader election (§5.2, §5.4.1) and pre-vote (thesis §9.6): `Hup`,
//! RequestVote, RequestPreVote and their responses.

use super::role::RoleState;
use super::Context;
use crate::progress::config::VoteResult;
use crate::utils::trace;
use crate::{
    EntryKey, Error, LogStorage, MessageVariant, NodeId, Rejection, Role, StepOutcome, Term,
};

impl<S: LogStorage> Context<S> {
    /// The election timer fired: a follower or candidate starts an election,
    /// or with pre-vote first asks whether it could win one.
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
        if self.log.last().index.checked_add(1).is_none() {
            // A leader could not append its no-op: two entries would share
            // the last index (§5.3).
            return Ok(StepOutcome::Dropped(crate::DropReason::IndexesExhausted));
        }
        if !self.is_promotable() {
            return Ok(StepOutcome::Dropped(crate::DropReason::NotAVoter));
        }
        if let Some(reason) = self.lease_forbids_campaign() {
            return Ok(StepOutcome::Dropped(reason));
        }
        if self.conf_unapplied().await? {
            return Ok(StepOutcome::Dropped(crate::DropReason::ConfChangeUnapplied));
        }
        if !self.config.pre_vote {
            return self.campaign(false).await;
        }
        self.become_pre_candidate();
        let last = self.log.last();
        let next = self.hard.term.next();
        let peers = self.voter_peers();
        for peer in peers {
            self.send_at(next, peer, MessageVariant::RequestPreVote { last });
        }
        debug_assert!(
            !sound!(self.config) || self.hard.term.next() == next,
            "pre-vote (§9.6): asking for pre-votes leaves the term as it was"
        );
        if self.tally_votes().await? {
            return self.campaign(false).await; // a single voter needs no pre-votes
        }
        Ok(StepOutcome::Handled)
    }

    /// Starts a real election: next term, own vote, RequestVote to every peer
    /// (§5.2). `transfer`: the leader asked for it (TimeoutNow).
    pub(super) async fn campaign(&mut self, transfer: bool) -> Result<StepOutcome, Error> {
        self.become_candidate();
        let last = self.log.last();
        let peers = self.voter_peers();
        for peer in peers {
            self.send(peer, MessageVariant::RequestVote { last, transfer });
        }
        // A single voter has its quorum already.
        let campaign_again = self.tally_votes().await?;
        debug_assert!(
            !campaign_again,
            "§5.2: a candidate's tally never asks to campaign"
        );
        probe!(ElectedAlone if matches!(self.role, RoleState::Leader { .. }));
        Ok(StepOutcome::Handled)
    }

    /// RequestVote: grant at most one vote per term (§5.2), and only to a
    /// candidate whose log is at least as up to date as ours (§5.4.1).
    /// Leader stickiness was decided at the gate; `transfer` only says why
    /// the candidate campaigns.
    pub(super) fn on_request_vote(
        &mut self,
        candidate: NodeId,
        last: EntryKey,
        transfer: bool,
    ) -> StepOutcome {
        probe!(OnRequestVote);
        probe!(TransferVoteRequested if transfer);
        let refusal = self.vote_refusal(candidate, last, false);
        let granted = refusal.is_none();
        trace::vote(self.config.id, self.hard.term, candidate, granted, transfer);
        if granted {
            probe!(VoteGranted);
            self.record_vote(candidate);
            self.election_elapsed.reset();
        }
        debug_assert!(
            !granted || self.hard.voted_node == Some(candidate),
            "Election Safety (§5.2): a granted vote is recorded before it is sent"
        );
        self.send(candidate, MessageVariant::RequestVoteResponse { granted });
        refusal.map_or(StepOutcome::Handled, StepOutcome::Rejected)
    }

    /// Why a (pre-)vote for `candidate` with last entry `last` is refused, if
    /// it is. A pre-vote for a term newer than ours is not bound by our vote
    /// or leader in this term (§9.6).
    fn vote_refusal(&self, candidate: NodeId, last: EntryKey, newer: bool) -> Option<Rejection> {
        let ours = self.log.last();
        match (self.hard.voted_node, self.leader()) {
            _ if newer => {}
            (Some(voted), _) if voted != candidate && !mutant!(self.config, VoteTwice) => {
                return Some(Rejection::VoteAlreadyCast { voted })
            }
            (None, Some(leader)) => return Some(Rejection::LeaderKnown { leader }),
            _ => {}
        }
        let up_to_date = if newer && mutant!(self.config, PreVoteIgnoresLog) {
            true
        } else {
            self.is_up_to_date(last, ours)
        };
        (!up_to_date).then_some(Rejection::LogNotUpToDate { ours, theirs: last })
    }

    /// RequestPreVote for `term` (§9.6): answered as a vote would be, but
    /// nothing is recorded and the timer is not reset. A grant carries the
    /// term asked about, a refusal our own term.
    pub(super) fn on_request_pre_vote(
        &mut self,
        candidate: NodeId,
        term: Term,
        last: EntryKey,
    ) -> StepOutcome {
        probe!(OnRequestPreVote);
        let before = (self.hard, self.role.role());
        let refusal = self.vote_refusal(candidate, last, term > self.hard.term);
        let granted = refusal.is_none();
        probe!(PreVoteGranted if granted);
        let answer_term = if granted { term } else { self.hard.term };
        self.send_at(
            answer_term,
            candidate,
            MessageVariant::RequestPreVoteResponse { granted },
        );
        debug_assert_eq!(
            before,
            (self.hard, self.role.role()),
            "pre-vote (§9.6): answering a pre-vote changes neither term, vote nor role"
        );
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
            let voters = self.membership.voters();
            let unheard = voters.iter().find(|v| !votes.contains_key(v));
            if let Some(&other) = unheard {
                votes.insert(other, true);
            }
        }
        self.tally_votes().await?;
        Ok(StepOutcome::Handled)
    }

    /// A pre-vote answer arrived: a pre-candidate counts a grant for the next
    /// term or a refusal in ours (a newer refusal made it a follower at the
    /// gate), and campaigns or gives up on a quorum.
    pub(super) async fn on_request_pre_vote_response(
        &mut self,
        voter: NodeId,
        term: Term,
        granted: bool,
    ) -> Result<StepOutcome, Error> {
        probe!(OnRequestPreVoteResponse);
        let current = self.hard.term;
        let RoleState::PreCandidate { votes } = &mut self.role else {
            return Ok(self.not_for_role());
        };
        if granted && term != current.next() {
            return Ok(StepOutcome::Dropped(crate::DropReason::StaleResponse));
        }
        debug_assert!(
            granted || term == current,
            "the gate passes a pre-vote refusal only in the node's own term"
        );
        votes.insert(voter, granted);
        if self.tally_votes().await? {
            return self.campaign(false).await;
        }
        Ok(StepOutcome::Handled)
    }

    /// On a quorum of grants a candidate becomes leader; on a quorum of
    /// refusals a candidate or pre-candidate becomes a follower again.
    /// Returns whether a pre-candidate won its pre-vote and should campaign
    /// (the caller does, so that campaigning never recurses into a tally).
    async fn tally_votes(&mut self) -> Result<bool, Error> {
        let (RoleState::Candidate { votes } | RoleState::PreCandidate { votes }) = &self.role
        else {
            return Ok(false);
        };
        let role = self.role.role();
        match (
            self.membership.vote_result_by(self.quorum_rule(), votes),
            role,
        ) {
            (VoteResult::Won, Role::PreCandidate) => {
                probe!(PreVoteWon);
                return Ok(true);
            }
            (VoteResult::Won, _) => self.become_leader().await?,
            (VoteResult::Lost, _) => {
                probe!(ElectionLost if role == Role::Candidate);
                probe!(PreVoteLost if role == Role::PreCandidate);
                self.become_follower(self.hard.term, None)
            }
            (VoteResult::Pending, _) => {}
        }
        Ok(false)
    }

    /// The first member other than this node (voter or learner: whom a
    /// leader replicates to) after `after`, in id order; the first of all
    /// for `None`.
    pub(super) fn peer_after(&self, after: Option<NodeId>) -> Option<NodeId> {
        let me = self.config.id;
        let next = self.membership.member_after(after)?;
        if next == me {
            return self.membership.member_after(Some(me));
        }
        Some(next)
    }

    /// Every voter but this node: whom a (pre-)candidate asks.
    pub(super) fn voter_peers(&self) -> Vec<NodeId> {
        let me = self.config.id;
        let mut voters = self.membership.voters();
        voters.remove(&me);
        voters.into_iter().collect()
    }
}
