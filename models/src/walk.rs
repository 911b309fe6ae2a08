//! Random walks over the model, reproducible by seed: `check simulate` and
//! the swarm of `check hunt`. A violation is replayed from the initial state
//! and confirmed before it is reported (stateright's own simulation paths can
//! be wrong, trap 6 of the stateright notes).

use crate::model::{Action, RuftModel, State};
use crate::properties::{self, Expect};
use stateright::{Model, Path};
use std::time::{Duration, Instant};

/// The result of random walks.
#[derive(Clone, Debug)]
pub struct Walks {
    /// Walks run.
    pub runs: usize,
    /// Steps taken in all.
    pub steps: usize,
    /// The first confirmed violation: property name and the walk that shows it.
    pub violation: Option<(&'static str, Path<State, Action>)>,
    /// Sometimes properties seen at least once.
    pub reached: Vec<&'static str>,
    /// Whether a signal stopped the walks early ([`crate::interrupt`]).
    pub interrupted: bool,
}

/// Random walks from the initial state, reproducible from `seed`: at each step
/// one enabled action within the bounds is chosen uniformly, for at most
/// `steps_max` steps. Every state is checked; a violation is replayed from the
/// initial state and confirmed before it is reported.
pub fn simulate(
    model: &RuftModel,
    seed: u64,
    runs_max: usize,
    time_max: Option<Duration>,
    steps_max: usize,
) -> Walks {
    use rand::{RngExt, SeedableRng};
    let start = Instant::now();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut walks = Walks {
        runs: 0,
        steps: 0,
        violation: None,
        reached: Vec::new(),
        interrupted: false,
    };
    while walks.runs < runs_max && time_max.is_none_or(|t| start.elapsed() < t) {
        if crate::interrupt::requested() {
            walks.interrupted = true;
            break;
        }
        walks.runs += 1;
        let mut state = model.init_states().remove(0);
        let mut taken: Vec<Action> = Vec::new();
        for _ in 0..steps_max {
            for p in properties::enabled(model.cfg.features()) {
                let ok = p.holds(&crate::model::observe(&state));
                match p.expect() {
                    Expect::Always if !ok => {
                        let init = model.init_states().remove(0);
                        let path = Path::from_actions(model, init, &taken);
                        let confirmed = path
                            .as_ref()
                            .is_some_and(|p2| !p.holds(&crate::model::observe(p2.last_state())));
                        if let (true, Some(path)) = (confirmed, path) {
                            walks.violation = Some((p.name, path));
                            return walks;
                        }
                    }
                    Expect::Sometimes if ok && !walks.reached.contains(&p.name) => {
                        walks.reached.push(p.name)
                    }
                    _ => {}
                }
            }
            let mut options = successors(model, &state);
            if options.is_empty() {
                break;
            }
            let (action, next) = options.swap_remove(rng.random_range(0..options.len()));
            taken.push(action);
            state = next;
            walks.steps += 1;
        }
    }
    walks
}

/// Every action enabled in `state` with its next state, within the bounds.
pub fn successors(model: &RuftModel, state: &State) -> Vec<(Action, State)> {
    let mut actions: Vec<Action> = Vec::new();
    model.actions(state, &mut actions);
    actions
        .into_iter()
        .filter_map(|a| model.next_state(state, a.clone()).map(|s| (a, s)))
        .filter(|(_, s)| model.within_boundary(s))
        .collect()
}

/// `runs` random walks of at most `steps_max` steps from the initial state,
/// reproducible from `seed`, calling `visit` with each step's state before
/// and after: the tests' way to look at many reachable states cheaply.
pub fn visit_walks(
    model: &RuftModel,
    seed: u64,
    runs: usize,
    steps_max: usize,
    mut visit: impl FnMut(&State, &State),
) {
    use rand::{RngExt, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    for _ in 0..runs {
        let mut state = model.init_states().remove(0);
        for _ in 0..steps_max {
            let mut options = successors(model, &state);
            if options.is_empty() {
                break;
            }
            let (_, next) = options.swap_remove(rng.random_range(0..options.len()));
            visit(&state, &next);
            state = next;
        }
    }
}

/// The state after the first action enabled in `state` whose printed form
/// (`display::action`) starts with `what`, if there is one: a walk by hand,
/// for tests that read as transcripts.
pub fn take(model: &RuftModel, state: &State, what: &str) -> Option<State> {
    let mut actions: Vec<Action> = Vec::new();
    model.actions(state, &mut actions);
    let action = actions
        .into_iter()
        .find(|a| crate::display::action(a).starts_with(what))?;
    model.next_state(state, action)
}
