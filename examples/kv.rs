//! A replicated key-value store on ruft, in one process: three replicas (a
//! ruft node, in-memory storage and a `ruft_kv::Kv` state machine each), an
//! in-memory network, and clients that write through the log and read with
//! ReadIndex from any replica (a follower forwards the read to its leader).
//!
//! Each client runs one operation at a time. Three phases: writes only (a
//! put of the client's own key, proposed on the leader), reads only (a key of
//! its own or another client's, from a replica chosen round-robin), then the
//! two alternating. A write is answered when the replica it was proposed to
//! applies it; a read when the replica asked has applied the index of its
//! `ReadState`. Every read of a client's own key must see that client's last
//! write (it was acknowledged before the read began), which the example
//! checks. It prints the throughput of each phase.
//!
//! ```text
//! cargo run --release --example kv
//! ```

use bytes::Bytes;
use futures::executor::block_on;
use ruft::{Config, EntryVariant, MemStorage, Message, Node, NodeId, ReadState, Role, Tick};
use ruft_kv::{ClientId, Kv, Op, Request, RequestId};
use std::collections::{BTreeMap, VecDeque};
use std::time::Instant;

const REPLICAS: u64 = 3;
const CLIENTS: u64 = 16;
/// Operations per client in each phase.
const OPS: u64 = 2_000;

/// Which operations a phase runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Writes,
    Reads,
    Mixed,
}

/// What a client waits for.
#[derive(Clone, Debug)]
enum Waiting {
    /// Its write, proposed on this replica, to be applied there.
    Write { at: NodeId, id: RequestId },
    /// Its read of `key`, asked of this replica.
    Read { at: NodeId, key: String },
}

struct Client {
    id: ClientId,
    next: RequestId,
    done: u64,
    /// The value of its own key it wrote last (acknowledged).
    last_written: Option<String>,
    waiting: Option<Waiting>,
}

struct Replica {
    node: Node<MemStorage>,
    kv: Kv,
    /// Confirmed reads waiting for the state machine to apply their index.
    reads: Vec<ReadState>,
}

#[derive(Default)]
struct Counts {
    writes: u64,
    reads: u64,
    retries: u64,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let ids: Vec<NodeId> = (1..=REPLICAS).map(NodeId).collect();
    let mut replicas: BTreeMap<NodeId, Replica> = BTreeMap::new();
    for &id in &ids {
        let mut cfg = Config::new(id, ids.iter().copied());
        cfg.seed = 7;
        cfg.election_tick = Tick(10);
        let node = block_on(Node::new(cfg, MemStorage::default()))?;
        let replica = Replica {
            node,
            kv: Kv::default(),
            reads: Vec::new(),
        };
        replicas.insert(id, replica);
    }
    let mut network: VecDeque<Message> = VecDeque::new();
    let mut clients: Vec<Client> = (1..=CLIENTS)
        .map(|c| Client {
            id: ClientId(c),
            next: RequestId(1),
            done: 0,
            last_written: None,
            waiting: None,
        })
        .collect();
    for phase in [Phase::Writes, Phase::Reads, Phase::Mixed] {
        for c in &mut clients {
            c.done = 0;
        }
        let mut counts = Counts::default();
        let start = Instant::now();
        run_phase(
            phase,
            &mut replicas,
            &mut network,
            &mut clients,
            &mut counts,
        )?;
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{phase:?}: {CLIENTS} clients, {} writes and {} linearizable reads in {secs:.2} s: {:.0} writes/s, {:.0} reads/s ({} refused and retried)",
            counts.writes,
            counts.reads,
            counts.writes as f64 / secs,
            counts.reads as f64 / secs,
            counts.retries
        );
    }
    for (id, r) in &replicas {
        let s = r.node.status();
        println!(
            "  {id}: {:?} term {} applied {}",
            s.role, s.term.0, s.applied.0
        );
    }
    Ok(())
}

/// Runs every client to `OPS` operations of `phase`.
fn run_phase(
    phase: Phase,
    replicas: &mut BTreeMap<NodeId, Replica>,
    network: &mut VecDeque<Message>,
    clients: &mut [Client],
    counts: &mut Counts,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut rounds = 0u64;
    while clients.iter().any(|c| c.done < OPS) {
        rounds += 1;
        if rounds > 10_000_000 {
            return Err("the store made no progress".into());
        }
        for r in replicas.values_mut() {
            block_on(r.node.tick())?;
        }
        let leader = replicas
            .iter()
            .find(|(_, r)| r.node.status().role == Role::Leader)
            .map(|(&id, _)| id);
        if let Some(leader) = leader {
            for c in clients.iter_mut().filter(|c| c.done < OPS) {
                if c.waiting.is_none() {
                    issue(phase, c, leader, replicas, counts)?;
                }
            }
        }
        // Deliver until the network is quiet, running every replica's loop.
        loop {
            for r in replicas.values_mut() {
                run_ready(r, network, clients, counts)?;
            }
            let Some(msg) = network.pop_front() else {
                break;
            };
            let dst = replicas.get_mut(&msg.dst).ok_or("a message to nobody")?;
            block_on(dst.node.step(msg))?;
        }
    }
    Ok(())
}

