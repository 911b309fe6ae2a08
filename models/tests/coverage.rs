//! The engine coverage catalogue stays true: the default run reaches every
//! code probe that `coverage::EXPLAINED` does not list, each listed probe is
//! unreached by the default run for the reason given, and is reached by the
//! run or driver scenario its entry names. So no probe is dead code nobody
//! knows about, and no explanation goes stale.
//!
//! The model runs go through the `check` binary (`--coverage --json`), so the
//! flags in the catalogue are exactly what a user would type. The driver-only
//! probes are hit in this process by scripted calls to a `Cluster`; only that
//! test touches this process's probe table.
//!
//! Run with `cargo test --release -p ruft-models --test coverage`.

use futures::executor::block_on;
use ruft::probe::{self, Probe};
use ruft::{
    Config, DropReason, Entry, EntryKey, Error, HardState, Index, MemStorage, Message,
    MessageVariant, Node, NodeId, ProgressState, ReadMode, ReadState, Snapshot, SnapshotStatus,
    StepOutcome, Term,
};
use ruft_models::coverage::{self, Reach, EXPLAINED};
use ruft_models::driver::Cluster;
use ruft_models::driver::DriveError;
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::Command;

/// The symmetry-reduced default run: the same behaviours as `check bfs --nodes
/// 3` (symmetry keeps every transition up to a renaming of the nodes, and no
/// probe depends on a node's name) in a fifth of the states.
const DEFAULT_RUN: &str = "bfs --nodes 3 --symmetry";

/// Runs `check ARGS --coverage --json` and returns each probe's hits.
fn coverage_of(args: &str) -> BTreeMap<Probe, u64> {
    let out = Command::new(env!("CARGO_BIN_EXE_check"))
        .args(args.split_whitespace())
        .args(["--coverage", "--json"])
        .output()
        .expect("the check binary runs");
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "check {args}: no JSON ({e})\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(
        doc["complete"],
        Value::Bool(true),
        "check {args} did not finish"
    );
    doc["coverage"]
        .as_array()
        .expect("a coverage array")
        .iter()
        .map(|c| {
            let name = c["probe"].as_str().expect("a probe name");
            let probe = Probe::from_name(name).unwrap_or_else(|| panic!("unknown probe {name}"));
            (probe, c["hits"].as_u64().expect("a hit count"))
        })
        .collect()
}

#[test]
fn the_default_run_reaches_every_probe_the_catalogue_does_not_explain() {
    let hits = coverage_of(DEFAULT_RUN);
    assert_eq!(hits.len(), Probe::ALL.len(), "one entry per probe");
    let unexplained: Vec<&str> = hits
        .iter()
        .filter(|&(&p, &n)| n == 0 && coverage::explained(p).is_none())
        .map(|(p, _)| p.name())
        .collect();
    assert!(
        unexplained.is_empty(),
        "the default run leaves these probes unreached and models/src/coverage.rs \
         does not say why: {unexplained:?}"
    );
    let stale: Vec<&str> = EXPLAINED
        .iter()
        .filter(|g| hits[&g.probe] > 0)
        .map(|g| g.probe.name())
        .collect();
    assert!(
        stale.is_empty(),
        "the default run now reaches these probes: remove them from EXPLAINED: {stale:?}"
    );
}

#[test]
fn each_explained_probe_is_reached_by_the_run_its_entry_names() {
    let mut runs: BTreeMap<&str, Vec<Probe>> = BTreeMap::new();
    for gap in EXPLAINED {
        if let Reach::Check(args) = gap.reach {
            runs.entry(args).or_default().push(gap.probe);
        }
    }
    for (args, probes) in runs {
        let hits = coverage_of(args);
        for p in probes {
            assert!(hits[&p] > 0, "check {args} does not reach {p}");
        }
    }
}

