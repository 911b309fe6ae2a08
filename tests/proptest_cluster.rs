//! Random event sequences through a cluster of real ruft nodes (design §3
//! "proptest", issue 4): ticks, deliveries, drops, duplicates, proposals,
//! crashes, restarts, partitions, heals and delayed writes, applied to the one
//! cluster driver (`ruft_models::driver::Cluster`) with tick-driven timing.
//!
//! - `safety_holds_after_every_event`: after every event, every Always property
//!   of the shared property module holds (`Cluster::check()` is empty), no real
//!   message is refused with an error, and the HardState on disk only moves
//!   forward (`HardState::may_become`). A failure is shrunk by proptest and
//!   then by [`minimize`] to a 1-minimal event list, printed as the events
//!   resolved, oldest first, then one status line per node. (With the vote
//!   rule broken, so that a node grants a second vote in a term, the suite
//!   fails at once with three events: two election timeouts and one
//!   RequestVote delivered to the candidate that timed out second.) Every
//!   Sometimes witness must be reached by some case, so the suite cannot pass
//!   vacuously.
//! - `a_healed_cluster_elects_one_leader_and_commits`: after any random prefix,
//!   heal, restart crashed nodes and complete held writes, then run a fair
//!   loop (tick every node, deliver everything) for at most [`ROUNDS_MAX`]
//!   ticks: one leader for the highest term, a fresh proposal applied on every
//!   node, and every entry committed before the heal still in every log.
//!
//! Budgets: by default 10,000 safety cases of 1 to 300 events (about 150 on
//! average, 1.5 million events) and 3,000 liveness cases, about 7 s in
//! `cargo test --release` on 2 cores. `RUFT_PROPTEST_SCALE=k` multiplies every
//! default case count by `k` (soak runs); `PROPTEST_CASES=n` sets every count
//! to `n`. Failures are persisted under `proptest-regressions/proptest_cluster/`
//! and replayed first on every run.

use proptest::prelude::*;
use proptest::test_runner::{
    Config as ProptestConfig, FileFailurePersistence, TestError, TestRunner,
};
use ruft::{EntryKey, Error, HardState, Index, NodeId, Role, Term, Tick};
use ruft_models::driver::{Cluster, DriveError};
use ruft_models::properties::{Expect, PROPERTIES};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Instant;

/// Events per case in the safety suite (the liveness suite uses a shorter prefix).
const EVENTS_MAX: usize = 300;
/// Ticks the fair loop may take after the heal; see
/// `a_healed_cluster_elects_one_leader_and_commits` for why this is enough.
const ROUNDS_MAX: u64 = 400;
/// Deliveries per round of the fair loop: far above what one round produces.
const DELIVERIES_MAX: usize = 100_000;
/// Election timeouts are drawn from `[ELECTION_TICK, 2 * ELECTION_TICK)`.
const ELECTION_TICK: u64 = 5;

// ---------------------------------------------------------------- events

/// One event. Node numbers are taken modulo the cluster size and message
/// positions modulo the number of messages in flight, so every event is
/// meaningful in every state and shrinking never produces an invalid one.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Event {
    /// Tick node `node` `times` times (election and heartbeat timers).
    Tick { node: u8, times: u8 },
    /// Deliver the message at this position (reordering included).
    Deliver(u16),
    /// Lose the message at this position.
    Drop(u16),
    /// Send a second copy of the message at this position.
    Duplicate(u16),
    /// A client proposes a value on this node (refused unless it leads).
    Propose(u8, u8),
    /// The node crashes: volatile state and unpersisted writes are lost.
    Crash(u8),
    /// A crashed node restarts from its storage.
    Restart(u8),
    /// The nodes whose bit is set are cut off from the others.
    Partition(u8),
    /// The partition is removed.
    Heal,
    /// The node's held write completes (nodes with delayed persistence).
    Persist(u8),
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Event::Tick { node, times } => write!(f, "Tick(#{node} x{times})"),
            Event::Deliver(i) => write!(f, "Deliver(#{i})"),
            Event::Drop(i) => write!(f, "Drop(#{i})"),
            Event::Duplicate(i) => write!(f, "Duplicate(#{i})"),
            Event::Propose(node, v) => write!(f, "Propose(#{node}, {v})"),
            Event::Crash(node) => write!(f, "Crash(#{node})"),
            Event::Restart(node) => write!(f, "Restart(#{node})"),
            Event::Partition(mask) => write!(f, "Partition({mask:#07b})"),
            Event::Heal => write!(f, "Heal"),
            Event::Persist(node) => write!(f, "Persist(#{node})"),
        }
    }
}

