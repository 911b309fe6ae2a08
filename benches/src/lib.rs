//! One replication workload, driven through ruft and through raft-rs (tikv's
//! `raft` crate), so that their throughput can be compared on equal terms.
//!
//! Both libraries run a 3-node cluster in one process with in-memory storage
//! and an in-memory FIFO network. Node 1 is elected first (not timed). Then a
//! client keeps at most [`Workload::window`] proposals outstanding on the
//! leader, and every node carries out its Ready in the documented order
//! (persist, send, apply, advance) until every payload is applied on every
//! node. The client loop, the payloads and the checks live here, once; each
//! library only supplies a [`Harness`]: [`ruft_cluster::RuftCluster`] and
//! [`raft_rs_cluster::RaftRsCluster`] (raft-rs configured like ruft), plus
//! [`raft_rs_cluster::RaftRsBcastCluster`] (raft-rs with its default commit
//! broadcast).
//!
//! ```
//! use ruft_bench::{run, ruft_cluster::RuftCluster, Workload};
//! let workload = Workload { proposals: 1_000, ..Workload::default() };
//! let outcome = run::<RuftCluster>(&workload).unwrap();
//! outcome.verify().unwrap();
//! assert!(outcome.entries_per_second() > 0.0);
//! ```

pub mod network;
pub mod raft_rs_cluster;
pub mod ruft_cluster;

pub use network::Network;
use std::fmt;
use std::time::{Duration, Instant};

/// Any error a harness meets; each library's own error converts into it.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The number of nodes in the cluster.
pub const NODES: usize = 3;

/// What is replicated and with which limits; both libraries get the same values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Workload {
    /// Client proposals, each committed and applied on every node.
    pub proposals: usize,
    /// Bytes per proposal payload.
    pub payload_len: usize,
    /// Most proposals the client keeps outstanding (proposed, not yet applied
    /// on the leader) before it lets the cluster work.
    pub window: usize,
    /// Most append messages in flight to one follower (ruft `inflight_max`,
    /// raft-rs `max_inflight_msgs`).
    pub inflight_max: usize,
    /// Most entries carried by one append message (ruft `append_entries_max`;
    /// raft-rs limits bytes, so `max_size_per_msg` is set to this many entries'
    /// encoded size, see [`raft_rs_cluster::max_size_per_msg`]).
    pub append_entries_max: usize,
}

impl Default for Workload {
    /// The benchmark's workload: 100,000 proposals of 128 bytes, a window of
    /// 1,024, 256 appends in flight per follower, 64 entries per append.
    fn default() -> Workload {
        Workload {
            proposals: 100_000,
            payload_len: 128,
            window: 1024,
            inflight_max: 256,
            append_entries_max: 64,
        }
    }
}

/// One library's cluster, as the shared client loop ([`run`]) drives it.
/// Nodes are numbered `0..NODES`; node 0 (Raft id 1) is the leader.
pub trait Harness: Sized {
    /// The library's name, as printed in reports.
    const NAME: &'static str;

    /// Builds the cluster and elects node 0 leader (this is not timed).
    fn elect(workload: &Workload) -> Result<Self, BoxError>;

    /// Proposes one payload on the leader.
    fn propose(&mut self, payload: Vec<u8>) -> Result<(), BoxError>;

    /// Node `node` carries out its Ready, if it has one, in the order its
    /// library documents (persist, send into the network, apply, advance).
    /// Returns whether it had one.
    fn handle_ready(&mut self, node: usize) -> Result<bool, BoxError>;

    /// Delivers every message now in the network (see [`Network::deliver`]).
    /// Returns whether there were any.
    fn deliver(&mut self) -> Result<bool, BoxError>;

    /// One round: every node carries out its Ready, then every message that
    /// was in the network is delivered. Returns whether anything happened.
    fn round(&mut self) -> Result<bool, BoxError> {
        let mut busy = false;
        for node in 0..NODES {
            busy |= self.handle_ready(node)?;
        }
        Ok(self.deliver()? || busy)
    }

    /// The leader sends heartbeats now (they carry the final commit index to
    /// followers that have nothing left to receive).
    fn heartbeat(&mut self) -> Result<(), BoxError>;

    /// What `node` applied so far.
    fn applied(&self, node: usize) -> &Applied;

    /// `node`'s commit index, as the library reports it.
    fn commit_index(&self, node: usize) -> u64;

