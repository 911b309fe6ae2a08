//! etcd-style scenario helpers for a [`Cluster`] (after etcd's test
//! `network`), and the network faults they set.

use super::{Cluster, DriveError};
use futures::executor::block_on;
use ruft::{Config, MemStorage, Message, Node, NodeId};
use std::collections::BTreeSet;

/// Network faults set by the etcd-style helpers: cut links, dropped message
/// kinds and dropped messages of any other shape. A blocked message is lost
/// both when it is sent and, if it was already in flight, when it would be
/// delivered.
#[derive(Clone, Debug, Default)]
pub(super) struct Faults {
    /// Cut links, each stored as (smaller id, larger id).
    cut: BTreeSet<(NodeId, NodeId)>,
    /// Variant names ([`ruft::MessageVariant::name`]) lost on every link.
    kinds: BTreeSet<&'static str>,
    /// Predicates: a message any of them accepts is lost.
    filters: Vec<fn(&Message) -> bool>,
}

impl Faults {
    pub(super) fn blocks(&self, msg: &Message) -> bool {
        let link = (msg.src.min(msg.dst), msg.src.max(msg.dst));
        self.cut.contains(&link)
            || self.kinds.contains(msg.variant.name())
            || self.filters.iter().any(|f| f(msg))
    }
}

/// etcd-style scenario helpers (after etcd's test `network`): start from given
/// storage, send to quiescence, cut a link, isolate a node, drop a message
/// kind, recover.
impl Cluster {
    /// Voters `n1..=n` where node `i` starts from the `i`-th storage (a node
    /// restarted from what it persisted), each configured by `configure`, with
    /// property checking on. Scenario tests use it to set up the logs of the
    /// paper's figures. Fails if a node refuses its storage (for example a
    /// commit index beyond its last entry).
    pub fn with_storage(
        storages: Vec<MemStorage>,
        configure: impl Fn(&mut Config),
    ) -> Result<Cluster, DriveError> {
        let mut cluster = Cluster::new(storages.len(), &configure);
        for (slot, storage) in cluster.slots.iter_mut().zip(storages) {
            let cfg = slot.node.config().clone();
            slot.node = block_on(Node::new(cfg, storage))?;
        }
        Ok(cluster)
    }

    /// Sends to quiescence: delivers messages oldest first (replies join the
    /// back of the queue) until the network is empty or `steps_max` messages
    /// were taken from it. Returns the messages that reached a running node,
    /// in delivery order, as a transcript; lost ones are counted in
    /// [`Stats::lost`](super::Stats::lost). When `steps_max` runs out first, the rest stays in
    /// [`Cluster::network`].
    pub fn settle(&mut self, steps_max: usize) -> Result<Vec<Message>, DriveError> {
        let mut delivered = Vec::new();
        for _ in 0..steps_max {
            let Some(msg) = self.network.first().cloned() else {
                break;
            };
            let up = self.slots.get(Self::at(msg.dst)).is_some_and(|s| s.up);
            let reaches = up && !self.faults.blocks(&msg);
            self.deliver(0).transpose()?;
            if reaches {
                delivered.push(msg);
            }
        }
        Ok(delivered)
    }

    /// Cuts the link between `a` and `b`: messages either way are lost until
    /// [`Cluster::recover`].
    pub fn cut(&mut self, a: NodeId, b: NodeId) {
        self.faults.cut.insert((a.min(b), a.max(b)));
    }

    /// Cuts every link of `id`: it neither hears nor is heard until
    /// [`Cluster::recover`]. It keeps running (and ticking, if ticked).
    pub fn isolate(&mut self, id: NodeId) {
        let others: Vec<NodeId> = self.ids().filter(|&o| o != id).collect();
        for other in others {
            self.cut(id, other);
        }
    }

    /// Loses every message of the kind `name` (as [`ruft::MessageVariant::name`]
    /// prints it, e.g. `"AppendEntries"`) on every link until [`Cluster::recover`].
    pub fn drop_kind(&mut self, name: &'static str) {
        self.faults.kinds.insert(name);
    }

    /// Loses every message `matches` accepts until [`Cluster::recover`]; for
    /// drops finer than a kind, such as appends carrying an entry of some term.
    pub fn drop_where(&mut self, matches: fn(&Message) -> bool) {
        self.faults.filters.push(matches);
    }

    /// Restores the network: every cut link, dropped kind and filter is
    /// removed, and the partition healed. Messages lost meanwhile stay lost;
    /// crashed nodes stay down.
    pub fn recover(&mut self) {
        self.faults = Faults::default();
        self.heal();
    }
}
