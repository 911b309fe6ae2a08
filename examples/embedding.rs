//! The application loop of README.md and docs/embedding.md, compiled and
//! run: three nodes in one process, a queue for a network, a map for a
//! state machine, and nothing from ruft's harness. The README quotes
//! `carry_out` between the `README loop` markers (a test keeps the quote
//! equal to this file).
//!
//! ```text
//! cargo run --release --example embedding
//! ```
//!
//! `examples/kv-service` is the same loop over TCP with durable storage.

use futures::executor::block_on;
use ruft::{
    Config, Entry, EntryVariant, Error, Index, MemStorage, Message, Node, NodeId, ReadState, Role,
    Tick,
};
use std::collections::{BTreeMap, VecDeque};

/// Applied entries between two snapshots.
const COMPACT_EVERY: u64 = 100;
const PROPOSALS: usize = 1000;

/// The network: messages in flight.
#[derive(Default)]
struct Net {
    queue: VecDeque<Message>,
}

impl Net {
    fn send(&mut self, msg: &Message) {
        self.queue.push_back(msg.clone());
    }
}

/// The state machine: how many times each command was applied, plus the
/// reads confirmed but not yet served.
#[derive(Default)]
struct App {
    applied: BTreeMap<String, u32>,
    applied_index: Index,
    reads: Vec<ReadState>,
    served: usize,
    compacted: Index,
}

impl App {
    fn restore(&mut self, data: &[u8], index: Index) {
        self.applied = String::from_utf8_lossy(data)
            .lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(k, n)| (k.to_string(), n.parse().unwrap_or(0)))
            .collect();
        self.applied_index = index;
    }

    fn snapshot(&self) -> String {
        self.applied
            .iter()
            .map(|(k, n)| format!("{k} {n}\n"))
            .collect()
    }

    fn apply(&mut self, entry: &Entry) {
        if let EntryVariant::Normal(payload) = &entry.variant {
            let command = String::from_utf8_lossy(payload).to_string();
            *self.applied.entry(command).or_default() += 1;
        }
        self.applied_index = entry.index();
    }

    /// Serves every confirmed read whose index is applied; keeps the rest.
    fn serve_reads(&mut self) {
        let applied = self.applied_index;
        let before = self.reads.len();
        self.reads.retain(|r| r.index > applied);
        self.served += before - self.reads.len();
    }
}

// README loop: begin
/// Carries out every Ready of `node`, in the order the contract asks.
async fn carry_out(node: &mut Node<MemStorage>, app: &mut App, net: &mut Net) -> Result<(), Error> {
    while node.has_ready() {
        let rd = node.ready().await?;
        // 1. Persist the snapshot, the entries, then the hard state (one
        //    atomic write if the storage can).
        node.storage_mut().persist(&rd)?;
        // 2. Send, only now: a vote or an ack promises a durable write.
        for msg in &rd.messages {
            net.send(msg);
        }
        // 3. Restore a leader's snapshot, then apply, in index order.
        if let Some(snapshot) = &rd.snapshot {
            app.restore(&snapshot.data, snapshot.index());
        }
        for entry in &rd.committed_entries {
            app.apply(entry);
        }
        // 4. Serve each confirmed read once the state machine applied its index.
        app.reads.extend(rd.read_states.iter().cloned());
        app.serve_reads();
        // 5. Hand the Ready back.
        node.advance(rd);
        // 6. Now and then, snapshot the state machine and compact the log.
        let applied = node.status().applied;
        if applied.0 >= app.compacted.0 + COMPACT_EVERY {
            let membership = node.membership().clone(); // as of the applied index
            let data = app.snapshot();
            node.storage_mut()
                .create_snapshot(applied, &membership, data)?;
            node.storage_mut().compact(applied)?;
            app.compacted = applied;
        }
    }
    Ok(())
}
// README loop: end

fn main() -> Result<(), Error> {
    let ids = [NodeId(1), NodeId(2), NodeId(3)];
    let mut nodes = Vec::new();
    for id in ids {
        let mut config = Config::new(id, ids);
        config.election_tick = Tick(10);
        config.seed = 7;
        nodes.push(block_on(Node::new(config, MemStorage::default()))?);
    }
    let mut apps: Vec<App> = ids.iter().map(|_| App::default()).collect();
    let mut net = Net::default();
    let mut proposed = 0;
    let mut rounds = 0;
    while apps.iter().any(|a| a.applied.len() < PROPOSALS) {
        rounds += 1;
        assert!(rounds < 100_000, "the cluster made no progress");
        for (node, app) in nodes.iter_mut().zip(apps.iter_mut()) {
            block_on(node.tick())?;
            // Clients talk to whichever node leads; a follower refuses
            // with Error::NotLeader, and nothing is appended.
            if node.status().role == Role::Leader && proposed < PROPOSALS {
                block_on(node.propose(format!("cmd {proposed}").into()))?;
                proposed += 1;
                block_on(node.read_index("a read".into()))?;
            }
            block_on(carry_out(node, app, &mut net))?;
        }
        while let Some(msg) = net.queue.pop_front() {
            let i = ids
                .iter()
                .position(|id| *id == msg.dst)
                .expect("a known node");
            // Bad input is a typed error that leaves the node unchanged;
            // a stale message is a traced drop. Neither stops the loop.
            let _outcome = block_on(nodes[i].step(msg));
            block_on(carry_out(&mut nodes[i], &mut apps[i], &mut net))?;
        }
    }
    for (node, app) in nodes.iter().zip(&apps) {
        let s = node.status();
        assert!(
            app.applied.values().all(|&n| n == 1),
            "a command applied twice"
        );
        println!(
            "{}: {:?} term {} applied {} ({} commands), {} reads served, compacted to {}",
            s.id,
            s.role,
            s.term,
            s.applied,
            app.applied.len(),
            app.served,
            app.compacted
        );
    }
    println!("{PROPOSALS} commands applied once on every node in {rounds} rounds");
    Ok(())
}
