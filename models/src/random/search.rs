//! [`cases_to_failure`]: how many random cases until the safety check fails,
//! from a fixed seed, for the mutant gate.

use super::{
    case_with, client_case_with, minimize, run_safety, voters_mix, Case, Failure, Kind, EVENTS_MAX,
};
use proptest::prelude::*;
use proptest::strategy::Union;
use proptest::test_runner::{
    Config as ProptestConfig, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner,
};
use ruft::Config;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::ops::RangeInclusive;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

/// The cluster sizes of a search.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Voters {
    /// The suites' mix ([`voters_mix`]: 1, 3 or 5, weighted 1 : 4 : 3),
    /// without the sizes below `voters_min`.
    Mix,
    /// Always this many.
    Fixed(usize),
}

impl Voters {
    /// The sizes as a strategy; none below `voters_min`.
    pub fn strategy(self, voters_min: usize) -> BoxedStrategy<usize> {
        match self {
            Voters::Fixed(n) => Just(n.max(voters_min)).boxed(),
            Voters::Mix if voters_min <= 1 => voters_mix().boxed(),
            Voters::Mix => {
                let sizes: Vec<(u32, BoxedStrategy<usize>)> = [(1, 1), (4, 3), (3, 5)]
                    .into_iter()
                    .filter(|&(_, n)| n >= voters_min)
                    .map(|(weight, n)| (weight, Just(n).boxed()))
                    .collect();
                if sizes.is_empty() {
                    Just(voters_min).boxed()
                } else {
                    Union::new_weighted(sizes).boxed()
                }
            }
        }
    }
}

/// What [`cases_to_failure`] runs.
#[derive(Clone)]
pub struct FailureSearch {
    /// Applied to every node's [`Config`] after the suite's own settings
    /// (see [`super::Run::new`]), for example to switch a mutant on.
    pub configure: Arc<dyn Fn(&mut Config) + Send + Sync>,
    /// The cluster sizes.
    pub voters: Voters,
    /// The fewest voters a case has, and the fewest [`minimize`] tries.
    pub voters_min: usize,
    /// Events per case.
    pub events: RangeInclusive<usize>,
    /// Cases to run before giving up.
    pub cases_max: u32,
    /// proptest's shrinking steps before [`minimize`] takes over.
    pub shrink_iters_max: u32,
    /// Seeds proptest's generator: the same search from the same seed runs
    /// the same cases.
    pub seed: u64,
    /// Client operations among the events ([`super::client_event`]), for
    /// bugs only a client's history shows.
    pub clients: bool,
}

impl Default for FailureSearch {
    /// The safety suite's cases (sizes 1, 3 and 5, 1 to [`EVENTS_MAX`]
    /// events, 10,000 cases, 20,000 shrinking steps) on unchanged nodes, from
    /// seed 0.
    fn default() -> FailureSearch {
        FailureSearch {
            configure: Arc::new(|_| {}),
            voters: Voters::Mix,
            voters_min: 1,
            events: 1..=EVENTS_MAX,
            cases_max: 10_000,
            shrink_iters_max: 20_000,
            seed: 0,
            clients: false,
        }
    }
}

impl fmt::Debug for FailureSearch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FailureSearch")
            .field("voters", &self.voters)
            .field("voters_min", &self.voters_min)
            .field("events", &self.events)
            .field("cases_max", &self.cases_max)
            .field("shrink_iters_max", &self.shrink_iters_max)
            .field("seed", &self.seed)
            .field("clients", &self.clients)
            .finish_non_exhaustive()
    }
}

/// The first failing case of a search.
#[derive(Clone, Debug)]
pub struct Found {
    /// Its number, from 1: the cases before it passed.
    pub case: u32,
    /// How it failed, as generated (before shrinking).
    pub first: Failure,
    /// The case shrunk by proptest and then by [`minimize`], failing the same
    /// way ([`Kind::same_as`]) as `first`.
    pub minimal: Case,
    /// How `minimal` fails; its text is the minimal transcript.
    pub failure: Failure,
}

impl Found {
    /// The Always properties the minimal case violates; empty if it fails
    /// some other way (see [`Found::failure`]'s kind).
    pub fn violated(&self) -> &[&'static str] {
        self.failure.kind.violated()
    }

    /// The minimal case's event count.
    pub fn events(&self) -> usize {
        self.minimal.events.len()
    }
}