    /// Messages delivered since the cluster was built.
    fn delivered(&self) -> usize;
}

/// What one node's state machine saw: the payloads it applied, and an
/// order-sensitive checksum of them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// Entries with a payload that were applied (a leader's no-op is not counted).
    pub count: usize,
    /// [`Checksum`] of the payloads, in the order applied.
    pub checksum: Checksum,
}

impl Applied {
    /// The state machine applies one payload.
    pub fn apply(&mut self, payload: &[u8]) {
        self.count += 1;
        self.checksum.add(payload);
    }
}

/// An order-sensitive checksum of a sequence of payloads: cheap (a multiply
/// and an add per 8 bytes), so it costs both libraries the same small amount.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Checksum(pub u64);

impl Checksum {
    /// Folds one payload into the checksum.
    pub fn add(&mut self, payload: &[u8]) {
        const K: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut h = self.0.rotate_left(23) ^ payload.len() as u64;
        let words = payload.chunks_exact(8);
        let tail = words.remainder();
        for word in words {
            let word: [u8; 8] = word.try_into().expect("chunks_exact(8)");
            h = (h ^ u64::from_le_bytes(word)).wrapping_mul(K);
        }
        for &byte in tail {
            h = (h ^ u64::from(byte)).wrapping_mul(K);
        }
        self.0 = h;
    }
}

/// The `i`th proposal's payload: `len` bytes that differ from every other
/// proposal's (the index is in the first 8 bytes, the rest is a pseudo-random
/// fill seeded by it).
pub fn payload(i: usize, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 8);
    out.extend_from_slice(&(i as u64).to_le_bytes());
    let mut state = i as u64;
    while out.len() < len {
        // splitmix64
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        out.extend_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// What one timed run produced, with what is needed to check it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The library.
    pub library: &'static str,
    /// The workload that ran.
    pub workload: Workload,
    /// From the first proposal until every payload was applied on every node.
    pub elapsed: Duration,
    /// What each node applied.
    pub applied: [Applied; NODES],
    /// Each node's commit index at the end.
    pub commit_index: [u64; NODES],
    /// The checksum of the payloads proposed, in order.
    pub proposed: Checksum,
    /// Messages delivered during the timed part.
    pub messages: usize,
}

impl Outcome {
    /// Proposals committed and applied on all nodes, per second.
    pub fn entries_per_second(&self) -> f64 {
        self.workload.proposals as f64 / self.elapsed.as_secs_f64()
    }

    /// Checks that the run did the work: every node committed every proposal
    /// and applied exactly the payloads proposed, in the order proposed.
    pub fn verify(&self) -> Result<(), String> {
        for (node, (applied, &commit)) in self.applied.iter().zip(&self.commit_index).enumerate() {
            let id = node + 1;
            if applied.count != self.workload.proposals {
                return Err(format!(
                    "{}: node {id} applied {} payloads, expected {}",
                    self.library, applied.count, self.workload.proposals
                ));
            }
            if applied.checksum != self.proposed {
                return Err(format!(
                    "{}: node {id} applied other payloads than were proposed",
                    self.library
                ));
            }
            if commit < self.workload.proposals as u64 {
                return Err(format!(
                    "{}: node {id} commit index {commit} is below {} proposals",
                    self.library, self.workload.proposals
                ));
            }
        }
        Ok(())
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} entries in {:.3} s = {:.0} entries/s, {} messages",
            self.library,
            self.workload.proposals,
            self.elapsed.as_secs_f64(),
            self.entries_per_second(),
            self.messages
        )
    }
}

/// Rounds in a row with nothing to do, after which the run is declared stuck
/// (a heartbeat is sent on each of them, so a live cluster never reaches it).
const IDLE_ROUNDS_MAX: usize = 100;

/// Builds an `H` cluster, elects its leader, makes the payloads, then times
/// [`drive`]: from the first proposal until every node applied every payload.
pub fn run<H: Harness>(workload: &Workload) -> Result<Outcome, BoxError> {
    let mut cluster = H::elect(workload)?;
    let payloads: Vec<Vec<u8>> = (0..workload.proposals)
        .map(|i| payload(i, workload.payload_len))
        .collect();
    let mut proposed = Checksum::default();
    for p in &payloads {
        proposed.add(p);
    }

    let delivered_before = cluster.delivered();
    let start = Instant::now();
    drive(&mut cluster, payloads, workload)?;
    let elapsed = start.elapsed();

    Ok(Outcome {
        library: H::NAME,
        workload: *workload,
        elapsed,
        applied: std::array::from_fn(|n| *cluster.applied(n)),
        commit_index: std::array::from_fn(|n| cluster.commit_index(n)),
        proposed,
        messages: cluster.delivered() - delivered_before,
    })
}

