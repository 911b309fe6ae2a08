//! Snapshots and log compaction (§7), the leader's side, as black-box
//! scenarios through the public `Node` API: when a leader sends its
//! snapshot, how it waits for it (the `Snapshot` progress state), how the
//! follower's answer or the application's report ends the wait, and a slow
//! follower catching up through a snapshot in a running cluster.
//!
//! After the snapshot checks of etcd's `raft_test.go` (`TestProvideSnap`,
//! `TestIgnoreProvidingSnap`, `TestSnapshotFailure`, `TestSnapshotSucceed`,
//! `TestSnapshotAbort`, `TestSlowNodeRestore`,
//! `TestLeaderTransferAfterSnapshot`), written anew for ruft. Where ruft's
//! documented behaviour differs, the scenario says so: ruft resends a
//! snapshot whenever a probe finds the follower still below the leader's
//! first index, without etcd's "recently active" check; backtracking stops
//! at the snapshot's last entry, so a follower whose log ends in the
//! compacted prefix costs one more round trip before it gets the snapshot;
//! a report for a follower not waiting for a snapshot is a traced drop; a
//! report naming the leader itself or a non-voter is an error. The
//! follower's side is in `paper_snapshot.rs`.

mod paper_common;

use futures::executor::block_on;
use paper_common::*;
use ruft::{
    DropReason, EntryVariant, Error, Index, MemStorage, Message, Node, ProgressState, Role,
    Snapshot, SnapshotStatus, StepOutcome, Term,
};
use ruft_models::driver::Cluster;
use ruft_models::machine::Machine;
use std::collections::{BTreeSet, VecDeque};

// ---------------------------------------------------------------- helpers

/// n1 of {n1, n2, n3}, restarted over storage compacted up to the snapshot
/// `5@1` ("abcde") with no entry after it, then elected leader of term 2 by
/// n2, which acknowledged the no-op `6@2`: it is committed. n3 has not
/// answered the leader's first append; its Ready carried out.
fn compacted_leader() -> Node<MemStorage> {
    let stored = compacted_storage(snapshot("5@1", "abcde"), hard(1, None, 5), "");
    let mut n1 = block_on(Node::new(config(1, 3), stored)).unwrap();
    block_on(n1.campaign()).unwrap();
    run_ready(&mut n1);
    step(&mut n1, vote(2, 2, 1, true));
    assert_eq!(
        sends(&mut n1),
        [
            "n1->n2 Append{t2, prev 5@1, entries [6@2], commit 5}",
            "n1->n3 Append{t2, prev 5@1, entries [6@2], commit 5}"
        ]
    );
    step(&mut n1, append_ok(2, 2, 1, 6));
    run_ready(&mut n1);
    assert_eq!(n1.status().committed, Index(6));
    n1
}

/// n3's answer to the leader's first append: its log is empty, so `5@1`
/// lies beyond it.
fn n3_lacks_5() -> Message {
    append_reject(3, 2, 1, 5, "0@0")
}

/// `compacted_leader` after n3's refusal: the snapshot is on its way to n3.
fn snapshot_pending_for_n3() -> Node<MemStorage> {
    let mut n1 = compacted_leader();
    step(&mut n1, n3_lacks_5());
    run_ready(&mut n1);
    n1
}

/// The leader's view of node `id`: `(state, matched, next)`.
fn progress(leader: &Node<MemStorage>, id: u64) -> (ProgressState, Index, Index) {
    let p = leader.progress(n(id)).expect("a voter, on the leader");
    (p.state().clone(), p.matched(), p.next())
}

fn waiting_for(pending: u64) -> ProgressState {
    ProgressState::Snapshot {
        pending: Index(pending),
    }
}

fn probe(paused: bool) -> ProgressState {
    ProgressState::Probe { paused }
}

fn replicate(inflight: &[u64]) -> ProgressState {
    ProgressState::Replicate {
        inflight: inflight.iter().copied().map(Index).collect(),
    }
}

