//! The leader's view of its followers: [`Tracker`] holds one [`Progress`] per
//! member (voters and learners).
//!
//! Every change of a follower's replication state is a method on [`Progress`];
//! the leader's handlers only call them.

pub mod conf_change;
pub mod config;
pub mod joint;

use crate::{Index, NodeId};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// How the leader currently sends to one follower.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProgressState {
    /// Searching for the point where the logs agree: one append at a time;
    /// `paused` after sending until an answer or a heartbeat response arrives.
    Probe {
        /// Whether an append is outstanding.
        paused: bool,
    },
    /// Logs agree up to `matched`: stream appends optimistically, at most
    /// `inflight_max` at once; `inflight` holds the last index of each.
    Replicate {
        /// Last index of each append in flight, oldest first (bounded by `inflight_max`).
        inflight: VecDeque<Index>,
    },
    /// The follower needs entries the leader compacted: a snapshot ending at
    /// `pending` is on its way, and nothing else is sent until the follower
    /// acknowledges it or the application reports how sending it ended.
    Snapshot {
        /// The index of the snapshot sent.
        pending: Index,
    },
}

/// What the leader knows of one follower's log.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Progress {
    matched: Index,
    next: Index,
    state: ProgressState,
    /// Whether the follower answered since the last check-quorum period
    /// began (tracked only with [`crate::Config::check_quorum`]).
    recent_active: bool,
}

impl Progress {
    /// A follower the leader knows nothing about: probe from `next`.
    pub fn new(next: Index) -> Progress {
        Progress {
            matched: Index(0),
            next,
            state: ProgressState::Probe { paused: false },
            recent_active: false,
        }
    }

    /// The highest index known to match the leader's log.
    pub fn matched(&self) -> Index {
        self.matched
    }

    /// The next index to send.
    pub fn next(&self) -> Index {
        self.next
    }

    /// The replication state.
    pub fn state(&self) -> &ProgressState {
        &self.state
    }

    /// Whether the leader must wait before sending another append.
    pub fn is_paused(&self, inflight_max: usize) -> bool {
        match &self.state {
            ProgressState::Probe { paused } => *paused,
            ProgressState::Replicate { inflight } => inflight.len() >= inflight_max,
            ProgressState::Snapshot { .. } => true,
        }
    }

    /// An append ending at `last_sent` went out (`None` if it carried no entries).
    pub fn on_sent(&mut self, last_sent: Option<Index>) {
        match &mut self.state {
            ProgressState::Probe { paused } => *paused = true,
            ProgressState::Replicate { inflight } => {
                if let Some(last) = last_sent {
                    inflight.push_back(last);
                    self.next = last.next();
                }
            }
            ProgressState::Snapshot { .. } => {
                debug_assert!(false, "nothing is sent while a snapshot is pending")
            }
        }
    }

    /// The leader sent its snapshot ending at `index`: wait for it (§7).
    pub fn on_snapshot_sent(&mut self, index: Index) {
        debug_assert!(
            index >= self.next,
            "§7: a snapshot is sent only for entries the leader no longer holds"
        );
        probe!(ProgressToSnapshot);
        self.state = ProgressState::Snapshot { pending: index };
    }

    /// The application reports how sending the pending snapshot ended. Either
    /// way the leader goes back to probing, paused until the follower is heard
    /// from: after a delivery from just past the snapshot (the follower's
    /// acknowledgement may still be on its way), after a failure from just
    /// past what it matched. Returns false if no snapshot was pending.
    pub fn on_snapshot_report(&mut self, delivered: bool) -> bool {
        let ProgressState::Snapshot { pending } = self.state else {
            return false;
        };
        probe!(SnapshotReportedDelivered if delivered);
        probe!(SnapshotReportedFailed if !delivered);
        self.next = if delivered {
            pending.next().max(self.matched.next())
        } else {
            self.matched.next()
        };
        self.state = ProgressState::Probe { paused: true };
        true
    }

    /// The follower matches up to `matched`. Returns whether `matched` advanced.
    /// A probe that is answered (even with no news) switches to replicating.
    pub fn on_accepted(&mut self, matched: Index) -> bool {
        let advanced = matched > self.matched;
        if advanced {
            self.matched = matched;
            self.next = self.next.max(matched.next());
        }
        match &mut self.state {
            ProgressState::Probe { .. } if matched >= self.matched => {
                probe!(ProgressProbeToReplicate);
                self.next = self.matched.next();
                self.state = ProgressState::Replicate {
                    inflight: VecDeque::new(),
                };
            }
            ProgressState::Probe { .. } => {}
            ProgressState::Replicate { inflight } => {
                while inflight.front().is_some_and(|&i| i <= matched) {
                    inflight.pop_front();
                }
            }
            ProgressState::Snapshot { pending } if matched >= *pending => {
                probe!(ProgressSnapshotToReplicate);
                self.next = self.matched.next();
                self.state = ProgressState::Replicate {
                    inflight: VecDeque::new(),
                };
            }
            ProgressState::Snapshot { .. } => {}
        }
        advanced
    }

