//! Log replication (§5.3) and commitment (§5.4.2): proposals, AppendEntries,
//! heartbeats and their responses. Backtracking on a rejection is explained in
//! `docs/001-structure.md#fast-backtracking`.

use super::role::RoleState;
use super::Context;
use crate::progress::Progress;
use crate::utils::trace;
use crate::{
    AppendOutcome, DropReason, Entry, EntryKey, EntryVariant, Error, Index, LogStorage,
    MessageVariant, NodeId, ReadSeq, Rejection, StepOutcome, StorageError, StorageResult,
};
use bytes::Bytes;

impl<S: LogStorage> Context<S> {
    /// A client command: the leader appends it in its term and replicates it.
    pub(crate) fn on_propose(&mut self, payload: Bytes) -> Result<EntryKey, Error> {
        probe!(OnPropose);
        self.append_proposal(EntryVariant::Normal(payload))
    }

    /// Appends a proposal in the leader's term, within the limits on
    /// uncommitted entries and bytes; the next Ready replicates it. An error
    /// means nothing was appended.
    ///
    /// Synchronous on purpose: a proposal reads no storage, so it has no
    /// point at which a caller dropping `propose`'s future could leave the
    /// entry appended without its key handed back (a client would then retry
    /// a command that commits). The appends it makes due are sent by
    /// [`Self::send_due_broadcast`] when the next Ready is taken, which is
    /// when they would leave anyway, batching the proposals made meanwhile.
    pub(super) fn append_proposal(&mut self, variant: EntryVariant) -> Result<EntryKey, Error> {
        let (transfer, held) = match &self.role {
            RoleState::Leader {
                transfer,
                uncommitted_bytes,
                ..
            } => (transfer.map(|t| t.target), *uncommitted_bytes),
            _ => {
                return Err(Error::NotLeader {
                    leader: self.leader(),
                })
            }
        };
        if let Some(target) = transfer {
            return Err(Error::TransferInProgress { target });
        }
        let last = self.log.last();
        if last.index.checked_add(1).is_none() {
            return Err(Error::IndexesExhausted { last: last.index });
        }
        let uncommitted = self.hard.committed_index.distance_to(last.index);
        if uncommitted >= self.config.uncommitted_entries_max {
            return Err(Error::ProposalsFull {
                max: self.config.uncommitted_entries_max,
            });
        }
        let entry = Entry {
            key: EntryKey::new(self.hard.term, last.index.next()),
            variant,
        };
        let held = self.proposal_bytes_fit(held, entry.payload_len())?;
        let key = entry.key;
        self.log.append_local(&[entry]);
        if let RoleState::Leader {
            uncommitted_bytes,
            broadcast_due,
            ..
        } = &mut self.role
        {
            *uncommitted_bytes = held;
            *broadcast_due = true;
        }
        debug_assert_eq!(self.log.last(), key, "§5.3: the proposal is the last entry");
        debug_assert!(self.broadcast_is_due(), "§5.3: a proposal is replicated");
        Ok(key)
    }

    /// Sends the appends a proposal or a membership change made due, to
    /// every follower. A storage error only delays them (heartbeat answers
    /// resend); a caller that stops waiting half-way loses some of them, as
    /// a network might.
    pub(super) async fn send_due_broadcast(&mut self) {
        let RoleState::Leader { broadcast_due, .. } = &mut self.role else {
            return;
        };
        if !std::mem::take(broadcast_due) {
            return;
        }
        if let Err(error) = self.broadcast_append().await {
            trace::storage_failed(self.config.id, "send due appends", &error);
        }
    }

    /// Whether a proposal or a membership change left appends for the next
    /// Ready.
    pub(super) fn broadcast_is_due(&self) -> bool {
        matches!(
            self.role,
            RoleState::Leader {
                broadcast_due: true,
                ..
            }
        )
    }

