//! Random event sequences through a [`Cluster`], shared by the proptest suites
//! and the mutant gate.
//!
//! A [`Case`] is a cluster size, an election seed, the nodes that hold their
//! writes, and a list of [`Event`]s: ticks, deliveries, drops, duplicates,
//! proposals, crashes, restarts, partitions, heals, delayed writes and
//! compactions (every node keeps a state machine, [`Cluster::keep_machines`]), with
//! tick-driven timing. A [`Run`] applies them one by one to the one cluster
//! driver and checks after each one ([`run_safety`]): every Always property of
//! [`crate::properties`] holds, no real event is refused with an error, and the
//! HardState on disk only moves forward. A failing case is cut down to a
//! 1-minimal one by [`minimize`].
//!
//! `tests/proptest_cluster.rs` runs these cases as its safety and liveness
//! suites; [`cases_to_failure`] runs the safety check from a fixed seed and
//! counts the cases until the first failure, for the mutant gate (a caller
//! switches a bug on in every node with the configure closure).

mod minimize;
mod search;

pub use minimize::minimize;
pub use search::{cases_to_failure, FailureSearch, Found, Voters};

use crate::driver::{ClientOp, Cluster, DriveError, Started};
use crate::properties::{self, Expect};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use ruft::{Config, Error, HardState, NodeId, ReadMode, Tick};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::RangeInclusive;

/// The features every case has on: nodes keep state machines and compact
/// ([`Event::Compact`]); pre-vote and the others are a configure closure's.
pub const FEATURES: properties::Features = properties::Features {
    pre_vote: false,
    check_quorum: false,
    lease: false,
    transfers: false,
    snapshots: true,
    clients: false,
    crash_free: false,
    membership: false,
    joint: false,
    learners: false,
};

/// Events per case in the safety suite (the liveness suite uses a shorter prefix).
pub const EVENTS_MAX: usize = 300;
/// Election timeouts are drawn from `[ELECTION_TICK, 2 * ELECTION_TICK)`.
pub const ELECTION_TICK: u64 = 5;

// ---------------------------------------------------------------- events

/// One event. Node numbers are taken modulo the cluster size and message
/// positions modulo the number of messages in flight, so every event is
/// meaningful in every state and shrinking never produces an invalid one.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Tick node `node` `times` times (election and heartbeat timers).
    Tick {
        /// The node, modulo the cluster size.
        node: u8,
        /// How many ticks.
        times: u8,
    },
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
    /// The node snapshots its state machine and compacts its log up to its
    /// applied index (nothing if it applied nothing new or is down).
    Compact(u8),
    /// The client on this node starts a write, giving up any operation
    /// under way (a client whose request timed out retries). Only the client
    /// suites draw it ([`client_event`]).
    Write(u8),
    /// The client on this node starts a read, as [`Event::Write`] does.
    Read(u8),
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
            Event::Compact(node) => write!(f, "Compact(#{node})"),
            Event::Write(node) => write!(f, "Write(#{node})"),
            Event::Read(node) => write!(f, "Read(#{node})"),
        }
    }
}

/// Weights: ticks and deliveries dominate so that elections and commits are
/// common; proposals make logs grow and diverge; crashes, partitions and
/// held writes make conflicts and truncations common too; compactions make
/// lagging and restarted nodes catch up from snapshots.
pub fn event() -> impl Strategy<Value = Event> {
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
        8 => node().prop_map(Event::Compact),
    ]
}

/// The client suites' events: [`event`]'s, and client operations
/// ([`Event::Write`], [`Event::Read`]) about one event in six.
pub fn client_event() -> impl Strategy<Value = Event> {
    let node = || 0u8..5;
    prop_oneof![
        10 => event(),
        1 => node().prop_map(Event::Write),
        1 => node().prop_map(Event::Read),
    ]
}

// ---------------------------------------------------------------- cases