    /// Whether a rejection of an append whose prev was `rejected` is about an
    /// append the leader has moved past (a pure check, so that a stale one
    /// costs nothing else; [`Progress::on_rejected`] applies the same rule).
    pub fn is_stale_rejection(&self, rejected: Index) -> bool {
        match &self.state {
            ProgressState::Replicate { .. } => rejected <= self.matched,
            ProgressState::Probe { .. } => rejected != self.next.prev(),
            ProgressState::Snapshot { .. } => true,
        }
    }

    /// The follower rejected an append whose prev was `rejected`; `target` is
    /// the leader's guess of the last agreeing index. Returns false for a stale
    /// rejection (one about an append the leader has since moved past).
    pub fn on_rejected(&mut self, rejected: Index, target: Index) -> bool {
        if self.is_stale_rejection(rejected) {
            return false;
        }
        let next = match &self.state {
            ProgressState::Replicate { .. } => {
                probe!(ProgressReplicateToProbe);
                self.matched.next()
            }
            // A rejection while a snapshot is pending is about an append
            // sent before it: stale (checked above).
            ProgressState::Snapshot { .. } => return false,
            ProgressState::Probe { .. } => {
                probe!(ProbeBacktracks);
                probe!(HintSkipsEntries if target.next() < rejected);
                rejected.min(target.next())
            }
        };
        self.next = next.max(self.matched.next());
        self.state = ProgressState::Probe { paused: false };
        true
    }

    /// The follower answered a heartbeat, so it is reachable: a paused probe
    /// may send again, and a full in-flight window gives up its oldest append
    /// (it may have been lost; if it was not, its ack is merely late).
    pub fn on_heartbeat_response(&mut self, inflight_max: usize) {
        match &mut self.state {
            ProgressState::Probe { paused } => {
                probe!(HeartbeatUnpausesProbe if *paused);
                *paused = false;
            }
            ProgressState::Replicate { inflight } => {
                if inflight.len() >= inflight_max {
                    inflight.pop_front();
                }
            }
            // Only the snapshot's acknowledgement or its report ends the wait.
            ProgressState::Snapshot { .. } => {}
        }
    }

    /// The follower was heard from in this check-quorum period.
    pub fn on_contact(&mut self) {
        self.recent_active = true;
    }

    /// Whether the follower was heard from in this check-quorum period.
    pub fn is_recent_active(&self) -> bool {
        self.recent_active
    }

    /// The leader's own entry: its persisted log is what it has matched.
    pub fn on_self_persisted(&mut self, persisted: Index) {
        self.matched = persisted;
        self.next = persisted.next();
    }
}

/// The leader's progress for every member, itself included.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tracker {
    progress: BTreeMap<NodeId, Progress>,
}

impl Tracker {
    /// Fresh progress for each member (voters and learners), probing from `next`.
    pub fn new(members: &BTreeSet<NodeId>, next: Index) -> Tracker {
        Tracker {
            progress: members
                .iter()
                .map(|&id| (id, Progress::new(next)))
                .collect(),
        }
    }

    /// The members tracked.
    pub fn ids(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.progress.keys().copied()
    }

    /// Tracks exactly `members` after a membership change: a new member
    /// probes from `next`, a departed one is forgotten, the others keep
    /// their progress.
    pub fn sync(&mut self, members: &BTreeSet<NodeId>, next: Index) {
        self.progress.retain(|id, _| members.contains(id));
        for &id in members {
            self.progress
                .entry(id)
                .or_insert_with(|| Progress::new(next));
        }
        debug_assert!(
            self.progress.keys().eq(members.iter()),
            "the leader tracks every member and no one else"
        );
    }

    /// The progress of `id`, if it is a member.
    pub fn get(&self, id: NodeId) -> Option<&Progress> {
        self.progress.get(&id)
    }

    /// The progress of `id`, if it is a member.
    pub fn get_mut(&mut self, id: NodeId) -> Option<&mut Progress> {
        self.progress.get_mut(&id)
    }

    /// Every member and its progress.
    pub fn iter(&self) -> impl Iterator<Item = (NodeId, &Progress)> {
        self.progress.iter().map(|(&id, p)| (id, p))
    }

    /// The nodes that answered since the check-quorum period began (the
    /// leader marks itself).
    pub fn active(&self) -> BTreeSet<NodeId> {
        let heard = self.progress.iter().filter(|(_, p)| p.recent_active);
        heard.map(|(&id, _)| id).collect()
    }

    /// Starts a new check-quorum period: only `me` counts as heard from.
    pub fn reset_active(&mut self, me: NodeId) {
        for (&id, p) in &mut self.progress {
            p.recent_active = id == me;
        }
        debug_assert!(
            self.active().len() <= 1,
            "check-quorum: a new period counts only the leader"
        );
    }

