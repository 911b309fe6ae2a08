//! Membership changes (thesis chapter 4, etcd's configuration changes).
//!
//! **When a change takes effect.** A configuration entry takes effect on a
//! node when the application has applied it: [`Context::take_ready`] notes
//! the configuration entries it hands out, and [`Context::advance`] applies
//! them, in log order, up to what the application acknowledged. This is
//! etcd's rule, not the thesis's (which switches on append); ruft takes it
//! because a committed entry is never truncated, so a configuration never
//! rolls back, and because the membership always matches the application's
//! applied index, which is what a snapshot must record. The price is paid
//! by three rules, each named where it is enforced:
//! - at most one change is pending: a leader accepts a change only after it
//!   applied the previous one, and a new leader counts its whole log at its
//!   election as pending ([`Context::pending_conf_at_election`]), so it
//!   cannot stack a change on one an older leader left uncommitted (the
//!   single-server-change bug, raft-dev 2015, in its apply-time form);
//! - a node does not campaign while a committed change waits to be applied
//!   ([`crate::DropReason::ConfChangeUnapplied`]);
//! - the leader counts a configuration entry's commitment in the
//!   configuration before it, so a leader that removes itself still counts
//!   its own vote, and steps down once the removal is applied.
//!
//! A node's configuration starts as [`crate::Config::voters`] (the cluster's
//! voters at index 0) and follows the log from there: a node joining a
//! running cluster is configured with the same initial voters, and catches
//! up from the log or a snapshot.

use super::role::RoleState;
use super::Context;
use crate::log::{Limit, LogView};
use crate::progress::config::committed_index_at;
use crate::utils::trace;
use crate::{
    ConfChange, Config, DropReason, Entry, EntryKey, EntryVariant, Error, Index, LogStorage,
    Membership, Message, MessageVariant, NodeId, StorageResult,
};
use std::collections::BTreeSet;

/// What takes effect once the application has applied up to its index.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Handed {
    /// A configuration entry handed out in a Ready.
    Change(ConfChange),
    /// The membership of a snapshot installed from the leader: the
    /// application restores its state machine from the snapshot first.
    Restore(Membership),
}

impl Handed {
    /// The same with every node id mapped through `f`.
    pub fn relabel(&self, f: &dyn Fn(NodeId) -> NodeId) -> Handed {
        match self {
            Handed::Change(c) => Handed::Change(c.relabel(f)),
            Handed::Restore(m) => Handed::Restore(m.relabel(f)),
        }
    }
}

/// How many entries one storage read takes while scanning for
/// configuration entries (at open and before a campaign).
const SCAN_CHUNK: usize = 256;

impl<S: LogStorage> Context<S> {
    /// The membership a node resumes with: its snapshot's (else the
    /// configured initial voters), then every configuration entry the
    /// application had applied (up to `applied`). Reads the log between the
    /// snapshot and `applied` once.
    pub(super) async fn membership_at_open(
        config: &Config,
        log: &LogView<S>,
        applied: Index,
    ) -> Result<Membership, Error> {
        let snapshot = log.snapshot().await?;
        let mut membership = if snapshot.is_empty() {
            Membership::simple(config.voters.iter().copied())
        } else {
            snapshot.meta.membership()
        }
        .map_err(|_| Error::InvalidConfig {
            problem: "the voters (or the stored snapshot's membership) form no membership",
        })?;
        let from = snapshot.index().next();
        for (index, change) in conf_entries(log, from, applied.next()).await? {
            membership = applied_or_kept(config, membership, index, &change);
        }
        debug_assert!(
            !membership.incoming().is_empty(),
            "§4.1: a configuration always has voters"
        );
        Ok(membership)
    }

    /// The first index a new leader's configuration changes must wait for:
    /// its whole log at election (`last`), unless a mutant forgets it.
    pub(super) fn pending_conf_at_election(&self, last: Index) -> Index {
        if mutant!(self.config, NewLeaderStacksConfChange) {
            return Index(0); // as if the log held no change
        }
        debug_assert!(
            last >= self.applied,
            "a leader's log holds everything it applied"
        );
        last
    }

    /// A membership change proposed by the application, through the same
    /// envelope check and trace as a command. An error means nothing was
    /// appended.
    pub fn propose_conf_change(&mut self, change: ConfChange) -> Result<EntryKey, Error> {
        let variant = MessageVariant::ProposeConfChange {
            change: change.clone(),
        };
        self.proposal(variant, |ctx| ctx.on_propose_conf_change(change))
    }