/// One test case: cluster size, election seed, which nodes hold their
/// writes until a `Persist` event, and the events.
#[derive(Clone)]
pub struct Case {
    /// Cluster size.
    pub voters: usize,
    /// The fewest voters [`minimize`] may try (a caller may need 4).
    pub voters_min: usize,
    /// Every node's `Config::seed`.
    pub seed: u64,
    /// Bit `i` set: node `i + 1` has `delay_persist`.
    pub delayed: u8,
    /// The events, applied in order.
    pub events: Vec<Event>,
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

/// The suites' cluster sizes: 1, 3 or 5 voters, weighted 1 : 4 : 3.
pub fn voters_mix() -> impl Strategy<Value = usize> {
    prop_oneof![1 => Just(1usize), 4 => Just(3), 3 => Just(5)]
}

/// The suites' cases: [`voters_mix`] cluster sizes, `events` events each.
pub fn case(events: RangeInclusive<usize>) -> impl Strategy<Value = Case> {
    case_with(voters_mix(), 1, events)
}

/// Cases with cluster sizes drawn from `voters`, never below `voters_min`
/// (a smaller size, which proptest's shrinking of a union can pick, is raised
/// to `voters_min`), and `events` events each.
pub fn case_with(
    voters: impl Strategy<Value = usize>,
    voters_min: usize,
    events: RangeInclusive<usize>,
) -> impl Strategy<Value = Case> {
    case_of(voters, voters_min, events, event())
}

/// [`case_with`], with client operations among the events ([`client_event`]).
pub fn client_case_with(
    voters: impl Strategy<Value = usize>,
    voters_min: usize,
    events: RangeInclusive<usize>,
) -> impl Strategy<Value = Case> {
    case_of(voters, voters_min, events, client_event())
}

fn case_of(
    voters: impl Strategy<Value = usize>,
    voters_min: usize,
    events: RangeInclusive<usize>,
    event: impl Strategy<Value = Event>,
) -> impl Strategy<Value = Case> {
    (
        voters,
        any::<u64>(),
        prop_oneof![2 => Just(0u8), 1 => any::<u8>()],
        prop::collection::vec(event, events),
    )
        .prop_map(move |(voters, seed, delayed, events)| Case {
            voters: voters.max(voters_min),
            voters_min,
            seed,
            delayed,
            events,
        })
}

// ---------------------------------------------------------------- failures

/// How a case failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// These Always properties do not hold (`Cluster::check()`).
    Violated(Vec<&'static str>),
    /// A node's HardState on disk went backwards.
    HardStateBackwards,
    /// The driver or a node refused a real event with an error.
    Refused,
    /// The run panicked (a bug in the engine or the harness).
    Panicked,
    /// A case that failed passed when run again.
    NotReproduced,
    /// A check of a suite's own (the liveness suite's).
    Other,
}

impl Kind {
    /// The violated properties' names; empty for every other kind.
    pub fn violated(&self) -> &[&'static str] {
        match self {
            Kind::Violated(names) => names,
            _ => &[],
        }
    }

    /// Whether `other` is the same kind of failure (the violated properties
    /// may differ).
    pub fn same_as(&self, other: &Kind) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
    }
}

/// A failed case: how, after how many events, and the report.
#[derive(Clone, Debug)]
pub struct Failure {
    /// How it failed.
    pub kind: Kind,
    /// Events applied when it failed, the failing one included.
    pub events: usize,
    /// Why, then every event so far as it resolved, oldest first, one status
    /// line per node and the messages in flight.
    pub text: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl From<Failure> for TestCaseError {
    fn from(failure: Failure) -> TestCaseError {
        TestCaseError::fail(failure.text)
    }
}

// ---------------------------------------------------------------- running

/// A cluster under test, with the events applied so far as they resolved.
pub struct Run {
    /// The nodes, network and application loop.
    pub cluster: Cluster,
    /// Every event so far, in words, as it resolved.
    pub trace: Vec<String>,
    /// The HardState each node last had on disk.
    disk: BTreeMap<NodeId, HardState>,
    /// Sometimes properties this run reached.
    pub reached: BTreeSet<&'static str>,
    /// The features whose witnesses [`Run::check`] records: [`FEATURES`],
    /// with clients, and lease reads if the nodes read by lease.
    pub features: properties::Features,
    /// A tick event ticks every running node (lease reads: they count on
    /// clocks running at one rate, [`ruft::ReadMode::Lease`]).
    shared_clock: bool,
}

impl Run {
    /// The cluster `case` describes. Every node gets the suite's settings
    /// (the case's seed, `election_tick` [`ELECTION_TICK`], `heartbeat_tick`
    /// 1) and then `configure`, which may switch anything else on.
    pub fn new(case: &Case, configure: &dyn Fn(&mut Config)) -> Run {
        let seed = case.seed;
        let mut cluster = Cluster::new(case.voters, |cfg| {
            cfg.seed = seed;
            cfg.election_tick = Tick(ELECTION_TICK);
            cfg.heartbeat_tick = Tick(1);
            configure(cfg);
        });
        cluster.keep_machines();
        cluster.keep_clients();
        let ids: Vec<NodeId> = cluster.ids().collect();
        let lease = cluster.node(ids[0]).config().read_mode == ReadMode::Lease;
        for (i, &id) in ids.iter().enumerate() {
            cluster.slot_mut(id).delay_persist = case.delayed & (1 << i) != 0;
        }
        let disk = ids.iter().map(|&id| (id, HardState::default())).collect();
        Run {
            cluster,
            trace: Vec::new(),
            disk,
            reached: BTreeSet::new(),
            features: properties::Features {
                clients: true,
                lease,
                ..FEATURES
            },
            shared_clock: lease,
        }
    }