/// Weights: ticks and deliveries dominate so that elections and commits are
/// common; proposals make logs grow and diverge; crashes, partitions and
/// held writes make conflicts and truncations common too.
fn event() -> impl Strategy<Value = Event> {
    let node = || 0u8..5;
    let times = prop_oneof![1 => Just(1u8), 1 => 1u8..=10];
    prop_oneof![
        20 => (node(), times).prop_map(|(node, times)| Event::Tick { node, times }),
        50 => any::<u16>().prop_map(Event::Deliver),
        4 => any::<u16>().prop_map(Event::Drop),
        3 => any::<u16>().prop_map(Event::Duplicate),
        12 => (node(), any::<u8>()).prop_map(|(n, v)| Event::Propose(n, v)),
        2 => node().prop_map(Event::Crash),
        6 => node().prop_map(Event::Restart),
        2 => any::<u8>().prop_map(Event::Partition),
        3 => Just(Event::Heal),
        12 => node().prop_map(Event::Persist),
    ]
}

/// One test case: cluster size, election seed, which nodes hold their
/// writes until a `Persist` event, and the events.
#[derive(Clone)]
struct Case {
    voters: usize,
    seed: u64,
    /// Bit `i` set: node `i + 1` has `delay_persist`.
    delayed: u8,
    events: Vec<Event>,
}

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} voters, seed {}, delayed {:#07b}, {} events {:?}",
            self.voters,
            self.seed,
            self.delayed,
            self.events.len(),
            self.events
        )
    }
}