    /// The leader appends a change that applies to its membership, when no
    /// earlier change is pending.
    /// Synchronous, like [`Self::append_proposal`]: the entry and
    /// `pending_conf` change together, with no await between them at which
    /// a dropped future could leave a second change acceptable.
    pub(super) fn on_propose_conf_change(&mut self, change: ConfChange) -> Result<EntryKey, Error> {
        probe!(OnProposeConfChange);
        let RoleState::Leader { pending_conf, .. } = &self.role else {
            return Err(Error::NotLeader {
                leader: self.leader(),
            });
        };
        if *pending_conf > self.applied {
            probe!(ConfChangeRefusedPending);
            return Err(Error::ConfChangePending {
                index: *pending_conf,
            });
        }
        self.membership
            .apply(&change)
            .map_err(Error::InvalidConfChange)?;
        let key = self.append_proposal(EntryVariant::ConfChange(change))?;
        if let RoleState::Leader { pending_conf, .. } = &mut self.role {
            *pending_conf = key.index;
        }
        debug_assert!(
            key.index > self.applied,
            "one pending change: the new one is the only unapplied one"
        );
        Ok(key)
    }

    /// A Ready hands out these committed entries: their configuration
    /// changes take effect once the application acknowledges them.
    pub(super) fn note_handed_confs(&mut self, entries: &[Entry]) {
        let confs = entries.iter().filter_map(|e| {
            let change = e.as_conf_change()?;
            Some((e.index(), Handed::Change(change.clone())))
        });
        self.handed_confs.extend(confs);
        debug_assert!(
            self.handed_confs.windows(2).all(|w| w[0].0 < w[1].0),
            "configuration entries take effect in log order"
        );
    }

    /// The application applied everything up to `applied`: the
    /// configuration entries (and a restored snapshot's membership) among
    /// them take effect, in order, and a leader reacts to each.
    pub(super) fn apply_handed_confs(&mut self, applied: Index) {
        let due = self.handed_confs.partition_point(|(i, _)| *i <= applied);
        let confs: Vec<(Index, Handed)> = self.handed_confs.drain(..due).collect();
        for (index, handed) in confs {
            let before = self.membership.clone();
            self.membership = match handed {
                Handed::Change(change) => {
                    applied_or_kept(&self.config, before.clone(), index, &change)
                }
                Handed::Restore(membership) => membership,
            };
            if self.membership != before {
                probe!(ConfChangeApplied);
                probe!(JointEntered if self.membership.is_joint() && !before.is_joint());
                probe!(JointLeft if before.is_joint() && !self.membership.is_joint());
                self.on_membership_changed();
            }
        }
        self.maybe_auto_leave();
    }

    /// A leader adopts a new membership: it tracks the new members, gives
    /// up a transfer to a node that no longer votes, commits what the new
    /// quorums allow, and steps down if it no longer votes (a removed leader
    /// first tells the others how far it committed).
    fn on_membership_changed(&mut self) {
        let me = self.config.id;
        let members = self.membership.members();
        let next = self.log.last().index.next();
        let RoleState::Leader {
            tracker,
            transfer,
            broadcast_due,
            ..
        } = &mut self.role
        else {
            return;
        };
        tracker.sync(&members, next);
        if transfer.is_some_and(|t| !self.membership.incoming().contains(&t.target)) {
            probe!(TransferAbortedByConfChange);
            *transfer = None;
        }
        *broadcast_due = true;
        if !self.membership.is_voter(me) && !mutant!(self.config, RemovedLeaderKeepsLeading) {
            probe!(RemovedLeaderStepsDown);
            self.broadcast_heartbeat();
            self.become_follower(self.hard.term, None);
            return;
        }
        self.maybe_commit();
        debug_assert!(
            !sound!(self.config) || self.membership.is_voter(me),
            "§4.2.2: a leader that no longer votes steps down"
        );
    }

    /// A leader in a joint configuration that leaves on its own proposes the
    /// leave once nothing else is pending.
    ///
    /// Its limits: the leave is the engine's own entry, like a new leader's
    /// no-op, so the proposal limits (`uncommitted_entries_max`,
    /// `uncommitted_bytes_max`) and a transfer under way do not hold it
    /// back; it is bounded by the rule of one pending change (one leave per
    /// joint phase, and a leader that lost office proposes none). A log at
    /// the largest index takes no leave, as it takes no entry at all
    /// ([`crate::Error::IndexesExhausted`]): the cluster then stays joint,
    /// which is safe, since every decision needs both majorities.
    fn maybe_auto_leave(&mut self) {
        let applied = self.applied;
        let term = self.hard.term;
        let last = self.log.last().index;
        let RoleState::Leader {
            pending_conf,
            broadcast_due,
            ..
        } = &mut self.role
        else {
            return;
        };
        if !self.membership.auto_leave() || *pending_conf > applied || last == Index(u64::MAX) {
            return;
        }
        probe!(AutoLeaveProposed);
        let key = EntryKey::new(term, last.next());
        self.log
            .append_local(&[Entry::conf_change(key, ConfChange::LeaveJoint)]);
        *pending_conf = key.index;
        *broadcast_due = true;
        debug_assert!(
            self.membership.is_joint(),
            "§4.3: only a joint configuration is left"
        );
    }