    /// The node an event's node number means.
    pub fn id(&self, node: u8) -> NodeId {
        NodeId(u64::from(node) % self.cluster.len() as u64 + 1)
    }

    fn position(&self, i: u16) -> Option<usize> {
        let len = self.cluster.network().len();
        (len > 0).then(|| usize::from(i) % len)
    }

    /// Applies `event`, records it in the trace and checks the cluster.
    pub fn apply(&mut self, event: Event) -> Result<(), Failure> {
        let (what, result) = self.resolve(event);
        self.trace.push(what);
        if let Err(e) = result {
            let why = format!("the driver refused a real event: {e:?}");
            return Err(self.failure(Kind::Refused, &why));
        }
        self.check()
    }

    /// Carries out `event`: what it did, in words, and any unexpected error.
    pub fn resolve(&mut self, event: Event) -> (String, Result<(), DriveError>) {
        match event {
            Event::Tick { times, .. } if self.shared_clock => {
                let c = &mut self.cluster;
                let result = (0..times).try_for_each(|_| c.tick_all());
                (format!("tick every node x{times}"), result)
            }
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
                    let (msg, reported) = self.cluster.drop_message(p).expect("in range");
                    (format!("drop {msg}"), reported)
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
            Event::Propose(node, v) => self.propose(node, v),
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
            Event::Compact(node) => {
                let id = self.id(node);
                let what = if self.cluster.compact(id) {
                    let applied = self.cluster.node(id).status().applied;
                    format!("compact {id} up to {applied}")
                } else {
                    format!("compact {id} (nothing to compact)")
                };
                (what, Ok(()))
            }
            Event::Write(node) => self.client(node, ClientOp::Write),
            Event::Read(node) => self.client(node, ClientOp::Read),
        }
    }

    /// A client operation: refusals a client expects (not the leader, too
    /// many uncommitted entries or reads, a transfer under way) start
    /// nothing and are part of the run, any other error is not.
    fn client(&mut self, node: u8, op: ClientOp) -> (String, Result<(), DriveError>) {
        let id = self.id(node);
        let what = match op {
            ClientOp::Write => "write",
            ClientOp::Read => "read",
        };
        match self.cluster.client_starts(id, op) {
            Ok(Started::Yes(thread, on)) if on == id => (format!("client {thread} {what}"), Ok(())),
            Ok(Started::Yes(thread, on)) => (
                format!("client {thread} {what}, on {on} (the leader {id} named)"),
                Ok(()),
            ),
            Ok(Started::No) => (format!("client on {id}: no {what} (down)"), Ok(())),
            Ok(Started::Refused(
                e @ (Error::NotLeader { .. }
                | Error::ProposalsFull { .. }
                | Error::ReadsFull { .. }
                | Error::TransferInProgress { .. }),
            )) => (format!("client on {id}: {what} refused: {e}"), Ok(())),
            Ok(Started::Refused(e)) => {
                (format!("client on {id}: {what}"), Err(DriveError::Node(e)))
            }
            Err(e) => (format!("client on {id}: {what}"), Err(e)),
        }
    }

