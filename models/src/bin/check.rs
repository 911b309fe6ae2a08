#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use ruft_models::model::{ModelConfig, RuftModel};
use stateright::{Checker, HasDiscoveries, Model};
use std::time::Instant;
fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().unwrap())
        .collect();
    let cfg = ModelConfig {
        term_max: args[0],
        proposals_max: args[1] as usize,
        crashes_max: args[2] as usize,
        in_flight_max: args[3] as usize,
        ..ModelConfig::default()
    };
    let t = Instant::now();
    let c = RuftModel::new(cfg.clone())
        .checker()
        .threads(2)
        .finish_when(HasDiscoveries::AnyFailures)
        .spawn_bfs()
        .join();
    println!(
        "states {} unique {} depth {} time {:?}",
        c.state_count(),
        c.unique_state_count(),
        c.max_depth(),
        t.elapsed()
    );
    for (name, path) in c.discoveries() {
        println!("{name}: {} steps", path.into_actions().len());
    }
    println!(
        "cuts term {:?} prop {:?} inflight {:?}",
        cfg.cuts.term, cfg.cuts.proposals, cfg.cuts.in_flight
    );
}