fn report(
    node: &mut Node<MemStorage>,
    peer: u64,
    status: SnapshotStatus,
) -> Result<StepOutcome, Error> {
    block_on(node.report_snapshot(n(peer), status))
}

const SNAPSHOT_5_TO_N3: &str = "n1->n3 InstallSnapshot{t2, snapshot@5@1 (5 bytes)}";

// ---------------------------------------------------------------- sending the snapshot

/// After etcd's `TestProvideSnap`, §7: a follower needs entries from an
/// index the leader has compacted away. Here n3 refuses the append after
/// `5@1`; the leader's backtracking lands below its first index (6), so it
/// sends its snapshot whole and waits for it: n3's progress is `Snapshot`
/// with the snapshot's index pending.
#[test]
fn a_leader_sends_its_snapshot_to_a_follower_that_needs_compacted_entries() {
    let mut n1 = compacted_leader();
    assert_eq!(progress(&n1, 3), (probe(true), Index(0), Index(6)));
    assert_eq!(step(&mut n1, n3_lacks_5()), StepOutcome::Handled);
    assert_eq!(sends(&mut n1), [SNAPSHOT_5_TO_N3]);
    assert_eq!(progress(&n1, 3).0, waiting_for(5));
}

/// §7, and etcd's pausing of a follower in snapshot state: while n3's
/// snapshot is pending, new entries go to n2 only.
#[test]
fn while_a_snapshot_is_pending_new_entries_are_not_sent_to_that_follower() {
    let mut n1 = snapshot_pending_for_n3();
    assert_eq!(block_on(n1.propose("x".into())), Ok(key("7@2")));
    assert_eq!(
        sends(&mut n1),
        ["n1->n2 Append{t2, prev 6@2, entries [7@2], commit 6}"]
    );
    assert_eq!(progress(&n1, 3).0, waiting_for(5));
}

/// In the spirit of etcd's `TestIgnoreProvidingSnap`: one snapshot at a
/// time. Heartbeats still go to n3 (with commit 0, all it is known to
/// match), but its answer, which would unpause a probe and make it resend,
/// sends no second snapshot while the first is pending.
#[test]
fn a_heartbeat_answer_does_not_resend_a_pending_snapshot() {
    let mut n1 = snapshot_pending_for_n3();
    block_on(n1.heartbeat()).unwrap();
    assert_eq!(
        sends(&mut n1),
        [
            "n1->n2 Heartbeat{t2, commit 6}",
            "n1->n3 Heartbeat{t2, commit 0}"
        ]
    );
    assert_eq!(step(&mut n1, heartbeat_ok(3, 2, 1)), StepOutcome::Handled);
    assert!(sends(&mut n1).is_empty(), "no second snapshot");
    assert_eq!(progress(&n1, 3).0, waiting_for(5));
}

/// A refusal about an append sent before the snapshot (a duplicate of n3's
/// first answer) says nothing new: dropped as stale, and the wait goes on.
#[test]
fn a_refusal_arriving_while_a_snapshot_is_pending_is_stale() {
    let mut n1 = snapshot_pending_for_n3();
    assert_eq!(
        step(&mut n1, n3_lacks_5()),
        StepOutcome::Dropped(DropReason::StaleResponse)
    );
    assert!(sends(&mut n1).is_empty());
    assert_eq!(progress(&n1, 3).0, waiting_for(5));
}

/// Like etcd, a follower far behind gets the snapshot at once: its refusal's
/// hint lies in the leader's compacted prefix, so the leader does not probe
/// at the snapshot's last entry first (that would cost a round trip).
#[test]
fn a_follower_whose_hint_lies_in_the_compacted_prefix_gets_the_snapshot_at_once() {
    let stored = compacted_storage(snapshot("5@1", "abcde"), hard(2, None, 7), "6@2 7@2");
    let mut n1 = block_on(Node::new(config(1, 3), stored)).unwrap();
    block_on(n1.campaign()).unwrap();
    run_ready(&mut n1);
    step(&mut n1, vote(2, 3, 1, true));
    run_ready(&mut n1);
    // n3's log ends at 3@1, below n1's snapshot (5@1): n1 no longer holds 4.
    step(&mut n1, append_reject(3, 3, 1, 7, "3@1"));
    assert_eq!(
        sends(&mut n1),
        ["n1->n3 InstallSnapshot{t3, snapshot@5@1 (5 bytes)}"]
    );
    assert_eq!(progress(&n1, 3).0, waiting_for(5));
}

