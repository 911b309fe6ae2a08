//! The results of node steps, kept and handed out again.
//!
//! A node's next state and what it sends depend on its own state and the
//! event only (the message delivered or the timer fired), never on the rest
//! of the cluster. A search meets the same node state with the same event in
//! many global states (n2 handles n1's vote request the same way whatever n3
//! is doing), and ran the whole step each time: clone the node, step it, take
//! and carry out its Readys, update its ghost, work out its timers. With
//! node states shared (`NodeState` is an `Arc`, and equal ones are one
//! allocation, `intern.rs`), a kept step costs a table lookup and a few
//! reference counts.
//!
//! Nothing is reused that was not computed for an equal input: a hit checks
//! the node state with `==` (pointers first) and the event with `==`, not by
//! hash alone, so the explored states are exactly those of the plain model
//! (`models/tests/sharing.rs` compares whole searches with and without it).
//!
//! The table is bounded: each of its shards is emptied when it reaches its
//! share of `capacity` entries. A kept step holds its node states alive, so
//! the bound is also a bound on the memory it can pin.

use crate::model::{ModelTimer, NodeState, RaftActor, Wire};
use stateright::actor::{Command, Id, Out};
use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::ops::Range;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Shards of the table: two workers rarely wait on one lock.
const SHARDS: usize = 64;

/// What a node is stepped with.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum StepEvent {
    /// A message delivered to actor `.0`.
    Deliver(Id, Wire),
    /// A timer of actor `.0` fired.
    Timeout(Id, ModelTimer),
}

/// A command a step gave stateright (the model uses these three only).
#[derive(Clone, Debug)]
enum Cmd {
    Send(Id, Wire),
    SetTimer(ModelTimer, Range<Duration>),
    CancelTimer(ModelTimer),
}

/// A step's result: the next state (`None`: unchanged) and its commands.
#[derive(Debug)]
pub struct Outcome {
    next: Option<NodeState>,
    commands: Vec<Cmd>,
}

impl Outcome {
    /// The result of a step that left `next` (if it changed) and gave the
    /// commands in `out`; `None` if a command is of a kind it cannot keep.
    pub fn record(next: Option<NodeState>, out: &Out<RaftActor>) -> Option<Outcome> {
        let commands = out
            .iter()
            .map(|c| match c {
                Command::Send(id, msg) => Some(Cmd::Send(*id, msg.clone())),
                Command::SetTimer(t, range) => Some(Cmd::SetTimer(*t, range.clone())),
                Command::CancelTimer(t) => Some(Cmd::CancelTimer(*t)),
                Command::ChooseRandom(..) | Command::Save(_) => None,
            })
            .collect::<Option<Vec<Cmd>>>()?;
        Some(Outcome { next, commands })
    }

    /// Gives stateright the same result again.
    pub fn replay(&self, state: &mut Cow<NodeState>, out: &mut Out<RaftActor>) {
        if let Some(next) = &self.next {
            *state = Cow::Owned(next.clone());
        }
        for c in &self.commands {
            match c {
                Cmd::Send(id, msg) => out.send(*id, msg.clone()),
                Cmd::SetTimer(t, range) => out.set_timer(*t, range.clone()),
                Cmd::CancelTimer(t) => out.cancel_timer(*t),
            }
        }
    }
}

struct Entry {
    before: NodeState,
    event: StepEvent,
    outcome: Arc<Outcome>,
}

#[derive(Default)]
struct Shard {
    entries: HashMap<u64, Entry>,
    hits: u64,
    misses: u64,
}

/// Kept step results, shared by every actor and worker of one model.
pub struct StepCache {
    shards: Vec<Mutex<Shard>>,
    shard_max: usize,
}

/// How often a step was found kept.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Steps handed out again.
    pub hits: u64,
    /// Steps run (and kept).
    pub misses: u64,
}

impl CacheStats {
    /// Hits over all lookups, in percent (0 before any).
    pub fn hit_percent(&self) -> f64 {
        let all = self.hits + self.misses;
        match all {
            0 => 0.0,
            _ => 100.0 * self.hits as f64 / all as f64,
        }
    }
}

impl StepCache {
    /// A table of at most `capacity` steps (at least one per shard).
    pub fn new(capacity: usize) -> StepCache {
        StepCache {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            shard_max: (capacity / SHARDS).max(1),
        }
    }

    fn key(before: &NodeState, event: &StepEvent) -> u64 {
        let mut h = crate::memo::hasher();
        h.write_u64(before.fingerprint());
        event.hash(&mut h);
        h.finish()
    }

    fn shard(&self, key: u64) -> std::sync::MutexGuard<'_, Shard> {
        match self.shards[(key as usize) % SHARDS].lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// The kept result of stepping `before` with `event`, if there is one.
    pub fn get(&self, before: &NodeState, event: &StepEvent) -> Option<Arc<Outcome>> {
        let key = Self::key(before, event);
        let mut shard = self.shard(key);
        let found = shard
            .entries
            .get(&key)
            .filter(|e| e.event == *event && e.before == *before)
            .map(|e| Arc::clone(&e.outcome));
        match found {
            Some(_) => shard.hits += 1,
            None => shard.misses += 1,
        }
        found
    }

    /// Keeps the result of stepping `before` with `event`.
    pub fn put(&self, before: NodeState, event: StepEvent, outcome: Outcome) {
        let key = Self::key(&before, &event);
        let mut shard = self.shard(key);
        if shard.entries.len() >= self.shard_max {
            shard.entries.clear();
        }
        let outcome = Arc::new(outcome);
        shard.entries.insert(
            key,
            Entry {
                before,
                event,
                outcome,
            },
        );
    }

    /// Hits and misses so far.
    pub fn stats(&self) -> CacheStats {
        let mut stats = CacheStats::default();
        for shard in &self.shards {
            let shard = match shard.lock() {
                Ok(guard) => guard,
                Err(poisoned) => poisoned.into_inner(),
            };
            stats.hits += shard.hits;
            stats.misses += shard.misses;
        }
        stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hit_percent_is_hits_over_lookups() {
        assert_eq!(CacheStats::default().hit_percent(), 0.0);
        let s = CacheStats { hits: 3, misses: 1 };
        assert_eq!(s.hit_percent(), 75.0);
    }
}