fn case(events: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = Case> {
    let voters = prop_oneof![1 => Just(1usize), 4 => Just(3), 3 => Just(5)];
    (
        voters,
        any::<u64>(),
        prop_oneof![2 => Just(0u8), 1 => any::<u8>()],
        prop::collection::vec(event(), events),
    )
        .prop_map(|(voters, seed, delayed, events)| Case {
            voters,
            seed,
            delayed,
            events,
        })
}

// ---------------------------------------------------------------- running

/// A cluster under test, with the events applied so far as they resolved.
struct Run {
    cluster: Cluster,
    trace: Vec<String>,
    /// The HardState each node last had on disk.
    disk: BTreeMap<NodeId, HardState>,
    /// Sometimes properties this run reached.
    reached: BTreeSet<&'static str>,
}

impl Run {
    fn new(case: &Case) -> Run {
        let seed = case.seed;
        let mut cluster = Cluster::new(case.voters, |cfg| {
            cfg.seed = seed;
            cfg.election_tick = Tick(ELECTION_TICK);
            cfg.heartbeat_tick = Tick(1);
        });
        let ids: Vec<NodeId> = cluster.ids().collect();
        for (i, &id) in ids.iter().enumerate() {
            cluster.slot_mut(id).delay_persist = case.delayed & (1 << i) != 0;
        }
        let disk = ids.iter().map(|&id| (id, HardState::default())).collect();
        Run {
            cluster,
            trace: Vec::new(),
            disk,
            reached: BTreeSet::new(),
        }
    }

    fn id(&self, node: u8) -> NodeId {
        NodeId(u64::from(node) % self.cluster.len() as u64 + 1)
    }

    fn position(&self, i: u16) -> Option<usize> {
        let len = self.cluster.network().len();
        (len > 0).then(|| usize::from(i) % len)
    }

    /// Applies `event`, records it in the trace and checks the cluster.
    fn apply(&mut self, event: Event) -> Result<(), TestCaseError> {
        let (what, result) = self.resolve(event);
        self.trace.push(what);
        if let Err(e) = result {
            return Err(self.failure(&format!("the driver refused a real event: {e:?}")));
        }
        self.check()
    }

    /// Carries out `event`: what it did, in words, and any unexpected error.
    fn resolve(&mut self, event: Event) -> (String, Result<(), DriveError>) {
        match event {
            Event::Tick { node, times } => {
                let id = self.id(node);
                let c = &mut self.cluster;
                let result = (0..times).try_for_each(|_| c.tick(id));
                (format!("tick {id} x{times}"), result)
            }
            Event::Deliver(i) => match self.position(i) {
                None => ("deliver: nothing in flight".into(), Ok(())),
                Some(p) => {
                    let msg = self.cluster.network()[p].clone();
                    let down = !self.cluster.slot(msg.dst).up;
                    let result = self.cluster.deliver(p).expect("in range");
                    let note = if down { " (lost: down)" } else { "" };
                    let outcome = match &result {
                        Ok(o) => format!(" -> {o:?}"),
                        Err(_) => String::new(),
                    };
                    (format!("deliver {msg}{note}{outcome}"), result.map(drop))
                }
            },
            Event::Drop(i) => match self.position(i) {
                None => ("drop: nothing in flight".into(), Ok(())),
                Some(p) => {
                    let msg = self.cluster.drop_message(p).expect("in range");
                    (format!("drop {msg}"), Ok(()))
                }
            },
            Event::Duplicate(i) => match self.position(i) {
                None => ("duplicate: nothing in flight".into(), Ok(())),
                Some(p) => {
                    let msg = self.cluster.network()[p].clone();
                    self.cluster.duplicate(p);
                    (format!("duplicate {msg}"), Ok(()))
                }
            },
            Event::Propose(node, v) => {
                let id = self.id(node);
                if !self.cluster.slot(id).up {
                    return (format!("propose {v} on {id} (down)"), Ok(()));
                }
                match self.cluster.propose(id, vec![v].into()) {
                    Ok(key) => (format!("propose {v} on {id}: {key}"), Ok(())),
                    Err(DriveError::Node(
                        e @ (Error::NotLeader { .. } | Error::ProposalsFull { .. }),
                    )) => (format!("propose {v} on {id}: {e}"), Ok(())),
                    Err(e) => (format!("propose {v} on {id}"), Err(e)),
                }
            }
            Event::Crash(node) => {
                let id = self.id(node);
                self.cluster.crash(id);
                (format!("crash {id}"), Ok(()))
            }
            Event::Restart(node) => {
                let id = self.id(node);
                let was_down = !self.cluster.slot(id).up;
                let result = self.cluster.restart(id);
                let what = if was_down {
                    "restart"
                } else {
                    "restart (running)"
                };
                (format!("{what} {id}"), result)
            }
            Event::Partition(mask) => {
                let c = &mut self.cluster;
                let side: BTreeSet<NodeId> = c
                    .ids()
                    .enumerate()
                    .filter(|(i, _)| mask & (1 << i) != 0)
                    .map(|(_, id)| id)
                    .collect();
                let what = format!("partition {side:?} from the rest");
                c.partition(side);
                (what, Ok(()))
            }
            Event::Heal => {
                self.cluster.heal();
                ("heal".into(), Ok(()))
            }
            Event::Persist(node) => {
                let id = self.id(node);
                let held = self.cluster.slot(id).pending.is_some();
                let result = self.cluster.persist(id);
                let what = if held {
                    "persist"
                } else {
                    "persist (nothing held)"
                };
                (format!("{what} {id}"), result)
            }
        }
    }

    /// The Always properties, the HardState on disk, and the witnesses reached.
    fn check(&mut self) -> Result<(), TestCaseError> {
        let violated = self.cluster.check();
        if !violated.is_empty() {
            return Err(self.failure(&format!("violated: {}", violated.join(", "))));
        }
        let ids: Vec<NodeId> = self.cluster.ids().collect();
        for id in ids {
            let now = self.cluster.node(id).storage().hard_state();
            let before = self.disk.insert(id, now).unwrap_or_default();
            if !before.may_become(&now) {
                return Err(self.failure(&format!(
                    "{id}'s HardState on disk went backwards: {before} -> {now}"
                )));
            }
        }
        let nodes = self.cluster.observe();
        for p in PROPERTIES.iter().filter(|p| p.expect == Expect::Sometimes) {
            if !self.reached.contains(p.name) && (p.check)(&nodes) {
                self.reached.insert(p.name);
            }
        }
        Ok(())
    }

    /// A failure naming `why`, with every event so far and every node's state.
    fn failure(&self, why: &str) -> TestCaseError {
        let mut text = format!("{why}\nafter {} events:\n", self.trace.len());
        for (i, what) in self.trace.iter().enumerate() {
            text += &format!("  {:>3}. {what}\n", i + 1);
        }
        text += "nodes:\n";
        for id in self.cluster.ids() {
            text += &format!("  {}\n", self.cluster.status_line(id));
        }
        let network = self.cluster.network();
        text += &format!("in flight: {} messages\n", network.len());
        for msg in network.iter().take(20) {
            text += &format!("  {msg}\n");
        }
        TestCaseError::fail(text)
    }
}

// ---------------------------------------------------------------- budgets

/// The case count (see `ruft_models::budget`).
fn cases(default: u32) -> u32 {
    ruft_models::budget::cases(default)
}

fn runner(default_cases: u32, regressions: &'static str) -> TestRunner {
    TestRunner::new(ProptestConfig {
        cases: cases(default_cases),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(regressions))),
        max_shrink_iters: 20_000,
        ..ProptestConfig::default()
    })
}