// ---------------------------------------------------------------- ending the wait

/// After etcd's `TestSnapshotSucceed`: the follower's acknowledgement of
/// the snapshot's index ends the wait. The leader replicates from just past
/// the snapshot at once, sending the entry after it.
#[test]
fn the_followers_ack_of_the_snapshot_resumes_replication_after_it() {
    let mut n1 = snapshot_pending_for_n3();
    assert_eq!(step(&mut n1, append_ok(3, 2, 1, 5)), StepOutcome::Handled);
    assert_eq!(progress(&n1, 3), (replicate(&[6]), Index(5), Index(7)));
    assert_eq!(
        sends(&mut n1),
        ["n1->n3 Append{t2, prev 5@1, entries [6@2], commit 6}"]
    );
}

/// After etcd's `TestSnapshotAbort`: an acknowledgement beyond the pending
/// snapshot also ends the wait (the follower got there anyway), and as the
/// follower then holds the whole log nothing needs sending.
#[test]
fn an_ack_beyond_the_pending_snapshot_ends_the_wait() {
    let mut n1 = snapshot_pending_for_n3();
    assert_eq!(step(&mut n1, append_ok(3, 2, 1, 6)), StepOutcome::Handled);
    assert_eq!(progress(&n1, 3), (replicate(&[]), Index(6), Index(7)));
    assert!(sends(&mut n1).is_empty());
}

/// After etcd's `TestSnapshotFailure`: the transport reports that the
/// snapshot did not get through. The leader probes n3 again from just past
/// what it matched (nothing), paused until n3 is heard from; n3's next
/// heartbeat answer finds it still below the first index, and the snapshot
/// is sent again.
#[test]
fn a_failed_snapshot_is_sent_again_once_the_follower_answers_a_heartbeat() {
    let mut n1 = snapshot_pending_for_n3();
    assert_eq!(
        report(&mut n1, 3, SnapshotStatus::Failed),
        Ok(StepOutcome::Handled)
    );
    assert_eq!(progress(&n1, 3), (probe(true), Index(0), Index(1)));
    assert!(sends(&mut n1).is_empty(), "paused until n3 is heard from");
    assert_eq!(step(&mut n1, heartbeat_ok(3, 2, 1)), StepOutcome::Handled);
    assert_eq!(sends(&mut n1), [SNAPSHOT_5_TO_N3]);
    assert_eq!(progress(&n1, 3).0, waiting_for(5));
}

/// etcd's "snapshot finished" report: the transport delivered the
/// snapshot, and n3's acknowledgement may still be on its way. The leader
/// probes from just past the snapshot, paused until n3 is heard from; then
/// it sends the entry after the snapshot, and n3's ack makes it replicate.
#[test]
fn a_delivered_snapshot_is_probed_from_just_past_it() {
    let mut n1 = snapshot_pending_for_n3();
    assert_eq!(
        report(&mut n1, 3, SnapshotStatus::Delivered),
        Ok(StepOutcome::Handled)
    );
    assert_eq!(progress(&n1, 3), (probe(true), Index(0), Index(6)));
    assert!(sends(&mut n1).is_empty());
    step(&mut n1, heartbeat_ok(3, 2, 1));
    assert_eq!(
        sends(&mut n1),
        ["n1->n3 Append{t2, prev 5@1, entries [6@2], commit 6}"]
    );
    assert_eq!(progress(&n1, 3).0, probe(true));
    step(&mut n1, append_ok(3, 2, 1, 6));
    assert_eq!(progress(&n1, 3), (replicate(&[]), Index(6), Index(7)));
}