/// The probes that only input the model never produces reaches: a caller or
/// peer doing what an honest cluster never does, and one history longer than
/// any bounded run.
#[test]
fn the_driver_only_probes_are_reached_by_the_driver() {
    probe::reset();
    hostile_calls();
    leadership_calls();
    held_writes_cut_inside();
    snapshot_calls();
    read_calls();
    membership_calls();
    let hits = probe::hits();
    let missed: Vec<&str> = EXPLAINED
        .iter()
        .filter(|g| matches!(g.reach, Reach::Driver(_)))
        .filter(|g| hits.iter().any(|&(p, n)| p == g.probe && n == 0))
        .map(|g| g.probe.name())
        .collect();
    assert!(missed.is_empty(), "the driver does not reach {missed:?}");
}

/// Calls the model never makes: a local event stepped into the wrong role,
/// a second leader's messages, and a term at the top of the range.
fn hostile_calls() {
    let [n1, n2, n3] = [NodeId(1), NodeId(2), NodeId(3)];
    let mut c = Cluster::new(3, |_| {});
    c.campaign(n1).expect("n1 campaigns");
    c.deliver_all(100).expect("the election completes");
    assert_eq!(c.node(n1).status().leader, Some(n1));
    let t = c.node(n1).status().term;
    // Node::campaign on a leader; Node::heartbeat on a follower.
    c.campaign(n1).expect("a dropped Hup");
    c.heartbeat(n2).expect("a dropped Beat");
    // A second leader of n1's own term (cannot happen with honest peers, §5.2).
    let append = MessageVariant::AppendEntries {
        prev: key(0, 0),
        entries: Vec::new(),
        commit: Index(0),
    };
    c.step(Message::new(n2, t, n1, append))
        .expect("a dropped append");
    let beat = MessageVariant::Heartbeat {
        commit: Index(0),
        read: None,
    };
    c.step(Message::new(n2, t, n1, beat))
        .expect("a dropped heartbeat");
    // A term beyond any real cluster's is refused; a disk at the largest
    // term, or a log at the largest index, leaves no election to start.
    let last = c.node(n3).status().last;
    let vote = MessageVariant::RequestVote {
        last,
        transfer: false,
    };
    assert!(c.step(Message::new(n2, Term(u64::MAX), n3, vote)).is_err());
    let mut disk = MemStorage::default();
    disk.set_hard_state(HardState {
        term: Term(u64::MAX),
        ..HardState::default()
    });
    let mut node = block_on(Node::new(Config::new(n3, [n1, n2, n3]), disk)).expect("a node");
    let dropped = block_on(node.campaign());
    assert_eq!(
        dropped,
        Ok(StepOutcome::Dropped(DropReason::TermsExhausted))
    );
    let mut disk = MemStorage::default();
    let top = Snapshot::new(key(1, u64::MAX), [n1, n2, n3], bytes::Bytes::new());
    disk.apply_snapshot(top)
        .expect("a snapshot at the last index");
    let mut node = block_on(Node::new(Config::new(n3, [n1, n2, n3]), disk)).expect("a node");
    let dropped = block_on(node.campaign());
    assert_eq!(
        dropped,
        Ok(StepOutcome::Dropped(DropReason::IndexesExhausted))
    );
}

/// Leadership calls the model never makes: a transfer to the leader itself,
/// the transfer under way asked for again, and an election-period end stepped
/// into a follower.
fn leadership_calls() {
    let [n1, n2] = [NodeId(1), NodeId(2)];
    let mut c = Cluster::new(3, |cfg| cfg.check_quorum = true);
    c.campaign(n1).expect("n1 campaigns");
    c.deliver_all(100).expect("the election completes");
    assert_eq!(c.node(n1).status().leader, Some(n1));
    assert_eq!(
        c.transfer_leader(n1, n1),
        Ok(StepOutcome::Dropped(DropReason::TransferToSelf))
    );
    // n2 holds n1's whole log, so TimeoutNow goes out at once; it stays in
    // flight, so the transfer is still under way when it is asked for again.
    assert_eq!(c.transfer_leader(n1, n2), Ok(StepOutcome::Handled));
    assert_eq!(
        c.transfer_leader(n1, n2),
        Ok(StepOutcome::Dropped(DropReason::AlreadyTransferring))
    );
    let outcome = c
        .step(Message::local(n2, MessageVariant::CheckQuorum))
        .expect("a dropped CheckQuorum");
    assert!(
        matches!(outcome, StepOutcome::Dropped(DropReason::NotForRole { .. })),
        "{outcome:?}"
    );
}

