//! Random event sequences with clients (issue 15): the random events of
//! `ruft_models::random` (ticks, deliveries, losses, duplicates, crashes,
//! partitions, held writes, compactions) interleaved with client operations
//! (`Event::Write`, `Event::Read`) on the one cluster driver. Each node hosts
//! a client, as in `check --clients`; a client that starts an operation while
//! one is under way gives the old one up (a retry after a timeout), and a
//! write refused by a follower goes to the leader it names. After every
//! event the client history is judged by the same `linearizable` property
//! (stateright's `LinearizabilityTester` over a register) that `check` uses,
//! with every other Always property.
//!
//! - `every_history_is_linearizable_with_read_index`: reads by ReadIndex.
//! - `every_history_is_linearizable_with_lease_reads`: check-quorum and
//!   lease reads. A tick event ticks every running node at once: leases
//!   count on clocks that run at one rate, and this suite grants them that
//!   (with per-node ticks a lease is not safe, by design).
//!
//! Each suite must reach the client witnesses (a read returns another
//! client's write; a read is served after a leader change; with leases, a
//! read is served at once), so neither passes vacuously. Budgets: 5,000
//! cases of 1 to 300 events each; `RUFT_PROPTEST_SCALE=k` multiplies them.
//! Failures are persisted under `proptest-regressions/proptest_clients/`.

use proptest::test_runner::{Config as ProptestConfig, FileFailurePersistence, TestRunner};
use ruft::{Config, NodeId, ReadMode, Role};
use ruft_models::driver::{ClientOp, Cluster, Started};
use ruft_models::properties::{self, Expect, Needs};
use ruft_models::random::{
    client_case_with, expect_passed, run_safety, voters_mix, Run, EVENTS_MAX, FEATURES,
};
use std::collections::BTreeMap;
use std::time::Instant;

fn runner(default_cases: u32, regressions: &'static str) -> TestRunner {
    TestRunner::new(ProptestConfig {
        cases: ruft_models::budget::cases(default_cases),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(regressions))),
        max_shrink_iters: 20_000,
        max_shrink_time: 30_000,
        ..ProptestConfig::default()
    })
}

/// Runs the client suite on nodes set up by `configure`; returns how many
/// cases reached each witness.
fn suite(
    regressions: &'static str,
    configure: &dyn Fn(&mut Config),
) -> BTreeMap<&'static str, usize> {
    let mut runner = runner(5_000, regressions);
    let start = Instant::now();
    let stats = std::cell::RefCell::new((0usize, 0usize, BTreeMap::<&str, usize>::new()));
    let result = runner.run(&client_case_with(voters_mix(), 1, 1..=EVENTS_MAX), |case| {
        let run: Run = run_safety(&case, configure)?;
        let mut stats = stats.borrow_mut();
        stats.0 += 1;
        stats.1 += run.cluster.history().map_or(0, |h| h.events.len());
        for name in run.reached {
            *stats.2.entry(name).or_default() += 1;
        }
        Ok(())
    });
    expect_passed(result, configure);
    let (cases, events, reached) = stats.into_inner();
    eprintln!(
        "{regressions}: {cases} cases, {events} client events, {:.2} s; witnesses reached (cases): {reached:?}",
        start.elapsed().as_secs_f64()
    );
    reached
}

/// Every client witness of `features` was reached by some case.
fn assert_witnessed(reached: &BTreeMap<&str, usize>, features: properties::Features) {
    let client = |needs: Needs| matches!(needs, Needs::Clients | Needs::Lease);
    for p in
        properties::enabled(features).filter(|p| p.expect() == Expect::Sometimes && client(p.needs))
    {
        assert!(
            reached.contains_key(p.name),
            "no case reached the witness `{}`: the suite would pass vacuously",
            p.name
        );
    }
}

#[test]
fn every_history_is_linearizable_with_read_index() {
    let reached = suite(
        "proptest-regressions/proptest_clients/read_index.txt",
        &|_| {},
    );
    let features = properties::Features {
        clients: true,
        ..FEATURES
    };
    assert_witnessed(&reached, features);
}

#[test]
fn every_history_is_linearizable_with_lease_reads() {
    let lease = |cfg: &mut Config| {
        cfg.check_quorum = true;
        cfg.read_mode = ReadMode::Lease;
    };
    let reached = suite("proptest-regressions/proptest_clients/lease.txt", &lease);
    let features = properties::Features {
        clients: true,
        lease: true,
        check_quorum: true,
        ..FEATURES
    };
    assert_witnessed(&reached, features);
    assert!(
        reached.contains_key("a read is served from a lease"),
        "{reached:?}"
    );
}

/// The client on a follower writes: its node refuses with the leader's
/// name, the client sends the write there, and it returns once the
/// follower applies the entry (the leader's next heartbeat tells it the
/// entry is committed). A read on the follower then sees it.
#[test]
fn a_client_on_a_follower_writes_through_the_leader_it_names() {
    let mut c = Cluster::new(3, |_| {});
    c.keep_clients();
    let (n1, n2) = (NodeId(1), NodeId(2));
    c.campaign(n1).unwrap();
    c.deliver_all(100).unwrap();
    assert_eq!(c.node(n1).status().role, Role::Leader);
    let started = c.client_starts(n2, ClientOp::Write).unwrap();
    let Started::Yes(write, on) = started else {
        panic!("{started:?}");
    };
    assert_eq!(on, n1, "the write went to the leader n2 named");
    c.deliver_all(100).unwrap();
    c.heartbeat(n1).unwrap(); // tells n2 the entry is committed
    c.deliver_all(100).unwrap();
    let Started::Yes(read, _) = c.client_starts(n2, ClientOp::Read).unwrap() else {
        panic!("a read");
    };
    c.deliver_all(100).unwrap();
    let history = c.history().unwrap().to_string();
    assert_eq!(
        history,
        format!("{write} write 2@1; {write} write ok (t1); {read} read; {read} read 2@1 (t1)")
    );
    assert!(c.check().is_empty());
}
