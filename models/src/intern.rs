//! Hash-consing of node states: equal node states, reached along different
//! paths, are kept once.
//!
//! A node's next state depends on its own state and the event only, so the
//! same node state turns up in many global states that differ elsewhere
//! (node 1 handles the same vote request whatever node 3 is doing). Without
//! sharing, BFS keeps one copy per global state in its frontier. With it,
//! every global state holds an `Arc` to the one copy. Nothing is merged that
//! is not equal: a hit is checked with `==`, not by its hash alone, so the
//! states explored are exactly those of the plain model.
//!
//! The table holds weak references: a node state no pending or stored state
//! refers to any more is freed as before. Each shard sweeps its dead entries
//! when it has doubled since its last sweep, so the table stays within twice
//! the live node states.

use crate::model::NodeState;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

/// Shards of the table: two workers rarely wait on one lock.
const SHARDS: usize = 64;

/// A table of the node states alive in the search, by fingerprint.
pub struct Interner {
    shards: Vec<Mutex<Shard>>,
}

impl Default for Interner {
    fn default() -> Self {
        Interner {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }
}

#[derive(Default)]
struct Shard {
    states: HashMap<u64, Weak<NodeState>>,
    /// Entries after the last sweep.
    swept_len: usize,
}

impl Interner {
    /// The one shared copy of `state`'s value: an equal state already in the
    /// table, or `state` itself, which is then entered.
    pub fn intern(&self, state: Arc<NodeState>) -> Arc<NodeState> {
        let fp = state.fingerprint();
        let mut shard = match self.shards[(fp as usize) % SHARDS].lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(known) = shard.states.get(&fp).and_then(Weak::upgrade) {
            if Arc::ptr_eq(&known, &state) || *known == *state {
                return known;
            }
            // A different state with the same hash: keep both, unshared.
            return state;
        }
        shard.states.insert(fp, Arc::downgrade(&state));
        if shard.states.len() > 2 * shard.swept_len.max(1024) {
            shard.states.retain(|_, w| w.strong_count() > 0);
            shard.swept_len = shard.states.len();
        }
        state
    }
}
