//! One exhaustive search split into independent parts (`check bfs|dfs
//! --shard i/n`), for machines that do not share memory.
//!
//! Every part first explores, breadth first and on one thread, the states
//! closer to the start than the *split depth*: the first level with at least
//! [`ROOTS_PER_PART`] states per part. That prefix is deterministic, so every
//! part computes the same one, and every part checks the properties on all
//! of it (it is small). The states of the split level, the *roots*, are
//! dealt out to the parts, and each part hands its roots to stateright as
//! the initial states of a complete search.
//!
//! **The union of the parts is the whole search.** Take any state `s` the
//! unsplit search reaches, and a shortest path to it. If it is shorter than
//! the split depth, `s` is in the prefix, which every part checks. Otherwise
//! the path's state at the split depth is at that distance from the start
//! and no closer (a shorter way there would shorten the path to `s`), so it
//! is a root, and the part that owns it reaches `s`. Bounds (the model's
//! `within_boundary`) apply to the prefix as to the search.
//!
//! **Parts overlap**: a state reachable from roots of two parts is explored
//! by both. Interleavings of a Raft cluster converge (two deliveries to
//! different nodes commute), so roots dealt out one by one share most of
//! their descendants: each of 4 parts explored 70-80 % of the whole space.
//! Roots are therefore dealt out by *history*: the votes cast and the terms
//! led, as the ghosts record them, which only grow along a path, so roots
//! with different histories lead to states that differ. Roots with one
//! history go to one part, histories largest first to the least loaded
//! part. With 4 parts of the default 3-node search the parts' states add up
//! to 1.28x the whole (docs/performance.md).
//!
//! `--fingerprints FILE` writes the fingerprint of every state a part
//! checked; `check merge` counts the distinct ones across parts, which
//! equals the unsplit search's unique-state count.

use crate::model::{Action, RuftModel, State};
use stateright::{Expectation, Model, Path};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

/// Roots per part the split level must hold at least (unless the space ends
/// sooner): enough that dealing them out evens the parts.
pub const ROOTS_PER_PART: usize = 512;

/// Deepest split level: the prefix is explored on one thread and kept whole.
pub const SPLIT_DEPTH_MAX: usize = 24;

/// Part `index` (counted from 0) of `count`; written `i/n` with `i` counted
/// from 1 on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// Which part, from 0.
    pub index: usize,
    /// How many parts.
    pub count: usize,
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("`{s}` is not a part like 2/4 (part 2 of 4, counted from 1)");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (i, n): (usize, usize) = (
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if n == 0 || i == 0 || i > n {
            return Err(bad());
        }
        Ok(Shard {
            index: i - 1,
            count: n,
        })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index + 1, self.count)
    }
}

/// The fingerprint of a whole state, the same in every run of one build
/// (what `--fingerprints` records and `check merge` compares).
pub fn fingerprint(state: &State) -> u64 {
    let mut h = crate::memo::hasher();
    state.hash(&mut h);
    h.finish()
}

/// What has happened so far, as the ghosts record it (votes cast, terms
/// led): it only grows along a path.
fn history_key(state: &State) -> u64 {
    let mut h = crate::memo::hasher();
    for st in &state.actor_states {
        (&st.ghost.votes, &st.ghost.led).hash(&mut h);
    }
    h.finish()
}

/// A state and the actions that lead to it from the initial state.
pub type Reached = (State, Vec<Action>);

/// The prefix and the roots of a split search.
pub struct Split {
    /// States closer to the start than `depth`, each with its path.
    pub prefix: Vec<Reached>,
    /// Every part's roots: the states at `depth`, in discovery order.
    pub roots: Vec<Reached>,
    /// The split level.
    pub depth: usize,
    /// States generated while exploring the prefix (with repeats).
    pub generated: usize,
}

impl Split {
    /// Explores `model` breadth first, one level at a time, until a level
    /// holds at least [`ROOTS_PER_PART`] states for each of `parts`, the
    /// space ends, or [`SPLIT_DEPTH_MAX`] is reached.
    pub fn new(model: &RuftModel, parts: usize) -> Split {
        let mut seen = HashSet::new();
        let mut level: Vec<Reached> = model
            .init_states()
            .into_iter()
            .filter(|s| model.within_boundary(s) && seen.insert(fingerprint(s)))
            .map(|s| (s, Vec::new()))
            .collect();
        let (mut prefix, mut depth, mut generated) = (Vec::new(), 0, level.len());
        let mut actions = Vec::new();
        while !level.is_empty() && level.len() < ROOTS_PER_PART * parts && depth < SPLIT_DEPTH_MAX {
            let mut next = Vec::new();
            for (state, path) in &level {
                model.actions(state, &mut actions);
                for action in actions.drain(..) {
                    let Some(after) = model.next_state(state, action.clone()) else {
                        continue;
                    };
                    if !model.within_boundary(&after) {
                        continue;
                    }
                    generated += 1;
                    if seen.insert(fingerprint(&after)) {
                        let mut to = path.clone();
                        to.push(action);
                        next.push((after, to));
                    }
                }
            }
            prefix.append(&mut level);
            level = next;
            depth += 1;
        }
        debug_assert!(
            prefix.len() + level.len() == seen.len(),
            "every state found is in the prefix or a root, once"
        );
        Split {
            prefix,
            roots: level,
            depth,
            generated,
        }
    }

