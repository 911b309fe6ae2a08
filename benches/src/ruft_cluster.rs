//! The workload's cluster built from ruft [`Node`]s over ruft's [`MemStorage`].

use crate::{Applied, BoxError, Harness, Network, Workload, NODES};
use futures::executor::block_on;
use ruft::{Config, EntryVariant, MemStorage, Message, Node, NodeId, Role};

/// Three ruft nodes, a FIFO network and each node's state machine.
#[derive(Debug)]
pub struct RuftCluster {
    nodes: Vec<Node<MemStorage>>,
    applied: [Applied; NODES],
    network: Network<Message>,
}

/// Node `n`'s configuration: ruft's defaults (heartbeat 1 tick, election 10),
/// with the workload's limits. The proposal and outbox bounds are set high
/// enough that the workload never reaches them (after every delivery the
/// harness fails the run if [`ruft::Status::outbox_dropped`] is not zero).
pub fn config(n: usize, workload: &Workload) -> Config {
    let ids = (1..=NODES as u64).map(NodeId);
    let mut cfg = Config::new(node_id(n), ids);
    cfg.inflight_max = workload.inflight_max;
    cfg.append_entries_max = workload.append_entries_max;
    cfg.uncommitted_entries_max = cfg.uncommitted_entries_max.max(2 * workload.window);
    cfg.outbox_max = cfg.outbox_max.max(4 * NODES * workload.inflight_max);
    cfg
}

fn node_id(n: usize) -> NodeId {
    NodeId(n as u64 + 1)
}

impl Harness for RuftCluster {
    const NAME: &'static str = "ruft";

    fn elect(workload: &Workload) -> Result<RuftCluster, BoxError> {
        let nodes = (0..NODES)
            .map(|n| block_on(Node::new(config(n, workload), MemStorage::default())))
            .collect::<Result<Vec<_>, _>>()?;
        let mut cluster = RuftCluster {
            nodes,
            applied: Default::default(),
            network: Network::default(),
        };
        block_on(cluster.nodes[0].campaign())?;
        // Bounded: an election with no faults settles in a few rounds.
        for _ in 0..100 {
            if !cluster.round()? {
                break;
            }
        }
        if cluster.nodes[0].status().role != Role::Leader {
            return Err("ruft: node 1 was not elected".into());
        }
        Ok(cluster)
    }

    fn propose(&mut self, payload: Vec<u8>) -> Result<(), BoxError> {
        block_on(self.nodes[0].propose(payload.into()))?;
        Ok(())
    }

    /// Persists the entries, then the hard state; sends the messages; applies
    /// the committed entries; advances.
    fn handle_ready(&mut self, n: usize) -> Result<bool, BoxError> {
        let node = &mut self.nodes[n];
        if !node.has_ready() {
            return Ok(false);
        }
        let mut rd = block_on(node.ready())?;
        node.storage_mut().persist(&rd)?;
        self.network.send(rd.messages.drain(..));
        for entry in &rd.committed_entries {
            if let EntryVariant::Normal(payload) = &entry.variant {
                self.applied[n].apply(payload);
            }
        }
        node.advance(rd);
        Ok(true)
    }

    fn deliver(&mut self) -> Result<bool, BoxError> {
        let nodes = &mut self.nodes;
        let busy = self.network.deliver(|msg| {
            let n = (msg.dst.0 - 1) as usize;
            block_on(nodes[n].step(msg)).map(drop).map_err(Into::into)
        })?;
        if let Some(node) = nodes.iter().find(|n| n.status().outbox_dropped > 0) {
            return Err(
                format!("ruft: {} dropped messages (outbox full)", node.config().id).into(),
            );
        }
        Ok(busy)
    }

    fn heartbeat(&mut self) -> Result<(), BoxError> {
        block_on(self.nodes[0].heartbeat())?;
        Ok(())
    }

    fn applied(&self, node: usize) -> &Applied {
        &self.applied[node]
    }

    fn commit_index(&self, node: usize) -> u64 {
        self.nodes[node].status().committed.0
    }

    fn delivered(&self) -> usize {
        self.network.delivered()
    }
}