    /// A client proposal: refusals a client expects (not the leader, too many
    /// uncommitted entries) are part of the run, any other error is not.
    fn propose(&mut self, node: u8, v: u8) -> (String, Result<(), DriveError>) {
        let id = self.id(node);
        if !self.cluster.slot(id).up {
            return (format!("propose {v} on {id} (down)"), Ok(()));
        }
        match self.cluster.propose(id, vec![v].into()) {
            Ok(key) => (format!("propose {v} on {id}: {key}"), Ok(())),
            Err(DriveError::Node(e @ (Error::NotLeader { .. } | Error::ProposalsFull { .. }))) => {
                (format!("propose {v} on {id}: {e}"), Ok(()))
            }
            Err(e) => (format!("propose {v} on {id}"), Err(e)),
        }
    }

    /// The Always properties, the HardState on disk, and the witnesses reached.
    pub fn check(&mut self) -> Result<(), Failure> {
        let reasons = self.cluster.reasons();
        if !reasons.is_empty() {
            let lines: Vec<String> = reasons
                .iter()
                .map(|(name, why)| format!("violated: {name}: {why}"))
                .collect();
            let violated = reasons.iter().map(|(name, _)| *name).collect();
            return Err(self.failure(Kind::Violated(violated), &lines.join("\n")));
        }
        let ids: Vec<NodeId> = self.cluster.ids().collect();
        for id in ids {
            let now = self.cluster.node(id).storage().hard_state();
            let before = self.disk.insert(id, now).unwrap_or_default();
            if !before.may_become(&now) {
                let why = format!("{id}'s HardState on disk went backwards: {before} -> {now}");
                return Err(self.failure(Kind::HardStateBackwards, &why));
            }
        }
        let nodes = self.cluster.observe();
        for p in properties::enabled(self.features).filter(|p| p.expect() == Expect::Sometimes) {
            if !self.reached.contains(p.name) && p.holds(&nodes) {
                self.reached.insert(p.name);
            }
        }
        Ok(())
    }

    /// A failure of kind `kind` naming `why`, with every event so far and
    /// every node's state.
    pub fn failure(&self, kind: Kind, why: &str) -> Failure {
        let mut text = format!("{why}\nafter {} events:\n", self.trace.len());
        for (i, what) in self.trace.iter().enumerate() {
            text += &format!("  {:>3}. {what}\n", i + 1);
        }
        text += "nodes:\n";
        for id in self.cluster.ids() {
            text += &format!("  {}\n", self.cluster.status_line(id));
        }
        if let Some(h) = self.cluster.history().filter(|h| !h.events.is_empty()) {
            text += &format!("client history: {h}\n");
        }
        let network = self.cluster.network();
        text += &format!("in flight: {} messages\n", network.len());
        for msg in network.iter().take(20) {
            text += &format!("  {msg}\n");
        }
        Failure {
            kind,
            events: self.trace.len(),
            text,
        }
    }
}

/// Runs `case` on nodes set up by `configure` (see [`Run::new`]) to its end,
/// checking after every event, or to its first failure.
pub fn run_safety(case: &Case, configure: &dyn Fn(&mut Config)) -> Result<Run, Failure> {
    let mut run = Run::new(case, configure);
    for &event in &case.events {
        run.apply(event)?;
    }
    Ok(run)
}

/// Ends a suite's proptest run: panics with the failing case cut down to a
/// 1-minimal one by [`minimize`] (and as proptest shrank it), or with
/// proptest's own error; returns if every case passed. Shared by the
/// proptest suites so that every failure reads the same way.
pub fn expect_passed(
    result: Result<(), proptest::test_runner::TestError<Case>>,
    configure: &dyn Fn(&mut Config),
) {
    match result {
        Err(proptest::test_runner::TestError::Fail(_, shrunk)) => {
            let (minimal, failure) = minimize(shrunk.clone(), configure, &|_| true);
            let failure = TestCaseError::from(failure);
            panic!(
                "{failure}\nminimal failing case: {minimal:?}\n(as proptest shrank it: {shrunk:?})"
            );
        }
        Err(e) => panic!("{e}"),
        Ok(()) => {}
    }
}