// ---------------------------------------------------------------- suites

#[test]
fn safety_holds_after_every_event() {
    let mut runner = runner(10_000, "proptest-regressions/proptest_cluster/safety.txt");
    let start = Instant::now();
    let stats = std::cell::RefCell::new((0usize, 0usize, BTreeMap::<&str, usize>::new()));
    let result = runner.run(&case(1..=EVENTS_MAX), |case| {
        let run = run_safety(&case).map_err(|(_, failure)| failure)?;
        let mut stats = stats.borrow_mut();
        stats.0 += 1;
        stats.1 += case.events.len();
        for name in run.reached {
            *stats.2.entry(name).or_default() += 1;
        }
        Ok(())
    });
    match result {
        Err(TestError::Fail(_, shrunk)) => {
            let (minimal, failure) = minimize(shrunk.clone());
            panic!(
                "{failure}\nminimal failing case: {minimal:?}\n(as proptest shrank it: {shrunk:?})"
            );
        }
        Err(e) => panic!("{e}"),
        Ok(()) => {}
    }
    let (cases, events, reached) = stats.into_inner();
    eprintln!(
        "safety: {cases} cases, {events} events ({:.0} per case), {:.2} s; witnesses reached (cases): {reached:?}",
        events as f64 / cases.max(1) as f64,
        start.elapsed().as_secs_f64()
    );
    for p in PROPERTIES.iter().filter(|p| p.expect == Expect::Sometimes) {
        assert!(
            reached.contains_key(p.name),
            "no case reached the witness `{}`: the suite would pass vacuously",
            p.name
        );
    }
}

/// Runs `case` to its end, or to its first failure: then how many events
/// ran, and the failure.
fn run_safety(case: &Case) -> Result<Run, (usize, TestCaseError)> {
    let mut run = Run::new(case);
    for &event in &case.events {
        if let Err(failure) = run.apply(event) {
            return Err((run.trace.len(), failure));
        }
    }
    Ok(run)
}