/// Five voters. n1 leads term 1 and sends n2 its no-op and a command in one
/// append; n2 holds the write. n3, which has only the no-op, leads term 2
/// with the votes of n4 and n5, and its no-op at index 2 conflicts with the
/// command n2 still holds: n2 cuts its unpersisted buffer inside and extends
/// it. (The messages are those the leaders would send; the elections that
/// produce them are left out.)
fn held_writes_cut_inside() {
    let [n1, n2, n3] = [NodeId(1), NodeId(2), NodeId(3)];
    let mut c = Cluster::new(5, |_| {});
    c.slot_mut(n2).delay_persist = true;
    let first = MessageVariant::AppendEntries {
        prev: key(0, 0),
        entries: vec![Entry::empty(key(1, 1)), Entry::normal(key(1, 2), "x")],
        commit: Index(0),
    };
    c.step(Message::new(n1, Term(1), n2, first))
        .expect("n2 takes term 1's entries");
    let second = MessageVariant::AppendEntries {
        prev: key(1, 1),
        entries: vec![Entry::empty(key(2, 2))],
        commit: Index(0),
    };
    c.step(Message::new(n3, Term(2), n2, second))
        .expect("n2 takes term 2's no-op");
    assert_eq!(c.node(n2).status().last, key(2, 2));
    assert_eq!(
        c.node(n2).status().persisted,
        key(0, 0),
        "the write is held"
    );
}

/// Snapshot calls the model never makes: a Delivered report while a
/// snapshot is pending, a report stepped into a follower, and a second
/// leader's InstallSnapshot.
fn snapshot_calls() {
    let [n1, n2, n3] = [NodeId(1), NodeId(2), NodeId(3)];
    let mut c = Cluster::new(3, |_| {});
    // The state machines here are not the model's, so snapshot data is opaque.
    c.set_check_properties(false);
    c.isolate(n3);
    c.campaign(n1).expect("n1 campaigns");
    c.deliver_all(100).expect("n1 is elected by n2");
    let applied = c.node(n1).status().applied;
    assert!(applied > Index(0), "n1 applied its no-op");
    let storage = c.slot_mut(n1).node.storage_mut();
    storage
        .create_snapshot(
            applied,
            &ruft::Membership::simple([n1, n2, n3]).unwrap(),
            "state",
        )
        .expect("a snapshot of what n1 applied");
    storage.compact(applied).expect("n1 compacts");
    c.recover();
    c.drop_kind("InstallSnapshot");
    c.heartbeat(n1).expect("n1 sends heartbeats");
    c.deliver_all(100)
        .expect("n3 answers, and n1 sends it its snapshot");
    assert!(
        matches!(
            c.node(n1).progress(n3).map(|p| p.state()),
            Some(ProgressState::Snapshot { .. })
        ),
        "n1 waits for n3's snapshot"
    );
    let report = |status| MessageVariant::ReportSnapshot { peer: n3, status };
    let delivered = c
        .step(Message::local(n1, report(SnapshotStatus::Delivered)))
        .expect("a Delivered report");
    assert_eq!(delivered, StepOutcome::Handled);
    let on_follower = c
        .step(Message::local(n2, report(SnapshotStatus::Failed)))
        .expect("a dropped report");
    assert!(matches!(
        on_follower,
        StepOutcome::Dropped(DropReason::NotForRole { .. })
    ));
    let t = c.node(n1).status().term;
    let forged = MessageVariant::InstallSnapshot {
        snapshot: Box::new(Snapshot::new(key(t.0, applied.0), [n1, n2, n3], "state")),
    };
    let dropped = c
        .step(Message::new(n2, t, n1, forged))
        .expect("a dropped snapshot");
    assert!(matches!(
        dropped,
        StepOutcome::Dropped(DropReason::NotForRole { .. })
    ));
}