/// Starts a client's next operation: a write of its own key on the leader,
/// or a read of a key from a replica chosen round-robin (in the mixed phase,
/// even-numbered operations write and odd ones read).
fn issue(
    phase: Phase,
    c: &mut Client,
    leader: NodeId,
    replicas: &mut BTreeMap<NodeId, Replica>,
    counts: &mut Counts,
) -> Result<(), Box<dyn std::error::Error>> {
    let own = format!("k{}", c.id.0);
    let write = match phase {
        Phase::Writes => true,
        Phase::Reads => false,
        Phase::Mixed => c.done % 2 == 0,
    };
    if write {
        let value = format!("v{}", c.next.0);
        let request = Request::new(c.id, c.next, Op::put(&own, &value));
        let node = &mut replicas.get_mut(&leader).ok_or("no leader")?.node;
        match block_on(node.propose(request.encode())) {
            Ok(_) => {
                c.waiting = Some(Waiting::Write {
                    at: leader,
                    id: c.next,
                })
            }
            // Not appended: try again next round (the same request id).
            Err(_) => counts.retries += 1,
        }
    } else {
        let at = NodeId(1 + (c.id.0 + c.done) % REPLICAS);
        let key = if c.done % 4 < 2 {
            own
        } else {
            format!("k{}", 1 + (c.id.0 + c.done) % CLIENTS)
        };
        let ctx = Bytes::from(format!("{} {}", c.id.0, key));
        let node = &mut replicas.get_mut(&at).ok_or("no such replica")?.node;
        match block_on(node.read_index(ctx)) {
            Ok(_) => c.waiting = Some(Waiting::Read { at, key }),
            Err(_) => counts.retries += 1,
        }
    }
    Ok(())
}

/// One replica's application loop: persist, send, apply, serve reads, advance.
fn run_ready(
    r: &mut Replica,
    network: &mut VecDeque<Message>,
    clients: &mut [Client],
    counts: &mut Counts,
) -> Result<(), Box<dyn std::error::Error>> {
    let me = r.node.status().id;
    while r.node.has_ready() {
        let rd = block_on(r.node.ready())?;
        r.node.storage_mut().persist(&rd)?;
        network.extend(rd.messages.iter().cloned());
        for entry in &rd.committed_entries {
            let EntryVariant::Normal(payload) = &entry.variant else {
                r.kv.apply_empty(entry.index())?;
                continue;
            };
            let applied = r.kv.apply(entry.index(), payload)?;
            let client = &mut clients[(applied.client.0 - 1) as usize];
            if let Some(Waiting::Write { at, id }) = &client.waiting {
                if *at == me && *id == applied.id {
                    let own = format!("k{}", client.id.0);
                    client.last_written = r.kv.get(&own).map(str::to_string);
                    client.next = RequestId(client.next.0 + 1);
                    finish(client);
                    counts.writes += 1;
                }
            }
        }
        r.reads.extend(rd.read_states.iter().cloned());
        serve_reads(r, clients, counts)?;
        r.node.advance(rd);
    }
    Ok(())
}

/// Serves every confirmed read whose index the state machine has applied.
fn serve_reads(
    r: &mut Replica,
    clients: &mut [Client],
    counts: &mut Counts,
) -> Result<(), Box<dyn std::error::Error>> {
    let applied = r.kv.applied();
    let (ready, later): (Vec<ReadState>, Vec<ReadState>) =
        r.reads.drain(..).partition(|rs| rs.index <= applied);
    r.reads = later;
    for rs in ready {
        let text = String::from_utf8(rs.ctx.to_vec())?;
        let (client, key) = text.split_once(' ').ok_or("a malformed read context")?;
        let client = &mut clients[client.parse::<usize>()? - 1];
        let asked = matches!(&client.waiting, Some(Waiting::Read { at, key: k }) if *at == r.node.status().id && k == key);
        if !asked {
            return Err(format!("a read of {key} answered to a client not waiting for it").into());
        }
        let value = r.kv.get(key).map(str::to_string);
        if key == format!("k{}", client.id.0) && value != client.last_written {
            return Err(format!(
                "stale read: client {} read {key} = {value:?} after writing {:?}",
                client.id.0, client.last_written
            )
            .into());
        }
        finish(client);
        counts.reads += 1;
    }
    Ok(())
}

fn finish(c: &mut Client) {
    c.waiting = None;
    c.done += 1;
}