/// Finishes shrinking. proptest deletes events in one pass and then shrinks
/// the survivors, so events needed only before the survivors shrank can stay
/// (a delivery that reached another message, ticks after the failure). This
/// repeats, while the case still fails: cut the events after the failure,
/// drop any single event, lower any tick count, merge two ticks of one node,
/// fewer voters, no delayed writes; until nothing more goes. The result is 1-minimal: without any
/// one of its events it passes.
fn minimize(mut case: Case) -> (Case, TestCaseError) {
    let Err(mut failure) = run_safety(&case) else {
        return (
            case,
            TestCaseError::fail("the shrunk case passed when run again"),
        );
    };
    loop {
        case.events.truncate(failure.0);
        let mut candidates: Vec<Case> = Vec::new();
        for i in (0..case.events.len()).rev() {
            let mut c = case.clone();
            c.events.remove(i);
            candidates.push(c);
        }
        for (i, e) in case.events.iter().enumerate() {
            if let Event::Tick { node, times } = *e {
                for fewer in 1..times {
                    let mut c = case.clone();
                    c.events[i] = Event::Tick { node, times: fewer };
                    candidates.push(c);
                }
            }
        }
        // Two ticks of one node with only other ticks between them, as one.
        for i in 0..case.events.len() {
            let Event::Tick { node, times } = case.events[i] else {
                continue;
            };
            let voters = case.voters as u8;
            let same = |e: &Event| matches!(*e, Event::Tick { node: n, .. } if n % voters == node % voters);
            let next = case.events[i + 1..]
                .iter()
                .take_while(|e| matches!(e, Event::Tick { .. }))
                .position(same);
            if let Some(offset) = next {
                let j = i + 1 + offset;
                let Event::Tick { times: more, .. } = case.events[j] else {
                    continue;
                };
                let mut c = case.clone();
                c.events[i] = Event::Tick {
                    node,
                    times: times.saturating_add(more),
                };
                c.events.remove(j);
                candidates.push(c);
            }
        }
        for voters in [1, 3].into_iter().filter(|&v| v < case.voters) {
            candidates.push(Case {
                voters,
                ..case.clone()
            });
        }
        if case.delayed != 0 {
            candidates.push(Case {
                delayed: 0,
                ..case.clone()
            });
        }
        let smaller = candidates
            .into_iter()
            .find_map(|c| run_safety(&c).err().map(|f| (c, f)));
        match smaller {
            Some((c, f)) => (case, failure) = (c, f),
            None => return (case, failure.1),
        }
    }
}