/// Reads, until the model has clients: held back before the leader's no-op
/// commits, forwarded, refused and dropped beyond `reads_max`, confirmed by
/// a quorum, answered to the follower, dropped when the leader is deposed,
/// and served by lease.
fn read_calls() {
    let [n1, n2, n3] = [NodeId(1), NodeId(2), NodeId(3)];
    let mut c = Cluster::new(3, |cfg| cfg.reads_max = 2);
    c.drop_kind("AppendEntriesResponse");
    c.campaign(n1).expect("n1 campaigns");
    c.deliver_all(100).expect("the election completes");
    assert_eq!(c.node(n1).status().leader, Some(n1));
    assert_eq!(c.node(n1).status().committed, Index(0), "the no-op waits");
    let read = |c: &mut Cluster, id, ctx: &'static str| c.read_index(id, ctx.into());
    assert_eq!(read(&mut c, n1, "a"), Ok(StepOutcome::Handled));
    assert_eq!(read(&mut c, n2, "b"), Ok(StepOutcome::Handled));
    c.deliver_all(100)
        .expect("n2's read reaches n1, which holds it");
    assert_eq!(read(&mut c, n3, "c"), Ok(StepOutcome::Handled));
    c.deliver_all(100)
        .expect("n3's read is dropped: n1 holds two");
    assert!(matches!(
        read(&mut c, n1, "d"),
        Err(DriveError::Node(Error::ReadsFull { max: 2, .. }))
    ));
    c.recover();
    c.heartbeat(n1).expect("n1 heartbeats");
    c.deliver_all(100)
        .expect("the no-op commits, then the reads are confirmed");
    let at_1 = |ctx: &'static str| ReadState {
        index: Index(1),
        ctx: ctx.into(),
    };
    assert_eq!(c.slot(n1).read_states, [at_1("a")]);
    assert_eq!(c.slot(n2).read_states, [at_1("b")]);
    assert!(c.slot(n3).read_states.is_empty(), "n3's read was dropped");
    let t = c.node(n1).status().term;
    let forward = MessageVariant::ReadIndexForward { ctx: "x".into() };
    let dropped = c.step(Message::new(n2, t, n3, forward)).expect("a drop");
    assert!(matches!(
        dropped,
        StepOutcome::Dropped(DropReason::NotForRole { .. })
    ));
    let answer = MessageVariant::ReadIndexResponse {
        index: Index(1),
        ctx: "x".into(),
    };
    let dropped = c.step(Message::new(n2, t, n1, answer)).expect("a drop");
    assert!(matches!(
        dropped,
        StepOutcome::Dropped(DropReason::NotForRole { .. })
    ));
    // A read still unconfirmed when a newer term deposes n1.
    c.drop_kind("HeartbeatResponse");
    assert_eq!(read(&mut c, n1, "e"), Ok(StepOutcome::Handled));
    c.deliver_all(100).expect("the heartbeat answers are lost");
    let last = c.node(n2).status().last;
    let vote = MessageVariant::RequestVote {
        last,
        transfer: false,
    };
    c.step(Message::new(n2, Term(t.0 + 1), n1, vote))
        .expect("n1 steps down");
    assert_eq!(c.slot(n1).read_states, [at_1("a")], "e is dropped");
    // Lease reads: no vote in a node's first election period; then a round
    // buys a lease and reads within it are served at once; a transfer's
    // TimeoutNow gives the lease up.
    let mut l = Cluster::new(3, |cfg| {
        cfg.check_quorum = true;
        cfg.read_mode = ReadMode::Lease;
    });
    l.campaign(n1)
        .expect("n1's forced campaign is dropped: startup lease");
    l.deliver_all(100).expect("nothing was sent");
    assert_ne!(
        l.node(n1).status().role,
        ruft::Role::Leader,
        "startup lease"
    );
    for _ in 0..10 {
        l.tick_all().expect("time passes");
    }
    l.deliver_all(100).expect("whatever the ticks sent");
    let leader = l.elect(10).expect("an election").expect("a leader");
    assert_eq!(read(&mut l, leader, "f"), Ok(StepOutcome::Handled));
    l.deliver_all(100).expect("the round is answered");
    assert_eq!(read(&mut l, leader, "g"), Ok(StepOutcome::Handled));
    let served: Vec<_> = l
        .slot(leader)
        .read_states
        .iter()
        .map(|r| r.ctx.clone())
        .collect();
    assert_eq!(served, ["f", "g"]);
    let target = l.ids().find(|&id| id != leader).expect("a follower");
    l.transfer_leader(leader, target).expect("a transfer");
}

