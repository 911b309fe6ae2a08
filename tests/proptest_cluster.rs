//! Random event sequences through a cluster of real ruft nodes (design §3
//! "proptest", issue 4): ticks, deliveries, drops, duplicates, proposals,
//! crashes, restarts, partitions, heals and delayed writes, applied to the one
//! cluster driver (`ruft_models::driver::Cluster`) with tick-driven timing.
//! The events, the cases and the runner live in `ruft_models::random`, shared
//! with the mutant gate; this file holds the two suites.
//!
//! - `safety_holds_after_every_event`: after every event, every Always property
//!   of the shared property module holds (`Cluster::check()` is empty), no real
//!   message is refused with an error, and the HardState on disk only moves
//!   forward (`HardState::may_become`). A failure is shrunk by proptest and
//!   then by `random::minimize` to a 1-minimal event list, printed as the events
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

use proptest::test_runner::{Config as ProptestConfig, FileFailurePersistence, TestRunner};
use ruft::{EntryKey, Index, NodeId, Role, Term};
use ruft_models::driver::Cluster;
use ruft_models::properties::{self, Expect};
use ruft_models::random::{
    case, expect_passed, run_safety, Failure, Kind, Run, EVENTS_MAX, FEATURES,
};
use std::collections::BTreeMap;
use std::time::Instant;

/// Ticks the fair loop may take after the heal; see
/// `a_healed_cluster_elects_one_leader_and_commits` for why this is enough.
const ROUNDS_MAX: u64 = 400;
/// Deliveries per round of the fair loop: far above what one round produces.
const DELIVERIES_MAX: usize = 100_000;

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
        max_shrink_time: SHRINK_MS_MAX,
        ..ProptestConfig::default()
    })
}

/// Milliseconds proptest may spend shrinking a failure. A liveness failure
/// runs every shrink candidate through the whole fair loop ([`ROUNDS_MAX`]
/// ticks), so without this bound a bug that stops all replication took over
/// twelve minutes to report; with it the suite fails within a minute of the
/// first failing case, with the smallest case found by then.
const SHRINK_MS_MAX: u32 = 30_000;

// ---------------------------------------------------------------- suites