/// Runs the safety check ([`run_safety`], as `safety_holds_after_every_event`
/// does) on up to `opts.cases_max` random cases, drawn from `opts.seed` with
/// no failure persistence, and reports the first failing case, shrunk so that
/// it still fails the same way; `None` if every case passes. Deterministic:
/// the same options give the same result on every run and every machine
/// (proptest's environment variables are overridden).
pub fn cases_to_failure(opts: &FailureSearch) -> Option<Found> {
    let configure: &dyn Fn(&mut Config) = &*opts.configure;
    let voters = opts.voters.strategy(opts.voters_min);
    let strategy = match opts.clients {
        false => case_with(voters, opts.voters_min, opts.events.clone()).boxed(),
        true => client_case_with(voters, opts.voters_min, opts.events.clone()).boxed(),
    };
    let mut runner = TestRunner::new_with_rng(config(opts), rng(opts.seed));
    let calls = Cell::new(0u32);
    let first: RefCell<Option<(u32, Failure)>> = RefCell::new(None);
    // After the first failure proptest shrinks: only a failure of the same
    // kind counts as failing then.
    let result = runner.run(&strategy, |case| {
        calls.set(calls.get() + 1);
        let Err(failure) = run_caught(&case, configure) else {
            return Ok(());
        };
        let mut first = first.borrow_mut();
        match &*first {
            Some((_, f)) if !f.kind.same_as(&failure.kind) => return Ok(()),
            Some(_) => {}
            None => *first = Some((calls.get(), failure.clone())),
        }
        Err(TestCaseError::from(failure))
    });
    let shrunk = match result {
        Ok(()) => return None,
        Err(TestError::Fail(_, shrunk)) => shrunk,
        Err(TestError::Abort(why)) => panic!("the search was aborted: {why}"),
    };
    let (case, first) = first.into_inner().expect("a failing case was recorded");
    let keep = |f: &Failure| f.kind.same_as(&first.kind);
    let (minimal, failure) = minimize(shrunk, configure, &keep);
    Some(Found {
        case,
        first,
        minimal,
        failure,
    })
}

/// [`run_safety`], with a panic as a [`Kind::Panicked`] failure.
fn run_caught(case: &Case, configure: &dyn Fn(&mut Config)) -> Result<(), Failure> {
    match catch_unwind(AssertUnwindSafe(|| run_safety(case, configure))) {
        Ok(result) => result.map(drop),
        Err(panic) => {
            let why = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(Failure {
                kind: Kind::Panicked,
                events: case.events.len(),
                text: format!("panicked: {why}\ncase: {case:?}\n"),
            })
        }
    }
}

/// proptest's configuration for a search, every field its environment
/// variables could change set here.
fn config(opts: &FailureSearch) -> ProptestConfig {
    ProptestConfig {
        cases: opts.cases_max,
        max_local_rejects: 65_536,
        max_global_rejects: 1024,
        max_flat_map_regens: 1_000_000,
        failure_persistence: None,
        fork: false,
        timeout: 0,
        max_shrink_time: 0,
        max_shrink_iters: opts.shrink_iters_max,
        verbose: 0,
        rng_algorithm: RngAlgorithm::ChaCha,
        ..ProptestConfig::default()
    }
}

/// proptest's generator from `seed`: its 8 bytes, little-endian, then zeros.
fn rng(seed: u64) -> TestRng {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    TestRng::from_seed(RngAlgorithm::ChaCha, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruft::NodeId;

    #[test]
    fn a_search_on_sound_nodes_finds_nothing_twice() {
        let opts = FailureSearch {
            configure: Arc::new(|cfg| cfg.append_entries_max = 2),
            cases_max: 40,
            seed: 7,
            ..FailureSearch::default()
        };
        let first = cases_to_failure(&opts);
        assert!(first.is_none(), "{first:?}");
        assert!(cases_to_failure(&opts).is_none());
    }

    /// Four nodes set up as two clusters of two, {n1, n2} and {n3, n4}: each
    /// elects a leader, and the properties see two leaders of one term.
    #[test]
    fn a_split_cluster_fails_at_the_same_case_with_the_same_minimal_case() {
        let opts = FailureSearch {
            configure: Arc::new(|cfg| {
                let pair = if cfg.id <= NodeId(2) { [1, 2] } else { [3, 4] };
                cfg.voters = pair.into_iter().map(NodeId).collect();
            }),
            voters: Voters::Fixed(4),
            voters_min: 4,
            events: 1..=60,
            cases_max: 200,
            seed: 11,
            ..FailureSearch::default()
        };
        let a = cases_to_failure(&opts).expect("two clusters elect two leaders");
        let b = cases_to_failure(&opts).expect("two clusters elect two leaders");
        assert_eq!((a.case, a.events()), (b.case, b.events()));
        assert_eq!(
            (&a.first.text, &a.failure.text),
            (&b.first.text, &b.failure.text)
        );
        assert_eq!(a.violated(), ["election safety"], "{}", a.failure);
        assert_eq!(a.minimal.voters, 4, "never below voters_min");
    }

    /// Node 1 alone runs a mutant whose heartbeats claim its whole commit
    /// index, beyond what a lagging follower holds; the correct followers
    /// refuse them (`CommitBeyondLast`): a failure that is not a property's.
    #[test]
    fn a_refused_message_is_reported_as_refused_not_as_a_violation() {
        let opts = FailureSearch {
            configure: Arc::new(|cfg| {
                if cfg.id == NodeId(1) {
                    cfg.mutant = Some(ruft::Mutant::CommitBeyondMatch);
                }
            }),
            voters: Voters::Fixed(3),
            voters_min: 3,
            events: 1..=60,
            cases_max: 200,
            ..FailureSearch::default()
        };
        let found = cases_to_failure(&opts).expect("n1 refuses the others");
        assert_eq!(found.failure.kind, Kind::Refused, "{}", found.failure);
        assert!(found.violated().is_empty());
        assert!(
            found.failure.text.contains("CommitBeyondLast"),
            "{}",
            found.failure
        );
    }
}