/// How long the fair loop needs, and why [`ROUNDS_MAX`] is enough. Each round
/// ticks every node once and then delivers until the network is empty, so
/// every exchange (a vote round trip, an append and its ack, a heartbeat)
/// completes inside the round in which it starts. Once some node times out
/// alone, it wins in that round if its log is up to date, the no-op and the
/// proposal replicate within the next two or three rounds, and heartbeats
/// every tick keep everyone else from timing out. Two things delay that: a node
/// with a stale log may time out first (it raises everyone's term and loses,
/// and timeouts are drawn afresh for the new term), and two nodes may time out
/// in the same round and split the vote. Each such failed attempt costs at
/// most one election timeout, under `2 * ELECTION_TICK` = 10 rounds.
/// Measured over 60,000 random prefixes of up to 300 events (1, 3 and 5
/// voters): median 3 rounds, 99th percentile 23, 99.9th 35, worst 91 (nine
/// failed attempts in a row). [`ROUNDS_MAX`] = 400 is over four times the
/// worst seen, forty failed attempts in a row.
#[test]
fn a_healed_cluster_elects_one_leader_and_commits() {
    let mut runner = runner(3_000, "proptest-regressions/proptest_cluster/liveness.txt");
    let start = Instant::now();
    let worst = std::cell::Cell::new((0u64, 0usize));
    let result = runner.run(&case(0..=EVENTS_MAX), |case| {
        let mut run = Run::new(&case);
        for &event in &case.events {
            run.apply(event)?;
        }
        let rounds = heal_and_settle(&mut run)?;
        if rounds > worst.get().0 {
            worst.set((rounds, case.voters));
        }
        if std::env::var_os("RUFT_LIVENESS_HIST").is_some() {
            eprintln!("ROUNDS {} {rounds}", case.voters);
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let (rounds, voters) = worst.get();
    eprintln!(
        "liveness: {} cases, worst {rounds} rounds ({voters} voters) of {ROUNDS_MAX}, {:.2} s",
        runner.config().cases,
        start.elapsed().as_secs_f64()
    );
}

/// Heals everything, then runs the fair loop until a fresh proposal is applied
/// on every node; returns the rounds it took.
fn heal_and_settle(run: &mut Run) -> Result<u64, TestCaseError> {
    run.cluster.heal();
    for id in run.cluster.down() {
        let restarted = run.cluster.restart(id);
        run.trace.push(format!("liveness: restart {id}"));
        restarted.map_err(|e| run.failure(&format!("restart failed: {e:?}")))?;
    }
    let ids: Vec<NodeId> = run.cluster.ids().collect();
    for &id in &ids {
        run.cluster.slot_mut(id).delay_persist = false;
        let persisted = run.cluster.persist(id);
        persisted.map_err(|e| run.failure(&format!("persist failed: {e:?}")))?;
    }
    run.trace.push("liveness: heal, restart, persist".into());
    run.check()?;
    // Every node's record of what it saw committed is a prefix of the longest.
    let committed_before = ids
        .iter()
        .map(|&id| run.cluster.slot(id).ghost.committed.clone())
        .max_by_key(Vec::len)
        .unwrap_or_default();

    let mut proposal: Option<(NodeId, EntryKey, u8)> = None;
    for round in 1..=ROUNDS_MAX {
        let ticked = run.cluster.tick_all();
        let delivered = ticked.and_then(|_| run.cluster.deliver_all(DELIVERIES_MAX));
        if let Err(e) = delivered {
            run.trace.push(format!("liveness: round {round}"));
            return Err(run.failure(&format!("the fair loop was refused: {e:?}")));
        }
        run.check()?;
        let leader = stable_leader(&run.cluster);
        match (proposal, leader) {
            (Some((by, key, value)), _) if applied_everywhere(&run.cluster, key, value) => {
                run.trace.push(format!(
                    "liveness: {key} proposed on {by} applied everywhere after {round} rounds"
                ));
                return check_settled(run, &committed_before, key).map(|_| round);
            }
            (Some((by, ..)), Some(leader)) if by == leader => {}
            (_, Some(leader)) => {
                // A new stable leader (the first, or one after the proposer lost
                // office): propose there.
                let value = (round % 256) as u8;
                let key = run.cluster.propose(leader, vec![value].into());
                let key = key.map_err(|e| run.failure(&format!("proposal refused: {e:?}")))?;
                run.trace.push(format!(
                    "liveness: round {round}: propose on {leader}: {key}"
                ));
                proposal = Some((leader, key, value));
            }
            (_, None) => {}
        }
    }
    Err(run.failure(&format!(
        "no proposal was applied everywhere within {ROUNDS_MAX} ticks after the heal"
    )))
}

/// The leader of the highest term, if exactly one node leads in it.
fn stable_leader(cluster: &Cluster) -> Option<NodeId> {
    let top = cluster
        .ids()
        .map(|id| cluster.node(id).status().term)
        .max()?;
    let leaders: Vec<NodeId> = cluster
        .ids()
        .filter(|&id| {
            let s = cluster.node(id).status();
            s.role == Role::Leader && s.term == top
        })
        .collect();
    (leaders.len() == 1).then(|| leaders[0])
}

/// Whether every node applied the entry `key` carrying `value`.
fn applied_everywhere(cluster: &Cluster, key: EntryKey, value: u8) -> bool {
    cluster.ids().all(|id| {
        let node = cluster.node(id);
        node.status().applied >= key.index
            && node.log().iter().nth(position(key.index)).is_some_and(|e| {
                e.key == key && e.variant == ruft::EntryVariant::Normal(vec![value].into())
            })
    })
}

fn position(index: Index) -> usize {
    Index(0).distance_to(index.prev())
}

/// After the fair loop: one leader for the highest term, known to every node,
/// and everything committed before the heal still in every log.
fn check_settled(
    run: &Run,
    committed_before: &[ruft::Entry],
    key: EntryKey,
) -> Result<(), TestCaseError> {
    let cluster = &run.cluster;
    let Some(leader) = stable_leader(cluster) else {
        return Err(run.failure("no single leader of the highest term"));
    };
    let term: Term = cluster.node(leader).status().term;
    for id in cluster.ids() {
        let node = cluster.node(id);
        let s = node.status();
        if s.term != term || s.leader != Some(leader) {
            return Err(run.failure(&format!(
                "{id} is in {} following {:?}, not {leader} of {term}",
                s.term, s.leader
            )));
        }
        let mut log = node.log().iter();
        if !committed_before.iter().all(|e| log.next() == Some(e)) {
            return Err(run.failure(&format!(
                "{id} lost an entry committed before the heal (up to {})",
                committed_before.len()
            )));
        }
        if s.committed < key.index {
            return Err(run.failure(&format!("{id} has not committed {key}")));
        }
    }
    Ok(())
}
