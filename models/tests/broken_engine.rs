//! The checker never crashes on a broken engine (issue 11, item 8): every
//! path where a mutated engine could once make the model panic now sets a
//! ghost flag that the Always property `storage round trip` reports, with a
//! counterexample, like any other violation.
//!
//! Each test breaks a node's durable state by hand, the way a broken engine
//! would leave it, and drives the model through the path concerned. (The
//! third such path, `Node::ready` refusing, needs a failing storage read,
//! which `MemStorage` never has; it is flagged the same way.)

use bytes::Bytes;
use ruft::{EntryKey, HardState, Index, MemStorage, NodeId, Snapshot, Term};
use ruft_models::model::{observe, ModelConfig, RuftModel, State};
use ruft_models::properties::{property, violations};
use stateright::actor::{ActorModelAction, Id};
use stateright::Model;
use std::sync::Arc;

fn model() -> RuftModel {
    RuftModel::new(ModelConfig {
        proposals_max: 1,
        crashes_max: 1,
        ..ModelConfig::default()
    })
}

/// The state after the action that reads as `what`.
fn step(model: &RuftModel, state: &State, what: &str) -> State {
    ruft_models::walk::take(model, state, what).unwrap_or_else(|| {
        panic!(
            "no action `{what}` in\n{}",
            ruft_models::display::cluster(state)
        )
    })
}

/// n1 wins an election in t1 and its no-op is on its disk.
fn leader_n1(model: &RuftModel) -> State {
    let s = model.init_states().remove(0);
    let s = step(model, &s, "n1 election timeout");
    let s = step(model, &s, "n2 <- n1 RequestVote");
    step(model, &s, "n1 <- n2 Vote")
}

fn storage_round_trip_holds(state: &State) -> bool {
    property("storage round trip")
        .unwrap()
        .holds(&observe(state))
}

/// A broken engine persisted a snapshot that names no voters; the node
/// cannot reopen from that disk (a torn write, a commit index beyond the
/// log, is repaired on reopening instead: `tests/storage_faults.rs`). The
/// crash is reported, not a panic.
#[test]
fn a_node_that_cannot_reopen_from_its_disk_is_a_violation() {
    let model = model();
    let mut state = leader_n1(&model);
    assert!(storage_round_trip_holds(&state));
    let n1 = Arc::make_mut(&mut state.actor_states[0]);
    let mut broken = MemStorage::default();
    let voterless = Snapshot::new(EntryKey::new(Term(1), Index(1)), [], Bytes::new());
    broken.apply_snapshot(voterless).unwrap();
    broken.set_hard_state(HardState {
        term: Term(1),
        voted_node: Some(NodeId(1)),
        committed_index: Index(1),
    });
    *n1.node.storage_mut() = broken;

    let crashed = model
        .next_state(&state, ActorModelAction::Crash(Id::from(0)))
        .expect("a crash is always possible");
    assert!(!storage_round_trip_holds(&crashed));
    assert_eq!(violations(&observe(&crashed)), ["storage round trip"]);
}

/// A broken engine hands out entries that leave a gap after what is on disk
/// (here the disk lost the no-op under the leader); the write is refused and
/// reported.
#[test]
fn a_ready_the_disk_cannot_take_is_a_violation() {
    let model = model();
    let mut state = leader_n1(&model);
    let n1 = Arc::make_mut(&mut state.actor_states[0]);
    let hs = n1.node.storage().hard_state();
    let mut emptied = MemStorage::default();
    emptied.set_hard_state(hs);
    *n1.node.storage_mut() = emptied;

    let next = step(&model, &state, "n1 client proposes");
    assert!(!storage_round_trip_holds(&next));
}