// ---------------------------------------------------------------- reports nobody waits for

/// `report_snapshot` names another voter: the leader itself or a node
/// outside the cluster is refused with `UnknownNode`, and nothing changes.
#[test]
fn a_snapshot_report_about_the_leader_itself_or_a_non_voter_is_refused() {
    let mut n1 = snapshot_pending_for_n3();
    let before = n1.clone();
    for peer in [1, 4] {
        assert_eq!(
            report(&mut n1, peer, SnapshotStatus::Failed),
            Err(Error::UnknownNode { id: n(peer) })
        );
        assert_eq!(n1, before, "n{peer}");
    }
}

/// A report for a follower that waits for no snapshot is dropped as stale:
/// n2, which replicates, and n3 once its ack ended the wait (a late failure
/// must not send a caught-up follower back to probing). A node that is not
/// leader drops any report.
#[test]
fn a_snapshot_report_nobody_waits_for_is_dropped() {
    let mut n1 = snapshot_pending_for_n3();
    let stale = Ok(StepOutcome::Dropped(DropReason::StaleResponse));
    assert_eq!(report(&mut n1, 2, SnapshotStatus::Failed), stale);
    step(&mut n1, append_ok(3, 2, 1, 5));
    run_ready(&mut n1);
    assert_eq!(report(&mut n1, 3, SnapshotStatus::Failed), stale);
    assert_eq!(progress(&n1, 3), (replicate(&[6]), Index(5), Index(7)));

    let mut n2 = fresh(2, 3);
    assert_eq!(
        report(&mut n2, 3, SnapshotStatus::Delivered),
        Ok(StepOutcome::Dropped(DropReason::NotForRole {
            role: Role::Follower
        }))
    );
}

// ---------------------------------------------------------------- leader transfer

/// After etcd's `TestLeaderTransferAfterSnapshot`, §3.10 with §7: the
/// transfer target needs the snapshot. The leader brings it up to date
/// through the snapshot, then the entry after it, and only once the target
/// matches its whole log tells it to time out.
#[test]
fn a_transfer_target_that_needs_the_snapshot_gets_it_before_timeout_now() {
    let mut n1 = compacted_leader();
    assert_eq!(block_on(n1.transfer_leader(n(3))), Ok(StepOutcome::Handled));
    assert!(
        sends(&mut n1).is_empty(),
        "n3's first append is outstanding"
    );
    step(&mut n1, n3_lacks_5());
    assert_eq!(sends(&mut n1), [SNAPSHOT_5_TO_N3]);
    step(&mut n1, append_ok(3, 2, 1, 5));
    assert_eq!(
        sends(&mut n1),
        ["n1->n3 Append{t2, prev 5@1, entries [6@2], commit 6}"]
    );
    step(&mut n1, append_ok(3, 2, 1, 6));
    assert_eq!(sends(&mut n1), ["n1->n3 TimeoutNow{t2}"]);
}

// ---------------------------------------------------------------- a slow follower in a running cluster

/// A node and its application, whose state machine is the text of the
/// commands applied, in order; its snapshot data is that text.
struct App {
    node: Node<MemStorage>,
    machine: String,
}

impl App {
    fn new(node: Node<MemStorage>) -> App {
        App {
            node,
            machine: String::new(),
        }
    }

    /// Carries out every Ready: persist; restore the state machine from a
    /// snapshot, then apply the committed entries; advance. Returns the
    /// messages to send.
    fn run(&mut self) -> Vec<Message> {
        let mut out = Vec::new();
        while self.node.has_ready() {
            let rd = block_on(self.node.ready()).unwrap();
            self.node.storage_mut().persist(&rd).unwrap();
            if let Some(snap) = &rd.snapshot {
                self.machine = String::from_utf8(snap.data.to_vec()).unwrap();
            }
            for entry in &rd.committed_entries {
                if let EntryVariant::Normal(command) = &entry.variant {
                    self.machine += std::str::from_utf8(command).unwrap();
                }
            }
            out.extend(rd.messages.iter().cloned());
            self.node.advance(rd);
        }
        out
    }

