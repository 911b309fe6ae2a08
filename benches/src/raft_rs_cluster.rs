//! The workload's cluster built from raft-rs [`RawNode`]s over raft-rs's
//! [`MemStorage`], following its documented Ready protocol.

use crate::{payload, Applied, BoxError, Harness, Network, Workload, NODES};
use protobuf::Message as _;
use raft::eraftpb::{Entry, Message};
use raft::storage::MemStorage;
use raft::{Config, RawNode, StateRole};
use slog::{o, Discard, Logger};

/// Three raft-rs nodes, a FIFO network and each node's state machine. With
/// `BCAST_COMMIT` false (the [`RaftRsCluster`] of the headline comparison) a
/// leader does not send a message only to announce a new commit index:
/// followers learn it from the next append or heartbeat, as in ruft. With it
/// true ([`RaftRsBcastCluster`]: raft-rs's default), every commit advance is
/// broadcast. With `BATCH` ([`RaftRsBatchCluster`]) raft-rs's
/// `batch_append` merges an append into one already queued for the same
/// follower, as ruft sends a follower what a Ready has for it in one append.
pub struct RaftRs<const BCAST_COMMIT: bool, const BATCH: bool = false> {
    nodes: Vec<RawNode<MemStorage>>,
    applied: [Applied; NODES],
    network: Network<Message>,
}

/// raft-rs configured like ruft (`skip_bcast_commit = true`).
pub type RaftRsCluster = RaftRs<false>;

/// raft-rs with its default commit broadcast (`skip_bcast_commit = false`).
pub type RaftRsBcastCluster = RaftRs<true>;

/// raft-rs configured like ruft, and batching appends (`batch_append`).
pub type RaftRsBatchCluster = RaftRs<false, true>;

/// raft-rs bounds an append by encoded bytes, not entries: this is
/// `append_entries_max` times the encoded size of the workload's largest
/// entry. Entries at lower indexes encode one or two bytes shorter, which is
/// less than one entry's worth over 64 entries, so every full append carries
/// exactly `append_entries_max` entries (checked by a unit test).
pub fn max_size_per_msg(workload: &Workload) -> u64 {
    let largest = entry(workload.proposals as u64 + 1, workload);
    workload.append_entries_max as u64 * u64::from(largest.compute_size())
}

/// A workload entry of term 1 at `index`.
fn entry(index: u64, workload: &Workload) -> Entry {
    Entry {
        term: 1,
        index,
        data: payload(index as usize, workload.payload_len).into(),
        ..Entry::default()
    }
}

/// Node `n`'s configuration: ruft's timing (heartbeat 1 tick, election 10),
/// the workload's limits, `skip_bcast_commit = !bcast_commit` and
/// `batch_append = batch`; everything else is raft-rs's default (no
/// pre-vote, no check-quorum, no limit on uncommitted or committed-per-Ready
/// sizes).
pub fn config(n: usize, workload: &Workload, bcast_commit: bool, batch: bool) -> Config {
    Config {
        id: n as u64 + 1,
        election_tick: 10,
        heartbeat_tick: 1,
        max_inflight_msgs: workload.inflight_max,
        max_size_per_msg: max_size_per_msg(workload),
        skip_bcast_commit: !bcast_commit,
        batch_append: batch,
        ..Config::default()
    }
}

/// The state machine applies the entries that carry a payload (the leader's
/// empty entry does not).
fn apply(applied: &mut Applied, entries: &[Entry]) {
    for entry in entries {
        if !entry.data.is_empty() {
            applied.apply(&entry.data);
        }
    }
}

impl<const BCAST_COMMIT: bool, const BATCH: bool> Harness for RaftRs<BCAST_COMMIT, BATCH> {
    const NAME: &'static str = match (BCAST_COMMIT, BATCH) {
        (true, _) => "raft-rs (bcast commit)",
        (false, true) => "raft-rs (batch_append)",
        (false, false) => "raft-rs",
    };

    fn elect(workload: &Workload) -> Result<Self, BoxError> {
        let logger = Logger::root(Discard, o!());
        let voters: Vec<u64> = (1..=NODES as u64).collect();
        let nodes = (0..NODES)
            .map(|n| {
                let storage = MemStorage::new_with_conf_state((voters.clone(), vec![]));
                RawNode::new(&config(n, workload, BCAST_COMMIT, BATCH), storage, &logger)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut cluster = RaftRs {
            nodes,
            applied: Default::default(),
            network: Network::default(),
        };
        cluster.nodes[0].campaign()?;
        // Bounded: an election with no faults settles in a few rounds.
        for _ in 0..100 {
            if !cluster.round()? {
                break;
            }
        }
        if cluster.nodes[0].raft.state != StateRole::Leader {
            return Err("raft-rs: node 1 was not elected".into());
        }
        Ok(cluster)
    }

    fn propose(&mut self, payload: Vec<u8>) -> Result<(), BoxError> {
        self.nodes[0].propose(Vec::new(), payload)?;
        Ok(())
    }

    /// In the order raft-rs documents: send `messages` (a leader's, which may
    /// leave before the write); apply the committed entries; persist the
    /// entries, then the hard state; send `persisted_messages`; `advance`,
    /// then carry out the returned LightReady (store its commit index, send,
    /// apply) and `advance_apply`.
    fn handle_ready(&mut self, n: usize) -> Result<bool, BoxError> {
        let node = &mut self.nodes[n];
        if !node.has_ready() {
            return Ok(false);
        }
        let mut rd = node.ready();
        self.network.send(rd.take_messages());
        if !rd.snapshot().is_empty() {
            return Err("raft-rs: unexpected snapshot".into());
        }
        apply(&mut self.applied[n], &rd.take_committed_entries());
        {
            let mut store = node.mut_store().wl();
            store.append(rd.entries())?;
            if let Some(hs) = rd.hs() {
                store.set_hardstate(hs.clone());
            }
        }
        self.network.send(rd.take_persisted_messages());
        let mut light = node.advance(rd);
        if let Some(commit) = light.commit_index() {
            node.mut_store().wl().mut_hard_state().commit = commit;
        }
        self.network.send(light.take_messages());
        apply(&mut self.applied[n], &light.take_committed_entries());
        node.advance_apply();
        Ok(true)
    }

    fn deliver(&mut self) -> Result<bool, BoxError> {
        let nodes = &mut self.nodes;
        self.network.deliver(|msg| {
            let n = (msg.to - 1) as usize;
            nodes[n].step(msg).map_err(Into::into)
        })
    }

    fn heartbeat(&mut self) -> Result<(), BoxError> {
        self.nodes[0].ping();
        Ok(())
    }

    fn applied(&self, node: usize) -> &Applied {
        &self.applied[node]
    }

    fn commit_index(&self, node: usize) -> u64 {
        self.nodes[node].raft.raft_log.committed
    }

    fn delivered(&self) -> usize {
        self.network.delivered()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run of raft-rs entries at `first..`, cut the way raft-rs cuts an append.
    fn cut_at(first: u64, workload: &Workload) -> usize {
        let mut entries: Vec<Entry> = (first..first + 200)
            .map(|index| entry(index, workload))
            .collect();
        raft::util::limit_size(&mut entries, Some(max_size_per_msg(workload)));
        entries.len()
    }

    #[test]
    fn a_full_append_carries_append_entries_max_entries_at_any_index() {
        let w = Workload::default();
        for first in [1, 100, 20_000, w.proposals as u64 - 200] {
            assert_eq!(
                cut_at(first, &w),
                w.append_entries_max,
                "from index {first}"
            );
        }
    }
}