    /// The roots part `shard` explores: root `k` goes to part `k mod n`.
    pub fn roots_of(&self, shard: Shard) -> impl Iterator<Item = &Reached> {
        let owner = self.owners(shard.count);
        self.roots
            .iter()
            .filter(move |(s, _)| owner.get(&history_key(s)) == Some(&shard.index))
    }

    /// Which part explores the roots of each history: histories, largest
    /// first, each to the part with the fewest roots so far (ties to the
    /// lowest part). Deterministic, so every part computes the same owners.
    fn owners(&self, parts: usize) -> HashMap<u64, usize> {
        let mut sizes: HashMap<u64, usize> = HashMap::new();
        for (s, _) in &self.roots {
            *sizes.entry(history_key(s)).or_default() += 1;
        }
        let mut groups: Vec<(u64, usize)> = sizes.into_iter().collect();
        groups.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut load = vec![0usize; parts.max(1)];
        let mut owner = HashMap::new();
        for (key, size) in groups {
            let part = (0..load.len()).min_by_key(|&p| (load[p], p)).unwrap_or(0);
            load[part] += size;
            owner.insert(key, part);
        }
        owner
    }
}

/// What the properties say of the prefix.
#[derive(Default)]
pub struct PrefixCheck {
    /// Always properties violated in the prefix, each with its path (the
    /// first state met that violates it).
    pub violations: Vec<(&'static str, Path<State, Action>)>,
    /// Sometimes properties with a witness in the prefix.
    pub reached: HashSet<&'static str>,
}

/// Checks every property of `model` on every prefix state, as stateright
/// checks a state it explores.
pub fn check_prefix(model: &RuftModel, prefix: &[Reached]) -> PrefixCheck {
    let mut out = PrefixCheck::default();
    let properties = model.properties();
    let init = model.init_states();
    for (state, path) in prefix {
        for p in &properties {
            let holds = (p.condition)(model, state);
            match p.expectation {
                Expectation::Always
                    if !holds && out.violations.iter().all(|(name, _)| *name != p.name) =>
                {
                    // The model is deterministic: the path the prefix
                    // search took replays.
                    let path = init
                        .iter()
                        .find_map(|i| Path::from_actions(model, i.clone(), path))
                        .expect("a prefix path replays from an initial state");
                    out.violations.push((p.name, path));
                }
                Expectation::Sometimes if holds => {
                    out.reached.insert(p.name);
                }
                _ => {}
            }
        }
    }
    out
}

/// Turns paths found from a part's roots into paths from the initial state.
pub struct Rejoin {
    to_root: HashMap<u64, Vec<Action>>,
}

impl Rejoin {
    /// For the roots `mine`.
    pub fn new<'a>(mine: impl Iterator<Item = &'a Reached>) -> Rejoin {
        Rejoin {
            to_root: mine
                .map(|(root, path)| (fingerprint(root), path.clone()))
                .collect(),
        }
    }

    /// `found`, which starts at one of the roots, as a path from an initial
    /// state of `plain` (the model without roots, reduced or not as the
    /// search was). `None` if it starts elsewhere.
    pub fn rejoin(
        &self,
        plain: &RuftModel,
        found: &Path<State, Action>,
    ) -> Option<Path<State, Action>> {
        let steps = found.clone().into_vec();
        let root = &steps.first()?.0;
        let mut actions = self.to_root.get(&fingerprint(root))?.clone();
        actions.extend(steps.into_iter().filter_map(|(_, a)| a));
        plain
            .init_states()
            .into_iter()
            .find_map(|i| Path::from_actions(plain, i, &actions))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_written_from_one() {
        let s: Shard = "2/4".parse().unwrap();
        assert_eq!(s, Shard { index: 1, count: 4 });
        assert_eq!(s.to_string(), "2/4");
        for bad in ["0/4", "5/4", "1/0", "2", "a/b", "-1/3"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn roots_are_dealt_out_once_each() {
        let model = RuftModel::new(crate::model::ModelConfig::default());
        let split = Split::new(&model, 3);
        assert!(
            split.roots.len() >= 3 * ROOTS_PER_PART,
            "the default model has room"
        );
        let mut dealt: Vec<u64> = (0..3)
            .flat_map(|i| {
                split
                    .roots_of(Shard { index: i, count: 3 })
                    .map(|(s, _)| fingerprint(s))
                    .collect::<Vec<_>>()
            })
            .collect();
        dealt.sort_unstable();
        dealt.dedup();
        assert_eq!(dealt.len(), split.roots.len());
        for (state, path) in split.roots.iter().chain(&split.prefix).take(50) {
            assert!(path.len() <= split.depth);
            let replayed = Path::from_actions(&model, model.init_states().remove(0), path);
            assert_eq!(
                replayed.map(|p| fingerprint(p.last_state())),
                Some(fingerprint(state))
            );
        }
    }
}
