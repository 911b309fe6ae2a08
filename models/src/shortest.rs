//! Counterexamples at their shortest: an exact, level-by-level search for
//! the shortest path to a state that breaks a property, under a budget, and
//! the plain twin of a path of the symmetry-reduced model.
//!
//! stateright's BFS does not visit states in strict level order (its threads
//! share work in blocks and drift to different depths), so the path it
//! records for a discovery is often far from the shortest (trap 5 of the
//! stateright notes); `report::Counterexample::settle` shortens it here.

use crate::model::{Action, RuftModel, State};
use crate::search::{memory_now, memory_over, Progress};
use crate::shard::fingerprint;
use stateright::{Model, Path};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// A shortest path from an initial state to a state where `holds` is false,
/// searching level by level no deeper than `depth_max` actions. Single
/// threaded and exact: the first level holding such a state is the shortest.
/// No limit on time or memory: see [`shortest_path_within`] for a budget.
pub fn shortest_path(
    model: &RuftModel,
    holds: impl Fn(&State) -> bool,
    depth_max: usize,
) -> Option<Path<State, Action>> {
    shortest_path_within(model, holds, depth_max, &Budget::default(), |_| {})
        .expect("an unlimited budget is never exhausted")
}

/// What the level-by-level search may spend.
#[derive(Clone, Debug, Default)]
pub struct Budget {
    /// Wall-clock time.
    pub timeout: Option<Duration>,
    /// Resident memory of the process, in bytes.
    pub memory_max: Option<u64>,
    /// How often the progress callback is called.
    pub progress_every: Option<Duration>,
}

/// [`shortest_path`] under a [`Budget`]: `Err(why)` when the budget ran out
/// first, `Ok(None)` when no state within `depth_max` violates `holds`.
/// `progress` receives the figures so far (depth = the level being expanded).
pub fn shortest_path_within(
    model: &RuftModel,
    holds: impl Fn(&State) -> bool,
    depth_max: usize,
    budget: &Budget,
    mut progress: impl FnMut(Progress),
) -> Result<Option<Path<State, Action>>, String> {
    let start = Instant::now();
    let mut last_report = Instant::now();
    let mut states = 0usize;
    // fingerprint -> (parent fingerprint, the action that led here)
    let mut parents: HashMap<u64, Option<(u64, Action)>> = HashMap::new();
    let mut level: Vec<State> = Vec::new();
    for s in model.init_states() {
        if parents.insert(fingerprint(&s), None).is_none() {
            level.push(s);
        }
    }
    let mut actions = Vec::new();
    for depth in 0..=depth_max {
        if let Some(bad) = level.iter().find(|s| !holds(s)) {
            return Ok(Some(rebuild(model, &parents, fingerprint(bad))));
        }
        let mut next_level = Vec::new();
        for state in &level {
            if states % 1024 == 0 {
                let elapsed = start.elapsed();
                if budget.timeout.is_some_and(|t| elapsed >= t) {
                    return Err(format!("timeout after {:.0} s", elapsed.as_secs_f64()));
                }
                if crate::interrupt::requested() {
                    return Err(crate::interrupt::REASON.to_string());
                }
                if let Some(why) = memory_over(budget.memory_max) {
                    return Err(why);
                }
                if budget
                    .progress_every
                    .is_some_and(|every| last_report.elapsed() >= every)
                {
                    last_report = Instant::now();
                    progress(Progress {
                        states,
                        unique: parents.len(),
                        depth,
                        elapsed,
                        memory: memory_now(),
                    });
                }
            }
            let fp = fingerprint(state);
            actions.clear();
            model.actions(state, &mut actions);
            for action in actions.drain(..) {
                let Some(next) = model.next_state(state, action.clone()) else {
                    continue;
                };
                states += 1;
                if !model.within_boundary(&next) {
                    continue;
                }
                let nfp = fingerprint(&next);
                if let std::collections::hash_map::Entry::Vacant(e) = parents.entry(nfp) {
                    e.insert(Some((fp, action)));
                    next_level.push(next);
                }
            }
        }
        if next_level.is_empty() {
            return Ok(None);
        }
        level = next_level;
    }
    Ok(None)
}

/// The same run as `path` on the plain model `plain`, step for step: a path
/// of the symmetry-reduced model moves between namings of the nodes (each of
/// its states is a representative), so at every step this picks a plain
/// action whose next state is the recorded one up to a renaming. The result
/// has the same length and reads with one naming throughout. `None` only if
/// no plain action matches a step, which would mean the reduction is unsound.
pub fn plain_path(plain: &RuftModel, path: &Path<State, Action>) -> Option<Path<State, Action>> {
    let recorded: Vec<State> = path
        .clone()
        .into_vec()
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    let mut state = plain.init_states().into_iter().next()?;
    let mut taken = Vec::new();
    let mut actions = Vec::new();
    for target in recorded.iter().skip(1) {
        actions.clear();
        plain.actions(&state, &mut actions);
        let (action, next) = actions.drain(..).find_map(|a| {
            let next = plain.next_state(&state, a.clone())?;
            (plain.within_boundary(&next) && crate::symmetry::same_up_to_renaming(&next, target))
                .then_some((a, next))
        })?;
        taken.push(action);
        state = next;
    }
    let init = plain.init_states().into_iter().next()?;
    Path::from_actions(plain, init, &taken)
}

/// Replays the recorded actions from the initial state.
fn rebuild(
    model: &RuftModel,
    parents: &HashMap<u64, Option<(u64, Action)>>,
    mut fp: u64,
) -> Path<State, Action> {
    let mut actions = Vec::new();
    while let Some(Some((parent, action))) = parents.get(&fp) {
        actions.push(action.clone());
        fp = *parent;
    }
    actions.reverse();
    let init = model.init_states().remove(0);
    Path::from_actions(model, init, &actions).expect("recorded actions replay")
}