#[test]
fn safety_holds_after_every_event() {
    let mut runner = runner(10_000, "proptest-regressions/proptest_cluster/safety.txt");
    let start = Instant::now();
    let stats = std::cell::RefCell::new((0usize, 0usize, BTreeMap::<&str, usize>::new()));
    let result = runner.run(&case(1..=EVENTS_MAX), |case| {
        let run = run_safety(&case, &|_| {})?;
        let mut stats = stats.borrow_mut();
        stats.0 += 1;
        stats.1 += case.events.len();
        for name in run.reached {
            *stats.2.entry(name).or_default() += 1;
        }
        Ok(())
    });
    expect_passed(result, &|_| {});
    let (cases, events, reached) = stats.into_inner();
    eprintln!(
        "safety: {cases} cases, {events} events ({:.0} per case), {:.2} s; witnesses reached (cases): {reached:?}",
        events as f64 / cases.max(1) as f64,
        start.elapsed().as_secs_f64()
    );
    // The suite compacts, but does not switch on pre-vote & co.
    for p in properties::enabled(FEATURES).filter(|p| p.expect() == Expect::Sometimes) {
        assert!(
            reached.contains_key(p.name),
            "no case reached the witness `{}`: the suite would pass vacuously",
            p.name
        );
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
/// most one election timeout, under `2 * random::ELECTION_TICK` = 10 rounds.
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
        let mut run = Run::new(&case, &|_| {});
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

/// Found by the liveness suite when compaction joined it: n1 installs n3's
/// snapshot and its acknowledgement is lost, so n3 waits for that snapshot
/// forever unless the transport reports the delivery
/// (`Node::report_snapshot(Delivered)`, which the driver's transport does,
/// as etcd's does). The case is replayed as it shrank.
#[test]
fn a_lost_snapshot_acknowledgement_does_not_stall_the_follower() {
    use ruft_models::random::{Case, Event::*};
    let events = vec![
        Tick { node: 3, times: 7 },
        Partition(0b1001001),
        Tick { node: 0, times: 1 },
        Tick { node: 0, times: 1 },
        Deliver(0),
        Tick { node: 2, times: 1 },
        Deliver(0),
        Tick { node: 0, times: 1 },
        Tick { node: 2, times: 6 },
        Deliver(0),
        Tick { node: 4, times: 6 },
        Deliver(0),
        Deliver(0),
        Deliver(0),
        Tick { node: 2, times: 4 },
        Propose(0, 0),
        Tick { node: 2, times: 1 },
        Tick { node: 2, times: 1 },
        Deliver(0),
        Deliver(0),
        Deliver(0),
        Deliver(0),
        Deliver(0),
        Deliver(0),
        Deliver(0),
        Compact(2),
        Partition(0b11100111),
        Restart(0),
        Tick { node: 1, times: 1 },
        Tick { node: 4, times: 10 },
        Deliver(40579),
        Crash(1),
        Tick { node: 2, times: 6 },
        Deliver(35038),
        Deliver(546),
        Deliver(0),
        Deliver(0),
        Deliver(0),
        Deliver(0),
        Restart(1),
        Deliver(0),
        Deliver(0),
        Deliver(32768),
        Deliver(0),
        Deliver(0),
        Deliver(0),
        Drop(0),
    ];
    let case = Case {
        voters: 3,
        voters_min: 3,
        seed: 14481391259941538606,
        delayed: 0,
        events,
    };
    let mut run = Run::new(&case, &|_| {});
    for &event in &case.events {
        run.apply(event).unwrap_or_else(|f| panic!("{f}"));
    }
    assert!(
        run.trace
            .iter()
            .any(|t| t.starts_with("drop n1->n3 AppendOk")),
        "the case still loses n1's acknowledgement of the snapshot:\n{}",
        run.trace.join("\n")
    );
    let rounds = heal_and_settle(&mut run).unwrap_or_else(|f| panic!("{f}"));
    assert!(rounds <= 5, "settled in {rounds} rounds");
}

/// Heals everything, then runs the fair loop until a fresh proposal is applied
/// on every node; returns the rounds it took.
fn heal_and_settle(run: &mut Run) -> Result<u64, Failure> {
    run.cluster.heal();
    for id in run.cluster.down() {
        let restarted = run.cluster.restart(id);
        run.trace.push(format!("liveness: restart {id}"));
        restarted.map_err(|e| run.failure(Kind::Refused, &format!("restart failed: {e:?}")))?;
    }
    let ids: Vec<NodeId> = run.cluster.ids().collect();
    for &id in &ids {
        run.cluster.slot_mut(id).delay_persist = false;
        let persisted = run.cluster.persist(id);
        persisted.map_err(|e| run.failure(Kind::Refused, &format!("persist failed: {e:?}")))?;
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
            return Err(run.failure(Kind::Refused, &format!("the fair loop was refused: {e:?}")));
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
                let key = key
                    .map_err(|e| run.failure(Kind::Refused, &format!("proposal refused: {e:?}")))?;
                run.trace.push(format!(
                    "liveness: round {round}: propose on {leader}: {key}"
                ));
                proposal = Some((leader, key, value));
            }
            (_, None) => {}
        }
    }
    Err(run.failure(
        Kind::Other,
        &format!("no proposal was applied everywhere within {ROUNDS_MAX} ticks after the heal"),
    ))
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
            && properties::image(node)
                .iter()
                .nth(position(key.index))
                .is_some_and(|e| {
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
) -> Result<(), Failure> {
    let cluster = &run.cluster;
    let Some(leader) = stable_leader(cluster) else {
        return Err(run.failure(Kind::Other, "no single leader of the highest term"));
    };
    let term: Term = cluster.node(leader).status().term;
    for id in cluster.ids() {
        let node = cluster.node(id);
        let s = node.status();
        if s.term != term || s.leader != Some(leader) {
            return Err(run.failure(
                Kind::Other,
                &format!(
                    "{id} is in {} following {:?}, not {leader} of {term}",
                    s.term, s.leader
                ),
            ));
        }
        let image = properties::image(node);
        let mut log = image.iter();
        if !committed_before.iter().all(|e| log.next() == Some(e)) {
            return Err(run.failure(
                Kind::Other,
                &format!(
                    "{id} lost an entry committed before the heal (up to {})",
                    committed_before.len()
                ),
            ));
        }
        if s.committed < key.index {
            return Err(run.failure(Kind::Other, &format!("{id} has not committed {key}")));
        }
    }
    Ok(())
}