    /// The uncommitted payload bytes after a proposal of `len` bytes joins
    /// the `held` ones, if `uncommitted_bytes_max` allows it: a leader holding
    /// none takes any proposal, however large, so progress is possible.
    /// Counted only under a limit.
    fn proposal_bytes_fit(&self, held: usize, len: usize) -> Result<usize, Error> {
        let Some(max) = self.config.uncommitted_bytes_max else {
            return Ok(0);
        };
        let after = held.saturating_add(len);
        if held > 0 && after > max {
            return Err(Error::UncommittedBytesFull { max });
        }
        Ok(after)
    }

    /// Committed entries were handed out: their payloads no longer count as
    /// uncommitted (saturating: entries of earlier terms were never counted).
    pub(super) fn release_uncommitted(&mut self, entries: &[Entry]) {
        if self.config.uncommitted_bytes_max.is_none() {
            return;
        }
        if let RoleState::Leader {
            uncommitted_bytes, ..
        } = &mut self.role
        {
            let handed: usize = entries.iter().map(Entry::payload_len).sum();
            *uncommitted_bytes = uncommitted_bytes.saturating_sub(handed);
        }
    }

    /// The heartbeat timer fired: a leader tells every follower it is alive,
    /// with the commit index each may safely adopt.
    pub(super) fn on_beat(&mut self) -> StepOutcome {
        probe!(OnBeat);
        if !matches!(self.role, RoleState::Leader { .. }) {
            return self.not_for_role();
        }
        self.broadcast_heartbeat();
        StepOutcome::Handled
    }

    /// Sends every follower a heartbeat with the commit index it may adopt
    /// and the newest pending read's number (§6.4), and restarts the
    /// heartbeat timer.
    pub(super) fn broadcast_heartbeat(&mut self) {
        let RoleState::Leader { tracker, reads, .. } = &self.role else {
            return;
        };
        let read = reads.newest();
        let committed = self.hard.committed_index;
        let beats: Vec<(NodeId, Index)> =
            std::iter::successors(self.peer_after(None), |&p| self.peer_after(Some(p)))
                .map(|p| {
                    (
                        p,
                        tracker.get(p).map_or(Index(0), |pr| {
                            if mutant!(self.config, CommitBeyondMatch) {
                                committed
                            } else {
                                pr.matched().min(committed)
                            }
                        }),
                    )
                })
                .collect();
        for (peer, commit) in beats {
            self.send(peer, MessageVariant::Heartbeat { commit, read });
        }
        self.heartbeat_elapsed.reset();
    }

    /// AppendEntries: accept entries that follow a matching `prev` (§5.3),
    /// replace a conflicting suffix, and commit up to what is known to match.
    pub(super) async fn on_append_entries(
        &mut self,
        leader: NodeId,
        prev: EntryKey,
        entries: Vec<Entry>,
        commit: Index,
    ) -> Result<StepOutcome, Error> {
        probe!(OnAppendEntries);
        let last_new = check_append_shape(leader, self.hard.term, prev, &entries)?;
        if !self.follow(leader) {
            return Ok(self.not_for_role());
        }
        let committed = self.hard.committed_index;
        if prev.index < committed {
            // Everything up to our commit index matches any leader's log (§5.4.3).
            probe!(AppendBelowCommit);
            self.send_append_outcome(leader, AppendOutcome::Accepted { matched: committed });
            return Ok(StepOutcome::Handled);
        }
        let ours = self.log.last();
        let rejection = match self.log.term(prev.index).await? {
            None => Some(Rejection::PrevBeyondLog { prev, last: ours }),
            Some(term) if term != prev.term => {
                let hint = self.log.last_key_at_or_below(prev.index, prev.term).await?;
                Some(Rejection::PrevTermMismatch { prev, hint })
            }
            Some(_) => None,
        };
        if let Some(rejection) = rejection {
            let hint = match rejection {
                Rejection::PrevTermMismatch { hint, .. } => hint,
                _ => ours,
            };
            let outcome = AppendOutcome::Rejected {
                rejected: prev.index,
                hint,
            };
            self.send_append_outcome(leader, outcome);
            return Ok(StepOutcome::Rejected(rejection));
        }
        self.append_entries_from(prev, entries).await?;
        let up_to = if mutant!(self.config, CommitBeyondMatch) {
            self.log.last().index
        } else {
            last_new
        };
        let commit = commit.min(up_to);
        probe!(FollowerCommitsFromAppend if commit > self.hard.committed_index);
        self.commit_to(commit);
        self.send_append_outcome(leader, AppendOutcome::Accepted { matched: last_new });
        Ok(StepOutcome::Handled)
    }