    /// Snapshots the state machine at the applied index and compacts the
    /// log up to there, as an application does now and then.
    fn compact(&mut self) -> Snapshot {
        let applied = self.node.status().applied;
        let data = self.machine.clone();
        let stored = self.node.storage_mut();
        let snap = stored
            .create_snapshot(
                applied,
                &ruft::Membership::simple((1..=3).map(n)).unwrap(),
                data,
            )
            .unwrap();
        stored.compact(applied).unwrap();
        snap
    }
}

/// {n1, n2, n3} on a network that delivers oldest first; what is sent to a
/// crashed node is lost.
struct Net {
    apps: Vec<App>,
    queue: VecDeque<Message>,
    down: BTreeSet<u64>,
}

impl Net {
    fn new() -> Net {
        Net {
            apps: (1..=3).map(|id| App::new(fresh(id, 3))).collect(),
            queue: VecDeque::new(),
            down: BTreeSet::new(),
        }
    }

    fn app(&mut self, id: u64) -> &mut App {
        &mut self.apps[id as usize - 1]
    }

    /// Runs `f` on node `id`, then its application.
    fn on<T>(&mut self, id: u64, f: impl FnOnce(&mut Node<MemStorage>) -> T) -> T {
        let app = self.app(id);
        let out = f(&mut app.node);
        let sent = app.run();
        self.queue.extend(sent);
        out
    }

    /// Delivers until the network is quiet; returns what reached a node.
    fn settle(&mut self) -> Vec<String> {
        let mut transcript = Vec::new();
        while let Some(m) = self.queue.pop_front() {
            if self.down.contains(&m.dst.0) {
                continue;
            }
            transcript.push(m.to_string());
            self.on(m.dst.0, |node| step(node, m));
        }
        transcript
    }

    /// Node `id` crashes: it loses its volatile state and state machine.
    fn crash(&mut self, id: u64) {
        self.down.insert(id);
    }

    /// Node `id` restarts from its storage; its state machine is rebuilt
    /// from what the node hands out again.
    fn restart(&mut self, id: u64) {
        self.down.remove(&id);
        let stored = self.app(id).node.storage().clone();
        let node = block_on(Node::new(config(id, 3), stored)).unwrap();
        *self.app(id) = App::new(node);
    }
}

/// After etcd's `TestSlowNodeRestore`, §7: n3 is down while n1 and n2
/// commit five commands and n1 compacts its log into a snapshot. Restarted,
/// n3 answers a heartbeat; the leader's append after its last entry is
/// refused, backtracking lands below the leader's first index, and n3 gets
/// the snapshot, then the entry after it. Its state machine is the
/// snapshot's data plus the commands applied after it, the same as
/// everyone's, and it takes part in committing the next command.
#[test]
fn a_follower_that_was_down_catches_up_through_the_snapshot_then_appends() {
    let mut net = Net::new();
    net.on(1, |n1| block_on(n1.campaign()).unwrap());
    net.settle();
    assert_eq!(net.app(1).node.status().role, Role::Leader);
    net.crash(3);
    for command in ["a", "b", "c", "d", "e"] {
        net.on(1, |n1| block_on(n1.propose(command.into())).unwrap());
        net.settle();
    }
    let snap = net.app(1).compact();
    assert_eq!((snap.key(), &snap.data[..]), (key("6@1"), &b"abcde"[..]));
    net.on(1, |n1| block_on(n1.propose("f".into())).unwrap());
    net.settle();
    net.restart(3);
    net.on(1, |n1| block_on(n1.heartbeat()).unwrap());
    assert_eq!(
        net.settle(),
        [
            "n1->n2 Heartbeat{t1, commit 7}",
            "n1->n3 Heartbeat{t1, commit 1}",
            "n2->n1 HeartbeatOk{t1}",
            "n3->n1 HeartbeatOk{t1}",
            "n1->n3 Append{t1, prev 7@1, entries [], commit 7}",
            "n3->n1 AppendReject{t1, at 7, hint 1@1}",
            "n1->n3 InstallSnapshot{t1, snapshot@6@1 (5 bytes)}",
            "n3->n1 AppendOk{t1, match 6}",
            "n1->n3 Append{t1, prev 6@1, entries [7@1], commit 7}",
            "n3->n1 AppendOk{t1, match 7}"
        ]
    );
    let n3 = net.app(3);
    assert_eq!(n3.machine, "abcdef");
    assert_eq!(n3.node.storage().stored_snapshot(), &snap);
    assert_eq!(log_of(&n3.node), "7@1");
    assert_eq!(n3.node.status().committed, Index(7));

    net.crash(2);
    net.on(1, |n1| block_on(n1.propose("g".into())).unwrap());
    net.settle();
    net.on(1, |n1| block_on(n1.heartbeat()).unwrap());
    net.settle();
    let s = net.app(3).node.status();
    assert_eq!(
        (s.term, s.committed),
        (Term(1), Index(8)),
        "n1 and n3 commit"
    );
    assert_eq!(net.app(1).machine, "abcdefg");
    assert_eq!(net.app(3).machine, "abcdefg");
}

