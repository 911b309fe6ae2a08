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
//! The table is bounded ([`Kept`]): each of its shards is emptied when it
//! reaches its share of `capacity` entries. A kept step holds its node states alive, so
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

/// How often a kept value was found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Values handed out again.
    pub hits: u64,
    /// Values looked for and not found (then computed and kept).
    pub misses: u64,
}

#[derive(Default)]
struct Shard<E> {
    entries: HashMap<u64, E>,
    stats: CacheStats,
}

/// A bounded table of entries by 64-bit key, sharded so that two workers
/// rarely wait on one lock; each shard is emptied when it reaches its share
/// of the capacity. The caller checks that a found entry is the one it
/// looked for (a key is a hash). Used for kept steps and kept renamings.
pub struct Kept<E> {
    shards: Vec<Mutex<Shard<E>>>,
    shard_max: usize,
}

impl<E> Kept<E> {
    /// A table of at most `capacity` entries (at least one per shard).
    pub fn new(capacity: usize) -> Kept<E> {
        Kept {
            shards: (0..SHARDS)
                .map(|_| {
                    Mutex::new(Shard {
                        entries: HashMap::new(),
                        stats: CacheStats::default(),
                    })
                })
                .collect(),
            shard_max: (capacity / SHARDS).max(1),
        }
    }

    fn shard(&self, key: u64) -> std::sync::MutexGuard<'_, Shard<E>> {
        match self.shards[(key as usize) % SHARDS].lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// What `hit` makes of the entry kept under `key`, if there is one and
    /// `hit` accepts it; counts a hit or a miss.
    pub fn find<R>(&self, key: u64, hit: impl FnOnce(&E) -> Option<R>) -> Option<R> {
        let mut shard = self.shard(key);
        let found = shard.entries.get(&key).and_then(hit);
        match found {
            Some(_) => shard.stats.hits += 1,
            None => shard.stats.misses += 1,
        }
        found
    }

    /// Keeps `entry` under `key` (emptying its shard first if it is full).
    pub fn put(&self, key: u64, entry: E) {
        let mut shard = self.shard(key);
        if shard.entries.len() >= self.shard_max {
            shard.entries.clear();
        }
        shard.entries.insert(key, entry);
    }

    /// Hits and misses so far.
    pub fn stats(&self) -> CacheStats {
        let mut stats = CacheStats::default();
        for shard in &self.shards {
            let shard = match shard.lock() {
                Ok(guard) => guard,
                Err(poisoned) => poisoned.into_inner(),
            };
            stats.hits += shard.stats.hits;
            stats.misses += shard.stats.misses;
        }
        stats
    }
}

/// Kept step results, shared by every actor and worker of one model.
pub struct StepCache(Kept<Entry>);

impl StepCache {
    /// A table of at most `capacity` steps.
    pub fn new(capacity: usize) -> StepCache {
        StepCache(Kept::new(capacity))
    }

    fn key(before: &NodeState, event: &StepEvent) -> u64 {
        let mut h = crate::memo::hasher();
        h.write_u64(before.fingerprint());
        event.hash(&mut h);
        h.finish()
    }

    /// The kept result of stepping `before` with `event`, if there is one.
    pub fn get(&self, before: &NodeState, event: &StepEvent) -> Option<Arc<Outcome>> {
        self.0.find(Self::key(before, event), |e| {
            (e.event == *event && e.before == *before).then(|| Arc::clone(&e.outcome))
        })
    }

    /// Keeps the result of stepping `before` with `event`.
    pub fn put(&self, before: NodeState, event: StepEvent, outcome: Outcome) {
        let key = Self::key(&before, &event);
        let outcome = Arc::new(outcome);
        self.0.put(
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
        self.0.stats()
    }
}