    /// Appends the leader's `entries` after `prev` (verified to be in the log).
    async fn append_entries_from(
        &mut self,
        prev: EntryKey,
        entries: Vec<Entry>,
    ) -> StorageResult<()> {
        #[cfg(feature = "mutants")]
        if mutant!(self.config, TruncateWithoutConflict) {
            self.log.replace_after(prev, &entries);
            return Ok(());
        }
        let (prev, entries) = if mutant!(self.config, KeepConflictingEntries) {
            // Only what lies beyond our last entry is taken, conflicting or not.
            let last = self.log.last();
            let beyond: Vec<Entry> = entries
                .into_iter()
                .filter(|e| e.index() > last.index)
                .collect();
            (if last.index > prev.index { last } else { prev }, beyond)
        } else {
            (prev, entries)
        };
        let committed = self.hard.committed_index;
        if let Some(appended) = self.log.append_from_leader(prev, &entries).await? {
            debug_assert!(
                !sound!(self.config) || appended.from > committed,
                "State Machine Safety (§5.4.3): committed entries are never replaced"
            );
        }
        Ok(())
    }

    /// A message from the current term's leader: a candidate steps down, a
    /// follower notes the leader and restarts its election timer. Returns false
    /// on a leader (two leaders in one term cannot happen, §5.2; traced drop).
    pub(super) fn follow(&mut self, leader: NodeId) -> bool {
        match &mut self.role {
            RoleState::Leader { .. } => return false,
            RoleState::PreCandidate { .. } | RoleState::Candidate { .. } => {
                probe!(CandidateYieldsToLeader);
                self.become_follower(self.hard.term, Some(leader))
            }
            RoleState::Follower { leader: known } => *known = Some(leader),
        }
        self.election_elapsed.reset();
        true
    }

    pub(super) fn send_append_outcome(&mut self, leader: NodeId, outcome: AppendOutcome) {
        self.send(leader, MessageVariant::AppendEntriesResponse { outcome });
    }

    /// The leader hears how a follower's log relates to its own.
    pub(super) async fn on_append_entries_response(
        &mut self,
        follower: NodeId,
        outcome: AppendOutcome,
    ) -> Result<StepOutcome, Error> {
        probe!(OnAppendEntriesResponse);
        if !matches!(self.role, RoleState::Leader { .. }) {
            return Ok(self.not_for_role());
        }
        self.mark_active(follower);
        let last = self.log.last().index;
        let progressed = match outcome {
            AppendOutcome::Accepted { matched } if matched > last => {
                return Err(Error::AckBeyondLast {
                    src: follower,
                    matched,
                    last,
                });
            }
            AppendOutcome::Accepted { matched } => {
                let advanced = self
                    .progress_mut(follower)
                    .is_some_and(|p| p.on_accepted(matched));
                if advanced {
                    self.maybe_commit();
                }
                true
            }
            AppendOutcome::Rejected { rejected, hint } => {
                // A stale rejection (a duplicate, or about an append the
                // leader moved past) is dropped before the hint costs a scan.
                let fresh = self
                    .progress_mut(follower)
                    .is_some_and(|p| !p.is_stale_rejection(rejected));
                if !fresh {
                    probe!(StaleRejectionCheap);
                    return Ok(StepOutcome::Dropped(DropReason::StaleResponse));
                }
                let target = self.backtrack_target(hint).await?;
                self.progress_mut(follower)
                    .is_some_and(|p| p.on_rejected(rejected, target))
            }
        };
        if !progressed {
            return Ok(StepOutcome::Dropped(DropReason::StaleResponse));
        }
        if !self.maybe_send_timeout_now(follower) {
            self.send_append(follower).await?;
        }
        Ok(StepOutcome::Handled)
    }

