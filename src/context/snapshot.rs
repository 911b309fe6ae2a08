//! Snapshots (§7): a leader sends its snapshot to a follower that needs
//! entries the leader compacted; a follower installs a snapshot only if it is
//! newer than its commit index, and keeps its log when it already holds the
//! snapshot's last entry (the same rules as etcd's `restore`).

use super::Context;
use crate::{
    AppendOutcome, EntryKey, Error, Index, LogStorage, MessageVariant, NodeId, Snapshot,
    SnapshotStatus, StepOutcome, StorageResult,
};

impl<S: LogStorage> Context<S> {
    /// Sends `to` the latest snapshot: it needs entries the log no longer holds.
    pub(super) async fn send_snapshot(&mut self, to: NodeId) -> StorageResult<()> {
        let snapshot = self.log.snapshot().await?;
        debug_assert!(
            !snapshot.is_empty(),
            "§7: entries are compacted only under a snapshot"
        );
        let index = snapshot.index();
        debug_assert!(
            index <= self.hard.committed_index,
            "§7: a snapshot covers only committed entries"
        );
        probe!(SnapshotSent);
        let snapshot = Box::new(snapshot);
        self.send(to, MessageVariant::InstallSnapshot { snapshot });
        if let Some(progress) = self.progress_mut(to) {
            progress.on_snapshot_sent(index);
        }
        Ok(())
    }

    /// InstallSnapshot from the current term's leader. A snapshot not newer
    /// than the commit index changes nothing (it would roll the commit index
    /// back); one whose last entry the log holds only commits up to it, and
    /// the log after it stays; any other replaces the whole log. Every case is
    /// answered with what the follower now matches.
    pub(super) async fn on_install_snapshot(
        &mut self,
        leader: NodeId,
        snapshot: Snapshot,
    ) -> Result<StepOutcome, Error> {
        probe!(OnInstallSnapshot);
        if !self.follow(leader) {
            return Ok(self.not_for_role());
        }
        let key = snapshot.key();
        let committed = self.hard.committed_index;
        if !self.is_newer_than_commit(key.index) {
            probe!(SnapshotStale);
            let matched = AppendOutcome::Accepted { matched: committed };
            self.send_append_outcome(leader, matched);
            return Ok(StepOutcome::Handled);
        }
        if self.holds(key).await? {
            probe!(SnapshotMatchesLog);
            self.commit_to(key.index);
        } else {
            self.restore(snapshot);
        }
        debug_assert!(
            !sound!(self.config) || self.hard.committed_index == key.index,
            "§7: an installed snapshot is committed, and nothing beyond it yet"
        );
        debug_assert!(
            self.log.last().index >= key.index,
            "§7: the follower holds the snapshot's last entry"
        );
        let matched = AppendOutcome::Accepted { matched: key.index };
        self.send_append_outcome(leader, matched);
        Ok(StepOutcome::Handled)
    }

    /// Whether a snapshot ending at `index` is worth installing: it must be
    /// newer than the commit index, or it would move commit (and the state
    /// machine) backwards.
    fn is_newer_than_commit(&self, index: Index) -> bool {
        if mutant!(self.config, StaleSnapshotRollsBack) {
            return index != self.hard.committed_index; // older ones get in
        }
        index > self.hard.committed_index
    }

    /// Whether the log holds the entry `key` (a compacted index: it cannot
    /// tell, so no).
    async fn holds(&self, key: EntryKey) -> StorageResult<bool> {
        if key.index < self.log.first_index().await?.prev() {
            return Ok(false);
        }
        let term = self.log.term(key.index).await?;
        if mutant!(self.config, SnapshotKeepsConflictingSuffix) {
            return Ok(term.is_some()); // an entry there, of any term
        }
        Ok(term == Some(key.term))
    }

    /// Replaces the log with `snapshot`: it is committed, and the state
    /// machine restarts from it in the next Ready.
    fn restore(&mut self, snapshot: Snapshot) {
        let key = snapshot.key();
        debug_assert!(
            !sound!(self.config) || key.index > self.hard.committed_index,
            "State Machine Safety (§5.4.3): a restore never moves commit back"
        );
        probe!(SnapshotRestored);
        crate::utils::trace::restored(self.config.id, self.hard.term, key);
        // The snapshot's membership (validated by `check_content`) takes
        // effect once the application restored the snapshot, like an
        // entry's; changes handed out before it are superseded.
        self.handed_confs.clear();
        if let Ok(membership) = snapshot.meta.membership() {
            let restore = super::membership::Handed::Restore(membership);
            self.handed_confs.push((key.index, restore));
        }
        self.log.restore(snapshot);
        self.hard.committed_index = key.index;
        self.applying = key.index;
        // A no-op in a correct engine (applied <= commit < key.index); it
        // keeps applied <= applying when a mutant installs an older snapshot.
        self.applied = self.applied.min(key.index);
    }

    /// The application reports how sending a snapshot to `peer` ended.
    pub(super) fn on_report_snapshot(
        &mut self,
        peer: NodeId,
        status: SnapshotStatus,
    ) -> Result<StepOutcome, Error> {
        probe!(OnReportSnapshot);
        if peer == self.config.id || !self.membership.is_member(peer) {
            return Err(Error::UnknownNode { id: peer });
        }
        if !matches!(self.role, super::role::RoleState::Leader { .. }) {
            return Ok(self.not_for_role());
        }
        let delivered = status == SnapshotStatus::Delivered;
        let reported = self
            .progress_mut(peer)
            .is_some_and(|p| p.on_snapshot_report(delivered));
        if !reported {
            return Ok(StepOutcome::Dropped(crate::DropReason::StaleResponse));
        }
        Ok(StepOutcome::Handled)
    }
}
