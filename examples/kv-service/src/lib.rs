//! ruft-kv: a replicated key-value service on ruft, one process per node.
//!
//! - [`storage::RedbStorage`]: a durable `LogStorage` on redb, one
//!   transaction per Ready.
//! - [`wire`]: length-prefixed postcard frames carrying ruft `Message`s
//!   (ruft's `serde` feature) and client requests.
//! - [`server`]: a node: the application loop over TCP, the KV state
//!   machine of `ruft-kv` (sessions, snapshots), linearizable reads.
//! - [`client`]: a client that finds the leader and retries safely.
//! - [`bench`](mod@bench): concurrent clients measuring throughput and latency.
//!
//! The `ruft-kv` binary puts them on the command line; see this crate's
//! README for the two commands that start a cluster and run a workload.

pub mod bench;
pub mod client;
pub mod server;
pub mod storage;
pub mod wire;

use std::net::SocketAddr;

/// The addresses of a local cluster of `nodes` on loopback from `base_port`.
pub fn local_cluster(nodes: usize, base_port: u16) -> Vec<SocketAddr> {
    (0..nodes)
        .map(|i| SocketAddr::from(([127, 0, 0, 1], base_port + i as u16)))
        .collect()
}