fn key(term: u64, index: u64) -> EntryKey {
    EntryKey::new(Term(term), Index(index))
}

/// Membership changes the default run never makes: adding, a change refused
/// while one is pending, a joint change left on its own, a transfer given up
/// for a removal, a removed node's requests and answers, a removed leader,
/// and a campaign while a committed change waits in a Ready.
fn membership_calls() {
    use ruft::{ConfChange, MemberChange};
    let [n1, n2, n3, n4, n5] = [1, 2, 3, 4, 5].map(NodeId);
    let settle = |c: &mut Cluster| {
        c.heartbeat(n1).expect("n1 beats");
        c.deliver_all(1000).expect("the cluster settles");
    };
    let mut c = Cluster::with_voters(5, 3, |_| {});
    c.campaign(n1).expect("n1 campaigns");
    c.deliver_all(100).expect("the election completes");
    assert_eq!(
        c.campaign(n4),
        Ok(StepOutcome::Dropped(DropReason::NotAVoter))
    );
    let add = |id| ConfChange::Simple(MemberChange::AddVoter(id));
    c.propose_conf_change(n1, add(n4)).expect("n1 adds n4");
    assert!(
        c.propose_conf_change(n1, add(n5)).is_err(),
        "one is pending"
    );
    settle(&mut c);
    let joint = ConfChange::EnterJoint {
        changes: vec![MemberChange::AddLearner(n5)],
        auto_leave: true,
    };
    c.propose_conf_change(n1, joint)
        .expect("n1 enters a joint configuration");
    settle(&mut c);
    assert!(!c.node(n1).membership().is_joint(), "left on its own");
    // A transfer to n3 under way when n3's removal applies; n3 never learns.
    c.isolate(n3);
    let remove = |id| ConfChange::Simple(MemberChange::Remove(id));
    c.propose_conf_change(n1, remove(n3))
        .expect("n1 removes n3");
    c.transfer_leader(n1, n3).expect("a transfer to n3");
    settle(&mut c);
    assert_eq!(c.node(n1).status().transfer, None);
    settle(&mut c); // n2 and n4 learn the removal committed
    c.recover();
    c.campaign(n3).expect("n3 campaigns");
    c.deliver_all(100).expect("its requests are dropped");
    let answer = MessageVariant::HeartbeatResponse { read: None };
    let term = c.node(n1).status().term;
    assert_eq!(
        c.step(Message::new(n3, term, n1, answer)),
        Ok(StepOutcome::Dropped(DropReason::SenderNotMember {
            src: n3
        }))
    );
    c.propose_conf_change(n1, remove(n1))
        .expect("n1 removes itself");
    settle(&mut c);
    assert_ne!(c.node(n1).status().role, ruft::Role::Leader);
    // n2 holds a committed change its application has not applied (its
    // Ready is held): it does not campaign.
    let mut c = Cluster::with_voters(4, 3, |_| {});
    c.campaign(n1).expect("n1 campaigns");
    c.deliver_all(100).expect("the election completes");
    c.propose_conf_change(n1, add(n4)).expect("n1 adds n4");
    c.deliver_all(100).expect("n2 and n3 acknowledge");
    c.slot_mut(n2).delay_persist = true;
    c.heartbeat(n1).expect("n1 beats");
    c.deliver_all(100).expect("n2 learns the commit index");
    assert_eq!(
        c.campaign(n2),
        Ok(StepOutcome::Dropped(DropReason::ConfChangeUnapplied))
    );
}
