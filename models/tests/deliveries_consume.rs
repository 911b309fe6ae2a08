//! A delivered message leaves the network whatever the node does with it
//! (issue 11, item 1): one it ignores, and one sent to a node that is down,
//! are consumed as on a real network, instead of staying in flight and
//! counting against `--max-in-flight` for the rest of the run.

use ruft_models::display;
use ruft_models::model::{ModelConfig, RuftModel, State};
use stateright::Model;

fn model() -> RuftModel {
    RuftModel::new(ModelConfig {
        in_flight_max: 6,
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

/// n1 campaigns twice; n2 hears the term-2 request first, so the term-1
/// request it then receives is stale: n2 drops it, and it is gone.
#[test]
fn a_stale_message_is_dropped_and_consumed() {
    let m = model();
    let s = m.init_states().remove(0);
    let s = step(&m, &s, "n1 election timeout (Hup)");
    let s = step(&m, &s, "n1 election timeout (Hup)");
    let s = step(&m, &s, "n2 <- n1 RequestVote{t2, last 0@0}");
    let before = s.network.len();
    let after = step(&m, &s, "n2 <- n1 RequestVote{t1, last 0@0}");
    assert_eq!(
        after.network.len(),
        before - 1,
        "the stale request is consumed"
    );
    assert_eq!(
        after.actor_states[1], s.actor_states[1],
        "and n2 is exactly as it was"
    );
    assert!(!display::cluster(&after).contains("n1->n2 RequestVote{t1"));
}

/// A message to a node that is down is lost, as on a real network.
#[test]
fn a_message_to_a_node_that_is_down_is_lost() {
    let m = model();
    let s = m.init_states().remove(0);
    let s = step(&m, &s, "n1 election timeout (Hup)");
    let s = step(&m, &s, "n2 crashes");
    let before = s.network.len();
    let after = step(&m, &s, "n2 <- n1 RequestVote{t1, last 0@0}");
    assert_eq!(after.network.len(), before - 1);
    assert!(after.crashed[1], "n2 is still down");
}