    /// The same tracker with every node id mapped through `f`.
    pub fn relabel(&self, f: &dyn Fn(NodeId) -> NodeId) -> Tracker {
        Tracker {
            progress: self
                .progress
                .iter()
                .map(|(&id, p)| (f(id), p.clone()))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_pauses_until_answered_then_replicates() {
        let mut p = Progress::new(Index(5));
        assert!(!p.is_paused(2));
        p.on_sent(Some(Index(5)));
        assert!(p.is_paused(2));
        p.on_heartbeat_response(2);
        assert!(!p.is_paused(2));
        assert!(p.on_accepted(Index(5)));
        assert_eq!((p.matched(), p.next()), (Index(5), Index(6)));
        assert!(matches!(p.state(), ProgressState::Replicate { .. }));
    }

    #[test]
    fn replicate_streams_within_the_inflight_window() {
        let mut p = Progress::new(Index(1));
        p.on_accepted(Index(0));
        p.on_sent(Some(Index(3)));
        p.on_sent(Some(Index(6)));
        assert_eq!(p.next(), Index(7));
        assert!(p.is_paused(2));
        p.on_accepted(Index(3));
        assert!(!p.is_paused(2));
        assert!(!p.on_accepted(Index(2)), "an old ack changes nothing");
        p.on_sent(Some(Index(8)));
        assert!(p.is_paused(2));
        p.on_heartbeat_response(2);
        assert!(!p.is_paused(2), "a heartbeat answer frees the oldest slot");
    }

    #[test]
    fn an_old_or_repeated_ack_is_no_answer_to_a_probe() {
        let mut p = Progress::new(Index(1));
        assert!(p.on_accepted(Index(5)));
        assert!(!p.on_accepted(Index(5)), "a repeated ack advances nothing");
        p.on_sent(Some(Index(8)));
        assert!(p.on_rejected(Index(8), Index(6)), "back to probing at 6");
        assert!(!p.on_accepted(Index(3)), "an ack older than matched");
        assert!(
            matches!(p.state(), ProgressState::Probe { .. }),
            "is not the answer to the probe in flight"
        );
        assert_eq!((p.matched(), p.next()), (Index(5), Index(6)));
        assert!(!p.on_accepted(Index(5)), "the probe's answer, no news");
        assert!(matches!(p.state(), ProgressState::Replicate { .. }));
    }

    #[test]
    fn a_tracker_lists_every_member_and_who_was_heard_from() {
        let members: BTreeSet<NodeId> = [NodeId(1), NodeId(2), NodeId(3)].into();
        let mut t = Tracker::new(&members, Index(4));
        let listed: BTreeSet<NodeId> = t.iter().map(|(id, _)| id).collect();
        assert_eq!(listed, members);
        assert!(t.iter().all(|(_, p)| p.next() == Index(4)));
        t.reset_active(NodeId(1));
        assert_eq!(t.active(), BTreeSet::from([NodeId(1)]));
        t.get_mut(NodeId(3)).unwrap().on_contact();
        assert!(t.get(NodeId(3)).unwrap().is_recent_active());
        assert!(!t.get(NodeId(2)).unwrap().is_recent_active());
        assert_eq!(t.active(), BTreeSet::from([NodeId(1), NodeId(3)]));
    }

    #[test]
    fn rejection_backs_up_by_the_hint_and_ignores_stale_ones() {
        let mut p = Progress::new(Index(10));
        p.on_sent(Some(Index(12)));
        assert!(
            !p.on_rejected(Index(7), Index(3)),
            "not the probe in flight"
        );
        assert!(p.on_rejected(Index(9), Index(3)));
        assert_eq!(p.next(), Index(4), "skips to the hint, not one entry back");
        assert!(!p.is_paused(1));
        let mut r = Progress::new(Index(1));
        r.on_accepted(Index(4));
        assert!(
            !r.on_rejected(Index(4), Index(0)),
            "at or below matched: stale"
        );
        assert!(r.on_rejected(Index(6), Index(0)));
        assert_eq!(r.next(), Index(5), "never below matched + 1");
    }

    #[test]
    fn a_pending_snapshot_pauses_until_acknowledged() {
        let mut p = Progress::new(Index(3));
        p.on_snapshot_sent(Index(9));
        assert!(p.is_paused(8));
        p.on_heartbeat_response(8);
        assert!(p.is_paused(8), "a heartbeat answer does not end the wait");
        assert!(!p.on_rejected(Index(2), Index(0)), "about an older append");
        assert!(p.on_accepted(Index(4)));
        assert!(
            p.is_paused(8),
            "an ack short of the snapshot is an older one"
        );
        assert!(p.on_accepted(Index(9)));
        assert!(matches!(p.state(), ProgressState::Replicate { .. }));
        assert_eq!(p.next(), Index(10));
        assert!(!p.on_snapshot_report(true), "nothing pending any more");
    }

    #[test]
    fn a_reported_snapshot_resumes_probing_once_heard_from() {
        let mut p = Progress::new(Index(3));
        p.on_snapshot_sent(Index(9));
        assert!(p.on_snapshot_report(false));
        assert_eq!(p.next(), Index(1), "a failure probes from what matched");
        assert!(p.is_paused(8));
        p.on_heartbeat_response(8);
        assert!(!p.is_paused(8));
        p.on_snapshot_sent(Index(9));
        assert!(p.on_snapshot_report(true));
        assert_eq!(
            p.next(),
            Index(10),
            "a delivery probes from past the snapshot"
        );
    }
}