/// The model application's state machine (whose data the shared
/// properties decode) after applying `node`'s entries up to `applied`.
fn machine_at(node: &Node<MemStorage>, applied: Index) -> Machine {
    let mut machine = Machine::default();
    for entry in block_on(node.entries(Index(1), applied.next())).unwrap() {
        machine.apply(&entry).unwrap();
    }
    machine
}

/// The same story on the shared cluster driver, judged by the shared
/// properties (log matching, state machine safety, snapshot consistency
/// and their kin): n3 is down while n1 and n2 commit, both compact their
/// logs under snapshots, and n3, restarted, catches up through n1's
/// snapshot. Every node ends with the same log image and commit index.
#[test]
fn compacting_while_a_follower_is_down_keeps_the_cluster_safe() {
    let mut cluster = Cluster::new(3, |_| {});
    elect(&mut cluster, 1);
    cluster.crash(n(3));
    for command in ["a", "b", "c"] {
        cluster.propose(n(1), command.into()).unwrap();
        settle(&mut cluster);
    }
    beat(&mut cluster, 1);
    let data = machine_at(cluster.node(n(1)), Index(4)).encode();
    for id in [1, 2] {
        let node = &mut cluster.slot_mut(n(id)).node;
        let applied = node.status().applied;
        assert_eq!(applied, Index(4), "n{id}");
        let stored = node.storage_mut();
        stored
            .create_snapshot(
                applied,
                &ruft::Membership::simple((1..=3).map(n)).unwrap(),
                data.clone(),
            )
            .unwrap();
        stored.compact(applied).unwrap();
    }
    assert_safe(&cluster);
    cluster.restart(n(3)).unwrap();
    assert_eq!(
        beat(&mut cluster, 1)[4..],
        [
            "n1->n3 Append{t1, prev 4@1, entries [], commit 4}".to_string(),
            "n3->n1 AppendReject{t1, at 4, hint 1@1}".to_string(),
            format!(
                "n1->n3 InstallSnapshot{{t1, snapshot@4@1 ({} bytes)}}",
                data.len()
            ),
            "n3->n1 AppendOk{t1, match 4}".to_string(),
        ]
    );
    assert_eq!(cluster.node(n(3)).storage().compacted(), key("4@1"));
    assert_eq!(commits(&cluster), [4, 4, 4]);
    assert_eq!(logs(&cluster), ["", "", ""], "all compacted up to 4@1");
    cluster.propose(n(1), "d".into()).unwrap();
    settle(&mut cluster);
    beat(&mut cluster, 1);
    assert_eq!(commits(&cluster), [5, 5, 5]);
    assert_eq!(logs(&cluster), ["5@1", "5@1", "5@1"]);
    assert_safe(&cluster);
}
