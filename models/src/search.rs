//! Running the model: the exhaustive search (stateright's BFS or DFS), an exact
//! shortest-path search for counterexamples, reproducible random walks, and the
//! figures `check` reports.
//!
//! stateright's BFS does not visit states in strict level order (its threads
//! share work in blocks and drift to different depths), so the path it
//! records for a discovery is often far from the shortest (trap 5 of the
//! stateright notes). When the exhaustive search finds
//! a violation, [`shortest_path`] (`shortest.rs`) searches again breadth-first, level by level,
//! and returns a path of minimum length.

use crate::model::{Action, RuftModel, State};
use crate::properties::{self, Expect};
use crate::shard::{check_prefix, fingerprint, PrefixCheck, Reached, Rejoin, Shard, Split};
use stateright::{Checker, HasDiscoveries, Model, Path};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Which engine explores the state space.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    /// Breadth first (stateright BFS).
    Bfs,
    /// Depth first (stateright DFS); bounded by `within_boundary` only.
    Dfs,
}

/// How a search may run.
#[derive(Clone, Debug)]
pub struct SearchOptions {
    /// BFS or DFS.
    pub engine: Engine,
    /// Worker threads.
    pub threads: usize,
    /// Symmetry reduction over node ids (BFS and DFS; see [`RuftModel::with_symmetry`]).
    pub symmetry: bool,
    /// Give up after this long (the result is then incomplete).
    pub timeout: Option<Duration>,
    /// Give up after this many unique states (the result is then incomplete).
    pub states_max: Option<usize>,
    /// Give up when the process's resident memory passes this many bytes (the
    /// result is then incomplete); see [`default_memory_max`].
    pub memory_max: Option<u64>,
    /// Called every `progress_every` with the figures so far.
    pub progress_every: Duration,
    /// Explore only this part of a split search (`shard.rs`).
    pub shard: Option<Shard>,
    /// Keep the fingerprint of every state checked ([`Outcome::fingerprints`]).
    pub record_fingerprints: bool,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            engine: Engine::Bfs,
            threads: 2,
            symmetry: false,
            timeout: None,
            states_max: None,
            memory_max: None,
            progress_every: Duration::from_secs(3),
            shard: None,
            record_fingerprints: false,
        }
    }
}

/// What happened to one property.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Always property, no counterexample in the whole space.
    Holds,
    /// Always property, no counterexample in the part searched before a
    /// limit or a signal cut the search short: nothing is proved.
    HoldsSoFar,
    /// Always property, counterexample found.
    Violated,
    /// Sometimes property, witness found.
    Reached,
    /// Sometimes property, no witness in the explored space.
    NotReached,
    /// Sometimes property not reached before a violation or a limit ended the search.
    Unknown,
}

impl Verdict {
    /// The word printed in the table.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::HoldsSoFar => "holds so far (search cut short)",
            Verdict::Violated => "VIOLATED",
            Verdict::Reached => "reached",
            Verdict::NotReached => "NOT REACHED",
            Verdict::Unknown => "not reached (search stopped early)",
        }
    }

    /// The verdict a word of the table (and of `--json`) stands for.
    pub fn from_word(word: &str) -> Option<Verdict> {
        [
            Verdict::Holds,
            Verdict::HoldsSoFar,
            Verdict::Violated,
            Verdict::Reached,
            Verdict::NotReached,
            Verdict::Unknown,
        ]
        .into_iter()
        .find(|v| v.word() == word)
    }

    /// The verdict over the parts of a split search (`check merge`), from
    /// each part's verdict on one property: violated or reached if any part
    /// says so; holds or NOT REACHED only if the whole search is `complete`.
    pub fn merged(parts: &[Verdict], complete: bool) -> Verdict {
        let always = parts
            .iter()
            .any(|v| matches!(v, Verdict::Holds | Verdict::HoldsSoFar | Verdict::Violated));
        match (always, complete) {
            _ if parts.contains(&Verdict::Violated) => Verdict::Violated,
            _ if parts.contains(&Verdict::Reached) => Verdict::Reached,
            (true, true) => Verdict::Holds,
            (true, false) => Verdict::HoldsSoFar,
            (false, true) => Verdict::NotReached,
            (false, false) => Verdict::Unknown,
        }
    }
}

/// Exit code of a search with these verdicts: 1 a violation, 3 incomplete,
/// 1 an unreached witness, 0 otherwise (in that order).
pub fn exit_code(verdicts: impl IntoIterator<Item = Verdict>, complete: bool) -> i32 {
    let (mut violated, mut unreached) = (false, false);
    for v in verdicts {
        violated |= v == Verdict::Violated;
        unreached |= v == Verdict::NotReached;
    }
    if violated {
        1
    } else if !complete {
        3
    } else if unreached {
        1
    } else {
        0
    }
}