    /// Where a follower's log may agree with ours, from its reject hint: the
    /// last entry at or below the hint whose term is at most the hint's.
    /// A hint below our compaction point needs the snapshot: it is returned
    /// as it is, so the next send is the snapshot, without first probing at
    /// the snapshot's last entry.
    async fn backtrack_target(&self, hint: EntryKey) -> StorageResult<Index> {
        let floor = self.log.first_index().await?.prev();
        if hint.index < floor {
            probe!(HintBelowSnapshot);
            return Ok(hint.index);
        }
        let target = self.log.last_key_at_or_below(hint.index, hint.term).await?;
        debug_assert!(
            target.index <= hint.index,
            "§5.3: backtracking never moves forward"
        );
        Ok(target.index)
    }

    /// Heartbeat: `commit` is at most what this follower matched, so it is safe
    /// to adopt as is.
    pub(super) fn on_heartbeat(
        &mut self,
        leader: NodeId,
        commit: Index,
        read: Option<ReadSeq>,
    ) -> Result<StepOutcome, Error> {
        debug_assert!(
            !sound!(self.config) || commit <= self.log.last().index,
            "checked before the term gate"
        );
        probe!(OnHeartbeat);
        if !self.follow(leader) {
            return Ok(self.not_for_role());
        }
        let commit = commit.min(self.log.last().index);
        probe!(FollowerCommitsFromHeartbeat if commit > self.hard.committed_index);
        self.commit_to(commit);
        self.send(leader, MessageVariant::HeartbeatResponse { read });
        Ok(StepOutcome::Handled)
    }

    /// A follower answered a heartbeat: it confirms the reads numbered up to
    /// the one the heartbeat carried (§6.4); resume probing, and if it may lack
    /// entries, send an append even with nothing new in it, so that appends lost
    /// on the way are detected by the follower's refusal and sent again (§5.3:
    /// the leader retries until every follower has every entry).
    pub(super) async fn on_heartbeat_response(
        &mut self,
        follower: NodeId,
        read: Option<ReadSeq>,
    ) -> Result<StepOutcome, Error> {
        probe!(OnHeartbeatResponse);
        if !matches!(self.role, RoleState::Leader { .. }) {
            return Ok(self.not_for_role());
        }
        self.mark_active(follower);
        if let Some(seq) = read {
            self.on_read_acked(follower, seq);
        }
        let inflight_max = self.config.inflight_max;
        let last = self.log.last().index;
        let Some(p) = self.progress_mut(follower) else {
            return Ok(self.not_for_role());
        };
        p.on_heartbeat_response(inflight_max);
        let lagging = p.matched() < last;
        if lagging {
            probe!(HeartbeatResendsAppend);
            self.send_append_even_if_empty(follower, true).await?;
        }
        Ok(StepOutcome::Handled)
    }

    /// Commits the highest index a quorum matched, if it is of the current term:
    /// entries of older terms are committed only indirectly (§5.4.2).
    pub(super) fn maybe_commit(&mut self) {
        let RoleState::Leader {
            tracker,
            term_start,
            ..
        } = &self.role
        else {
            return;
        };
        let matched = |id: NodeId| tracker.get(id).map_or(Index(0), Progress::matched);
        let quorum = self.quorum_matched(matched);
        let own_term = quorum >= *term_start;
        probe!(CommitWaitsForOwnTerm if !own_term && quorum > self.hard.committed_index);
        if own_term || mutant!(self.config, CommitOldTermByCount) {
            probe!(LeaderCommits if quorum > self.hard.committed_index);
            self.commit_to(quorum);
            self.release_postponed_reads();
        }
    }

