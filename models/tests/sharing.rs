//! Node states are shared, never changed behind a kept hash (issue 18): a
//! node state's fingerprint is computed once (`memo.rs`), and equal node
//! states reached along different paths are one allocation (`intern.rs`).
//! Both must leave the explored states exactly those of the plain model.

use ruft_models::config::STEP_CACHE_DEFAULT;
use ruft_models::model::{Durability, ModelConfig, NodeData, RuftModel, State};
use ruft_models::search::{explore, SearchOptions};
use ruft_models::walk::visit_walks;
use stateright::Model;
use std::sync::Arc;

/// The state after the action that reads as `what`.
fn step(model: &RuftModel, state: &State, what: &str) -> State {
    ruft_models::walk::take(model, state, what).unwrap_or_else(|| panic!("no action `{what}`"))
}

/// Along many pseudo-random walks, every node state's kept fingerprint is
/// the one a fresh copy computes from scratch: nothing changed a node state
/// after its hash was taken.
#[test]
fn a_kept_fingerprint_is_never_stale() {
    let model = RuftModel::new(ModelConfig {
        in_flight_max: 4,
        ..ModelConfig::default()
    });
    let mut checked = 0;
    visit_walks(&model, 0x2545_f491_4f6c_dd1d, 200, 40, |_, next| {
        for st in &next.actor_states {
            let fresh = NodeData::clone(st);
            assert_eq!(st.fingerprint(), fresh.fingerprint());
            checked += 1;
        }
    });
    assert!(
        checked > 10_000,
        "the walks went somewhere ({checked} node states)"
    );
}

/// n2 hears n1's vote request in two global states that differ only at n3:
/// the two resulting n2s are equal, and they are one shared allocation.
#[test]
fn equal_node_states_are_shared() {
    let m = RuftModel::new(ModelConfig::default());
    let s = m.init_states().remove(0);
    let s = step(&m, &s, "n1 election timeout (Hup)");
    let direct = step(&m, &s, "n2 <- n1 RequestVote{t1, last 0@0}");
    let via_n3 = step(&m, &s, "n3 <- n1 RequestVote{t1, last 0@0}");
    let via_n3 = step(&m, &via_n3, "n2 <- n1 RequestVote{t1, last 0@0}");
    assert_ne!(direct.actor_states[2], via_n3.actor_states[2], "n3 differs");
    assert_eq!(direct.actor_states[1], via_n3.actor_states[1]);
    assert!(
        Arc::ptr_eq(&direct.actor_states[1], &via_n3.actor_states[1]),
        "equal node states are kept once"
    );
}

/// Kept steps (`step_cache.rs`) change how soon a search ends, never what it
/// explores: with them, with a table so small that it is emptied all the
/// time, and without them, each search checks exactly the same states
/// (every fingerprint) with the same verdicts; and kept steps were used.
/// About 180,000 states in all, three times each.
#[test]
fn kept_steps_explore_exactly_the_same_states() {
    let configs = [
        (
            "the default bounds without crashes",
            ModelConfig {
                crashes_max: 0,
                ..ModelConfig::default()
            },
        ),
        (
            "async durability, term 1, no crash",
            ModelConfig {
                durability: Durability::Async,
                term_max: 1,
                crashes_max: 0,
                ..ModelConfig::default()
            },
        ),
        (
            "two clients, term 1, no crash",
            ModelConfig {
                clients: 2,
                proposals_max: 0,
                term_max: 1,
                crashes_max: 0,
                ..ModelConfig::default()
            },
        ),
        (
            "pre-vote and heartbeats, term 1, no crash",
            ModelConfig {
                pre_vote: true,
                heartbeats: true,
                term_max: 1,
                crashes_max: 0,
                ..ModelConfig::default()
            },
        ),
    ];
    for (what, cfg) in configs {
        let run = |step_cache| {
            let cfg = ModelConfig {
                step_cache,
                ..cfg.clone()
            };
            let opts = SearchOptions {
                record_fingerprints: true,
                ..SearchOptions::default()
            };
            explore(RuftModel::new(cfg), &opts, |_| {})
        };
        let without = run(0);
        assert!(without.complete, "{what}: the search finishes");
        assert!(without.step_cache.is_none(), "{what}: nothing kept");
        for capacity in [STEP_CACHE_DEFAULT, 64] {
            let with = run(capacity);
            assert!(with.complete, "{what}: the search finishes");
            let n = with.fingerprints.as_ref().map_or(0, Vec::len);
            let m = without.fingerprints.as_ref().map_or(0, Vec::len);
            assert_eq!(n, m, "{what}, {capacity}: as many states");
            // (not assert_eq: the lists are long)
            let same = with.fingerprints == without.fingerprints;
            assert!(same, "{what}, {capacity}: the same {n} states");
            assert_eq!(with.verdicts, without.verdicts, "{what}, {capacity}");
            assert!(
                n > 5_000,
                "{what}: a search that goes somewhere ({n} states)"
            );
            let stats = with.step_cache.expect("steps were kept");
            // A table of 64 (one step per shard) is emptied all the time.
            let used = if capacity == 64 {
                stats.hits > 0
            } else {
                stats.hits > 10 * stats.misses
            };
            assert!(used, "{what}, {capacity}: kept steps were used ({stats:?})");
        }
    }
}