    /// The highest index a quorum of every voter set matched (§4.3), under
    /// the engine's quorum rule; two mutants count in the wrong sets.
    pub(super) fn quorum_matched(&self, matched: impl Fn(NodeId) -> Index) -> Index {
        let rule = self.quorum_rule();
        let m = &self.membership;
        if mutant!(self.config, LearnerCountsInQuorum) {
            let counted: BTreeSet<NodeId> = m.incoming().union(m.learners()).copied().collect();
            let q = rule(m.incoming().len());
            return committed_index_at(&counted, q, &matched); // learners' acks count
        }
        if mutant!(self.config, JointQuorumUsesNewOnly) && m.is_joint() {
            let q = rule(m.incoming().len());
            return committed_index_at(m.incoming(), q, &matched); // the old set is ignored
        }
        let index = m.committed_index_by(rule, &matched);
        // Cross-checked by counting instead of selecting: a quorum of every
        // voter set holds `index`, and none holds the index after it.
        let holding = |i: Index| -> BTreeSet<NodeId> {
            m.voters()
                .into_iter()
                .filter(|&v| matched(v) >= i)
                .collect()
        };
        debug_assert!(
            index == Index(0) || m.has_quorum_by(rule, &holding(index)),
            "§5.4.2, §4.3: a committed index is held by a quorum of every voter set"
        );
        debug_assert!(
            index == Index(u64::MAX) || !m.has_quorum_by(rule, &holding(index.next())),
            "§5.3: the commit index is the highest index a quorum holds"
        );
        index
    }

    /// Whether this node may campaign: it votes in its configuration.
    pub(super) fn is_promotable(&self) -> bool {
        self.membership.is_voter(self.config.id)
    }

    /// Whether a committed configuration change waits to be applied: handed
    /// out and not acknowledged, or committed and not handed out yet.
    pub(super) async fn conf_unapplied(&self) -> StorageResult<bool> {
        if !self.handed_confs.is_empty() {
            return Ok(true);
        }
        let (low, high) = (self.applying.next(), self.hard.committed_index.next());
        Ok(!conf_entries(&self.log, low, high).await?.is_empty())
    }

    /// Why a message from a node outside this node's configuration stops
    /// here, before its term counts: only voters ask for votes, only members
    /// answer or forward reads. What a leader sends is taken from anyone (a
    /// node lagging behind a change learns of the new leader only from it).
    pub(super) fn outsider(&self, msg: &Message) -> Option<DropReason> {
        let src = msg.src;
        match msg.variant {
            MessageVariant::RequestVote { .. } | MessageVariant::RequestPreVote { .. }
                if !self.membership.is_voter(src) =>
            {
                Some(DropReason::SenderNotVoter { src })
            }
            MessageVariant::RequestVoteResponse { .. }
            | MessageVariant::RequestPreVoteResponse { .. }
            | MessageVariant::AppendEntriesResponse { .. }
            | MessageVariant::HeartbeatResponse { .. }
            | MessageVariant::ReadIndexForward { .. }
                if !self.membership.is_member(src) =>
            {
                Some(DropReason::SenderNotMember { src })
            }
            _ => None,
        }
    }

    /// The configuration as of the application's applied index.
    pub fn membership(&self) -> &Membership {
        &self.membership
    }
}

/// `membership` after the configuration entry at `index`; a change that
/// does not apply (only a faulty leader appends one) is skipped, traced,
/// the same way on every node.
fn applied_or_kept(
    config: &Config,
    membership: Membership,
    index: Index,
    change: &ConfChange,
) -> Membership {
    match membership.apply(change) {
        Ok(next) => {
            trace::membership_changed(config.id, index, change, &next);
            next
        }
        Err(error) => {
            trace::conf_change_skipped(config.id, index, change, &error);
            membership
        }
    }
}

/// The configuration entries in `[low, high)`, read in bounded chunks.
async fn conf_entries<S: LogStorage>(
    log: &LogView<S>,
    low: Index,
    high: Index,
) -> StorageResult<Vec<(Index, ConfChange)>> {
    let mut out = Vec::new();
    let mut at = low;
    while at < high {
        let chunk = log
            .entries_within(at, high, Limit::count(SCAN_CHUNK))
            .await?;
        let Some(last) = chunk.last().map(Entry::index) else {
            break;
        };
        debug_assert!(last >= at, "the scan moves forward");
        at = last.next();
        let confs = chunk
            .iter()
            .filter_map(|e| e.as_conf_change().map(|c| (e.index(), c.clone())));
        out.extend(confs);
    }
    Ok(out)
}