    /// Sends every follower what it lacks.
    /// Walks the voters in order without collecting them first: this runs on
    /// every proposal, and the walk needs `&mut self` for each send.
    pub(super) async fn broadcast_append(&mut self) -> StorageResult<()> {
        let mut peer = self.peer_after(None);
        while let Some(to) = peer {
            self.send_append(to).await?;
            peer = self.peer_after(Some(to));
        }
        Ok(())
    }

    /// Sends `to` the entries from its `next` index (at most `append_entries_max`),
    /// unless its progress is paused or, while replicating, there is nothing new.
    /// Sends `to` what it lacks now, even an empty probe (a transfer's catch-up).
    pub(super) async fn send_append_now(&mut self, to: NodeId) -> StorageResult<()> {
        self.send_append_even_if_empty(to, true).await
    }

    async fn send_append(&mut self, to: NodeId) -> StorageResult<()> {
        self.send_append_even_if_empty(to, false).await
    }

    /// [`Self::send_append`]; with `even_if_empty`, a replicating follower gets
    /// an append after its `next - 1` even when there is nothing new to send.
    async fn send_append_even_if_empty(
        &mut self,
        to: NodeId,
        even_if_empty: bool,
    ) -> StorageResult<()> {
        let inflight_max = self.config.inflight_max;
        let last = self.log.last().index;
        let Some(progress) = self.progress_mut(to) else {
            return Ok(());
        };
        let probing = matches!(progress.state(), crate::ProgressState::Probe { .. });
        let next = progress.next();
        let paused = progress.is_paused(inflight_max);
        probe!(AppendHeldBack if paused);
        if paused || (!probing && next > last && !even_if_empty) {
            return Ok(());
        }
        // The log may no longer hold what `to` needs: reading below the
        // first index is `Compacted` (never a made-up term), and then the
        // snapshot goes instead. No extra storage call on the common path.
        let prev_index = next.prev();
        let limit = crate::log::Limit {
            count_max: self.config.append_entries_max,
            bytes_max: self.config.append_bytes_max,
        };
        let read = match self.log.term_within(prev_index).await {
            Ok(term) => self
                .log
                .entries_within(next, last.next(), limit)
                .await
                .map(|entries| (EntryKey::new(term, prev_index), entries)),
            Err(e) => Err(e),
        };
        let (prev, entries) = match read {
            // Boxed: a rare path, kept out of every append's future.
            Err(StorageError::Compacted { .. }) => return Box::pin(self.send_snapshot(to)).await,
            other => other?,
        };
        let last_sent = entries.last().map(Entry::index);
        probe!(AppendSentEmpty if last_sent.is_none());
        let commit = self.hard.committed_index;
        self.send(
            to,
            MessageVariant::AppendEntries {
                prev,
                entries,
                commit,
            },
        );
        if let Some(progress) = self.progress_mut(to) {
            progress.on_sent(last_sent);
        }
        Ok(())
    }

    pub(super) fn progress_mut(&mut self, id: NodeId) -> Option<&mut crate::Progress> {
        match &mut self.role {
            RoleState::Leader { tracker, .. } if id != self.config.id => tracker.get_mut(id),
            _ => None,
        }
    }
}

/// Refuses an append whose entries do not follow `prev` one by one, with terms
/// between `prev.term` and the message's `term`, or whose indexes overflow.
/// Returns the index of the last entry it carries (or `prev.index`).
pub(super) fn check_append_shape(
    leader: NodeId,
    term: crate::Term,
    prev: EntryKey,
    entries: &[Entry],
) -> Result<Index, Error> {
    let malformed = Error::MalformedAppend { src: leader };
    let last_new = prev.index.checked_add(entries.len()).ok_or(malformed)?;
    if prev.term > term {
        return Err(malformed);
    }
    let mut expected = prev;
    for entry in entries {
        let in_order = entry.index() == expected.index.next() && entry.term() >= expected.term;
        if !in_order || entry.term() > term {
            return Err(malformed);
        }
        expected = entry.key;
    }
    Ok(last_new)
}
