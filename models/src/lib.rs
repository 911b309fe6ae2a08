//! # ruft-models: the verification harness for ruft
//!
//! - [`properties`]: the Raft safety properties, one implementation for every engine;
//! - [`driver`]: a deterministic in-process cluster of real nodes (proptest,
//!   scenarios, examples);
//! - [`model`]: the same nodes as a stateright actor model, explored exhaustively
//!   by the `check` binary;
//! - [`random`]: random event sequences through a cluster, shared by the
//!   proptest suites and the mutant gate;
//! - [`coverage`]: which of ruft's code probes a search reached (`check --coverage`).

pub mod budget;
pub mod clients;
pub mod config;
pub mod coverage;
pub mod display;
pub mod driver;
pub mod explain;
pub mod html;
pub mod hunt;
pub mod intern;
pub mod interrupt;
pub mod machine;
pub mod membership;
pub mod memo;
pub mod model;
pub mod mutants;
pub mod properties;
pub mod random;
pub mod report;
pub mod search;
pub mod serve;
pub mod shard;
pub mod shortest;
pub mod step_cache;
mod symmetry;
pub mod walk;