/// The timed part of [`run`]: the client tops the window up, the cluster runs
/// one [`Harness::round`], and so on until every node applied every payload.
/// When a round finds nothing to do before that (followers not yet told the
/// final commit index), the leader sends a heartbeat.
///
/// Never inlined, so that a profiler can count exactly this part:
/// `valgrind --tool=callgrind --toggle-collect='ruft_bench::drive*' ...`.
#[inline(never)]
pub fn drive<H: Harness>(
    cluster: &mut H,
    payloads: Vec<Vec<u8>>,
    workload: &Workload,
) -> Result<(), BoxError> {
    let mut pending = payloads.into_iter();
    let mut sent = 0;
    let mut idle = 0;
    // Bounded: each pass either proposes, makes progress, or counts an idle round.
    while (0..NODES).any(|n| cluster.applied(n).count < workload.proposals) {
        while sent - cluster.applied(0).count < workload.window {
            let Some(p) = pending.next() else { break };
            cluster.propose(p)?;
            sent += 1;
        }
        if cluster.round()? {
            idle = 0;
        } else {
            idle += 1;
            if idle > IDLE_ROUNDS_MAX {
                return Err(format!("{}: stuck after {sent} proposals", H::NAME).into());
            }
            cluster.heartbeat()?;
        }
    }
    Ok(())
}

/// Runs `H` once and checks the outcome (panics if the run failed or did not
/// do the work, so a benchmark cannot pass by doing nothing).
pub fn run_verified<H: Harness>(workload: &Workload) -> Outcome {
    let outcome = run::<H>(workload).unwrap_or_else(|e| panic!("{}: {e}", H::NAME));
    if let Err(e) = outcome.verify() {
        panic!("{e}");
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_differ_and_have_the_asked_length() {
        assert_eq!(payload(7, 128).len(), 128);
        assert_eq!(payload(7, 3).len(), 3);
        assert_ne!(payload(1, 128), payload(2, 128));
    }

    #[test]
    fn the_checksum_sees_order_and_content() {
        let sum = |ps: &[Vec<u8>]| {
            let mut c = Checksum::default();
            ps.iter().for_each(|p| c.add(p));
            c
        };
        let (a, b) = (payload(1, 128), payload(2, 128));
        assert_ne!(sum(&[a.clone(), b.clone()]), sum(&[b.clone(), a.clone()]));
        let mut flipped = b.clone();
        flipped[100] ^= 1;
        assert_ne!(sum(&[a.clone(), b]), sum(&[a, flipped]));
    }

    /// A workload small enough for a unit test, with a window larger than the
    /// in-flight limit so that both libraries batch and pause.
    fn small() -> Workload {
        Workload {
            proposals: 3_000,
            window: 700,
            ..Workload::default()
        }
    }

    #[test]
    fn both_libraries_apply_every_payload_on_every_node() {
        for outcome in [
            run::<ruft_cluster::RuftCluster>(&small()).unwrap(),
            run::<raft_rs_cluster::RaftRsCluster>(&small()).unwrap(),
            run::<raft_rs_cluster::RaftRsBcastCluster>(&small()).unwrap(),
            run::<raft_rs_cluster::RaftRsBatchCluster>(&small()).unwrap(),
        ] {
            assert_eq!(outcome.verify(), Ok(()), "{}", outcome.library);
            assert!(
                outcome.commit_index.iter().all(|&c| c == 3_001),
                "{outcome:?}"
            );
        }
    }

    #[test]
    fn verify_refuses_a_run_that_lost_or_changed_a_payload() {
        let good = run::<ruft_cluster::RuftCluster>(&small()).unwrap();
        let mut short = good.clone();
        short.applied[2].count -= 1;
        assert!(short.verify().unwrap_err().contains("node 3 applied 2999"));
        let mut changed = good;
        changed.applied[1].checksum.add(b"x");
        assert!(changed.verify().unwrap_err().contains("other payloads"));
    }
}