/// Figures of a finished (or abandoned) search.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Whether every state within the bounds was explored: false when a
    /// violation ended the search, or a limit or signal cut it short.
    pub complete: bool,
    /// Why the search stopped early, if it did.
    pub cut_short: Option<String>,
    /// States generated (with repeats).
    pub states: usize,
    /// Distinct states.
    pub unique: usize,
    /// Deepest level reached.
    pub depth: usize,
    /// Wall-clock time.
    pub elapsed: Duration,
    /// Peak resident memory of the process, in bytes, if known.
    pub peak_memory: Option<u64>,
    /// Each property checked and its verdict, in [`crate::properties::PROPERTIES`] order.
    pub verdicts: Vec<(&'static str, Verdict)>,
    /// Paths stateright recorded for violated properties.
    pub violations: Vec<(&'static str, Path<State, Action>)>,
    /// For one part of a split search: which, and how the split went.
    pub shard: Option<ShardFigures>,
    /// The fingerprint of every state checked, sorted, if asked for.
    pub fingerprints: Option<Vec<u64>>,
    /// How often a node step was handed out again (`step_cache.rs`), if the
    /// model kept steps.
    pub step_cache: Option<crate::step_cache::CacheStats>,
}

/// How a part of a split search was made (`shard.rs`).
#[derive(Clone, Copy, Debug)]
pub struct ShardFigures {
    /// Which part.
    pub shard: Shard,
    /// The split level.
    pub depth: usize,
    /// States closer to the start than the split level (every part checks them).
    pub prefix: usize,
    /// Roots of all parts.
    pub roots: usize,
    /// Roots of this part.
    pub mine: usize,
}

impl Outcome {
    /// Generated states per second.
    pub fn rate(&self) -> f64 {
        self.states as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Bytes of peak memory per unique state.
    pub fn bytes_per_state(&self) -> Option<u64> {
        self.peak_memory.map(|m| m / self.unique.max(1) as u64)
    }

    /// Exit code: 3 incomplete, 1 a violation or an unreached witness, 0 otherwise.
    pub fn exit_code(&self) -> i32 {
        exit_code(self.verdicts.iter().map(|(_, v)| *v), self.complete)
    }
}

/// Progress figures passed to the progress callback.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    /// States generated so far.
    pub states: usize,
    /// Distinct states so far.
    pub unique: usize,
    /// Deepest level so far.
    pub depth: usize,
    /// Time since the start.
    pub elapsed: Duration,
    /// Resident memory now, in bytes.
    pub memory: Option<u64>,
}

/// Explores `model` exhaustively within its bounds, stopping at the first
/// violation of an Always property. With [`SearchOptions::shard`], explores
/// the prefix and then this part's roots only (`shard.rs`).
pub fn explore(model: RuftModel, opts: &SearchOptions, progress: impl FnMut(Progress)) -> Outcome {
    let start = Instant::now();
    let cfg = model.cfg.clone();
    let reduce = |m: RuftModel| if opts.symmetry { m.with_symmetry() } else { m };
    let model = reduce(model);
    let recorder: Option<Arc<Mutex<Vec<u64>>>> = opts.record_fingerprints.then(Arc::default);
    let Some(shard) = opts.shard else {
        let model = match &recorder {
            Some(r) => model.recording_into(Arc::clone(r)),
            None => model,
        };
        let mut o = run_checker(model, opts, start, progress);
        o.fingerprints = recorder.map(sorted);
        return o;
    };
    let split = Split::new(&model, shard.count);
    let prefix = check_prefix(&model, &split.prefix);
    let mine: Vec<&Reached> = split.roots_of(shard).collect();
    let rejoin = Rejoin::new(mine.iter().copied());
    if let Some(r) = &recorder {
        let mut r = r.lock().unwrap_or_else(|p| p.into_inner());
        r.extend(split.prefix.iter().map(|(s, _)| fingerprint(s)));
    }
    let figures = ShardFigures {
        shard,
        depth: split.depth,
        prefix: split.prefix.len(),
        roots: split.roots.len(),
        mine: mine.len(),
    };
    let mut rooted = reduce(RuftModel::new(cfg.clone()))
        .with_roots(mine.iter().map(|(s, _)| s.clone()).collect());
    if let Some(r) = &recorder {
        rooted = rooted.recording_into(Arc::clone(r));
    }
    let mut o = if prefix.violations.is_empty() && !mine.is_empty() {
        run_checker(rooted, opts, start, progress)
    } else {
        // A violation in the prefix ends the part; a part with no roots has
        // nothing beyond the prefix.
        let complete = prefix.violations.is_empty();
        let none = HashMap::<&'static str, ()>::new();
        let verdicts = verdicts(&rooted, &none, !complete, None);
        finished(complete, None, verdicts, Vec::new(), start)
    };
    // Paths found from a root start at the initial state again.
    let plain = reduce(RuftModel::new(cfg));
    for (_, path) in &mut o.violations {
        *path = rejoin
            .rejoin(&plain, path)
            .expect("a part's paths start at its roots");
    }
    merge_prefix(&mut o, prefix, &split);
    o.shard = Some(figures);
    o.fingerprints = recorder.map(sorted);
    o
}

fn sorted(recorded: Arc<Mutex<Vec<u64>>>) -> Vec<u64> {
    let mut v = std::mem::take(&mut *recorded.lock().unwrap_or_else(|p| p.into_inner()));
    v.sort_unstable();
    v.dedup();
    v
}

/// Adds what the properties said of the prefix to a part's outcome.
fn merge_prefix(o: &mut Outcome, prefix: PrefixCheck, split: &Split) {
    for (name, verdict) in &mut o.verdicts {
        if prefix.reached.contains(name) {
            *verdict = Verdict::Reached;
        }
    }
    for (name, path) in prefix.violations {
        if let Some((_, v)) = o.verdicts.iter_mut().find(|(n, _)| *n == name) {
            *v = Verdict::Violated;
        }
        o.violations.insert(0, (name, path));
        o.complete = false;
    }
    if !o.complete {
        for (_, v) in &mut o.verdicts {
            if *v == Verdict::NotReached {
                *v = Verdict::Unknown;
            }
        }
    }
    o.states += split.generated;
    o.unique += split.prefix.len();
    o.depth += split.depth;
}

/// Runs stateright's checker on `model` (BFS or DFS) under `opts`' limits.
fn run_checker(
    model: RuftModel,
    opts: &SearchOptions,
    start: Instant,
    mut progress: impl FnMut(Progress),
) -> Outcome {
    let builder = model
        .checker()
        .threads(opts.threads.max(1))
        .finish_when(HasDiscoveries::AnyFailures);
    let checker = match opts.engine {
        Engine::Bfs => Box::new(builder.spawn_bfs()) as Box<dyn Checker<RuftModel>>,
        Engine::Dfs => Box::new(builder.spawn_dfs()),
    };
    let halt = Arc::clone(&checker.model().cfg.halt);
    let mut cut_short = None;
    let mut last_report = Instant::now();
    while !checker.is_done() {
        std::thread::sleep(Duration::from_millis(50));
        let elapsed = start.elapsed();
        cut_short = limit_reached(opts, elapsed, checker.unique_state_count());
        if cut_short.is_some() {
            break;
        }
        if last_report.elapsed() >= opts.progress_every {
            last_report = Instant::now();
            progress(Progress {
                states: checker.state_count(),
                unique: checker.unique_state_count(),
                depth: checker.max_depth(),
                elapsed,
                memory: memory_now(),
            });
        }
    }
    // stateright's checkers cannot be stopped from outside; the model's halt
    // switch leaves every pending state without successors, so the workers
    // drain their queues and end instead of running on behind the report.
    halt.store(true, Ordering::Relaxed);
    let mut checker = checker;
    for handle in checker.handles() {
        let _ = handle.join();
    }
    // Paths of discoveries are rebuilt by replaying the model's actions.
    halt.store(false, Ordering::Relaxed);
    let discoveries = checker.discoveries();
    let features = checker.model().cfg.features();
    let stopped_early = properties::enabled(features)
        .any(|p| p.expect() == Expect::Always && discoveries.contains_key(p.name));
    let (verdicts, violations) = verdicts_and_paths(
        checker.model(),
        &discoveries,
        stopped_early,
        cut_short.as_deref(),
    );
    let mut o = finished(
        cut_short.is_none() && !stopped_early,
        cut_short,
        verdicts,
        violations,
        start,
    );
    (o.states, o.unique, o.depth) = (
        checker.state_count(),
        checker.unique_state_count(),
        checker.max_depth(),
    );
    o.step_cache = checker.model().step_cache_stats();
    o
}

type Found = Vec<(&'static str, Path<State, Action>)>;

/// Each enabled property's verdict from stateright's discoveries, and the
/// paths of the violated ones.
fn verdicts_and_paths(
    model: &RuftModel,
    discoveries: &HashMap<&'static str, Path<State, Action>>,
    stopped_early: bool,
    cut_short: Option<&str>,
) -> (Vec<(&'static str, Verdict)>, Found) {
    let violations = properties::enabled(model.cfg.features())
        .filter(|p| p.expect() == Expect::Always)
        .filter_map(|p| Some((p.name, discoveries.get(p.name)?.clone())))
        .collect();
    (
        verdicts(model, discoveries, stopped_early, cut_short),
        violations,
    )
}

fn verdicts<P>(
    model: &RuftModel,
    discoveries: &HashMap<&'static str, P>,
    stopped_early: bool,
    cut_short: Option<&str>,
) -> Vec<(&'static str, Verdict)> {
    properties::enabled(model.cfg.features())
        .map(|p| {
            let found = discoveries.contains_key(p.name);
            let verdict = match (p.expect(), found) {
                (Expect::Always, true) => Verdict::Violated,
                (Expect::Always, false) if cut_short.is_some() => Verdict::HoldsSoFar,
                (Expect::Always, false) => Verdict::Holds,
                (Expect::Sometimes, true) => Verdict::Reached,
                (Expect::Sometimes, false) if stopped_early || cut_short.is_some() => {
                    Verdict::Unknown
                }
                (Expect::Sometimes, false) => Verdict::NotReached,
            };
            (p.name, verdict)
        })
        .collect()
}

/// An outcome with no states counted yet.
fn finished(
    complete: bool,
    cut_short: Option<String>,
    verdicts: Vec<(&'static str, Verdict)>,
    violations: Found,
    start: Instant,
) -> Outcome {
    Outcome {
        complete,
        cut_short,
        states: 0,
        unique: 0,
        depth: 0,
        elapsed: start.elapsed(),
        peak_memory: peak_memory(),
        verdicts,
        violations,
        shard: None,
        fingerprints: None,
        step_cache: None,
    }
}

/// Why a search must stop now, if it must: its time, state or memory limit.
fn limit_reached(opts: &SearchOptions, elapsed: Duration, unique: usize) -> Option<String> {
    if crate::interrupt::requested() {
        return Some(crate::interrupt::REASON.to_string());
    }
    if opts.timeout.is_some_and(|t| elapsed >= t) {
        return Some(format!("timeout after {:.0} s", elapsed.as_secs_f64()));
    }
    if opts.states_max.is_some_and(|m| unique >= m) {
        return Some(format!("state limit of {unique} unique states reached"));
    }
    memory_over(opts.memory_max)
}

/// Whether resident memory passed `memory_max`, as the reason to stop.
pub(crate) fn memory_over(memory_max: Option<u64>) -> Option<String> {
    let (max, now) = (memory_max?, memory_now()?);
    (now > max).then(|| {
        format!(
            "memory limit of {} MiB reached ({} MiB resident)",
            max >> 20,
            now >> 20
        )
    })
}

/// The default memory limit: three quarters of the memory available when the
/// search starts (Linux `MemAvailable`), so a search stops with its partial
/// figures before the machine swaps or the OOM killer ends it silently.
pub fn default_memory_max() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024 / 4 * 3)
}

pub use crate::shortest::{plain_path, shortest_path, shortest_path_within, Budget};
pub use crate::walk::{simulate, Walks};

/// Resident memory now (Linux), in bytes.
pub fn memory_now() -> Option<u64> {
    proc_status_kb("VmRSS:").map(|kb| kb * 1024)
}

/// Peak resident memory so far (Linux), in bytes.
pub fn peak_memory() -> Option<u64> {
    proc_status_kb("VmHWM:").map(|kb| kb * 1024)
}

fn proc_status_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_merge_to_the_verdict_of_the_whole() {
        use Verdict::*;
        assert_eq!(Verdict::merged(&[Holds, Violated, Holds], false), Violated);
        assert_eq!(Verdict::merged(&[Holds, Holds], true), Holds);
        assert_eq!(Verdict::merged(&[Holds, HoldsSoFar], false), HoldsSoFar);
        assert_eq!(Verdict::merged(&[NotReached, Reached], true), Reached);
        assert_eq!(Verdict::merged(&[NotReached, NotReached], true), NotReached);
        assert_eq!(Verdict::merged(&[NotReached, Unknown], false), Unknown);
        for v in [Holds, HoldsSoFar, Violated, Reached, NotReached, Unknown] {
            assert_eq!(Verdict::from_word(v.word()), Some(v));
        }
        assert_eq!(exit_code([Holds, NotReached], true), 1);
        assert_eq!(exit_code([Holds, Reached], false), 3);
        assert_eq!(exit_code([Violated, Reached], false), 1);
        assert_eq!(exit_code([Holds, Reached], true), 0);
    }
    use crate::model::{observe, ModelConfig};
    use crate::properties::property;
    use ruft::Mutant;

    fn small() -> ModelConfig {
        ModelConfig {
            proposals_max: 0,
            crashes_max: 0,
            ..ModelConfig::default()
        }
    }

    fn transcript(path: &Path<State, Action>) -> Vec<String> {
        path.clone()
            .into_actions()
            .iter()
            .map(crate::display::action)
            .collect()
    }

    /// The shortest witness of "a leader is elected" is one campaign and one vote.
    #[test]
    fn the_shortest_election_is_a_timeout_a_request_and_a_vote() {
        let model = RuftModel::new(small());
        let elected = property("a leader is elected").unwrap();
        let path = shortest_path(&model, |s| !elected.holds(&observe(s)), 10)
            .expect("a leader can be elected");
        assert_eq!(
            transcript(&path),
            [
                "n1 election timeout (Hup)",
                "n2 <- n1 RequestVote{t1, last 0@0}",
                "n1 <- n2 Vote{t1, granted}",
            ]
        );
    }

    /// A node that forgets its vote on restart (the `forget-vote-on-restart`
    /// mutant) votes twice in a term; the exact BFS finds it in seven steps
    /// (five with a fourth message in flight).
    #[test]
    fn a_forgotten_vote_is_found_in_seven_steps() {
        let cfg = ModelConfig {
            mutant: Some(Mutant::ForgetVoteOnRestart),
            ..small()
        };
        let cfg = ModelConfig {
            crashes_max: 1,
            ..cfg
        };
        let model = RuftModel::new(cfg);
        let index_order = property("index order").unwrap();
        let path = shortest_path(&model, |s| index_order.holds(&observe(s)), 12)
            .expect("the bug is reachable");
        let steps = transcript(&path);
        assert_eq!(steps.len(), 7, "{steps:#?}");
        assert!(steps.iter().any(|s| s.ends_with(" crashes")), "{steps:#?}");
    }

    fn forgotten_vote() -> ModelConfig {
        ModelConfig {
            mutant: Some(Mutant::ForgetVoteOnRestart),
            crashes_max: 1,
            ..small()
        }
    }

    /// A path of the reduced model jumps between namings; made plain, it has
    /// the same length, one naming, and ends in the same violation.
    #[test]
    fn a_reduced_path_is_made_plain_step_for_step() {
        let index_order = property("index order").unwrap();
        let holds = |s: &State| index_order.holds(&observe(s));
        let reduced = RuftModel::new(forgotten_vote()).with_symmetry();
        let short = shortest_path(&reduced, holds, 12).expect("the bug is reachable");
        let plain = plain_path(&RuftModel::new(forgotten_vote()), &short).expect("a plain twin");
        assert_eq!(plain.clone().into_actions().len(), 7);
        assert!(!holds(plain.last_state()));
    }

    /// Shortening under a budget it cannot meet says why it stopped.
    #[test]
    fn shortening_out_of_budget_says_why() {
        let model = RuftModel::new(ModelConfig::default());
        let never = |_: &State| true;
        let budget = Budget {
            timeout: Some(Duration::ZERO),
            ..Budget::default()
        };
        let result = shortest_path_within(&model, never, 30, &budget, |_| {});
        assert_eq!(result.err().as_deref(), Some("timeout after 0 s"));
    }

    /// Symmetry reduction explores fewer states and reaches the same verdicts.
    #[test]
    fn symmetry_reduces_the_space_and_keeps_the_verdicts() {
        let opts = SearchOptions {
            progress_every: Duration::from_secs(3600),
            ..SearchOptions::default()
        };
        let plain = explore(RuftModel::new(small()), &opts, |_| {});
        let reduced = explore(
            RuftModel::new(small()),
            &SearchOptions {
                symmetry: true,
                ..opts
            },
            |_| {},
        );
        assert!(plain.complete && reduced.complete);
        assert_eq!(plain.verdicts, reduced.verdicts);
        assert!(
            reduced.unique * 4 <= plain.unique,
            "at least 4x fewer states at 3 nodes: {} vs {}",
            reduced.unique,
            plain.unique
        );
    }
}
