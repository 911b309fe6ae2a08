//! # ruft
//!
//! A type-safe Raft core in the style of etcd's raft: a pure, deterministic
//! engine behind the [`Node`] API. ruft does no I/O. The application feeds it
//! ticks, messages and proposals, and carries out each [`Ready`]: persist,
//! then send, then apply, then [`Node::advance`].
//!
//! Every Raft number has its own type: [`NodeId`], [`Tick`], [`Index`], [`Term`].
//! Storage is read through the async [`LogStorage`] trait; [`MemStorage`] is the
//! in-memory implementation used by tests, examples and the model checker.
//!
//! See `docs/001-structure.md` for how the engine and the application divide the
//! work, and the `models/` package for the model-checked safety properties.
#![warn(missing_docs)]

/// `mutant!(config, Variant)`: whether that mutant is switched on in `config`
/// (see `mutant.rs`). Without the `mutants` feature it is the constant `false`.
#[cfg(feature = "mutants")]
macro_rules! mutant {
    ($config:expr, $m:ident) => {
        $config.mutant == Some($crate::Mutant::$m)
    };
}
#[cfg(not(feature = "mutants"))]
macro_rules! mutant {
    ($config:expr, $m:ident) => {
        false
    };
}
/// `sound!(config)`: whether the engine is the correct one (no mutant on), so
/// that its internal asserts apply. Always true without the `mutants` feature.
#[cfg(feature = "mutants")]
macro_rules! sound {
    ($config:expr) => {
        !$crate::mutant::any(&$config)
    };
}
#[cfg(not(feature = "mutants"))]
macro_rules! sound {
    ($config:expr) => {
        true
    };
}

/// `probe!(Variant)`: records a hit of that code probe (see `probe.rs`);
/// `probe!(Variant if cond)` records it when `cond` holds; `probe!(outcome
/// variant, result)` records the rejection or drop a step ended in. Without the
/// `probes` feature every form expands to nothing and evaluates nothing.
#[cfg(feature = "probes")]
macro_rules! probe {
    (outcome $variant:expr, $result:expr) => {
        $crate::probe::outcome($variant, $result)
    };
    ($p:ident if $cond:expr) => {
        if $cond {
            $crate::probe::hit($crate::probe::Probe::$p)
        }
    };
    ($p:ident) => {
        $crate::probe::hit($crate::probe::Probe::$p)
    };
}
#[cfg(not(feature = "probes"))]
macro_rules! probe {
    (outcome $variant:expr, $result:expr) => {};
    ($p:ident if $cond:expr) => {};
    ($p:ident) => {};
}

pub mod config;
mod context;
mod error;
pub mod log;
pub mod message;
#[cfg(feature = "mutants")]
pub mod mutant;
mod node;
mod outcome;
#[cfg(feature = "probes")]
pub mod probe;
pub mod progress;
pub mod read_only;
mod ready;
mod role;
pub mod state;
pub mod types;
pub mod utils;

pub use config::{Config, ReadMode};
pub use context::{election_timeout, Relabel};
pub use error::{Error, StorageError, StorageResult};
pub use log::entry::{Entry, EntryKey, EntryVariant, Index, Term};
pub use log::log_buffer::{AppendCase, LogBuffer};
pub use log::log_storage::{LogStorage, MemStorage};
pub use log::snapshot::{Snapshot, SnapshotMeta, SnapshotStatus};
pub use log::write_checks;
pub use log::LogView;
pub use message::{AppendOutcome, Message, MessageBody, MessageVariant, Staleness};
#[cfg(feature = "mutants")]
pub use mutant::Mutant;
pub use node::Node;
pub use outcome::{DropReason, Rejection, StepOutcome};
pub use progress::conf_change::{ConfChange, MemberChange};
pub use progress::joint::{Membership, MembershipError};
pub use progress::{Progress, ProgressState, Tracker};
pub use read_only::{ReadSeq, ReadState};
pub use ready::{Ready, ReadyToken, Status};
pub use role::Role;
pub use state::HardState;
pub use types::{NodeId, Tick};
